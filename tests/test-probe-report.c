/* pp-probe-report: reading pcipass-probe's output back, as pcipassd's
 * monitor does: real output of the real probe on a real host's tree, and
 * every way a report can be wrong, each with its message and line. */
#include "config.h"

#include <string.h>

#include "pp-probe-report.h"
#include "pp-template.h"

/* pcipass-probe --all on the ghw capture of a host with an Intel I350
 * (ghw-sysfs/linux-amd64-8581cf3a529e5d8b97ea876eade2f60d): its facts, the
 * first record and the I350's functions, as the probe printed them. */
static const char i350_output[] = "CPU_COUNT = \"24\"\n"
                                  "MEMORY_KIB = \"65921280\"\n"
                                  "PCI = [\n"
                                  "  TYPE = \"8086:3403:0600\",\n"
                                  "  VENDOR = \"8086\",\n"
                                  "  VENDOR_NAME = \"Intel Corporation\",\n"
                                  "  DEVICE = \"3403\",\n"
                                  "  DEVICE_NAME = \"5500 I/O Hub to ESI Port\",\n"
                                  "  CLASS = \"0600\",\n"
                                  "  CLASS_NAME = \"Host bridge\",\n"
                                  "  ADDRESS = \"0000:00:00:0\",\n"
                                  "  SHORT_ADDRESS = \"00:00.0\",\n"
                                  "  DOMAIN = \"0000\",\n"
                                  "  BUS = \"00\",\n"
                                  "  SLOT = \"00\",\n"
                                  "  FUNCTION = \"0\",\n"
                                  "  NUMA_NODE = \"-\",\n"
                                  "  SRIOV = \"no\" ]\n"
                                  "PCI = [\n"
                                  "  TYPE = \"8086:1521:0200\",\n"
                                  "  VENDOR = \"8086\",\n"
                                  "  VENDOR_NAME = \"Intel Corporation\",\n"
                                  "  DEVICE = \"1521\",\n"
                                  "  DEVICE_NAME = \"I350 Gigabit Network Connection\",\n"
                                  "  CLASS = \"0200\",\n"
                                  "  CLASS_NAME = \"Ethernet controller\",\n"
                                  "  ADDRESS = \"0000:05:00:1\",\n"
                                  "  SHORT_ADDRESS = \"05:00.1\",\n"
                                  "  DOMAIN = \"0000\",\n"
                                  "  BUS = \"05\",\n"
                                  "  SLOT = \"00\",\n"
                                  "  FUNCTION = \"1\",\n"
                                  "  NUMA_NODE = \"1\",\n"
                                  "  SRIOV = \"no\",\n"
                                  "  DRIVER = \"igb\" ]\n"
                                  "PCI = [\n"
                                  "  TYPE = \"8086:1520:0200\",\n"
                                  "  VENDOR = \"8086\",\n"
                                  "  VENDOR_NAME = \"Intel Corporation\",\n"
                                  "  DEVICE = \"1520\",\n"
                                  "  DEVICE_NAME = \"I350 Ethernet Controller Virtual Function\",\n"
                                  "  CLASS = \"0200\",\n"
                                  "  CLASS_NAME = \"Ethernet controller\",\n"
                                  "  ADDRESS = \"0000:05:10:0\",\n"
                                  "  SHORT_ADDRESS = \"05:10.0\",\n"
                                  "  DOMAIN = \"0000\",\n"
                                  "  BUS = \"05\",\n"
                                  "  SLOT = \"10\",\n"
                                  "  FUNCTION = \"0\",\n"
                                  "  NUMA_NODE = \"0\",\n"
                                  "  SRIOV = \"no\",\n"
                                  "  DRIVER = \"igbvf\" ]\n";

static PpProbeReport *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpProbeReport *report = pp_probe_report_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  g_assert_nonnull(report);
  return report;
}

static const PpProbeDevice *
device_at(const PpProbeReport *report, guint i)
{
  g_assert_cmpuint(i, <, report->devices->len);
  return g_ptr_array_index(report->devices, i);
}

/* The record's one address, as it is shown: sysfs form and lspci's. */
static void
assert_bdf(const PpPciAddress *address, const char *want)
{
  char buf[PP_PCI_ADDRESS_BUFSIZE];

  g_assert_cmpstr(pp_pci_address_format(address, buf), ==, want);
}

static void
assert_short(const PpPciAddress *address, const char *want)
{
  char buf[PP_PCI_ADDRESS_BUFSIZE];

  g_assert_cmpstr(pp_pci_address_format_short(address, buf), ==, want);
}

static void
test_real_output(void)
{
  g_autoptr(PpProbeReport) report = parse_ok(i350_output);
  const PpProbeDevice *bridge, *pf, *vf;

  g_assert_null(report->hostname);
  g_assert_null(report->kernel_version);
  g_assert_cmpint(report->cpu_count, ==, 24);
  g_assert_cmpint(report->memory_kib, ==, 65921280);
  g_assert_cmpuint(report->devices->len, ==, 3);

  bridge = device_at(report, 0);
  assert_bdf(&bridge->address, "0000:00:00.0");
  g_assert_cmpuint(bridge->class_code, ==, 0x0600);
  g_assert_cmpint(bridge->numa_node, ==, -1);
  g_assert_cmpint(bridge->iommu_group, ==, -1);
  g_assert_null(bridge->driver);
  g_assert_null(bridge->physfn);

  pf = device_at(report, 1);
  assert_bdf(&pf->address, "0000:05:00.1");
  assert_short(&pf->address, "05:00.1");
  g_assert_cmpuint(pf->address.bus, ==, 5);
  g_assert_cmpuint(pf->address.function, ==, 1);
  g_assert_cmpuint(pf->vendor, ==, 0x8086);
  g_assert_cmpuint(pf->device, ==, 0x1521);
  g_assert_cmpuint(pf->class_code, ==, 0x0200);
  g_assert_cmpstr(pf->vendor_name, ==, "Intel Corporation");
  g_assert_cmpstr(pf->device_name, ==, "I350 Gigabit Network Connection");
  g_assert_cmpstr(pf->class_name, ==, "Ethernet controller");
  g_assert_cmpint(pf->numa_node, ==, 1);
  g_assert_cmpstr(pf->driver, ==, "igb");
  g_assert_cmpstr(pf->sriov, ==, "no");
  /* The whole record, in its order. */
  g_assert_cmpuint(g_strv_length(pf->keys), ==, 16);
  g_assert_cmpuint(g_strv_length(pf->values), ==, 16);
  g_assert_cmpstr(pf->keys[0], ==, "TYPE");
  g_assert_cmpstr(pf->values[0], ==, "8086:1521:0200");
  g_assert_cmpstr(pf->keys[7], ==, "ADDRESS");
  g_assert_cmpstr(pf->values[7], ==, "0000:05:00:1");
  g_assert_cmpstr(pf->keys[15], ==, "DRIVER");

  vf = device_at(report, 2);
  assert_bdf(&vf->address, "0000:05:10.0");
  g_assert_cmpstr(vf->driver, ==, "igbvf");
  g_assert_cmpint(vf->numa_node, ==, 0); /* An older probe's report: no PF, no index, no MAC. */
  g_assert_false(vf->has_pf);
  g_assert_false(vf->has_vf_index);
  g_assert_null(vf->perm_mac);
}

/* Every field pcipass's probe adds, lower-case keys, keys no one knows
 * (kept), top-level attributes no one knows (passed over). */
static void
test_all_fields(void)
{
  static const char text[] =
      "HOSTNAME = node7\n"
      "KERNEL_VERSION = \"6.1.0-18-amd64\"\n"
      "FUTURE_FACT = \"whatever\"\n"
      "CPU_COUNT = 64 MEMORY_KIB = 0\n"
      "pci = [ vendor = \"15b3\", device = \"101e\", class = \"0207\", "
      "short_address = \"3b:00.2\", numa_node = \"1\", iommu_group = \"57\", sriov = \"vf\", "
      "physfn = \"3B:00.0\", driver = \"vfio-pci\", new_key = \"x\", ifname = \"\", "
      "perm_mac = \"02:00:0A:00:00:2B\", vf_index = \"65534\" ]\n"
      "PCI = [ VENDOR = \"10DE\", DEVICE = \"2330\", CLASS = \"0302\", "
      "ADDRESS = \"10000:e1:00.0\", NUMA_NODE = \"-1\", SRIOV = \"pf\", IOMMU_GROUP = \"0\", "
      "HOST_NEEDS = \"holds /dev/nvme0n1p2, mounted at /; is the only display device\" ]\n";
  g_autoptr(PpProbeReport) report = parse_ok(text);
  const PpProbeDevice *vf, *gpu;

  g_assert_cmpstr(report->hostname, ==, "node7");
  g_assert_cmpstr(report->kernel_version, ==, "6.1.0-18-amd64");
  g_assert_cmpint(report->cpu_count, ==, 64);
  g_assert_cmpint(report->memory_kib, ==, 0);
  g_assert_cmpuint(report->devices->len, ==, 2);

  vf = device_at(report, 0);
  assert_bdf(&vf->address, "0000:3b:00.2");
  assert_short(&vf->address, "3b:00.2");
  g_assert_cmpstr(vf->vendor_name, ==, "");
  g_assert_cmpint(vf->iommu_group, ==, 57);
  g_assert_cmpstr(vf->sriov, ==, "vf");
  g_assert_cmpstr(vf->physfn, ==, "0000:3b:00.0");
  g_assert_cmpstr(vf->driver, ==, "vfio-pci");
  g_assert_cmpuint(g_strv_length(vf->keys), ==, 13);
  g_assert_cmpstr(vf->keys[9], ==, "NEW_KEY");
  g_assert_cmpstr(vf->values[9], ==, "x");
  g_assert_cmpstr(vf->keys[10], ==, "IFNAME");
  g_assert_cmpstr(vf->values[10], ==, "");
  g_assert_null(vf->host_needs);
  /* Typed: the PF's address, the VF's index at its bound, the MAC in
   * lower case. */
  g_assert_true(vf->has_pf);
  assert_bdf(&vf->pf, "0000:3b:00.0");
  g_assert_true(vf->has_vf_index);
  g_assert_cmpuint(vf->vf_index, ==, 65534);
  g_assert_cmpstr(vf->perm_mac, ==, "02:00:0a:00:00:2b");

  /* lspci's dotted form in ADDRESS, a domain past 16 bits, NUMA -1. */
  gpu = device_at(report, 1);
  assert_bdf(&gpu->address, "10000:e1:00.0");
  assert_short(&gpu->address, "10000:e1:00.0");
  g_assert_cmpuint(gpu->vendor, ==, 0x10de);
  g_assert_cmpint(gpu->numa_node, ==, -1);
  g_assert_cmpint(gpu->iommu_group, ==, 0);
  g_assert_cmpstr(gpu->sriov, ==, "pf");
  g_assert_cmpstr(gpu->host_needs, ==,
                  "holds /dev/nvme0n1p2, mounted at /; is the only display device");
  g_assert_false(gpu->has_pf);
  g_assert_false(gpu->has_vf_index);
  g_assert_null(gpu->perm_mac);
}

/* The largest facts a host may report are read as they are. */
static void
test_facts_at_bounds(void)
{
  g_autofree char *text =
      g_strdup_printf("CPU_COUNT = %d\nMEMORY_KIB = %" G_GINT64_FORMAT "\n",
                      PP_PROBE_REPORT_CPU_COUNT_MAX, PP_PROBE_REPORT_MEMORY_KIB_MAX);
  g_autoptr(PpProbeReport) report = parse_ok(text);

  g_assert_cmpint(report->cpu_count, ==, 16384);
  g_assert_cmpint(report->memory_kib, ==, G_GINT64_CONSTANT(4398046511104));
  /* What the scheduler computes from them fits, with room to spare. */
  g_assert_cmpint(report->cpu_count * 100, <, G_MAXINT32);
  g_assert_cmpint(report->memory_kib, <, G_MAXINT64 / 1024);
}

static void
test_empty(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) empty = pp_probe_report_parse(NULL, 0, &error);
  g_autoptr(PpProbeReport) facts = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(empty->devices->len, ==, 0);
  g_assert_cmpint(empty->cpu_count, ==, -1);
  g_assert_cmpint(empty->memory_kib, ==, -1);

  /* The length bounds the text: what follows is not read. */
  facts = pp_probe_report_parse("CPU_COUNT = 8\nPCI = [ broken", 14, &error);
  g_assert_no_error(error);
  g_assert_cmpint(facts->cpu_count, ==, 8);
  g_assert_cmpuint(facts->devices->len, ==, 0);
}

/* ------------------------------------------------------------------------ */
/* Bad reports                                                              */
/* ------------------------------------------------------------------------ */

#define IDS "VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\""
#define REC(fields) "PCI = [ " fields " ]\n"

static const struct {
  const char *name;
  const char *text;
  int code;
  const char *message;
} bad_reports[] = {
  { "no-address", "CPU_COUNT = 4\n" REC(IDS) REC(IDS ", SHORT_ADDRESS = \"01:00.0\""),
    PP_PROBE_REPORT_ERROR_INVALID, "line 2: PCI record 1: has neither ADDRESS nor SHORT_ADDRESS" },
  { "bad-address", REC(IDS ", ADDRESS = \"0000:3b:00:9\""), PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1: ADDRESS '0000:3b:00:9' is not a PCI address (0000:3b:00:1)" },
  { "bad-short-address", "\n\n" REC(IDS ", SHORT_ADDRESS = \"3b-00.1\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 3: PCI record 1: SHORT_ADDRESS '3b-00.1' is not a PCI address (3b:00.1)" },
  { "addresses-disagree", REC(IDS ", ADDRESS = \"0000:3b:00:1\", SHORT_ADDRESS = \"3b:00.0\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1: SHORT_ADDRESS '3b:00.0' and ADDRESS '0000:3b:00:1' are not the same "
    "device" },
  { "bad-vendor",
    REC("ADDRESS = \"0000:3b:00:1\", VENDOR = \"808g\", DEVICE = \"1521\", "
        "CLASS = \"0200\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.1): VENDOR '808g' is not 4 hex digits" },
  { "long-vendor",
    REC("ADDRESS = \"0000:3b:00:1\", VENDOR = \"08086\", DEVICE = \"1521\", "
        "CLASS = \"0200\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.1): VENDOR '08086' is not 4 hex digits" },
  { "no-class", REC("ADDRESS = \"0000:3b:00:1\", VENDOR = \"8086\", DEVICE = \"1521\""),
    PP_PROBE_REPORT_ERROR_INVALID, "line 1: PCI record 1 (0000:3b:00.1): has no CLASS" },
  { "bad-numa",
    REC(IDS ", ADDRESS = \"0000:3b:00:1\"") REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", "
                                                    "NUMA_NODE = \"one\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 2: PCI record 2 (0000:3b:00.2): NUMA_NODE 'one' is neither '-' nor a node number from 0 "
    "to 4095" },
  { "negative-numa", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", NUMA_NODE = \"-2\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): NUMA_NODE '-2' is neither '-' nor a node number from 0 "
    "to 4095" },
  { "numa-over", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", NUMA_NODE = \"4096\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): NUMA_NODE '4096' is neither '-' nor a node number from 0 "
    "to 4095" },
  { "bad-group", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP = \"\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP '' is not a group number from 0 to 1000000" },
  { "group-over", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP = \"1000001\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP '1000001' is not a group number from 0 to "
    "1000000" },
  { "bad-driver", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", DRIVER = \"igb; rm\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): DRIVER 'igb; rm' is not a driver name" },
  { "empty-driver", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", DRIVER = \"\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): DRIVER '' is not a driver name" },
  { "bad-sriov", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", SRIOV = \"PF\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): SRIOV 'PF' is not pf, vf or no" },
  { "bad-physfn", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", PHYSFN = \"3b:00\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): PHYSFN '3b:00' is not a PCI address" },
  { "vf-index-text", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", SRIOV = \"vf\", VF_INDEX = \"one\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): VF_INDEX 'one' is not a VF number from 0 to 65534" },
  { "vf-index-over", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", SRIOV = \"vf\", VF_INDEX = \"65535\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): VF_INDEX '65535' is not a VF number from 0 to 65534" },
  { "vf-index-negative",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", SRIOV = \"vf\", VF_INDEX = \"-1\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): VF_INDEX '-1' is not a VF number from 0 to 65534" },
  { "vf-index-not-vf", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", SRIOV = \"pf\", VF_INDEX = \"0\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): has VF_INDEX '0' but SRIOV 'pf', not vf" },
  { "vf-index-no-sriov", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", VF_INDEX = \"0\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): has VF_INDEX '0' but SRIOV 'no', not vf" },
  { "bad-perm-mac", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", PERM_MAC = \"02-00-0a-00-00-01\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): PERM_MAC '02-00-0a-00-00-01' is not a unicast MAC "
    "address (02:00:0a:00:00:01)" },
  { "multicast-perm-mac",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", PERM_MAC = \"01:00:5e:00:00:01\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): PERM_MAC '01:00:5e:00:00:01' is not a unicast MAC "
    "address (02:00:0a:00:00:01)" },
  { "long-perm-mac",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", PERM_MAC = "
            "\"80:00:00:48:fe:80:00:00:00:00:00:00:00:02:c9:03:00:f9:bf:a1\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): PERM_MAC '80:00:00:48:fe:80:00:00:00:00:00' is not a "
    "unicast MAC address (02:00:0a:00:00:01)" },
  { "empty-host-needs", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", HOST_NEEDS = \"\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): HOST_NEEDS must have 1 to 1024 bytes" },
  { "host-needs-newline", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", HOST_NEEDS = \"a\nb\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): HOST_NEEDS has a control character" },
  { "duplicate",
    "HOSTNAME = h\n" REC(IDS ", ADDRESS = \"0000:3b:00:1\"") "\n" REC(
        IDS ", SHORT_ADDRESS = \"3b:00.1\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 4: PCI record 2 (0000:3b:00.1): repeats an address that an earlier record has" },
  { "not-a-vector", REC(IDS ", SHORT_ADDRESS = \"3b:00.1\"") "PCI = \"3b:00.2\"\n",
    PP_PROBE_REPORT_ERROR_INVALID, "line 2: PCI record 2 is not a vector (PCI = [ ... ])" },
  { "cpu-count-text", "HOSTNAME = h\nCPU_COUNT = \"many\"\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 2: CPU_COUNT 'many' is not a number of CPUs from 0 to 16384" },
  { "cpu-count-vector", "CPU_COUNT = [ N = 1 ]\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: CPU_COUNT '[...]' is not a number of CPUs from 0 to 16384" },
  /* UBSan saw the scheduler's hundredths of CPUs overflow on this one. */
  { "cpu-count-int64-max", "CPU_COUNT = \"9223372036854775807\"\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: CPU_COUNT '9223372036854775807' is not a number of CPUs from 0 to 16384" },
  { "cpu-count-over", "CPU_COUNT = 16385\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: CPU_COUNT '16385' is not a number of CPUs from 0 to 16384" },
  { "cpu-count-plus", "CPU_COUNT = +8\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: CPU_COUNT '+8' is not a number of CPUs from 0 to 16384" },
  { "memory-negative", "\nMEMORY_KIB = -5\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 2: MEMORY_KIB '-5' is not a size in KiB from 0 to 4398046511104" },
  { "memory-over", "MEMORY_KIB = 4398046511105\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: MEMORY_KIB '4398046511105' is not a size in KiB from 0 to 4398046511104" },
  { "memory-uint64-wrap", "MEMORY_KIB = 18446744073709551617\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: MEMORY_KIB '18446744073709551617' is not a size in KiB from 0 to 4398046511104" },
  { "hostname-vector", "\n\nHOSTNAME = [ A = b ]\n", PP_PROBE_REPORT_ERROR_INVALID,
    "line 3: HOSTNAME is not a single value of at most 1024 bytes" },
  { "endpoints-empty", REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP_ENDPOINTS = \"\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP_ENDPOINTS must list 1 to 256 PCI "
    "addresses" },
  { "endpoints-bad-item",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP_ENDPOINTS = \"0000:3b:00.2,3b:00\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP_ENDPOINTS: item 2 '3b:00' is not a PCI "
    "address (0000:3b:00.0)" },
  { "endpoints-trailing-comma",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP_ENDPOINTS = \"0000:3b:00.2,\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP_ENDPOINTS: item 2 '' is not a PCI "
    "address (0000:3b:00.0)" },
  { "endpoints-repeat",
    REC(IDS ", SHORT_ADDRESS = \"3b:00.2\", IOMMU_GROUP_ENDPOINTS = \"3b:00.2,0000:3b:00.2\""),
    PP_PROBE_REPORT_ERROR_INVALID,
    "line 1: PCI record 1 (0000:3b:00.2): IOMMU_GROUP_ENDPOINTS: item 2 repeats 0000:3b:00.2" },
};

static void
test_bad_report(gconstpointer data)
{
  guint i = GPOINTER_TO_UINT(data);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report =
      pp_probe_report_parse(bad_reports[i].text, strlen(bad_reports[i].text), &error);

  g_assert_null(report);
  g_assert_error(error, PP_PROBE_REPORT_ERROR, bad_reports[i].code);
  g_assert_cmpstr(error->message, ==, bad_reports[i].message);
}

/* HOST_NEEDS is bounded: the reason of another machine, shown to people. */
static void
test_host_needs_too_long(void)
{
  g_autoptr(GString) text = g_string_new("PCI = [ " IDS ", SHORT_ADDRESS = \"01:00.0\", "
                                         "HOST_NEEDS = \"");
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = NULL;

  for (guint i = 0; i < 1025; i++)
    g_string_append_c(text, 'x');
  g_string_append(text, "\" ]\n");
  report = pp_probe_report_parse(text->str, text->len, &error);
  g_assert_null(report);
  g_assert_cmpstr(error->message, ==,
                  "line 1: PCI record 1 (0000:01:00.0): HOST_NEEDS must have 1 to 1024 bytes");
}

/* A syntax error is the template parser's, with its line and column. */
static void
test_syntax_error(void)
{
  static const char text[] = "CPU_COUNT = 4\nPCI = [ VENDOR = \"8086\" DEVICE = \"1521\" ]\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = pp_probe_report_parse(text, strlen(text), &error);

  g_assert_null(report);
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "line 2, column 25: "));

  g_clear_error(&error);
  report = pp_probe_report_parse("A = \"\xff\"\n", 7, &error);
  g_assert_null(report);
  g_assert_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "line 1, column "));
}

static void
test_long_name(void)
{
  g_autoptr(GString) text = g_string_new("PCI = [ " IDS ", SHORT_ADDRESS = \"01:00.0\", "
                                         "DEVICE_NAME = \"");
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = NULL;

  for (guint i = 0; i < 1025; i++)
    g_string_append_c(text, 'x');
  g_string_append(text, "\" ]\n");
  report = pp_probe_report_parse(text->str, text->len, &error);
  g_assert_null(report);
  g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "line 1: PCI record 1 (0000:01:00.0): DEVICE_NAME is longer than 1024 bytes");

  /* 1024 is still a name. */
  g_string_erase(text, text->len - 5, 1);
  g_clear_error(&error);
  report = pp_probe_report_parse(text->str, text->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(strlen(device_at(report, 0)->device_name), ==, 1024);
}

/* Records on lines 1.., one per line, @n of them. */
static GString *
many_records(guint n)
{
  GString *text = g_string_new(NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf(text, REC(IDS ", SHORT_ADDRESS = \"%02x:%02x.%x\""), i / 256,
                           (i / 8) % 32, i % 8);
  return text;
}

/* IOMMU_GROUP_ENDPOINTS becomes typed addresses in canonical form, and
 * its count is bounded. */
static void
test_group_endpoints(void)
{
  static const char text[] =
      REC(IDS ", SHORT_ADDRESS = \"3b:00.0\", IOMMU_GROUP_ENDPOINTS = \"3b:00.0,0000:3b:00.1\"")
          REC(IDS ", SHORT_ADDRESS = \"3b:00.1\"");
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = pp_probe_report_parse(text, strlen(text), &error);
  g_autoptr(GString) many = g_string_new(REC(IDS ", SHORT_ADDRESS = \"3b:00.0\", "
                                                 "IOMMU_GROUP_ENDPOINTS = \""));
  const PpProbeDevice *dev;

  g_assert_no_error(error);
  dev = g_ptr_array_index(report->devices, 0);
  g_assert_nonnull(dev->group_endpoints);
  g_assert_cmpuint(dev->n_group_endpoints, ==, 2);
  assert_bdf(&dev->group_endpoints[0], "0000:3b:00.0");
  assert_bdf(&dev->group_endpoints[1], "0000:3b:00.1");
  dev = g_ptr_array_index(report->devices, 1);
  g_assert_null(dev->group_endpoints);
  g_assert_cmpuint(dev->n_group_endpoints, ==, 0);
  g_clear_pointer(&report, pp_probe_report_free);

  /* 257 addresses: one more than a group may list. */
  g_string_truncate(many, 0);
  g_string_append(many, "PCI = [ VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", "
                        "SHORT_ADDRESS = \"3b:00.0\", IOMMU_GROUP_ENDPOINTS = \"");
  for (guint i = 0; i < PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS + 1; i++)
    g_string_append_printf(many, "%s0000:%02x:%02x.%x", i ? "," : "", 0x40 + i / 256, (i / 8) % 32,
                           i % 8);
  g_string_append(many, "\" ]\n");
  report = pp_probe_report_parse(many->str, many->len, &error);
  g_assert_null(report);
  g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "line 1: PCI record 1 (0000:3b:00.0): IOMMU_GROUP_ENDPOINTS lists more than "
                  "256 addresses");
}

static void
test_too_many(void)
{
  g_autoptr(GString) most = many_records(PP_PROBE_REPORT_MAX_DEVICES);
  g_autoptr(GString) more = many_records(PP_PROBE_REPORT_MAX_DEVICES + 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = NULL;

  report = pp_probe_report_parse(most->str, most->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(report->devices->len, ==, PP_PROBE_REPORT_MAX_DEVICES);
  g_clear_pointer(&report, pp_probe_report_free);

  report = pp_probe_report_parse(more->str, more->len, &error);
  g_assert_null(report);
  g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_TOO_BIG);
  g_assert_cmpstr(error->message, ==, "line 4097: more than 4096 PCI records");
}

/* PP_PROBE_REPORT_MAX_SIZE bytes are read; one more is refused before any
 * parsing, saying the size and the limit. */
static void
test_max_size(void)
{
  g_autoptr(GString) text =
      g_string_new("CPU_COUNT = 4\n" REC(IDS ", SHORT_ADDRESS = \"01:00.0\"") "#");
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = NULL;

  while (text->len < PP_PROBE_REPORT_MAX_SIZE - 1)
    g_string_append_c(text, 'x');
  g_string_append_c(text, '\n');
  report = pp_probe_report_parse(text->str, text->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(report->devices->len, ==, 1);
  g_clear_pointer(&report, pp_probe_report_free);

  g_string_append_c(text, '\n');
  report = pp_probe_report_parse(text->str, text->len, &error);
  g_assert_null(report);
  g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_TOO_BIG);
  g_assert_cmpstr(error->message, ==,
                  "the report is 4194305 bytes, more than the limit of 4194304 (4 MiB)");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/probe-report/real-output", test_real_output);
  g_test_add_func("/probe-report/host-needs-too-long", test_host_needs_too_long);
  g_test_add_func("/probe-report/all-fields", test_all_fields);
  g_test_add_func("/probe-report/empty", test_empty);
  g_test_add_func("/probe-report/facts-at-bounds", test_facts_at_bounds);
  for (guint i = 0; i < G_N_ELEMENTS(bad_reports); i++) {
    g_autofree char *path = g_strdup_printf("/probe-report/bad/%s", bad_reports[i].name);
    g_test_add_data_func(path, GUINT_TO_POINTER(i), test_bad_report);
  }
  g_test_add_func("/probe-report/bad/syntax", test_syntax_error);
  g_test_add_func("/probe-report/bad/long-name", test_long_name);
  g_test_add_func("/probe-report/bad/too-many", test_too_many);
  g_test_add_func("/probe-report/group-endpoints", test_group_endpoints);
  g_test_add_func("/probe-report/bad/max-size", test_max_size);
  return g_test_run();
}
