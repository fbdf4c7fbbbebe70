/* test-failover: the failover test (issue 15). Two real pcipassd
 * on one throwaway PostgreSQL; 64 client threads create and terminate VMs
 * (a NIC by PCI class, some with a lease on a virtual network) through
 * either daemon at random, over their Unix sockets, while the leader is
 * killed with SIGKILL at random instants, many times. Each time the other
 * daemon must lead within 10 s (its GET /v1/status says so, and
 * PostgreSQL's pg_locks gives the lock to another session); the killed
 * one, started again, stands by; never do both say they lead.
 * Afterwards, once the scheduler has settled: no device or lease held
 * twice, or held by a VM that cannot hold it; every VM a client got a 201
 * for is in the store and GET /v1/vms, every VM terminated with a 202 is
 * done; the store's view (SQL) and the API's (hosts' devices, VMs'
 * devices and NICs) agree; and every VM's state matches libvirt as the
 * final leader sees it (its reconcile, every second, finds nothing to
 * change, see settle()).
 *
 * Hosts are the real probe on captured sysfs trees, their domains on
 * libvirt's test driver inside each pcipassd: a new leader finds none of
 * the old one's domains, and its reconcile says so (running VMs become
 * poweroff, keeping their devices).
 *
 * PP_FAILOVER_SECONDS (default 90) sets how long the load lasts; at least
 * MIN_KILLS kills happen in any case (the load goes on until then, within
 * a hard bound). The seed of the random instants is g_test's (--seed).
 * Skipped without PostgreSQL's server programs, unless PP_PG_REQUIRED=1. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pp-test-daemon.h"
#include "pp-test-pg.h"

#define CLIENTS 64
#define MIN_KILLS 8
/* The bound on a takeover. */
#define TAKEOVER_US (10 * G_USEC_PER_SEC)
/* The load goes on at most this long, whatever the kills. */
#define LOAD_MAX_US (150 * G_USEC_PER_SEC)
/* How long a client tries a request (both daemons, turn about). */
#define REQUEST_US (30 * G_USEC_PER_SEC)
/* The settle after the load, bounded. */
#define SETTLE_US (90 * G_USEC_PER_SEC)

/* A NIC by PCI class (node-a and node-c, the 40intel64 capture, and
 * node-b, ghw's I350 host: 22 such devices in all), or two, or none;
 * some with a NIC on the virtual network "lan" (a lease: 24 addresses,
 * fewer than the VMs that may ask). */
#define NET_LAN                                                                                    \
  "NAME = lan\nVN_MAD = bridge\nBRIDGE = br0\n"                                                    \
  "AR = [ TYPE = IP4, IP = \"10.2.0.10\", SIZE = 24 ]\n"
static const char *const templates[] = {
  "CPU = 0.1\nMEMORY = 64\nPCI = [ CLASS = \"0200\" ]\n",
  "CPU = 0.1\nMEMORY = 64\nPCI = [ CLASS = \"0200\" ]\nNIC = [ NETWORK = \"lan\" ]\n",
  "CPU = 0.1\nMEMORY = 64\nPCI = [ CLASS = \"0200\" ]\nPCI = [ CLASS = \"0200\" ]\n",
  "CPU = 0.1\nMEMORY = 64\nNIC = [ NETWORK = \"lan\" ]\n",
};
static const char *const host_names[] = { "node-a", "node-b", "node-c" };

typedef PpTestPair Fixture;

typedef struct {
  Fixture *f;
  GRand *rand;
  CURL *curl;
  gint *stop;         /* atomic */
  GArray *created;    /* ids a 201 gave */
  GArray *terminated; /* ids a terminate's 202 was for */
  GArray *mine;       /* created, not yet terminated */
  guint requests, retries, refused, unanswered, other;
  GString *first_other; /* the first unexpected answer */
} Client;

/* Whether @d leads: 1 yes, 0 no, -1 no answer (down, or 503 while it
 * cannot reach the store). @name: its name, if it answered. */
static int
status_of(PpTestDaemon *d, char **name)
{
  g_auto(PpTestReply) reply = { 0 };

  if (d->proc == NULL ||
      pp_test_http_try(d, d->socket, NULL, "GET", "/v1/status", NULL, 0, &reply) != CURLE_OK ||
      reply.status != 200 || reply.json == NULL)
    return -1;
  if (name != NULL)
    *name = g_strdup(json_string_value(json_object_get(reply.json, "name")));
  return json_is_true(json_object_get(reply.json, "leader")) ? 1 : 0;
}

static size_t
on_data(char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

/* One request of a client, with its own curl handle, to one daemon. */
static CURLcode
client_http(Client *c, PpTestDaemon *d, const char *method, const char *path, const char *body,
            PpTestReply *ret)
{
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strdup_printf("http://localhost%s", path);
  CURLcode code;

  pp_test_reply_clear(ret);
  ret->body = g_string_new(NULL);
  curl_easy_reset(c->curl);
  curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, d->socket);
  /* A connection is never reused: the next request may go to the other
   * daemon, on another socket. */
  curl_easy_setopt(c->curl, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(c->curl, CURLOPT_URL, url);
  curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 30L);
  if (body != NULL) {
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    headers = curl_slist_append(headers, "Content-Type: application/json");
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
  }
  curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, ret->body);
  code = curl_easy_perform(c->curl);
  curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &ret->status);
  ret->json = json_loadb(ret->body->str, ret->body->len, 0, NULL);
  curl_slist_free_all(headers);
  return code;
}

/* A request to one daemon at random; on a 503 (the store, or the leader,
 * for a moment) or no answer (its daemon killed), to the other, turn
 * about, for REQUEST_US at most. Returns: the last status (0: none). */
static long
client_request(Client *c, const char *method, const char *path, const char *body, PpTestReply *ret)
{
  gint64 deadline = g_get_monotonic_time() + REQUEST_US;
  guint which = (guint)g_rand_int_range(c->rand, 0, 2);

  c->requests++;
  for (guint attempt = 0;; attempt++) {
    CURLcode code = client_http(c, &c->f->d[which], method, path, body, ret);

    if (code == CURLE_OK && ret->status != 503)
      return ret->status;
    if (code != CURLE_OK)
      c->unanswered++;
    else
      c->refused++;
    if (g_get_monotonic_time() > deadline)
      return code == CURLE_OK ? ret->status : 0;
    c->retries++;
    which = 1 - which;
    /* Both tried: a pause before the next round. */
    if (attempt % 2 == 1)
      g_usleep((gulong)g_rand_int_range(c->rand, 50000, 200000));
  }
}

static void
client_other(Client *c, const char *what, const PpTestReply *reply)
{
  c->other++;
  if (c->first_other->len == 0) {
    json_t *error = json_object_get(reply->json, "error");

    g_string_printf(c->first_other, "%s: %ld %s", what, reply->status,
                    json_is_object(error)
                        ? json_string_value(json_object_get(error, "message"))
                        : (reply->body != NULL ? reply->body->str : "(no answer)"));
  }
}

/* One client: creates VMs and terminates its own, a few at a time. */
static gpointer
client_thread(gpointer data)
{
  Client *c = data;

  while (!g_atomic_int_get(c->stop)) {
    g_auto(PpTestReply) reply = { 0 };

    if (c->mine->len < 2 || (c->mine->len < 4 && g_rand_boolean(c->rand))) {
      const char *text = templates[g_rand_int_range(c->rand, 0, (gint32)G_N_ELEMENTS(templates))];
      g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
      g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

      if (client_request(c, "POST", "/v1/vms", dumped, &reply) == 201) {
        gint64 id = json_integer_value(json_object_get(reply.json, "id"));

        g_assert_cmpint(id, >, 0);
        g_array_append_val(c->created, id);
        g_array_append_val(c->mine, id);
      } else {
        /* No answer: it may be made, or not; nothing is recorded. */
        client_other(c, "POST /v1/vms", &reply);
      }
    } else {
      guint at = (guint)g_rand_int_range(c->rand, 0, (gint32)c->mine->len);
      gint64 id = g_array_index(c->mine, gint64, at);
      g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/terminate", id);

      g_array_remove_index_fast(c->mine, at);
      if (client_request(c, "POST", path, NULL, &reply) == 202)
        g_array_append_val(c->terminated, id);
      else
        client_other(c, path, &reply);
    }
    g_usleep((gulong)g_rand_int_range(c->rand, 100000, 600000));
  }
  return NULL;
}

/* SQL on the store itself. */

static PGresult *
sql(PGconn *conn, const char *query)
{
  PGresult *res = PQexec(conn, query);

  if (PQresultStatus(res) != PGRES_TUPLES_OK)
    g_error("%s: %s", query, PQerrorMessage(conn));
  return res;
}

static gint64
sql_int(PGconn *conn, const char *query)
{
  PGresult *res = sql(conn, query);
  gint64 v;

  g_assert_cmpint(PQntuples(res), ==, 1);
  v = g_ascii_strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  return v;
}

static void
assert_none(PGconn *conn, const char *what, const char *query)
{
  PGresult *res = sql(conn, query);

  if (PQntuples(res) != 0) {
    g_autoptr(GString) rows = g_string_new(NULL);

    for (int i = 0; i < PQntuples(res) && i < 20; i++) {
      for (int j = 0; j < PQnfields(res); j++)
        g_string_append_printf(rows, "%s%s", j ? " " : "  ", PQgetvalue(res, i, j));
      g_string_append_c(rows, '\n');
    }
    g_error("%d %s:\n%s", PQntuples(res), what, rows->str);
  }
  PQclear(res);
}

/* Every VM's id and state, one string. */
static char *
vm_states(PGconn *conn)
{
  PGresult *res = sql(conn, "SELECT coalesce(string_agg(id || ':' || state, ' ' ORDER BY id), '') "
                            "FROM vms");
  char *text = g_strdup(PQgetvalue(res, 0, 0));

  PQclear(res);
  return text;
}

/* The daemon that leads now (those started answer, one leads). */
static PpTestDaemon *
leader_of(Fixture *f)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    int a = status_of(&f->d[0], NULL), b = status_of(&f->d[1], NULL);

    /* One not started says nothing, and leads nothing. */
    if (f->d[0].proc == NULL)
      a = 0;
    if (f->d[1].proc == NULL)
      b = 0;

    if (a == 1 && b == 1)
      g_error("both pcipassd say they lead");
    if (a == 1 && b == 0)
      return &f->d[0];
    if (b == 1 && a == 0)
      return &f->d[1];
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
}

/* Waits until the leader's scheduler has settled: no VM deploying or
 * terminating, no VM's state changed, and no reconcile changing anything
 * (pcipass_reconciled_total still) over at least 3 reconciles of each
 * host. A running VM whose domain the leader's libvirt lacks would be
 * moved by its second reconcile, a poweroff VM whose domain runs by its
 * first, a domain running without its VM destroyed: so after this, every
 * VM's state is what the final leader's libvirt says. Returns: how long it
 * took. */
static gint64
settle(Fixture *f, PGconn *conn, PpTestDaemon *leader)
{
  gint64 start = g_get_monotonic_time();
  g_autofree char *states = NULL;
  guint64 reconciles = 0, reconciled = 0;

  for (;;) {
    g_autofree char *now = vm_states(conn);
    gint64 busy = sql_int(conn, "SELECT count(*) FROM vms WHERE state IN "
                                "('deploying', 'terminating')");
    guint64 r = pp_test_metric(leader, "pcipass_reconciles_total");
    guint64 c = pp_test_metric(leader, "pcipass_reconciled_total");

    if (busy != 0 || states == NULL || strcmp(now, states) != 0 || c != reconciled) {
      g_free(states);
      states = g_steal_pointer(&now);
      reconciles = r;
      reconciled = c;
    } else if (r >= reconciles + 3 * G_N_ELEMENTS(host_names)) {
      return g_get_monotonic_time() - start;
    }
    if (g_get_monotonic_time() - start > SETTLE_US) {
      g_autofree char *log = pp_test_daemon_log(leader);

      g_error("the scheduler does not settle: %" G_GINT64_FORMAT
              " VMs deploying or terminating; states %s; leader's log:\n%s",
              busy, states, log);
    }
    g_usleep(250000);
  }
}

/* The store's own checks, in SQL. */
static void
check_store(PGconn *conn)
{
  /* A device held twice: one row a device (UNIQUE(host_id, address)) with
   * one vm_id, so this also checks the schema still says so. */
  assert_none(conn, "devices held by two VMs",
              "SELECT host_id, address, count(*) FROM pci_device WHERE vm_id IS NOT NULL "
              "GROUP BY host_id, address HAVING count(*) > 1");
  assert_none(conn, "VM slots held twice",
              "SELECT vm_id, vm_slot, count(*) FROM pci_device WHERE vm_id IS NOT NULL "
              "GROUP BY vm_id, vm_slot HAVING count(*) > 1");
  assert_none(conn, "devices held by a pending or done VM, or one gone",
              "SELECT d.id, d.address, v.id, v.state FROM pci_device d JOIN vms v ON v.id = "
              "d.vm_id WHERE v.state IN ('pending', 'done')");
  assert_none(conn, "devices held by a VM not on their host",
              "SELECT d.id, d.host_id, v.id, v.host_id FROM pci_device d JOIN vms v ON "
              "v.id = d.vm_id WHERE v.host_id IS DISTINCT FROM d.host_id");
  /* Every VM on a host holds one device per PCI request (one a line). */
  assert_none(conn, "VMs on a host without a device per request",
              "SELECT v.id, v.state FROM vms v WHERE v.host_id IS NOT NULL AND "
              "(length(v.template) - length(replace(v.template, 'PCI = [', ''))) / 7 <> "
              "(SELECT count(*) FROM pci_device d WHERE d.vm_id = v.id)");
  /* Leases: one per (network, IP) and (network, MAC), held only by a VM
   * that exists and is placed, and every placed VM with a NIC on the
   * network holds one. */
  assert_none(conn, "IPs leased twice",
              "SELECT network_id, ip4, count(*) FROM network_lease WHERE ip4 IS NOT NULL "
              "GROUP BY network_id, ip4 HAVING count(*) > 1");
  assert_none(conn, "MACs leased twice",
              "SELECT network_id, mac, count(*) FROM network_lease "
              "GROUP BY network_id, mac HAVING count(*) > 1");
  assert_none(conn, "leases of a VM that is gone, pending or done",
              "SELECT l.network_id, l.ip4, l.vm_id, v.state FROM network_lease l LEFT JOIN "
              "vms v ON v.id = l.vm_id WHERE l.vm_id IS NOT NULL AND "
              "(v.id IS NULL OR v.state IN ('pending', 'done'))");
  assert_none(conn, "placed VMs with a NIC on the network and no lease",
              "SELECT v.id, v.state FROM vms v WHERE v.host_id IS NOT NULL AND "
              "v.template LIKE '%NIC = [%' AND "
              "NOT EXISTS (SELECT 1 FROM network_lease l WHERE l.vm_id = v.id)");
  /* A terminate that found the VM pending releases it at once; one
   * placed meanwhile (by the leader, the terminate asked of the other
   * daemon) must not be: its devices are given to libvirt. */
  assert_none(conn, "VMs released as pending once placed (their devices freed under a deploy)",
              "SELECT vm_id, from_state, at FROM vm_history WHERE to_state = 'done' AND "
              "reason = 'terminated before it was placed' AND from_state <> 'pending'");
  assert_none(conn, "VMs whose last change is not their state",
              "SELECT v.id, v.state FROM vms v WHERE v.state <> (SELECT h.to_state FROM "
              "vm_history h WHERE h.vm_id = v.id ORDER BY h.id DESC LIMIT 1)");
}

/* The backend pid of the session that holds the leader lock (0: none),
 * from PostgreSQL's own view of its locks. */
static int
leader_backend(PGconn *conn)
{
  PGresult *res = sql(conn, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND "
                            "classid = 1886546288 AND objid = 2 AND granted");
  int pid = PQntuples(res) == 1 ? atoi(PQgetvalue(res, 0, 0)) : 0;

  g_assert_cmpint(PQntuples(res), <=, 1);
  PQclear(res);
  return pid;
}

/* Both started daemons still run: none died but by our SIGKILL. */
static void
assert_alive(Fixture *f)
{
  for (guint i = 0; i < G_N_ELEMENTS(f->d); i++) {
    if (f->d[i].proc != NULL && g_subprocess_get_identifier(f->d[i].proc) == NULL) {
      g_autofree char *log = pp_test_daemon_log(&f->d[i]);

      g_error("pcipassd %u exited on its own; its log:\n%s", i, log);
    }
  }
}

/* What the daemons warned of, by kind (digits left out), with a count
 * and the first of each: a warning may be right (a placement refused
 * because the VM was terminated meanwhile); the reader judges. Returns:
 * how many lines. */
static guint
show_warnings(Fixture *f)
{
  g_autoptr(GHashTable) kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) firsts = g_ptr_array_new_with_free_func(g_free);
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS(f->d); i++) {
    g_autofree char *log = pp_test_daemon_log(&f->d[i]);
    g_auto(GStrv) lines = g_strsplit(log, "\n", -1);

    for (guint k = 0; lines[k] != NULL; k++) {
      const char *at = strstr(lines[k], " **: ");
      g_autoptr(GString) kind = NULL;

      if ((strstr(lines[k], "WARNING **") == NULL && strstr(lines[k], "CRITICAL **") == NULL &&
           strstr(lines[k], "ERROR **") == NULL) ||
          /* Each start's, as --listen asks. */
          strstr(lines[k], "is plain HTTP, unencrypted") != NULL || at == NULL)
        continue;
      n++;
      kind = g_string_new(NULL);
      for (const char *c = strstr(at + 5, ": ") ? strstr(at + 5, ": ") + 2 : at + 5; *c; c++) {
        if (!g_ascii_isdigit(*c))
          g_string_append_c(kind, *c);
        else if (kind->len == 0 || kind->str[kind->len - 1] != 'N')
          g_string_append_c(kind, 'N');
      }
      if (!g_hash_table_contains(kinds, kind->str))
        g_ptr_array_add(firsts, g_strdup_printf("pcipassd %u: %s", i, lines[k]));
      g_hash_table_insert(
          kinds, g_strdup(kind->str),
          GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(kinds, kind->str)) + 1));
    }
  }
  {
    GHashTableIter iter;
    gpointer key, value;

    g_hash_table_iter_init(&iter, kinds);
    while (g_hash_table_iter_next(&iter, &key, &value))
      g_test_message("%u warnings: %s", GPOINTER_TO_UINT(value), (const char *)key);
    for (guint i = 0; i < firsts->len && i < 20; i++)
      g_test_message("first of its kind: %s", (const char *)g_ptr_array_index(firsts, i));
  }
  return n;
}

/* Terminates, through @d, every VM @where (SQL) says; asserts 202. */
static void
terminate_all(PpTestDaemon *d, PGconn *conn, const char *where)
{
  g_autofree char *query = g_strdup_printf("SELECT id FROM vms WHERE %s ORDER BY id", where);
  PGresult *res = sql(conn, query);

  for (int i = 0; i < PQntuples(res); i++) {
    g_autofree char *path = g_strdup_printf("/v1/vms/%s/terminate", PQgetvalue(res, i, 0));
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(d, d->socket, NULL, "POST", path, NULL, 0, &reply);
    if (reply.status != 202)
      g_error("POST %s: %ld %s", path, reply.status, reply.body->str);
  }
  PQclear(res);
}

/* GET @path on @d, asserted 200. Returns: (transfer full). */
static json_t *
get(PpTestDaemon *d, const char *path)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(d, d->socket, NULL, "GET", path, NULL, 0, &reply);
  if (reply.status != 200)
    g_error("GET %s: %ld %s", path, reply.status, reply.body->str);
  return json_incref(reply.json);
}

static void
test_failover(Fixture *f, gconstpointer data)
{
  const char *env = g_getenv("PP_FAILOVER_SECONDS");
  gint64 load_us = (env != NULL ? g_ascii_strtoll(env, NULL, 10) : 90) * G_USEC_PER_SEC;
  Client clients[CLIENTS];
  GThread *threads[CLIENTS];
  g_autoptr(GHashTable) created = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) terminated = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) listed = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GHashTable) held = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) ips = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) lan_leases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  guint64 requests = 0, retries = 0, refused = 0, unanswered = 0, other = 0;
  guint warnings, kills = 0, devices_checked = 0, leases_checked = 0, vm_checked = 0;
  static const char *const state_names[] = { "pending",     "deploying", "running", "poweroff",
                                             "terminating", "failed",    "unknown", "done" };
  guint by_state[G_N_ELEMENTS(state_names)] = { 0 };
  gint64 max_takeover = 0, total_takeover = 0, start_us, settle_us;
  PpTestDaemon *leader;
  gint stop = 0;
  PGconn *conn;

  if (f->pg == NULL)
    return;
  pp_test_pair_start(f, 0);
  leader = leader_of(f);
  g_assert_true(leader == &f->d[0]);
  pp_test_pair_start(f, 1);
  g_assert_true(leader_of(f) == &f->d[0]);

  /* Hosts (the CLI asks d[1]: PCIPASS_SOCKET is its), the network. */
  pp_test_add_tree_host(&f->d[1], "node-a", f->d[1].trees[0]);
  pp_test_add_tree_host(&f->d[1], "node-b", f->d[1].trees[1]);
  pp_test_add_tree_host(&f->d[1], "node-c", f->d[1].trees[0]);
  for (guint i = 0; i < G_N_ELEMENTS(host_names); i++)
    json_decref(pp_test_wait_host(&f->d[1], host_names[i], "monitored", 0));
  {
    g_autoptr(json_t) body = json_pack("{s:s,s:b}", "template", NET_LAN, "shared", TRUE);
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(&f->d[0], f->d[0].socket, NULL, "POST", "/v1/networks", dumped, strlen(dumped),
                 &reply);
    if (reply.status != 201)
      g_error("POST /v1/networks: %ld %s", reply.status, reply.body->str);
  }

  for (guint i = 0; i < CLIENTS; i++) {
    clients[i] = (Client){ .f = f,
                           .rand = g_rand_new_with_seed(g_test_rand_int()),
                           .curl = curl_easy_init(),
                           .stop = &stop,
                           .created = g_array_new(FALSE, FALSE, sizeof(gint64)),
                           .terminated = g_array_new(FALSE, FALSE, sizeof(gint64)),
                           .mine = g_array_new(FALSE, FALSE, sizeof(gint64)),
                           .first_other = g_string_new(NULL) };
    g_assert_nonnull(clients[i].curl);
    threads[i] = g_thread_new("client", client_thread, &clients[i]);
  }

  conn = PQconnectdb(f->uri);
  g_assert_cmpint(PQstatus(conn), ==, CONNECTION_OK);

  /* The killer: the current leader, SIGKILL, at random instants. */
  start_us = g_get_monotonic_time();
  while (g_get_monotonic_time() - start_us < LOAD_MAX_US &&
         (g_get_monotonic_time() - start_us < load_us || kills < MIN_KILLS)) {
    PpTestDaemon *killed, *standby;
    g_autofree char *killed_name = NULL;
    g_autofree char *name = NULL;
    gint64 killed_at, took;
    int backend;

    g_usleep((gulong)g_test_rand_int_range(3000, 8000) * 1000);
    assert_alive(f);
    killed = leader_of(f);
    backend = leader_backend(conn);
    g_assert_cmpint(backend, >, 0);
    standby = killed == &f->d[0] ? &f->d[1] : &f->d[0];
    g_assert_cmpint(status_of(killed, &killed_name), ==, 1);
    /* SIGKILL: no handler, no cleanup, whatever it was doing. */
    g_subprocess_force_exit(killed->proc);
    g_subprocess_wait(killed->proc, NULL, NULL);
    g_clear_object(&killed->proc);
    killed_at = g_get_monotonic_time();
    kills++;
    while (status_of(standby, NULL) != 1) {
      if (g_get_monotonic_time() - killed_at > TAKEOVER_US) {
        g_autofree char *log = pp_test_daemon_log(standby);

        g_error("kill %u: the standby does not lead %.1f s after the leader's SIGKILL; its "
                "log:\n%s",
                kills, TAKEOVER_US / 1e6, log);
      }
      g_usleep(20000);
    }
    took = g_get_monotonic_time() - killed_at;
    /* PostgreSQL says so too: the lock is another session's. */
    g_assert_cmpint(leader_backend(conn), >, 0);
    g_assert_cmpint(leader_backend(conn), !=, backend);
    g_test_message("kill %u of '%s' at %.1f s: the standby led %.2f s after", kills, killed_name,
                   (killed_at - start_us) / 1e6, took / 1e6);
    max_takeover = MAX(max_takeover, took);
    total_takeover += took;

    /* The killed one comes back, and stands by. */
    pp_test_pair_start(f, (guint)(killed - f->d));
    for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
      int s = status_of(killed, NULL);

      g_assert_cmpint(s, !=, 1);
      if (s == 0)
        break;
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_usleep(50000);
    }
    g_assert_cmpint(status_of(standby, &name), ==, 1);
    g_assert_cmpstr(name, !=, killed_name);
  }

  g_atomic_int_set(&stop, 1);
  for (guint i = 0; i < CLIENTS; i++) {
    Client *c = &clients[i];

    g_thread_join(threads[i]);
    requests += c->requests;
    retries += c->retries;
    refused += c->refused;
    unanswered += c->unanswered;
    other += c->other;
    if (c->first_other->len > 0)
      g_test_message("client %u, %u unexpected answers; the first: %s", i, c->other,
                     c->first_other->str);
    for (guint k = 0; k < c->created->len; k++)
      g_hash_table_add(created, &g_array_index(c->created, gint64, k));
    for (guint k = 0; k < c->terminated->len; k++)
      g_hash_table_add(terminated, &g_array_index(c->terminated, gint64, k));
  }
  g_test_message("load: %.0f s, %" G_GUINT64_FORMAT " requests (%" G_GUINT64_FORMAT
                 " retries: %" G_GUINT64_FORMAT " 503, %" G_GUINT64_FORMAT
                 " unanswered), %" G_GUINT64_FORMAT " unexpected answers",
                 (g_get_monotonic_time() - start_us) / 1e6, requests, retries, refused, unanswered,
                 other);
  /* Every request a client made is one the API must take (a terminate of
   * a VM another daemon moves meanwhile included): a 201 or a 202, after
   * retries on a 503 or no answer. */
  g_assert_cmpuint(other, ==, 0);
  /* The clients did work: without VMs the checks prove little. */
  g_assert_cmpuint(g_hash_table_size(created), >, 4 * kills);
  g_assert_cmpuint(g_hash_table_size(terminated), >, kills);

  assert_alive(f);
  leader = leader_of(f);
  settle_us = settle(f, conn, leader);
  assert_alive(f);
  check_store(conn);

  /* No VM lost: every 201 is in the store and in GET /v1/vms?all=1 (paged),
   * every 202 is done. */
  {
    gint64 after = 0;

    for (;;) {
      g_autofree char *path =
          g_strdup_printf("/v1/vms?all=1&limit=1000&after=%" G_GINT64_FORMAT, after);
      g_autoptr(json_t) page = get(leader, path);
      json_t *vm;
      size_t i;

      json_array_foreach(json_object_get(page, "vms"), i, vm)
      {
        gint64 *id = g_new(gint64, 1);

        *id = json_integer_value(json_object_get(vm, "id"));
        g_hash_table_insert(listed, id, g_strdup(json_string_value(json_object_get(vm, "state"))));
      }
      if (!json_is_integer(json_object_get(page, "next")))
        break;
      after = json_integer_value(json_object_get(page, "next"));
    }
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM vms"), ==, g_hash_table_size(listed));
  }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, created);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
      if (!g_hash_table_contains(listed, key))
        g_error("VM %" G_GINT64_FORMAT " (a 201) is lost: not in GET /v1/vms?all=1",
                *(gint64 *)key);
    }
    g_hash_table_iter_init(&iter, terminated);
    while (g_hash_table_iter_next(&iter, &key, NULL)) {
      const char *state = g_hash_table_lookup(listed, key);

      if (g_strcmp0(state, "done") != 0)
        g_error("VM %" G_GINT64_FORMAT " (terminated, 202) is %s, not done", *(gint64 *)key, state);
    }
  }

  /* The API's view: every host's devices and who holds them ... */
  for (guint h = 0; h < G_N_ELEMENTS(host_names); h++) {
    g_autofree char *path = g_strdup_printf("/v1/hosts/%s", host_names[h]);
    g_autoptr(json_t) host = get(leader, path);
    json_t *dev;
    size_t i;

    json_array_foreach(json_object_get(host, "pci_devices"), i, dev)
    {
      json_t *vm = json_object_get(dev, "vm");

      g_assert_true(json_is_true(json_object_get(dev, "taken")) == json_is_integer(vm));
      if (json_is_integer(vm))
        g_hash_table_insert(held,
                            g_strdup_printf("%s %s", host_names[h],
                                            json_string_value(json_object_get(dev, "address"))),
                            GSIZE_TO_POINTER((gsize)json_integer_value(vm)));
    }
  }
  /* ... the network's leases and who holds them ... */
  {
    g_autoptr(json_t) lan = get(leader, "/v1/networks/lan");
    json_t *lease;
    size_t i;

    json_array_foreach(json_object_get(lan, "leases"), i, lease)
    {
      json_t *vm = json_object_get(lease, "vm_id");

      g_assert_true(json_is_integer(vm));
      g_assert_false(
          g_hash_table_contains(lan_leases, json_string_value(json_object_get(lease, "ip"))));
      g_hash_table_insert(lan_leases, g_strdup(json_string_value(json_object_get(lease, "ip"))),
                          GSIZE_TO_POINTER((gsize)json_integer_value(vm)));
    }
  }
  /* ... against every VM's devices, NICs, and what libvirt has of it. */
  {
    GHashTableIter iter;
    gpointer key, value;
    guint vm_devices = 0;

    g_hash_table_iter_init(&iter, listed);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
      gint64 id = *(gint64 *)key;
      g_autofree char *path = NULL;
      g_autoptr(json_t) vm = NULL;
      const char *state = value;
      const char *host;
      json_t *item;
      size_t i;

      for (guint s = 0; s < G_N_ELEMENTS(state_names); s++)
        by_state[s] += strcmp(state, state_names[s]) == 0;
      if (strcmp(state, "done") == 0)
        continue;
      path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, id);
      vm = get(leader, path);
      vm_checked++;
      g_assert_cmpstr(pp_test_vm_state(vm), ==, state);
      host = json_string_value(json_object_get(json_object_get(vm, "host"), "name"));
      json_array_foreach(json_object_get(vm, "devices"), i, item)
      {
        g_autofree char *where =
            g_strdup_printf("%s %s", host, json_string_value(json_object_get(item, "address")));

        g_assert_nonnull(host);
        if (GPOINTER_TO_SIZE(g_hash_table_lookup(held, where)) != (gsize)id)
          g_error("VM %" G_GINT64_FORMAT " (%s) shows device %s, which its host shows held by "
                  "VM %" G_GSIZE_FORMAT,
                  id, state, where, GPOINTER_TO_SIZE(g_hash_table_lookup(held, where)));
        vm_devices++;
        devices_checked++;
      }
      json_array_foreach(json_object_get(vm, "nics"), i, item)
      {
        json_t *ip = json_object_get(item, "ip");

        if (!json_is_string(ip))
          continue;
        if (GPOINTER_TO_SIZE(g_hash_table_lookup(lan_leases, json_string_value(ip))) != (gsize)id)
          g_error("VM %" G_GINT64_FORMAT " (%s) shows IP %s, which the network shows leased to "
                  "VM %" G_GSIZE_FORMAT,
                  id, state, json_string_value(ip),
                  GPOINTER_TO_SIZE(g_hash_table_lookup(lan_leases, json_string_value(ip))));
        if (g_hash_table_contains(ips, json_string_value(ip)))
          g_error("IP %s shown on VM %" G_GINT64_FORMAT " and VM %" G_GSIZE_FORMAT,
                  json_string_value(ip), id,
                  GPOINTER_TO_SIZE(g_hash_table_lookup(ips, json_string_value(ip))));
        g_hash_table_insert(ips, g_strdup(json_string_value(ip)), GSIZE_TO_POINTER((gsize)id));
        leases_checked++;
      }
      /* The domain the deployer gave libvirt: recorded for a running VM,
       * none before a deploy. That libvirt has it running is the
       * reconcile's finding (settle()). */
      if (strcmp(state, "running") == 0)
        g_assert_true(json_is_string(json_object_get(vm, "domain_xml")));
      if (strcmp(state, "pending") == 0) {
        g_assert_true(json_is_null(json_object_get(vm, "domain_xml")));
        g_assert_cmpuint(json_array_size(json_object_get(vm, "devices")), ==, 0);
      }
    }
    /* Every device a host shows held is some VM's. */
    g_assert_cmpuint(vm_devices, ==, g_hash_table_size(held));
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                    vm_devices);
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM network_lease WHERE vm_id IS NOT NULL"), ==,
                    leases_checked);
    g_assert_cmpuint(g_hash_table_size(lan_leases), ==, leases_checked);
  }

  /* The final leader works: the placed VMs terminated, the pending ones
   * take their devices and leases; then all terminated, nothing is held. */
  {
    gint64 pending = sql_int(conn, "SELECT count(*) FROM vms WHERE state = 'pending'");
    gint64 placed;

    terminate_all(leader, conn, "state <> 'pending' AND state <> 'done'");
    settle(f, conn, leader);
    check_store(conn);
    placed = sql_int(conn, "SELECT count(*) FROM vms WHERE state <> 'done'");
    g_test_message("drain: %" G_GINT64_FORMAT " VMs were pending; %" G_GINT64_FORMAT
                   " placed once the others were terminated",
                   pending, sql_int(conn, "SELECT count(*) FROM vms WHERE state = 'running'"));
    if (pending > 0)
      g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM vms WHERE state = 'running'"), >, 0);
    g_assert_cmpint(placed, <=, pending);
    terminate_all(leader, conn, "state <> 'done'");
    settle(f, conn, leader);
    check_store(conn);
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM vms WHERE state <> 'done'"), ==, 0);
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                    0);
    g_assert_cmpint(sql_int(conn, "SELECT count(*) FROM network_lease"), ==, 0);
  }
  PQfinish(conn);
  warnings = show_warnings(f);

  g_test_message("failover: %u clients, %u VMs created (201), %u terminated (202), %u kills of "
                 "the leader, takeover max %.2f s, mean %.2f s; settled in %.1f s; %u VMs "
                 "(%u pending, %u deploying, %u running, %u poweroff, %u terminating, %u failed, "
                 "%u unknown, %u done); %u VMs shown, %u held devices and %u leases checked",
                 CLIENTS, g_hash_table_size(created), g_hash_table_size(terminated), kills,
                 max_takeover / 1e6, total_takeover / 1e6 / MAX(kills, 1), settle_us / 1e6,
                 g_hash_table_size(listed), by_state[0], by_state[1], by_state[2], by_state[3],
                 by_state[4], by_state[5], by_state[6], by_state[7], vm_checked, devices_checked,
                 leases_checked);
  g_test_message("the daemons' logs: %u warnings", warnings);
  g_assert_cmpuint(kills, >=, MIN_KILLS);
  g_assert_cmpint(max_takeover, <, TAKEOVER_US);

  for (guint i = 0; i < CLIENTS; i++) {
    g_rand_free(clients[i].rand);
    curl_easy_cleanup(clients[i].curl);
    g_array_unref(clients[i].created);
    g_array_unref(clients[i].terminated);
    g_array_unref(clients[i].mine);
    g_string_free(clients[i].first_other, TRUE);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/failover/leader-killed-under-load", Fixture, NULL, pp_test_pair_set_up,
             test_failover, pp_test_pair_tear_down);
  return g_test_run();
}
