/* Domain XML: every variant the deployer can ask for is checked by libvirt's
 * own schema (virt-xml-validate, from Debian's libvirt-clients), and the
 * elements that carry the guest's PCI layout are checked as text. */
#include "config.h"

#include <string.h>

#include "pp-domain-xml.h"
#include "pp-test-util.h"

static char *validator;
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

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  validator = g_find_program_in_path("virt-xml-validate");
  if (validator == NULL)
    g_error("virt-xml-validate is not installed (Debian: libvirt-clients and libxml2-utils)");
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
  rc = g_test_run();

  pp_test_rmtree(tmp_dir);
  g_free(tmp_dir);
  g_free(validator);
  return rc;
}
