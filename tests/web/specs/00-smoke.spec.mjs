// The page, the login and the session from the browser's side, with no UI
// beyond the fixed selectors (login-token, login-submit, login-error,
// whoami, logout): the assets' security headers, a refused login, the
// session cookie, logout, CSRF, and the event stream's hello.

// The policy every asset carries (web-14.md): no inline script or style,
// nothing from elsewhere.
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// An API error's message: {"error": {"code", "message"}} (or a bare string).
function errorMessage(json) {
  const error = json?.error;
  return typeof error === 'string' ? error : error?.message;
}

async function sessionCookies(page) {
  return (await page.context().cookies()).filter((c) => c.name === 'pp_session');
}

// @method @path from the page itself (its cookie goes along), with
// @headers; returns {status, json}.
function pageFetch(page, method, path, headers = {}, body = undefined) {
  return page.evaluate(
    async ({ method, path, headers, body }) => {
      const res = await fetch(path, {
        method,
        headers: body === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
      return { status: res.status, json };
    },
    { method, path, headers, body },
  );
}

// GET @path over HTTP with only "Cookie: pp_session=@value", not through
// the browser: what a stolen or old cookie is worth.
async function withCookie(t, path, value) {
  const res = await fetch(`${t.env.PP_URL}${path}`, {
    headers: { Cookie: `pp_session=${value}` },
    signal: AbortSignal.timeout(10000),
  });
  await res.arrayBuffer();
  return res.status;
}

// The names of @token's user's tokens.
async function tokenNames(t, token) {
  const { status, json } = await t.api('GET', '/v1/tokens', null, token);
  t.assert.equal(status, 200);
  return json.tokens.map((row) => row.name);
}

export const tests = [
  {
    name: 'the page and its assets are served with the security headers',
    run: async (t) => {
      const { assert } = t;
      const page = await t.newPage();
      const assets = [];
      page.on('response', (res) => {
        if (!new URL(res.url()).pathname.startsWith('/v1/')) assets.push(res);
      });
      const res = await page.goto(`${t.env.PP_URL}/`);
      assert.equal(res.status(), 200);
      const token = page.getByTestId('login-token');
      await token.waitFor({ state: 'visible' });
      assert.equal(await token.getAttribute('type'), 'password');
      await t.shot(page, 'login');

      // The page and every script or style it loaded: each the same policy.
      assert.ok(assets.length >= 2, `the page loaded ${assets.length} assets, not its scripts too`);
      for (const asset of assets) {
        const where = new URL(asset.url()).pathname;
        const h = await asset.allHeaders();
        assert.equal(asset.status(), 200, `${where}: status`);
        assert.equal(h['content-security-policy'], CSP, `${where}: Content-Security-Policy`);
        assert.equal(h['x-content-type-options'], 'nosniff', `${where}: X-Content-Type-Options`);
        assert.equal(h['referrer-policy'], 'no-referrer', `${where}: Referrer-Policy`);
        // Never a stale copy of another pcipassd's UI: no-cache revalidates,
        // no-store keeps none.
        assert.match(h['cache-control'] || '', /^no-(cache|store)$/, `${where}: Cache-Control`);
        const type = h['content-type'] || '';
        if (where === '/' || where.endsWith('.html')) assert.match(type, /^text\/html/, `${where}: type`);
        if (/\.m?js$/.test(where)) assert.match(type, /^(text|application)\/javascript/, `${where}: type`);
        if (where.endsWith('.css')) assert.match(type, /^text\/css/, `${where}: type`);
      }

      // An unknown path: 404, no authentication asked.
      const missing = await t.api('GET', '/no-such-file.js', null, null);
      assert.equal(missing.status, 404);
    },
  },
  {
    name: "a bad token shows the API's message on the login page and sets no cookie",
    run: async (t) => {
      const { assert } = t;
      const bad = `pp_${'0'.repeat(64)}`;
      // What the API says to it, to find on the page.
      const said = await t.api('POST', '/v1/session', { token: bad }, null);
      assert.equal(said.status, 401);
      const message = errorMessage(said.json);
      assert.ok(message, `no message in ${said.text}`);

      const page = await t.newPage();
      await page.goto(`${t.env.PP_URL}/`);
      await page.getByTestId('login-token').fill(bad);
      await page.getByTestId('login-submit').click();
      const error = page.getByTestId('login-error');
      await error.waitFor({ state: 'visible' });
      await t.waitFor(async () => (await error.textContent()).includes(message), `login-error to say "${message}"`);
      await t.shot(page, 'login-refused');

      assert.deepEqual(await sessionCookies(page), []);
      assert.equal(await page.getByTestId('whoami').count(), 0);
      assert.ok(await page.getByTestId('login-token').isVisible(), 'the login form is gone');
      const session = await pageFetch(page, 'GET', '/v1/session');
      assert.equal(session.status, 401);
    },
  },
  {
    name: 'alice logs in: the header names her, the cookie is HttpOnly and SameSite=Strict',
    run: async (t) => {
      const { assert } = t;
      const page = await t.newPage();
      assert.equal(await t.login(page, t.env.PP_ALICE_TOKEN), 'alice');
      assert.ok(await page.getByTestId('logout').isVisible(), 'no logout button');
      await t.shot(page, 'alice');

      const cookies = await sessionCookies(page);
      assert.equal(cookies.length, 1);
      const [cookie] = cookies;
      assert.match(cookie.value, /^[0-9a-f]{64}$/);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      // Plain HTTP here; Secure under TLS is test-tls's.
      assert.equal(cookie.secure, false);
      // HttpOnly: the page's scripts never see it.
      assert.ok(!(await page.evaluate(() => document.cookie)).includes('pp_session'));

      const session = await pageFetch(page, 'GET', '/v1/session');
      assert.equal(session.status, 200);
      assert.equal(session.json.user, 'alice');
      assert.equal(session.json.admin, false);

      // A reload keeps the session.
      await page.reload();
      await page.getByTestId('whoami').waitFor({ state: 'visible' });
      assert.equal((await page.getByTestId('whoami').textContent()).trim(), 'alice');

      // The admin's page names the admin.
      const admin = await t.newPage();
      assert.equal(await t.login(admin, t.env.PP_ADMIN_TOKEN), t.env.PP_ADMIN_USER || 'admin');
    },
  },
  {
    name: 'logout returns to the login page and the old cookie no longer works',
    run: async (t) => {
      const { assert } = t;
      const page = await t.newPage();
      await t.login(page, t.env.PP_ALICE_TOKEN);
      const [cookie] = await sessionCookies(page);
      assert.ok(cookie, 'no pp_session cookie after login');
      // Outside the browser the cookie works as well, until the logout.
      assert.equal(await withCookie(t, '/v1/whoami', cookie.value), 200);

      await page.getByTestId('logout').click();
      await page.getByTestId('login-token').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('whoami').count(), 0);
      await t.shot(page, 'logged-out');
      // The browser dropped it (an empty or expired cookie is none).
      const left = (await sessionCookies(page)).filter((c) => c.value !== '');
      assert.deepEqual(left, []);

      assert.equal(await withCookie(t, '/v1/whoami', cookie.value), 401);
      assert.equal(await withCookie(t, '/v1/session', cookie.value), 401);
      assert.equal(await withCookie(t, '/v1/vms', cookie.value), 401);
      // A reload stays logged out.
      await page.reload();
      await page.getByTestId('login-token').waitFor({ state: 'visible' });
      assert.equal(await page.getByTestId('whoami').count(), 0);
    },
  },
  {
    name: 'a change with the session cookie but without X-CSRF-Token is refused and changes nothing',
    run: async (t) => {
      const { assert } = t;
      const alice = t.env.PP_ALICE_TOKEN;
      const page = await t.newPage();
      await t.login(page, alice);
      const before = await tokenNames(t, alice);
      const body = { name: 'csrf-probe' };

      const missing = await pageFetch(page, 'POST', '/v1/tokens', {}, body);
      assert.equal(missing.status, 403);
      assert.match(errorMessage(missing.json), /X-CSRF-Token.*missing/);
      const wrong = await pageFetch(page, 'POST', '/v1/tokens', { 'X-CSRF-Token': 'f'.repeat(64) }, body);
      assert.equal(wrong.status, 403);
      assert.match(errorMessage(wrong.json), /X-CSRF-Token.*wrong/);
      // Logging out is a change too: refused, the session goes on.
      const logout = await pageFetch(page, 'DELETE', '/v1/session');
      assert.equal(logout.status, 403);
      assert.deepEqual(await tokenNames(t, alice), before);
      assert.equal((await pageFetch(page, 'GET', '/v1/whoami')).status, 200);

      // With the session's CSRF token the same request goes through: the
      // refusals above were for the header alone.
      const { json: session } = await pageFetch(page, 'GET', '/v1/session');
      const made = await pageFetch(page, 'POST', '/v1/tokens', { 'X-CSRF-Token': session.csrf }, body);
      assert.equal(made.status, 201);
      assert.deepEqual((await tokenNames(t, alice)).sort(), [...before, 'csrf-probe'].sort());
      const gone = await pageFetch(page, 'DELETE', `/v1/tokens/${made.json.id}`, { 'X-CSRF-Token': session.csrf });
      assert.equal(gone.status, 200);
      assert.deepEqual(await tokenNames(t, alice), before);
    },
  },
  {
    name: 'GET /v1/events streams hello first, to the page and to a bearer token; 401 to nobody',
    run: async (t) => {
      const { assert } = t;
      const nobody = await fetch(`${t.env.PP_URL}/v1/events`, { signal: AbortSignal.timeout(10000) });
      await nobody.arrayBuffer();
      assert.equal(nobody.status, 401);

      // The page's EventSource, with the session cookie.
      const page = await t.newPage();
      await t.login(page, t.env.PP_ALICE_TOKEN);
      const hello = await page.evaluate(
        () =>
          new Promise((resolve, reject) => {
            const source = new EventSource('/v1/events');
            const timer = setTimeout(() => {
              source.close();
              reject(new Error('no hello event within 10 s'));
            }, 10000);
            source.addEventListener('hello', (event) => {
              clearTimeout(timer);
              source.close();
              resolve({ data: event.data, id: event.lastEventId });
            });
            source.addEventListener('error', () => {
              // CLOSED: refused for good (a status other than 200, or not
              // text/event-stream); CONNECTING is a retry.
              if (source.readyState === EventSource.CLOSED) {
                clearTimeout(timer);
                reject(new Error('the event stream was refused (not 200 text/event-stream)'));
              }
            });
          }),
      );
      assert.deepEqual(JSON.parse(hello.data), { user: 'alice', admin: false });
      assert.match(hello.id, /^\d+$/);

      // A script with the admin's token: the stream's first event.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 10000);
      try {
        const res = await fetch(`${t.env.PP_URL}/v1/events`, {
          headers: { Authorization: `Bearer ${t.env.PP_ADMIN_TOKEN}` },
          signal: abort.signal,
        });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type'), /^text\/event-stream/);
        const decoder = new TextDecoder();
        let text = '';
        for await (const chunk of res.body) {
          text += decoder.decode(chunk, { stream: true });
          assert.ok(text.length < 65536, 'no complete event in the first 64 KiB');
          if (/\n\n/.test(text.replace(/^(:[^\n]*\n)+/, ''))) break;
        }
        // The first event, past any comment lines.
        const event = text.replace(/^(:[^\n]*\n)+/, '').split('\n\n')[0];
        const fields = {};
        for (const line of event.split('\n')) {
          const at = line.indexOf(':');
          if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).replace(/^ /, '');
        }
        assert.equal(fields.event, 'hello', `the first event: ${event}`);
        assert.match(fields.id, /^\d+$/);
        assert.deepEqual(JSON.parse(fields.data), { user: t.env.PP_ADMIN_USER || 'admin', admin: true });
      } finally {
        clearTimeout(timer);
        abort.abort();
      }
    },
  },
];
