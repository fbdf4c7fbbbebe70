// The login from the UI's side: a page asked for before logging in is the
// one shown after; an empty token is refused on the page; logout leaves
// nothing of the user's on screen; a session that ends sends the page to
// the login.

import { text } from './ui.mjs';

export const tests = [
  {
    name: 'the page asked for before the login is the one shown after it; logout returns to the login',
    run: async (t) => {
      const { assert } = t;
      const page = await t.newPage();
      await page.goto(`${t.env.PP_URL}/#/networks`);
      await page.getByTestId('login-token').waitFor();
      assert.match(page.url(), /#\/login$/);
      // Nothing typed: said on the page, no request made.
      await page.getByTestId('login-submit').click();
      await page.getByTestId('login-error').waitFor({ state: 'visible' });
      assert.match(await text(page.getByTestId('login-error')), /token/);
      await t.shot(page, 'login-empty');
      assert.equal(await t.login(page, t.env.PP_ALICE_TOKEN), 'alice');
      await page.waitForURL(/#\/networks$/);
      await page.getByTestId('networks-title').waitFor();
      assert.equal(await page.getByTestId('nav-networks').getAttribute('aria-current'), 'page');

      await page.getByTestId('logout').click();
      await page.getByTestId('login-token').waitFor();
      assert.equal(await page.getByTestId('whoami').count(), 0);
      assert.equal(await page.locator('header nav a').count(), 0, 'the navigation stays after logout');
      assert.equal(await page.getByTestId('networks-table').count(), 0);
      await t.shot(page, 'logged-out');
    },
  },
  {
    name: 'a session that ends (its token deleted) sends the page back to the login',
    run: async (t) => {
      const { assert } = t;
      const made = await t.api('POST', '/v1/tokens', { name: 'ui-short', user: 'alice' });
      assert.equal(made.status, 201, made.text);
      const page = await t.newPage();
      await t.login(page, made.json.token);
      await page.goto(`${t.env.PP_URL}/#/vms`);
      await page.getByTestId('vms-title').waitFor();
      assert.equal((await t.api('DELETE', `/v1/tokens/${made.json.id}`)).status, 200);
      // The next request of the page is refused: the login, saying why.
      await page.goto(`${t.env.PP_URL}/#/hosts`);
      await page.getByTestId('login-token').waitFor({ timeout: 20000 });
      assert.equal(await page.getByTestId('whoami').count(), 0);
      await t.shot(page, 'session-ended');
    },
  },
];
