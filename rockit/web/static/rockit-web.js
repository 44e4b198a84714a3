// rockit-web's pages: poll the status API once a second, draw what it says (kinds.js), and
// send each form's command as JSON to rockit-web's own API.
'use strict';

const POLL_MS = 1000;
const FETCH_MS = 15000;    // a status or day list not answered by then is given up: the page goes on

// A fetch that never settles (a connection lost without a reset) would stop the page's
// refreshes for good; this one fails after FETCH_MS instead.
async function getJSON(url) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), FETCH_MS);
  try {
    const response = await fetch(url, {cache: 'no-store', signal: abort.signal});
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return await response.json();
  } catch (error) {
    throw error.name === 'AbortError' ? new Error(`${url}: no answer within ${FETCH_MS / 1000} s`) : error;
  } finally {
    clearTimeout(timer);
  }
}

function stamp(id, text) {
  document.getElementById(id).textContent = text;
}

function card(view) {
  const kind = KINDS[view.kind];
  const summary = (kind && view.status) ? kind.summary(view.status) : '';
  const warnings = (kind && view.status) ? kind.warnings(view.status) : [];
  return `<div class="card" id="card-${esc(view.name)}"><h2><a href="/${encodeURIComponent(view.name)}">${esc(view.name)}</a> ` +
    `<span class="state ${esc(view.state)}">${esc(view.state)}</span></h2>` +
    (view.reason ? `<p class="reason">${esc(view.reason)}</p>` : '') +
    warnings.map(w => `<p class="warning">${esc(w)}</p>`).join('') +
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

function input([field, type, value, options]) {
  const name = esc(field);
  if (type === 'select') {
    return `<label>${name} <select name="${name}">` + options.map(option => {
      const [optionValue, label] = Array.isArray(option) ? option : [option, option];
      return `<option value="${esc(optionValue)}"${optionValue === value ? ' selected' : ''}>${esc(label)}</option>`;
    }).join('') + '</select></label> ';
  }
  if (type === 'checkbox') return `<label>${name} <input name="${name}" type="checkbox"${value ? ' checked' : ''}></label> `;
  return `<label>${name} <input name="${name}" type="${type}" value="${esc(value)}"${type === 'number' ? ' step="any"' : ''}></label> `;
}

function fieldValue(form, [field, type, value]) {
  const element = form.elements[field];
  if (type === 'checkbox') return element.checked;
  if (type === 'number' || (type === 'select' && typeof value === 'number')) return Number(element.value);
  return element.value;
}

// A setting typed as `pycam settings` takes it (on/off, low:high, a number), made the
// type its current value has.
function settingValue(text, current) {
  const trimmed = text.trim();
  if (typeof current === 'boolean') {
    const words = {on: true, true: true, yes: true, 1: true, off: false, false: false, no: false, 0: false};
    if (!(trimmed.toLowerCase() in words)) throw new Error(`${text} is not on or off`);
    return words[trimmed.toLowerCase()];
  }
  if (Array.isArray(current)) return trimmed.replace(',', ':').split(':').map(Number);
  return trimmed === '' ? NaN : Number(trimmed);
}

function settingsFields(form, settings) {
  const names = Object.keys(settings || {});
  const select = form.elements.name;
  if (select.options.length === names.length) return;
  select.innerHTML = names.map(n => `<option value="${esc(n)}">${esc(n)}</option>`).join('');
}

function commandBody(form, control, settings) {
  if (control.settings) {
    const name = form.elements.name.value;
    return {settings: {[name]: settingValue(form.elements.value.value, (settings || {})[name])}};
  }
  const body = Object.assign({}, control.fixed || {});
  for (const field of control.fields || []) body[field[0]] = fieldValue(form, field);
  return body;
}

const page = {settings: {}};

function buildControls(name, kind) {
  const box = document.getElementById('controls');
  if (box.dataset.kind === kind || !KINDS[kind]) return;
  box.dataset.kind = kind;
  box.innerHTML = '<h2>Commands</h2><p id="control-note" class="quiet"></p>';
  for (const control of KINDS[kind].controls) {
    const form = document.createElement('form');
    form.dataset.command = control.command;
    form.innerHTML = (control.settings ? '<label>setting <select name="name"></select></label> ' +
                      '<label>value <input name="value" type="text"></label> ' : (control.fields || []).map(input).join('')) +
      `<button type="submit">${esc(control.label)}</button>`;
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const button = form.querySelector('button');
      let body;
      try {
        body = commandBody(form, control, page.settings);
      } catch (error) {
        stamp('answer', `${control.label}: ${error.message}`);
        return;
      }
      // A command may take minutes (a move, a dark sequence): say so until its answer.
      button.disabled = true;
      form.dataset.running = 'yes';
      stamp('answer', `${control.label}: running...`);
      try {
        const response = await fetch(`/api/${encodeURIComponent(name)}/${control.command}`, {
          method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
        const answer = await response.json();
        stamp('answer', `${control.label}: ${answer.message ?? answer.error}`);
      } catch (error) {
        stamp('answer', `${control.label}: ${error.message}`);
      } finally {
        delete form.dataset.running;
        button.disabled = !page.control;
      }
    });
    box.appendChild(form);
  }
}

// Forms stay usable only from a control machine; elsewhere they say why they are disabled.
function allowCommands(view) {
  page.control = view.control;
  stamp('control-note', view.control ? '' : `commands are taken only from control machines, not from ${view.client}`);
  for (const element of document.querySelectorAll('#controls button, #controls input, #controls select')) {
    if (element.tagName !== 'BUTTON' || !element.closest('form').dataset.running) element.disabled = !view.control;
  }
}

// Any day's results (pycamd): pick a day and, to zoom, a time range of it; see its emission
// rates (total and per line) and DOAS columns, download its CSV files. Built once; only the
// picked day's picture and links change.
async function buildHistory(name, kind) {
  const box = document.getElementById('history');
  if (kind !== 'pycam' || box.dataset.built) return;
  const days = await getJSON(`/api/${encodeURIComponent(name)}/days`);
  box.dataset.built = 'yes';
  box.innerHTML = '<h2>History</h2><form id="history-form"><label>day <select name="day">' +
    days.map(day => `<option value="${esc(day)}">${esc(day)}</option>`).join('') + '</select></label> ' +
    '<label>from <input name="from" type="text" size="8" placeholder="HH:MM"></label> ' +
    '<label>to <input name="to" type="text" size="8" placeholder="HH:MM"></label> (UTC) ' +
    '<button type="submit">Show</button></form> <a id="csv-emission_rates" download>emission rates (CSV)</a> ' +
    '<a id="csv-doas_columns" download>DOAS columns (CSV)</a><p id="history-note" class="reason"></p>' +
    '<div><img id="day-plot" alt="the day\'s emission rates and DOAS columns"></div>';
  const form = document.getElementById('history-form');
  const image = document.getElementById('day-plot');
  // A range with nothing in it, or one mistyped: the picture's error says which.
  image.addEventListener('error', async () => {
    try {
      const answer = await (await fetch(image.src)).json();
      stamp('history-note', answer.error);
    } catch (error) {
      stamp('history-note', error.message);
    }
  });
  image.addEventListener('load', () => stamp('history-note', ''));
  const show = () => {
    const day = form.elements.day.value;
    if (!day) return;
    const base = `/api/${encodeURIComponent(name)}/day/${encodeURIComponent(day)}`;
    for (const csv of ['emission_rates', 'doas_columns']) document.getElementById(`csv-${csv}`).href = `${base}/${csv}.csv`;
    const range = new URLSearchParams();
    for (const field of ['from', 'to']) if (form.elements[field].value.trim()) range.set(field, form.elements[field].value.trim());
    range.set('at', Date.now());
    image.src = `${base}.png?${range}`;
  };
  form.elements.day.value = days[days.length - 1] || '';
  form.addEventListener('submit', event => { event.preventDefault(); show(); });
  show();
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
    const warnings = (kind && view.status) ? kind.warnings(view.status) : [];
    document.getElementById('warnings').innerHTML = warnings.map(w => `<li>${esc(w)}</li>`).join('');
    document.getElementById('view').innerHTML = (kind && view.status) ? kind.view(view.status, view) :
      table(Object.entries(view.status || {}).map(([k, v]) => [esc(k), esc(JSON.stringify(v))]), 'status');
    buildControls(name, view.kind);
    if (view.kind === 'pycam') geometryPanel(name, view);
    if (view.online) await buildHistory(name, view.kind);
    if (view.kind === 'pycam' && view.status) {
      page.settings = view.status.settings || {};
      const form = document.querySelector('form[data-command="settings"]');
      if (form) settingsFields(form, page.settings);
    }
    if (kind) allowCommands(view);
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
