// views/create.js: create a VM: a form that writes the template, and the
// template itself, checked as you type by the dry run (POST /v1/vms/place)
// with the API's line and column, and where the VM would go.

import { h, replace, text, table, debounce } from '../dom.js';
import * as api from '../api.js';
import { page, rateLimit, PAGE_SIZE } from './common.js';
import { subline, groupBlockers } from './hosts.js';

const TEMPLATE_MAX = 256 * 1024;
const CHECK_MS = 400;

// A template string: quoted, its backslashes and quotes escaped.
function q(value) {
  return `"${String(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// Whether a device of @host can be given now: not taken or gone, not
// needed by the host or set aside, its IOMMU group free of a device the
// host needs (groupBlockers), on a monitored (enabled) host.
function freeNow(host, dev, blockers) {
  return host.state === 'monitored' && !dev.taken && !dev.gone && !(dev.host_needs && !dev.allowed) &&
    !dev.set_aside && !blockers.has(dev.address);
}

// The device types across the hosts (GET /v1/pci/types: the placer's own
// counts, one row a type, whatever the number of hosts).
async function loadTypes() {
  const { types } = await api.get('/v1/pci/types');
  return (types || []).map((t) => ({ key: t.type, vendor: t.vendor, device: t.device, cls: t.class,
    vendorName: t.vendor_name, deviceName: t.device_name, className: t.class_name, total: t.total,
    free: t.free, hosts: t.hosts }))
    .sort((a, b) => b.free - a.free || a.cls.localeCompare(b.cls) || a.key.localeCompare(b.key));
}

// The free devices of one host, for "by address".
async function hostAddresses(name) {
  const host = await api.get(`/v1/hosts/${api.enc(name)}`);
  const devices = host.pci_devices || [];
  const blockers = groupBlockers(devices);
  return { host, addresses: devices.filter((d) => freeNow(host, d, blockers)).map((d) =>
    ({ short: d.short_address, type: d.type, name: d.device_name })) };
}

export function createView(container, ctx) {
  const { body } = page(container, 'Create a VM', 'create-title');
  let types = [];
  let addrHost = null; // {host, addresses} of the host chosen for "by address"
  let networks = [];
  const items = []; // PCI and NIC entries, in the template's order
  let alive = true;
  let checkSeq = 0;

  // --- the form -----------------------------------------------------------
  const name = h('input', { type: 'text', id: 'vm-name', 'data-testid': 'vm-name', value: 'vm',
    maxlength: '64', pattern: '[A-Za-z0-9_][A-Za-z0-9._\\-]*', required: true, autocomplete: 'off' });
  const cpu = h('input', { type: 'number', id: 'vm-cpu', 'data-testid': 'vm-cpu', value: '1', min: '0.1',
    step: '0.1', max: '1024', required: true });
  const memory = h('input', { type: 'number', id: 'vm-memory', 'data-testid': 'vm-memory', value: '1024',
    min: '16', step: '1', max: '16777216', required: true });

  const search = h('input', { type: 'search', id: 'pci-search', 'data-testid': 'pci-search',
    placeholder: 'vendor, device, class\u2026', autocomplete: 'off' });
  const onlyFree = h('input', { type: 'checkbox', id: 'pci-free', 'data-testid': 'pci-free' });
  const hostList = h('datalist', { id: 'pci-hosts' });
  const hostInput = h('input', { type: 'text', id: 'pci-host', 'data-testid': 'pci-host', list: 'pci-hosts',
    autocomplete: 'off', maxlength: '64', placeholder: 'a host\u2019s name' });
  const picker = h('div', { class: 'picker' });
  const addrSel = h('select', { id: 'pci-address', 'data-testid': 'pci-address' });
  const addrBtn = h('button', { type: 'button', 'data-testid': 'pci-add-address',
    onclick: () => {
      if (!addrSel.value)
        return;
      items.push({ kind: 'pci', by: 'address', short: addrSel.value,
        label: addrSel.selectedOptions[0] ? addrSel.selectedOptions[0].textContent : addrSel.value });
      changed(`Added the device at ${addrSel.value}.`);
    } }, 'Add by address');
  const chosen = h('ol', { class: 'chosen', 'data-testid': 'pci-chosen', 'aria-label': 'PCI devices and NICs, in order' });

  const netSel = h('select', { id: 'nic-network', 'data-testid': 'nic-network' });
  const nicPci = h('input', { type: 'checkbox', id: 'nic-pci', 'data-testid': 'nic-pci' });
  const nicDev = h('select', { id: 'nic-device', 'data-testid': 'nic-device' });
  const nicDevField = h('div', { class: 'field', hidden: true }, h('label', { for: 'nic-device' }, 'PCI NIC'), nicDev);
  nicPci.addEventListener('change', () => { nicDevField.hidden = !nicPci.checked; });
  const nicAdd = h('button', { type: 'button', 'data-testid': 'nic-add', onclick: () => {
    const net = networks.find((n) => String(n.id) === netSel.value);
    if (!net) {
      ctx.announce('Choose a network first.');
      netSel.focus();
      return;
    }
    if (nicPci.checked) {
      const [by, value] = nicDev.value.split('=');
      items.push({ kind: 'pcinic', network: net, by, value });
      changed(`Added a PCI passthrough NIC on ${net.name}.`);
    } else {
      items.push({ kind: 'nic', network: net });
      changed(`Added a NIC on ${net.name}.`);
    }
  } }, 'Add the NIC');

  // --- the template -------------------------------------------------------
  const template = h('textarea', { id: 'vm-template', 'data-testid': 'vm-template', rows: '14',
    spellcheck: false, maxlength: String(TEMPLATE_MAX), 'aria-describedby': 'template-check',
    autocapitalize: 'off', autocomplete: 'off' });
  const check = h('div', { id: 'template-check', class: 'check', 'data-testid': 'template-check',
    'aria-live': 'polite' });
  const place = h('div', { class: 'place', 'data-testid': 'place-result', 'aria-live': 'polite' });
  const dryRun = h('button', { type: 'button', 'data-testid': 'dry-run', onclick: () => runCheck(true) },
    'Where would it go?');
  const create = h('button', { type: 'submit', class: 'primary', 'data-testid': 'vm-create' }, 'Create');

  function itemTemplate(item) {
    if (item.kind === 'pci') {
      if (item.by === 'type') {
        const [vendor, device] = item.key.split(':');
        return `PCI = [ VENDOR = ${q(vendor)}, DEVICE = ${q(device)} ]`;
      }
      if (item.by === 'class')
        return `PCI = [ CLASS = ${q(item.cls)} ]`;
      return `PCI = [ SHORT_ADDRESS = ${q(item.short)} ]`;
    }
    const net = item.network;
    const uname = net.owner && net.owner !== ctx.session.user ? `, NETWORK_UNAME = ${q(net.owner)}` : '';
    if (item.kind === 'nic')
      return `NIC = [ NETWORK = ${q(net.name)}${uname} ]`;
    let match = '';
    if (item.by === 'type') {
      const [vendor, device] = item.value.split(':');
      match = `, VENDOR = ${q(vendor)}, DEVICE = ${q(device)}`;
    } else if (item.by === 'class') {
      match = `, CLASS = ${q(item.value)}`;
    }
    return `PCI = [ TYPE = "NIC", NETWORK = ${q(net.name)}${uname}${match} ]`;
  }

  function itemLabel(item) {
    if (item.kind === 'pci') {
      if (item.by === 'type')
        return `PCI ${item.key}: ${item.label}`;
      if (item.by === 'class')
        return `PCI of class ${item.cls}: ${item.label}`;
      return `PCI at ${item.label}`;
    }
    if (item.kind === 'nic')
      return `NIC on ${item.network.name}`;
    return `PCI passthrough NIC on ${item.network.name} (${item.by === 'type' ? item.value : `class ${item.value}`})`;
  }

  function formTemplate() {
    const lines = [`NAME = ${q(name.value.trim() || 'vm')}`, `CPU = ${cpu.value || '1'}`,
      `MEMORY = ${memory.value || '1024'}`];
    for (const item of items)
      lines.push(itemTemplate(item));
    return `${lines.join('\n')}\n`;
  }

  function drawChosen() {
    replace(chosen, items.length === 0 ? h('li', { class: 'empty' }, 'No PCI device or NIC yet.') :
      items.map((item, i) => h('li', { 'data-testid': 'chosen-item', 'data-kind': item.kind },
        h('span', null, itemLabel(item)), ' ',
        h('button', { type: 'button', class: 'link', 'data-testid': 'pci-remove',
          'aria-label': `Remove ${itemLabel(item)}`, onclick: () => {
            items.splice(i, 1);
            changed('Removed.');
          } }, 'Remove'))));
  }

  // The form changed: write the template from it and check it.
  // The answer shown is of an older template until the check comes back.
  function stale() {
    check.dataset.state = 'checking';
    place.classList.add('stale');
  }

  function changed(message) {
    drawChosen();
    template.value = formTemplate();
    stale();
    if (message)
      ctx.announce(message);
    checkSoon();
  }

  function drawPicker() {
    const words = search.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const rows = types.filter((t) => (!onlyFree.checked || t.free > 0) && words.every((w) =>
      `${t.key} ${t.vendorName || ''} ${t.deviceName || ''} ${t.className || ''}`.toLowerCase().includes(w)));
    replace(picker, rows.length === 0 ?
      h('p', { class: 'empty' }, types.length === 0 ? 'No host has reported a PCI device yet.' :
        'No device type matches.') :
      table('Device types on the hosts', [{ label: 'VENDOR:DEVICE, name' }, { label: 'Free now', cls: 'num' },
        { label: 'Add' }, { label: 'Class' }],
      h('tbody', null, rows.map((t) => h('tr', { 'data-testid': 'pci-type', 'data-type': t.key, 'data-free': String(t.free) },
        // The name with the ids: on a phone the row's first cell is what shows.
        h('th', { scope: 'row', class: 'wrap name' }, h('span', { class: 'mono' }, `${t.vendor}:${t.device}`), ' ',
          text(t.deviceName), subline(t.vendorName, `${t.hosts} host${t.hosts === 1 ? '' : 's'} with one free`)),
        h('td', { class: 'num' }, h('strong', null, String(t.free)), h('small', null, ` / ${t.total}`)),
        h('td', null, h('div', { class: 'buttons' },
          h('button', { type: 'button', 'data-testid': 'pci-add-type',
            'aria-label': `Add ${t.vendor}:${t.device} ${t.deviceName || ''} by vendor and device`,
            onclick: () => {
              items.push({ kind: 'pci', by: 'type', key: `${t.vendor}:${t.device}`, label: t.deviceName || t.key });
              changed(`Added ${t.vendor}:${t.device} ${t.deviceName || ''}.`);
            } }, 'Add'),
          h('button', { type: 'button', 'data-testid': 'pci-add-class',
            'aria-label': `Add any device of class ${t.cls} ${t.className || ''}`,
            onclick: () => {
              items.push({ kind: 'pci', by: 'class', cls: t.cls, label: t.className || t.cls });
              changed(`Added a device of class ${t.cls}.`);
            } }, 'By class'))),
        h('td', null, h('span', { class: 'mono' }, t.cls), ' ', h('small', null, text(t.className)))))),
      { 'data-testid': 'pci-picker' }));

    // The PCI NIC's device: any Ethernet controller, or a network type.
    const keepNic = nicDev.value;
    const nicTypes = types.filter((t) => t.cls.startsWith('02'));
    replace(nicDev, h('option', { value: 'class=0200' }, 'Any Ethernet controller (CLASS 0200)'),
      nicTypes.map((t) => h('option', { value: `type=${t.vendor}:${t.device}`,
        selected: `type=${t.vendor}:${t.device}` === keepNic },
      `${t.vendor}:${t.device} ${t.deviceName || ''} (${t.free} free)`)));
  }

  // "By address": the free devices of the one host named.
  function drawAddresses() {
    const keep = addrSel.value;
    const list = addrHost ? addrHost.addresses : [];
    replace(addrSel, list.length === 0 ?
      h('option', { value: '' }, addrHost ? `No free device on ${addrHost.host.name}` : 'Name a host first') :
      list.map((a) => h('option', { value: a.short, selected: a.short === keep }, `${a.short} ${a.name || a.type}`)));
    addrBtn.disabled = list.length === 0;
  }

  async function loadAddresses() {
    const name = hostInput.value.trim();
    if (!name) {
      addrHost = null;
      drawAddresses();
      return;
    }
    try {
      addrHost = await hostAddresses(name);
      ctx.error(null);
    } catch (e) {
      addrHost = null;
      ctx.error(e);
    }
    if (alive)
      drawAddresses();
  }
  hostInput.addEventListener('change', loadAddresses);
  hostInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      loadAddresses();
    }
  });

  function drawNetworks() {
    const keep = netSel.value;
    replace(netSel, networks.length === 0 ? h('option', { value: '' }, 'No network: create one first') :
      networks.map((n) => h('option', { value: String(n.id), selected: String(n.id) === keep },
        `${n.name}${n.owner !== ctx.session.user ? ` (${n.owner})` : ''} \u2014 ${n.vn_mad}` +
        `${n.vlan_id !== null && n.vlan_id !== undefined ? `, VLAN ${n.vlan_id}` : ''}, ${n.size - n.used} free`)));
    nicAdd.disabled = networks.length === 0;
  }

  // --- the check ------------------------------------------------------------
  function showError(e) {
    const goto = e.line ? h('button', { type: 'button', class: 'link', 'data-testid': 'template-goto',
      onclick: () => gotoPosition(e.line, e.column || 1) }, `Go to line ${e.line}, column ${e.column || 1}`) : null;
    replace(check, h('p', { class: 'bad', role: 'alert' }, h('strong', null, 'Error: '), e.message), goto);
    check.dataset.state = 'error';
    template.setAttribute('aria-invalid', 'true');
    place.classList.remove('stale');
    replace(place);
  }

  function gotoPosition(line, column) {
    const lines = template.value.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++)
      offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    template.focus();
    template.setSelectionRange(offset, Math.min(offset + 1, template.value.length));
  }

  function showPlace(r) {
    place.classList.remove('stale');
    replace(check, h('p', { class: 'good' }, 'The template is valid.'));
    check.dataset.state = 'ok';
    template.removeAttribute('aria-invalid');
    if (r.fits) {
      place.dataset.fits = 'yes';
      replace(place, h('h3', null, 'Where it would go now'),
        h('p', null, 'On host ', h('a', { href: `#/hosts/${api.enc(r.host.name)}`, 'data-testid': 'place-host' }, r.host.name),
          r.numa_node !== null && r.numa_node !== undefined ? `, NUMA node ${r.numa_node}` : '',
          r.devices && r.devices.length ? ', with:' : ' (no PCI device).'),
        r.devices && r.devices.length ? h('ul', null, r.devices.map((d) =>
          h('li', null, h('span', { class: 'mono' }, d.short_address), ` ${d.type} ${d.name || ''}`))) : null);
    } else {
      place.dataset.fits = 'no';
      replace(place, h('h3', null, 'Nowhere now: it would wait (pending)'),
        h('ul', null, (r.explanation || []).map((e) => h('li', null, h('strong', null, text(e.host)), ': ', text(e.reason)))));
    }
  }

  async function runCheck(now) {
    const mine = ++checkSeq;
    const text = template.value;
    if (text.trim() === '') {
      replace(check, 'Write a template, or fill in the form.');
      replace(place);
      return;
    }
    if (now)
      replace(place, 'Asking\u2026');
    try {
      const r = await api.post('/v1/vms/place', { template: text });
      if (alive && mine === checkSeq)
        showPlace(r);
    } catch (e) {
      if (alive && mine === checkSeq)
        showError(e);
    }
  }
  const checkSoon = debounce(() => runCheck(false), CHECK_MS);
  template.addEventListener('input', () => {
    stale();
    checkSoon();
  });
  for (const input of [name, cpu, memory])
    input.addEventListener('input', () => changed());
  search.addEventListener('input', drawPicker);
  onlyFree.addEventListener('change', drawPicker);

  const form = h('form', { class: 'create', 'aria-label': 'Create a VM', onsubmit: async (ev) => {
    ev.preventDefault();
    // Only the Create button creates: Enter in a field (the name, the
    // search, a host's name) is not a request for a VM.
    if (ev.submitter !== create)
      return;
    create.disabled = true;
    try {
      const vm = await api.post('/v1/vms', { template: template.value });
      ctx.error(null);
      ctx.announce(`VM ${vm.id} '${vm.name}' created: ${vm.state}.`);
      ctx.navigate(`#/vms/${vm.id}`);
    } catch (e) {
      showError(e);
      ctx.error(e);
    } finally {
      create.disabled = false;
    }
  } },
  h('div', { class: 'create-grid' },
    h('div', { class: 'create-form' },
      h('fieldset', null, h('legend', null, 'The VM'),
        h('div', { class: 'row3' },
          h('div', { class: 'field' }, h('label', { for: 'vm-name' }, 'Name'), name),
          h('div', { class: 'field' }, h('label', { for: 'vm-cpu' }, 'CPU'), cpu),
          h('div', { class: 'field' }, h('label', { for: 'vm-memory' }, 'Memory (MiB)'), memory))),
      h('fieldset', null, h('legend', null, 'PCI devices'),
        h('div', { class: 'filters' },
          h('div', { class: 'field grow' }, h('label', { for: 'pci-search' }, 'Find a device type'), search),
          h('div', { class: 'field check' }, onlyFree, h('label', { for: 'pci-free' }, 'Only types free now'))),
        picker,
        h('div', { class: 'filters' },
          h('div', { class: 'field' }, h('label', { for: 'pci-host' }, 'By address: the host'), hostInput, hostList),
          h('div', { class: 'field grow' }, h('label', { for: 'pci-address' }, 'Its free device'), addrSel),
          h('div', { class: 'field end' }, addrBtn))),
      h('fieldset', null, h('legend', null, 'NICs'),
        h('div', { class: 'filters' },
          h('div', { class: 'field grow' }, h('label', { for: 'nic-network' }, 'Network'), netSel),
          h('div', { class: 'field check' }, nicPci, h('label', { for: 'nic-pci' }, 'PCI passthrough'))),
        nicDevField,
        h('div', { class: 'actions' }, nicAdd)),
      h('fieldset', null, h('legend', null, 'In the template, in this order'), chosen)),
    h('div', { class: 'create-template' },
      h('div', { class: 'field' }, h('label', { for: 'vm-template' }, 'Template'), template,
        h('small', { class: 'hint' }, 'Checked as you type. Changing the form above writes it again.')),
      check,
      h('div', { class: 'actions' }, dryRun, create),
      place)));
  replace(body, form);
  changed();

  let loading = false;
  // What to read: the types always (their counts follow hosts and VMs);
  // one page of networks at first and on a network event; one page of
  // hosts, to suggest names for "by address", at first only. Never all.
  const load = async (what = { networks: true, hosts: true }) => {
    if (loading)
      return;
    loading = true;
    try {
      const [got, nets, hosts] = await Promise.all([loadTypes(),
        what.networks ? api.get(`/v1/networks?limit=${PAGE_SIZE}`) : null,
        what.hosts ? api.get(`/v1/hosts?limit=${PAGE_SIZE}`) : null]);
      if (!alive)
        return;
      types = got;
      if (nets)
        networks = nets.networks || [];
      if (hosts)
        replace(hostList, (hosts.hosts || []).map((x) => h('option', { value: x.name })));
      drawPicker();
      drawNetworks();
    } catch (e) {
      if (alive)
        ctx.error(e);
    } finally {
      loading = false;
    }
  };
  // The dry run again on events, at most every 5 s: it asks the placer.
  const recheck = rateLimit(5000, () => runCheck(false));
  let networkChanged = false;
  load();
  drawAddresses();
  return {
    refresh: () => {
      load({ networks: networkChanged, hosts: false });
      networkChanged = false;
      if (recheck())
        runCheck(false);
    },
    concerns: (kind, data) => {
      if (kind === 'host' && addrHost && data.id === addrHost.host.id)
        loadAddresses();
      if (kind === 'network' || kind === 'resync')
        networkChanged = true;
      return kind === 'host' || kind === 'network' || kind === 'vm';
    },
    unmount: () => { alive = false; checkSoon.cancel(); recheck.cancel(); },
  };
}
