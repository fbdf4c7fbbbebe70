/* bench-events: GET /v1/events (issue 14) through the real pcipassd, at
 * the cluster's scale.
 *
 * For each size (default 1,000 and 10,000 hosts) the store is filled in
 * this process before pcipassd starts on it (making a host through the API
 * takes tens of milliseconds, not what is measured here): each host made
 * with libvirt's test driver, given a report token (push mode: the
 * monitor never probes it) and its first pushed report of 8 PCI devices
 * (pp_store_host_ingest(), what POST /v1/hosts/NAME/report does). Then
 * pcipassd starts on that store with a TCP listener on 127.0.0.1, and,
 * once idle:
 *
 *   1. latency: 8 users (POST /v1/users, POST /v1/tokens) open 8 streams
 *      each, 64 in all (PP_EVENTS_MAX_STREAMS), over raw TCP sockets from
 *      127.0.0.U (one address per user: pcipassd bounds connections per
 *      address), read continuously by a thread in a poll loop (chunked
 *      transfer undone, events parsed). CHANGES changes, one at a time:
 *      POST /v1/hosts/NAME/disable, then enable, on hosts spread over the
 *      cluster, as the admin over the Unix socket; a change's latency is
 *      from before its request until its host event (with the new state)
 *      has come on every stream. Median and p99, and the same past the
 *      PP_EVENTS_COALESCE_MS window every change waits by design; the
 *      ratio between the largest and the smallest size. The same changes
 *      with no stream open, first: pcipassd's CPU per change then and with
 *      64 streams (its threads' schedstat run time) gives the event pass's
 *      own cost.
 *   2. polling (the largest size only): what a page without events would
 *      pay per change, re-reading what it shows: the whole host list, GET
 *      /v1/hosts?limit=1000 page after page; wall time, bytes and
 *      pcipassd's CPU (median of POLLS reads), for 64 pages, against the
 *      event pass's bytes (one event to each of the 64 streams) and CPU.
 *   3. burst (the largest size only): BURST hosts disabled by 8 concurrent
 *      clients as fast as pcipassd takes them; the events each stream got,
 *      how many were resync, and pcipassd's pcipass_events_sent_total and
 *      pcipass_event_resyncs_total (GET /metrics) before and after.
 *      PP_EVENTS_MAX_BATCH caps a pass at 512 changed rows: a burst that
 *      comes faster than 512 rows a coalescing window gives a resync per
 *      window, not an event per row; one slower than that is told row by
 *      row, in events, each pass bounded all the same.
 *   4. memory: pcipassd's VmRSS before and after opening the 64 streams
 *      (the streams' own memory, per stream), and its peak (VmHWM) with 0
 *      streams (before opening) and with 64 (after the changes).
 *
 * Progress goes to stderr; the table, one line per figure, and the
 * command to stdout. pcipassd dies with the bench (PR_SET_PDEATHSIG).
 *
 * Usage: bench-events [--changes N] [--burst N] [--polls N] [HOSTS...]
 *        (default: --changes 200 --burst 2000 --polls 3 1000 10000)
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-bench-util.h"
#include "pp-events.h"
#include "pp-store.h"

#define USERS 8
#define STREAMS_PER_USER PP_EVENTS_MAX_PER_USER
#define STREAMS (USERS * STREAMS_PER_USER)
#define DEVICES 8
/* How long a change's event may take to reach every stream, or a
 * request to answer, before the bench gives up. */
#define WAIT_S 20
#define BURST_CLIENTS 8
#define MAX_HOSTS 100000

G_STATIC_ASSERT(STREAMS <= PP_EVENTS_MAX_STREAMS);

/* ---- the store, filled before pcipassd starts --------------------------- */

/* The report host @h pushes: 8 devices, as pcipass-probe prints them. */
static void
make_report(GString *out, guint h)
{
  static const struct {
    const char *type, *vendor, *device, *class_code, *driver;
  } kinds[] = {
    { "10de:20b0:0302", "10de", "20b0", "0302", "nvidia" },
    { "8086:1521:0200", "8086", "1521", "0200", "igb" },
    { "144d:a808:0108", "144d", "a808", "0108", "nvme" },
    { "15b3:101c:0207", "15b3", "101c", "0207", "mlx5_core" },
  };

  g_string_printf(out,
                  "HOSTNAME = \"sim-%05u.example.org\"\nCPU_COUNT = \"64\"\n"
                  "MEMORY_KIB = \"65921280\"\nKERNEL_VERSION = \"6.1.0-18-amd64\"\n",
                  h);
  for (guint j = 0; j < DEVICES; j++) {
    guint k = (h + j) % G_N_ELEMENTS(kinds), bus = 0x10 + j;

    g_string_append_printf(out,
                           "PCI = [\n  TYPE = \"%s\",\n  VENDOR = \"%s\",\n  DEVICE = \"%s\",\n"
                           "  CLASS = \"%s\",\n  ADDRESS = \"0000:%02x:00:0\",\n"
                           "  SHORT_ADDRESS = \"%02x:00.0\",\n  DOMAIN = \"0000\",\n"
                           "  BUS = \"%02x\",\n  SLOT = \"00\",\n  FUNCTION = \"0\",\n"
                           "  NUMA_NODE = \"0\",\n  SRIOV = \"no\",\n  IOMMU_GROUP = \"%u\",\n"
                           "  DRIVER = \"%s\" ]\n",
                           kinds[k].type, kinds[k].vendor, kinds[k].device, kinds[k].class_code,
                           bus, bus, bus, 20 + j, kinds[k].driver);
  }
}

/* @n hosts "sim-00000".., each with a report token and its first report. */
static void
fill_store(const char *db, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) store = pp_store_open(db, &error);
  g_autoptr(GString) report = g_string_new(NULL);
  double t0 = pp_bench_now_s();

  if (store == NULL)
    g_error("cannot open the store '%s': %s", db, error->message);
  for (guint h = 0; h < n; h++) {
    g_autofree char *name = g_strdup_printf("sim-%05u", h);
    g_autofree char *secret = g_strdup_printf("bench-events-host-%u", h);
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, secret, -1);
    PpHostSpec spec = { .name = name, .libvirt_uri = "test:///default" };
    g_autoptr(PpHost) host = pp_store_host_create(store, &spec, 1700000000, &error);
    PpIngestResult result;

    if (host == NULL || !pp_store_host_token_set(store, host->id, hash, 1700000000, &error))
      g_error("host %s: %s", name, error->message);
    make_report(report, h);
    if (!pp_store_host_ingest(store, host->id, report->str, report->len, 1700000000, &result,
                              &error))
      g_error("host %s: its report: %s", name, error->message);
  }
  g_printerr("  store: %u hosts of %u devices made in %.1f s\n", n, DEVICES, pp_bench_now_s() - t0);
}

/* ---- pcipassd ------------------------------------------------------------ */

static char *socket_path;
static guint16 tcp_port;

/* One request over the Unix socket as its peer (the admin), on @curl
 * (kept alive; NULL: a new connection). */
static CURLcode
http(CURL *curl, const char *method, const char *path, const char *body, GString *out, long *status)
{
  const PpBenchHttp how = { .socket_path = socket_path,
                            .content_type = "application/json",
                            .timeout_s = WAIT_S };

  return pp_bench_http(curl, &how, method, path, body, body != NULL ? strlen(body) : 0, out,
                       status);
}

/* @method @path, asserting @want; the answer in @out (nullable). */
static void
http_must(CURL *curl, const char *method, const char *path, const char *body, long want,
          GString *out)
{
  g_autoptr(GString) own = out == NULL ? g_string_new(NULL) : NULL;
  long status;
  CURLcode code;

  if (out == NULL)
    out = own;
  g_string_truncate(out, 0);
  code = http(curl, method, path, body, out, &status);
  if (code != CURLE_OK || status != want)
    g_error("%s %s: %s %ld, not %ld: %.300s", method, path, curl_easy_strerror(code), status, want,
            out->str);
}

static GSubprocess *
daemon_start(const char *dir, const char *log)
{
  const PpBenchHttp how = { .socket_path = socket_path, .timeout_s = WAIT_S };
  g_autofree char *state = g_build_filename(dir, "state", NULL);
  g_autofree char *listen = g_strdup_printf("127.0.0.1:%u", tcp_port);
  g_autofree char *why = NULL;
  /* No monitor pass but the first, at start: the hosts push. */
  const char *argv[] = { PP_BENCH_DAEMON, "--state-dir", state,  "--socket",
                         socket_path,     "--listen",    listen, "--monitor-interval",
                         "3600",          NULL };
  GSubprocess *proc = pp_bench_daemon_start(argv, log, &how, "/v1/whoami", 60, &why);

  if (proc == NULL)
    g_error("%s", why);
  return proc;
}

/* pcipassd's CPU time in seconds, or -1: the sum of its threads' run
 * time in /proc/PID/task/TID/schedstat (nanoseconds: a request costs
 * less than /proc/PID/stat's clock tick), or utime + stime in ticks where
 * schedstat is missing. */
static double
proc_cpu_s(const char *pid)
{
  g_autofree char *tasks = g_strdup_printf("/proc/%s/task", pid);
  g_autoptr(GDir) dir = g_dir_open(tasks, 0, NULL);
  g_autofree char *path = g_strdup_printf("/proc/%s/stat", pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after;
  const char *tid;
  double ns = 0;
  gboolean all = dir != NULL;

  while (dir != NULL && (tid = g_dir_read_name(dir)) != NULL) {
    g_autofree char *file = g_build_filename(tasks, tid, "schedstat", NULL);
    g_autofree char *stat = NULL;

    if (!g_file_get_contents(file, &stat, NULL, NULL)) {
      all = FALSE;
      break;
    }
    ns += g_ascii_strtod(stat, NULL);
  }
  if (all)
    return ns / 1e9;
  if (!g_file_get_contents(path, &text, NULL, NULL) || (after = strrchr(text, ')')) == NULL)
    return -1;
  fields = g_strsplit(after + 2, " ", 0);
  if (g_strv_length(fields) < 13)
    return -1;
  return (double)(g_ascii_strtoll(fields[11], NULL, 10) + g_ascii_strtoll(fields[12], NULL, 10)) /
         (double)sysconf(_SC_CLK_TCK);
}

/* Waits until pcipassd's CPU stays still for a second (its first monitor
 * pass reconciles every host's domains at start). */
static void
wait_idle(const char *pid)
{
  double deadline = pp_bench_now_s() + 120, last = proc_cpu_s(pid);
  guint still = 0;

  while (still < 4 && pp_bench_now_s() < deadline) {
    double cpu;

    g_usleep(250000);
    cpu = proc_cpu_s(pid);
    still = cpu - last < 0.01 ? still + 1 : 0;
    last = cpu;
  }
}

/* A counter of GET /metrics, or -1. */
static double
metric(const char *name)
{
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree char *needle = g_strdup_printf("\n%s ", name);
  const char *at;

  http_must(NULL, "GET", "/metrics", NULL, 200, out);
  at = strstr(out->str, needle);
  return at != NULL ? g_ascii_strtod(at + strlen(needle), NULL) : -1;
}

/* ---- the streams --------------------------------------------------------- */

typedef struct {
  int fd;
  GString *raw;  /* bytes read, not yet de-chunked */
  GString *text; /* the stream's text, not yet parsed into events */
  gboolean head_done;
  gsize data_left; /* of the current chunk */
  gsize crlf_left; /* after it */
  gboolean eof;
  gboolean hello;
  guint64 bytes; /* of the stream's text (events), not of HTTP's framing */
  guint events;  /* but hello */
  guint resyncs;
  double matched_at; /* when the awaited event came; 0: not yet */
} Stream;

typedef struct {
  Stream s[STREAMS];
  GMutex lock;
  GCond cond;
  gboolean stop;
  char *expect;      /* the awaited host event's name, "\"name\":\"sim-00042\"" */
  gboolean disabled; /* whether it says "disabled" */
  guint matched;
  guint hellos;
  char *failure;
} Readers;

/* One event of @s's text. */
static void
stream_event(Readers *r, Stream *s, const char *event, double t)
{
  const char *kind = NULL;
  const char *data = "";
  g_auto(GStrv) lines = g_strsplit(event, "\n", 0);

  for (guint i = 0; lines[i] != NULL; i++) {
    if (g_str_has_prefix(lines[i], "event: "))
      kind = lines[i] + 7;
    else if (g_str_has_prefix(lines[i], "data: "))
      data = lines[i] + 6;
  }
  if (kind == NULL)
    return; /* a comment, ": ping" */
  if (strcmp(kind, "hello") == 0) {
    s->hello = TRUE;
    r->hellos++;
    return;
  }
  s->events++;
  if (strcmp(kind, "resync") == 0)
    s->resyncs++;
  if (r->expect != NULL && s->matched_at == 0 && strcmp(kind, "host") == 0 &&
      strstr(data, r->expect) != NULL &&
      (strstr(data, "\"state\":\"disabled\"") != NULL) == r->disabled) {
    s->matched_at = t;
    r->matched++;
  }
}

/* Takes @s's new bytes: the head, then chunks, then events. */
static void
stream_feed(Readers *r, Stream *s, double t)
{
  if (!s->head_done) {
    const char *end = strstr(s->raw->str, "\r\n\r\n");

    if (end == NULL)
      return;
    if (!g_str_has_prefix(s->raw->str, "HTTP/1.1 200 ") ||
        strstr(s->raw->str, "Transfer-Encoding: chunked\r\n") == NULL) {
      if (r->failure == NULL)
        r->failure = g_strdup_printf("GET /v1/events: %.300s", s->raw->str);
      s->eof = TRUE;
      return;
    }
    g_string_erase(s->raw, 0, end + 4 - s->raw->str);
    s->head_done = TRUE;
  }
  for (;;) {
    if (s->crlf_left > 0) {
      gsize n = MIN(s->crlf_left, s->raw->len);

      g_string_erase(s->raw, 0, (gssize)n);
      s->crlf_left -= n;
      if (s->crlf_left > 0)
        break;
    }
    if (s->data_left > 0) {
      gsize n = MIN(s->data_left, s->raw->len);

      if (n == 0)
        break;
      g_string_append_len(s->text, s->raw->str, (gssize)n);
      s->bytes += n;
      g_string_erase(s->raw, 0, (gssize)n);
      s->data_left -= n;
      if (s->data_left == 0)
        s->crlf_left = 2;
      continue;
    }
    {
      const char *eol = strstr(s->raw->str, "\r\n");
      guint64 size;

      if (eol == NULL)
        break;
      size = g_ascii_strtoull(s->raw->str, NULL, 16);
      g_string_erase(s->raw, 0, eol + 2 - s->raw->str);
      if (size == 0) {
        s->eof = TRUE; /* the stream's end */
        break;
      }
      s->data_left = size;
    }
  }
  for (;;) {
    const char *end = strstr(s->text->str, "\n\n");
    g_autofree char *event = NULL;

    if (end == NULL)
      break;
    event = g_strndup(s->text->str, end - s->text->str);
    g_string_erase(s->text, 0, end + 2 - s->text->str);
    stream_event(r, s, event, t);
  }
}

static gpointer
readers_run(gpointer data)
{
  Readers *r = data;
  struct pollfd fds[STREAMS];
  char buf[16384];

  for (;;) {
    int n;

    g_mutex_lock(&r->lock);
    if (r->stop) {
      g_mutex_unlock(&r->lock);
      return NULL;
    }
    for (guint i = 0; i < STREAMS; i++) {
      fds[i].fd = r->s[i].eof ? -1 : r->s[i].fd;
      fds[i].events = POLLIN;
      fds[i].revents = 0;
    }
    g_mutex_unlock(&r->lock);
    n = poll(fds, STREAMS, 50);
    if (n <= 0)
      continue;
    {
      double t = pp_bench_now_s();

      g_mutex_lock(&r->lock);
      for (guint i = 0; i < STREAMS; i++) {
        Stream *s = &r->s[i];
        ssize_t got;

        if (fds[i].revents == 0)
          continue;
        got = read(s->fd, buf, sizeof(buf));
        if (got <= 0) {
          s->eof = TRUE;
          if (r->failure == NULL && !r->stop)
            r->failure = g_strdup_printf("stream %u ended", i);
          continue;
        }
        g_string_append_len(s->raw, buf, got);
        stream_feed(r, s, t);
      }
      g_cond_broadcast(&r->cond);
      g_mutex_unlock(&r->lock);
    }
  }
}

/* Opens stream @i of @token's user, from 127.0.0.(2 + @user). */
static void
stream_open(Stream *s, guint user, const char *token)
{
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(tcp_port) };
  g_autofree char *head = g_strdup_printf(
      "GET /v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer %s\r\n\r\n", token);
  gsize len = strlen(head);

  from.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + user);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&from, sizeof(from)) != 0 ||
      connect(s->fd, (struct sockaddr *)&to, sizeof(to)) != 0 ||
      write(s->fd, head, len) != (gssize)len)
    g_error("cannot open an events stream on 127.0.0.1:%u: %s", tcp_port, g_strerror(errno));
  s->raw = g_string_new(NULL);
  s->text = g_string_new(NULL);
}

/* 8 users, each with a token; 8 streams each; waits for every hello. */
static GThread *
readers_start(Readers *r, char **tokens)
{
  GThread *thread;
  double deadline = pp_bench_now_s() + WAIT_S;

  for (guint i = 0; i < STREAMS; i++)
    stream_open(&r->s[i], i / STREAMS_PER_USER, tokens[i / STREAMS_PER_USER]);
  thread = g_thread_new("readers", readers_run, r);
  g_mutex_lock(&r->lock);
  while (r->hellos < STREAMS && r->failure == NULL)
    if (!g_cond_wait_until(&r->cond, &r->lock,
                           g_get_monotonic_time() + (gint64)((deadline - pp_bench_now_s()) * 1e6)))
      break;
  if (r->hellos < STREAMS)
    g_error("%u of %u streams said hello within %d s: %s", r->hellos, STREAMS, WAIT_S,
            r->failure != NULL ? r->failure : "no failure seen");
  g_mutex_unlock(&r->lock);
  return thread;
}

static void
readers_stop(Readers *r, GThread *thread)
{
  g_mutex_lock(&r->lock);
  r->stop = TRUE;
  g_mutex_unlock(&r->lock);
  g_thread_join(thread);
  for (guint i = 0; i < STREAMS; i++) {
    close(r->s[i].fd);
    g_string_free(r->s[i].raw, TRUE);
    g_string_free(r->s[i].text, TRUE);
  }
  g_free(r->expect);
  g_free(r->failure);
}

/* ---- the phases ---------------------------------------------------------- */

static double
quantile(GArray *values, double q)
{
  g_array_sort(values, pp_bench_compare_double);
  return values->len == 0 ? -1
                          : g_array_index(values, double, (guint)(q * (values->len - 1) + 0.5));
}

typedef struct {
  guint hosts;
  double fill_s;
  double cpu0_ms, cpu64_ms; /* pcipassd's CPU per change, without and with streams */
  double req_ms;            /* a change's request, median, with streams */
  double p50_ms, p99_ms;    /* until every stream had it */
  double first_p50_ms;      /* until the first stream had it */
  double bytes_per_event;   /* of a stream's text, per change */
  double rss0, rss64, hwm0, hwm64;
  double hwm_end; /* after the polls and the burst */
  /* The largest size only. */
  gboolean polled;
  double poll_ms, poll_cpu_ms, poll_bytes;
  guint poll_pages;
  gboolean burst;
  guint burst_n;
  double burst_s;
  guint burst_min, burst_max, burst_resync_min, burst_resync_max;
  double sent_before, sent_after, resyncs_before, resyncs_after;
} Result;

/* @count changes, one at a time; with @r the streams' latency. Returns
 * pcipassd's CPU per change in ms. */
static double
changes(CURL *curl, const char *pid, guint hosts, guint count, Readers *r, Result *res)
{
  g_autoptr(GArray) last = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) first = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) req = g_array_new(FALSE, FALSE, sizeof(double));
  double cpu = proc_cpu_s(pid);
  guint64 bytes = 0;

  if (r != NULL) {
    for (guint i = 0; i < STREAMS; i++)
      bytes -= r->s[i].bytes;
  }
  for (guint c = 0; c < count; c++) {
    /* A pair on each host: disabled, then enabled again. */
    guint h = (guint)((guint64)(c / 2) * hosts / ((count + 1) / 2));
    gboolean disable = c % 2 == 0;
    g_autofree char *path =
        g_strdup_printf("/v1/hosts/sim-%05u/%s", h, disable ? "disable" : "enable");
    double t0, t1, lo = G_MAXDOUBLE, hi = 0;

    if (r != NULL) {
      g_mutex_lock(&r->lock);
      g_free(r->expect);
      r->expect = g_strdup_printf("\"name\":\"sim-%05u\"", h);
      r->disabled = disable;
      r->matched = 0;
      for (guint i = 0; i < STREAMS; i++)
        r->s[i].matched_at = 0;
      g_mutex_unlock(&r->lock);
    }
    t0 = pp_bench_now_s();
    http_must(curl, "POST", path, NULL, 200, NULL);
    t1 = pp_bench_now_s();
    g_array_append_val(req, (double){ (t1 - t0) * 1000 });
    if (r == NULL)
      continue;
    g_mutex_lock(&r->lock);
    while (r->matched < STREAMS && r->failure == NULL)
      if (!g_cond_wait_until(&r->cond, &r->lock, g_get_monotonic_time() + WAIT_S * G_USEC_PER_SEC))
        break;
    if (r->matched < STREAMS)
      g_error("POST %s: its event came on %u of %u streams within %d s: %s", path, r->matched,
              STREAMS, WAIT_S, r->failure != NULL ? r->failure : "no failure seen");
    for (guint i = 0; i < STREAMS; i++) {
      lo = MIN(lo, r->s[i].matched_at);
      hi = MAX(hi, r->s[i].matched_at);
    }
    g_clear_pointer(&r->expect, g_free);
    g_mutex_unlock(&r->lock);
    g_array_append_val(last, (double){ (hi - t0) * 1000 });
    g_array_append_val(first, (double){ (lo - t0) * 1000 });
  }
  cpu = proc_cpu_s(pid) - cpu;
  if (r != NULL) {
    g_mutex_lock(&r->lock);
    for (guint i = 0; i < STREAMS; i++)
      bytes += r->s[i].bytes;
    g_mutex_unlock(&r->lock);
    res->p50_ms = quantile(last, 0.5);
    res->p99_ms = quantile(last, 0.99);
    res->first_p50_ms = quantile(first, 0.5);
    res->req_ms = quantile(req, 0.5);
    res->bytes_per_event = (double)bytes / STREAMS / count;
  }
  return cpu * 1000 / count;
}

/* The whole host list, page after page: its bytes and pages. */
static void
read_list(CURL *curl, guint64 *ret_bytes, guint *ret_pages)
{
  g_autoptr(GString) out = g_string_new(NULL);
  g_autofree char *path = g_strdup("/v1/hosts?limit=1000");

  *ret_bytes = 0;
  *ret_pages = 0;
  for (;;) {
    g_autoptr(json_t) page = NULL;
    const json_t *next;

    http_must(curl, "GET", path, NULL, 200, out);
    *ret_bytes += out->len;
    (*ret_pages)++;
    page = json_loads(out->str, 0, NULL);
    next = json_object_get(page, "next");
    if (!json_is_integer(next))
      break;
    g_free(path);
    path = g_strdup_printf("/v1/hosts?limit=1000&after=%" JSON_INTEGER_FORMAT,
                           json_integer_value(next));
  }
}

static void
poll_baseline(CURL *curl, const char *pid, guint polls, Result *res)
{
  g_autoptr(GArray) ms = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GArray) cpu = g_array_new(FALSE, FALSE, sizeof(double));
  guint64 bytes = 0;

  for (guint i = 0; i < polls; i++) {
    double c0 = proc_cpu_s(pid), t0 = pp_bench_now_s();

    read_list(curl, &bytes, &res->poll_pages);
    g_array_append_val(ms, (double){ (pp_bench_now_s() - t0) * 1000 });
    g_array_append_val(cpu, (double){ (proc_cpu_s(pid) - c0) * 1000 });
  }
  res->polled = TRUE;
  res->poll_ms = quantile(ms, 0.5);
  res->poll_cpu_ms = quantile(cpu, 0.5);
  res->poll_bytes = (double)bytes;
}

typedef struct {
  guint first, n;
  gint next; /* atomic */
} Burst;

static gpointer
burst_worker(gpointer data)
{
  Burst *b = data;
  g_autoptr(CURL) curl = curl_easy_init();

  for (;;) {
    guint k = (guint)g_atomic_int_add(&b->next, 1);
    g_autofree char *path = NULL;

    if (k >= b->n)
      return NULL;
    path = g_strdup_printf("/v1/hosts/sim-%05u/disable", b->first + k);
    http_must(curl, "POST", path, NULL, 200, NULL);
  }
}

static void
burst(Readers *r, guint hosts, guint n, Result *res)
{
  Burst b = { .first = hosts - n, .n = n };
  GThread *threads[BURST_CLIENTS];
  guint events[STREAMS], resyncs[STREAMS];
  double t0, quiet;

  res->sent_before = metric("pcipass_events_sent_total");
  res->resyncs_before = metric("pcipass_event_resyncs_total");
  g_mutex_lock(&r->lock);
  for (guint i = 0; i < STREAMS; i++) {
    events[i] = r->s[i].events;
    resyncs[i] = r->s[i].resyncs;
  }
  g_mutex_unlock(&r->lock);
  t0 = pp_bench_now_s();
  for (guint i = 0; i < BURST_CLIENTS; i++)
    threads[i] = g_thread_new("burst", burst_worker, &b);
  for (guint i = 0; i < BURST_CLIENTS; i++)
    g_thread_join(threads[i]);
  res->burst_s = pp_bench_now_s() - t0;
  res->burst_n = n;
  /* Every pass told: the counter still for a second. */
  quiet = metric("pcipass_events_sent_total");
  for (guint still = 0; still < 4;) {
    double sent;

    g_usleep(250000);
    sent = metric("pcipass_events_sent_total");
    still = sent == quiet ? still + 1 : 0;
    quiet = sent;
  }
  res->sent_after = metric("pcipass_events_sent_total");
  res->resyncs_after = metric("pcipass_event_resyncs_total");
  res->burst_min = res->burst_resync_min = G_MAXUINT;
  g_mutex_lock(&r->lock);
  for (guint i = 0; i < STREAMS; i++) {
    guint e = r->s[i].events - events[i], s = r->s[i].resyncs - resyncs[i];

    res->burst_min = MIN(res->burst_min, e);
    res->burst_max = MAX(res->burst_max, e);
    res->burst_resync_min = MIN(res->burst_resync_min, s);
    res->burst_resync_max = MAX(res->burst_resync_max, s);
  }
  g_mutex_unlock(&r->lock);
  res->burst = TRUE;
}

static void
remove_tree(const char *dir)
{
  static const char *const files[] = { "state/pcipass.db",     "state/pcipass.db-wal",
                                       "state/pcipass.db-shm", "state/pcipassd.lock",
                                       "pcipassd.log",         "pcipassd.sock" };

  for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
    g_autofree char *file = g_build_filename(dir, files[i], NULL);

    g_unlink(file);
  }
  {
    g_autofree char *state = g_build_filename(dir, "state", NULL);

    g_rmdir(state);
  }
  g_rmdir(dir);
}

static void
run_size(const char *base, guint hosts, guint count, guint polls, guint burst_n, gboolean largest,
         Result *res)
{
  g_autofree char *dir = g_build_filename(base, "pcipass-bench-events-XXXXXX", NULL);
  g_autofree char *state = NULL;
  g_autofree char *db = NULL;
  g_autofree char *log = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(CURL) curl = curl_easy_init();
  char *tokens[USERS] = { NULL };
  Readers *r = g_new0(Readers, 1);
  GThread *reader;
  const char *pid;
  double t0;

  memset(res, 0, sizeof(*res));
  res->hosts = hosts;
  if (g_mkdtemp(dir) == NULL)
    g_error("cannot make a folder in '%s': %s", base, g_strerror(errno));
  state = g_build_filename(dir, "state", NULL);
  db = g_build_filename(state, "pcipass.db", NULL);
  log = g_build_filename(dir, "pcipassd.log", NULL);
  socket_path = g_build_filename(dir, "pcipassd.sock", NULL);
  g_mkdir_with_parents(state, 0700);
  g_printerr("%u hosts: pcipassd on %s (log %s)\n", hosts, dir, log);
  t0 = pp_bench_now_s();
  fill_store(db, hosts);
  res->fill_s = pp_bench_now_s() - t0;
  tcp_port = pp_bench_free_port();
  proc = daemon_start(dir, log);
  pid = g_subprocess_get_identifier(proc);
  wait_idle(pid);
  for (guint u = 0; u < USERS; u++) {
    g_autofree char *user = g_strdup_printf("{\"name\": \"user%u\"}", u);
    g_autofree char *token = g_strdup_printf("{\"user\": \"user%u\", \"name\": \"bench\"}", u);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(json_t) answer = NULL;

    http_must(curl, "POST", "/v1/users", user, 201, NULL);
    http_must(curl, "POST", "/v1/tokens", token, 201, out);
    answer = json_loads(out->str, 0, NULL);
    tokens[u] = g_strdup(json_string_value(json_object_get(answer, "token")));
    if (tokens[u] == NULL)
      g_error("POST /v1/tokens: no token in %.300s", out->str);
  }

  /* The changes without a stream: what they cost anyway. */
  res->cpu0_ms = changes(curl, pid, hosts, count, NULL, res);
  g_printerr("  %u changes without streams: pcipassd %.2f ms CPU each\n", count, res->cpu0_ms);
  res->rss0 = pp_bench_proc_mem_mib(pid, "VmRSS:");
  res->hwm0 = pp_bench_proc_mem_mib(pid, "VmHWM:");
  reader = readers_start(r, tokens);
  /* Let the streams' first allocations settle. */
  g_usleep(200000);
  res->rss64 = pp_bench_proc_mem_mib(pid, "VmRSS:");
  res->cpu64_ms = changes(curl, pid, hosts, count, r, res);
  res->hwm64 = pp_bench_proc_mem_mib(pid, "VmHWM:");
  g_printerr("  %u changes with %u streams: every stream told after %.1f ms (median), %.1f ms "
             "(p99); pcipassd %.2f ms CPU each\n",
             count, STREAMS, res->p50_ms, res->p99_ms, res->cpu64_ms);
  if (largest && polls > 0) {
    poll_baseline(curl, pid, polls, res);
    g_printerr("  the host list, %u pages: %.1f ms, %.0f bytes\n", res->poll_pages, res->poll_ms,
               res->poll_bytes);
  }
  if (largest && burst_n > 0) {
    burst(r, hosts, MIN(burst_n, hosts), res);
    g_printerr("  burst: %u hosts disabled in %.2f s; %u..%u events per stream\n", res->burst_n,
               res->burst_s, res->burst_min, res->burst_max);
  }
  res->hwm_end = pp_bench_proc_mem_mib(pid, "VmHWM:");
  readers_stop(r, reader);
  g_free(r);
  pp_bench_daemon_stop(proc);
  for (guint u = 0; u < USERS; u++)
    g_free(tokens[u]);
  remove_tree(dir);
  g_clear_pointer(&socket_path, g_free);
}

static void
usage(const char *why)
{
  fprintf(stderr,
          "bench-events: %s\nusage: bench-events [--changes N] [--burst N] [--polls N] "
          "[HOSTS...]\n  (default: --changes 200 --burst 2000 --polls 3 1000 10000)\n",
          why);
  exit(2);
}

int
main(int argc, char **argv)
{
  const char *base = g_access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GArray) results = g_array_new(FALSE, FALSE, sizeof(Result));
  guint count = 200, burst_n = 2000, polls = 3;
  g_autofree char *command = g_strjoinv(" ", argv);
  const Result *small, *large;

  for (int i = 1; i < argc; i++) {
    guint64 v = 0;

    if (strcmp(argv[i], "--changes") == 0 || strcmp(argv[i], "--burst") == 0 ||
        strcmp(argv[i], "--polls") == 0) {
      gboolean changes_arg = strcmp(argv[i], "--changes") == 0;

      if (i + 1 >= argc ||
          !g_ascii_string_to_unsigned(argv[i + 1], 10, changes_arg ? 2 : 0, 100000, &v, NULL))
        usage("--changes takes a number from 2 to 100000, --burst and --polls from 0");
      if (changes_arg)
        count = (guint)v;
      else if (strcmp(argv[i], "--burst") == 0)
        burst_n = (guint)v;
      else
        polls = (guint)v;
      i++;
    } else if (g_ascii_string_to_unsigned(argv[i], 10, 1, MAX_HOSTS, &v, NULL)) {
      g_array_append_val(sizes, (guint){ (guint)v });
    } else {
      usage("unknown argument: sizes are numbers of hosts from 1 to 100000");
    }
  }
  if (sizes->len == 0) {
    g_array_append_val(sizes, (guint){ 1000 });
    g_array_append_val(sizes, (guint){ 10000 });
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_printerr("pcipassd: %s; %u streams (%u users x %u), %u changes a size, store in %s\n",
             PP_BENCH_DAEMON, STREAMS, USERS, STREAMS_PER_USER, count, base);
  for (guint i = 0; i < sizes->len; i++) {
    Result res;

    run_size(base, g_array_index(sizes, guint, i), count, polls, burst_n, i + 1 == sizes->len,
             &res);
    g_array_append_val(results, res);
  }

  printf("bench-events: GET /v1/events on the real pcipassd, %u streams (%u users x %u) read "
         "in a poll loop; a change is POST /v1/hosts/NAME/disable or enable; coalescing window "
         "%d ms\n",
         STREAMS, USERS, STREAMS_PER_USER, PP_EVENTS_COALESCE_MS);
  for (guint i = 0; i < results->len; i++) {
    const Result *res = &g_array_index(results, Result, i);
    double pass_ms = MAX(res->cpu64_ms - res->cpu0_ms, 0);

    printf("%6u hosts  latency, every stream told: median %.1f ms, p99 %.1f ms (past the "
           "window: %.1f, %.1f); first stream: median %.1f ms; the change's request: median %.2f "
           "ms\n",
           res->hosts, res->p50_ms, res->p99_ms, res->p50_ms - PP_EVENTS_COALESCE_MS,
           res->p99_ms - PP_EVENTS_COALESCE_MS, res->first_p50_ms, res->req_ms);
    printf("%6u hosts  pcipassd CPU per change: %.2f ms with %u streams, %.2f ms with none: the "
           "event pass %.2f ms for %u streams; %.0f bytes of event per stream\n",
           res->hosts, res->cpu64_ms, STREAMS, res->cpu0_ms, pass_ms, STREAMS,
           res->bytes_per_event);
    printf("%6u hosts  memory: VmRSS %.1f MiB with 0 streams, %.1f MiB with %u: %.1f KiB per "
           "stream; VmHWM %.1f MiB with 0, %.1f MiB with %u (after the changes)\n",
           res->hosts, res->rss0, res->rss64, STREAMS, (res->rss64 - res->rss0) * 1024 / STREAMS,
           res->hwm0, res->hwm64, STREAMS);
    if (res->polled || res->burst)
      printf("%6u hosts  memory: VmHWM %.1f MiB after the polls and the burst\n", res->hosts,
             res->hwm_end);
    if (res->polled) {
      double poll64_ms = res->poll_cpu_ms * STREAMS;

      printf("%6u hosts  polling baseline, per change, every page re-reading the host list (%u "
             "pages of GET /v1/hosts?limit=1000): one page %.1f ms, %.0f bytes, pcipassd %.1f ms "
             "CPU; %u pages %.0f bytes, %.0f ms CPU\n",
             res->hosts, res->poll_pages, res->poll_ms, res->poll_bytes, res->poll_cpu_ms, STREAMS,
             res->poll_bytes * STREAMS, poll64_ms);
      printf("%6u hosts  events / polling, per change: bytes %.2g (%.0f against %.0f), pcipassd "
             "CPU %.2g (%.2f ms against %.1f ms), a page's wait %.2g (%.1f ms past the window "
             "against %.1f ms)\n",
             res->hosts, res->bytes_per_event / res->poll_bytes, res->bytes_per_event * STREAMS,
             res->poll_bytes * STREAMS, pass_ms / MAX(poll64_ms, 0.001), pass_ms, poll64_ms,
             (res->p50_ms - PP_EVENTS_COALESCE_MS) / MAX(res->poll_ms, 0.001),
             res->p50_ms - PP_EVENTS_COALESCE_MS, res->poll_ms);
    }
    if (res->burst)
      printf("%6u hosts  burst: %u hosts disabled by %d clients in %.2f s (%.0f/s): %u..%u events "
             "per stream, %u..%u of them resync; pcipass_events_sent_total +%.0f, "
             "pcipass_event_resyncs_total +%.0f (now %.0f and %.0f)\n",
             res->hosts, res->burst_n, BURST_CLIENTS, res->burst_s, res->burst_n / res->burst_s,
             res->burst_min, res->burst_max, res->burst_resync_min, res->burst_resync_max,
             res->sent_after - res->sent_before, res->resyncs_after - res->resyncs_before,
             res->sent_after, res->resyncs_after);
  }
  small = &g_array_index(results, Result, 0);
  large = &g_array_index(results, Result, results->len - 1);
  if (results->len > 1)
    printf(
        "%u / %u hosts: latency median %.2f, p99 %.2f (past the window: %.2f, %.2f); "
        "pcipassd CPU per change %.2f\n",
        large->hosts, small->hosts, large->p50_ms / small->p50_ms, large->p99_ms / small->p99_ms,
        (large->p50_ms - PP_EVENTS_COALESCE_MS) / MAX(small->p50_ms - PP_EVENTS_COALESCE_MS, 0.001),
        (large->p99_ms - PP_EVENTS_COALESCE_MS) / MAX(small->p99_ms - PP_EVENTS_COALESCE_MS, 0.001),
        large->cpu64_ms / MAX(small->cpu64_ms, 0.001));
  printf("command: %s\n", command);
  return 0;
}
