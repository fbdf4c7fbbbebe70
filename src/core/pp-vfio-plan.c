#define G_LOG_DOMAIN "pp-vfio-plan"

#include "config.h"

#include <string.h>

#include "pp-vfio-plan.h"

static void
step_free(gpointer data)
{
  PpVfioStep *step = data;

  g_free(step->path);
  g_free(step->value);
  g_free(step);
}

GPtrArray *
pp_vfio_plan_new(void)
{
  return g_ptr_array_new_with_free_func(step_free);
}

static void
add_step(GPtrArray *plan, PpVfioStepKind kind, const PpPciAddress *device, char *path,
         const char *value)
{
  PpVfioStep *step = g_new0(PpVfioStep, 1);

  step->kind = kind;
  if (device != NULL)
    step->device = *device;
  step->path = path;
  step->value = g_strdup(value);
  g_ptr_array_add(plan, step);
}

/* A write; takes @path. */
static void
add_write(GPtrArray *plan, const PpPciAddress *device, char *path, const char *value)
{
  add_step(plan, PP_VFIO_STEP_WRITE, device, path, value);
}

char *
pp_vfio_step_describe(const PpVfioStep *step)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *value = NULL;

  g_return_val_if_fail(step != NULL, NULL);

  pp_pci_address_format(&step->device, bdf);
  switch (step->kind) {
  case PP_VFIO_STEP_LOAD_MODULE:
    return g_strdup_printf("load the module %s", step->value);
  case PP_VFIO_STEP_RECORD:
    return g_strdup_printf("%s: record its driver, %s", bdf, step->value[0] ? step->value : "none");
  case PP_VFIO_STEP_WRITE:
    /* "\n" clears driver_override: show it as such. */
    value = g_strescape(step->value, NULL);
    return g_strdup_printf("write '%s' to %s", value, step->path);
  case PP_VFIO_STEP_EXPECT:
    return g_strdup_printf("%s: expect %s", bdf, step->value[0] ? step->value : "no driver");
  case PP_VFIO_STEP_FORGET:
    return g_strdup_printf("%s: forget its record", bdf);
  default:
    g_return_val_if_reached(NULL);
  }
}

static gboolean
has_override(const PpPciDevice *dev)
{
  return dev->driver_override != NULL && dev->driver_override[0] != '\0';
}

void
pp_vfio_plan_bind(GPtrArray *plan, const PpPciDevice *dev)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  const PpPciAddress *a = &dev->address;

  g_return_if_fail(plan != NULL && dev != NULL);

  if (g_strcmp0(dev->driver, PP_VFIO_DRIVER) == 0)
    return;
  pp_pci_address_format(a, bdf);
  add_step(plan, PP_VFIO_STEP_RECORD, a, NULL, dev->driver ? dev->driver : "");
  add_write(plan, a, g_strdup_printf("bus/pci/devices/%s/driver_override", bdf), PP_VFIO_DRIVER);
  if (dev->driver != NULL) {
    add_write(plan, a, g_strdup_printf("bus/pci/drivers/%s/unbind", dev->driver), bdf);
    add_step(plan, PP_VFIO_STEP_EXPECT, a, NULL, "");
  }
  add_write(plan, a, g_strdup("bus/pci/drivers_probe"), bdf);
  add_step(plan, PP_VFIO_STEP_EXPECT, a, NULL, PP_VFIO_DRIVER);
}

static gboolean
is_loaded(GPtrArray *loaded, const char *driver)
{
  for (guint i = 0; loaded != NULL && i < loaded->len; i++)
    if (strcmp(g_ptr_array_index(loaded, i), driver) == 0)
      return TRUE;
  return FALSE;
}

void
pp_vfio_plan_restore(GPtrArray *plan, const PpPciDevice *dev, const char *original,
                     GPtrArray *loaded)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  const PpPciAddress *a = &dev->address;
  const char *driver = dev->driver;

  g_return_if_fail(plan != NULL && dev != NULL);

  if (original != NULL && original[0] == '\0')
    original = NULL;
  pp_pci_address_format(a, bdf);

  /* Back where it was: only the record goes. */
  if (!has_override(dev) && g_strcmp0(driver, PP_VFIO_DRIVER) != 0 &&
      (original == NULL || g_strcmp0(driver, original) == 0)) {
    add_step(plan, PP_VFIO_STEP_FORGET, a, NULL, NULL);
    return;
  }
  if (driver != NULL && (strcmp(driver, PP_VFIO_DRIVER) == 0 ||
                         (original != NULL && strcmp(driver, original) != 0))) {
    /* On vfio-pci, or on a driver that is not its own: let go. */
    add_write(plan, a, g_strdup_printf("bus/pci/drivers/%s/unbind", driver), bdf);
    add_step(plan, PP_VFIO_STEP_EXPECT, a, NULL, "");
    driver = NULL;
  }
  /* Clear the override first: with it set, no other driver may bind. */
  if (has_override(dev))
    add_write(plan, a, g_strdup_printf("bus/pci/devices/%s/driver_override", bdf), "\n");
  if (driver == NULL) {
    if (original != NULL && is_loaded(loaded, original)) {
      add_write(plan, a, g_strdup_printf("bus/pci/drivers/%s/bind", original), bdf);
      add_step(plan, PP_VFIO_STEP_EXPECT, a, NULL, original);
    } else {
      /* The kernel's choice, which may be no driver at all. */
      add_write(plan, a, g_strdup("bus/pci/drivers_probe"), bdf);
    }
  }
  add_step(plan, PP_VFIO_STEP_FORGET, a, NULL, NULL);
}

gboolean
pp_vfio_is_bridge(const PpPciDevice *dev)
{
  guint16 cls;

  g_return_val_if_fail(dev != NULL, FALSE);

  /* vfio lets any device whose header is not type 0 stay on its driver
   * (drivers/vfio/group.c, vfio_dev_driver_allowed): PCI-to-PCI and
   * CardBus bridges. Without the header, their classes say the same. */
  if (dev->header_type >= 0)
    return dev->header_type != 0;
  cls = pp_pci_device_get_class(dev);
  return cls == 0x0604 || cls == 0x0607;
}

gboolean
pp_vfio_stays(const PpPciDevice *dev)
{
  g_return_val_if_fail(dev != NULL, FALSE);
  return pp_vfio_is_bridge(dev) || (pp_pci_device_get_class(dev) == 0x0600 && dev->driver == NULL);
}

PpPciDevice *
pp_vfio_find_device(GPtrArray *devices, const PpPciAddress *address)
{
  g_return_val_if_fail(devices != NULL && address != NULL, NULL);

  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);

    if (pp_pci_address_equal(&dev->address, address))
      return dev;
  }
  return NULL;
}

GPtrArray *
pp_vfio_group_members(GPtrArray *devices, const PpPciDevice *dev)
{
  g_autoptr(GPtrArray) members = NULL;

  g_return_val_if_fail(devices != NULL && dev != NULL, NULL);

  members = g_ptr_array_new();
  if (dev->iommu_group < 0) {
    g_ptr_array_add(members, (gpointer)dev);
    return g_steal_pointer(&members);
  }
  /* @devices is in address order: so are the members. */
  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *other = g_ptr_array_index(devices, i);

    if (other->iommu_group != dev->iommu_group)
      continue;
    if (other != dev && pp_vfio_stays(other))
      continue;
    g_ptr_array_add(members, other);
  }
  return g_steal_pointer(&members);
}
