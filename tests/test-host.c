/* The host library where the programs cannot show it: pp-netlink's
 * address list against iproute2's; what the addresses make needed, on a
 * small tree built here (the fixture captures keep no network interfaces);
 * the chipset rule on devices no capture has (a card behind a root port
 * with a chipset's class, a bridge known by its header); the trees both
 * programs open; the restore plan on the real root, which loads a module
 * again. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-needs.h"
#include "pp-host-trees.h"
#include "pp-netlink.h"
#include "pp-pci-scan.h"
#include "pp-test-util.h"
#include "pp-vfio.h"

/* This machine's IPv4 addresses as `ip -j -4 addr` lists them, one
 * "IFNAME ADDRESS/PREFIX" a line, in its order. */
static char *
addresses_of_ip(void)
{
  const char *argv[] = { "ip", "-j", "-4", "addr", "show", NULL };
  PpTestRun run = { 0 };
  g_autoptr(json_t) links = NULL;
  GString *s = g_string_new(NULL);
  json_error_t jerr;

  pp_test_run(argv, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  links = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(links);
  for (gsize i = 0; i < json_array_size(links); i++) {
    json_t *link = json_array_get(links, i);
    json_t *infos = json_object_get(link, "addr_info");

    for (gsize j = 0; j < json_array_size(infos); j++) {
      json_t *info = json_array_get(infos, j);

      g_string_append_printf(s, "%s %s/%d\n", json_string_value(json_object_get(link, "ifname")),
                             json_string_value(json_object_get(info, "local")),
                             (int)json_integer_value(json_object_get(info, "prefixlen")));
    }
  }
  pp_test_run_clear(&run);
  return g_string_free(s, FALSE);
}

static void
test_netlink_matches_iproute2(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ours = pp_netlink_ipv4_addresses(&error);
  g_autofree char *theirs = addresses_of_ip();
  g_autoptr(GString) s = g_string_new(NULL);

  g_assert_no_error(error);
  g_assert_nonnull(ours);
  for (guint i = 0; i < ours->len; i++) {
    const PpIfAddress *a = g_ptr_array_index(ours, i);

    g_string_append_printf(s, "%s %s\n", a->ifname, a->address);
  }
  /* Every machine with a network namespace has lo's 127.0.0.1/8. */
  g_assert_nonnull(strstr(s->str, "lo 127.0.0.1/8\n"));
  g_assert_cmpstr(s->str, ==, theirs);
}

/* A host with one NIC (eth9, at 0000:00:03.0) in a temporary root. */
typedef struct {
  char *dir;
  char *sys;
  char *proc;
} Tree;

static void
tree_setup(Tree *t)
{
  g_autofree char *path = NULL;

  t->dir = pp_test_mkdtemp();
  t->sys = g_build_filename(t->dir, "sys", NULL);
  t->proc = g_build_filename(t->dir, "proc", NULL);
  path = g_build_filename(t->sys, "bus", "pci", "devices", NULL);
  g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
  g_free(path);
  pp_test_sysfs_add_device(t->sys, "0000:00:03.0", 0x8086, 0x1521, 0x020000, 5, "igb");
  path = g_build_filename(t->sys, "class", "net", "eth9", NULL);
  pp_test_symlink("../../devices/pci0000:00/0000:00:03.0/net/eth9", path);
  g_free(path);
  path = g_build_filename(t->proc, "net", "route", NULL);
  /* Only a link route: what /proc/net/route alone would call an address. */
  pp_test_write_file(path, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\t"
                           "Window\tIRTT\n"
                           "eth9\t000010AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n");
}

static void
tree_teardown(Tree *t)
{
  pp_test_rmtree(t->dir);
  g_free(t->dir);
  g_free(t->sys);
  g_free(t->proc);
}

static char *
needs_text(Tree *t, GPtrArray *ipv4)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpSysfs) sys = pp_sysfs_open(t->sys, &error);
  g_autoptr(PpSysfs) proc = pp_sysfs_open(t->proc, &error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  GString *s = g_string_new(NULL);

  g_assert_no_error(error);
  devices = pp_pci_scan(sys, NULL, &error);
  g_assert_no_error(error);
  needs = pp_host_needs_read(sys, proc, NULL, ipv4, devices);
  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *n = g_ptr_array_index(needs, i);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    g_string_append_printf(s, "%s %s\n", pp_pci_address_format(&n->address, bdf), n->reason);
  }
  return g_string_free(s, FALSE);
}

static PpIfAddress *
if_address(const char *ifname, const char *address)
{
  PpIfAddress *a = g_new0(PpIfAddress, 1);

  a->ifname = g_strdup(ifname);
  a->address = g_strdup(address);
  return a;
}

static void
test_addresses_make_needs(void)
{
  Tree t;
  g_autoptr(GPtrArray) ipv4 = g_ptr_array_new_with_free_func((GDestroyNotify)pp_if_address_free);
  g_autofree char *without = NULL;
  g_autofree char *with = NULL;
  g_autofree char *loopback = NULL;

  tree_setup(&t);
  /* From /proc/net/route alone: the link route stands for the address. */
  without = needs_text(&t, NULL);
  g_assert_cmpstr(without, ==, "0000:00:03.0 is eth9, which has an address on 172.16.0.0/16\n");

  /* With the kernel's list: the address itself, and one that has no route
   * in the main table (policy routing), which /proc/net/route cannot show. */
  g_ptr_array_add(ipv4, if_address("eth9", "172.16.0.5/16"));
  g_ptr_array_add(ipv4, if_address("eth9", "198.51.100.7/32"));
  with = needs_text(&t, ipv4);
  g_assert_cmpstr(with, ==,
                  "0000:00:03.0 is eth9, which has the address 172.16.0.5/16\n"
                  "0000:00:03.0 is eth9, which has the address 198.51.100.7/32\n");

  /* Loopback addresses make nothing needed, and an interface that is not
   * there is passed over. */
  g_ptr_array_set_size(ipv4, 0);
  g_ptr_array_add(ipv4, if_address("lo", "127.0.0.1/8"));
  g_ptr_array_add(ipv4, if_address("gone0", "192.0.2.1/24"));
  loopback = needs_text(&t, ipv4);
  g_assert_cmpstr(loopback, ==, "");
  tree_teardown(&t);
}

/* A device behind the root port 0000:00:1c.0, laid out as the kernel does:
 * devices/pci0000:00/0000:00:1c.0/BDF. */
static void
add_device_behind_port(const char *sys, const char *bdf, guint32 class_code)
{
  g_autofree char *dir = g_strdup_printf("%s/devices/pci0000:00/0000:00:1c.0/%s", sys, bdf);
  g_autofree char *link = g_build_filename(sys, "bus", "pci", "devices", bdf, NULL);
  g_autofree char *target = g_strdup_printf("../../../devices/pci0000:00/0000:00:1c.0/%s", bdf);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;

  path = g_build_filename(dir, "vendor", NULL);
  pp_test_write_file(path, "0x10ee\n");
  g_free(path);
  path = g_build_filename(dir, "device", NULL);
  pp_test_write_file(path, "0x7038\n");
  g_free(path);
  path = g_build_filename(dir, "class", NULL);
  text = g_strdup_printf("0x%06x\n", class_code);
  pp_test_write_file(path, text);
  pp_test_symlink(target, link);
}

/* The chipset rule, device by device: what a class makes needed wherever
 * it is, what only on a root bus, and what is a device like any other. */
static void
test_chipset_rule(void)
{
  static const struct {
    const char *bdf;
    guint32 class_code;
    const char *driver;
    const char *want; /* NULL: not needed */
  } cases[] = {
    { "0000:00:00.0", 0x060000, NULL, "is a host bridge (the processor's link to PCI)" },
    { "0000:00:00.1", 0x060000, "skx_edac",
      "is a host bridge (the processor's link to PCI), on skx_edac" },
    { "0000:00:00.2", 0x080600, NULL, "is the IOMMU (it isolates the devices)" },
    /* PIIX4's ACPI function (QEMU's i440fx): an "other" bridge. */
    { "0000:00:01.3", 0x068000, "piix4_smbus", "is a bridge of the platform" },
    { "0000:00:05.4", 0x080020, NULL, "is a chipset function (class 0800, interrupt controller)" },
    { "0000:00:1c.0", 0x060400, "pcieport",
      "is a PCI bridge (the devices behind it hang from it)" },
    { "0000:00:1e.0", 0x060401, NULL, "is a PCI bridge (the devices behind it hang from it)" },
    { "0000:00:1f.0", 0x060100, "lpc_ich", "is the ISA/LPC bridge (firmware, timers, the clock)" },
    /* The PMC on the root bus is the chipset's; the same class behind a
     * root port (01:00.0 below) is an FPGA board's. */
    { "0000:00:1f.2", 0x058000, "intel_pmc_core",
      "is a chipset function (class 0580, memory controller)" },
    { "0000:00:1f.4", 0x0c0500, "i801_smbus", "is the SMBus controller (sensors, memory SPD)" },
    { "0000:00:1f.5", 0x0c8000, "intel-spi",
      "is a chipset function (class 0c80, serial bus such as SPI flash or I2C)" },
    /* Devices: the PCH's shared SRAM (passed with the xHCI it shares a
     * group with), an SD host controller, audio. */
    { "0000:00:14.2", 0x050000, NULL, NULL },
    { "0000:00:14.5", 0x080501, "sdhci-pci", NULL },
    { "0000:00:1f.3", 0x040380, "snd_hda_intel", NULL },
  };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = pp_test_sysfs_new(dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpSysfs) tree = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  g_autoptr(PpPciDevice) cardbus = NULL;
  g_autofree char *cardbus_why = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    pp_test_sysfs_add_device(sys, cases[i].bdf, 0x8086, 0x1234, cases[i].class_code, -1,
                             cases[i].driver);
  add_device_behind_port(sys, "0000:01:00.0", 0x058000);
  tree = pp_sysfs_open(sys, &error);
  g_assert_no_error(error);
  devices = pp_pci_scan(tree, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(devices->len, ==, G_N_ELEMENTS(cases) + 1);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    PpPciAddress a;
    g_autofree char *why = NULL;

    g_assert_true(pp_pci_address_parse(cases[i].bdf, &a, NULL));
    why = pp_host_needs_chipset(tree, pp_vfio_find_device(devices, &a));
    if (g_strcmp0(why, cases[i].want) != 0)
      g_error("%s (class %06x): '%s', expected '%s'", cases[i].bdf, cases[i].class_code, why,
              cases[i].want);
  }
  {
    PpPciAddress a;

    g_assert_true(pp_pci_address_parse("0000:01:00.0", &a, NULL));
    g_assert_null(pp_host_needs_chipset(tree, pp_vfio_find_device(devices, &a)));
  }

  /* Without proc, the whole guard says the same, and nothing of the card. */
  needs = pp_host_needs_read(tree, NULL, NULL, NULL, devices);
  g_assert_cmpuint(needs->len, ==, 11);
  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *n = g_ptr_array_index(needs, i);
    g_autofree char *joined = pp_host_needs_join(needs, &n->address);

    g_assert_cmpstr(joined, ==, n->reason);
  }

  /* A bridge by its header whatever its class: vfio leaves it to the
   * host, and the guard names it so. */
  cardbus = pp_test_device_new("0000:00:1c.1", 0x1217, 0x7135, 0x078000, NULL);
  cardbus->header_type = 2;
  cardbus_why = pp_host_needs_chipset(tree, cardbus);
  g_assert_cmpstr(cardbus_why, ==, "is a CardBus bridge (the cards behind it hang from it)");
  cardbus->header_type = 0;
  g_clear_pointer(&cardbus_why, g_free);
  /* Not on a root bus (no link at all): its class alone does not count. */
  g_assert_null(pp_host_needs_chipset(tree, cardbus));
  pp_test_rmtree(dir);
}

/* Several reasons for one device, in the order they were found. */
static void
test_needs_joined(void)
{
  Tree t;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpSysfs) sys = NULL;
  g_autoptr(PpSysfs) proc = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  g_autoptr(GPtrArray) ipv4 = g_ptr_array_new_with_free_func((GDestroyNotify)pp_if_address_free);
  g_autofree char *joined = NULL;
  PpPciAddress nic, other;

  tree_setup(&t);
  sys = pp_sysfs_open(t.sys, &error);
  g_assert_no_error(error);
  proc = pp_sysfs_open(t.proc, &error);
  g_assert_no_error(error);
  devices = pp_pci_scan(sys, NULL, &error);
  g_assert_no_error(error);
  g_ptr_array_add(ipv4, if_address("eth9", "172.16.0.5/16"));
  g_ptr_array_add(ipv4, if_address("eth9", "198.51.100.7/32"));
  needs = pp_host_needs_read(sys, proc, NULL, ipv4, devices);
  g_assert_true(pp_pci_address_parse("0000:00:03.0", &nic, NULL));
  g_assert_true(pp_pci_address_parse("0000:00:04.0", &other, NULL));
  joined = pp_host_needs_join(needs, &nic);
  g_assert_cmpstr(joined, ==,
                  "is eth9, which has the address 172.16.0.5/16; "
                  "is eth9, which has the address 198.51.100.7/32");
  g_assert_null(pp_host_needs_join(needs, &other));
  tree_teardown(&t);
}

/* The trees both programs open: proc and dev beside sys unless named, the
 * running host's only at /sys and /proc. */
static void
test_host_trees(void)
{
  Tree t;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHostTrees) beside = NULL;
  g_autoptr(PpHostTrees) named = NULL;
  g_autoptr(PpHostTrees) missing = NULL;
  g_autoptr(PpHostTrees) live = NULL;
  g_autoptr(PpHostTrees) mixed = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  g_autofree char *warning = NULL;
  g_autofree char *gone = NULL;
  g_autofree char *devdir = NULL;

  tree_setup(&t);
  /* A tree: proc beside it is found, dev is not there; not the live host. */
  beside = pp_host_trees_open(t.sys, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(beside->proc);
  g_assert_null(beside->dev);
  g_assert_false(beside->live);
  /* What it needs, read from the trees alone: no warning, no netlink. */
  devices = pp_pci_scan(beside->sys, NULL, &error);
  g_assert_no_error(error);
  needs = pp_host_trees_read_needs(beside, devices, &warning);
  g_assert_null(warning);
  g_assert_cmpuint(needs->len, ==, 1);
  g_assert_cmpstr(((PpHostNeed *)g_ptr_array_index(needs, 0))->reason, ==,
                  "is eth9, which has an address on 172.16.0.0/16");

  /* Named trees; a dev folder that is not there is no error. */
  devdir = g_build_filename(t.dir, "dev", NULL);
  g_assert_cmpint(g_mkdir_with_parents(devdir, 0755), ==, 0);
  gone = g_build_filename(t.dir, "no-such-proc", NULL);
  named = pp_host_trees_open(t.sys, gone, devdir, &error);
  g_assert_no_error(error);
  g_assert_null(named->proc);
  g_assert_nonnull(named->dev);

  /* A sysfs root that is not there: the error names it. */
  missing = pp_host_trees_open(gone, NULL, NULL, &error);
  g_assert_null(missing);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, gone));
  g_clear_error(&error);

  /* This machine's own trees are the live host's, as /sys/ too; /sys
   * with another proc is not (netlink would speak of another host). */
  live = pp_host_trees_open("/sys/", NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(live->live);
  g_assert_nonnull(live->proc);
  g_assert_nonnull(live->dev);
  mixed = pp_host_trees_open("/sys", t.proc, NULL, &error);
  g_assert_no_error(error);
  g_assert_false(mixed->live);
  tree_teardown(&t);
}

/* Unbind after rmmod: the recorded module is loaded again, then the
 * device bound to its driver by name. Planned with PP_VFIO_LOAD_MODULES,
 * as on the real root, and not executed (this kernel has no igb device
 * and no VFIO). */
static void
test_restore_loads_module(void)
{
  Tree t;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpSysfs) sys = NULL;
  g_autoptr(PpSysfs) state_dir = NULL;
  g_autoptr(PpVfio) vfio = NULL;
  g_autoptr(PpVfio) plain = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) plan = NULL;
  g_autoptr(GString) text = g_string_new(NULL);
  g_autofree char *path = NULL;

  tree_setup(&t);
  /* On vfio-pci, igb unloaded (no drivers/igb), the record says igb. */
  path = g_build_filename(t.sys, "bus", "pci", "drivers", "vfio-pci", NULL);
  g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
  g_free(path);
  path = g_build_filename(t.sys, "devices", "pci0000:00", "0000:00:03.0", "driver", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  g_assert_cmpint(symlink("../../../bus/pci/drivers/vfio-pci", path), ==, 0);
  g_free(path);
  path = g_build_filename(t.sys, "devices", "pci0000:00", "0000:00:03.0", "driver_override", NULL);
  pp_test_write_file(path, "vfio-pci\n");
  g_free(path);
  path = g_build_filename(t.sys, "bus", "pci", "drivers", "igb", NULL);
  pp_test_rmtree(path);
  g_free(path);
  path = g_build_filename(t.dir, "vfio.state", NULL);
  pp_test_write_file(path, "[0000:00:03.0]\ndriver=igb\nmodule=igb\n");

  sys = pp_sysfs_open(t.sys, &error);
  g_assert_no_error(error);
  state_dir = pp_sysfs_open(t.dir, &error);
  g_assert_no_error(error);
  devices = pp_pci_scan(sys, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(devices->len, ==, 1);
  vfio = pp_vfio_new(sys, state_dir, "vfio.state", PP_VFIO_LOAD_MODULES, 1.0, &error);
  g_assert_no_error(error);
  plan = pp_vfio_plan_restore_all(vfio, devices);
  for (guint i = 0; i < plan->len; i++) {
    g_autofree char *line = pp_vfio_step_describe(g_ptr_array_index(plan, i));

    g_string_append_printf(text, "%s\n", line);
  }
  g_assert_cmpstr(text->str, ==,
                  "load the module igb\n"
                  "write '0000:00:03.0' to bus/pci/drivers/vfio-pci/unbind\n"
                  "0000:00:03.0: expect no driver\n"
                  "write '\\n' to bus/pci/devices/0000:00:03.0/driver_override\n"
                  "write '0000:00:03.0' to bus/pci/drivers/igb/bind\n"
                  "0000:00:03.0: expect igb\n"
                  "0000:00:03.0: forget its record\n");

  /* Below another root nothing is loaded: the kernel's choice instead. */
  g_clear_pointer(&plan, g_ptr_array_unref);
  plain = pp_vfio_new(sys, state_dir, "vfio.state", PP_VFIO_NONE, 1.0, &error);
  g_assert_no_error(error);
  plan = pp_vfio_plan_restore_all(plain, devices);
  g_string_truncate(text, 0);
  for (guint i = 0; i < plan->len; i++) {
    g_autofree char *line = pp_vfio_step_describe(g_ptr_array_index(plan, i));

    g_string_append_printf(text, "%s\n", line);
  }
  g_assert_null(strstr(text->str, "load the module"));
  g_assert_nonnull(strstr(text->str, "to bus/pci/drivers_probe\n"));
  tree_teardown(&t);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/host-needs/netlink-matches-iproute2", test_netlink_matches_iproute2);
  g_test_add_func("/host-needs/addresses-make-needs", test_addresses_make_needs);
  g_test_add_func("/host-needs/chipset-rule", test_chipset_rule);
  g_test_add_func("/host-needs/joined", test_needs_joined);
  g_test_add_func("/host-needs/trees", test_host_trees);
  g_test_add_func("/vfio/restore-loads-module", test_restore_loads_module);
  return g_test_run();
}
