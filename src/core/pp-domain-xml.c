#define G_LOG_DOMAIN "pp-domain-xml"

#include "config.h"

#include <string.h>

#include "pp-domain-xml.h"

/* i440fx: the guest slots of bus 0 given to passed-through devices, from
 * 0x10 up (libvirt puts its own devices in the low slots). */
#define I440FX_FIRST_SLOT 0x10
#define I440FX_LAST_SLOT 0x1f
/* q35: pcie-root-ports we declare at most (their buses are 1..N). */
#define Q35_MAX_PORTS 200

/* Where a passed-through device goes in the guest. */
typedef struct {
  gboolean has_address; /* FALSE: libvirt chooses (no guest slot left) */
  guint bus;
  guint slot;
  guint function;
  gboolean multifunction;
} GuestAddress;

static gboolean
same_slot(const PpPciAddress *a, const PpPciAddress *b)
{
  return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

/* Gives each device of @hostdevs a guest address; returns the number of
 * guest slots used. Devices of one host slot that has function 0 share a
 * guest slot and keep their functions (function 0 multifunction when it has
 * company); a device whose host slot does not include function 0 (a VF at
 * .1, an audio function alone) gets a guest slot of its own at function 0,
 * since a guest finds no function of a slot without function 0. */
static guint
assign_guest_addresses(const GArray *hostdevs, PpVmMachine machine, GuestAddress *ret)
{
  g_autofree guint *guest_slot = g_new0(guint, hostdevs->len);
  g_autofree guint *slot_size = g_new0(guint, hostdevs->len);
  guint n_slots = 0;

  for (guint i = 0; i < hostdevs->len; i++) {
    const PpPciAddress *a = &g_array_index(hostdevs, PpPciAddress, i);
    gboolean with_f0 = FALSE;
    gboolean placed = FALSE;

    for (guint j = 0; j < hostdevs->len && !with_f0; j++) {
      const PpPciAddress *b = &g_array_index(hostdevs, PpPciAddress, j);

      with_f0 = same_slot(a, b) && b->function == 0;
    }
    ret[i].function = with_f0 ? a->function : 0;
    if (with_f0) {
      for (guint j = 0; j < i && !placed; j++) {
        const PpPciAddress *b = &g_array_index(hostdevs, PpPciAddress, j);

        if (same_slot(a, b)) {
          guest_slot[i] = guest_slot[j];
          placed = TRUE;
        }
      }
    }
    if (!placed)
      guest_slot[i] = n_slots++;
    slot_size[guest_slot[i]]++;
  }

  for (guint i = 0; i < hostdevs->len; i++) {
    guint k = guest_slot[i];

    ret[i].multifunction = ret[i].function == 0 && slot_size[k] > 1;
    if (machine == PP_VM_MACHINE_Q35) {
      ret[i].has_address = k < Q35_MAX_PORTS;
      ret[i].bus = k + 1;
      ret[i].slot = 0;
    } else {
      ret[i].has_address = k <= I440FX_LAST_SLOT - I440FX_FIRST_SLOT;
      ret[i].bus = 0;
      ret[i].slot = I440FX_FIRST_SLOT + k;
    }
  }
  return n_slots;
}

static void append_escaped(GString *out, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Appends @format with every %s argument escaped for XML. */
static void
append_escaped(GString *out, const char *format, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start(args, format);
  text = g_markup_vprintf_escaped(format, args);
  va_end(args);
  g_string_append(out, text);
}

static void
append_os(GString *out, const PpVmSpec *spec, const char *arch)
{
  g_string_append(out, "  <os>\n");
  append_escaped(out, "    <type arch='%s' machine='%s'>hvm</type>\n",
                 arch != NULL ? arch : "x86_64",
                 spec->machine == PP_VM_MACHINE_I440FX ? "pc" : "q35");
  if (spec->kernel != NULL) {
    append_escaped(out, "    <kernel>%s</kernel>\n", spec->kernel);
    if (spec->initrd != NULL)
      append_escaped(out, "    <initrd>%s</initrd>\n", spec->initrd);
    if (spec->kernel_cmd != NULL)
      append_escaped(out, "    <cmdline>%s</cmdline>\n", spec->kernel_cmd);
  } else {
    g_string_append(out, "    <boot dev='hd'/>\n");
  }
  g_string_append(out, "  </os>\n");
}

static void
append_disks(GString *out, const PpVmSpec *spec)
{
  for (guint i = 0; i < spec->disks->len; i++) {
    const PpVmDisk *disk = g_ptr_array_index(spec->disks, i);

    g_string_append(out, "    <disk type='file' device='disk'>\n");
    append_escaped(out, "      <driver name='qemu' type='%s'/>\n", disk->format);
    append_escaped(out, "      <source file='%s'/>\n", disk->source);
    append_escaped(out, "      <target dev='%s' bus='virtio'/>\n", disk->target);
    g_string_append(out, "    </disk>\n");
  }
}

static void
append_nics(GString *out, const PpVmSpec *spec)
{
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);

    g_string_append(out, "    <interface type='bridge'>\n");
    if (nic->mac != NULL)
      append_escaped(out, "      <mac address='%s'/>\n", nic->mac);
    append_escaped(out, "      <source bridge='%s'/>\n", nic->bridge);
    append_escaped(out, "      <model type='%s'/>\n", nic->model);
    g_string_append(out, "    </interface>\n");
  }
}

/* <graphics type='vnc' port='5900' autoport='no' listen='A' passwd='P'>
 * <listen type='address' address='A'/></graphics>; port='-1'
 * autoport='yes' when libvirt chooses. */
static void
append_graphics(GString *out, const PpVmGraphics *graphics)
{
  if (graphics->type == PP_VM_GRAPHICS_NONE)
    return;
  g_string_append_printf(out, "    <graphics type='%s'",
                         graphics->type == PP_VM_GRAPHICS_VNC ? "vnc" : "spice");
  if (graphics->port < 0)
    g_string_append(out, " port='-1' autoport='yes'");
  else
    g_string_append_printf(out, " port='%d' autoport='no'", graphics->port);
  if (graphics->listen != NULL)
    append_escaped(out, " listen='%s'", graphics->listen);
  if (graphics->passwd != NULL)
    append_escaped(out, " passwd='%s'", graphics->passwd);
  if (graphics->keymap != NULL)
    append_escaped(out, " keymap='%s'", graphics->keymap);
  if (graphics->listen == NULL) {
    g_string_append(out, "/>\n");
    return;
  }
  append_escaped(out, ">\n      <listen type='address' address='%s'/>\n", graphics->listen);
  g_string_append(out, "    </graphics>\n");
}

char *
pp_domain_xml_redact_secrets(const char *xml)
{
  static const char attribute[] = " passwd='";
  g_autoptr(GString) out = NULL;
  const char *at = xml;
  const char *found;

  g_return_val_if_fail(xml != NULL, NULL);

  out = g_string_new(NULL);
  /* Values are escaped (append_escaped()): a quote ends the value. */
  while ((found = strstr(at, attribute)) != NULL) {
    const char *value = found + strlen(attribute);
    const char *end = strchr(value, '\'');

    if (end == NULL)
      break;
    g_string_append_len(out, at, value - at);
    g_string_append(out, PP_VM_TEMPLATE_HIDDEN);
    at = end;
  }
  g_string_append(out, at);
  return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
append_hostdev(GString *out, const PpPciAddress *host, const GuestAddress *guest, gboolean managed)
{
  g_string_append_printf(out, "    <hostdev mode='subsystem' type='pci' managed='%s'>\n",
                         managed ? "yes" : "no");
  g_string_append(out, "      <source>\n");
  g_string_append_printf(out,
                         "        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                         "function='0x%x'/>\n",
                         host->domain, host->bus, host->slot, host->function);
  g_string_append(out, "      </source>\n");
  if (guest->has_address)
    g_string_append_printf(out,
                           "      <address type='pci' domain='0x0000' bus='0x%02x' "
                           "slot='0x%02x' function='0x%x'%s/>\n",
                           guest->bus, guest->slot, guest->function,
                           guest->multifunction ? " multifunction='on'" : "");
  g_string_append(out, "    </hostdev>\n");
}

char *
pp_domain_xml_build(const PpVmSpec *spec, const PpDomainOptions *options, const GArray *hostdevs)
{
  g_autoptr(GString) out = NULL;
  g_autofree GuestAddress *guest = NULL;
  guint n_slots = 0;

  g_return_val_if_fail(spec != NULL && options != NULL, NULL);
  g_return_val_if_fail(options->name != NULL && options->domain_type != NULL, NULL);
  g_return_val_if_fail(hostdevs == NULL ||
                           g_array_get_element_size((GArray *)hostdevs) == sizeof(PpPciAddress),
                       NULL);
  /* An image not resolved would boot from nothing, or make a disk without
   * a file: never XML. */
  g_return_val_if_fail(spec->kernel_image == NULL || spec->kernel != NULL, NULL);
  g_return_val_if_fail(spec->initrd_image == NULL || spec->initrd != NULL, NULL);
  for (guint i = 0; i < spec->disks->len; i++) {
    const PpVmDisk *disk = g_ptr_array_index(spec->disks, i);

    g_return_val_if_fail(disk->source != NULL && disk->format != NULL, NULL);
  }

  guest = g_new0(GuestAddress, hostdevs != NULL ? hostdevs->len : 0);
  if (hostdevs != NULL)
    n_slots = assign_guest_addresses(hostdevs, spec->machine, guest);

  out = g_string_new(NULL);
  append_escaped(out, "<domain type='%s'>\n", options->domain_type);
  append_escaped(out, "  <name>%s</name>\n", options->name);
  if (options->uuid != NULL)
    append_escaped(out, "  <uuid>%s</uuid>\n", options->uuid);
  if (options->store_id != NULL) {
    g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, options->vm_id);

    append_escaped(out,
                   "  <metadata>\n    <" PP_DOMAIN_XML_METADATA_PREFIX
                   ":vm xmlns:" PP_DOMAIN_XML_METADATA_PREFIX "='" PP_DOMAIN_XML_METADATA_URI
                   "' store='%s'",
                   options->store_id);
    append_escaped(out, " id='%s'/>\n  </metadata>\n", id);
  }
  g_string_append_printf(out, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n",
                         spec->memory_mib * 1024);
  g_string_append_printf(out, "  <vcpu>%u</vcpu>\n", spec->vcpu);
  append_os(out, spec, options->arch);
  g_string_append(out, "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n");

  g_string_append(out, "  <devices>\n");
  if (options->emulator != NULL)
    append_escaped(out, "    <emulator>%s</emulator>\n", options->emulator);
  if (spec->machine == PP_VM_MACHINE_Q35) {
    g_string_append(out, "    <controller type='pci' index='0' model='pcie-root'/>\n");
    for (guint k = 0; k < MIN(n_slots, Q35_MAX_PORTS); k++)
      g_string_append_printf(
          out, "    <controller type='pci' index='%u' model='pcie-root-port'/>\n", k + 1);
  } else {
    g_string_append(out, "    <controller type='pci' index='0' model='pci-root'/>\n");
  }
  append_disks(out, spec);
  append_nics(out, spec);
  g_string_append(out, "    <serial type='pty'/>\n    <console type='pty'/>\n");
  append_graphics(out, &spec->graphics);
  for (guint i = 0; hostdevs != NULL && i < hostdevs->len; i++)
    append_hostdev(out, &g_array_index(hostdevs, PpPciAddress, i), &guest[i], options->managed);
  g_string_append(out, "  </devices>\n</domain>\n");
  return g_string_free(g_steal_pointer(&out), FALSE);
}
