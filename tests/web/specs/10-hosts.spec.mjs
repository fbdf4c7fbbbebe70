// Hosts: the list, and each host's PCI tab against `pcipass host show`:
// the same devices, the guide's columns, grouped by IOMMU group, filters,
// and the admin's actions.

import { hostNames, loggedIn, go, text, mark, sameDocument, enableAll } from './ui.mjs';

export const tests = [
  {
    name: 'the hosts list shows every host, its state and PCI free / total',
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_ADMIN_TOKEN, '/hosts');
      const { json } = await t.api('GET', '/v1/hosts');
      await page.getByTestId('hosts-table').waitFor();
      assert.equal(await page.getByTestId('host-row').count(), json.hosts.length);
      for (const host of json.hosts) {
        const row = page.locator(`[data-testid=host-row][data-host="${host.name}"]`);
        const shown = await text(row);
        assert.ok(shown.includes(host.state), `${host.name}: state ${host.state} in "${shown}"`);
        assert.ok(shown.includes(`${host.pci_free} / ${host.pci_total}`), `${host.name}: PCI in "${shown}"`);
      }
      await t.shot(page, 'hosts');
      await page.locator('[data-testid=host-row] a').first().click();
      await page.getByTestId('pci-table').waitFor();
      assert.match(page.url(), /#\/hosts\/[^/]+$/);
    },
  },
  {
    name: "each host's PCI tab shows the rows of pcipass host show, group by group",
    timeout: 90000,
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_ADMIN_TOKEN);
      for (const name of hostNames(t)) {
        const shown = JSON.parse(await t.cli(['host', 'show', name, '--json']));
        const devices = shown.pci_devices;
        await go(t, page, `/hosts/${name}`);
        await t.waitFor(async () => (await text(page.getByTestId('host-title'))) === `${name} ${shown.state}`,
          `the title to name ${name} and its state`);
        const rows = page.getByTestId('pci-row');
        await t.waitFor(async () => (await rows.count()) === devices.length,
          `${devices.length} rows on ${name}'s PCI tab`);
        const cells = await rows.evaluateAll((trs) => trs.map((tr) => ({
          address: tr.dataset.address,
          vm: tr.dataset.vm,
          cells: [...tr.children].map((c) => c.textContent.trim()),
          group: tr.closest('tbody').dataset.group,
        })));
        const byAddress = new Map(cells.map((c) => [c.address, c]));
        assert.equal(byAddress.size, devices.length, `${name}: an address twice`);
        for (const dev of devices) {
          const row = byAddress.get(dev.address);
          assert.ok(row, `${name}: no row for ${dev.address}`);
          // The guide's VM, ADDR, TYPE, NAME, then IOMMU group, NUMA, driver.
          assert.equal(row.vm, dev.vm === null ? '' : String(dev.vm), `${dev.address}: VM`);
          assert.equal(row.cells[1], dev.short_address, `${dev.address}: ADDR`);
          assert.equal(row.cells[2], dev.type, `${dev.address}: TYPE`);
          if (dev.device_name)
            assert.ok(row.cells[3].startsWith(dev.device_name), `${dev.address}: NAME "${row.cells[3]}"`);
          assert.equal(row.cells[4], dev.iommu_group === null ? '\u2014' : String(dev.iommu_group), `${dev.address}: group`);
          assert.equal(row.cells[5], dev.numa_node === null ? '\u2014' : String(dev.numa_node), `${dev.address}: NUMA`);
          assert.equal(row.cells[6], dev.driver || '\u2014', `${dev.address}: driver`);
          // Why not offered: the host's own words.
          if (dev.host_needs && !dev.allowed)
            assert.ok(row.cells[8].includes(dev.host_needs), `${dev.address}: "${row.cells[8]}" says why`);
          assert.equal(row.group, dev.iommu_group === null ? 'none' : String(dev.iommu_group));
        }
        // One group's rows are together: each group in one tbody.
        const groups = cells.map((c) => c.group).filter((g) => g !== 'none');
        for (const g of new Set(groups)) {
          const bodies = await page.locator(`[data-testid=pci-group][data-group="${g}"]`).count();
          assert.equal(bodies, 1, `${name}: IOMMU group ${g} drawn in ${bodies} places`);
        }
        await t.shot(page, `pci-${name}`);
      }
    },
  },
  {
    name: 'the class and vendor filters keep the matching devices only',
    run: async (t) => {
      const { assert } = t;
      const name = hostNames(t)[0];
      const devices = JSON.parse(await t.cli(['host', 'show', name, '--json'])).pci_devices;
      const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, `/hosts/${name}`);
      const rows = page.getByTestId('pci-row');
      await t.waitFor(async () => (await rows.count()) === devices.length, 'every row');
      // The class with the most devices, then a vendor.
      const count = (key) => devices.reduce((m, d) => m.set(d[key], (m.get(d[key]) || 0) + 1), new Map());
      const [cls, nCls] = [...count('class')].sort((a, b) => b[1] - a[1])[0];
      await page.getByTestId('filter-class').selectOption(cls);
      await t.waitFor(async () => (await rows.count()) === nCls, `${nCls} rows of class ${cls}`);
      for (const type of await rows.locator('td.mono').allTextContents())
        assert.ok(type.endsWith(`:${cls}`), `${type} is not of class ${cls}`);
      await t.shot(page, 'filter-class');
      await page.getByTestId('filter-class').selectOption('');
      const [vendor, nVendor] = [...count('vendor')].sort((a, b) => a[1] - b[1])[0];
      await page.getByTestId('filter-vendor').selectOption(vendor);
      await t.waitFor(async () => (await rows.count()) === nVendor, `${nVendor} rows of vendor ${vendor}`);
      await page.getByTestId('filter-vendor').selectOption('');
      await t.waitFor(async () => (await rows.count()) === devices.length, 'every row again');
    },
  },
  {
    name: 'an admin disables, enables and probes a host from its page; the page follows',
    run: async (t) => {
      const { assert } = t;
      const name = hostNames(t)[hostNames(t).length - 1];
      const page = await loggedIn(t, t.env.PP_ADMIN_TOKEN, `/hosts/${name}`);
      const state = page.getByTestId('host-state');
      await t.waitFor(async () => (await text(state)) === 'monitored', 'monitored');
      await mark(page);
      try {
        await page.getByTestId('host-disable').click();
        await t.waitFor(async () => (await text(state)) === 'disabled', 'disabled on the page');
        assert.equal((await t.api('GET', `/v1/hosts/${name}`)).json.state, 'disabled');
        assert.equal(await page.getByTestId('host-probe').isDisabled(), true);
        await t.shot(page, 'host-disabled');
        await page.getByTestId('host-enable').click();
        await t.waitFor(async () => (await text(state)) === 'monitored', 'monitored again, live');
        await page.getByTestId('host-probe').click();
        await t.waitFor(async () => /Probed/.test(await text(page.getByTestId('status'))), 'the probe announced');
        assert.ok(await sameDocument(page), 'the page was reloaded');
      } finally {
        await enableAll(t);
      }
    },
  },
];
