// rockit-web's pages: poll the status API once a second and draw what it says.
'use strict';

const POLL_MS = 1000;

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

function num(value, digits) {
  return (typeof value === 'number') ? value.toFixed(digits) : '-';
}

function table(rows, id) {
  return `<table${id ? ` id="${id}"` : ''}>` + rows.map(row =>
    '<tr>' + row.map(cell => `<td>${cell}</td>`).join('') + '</tr>').join('') + '</table>';
}

function keyValues(object, id) {
  if (!object || typeof object !== 'object') return '';
  return table(Object.entries(object).map(([k, v]) =>
    [esc(k), esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : v)]), id);
}

function plot(view, name, caption) {
  const version = (view.plots || {})[name];
  if (!version) return `<p class="quiet" id="plot-${name}-missing">no ${esc(caption)} yet</p>`;
  return `<figure><img id="plot-${name}" alt="${esc(caption)}" src="/api/${encodeURIComponent(view.name)}/plot/${name}.png?v=${version}">` +
    `<figcaption>${esc(caption)}</figcaption></figure>`;
}

function emissionSentence(p) {
  if (!p || typeof p.emission_rate_kg_s !== 'number') return 'No SO2 emission rate yet.';
  let text = `SO2 emission rate ${num(p.emission_rate_kg_s, 2)} ± ${num(p.emission_rate_err_kg_s, 2)} kg/s`;
  if (typeof p.plume_speed_m_s === 'number') text += ` at plume speed ${num(p.plume_speed_m_s, 1)} m/s`;
  return text + (p.last_pair_time ? ` (${p.last_pair_time})` : '') + '.';
}

const KINDS = {
  focuser: {
    summary(s) {
      const parts = [];
      for (let c = 1; `current_steps_${c}` in s; c++) parts.push(`channel ${c}: ${s[`current_steps_${c}`]}`);
      return parts.join(', ');
    },
    view(s) {
      const rows = [['channel', 'position (steps)', 'target', 'moving']];
      for (let c = 1; `current_steps_${c}` in s; c++) {
        rows.push([String(c), `<span id="position-${c}">${esc(s[`current_steps_${c}`])}</span>`,
                   esc(s[`target_steps_${c}`]), s[`moving_${c}`] ? 'MOVING' : 'no']);
      }
      return table(rows, 'channels') + `<p>Fans: <b id="fans">${s.fans_enabled ? 'ON' : 'OFF'}</b></p>` +
        '<h2>Temperatures (°C)</h2>' + keyValues(s.temperature, 'temperatures');
    },
    controls: [
      {command: 'set', label: 'Move channel', fields: [['channel', 'number', 1], ['steps', 'number', 0]]},
      {command: 'stop', label: 'Stop channel', fields: [['channel', 'number', 1]]},
      {command: 'fans', label: 'Fans on', fixed: {enabled: true}},
      {command: 'fans', label: 'Fans off', fixed: {enabled: false}},
    ],
  },
  chiller: {
    summary(s) {
      return `supply ${num(s.water_temp, 1)} °C, setpoint ${num(s.setpoint_temp, 1)} °C, ${s.mode === 1 ? 'AUTOMATIC' : 'MANUAL'}`;
    },
    view(s, view) {
      return table([
        ['mode', `<b id="mode">${s.mode === 1 ? 'AUTOMATIC' : 'MANUAL'}</b>`],
        ['supply', `<span id="water_temp">${num(s.water_temp, 2)}</span> °C`],
        ['return', `${num(s.return_temp, 2)} °C`], ['ambient', `${num(s.ambient_temp, 2)} °C`],
        ['setpoint', `${num(s.setpoint_temp, 2)} °C`], ['TEC power', `${esc(s.tec_power ?? '-')} %`],
        ['control', esc(s.control_mode ?? '-')], ['pump', s.pump_on ? 'ON' : 'OFF'],
        ['alarms', esc((s.alarms || []).join(', ') || 'none')],
        ['warnings', esc((s.warnings || []).join(', ') || 'none')],
      ], 'chiller') + '<div class="plots">' + plot(view, 'chiller', 'temperatures over the last hours') + '</div>';
    },
    controls: [
      {command: 'setpoint', label: 'Setpoint', fields: [['celsius', 'number', 15]]},
      {command: 'mode', label: 'Manual', fixed: {mode: 0}},
      {command: 'mode', label: 'Automatic', fixed: {mode: 1}},
      {command: 'enable', label: 'Enable', fixed: {enabled: true}},
      {command: 'enable', label: 'Disable', fixed: {enabled: false}},
    ],
  },
  camvirt: {
    summary(s) {
      return Object.entries(s.domains || {}).map(([name, d]) => `${name}: ${d.state}`).join(', ');
    },
    view(s) {
      const rows = [['domain', 'state', 'cameras answering']];
      for (const [name, d] of Object.entries(s.domains || {})) {
        const cameras = Object.entries(d.cameras || {}).map(([c, ok]) => `${esc(c)} ${ok ? 'answers' : 'silent'}`);
        rows.push([esc(name), `<span id="domain-${esc(name)}">${esc(d.state)}</span>`, cameras.join(', ')]);
      }
      return table(rows, 'domains') + keyValues({command: s.command, last_initialize: s.last_initialize,
                                                  last_shutdown: s.last_shutdown});
    },
    controls: [{command: 'init', label: 'Start cameras'}, {command: 'kill', label: 'Power off cameras'}],
  },
  pycam: {
    summary(s) { return emissionSentence(s.processing); },
    view(s, view) {
      let text = `<p class="sentence" id="emission">${esc(emissionSentence(s.processing))}</p>` +
        '<div class="plots">' + plot(view, 'so2', 'latest SO2 image (apparent absorbance) with the integration line') +
        plot(view, 'emission', "today's emission rate and plume speed") +
        plot(view, 'spectrum', 'latest plume spectrum') + '</div>';
      if (s.processing) text += `<p>DOAS column: ${esc(s.processing.doas_column ?? '-')} ± ${esc(s.processing.doas_error ?? '-')}</p>`;
      for (const group of ['cameras', 'spectrometer']) {
        if (s[group]) text += `<h2>${group}</h2>` + keyValues(s[group], `group-${group}`);
      }
      text += '<h2>storage</h2>' + keyValues(s.storage, 'storage') + '<h2>settings</h2>' + keyValues(s.settings, 'settings');
      if (s.processing) text += '<h2>processing</h2>' + keyValues(s.processing, 'processing');
      return text;
    },
    controls: [
      {command: 'start', label: 'Start acquisition', fixed: {device: 'all'}},
      {command: 'stop', label: 'Stop acquisition', fixed: {device: 'all'}},
      {command: 'capture', label: 'Capture', fields: [['capture_type', 'text', 'Plume']], fixed: {device: 'all'}},
      {command: 'darks', label: 'Dark sequence', fixed: {device: 'all'}},
    ],
  },
};

async function getJSON(url) {
  const response = await fetch(url, {cache: 'no-store'});
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function stamp(id, text) {
  document.getElementById(id).textContent = text;
}

function card(view) {
  const kind = KINDS[view.kind];
  const summary = (kind && view.status) ? kind.summary(view.status) : '';
  return `<div class="card" id="card-${esc(view.name)}"><h2><a href="/${encodeURIComponent(view.name)}">${esc(view.name)}</a> ` +
    `<span class="state ${esc(view.state)}">${esc(view.state)}</span></h2>` +
    (view.reason ? `<p class="reason">${esc(view.reason)}</p>` : '') +
    `<p class="summary">${esc(summary)}</p><p class="quiet">${esc(view.kind)}</p></div>`;
}

async function overview() {
  try {
    const views = await getJSON('/api/status');
    document.getElementById('cards').innerHTML = views.map(card).join('');
    stamp('updated', `updated ${new Date().toISOString()}`);
  } catch (error) {
    stamp('updated', `rockit-web does not answer: ${error.message}`);
  }
}

function buildControls(name, kind) {
  const box = document.getElementById('controls');
  if (box.dataset.kind === kind || !KINDS[kind]) return;
  box.dataset.kind = kind;
  box.innerHTML = '<h2>Commands</h2>';
  for (const control of KINDS[kind].controls) {
    const form = document.createElement('form');
    form.dataset.command = control.command;
    form.innerHTML = (control.fields || []).map(([field, type, value]) =>
      `<label>${esc(field)} <input name="${esc(field)}" type="${type}" value="${esc(value)}"></label> `).join('') +
      `<button type="submit">${esc(control.label)}</button>`;
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const body = Object.assign({}, control.fixed || {});
      for (const [field, type] of control.fields || []) {
        const value = form.elements[field].value;
        body[field] = type === 'number' ? Number(value) : value;
      }
      // A command may take minutes (a move, a dark sequence): say so until its answer.
      const button = form.querySelector('button');
      button.disabled = true;
      stamp('answer', `${control.label}: running...`);
      try {
        const response = await fetch(`/api/${encodeURIComponent(name)}/${control.command}`, {
          method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
        const answer = await response.json();
        stamp('answer', `${control.label}: ${answer.message ?? answer.error}`);
      } catch (error) {
        stamp('answer', `${control.label}: ${error.message}`);
      } finally {
        button.disabled = false;
      }
    });
    box.appendChild(form);
  }
}

async function daemonPage(name) {
  try {
    const view = await getJSON(`/api/${encodeURIComponent(name)}/status`);
    const state = document.getElementById('state');
    state.textContent = view.state;
    state.className = `state ${view.state}`;
    const kept = (!view.online && view.answered_at) ? ` (below: its last answer, ${new Date(view.answered_at * 1000).toISOString()})` : '';
    stamp('reason', (view.reason || '') + kept);
    const kind = KINDS[view.kind];
    document.getElementById('view').innerHTML = (kind && view.status) ? kind.view(view.status, view) :
      keyValues(view.status, 'status');
    buildControls(name, view.kind);
    stamp('updated', `updated ${new Date().toISOString()}`);
  } catch (error) {
    stamp('updated', `rockit-web does not answer: ${error.message}`);
  }
}

function start() {
  const body = document.body;
  const update = body.dataset.page === 'overview' ? overview : () => daemonPage(body.dataset.daemon);
  // data-updates counts finished refreshes: what tests (and anyone curious) wait on.
  const loop = async () => {
    await update();
    body.dataset.updates = String(Number(body.dataset.updates || 0) + 1);
    setTimeout(loop, POLL_MS);
  };
  loop();
}

start();
