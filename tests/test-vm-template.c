/* VM templates: every attribute's rules, every error with its message and
 * position, the guide's examples, and the spec as placement's input. */
#include "config.h"

#include <string.h>

#include "pp-vm-template.h"

static PpVmSpec *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  if (spec == NULL)
    g_error("'%s' should parse: %s", text, error->message);
  g_assert_no_error(error);
  return spec;
}

/* Parses @text, which must fail with exactly @message. */
static void
parse_fails(const char *text, const char *message)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  if (spec != NULL)
    g_error("'%s' parsed, but should fail with '%s'", text, message);
  g_assert_nonnull(error);
  if (strcmp(error->message, message) != 0)
    g_error("'%s':\n got '%s'\nwant '%s'", text, error->message, message);
  g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID);
  /* The domain's name, as GLib's own are spelled (a debugger and a log
   * show it). */
  g_assert_cmpstr(g_quark_to_string(error->domain), ==, "pp-vm-template-error-quark");
}

#define MEM "MEMORY = 1024\n"

static const PpPciRequest *
request(const PpVmSpec *spec, guint i)
{
  g_assert_cmpuint(i, <, spec->requests->len);
  return &g_array_index(spec->requests, PpPciRequest, i);
}

/* ------------------------------------------------------------------------ */

static void
test_minimal_defaults(void)
{
  g_autoptr(PpVmSpec) spec = parse_ok("MEMORY = 512");

  g_assert_null(spec->name);
  g_assert_cmpint(spec->cpu, ==, 100);
  g_assert_cmpuint(spec->vcpu, ==, 1);
  g_assert_cmpuint(spec->memory_mib, ==, 512);
  g_assert_cmpuint(spec->disks->len, ==, 0);
  g_assert_cmpuint(spec->nics->len, ==, 0);
  g_assert_cmpuint(spec->requests->len, ==, 0);
  g_assert_cmpint(spec->host_id, ==, 0);
  g_assert_null(spec->host_name);
  g_assert_cmpint(spec->machine, ==, PP_VM_MACHINE_Q35);
  g_assert_null(spec->kernel);
  g_assert_null(spec->initrd);
  g_assert_null(spec->kernel_cmd);
  g_assert_nonnull(spec->tmpl);
  g_assert_cmpuint(pp_template_get_n_attributes(spec->tmpl), ==, 1);
}

static void
test_full(void)
{
  g_autoptr(PpVmSpec) spec =
      parse_ok("NAME = \"gpu-job.1_a\"\n"
               "CPU = 2.5\n"
               "VCPU = 4\n"
               "MEMORY = 4096\n"
               "DISK = [ SOURCE = \"/var/lib/images/a.qcow2\", "
               "FORMAT = \"qcow2\", TARGET = \"vdb\" ]\n"
               "DISK = [ SOURCE = \"/var/lib/images/b.img\" ]\n"
               "NIC = [ BRIDGE = \"br0\", MODEL = \"e1000e\", "
               "MAC = \"52:54:00:AB:cd:01\" ]\n"
               "NIC = [ BRIDGE = \"vmbr.1-x_y\" ]\n"
               "HOST = \"node1\"\n"
               "MACHINE = \"i440fx\"\n"
               "OS = [ KERNEL = \"/boot/vmlinuz\", INITRD = \"/boot/initrd\", "
               "KERNEL_CMD = \"console=ttyS0 root=/dev/vda\" ]\n"
               "GRAPHICS = [ TYPE = \"vnc\" ]\n");
  const PpVmDisk *disk;
  const PpVmNic *nic;

  g_assert_cmpstr(spec->name, ==, "gpu-job.1_a");
  g_assert_cmpint(spec->cpu, ==, 250);
  g_assert_cmpuint(spec->vcpu, ==, 4);
  g_assert_cmpuint(spec->memory_mib, ==, 4096);
  g_assert_cmpuint(spec->disks->len, ==, 2);
  disk = g_ptr_array_index(spec->disks, 0);
  g_assert_cmpstr(disk->source, ==, "/var/lib/images/a.qcow2");
  g_assert_cmpstr(disk->format, ==, "qcow2");
  g_assert_cmpstr(disk->target, ==, "vdb");
  /* Defaults: raw, and the first free name. */
  disk = g_ptr_array_index(spec->disks, 1);
  g_assert_cmpstr(disk->source, ==, "/var/lib/images/b.img");
  g_assert_cmpstr(disk->format, ==, "raw");
  g_assert_cmpstr(disk->target, ==, "vda");
  g_assert_cmpuint(spec->nics->len, ==, 2);
  nic = g_ptr_array_index(spec->nics, 0);
  g_assert_cmpstr(nic->bridge, ==, "br0");
  g_assert_cmpstr(nic->model, ==, "e1000e");
  g_assert_cmpstr(nic->mac, ==, "52:54:00:ab:cd:01");
  nic = g_ptr_array_index(spec->nics, 1);
  g_assert_cmpstr(nic->bridge, ==, "vmbr.1-x_y");
  g_assert_cmpstr(nic->model, ==, "virtio");
  g_assert_null(nic->mac);
  g_assert_cmpstr(spec->host_name, ==, "node1");
  g_assert_cmpint(spec->host_id, ==, 0);
  g_assert_cmpint(spec->machine, ==, PP_VM_MACHINE_I440FX);
  g_assert_cmpstr(spec->kernel, ==, "/boot/vmlinuz");
  g_assert_cmpstr(spec->initrd, ==, "/boot/initrd");
  g_assert_cmpstr(spec->kernel_cmd, ==, "console=ttyS0 root=/dev/vda");
  /* The template is kept as parsed. */
  g_assert_cmpint(spec->graphics.type, ==, PP_VM_GRAPHICS_VNC);
  g_assert_cmpuint(pp_template_get_n_attributes(spec->tmpl), ==, 12);
  g_assert_nonnull(pp_template_find(spec->tmpl, "OS"));
}

static void
test_cpu_vcpu(void)
{
  static const struct {
    const char *cpu;
    gint64 hundredths;
    guint vcpu;
  } cases[] = {
    { "0.5", 50, 1 },   { "0.05", 5, 1 },         { "1", 100, 1 }, { "1.0", 100, 1 },
    { "1.01", 101, 2 }, { "2.5", 250, 3 },        { "4", 400, 4 }, { "007", 700, 7 },
    { "0.01", 1, 1 },   { "1024", 102400, 1024 },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf("CPU = %s\n" MEM, cases[i].cpu);
    g_autoptr(PpVmSpec) spec = parse_ok(text);

    g_assert_cmpint(spec->cpu, ==, cases[i].hundredths);
    g_assert_cmpuint(spec->vcpu, ==, cases[i].vcpu);
  }
  {
    /* VCPU alone: CPU stays 1. */
    g_autoptr(PpVmSpec) spec = parse_ok("VCPU = 8\n" MEM);

    g_assert_cmpint(spec->cpu, ==, 100);
    g_assert_cmpuint(spec->vcpu, ==, 8);
  }
  {
    g_autoptr(PpVmSpec) spec = parse_ok("VCPU = 1024\nCPU = 0.25\n" MEM);

    g_assert_cmpint(spec->cpu, ==, 25);
    g_assert_cmpuint(spec->vcpu, ==, 1024);
  }
}

static void
test_cpu_errors(void)
{
  static const char *const bad[] = {
    "0",   "0.0", "0.00", "0.125",   "1.",   ".5",  "-1",   "+1",
    "1e2", "abc", "",     "1024.01", "1025", "1,5", "0x10", "99999999999999999999",
  };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf(MEM "CPU = \"%s\"\n", bad[i]);
    g_autofree char *want = g_strdup_printf(
        "line 2, column 1: CPU: '%s' is not a number of CPUs: more than 0, at most 1024, with at "
        "most two decimals (as 0.5 or 2)",
        bad[i]);

    parse_fails(text, want);
  }
}

static void
test_vcpu_errors(void)
{
  static const char *const bad[] = { "0", "1025", "1.5", "-2", "two", "", " 2" };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf(MEM "  VCPU = \"%s\"\n", bad[i]);
    g_autofree char *want = g_strdup_printf(
        "line 2, column 3: VCPU: '%s' is not a number of virtual CPUs: an integer from 1 to 1024",
        bad[i]);

    parse_fails(text, want);
  }
}

static void
test_memory(void)
{
  static const char *const bad[] = { "0", "16777217", "1.5", "1G", "-1", "", "0x400" };

  {
    g_autoptr(PpVmSpec) spec = parse_ok("MEMORY = 16777216");

    g_assert_cmpuint(spec->memory_mib, ==, 16777216);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf("\nMEMORY = \"%s\"\n", bad[i]);
    g_autofree char *want = g_strdup_printf("line 2, column 1: MEMORY: '%s' is not a memory size: "
                                            "an integer of MiB from 1 to 16777216 (16 TiB)",
                                            bad[i]);

    parse_fails(text, want);
  }
  parse_fails("", "MEMORY is required (add MEMORY = <MiB>)");
  parse_fails("CPU = 1\nPCI = [ CLASS = \"0300\" ]\n", "MEMORY is required (add MEMORY = <MiB>)");
}

static void
test_name(void)
{
  g_autofree char *longest = g_strnfill(64, 'a');
  g_autofree char *too_long = g_strnfill(65, 'a');
  g_autofree char *text = g_strdup_printf(MEM "NAME = %s", longest);
  g_autoptr(PpVmSpec) spec = parse_ok(text);
  static const char *const bad[] = { "", "a b", "a/b", "caf\xc3\xa9", "a&b", "x'y" };

  g_assert_cmpstr(spec->name, ==, longest);
  for (guint i = 0; i <= G_N_ELEMENTS(bad); i++) {
    const char *name = i < G_N_ELEMENTS(bad) ? bad[i] : too_long;
    g_autofree char *t = g_strdup_printf(MEM "NAME = \"%s\"", name);
    g_autofree char *want = g_strdup_printf(
        "line 2, column 1: NAME: '%s' is not a VM name: 1 to 64 letters, digits, '.', '_' or '-'",
        name);

    parse_fails(t, want);
  }
}

static void
test_host(void)
{
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "HOST = 3");

    g_assert_cmpint(spec->host_id, ==, 3);
    g_assert_null(spec->host_name);
  }
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "HOST = \"kvm-01.example.org\"");

    g_assert_cmpint(spec->host_id, ==, 0);
    g_assert_cmpstr(spec->host_name, ==, "kvm-01.example.org");
  }
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "HOST = 9223372036854775807");

    g_assert_cmpint(spec->host_id, ==, G_MAXINT64);
  }
  parse_fails(MEM "HOST = 0", "line 2, column 1: HOST: '0' is not a host id: ids start at 1");
  parse_fails(MEM "HOST = 9223372036854775808",
              "line 2, column 1: HOST: '9223372036854775808' is not a host id: ids start at 1");
  parse_fails(MEM "HOST = \"node 1\"",
              "line 2, column 1: HOST: 'node 1' is not a host: a host name (1 to 255 letters, "
              "digits, '.', '_' or '-') or a host id");
  parse_fails(MEM "HOST = \"\"", "line 2, column 1: HOST: '' is not a host: a host name (1 to "
                                 "255 letters, digits, '.', '_' or '-') or a host id");
}

static void
test_machine(void)
{
  static const struct {
    const char *value;
    PpVmMachine machine;
  } good[] = {
    { "q35", PP_VM_MACHINE_Q35 },
    { "Q35", PP_VM_MACHINE_Q35 },
    { "i440fx", PP_VM_MACHINE_I440FX },
    { "I440FX", PP_VM_MACHINE_I440FX },
  };

  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree char *text = g_strdup_printf(MEM "MACHINE = %s", good[i].value);
    g_autoptr(PpVmSpec) spec = parse_ok(text);

    g_assert_cmpint(spec->machine, ==, good[i].machine);
  }
  parse_fails(MEM "MACHINE = pc",
              "line 2, column 1: MACHINE: 'pc' is not a machine type: q35 or i440fx");
  parse_fails(MEM "MACHINE = \"\"",
              "line 2, column 1: MACHINE: '' is not a machine type: q35 or i440fx");
}

static void
test_given_twice(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "CPU = 1\n" MEM "CPU = 2\n",
      "line 3, column 1: CPU: given twice, on lines 1 and 3; a template has one CPU" },
    { MEM "MEMORY = 2048\n",
      "line 2, column 1: MEMORY: given twice, on lines 1 and 2; a template has one MEMORY" },
    { MEM "VCPU = 1 VCPU = 2\n",
      "line 2, column 10: VCPU: given twice on line 2; a template has one VCPU" },
    { MEM "HOST = a\n\n\nHOST = 2\n",
      "line 5, column 1: HOST: given twice, on lines 2 and 5; a template has one HOST" },
    { "NAME = a\n" MEM "name = b\n",
      "line 3, column 1: NAME: given twice, on lines 1 and 3; a template has one NAME" },
    { MEM "MACHINE = q35\nMACHINE = q35\n",
      "line 3, column 1: MACHINE: given twice, on lines 2 and 3; a template has one MACHINE" },
    { MEM "OS = [ KERNEL = /a ]\nOS = [ KERNEL = /b ]\n",
      "line 3, column 1: OS: given twice, on lines 2 and 3; a template has one OS" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

static void
test_wrong_shape(void)
{
  parse_fails("MEMORY = [ SIZE = 1 ]",
              "line 1, column 1: MEMORY: must be a single value, as MEMORY = 1024");
  parse_fails(MEM "CPU = [ A = 1 ]", "line 2, column 1: CPU: must be a single value, as CPU = 0.5");
  parse_fails(MEM "HOST = []",
              "line 2, column 1: HOST: must be a single value, as HOST = \"node1\"");
  parse_fails(MEM "PCI = 10de",
              "line 2, column 1: PCI: must be a vector, as PCI = [ VENDOR = \"10de\" ]");
  parse_fails(MEM "DISK = /a.img",
              "line 2, column 1: DISK: must be a vector, as DISK = [ IMAGE = \"debian12\" ]");
  parse_fails(MEM "NIC = br0",
              "line 2, column 1: NIC: must be a vector, as NIC = [ NETWORK = \"public\" ]");
  parse_fails(MEM "OS = hvm",
              "line 2, column 1: OS: must be a vector, as OS = [ KERNEL_IMAGE = \"vmlinuz\" ]");
}

static void
test_syntax_error(void)
{
  g_autoptr(GError) error = NULL;
  const char *text = MEM "PCI = [ VENDOR = 10de";
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  g_assert_null(spec);
  g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_SYNTAX);
  g_assert_cmpstr(error->message, ==,
                  "line 2, column 7: the vector PCI that starts here has no closing ']'");
}

/* ------------------------------------------------------------------------ */
/* PCI                                                                       */
/* ------------------------------------------------------------------------ */

static void
test_pci_guide_examples(void)
{
  /* The reference guide's three requests, as it writes them. */
  g_autoptr(PpVmSpec) spec = parse_ok(MEM "PCI = [\n"
                                          "  VENDOR = \"8086\",\n"
                                          "  DEVICE = \"0a0c\",\n"
                                          "  CLASS  = \"0403\" ]\n"
                                          "\n"
                                          "PCI = [\n"
                                          "  CLASS = \"0604\" ]\n");
  const PpPciRequest *r = request(spec, 0);

  g_assert_cmpuint(spec->requests->len, ==, 2);
  g_assert_cmpint(r->vendor, ==, 0x8086);
  g_assert_cmpint(r->device, ==, 0x0a0c);
  g_assert_cmpint(r->class_code, ==, 0x0403);
  g_assert_false(r->by_address);
  g_assert_cmpstr(r->text, ==, "VENDOR=8086,DEVICE=0a0c,CLASS=0403");
  r = request(spec, 1);
  g_assert_cmpint(r->vendor, ==, -1);
  g_assert_cmpint(r->device, ==, -1);
  g_assert_cmpint(r->class_code, ==, 0x0604);
  g_assert_cmpstr(r->text, ==, "CLASS=0604");
}

static void
test_pci_hex_forms(void)
{
  static const struct {
    const char *vector;
    gint vendor, device, class_code;
    const char *text;
  } cases[] = {
    { "VENDOR = 10de, DEVICE = 1db4", 0x10de, 0x1db4, -1, "VENDOR=10de,DEVICE=1db4" },
    { "DEVICE = 1DB4, VENDOR = 10DE", 0x10de, 0x1db4, -1, "VENDOR=10de,DEVICE=1db4" },
    { "vendor = \"0x10De\"", 0x10de, -1, -1, "VENDOR=10de" },
    { "DEVICE = 0X1db4", -1, 0x1db4, -1, "DEVICE=1db4" },
    { "CLASS = 0x0302, DEVICE = ABCD", -1, 0xabcd, 0x0302, "DEVICE=abcd,CLASS=0302" },
    { "VENDOR = ffff, DEVICE = 0000, CLASS = 0000", 0xffff, 0, 0,
      "VENDOR=ffff,DEVICE=0000,CLASS=0000" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(MEM "PCI = [ %s ]", cases[i].vector);
    g_autoptr(PpVmSpec) spec = parse_ok(text);
    const PpPciRequest *r = request(spec, 0);

    g_assert_cmpint(r->vendor, ==, cases[i].vendor);
    g_assert_cmpint(r->device, ==, cases[i].device);
    g_assert_cmpint(r->class_code, ==, cases[i].class_code);
    g_assert_false(r->by_address);
    g_assert_cmpstr(r->text, ==, cases[i].text);
  }
}

static void
test_pci_short_address(void)
{
  static const struct {
    const char *value;
    PpPciAddress address;
    const char *text;
  } cases[] = {
    { "3b:00.0", { 0, 0x3b, 0, 0 }, "SHORT_ADDRESS=3b:00.0" },
    { "3B:1F.7", { 0, 0x3b, 0x1f, 7 }, "SHORT_ADDRESS=3b:1f.7" },
    { "0000:3b:00.1", { 0, 0x3b, 0, 1 }, "SHORT_ADDRESS=3b:00.1" },
    { "10000:e1:00.0", { 0x10000, 0xe1, 0, 0 }, "SHORT_ADDRESS=10000:e1:00.0" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text = g_strdup_printf(MEM "PCI = [ SHORT_ADDRESS = \"%s\" ]", cases[i].value);
    g_autoptr(PpVmSpec) spec = parse_ok(text);
    const PpPciRequest *r = request(spec, 0);

    g_assert_true(r->by_address);
    g_assert_true(pp_pci_address_equal(&r->address, &cases[i].address));
    g_assert_cmpint(r->vendor, ==, -1);
    g_assert_cmpint(r->device, ==, -1);
    g_assert_cmpint(r->class_code, ==, -1);
    g_assert_cmpstr(r->text, ==, cases[i].text);
  }
  parse_fails(MEM "PCI = [ SHORT_ADDRESS = \"3b:20.0\" ]",
              "line 2, column 9: PCI: SHORT_ADDRESS '3b:20.0' is not a PCI address: the slot goes "
              "up to 1f and the function up to 7");
  parse_fails(MEM "PCI = [ SHORT_ADDRESS = \"gpu\" ]",
              "line 2, column 9: PCI: SHORT_ADDRESS 'gpu' is not a PCI address: expected "
              "[domain:]bus:slot.function in hex, such as 0000:3b:00.1 or 3b:00.1");
}

#define PCI_KEYS                                                                                   \
  "VENDOR, DEVICE, CLASS or SHORT_ADDRESS, and PF_POLICY; a NIC on a virtual network also TYPE "   \
  "= \"NIC\", NETWORK or NETWORK_ID, NETWORK_UNAME, IP, MAC and VLAN_ID"

static void
test_pci_errors(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    /* OpenNebula's words, with the key's position. */
    { MEM "PCI = [ VENDOR = \"xyz\" ]",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR: 'xyz'" },
    { MEM "PCI = [ VENDOR = 10de, DEVICE = 1db ]",
      "line 2, column 24: PCI: Wrong Hex value for PCI attribute DEVICE: '1db'" },
    { MEM "PCI = [\n  CLASS = 030000 ]",
      "line 3, column 3: PCI: Wrong Hex value for PCI attribute CLASS: '030000'" },
    { MEM "PCI = [ VENDOR = \"\" ]",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR: ''" },
    { MEM "PCI = [ VENDOR = 0x ]",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR: '0x'" },
    { MEM "PCI = [ VENDOR = \"10de \" ]",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR: '10de '" },
    { MEM "PCI = [ VENDOR = 0x10de0 ]",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR: '0x10de0'" },
    /* A key's position after a quoted value with commas, escapes and a
     * comment on the way. */
    { MEM "PCI = [ SHORT_ADDRESS = \"a,\\\"b\" , # x, DEVICE = 1\n DEVICE = 12g4 ]",
      "line 3, column 2: PCI: Wrong Hex value for PCI attribute DEVICE: '12g4'" },
    /* Columns count characters. */
    { "# caf\xc3\xa9\n" MEM "PCI = [ SHORT_ADDRESS = \"\xc3\xa9\", CLASS = \"\xc3\xa9\" ]",
      "line 3, column 30: PCI: Wrong Hex value for PCI attribute CLASS: '\xc3\xa9'" },
    { MEM "PCI = [ SHORT_ADDRESS = 3b:00.0, VENDOR = 10de ]",
      "line 2, column 1: PCI: SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS" },
    { MEM "  PCI = [ CLASS = 0300, SHORT_ADDRESS = 3b:00.0 ]",
      "line 2, column 3: PCI: SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS" },
    { MEM "PCI = [ ]",
      "line 2, column 1: PCI: SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI" },
    { MEM "PCI = [ SHORT_ADDRESS = 3b:00.0, FOO = 1 ]",
      "line 2, column 34: PCI: key FOO is not supported by pcipass; PCI takes " PCI_KEYS },
    { MEM "PCI = [ ADDRESS = \"0000:3b:00:0\" ]",
      "line 2, column 9: PCI: key ADDRESS is not supported by pcipass; PCI takes " PCI_KEYS },
    /* The guide's NIC example without its TYPE: the network keys say to
     * add it, at the first of them. */
    { MEM "PCI = [\n"
          "  NETWORK = \"passthrough\",\n"
          "  NETWORK_UNAME = \"oneadmin\",\n"
          "  CLASS = \"0200\",\n"
          "  DEVICE = \"10d3\",\n"
          "  VENDOR = \"8086\" ]\n",
      "line 3, column 3: PCI: NETWORK is a key of a NIC on a virtual network: add TYPE = \"NIC\" "
      "to pass the device through as one" },
    /* A vector key's error in the second PCI points there. */
    { MEM "PCI = [ CLASS = 0300 ]\nPCI = [ CLASS = 03 ]",
      "line 3, column 9: PCI: Wrong Hex value for PCI attribute CLASS: '03'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

static void
test_pci_many(void)
{
  g_autoptr(GString) text = g_string_new(MEM);
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec;

  for (guint i = 0; i < 64; i++)
    g_string_append_printf(text, "PCI = [ DEVICE = %04x ]\n", i);
  {
    g_autoptr(PpVmSpec) ok = parse_ok(text->str);

    g_assert_cmpuint(ok->requests->len, ==, 64);
    g_assert_cmpint(request(ok, 63)->device, ==, 63);
    g_assert_cmpstr(request(ok, 63)->text, ==, "DEVICE=003f");
  }
  g_string_append(text, "PCI = [ DEVICE = ffff ]\n");
  spec = pp_vm_template_parse(text->str, text->len, &error);
  g_assert_null(spec);
  g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "line 66, column 1: PCI: more than 64 PCI vectors");
}

/* ------------------------------------------------------------------------ */
/* DISK, NIC, OS                                                             */
/* ------------------------------------------------------------------------ */

static void
test_disk_targets(void)
{
  g_autoptr(GString) text = g_string_new(MEM);
  g_autoptr(PpVmSpec) spec = NULL;
  static const char *const want[] = { "vda", "vdc", "vdd", "vdb", "vde" };

  g_string_append(text, "DISK = [ SOURCE = /a ]\n"
                        "DISK = [ SOURCE = /b, FORMAT = RAW ]\n"
                        "DISK = [ SOURCE = /c, FORMAT = QCow2 ]\n"
                        "DISK = [ SOURCE = /d, TARGET = vdb ]\n"
                        "DISK = [ SOURCE = /e ]\n");
  spec = parse_ok(text->str);
  g_assert_cmpuint(spec->disks->len, ==, 5);
  for (guint i = 0; i < G_N_ELEMENTS(want); i++)
    g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, i))->target, ==, want[i]);
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 1))->format, ==, "raw");
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 2))->format, ==, "qcow2");

  /* Beyond vdz, as libvirt counts: vdaa. */
  g_string_assign(text, MEM);
  for (guint i = 0; i < 28; i++)
    g_string_append_printf(text, "DISK = [ SOURCE = /d%u ]\n", i);
  g_clear_pointer(&spec, pp_vm_spec_free);
  spec = parse_ok(text->str);
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 25))->target, ==, "vdz");
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 26))->target, ==, "vdaa");
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 27))->target, ==, "vdab");
}

static void
test_disk_errors(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { MEM "DISK = [ FORMAT = raw ]",
      "line 2, column 1: DISK: needs IMAGE, the name of an image (pcipass image list shows "
      "them), or SOURCE, the absolute path of a disk file of the host (administrators only)" },
    { MEM "DISK = [ SOURCE = a.img ]",
      "line 2, column 10: DISK: SOURCE 'a.img' is not an absolute path (it starts with '/', at "
      "most 4095 bytes, no control characters)" },
    { MEM "DISK = [ SOURCE = \"/a\nb\" ]",
      "line 2, column 10: DISK: SOURCE '/a\nb' is not an absolute path (it starts with '/', at "
      "most 4095 bytes, no control characters)" },
    { MEM "DISK = [ SOURCE = /a, FORMAT = vmdk ]",
      "line 2, column 23: DISK: FORMAT 'vmdk' is not a disk format: raw or qcow2" },
    { MEM "DISK = [ SOURCE = /a, TARGET = sda1x ]\nDISK = [ SOURCE = /b, TARGET = 1a ]",
      "line 3, column 23: DISK: TARGET '1a' is not a disk name: a lower-case letter, then "
      "lower-case letters or digits (as vda), at most 32" },
    { MEM "DISK = [ SOURCE = /a, TARGET = vdA ]",
      "line 2, column 23: DISK: TARGET 'vdA' is not a disk name: a lower-case letter, then "
      "lower-case letters or digits (as vda), at most 32" },
    { MEM "DISK = [ SOURCE = /a, TARGET = vdb ]\nDISK = [ SOURCE = /b, TARGET = vdb ]",
      "line 3, column 23: DISK: TARGET vdb is given to two disks" },
    { MEM "DISK = [ SOURCE = /a, IMAGE_ID = 3 ]",
      "line 2, column 23: DISK: key IMAGE_ID is not supported by pcipass; DISK takes IMAGE, "
      "SOURCE, FORMAT and TARGET" },
    { MEM "DISK = [ SOURCE = /a, IMAGE = debian12 ]",
      "line 2, column 23: DISK: IMAGE and SOURCE cannot both be set: a disk is an image or a "
      "file of the host" },
    { MEM "DISK = [ IMAGE = debian12, FORMAT = qcow2 ]",
      "line 2, column 28: DISK: FORMAT is not for an IMAGE: an image's format is its file's "
      "(qcow2 for a file ending in .qcow2, else raw)" },
    { MEM "DISK = [ IMAGE = \"../etc/shadow\" ]",
      "line 2, column 10: DISK: IMAGE '../etc/shadow' is not an image name: 1 to 128 letters, "
      "digits, '.', '_', '+' or '-', not starting with '.' (a name, not a path)" },
    { MEM "DISK = [ IMAGE = \"a/b\" ]",
      "line 2, column 10: DISK: IMAGE 'a/b' is not an image name: 1 to 128 letters, digits, "
      "'.', '_', '+' or '-', not starting with '.' (a name, not a path)" },
    { MEM "DISK = [ IMAGE = \"\" ]",
      "line 2, column 10: DISK: IMAGE '' is not an image name: 1 to 128 letters, digits, '.', "
      "'_', '+' or '-', not starting with '.' (a name, not a path)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

static void
test_nic_errors(void)
{
  g_autofree char *bridge15 = g_strnfill(15, 'b');
  g_autofree char *bridge16 = g_strnfill(16, 'b');
  g_autofree char *ok = g_strdup_printf(MEM "NIC = [ BRIDGE = %s, MAC = 02:00:00:00:00:01, "
                                            "MODEL = rtl8139 ]",
                                        bridge15);
  g_autofree char *bad = g_strdup_printf(MEM "NIC = [ BRIDGE = %s ]", bridge16);
  g_autofree char *bad_message = g_strdup_printf(
      "line 2, column 9: NIC: BRIDGE '%s' is not a bridge name: 1 to 15 letters, digits, '.', "
      "'_' or '-'",
      bridge16);
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { MEM "NIC = [ MODEL = virtio ]",
      "line 2, column 1: NIC: needs NETWORK or NETWORK_ID, the virtual network (pcipass net list "
      "shows them), or BRIDGE, the host bridge to plug it into (as br0)" },
    { MEM "NIC = [ BRIDGE = \"br 0\" ]",
      "line 2, column 9: NIC: BRIDGE 'br 0' is not a bridge name: 1 to 15 letters, digits, '.', "
      "'_' or '-'" },
    { MEM "NIC = [ BRIDGE = \"\" ]",
      "line 2, column 9: NIC: BRIDGE '' is not a bridge name: 1 to 15 letters, digits, '.', '_' "
      "or '-'" },
    { MEM "NIC = [ BRIDGE = br0, MODEL = VirtIO ]",
      "line 2, column 23: NIC: MODEL 'VirtIO' is not a NIC model: lower-case letters, digits, "
      "'_' or '-' (as virtio or e1000e), at most 32" },
    { MEM "NIC = [ BRIDGE = br0, MAC = 01:00:5e:00:00:01 ]",
      "line 2, column 23: NIC: MAC '01:00:5e:00:00:01' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ BRIDGE = br0, MAC = 52:54:00:12:34 ]",
      "line 2, column 23: NIC: MAC '52:54:00:12:34' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ BRIDGE = br0, MAC = 52-54-00-12-34-56 ]",
      "line 2, column 23: NIC: MAC '52-54-00-12-34-56' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ BRIDGE = br0, MAC = 52:54:00:12:34:5g ]",
      "line 2, column 23: NIC: MAC '52:54:00:12:34:5g' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ BRIDGE = br0, VLAN_ID = 3 ]",
      "line 2, column 23: NIC: key VLAN_ID is not supported by pcipass; NIC takes NETWORK or "
      "NETWORK_ID, NETWORK_UNAME, IP, MAC and MODEL, or BRIDGE, MODEL and MAC" },
  };

  {
    g_autoptr(PpVmSpec) spec = parse_ok(ok);
    const PpVmNic *nic = g_ptr_array_index(spec->nics, 0);

    g_assert_cmpstr(nic->bridge, ==, bridge15);
    g_assert_cmpstr(nic->mac, ==, "02:00:00:00:00:01");
    g_assert_cmpstr(nic->model, ==, "rtl8139");
  }
  parse_fails(bad, bad_message);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

/* ------------------------------------------------------------------------ */
/* NICs on virtual networks, PCI NICs (issue 12)                             */
/* ------------------------------------------------------------------------ */

static const PpVmNic *
nic_at(const PpVmSpec *spec, guint i)
{
  g_assert_cmpuint(i, <, spec->nics->len);
  return g_ptr_array_index(spec->nics, i);
}

static void
test_nic_network(void)
{
  g_autofree char *name64 = g_strnfill(64, 'n');
  g_autofree char *text = NULL;
  g_autoptr(PpVmSpec) spec =
      parse_ok(MEM "NIC = [ NETWORK = \"public\" ]\n"
                   "NIC = [ NETWORK_ID = 4, IP = \"10.0.0.5\", MAC = \"02:00:0A:00:00:FF\",\n"
                   "        MODEL = \"e1000e\" ]\n"
                   "  NIC = [ NETWORK = \"net.1_a-B\", NETWORK_UNAME = \"alice.b-c_d\" ]\n"
                   "NIC = [ BRIDGE = br0 ]\n");
  const PpVmNic *nic;

  g_assert_cmpuint(spec->nics->len, ==, 4);
  g_assert_cmpuint(spec->requests->len, ==, 0);
  /* By name; every other key its default. */
  nic = nic_at(spec, 0);
  g_assert_cmpint(nic->kind, ==, PP_VM_NIC_BRIDGE);
  g_assert_cmpstr(nic->network, ==, "public");
  g_assert_cmpint(nic->network_id, ==, 0);
  g_assert_null(nic->network_uname);
  g_assert_null(nic->ip);
  g_assert_null(nic->mac);
  g_assert_null(nic->bridge);
  g_assert_cmpstr(nic->model, ==, "virtio");
  g_assert_cmpint(nic->vlan_id, ==, -1);
  g_assert_cmpint(nic->request, ==, -1);
  g_assert_cmpuint(nic->pos.line, ==, 2);
  g_assert_cmpuint(nic->pos.column, ==, 1);
  /* By id, with the addresses asked for: the MAC in lower case. */
  nic = nic_at(spec, 1);
  g_assert_null(nic->network);
  g_assert_cmpint(nic->network_id, ==, 4);
  g_assert_cmpstr(nic->ip, ==, "10.0.0.5");
  g_assert_cmpstr(nic->mac, ==, "02:00:0a:00:00:ff");
  g_assert_cmpstr(nic->model, ==, "e1000e");
  g_assert_null(nic->bridge);
  g_assert_cmpuint(nic->pos.line, ==, 3);
  nic = nic_at(spec, 2);
  g_assert_cmpstr(nic->network, ==, "net.1_a-B");
  g_assert_cmpstr(nic->network_uname, ==, "alice.b-c_d");
  g_assert_cmpuint(nic->pos.line, ==, 5);
  g_assert_cmpuint(nic->pos.column, ==, 3);
  /* A host bridge, without a network, as before. */
  nic = nic_at(spec, 3);
  g_assert_cmpint(nic->kind, ==, PP_VM_NIC_BRIDGE);
  g_assert_cmpstr(nic->bridge, ==, "br0");
  g_assert_null(nic->network);
  g_assert_cmpint(nic->network_id, ==, 0);

  /* The longest names, the largest id. */
  text = g_strdup_printf(MEM "NIC = [ NETWORK = %s, NETWORK_UNAME = %s ]\n"
                             "NIC = [ NETWORK_ID = 9223372036854775807 ]",
                         name64, name64);
  {
    g_autoptr(PpVmSpec) longest = parse_ok(text);

    g_assert_cmpstr(nic_at(longest, 0)->network, ==, name64);
    g_assert_cmpstr(nic_at(longest, 0)->network_uname, ==, name64);
    g_assert_cmpint(nic_at(longest, 1)->network_id, ==, G_MAXINT64);
  }
}

static void
test_nic_network_errors(void)
{
  g_autofree char *name65 = g_strnfill(65, 'n');
  g_autofree char *long_network = g_strdup_printf(MEM "NIC = [ NETWORK = %s ]", name65);
  g_autofree char *long_network_message = g_strdup_printf(
      "line 2, column 9: NIC: NETWORK '%s' is not a network name: 1 to 64 letters, digits, '.', "
      "'_' or '-', not starting with '.' or '-'",
      name65);
  g_autofree char *long_uname =
      g_strdup_printf(MEM "NIC = [ NETWORK = a, NETWORK_UNAME = %s ]", name65);
  g_autofree char *long_uname_message = g_strdup_printf(
      "line 2, column 22: NIC: NETWORK_UNAME '%s' is not a user name: 1 to 64 letters, digits, "
      "'.', '_' or '-', not starting with '.' or '-'",
      name65);
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    /* A NIC is on a network or on a bridge. */
    { MEM "NIC = [ NETWORK = public, BRIDGE = br0 ]",
      "line 2, column 27: NIC: BRIDGE cannot be set with NETWORK or NETWORK_ID: a NIC on a "
      "virtual network is plugged into the network's bridge" },
    { MEM "NIC = [ BRIDGE = br0, NETWORK_ID = 1 ]",
      "line 2, column 9: NIC: BRIDGE cannot be set with NETWORK or NETWORK_ID: a NIC on a "
      "virtual network is plugged into the network's bridge" },
    { MEM "NIC = [ NETWORK = public, NETWORK_ID = 1 ]",
      "line 2, column 27: NIC: NETWORK and NETWORK_ID cannot both be set: give the network by "
      "name or by id" },
    { MEM "NIC = [ NETWORK_UNAME = alice ]",
      "line 2, column 1: NIC: needs NETWORK or NETWORK_ID, the virtual network (pcipass net list "
      "shows them), or BRIDGE, the host bridge to plug it into (as br0)" },
    { MEM "NIC = [ ]",
      "line 2, column 1: NIC: needs NETWORK or NETWORK_ID, the virtual network (pcipass net list "
      "shows them), or BRIDGE, the host bridge to plug it into (as br0)" },
    /* Names: the rule of network and user names. */
    { MEM "NIC = [ NETWORK = \"-x\" ]",
      "line 2, column 9: NIC: NETWORK '-x' is not a network name: 1 to 64 letters, digits, '.', "
      "'_' or '-', not starting with '.' or '-'" },
    { MEM "NIC = [ NETWORK = \".x\" ]",
      "line 2, column 9: NIC: NETWORK '.x' is not a network name: 1 to 64 letters, digits, '.', "
      "'_' or '-', not starting with '.' or '-'" },
    { MEM "NIC = [ NETWORK = \"a b\" ]",
      "line 2, column 9: NIC: NETWORK 'a b' is not a network name: 1 to 64 letters, digits, "
      "'.', '_' or '-', not starting with '.' or '-'" },
    { MEM "NIC = [ NETWORK = \"\" ]",
      "line 2, column 9: NIC: NETWORK '' is not a network name: 1 to 64 letters, digits, '.', "
      "'_' or '-', not starting with '.' or '-'" },
    { MEM "NIC = [ NETWORK = a, NETWORK_UNAME = \"bob/x\" ]",
      "line 2, column 22: NIC: NETWORK_UNAME 'bob/x' is not a user name: 1 to 64 letters, "
      "digits, '.', '_' or '-', not starting with '.' or '-'" },
    { MEM "NIC = [ NETWORK_ID = 3, NETWORK_UNAME = alice ]",
      "line 2, column 25: NIC: NETWORK_UNAME names the owner of the network NETWORK names: it "
      "needs NETWORK (a NETWORK_ID is one network already)" },
    /* Ids. */
    { MEM "NIC = [ NETWORK_ID = 0 ]",
      "line 2, column 9: NIC: NETWORK_ID '0' is not a network id: an integer from 1 (pcipass net "
      "list shows them)" },
    { MEM "NIC = [ NETWORK_ID = -1 ]",
      "line 2, column 9: NIC: NETWORK_ID '-1' is not a network id: an integer from 1 (pcipass "
      "net list shows them)" },
    { MEM "NIC = [ NETWORK_ID = public ]",
      "line 2, column 9: NIC: NETWORK_ID 'public' is not a network id: an integer from 1 "
      "(pcipass net list shows them)" },
    { MEM "NIC = [ NETWORK_ID = 9223372036854775808 ]",
      "line 2, column 9: NIC: NETWORK_ID '9223372036854775808' is not a network id: an integer "
      "from 1 (pcipass net list shows them)" },
    /* Addresses. */
    { MEM "NIC = [ BRIDGE = br0, IP = 10.0.0.1 ]",
      "line 2, column 23: NIC: IP is an address of a virtual network: it needs NETWORK or "
      "NETWORK_ID" },
    { MEM "NIC = [ NETWORK = a, IP = 10.0.0.256 ]",
      "line 2, column 22: NIC: IP '10.0.0.256' is not an IPv4 address (as 10.0.0.1)" },
    { MEM "NIC = [ NETWORK = a, IP = \"::1\" ]",
      "line 2, column 22: NIC: IP '::1' is not an IPv4 address (as 10.0.0.1)" },
    { MEM "NIC = [ NETWORK = a, MAC = 03:00:00:00:00:01 ]",
      "line 2, column 22: NIC: MAC '03:00:00:00:00:01' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ NETWORK = a, MAC = 2:0:0:0:0:1 ]",
      "line 2, column 22: NIC: MAC '2:0:0:0:0:1' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    { MEM "NIC = [ NETWORK = a, MODEL = \"E1000\" ]",
      "line 2, column 22: NIC: MODEL 'E1000' is not a NIC model: lower-case letters, digits, '_' "
      "or '-' (as virtio or e1000e), at most 32" },
    /* PCI's keys are not a NIC's. */
    { MEM "NIC = [ NETWORK = a, TYPE = NIC ]",
      "line 2, column 22: NIC: key TYPE is not supported by pcipass; NIC takes NETWORK or "
      "NETWORK_ID, NETWORK_UNAME, IP, MAC and MODEL, or BRIDGE, MODEL and MAC" },
  };

  parse_fails(long_network, long_network_message);
  parse_fails(long_uname, long_uname_message);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

/* The guide's example, as it writes it, and every key of a PCI NIC. */
static void
test_pci_nic(void)
{
  g_autoptr(PpVmSpec) spec = parse_ok(MEM "PCI = [\n"
                                          "  NETWORK = \"passthrough\",\n"
                                          "  NETWORK_UNAME = \"oneadmin\",\n"
                                          "  TYPE = \"NIC\",\n"
                                          "  CLASS = \"0200\",\n"
                                          "  DEVICE = \"10d3\",\n"
                                          "  VENDOR = \"8086\" ]\n"
                                          "PCI = [ TYPE = \"NIC\", NETWORK_ID = 7, IP = 10.1.2.3,\n"
                                          "  MAC = 02:00:0A:01:02:03, VLAN_ID = 4094,\n"
                                          "  SHORT_ADDRESS = 0000:3b:10.1, PF_POLICY = Spread ]\n"
                                          "PCI = [ TYPE = NIC, NETWORK = n, VLAN_ID = 0, "
                                          "CLASS = 0200, PF_POLICY = PACK ]\n");
  const PpVmNic *nic;
  const PpPciRequest *r;

  g_assert_cmpuint(spec->nics->len, ==, 3);
  g_assert_cmpuint(spec->requests->len, ==, 3);
  nic = nic_at(spec, 0);
  g_assert_cmpint(nic->kind, ==, PP_VM_NIC_PCI);
  g_assert_cmpstr(nic->network, ==, "passthrough");
  g_assert_cmpstr(nic->network_uname, ==, "oneadmin");
  g_assert_cmpint(nic->network_id, ==, 0);
  g_assert_null(nic->ip);
  g_assert_null(nic->mac);
  /* A passed-through NIC has no model and no bridge of its own. */
  g_assert_null(nic->model);
  g_assert_null(nic->bridge);
  g_assert_cmpint(nic->vlan_id, ==, -1);
  g_assert_cmpint(nic->request, ==, 0);
  g_assert_cmpuint(nic->pos.line, ==, 2);
  r = request(spec, 0);
  g_assert_cmpint(r->nic, ==, 0);
  g_assert_cmpint(r->vendor, ==, 0x8086);
  g_assert_cmpint(r->device, ==, 0x10d3);
  g_assert_cmpint(r->class_code, ==, 0x0200);
  g_assert_cmpint(r->pf_policy, ==, PP_PF_POLICY_NONE);
  /* The explanation's text is the device's, as any request's. */
  g_assert_cmpstr(r->text, ==, "VENDOR=8086,DEVICE=10d3,CLASS=0200");

  nic = nic_at(spec, 1);
  g_assert_cmpint(nic->kind, ==, PP_VM_NIC_PCI);
  g_assert_null(nic->network);
  g_assert_cmpint(nic->network_id, ==, 7);
  g_assert_cmpstr(nic->ip, ==, "10.1.2.3");
  g_assert_cmpstr(nic->mac, ==, "02:00:0a:01:02:03");
  g_assert_cmpint(nic->vlan_id, ==, 4094);
  g_assert_cmpint(nic->request, ==, 1);
  g_assert_cmpuint(nic->pos.line, ==, 9);
  r = request(spec, 1);
  g_assert_cmpint(r->nic, ==, 1);
  g_assert_true(r->by_address);
  g_assert_cmpuint(r->address.slot, ==, 0x10);
  g_assert_cmpuint(r->address.function, ==, 1);
  g_assert_cmpint(r->pf_policy, ==, PP_PF_POLICY_SPREAD);

  nic = nic_at(spec, 2);
  g_assert_cmpint(nic->vlan_id, ==, 0);
  g_assert_cmpint(nic->request, ==, 2);
  g_assert_cmpint(request(spec, 2)->nic, ==, 2);
  g_assert_cmpint(request(spec, 2)->pf_policy, ==, PP_PF_POLICY_PACK);
  /* The first VLAN_ID is where the administrators' check points. */
  g_assert_cmpuint(spec->vlan_id_pos.line, ==, 10);
  g_assert_cmpuint(spec->vlan_id_pos.column, ==, 28);
}

/* PF_POLICY is any PCI request's, NIC or not. */
static void
test_pf_policy(void)
{
  g_autoptr(PpVmSpec) spec = parse_ok(MEM "PCI = [ CLASS = 0302, PF_POLICY = pack ]\n"
                                          "PCI = [ CLASS = 0302, PF_POLICY = \"sPrEaD\" ]\n"
                                          "PCI = [ CLASS = 0302 ]\n");

  g_assert_cmpuint(spec->nics->len, ==, 0);
  g_assert_cmpint(request(spec, 0)->pf_policy, ==, PP_PF_POLICY_PACK);
  g_assert_cmpint(request(spec, 1)->pf_policy, ==, PP_PF_POLICY_SPREAD);
  g_assert_cmpint(request(spec, 2)->pf_policy, ==, PP_PF_POLICY_NONE);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint(request(spec, i)->nic, ==, -1);
  parse_fails(MEM "PCI = [ CLASS = 0302, PF_POLICY = fill ]",
              "line 2, column 23: PCI: PF_POLICY 'fill' is not a PF policy: pack (VFs of one PF "
              "first) or spread (VFs of different PFs first)");
  parse_fails(MEM "PCI = [ CLASS = 0302, PF_POLICY = \"\" ]",
              "line 2, column 23: PCI: PF_POLICY '' is not a PF policy: pack (VFs of one PF "
              "first) or spread (VFs of different PFs first)");
}

static void
test_pci_nic_errors(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    /* TYPE is "NIC" as the guide writes it; nothing else. */
    { MEM "PCI = [ TYPE = nic, NETWORK = a, CLASS = 0200 ]",
      "line 2, column 9: PCI: TYPE 'nic' is not a PCI type: pcipass knows TYPE = \"NIC\" (in "
      "capitals), a passed-through NIC on a virtual network; leave TYPE out for any other "
      "device" },
    { MEM "PCI = [ CLASS = 0302, TYPE = GPU ]",
      "line 2, column 23: PCI: TYPE 'GPU' is not a PCI type: pcipass knows TYPE = \"NIC\" (in "
      "capitals), a passed-through NIC on a virtual network; leave TYPE out for any other "
      "device" },
    { MEM "PCI = [ CLASS = 0302, TYPE = \"\" ]",
      "line 2, column 23: PCI: TYPE '' is not a PCI type: pcipass knows TYPE = \"NIC\" (in "
      "capitals), a passed-through NIC on a virtual network; leave TYPE out for any other "
      "device" },
    /* A NIC needs its network. */
    { MEM "PCI = [ CLASS = 0200, TYPE = NIC ]",
      "line 2, column 23: PCI: TYPE = \"NIC\" needs NETWORK or NETWORK_ID, the virtual network "
      "that gives the NIC its MAC, IP and VLAN (pcipass net list shows them)" },
    { MEM "PCI = [ CLASS = 0200, TYPE = NIC, MAC = 02:00:00:00:00:01 ]",
      "line 2, column 23: PCI: TYPE = \"NIC\" needs NETWORK or NETWORK_ID, the virtual network "
      "that gives the NIC its MAC, IP and VLAN (pcipass net list shows them)" },
    /* Every network key without TYPE says to add it, at that key. */
    { MEM "PCI = [ CLASS = 0200, NETWORK_ID = 3 ]",
      "line 2, column 23: PCI: NETWORK_ID is a key of a NIC on a virtual network: add TYPE = "
      "\"NIC\" to pass the device through as one" },
    { MEM "PCI = [ CLASS = 0200, NETWORK_UNAME = a ]",
      "line 2, column 23: PCI: NETWORK_UNAME is a key of a NIC on a virtual network: add TYPE = "
      "\"NIC\" to pass the device through as one" },
    { MEM "PCI = [ CLASS = 0200, IP = 10.0.0.1 ]",
      "line 2, column 23: PCI: IP is a key of a NIC on a virtual network: add TYPE = \"NIC\" to "
      "pass the device through as one" },
    { MEM "PCI = [ CLASS = 0200, MAC = 02:00:00:00:00:01 ]",
      "line 2, column 23: PCI: MAC is a key of a NIC on a virtual network: add TYPE = \"NIC\" to "
      "pass the device through as one" },
    { MEM "PCI = [ CLASS = 0200, VLAN_ID = 5 ]",
      "line 2, column 23: PCI: VLAN_ID is a key of a NIC on a virtual network: add TYPE = \"NIC\" "
      "to pass the device through as one" },
    /* The device is still needed, and by ids or address. */
    { MEM "PCI = [ TYPE = NIC, NETWORK = a ]",
      "line 2, column 1: PCI: SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI" },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, SHORT_ADDRESS = 3b:00.0 ]",
      "line 2, column 1: PCI: SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS" },
    /* VLAN ids of 802.1Q. */
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, VLAN_ID = 4095 ]",
      "line 2, column 48: PCI: VLAN_ID '4095' is not a VLAN id: an integer from 0 to 4094" },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, VLAN_ID = -1 ]",
      "line 2, column 48: PCI: VLAN_ID '-1' is not a VLAN id: an integer from 0 to 4094" },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, VLAN_ID = \"\" ]",
      "line 2, column 48: PCI: VLAN_ID '' is not a VLAN id: an integer from 0 to 4094" },
    /* The network keys' rules, as NIC's. */
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, NETWORK_ID = 2, CLASS = 0200 ]",
      "line 2, column 34: PCI: NETWORK and NETWORK_ID cannot both be set: give the network by "
      "name or by id" },
    { MEM "PCI = [ TYPE = NIC, NETWORK_ID = 2, NETWORK_UNAME = a, CLASS = 0200 ]",
      "line 2, column 37: PCI: NETWORK_UNAME names the owner of the network NETWORK names: it "
      "needs NETWORK (a NETWORK_ID is one network already)" },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, IP = 10.0.0, CLASS = 0200 ]",
      "line 2, column 34: PCI: IP '10.0.0' is not an IPv4 address (as 10.0.0.1)" },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, MAC = ff:ff:ff:ff:ff:ff, CLASS = 0200 ]",
      "line 2, column 34: PCI: MAC 'ff:ff:ff:ff:ff:ff' is not a unicast MAC address: "
      "xx:xx:xx:xx:xx:xx in hex, with the lowest bit of the first octet clear (as "
      "52:54:00:12:34:56)" },
    /* NIC's own keys are not a PCI NIC's. */
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, MODEL = virtio ]",
      "line 2, column 48: PCI: key MODEL is not supported by pcipass; PCI takes " PCI_KEYS },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, BRIDGE = br0 ]",
      "line 2, column 48: PCI: key BRIDGE is not supported by pcipass; PCI takes " PCI_KEYS },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

/* NIC ids run over NIC and PCI NIC in the order of the text (the guide),
 * whatever comes between; each PCI NIC and its request name each other. */
static void
test_nic_order(void)
{
  g_autoptr(PpVmSpec) spec =
      parse_ok("PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200 ]\n"
               "NIC = [ NETWORK = b ]\n"
               "PCI = [ CLASS = 0302 ]\n" MEM "DISK = [ IMAGE = d ]\n"
               "PCI = [ TYPE = NIC, NETWORK_ID = 3, SHORT_ADDRESS = 3b:00.2 ]\n"
               "NIC = [ BRIDGE = br0 ]\n"
               "PCI = [ TYPE = NIC, NETWORK = c, VENDOR = 8086 ]\n"
               "PCI = [ DEVICE = 1db4 ]\n");
  static const struct {
    PpVmNicKind kind;
    gint request;
    guint line;
  } want[] = {
    { PP_VM_NIC_PCI, 0, 1 },     { PP_VM_NIC_BRIDGE, -1, 2 }, { PP_VM_NIC_PCI, 2, 6 },
    { PP_VM_NIC_BRIDGE, -1, 7 }, { PP_VM_NIC_PCI, 3, 8 },
  };
  static const gint want_nic[] = { 0, -1, 2, 4, -1 };

  g_assert_cmpuint(spec->nics->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const PpVmNic *nic = nic_at(spec, i);

    g_assert_cmpint(nic->kind, ==, want[i].kind);
    g_assert_cmpint(nic->request, ==, want[i].request);
    g_assert_cmpuint(nic->pos.line, ==, want[i].line);
    g_assert_cmpuint(nic->pos.column, ==, 1);
    /* The link holds both ways. */
    if (nic->request >= 0)
      g_assert_cmpint(request(spec, (guint)nic->request)->nic, ==, (gint)i);
  }
  g_assert_cmpuint(spec->requests->len, ==, G_N_ELEMENTS(want_nic));
  for (guint i = 0; i < G_N_ELEMENTS(want_nic); i++)
    g_assert_cmpint(request(spec, i)->nic, ==, want_nic[i]);
  g_assert_cmpstr(nic_at(spec, 0)->network, ==, "a");
  g_assert_cmpstr(nic_at(spec, 1)->network, ==, "b");
  g_assert_cmpint(nic_at(spec, 2)->network_id, ==, 3);
  g_assert_cmpstr(nic_at(spec, 4)->network, ==, "c");

  /* Placement gets the links with the requests. */
  {
    PpPlaceVm vm;

    pp_vm_spec_to_place_vm(spec, 1, &vm);
    g_assert_cmpuint(vm.n_requests, ==, 5);
    g_assert_cmpint(vm.requests[3].nic, ==, 4);
    g_assert_cmpint(vm.requests[4].nic, ==, -1);
  }
}

/* At most 64 NICs, NIC and PCI NIC together; the 65th is refused where it
 * is, whichever kind it is. */
static void
test_nic_many(void)
{
  g_autoptr(GString) text = g_string_new(MEM);
  g_autoptr(GString) pci_last = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 64; i++) {
    if (i % 2 == 0)
      g_string_append_printf(text, "NIC = [ NETWORK_ID = %u ]\n", i + 1);
    else
      g_string_append_printf(text, "PCI = [ TYPE = NIC, NETWORK_ID = %u, DEVICE = %04x ]\n", i + 1,
                             i);
  }
  {
    g_autoptr(PpVmSpec) ok = parse_ok(text->str);

    g_assert_cmpuint(ok->nics->len, ==, 64);
    g_assert_cmpuint(ok->requests->len, ==, 32);
    g_assert_cmpint(nic_at(ok, 63)->request, ==, 31);
    g_assert_cmpint(request(ok, 31)->nic, ==, 63);
    g_assert_cmpint(nic_at(ok, 62)->network_id, ==, 63);
  }
  pci_last = g_string_new(text->str);
  g_string_append(text, "NIC = [ BRIDGE = br0 ]\n");
  g_assert_null(pp_vm_template_parse(text->str, text->len, &error));
  g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "line 66, column 1: NIC: more than 64 NICs: NIC vectors and PCI vectors with "
                  "TYPE = \"NIC\" count together");
  g_clear_error(&error);
  g_string_append(pci_last, "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200 ]\n");
  g_assert_null(pp_vm_template_parse(pci_last->str, pci_last->len, &error));
  g_assert_cmpstr(error->message, ==,
                  "line 66, column 1: PCI: more than 64 NICs: NIC vectors and PCI vectors with "
                  "TYPE = \"NIC\" count together");
  g_clear_error(&error);
  /* A PCI device that is not a NIC is not one of them. */
  g_string_truncate(pci_last,
                    pci_last->len - strlen("PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200 ]\n"));
  g_string_append(pci_last, "PCI = [ CLASS = 0302 ]\n");
  {
    g_autoptr(PpVmSpec) ok = parse_ok(pci_last->str);

    g_assert_cmpuint(ok->nics->len, ==, 64);
    g_assert_cmpint(request(ok, 32)->nic, ==, -1);
  }
}

/* VLAN_ID of a PCI NIC: the parser takes it from anyone; the check an
 * ordinary user's template gets refuses it, at the first one. */
static void
test_admin_only(void)
{
  static const struct {
    const char *text;
    guint line, column;
  } cases[] = {
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200,\n    VLAN_ID = 100 ]", 3, 5 },
    { MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200 ]\n"
          "NIC = [ NETWORK = b ]\n"
          "PCI = [ TYPE = NIC, NETWORK = a, VLAN_ID = 0, CLASS = 0200 ]\n"
          "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, VLAN_ID = 7 ]",
      4, 34 },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpVmSpec) spec = parse_ok(cases[i].text);
    g_autoptr(GError) error = NULL;
    g_autofree char *message = g_strdup_printf(
        "line %u, column %u: PCI: VLAN_ID sets the VLAN of a passed-through NIC, which only an "
        "administrator may do; leave it out to use the network's VLAN_ID",
        cases[i].line, cases[i].column);
    PpTextPos pos = { 0, 0 };

    g_assert_false(pp_vm_spec_check_admin_only(spec, &pos, &error));
    g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY);
    g_assert_cmpstr(error->message, ==, message);
    g_assert_cmpuint(pos.line, ==, cases[i].line);
    g_assert_cmpuint(pos.column, ==, cases[i].column);
    /* Not a file of the host. */
    g_assert_true(pp_vm_spec_check_host_paths(spec, NULL, NULL));
  }
  /* Without VLAN_ID, nothing to refuse; nor in a NIC, which has none. */
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200 ]\n"
                                            "NIC = [ NETWORK = a ]\nPCI = [ CLASS = 0302 ]\n");
    PpTextPos pos = { 9, 9 };

    g_assert_true(pp_vm_spec_check_admin_only(spec, &pos, NULL));
    g_assert_cmpuint(pos.line, ==, 9);
    g_assert_cmpuint(spec->vlan_id_pos.line, ==, 0);
  }
  /* A spec read from the store has no positions: the message has none. */
  {
    g_autoptr(PpVmSpec) spec = pp_vm_spec_new();
    g_autoptr(GError) error = NULL;
    PpVmNic *nic = g_new0(PpVmNic, 1);
    PpTextPos pos = { 9, 9 };

    nic->kind = PP_VM_NIC_PCI;
    nic->vlan_id = 12;
    nic->request = 0;
    g_ptr_array_add(spec->nics, nic);
    g_assert_false(pp_vm_spec_check_admin_only(spec, &pos, &error));
    g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY);
    g_assert_cmpstr(error->message, ==,
                    "PCI: VLAN_ID sets the VLAN of a passed-through NIC, which only an "
                    "administrator may do; leave it out to use the network's VLAN_ID");
    g_assert_cmpuint(pos.line, ==, 0);
  }
  /* A bridge of the host without a network, before any VLAN_ID. */
  {
    g_autoptr(PpVmSpec) spec =
        parse_ok(MEM "PCI = [ TYPE = NIC, NETWORK = a, CLASS = 0200, VLAN_ID = 7 ]\n"
                     "  NIC = [ BRIDGE = br0 ]\n");
    g_autoptr(GError) error = NULL;
    PpTextPos pos = { 0, 0 };

    g_assert_false(pp_vm_spec_check_admin_only(spec, &pos, &error));
    g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY);
    g_assert_cmpstr(error->message, ==,
                    "line 3, column 3: NIC: BRIDGE plugs the NIC into a bridge of the host "
                    "without a network, which only an administrator may do; use NETWORK = "
                    "\"NAME\" (pcipass net list shows the networks you may use)");
    g_assert_cmpuint(pos.line, ==, 3);
    g_assert_cmpuint(pos.column, ==, 3);
  }
}

static void
test_os(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { MEM "OS = [ KERNEL = vmlinuz ]",
      "line 2, column 8: OS: KERNEL 'vmlinuz' is not an absolute path (it starts with '/', at "
      "most 4095 bytes, no control characters)" },
    { MEM "OS = [ KERNEL = /k, INITRD = \"initrd.img\" ]",
      "line 2, column 21: OS: INITRD 'initrd.img' is not an absolute path (it starts with '/', "
      "at most 4095 bytes, no control characters)" },
    { MEM "OS = [ INITRD = /i ]",
      "line 2, column 8: OS: INITRD needs KERNEL_IMAGE or KERNEL: it is for direct kernel boot" },
    { MEM "OS = [ INITRD_IMAGE = initrd ]",
      "line 2, column 8: OS: INITRD_IMAGE needs KERNEL_IMAGE or KERNEL: it is for direct kernel "
      "boot" },
    { MEM "OS = [ KERNEL_CMD = \"quiet\" ]",
      "line 2, column 8: OS: KERNEL_CMD needs KERNEL_IMAGE or KERNEL: it is for direct kernel "
      "boot" },
    { MEM "OS = [ KERNEL = /k, KERNEL_IMAGE = vmlinuz ]",
      "line 2, column 21: OS: KERNEL_IMAGE and KERNEL cannot both be set: the kernel is an image "
      "or a file of the host" },
    { MEM "OS = [ KERNEL_IMAGE = k, INITRD_IMAGE = i, INITRD = /i ]",
      "line 2, column 26: OS: INITRD_IMAGE and INITRD cannot both be set: the initrd is an "
      "image or a file of the host" },
    { MEM "OS = [ KERNEL_IMAGE = \".vmlinuz\" ]",
      "line 2, column 8: OS: KERNEL_IMAGE '.vmlinuz' is not an image name: 1 to 128 letters, "
      "digits, '.', '_', '+' or '-', not starting with '.' (a name, not a path)" },
    { MEM "OS = [ KERNEL_IMAGE = k, INITRD_IMAGE = \"/boot/initrd\" ]",
      "line 2, column 26: OS: INITRD_IMAGE '/boot/initrd' is not an image name: 1 to 128 "
      "letters, digits, '.', '_', '+' or '-', not starting with '.' (a name, not a path)" },
    { MEM "OS = [ KERNEL = /k, KERNEL_CMD = \"a\tb\" ]",
      "line 2, column 21: OS: KERNEL_CMD is not a kernel command line: at most 4096 bytes, no "
      "control characters" },
    { MEM "OS = [ KERNEL = /k, BOOT = disk0 ]",
      "line 2, column 21: OS: key BOOT is not supported by pcipass; OS takes KERNEL_IMAGE, "
      "INITRD_IMAGE, KERNEL, INITRD and KERNEL_CMD" },
  };

  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "OS = [ KERNEL = /boot/vmlinuz ]");

    g_assert_cmpstr(spec->kernel, ==, "/boot/vmlinuz");
    g_assert_null(spec->initrd);
    g_assert_null(spec->kernel_cmd);
  }
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "OS = [ ]");

    g_assert_null(spec->kernel);
  }
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
}

/* Images are names: the spec keeps them, with where they are, for pcipassd
 * to find; nothing names a path until then. */
static void
test_images(void)
{
  g_autoptr(PpVmSpec) spec =
      parse_ok(MEM "DISK = [ TARGET = vdb, IMAGE = \"debian12\" ]\n"
                   "DISK = [ IMAGE = data.raw ]\n"
                   "OS = [ KERNEL_IMAGE = \"vmlinuz-6.1\", INITRD_IMAGE = initrd-6.1,\n"
                   "       KERNEL_CMD = \"console=ttyS0\" ]\n");
  const PpVmDisk *disk = g_ptr_array_index(spec->disks, 0);

  g_assert_cmpstr(disk->image, ==, "debian12");
  g_assert_null(disk->source);
  g_assert_null(disk->format);
  g_assert_cmpstr(disk->target, ==, "vdb");
  g_assert_cmpuint(disk->image_pos.line, ==, 2);
  g_assert_cmpuint(disk->image_pos.column, ==, 24);
  disk = g_ptr_array_index(spec->disks, 1);
  g_assert_cmpstr(disk->image, ==, "data.raw");
  g_assert_cmpstr(disk->target, ==, "vda");
  g_assert_cmpuint(disk->image_pos.line, ==, 3);
  g_assert_cmpuint(disk->image_pos.column, ==, 10);
  g_assert_null(spec->kernel);
  g_assert_null(spec->initrd);
  g_assert_cmpstr(spec->kernel_image, ==, "vmlinuz-6.1");
  g_assert_cmpstr(spec->initrd_image, ==, "initrd-6.1");
  g_assert_cmpstr(spec->kernel_cmd, ==, "console=ttyS0");
  g_assert_cmpuint(spec->kernel_image_pos.line, ==, 4);
  g_assert_cmpuint(spec->kernel_image_pos.column, ==, 8);
  g_assert_cmpuint(spec->initrd_image_pos.line, ==, 4);
  g_assert_cmpuint(spec->initrd_image_pos.column, ==, 38);
  /* Images only: no file of the host. */
  g_assert_null(spec->host_path.attribute);
  g_assert_true(pp_vm_spec_check_host_paths(spec, NULL, NULL));
}

/* SOURCE, KERNEL and INITRD name files of the host: the parser takes them,
 * and says where the first is; the check an ordinary user's template gets
 * refuses it, naming the key and the image to use instead. */
static void
test_host_paths(void)
{
  static const struct {
    const char *text;
    guint line, column;
    const char *message;
  } cases[] = {
    { MEM "DISK = [ SOURCE = \"/dev/sda\" ]", 2, 10,
      "line 2, column 10: DISK: SOURCE '/dev/sda' names a file of the host, which only an "
      "administrator may do; use an image: DISK = [ IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
    { MEM "OS = [ KERNEL = \"/etc/shadow\" ]", 2, 8,
      "line 2, column 8: OS: KERNEL '/etc/shadow' names a file of the host, which only an "
      "administrator may do; use an image: OS = [ KERNEL_IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
    { MEM "OS = [ KERNEL_IMAGE = k,\n  INITRD = \"/root/.ssh/id_rsa\" ]", 3, 3,
      "line 3, column 3: OS: INITRD '/root/.ssh/id_rsa' names a file of the host, which only "
      "an administrator may do; use an image: OS = [ INITRD_IMAGE = \"NAME\" ] (pcipass image "
      "list shows them)" },
    /* The first in the text, whatever the order of the table. */
    { "OS = [ KERNEL = /k ]\n" MEM "DISK = [ IMAGE = a ]\nDISK = [ SOURCE = /dev/sdb ]", 1, 8,
      "line 1, column 8: OS: KERNEL '/k' names a file of the host, which only an administrator "
      "may do; use an image: OS = [ KERNEL_IMAGE = \"NAME\" ] (pcipass image list shows them)" },
    { MEM "DISK = [ IMAGE = a ]\nDISK = [ TARGET = vdc, source = /dev/sdb ]", 3, 24,
      "line 3, column 24: DISK: SOURCE '/dev/sdb' names a file of the host, which only an "
      "administrator may do; use an image: DISK = [ IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpVmSpec) spec = parse_ok(cases[i].text);
    g_autoptr(GError) error = NULL;
    PpTextPos pos = { 0, 0 };

    g_assert_nonnull(spec->host_path.attribute);
    g_assert_false(pp_vm_spec_check_host_paths(spec, &pos, &error));
    g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_HOST_PATH);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    g_assert_cmpuint(pos.line, ==, cases[i].line);
    g_assert_cmpuint(pos.column, ==, cases[i].column);
  }
  /* The admin's template still reads as before: the paths are the spec's. */
  {
    g_autoptr(PpVmSpec) spec = parse_ok(cases[0].text);

    g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 0))->source, ==, "/dev/sda");
    g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 0))->format, ==, "raw");
  }
  /* Nothing of the host: nothing to refuse. */
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "NIC = [ BRIDGE = br0 ]");

    g_assert_null(spec->host_path.attribute);
    g_assert_true(pp_vm_spec_check_host_paths(spec, NULL, NULL));
  }
}

/* ------------------------------------------------------------------------ */

static void
test_place_vm(void)
{
  g_autoptr(PpVmSpec) spec = parse_ok("CPU = 1.5\nMEMORY = 2048\nHOST = \"n1\"\n"
                                      "PCI = [ VENDOR = 10DE ]\n"
                                      "PCI = [ SHORT_ADDRESS = 0000:3b:00.1 ]\n");
  PpPlaceVm vm;

  memset(&vm, 0xaa, sizeof(vm));
  pp_vm_spec_to_place_vm(spec, 42, &vm);
  g_assert_cmpint(vm.id, ==, 42);
  g_assert_cmpint(vm.cpu, ==, 150);
  g_assert_cmpint(vm.memory_kib, ==, 2048 * 1024);
  g_assert_cmpuint(vm.n_requests, ==, 2);
  /* Borrowed: the spec's own array. */
  g_assert_true(vm.requests == (const PpPciRequest *)(void *)spec->requests->data);
  g_assert_cmpint(vm.requests[0].vendor, ==, 0x10de);
  g_assert_cmpstr(vm.requests[0].text, ==, "VENDOR=10de");
  g_assert_true(vm.requests[1].by_address);
  g_assert_cmpuint(vm.requests[1].address.function, ==, 1);
  g_assert_cmpstr(vm.requests[1].text, ==, "SHORT_ADDRESS=3b:00.1");
  g_assert_cmpint(vm.host_id, ==, 0);
  g_assert_true(vm.host_name == spec->host_name);

  {
    g_autoptr(PpVmSpec) by_id = parse_ok("MEMORY = 16777216\nHOST = 7\n");

    pp_vm_spec_to_place_vm(by_id, 0, &vm);
    g_assert_cmpint(vm.id, ==, 0);
    g_assert_cmpint(vm.cpu, ==, 100);
    g_assert_cmpint(vm.memory_kib, ==, G_GINT64_CONSTANT(16) * 1024 * 1024 * 1024);
    g_assert_cmpuint(vm.n_requests, ==, 0);
    g_assert_cmpint(vm.host_id, ==, 7);
    g_assert_null(vm.host_name);
  }
}

/* GRAPHICS: OpenNebula's console, its defaults, and every value checked;
 * no error ever holds the password. */
static void
test_graphics(void)
{
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM);

    g_assert_cmpint(spec->graphics.type, ==, PP_VM_GRAPHICS_NONE);
  }
  {
    g_autoptr(PpVmSpec) spec = parse_ok(MEM "GRAPHICS = [ TYPE = \"vnc\" ]");

    g_assert_cmpint(spec->graphics.type, ==, PP_VM_GRAPHICS_VNC);
    g_assert_cmpint(spec->graphics.port, ==, -1);
    g_assert_null(spec->graphics.listen);
    g_assert_null(spec->graphics.passwd);
    g_assert_null(spec->graphics.keymap);
  }
  {
    g_autoptr(PpVmSpec) spec =
        parse_ok(MEM "GRAPHICS = [ TYPE = \"VNC\", LISTEN = \"0.0.0.0\", PORT = \"5900\", "
                     "PASSWD = \"12345678\", KEYMAP = \"en-us\" ]");

    g_assert_cmpint(spec->graphics.type, ==, PP_VM_GRAPHICS_VNC);
    g_assert_cmpstr(spec->graphics.listen, ==, "0.0.0.0");
    g_assert_cmpint(spec->graphics.port, ==, 5900);
    g_assert_cmpstr(spec->graphics.passwd, ==, "12345678");
    g_assert_cmpstr(spec->graphics.keymap, ==, "en-us");
  }
  {
    g_autofree char *long_passwd = g_strnfill(64, 'p');
    g_autofree char *text =
        g_strdup_printf(MEM "GRAPHICS = [ TYPE = Spice, LISTEN = \"fe80::1\", PORT = -1, "
                            "PASSWD = \"%s\" ]",
                        long_passwd);
    g_autoptr(PpVmSpec) spec = parse_ok(text);

    g_assert_cmpint(spec->graphics.type, ==, PP_VM_GRAPHICS_SPICE);
    g_assert_cmpint(spec->graphics.port, ==, -1);
    g_assert_cmpstr(spec->graphics.passwd, ==, long_passwd);
  }

  {
    static const struct {
      const char *graphics;
      const char *message;
    } cases[] = {
      { "[ ]", "line 2, column 1: GRAPHICS: needs TYPE, VNC or SPICE" },
      { "[ TYPE = RDP ]", "line 2, column 14: GRAPHICS: TYPE 'RDP' is not a console type: VNC or "
                          "SPICE" },
      { "[ TYPE = VNC, LISTEN = localhost ]",
        "line 2, column 26: GRAPHICS: LISTEN 'localhost' is not an IP address (as 0.0.0.0, "
        "127.0.0.1 or ::)" },
      { "[ TYPE = VNC, LISTEN = \"1.2.3.4 \" ]",
        "line 2, column 26: GRAPHICS: LISTEN '1.2.3.4 ' is not an IP address (as 0.0.0.0, "
        "127.0.0.1 or ::)" },
      { "[ TYPE = VNC, PORT = 5899 ]",
        "line 2, column 26: GRAPHICS: PORT '5899' is not a console port: 5900 to 65535, or -1 for "
        "one libvirt chooses" },
      { "[ TYPE = VNC, PORT = 65536 ]",
        "line 2, column 26: GRAPHICS: PORT '65536' is not a console port: 5900 to 65535, or -1 "
        "for one libvirt chooses" },
      { "[ TYPE = VNC, PORT = -2 ]",
        "line 2, column 26: GRAPHICS: PORT '-2' is not a console port: 5900 to 65535, or -1 for "
        "one libvirt chooses" },
      { "[ TYPE = VNC, PORT = \"\" ]",
        "line 2, column 26: GRAPHICS: PORT '' is not a console port: 5900 to 65535, or -1 for one "
        "libvirt chooses" },
      { "[ TYPE = VNC, PASSWD = \"s3cret-pw\" ]",
        "line 2, column 26: GRAPHICS: PASSWD is longer than 8 characters: VNC uses 8 only, and "
        "libvirt refuses more" },
      { "[ TYPE = VNC, PASSWD = \"\" ]",
        "line 2, column 26: GRAPHICS: PASSWD is empty; leave PASSWD out for no password" },
      { "[ TYPE = VNC, PASSWD = \"s3c\tx\" ]",
        "line 2, column 26: GRAPHICS: PASSWD has a character other than printable ASCII (at byte "
        "4)" },
      { "[ TYPE = SPICE, PASSWD = \"s3cr\xc3\xa9t\" ]",
        "line 2, column 28: GRAPHICS: PASSWD has a character other than printable ASCII (at byte "
        "5)" },
      { "[ TYPE = VNC, PASSWD = \"(hidden)\" ]",
        "line 2, column 26: GRAPHICS: PASSWD is '(hidden)', what pcipass shows in place of a "
        "password: give the password itself" },
      { "[ TYPE = VNC, KEYMAP = \"en us\" ]",
        "line 2, column 26: GRAPHICS: KEYMAP 'en us' is not a keymap: letters, digits, '_', '+' "
        "or '-' (as en-us or de), at most 32" },
      { "[ TYPE = VNC, RANDOM_PASSWD = YES ]",
        "line 2, column 26: GRAPHICS: key RANDOM_PASSWD is not supported by pcipass; GRAPHICS "
        "takes TYPE, LISTEN, PORT, PASSWD and KEYMAP" },
      { "vnc", "line 2, column 1: GRAPHICS: must be a vector, as GRAPHICS = [ TYPE = \"VNC\" ]" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      g_autofree char *text = g_strconcat(MEM "GRAPHICS = ", cases[i].graphics, NULL);

      parse_fails(text, cases[i].message);
    }
    /* One console. */
    parse_fails(MEM "GRAPHICS = [ TYPE = VNC ]\nGRAPHICS = [ TYPE = SPICE ]",
                "line 3, column 1: GRAPHICS: given twice, on lines 2 and 3; a template has one "
                "GRAPHICS");
    /* The password is never in a message, whatever is wrong beside it. */
    {
      g_autoptr(GError) error = NULL;
      const char *text = MEM "GRAPHICS = [ PASSWD = \"Zq7!sec\", TYPE = VNC, PORT = 1 ]";

      g_assert_null(pp_vm_template_parse(text, strlen(text), &error));
      g_assert_null(strstr(error->message, "Zq7!sec"));
    }
  }
}

/* What pcipassd shows of a template: every PASSWD of GRAPHICS reads
 * (hidden), quoted or not, the rest byte for byte. */
static void
test_redact_secrets(void)
{
  static const struct {
    const char *text;
    const char *shown;
  } cases[] = {
    { MEM "GRAPHICS = [ TYPE = VNC, PASSWD = \"p,w] \\\"x\" ] # c\n",
      MEM "GRAPHICS = [ TYPE = VNC, PASSWD = \"(hidden)\" ] # c\n" },
    { MEM "graphics=[passwd=abc,type=vnc]", MEM "graphics=[passwd=\"(hidden)\",type=vnc]" },
    /* A repeated key: the template keeps the first, both are hidden. */
    { MEM "GRAPHICS = [\n  PASSWD = a,\n  PASSWD = \"b\"\n]\nNAME = x",
      MEM "GRAPHICS = [\n  PASSWD = \"(hidden)\",\n  PASSWD = \"(hidden)\"\n]\nNAME = x" },
    /* Other vectors' PASSWD, and other keys, stay. */
    { MEM "PASSWD = x\nOS = [ PASSWD = y ]\nGRAPHICS = [ TYPE = VNC ]",
      MEM "PASSWD = x\nOS = [ PASSWD = y ]\nGRAPHICS = [ TYPE = VNC ]" },
    /* A byte-order mark, and GRAPHICS on line 1 (found by fuzz-vm-template:
     * the password was shown). */
    { "\xef\xbb\xbfMEMORY = 1024\vGRAPHICS = [ TYPE = SPICE, PASSWD = \"s3cret\" ]\n",
      "\xef\xbb\xbfMEMORY = 1024\vGRAPHICS = [ TYPE = SPICE, PASSWD = \"(hidden)\" ]\n" },
    { "\xef\xbb\xbfGRAPHICS=[PASSWD=s3cret]", "\xef\xbb\xbfGRAPHICS=[PASSWD=\"(hidden)\"]" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *shown = pp_vm_template_redact_secrets(cases[i].text, strlen(cases[i].text));

    g_assert_cmpstr(shown, ==, cases[i].shown);
  }
  g_assert_null(pp_vm_template_redact_secrets("A = [", 5));
}

/* What pcipass does not implement is refused with its name and position,
 * never dropped: OpenNebula's USER_INPUTS, a typo of an attribute. */
static void
test_unsupported(void)
{
  static const char reads[] =
      "(it reads NAME, CPU, VCPU, MEMORY, HOST, MACHINE, DISK, NIC, PCI, OS, GRAPHICS and "
      "CONTEXT)";
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { MEM "CPU = 1\n\nUSER_INPUTS = [ NETWORK = \"YES\" ]\n",
      "line 4, column 1: attribute 'USER_INPUTS' is not supported by pcipass " },
    { MEM "  MEMROY = 2048", "line 2, column 3: attribute 'MEMROY' is not supported by pcipass " },
    { "description = \"a VM\"\n" MEM,
      "line 1, column 1: attribute 'DESCRIPTION' is not supported by pcipass " },
    { MEM "SCHED_REQUIREMENTS = \"ID = 3\"",
      "line 2, column 1: attribute 'SCHED_REQUIREMENTS' is not supported by pcipass " },
    /* Refused before MEMORY is found missing: in the order of the text. */
    { "RAW = [ TYPE = kvm ]", "line 1, column 1: attribute 'RAW' is not supported by pcipass " },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *want = g_strconcat(cases[i].message, reads, NULL);

    parse_fails(cases[i].text, want);
  }
}

/* Where each error is, apart from its message: a position for those of
 * an attribute or of the syntax, the attribute's name for a missing one. */
static void
test_where(void)
{
  static const struct {
    const char *text;
    guint line, column;
    const char *missing;
  } cases[] = {
    { MEM "PCI = [ VENDOR = \"14g4\" ]", 2, 9, NULL },
    { MEM "\n  CONTEXT = [ a = 1 ]", 3, 15, NULL },
    { MEM "NAME = a\nNAME = b", 3, 1, NULL },
    { MEM "PCI = [ VENDOR = 10de", 2, 7, NULL }, /* the syntax */
    { "CPU = 1\n", 0, 0, "MEMORY" },
    { "", 0, 0, "MEMORY" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    PpVmTemplateWhere where = { { 99, 99 }, "unset" };

    g_assert_null(pp_vm_template_parse_where(cases[i].text, strlen(cases[i].text), &where, &error));
    g_assert_nonnull(error);
    g_assert_cmpuint(where.pos.line, ==, cases[i].line);
    g_assert_cmpuint(where.pos.column, ==, cases[i].column);
    g_assert_cmpstr(where.missing, ==, cases[i].missing);
    /* The message starts with the same position. */
    if (cases[i].line > 0) {
      g_autofree char *prefix =
          g_strdup_printf("line %u, column %u: ", cases[i].line, cases[i].column);

      g_assert_true(g_str_has_prefix(error->message, prefix));
    }
  }

  /* Written only on failure; a template too large has no position. */
  {
    g_autoptr(PpVmSpec) spec = NULL;
    PpVmTemplateWhere where = { { 99, 99 }, "unset" };
    gsize len = PP_TEMPLATE_MAX_SIZE + 1;
    g_autofree char *big = g_malloc(len);
    g_autoptr(GError) error = NULL;

    spec = pp_vm_template_parse_where(MEM, strlen(MEM), &where, NULL);
    g_assert_nonnull(spec);
    g_assert_cmpuint(where.pos.line, ==, 99);
    g_assert_cmpstr(where.missing, ==, "unset");
    memset(big, ' ', len);
    g_assert_null(pp_vm_template_parse_where(big, len, &where, &error));
    g_assert_cmpuint(where.pos.line, ==, 0);
    g_assert_null(where.missing);
  }
}

static void
test_too_large(void)
{
  gsize len = PP_TEMPLATE_MAX_SIZE + 1;
  g_autofree char *text = g_malloc(len);
  g_autoptr(GError) error = NULL;

  memset(text, ' ', len);
  g_assert_null(pp_vm_template_parse(text, len, &error));
  g_assert_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_SYNTAX);
}

/* ------------------------------------------------------------------------ */
/* CONTEXT (issue 13)                                                        */
/* ------------------------------------------------------------------------ */

static const PpVmContextVar *
context_var(const PpVmSpec *spec, guint i)
{
  g_assert_cmpuint(i, <, spec->context.vars->len);
  return g_ptr_array_index(spec->context.vars, i);
}

/* Every key in template order with its value raw, FORMAT apart; no
 * CONTEXT is no context, and an empty one is one. */
static void
test_context_accepted(void)
{
  g_autoptr(PpVmSpec) none = parse_ok(MEM);
  g_autoptr(PpVmSpec) empty = parse_ok(MEM "CONTEXT = [ ]");
  g_autoptr(PpVmSpec) spec =
      parse_ok(MEM "NIC = [ NETWORK = \"lan\" ]\n"
                   "PCI = [ TYPE = \"NIC\", NETWORK_ID = 4, VENDOR = \"8086\" ]\n"
                   "CONTEXT = [\n"
                   "  SSH_PUBLIC_KEY = \"ssh-ed25519 AAAA alice@host\",\n"
                   "  SET_HOSTNAME = \"vm-$VMID-$NAME\",\n"
                   "  OWNER = \"$UNAME ($UID)\",\n"
                   "  IP0 = \"$NIC[IP]\",\n"
                   "  IP1 = \"$NIC[ IP6_GLOBAL , NIC_ID = 1 ]\",\n"
                   "  MAC = \"$NIC[MAC, NETWORK=\\\"lan\\\"]\",\n"
                   "  GW = \"$NETWORK[GATEWAY, NETWORK = lan]\",\n"
                   "  DNS4 = \"$NETWORK[DNS, NETWORK_ID = 4] $NIC[MTU, NETWORK_ID=4]\",\n"
                   "  COST = \"5$ pa$s $1 $$HOME $$$$\",\n"
                   "  FORMAT = \"One\",\n"
                   "  START_SCRIPT_BASE64 = \"ZWNobyBoaQo=\" ]\n");

  g_assert_false(none->context.present);
  g_assert_nonnull(none->context.vars);
  g_assert_cmpuint(none->context.vars->len, ==, 0);
  g_assert_true(empty->context.present);
  g_assert_cmpint(empty->context.format, ==, PP_VM_CONTEXT_ONE);
  g_assert_cmpuint(empty->context.vars->len, ==, 0);

  g_assert_true(spec->context.present);
  g_assert_cmpint(spec->context.format, ==, PP_VM_CONTEXT_ONE);
  g_assert_cmpuint(spec->context.vars->len, ==, 10);
  g_assert_cmpstr(context_var(spec, 0)->name, ==, "SSH_PUBLIC_KEY");
  g_assert_cmpstr(context_var(spec, 0)->value, ==, "ssh-ed25519 AAAA alice@host");
  g_assert_cmpuint(context_var(spec, 0)->pos.line, ==, 5);
  g_assert_cmpuint(context_var(spec, 0)->pos.column, ==, 3);
  g_assert_cmpstr(context_var(spec, 5)->name, ==, "MAC");
  g_assert_cmpstr(context_var(spec, 5)->value, ==, "$NIC[MAC, NETWORK=\"lan\"]");
  g_assert_cmpstr(context_var(spec, 8)->value, ==, "5$ pa$s $1 $$HOME $$$$");
  g_assert_cmpstr(context_var(spec, 9)->name, ==, "START_SCRIPT_BASE64");
}

/* The pieces of a value: text and substitutions, with what they name. */
static void
test_context_split(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pieces =
      pp_vm_context_value_split("a $$b $VMID-$NAME$UNAME$UID $NIC[IP] $NIC[MAC, NIC_ID = 2]"
                                "$NIC[GATEWAY,NETWORK=\"x.y\"]$NETWORK[DNS, NETWORK_ID = 7] $",
                                &error);
  static const struct {
    PpVmContextPieceKind kind;
    const char *text, *attr;
    PpVmContextBy by;
    const char *network;
    gint64 id;
  } want[] = {
    { PP_VM_CONTEXT_PIECE_TEXT, "a $b ", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_VMID, "$VMID", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_TEXT, "-", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_NAME, "$NAME", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_UNAME, "$UNAME", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_UID, "$UID", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_TEXT, " ", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_NIC, "$NIC[IP]", "IP", PP_VM_CONTEXT_BY_FIRST, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_TEXT, " ", NULL, 0, NULL, 0 },
    { PP_VM_CONTEXT_PIECE_NIC, "$NIC[MAC, NIC_ID = 2]", "MAC", PP_VM_CONTEXT_BY_NIC_ID, NULL, 2 },
    { PP_VM_CONTEXT_PIECE_NIC, "$NIC[GATEWAY,NETWORK=\"x.y\"]", "GATEWAY", PP_VM_CONTEXT_BY_NETWORK,
      "x.y", 0 },
    { PP_VM_CONTEXT_PIECE_NETWORK, "$NETWORK[DNS, NETWORK_ID = 7]", "DNS",
      PP_VM_CONTEXT_BY_NETWORK_ID, NULL, 7 },
    { PP_VM_CONTEXT_PIECE_TEXT, " $", NULL, 0, NULL, 0 },
  };

  g_assert_no_error(error);
  g_assert_cmpuint(pieces->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < pieces->len; i++) {
    const PpVmContextPiece *piece = g_ptr_array_index(pieces, i);

    g_assert_cmpint(piece->kind, ==, want[i].kind);
    g_assert_cmpstr(piece->text, ==, want[i].text);
    g_assert_cmpstr(piece->attr, ==, want[i].attr);
    if (want[i].attr == NULL)
      continue;
    g_assert_cmpint(piece->by, ==, want[i].by);
    g_assert_cmpstr(piece->network, ==, want[i].network);
    g_assert_cmpint(piece->id, ==, want[i].id);
  }
  g_clear_pointer(&pieces, g_ptr_array_unref);
  pieces = pp_vm_context_value_split("", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(pieces->len, ==, 0);
}

/* Each refusal with its message and the key's position. */
static void
test_context_refused(void)
{
#define NICS "NIC = [ NETWORK = \"lan\" ]\nNIC = [ NETWORK_ID = 4 ]\n"
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { MEM "CONTEXT = [ ssh_public_key = \"k\" ]",
      "line 2, column 13: CONTEXT: key 'ssh_public_key' is not a context key: 1 to 64 of A-Z, "
      "0-9 and '_' (OpenNebula's context keys are upper case)" },
    { MEM "CONTEXT = [ A = 1,\n  A = 2 ]",
      "line 3, column 3: CONTEXT: A is given twice; a context key is given once" },
    { MEM "CONTEXT = [ ETH0_IP = \"10.0.0.9\" ]",
      "line 2, column 13: CONTEXT: ETH0_IP is set by pcipass from NIC 0's lease: leave it out (a "
      "NIC's variables come from its network)" },
    { MEM "CONTEXT = [ X = 1, PCI12_MAC = \"02:00:00:00:00:01\" ]",
      "line 2, column 20: CONTEXT: PCI12_MAC is set by pcipass from PCI vector 12's lease: leave "
      "it out (a NIC's variables come from its network)" },
    { MEM "CONTEXT = [ START_SCRIPT = \"echo a\necho b\" ]",
      "line 2, column 13: CONTEXT: START_SCRIPT has a control character (a newline, a tab): a "
      "context value is one line; a script goes in START_SCRIPT_BASE64, user data in "
      "USER_DATA_BASE64" },
    { MEM "CONTEXT = [ FORMAT = \"cloud\" ]",
      "line 2, column 13: CONTEXT: FORMAT 'cloud' is not a context format: one (context.sh, "
      "OpenNebula's) or nocloud (cloud-init's NoCloud)" },
    { MEM "CONTEXT = [ PASSWORD = \"(hidden)\" ]",
      "line 2, column 13: CONTEXT: PASSWORD is '(hidden)', what pcipass shows in place of a "
      "password: give the password itself" },
    { MEM "CONTEXT = [ A = 1 ]\nCONTEXT = [ B = 2 ]",
      "line 3, column 1: CONTEXT: given twice, on lines 2 and 3; a template has one CONTEXT" },
    { MEM "CONTEXT = \"x\"",
      "line 2, column 1: CONTEXT: must be a vector, as CONTEXT = [ SET_HOSTNAME = \"$NAME\" ]" },
    /* Substitutions: their syntax, then what the template knows. */
    { MEM "CONTEXT = [ H = \"$HOME\" ]",
      "line 2, column 13: CONTEXT: H: '$HOME': not a substitution pcipass knows ($VMID, $NAME, "
      "$UNAME, $UID, $NIC[...], $NETWORK[...]); write $$ for a '$'" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[IP\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[IP': it has no ']'" },
    { MEM NICS "CONTEXT = [ A = \"$NIC\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC': $NIC needs [ATTRIBUTE, ...], as $NIC[IP]" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[HOSTNAME]\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[HOSTNAME]': HOSTNAME is not an attribute of a NIC: "
      "MAC, IP, IP6, IP6_GLOBAL, IP6_ULA, NETWORK, NETWORK_ID, GATEWAY, GATEWAY6, DNS, MTU, "
      "NETWORK_ADDRESS, NETWORK_MASK, SEARCH_DOMAIN or VLAN_ID" },
    { MEM NICS "CONTEXT = [ A = \"$NETWORK[IP, NETWORK = lan]\" ]",
      "line 4, column 13: CONTEXT: A: '$NETWORK[IP, NETWORK = lan]': IP is not an attribute of a "
      "network: GATEWAY, GATEWAY6, DNS, MTU, NETWORK_ADDRESS, NETWORK_MASK, SEARCH_DOMAIN or "
      "VLAN_ID" },
    { MEM NICS "CONTEXT = [ A = \"$NETWORK[GATEWAY]\" ]",
      "line 4, column 13: CONTEXT: A: '$NETWORK[GATEWAY]': $NETWORK needs the network: NETWORK = "
      "\"NAME\" or NETWORK_ID = ID" },
    { MEM NICS "CONTEXT = [ A = \"$NETWORK[GATEWAY, NIC_ID = 0]\" ]",
      "line 4, column 13: CONTEXT: A: '$NETWORK[GATEWAY, NIC_ID = 0]': NIC_ID is not a key of "
      "$NETWORK: NETWORK or NETWORK_ID" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[IP NIC_ID = 0]\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[IP NIC_ID = 0]': expected ',' or ']' after IP" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[IP, NIC_ID = x]\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[IP, NIC_ID = x]': NIC_ID 'x' is not an id: an "
      "integer from 0" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[IP, NETWORK = \\\"-x\\\"]\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[IP, NETWORK = \"-x\"]': NETWORK '-x' is not a "
      "network name: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'" },
    { MEM "CONTEXT = [ A = \"$NIC[IP]\" ]",
      "line 2, column 13: CONTEXT: A: '$NIC[IP]': the template has no NIC" },
    { MEM NICS "CONTEXT = [ A = \"$NIC[IP, NIC_ID = 2]\" ]",
      "line 4, column 13: CONTEXT: A: '$NIC[IP, NIC_ID = 2]': the template has no NIC 2 (NIC ids "
      "count NIC and PCI NIC vectors from 0; it has 2)" },
    /* CONTEXT before the NICs: checked once they are read. */
    { "CONTEXT = [ A = \"$NIC[IP, NIC_ID = 1]\" ]\n" MEM "NIC = [ NETWORK = \"lan\" ]",
      "line 1, column 13: CONTEXT: A: '$NIC[IP, NIC_ID = 1]': the template has no NIC 1 (NIC ids "
      "count NIC and PCI NIC vectors from 0; it has 1)" },
    { MEM "NIC = [ NETWORK = \"lan\" ]\nCONTEXT = [ A = \"$NETWORK[DNS, NETWORK = wan]\" ]",
      "line 3, column 13: CONTEXT: A: '$NETWORK[DNS, NETWORK = wan]': no NIC of the template is "
      "on that network" },
    { MEM "NIC = [ NETWORK_ID = 4 ]\nCONTEXT = [ A = \"$NIC[IP, NETWORK_ID = 5]\" ]",
      "line 3, column 13: CONTEXT: A: '$NIC[IP, NETWORK_ID = 5]': no NIC of the template is on "
      "that network" },
    /* NoCloud. */
    { MEM "CONTEXT = [ FORMAT = nocloud, START_SCRIPT_BASE64 = \"ZWNobwo=\" ]",
      "line 2, column 31: CONTEXT: START_SCRIPT_BASE64 is not read by a NoCloud disk (FORMAT = "
      "\"nocloud\" reads SET_HOSTNAME, SSH_PUBLIC_KEY, USER_DATA and USER_DATA_BASE64): say it "
      "in cloud-config in USER_DATA_BASE64, or use FORMAT = \"one\"" },
    { MEM "CONTEXT = [ USER_DATA = \"#x\", USER_DATA_BASE64 = \"eA==\" ]",
      "line 2, column 31: CONTEXT: USER_DATA and USER_DATA_BASE64 cannot both be set: the user "
      "data is one" },
    { MEM "CONTEXT = [ USER_DATA_BASE64 = \"eA=\" ]",
      "line 2, column 13: CONTEXT: USER_DATA_BASE64 is not base64 (RFC 4648: A-Z, a-z, 0-9, '+', "
      "'/', '=' padding, a multiple of 4 characters)" },
    { MEM "CONTEXT = [ USER_DATA_BASE64 = \"/w==\" ]",
      "line 2, column 13: CONTEXT: USER_DATA_BASE64 does not decode to UTF-8 text (compressed "
      "user data is not supported)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
    parse_fails(cases[i].text, cases[i].message);
#undef NICS
}

/* The bounds: a key of 64, a value of 64 KiB, 256 keys. */
static void
test_context_bounds(void)
{
  g_autofree char *key64 = g_strnfill(64, 'K');
  g_autofree char *key65 = g_strnfill(65, 'K');
  g_autofree char *value = g_strnfill(64 * 1024, 'v');
  g_autofree char *text = NULL;
  g_autoptr(GString) many = g_string_new(MEM "CONTEXT = [ ");
  g_autoptr(PpVmSpec) spec = NULL;

  text = g_strdup_printf(MEM "CONTEXT = [ %s = \"%s\" ]", key64, value);
  spec = parse_ok(text);
  g_assert_cmpuint(strlen(context_var(spec, 0)->value), ==, 64 * 1024);
  g_clear_pointer(&spec, pp_vm_spec_free);
  g_clear_pointer(&text, g_free);
  text = g_strdup_printf(MEM "CONTEXT = [ %s = 1 ]", key65);
  parse_fails(text, "line 2, column 13: CONTEXT: key KKKKKKKKKKKKKKKK... is longer than 64 "
                    "characters");
  g_clear_pointer(&text, g_free);
  text = g_strdup_printf(MEM "CONTEXT = [ A = \"%sv\" ]", value);
  parse_fails(text, "line 2, column 13: CONTEXT: A is longer than 65536 bytes");
  for (guint i = 0; i < 256; i++)
    g_string_append_printf(many, "K%u = 1, ", i);
  g_string_append(many, "FORMAT = one ]");
  spec = parse_ok(many->str);
  g_assert_cmpuint(spec->context.vars->len, ==, 256);
  g_string_truncate(many, many->len - strlen("FORMAT = one ]"));
  g_string_append(many, "\nK256 = 1 ]");
  parse_fails(many->str, "line 3, column 1: CONTEXT: more than 256 keys");
}

/* The context's passwords are hidden in what pcipassd shows, as PASSWD. */
static void
test_context_redacted(void)
{
  static const char text[] = MEM "CONTEXT = [ PASSWORD = \"s3cret\", USERNAME = \"root\",\n"
                                 "  CRYPTED_PASSWORD_BASE64 = x, PASSWD = \"shown\" ]\n";
  g_autofree char *shown = pp_vm_template_redact_secrets(text, strlen(text));

  g_assert_cmpstr(shown, ==,
                  MEM "CONTEXT = [ PASSWORD = \"(hidden)\", USERNAME = \"root\",\n"
                      "  CRYPTED_PASSWORD_BASE64 = \"(hidden)\", PASSWD = \"shown\" ]\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vm-template/minimal", test_minimal_defaults);
  g_test_add_func("/vm-template/full", test_full);
  g_test_add_func("/vm-template/cpu-vcpu", test_cpu_vcpu);
  g_test_add_func("/vm-template/cpu-errors", test_cpu_errors);
  g_test_add_func("/vm-template/vcpu-errors", test_vcpu_errors);
  g_test_add_func("/vm-template/memory", test_memory);
  g_test_add_func("/vm-template/name", test_name);
  g_test_add_func("/vm-template/host", test_host);
  g_test_add_func("/vm-template/machine", test_machine);
  g_test_add_func("/vm-template/given-twice", test_given_twice);
  g_test_add_func("/vm-template/wrong-shape", test_wrong_shape);
  g_test_add_func("/vm-template/syntax-error", test_syntax_error);
  g_test_add_func("/vm-template/pci/guide-examples", test_pci_guide_examples);
  g_test_add_func("/vm-template/pci/hex-forms", test_pci_hex_forms);
  g_test_add_func("/vm-template/pci/short-address", test_pci_short_address);
  g_test_add_func("/vm-template/pci/errors", test_pci_errors);
  g_test_add_func("/vm-template/pci/many", test_pci_many);
  g_test_add_func("/vm-template/disk/targets", test_disk_targets);
  g_test_add_func("/vm-template/disk/errors", test_disk_errors);
  g_test_add_func("/vm-template/nic/errors", test_nic_errors);
  g_test_add_func("/vm-template/nic/network", test_nic_network);
  g_test_add_func("/vm-template/nic/network-errors", test_nic_network_errors);
  g_test_add_func("/vm-template/nic/pci", test_pci_nic);
  g_test_add_func("/vm-template/nic/pci-errors", test_pci_nic_errors);
  g_test_add_func("/vm-template/nic/order", test_nic_order);
  g_test_add_func("/vm-template/nic/many", test_nic_many);
  g_test_add_func("/vm-template/nic/admin-only", test_admin_only);
  g_test_add_func("/vm-template/pci/pf-policy", test_pf_policy);
  g_test_add_func("/vm-template/os", test_os);
  g_test_add_func("/vm-template/images", test_images);
  g_test_add_func("/vm-template/host-paths", test_host_paths);
  g_test_add_func("/vm-template/place-vm", test_place_vm);
  g_test_add_func("/vm-template/too-large", test_too_large);
  g_test_add_func("/vm-template/unsupported", test_unsupported);
  g_test_add_func("/vm-template/graphics", test_graphics);
  g_test_add_func("/vm-template/redact-secrets", test_redact_secrets);
  g_test_add_func("/vm-template/where", test_where);
  g_test_add_func("/vm-template/context/accepted", test_context_accepted);
  g_test_add_func("/vm-template/context/split", test_context_split);
  g_test_add_func("/vm-template/context/refused", test_context_refused);
  g_test_add_func("/vm-template/context/bounds", test_context_bounds);
  g_test_add_func("/vm-template/context/redacted", test_context_redacted);
  return g_test_run();
}
