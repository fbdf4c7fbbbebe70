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
/* q35: the pcie-root-ports of NICs sit on pcie-root from slot 0x01, the
 * first, eight a slot as libvirt groups its own: NIC i's port at 0x01 +
 * i / 8, function i % 8. The guest numbers buses in the order it finds
 * the bridges on bus 0, by slot: the NICs' ports first, so that NIC i's
 * bus in the guest is i + 1, its port's index, whatever ports libvirt adds
 * for its own devices (they take the slots after, as the primary video,
 * which libvirt puts at 0x01 only when it is free). Found by the full
 * lab: with the ports from 0x02, libvirt's USB and balloon ports at 0x01
 * came first and the guest saw NIC 0 on bus 3, not 1. 128 NICs (slots
 * 0x01..0x10) are twice what a template can have (64 NIC and 64 PCI
 * vectors) and leave room for the other ports (0x1f: the ICH9 functions). */
#define Q35_NIC_FIRST_SLOT 0x01
#define Q35_NICS_MAX 128
/* i440fx: NICs take the first slots from I440FX_FIRST_SLOT, one each. */
#define I440FX_NICS_MAX (I440FX_LAST_SLOT - I440FX_FIRST_SLOT + 1)

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

/* Gives each device of @hostdevs a guest address, after the @first guest
 * slots (the NICs'); returns the number of guest slots used. Devices of one
 * host slot that has function 0 share a guest slot and keep their functions
 * (function 0 multifunction when it has company); a device whose host slot
 * does not include function 0 (a VF at .1, an audio function alone) gets a
 * guest slot of its own at function 0, since a guest finds no function of a
 * slot without function 0. */
static guint
assign_guest_addresses(const GArray *hostdevs, PpVmMachine machine, guint first, GuestAddress *ret)
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
    k += first;
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

gboolean
pp_domain_xml_nic_guest_address(PpVmMachine machine, guint nic_id, PpPciAddress *ret_address)
{
  PpPciAddress a = { 0 };

  g_return_val_if_fail(ret_address != NULL, FALSE);

  if (machine == PP_VM_MACHINE_Q35) {
    if (nic_id >= Q35_NICS_MAX)
      return FALSE;
    a.bus = nic_id + 1;
  } else {
    if (nic_id >= I440FX_NICS_MAX)
      return FALSE;
    a.slot = I440FX_FIRST_SLOT + nic_id;
  }
  *ret_address = a;
  return TRUE;
}

static guint
nics_with_address(PpVmMachine machine, guint n_nics)
{
  return MIN(n_nics, machine == PP_VM_MACHINE_Q35 ? Q35_NICS_MAX : I440FX_NICS_MAX);
}

/* NIC @nic_id's guest address, as a hostdev's. */
static GuestAddress
nic_guest_address(PpVmMachine machine, guint nic_id)
{
  GuestAddress guest = { 0 };
  PpPciAddress a;

  if (pp_domain_xml_nic_guest_address(machine, nic_id, &a)) {
    guest.has_address = TRUE;
    guest.bus = a.bus;
    guest.slot = a.slot;
    guest.function = a.function;
  }
  return guest;
}

/* The pcie-root-port of NIC @nic_id (of @n_nics with an address), all of
 * it explicit, so that libvirt's ports (hostdevs', and those it adds for
 * disks and its own devices) go around it: its index is its bus, its
 * chassis its index (QEMU wants chassis unique) and its port (slot << 3) +
 * function, as libvirt numbers its own. Function 0 of a slot shared with
 * the next NIC's port is multifunction. */
static void
append_nic_port(GString *out, guint nic_id, guint n_nics)
{
  guint slot = Q35_NIC_FIRST_SLOT + nic_id / 8;
  guint function = nic_id % 8;

  g_string_append_printf(out,
                         "    <controller type='pci' index='%u' model='pcie-root-port'>\n"
                         "      <target chassis='%u' port='0x%x'/>\n"
                         "      <address type='pci' domain='0x0000' bus='0x00' slot='0x%02x' "
                         "function='0x%x'%s/>\n"
                         "    </controller>\n",
                         nic_id + 1, nic_id + 1, (slot << 3) + function, slot, function,
                         function == 0 && nic_id + 1 < n_nics ? " multifunction='on'" : "");
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

static gboolean
disk_target_used(const PpVmSpec *spec, const char *name)
{
  for (guint i = 0; i < spec->disks->len; i++) {
    const PpVmDisk *disk = g_ptr_array_index(spec->disks, i);

    if (g_strcmp0(disk->target, name) == 0)
      return TRUE;
  }
  return FALSE;
}

/* The context CD-ROM's target: on i440fx an IDE drive, hdc first (the
 * secondary master, where CD-ROMs have always been), on q35 a SATA drive
 * of the ICH9 AHCI controller, sda first; in both the first name that no
 * disk of the spec took (a TARGET is any name: libvirt refuses a name
 * given twice). IDE has four drives; past them, and on q35, sda, sdb, ...,
 * sdz, sdaa, ... as libvirt names them: 65 names cover the 64 disks a
 * template may have. Returns: (transfer full). */
static char *
context_target(const PpVmSpec *spec, const char **ret_bus)
{
  static const char *const ide[] = { "hdc", "hdd", "hdb", "hda" };

  if (spec->machine == PP_VM_MACHINE_I440FX)
    for (guint i = 0; i < G_N_ELEMENTS(ide); i++)
      if (!disk_target_used(spec, ide[i])) {
        *ret_bus = "ide";
        return g_strdup(ide[i]);
      }
  *ret_bus = "sata";
  for (guint i = 0;; i++) {
    g_autoptr(GString) name = g_string_new(NULL);

    /* libvirt's virDiskNameToIndex(), inverted: a..z, aa..zz, ... */
    for (guint k = i + 1; k > 0; k = (k - 1) / 26)
      g_string_prepend_c(name, (char)('a' + (k - 1) % 26));
    g_string_prepend(name, "sd");
    if (!disk_target_used(spec, name->str))
      return g_string_free(g_steal_pointer(&name), FALSE);
  }
}

/* The context disk (issue 13): a read-only CD-ROM from a volume of the
 * host's pool, which libvirt resolves to its path when the domain starts.
 * No guest address: a drive of the machine's own IDE or AHCI controller,
 * which libvirt addresses (controller, bus, unit) from the target's name. */
static void
append_context_cdrom(GString *out, const PpVmSpec *spec, const PpDomainOptions *options)
{
  const char *bus = NULL;
  g_autofree char *target = NULL;

  if (options->context_pool == NULL)
    return;
  target = context_target(spec, &bus);
  g_string_append(out, "    <disk type='volume' device='cdrom'>\n"
                       "      <driver name='qemu' type='raw'/>\n");
  append_escaped(out, "      <source pool='%s' volume='%s'/>\n", options->context_pool,
                 options->context_volume);
  append_escaped(out, "      <target dev='%s' bus='%s'/>\n", target, bus);
  g_string_append(out, "      <readonly/>\n    </disk>\n");
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

static void
append_guest_address(GString *out, const GuestAddress *guest)
{
  if (guest->has_address)
    g_string_append_printf(out,
                           "      <address type='pci' domain='0x0000' bus='0x%02x' "
                           "slot='0x%02x' function='0x%x'%s/>\n",
                           guest->bus, guest->slot, guest->function,
                           guest->multifunction ? " multifunction='on'" : "");
}

static void
append_host_address(GString *out, const char *indent, const char *type, const PpPciAddress *host)
{
  g_string_append_printf(out,
                         "%s<address%s domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                         "function='0x%x'/>\n",
                         indent, type, host->domain, host->bus, host->slot, host->function);
}

static void
append_vlan(GString *out, gint vlan_id)
{
  if (vlan_id >= 0)
    g_string_append_printf(out, "      <vlan>\n        <tag id='%d'/>\n      </vlan>\n", vlan_id);
}

static void
append_hostdev(GString *out, const PpPciAddress *host, const GuestAddress *guest, gboolean managed)
{
  g_string_append_printf(out, "    <hostdev mode='subsystem' type='pci' managed='%s'>\n",
                         managed ? "yes" : "no");
  g_string_append(out, "      <source>\n");
  append_host_address(out, "        ", "", host);
  g_string_append(out, "      </source>\n");
  append_guest_address(out, guest);
  g_string_append(out, "    </hostdev>\n");
}

/* The NICs of @options, in NIC id order, each at its own guest address. */
static void
append_option_nics(GString *out, const PpDomainOptions *options, PpVmMachine machine)
{
  for (guint i = 0; i < options->n_nics; i++) {
    const PpDomainNic *nic = &options->nics[i];
    GuestAddress guest = nic_guest_address(machine, i);

    if (nic->kind == PP_VM_NIC_PCI && !nic->is_vf) {
      /* Its MAC is the guest's to set, from the context. */
      append_hostdev(out, &nic->host, &guest, options->managed);
      continue;
    }
    if (nic->kind == PP_VM_NIC_PCI)
      g_string_append_printf(out, "    <interface type='hostdev' managed='%s'>\n",
                             options->managed ? "yes" : "no");
    else
      g_string_append(out, "    <interface type='bridge'>\n");
    if (nic->mac != NULL)
      append_escaped(out, "      <mac address='%s'/>\n", nic->mac);
    if (nic->kind == PP_VM_NIC_PCI) {
      g_string_append(out, "      <source>\n");
      append_host_address(out, "        ", " type='pci'", &nic->host);
      g_string_append(out, "      </source>\n");
      append_vlan(out, nic->vlan_id);
    } else {
      append_escaped(out, "      <source bridge='%s'/>\n", nic->bridge);
      append_vlan(out, nic->vlan_id);
      if (nic->openvswitch)
        g_string_append(out, "      <virtualport type='openvswitch'/>\n");
      append_escaped(out, "      <model type='%s'/>\n", nic->model != NULL ? nic->model : "virtio");
    }
    append_guest_address(out, &guest);
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

char *
pp_domain_xml_build(const PpVmSpec *spec, const PpDomainOptions *options, const GArray *hostdevs)
{
  g_autoptr(GString) out = NULL;
  g_autoptr(GArray) others = NULL;
  g_autofree GuestAddress *guest = NULL;
  guint n_slots = 0;
  guint n_nic_slots = 0;

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

  g_return_val_if_fail(options->n_nics == 0 || options->nics != NULL, NULL);
  g_return_val_if_fail((options->context_pool == NULL) == (options->context_volume == NULL), NULL);
  for (guint i = 0; i < options->n_nics; i++) {
    const PpDomainNic *nic = &options->nics[i];

    g_return_val_if_fail(nic->kind == PP_VM_NIC_PCI || nic->bridge != NULL, NULL);
    g_return_val_if_fail(nic->vlan_id >= -1 && nic->vlan_id <= 4095, NULL);
  }

  /* A PCI NIC's device is written once, as its NIC: not among the others
   * (its companions stay there). */
  others = g_array_new(FALSE, TRUE, sizeof(PpPciAddress));
  for (guint i = 0; hostdevs != NULL && i < hostdevs->len; i++) {
    const PpPciAddress *a = &g_array_index(hostdevs, PpPciAddress, i);
    gboolean is_nic = FALSE;

    for (guint j = 0; j < options->n_nics && !is_nic; j++)
      is_nic =
          options->nics[j].kind == PP_VM_NIC_PCI && pp_pci_address_equal(a, &options->nics[j].host);
    if (!is_nic)
      g_array_append_val(others, *a);
  }
  /* NICs take the first guest slots, in NIC id order; the others follow. */
  n_nic_slots = nics_with_address(spec->machine, options->n_nics);
  guest = g_new0(GuestAddress, others->len);
  n_slots = assign_guest_addresses(others, spec->machine, n_nic_slots, guest);

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
    for (guint k = 0; k < n_nic_slots; k++)
      append_nic_port(out, k, n_nic_slots);
    for (guint k = n_nic_slots; k < MIN(n_nic_slots + n_slots, Q35_MAX_PORTS); k++)
      g_string_append_printf(
          out, "    <controller type='pci' index='%u' model='pcie-root-port'/>\n", k + 1);
  } else {
    g_string_append(out, "    <controller type='pci' index='0' model='pci-root'/>\n");
  }
  append_disks(out, spec);
  append_context_cdrom(out, spec, options);
  if (options->n_nics > 0)
    append_option_nics(out, options, spec->machine);
  else
    append_nics(out, spec);
  g_string_append(out, "    <serial type='pty'/>\n    <console type='pty'/>\n");
  append_graphics(out, &spec->graphics);
  for (guint i = 0; i < others->len; i++)
    append_hostdev(out, &g_array_index(others, PpPciAddress, i), &guest[i], options->managed);
  g_string_append(out, "  </devices>\n</domain>\n");
  return g_string_free(g_steal_pointer(&out), FALSE);
}
