// Hosts: the list, and each host's PCI tab against `pcipass host show`:
// the same devices, the guide's columns, grouped by IOMMU group, filters,
// and the admin's actions.

import { hostNames, loggedIn, go, text, mark, sameDocument, waitLive, enableAll, cli } from './ui.mjs';

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
      // A host's row follows its events in place.
      const last = json.hosts[json.hosts.length - 1];
      const row = page.locator(`[data-testid=host-row][data-host="${last.name}"]`);
      await waitLive(t, page);
      await mark(page);
      try {
        await t.api('POST', `/v1/hosts/${last.name}/disable`);
        await t.waitFor(async () => /disabled/.test(await text(row)), `${last.name} disabled in its row`);
        assert.ok(await sameDocument(page), 'the page was reloaded');
      } finally {
        await enableAll(t);
      }
      await t.waitFor(async () => /monitored/.test(await text(row)), `${last.name} monitored again in its row`);
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
        const shown = JSON.parse(await cli(t, ['host', 'show', name, '--json']));
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
        // Not offered, and why: the same devices and words as the CLI's
        // NOT OFFERED TO VMS section.
        const said = (await cli(t, ['host', 'show', name])).split('\n');
        const at = said.indexOf('NOT OFFERED TO VMS');
        const lines = at < 0 ? [] : said.slice(at + 1).filter((l) => /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] /.test(l));
        const notOffered = cells.filter((c) => c.cells[8].startsWith('not offered'));
        assert.equal(notOffered.length, lines.length, `${name}: not offered on the page and in pcipass host show`);
        for (const line of lines) {
          const [short, ...why] = line.split(' ');
          const row = cells.find((c) => c.cells[1] === short);
          assert.ok(row && row.cells[8].includes(why.join(' ')), `${name}: ${short}: "${row && row.cells[8]}" ` +
            `does not say "${why.join(' ')}"`);
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
      const devices = JSON.parse(await cli(t, ['host', 'show', name, '--json'])).pci_devices;
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
        // The keyboard stays put: Disable gone, the focus is on Enable.
        await t.waitFor(async () => page.evaluate(() => document.activeElement?.dataset.testid === 'host-enable'),
          'the focus on Enable');
        await page.keyboard.press('Enter');
        await t.waitFor(async () => (await text(state)) === 'monitored', 'monitored again, live');
        await page.getByTestId('host-probe').click();
        await t.waitFor(async () => /Probed/.test(await text(page.getByTestId('status'))), 'the probe announced');
        assert.ok(await sameDocument(page), 'the page was reloaded');
      } finally {
        await enableAll(t);
      }
    },
  },
  {
    name: "an IOMMU group's devices are drawn together, and a group the host needs a device of is not offered",
    run: async (t) => {
      const { assert } = t;
      // A host that pushes its report: devices with IOMMU groups, which the
      // captured trees of the other hosts do not have.
      const name = 'ui-grouped';
      const made = await t.api('POST', '/v1/hosts', { name, libvirt_uri: 'test:///default',
        context_pool: 'default-pool' });
      assert.equal(made.status, 201, made.text);
      let keep = null;
      try {
        assert.equal((await t.api('POST', `/v1/hosts/${name}/token`)).status, 201);
        const pushed = await t.api('POST', `/v1/hosts/${name}/report`, REPORT);
        assert.equal(pushed.status, 200, pushed.text);
        // Pushed again each second, as pcipass-probe-push would: a host
        // whose report is 3 monitor intervals old is in error, and its
        // devices are not free.
        keep = setInterval(() => t.api('POST', `/v1/hosts/${name}/report`, REPORT).catch(() => {}), 1000);
        await t.waitFor(async () => (await t.api('GET', `/v1/hosts/${name}`)).json.state === 'monitored',
          `${name} monitored`);
        const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, `/hosts/${name}`);
        await t.waitFor(async () => (await page.getByTestId('pci-row').count()) === 5, 'its 5 devices');
        const group = (g) => page.locator(`[data-testid=pci-group][data-group="${g}"]`);
        assert.equal(await group(7).getByTestId('pci-row').count(), 2);
        assert.match(await text(group(7).locator('tr.group-head')), /IOMMU group 7: 2 devices/);
        assert.equal(await group(8).getByTestId('pci-row').count(), 2);
        assert.match(await text(group(8).locator('tr.group-head')), /not viable: 0b:00.0/);
        const why = async (address) => text(page.locator(`[data-testid=pci-row][data-address="${address}"]`)
          .getByTestId('pci-why'));
        assert.match(await why('0000:0b:00.0'), /^not offered the host needs it: it is the NIC of the default route/);
        assert.match(await why('0000:0b:00.1'), /^not offered its IOMMU group 8 holds 0000:0b:00.0, which the host needs$/);
        assert.match(await why('0000:0a:00.1'), /^free/);
        assert.equal(await group(9).locator('tr.group-head').count(), 0, 'a group of one has no heading');
        await t.shot(page, 'groups');

        // The create form's picker (GET /v1/pci/types): the GPU free, the
        // I210 not (the host needs one port, so the group is kept back).
        await go(t, page, '/vms/new');
        const gpu = page.locator('[data-testid=pci-type][data-type="10de:1b80:0300"]');
        await gpu.waitFor();
        assert.equal(await gpu.getAttribute('data-free'), '1');
        const nic = page.locator('[data-testid=pci-type][data-type="8086:1533:0200"]');
        await nic.waitFor();
        assert.equal(await nic.getAttribute('data-free'), '0');
        await page.getByTestId('pci-free').check();
        await t.waitFor(async () => (await nic.count()) === 0, 'only types free now');
        assert.equal(await gpu.count(), 1);
        // By address: that one host's free devices, the I210's ports not.
        await page.getByTestId('pci-host').fill(name);
        // Enter there reads the host; it does not create a VM.
        await page.getByTestId('pci-host').press('Enter');
        const options = page.getByTestId('pci-address').locator('option');
        await t.waitFor(async () => (await options.count()) === 3, `the 3 free devices of ${name}`);
        assert.deepEqual(await options.evaluateAll((os) => os.map((o) => o.value)), ['0a:00.0', '0a:00.1', '0c:00.0']);
        await page.getByTestId('pci-address').selectOption('0c:00.0');
        await page.getByTestId('pci-add-address').click();
        assert.match(await page.getByTestId('vm-template').inputValue(), /^PCI = \[ SHORT_ADDRESS = "0c:00.0" \]$/m);
        await t.shot(page, 'by-address');
        assert.match(page.url(), /#\/vms\/new$/);
        const mine = (await t.api('GET', '/v1/vms', null, t.env.PP_ALICE_TOKEN)).json.vms;
        assert.ok(!mine.some((vm) => vm.host && vm.host.name === name), `a VM on ${name}`);
      } finally {
        clearInterval(keep);
        await t.api('DELETE', `/v1/hosts/${name}`);
      }
    },
  },
];

// Every endpoint of each group, as the probe reports it.
const ENDPOINTS = { 7: '0000:0a:00.0,0000:0a:00.1', 8: '0000:0b:00.0,0000:0b:00.1', 9: '0000:0c:00.0' };

// The pushed report of ui-grouped: IOMMU group 7 (a GPU and its audio),
// 8 (two ports of a NIC, one of which the host needs), 9 (one device).
const REPORT = `HOSTNAME = "ui-grouped"
CPU_COUNT = "8"
MEMORY_KIB = "16777216"
${[
    ['10de', '1b80', '0300', 'GP104 [GeForce GTX 1080]', '0a', '0', 7, 'vfio-pci', null],
    ['10de', '10f0', '0403', 'GP104 High Definition Audio Controller', '0a', '1', 7, 'vfio-pci', null],
    ['8086', '1533', '0200', 'I210 Gigabit Network Connection', '0b', '0', 8, 'igb', 'is the NIC of the default route'],
    ['8086', '1533', '0200', 'I210 Gigabit Network Connection', '0b', '1', 8, 'igb', null],
    ['1b36', '0010', '0108', 'QEMU NVM Express Controller', '0c', '0', 9, 'nvme', null],
  ].map(([v, d, c, n, bus, fn, g, drv, needs]) => `PCI = [ TYPE = "${v}:${d}:${c}", VENDOR = "${v}", ` +
    `DEVICE = "${d}", CLASS = "${c}", DEVICE_NAME = "${n}", ADDRESS = "0000:${bus}:00:${fn}", ` +
    `SHORT_ADDRESS = "${bus}:00.${fn}", DOMAIN = "0000", BUS = "${bus}", SLOT = "00", FUNCTION = "${fn}", ` +
    `NUMA_NODE = "0", SRIOV = "no", IOMMU_GROUP = "${g}", IOMMU_GROUP_ENDPOINTS = "${ENDPOINTS[g]}", ` +
    `DRIVER = "${drv}"` +
    `${needs ? `, HOST_NEEDS = "${needs}"` : ''} ]`).join('\n')}
`;
