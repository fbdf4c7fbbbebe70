// views/vms.js: the VMs by state and a VM's page.

import { h, replace, text, when, ago, badge, table } from '../dom.js';
import * as api from '../api.js';
import { page, act, loader, facts, mib, keepFocus, redrawKeepingFocus, pager, rateLimit, VM_STATES } from './common.js';

export function vmsView(container, ctx) {
  const { extra, body } = page(container, 'VMs', 'vms-title');
  let filter = sessionStorage.getItem('pp-vm-filter') || '';
  const select = h('select', { id: 'filter-state', 'data-testid': 'filter-state' },
    h('option', { value: '' }, 'Not done'),
    VM_STATES.map((s) => h('option', { value: s, selected: s === filter }, s)),
    h('option', { value: 'all', selected: filter === 'all' }, 'All, done ones too'));
  select.addEventListener('change', () => {
    filter = select.value;
    sessionStorage.setItem('pp-vm-filter', filter);
    pages.reset();
    load();
  });
  const list = h('div');
  const pages = pager(() => load(), 'VMs');
  replace(body, list, pages.el);
  let shownIds = new Set();
  let lastPage = false;
  let maxId = 0;
  extra.append(h('div', { class: 'field inline' }, h('label', { for: 'filter-state' }, 'State'), select),
    h('a', { class: 'button primary', href: '#/vms/new' }, 'Create a VM'));

  const load = loader(ctx, async (current) => {
    const query = filter === 'all' ? '?all=1' : filter ? `?state=${api.enc(filter)}` : '';
    const answer = await api.get(`/v1/vms${query}${pages.query(query ? '&' : '?')}`);
    if (!current())
      return;
    const vms = answer.vms || [];
    lastPage = answer.next === null || answer.next === undefined;
    shownIds = new Set(vms.map((vm) => vm.id));
    maxId = vms.reduce((m, vm) => Math.max(m, vm.id), 0);
    const counts = new Map();
    for (const vm of vms)
      counts.set(vm.state, (counts.get(vm.state) || 0) + 1);
    // By state: the states in their order, then by ID.
    const order = (s) => { const i = VM_STATES.indexOf(s); return i < 0 ? 99 : i; };
    vms.sort((a, b) => order(a.state) - order(b.state) || a.id - b.id);
    const bodies = [];
    let last = null;
    let rows = [];
    const flush = () => {
      if (rows.length)
        bodies.push(h('tbody', { 'data-state': last }, rows));
      rows = [];
    };
    for (const vm of vms) {
      if (vm.state !== last) {
        flush();
        last = vm.state;
        rows.push(h('tr', { class: 'group-head' }, h('th', { scope: 'rowgroup', colspan: '9' },
          `${vm.state}: ${counts.get(vm.state)}`)));
      }
      rows.push(h('tr', { 'data-testid': 'vm-row', 'data-vm-id': String(vm.id), 'data-state': vm.state },
        h('td', { class: 'num' }, String(vm.id)),
        h('th', { scope: 'row' }, h('a', { href: `#/vms/${vm.id}` }, vm.name)),
        h('td', null, text(vm.owner)),
        h('td', null, badge(vm.state)),
        h('td', null, vm.host ? h('a', { href: `#/hosts/${api.enc(vm.host.name)}` }, vm.host.name) : '\u2014'),
        h('td', { class: 'num' }, String(vm.cpu)),
        h('td', { class: 'num' }, mib(vm.memory_mib)),
        h('td', { class: 'num' }, String(vm.devices_held)),
        h('td', { class: 'wrap' }, text(vm.summary || vm.reason), h('small', { class: 'sub' },
          `updated ${ago(vm.updated)}`))));
    }
    flush();
    pages.controls(answer.next);
    replace(list, vms.length === 0 ?
      h('p', { class: 'empty' }, 'No VMs here. ', h('a', { href: '#/vms/new' }, 'Create one.')) :
      table('VMs by state', [{ label: 'ID', cls: 'num' }, { label: 'Name' }, { label: 'Owner' },
        { label: 'State' }, { label: 'Host' }, { label: 'CPU', cls: 'num' }, { label: 'Memory', cls: 'num' },
        { label: 'PCI', cls: 'num' }, { label: 'Why / reason' }], bodies, { 'data-testid': 'vms-table' }));
  });
  load();
  return {
    refresh: load,
    // This page again (one page, never all): for a VM on it, or a new one
    // past its end.
    concerns: (kind, data) => kind === 'vm' && (shownIds.has(data.id) || (lastPage && data.id > maxId)),
    unmount: load.stop,
  };
}

const ACTIONS = {
  terminate: { label: 'Terminate', states: ['pending', 'deploying', 'running', 'poweroff', 'unknown', 'failed'],
    confirm: 'Terminate this VM? It is destroyed and its devices released.', danger: true },
  poweroff: { label: 'Power off', states: ['running', 'unknown'] },
  resume: { label: 'Resume', states: ['poweroff', 'failed'] },
  retry: { label: 'Retry', states: ['failed', 'poweroff'] },
};

export function vmView(container, ctx, id) {
  const { heading, extra, body } = page(container, `VM ${id}`, 'vm-title');
  let vm = null;
  let showHosts = false;
  let hostsExplanation = null;
  const stateBadge = h('span');
  heading.append(' ', stateBadge);
  const actions = h('div', { class: 'actions' });
  extra.append(actions);

  const summary = h('section', { 'aria-labelledby': 'vm-sum' }, h('h2', { id: 'vm-sum', class: 'sr-only' }, 'Summary'));
  const why = h('section', { class: 'why', 'data-testid': 'vm-why', 'aria-live': 'polite' });
  const devices = h('section', { 'aria-labelledby': 'vm-dev-h' });
  const nics = h('section', { 'aria-labelledby': 'vm-nic-h' });
  const history = h('section', { 'aria-labelledby': 'vm-hist-h' });
  const xml = h('section');
  replace(body, why, summary, devices, nics, history, xml);

  function drawActions() {
    redrawKeepingFocus(actions, heading, Object.entries(ACTIONS).filter(([, a]) => a.states.includes(vm.state)).map(([name, a]) =>
      h('button', { type: 'button', class: a.danger ? 'danger' : null, 'data-testid': `vm-${name}`,
        onclick: async (ev) => {
          if (a.confirm && !window.confirm(a.confirm))
            return;
          await act(ev.currentTarget, ctx, () => api.post(`/v1/vms/${vm.id}/${name}`),
            `${a.label}: VM ${vm.id} asked.`);
          await load();
          keepFocus(actions, heading);
        } }, a.label)));
  }

  function drawWhy() {
    if (vm.state !== 'pending' || !vm.explanation) {
      why.hidden = !(vm.reason && vm.state !== 'running');
      why.classList.toggle('bad', vm.state === 'failed');
      replace(why, vm.reason ? [h('h2', null, 'Reason'), h('p', null, vm.reason)] : []);
      return;
    }
    why.hidden = false;
    why.classList.remove('bad');
    const groups = vm.explanation;
    const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': String(showHosts),
      'aria-controls': 'why-hosts', onclick: async () => {
        showHosts = !showHosts;
        if (showHosts)
          await loadHosts();
        drawWhy();
      } }, showHosts ? 'Hide host by host' : 'Show host by host');
    const list = h('ul', { class: 'why-groups' }, groups.map((g) => h('li', null,
      h('strong', null, text(g.summary || g.reason)),
      h('small', { class: 'sub' }, `${g.hosts_count} host${g.hosts_count === 1 ? '' : 's'}: `,
        (g.hosts || []).join(', '), g.hosts && g.hosts_count > g.hosts.length ? ', \u2026' : ''))));
    let detail = null;
    if (showHosts) {
      detail = h('div', { id: 'why-hosts', 'data-testid': 'vm-why-hosts' }, hostsExplanation === null ?
        h('p', null, 'Loading\u2026') : hostsExplanation.length === 0 ? h('p', null, 'No host to explain.') :
          table('Host by host', [{ label: 'Host' }, { label: 'Why not there' }],
            h('tbody', null, hostsExplanation.map((e) => h('tr', null,
              h('th', { scope: 'row' }, e.host ? h('a', { href: `#/hosts/${api.enc(e.host)}` }, e.host) : '\u2014'),
              h('td', { class: 'wrap' }, text(e.reason)))))));
    }
    replace(why, h('h2', null, 'Why it is pending'), list, toggle, detail);
  }

  async function loadHosts() {
    try {
      const full = await api.get(`/v1/vms/${api.enc(id)}?all_hosts=1`);
      hostsExplanation = full.explanation_hosts || [];
    } catch (e) {
      ctx.error(e);
      hostsExplanation = [];
    }
  }

  function draw() {
    ctx.setTitle(`VM ${vm.id} ${vm.name}`);
    replace(heading, `${vm.name} `, h('small', { class: 'sub-id' }, `#${vm.id}`), ' ', badge(vm.state, 'vm-state'));
    drawActions();
    drawWhy();
    replace(summary, h('h2', { id: 'vm-sum', class: 'sr-only' }, 'Summary'), facts([
      ['Owner', text(vm.owner)],
      ['Host', vm.host ? h('a', { href: `#/hosts/${api.enc(vm.host.name)}` }, vm.host.name) : '\u2014'],
      ['CPU', `${vm.cpu} (${vm.vcpu} vCPU)`],
      ['Memory', mib(vm.memory_mib)],
      ['PCI asked', vm.pci_requests && vm.pci_requests.length ? vm.pci_requests.join('; ') : '\u2014'],
      ['Graphics', vm.graphics ? `${vm.graphics.type || 'yes'}${vm.graphics.password ? ' (password set)' : ''}` : '\u2014'],
      ['Domain', text(vm.domain)],
      ['Tries', String(vm.tries)],
      ['Created', when(vm.created)],
      ['Updated', `${when(vm.updated)} (${ago(vm.updated)})`],
    ], 'vm-facts'));
    replace(devices, h('h2', { id: 'vm-dev-h' }, 'PCI devices'), vm.devices.length === 0 ?
      h('p', { class: 'empty', 'data-testid': 'vm-devices' }, vm.state === 'pending' ? 'None yet: it is pending.' : 'None held.') :
      table('PCI devices of the VM', [{ label: 'PCI[n]', cls: 'num' }, { label: 'ADDR' }, { label: 'TYPE' },
        { label: 'NAME' }, { label: 'IOMMU group', cls: 'num' }, { label: 'NUMA', cls: 'num' }],
      h('tbody', null, vm.devices.map((d) => h('tr', { 'data-testid': 'vm-device', 'data-address': d.address },
        h('td', { class: 'num' }, text(d.request)),
        h('th', { scope: 'row', class: 'mono' }, vm.host ?
          h('a', { href: `#/hosts/${api.enc(vm.host.name)}` }, d.short_address) : d.short_address),
        h('td', { class: 'mono' }, text(d.type)), h('td', { class: 'wrap' }, text(d.name)),
        h('td', { class: 'num' }, text(d.iommu_group)), h('td', { class: 'num' }, text(d.numa_node))))),
      { 'data-testid': 'vm-devices' }));
    replace(nics, h('h2', { id: 'vm-nic-h' }, 'NICs and leases'), !vm.nics || vm.nics.length === 0 ?
      h('p', { class: 'empty', 'data-testid': 'vm-nics' }, 'No NIC.') :
      table('NICs of the VM', [{ label: 'NIC', cls: 'num' }, { label: 'Kind' }, { label: 'Network' },
        { label: 'MAC' }, { label: 'IP' }, { label: 'VLAN', cls: 'num' }, { label: 'Device' }],
      h('tbody', null, vm.nics.map((n) => h('tr', { 'data-testid': 'vm-nic', 'data-kind': n.kind },
        h('td', { class: 'num' }, String(n.nic_id)),
        h('td', null, n.kind === 'pci' ? 'PCI passthrough' : 'bridged'),
        h('th', { scope: 'row' }, n.network_id ?
          h('a', { href: `#/networks/${n.network_id}` }, text(n.network)) : text(n.network || n.bridge)),
        h('td', { class: 'mono' }, text(n.mac)), h('td', { class: 'mono' }, text(n.ip)),
        h('td', { class: 'num' }, text(n.vlan_id)),
        h('td', { class: 'mono' }, text(n.device || n.guest_address || n.model))))),
      { 'data-testid': 'vm-nics' }));
    replace(history, h('h2', { id: 'vm-hist-h' }, 'History'),
      table('History of the VM', [{ label: 'When' }, { label: 'From' }, { label: 'To' }, { label: 'Host' },
        { label: 'Reason' }], h('tbody', null, [...(vm.history || [])].reverse().map((e) => h('tr', null,
        h('th', { scope: 'row' }, when(e.at)), h('td', null, text(e.from)), h('td', null, badge(e.to)),
        h('td', null, text(e.host)), h('td', { class: 'wrap' }, text(e.reason))))),
      { 'data-testid': 'vm-history' }));
    const blocks = [];
    if (vm.domain_xml)
      blocks.push(h('details', null, h('summary', null, 'Domain XML'),
        h('pre', { class: 'code', 'data-testid': 'vm-xml', tabindex: '0' }, vm.domain_xml)));
    if (vm.template)
      blocks.push(h('details', null, h('summary', null, 'Template'),
        h('pre', { class: 'code', 'data-testid': 'vm-template', tabindex: '0' }, vm.template)));
    // Keep the open state of the details across reloads.
    const open = [...xml.querySelectorAll('details')].map((d) => d.open);
    replace(xml, blocks);
    [...xml.querySelectorAll('details')].forEach((d, i) => { d.open = Boolean(open[i]); });
  }

  const load = loader(ctx, async (current) => {
    const got = await api.get(`/v1/vms/${api.enc(id)}`);
    if (!current())
      return;
    vm = got;
    if (showHosts && vm.state === 'pending')
      await loadHosts();
    draw();
  });
  const hostEvents = rateLimit(5000, () => load());
  load();
  return {
    refresh: load,
    // Its own VM's events; while it is pending, host events too (a host
    // that changes may change why), at most every 5 s.
    concerns: (kind, data) => {
      if (kind === 'vm')
        return !vm || data.id === vm.id;
      return kind === 'host' && vm && vm.state === 'pending' && hostEvents();
    },
    unmount: () => { load.stop(); hostEvents.cancel(); },
  };
}
