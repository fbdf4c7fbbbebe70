// views/networks.js: networks, a network's ranges and leases (and who
// holds them), create and edit by template.

import { h, replace, text, when, table } from '../dom.js';
import * as api from '../api.js';
import { page, act, loader, facts, pager, rateLimit } from './common.js';

const TEMPLATE_MAX = 256 * 1024;

const EXAMPLE = `NAME = "lab"
VN_MAD = "802.1Q"
VLAN_ID = 100
NETWORK_ADDRESS = "10.0.0.0"
NETWORK_MASK = "255.255.255.0"
GATEWAY = "10.0.0.1"
DNS = "10.0.0.2"
AR = [ TYPE = "IP4", IP = "10.0.0.16", SIZE = 16 ]
`;

export function networksView(container, ctx) {
  const { extra, body } = page(container, 'Networks', 'networks-title');
  extra.append(h('a', { class: 'button primary', href: '#/networks/new', 'data-testid': 'network-new' }, 'New network'));
  const list = h('div');
  const pages = pager(() => load(), 'networks');
  replace(body, list, pages.el);
  const load = loader(ctx, async (current) => {
    const answer = await api.get(`/v1/networks${pages.query()}`);
    if (!current())
      return;
    const nets = answer.networks || [];
    pages.controls(answer.next);
    replace(list, nets.length === 0 ? h('p', { class: 'empty' }, 'No network you may use yet.') :
      table('Networks', [{ label: 'ID', cls: 'num' }, { label: 'Name' }, { label: 'Owner' }, { label: 'Shared' },
        { label: 'VN_MAD' }, { label: 'VLAN', cls: 'num' }, { label: 'Leases used / size', cls: 'num' },
        { label: 'Held', cls: 'num' }],
      h('tbody', null, nets.map((n) => h('tr', { 'data-testid': 'network-row', 'data-network': n.name },
        h('td', { class: 'num' }, String(n.id)),
        h('th', { scope: 'row' }, h('a', { href: `#/networks/${n.id}` }, n.name)),
        h('td', null, text(n.owner)), h('td', null, n.shared ? 'yes' : 'no'), h('td', null, text(n.vn_mad)),
        h('td', { class: 'num' }, text(n.vlan_id)), h('td', { class: 'num' }, `${n.used} / ${n.size}`),
        h('td', { class: 'num' }, String(n.held))))), { 'data-testid': 'networks-table' }));
  });
  load();
  return { refresh: load, concerns: (kind) => kind === 'network', unmount: load.stop };
}

function templateEditor(initial, shared, onSave, saveLabel) {
  const area = h('textarea', { id: 'network-template', 'data-testid': 'network-template', rows: '14',
    spellcheck: false, maxlength: String(TEMPLATE_MAX), autocapitalize: 'off' }, initial);
  area.value = initial;
  const sharedBox = h('input', { type: 'checkbox', id: 'network-shared', 'data-testid': 'network-shared',
    checked: shared });
  const error = h('p', { class: 'form-error', role: 'alert', 'data-testid': 'network-error', hidden: true });
  const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'network-save' }, saveLabel);
  const form = h('form', { class: 'card', onsubmit: async (ev) => {
    ev.preventDefault();
    save.disabled = true;
    error.hidden = true;
    try {
      await onSave(area.value, sharedBox.checked);
    } catch (e) {
      error.hidden = false;
      replace(error, e.message);
      if (e.line) {
        const lines = area.value.split('\n');
        let offset = 0;
        for (let i = 0; i < e.line - 1 && i < lines.length; i++)
          offset += lines[i].length + 1;
        offset += Math.max(0, (e.column || 1) - 1);
        area.focus();
        area.setSelectionRange(offset, Math.min(offset + 1, area.value.length));
      }
    } finally {
      save.disabled = false;
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'network-template' }, 'Template'), area,
    h('small', { class: 'hint' }, 'NAME, VN_MAD, AR = [ ... ] and the rest (pcipass(1), A NETWORK TEMPLATE). ' +
      'A network for PCI passthrough NICs: VN_MAD "dummy", or "802.1Q" with a VLAN_ID; PHYDEV may be blank.')),
  h('div', { class: 'field check' }, sharedBox, h('label', { for: 'network-shared' }, 'Shared: every user may attach NICs to it')),
  error, h('div', { class: 'actions' }, save));
  return form;
}

export function networkNewView(container, ctx) {
  const { body } = page(container, 'New network', 'network-title');
  replace(body, templateEditor(EXAMPLE, false, async (template, shared) => {
    const net = await api.post('/v1/networks', { template, shared });
    ctx.announce(`Network ${net.name} created.`);
    ctx.navigate(`#/networks/${net.id}`);
  }, 'Create'));
  return null;
}

export function networkView(container, ctx, id) {
  const { heading, extra, body } = page(container, `Network ${id}`, 'network-title');
  let net = null;
  let editing = false;
  const info = h('section');
  const ars = h('section', { 'aria-labelledby': 'net-ar-h' });
  const leases = h('section', { 'aria-labelledby': 'net-lease-h' });
  const edit = h('section', { 'aria-labelledby': 'net-edit-h' });
  replace(body, info, ars, leases, edit);
  const actions = h('div', { class: 'actions' });
  extra.append(actions);

  // Made once: a reload on an event must not wipe what is being typed.
  let holdEl = null;
  function holdForm() {
    if (holdEl)
      return holdEl;
    const address = h('input', { type: 'text', id: 'hold-address', 'data-testid': 'hold-address', maxlength: '64',
      autocomplete: 'off', placeholder: '10.0.0.20 or 02:00:00:00:00:05', class: 'mono' });
    const button = h('button', { type: 'submit', 'data-testid': 'hold-submit' }, 'Hold');
    holdEl = h('form', { class: 'inline-form', 'aria-label': 'Keep an address out of use', onsubmit: async (ev) => {
      ev.preventDefault();
      const value = address.value.trim();
      if (!value)
        return;
      const r = await act(button, ctx, () => api.post(`/v1/networks/${net.id}/hold`, { address: value }),
        `${value} held.`);
      if (r) {
        address.value = '';
        load();
      }
    } }, h('div', { class: 'field' }, h('label', { for: 'hold-address' }, 'Keep an address out of use'), address),
    h('div', { class: 'field end' }, button));
    return holdEl;
  }

  function draw() {
    const mine = ctx.admin || net.owner === ctx.session.user;
    ctx.setTitle(`Network ${net.name}`);
    replace(heading, `${net.name} `, h('small', { class: 'sub-id' }, `#${net.id}`));
    replace(info, facts([
      ['Owner', text(net.owner)], ['Shared', net.shared ? 'yes' : 'no'], ['VN_MAD', text(net.vn_mad)],
      ['Bridge', text(net.bridge)], ['PHYDEV', text(net.phydev)], ['VLAN', text(net.vlan_id)],
      ['MTU', text(net.mtu)], ['Network', text(net.network_address)], ['Gateway', text(net.gateway)],
      ['DNS', net.dns && net.dns.length ? net.dns.join(' ') : '\u2014'],
      ['Leases', `${net.used} used, ${net.held} held, of ${net.size}`], ['Updated', when(net.updated)],
    ], 'network-facts'));
    replace(ars, h('h2', { id: 'net-ar-h' }, 'Address ranges'),
      table('Address ranges', [{ label: 'AR', cls: 'num' }, { label: 'Type' }, { label: 'First IP' },
        { label: 'Last IP' }, { label: 'First MAC' }, { label: 'Last MAC' }, { label: 'IPv6' },
        { label: 'Used / size', cls: 'num' }],
      h('tbody', null, (net.ars || []).map((a) => h('tr', null,
        h('th', { scope: 'row', class: 'num' }, String(a.ar_id)), h('td', null, text(a.type)),
        h('td', { class: 'mono' }, text(a.ip)), h('td', { class: 'mono' }, text(a.ip_last)),
        h('td', { class: 'mono' }, text(a.mac)), h('td', { class: 'mono' }, text(a.mac_last)),
        h('td', { class: 'mono' }, [a.global_prefix, a.ula_prefix].filter(Boolean).join(' ') || '\u2014'),
        h('td', { class: 'num' }, `${a.used} / ${a.size}`)))), { 'data-testid': 'network-ars' }));
    replace(leases, h('h2', { id: 'net-lease-h' }, 'Leases'),
      !net.leases || net.leases.length === 0 ? h('p', { class: 'empty', 'data-testid': 'network-leases' }, 'No lease.') :
        table('Leases', [{ label: 'IP' }, { label: 'MAC' }, { label: 'IPv6' }, { label: 'AR', cls: 'num' },
          { label: 'Held by' }],
        h('tbody', null, net.leases.map((l) => h('tr', { 'data-testid': 'lease-row', 'data-vm': l.vm_id ? String(l.vm_id) : '' },
          h('th', { scope: 'row', class: 'mono' }, text(l.ip)), h('td', { class: 'mono' }, text(l.mac)),
          h('td', { class: 'mono' }, [l.ip6_global, l.ip6_ula].filter(Boolean).join(' ') || '\u2014'),
          h('td', { class: 'num' }, String(l.ar_id)),
          h('td', null, l.held ? ['held (kept out of use) ', mine ? h('button', { type: 'button', class: 'link',
            'data-testid': 'lease-release', 'aria-label': `Release ${l.ip || l.mac}`, onclick: (ev) =>
              act(ev.currentTarget, ctx, () => api.post(`/v1/networks/${net.id}/release`, { address: l.ip || l.mac }),
                `${l.ip || l.mac} released.`).then(load) }, 'Release') : null] : l.vm_id ?
            h('a', { href: `#/vms/${l.vm_id}` }, `VM ${l.vm_id}, NIC ${l.nic_id}`) : 'a VM of another user')))),
        { 'data-testid': 'network-leases' }),
      net.leases_truncated ? h('p', { class: 'hint' }, 'Only the first leases are shown.') : null,
      mine ? holdForm() : null);
    replace(actions, mine ? [
      h('button', { type: 'button', 'data-testid': 'network-edit', 'aria-expanded': String(editing),
        onclick: () => { editing = !editing; draw(); } }, editing ? 'Close the editor' : 'Edit'),
      h('button', { type: 'button', class: 'danger', 'data-testid': 'network-delete', onclick: async (ev) => {
        if (!window.confirm(`Delete network ${net.name}?`))
          return;
        const r = await act(ev.currentTarget, ctx, () => api.del(`/v1/networks/${net.id}`), `Network ${net.name} deleted.`);
        if (r)
          ctx.navigate('#/networks');
      } }, 'Delete')] : []);
    if (editing && !edit.querySelector('form'))
      replace(edit, h('h2', { id: 'net-edit-h' }, 'Edit the template'), templateEditor(net.template || '', net.shared,
        async (template, shared) => {
          await api.put(`/v1/networks/${net.id}`, { template, shared });
          ctx.announce(`Network ${net.name} saved.`);
          editing = false;
          load();
        }, 'Save'));
    else if (!editing)
      replace(edit);
  }

  const load = loader(ctx, async (current) => {
    const got = await api.get(`/v1/networks/${api.enc(id)}`);
    if (!current())
      return;
    net = got;
    draw();
  });
  const vmEvents = rateLimit(5000, () => load());
  load();
  return {
    refresh: load,
    // Its own network's events; a VM's may change its leases too: those
    // at most every 5 s (rateLimit).
    concerns: (kind, data) => {
      if (kind === 'network')
        return !net || data.id === net.id;
      return kind === 'vm' && vmEvents();
    },
    unmount: () => { load.stop(); vmEvents.cancel(); },
  };
}
