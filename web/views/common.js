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

export const PAGE_SIZE = 100;

// One page of a paged list ({KEY: [...], next: ID|null}) at a time, with
// "First page" and "Next page": a list never reads every page (10,000
// hosts). pager.query() is the current page's limit and after;
// pager.controls(next) draws the buttons for an answer's next.
export function pager(onChange, what) {
  let after = 0;
  const previous = []; // the afters of the pages before, for "Previous page"
  const nav = h('nav', { class: 'pager', 'aria-label': `Pages of ${what}` });
  const go = (value, back) => {
    if (back)
      after = previous.pop() || 0;
    else {
      previous.push(after);
      after = value;
    }
    onChange();
  };
  return {
    el: nav,
    get after() { return after; },
    reset() { after = 0; previous.length = 0; },
    query(sep = '?') { return `${sep}limit=${PAGE_SIZE}${after ? `&after=${after}` : ''}`; },
    controls(next) {
      const buttons = [];
      if (after) {
        buttons.push(h('button', { type: 'button', 'data-testid': 'page-first',
          onclick: () => { after = 0; previous.length = 0; onChange(); } }, 'First page'));
        buttons.push(h('button', { type: 'button', 'data-testid': 'page-previous', onclick: () => go(0, true) },
          'Previous page'));
      }
      if (next !== null && next !== undefined)
        buttons.push(h('button', { type: 'button', 'data-testid': 'page-next', onclick: () => go(next, false) },
          'Next page'));
      replace(nav, buttons);
      nav.hidden = buttons.length === 0;
    },
  };
}

// For events that come in bursts (every VM's, every host's): true (reload
// now) at most once per @ms; one that comes sooner is not dropped but runs
// @run when the @ms are up. cancel() on unmount.
export function rateLimit(ms, run) {
  let last = 0;
  let timer = null;
  const allow = () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      return true;
    }
    if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        run();
      }, wait);
    }
    return false;
  };
  allow.cancel = () => clearTimeout(timer);
  return allow;
}
