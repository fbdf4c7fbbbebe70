#define G_LOG_DOMAIN "pp-host-trees"

#include "config.h"

#include <string.h>

#include "pp-host-needs.h"
#include "pp-host-trees.h"
#include "pp-netlink.h"

/* The @name folder beside @sys_root: /proc for /sys, ROOT/dev for ROOT/sys. */
static char *
beside(const char *sys_root, const char *name)
{
  g_autofree char *canonical = g_canonicalize_filename(sys_root, NULL);
  g_autofree char *parent = g_path_get_dirname(canonical);

  return g_build_filename(parent, name, NULL);
}

static gboolean
is_path(const char *path, const char *want)
{
  g_autofree char *canonical = g_canonicalize_filename(path, NULL);

  return strcmp(canonical, want) == 0;
}

/* An optional tree: NULL when it cannot be opened. */
static PpSysfs *
open_optional(const char *root, const char *what)
{
  g_autoptr(GError) error = NULL;
  PpSysfs *tree = pp_sysfs_open(root, &error);

  if (tree == NULL)
    g_debug("no %s tree, what it would tell is not known: %s", what, error->message);
  return tree;
}

PpHostTrees *
pp_host_trees_open(const char *sys_root, const char *proc_root, const char *dev_root,
                   GError **error)
{
  g_autoptr(PpHostTrees) trees = g_new0(PpHostTrees, 1);
  g_autofree char *proc_path = NULL;
  g_autofree char *dev_path = NULL;

  g_return_val_if_fail(sys_root != NULL, NULL);

  trees->sys = pp_sysfs_open(sys_root, error);
  if (trees->sys == NULL)
    return NULL;
  proc_path = proc_root ? g_strdup(proc_root) : beside(sys_root, "proc");
  dev_path = dev_root ? g_strdup(dev_root) : beside(sys_root, "dev");
  trees->proc = open_optional(proc_path, "proc");
  trees->dev = open_optional(dev_path, "dev");
  trees->live = is_path(sys_root, "/sys") && trees->proc != NULL && is_path(proc_path, "/proc");
  return g_steal_pointer(&trees);
}

void
pp_host_trees_free(PpHostTrees *trees)
{
  if (trees == NULL)
    return;
  g_clear_pointer(&trees->sys, pp_sysfs_free);
  g_clear_pointer(&trees->proc, pp_sysfs_free);
  g_clear_pointer(&trees->dev, pp_sysfs_free);
  g_free(trees);
}

GPtrArray *
pp_host_trees_read_needs(const PpHostTrees *trees, GPtrArray *devices, char **ret_warning)
{
  g_autoptr(GPtrArray) ipv4 = NULL;
  g_autofree char *warning = NULL;
  GPtrArray *needs;

  g_return_val_if_fail(trees != NULL && devices != NULL, NULL);

  /* The kernel's addresses are the running host's, whatever tree is read:
   * only for the live trees. */
  if (trees->live) {
    g_autoptr(GError) error = NULL;

    ipv4 = pp_netlink_ipv4_addresses(&error);
    if (ipv4 == NULL)
      warning =
          g_strdup_printf("%s; judging the network from /proc/net/route alone", error->message);
  }
  needs = pp_host_needs_read(trees->sys, trees->proc, trees->dev, ipv4, devices);
  if (ret_warning != NULL)
    *ret_warning = g_steal_pointer(&warning);
  return needs;
}
