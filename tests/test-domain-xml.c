/* Domain XML: every variant the deployer can ask for is checked by libvirt's
 * own schema (virt-xml-validate, from Debian's libvirt-clients), and the
 * elements that carry the guest's PCI layout are checked as text. The
 * variants with NICs are also defined on libvirt's test driver (virsh -c
 * test:///default define), which takes <interface type='hostdev'>. */
#include "config.h"

#include <string.h>

#include "pp-domain-xml.h"
#include "pp-test-util.h"

static char *validator;
static char *virsh;
static char *tmp_dir;

static PpVmSpec *
spec_new(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  g_assert_nonnull(spec);
  return spec;
}

/* @addresses: NULL-terminated, as lspci writes them. */
static GArray *
hostdevs_new(const char *const *addresses)
{
  GArray *hostdevs = g_array_new(FALSE, TRUE, sizeof(PpPciAddress));

  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++) {
    g_autoptr(GError) error = NULL;
    PpPciAddress a;

    g_assert_true(pp_pci_address_parse(addresses[i], &a, &error));
    g_assert_no_error(error);
    g_array_append_val(hostdevs, a);
  }
  return hostdevs;
}

/* Runs virt-xml-validate on @xml; returns its exit status, and its output
 * in @ret_output (nullable). */
static int
run_validator(const char *xml, char **ret_output)
{
  static guint n;
  g_autofree char *name = g_strdup_printf("domain-%u.xml", n++);
  g_autofree char *path = g_build_filename(tmp_dir, name, NULL);
  const char *argv[] = { validator, path, "domain", NULL };
  g_auto(PpTestRun) run = { 0 };

  pp_test_write_file(path, xml);
  pp_test_run(argv, NULL, &run);
  if (ret_output != NULL)
    *ret_output = g_strconcat(run.out, run.err, NULL);
  return run.status;
}

static void
assert_valid(const char *xml)
{
  g_autofree char *output = NULL;

  if (run_validator(xml, &output) != 0)
    g_error("virt-xml-validate rejects:\n%s\n%s", xml, output);
}

/* Builds, validates and returns the XML of @tmpl with @addresses. */
static char *
build_valid(const char *tmpl, const PpDomainOptions *options, const char *const *addresses)
{
  g_autoptr(PpVmSpec) spec = spec_new(tmpl);
  g_autoptr(GArray) hostdevs = hostdevs_new(addresses);
  char *xml = pp_domain_xml_build(spec, options, hostdevs);

  g_assert_nonnull(xml);
  assert_valid(xml);
  return xml;
}

/* Defines @xml on libvirt's test driver (test:///default, a fresh one for
 * each virsh): libvirt's own parser and checks, past the schema's. It
 * starts nothing: what libvirt refuses only when QEMU starts (a VLAN on a
 * bridge that is not Open vSwitch's) is not seen here. */
static void
assert_defines(const char *xml)
{
  static guint n;
  g_autofree char *name = g_strdup_printf("define-%u.xml", n++);
  g_autofree char *path = g_build_filename(tmp_dir, name, NULL);
  const char *argv[] = { virsh, "-q", "-c", "test:///default", "define", path, NULL };
  g_auto(PpTestRun) run = { 0 };

  pp_test_write_file(path, xml);
  pp_test_run(argv, NULL, &run);
  if (run.status != 0)
    g_error("libvirt's test driver refuses:\n%s\n%s%s", xml, run.out, run.err);
}

static void
assert_contains(const char *xml, const char *fragment)
{
  if (strstr(xml, fragment) == NULL)
    g_error("the XML:\n%s\nlacks:\n%s", xml, fragment);
}

static void
assert_lacks(const char *xml, const char *fragment)
{
  if (strstr(xml, fragment) != NULL)
    g_error("the XML:\n%s\nhas:\n%s", xml, fragment);
}

static const PpDomainOptions default_options = {
  .name = "pcipass-42",
  .uuid = NULL,
  .domain_type = "kvm",
  .emulator = NULL,
  .managed = TRUE,
};

#define MEM "MEMORY = 1024\n"
#define I440FX MEM "MACHINE = i440fx\n"

/* The text of one hostdev, as the builder writes it. */
#define HOSTDEV(managed, host, guest)                                                              \
  "    <hostdev mode='subsystem' type='pci' managed='" managed "'>\n"                              \
  "      <source>\n"                                                                               \
  "        <address " host "/>\n"                                                                  \
  "      </source>\n"                                                                              \
  "      <address type='pci' " guest "/>\n"                                                        \
  "    </hostdev>\n"

/* ------------------------------------------------------------------------ */

/* The validator is real: it rejects what libvirt would. */
static void
test_validator_rejects(void)
{
  static const char *const bad[] = {
    "<domain type='kvm'><memory>1</memory></domain>\n", /* no name */
    "<domain type='kvm'><name>a</name><memory>1</memory><os><type>hvm</type></os>"
    "<devices><hostdev mode='subsystem' type='pci'><source><address bus='0x3b' slot='0x40' "
    "function='0x9'/></source></hostdev></devices></domain>\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_cmpint(run_validator(bad[i], NULL), !=, 0);
}

static void
test_minimal(void)
{
  g_autofree char *xml = build_valid(MEM, &default_options, NULL);

  g_assert_cmpstr(xml, ==,
                  "<domain type='kvm'>\n"
                  "  <name>pcipass-42</name>\n"
                  "  <memory unit='KiB'>1048576</memory>\n"
                  "  <vcpu>1</vcpu>\n"
                  "  <os>\n"
                  "    <type arch='x86_64' machine='q35'>hvm</type>\n"
                  "    <boot dev='hd'/>\n"
                  "  </os>\n"
                  "  <features>\n"
                  "    <acpi/>\n"
                  "    <apic/>\n"
                  "  </features>\n"
                  "  <devices>\n"
                  "    <controller type='pci' index='0' model='pcie-root'/>\n"
                  "    <serial type='pty'/>\n"
                  "    <console type='pty'/>\n"
                  "  </devices>\n"
                  "</domain>\n");
}

static void
test_options(void)
{
  static const char *const types[] = { "kvm", "qemu", "test" };

  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    PpDomainOptions options = default_options;
    g_autofree char *xml = NULL;
    g_autofree char *want = g_strdup_printf("<domain type='%s'>\n", types[i]);

    options.domain_type = types[i];
    options.uuid = "c7a5fdbd-cdaf-9455-926a-d65c16db1809";
    options.emulator = "/usr/bin/qemu-system-x86_64";
    xml = build_valid("VCPU = 3\nMEMORY = 3", &options, NULL);
    g_assert_true(g_str_has_prefix(xml, want));
    assert_contains(xml, "  <name>pcipass-42</name>\n"
                         "  <uuid>c7a5fdbd-cdaf-9455-926a-d65c16db1809</uuid>\n"
                         "  <memory unit='KiB'>3072</memory>\n"
                         "  <vcpu>3</vcpu>\n");
    assert_contains(xml, "  <devices>\n"
                         "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n");
  }
}

/* A GPU and its HDMI audio function (the companion, given last): one
 * multifunction device behind one root port, functions kept. */
static void
test_q35_gpu_pair(void)
{
  static const char *const devs[] = { "3b:00.0", "3b:00.1", NULL };
  g_autofree char *xml = build_valid(MEM, &default_options, devs);

  assert_contains(xml, "    <controller type='pci' index='0' model='pcie-root'/>\n"
                       "    <controller type='pci' index='1' model='pcie-root-port'/>\n"
                       "    <serial type='pty'/>\n");
  g_assert_cmpuint(pp_test_count(xml, "pcie-root-port"), ==, 1);
  assert_contains(xml, HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                               "domain='0x0000' bus='0x01' slot='0x00' function='0x0' "
                               "multifunction='on'")
                           HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                                   "domain='0x0000' bus='0x01' slot='0x00' function='0x1'"));
  g_assert_cmpuint(pp_test_count(xml, "multifunction"), ==, 1);
}

static void
test_i440fx_gpu_pair(void)
{
  static const char *const devs[] = { "3b:00.1", "3b:00.0", NULL };
  g_autofree char *xml = build_valid(I440FX, &default_options, devs);

  assert_contains(xml, "    <type arch='x86_64' machine='pc'>hvm</type>\n");
  assert_contains(xml, "    <controller type='pci' index='0' model='pci-root'/>\n");
  assert_lacks(xml, "pcie");
  /* In the given order; function 0 is the multifunction one. */
  assert_contains(xml, HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                               "domain='0x0000' bus='0x00' slot='0x10' function='0x1'")
                           HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                                   "domain='0x0000' bus='0x00' slot='0x10' function='0x0' "
                                   "multifunction='on'"));
}

/* Two devices of different slots, and a GPU pair whose audio (a companion)
 * comes after them: each host slot its own port, in order of appearance. */
static void
test_separate_devices(void)
{
  static const char *const devs[] = { "3b:00.0", "5e:00.0", "af:00.0", "3b:00.1", NULL };
  g_autofree char *q35 = build_valid(MEM, &default_options, devs);
  g_autofree char *pc = build_valid(I440FX, &default_options, devs);

  assert_contains(q35, "    <controller type='pci' index='0' model='pcie-root'/>\n"
                       "    <controller type='pci' index='1' model='pcie-root-port'/>\n"
                       "    <controller type='pci' index='2' model='pcie-root-port'/>\n"
                       "    <controller type='pci' index='3' model='pcie-root-port'/>\n"
                       "    <serial");
  assert_contains(
      q35, HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                   "domain='0x0000' bus='0x01' slot='0x00' function='0x0' "
                   "multifunction='on'")
               HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x0'",
                       "domain='0x0000' bus='0x02' slot='0x00' function='0x0'")
                   HOSTDEV("yes", "domain='0x0000' bus='0xaf' slot='0x00' function='0x0'",
                           "domain='0x0000' bus='0x03' slot='0x00' function='0x0'")
                       HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                               "domain='0x0000' bus='0x01' slot='0x00' function='0x1'"));
  assert_contains(
      pc, HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                  "domain='0x0000' bus='0x00' slot='0x10' function='0x0' "
                  "multifunction='on'")
              HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x0'",
                      "domain='0x0000' bus='0x00' slot='0x11' function='0x0'")
                  HOSTDEV("yes", "domain='0x0000' bus='0xaf' slot='0x00' function='0x0'",
                          "domain='0x0000' bus='0x00' slot='0x12' function='0x0'")
                      HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                              "domain='0x0000' bus='0x00' slot='0x10' function='0x1'"));
  g_assert_cmpuint(pp_test_count(pc, "multifunction"), ==, 1);
}

/* Same bus and slot numbers in two PCI domains are two slots; a VMD
 * domain (10000) is written whole. */
static void
test_pci_domains(void)
{
  static const char *const devs[] = { "10000:e1:00.0", "0000:e1:00.1", "0000:e1:00.0", NULL };
  g_autofree char *q35 = build_valid(MEM, &default_options, devs);
  g_autofree char *pc = build_valid(I440FX, &default_options, devs);

  g_assert_cmpuint(pp_test_count(q35, "pcie-root-port"), ==, 2);
  assert_contains(q35,
                  HOSTDEV("yes", "domain='0x10000' bus='0xe1' slot='0x00' function='0x0'",
                          "domain='0x0000' bus='0x01' slot='0x00' function='0x0'")
                      HOSTDEV("yes", "domain='0x0000' bus='0xe1' slot='0x00' function='0x1'",
                              "domain='0x0000' bus='0x02' slot='0x00' function='0x1'")
                          HOSTDEV("yes", "domain='0x0000' bus='0xe1' slot='0x00' function='0x0'",
                                  "domain='0x0000' bus='0x02' slot='0x00' function='0x0' "
                                  "multifunction='on'"));
  assert_contains(pc, "        <address domain='0x10000' bus='0xe1' slot='0x00' function='0x0'/>\n"
                      "      </source>\n"
                      "      <address type='pci' domain='0x0000' bus='0x00' slot='0x10' "
                      "function='0x0'/>\n");
}

/* A function whose slot's function 0 is not passed through (SR-IOV VFs, an
 * audio function alone) sits at function 0 of a guest slot of its own: a
 * guest does not look past a slot without function 0. */
static void
test_function_without_zero(void)
{
  static const char *const devs[] = { "05:10.1", "05:10.3", "3b:00.1", NULL };
  g_autofree char *q35 = build_valid(MEM, &default_options, devs);
  g_autofree char *pc = build_valid(I440FX, &default_options, devs);

  g_assert_cmpuint(pp_test_count(q35, "pcie-root-port"), ==, 3);
  assert_contains(q35,
                  HOSTDEV("yes", "domain='0x0000' bus='0x05' slot='0x10' function='0x1'",
                          "domain='0x0000' bus='0x01' slot='0x00' function='0x0'")
                      HOSTDEV("yes", "domain='0x0000' bus='0x05' slot='0x10' function='0x3'",
                              "domain='0x0000' bus='0x02' slot='0x00' function='0x0'")
                          HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                                  "domain='0x0000' bus='0x03' slot='0x00' function='0x0'"));
  assert_lacks(q35, "multifunction");
  assert_contains(pc, "bus='0x00' slot='0x10' function='0x0'/>\n");
  assert_contains(pc, "bus='0x00' slot='0x11' function='0x0'/>\n");
  assert_contains(pc, "bus='0x00' slot='0x12' function='0x0'/>\n");
}

/* i440fx has 16 slots from 0x10: beyond them, libvirt chooses. */
static void
test_i440fx_many_slots(void)
{
  g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *xml = NULL;

  for (guint i = 0; i < 18; i++)
    g_ptr_array_add(addrs, g_strdup_printf("%02x:00.0", 0x40 + i));
  g_ptr_array_add(addrs, NULL);
  xml = build_valid(I440FX, &default_options, (const char *const *)addrs->pdata);
  g_assert_cmpuint(pp_test_count(xml, "<hostdev "), ==, 18);
  g_assert_cmpuint(pp_test_count(xml, "<address type='pci'"), ==, 16);
  assert_contains(xml, "slot='0x1f' function='0x0'/>\n");
  assert_contains(xml, "        <address domain='0x0000' bus='0x51' slot='0x00' function='0x0'/>\n"
                       "      </source>\n"
                       "    </hostdev>\n");
}

static void
test_managed_no(void)
{
  static const char *const devs[] = { "3b:00.0", "3b:00.1", NULL };
  PpDomainOptions options = default_options;
  g_autofree char *xml = NULL;

  options.managed = FALSE;
  xml = build_valid(MEM, &options, devs);
  g_assert_cmpuint(pp_test_count(xml, "managed='no'"), ==, 2);
  assert_lacks(xml, "managed='yes'");
}

static void
test_disks_nics(void)
{
  g_autofree char *xml = build_valid(MEM "DISK = [ SOURCE = /var/lib/images/a.qcow2, "
                                         "FORMAT = qcow2 ]\n"
                                         "DISK = [ SOURCE = /var/lib/images/b.img, TARGET = vdc ]\n"
                                         "NIC = [ BRIDGE = br0 ]\n"
                                         "NIC = [ BRIDGE = br1.100, MODEL = e1000e, "
                                         "MAC = 52:54:00:AB:CD:EF ]\n",
                                     &default_options, NULL);

  assert_contains(xml, "    <disk type='file' device='disk'>\n"
                       "      <driver name='qemu' type='qcow2'/>\n"
                       "      <source file='/var/lib/images/a.qcow2'/>\n"
                       "      <target dev='vda' bus='virtio'/>\n"
                       "    </disk>\n"
                       "    <disk type='file' device='disk'>\n"
                       "      <driver name='qemu' type='raw'/>\n"
                       "      <source file='/var/lib/images/b.img'/>\n"
                       "      <target dev='vdc' bus='virtio'/>\n"
                       "    </disk>\n"
                       "    <interface type='bridge'>\n"
                       "      <source bridge='br0'/>\n"
                       "      <model type='virtio'/>\n"
                       "    </interface>\n"
                       "    <interface type='bridge'>\n"
                       "      <mac address='52:54:00:ab:cd:ef'/>\n"
                       "      <source bridge='br1.100'/>\n"
                       "      <model type='e1000e'/>\n"
                       "    </interface>\n");
}

static void
test_direct_kernel_boot(void)
{
  static const char *const devs[] = { "3b:00.0", NULL };
  g_autofree char *xml = build_valid(I440FX "OS = [ KERNEL = /boot/vmlinuz-6.1, "
                                            "INITRD = /boot/initrd.img-6.1, "
                                            "KERNEL_CMD = \"console=ttyS0 root=/dev/vda1 ro\" ]\n",
                                     &default_options, devs);
  g_autofree char *kernel_only =
      build_valid(MEM "OS = [ KERNEL = /boot/vmlinuz ]\n", &default_options, NULL);

  assert_contains(xml, "  <os>\n"
                       "    <type arch='x86_64' machine='pc'>hvm</type>\n"
                       "    <kernel>/boot/vmlinuz-6.1</kernel>\n"
                       "    <initrd>/boot/initrd.img-6.1</initrd>\n"
                       "    <cmdline>console=ttyS0 root=/dev/vda1 ro</cmdline>\n"
                       "  </os>\n");
  assert_lacks(xml, "<boot");
  assert_contains(kernel_only, "    <kernel>/boot/vmlinuz</kernel>\n  </os>\n");
}

/* Images: the XML is built from what pcipassd found for them (here set as
 * pp_images_resolve_spec() sets it), and never before. */
static void
test_images(void)
{
  g_autoptr(PpVmSpec) spec =
      spec_new(MEM "DISK = [ IMAGE = debian12 ]\nDISK = [ IMAGE = scratch, TARGET = vdc ]\n"
                   "OS = [ KERNEL_IMAGE = vmlinuz-6.1, INITRD_IMAGE = initrd-6.1 ]\n");
  PpVmDisk *disk = g_ptr_array_index(spec->disks, 0);
  g_autofree char *xml = NULL;

  /* Not resolved: a programming error, no XML. */
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*spec->kernel*");
  g_assert_null(pp_domain_xml_build(spec, &default_options, NULL));
  g_test_assert_expected_messages();
  spec->kernel = g_strdup("/srv/images/vmlinuz-6.1");
  spec->initrd = g_strdup("/srv/images/initrd-6.1.img");
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*disk->source*");
  g_assert_null(pp_domain_xml_build(spec, &default_options, NULL));
  g_test_assert_expected_messages();

  disk->source = g_strdup("/srv/images/debian12.qcow2");
  disk->format = g_strdup("qcow2");
  disk = g_ptr_array_index(spec->disks, 1);
  disk->source = g_strdup("/srv/images/scratch");
  disk->format = g_strdup("raw");
  xml = pp_domain_xml_build(spec, &default_options, NULL);
  g_assert_nonnull(xml);
  assert_valid(xml);
  assert_contains(xml, "    <kernel>/srv/images/vmlinuz-6.1</kernel>\n"
                       "    <initrd>/srv/images/initrd-6.1.img</initrd>\n");
  assert_contains(xml, "    <disk type='file' device='disk'>\n"
                       "      <driver name='qemu' type='qcow2'/>\n"
                       "      <source file='/srv/images/debian12.qcow2'/>\n"
                       "      <target dev='vda' bus='virtio'/>\n"
                       "    </disk>\n"
                       "    <disk type='file' device='disk'>\n"
                       "      <driver name='qemu' type='raw'/>\n"
                       "      <source file='/srv/images/scratch'/>\n"
                       "      <target dev='vdc' bus='virtio'/>\n");
}

/* Names, paths and the command line with & < ' " " are escaped, and still
 * validate. */
static void
test_escaping(void)
{
  PpDomainOptions options = default_options;
  g_autofree char *xml = NULL;

  options.name = "vm & <co> 'it' \"x\"";
  options.emulator = "/opt/q&<'\">/qemu";
  xml = build_valid(MEM "DISK = [ SOURCE = \"/var/lib/a&b<c'd\\\"e>.img\" ]\n"
                        "OS = [ KERNEL = \"/k&<'\\\">\", INITRD = \"/i&\", "
                        "KERNEL_CMD = \"a='1' b=\\\"2\\\" c=&<>\" ]\n",
                    &options, NULL);
  assert_contains(xml, "  <name>vm &amp; &lt;co&gt; &apos;it&apos; &quot;x&quot;</name>\n");
  assert_contains(xml, "    <emulator>/opt/q&amp;&lt;&apos;&quot;&gt;/qemu</emulator>\n");
  assert_contains(xml, "      <source file='/var/lib/a&amp;b&lt;c&apos;d&quot;e&gt;.img'/>\n");
  assert_contains(xml, "    <kernel>/k&amp;&lt;&apos;&quot;&gt;</kernel>\n"
                       "    <initrd>/i&amp;</initrd>\n"
                       "    <cmdline>a=&apos;1&apos; b=&quot;2&quot; c=&amp;&lt;&gt;</cmdline>\n");
}

/* GRAPHICS: VNC and SPICE, a fixed port or one libvirt chooses, the
 * listen address as attribute and element, the password and keymap
 * escaped; each validates. */
static void
test_graphics(void)
{
  static const struct {
    const char *graphics;
    const char *xml;
  } cases[] = {
    { "GRAPHICS = [ TYPE = VNC ]", "    <graphics type='vnc' port='-1' autoport='yes'/>\n" },
    { "GRAPHICS = [ TYPE = vnc, LISTEN = 0.0.0.0, PORT = 5901, PASSWD = \"s3cr&t'<\" ]",
      "    <graphics type='vnc' port='5901' autoport='no' listen='0.0.0.0' "
      "passwd='s3cr&amp;t&apos;&lt;'>\n"
      "      <listen type='address' address='0.0.0.0'/>\n"
      "    </graphics>\n" },
    { "GRAPHICS = [ TYPE = \"SPICE\", LISTEN = \"::1\", PORT = -1, KEYMAP = de-ch, "
      "PASSWD = \"a long spice password, 34 bytes!!\" ]",
      "    <graphics type='spice' port='-1' autoport='yes' listen='::1' "
      "passwd='a long spice password, 34 bytes!!' keymap='de-ch'>\n"
      "      <listen type='address' address='::1'/>\n"
      "    </graphics>\n" },
    { "GRAPHICS = [ TYPE = spice, PORT = 65535 ]",
      "    <graphics type='spice' port='65535' autoport='no'/>\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    static const char *const devs[] = { "3b:00.0", NULL };
    g_autofree char *tmpl = g_strconcat(MEM, cases[i].graphics, "\n", NULL);
    g_autofree char *xml = build_valid(tmpl, &default_options, devs);

    /* After the console, before the devices passed through. */
    assert_contains(xml, "    <console type='pty'/>\n");
    if (strstr(xml, cases[i].xml) == NULL)
      g_error("%s:\n%s\nlacks:\n%s", cases[i].graphics, xml, cases[i].xml);
    g_assert_true(strstr(xml, "<console") < strstr(xml, "<graphics"));
    g_assert_true(strstr(xml, "<graphics") < strstr(xml, "<hostdev"));
  }
  {
    g_autofree char *xml = build_valid(MEM, &default_options, NULL);

    assert_lacks(xml, "<graphics");
  }
}

/* What pcipassd shows of the XML: every passwd made (hidden), the rest as
 * it was, and still valid. */
static void
test_redact_secrets(void)
{
  g_autofree char *xml = build_valid(MEM "NAME = x\nGRAPHICS = [ TYPE = VNC, PASSWD = \"p'w&1\", "
                                         "LISTEN = 127.0.0.1 ]\n",
                                     &default_options, NULL);
  g_autofree char *shown = pp_domain_xml_redact_secrets(xml);
  g_autofree char *plain = build_valid(MEM, &default_options, NULL);
  g_autofree char *plain_shown = pp_domain_xml_redact_secrets(plain);

  assert_contains(xml, "passwd='p&apos;w&amp;1'");
  assert_lacks(shown, "p&apos;w");
  assert_contains(shown, " listen='127.0.0.1' passwd='(hidden)'>\n");
  g_assert_cmpuint(strlen(shown), ==, strlen(xml) - strlen("p&apos;w&amp;1") + strlen("(hidden)"));
  assert_valid(shown);
  g_assert_cmpstr(plain_shown, ==, plain);
}

/* A full VM: everything at once, on both machines. */
static void
test_full(void)
{
  static const char *const devs[] = { "3b:00.0", "86:00.0", "10000:01:00.0", "3b:00.1", NULL };
  static const char tmpl[] =
      "NAME = gpu-job\nCPU = 4\nMEMORY = 65536\n"
      "DISK = [ SOURCE = /var/lib/images/root.qcow2, FORMAT = qcow2 ]\n"
      "NIC = [ BRIDGE = br0, MAC = 02:00:c0:a8:01:05 ]\n"
      "GRAPHICS = [ TYPE = VNC, LISTEN = 0.0.0.0, PASSWD = pw ]\n"
      "PCI = [ VENDOR = 10de, CLASS = 0302 ]\nPCI = [ CLASS = 0108 ]\nPCI = [ SHORT_ADDRESS = "
      "10000:01:00.0 ]\n";
  PpDomainOptions options = default_options;
  g_autofree char *q35 = NULL;
  g_autofree char *pc = NULL;
  g_autofree char *pc_tmpl = g_strconcat(tmpl, "MACHINE = i440fx\n", NULL);

  options.uuid = "8b3f0c5e-7d8a-4a57-9e33-0f4f5c1e2d3a";
  options.domain_type = "test";
  options.managed = FALSE;
  q35 = build_valid(tmpl, &options, devs);
  pc = build_valid(pc_tmpl, &options, devs);
  g_assert_cmpuint(pp_test_count(q35, "<hostdev "), ==, 4);
  g_assert_cmpuint(pp_test_count(q35, "pcie-root-port"), ==, 3);
  g_assert_cmpuint(pp_test_count(q35, "<vcpu>4</vcpu>"), ==, 1);
  g_assert_cmpuint(pp_test_count(pc, "<hostdev "), ==, 4);
  g_assert_cmpuint(pp_test_count(pc, "slot='0x12'"), ==, 1);
}

/* The store's id and the VM's in <metadata>, in pcipass's namespace: the
 * schema takes it, and nothing of it is left out of the escape. */
static void
test_metadata(void)
{
  PpDomainOptions options = default_options;
  g_autofree char *xml = NULL;
  g_autofree char *quoted = NULL;

  options.store_id = "0123456789abcdef0123456789abcdef";
  options.vm_id = 42;
  xml = build_valid(MEM, &options, NULL);
  assert_contains(xml, "  <metadata>\n"
                       "    <pcipass:vm xmlns:pcipass='https://pcipass.org/xmlns/domain/1' "
                       "store='0123456789abcdef0123456789abcdef' id='42'/>\n"
                       "  </metadata>\n");
  /* Without a store id, none. */
  g_clear_pointer(&xml, g_free);
  xml = build_valid(MEM, &default_options, NULL);
  assert_lacks(xml, "<metadata>");
  /* A quote in the id (not one pcipassd makes) cannot break out. */
  options.store_id = "x' evil='y";
  quoted = build_valid(MEM, &options, NULL);
  assert_contains(quoted, "store='x&apos; evil=&apos;y'");
}

/* ------------------------------------------------------------------------ */
/* NICs with their leases (PpDomainOptions.nics) */

static PpDomainNic
bridge_nic(const char *bridge, const char *mac, gint vlan_id, gboolean openvswitch)
{
  PpDomainNic nic = {
    .kind = PP_VM_NIC_BRIDGE,
    .mac = mac,
    .vlan_id = vlan_id,
    .bridge = bridge,
    .model = "virtio",
    .openvswitch = openvswitch,
  };

  return nic;
}

static PpDomainNic
pci_nic(const char *host, const char *mac, gint vlan_id, gboolean is_vf)
{
  g_autoptr(GError) error = NULL;
  PpDomainNic nic = {
    .kind = PP_VM_NIC_PCI,
    .mac = mac,
    .vlan_id = vlan_id,
    .is_vf = is_vf,
  };

  g_assert_true(pp_pci_address_parse(host, &nic.host, &error));
  g_assert_no_error(error);
  return nic;
}

/* Builds the XML of @tmpl with @nics and @addresses, validates it with the
 * schema and defines it on libvirt's test driver. The builder takes the
 * NICs from @nics only (the spec's NICs are the deployer's to turn into
 * them): the templates ask for the PCI NICs' devices as plain PCI. */
static char *
build_nics(const char *tmpl, const PpDomainNic *nics, guint n_nics, const char *const *addresses)
{
  PpDomainOptions options = default_options;
  g_autofree char *xml = NULL;

  options.nics = nics;
  options.n_nics = n_nics;
  xml = build_valid(tmpl, &options, addresses);
  assert_defines(xml);
  return g_steal_pointer(&xml);
}

/* The explicit pcie-root-port of a NIC on q35. */
#define NIC_PORT(index, port, slot, function)                                                      \
  "    <controller type='pci' index='" index "' model='pcie-root-port'>\n"                         \
  "      <target chassis='" index "' port='" port "'/>\n"                                          \
  "      <address type='pci' domain='0x0000' bus='0x00' slot='" slot "' function='" function       \
  "'/>\n"                                                                                          \
  "    </controller>\n"
#define NIC_PORT_MF(index, port, slot)                                                             \
  "    <controller type='pci' index='" index "' model='pcie-root-port'>\n"                         \
  "      <target chassis='" index "' port='" port "'/>\n"                                          \
  "      <address type='pci' domain='0x0000' bus='0x00' slot='" slot "' function='0x0' "           \
  "multifunction='on'/>\n"                                                                         \
  "    </controller>\n"
#define GUEST_Q35(bus)                                                                             \
  "      <address type='pci' domain='0x0000' bus='" bus "' slot='0x00' function='0x0'/>\n"
#define GUEST_PC(slot)                                                                             \
  "      <address type='pci' domain='0x0000' bus='0x00' slot='" slot "' function='0x0'/>\n"

/* Bridged NICs: the lease's MAC, the bridge and model, a VLAN with and
 * without Open vSwitch (written either way: libvirt says at start why a
 * plain bridge cannot), each at its NIC's own port; the spec's NICs are
 * not written. */
static void
test_nic_bridge(void)
{
  const PpDomainNic nics[] = {
    bridge_nic("br0", "02:00:0a:00:00:05", -1, FALSE),
    bridge_nic("ovsbr0", "02:00:0a:00:00:06", 100, TRUE),
    bridge_nic("br1", NULL, 4094, FALSE),
    bridge_nic("ovsbr1", "02:00:0a:00:00:07", -1, TRUE),
  };
  g_autofree char *xml = build_nics(MEM "NIC = [ BRIDGE = spec-br ]\nNIC = [ BRIDGE = spec-br ]\n",
                                    nics, G_N_ELEMENTS(nics), NULL);

  /* clang-format off */
  assert_contains(xml,
                  "    <controller type='pci' index='0' model='pcie-root'/>\n"
                  NIC_PORT_MF("1", "0x8", "0x01")
                  NIC_PORT("2", "0x9", "0x01", "0x1")
                  NIC_PORT("3", "0xa", "0x01", "0x2")
                  NIC_PORT("4", "0xb", "0x01", "0x3")
                  "    <interface type='bridge'>\n"
                  "      <mac address='02:00:0a:00:00:05'/>\n"
                  "      <source bridge='br0'/>\n"
                  "      <model type='virtio'/>\n"
                  GUEST_Q35("0x01")
                  "    </interface>\n"
                  "    <interface type='bridge'>\n"
                  "      <mac address='02:00:0a:00:00:06'/>\n"
                  "      <source bridge='ovsbr0'/>\n"
                  "      <vlan>\n"
                  "        <tag id='100'/>\n"
                  "      </vlan>\n"
                  "      <virtualport type='openvswitch'/>\n"
                  "      <model type='virtio'/>\n"
                  GUEST_Q35("0x02")
                  "    </interface>\n"
                  "    <interface type='bridge'>\n"
                  "      <source bridge='br1'/>\n"
                  "      <vlan>\n"
                  "        <tag id='4094'/>\n"
                  "      </vlan>\n"
                  "      <model type='virtio'/>\n"
                  GUEST_Q35("0x03")
                  "    </interface>\n"
                  "    <interface type='bridge'>\n"
                  "      <mac address='02:00:0a:00:00:07'/>\n"
                  "      <source bridge='ovsbr1'/>\n"
                  "      <virtualport type='openvswitch'/>\n"
                  "      <model type='virtio'/>\n"
                  GUEST_Q35("0x04")
                  "    </interface>\n"
                  "    <serial type='pty'/>\n");
  /* clang-format on */
  assert_lacks(xml, "spec-br");
  g_assert_cmpuint(pp_test_count(xml, "pcie-root-port"), ==, 4);
  g_assert_cmpuint(pp_test_count(xml, "multifunction"), ==, 1);
}

/* An SR-IOV VF: <interface type='hostdev'> with the MAC and the VLAN,
 * managed as the hostdevs are; written once, not again as a hostdev. */
static void
test_nic_vf(void)
{
  static const char *const devs[] = { "05:10.1", "05:10.3", NULL };
  const PpDomainNic nics[] = {
    pci_nic("05:10.1", "02:00:0a:00:00:05", 42, TRUE),
    pci_nic("05:10.3", "02:00:0a:00:00:06", -1, TRUE),
  };
  PpDomainOptions options = default_options;
  g_autoptr(PpVmSpec) spec = spec_new(MEM);
  g_autoptr(GArray) hostdevs = hostdevs_new(devs);
  g_autofree char *xml = build_nics(MEM "PCI = [ VENDOR = 8086 ]\nPCI = [ VENDOR = 8086 ]\n", nics,
                                    G_N_ELEMENTS(nics), devs);
  g_autofree char *unmanaged = NULL;

  /* clang-format off */
  assert_contains(xml,
                  "    <controller type='pci' index='0' model='pcie-root'/>\n"
                  NIC_PORT_MF("1", "0x8", "0x01")
                  NIC_PORT("2", "0x9", "0x01", "0x1")
                  "    <interface type='hostdev' managed='yes'>\n"
                  "      <mac address='02:00:0a:00:00:05'/>\n"
                  "      <source>\n"
                  "        <address type='pci' domain='0x0000' bus='0x05' slot='0x10' function='0x1'/>\n"
                  "      </source>\n"
                  "      <vlan>\n"
                  "        <tag id='42'/>\n"
                  "      </vlan>\n"
                  GUEST_Q35("0x01")
                  "    </interface>\n"
                  "    <interface type='hostdev' managed='yes'>\n"
                  "      <mac address='02:00:0a:00:00:06'/>\n"
                  "      <source>\n"
                  "        <address type='pci' domain='0x0000' bus='0x05' slot='0x10' function='0x3'/>\n"
                  "      </source>\n"
                  GUEST_Q35("0x02")
                  "    </interface>\n"
                  "    <serial type='pty'/>\n");
  /* clang-format on */
  assert_lacks(xml, "<hostdev");
  g_assert_cmpuint(pp_test_count(xml, "pcie-root-port"), ==, 2);
  g_assert_cmpuint(pp_test_count(xml, "<vlan>"), ==, 1);

  options.managed = FALSE;
  options.nics = nics;
  options.n_nics = G_N_ELEMENTS(nics);
  unmanaged = pp_domain_xml_build(spec, &options, hostdevs);
  assert_valid(unmanaged);
  assert_defines(unmanaged);
  g_assert_cmpuint(pp_test_count(unmanaged, "<interface type='hostdev' managed='no'>"), ==, 2);
  assert_lacks(unmanaged, "managed='yes'");
}

/* A PCI NIC that is not a VF: a plain hostdev at its NIC's address, its
 * MAC not in the XML (the guest sets it); its companion (the other port
 * of the card, same IOMMU group) stays among the hostdevs, after the NICs,
 * at function 0 of a slot of its own (its function 0 is the NIC's). */
static void
test_nic_pci_plain(void)
{
  static const char *const devs[] = { "5e:00.0", "5e:00.1", NULL };
  const PpDomainNic nics[] = { pci_nic("5e:00.0", "02:00:0a:00:00:09", 7, FALSE) };
  g_autofree char *q35 = build_nics(MEM "PCI = [ CLASS = 0200 ]\n", nics, 1, devs);
  g_autofree char *pc = build_nics(I440FX "PCI = [ CLASS = 0200 ]\n", nics, 1, devs);

  /* clang-format off */
  assert_contains(q35,
                  "    <controller type='pci' index='0' model='pcie-root'/>\n"
                  NIC_PORT("1", "0x8", "0x01", "0x0")
                  "    <controller type='pci' index='2' model='pcie-root-port'/>\n");
  assert_contains(q35,
                  "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                  "      <source>\n"
                  "        <address domain='0x0000' bus='0x5e' slot='0x00' function='0x0'/>\n"
                  "      </source>\n"
                  GUEST_Q35("0x01")
                  "    </hostdev>\n"
                  "    <serial type='pty'/>\n");
  /* clang-format on */
  assert_contains(q35, HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x1'",
                               "domain='0x0000' bus='0x02' slot='0x00' function='0x0'"));
  assert_lacks(q35, "02:00:0a:00:00:09");
  assert_lacks(q35, "<vlan>");
  assert_lacks(q35, "<interface");
  assert_lacks(q35, "multifunction");
  g_assert_cmpuint(pp_test_count(q35, "bus='0x5e' slot='0x00' function='0x0'"), ==, 1);
  g_assert_cmpuint(pp_test_count(q35, "<hostdev "), ==, 2);

  assert_contains(pc, "        <address domain='0x0000' bus='0x5e' slot='0x00' function='0x0'/>\n"
                      "      </source>\n" GUEST_PC("0x10"));
  assert_contains(pc, HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x1'",
                              "domain='0x0000' bus='0x00' slot='0x11' function='0x0'"));
  g_assert_cmpuint(pp_test_count(pc, "bus='0x5e' slot='0x00' function='0x0'"), ==, 1);
  assert_lacks(pc, "pcie");
}

/* The guide's order: NICs of both kinds in NIC id order take the first
 * guest addresses (PCI NIC, bridged, PCI NIC), then the other devices as
 * before, a GPU with its audio and a NIC's companion; every device once. */
static void
test_nic_mixed(void)
{
  /* The VM's order: requests (the two NICs' and the GPU), then
   * companions. */
  static const char *const devs[] = { "af:00.2", "3b:00.0", "5e:00.0", "3b:00.1", "5e:00.1", NULL };
  const PpDomainNic nics[] = {
    pci_nic("af:00.2", "02:00:0a:00:00:05", 10, TRUE),
    bridge_nic("br0", "02:00:0a:00:01:05", -1, FALSE),
    pci_nic("5e:00.0", "02:00:0a:00:02:05", -1, FALSE),
  };
  static const char tmpl[] = "PCI = [ VENDOR = 8086 ]\n"
                             "NIC = [ BRIDGE = br0 ]\n"
                             "PCI = [ CLASS = 0200 ]\n"
                             "PCI = [ CLASS = 0300 ]\n"
                             "DISK = [ SOURCE = /var/lib/images/a.qcow2, FORMAT = qcow2 ]\n";
  g_autofree char *q35_tmpl = g_strconcat(MEM, tmpl, NULL);
  g_autofree char *pc_tmpl = g_strconcat(I440FX, tmpl, NULL);
  g_autofree char *q35 = build_nics(q35_tmpl, nics, G_N_ELEMENTS(nics), devs);
  g_autofree char *pc = build_nics(pc_tmpl, nics, G_N_ELEMENTS(nics), devs);

  /* clang-format off */
  /* q35: three NIC ports, then the GPU's and the companion's. */
  assert_contains(q35,
                  "    <controller type='pci' index='0' model='pcie-root'/>\n"
                  NIC_PORT_MF("1", "0x8", "0x01")
                  NIC_PORT("2", "0x9", "0x01", "0x1")
                  NIC_PORT("3", "0xa", "0x01", "0x2")
                  "    <controller type='pci' index='4' model='pcie-root-port'/>\n"
                  "    <controller type='pci' index='5' model='pcie-root-port'/>\n"
                  "    <disk ");
  /* The NICs in NIC id order, after the disks. */
  assert_contains(q35,
                  "    </disk>\n"
                  "    <interface type='hostdev' managed='yes'>\n"
                  "      <mac address='02:00:0a:00:00:05'/>\n"
                  "      <source>\n"
                  "        <address type='pci' domain='0x0000' bus='0xaf' slot='0x00' function='0x2'/>\n"
                  "      </source>\n"
                  "      <vlan>\n"
                  "        <tag id='10'/>\n"
                  "      </vlan>\n"
                  GUEST_Q35("0x01")
                  "    </interface>\n"
                  "    <interface type='bridge'>\n"
                  "      <mac address='02:00:0a:00:01:05'/>\n"
                  "      <source bridge='br0'/>\n"
                  "      <model type='virtio'/>\n"
                  GUEST_Q35("0x02")
                  "    </interface>\n"
                  "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
                  "      <source>\n"
                  "        <address domain='0x0000' bus='0x5e' slot='0x00' function='0x0'/>\n"
                  "      </source>\n"
                  GUEST_Q35("0x03")
                  "    </hostdev>\n"
                  "    <serial type='pty'/>\n");
  /* The others in the VM's order, from bus 4. */
  assert_contains(q35,
                  HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                          "domain='0x0000' bus='0x04' slot='0x00' function='0x0' multifunction='on'")
                  HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                          "domain='0x0000' bus='0x04' slot='0x00' function='0x1'")
                  HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x1'",
                          "domain='0x0000' bus='0x05' slot='0x00' function='0x0'")
                  "  </devices>\n");
  /* clang-format on */
  g_assert_cmpuint(pp_test_count(q35, "pcie-root-port"), ==, 5);
  g_assert_cmpuint(pp_test_count(q35, "<hostdev "), ==, 4);
  g_assert_cmpuint(pp_test_count(q35, "<interface "), ==, 2);
  for (guint i = 0; devs[i] != NULL; i++) {
    PpPciAddress a;
    g_autofree char *source = NULL;

    g_assert_true(pp_pci_address_parse(devs[i], &a, NULL));
    source = g_strdup_printf("bus='0x%02x' slot='0x%02x' function='0x%x'/>\n      </source>", a.bus,
                             a.slot, a.function);
    g_assert_cmpuint(pp_test_count(q35, source), ==, 1);
    g_assert_cmpuint(pp_test_count(pc, source), ==, 1);
  }

  /* i440fx: slots 0x10, 0x11, 0x12 for the NICs, the others after. */
  assert_lacks(pc, "pcie");
  /* clang-format off */
  assert_contains(pc,
                  "bus='0xaf' slot='0x00' function='0x2'/>\n"
                  "      </source>\n"
                  "      <vlan>\n"
                  "        <tag id='10'/>\n"
                  "      </vlan>\n"
                  GUEST_PC("0x10"));
  assert_contains(pc, "      <model type='virtio'/>\n" GUEST_PC("0x11"));
  assert_contains(pc,
                  "        <address domain='0x0000' bus='0x5e' slot='0x00' function='0x0'/>\n"
                  "      </source>\n"
                  GUEST_PC("0x12"));
  assert_contains(pc,
                  HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x0'",
                          "domain='0x0000' bus='0x00' slot='0x13' function='0x0' multifunction='on'")
                  HOSTDEV("yes", "domain='0x0000' bus='0x3b' slot='0x00' function='0x1'",
                          "domain='0x0000' bus='0x00' slot='0x13' function='0x1'")
                  HOSTDEV("yes", "domain='0x0000' bus='0x5e' slot='0x00' function='0x1'",
                          "domain='0x0000' bus='0x00' slot='0x14' function='0x0'"));
  /* clang-format on */
}

/* A NIC's guest address is its machine's and its id's only, the one the
 * XML writes, whatever the other NICs and devices; q35 groups eight ports
 * a slot; i440fx has 16 NIC slots, beyond which libvirt chooses (and the
 * devices too: no slot left). */
static void
test_nic_guest_address(void)
{
  static const char *const devs[] = { "3b:00.0", NULL };
  PpDomainNic nics[17];
  g_autofree char *q35 = NULL;
  g_autofree char *pc = NULL;
  PpPciAddress a;

  for (guint i = 0; i < G_N_ELEMENTS(nics); i++)
    nics[i] = bridge_nic("br0", NULL, -1, FALSE);

  g_assert_true(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_Q35, 0, &a));
  g_assert_cmpuint(a.domain, ==, 0);
  g_assert_cmpuint(a.bus, ==, 1);
  g_assert_cmpuint(a.slot, ==, 0);
  g_assert_cmpuint(a.function, ==, 0);
  g_assert_true(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_Q35, 127, &a));
  g_assert_cmpuint(a.bus, ==, 128);
  g_assert_cmpuint(a.slot, ==, 0);
  a.bus = 0x77;
  g_assert_false(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_Q35, 128, &a));
  g_assert_cmpuint(a.bus, ==, 0x77);
  g_assert_true(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_I440FX, 0, &a));
  g_assert_cmpuint(a.bus, ==, 0);
  g_assert_cmpuint(a.slot, ==, 0x10);
  g_assert_cmpuint(a.function, ==, 0);
  g_assert_true(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_I440FX, 15, &a));
  g_assert_cmpuint(a.slot, ==, 0x1f);
  g_assert_false(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_I440FX, 16, &a));
  g_assert_cmpuint(a.slot, ==, 0x1f);

  /* Ten NICs on q35: ports 0x01.0-7 and 0x02.0-1, each slot's function 0
   * multifunction; the GPU's port after them. */
  q35 = build_nics(MEM, nics, 10, devs);
  /* clang-format off */
  assert_contains(q35,
                  NIC_PORT_MF("1", "0x8", "0x01")
                  NIC_PORT("2", "0x9", "0x01", "0x1"));
  assert_contains(q35,
                  NIC_PORT("8", "0xf", "0x01", "0x7")
                  NIC_PORT_MF("9", "0x10", "0x02")
                  NIC_PORT("10", "0x11", "0x02", "0x1")
                  "    <controller type='pci' index='11' model='pcie-root-port'/>\n");
  /* clang-format on */
  for (guint i = 0; i < 10; i++) {
    g_autofree char *guest = NULL;

    g_assert_true(pp_domain_xml_nic_guest_address(PP_VM_MACHINE_Q35, i, &a));
    guest = g_strdup_printf("      <model type='virtio'/>\n      <address type='pci' "
                            "domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n",
                            a.bus, a.slot, a.function);
    g_assert_cmpuint(pp_test_count(q35, guest), ==, 1);
  }
  assert_contains(q35, "bus='0x0b' slot='0x00' function='0x0'/>\n    </hostdev>\n");
  g_assert_cmpuint(pp_test_count(q35, "multifunction"), ==, 2);

  /* 17 NICs on i440fx: the 17th and the GPU without an address. */
  pc = build_nics(I440FX, nics, 17, devs);
  g_assert_cmpuint(pp_test_count(pc, "<address type='pci'"), ==, 16);
  /* clang-format off */
  assert_contains(pc,
                  GUEST_PC("0x1f")
                  "    </interface>\n"
                  "    <interface type='bridge'>\n"
                  "      <source bridge='br0'/>\n"
                  "      <model type='virtio'/>\n"
                  "    </interface>\n");
  /* clang-format on */
  assert_contains(pc, "function='0x0'/>\n      </source>\n    </hostdev>\n");
}

/* Without NICs from the options, nothing moves: the spec's bridged NICs
 * and the devices from the first slots, as before NICs (the exact text of
 * the tests above). With NICs, the devices follow them. */
static void
test_nic_none_same(void)
{
  static const char *const devs[] = { "3b:00.0", NULL };
  static const char tmpl[] = MEM "NIC = [ BRIDGE = br0, MAC = 52:54:00:ab:cd:ef ]\n";
  PpDomainOptions options = default_options;
  g_autofree char *plain = build_valid(tmpl, &default_options, devs);
  g_autofree char *empty = NULL;

  /* nics set with n_nics 0: not set. */
  options.nics = (const PpDomainNic[]){ bridge_nic("other", NULL, -1, FALSE) };
  options.n_nics = 0;
  empty = build_valid(tmpl, &options, devs);
  g_assert_cmpstr(empty, ==, plain);
  assert_contains(plain, "    <controller type='pci' index='1' model='pcie-root-port'/>\n");
  assert_contains(plain, "    <interface type='bridge'>\n"
                         "      <mac address='52:54:00:ab:cd:ef'/>\n"
                         "      <source bridge='br0'/>\n"
                         "      <model type='virtio'/>\n"
                         "    </interface>\n");
  assert_contains(plain, "bus='0x01' slot='0x00' function='0x0'/>\n    </hostdev>\n");
  assert_lacks(plain, "<target chassis");
}

/* The NIC's text is escaped as the rest (pcipassd checks MACs, bridge
 * names and models; the builder does not count on it). */
static void
test_nic_escaping(void)
{
  g_autoptr(PpVmSpec) spec = spec_new(MEM);
  PpDomainNic nics[] = { bridge_nic("br'&<x>", "02:00:0a:00:00:05", -1, FALSE) };
  PpDomainOptions options = default_options;
  g_autofree char *xml = NULL;

  nics[0].model = "e1000e\"'";
  options.nics = nics;
  options.n_nics = 1;
  xml = pp_domain_xml_build(spec, &options, NULL);
  /* Not valid (the schema's names have no such characters), but well
   * formed: nothing breaks out of its attribute. */
  assert_contains(xml, "      <source bridge='br&apos;&amp;&lt;x&gt;'/>\n"
                       "      <model type='e1000e&quot;&apos;'/>\n");
}

/* Programming errors: a bridged NIC without its bridge, NICs counted but
 * not given, a VLAN out of 802.1Q's range: no XML. */
static void
test_nic_misuse(void)
{
  g_autoptr(PpVmSpec) spec = spec_new(MEM);
  PpDomainNic nic = bridge_nic(NULL, NULL, -1, FALSE);
  PpDomainOptions options = default_options;

  options.nics = &nic;
  options.n_nics = 1;
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*bridge != NULL*");
  g_assert_null(pp_domain_xml_build(spec, &options, NULL));
  g_test_assert_expected_messages();

  nic = bridge_nic("br0", NULL, 4096, FALSE);
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*vlan_id*");
  g_assert_null(pp_domain_xml_build(spec, &options, NULL));
  g_test_assert_expected_messages();

  options.nics = NULL;
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*nics != NULL*");
  g_assert_null(pp_domain_xml_build(spec, &options, NULL));
  g_test_assert_expected_messages();
}

/* ------------------------------------------------------------------------ */
/* The context disk (issue 13): a read-only CD-ROM from a pool's volume. */

#define CONTEXT_CDROM(pool, volume, dev, bus)                                                      \
  "    <disk type='volume' device='cdrom'>\n"                                                      \
  "      <driver name='qemu' type='raw'/>\n"                                                       \
  "      <source pool='" pool "' volume='" volume "'/>\n"                                          \
  "      <target dev='" dev "' bus='" bus "'/>\n"                                                  \
  "      <readonly/>\n"                                                                            \
  "    </disk>\n"
#define DEFAULT_CDROM(dev, bus) CONTEXT_CDROM("default", "pcipass-42-context.iso", dev, bus)
/* The CD-ROM between the VM's second disk and its NIC. */
#define AFTER_DISKS(dev, bus)                                                                      \
  "      <target dev='vdb' bus='virtio'/>\n"                                                       \
  "    </disk>\n" DEFAULT_CDROM(dev, bus) "    <interface type='bridge'>\n"

static PpDomainOptions
context_options(const char *pool, const char *volume)
{
  PpDomainOptions options = default_options;

  options.context_pool = pool;
  options.context_volume = volume;
  return options;
}

/* Builds @tmpl with the context disk in pool "default", validates it and
 * defines it on the test driver (which takes a volume's disk without
 * looking the volume up). */
static char *
build_context(const char *tmpl, const PpDomainNic *nics, guint n_nics)
{
  PpDomainOptions options = context_options("default", "pcipass-42-context.iso");
  g_autofree char *xml = NULL;

  options.nics = nics;
  options.n_nics = n_nics;
  xml = build_valid(tmpl, &options, NULL);
  assert_defines(xml);
  return g_steal_pointer(&xml);
}

/* q35: a SATA drive (sda) of the machine's AHCI controller; i440fx: the
 * IDE secondary master (hdc); after the VM's own disks, which keep their
 * virtio names, and before the NICs; no guest PCI address of its own (the
 * NICs' stay where they were). */
static void
test_context_cdrom(void)
{
  static const char disks[] = "DISK = [ SOURCE = /var/lib/images/a.qcow2, FORMAT = qcow2 ]\n"
                              "DISK = [ SOURCE = /var/lib/images/b.img ]\n";
  PpDomainNic nics[] = { bridge_nic("br0", "02:00:0a:00:00:05", -1, FALSE) };
  g_autofree char *q35_tmpl = g_strconcat(MEM, disks, NULL);
  g_autofree char *pc_tmpl = g_strconcat(I440FX, disks, NULL);
  g_autofree char *q35 = build_context(MEM, NULL, 0);
  g_autofree char *q35_disks = build_context(q35_tmpl, nics, 1);
  g_autofree char *pc = build_context(I440FX, NULL, 0);
  g_autofree char *pc_disks = build_context(pc_tmpl, nics, 1);
  g_autofree char *q35_plain = NULL;
  PpDomainOptions plain = default_options;

  plain.nics = nics;
  plain.n_nics = 1;
  q35_plain = build_valid(q35_tmpl, &plain, NULL);
  assert_contains(q35, DEFAULT_CDROM("sda", "sata"));
  assert_contains(pc, DEFAULT_CDROM("hdc", "ide"));
  assert_contains(q35_disks, AFTER_DISKS("sda", "sata"));
  assert_contains(pc_disks, AFTER_DISKS("hdc", "ide"));
  g_assert_cmpuint(pp_test_count(q35_disks, "device='cdrom'"), ==, 1);
  g_assert_cmpuint(pp_test_count(q35_disks, "<readonly/>"), ==, 1);
  /* Nothing else moved: the XML without it, plus it. */
  {
    g_autofree char *cdrom = g_strdup(DEFAULT_CDROM("sda", "sata"));
    const char *at = strstr(q35_disks, cdrom);
    g_autofree char *before = NULL;
    g_autofree char *without = NULL;

    g_assert_nonnull(at);
    before = g_strndup(q35_disks, at - q35_disks);
    without = g_strconcat(before, at + strlen(cdrom), NULL);
    g_assert_cmpstr(without, ==, q35_plain);
  }
}

/* A TARGET of the VM's disks is any name, so the CD-ROM takes the first
 * name no disk took: libvirt refuses one given twice. */
static void
test_context_cdrom_targets(void)
{
  g_autofree char *q35 = build_context(MEM "DISK = [ SOURCE = /a, TARGET = sda ]\n"
                                           "DISK = [ SOURCE = /b, TARGET = sdb ]\n",
                                       NULL, 0);
  g_autofree char *pc = build_context(I440FX "DISK = [ SOURCE = /a, TARGET = hdc ]\n", NULL, 0);
  g_autofree char *pc_full = build_context(I440FX "DISK = [ SOURCE = /a, TARGET = hda ]\n"
                                                  "DISK = [ SOURCE = /b, TARGET = hdb ]\n"
                                                  "DISK = [ SOURCE = /c, TARGET = hdc ]\n"
                                                  "DISK = [ SOURCE = /d, TARGET = hdd ]\n"
                                                  "DISK = [ SOURCE = /e, TARGET = sda ]\n",
                                           NULL, 0);
  g_autoptr(GString) many = g_string_new(MEM);
  g_autofree char *q35_many = NULL;

  assert_contains(q35, "      <target dev='sdc' bus='sata'/>\n      <readonly/>\n");
  assert_contains(pc, "      <target dev='hdd' bus='ide'/>\n      <readonly/>\n");
  /* IDE's four drives taken: a SATA drive (libvirt adds the controller). */
  assert_contains(pc_full, "      <target dev='sdb' bus='sata'/>\n      <readonly/>\n");

  /* sda..sdz taken: sdaa, as libvirt names the 27th. */
  for (char c = 'a'; c <= 'z'; c++)
    g_string_append_printf(many, "DISK = [ SOURCE = /d%c, TARGET = sd%c ]\n", c, c);
  q35_many = build_context(many->str, NULL, 0);
  assert_contains(q35_many, "      <target dev='sdaa' bus='sata'/>\n      <readonly/>\n");
}

/* The pool's and the volume's names are escaped as the rest; what pcipassd
 * shows of the XML (redacted) is not fooled by a volume named like a
 * password attribute. */
static void
test_context_cdrom_escaping(void)
{
  g_autoptr(PpVmSpec) spec = spec_new(MEM);
  PpDomainOptions options = context_options("p'&<o>\"l", "v passwd='x' &<\">");
  g_autofree char *xml = pp_domain_xml_build(spec, &options, NULL);
  g_autofree char *redacted = NULL;

  g_assert_nonnull(xml);
  assert_contains(xml, "      <source pool='p&apos;&amp;&lt;o&gt;&quot;l' "
                       "volume='v passwd=&apos;x&apos; &amp;&lt;&quot;&gt;'/>\n");
  redacted = pp_domain_xml_redact_secrets(xml);
  g_assert_cmpstr(redacted, ==, xml);
}

/* Unset, the XML is what it was without it; one of the two names alone is
 * a programming error: no XML. */
static void
test_context_cdrom_unset(void)
{
  g_autoptr(PpVmSpec) spec = spec_new(MEM "DISK = [ SOURCE = /a ]\n");
  PpDomainOptions options = context_options(NULL, NULL);
  g_autofree char *xml = pp_domain_xml_build(spec, &options, NULL);

  g_assert_nonnull(xml);
  assert_lacks(xml, "cdrom");
  assert_lacks(xml, "<readonly/>");
  assert_lacks(xml, "type='volume'");

  options = context_options("default", NULL);
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*context_pool*");
  g_assert_null(pp_domain_xml_build(spec, &options, NULL));
  g_test_assert_expected_messages();
  options = context_options(NULL, "v.iso");
  g_test_expect_message("pp-domain-xml", G_LOG_LEVEL_CRITICAL, "*context_pool*");
  g_assert_null(pp_domain_xml_build(spec, &options, NULL));
  g_test_assert_expected_messages();
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  validator = g_find_program_in_path("virt-xml-validate");
  if (validator == NULL)
    g_error("virt-xml-validate is not installed (Debian: libvirt-clients and libxml2-utils)");
  virsh = g_find_program_in_path("virsh");
  if (virsh == NULL)
    g_error("virsh is not installed (Debian: libvirt-clients)");
  tmp_dir = pp_test_mkdtemp();

  g_test_add_func("/domain-xml/validator-rejects", test_validator_rejects);
  g_test_add_func("/domain-xml/minimal", test_minimal);
  g_test_add_func("/domain-xml/options", test_options);
  g_test_add_func("/domain-xml/q35-gpu-pair", test_q35_gpu_pair);
  g_test_add_func("/domain-xml/i440fx-gpu-pair", test_i440fx_gpu_pair);
  g_test_add_func("/domain-xml/separate-devices", test_separate_devices);
  g_test_add_func("/domain-xml/pci-domains", test_pci_domains);
  g_test_add_func("/domain-xml/function-without-zero", test_function_without_zero);
  g_test_add_func("/domain-xml/i440fx-many-slots", test_i440fx_many_slots);
  g_test_add_func("/domain-xml/managed-no", test_managed_no);
  g_test_add_func("/domain-xml/disks-nics", test_disks_nics);
  g_test_add_func("/domain-xml/direct-kernel-boot", test_direct_kernel_boot);
  g_test_add_func("/domain-xml/metadata", test_metadata);
  g_test_add_func("/domain-xml/images", test_images);
  g_test_add_func("/domain-xml/escaping", test_escaping);
  g_test_add_func("/domain-xml/graphics", test_graphics);
  g_test_add_func("/domain-xml/redact-secrets", test_redact_secrets);
  g_test_add_func("/domain-xml/full", test_full);
  g_test_add_func("/domain-xml/nic-bridge", test_nic_bridge);
  g_test_add_func("/domain-xml/nic-vf", test_nic_vf);
  g_test_add_func("/domain-xml/nic-pci-plain", test_nic_pci_plain);
  g_test_add_func("/domain-xml/nic-mixed", test_nic_mixed);
  g_test_add_func("/domain-xml/nic-guest-address", test_nic_guest_address);
  g_test_add_func("/domain-xml/nic-none-same", test_nic_none_same);
  g_test_add_func("/domain-xml/nic-escaping", test_nic_escaping);
  g_test_add_func("/domain-xml/nic-misuse", test_nic_misuse);
  g_test_add_func("/domain-xml/context-cdrom", test_context_cdrom);
  g_test_add_func("/domain-xml/context-cdrom-targets", test_context_cdrom_targets);
  g_test_add_func("/domain-xml/context-cdrom-escaping", test_context_cdrom_escaping);
  g_test_add_func("/domain-xml/context-cdrom-unset", test_context_cdrom_unset);
  rc = g_test_run();

  pp_test_rmtree(tmp_dir);
  g_free(tmp_dir);
  g_free(validator);
  g_free(virsh);
  return rc;
}
