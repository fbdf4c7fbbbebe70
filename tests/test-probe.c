/* pcipass-probe, the real binary, on real sysfs trees from real machines
 * (tests/data/fixtures, unpacked into a temporary folder), on copies of them
 * with what the capture left out added back the way the kernel lays it out,
 * and on small fake trees for the cases no capture has. Its output is read
 * back with the template parser, as pcipassd will read it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pp-pci-device.h"
#include "pp-probe-report.h"
#include "pp-template.h"
#include "pp-test-util.h"

#define HWLOC_2PA "hwloc-sysfs/2pa-pcidomain32bits.tar.bz2"
#define HWLOC_32EM "hwloc-sysfs/32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2"
#define HWLOC_32INTEL "hwloc-sysfs/32intel64-2p8co2t+8ve.tar.bz2"
#define HWLOC_40INTEL "hwloc-sysfs/40intel64-2g2n4c+pcilocality.tar.bz2"
#define GHW_I350 "ghw-sysfs/linux-amd64-8581cf3a529e5d8b97ea876eade2f60d.tar.gz"
#define GHW_LAPTOP "ghw-sysfs/linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d.tar.gz"
#define GHW_NVIDIA "ghw-sysfs/linux-amd64-accel-nvidia.tar.gz"
#define GHW_DESKTOP "ghw-sysfs/linux-amd64-61797caf7c0b6bca1725ad7975ed4773.tar.gz"

#define PCI_IDS "/usr/share/misc/pci.ids"

/* Every fixture, unpacked once (read-only use); tests that change a tree
 * unpack their own copy. */
static char *shared_dir;

/* The unpacked trees: the tarball, and the folder it unpacks to (hwloc's
 * tarballs hold a named folder; ghw's hold sys/ and proc/ directly). */
static const struct {
  const char *tarball;
  const char *folder;
  guint devices;
} trees[] = {
  { HWLOC_2PA, "2pa-pcidomain32bits", 9 },
  { HWLOC_32EM, "32em64t-2n8c+1mic", 137 },
  { HWLOC_32INTEL, "32intel64-2p8co2t+8ve", 28 },
  { HWLOC_40INTEL, "40intel64-2g2n4c+pci", 37 },
  { GHW_I350, NULL, 82 },
  { GHW_LAPTOP, NULL, 23 },
  { GHW_NVIDIA, NULL, 29 },
  { GHW_DESKTOP, NULL, 43 },
};

/* Unpacks @tarball into @dir; returns the sys folder of the tree. */
static char *
unpack_tree(const char *tarball, const char *dir)
{
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autofree char *base = NULL;
    g_autofree char *into = NULL;

    if (strcmp(trees[i].tarball, tarball) != 0)
      continue;
    if (trees[i].folder != NULL) {
      pp_test_unpack(tarball, dir);
      return g_build_filename(dir, trees[i].folder, "sys", NULL);
    }
    base = g_path_get_basename(tarball);
    into = g_build_filename(dir, base, NULL);
    g_assert_cmpint(g_mkdir_with_parents(into, 0755), ==, 0);
    pp_test_unpack(tarball, into);
    return g_build_filename(into, "sys", NULL);
  }
  g_assert_not_reached();
}

/* The shared, pristine copy of a tree. */
static char *
shared_tree(const char *tarball)
{
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autofree char *base = g_path_get_basename(tarball);

    if (strcmp(trees[i].tarball, tarball) != 0)
      continue;
    if (trees[i].folder != NULL)
      return g_build_filename(shared_dir, trees[i].folder, "sys", NULL);
    return g_build_filename(shared_dir, base, "sys", NULL);
  }
  g_assert_not_reached();
}

/* Runs the probe on @sys with pci.conf @conf (NULL: --all) and @extra
 * arguments (NULL-terminated, may be NULL). */
static void
run_probe(const char *sys, const char *conf, const char *const *extra, PpTestRun *run)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *dir = NULL;
  g_autofree char *conf_path = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();

  g_ptr_array_add(argv, probe);
  g_ptr_array_add(argv, "--sysfs-root");
  g_ptr_array_add(argv, (char *)sys);
  g_ptr_array_add(argv, "--pci-ids");
  g_ptr_array_add(argv, PCI_IDS);
  if (conf == NULL) {
    g_ptr_array_add(argv, "--all");
  } else {
    dir = pp_test_mkdtemp();
    conf_path = g_build_filename(dir, "pci.conf", NULL);
    pp_test_write_file(conf_path, conf);
    g_ptr_array_add(argv, "--config");
    g_ptr_array_add(argv, conf_path);
  }
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(argv, (char *)extra[i]);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, run);
  pp_test_rmtree(dir);
}

/* Runs the probe and parses its output, which must succeed. */
static PpTemplate *
probe_ok(const char *sys, const char *conf)
{
  PpTestRun run = { 0 };
  g_autoptr(GError) error = NULL;
  PpTemplate *out;

  run_probe(sys, conf, NULL, &run);
  if (run.status != 0)
    g_error("the probe failed (%d): %s", run.status, run.err);
  g_assert_cmpstr(run.err, ==, "");
  out = pp_template_parse(run.out, strlen(run.out), NULL, &error);
  g_assert_no_error(error);
  pp_test_run_clear(&run);
  return out;
}

static guint
count_records(const PpTemplate *out)
{
  guint n = 0;

  for (guint i = 0; i < pp_template_get_n_attributes(out); i++) {
    const PpAttribute *attr = pp_template_get_attribute(out, i);

    if (pp_attribute_is_vector(attr)) {
      g_assert_cmpstr(pp_attribute_get_name(attr), ==, "PCI");
      n++;
    }
  }
  return n;
}

/* The record whose SHORT_ADDRESS is @short_address, or NULL. */
static const PpAttribute *
find_record(const PpTemplate *out, const char *short_address)
{
  const PpAttribute *found = NULL;

  for (guint i = 0; i < pp_template_get_n_attributes(out); i++) {
    const PpAttribute *attr = pp_template_get_attribute(out, i);
    const char *addr = pp_attribute_vector_get(attr, "SHORT_ADDRESS");

    if (addr != NULL && strcmp(addr, short_address) == 0) {
      g_assert_null(found); /* each device once */
      found = attr;
    }
  }
  return found;
}

static const PpAttribute *
get_record(const PpTemplate *out, const char *short_address)
{
  const PpAttribute *rec = find_record(out, short_address);

  if (rec == NULL)
    g_error("no record for %s", short_address);
  return rec;
}

static void
assert_attr(const PpAttribute *rec, const char *key, const char *value)
{
  g_assert_cmpstr(pp_attribute_vector_get(rec, key), ==, value);
}

/* ------------------------------------------------------------------------ */
/* An oracle for the filter tests: the ids read straight from the tree's     */
/* files, without pcipass's code.                                            */
/* ------------------------------------------------------------------------ */

typedef struct {
  char *short_address;
  guint vendor, device, class_;
} OracleDevice;

static guint
read_hex_file(const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_autofree char *text = NULL;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return (guint)g_ascii_strtoull(text, NULL, 16);
}

static GArray *
oracle_devices(const char *sys)
{
  g_autofree char *devices_dir = g_build_filename(sys, "bus", "pci", "devices", NULL);
  g_autoptr(GDir) dir = g_dir_open(devices_dir, 0, NULL);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(OracleDevice));
  const char *name;

  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *dev = g_build_filename(devices_dir, name, NULL);
    OracleDevice d;

    /* 0000:05:00.0 -> 05:00.0; other domains keep theirs, as lspci. */
    d.short_address = g_str_has_prefix(name, "0000:") ? g_strdup(name + 5) : g_strdup(name);
    d.vendor = read_hex_file(dev, "vendor");
    d.device = read_hex_file(dev, "device");
    d.class_ = read_hex_file(dev, "class") >> 8;
    g_array_append_val(out, d);
  }
  return out;
}

static void
oracle_free(GArray *devices)
{
  for (guint i = 0; i < devices->len; i++)
    g_free(g_array_index(devices, OracleDevice, i).short_address);
  g_array_unref(devices);
}

typedef gboolean (*Predicate)(const OracleDevice *d);

/* Asserts that the probe with @conf on @sys offers exactly the devices
 * @expect accepts, each once. Returns how many. */
static guint
assert_offers(const char *sys, const char *conf, Predicate expect)
{
  g_autoptr(PpTemplate) out = probe_ok(sys, conf);
  GArray *devices = oracle_devices(sys);
  guint expected = 0;

  for (guint i = 0; i < devices->len; i++) {
    const OracleDevice *d = &g_array_index(devices, OracleDevice, i);
    gboolean offered = find_record(out, d->short_address) != NULL;

    if (offered != expect(d)) {
      g_autofree char *escaped = g_strescape(conf, NULL);

      g_error("%s %04x:%04x:%04x: offered %d, expected %d with '%s'", d->short_address, d->vendor,
              d->device, d->class_, offered, !offered, escaped);
    }
    expected += offered;
  }
  g_assert_cmpuint(count_records(out), ==, expected);
  oracle_free(devices);
  return expected;
}

static gboolean
any(const OracleDevice *d)
{
  return TRUE;
}

static gboolean
none(const OracleDevice *d)
{
  return FALSE;
}

static gboolean
nvidia(const OracleDevice *d)
{
  return d->vendor == 0x10de;
}

static gboolean
grid_k2(const OracleDevice *d)
{
  return d->vendor == 0x10de && d->device == 0x11bf;
}

static gboolean
e82574l(const OracleDevice *d)
{
  return d->device == 0x10d3;
}

static gboolean
intel_usb(const OracleDevice *d)
{
  return d->vendor == 0x8086 && d->class_ == 0x0c03;
}

static gboolean
nvidia_or_virtio_net(const OracleDevice *d)
{
  return d->vendor == 0x10de || (d->vendor == 0x1af4 && d->class_ == 0x0200);
}

static gboolean
intel_or_i350(const OracleDevice *d)
{
  return d->vendor == 0x8086 || d->device == 0x1521;
}

static gboolean
network(const OracleDevice *d)
{
  return d->class_ == 0x0200;
}

static gboolean
intel_or_i350_or_network(const OracleDevice *d)
{
  return intel_or_i350(d) || network(d);
}

/* ------------------------------------------------------------------------ */
/* Device counts, ids, NUMA, drivers, names, host facts                      */
/* ------------------------------------------------------------------------ */

static void
test_counts(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autofree char *sys = shared_tree(trees[i].tarball);
    g_autoptr(PpTemplate) out = probe_ok(sys, NULL);

    if (count_records(out) != trees[i].devices)
      g_error("%s: %u devices, expected %u", trees[i].tarball, count_records(out),
              trees[i].devices);
  }
}

static void
test_ids_and_names(void)
{
  g_autofree char *sys = shared_tree(HWLOC_40INTEL);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  const PpAttribute *rec = get_record(out, "02:00.0");

  /* A Broadcom BCM5709 of a Dell server. */
  assert_attr(rec, "TYPE", "14e4:1639:0200");
  assert_attr(rec, "VENDOR", "14e4");
  assert_attr(rec, "VENDOR_NAME", "Broadcom Inc. and subsidiaries");
  assert_attr(rec, "DEVICE", "1639");
  assert_attr(rec, "DEVICE_NAME", "NetXtreme II BCM5709 Gigabit Ethernet");
  assert_attr(rec, "CLASS", "0200");
  assert_attr(rec, "CLASS_NAME", "Ethernet controller");
  assert_attr(rec, "ADDRESS", "0000:02:00:0");
  assert_attr(rec, "DOMAIN", "0000");
  assert_attr(rec, "BUS", "02");
  assert_attr(rec, "SLOT", "00");
  assert_attr(rec, "FUNCTION", "0");
  assert_attr(rec, "IFNAME", "eth0");
  assert_attr(rec, "SRIOV", "no");
  assert_attr(rec, "DRIVER", "bnx2");
  assert_attr(rec, "SUBSYSTEM_VENDOR", "1028");
  assert_attr(rec, "SUBSYSTEM_DEVICE", "02d3");
  assert_attr(get_record(out, "02:00.1"), "FUNCTION", "1");
  g_assert_null(pp_attribute_vector_get(rec, "PHYSFN"));
  g_assert_null(pp_attribute_vector_get(rec, "SRIOV_NUM"));
  /* No capture has iommu_group links but the laptop's. */
  g_assert_null(pp_attribute_vector_get(rec, "IOMMU_GROUP"));
}

/* The attributes come in DESIGN.md's order, and those a record always has
 * are there; checked on a tree that has every optional attribute too (VFs
 * with PHYSFN, PFs with SR-IOV numbers, IOMMU groups, a reset method, network
 * interfaces, devices the host needs). */
static void
assert_attribute_order(const PpTemplate *out)
{
  static const char *const order[] = {
    "TYPE",
    "VENDOR",
    "VENDOR_NAME",
    "DEVICE",
    "DEVICE_NAME",
    "CLASS",
    "CLASS_NAME",
    "ADDRESS",
    "SHORT_ADDRESS",
    "DOMAIN",
    "BUS",
    "SLOT",
    "FUNCTION",
    "NUMA_NODE",
    "IFNAME",
    "SRIOV",
    "SRIOV_NUM",
    "IOMMU_GROUP",
    "IOMMU_GROUP_ENDPOINTS",
    "DRIVER",
    "PHYSFN",
    "SUBSYSTEM_VENDOR",
    "SUBSYSTEM_DEVICE",
    "RESET_METHOD",
    "SRIOV_TOTAL",
    "HOST_NEEDS",
    "PERM_MAC",
    "VF_INDEX",
  };
  static const char *const always[] = {
    "TYPE",  "VENDOR",     "VENDOR_NAME", "DEVICE",        "DEVICE_NAME",
    "CLASS", "CLASS_NAME", "ADDRESS",     "SHORT_ADDRESS", "DOMAIN",
    "BUS",   "SLOT",       "FUNCTION",    "NUMA_NODE",     "SRIOV",
  };
  GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

  for (guint i = 0; i < pp_template_get_n_attributes(out); i++) {
    const PpAttribute *rec = pp_template_get_attribute(out, i);
    guint at = 0;

    if (!pp_attribute_is_vector(rec))
      continue;
    for (guint k = 0; k < G_N_ELEMENTS(always); k++)
      if (pp_attribute_vector_get(rec, always[k]) == NULL)
        g_error("a record without %s", always[k]);
    for (guint j = 0; j < pp_attribute_vector_get_n_pairs(rec); j++) {
      const char *key;

      pp_attribute_vector_get_pair(rec, j, &key, NULL);
      while (at < G_N_ELEMENTS(order) && strcmp(order[at], key) != 0)
        at++;
      if (at == G_N_ELEMENTS(order))
        g_error("attribute %s out of order or unknown", key);
      g_hash_table_add(seen, (gpointer)order[at]);
    }
  }
  /* Every attribute showed at least once. */
  for (guint k = 0; k < G_N_ELEMENTS(order); k++)
    if (!g_hash_table_contains(seen, order[k]))
      g_error("no record had %s: the order of it was not checked", order[k]);
  g_hash_table_unref(seen);
}

static char *i350_with_vfs(const char *dir);

static void
test_attribute_order(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autofree char *vf = pp_test_sysfs_device_dir(sys, "0000:05:10.0");
  g_autofree char *reset = g_build_filename(vf, "reset_method", NULL);
  g_autofree char *net = g_build_filename(vf, "net", "eth9", "address", NULL);
  g_autofree char *assign = g_build_filename(vf, "net", "eth9", "addr_assign_type", NULL);
  g_autoptr(PpTemplate) out = NULL;

  pp_test_sysfs_set_group(sys, "0000:05:10.0", 41);
  pp_test_sysfs_set_group(sys, "0000:05:00.0", 40);
  pp_test_write_file(reset, "flr\n");
  pp_test_write_file(net, "02:00:0a:00:00:09\n");
  pp_test_write_file(assign, "0\n");
  /* A PF without VFs enabled, which is offered with its SR-IOV numbers,
   * and subsystem ids, which ghw's captures leave out. */
  {
    g_autofree char *bcm = pp_test_sysfs_device_dir(sys, "0000:01:00.0");
    g_autofree char *total = g_build_filename(bcm, "sriov_totalvfs", NULL);
    g_autofree char *sv = g_build_filename(bcm, "subsystem_vendor", NULL);
    g_autofree char *sd = g_build_filename(bcm, "subsystem_device", NULL);

    pp_test_write_file(total, "8\n");
    pp_test_write_file(sv, "0x1028\n");
    pp_test_write_file(sd, "0x0236\n");
  }
  out = probe_ok(sys, NULL);
  assert_attribute_order(out);
  pp_test_rmtree(dir);
}

static void
test_numa_nodes(void)
{
  g_autofree char *sys40 = shared_tree(HWLOC_40INTEL);
  g_autofree char *sys32 = shared_tree(HWLOC_32EM);
  g_autofree char *sys2pa = shared_tree(HWLOC_2PA);
  g_autoptr(PpTemplate) out40 = probe_ok(sys40, NULL);
  g_autoptr(PpTemplate) out32 = probe_ok(sys32, NULL);
  g_autoptr(PpTemplate) out2pa = probe_ok(sys2pa, NULL);

  /* The QLogic InfiniBand HCA sits on node 2 of a 4-node machine. */
  assert_attr(get_record(out40, "43:00.0"), "TYPE", "1077:7322:0c06");
  assert_attr(get_record(out40, "43:00.0"), "NUMA_NODE", "2");
  /* The others say -1 there. */
  assert_attr(get_record(out40, "02:00.0"), "NUMA_NODE", "-");
  /* Two sockets: devices on both nodes. */
  assert_attr(get_record(out32, "00:00.0"), "NUMA_NODE", "0");
  assert_attr(get_record(out32, "80:05.4"), "NUMA_NODE", "1");
  assert_attr(get_record(out32, "83:00.0"), "NUMA_NODE", "1");
  /* A QEMU guest without NUMA: numa_node is -1, printed '-'. */
  assert_attr(get_record(out2pa, "00:03.0"), "NUMA_NODE", "-");
}

static void
test_drivers_and_ifnames(void)
{
  g_autofree char *sys = shared_tree(HWLOC_32EM);
  g_autofree char *nv_sys = shared_tree(GHW_NVIDIA);
  g_autofree char *desk_sys = shared_tree(GHW_DESKTOP);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  g_autoptr(PpTemplate) nv = probe_ok(nv_sys, NULL);
  g_autoptr(PpTemplate) desk = probe_ok(desk_sys, NULL);
  const PpAttribute *gpu = NULL;

  assert_attr(get_record(out, "02:00.0"), "DRIVER", "igb");
  assert_attr(get_record(out, "02:00.0"), "IFNAME", "eth0");
  /* This capture keeps the interfaces' address and addr_assign_type (0:
   * the permanent address): the igb ports' MACs. */
  assert_attr(get_record(out, "02:00.0"), "PERM_MAC", "84:8f:69:fe:cc:40");
  assert_attr(get_record(out, "02:00.3"), "IFNAME", "eth1");
  assert_attr(get_record(out, "02:00.3"), "PERM_MAC", "84:8f:69:fe:cc:41");
  /* ib0's address is InfiniBand's 20 bytes, not a MAC: none. */
  assert_attr(get_record(out, "82:00.0"), "IFNAME", "ib0");
  g_assert_null(pp_attribute_vector_get(get_record(out, "82:00.0"), "PERM_MAC"));
  /* A capture without the interfaces' files: no PERM_MAC, no error. */
  g_assert_null(pp_attribute_vector_get(get_record(desk, "03:00.0"), "PERM_MAC"));
  for (guint i = 0; i < pp_template_get_n_attributes(nv); i++) {
    const PpAttribute *rec = pp_template_get_attribute(nv, i);

    if (g_strcmp0(pp_attribute_vector_get(rec, "VENDOR"), "10de") == 0)
      gpu = rec;
  }
  g_assert_nonnull(gpu);
  assert_attr(gpu, "TYPE", "10de:15f8:0302");
  assert_attr(gpu, "DRIVER", "nvidia");
  /* This capture saved no driver links: no DRIVER, no error. */
  g_assert_null(pp_attribute_vector_get(get_record(desk, "03:00.0"), "DRIVER"));
  assert_attr(get_record(desk, "03:00.0"), "IFNAME", "enp3s0");
}

static void
test_pci_domain_10000(void)
{
  g_autofree char *sys = shared_tree(HWLOC_2PA);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  const PpAttribute *rec = get_record(out, "10000:00:04.0");

  assert_attr(rec, "ADDRESS", "10000:00:04:0");
  assert_attr(rec, "DOMAIN", "10000");
  assert_attr(rec, "BUS", "00");
  assert_attr(rec, "SLOT", "04");
  assert_attr(rec, "TYPE", "1af4:1001:0100");
  /* The same bus and slot in domain 0 is another device. */
  assert_attr(get_record(out, "00:00.0"), "DOMAIN", "0000");
  assert_attr(get_record(out, "10000:00:00.0"), "DOMAIN", "10000");
  /* Sorted by domain first. */
  g_assert_cmpstr(
      pp_attribute_vector_get(pp_template_get_attribute(out, pp_template_get_n_attributes(out) - 1),
                              "ADDRESS"),
      ==, "10000:00:04:0");
}

static void
test_host_facts(void)
{
  g_autofree char *sys = shared_tree(HWLOC_32INTEL);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  PpTestRun run = { 0 };
  g_autoptr(PpTemplate) named = NULL;

  g_assert_cmpstr(pp_template_get_single(out, "CPU_COUNT"), ==, "32");
  g_assert_cmpstr(pp_template_get_single(out, "MEMORY_KIB"), ==, "97445600");
  g_assert_cmpstr(pp_template_get_single(out, "KERNEL_VERSION"), ==, "3.10.0-1160.15.2.el7.x86_64");
  /* The capture has no kernel/hostname: none is invented. */
  g_assert_null(pp_template_get_single(out, "HOSTNAME"));

  run_probe(sys, NULL, (const char *const[]){ "--hostname", "gpu-node-7", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  named = pp_template_parse(run.out, strlen(run.out), NULL, NULL);
  g_assert_cmpstr(pp_template_get_single(named, "HOSTNAME"), ==, "gpu-node-7");
  /* Host facts come first, before the records. */
  g_assert_false(pp_attribute_is_vector(pp_template_get_attribute(named, 0)));
  pp_test_run_clear(&run);
}

static void
test_host_facts_without_online_file(void)
{
  /* ghw's captures have cpuN folders but no cpu/online. */
  g_autofree char *sys = shared_tree(GHW_I350);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);

  g_assert_cmpstr(pp_template_get_single(out, "CPU_COUNT"), ==, "24");
  g_assert_cmpstr(pp_template_get_single(out, "MEMORY_KIB"), ==, "65921280");
}

/* ------------------------------------------------------------------------ */
/* SR-IOV                                                                     */
/* ------------------------------------------------------------------------ */

static void
test_sriov_x722_capable_not_enabled(void)
{
  g_autofree char *sys = shared_tree(HWLOC_32INTEL);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);

  /* sriov_totalvfs=64, sriov_numvfs=0: a PF without VFs is offered. */
  for (guint i = 0; i < 2; i++) {
    const PpAttribute *rec = get_record(out, i == 0 ? "60:00.0" : "60:00.1");

    assert_attr(rec, "TYPE", "8086:37d2:0200");
    assert_attr(rec, "SRIOV", "pf");
    assert_attr(rec, "SRIOV_NUM", "0");
    assert_attr(rec, "SRIOV_TOTAL", "64");
    assert_attr(rec, "DRIVER", "i40e");
  }
  /* The ConnectX-4 has no SR-IOV files in this capture. */
  assert_attr(get_record(out, "1a:00.0"), "TYPE", "15b3:1013:0207");
  assert_attr(get_record(out, "1a:00.0"), "SRIOV", "no");
}

/* ghw pruned the I350's SR-IOV links; put them back as the kernel makes
 * them. The I350 spreads its VFs with offset 0x80 and stride 4 over its
 * two ports: PF 05:00.0 has 10.0, 10.4, 11.0, 11.4; PF 05:00.1 the others. */
static char *
i350_with_vfs(const char *dir)
{
  static const char *const vfs[2][4] = {
    { "0000:05:10.0", "0000:05:10.4", "0000:05:11.0", "0000:05:11.4" },
    { "0000:05:10.1", "0000:05:10.5", "0000:05:11.1", "0000:05:11.5" },
  };
  char *sys = unpack_tree(GHW_I350, dir);

  for (guint pf = 0; pf < 2; pf++) {
    const char *pf_bdf = pf == 0 ? "0000:05:00.0" : "0000:05:00.1";
    g_autofree char *pf_dir = pp_test_sysfs_device_dir(sys, pf_bdf);
    g_autofree char *total = g_build_filename(pf_dir, "sriov_totalvfs", NULL);
    g_autofree char *num = g_build_filename(pf_dir, "sriov_numvfs", NULL);

    pp_test_write_file(total, "7\n");
    pp_test_write_file(num, "4\n");
    for (guint i = 0; i < 4; i++)
      pp_test_sysfs_link_vf(sys, pf_bdf, vfs[pf][i], i);
  }
  return sys;
}

static void
test_sriov_i350_vfs(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  static const char *const pf0_vfs[] = { "05:10.0", "05:10.4", "05:11.0", "05:11.4" };
  static const char *const pf1_vfs[] = { "05:10.1", "05:10.5", "05:11.1", "05:11.5" };

  /* PFs with VFs enabled are not offered; their 8 VFs are. */
  g_assert_null(find_record(out, "05:00.0"));
  g_assert_null(find_record(out, "05:00.1"));
  g_assert_cmpuint(count_records(out), ==, 82 - 2);
  for (guint i = 0; i < 4; i++) {
    const PpAttribute *vf0 = get_record(out, pf0_vfs[i]);
    const PpAttribute *vf1 = get_record(out, pf1_vfs[i]);

    assert_attr(vf0, "TYPE", "8086:1520:0200");
    assert_attr(vf0, "DEVICE_NAME", "I350 Ethernet Controller Virtual Function");
    assert_attr(vf0, "SRIOV", "vf");
    assert_attr(vf0, "PHYSFN", "0000:05:00.0");
    assert_attr(vf0, "DRIVER", "igbvf");
    g_assert_null(pp_attribute_vector_get(vf0, "SRIOV_NUM"));
    assert_attr(vf1, "PHYSFN", "0000:05:00.1");
    /* The index is the N of the PF's virtfnN link, not the order of the
     * addresses: 05:10.4 is PF 0's VF 1, 05:10.1 PF 1's VF 0. */
    g_assert_cmpint(atoi(pp_attribute_vector_get(vf0, "VF_INDEX")), ==, i);
    g_assert_cmpint(atoi(pp_attribute_vector_get(vf1, "VF_INDEX")), ==, i);
  }
  /* NUMA node of the VFs is their own file's. */
  assert_attr(get_record(out, "05:10.0"), "NUMA_NODE", "0");
  pp_test_rmtree(dir);
}

/* What the kernel says of an interface's address decides PERM_MAC: 0
 * (NET_ADDR_PERM) gives it; a MAC set by a driver or a user (3,
 * NET_ADDR_SET), a random one (1), no addr_assign_type, all zeros (a VF
 * never given one) or a multicast address give none. No capture has a VF
 * with an interface: the VF's folder gets one here, as the kernel lays it
 * out (net/IFACE/address and addr_assign_type). */
static void
test_perm_mac_rules(void)
{
  static const struct {
    const char *vf;
    const char *assign; /* NULL: no addr_assign_type */
    const char *address;
    const char *expect; /* NULL: no PERM_MAC */
  } cases[] = {
    { "0000:05:10.0", "0", "02:00:0A:00:00:01", "02:00:0a:00:00:01" },
    { "0000:05:10.4", "3", "02:00:0a:00:00:02", NULL },
    { "0000:05:11.0", "1", "02:00:0a:00:00:03", NULL },
    { "0000:05:11.4", NULL, "02:00:0a:00:00:04", NULL },
    { "0000:05:10.1", "0", "00:00:00:00:00:00", NULL },
    { "0000:05:10.5", "0", "01:00:5e:00:00:01", NULL },
    { "0000:05:11.1", "0", "not a mac", NULL },
    { "0000:05:11.5", "x", "02:00:0a:00:00:08", NULL },
  };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autoptr(PpTemplate) out = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *vf = pp_test_sysfs_device_dir(sys, cases[i].vf);
    g_autofree char *ifname = g_strdup_printf("enp5s16f%u", i);
    g_autofree char *address = g_build_filename(vf, "net", ifname, "address", NULL);
    g_autofree char *text = g_strdup_printf("%s\n", cases[i].address);

    pp_test_write_file(address, text);
    if (cases[i].assign != NULL) {
      g_autofree char *assign = g_build_filename(vf, "net", ifname, "addr_assign_type", NULL);
      g_autofree char *value = g_strdup_printf("%s\n", cases[i].assign);

      pp_test_write_file(assign, value);
    }
  }
  out = probe_ok(sys, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const PpAttribute *rec = get_record(out, cases[i].vf + 5);

    g_test_message("%s", cases[i].vf);
    g_assert_nonnull(pp_attribute_vector_get(rec, "IFNAME"));
    assert_attr(rec, "PERM_MAC", cases[i].expect);
  }
  pp_test_rmtree(dir);
}

/* A VF whose PF has no virtfn link back to it (a capture that pruned them,
 * or a link to another VF) has its PHYSFN but no VF_INDEX. */
static void
test_sriov_vf_index_unknown(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autofree char *pf = pp_test_sysfs_device_dir(sys, "0000:05:00.0");
  g_autofree char *virtfn1 = g_build_filename(pf, "virtfn1", NULL);
  g_autofree char *virtfn2 = g_build_filename(pf, "virtfn2", NULL);
  g_autoptr(PpTemplate) out = NULL;
  const PpAttribute *rec;

  /* virtfn1 (05:10.4) goes; virtfn2 now leads to 05:10.0, which virtfn0
   * leads to too (the kernel has each VF once): the first link listed wins. */
  g_assert_cmpint(unlink(virtfn1), ==, 0);
  g_assert_cmpint(unlink(virtfn2), ==, 0);
  g_assert_cmpint(symlink("../0000:05:10.0", virtfn2), ==, 0);
  out = probe_ok(sys, NULL);
  rec = get_record(out, "05:10.4");
  assert_attr(rec, "PHYSFN", "0000:05:00.0");
  g_assert_null(pp_attribute_vector_get(rec, "VF_INDEX"));
  assert_attr(get_record(out, "05:10.0"), "VF_INDEX", "0");
  g_assert_null(pp_attribute_vector_get(get_record(out, "05:11.0"), "VF_INDEX"));
  assert_attr(get_record(out, "05:11.4"), "VF_INDEX", "3");
  /* PFs and devices without SR-IOV never have one. */
  g_assert_null(pp_attribute_vector_get(get_record(out, "05:10.1"), "SRIOV_NUM"));
  pp_test_rmtree(dir);
}

static void
test_sriov_pf_seen_with_vfs_filtered(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autoptr(PpTemplate) out = NULL;
  g_autoptr(PpTemplate) pfs = NULL;

  /* Asking only for the PF's id: the PFs stay hidden, as their VFs are
   * what is offered; asking for the VFs gives 8. */
  pfs = probe_ok(sys, ":filter: '8086:1521'\n");
  g_assert_cmpuint(count_records(pfs), ==, 0);
  out = probe_ok(sys, ":filter: '8086:1520'\n");
  g_assert_cmpuint(count_records(out), ==, 8);
  pp_test_rmtree(dir);
}

static void
test_sriov_pf_without_vfs_enabled(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = unpack_tree(GHW_I350, dir);
  g_autofree char *pf_dir = pp_test_sysfs_device_dir(sys, "0000:05:00.0");
  g_autofree char *total = g_build_filename(pf_dir, "sriov_totalvfs", NULL);
  g_autofree char *num = g_build_filename(pf_dir, "sriov_numvfs", NULL);
  g_autoptr(PpTemplate) out = NULL;
  const PpAttribute *rec;

  pp_test_write_file(total, "7\n");
  pp_test_write_file(num, "0\n");
  out = probe_ok(sys, NULL);
  rec = get_record(out, "05:00.0");
  assert_attr(rec, "SRIOV", "pf");
  assert_attr(rec, "SRIOV_NUM", "0");
  assert_attr(rec, "SRIOV_TOTAL", "7");
  /* The pruned tree, without the links: the VF ids show, SR-IOV unknown. */
  assert_attr(get_record(out, "05:10.0"), "SRIOV", "no");
  pp_test_rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* IOMMU groups                                                               */
/* ------------------------------------------------------------------------ */

static void
test_iommu_groups_laptop(void)
{
  /* The only capture with iommu_group links (their targets were not saved). */
  g_autofree char *sys = shared_tree(GHW_LAPTOP);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);

  assert_attr(get_record(out, "00:00.0"), "IOMMU_GROUP", "1");
  assert_attr(get_record(out, "00:02.0"), "IOMMU_GROUP", "0");
  assert_attr(get_record(out, "00:0d.0"), "IOMMU_GROUP", "8");
  assert_attr(get_record(out, "00:0d.3"), "IOMMU_GROUP", "8");
  assert_attr(get_record(out, "00:1f.5"), "IOMMU_GROUP", "13");
}

typedef struct {
  const char *bdf;
  gint group;
} GroupLink;

static void
add_groups(const char *sys, const GroupLink *links, guint n)
{
  for (guint i = 0; i < n; i++)
    pp_test_sysfs_set_group(sys, links[i].bdf, links[i].group);
}

static void
assert_groups(const PpTemplate *out, const GroupLink *links, guint n)
{
  for (guint i = 0; i < n; i++) {
    char want[16];

    g_snprintf(want, sizeof(want), "%d", links[i].group);
    assert_attr(get_record(out, links[i].bdf + 5), "IOMMU_GROUP", want);
  }
}

/* A consumer board (AMD 300 series): the chipset's ports lack ACS, so USB,
 * SATA, the bridges and the onboard NIC share a group; the GPU behind a CPU
 * root port has one of its own with its HDMI audio function (and, as some
 * boards do, a dummy host bridge without a driver). */
static void
test_iommu_groups_consumer_board(void)
{
  static const GroupLink links[] = {
    { "0000:01:00.0", 13 }, { "0000:01:00.1", 13 }, { "0000:01:00.2", 13 }, { "0000:02:00.0", 13 },
    { "0000:02:01.0", 13 }, { "0000:02:04.0", 13 }, { "0000:03:00.0", 13 }, { "0000:04:00.0", 13 },
    { "0000:0a:00.1", 16 }, { "0000:0a:00.0", 16 }, { "0000:00:00.0", 16 },
  };
  /* Group 13's endpoints: USB (01:00.0), SATA (01:00.1) and the NIC
   * (03:00.0); its PCI-to-PCI bridges (01:00.2, 02:xx.0, 04:00.0) stay with
   * the host. Group 16's host bridge has no driver: it stays too. */
  static const char group13[] = "0000:01:00.0,0000:01:00.1,0000:03:00.0";
  static const char group16[] = "0000:0a:00.0,0000:0a:00.1";
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = unpack_tree(GHW_DESKTOP, dir);
  g_autoptr(PpTemplate) out = NULL;
  g_autoptr(PpTemplate) gpu_only = NULL;
  const PpAttribute *rec;

  add_groups(sys, links, G_N_ELEMENTS(links));
  out = probe_ok(sys, NULL);
  assert_groups(out, links, G_N_ELEMENTS(links));
  /* Devices without a link have no IOMMU_GROUP, nor endpoints. */
  rec = get_record(out, "06:00.0");
  g_assert_null(pp_attribute_vector_get(rec, "IOMMU_GROUP"));
  g_assert_null(pp_attribute_vector_get(rec, "IOMMU_GROUP_ENDPOINTS"));

  /* Every endpoint's record lists the same endpoints, sorted, itself included. */
  assert_attr(get_record(out, "01:00.0"), "IOMMU_GROUP_ENDPOINTS", group13);
  assert_attr(get_record(out, "01:00.1"), "IOMMU_GROUP_ENDPOINTS", group13);
  assert_attr(get_record(out, "03:00.0"), "IOMMU_GROUP_ENDPOINTS", group13);
  assert_attr(get_record(out, "0a:00.0"), "IOMMU_GROUP_ENDPOINTS", group16);
  assert_attr(get_record(out, "0a:00.1"), "IOMMU_GROUP_ENDPOINTS", group16);
  /* A device that stays with the host names the endpoints and itself. */
  assert_attr(get_record(out, "02:01.0"), "IOMMU_GROUP_ENDPOINTS",
              "0000:01:00.0,0000:01:00.1,0000:02:01.0,0000:03:00.0");
  assert_attr(get_record(out, "00:00.0"), "IOMMU_GROUP_ENDPOINTS",
              "0000:00:00.0,0000:0a:00.0,0000:0a:00.1");
  /* It comes right after IOMMU_GROUP. */
  rec = get_record(out, "0a:00.1");
  for (guint i = 0; i + 1 < pp_attribute_vector_get_n_pairs(rec); i++) {
    const char *key, *next;

    pp_attribute_vector_get_pair(rec, i, &key, NULL);
    pp_attribute_vector_get_pair(rec, i + 1, &next, NULL);
    if (strcmp(key, "IOMMU_GROUP") == 0)
      g_assert_cmpstr(next, ==, "IOMMU_GROUP_ENDPOINTS");
  }

  /* The whole tree counts, not only what pci.conf offers: the GPU alone
   * still names its audio function. */
  gpu_only = probe_ok(sys, ":short_address:\n  - '0a:00.0'\n:filter: '*:*'");
  g_assert_cmpuint(count_records(gpu_only), ==, 1);
  assert_attr(get_record(gpu_only, "0a:00.0"), "IOMMU_GROUP_ENDPOINTS", group16);
  pp_test_rmtree(dir);
}

/* A server: SR-IOV PF and each VF in a group of its own. */
static void
test_iommu_groups_sriov(void)
{
  static const GroupLink links[] = {
    { "0000:05:00.0", 30 }, { "0000:05:00.1", 31 }, { "0000:05:10.0", 40 }, { "0000:05:10.1", 41 },
    { "0000:05:10.4", 42 }, { "0000:05:10.5", 43 }, { "0000:05:11.0", 44 }, { "0000:05:11.1", 45 },
    { "0000:05:11.4", 46 }, { "0000:05:11.5", 47 },
  };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);
  g_autoptr(PpTemplate) out = NULL;

  add_groups(sys, links, G_N_ELEMENTS(links));
  out = probe_ok(sys, ":filter: '8086:1520'");
  assert_groups(out, links + 2, G_N_ELEMENTS(links) - 2);
  pp_test_rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* What the host needs                                                        */
/* ------------------------------------------------------------------------ */

#define PCI_BRIDGE "is a PCI bridge (the devices behind it hang from it)"
#define SERIAL_BUS "is a chipset function (class 0c80, serial bus such as SPI flash or I2C)"
#define TELEMETRY "is a chipset function (class 1180, such as thermal or telemetry)"

/* Asserts that exactly the records of @needed carry HOST_NEEDS, with
 * those values. */
static void
assert_needs(const PpTemplate *out, const char *const (*needed)[2], guint n)
{
  guint seen = 0;

  for (guint i = 0; i < pp_template_get_n_attributes(out); i++) {
    const PpAttribute *rec = pp_template_get_attribute(out, i);
    const char *addr = pp_attribute_vector_get(rec, "SHORT_ADDRESS");
    const char *want = NULL;

    if (!pp_attribute_is_vector(rec))
      continue;
    for (guint k = 0; k < n; k++)
      if (strcmp(needed[k][0], addr) == 0)
        want = needed[k][1];
    if (g_strcmp0(pp_attribute_vector_get(rec, "HOST_NEEDS"), want) != 0)
      g_error("%s: HOST_NEEDS '%s', expected '%s'", addr,
              pp_attribute_vector_get(rec, "HOST_NEEDS"), want);
    seen += want != NULL;
  }
  g_assert_cmpuint(seen, ==, n);
}

/* The laptop as captured (an i7-1270P: every device has its IOMMU group):
 * its bridges and its chipset's functions, and the NVMe that holds /boot by
 * its own /proc/self/mounts; / is on LUKS, whose device-mapper folders the
 * capture left out. The audio function, the USB controllers, the PCH's
 * shared SRAM and the GPU (no console in the capture) are not needed. */
static void
test_host_needs_laptop(void)
{
  static const char *const needed[][2] = {
    { "00:00.0", "is a host bridge (the processor's link to PCI), on igen6_edac" },
    { "00:04.0", TELEMETRY },
    { "00:06.0", PCI_BRIDGE },
    { "00:07.0", PCI_BRIDGE },
    { "00:07.2", PCI_BRIDGE },
    { "00:08.0", "is a chipset function (class 0880, system peripheral)" },
    { "00:0a.0", TELEMETRY },
    { "00:15.0", SERIAL_BUS },
    { "00:15.1", SERIAL_BUS },
    { "00:16.0", "is a chipset function (class 0780, such as the management engine's interface)" },
    { "00:1f.0", "is the ISA/LPC bridge (firmware, timers, the clock)" },
    { "00:1f.4", "is the SMBus controller (sensors, memory SPD)" },
    { "00:1f.5", SERIAL_BUS },
    { "04:00.0",
      "holds /dev/nvme0n1p2, mounted at /boot; holds /dev/nvme0n1p1, mounted at /boot/efi" },
  };
  g_autofree char *sys = shared_tree(GHW_LAPTOP);
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  g_autoptr(PpTemplate) audio = NULL;
  g_autoptr(PpTemplate) isa = NULL;
  const PpAttribute *rec;

  assert_needs(out, needed, G_N_ELEMENTS(needed));
  /* Group 13, which pcipassd must not offer: the audio function is not
   * needed itself, and its endpoints are what they were. */
  rec = get_record(out, "00:1f.3");
  assert_attr(rec, "IOMMU_GROUP", "13");
  assert_attr(rec, "IOMMU_GROUP_ENDPOINTS", "0000:00:1f.0,0000:00:1f.3,0000:00:1f.4,0000:00:1f.5");
  g_assert_null(pp_attribute_vector_get(rec, "HOST_NEEDS"));

  /* pci.conf still chooses what is printed: the audio function alone, or
   * the ISA bridge alone, which says why the host needs it. */
  audio = probe_ok(sys, ":filter: '*:*'\n:short_address:\n  - '00:1f.3'\n");
  g_assert_cmpuint(count_records(audio), ==, 1);
  g_assert_null(pp_attribute_vector_get(get_record(audio, "00:1f.3"), "HOST_NEEDS"));
  isa = probe_ok(sys, ":filter: '*:*:0601'\n");
  g_assert_cmpuint(count_records(isa), ==, 1);
  assert_attr(get_record(isa, "00:1f.0"), "HOST_NEEDS",
              "is the ISA/LPC bridge (firmware, timers, the clock)");
}

/* The record of @short_address in the probe's JSON on @sys. */
static json_t *
json_record(json_t *root, const char *short_address)
{
  json_t *pci = json_object_get(root, "pci");

  for (guint i = 0; i < json_array_size(pci); i++) {
    json_t *rec = json_array_get(pci, i);

    if (g_strcmp0(json_string_value(json_object_get(rec, "SHORT_ADDRESS")), short_address) == 0)
      return rec;
  }
  g_error("no JSON record for %s", short_address);
}

/* A host that mounts / from its NVMe and routes through its Wi-Fi: a copy
 * of the laptop with proc/ as such a host has it, beside sys/ or named
 * with --proc-root, and a /dev tree for --dev-root. */
static void
test_host_needs_storage_and_network(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = unpack_tree(GHW_LAPTOP, dir);
  g_autofree char *root = g_path_get_dirname(sys);
  g_autofree char *proc = g_build_filename(root, "proc", NULL);
  g_autofree char *wifi = pp_test_sysfs_device_dir(sys, "0000:00:14.3");
  g_autofree char *path = NULL;
  g_autofree char *node7 = NULL;
  g_autofree char *node7_proc = NULL;
  g_autofree char *node7_dev = NULL;
  g_autofree char *missing = NULL;
  g_autoptr(PpTemplate) out = NULL;
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root_json;

  /* The interface, as the kernel lays it out. */
  path = g_build_filename(wifi, "net", "wlp0s20f3", "address", NULL);
  pp_test_write_file(path, "a4:c3:f0:11:22:33\n");
  g_free(path);
  path = g_build_filename(sys, "class", "net", "wlp0s20f3", NULL);
  pp_test_symlink("../../devices/pci0000:00/0000:00:14.3/net/wlp0s20f3", path);
  g_free(path);
  /* / on the NVMe's third partition (mountinfo, which the capture lacks,
   * is read before its mounts); the default route through the Wi-Fi. */
  path = g_build_filename(proc, "self", "mountinfo", NULL);
  pp_test_write_file(path, "22 1 259:3 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p3 rw\n"
                           "23 22 0:21 / /proc rw,nosuid,nodev,noexec - proc proc rw\n");
  g_free(path);
  path = g_build_filename(proc, "net", "route", NULL);
  pp_test_write_file(path, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
                           "Window\tIRTT\n"
                           "wlp0s20f3\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
                           "wlp0s20f3\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n");
  g_free(path);

  out = probe_ok(sys, NULL);
  assert_attr(get_record(out, "04:00.0"), "HOST_NEEDS", "holds /dev/nvme0n1p3, mounted at /");
  assert_attr(get_record(out, "00:14.3"), "IFNAME", "wlp0s20f3");
  assert_attr(get_record(out, "00:14.3"), "HOST_NEEDS",
              "is wlp0s20f3, which carries the default route; "
              "is wlp0s20f3, which has an address on 192.168.1.0/24");
  g_assert_null(pp_attribute_vector_get(get_record(out, "00:14.0"), "HOST_NEEDS"));

  /* JSON says the same, and nothing for a device the host does not need. */
  run_probe(sys, NULL, (const char *const[]){ "--json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  root_json = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root_json);
  g_assert_cmpstr(
      json_string_value(json_object_get(json_record(root_json, "04:00.0"), "HOST_NEEDS")), ==,
      "holds /dev/nvme0n1p3, mounted at /");
  g_assert_cmpstr(
      json_string_value(json_object_get(json_record(root_json, "00:14.3"), "HOST_NEEDS")), ==,
      pp_attribute_vector_get(get_record(out, "00:14.3"), "HOST_NEEDS"));
  g_assert_null(json_object_get(json_record(root_json, "00:1f.3"), "HOST_NEEDS"));
  json_decref(root_json);
  pp_test_run_clear(&run);

  /* Named roots: proc elsewhere mounts / by a /dev/disk link (as systemd
   * passes What=), which only the named /dev tree leads to the disk. */
  node7 = g_build_filename(dir, "node7", NULL);
  node7_proc = g_build_filename(node7, "proc", NULL);
  node7_dev = g_build_filename(node7, "dev", NULL);
  g_assert_cmpint(g_mkdir_with_parents(node7, 0755), ==, 0);
  g_assert_cmpint(rename(proc, node7_proc), ==, 0);
  path = g_build_filename(node7_proc, "self", "mountinfo", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  g_free(path);
  path = g_build_filename(node7_proc, "self", "mounts", NULL);
  pp_test_write_file(path, "/dev/disk/by-uuid/8d1e5c2a / ext4 rw,relatime 0 0\n");
  g_free(path);
  path = g_build_filename(node7_dev, "disk", "by-uuid", "8d1e5c2a", NULL);
  pp_test_symlink("../../nvme0n1p3", path);
  run_probe(
      sys, NULL,
      (const char *const[]){ "--proc-root", node7_proc, "--dev-root", node7_dev, "--json", NULL },
      &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  root_json = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root_json);
  g_assert_cmpstr(
      json_string_value(json_object_get(json_record(root_json, "04:00.0"), "HOST_NEEDS")), ==,
      "holds /dev/nvme0n1p3, under /dev/disk/by-uuid/8d1e5c2a mounted at /");
  g_assert_nonnull(json_object_get(json_record(root_json, "00:14.3"), "HOST_NEEDS"));
  json_decref(root_json);
  pp_test_run_clear(&run);

  /* Without the /dev tree (none beside sys/, or one that is not there) the
   * link leads nowhere: the disk is not known to be needed. Not an error:
   * a capture may have no /dev. */
  missing = g_build_filename(dir, "no-such-dev", NULL);
  for (guint i = 0; i < 2; i++) {
    run_probe(sys, NULL,
              i == 0
                  ? (const char *const[]){ "--proc-root", node7_proc, NULL }
                  : (const char *const[]){ "--proc-root", node7_proc, "--dev-root", missing, NULL },
              &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.err, ==, "");
    g_assert_null(strstr(run.out, "holds /dev/nvme0n1p3"));
    g_assert_nonnull(strstr(run.out, "is wlp0s20f3, which carries the default route"));
    pp_test_run_clear(&run);
  }
  pp_test_rmtree(dir);
}

/* Runs the probe on @sys and returns the NVMe's (04:00.0) HOST_NEEDS,
 * having checked that pcipassd reads the report. Returns: (transfer full). */
static char *
nvme_host_needs(const char *sys)
{
  g_autoptr(PpTemplate) out = probe_ok(sys, NULL);
  g_autofree char *text = pp_template_to_string(out);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = pp_probe_report_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  g_assert_nonnull(report);
  return g_strdup(pp_attribute_vector_get(get_record(out, "04:00.0"), "HOST_NEEDS"));
}

/* HOST_NEEDS is what pcipassd reads whatever the host's mounts are (found
 * by fuzz-sysfs: a mount point with a newline, and a disk bind-mounted in
 * many places, as a Kubernetes node's is, made a record pcipassd refused,
 * and the whole host with it): control characters are escaped, and past
 * PP_PCI_HOST_NEEDS_MAX bytes the reasons are counted, not listed. */
static void
test_host_needs_bounded(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = unpack_tree(GHW_LAPTOP, dir);
  g_autofree char *root = g_path_get_dirname(sys);
  g_autofree char *mountinfo = g_build_filename(root, "proc", "self", "mountinfo", NULL);
  g_autoptr(GString) mounts = g_string_new(NULL);
  g_autoptr(GString) want = g_string_new(NULL);
  g_autofree char *needs = NULL;
  g_autofree char *long_dir = g_strnfill(2000, 'd');
  guint listed = 0;

  /* A newline in a mount point, as mountinfo writes it (octal). */
  pp_test_write_file(mountinfo, "22 1 259:3 / /mnt/a\\012b\\011c rw - ext4 /dev/nvme0n1p3 rw\n");
  needs = nvme_host_needs(sys);
  g_assert_cmpstr(needs, ==, "holds /dev/nvme0n1p3, mounted at /mnt/a\\nb\\tc");
  g_clear_pointer(&needs, g_free);

  /* 60 bind mounts of one partition: those that fit, then how many more. */
  for (guint i = 0; i < 60; i++) {
    g_autofree char *reason = g_strdup_printf(
        "holds /dev/nvme0n1p3, mounted at /var/lib/kubelet/pods/%04u/volumes/empty-dir/data", i);

    g_string_append_printf(mounts,
                           "%u 22 259:3 /pods/%04u /var/lib/kubelet/pods/%04u/volumes/empty-dir/"
                           "data rw - ext4 /dev/nvme0n1p3 rw\n",
                           30 + i, i, i);
    if (want->len + 2 + strlen(reason) + 24 <= PP_PCI_HOST_NEEDS_MAX) {
      g_string_append_printf(want, "%s%s", want->len ? "; " : "", reason);
      listed++;
    }
  }
  g_string_append_printf(want, "; and %u more", 60 - listed);
  pp_test_write_file(mountinfo, mounts->str);
  needs = nvme_host_needs(sys);
  g_assert_cmpuint(listed, >, 5);
  g_assert_cmpstr(needs, ==, want->str);
  g_assert_cmpuint(strlen(needs), <=, PP_PCI_HOST_NEEDS_MAX);
  g_clear_pointer(&needs, g_free);

  /* One mount point longer than the bound: cut. */
  g_string_printf(mounts, "22 1 259:3 / /%s rw - ext4 /dev/nvme0n1p3 rw\n", long_dir);
  pp_test_write_file(mountinfo, mounts->str);
  needs = nvme_host_needs(sys);
  g_assert_cmpuint(strlen(needs), ==, PP_PCI_HOST_NEEDS_MAX - 24);
  g_assert_true(g_str_has_prefix(needs, "holds /dev/nvme0n1p3, mounted at /dddd"));
  g_assert_true(g_str_has_suffix(needs, "ddd..."));
  pp_test_rmtree(dir);
}

/* This machine, as the demo runs the probe: the NIC of the IPv4 default
 * route (read here from /proc/net/route and /sys/class/net, without
 * pcipass's code) carries HOST_NEEDS. */
static void
test_host_needs_this_machine(void)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *route = NULL;
  g_autofree char *ifname = NULL;
  g_autofree char *link = NULL;
  g_autofree char *target = NULL;
  g_autofree char *address = NULL;
  g_autofree char *want = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) parts = NULL;
  g_autoptr(PpTemplate) out = NULL;
  PpTestRun run = { 0 };
  const PpAttribute *rec = NULL;

  g_assert_true(g_file_get_contents("/proc/net/route", &route, NULL, NULL));
  lines = g_strsplit(route, "\n", -1);
  for (guint i = 1; lines[i] != NULL && ifname == NULL; i++) {
    g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
    g_autoptr(GPtrArray) w = g_ptr_array_new();

    for (guint j = 0; f[j] != NULL; j++)
      if (f[j][0] != '\0')
        g_ptr_array_add(w, f[j]);
    if (w->len >= 8 && strcmp(g_ptr_array_index(w, 1), "00000000") == 0 &&
        strcmp(g_ptr_array_index(w, 7), "00000000") == 0)
      ifname = g_strdup(g_ptr_array_index(w, 0));
  }
  if (ifname == NULL) {
    g_test_skip("this machine has no IPv4 default route");
    return;
  }
  link = g_build_filename("/sys/class/net", ifname, NULL);
  target = g_file_read_link(link, NULL);
  g_assert_nonnull(target);
  /* ../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0: the last
   * component shaped as a PCI address is the NIC. */
  parts = g_strsplit(target, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_regex_match_simple("^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$", parts[i], 0, 0)) {
      g_free(address);
      address = g_strdup(parts[i]);
    }
  if (address == NULL) {
    g_test_skip("the default route's interface is not on PCI");
    return;
  }
  /* The record's ADDRESS is 0000:00:03:0. */
  address[strlen(address) - 2] = ':';

  pp_test_run((const char *const[]){ probe, "--all", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  out = pp_template_parse(run.out, strlen(run.out), NULL, NULL);
  g_assert_nonnull(out);
  for (guint i = 0; i < pp_template_get_n_attributes(out); i++)
    if (g_strcmp0(pp_attribute_vector_get(pp_template_get_attribute(out, i), "ADDRESS"), address) ==
        0)
      rec = pp_template_get_attribute(out, i);
  g_assert_nonnull(rec);
  want = g_strdup_printf("is %s, which carries the default route", ifname);
  g_assert_nonnull(pp_attribute_vector_get(rec, "HOST_NEEDS"));
  g_assert_nonnull(strstr(pp_attribute_vector_get(rec, "HOST_NEEDS"), want));
  g_test_message("%s (%s): %s", address, ifname, pp_attribute_vector_get(rec, "HOST_NEEDS"));
  pp_test_run_clear(&run);
}

/* ------------------------------------------------------------------------ */
/* pci.conf: every filter form of the guide, and their combinations          */
/* ------------------------------------------------------------------------ */

static void
test_filter_forms(void)
{
  g_autofree char *nv = shared_tree(GHW_NVIDIA);
  g_autofree char *em = shared_tree(HWLOC_32EM);
  g_autofree char *i350 = shared_tree(GHW_I350);
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *fake = pp_test_sysfs_new(dir);

  /* An 82574L exists in no capture: a fake tree has one. */
  pp_test_sysfs_add_device(fake, "0000:03:00.0", 0x8086, 0x10d3, 0x020000, -1, "e1000e");
  pp_test_sysfs_add_device(fake, "0000:04:00.0", 0x8086, 0x10c9, 0x020000, -1, "igb");

  g_assert_cmpuint(assert_offers(nv, ":filter: '10de:*'\n", nvidia), ==, 1);
  g_assert_cmpuint(assert_offers(nv, ":filter: '10de:11bf'\n", grid_k2), ==, 0);
  g_assert_cmpuint(assert_offers(fake, ":filter: '*:10d3'\n", e82574l), ==, 1);
  g_assert_cmpuint(assert_offers(em, ":filter: '*:10d3'\n", e82574l), ==, 0);
  g_assert_cmpuint(assert_offers(em, ":filter: '8086::0c03'\n", intel_usb), >, 0);
  g_assert_cmpuint(assert_offers(em, ":filter: '*:*'\n", any), ==, 137);
  g_assert_cmpuint(assert_offers(em, ":filter: '0:0'\n", none), ==, 0);
  /* Absent: the reference's default '0:0'. An empty file: the same. */
  g_assert_cmpuint(assert_offers(em, "# nothing\n", none), ==, 0);
  g_assert_cmpuint(assert_offers(em, "", none), ==, 0);
  /* Null: OpenNebula's "NULL filter", every device. */
  g_assert_cmpuint(assert_offers(em, ":filter:\n", any), ==, 137);
  /* A list, and a string with commas. */
  assert_offers(nv, ":filter:\n  - '10de:*'\n  - '1af4::0200'\n", nvidia_or_virtio_net);
  assert_offers(nv, ":filter: '10de:*, 1af4::0200'\n", nvidia_or_virtio_net);
  assert_offers(nv, ":filter: [ '10de:*,1af4::0200' ]\n", nvidia_or_virtio_net);
  /* Unquoted, which Ruby's YAML would read as a number. */
  assert_offers(em, ":filter: 8086::0c03\n", intel_usb);
  /* Upper-case hex. */
  assert_offers(em, ":filter: '8086::0C03'\n", intel_usb);
  /* A device matched by several patterns is printed once. */
  assert_offers(i350, ":filter:\n  - '8086:*'\n  - '*:1521'\n  - '::0200'\n",
                intel_or_i350_or_network);
  pp_test_rmtree(dir);
}

static gboolean
bcm_at_02(const OracleDevice *d)
{
  return strcmp(d->short_address, "02:00.0") == 0 || strcmp(d->short_address, "02:00.1") == 0;
}

static gboolean
bcm_at_02_0(const OracleDevice *d)
{
  return strcmp(d->short_address, "02:00.0") == 0;
}

static gboolean
virtual_function(const OracleDevice *d)
{
  return d->device == 0x1520;
}

/* "Gigabit" names the BCM5709s and the I350 PFs, but the PFs are hidden by
 * their VFs, whose name "^I350 Ethernet" matches. */
static gboolean
bcm_or_i350_vf(const OracleDevice *d)
{
  return d->device == 0x1639 || d->device == 0x1520;
}

static gboolean
megaraid(const OracleDevice *d)
{
  return d->vendor == 0x1000 && d->device == 0x0060;
}

static gboolean
in_domain_10000(const OracleDevice *d)
{
  return g_str_has_prefix(d->short_address, "10000:00:04.0");
}

static void
test_filter_short_address(void)
{
  g_autofree char *sys = shared_tree(HWLOC_40INTEL);
  g_autofree char *pa = shared_tree(HWLOC_2PA);

  assert_offers(sys, ":filter: '*:*'\n:short_address:\n  - '02:00.0'\n  - '02:00.1'\n", bcm_at_02);
  /* With the domain, in any case; the filter still applies (AND). */
  assert_offers(sys, ":filter: '14e4:*'\n:short_address: [ '0000:02:00.0', '0000:FF:1f.7' ]\n",
                bcm_at_02_0);
  assert_offers(sys, ":filter: '*:*'\n:short_address: '02:00.0, 02:00.1'\n", bcm_at_02);
  g_assert_cmpuint(assert_offers(sys, ":filter: '8086:*'\n:short_address:\n  - '02:00.0'\n", none),
                   ==, 0);
  /* An empty list does not restrict. */
  g_assert_cmpuint(assert_offers(sys, ":filter: '*:*'\n:short_address: []\n", any), ==, 37);
  /* Other domains are told apart. */
  assert_offers(pa, ":filter: '*:*'\n:short_address: [ '10000:00:04.0' ]\n", in_domain_10000);
}

static void
test_filter_device_name(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = i350_with_vfs(dir);

  /* The guide's examples: case-insensitive regular expressions. */
  g_assert_cmpuint(assert_offers(sys, ":filter: '*:*'\n:device_name:\n  - 'virtual function'\n",
                                 virtual_function),
                   ==, 8);
  assert_offers(sys, ":filter: '*:*'\n:device_name:\n  - 'Gigabit'\n  - '^I350 Ethernet'\n",
                bcm_or_i350_vf);
  g_assert_cmpuint(assert_offers(sys, ":filter: '*:*'\n:device_name:\n  - '^MegaRAID'\n", megaraid),
                   ==, 1);
  g_assert_cmpuint(assert_offers(sys, ":filter: '*:*'\n:device_name:\n  - '^SAS 1078'\n", none), ==,
                   0);
  /* Combined with :filter (AND). */
  g_assert_cmpuint(
      assert_offers(sys, ":filter: '14e4:*'\n:device_name: [ 'Virtual Function' ]\n", none), ==, 0);
  pp_test_rmtree(dir);
}

static gboolean
bcm_second_port(const OracleDevice *d)
{
  return d->device == 0x1639 && g_str_has_suffix(d->short_address, ".1");
}

static void
test_filter_all_three(void)
{
  g_autofree char *sys = shared_tree(GHW_I350);

  /* Four BCM5709 ports: the filter takes them, the addresses two, the name
   * regex both of those. */
  assert_offers(sys,
                ":filter: '14e4:1639:0200'\n"
                ":short_address: [ '01:00.1', '02:00.1', '05:00.0' ]\n"
                ":device_name: [ 'BCM5709' ]\n",
                bcm_second_port);
}

/* ------------------------------------------------------------------------ */
/* Bad input: pci.conf, pci.ids, the sysfs root                               */
/* ------------------------------------------------------------------------ */

/* Runs the probe with @conf and expects exit 2, nothing on stdout, and
 * each of @fragments in stderr. */
static void
assert_conf_error(const char *conf, const char *const *fragments)
{
  g_autofree char *sys = shared_tree(HWLOC_2PA);
  PpTestRun run = { 0 };

  run_probe(sys, conf, NULL, &run);
  if (run.status != 2 || run.out[0] != '\0')
    g_error("expected exit 2 and no output for\n%s\ngot %d, '%s', '%s'", conf, run.status, run.out,
            run.err);
  g_assert_true(g_str_has_prefix(run.err, "pcipass-probe: /"));
  g_assert_nonnull(strstr(run.err, "/pci.conf: "));
  for (guint i = 0; fragments[i] != NULL; i++)
    if (strstr(run.err, fragments[i]) == NULL)
      g_error("'%s' not in the error '%s'", fragments[i], run.err);
  pp_test_run_clear(&run);
}

static void
test_conf_errors(void)
{
  assert_conf_error(":filter: '1af4'\n",
                    (const char *const[]){ "line 1, column 10", ":filter",
                                           "'1af4' is not a vendor:device[:class] pattern",
                                           "1af4:*", NULL });
  assert_conf_error("# comment\n:filter:\n  - '10de:*'\n  - 'xyz:1'\n",
                    (const char *const[]){ "line 4, column 5", "the vendor 'xyz'", NULL });
  assert_conf_error(":filter: '10de:11bf:0300:01'\n",
                    (const char *const[]){ "line 1", "more than two ':'", NULL });
  assert_conf_error(":filter: '12345:1'\n", (const char *const[]){ "up to 4 hex digits", NULL });
  assert_conf_error(":filter: '10de:*,'\n",
                    (const char *const[]){ "line 1", "empty pattern", NULL });
  assert_conf_error(":filter: '*:*'\n:device_name:\n  - 'Ethernet'\n  - '(unclosed'\n",
                    (const char *const[]){ "line 4, column 5", ":device_name",
                                           "'(unclosed' is not a valid regular expression", NULL });
  assert_conf_error(":filter:\n  a: 1\n",
                    (const char *const[]){ "line 2, column 3",
                                           ":filter must be a pattern or a list of patterns, "
                                           "not a mapping",
                                           NULL });
  assert_conf_error(
      ":filter:\n  - [ '10de:*' ]\n",
      (const char *const[]){ "line 2", "each item of :filter must be a string", NULL });
  assert_conf_error(":short_address:\n  - '1:2:3:4'\n",
                    (const char *const[]){ "line 2", ":short_address", "not a PCI address", NULL });
  assert_conf_error(":short_address: { a: b }\n",
                    (const char *const[]){ "line 1", "not a mapping", NULL });
  assert_conf_error("- '10de:*'\n",
                    (const char *const[]){ "line 1, column 1", "must be a mapping", NULL });
  assert_conf_error("filter: '*:*'\n",
                    (const char *const[]){ "unknown key 'filter'", "start with ':'", NULL });
  assert_conf_error(":filters: '*:*'\n", (const char *const[]){ "unknown key ':filters'", NULL });
  assert_conf_error(":filter: '*:*'\n:filter: '0:0'\n",
                    (const char *const[]){ "line 2", ":filter is given twice", NULL });
  assert_conf_error(":filter: [ '*:*'\n",
                    (const char *const[]){ "line 2", "not valid YAML", NULL });
  assert_conf_error(":filter: '*:*'\n---\n:filter: '0:0'\n",
                    (const char *const[]){ "line 3", "a second YAML document", NULL });
}

static void
test_conf_unreadable(void)
{
  g_autofree char *sys = shared_tree(HWLOC_2PA);
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
  PpTestRun run = { 0 };

  pp_test_run((const char *const[]){ probe, "--sysfs-root", sys, "--config", missing, NULL }, NULL,
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, missing));
  g_assert_nonnull(strstr(run.err, "No such file or directory"));
  pp_test_run_clear(&run);

  /* A folder where a file should be. */
  pp_test_run((const char *const[]){ probe, "--sysfs-root", sys, "--config", dir, NULL }, NULL,
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, dir));
  g_assert_nonnull(strstr(run.err, "it is a folder"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

static void
test_bad_usage(void)
{
  g_autofree char *sys = shared_tree(HWLOC_2PA);
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *missing = g_build_filename(dir, "nothing-here", NULL);
  g_autofree char *ids = g_build_filename(dir, "pci.ids", NULL);
  PpTestRun run = { 0 };

  pp_test_run((const char *const[]){ probe, "--all", "--sysfs-root", missing, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, missing));
  pp_test_run_clear(&run);

  pp_test_run(
      (const char *const[]){ probe, "--all", "--sysfs-root", sys, "--pci-ids", missing, NULL },
      NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, "cannot read the PCI ID file"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ probe, "--all", "--sysfs-root", sys, "--pci-ids", dir, NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "it is a folder"));
  pp_test_run_clear(&run);

  /* A damaged pci.ids: libpci's own message, exit 2, no output. */
  pp_test_write_file(ids, "8086  Intel\n\tzzzz  bad line\n");
  pp_test_run((const char *const[]){ probe, "--all", "--sysfs-root", sys, "--pci-ids", ids, NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, "pci.ids: "));
  g_assert_nonnull(strstr(run.err, "line 2"));
  /* One line, not libpci's newline and ours. */
  g_assert_cmpuint(pp_test_count(run.err, "\n"), ==, 1);
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ probe, "--all", "--format", "xml", "--sysfs-root", sys, NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "unknown format 'xml'"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ probe, "--all", "--config", "x", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "exclude each other"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ probe, "--no-such-option", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--no-such-option"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ probe, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  for (guint i = 0; i < 6; i++) {
    static const char *const documented[] = { "--sysfs-root", "--config",       "--pci-ids",
                                              "--format",     ":short_address", ":device_name" };

    g_assert_nonnull(strstr(run.out, documented[i]));
  }
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* Missing and damaged files in a tree                                        */
/* ------------------------------------------------------------------------ */

static void
test_missing_files_are_normal(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = pp_test_sysfs_new(dir);
  g_autofree char *bare = NULL;
  g_autofree char *path = NULL;
  g_autoptr(PpTemplate) out = NULL;
  PpTestRun run = { 0 };
  const PpAttribute *rec;

  /* A device with only vendor, device and class. */
  pp_test_sysfs_add_device(sys, "0000:01:00.0", 0x10de, 0x1db4, 0x030200, -1, NULL);
  bare = pp_test_sysfs_device_dir(sys, "0000:01:00.0");
  path = g_build_filename(bare, "numa_node", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  /* One whose ids cannot be read at all: skipped, with a warning. */
  pp_test_sysfs_add_device(sys, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, -1, NULL);
  g_free(path);
  path = g_build_filename(sys, "devices", "pci0000:00", "0000:02:00.0", "vendor", NULL);
  pp_test_write_file(path, "garbage\n");
  /* One whose numa_node is damaged: '-'. */
  pp_test_sysfs_add_device(sys, "0000:03:00.0", 0x8086, 0x1521, 0x020000, -1, "igb");
  g_free(path);
  path = g_build_filename(sys, "devices", "pci0000:00", "0000:03:00.0", "numa_node", NULL);
  pp_test_write_file(path, "zero\n");
  /* An entry that is not an address. */
  g_free(path);
  path = g_build_filename(sys, "bus", "pci", "devices", "not-a-device", NULL);
  pp_test_write_file(path, "");

  run_probe(sys, NULL, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.err, "0000:02:00.0: cannot read its ids: "));
  g_assert_nonnull(strstr(run.err, "'garbage'"));
  g_assert_nonnull(strstr(run.err, ", skipping\n"));
  g_assert_nonnull(strstr(run.err, "'not-a-device' is not a PCI address"));
  out = pp_template_parse(run.out, strlen(run.out), NULL, NULL);
  g_assert_cmpuint(count_records(out), ==, 2);
  rec = get_record(out, "01:00.0");
  assert_attr(rec, "NUMA_NODE", "-");
  assert_attr(rec, "SRIOV", "no");
  g_assert_null(pp_attribute_vector_get(rec, "DRIVER"));
  g_assert_null(pp_attribute_vector_get(rec, "SUBSYSTEM_VENDOR"));
  g_assert_null(pp_attribute_vector_get(rec, "IFNAME"));
  g_assert_null(pp_attribute_vector_get(rec, "RESET_METHOD"));
  assert_attr(get_record(out, "03:00.0"), "NUMA_NODE", "-");
  assert_attr(get_record(out, "03:00.0"), "DRIVER", "igb");
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

static void
test_ids_from_config_space(void)
{
  /* Without the id files, the first bytes of config give the ids (as
   * libpci reads them). */
  static const guint8 config[64] = {
    [0x00] = 0x86, [0x01] = 0x80, [0x02] = 0xd3, [0x03] = 0x10, /* 8086:10d3 */
    [0x09] = 0x00, [0x0a] = 0x00, [0x0b] = 0x02,                /* class 020000 */
    [0x0e] = 0x00,                                              /* header type 0 */
    [0x2c] = 0x28, [0x2d] = 0x10, [0x2e] = 0x34, [0x2f] = 0x12, /* 1028:1234 */
  };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = pp_test_sysfs_new(dir);
  g_autofree char *dev = NULL;
  g_autofree char *path = NULL;
  g_autoptr(PpTemplate) out = NULL;
  const PpAttribute *rec;

  pp_test_sysfs_add_device(sys, "0000:05:00.0", 0, 0, 0, -1, NULL);
  dev = pp_test_sysfs_device_dir(sys, "0000:05:00.0");
  for (guint i = 0; i < 3; i++) {
    static const char *const files[] = { "vendor", "device", "class" };

    g_free(path);
    path = g_build_filename(dev, files[i], NULL);
    g_assert_cmpint(unlink(path), ==, 0);
  }
  g_free(path);
  path = g_build_filename(dev, "config", NULL);
  g_assert_true(g_file_set_contents(path, (const char *)config, sizeof(config), NULL));
  /* A reset_method and two interfaces. */
  g_free(path);
  path = g_build_filename(dev, "reset_method", NULL);
  pp_test_write_file(path, "flr bus\n");
  g_free(path);
  path = g_build_filename(dev, "net", "eth1", "address", NULL);
  pp_test_write_file(path, "");
  g_free(path);
  path = g_build_filename(dev, "net", "eth0", "address", NULL);
  pp_test_write_file(path, "");

  out = probe_ok(sys, NULL);
  rec = get_record(out, "05:00.0");
  assert_attr(rec, "TYPE", "8086:10d3:0200");
  assert_attr(rec, "SUBSYSTEM_VENDOR", "1028");
  assert_attr(rec, "SUBSYSTEM_DEVICE", "1234");
  assert_attr(rec, "RESET_METHOD", "flr bus");
  assert_attr(rec, "IFNAME", "eth0,eth1");
  pp_test_rmtree(dir);
}

static void
test_no_pci_bus(void)
{
  /* A machine (or container) without PCI: host facts, no records. */
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = g_build_filename(dir, "sys", NULL);
  g_autofree char *online = g_build_filename(sys, "devices", "system", "cpu", "online", NULL);
  g_autofree char *want = NULL;
  g_autoptr(PpTemplate) out = NULL;
  PpTestRun run = { 0 };

  pp_test_write_file(online, "0-3,8-11\n");
  run_probe(sys, NULL, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  want = g_strdup_printf("pcipass-probe: '%s' has no bus/pci/devices: no PCI devices (is it a "
                         "sysfs root, such as /sys?)\n",
                         sys);
  g_assert_cmpstr(run.err, ==, want);
  out = pp_template_parse(run.out, strlen(run.out), NULL, NULL);
  g_assert_cmpuint(count_records(out), ==, 0);
  g_assert_cmpstr(pp_template_get_single(out, "CPU_COUNT"), ==, "8");
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* Writes @text into the file @name of device @bdf. */
static void
write_attr(const char *sys, const char *bdf, const char *name, const char *text)
{
  g_autofree char *dev = pp_test_sysfs_device_dir(sys, bdf);
  g_autofree char *path = g_build_filename(dev, name, NULL);

  pp_test_write_file(path, text);
}

/* Every number the probe reads from the trees is bounded where it is read,
 * and so are the host's name and kernel release, by the bounds pcipassd
 * reads the report with (fuzz-sysfs found a kernel release that pcipassd
 * refused): a value past them is not
 * reported, the probe says so on stderr (", ignoring"), and what it prints
 * is a report that pcipassd accepts. At the bounds, values are reported. */
static void
test_numbers_bounded(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = pp_test_sysfs_new(dir);
  g_autofree char *online = g_build_filename(sys, "devices", "system", "cpu", "online", NULL);
  g_autofree char *meminfo = g_build_filename(dir, "proc", "meminfo", NULL);
  g_autofree char *osrelease = g_build_filename(dir, "proc", "sys", "kernel", "osrelease", NULL);
  g_autofree char *hostname = g_build_filename(dir, "proc", "sys", "kernel", "hostname", NULL);
  g_autofree char *long_release = g_strnfill(1025, 'r');
  g_autoptr(PpTemplate) out = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PpTestRun) run = { 0 };
  const PpAttribute *rec;

  /* 1048577 CPUs online, and more memory than 64 bits hold. */
  pp_test_write_file(online, "0-1048576\n");
  pp_test_write_file(meminfo, "MemTotal:       18446744073709551616 kB\nMemFree: 1 kB\n");
  /* A kernel release longer than a report takes; a host name file of two
   * lines (the first is the name). */
  pp_test_write_file(osrelease, long_release);
  pp_test_write_file(hostname, "node7\nmore\n");
  pp_test_sysfs_add_device(sys, "0000:01:00.0", 0x8086, 0x1521, 0x020000, 2000000, NULL);
  write_attr(sys, "0000:01:00.0", "numa_node", "5000\n");
  pp_test_sysfs_add_device(sys, "0000:02:00.0", 0x8086, 0x1521, 0x020000, 1000000, NULL);
  write_attr(sys, "0000:02:00.0", "numa_node", "4095\n");
  pp_test_sysfs_add_device(sys, "0000:03:00.0", 0x8086, 0x1521, 0x020000, -1, NULL);
  write_attr(sys, "0000:03:00.0", "numa_node", "-7\n");
  write_attr(sys, "0000:03:00.0", "sriov_totalvfs", "70000\n");
  pp_test_sysfs_add_device(sys, "0000:04:00.0", 0x8086, 0x1521, 0x020000, -1, NULL);
  write_attr(sys, "0000:04:00.0", "sriov_totalvfs", "65535\n");
  write_attr(sys, "0000:04:00.0", "sriov_numvfs", "65536\n");
  /* A driver link whose name pcipassd would refuse (found by fuzz-sysfs). */
  pp_test_sysfs_add_device(sys, "0000:05:00.0", 0x8086, 0x1521, 0x020000, -1, "ehci-pc*ai");

  run_probe(sys, NULL, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==,
                  "pcipass-probe: 0000:01:00.0: numa_node '5000' is not a node number from 0 to "
                  "4095 (or -1), ignoring\n"
                  "pcipass-probe: 0000:01:00.0: its iommu_group link names '2000000', not a group "
                  "number from 0 to 1000000, ignoring\n"
                  "pcipass-probe: 0000:03:00.0: numa_node '-7' is not a node number from 0 to 4095 "
                  "(or -1), ignoring\n"
                  "pcipass-probe: 0000:03:00.0: sriov_totalvfs '70000' is not a number of VFs from "
                  "0 to 65535, ignoring\n"
                  "pcipass-probe: 0000:04:00.0: sriov_numvfs '65536' is not a number of VFs from 0 "
                  "to 65535, ignoring\n"
                  "pcipass-probe: 0000:05:00.0: its driver link names 'ehci-pc*ai', not a driver "
                  "name (1 to 64 of [A-Za-z0-9_.-]), ignoring\n"
                  "pcipass-probe: 'devices/system/cpu/online' ('0-1048576') counts more than 16384 "
                  "CPUs, ignoring\n"
                  "pcipass-probe: 'meminfo': MemTotal '18446744073709551616 kB' is not a size in "
                  "KiB that adds up to at most 4398046511104, ignoring\n"
                  "pcipass-probe: 'sys/kernel/osrelease' is longer than 1024 bytes, ignoring\n");
  out = pp_template_parse(run.out, strlen(run.out), NULL, &error);
  g_assert_no_error(error);
  g_assert_null(pp_template_find(out, "CPU_COUNT"));
  g_assert_null(pp_template_find(out, "MEMORY_KIB"));
  g_assert_null(pp_template_find(out, "KERNEL_VERSION"));
  g_assert_cmpstr(pp_template_get_single(out, "HOSTNAME"), ==, "node7");
  rec = get_record(out, "01:00.0");
  assert_attr(rec, "NUMA_NODE", "-");
  assert_attr(rec, "IOMMU_GROUP", NULL);
  rec = get_record(out, "02:00.0");
  assert_attr(rec, "NUMA_NODE", "4095");
  assert_attr(rec, "IOMMU_GROUP", "1000000");
  rec = get_record(out, "03:00.0");
  assert_attr(rec, "NUMA_NODE", "-");
  assert_attr(rec, "SRIOV", "no");
  rec = get_record(out, "04:00.0");
  assert_attr(rec, "SRIOV", "pf");
  assert_attr(rec, "SRIOV_TOTAL", "65535");
  assert_attr(rec, "SRIOV_NUM", "0");
  assert_attr(get_record(out, "05:00.0"), "DRIVER", NULL);

  /* pcipassd reads it. */
  report = pp_probe_report_parse(run.out, strlen(run.out), &error);
  g_assert_no_error(error);
  g_assert_cmpuint(report->devices->len, ==, 5);
  g_assert_cmpint(report->cpu_count, ==, -1);
  pp_test_run_clear(&run);

  /* A --hostname pcipassd would refuse is bad usage. */
  run_probe(sys, NULL, (const char *const[]){ "--hostname", "a\nb", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==,
                  "pcipass-probe: --hostname: a host name is 1 to 1024 bytes on one line\n");
  pp_test_rmtree(dir);
}

static void
test_escaping_root(void)
{
  /* A tree whose links point outside it (absolute, or too many '..'):
   * resolution stays inside the root, so nothing of this machine leaks. */
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = pp_test_sysfs_new(dir);
  g_autofree char *abs_link = g_build_filename(sys, "bus", "pci", "devices", "0000:00:01.0", NULL);
  g_autofree char *up_link = g_build_filename(sys, "bus", "pci", "devices", "0000:00:02.0", NULL);
  PpTestRun run = { 0 };

  g_assert_cmpint(symlink("/sys/bus/pci/devices/0000:00:00.0", abs_link), ==, 0);
  g_assert_cmpint(
      symlink("../../../../../../../../../../sys/bus/pci/devices/0000:00:00.0", up_link), ==, 0);
  run_probe(sys, NULL, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  if (strstr(run.err, "refuses openat2") != NULL) {
    /* Without openat2 (old kernels, strict seccomp) the probe says it
     * cannot confine the tree, which is all it can do. */
    g_test_message("openat2 unavailable: confinement not checked");
    pp_test_run_clear(&run);
    pp_test_rmtree(dir);
    return;
  }
  g_assert_null(strstr(run.out, "PCI = ["));
  g_assert_nonnull(strstr(run.err, "/0000:00:01.0': No such file or directory, skipping"));
  g_assert_nonnull(strstr(run.err, "/0000:00:02.0': No such file or directory, skipping"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* Output formats                                                             */
/* ------------------------------------------------------------------------ */

static void
test_json_is_the_same(void)
{
  g_autofree char *sys = shared_tree(HWLOC_32INTEL);
  g_autoptr(PpTemplate) tmpl = probe_ok(sys, NULL);
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root, *host, *pci;
  guint records = 0;

  run_probe(sys, NULL, (const char *const[]){ "--format", "json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  host = json_object_get(root, "host");
  pci = json_object_get(root, "pci");
  g_assert_true(json_is_object(host));
  g_assert_true(json_is_array(pci));

  /* Same attributes, same values, same order. */
  for (guint i = 0, singles = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);
    json_t *rec;
    void *iter;

    if (!pp_attribute_is_vector(attr)) {
      iter = json_object_iter(host);
      for (guint k = 0; k < singles; k++)
        iter = json_object_iter_next(host, iter);
      g_assert_cmpstr(json_object_iter_key(iter), ==, pp_attribute_get_name(attr));
      g_assert_cmpstr(json_string_value(json_object_iter_value(iter)), ==,
                      pp_attribute_get_value(attr));
      singles++;
      continue;
    }
    rec = json_array_get(pci, records++);
    g_assert_cmpuint(json_object_size(rec), ==, pp_attribute_vector_get_n_pairs(attr));
    iter = json_object_iter(rec);
    for (guint j = 0; j < pp_attribute_vector_get_n_pairs(attr); j++) {
      const char *k, *v;

      pp_attribute_vector_get_pair(attr, j, &k, &v);
      g_assert_cmpstr(json_object_iter_key(iter), ==, k);
      g_assert_cmpstr(json_string_value(json_object_iter_value(iter)), ==, v);
      iter = json_object_iter_next(rec, iter);
    }
  }
  g_assert_cmpuint(json_array_size(pci), ==, records);
  g_assert_cmpuint(records, ==, 28);
  json_decref(root);
  pp_test_run_clear(&run);

  /* --json is --format json; the two together must agree. */
  pp_test_run((const char *const[]){ probe, "--all", "--json", "--sysfs-root", sys, "--pci-ids",
                                     PCI_IDS, NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"pci\": ["));
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ probe, "--all", "--json", "--format", "template",
                                     "--sysfs-root", sys, NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "exclude each other"));
  pp_test_run_clear(&run);
}

/* ------------------------------------------------------------------------ */
/* Against lspci                                                              */
/* ------------------------------------------------------------------------ */

/* "Intel Corporation [8086]" -> name and id. */
static void
split_name_id(const char *field, char **ret_name, char **ret_id)
{
  gsize len = strlen(field);

  if (len >= 7 && field[len - 1] == ']' && field[len - 6] == '[' && field[len - 7] == ' ') {
    *ret_name = g_strndup(field, len - 7);
    *ret_id = g_strndup(field + len - 5, 4);
  } else {
    *ret_name = g_strdup(field);
    *ret_id = NULL;
  }
}

/* lspci -mmnn prints an unknown name as "Device [0d57]", where libpci's
 * plain lookup, which the probe uses, gives "Device 0d57"; and a known class
 * with an unknown subclass as "Unassigned class [ffff]" in both forms. */
static gboolean
same_name(const char *ours, const char *lspci_name, const char *id)
{
  g_autofree char *numeric = g_strdup_printf("%s %s", lspci_name, id);
  g_autofree char *bracketed = g_strdup_printf("%s [%s]", lspci_name, id);

  return strcmp(ours, lspci_name) == 0 || strcmp(ours, numeric) == 0 ||
         strcmp(ours, bracketed) == 0;
}

/* Compares the probe's output on @sys, with a pci.conf that offers every
 * device, with `lspci -mmnn -D` run with @lspci_args. Returns the number of
 * devices. */
static guint
compare_with_lspci(const char *sys, const char *const *lspci_args)
{
  /* pci.conf as the issue says: every device. */
  g_autoptr(PpTemplate) out = probe_ok(sys, ":filter: '*:*'\n");
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  PpTestRun run = { 0 };
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  g_ptr_array_add(argv, "/usr/bin/lspci");
  for (guint i = 0; lspci_args[i] != NULL; i++)
    g_ptr_array_add(argv, (char *)lspci_args[i]);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);

  lines = g_strsplit(run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
    g_auto(GStrv) words = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *cls = NULL, *cls_id = NULL, *ven = NULL, *ven_id = NULL;
    g_autofree char *dev = NULL, *dev_id = NULL;
    g_autofree char *addr_one = NULL;
    const PpAttribute *rec = NULL;
    char *dot;

    g_assert_true(g_shell_parse_argv(lines[i], NULL, &words, &error));
    /* lspci's 0000:3b:00.1; the record's ADDRESS is 0000:3b:00:1. */
    addr_one = g_strdup(words[0]);
    dot = strrchr(addr_one, '.');
    *dot = ':';
    for (guint j = 0; j < pp_template_get_n_attributes(out) && rec == NULL; j++)
      if (g_strcmp0(pp_attribute_vector_get(pp_template_get_attribute(out, j), "ADDRESS"),
                    addr_one) == 0)
        rec = pp_template_get_attribute(out, j);
    if (rec == NULL)
      g_error("lspci lists %s, the probe does not", words[0]);
    split_name_id(words[1], &cls, &cls_id);
    split_name_id(words[2], &ven, &ven_id);
    split_name_id(words[3], &dev, &dev_id);
    assert_attr(rec, "CLASS", cls_id);
    assert_attr(rec, "VENDOR", ven_id);
    assert_attr(rec, "DEVICE", dev_id);
    if (!same_name(pp_attribute_vector_get(rec, "CLASS_NAME"), cls, cls_id) ||
        !same_name(pp_attribute_vector_get(rec, "VENDOR_NAME"), ven, ven_id) ||
        !same_name(pp_attribute_vector_get(rec, "DEVICE_NAME"), dev, dev_id))
      g_error("%s: names differ: lspci '%s' '%s' '%s', probe '%s' '%s' '%s'", words[0], cls, ven,
              dev, pp_attribute_vector_get(rec, "CLASS_NAME"),
              pp_attribute_vector_get(rec, "VENDOR_NAME"),
              pp_attribute_vector_get(rec, "DEVICE_NAME"));
    n++;
  }
  g_assert_cmpuint(n, ==, count_records(out));
  pp_test_run_clear(&run);
  return n;
}

static void
test_lspci_on_this_machine(void)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  PpTestRun run = { 0 };
  g_autoptr(PpTemplate) out = NULL;
  guint n;

  /* The machine's own /sys; both name from Debian's pci.ids. */
  n = compare_with_lspci("/sys", (const char *const[]){ "-mmnn", "-D", NULL });
  g_test_message("%u devices on this machine agree with lspci", n);
  /* A machine without PCI would compare nothing. */
  g_assert_cmpuint(n, >, 0);

  /* And without --pci-ids, as installed. */
  pp_test_run((const char *const[]){ probe, "--all", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  out = pp_template_parse(run.out, strlen(run.out), NULL, NULL);
  g_assert_nonnull(out);
  g_assert_nonnull(pp_template_get_single(out, "HOSTNAME"));
  g_assert_cmpstr(pp_template_get_single(out, "HOSTNAME"), ==, g_get_host_name());
  pp_test_run_clear(&run);
}

static void
test_lspci_on_fixtures(void)
{
  /* libpci reads hwloc's captures as they are (they keep config). */
  static const char *const hwloc[] = { HWLOC_2PA, HWLOC_32EM, HWLOC_32INTEL, HWLOC_40INTEL };

  for (guint i = 0; i < G_N_ELEMENTS(hwloc); i++) {
    g_autofree char *sys = shared_tree(hwloc[i]);
    g_autofree char *path = g_strdup_printf("sysfs.path=%s/bus/pci", sys);
    guint n = compare_with_lspci(sys, (const char *const[]){ "-A", "linux-sysfs", "-O", path,
                                                             "-mmnn", "-D", "-i", PCI_IDS, NULL });

    g_assert_cmpuint(n, >, 0);
  }
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);

  shared_dir = pp_test_mkdtemp();
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++)
    g_free(unpack_tree(trees[i].tarball, shared_dir));

  g_test_add_func("/probe/counts", test_counts);
  g_test_add_func("/probe/ids-and-names", test_ids_and_names);
  g_test_add_func("/probe/attribute-order", test_attribute_order);
  g_test_add_func("/probe/numa-nodes", test_numa_nodes);
  g_test_add_func("/probe/drivers-ifnames", test_drivers_and_ifnames);
  g_test_add_func("/probe/domain-10000", test_pci_domain_10000);
  g_test_add_func("/probe/host-facts", test_host_facts);
  g_test_add_func("/probe/host-facts-no-online", test_host_facts_without_online_file);
  g_test_add_func("/probe/sriov/x722", test_sriov_x722_capable_not_enabled);
  g_test_add_func("/probe/sriov/i350-vfs", test_sriov_i350_vfs);
  g_test_add_func("/probe/sriov/pf-hidden", test_sriov_pf_seen_with_vfs_filtered);
  g_test_add_func("/probe/sriov/vf-index-unknown", test_sriov_vf_index_unknown);
  g_test_add_func("/probe/perm-mac", test_perm_mac_rules);
  g_test_add_func("/probe/sriov/pf-no-vfs", test_sriov_pf_without_vfs_enabled);
  g_test_add_func("/probe/iommu/laptop", test_iommu_groups_laptop);
  g_test_add_func("/probe/iommu/consumer-board", test_iommu_groups_consumer_board);
  g_test_add_func("/probe/iommu/sriov", test_iommu_groups_sriov);
  g_test_add_func("/probe/host-needs/laptop", test_host_needs_laptop);
  g_test_add_func("/probe/host-needs/storage-network", test_host_needs_storage_and_network);
  g_test_add_func("/probe/host-needs/this-machine", test_host_needs_this_machine);
  g_test_add_func("/probe/filter/forms", test_filter_forms);
  g_test_add_func("/probe/filter/short-address", test_filter_short_address);
  g_test_add_func("/probe/filter/device-name", test_filter_device_name);
  g_test_add_func("/probe/filter/all-three", test_filter_all_three);
  g_test_add_func("/probe/errors/conf", test_conf_errors);
  g_test_add_func("/probe/errors/conf-unreadable", test_conf_unreadable);
  g_test_add_func("/probe/errors/usage", test_bad_usage);
  g_test_add_func("/probe/tree/missing-files", test_missing_files_are_normal);
  g_test_add_func("/probe/tree/config-space", test_ids_from_config_space);
  g_test_add_func("/probe/tree/no-pci", test_no_pci_bus);
  g_test_add_func("/probe/tree/numbers-bounded", test_numbers_bounded);
  g_test_add_func("/probe/host-needs/bounded", test_host_needs_bounded);
  g_test_add_func("/probe/tree/escaping-links", test_escaping_root);
  g_test_add_func("/probe/format/json", test_json_is_the_same);
  g_test_add_func("/probe/lspci/this-machine", test_lspci_on_this_machine);
  g_test_add_func("/probe/lspci/fixtures", test_lspci_on_fixtures);

  rc = g_test_run();
  pp_test_rmtree(shared_dir);
  g_free(shared_dir);
  return rc;
}
