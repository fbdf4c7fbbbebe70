/* pp-monitor on a real store in a temporary folder, with hosts whose
 * probe_command runs the real pcipass-probe on fixture trees (one tree per
 * host), or fails: a bad pci.conf, a report that does not parse, a hang
 * past the timeout. Passes, the parallel bound, disabled and deleted
 * hosts, refreshes, pokes, and freeing the monitor while probes run. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "pp-monitor.h"
#include "pp-probe-report.h"
#include "pp-store.h"
#include "pp-test-util.h"

#define HWLOC_2PA "hwloc-sysfs/2pa-pcidomain32bits.tar.bz2"
#define HWLOC_32INTEL "hwloc-sysfs/32intel64-2p8co2t+8ve.tar.bz2"
#define HWLOC_40INTEL "hwloc-sysfs/40intel64-2g2n4c+pcilocality.tar.bz2"
#define PCI_IDS "/usr/share/misc/pci.ids"

/* A hang guard, not a timing assertion. */
#define DEADLINE_S 60

/* The fixture trees, unpacked once, read-only: tarball, folder, devices. */
static const struct {
  const char *tarball;
  const char *folder;
  guint devices;
} trees[] = {
  { HWLOC_2PA, "2pa-pcidomain32bits", 9 },
  { HWLOC_32INTEL, "32intel64-2p8co2t+8ve", 28 },
  { HWLOC_40INTEL, "40intel64-2g2n4c+pci", 37 },
};

static char *shared_dir;

typedef struct {
  char *dir;
  PpStore *store;
  char *probe;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  fx->dir = pp_test_mkdtemp();
  path = g_build_filename(fx->dir, "pcipassd.db", NULL);
  fx->store = pp_store_open(path, &error);
  g_assert_no_error(error);
  fx->probe = pp_test_build_path("src/host/pcipass-probe");
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
  g_clear_pointer(&fx->store, pp_store_free);
  pp_test_rmtree(fx->dir);
  g_free(fx->dir);
  g_free(fx->probe);
}

static char *
tree_sys(guint i)
{
  return g_build_filename(shared_dir, trees[i].folder, "sys", NULL);
}

static gint64
add_host(Fixture *fx, const char *name, const char *const *command)
{
  PpHostSpec spec = { .name = name, .probe_command = command };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = pp_store_host_create(fx->store, &spec, 1000, &error);

  g_assert_no_error(error);
  return host->id;
}

/* A host whose probe is the real one on @sys, reporting @name. */
static gint64
add_probe_host(Fixture *fx, const char *name, const char *sys)
{
  const char *const argv[] = { fx->probe, "--sysfs-root", sys,  "--pci-ids", PCI_IDS,
                               "--all",   "--hostname",   name, NULL };

  return add_host(fx, name, argv);
}

static PpHost *
get_host(Fixture *fx, gint64 id)
{
  g_autoptr(GError) error = NULL;
  PpHost *host = pp_store_host_get(fx->store, id, &error);

  g_assert_no_error(error);
  return host;
}

static PpMonitorConfig
config_default(void)
{
  return (PpMonitorConfig){ .interval_s = 3600,
                            .timeout_s = 60,
                            .parallel = 4,
                            .probe_path = "pcipass-probe",
                            .connect_timeout_s = 5,
                            .max_output = PP_PROBE_REPORT_MAX_SIZE };
}

/* ---- waiting on the main loop -------------------------------------------- */

typedef gboolean (*Cond)(gpointer data);

static gboolean
on_tick(gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default context until @cond holds, failing the test past
 * the deadline. @monitor (nullable): its running count is checked against
 * @parallel at every step. */
static void
iterate_until_bounded(Cond cond, gpointer data, PpMonitor *monitor, guint parallel)
{
  gint64 deadline = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add(50, on_tick, NULL);

  for (;;) {
    if (monitor != NULL) {
      PpMonitorCounts counts;

      pp_monitor_get_counts(monitor, &counts);
      g_assert_cmpuint(counts.running, <=, parallel);
    }
    if (cond(data))
      break;
    if (g_get_monotonic_time() > deadline)
      g_error("still waiting after %d s", DEADLINE_S);
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(tick);
}

static void
iterate_until(Cond cond, gpointer data)
{
  iterate_until_bounded(cond, data, NULL, 0);
}

/* Runs what is ready in the default context until nothing is. */
static void
drain(void)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

typedef struct {
  PpMonitor *monitor;
  guint64 probes; /* ok + failed at least */
  guint64 passes; /* passes at least */
} CountsWait;

static gboolean
counts_reached(gpointer data)
{
  CountsWait *wait = data;
  PpMonitorCounts counts;

  pp_monitor_get_counts(wait->monitor, &counts);
  return counts.probes_ok + counts.probes_failed >= wait->probes && counts.passes >= wait->passes &&
         counts.running == 0;
}

static void
wait_probes(PpMonitor *monitor, guint64 probes, guint parallel)
{
  CountsWait wait = { monitor, probes, 0 };

  iterate_until_bounded(counts_reached, &wait, monitor, parallel);
}

typedef struct {
  Fixture *fx;
  gint64 id;
  guint total;
} TotalWait;

static gboolean
host_total_is(gpointer data)
{
  TotalWait *wait = data;
  g_autoptr(PpHost) host = get_host(wait->fx, wait->id);

  return host->state == PP_HOST_STATE_MONITORED && host->pci_total == wait->total;
}

static gboolean
passes_reached(gpointer data)
{
  PpMonitorCounts counts;

  pp_monitor_get_counts(data, &counts);
  return counts.passes >= 3;
}

/* The pid of a live process whose command line is exactly @argv, or 0. */
static pid_t
find_process(const char *const *argv)
{
  g_autoptr(GString) want = g_string_new(NULL);
  g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull(proc);
  for (guint i = 0; argv[i] != NULL; i++)
    g_string_append_len(want, argv[i], (gssize)strlen(argv[i]) + 1);
  while ((name = g_dir_read_name(proc)) != NULL) {
    g_autofree char *path = NULL;
    g_autofree char *cmdline = NULL;
    gsize len = 0;

    if (strspn(name, "0123456789") != strlen(name))
      continue;
    path = g_build_filename("/proc", name, "cmdline", NULL);
    if (!g_file_get_contents(path, &cmdline, &len, NULL))
      continue;
    if (len == want->len && memcmp(cmdline, want->str, len) == 0)
      return (pid_t)g_ascii_strtoll(name, NULL, 10);
  }
  return 0;
}

/* A sleep's argument that no other test process uses, so that /proc finds
 * this process's children only: @seconds (past the hang guard where a sleep
 * must be killed), then this pid as the fraction. */
static char *
sleep_arg(guint seconds)
{
  return g_strdup_printf("%u.%u", seconds, (guint)getpid());
}

static gboolean
process_running(gpointer data)
{
  return find_process(data) != 0;
}

/* Gone from /proc: dead and reaped. */
static gboolean
pid_reaped(gpointer data)
{
  g_autofree char *path = g_strdup_printf("/proc/%d", GPOINTER_TO_INT(data));

  return !g_file_test(path, G_FILE_TEST_EXISTS);
}

static void
assert_contains(const char *text, const char *part)
{
  if (text == NULL || strstr(text, part) == NULL)
    g_error("'%s' is not in '%s'", part, text ? text : "(null)");
}

/* ---- tests --------------------------------------------------------------- */

static void
test_hosts(Fixture *fx, gconstpointer data)
{
  g_autofree char *conf = g_build_filename(fx->dir, "bad-pci.conf", NULL);
  g_autofree char *sys0 = tree_sys(0);
  g_autofree char *sys1 = tree_sys(1);
  g_autofree char *sys2 = tree_sys(2);
  const char *const bad_argv[] = { fx->probe, "--sysfs-root", sys0, "--config", conf, NULL };
  const char *const junk_argv[] = { "/bin/echo", "PCI = [ ADDRESS = ", NULL };
  const char *const *off_argv = bad_argv;
  gint64 ids[3];
  gint64 bad, junk, off;
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  PpMonitorCounts counts;
  g_autofree char *own = NULL;

  pp_test_write_file(conf, ":filter: [ \"zz\" ]\n");
  ids[0] = add_probe_host(fx, "hv-a", sys0);
  bad = add_host(fx, "hv-bad", bad_argv);
  ids[1] = add_probe_host(fx, "hv-b", sys1);
  off = add_host(fx, "hv-off", off_argv);
  pp_store_host_set_enabled(fx->store, off, FALSE, &error);
  g_assert_no_error(error);
  junk = add_host(fx, "hv-junk", junk_argv);
  ids[2] = add_probe_host(fx, "hv-c", sys2);

  config.parallel = 2;
  monitor = pp_monitor_new(fx->store, &config);
  wait_probes(monitor, 5, config.parallel);

  for (guint i = 0; i < 3; i++) {
    g_autoptr(PpHost) host = get_host(fx, ids[i]);
    g_autoptr(GPtrArray) devices = pp_store_host_list_devices(fx->store, ids[i], &error);

    g_assert_no_error(error);
    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "monitored");
    g_assert_null(host->error);
    g_assert_cmpstr(host->reported_hostname, ==, host->name);
    g_assert_cmpuint(host->pci_total, ==, trees[i].devices);
    g_assert_cmpuint(devices->len, ==, trees[i].devices);
    g_assert_cmpint(host->last_monitored, >, 1000);
    g_assert_cmpint(host->cpu_count, >, 0);
  }

  {
    g_autoptr(PpHost) host = get_host(fx, bad);

    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "error");
    /* What failed, and the probe's own message. */
    own = g_strdup_printf("probe '%s' exit status 2: pcipass-probe: %s: line 1", fx->probe, conf);
    g_assert_true(g_str_has_prefix(host->error, own));
    assert_contains(host->error, "'zz'");
    g_assert_cmpuint(host->pci_total, ==, 0);
    g_assert_cmpint(host->last_monitored, >, 1000);
  }
  {
    g_autoptr(PpHost) host = get_host(fx, junk);

    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "error");
    assert_contains(host->error, "probe '/bin/echo' printed a report that does not parse: line ");
  }
  {
    g_autoptr(PpHost) host = get_host(fx, off);

    /* Never probed. */
    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "disabled");
    g_assert_null(host->error);
    g_assert_cmpint(host->last_monitored, ==, 0);
  }

  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.probes_ok, ==, 3);
  g_assert_cmpuint(counts.probes_failed, ==, 2);
  g_assert_cmpuint(counts.probes_timed_out, ==, 0);
  g_assert_cmpuint(counts.passes, ==, 1);
  g_assert_cmpuint(counts.running, ==, 0);
}

static void
test_parallel_one(Fixture *fx, gconstpointer data)
{
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  gint64 ids[G_N_ELEMENTS(trees)];
  PpMonitorCounts counts;

  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autofree char *sys = tree_sys(i);
    g_autofree char *name = g_strdup_printf("hv-%u", i);

    ids[i] = add_probe_host(fx, name, sys);
  }
  config.parallel = 1;
  monitor = pp_monitor_new(fx->store, &config);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.running, ==, 1);
  wait_probes(monitor, G_N_ELEMENTS(trees), config.parallel);

  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autoptr(PpHost) host = get_host(fx, ids[i]);

    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "monitored");
    g_assert_cmpuint(host->pci_total, ==, trees[i].devices);
  }
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.probes_ok, ==, G_N_ELEMENTS(trees));
}

static void
test_timeout(Fixture *fx, gconstpointer data)
{
  g_autofree char *seconds = sleep_arg(3101);
  const char *const argv[] = { "/bin/sleep", seconds, NULL };
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(PpHost) host = NULL;
  PpMonitorCounts counts;
  gint64 id = add_host(fx, "hv-hang", argv);

  config.timeout_s = 1;
  monitor = pp_monitor_new(fx->store, &config);
  wait_probes(monitor, 1, config.parallel);

  host = get_host(fx, id);
  g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "error");
  g_assert_cmpstr(host->error, ==, "probe '/bin/sleep' killed after 1 s (the probe timeout)");
  g_assert_cmpint(find_process(argv), ==, 0);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.probes_timed_out, ==, 1);
  g_assert_cmpuint(counts.probes_failed, ==, 1);
  g_assert_cmpuint(counts.probes_ok, ==, 0);
}

/* A report of @size bytes exactly: facts, one record, and a comment that
 * pads it. */
static void
write_report_of_size(const char *path, gsize size)
{
  g_autoptr(GString) text =
      g_string_new("CPU_COUNT = 4\nPCI = [ VENDOR = \"8086\", DEVICE = "
                   "\"1521\", CLASS = \"0200\", SHORT_ADDRESS = \"05:00.0\" ]\n#");
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint(text->len, <, size);
  while (text->len < size - 1)
    g_string_append_c(text, 'x');
  g_string_append_c(text, '\n');
  g_file_set_contents(path, text->str, (gssize)text->len, &error);
  g_assert_no_error(error);
}

/* The one limit of a probe's output (PP_PROBE_REPORT_MAX_SIZE): a report
 * of that size is read, one byte more stops the probe, and the host says
 * so. pcipassd's monitor runs with this limit. */
static void
test_output_limit(Fixture *fx, gconstpointer data)
{
  g_autofree char *cat = g_find_program_in_path("cat");
  g_autofree char *most_path = g_build_filename(fx->dir, "most.tmpl", NULL);
  g_autofree char *over_path = g_build_filename(fx->dir, "over.tmpl", NULL);
  const char *const most_argv[] = { cat, most_path, NULL };
  const char *const over_argv[] = { cat, over_path, NULL };
  g_autofree char *message = NULL;
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(PpHost) most = NULL;
  g_autoptr(PpHost) over = NULL;
  gint64 most_id, over_id;

  write_report_of_size(most_path, PP_PROBE_REPORT_MAX_SIZE);
  write_report_of_size(over_path, PP_PROBE_REPORT_MAX_SIZE + 1);
  most_id = add_host(fx, "hv-most", most_argv);
  over_id = add_host(fx, "hv-over", over_argv);
  monitor = pp_monitor_new(fx->store, &config);
  wait_probes(monitor, 2, config.parallel);

  most = get_host(fx, most_id);
  g_assert_cmpstr(pp_host_state_to_string(most->state), ==, "monitored");
  g_assert_cmpuint(most->pci_total, ==, 1);
  g_assert_cmpint(most->cpu_count, ==, 4);
  over = get_host(fx, over_id);
  g_assert_cmpstr(pp_host_state_to_string(over->state), ==, "error");
  message = g_strdup_printf("probe '%s' printed more than 4194304 bytes", cat);
  g_assert_cmpstr(over->error, ==, message);
  g_assert_cmpuint(over->pci_total, ==, 0);
}

/* A second pass sees what changed on the host: a device removed from the
 * tree is removed from the store; and a host in error comes back. */
static void
test_refresh(Fixture *fx, gconstpointer data)
{
  g_autofree char *own = g_build_filename(fx->dir, "tree", NULL);
  g_autofree char *sys = NULL;
  g_autofree char *link = NULL;
  g_autofree char *conf = g_build_filename(fx->dir, "pci.conf", NULL);
  const char *argv_conf[] = { fx->probe, "--sysfs-root", NULL, "--config", conf, NULL };
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  TotalWait wait = { fx, 0, trees[0].devices };
  TotalWait wait_conf = { fx, 0, trees[0].devices - 1 };
  gint64 conf_id;

  g_assert_cmpint(g_mkdir_with_parents(own, 0755), ==, 0);
  pp_test_unpack(trees[0].tarball, own);
  sys = g_build_filename(own, trees[0].folder, "sys", NULL);
  argv_conf[2] = sys;
  pp_test_write_file(conf, ":filter: [ \"zz\" ]\n");
  wait.id = add_probe_host(fx, "hv-a", sys);
  conf_id = add_host(fx, "hv-conf", argv_conf);
  wait_conf.id = conf_id;

  config.interval_s = 1;
  monitor = pp_monitor_new(fx->store, &config);
  iterate_until(host_total_is, &wait);
  {
    g_autoptr(PpHost) host = get_host(fx, conf_id);

    /* The first pass may be the only one so far, or not: either way the
     * host has been probed with the bad file, or not yet at all. */
    g_assert_true(host->state == PP_HOST_STATE_ERROR || host->state == PP_HOST_STATE_INIT);
  }

  /* The device goes from the tree, the bad pci.conf is fixed. */
  link = g_build_filename(sys, "bus", "pci", "devices", "0000:00:03.0", NULL);
  g_assert_cmpint(unlink(link), ==, 0);
  pp_test_write_file(conf, ":filter: '*:*'\n");
  wait.total = trees[0].devices - 1;
  iterate_until(host_total_is, &wait);
  iterate_until(host_total_is, &wait_conf);

  devices = pp_store_host_list_devices(fx->store, wait.id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(devices->len, ==, trees[0].devices - 1);
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_assert_cmpstr(pp_pci_address_format(&dev->pci.address, buf), !=, "0000:00:03.0");
  }
  {
    g_autoptr(PpHost) host = get_host(fx, conf_id);

    g_assert_null(host->error);
  }
}

/* The same report again (pull mode): a hash comparison, nothing
 * reconciled (the device rows keep their refresh, as they were), and
 * last_monitored still moves; a report that changes is reconciled. */
static void
test_unchanged(Fixture *fx, gconstpointer data)
{
  g_autofree char *own = g_build_filename(fx->dir, "tree", NULL);
  g_autofree char *sys = NULL;
  g_autofree char *link = NULL;
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(PpHost) first = NULL;
  g_autoptr(PpHost) later = NULL;
  TotalWait wait = { fx, 0, trees[0].devices };
  CountsWait counts_wait = { NULL, 3, 3 };
  PpMonitorCounts counts;

  g_assert_cmpint(g_mkdir_with_parents(own, 0755), ==, 0);
  pp_test_unpack(trees[0].tarball, own);
  sys = g_build_filename(own, trees[0].folder, "sys", NULL);
  wait.id = add_probe_host(fx, "hv-a", sys);
  config.interval_s = 1;
  monitor = pp_monitor_new(fx->store, &config);
  counts_wait.monitor = monitor;
  iterate_until(host_total_is, &wait);
  first = get_host(fx, wait.id);
  g_assert_cmpint(first->state, ==, PP_HOST_STATE_MONITORED);

  /* Three passes, the first reconciled, the next ones the same again. */
  iterate_until(counts_reached, &counts_wait);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.probes_failed, ==, 0);
  g_assert_cmpuint(counts.probes_unchanged, >=, 2);
  g_assert_cmpuint(counts.probes_unchanged, ==, counts.probes_ok - 1);
  later = get_host(fx, wait.id);
  g_assert_cmpint(later->last_monitored, >, first->last_monitored);
  g_assert_cmpint(later->state, ==, PP_HOST_STATE_MONITORED);
  g_assert_cmpuint(later->pci_total, ==, trees[0].devices);

  /* A device goes: the next report differs, and is reconciled. */
  link = g_build_filename(sys, "bus", "pci", "devices", "0000:00:03.0", NULL);
  g_assert_cmpint(unlink(link), ==, 0);
  wait.total = trees[0].devices - 1;
  iterate_until(host_total_is, &wait);
  {
    PpMonitorCounts after;

    pp_monitor_get_counts(monitor, &after);
    g_assert_cmpuint(after.probes_ok - after.probes_unchanged, ==, 2);
  }
}

static void
test_poke(Fixture *fx, gconstpointer data)
{
  g_autofree char *own = g_build_filename(fx->dir, "tree", NULL);
  g_autofree char *sys = NULL;
  g_autofree char *link = NULL;
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  TotalWait wait = { fx, 0, trees[0].devices };
  PpMonitorCounts counts;
  gint64 off;

  g_assert_cmpint(g_mkdir_with_parents(own, 0755), ==, 0);
  pp_test_unpack(trees[0].tarball, own);
  sys = g_build_filename(own, trees[0].folder, "sys", NULL);
  wait.id = add_probe_host(fx, "hv-a", sys);
  off = add_probe_host(fx, "hv-off", sys);
  pp_store_host_set_enabled(fx->store, off, FALSE, &error);
  g_assert_no_error(error);

  monitor = pp_monitor_new(fx->store, &config);
  wait_probes(monitor, 1, config.parallel);
  g_assert_true(host_total_is(&wait));

  link = g_build_filename(sys, "bus", "pci", "devices", "0000:00:03.0", NULL);
  g_assert_cmpint(unlink(link), ==, 0);
  /* Outside the schedule (the next pass is an hour away). */
  pp_monitor_poke(monitor, wait.id);
  /* Once only, though asked twice. */
  pp_monitor_poke(monitor, wait.id);
  wait.total = trees[0].devices - 1;
  iterate_until(host_total_is, &wait);
  wait_probes(monitor, 2, config.parallel);

  /* A disabled host and an unknown one are not probed. */
  pp_monitor_poke(monitor, off);
  pp_monitor_poke(monitor, 12345);
  drain();
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.running, ==, 0);
  g_assert_cmpuint(counts.probes_ok, ==, 2);
  g_assert_cmpuint(counts.probes_failed, ==, 0);
  g_assert_cmpuint(counts.passes, ==, 1);
  {
    g_autoptr(PpHost) host = get_host(fx, off);

    g_assert_cmpint(host->last_monitored, ==, 0);
    g_assert_cmpuint(host->pci_total, ==, 0);
  }
}

/* A host deleted while its probe runs: the result is dropped. */
static void
test_deleted_meanwhile(Fixture *fx, gconstpointer data)
{
  g_autofree char *seconds = sleep_arg(3102);
  const char *const argv[] = { "/bin/sleep", seconds, NULL };
  PpMonitorConfig config = config_default();
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hosts = NULL;
  gint64 id = add_host(fx, "hv-hang", argv);
  PpMonitorCounts counts;

  config.timeout_s = 1;
  monitor = pp_monitor_new(fx->store, &config);
  iterate_until(process_running, (gpointer)argv);
  g_assert_true(pp_store_host_delete(fx->store, id, &error));
  g_assert_no_error(error);
  wait_probes(monitor, 1, config.parallel);

  hosts = pp_store_host_list(fx->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hosts->len, ==, 0);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.probes_timed_out, ==, 1);
}

/* Passes while a probe runs do not start it again; freeing the monitor
 * kills it, and its callback, later, touches nothing freed. */
static void
test_free_while_running(Fixture *fx, gconstpointer data)
{
  g_autofree char *seconds = sleep_arg(3103);
  const char *const argv[] = { "/bin/sleep", seconds, NULL };
  PpMonitorConfig config = config_default();
  PpMonitor *monitor;
  PpMonitorCounts counts;
  gint64 id = add_host(fx, "hv-hang", argv);
  pid_t pid;

  /* Past the hang guard: only pp_monitor_free() can end it in time. */
  config.timeout_s = 3600;
  config.interval_s = 1;
  monitor = pp_monitor_new(fx->store, &config);
  iterate_until(process_running, (gpointer)argv);
  pid = find_process(argv);

  /* Two more passes: the host is still being probed, once. */
  iterate_until_bounded(passes_reached, monitor, monitor, 1);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.running, ==, 1);
  g_assert_cmpint(find_process(argv), ==, pid);

  pp_monitor_free(monitor);
  /* Killed at once, reaped by the loop; then the callbacks run. */
  iterate_until(pid_reaped, GINT_TO_POINTER(pid));
  drain();
  {
    g_autoptr(PpHost) host = get_host(fx, id);

    /* The store was not touched. */
    g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "init");
    g_assert_cmpint(host->last_monitored, ==, 0);
    g_assert_null(host->error);
  }
}

/* Push mode: a host with a report token is not probed, by a pass or a
 * poke; a probe that was running when it got its token is not recorded;
 * its pushed reports come through pp_monitor_ingest(), a changed one ends
 * its turn (host_checked) and an unchanged one does not. */
static void
count_checked(gint64 host_id, gpointer data)
{
  (*(guint *)data)++;
}

static void
test_push_mode(Fixture *fx, gconstpointer data)
{
  PpMonitorConfig config = config_default();
  const char *const slow[] = { "/bin/sleep", "1", NULL };
  g_autoptr(PpMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sys = tree_sys(0);
  g_autofree char *text = NULL;
  gint64 id = add_host(fx, "pusher", slow);
  guint checked = 0;
  PpIngestResult result;
  PpMonitorCounts counts;

  config.host_checked = count_checked;
  config.host_checked_data = &checked;
  monitor = pp_monitor_new(fx->store, &config);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.running, ==, 1);
  /* The token comes while its probe runs: the probe's report (empty,
   * which would be a host with no device) is not recorded. */
  g_assert_true(pp_store_host_token_set(fx->store, id,
                                        "a3f1c2e4b5d6978812345678901234567890abcd"
                                        "efabcdefabcdefabcdef0123",
                                        1000, &error));
  g_assert_no_error(error);
  pp_monitor_set_push(monitor, id, TRUE);
  wait_probes(monitor, 1, config.parallel);
  {
    g_autoptr(PpHost) host = get_host(fx, id);

    g_assert_cmpint(host->state, ==, PP_HOST_STATE_INIT);
    g_assert_cmpint(host->last_monitored, ==, 0);
  }
  /* Poked: not probed. */
  pp_monitor_poke(monitor, id);
  drain();
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.running, ==, 0);
  g_assert_cmpuint(counts.probes_ok + counts.probes_failed, ==, 1);

  /* Its report, pushed: changed, then the same again. */
  {
    const char *const argv[] = { fx->probe, "--sysfs-root", sys,      "--pci-ids", PCI_IDS,
                                 "--all",   "--hostname",   "pusher", NULL };
    g_autoptr(GSubprocess) proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);

    g_assert_no_error(error);
    g_assert_true(g_subprocess_communicate_utf8(proc, NULL, NULL, &text, NULL, &error));
    g_assert_no_error(error);
  }
  checked = 0;
  g_assert_true(pp_monitor_ingest(monitor, id, text, strlen(text), &result, &error));
  g_assert_no_error(error);
  g_assert_true(result.changed);
  g_assert_cmpuint(result.devices, ==, trees[0].devices);
  g_assert_cmpuint(checked, ==, 1);
  g_assert_true(pp_monitor_ingest(monitor, id, text, strlen(text), &result, &error));
  g_assert_false(result.changed);
  g_assert_cmpuint(checked, ==, 1);
  g_assert_false(pp_monitor_ingest(monitor, id, "PCI = [ X = 1 ]\n", 16, &result, &error));
  g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID);
  pp_monitor_get_counts(monitor, &counts);
  g_assert_cmpuint(counts.reports_changed, ==, 1);
  g_assert_cmpuint(counts.reports_unchanged, ==, 1);
  g_assert_cmpuint(counts.reports_refused, ==, 1);
  {
    g_autoptr(PpHost) host = get_host(fx, id);

    g_assert_cmpint(host->state, ==, PP_HOST_STATE_MONITORED);
    g_assert_cmpuint(host->pci_total, ==, trees[0].devices);
  }
}

int
main(int argc, char **argv)
{
  int status;

  g_test_init(&argc, &argv, NULL);

  shared_dir = pp_test_mkdtemp();
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++)
    pp_test_unpack(trees[i].tarball, shared_dir);

  g_test_add("/monitor/hosts", Fixture, NULL, fixture_setup, test_hosts, fixture_teardown);
  g_test_add("/monitor/parallel-one", Fixture, NULL, fixture_setup, test_parallel_one,
             fixture_teardown);
  g_test_add("/monitor/timeout", Fixture, NULL, fixture_setup, test_timeout, fixture_teardown);
  g_test_add("/monitor/output-limit", Fixture, NULL, fixture_setup, test_output_limit,
             fixture_teardown);
  g_test_add("/monitor/refresh", Fixture, NULL, fixture_setup, test_refresh, fixture_teardown);
  g_test_add("/monitor/unchanged", Fixture, NULL, fixture_setup, test_unchanged, fixture_teardown);
  g_test_add("/monitor/poke", Fixture, NULL, fixture_setup, test_poke, fixture_teardown);
  g_test_add("/monitor/push-mode", Fixture, NULL, fixture_setup, test_push_mode, fixture_teardown);
  g_test_add("/monitor/deleted-meanwhile", Fixture, NULL, fixture_setup, test_deleted_meanwhile,
             fixture_teardown);
  g_test_add("/monitor/free-while-running", Fixture, NULL, fixture_setup, test_free_while_running,
             fixture_teardown);

  status = g_test_run();
  pp_test_rmtree(shared_dir);
  g_free(shared_dir);
  return status;
}
