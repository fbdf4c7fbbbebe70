/* pp-test-daemon: a real pcipassd on a temporary state folder and socket
 * for the integration tests, the real CLI and raw HTTP to drive it, and
 * hosts simulated by the real probe on captured sysfs trees. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pp-test-daemon.h"

/* How long a wait for the daemon may take before the test fails: a guard
 * against a hang, not a timing assertion. */
#define PP_TEST_WAIT_US (60 * G_USEC_PER_SEC)

static const struct {
  const char *tarball;
  const char *unpacks_to;
  guint devices; /* what the probe reports with --all */
} trees[] = {
  { "hwloc-sysfs/40intel64-2g2n4c+pcilocality.tar.bz2", "40intel64-2g2n4c+pci", 37 },
  { "ghw-sysfs/linux-amd64-8581cf3a529e5d8b97ea876eade2f60d.tar.gz", NULL, 0 },
  { "ghw-sysfs/linux-amd64-accel-nvidia.tar.gz", NULL, 0 },
};

/* The sys folder below an unpacked capture: ghw's unpack to sys/ directly
 * or below one folder. */
static char *
find_sys(const char *into)
{
  g_autofree char *direct = g_build_filename(into, "sys", NULL);
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (g_file_test(direct, G_FILE_TEST_IS_DIR))
    return g_steal_pointer(&direct);
  dir = g_dir_open(into, 0, NULL);
  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *sys = g_build_filename(into, name, "sys", NULL);

    if (g_file_test(sys, G_FILE_TEST_IS_DIR))
      return g_steal_pointer(&sys);
  }
  g_assert_not_reached();
}

void
pp_test_daemon_set_up(PpTestDaemon *f, gconstpointer data)
{
  f->dir = pp_test_mkdtemp();
  f->state = g_build_filename(f->dir, "state", NULL);
  f->socket = g_build_filename(f->dir, "run", "pcipassd.sock", NULL);
  f->log = g_build_filename(f->dir, "pcipassd.log", NULL);
  f->probe = pp_test_build_path("src/host/pcipass-probe");
  f->cli = pp_test_build_path("src/cli/pcipass");
  f->daemon = pp_test_build_path("src/server/pcipassd");
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++) {
    g_autofree char *name = g_strdup_printf("tree%u", i);
    g_autofree char *into = g_build_filename(f->dir, name, NULL);

    g_assert_cmpint(g_mkdir_with_parents(into, 0755), ==, 0);
    pp_test_unpack(trees[i].tarball, into);
    f->trees[i] = find_sys(into);
  }
  /* The CLI finds the daemon here (documented in pcipass(1)). */
  g_setenv("PCIPASS_SOCKET", f->socket, TRUE);
  g_unsetenv("PCIPASS_URL");
  g_unsetenv("PCIPASS_TOKEN");
}

void
pp_test_daemon_stop(PpTestDaemon *f)
{
  g_autoptr(GError) error = NULL;

  if (f->proc == NULL)
    return;
  g_subprocess_send_signal(f->proc, SIGTERM);
  g_subprocess_wait(f->proc, NULL, &error);
  g_assert_no_error(error);
  /* SIGTERM is a clean stop: exit 0, socket removed. */
  g_assert_true(g_subprocess_get_if_exited(f->proc));
  g_assert_cmpint(g_subprocess_get_exit_status(f->proc), ==, 0);
  g_assert_false(g_file_test(f->socket, G_FILE_TEST_EXISTS));
  g_clear_object(&f->proc);
}

void
pp_test_daemon_tear_down(PpTestDaemon *f, gconstpointer data)
{
  if (f->proc != NULL) {
    g_subprocess_force_exit(f->proc);
    g_subprocess_wait(f->proc, NULL, NULL);
    g_clear_object(&f->proc);
  }
  if (g_test_failed()) {
    g_autofree char *log = NULL;

    if (g_file_get_contents(f->log, &log, NULL, NULL))
      g_test_message("pcipassd's log:\n%s", log);
  }
  pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->state);
  g_free(f->socket);
  g_free(f->log);
  g_free(f->probe);
  g_free(f->cli);
  g_free(f->daemon);
  for (guint i = 0; i < G_N_ELEMENTS(trees); i++)
    g_free(f->trees[i]);
}

char *
pp_test_daemon_log(PpTestDaemon *f)
{
  char *log = NULL;

  g_file_get_contents(f->log, &log, NULL, NULL);
  return log ? log : g_strdup("");
}

/* In the daemon's child, before exec: it dies with the test (a failed
 * assertion aborts the test without its teardown), so that no daemon of a
 * dead test goes on reconciling a shared libvirtd. */
static void
die_with_parent(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGKILL);
}

/* Starts pcipassd with @extra options; waits until it answers. */
void
pp_test_daemon_start(PpTestDaemon *f, const char *const *extra)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;
  gsize offset;

  g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);

  g_ptr_array_add(argv, f->daemon);
  g_ptr_array_add(argv, "--state-dir");
  g_ptr_array_add(argv, f->state);
  g_ptr_array_add(argv, "--socket");
  g_ptr_array_add(argv, f->socket);
  g_ptr_array_add(argv, "--listen");
  g_ptr_array_add(argv, "127.0.0.1:0");
  g_ptr_array_add(argv, "--monitor-interval");
  g_ptr_array_add(argv, "1");
  /* A hang guard, not a timing: probes on a busy machine, sanitized and
   * many at once, took more than the 2 s this once was. A test of the
   * timeout itself gives its own. */
  g_ptr_array_add(argv, "--probe-timeout");
  g_ptr_array_add(argv, "60");
  g_ptr_array_add(argv, "--probe-path");
  g_ptr_array_add(argv, f->probe);
  g_ptr_array_add(argv, "--log-level");
  g_ptr_array_add(argv, "debug");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)extra[i]);
  g_ptr_array_add(argv, NULL);

  /* The log is appended: a restart keeps the first run's lines. */
  {
    g_autofree char *before = pp_test_daemon_log(f);
    int fd = open(f->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    g_assert_cmpint(fd, >=, 0);
    offset = strlen(before);
    g_subprocess_launcher_take_stderr_fd(launcher, fd);
  }
  f->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);

  /* Ready when this run's log says which TCP port it got: the Unix socket
   * is listening by then. */
  for (;;) {
    g_autofree char *log = pp_test_daemon_log(f);
    const char *at = strlen(log) > offset ? strstr(log + offset, "TCP port ") : NULL;

    if (at != NULL) {
      f->port = (guint16)g_ascii_strtoull(at + 9, NULL, 10);
      g_assert_cmpuint(f->port, !=, 0);
      break;
    }
    if (g_subprocess_get_identifier(f->proc) == NULL)
      g_error("pcipassd exited at start:\n%s", log);
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(20000);
  }
}

/* Runs the CLI; @argv without the program. */
void
pp_test_cli(PpTestDaemon *f, const char *const *argv, PpTestRun *ret)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new();

  g_ptr_array_add(full, f->cli);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(full, (gpointer)argv[i]);
  g_ptr_array_add(full, NULL);
  pp_test_run((const char *const *)full->pdata, NULL, ret);
}

/* Runs the CLI with --json; asserts exit 0; returns the JSON. */
json_t *
pp_test_cli_json(PpTestDaemon *f, const char *const *argv)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new();
  g_auto(PpTestRun) run = { 0 };
  json_error_t jerr;
  json_t *json;

  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(full, (gpointer)argv[i]);
  g_ptr_array_add(full, "--json");
  g_ptr_array_add(full, NULL);
  pp_test_cli(f, (const char *const *)full->pdata, &run);
  if (run.status != 0)
    g_test_message("pcipass %s: %s", argv[0], run.err);
  g_assert_cmpint(run.status, ==, 0);
  json = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(json);
  return json;
}

/* Raw HTTP. */

void
pp_test_reply_clear(PpTestReply *reply)
{
  if (reply->body != NULL)
    g_string_free(reply->body, TRUE);
  if (reply->json != NULL)
    json_decref(reply->json);
  memset(reply, 0, sizeof(*reply));
}

static size_t
on_data(char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

/* @socket: the Unix socket, or NULL for TCP; @token: a bearer token or
 * NULL; @body: NULL for none. */
CURLcode
pp_test_http_try(PpTestDaemon *f, const char *socket, const char *token, const char *method,
                 const char *path, const char *body, gsize body_len, PpTestReply *ret)
{
  CURL *curl = curl_easy_init();
  struct curl_slist *headers = NULL;
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  CURLcode code;

  g_assert_nonnull(curl);
  memset(ret, 0, sizeof(*ret));
  ret->body = g_string_new(NULL);
  if (socket != NULL) {
    url = g_strdup_printf("http://localhost%s", path);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket);
  } else {
    url = g_strdup_printf("http://127.0.0.1:%u%s", f->port, path);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (token != NULL) {
    auth = g_strdup_printf("Authorization: Bearer %s", token);
    headers = curl_slist_append(headers, auth);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret->body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
  ret->json = json_loadb(ret->body->str, ret->body->len, 0, NULL);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return code;
}

void
pp_test_http(PpTestDaemon *f, const char *socket, const char *token, const char *method,
             const char *path, const char *body, gsize body_len, PpTestReply *ret)
{
  CURLcode code = pp_test_http_try(f, socket, token, method, path, body, body_len, ret);

  if (code != CURLE_OK) {
    /* Most often pcipassd died: what it said last tells why. */
    g_autofree char *log = pp_test_daemon_log(f);

    g_error("%s %s: %s; pcipassd's log:\n%s", method, path, curl_easy_strerror(code), log);
  }
}

/* The message of an API error reply, asserting its shape and status. */
const char *
pp_test_error_message(const PpTestReply *reply, long status)
{
  json_t *error;

  g_assert_cmpint(reply->status, ==, status);
  g_assert_nonnull(reply->json);
  error = json_object_get(reply->json, "error");
  g_assert_nonnull(error);
  g_assert_cmpint(json_integer_value(json_object_get(error, "code")), ==, status);
  g_assert_true(json_is_string(json_object_get(error, "message")));
  return json_string_value(json_object_get(error, "message"));
}

char *
pp_test_add_user(PpTestDaemon *f, const char *name)
{
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) token = NULL;

  pp_test_cli(f, (const char *const[]){ "user", "create", name, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", name, NULL });
  return g_strdup(json_string_value(json_object_get(token, "token")));
}

void
pp_test_add_tree_host(PpTestDaemon *f, const char *name, const char *sys)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", f->probe, sys, name);
  g_auto(PpTestRun) run = { 0 };

  /* libvirt's test driver: a host is monitored only when its libvirt
   * answers, and this machine's own libvirtd may not run. Its one pool is
   * "default-pool", where the context disks go (created there, never
   * uploaded: the test driver keeps no bytes, see pp-deployer). */
  pp_test_cli(f,
              (const char *const[]){ "host", "create", name, "--probe-command", command,
                                     "--libvirt-uri", "test:///default", "--context-pool",
                                     "default-pool", NULL },
              &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
}

/* The host's JSON (GET /v1/hosts/NAME), through the CLI. */
json_t *
pp_test_host_show(PpTestDaemon *f, const char *name)
{
  return pp_test_cli_json(f, (const char *const[]){ "host", "show", name, NULL });
}

const char *
pp_test_host_state(json_t *host)
{
  return json_string_value(json_object_get(host, "state"));
}

/* Waits until host @name is in @state and was probed after @after (unix
 * seconds, 0: any). Returns: (transfer full) its JSON. */
json_t *
pp_test_wait_host(PpTestDaemon *f, const char *name, const char *state, gint64 after)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    g_autoptr(json_t) host = pp_test_host_show(f, name);
    json_t *last = json_object_get(host, "last_monitored");

    if (g_strcmp0(pp_test_host_state(host), state) == 0 &&
        (after == 0 || (json_is_integer(last) && json_integer_value(last) > after)))
      return g_steal_pointer(&host);
    if (g_get_monotonic_time() > deadline) {
      g_autofree char *log = pp_test_daemon_log(f);

      g_error("host '%s' is %s (%s), not %s; pcipassd's log:\n%s", name, pp_test_host_state(host),
              json_string_value(json_object_get(host, "error")), state, log);
    }
    g_usleep(100000);
  }
}

/* The number of devices the real probe reports for a tree. */
guint
pp_test_probe_count(PpTestDaemon *f, const char *sys)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ f->probe, "--sysfs-root", sys, "--all", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  return pp_test_count(run.out, "PCI = [");
}

/* VMs. */

void
pp_test_post_template(PpTestDaemon *f, const char *path, const char *text, PpTestReply *ret)
{
  g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

  pp_test_http(f, f->socket, NULL, "POST", path, dumped, strlen(dumped), ret);
}

gint64
pp_test_vm_create(PpTestDaemon *f, const char *text)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_post_template(f, "/v1/vms", text, &reply);
  if (reply.status != 201)
    g_error("POST /v1/vms: %ld %s", reply.status, reply.body->str);
  return json_integer_value(json_object_get(reply.json, "id"));
}

json_t *
pp_test_vm_get(PpTestDaemon *f, gint64 id)
{
  g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, id);
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, f->socket, NULL, "GET", path, NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  return json_incref(reply.json);
}

const char *
pp_test_vm_state(json_t *vm)
{
  return json_string_value(json_object_get(vm, "state"));
}

json_t *
pp_test_wait_vm(PpTestDaemon *f, gint64 id, const char *state)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    g_autoptr(json_t) vm = pp_test_vm_get(f, id);

    if (g_strcmp0(pp_test_vm_state(vm), state) == 0)
      return g_steal_pointer(&vm);
    if (g_get_monotonic_time() > deadline) {
      g_autofree char *log = pp_test_daemon_log(f);
      g_autofree char *text = json_dumps(vm, JSON_INDENT(2));

      g_error("VM %" G_GINT64_FORMAT " is not %s: %s\npcipassd's log:\n%s", id, state, text, log);
    }
    g_usleep(50000);
  }
}

guint64
pp_test_metric(PpTestDaemon *f, const char *name)
{
  g_auto(PpTestReply) reply = { 0 };
  g_autofree char *line = g_strconcat("\n", name, " ", NULL);
  const char *at;

  pp_test_http(f, f->socket, NULL, "GET", "/metrics", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  at = strstr(reply.body->str, line);
  if (at == NULL)
    g_error("no metric '%s' in /metrics:\n%s", name, reply.body->str);
  return g_ascii_strtoull(at + strlen(line), NULL, 10);
}

void
pp_test_pair_set_up(PpTestPair *p, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  if (!pp_test_pg_check())
    return;
  p->pg = pp_test_pg_start(&error);
  g_assert_no_error(error);
  p->uri = pp_test_pg_new_database(p->pg, &error);
  g_assert_no_error(error);
  pp_test_daemon_set_up(&p->d[0], data);
  pp_test_daemon_set_up(&p->d[1], data);
}

void
pp_test_pair_tear_down(PpTestPair *p, gconstpointer data)
{
  if (p->pg == NULL)
    return;
  pp_test_daemon_tear_down(&p->d[0], data);
  pp_test_daemon_tear_down(&p->d[1], data);
  pp_test_pg_stop(p->pg);
  g_free(p->uri);
}

void
pp_test_pair_start(PpTestPair *p, guint i)
{
  pp_test_daemon_start(&p->d[i], (const char *const[]){ "--database", p->uri, NULL });
}
