// app.js: pcipass's web UI: the hash router, the header, the login, the
// live updates. Plain ES modules, no framework; no HTML is ever parsed from
// data (dom.js builds every node with textContent).
//
// data-testid attributes the browser tests rely on (tests/web/specs):
//   login:    login-token (type=password), login-submit, login-error
//   header:   whoami (the user's name), logout, live ("live" or "polling"),
//             nav-hosts, nav-vms, nav-create, nav-networks, nav-users (admins),
//             nav-tokens; status (the aria-live region), error (role=alert, the
//             API's message), not-allowed (an admin page for a plain user)
//   headings: hosts-title, host-title, vms-title, vm-title, create-title,
//             networks-title, network-title, users-title, user-title, tokens-title
//   lists:    page-first, page-previous, page-next (one page of 100 at a time)
//   hosts:    hosts-table, host-row (data-host=NAME, data-id=ID)
//   host:     host-state, host-enable, host-disable, host-probe (admins only),
//             host-facts, pci-table, pci-group (a tbody: data-group=IOMMU group
//             or "none"), pci-row (data-address=DDDD:BB:SS.F, data-vm=ID or ""),
//             pci-vm, pci-why (free / in use / not offered, and why),
//             filter-class, filter-vendor, filter-free, pci-count
//   vms:      vms-table, vm-row (data-vm-id=ID, data-state=STATE), filter-state
//   vm:       vm-state, vm-why (why pending, or the reason), vm-why-hosts (host
//             by host), vm-facts, vm-devices, vm-device (data-address), vm-nics,
//             vm-nic (data-kind=pci|bridge), vm-history, vm-xml, vm-template,
//             vm-terminate, vm-poweroff, vm-resume, vm-retry
//   create:   vm-name, vm-cpu, vm-memory, pci-search, pci-free, pci-picker,
//             pci-type (a row: data-type=VENDOR:DEVICE:CLASS, data-free=N),
//             pci-add-type, pci-add-class, pci-host (by address: the host),
//             pci-address (its free devices), pci-add-address,
//             nic-network, nic-pci, nic-device, nic-add, pci-chosen, chosen-item
//             (data-kind=pci|nic|pcinic), pci-remove, vm-template,
//             template-check, template-goto, dry-run, place-result
//             (data-fits=yes|no), place-host, vm-create
//   networks: networks-table, network-row (data-network=NAME), network-new,
//             network-facts, network-ars, network-leases, lease-row
//             (data-vm=ID or ""), lease-release, hold-address, hold-submit,
//             network-edit, network-delete, network-template, network-shared,
//             network-save, network-error
//   users:    users-table, user-row (data-user=NAME), user-name, user-admin,
//             user-create, user-delete, quota-table, quota-vms, quota-cpu,
//             quota-memory, quota-pci, quota-leases, quota-save
//   tokens:   tokens-table, token-row (data-token-id=ID), token-name,
//             token-expires, token-create, token-secret (shown once),
//             token-delete

import { h, replace } from './dom.js';
import * as api from './api.js';
import { startEvents } from './events.js';
import { hostsView, hostView } from './views/hosts.js';
import { vmsView, vmView } from './views/vms.js';
import { createView } from './views/create.js';
import { networksView, networkView, networkNewView } from './views/networks.js';
import { usersView, userView, tokensView } from './views/admin.js';

const POLL_MS = 10000; // how often a page reloads itself while events are down

const state = {
  session: null,
  view: null,
  stopEvents: null,
  live: false,
  poll: null,
  afterLogin: '#/hosts',
  reloadTimer: null,
};

const routes = [
  { re: /^\/hosts$/, view: hostsView, nav: 'hosts', title: 'Hosts' },
  { re: /^\/hosts\/([^/]+)$/, view: hostView, nav: 'hosts', title: 'Host' },
  { re: /^\/vms$/, view: vmsView, nav: 'vms', title: 'VMs' },
  { re: /^\/vms\/new$/, view: createView, nav: 'create', title: 'Create a VM' },
  { re: /^\/vms\/([^/]+)$/, view: vmView, nav: 'vms', title: 'VM' },
  { re: /^\/networks$/, view: networksView, nav: 'networks', title: 'Networks' },
  { re: /^\/networks\/new$/, view: networkNewView, nav: 'networks', title: 'New network' },
  { re: /^\/networks\/([^/]+)$/, view: networkView, nav: 'networks', title: 'Network' },
  { re: /^\/users$/, view: usersView, nav: 'users', title: 'Users', admin: true },
  { re: /^\/users\/([^/]+)$/, view: userView, nav: 'users', title: 'User' },
  { re: /^\/tokens$/, view: tokensView, nav: 'tokens', title: 'Tokens' },
];

const NAV = [
  { id: 'hosts', href: '#/hosts', label: 'Hosts' },
  { id: 'vms', href: '#/vms', label: 'VMs' },
  { id: 'create', href: '#/vms/new', label: 'Create VM' },
  { id: 'networks', href: '#/networks', label: 'Networks' },
  { id: 'users', href: '#/users', label: 'Users', admin: true },
  { id: 'tokens', href: '#/tokens', label: 'Tokens' },
];

const $ = (id) => document.getElementById(id);

// Says msg in the aria-live region (and shows it a while).
let statusTimer = null;
function announce(msg) {
  const el = $('status');
  replace(el, msg);
  el.classList.toggle('shown', Boolean(msg));
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    replace(el);
    el.classList.remove('shown');
  }, 6000);
}

// An error of the page (role=alert) at the top of main; null clears it.
function showError(err) {
  const main = $('main');
  let el = main.querySelector(':scope > .page-error');
  if (!err) {
    if (el)
      el.remove();
    return;
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (!el) {
    el = h('div', { class: 'page-error', role: 'alert', 'data-testid': 'error' });
    main.prepend(el);
  }
  replace(el, msg, ' ', h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss the error',
    onclick: () => showError(null) }, '\u00d7'));
}

function renderHeader() {
  const nav = $('nav');
  const who = $('who');
  if (!state.session) {
    replace(nav);
    replace(who);
    return;
  }
  const current = currentRoute();
  replace(nav, h('ul', null, NAV.filter((n) => !n.admin || state.session.admin).map((n) =>
    h('li', null, h('a', { href: n.href, 'data-testid': `nav-${n.id}`,
      'aria-current': current && current.route.nav === n.id ? 'page' : null }, n.label)))));
  replace(who,
    h('span', { class: `live ${state.live ? 'on' : 'off'}`, 'data-testid': 'live',
      title: state.live ? 'Following changes as they happen' : 'Live updates unavailable: reloading every 10 s' },
    state.live ? 'live' : 'polling'),
    h('a', { class: 'user', href: `#/users/${encodeURIComponent(state.session.user)}`,
      title: 'Your quotas and what you use' }, h('span', { class: 'sr-only' }, 'Logged in as '),
    h('span', { 'data-testid': 'whoami' }, state.session.user)),
    state.session.admin ? h('span', { class: 'badge admin' }, 'admin') : null,
    h('button', { type: 'button', 'data-testid': 'logout', onclick: doLogout }, 'Log out'));
}

function currentRoute() {
  const path = decodeHashPath();
  for (const route of routes) {
    const m = route.re.exec(path);
    if (m)
      return { route, params: m.slice(1).map(decodeParam) };
  }
  return null;
}

// A path segment as typed: a malformed %-escape stays as it is.
function decodeParam(p) {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function decodeHashPath() {
  const hash = location.hash.replace(/^#/, '');
  return hash === '' ? '/' : hash;
}

function unmountView() {
  clearTimeout(state.reloadTimer);
  state.reloadTimer = null;
  if (state.view && state.view.unmount)
    state.view.unmount();
  state.view = null;
}

async function route() {
  const path = decodeHashPath();
  if (!state.session) {
    if (path !== '/login') {
      if (path !== '/' && path !== '/logout')
        state.afterLogin = `#${path}`;
      location.replace('#/login');
      return;
    }
    unmountView();
    renderHeader();
    renderLogin();
    return;
  }
  if (path === '/login' || path === '/') {
    location.replace('#/hosts');
    return;
  }
  const found = currentRoute();
  unmountView();
  renderHeader();
  const main = $('main');
  replace(main);
  if (!found) {
    document.title = 'Not found \u2014 pcipass';
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'),
      h('p', null, `No page at ${path}. `, h('a', { href: '#/hosts' }, 'Go to the hosts.')));
    focusHeading();
    return;
  }
  if (found.route.admin && !state.session.admin) {
    document.title = 'Not allowed \u2014 pcipass';
    replace(main, h('h1', { tabindex: '-1', 'data-testid': 'not-allowed' }, 'Not allowed'),
      h('p', null, 'This page is for administrators.'));
    focusHeading();
    return;
  }
  document.title = `${found.route.title} \u2014 pcipass`;
  const ctx = {
    session: state.session,
    admin: state.session.admin,
    announce,
    error: showError,
    navigate: (hash) => { location.hash = hash; },
    setTitle: (t) => { document.title = `${t} \u2014 pcipass`; },
  };
  const container = h('div', { class: 'page' });
  main.appendChild(container);
  try {
    state.view = found.route.view(container, ctx, ...found.params) || null;
  } catch (e) {
    showError(e);
  }
  focusHeading();
}

function focusHeading() {
  // Move the focus to the page's heading on navigation, for screen readers
  // and keyboards, unless something in the page already has it.
  requestAnimationFrame(() => {
    const main = $('main');
    if (main.contains(document.activeElement) && document.activeElement !== main)
      return;
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.setAttribute('tabindex', '-1');
      h1.focus({ preventScroll: true });
    }
  });
}

function renderLogin() {
  document.title = 'Log in \u2014 pcipass';
  const input = h('input', { type: 'password', id: 'login-token', name: 'token', autocomplete: 'off',
    spellcheck: false, maxlength: '256', 'data-testid': 'login-token',
    'aria-describedby': 'login-hint' });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'login-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, 'Log in');
  const form = h('form', { class: 'login card', 'aria-labelledby': 'login-title',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) {
        error.hidden = false;
        replace(error, 'Enter an API token (pcipass token create makes one).');
        input.focus();
        return;
      }
      button.disabled = true;
      error.hidden = true;
      try {
        const s = await api.login(token);
        input.value = '';
        startSession(s);
        const target = state.afterLogin || '#/hosts';
        state.afterLogin = '#/hosts';
        location.replace(target);
      } catch (e) {
        error.hidden = false;
        replace(error, e.message);
        input.select();
        input.focus();
      } finally {
        button.disabled = false;
      }
    } },
  h('h1', { id: 'login-title' }, 'Log in to pcipass'),
  h('div', { class: 'field' }, h('label', { for: 'login-token' }, 'API token'), input,
    h('small', { id: 'login-hint', class: 'hint' },
      'A token of yours: pcipass token create --name browser prints one (pp_\u2026).')),
  error, h('div', { class: 'actions' }, button));
  replace($('main'), form);
  input.focus();
}

function startSession(session) {
  state.session = session;
  if (state.stopEvents)
    state.stopEvents();
  // A reload 250 ms after the first event of a burst, then at most one a
  // second however many come: a steady stream of events (10,000 hosts)
  // neither starves the page, as a debounce would, nor floods the API.
  let lastRun = 0;
  const reload = () => {
    if (state.reloadTimer)
      return;
    const wait = Math.max(250, lastRun + 1000 - Date.now());
    state.reloadTimer = setTimeout(() => {
      state.reloadTimer = null;
      lastRun = Date.now();
      if (state.view && state.view.refresh)
        state.view.refresh();
    }, wait);
  };
  state.stopEvents = startEvents({
    onEvent: (kind, data) => {
      const view = state.view;
      if (!view || !view.refresh)
        return;
      // A resync reloads whatever the page says; the page hears it too.
      const wanted = !view.concerns || view.concerns(kind, data);
      if (kind === 'resync' || wanted)
        reload();
    },
    onLive: (live) => {
      if (live !== state.live) {
        state.live = live;
        renderHeader();
      }
    },
  });
  clearInterval(state.poll);
  state.poll = setInterval(() => {
    if (!state.live && state.view && state.view.refresh && !document.hidden)
      state.view.refresh();
  }, POLL_MS);
}

function endSession() {
  state.session = null;
  if (state.stopEvents)
    state.stopEvents();
  state.stopEvents = null;
  clearInterval(state.poll);
  state.live = false;
  api.setCsrf(null);
}

async function doLogout() {
  try {
    await api.logout();
  } catch (e) {
    if (e.status !== 401) {
      showError(`Logging out failed: ${e.message}`);
      return;
    }
  }
  endSession();
  unmountView();
  announce('Logged out.');
  state.afterLogin = '#/hosts';
  location.hash = '#/login';
}

api.setUnauthorizedHandler(() => {
  if (!state.session)
    return;
  endSession();
  unmountView();
  announce('Your session ended: log in again.');
  route();
});

async function boot() {
  $('skip').addEventListener('click', () => {
    const h1 = $('main').querySelector('h1');
    (h1 || $('main')).focus();
  });
  try {
    const s = await api.currentSession();
    if (s)
      startSession(s);
  } catch (e) {
    replace($('main'), h('p', { class: 'form-error', role: 'alert', 'data-testid': 'error' }, e.message));
    return;
  }
  window.addEventListener('hashchange', route);
  route();
}

boot();
