// What each kind of daemon's page shows, grouped as its CLI's `status` prints it (warnings
// and OFFLINE reasons first), and a form for each of its commands.
'use strict';

function plot(view, name, caption) {
  const version = (view.plots || {})[name];
  if (!version) return `<p class="quiet" id="plot-${name}-missing">no ${esc(caption)} yet</p>`;
  return `<figure><img id="plot-${name}" alt="${esc(caption)}" src="/api/${encodeURIComponent(view.name)}/plot/${name}.png?v=${version}">` +
    `<figcaption>${esc(caption)}</figcaption></figure>`;
}

function emissionSentence(p) {
  if (!p || !isNumber(p.emission_rate_kg_s)) return 'No SO2 emission rate yet.';
  let text = `SO2 emission rate ${plusMinus(p.emission_rate_kg_s, p.emission_rate_err_kg_s, twoDigits, 'kg/s')}`;
  if (isNumber(p.plume_speed_m_s)) text += ` at plume speed ${plusMinus(p.plume_speed_m_s, p.plume_speed_err_m_s, oneDigit, 'm/s')}`;
  return text + (p.last_pair_time ? ` (pair of ${p.last_pair_time})` : '') + '.';
}

const DEVICE = ['device', 'select', 'all', ['all', 'cameras', 'spectrometer']];
const INIT_KILL = (what) => [
  {command: 'init', label: `Connect ${what}`},
  {command: 'kill', label: `Disconnect ${what}`},
];

function partState(part) {
  return part.status === 1 ? 'ONLINE' : `OFFLINE${part.offline_reason ? ` (${part.offline_reason})` : ''}`;
}

function activity(part) {
  if (part.status !== 1) return '-';
  if (part.mode === 'darks' && part.darks) return `taking darks ${part.darks.done}/${part.darks.total}`;
  if (part.mode === 'continuous') return 'continuous' + (part.next_slot ? ` (next slot ${part.next_slot})` : '');
  return 'idle';
}

function bandRow(band, state) {
  return [esc(band), state.auto_exposure ? 'auto' : 'manual', esc(microseconds(state.shutter_speed)),
          esc(microseconds(state.exposure_us)), esc(num(state.gain, 1)), esc(percent(state.saturation)),
          esc(state.last_file || '-')];
}

function calibrationText(cal) {
  if (!cal || !isNumber(cal.slope)) return (cal && cal.state || 'none') + (cal && cal.waiting ? ` (${cal.waiting})` : '');
  const unit = cal.unit === 'ppm.m' || cal.unit === 'ppmm' ? 'ppm.m' : 'molecules/cm\u00b2';
  const slope = unit === 'ppm.m' ? cal.slope.toFixed(0) : sci(cal.slope);
  return `${cal.state} (${cal.model || 'linear'}), ${slope} ${unit} per unit AA` +
    (isNumber(cal.r2) ? `, r\u00b2 ${cal.r2.toFixed(3)}` : '') + (cal.created ? `, made ${cal.created}` : '');
}

function throttleFlags(throttled) {
  return Object.entries(throttled || {}).filter(([name, on]) => name !== 'raw' && on && !name.endsWith('occurred'))
    .map(([name]) => name);
}

// The newest on- and off-band frames for aiming and focusing: saturated pixels in red,
// with how many there are and the band's saturation figure (its brightest pixels' level).
function rawFrames(s, view) {
  const frames = view.frames || {};
  const shown = ['fltrA', 'fltrB'].filter(band => frames[band] && (view.plots || {})[`frame-${band}`]);
  if (!shown.length) return '';
  return '<section class="group" id="raw-frames"><h2>Raw frames</h2><div class="plots">' + shown.map(band => {
    const state = (s.cameras || {})[band] || s[band] || {};
    const role = band === 'fltrA' ? 'on-band (310 nm)' : 'off-band (330 nm)';
    return `<figure><img id="frame-${band}" class="frame" alt="${band} newest frame" ` +
      `src="/api/${encodeURIComponent(view.name)}/plot/frame-${band}.png?v=${view.plots[`frame-${band}`]}">` +
      `<figcaption id="frame-${band}-caption">${esc(`${band}, ${role}: ${frames[band].name}; saturation ${percent(state.saturation)}, ` +
      `${(100 * frames[band].saturated).toFixed(2)} % of pixels saturated (red)`)}</figcaption></figure>`;
  }).join('') + '</div></section>';
}

// What the results rest on: the calibration curve with its cells, its model and its age;
// the last field-of-view search, the last pair's background and optical flow, with theirs.
function diagnostics(view) {
  const cal = view.calibration;
  const found = view.diagnostics || {};
  const panels = [];
  if (cal && (view.plots || {}).calibration) {
    const made = Date.parse(cal.created);
    const age = Number.isNaN(made) ? 'of unknown age' : `made ${Math.max(0, Math.round((Date.now() - made) / 60000))} min ago`;
    panels.push(plot(view, 'calibration', 'calibration curve') +
      `<p id="calibration-age">${esc(`${cal.method || 'calibration'} calibration, ${cal.model} model, ${age}` +
                                    (cal.source ? ` (${cal.source})` : ''))}</p>`);
  }
  if (view.diagnostics) panels.push(fovPanel(view, found), backgroundPanel(view, found.background), flowPanel(view, found.flow));
  if (!panels.length) return '';
  return '<section class="group" id="diagnostics"><h2>Diagnostics</h2><div class="plots">' +
    panels.map(panel => `<div class="panel">${panel}</div>`).join('') + '</div></section>';
}

function ageOf(at) {
  const taken = Date.parse(at);
  if (Number.isNaN(taken)) return 'of unknown age';
  const seconds = Math.max(0, Math.round((Date.now() - taken) / 1000));
  return seconds < 120 ? `${seconds} s ago` : seconds < 7200 ? `${Math.round(seconds / 60)} min ago` : `${(seconds / 3600).toFixed(1)} h ago`;
}

function fovPanel(view, found) {
  const search = found.fov;
  if (!search) {
    return `<p class="quiet" id="fov-age">${esc(found.fov_search ? 'no field-of-view search yet' :
      "the spectrometer's view is not searched for (configured, or no DOAS)")}</p>`;
  }
  const outcome = search.view ? `view at (${num(search.view.x, 0)}, ${num(search.view.y, 0)}) r ${num(search.view.radius, 0)} px, ` +
    `correlation ${num(search.view.correlation, 2)}` : `no view found: ${search.reason}`;
  return plot(view, 'fov', 'field-of-view correlation map') +
    `<p id="fov-age">${esc(`search of ${search.at} (${ageOf(search.at)}) over ${search.samples} pairings: ${outcome}`)}</p>`;
}

function backgroundPanel(view, background) {
  if (!background) return '<p class="quiet" id="background-age">no pair processed yet</p>';
  const sky = background.aa || {};
  const gradient = background.gradient ? `, order ${background.gradient_order} gradient ${background.gradient.map(sci).join(', ')}` : ', no gradient';
  return plot(view, 'background', 'background: sky region and gradient') +
    `<p id="background-age">${esc(`${background.kind} background, pair of ${background.at} (${ageOf(background.at)}): ` +
      `sky region [${background.sky_region.join(', ')}] AA ${num(sky.mean, 4)} \u00b1 ${num(sky.std, 4)} after an offset of ` +
      `${num(background.offset_aa, 4)}${gradient}`)}</p>`;
}

function flowPanel(view, flow) {
  if (!flow) return '<p class="quiet" id="flow-age">no optical flow yet (it needs two pairs in a row)</p>';
  const peak = isNumber(flow.peak_px) ? `, through the line ${num(flow.peak_px, 2)} \u00b1 ${num(flow.width_px, 2)} px per pair` : '';
  return plot(view, 'flow', 'optical-flow histograms') +
    `<p id="flow-age">${esc(`flow at ${flow.line}, pair of ${flow.at} (${ageOf(flow.at)}): ${flow.vectors} of ${flow.of} vectors on moving plume${peak}`)}</p>`;
}

const KINDS = {
  focuser: {
    summary(s) {
      const parts = [];
      for (let c = 1; `current_steps_${c}` in s; c++) parts.push(`channel ${c}: ${s[`current_steps_${c}`]}`);
      return parts.join(', ');
    },
    warnings(s) {
      return Object.entries(s.temperature || {}).filter(([, v]) => v === null).map(([k]) => `${k}: no reading`);
    },
    view(s) {
      const rows = [];
      for (let c = 1; `current_steps_${c}` in s; c++) {
        rows.push([String(c), `<span id="position-${c}">${esc(s[`current_steps_${c}`])}</span>`,
                   esc(s[`target_steps_${c}`]), s[`moving_${c}`] ? `moving to ${esc(s[`target_steps_${c}`])}` : 'still']);
      }
      return `<p>Fans: <b id="fans">${onOff(s.fans_enabled)}</b></p>` +
        '<section class="group"><h2>Channels</h2>' + table(rows, 'channels', ['channel', 'position (steps)', 'target', 'moving']) + '</section>' +
        group('Temperatures', 'temperatures', Object.entries(s.temperature || {}).map(([k, v]) => [k, esc(v === null ? 'no reading' : celsius(v))]));
    },
    controls: [
      {command: 'set', label: 'Move channel', fields: [['channel', 'number', 1], ['steps', 'number', 0], ['offset', 'checkbox', false]]},
      {command: 'stop', label: 'Stop channel', fields: [['channel', 'number', 1]]},
      {command: 'zero', label: 'Make this position zero', fields: [['channel', 'number', 1]]},
      {command: 'fans', label: 'Switch fans', fields: [['enabled', 'checkbox', true]]},
      ...INIT_KILL('the focus controller'),
    ],
  },
  chiller: {
    summary(s) {
      return `supply ${celsius(s.water_temp)}, setpoint ${celsius(s.setpoint_temp)}, ${s.mode === 1 ? 'AUTOMATIC' : 'MANUAL'}`;
    },
    warnings(s) {
      return [...Object.entries(s.interlock_faults || {}).map(([source, reason]) => `${source} unusable: ${reason}`),
              ...(s.alarms || []).map(a => `alarm ${a}`), ...(s.warnings || []).map(w => `warning ${w}`)];
    },
    view(s, view) {
      const heating = s.status_label === 'HEATING';
      return group('Chiller', 'chiller', [
        ['mode', `<b id="mode">${s.mode === 1 ? 'AUTOMATIC' : 'MANUAL'}</b>`],
        ['water (supply)', `<span id="water_temp">${num(s.water_temp, 1)}</span> \u00b0C`],
        ['setpoint', esc(celsius(s.setpoint_temp))], ['return', esc(celsius(s.return_temp))],
        ['ambient', esc(celsius(s.ambient_temp))],
        ['TEC power', esc(`${s.tec_power ?? '-'} %${heating ? ' heating' : ''}`)],
        ['control', esc(s.control_mode ?? '-')], ['pump', onOff(s.pump_on)],
        'dome_temp' in s && ['dome', esc(`${celsius(s.dome_temp)}; antifreeze ${s.antifreeze_enabled ? 'ON' : 'off'}`)],
        'channels_enabled' in s && ['camera power', s.channels_enabled === null ? 'unknown' : onOff(s.channels_enabled)],
        ['alarms', esc((s.alarms || []).join(', ') || 'none')],
        ['warnings', esc((s.warnings || []).join(', ') || 'none')],
        ['updated', esc(s.date)],
      ]) + '<div class="plots">' + plot(view, 'chiller', 'temperatures over the last hours') + '</div>';
    },
    controls: [
      {command: 'setpoint', label: 'Set setpoint (\u00b0C)', fields: [['celsius', 'number', 15]]},
      {command: 'mode', label: 'Set mode', fields: [['mode', 'select', 0, [[0, 'manual'], [1, 'automatic']]]]},
      {command: 'enable', label: 'Run (manual mode)', fields: [['enabled', 'checkbox', true]]},
      ...INIT_KILL('the chiller'),
    ],
  },
  camvirt: {
    summary(s) {
      return Object.entries(s.domains || {}).map(([name, d]) => `${name}: ${d.state}`).join(', ');
    },
    warnings(s) {
      const found = Object.entries(s.domains || {}).filter(([, d]) => ['MISSING', 'CRASHED', 'UNKNOWN'].includes(d.state))
        .map(([name, d]) => `${name} is ${d.state}`);
      return s.command ? [`${s.command} is running`, ...found] : found;
    },
    view(s) {
      const rows = [];
      for (const [name, d] of Object.entries(s.domains || {})) {
        const cameras = d.state === 'MISSING' ? 'not defined in libvirt' :
          Object.entries(d.cameras || {}).map(([c, ok]) => `${esc(c)} ${ok ? 'answers' : 'silent'}`).join(', ');
        rows.push([esc(name), `<span id="domain-${esc(name)}">${esc(d.state)}</span>`, cameras]);
      }
      const outcomes = o => esc(Object.entries(o || {}).map(([name, outcome]) => `${name} ${outcome}`).join(', ') || '-');
      return `<p>libvirt ${esc(s.libvirt_uri || '')}</p>` +
        '<section class="group"><h2>Domains</h2>' + table(rows, 'domains', ['domain', 'state', 'cameras']) + '</section>' +
        group('Commands', 'camvirt-commands', [['running', esc(s.command || 'none')],
                                               ['last initialize', outcomes(s.last_initialize)],
                                               ['last shutdown', outcomes(s.last_shutdown)]]);
    },
    controls: [{command: 'init', label: 'Start cameras'}, {command: 'kill', label: 'Power off cameras'}],
  },
  pycam: {
    summary(s) { return emissionSentence(s.processing); },
    warnings(s) {
      const found = [];
      for (const name of ['cameras', 'fltrA', 'fltrB', 'spectrometer']) {
        const part = s[name];
        if (part && typeof part.status === 'number' && part.status !== 1) found.push(`${name} OFFLINE${part.offline_reason ? `: ${part.offline_reason}` : ''}`);
      }
      if (s.storage && s.storage.error) found.push(`Acquisition stopped: ${s.storage.error}`);
      const p = s.processing || {};
      if (p.error) found.push(`processing: ${p.error}`);
      if (p.last_error) found.push(`processing's last error: ${p.last_error}`);
      const flags = throttleFlags((s.health || {}).throttled);
      if (flags.length) found.push(`the Pi is ${flags.join(', ')}`);
      if (s.transfer && s.transfer.last_error) found.push(`transfer: ${s.transfer.last_error}`);
      const watchdog = s.watchdog || {};
      if (watchdog.state && !['watching', 'off'].includes(watchdog.state)) found.push(`watchdog: ${watchdog.state}`);
      const kept = s.kept_settings || {};
      if (kept.error) found.push(`settings not kept for a restart: ${kept.error}`);
      const ignored = Object.entries(kept.ignored || {});
      if (ignored.length) found.push(`kept settings left out: ${ignored.map(([k, v]) => `${k} (${v})`).join('; ')}`);
      return found;
    },
    view(s, view) {
      const p = s.processing;
      let text = `<p class="sentence" id="emission">${esc(emissionSentence(p))}</p>` +
        '<div class="plots">' + plot(view, 'so2', 'latest SO2 image (apparent absorbance) with the integration line, sky region and spectrometer view') +
        plot(view, 'emission', "today's emission rate and plume speed") +
        plot(view, 'spectrum', 'latest plume spectrum') + '</div>';
      if (p) text += group('Processing', 'processing', [
        ['pairs', esc(`${p.pairs_processed ?? 0} processed, ${p.pairs_skipped ?? 0} skipped, ${p.pairs_failed ?? 0} failed; ${milliseconds(p.processing_ms)} per pair`)],
        ['background', esc(p.background || 'none')], ['darks', esc(p.darks ?? 0)],
        ['calibration', `<span id="calibration">${esc(calibrationText(p.calibration))}</span>`],
        isNumber(p.doas_column) && ['DOAS column', `<span id="doas">${esc(plusMinus(p.doas_column, p.doas_error, v => sci(v), 'molecules/cm\u00b2'))}</span>` +
          esc(` (${p.doas_points ?? 0} points; ` + (p.doas_fov ? `view (${num(p.doas_fov.x, 0)}, ${num(p.doas_fov.y, 0)}) r ${num(p.doas_fov.radius, 0)} px, ${p.doas_fov.source})` : 'view not found yet)'))],
        p.geometry && ['geometry', esc(p.geometry)],
      ]);
      const cams = s.cameras;
      text += rawFrames(s, view) + diagnostics(view);
      if (cams) {
        const bands = ['fltrA', 'fltrB'].filter(b => cams[b]).map(b => bandRow(b, cams[b]));
        text += `<section class="group" id="group-cameras"><h2>Cameras</h2><p>${esc(partState(cams))}, ${esc(activity(cams))}: ` +
          `${esc(count(cams.captures_saved, 'pair', 'pairs'))} saved, ${esc(count(cams.slots_missed, 'slot', 'slots'))} missed</p>` +
          table(bands, 'bands', ['band', 'exposure', 'shutter', 'measured', 'gain', 'saturation', 'last file']) + '</section>';
      }
      for (const band of ['fltrA', 'fltrB']) {
        const part = s[band];       // a camera on the second Pi of a two-Pi instrument
        if (!part || !part.link) continue;
        text += group(`${band} camera on ${part.camera_on}`, `group-${band}`, [
          ['state', esc(`${partState(part)}, ${activity(part)}`)], ['band', table([bandRow(band, part)])],
          ['link', esc(`last contact ${part.link.last_contact || 'never'}, backlog ${part.link.backlog}, ` +
                       `clock offset ${isNumber(part.link.clock_offset_s) ? part.link.clock_offset_s.toFixed(3) + ' s' : 'unknown'}`)],
          ['pairs', esc(`${part.pairs.matched} joined, ${part.pairs.out_of_tolerance} beyond ${part.pairs.tolerance_ms} ms`)]]);
      }
      const spec = s.spectrometer;
      if (spec) text += group('Spectrometer', 'group-spectrometer', [
        ['state', esc(`${partState(spec)}, ${activity(spec)}: ${count(spec.captures_saved, 'spectrum', 'spectra')} saved, ${count(spec.slots_missed, 'slot', 'slots')} missed`)],
        ['model', esc(`${spec.model || 'spectrometer'} ${spec.serial_number || ''}`)],
        ['integration', esc(`${spec.auto_integration ? 'auto' : 'manual'} ${milliseconds(spec.integration_time)} \u00d7 ${count(spec.coadds, 'co-add', 'co-adds')}`)],
        ['saturation', esc(percent(spec.saturation))], ['last file', esc(spec.last_file || '-')]]);
      const st = s.storage || {};
      const health = s.health;
      const schedule = s.schedule;
      text += group('Station', 'storage', [
        ['storage', esc(`${st.root}, ${isNumber(st.free_mb) ? megabytes(st.free_mb) + ' free' : 'free space unknown'} (floor ${megabytes(st.floor_mb)}), ${st.files_written ?? 0} files written`)],
        isNumber(st.products_mb) && ['processing products', esc(`${megabytes(st.products_used_mb)} of ${megabytes(st.products_mb)}`)],
        st.delete_oldest && ['housekeeping', esc(`deletes the oldest under ${megabytes(st.keep_free_mb)} free: ${st.deleted_captures} deleted, last ${st.last_cleanup || 'none'}`)],
        schedule && ['schedule', esc(`${schedule.state}, next start ${schedule.next_start || 'none'}, next stop ${schedule.next_stop || 'none'}`)],
        health && ['health', esc(`CPU ${isNumber(health.cpu_temperature_c) ? celsius(health.cpu_temperature_c) : 'no sensor'}, disk ${megabytes(health.disk_free_mb)} free, load ${(health.load || []).map(v => v.toFixed(2)).join('/')}` +
                                 (isNumber(health.uptime_s) ? `, up ${(health.uptime_s / 86400).toFixed(1)} days` : ''))],
        ['transfer', esc(s.transfer ? `to ${s.transfer.destination}: last success ${s.transfer.last_success || 'none yet'}, ${s.transfer.pending_files ?? '?'} files pending` : 'off')],
        ['frame rate', esc(`${(s.settings || {}).frame_rate ?? '-'} Hz`)],
        s.watchdog && ['watchdog', esc(s.watchdog.state === 'off' ? 'off' :
          `${s.watchdog.state}, restarts a device silent for ${s.watchdog.limit_s} s: ${s.watchdog.restarts} so far` +
          (s.watchdog.last_restart ? `, last ${s.watchdog.last_restart}` : ''))],
        Object.keys((s.kept_settings || {}).restored || {}).length &&
          ['kept from before the restart', esc(Object.entries(s.kept_settings.restored).map(([k, v]) => `${k} ${settingText(v)}`).join(', '))],
        ['updated', esc(s.date)],
      ]);
      text += group('Settings', 'settings', Object.entries(s.settings || {}).map(([k, v]) => [k, esc(settingText(v))]));
      return text;
    },
    controls: [
      {command: 'start', label: 'Start acquisition', fields: [DEVICE]},
      {command: 'stop', label: 'Stop acquisition', fields: [DEVICE]},
      {command: 'capture', label: 'Capture', fields: [['capture_type', 'text', 'Plume'], DEVICE]},
      {command: 'darks', label: 'Dark sequence', fields: [DEVICE]},
      {command: 'cell', label: 'Cell capture (ppm.m, lens)', fields: [['ppmm', 'number', 304], ['band', 'select', 'both', ['both', 'on', 'off']]]},
      {command: 'restart', label: 'Restart device', fields: [['device', 'select', 'cameras', ['cameras', 'spectrometer']]]},
      {command: 'search-fov', label: "Search for the spectrometer's view again"},
      {command: 'settings', label: 'Change setting', settings: true},
      ...INIT_KILL('the devices'),
    ],
  },
};
