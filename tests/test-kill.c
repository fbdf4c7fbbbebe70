/* Nothing is lost at any instant: the real pcipassd is killed with SIGKILL
 * at random instants while clients create, terminate, power off and resume
 * VMs and the monitor probes its hosts, many times. After every kill, with
 * the daemon dead, the store itself is checked: PRAGMA integrity_check and
 * foreign_key_check, no device held by a VM that is pending or done or off
 * its host, every VM on a host holding one device per PCI request, every
 * VM with its history. After every restart, the domains are reconciled:
 * the VMs that ran when it was killed (libvirt's test driver, inside
 * pcipassd, lost their domains with it) are no longer said to run, unless
 * started again since.
 *
 * PP_KILL_CYCLES (default 30) sets how many kills; the seed of the random
 * instants is g_test's (--seed to replay a run). */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "pp-test-daemon.h"

/* Node-a (40intel64): 4 NICs of class 0200; node-b (ghw's I350 host): its
 * 8 VFs and the other functions. Two NICs, one, or none. */
static const char *const templates[] = {
  "CPU = 0.5\nMEMORY = 256\nPCI = [ CLASS = \"0200\" ]\n",
  "CPU = 0.5\nMEMORY = 256\nPCI = [ CLASS = \"0200\" ]\nPCI = [ CLASS = \"0200\" ]\n",
  "CPU = 0.1\nMEMORY = 64\n",
};

typedef struct {
  PpTestDaemon *f;
  GRand *rand;
  gint *stop; /* atomic */
  guint requests;
  guint answered;
} Client;

/* The ids of the VMs in @reply (GET /v1/vms) in @state (NULL: any but
 * done). */
static GArray *
vms_in(const PpTestReply *reply, const char *state)
{
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  size_t i;
  json_t *vm;

  json_array_foreach(json_object_get(reply->json, "vms"), i, vm)
  {
    const char *s = json_string_value(json_object_get(vm, "state"));
    gint64 id = json_integer_value(json_object_get(vm, "id"));

    if (state == NULL ? g_strcmp0(s, "done") != 0 : g_strcmp0(s, state) == 0)
      g_array_append_val(ids, id);
  }
  return ids;
}

/* One client: a random action every few milliseconds, whether the daemon
 * answers or not. */
static gpointer
client_thread(gpointer data)
{
  Client *c = data;

  while (!g_atomic_int_get(c->stop)) {
    g_auto(PpTestReply) reply = { 0 };
    gint32 dice = g_rand_int_range(c->rand, 0, 100);
    CURLcode code;

    c->requests++;
    if (dice < 45) {
      g_autoptr(json_t) body =
          json_pack("{s:s}", "template",
                    templates[g_rand_int_range(c->rand, 0, (gint32)G_N_ELEMENTS(templates))]);
      g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

      code = pp_test_http_try(c->f, c->f->socket, NULL, "POST", "/v1/vms", dumped, strlen(dumped),
                              &reply);
    } else {
      static const char *const actions[] = { "terminate", "poweroff", "resume" };
      static const char *const from[] = { NULL, "running", "poweroff" };
      guint a = dice < 75 ? 0 : dice < 90 ? 1 : 2;

      code = pp_test_http_try(c->f, c->f->socket, NULL, "GET", "/v1/vms", NULL, 0, &reply);
      if (code == CURLE_OK && reply.status == 200) {
        g_autoptr(GArray) ids = vms_in(&reply, from[a]);

        pp_test_reply_clear(&reply);
        if (ids->len > 0) {
          gint64 id = g_array_index(ids, gint64, g_rand_int_range(c->rand, 0, (gint32)ids->len));
          g_autofree char *path =
              g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/%s", id, actions[a]);

          code = pp_test_http_try(c->f, c->f->socket, NULL, "POST", path, NULL, 0, &reply);
        }
      }
    }
    if (code == CURLE_OK)
      c->answered++;
    g_usleep(code == CURLE_OK ? (gulong)g_rand_int_range(c->rand, 5000, 40000) : 50000);
  }
  return NULL;
}

static gint64
sql_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v;

  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

static void
assert_zero(sqlite3 *db, const char *what, const char *sql)
{
  gint64 n = sql_int(db, sql);

  if (n != 0)
    g_error("after a kill: %" G_GINT64_FORMAT " %s", n, what);
}

/* The store as the killed daemon left it. Returns: (transfer full) the
 * ids of the VMs that were running. */
static GArray *
check_store(const char *path, guint *ret_vms)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GArray *running = g_array_new(FALSE, FALSE, sizeof(gint64));

  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  g_assert_cmpstr((const char *)sqlite3_column_text(stmt, 0), ==, "ok");
  sqlite3_finalize(stmt);
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &stmt, NULL), ==,
                  SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_DONE);
  sqlite3_finalize(stmt);

  /* A device is held by one VM at most (one column), and only by a VM
   * that is on the device's host. */
  assert_zero(db, "devices held by a pending or done VM",
              "SELECT count(*) FROM pci_device d JOIN vms v ON v.id = d.vm_id "
              "WHERE v.state IN ('pending', 'done')");
  assert_zero(db, "devices held by a VM not on their host",
              "SELECT count(*) FROM pci_device d JOIN vms v ON v.id = d.vm_id "
              "WHERE v.host_id IS NOT d.host_id");
  /* Every VM on a host holds one device per PCI request, in slots 0..n-1
   * (the templates here are one request a line). */
  assert_zero(db, "VMs on a host without a device per request",
              "SELECT count(*) FROM vms v WHERE v.host_id IS NOT NULL AND "
              "(length(v.template) - length(replace(v.template, 'PCI = [', ''))) / 7 <> "
              "(SELECT count(*) FROM pci_device d WHERE d.vm_id = v.id AND d.vm_slot < "
              "(length(v.template) - length(replace(v.template, 'PCI = [', ''))) / 7)");
  assert_zero(db, "VMs without a history",
              "SELECT count(*) FROM vms v WHERE NOT EXISTS "
              "(SELECT 1 FROM vm_history h WHERE h.vm_id = v.id)");
  assert_zero(db, "VMs whose last change is not their state",
              "SELECT count(*) FROM vms v WHERE v.state <> (SELECT h.to_state FROM vm_history h "
              "WHERE h.vm_id = v.id ORDER BY h.id DESC LIMIT 1)");
  *ret_vms = (guint)sql_int(db, "SELECT count(*) FROM vms");
  g_assert_cmpint(
      sqlite3_prepare_v2(db, "SELECT id FROM vms WHERE state = 'running'", -1, &stmt, NULL), ==,
      SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(stmt, 0);

    g_array_append_val(running, id);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return running;
}

/* Whether VM @id is said to run, with no start since @since (its domain,
 * in the killed daemon's test driver, is gone). */
static gboolean
stale_running(sqlite3 *db, gint64 id, gint64 since)
{
  g_autofree char *sql = g_strdup_printf(
      "SELECT count(*) FROM vms v WHERE v.id = %" G_GINT64_FORMAT
      " AND v.state = 'running' AND NOT EXISTS (SELECT 1 FROM vm_history h "
      "WHERE h.vm_id = v.id AND h.to_state = 'running' AND h.at >= %" G_GINT64_FORMAT ")",
      id, since);

  return sql_int(db, sql) != 0;
}

static void
test_kill(PpTestDaemon *f, gconstpointer data)
{
  const char *env = g_getenv("PP_KILL_CYCLES");
  guint cycles = env != NULL ? (guint)g_ascii_strtoull(env, NULL, 10) : 30;
  g_autofree char *path = g_build_filename(f->state, "pcipass.db", NULL);
  g_autoptr(GArray) running = NULL;
  enum { CLIENTS = 4 };
  Client clients[CLIENTS];
  GThread *threads[CLIENTS];
  gint stop = 0;
  guint vms = 0, reconciled = 0;
  guint64 requests = 0, answered = 0;
  gint64 total_ms = 0;

  pp_test_daemon_start(f, NULL);
  pp_test_add_tree_host(f, "node-a", f->trees[0]);
  pp_test_add_tree_host(f, "node-b", f->trees[1]);
  json_decref(pp_test_wait_host(f, "node-a", "monitored", 0));
  json_decref(pp_test_wait_host(f, "node-b", "monitored", 0));
  for (guint c = 0; c < CLIENTS; c++) {
    clients[c] = (Client){ f, g_rand_new_with_seed(g_test_rand_int()), &stop, 0, 0 };
    threads[c] = g_thread_new("client", client_thread, &clients[c]);
  }

  for (guint cycle = 0; cycle < cycles; cycle++) {
    gint64 ms = g_test_rand_int_range(50, 1500);
    gint64 restart;

    g_usleep((gulong)ms * 1000);
    total_ms += ms;
    /* SIGKILL: no handler, no cleanup, whatever it was doing. */
    g_subprocess_force_exit(f->proc);
    g_subprocess_wait(f->proc, NULL, NULL);
    g_clear_object(&f->proc);

    g_clear_pointer(&running, g_array_unref);
    running = check_store(path, &vms);

    /* Restarted in a later second than any change it made (history is in
     * seconds): a VM said to run since then was started again. */
    restart = g_get_real_time() / G_USEC_PER_SEC + 1;
    g_usleep((gulong)(restart * G_USEC_PER_SEC - g_get_real_time()));
    pp_test_daemon_start(f, NULL);
    for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
      sqlite3 *db = NULL;
      guint stale = 0;

      g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
      sqlite3_busy_timeout(db, 5000);
      for (guint i = 0; i < running->len; i++)
        stale += stale_running(db, g_array_index(running, gint64, i), restart) ? 1 : 0;
      sqlite3_close(db);
      if (stale == 0)
        break;
      if (g_get_monotonic_time() > deadline) {
        g_autofree char *log = pp_test_daemon_log(f);

        g_error("cycle %u: %u VMs still said to run after the restart:\n%s", cycle, stale, log);
      }
      g_usleep(100000);
    }
    reconciled += running->len;
  }
  g_atomic_int_set(&stop, 1);
  for (guint c = 0; c < CLIENTS; c++) {
    g_thread_join(threads[c]);
    requests += clients[c].requests;
    answered += clients[c].answered;
    g_rand_free(clients[c].rand);
  }
  g_test_message("%u kills after %" G_GINT64_FORMAT
                 " ms on average; %u VMs made; %" G_GUINT64_FORMAT
                 " client requests, %" G_GUINT64_FORMAT " answered; %u running VMs reconciled "
                 "after restarts",
                 cycles, total_ms / MAX(cycles, 1), vms, requests, answered, reconciled);
  /* The clients did work: without VMs the checks prove little. */
  g_assert_cmpuint(vms, >, cycles);
  pp_test_daemon_stop(f);
  /* And after a clean stop. */
  g_array_unref(check_store(path, &vms));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/kill/random-instants", PpTestDaemon, NULL, pp_test_daemon_set_up, test_kill,
             pp_test_daemon_tear_down);
  return g_test_run();
}
