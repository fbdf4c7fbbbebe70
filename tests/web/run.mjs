// pcipass's web UI end to end: a tiny runner over playwright-core (no
// @playwright/test). tests/test-web.c starts a real pcipassd and runs this
// with the PP_* environment below; by hand, the same variables and
// `node tests/web/run.mjs`.
//
// Launches Debian's chromium once (headless, a fresh profile), imports
// every specs/*.spec.mjs in name order and runs their tests one after the
// other. A spec exports
//
//   export const tests = [ { name: 'what it shows', run: async (t) => {...} }, ... ];
//
// and may give a test `timeout` (ms, default 60 s) or `allowPageErrors`
// (true: an uncaught exception or a CSP violation in its pages does not
// fail it). `t` gives:
//   t.browser                 the Browser
//   t.newPage(options)        a fresh context (no cookies) and its page;
//                             options go to browser.newContext()
//   t.env                     PP_URL, PP_ADMIN_TOKEN, PP_ALICE_TOKEN, ...
//   t.login(page, token)      fills the login form, waits until logged in;
//                             returns the name the header shows
//   t.api(method, path, body, token)
//                             fetch PP_URL+path with Bearer @token
//                             (undefined: the admin's; null: none); returns
//                             {status, json, text, headers}
//   t.cli(args, {input})      execFile PP_CLI (root over PCIPASS_SOCKET);
//                             returns stdout, throws with stderr on failure
//   t.shot(page, step)        screenshot to PP_OUT/<spec>-<step>.png
//   t.waitFor(fn, what, ms)   polls fn until it returns a truthy value
//   assert                    node:assert/strict
//
// Prints "ok N - spec: name" or "not ok N - spec: name" and the error per
// test, then "N passed, M failed"; exits 1 on any failure. A failed test
// leaves a screenshot of each of its pages, PP_OUT/<spec>-FAILED-N.png.
// PP_WEB_ONLY=TEXT runs only the tests whose "spec: name" contains TEXT.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The whole run, and one test unless it says otherwise: hang guards.
const RUN_TIMEOUT_MS = 5 * 60 * 1000;
const TEST_TIMEOUT_MS = 60 * 1000;
// A single Playwright action or wait (click, fill, waitForSelector).
const ACTION_TIMEOUT_MS = 15 * 1000;
const API_TIMEOUT_MS = 30 * 1000;
const CLI_TIMEOUT_MS = 60 * 1000;
// What one CLI run may print, and one API answer may be.
const MAX_OUTPUT = 16 * 1024 * 1024;
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ENV_NAMES = [
  'PP_URL',
  'PP_ADMIN_TOKEN',
  'PP_ALICE_TOKEN',
  'PP_BOB_TOKEN',
  'PCIPASS_SOCKET',
  'PP_CLI',
  'PP_OUT',
  'PP_CHROMIUM',
];
// Set by tests/test-web.c, not required by hand.
const OPTIONAL_ENV_NAMES = ['PP_HOSTS', 'PP_ADMIN_USER', 'PP_NETWORK'];

function say(line) {
  process.stdout.write(`${line}\n`);
}

// Lines of @text as TAP comments.
function comment(text) {
  for (const line of String(text).split('\n')) say(`# ${line}`);
}

function readEnv() {
  const missing = ENV_NAMES.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    process.stderr.write(
      `run.mjs: ${missing.join(', ')} not set: tests/test-web.c sets them ` +
        `(meson test -C build web), or set them by hand (tests/web/run.mjs's header says what each is)\n`,
    );
    process.exit(2);
  }
  const env = {};
  for (const name of [...ENV_NAMES, ...OPTIONAL_ENV_NAMES]) {
    if (process.env[name]) env[name] = process.env[name];
  }
  env.PP_URL = env.PP_URL.replace(/\/+$/, '');
  return Object.freeze(env);
}

// A file name part from free text: letters, digits, '-'.
function slug(text) {
  return (
    String(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'x'
  );
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Rejects after @ms with @message; clear() stops it.
function deadline(ms, message) {
  let timer;
  const promise = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, clear: () => clearTimeout(timer) };
}

async function loadSpecs(dir) {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.spec.mjs')).sort();
  const specs = [];
  for (const file of names) {
    const name = file.slice(0, -'.spec.mjs'.length);
    const mod = await import(pathToFileURL(path.join(dir, file)).href);
    if (!Array.isArray(mod.tests)) {
      throw new Error(`${path.join(dir, file)} exports no array 'tests' (export const tests = [...])`);
    }
    mod.tests.forEach((test, i) => {
      if (typeof test?.name !== 'string' || typeof test?.run !== 'function') {
        throw new Error(`${path.join(dir, file)}: tests[${i}] needs a string 'name' and a function 'run'`);
      }
    });
    specs.push({ name, tests: mod.tests });
  }
  return specs;
}

// The context given to one test: @spec its spec's name; what it opens is
// recorded in @state so the runner closes it and shoots it on failure.
function makeT(browser, env, spec, state) {
  async function newPage(options = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    state.contexts.push(context);
    context.on('page', (page) => watchPage(page, state));
    const page = await context.newPage();
    return page;
  }

  async function login(page, token) {
    assert.ok(token, 't.login: no token given');
    if (!page.url().startsWith(`${env.PP_URL}/`)) await page.goto(`${env.PP_URL}/`);
    const field = page.getByTestId('login-token');
    await field.waitFor({ state: 'visible' });
    await field.fill(token);
    await page.getByTestId('login-submit').click();
    const whoami = page.getByTestId('whoami');
    // Logged in once the header names the user; a login-error says why not.
    const error = page.getByTestId('login-error');
    await Promise.race([
      whoami.waitFor({ state: 'visible' }),
      error.waitFor({ state: 'visible' }).then(async () => {
        throw new Error(`t.login: the login page says: ${await error.textContent()}`);
      }),
    ]);
    return waitFor(async () => ((await whoami.textContent()) || '').trim(), 'the header to name the user');
  }

  async function api(method, apiPath, body, token) {
    const headers = {};
    const bearer = token === undefined ? env.PP_ADMIN_TOKEN : token;
    if (bearer !== null) headers.Authorization = `Bearer ${bearer}`;
    let payload;
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(`${env.PP_URL}${apiPath}`, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(API_TIMEOUT_MS),
    });
    const text = await res.text();
    assert.ok(text.length <= MAX_OUTPUT, `${method} ${apiPath}: an answer of ${text.length} bytes`);
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  function cli(args, { input } = {}) {
    assert.ok(Array.isArray(args), 't.cli: args must be an array of strings');
    return new Promise((resolve, reject) => {
      const child = execFile(
        env.PP_CLI,
        args,
        {
          env: { ...process.env, PCIPASS_SOCKET: env.PCIPASS_SOCKET, PCIPASS_URL: '', PCIPASS_TOKEN: '' },
          timeout: CLI_TIMEOUT_MS,
          maxBuffer: MAX_OUTPUT,
        },
        (error, stdout, stderr) => {
          if (error) {
            const how = error.killed ? `killed (${error.signal})` : `exit status ${error.code}`;
            reject(new Error(`pcipass ${args.join(' ')}: ${how}: ${stderr.trim() || stdout.trim()}`));
            return;
          }
          resolve(stdout);
        },
      );
      // pcipass may exit before it reads its stdin (most commands do not
      // read it): the write's EPIPE is no failure; its exit status says.
      child.stdin.on('error', () => {});
      child.stdin.end(input ?? '');
    });
  }

  async function shot(page, step) {
    const file = path.join(env.PP_OUT, `${spec}-${slug(step)}.png`);
    await page.screenshot({ path: file, fullPage: true });
    state.shots.push(file);
    return file;
  }

  async function waitFor(fn, what, timeoutMs = 10000) {
    const end = Date.now() + timeoutMs;
    let last;
    for (;;) {
      try {
        const value = await fn();
        if (value) return value;
        last = undefined;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) {
        throw new Error(
          `waited ${timeoutMs} ms for ${what}` + (last ? `; the last try failed: ${last.message}` : ''),
        );
      }
      await sleep(100);
    }
  }

  return { browser, newPage, env, login, api, cli, shot, waitFor, assert, spec };
}

// Records what goes wrong in a page: uncaught exceptions and CSP violations
// fail the test; console errors (a 401 is one) are printed if it fails.
function watchPage(page, state) {
  page.on('pageerror', (error) => {
    state.pageErrors.push(`uncaught in ${page.url()}: ${error.stack || error.message}`);
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (/Content Security Policy/i.test(text)) {
      state.pageErrors.push(`CSP violation in ${page.url()}: ${text}`);
    } else {
      state.console.push(`console error in ${page.url()}: ${text}`);
    }
  });
}

async function runTest(browser, env, spec, test, number) {
  const state = { contexts: [], shots: [], pageErrors: [], console: [] };
  const t = makeT(browser, env, spec.name, state);
  const timeout = test.timeout ?? TEST_TIMEOUT_MS;
  const bound = deadline(timeout, `the test took more than ${timeout / 1000} s (its 'timeout')`);
  let failure = null;
  try {
    await Promise.race([test.run(t), bound.promise]);
    if (state.pageErrors.length > 0 && !test.allowPageErrors) {
      failure = new Error(`the page reported errors:\n${state.pageErrors.join('\n')}`);
    }
  } catch (e) {
    failure = e;
  } finally {
    bound.clear();
  }
  if (failure) {
    let i = 0;
    for (const context of state.contexts) {
      for (const page of context.pages()) {
        i++;
        const file = path.join(env.PP_OUT, `${spec.name}-FAILED-${number}${i > 1 ? `-${i}` : ''}.png`);
        try {
          await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
          state.shots.push(file);
        } catch (e) {
          state.console.push(`no screenshot of ${page.url()}: ${e.message}`);
        }
      }
    }
  }
  await Promise.all(state.contexts.map((c) => c.close().catch(() => {})));
  const title = `${spec.name}: ${test.name}`;
  say(`${failure ? 'not ok' : 'ok'} ${number} - ${title}`);
  if (failure) {
    comment(failure.stack || String(failure));
    for (const line of state.console) comment(line);
  }
  for (const file of state.shots) comment(`screenshot: ${file}`);
  return !failure;
}

async function main() {
  const env = readEnv();
  await mkdir(env.PP_OUT, { recursive: true });
  const only = process.env.PP_WEB_ONLY || '';
  const specs = await loadSpecs(path.join(HERE, 'specs'));
  const planned = [];
  for (const spec of specs) {
    for (const test of spec.tests) {
      if (`${spec.name}: ${test.name}`.includes(only)) planned.push({ spec, test });
    }
  }
  if (planned.length === 0) {
    say(`not ok 1 - no test to run (specs in ${path.join(HERE, 'specs')}${only ? `, PP_WEB_ONLY=${only}` : ''})`);
    say('0 passed, 1 failed');
    return 1;
  }

  // A fresh profile in a temporary folder, removed at close: launch()
  // makes one itself (a --user-data-dir of ours it would refuse).
  browser = await chromium.launch({
    executablePath: env.PP_CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60000,
  });
  comment(`chromium ${browser.version()} (${env.PP_CHROMIUM}) against ${env.PP_URL}`);
  say(`1..${planned.length}`);
  let passed = 0;
  let failed = 0;
  try {
    for (const [i, { spec, test }] of planned.entries()) {
      if (await runTest(browser, env, spec, test, i + 1)) passed++;
      else failed++;
    }
  } finally {
    await browser.close().catch(() => {});
  }
  say(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

// The whole run's bound: a hang anywhere ends it with a failure, and
// chromium with it (playwright-core also kills it when node exits).
let browser = null;
const whole = setTimeout(() => {
  say(`not ok - the whole run took more than ${RUN_TIMEOUT_MS / 1000} s: stopped`);
  setTimeout(() => process.exit(1), 5000);
  Promise.resolve(browser?.close()).finally(() => process.exit(1));
}, RUN_TIMEOUT_MS);

main().then(
  (code) => {
    clearTimeout(whole);
    process.exitCode = code;
  },
  (error) => {
    clearTimeout(whole);
    say(`not ok - run.mjs: ${error.stack || error}`);
    process.exitCode = 1;
  },
);
