// Every page, as the admin, at a wall screen's, a laptop's and a phone's
// width: a screenshot of each; nothing wider than the screen but inside
// the tables' own scrolling boxes; landmarks, labelled controls, column
// headers with a scope; and the keyboard reaches the navigation.

import { hostNames, loggedIn, go, terminate } from './ui.mjs';

// What a page must hold to be usable by keyboard and screen reader;
// returns the problems found.
function audit() {
  const problems = [];
  if (!document.querySelector('header nav[aria-label]'))
    problems.push('no labelled nav in the header');
  if (!document.querySelector('main'))
    problems.push('no main');
  if (!document.querySelector('[aria-live]'))
    problems.push('no aria-live region');
  const visible = (el) => el.getClientRects().length > 0;
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (!visible(el) || el.type === 'hidden')
      continue;
    const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
      (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) || el.closest('label');
    if (!labelled)
      problems.push(`an unlabelled ${el.tagName.toLowerCase()} (${el.dataset.testid || el.id || el.name})`);
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (visible(el) && !(el.textContent.trim() || el.getAttribute('aria-label')))
      problems.push(`a ${el.tagName.toLowerCase()} without a name`);
  }
  for (const th of document.querySelectorAll('main th')) {
    if (!th.getAttribute('scope'))
      problems.push(`a th without scope: ${th.textContent.trim().slice(0, 30)}`);
  }
  // Wider than the screen only inside a table's scrolling box.
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > width + 1)
    problems.push(`the page is ${document.documentElement.scrollWidth}px wide on a ${width}px screen`);
  if (document.querySelector('[style]'))
    problems.push('an element with a style attribute (CSP forbids them)');
  return problems;
}

async function pages(t) {
  const vm = await t.api('POST', '/v1/vms', { template: 'NAME = "shown"\nCPU = 1\nMEMORY = 128\n' +
    'PCI = [ CLASS = "0200" ]\n' }, t.env.PP_ALICE_TOKEN);
  t.assert.equal(vm.status, 201, vm.text);
  const net = (await t.api('GET', '/v1/networks')).json.networks[0];
  const list = ['/hosts', `/hosts/${hostNames(t)[0]}`, '/vms', `/vms/${vm.json.id}`, '/vms/new', '/networks',
    '/networks/new', '/users', '/users/alice', '/tokens'];
  if (net)
    list.push(`/networks/${net.id}`);
  return { list, vm: vm.json.id };
}

// @only: the pages to take (a prefix of each hash), or all of them.
function sizeTest(width, height, only) {
  return {
    name: `${only ? 'the hosts and the create form' : 'every page'} at ${width}px: a screenshot, no overflow, ` +
      'landmarks and labels',
    timeout: 120000,
    run: async (t) => {
      const { assert } = t;
      const { list, vm } = await pages(t);
      try {
        const page = await loggedIn(t, t.env.PP_ADMIN_TOKEN, null, { viewport: { width, height } });
        for (const hash of list.filter((x) => !only || only.some((o) => x.startsWith(o)))) {
          await go(t, page, hash);
          await t.waitFor(async () => (await page.locator('main .loading').count()) === 0 &&
            !(await page.locator('main').textContent()).includes('Loading'), `${hash} loaded`);
          await page.waitForTimeout(300);
          assert.equal(await page.getByTestId('error').count(), 0,
            `${hash}: ${await page.getByTestId('error').allTextContents()}`);
          const problems = await page.evaluate(audit);
          assert.deepEqual(problems, [], `${hash} at ${width}px`);
          await t.shot(page, `${width}-${hash.slice(1).replace(/\//g, '-') || 'root'}`);
        }
      } finally {
        await terminate(t, vm);
      }
    },
  };
}

export const tests = [
  sizeTest(1920, 1080, ['/hosts', '/vms/new']), // a wall screen: the widest pages
  sizeTest(1280, 800),
  sizeTest(390, 844),
  {
    name: 'the keyboard reaches the navigation and moves the focus to the new page',
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, '/hosts');
      // Tab from the top: the skip button, the brand, then the first link.
      await page.keyboard.press('Tab');
      let guard = 0;
      while (await page.evaluate(() => document.activeElement?.dataset.testid) !== 'nav-vms' && guard++ < 10)
        await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'nav-vms');
      // A visible focus ring.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert.notEqual(outline, 'none');
      await page.keyboard.press('Enter');
      await page.waitForURL(/#\/vms$/);
      await t.waitFor(async () => page.evaluate(() => document.activeElement?.tagName === 'H1'),
        "the focus on the new page's heading");
      assert.equal(await page.getByTestId('nav-vms').getAttribute('aria-current'), 'page');
    },
  },
];
