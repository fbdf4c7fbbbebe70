/* bench-daemon: the real pcipassd under N hosts and M VMs, over its Unix
 * socket.
 *
 * For each size HOSTS:VMS it starts pcipassd (built with this bench) on a
 * fresh state folder (on /dev/shm when writable), creates HOSTS hosts with
 * POST /v1/hosts, each probed by the real pcipass-probe on the captured
 * sysfs tree of ghw's NVIDIA machine (one 10de:15f8 of class 0302, the only
 * capture with a 0302 device) through libvirt's test driver
 * (test:///default), with the monitor settings pcipassd's tests use (a 1 s
 * monitor, a 60 s probe timeout), and waits until every host is monitored.
 * Then CLIENTS threads create VMS VMs asking for PCI = [ CLASS = "0302" ]
 * with POST /v1/vms, one connection per request, and it measures:
 *
 *   - host create: the mean latency of POST /v1/hosts;
 *   - create: the rate of POST /v1/vms over the whole phase, p50 and p99;
 *   - settle: seconds from the last create until every VM is settled
 *     (running, failed, or pending with an explanation). It polls GET
 *     /v1/vms/ID for the VMs not yet settled only, pausing between rounds
 *     twice what the next round will take (the last round's time per VM
 *     polled, times the VMs left), so that the polls take at most a third
 *     of the daemon; the figure is accurate to a round;
 *   - list: every VM, GET /v1/vms?limit=1000 page after page (the whole
 *     list a client such as `pcipass vm list` reads), the median of up
 *     to 5; page: GET /v1/vms?limit=100&after=ID, a page of 100 at
 *     cursors spread over the ids, p50 and p99 of up to 100; show: GET
 *     /v1/vms/ID on up to 100 VMs, p50 and p99. Each is the time until
 *     the last byte arrived, the bench's JSON parsing not included (the
 *     list's: between pages, the cursor is read);
 *   - idle: the daemon's CPU (utime + stime of /proc/PID/stat, not its
 *     probes') over IDLE_S seconds after all that, in % of one core;
 *     with --push the hosts go on pushing meanwhile, as their timers do;
 *   - RSS: its peak (VmHWM), and the store's size (pcipass.db and its WAL).
 *
 * Each phase of a size has a time limit (--limit, 120 s by default); a size
 * past it is reported as not settled and the bench grows no further. The
 * daemon is killed at the end of each size and dies with the bench
 * (PR_SET_PDEATHSIG). Progress goes to stderr, the table to stdout, then
 * a line per size against issue 11's targets.
 *
 * With --push the hosts push their reports instead (issue 11's pushed
 * reports), so that thousands of hosts cost no probe each: each host is
 * made without a probe it could run and given a report token (POST
 * /v1/hosts/NAME/token), and CLIENTS threads POST the probe's output of the
 * same tree, run once, to /v1/hosts/NAME/report with each host's token;
 * "host_ms" then counts the host, its token and its first report.
 *
 * Every host's libvirt is test:///default, one driver in pcipassd for all:
 * each host's reconcile then lists every VM's domain (hosts x VMs per
 * monitor pass, which no real cluster pays). --drivers N gives host h the
 * test driver file h % N of its own, so that it lists about HOSTS / N.
 *
 * With --wrk S, pcipassd also listens on 127.0.0.1 (plain HTTP) and
 * Debian's wrk runs S seconds over TCP at about 1,000 requests a second
 * with an admin token, twice: GET /v1/whoami alone (the floor: the HTTP
 * stack and the token's check), then a mix of GET /v1/vms/ID, a page of
 * 100, GET /v1/hosts/NAME and whoami; the mix's p50 and p99 and their ratio
 * to the floor's p99 are printed, against issue 11's "API p99 < 5 ms at
 * 1,000 req/s".
 *
 * --store postgresql (issue 15) starts a throwaway PostgreSQL server
 * (tests/pp-test-pg.h: initdb in a temporary folder, fsync off, a Unix
 * socket only, with Debian's default shared_buffers of 128MB rather than
 * the tests' 16MB) and gives each size's pcipassd a fresh database of it
 * (--database postgresql:///...); the store's size is then the database's
 * (pg_database_size()), and the idle window also reads the server's CPU
 * (the postmaster and its children: pcipassd's backends among them).
 * --store both runs each size on SQLite, then on PostgreSQL, and ends with
 * a table per size of both figures and their ratio, PostgreSQL / SQLite.
 * The default, --store sqlite, prints what it always did. With --keep the
 * server is left running at the end (the bench says how to stop it), and
 * $PP_BENCH_PG_CONF, if set, is appended to its postgresql.conf (e.g.
 * "shared_preload_libraries = 'pg_stat_statements'" to see afterwards what
 * pcipassd's statements cost).
 *
 * Usage: bench-daemon [--limit S] [--clients N] [--monitor-interval S]
 *                     [--drivers N] [--push] [--wrk S] [--keep]
 *                     [--store sqlite|postgresql|both] [HOSTS:VMS...]
 *                     (default: 50:300 150:900)
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "pp-bench-util.h"
#include "pp-test-pg.h"

/* Not pp-autoptr.h's: that one brings libvirt and SQLite along. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

#define TREE_TARBALL "ghw-sysfs/linux-amd64-accel-nvidia.tar.gz"
/* The idle window, in seconds. */
#define IDLE_S 10

#define VM_TEMPLATE_FMT "NAME = bench-%u\nCPU = 1\nMEMORY = 256\nPCI = [ CLASS = \"0302\" ]\n"
#define MAX_HOSTS 100000
#define MAX_VMS 1000000
#define MAX_CLIENTS 256

typedef struct {
  guint hosts, vms;
} Size;

/* The stores a size runs on (--store), a bit each. */
typedef enum {
  STORE_SQLITE = 1 << 0,
  STORE_POSTGRESQL = 1 << 1,
} Store;

/* What the throwaway PostgreSQL server adds to the tests' settings: Debian's
 * default shared_buffers, as a site would start with (the tests' 16MB would
 * make the larger sizes read through the kernel's cache). */
#define PG_BENCH_SETTINGS "# bench-daemon\nshared_buffers = 128MB\n"

typedef struct {
  guint limit_s;
  guint clients;
  guint monitor_interval;
  gboolean push; /* hosts push their reports, not probed */
  gboolean keep;
  /* 0: every host's libvirt is test:///default, one driver for all; N:
   * host h's is driver file h % N of its own (test:///PATH), so that a
   * host's reconcile lists about HOSTS / N domains, not every one. */
  guint drivers;
  /* 0: no wrk; S: after the idle window, S seconds of wrk over TCP at
   * WRK_RATE requests a second, twice (the floor, then the mix). */
  guint wrk_s;
  Store stores; /* --store: STORE_SQLITE, STORE_POSTGRESQL or both */
} Options;

/* One size's figures; a negative figure was not measured. */
typedef struct {
  guint hosts, vms;
  Store store; /* which one this size ran on */
  double host_create_ms;
  guint created;
  double create_rate, create_p50_ms, create_p99_ms;
  gboolean settled;
  double settle_s;
  guint n_settled, n_running, n_pending;
  double list_ms, page_p50_ms, page_p99_ms, show_p50_ms, show_p99_ms;
  double idle_pct, rss_mib, store_mib;
  /* PostgreSQL's server (its postmaster and every backend) in the same
   * idle window, in % of one core; -1 on SQLite. */
  double pg_idle_pct;
  /* wrk over TCP: the mix's rate, p50 and p99, and the floor's p99
   * (GET /v1/whoami alone, at the same rate); the non-2xx answers and
   * socket errors of both. */
  double wrk_rate, wrk_p50_ms, wrk_p99_ms, wrk_floor_p99_ms;
  guint64 wrk_bad;
  char *failure; /* why the size stopped, or NULL */
} Result;

static const char *socket_path;
/* The throwaway PostgreSQL server with --store postgresql or both; NULL
 * otherwise. */
static PpTestPg *pg_server;
/* The TCP port pcipassd listens on (--listen 127.0.0.1:PORT) with --wrk;
 * 0: none. */
static guint16 tcp_port;

/* HTTP over the Unix socket, a new connection each time. Returns curl's
 * code; the body in @out (may be NULL: dropped). @token: a bearer token,
 * or NULL for the socket's admin. */
static CURLcode
http_as(const char *token, const char *method, const char *path, const char *body, GString *out,
        long *status)
{
  const PpBenchHttp how = { .socket_path = socket_path,
                            .token = token,
                            .content_type = token != NULL ? "text/plain" : "application/json",
                            .timeout_s = 60 };

  return pp_bench_http(NULL, &how, method, path, body, body != NULL ? strlen(body) : 0, out,
                       status);
}

static CURLcode
http(const char *method, const char *path, const char *body, GString *out, long *status)
{
  return http_as(NULL, method, path, body, out, status);
}

/* GET @path, parsed; NULL (and @why) unless 200 with JSON. */
static json_t *
get_json(const char *path, char **why)
{
  g_autoptr(GString) out = g_string_new(NULL);
  long status;
  CURLcode code = http("GET", path, NULL, out, &status);
  json_t *json;

  if (code != CURLE_OK || status != 200) {
    *why =
        g_strdup_printf("GET %s: %s %ld %.200s", path, curl_easy_strerror(code), status, out->str);
    return NULL;
  }
  json = json_loadb(out->str, out->len, 0, NULL);
  if (json == NULL)
    *why = g_strdup_printf("GET %s: not JSON", path);
  return json;
}

/* The rows of every page of @path ("/v1/hosts?state=monitored"), read by
 * pages of 1000 (-1, and @why, on a failure). */
static gint64
count_pages(const char *path, char **why)
{
  gint64 rows = 0;
  json_int_t after = 0;

  for (;;) {
    g_autofree char *page_path = g_strdup_printf("%s%slimit=1000&after=%" JSON_INTEGER_FORMAT, path,
                                                 strchr(path, '?') ? "&" : "?", after);
    g_autoptr(json_t) page = get_json(page_path, why);
    json_t *next;
    json_t *items;
    const char *key;

    if (page == NULL)
      return -1;
    json_object_foreach(page, key, items)
    {
      if (json_is_array(items))
        rows += (gint64)json_array_size(items);
    }
    next = json_object_get(page, "next");
    if (!json_is_integer(next))
      return rows;
    if (json_integer_value(next) <= after) {
      *why = g_strdup_printf("GET %s: next %" JSON_INTEGER_FORMAT " does not advance", page_path,
                             json_integer_value(next));
      return -1;
    }
    after = json_integer_value(next);
  }
}

/* The @q quantile (0..1) of @n sorted values. */
static double
quantile(const double *v, guint n, double q)
{
  guint i;

  if (n == 0)
    return -1;
  i = (guint)(q * (n - 1) + 0.5);
  return v[MIN(i, n - 1)];
}

/* @database: (nullable): pcipassd's --database (a PostgreSQL URI); NULL: the
 * SQLite file in its state folder. */
static GSubprocess *
daemon_start(const char *dir, const char *log, const Options *opt, const char *database, char **why)
{
  const PpBenchHttp how = { .socket_path = socket_path, .timeout_s = 60 };
  g_autofree char *state = g_build_filename(dir, "state", NULL);
  g_autofree char *interval = g_strdup_printf("%u", opt->monitor_interval);
  g_autofree char *listen = tcp_port != 0 ? g_strdup_printf("127.0.0.1:%u", tcp_port) : NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  const char *fixed[] = { PP_BENCH_DAEMON, "--state-dir",     state,
                          "--socket",      socket_path,       "--monitor-interval",
                          interval,        "--probe-timeout", "60",
                          "--probe-path",  PP_BENCH_PROBE };

  for (gsize i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(argv, (gpointer)fixed[i]);
  if (database != NULL) {
    g_ptr_array_add(argv, (gpointer) "--database");
    g_ptr_array_add(argv, (gpointer)database);
  }
  if (listen != NULL) {
    g_ptr_array_add(argv, (gpointer) "--listen");
    g_ptr_array_add(argv, listen);
  }
  g_ptr_array_add(argv, NULL);

  return pp_bench_daemon_start((const char *const *)argv->pdata, log, &how, "/v1/hosts", 30, why);
}

/* utime + stime of @pid in clock ticks, or -1. */
static gint64
proc_cpu_ticks(const char *pid)
{
  g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    return -1;
  /* The command name may hold spaces: count from its closing ')'. */
  after = strrchr(text, ')');
  if (after == NULL)
    return -1;
  fields = g_strsplit(after + 2, " ", 0);
  /* Fields 14 and 15 of stat(5), 12 and 13 after the name and state. */
  if (g_strv_length(fields) < 13)
    return -1;
  return g_ascii_strtoll(fields[11], NULL, 10) + g_ascii_strtoll(fields[12], NULL, 10);
}

static double
file_mib(const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename(dir, "state", name, NULL);
  GStatBuf st;

  return g_stat(path, &st) == 0 ? (double)st.st_size / (1024.0 * 1024.0) : 0;
}

/* utime + stime of PostgreSQL's server in clock ticks: its postmaster and
 * every child of it (the backends, pcipassd's among them; the checkpointer,
 * the WAL writer...), or -1. A child that ends meanwhile is not counted:
 * pcipassd keeps its connections. */
static gint64
pg_server_cpu_ticks(void)
{
  GPid postmaster = pp_test_pg_server_pid(pg_server);
  g_autoptr(GDir) proc = NULL;
  g_autofree char *pid_text = NULL;
  const char *name;
  gint64 ticks;

  if (postmaster <= 0)
    return -1;
  pid_text = g_strdup_printf("%d", (int)postmaster);
  ticks = proc_cpu_ticks(pid_text);
  if (ticks < 0 || (proc = g_dir_open("/proc", 0, NULL)) == NULL)
    return -1;
  while ((name = g_dir_read_name(proc)) != NULL) {
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    const char *after;
    gint64 ppid;
    gint64 child;

    if (!g_ascii_isdigit(name[0]))
      continue;
    path = g_strdup_printf("/proc/%s/stat", name);
    if (!g_file_get_contents(path, &text, NULL, NULL) || (after = strrchr(text, ')')) == NULL)
      continue;
    /* ") STATE PPID ...": the parent's pid is the second field after it. */
    ppid = g_ascii_strtoll(after + 4, NULL, 10);
    if (ppid != postmaster || (child = proc_cpu_ticks(name)) < 0)
      continue;
    ticks += child;
  }
  return ticks;
}

/* The size of the database at @uri in MiB (pg_database_size()), or -1
 * with @why. */
static double
pg_database_mib(const char *uri, char **why)
{
  PGconn *conn = PQconnectdb(uri);
  PGresult *result = NULL;
  double mib = -1;

  if (PQstatus(conn) != CONNECTION_OK) {
    *why = g_strdup_printf("cannot connect to PostgreSQL: %s", PQerrorMessage(conn));
  } else {
    result = PQexec(conn, "SELECT pg_database_size(current_database())");
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1)
      mib = g_ascii_strtod(PQgetvalue(result, 0, 0), NULL) / (1024.0 * 1024.0);
    else
      *why = g_strdup_printf("pg_database_size(): %s", PQerrorMessage(conn));
  }
  PQclear(result);
  PQfinish(conn);
  return mib;
}

/* Pushing reports from concurrent clients (--push). */

typedef struct {
  guint n;
  const char *report;
  char **tokens; /* by host */
  double deadline;
  gint next; /* atomic */
  GMutex lock;
  char *error; /* the first failure */
} Pushes;

static gpointer
push_worker(gpointer data)
{
  Pushes *p = data;
  g_autoptr(GString) out = g_string_new(NULL);

  for (;;) {
    guint h = (guint)g_atomic_int_add(&p->next, 1);
    g_autofree char *path = NULL;
    long status;
    CURLcode code;

    if (h >= p->n || pp_bench_now_s() > p->deadline)
      return NULL;
    path = g_strdup_printf("/v1/hosts/h%05u/report", h + 1);
    g_string_truncate(out, 0);
    code = http_as(p->tokens[h], "POST", path, p->report, out, &status);
    if (code != CURLE_OK || status != 200) {
      g_mutex_lock(&p->lock);
      if (p->error == NULL)
        p->error = g_strdup_printf("POST %s: %s %ld %.200s", path, curl_easy_strerror(code), status,
                                   out->str);
      g_mutex_unlock(&p->lock);
      return NULL;
    }
  }
}

/* Host @h's libvirt URI: test:///default, or with @drivers > 0 the test
 * driver file @h % @drivers in @dir (written on first use: a node with no
 * domains). Returns: (transfer full). */
static char *
driver_uri(const char *dir, guint drivers, guint h)
{
  g_autofree char *path = NULL;

  if (drivers == 0)
    return g_strdup("test:///default");
  path = g_strdup_printf("%s/driver-%u.xml", dir, h % drivers);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_autoptr(GError) error = NULL;

    if (!g_file_set_contents(path, "<node>\n</node>\n", -1, &error))
      g_error("%s", error->message);
  }
  return g_strdup_printf("test://%s", path);
}

/* While a size runs: every host pushes its report again twice per
 * monitor interval (unchanged: a hash comparison each), spread evenly over
 * it as the timers of many hosts are (RandomizedDelaySec), so that no host
 * goes stale (3 intervals) and the daemon sees the steady load of a
 * cluster of that size: at 10,000 hosts and a 600 s interval, 33 reports
 * a second. */
typedef struct {
  const char *report;
  char **tokens;
  guint n;
  double period; /* seconds between two pushes of one host */
  gint stop;     /* atomic */
  gint pushed;   /* atomic: read while it runs */
  gint failed;   /* atomic */
} Repush;

static gpointer
repush_worker(gpointer data)
{
  Repush *rp = data;
  g_autoptr(GString) out = g_string_new(NULL);
  double start = pp_bench_now_s();
  guint64 k = 0;

  while (!g_atomic_int_get(&rp->stop)) {
    /* The k-th push is due at start + k * period / n. */
    double due = start + (double)k * rp->period / rp->n;
    g_autofree char *path = NULL;
    long status;

    if (pp_bench_now_s() < due) {
      g_usleep((gulong)MIN(100000.0, (due - pp_bench_now_s()) * 1e6) + 1);
      continue;
    }
    path = g_strdup_printf("/v1/hosts/h%05u/report", (guint)(k % rp->n) + 1);
    g_string_truncate(out, 0);
    if (http_as(rp->tokens[k % rp->n], "POST", path, rp->report, out, &status) == CURLE_OK &&
        status == 200)
      g_atomic_int_inc(&rp->pushed);
    else
      g_atomic_int_inc(&rp->failed);
    k++;
  }
  return NULL;
}

/* Every host's report, pushed by @clients threads; FALSE with @why. */
static gboolean
push_all(const char *report, char **tokens, guint n, guint clients, double deadline, char **why)
{
  Pushes p = { .n = n, .report = report, .tokens = tokens, .deadline = deadline };
  g_autoptr(GPtrArray) threads = g_ptr_array_new();

  g_mutex_init(&p.lock);
  for (guint i = 0; i < clients; i++)
    g_ptr_array_add(threads, g_thread_new("pusher", push_worker, &p));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join(g_ptr_array_index(threads, i));
  g_mutex_clear(&p.lock);
  if (p.error == NULL && (guint)p.next < n)
    p.error = g_strdup_printf("reports not pushed in time (%d of %u)", p.next, n);
  *why = p.error;
  return p.error == NULL;
}

/* Creating VMs from concurrent clients. */

typedef struct {
  guint n;
  double deadline;
  gint next;  /* atomic: the next VM to create */
  gint done;  /* atomic: created */
  double *ms; /* each create's latency, by index; -1: not made */
  gint64 *ids;
  GMutex lock;
  char *error; /* the first failure */
} Creates;

static gpointer
create_worker(gpointer data)
{
  Creates *c = data;
  g_autoptr(GString) out = g_string_new(NULL);

  for (;;) {
    guint i = (guint)g_atomic_int_add(&c->next, 1);
    g_autofree char *text = NULL;
    g_autoptr(json_t) body = NULL;
    g_autofree char *dumped = NULL;
    double t0;
    long status;
    CURLcode code;

    if (i >= c->n || pp_bench_now_s() > c->deadline)
      return NULL;
    text = g_strdup_printf(VM_TEMPLATE_FMT, i + 1);
    body = json_pack("{s:s}", "template", text);
    dumped = json_dumps(body, JSON_COMPACT);
    g_string_truncate(out, 0);
    t0 = pp_bench_now_s();
    code = http("POST", "/v1/vms", dumped, out, &status);
    if (code != CURLE_OK || status != 201) {
      g_mutex_lock(&c->lock);
      if (c->error == NULL)
        c->error = g_strdup_printf("POST /v1/vms: %s %ld %.200s", curl_easy_strerror(code), status,
                                   out->str);
      g_mutex_unlock(&c->lock);
      /* A failed create stops this client: the figures would be of errors. */
      return NULL;
    }
    c->ms[i] = (pp_bench_now_s() - t0) * 1000;
    {
      g_autoptr(json_t) reply = json_loadb(out->str, out->len, 0, NULL);

      c->ids[i] = json_integer_value(json_object_get(reply, "id"));
    }
    if (((guint)g_atomic_int_add(&c->done, 1) + 1) % 500 == 0)
      g_printerr("  %d VMs created\n", g_atomic_int_get(&c->done));
  }
}

/* Is this VM's JSON settled? Counts it in @r. */
static gboolean
vm_settled(json_t *vm, Result *r)
{
  const char *state = json_string_value(json_object_get(vm, "state"));
  json_t *why = json_object_get(vm, "explanation");

  if (g_strcmp0(state, "running") == 0) {
    r->n_running++;
    return TRUE;
  }
  if (g_strcmp0(state, "failed") == 0)
    return TRUE;
  if (g_strcmp0(state, "pending") == 0 && why != NULL && !json_is_null(why)) {
    r->n_pending++;
    return TRUE;
  }
  return FALSE;
}

/* wrk over TCP (issue 11: "API p99 < 5 ms at 1,000 req/s measured with
 * wrk"): WRK_CONNECTIONS connections, each waiting WRK_DELAY_MS before its
 * next request (wrk's delay()), about WRK_RATE requests a second; wrk
 * times each from its write to its answer's last byte. pcipassd answers
 * "Connection: close", so wrk connects again for every request. */
#define WRK_CONNECTIONS 20
#define WRK_DELAY_MS 19
#define WRK_RATE 1000

typedef struct {
  double rate, p50_ms, p99_ms;
  guint64 bad; /* non-2xx answers and socket errors */
} WrkFigures;

/* Runs wrk for @seconds over @paths (GETs, in turn) with @token; FALSE
 * with @why when wrk is missing or failed. */
static gboolean
run_wrk(const char *dir, const char *name, const char *token, GPtrArray *paths, guint seconds,
        WrkFigures *ret, char **why)
{
  g_autofree char *script = g_strdup_printf("%s/wrk-%s.lua", dir, name);
  g_autofree char *duration = g_strdup_printf("%us", seconds);
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", tcp_port);
  g_autofree char *connections = g_strdup_printf("%u", WRK_CONNECTIONS);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GString) lua = g_string_new("-- bench-daemon's paced GETs\nlocal paths = {\n");
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "wrk",       "-t", "2",  "-c",   connections, "-d", duration,
                         "--timeout", "5s", "-s", script, url,         NULL };
  const char *line;
  guint64 requests, duration_us, status_errors, socket_errors;
  double p50_us, p99_us;
  int wait_status = 0;

  for (guint i = 0; i < paths->len; i++)
    g_string_append_printf(lua, "  \"%s\",\n", (const char *)g_ptr_array_index(paths, i));
  g_string_append_printf(
      lua,
      "}\n"
      "local headers = { [\"Authorization\"] = \"Bearer %s\" }\n"
      "local n = 0\n"
      "function init(args) n = math.random(#paths) end\n"
      "function delay() return %d end\n"
      "function request()\n"
      "  n = n %% #paths + 1\n"
      "  return wrk.format(\"GET\", paths[n], headers)\n"
      "end\n"
      "function done(summary, latency, requests)\n"
      "  local e = summary.errors\n"
      "  io.write(string.format(\"WRK %%d %%d %%d %%d %%.0f %%.0f\\n\", summary.requests,\n"
      "    summary.duration, e.status, e.connect + e.read + e.write + e.timeout,\n"
      "    latency:percentile(50), latency:percentile(99)))\n"
      "end\n",
      token, WRK_DELAY_MS);
  if (!g_file_set_contents_full(script, lua->str, (gssize)lua->len, G_FILE_SET_CONTENTS_NONE, 0600,
                                &error)) {
    *why = g_strdup_printf("cannot write '%s': %s", script, error->message);
    return FALSE;
  }
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                    &wait_status, &error)) {
    *why = g_strdup_printf("cannot run wrk (Debian's package wrk; scripts/install-deps installs "
                           "it): %s",
                           error->message);
    return FALSE;
  }
  line = out != NULL ? strstr(out, "WRK ") : NULL;
  if (!g_spawn_check_wait_status(wait_status, NULL) || line == NULL ||
      sscanf(line,
             "WRK %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
             " %" G_GUINT64_FORMAT " %lf %lf",
             &requests, &duration_us, &status_errors, &socket_errors, &p50_us, &p99_us) != 6 ||
      duration_us == 0) {
    *why =
        g_strdup_printf("wrk failed: %.300s%.300s", out != NULL ? out : "", err != NULL ? err : "");
    return FALSE;
  }
  ret->rate = (double)requests / ((double)duration_us / 1e6);
  ret->p50_ms = p50_us / 1000;
  ret->p99_ms = p99_us / 1000;
  ret->bad = status_errors + socket_errors;
  return TRUE;
}

/* Both wrk runs of a size: GET /v1/whoami alone (the floor: the HTTP
 * stack, the token's check), then a mix of what clients read (a VM, a page
 * of 100 VMs, a host with its devices, whoami) at the same rate. */
static void
wrk_size(const char *dir, const Size *size, const gint64 *ids, guint seconds, Result *r)
{
  g_autoptr(GString) out = g_string_new(NULL);
  g_autoptr(json_t) json = NULL;
  g_autoptr(GPtrArray) floor = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) mix = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *why = NULL;
  const char *token;
  WrkFigures f0, f1;
  long status;

  if (http("POST", "/v1/tokens", "{\"name\": \"bench-wrk\"}", out, &status) != CURLE_OK ||
      status != 201 || (json = json_loads(out->str, 0, NULL)) == NULL ||
      (token = json_string_value(json_object_get(json, "token"))) == NULL) {
    r->failure = g_strdup_printf("POST /v1/tokens: %ld %.200s", status, out->str);
    return;
  }
  g_ptr_array_add(floor, g_strdup("/v1/whoami"));
  for (guint k = 0; k < 400; k++) {
    guint h = (guint)((guint64)k * 7919 % size->hosts) + 1;
    gint64 id = size->vms > 0 ? ids[(gsize)k * 7919 % size->vms] : 1;

    switch (k % 4) {
    case 0:
      g_ptr_array_add(mix, g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, id));
      break;
    case 1:
      g_ptr_array_add(mix, g_strdup_printf("/v1/vms?limit=100&after=%" G_GINT64_FORMAT, id - 1));
      break;
    case 2:
      g_ptr_array_add(mix, g_strdup_printf("/v1/hosts/h%05u", h));
      break;
    default:
      g_ptr_array_add(mix, g_strdup("/v1/whoami"));
    }
  }
  g_printerr("  wrk over TCP, %u s each: the floor (whoami), then the mix\n", seconds);
  if (!run_wrk(dir, "floor", token, floor, seconds, &f0, &why) ||
      !run_wrk(dir, "mix", token, mix, seconds, &f1, &why)) {
    r->failure = g_steal_pointer(&why);
    return;
  }
  r->wrk_rate = f1.rate;
  r->wrk_p50_ms = f1.p50_ms;
  r->wrk_p99_ms = f1.p99_ms;
  r->wrk_floor_p99_ms = f0.p99_ms;
  r->wrk_bad = f0.bad + f1.bad;
  g_printerr("  wrk: floor %.0f req/s p99 %.2f ms; mix %.0f req/s p50 %.2f ms p99 %.2f ms; "
             "%" G_GUINT64_FORMAT " bad answers or errors\n",
             f0.rate, f0.p99_ms, f1.rate, f1.p50_ms, f1.p99_ms, r->wrk_bad);
}

static void
run_size(const Size *size, const Options *opt, Store store, const char *tree, const char *base,
         Result *r)
{
  g_autofree char *database = NULL;
  g_autofree char *dir = g_build_filename(base, "XXXXXX", NULL);
  g_autofree char *run = NULL;
  g_autofree char *sock = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  Creates c = { 0 };
  g_auto(GStrv) tokens = NULL;
  g_autofree char *report = NULL;
  Repush repush = { 0 };
  GThread *repusher = NULL;
  const char *pid;
  double t0, phase_end, last_create;
  guint n_made = 0;

  memset(r, 0, sizeof(*r));
  r->hosts = size->hosts;
  r->vms = size->vms;
  r->store = store;
  r->host_create_ms = r->create_rate = r->create_p50_ms = r->create_p99_ms = -1;
  r->settle_s = r->list_ms = r->show_p50_ms = r->show_p99_ms = -1;
  r->page_p50_ms = r->page_p99_ms = -1;
  r->idle_pct = r->rss_mib = r->store_mib = r->pg_idle_pct = -1;
  r->wrk_rate = r->wrk_p50_ms = r->wrk_p99_ms = r->wrk_floor_p99_ms = -1;

  if (g_mkdtemp(dir) == NULL)
    g_error("mkdtemp '%s': %s", dir, g_strerror(errno));
  run = g_build_filename(dir, "run", NULL);
  g_mkdir_with_parents(run, 0755);
  sock = g_build_filename(run, "pcipassd.sock", NULL);
  log = g_build_filename(dir, "pcipassd.log", NULL);
  socket_path = sock;
  if (store == STORE_POSTGRESQL) {
    g_autoptr(GError) error = NULL;

    database = pp_test_pg_new_database(pg_server, &error);
    if (database == NULL) {
      r->failure = g_strdup_printf("a new PostgreSQL database: %s", error->message);
      goto out;
    }
  }
  g_printerr("%u hosts, %u VMs: pcipassd on %s, its store %s\n", size->hosts, size->vms, dir,
             database != NULL ? database : "SQLite in its state folder");
  proc = daemon_start(dir, log, opt, database, &r->failure);
  if (proc == NULL)
    goto out;
  pid = g_subprocess_get_identifier(proc);

  /* Hosts, one after the other (as an administrator adds them). */
  if (opt->push) {
    const char *argv[] = { PP_BENCH_PROBE, "--sysfs-root", tree, "--all", NULL };
    int status = 1;

    /* The one report every host pushes, made once. */
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &report,
                      NULL, &status, NULL) ||
        !g_spawn_check_wait_status(status, NULL))
      g_error("cannot run '%s' on '%s'", PP_BENCH_PROBE, tree);
    tokens = g_new0(char *, size->hosts + 1);
  }
  t0 = pp_bench_now_s();
  phase_end = t0 + opt->limit_s;
  for (guint h = 0; h < size->hosts; h++) {
    g_autofree char *name = g_strdup_printf("h%05u", h + 1);
    g_autofree char *uri = driver_uri(dir, opt->drivers, h);
    /* A push host has no probe that could describe it: its own reports
     * come. */
    g_autoptr(json_t) body = opt->push
                                 ? json_pack("{s:s,s:s,s:[s]}", "name", name, "libvirt_uri", uri,
                                             "probe_command", "/bin/false")
                                 : json_pack("{s:s,s:s,s:[s,s,s,s,s,s]}", "name", name,
                                             "libvirt_uri", uri, "probe_command", PP_BENCH_PROBE,
                                             "--sysfs-root", tree, "--all", "--hostname", name);
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);
    g_autoptr(GString) out = g_string_new(NULL);
    long status;
    CURLcode code = http("POST", "/v1/hosts", dumped, out, &status);

    if (code != CURLE_OK || status != 201) {
      r->failure = g_strdup_printf("POST /v1/hosts %s: %s %ld %.200s", name,
                                   curl_easy_strerror(code), status, out->str);
      goto out;
    }
    if (opt->push) {
      g_autofree char *path = g_strdup_printf("/v1/hosts/%s/token", name);
      g_autoptr(json_t) answer = NULL;

      g_string_truncate(out, 0);
      code = http("POST", path, NULL, out, &status);
      answer = code == CURLE_OK && status == 201 ? json_loads(out->str, 0, NULL) : NULL;
      tokens[h] = g_strdup(json_string_value(json_object_get(answer, "token")));
      if (tokens[h] == NULL) {
        r->failure = g_strdup_printf("POST %s: %s %ld %.200s", path, curl_easy_strerror(code),
                                     status, out->str);
        goto out;
      }
    }
    if (pp_bench_now_s() > phase_end) {
      r->failure = g_strdup_printf("hosts not created after %u s (%u of %u)", opt->limit_s, h + 1,
                                   size->hosts);
      goto out;
    }
  }
  if (opt->push && !push_all(report, tokens, size->hosts, opt->clients, phase_end, &r->failure))
    goto out;
  if (opt->push) {
    repush = (Repush){
      .report = report, .tokens = tokens, .n = size->hosts, .period = opt->monitor_interval / 2.0
    };
    repusher = g_thread_new("repusher", repush_worker, &repush);
  }
  r->host_create_ms = (pp_bench_now_s() - t0) * 1000 / MAX(size->hosts, 1);
  g_printerr("  %u hosts created%s, %.1f ms each\n", size->hosts,
             opt->push ? " with their tokens and first pushed reports" : "", r->host_create_ms);

  /* Every host monitored. */
  for (gint64 monitored = 0;;) {
    g_autofree char *why = NULL;

    monitored = count_pages("/v1/hosts?state=monitored", &why);
    if (monitored < 0) {
      r->failure = g_steal_pointer(&why);
      goto out;
    }
    if (monitored == size->hosts)
      break;
    if (pp_bench_now_s() > phase_end) {
      r->failure = g_strdup_printf("hosts not monitored after %u s (%" G_GINT64_FORMAT " of %u)",
                                   opt->limit_s, monitored, size->hosts);
      goto out;
    }
    g_usleep(250000);
  }
  g_printerr("  %u hosts monitored after %.1f s\n", size->hosts, pp_bench_now_s() - t0);

  /* The VMs, from concurrent clients. */
  c.n = size->vms;
  c.ms = g_new(double, MAX(size->vms, 1));
  c.ids = g_new0(gint64, MAX(size->vms, 1));
  for (guint i = 0; i < size->vms; i++)
    c.ms[i] = -1;
  g_mutex_init(&c.lock);
  t0 = pp_bench_now_s();
  c.deadline = t0 + opt->limit_s;
  {
    g_autoptr(GPtrArray) threads = g_ptr_array_new();

    for (guint i = 0; i < opt->clients; i++)
      g_ptr_array_add(threads, g_thread_new("client", create_worker, &c));
    for (guint i = 0; i < threads->len; i++)
      g_thread_join(g_ptr_array_index(threads, i));
  }
  last_create = pp_bench_now_s();
  {
    g_autofree double *sorted = g_new(double, MAX(size->vms, 1));

    for (guint i = 0; i < size->vms; i++) {
      if (c.ms[i] >= 0)
        sorted[n_made++] = c.ms[i];
    }
    qsort(sorted, n_made, sizeof(double), pp_bench_compare_double);
    r->created = n_made;
    r->create_rate = n_made / MAX(last_create - t0, 1e-6);
    r->create_p50_ms = quantile(sorted, n_made, 0.50);
    r->create_p99_ms = quantile(sorted, n_made, 0.99);
  }
  g_printerr("  %u VMs created in %.1f s\n", n_made, last_create - t0);
  if (c.error != NULL) {
    r->failure = g_steal_pointer(&c.error);
    goto out;
  }
  if (n_made < size->vms) {
    r->failure =
        g_strdup_printf("VMs not created after %u s (%u of %u)", opt->limit_s, n_made, size->vms);
    goto out;
  }

  /* Settled: poll the VMs not yet settled, one GET each. */
  {
    g_autoptr(GArray) open = g_array_new(FALSE, FALSE, sizeof(gint64));
    double deadline = last_create + opt->limit_s;

    g_array_append_vals(open, c.ids, size->vms);
    for (;;) {
      double round = pp_bench_now_s();
      guint polled = open->len;
      g_autoptr(GArray) still = g_array_new(FALSE, FALSE, sizeof(gint64));

      for (guint i = 0; i < open->len; i++) {
        gint64 id = g_array_index(open, gint64, i);
        g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, id);
        g_autofree char *why = NULL;
        g_autoptr(json_t) vm = get_json(path, &why);

        if (vm == NULL) {
          r->failure = g_steal_pointer(&why);
          goto out;
        }
        if (vm_settled(vm, r))
          r->n_settled++;
        else
          g_array_append_val(still, id);
      }
      g_array_set_size(open, 0);
      g_array_append_vals(open, still->data, still->len);
      if (open->len == 0) {
        r->settled = TRUE;
        r->settle_s = pp_bench_now_s() - last_create;
        break;
      }
      if (pp_bench_now_s() > deadline) {
        r->failure = g_strdup_printf("not settled after %u s (%u of %u settled)", opt->limit_s,
                                     r->n_settled, size->vms);
        goto out;
      }
      g_printerr("  %.1f s: %u of %u settled\n", pp_bench_now_s() - last_create, r->n_settled,
                 size->vms);
      /* Twice what the next round will take: this round's time for each
       * VM it polled, times those left. (Twice this whole round's time
       * made the figure a round's pause late: 10,000 GETs on PostgreSQL
       * take 14 s, and the one VM left was polled again 28 s later.) */
      g_usleep((gulong)(MAX(0.25, 2 * (pp_bench_now_s() - round) * open->len / polled) *
                        G_USEC_PER_SEC));
    }
  }
  g_printerr("  settled %.1f s after the last create (%u running, %u pending)\n", r->settle_s,
             r->n_running, r->n_pending);

  /* The whole list, page after page: up to 5 times, at most 30 s in all. */
  {
    double ms[5];
    guint n = 0;
    double start = pp_bench_now_s();

    while (n < G_N_ELEMENTS(ms) && (n == 0 || pp_bench_now_s() - start < 30)) {
      g_autofree char *why = NULL;
      double t = pp_bench_now_s();
      gint64 rows = count_pages("/v1/vms", &why);

      if (rows < 0) {
        r->failure = g_steal_pointer(&why);
        goto out;
      }
      ms[n++] = (pp_bench_now_s() - t) * 1000;
    }
    qsort(ms, n, sizeof(double), pp_bench_compare_double);
    r->list_ms = quantile(ms, n, 0.5);
  }
  /* A page of 100, at up to 100 cursors spread over the ids. */
  {
    double ms[100];
    guint n = MIN(size->vms, G_N_ELEMENTS(ms));

    for (guint i = 0; i < n; i++) {
      g_autofree char *path = g_strdup_printf("/v1/vms?limit=100&after=%" G_GINT64_FORMAT,
                                              c.ids[(gsize)i * size->vms / n] - 1);
      double t = pp_bench_now_s();
      long status;
      CURLcode code = http("GET", path, NULL, NULL, &status);

      if (code != CURLE_OK || status != 200) {
        r->failure = g_strdup_printf("GET %s: %s %ld", path, curl_easy_strerror(code), status);
        goto out;
      }
      ms[i] = (pp_bench_now_s() - t) * 1000;
    }
    qsort(ms, n, sizeof(double), pp_bench_compare_double);
    r->page_p50_ms = quantile(ms, n, 0.50);
    r->page_p99_ms = quantile(ms, n, 0.99);
  }
  /* vm show on up to 100 VMs spread over the ids. */
  {
    double ms[100];
    guint n = MIN(size->vms, G_N_ELEMENTS(ms));

    for (guint i = 0; i < n; i++) {
      g_autofree char *path =
          g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, c.ids[(gsize)i * size->vms / n]);
      double t = pp_bench_now_s();
      long status;
      CURLcode code = http("GET", path, NULL, NULL, &status);

      if (code != CURLE_OK || status != 200) {
        r->failure = g_strdup_printf("GET %s: %s %ld", path, curl_easy_strerror(code), status);
        goto out;
      }
      ms[i] = (pp_bench_now_s() - t) * 1000;
    }
    qsort(ms, n, sizeof(double), pp_bench_compare_double);
    r->show_p50_ms = quantile(ms, n, 0.50);
    r->show_p99_ms = quantile(ms, n, 0.99);
  }
  g_printerr("  list %.1f ms, page of 100 p50 %.1f ms p99 %.1f ms, show p50 %.1f ms\n", r->list_ms,
             r->page_p50_ms, r->page_p99_ms, r->show_p50_ms);

  /* Idle: 10 s in which no client asks anything (with --push, the hosts
   * still push as their timers would). */
  {
    gint64 before = proc_cpu_ticks(pid);
    gint64 pg_before = database != NULL ? pg_server_cpu_ticks() : -1;
    gint pushed = g_atomic_int_get(&repush.pushed);
    double t = pp_bench_now_s();
    gint64 after, pg_after;

    g_usleep(IDLE_S * G_USEC_PER_SEC);
    after = proc_cpu_ticks(pid);
    pg_after = database != NULL ? pg_server_cpu_ticks() : -1;
    if (before >= 0 && after >= 0)
      r->idle_pct =
          100.0 * (double)(after - before) / (double)sysconf(_SC_CLK_TCK) / (pp_bench_now_s() - t);
    if (pg_before >= 0 && pg_after >= 0)
      r->pg_idle_pct = 100.0 * (double)(pg_after - pg_before) / (double)sysconf(_SC_CLK_TCK) /
                       (pp_bench_now_s() - t);
    if (database != NULL)
      g_printerr("  idle: pcipassd %.1f %%, PostgreSQL's server %.1f %% of a core\n", r->idle_pct,
                 r->pg_idle_pct);
    if (repusher != NULL)
      g_printerr("  idle %.1f %% of a core, with %.1f reports pushed a second\n", r->idle_pct,
                 (double)(g_atomic_int_get(&repush.pushed) - pushed) / (pp_bench_now_s() - t));
  }
  if (opt->wrk_s > 0)
    wrk_size(dir, size, c.ids, opt->wrk_s, r);

out:
  if (repusher != NULL) {
    g_atomic_int_set(&repush.stop, 1);
    g_thread_join(repusher);
    g_printerr("  %d reports pushed again meanwhile, %d refused or failed\n", repush.pushed,
               repush.failed);
  }
  if (proc != NULL && g_subprocess_get_identifier(proc) != NULL) {
    pid = g_subprocess_get_identifier(proc);
    r->rss_mib = pp_bench_proc_mem_mib(pid, "VmHWM:");
    if (database == NULL)
      r->store_mib = file_mib(dir, "pcipass.db") + file_mib(dir, "pcipass.db-wal");
    pp_bench_daemon_stop(proc);
    if (database != NULL) {
      g_autofree char *why = NULL;

      /* After the daemon stopped: nothing is written meanwhile. */
      r->store_mib = pg_database_mib(database, &why);
      if (why != NULL)
        g_printerr("  the database's size: %s\n", why);
    }
  } else if (proc != NULL && r->failure == NULL) {
    r->failure = g_strdup_printf("pcipassd exited (log: %s)", log);
  }
  if (r->failure != NULL)
    g_printerr("  stopped: %s\n", r->failure);
  g_free(c.ms);
  g_free(c.ids);
  g_free(c.error);
  if (c.n != 0)
    g_mutex_clear(&c.lock);
  if (r->failure != NULL) {
    g_autofree char *text = NULL;
    gsize len = 0;

    if (g_file_get_contents(log, &text, &len, NULL))
      g_printerr("  the end of pcipassd's log:\n%s\n", text + (len > 2000 ? len - 2000 : 0));
  }
  if (opt->keep) {
    g_printerr("  kept %s\n", dir);
  } else {
    const char *rm[] = { "/bin/rm", "-rf", "--", dir, NULL };

    g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
  }
}

static void
print_figure(double v, int decimals)
{
  if (v < 0)
    printf(" %9s", "-");
  else
    printf(" %9.*f", decimals, v);
}

static const char *
store_name(Store store)
{
  return store == STORE_POSTGRESQL ? "postgresql" : "sqlite";
}

/* @stores: a column naming each row's store, and one of PostgreSQL's idle
 * CPU, unless the bench ran on SQLite alone (its output as it always was). */
static void
print_row(const Result *r, Store stores)
{
  if (stores != STORE_SQLITE)
    printf("%-10s ", store_name(r->store));
  printf("%6u %7u", r->hosts, r->vms);
  print_figure(r->host_create_ms, 1);
  print_figure(r->create_rate, 0);
  print_figure(r->create_p50_ms, 1);
  print_figure(r->create_p99_ms, 1);
  if (r->settled)
    printf(" %9.1f", r->settle_s);
  else
    printf(" %9s", "-");
  print_figure(r->list_ms, 1);
  print_figure(r->page_p50_ms, 1);
  print_figure(r->page_p99_ms, 1);
  print_figure(r->show_p50_ms, 1);
  print_figure(r->show_p99_ms, 1);
  print_figure(r->idle_pct, 1);
  print_figure(r->rss_mib, 1);
  print_figure(r->store_mib, 1);
  printf(" %7u %7u", r->n_running, r->n_pending);
  print_figure(r->wrk_rate, 0);
  print_figure(r->wrk_p50_ms, 2);
  print_figure(r->wrk_p99_ms, 2);
  print_figure(r->wrk_floor_p99_ms, 2);
  if (stores != STORE_SQLITE)
    print_figure(r->pg_idle_pct, 1);
  if (r->failure != NULL)
    printf("  %s", r->failure);
  printf("\n");
}

static const char *
met(gboolean ok, double v)
{
  return v < 0 ? "not measured" : ok ? "met" : "not met";
}

static void
print_targets(const Result *r, Store stores)
{
  char settle[64];

  if (r->settled)
    g_snprintf(settle, sizeof(settle), "%.1f s", r->settle_s);
  else
    g_snprintf(settle, sizeof(settle), "not settled");
  if (stores != STORE_SQLITE)
    printf("%s: ", store_name(r->store));
  printf("targets at %u hosts / %u VMs: settled within 60 s: %s (%s); create p99 < 10 ms: %s "
         "(%.1f); list page of 100 p99 < 20 ms: %s (%.1f); idle < 2 %%: %s (%.1f); RSS < 300 MiB: "
         "%s (%.1f)\n",
         r->hosts, r->vms, r->settled ? met(r->settle_s < 60, r->settle_s) : "not met", settle,
         met(r->create_p99_ms < 10, r->create_p99_ms), r->create_p99_ms,
         met(r->page_p99_ms < 20, r->page_p99_ms), r->page_p99_ms,
         met(r->idle_pct < 2, r->idle_pct), r->idle_pct, met(r->rss_mib < 300, r->rss_mib),
         r->rss_mib);
  if (r->wrk_p99_ms >= 0)
    printf(
        "  wrk over TCP at %.0f req/s: API p99 < 5 ms: %s (%.2f ms; %.1f x the floor's "
        "%.2f ms, GET /v1/whoami alone); %" G_GUINT64_FORMAT " bad answers or errors\n",
        r->wrk_rate,
        met(r->wrk_p99_ms < 5 && r->wrk_rate >= 0.9 * WRK_RATE && r->wrk_bad == 0, r->wrk_p99_ms),
        r->wrk_p99_ms, r->wrk_p99_ms / r->wrk_floor_p99_ms, r->wrk_floor_p99_ms, r->wrk_bad);
}

/* One figure of the ratio table: where it is in a Result, how to print it. */
typedef struct {
  const char *what;
  gsize offset; /* of a double in Result */
  int decimals;
} Figure;

/* Per size run on both, every figure on SQLite and on PostgreSQL and their
 * ratio, PostgreSQL / SQLite: above 1 PostgreSQL took longer or more, except
 * for the rate of creates, where below 1 it made fewer a second. */
/* @v in @width columns, "-" where not measured (negative). */
static void
print_cell(double v, int width, int decimals)
{
  if (v < 0)
    printf(" %*s", width, "-");
  else
    printf(" %*.*f", width, decimals, v);
}

static void
print_ratios(GArray *results)
{
  static const Figure figures[] = {
    { "host create (ms each)", G_STRUCT_OFFSET(Result, host_create_ms), 2 },
    { "create rate (VMs/s)", G_STRUCT_OFFSET(Result, create_rate), 0 },
    { "create p50 (ms)", G_STRUCT_OFFSET(Result, create_p50_ms), 2 },
    { "create p99 (ms)", G_STRUCT_OFFSET(Result, create_p99_ms), 2 },
    { "settle (s)", G_STRUCT_OFFSET(Result, settle_s), 1 },
    { "whole list (ms)", G_STRUCT_OFFSET(Result, list_ms), 1 },
    { "page of 100 p50 (ms)", G_STRUCT_OFFSET(Result, page_p50_ms), 2 },
    { "page of 100 p99 (ms)", G_STRUCT_OFFSET(Result, page_p99_ms), 2 },
    { "show p50 (ms)", G_STRUCT_OFFSET(Result, show_p50_ms), 2 },
    { "show p99 (ms)", G_STRUCT_OFFSET(Result, show_p99_ms), 2 },
    { "idle CPU, pcipassd (%)", G_STRUCT_OFFSET(Result, idle_pct), 1 },
    { "peak RSS, pcipassd (MiB)", G_STRUCT_OFFSET(Result, rss_mib), 1 },
    { "store (MiB)", G_STRUCT_OFFSET(Result, store_mib), 1 },
    { "wrk mix p50 (ms)", G_STRUCT_OFFSET(Result, wrk_p50_ms), 2 },
    { "wrk mix p99 (ms)", G_STRUCT_OFFSET(Result, wrk_p99_ms), 2 },
  };

  for (guint i = 0; i + 1 < results->len; i++) {
    const Result *a = &g_array_index(results, Result, i);
    const Result *b = &g_array_index(results, Result, i + 1);

    if (a->store != STORE_SQLITE || b->store != STORE_POSTGRESQL || a->hosts != b->hosts ||
        a->vms != b->vms)
      continue;
    printf("\nPostgreSQL against SQLite at %u hosts / %u VMs (ratio: PostgreSQL / SQLite)\n",
           a->hosts, a->vms);
    printf("%-26s %12s %12s %9s\n", "figure", "sqlite", "postgresql", "ratio");
    for (gsize f = 0; f < G_N_ELEMENTS(figures); f++) {
      double va = G_STRUCT_MEMBER(double, a, figures[f].offset);
      double vb = G_STRUCT_MEMBER(double, b, figures[f].offset);

      if (figures[f].offset == G_STRUCT_OFFSET(Result, settle_s)) {
        va = a->settled ? va : -1;
        vb = b->settled ? vb : -1;
      }
      if (va < 0 && vb < 0)
        continue;
      printf("%-26s", figures[f].what);
      print_cell(va, 12, figures[f].decimals);
      print_cell(vb, 12, figures[f].decimals);
      if (va > 0 && vb >= 0)
        printf(" %9.2f\n", vb / va);
      else
        printf(" %9s\n", "-");
    }
    /* PostgreSQL's server works for pcipassd too: the idle CPU of both. */
    if (a->idle_pct >= 0 && b->idle_pct >= 0 && b->pg_idle_pct >= 0) {
      double both = b->idle_pct + b->pg_idle_pct;

      printf("%-26s %12s %12.1f %9s\n", "idle CPU, PG server (%)", "-", b->pg_idle_pct, "-");
      printf("%-26s %12.1f %12.1f", "idle CPU, all (%)", a->idle_pct, both);
      if (a->idle_pct > 0)
        printf(" %9.2f\n", both / a->idle_pct);
      else
        printf(" %9s\n", "-");
    }
  }
}

static gboolean
parse_uint(const char *text, guint min, guint max, guint *ret)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL))
    return FALSE;
  *ret = (guint)v;
  return TRUE;
}

static G_NORETURN void
usage(const char *why)
{
  g_printerr("bench-daemon: %s\n"
             "usage: bench-daemon [--limit S] [--clients N] [--monitor-interval S] "
             "[--drivers N] [--push] [--wrk S] [--keep] [--store sqlite|postgresql|both] "
             "[HOSTS:VMS...]\n",
             why);
  exit(2);
}

int
main(int argc, char **argv)
{
  Options opt = { 120, 8, 0, FALSE, FALSE, 0, 0, STORE_SQLITE };
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(Size));
  g_autoptr(GArray) results = g_array_new(FALSE, TRUE, sizeof(Result));
  g_autofree char *base = NULL;
  g_autofree char *tarball = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *unpacked = NULL;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];

    if (strcmp(arg, "--keep") == 0) {
      opt.keep = TRUE;
    } else if (strcmp(arg, "--push") == 0) {
      opt.push = TRUE;
    } else if (strcmp(arg, "--store") == 0) {
      const char *which = i + 1 < argc ? argv[++i] : "";

      if (strcmp(which, "sqlite") == 0)
        opt.stores = STORE_SQLITE;
      else if (strcmp(which, "postgresql") == 0)
        opt.stores = STORE_POSTGRESQL;
      else if (strcmp(which, "both") == 0)
        opt.stores = STORE_SQLITE | STORE_POSTGRESQL;
      else
        usage(g_strdup_printf("--store needs sqlite, postgresql or both, not '%s'", which));
    } else if (strcmp(arg, "--limit") == 0 || strcmp(arg, "--clients") == 0 ||
               strcmp(arg, "--monitor-interval") == 0 || strcmp(arg, "--drivers") == 0 ||
               strcmp(arg, "--wrk") == 0) {
      guint *into = strcmp(arg, "--limit") == 0     ? &opt.limit_s
                    : strcmp(arg, "--clients") == 0 ? &opt.clients
                    : strcmp(arg, "--drivers") == 0 ? &opt.drivers
                    : strcmp(arg, "--wrk") == 0     ? &opt.wrk_s
                                                    : &opt.monitor_interval;

      if (i + 1 >= argc ||
          !parse_uint(argv[i + 1], 1, strcmp(arg, "--clients") == 0 ? MAX_CLIENTS : 86400, into))
        usage(g_strdup_printf("%s needs a number (clients: 1 to %d, seconds: 1 to 86400)", arg,
                              MAX_CLIENTS));
      i++;
    } else {
      g_auto(GStrv) parts = g_strsplit(arg, ":", 0);
      Size s;

      if (g_strv_length(parts) != 2 || !parse_uint(parts[0], 1, MAX_HOSTS, &s.hosts) ||
          !parse_uint(parts[1], 0, MAX_VMS, &s.vms))
        usage(g_strdup_printf("'%s' is not HOSTS:VMS (1 to %d hosts, 0 to %d VMs)", arg, MAX_HOSTS,
                              MAX_VMS));
      g_array_append_val(sizes, s);
    }
  }
  /* A 1 s monitor probes hosts often; push hosts need none, and a longer
   * one leaves them time to push before they count as stale. */
  if (opt.monitor_interval == 0)
    opt.monitor_interval = opt.push ? 60 : 1;
  if (sizes->len == 0) {
    Size defaults[] = { { 50, 300 }, { 150, 900 } };

    g_array_append_vals(sizes, defaults, G_N_ELEMENTS(defaults));
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    g_error("curl_global_init failed");
  signal(SIGPIPE, SIG_IGN);

  /* The tree, unpacked once on tmpfs when there is one. */
  base = g_build_filename(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir(),
                          "pcipass-bench-daemon-XXXXXX", NULL);
  if (g_mkdtemp(base) == NULL)
    g_error("mkdtemp '%s': %s", base, g_strerror(errno));
  tarball = g_build_filename(PP_BENCH_FIXTURES, TREE_TARBALL, NULL);
  unpacked = g_build_filename(base, "tree", NULL);
  g_mkdir_with_parents(unpacked, 0755);
  {
    const char *tar[] = { "/bin/tar", "-xf", tarball, "-C", unpacked, NULL };
    int status = 1;

    if (!g_spawn_sync(NULL, (char **)tar, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                      NULL) ||
        !g_spawn_check_wait_status(status, NULL))
      g_error("cannot unpack '%s'", tarball);
  }
  tree = g_build_filename(unpacked, "sys", NULL);
  if (!g_file_test(tree, G_FILE_TEST_IS_DIR)) {
    g_autoptr(GDir) d = g_dir_open(unpacked, 0, NULL);
    const char *name;

    g_clear_pointer(&tree, g_free);
    while (d != NULL && (name = g_dir_read_name(d)) != NULL && tree == NULL) {
      g_autofree char *sys = g_build_filename(unpacked, name, "sys", NULL);

      if (g_file_test(sys, G_FILE_TEST_IS_DIR))
        tree = g_steal_pointer(&sys);
    }
    if (tree == NULL)
      g_error("no sys folder in '%s'", tarball);
  }

  if (opt.wrk_s > 0)
    tcp_port = pp_bench_free_port();
  g_printerr("pcipassd: %s; probe: %s; tree: %s; %u clients; limit %u s per phase\n",
             PP_BENCH_DAEMON, PP_BENCH_PROBE, TREE_TARBALL, opt.clients, opt.limit_s);
  if (opt.stores & STORE_POSTGRESQL) {
    g_autoptr(GError) error = NULL;

    if (!pp_test_pg_available())
      g_error("--store %s: PostgreSQL's server programs (initdb, pg_ctl, postgres) are not "
              "usable (as root: the user postgres and runuser are needed too): install Debian's "
              "postgresql, or set PP_PG_BINDIR to their folder",
              opt.stores & STORE_SQLITE ? "both" : "postgresql");
    g_autofree char *settings =
        g_strconcat(PG_BENCH_SETTINGS, g_getenv("PP_BENCH_PG_CONF") != NULL ? "\n" : "",
                    g_getenv("PP_BENCH_PG_CONF") != NULL ? g_getenv("PP_BENCH_PG_CONF") : "",
                    g_getenv("PP_BENCH_PG_CONF") != NULL ? "\n" : "", NULL);

    pg_server = pp_test_pg_start_with(settings, &error);
    if (pg_server == NULL)
      g_error("cannot start a throwaway PostgreSQL: %s", error->message);
    g_printerr("PostgreSQL: a throwaway server on %s (fsync off, shared_buffers 128MB)\n",
               pp_test_pg_socket_dir(pg_server));
  }
  for (guint i = 0; i < sizes->len; i++) {
    gboolean failed = FALSE;

    /* SQLite first, then PostgreSQL, at each size. */
    for (guint k = 0; k < 2 && !failed; k++) {
      Store store = k == 0 ? STORE_SQLITE : STORE_POSTGRESQL;
      Result r;

      if (!(opt.stores & store))
        continue;
      run_size(&g_array_index(sizes, Size, i), &opt, store, tree, base, &r);
      g_array_append_val(results, r);
      failed = r.failure != NULL;
    }
    /* A size that did not settle: a larger one would not either. */
    if (failed) {
      if (i + 1 < sizes->len)
        g_printerr("not growing further: %u size(s) skipped\n", sizes->len - i - 1);
      break;
    }
  }

  printf("pcipassd over its Unix socket: hosts %s pcipass-probe on %s (class 0302), "
         "VMs asking PCI = [ CLASS = \"0302\" ], %u clients, a connection per request, "
         "monitor every %u s\n",
         opt.push ? "pushing the report of" : "probed by", TREE_TARBALL, opt.clients,
         opt.monitor_interval);
  if (opt.stores != STORE_SQLITE)
    printf("%-10s ", "store");
  printf("%6s %7s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %7s %7s %9s %9s %9s %9s%s\n",
         "hosts", "vms", "host_ms", "create/s", "cr_p50ms", "cr_p99ms", "settle_s", "list_ms",
         "page_p50", "page_p99", "show_p50", "show_p99", "idle_%cpu", "rss_MiB", "store_MiB",
         "running", "pending", "wrk_req/s", "wrk_p50", "wrk_p99", "floor_p99",
         opt.stores != STORE_SQLITE ? "   pg_idle%" : "");
  for (guint i = 0; i < results->len; i++)
    print_row(&g_array_index(results, Result, i), opt.stores);
  for (guint i = 0; i < results->len; i++)
    print_targets(&g_array_index(results, Result, i), opt.stores);
  if (opt.stores == (STORE_SQLITE | STORE_POSTGRESQL))
    print_ratios(results);
  for (guint i = 0; i < results->len; i++)
    g_free(g_array_index(results, Result, i).failure);
  if (pg_server != NULL && opt.keep) {
    const char *pg_dir = pp_test_pg_socket_dir(pg_server);

    g_printerr("kept PostgreSQL's server, its socket and data in %s: stop it with pg_ctl -D "
               "%s/data -m immediate stop, as the user postgres, then remove %s\n",
               pg_dir, pg_dir, pg_dir);
    pp_test_pg_keep(g_steal_pointer(&pg_server));
  }
  pp_test_pg_stop(g_steal_pointer(&pg_server));
  {
    const char *rm[] = { "/bin/rm", "-rf", "--", base, NULL };

    if (!opt.keep)
      g_spawn_sync(NULL, (char **)rm, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  curl_global_cleanup();
  return 0;
}
