/* The web UI end to end in a real browser (issue 14): a real pcipassd
 * with a TCP listener, three simulated hosts on captured sysfs trees
 * deploying through libvirt's test driver, an admin, two plain users
 * (alice, bob) and a shared network; then tests/web/run.mjs drives
 * Debian's headless chromium through playwright-core against it, every
 * tests/web/specs/NN-*.spec.mjs in name order. The runner's output
 * ("ok N - name" per test, screenshots named there) goes to this test's
 * log; any failure fails this test.
 *
 * Skipped when chromium, node or tests/web/node_modules is missing (run
 * scripts/install-deps), unless PP_WEB_REQUIRED is set, as CI sets it:
 * there a missing browser is a failure. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "pp-test-daemon.h"

/* The network both users may use: a PCI NIC on it gets an SR-IOV VF with
 * the VLAN, a MAC and an address from its range. */
#define NETWORK_NAME "lan"
#define NETWORK_TEMPLATE                                                                           \
  "NAME = \"" NETWORK_NAME "\"\nVN_MAD = \"802.1Q\"\nVLAN_ID = 100\nPHYDEV = \"\"\n"               \
  "NETWORK_ADDRESS = \"10.0.0.0\"\nNETWORK_MASK = \"255.255.255.0\"\nGATEWAY = \"10.0.0.1\"\n"     \
  "DNS = \"10.0.0.2\"\nAR = [ TYPE = \"IP4\", IP = \"10.0.0.10\", SIZE = 8 ]\n"

/* The hosts, on trees[0..2] of pp-test-daemon's fixture in that order. */
static const char *const host_names[] = { "node-a", "node-b", "node-c", NULL };

/* What the browser run needs: node, chromium and tests/web/run.mjs. */
typedef struct {
  char *node;
  char *chromium;
  char *runner;
} Browser;

static void
browser_clear(Browser *b)
{
  g_clear_pointer(&b->node, g_free);
  g_clear_pointer(&b->chromium, g_free);
  g_clear_pointer(&b->runner, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Browser, browser_clear)

/* Finds node, chromium (PP_CHROMIUM, else /usr/bin/chromium), the runner
 * and playwright-core. Returns: FALSE with @ret_missing (transfer full)
 * naming what is not there. */
static gboolean
browser_find(Browser *b, char **ret_missing)
{
  const char *srcdir = g_getenv("G_TEST_SRCDIR");
  const char *chromium = g_getenv("PP_CHROMIUM");
  g_autofree char *playwright = NULL;
  g_autoptr(GString) missing = g_string_new(NULL);

  g_assert_nonnull(srcdir);
  b->node = g_find_program_in_path("node");
  b->chromium = g_strdup(chromium != NULL && *chromium != '\0' ? chromium : "/usr/bin/chromium");
  b->runner = g_build_filename(srcdir, "web", "run.mjs", NULL);
  playwright =
      g_build_filename(srcdir, "web", "node_modules", "playwright-core", "package.json", NULL);
  g_assert_true(g_file_test(b->runner, G_FILE_TEST_IS_REGULAR));

  if (b->node == NULL)
    g_string_append(missing, "node (not in PATH); ");
  if (!g_file_test(b->chromium, G_FILE_TEST_IS_EXECUTABLE))
    g_string_append_printf(missing, "chromium (%s); ", b->chromium);
  if (!g_file_test(playwright, G_FILE_TEST_IS_REGULAR))
    g_string_append_printf(missing, "playwright-core (%s; npm ci --prefix tests/web); ",
                           playwright);
  if (missing->len == 0)
    return TRUE;
  g_string_truncate(missing, missing->len - 2);
  *ret_missing = g_strdup(missing->str);
  return FALSE;
}

/* A user that is an admin, and a token for it. Returns: (transfer full):
 * the token's secret. */
static char *
add_admin(PpTestDaemon *f, const char *name)
{
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) token = NULL;

  pp_test_cli(f, (const char *const[]){ "user", "create", name, "--admin", NULL }, &run);
  if (run.status != 0)
    g_error("pcipass user create %s --admin: %s", name, run.err);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", name, NULL });
  return g_strdup(json_string_value(json_object_get(token, "token")));
}

/* pcipass net create FILE --shared, as root over the socket. */
static void
add_network(PpTestDaemon *f)
{
  g_autofree char *path = g_build_filename(f->dir, NETWORK_NAME ".tmpl", NULL);
  g_auto(PpTestRun) run = { 0 };

  pp_test_write_file(path, NETWORK_TEMPLATE);
  pp_test_cli(f, (const char *const[]){ "net", "create", path, "--shared", NULL }, &run);
  if (run.status != 0)
    g_error("pcipass net create %s --shared: %s", path, run.err);
}

/* In node's child, before exec: SIGTERM when the test dies (a failed
 * assertion aborts it without its teardown), which playwright-core
 * passes on to chromium; SIGKILL would leave chromium running. */
static void
term_with_parent(gpointer data)
{
  prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* The output folder, emptied: PP_OUT/<spec>-<step>.png. Returns:
 * (transfer full). */
static char *
out_dir(void)
{
  const char *builddir = g_getenv("G_TEST_BUILDDIR");
  char *out;

  g_assert_nonnull(builddir);
  out = g_build_filename(builddir, "web-output", NULL);
  if (g_file_test(out, G_FILE_TEST_EXISTS))
    pp_test_rmtree(out);
  g_assert_cmpint(g_mkdir_with_parents(out, 0755), ==, 0);
  return out;
}

static void
test_browser(PpTestDaemon *f, gconstpointer data)
{
  static const char *const vfs[] = { "0000:05:10.0", "0000:05:10.4" };
  g_auto(Browser) b = { 0 };
  g_autofree char *missing = NULL;
  g_autofree char *admin = NULL;
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *hosts = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) node = NULL;
  g_autoptr(GError) error = NULL;
  const char *required = g_getenv("PP_WEB_REQUIRED");
  int fd;

  if (!browser_find(&b, &missing)) {
    if (required == NULL || *required == '\0') {
      g_autofree char *why = g_strdup_printf(
          "missing %s: scripts/install-deps installs what is missing (with PP_WEB_REQUIRED=1 "
          "this fails instead)",
          missing);

      g_test_skip(why);
      return;
    }
    g_error("PP_WEB_REQUIRED is set and the browser tests cannot run: missing %s "
            "(scripts/install-deps installs what is missing)",
            missing);
  }

  /* No capture has SR-IOV links: node-b's I350 gets two VFs back, as
   * the kernel lays them out, for the SR-IOV roles and PCI NICs. */
  for (guint i = 0; i < G_N_ELEMENTS(vfs); i++)
    pp_test_sysfs_link_vf(f->trees[1], "0000:05:00.0", vfs[i], i);
  pp_test_daemon_start(f, NULL);
  for (guint i = 0; host_names[i] != NULL; i++)
    pp_test_add_tree_host(f, host_names[i], f->trees[i]);
  for (guint i = 0; host_names[i] != NULL; i++)
    json_decref(pp_test_wait_host(f, host_names[i], "monitored", 0));
  admin = add_admin(f, "admin");
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");
  add_network(f);

  url = g_strdup_printf("http://127.0.0.1:%u", f->port);
  out = out_dir();
  hosts = g_strjoinv(",", (char **)host_names);

  /* node's output, stdout too, goes to this test's stderr: its "ok N"
   * lines are not this test's TAP. */
  launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
  fd = dup(STDERR_FILENO);
  g_assert_cmpint(fd, >=, 0);
  g_subprocess_launcher_take_stdout_fd(launcher, fd);
  g_subprocess_launcher_set_child_setup(launcher, term_with_parent, NULL, NULL);
  g_subprocess_launcher_setenv(launcher, "PP_URL", url, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_ADMIN_TOKEN", admin, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_ALICE_TOKEN", alice, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_BOB_TOKEN", bob, TRUE);
  g_subprocess_launcher_setenv(launcher, "PCIPASS_SOCKET", f->socket, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_CLI", f->cli, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_OUT", out, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_CHROMIUM", b.chromium, TRUE);
  /* What this fixture made, for the specs: the hosts in order (their
   * trees are pp-test-daemon's), the admin's name, the network. */
  g_subprocess_launcher_setenv(launcher, "PP_HOSTS", hosts, TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_ADMIN_USER", "admin", TRUE);
  g_subprocess_launcher_setenv(launcher, "PP_NETWORK", NETWORK_NAME, TRUE);
  /* This suite's settings are not chromium's: a GLib critical in it must
   * not abort it, and it is not built with the sanitizers. */
  g_subprocess_launcher_unsetenv(launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv(launcher, "ASAN_OPTIONS");
  g_subprocess_launcher_unsetenv(launcher, "UBSAN_OPTIONS");
  g_subprocess_launcher_unsetenv(launcher, "LSAN_OPTIONS");
  g_test_message("node %s: %s against pcipassd at %s; screenshots in %s", b.runner, b.chromium, url,
                 out);
  node = g_subprocess_launcher_spawnv(launcher, (const char *const[]){ b.node, b.runner, NULL },
                                      &error);
  g_assert_no_error(error);
  /* run.mjs bounds its own run (5 minutes) and each test; meson's
   * timeout is the guard above that. */
  g_subprocess_wait(node, NULL, &error);
  g_assert_no_error(error);
  if (!g_subprocess_get_if_exited(node) || g_subprocess_get_exit_status(node) != 0) {
    g_test_fail_printf("node %s failed (%s %d): its \"not ok\" lines above say which test and "
                       "why; screenshots in %s",
                       b.runner, g_subprocess_get_if_exited(node) ? "exit status" : "signal",
                       g_subprocess_get_if_exited(node) ? g_subprocess_get_exit_status(node)
                                                        : g_subprocess_get_term_sig(node),
                       out);
    return;
  }
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/web/browser", PpTestDaemon, NULL, pp_test_daemon_set_up, test_browser,
             pp_test_daemon_tear_down);
  return g_test_run();
}
