// rockit-web's figures for people: units, sensible digits, and HTML made safe.
'use strict';

function esc(value) {
  return String(value ?? '').replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
}

function isNumber(value) {
  return typeof value === 'number' && Number.isFinite(value);
}

function num(value, digits) {
  return isNumber(value) ? value.toFixed(digits) : '-';
}

const SUPERSCRIPT = {'-': '\u207b', '0': '\u2070', '1': '\u00b9', '2': '\u00b2', '3': '\u00b3', '4': '\u2074',
                     '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079'};

// 2.89e+18 as "2.89 × 10¹⁸": a column density read at a glance, not nineteen digits.
function sci(value, digits = 3) {
  if (!isNumber(value)) return '-';
  if (value === 0) return '0';
  const [mantissa, exponent] = value.toExponential(digits - 1).split('e');
  const power = String(Number(exponent)).replace(/./g, c => SUPERSCRIPT[c] ?? c);
  return `${mantissa} \u00d7 10${power}`;
}

function withUnit(text, unit) {
  return text === '-' ? '-' : `${text} ${unit}`;
}

function celsius(value) { return withUnit(num(value, 1), '\u00b0C'); }
function kgPerS(value) { return withUnit(num(value, 2), 'kg/s'); }
function metresPerS(value) { return withUnit(num(value, 1), 'm/s'); }
function molecules(value) { return withUnit(sci(value), 'molecules/cm\u00b2'); }
function microseconds(value) { return withUnit(isNumber(value) ? String(Math.round(value)) : '-', '\u00b5s'); }
function milliseconds(value) { return withUnit(isNumber(value) ? String(Math.round(value)) : '-', 'ms'); }
function percent(fraction) { return withUnit(isNumber(fraction) ? (100 * fraction).toFixed(0) : '-', '%'); }

// As `pycam status` does: MB below a gigabyte, GB with one decimal above.
function megabytes(value) {
  if (!isNumber(value)) return '-';
  return value >= 1000 ? `${(value / 1000).toFixed(1)} GB` : `${value.toFixed(0)} MB`;
}

// value ± error unit, both with the same digits (show: number -> text without unit).
function plusMinus(value, error, show, unit) {
  if (!isNumber(value)) return 'none yet';
  return `${show(value)}${isNumber(error) ? ` \u00b1 ${show(error)}` : ''} ${unit}`;
}

const twoDigits = value => value.toFixed(2);
const oneDigit = value => value.toFixed(1);

function count(number, one, many) {
  return `${number ?? 0} ${number === 1 ? one : many}`;
}

function onOff(value) {
  return value ? 'ON' : 'OFF';
}

// A setting's value as `pycam settings` prints it: on/off, low:high, or the number.
function settingText(value) {
  if (Array.isArray(value)) return value.join(':');
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  return String(value ?? '-');
}

function table(rows, id, head) {
  const header = head ? '<tr>' + head.map(cell => `<th>${esc(cell)}</th>`).join('') + '</tr>' : '';
  return `<table${id ? ` id="${id}"` : ''}>` + header + rows.map(row =>
    '<tr>' + row.map(cell => `<td>${cell}</td>`).join('') + '</tr>').join('') + '</table>';
}

// [label, html] lines of one group, as one table under its heading.
function group(title, id, lines) {
  const shown = lines.filter(Boolean);
  if (!shown.length) return '';
  return `<section class="group" id="${id}"><h2>${esc(title)}</h2>` +
    table(shown.map(([label, value]) => [esc(label), value])) + '</section>';
}
