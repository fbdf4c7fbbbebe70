/* pp-vfio-check: is this host ready for passthrough? One result per
 * check, ok / warn / fail, with what to do. Everything is read below a
 * root (sys/, proc/, etc/, dev/, lib/), so fixture trees can play a host.
 */
#pragma once

#include <glib.h>

#include "pp-sysfs.h"

G_BEGIN_DECLS

typedef enum { PP_CHECK_OK, PP_CHECK_WARN, PP_CHECK_FAIL, _PP_CHECK_MAX } PpCheckStatus;

typedef struct {
  const char *name; /* "iommu-groups" */
  PpCheckStatus status;
  char *message; /* what was found */
  char *fix;     /* what to do, or NULL */
} PpCheckResult;

typedef struct {
  PpSysfs *root;      /* the root folder itself: etc/, dev/, lib/ */
  PpSysfs *sys;       /* root/sys */
  PpSysfs *proc;      /* root/proc, or NULL */
  GPtrArray *devices; /* PpPciDevice: the host's devices */
  const char *kernel; /* the kernel release, or NULL when unknown */
} PpCheckHost;

const char *pp_check_status_to_string(PpCheckStatus status);

/* Whose IOMMU the host has: "intel" (an ACPI DMAR table), "amd" (IVRS), or
 * without either the CPU's maker from /proc/cpuinfo; NULL when unknown. A
 * guest's CPU may say AMD while its emulated IOMMU is Intel's: the tables
 * come first. */
const char *pp_iommu_vendor(PpSysfs *sys, PpSysfs *proc);

/**
 * pp_vfio_checks_run:
 *
 * Returns: (transfer full) (element-type PpCheckResult): the results, in a
 *   fixed order: IOMMU in firmware, IOMMU groups, kernel command line,
 *   interrupt remapping, kernel version, vfio modules, /dev/vfio/vfio,
 *   blacklists, groups bound to vfio-pci, qemu.conf's cgroup_device_acl,
 *   the boot unit.
 */
GPtrArray *pp_vfio_checks_run(const PpCheckHost *host);

G_END_DECLS
