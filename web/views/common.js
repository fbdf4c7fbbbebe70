// views/common.js: pieces the pages share.

import { h, replace } from '../dom.js';

// A page's skeleton: a heading row (title, extra) and a body to fill.
export function page(container, title, testid) {
  const heading = h('h1', { 'data-testid': testid || null, tabindex: '-1' }, title);
  const extra = h('div', { class: 'head-extra' });
  const body = h('div', { class: 'page-body' });
  replace(container, h('div', { class: 'page-head' }, heading, extra), body);
  return { heading, extra, body };
}

// Runs an action button's work: disables it meanwhile, announces the
// result or shows the API's error next to it (role=alert).
export async function act(button, ctx, work, done) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    const result = await work();
    ctx.error(null);
    if (done)
      ctx.announce(typeof done === 'function' ? done(result) : done);
    return result;
  } catch (e) {
    ctx.error(e);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// A load that keeps the page usable while it runs, and tells a failure.
export function loader(ctx, load) {
  let seq = 0;
  let alive = true;
  const run = async () => {
    const mine = ++seq;
    try {
      await load(() => alive && mine === seq);
    } catch (e) {
      if (alive && mine === seq)
        ctx.error(e);
    }
  };
  run.stop = () => { alive = false; };
  return run;
}

// Definition list from [label, value] pairs (values: text or nodes).
export function facts(pairs, testid) {
  return h('dl', { class: 'facts', 'data-testid': testid || null }, pairs.filter(Boolean).map(([k, v]) =>
    h('div', null, h('dt', null, k), h('dd', null, v))));
}

export function mib(n) {
  if (n === null || n === undefined)
    return '\u2014';
  if (n >= 1024 * 1024)
    return `${(n / 1024 / 1024).toFixed(1)} TiB`;
  if (n >= 1024)
    return `${(n / 1024).toFixed(n % 1024 ? 1 : 0)} GiB`;
  return `${n} MiB`;
}

export const VM_STATES = ['pending', 'deploying', 'running', 'poweroff', 'unknown', 'terminating',
  'failed', 'done'];

// After an action whose button a reload took away: the focus, lost to the
// body, goes to the first of the actions drawn again (Disable becomes
// Enable), else to the page's heading, so that the keyboard stays put.
export function keepFocus(actions, heading) {
  if (document.activeElement && document.activeElement !== document.body)
    return;
  const button = actions.querySelector('button:not([disabled])');
  (button || heading).focus({ preventScroll: true });
}

// Draws @children into @el (a row of action buttons) again; when the
// focus was in it, it goes to the same button, else to the first, else
// to @fallback: a reload on an event does not drop the keyboard's place.
export function redrawKeepingFocus(el, fallback, ...children) {
  const had = el.contains(document.activeElement);
  const id = had ? document.activeElement.dataset.testid : null;
  replace(el, ...children);
  if (!had)
    return;
  const same = id ? el.querySelector(`[data-testid="${id}"]:not([disabled])`) : null;
  (same || el.querySelector('button:not([disabled])') || fallback).focus({ preventScroll: true });
}
