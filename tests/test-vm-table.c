/* pp-vm-table: the text of `pcipass vm list`, `vm show` and `vm place`,
 * from the API's JSON, without a daemon. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-test-util.h"
#include "pp-vm-table.h"

#define NOW 1000000

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *json = json_loads(text, 0, &jerr);

  if (json == NULL)
    g_error("bad test JSON: line %d: %s", jerr.line, jerr.text);
  return json;
}

static void
assert_no_trailing_spaces(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][strlen(lines[i]) - 1] == ' ')
      g_error("line %u ends in a space: '%s'", i + 1, lines[i]);
}

/* A running VM on node1 holding a GPU and its audio function (the
 * companion of its IOMMU group). */
static const char running_vm[] =
    "{\"id\": 12, \"name\": \"gpu-job\", \"owner\": \"alice\", \"state\": \"running\", "
    "\"reason\": null, \"host\": {\"id\": 3, \"name\": \"node1\"}, \"cpu\": 0.5, \"vcpu\": 2, "
    "\"memory_mib\": 4096, \"pci_requests\": [\"VENDOR=10de,DEVICE=1db4\", \"CLASS=0200\"], "
    "\"devices\": ["
    "{\"address\": \"0000:3b:00.0\", \"short_address\": \"3b:00.0\", \"type\": "
    "\"10de:1db4:0302\", \"name\": \"GV100GL [Tesla V100 PCIe 16GB]\", \"numa_node\": 0, "
    "\"iommu_group\": 31, \"request\": 0}, "
    "{\"address\": \"0000:3b:00.1\", \"short_address\": \"3b:00.1\", \"type\": "
    "\"10de:10f2:0403\", \"name\": \"GV100 High Definition Audio\", \"numa_node\": 0, "
    "\"iommu_group\": 31, \"request\": null}, "
    "{\"address\": \"0000:af:00.0\", \"short_address\": \"af:00.0\", \"type\": "
    "\"8086:1521:0200\", \"name\": \"I350 Gigabit Network Connection\", \"numa_node\": 1, "
    "\"iommu_group\": 104, \"request\": 1}], "
    "\"explanation\": null, \"domain\": \"pcipass-12\", \"template\": \"MEMORY = 4096\", "
    "\"created\": 999700, \"updated\": 999800}";

/* A pending VM: no host, no devices, why. */
static const char pending_vm[] =
    "{\"id\": 13, \"name\": \"big\", \"owner\": \"bob\", \"state\": \"pending\", "
    "\"reason\": \"no host fits\", \"host\": null, \"cpu\": 16, \"vcpu\": 16, "
    "\"memory_mib\": 1536, \"pci_requests\": [\"VENDOR=10de\"], \"devices\": [], "
    "\"explanation\": [{\"host_id\": 3, \"host\": \"node1\", \"reason\": \"8 CPUs free, 16 "
    "asked\"}, {\"host_id\": 4, \"host\": \"node2\", \"reason\": \"disabled\"}], "
    "\"domain\": \"pcipass-13\", \"template\": \"\", \"created\": 913600, \"updated\": 913600}";

static void
test_list(void)
{
  g_autoptr(json_t) vms = json_array();
  g_autofree char *text = NULL;

  json_array_append_new(vms, parse(running_vm));
  json_array_append_new(vms, parse(pending_vm));
  text = pp_vm_table_list(vms, NOW);
  g_assert_cmpstr(text, ==,
                  "ID NAME    OWNER STATE   HOST  CPU MEMORY PCI AGE\n"
                  "12 gpu-job alice running node1 0.5 4G       3 5m\n"
                  "13 big     bob   pending -     16  1536M    0 1d\n");
  assert_no_trailing_spaces(text);
}

static void
test_list_empty(void)
{
  g_autoptr(json_t) vms = json_array();
  g_autofree char *text = pp_vm_table_list(vms, NOW);

  g_assert_cmpstr(text, ==, "ID NAME OWNER STATE HOST CPU MEMORY PCI AGE\n");
}

/* Fields missing or of the wrong type are "-"; text from afar cannot move
 * the cursor. */
static void
test_list_odd(void)
{
  g_autoptr(json_t) vms = json_array();
  g_autofree char *text = NULL;

  json_array_append_new(vms, parse("{\"id\": 7, \"name\": \"a\\u001b[2Jb\\tc\", \"owner\": 5, "
                                   "\"state\": \"done\", \"host\": {\"id\": 1}, \"cpu\": \"x\", "
                                   "\"memory_mib\": -1, \"devices\": null, \"created\": null}"));
  text = pp_vm_table_list(vms, NOW);
  g_assert_cmpstr(text, ==,
                  "ID NAME     OWNER STATE HOST CPU MEMORY PCI AGE\n"
                  " 7 a?[2Jb c 5     done  -    -   -        - -\n");
  g_assert_null(strchr(text, '\033'));
}

static void
test_cpu(void)
{
  static const struct {
    const char *json;
    const char *text;
  } cases[] = {
    { "0.5", "0.5" }, { "1", "1" },     { "1.0", "1" },     { "1.25", "1.25" }, { "0.01", "0.01" },
    { "2.1", "2.1" }, { "0.999", "1" }, { "0", "0" },       { "-1", "-" },      { "\"1\"", "-" },
    { "null", "-" },  { "1e300", "-" }, { "12.5", "12.5" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(json_t) value = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
    g_autofree char *text = pp_vm_table_cpu(value);

    g_assert_nonnull(value);
    if (strcmp(text, cases[i].text) != 0)
      g_error("cpu %s: '%s', not '%s'", cases[i].json, text, cases[i].text);
  }
  {
    g_autofree char *text = pp_vm_table_cpu(NULL);

    g_assert_cmpstr(text, ==, "-");
  }
}

static void
test_age(void)
{
  static const struct {
    gint64 ago;
    const char *text;
  } cases[] = {
    { 0, "0s" },     { 59, "59s" },           { 60, "1m" },
    { 3599, "59m" }, { 3600, "1h" },          { 86399, "23h" },
    { 86400, "1d" }, { 86400 * 400, "400d" }, { -30, "0s" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(json_t) when = json_integer(NOW - cases[i].ago);
    g_autofree char *text = pp_vm_table_age(when, NOW);

    g_assert_cmpstr(text, ==, cases[i].text);
  }
  {
    g_autoptr(json_t) null = json_null();
    g_autofree char *text = pp_vm_table_age(null, NOW);
    g_autofree char *none = pp_vm_table_age(NULL, NOW);

    g_assert_cmpstr(text, ==, "-");
    g_assert_cmpstr(none, ==, "-");
  }
}

static void
test_show_running(void)
{
  g_autoptr(json_t) vm = parse(running_vm);
  g_autofree char *text = pp_vm_table_show(vm, NOW);

  g_assert_cmpstr(text, ==,
                  "ID             : 12\n"
                  "NAME           : gpu-job\n"
                  "OWNER          : alice\n"
                  "STATE          : running\n"
                  "HOST           : node1\n"
                  "CPU            : 0.5\n"
                  "VCPU           : 2\n"
                  "MEMORY         : 4096 MiB\n"
                  "DOMAIN         : pcipass-12\n"
                  "CREATED        : 5m ago\n"
                  "\n"
                  "PCI REQUESTS\n"
                  "\n"
                  "  0 VENDOR=10de,DEVICE=1db4\n"
                  "  1 CLASS=0200\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "REQ ADDR    TYPE           NAME                            NUMA IOMMU\n"
                  "  0 3b:00.0 10de:1db4:0302 GV100GL [Tesla V100 PCIe 16GB]     0    31\n"
                  "  - 3b:00.1 10de:10f2:0403 GV100 High Definition Audio        0    31\n"
                  "  1 af:00.0 8086:1521:0200 I350 Gigabit Network Connection    1   104\n");
  assert_no_trailing_spaces(text);
  g_assert_null(strstr(text, "WHY PENDING"));
  g_assert_null(strstr(text, "REASON"));
}

static void
test_show_pending(void)
{
  g_autoptr(json_t) vm = parse(pending_vm);
  g_autofree char *text = pp_vm_table_show(vm, NOW);

  g_assert_cmpstr(text, ==,
                  "ID             : 13\n"
                  "NAME           : big\n"
                  "OWNER          : bob\n"
                  "STATE          : pending\n"
                  "REASON         : no host fits\n"
                  "HOST           : -\n"
                  "CPU            : 16\n"
                  "VCPU           : 16\n"
                  "MEMORY         : 1536 MiB\n"
                  "DOMAIN         : pcipass-13\n"
                  "CREATED        : 1d ago\n"
                  "\n"
                  "PCI REQUESTS\n"
                  "\n"
                  "  0 VENDOR=10de\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "  none\n"
                  "\n"
                  "WHY PENDING\n"
                  "\n"
                  "  node1: 8 CPUs free, 16 asked\n"
                  "  node2: disabled\n");
}

/* Failed tries and the history: a line of facts and a table at the end,
 * every cell safe for a terminal. */
static void
test_show_history(void)
{
  g_autoptr(json_t) vm = parse(pending_vm);
  g_autofree char *text = NULL;

  json_object_set_new(vm, "tries", json_integer(2));
  json_object_set_new(
      vm, "history",
      parse("[{\"at\": 1000, \"from\": null, \"to\": \"pending\", \"reason\": null, "
            "\"host\": null},"
            " {\"at\": 1100, \"from\": \"pending\", \"to\": \"deploying\", "
            "\"reason\": \"placed on host 'node1' with 1 device\", \"host\": \"node1\"},"
            " {\"at\": 1200, \"from\": \"deploying\", \"to\": \"pending\", "
            "\"reason\": \"try 1 of 3 on host 'node1': libvirt:\\nno\\u001b[2J\", "
            "\"host\": \"node1\"}]"));
  text = pp_vm_table_show(vm, 1000 + 3 * 3600);
  g_assert_nonnull(
      strstr(text, "\nDEPLOY TRIES   : 2 failed since it was created or retried\n\nPCI REQUESTS"));
  g_assert_true(g_str_has_suffix(
      text, "  node2: disabled\n"
            "\n"
            "HISTORY\n"
            "\n"
            "WHEN   CHANGE              HOST  REASON\n"
            "3h ago pending (created)   -     -\n"
            "2h ago pending > deploying node1 placed on host 'node1' with 1 device\n"
            "2h ago deploying > pending node1 try 1 of 3 on host 'node1': libvirt: no?[2J\n"));
}

/* No requests: "none"; an empty explanation: no WHY PENDING; a device
 * name of 60 characters cut to 50; a reason with a newline on one line. */
static void
test_show_edges(void)
{
  g_autoptr(json_t) vm = parse(pending_vm);
  g_autoptr(json_t) device =
      parse("{\"address\": \"10000:00:04.0\", \"type\": \"8086:1521:0200\", \"numa_node\": null, "
            "\"iommu_group\": null, \"request\": 0}");
  g_autofree char *text = NULL;
  g_autofree char *long_name = g_strnfill(60, 'x');
  g_autofree char *cut = g_strnfill(50, 'x');
  g_autofree char *row = NULL;

  json_object_set_new(device, "name", json_string(long_name));
  json_object_set_new(vm, "pci_requests", json_array());
  json_object_set_new(vm, "explanation", json_array());
  json_object_set_new(vm, "reason", json_string("line one\nline two"));
  json_array_append(json_object_get(vm, "devices"), device);
  text = pp_vm_table_show(vm, NOW);
  g_assert_nonnull(strstr(text, "REASON         : line one line two\n"));
  g_assert_nonnull(strstr(text, "\nPCI REQUESTS\n\n  none\n\nPCI DEVICES\n"));
  g_assert_null(strstr(text, "WHY PENDING"));
  /* No short address: the address as it is. */
  row = g_strdup_printf("  0 10000:00:04.0 8086:1521:0200 %s    -     -\n", cut);
  g_assert_true(g_str_has_suffix(text, row));
  g_assert_null(strstr(text, long_name));
}

/* A console: one GRAPHICS line, never a password (the API gives none,
 * only whether there is one); "default" and "auto" where libvirt
 * chooses. */
static void
test_show_graphics(void)
{
  static const struct {
    const char *graphics;
    const char *line;
  } cases[] = {
    { "{\"type\": \"vnc\", \"listen\": \"0.0.0.0\", \"port\": 5901, \"keymap\": null, "
      "\"password\": true}",
      "GRAPHICS       : vnc, listen 0.0.0.0, port 5901, password set\n" },
    { "{\"type\": \"spice\", \"listen\": null, \"port\": null, \"keymap\": \"de\", "
      "\"password\": false}",
      "GRAPHICS       : spice, listen default, port auto, keymap de, no password\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(json_t) vm = parse(running_vm);
    g_autofree char *text = NULL;
    g_autofree char *where = NULL;

    json_object_set_new(vm, "graphics", parse(cases[i].graphics));
    text = pp_vm_table_show(vm, NOW);
    where = g_strconcat("DOMAIN         : pcipass-12\n", cases[i].line, "CREATED", NULL);
    g_assert_nonnull(strstr(text, where));
  }
  {
    g_autoptr(json_t) vm = parse(running_vm);
    g_autofree char *text = NULL;

    json_object_set_new(vm, "graphics", json_null());
    text = pp_vm_table_show(vm, NOW);
    g_assert_null(strstr(text, "GRAPHICS"));
  }
}

/* A VM's NICs in template order: a bridged one and a PCI one (a VF) with
 * a VLAN; the section follows PCI DEVICES. No "nics", or none: no
 * section. Odd fields are "-", not a crash. */
static void
test_show_nics(void)
{
  g_autoptr(json_t) vm = parse(running_vm);
  g_autoptr(json_t) nics =
      parse("[{\"nic_id\": 0, \"kind\": \"bridge\", \"network_id\": 4, \"network\": \"lan\", "
            "\"mac\": \"02:00:0a:00:00:05\", \"ip\": \"10.0.0.5\", \"ip6_global\": null, "
            "\"ip6_ula\": null, \"ip6\": null, \"vlan_id\": null, \"bridge\": \"br0\", "
            "\"model\": \"virtio\", \"device\": null, \"guest_address\": \"0000:01:00.0\"}, "
            "{\"nic_id\": 1, \"kind\": \"pci\", \"network_id\": 7, \"network\": null, "
            "\"mac\": \"02:00:c0:a8:01:02\", \"ip\": \"192.168.1.2\", \"ip6_global\": "
            "\"2001:db8::ff:fec0:a801\", \"ip6_ula\": \"fd00::ff:fec0:a801\", \"ip6\": null, "
            "\"vlan_id\": 100, \"bridge\": null, \"model\": null, \"device\": \"0000:3b:00.1\", "
            "\"guest_address\": \"0000:02:00.0\"}]");
  g_autofree char *text = NULL;
  g_autofree char *table = NULL;
  const char *at;

  json_object_set(vm, "nics", nics);
  text = pp_vm_table_show(vm, NOW);
  table = pp_vm_table_nics(nics);
  g_assert_cmpstr(table, ==,
                  "NICS\n"
                  "\n"
                  "ID KIND   NETWORK MAC               IP          IPV6                         "
                  "             VLAN MODEL  HOST         GUEST\n"
                  " 0 bridge lan     02:00:0a:00:00:05 10.0.0.5    -                            "
                  "                - virtio br0          0000:01:00.0\n"
                  " 1 pci    7       02:00:c0:a8:01:02 192.168.1.2 2001:db8::ff:fec0:a801 "
                  "fd00::ff:fec0:a801  100 -      0000:3b:00.1 0000:02:00.0\n");
  assert_no_trailing_spaces(text);
  /* After the devices, before anything else. */
  at = strstr(text, "\n\nNICS\n\n");
  g_assert_nonnull(at);
  g_assert_true(at > strstr(text, "PCI DEVICES"));
  g_assert_true(g_str_has_suffix(text, table));

  /* None, or not said: no section. */
  json_object_set_new(vm, "nics", json_array());
  g_free(text);
  text = pp_vm_table_show(vm, NOW);
  g_assert_null(strstr(text, "NICS"));
  json_object_del(vm, "nics");
  g_free(text);
  text = pp_vm_table_show(vm, NOW);
  g_assert_null(strstr(text, "NICS"));
  json_object_set_new(vm, "nics", json_string("eth0"));
  g_free(text);
  text = pp_vm_table_show(vm, NOW);
  g_assert_null(strstr(text, "NICS"));

  /* Wrong types and missing fields: "-"; a controlling byte made safe. */
  json_object_set_new(vm, "nics",
                      parse("[{\"nic_id\": \"zero\", \"kind\": 3, \"mac\": \"02:00\\u001b[2J\", "
                            "\"ip6\": 5, \"vlan_id\": \"100\"}, 7]"));
  g_free(text);
  text = pp_vm_table_show(vm, NOW);
  g_assert_true(g_str_has_suffix(text, "NICS\n"
                                       "\n"
                                       "  ID KIND NETWORK MAC       IP IPV6 VLAN MODEL HOST GUEST\n"
                                       "zero 3    -       02:00?[2J -  -     100 -     -    -\n"
                                       "   - -    -       -         -  -       - -     -    -\n"));
  assert_no_trailing_spaces(text);
}

static void
test_place_fits(void)
{
  g_autoptr(json_t) place =
      parse("{\"fits\": true, \"host\": {\"id\": 3, \"name\": \"node1\"}, \"numa_node\": 0, "
            "\"devices\": [{\"address\": \"0000:3b:00.0\", \"type\": \"10de:1db4:0302\", \"name\": "
            "\"GV100GL [Tesla V100 PCIe 16GB]\", \"request\": 0}, {\"address\": \"0000:3b:00.1\", "
            "\"type\": \"10de:10f2:0403\", \"name\": \"GV100 High Definition Audio\", \"request\": "
            "null}]}");
  g_autofree char *text = pp_vm_table_place(place);
  g_autofree char *anywhere = NULL;

  g_assert_cmpstr(text, ==,
                  "fits on node1 (NUMA node 0)\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "REQ ADDR         TYPE           NAME\n"
                  "  0 0000:3b:00.0 10de:1db4:0302 GV100GL [Tesla V100 PCIe 16GB]\n"
                  "  - 0000:3b:00.1 10de:10f2:0403 GV100 High Definition Audio\n");
  assert_no_trailing_spaces(text);

  /* No NUMA node (no devices asked): no parenthesis. */
  json_object_set_new(place, "numa_node", json_null());
  json_object_set_new(place, "devices", json_array());
  anywhere = pp_vm_table_place(place);
  g_assert_cmpstr(anywhere, ==, "fits on node1\n\nPCI DEVICES\n\n  none\n");
}

static void
test_place_no_fit(void)
{
  g_autoptr(json_t) place =
      parse("{\"fits\": false, \"explanation\": [{\"host_id\": 3, \"host\": \"node1\", "
            "\"reason\": \"no free device for PCI 0 (VENDOR=10de)\"}, {\"host_id\": 4, \"host\": "
            "\"node\\r2\", \"reason\": \"not monitored yet\"}]}");
  g_autoptr(json_t) nobody = parse("{\"fits\": false, \"explanation\": []}");
  g_autofree char *text = pp_vm_table_place(place);
  g_autofree char *empty = pp_vm_table_place(nobody);

  g_assert_cmpstr(text, ==,
                  "no host fits:\n"
                  "  node1: no free device for PCI 0 (VENDOR=10de)\n"
                  "  node 2: not monitored yet\n");
  g_assert_cmpstr(empty, ==, "no host fits: no host to try\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vm-table/list", test_list);
  g_test_add_func("/vm-table/list-empty", test_list_empty);
  g_test_add_func("/vm-table/list-odd", test_list_odd);
  g_test_add_func("/vm-table/cpu", test_cpu);
  g_test_add_func("/vm-table/age", test_age);
  g_test_add_func("/vm-table/show-running", test_show_running);
  g_test_add_func("/vm-table/show-pending", test_show_pending);
  g_test_add_func("/vm-table/show-edges", test_show_edges);
  g_test_add_func("/vm-table/show-history", test_show_history);
  g_test_add_func("/vm-table/show-graphics", test_show_graphics);
  g_test_add_func("/vm-table/show-nics", test_show_nics);
  g_test_add_func("/vm-table/place-fits", test_place_fits);
  g_test_add_func("/vm-table/place-no-fit", test_place_no_fit);
  return g_test_run();
}
