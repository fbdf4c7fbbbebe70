/* pcipass-vfio: takes a KVM host to devices ready for passthrough.
 *
 *   check                 is the host ready? one line per check
 *   list                  devices by IOMMU group: can each be passed through?
 *   bind ADDR...          to vfio-pci by address, whole groups, undone on failure
 *   unbind|restore ADDR...  back to the driver each had
 *   boot                  bind what /etc/sysconfig/pcipass-vfio lists
 *   config --devices ADDR... [--write]   the guide's configuration, as a diff
 *
 * Every command works below --root (default /), where sys/, proc/, etc/,
 * dev/ and lib/ are, so tests run it on fixture trees. Binding needs a
 * real host with an IOMMU; tests check it in tests/e2e under QEMU.
 */
#define G_LOG_DOMAIN "pcipass-vfio"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-diff.h"
#include "pp-exit.h"
#include "pp-host-facts.h"
#include "pp-host-needs.h"
#include "pp-host-trees.h"
#include "pp-kmod.h"
#include "pp-output.h"
#include "pp-pci-names.h"
#include "pp-pci-scan.h"
#include "pp-vfio-check.h"
#include "pp-vfio-config.h"
#include "pp-vfio.h"

#define DEFAULT_STATE "var/lib/pcipass/vfio.state"

/* The parsed command line (STYLE rule 7). */
static struct {
  char *root;
  gboolean json;
  gboolean dry_run;
  gboolean force;
  gboolean write;
  gboolean verbose;
  double wait;
  char *state_file;
  char **devices;
} opt = { .wait = 5.0 };

/* A host below the root: its trees and its devices. */
typedef struct {
  const char *root;
  gboolean real; /* the root is "/": modules may be loaded */
  PpSysfs *rootfs;
  PpHostTrees *trees; /* sys/, proc/ and dev/ below the root */
  PpSysfs *sys;       /* borrowed from trees */
  PpSysfs *proc;      /* borrowed from trees; NULL: none */
  PpSysfs *dev;       /* borrowed from trees; NULL: none */
  PpSysfs *state_dir; /* the folder of --state-file, when given */
  GPtrArray *devices; /* PpPciDevice, named */
  PpHostFacts *facts;
} Host;

static void
host_clear(Host *h)
{
  g_clear_pointer(&h->devices, g_ptr_array_unref);
  g_clear_pointer(&h->facts, pp_host_facts_free);
  h->sys = h->proc = h->dev = NULL;
  g_clear_pointer(&h->trees, pp_host_trees_free);
  g_clear_pointer(&h->state_dir, pp_sysfs_free);
  g_clear_pointer(&h->rootfs, pp_sysfs_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Host, host_clear)

static char *
bdf_of(const PpPciDevice *dev)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  return g_strdup(pp_pci_address_format(&dev->address, bdf));
}

typedef enum {
  HOST_DEVICES = 0,         /* addresses, IDs, drivers, groups */
  HOST_WITH_NAMES = 1 << 0, /* and pci.ids names, for people */
} HostOpenFlags;

/* Opens the host's trees and scans its devices. Returns an exit code. */
static int
host_open(Host *h, HostOpenFlags flags)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *sys_root = NULL;

  h->root = opt.root ? opt.root : "/";
  h->real = strcmp(h->root, "/") == 0;
  h->rootfs = pp_sysfs_open(h->root, &error);
  if (h->rootfs == NULL) {
    pp_say_error("%s", error->message);
    return opt.root ? PP_EXIT_USAGE : PP_EXIT_RUNTIME;
  }
  /* As the probe opens them: proc/ and dev/ beside sys/. */
  sys_root = g_build_filename(h->root, "sys", NULL);
  h->trees = pp_host_trees_open(sys_root, NULL, NULL, &error);
  if (h->trees == NULL) {
    pp_say_error("%s: is '%s' the root of a Linux host?", error->message, h->root);
    return opt.root ? PP_EXIT_USAGE : PP_EXIT_RUNTIME;
  }
  h->sys = h->trees->sys;
  h->proc = h->trees->proc;
  h->dev = h->trees->dev;
  h->devices = pp_pci_scan(h->sys, warnings, &error);
  if (h->devices == NULL) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  for (guint i = 0; i < warnings->len; i++)
    pp_say_error("%s", (const char *)g_ptr_array_index(warnings, i));
  if (flags & HOST_WITH_NAMES) {
    g_autoptr(PpPciNames) names = pp_pci_names_open(NULL, &error);

    if (names == NULL) {
      pp_say_error("%s", error->message);
      return PP_EXIT_RUNTIME;
    }
    for (guint i = 0; i < h->devices->len; i++)
      pp_pci_names_fill(names, g_ptr_array_index(h->devices, i));
  }
  h->facts = pp_host_facts_read(h->sys, h->proc, NULL);
  return PP_EXIT_OK;
}

/* What the host needs for itself (pp-host-needs.h), as pcipass-probe
 * reports it; on the running host, with the kernel's IPv4 addresses, which
 * /proc/net/route may not show. */
static GPtrArray *
host_needs(Host *h)
{
  g_autofree char *warning = NULL;
  GPtrArray *needs = pp_host_trees_read_needs(h->trees, h->devices, &warning);

  if (warning != NULL)
    pp_say_error("warning: %s", warning);
  return needs;
}

/* The state file: --state-file, or ROOT/var/lib/pcipass/vfio.state, both
 * written through a tree (pp_sysfs_replace()). Returns an exit code. */
static int
open_vfio(Host *h, PpVfioFlags flags, PpVfio **ret)
{
  g_autoptr(GError) error = NULL;
  PpSysfs *dir = h->rootfs;
  const char *name = DEFAULT_STATE;

  if (opt.state_file != NULL) {
    g_autofree char *parent = g_path_get_dirname(opt.state_file);

    if (g_mkdir_with_parents(parent, 0755) != 0) {
      pp_say_error("--state-file: cannot make '%s': %s", parent, g_strerror(errno));
      return PP_EXIT_USAGE;
    }
    h->state_dir = pp_sysfs_open(parent, &error);
    if (h->state_dir == NULL) {
      pp_say_error("--state-file: %s", error->message);
      return PP_EXIT_USAGE;
    }
    dir = h->state_dir;
    name = strrchr(opt.state_file, '/') ? strrchr(opt.state_file, '/') + 1 : opt.state_file;
  }
  *ret = pp_vfio_new(h->sys, dir, name, flags, opt.wait, &error);
  if (*ret == NULL) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  return PP_EXIT_OK;
}

/* The devices named on the command line (in any of lspci's forms), or
 * NULL with the error printed. With @missing, addresses that name no
 * device are added there instead of failing (boot: a card taken out must
 * not keep the others from being bound). */
static GPtrArray *
resolve(const Host *h, char **args, GPtrArray *missing)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new();

  for (guint i = 0; args != NULL && args[i] != NULL; i++) {
    g_auto(GStrv) words = g_strsplit_set(args[i], ", ", -1);

    for (guint w = 0; words[w] != NULL; w++) {
      g_autoptr(GError) error = NULL;
      PpPciAddress a;
      PpPciDevice *dev;

      if (words[w][0] == '\0')
        continue;
      if (!pp_pci_address_parse(words[w], &a, &error)) {
        pp_say_error("%s", error->message);
        return NULL;
      }
      dev = pp_vfio_find_device(h->devices, &a);
      if (dev == NULL && missing != NULL) {
        char bdf[PP_PCI_ADDRESS_BUFSIZE];

        g_ptr_array_add(missing, g_strdup(pp_pci_address_format(&a, bdf)));
        continue;
      }
      if (dev == NULL) {
        char bdf[PP_PCI_ADDRESS_BUFSIZE];

        pp_say_error("%s: no such PCI device under '%s' (pcipass-vfio list shows them)",
                     pp_pci_address_format(&a, bdf), h->root);
        return NULL;
      }
      if (!g_ptr_array_find(found, dev, NULL))
        g_ptr_array_add(found, dev);
    }
  }
  if (found->len == 0 && (missing == NULL || missing->len == 0)) {
    pp_say_error("no device given (try --help)");
    return NULL;
  }
  return g_steal_pointer(&found);
}

static gint
compare_devices(gconstpointer a, gconstpointer b)
{
  return pp_pci_address_compare(&(*(PpPciDevice *const *)a)->address,
                                &(*(PpPciDevice *const *)b)->address);
}

/* @requested with their groups' other endpoints, in address order; the
 * companions are described in @added. */
static GPtrArray *
expand_groups(const Host *h, GPtrArray *requested, GPtrArray *added)
{
  GPtrArray *targets = g_ptr_array_new();

  for (guint i = 0; i < requested->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(requested, i);
    g_autoptr(GPtrArray) members = pp_vfio_group_members(h->devices, dev);

    for (guint m = 0; m < members->len; m++) {
      PpPciDevice *member = g_ptr_array_index(members, m);

      if (g_ptr_array_find(targets, member, NULL))
        continue;
      g_ptr_array_add(targets, member);
      if (!g_ptr_array_find(requested, member, NULL) && added != NULL) {
        g_autofree char *bdf = bdf_of(member);
        g_autofree char *asked = bdf_of(dev);

        g_ptr_array_add(added, g_strdup_printf("%s (%s) shares IOMMU group %d with %s: it goes too",
                                               bdf, member->device_name ? member->device_name : "?",
                                               member->iommu_group, asked));
      }
    }
  }
  g_ptr_array_sort(targets, compare_devices);
  return targets;
}

/* ------------------------------------------------------------------------ */
/* check                                                                      */
/* ------------------------------------------------------------------------ */

static int
cmd_check(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) results = NULL;
  PpCheckHost ch;
  gboolean failed = FALSE;
  int rc;

  rc = host_open(&h, HOST_DEVICES);
  if (rc != PP_EXIT_OK)
    return rc;
  ch.root = h.rootfs;
  ch.sys = h.sys;
  ch.proc = h.proc;
  ch.devices = h.devices;
  ch.kernel = h.facts->kernel_version;
  results = pp_vfio_checks_run(&ch);

  if (opt.json) {
    g_autoptr(json_t) array = json_array();

    for (guint i = 0; i < results->len; i++) {
      const PpCheckResult *r = g_ptr_array_index(results, i);

      failed |= r->status == PP_CHECK_FAIL;
      if (!pp_json_append(array, json_pack("{s:s, s:s, s:o, s:o}", "check", r->name, "status",
                                           pp_check_status_to_string(r->status), "message",
                                           pp_json_text(r->message), "fix", pp_json_text(r->fix))))
        g_clear_pointer(&array, json_decref);
    }
    rc = pp_print_json(g_steal_pointer(&array));
  } else {
    for (guint i = 0; i < results->len; i++) {
      const PpCheckResult *r = g_ptr_array_index(results, i);

      failed |= r->status == PP_CHECK_FAIL;
      printf("%-5s %-20s %s\n", pp_check_status_to_string(r->status), r->name, r->message);
      if (r->fix != NULL && r->status != PP_CHECK_OK)
        printf("%-26s fix: %s\n", "", r->fix);
    }
    if (fflush(stdout) != 0)
      rc = PP_EXIT_RUNTIME;
  }
  if (rc != PP_EXIT_OK)
    return rc;
  return failed ? PP_EXIT_RUNTIME : PP_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* list                                                                       */
/* ------------------------------------------------------------------------ */

/* Whether a group can be passed through, and in a sentence why. */
static gboolean
group_verdict(GPtrArray *members, GPtrArray *needs, gint group, char **ret_text)
{
  gboolean all_vfio = TRUE;
  guint endpoints = 0;

  if (group < 0) {
    *ret_text = g_strdup("cannot be passed through: the IOMMU is off");
    return FALSE;
  }
  for (guint i = 0; i < members->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(members, i);
    const char *reason = pp_host_needs_find(needs, &dev->address);

    if (reason != NULL && !pp_vfio_stays(dev)) {
      g_autofree char *bdf = bdf_of(dev);

      *ret_text = g_strdup_printf("cannot be passed through: %s %s", bdf, reason);
      return FALSE;
    }
    if (!pp_vfio_stays(dev)) {
      endpoints++;
      all_vfio &= g_strcmp0(dev->driver, PP_VFIO_DRIVER) == 0;
    }
  }
  if (endpoints == 0) {
    *ret_text = g_strdup("nothing to pass through: only devices that stay with the host");
    return FALSE;
  }
  *ret_text = g_strdup(all_vfio ? "bound to vfio-pci, ready" : "can be passed through");
  return TRUE;
}

static json_t *
device_json(const PpPciDevice *dev, GPtrArray *needs)
{
  g_autofree char *bdf = bdf_of(dev);
  char ids[16];
  g_autoptr(json_t) reasons = json_array();

  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *n = g_ptr_array_index(needs, i);

    if (pp_pci_address_equal(&n->address, &dev->address) &&
        !pp_json_append(reasons, pp_json_text(n->reason)))
      return NULL;
  }
  g_snprintf(ids, sizeof(ids), "%04x:%04x:%04x", dev->vendor, dev->device,
             pp_pci_device_get_class(dev));
  return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}", "address", bdf, "type",
                   ids, "vendor_name", pp_json_text(dev->vendor_name ? dev->vendor_name : ""),
                   "device_name", pp_json_text(dev->device_name ? dev->device_name : ""),
                   "class_name", pp_json_text(dev->class_name ? dev->class_name : ""), "driver",
                   pp_json_text(dev->driver), "numa_node",
                   dev->numa_node >= 0 ? json_integer(dev->numa_node) : json_null(), "iommu_group",
                   dev->iommu_group >= 0 ? json_integer(dev->iommu_group) : json_null(), "stays",
                   pp_vfio_stays(dev), "host_needs", g_steal_pointer(&reasons));
}

static void
print_device(const PpPciDevice *dev, GPtrArray *needs)
{
  g_autofree char *bdf = bdf_of(dev);
  char numa[16];

  if (dev->numa_node >= 0)
    g_snprintf(numa, sizeof(numa), "%d", dev->numa_node);
  else
    g_strlcpy(numa, "-", sizeof(numa));
  printf("  %-13s %04x:%04x:%04x  %-14s numa %-2s  %s%s\n", bdf, dev->vendor, dev->device,
         pp_pci_device_get_class(dev), dev->driver ? dev->driver : "(no driver)", numa,
         dev->device_name ? dev->device_name : "",
         pp_vfio_is_bridge(dev) ? " [bridge: stays with the host]"
         : pp_vfio_stays(dev)   ? " [host bridge without a driver: stays with the host]"
                                : "");
  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *n = g_ptr_array_index(needs, i);

    if (pp_pci_address_equal(&n->address, &dev->address))
      printf("  %-13s the host needs it: it %s\n", "", n->reason);
  }
}

static int
cmd_list(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) needs = NULL;
  g_autoptr(GArray) groups = g_array_new(FALSE, FALSE, sizeof(gint));
  g_autoptr(json_t) json_groups = NULL;
  int rc;

  rc = host_open(&h, HOST_WITH_NAMES);
  if (rc != PP_EXIT_OK)
    return rc;
  needs = host_needs(&h);

  /* The groups in order of their number; devices without one last (-1). */
  for (guint i = 0; i < h.devices->len; i++) {
    gint g = ((PpPciDevice *)g_ptr_array_index(h.devices, i))->iommu_group;
    gboolean seen = FALSE;

    for (guint j = 0; j < groups->len && !seen; j++)
      seen = g_array_index(groups, gint, j) == g;
    if (!seen)
      g_array_append_val(groups, g);
  }
  for (guint i = 0; i < groups->len; i++)
    for (guint j = i + 1; j < groups->len; j++) {
      gint a = g_array_index(groups, gint, i), b = g_array_index(groups, gint, j);

      if ((a < 0 && b >= 0) || (a >= 0 && b >= 0 && b < a)) {
        g_array_index(groups, gint, i) = b;
        g_array_index(groups, gint, j) = a;
      }
    }

  if (opt.json)
    json_groups = json_array();
  for (guint i = 0; i < groups->len; i++) {
    gint group = g_array_index(groups, gint, i);
    g_autoptr(GPtrArray) members = g_ptr_array_new();
    g_autofree char *verdict = NULL;
    gboolean ok;

    for (guint d = 0; d < h.devices->len; d++) {
      PpPciDevice *dev = g_ptr_array_index(h.devices, d);

      if (dev->iommu_group == group)
        g_ptr_array_add(members, dev);
    }
    ok = group_verdict(members, needs, group, &verdict);
    if (opt.json) {
      g_autoptr(json_t) devs = json_array();

      for (guint m = 0; m < members->len && devs != NULL; m++)
        if (!pp_json_append(devs, device_json(g_ptr_array_index(members, m), needs)))
          g_clear_pointer(&devs, json_decref);
      if (json_groups != NULL &&
          !pp_json_append(json_groups,
                          json_pack("{s:o, s:b, s:o, s:o}", "iommu_group",
                                    group >= 0 ? json_integer(group) : json_null(), "passthrough",
                                    ok, "verdict", pp_json_text(verdict), "devices",
                                    g_steal_pointer(&devs))))
        g_clear_pointer(&json_groups, json_decref);
      continue;
    }
    if (group >= 0)
      printf("IOMMU group %d: %s\n", group, verdict);
    else
      printf("No IOMMU group: %s\n", verdict);
    for (guint m = 0; m < members->len; m++)
      print_device(g_ptr_array_index(members, m), needs);
  }
  if (opt.json)
    return pp_print_json(json_pack("{s:o}", "groups", g_steal_pointer(&json_groups)));
  return fflush(stdout) == 0 ? PP_EXIT_OK : PP_EXIT_RUNTIME;
}

/* ------------------------------------------------------------------------ */
/* bind, unbind, boot                                                        */
/* ------------------------------------------------------------------------ */

static void
print_plan(GPtrArray *plan, const char *sysfs_root)
{
  for (guint i = 0; i < plan->len; i++) {
    const PpVfioStep *step = g_ptr_array_index(plan, i);

    if (step->kind == PP_VFIO_STEP_WRITE) {
      g_autofree char *value = g_strescape(step->value, NULL);

      printf("write '%s' to %s/%s\n", value, sysfs_root, step->path);
    } else if (step->kind == PP_VFIO_STEP_LOAD_MODULE) {
      printf("load the module %s\n", step->value);
    }
  }
}

static json_t *
plan_json(GPtrArray *plan, const char *sysfs_root)
{
  g_autoptr(json_t) array = json_array();

  for (guint i = 0; i < plan->len; i++) {
    const PpVfioStep *step = g_ptr_array_index(plan, i);
    json_t *item = NULL;

    if (step->kind == PP_VFIO_STEP_WRITE) {
      g_autofree char *path = g_build_filename(sysfs_root, step->path, NULL);

      item = json_pack("{s:s, s:o, s:o}", "action", "write", "path", pp_json_text(path), "value",
                       pp_json_text(step->value));
    } else if (step->kind == PP_VFIO_STEP_LOAD_MODULE) {
      item = json_pack("{s:s, s:o}", "action", "load", "module", pp_json_text(step->value));
    } else {
      continue;
    }
    if (!pp_json_append(array, item))
      return NULL;
  }
  return g_steal_pointer(&array);
}

static json_t *
strings_json(GPtrArray *strings)
{
  g_autoptr(json_t) array = json_array();

  for (guint i = 0; i < strings->len; i++)
    if (!pp_json_append(array, pp_json_text(g_ptr_array_index(strings, i))))
      return NULL;
  return g_steal_pointer(&array);
}

/* What vfio-pci must not be given, whatever --force says about the guard:
 * devices that stay with the host, said as the guard says what they are.
 * And, unless --force, PFs whose VFs are enabled. Returns the reason, or
 * NULL. */
static char *
refuse_kind(const Host *h, GPtrArray *requested, GPtrArray *targets)
{
  for (guint i = 0; i < requested->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(requested, i);
    g_autofree char *bdf = bdf_of(dev);
    g_autofree char *what = NULL;

    if (!pp_vfio_stays(dev))
      continue;
    /* Every device that stays is a bridge or a host bridge, which the
     * chipset rule names. */
    what = pp_host_needs_chipset(h->sys, dev);
    if (what == NULL)
      what = g_strdup("stays with the host");
    if (pp_vfio_is_bridge(dev))
      return g_strdup_printf("%s %s: bridges stay with the host (vfio-pci takes endpoints); give "
                             "the devices behind it",
                             bdf, what);
    return g_strdup_printf("%s %s: it stays with the host", bdf, what);
  }
  for (guint i = 0; i < targets->len && !opt.force; i++) {
    const PpPciDevice *dev = g_ptr_array_index(targets, i);
    g_autofree char *bdf = bdf_of(dev);

    if (dev->sriov == PP_SRIOV_PF && dev->sriov_numvfs > 0)
      return g_strdup_printf("%s has %u VFs enabled, which taking it from %s would remove; pass "
                             "its VFs, or first write 0 to its sriov_numvfs (--force binds it "
                             "anyway)",
                             bdf, dev->sriov_numvfs, dev->driver ? dev->driver : "its driver");
  }
  return NULL;
}

/* The addresses of @missing as errors; returns PP_EXIT_RUNTIME when there
 * are any, else @rc. */
static int
say_missing(const Host *h, GPtrArray *missing, int rc)
{
  for (guint i = 0; missing != NULL && i < missing->len; i++)
    pp_say_error("%s, listed in /%s, is not on this host (under '%s'); the others were bound",
                 (char *)g_ptr_array_index(missing, i), PP_VFIO_CONFIG_SYSCONFIG, h->root);
  return missing != NULL && missing->len > 0 && rc == PP_EXIT_OK ? PP_EXIT_RUNTIME : rc;
}

/* Binds @requested, their groups whole; the guard first. @missing:
 * (nullable): addresses asked for that are not there (boot), reported
 * after the others are bound. */
static int
bind_devices(Host *h, GPtrArray *requested, GPtrArray *missing)
{
  g_autoptr(GPtrArray) none = g_ptr_array_new();
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) targets = expand_groups(h, requested, added);
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVfio) vfio = NULL;
  g_autoptr(GPtrArray) plan = NULL;
  g_autofree char *sysfs_root = g_build_filename(h->root, "sys", NULL);
  int rc;

  {
    g_autofree char *why = refuse_kind(h, requested, targets);

    if (why != NULL) {
      pp_say_error("refusing to bind: %s", why);
      return PP_EXIT_USAGE;
    }
  }
  if (!opt.force) {
    g_autoptr(GPtrArray) needs = host_needs(h);
    g_autofree char *why = pp_host_needs_refuse(needs, targets, requested);

    if (why != NULL) {
      pp_say_error("refusing to bind: %s (--force binds it anyway)", why);
      return PP_EXIT_USAGE;
    }
  }
  for (guint i = 0; i < targets->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(targets, i);

    if (dev->iommu_group < 0) {
      g_autofree char *bdf = bdf_of(dev);

      pp_say_error("%s has no IOMMU group: the IOMMU is off, and vfio-pci needs it "
                   "(pcipass-vfio check says what to do)",
                   bdf);
      return PP_EXIT_RUNTIME;
    }
  }

  rc = open_vfio(h, h->real ? PP_VFIO_LOAD_MODULES : PP_VFIO_NONE, &vfio);
  if (rc != PP_EXIT_OK)
    return rc;
  plan = pp_vfio_plan_bind_all(vfio, targets);

  if (missing == NULL)
    missing = none;
  if (opt.dry_run) {
    if (opt.json)
      return say_missing(
          h, missing,
          pp_print_json(json_pack("{s:o, s:o, s:o}", "also", strings_json(added), "writes",
                                  plan_json(plan, sysfs_root), "missing", strings_json(missing))));
    for (guint i = 0; i < added->len; i++)
      printf("# %s\n", (char *)g_ptr_array_index(added, i));
    print_plan(plan, sysfs_root);
    if (plan->len == 0)
      printf("# nothing to do: already on vfio-pci\n");
    return say_missing(h, missing, PP_EXIT_OK);
  }

  for (guint i = 0; i < added->len && !opt.json; i++)
    printf("%s\n", (char *)g_ptr_array_index(added, i));
  if (!pp_vfio_execute(vfio, plan, done, &error)) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  for (guint i = 0; i < targets->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(targets, i);
    g_autofree char *node = g_strdup_printf("/dev/vfio/%d", dev->iommu_group);

    if (!g_ptr_array_find_with_equal_func(nodes, node, g_str_equal, NULL))
      g_ptr_array_add(nodes, g_steal_pointer(&node));
  }
  if (opt.json)
    return say_missing(
        h, missing,
        pp_print_json(json_pack("{s:o, s:o, s:o, s:o}", "also", strings_json(added), "changed",
                                strings_json(done), "vfio_nodes", strings_json(nodes), "missing",
                                strings_json(missing))));
  for (guint i = 0; i < done->len; i++)
    printf("%s\n", (char *)g_ptr_array_index(done, i));
  if (done->len == 0 && targets->len > 0)
    printf("nothing to do: already on vfio-pci\n");
  for (guint i = 0; i < nodes->len; i++)
    printf("%s is ready for QEMU\n", (char *)g_ptr_array_index(nodes, i));
  if (fflush(stdout) != 0)
    return PP_EXIT_RUNTIME;
  return say_missing(h, missing, PP_EXIT_OK);
}

static int
cmd_bind(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) requested = NULL;
  int rc;

  rc = host_open(&h, HOST_WITH_NAMES);
  if (rc != PP_EXIT_OK)
    return rc;
  requested = resolve(&h, argv + 1, NULL);
  if (requested == NULL)
    return PP_EXIT_USAGE;
  return bind_devices(&h, requested, NULL);
}

/* "/dev/vfio/23 is open in pid 4242 (qemu-system-x86)" for the groups of
 * @targets that are on vfio-pci and held; NULL when none is. */
static char *
group_users_text(Host *h, GPtrArray *targets)
{
  g_autoptr(GString) why = g_string_new(NULL);
  g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(gint));

  for (guint i = 0; i < targets->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(targets, i);
    g_autoptr(GPtrArray) users = NULL;
    gboolean done = FALSE;

    if (dev->iommu_group < 0 || g_strcmp0(dev->driver, PP_VFIO_DRIVER) != 0)
      continue;
    for (guint j = 0; j < seen->len && !done; j++)
      done = g_array_index(seen, gint, j) == dev->iommu_group;
    if (done)
      continue;
    g_array_append_val(seen, dev->iommu_group);
    users = pp_vfio_group_users(h->proc, dev->iommu_group);
    for (guint u = 0; u < users->len; u++)
      g_string_append_printf(why, "%s/dev/vfio/%d is open in %s", why->len ? "; " : "",
                             dev->iommu_group, (char *)g_ptr_array_index(users, u));
  }
  return why->len ? g_string_free(g_steal_pointer(&why), FALSE) : NULL;
}

static int
cmd_unbind(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) requested = NULL;
  g_autoptr(GPtrArray) targets = g_ptr_array_new();
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) failures = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) also = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(PpVfio) vfio = NULL;
  g_autofree char *sysfs_root = NULL;
  int rc;

  rc = host_open(&h, HOST_WITH_NAMES);
  if (rc != PP_EXIT_OK)
    return rc;
  requested = resolve(&h, argv + 1, NULL);
  if (requested == NULL)
    return PP_EXIT_USAGE;
  sysfs_root = g_build_filename(h.root, "sys", NULL);
  rc = open_vfio(&h, h.real ? PP_VFIO_LOAD_MODULES : PP_VFIO_NONE, &vfio);
  if (rc != PP_EXIT_OK)
    return rc;

  /* The group goes back whole: its other members on vfio-pci too. */
  {
    g_autoptr(GPtrArray) members = expand_groups(&h, requested, NULL);

    for (guint i = 0; i < members->len; i++) {
      PpPciDevice *dev = g_ptr_array_index(members, i);
      g_autofree char *bdf = bdf_of(dev);

      if (g_ptr_array_find(requested, dev, NULL)) {
        g_ptr_array_add(targets, dev);
      } else if (g_strcmp0(dev->driver, PP_VFIO_DRIVER) == 0) {
        g_ptr_array_add(targets, dev);
        g_ptr_array_add(also, g_strdup_printf("%s shares IOMMU group %d: it goes back too", bdf,
                                              dev->iommu_group));
      }
    }
  }

  /* A VM that holds the group would hold the kernel's unbind until it
   * lets go: say so rather than hang. */
  if (!opt.force && h.proc != NULL) {
    g_autofree char *why = group_users_text(&h, targets);

    if (why != NULL) {
      pp_say_error("refusing to unbind: %s; shut the VM down, or detach the device from it, first "
                   "(--force unbinds anyway, and waits until the group is let go)",
                   why);
      return PP_EXIT_RUNTIME;
    }
  }

  if (opt.dry_run) {
    g_autoptr(GPtrArray) plan = pp_vfio_plan_restore_all(vfio, targets);

    if (opt.json)
      return pp_print_json(json_pack("{s:o, s:o}", "also", strings_json(also), "writes",
                                     plan_json(plan, sysfs_root)));
    for (guint i = 0; i < also->len; i++)
      printf("# %s\n", (char *)g_ptr_array_index(also, i));
    print_plan(plan, sysfs_root);
    return PP_EXIT_OK;
  }

  for (guint i = 0; i < also->len && !opt.json; i++)
    printf("%s\n", (char *)g_ptr_array_index(also, i));
  /* One device at a time: one that fails does not keep the others. */
  for (guint i = 0; i < targets->len; i++) {
    g_autoptr(GPtrArray) one = g_ptr_array_new();
    g_autoptr(GPtrArray) plan = NULL;
    g_autoptr(GError) step_error = NULL;

    g_ptr_array_add(one, g_ptr_array_index(targets, i));
    plan = pp_vfio_plan_restore_all(vfio, one);
    if (!pp_vfio_execute(vfio, plan, done, &step_error))
      g_ptr_array_add(failures, g_strdup(step_error->message));
  }
  if (opt.json) {
    rc = pp_print_json(json_pack("{s:o, s:o, s:o}", "also", strings_json(also), "changed",
                                 strings_json(done), "failed", strings_json(failures)));
  } else {
    for (guint i = 0; i < done->len; i++)
      printf("%s\n", (char *)g_ptr_array_index(done, i));
    if (done->len == 0 && failures->len == 0)
      printf("nothing to do: not on vfio-pci\n");
  }
  for (guint i = 0; i < failures->len; i++)
    pp_say_error("%s", (char *)g_ptr_array_index(failures, i));
  if (rc != PP_EXIT_OK)
    return rc;
  return failures->len > 0 ? PP_EXIT_RUNTIME : PP_EXIT_OK;
}

/* DEVICES="..." of a sysconfig file (shell variable syntax, one level). */
static char **
sysconfig_devices(const char *text, GError **error)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  char **devices = NULL;

  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip(lines[i]);
    g_autofree char *value = NULL;
    g_autoptr(GError) parse_error = NULL;

    if (!g_str_has_prefix(line, "DEVICES="))
      continue;
    value = g_shell_unquote(line + strlen("DEVICES="), &parse_error);
    if (value == NULL || strpbrk(value, "$`") != NULL) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                  "line %u: DEVICES is not a plain list of addresses%s%s", i + 1,
                  parse_error ? ": " : "", parse_error ? parse_error->message : "");
      g_strfreev(devices);
      return NULL;
    }
    g_strfreev(devices);
    devices = g_strsplit_set(value, " \t", -1);
  }
  return devices != NULL ? devices : g_new0(char *, 1);
}

/* boot with nothing to bind: said in words, or as bind's JSON. */
static int
boot_nothing(const char *why)
{
  if (opt.json)
    return pp_print_json(json_pack("{s:[], s:[], s:[], s:[], s:s}", "also", "changed", "vfio_nodes",
                                   "missing", "nothing_to_do", why));
  printf("nothing to do: %s\n", why);
  return fflush(stdout) == 0 ? PP_EXIT_OK : PP_EXIT_RUNTIME;
}

static int
cmd_boot(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) requested = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto(GStrv) devices = NULL;
  gboolean any = FALSE;
  int rc;

  rc = host_open(&h, HOST_WITH_NAMES);
  if (rc != PP_EXIT_OK)
    return rc;
  text = pp_sysfs_read_text(h.rootfs, PP_VFIO_CONFIG_SYSCONFIG, 1024 * 1024, &error);
  if (text == NULL) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
      g_autofree char *why = g_strdup_printf("no /%s", PP_VFIO_CONFIG_SYSCONFIG);

      return boot_nothing(why);
    }
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  devices = sysconfig_devices(text, &error);
  if (devices == NULL) {
    pp_say_error("/%s: %s", PP_VFIO_CONFIG_SYSCONFIG, error->message);
    return PP_EXIT_USAGE;
  }
  for (guint i = 0; devices[i] != NULL; i++)
    any |= devices[i][0] != '\0';
  if (!any) {
    g_autofree char *why = g_strdup_printf("/%s lists no device", PP_VFIO_CONFIG_SYSCONFIG);

    return boot_nothing(why);
  }
  /* A card taken out keeps none of the others from vfio-pci. */
  requested = resolve(&h, devices, missing);
  if (requested == NULL)
    return PP_EXIT_USAGE;
  return bind_devices(&h, requested, missing);
}

/* ------------------------------------------------------------------------ */
/* config                                                                     */
/* ------------------------------------------------------------------------ */

/* A configuration file, exactly as it is: it may be written back. NULL
 * when it is not there, and when it cannot be read, with @error set. */
static char *
read_root_file(const Host *h, const char *path, GError **error)
{
  return pp_sysfs_read_file(h->rootfs, path, 16 * 1024 * 1024, error);
}

static gboolean
root_has(const Host *h, const char *path)
{
  struct stat st;

  return pp_sysfs_stat(h->rootfs, path, &st) == 0;
}

/* Writes the new text below the root (never through a link, never out of
 * it), the old file kept beside it as FILE.pcipass-DATE.bak. */
static gboolean
write_config(const Host *h, const PpConfigFile *f, char **ret_backup, GError **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
  g_autofree char *base = g_path_get_basename(f->path);
  g_autofree char *backup = g_strdup_printf("%s.pcipass-%s.bak", base, stamp);

  if (!pp_sysfs_replace(h->rootfs, f->path, f->new_text, strlen(f->new_text),
                        f->old_text ? backup : NULL, error))
    return FALSE;
  if (f->old_text != NULL) {
    g_autofree char *dir = g_path_get_dirname(f->path);

    *ret_backup = g_strdup_printf("/%s/%s", dir, backup);
  }
  return TRUE;
}

static int
cmd_config(int argc, char **argv)
{
  g_auto(Host) h = { 0 };
  g_autoptr(GPtrArray) requested = NULL;
  g_autoptr(GPtrArray) targets = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GHashTable) kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) texts = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GHashTable) unreadable = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GArray) devs = g_array_new(FALSE, FALSE, sizeof(PpConfigDevice));
  g_autoptr(PpVfio) vfio = NULL;
  g_autoptr(PpKmod) kmod = NULL;
  g_auto(GStrv) params = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  static const char *const paths[] = { PP_VFIO_CONFIG_GRUB,     PP_VFIO_CONFIG_INITRAMFS,
                                       PP_VFIO_CONFIG_MODPROBE, PP_VFIO_CONFIG_SYSCONFIG,
                                       PP_VFIO_CONFIG_QEMU,     PP_VFIO_CONFIG_DRACUT };
  PpVfioConfigInput in = { 0 };
  gboolean failed = FALSE;
  g_autoptr(json_t) json_files = NULL;
  int rc;

  rc = host_open(&h, HOST_WITH_NAMES);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opt.devices == NULL) {
    pp_say_error("config needs --devices ADDR... (try --help)");
    return PP_EXIT_USAGE;
  }
  requested = resolve(&h, opt.devices, NULL);
  if (requested == NULL)
    return PP_EXIT_USAGE;
  targets = expand_groups(&h, requested, NULL);
  {
    g_autofree char *why = refuse_kind(&h, requested, targets);

    if (why != NULL) {
      pp_say_error("refusing to configure: %s", why);
      return PP_EXIT_USAGE;
    }
  }
  if (!opt.force) {
    g_autoptr(GPtrArray) needs = host_needs(&h);
    g_autofree char *why = pp_host_needs_refuse(needs, targets, requested);

    if (why != NULL) {
      pp_say_error("refusing to configure: %s (--force configures it anyway)", why);
      return PP_EXIT_USAGE;
    }
  }
  rc = open_vfio(&h, PP_VFIO_NONE, &vfio);
  if (rc != PP_EXIT_OK)
    return rc;

  /* Each device's module: the one its driver is, or, on vfio-pci, the one
   * it had (the state file's), or what modules.alias says for it: the same
   * before and after the reboot that blacklists it. A device counts as
   * staying with the host when it is bound and is not passed through. */
  kmod = pp_kmod_open(h.rootfs, h.facts->kernel_version);
  for (guint i = 0; i < h.devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(h.devices, i);
    g_autofree char *recorded = pp_vfio_get_recorded(vfio, &dev->address);
    gboolean on_vfio = g_strcmp0(dev->driver, PP_VFIO_DRIVER) == 0;
    g_autofree char *module = pp_kmod_module_of(kmod, h.sys, dev, on_vfio ? recorded : dev->driver);

    if (g_ptr_array_find(targets, dev, NULL)) {
      PpConfigDevice d = { dev->address, g_strdup(module),
                           module != NULL && pp_kmod_is_builtin(kmod, module), dev->iommu_group };

      g_array_append_val(devs, d);
    } else if (dev->driver != NULL && !on_vfio && module != NULL &&
               !g_hash_table_contains(kept, module)) {
      g_hash_table_insert(kept, g_steal_pointer(&module), bdf_of(dev));
    }
  }

  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autoptr(GError) read_error = NULL;
    char *text = read_root_file(&h, paths[i], &read_error);

    if (text != NULL)
      g_hash_table_insert(texts, (gpointer)paths[i], text);
    else if (!g_error_matches(read_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
      g_hash_table_insert(unreadable, (gpointer)paths[i], g_strdup(read_error->message));
  }
  in.iommu_vendor = pp_iommu_vendor(h.sys, h.proc);
  in.devices = devs;
  in.module_kept = kept;
  in.has_vfio_virqfd = pp_kmod_exists(kmod, "vfio_virqfd");
  in.has_dracut = root_has(&h, "etc/dracut.conf.d");
  in.has_initramfs_tools = root_has(&h, "etc/initramfs-tools");
  in.texts = texts;
  files = pp_vfio_config_generate(&in, &params, &warnings);
  for (guint i = 0; i < devs->len; i++)
    g_free(g_array_index(devs, PpConfigDevice, i).module);

  if (opt.json)
    json_files = json_array();
  for (guint i = 0; i < files->len; i++) {
    const PpConfigFile *f = g_ptr_array_index(files, i);
    g_autofree char *shown = g_strdup_printf("/%s", f->path);
    g_autofree char *diff = NULL;
    g_autofree char *backup = NULL;
    g_autoptr(GError) write_error = NULL;
    const char *why_not = g_hash_table_lookup(unreadable, f->path); /* "error" */
    const char *skipped = NULL;
    const char *status;

    if (why_not == NULL && f->error != NULL)
      why_not = f->error;
    if (why_not != NULL) {
      failed = TRUE;
      status = "error";
      if (!opt.json)
        printf("# /%s is left alone: %s\n", f->path, why_not);
      else
        pp_say_error("/%s is left alone: %s", f->path, why_not);
    } else if (f->skipped != NULL) {
      /* Nothing to do here, and the administrator told why: the file is
       * already right, or what it configures is not on this host. */
      skipped = f->skipped;
      status = f->new_text != NULL ? "unchanged" : "skipped";
      if (!opt.json)
        printf("# skipped /%s: %s\n", f->path, skipped);
    } else {
      diff = pp_diff_unified(f->old_text, f->new_text, shown);
      status = diff[0] == '\0' ? "unchanged" : f->old_text ? "changed" : "new";
      if (!opt.json)
        fputs(diff[0] ? diff : "", stdout);
      if (opt.write && diff[0] != '\0') {
        if (!write_config(&h, f, &backup, &write_error)) {
          pp_say_error("cannot write /%s: %s", f->path, write_error->message);
          failed = TRUE;
          status = "error";
          why_not = write_error->message;
        } else if (!opt.json) {
          printf("# wrote /%s%s%s\n", f->path, backup ? ", the old one kept as " : "",
                 backup ? backup : "");
        }
      }
    }
    if (json_files != NULL &&
        !pp_json_append(json_files,
                        json_pack("{s:o, s:s, s:o, s:o, s:o, s:o}", "path", pp_json_text(shown),
                                  "status", status, "diff", pp_json_text(diff), "error",
                                  pp_json_text(why_not), "skipped", pp_json_text(skipped), "backup",
                                  pp_json_text(backup))))
      g_clear_pointer(&json_files, json_decref);
  }
  if (opt.json) {
    g_autoptr(GPtrArray) kparams = g_ptr_array_new();

    for (guint i = 0; params[i] != NULL; i++)
      g_ptr_array_add(kparams, params[i]);
    rc = pp_print_json(json_pack("{s:o, s:o, s:o, s:b}", "files", g_steal_pointer(&json_files),
                                 "kernel_parameters", strings_json(kparams), "warnings",
                                 strings_json(warnings), "written", opt.write));
    return rc != PP_EXIT_OK ? rc : failed ? PP_EXIT_RUNTIME : PP_EXIT_OK;
  }
  {
    g_autofree char *joined = g_strjoinv(" ", params);

    for (guint i = 0; i < warnings->len; i++)
      printf("# warning: %s\n", (char *)g_ptr_array_index(warnings, i));
    printf("# kernel parameters: %s\n", joined);
    if (!g_hash_table_contains(texts, PP_VFIO_CONFIG_GRUB))
      printf("# no /%s: add the kernel parameters to the boot loader by hand (RHEL: grubby "
             "--update-kernel=ALL --args='%s'; systemd-boot and Proxmox: /etc/kernel/cmdline, "
             "then proxmox-boot-tool refresh or kernel-install)\n",
             PP_VFIO_CONFIG_GRUB, joined);
    if (!opt.write)
      printf("# nothing written: --write applies the changes above, keeping backups\n");
    else
      printf("# then: update-grub; update-initramfs -u (or dracut --force); "
             "systemctl enable pcipass-vfio; systemctl restart libvirtd; reboot\n");
  }
  return failed ? PP_EXIT_RUNTIME : PP_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* main                                                                       */
/* ------------------------------------------------------------------------ */

static const GOptionEntry common_entries[] = {
  { "root", 'r', 0, G_OPTION_ARG_FILENAME, &opt.root,
    "Find sys/, proc/, etc/, dev/ and lib/ below DIR (default /)", "DIR" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json, "Print JSON", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Print debug messages on stderr", NULL },
  { NULL }
};

static const GOptionEntry bind_entries[] = {
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt.dry_run,
    "Print the sysfs writes instead of making them", NULL },
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt.force,
    "Bind a device the host needs (disk, network, console); unbind a group a VM holds", NULL },
  { "wait", 'w', 0, G_OPTION_ARG_DOUBLE, &opt.wait,
    "Seconds the kernel may take to bind or unbind a device (default 5)", "SECONDS" },
  { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &opt.state_file,
    "Where the devices' drivers are remembered (default ROOT/" DEFAULT_STATE ")", "FILE" },
  { NULL }
};

static const GOptionEntry config_entries[] = {
  { "devices", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &opt.devices,
    "A device to pass through (repeat, or separate with commas)", "ADDR" },
  { "write", 0, 0, G_OPTION_ARG_NONE, &opt.write,
    "Write the files, keeping each old one as FILE.pcipass-DATE.bak", NULL },
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt.force, "Configure even a device the host needs",
    NULL },
  { "state-file", 0, 0, G_OPTION_ARG_FILENAME, &opt.state_file,
    "Where bound devices' drivers are remembered (default ROOT/" DEFAULT_STATE ")", "FILE" },
  { NULL }
};

/* The commands.
 *   name     the first argument
 *   args     for the usage line
 *   summary  for --help
 *   entries  the command's own options, besides --root, --json, --verbose
 *   run      the handler; argv[0] is the command, then its arguments
 */
static const struct {
  const char *name;
  const char *args;
  const char *summary;
  const GOptionEntry *entries;
  int (*run)(int argc, char **argv);
} commands[] = {
  { "check", "", "is this host ready for passthrough? one line per check (exit 1 on a failure)",
    NULL, cmd_check },
  { "list", "", "devices by IOMMU group: can each group be passed through?", NULL, cmd_list },
  { "bind", "ADDR...", "bind devices to vfio-pci by address, their IOMMU groups whole",
    bind_entries, cmd_bind },
  { "unbind", "ADDR...", "give devices back to the driver each had", bind_entries, cmd_unbind },
  { "restore", "ADDR...", "the same as unbind", bind_entries, cmd_unbind },
  { "boot", "", "bind the devices of /etc/sysconfig/pcipass-vfio (pcipass-vfio.service)",
    bind_entries, cmd_boot },
  { "config", "--devices ADDR... [--write]",
    "the guide's host configuration for those devices, as a diff", config_entries, cmd_config },
};

static void
print_usage(FILE *out)
{
  fprintf(out, "Usage: pcipass-vfio COMMAND [OPTION...] [ARG...]\n\n"
               "Prepares a KVM host's PCI devices for passthrough (VFIO).\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *left = g_strdup_printf("%s %s", commands[i].name, commands[i].args);

    fprintf(out, "  %-36s %s\n", left, commands[i].summary);
  }
  fprintf(out, "\nEvery command takes --root DIR, --json and --help. bind, unbind and boot\n"
               "change the host: they need root and a real IOMMU. See pcipass-vfio(8).\n"
               "Exit status: 0 success, 1 runtime failure (or a failed check), 2 bad usage.\n");
}

int
main(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *usage = NULL;
  guint c;

  g_set_prgname("pcipass-vfio");
  /* stdout is the program's output: GLib's info and debug lines go to
   * stderr, like its warnings (G_MESSAGES_DEBUG set by a caller). */
  g_log_writer_default_set_use_stderr(TRUE);
  if (argc < 2) {
    print_usage(stderr);
    return PP_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_usage(stdout);
    return PP_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("pcipass-vfio %s\n", PACKAGE_VERSION);
    return PP_EXIT_OK;
  }
  for (c = 0; c < G_N_ELEMENTS(commands); c++)
    if (strcmp(argv[1], commands[c].name) == 0)
      break;
  if (c == G_N_ELEMENTS(commands)) {
    pp_say_error("unknown command '%s' (try pcipass-vfio --help)", argv[1]);
    return PP_EXIT_USAGE;
  }

  usage = g_strdup_printf("%s %s", commands[c].name, commands[c].args);
  context = g_option_context_new(usage);
  g_option_context_set_summary(context, commands[c].summary);
  g_option_context_add_main_entries(context, common_entries, NULL);
  if (commands[c].entries != NULL)
    g_option_context_add_main_entries(context, commands[c].entries, NULL);
  /* GOption sees "pcipass-vfio COMMAND" as the program. */
  argv[1] = argv[0];
  argc--;
  argv++;
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    pp_say_error("%s (try pcipass-vfio %s --help)", error->message, commands[c].name);
    return PP_EXIT_USAGE;
  }
  if (opt.verbose)
    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
  if (!(opt.wait >= 0 && opt.wait <= 600)) { /* NaN too */
    pp_say_error("--wait must be between 0 and 600 seconds");
    return PP_EXIT_USAGE;
  }

  /* Only bind and unbind take arguments; config takes --devices. */
  if (argc > 1 && commands[c].run != cmd_bind && commands[c].run != cmd_unbind) {
    pp_say_error("%s takes no argument '%s'%s", commands[c].name, argv[1],
                 commands[c].run == cmd_config ? " (give devices with --devices)" : "");
    return PP_EXIT_USAGE;
  }
  return commands[c].run(argc, argv);
}
