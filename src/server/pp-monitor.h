/* pp-monitor: every interval, the probe of every enabled host, run in
 * parallel (bounded), its report parsed with the core template parser and
 * reconciled into the store in one transaction. Lives in pcipassd's main
 * loop: probes are child processes whose results come back to the loop,
 * and the store is touched only there. */
#pragma once

#include <gio/gio.h>

#include "pp-store.h"

G_BEGIN_DECLS

typedef struct {
  guint interval_s;        /* between the starts of two passes */
  guint timeout_s;         /* a probe past this is killed */
  guint parallel;          /* the most probes running at once */
  const char *probe_path;  /* the probe program for hosts without a command */
  guint connect_timeout_s; /* ssh's ConnectTimeout */
  gsize max_output;        /* the most bytes a probe may print */
  /* Nullable: called with each host's id once its turn in a pass is over
   * (its probe recorded, or skipped when disabled), and after each probe
   * asked for with pp_monitor_poke(): pcipassd reconciles the host's
   * domains then. */
  void (*host_checked)(gint64 host_id, gpointer data);
  gpointer host_checked_data;
} PpMonitorConfig;

typedef struct _PpMonitor PpMonitor;

/* Starts the first pass at once, then one every interval_s. @store must
 * outlive the monitor. Returns: (transfer full). */
PpMonitor *pp_monitor_new(PpStore *store, const PpMonitorConfig *config);

/* Probes host @host_id now (outside the schedule), unless a probe of it is
 * already running. */
void pp_monitor_poke(PpMonitor *monitor, gint64 host_id);

/* Counters for /metrics. */
typedef struct {
  guint64 probes_ok;
  guint64 probes_failed;
  guint64 probes_timed_out;
  guint running;
  guint64 passes;
} PpMonitorCounts;

void pp_monitor_get_counts(PpMonitor *monitor, PpMonitorCounts *ret);

/* Kills running probes and stops the timer. */
void pp_monitor_free(PpMonitor *monitor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpMonitor, pp_monitor_free)

G_END_DECLS
