#define G_LOG_DOMAIN "pp-pci-scan"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>

#include "pp-pci-scan.h"

#define DEVICES "bus/pci/devices"

/* Offsets in PCI configuration space (PCI Local Bus Specification 3.0, 6.1). */
enum {
  CFG_VENDOR = 0x00,
  CFG_DEVICE = 0x02,
  CFG_CLASS_PROG = 0x09,     /* prog-if, subclass, class: 3 bytes */
  CFG_HEADER_TYPE = 0x0e,
  CFG_SUBSYS_VENDOR = 0x2c,  /* type 0 headers only */
  CFG_SUBSYS_DEVICE = 0x2e,
  CFG_HEADER_SIZE = 0x40,
};

static guint16
le16(const guint8 *p)
{
  return (guint16)(p[0] | (p[1] << 8));
}

static char *
dev_path(const char *name, const char *attr)
{
  return g_strdup_printf(DEVICES "/%s/%s", name, attr);
}

/* The ids from the attribute files, or else from config's first bytes
 * (hwloc's trees keep it; ghw's pruned ones have the files). */
static gboolean
read_ids(PpSysfs *sysfs, const char *name, PpPciDevice *dev, GError **error)
{
  g_autofree char *vendor_path = dev_path(name, "vendor");
  g_autofree char *device_path = dev_path(name, "device");
  g_autofree char *class_path = dev_path(name, "class");
  g_autofree char *sv_path = dev_path(name, "subsystem_vendor");
  g_autofree char *sd_path = dev_path(name, "subsystem_device");
  g_autofree char *config_path = dev_path(name, "config");
  g_autoptr(GError) file_error = NULL;
  guint32 vendor, device, class_code, sv, sd;
  guint8 config[CFG_HEADER_SIZE];
  gssize n;

  if (pp_sysfs_read_hex(sysfs, vendor_path, 0xffff, &vendor, &file_error) &&
      pp_sysfs_read_hex(sysfs, device_path, 0xffff, &device, &file_error) &&
      pp_sysfs_read_hex(sysfs, class_path, 0xffffff, &class_code, &file_error)) {
    dev->vendor = vendor;
    dev->device = device;
    dev->class_code = class_code;
    if (pp_sysfs_read_hex(sysfs, sv_path, 0xffff, &sv, NULL) &&
        pp_sysfs_read_hex(sysfs, sd_path, 0xffff, &sd, NULL)) {
      dev->has_subsystem = TRUE;
      dev->subsystem_vendor = sv;
      dev->subsystem_device = sd;
    }
    return TRUE;
  }

  n = pp_sysfs_read_raw(sysfs, config_path, config, sizeof(config));
  if (n < CFG_CLASS_PROG + 3) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "%s: cannot read its ids: %s; and its config: %s", name, file_error->message,
                n < 0 ? g_strerror((int)-n) : "too short");
    return FALSE;
  }
  dev->vendor = le16(config + CFG_VENDOR);
  dev->device = le16(config + CFG_DEVICE);
  dev->class_code = config[CFG_CLASS_PROG] | (config[CFG_CLASS_PROG + 1] << 8) |
                    (config[CFG_CLASS_PROG + 2] << 16);
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
read_link_name(PpSysfs *sysfs, const char *name, const char *attr)
{
  g_autofree char *path = dev_path(name, attr);
  g_autofree char *base = pp_sysfs_readlink_basename(sysfs, path, NULL);

  if (base == NULL)
    return NULL;
  return g_utf8_make_valid(base, -1);
}

static void
read_sriov(PpSysfs *sysfs, const char *name, GPtrArray *entries, PpPciDevice *dev)
{
  g_autofree char *physfn = read_link_name(sysfs, name, "physfn");
  g_autofree char *total_path = dev_path(name, "sriov_totalvfs");
  g_autofree char *num_path = dev_path(name, "sriov_numvfs");
  gint64 total = 0, num = -1;
  guint virtfns = 0;

  if (physfn != NULL) {
    dev->sriov = PP_SRIOV_VF;
    dev->has_physfn = pp_pci_address_parse(physfn, &dev->physfn, NULL);
    return;
  }
  for (guint i = 0; i < entries->len; i++)
    if (g_str_has_prefix(g_ptr_array_index(entries, i), "virtfn"))
      virtfns++;
  if (!pp_sysfs_read_int(sysfs, total_path, &total, NULL) || total < 0)
    total = 0;
  if (total == 0 && virtfns == 0)
    return;
  dev->sriov = PP_SRIOV_PF;
  dev->sriov_totalvfs = MAX((guint64)total, virtfns);
  if (pp_sysfs_read_int(sysfs, num_path, &num, NULL) && num >= 0)
    dev->sriov_numvfs = (guint)num;
  else
    dev->sriov_numvfs = virtfns;
}

static gboolean
array_has(GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (strcmp(g_ptr_array_index(names, i), name) == 0)
      return TRUE;
  return FALSE;
}

PpPciDevice *
pp_pci_scan_device(PpSysfs *sysfs, const char *name, GError **error)
{
  g_autoptr(PpPciDevice) dev = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *dir = g_strdup_printf(DEVICES "/%s", name);
  g_autofree char *numa_path = dev_path(name, "numa_node");
  g_autofree char *net_path = dev_path(name, "net");
  g_autofree char *reset_path = dev_path(name, "reset_method");
  g_autofree char *group = NULL;
  PpPciAddress address;
  gint64 numa;

  g_return_val_if_fail(sysfs != NULL && name != NULL, NULL);

  if (!pp_pci_address_parse(name, &address, error))
    return NULL;
  dev = pp_pci_device_new(&address);
  if (!read_ids(sysfs, name, dev, error))
    return NULL;

  entries = pp_sysfs_list(sysfs, dir, NULL);
  if (entries == NULL)
    entries = g_ptr_array_new_with_free_func(g_free);

  /* "-1" when the platform has no NUMA information. */
  if (pp_sysfs_read_int(sysfs, numa_path, &numa, NULL) && numa >= 0)
    dev->numa_node = (gint)numa;

  if (array_has(entries, "driver"))
    dev->driver = read_link_name(sysfs, name, "driver");

  if (array_has(entries, "iommu_group")) {
    guint64 value;

    group = read_link_name(sysfs, name, "iommu_group");
    if (group != NULL && g_ascii_string_to_unsigned(group, 10, 0, G_MAXINT32, &value, NULL))
      dev->iommu_group = (gint)value;
  }

  read_sriov(sysfs, name, entries, dev);

  if (array_has(entries, "net")) {
    g_autoptr(GPtrArray) ifnames = pp_sysfs_list(sysfs, net_path, NULL);

    for (guint i = 0; ifnames != NULL && i < ifnames->len; i++)
      g_ptr_array_add(dev->ifnames, g_utf8_make_valid(g_ptr_array_index(ifnames, i), -1));
  }

  if (array_has(entries, "reset_method")) {
    g_autofree char *method = pp_sysfs_read_string(sysfs, reset_path, NULL);

    if (method != NULL && method[0] != '\0')
      dev->reset_method = g_utf8_make_valid(g_strstrip(method), -1);
  }
  return g_steal_pointer(&dev);
}

static gint
compare_devices(gconstpointer a, gconstpointer b)
{
  const PpPciDevice *da = *(const PpPciDevice *const *)a;
  const PpPciDevice *db = *(const PpPciDevice *const *)b;

  return pp_pci_address_compare(&da->address, &db->address);
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
    if (g_error_matches(list_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
      return g_steal_pointer(&devices);
    g_propagate_error(error, g_steal_pointer(&list_error));
    return NULL;
  }

  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    g_autoptr(GError) dev_error = NULL;
    PpPciDevice *dev = pp_pci_scan_device(sysfs, name, &dev_error);

    if (dev == NULL) {
      if (warnings != NULL)
        g_ptr_array_add(warnings, g_strdup(dev_error->message));
      continue;
    }
    g_ptr_array_add(devices, dev);
  }
  g_ptr_array_sort(devices, compare_devices);
  return g_steal_pointer(&devices);
}
