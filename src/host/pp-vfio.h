/* pp-vfio: binds devices to vfio-pci and gives them back on a host, by
 * executing the plans of pp-vfio-plan against sysfs.
 *
 * Each device's driver is recorded in a state file before the first write
 * that concerns it (STYLE rule 31), so that `unbind` gives it back to that
 * driver, even after a crash or a reboot in between. A bind that fails at
 * any step is undone whole: every device it touched goes back to its
 * recorded driver.
 */
#pragma once

#include <glib.h>

#include "pp-sysfs.h"
#include "pp-vfio-plan.h"

G_BEGIN_DECLS

#define PP_VFIO_ERROR (pp_vfio_error_quark())
GQuark pp_vfio_error_quark(void);

typedef enum {
  PP_VFIO_ERROR_FAILED,    /* a step failed; the message says which and what was undone */
  PP_VFIO_ERROR_NOT_FOUND, /* vfio-pci is not loaded and cannot be */
  PP_VFIO_ERROR_STATE,     /* the state file cannot be read or written */
} PpVfioError;

typedef enum {
  PP_VFIO_NONE = 0,
  PP_VFIO_LOAD_MODULES = 1 << 0, /* run modprobe: only on the real root */
} PpVfioFlags;

typedef struct _PpVfio PpVfio;

/**
 * pp_vfio_new:
 * @sysfs: the sysfs tree, written to
 * @state_dir: the tree the state file is in (the host's root), written to
 *   only through pp_sysfs_replace()
 * @state_path: the state file, relative to @state_dir (created when first
 *   needed)
 * @wait_seconds: how long a bind or unbind may take the kernel
 *
 * Returns: (transfer full): the executor, or %NULL when the state file
 *   exists and cannot be read.
 */
PpVfio *pp_vfio_new(PpSysfs *sysfs, PpSysfs *state_dir, const char *state_path, PpVfioFlags flags,
                    double wait_seconds, GError **error);
void pp_vfio_free(PpVfio *vfio);

/* Returns: (transfer full): the driver recorded for @address ("" for
 * none), or %NULL when there is no record. */
char *pp_vfio_get_recorded(PpVfio *vfio, const PpPciAddress *address);

/**
 * pp_vfio_plan_bind_all:
 * @targets: (element-type PpPciDevice): the devices, as they are now
 *
 * Returns: (transfer full) (element-type PpVfioStep): the whole plan,
 *   loading vfio-pci first when the kernel lacks it.
 */
GPtrArray *pp_vfio_plan_bind_all(PpVfio *vfio, GPtrArray *targets);

/**
 * pp_vfio_plan_restore_all:
 * @targets: (element-type PpPciDevice): the devices, as they are now
 *
 * Returns: (transfer full) (element-type PpVfioStep): the plan that gives
 *   each back to its recorded driver, or to the kernel's choice.
 */
GPtrArray *pp_vfio_plan_restore_all(PpVfio *vfio, GPtrArray *targets);

/**
 * pp_vfio_execute:
 * @plan: (element-type PpVfioStep): from the two functions above
 * @done: (element-type utf8) (nullable): receives a line for each device
 *   that changed driver ("0000:01:00.0: e1000e -> vfio-pci")
 *
 * Executes @plan. When a step fails, every device whose driver this call
 * recorded is given back, and the error says what failed and what was
 * undone.
 *
 * Returns: %TRUE when every step succeeded.
 */
gboolean pp_vfio_execute(PpVfio *vfio, GPtrArray *plan, GPtrArray *done, GError **error);

/**
 * pp_vfio_group_users:
 * @proc: the proc tree
 * @group: an IOMMU group
 *
 * The processes that hold /dev/vfio/@group open (a VM's QEMU): while one
 * does, the kernel holds an unbind of its devices until it lets go. Read
 * from proc/PID/fd, which needs root for other users' processes; those
 * that cannot be read are passed over.
 *
 * Returns: (transfer full) (element-type utf8): "pid 4242 (qemu-system-x86)"
 *   for each, in pid order; empty when none.
 */
GPtrArray *pp_vfio_group_users(PpSysfs *proc, gint group);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVfio, pp_vfio_free)

G_END_DECLS
