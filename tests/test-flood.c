/* No client can stop the API: the real pcipassd, with its default limits
 * (but a header timeout of 5 s, to keep the test short), under floods of
 * connections (1,000 opened and closed at once on each listener; 1,000
 * held over TCP from 40 addresses; as root, 1,000 held on the Unix socket
 * by another local user), 300 slow clients from 10 addresses (one header
 * line every 2 s), and 200 unauthenticated bodies of 1 MiB at once, while
 * an admin asks over the Unix socket every 100 ms. Clients come from
 * several addresses of 127.0.0.0/8 (all local), as attackers from many
 * addresses would, each within the per-peer limit.
 *
 * What "quickly" means here: every admin request is answered, each within
 * ADMIN_BOUND_S. That is a bound against the failures this guards (a
 * listener that never accepts again, 45 s behind slow clients), far above
 * what the requests take (milliseconds), so that a busy 2-core machine
 * does not fail it. The daemon's memory is bounded the same way: its peak
 * RSS grows by less than RSS_BOUND_KIB over the whole test (200 bodies of
 * 1 MiB once took it from 35 to 259 MB). What was measured is said with
 * g_test_message. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "pp-test-daemon.h"

#define ADMIN_BOUND_S 10
#define RSS_BOUND_KIB (64 * 1024)
#define HEADER_TIMEOUT "5"
/* pcipassd's defaults (pp-http.h): 256 connections, 64 of them the Unix
 * socket's, 32 per peer. */
#define MAX_CONNECTIONS 256
#define UNIX_RESERVED 64
#define MAX_PER_PEER 32
#define FLOOD_CONNECTIONS 1000
#define FLOOD_ADDRESSES 40
#define SLOW_CLIENTS 300
#define SLOW_ADDRESSES 10
#define SLOW_LINE_US (2 * G_USEC_PER_SEC)
#define BODIES 200
#define BODY_ADDRESSES 10
#define BODY_SIZE (1024 * 1024)
/* The local user of the Unix socket flood (as root only): nobody. */
#define OTHER_UID 65534

/* The admin's requests, from a thread of their own, through every phase. */
typedef struct {
  PpTestDaemon *f;
  gint stop;
  gint phase; /* index in phases[] */
  GMutex lock;
  GCond changed; /* the phase changed: the next request now, not after the pause */
  GArray *ms[5]; /* per phase: each request's time, in ms (double) */
  guint failures;
  char *failure; /* the first */
  guint64 peak_rss_kib;
} Admin;

static const char *const phases[] = { "before", "flood", "slow clients", "bodies", "after" };

/* VmRSS or VmHWM of @pid, in KiB. */
static guint64
rss_kib(const char *pid, const char *field)
{
  g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
  g_autofree char *text = NULL;
  g_autofree char *key = g_strdup_printf("\n%s:", field);
  const char *at;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0; /* gone: the test fails elsewhere */
  at = strstr(text, key);
  g_assert_nonnull(at);
  return g_ascii_strtoull(at + strlen(key), NULL, 10);
}

static gpointer
admin_thread(gpointer data)
{
  Admin *admin = data;
  const char *pid = g_subprocess_get_identifier(admin->f->proc);

  while (!g_atomic_int_get(&admin->stop)) {
    g_auto(PpTestReply) reply = { 0 };
    /* A request counts in the phase it began in. */
    gint phase = g_atomic_int_get(&admin->phase);
    gint64 start = g_get_monotonic_time();
    CURLcode rc =
        pp_test_http_try(admin->f, admin->f->socket, NULL, "GET", "/v1/whoami", NULL, 0, &reply);
    double ms = (double)(g_get_monotonic_time() - start) / 1000.0;
    guint64 rss = rss_kib(pid, "VmRSS");

    g_mutex_lock(&admin->lock);
    admin->peak_rss_kib = MAX(admin->peak_rss_kib, rss);
    if (rc != CURLE_OK || reply.status != 200 || ms > ADMIN_BOUND_S * 1000.0) {
      admin->failures++;
      if (admin->failure == NULL)
        admin->failure = g_strdup_printf("in phase '%s': %s, HTTP %ld, %.0f ms", phases[phase],
                                         curl_easy_strerror(rc), reply.status, ms);
    }
    g_array_append_val(admin->ms[phase], ms);
    /* A pause of 100 ms, cut short by the next phase. */
    start = g_get_monotonic_time();
    while (!g_atomic_int_get(&admin->stop) && g_atomic_int_get(&admin->phase) == phase &&
           g_cond_wait_until(&admin->changed, &admin->lock, start + 100 * 1000))
      ;
    g_mutex_unlock(&admin->lock);
  }
  return NULL;
}

/* Moves the admin's requests on to phase @next, once one begun in the
 * phase before has been answered (a phase may be over in less than the
 * admin's pause: 200 bodies took 0.1 s), at most ADMIN_BOUND_S seconds
 * later (admin_report() then fails). */
static void
admin_set_phase(Admin *admin, gint next)
{
  gint64 until = g_get_monotonic_time() + ADMIN_BOUND_S * G_USEC_PER_SEC;

  g_mutex_lock(&admin->lock);
  while (admin->ms[admin->phase]->len == 0 && g_get_monotonic_time() < until) {
    g_mutex_unlock(&admin->lock);
    g_usleep(5 * 1000);
    g_mutex_lock(&admin->lock);
  }
  g_atomic_int_set(&admin->phase, next);
  g_cond_signal(&admin->changed);
  g_mutex_unlock(&admin->lock);
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

/* Says what the admin's requests took in each phase; asserts that each
 * phase had some. */
static void
admin_report(Admin *admin)
{
  for (guint p = 0; p < G_N_ELEMENTS(phases); p++) {
    GArray *ms = admin->ms[p];

    g_assert_cmpuint(ms->len, >, 0);
    g_array_sort(ms, compare_double);
    g_test_message("admin requests, %s: %u, median %.1f ms, max %.1f ms", phases[p], ms->len,
                   g_array_index(ms, double, ms->len / 2), g_array_index(ms, double, ms->len - 1));
  }
}

/* A connection to 127.0.0.1 from 127.0.0.(2 + @from) (the whole of
 * 127.0.0.0/8 is this machine): the kernel completes it at once, into the
 * listener's backlog when pcipassd has not taken it yet. */
static int
connect_tcp(guint16 port, guint from)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  struct sockaddr_in local = { .sin_family = AF_INET };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpuint(from, <, 250);
  local.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 2 + from);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&local, sizeof(local)), ==, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  return fd;
}

static int
connect_unix(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
  strcpy(sa.sun_path, path);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  return fd;
}

/* Waits until pcipassd holds at most @open connections (the asking one
 * included; a guard of 60 s against a hang, not a timing). */
static void
wait_open(PpTestDaemon *f, guint64 open)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  while (pp_test_metric(f, "pcipass_http_connections_open") > open) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50 * 1000);
  }
}

/* Waits until pcipassd has taken @n connections since @before (those the
 * admin and /metrics make come besides): a guard of 60 s against a hang,
 * not a timing. */
static void
wait_taken(PpTestDaemon *f, guint64 before, guint n, gint64 start)
{
  while (pp_test_metric(f, "pcipass_http_connections_total") - before < n) {
    g_assert_cmpint(g_get_monotonic_time(), <, start + PP_TEST_WAIT_US);
    g_usleep(20 * 1000);
  }
}

/* 1,000 connections opened at once, then closed, on @listener (TCP: from
 * one address): every one is taken in the end and closed, and the
 * listener goes on. */
static void
flood(PpTestDaemon *f, const char *listener)
{
  int *fds = g_new(int, FLOOD_CONNECTIONS);
  guint64 before = pp_test_metric(f, "pcipass_http_connections_total");
  gint64 start = g_get_monotonic_time();

  for (guint i = 0; i < FLOOD_CONNECTIONS; i++)
    fds[i] = listener != NULL ? connect_unix(listener) : connect_tcp(f->port, 0);
  for (guint i = 0; i < FLOOD_CONNECTIONS; i++)
    close(fds[i]);
  g_free(fds);
  wait_taken(f, before, FLOOD_CONNECTIONS, start);
  wait_open(f, 2); /* the admin's and ours */
  g_test_message("flood on %s: %d connections opened and closed, all taken and gone after %.2f s",
                 listener != NULL ? "the Unix socket" : "TCP", FLOOD_CONNECTIONS,
                 (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
}

/* Five admin requests now, each answered quickly; their times in @ms. */
static void
admin_now(PpTestDaemon *f, GArray *ms)
{
  for (guint i = 0; i < 5; i++) {
    g_auto(PpTestReply) reply = { 0 };
    gint64 start = g_get_monotonic_time();
    double took;

    pp_test_http(f, f->socket, NULL, "GET", "/v1/whoami", NULL, 0, &reply);
    took = (double)(g_get_monotonic_time() - start) / 1000.0;
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_cmpfloat(took, <, ADMIN_BOUND_S * 1000.0);
    g_array_append_val(ms, took);
  }
}

/* 1,000 TCP connections from 40 addresses (25 each, within the per-peer
 * limit), held: pcipassd takes TCP's share, the rest wait in the backlog,
 * and the admin is answered on the Unix socket meanwhile. */
static void
flood_held_tcp(PpTestDaemon *f, GArray *ms)
{
  int *fds = g_new(int, FLOOD_CONNECTIONS);
  guint64 before = pp_test_metric(f, "pcipass_http_connections_total");
  gint64 start = g_get_monotonic_time();

  for (guint i = 0; i < FLOOD_CONNECTIONS; i++)
    fds[i] = connect_tcp(f->port, i % FLOOD_ADDRESSES);
  wait_taken(f, before, MAX_CONNECTIONS - UNIX_RESERVED, start);
  admin_now(f, ms);
  /* TCP holds no more than its share. */
  g_assert_cmpuint(pp_test_metric(f, "pcipass_http_connections_open"), <=,
                   MAX_CONNECTIONS - UNIX_RESERVED + 2);
  for (guint i = 0; i < FLOOD_CONNECTIONS; i++)
    close(fds[i]);
  g_free(fds);
  wait_taken(f, before, FLOOD_CONNECTIONS, start);
  wait_open(f, 2);
  g_test_message("flood held over TCP: %d connections from %d addresses; TCP's share taken, "
                 "the rest waited; all taken and gone %.2f s after the start",
                 FLOOD_CONNECTIONS, FLOOD_ADDRESSES,
                 (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
}

static char *self_path;

/* In the child, before exec: another local user. */
static void
become_other_user(gpointer data)
{
  if (setgroups(0, NULL) != 0 || setgid(OTHER_UID) != 0 || setuid(OTHER_UID) != 0)
    _exit(99);
}

/* The helper (--hold-unix SOCKET N), as another user: holds N connections
 * to the socket; says how many pcipassd answered 503 at once; lets them
 * go when its stdin closes. */
static int
hold_unix(const char *path, guint n)
{
  int *fds = g_new(int, n);
  guint answered = 0;
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  char line[64];

  for (guint i = 0; i < n; i++)
    fds[i] = connect_unix(path);
  /* Those over the per-peer limit are answered (503) and closed at once;
   * the others wait for a head. */
  while (answered < n - MAX_PER_PEER && g_get_monotonic_time() < deadline) {
    for (guint i = 0; i < n; i++) {
      char buf[512];
      ssize_t got;

      if (fds[i] < 0)
        continue;
      got = recv(fds[i], buf, sizeof(buf) - 1, MSG_DONTWAIT);
      if (got > 0 && g_str_has_prefix(buf, "HTTP/1.1 503 ")) {
        answered++;
        close(fds[i]);
        fds[i] = -1;
      }
    }
    g_usleep(10 * 1000);
  }
  g_snprintf(line, sizeof(line), "503 %u\n", answered);
  if (write(STDOUT_FILENO, line, strlen(line)) < 0)
    return 1;
  while (read(STDIN_FILENO, line, sizeof(line)) > 0)
    ;
  for (guint i = 0; i < n; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  g_free(fds);
  return 0;
}

/* 1,000 connections held on the Unix socket by another local user (who
 * needs no pcipass account to connect): it gets MAX_PER_PEER, the others
 * are answered 503 at once, and the admin is answered meanwhile. Needs
 * root, to be another user. */
static void
flood_held_unix(PpTestDaemon *f, GArray *ms)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) helper = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *count = g_strdup_printf("%d", FLOOD_CONNECTIONS);
  g_autofree char *run_dir = g_path_get_dirname(f->socket);
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  gint64 start = g_get_monotonic_time();

  if (getuid() != 0) {
    g_test_message("flood held on the Unix socket by another user: skipped, not root");
    return;
  }
  /* The other user reaches the socket (0666) through its folders. */
  g_assert_cmpint(chmod(f->dir, 0711), ==, 0);
  g_assert_cmpint(chmod(run_dir, 0755), ==, 0);
  launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup(launcher, become_other_user, NULL, NULL);
  helper = g_subprocess_launcher_spawn(launcher, &error, self_path, "--hold-unix", f->socket, count,
                                       NULL);
  g_assert_no_error(error);
  out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(helper));
  line = g_data_input_stream_read_line(out, NULL, NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(line);
  g_assert_cmpuint(g_ascii_strtoull(line + 4, NULL, 10), ==, FLOOD_CONNECTIONS - MAX_PER_PEER);
  admin_now(f, ms);
  g_output_stream_close(g_subprocess_get_stdin_pipe(helper), NULL, NULL);
  g_subprocess_wait_check(helper, NULL, &error);
  g_assert_no_error(error);
  wait_open(f, 2);
  g_test_message("flood held on the Unix socket by uid %d: %d connections, %d held, %s answered "
                 "503 at once; all gone %.2f s after the start",
                 OTHER_UID, FLOOD_CONNECTIONS, MAX_PER_PEER, line + 4,
                 (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
}

/* 300 TCP clients from 10 addresses (30 each, within the per-peer limit)
 * that send a request line, then one header line every 2 s, and never
 * finish: each is cut (408) header-timeout after pcipassd took it; those
 * beyond TCP's share wait in the backlog meanwhile. */
static void
slow_clients(PpTestDaemon *f)
{
  int fds[SLOW_CLIENTS];
  GString *got[SLOW_CLIENTS];
  guint open = SLOW_CLIENTS, answered_408 = 0;
  gint64 start = g_get_monotonic_time();
  gint64 deadline = start + 60 * G_USEC_PER_SEC;
  gint64 next_line = start;
  guint64 cut_before =
      pp_test_metric(f, "pcipass_http_connections_cut_total{reason=\"header-timeout\"}");
  guint lines = 0;

  for (guint i = 0; i < SLOW_CLIENTS; i++) {
    fds[i] = connect_tcp(f->port, i % SLOW_ADDRESSES);
    got[i] = g_string_new(NULL);
  }
  while (open > 0) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    if (g_get_monotonic_time() >= next_line) {
      for (guint i = 0; i < SLOW_CLIENTS; i++) {
        const char *line = lines == 0 ? "GET /v1/hosts HTTP/1.1\r\n" : "X-Slow: y\r\n";

        if (fds[i] >= 0)
          (void)!send(fds[i], line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      lines++;
      next_line += SLOW_LINE_US;
    }
    for (guint i = 0; i < SLOW_CLIENTS; i++) {
      char buf[1024];
      ssize_t n;

      if (fds[i] < 0)
        continue;
      n = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        g_string_append_len(got[i], buf, n);
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        close(fds[i]);
        fds[i] = -1;
        open--;
      }
    }
    g_usleep(20 * 1000);
  }
  for (guint i = 0; i < SLOW_CLIENTS; i++) {
    if (g_str_has_prefix(got[i]->str, "HTTP/1.1 408 ") &&
        strstr(got[i]->str, "{\"error\": {\"code\": 408,") != NULL)
      answered_408++;
    g_string_free(got[i], TRUE);
  }
  g_test_message("slow clients: %d from %d addresses, a header line every %.0f s; all cut "
                 "after %.1f s (%u header lines each at most), %u answered 408",
                 SLOW_CLIENTS, SLOW_ADDRESSES, (double)SLOW_LINE_US / G_USEC_PER_SEC,
                 (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC, lines, answered_408);
  g_assert_cmpuint(answered_408, ==, SLOW_CLIENTS);
  g_assert_cmpuint(
      pp_test_metric(f, "pcipass_http_connections_cut_total{reason=\"header-timeout\"}") -
          cut_before,
      ==, SLOW_CLIENTS);
}

/* 200 POSTs of 1 MiB without a token, at once, from 10 addresses, not
 * waiting for 100 Continue: each refused 401 on its head, the body never
 * buffered. */
static size_t
discard(char *data, size_t size, size_t n, void *user_data)
{
  return size * n;
}

static void
unauthenticated_bodies(PpTestDaemon *f)
{
  g_autofree char *body = g_malloc(BODY_SIZE);
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/v1/vms", f->port);
  CURLM *multi = curl_multi_init();
  CURL *easy[BODIES];
  struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
  guint refused = 0, running = 1;
  gint64 start = g_get_monotonic_time();
  CURLMsg *msg;
  int left;

  headers = curl_slist_append(headers, "Content-Type: application/json");
  memset(body, ' ', BODY_SIZE);
  for (guint i = 0; i < BODIES; i++) {
    g_autofree char *from = g_strdup_printf("127.0.0.%u", 2 + i % BODY_ADDRESSES);

    easy[i] = curl_easy_init();
    curl_easy_setopt(easy[i], CURLOPT_URL, url);
    curl_easy_setopt(easy[i], CURLOPT_INTERFACE, from);
    curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(easy[i], CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(easy[i], CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)BODY_SIZE);
    curl_easy_setopt(easy[i], CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(multi, easy[i]);
  }
  while (running > 0) {
    int still = 0;

    curl_multi_perform(multi, &still);
    running = (guint)still;
    if (running > 0)
      curl_multi_poll(multi, NULL, 0, 100, NULL);
  }
  while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
    long status = 0;

    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    if (msg->data.result == CURLE_OK && status == 401)
      refused++;
    else
      g_test_message("a body: %s, HTTP %ld", curl_easy_strerror(msg->data.result), status);
  }
  for (guint i = 0; i < BODIES; i++) {
    curl_multi_remove_handle(multi, easy[i]);
    curl_easy_cleanup(easy[i]);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  g_test_message("unauthenticated bodies: %d of %d bytes at once from %d addresses, %u answered "
                 "401, in %.1f s",
                 BODIES, BODY_SIZE, BODY_ADDRESSES, refused,
                 (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
  g_assert_cmpuint(refused, ==, BODIES);
}

static void
test_flood(PpTestDaemon *f, gconstpointer data)
{
  Admin admin = { .f = f };
  g_autoptr(GArray) held_ms = g_array_new(FALSE, FALSE, sizeof(double));
  GThread *thread;
  const char *pid;
  guint64 rss_start, hwm_end;
  g_autoptr(json_t) token = NULL;

  /* Under AddressSanitizer its quarantine keeps what is freed, 256 MiB by
   * default: a small one leaves the daemon's own memory to measure. */
  if (g_getenv("ASAN_OPTIONS") != NULL) {
    g_autofree char *asan = g_strconcat(g_getenv("ASAN_OPTIONS"), ":quarantine_size_mb=8", NULL);

    g_setenv("ASAN_OPTIONS", asan, TRUE);
  }
  pp_test_daemon_start(f, (const char *const[]){ "--header-timeout", HEADER_TIMEOUT, NULL });
  pid = g_subprocess_get_identifier(f->proc);
  g_mutex_init(&admin.lock);
  g_cond_init(&admin.changed);
  for (guint p = 0; p < G_N_ELEMENTS(phases); p++)
    admin.ms[p] = g_array_new(FALSE, FALSE, sizeof(double));
  rss_start = rss_kib(pid, "VmRSS");
  thread = g_thread_new("admin", admin_thread, &admin);
  g_usleep(500 * 1000);

  admin_set_phase(&admin, 1);
  flood(f, f->socket);
  flood(f, NULL);
  flood_held_tcp(f, held_ms);
  flood_held_unix(f, held_ms);
  admin_set_phase(&admin, 2);
  slow_clients(f);
  admin_set_phase(&admin, 3);
  unauthenticated_bodies(f);
  admin_set_phase(&admin, 4);
  wait_open(f, 2);
  g_usleep(500 * 1000);

  g_mutex_lock(&admin.lock);
  g_atomic_int_set(&admin.stop, 1);
  g_cond_signal(&admin.changed);
  g_mutex_unlock(&admin.lock);
  g_thread_join(thread);
  hwm_end = rss_kib(pid, "VmHWM");
  admin_report(&admin);
  g_array_sort(held_ms, compare_double);
  g_test_message("admin requests while floods were held: %u, median %.1f ms, max %.1f ms",
                 held_ms->len, g_array_index(held_ms, double, held_ms->len / 2),
                 g_array_index(held_ms, double, held_ms->len - 1));
  g_test_message("pcipassd's RSS: %" G_GUINT64_FORMAT " KiB at the start, %" G_GUINT64_FORMAT
                 " KiB at most while the admin looked, peak (VmHWM) %" G_GUINT64_FORMAT " KiB",
                 rss_start, admin.peak_rss_kib, hwm_end);
  if (admin.failures > 0)
    g_error("%u admin requests failed or took more than %d s; the first %s", admin.failures,
            ADMIN_BOUND_S, admin.failure);
  g_assert_cmpuint(hwm_end, <, rss_start + RSS_BOUND_KIB);

  /* After it all: TCP answers too, with a token. */
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", NULL });
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, NULL, json_string_value(json_object_get(token, "token")), "GET", "/v1/whoami",
                 NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
  }
  for (guint p = 0; p < G_N_ELEMENTS(phases); p++)
    g_array_unref(admin.ms[p]);
  g_free(admin.failure);
  g_mutex_clear(&admin.lock);
  g_cond_clear(&admin.changed);
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  if (argc == 4 && strcmp(argv[1], "--hold-unix") == 0)
    return hold_unix(argv[2], (guint)g_ascii_strtoull(argv[3], NULL, 10));
  self_path = g_file_read_link("/proc/self/exe", NULL);
  g_assert_nonnull(self_path);
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/flood/admin-answered", PpTestDaemon, NULL, pp_test_daemon_set_up, test_flood,
             pp_test_daemon_tear_down);
  return g_test_run();
}
