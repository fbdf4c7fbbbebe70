#define G_LOG_DOMAIN "pp-host-facts"

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "pp-host-facts.h"
#include "pp-probe-report.h"

/* /proc/meminfo and /proc/cpuinfo are larger than a sysfs page. */
#define PROC_FILE_MAX (1024 * 1024)

static void warn(GPtrArray *warnings, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* A fact that cannot be believed, in a sentence that ends with ", ignoring":
 * into @warnings, or a debug line. */
static void
warn(GPtrArray *warnings, const char *format, ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start(args, format);
  what = g_strdup_vprintf(format, args);
  va_end(args);
  if (warnings != NULL)
    g_ptr_array_add(warnings, g_strdup_printf("%s, ignoring", what));
  else
    g_debug("%s, ignoring", what);
}

/* Counts the CPUs in a kernel CPU list such as "0-31,64-95"; -1 if @list
 * is not one. At most PP_PROBE_REPORT_CPU_COUNT_MAX + 1: past the bound,
 * the count does not matter. */
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
    if (count > PP_PROBE_REPORT_CPU_COUNT_MAX)
      return PP_PROBE_REPORT_CPU_COUNT_MAX + 1;
  }
  return count;
}

static char *
read_big(PpSysfs *tree, const char *path)
{
  return tree != NULL ? pp_sysfs_read_text(tree, path, PROC_FILE_MAX, NULL) : NULL;
}

/* The sum of the numbers after "MemTotal:" in a meminfo text ("MemTotal:
 * 32836008 kB"), searched at line starts or after "Node N " prefixes, into
 * *@total, which it adds to. FALSE, saying why in @warnings, when one is not
 * a number or the sum passes PP_PROBE_REPORT_MEMORY_KIB_MAX. */
static gboolean
add_meminfo(const char *text, const char *path, guint64 *total, GPtrArray *warnings)
{
  g_auto(GStrv) lines = NULL;

  if (text == NULL)
    return TRUE;
  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    const char *at = strstr(lines[i], "MemTotal:");
    g_autofree char *digits = NULL;
    guint64 value;

    if (at == NULL)
      continue;
    at += strlen("MemTotal:");
    while (*at == ' ' || *at == '\t')
      at++;
    digits = g_strndup(at, strspn(at, "0123456789"));
    if (!g_ascii_string_to_unsigned(digits, 10, 0, PP_PROBE_REPORT_MEMORY_KIB_MAX, &value, NULL) ||
        value > (guint64)PP_PROBE_REPORT_MEMORY_KIB_MAX - *total) {
      warn(warnings,
           "'%s': MemTotal '%.32s' is not a size in KiB that adds up to at most %" G_GINT64_FORMAT,
           path, at, PP_PROBE_REPORT_MEMORY_KIB_MAX);
      return FALSE;
    }
    *total += value;
  }
  return TRUE;
}

/* CPUs from devices/system/cpu/online, else the cpuN folders, else
 * /proc/cpuinfo; 0 when not known, or more than
 * PP_PROBE_REPORT_CPU_COUNT_MAX (said in @warnings). */
static guint
read_cpu_count(PpSysfs *sysfs, PpSysfs *proc, GPtrArray *warnings)
{
  g_autofree char *online = pp_sysfs_read_string(sysfs, "devices/system/cpu/online", NULL);
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *cpuinfo = NULL;
  gint count = cpu_list_count(online);
  guint n = 0;

  if (count > PP_PROBE_REPORT_CPU_COUNT_MAX) {
    warn(warnings, "'devices/system/cpu/online' ('%.32s') counts more than %d CPUs", online,
         PP_PROBE_REPORT_CPU_COUNT_MAX);
    return 0;
  }
  if (count > 0)
    return (guint)count;
  entries = pp_sysfs_list(sysfs, "devices/system/cpu", NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++) {
    const char *name = g_ptr_array_index(entries, i);

    if (g_str_has_prefix(name, "cpu") && g_ascii_isdigit(name[3]))
      n++;
  }
  if (n > PP_PROBE_REPORT_CPU_COUNT_MAX) {
    warn(warnings, "'devices/system/cpu' has %u cpuN folders, more than %d", n,
         PP_PROBE_REPORT_CPU_COUNT_MAX);
    return 0;
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
  if (n > PP_PROBE_REPORT_CPU_COUNT_MAX) {
    warn(warnings, "'cpuinfo' lists %u processors, more than %d", n, PP_PROBE_REPORT_CPU_COUNT_MAX);
    return 0;
  }
  return n;
}

/* MemTotal from /proc/meminfo, else the sum of the NUMA nodes'; 0 when not
 * known, or past PP_PROBE_REPORT_MEMORY_KIB_MAX (said in @warnings). */
static guint64
read_memory(PpSysfs *sysfs, PpSysfs *proc, GPtrArray *warnings)
{
  g_autofree char *meminfo = read_big(proc, "meminfo");
  g_autoptr(GPtrArray) nodes = NULL;
  guint64 total = 0;

  if (!add_meminfo(meminfo, "meminfo", &total, warnings))
    return 0;
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
    if (!add_meminfo(text, path, &total, warnings))
      return 0;
  }
  return total;
}

/* A fact in words (a host name, a kernel release) from @text read in
 * @path: its first line, without blanks around, valid UTF-8; NULL when
 * empty, or (said in @warnings) when it is longer than a report takes or
 * has a control character: Linux's are at most 64 bytes. */
static char *
fact_text(const char *text, const char *path, GPtrArray *warnings)
{
  g_autofree char *line = NULL;

  if (text == NULL)
    return NULL;
  line = g_strstrip(g_strndup(text, strcspn(text, "\n")));
  if (line[0] == '\0')
    return NULL;
  for (const char *p = line; *p != '\0'; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f) {
      warn(warnings, "'%s' holds a control character", path);
      return NULL;
    }
  }
  if (strlen(line) > PP_PROBE_REPORT_FACT_TEXT_MAX) {
    warn(warnings, "'%s' is longer than %d bytes", path, PP_PROBE_REPORT_FACT_TEXT_MAX);
    return NULL;
  }
  return g_utf8_make_valid(line, -1);
}

static char *
read_kernel(PpSysfs *proc, GPtrArray *warnings)
{
  g_autofree char *release = NULL;
  g_autofree char *version = NULL;
  g_auto(GStrv) words = NULL;
  char *text;

  if (proc == NULL)
    return NULL;
  release = pp_sysfs_read_string(proc, "sys/kernel/osrelease", NULL);
  text = fact_text(release, "sys/kernel/osrelease", warnings);
  if (text != NULL)
    return text;
  /* "Linux version 3.10.0-1160.15.2.el7.x86_64 (mockbuild@...) ..." */
  version = pp_sysfs_read_string(proc, "version", NULL);
  if (version == NULL)
    return NULL;
  words = g_strsplit(version, " ", 4);
  if (g_strv_length(words) >= 3 && strcmp(words[1], "version") == 0)
    return fact_text(words[2], "version", warnings);
  return NULL;
}

PpHostFacts *
pp_host_facts_read(PpSysfs *sysfs, PpSysfs *proc, GPtrArray *warnings)
{
  PpHostFacts *facts = g_new0(PpHostFacts, 1);

  g_return_val_if_fail(sysfs != NULL, facts);

  facts->cpu_count = read_cpu_count(sysfs, proc, warnings);
  facts->memory_kib = read_memory(sysfs, proc, warnings);
  facts->kernel_version = read_kernel(proc, warnings);
  if (proc != NULL) {
    g_autofree char *name = pp_sysfs_read_string(proc, "sys/kernel/hostname", NULL);

    facts->hostname = fact_text(name, "sys/kernel/hostname", warnings);
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
