/* pp-vfio-plan: what binding devices to vfio-pci, and giving them back,
 * writes to sysfs, in which order. Pure: the host's state goes in, an
 * ordered list of steps comes out; src/host/pp-vfio executes it.
 *
 * Binding is by address, through driver_override (never by vendor:device
 * id through new_id, which also takes the device's identical twins):
 *
 *   1. record the device's driver, before anything is written (STYLE 31)
 *   2. devices/BDF/driver_override  <- "vfio-pci"
 *   3. drivers/OLD/unbind           <- BDF          (if it has a driver)
 *   4. drivers_probe                <- BDF
 *   5. expect: BDF is on vfio-pci
 *
 * Giving back (restore) undoes it from whatever state the device is in:
 *
 *   1. drivers/vfio-pci/unbind      <- BDF          (if on vfio-pci)
 *   2. devices/BDF/driver_override  <- "\n"         (if set)
 *   3. drivers/ORIG/bind            <- BDF          (the recorded driver, if loaded)
 *      or drivers_probe             <- BDF          (the kernel's choice)
 *   4. forget the record
 *
 * A device already on vfio-pci needs no step: binding is idempotent, and so
 * is restoring a device that is back on its driver.
 */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"

G_BEGIN_DECLS

#define PP_VFIO_DRIVER "vfio-pci"

typedef enum {
  PP_VFIO_STEP_LOAD_MODULE, /* load the module @value (vfio-pci), which registers the
                             * driver @path (NULL: the same name) */
  PP_VFIO_STEP_RECORD,      /* remember that @device was on driver @value ("" for none) */
  PP_VFIO_STEP_WRITE,       /* write @value to @path, relative to the sysfs root */
  PP_VFIO_STEP_EXPECT,      /* @device must now be on driver @value ("" for none) */
  PP_VFIO_STEP_FORGET,      /* drop the record of @device */
  _PP_VFIO_STEP_MAX
} PpVfioStepKind;

typedef struct {
  PpVfioStepKind kind;
  PpPciAddress device;
  char *path;  /* WRITE; LOAD_MODULE's driver */
  char *value; /* see the kinds */
} PpVfioStep;

/* Returns: (transfer full) (element-type PpVfioStep): an empty plan. */
GPtrArray *pp_vfio_plan_new(void);

/* "write 'vfio-pci' to bus/pci/devices/0000:04:00.0/driver_override", for
 * --dry-run and logs. Returns: (transfer full). */
char *pp_vfio_step_describe(const PpVfioStep *step);

/**
 * pp_vfio_plan_bind:
 * @plan: (element-type PpVfioStep): steps are appended here
 * @dev: the device as it is now (driver, driver_override)
 *
 * Appends the steps that take @dev to vfio-pci; none when it is there.
 */
void pp_vfio_plan_bind(GPtrArray *plan, const PpPciDevice *dev);

/**
 * pp_vfio_plan_restore:
 * @dev: the device as it is now
 * @original: (nullable): the driver it had before binding; %NULL when it
 *   had none or it is not known (the kernel then chooses)
 * @loaded: (element-type utf8): the PCI drivers the kernel has now
 *   (bus/pci/drivers), to know whether @original can take it back
 *
 * Appends the steps that give @dev back.
 */
void pp_vfio_plan_restore(GPtrArray *plan, const PpPciDevice *dev, const char *original,
                          GPtrArray *loaded);

/* Whether a device is a bridge that stays with the host when its IOMMU
 * group is passed through: a PCI-to-PCI or CardBus bridge (header type 1
 * or 2; class 0604 or 0607 when the header is not known). Host and ISA
 * bridges are not: their header is type 0, and the host needs them. */
gboolean pp_vfio_is_bridge(const PpPciDevice *dev);

/* Whether a device stays with the host when its group is passed through:
 * a bridge (above), or a host bridge with no driver, which vfio accepts in
 * a group as it is (some boards put a dummy host bridge in a GPU's group). */
gboolean pp_vfio_stays(const PpPciDevice *dev);

/**
 * pp_vfio_group_members:
 * @devices: (element-type PpPciDevice): every device of the host
 * @dev: one of them
 *
 * Returns: (transfer container) (element-type PpPciDevice): the devices of
 *   @dev's IOMMU group that go with it (those that stay aside), @dev included, in
 *   address order; borrowed from @devices. Just @dev when it has no group.
 */
GPtrArray *pp_vfio_group_members(GPtrArray *devices, const PpPciDevice *dev);

/* Returns: (transfer none): the device at @address in @devices, or NULL. */
PpPciDevice *pp_vfio_find_device(GPtrArray *devices, const PpPciAddress *address);

G_END_DECLS
