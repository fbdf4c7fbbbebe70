/* pp-host-trees: the trees a host is read from, and what it needs.
 *
 * pcipass-probe names each tree (--sysfs-root, --proc-root, --dev-root);
 * pcipass-vfio gives one root with sys/, proc/ and dev/ below it. Both
 * open them here, proc and dev beside sys unless named, and read the
 * host's needs here, so that both judge one host the same way: the same
 * trees, and the kernel's own IPv4 addresses when the trees are the
 * running host's.
 */
#pragma once

#include <glib.h>

#include "pp-sysfs.h"

G_BEGIN_DECLS

typedef struct {
  PpSysfs *sys;
  PpSysfs *proc; /* NULL: none (a capture without one) */
  PpSysfs *dev;  /* NULL: none */
  /* They are /sys and /proc: the running host's, whose kernel may be asked
   * too (netlink); a tree elsewhere is another host's, or a capture. */
  gboolean live;
} PpHostTrees;

/**
 * pp_host_trees_open:
 * @sys_root: the folder that plays /sys
 * @proc_root: (nullable): the folder that plays /proc; %NULL: the 'proc'
 *   folder beside @sys_root (/proc for /sys)
 * @dev_root: (nullable): the folder that plays /dev; %NULL: the 'dev'
 *   folder beside @sys_root
 *
 * The proc and dev trees are optional: a capture may have neither, and
 * what they would tell is then not known (debug lines say so).
 *
 * Returns: (transfer full): the trees, or %NULL when @sys_root cannot be
 *   opened, with a message that names it.
 */
PpHostTrees *pp_host_trees_open(const char *sys_root, const char *proc_root, const char *dev_root,
                                GError **error);
void pp_host_trees_free(PpHostTrees *trees);

/**
 * pp_host_trees_read_needs:
 * @devices: (element-type PpPciDevice): the host's PCI devices, scanned
 *   from @trees's sys
 * @ret_warning: (out) (optional) (nullable) (transfer full): on the live
 *   host, why the kernel could not be asked for its addresses, in which
 *   case the network is judged from /proc/net/route alone; %NULL otherwise
 *
 * What the host needs (pp_host_needs_read()), as every program judges it.
 *
 * Returns: (transfer full) (element-type PpHostNeed): the needs.
 */
GPtrArray *pp_host_trees_read_needs(const PpHostTrees *trees, GPtrArray *devices,
                                    char **ret_warning);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHostTrees, pp_host_trees_free)

G_END_DECLS
