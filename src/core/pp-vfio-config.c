#define G_LOG_DOMAIN "pp-vfio-config"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "pp-libvirt-conf.h"
#include "pp-vfio-config-priv.h"
#include "pp-vfio-config.h"
#include "pp-vfio-plan.h"

#define BEGIN_MARK "# BEGIN pcipass-vfio"
#define END_MARK "# END pcipass-vfio"

/* libvirt's own cgroup_device_acl, as Debian 12's qemu.conf documents it:
 * what the list must keep when pcipass-vfio sets it for the first time. */
static const char *const libvirt_default_acl[] = {
  "/dev/null", "/dev/full", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/ptmx", "/dev/kvm",
};

void
pp_config_file_free(PpConfigFile *file)
{
  if (file == NULL)
    return;
  g_free(file->path);
  g_free(file->old_text);
  g_free(file->new_text);
  g_free(file->error);
  g_free(file->skipped);
  g_free(file);
}

/* Takes @new_text and @error. A file already as wanted is a step skipped. */
static void
add_file(GPtrArray *files, const PpVfioConfigInput *in, const char *path, char *new_text,
         char *error)
{
  PpConfigFile *f = g_new0(PpConfigFile, 1);

  f->path = g_strdup(path);
  f->old_text = g_strdup(g_hash_table_lookup(in->texts, path));
  f->new_text = new_text;
  f->error = error;
  if (f->old_text != NULL && f->new_text != NULL && strcmp(f->old_text, f->new_text) == 0)
    f->skipped = g_strdup("already done: the file is as config would write it");
  g_ptr_array_add(files, f);
}

/* A step that does not apply to this host, and why: @why is printf-like. */
static void G_GNUC_PRINTF(4, 5) add_skipped(GPtrArray *files, const PpVfioConfigInput *in,
                                            const char *path, const char *why, ...)
{
  PpConfigFile *f = g_new0(PpConfigFile, 1);
  va_list args;

  f->path = g_strdup(path);
  f->old_text = g_strdup(g_hash_table_lookup(in->texts, path));
  va_start(args, why);
  f->skipped = g_strdup_vprintf(why, args);
  va_end(args);
  g_ptr_array_add(files, f);
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The modules to keep off the devices, sorted, each once; the built-in
 * ones (which modprobe cannot keep off) in @builtin. */
static GPtrArray *
device_modules(const PpVfioConfigInput *in, GPtrArray *builtin)
{
  GPtrArray *modules = g_ptr_array_new_with_free_func(g_free);

  for (guint i = 0; i < in->devices->len; i++) {
    const PpConfigDevice *d = &g_array_index(in->devices, PpConfigDevice, i);
    GPtrArray *into = d->builtin ? builtin : modules;
    gboolean seen = FALSE;

    if (d->module == NULL || strcmp(d->module, "vfio_pci") == 0)
      continue;
    for (guint j = 0; j < into->len && !seen; j++)
      seen = strcmp(g_ptr_array_index(into, j), d->module) == 0;
    if (!seen)
      g_ptr_array_add(into, g_strdup(d->module));
  }
  g_ptr_array_sort(modules, compare_strings);
  g_ptr_array_sort(builtin, compare_strings);
  return modules;
}

static const char *
vfio_modules(const PpVfioConfigInput *in)
{
  return in->has_vfio_virqfd ? "vfio vfio_iommu_type1 vfio_pci vfio_virqfd"
                             : "vfio vfio_iommu_type1 vfio_pci";
}

static char *
modprobe_text(const PpVfioConfigInput *in, GPtrArray *drivers, GPtrArray *builtin,
              GPtrArray *blacklisted)
{
  GString *s = g_string_new(NULL);

  g_string_append(s,
                  "# Written by pcipass-vfio config: the drivers of the devices passed through.\n"
                  "# vfio-pci loads before each of them, for the boot-time binding by address\n"
                  "# (pcipass-vfio.service); no 'options vfio-pci ids=', which would also take\n"
                  "# identical devices that stay with the host.\n");
  for (guint i = 0; i < drivers->len; i++)
    g_string_append_printf(s, "softdep %s pre: vfio-pci\n", (char *)g_ptr_array_index(drivers, i));
  for (guint i = 0; i < drivers->len; i++) {
    const char *driver = g_ptr_array_index(drivers, i);
    const char *kept = g_hash_table_lookup(in->module_kept, driver);

    if (kept != NULL) {
      g_string_append_printf(s, "# %s is not blacklisted: %s, which stays with the host, uses it\n",
                             driver, kept);
    } else {
      g_string_append_printf(s, "blacklist %s\n", driver);
      g_ptr_array_add(blacklisted, g_strdup(driver));
    }
  }
  for (guint i = 0; i < builtin->len; i++)
    g_string_append_printf(s,
                           "# %s is built into the kernel: modprobe cannot keep it off; "
                           "pcipass-vfio.service takes the devices from it at boot\n",
                           (char *)g_ptr_array_index(builtin, i));
  return g_string_free(s, FALSE);
}

static char *
sysconfig_text(const PpVfioConfigInput *in)
{
  GString *s = g_string_new(NULL);

  g_string_append(s, "# Written by pcipass-vfio config: the devices pcipass-vfio.service binds\n"
                     "# to vfio-pci at boot, before libvirtd starts.\n"
                     "DEVICES=\"");
  for (guint i = 0; i < in->devices->len; i++) {
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    pp_pci_address_format(&g_array_index(in->devices, PpConfigDevice, i).address, bdf);
    g_string_append_printf(s, "%s%s", i ? " " : "", bdf);
  }
  g_string_append(s, "\"\n");
  return g_string_free(s, FALSE);
}

/* The marked block of etc/initramfs-tools/modules, replaced or added. */
static char *
initramfs_text(const PpVfioConfigInput *in, const char *old, char **ret_error)
{
  g_autoptr(GString) block = g_string_new(BEGIN_MARK ": the vfio modules in the initramfs\n");
  g_auto(GStrv) modules = g_strsplit(vfio_modules(in), " ", -1);
  const char *begin, *end;
  GString *s;

  for (guint i = 0; modules[i] != NULL; i++)
    g_string_append_printf(block, "%s\n", modules[i]);
  g_string_append(block, END_MARK "\n");

  if (old == NULL)
    return g_string_free(g_steal_pointer(&block), FALSE);
  begin = strstr(old, BEGIN_MARK);
  end = strstr(old, END_MARK);
  if ((begin == NULL) != (end == NULL) || (begin != NULL && end < begin)) {
    *ret_error = g_strdup("its '" BEGIN_MARK "' and '" END_MARK "' lines do not match; "
                          "remove the block by hand");
    return NULL;
  }
  s = g_string_new(NULL);
  if (begin == NULL) {
    g_string_append(s, old);
    if (s->len > 0 && s->str[s->len - 1] != '\n')
      g_string_append_c(s, '\n');
    g_string_append(s, block->str);
  } else {
    const char *after = strchr(end, '\n');

    g_string_append_len(s, old, begin - old);
    g_string_append(s, block->str);
    g_string_append(s, after ? after + 1 : "");
  }
  return g_string_free(s, FALSE);
}

/* One token of a kernel command line: "name=value" -> "name". */
static char *
param_name(const char *param)
{
  const char *eq = strchr(param, '=');

  return eq ? g_strndup(param, eq - param) : g_strdup(param);
}

/* Parameters whose value is a comma list that an administrator may have
 * extended (intel_iommu=on,igfx_off; rd.driver.pre=nvme): merged, not
 * replaced. */
static gboolean
is_list_param(const char *name)
{
  static const char *const lists[] = { "rd.driver.blacklist", "modprobe.blacklist", "rd.driver.pre",
                                       "intel_iommu", "amd_iommu" };

  return g_strv_contains(lists, name);
}

/* Adds the items of list parameter @add to @token ("name=a,b"). Adding
 * "on" takes "off" away (intel_iommu=off,igfx_off -> on,igfx_off). */
static char *
merge_list(const char *token, const char *add)
{
  const char *eq = strchr(token, '=');
  g_autofree char *name = param_name(token);
  g_auto(GStrv) have = g_strsplit(eq ? eq + 1 : "", ",", -1);
  g_auto(GStrv) more = g_strsplit(strchr(add, '=') + 1, ",", -1);
  gboolean adds_on = g_strv_contains((const char *const *)more, "on");
  GString *s = g_string_new(name);
  guint n = 0;

  g_string_append_c(s, '=');
  for (guint i = 0; have[i] != NULL; i++)
    if (have[i][0] != '\0' && !(adds_on && strcmp(have[i], "off") == 0))
      g_string_append_printf(s, "%s%s", n++ ? "," : "", have[i]);
  for (guint i = 0; more[i] != NULL; i++)
    if (more[i][0] != '\0' && !g_strv_contains((const char *const *)have, more[i]))
      g_string_append_printf(s, "%s%s", n++ ? "," : "", more[i]);
  return g_string_free(s, FALSE);
}

/* The value of the last uncommented NAME="..." line of a shell-style file,
 * without its quotes; NULL when there is none. */
static char *
shell_value(const char *text, const char *name)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  g_autofree char *prefix = g_strdup_printf("%s=", name);
  char *found = NULL;

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *l = lines[i] + strspn(lines[i], " \t");

    if (g_str_has_prefix(l, prefix)) {
      g_free(found);
      found = g_strdup(l + strlen(prefix));
      g_strdelimit(found, "\"'", ' ');
    }
  }
  return found;
}

char *
pp_vfio_config_edit_grub(const char *text, const char *const *params, char **ret_error)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  gint found = -1;
  g_autoptr(GString) out = g_string_new(NULL);

  g_return_val_if_fail(text != NULL && params != NULL && ret_error != NULL, NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *l = lines[i];

    while (*l == ' ' || *l == '\t')
      l++;
    if (g_str_has_prefix(l, "GRUB_CMDLINE_LINUX="))
      found = (gint)i;
  }

  if (found < 0) {
    g_autofree char *joined = g_strjoinv(" ", (char **)params);

    g_string_append(out, text);
    if (out->len > 0 && out->str[out->len - 1] != '\n')
      g_string_append_c(out, '\n');
    g_string_append_printf(out, "# Added by pcipass-vfio config.\nGRUB_CMDLINE_LINUX=\"%s\"\n",
                           joined);
    return g_string_free(g_steal_pointer(&out), FALSE);
  }

  {
    const char *line = lines[found];
    const char *eq = strchr(line, '=') + 1;
    char quote = (*eq == '"' || *eq == '\'') ? *eq : '\0';
    const char *start = quote ? eq + 1 : eq;
    const char *stop;
    g_autofree char *value = NULL;
    g_auto(GStrv) words = NULL;
    g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func(g_free);
    const char *rest;

    if (quote) {
      stop = strchr(start, quote);
      if (stop == NULL) {
        *ret_error = g_strdup_printf("line %d: GRUB_CMDLINE_LINUX's quote is not closed on its "
                                     "line",
                                     found + 1);
        return NULL;
      }
    } else {
      stop = start + strcspn(start, " \t#");
    }
    value = g_strndup(start, stop - start);
    rest = quote ? stop + 1 : stop;
    /* What a shell would expand, or quote: not ours to rewrite. */
    if ((quote != '\'' && strpbrk(value, "$`\\") != NULL) ||
        (!quote && strpbrk(value, "\"'") != NULL) ||
        (rest[strspn(rest, " \t")] != '\0' && rest[strspn(rest, " \t")] != '#')) {
      *ret_error = g_strdup_printf("line %d: GRUB_CMDLINE_LINUX is more than a plain string "
                                   "(a variable, a command, an escape or more after it); add "
                                   "the parameters by hand",
                                   found + 1);
      return NULL;
    }
    words = g_strsplit_set(value, " \t", -1);
    for (guint i = 0; words[i] != NULL; i++)
      if (words[i][0] != '\0')
        g_ptr_array_add(tokens, g_strdup(words[i]));

    for (guint p = 0; params[p] != NULL; p++) {
      g_autofree char *name = param_name(params[p]);
      gboolean done = FALSE;

      for (guint t = 0; t < tokens->len && !done; t++) {
        g_autofree char *tname = param_name(g_ptr_array_index(tokens, t));

        if (strcmp(tname, name) != 0)
          continue;
        char *merged =
            is_list_param(name) ? merge_list(tokens->pdata[t], params[p]) : g_strdup(params[p]);

        done = TRUE;
        g_free(tokens->pdata[t]);
        tokens->pdata[t] = merged;
      }
      if (!done)
        g_ptr_array_add(tokens, g_strdup(params[p]));
    }

    for (guint i = 0; lines[i] != NULL; i++) {
      if (i > 0)
        g_string_append_c(out, '\n');
      if ((gint)i != found) {
        g_string_append(out, lines[i]);
        continue;
      }
      g_string_append_len(out, line, eq - line);
      g_string_append_c(out, quote ? quote : '"');
      for (guint t = 0; t < tokens->len; t++)
        g_string_append_printf(out, "%s%s", t ? " " : "", (char *)g_ptr_array_index(tokens, t));
      g_string_append_c(out, quote ? quote : '"');
      g_string_append(out, rest);
    }
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* libvirt's defaults as the file itself documents them, in its commented
 * "#cgroup_device_acl = [ ... #]" block (newer libvirt has more than
 * Debian 12's: /dev/userfaultfd); NULL when it has no such block. */
static char **
commented_acl(const char *text)
{
  const char *start = strstr(text, "\n#cgroup_device_acl = [");
  const char *end = start ? strstr(start, "\n#]") : NULL;
  g_autoptr(GStrvBuilder) list = g_strv_builder_new();
  g_autofree char *block = NULL;
  guint n = 0;

  if (start == NULL || end == NULL)
    return NULL;
  block = g_strndup(start, end - start);
  for (const char *q = strchr(block, '"'); q != NULL; q = strchr(q + 1, '"')) {
    const char *close = strchr(q + 1, '"');
    g_autofree char *item = NULL;

    if (close == NULL)
      break;
    item = g_strndup(q + 1, close - q - 1);
    g_strv_builder_add(list, item);
    n++;
    q = close;
  }
  return n > 0 ? g_strv_builder_end(list) : NULL;
}

static char *
qemu_text(const PpVfioConfigInput *in, const char *old, char **ret_error)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpLibvirtConf) conf = pp_libvirt_conf_parse(old, strlen(old), &error);
  g_auto(GStrv) have = NULL;
  g_autoptr(GStrvBuilder) want = g_strv_builder_new();
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) list = NULL;

  if (conf == NULL) {
    *ret_error = g_strdup(error->message);
    return NULL;
  }
  have = pp_libvirt_conf_get_strings(conf, "cgroup_device_acl");
  if (have == NULL && pp_libvirt_conf_has(conf, "cgroup_device_acl")) {
    *ret_error = g_strdup("cgroup_device_acl is set to something else than a list of paths");
    return NULL;
  }
  if (have != NULL) {
    g_strv_builder_addv(want, (const char **)have);
  } else {
    g_auto(GStrv) documented = commented_acl(old);

    if (documented != NULL)
      g_strv_builder_addv(want, (const char **)documented);
    else
      for (guint i = 0; i < G_N_ELEMENTS(libvirt_default_acl); i++)
        g_strv_builder_add(want, libvirt_default_acl[i]);
  }

  g_ptr_array_add(added, g_strdup("/dev/vfio/vfio"));
  for (guint i = 0; i < in->devices->len; i++) {
    const PpConfigDevice *d = &g_array_index(in->devices, PpConfigDevice, i);

    if (d->iommu_group >= 0)
      g_ptr_array_add(added, g_strdup_printf("/dev/vfio/%d", d->iommu_group));
  }
  for (guint i = 0; i < added->len; i++) {
    const char *path = g_ptr_array_index(added, i);
    gboolean present = have != NULL && g_strv_contains((const char *const *)have, path);

    for (guint j = 0; j < i && !present; j++)
      present = strcmp(g_ptr_array_index(added, j), path) == 0;
    if (!present)
      g_strv_builder_add(want, path);
  }
  list = g_strv_builder_end(want);
  if (have != NULL && g_strv_equal((const char *const *)have, (const char *const *)list))
    return g_strdup(old);
  return pp_libvirt_conf_set_strings(conf, "cgroup_device_acl", (const char *const *)list,
                                     "Added by pcipass-vfio config: libvirt's defaults, and "
                                     "the VFIO devices QEMU opens.");
}

/* What the files above cannot fix and the administrator must know. */
static GPtrArray *
warnings_for(const PpVfioConfigInput *in)
{
  GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
  const char *grub = g_hash_table_lookup(in->texts, PP_VFIO_CONFIG_GRUB);
  g_autofree char *defaults = grub ? shell_value(grub, "GRUB_CMDLINE_LINUX_DEFAULT") : NULL;
  gboolean iommu_off = FALSE;

  if (defaults != NULL) {
    g_auto(GStrv) words = g_strsplit_set(defaults, " \t", -1);

    for (guint i = 0; words[i] != NULL; i++)
      if ((g_str_has_prefix(words[i], "intel_iommu=") || g_str_has_prefix(words[i], "amd_iommu=") ||
           g_str_has_prefix(words[i], "iommu=")) &&
          (g_str_has_suffix(words[i], "=off") || strstr(words[i], ",off") != NULL ||
           strstr(words[i], "=off,") != NULL))
        g_ptr_array_add(warnings,
                        g_strdup_printf("GRUB_CMDLINE_LINUX_DEFAULT has '%s', which comes after "
                                        "GRUB_CMDLINE_LINUX on the kernel command line and wins: "
                                        "remove it",
                                        words[i]));
  }
  for (guint i = 0; i < in->devices->len; i++)
    iommu_off |= g_array_index(in->devices, PpConfigDevice, i).iommu_group < 0;
  if (iommu_off)
    g_ptr_array_add(warnings,
                    g_strdup("the IOMMU is off, so the devices' IOMMU groups are not known: their "
                             "companions and /dev/vfio nodes are missing here; run config again "
                             "after the reboot"));
  return warnings;
}

GPtrArray *
pp_vfio_config_generate(const PpVfioConfigInput *in, char ***ret_kernel_params,
                        GPtrArray **ret_warnings)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify)pp_config_file_free);
  g_autoptr(GPtrArray) drivers = NULL;
  g_autoptr(GPtrArray) builtin = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) blacklisted = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GStrvBuilder) params = g_strv_builder_new();
  g_auto(GStrv) param_list = NULL;
  g_autofree char *modprobe = NULL;
  const char *grub, *qemu;

  g_return_val_if_fail(in != NULL && ret_kernel_params != NULL && ret_warnings != NULL, NULL);

  drivers = device_modules(in, builtin);
  modprobe = modprobe_text(in, drivers, builtin, blacklisted);

  if (g_strcmp0(in->iommu_vendor, "intel") == 0)
    g_strv_builder_add(params, "intel_iommu=on");
  else if (g_strcmp0(in->iommu_vendor, "amd") == 0)
    g_strv_builder_add(params, "amd_iommu=on");
  g_strv_builder_add(params, "iommu=pt");
  g_strv_builder_add(params, "rd.driver.pre=vfio-pci");
  if (blacklisted->len > 0) {
    g_ptr_array_add(blacklisted, NULL);
    {
      g_autofree char *joined = g_strjoinv(",", (char **)blacklisted->pdata);
      g_autofree char *param = g_strdup_printf("rd.driver.blacklist=%s", joined);

      g_strv_builder_add(params, param);
    }
    g_ptr_array_set_size(blacklisted, blacklisted->len - 1);
  }
  param_list = g_strv_builder_end(params);

  grub = g_hash_table_lookup(in->texts, PP_VFIO_CONFIG_GRUB);
  if (grub != NULL) {
    char *error = NULL;
    char *text = pp_vfio_config_edit_grub(grub, (const char *const *)param_list, &error);

    add_file(files, in, PP_VFIO_CONFIG_GRUB, text, error);
  } else {
    add_skipped(files, in, PP_VFIO_CONFIG_GRUB,
                "no such file: this host does not boot with GRUB; its boot loader needs the "
                "kernel parameters below");
  }
  if (in->has_dracut)
    add_file(files, in, PP_VFIO_CONFIG_DRACUT,
             g_strdup_printf("# Written by pcipass-vfio config: the vfio modules in the "
                             "initramfs.\nadd_drivers+=\" %s \"\n",
                             vfio_modules(in)),
             NULL);
  else
    add_skipped(files, in, PP_VFIO_CONFIG_DRACUT,
                "no /etc/dracut.conf.d: this host does not build its initramfs with dracut");
  if (in->has_initramfs_tools) {
    char *error = NULL;
    char *text =
        initramfs_text(in, g_hash_table_lookup(in->texts, PP_VFIO_CONFIG_INITRAMFS), &error);

    add_file(files, in, PP_VFIO_CONFIG_INITRAMFS, text, error);
  } else {
    add_skipped(files, in, PP_VFIO_CONFIG_INITRAMFS,
                "no /etc/initramfs-tools: this host does not build its initramfs with "
                "initramfs-tools");
  }
  add_file(files, in, PP_VFIO_CONFIG_MODPROBE, g_steal_pointer(&modprobe), NULL);
  add_file(files, in, PP_VFIO_CONFIG_SYSCONFIG, sysconfig_text(in), NULL);
  qemu = g_hash_table_lookup(in->texts, PP_VFIO_CONFIG_QEMU);
  if (qemu != NULL) {
    char *error = NULL;
    char *text = qemu_text(in, qemu, &error);

    add_file(files, in, PP_VFIO_CONFIG_QEMU, text, error);
  } else {
    add_skipped(files, in, PP_VFIO_CONFIG_QEMU,
                "no such file: libvirt's QEMU driver is not installed; run config again once "
                "it is");
  }
  *ret_kernel_params = g_steal_pointer(&param_list);
  *ret_warnings = warnings_for(in);
  return g_steal_pointer(&files);
}
