/* pp-monitor: every interval, the probe of every enabled host, run in
 * parallel (bounded), its report parsed with the core template parser and
 * reconciled into the store in one transaction. Lives in pcipassd's main
 * loop: probes are child processes whose results come back to the loop,
 * and the store is touched only there.
 *
 * A host with a report token is in push mode: it is never probed; its
 * reports come through pp_monitor_ingest() (POST /v1/hosts/NAME/report).
 * When none came for PP_MONITOR_PUSH_STALE_INTERVALS intervals, the pass
 * puts it in state error saying so; its next report clears that. */
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

/* How many monitor intervals without a pushed report make a push host's
 * reports stale (state error). */
#define PP_MONITOR_PUSH_STALE_INTERVALS 3

/* Starts the first pass at once, then one every interval_s. @store must
 * outlive the monitor. Returns: (transfer full). */
PpMonitor *pp_monitor_new(PpStore *store, const PpMonitorConfig *config);

/* Probes host @host_id now (outside the schedule), unless a probe of it is
 * already running. */
void pp_monitor_poke(PpMonitor *monitor, gint64 host_id);

/**
 * pp_monitor_ingest:
 *
 * Takes a report @host_id pushed (pp_store_host_ingest()): the time of
 * the last report is kept in memory (the push host's staleness, not
 * written for an unchanged report); a changed one is reconciled, and the
 * host's turn is over as after a probe (host_checked). Errors are
 * pp_store_host_ingest()'s.
 */
gboolean pp_monitor_ingest(PpMonitor *monitor, gint64 host_id, const char *text, gsize len,
                           PpIngestResult *ret_result, GError **error);

/* The host got a report token (@push TRUE) or lost it: it is not probed
 * from now on, or probed again from the next pass. */
void pp_monitor_set_push(PpMonitor *monitor, gint64 host_id, gboolean push);

/* Whether the host pushes its reports (it has a report token): the
 * monitor does not probe it. */
gboolean pp_monitor_is_push(PpMonitor *monitor, gint64 host_id);

/* When a push host's last report came (changed or not; kept in memory,
 * not in the store: an unchanged report writes nothing), in unix seconds;
 * 0 when none came since pcipassd started, or the host does not push. */
gint64 pp_monitor_last_report(PpMonitor *monitor, gint64 host_id);

/* Counters for /metrics. */
typedef struct {
  guint64 probes_ok;
  guint64 probes_failed;
  guint64 probes_unchanged; /* of probes_ok: the same report as the host's last */
  guint64 probes_timed_out;
  guint running;
  guint64 passes;
  guint64 reports_unchanged; /* pushed reports that were the last one again */
  guint64 reports_changed;   /* pushed reports reconciled */
  guint64 reports_refused;   /* pushed reports that did not parse */
  guint64 reports_stale;     /* push hosts put in error for want of reports */
} PpMonitorCounts;

void pp_monitor_get_counts(PpMonitor *monitor, PpMonitorCounts *ret);

/* Kills running probes and stops the timer. */
void pp_monitor_free(PpMonitor *monitor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpMonitor, pp_monitor_free)

G_END_DECLS
