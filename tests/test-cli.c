/* pcipass, the real binary: `template check`, the command dispatch, and
 * the daemon commands without a daemon: their errors, and their requests
 * and output against a fake server that answers one request as told. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gio/gio.h>
#include <jansson.h>

#include "pp-test-util.h"

static char *cli;

static void
run_cli(const char *const *args, const char *input, PpTestRun *run)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();

  g_ptr_array_add(argv, cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (char *)args[i]);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, input, run);
}

static void
test_check_file(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "vm.tmpl", NULL);
  PpTestRun run = { 0 };

  pp_test_write_file(path, "name = gpu-vm # the name\n"
                           "cpu=2 memory = 4096\n"
                           "pci = [ vendor = \"10de\", Device=11bf ]\n"
                           "PCI = [ CLASS = \"0200\" ]\n");
  run_cli((const char *const[]){ "template", "check", path, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "NAME = \"gpu-vm\"\n"
                  "CPU = \"2\"\n"
                  "MEMORY = \"4096\"\n"
                  "PCI = [\n"
                  "  VENDOR = \"10de\",\n"
                  "  DEVICE = \"11bf\" ]\n"
                  "PCI = [\n"
                  "  CLASS = \"0200\" ]\n");
  pp_test_run_clear(&run);

  /* The normalized text checks to itself. */
  {
    g_autofree char *again = NULL;

    run_cli((const char *const[]){ "template", "check", path, NULL }, NULL, &run);
    again = g_strdup(run.out);
    pp_test_run_clear(&run);
    run_cli((const char *const[]){ "template", "check", "-", NULL }, again, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.out, ==, again);
    pp_test_run_clear(&run);
  }
  pp_test_rmtree(dir);
}

/* The NICs of issue 12 as a user writes them: the guide's PCI NIC, a NIC on
 * a network, in their order (the order is their NIC ids). */
static void
test_check_nics(void)
{
  PpTestRun run = { 0 };

  run_cli((const char *const[]){ "template", "check", "-", NULL },
          "MEMORY = 1024\n"
          "PCI = [\n"
          "  NETWORK = \"passthrough\",\n"
          "  NETWORK_UNAME = \"oneadmin\",\n"
          "  TYPE = \"NIC\",\n"
          "  CLASS = \"0200\",\n"
          "  DEVICE = \"10d3\",\n"
          "  VENDOR = \"8086\" ]\n"
          "nic = [ network_id = 4, ip = 10.0.0.5, mac = 02:00:0a:00:00:05, model = e1000e ]\n"
          "PCI = [ TYPE = NIC, NETWORK = vfs, VLAN_ID = 100, PF_POLICY = spread, "
          "SHORT_ADDRESS = 3b:10.1 ]\n",
          &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "MEMORY = \"1024\"\n"
                  "PCI = [\n"
                  "  NETWORK = \"passthrough\",\n"
                  "  NETWORK_UNAME = \"oneadmin\",\n"
                  "  TYPE = \"NIC\",\n"
                  "  CLASS = \"0200\",\n"
                  "  DEVICE = \"10d3\",\n"
                  "  VENDOR = \"8086\" ]\n"
                  "NIC = [\n"
                  "  NETWORK_ID = \"4\",\n"
                  "  IP = \"10.0.0.5\",\n"
                  "  MAC = \"02:00:0a:00:00:05\",\n"
                  "  MODEL = \"e1000e\" ]\n"
                  "PCI = [\n"
                  "  TYPE = \"NIC\",\n"
                  "  NETWORK = \"vfs\",\n"
                  "  VLAN_ID = \"100\",\n"
                  "  PF_POLICY = \"spread\",\n"
                  "  SHORT_ADDRESS = \"3b:10.1\" ]\n");
  pp_test_run_clear(&run);
}

static void
test_check_json(void)
{
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root;
  g_autofree char *dumped = NULL;

  run_cli((const char *const[]){ "template", "check", "--json", "-", NULL },
          "CPU = 1\npci = [ vendor = \"10de\", Device=11bf ]\nN = [ ]\n", &run);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  dumped = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
  g_assert_cmpstr(dumped, ==,
                  "[{\"name\":\"CPU\",\"value\":\"1\"},"
                  "{\"name\":\"PCI\",\"value\":{\"VENDOR\":\"10de\",\"DEVICE\":\"11bf\"}},"
                  "{\"name\":\"N\",\"value\":{}}]");
  json_decref(root);
  pp_test_run_clear(&run);
}

static void
test_check_errors(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "bad.tmpl", NULL);
  g_autofree char *missing = g_build_filename(dir, "missing.tmpl", NULL);
  g_autofree char *want = NULL;
  PpTestRun run = { 0 };

  pp_test_write_file(path, "CPU = 1\nA = foo bar\n");
  run_cli((const char *const[]){ "template", "check", path, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  want = g_strdup_printf("pcipass: %s:2:9: 'bar' follows the value of A", path);
  g_assert_true(g_str_has_prefix(run.err, want));
  pp_test_run_clear(&run);

  /* With --json too: the error on stderr, nothing on stdout. */
  run_cli((const char *const[]){ "template", "check", "--json", "-", NULL }, "N = [ A = 1, ]",
          &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "pcipass: <stdin>:1:14: expected a key name"));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "check", missing, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_nonnull(strstr(run.err, missing));
  g_assert_nonnull(strstr(run.err, "No such file or directory"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "check", dir, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "it is a folder"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "check", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "takes one FILE"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "check", "--bogus", "x", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--bogus"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

static void
test_check_too_large(void)
{
  /* 4 MiB + 1 of comment through stdin: refused, with the limit. */
  gsize len = 4 * 1024 * 1024 + 1;
  g_autofree char *big = g_malloc(len + 1);
  PpTestRun run = { 0 };

  memset(big, '#', len);
  big[len] = '\0';
  run_cli((const char *const[]){ "template", "check", "-", NULL }, big, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "larger than the limit of 4194304 bytes"));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
}

static void
test_dispatch(void)
{
  PpTestRun run = { 0 };

  run_cli((const char *const[]){ "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "template check FILE|-"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "check", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "--json"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "--version", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "pcipass "));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "frobnicate", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "unknown command 'frobnicate'"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ "template", "lint", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "unknown command 'template lint'"));
  pp_test_run_clear(&run);

  run_cli((const char *const[]){ NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "Usage: pcipass"));
  pp_test_run_clear(&run);
}

/* Runs the CLI with @set ("NAME=VALUE" strings, NULL-terminated;
 * nullable) added to the environment and @unset (nullable) removed. */
static void
run_cli_env(const char *const *args, const char *const *set, const char *const *unset,
            PpTestRun *run)
{
  g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  for (guint i = 0; set != NULL && set[i] != NULL; i++) {
    g_auto(GStrv) pair = g_strsplit(set[i], "=", 2);

    g_subprocess_launcher_setenv(launcher, pair[0], pair[1], TRUE);
  }
  for (guint i = 0; unset != NULL && unset[i] != NULL; i++)
    g_subprocess_launcher_unsetenv(launcher, unset[i]);
  g_ptr_array_add(argv, cli);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (char *)args[i]);
  g_ptr_array_add(argv, NULL);
  proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error(error);
  g_subprocess_communicate_utf8(proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error(error);
  run->out = g_strdup(out != NULL ? out : "");
  run->err = g_strdup(err != NULL ? err : "");
  run->status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc)
                                                 : 128 + g_subprocess_get_term_sig(proc);
}

/* A server that answers requests, one per connection, with the statuses
 * and answers it was given, in order, and keeps what it was asked. */
typedef struct {
  int fd;
  guint n;         /* how many requests it answers */
  guint *statuses; /* n */
  char **answers;  /* n */
  char **requests; /* n: each request line, headers and body, as they came */
  GThread *thread;
} FakeServer;

static void
fake_server_answer(FakeServer *server, guint k)
{
  g_autoptr(GString) in = g_string_new(NULL);
  g_autofree char *reply = NULL;
  gsize want = 0;
  char buf[4096];
  int conn = accept(server->fd, NULL, NULL);

  g_assert_cmpint(conn, >=, 0);
  for (;;) {
    ssize_t n;
    const char *end = strstr(in->str, "\r\n\r\n");

    if (end != NULL && want == 0) {
      g_autofree char *lower = g_ascii_strdown(in->str, end - in->str);
      const char *length = strstr(lower, "\r\ncontent-length:");

      want =
          (gsize)(end + 4 - in->str) +
          (length != NULL ? g_ascii_strtoull(length + strlen("\r\ncontent-length:"), NULL, 10) : 0);
    }
    if (want != 0 && in->len >= want)
      break;
    n = read(conn, buf, sizeof(buf));
    if (n <= 0)
      break;
    g_string_append_len(in, buf, n);
    g_assert_cmpuint(in->len, <, 1024 * 1024);
  }
  server->requests[k] = g_strdup(in->str);
  reply = g_strdup_printf("HTTP/1.1 %u Fake\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          server->statuses[k], strlen(server->answers[k]), server->answers[k]);
  g_assert_cmpint(write(conn, reply, strlen(reply)), ==, (gssize)strlen(reply));
  close(conn);
}

static gpointer
fake_server_run(gpointer data)
{
  FakeServer *server = data;

  for (guint k = 0; k < server->n; k++)
    fake_server_answer(server, k);
  return NULL;
}

/* Listens on the Unix socket @path, or on 127.0.0.1 (its port in
 * @ret_port) when @path is NULL, to answer @n requests. */
static FakeServer *
fake_server_new_n(const char *path, guint n, const guint *statuses, const char *const *answers,
                  guint *ret_port)
{
  FakeServer *server = g_new0(FakeServer, 1);

  server->n = n;
  server->statuses = g_memdup2(statuses, n * sizeof(guint));
  server->answers = g_new0(char *, n + 1);
  server->requests = g_new0(char *, n + 1);
  for (guint k = 0; k < n; k++)
    server->answers[k] = g_strdup(answers[k]);
  if (path != NULL) {
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    server->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(server->fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
  } else {
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(addr);

    server->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(bind(server->fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(getsockname(server->fd, (struct sockaddr *)&addr, &len), ==, 0);
    *ret_port = ntohs(addr.sin_port);
  }
  g_assert_cmpint(listen(server->fd, 4), ==, 0);
  server->thread = g_thread_new("fake-server", fake_server_run, server);
  return server;
}

/* Answers one request. */
static FakeServer *
fake_server_new(const char *path, guint status, const char *answer, guint *ret_port)
{
  return fake_server_new_n(path, 1, &status, &answer, ret_port);
}

/* Waits for the requests; returns the first (transfer none). */
static const char *
fake_server_join(FakeServer *server)
{
  g_thread_join(g_steal_pointer(&server->thread));
  return server->requests[0];
}

static void
fake_server_free(FakeServer *server)
{
  g_assert_null(server->thread);
  close(server->fd);
  g_free(server->statuses);
  g_strfreev(server->answers);
  g_strfreev(server->requests);
  g_free(server);
}

/* The body of a request: after the blank line. */
static const char *
request_body(const char *request)
{
  const char *end = strstr(request, "\r\n\r\n");

  g_assert_nonnull(end);
  return end + 4;
}

static const char *const daemon_commands[][2] = {
  { "host", "create" },  { "host", "list" },    { "host", "show" },    { "host", "enable" },
  { "host", "disable" }, { "host", "delete" },  { "host", "probe" },   { "user", "create" },
  { "user", "list" },    { "token", "create" }, { "token", "list" },   { "vm", "create" },
  { "vm", "list" },      { "vm", "show" },      { "vm", "terminate" }, { "vm", "poweroff" },
  { "vm", "resume" },    { "vm", "place" },     { "net", "create" },   { "net", "list" },
  { "net", "show" },     { "net", "update" },   { "net", "delete" },   { "net", "hold" },
  { "net", "release" },
};

static void
test_daemon_help(void)
{
  PpTestRun run = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS(daemon_commands); i++) {
    g_autofree char *usage =
        g_strdup_printf("pcipass %s %s [OPTION", daemon_commands[i][0], daemon_commands[i][1]);

    run_cli((const char *const[]){ daemon_commands[i][0], daemon_commands[i][1], "--help", NULL },
            NULL, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, usage));
    g_assert_nonnull(strstr(run.out, "--json"));
    g_assert_nonnull(strstr(run.out, "--socket=PATH"));
    g_assert_nonnull(strstr(run.out, "--url=URL"));
    g_assert_nonnull(strstr(run.out, "--token-file=FILE"));
    pp_test_run_clear(&run);
  }
  run_cli((const char *const[]){ "host", "show", "--help", NULL }, NULL, &run);
  g_assert_nonnull(strstr(run.out, "--pci-columns"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "host", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "host show ID|NAME"));
  g_assert_null(strstr(run.out, "template check"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "vm", "list", "--help", NULL }, NULL, &run);
  g_assert_nonnull(strstr(run.out, "--all"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "vm", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "vm create FILE|-"));
  g_assert_nonnull(strstr(run.out, "vm place FILE|-"));
  g_assert_nonnull(strstr(run.out, "vm terminate ID"));
  g_assert_null(strstr(run.out, "host show"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "net create FILE|-"));
  g_assert_nonnull(strstr(run.out, "net update ID|NAME FILE|-"));
  g_assert_nonnull(strstr(run.out, "net hold ID|NAME ADDRESS"));
  g_assert_nonnull(strstr(run.out, "net release ID|NAME ADDRESS"));
  g_assert_null(strstr(run.out, "vm show"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "net show ID|NAME"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "show", "--help", NULL }, NULL, &run);
  g_assert_nonnull(strstr(run.out, "--uname=USER"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "list", "--help", NULL }, NULL, &run);
  g_assert_nonnull(strstr(run.out, "--limit=N"));
  pp_test_run_clear(&run);
}

/* Bad usage: exit 2, a message, nothing on stdout, no daemon asked. */
static void
test_daemon_usage(void)
{
  static const struct {
    const char *args[8];
    const char *message;
  } cases[] = {
    { { "host", "create", NULL }, "pcipass: host create takes one NAME (try --help)\n" },
    { { "host", "show", NULL }, "pcipass: host show takes one ID or NAME (try --help)\n" },
    { { "host", "delete", "a", "b", NULL }, "pcipass: host delete takes one ID or NAME" },
    { { "host", "list", "extra", NULL }, "pcipass: host list takes no arguments" },
    { { "host", "enable", "", NULL }, "an empty argument: host enable takes one ID or NAME" },
    { { "host", "list", "--bogus", NULL }, "Unknown option --bogus" },
    { { "token", "create", "--user", NULL }, "Missing argument for --user" },
    { { "host", "list", "--socket", "/x", "--url", "http://h", NULL },
      "--socket and --url exclude each other" },
    { { "host", "list", "--socket", "/x", "--token-file", "/t", NULL },
      "--token-file is for --url" },
    { { "host", "list", "--url", "ftp://h", NULL }, "'ftp://h' is not a base URL" },
    { { "user", "create", "bob", "--admin", "--socket", "", NULL }, "the socket path is empty" },
    { { "host", "frob", NULL }, "unknown command 'host frob'" },
    { { "vm", "create", NULL },
      "pcipass: vm create takes one FILE, or - for standard input (try --help)\n" },
    { { "vm", "place", "a", "b", NULL }, "vm place takes one FILE, or - for standard input" },
    { { "vm", "show", NULL }, "pcipass: vm show takes one ID or NAME (try --help)\n" },
    { { "vm", "terminate", "a", "b", NULL }, "vm terminate takes one ID or NAME" },
    { { "vm", "poweroff", "", NULL }, "an empty argument: vm poweroff takes one ID or NAME" },
    { { "vm", "resume", "-5", NULL }, "Unknown option -5" },
    { { "vm", "list", "extra", NULL }, "vm list takes no arguments" },
    { { "vm", "frob", NULL }, "unknown command 'vm frob'" },
    { { "net", "create", NULL },
      "pcipass: net create takes one FILE, or - for standard input (try --help)\n" },
    { { "net", "show", NULL }, "pcipass: net show takes one ID or NAME (try --help)\n" },
    { { "net", "show", "lab", "--uname", "", NULL },
      "pcipass: --uname is empty: give a user's name (try --help)\n" },
    { { "net", "show", "lab", "--uname", NULL }, "Missing argument for --uname" },
    { { "net", "list", "extra", NULL }, "net list takes no arguments" },
    { { "net", "list", "--limit", "0", NULL }, "pcipass: --limit 0: give 1 or more networks\n" },
    { { "net", "list", "--limit", "many", NULL }, "Cannot parse integer value" },
    { { "net", "update", "lab", NULL },
      "pcipass: net update takes one ID or NAME and one FILE (or - for standard input) (try "
      "--help)\n" },
    { { "net", "update", "lab", "-", "--shared", "--private", NULL },
      "pcipass: --shared and --private exclude each other (try --help)\n" },
    { { "net", "delete", "a", "b", NULL }, "net delete takes one ID or NAME" },
    { { "net", "delete", "", NULL }, "an empty argument: net delete takes one ID or NAME" },
    { { "net", "hold", "lab", NULL },
      "pcipass: net hold takes one ID or NAME and one ADDRESS (an IP or a MAC) (try --help)\n" },
    { { "net", "release", "lab", "10.0.0.5", "x", NULL },
      "net release takes one ID or NAME and one ADDRESS" },
    { { "net", "hold", "lab", "10.0.0.256", NULL },
      "pcipass: '10.0.0.256' is not an address: give an IPv4 address (as 10.0.0.5), an IPv6 "
      "address or a MAC (as 02:00:0a:00:00:05)\n" },
    { { "net", "hold", "lab", "02:00:0a:00:00", NULL }, "'02:00:0a:00:00' is not an address" },
    { { "net", "release", "lab", "02-00-0a-00-00-05", NULL },
      "'02-00-0a-00-00-05' is not an address" },
    { { "net", "hold", "lab", "10.0.0.5/24", NULL }, "'10.0.0.5/24' is not an address" },
    { { "net", "frob", NULL }, "unknown command 'net frob'" },
  };
  PpTestRun run = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    run_cli(cases[i].args, NULL, &run);
    if (strstr(run.err, cases[i].message) == NULL)
      g_error("case %u: '%s' not in '%s'", i, cases[i].message, run.err);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_cmpstr(run.out, ==, "");
    pp_test_run_clear(&run);
  }
}

static void
test_daemon_unreachable(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *missing = g_build_filename(dir, "none.sock", NULL);
  g_autofree char *dead = g_build_filename(dir, "dead.sock", NULL);
  g_autofree char *want = NULL;
  PpTestRun run = { 0 };

  run_cli((const char *const[]){ "host", "list", "--socket", missing, NULL }, NULL, &run);
  want = g_strdup_printf("pcipass: cannot reach pcipassd at '%s': no such socket (is pcipassd "
                         "running? see systemctl status pcipassd)\n",
                         missing);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==, want);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);

  /* PCIPASS_SOCKET instead of --socket; --json changes nothing. */
  {
    g_autofree char *set = g_strconcat("PCIPASS_SOCKET=", missing, NULL);

    run_cli_env((const char *const[]){ "host", "show", "--json", "node1", NULL },
                (const char *const[]){ set, NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_cmpstr(run.err, ==, want);
    g_assert_cmpstr(run.out, ==, "");
    pp_test_run_clear(&run);
  }

  /* A socket file nobody listens on. */
  {
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(addr.sun_path, dead);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    close(fd);
  }
  g_free(want);
  want = g_strdup_printf("pcipass: cannot reach pcipassd at '%s': connection refused (pcipassd is "
                         "not running)\n",
                         dead);
  run_cli((const char *const[]){ "user", "create", "bob", "--socket", dead, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);

  /* A socket one may not open (root may open anything). */
  if (geteuid() != 0) {
    g_assert_cmpint(chmod(dead, 0), ==, 0);
    run_cli((const char *const[]){ "host", "list", "--socket", dead, NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_nonnull(strstr(run.err, "permission denied"));
    pp_test_run_clear(&run);
  }

  /* TCP: nothing listens on port 1. */
  {
    run_cli_env((const char *const[]){ "host", "list", "--url", "http://127.0.0.1:1", NULL },
                (const char *const[]){ "PCIPASS_TOKEN=s3cret-token", NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_cmpstr(run.err, ==,
                    "pcipass: cannot reach pcipassd at 'http://127.0.0.1:1': connection refused "
                    "(is pcipassd listening there?)\n");
    pp_test_run_clear(&run);
  }
  pp_test_rmtree(dir);
}

static void
test_daemon_token_file(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *token = g_build_filename(dir, "token", NULL);
  g_autofree char *config = g_strconcat("XDG_CONFIG_HOME=", dir, NULL);
  g_autofree char *want = NULL;
  PpTestRun run = { 0 };

  pp_test_write_file(token, "s3cret-token\n");
  g_assert_cmpint(chmod(token, 0644), ==, 0);
  run_cli((const char *const[]){ "host", "list", "--url", "http://127.0.0.1:1", "--token-file",
                                 token, NULL },
          NULL, &run);
  want = g_strdup_printf("pcipass: the token file '%s' is open to group or others (mode 0644): "
                         "chmod 600 '%s', and make a new token if others could read it\n",
                         token, token);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==, want);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);

  /* The default file, refused the same; 0640 too. */
  {
    g_autofree char *default_token = g_build_filename(dir, "pcipass", "token", NULL);

    pp_test_write_file(default_token, "s3cret-token\n");
    g_assert_cmpint(chmod(default_token, 0640), ==, 0);
    run_cli_env((const char *const[]){ "token", "list", NULL },
                (const char *const[]){ config, "PCIPASS_URL=http://127.0.0.1:1", NULL }, NULL,
                &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_nonnull(strstr(run.err, "(mode 0640): chmod 600"));
    g_assert_null(strstr(run.err, "s3cret"));
    pp_test_run_clear(&run);
    g_assert_cmpint(unlink(default_token), ==, 0);
  }

  /* No token anywhere. */
  run_cli_env((const char *const[]){ "host", "list", "--url", "http://127.0.0.1:1", NULL },
              (const char *const[]){ config, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "no token to call pcipassd over TCP: set PCIPASS_TOKEN"));
  pp_test_run_clear(&run);

  /* A token with a newline inside would make a second header. */
  g_assert_cmpint(chmod(token, 0600), ==, 0);
  pp_test_write_file(token, "abc\nX-Evil: 1\n");
  g_assert_cmpint(chmod(token, 0600), ==, 0);
  run_cli((const char *const[]){ "host", "list", "--url", "http://127.0.0.1:1", "--token-file",
                                 token, NULL },
          NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "holds no token"));
  g_assert_null(strstr(run.err, "Evil"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* The daemon options before the command, between its words and after it;
 * given on both sides, the later one wins. */
static void
test_daemon_options_before(void)
{
  static const char hosts[] = "{\"hosts\": [{\"id\": 1, \"name\": \"n1\", \"state\": "
                              "\"init\", \"pci_total\": 0, \"pci_free\": 0, "
                              "\"last_monitored\": null}]}";
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *none = g_build_filename(dir, "none.sock", NULL);
  g_autofree char *token = g_build_filename(dir, "token", NULL);
  g_autofree char *url = NULL;
  g_autofree char *want = NULL;
  FakeServer *server = NULL;
  PpTestRun run = { 0 };
  const char *request;
  guint port = 0;

  /* pcipass --socket S host list */
  server = fake_server_new(sock, 200, hosts, NULL);
  run_cli((const char *const[]){ "--socket", sock, "host", "list", NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/hosts?limit=500 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "ID NAME STATE PCI MONITORED\n"
                  " 1 n1   init  0/0 never\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* pcipass --json --socket=S host list: the JSON. */
  server = fake_server_new(sock, 200, hosts, NULL);
  {
    g_autofree char *joined = g_strconcat("--socket=", sock, NULL);

    run_cli((const char *const[]){ "--json", joined, "host", "list", NULL }, NULL, &run);
  }
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"hosts\": ["));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Between the two words of the command, with -j. */
  server = fake_server_new(sock, 200, hosts, NULL);
  run_cli((const char *const[]){ "host", "-j", "--socket", sock, "list", NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"hosts\": ["));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Before and after: the later one wins, either way round. */
  server = fake_server_new(sock, 200, hosts, NULL);
  run_cli((const char *const[]){ "--socket", none, "host", "list", "--socket", sock, NULL }, NULL,
          &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);
  run_cli((const char *const[]){ "--socket", sock, "host", "list", "--socket", none, NULL }, NULL,
          &run);
  want = g_strdup_printf("pcipass: cannot reach pcipassd at '%s': no such socket", none);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_true(g_str_has_prefix(run.err, want));
  pp_test_run_clear(&run);

  /* pcipass --url U --token-file F vm list, over TCP with the token. */
  pp_test_write_file(token, "s3cret-token-3\n");
  g_assert_cmpint(chmod(token, 0600), ==, 0);
  server = fake_server_new(NULL, 200, "{\"vms\": []}", &port);
  url = g_strdup_printf("http://127.0.0.1:%u", port);
  run_cli((const char *const[]){ "--url", url, "--token-file", token, "vm", "list", NULL }, NULL,
          &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/vms?limit=500 HTTP/1.1\r\n"));
  g_assert_nonnull(strstr(request, "\r\nAuthorization: Bearer s3cret-token-3\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID NAME OWNER STATE HOST CPU MEMORY PCI AGE\n");
  pp_test_run_clear(&run);
  fake_server_free(server);

  /* --help and --version keep working after the options. */
  run_cli((const char *const[]){ "--socket", sock, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "Usage: pcipass [DAEMON OPTION...] COMMAND"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "--json", "--version", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "pcipass "));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "--socket", sock, "host", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "host show ID|NAME"));
  g_assert_null(strstr(run.out, "vm create"));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "--socket", sock, "host", "show", "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "--pci-columns"));
  pp_test_run_clear(&run);

  /* --json also suits template check, which needs no daemon. */
  run_cli((const char *const[]){ "--json", "template", "check", "-", NULL }, "CPU = 1\n", &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "[\n  {\n    \"name\": \"CPU\",\n    \"value\": \"1\"\n  }\n]\n");
  pp_test_run_clear(&run);

  /* Usage errors: exit 2, nothing asked of a daemon. */
  {
    static const struct {
      const char *args[8];
      const char *message;
    } cases[] = {
      { { "--bogus", "host", "list", NULL },
        "pcipass: unknown option '--bogus' before the command (there pcipass takes only "
        "--json, --socket, --url, --token-file and --ca-file; try pcipass --help)\n" },
      { { "--socket", NULL }, "pcipass: --socket needs a value (try pcipass --help)\n" },
      { { "host", "--url", NULL }, "pcipass: --url needs a value (try pcipass --help)\n" },
      { { "--json=yes", "host", "list", NULL }, "unknown option '--json=yes'" },
      { { "--socket", "/x", "template", "check", "-", NULL },
        "pcipass: template check talks to no daemon: --socket is not for it\n" },
      { { "--socket", "/x", NULL }, "Usage: pcipass" },
      { { "--socket", "/x", "host", "frob", NULL }, "unknown command 'host frob'" },
      { { "--url", "ftp://h", "host", "list", NULL }, "'ftp://h' is not a base URL" },
      { { "--socket", "/x", "--url", "http://h", "host", "list", NULL },
        "--socket and --url exclude each other" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      run_cli(cases[i].args, NULL, &run);
      if (strstr(run.err, cases[i].message) == NULL)
        g_error("case %u: '%s' not in '%s'", i, cases[i].message, run.err);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_cmpstr(run.out, ==, "");
      pp_test_run_clear(&run);
    }
  }
  pp_test_rmtree(dir);
}

/* A HOST with two devices, the second held by VM 123. */
static const char fake_host[] =
    "{\"id\": 3, \"name\": \"node 1\", \"state\": \"monitored\", \"enabled\": true, "
    "\"error\": null, \"ssh\": {\"user\": \"root\", \"host\": \"node1\", \"port\": null}, "
    "\"libvirt_uri\": null, \"probe_command\": null, \"facts\": {\"hostname\": \"node1\", "
    "\"cpu_count\": 8, \"memory_kib\": 16303944, \"kernel_version\": \"6.1.0\"}, "
    "\"pci_total\": 2, \"pci_free\": 1, \"last_monitored\": null, \"created\": 1, "
    "\"pci_devices\": [{\"address\": \"0000:00:02.0\", \"short_address\": \"00:02.0\", "
    "\"type\": \"8086:0a16:0300\", \"device_name\": \"Haswell-ULT Integrated Graphics "
    "Controller\", \"vm\": null, \"gone\": false}, {\"address\": \"0000:00:03.0\", "
    "\"short_address\": \"00:03.0\", \"type\": \"8086:0a0c:0403\", \"device_name\": "
    "\"Haswell-ULT HD Audio Controller\", \"vm\": 123, \"gone\": false}]}";

static void
test_fake_host_show(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  FakeServer *server = fake_server_new(sock, 200, fake_host, NULL);
  PpTestRun run = { 0 };
  const char *request;

  run_cli((const char *const[]){ "host", "show", "node 1", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/hosts/node%201 HTTP/1.1\r\n"));
  g_assert_null(strstr(request, "Authorization"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "ID             : 3\n"
                  "NAME           : node 1\n"
                  "STATE          : monitored\n"
                  "SSH            : root@node1\n"
                  "LIBVIRT URI    : -\n"
                  "HOSTDEV        : managed\n"
                  "PROBE COMMAND  : -\n"
                  "HOSTNAME       : node1\n"
                  "CPUS           : 8\n"
                  "MEMORY         : 15.5 GiB\n"
                  "KERNEL         : 6.1.0\n"
                  "LAST MONITORED : never\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "   VM ADDR    TYPE           NAME\n"
                  "      00:02.0 8086:0a16:0300 Haswell-ULT Integrated Graphics Controller\n"
                  "  123 00:03.0 8086:0a0c:0403 Haswell-ULT HD Audio Controller\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* --json: the API's JSON, as it came. */
  server = fake_server_new(sock, 200, fake_host, NULL);
  run_cli((const char *const[]){ "host", "show", "--json", "3", "--socket", sock, NULL }, NULL,
          &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  {
    json_t *got = json_loads(run.out, 0, NULL);
    json_t *sent = json_loads(fake_host, 0, NULL);

    g_assert_nonnull(got);
    g_assert_true(json_equal(got, sent));
    json_decref(got);
    json_decref(sent);
  }
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

static void
test_fake_host_create(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *set = g_strconcat("PCIPASS_SOCKET=", sock, NULL);
  FakeServer *server = fake_server_new(sock, 201, "{\"id\": 5, \"name\": \"node1\"}", NULL);
  PpTestRun run = { 0 };
  const char *request;
  json_t *body;

  run_cli_env((const char *const[]){ "host", "create", "node1", "--ssh", "root@node1:2222",
                                     "--probe-command", "pcipass-probe --config '/x y'",
                                     "--libvirt-uri", "qemu+ssh://node1/system", "--prebound",
                                     NULL },
              (const char *const[]){ set, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID: 5\n");
  g_assert_true(g_str_has_prefix(request, "POST /v1/hosts HTTP/1.1\r\n"));
  g_assert_nonnull(strstr(request, "\r\nContent-Type: application/json\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_nonnull(body);
  g_assert_cmpstr(json_string_value(json_object_get(body, "name")), ==, "node1");
  g_assert_cmpstr(json_string_value(json_object_get(body, "ssh")), ==, "root@node1:2222");
  g_assert_cmpstr(json_string_value(json_object_get(body, "libvirt_uri")), ==,
                  "qemu+ssh://node1/system");
  g_assert_cmpstr(json_string_value(json_object_get(body, "probe_command")), ==,
                  "pcipass-probe --config '/x y'");
  g_assert_true(json_is_true(json_object_get(body, "prebound")));
  g_assert_cmpuint(json_object_size(body), ==, 5);
  json_decref(body);
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* host update: PATCH with the fields of the options given, null for
 * --no-X; a wrong option never reaches the server. */
static void
test_fake_host_update(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *set = g_strconcat("PCIPASS_SOCKET=", sock, NULL);
  FakeServer *server = fake_server_new(sock, 200, "{\"id\": 5, \"prebound\": true}", NULL);
  PpTestRun run = { 0 };
  const char *request;
  json_t *body;

  run_cli_env((const char *const[]){ "host", "update", "node 1", "--prebound", "yes", NULL },
              (const char *const[]){ set, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_true(g_str_has_prefix(request, "PATCH /v1/hosts/node%201 HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_nonnull(body);
  g_assert_true(json_is_true(json_object_get(body, "prebound")));
  g_assert_cmpuint(json_object_size(body), ==, 1);
  json_decref(body);
  pp_test_run_clear(&run);

  fake_server_free(server);
  unlink(sock);

  /* The other settings: a value is a string, --no-X null. */
  server = fake_server_new(sock, 200, "{\"id\": 5}", NULL);
  run_cli_env((const char *const[]){ "host", "update", "node1", "--ssh", "root@node1:2222",
                                     "--no-libvirt-uri", "--probe-command",
                                     "pcipass-probe --config '/x y'", NULL },
              (const char *const[]){ set, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(request, "PATCH /v1/hosts/node1 HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_nonnull(body);
  g_assert_cmpstr(json_string_value(json_object_get(body, "ssh")), ==, "root@node1:2222");
  g_assert_true(json_is_null(json_object_get(body, "libvirt_uri")));
  g_assert_cmpstr(json_string_value(json_object_get(body, "probe_command")), ==,
                  "pcipass-probe --config '/x y'");
  g_assert_cmpuint(json_object_size(body), ==, 3);
  json_decref(body);
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 200, "{\"id\": 5}", NULL);
  run_cli_env((const char *const[]){ "host", "update", "node1", "--no-ssh", "--no-probe-command",
                                     "--libvirt-uri", "qemu:///system", "--prebound", "no", NULL },
              (const char *const[]){ set, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  body = json_loads(request_body(request), 0, NULL);
  g_assert_true(json_is_null(json_object_get(body, "ssh")));
  g_assert_true(json_is_null(json_object_get(body, "probe_command")));
  g_assert_cmpstr(json_string_value(json_object_get(body, "libvirt_uri")), ==, "qemu:///system");
  g_assert_true(json_is_false(json_object_get(body, "prebound")));
  g_assert_cmpuint(json_object_size(body), ==, 4);
  json_decref(body);
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* pcipassd's 400 naming the field: exit 2, as it came. */
  server = fake_server_new(sock, 400,
                           "{\"error\": {\"code\": 400, \"message\": \"field 'ssh': port "
                           "'99999' is not 1 to 65535\"}}",
                           NULL);
  run_cli_env((const char *const[]){ "host", "update", "node1", "--ssh", "a@b:99999", NULL },
              (const char *const[]){ set, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: field 'ssh': port '99999' is not 1 to 65535\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Wrong options never reach the server (none listens now). */
  {
    static const struct {
      const char *args[8];
      const char *message;
    } cases[] = {
      { { "--prebound", "true", NULL }, "pcipass: --prebound: 'true' is neither yes nor no\n" },
      { { "--ssh", "a@b", "--no-ssh", NULL }, "pcipass: --ssh and --no-ssh exclude each other\n" },
      { { "--no-probe-command", "--probe-command", "x", NULL },
        "pcipass: --probe-command and --no-probe-command exclude each other\n" },
      { { "--libvirt-uri", "", NULL },
        "pcipass: --libvirt-uri: an empty value (to go back to the default, give "
        "--no-libvirt-uri)\n" },
      { { "--ssh", "\xff", NULL }, "Invalid byte sequence" },
      { { NULL },
        "pcipass: host update: nothing to change; give one of its options (try "
        "--help)\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      g_autoptr(GPtrArray) argv = g_ptr_array_new();

      g_ptr_array_add(argv, "host");
      g_ptr_array_add(argv, "update");
      g_ptr_array_add(argv, "node1");
      for (guint k = 0; cases[i].args[k] != NULL; k++)
        g_ptr_array_add(argv, (gpointer)cases[i].args[k]);
      g_ptr_array_add(argv, NULL);
      run_cli_env((const char *const *)argv->pdata, (const char *const[]){ set, NULL }, NULL, &run);
      if (strstr(run.err, cases[i].message) == NULL)
        g_error("case %u: '%s' not in '%s'", i, cases[i].message, run.err);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_cmpstr(run.out, ==, "");
      pp_test_run_clear(&run);
    }
  }
  pp_test_rmtree(dir);
}

/* The API's errors: the server's message, the exit status of the class. */
static void
test_fake_errors(void)
{
  static const struct {
    guint status;
    const char *answer;
    int exit_status;
    const char *message;
  } cases[] = {
    { 400, "{\"error\": {\"code\": 400, \"message\": \"'x y' is not a host name\"}}", 2,
      "pcipass: 'x y' is not a host name\n" },
    { 404, "{\"error\": {\"code\": 404, \"message\": \"no host 'node9'\"}}", 2,
      "pcipass: no host 'node9'\n" },
    { 409, "{\"error\": {\"code\": 409, \"message\": \"VM 7 holds 3b:00.0\"}}", 2,
      "pcipass: VM 7 holds 3b:00.0\n" },
    { 403, "{\"error\": {\"code\": 403, \"message\": \"only an admin may delete hosts\"}}", 1,
      "pcipass: not allowed: only an admin may delete hosts\n" },
    { 401, "{\"error\": {\"code\": 401, \"message\": \"no such user\"}}", 1,
      "pcipass: pcipassd refused the credentials: no such user (on the socket pcipassd knows "
      "you by your Unix user; ask the administrator)\n" },
    { 500, "{\"error\": {\"code\": 500, \"message\": \"database is locked\"}}", 1,
      "pcipass: database is locked\n" },
    { 502, "<html>Bad Gateway</html>", 1, "answered HTTP 502 without a message\n" },
    { 200, "not json", 1, "answered HTTP 200 with something that is not a JSON object" },
    { 200, "[1]", 1, "answered HTTP 200 with something that is not a JSON object\n" },
    { 301, "", 1, "answered HTTP 301: that is not pcipass's API" },
  };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    FakeServer *server = fake_server_new(sock, cases[i].status, cases[i].answer, NULL);
    PpTestRun run = { 0 };
    const char *request;

    run_cli((const char *const[]){ "host", "delete", "node9", "--socket", sock, NULL }, NULL, &run);
    request = fake_server_join(server);
    g_assert_true(g_str_has_prefix(request, "DELETE /v1/hosts/node9 HTTP/1.1\r\n"));
    if (!g_str_has_suffix(run.err, cases[i].message) && strstr(run.err, cases[i].message) == NULL)
      g_error("case %u: '%s' not in '%s'", i, cases[i].message, run.err);
    g_assert_cmpint(run.status, ==, cases[i].exit_status);
    g_assert_cmpstr(run.out, ==, "");
    pp_test_run_clear(&run);
    fake_server_free(server);
    unlink(sock);
  }
  pp_test_rmtree(dir);
}

/* Over TCP: the token goes in the header and nowhere else. */
static void
test_fake_tcp_token(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *token = g_build_filename(dir, "token", NULL);
  g_autofree char *url = NULL;
  guint port = 0;
  FakeServer *server = fake_server_new(NULL, 200,
                                       "{\"hosts\": [{\"id\": 1, \"name\": \"n1\", \"state\": "
                                       "\"init\", \"pci_total\": 0, \"pci_free\": 0, "
                                       "\"last_monitored\": null}]}",
                                       &port);
  PpTestRun run = { 0 };
  const char *request;

  url = g_strdup_printf("http://127.0.0.1:%u/", port);
  pp_test_write_file(token, "  s3cret-token-1\n");
  g_assert_cmpint(chmod(token, 0600), ==, 0);
  /* The URL from PCIPASS_URL; the file named wins over PCIPASS_TOKEN. */
  {
    g_autofree char *set_url = g_strconcat("PCIPASS_URL=", url, NULL);

    run_cli_env((const char *const[]){ "host", "list", "--token-file", token, NULL },
                (const char *const[]){ set_url, "PCIPASS_TOKEN=other-token", NULL }, NULL, &run);
  }
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/hosts?limit=500 HTTP/1.1\r\n"));
  g_assert_nonnull(strstr(request, "\r\nAuthorization: Bearer s3cret-token-1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "ID NAME STATE PCI MONITORED\n"
                  " 1 n1   init  0/0 never\n");
  pp_test_run_clear(&run);
  fake_server_free(server);

  /* Refused: the message, not the token. */
  server = fake_server_new(NULL, 401,
                           "{\"error\": {\"code\": 401, \"message\": \"unknown token\"}}", &port);
  g_free(url);
  url = g_strdup_printf("http://127.0.0.1:%u", port);
  run_cli_env((const char *const[]){ "token", "list", "--url", url, NULL },
              (const char *const[]){ "PCIPASS_TOKEN=s3cret-token-2", NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_nonnull(strstr(request, "\r\nAuthorization: Bearer s3cret-token-2\r\n"));
  g_assert_true(g_str_has_prefix(request, "GET /v1/tokens HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==,
                  "pcipass: pcipassd refused the credentials: unknown token (set PCIPASS_TOKEN "
                  "or --token-file)\n");
  g_assert_null(strstr(run.out, "s3cret"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

static void
test_fake_token_create(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  FakeServer *server = fake_server_new(
      sock, 201,
      "{\"id\": 4, \"user\": \"alice\", \"name\": \"ci\", \"created\": 1, \"last_used\": null, "
      "\"token\": \"pp_0123456789abcdef\"}",
      NULL);
  PpTestRun run = { 0 };
  const char *request;
  json_t *body;

  run_cli((const char *const[]){ "token", "create", "--name", "ci", "--user", "alice", "--socket",
                                 sock, NULL },
          NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "pp_0123456789abcdef\n");
  g_assert_nonnull(strstr(run.err, "shown this once"));
  g_assert_null(strstr(run.err, "pp_0123456789abcdef"));
  g_assert_true(g_str_has_prefix(request, "POST /v1/tokens HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_cmpstr(json_string_value(json_object_get(body, "name")), ==, "ci");
  g_assert_cmpstr(json_string_value(json_object_get(body, "user")), ==, "alice");
  json_decref(body);
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* What user quota, user show, user delete, token delete and token create
 * --expires send: the method, the path (the name escaped), the body; and
 * what user quota and token create refuse before sending anything. */
static void
test_fake_tenancy(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  static const char user[] = "{\"id\": 2, \"name\": \"al ice\", \"admin\": false, \"created\": "
                             "1, \"quota\": {\"vms\": {\"used\": 1, \"limit\": 3}}}";
  FakeServer *server = fake_server_new(sock, 200, user, NULL);
  PpTestRun run = { 0 };
  const char *request;
  json_t *body;

  run_cli((const char *const[]){ "user", "quota", "al ice", "--vms", "3", "--cpu", "2.5",
                                 "--memory", "none", "--pci", "0", "--pci-class", "0302=2",
                                 "--pci-class", "0200=none", "--socket", sock, NULL },
          NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(request, "PATCH /v1/users/al%20ice/quota HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_nonnull(body);
  g_assert_cmpint(json_integer_value(json_object_get(body, "vms")), ==, 3);
  g_assert_cmpfloat(json_real_value(json_object_get(body, "cpu")), ==, 2.5);
  g_assert_true(json_is_null(json_object_get(body, "memory_mib")));
  g_assert_cmpint(json_integer_value(json_object_get(body, "pci")), ==, 0);
  g_assert_cmpint(json_integer_value(json_object_get(json_object_get(body, "pci_classes"), "0302")),
                  ==, 2);
  g_assert_true(json_is_null(json_object_get(json_object_get(body, "pci_classes"), "0200")));
  g_assert_cmpuint(json_object_size(body), ==, 5);
  json_decref(body);
  /* The user as user show prints it. */
  g_assert_nonnull(strstr(run.out, "NAME           : al ice\n"));
  g_assert_nonnull(strstr(
      run.out,
      "\nQUOTA          USED LIMIT\nVMS               1     3\nCPU               -     -\n"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 200, user, NULL);
  run_cli((const char *const[]){ "user", "show", "al ice", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(request, "GET /v1/users/al%20ice HTTP/1.1\r\n"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 200, "{\"deleted\": 2, \"tokens\": 1, \"done_vms\": 0}", NULL);
  run_cli((const char *const[]){ "user", "delete", "alice", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_true(g_str_has_prefix(request, "DELETE /v1/users/alice HTTP/1.1\r\n"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 200, "{\"deleted\": 7}", NULL);
  run_cli((const char *const[]){ "token", "delete", "7", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(request, "DELETE /v1/tokens/7 HTTP/1.1\r\n"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 201,
                           "{\"id\": 4, \"user\": \"alice\", \"created\": 1, \"expires\": 43201, "
                           "\"token\": \"pp_0123456789abcdef\"}",
                           NULL);
  run_cli((const char *const[]){ "token", "create", "--expires", "12h", "--socket", sock, NULL },
          NULL, &run);
  request = fake_server_join(server);
  g_assert_cmpint(run.status, ==, 0);
  body = json_loads(request_body(request), 0, NULL);
  g_assert_cmpint(json_integer_value(json_object_get(body, "expires_in")), ==, 12 * 3600);
  json_decref(body);
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Refused here, exit 2, nothing sent (no daemon listens). */
  {
    static const char *const bad[][6] = {
      { "user", "quota", "alice", NULL },
      { "user", "quota", "alice", "--vms", "many", NULL },
      { "user", "quota", "alice", "--cpu", "0.333", NULL },
      { "user", "quota", "alice", "--pci-class", "0302", NULL },
      { "user", "quota", "alice", "--pci-class", "zz02=1", NULL },
      { "token", "create", "--expires", "1w", NULL },
      { "token", "create", "--expires", "400d", NULL },
      { "user", "show", NULL },
      { "token", "delete", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
      g_autoptr(GPtrArray) argv = g_ptr_array_new();

      for (guint k = 0; bad[i][k] != NULL; k++)
        g_ptr_array_add(argv, (gpointer)bad[i][k]);
      g_ptr_array_add(argv, "--socket");
      g_ptr_array_add(argv, sock);
      g_ptr_array_add(argv, NULL);
      run_cli((const char *const *)argv->pdata, NULL, &run);
      g_test_message("%s %s: %s", bad[i][0], bad[i][1], run.err);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_null(strstr(run.err, "cannot reach"));
      pp_test_run_clear(&run);
    }
  }
  pp_test_rmtree(dir);
}

/* host probe asks for a probe; --wait waits for its end: the state, exit
 * 1 when it failed. */
static void
test_fake_host_probe(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  const char *const answers[] = {
    "{\"id\": 3, \"name\": \"node1\", \"state\": \"monitored\", \"last_monitored\": 100}",
    "{\"id\": 3, \"name\": \"node1\", \"state\": \"monitored\", \"last_monitored\": 100}",
    ("{\"id\": 3, \"name\": \"node1\", \"state\": \"error\", \"last_monitored\": 160, "
     "\"error\": \"ssh: connect to host node1 port 22:\\nConnection refused\"}"),
  };
  const guint statuses[] = { 202, 200, 200 };
  FakeServer *server = fake_server_new(sock, 202, answers[0], NULL);
  PpTestRun run = { 0 };
  const char *request;

  run_cli((const char *const[]){ "host", "probe", "node1", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "POST /v1/hosts/node1/probe HTTP/1.1\r\n"));
  /* The action routes take no body: none, and no form type. */
  g_assert_cmpstr(request_body(request), ==, "");
  g_assert_nonnull(strstr(request, "\r\nContent-Length: 0\r\n"));
  g_assert_null(strstr(request, "Content-Type"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new_n(sock, 3, statuses, answers, NULL);
  run_cli((const char *const[]){ "host", "probe", "--wait", "node1", "--socket", sock, NULL }, NULL,
          &run);
  fake_server_join(server);
  g_assert_true(g_str_has_prefix(server->requests[1], "GET /v1/hosts/3 HTTP/1.1\r\n"));
  g_assert_true(g_str_has_prefix(server->requests[2], "GET /v1/hosts/3 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.out, ==,
                  "node1: error: ssh: connect to host node1 port 22: Connection refused\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Never probed before: any probe time ends the wait. */
  {
    const char *const fine[] = {
      "{\"id\": 3, \"name\": \"node1\", \"state\": \"init\", \"last_monitored\": null}",
      "{\"id\": 3, \"name\": \"node1\", \"state\": \"monitored\", \"last_monitored\": 5}",
    };

    server = fake_server_new_n(sock, 2, statuses, fine, NULL);
    run_cli((const char *const[]){ "host", "probe", "-w", "3", "--socket", sock, NULL }, NULL,
            &run);
    fake_server_join(server);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.out, ==, "node1: monitored\n");
    pp_test_run_clear(&run);
    fake_server_free(server);
    unlink(sock);
  }

  /* enable prints nothing; --json the HOST. */
  server =
      fake_server_new(sock, 200, "{\"id\": 3, \"name\": \"node1\", \"state\": \"init\"}", NULL);
  run_cli((const char *const[]){ "host", "enable", "node1", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "POST /v1/hosts/node1/enable HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* A template and the VM pcipassd makes of it. */
static const char vm_template[] = "NAME = gpu-job\nMEMORY = 4096\nPCI = [ VENDOR = \"10de\" ]\n";

static const char fake_vm[] =
    "{\"id\": 13, \"name\": \"gpu-job\", \"owner\": \"bob\", \"state\": \"pending\", "
    "\"reason\": \"no host fits\", \"host\": null, \"cpu\": 1, \"vcpu\": 1, "
    "\"memory_mib\": 4096, \"pci_requests\": [\"VENDOR=10de\"], \"devices\": [], "
    "\"explanation\": [{\"host_id\": 3, \"host\": \"node1\", \"reason\": \"no free device for "
    "PCI 0\"}], \"domain\": \"pcipass-13\", \"template\": \"MEMORY = 4096\", "
    "\"created\": null, \"updated\": null}";

/* vm create and vm place send {"template": TEXT}, the file's bytes. */
static void
assert_template_body(const char *request, const char *path)
{
  json_t *body;

  g_assert_true(g_str_has_prefix(request, path));
  g_assert_nonnull(strstr(request, "\r\nContent-Type: application/json\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_nonnull(body);
  g_assert_cmpstr(json_string_value(json_object_get(body, "template")), ==, vm_template);
  g_assert_cmpuint(json_object_size(body), ==, 1);
  json_decref(body);
}

static void
test_fake_vm_create(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *tmpl = g_build_filename(dir, "vm.tmpl", NULL);
  g_autofree char *want = NULL;
  FakeServer *server = fake_server_new(sock, 201, fake_vm, NULL);
  PpTestRun run = { 0 };
  const char *request;

  pp_test_write_file(tmpl, vm_template);
  run_cli((const char *const[]){ "vm", "create", tmpl, "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  assert_template_body(request, "POST /v1/vms HTTP/1.1\r\n");
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID: 13\n");
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* From stdin, --json: the VM. */
  server = fake_server_new(sock, 201, fake_vm, NULL);
  run_cli((const char *const[]){ "vm", "create", "-", "--json", "--socket", sock, NULL },
          vm_template, &run);
  request = fake_server_join(server);
  assert_template_body(request, "POST /v1/vms HTTP/1.1\r\n");
  g_assert_cmpint(run.status, ==, 0);
  {
    json_t *got = json_loads(run.out, 0, NULL);
    json_t *sent = json_loads(fake_vm, 0, NULL);

    g_assert_nonnull(got);
    g_assert_true(json_equal(got, sent));
    json_decref(got);
    json_decref(sent);
  }
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* pcipassd's template error names the file, as template check does:
   * FILE:LINE:COLUMN from the error's fields, FILE: for a missing
   * attribute; from a pcipassd without the fields, FILE: and its words. */
  {
    static const struct {
      const char *answer;
      const char *said; /* after "pcipass: FILE" */
    } cases[] = {
      { "{\"error\": {\"code\": 400, \"message\": \"line 2, column 10: MEMORY: '1G' is not a "
        "memory size\", \"line\": 2, \"column\": 10}}",
        ":2:10: MEMORY: '1G' is not a memory size\n" },
      { "{\"error\": {\"code\": 400, \"message\": \"line 4, column 1: attribute 'CONTEXT' is "
        "not supported by pcipass\", \"line\": 4, \"column\": 1}}",
        ":4:1: attribute 'CONTEXT' is not supported by pcipass\n" },
      { "{\"error\": {\"code\": 400, \"message\": \"MEMORY is required (add MEMORY = "
        "<MiB>)\", \"missing\": \"MEMORY\"}}",
        ": MEMORY is required (add MEMORY = <MiB>)\n" },
      { "{\"error\": {\"code\": 400, \"message\": \"line 2, column 10: MEMORY must be a "
        "number\"}}",
        ": line 2, column 10: MEMORY must be a number\n" },
      /* Fields that do not fit: not a position. */
      { "{\"error\": {\"code\": 400, \"message\": \"line 2, column 10: bad\", \"line\": "
        "-2, \"column\": \"x\"}}",
        ": line 2, column 10: bad\n" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      server = fake_server_new(sock, 400, cases[i].answer, NULL);
      run_cli((const char *const[]){ "vm", "create", tmpl, "--socket", sock, NULL }, NULL, &run);
      fake_server_join(server);
      g_free(want);
      want = g_strdup_printf("pcipass: %s%s", tmpl, cases[i].said);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_cmpstr(run.err, ==, want);
      g_assert_cmpstr(run.out, ==, "");
      pp_test_run_clear(&run);
      fake_server_free(server);
      unlink(sock);
    }
  }

  /* From stdin: <stdin>:LINE:COLUMN. */
  server = fake_server_new(sock, 400,
                           "{\"error\": {\"code\": 400, \"message\": \"line 3, column 1: "
                           "x\", \"line\": 3, \"column\": 1}}",
                           NULL);
  run_cli((const char *const[]){ "vm", "place", "-", "--socket", sock, NULL }, vm_template, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: <stdin>:3:1: x\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Other errors as they come. */
  server = fake_server_new(
      sock, 413, "{\"error\": {\"code\": 413, \"message\": \"the body is too large\"}}", NULL);
  run_cli((const char *const[]){ "vm", "create", "-", "--socket", sock, NULL }, vm_template, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: the body is too large\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* Bad templates are found here: the message of template check, no daemon
 * asked (none listens on the socket). */
static void
test_vm_create_local_errors(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "none.sock", NULL);
  g_autofree char *bad = g_build_filename(dir, "bad.tmpl", NULL);
  g_autofree char *missing = g_build_filename(dir, "missing.tmpl", NULL);
  const char *const verbs[] = { "create", "place" };
  PpTestRun run = { 0 };

  pp_test_write_file(bad, "CPU = 1\nA = foo bar\n");
  for (guint i = 0; i < G_N_ELEMENTS(verbs); i++) {
    g_autofree char *checked = NULL;

    run_cli((const char *const[]){ "template", "check", bad, NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 2);
    checked = g_strdup(run.err);
    pp_test_run_clear(&run);
    run_cli((const char *const[]){ "vm", verbs[i], bad, "--socket", sock, NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_cmpstr(run.err, ==, checked);
    g_assert_cmpstr(run.out, ==, "");
    pp_test_run_clear(&run);

    run_cli((const char *const[]){ "vm", verbs[i], "-", "--socket", sock, NULL }, "N = [ A = 1, ]",
            &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_true(g_str_has_prefix(run.err, "pcipass: <stdin>:1:14: expected a key name"));
    pp_test_run_clear(&run);

    run_cli((const char *const[]){ "vm", verbs[i], missing, "--socket", sock, NULL }, NULL, &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "No such file or directory"));
    g_assert_null(strstr(run.err, "cannot reach"));
    pp_test_run_clear(&run);
  }

  /* A good template does go to the daemon: here, none. */
  run_cli((const char *const[]){ "vm", "create", "-", "--socket", sock, NULL }, vm_template, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "cannot reach pcipassd"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

static void
test_fake_vm_list(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *answer = NULL;
  FakeServer *server = NULL;
  PpTestRun run = { 0 };
  const char *request;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;

  /* Made 5 minutes ago: "5m" for a minute. */
  answer = g_strdup_printf(
      "{\"vms\": [{\"id\": 12, \"name\": \"gpu-job\", \"owner\": \"alice\", \"state\": "
      "\"running\", \"host\": {\"id\": 3, \"name\": \"node1\"}, \"cpu\": 0.5, \"memory_mib\": "
      "4096, \"devices\": [{}, {}], \"created\": %" G_GINT64_FORMAT "}]}",
      now - 300);
  server = fake_server_new(sock, 200, answer, NULL);
  run_cli((const char *const[]){ "vm", "list", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/vms?limit=500 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "ID NAME    OWNER STATE   HOST  CPU MEMORY PCI AGE\n"
                  "12 gpu-job alice running node1 0.5 4G       2 5m\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  server = fake_server_new(sock, 200, "{\"vms\": []}", NULL);
  run_cli((const char *const[]){ "vm", "list", "--all", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/vms?all=1&limit=500 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID NAME OWNER STATE HOST CPU MEMORY PCI AGE\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* vm list pages: it asks for the next page until "next" is null or
 * --limit rows came, with its filters each time, and prints each page as
 * it comes (the first page leaves room for the later ones' cells); an
 * error on a later page is said after what was printed; a "next" that
 * does not advance stops it. */
static void
test_fake_list_pages(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  static const char *const answers[] = {
    "{\"vms\": [{\"id\": 1, \"name\": \"a\", \"state\": \"running\"}, {\"id\": 2, "
    "\"name\": \"b\", \"state\": \"pending\"}], \"next\": 2}",
    "{\"vms\": [{\"id\": 3, \"name\": \"c\", \"state\": \"running\"}, {\"id\": 4, "
    "\"name\": \"a-much-longer-name-than-twenty\", \"state\": \"running\"}], \"next\": 4}",
    "{\"vms\": [{\"id\": 5, \"name\": \"e\", \"state\": \"pending\"}], \"next\": 5}",
  };
  static const guint ok[] = { 200, 200, 200 };
  static const guint failing[] = { 200, 500 };
  static const char *const stuck[] = {
    "{\"vms\": [{\"id\": 7}], \"next\": 7}",
    "{\"vms\": [{\"id\": 8}], \"next\": 7}",
  };
  static const char *const fail_answers[] = {
    "{\"vms\": [{\"id\": 1}], \"next\": 1}",
    "{\"error\": {\"code\": 500, \"message\": \"the store is gone\"}}",
  };
  FakeServer *server = NULL;
  PpTestRun run = { 0 };
  g_auto(GStrv) lines = NULL;

  server = fake_server_new_n(sock, 3, ok, answers, NULL);
  run_cli((const char *const[]){ "vm", "list", "--socket", sock, "--state", "running,pending",
                                 "--owner", "a b", "--limit", "5", NULL },
          NULL, &run);
  fake_server_join(server);
  g_assert_true(g_str_has_prefix(server->requests[0],
                                 "GET /v1/vms?state=running%2Cpending&owner=a%20b&limit=5 HTTP"));
  g_assert_true(g_str_has_prefix(
      server->requests[1], "GET /v1/vms?state=running%2Cpending&owner=a%20b&limit=3&after=2 HTTP"));
  g_assert_true(g_str_has_prefix(
      server->requests[2], "GET /v1/vms?state=running%2Cpending&owner=a%20b&limit=1&after=4 HTTP"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  lines = g_strsplit(run.out, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 7);
  /* The first page's widths: room for the later pages. */
  g_assert_cmpstr(lines[0], ==,
                  "     ID NAME                 OWNER        STATE       HOST             CPU  "
                  "MEMORY PCI AGE");
  g_assert_cmpstr(lines[1], ==,
                  "      1 a                    -            running     -                -    -"
                  "        - -");
  g_assert_cmpstr(lines[3], ==,
                  "      3 c                    -            running     -                -    -"
                  "        - -");
  /* A wider cell pushes the rest of its row. */
  g_assert_true(g_str_has_prefix(lines[4], "      4 a-much-longer-name-than-twenty - "));
  g_assert_true(g_str_has_prefix(lines[5], "      5 e                    -            pending"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* --limit 2 with more to come: one page, no second request. */
  server = fake_server_new_n(sock, 1, ok, answers, NULL);
  run_cli((const char *const[]){ "vm", "list", "--socket", sock, "--limit", "2", "--json", NULL },
          NULL, &run);
  fake_server_join(server);
  g_assert_true(g_str_has_prefix(server->requests[0], "GET /v1/vms?limit=2 HTTP"));
  g_assert_cmpint(run.status, ==, 0);
  {
    json_t *json = json_loads(run.out, 0, NULL);

    g_assert_nonnull(json);
    g_assert_cmpuint(json_array_size(json_object_get(json, "vms")), ==, 2);
    json_decref(json);
  }
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* An error on the second page: the first is printed, then the error. */
  server = fake_server_new_n(sock, 2, failing, fail_answers, NULL);
  run_cli((const char *const[]){ "vm", "list", "--socket", sock, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "      1 -"));
  g_assert_nonnull(strstr(run.err, "the store is gone"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* A next that does not advance: stopped, not a loop. */
  server = fake_server_new_n(sock, 1, ok, stuck, NULL);
  run_cli((const char *const[]){ "host", "list", "--socket", sock, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "not a page of 'hosts'"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);
  server = fake_server_new_n(sock, 2, ok, stuck, NULL);
  run_cli((const char *const[]){ "vm", "list", "--socket", sock, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "does not follow 7 (next: 7)"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

static void
test_fake_vm_show(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  FakeServer *server = fake_server_new(sock, 200, fake_vm, NULL);
  PpTestRun run = { 0 };
  const char *request;

  run_cli((const char *const[]){ "vm", "show", "13", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/vms/13 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "ID             : 13\n"
                  "NAME           : gpu-job\n"
                  "OWNER          : bob\n"
                  "STATE          : pending\n"
                  "REASON         : no host fits\n"
                  "HOST           : -\n"
                  "CPU            : 1\n"
                  "VCPU           : 1\n"
                  "MEMORY         : 4096 MiB\n"
                  "DOMAIN         : pcipass-13\n"
                  "CREATED        : never\n"
                  "\n"
                  "PCI REQUESTS\n"
                  "\n"
                  "  0 VENDOR=10de\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "  none\n"
                  "\n"
                  "WHY PENDING\n"
                  "\n"
                  "  node1: no free device for PCI 0\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* By name: escaped in the path; pcipassd finds it. */
  server = fake_server_new(sock, 200, fake_vm, NULL);
  run_cli((const char *const[]){ "vm", "show", "gpu job/2", "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  g_assert_true(g_str_has_prefix(request, "GET /v1/vms/gpu%20job%2F2 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "ID             : 13\n"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* A name two VMs share: pcipassd's 400, exit 2. */
  server = fake_server_new(sock, 400,
                           "{\"error\": {\"code\": 400, \"message\": \"2 VMs are named "
                           "'gpu-job' (ids 13, 14): use an id\"}}",
                           NULL);
  run_cli((const char *const[]){ "vm", "show", "gpu-job", "--socket", sock, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: 2 VMs are named 'gpu-job' (ids 13, 14): use an id\n");
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* Another's VM is 404: exit 2, the daemon's word. */
  server =
      fake_server_new(sock, 404, "{\"error\": {\"code\": 404, \"message\": \"no VM 14\"}}", NULL);
  run_cli((const char *const[]){ "vm", "show", "14", "--socket", sock, NULL }, NULL, &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: no VM 14\n");
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

/* terminate, poweroff, resume: POST without a body; nothing printed, the
 * VM with --json. */
static void
test_fake_vm_actions(void)
{
  const char *const verbs[] = { "terminate", "poweroff", "resume" };
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  PpTestRun run = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS(verbs); i++) {
    g_autofree char *line = g_strdup_printf("POST /v1/vms/13/%s HTTP/1.1\r\n", verbs[i]);
    FakeServer *server = fake_server_new(sock, 202, fake_vm, NULL);
    const char *request;

    run_cli((const char *const[]){ "vm", verbs[i], "13", "--socket", sock, NULL }, NULL, &run);
    request = fake_server_join(server);
    g_assert_true(g_str_has_prefix(request, line));
    g_assert_cmpstr(request_body(request), ==, "");
    g_assert_nonnull(strstr(request, "\r\nContent-Length: 0\r\n"));
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.out, ==, "");
    g_assert_cmpstr(run.err, ==, "");
    pp_test_run_clear(&run);
    fake_server_free(server);
    unlink(sock);

    server = fake_server_new(sock, 202, fake_vm, NULL);
    run_cli((const char *const[]){ "vm", verbs[i], "-j", "13", "--socket", sock, NULL }, NULL,
            &run);
    fake_server_join(server);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "\"domain\": \"pcipass-13\""));
    pp_test_run_clear(&run);
    fake_server_free(server);
    unlink(sock);

    /* By name. */
    g_free(line);
    line = g_strdup_printf("POST /v1/vms/gpu-job/%s HTTP/1.1\r\n", verbs[i]);
    server = fake_server_new(sock, 202, fake_vm, NULL);
    run_cli((const char *const[]){ "vm", verbs[i], "gpu-job", "--socket", sock, NULL }, NULL, &run);
    request = fake_server_join(server);
    g_assert_true(g_str_has_prefix(request, line));
    g_assert_cmpint(run.status, ==, 0);
    pp_test_run_clear(&run);
    fake_server_free(server);
    unlink(sock);
  }

  /* Resuming a running VM: 409, exit 2. */
  {
    FakeServer *server = fake_server_new(
        sock, 409, "{\"error\": {\"code\": 409, \"message\": \"VM 13 is running\"}}", NULL);

    run_cli((const char *const[]){ "vm", "resume", "13", "--socket", sock, NULL }, NULL, &run);
    fake_server_join(server);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_cmpstr(run.err, ==, "pcipass: VM 13 is running\n");
    pp_test_run_clear(&run);
    fake_server_free(server);
  }
  pp_test_rmtree(dir);
}

static void
test_fake_vm_place(void)
{
  static const char fits[] =
      "{\"fits\": true, \"host\": {\"id\": 3, \"name\": \"node1\"}, \"numa_node\": 1, "
      "\"devices\": [{\"address\": \"0000:af:00.0\", \"type\": \"10de:1db4:0302\", \"name\": "
      "\"GV100GL [Tesla V100 PCIe 16GB]\", \"request\": 0}]}";
  static const char no_fit[] =
      "{\"fits\": false, \"explanation\": [{\"host_id\": 3, \"host\": \"node1\", \"reason\": "
      "\"no free device for PCI 0\"}, {\"host_id\": 4, \"host\": \"node2\", \"reason\": "
      "\"disabled\"}]}";
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *tmpl = g_build_filename(dir, "vm.tmpl", NULL);
  FakeServer *server = fake_server_new(sock, 200, fits, NULL);
  PpTestRun run = { 0 };
  const char *request;

  pp_test_write_file(tmpl, vm_template);
  run_cli((const char *const[]){ "vm", "place", tmpl, "--socket", sock, NULL }, NULL, &run);
  request = fake_server_join(server);
  assert_template_body(request, "POST /v1/vms/place HTTP/1.1\r\n");
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "fits on node1 (NUMA node 1)\n"
                  "\n"
                  "PCI DEVICES\n"
                  "\n"
                  "REQ ADDR         TYPE           NAME\n"
                  "  0 0000:af:00.0 10de:1db4:0302 GV100GL [Tesla V100 PCIe 16GB]\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* No host fits: the answer on stdout, exit 1. */
  server = fake_server_new(sock, 200, no_fit, NULL);
  run_cli((const char *const[]){ "vm", "place", "-", "--socket", sock, NULL }, vm_template, &run);
  request = fake_server_join(server);
  assert_template_body(request, "POST /v1/vms/place HTTP/1.1\r\n");
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_cmpstr(run.out, ==,
                  "no host fits:\n"
                  "  node1: no free device for PCI 0\n"
                  "  node2: disabled\n");
  pp_test_run_clear(&run);
  fake_server_free(server);
  unlink(sock);

  /* --json: the PLACE, and exit 1 all the same. */
  server = fake_server_new(sock, 200, no_fit, NULL);
  run_cli((const char *const[]){ "vm", "place", "--json", tmpl, "--socket", sock, NULL }, NULL,
          &run);
  fake_server_join(server);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "\"fits\": false"));
  pp_test_run_clear(&run);
  fake_server_free(server);
  pp_test_rmtree(dir);
}

static const char net_template[] =
    "NAME = lab\nVN_MAD = \"802.1Q\"\nVLAN_ID = 100\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.16\", "
    "SIZE = 16 ]\n";

static const char fake_net[] =
    "{\"id\": 3, \"name\": \"lab\", \"owner_id\": 2, \"owner\": \"alice\", \"shared\": false, "
    "\"vn_mad\": \"802.1Q\", \"bridge\": null, \"vlan_id\": 100, \"size\": 16, \"used\": 1, "
    "\"held\": 0, \"phydev\": null, \"mtu\": null, \"network_address\": null, \"gateway\": "
    "null, \"dns\": [], \"search_domains\": [], \"gateway6\": null, \"template\": \"NAME = "
    "lab\", \"created\": null, \"updated\": null, \"ars\": [{\"ar_id\": 0, \"type\": \"IP4\", "
    "\"size\": 16, \"used\": 1, \"mac\": \"02:00:0a:00:00:10\", \"ip\": \"10.0.0.16\", "
    "\"ip_last\": \"10.0.0.31\"}], \"leases\": [{\"ar_id\": 0, \"ip\": \"10.0.0.16\", \"mac\": "
    "\"02:00:0a:00:00:10\", \"vm_id\": 12, \"nic_id\": 0, \"held\": false}]}";

/* Runs `pcipass ARGS --socket SOCK` (stdin @input) against a fake server
 * answering @status and @answer; returns its request (transfer full). */
static char *
run_net(const char *sock, const char *const *args, const char *input, guint status,
        const char *answer, PpTestRun *run)
{
  FakeServer *server = fake_server_new(sock, status, answer, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  char *request;

  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (char *)args[i]);
  g_ptr_array_add(argv, "--socket");
  g_ptr_array_add(argv, (char *)sock);
  g_ptr_array_add(argv, NULL);
  run_cli((const char *const *)argv->pdata, input, run);
  request = g_strdup(fake_server_join(server));
  fake_server_free(server);
  unlink(sock);
  return request;
}

/* The body of @request has exactly "address": @address. */
static void
assert_address_body(const char *request, const char *address)
{
  json_t *body = json_loads(request_body(request), 0, NULL);

  g_assert_nonnull(body);
  g_assert_cmpstr(json_string_value(json_object_get(body, "address")), ==, address);
  g_assert_cmpuint(json_object_size(body), ==, 1);
  json_decref(body);
}

/* The net commands against the API of design: their requests (method,
 * path, name escaped, body), what they print, with and without --json, and
 * pcipassd's refusals as exit 2. No pcipassd serves networks here (its
 * side is written apart): a fake server answers as the API says. */
static void
test_fake_net(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "d.sock", NULL);
  g_autofree char *tmpl = g_build_filename(dir, "net.tmpl", NULL);
  PpTestRun run = { 0 };
  char *request;
  json_t *body;

  pp_test_write_file(tmpl, net_template);

  /* create: POST {"template": TEXT}, "ID: N". */
  request = run_net(sock, (const char *const[]){ "net", "create", tmpl, NULL }, NULL, 201, fake_net,
                    &run);
  g_assert_true(g_str_has_prefix(request, "POST /v1/networks HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_cmpstr(json_string_value(json_object_get(body, "template")), ==, net_template);
  /* Private unless --shared: nothing else said. */
  g_assert_cmpuint(json_object_size(body), ==, 1);
  json_decref(body);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID: 3\n");
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);
  g_free(request);

  /* From stdin, --json: the network as pcipassd gave it; --shared. */
  request = run_net(sock, (const char *const[]){ "net", "create", "-", "--json", "--shared", NULL },
                    net_template, 201, fake_net, &run);
  g_assert_true(g_str_has_prefix(request, "POST /v1/networks HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_true(json_is_true(json_object_get(body, "shared")));
  g_assert_cmpstr(json_string_value(json_object_get(body, "template")), ==, net_template);
  json_decref(body);
  g_assert_cmpint(run.status, ==, 0);
  {
    json_t *got = json_loads(run.out, 0, NULL);
    json_t *sent = json_loads(fake_net, 0, NULL);

    g_assert_true(json_equal(got, sent));
    json_decref(got);
    json_decref(sent);
  }
  pp_test_run_clear(&run);
  g_free(request);

  /* A template error of pcipassd's names the file and place; a name
   * taken is 409: exit 2. */
  request = run_net(sock, (const char *const[]){ "net", "create", tmpl, NULL }, NULL, 400,
                    "{\"error\": {\"code\": 400, \"message\": \"line 4, column 14: AR: IP is "
                    "required for TYPE IP4\", \"line\": 4, \"column\": 14}}",
                    &run);
  g_assert_cmpint(run.status, ==, 2);
  {
    g_autofree char *want =
        g_strdup_printf("pcipass: %s:4:14: AR: IP is required for TYPE IP4\n", tmpl);

    g_assert_cmpstr(run.err, ==, want);
  }
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(sock, (const char *const[]){ "net", "create", tmpl, NULL }, NULL, 409,
                    "{\"error\": {\"code\": 409, \"message\": \"you have a network named "
                    "'lab' already\"}}",
                    &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: you have a network named 'lab' already\n");
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);

  /* list: pages of GET /v1/networks. */
  request = run_net(sock, (const char *const[]){ "net", "list", "--limit", "5", NULL }, NULL, 200,
                    "{\"networks\": [{\"id\": 3, \"name\": \"lab\", \"owner\": \"alice\", "
                    "\"shared\": false, \"vn_mad\": \"802.1Q\", \"vlan_id\": 100, \"size\": 16, "
                    "\"used\": 1, \"held\": 0}], \"next\": null}",
                    &run);
  g_assert_true(g_str_has_prefix(request, "GET /v1/networks?limit=5 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "ID NAME OWNER SHARED VN_MAD VLAN LEASES HELD\n"
                  " 3 lab  alice no     802.1Q  100 1/16      0\n");
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(sock, (const char *const[]){ "net", "list", "--json", NULL }, NULL, 200,
                    "{\"networks\": [], \"next\": null}", &run);
  g_assert_true(g_str_has_prefix(request, "GET /v1/networks?limit=500 HTTP/1.1\r\n"));
  g_assert_cmpstr(run.out, ==, "{\"networks\": []}\n");
  pp_test_run_clear(&run);
  g_free(request);

  /* show: the name escaped, --uname as ?uname=; the table. */
  request =
      run_net(sock, (const char *const[]){ "net", "show", "my lab", "--uname", "bob&co", NULL },
              NULL, 200, fake_net, &run);
  g_assert_true(g_str_has_prefix(request, "GET /v1/networks/my%20lab?uname=bob%26co HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "ID             : 3\nNAME           : lab\n"));
  g_assert_true(g_str_has_suffix(run.out, "LEASES\n"
                                          "\n"
                                          "AR IP        IPV6 MAC               VM NIC\n"
                                          " 0 10.0.0.16 -    02:00:0a:00:00:10 12   0\n"));
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(sock, (const char *const[]){ "net", "show", "9", NULL }, NULL, 404,
                    "{\"error\": {\"code\": 404, \"message\": \"no network '9'\"}}", &run);
  g_assert_true(g_str_has_prefix(request, "GET /v1/networks/9 HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: no network '9'\n");
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);

  /* update: PUT the template; quiet, the network with --json. */
  request = run_net(sock, (const char *const[]){ "net", "update", "lab", "-", NULL }, net_template,
                    200, fake_net, &run);
  g_assert_true(g_str_has_prefix(request, "PUT /v1/networks/lab HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_cmpstr(json_string_value(json_object_get(body, "template")), ==, net_template);
  g_assert_cmpuint(json_object_size(body), ==, 1);
  json_decref(body);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);
  request =
      run_net(sock, (const char *const[]){ "net", "update", "-j", "3", tmpl, "--private", NULL },
              NULL, 200, fake_net, &run);
  g_assert_true(g_str_has_prefix(request, "PUT /v1/networks/3 HTTP/1.1\r\n"));
  body = json_loads(request_body(request), 0, NULL);
  g_assert_true(json_is_false(json_object_get(body, "shared")));
  json_decref(body);
  g_assert_nonnull(strstr(run.out, "\"vn_mad\": \"802.1Q\""));
  pp_test_run_clear(&run);
  g_free(request);

  /* delete: DELETE; refused while leases are held: 409, exit 2. */
  request = run_net(sock, (const char *const[]){ "net", "delete", "lab", NULL }, NULL, 200,
                    "{\"deleted\": 3}", &run);
  g_assert_true(g_str_has_prefix(request, "DELETE /v1/networks/lab HTTP/1.1\r\n"));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(sock, (const char *const[]){ "net", "delete", "lab", NULL }, NULL, 409,
                    "{\"error\": {\"code\": 409, \"message\": \"network 'lab' has leases of "
                    "VMs 12, 13: terminate them first\"}}",
                    &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==,
                  "pcipass: network 'lab' has leases of VMs 12, 13: terminate them first\n");
  pp_test_run_clear(&run);
  g_free(request);

  /* hold and release: POST {"address"}, an IPv4, an IPv6 or a MAC. */
  request =
      run_net(sock, (const char *const[]){ "net", "hold", "lab", "10.0.0.20", NULL }, NULL, 200,
              "{\"ar_id\": 0, \"ip\": \"10.0.0.20\", \"mac\": \"02:00:0a:00:00:14\", "
              "\"vm_id\": null, \"nic_id\": null, \"held\": true}",
              &run);
  g_assert_true(g_str_has_prefix(request, "POST /v1/networks/lab/hold HTTP/1.1\r\n"));
  assert_address_body(request, "10.0.0.20");
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(
      sock, (const char *const[]){ "net", "hold", "--json", "3", "02:00:0A:00:00:14", NULL }, NULL,
      200, "{\"ar_id\": 0, \"held\": true}", &run);
  assert_address_body(request, "02:00:0A:00:00:14");
  g_assert_cmpstr(run.out, ==, "{\n  \"ar_id\": 0,\n  \"held\": true\n}\n");
  pp_test_run_clear(&run);
  g_free(request);
  request = run_net(sock, (const char *const[]){ "net", "release", "lab", "2001:db8::10", NULL },
                    NULL, 200, "{\"released\": \"2001:db8::10\"}", &run);
  g_assert_true(g_str_has_prefix(request, "POST /v1/networks/lab/release HTTP/1.1\r\n"));
  assert_address_body(request, "2001:db8::10");
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  g_free(request);
  request =
      run_net(sock, (const char *const[]){ "net", "hold", "lab", "10.0.0.16", NULL }, NULL, 409,
              "{\"error\": {\"code\": 409, \"message\": \"10.0.0.16 is leased by VM 12\"}}", &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass: 10.0.0.16 is leased by VM 12\n");
  pp_test_run_clear(&run);
  g_free(request);
  pp_test_rmtree(dir);
}

/* What the net commands refuse here, no daemon asked (none listens): a
 * template's syntax (as template check says it), a file that is not
 * there, an address that is none, one too long to be one. */
static void
test_net_local_errors(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sock = g_build_filename(dir, "none.sock", NULL);
  g_autofree char *bad = g_build_filename(dir, "bad.tmpl", NULL);
  g_autofree char *missing = g_build_filename(dir, "missing.tmpl", NULL);
  g_autofree char *long_address = g_strnfill(200, '1');
  g_autofree char *checked = NULL;
  PpTestRun run = { 0 };

  pp_test_write_file(bad, "NAME = lab\nAR = [ TYPE = \"IP4\",, ]\n");
  run_cli((const char *const[]){ "template", "check", bad, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  checked = g_strdup(run.err);
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "create", bad, "--socket", sock, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, checked);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "update", "lab", bad, "--socket", sock, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, checked);
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "update", "lab", "-", "--socket", sock, NULL },
          "NAME = [ A = 1, ]", &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_true(g_str_has_prefix(run.err, "pcipass: <stdin>:1:17: "));
  pp_test_run_clear(&run);
  run_cli((const char *const[]){ "net", "create", missing, "--socket", sock, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "No such file or directory"));
  pp_test_run_clear(&run);

  /* Cut in the message, not printed whole. */
  run_cli((const char *const[]){ "net", "hold", "lab", long_address, "--socket", sock, NULL }, NULL,
          &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_true(g_str_has_prefix(run.err, "pcipass: '1111"));
  g_assert_nonnull(strstr(run.err, "1111...' is not an address"));
  g_assert_cmpuint(strlen(run.err), <, 200);
  pp_test_run_clear(&run);

  /* A good one does go to the daemon: here, none. */
  run_cli((const char *const[]){ "net", "release", "lab", "10.0.0.5", "--socket", sock, NULL },
          NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "cannot reach pcipassd"));
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  /* The caller's own settings must not reach the CLI under test. */
  g_unsetenv("PCIPASS_SOCKET");
  g_unsetenv("PCIPASS_URL");
  g_unsetenv("PCIPASS_TOKEN");
  cli = pp_test_build_path("src/cli/pcipass");
  g_test_add_func("/cli/template-check/file", test_check_file);
  g_test_add_func("/cli/template-check/json", test_check_json);
  g_test_add_func("/cli/template-check/nics", test_check_nics);
  g_test_add_func("/cli/template-check/errors", test_check_errors);
  g_test_add_func("/cli/template-check/too-large", test_check_too_large);
  g_test_add_func("/cli/dispatch", test_dispatch);
  g_test_add_func("/cli/daemon/help", test_daemon_help);
  g_test_add_func("/cli/daemon/usage", test_daemon_usage);
  g_test_add_func("/cli/daemon/unreachable", test_daemon_unreachable);
  g_test_add_func("/cli/daemon/token-file", test_daemon_token_file);
  g_test_add_func("/cli/daemon/options-before", test_daemon_options_before);
  g_test_add_func("/cli/fake/host-show", test_fake_host_show);
  g_test_add_func("/cli/fake/host-create", test_fake_host_create);
  g_test_add_func("/cli/fake/host-update", test_fake_host_update);
  g_test_add_func("/cli/fake/errors", test_fake_errors);
  g_test_add_func("/cli/fake/tcp-token", test_fake_tcp_token);
  g_test_add_func("/cli/fake/token-create", test_fake_token_create);
  g_test_add_func("/cli/fake/tenancy", test_fake_tenancy);
  g_test_add_func("/cli/fake/host-probe", test_fake_host_probe);
  g_test_add_func("/cli/fake/vm-create", test_fake_vm_create);
  g_test_add_func("/cli/vm-create/local-errors", test_vm_create_local_errors);
  g_test_add_func("/cli/fake/vm-list", test_fake_vm_list);
  g_test_add_func("/cli/fake/list-pages", test_fake_list_pages);
  g_test_add_func("/cli/fake/vm-show", test_fake_vm_show);
  g_test_add_func("/cli/fake/vm-actions", test_fake_vm_actions);
  g_test_add_func("/cli/fake/vm-place", test_fake_vm_place);
  g_test_add_func("/cli/fake/net", test_fake_net);
  g_test_add_func("/cli/net/local-errors", test_net_local_errors);
  rc = g_test_run();
  g_free(cli);
  return rc;
}
