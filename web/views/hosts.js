// views/hosts.js: the hosts list and a host's page with its PCI tab.

import { h, replace, text, when, ago, badge, table } from '../dom.js';
import * as api from '../api.js';
import { page, act, loader, facts, mib, keepFocus, redrawKeepingFocus, pager } from './common.js';

export function hostsView(container, ctx) {
  const { body } = page(container, 'Hosts', 'hosts-title');
  const list = h('div');
  const pages = pager(() => load(), 'hosts');
  replace(body, list, pages.el);
  let shown = new Map(); // id -> {host, row} of the page shown
  let lastPage = false;
  let maxId = 0;

  const row = (host) => {
    const tr = h('tr', { 'data-testid': 'host-row', 'data-host': host.name, 'data-id': String(host.id) });
    fillRow(tr, host);
    return tr;
  };
  const fillRow = (tr, host) => replace(tr,
    h('th', { scope: 'row' }, h('a', { href: `#/hosts/${api.enc(host.name)}` }, host.name)),
    h('td', null, badge(host.state)),
    h('td', { class: 'num' }, `${host.pci_free} / ${host.pci_total}`),
    h('td', { title: when(host.last_monitored) }, ago(host.last_monitored)),
    h('td', { class: 'num' }, text(host.facts && host.facts.cpu_count)),
    h('td', { class: 'num' }, host.facts && host.facts.memory_kib !== null && host.facts.memory_kib !== undefined ?
      mib(Math.round(host.facts.memory_kib / 1024)) : '\u2014'),
    h('td', { class: 'wrap' }, text(host.error || host.libvirt_error)));

  const load = loader(ctx, async (current) => {
    const answer = await api.get(`/v1/hosts${pages.query()}`);
    if (!current())
      return;
    const hosts = answer.hosts || [];
    lastPage = answer.next === null || answer.next === undefined;
    maxId = hosts.reduce((m, x) => Math.max(m, x.id), 0);
    shown = new Map(hosts.map((host) => [host.id, { host, row: row(host) }]));
    replace(list, hosts.length === 0 && !pages.after ?
      h('p', { class: 'empty' }, 'No hosts yet. An administrator adds them: pcipass host create NAME.') :
      table('Hosts', [{ label: 'Name' }, { label: 'State' }, { label: 'PCI free / total', cls: 'num' },
        { label: 'Last probe' }, { label: 'CPUs', cls: 'num' }, { label: 'Memory', cls: 'num' },
        { label: 'Error' }], h('tbody', null, [...shown.values()].map((x) => x.row)), { 'data-testid': 'hosts-table' }));
    pages.controls(answer.next);
  });
  load();
  return {
    refresh: load,
    // A host of this page changes in place from the event's data; a page
    // is read again only for a host deleted from it, or a new one after it.
    concerns: (kind, data) => {
      if (kind !== 'host')
        return false;
      const entry = shown.get(data.id);
      if (!entry)
        return lastPage && data.id > maxId && !data.deleted;
      if (data.deleted)
        return true;
      for (const key of ['state', 'pci_free', 'pci_total'])
        if (data[key] !== undefined)
          entry.host[key] = data[key];
      if (data.state !== undefined)
        entry.host.enabled = data.state !== 'disabled';
      fillRow(entry.row, entry.host);
      return false;
    },
    unmount: load.stop,
  };
}

// The device the host needs (and no administrator allowed) that keeps
// each device's IOMMU group back: address -> that device. As placement
// and pcipass host show decide it, from the probe's IOMMU_GROUP_ENDPOINTS
// (every endpoint of the device's group).
export function groupBlockers(devices) {
  const needed = new Map();
  for (const d of devices) {
    if (d.host_needs && !d.allowed)
      needed.set(d.address, d);
  }
  const blockers = new Map();
  if (needed.size === 0)
    return blockers;
  for (const d of devices) {
    const list = d.attributes && d.attributes.IOMMU_GROUP_ENDPOINTS;
    if (typeof list !== 'string')
      continue;
    for (const address of list.split(',')) {
      const other = needed.get(address);
      if (other && other !== d) {
        blockers.set(d.address, other);
        break;
      }
    }
  }
  return blockers;
}

// Why a device is not offered, or null when it is (free or taken).
function whyNotOffered(dev, groupBlocker) {
  if (dev.gone)
    return 'gone: the last probe did not report it';
  if (dev.host_needs && !dev.allowed)
    return `the host needs it: it ${dev.host_needs}`;
  if (dev.set_aside)
    return `set aside until a probe reports it again: ${dev.set_aside}`;
  if (groupBlocker)
    return `its IOMMU group ${dev.iommu_group === null ? '' : `${dev.iommu_group} `}holds ${groupBlocker.address}, ` +
      'which the host needs';
  return null;
}

function deviceStatus(dev, groupBlocker) {
  const why = whyNotOffered(dev, groupBlocker);
  if (dev.vm)
    return { cls: 'taken', label: 'in use', why: `held by VM ${dev.vm}` };
  if (dev.taken)
    return { cls: 'taken', label: 'in use', why: 'held by a VM of another user' };
  if (why)
    return { cls: 'blocked', label: 'not offered', why };
  if (dev.host_needs && dev.allowed)
    return { cls: 'free', label: 'free', why: `allowed by an administrator though the host needs it (it ${dev.host_needs})` };
  return { cls: 'free', label: 'free', why: null };
}

// Blocks of rows: the devices of one IOMMU group together (in the order of
// their first address), a device without a group alone.
function groupDevices(devices) {
  const sorted = [...devices].sort((a, b) => a.address.localeCompare(b.address));
  const blocks = [];
  const byGroup = new Map();
  for (const dev of sorted) {
    if (dev.iommu_group === null || dev.iommu_group === undefined) {
      blocks.push({ group: null, devices: [dev] });
      continue;
    }
    let block = byGroup.get(dev.iommu_group);
    if (!block) {
      block = { group: dev.iommu_group, devices: [] };
      byGroup.set(dev.iommu_group, block);
      blocks.push(block);
    }
    block.devices.push(dev);
  }
  return blocks;
}

export function hostView(container, ctx, name) {
  const { heading, extra, body } = page(container, name, 'host-title');
  const filters = { cls: '', vendor: '', free: false };
  let tab = 'pci';
  let host = null;

  const stateBadge = h('span');
  heading.append(' ', stateBadge);
  const actions = h('div', { class: 'actions' });
  extra.append(actions);

  const pciTab = h('button', { type: 'button', role: 'tab', id: 'tab-pci', 'aria-controls': 'panel-pci' }, 'PCI devices');
  const infoTab = h('button', { type: 'button', role: 'tab', id: 'tab-info', 'aria-controls': 'panel-info' }, 'Details');
  const tabs = [pciTab, infoTab];
  const pciPanel = h('section', { role: 'tabpanel', id: 'panel-pci', 'aria-labelledby': 'tab-pci', tabindex: '0' });
  const infoPanel = h('section', { role: 'tabpanel', id: 'panel-info', 'aria-labelledby': 'tab-info', tabindex: '0' });
  const selectTab = (which, focus) => {
    tab = which;
    tabs.forEach((t) => {
      const on = (t === pciTab) === (which === 'pci');
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      if (on && focus)
        t.focus();
    });
    pciPanel.hidden = which !== 'pci';
    infoPanel.hidden = which === 'pci';
  };
  pciTab.addEventListener('click', () => selectTab('pci'));
  infoTab.addEventListener('click', () => selectTab('info'));
  const tablist = h('div', { role: 'tablist', class: 'tabs', 'aria-label': 'Host', onkeydown: (ev) => {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft' || ev.key === 'Home' || ev.key === 'End')
      ev.preventDefault();
    else
      return;
    selectTab(tab === 'pci' ? 'info' : 'pci', true);
  } }, tabs);
  selectTab('pci');

  const classSel = h('select', { id: 'filter-class', 'data-testid': 'filter-class' });
  const vendorSel = h('select', { id: 'filter-vendor', 'data-testid': 'filter-vendor' });
  const freeBox = h('input', { type: 'checkbox', id: 'filter-free', 'data-testid': 'filter-free' });
  const count = h('p', { class: 'count', 'data-testid': 'pci-count', 'aria-live': 'polite' });
  const tableHolder = h('div');
  const onFilter = () => {
    filters.cls = classSel.value;
    filters.vendor = vendorSel.value;
    filters.free = freeBox.checked;
    drawDevices();
  };
  classSel.addEventListener('change', onFilter);
  vendorSel.addEventListener('change', onFilter);
  freeBox.addEventListener('change', onFilter);
  pciPanel.append(h('div', { class: 'filters', role: 'group', 'aria-label': 'Filter the devices' },
    h('div', { class: 'field' }, h('label', { for: 'filter-class' }, 'Class'), classSel),
    h('div', { class: 'field' }, h('label', { for: 'filter-vendor' }, 'Vendor'), vendorSel),
    h('div', { class: 'field check' }, freeBox, h('label', { for: 'filter-free' }, 'Only free devices'))),
  count, tableHolder);
  replace(body, tablist, pciPanel, infoPanel);

  const fillSelect = (select, entries, current, allLabel) => {
    replace(select, h('option', { value: '' }, allLabel),
      entries.map(([value, label, n]) => h('option', { value, selected: value === current }, `${label} (${n})`)));
    if (current && !entries.some(([v]) => v === current))
      select.value = '';
  };

  function drawDevices() {
    const devices = host.pci_devices || [];
    const classes = new Map();
    const vendors = new Map();
    for (const d of devices) {
      const c = classes.get(d.class) || [d.class, `${d.class} ${d.class_name || ''}`.trim(), 0];
      c[2]++;
      classes.set(d.class, c);
      const v = vendors.get(d.vendor) || [d.vendor, `${d.vendor_name || d.vendor} (${d.vendor})`, 0];
      v[2]++;
      vendors.set(d.vendor, v);
    }
    fillSelect(classSel, [...classes.values()].sort((a, b) => a[0].localeCompare(b[0])), filters.cls, 'All classes');
    fillSelect(vendorSel, [...vendors.values()].sort((a, b) => a[1].localeCompare(b[1])), filters.vendor, 'All vendors');
    filters.cls = classSel.value;
    filters.vendor = vendorSel.value;

    const blockers = groupBlockers(devices);
    const blocks = groupDevices(devices);
    let shown = 0;
    let free = 0;
    let offered = 0;
    const tbodies = [];
    for (const block of blocks) {
      const rows = [];
      for (const dev of block.devices) {
        const st = deviceStatus(dev, blockers.get(dev.address) || null);
        if (st.cls === 'free')
          free++;
        if (st.cls !== 'blocked')
          offered++;
        if ((filters.cls && dev.class !== filters.cls) || (filters.vendor && dev.vendor !== filters.vendor) ||
            (filters.free && st.cls !== 'free'))
          continue;
        shown++;
        rows.push(h('tr', { class: `dev ${st.cls}`, 'data-testid': 'pci-row', 'data-address': dev.address,
          'data-vm': dev.vm ? String(dev.vm) : '' },
        h('td', { class: 'num', 'data-testid': 'pci-vm' }, dev.vm ?
          h('a', { href: `#/vms/${dev.vm}`, 'aria-label': `VM ${dev.vm}` }, String(dev.vm)) : dev.taken ? '*' : ''),
        h('th', { scope: 'row', class: 'mono' }, dev.short_address),
        h('td', { class: 'mono' }, dev.type),
        h('td', { class: 'wrap' }, text(dev.device_name), subline(dev.vendor_name, dev.class_name)),
        h('td', { class: 'num' }, text(dev.iommu_group)),
        h('td', { class: 'num' }, text(dev.numa_node)),
        h('td', null, text(dev.driver)),
        h('td', null, sriovText(dev)),
        h('td', { class: 'wrap', 'data-testid': 'pci-why' },
          h('span', { class: `pill ${st.cls}` }, st.label), st.why ? [' ', h('small', { class: 'sub' }, st.why)] : null)));
      }
      if (rows.length === 0)
        continue;
      if (block.group !== null && block.devices.length > 1) {
        const needed = block.devices.find((d) => d.host_needs && !d.allowed) ||
          block.devices.map((d) => blockers.get(d.address)).find(Boolean);
        rows.unshift(h('tr', { class: 'group-head' }, h('th', { scope: 'rowgroup', colspan: '9' },
          `IOMMU group ${block.group}: ${block.devices.length} devices, passed through together`,
          needed ? ` \u2014 not viable: ${needed.short_address} is needed by the host` : '')));
      }
      tbodies.push(h('tbody', { class: block.group !== null && block.devices.length > 1 ? 'group multi' : 'group',
        'data-testid': 'pci-group', 'data-group': block.group === null ? 'none' : String(block.group) }, rows));
    }
    replace(count, `${devices.length} devices: ${free} free, ${offered - free} in use, ` +
      `${devices.length - offered} not offered` + (shown !== devices.length ? `; ${shown} shown` : '') + '.');
    replace(tableHolder, devices.length === 0 ?
      h('p', { class: 'empty' }, host.state === 'init' ? 'Not probed yet.' : 'The last probe reported no PCI device.') :
      table(`PCI devices of ${host.name}`, [{ label: 'VM', cls: 'num' }, { label: 'ADDR' }, { label: 'TYPE' },
        { label: 'NAME' }, { label: 'IOMMU group', cls: 'num' }, { label: 'NUMA', cls: 'num' },
        { label: 'Driver' }, { label: 'SR-IOV' }, { label: 'Offered' }], tbodies,
      { 'data-testid': 'pci-table', class: 'pci' }));
  }

  function drawInfo() {
    const f = host.facts || {};
    replace(infoPanel, facts([
      ['State', badge(host.state)],
      ['Enabled', host.enabled ? 'yes' : 'no'],
      ['Error', text(host.error)],
      ['libvirt error', text(host.libvirt_error)],
      ['libvirt URI', text(host.libvirt_uri)],
      ['SSH', host.ssh ? `${host.ssh.user ? `${host.ssh.user}@` : ''}${host.ssh.host}${host.ssh.port ? `:${host.ssh.port}` : ''}` : '\u2014'],
      ['Reports', text(host.reports)],
      ['Probe command', h('code', null, (host.probe_command || []).join(' ') || 'the default')],
      ['Hostdev', host.prebound ? 'prebound (devices already on vfio-pci)' : 'managed (libvirt binds them)'],
      ['Context pool', text(host.context_pool)],
      ['Hostname', text(f.hostname)],
      ['CPUs', text(f.cpu_count)],
      ['Memory', f.memory_kib !== null && f.memory_kib !== undefined ? mib(Math.round(f.memory_kib / 1024)) : '\u2014'],
      ['Kernel', text(f.kernel_version)],
      ['Last probe', `${when(host.last_monitored)} (${ago(host.last_monitored)})`],
      ['PCI free / total', `${host.pci_free} / ${host.pci_total}`],
      ['Added', when(host.created)],
    ], 'host-facts'));
  }

  const reloadKeepingFocus = async () => {
    await load();
    keepFocus(actions, heading);
  };

  function drawActions() {
    if (!ctx.admin) {
      replace(actions);
      return;
    }
    const path = `/v1/hosts/${api.enc(host.name)}`;
    const toggle = host.enabled ?
      h('button', { type: 'button', 'data-testid': 'host-disable', onclick: (ev) =>
        act(ev.currentTarget, ctx, () => api.post(`${path}/disable`), `Host ${host.name} disabled.`).then(reloadKeepingFocus) },
      'Disable') :
      h('button', { type: 'button', 'data-testid': 'host-enable', onclick: (ev) =>
        act(ev.currentTarget, ctx, () => api.post(`${path}/enable`), `Host ${host.name} enabled.`).then(reloadKeepingFocus) },
      'Enable');
    const probe = h('button', { type: 'button', 'data-testid': 'host-probe', disabled: !host.enabled,
      onclick: (ev) => act(ev.currentTarget, ctx, () => api.post(`${path}/probe`),
        (r) => `Probed ${host.name}: ${r.devices} devices, ${r.added} added, ${r.removed} removed.`).then(reloadKeepingFocus) },
    'Probe now');
    redrawKeepingFocus(actions, heading, toggle, probe);
  }

  const load = loader(ctx, async (current) => {
    const got = await api.get(`/v1/hosts/${api.enc(name)}`);
    if (!current())
      return;
    host = got;
    ctx.setTitle(`Host ${host.name}`);
    replace(stateBadge, badge(host.state, 'host-state'));
    drawActions();
    drawDevices();
    drawInfo();
  });
  load();
  return {
    refresh: load,
    // Its own host's events only: a device of it taken or freed is one.
    concerns: (kind, data) => kind === 'host' && (host ? data.id === host.id : data.name === name),
    unmount: load.stop,
  };
}

// "Vendor · class" under a name, with what is known; nothing when neither.
export function subline(...parts) {
  const known = parts.filter((p) => p);
  return known.length ? h('small', { class: 'sub' }, known.join(' \u00b7 ')) : null;
}

function sriovText(dev) {
  if (!dev.sriov || dev.sriov === 'no')
    return '\u2014';
  if (dev.sriov === 'vf' || dev.physfn)
    return `VF${dev.vf_index !== null && dev.vf_index !== undefined ? ` ${dev.vf_index}` : ''} of ${dev.physfn ? dev.physfn.replace(/^0000:/, '') : '?'}`;
  return dev.sriov;
}
