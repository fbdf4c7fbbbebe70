/* test-ha: two real pcipassd on one throwaway PostgreSQL (issue 15): one
 * leads (the monitor, the scheduler and the deployer), the other stands
 * by and serves the API; the standby leads once the leader is killed or
 * its database session ends, and a leader that loses its session stops
 * its loops. Hosts are the real probe on captured sysfs trees; VMs run on
 * libvirt's test:/// driver, inside each pcipassd (so a new leader finds
 * none of the old one's domains: what the reconcile makes of that is
 * checked). Skipped without PostgreSQL's server programs, unless
 * PP_PG_REQUIRED=1 (.ci/run). */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <libpq-fe.h>

#include "pp-test-daemon.h"
#include "pp-test-pg.h"

#define NIC_TEMPLATE "CPU = 1\nMEMORY = 256\nPCI = [ CLASS = \"0200\" ]\n"
/* The standby leads within this of the leader's end (the bound;
 * it tries every second). */
#define TAKEOVER_US (10 * G_USEC_PER_SEC)

typedef PpTestPair Fixture;

/* GET /v1/status of @d. Returns: (transfer full). */
static json_t *
status(PpTestDaemon *d)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(d, d->socket, NULL, "GET", "/v1/status", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  return json_incref(reply.json);
}

static gboolean
leads(PpTestDaemon *d)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(d, d->socket, NULL, "GET", "/v1/status", NULL, 0, &reply);
  /* 503: it cannot reach the store (to know the caller) for a moment. */
  if (reply.status == 503)
    return FALSE;
  g_assert_cmpint(reply.status, ==, 200);
  return json_is_true(json_object_get(reply.json, "leader"));
}

/* Waits until @d leads; returns how long it took. */
static gint64
wait_leads(PpTestDaemon *d)
{
  gint64 start = g_get_monotonic_time();

  while (!leads(d)) {
    if (g_get_monotonic_time() - start > PP_TEST_WAIT_US) {
      g_autofree char *log = pp_test_daemon_log(d);

      g_error("pcipassd does not lead:\n%s", log);
    }
    g_usleep(50000);
  }
  return g_get_monotonic_time() - start;
}

/* The CLI of @d (PCIPASS_SOCKET is the last set-up's). */
static void
cli_on(PpTestDaemon *d, const char *const *argv, PpTestRun *run)
{
  g_setenv("PCIPASS_SOCKET", d->socket, TRUE);
  pp_test_cli(d, argv, run);
}

/* Host @name on @tree, through @d, probed by the leader. */
static void
add_host(PpTestDaemon *d, PpTestDaemon *leader, const char *name, const char *tree)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", d->probe, tree, name);
  g_auto(PpTestRun) run = { 0 };

  cli_on(d,
         (const char *const[]){ "host", "create", name, "--probe-command", command, "--libvirt-uri",
                                "test:///default", NULL },
         &run);
  if (run.status != 0)
    g_error("host create %s: %s", name, run.err);
  json_decref(pp_test_wait_host(leader, name, "monitored", 0));
}

/* The backend pid of the session that holds the leader lock, read from
 * PostgreSQL's own view of its locks. */
static int
leader_backend(Fixture *f)
{
  PGconn *conn = PQconnectdb(f->uri);
  PGresult *res;
  int pid = 0;

  g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);
  res = PQexec(conn, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND "
                     "classid = 1886546288 AND objid = 2 AND granted");
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
  if (PQntuples(res) == 1)
    pid = atoi(PQgetvalue(res, 0, 0));
  PQclear(res);
  PQfinish(conn);
  return pid;
}

static void
terminate_backend(Fixture *f, int pid)
{
  PGconn *conn = PQconnectdb(f->uri);
  g_autofree char *sql = g_strdup_printf("SELECT pg_terminate_backend(%d)", pid);
  PGresult *res;

  g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);
  res = PQexec(conn, sql);
  g_assert_cmpint(PQresultStatus(res), ==, PGRES_TUPLES_OK);
  g_assert_cmpstr(PQgetvalue(res, 0, 0), ==, "t");
  PQclear(res);
  PQfinish(conn);
}

/* One leads, the other stands by and serves the API: a VM made and
 * terminated through the standby is placed, started and destroyed by the
 * leader; what needs the leader's scheduler is 503 on the standby, naming
 * the leader; --status and /metrics say who leads. */
static void
test_standby(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) sa = NULL;
  g_autoptr(json_t) sb = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *log = NULL;
  gint64 vm;

  if (f->pg == NULL)
    return;
  pp_test_pair_start(f, 0);
  wait_leads(&f->d[0]);
  pp_test_pair_start(f, 1);
  sa = status(&f->d[0]);
  sb = status(&f->d[1]);
  g_assert_true(json_is_true(json_object_get(sa, "leader")));
  g_assert_true(json_is_false(json_object_get(sb, "leader")));
  g_assert_cmpstr(json_string_value(json_object_get(sa, "store")), ==, "postgresql");
  g_assert_cmpstr(json_string_value(json_object_get(sb, "leader_name")), ==,
                  json_string_value(json_object_get(sa, "name")));
  g_assert_cmpstr(json_string_value(json_object_get(sa, "store_id")), ==,
                  json_string_value(json_object_get(sb, "store_id")));
  g_assert_cmpuint(pp_test_metric(&f->d[0], "pcipass_leader"), ==, 1);
  g_assert_cmpuint(pp_test_metric(&f->d[1], "pcipass_leader"), ==, 0);
  log = pp_test_daemon_log(&f->d[1]);
  g_assert_nonnull(strstr(log, "standing by as '"));
  /* The password-free URI is what the log says of the store. */
  g_assert_nonnull(strstr(log, "store 'postgresql://"));

  /* pcipassd --status, on each. */
  pp_test_run((const char *const[]){ f->d[1].daemon, "--socket", f->d[1].socket, "--status", NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "a standby"));
  g_assert_nonnull(strstr(run.out, "store: postgresql, schema 14"));
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ f->d[0].daemon, "--socket", f->d[0].socket, "--status", NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "the leader"));
  pp_test_run_clear(&run);

  /* A host and a VM through the standby: the leader probes, places and
   * starts it. */
  add_host(&f->d[1], &f->d[0], "node-a", f->d[0].trees[0]);
  vm = pp_test_vm_create(&f->d[1], NIC_TEMPLATE);
  json_decref(pp_test_wait_vm(&f->d[0], vm, "running"));
  json_decref(pp_test_wait_vm(&f->d[1], vm, "running"));

  /* The standby cannot do what needs the leader's scheduler. */
  pp_test_post_template(&f->d[1], "/v1/vms/place", NIC_TEMPLATE, &reply);
  g_assert_cmpint(reply.status, ==, 503);
  {
    const char *message = pp_test_error_message(&reply, 503);
    g_autofree char *leader =
        g_strdup_printf("a dry run of the placement runs on the leader, '%s'; ask it",
                        json_string_value(json_object_get(sa, "name")));

    g_assert_nonnull(strstr(message, leader));
  }
  pp_test_reply_clear(&reply);
  pp_test_http(&f->d[1], f->d[1].socket, NULL, "POST", "/v1/hosts/node-a/probe", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 503);
  pp_test_reply_clear(&reply);
  {
    g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/poweroff", vm);

    pp_test_http(&f->d[1], f->d[1].socket, NULL, "POST", path, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 503);
    pp_test_reply_clear(&reply);
  }
  /* Nothing changed by them. */
  json_decref(pp_test_wait_vm(&f->d[0], vm, "running"));

  /* Terminated through the standby: the leader destroys it. */
  {
    g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/terminate", vm);

    pp_test_http(&f->d[1], f->d[1].socket, NULL, "POST", path, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 202);
  }
  json_decref(pp_test_wait_vm(&f->d[0], vm, "done"));
}

/* The leader killed with SIGKILL: the standby leads within 10 s, finds
 * the VMs the store has, and places and starts new ones; the old leader,
 * started again, stands by. */
static void
test_failover(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) sa = NULL;
  g_autoptr(json_t) sb = NULL;
  g_autofree char *log = NULL;
  gint64 vm1, vm2, took;

  if (f->pg == NULL)
    return;
  pp_test_pair_start(f, 0);
  wait_leads(&f->d[0]);
  pp_test_pair_start(f, 1);
  g_assert_false(leads(&f->d[1]));
  add_host(&f->d[0], &f->d[0], "node-a", f->d[0].trees[0]);
  vm1 = pp_test_vm_create(&f->d[1], NIC_TEMPLATE);
  json_decref(pp_test_wait_vm(&f->d[1], vm1, "running"));

  g_subprocess_force_exit(f->d[0].proc);
  g_subprocess_wait(f->d[0].proc, NULL, NULL);
  g_clear_object(&f->d[0].proc);
  took = wait_leads(&f->d[1]);
  g_test_message("the standby led %.1f s after the leader's SIGKILL", took / 1e6);
  g_assert_cmpint(took, <, TAKEOVER_US);
  log = pp_test_daemon_log(&f->d[1]);
  g_assert_nonnull(strstr(log, "leading (as '"));
  g_assert_cmpuint(pp_test_metric(&f->d[1], "pcipass_leader"), ==, 1);
  g_assert_cmpuint(pp_test_metric(&f->d[1], "pcipass_leader_terms_total"), ==, 1);

  /* The new leader works: a new VM placed and started by it. Its device
   * is not the one VM 1 holds: the store says VM 1 holds it. */
  vm2 = pp_test_vm_create(&f->d[1], NIC_TEMPLATE);
  json_decref(pp_test_wait_vm(&f->d[1], vm2, "running"));
  {
    g_autoptr(json_t) j1 = pp_test_vm_get(&f->d[1], vm1);
    g_autoptr(json_t) j2 = pp_test_vm_get(&f->d[1], vm2);
    json_t *d1 = json_object_get(json_array_get(json_object_get(j1, "devices"), 0), "address");
    json_t *d2 = json_object_get(json_array_get(json_object_get(j2, "devices"), 0), "address");

    g_assert_true(json_is_string(d2));
    if (json_is_string(d1))
      g_assert_cmpstr(json_string_value(d1), !=, json_string_value(d2));
  }

  /* The old leader comes back as a standby. */
  pp_test_pair_start(f, 0);
  g_assert_false(leads(&f->d[0]));
  sa = status(&f->d[0]);
  sb = status(&f->d[1]);
  g_assert_cmpstr(json_string_value(json_object_get(sa, "leader_name")), ==,
                  json_string_value(json_object_get(sb, "name")));
  g_assert_cmpuint(pp_test_metric(&f->d[0], "pcipass_leader"), ==, 0);
}

/* The leader's database session ends under it (pg_terminate_backend, as
 * a failover of PostgreSQL or a network cut would): it stops its loops at
 * once and stands by; one pcipassd leads again within 10 s, never two. */
static void
test_session_lost(Fixture *f, gconstpointer data)
{
  g_autofree char *log = NULL;
  gint64 deadline;
  int pid;

  if (f->pg == NULL)
    return;
  pp_test_pair_start(f, 0);
  wait_leads(&f->d[0]);
  pp_test_pair_start(f, 1);
  g_assert_false(leads(&f->d[1]));
  pid = leader_backend(f);
  g_assert_cmpint(pid, >, 0);
  terminate_backend(f, pid);

  deadline = g_get_monotonic_time() + TAKEOVER_US;
  for (;;) {
    gboolean a = leads(&f->d[0]), b = leads(&f->d[1]);

    g_assert_false(a && b);
    if ((a || b) && leader_backend(f) != 0 && leader_backend(f) != pid)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  log = pp_test_daemon_log(&f->d[0]);
  g_assert_nonnull(strstr(log, "no longer leading: the store's connection is lost"));
  g_assert_nonnull(strstr(log, "connected again"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, func)                                                                            \
  g_test_add(path, Fixture, NULL, pp_test_pair_set_up, func, pp_test_pair_tear_down)
  ADD("/ha/standby", test_standby);
  ADD("/ha/failover", test_failover);
  ADD("/ha/session-lost", test_session_lost);
#undef ADD
  return g_test_run();
}
