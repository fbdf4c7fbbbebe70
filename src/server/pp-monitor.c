#define G_LOG_DOMAIN "pp-monitor"

#include "config.h"

#include <string.h>

#include "pp-monitor.h"
#include "pp-probe-report.h"
#include "pp-probe-run.h"

/* One probe of one host, from its start to its callback. The callback owns
 * it; a monitor freed meanwhile leaves it with monitor NULL, and the
 * callback then only frees it. */
typedef struct {
  PpMonitor *monitor; /* NULL once the monitor is freed */
  gint64 host_id;
  char *host_name;
  char *argv0;
  GCancellable *cancellable;
} PpMonitorJob;

/* A host in push mode, as the monitor follows it. */
typedef struct {
  /* Unix seconds of its last pushed report, or of when it was first seen
   * in push mode (this monitor's start, or its token's making, whichever
   * is later): its staleness counts from there. */
  gint64 seen;
  gint64 last_report; /* unix seconds of its last report since the start; 0: none */
} PushHost;

struct _PpMonitor {
  PpStore *store;
  GMainContext *context;
  guint interval_s;
  guint timeout_s;
  guint parallel;
  char *probe_path;
  guint connect_timeout_s;
  gsize max_output;
  void (*host_checked)(gint64 host_id, gpointer data);
  gpointer host_checked_data;
  GSource *timer;
  GQueue waiting;     /* gint64 * host ids, owned, in the order to probe them */
  GHashTable *busy;   /* gint64 * host ids (a set, owned): waiting or running */
  GPtrArray *running; /* PpMonitorJob *, not owned */
  PpMonitorCounts counts;
  GHashTable *push; /* push mode: gint64 * host id (owned) -> PushHost * (owned) */
  gint64 started;   /* unix seconds */
};

static void
job_free(PpMonitorJob *job)
{
  if (job == NULL)
    return;
  g_free(job->host_name);
  g_free(job->argv0);
  g_clear_object(&job->cancellable);
  g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpMonitorJob, job_free)

static void monitor_pump(PpMonitor *monitor);

/* Queues @host_id unless it is waiting or running already. @first puts it
 * at the head of the queue. */
static void
monitor_queue(PpMonitor *monitor, gint64 host_id, gboolean first)
{
  if (g_hash_table_contains(monitor->busy, &host_id))
    return;
  g_hash_table_add(monitor->busy, g_memdup2(&host_id, sizeof host_id));
  if (first)
    g_queue_push_head(&monitor->waiting, g_memdup2(&host_id, sizeof host_id));
  else
    g_queue_push_tail(&monitor->waiting, g_memdup2(&host_id, sizeof host_id));
}

/* The host is neither waiting nor running any more. */
/* The host's turn is over: free for the next, and checked. */
static void
monitor_release(PpMonitor *monitor, gint64 host_id)
{
  g_hash_table_remove(monitor->busy, &host_id);
  if (monitor->host_checked != NULL)
    monitor->host_checked(host_id, monitor->host_checked_data);
}

/* The state a probe's outcome gives a host: a disabled one stays so. */
static PpHostState
next_state(PpHostState before, PpHostState outcome)
{
  return before == PP_HOST_STATE_DISABLED ? PP_HOST_STATE_DISABLED : outcome;
}

/* The probe failed: records @message as the host's error. */
static void
job_record_failure(PpMonitor *monitor, PpMonitorJob *job, PpHostState before, const char *message)
{
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  PpHostState after = next_state(before, PP_HOST_STATE_ERROR);

  if (!pp_store_host_set_error(monitor->store, job->host_id, message, now, &error)) {
    if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND))
      g_debug("host '%s': deleted while probed, ignoring", job->host_name);
    else
      g_warning("host '%s': cannot record the probe's failure: %s", job->host_name, error->message);
    return;
  }
  if (after != before)
    g_message("host '%s': %s -> %s: %s", job->host_name, pp_host_state_to_string(before),
              pp_host_state_to_string(after), message);
  else
    g_debug("host '%s': %s", job->host_name, message);
}

/* The probe printed @text: taken in as a pushed report is (unchanged:
 * a hash comparison and last_monitored; else parsed and reconciled), or
 * its failure recorded when it does not parse. */
static void
job_record_output(PpMonitor *monitor, PpMonitorJob *job, PpHostState before, const char *text,
                  gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = NULL;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  PpHostState after;
  PpIngestResult result = { 0 };

  if (!pp_store_host_ingest_probe(monitor->store, job->host_id, text, len, now, &result, &error)) {
    if (pp_probe_report_error_is_input(error)) {
      g_autofree char *message = g_strdup_printf(
          "probe '%s' printed a report that does not parse: %s", job->argv0, error->message);

      monitor->counts.probes_failed++;
      job_record_failure(monitor, job, before, message);
    } else if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_debug("host '%s': deleted while probed, ignoring", job->host_name);
    } else {
      g_warning("host '%s': cannot store the probe's report: %s", job->host_name, error->message);
    }
    return;
  }
  monitor->counts.probes_ok++;
  if (!result.changed) {
    monitor->counts.probes_unchanged++;
    g_debug("host '%s': the same report as the last, nothing to reconcile", job->host_name);
    return;
  }
  /* Still in error when its libvirt does not answer. */
  host = pp_store_host_get(monitor->store, job->host_id, NULL);
  after = host != NULL ? host->state : next_state(before, PP_HOST_STATE_MONITORED);
  if (after != before)
    g_message("host '%s': %s -> %s: %u devices (%u new, %u removed, %u gone while held)",
              job->host_name, pp_host_state_to_string(before), pp_host_state_to_string(after),
              result.devices, result.stats.added, result.stats.removed, result.stats.flagged);
  else
    g_debug("host '%s': %u devices (%u new, %u refreshed, %u removed, %u gone while held)",
            job->host_name, result.devices, result.stats.added, result.stats.updated,
            result.stats.removed, result.stats.flagged);
}

static void
on_probe_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(PpMonitorJob) job = user_data;
  PpMonitor *monitor = job->monitor;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = pp_probe_run_finish(result, &error);
  g_autoptr(PpHost) host = NULL;
  g_autofree char *message = NULL;

  if (monitor == NULL)
    return; /* the monitor is gone; the probe was killed */

  g_ptr_array_remove_fast(monitor->running, job);
  monitor->counts.running = monitor->running->len;

  if (out == NULL) {
    message = g_strdup_printf("probe '%s' %s", job->argv0, error->message);
    monitor->counts.probes_failed++;
    if (g_error_matches(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TIMEOUT))
      monitor->counts.probes_timed_out++;
  }

  g_clear_error(&error);
  host = pp_store_host_get(monitor->store, job->host_id, &error);
  /* It got a report token while probed: its own reports count now. */
  if (host != NULL && g_hash_table_contains(monitor->push, &job->host_id)) {
    g_debug("host '%s': pushes its reports now, ignoring the probe's", job->host_name);
    g_clear_pointer(&host, pp_host_free);
  }
  if (host == NULL) {
    if (out != NULL)
      monitor->counts.probes_ok++; /* printed a report, not taken in */
    if (error != NULL && !g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND))
      g_warning("host '%s': cannot read it back: %s", job->host_name, error->message);
    else if (error != NULL)
      g_debug("host '%s': deleted while probed, ignoring", job->host_name);
  } else if (out != NULL) {
    gsize len = 0;
    const char *text = g_bytes_get_data(out, &len);

    job_record_output(monitor, job, host->state, len > 0 ? text : "", len);
  } else {
    job_record_failure(monitor, job, host->state, message);
  }

  monitor_release(monitor, job->host_id);
  monitor_pump(monitor);
}

static gint64
now_s(void)
{
  return g_get_real_time() / G_USEC_PER_SEC;
}

static void
push_set_seen(PpMonitor *monitor, gint64 host_id, gint64 seen, gboolean reported)
{
  PushHost *push = g_hash_table_lookup(monitor->push, &host_id);

  if (push == NULL) {
    push = g_new0(PushHost, 1);
    g_hash_table_insert(monitor->push, g_memdup2(&host_id, sizeof host_id), push);
  }
  push->seen = seen;
  if (reported)
    push->last_report = seen;
}

/* Refreshes the push hosts from the store (their tokens); when they
 * cannot be read, the set stays as it was. */
static void
push_refresh(PpMonitor *monitor)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = pp_store_host_token_list(monitor->store, &error);
  g_autoptr(GHashTable) now_push = NULL;
  GHashTableIter iter;
  gpointer key;

  if (tokens == NULL) {
    g_warning("monitor pass: cannot list the push hosts: %s, ignoring", error->message);
    return;
  }
  now_push = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < tokens->len; i++) {
    const PpHostToken *token = g_ptr_array_index(tokens, i);

    g_hash_table_add(now_push, (gpointer)&token->host_id);
    if (!g_hash_table_contains(monitor->push, &token->host_id))
      push_set_seen(monitor, token->host_id, MAX(monitor->started, token->created), FALSE);
  }
  g_hash_table_iter_init(&iter, monitor->push);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    if (!g_hash_table_contains(now_push, key))
      g_hash_table_iter_remove(&iter);
}

/* A push host in a pass: in error when its reports are stale. */
static void
push_check(PpMonitor *monitor, const PpHost *host)
{
  const PushHost *push = g_hash_table_lookup(monitor->push, &host->id);
  const gint64 *seen = push != NULL ? &push->seen : NULL;
  gint64 limit = (gint64)PP_MONITOR_PUSH_STALE_INTERVALS * monitor->interval_s;
  gint64 now = now_s();
  g_autofree char *message = NULL;
  PpMonitorJob stale = { .monitor = monitor, .host_id = host->id, .host_name = host->name };

  /* Once: a host in error already says why (a stale push, or a report
   * that came before from a probe). */
  if (seen == NULL || now - *seen <= limit || host->error != NULL)
    return;
  message = g_strdup_printf("no report pushed for %" G_GINT64_FORMAT " s (more than %u monitor "
                            "intervals of %u s): check pcipass-probe-push.timer on the host and "
                            "its token",
                            now - *seen, PP_MONITOR_PUSH_STALE_INTERVALS, monitor->interval_s);
  monitor->counts.reports_stale++;
  job_record_failure(monitor, &stale, host->state, message);
}

gboolean
pp_monitor_ingest(PpMonitor *monitor, gint64 host_id, const char *text, gsize len,
                  PpIngestResult *ret_result, GError **error)
{
  PpIngestResult result = { 0 };
  gint64 now = now_s();
  GError *local = NULL;

  g_return_val_if_fail(monitor != NULL, FALSE);

  if (!pp_store_host_ingest(monitor->store, host_id, text, len, now, &result, &local)) {
    if (pp_probe_report_error_is_input(local))
      monitor->counts.reports_refused++;
    g_propagate_error(error, local);
    return FALSE;
  }
  if (g_hash_table_contains(monitor->push, &host_id))
    push_set_seen(monitor, host_id, now, TRUE);
  if (!result.changed) {
    monitor->counts.reports_unchanged++;
  } else {
    g_autoptr(PpHost) host = pp_store_host_get(monitor->store, host_id, NULL);

    monitor->counts.reports_changed++;
    if (host != NULL)
      g_debug("host '%s': pushed report: %s, %u devices (%u new, %u removed, %u gone while held)",
              host->name, pp_host_state_to_string(host->state), result.devices, result.stats.added,
              result.stats.removed, result.stats.flagged);
    /* As after a probe: its domains are reconciled. */
    if (monitor->host_checked != NULL)
      monitor->host_checked(host_id, monitor->host_checked_data);
  }
  if (ret_result != NULL)
    *ret_result = result;
  return TRUE;
}

void
pp_monitor_set_push(PpMonitor *monitor, gint64 host_id, gboolean push)
{
  g_return_if_fail(monitor != NULL);

  if (push)
    push_set_seen(monitor, host_id, now_s(), FALSE);
  else
    g_hash_table_remove(monitor->push, &host_id);
}

gboolean
pp_monitor_is_push(PpMonitor *monitor, gint64 host_id)
{
  g_return_val_if_fail(monitor != NULL, FALSE);

  return g_hash_table_contains(monitor->push, &host_id);
}

gint64
pp_monitor_last_report(PpMonitor *monitor, gint64 host_id)
{
  const PushHost *push;

  g_return_val_if_fail(monitor != NULL, 0);

  push = g_hash_table_lookup(monitor->push, &host_id);
  return push != NULL ? push->last_report : 0;
}

/* Starts the probe of @host_id, or records why it cannot run. */
static void
monitor_start(PpMonitor *monitor, gint64 host_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = pp_store_host_get(monitor->store, host_id, &error);
  g_auto(GStrv) argv = NULL;
  PpProbeTarget target = { 0 };
  PpMonitorJob *job;
  guint timeout_s;

  if (host == NULL) {
    if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND))
      g_debug("host %" G_GINT64_FORMAT ": deleted before its probe, skipping", host_id);
    else
      g_warning("host %" G_GINT64_FORMAT ": cannot read it: %s, skipping", host_id, error->message);
    monitor_release(monitor, host_id);
    return;
  }
  if (host->state == PP_HOST_STATE_DISABLED) {
    g_debug("host '%s': disabled, skipping", host->name);
    monitor_release(monitor, host_id);
    return;
  }
  /* Its reports come to us; a probe here would describe another machine. */
  if (g_hash_table_contains(monitor->push, &host_id)) {
    g_debug("host '%s': pushes its reports, not probed", host->name);
    monitor_release(monitor, host_id);
    return;
  }

  target.probe_command = (const char *const *)host->probe_command;
  target.ssh_user = host->ssh_user;
  target.ssh_host = host->ssh_host;
  target.ssh_port = host->ssh_port;
  target.probe_path = monitor->probe_path;
  target.connect_timeout_s = monitor->connect_timeout_s;
  argv = pp_probe_argv_build(&target, &error);
  if (argv == NULL) {
    g_autofree char *message = g_strdup_printf("cannot run the probe: %s", error->message);
    PpMonitorJob unstarted = { .monitor = monitor, .host_id = host_id, .host_name = host->name };

    monitor->counts.probes_failed++;
    job_record_failure(monitor, &unstarted, host->state, message);
    monitor_release(monitor, host_id);
    return;
  }

  job = g_new0(PpMonitorJob, 1);
  job->monitor = monitor;
  job->host_id = host_id;
  job->host_name = g_strdup(host->name);
  job->argv0 = g_strdup(argv[0]);
  job->cancellable = g_cancellable_new();
  g_ptr_array_add(monitor->running, job);
  monitor->counts.running = monitor->running->len;
  g_debug("host '%s': probing with '%s'", host->name, argv[0]);

  /* Clamped so that the milliseconds fit in a guint. */
  timeout_s = MIN(monitor->timeout_s, G_MAXUINT / 1000);
  pp_probe_run_async((const char *const *)argv, timeout_s * 1000, monitor->max_output,
                     job->cancellable, on_probe_done, job);
}

/* Starts waiting probes while fewer than parallel run. */
static void
monitor_pump(PpMonitor *monitor)
{
  while (monitor->running->len < monitor->parallel && !g_queue_is_empty(&monitor->waiting)) {
    g_autofree gint64 *id = g_queue_pop_head(&monitor->waiting);

    monitor_start(monitor, *id);
  }
}

/* Queues every enabled host that is not waiting or running already. */
static void
monitor_pass(PpMonitor *monitor)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hosts = pp_store_host_list(monitor->store, &error);
  guint queued = 0;

  monitor->counts.passes++;
  if (hosts == NULL) {
    g_warning("monitor pass: cannot list the hosts: %s, skipping", error->message);
    return;
  }
  push_refresh(monitor);
  for (guint i = 0; i < hosts->len; i++) {
    const PpHost *host = g_ptr_array_index(hosts, i);

    if (host->state == PP_HOST_STATE_DISABLED) {
      /* Not probed; its VMs, if any, still follow their domains. */
      if (monitor->host_checked != NULL)
        monitor->host_checked(host->id, monitor->host_checked_data);
      continue;
    }
    if (g_hash_table_contains(monitor->push, &host->id)) {
      /* Not probed: stale or not, its domains are followed. */
      push_check(monitor, host);
      if (monitor->host_checked != NULL)
        monitor->host_checked(host->id, monitor->host_checked_data);
      continue;
    }
    if (g_hash_table_contains(monitor->busy, &host->id)) {
      g_debug("host '%s': still being probed, skipping", host->name);
      continue;
    }
    monitor_queue(monitor, host->id, FALSE);
    queued++;
  }
  g_debug("monitor pass %" G_GUINT64_FORMAT ": %u of %u hosts queued", monitor->counts.passes,
          queued, hosts->len);
  monitor_pump(monitor);
}

static gboolean
on_timer(gpointer user_data)
{
  monitor_pass(user_data);
  return G_SOURCE_CONTINUE;
}

PpMonitor *
pp_monitor_new(PpStore *store, const PpMonitorConfig *config)
{
  PpMonitor *monitor;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(config != NULL, NULL);
  g_return_val_if_fail(config->interval_s > 0, NULL);
  g_return_val_if_fail(config->timeout_s > 0, NULL);
  g_return_val_if_fail(config->parallel > 0, NULL);
  g_return_val_if_fail(config->probe_path != NULL, NULL);

  monitor = g_new0(PpMonitor, 1);
  monitor->store = store;
  monitor->context = g_main_context_ref_thread_default();
  monitor->interval_s = config->interval_s;
  monitor->timeout_s = config->timeout_s;
  monitor->parallel = config->parallel;
  monitor->probe_path = g_strdup(config->probe_path);
  monitor->connect_timeout_s = config->connect_timeout_s;
  monitor->max_output = config->max_output;
  monitor->host_checked = config->host_checked;
  monitor->host_checked_data = config->host_checked_data;
  g_queue_init(&monitor->waiting);
  monitor->busy = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  monitor->running = g_ptr_array_new();
  monitor->push = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  monitor->started = now_s();

  monitor->timer = g_timeout_source_new_seconds(monitor->interval_s);
  g_source_set_callback(monitor->timer, on_timer, monitor, NULL);
  g_source_attach(monitor->timer, monitor->context);

  monitor_pass(monitor);
  return monitor;
}

void
pp_monitor_poke(PpMonitor *monitor, gint64 host_id)
{
  g_return_if_fail(monitor != NULL);

  if (g_hash_table_contains(monitor->busy, &host_id)) {
    g_debug("host %" G_GINT64_FORMAT ": already being probed", host_id);
    return;
  }
  monitor_queue(monitor, host_id, TRUE);
  monitor_pump(monitor);
}

void
pp_monitor_get_counts(PpMonitor *monitor, PpMonitorCounts *ret)
{
  g_return_if_fail(monitor != NULL);
  g_return_if_fail(ret != NULL);

  *ret = monitor->counts;
}

void
pp_monitor_free(PpMonitor *monitor)
{
  if (monitor == NULL)
    return;
  if (monitor->timer != NULL) {
    g_source_destroy(monitor->timer);
    g_source_unref(monitor->timer);
  }
  /* The jobs outlive the monitor until their callbacks: detach them, then
   * kill their probes (synchronously, in g_cancellable_cancel). */
  for (guint i = 0; i < monitor->running->len; i++) {
    PpMonitorJob *job = g_ptr_array_index(monitor->running, i);

    job->monitor = NULL;
    g_cancellable_cancel(job->cancellable);
  }
  g_ptr_array_unref(monitor->running);
  g_queue_clear_full(&monitor->waiting, g_free);
  g_hash_table_unref(monitor->busy);
  g_hash_table_unref(monitor->push);
  g_main_context_unref(monitor->context);
  g_free(monitor->probe_path);
  g_free(monitor);
}
