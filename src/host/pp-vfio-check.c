#define G_LOG_DOMAIN "pp-vfio-check"

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pp-kmod.h"
#include "pp-libvirt-conf.h"
#include "pp-pci-device.h"
#include "pp-vfio-check.h"
#include "pp-vfio-config.h"
#include "pp-vfio-plan.h"

/* modules.dep of a distribution kernel is about 1 MiB. */
#define TEXT_MAX (16 * 1024 * 1024)

typedef void (*CheckFunc)(const PpCheckHost *host, PpCheckResult *result);

const char *
pp_check_status_to_string(PpCheckStatus status)
{
  static const char *const names[_PP_CHECK_MAX] = {
    [PP_CHECK_OK] = "ok",
    [PP_CHECK_WARN] = "warn",
    [PP_CHECK_FAIL] = "fail",
  };

  g_return_val_if_fail(status < _PP_CHECK_MAX, NULL);
  return names[status];
}

static void set(PpCheckResult *r, PpCheckStatus status, const char *fix, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* Sets the result; @fix is copied. */
static void
set(PpCheckResult *r, PpCheckStatus status, const char *fix, const char *format, ...)
{
  va_list args;

  r->status = status;
  g_free(r->message);
  va_start(args, format);
  r->message = g_strdup_vprintf(format, args);
  va_end(args);
  g_free(r->fix);
  r->fix = g_strdup(fix);
}

static char *
read_text(PpSysfs *tree, const char *path)
{
  return tree != NULL ? pp_sysfs_read_text(tree, path, TEXT_MAX, NULL) : NULL;
}

static guint
count_groups(const PpCheckHost *host)
{
  g_autoptr(GPtrArray) groups = pp_sysfs_list(host->sys, "kernel/iommu_groups", NULL);

  return groups != NULL ? groups->len : 0;
}

const char *
pp_iommu_vendor(PpSysfs *sys, PpSysfs *proc)
{
  g_autofree char *cpuinfo = NULL;
  struct stat st;

  g_return_val_if_fail(sys != NULL, NULL);

  if (pp_sysfs_stat(sys, "firmware/acpi/tables/DMAR", &st) == 0)
    return "intel";
  if (pp_sysfs_stat(sys, "firmware/acpi/tables/IVRS", &st) == 0)
    return "amd";
  cpuinfo = read_text(proc, "cpuinfo");
  if (cpuinfo != NULL && strstr(cpuinfo, "GenuineIntel") != NULL)
    return "intel";
  if (cpuinfo != NULL && strstr(cpuinfo, "AuthenticAMD") != NULL)
    return "amd";
  return NULL;
}

static gboolean
cmdline_has(const char *cmdline, const char *param)
{
  g_auto(GStrv) words = g_strsplit_set(cmdline ? cmdline : "", " \t\n", -1);

  return g_strv_contains((const char *const *)words, param);
}

static void
check_firmware(const PpCheckHost *host, PpCheckResult *r)
{
  struct stat st;

  if (pp_sysfs_stat(host->sys, "firmware/acpi/tables/DMAR", &st) == 0)
    set(r, PP_CHECK_OK, NULL, "the firmware describes an Intel VT-d IOMMU (DMAR table)");
  else if (pp_sysfs_stat(host->sys, "firmware/acpi/tables/IVRS", &st) == 0)
    set(r, PP_CHECK_OK, NULL, "the firmware describes an AMD-Vi IOMMU (IVRS table)");
  else
    set(r, PP_CHECK_FAIL,
        "turn on VT-d (Intel) or AMD-Vi / IOMMU in the firmware setup, then reboot",
        "no DMAR or IVRS ACPI table: the firmware describes no IOMMU");
}

static void
check_groups(const PpCheckHost *host, PpCheckResult *r)
{
  guint n = count_groups(host);

  if (n > 0)
    set(r, PP_CHECK_OK, NULL, "%u IOMMU groups in /sys/kernel/iommu_groups", n);
  else
    set(r, PP_CHECK_FAIL,
        "add intel_iommu=on (or amd_iommu=on) iommu=pt to the kernel command line and reboot "
        "(pcipass-vfio config --write does it)",
        "/sys/kernel/iommu_groups is empty: the kernel runs without an IOMMU");
}

static void
check_cmdline(const PpCheckHost *host, PpCheckResult *r)
{
  g_autofree char *cmdline = read_text(host->proc, "cmdline");
  const char *vendor = pp_iommu_vendor(host->sys, host->proc);
  const char *fix = "add it to the kernel command line and reboot (pcipass-vfio config --write)";

  if (cmdline == NULL) {
    set(r, PP_CHECK_WARN, NULL, "cannot read /proc/cmdline");
  } else if (g_strcmp0(vendor, "amd") == 0) {
    if (cmdline_has(cmdline, "amd_iommu=off") || cmdline_has(cmdline, "iommu=off"))
      set(r, PP_CHECK_FAIL, "remove it from the kernel command line and reboot",
          "the kernel command line turns the AMD IOMMU off");
    else if (count_groups(host) > 0)
      set(r, PP_CHECK_OK, NULL, "the AMD IOMMU is on (amd_iommu is not off)");
    else
      set(r, PP_CHECK_FAIL,
          "turn on the IOMMU (AMD-Vi) in the firmware setup; the kernel uses it unless told "
          "amd_iommu=off",
          "the AMD IOMMU is not on");
  } else if (cmdline_has(cmdline, "intel_iommu=on")) {
    set(r, PP_CHECK_OK, NULL, "intel_iommu=on is on the kernel command line");
  } else if (count_groups(host) > 0) {
    set(r, PP_CHECK_OK, NULL,
        "intel_iommu=on is not on the command line, but this kernel turns the IOMMU on");
  } else {
    set(r, PP_CHECK_FAIL, fix, "intel_iommu=on is not on the kernel command line");
  }
}

static void
check_interrupt_remapping(const PpCheckHost *host, PpCheckResult *r)
{
  g_autofree char *interrupts = read_text(host->proc, "interrupts");
  g_autofree char *unsafe = pp_sysfs_read_string(
      host->sys, "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", NULL);

  if (interrupts == NULL)
    set(r, PP_CHECK_WARN, NULL, "cannot read /proc/interrupts to tell");
  else if (strstr(interrupts, "IR-") != NULL)
    set(r, PP_CHECK_OK, NULL, "interrupt remapping is on (IR- interrupt chips)");
  else if (g_strcmp0(unsafe, "Y") == 0)
    set(r, PP_CHECK_WARN, "turn on interrupt remapping (x2APIC) in the firmware setup",
        "interrupt remapping is off, and vfio_iommu_type1 allows unsafe interrupts: a guest "
        "can inject interrupts into the host");
  else
    set(r, PP_CHECK_FAIL,
        "turn on interrupt remapping (x2APIC) in the firmware setup; or, taking the risk, "
        "vfio_iommu_type1.allow_unsafe_interrupts=1",
        "interrupt remapping is off: vfio refuses to assign devices");
}

static gboolean
has_driver_override(const PpCheckHost *host)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *path = NULL;
  struct stat st;

  if (host->devices->len == 0)
    return TRUE;
  pp_pci_address_format(&((PpPciDevice *)g_ptr_array_index(host->devices, 0))->address, bdf);
  path = g_strdup_printf("bus/pci/devices/%s/driver_override", bdf);
  return pp_sysfs_stat(host->sys, path, &st) == 0;
}

static void
check_kernel(const PpCheckHost *host, PpCheckResult *r)
{
  guint64 major = 0, minor = 0;
  g_auto(GStrv) parts = NULL;

  if (host->kernel == NULL) {
    set(r, PP_CHECK_WARN, NULL, "cannot tell the kernel's version");
    return;
  }
  parts = g_strsplit(host->kernel, ".", 3);
  if (parts[0] == NULL || parts[1] == NULL ||
      !g_ascii_string_to_unsigned(parts[0], 10, 0, 1000, &major, NULL)) {
    set(r, PP_CHECK_WARN, NULL, "cannot read the kernel version '%s'", host->kernel);
    return;
  }
  minor = g_ascii_strtoull(parts[1], NULL, 10);
  if (major < 3 || (major == 3 && minor < 12))
    set(r, PP_CHECK_FAIL, "boot a kernel 3.12 or newer", "kernel %s is older than 3.12",
        host->kernel);
  else if (!has_driver_override(host))
    /* Binding by address needs it: 3.16, or a distribution's backport. */
    set(r, PP_CHECK_FAIL, "boot a kernel with driver_override (3.16 or newer)",
        "kernel %s has no driver_override, which binding by address needs", host->kernel);
  else
    set(r, PP_CHECK_OK, NULL, "kernel %s (3.12 or newer, with driver_override)", host->kernel);
}

/* Where each vfio module is: loaded (or built in), available, or missing. */
typedef enum { MOD_LOADED, MOD_AVAILABLE, MOD_MISSING } ModState;

static const char *const vfio_modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };

static ModState
module_state(const PpCheckHost *host, PpKmod *kmod, const char *name)
{
  g_autofree char *sys_path = g_strdup_printf("module/%s", name);
  struct stat st;

  if (pp_sysfs_stat(host->sys, sys_path, &st) == 0 || pp_kmod_is_builtin(kmod, name))
    return MOD_LOADED;
  return pp_kmod_exists(kmod, name) ? MOD_AVAILABLE : MOD_MISSING;
}

static void
check_modules(const PpCheckHost *host, PpCheckResult *r)
{
  g_autoptr(PpKmod) kmod = pp_kmod_open(host->root, host->kernel);
  g_autoptr(GString) loaded = g_string_new(NULL);
  g_autoptr(GString) available = g_string_new(NULL);
  g_autoptr(GString) missing = g_string_new(NULL);
  GString *lists[] = {
    [MOD_LOADED] = loaded, [MOD_AVAILABLE] = available, [MOD_MISSING] = missing
  };

  for (guint i = 0; i < G_N_ELEMENTS(vfio_modules); i++) {
    GString *into = lists[module_state(host, kmod, vfio_modules[i])];

    g_string_append_printf(into, "%s%s", into->len ? ", " : "", vfio_modules[i]);
  }
  if (lists[MOD_MISSING]->len > 0)
    set(r, PP_CHECK_FAIL, "install a kernel built with VFIO (CONFIG_VFIO_PCI)",
        "%s: not loaded, and not among this kernel's modules", lists[MOD_MISSING]->str);
  else if (lists[MOD_AVAILABLE]->len > 0)
    set(r, PP_CHECK_WARN,
        "pcipass-vfio bind loads vfio-pci; to load it at boot, enable pcipass-vfio.service",
        "%s: available, not loaded%s%s", lists[MOD_AVAILABLE]->str,
        lists[MOD_LOADED]->len ? "; loaded: " : "", lists[MOD_LOADED]->str);
  else
    set(r, PP_CHECK_OK, NULL, "loaded: %s", lists[MOD_LOADED]->str);
}

static void
check_dev_vfio(const PpCheckHost *host, PpCheckResult *r)
{
  g_autoptr(PpKmod) kmod = pp_kmod_open(host->root, host->kernel);
  struct stat st;

  if (pp_sysfs_stat(host->root, "dev/vfio/vfio", &st) == 0 && S_ISCHR(st.st_mode))
    set(r, PP_CHECK_OK, NULL, "/dev/vfio/vfio is there");
  else if (module_state(host, kmod, "vfio") == MOD_AVAILABLE)
    /* Not loaded yet: bind loads it, and the node comes with it. */
    set(r, PP_CHECK_WARN, "pcipass-vfio bind loads vfio-pci, which makes it",
        "/dev/vfio/vfio is missing until vfio loads");
  else
    set(r, PP_CHECK_FAIL, "load vfio: modprobe vfio-pci",
        "/dev/vfio/vfio is missing: the vfio module is not loaded");
}

/* The modules pcipass-vfio blacklists (its modprobe.d file) and the kernel
 * command line does; other files' blacklists are the distribution's, whose
 * modules may well be loaded on purpose, as dependencies. */
static GPtrArray *
blacklisted_modules(const PpCheckHost *host)
{
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *cmdline = read_text(host->proc, "cmdline");
  g_auto(GStrv) words = g_strsplit_set(cmdline ? cmdline : "", " \t\n", -1);
  g_autofree char *text = read_text(host->root, PP_VFIO_CONFIG_MODPROBE);
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

  for (guint l = 0; lines[l] != NULL; l++) {
    g_auto(GStrv) w = g_strsplit_set(g_strstrip(lines[l]), " \t", 3);

    if (w[0] != NULL && strcmp(w[0], "blacklist") == 0 && w[1] != NULL && w[1][0] != '\0')
      g_ptr_array_add(names, pp_kmod_normalize(w[1]));
  }
  for (guint i = 0; words[i] != NULL; i++) {
    if (g_str_has_prefix(words[i], "modprobe.blacklist=") ||
        g_str_has_prefix(words[i], "rd.driver.blacklist=")) {
      g_auto(GStrv) list = g_strsplit(strchr(words[i], '=') + 1, ",", -1);

      for (guint j = 0; list[j] != NULL; j++)
        if (list[j][0] != '\0')
          g_ptr_array_add(names, pp_kmod_normalize(list[j]));
    }
  }
  return names;
}

static void
check_blacklists(const PpCheckHost *host, PpCheckResult *r)
{
  g_autoptr(GPtrArray) names = blacklisted_modules(host);
  g_autoptr(GString) loaded = g_string_new(NULL);
  guint distinct = 0;

  for (guint i = 0; i < names->len; i++) {
    const char *name = g_ptr_array_index(names, i);
    g_autofree char *path = g_strdup_printf("module/%s", name);
    g_autofree char *needle = g_strdup_printf("%s,", name);
    g_autofree char *hay = g_strdup_printf("%s,", loaded->str);
    struct stat st;
    gboolean seen = FALSE;

    for (guint j = 0; j < i && !seen; j++)
      seen = strcmp(g_ptr_array_index(names, j), name) == 0;
    if (seen)
      continue;
    distinct++;
    if (pp_sysfs_stat(host->sys, path, &st) == 0 && strstr(hay, needle) == NULL)
      g_string_append_printf(loaded, "%s%s", loaded->len ? ", " : "", name);
  }
  if (loaded->len > 0)
    set(r, PP_CHECK_FAIL,
        "rebuild the initramfs (update-initramfs -u, or dracut --force) and reboot",
        "blacklisted by pcipass-vfio or the kernel command line, but loaded: %s", loaded->str);
  else if (distinct == 0)
    set(r, PP_CHECK_OK, NULL, "pcipass-vfio and the kernel command line blacklist no module");
  else
    set(r, PP_CHECK_OK, NULL, "%u blacklisted modules, none loaded", distinct);
}

/* The IOMMU groups that hold a device on vfio-pci, sorted. */
static GArray *
bound_groups(const PpCheckHost *host)
{
  GArray *groups = g_array_new(FALSE, FALSE, sizeof(gint));

  for (guint i = 0; i < host->devices->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(host->devices, i);
    gboolean seen = FALSE;

    if (g_strcmp0(dev->driver, PP_VFIO_DRIVER) != 0 || dev->iommu_group < 0)
      continue;
    for (guint j = 0; j < groups->len && !seen; j++)
      seen = g_array_index(groups, gint, j) == dev->iommu_group;
    if (!seen)
      g_array_append_val(groups, dev->iommu_group);
  }
  return groups;
}

static void
check_vfio_groups(const PpCheckHost *host, PpCheckResult *r)
{
  g_autoptr(GArray) groups = bound_groups(host);
  g_autoptr(GString) problems = g_string_new(NULL);
  g_autoptr(GString) fix = g_string_new(NULL);

  for (guint g = 0; g < groups->len; g++) {
    gint group = g_array_index(groups, gint, g);
    g_autofree char *node = g_strdup_printf("dev/vfio/%d", group);
    struct stat st;

    for (guint i = 0; i < host->devices->len; i++) {
      const PpPciDevice *dev = g_ptr_array_index(host->devices, i);
      char bdf[PP_PCI_ADDRESS_BUFSIZE];

      /* vfio's viability: every endpoint of the group on vfio-pci, on no
       * driver, or on pci-stub; bridges may stay with the host. */
      if (dev->iommu_group != group || pp_vfio_is_bridge(dev) || dev->driver == NULL ||
          strcmp(dev->driver, PP_VFIO_DRIVER) == 0 || strcmp(dev->driver, "pci-stub") == 0)
        continue;
      pp_pci_address_format(&dev->address, bdf);
      g_string_append_printf(problems, "%sgroup %d is not viable: %s is on %s",
                             problems->len ? "; " : "", group, bdf, dev->driver);
      g_string_append_printf(fix, "%spcipass-vfio bind %s", fix->len ? "; " : "", bdf);
    }
    if (pp_sysfs_stat(host->root, node, &st) != 0 || !S_ISCHR(st.st_mode))
      g_string_append_printf(problems, "%s/dev/vfio/%d is missing", problems->len ? "; " : "",
                             group);
  }
  if (problems->len > 0)
    set(r, PP_CHECK_FAIL, fix->len ? fix->str : "unbind and bind the group's devices again", "%s",
        problems->str);
  else if (groups->len == 0)
    set(r, PP_CHECK_OK, NULL, "no device is bound to vfio-pci yet");
  else
    set(r, PP_CHECK_OK, NULL, "%u groups bound to vfio-pci, each whole, with its /dev/vfio node",
        groups->len);
}

static void
check_qemu_acl(const PpCheckHost *host, PpCheckResult *r)
{
  g_autofree char *text = read_text(host->root, PP_VFIO_CONFIG_QEMU);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpLibvirtConf) conf = NULL;
  g_auto(GStrv) acl = NULL;
  g_autoptr(GArray) groups = bound_groups(host);
  g_autoptr(GString) missing = g_string_new(NULL);
  const char *fix = "pcipass-vfio config --devices ... --write adds them; then restart libvirtd";

  if (text == NULL) {
    set(r, PP_CHECK_WARN, "install libvirt (libvirt-daemon-system)",
        "/etc/libvirt/qemu.conf is missing: is libvirt installed?");
    return;
  }
  conf = pp_libvirt_conf_parse(text, strlen(text), &error);
  if (conf == NULL) {
    set(r, PP_CHECK_FAIL, "correct the file", "/etc/libvirt/qemu.conf: %s", error->message);
    return;
  }
  acl = pp_libvirt_conf_get_strings(conf, "cgroup_device_acl");
  if (acl == NULL) {
    set(r, PP_CHECK_WARN, fix,
        "cgroup_device_acl is not set in qemu.conf: libvirt's defaults apply, without "
        "/dev/vfio/vfio");
    return;
  }
  if (!g_strv_contains((const char *const *)acl, "/dev/vfio/vfio"))
    g_string_append(missing, "/dev/vfio/vfio");
  for (guint g = 0; g < groups->len; g++) {
    g_autofree char *node = g_strdup_printf("/dev/vfio/%d", g_array_index(groups, gint, g));

    if (!g_strv_contains((const char *const *)acl, node))
      g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", node);
  }
  if (missing->len > 0)
    set(r, PP_CHECK_FAIL, fix, "qemu.conf's cgroup_device_acl lacks %s", missing->str);
  else
    set(r, PP_CHECK_OK, NULL,
        "qemu.conf's cgroup_device_acl holds /dev/vfio/vfio and every bound group");
}

/* Whether the boot list names a device: its last DEVICES= line (the one
 * the shell would keep) has something besides blanks and quotes. */
static gboolean
lists_devices(const char *sysconfig)
{
  g_auto(GStrv) lines = NULL;
  gboolean any = FALSE;

  if (sysconfig == NULL)
    return FALSE;
  lines = g_strsplit(sysconfig, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = g_strchug(lines[i]);

    if (g_str_has_prefix(line, "DEVICES=")) {
      const char *value = line + strlen("DEVICES=");

      any = strspn(value, "\"' \t\r") != strlen(value);
    }
  }
  return any;
}

static void
check_boot_unit(const PpCheckHost *host, PpCheckResult *r)
{
  static const char *const installed[] = {
    "etc/systemd/system/pcipass-vfio.service",
    "lib/systemd/system/pcipass-vfio.service",
    "usr/lib/systemd/system/pcipass-vfio.service",
    "usr/local/lib/systemd/system/pcipass-vfio.service",
  };
  g_autoptr(GPtrArray) wants = pp_sysfs_list(host->root, "etc/systemd/system", NULL);
  g_autofree char *sysconfig = read_text(host->root, PP_VFIO_CONFIG_SYSCONFIG);
  gboolean enabled = FALSE, present = FALSE;
  gboolean devices = lists_devices(sysconfig);

  for (guint i = 0; wants != NULL && i < wants->len && !enabled; i++) {
    const char *dir = g_ptr_array_index(wants, i);
    g_autofree char *link = NULL;
    struct stat st;

    if (!g_str_has_suffix(dir, ".wants"))
      continue;
    link = g_strdup_printf("etc/systemd/system/%s/pcipass-vfio.service", dir);
    enabled = pp_sysfs_stat(host->root, link, &st) == 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS(installed) && !present; i++) {
    struct stat st;

    present = pp_sysfs_stat(host->root, installed[i], &st) == 0;
  }
  if (enabled)
    set(r, PP_CHECK_OK, NULL, "pcipass-vfio.service is enabled");
  else if (devices)
    set(r, PP_CHECK_FAIL, "systemctl enable pcipass-vfio",
        "/etc/sysconfig/pcipass-vfio lists devices, but pcipass-vfio.service is %s: they "
        "will not be bound at boot",
        present ? "not enabled" : "not installed");
  else
    set(r, PP_CHECK_WARN,
        present ? "systemctl enable pcipass-vfio"
                : "install pcipass's data/"
                  "pcipass-vfio.service",
        "pcipass-vfio.service is %s", present ? "not enabled" : "not installed");
}

/* The checks, in the order they print.
 *   name  the check's name in the output and in --json
 *   func  fills the result
 */
static const struct {
  const char *name;
  CheckFunc func;
} checks[] = {
  { "iommu-firmware", check_firmware }, { "iommu-groups", check_groups },
  { "iommu-cmdline", check_cmdline },   { "interrupt-remapping", check_interrupt_remapping },
  { "kernel", check_kernel },           { "vfio-modules", check_modules },
  { "dev-vfio", check_dev_vfio },       { "blacklists", check_blacklists },
  { "vfio-groups", check_vfio_groups }, { "qemu-acl", check_qemu_acl },
  { "boot-unit", check_boot_unit },
};

static void
result_free(gpointer data)
{
  PpCheckResult *r = data;

  g_free(r->message);
  g_free(r->fix);
  g_free(r);
}

GPtrArray *
pp_vfio_checks_run(const PpCheckHost *host)
{
  GPtrArray *results;

  g_return_val_if_fail(host != NULL && host->root != NULL && host->sys != NULL, NULL);

  results = g_ptr_array_new_with_free_func(result_free);
  for (guint i = 0; i < G_N_ELEMENTS(checks); i++) {
    PpCheckResult *r = g_new0(PpCheckResult, 1);

    r->name = checks[i].name;
    checks[i].func(host, r);
    g_ptr_array_add(results, r);
  }
  return results;
}
