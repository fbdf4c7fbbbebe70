/* pp-bench-util: what the benches that drive the real pcipassd share:
 * the clock, a request over pcipassd's Unix socket, starting pcipassd
 * (it dies with the bench) and stopping it, a free loopback port, and
 * reading a process's memory. Built on GLib, GIO and libcurl only, so that
 * a bench that does not link the server (bench-daemon) may use it. */
#pragma once

#include <curl/curl.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Seconds on the monotonic clock. */
double pp_bench_now_s(void);

/* How a request goes to pcipassd. */
typedef struct {
  const char *socket_path;  /* pcipassd's Unix socket */
  const char *token;        /* nullable: no Authorization header */
  const char *content_type; /* nullable: curl's own for a body */
  long timeout_s;           /* a hang guard: no request stops the bench longer */
} PpBenchHttp;

/**
 * pp_bench_http:
 * @curl: (nullable): a handle kept alive between calls; %NULL: a new
 *   connection for this request alone
 * @body: (nullable): the request's body, @len bytes; "GET" sends none
 * @out: (nullable): where the answer's body is appended; %NULL: dropped
 * @ret_status: the HTTP status, 0 where none came
 *
 * One request @method @path as @how says, over its Unix socket.
 *
 * Returns: curl's code.
 */
CURLcode pp_bench_http(CURL *curl, const PpBenchHttp *how, const char *method, const char *path,
                       const char *body, gsize len, GString *out, long *ret_status);

/**
 * pp_bench_daemon_start:
 * @argv: pcipassd's command line, %NULL-terminated
 * @log: the file its stderr goes to (made anew)
 * @how: how to ask it whether it is up
 * @up_path: what it must answer 200 to, once up ("/v1/whoami")
 * @wait_s: how long it may take
 * @ret_why: (transfer full): why it did not start
 *
 * Starts pcipassd, which dies with the bench (PR_SET_PDEATHSIG), and
 * waits until it answers. A pcipassd that cannot be spawned ends the
 * bench.
 *
 * Returns: (transfer full): the process, or %NULL with @ret_why ("pcipassd
 *   did not answer within S s (log: LOG)") where it exited or did not
 *   answer in time; it is killed then.
 */
GSubprocess *pp_bench_daemon_start(const char *const *argv, const char *log, const PpBenchHttp *how,
                                   const char *up_path, guint wait_s, char **ret_why);

/* SIGTERM, then SIGKILL after 10 s; reaped. */
void pp_bench_daemon_stop(GSubprocess *proc);

/* A free TCP port on the loopback: bound, read, closed (another process
 * could take it meanwhile: pcipassd then does not start, and says so).
 * None ends the bench. */
guint16 pp_bench_free_port(void);

/* @key ("VmHWM:", "VmRSS:") of /proc/@pid/status in MiB, or -1. */
double pp_bench_proc_mem_mib(const char *pid, const char *key);

/* qsort()'s and g_array_sort()'s comparison of two doubles, ascending. */
int pp_bench_compare_double(const void *a, const void *b);

G_END_DECLS
