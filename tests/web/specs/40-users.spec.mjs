// Who sees what: a plain user sees neither the admin's pages and actions
// nor another user's VMs; the admin's users and quotas pages; a user's
// tokens, the secret shown once; a change without the CSRF token refused.

import { hostNames, loggedIn, go, text, terminate } from './ui.mjs';

export const tests = [
  {
    name: "a plain user sees neither the admin's pages and actions nor another user's VMs",
    run: async (t) => {
      const { assert } = t;
      const made = await t.api('POST', '/v1/vms', { template: 'NAME = "alices"\nCPU = 1\nMEMORY = 128\n' },
        t.env.PP_ALICE_TOKEN);
      assert.equal(made.status, 201, made.text);
      const id = made.json.id;
      try {
        const bob = await loggedIn(t, t.env.PP_BOB_TOKEN, '/vms');
        assert.equal(await bob.getByTestId('nav-users').count(), 0, 'bob has the Users link');
        await t.waitFor(async () => !/Loading/.test(await text(bob.locator('main'))), 'the VMs page');
        assert.equal(await bob.locator(`[data-testid=vm-row][data-vm-id="${id}"]`).count(), 0);
        await t.shot(bob, 'bob-vms');
        // Her VM by its address: the API's 404, said on the page.
        await go(t, bob, `/vms/${id}`);
        await t.waitFor(async () => /no VM/i.test(await text(bob.getByTestId('error'))), "the API's 404 on the page");
        await t.shot(bob, 'bob-alices-vm');
        await go(t, bob, '/users');
        await bob.getByTestId('not-allowed').waitFor();
        await t.shot(bob, 'bob-users');
        await go(t, bob, `/hosts/${hostNames(t)[0]}`);
        await bob.getByTestId('pci-table').waitFor();
        for (const action of ['host-enable', 'host-disable', 'host-probe'])
          assert.equal(await bob.getByTestId(action).count(), 0, `bob sees ${action}`);
        // The API refuses what the page hides.
        assert.equal((await t.api('GET', '/v1/users', null, t.env.PP_BOB_TOKEN)).status, 403);

        const alice = await loggedIn(t, t.env.PP_ALICE_TOKEN, '/vms');
        await alice.locator(`[data-testid=vm-row][data-vm-id="${id}"]`).waitFor();
        const admin = await loggedIn(t, t.env.PP_ADMIN_TOKEN, '/vms');
        const row = admin.locator(`[data-testid=vm-row][data-vm-id="${id}"]`);
        await row.waitFor();
        assert.ok((await text(row)).includes('alice'), 'the admin sees the owner');
        assert.equal(await admin.getByTestId('nav-users').count(), 1);
        await t.shot(admin, 'admin-vms');
      } finally {
        await terminate(t, id);
      }
    },
  },
  {
    name: 'the admin adds a user, sets a quota and deletes the user from the pages',
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_ADMIN_TOKEN, '/users');
      await page.getByTestId('users-table').waitFor();
      await page.getByTestId('user-name').fill('ui-carol');
      await page.getByTestId('user-create').click();
      const row = page.locator('[data-testid=user-row][data-user="ui-carol"]');
      await row.waitFor();
      assert.equal((await t.api('GET', '/v1/users/ui-carol')).status, 200);
      // A name the API refuses: its message on the page, nothing made.
      await page.getByTestId('user-name').fill('ui-carol');
      await page.getByTestId('user-create').click();
      await page.getByTestId('error').waitFor();
      assert.equal(await page.locator('[data-testid=user-row][data-user="ui-carol"]').count(), 1);
      await t.shot(page, 'users');

      await row.getByRole('link', { name: 'ui-carol', exact: true }).click();
      await page.getByTestId('quota-vms').waitFor();
      await page.getByTestId('quota-vms').fill('2');
      await page.getByTestId('quota-pci').fill('1');
      await page.getByTestId('quota-save').click();
      await t.waitFor(async () => (await t.api('GET', '/v1/users/ui-carol')).json.quota.vms.limit === 2, 'the quota saved');
      assert.equal((await t.api('GET', '/v1/users/ui-carol')).json.quota.pci.limit, 1);
      assert.equal((await t.api('GET', '/v1/users/ui-carol')).json.quota.cpu.limit, null);
      await t.shot(page, 'user-quota');
      await page.getByTestId('quota-pci').fill('');
      await page.getByTestId('quota-save').click();
      await t.waitFor(async () => (await t.api('GET', '/v1/users/ui-carol')).json.quota.pci.limit === null, 'no PCI limit');

      await go(t, page, '/users');
      await page.locator('[data-testid=user-row][data-user="ui-carol"]').getByTestId('user-delete').click();
      await t.waitFor(async () => (await page.locator('[data-testid=user-row][data-user="ui-carol"]').count()) === 0,
        'the row gone');
      assert.equal((await t.api('GET', '/v1/users/ui-carol')).status, 404);
    },
  },
  {
    name: 'a user makes a token (the secret shown once, and it works) and deletes it',
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, '/tokens');
      await page.getByTestId('tokens-table').waitFor();
      const before = await page.getByTestId('token-row').count();
      await page.getByTestId('token-name').fill('ui-made');
      await page.getByTestId('token-create').click();
      const secretField = page.getByTestId('token-secret');
      await secretField.waitFor();
      const secret = await secretField.inputValue();
      assert.match(secret, /^pp_[0-9a-f]+$/);
      await t.waitFor(async () => (await page.getByTestId('token-row').count()) === before + 1, 'the new row');
      await t.shot(page, 'tokens');
      const who = await t.api('GET', '/v1/whoami', null, secret);
      assert.equal(who.status, 200);
      assert.equal(who.json.name || who.json.user, 'alice');
      // Listed without its secret.
      assert.ok(!(await text(page.getByTestId('tokens-table'))).includes(secret));

      const row = page.getByTestId('token-row').filter({ hasText: 'ui-made' });
      await row.getByTestId('token-delete').click();
      await t.waitFor(async () => (await page.getByTestId('token-row').count()) === before, 'the row gone');
      assert.equal((await t.api('GET', '/v1/whoami', null, secret)).status, 401);
    },
  },
  {
    name: "a VM's terminate from the page without X-CSRF-Token is refused and the VM goes on",
    run: async (t) => {
      const { assert } = t;
      const made = await t.api('POST', '/v1/vms', { template: 'NAME = "csrf"\nCPU = 1\nMEMORY = 128\n' },
        t.env.PP_ALICE_TOKEN);
      assert.equal(made.status, 201, made.text);
      const id = made.json.id;
      try {
        const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, `/vms/${id}`);
        await page.getByTestId('vm-state').waitFor();
        const before = (await t.api('GET', `/v1/vms/${id}`)).json;
        const refused = await page.evaluate(async (vm) => {
          const res = await fetch(`/v1/vms/${vm}/terminate`, { method: 'POST' });
          return { status: res.status, body: await res.text() };
        }, id);
        assert.equal(refused.status, 403);
        assert.match(refused.body, /X-CSRF-Token/);
        const after = (await t.api('GET', `/v1/vms/${id}`)).json;
        assert.equal(after.state, before.state);
        assert.equal(after.history.length, before.history.length);
        // The page's own button sends it: terminated.
        await page.getByTestId('vm-terminate').click();
        await t.waitFor(async () => /done|terminating/.test(await text(page.getByTestId('vm-state'))), 'terminated');
      } finally {
        await terminate(t, id);
      }
    },
  },
  {
    name: "what a user wrote is shown as text, never as HTML",
    run: async (t) => {
      const { assert } = t;
      const evil = '<img src=x onerror="window.ppXss=1"><b>bold</b>';
      const template = `# ${evil}\nNAME = "xss"\nCPU = 1\nMEMORY = 128\n`;
      const made = await t.api('POST', '/v1/vms', { template }, t.env.PP_ALICE_TOKEN);
      assert.equal(made.status, 201, made.text);
      const id = made.json.id;
      try {
        const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, `/vms/${id}`);
        await page.getByTestId('vm-state').waitFor();
        await page.getByText('Template', { exact: true }).click();
        const pre = page.getByTestId('vm-template');
        await pre.waitFor();
        assert.ok((await pre.textContent()).includes(evil), 'the template as written');
        assert.equal(await page.locator('main img, main b').count(), 0, 'an element made from the data');
        assert.equal(await page.evaluate(() => window.ppXss), undefined);
        // In the editor too: the template checked as you type.
        await go(t, page, '/vms/new');
        await page.getByTestId('vm-template').fill(`NAME = "${evil}"\nCPU = 1\nMEMORY = 64\n`);
        await t.waitFor(async () => (await page.getByTestId('template-check').getAttribute('data-state')) === 'error' ||
          /valid/.test(await text(page.getByTestId('template-check'))), 'the check');
        assert.equal(await page.locator('main img, main b').count(), 0);
        assert.equal(await page.evaluate(() => window.ppXss), undefined);
      } finally {
        await terminate(t, id);
      }
    },
  },
];
