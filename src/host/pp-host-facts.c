#define G_LOG_DOMAIN "pp-host-facts"

#include "config.h"

#include <string.h>

#include "pp-host-facts.h"

/* /proc/meminfo and /proc/cpuinfo are larger than a sysfs page. */
#define PROC_FILE_MAX (1024 * 1024)

/* Counts the CPUs in a kernel CPU list such as "0-31,64-95"; -1 if @list
 * is not one. */
static gint
cpu_list_count(const char *list)
{
  g_auto(GStrv) ranges = NULL;
  gint count = 0;

  if (list == NULL || list[0] == '\0')
    return -1;
  ranges = g_strsplit(list, ",", -1);
  for (guint i = 0; ranges[i] != NULL; i++) {
    g_auto(GStrv) bounds = g_strsplit(ranges[i], "-", 3);
    guint64 first, last;

    if (bounds[0] == NULL || !g_ascii_string_to_unsigned(bounds[0], 10, 0, 1 << 20, &first, NULL))
      return -1;
    last = first;
    if (bounds[1] != NULL && (bounds[2] != NULL || !g_ascii_string_to_unsigned(
                                                       bounds[1], 10, first, 1 << 20, &last, NULL)))
      return -1;
    count += (gint)(last - first + 1);
  }
  return count;
}

static char *
read_big(PpSysfs *tree, const char *path)
{
  return tree != NULL ? pp_sysfs_read_text(tree, path, PROC_FILE_MAX, NULL) : NULL;
}

/* The number after @key in a meminfo text ("MemTotal:  32836008 kB"),
 * searched at line starts or after "Node N " prefixes. */
static guint64
meminfo_value(const char *text, const char *key)
{
  guint64 total = 0;
  g_auto(GStrv) lines = NULL;

  if (text == NULL)
    return 0;
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *at = strstr(lines[i], key);
    guint64 value;

    if (at == NULL)
      continue;
    at += strlen(key);
    while (*at == ' ' || *at == '\t')
      at++;
    value = g_ascii_strtoull(at, NULL, 10);
    total += value;
  }
  return total;
}

static guint
read_cpu_count(PpSysfs *sysfs, PpSysfs *proc)
{
  g_autofree char *online = pp_sysfs_read_string(sysfs, "devices/system/cpu/online", NULL);
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *cpuinfo = NULL;
  gint count = cpu_list_count(online);
  guint n = 0;

  if (count > 0)
    return count;
  entries = pp_sysfs_list(sysfs, "devices/system/cpu", NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++) {
    const char *name = g_ptr_array_index(entries, i);

    if (g_str_has_prefix(name, "cpu") && g_ascii_isdigit(name[3]))
      n++;
  }
  if (n > 0)
    return n;
  cpuinfo = read_big(proc, "cpuinfo");
  if (cpuinfo != NULL) {
    g_auto(GStrv) lines = g_strsplit(cpuinfo, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      if (g_str_has_prefix(lines[i], "processor"))
        n++;
  }
  return n;
}

static guint64
read_memory(PpSysfs *sysfs, PpSysfs *proc)
{
  g_autofree char *meminfo = read_big(proc, "meminfo");
  g_autoptr(GPtrArray) nodes = NULL;
  guint64 total = meminfo_value(meminfo, "MemTotal:");

  if (total > 0)
    return total;
  nodes = pp_sysfs_list(sysfs, "devices/system/node", NULL);
  for (guint i = 0; nodes != NULL && i < nodes->len; i++) {
    const char *name = g_ptr_array_index(nodes, i);
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    if (!g_str_has_prefix(name, "node") || !g_ascii_isdigit(name[4]))
      continue;
    path = g_strdup_printf("devices/system/node/%s/meminfo", name);
    text = pp_sysfs_read_string(sysfs, path, NULL);
    total += meminfo_value(text, "MemTotal:");
  }
  return total;
}

static char *
read_kernel(PpSysfs *proc)
{
  g_autofree char *release = NULL;
  g_autofree char *version = NULL;
  g_auto(GStrv) words = NULL;

  if (proc == NULL)
    return NULL;
  release = pp_sysfs_read_string(proc, "sys/kernel/osrelease", NULL);
  if (release != NULL && g_strstrip(release)[0] != '\0')
    return g_utf8_make_valid(release, -1);
  /* "Linux version 3.10.0-1160.15.2.el7.x86_64 (mockbuild@...) ..." */
  version = pp_sysfs_read_string(proc, "version", NULL);
  if (version == NULL)
    return NULL;
  words = g_strsplit(version, " ", 4);
  if (g_strv_length(words) >= 3 && strcmp(words[1], "version") == 0)
    return g_utf8_make_valid(words[2], -1);
  return NULL;
}

PpHostFacts *
pp_host_facts_read(PpSysfs *sysfs, PpSysfs *proc)
{
  PpHostFacts *facts = g_new0(PpHostFacts, 1);

  g_return_val_if_fail(sysfs != NULL, facts);

  facts->cpu_count = read_cpu_count(sysfs, proc);
  facts->memory_kib = read_memory(sysfs, proc);
  facts->kernel_version = read_kernel(proc);
  if (proc != NULL) {
    g_autofree char *name = pp_sysfs_read_string(proc, "sys/kernel/hostname", NULL);

    if (name != NULL && g_strstrip(name)[0] != '\0')
      facts->hostname = g_utf8_make_valid(name, -1);
  }
  return facts;
}

void
pp_host_facts_free(PpHostFacts *facts)
{
  if (facts == NULL)
    return;
  g_free(facts->hostname);
  g_free(facts->kernel_version);
  g_free(facts);
}

void
pp_host_facts_add_to(const PpHostFacts *facts, PpTemplate *tmpl)
{
  char buf[32];

  g_return_if_fail(facts != NULL && tmpl != NULL);

  if (facts->hostname != NULL)
    pp_template_add_single(tmpl, "HOSTNAME", facts->hostname);
  if (facts->cpu_count > 0) {
    g_snprintf(buf, sizeof(buf), "%u", facts->cpu_count);
    pp_template_add_single(tmpl, "CPU_COUNT", buf);
  }
  if (facts->memory_kib > 0) {
    g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, facts->memory_kib);
    pp_template_add_single(tmpl, "MEMORY_KIB", buf);
  }
  if (facts->kernel_version != NULL)
    pp_template_add_single(tmpl, "KERNEL_VERSION", facts->kernel_version);
}
