// What the UI's specs share (not a spec: run.mjs imports *.spec.mjs only).

import { execFile } from 'node:child_process';

// The hosts tests/test-web.c made, in order.
export function hostNames(t) {
  return (t.env.PP_HOSTS || 'node-a,node-b,node-c').split(',').filter(Boolean);
}

// A fresh page logged in with @token, at @hash (e.g. '/hosts').
export async function loggedIn(t, token, hash, options) {
  const page = await t.newPage(options);
  page.on('dialog', (dialog) => dialog.accept());
  await t.login(page, token);
  if (hash)
    await go(t, page, hash);
  return page;
}

export async function go(t, page, hash) {
  await page.goto(`${t.env.PP_URL}/#${hash}`);
  await page.locator('main h1').first().waitFor({ state: 'visible' });
}

// Marks the document: sameDocument() is true as long as it was not reloaded.
export async function mark(page) {
  await page.evaluate(() => { window.ppMark = 'kept'; });
}
export async function sameDocument(page) {
  return page.evaluate(() => window.ppMark === 'kept');
}

// The page follows the daemon's events (the header says "live").
export async function waitLive(t, page) {
  await t.waitFor(async () => (await page.getByTestId('live').textContent()) === 'live',
    'the header to say live (the event stream open)', 30000);
}

export async function text(locator) {
  return ((await locator.textContent()) || '').replace(/\s+/g, ' ').trim();
}

// POST as the admin and check it worked.
export async function adminPost(t, path) {
  const r = await t.api('POST', path);
  t.assert.ok(r.status >= 200 && r.status < 300, `POST ${path}: ${r.status} ${r.text}`);
  return r.json;
}

// Every host enabled again and monitored (other specs expect them so).
export async function enableAll(t) {
  for (const name of hostNames(t)) {
    const host = (await t.api('GET', `/v1/hosts/${name}`)).json;
    if (host && host.state === 'disabled')
      await adminPost(t, `/v1/hosts/${name}/enable`);
  }
  for (const name of hostNames(t)) {
    await t.waitFor(async () => (await t.api('GET', `/v1/hosts/${name}`)).json.state === 'monitored',
      `host ${name} monitored again`, 20000);
  }
}

// A VM's state as the admin sees it.
export async function vmState(t, id) {
  return (await t.api('GET', `/v1/vms/${id}`)).json.state;
}

// Terminates @id (as the admin) unless it is done already.
export async function terminate(t, id) {
  const state = await vmState(t, id);
  if (state !== 'done' && state !== 'terminating')
    await t.api('POST', `/v1/vms/${id}/terminate`);
  await t.waitFor(async () => (await vmState(t, id)) === 'done', `VM ${id} done`, 20000);
}

// `pcipass ARGS` (root over the daemon's socket, an admin): its stdout.
// As t.cli, but with no stdin at all: t.cli's end() of the stdin pipe can
// meet a CLI that has already exited and die of an unhandled EPIPE, which
// aborts the whole run.
export function cli(t, args) {
  return new Promise((resolve, reject) => {
    execFile(t.env.PP_CLI, args, {
      env: { ...process.env, PCIPASS_SOCKET: t.env.PCIPASS_SOCKET, PCIPASS_URL: '', PCIPASS_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60000,
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`pcipass ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else
        resolve(stdout);
    });
  });
}
