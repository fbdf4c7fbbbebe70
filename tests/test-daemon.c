/* pcipassd end to end: the real daemon on a temporary state folder and
 * socket, driven by the real pcipass CLI and by raw HTTP (libcurl) over the
 * Unix socket and TCP. Hosts are simulated by the real pcipass-probe on
 * real sysfs captures (../shared/fixtures): one machine plays many hosts.
 *
 * Nothing is mocked but one thing: no scheduler exists yet to give a device
 * to a VM, so the test holding a device writes the vms row and vm_id into
 * the daemon's real SQLite file while the daemon is stopped, as the
 * scheduler's transaction will. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gio/gio.h>
#include <jansson.h>
#include <sqlite3.h>

#include "pp-autoptr.h"
#include "pp-test-util.h"

/* How long a wait for the daemon may take before the test fails: a guard
 * against a hang, not a timing assertion. */
#define WAIT_US (60 * G_USEC_PER_SEC)

typedef struct {
  char *dir;
  char *state;
  char *socket;
  char *log;
  char *probe;
  char *cli;
  char *daemon;
  char *trees[3]; /* sys folders of three captured machines */
  GSubprocess *proc;
  guint16 port;
} Fixture;

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

static void
fixture_set_up(Fixture *f, gconstpointer data)
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

static void
daemon_stop(Fixture *f)
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

static void
fixture_tear_down(Fixture *f, gconstpointer data)
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

static char *
read_log(Fixture *f)
{
  char *log = NULL;

  g_file_get_contents(f->log, &log, NULL, NULL);
  return log ? log : g_strdup("");
}

/* Starts pcipassd with @extra options; waits until it answers. */
static void
daemon_start(Fixture *f, const char *const *extra)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time() + WAIT_US;
  gsize offset;

  g_ptr_array_add(argv, f->daemon);
  g_ptr_array_add(argv, "--state-dir");
  g_ptr_array_add(argv, f->state);
  g_ptr_array_add(argv, "--socket");
  g_ptr_array_add(argv, f->socket);
  g_ptr_array_add(argv, "--listen");
  g_ptr_array_add(argv, "127.0.0.1:0");
  g_ptr_array_add(argv, "--monitor-interval");
  g_ptr_array_add(argv, "1");
  g_ptr_array_add(argv, "--probe-timeout");
  g_ptr_array_add(argv, "2");
  g_ptr_array_add(argv, "--probe-path");
  g_ptr_array_add(argv, f->probe);
  g_ptr_array_add(argv, "--log-level");
  g_ptr_array_add(argv, "debug");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)extra[i]);
  g_ptr_array_add(argv, NULL);

  /* The log is appended: a restart keeps the first run's lines. */
  {
    g_autofree char *before = read_log(f);
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
    g_autofree char *log = read_log(f);
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
static void
cli(Fixture *f, const char *const *argv, PpTestRun *ret)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new();

  g_ptr_array_add(full, f->cli);
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(full, (gpointer)argv[i]);
  g_ptr_array_add(full, NULL);
  pp_test_run((const char *const *)full->pdata, NULL, ret);
}

/* Runs the CLI with --json; asserts exit 0; returns the JSON. */
static json_t *
cli_json(Fixture *f, const char *const *argv)
{
  g_autoptr(GPtrArray) full = g_ptr_array_new();
  g_auto(PpTestRun) run = { 0 };
  json_error_t jerr;
  json_t *json;

  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(full, (gpointer)argv[i]);
  g_ptr_array_add(full, "--json");
  g_ptr_array_add(full, NULL);
  cli(f, (const char *const *)full->pdata, &run);
  if (run.status != 0)
    g_test_message("pcipass %s: %s", argv[0], run.err);
  g_assert_cmpint(run.status, ==, 0);
  json = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(json);
  return json;
}

/* Raw HTTP. */

typedef struct {
  long status;
  GString *body;
  json_t *json; /* the body parsed, or NULL */
} Reply;

static void
reply_clear(Reply *reply)
{
  if (reply->body != NULL)
    g_string_free(reply->body, TRUE);
  if (reply->json != NULL)
    json_decref(reply->json);
  memset(reply, 0, sizeof(*reply));
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Reply, reply_clear)

static size_t
on_data(char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

/* @socket: the Unix socket, or NULL for TCP; @token: a bearer token or
 * NULL; @body: NULL for none. */
static void
http(Fixture *f, const char *socket, const char *token, const char *method, const char *path,
     const char *body, gsize body_len, Reply *ret)
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
  g_assert_cmpstr(curl_easy_strerror(code), ==, curl_easy_strerror(CURLE_OK));
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->status);
  ret->json = json_loadb(ret->body->str, ret->body->len, 0, NULL);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

/* The message of an API error reply, asserting its shape and status. */
static const char *
error_message(const Reply *reply, long status)
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

static void
add_tree_host(Fixture *f, const char *name, const char *sys)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", f->probe, sys, name);
  g_auto(PpTestRun) run = { 0 };

  cli(f, (const char *const[]){ "host", "create", name, "--probe-command", command, NULL }, &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
}

/* The host's JSON (GET /v1/hosts/NAME), through the CLI. */
static json_t *
host_show(Fixture *f, const char *name)
{
  return cli_json(f, (const char *const[]){ "host", "show", name, NULL });
}

static const char *
host_state(json_t *host)
{
  return json_string_value(json_object_get(host, "state"));
}

/* Waits until host @name is in @state and was probed after @after (unix
 * seconds, 0: any). Returns: (transfer full) its JSON. */
static json_t *
wait_state(Fixture *f, const char *name, const char *state, gint64 after)
{
  gint64 deadline = g_get_monotonic_time() + WAIT_US;

  for (;;) {
    g_autoptr(json_t) host = host_show(f, name);
    json_t *last = json_object_get(host, "last_monitored");

    if (g_strcmp0(host_state(host), state) == 0 &&
        (after == 0 || (json_is_integer(last) && json_integer_value(last) > after)))
      return g_steal_pointer(&host);
    if (g_get_monotonic_time() > deadline) {
      g_autofree char *log = read_log(f);

      g_error("host '%s' is %s (%s), not %s; pcipassd's log:\n%s", name, host_state(host),
              json_string_value(json_object_get(host, "error")), state, log);
    }
    g_usleep(100000);
  }
}

/* The number of devices the real probe reports for a tree. */
static guint
probe_count(Fixture *f, const char *sys)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ f->probe, "--sysfs-root", sys, "--all", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  return pp_test_count(run.out, "PCI = [");
}

/* Hosts on three captured machines are monitored; their tables match
 * their probes; a restart keeps everything. */
static void
test_monitor_hosts(Fixture *f, gconstpointer data)
{
  static const char *const names[] = { "node-a", "node-b", "gpu-1" };
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) list = NULL;

  daemon_start(f, NULL);
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    add_tree_host(f, names[i], f->trees[i]);

  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(json_t) host = wait_state(f, names[i], "monitored", 0);
    json_t *devices = json_object_get(host, "pci_devices");
    guint expected = probe_count(f, f->trees[i]);

    g_assert_cmpuint(json_array_size(devices), ==, expected);
    g_assert_cmpint(json_integer_value(json_object_get(host, "pci_total")), ==, expected);
    g_assert_cmpint(json_integer_value(json_object_get(host, "pci_free")), ==, expected);
    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(host, "facts"), "hostname")),
                    ==, names[i]);
  }

  /* The first capture: 4 BCM5709 and a QLogic InfiniBand card on NUMA node 2. */
  {
    g_autoptr(json_t) host = host_show(f, "node-a");
    json_t *devices = json_object_get(host, "pci_devices");
    guint bcm = 0, node2 = 0;
    size_t i;
    json_t *dev;

    json_array_foreach(devices, i, dev) {
      if (g_strcmp0(json_string_value(json_object_get(dev, "type")), "14e4:1639:0200") == 0)
        bcm++;
      if (json_integer_value(json_object_get(dev, "numa_node")) == 2)
        node2++;
      g_assert_true(json_is_null(json_object_get(dev, "vm")));
    }
    g_assert_cmpuint(bcm, ==, 4);
    g_assert_cmpuint(node2, >, 0);
  }

  /* The guide's table, one row per device, on node-b (the I350 with VFs). */
  cli(f, (const char *const[]){ "host", "show", "node-b", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "PCI DEVICES\n\n   VM ADDR    TYPE           NAME\n"));
  g_assert_cmpuint(pp_test_count(run.out, "8086:1520:0200"), ==, 8);
  pp_test_run_clear(&run);

  list = cli_json(f, (const char *const[]){ "host", "list", NULL });
  g_assert_cmpuint(json_array_size(json_object_get(list, "hosts")), ==, 3);

  /* A restart keeps the hosts and their inventories. */
  daemon_stop(f);
  daemon_start(f, (const char *const[]){ "--monitor-interval", "3600", NULL });
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autoptr(json_t) host = host_show(f, names[i]);

    g_assert_cmpuint(json_array_size(json_object_get(host, "pci_devices")), ==,
                     probe_count(f, f->trees[i]));
  }
  daemon_stop(f);
}

/* A probe that fails puts its host in error with the probe's own words; a
 * hung probe is killed at the timeout; both recover when fixed. */
static void
test_probe_failures(Fixture *f, gconstpointer data)
{
  g_autofree char *conf = g_build_filename(f->dir, "bad-pci.conf", NULL);
  g_autofree char *bad = NULL;
  g_autofree char *sleep_path = g_find_program_in_path("sleep");
  g_autofree char *hang = g_strdup_printf("%s 60", sleep_path);
  g_autoptr(json_t) broken = NULL;
  g_autoptr(json_t) hung = NULL;
  g_auto(Reply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  const char *message;

  pp_test_write_file(conf, ":filter: '1af4'\n");
  bad = g_strdup_printf("%s --sysfs-root '%s' --config '%s'", f->probe, f->trees[0], conf);
  daemon_start(f, NULL);
  cli(f, (const char *const[]){ "host", "create", "broken", "--probe-command", bad, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  cli(f,
      (const char *const[]){ "host", "create", "hung", "--probe-command",
                             hang, NULL },
      &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);

  broken = wait_state(f, "broken", "error", 0);
  message = json_string_value(json_object_get(broken, "error"));
  g_assert_nonnull(message);
  /* The probe's own message: the file and the bad pattern. */
  g_assert_nonnull(strstr(message, conf));
  g_assert_nonnull(strstr(message, "1af4"));
  g_assert_cmpuint(json_array_size(json_object_get(broken, "pci_devices")), ==, 0);

  hung = wait_state(f, "hung", "error", 0);
  g_assert_nonnull(strstr(json_string_value(json_object_get(hung, "error")), "killed after 2 s"));

  /* host show prints the error. */
  cli(f, (const char *const[]){ "host", "show", "hung", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "killed after 2 s"));
  pp_test_run_clear(&run);

  /* Fixed: the next pass monitors it. */
  pp_test_write_file(conf, ":filter: '*:*'\n");
  {
    g_autoptr(json_t) fixed = wait_state(f, "broken", "monitored", 0);

    g_assert_true(json_is_null(json_object_get(fixed, "error")));
    g_assert_cmpuint(json_array_size(json_object_get(fixed, "pci_devices")), ==,
                     probe_count(f, f->trees[0]));
  }

  /* Disabled: not probed, state disabled; enabled: probed again. */
  cli(f, (const char *const[]){ "host", "disable", "hung", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  {
    g_autoptr(json_t) host = host_show(f, "hung");

    g_assert_cmpstr(host_state(host), ==, "disabled");
  }

  /* /metrics counts the timeouts and the hosts by state. */
  http(f, f->socket, NULL, "GET", "/metrics", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_nonnull(strstr(reply.body->str, "pcipass_hosts{state=\"disabled\"} 1\n"));
  g_assert_nonnull(strstr(reply.body->str, "pcipass_probes_total{result=\"timeout\"} "));
  g_assert_null(strstr(reply.body->str, "pcipass_probes_total{result=\"timeout\"} 0\n"));
  daemon_stop(f);
}

/* Devices that disappear: free ones are removed, held ones kept and
 * flagged; a host whose device a VM holds cannot be deleted. */
static void
test_held_devices(Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  g_autoptr(json_t) host = NULL;
  g_auto(Reply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  sqlite3 *sql = NULL;
  char *sql_error = NULL;
  const char *held = NULL, *freed = NULL;
  json_t *dev;
  size_t i;

  daemon_start(f, NULL);
  add_tree_host(f, "node-a", f->trees[0]);
  host = wait_state(f, "node-a", "monitored", 0);
  json_array_foreach(json_object_get(host, "pci_devices"), i, dev) {
    const char *type = json_string_value(json_object_get(dev, "type"));

    if (g_strcmp0(type, "14e4:1639:0200") == 0 && held == NULL)
      held = json_string_value(json_object_get(dev, "address"));
    else if (g_strcmp0(type, "14e4:1639:0200") == 0 && freed == NULL)
      freed = json_string_value(json_object_get(dev, "address"));
  }
  g_assert_nonnull(held);
  g_assert_nonnull(freed);
  daemon_stop(f);

  /* What the scheduler of the next issue will do: VM 7 holds one NIC. */
  g_assert_cmpint(sqlite3_open(db, &sql), ==, SQLITE_OK);
  {
    g_autofree char *stmt = g_strdup_printf(
        "INSERT INTO vms (id, name, state, created) VALUES (7, 'vm7', 'running', 0);"
        "UPDATE pci_device SET vm_id = 7 WHERE address = '%s';",
        held);

    g_assert_cmpint(sqlite3_exec(sql, stmt, NULL, NULL, &sql_error), ==, SQLITE_OK);
  }
  sqlite3_close(sql);

  /* Both NICs vanish from the machine. */
  for (guint k = 0; k < 2; k++) {
    g_autofree char *path =
        g_build_filename(f->trees[0], "bus", "pci", "devices", k ? freed : held, NULL);

    g_assert_cmpint(unlink(path), ==, 0);
  }
  daemon_start(f, NULL);
  {
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_autoptr(json_t) after = wait_state(f, "node-a", "monitored", now);
    gboolean saw_held = FALSE;

    json_array_foreach(json_object_get(after, "pci_devices"), i, dev) {
      const char *address = json_string_value(json_object_get(dev, "address"));

      g_assert_cmpstr(address, !=, freed);
      if (g_strcmp0(address, held) == 0) {
        saw_held = TRUE;
        g_assert_true(json_is_true(json_object_get(dev, "gone")));
        g_assert_cmpint(json_integer_value(json_object_get(dev, "vm")), ==, 7);
      }
    }
    g_assert_true(saw_held);
  }

  /* The table shows the VM's id on the held device. */
  cli(f, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\n    7 "));
  pp_test_run_clear(&run);

  /* Delete is refused, naming the VM, and nothing is deleted. */
  http(f, f->socket, NULL, "DELETE", "/v1/hosts/node-a", NULL, 0, &reply);
  g_assert_nonnull(strstr(error_message(&reply, 409), "7"));
  reply_clear(&reply);
  cli(f, (const char *const[]){ "host", "delete", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, !=, 0);
  g_assert_nonnull(strstr(run.err, "7"));
  pp_test_run_clear(&run);
  {
    g_autoptr(json_t) still = host_show(f, "node-a");

    g_assert_cmpint(json_integer_value(json_object_get(still, "pci_total")), ==,
                    probe_count(f, f->trees[0]) + 1);
  }
  daemon_stop(f);
}

/* Users and tokens; TCP needs a token; a non-admin cannot manage hosts. */
static void
test_auth(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) token = NULL;
  g_autoptr(json_t) hosts_before = NULL;
  g_auto(Reply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *log = NULL;
  const char *secret;

  daemon_start(f, NULL);
  add_tree_host(f, "node-a", f->trees[0]);

  /* No token over TCP: 401, on every path, and nothing is learnt. */
  http(f, NULL, NULL, "GET", "/v1/hosts", NULL, 0, &reply);
  g_assert_nonnull(strstr(error_message(&reply, 401), "Bearer"));
  reply_clear(&reply);
  http(f, NULL, NULL, "GET", "/v1/nothing-here", NULL, 0, &reply);
  error_message(&reply, 401);
  reply_clear(&reply);
  http(f, NULL, "pp_0000", "GET", "/v1/hosts", NULL, 0, &reply);
  g_assert_nonnull(strstr(error_message(&reply, 401), "not known"));
  reply_clear(&reply);
  http(f, NULL, NULL, "GET", "/metrics", NULL, 0, &reply);
  error_message(&reply, 401);
  reply_clear(&reply);

  /* root on the socket is the admin. */
  http(f, f->socket, NULL, "GET", "/v1/whoami", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_true(json_is_true(json_object_get(reply.json, "admin")));
  reply_clear(&reply);

  cli(f, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  token = cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", "--name",
                                             "laptop", NULL });
  secret = json_string_value(json_object_get(token, "token"));
  g_assert_nonnull(secret);
  g_assert_true(g_str_has_prefix(secret, "pp_"));

  /* alice reads, but does not manage hosts. */
  http(f, NULL, secret, "GET", "/v1/whoami", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_cmpstr(json_string_value(json_object_get(reply.json, "name")), ==, "alice");
  reply_clear(&reply);
  http(f, NULL, secret, "GET", "/v1/hosts", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  hosts_before = json_incref(reply.json);
  reply_clear(&reply);
  http(f, NULL, secret, "POST", "/v1/hosts", "{\"name\": \"x\"}", 13, &reply);
  g_assert_nonnull(strstr(error_message(&reply, 403), "admin"));
  reply_clear(&reply);
  http(f, NULL, secret, "DELETE", "/v1/hosts/node-a", NULL, 0, &reply);
  error_message(&reply, 403);
  reply_clear(&reply);
  http(f, NULL, secret, "POST", "/v1/hosts/node-a/disable", NULL, 0, &reply);
  error_message(&reply, 403);
  reply_clear(&reply);
  http(f, NULL, secret, "POST", "/v1/users", "{\"name\": \"mallory\", \"admin\": true}", 34,
       &reply);
  error_message(&reply, 403);
  reply_clear(&reply);
  http(f, NULL, secret, "POST", "/v1/tokens", "{\"user\": \"root\"}", 16, &reply);
  error_message(&reply, 403);
  reply_clear(&reply);
  /* Nothing changed. */
  http(f, NULL, secret, "GET", "/v1/hosts", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "hosts")), ==,
                   json_array_size(json_object_get(hosts_before, "hosts")));
  g_assert_cmpstr(json_string_value(json_object_get(
                      json_array_get(json_object_get(reply.json, "hosts"), 0), "state")),
                  !=, "disabled");
  reply_clear(&reply);

  /* alice's own token list shows hers only, without the secret. */
  http(f, NULL, secret, "GET", "/v1/tokens", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_null(strstr(reply.body->str, secret));
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "tokens")), ==, 1);
  reply_clear(&reply);

  /* The CLI over TCP with the token. */
  {
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", f->port);

    g_setenv("PCIPASS_TOKEN", secret, TRUE);
    cli(f, (const char *const[]){ "host", "list", "--url", url, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "node-a"));
    pp_test_run_clear(&run);
    cli(f, (const char *const[]){ "host", "delete", "node-a", "--url", url, NULL }, &run);
    g_assert_cmpint(run.status, !=, 0);
    g_assert_nonnull(strstr(run.err, "admin"));
    pp_test_run_clear(&run);
    g_setenv("PCIPASS_TOKEN", "pp_wrong", TRUE);
    cli(f, (const char *const[]){ "host", "list", "--url", url, NULL }, &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_nonnull(strstr(run.err, "refused"));
    g_assert_null(strstr(run.err, "pp_wrong"));
    pp_test_run_clear(&run);
    g_unsetenv("PCIPASS_TOKEN");
  }

  /* The secret is never logged. */
  daemon_stop(f);
  log = read_log(f);
  g_assert_null(strstr(log, secret));
}

/* Bad input on every endpoint: the status, the message, and nothing
 * changed. */
static void
test_bad_input(Fixture *f, gconstpointer data)
{
  static const struct {
    const char *method;
    const char *path;
    const char *body;
    long status;
    const char *message;
  } cases[] = {
    { "POST", "/v1/hosts", "{\"name\": ", 400, "not JSON" },
    { "POST", "/v1/hosts", "[1, 2]", 400, "JSON object" },
    { "POST", "/v1/hosts", "{\"name\": 5}", 400, "'name' must be a string" },
    { "POST", "/v1/hosts", "{}", 400, "'name' is required" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"colour\": \"red\"}", 400, "unknown field 'colour'" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"name\": \"b\"}", 400, "duplicate" },
    { "POST", "/v1/hosts", "{\"name\": \"-a\"}", 400, "-a" },
    { "POST", "/v1/hosts", "{\"name\": \"a b\"}", 400, "a b" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"ssh\": \"root@-oProxyCommand=x\"}", 400, "ssh" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"ssh\": \"root@h:99999\"}", 400, "99999" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"probe_command\": []}", 400, "probe_command" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"probe_command\": [1]}", 400, "probe_command" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"probe_command\": \"x 'y\"}", 400,
      "probe_command" },
    { "POST", "/v1/hosts", "{\"name\": \"a\", \"libvirt_uri\": \"not a uri\"}", 400,
      "libvirt URI" },
    { "POST", "/v1/hosts", "{\"name\": \"node-a\"}", 409, "node-a" },
    { "GET", "/v1/hosts/nosuch", NULL, 404, "nosuch" },
    { "GET", "/v1/hosts/999", NULL, 404, "999" },
    { "DELETE", "/v1/hosts/999", NULL, 404, "999" },
    { "POST", "/v1/hosts/999/enable", NULL, 404, "999" },
    { "POST", "/v1/hosts/node-a/enable", "{\"x\": 1}", 400, "no body" },
    { "PUT", "/v1/hosts", NULL, 405, "PUT" },
    { "GET", "/v1/nothing", NULL, 404, "no such" },
    { "POST", "/v1/users", "{\"name\": \"bob\", \"admin\": \"yes\"}", 400, "true or false" },
    { "POST", "/v1/tokens", "{\"user\": \"nobody\"}", 404, "nobody" },
  };
  g_autoptr(json_t) before = NULL;
  g_autoptr(json_t) after = NULL;
  g_autofree char *big = NULL;
  g_auto(Reply) reply = { 0 };
  const gsize big_len = 1024 * 1024 + 1;

  daemon_start(f, NULL);
  add_tree_host(f, "node-a", f->trees[0]);
  json_decref(wait_state(f, "node-a", "monitored", 0));
  before = cli_json(f, (const char *const[]){ "host", "list", NULL });

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *message;

    g_test_message("%s %s %s", cases[i].method, cases[i].path,
                   cases[i].body ? cases[i].body : "");
    http(f, f->socket, NULL, cases[i].method, cases[i].path, cases[i].body,
         cases[i].body ? strlen(cases[i].body) : 0, &reply);
    message = error_message(&reply, cases[i].status);
    if (strstr(message, cases[i].message) == NULL)
      g_test_message("message: %s", message);
    g_assert_nonnull(strstr(message, cases[i].message));
    reply_clear(&reply);
  }

  /* A body over 1 MiB is 413. */
  big = g_malloc(big_len);
  memset(big, ' ', big_len);
  http(f, f->socket, NULL, "POST", "/v1/hosts", big, big_len, &reply);
  g_assert_nonnull(strstr(error_message(&reply, 413), "larger"));
  reply_clear(&reply);

  /* Nothing changed: the same hosts, no user bob. */
  after = cli_json(f, (const char *const[]){ "host", "list", NULL });
  g_assert_cmpuint(json_array_size(json_object_get(after, "hosts")), ==,
                   json_array_size(json_object_get(before, "hosts")));
  http(f, f->socket, NULL, "GET", "/v1/users", NULL, 0, &reply);
  g_assert_null(strstr(reply.body->str, "\"bob\""));
  reply_clear(&reply);
  daemon_stop(f);
}

/* pcipassd's own options and config file. */
static void
test_daemon_usage(Fixture *f, gconstpointer data)
{
  g_autofree char *conf = g_build_filename(f->dir, "pcipassd.conf", NULL);
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ f->daemon, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "--monitor-interval"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ f->daemon, "--probe-timeout", "0", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "probe-timeout: '0' is not a number from 1 to 3600"));
  pp_test_run_clear(&run);

  pp_test_write_file(conf, "# a comment\n[pcipassd]\nprobe-timeout = 7\nlisten = [::1]:9\n");
  pp_test_run((const char *const[]){ f->daemon, "--config", conf, "--print-config",
                                     "--monitor-interval", "5", NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "probe-timeout = 7\n"));
  g_assert_nonnull(strstr(run.out, "monitor-interval = 5\n"));
  g_assert_nonnull(strstr(run.out, "listen = [::1]:9\n"));
  g_assert_nonnull(strstr(run.out, "database = /var/lib/pcipass/pcipass.db\n"));
  pp_test_run_clear(&run);

  pp_test_write_file(conf, "probe-timeout = 7\nfrobnicate = 1\n");
  pp_test_run((const char *const[]){ f->daemon, "--config", conf, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "line 2: unknown key 'frobnicate'"));
  g_assert_nonnull(strstr(run.err, conf));
  pp_test_run_clear(&run);

  /* A second daemon on a live socket refuses to start; the first goes on. */
  daemon_start(f, NULL);
  pp_test_run((const char *const[]){ f->daemon, "--state-dir", f->state, "--socket", f->socket,
                                     NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, f->socket));
  pp_test_run_clear(&run);
  cli(f, (const char *const[]){ "host", "list", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  daemon_stop(f);

  /* No daemon: the CLI says so. */
  cli(f, (const char *const[]){ "host", "list", NULL }, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "pcipassd"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/daemon/monitor-hosts", Fixture, NULL, fixture_set_up, test_monitor_hosts,
             fixture_tear_down);
  g_test_add("/daemon/probe-failures", Fixture, NULL, fixture_set_up, test_probe_failures,
             fixture_tear_down);
  g_test_add("/daemon/held-devices", Fixture, NULL, fixture_set_up, test_held_devices,
             fixture_tear_down);
  g_test_add("/daemon/auth", Fixture, NULL, fixture_set_up, test_auth, fixture_tear_down);
  g_test_add("/daemon/bad-input", Fixture, NULL, fixture_set_up, test_bad_input,
             fixture_tear_down);
  g_test_add("/daemon/usage", Fixture, NULL, fixture_set_up, test_daemon_usage,
             fixture_tear_down);
  return g_test_run();
}
