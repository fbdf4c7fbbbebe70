#define G_LOG_DOMAIN "pp-pci-scan"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>

#include "pp-network.h"
#include "pp-pci-scan.h"
#include "pp-vfio-plan.h"

#define DEVICES "bus/pci/devices"

/* Offsets in PCI configuration space (PCI Local Bus Specification 3.0, 6.1). */
enum {
  CFG_VENDOR = 0x00,
  CFG_DEVICE = 0x02,
  CFG_CLASS_PROG = 0x09, /* prog-if, subclass, class: 3 bytes */
  CFG_HEADER_TYPE = 0x0e,
  CFG_SUBSYS_VENDOR = 0x2c, /* type 0 headers only */
  CFG_SUBSYS_DEVICE = 0x2e,
  CFG_HEADER_SIZE = 0x40,
};

static guint16
le16(const guint8 *p)
{
  return (guint16)(p[0] | (p[1] << 8));
}

/* One device's folder: a reader rooted there, and the names it holds
 * (sorted), so that files a kernel or a capture lacks are not even tried. */
typedef struct {
  const char *name;
  PpSysfs *top; /* the whole tree, for what the device's links lead to */
  PpSysfs *dir;
  GPtrArray *entries;
  GPtrArray *warnings; /* nullable: pp_pci_scan()'s */
} DeviceDir;

static gboolean
has(const DeviceDir *d, const char *entry)
{
  guint lo = 0, hi = d->entries->len;

  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    int cmp = strcmp(g_ptr_array_index(d->entries, mid), entry);

    if (cmp == 0)
      return TRUE;
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return FALSE;
}

static void warn(const DeviceDir *d, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* A value of the tree that is not used, in a sentence that ends with
 * ", ignoring": the caller's warnings, or a debug line. */
static void
warn(const DeviceDir *d, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  if (d->warnings != NULL)
    g_ptr_array_add(d->warnings, g_strdup_printf("%s: %s, ignoring", d->name, what));
  else
    g_debug("%s: %s, ignoring", d->name, what);
}

/* A count of VFs from @file, within 0..PP_PCI_SRIOV_VFS_MAX; -1 when
 * missing, unreadable or out of bounds (said in a warning). */
static gint64
read_vfs(const DeviceDir *d, const char *file)
{
  gint64 value;

  if (!has(d, file) || !pp_sysfs_read_int(d->dir, file, &value, NULL))
    return -1;
  if (value < 0 || value > PP_PCI_SRIOV_VFS_MAX) {
    warn(d, "%s '%" G_GINT64_FORMAT "' is not a number of VFs from 0 to %d", file, value,
         PP_PCI_SRIOV_VFS_MAX);
    return -1;
  }
  return value;
}

/* The ids from the attribute files, or else from config's first bytes
 * (hwloc's trees keep it; ghw's pruned ones have the files). */
static gboolean
read_ids(const DeviceDir *d, PpPciDevice *dev, GError **error)
{
  g_autoptr(GError) file_error = NULL;
  guint32 vendor, device, class_code, sv, sd;
  guint8 config[CFG_HEADER_SIZE];
  gssize n;

  if (pp_sysfs_read_hex(d->dir, "vendor", 0xffff, &vendor, &file_error) &&
      pp_sysfs_read_hex(d->dir, "device", 0xffff, &device, &file_error) &&
      pp_sysfs_read_hex(d->dir, "class", 0xffffff, &class_code, &file_error)) {
    dev->vendor = vendor;
    dev->device = device;
    dev->class_code = class_code;
    /* Bridges: their header type tells a PCI-to-PCI bridge (type 1), which
     * may stay with the host when its group is passed through, from a host
     * or ISA bridge (type 0), which may not. Only these pay for config. */
    if ((class_code >> 16) == 0x06 && has(d, "config") &&
        pp_sysfs_read_raw(d->dir, "config", config, CFG_HEADER_TYPE + 1) > CFG_HEADER_TYPE)
      dev->header_type = config[CFG_HEADER_TYPE] & 0x7f;
    if (has(d, "subsystem_vendor") && has(d, "subsystem_device") &&
        pp_sysfs_read_hex(d->dir, "subsystem_vendor", 0xffff, &sv, NULL) &&
        pp_sysfs_read_hex(d->dir, "subsystem_device", 0xffff, &sd, NULL)) {
      dev->has_subsystem = TRUE;
      dev->subsystem_vendor = sv;
      dev->subsystem_device = sd;
    }
    return TRUE;
  }

  n = pp_sysfs_read_raw(d->dir, "config", config, sizeof(config));
  if (n < CFG_CLASS_PROG + 3) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s: cannot read its ids: %s; and its config: %s", d->name, file_error->message,
                n < 0 ? g_strerror((int)-n) : "too short");
    return FALSE;
  }
  dev->vendor = le16(config + CFG_VENDOR);
  dev->device = le16(config + CFG_DEVICE);
  dev->class_code = config[CFG_CLASS_PROG] | (config[CFG_CLASS_PROG + 1] << 8) |
                    (config[CFG_CLASS_PROG + 2] << 16);
  if (n > CFG_HEADER_TYPE)
    dev->header_type = config[CFG_HEADER_TYPE] & 0x7f;
  if (n >= CFG_SUBSYS_DEVICE + 2 && (config[CFG_HEADER_TYPE] & 0x7f) == 0) {
    dev->has_subsystem = TRUE;
    dev->subsystem_vendor = le16(config + CFG_SUBSYS_VENDOR);
    dev->subsystem_device = le16(config + CFG_SUBSYS_DEVICE);
  }
  return TRUE;
}

/* A link's last component, made valid UTF-8 (sysfs names are ASCII; a
 * damaged tree should not break the output). NULL when there is no link. */
static char *
read_link_name(const DeviceDir *d, const char *link)
{
  g_autofree char *base = NULL;

  if (!has(d, link))
    return NULL;
  base = pp_sysfs_readlink_basename(d->dir, link, NULL);
  return base != NULL ? g_utf8_make_valid(base, -1) : NULL;
}

/* A VF's index: N of the PF's virtfnN link whose target is the VF's own
 * folder (the kernel numbers a PF's VFs from 0, pci_iov_add_virtfn()).
 * -1 when no link of the PF leads to it. */
static gint
read_vf_index(const DeviceDir *d, const char *pf_name)
{
  g_autofree char *pf_path = g_strdup_printf(DEVICES "/%s", pf_name);
  g_autoptr(GPtrArray) entries = pp_sysfs_list(d->top, pf_path, NULL);

  for (guint i = 0; entries != NULL && i < entries->len; i++) {
    const char *entry = g_ptr_array_index(entries, i);
    g_autofree char *link = NULL;
    g_autofree char *target = NULL;
    guint64 n;

    if (!g_str_has_prefix(entry, "virtfn") ||
        !g_ascii_string_to_unsigned(entry + 6, 10, 0, PP_PCI_SRIOV_VFS_MAX - 1, &n, NULL))
      continue;
    link = g_strdup_printf("%s/%s", pf_path, entry);
    target = pp_sysfs_readlink_basename(d->top, link, NULL);
    if (target != NULL && strcmp(target, d->name) == 0)
      return (gint)n;
  }
  return -1;
}

static void
read_sriov(const DeviceDir *d, PpPciDevice *dev)
{
  g_autofree char *physfn = read_link_name(d, "physfn");
  gint64 total, num;
  guint virtfns = 0;

  if (physfn != NULL) {
    dev->sriov = PP_SRIOV_VF;
    dev->has_physfn = pp_pci_address_parse(physfn, &dev->physfn, NULL);
    if (dev->has_physfn)
      dev->vf_index = read_vf_index(d, physfn);
    return;
  }
  /* virtfnN links, one per VF enabled; a tree with more is not a PF's. */
  for (guint i = 0; i < d->entries->len; i++)
    if (g_str_has_prefix(g_ptr_array_index(d->entries, i), "virtfn"))
      virtfns++;
  if (virtfns > PP_PCI_SRIOV_VFS_MAX) {
    warn(d, "%u virtfn links are more than a PF has (%d)", virtfns, PP_PCI_SRIOV_VFS_MAX);
    virtfns = 0;
  }
  total = MAX(read_vfs(d, "sriov_totalvfs"), 0);
  if (total == 0 && virtfns == 0)
    return;
  dev->sriov = PP_SRIOV_PF;
  dev->sriov_totalvfs = MAX((guint)total, virtfns);
  num = read_vfs(d, "sriov_numvfs");
  dev->sriov_numvfs = num >= 0 ? (guint)num : virtfns;
}

/* The permanent MAC of interface @ifname: its address when the kernel
 * says that address is the permanent one (addr_assign_type 0,
 * NET_ADDR_PERM in include/uapi/linux/netdevice.h); a driver or a user that
 * changed it (NET_ADDR_SET, 3), or a random one (NET_ADDR_RANDOM, 1), makes
 * it unknown: ETHTOOL_GPERMADDR would still tell it on a live host, but
 * the probe reads a tree, which may be a capture, and does no ioctl. Only
 * a unicast Ethernet MAC that is not all zeros (a VF that was never given
 * one) counts. NULL when there is none. */
static char *
read_perm_mac(const DeviceDir *d, const char *ifname)
{
  g_autofree char *type_path = g_strdup_printf("net/%s/addr_assign_type", ifname);
  g_autofree char *address_path = g_strdup_printf("net/%s/address", ifname);
  g_autofree char *address = NULL;
  char buf[PP_MAC_BUFSIZE];
  gint64 type;
  PpMac mac;

  if (!pp_sysfs_read_int(d->dir, type_path, &type, NULL) || type != 0)
    return NULL;
  address = pp_sysfs_read_string(d->dir, address_path, NULL);
  if (address == NULL || !pp_mac_parse(address, &mac, NULL) || !pp_mac_is_unicast(&mac) ||
      pp_mac_to_u64(&mac) == 0)
    return NULL;
  return g_strdup(pp_mac_format(&mac, buf));
}

/* pp_pci_scan_device(), saying in @warnings (nullable) what it ignored. */
static PpPciDevice *
scan_device(PpSysfs *sysfs, const char *name, GPtrArray *warnings, GError **error)
{
  g_autoptr(PpPciDevice) dev = NULL;
  g_autoptr(PpSysfs) dir = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *path = g_strdup_printf(DEVICES "/%s", name);
  g_autofree char *group = NULL;
  PpPciAddress address;
  DeviceDir d;
  gint64 numa;

  if (!pp_pci_address_parse(name, &address, error))
    return NULL;
  dir = pp_sysfs_open_at(sysfs, path, error);
  if (dir == NULL)
    return NULL;
  entries = pp_sysfs_list(dir, ".", NULL);
  if (entries == NULL)
    entries = g_ptr_array_new_with_free_func(g_free);
  d.name = name;
  d.top = sysfs;
  d.dir = dir;
  d.entries = entries;
  d.warnings = warnings;

  dev = pp_pci_device_new(&address);
  if (!read_ids(&d, dev, error))
    return NULL;

  /* "-1" when the platform has no NUMA information. */
  if (has(&d, "numa_node") && pp_sysfs_read_int(dir, "numa_node", &numa, NULL) && numa != -1) {
    if (numa >= 0 && numa <= PP_PCI_NUMA_NODE_MAX)
      dev->numa_node = (gint)numa;
    else
      warn(&d, "numa_node '%" G_GINT64_FORMAT "' is not a node number from 0 to %d (or -1)", numa,
           PP_PCI_NUMA_NODE_MAX);
  }

  dev->driver = read_link_name(&d, "driver");
  if (dev->driver != NULL && !pp_pci_driver_name_is_valid(dev->driver)) {
    warn(&d, "its driver link names '%s', not a driver name (1 to %d of [A-Za-z0-9_.-])",
         dev->driver, PP_PCI_DRIVER_NAME_MAX);
    g_clear_pointer(&dev->driver, g_free);
  }
  if (has(&d, "driver_override")) {
    g_autofree char *override = pp_sysfs_read_string(dir, "driver_override", NULL);

    /* "(null)" when none is set (drivers/pci/pci-sysfs.c). */
    if (override != NULL && g_strstrip(override)[0] != '\0' && strcmp(override, "(null)") != 0)
      dev->driver_override = g_utf8_make_valid(override, -1);
  }

  group = read_link_name(&d, "iommu_group");
  if (group != NULL) {
    guint64 value;

    if (g_ascii_string_to_unsigned(group, 10, 0, PP_PCI_IOMMU_GROUP_MAX, &value, NULL))
      dev->iommu_group = (gint)value;
    else
      warn(&d, "its iommu_group link names '%s', not a group number from 0 to %d", group,
           PP_PCI_IOMMU_GROUP_MAX);
  }

  read_sriov(&d, dev);

  if (has(&d, "net")) {
    g_autoptr(GPtrArray) ifnames = pp_sysfs_list(dir, "net", NULL);

    for (guint i = 0; ifnames != NULL && i < ifnames->len; i++)
      g_ptr_array_add(dev->ifnames, g_utf8_make_valid(g_ptr_array_index(ifnames, i), -1));
    /* The first interface's, as IFNAME lists it first (sorted). A name
     * with a '/' or that is not the kernel's own is not looked into. */
    if (dev->ifnames->len > 0 && strchr(g_ptr_array_index(dev->ifnames, 0), '/') == NULL &&
        strcmp(g_ptr_array_index(dev->ifnames, 0), g_ptr_array_index(ifnames, 0)) == 0)
      dev->perm_mac = read_perm_mac(&d, g_ptr_array_index(dev->ifnames, 0));
  }

  if (has(&d, "reset_method")) {
    g_autofree char *method = pp_sysfs_read_string(dir, "reset_method", NULL);

    if (method != NULL && g_strstrip(method)[0] != '\0')
      dev->reset_method = g_utf8_make_valid(method, -1);
  }
  return g_steal_pointer(&dev);
}

PpPciDevice *
pp_pci_scan_device(PpSysfs *sysfs, const char *name, GError **error)
{
  g_return_val_if_fail(sysfs != NULL && name != NULL, NULL);
  return scan_device(sysfs, name, NULL, error);
}

static gint
compare_devices(gconstpointer a, gconstpointer b)
{
  const PpPciDevice *da = *(const PpPciDevice *const *)a;
  const PpPciDevice *db = *(const PpPciDevice *const *)b;

  return pp_pci_address_compare(&da->address, &db->address);
}

/* Fills every grouped device's group_endpoints from @devices (sorted by
 * address, so each list comes out sorted): the members of its group that do
 * not stay with the host (pp_vfio_stays()), and itself. */
static void
fill_group_endpoints(GPtrArray *devices)
{
  g_autoptr(GHashTable) groups =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_ptr_array_unref);

  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);
    GPtrArray *members;

    if (dev->iommu_group < 0)
      continue;
    members = g_hash_table_lookup(groups, GINT_TO_POINTER(dev->iommu_group));
    if (members == NULL) {
      members = g_ptr_array_new();
      g_hash_table_insert(groups, GINT_TO_POINTER(dev->iommu_group), members);
    }
    g_ptr_array_add(members, dev);
  }

  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);
    GPtrArray *members;

    if (dev->iommu_group < 0)
      continue;
    members = g_hash_table_lookup(groups, GINT_TO_POINTER(dev->iommu_group));
    g_clear_pointer(&dev->group_endpoints, g_ptr_array_unref);
    dev->group_endpoints = g_ptr_array_new_with_free_func(g_free);
    for (guint j = 0; j < members->len; j++) {
      const PpPciDevice *member = g_ptr_array_index(members, j);
      char buf[PP_PCI_ADDRESS_BUFSIZE];

      if (member == dev || !pp_vfio_stays(member))
        g_ptr_array_add(dev->group_endpoints,
                        g_strdup(pp_pci_address_format(&member->address, buf)));
    }
  }
}

GPtrArray *
pp_pci_scan(PpSysfs *sysfs, GPtrArray *warnings, GError **error)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) list_error = NULL;

  g_return_val_if_fail(sysfs != NULL, NULL);

  devices = g_ptr_array_new_with_free_func((GDestroyNotify)pp_pci_device_free);
  names = pp_sysfs_list(sysfs, DEVICES, &list_error);
  if (names == NULL) {
    /* A machine without PCI, or a root that is not a sysfs: say which. */
    if (g_error_matches(list_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
      if (warnings != NULL)
        g_ptr_array_add(warnings,
                        g_strdup_printf("'%s' has no " DEVICES ": no PCI devices (is it a sysfs "
                                        "root, such as /sys?)",
                                        pp_sysfs_get_root(sysfs)));
      return g_steal_pointer(&devices);
    }
    g_propagate_error(error, g_steal_pointer(&list_error));
    return NULL;
  }

  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    g_autoptr(GError) dev_error = NULL;
    PpPciDevice *dev = scan_device(sysfs, name, warnings, &dev_error);

    if (dev == NULL) {
      if (warnings != NULL)
        g_ptr_array_add(warnings, g_strdup_printf("%s, skipping", dev_error->message));
      continue;
    }
    g_ptr_array_add(devices, dev);
  }
  g_ptr_array_sort(devices, compare_devices);
  fill_group_endpoints(devices);
  return g_steal_pointer(&devices);
}
