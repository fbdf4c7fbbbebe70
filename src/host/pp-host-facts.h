/* pp-host-facts: what placement needs to know of a host besides its
 * devices: its name, CPU count, memory and kernel. Read from a sysfs and a
 * proc tree, so that a fixture can play a host. */
#pragma once

#include <glib.h>

#include "pp-sysfs.h"
#include "pp-template.h"

G_BEGIN_DECLS

typedef struct {
  char *hostname;       /* NULL: not known */
  guint cpu_count;      /* logical CPUs online; 0: not known */
  guint64 memory_kib;   /* MemTotal; 0: not known */
  char *kernel_version; /* `uname -r`; NULL: not known */
} PpHostFacts;

/**
 * pp_host_facts_read:
 * @sysfs: the sysfs tree
 * @proc: (nullable): the proc tree
 *
 * CPUs from devices/system/cpu/online (else the cpuN folders, else
 * /proc/cpuinfo); memory from /proc/meminfo (else the NUMA nodes' meminfo);
 * kernel and host name from /proc/sys/kernel (else /proc/version for the
 * kernel). What cannot be read stays unknown, and so does what a report
 * could not hold: a count past its bounds (PP_PROBE_REPORT_CPU_COUNT_MAX,
 * _MEMORY_KIB_MAX), a name or release longer than
 * PP_PROBE_REPORT_FACT_TEXT_MAX or with a control character (only the first
 * line of a file is read), which @warnings (nullable; element-type utf8)
 * then says, ending with ", ignoring".
 *
 * Returns: (transfer full): the facts; never %NULL.
 */
PpHostFacts *pp_host_facts_read(PpSysfs *sysfs, PpSysfs *proc, GPtrArray *warnings);
void pp_host_facts_free(PpHostFacts *facts);

/* Appends HOSTNAME, CPU_COUNT, MEMORY_KIB and KERNEL_VERSION, those known,
 * as single attributes. */
void pp_host_facts_add_to(const PpHostFacts *facts, PpTemplate *tmpl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHostFacts, pp_host_facts_free)

G_END_DECLS
