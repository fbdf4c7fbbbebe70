/* pp-host-table: the text of `pcipass host show` and the other tables,
 * from the API's JSON, without a daemon. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-table.h"
#include "pp-test-util.h"

/* The PCI DEVICES table of OpenNebula's `onehost show`, byte for byte as the
 * guide prints it (OpenNebula's "PCI Passthrough" guide, its `onehost show`
 * example). The guide itself is not in the repository: its text is
 * CC-BY-SA, and nothing at test time reads outside the source tree. */
static const char guide_table[] =
    "   VM ADDR    TYPE           NAME\n"
    "      00:00.0 8086:0a04:0600 Haswell-ULT DRAM Controller\n"
    "      00:02.0 8086:0a16:0300 Haswell-ULT Integrated Graphics Controller\n"
    "  123 00:03.0 8086:0a0c:0403 Haswell-ULT HD Audio Controller\n"
    "      00:14.0 8086:9c31:0c03 8 Series USB xHCI HC\n"
    "      00:16.0 8086:9c3a:0780 8 Series HECI #0\n"
    "      00:1b.0 8086:9c20:0403 8 Series HD Audio Controller\n"
    "      00:1c.0 8086:9c10:0604 8 Series PCI Express Root Port 1\n"
    "      00:1c.2 8086:9c14:0604 8 Series PCI Express Root Port 3\n"
    "      00:1d.0 8086:9c26:0c03 8 Series USB EHCI #1\n"
    "      00:1f.0 8086:9c43:0601 8 Series LPC Controller\n"
    "      00:1f.2 8086:9c03:0106 8 Series SATA Controller 1 [AHCI mode]\n"
    "      00:1f.3 8086:9c22:0c05 8 Series SMBus Controller\n"
    "      02:00.0 8086:08b1:0280 Wireless 7260\n";

static const struct {
  const char *short_address;
  const char *type;
  const char *name;
} guide_devices[] = {
  { "00:00.0", "8086:0a04:0600", "Haswell-ULT DRAM Controller" },
  { "00:02.0", "8086:0a16:0300", "Haswell-ULT Integrated Graphics Controller" },
  { "00:03.0", "8086:0a0c:0403", "Haswell-ULT HD Audio Controller" },
  { "00:14.0", "8086:9c31:0c03", "8 Series USB xHCI HC" },
  { "00:16.0", "8086:9c3a:0780", "8 Series HECI #0" },
  { "00:1b.0", "8086:9c20:0403", "8 Series HD Audio Controller" },
  { "00:1c.0", "8086:9c10:0604", "8 Series PCI Express Root Port 1" },
  { "00:1c.2", "8086:9c14:0604", "8 Series PCI Express Root Port 3" },
  { "00:1d.0", "8086:9c26:0c03", "8 Series USB EHCI #1" },
  { "00:1f.0", "8086:9c43:0601", "8 Series LPC Controller" },
  { "00:1f.2", "8086:9c03:0106", "8 Series SATA Controller 1 [AHCI mode]" },
  { "00:1f.3", "8086:9c22:0c05", "8 Series SMBus Controller" },
  { "02:00.0", "8086:08b1:0280", "Wireless 7260" },
};

/* A DEVICE of the API, as pcipassd sends it. */
static json_t *
device_new(const char *short_address, const char *type, const char *name)
{
  g_autofree char *address = g_strconcat("0000:", short_address, NULL);
  g_auto(GStrv) ids = g_strsplit(type, ":", 3);

  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:n, s:n, s:s, s:n, s:n, "
                   "s:b, s:{}}",
                   "address", address, "short_address", short_address, "type", type, "vendor",
                   ids[0], "device", ids[1], "class", ids[2], "vendor_name", "Intel Corporation",
                   "device_name", name, "class_name", "", "numa_node", "iommu_group", "driver",
                   "sriov", "no", "physfn", "vm", "gone", 0, "attributes");
}

static json_t *
guide_devices_new(void)
{
  json_t *devices = json_array();

  for (guint i = 0; i < G_N_ELEMENTS(guide_devices); i++)
    json_array_append_new(devices, device_new(guide_devices[i].short_address, guide_devices[i].type,
                                              guide_devices[i].name));
  /* VM 123 holds the audio controller. */
  json_object_set_new(json_array_get(devices, 2), "vm", json_integer(123));
  return devices;
}

static void
assert_no_trailing_spaces(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][strlen(lines[i]) - 1] == ' ')
      g_error("line %u ends in a space: '%s'", i + 1, lines[i]);
}

static void
test_guide(void)
{
  g_autoptr(json_t) devices = guide_devices_new();
  g_autofree char *text = pp_host_table_pci(devices, PP_HOST_TABLE_DEFAULT);
  g_autofree char *want = g_strconcat("PCI DEVICES\n\n", guide_table, NULL);

  g_assert_cmpstr(text, ==, want);
  g_assert_cmpuint(pp_test_count(text, "\n"), ==, 2 + 1 + 13);
}

static void
test_widths(void)
{
  g_autoptr(json_t) devices = json_array();
  g_autofree char *text = NULL;

  json_array_append_new(devices, device_new("3b:00.1", "8086:1521:0200", ""));
  json_array_append_new(devices, device_new("3b:00.0", "8086:1521:0200", "I350 Gigabit"));
  json_object_set_new(json_array_get(devices, 1), "vm", json_integer(7));
  json_array_append_new(devices, device_new("af:00.0", "10de:1db4:0302", "GV100GL"));
  json_object_set_new(json_array_get(devices, 2), "vm", json_integer(1234567));
  text = pp_host_table_pci(devices, PP_HOST_TABLE_DEFAULT);
  /* A device without a name ends at TYPE; a VM wider than 5 pushes its
   * row only. */
  g_assert_cmpstr(text, ==,
                  "PCI DEVICES\n\n"
                  "   VM ADDR    TYPE           NAME\n"
                  "      3b:00.1 8086:1521:0200\n"
                  "    7 3b:00.0 8086:1521:0200 I350 Gigabit\n"
                  "1234567 af:00.0 10de:1db4:0302 GV100GL\n");
  assert_no_trailing_spaces(text);
}

/* An address with its domain does not fit 7: its row grows, nothing is
 * cut, the other rows keep their columns. */
static void
test_domain_address(void)
{
  g_autoptr(json_t) devices = json_array();
  g_autofree char *text = NULL;

  json_array_append_new(devices, device_new("00:04.0", "8086:2020:0880", "Sky Lake-E DMI3"));
  json_array_append_new(devices, device_new("10000:00:04.0", "8086:201d:0604", "VMD Root Port"));
  json_object_set_new(json_array_get(devices, 1), "short_address", json_string("10000:00:04.0"));
  text = pp_host_table_pci(devices, PP_HOST_TABLE_DEFAULT);
  g_assert_cmpstr(text, ==,
                  "PCI DEVICES\n\n"
                  "   VM ADDR    TYPE           NAME\n"
                  "      00:04.0 8086:2020:0880 Sky Lake-E DMI3\n"
                  "      10000:00:04.0 8086:201d:0604 VMD Root Port\n");
}

static void
test_name_cut(void)
{
  g_autoptr(json_t) devices = json_array();
  g_autofree char *text = NULL;
  g_autofree char *long_name = g_strnfill(60, 'x');
  g_autofree char *cut = g_strnfill(50, 'x');
  g_autofree char *want = NULL;
  /* 51 characters, 102 bytes: cut by characters, not bytes. */
  g_autoptr(GString) accents = g_string_new(NULL);
  g_autoptr(GString) accents_cut = g_string_new(NULL);

  for (guint i = 0; i < 51; i++) {
    g_string_append(accents, "\xc3\xa9");
    if (i < 50)
      g_string_append(accents_cut, "\xc3\xa9");
  }
  json_array_append_new(devices, device_new("01:00.0", "10de:2204:0300", long_name));
  json_array_append_new(devices, device_new("02:00.0", "10de:2204:0300", accents->str));
  json_array_append_new(devices, device_new("03:00.0", "10de:2204:0300", "a\033[2Jb\tc\nd"));
  text = pp_host_table_pci(devices, PP_HOST_TABLE_DEFAULT);
  want = g_strdup_printf("PCI DEVICES\n\n"
                         "   VM ADDR    TYPE           NAME\n"
                         "      01:00.0 10de:2204:0300 %s\n"
                         "      02:00.0 10de:2204:0300 %s\n"
                         "      03:00.0 10de:2204:0300 a?[2Jb c d\n",
                         cut, accents_cut->str);
  g_assert_cmpstr(text, ==, want);
}

static void
test_gone(void)
{
  g_autoptr(json_t) devices = json_array();
  g_autofree char *text = NULL;
  g_autofree char *long_name = g_strnfill(60, 'y');
  g_autofree char *cut = g_strnfill(43, 'y');
  g_autofree char *want = NULL;

  json_array_append_new(devices, device_new("01:00.0", "10de:2204:0300", "GA102"));
  json_object_set_new(json_array_get(devices, 0), "gone", json_true());
  json_object_set_new(json_array_get(devices, 0), "vm", json_integer(42));
  json_array_append_new(devices, device_new("02:00.0", "10de:2204:0300", long_name));
  json_object_set_new(json_array_get(devices, 1), "gone", json_true());
  text = pp_host_table_pci(devices, PP_HOST_TABLE_DEFAULT);
  want = g_strdup_printf("PCI DEVICES\n\n"
                         "   VM ADDR    TYPE           NAME\n"
                         "   42 01:00.0 10de:2204:0300 GA102 (gone)\n"
                         "      02:00.0 10de:2204:0300 %s (gone)\n",
                         cut);
  g_assert_cmpstr(text, ==, want);
}

static void
test_pci_columns(void)
{
  g_autoptr(json_t) devices = json_array();
  g_autofree char *text = NULL;
  g_autofree char *long_class = g_strnfill(40, 'c');
  json_t *gpu = device_new("af:00.0", "10de:1db4:0302", "GV100GL [Tesla V100 PCIe 16GB]");
  json_t *nic = device_new("3b:00.1", "8086:1521:0200", "I350 Gigabit Network Connection");

  json_object_set_new(gpu, "iommu_group", json_integer(74));
  json_object_set_new(gpu, "numa_node", json_integer(1));
  json_object_set_new(gpu, "driver", json_string("vfio-pci"));
  json_object_set_new(gpu, "class_name", json_string("3D controller"));
  json_object_set_new(gpu, "vendor_name", json_string("NVIDIA Corporation"));
  json_object_set_new(gpu, "vm", json_integer(12));
  json_object_set_new(nic, "driver", json_string("a_long_driver_name"));
  json_object_set_new(nic, "class_name", json_string(long_class));
  json_array_append_new(devices, gpu);
  json_array_append_new(devices, nic);
  text = pp_host_table_pci(devices, PP_HOST_TABLE_PCI_COLUMNS);
  g_assert_cmpstr(
      text, ==,
      "PCI DEVICES\n\n"
      "   VM ADDR    TYPE           NAME                                               "
      "IOMMU NUMA DRIVER     OFFER   CLASS                          VENDOR\n"
      "   12 af:00.0 10de:1db4:0302 GV100GL [Tesla V100 PCIe 16GB]                     "
      "   74    1 vfio-pci   yes     3D controller                  NVIDIA Corporation\n"
      "      3b:00.1 8086:1521:0200 I350 Gigabit Network Connection                    "
      "    -    - a_long_driver_name yes     cccccccccccccccccccccccccccccc Intel Corporation\n");
  assert_no_trailing_spaces(text);
}

static void
test_ago(void)
{
  static const struct {
    gint64 delta;
    const char *text;
  } cases[] = {
    { 0, "0s ago" },       { 12, "12s ago" },  { 59, "59s ago" },    { 60, "1m ago" },
    { 3599, "59m ago" },   { 3600, "1h ago" }, { 86399, "23h ago" }, { 86400, "1d ago" },
    { 864000, "10d ago" }, { -30, "0s ago" },
  };
  const gint64 now = 1764000000;

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(json_t) when = json_integer(now - cases[i].delta);
    g_autofree char *text = pp_host_table_ago(when, now);

    g_assert_cmpstr(text, ==, cases[i].text);
  }
  {
    g_autoptr(json_t) null = json_null();
    g_autofree char *never = pp_host_table_ago(null, now);
    g_autofree char *missing = pp_host_table_ago(NULL, now);

    g_assert_cmpstr(never, ==, "never");
    g_assert_cmpstr(missing, ==, "never");
  }
}

static json_t *
host_new(void)
{
  return json_pack("{s:i, s:s, s:s, s:b, s:n, s:{s:s, s:s, s:i}, s:s, s:[s, s], "
                   "s:{s:s, s:i, s:i, s:s}, s:i, s:i, s:I, s:I}",
                   "id", 3, "name", "node1", "state", "monitored", "enabled", 1, "error", "ssh",
                   "user", "root", "host", "node1.lab", "port", 2222, "libvirt_uri",
                   "qemu+ssh://node1.lab/system", "probe_command", "/usr/bin/pcipass-probe",
                   "--config=/etc/pcipass/my pci.conf", "facts", "hostname", "node1", "cpu_count",
                   64, "memory_kib", 263771476, "kernel_version", "6.1.0-18-amd64", "pci_total", 13,
                   "pci_free", 12, "last_monitored", (json_int_t)1764000000 - 125, "created",
                   (json_int_t)1763000000);
}

static void
test_show(void)
{
  g_autoptr(json_t) host = host_new();
  g_autofree char *text = NULL;
  g_autofree char *want = NULL;
  g_autofree char *table = NULL;

  json_object_set_new(host, "pci_devices", guide_devices_new());
  text = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_DEFAULT);
  table = pp_host_table_pci(json_object_get(host, "pci_devices"), PP_HOST_TABLE_DEFAULT);
  want = g_strconcat("ID             : 3\n"
                     "NAME           : node1\n"
                     "STATE          : monitored\n"
                     "SSH            : root@node1.lab:2222\n"
                     "LIBVIRT URI    : qemu+ssh://node1.lab/system\n"
                     "HOSTDEV        : managed\n"
                     "PROBE COMMAND  : /usr/bin/pcipass-probe '--config=/etc/pcipass/my pci.conf'\n"
                     "HOSTNAME       : node1\n"
                     "CPUS           : 64\n"
                     "MEMORY         : 251.6 GiB\n"
                     "KERNEL         : 6.1.0-18-amd64\n"
                     "LAST MONITORED : 2m ago\n"
                     "\n",
                     table, NULL);
  g_assert_cmpstr(text, ==, want);
  g_assert_true(g_str_has_suffix(text, guide_table));
}

/* What the host needs is shown: OFFER says no for the device and for the
 * other endpoints of its IOMMU group (a bridge of the group is no
 * endpoint: not kept back), allowed for one allowed on purpose; below the
 * table, why, and who allowed what. */
static void
test_host_needs(void)
{
  g_autoptr(json_t) host = host_new();
  json_t *devices = json_array();
  json_t *lpc = device_new("00:1f.0", "8086:5182:0601", "Alder Lake PCH eSPI Controller");
  json_t *audio = device_new("00:1f.3", "8086:51c8:0403", "Alder Lake PCH-P HD Audio");
  json_t *bridge = device_new("00:1c.0", "8086:51b8:0604", "PCI Express Root Port");
  json_t *nic = device_new("3b:00.0", "8086:1521:0200", "I350");
  json_t *gpu = device_new("af:00.0", "10de:1db4:0302", "GV100GL");
  json_t *endpoints = json_pack("{s:s}", "IOMMU_GROUP_ENDPOINTS", "0000:00:1f.0,0000:00:1f.3");
  g_autofree char *text = NULL;

  json_object_set_new(lpc, "host_needs",
                      json_string("is the ISA/LPC bridge (firmware, timers, the clock)"));
  json_object_set_new(lpc, "iommu_group", json_integer(13));
  json_object_set(lpc, "attributes", endpoints);
  json_object_set_new(audio, "iommu_group", json_integer(13));
  json_object_set(audio, "attributes", endpoints);
  json_decref(endpoints);
  json_object_set_new(bridge, "host_needs", json_string("is a PCI bridge"));
  json_object_set_new(bridge, "allowed", json_true());
  json_object_set_new(nic, "set_aside", json_string("libvirt: Failed to bind PCI device\n"));
  json_array_append_new(devices, bridge);
  json_array_append_new(devices, lpc);
  json_array_append_new(devices, audio);
  json_array_append_new(devices, nic);
  json_array_append_new(devices, gpu);
  json_object_set_new(host, "pci_devices", devices);
  json_object_set_new(host, "allowances",
                      json_pack("[{s:s,s:s,s:I}]", "address", "0000:00:1c.0", "by", "root",
                                "created", (json_int_t)1764000000 - 7200));
  text = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_PCI_COLUMNS);
  g_assert_nonnull(strstr(text, "\n      00:1c.0 8086:51b8:0604 PCI Express Root Port       "));
  g_assert_nonnull(strstr(text, "    -    - -          allowed "));
  g_assert_true(g_str_has_suffix(
      text, "\nNOT OFFERED TO VMS\n\n"
            "00:1f.0 the host needs it: it is the ISA/LPC bridge (firmware, timers, the clock)\n"
            "00:1f.3 its IOMMU group 13 holds 0000:00:1f.0, which the host needs\n"
            "3b:00.0 set aside until a probe reports it again: libvirt: Failed to bind PCI "
            "device \n"
            "\nNEEDED BY THE HOST, ALLOWED TO VMS ON PURPOSE\n\n"
            "0000:00:1c.0 by root, 2h ago\n"));
  /* Each row's OFFER: the GPU yes, the bridge allowed, the rest no. */
  {
    static const struct {
      const char *addr, *offer;
    } rows[] = {
      { "00:1c.0", "allowed" }, { "00:1f.0", "no" },  { "00:1f.3", "no" },
      { "3b:00.0", "no" },      { "af:00.0", "yes" },
    };
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint r = 0; r < G_N_ELEMENTS(rows); r++) {
      g_autofree char *start = g_strdup_printf("      %s ", rows[r].addr);
      g_autofree char *cell = g_strdup_printf(" - -          %-7s ", rows[r].offer);
      gboolean found = FALSE;

      for (guint l = 0; lines[l] != NULL; l++)
        if (g_str_has_prefix(lines[l], start)) {
          g_assert_nonnull(strstr(lines[l], cell));
          found = TRUE;
        }
      g_assert_true(found);
    }
  }
}

/* What the probe says of network functions (issue 12): a section of its
 * own below the table, which stays OpenNebula's byte for byte; a PF with
 * its MAC, its VFs with PF and index (one without a MAC), a device with
 * none of them left out, a domain other than 0 kept; no section at all
 * when no device has any. */
static void
test_nics(void)
{
  g_autoptr(json_t) host = host_new();
  json_t *devices = json_array();
  json_t *pf = device_new("05:00.0", "8086:1521:0200", "I350 Gigabit Network Connection");
  json_t *vf0 =
      device_new("05:10.0", "8086:1520:0200", "I350 Ethernet Controller Virtual Function");
  json_t *vf1 =
      device_new("05:10.4", "8086:1520:0200", "I350 Ethernet Controller Virtual Function");
  json_t *gpu = device_new("af:00.0", "10de:1db4:0302", "GV100GL");
  json_t *far = device_new("10000:e1:00.2", "15b3:101e:0200", "ConnectX Family mlx5Gen VF");
  g_autofree char *text = NULL;
  g_autofree char *table = NULL;
  g_autofree char *none = NULL;
  g_autofree char *without = NULL;

  json_object_set_new(pf, "perm_mac", json_string("a0:36:9f:00:00:01"));
  json_object_set_new(vf0, "perm_mac", json_string("02:00:00:00:00:10"));
  json_object_set_new(vf0, "pf", json_string("0000:05:00.0"));
  json_object_set_new(vf0, "vf_index", json_integer(0));
  json_object_set_new(vf1, "pf", json_string("0000:05:00.0"));
  json_object_set_new(vf1, "vf_index", json_integer(12));
  json_object_set_new(far, "pf", json_string("10000:e1:00.0"));
  json_object_set_new(far, "vf_index", json_integer(1));
  /* Text from another machine, a control character in it. */
  json_object_set_new(far, "perm_mac", json_string("02:00:00:00:00:2\x1b"));
  json_array_append_new(devices, pf);
  json_array_append_new(devices, vf0);
  json_array_append_new(devices, vf1);
  json_array_append_new(devices, gpu);
  json_array_append_new(devices, far);
  json_object_set_new(host, "pci_devices", devices);

  table = pp_host_table_nics(devices);
  g_assert_cmpstr(table, ==,
                  "\nNETWORK FUNCTIONS\n\n"
                  "ADDR          PERM MAC          PF            VF\n"
                  "05:00.0       a0:36:9f:00:00:01 -              -\n"
                  "05:10.0       02:00:00:00:00:10 05:00.0        0\n"
                  "05:10.4       -                 05:00.0       12\n"
                  "10000:e1:00.2 02:00:00:00:00:2? 10000:e1:00.0  1\n");
  /* In host show: after the PCI DEVICES table, whose rows are unchanged. */
  text = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_DEFAULT);
  g_assert_nonnull(strstr(text, "\n      05:10.4 8086:1520:0200 I350 Ethernet Controller Virtual "
                                "Function\n"));
  g_assert_true(g_str_has_suffix(text, table));

  /* None: no section. */
  json_array_remove(devices, 4);
  json_array_remove(devices, 2);
  json_array_remove(devices, 1);
  json_array_remove(devices, 0);
  none = pp_host_table_nics(devices);
  g_assert_cmpstr(none, ==, "");
  without = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_DEFAULT);
  g_assert_null(strstr(without, "NETWORK FUNCTIONS"));
}

/* A host never probed, in error, probed locally: ERROR appears, unknown
 * facts are "-". */
static void
test_show_error(void)
{
  g_autoptr(json_t) host = host_new();
  g_autofree char *text = NULL;
  json_t *facts = json_object_get(host, "facts");

  json_object_set_new(host, "state", json_string("error"));
  json_object_set_new(host, "error",
                      json_string("ssh: connect to host node1.lab port 2222:\n"
                                  "Connection refused"));
  json_object_set_new(host, "ssh", json_null());
  json_object_set_new(host, "libvirt_uri", json_null());
  json_object_set_new(host, "probe_command", json_null());
  json_object_set_new(host, "prebound", json_true());
  json_object_set_new(host, "last_monitored", json_null());
  json_object_set_new(facts, "hostname", json_null());
  json_object_set_new(facts, "cpu_count", json_null());
  json_object_set_new(facts, "memory_kib", json_null());
  json_object_set_new(facts, "kernel_version", json_null());
  json_object_set_new(host, "pci_devices", json_array());
  text = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_DEFAULT);
  g_assert_cmpstr(text, ==,
                  "ID             : 3\n"
                  "NAME           : node1\n"
                  "STATE          : error\n"
                  "ERROR          : ssh: connect to host node1.lab port 2222: Connection refused\n"
                  "SSH            : -\n"
                  "LIBVIRT URI    : -\n"
                  "HOSTDEV        : prebound (managed='no')\n"
                  "PROBE COMMAND  : -\n"
                  "HOSTNAME       : -\n"
                  "CPUS           : -\n"
                  "MEMORY         : -\n"
                  "KERNEL         : -\n"
                  "LAST MONITORED : never\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "   VM ADDR    TYPE           NAME\n");
}

static void
test_list(void)
{
  g_autoptr(json_t) hosts = json_array();
  g_autofree char *text = NULL;
  json_t *other = host_new();

  json_array_append_new(hosts, host_new());
  json_object_set_new(other, "id", json_integer(12));
  json_object_set_new(other, "name", json_string("gpu-node-long-name"));
  json_object_set_new(other, "state", json_string("init"));
  json_object_set_new(other, "pci_total", json_integer(0));
  json_object_set_new(other, "pci_free", json_integer(0));
  json_object_set_new(other, "last_monitored", json_null());
  json_array_append_new(hosts, other);
  text = pp_host_table_list(hosts, 1764000000);
  g_assert_cmpstr(text, ==,
                  "ID NAME               STATE     PCI   MONITORED\n"
                  " 3 node1              monitored 12/13 2m ago\n"
                  "12 gpu-node-long-name init      0/0   never\n");
  assert_no_trailing_spaces(text);

  g_free(text);
  text = pp_host_table_list(NULL, 0);
  g_assert_cmpstr(text, ==, "ID NAME STATE PCI MONITORED\n");
}

static void
test_users_tokens(void)
{
  g_autoptr(json_t) users =
      json_pack("[{s:i, s:s, s:b, s:I}, {s:i, s:s, s:b, s:I}]", "id", 1, "name", "root", "admin", 1,
                "created", (json_int_t)1764000000 - 7200, "id", 2, "name", "alice", "admin", 0,
                "created", (json_int_t)1764000000 - 30);
  g_autoptr(json_t) tokens = json_pack(
      "[{s:i, s:s, s:s, s:I, s:n, s:n}, {s:i, s:s, s:n, s:I, s:I, s:I},"
      " {s:i, s:s, s:s, s:I, s:n, s:I}]",
      "id", 1, "user", "alice", "name", "laptop", "created", (json_int_t)1764000000 - 172800,
      "last_used", "expires", "id", 2, "user", "root", "name", "created",
      (json_int_t)1764000000 - 60, "last_used", (json_int_t)1764000000 - 5, "expires",
      (json_int_t)1764000000 + 30 * 86400 - 60, "id", 3, "user", "alice", "name", "ci", "created",
      (json_int_t)1764000000 - 7200, "last_used", "expires", (json_int_t)1764000000 - 3600);
  g_autofree char *users_text = pp_host_table_users(users, 1764000000);
  g_autofree char *tokens_text = pp_host_table_tokens(tokens, 1764000000);

  g_assert_cmpstr(users_text, ==,
                  "ID NAME  ADMIN CREATED\n"
                  " 1 root  yes   2h ago\n"
                  " 2 alice no    30s ago\n");
  g_assert_cmpstr(tokens_text, ==,
                  "ID USER  NAME   CREATED LAST USED EXPIRES\n"
                  " 1 alice laptop 2d ago  never     never\n"
                  " 2 root  -      1m ago  5s ago    in 29d\n"
                  " 3 alice ci     2h ago  never     expired\n");
}

/* What a user who is not an admin is sent: no ssh, libvirt URI or probe
 * command (their lines are left out), and devices other users' VMs hold as
 * "taken" without an id (its own VM's id is shown). */
static void
test_show_user_view(void)
{
  g_autoptr(json_t) host = host_new();
  json_t *devices = guide_devices_new();
  g_autofree char *text = NULL;

  json_object_del(host, "ssh");
  json_object_del(host, "libvirt_uri");
  json_object_del(host, "probe_command");
  /* VM 123 is another user's: the API sends no id, and taken. */
  json_object_set_new(json_array_get(devices, 2), "vm", json_null());
  json_object_set_new(json_array_get(devices, 2), "taken", json_true());
  json_object_set_new(json_array_get(devices, 3), "vm", json_integer(9));
  json_object_set_new(json_array_get(devices, 3), "taken", json_true());
  json_object_set_new(json_array_get(devices, 4), "taken", json_false());
  json_object_set_new(host, "pci_devices", devices);
  text = pp_host_table_show(host, 1764000000, PP_HOST_TABLE_DEFAULT);
  g_assert_true(g_str_has_prefix(text, "ID             : 3\n"
                                       "NAME           : node1\n"
                                       "STATE          : monitored\n"
                                       "HOSTDEV        : managed\n"
                                       "HOSTNAME       : node1\n"));
  g_assert_null(strstr(text, "SSH"));
  g_assert_null(strstr(text, "LIBVIRT URI"));
  g_assert_null(strstr(text, "PROBE COMMAND"));
  g_assert_nonnull(strstr(text, "\ntaken 00:03.0 8086:0a0c:0403 Haswell-ULT HD Audio Controller\n"
                                "    9 00:14.0 8086:9c31:0c03 8 Series USB xHCI HC\n"
                                "      00:16.0 8086:9c3a:0780 8 Series HECI #0\n"));
  assert_no_trailing_spaces(text);
}

/* pcipass user show: the facts, then each quota's use and limit. */
static void
test_user_quota(void)
{
  g_autoptr(json_t) user = json_pack(
      "{s:i, s:s, s:b, s:I, s:{s:{s:i, s:i}, s:{s:f, s:f}, s:{s:i, s:n}, s:{s:i, s:n}, "
      "s:{s:i, s:i}, s:[{s:s, s:i, s:i}, {s:s, s:i, s:n}]}}",
      "id", 2, "name", "alice", "admin", 0, "created", (json_int_t)1764000000 - 30, "quota", "vms",
      "used", 3, "limit", 5, "cpu", "used", 2.5, "limit", 4.0, "memory_mib", "used", 3072, "limit",
      "pci", "used", 2, "limit", "leases", "used", 1, "limit", 4, "pci_classes", "class", "0302",
      "used", 1, "limit", 2, "class", "0200", "used", 1, "limit");
  g_autofree char *text = pp_host_table_user(user, 1764000000);

  g_assert_cmpstr(text, ==,
                  "ID             : 2\n"
                  "NAME           : alice\n"
                  "ADMIN          : no\n"
                  "CREATED        : 30s ago\n"
                  "\n"
                  "QUOTA          USED     LIMIT\n"
                  "VMS               3         5\n"
                  "CPU             2.5         4\n"
                  "MEMORY (MIB)   3072 unlimited\n"
                  "PCI DEVICES       2 unlimited\n"
                  "NETWORK LEASES    1         4\n"
                  "PCI CLASS 0302    1         2\n"
                  "PCI CLASS 0200    1 unlimited\n");
}

/* What the server sends is not trusted: missing fields and wrong types
 * show as "-", never crash. */
static void
test_bad_json(void)
{
  g_autoptr(json_t) devices =
      json_pack("[{}, {s:i, s:[], s:s}, i, n]", "short_address", 7, "type", "vm", "x", 5);
  g_autoptr(json_t) host = json_pack("{s:s, s:i, s:[i], s:s}", "id", "x", "facts", 3,
                                     "probe_command", 5, "pci_devices", "no");
  g_autoptr(json_t) hosts = json_pack("[i, {}]", 5);
  g_autofree char *table = pp_host_table_pci(devices, PP_HOST_TABLE_PCI_COLUMNS);
  g_autofree char *show = pp_host_table_show(host, 0, PP_HOST_TABLE_DEFAULT);
  g_autofree char *list = pp_host_table_list(hosts, 0);
  g_autofree char *clean = pp_host_table_clean("a\x01\x7f"
                                               "b\xff");

  g_assert_nonnull(strstr(table, "\n    x 7       -   "));
  assert_no_trailing_spaces(table);
  g_assert_nonnull(strstr(show, "ID             : x\n"));
  g_assert_nonnull(strstr(show, "PROBE COMMAND  : ?\n"));
  g_assert_nonnull(strstr(show, "CPUS           : -\n"));
  g_assert_cmpstr(list, ==,
                  "ID NAME STATE PCI MONITORED\n"
                  " - -    -     -   never\n"
                  " - -    -     -   never\n");
  g_assert_cmpstr(clean, ==, "a??b\xef\xbf\xbd");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/host-table/guide", test_guide);
  g_test_add_func("/host-table/widths", test_widths);
  g_test_add_func("/host-table/domain-address", test_domain_address);
  g_test_add_func("/host-table/name-cut", test_name_cut);
  g_test_add_func("/host-table/gone", test_gone);
  g_test_add_func("/host-table/pci-columns", test_pci_columns);
  g_test_add_func("/host-table/host-needs", test_host_needs);
  g_test_add_func("/host-table/ago", test_ago);
  g_test_add_func("/host-table/show", test_show);
  g_test_add_func("/host-table/show-error", test_show_error);
  g_test_add_func("/host-table/nics", test_nics);
  g_test_add_func("/host-table/show-user-view", test_show_user_view);
  g_test_add_func("/host-table/user-quota", test_user_quota);
  g_test_add_func("/host-table/list", test_list);
  g_test_add_func("/host-table/users-tokens", test_users_tokens);
  g_test_add_func("/host-table/bad-json", test_bad_json);
  return g_test_run();
}
