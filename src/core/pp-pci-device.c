#define G_LOG_DOMAIN "pp-pci-device"

#include "config.h"

#include <string.h>

#include "pp-pci-device.h"

PpPciDevice *
pp_pci_device_new(const PpPciAddress *address)
{
  PpPciDevice *dev = g_new0(PpPciDevice, 1);

  dev->address = *address;
  dev->numa_node = -1;
  dev->header_type = -1;
  dev->iommu_group = -1;
  dev->sriov = PP_SRIOV_NO;
  dev->vf_index = -1;
  dev->ifnames = g_ptr_array_new_with_free_func(g_free);
  return dev;
}

void
pp_pci_device_free(PpPciDevice *dev)
{
  if (dev == NULL)
    return;
  g_free(dev->vendor_name);
  g_free(dev->device_name);
  g_free(dev->class_name);
  g_free(dev->driver);
  g_free(dev->driver_override);
  g_free(dev->reset_method);
  g_free(dev->host_needs);
  g_free(dev->perm_mac);
  if (dev->ifnames != NULL)
    g_ptr_array_unref(dev->ifnames);
  if (dev->group_endpoints != NULL)
    g_ptr_array_unref(dev->group_endpoints);
  g_free(dev);
}

gboolean
pp_pci_driver_name_is_valid(const char *name)
{
  gsize n;

  g_return_val_if_fail(name != NULL, FALSE);
  n = strlen(name);
  return n >= 1 && n <= PP_PCI_DRIVER_NAME_MAX &&
         strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

guint16
pp_pci_device_get_class(const PpPciDevice *dev)
{
  return dev->class_code >> 8;
}

const char *
pp_sriov_role_to_string(PpSriovRole role)
{
  static const char *const names[_PP_SRIOV_MAX] = {
    [PP_SRIOV_NO] = "no",
    [PP_SRIOV_PF] = "pf",
    [PP_SRIOV_VF] = "vf",
  };

  g_return_val_if_fail(role < _PP_SRIOV_MAX, NULL);
  return names[role];
}

static void
add_hex4(PpAttribute *vec, const char *key, guint value)
{
  char buf[8];

  g_snprintf(buf, sizeof(buf), "%04x", value);
  pp_attribute_vector_add(vec, key, buf);
}

/* @list's strings joined with commas. */
static void
add_joined(PpAttribute *vec, const char *key, const GPtrArray *list)
{
  g_autoptr(GString) joined = g_string_new(NULL);

  for (guint i = 0; i < list->len; i++)
    g_string_append_printf(joined, "%s%s", i ? "," : "", (const char *)list->pdata[i]);
  pp_attribute_vector_add(vec, key, joined->str);
}

static void
add_uint(PpAttribute *vec, const char *key, guint value)
{
  char buf[16];

  g_snprintf(buf, sizeof(buf), "%u", value);
  pp_attribute_vector_add(vec, key, buf);
}

void
pp_pci_device_add_record(const PpPciDevice *dev, PpTemplate *tmpl)
{
  const PpPciAddress *a = &dev->address;
  char buf[PP_PCI_ADDRESS_BUFSIZE];
  char type[16];
  PpAttribute *vec;

  g_return_if_fail(dev != NULL && tmpl != NULL);

  vec = pp_template_add_vector(tmpl, "PCI");
  g_snprintf(type, sizeof(type), "%04x:%04x:%04x", dev->vendor, dev->device,
             pp_pci_device_get_class(dev));
  pp_attribute_vector_add(vec, "TYPE", type);
  add_hex4(vec, "VENDOR", dev->vendor);
  pp_attribute_vector_add(vec, "VENDOR_NAME", dev->vendor_name ? dev->vendor_name : "");
  add_hex4(vec, "DEVICE", dev->device);
  pp_attribute_vector_add(vec, "DEVICE_NAME", dev->device_name ? dev->device_name : "");
  add_hex4(vec, "CLASS", pp_pci_device_get_class(dev));
  pp_attribute_vector_add(vec, "CLASS_NAME", dev->class_name ? dev->class_name : "");
  pp_attribute_vector_add(vec, "ADDRESS", pp_pci_address_format_one(a, buf));
  pp_attribute_vector_add(vec, "SHORT_ADDRESS", pp_pci_address_format_short(a, buf));
  add_hex4(vec, "DOMAIN", a->domain);
  g_snprintf(buf, sizeof(buf), "%02x", a->bus);
  pp_attribute_vector_add(vec, "BUS", buf);
  g_snprintf(buf, sizeof(buf), "%02x", a->slot);
  pp_attribute_vector_add(vec, "SLOT", buf);
  g_snprintf(buf, sizeof(buf), "%x", a->function);
  pp_attribute_vector_add(vec, "FUNCTION", buf);
  if (dev->numa_node >= 0)
    add_uint(vec, "NUMA_NODE", dev->numa_node);
  else
    pp_attribute_vector_add(vec, "NUMA_NODE", "-");
  if (dev->ifnames->len > 0)
    add_joined(vec, "IFNAME", dev->ifnames);
  pp_attribute_vector_add(vec, "SRIOV", pp_sriov_role_to_string(dev->sriov));
  if (dev->sriov == PP_SRIOV_PF)
    add_uint(vec, "SRIOV_NUM", dev->sriov_numvfs);
  if (dev->iommu_group >= 0) {
    add_uint(vec, "IOMMU_GROUP", dev->iommu_group);
    if (dev->group_endpoints != NULL && dev->group_endpoints->len > 0)
      add_joined(vec, "IOMMU_GROUP_ENDPOINTS", dev->group_endpoints);
  }
  if (dev->driver != NULL)
    pp_attribute_vector_add(vec, "DRIVER", dev->driver);
  if (dev->sriov == PP_SRIOV_VF && dev->has_physfn)
    pp_attribute_vector_add(vec, "PHYSFN", pp_pci_address_format(&dev->physfn, buf));
  if (dev->has_subsystem) {
    add_hex4(vec, "SUBSYSTEM_VENDOR", dev->subsystem_vendor);
    add_hex4(vec, "SUBSYSTEM_DEVICE", dev->subsystem_device);
  }
  if (dev->reset_method != NULL)
    pp_attribute_vector_add(vec, "RESET_METHOD", dev->reset_method);
  if (dev->sriov == PP_SRIOV_PF)
    add_uint(vec, "SRIOV_TOTAL", dev->sriov_totalvfs);
  if (dev->host_needs != NULL)
    pp_attribute_vector_add(vec, "HOST_NEEDS", dev->host_needs);
  if (dev->perm_mac != NULL)
    pp_attribute_vector_add(vec, "PERM_MAC", dev->perm_mac);
  if (dev->sriov == PP_SRIOV_VF && dev->vf_index >= 0)
    add_uint(vec, "VF_INDEX", (guint)dev->vf_index);
}
