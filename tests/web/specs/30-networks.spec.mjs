// Networks: a PCI passthrough NIC from the create form's NIC section
// (PCI = [ TYPE = "NIC", NETWORK = ... ]), its lease on the network's
// page and gone live at terminate; a network made and edited from its
// template.

import { loggedIn, go, text, mark, sameDocument, waitLive, terminate } from './ui.mjs';

export const tests = [
  {
    name: 'a PCI NIC on the network from the NIC section: running, its lease on the network page',
    timeout: 90000,
    run: async (t) => {
      const { assert } = t;
      const netName = t.env.PP_NETWORK || 'lan';
      const net = (await t.api('GET', '/v1/networks', null, t.env.PP_ALICE_TOKEN)).json.networks
        .find((n) => n.name === netName);
      assert.ok(net && net.id, `no network ${netName}`);
      const page = await loggedIn(t, t.env.PP_ALICE_TOKEN, '/vms/new');
      await page.getByTestId('pci-type').first().waitFor();
      await page.getByTestId('vm-name').fill('ui-pcinic');
      await page.getByTestId('vm-memory').fill('256');
      await page.getByTestId('nic-network').selectOption(String(net.id));
      await page.getByTestId('nic-pci').check();
      const device = page.getByTestId('nic-device');
      await device.waitFor({ state: 'visible' });
      // The I350 VF when the hosts have one, else any Ethernet controller.
      const options = await device.locator('option').evaluateAll((os) => os.map((o) => o.value));
      await device.selectOption(options.includes('type=8086:1520') ? 'type=8086:1520' : 'class=0200');
      await page.getByTestId('nic-add').click();
      const template = await page.getByTestId('vm-template').inputValue();
      assert.match(template, new RegExp(`^PCI = \\[ TYPE = "NIC", NETWORK = "${netName}", NETWORK_UNAME = "[^"]+"(, .*)? \\]$`, 'm'));
      await t.waitFor(async () => (await page.getByTestId('place-result').getAttribute('data-fits')) === 'yes',
        'the check to say where it would go');
      await t.shot(page, 'create-pci-nic');
      await page.getByTestId('vm-create').click();
      await page.waitForURL(/#\/vms\/\d+$/);
      const id = Number(page.url().match(/#\/vms\/(\d+)$/)[1]);
      try {
        await t.waitFor(async () => (await text(page.getByTestId('vm-state'))) === 'running', 'running', 30000);
        const vm = (await t.api('GET', `/v1/vms/${id}`, null, t.env.PP_ALICE_TOKEN)).json;
        assert.equal(vm.nics.length, 1);
        assert.equal(vm.nics[0].kind, 'pci');
        assert.equal(vm.nics[0].network, netName);
        const nic = page.locator('[data-testid=vm-nic][data-kind=pci]');
        await nic.waitFor();
        assert.match(await text(nic), /PCI passthrough/);
        assert.ok((await text(nic)).includes(vm.nics[0].ip), 'the NIC row shows its IP');
        await t.shot(page, 'vm-pci-nic');

        // The network's page: the lease, held by this VM.
        const netPage = await loggedIn(t, t.env.PP_ALICE_TOKEN, `/networks/${net.id}`);
        const lease = netPage.locator(`[data-testid=lease-row][data-vm="${id}"]`);
        await lease.waitFor();
        assert.ok((await text(lease)).includes(vm.nics[0].ip));
        await t.shot(netPage, 'network-lease');
        await waitLive(t, netPage);
        await mark(netPage);
        await t.api('POST', `/v1/vms/${id}/terminate`, null, t.env.PP_ALICE_TOKEN);
        await t.waitFor(async () => (await lease.count()) === 0, 'the lease gone from the page, live', 20000);
        assert.ok(await sameDocument(netPage), 'the network page was reloaded');
      } finally {
        await terminate(t, id);
      }
    },
  },
  {
    name: 'a network made from its template, edited, refused with line and column, deleted',
    run: async (t) => {
      const { assert } = t;
      const page = await loggedIn(t, t.env.PP_BOB_TOKEN, '/networks/new');
      const area = page.getByTestId('network-template');
      await area.fill('NAME = "ui-net"\nVN_MAD = "dummy"\nBRIDGE = "br0"\nAR = [ TYPE = "ETHER", SIZE = 4 ]\n');
      await page.getByTestId('network-save').click();
      await page.waitForURL(/#\/networks\/\d+$/);
      const id = page.url().match(/#\/networks\/(\d+)$/)[1];
      await t.waitFor(async () => /ui-net/.test(await text(page.getByTestId('network-title'))), 'its page');
      assert.equal(await page.getByTestId('network-ars').locator('tbody tr').count(), 1);
      await t.shot(page, 'network-made');

      // An address held out of use, then released, from the page.
      const mac = (await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).json.ars[0].mac;
      await page.getByTestId('hold-address').fill(mac);
      await page.getByTestId('hold-submit').click();
      const held = page.getByTestId('lease-row').filter({ hasText: mac });
      await held.waitFor();
      assert.match(await text(held), /held/);
      assert.equal((await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).json.held, 1);
      await t.shot(page, 'network-held');
      await held.getByTestId('lease-release').click();
      await t.waitFor(async () => (await held.count()) === 0, 'the held address released');
      assert.equal((await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).json.held, 0);

      await page.getByTestId('network-edit').click();
      const edit = page.getByTestId('network-template');
      await edit.fill('NAME = "ui-net"\nVN_MAD = "dummy"\nBRIDGE = "br0"\nAR = [ TYPE = "ETHER", SIZ = 4 ]\n');
      await page.getByTestId('network-save').click();
      const error = page.getByTestId('network-error');
      await error.waitFor({ state: 'visible' });
      const said = await text(error);
      assert.match(said, /line 4, column \d+/);
      await t.shot(page, 'network-refused');
      const kept = (await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).json;
      assert.equal(kept.size, 4, 'the refused edit changed the network');

      await edit.fill('NAME = "ui-net"\nVN_MAD = "dummy"\nBRIDGE = "br0"\nAR = [ TYPE = "ETHER", SIZE = 6 ]\n');
      await page.getByTestId('network-save').click();
      await t.waitFor(async () => (await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).json.size === 6,
        'the edit saved');
      await t.waitFor(async () => /of 6/.test(await text(page.getByTestId('network-facts'))), 'the page to show 6');

      await page.getByTestId('network-delete').click(); // confirm() accepted
      await page.waitForURL(/#\/networks$/);
      assert.equal((await t.api('GET', `/v1/networks/${id}`, null, t.env.PP_BOB_TOKEN)).status, 404);
      await go(t, page, '/networks');
      await page.getByTestId('networks-table').waitFor();
      assert.equal(await page.locator('[data-testid=network-row][data-network="ui-net"]').count(), 0);
      await t.shot(page, 'networks');
    },
  },
];
