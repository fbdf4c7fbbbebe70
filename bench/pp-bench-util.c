#define G_LOG_DOMAIN "pp-bench"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pp-bench-util.h"

double
pp_bench_now_s(void)
{
  return (double)g_get_monotonic_time() / G_USEC_PER_SEC;
}

static size_t
on_data(char *data, size_t size, size_t n, void *user_data)
{
  if (user_data != NULL)
    g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

CURLcode
pp_bench_http(CURL *curl, const PpBenchHttp *how, const char *method, const char *path,
              const char *body, gsize len, GString *out, long *ret_status)
{
  CURL *own = NULL;
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strdup_printf("http://localhost%s", path);
  g_autofree char *auth = NULL;
  g_autofree char *type = NULL;
  CURLcode code;

  if (curl == NULL)
    curl = own = curl_easy_init();
  if (curl == NULL)
    g_error("curl_easy_init failed");
  *ret_status = 0;
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, how->socket_path);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body != NULL ? body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body != NULL ? len : 0));
  }
  headers = curl_slist_append(headers, "Expect:");
  if (body != NULL && how->content_type != NULL) {
    type = g_strdup_printf("Content-Type: %s", how->content_type);
    headers = curl_slist_append(headers, type);
  }
  if (how->token != NULL) {
    auth = g_strdup_printf("Authorization: Bearer %s", how->token);
    headers = curl_slist_append(headers, auth);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, how->timeout_s);
  code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, ret_status);
  curl_slist_free_all(headers);
  if (own != NULL)
    curl_easy_cleanup(own);
  return code;
}

static void
die_with_parent(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

GSubprocess *
pp_bench_daemon_start(const char *const *argv, const char *log, const PpBenchHttp *how,
                      const char *up_path, guint wait_s, char **ret_why)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;
  double deadline = pp_bench_now_s() + wait_s;
  int fd;

  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
  fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    g_error("cannot open '%s': %s", log, g_strerror(errno));
  g_subprocess_launcher_take_stderr_fd(launcher, fd);
  proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
  if (proc == NULL)
    g_error("cannot start '%s': %s", argv[0], error->message);
  /* Up when it answers on its socket. */
  for (;;) {
    long status;

    if (pp_bench_http(NULL, how, "GET", up_path, NULL, 0, NULL, &status) == CURLE_OK &&
        status == 200)
      return proc;
    if (g_subprocess_get_identifier(proc) == NULL || pp_bench_now_s() > deadline) {
      *ret_why = g_strdup_printf("pcipassd did not answer within %u s (log: %s)", wait_s, log);
      g_subprocess_force_exit(proc);
      g_subprocess_wait(proc, NULL, NULL);
      g_object_unref(proc);
      return NULL;
    }
    g_usleep(20000);
  }
}

void
pp_bench_daemon_stop(GSubprocess *proc)
{
  double deadline = pp_bench_now_s() + 10;

  g_subprocess_send_signal(proc, SIGTERM);
  /* GLib reaps it on its worker thread: the identifier goes then. */
  while (g_subprocess_get_identifier(proc) != NULL && pp_bench_now_s() < deadline)
    g_usleep(20000);
  if (g_subprocess_get_identifier(proc) != NULL)
    g_subprocess_force_exit(proc);
  g_subprocess_wait(proc, NULL, NULL);
}

guint16
pp_bench_free_port(void)
{
  struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t len = sizeof(in);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  guint16 port = 0;

  if (fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
      getsockname(fd, (struct sockaddr *)&in, &len) == 0)
    port = ntohs(in.sin_port);
  if (fd >= 0)
    close(fd);
  if (port == 0)
    g_error("cannot find a free TCP port on 127.0.0.1: %s", g_strerror(errno));
  return port;
}

double
pp_bench_proc_mem_mib(const char *pid, const char *key)
{
  g_autofree char *path = g_strdup_printf("/proc/%s/status", pid);
  g_autofree char *text = NULL;
  const char *at;

  if (!g_file_get_contents(path, &text, NULL, NULL) || (at = strstr(text, key)) == NULL)
    return -1;
  return (double)g_ascii_strtoll(at + strlen(key), NULL, 10) / 1024.0;
}

int
pp_bench_compare_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}
