// pycamd's image geometry drawn on its newest on-band frame (the stored image, whose pixels
// are the ones processing's lines and regions are given in): the integration lines with an
// arrow to the side the plume flows to, the sky region and the spectrometer's view. On a
// control machine an operator draws or moves them with the mouse, sees the preview, and
// saves it through rockit-web's command path (pycamd's set_image_geometry); elsewhere the
// same drawing is shown read-only, with the reason.
'use strict';

const ARROW_PX = 30;          // the flow arrow's length, image pixels
const HANDLE_PX = 7;          // the radius of a grab handle, image pixels
const TOOLS = [['line', 'integration line'], ['sky', 'sky region'], ['view', 'spectrometer view']];
const PART_KEY = {line: 'integration_line', sky: 'sky_region', view: 'doas_fov'};
const SETTLE_UPDATES = 20;    // refreshes a saved drawing waits for pycamd's status to show it

const drawing = {
  built: false, name: null, control: false, size: [648, 486], frameVersion: null,
  daemon: null,               // [image_geometry, searched view] of the last status
  shapes: null,               // {lines, sky, view, searched}: what is shown (the preview)
  changed: new Set(),         // keys of set_image_geometry the operator changed since the last save
  sent: null, waited: 0,      // a saved drawing, until status shows it
  tool: 'line', selected: 0, drag: null,
};

function copyShapes(geometry, searched) {
  return {lines: (geometry.integration_line || []).map(line => ({x: [...line.x], y: [...line.y],
            orientation: line.orientation, name: line.name})),
          sky: geometry.sky_region ? [...geometry.sky_region] : null, view: geometry.doas_fov ? [...geometry.doas_fov] : null,
          searched: searched || null};
}

// The side the plume flows to as a unit vector, as processing has it (emission.py's
// IntegrationLine.normal): 'left' is the side of negative x (of positive y for a level line).
function flowNormal(line) {
  const dx = line.x[1] - line.x[0], dy = line.y[1] - line.y[0];
  const length = Math.hypot(dx, dy) || 1;
  let a = [-dy / length, dx / length];
  if (a[0] > 0 || (a[0] === 0 && a[1] < 0)) a = [-a[0], -a[1]];
  return line.orientation === 'left' ? a : [-a[0], -a[1]];
}

// A pointer's place on the page as a pixel of the image: the picture is scaled to fit the
// page, so the offset in screen pixels is divided by the scale, then kept inside the image
// (a pixel's centre for lines and the view, up to the far edge for the sky region's corner).
function imagePoint(event, edge = 0) {
  const box = document.getElementById('drawing-svg').getBoundingClientRect();
  const [width, height] = drawing.size;
  const clamp = (value, top) => Math.min(Math.max(Math.round(value), 0), top);
  return [clamp((event.clientX - box.left) * width / box.width, width - 1 + edge),
          clamp((event.clientY - box.top) * height / box.height, height - 1 + edge)];
}

function shapesMarkup() {
  const s = drawing.shapes;
  const out = [];
  if (s.sky) {
    const [x0, y0, x1, y1] = s.sky;
    out.push(`<rect class="sky" data-part="sky" x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}"></rect>`,
             `<circle class="handle sky-handle" data-part="sky-corner" data-corner="0" cx="${x0}" cy="${y0}" r="${HANDLE_PX}"></circle>`,
             `<circle class="handle sky-handle" data-part="sky-corner" data-corner="1" cx="${x1}" cy="${y1}" r="${HANDLE_PX}"></circle>`);
  }
  const view = s.view || (s.searched && [s.searched.x, s.searched.y, s.searched.radius]);
  if (view) {
    const [x, y, r] = view;
    out.push(`<circle class="view${s.view ? '' : ' searched'}" data-part="view" cx="${x}" cy="${y}" r="${Math.max(r, 2)}"></circle>`,
             `<circle class="handle view-handle" data-part="view-edge" cx="${x + r}" cy="${y}" r="${HANDLE_PX}"></circle>`);
  }
  s.lines.forEach((line, i) => {
    const [x0, x1] = line.x, [y0, y1] = line.y;
    const [nx, ny] = flowNormal(line);
    const mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
    const selected = drawing.control && i === drawing.selected ? ' selected' : '';
    out.push(`<line class="line-hit" data-part="line" data-index="${i}" x1="${x0}" y1="${y0}" x2="${x1}" y2="${y1}"></line>`,
             `<line class="line${selected}" data-part="line" data-index="${i}" x1="${x0}" y1="${y0}" x2="${x1}" y2="${y1}"></line>`,
             `<line class="flow" x1="${mx}" y1="${my}" x2="${mx + nx * ARROW_PX}" y2="${my + ny * ARROW_PX}" marker-end="url(#flow-arrow)"></line>`,
             `<text class="line-name" x="${x0 + 6}" y="${y0 - 6}">${esc(line.name)}</text>`,
             ...[0, 1].map(end => `<circle class="handle line-handle" data-part="line-end" data-index="${i}" data-end="${end}" ` +
                                  `cx="${line.x[end]}" cy="${line.y[end]}" r="${HANDLE_PX}"></circle>`));
  });
  return out.join('');
}

// The preview in words and numbers (image pixels), so what will be saved can be read too.
function valuesText() {
  const s = drawing.shapes;
  const lines = s.lines.map(l => `line ${l.name} (${l.x[0]}, ${l.y[0]}) to (${l.x[1]}, ${l.y[1]}), plume flowing to its ${l.orientation}`);
  const view = s.view ? `view (${s.view[0]}, ${s.view[1]}) radius ${s.view[2]}` :
    (s.searched ? `view searched for, found at (${num(s.searched.x, 0)}, ${num(s.searched.y, 0)}) radius ${num(s.searched.radius, 0)}` :
                  'view searched for, not found yet');
  return [...lines, `sky region ${s.sky ? s.sky.join(', ') : 'none'}`, view].join('; ') +
    (drawing.changed.size ? ` (not saved: ${[...drawing.changed].sort().join(', ')})` : '');
}

function render() {
  document.getElementById('drawing-shapes').innerHTML = shapesMarkup();
  document.getElementById('drawing-svg').dataset.tool = drawing.tool;
  stamp('drawing-values', valuesText());
  const line = drawing.shapes.lines[drawing.selected];
  for (const id of ['drawing-flip', 'drawing-remove']) document.getElementById(id).disabled = !drawing.control || !line;
  document.getElementById('drawing-search').disabled = !drawing.control || !drawing.shapes.view;
  document.getElementById('drawing-undo').disabled = !drawing.control || !drawing.changed.size;
}

function freeName() {
  const taken = new Set(drawing.shapes.lines.map(line => line.name));
  let n = drawing.shapes.lines.length + 1;
  while (taken.has(`line${n}`)) n++;
  return `line${n}`;
}

// What a press starts: a handle or a shape of the tool in hand is moved, anywhere else a new
// one is drawn (a line added, the sky region or the view drawn afresh).
function startDrag(event) {
  if (!drawing.control || event.button !== 0) return;
  const p = imagePoint(event);
  const s = drawing.shapes;
  const target = event.target.closest('[data-part]');
  const part = target && target.dataset.part.split('-')[0] === drawing.tool ? target.dataset : null;
  const index = part ? Number(part.index) : null;
  let drag;
  if (part && part.part === 'line-end') drag = {kind: 'line-end', index, end: Number(part.end)};
  else if (part && part.part === 'line') drag = {kind: 'line-move', index, from: p, start: JSON.parse(JSON.stringify(s.lines[index]))};
  else if (part && part.part === 'sky-corner') drag = {kind: 'sky-corner', anchor: Number(part.corner) ? s.sky.slice(0, 2) : s.sky.slice(2)};
  else if (part && part.part === 'sky') drag = {kind: 'sky-move', from: p, start: [...s.sky]};
  else if (part && part.part === 'view-edge') drag = {kind: 'view-edge'};
  else if (part && part.part === 'view') drag = {kind: 'view-move', from: p, start: s.view ? [...s.view] : [s.searched.x, s.searched.y, s.searched.radius].map(Math.round)};
  else if (drawing.tool === 'line') {
    if (s.lines.length >= 8) return;
    s.lines.push({x: [p[0], p[0]], y: [p[1], p[1]], orientation: 'left', name: freeName()});
    drag = {kind: 'line-end', index: s.lines.length - 1, end: 1, fresh: true};
  } else if (drawing.tool === 'sky') drag = {kind: 'sky-corner', anchor: p, fresh: s.sky};
  else drag = {kind: 'view-edge', fresh: true, centre: p, radius: (s.view || [0, 0, 10])[2]};
  if (drag.kind.startsWith('line')) drawing.selected = drag.index;
  if (drag.kind === 'view-edge' && drag.fresh) s.view = [p[0], p[1], drag.radius];
  else if (drag.kind === 'view-edge' && !s.view) s.view = [Math.round(s.searched.x), Math.round(s.searched.y), Math.round(s.searched.radius)];
  drawing.drag = drag;
  document.getElementById('drawing-svg').setPointerCapture(event.pointerId);
  event.preventDefault();
  moveDrag(event);
}

function moveDrag(event) {
  const drag = drawing.drag;
  if (!drag) return;
  const [px, py] = imagePoint(event);
  const s = drawing.shapes;
  const [width, height] = drawing.size;
  const shift = (values, delta, top) => {     // a shape moved whole, kept inside the image
    const d = Math.min(Math.max(delta, -Math.min(...values)), top - Math.max(...values));
    return values.map(v => v + d);
  };
  if (drag.kind === 'line-end') {
    s.lines[drag.index].x[drag.end] = px;
    s.lines[drag.index].y[drag.end] = py;
  } else if (drag.kind === 'line-move') {
    const line = s.lines[drag.index];
    line.x = shift(drag.start.x, px - drag.from[0], width - 1);
    line.y = shift(drag.start.y, py - drag.from[1], height - 1);
  } else if (drag.kind === 'sky-corner') {
    const [ax, ay] = drag.anchor;
    const [x, y] = imagePoint(event, 1);
    s.sky = [Math.min(ax, x), Math.min(ay, y), Math.max(ax, x), Math.max(ay, y)];
  } else if (drag.kind === 'sky-move') {
    const [x0, x1] = shift([drag.start[0], drag.start[2]], px - drag.from[0], width);
    const [y0, y1] = shift([drag.start[1], drag.start[3]], py - drag.from[1], height);
    s.sky = [x0, y0, x1, y1];
  } else if (drag.kind === 'view-edge') {
    const radius = Math.round(Math.hypot(px - s.view[0], py - s.view[1]));
    if (radius >= 1 || !drag.fresh) s.view[2] = Math.min(Math.max(radius, 1), Math.floor(height / 2));
  } else if (drag.kind === 'view-move') {
    s.view = [...shift([drag.start[0]], px - drag.from[0], width - 1), ...shift([drag.start[1]], py - drag.from[1], height - 1), drag.start[2]];
  }
  render();
}

function endDrag(event) {
  const drag = drawing.drag;
  if (!drag) return;
  moveDrag(event);
  drawing.drag = null;
  const s = drawing.shapes;
  const key = PART_KEY[drag.kind.split('-')[0]];
  if (drag.fresh && drag.kind === 'line-end') {
    const line = s.lines[drag.index];
    if (Math.hypot(line.x[1] - line.x[0], line.y[1] - line.y[0]) < 2) {    // a click: nothing drawn
      s.lines.pop();
      drawing.selected = Math.min(drawing.selected, s.lines.length - 1);
      render();
      return;
    }
  }
  if (drag.kind === 'sky-corner' && 'fresh' in drag && (s.sky[2] - s.sky[0] < 2 || s.sky[3] - s.sky[1] < 2)) {
    s.sky = drag.fresh;                         // a click: the sky region as it was
    render();
    return;
  }
  drawing.changed.add(key);
  render();
}

function changeLine(change) {
  const s = drawing.shapes;
  if (!s.lines[drawing.selected]) return;
  change(s);
  drawing.changed.add('integration_line');
  render();
}

async function saveDrawing(event) {
  event.preventDefault();
  const s = drawing.shapes;
  const values = {integration_line: s.lines, sky_region: s.sky, doas_fov: s.view};
  const geometry = Object.fromEntries([...drawing.changed].map(key => [key, values[key]]));
  if (!Object.keys(geometry).length) {
    stamp('drawing-answer', 'Save drawing: nothing changed');
    return;
  }
  const button = document.getElementById('drawing-save');
  button.disabled = true;
  stamp('drawing-answer', 'Save drawing: running...');
  try {
    const response = await fetch(`/api/${encodeURIComponent(drawing.name)}/geometry`, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({geometry})});
    const answer = await response.json();
    stamp('drawing-answer', `Save drawing: ${answer.message ?? answer.error}`);
    if (response.ok) {
      drawing.changed.clear();
      drawing.sent = JSON.parse(JSON.stringify(geometry));
      drawing.waited = 0;
    }
  } catch (error) {
    stamp('drawing-answer', `Save drawing: ${error.message}`);
  } finally {
    button.disabled = !drawing.control;
    render();
  }
}

function buildDrawing(box) {
  box.innerHTML = '<section class="group drawing" id="geometry"><h2>Integration lines, sky region and spectrometer view</h2>' +
    '<p id="drawing-note" class="quiet"></p>' +
    '<div class="drawing-stage" id="drawing-stage"><img id="drawing-frame" alt="the newest on-band frame">' +
    `<svg id="drawing-svg" viewBox="0 0 ${drawing.size[0]} ${drawing.size[1]}" preserveAspectRatio="none">` +
    '<defs><marker id="flow-arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="5" markerHeight="5" orient="auto">' +
    '<path d="M 0 0 L 10 5 L 0 10 z"></path></marker></defs><g id="drawing-shapes"></g></svg></div>' +
    '<form id="drawing-form" data-command="geometry">' +
    TOOLS.map(([tool, label]) => `<label><input type="radio" name="tool" value="${tool}"${tool === drawing.tool ? ' checked' : ''}> ${label}</label> `).join('') +
    '<button type="button" id="drawing-flip">Flip flow side</button> <button type="button" id="drawing-remove">Remove line</button> ' +
    '<button type="button" id="drawing-search">Search for the view</button> <button type="button" id="drawing-undo">Undo changes</button> ' +
    '<button type="submit" id="drawing-save">Save drawing</button></form>' +
    '<p id="drawing-values" class="quiet"></p><p id="drawing-answer" class="answer"></p></section>';
  document.getElementById('drawing-stage').style.aspectRatio = `${drawing.size[0]} / ${drawing.size[1]}`;
  const svg = document.getElementById('drawing-svg');
  svg.addEventListener('pointerdown', startDrag);
  svg.addEventListener('pointermove', moveDrag);
  svg.addEventListener('pointerup', endDrag);
  svg.addEventListener('pointercancel', endDrag);
  const form = document.getElementById('drawing-form');
  form.addEventListener('change', () => { drawing.tool = form.elements.tool.value; render(); });
  form.addEventListener('submit', saveDrawing);
  document.getElementById('drawing-flip').addEventListener('click', () => changeLine(s => {
    const line = s.lines[drawing.selected];
    line.orientation = line.orientation === 'left' ? 'right' : 'left';
  }));
  document.getElementById('drawing-remove').addEventListener('click', () => changeLine(s => {
    s.lines.splice(drawing.selected, 1);
    drawing.selected = Math.max(0, Math.min(drawing.selected, s.lines.length - 1));
  }));
  document.getElementById('drawing-search').addEventListener('click', () => {
    drawing.shapes.view = null;
    drawing.changed.add('doas_fov');
    render();
  });
  document.getElementById('drawing-undo').addEventListener('click', () => {
    drawing.changed.clear();
    drawing.shapes = copyShapes(...drawing.daemon);
    render();
  });
}

// Whether pycamd's status shows every value of the drawing last saved.
function showsSent(geometry) {
  return Object.entries(drawing.sent).every(([key, value]) => JSON.stringify(geometry[key]) === JSON.stringify(value));
}

// Called with each refresh of a pycamd's page: built once, then only the frame, the
// permission and (while the operator has nothing unsaved) the daemon's values change.
function geometryPanel(name, view) {
  const box = document.getElementById('drawing');
  const geometry = view.status && view.status.image_geometry;
  if (!box || !geometry) return;
  const processing = view.status.processing || {};
  const searched = processing.doas_fov && processing.doas_fov.source === 'search' ? processing.doas_fov : null;
  if (!drawing.built) {
    drawing.name = name;
    drawing.size = geometry.image_size;
    buildDrawing(box);
    drawing.built = true;
  }
  drawing.daemon = [geometry, searched];
  drawing.control = Boolean(view.control);
  if (drawing.sent && (showsSent(geometry) || ++drawing.waited > SETTLE_UPDATES)) drawing.sent = null;
  if (!drawing.shapes || (!drawing.changed.size && !drawing.sent && !drawing.drag)) drawing.shapes = copyShapes(geometry, searched);
  else drawing.shapes.searched = searched;
  const version = (view.plots || {})['frame-fltrA'];
  const frame = document.getElementById('drawing-frame');
  if (version && version !== drawing.frameVersion) {
    drawing.frameVersion = version;
    frame.src = `/api/${encodeURIComponent(name)}/plot/frame-fltrA.png?v=${version}`;
  }
  frame.hidden = !version;
  const reasons = [];
  if (!view.control) reasons.push(`drawing is taken only from control machines, not from ${view.client}: shown read-only`);
  if (!version) reasons.push('no on-band frame yet to draw on (capture one)');
  if (geometry.error) reasons.push(`the config's geometry is unusable: ${geometry.error}`);
  stamp('drawing-note', reasons.join('; ') || 'Pick what to draw, then drag on the image: a new one where nothing is, ' +
        'a handle or a shape to move it. Save sends it to pycamd.');
  const form = document.getElementById('drawing-form');
  for (const input of form.querySelectorAll('input')) input.disabled = !drawing.control;
  if (!document.getElementById('drawing-answer').textContent.endsWith('running...')) {
    document.getElementById('drawing-save').disabled = !drawing.control;
  }
  document.getElementById('drawing-svg').classList.toggle('editable', drawing.control);
  render();
}
