/* libFuzzer target: the probe's readers of the host's trees on a tree made
 * from the input: the PCI scanner (pp_pci_scan), what the host needs
 * (pp_host_trees_read_needs: mounts, routes, consoles), the host facts, and
 * the probe's output built from them. Whatever the tree holds, the probe
 * prints a report that pcipassd accepts (pp_probe_report_parse), as JSON
 * too, and every number in it is within its bounds. An input reads, one
 * entry a line (at most MAX_ENTRIES; '#' starts a comment line):
 *
 *   PATH=VALUE     a file; VALUE with \n, \t, \\ and \xHH escapes
 *   PATH->TARGET   a symbolic link
 *   PATH/          a folder
 *
 * PATH is below sys/, proc/ or dev/, in at most MAX_DEPTH parts of
 * [A-Za-z0-9_.:+@,-] (never . or ..); the folders above an entry are
 * made. The tree is written in a new folder (in /dev/shm where there is
 * one) and removed after each input. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pp-autoptr.h"
#include "pp-host-facts.h"
#include "pp-host-needs.h"
#include "pp-host-trees.h"
#include "pp-pci-filter.h"
#include "pp-pci-names.h"
#include "pp-pci-scan.h"
#include "pp-probe-report.h"
#include "pp-probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-sysfs: " __VA_ARGS__);                                                 \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* Bounds of a tree: entries, the parts of a path, a path, a link target. */
#define MAX_ENTRIES 256
#define MAX_DEPTH 12
#define MAX_PATH 256
#define MAX_TARGET 256

static PpPciNames *names;
static PpPciFilter *any;
static char *base_dir;
/* Whether links cannot lead out of a tree (openat2): where they can, only
 * links that stay below their folder are made. */
static gboolean confined;

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void
remove_tree(const char *path)
{
  /* FTW_PHYS: links are removed, never followed. */
  CHECK(nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT,
        "cannot remove '%s': %s", path, g_strerror(errno));
}

static void
remove_base(void)
{
  remove_tree(base_dir);
}

static void
init_once(void)
{
  g_autoptr(GError) error = NULL;
  const char *shm = "/dev/shm";
  PpPciIdPattern all = { -1, -1, -1 };
  g_autofree char *probe = NULL;
  g_autoptr(PpSysfs) sysfs = NULL;

  if (names != NULL)
    return;
  /* The names the probe gives, from this system's pci.ids and hwdb. */
  names = pp_pci_names_open(NULL, &error);
  g_assert_no_error(error);
  /* pcipass-probe --all. */
  any = pp_pci_filter_new();
  pp_pci_filter_add_id_pattern(any, &all);
  base_dir = g_build_filename(access(shm, W_OK) == 0 ? shm : g_get_tmp_dir(),
                              "pp-fuzz-sysfs-XXXXXX", NULL);
  if (g_mkdtemp(base_dir) == NULL)
    g_error("cannot make '%s'", base_dir);
  atexit(remove_base);
  probe = g_build_filename(base_dir, "probe", NULL);
  g_mkdir(probe, 0700);
  sysfs = pp_sysfs_open(probe, &error);
  g_assert_no_error(error);
  confined = pp_sysfs_is_confined(sysfs);
  g_rmdir(probe);
}

static gboolean
path_ok(const char *path)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  if (strlen(path) == 0 || strlen(path) > MAX_PATH ||
      strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:+@,-/") !=
          strlen(path))
    return FALSE;
  parts = g_strsplit(path, "/", -1);
  n = g_strv_length(parts);
  if (n > MAX_DEPTH || !(strcmp(parts[0], "sys") == 0 || strcmp(parts[0], "proc") == 0 ||
                         strcmp(parts[0], "dev") == 0))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0 || strcmp(parts[i], "..") == 0)
      return FALSE;
  return TRUE;
}

/* \n, \t, \\, \xHH; any other byte as it is. */
static GString *
unescape(const char *s)
{
  GString *out = g_string_new(NULL);

  while (*s != '\0') {
    if (s[0] == '\\' && s[1] == 'n') {
      g_string_append_c(out, '\n');
      s += 2;
    } else if (s[0] == '\\' && s[1] == 't') {
      g_string_append_c(out, '\t');
      s += 2;
    } else if (s[0] == '\\' && s[1] == '\\') {
      g_string_append_c(out, '\\');
      s += 2;
    } else if (s[0] == '\\' && s[1] == 'x' && g_ascii_isxdigit(s[2]) && g_ascii_isxdigit(s[3])) {
      g_string_append_c(out, (char)(g_ascii_xdigit_value(s[2]) * 16 + g_ascii_xdigit_value(s[3])));
      s += 4;
    } else {
      g_string_append_c(out, *s++);
    }
  }
  return out;
}

/* Makes the folders of @path below @root; FALSE where a file or a link
 * is in the way. */
static gboolean
make_parents(const char *root, const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);
  g_autofree char *full = g_build_filename(root, dir, NULL);

  return g_mkdir_with_parents(full, 0755) == 0;
}

/* One line of the input, written below @root. Returns whether it made an
 * entry. */
static gboolean
write_entry(const char *root, const char *line)
{
  const char *eq = strchr(line, '=');
  const char *arrow = strstr(line, "->");
  g_autofree char *path = NULL;
  g_autofree char *full = NULL;

  if (line[0] == '#' || line[0] == '\0')
    return FALSE;
  if (arrow != NULL && (eq == NULL || arrow < eq)) {
    const char *target = arrow + 2;

    path = g_strndup(line, (gsize)(arrow - line));
    if (!path_ok(path) || strlen(target) == 0 || strlen(target) > MAX_TARGET)
      return FALSE;
    /* Where links are not confined, none may point above its folder. */
    if (!confined && (target[0] == '/' || strstr(target, "..") != NULL))
      return FALSE;
    if (!make_parents(root, path))
      return FALSE;
    full = g_build_filename(root, path, NULL);
    return symlink(target, full) == 0;
  }
  if (eq != NULL) {
    g_autoptr(GString) value = unescape(eq + 1);

    path = g_strndup(line, (gsize)(eq - line));
    if (!path_ok(path) || !make_parents(root, path))
      return FALSE;
    full = g_build_filename(root, path, NULL);
    return g_file_set_contents(full, value->str, (gssize)value->len, NULL);
  }
  if (g_str_has_suffix(line, "/")) {
    path = g_strndup(line, strlen(line) - 1);
    if (!path_ok(path))
      return FALSE;
    full = g_build_filename(root, path, NULL);
    return g_mkdir_with_parents(full, 0755) == 0;
  }
  return FALSE;
}

static void
check_devices(GPtrArray *devices)
{
  for (guint i = 0; i < devices->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(devices, i);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    pp_pci_address_format(&dev->address, bdf);
    if (i > 0)
      CHECK(
          pp_pci_address_compare(&((const PpPciDevice *)g_ptr_array_index(devices, i - 1))->address,
                                 &dev->address) < 0,
          "%s: not sorted, or twice", bdf);
    CHECK(dev->numa_node >= -1 && dev->numa_node <= PP_PCI_NUMA_NODE_MAX, "%s: NUMA node %d", bdf,
          dev->numa_node);
    CHECK(dev->iommu_group >= -1 && dev->iommu_group <= PP_PCI_IOMMU_GROUP_MAX,
          "%s: IOMMU group %d", bdf, dev->iommu_group);
    CHECK(dev->sriov_totalvfs <= PP_PCI_SRIOV_VFS_MAX && dev->sriov_numvfs <= PP_PCI_SRIOV_VFS_MAX,
          "%s: %u of %u VFs", bdf, dev->sriov_numvfs, dev->sriov_totalvfs);
  }
}

static void
probe(const char *root)
{
  g_autofree char *sys = g_build_filename(root, "sys", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHostTrees) trees = NULL;
  g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  g_autoptr(GPtrArray) offered = NULL;
  g_autoptr(PpHostFacts) facts = NULL;
  g_autoptr(PpTemplate) output = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autoptr(json_t) json = NULL;
  g_autofree char *needs_warning = NULL;
  g_autofree char *text = NULL;

  trees = pp_host_trees_open(sys, NULL, NULL, &error);
  if (trees == NULL)
    return; /* no sys folder: pcipass-probe says so and stops */
  CHECK(!trees->live, "a made tree taken for the running host");
  devices = pp_pci_scan(trees->sys, warnings, &error);
  if (devices == NULL) {
    CHECK(error != NULL, "no devices and no error");
    return;
  }
  check_devices(devices);
  for (guint i = 0; i < devices->len; i++)
    pp_pci_names_fill(names, g_ptr_array_index(devices, i));
  needs = pp_host_trees_read_needs(trees, devices, &needs_warning);
  CHECK(needs != NULL, "no needs");
  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);

    dev->host_needs = pp_host_needs_join(needs, &dev->address);
  }
  offered = pp_probe_select(any, devices);
  facts = pp_host_facts_read(trees->sys, trees->proc, warnings);
  CHECK(facts->cpu_count <= PP_PROBE_REPORT_CPU_COUNT_MAX, "%u CPUs", facts->cpu_count);
  CHECK(facts->memory_kib <= (guint64)PP_PROBE_REPORT_MEMORY_KIB_MAX, "%" G_GUINT64_FORMAT " KiB",
        facts->memory_kib);
  output = pp_probe_build(facts, offered);
  json = pp_probe_to_json(output);
  CHECK(json != NULL, "the probe's JSON output could not be built");
  /* What the probe prints, pcipassd reads. */
  text = pp_template_to_string(output);
  report = pp_probe_report_parse(text, strlen(text), &error);
  CHECK(report != NULL, "pcipassd refuses what the probe prints: %s\n%s", error->message, text);
  CHECK(report->devices->len == offered->len, "%u devices printed, %u read", offered->len,
        report->devices->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autofree char *root = NULL;
  g_auto(GStrv) lines = NULL;
  guint entries = 0;

  init_once();
  root = g_build_filename(base_dir, "tree", NULL);
  remove_tree(root);
  CHECK(g_mkdir(root, 0700) == 0, "cannot make '%s': %s", root, g_strerror(errno));
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && entries < MAX_ENTRIES; i++)
    if (write_entry(root, lines[i]))
      entries++;
  probe(root);
  remove_tree(root);
  return 0;
}
