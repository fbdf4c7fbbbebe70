// views/admin.js: users and their quotas (administrators), and the
// tokens of the logged-in user (an administrator sees everyone's).

import { h, replace, text, when, table } from '../dom.js';
import * as api from '../api.js';
import { page, act, loader } from './common.js';

export function usersView(container, ctx) {
  const { body } = page(container, 'Users', 'users-title');
  const name = h('input', { type: 'text', id: 'user-name', 'data-testid': 'user-name', maxlength: '64',
    required: true, autocomplete: 'off', pattern: '[A-Za-z0-9_][A-Za-z0-9._\\-]*' });
  const admin = h('input', { type: 'checkbox', id: 'user-admin', 'data-testid': 'user-admin' });
  const create = h('button', { type: 'submit', class: 'primary', 'data-testid': 'user-create' }, 'Add the user');
  const list = h('div');
  const form = h('form', { class: 'card inline-form', 'aria-label': 'Add a user', onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await act(create, ctx, () => api.post('/v1/users', { name: name.value.trim(), admin: admin.checked }),
      `User ${name.value.trim()} added.`);
    if (r) {
      name.value = '';
      admin.checked = false;
      load();
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'user-name' }, 'New user'), name),
  h('div', { class: 'field check' }, admin, h('label', { for: 'user-admin' }, 'Administrator')),
  h('div', { class: 'field end' }, create));
  replace(body, list, h('h2', null, 'Add a user'), form);

  const load = loader(ctx, async (current) => {
    const { users } = await api.get('/v1/users');
    if (!current())
      return;
    replace(list, table('Users', [{ label: 'ID', cls: 'num' }, { label: 'Name' }, { label: 'Role' },
      { label: 'Created' }, { label: 'Actions' }],
    h('tbody', null, users.map((u) => h('tr', { 'data-testid': 'user-row', 'data-user': u.name },
      h('td', { class: 'num' }, String(u.id)),
      h('th', { scope: 'row' }, h('a', { href: `#/users/${api.enc(u.name)}` }, u.name)),
      h('td', null, u.admin ? 'administrator' : 'user'), h('td', null, when(u.created)),
      h('td', { class: 'buttons' },
        h('a', { class: 'button', href: `#/users/${api.enc(u.name)}`, 'aria-label': `Quotas of ${u.name}` }, 'Quotas'),
        u.name === ctx.session.user ? null : h('button', { type: 'button', class: 'danger', 'data-testid': 'user-delete',
          'aria-label': `Delete user ${u.name}`, onclick: async (ev) => {
            if (!window.confirm(`Delete user ${u.name}, its tokens and done VMs?`))
              return;
            await act(ev.currentTarget, ctx, () => api.del(`/v1/users/${api.enc(u.name)}`), `User ${u.name} deleted.`);
            load();
          } }, 'Delete'))))), { 'data-testid': 'users-table' }));
  });
  load();
  return { refresh: load, concerns: () => false, unmount: load.stop };
}

const QUOTAS = [
  ['vms', 'VMs', 'quota-vms', '1'],
  ['cpu', 'CPU', 'quota-cpu', '0.01'],
  ['memory_mib', 'Memory (MiB)', 'quota-memory', '1'],
  ['pci', 'PCI devices', 'quota-pci', '1'],
  ['leases', 'Network leases', 'quota-leases', '1'],
];

export function userView(container, ctx, name) {
  const { body } = page(container, `User ${name}`, 'user-title');
  let usedCells = null; // once drawn, a reload only updates what is used
  const load = loader(ctx, async (current) => {
    const u = await api.get(`/v1/users/${api.enc(name)}`);
    if (!current())
      return;
    if (usedCells) {
      for (const [key] of QUOTAS)
        replace(usedCells[key], String((u.quota[key] || { used: 0 }).used));
      return;
    }
    usedCells = {};
    const inputs = {};
    const rows = QUOTAS.map(([key, label, testid, step]) => {
      const q = u.quota[key] || { used: 0, limit: null };
      const input = h('input', { type: 'number', min: '0', step, id: testid, 'data-testid': testid,
        value: q.limit === null ? '' : String(q.limit), placeholder: 'no limit', disabled: !ctx.admin });
      inputs[key] = input;
      usedCells[key] = h('td', { class: 'num' }, String(q.used));
      return h('tr', null, h('th', { scope: 'row' }, h('label', { for: testid }, label)),
        usedCells[key], h('td', null, input));
    });
    const classes = (u.quota.pci_classes || []).map((c) => h('li', null,
      `class ${c.class}: ${c.used} used, limit ${c.limit === null ? 'none' : c.limit}`));
    const save = h('button', { type: 'submit', class: 'primary', 'data-testid': 'quota-save' }, 'Save the quotas');
    replace(body, h('p', null, u.admin ? 'Administrator. ' : 'User. ', `Created ${when(u.created)}.`),
      h('form', { class: 'card', 'aria-label': `Quotas of ${u.name}`, onsubmit: async (ev) => {
        ev.preventDefault();
        const patch = {};
        for (const [key] of QUOTAS) {
          const v = inputs[key].value.trim();
          patch[key] = v === '' ? null : Number(v);
        }
        const r = await act(save, ctx, () => api.patch(`/v1/users/${api.enc(u.name)}/quota`, patch),
          `Quotas of ${u.name} saved.`);
        if (r) {
          usedCells = null;
          load();
        }
      } },
      h('h2', null, 'Quotas'),
      table(`Quotas of ${u.name}`, [{ label: 'What' }, { label: 'Used', cls: 'num' }, { label: 'Limit (empty: none)' }],
        h('tbody', null, rows), { 'data-testid': 'quota-table' }),
      classes.length ? h('ul', null, classes) : null,
      ctx.admin ? h('div', { class: 'actions' }, save) : null));
  });
  load();
  return { refresh: load, concerns: (kind) => kind === 'vm', unmount: load.stop };
}

export function tokensView(container, ctx) {
  const { body } = page(container, 'Tokens', 'tokens-title');
  const name = h('input', { type: 'text', id: 'token-name', 'data-testid': 'token-name', maxlength: '64',
    autocomplete: 'off' });
  const expires = h('select', { id: 'token-expires', 'data-testid': 'token-expires' },
    h('option', { value: '' }, 'Never'), h('option', { value: '3600' }, '1 hour'),
    h('option', { value: '86400' }, '1 day'), h('option', { value: String(30 * 86400) }, '30 days'),
    h('option', { value: String(365 * 86400) }, '365 days'));
  const create = h('button', { type: 'submit', class: 'primary', 'data-testid': 'token-create' }, 'Make a token');
  const secret = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const form = h('form', { class: 'card inline-form', 'aria-label': 'Make a token', onsubmit: async (ev) => {
    ev.preventDefault();
    const req = {};
    if (name.value.trim())
      req.name = name.value.trim();
    if (expires.value)
      req.expires_in = Number(expires.value);
    const r = await act(create, ctx, () => api.post('/v1/tokens', req), 'Token made: copy it now.');
    if (r) {
      const out = h('input', { type: 'text', readOnly: true, id: 'token-secret', class: 'mono wide',
        'data-testid': 'token-secret', value: r.token });
      replace(secret, h('div', { class: 'card secret' },
        h('label', { for: 'token-secret' }, 'Your new token, shown this once: keep it where only you can read it'),
        out));
      out.focus();
      out.select();
      name.value = '';
      load();
    }
  } },
  h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'Label'), name),
  h('div', { class: 'field' }, h('label', { for: 'token-expires' }, 'Expires'), expires),
  h('div', { class: 'field end' }, create));
  replace(body, secret, list, h('h2', null, 'Make a token'), form);

  const load = loader(ctx, async (current) => {
    const { tokens } = await api.get('/v1/tokens');
    if (!current())
      return;
    replace(list, tokens.length === 0 ? h('p', { class: 'empty' }, 'No token.') :
      table('Tokens', [{ label: 'ID', cls: 'num' }, { label: 'Label' }, { label: 'User' }, { label: 'Created' },
        { label: 'Last used' }, { label: 'Expires' }, { label: 'Actions' }],
      h('tbody', null, tokens.map((t) => h('tr', { 'data-testid': 'token-row', 'data-token-id': String(t.id) },
        h('td', { class: 'num' }, String(t.id)), h('th', { scope: 'row' }, text(t.name)), h('td', null, text(t.user)),
        h('td', null, when(t.created)), h('td', null, when(t.last_used)),
        h('td', null, t.expires ? `${when(t.expires)}${t.expired ? ' (expired)' : ''}` : 'never'),
        h('td', null, h('button', { type: 'button', class: 'danger', 'data-testid': 'token-delete',
          'aria-label': `Delete token ${t.id}${t.name ? ` ${t.name}` : ''}`, onclick: async (ev) => {
            if (!window.confirm('Delete this token? Whatever uses it is refused from then on.'))
              return;
            await act(ev.currentTarget, ctx, () => api.del(`/v1/tokens/${t.id}`), `Token ${t.id} deleted.`);
            load();
          } }, 'Delete'))))), { 'data-testid': 'tokens-table' }));
  });
  load();
  return { refresh: load, concerns: () => false, unmount: load.stop };
}
