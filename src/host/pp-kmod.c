#define G_LOG_DOMAIN "pp-kmod"

#include "config.h"

#include <fnmatch.h>
#include <string.h>

#include "pp-kmod.h"

/* modules.alias of a distribution kernel is about 1.5 MiB. */
#define FILE_MAX (64 * 1024 * 1024)

typedef struct {
  char *pattern; /* pci:v00008086d000010D3sv*sd*bc*sc*i* */
  char *module;
} Alias;

struct _PpKmod {
  GArray *aliases;     /* Alias: the pci ones, in file order */
  GHashTable *builtin; /* module names */
  GHashTable *modules; /* module names of modules.dep */
};

static void
alias_clear(gpointer data)
{
  Alias *a = data;

  g_free(a->pattern);
  g_free(a->module);
}

char *
pp_kmod_normalize(const char *name)
{
  g_return_val_if_fail(name != NULL, NULL);
  return g_strdelimit(g_strdup(name), "-", '_');
}

/* "kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz" -> "e1000e" */
static char *
module_of_path(const char *path)
{
  g_autofree char *base = g_path_get_basename(path);
  char *dot = strstr(base, ".ko");

  if (dot != NULL)
    *dot = '\0';
  return pp_kmod_normalize(base);
}

static void
read_names(PpSysfs *root, const char *path, GHashTable *into)
{
  g_autofree char *text = pp_sysfs_read_text(root, path, FILE_MAX, NULL);
  g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    /* modules.dep: "kernel/.../e1000e.ko.xz: kernel/.../ptp.ko.xz ..." */
    char *colon = strchr(lines[i], ':');

    if (colon != NULL)
      *colon = '\0';
    if (lines[i][0] != '\0')
      g_hash_table_add(into, module_of_path(lines[i]));
  }
}

PpKmod *
pp_kmod_open(PpSysfs *root, const char *kernel)
{
  PpKmod *kmod = g_new0(PpKmod, 1);

  kmod->aliases = g_array_new(FALSE, FALSE, sizeof(Alias));
  g_array_set_clear_func(kmod->aliases, alias_clear);
  kmod->builtin = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  kmod->modules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  if (root == NULL || kernel == NULL)
    return kmod;

  {
    g_autofree char *dir = g_strdup_printf("lib/modules/%s", kernel);
    g_autofree char *alias_path = g_strdup_printf("%s/modules.alias", dir);
    g_autofree char *builtin_path = g_strdup_printf("%s/modules.builtin", dir);
    g_autofree char *dep_path = g_strdup_printf("%s/modules.dep", dir);
    g_autofree char *text = pp_sysfs_read_text(root, alias_path, FILE_MAX, NULL);
    g_auto(GStrv) lines = g_strsplit(text ? text : "", "\n", -1);

    /* alias PATTERN MODULE */
    for (guint i = 0; lines[i] != NULL; i++) {
      g_auto(GStrv) w = NULL;
      Alias a;

      if (!g_str_has_prefix(lines[i], "alias pci:"))
        continue;
      w = g_strsplit(lines[i], " ", 3);
      if (g_strv_length(w) != 3)
        continue;
      a.pattern = g_strdup(w[1]);
      a.module = pp_kmod_normalize(g_strstrip(w[2]));
      g_array_append_val(kmod->aliases, a);
    }
    read_names(root, builtin_path, kmod->builtin);
    read_names(root, dep_path, kmod->modules);
  }
  return kmod;
}

void
pp_kmod_free(PpKmod *kmod)
{
  if (kmod == NULL)
    return;
  g_array_unref(kmod->aliases);
  g_hash_table_unref(kmod->builtin);
  g_hash_table_unref(kmod->modules);
  g_free(kmod);
}

const char *
pp_kmod_lookup_alias(PpKmod *kmod, const char *modalias)
{
  g_return_val_if_fail(kmod != NULL && modalias != NULL, NULL);

  /* The first match, as modprobe's order for a device is the file's. */
  for (guint i = 0; i < kmod->aliases->len; i++) {
    const Alias *a = &g_array_index(kmod->aliases, Alias, i);

    if (fnmatch(a->pattern, modalias, 0) == 0)
      return a->module;
  }
  return NULL;
}

gboolean
pp_kmod_is_builtin(PpKmod *kmod, const char *module)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail(kmod != NULL && module != NULL, FALSE);
  name = pp_kmod_normalize(module);
  return g_hash_table_contains(kmod->builtin, name);
}

gboolean
pp_kmod_exists(PpKmod *kmod, const char *module)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail(kmod != NULL && module != NULL, FALSE);
  name = pp_kmod_normalize(module);
  return g_hash_table_contains(kmod->modules, name) || g_hash_table_contains(kmod->builtin, name);
}

char *
pp_kmod_module_of(PpKmod *kmod, PpSysfs *sys, const PpPciDevice *dev, const char *driver)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *modalias_path = NULL;
  g_autofree char *modalias = NULL;
  const char *found;

  g_return_val_if_fail(kmod != NULL && sys != NULL && dev != NULL, NULL);

  if (driver != NULL && driver[0] != '\0') {
    g_autofree char *link = g_strdup_printf("bus/pci/drivers/%s/module", driver);
    g_autofree char *module = pp_sysfs_readlink_basename(sys, link, NULL);

    if (module != NULL)
      return pp_kmod_normalize(module);
  }
  pp_pci_address_format(&dev->address, bdf);
  modalias_path = g_strdup_printf("bus/pci/devices/%s/modalias", bdf);
  modalias = pp_sysfs_read_string(sys, modalias_path, NULL);
  found = modalias ? pp_kmod_lookup_alias(kmod, modalias) : NULL;
  if (found != NULL)
    return g_strdup(found);
  return driver != NULL && driver[0] != '\0' ? pp_kmod_normalize(driver) : NULL;
}
