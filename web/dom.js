// dom.js: builds DOM nodes from data without ever parsing HTML.
//
// h(tag, attrs, ...children): attrs keys:
//   class, id, for, type, name, role, aria-*, data-*, ... : setAttribute
//   value, checked, disabled, hidden, selected, open: set as properties
//   on<event>: a listener (addEventListener), never an attribute
// Children: nodes, strings and numbers (text nodes: textContent, never
// innerHTML), arrays (flattened); null, undefined and false are skipped.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open', 'multiple',
  'readOnly', 'required', 'spellcheck', 'indeterminate']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false && !PROPS.has(key))
        continue;
      if (key.startsWith('on') && typeof value === 'function')
        el.addEventListener(key.slice(2).toLowerCase(), value);
      else if (PROPS.has(key))
        el[key] = value;
      else
        el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false)
      continue;
    if (Array.isArray(child))
      append(el, child);
    else if (child instanceof Node)
      el.appendChild(child);
    else
      el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

// Replaces the children of el with children.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A text or a dash for a missing value.
export function text(value) {
  if (value === null || value === undefined || value === '')
    return '\u2014';
  return String(value);
}

// A Unix time (seconds) as a local date and time; a dash for none.
export function when(seconds) {
  if (!seconds)
    return '\u2014';
  const d = new Date(seconds * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// "3 s ago", "5 min ago" ... for a Unix time (seconds).
export function ago(seconds) {
  if (!seconds)
    return 'never';
  const s = Math.max(0, Math.round(Date.now() / 1000 - seconds));
  if (s < 60)
    return `${s} s ago`;
  if (s < 3600)
    return `${Math.round(s / 60)} min ago`;
  if (s < 86400)
    return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// A state badge: <span class="badge state-running">running</span>.
export function badge(state, testid) {
  const safe = String(state || 'unknown').replace(/[^a-z0-9_-]/gi, '');
  return h('span', { class: `badge state-${safe}`, 'data-testid': testid || null }, text(state));
}

// A table: columns [{label, cls}], and tbody rows (or several tbodies).
export function table(caption, columns, bodies, attrs) {
  const head = h('thead', null, h('tr', null, columns.map((c) =>
    h('th', { scope: 'col', class: c.cls || null }, c.label))));
  const tbodies = Array.isArray(bodies) ? bodies : [bodies];
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', attrs || null, h('caption', { class: 'sr-only' }, caption), head, tbodies));
}

// debounce(fn, ms) runs fn once after calls stop for ms; cancel() drops it.
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
