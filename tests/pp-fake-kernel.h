/* pp-fake-kernel: the PCI core's answers to sysfs writes, played on a fake
 * tree while the real pcipass-vfio runs on it.
 *
 * This is a stand-in for what cannot run here: the machine that runs the
 * tests has no VFIO and no IOMMU. tests/e2e checks the real kernel under
 * QEMU with an emulated IOMMU; this lets the unit of work between them (the
 * order of writes, rollback, idempotence) be tested on real captured trees.
 *
 * A thread watches the tree with inotify and, when a writer closes a file:
 *   bus/pci/drivers/D/unbind <- BDF  removes BDF's driver link, if it is D
 *   bus/pci/drivers/D/bind   <- BDF  links BDF to D, if it has no driver and
 *                                    its driver_override is empty or D
 *   bus/pci/drivers_probe    <- BDF  binds BDF to its driver_override, or to
 *                                    its default driver, if it has none
 * as drivers/pci/pci-driver.c does; binding to vfio-pci makes /dev/vfio/N.
 * Every write is logged, in order.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PpFakeKernel PpFakeKernel;

/* Starts playing the kernel on @sys (a `sys` folder); /dev/vfio nodes go
 * to @dev. */
PpFakeKernel *pp_fake_kernel_start(const char *sys, const char *dev);

/* Stops, and returns: (transfer full) (element-type utf8) the writes seen,
 * "PATH <- VALUE", paths relative to @sys, values with C escapes. */
GPtrArray *pp_fake_kernel_stop(PpFakeKernel *kernel);

/* The driver drivers_probe binds @bdf to when no override is set. */
void pp_fake_kernel_set_default(PpFakeKernel *kernel, const char *bdf, const char *driver);

/* From now on, @driver refuses @bdf (its probe fails). */
void pp_fake_kernel_refuse(PpFakeKernel *kernel, const char *bdf, const char *driver);

G_END_DECLS
