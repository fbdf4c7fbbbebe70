/* pp-probe-run: the argv of a host's probe (local, ssh, its own command),
 * an administrator's command line split without a shell, and real child
 * processes run through the main loop: the real pcipass-probe on a fixture
 * tree, failures with the probe's own message, programs that cannot start,
 * hangs killed at the timeout with their process group, output past the
 * bound, and cancellation. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "pp-probe-report.h"
#include "pp-probe-run.h"
#include "pp-test-util.h"

#define HWLOC_2PA "hwloc-sysfs/2pa-pcidomain32bits.tar.bz2"
#define HWLOC_2PA_DIR "2pa-pcidomain32bits"
#define HWLOC_2PA_DEVICES 9
#define PCI_IDS "/usr/share/misc/pci.ids"

/* A hang guard, not a timing assertion: a test that waits this long for
 * something the main loop should bring has failed. */
#define DEADLINE_S 60

/* The fixture tree, unpacked once. */
static char *shared_dir;

/* ---- helpers ------------------------------------------------------------- */

static gboolean
on_tick(gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the default main context until @cond holds; fails the test past
 * the deadline. A tick wakes the loop up to check both. */
static void
iterate_until(gboolean (*cond)(gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add(50, on_tick, NULL);

  while (!cond(data)) {
    if (g_get_monotonic_time() > deadline)
      g_error("still waiting after %d s", DEADLINE_S);
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(tick);
}

static gboolean
result_arrived(gpointer data)
{
  return *(GAsyncResult **)data != NULL;
}

static void
on_run_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **ret = user_data;

  g_assert_null(*ret);
  *ret = g_object_ref(result);
}

/* Runs @argv through the main loop and returns what finish returns. */
static GBytes *
run_cancellable(const char *const *argv, guint timeout_ms, gsize max_output,
                GCancellable *cancellable, GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pp_probe_run_async(argv, timeout_ms, max_output, cancellable, on_run_done, &result);
  /* Never synchronous: the callback comes from the loop. */
  g_assert_null(result);
  iterate_until(result_arrived, &result);
  return pp_probe_run_finish(result, error);
}

static GBytes *
run(const char *const *argv, guint timeout_ms, gsize max_output, GError **error)
{
  return run_cancellable(argv, timeout_ms, max_output, NULL, error);
}

/* The pid of a live (not zombie) process whose command line is exactly
 * @argv, or 0. The tests give their children unusual arguments
 * ("/bin/sleep 29.123") to find them. */
static pid_t
find_process(const char *const *argv)
{
  g_autoptr(GString) want = g_string_new(NULL);
  g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull(proc);
  for (guint i = 0; argv[i] != NULL; i++)
    g_string_append_len(want, argv[i], (gssize)strlen(argv[i]) + 1);
  while ((name = g_dir_read_name(proc)) != NULL) {
    g_autofree char *path = NULL;
    g_autofree char *cmdline = NULL;
    gsize len = 0;

    if (strspn(name, "0123456789") != strlen(name))
      continue;
    path = g_build_filename("/proc", name, "cmdline", NULL);
    /* A zombie's command line is empty; a process gone meanwhile fails. */
    if (!g_file_get_contents(path, &cmdline, &len, NULL))
      continue;
    if (len == want->len && memcmp(cmdline, want->str, len) == 0)
      return (pid_t)g_ascii_strtoll(name, NULL, 10);
  }
  return 0;
}

static gboolean
process_gone(gpointer data)
{
  return find_process(data) == 0;
}

static gboolean
process_running(gpointer data)
{
  return find_process(data) != 0;
}

/* A sleep's argument that no other test process uses, so that /proc finds
 * this process's children only: @seconds (past the hang guard where a sleep
 * must be killed), then this pid as the fraction. */
static char *
sleep_arg(guint seconds)
{
  return g_strdup_printf("%u.%u", seconds, (guint)getpid());
}

static char *
probe_path(void)
{
  return pp_test_build_path("src/host/pcipass-probe");
}

static char *
fixture_sys(void)
{
  return g_build_filename(shared_dir, HWLOC_2PA_DIR, "sys", NULL);
}

static void
assert_error_matches(const GError *error, int code, const char *part)
{
  g_assert_error(error, PP_PROBE_RUN_ERROR, code);
  if (strstr(error->message, part) == NULL)
    g_error("'%s' is not in the message '%s'", part, error->message);
}

/* ---- argv ---------------------------------------------------------------- */

static void
assert_argv(const char *const *got, const char *const *want)
{
  g_autofree char *got_text = g_strjoinv(" | ", (char **)got);
  g_autofree char *want_text = g_strjoinv(" | ", (char **)want);

  g_assert_cmpstr(got_text, ==, want_text);
  g_assert_cmpuint(g_strv_length((char **)got), ==, g_strv_length((char **)want));
}

static void
test_argv_local(void)
{
  PpProbeTarget target = { .probe_path = "pcipass-probe", .connect_timeout_s = 10 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_argv_build(&target, &error);

  g_assert_no_error(error);
  assert_argv((const char *const *)argv, (const char *const[]){ "pcipass-probe", NULL });
}

static void
test_argv_ssh(void)
{
  PpProbeTarget target = { .ssh_user = "root",
                           .ssh_host = "hv1.example.org",
                           .ssh_port = 2222,
                           .probe_path = "/usr/bin/pcipass-probe",
                           .connect_timeout_s = 7 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_argv_build(&target, &error);
  g_auto(GStrv) plain = NULL;
  g_auto(GStrv) v6 = NULL;

  g_assert_no_error(error);
  assert_argv((const char *const *)argv,
              (const char *const[]){ "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=7", "-p",
                                     "2222", "-l", "root", "--", "hv1.example.org",
                                     "/usr/bin/pcipass-probe", NULL });

  /* No user, no port: neither option. */
  target.ssh_user = NULL;
  target.ssh_port = 0;
  plain = pp_probe_argv_build(&target, &error);
  g_assert_no_error(error);
  assert_argv((const char *const *)plain,
              (const char *const[]){ "ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=7", "--",
                                     "hv1.example.org", "/usr/bin/pcipass-probe", NULL });

  /* Addresses are host names too. */
  target.ssh_host = "[fe80::1%eth0]";
  v6 = pp_probe_argv_build(&target, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(v6[6], ==, "[fe80::1%eth0]");
}

static void
test_argv_command_wins(void)
{
  const char *const command[] = { "/opt/probe", "--sysfs-root", "/srv/my hosts/a", NULL };
  PpProbeTarget target = { .probe_command = command,
                           .ssh_user = "root",
                           .ssh_host = "hv1",
                           .probe_path = "pcipass-probe",
                           .connect_timeout_s = 10 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_argv_build(&target, &error);

  g_assert_no_error(error);
  assert_argv((const char *const *)argv, command);
}

static void
assert_argv_refused(const PpProbeTarget *target, const char *part)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_argv_build(target, &error);

  g_assert_null(argv);
  assert_error_matches(error, PP_PROBE_RUN_ERROR_INVALID, part);
}

static void
test_argv_bad(void)
{
  static const char *const bad_hosts[] = {
    "-oProxyCommand=x",
    "a b",
    "",
    "-",
    "a;b",
    "$(reboot)",
    "a`b`",
    "a\nb",
    "host/x",
    "a'b",
    /* The user is a setting of its own (pp-host-spec: as the store keeps it). */
    "admin@hv1",
  };
  static const char *const bad_users[] = { "-l", "a b", "", "a@b", "a;b", "ro:ot" };
  const char *const empty_command[] = { NULL };
  const char *const empty_word[] = { "", "x", NULL };
  g_autofree char *long_host = g_strnfill(256, 'a');

  for (guint i = 0; i < G_N_ELEMENTS(bad_hosts); i++) {
    PpProbeTarget target = { .ssh_host = bad_hosts[i], .probe_path = "pcipass-probe" };
    assert_argv_refused(&target, "the ssh host ");
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad_users); i++) {
    PpProbeTarget target = { .ssh_user = bad_users[i],
                             .ssh_host = "hv1",
                             .probe_path = "pcipass-probe" };
    assert_argv_refused(&target, "the ssh user ");
  }
  assert_argv_refused(&(PpProbeTarget){ .ssh_host = long_host, .probe_path = "p" },
                      "the ssh host must have 1 to 255 bytes; it has 256");
  assert_argv_refused(&(PpProbeTarget){ .ssh_host = "hv1", .ssh_port = 65536, .probe_path = "p" },
                      "the ssh port 65536 is not 1 to 65535");
  assert_argv_refused(&(PpProbeTarget){ .ssh_host = "hv1", .ssh_port = -1, .probe_path = "p" },
                      "the ssh port -1 is not 1 to 65535");
  /* The remote shell would read these. */
  assert_argv_refused(&(PpProbeTarget){ .ssh_host = "hv1", .probe_path = "probe; reboot" },
                      "bad probe path 'probe; reboot' for ssh");
  assert_argv_refused(&(PpProbeTarget){ .ssh_host = "hv1", .probe_path = "-oX" }, "bad probe path");
  assert_argv_refused(&(PpProbeTarget){ .probe_command = empty_command, .probe_path = "p" },
                      "a probe command has 1 to 64 words; this one has 0");
  assert_argv_refused(&(PpProbeTarget){ .probe_command = empty_word, .probe_path = "p" },
                      "the probe command's program is an empty word");
  assert_argv_refused(&(PpProbeTarget){ .probe_path = "" }, "the probe path is empty");
  assert_argv_refused(&(PpProbeTarget){ .ssh_user = "root", .probe_path = "p" },
                      "without an ssh host");
}

/* ---- command lines ------------------------------------------------------- */

static void
assert_parse(const char *text, const char *const *want)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_command_parse(text, &error);

  g_assert_no_error(error);
  assert_argv((const char *const *)argv, want);
}

static void
assert_parse_refused(const char *text, const char *part)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = pp_probe_command_parse(text, &error);

  g_assert_null(argv);
  assert_error_matches(error, PP_PROBE_RUN_ERROR_INVALID, part);
}

static void
test_command_parse(void)
{
  g_autoptr(GString) many = g_string_new(NULL);
  g_autofree char *too_long = NULL;
  g_autofree char *longest = NULL;

  assert_parse("pcipass-probe --sysfs-root '/srv/my hosts/a'",
               (const char *const[]){ "pcipass-probe", "--sysfs-root", "/srv/my hosts/a", NULL });
  assert_parse("  a \"b c\"  d\\ e\t'f'\"g\" ",
               (const char *const[]){ "a", "b c", "d e", "fg", NULL });
  assert_parse("echo 'it'\\''s' \"a \\\"q\\\" \\\\ b\"",
               (const char *const[]){ "echo", "it's", "a \"q\" \\ b", NULL });
  /* Nothing is expanded, nothing redirects. */
  assert_parse("probe $HOME ~ * `id` > out",
               (const char *const[]){ "probe", "$HOME", "~", "*", "`id`", ">", "out", NULL });

  assert_parse_refused("", "the probe command is empty");
  assert_parse_refused("   \t ", "the probe command is empty");
  assert_parse_refused("''", "empty");
  assert_parse_refused("probe 'unterminated", "quot");
  assert_parse_refused("probe \"unterminated", "quot");

  /* 4096 bytes pass, 4097 do not. */
  longest = g_strnfill(4096, 'a');
  assert_parse(longest, (const char *const[]){ longest, NULL });
  too_long = g_strnfill(4097, 'a');
  assert_parse_refused(too_long, "longer than 4096 bytes");

  /* 64 words pass, 65 do not (pp-host-spec: what the store keeps). */
  for (guint i = 0; i < 64; i++)
    g_string_append(many, "w ");
  {
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = pp_probe_command_parse(many->str, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(argv), ==, 64);
  }
  g_string_append(many, "w");
  assert_parse_refused(many->str, "a probe command has 1 to 64 words; this one has 65");
}

/* ---- runs ---------------------------------------------------------------- */

static void
test_run_probe(void)
{
  g_autofree char *probe = probe_path();
  g_autofree char *sys = fixture_sys();
  const char *const argv[] = { probe,   "--sysfs-root", sys,    "--pci-ids", PCI_IDS,
                               "--all", "--hostname",   "hv-a", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = run(argv, 60000, 16 << 20, &error);
  g_autoptr(PpProbeReport) report = NULL;
  gsize len = 0;
  const char *text;

  g_assert_no_error(error);
  g_assert_nonnull(out);
  text = g_bytes_get_data(out, &len);
  report = pp_probe_report_parse(text, len, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(report->hostname, ==, "hv-a");
  g_assert_cmpuint(report->devices->len, ==, HWLOC_2PA_DEVICES);
}

static void
test_run_empty_output(void)
{
  g_autoptr(GError) error = NULL;
  /* cat reads standard input: /dev/null ends it at once. */
  g_autoptr(GBytes) out = run((const char *const[]){ "/bin/cat", NULL }, 60000, 1024, &error);

  g_assert_no_error(error);
  g_assert_nonnull(out);
  g_assert_cmpuint(g_bytes_get_size(out), ==, 0);
}

static void
test_run_path_search(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out =
      run((const char *const[]){ "echo", "a  b", "$HOME", NULL }, 60000, 1024, &error);

  g_assert_no_error(error);
  g_assert_cmpmem(g_bytes_get_data(out, NULL), g_bytes_get_size(out), "a  b $HOME\n", 11);
}

static void
test_run_exit_status(void)
{
  g_autofree char *probe = probe_path();
  g_autofree char *sys = fixture_sys();
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *conf = g_build_filename(dir, "pci.conf", NULL);
  const char *const argv[] = { probe, "--sysfs-root", sys, "--config", conf, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autofree char *own = NULL;

  pp_test_write_file(conf, ":filter: [ \"zz\" ]\n");
  out = run(argv, 60000, 16 << 20, &error);
  g_assert_null(out);
  /* The probe's own message (the file, the line, the pattern) after the
   * status. */
  own = g_strdup_printf("exit status 2: pcipass-probe: %s: line 1", conf);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_EXIT);
  g_assert_true(g_str_has_prefix(error->message, own));
  assert_error_matches(error, PP_PROBE_RUN_ERROR_EXIT, "'zz'");
  pp_test_rmtree(dir);
}

static void
test_run_stderr_tail(void)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;

  /* ls says one line per missing file: 200 of them, over 4 KiB. */
  g_ptr_array_add(argv, g_strdup("/bin/ls"));
  for (guint i = 0; i < 200; i++)
    g_ptr_array_add(argv, g_strdup_printf("/nonexistent-pcipass-test-%03u", i));
  g_ptr_array_add(argv, NULL);
  out = run((const char *const *)argv->pdata, 60000, 1024, &error);
  g_assert_null(out);
  assert_error_matches(error, PP_PROBE_RUN_ERROR_EXIT, "/nonexistent-pcipass-test-199");
  g_assert_true(g_str_has_prefix(error->message, "exit status 2: "));
  /* The last lines only, one line of text. */
  g_assert_null(strstr(error->message, "/nonexistent-pcipass-test-000"));
  g_assert_null(strstr(error->message, "/nonexistent-pcipass-test-195"));
  g_assert_nonnull(strstr(error->message, "/nonexistent-pcipass-test-196"));
  g_assert_null(strchr(error->message, '\n'));
  g_assert_cmpuint(strlen(error->message), <, 4096);
}

static void
test_run_no_stderr(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = run((const char *const[]){ "/bin/false", NULL }, 60000, 1024, &error);

  g_assert_null(out);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_EXIT);
  g_assert_cmpstr(error->message, ==, "exit status 1");
}

static void
test_run_spawn(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out =
      run((const char *const[]){ "/nonexistent/pcipass-probe", NULL }, 60000, 1024, &error);
  g_autoptr(GBytes) out2 = NULL;

  g_assert_null(out);
  assert_error_matches(error, PP_PROBE_RUN_ERROR_SPAWN, "could not be started: ");
  assert_error_matches(error, PP_PROBE_RUN_ERROR_SPAWN, "/nonexistent/pcipass-probe");
  g_clear_error(&error);

  /* Searched in PATH, not found there. */
  out2 = run((const char *const[]){ "pcipass-no-such-program", NULL }, 60000, 1024, &error);
  g_assert_null(out2);
  assert_error_matches(error, PP_PROBE_RUN_ERROR_SPAWN, "pcipass-no-such-program");
}

static void
test_run_timeout(void)
{
  g_autofree char *seconds = sleep_arg(301);
  const char *const argv[] = { "/bin/sleep", seconds, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = run(argv, 300, 1024, &error);

  g_assert_null(out);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TIMEOUT);
  g_assert_cmpstr(error->message, ==, "killed after 0.3 s (the probe timeout)");
  /* Killed and reaped before the run finished. */
  g_assert_cmpint(find_process(argv), ==, 0);
}

static void
test_run_timeout_whole_seconds(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out =
      run((const char *const[]){ "/bin/sleep", "302", NULL }, 1000, 1024, &error);

  g_assert_null(out);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TIMEOUT);
  g_assert_cmpstr(error->message, ==, "killed after 1 s (the probe timeout)");
}

static void
test_run_timeout_group(void)
{
  /* xargs runs sleep as its child (once: its standard input is empty),
   * in the same process group: killing only xargs would leave sleep
   * behind. (coreutils' timeout would not do: its child dies with it.) */
  g_autofree char *seconds = sleep_arg(303);
  const char *const sleeper[] = { "/bin/sleep", seconds, NULL };
  const char *const argv[] = { "/usr/bin/xargs", "/bin/sleep", seconds, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) out = NULL;

  /* Cancelled once the grandchild runs: no race with the timeout. */
  pp_probe_run_async(argv, 60000, 1024, cancellable, on_run_done, &result);
  iterate_until(process_running, (gpointer)sleeper);
  g_cancellable_cancel(cancellable);
  /* The kill is synchronous; the grandchild dies without the loop. */
  iterate_until(process_gone, (gpointer)sleeper);
  iterate_until(result_arrived, &result);
  out = pp_probe_run_finish(result, &error);
  g_assert_null(out);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error(&error);
  g_clear_object(&result);

  /* The same at the timeout. */
  out = run(argv, 500, 1024, &error);
  g_assert_null(out);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TIMEOUT);
  iterate_until(process_gone, (gpointer)sleeper);
}

static void
test_run_signal(void)
{
  g_autofree char *seconds = sleep_arg(304);
  const char *const argv[] = { "/bin/sleep", seconds, NULL };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  pid_t pid;

  pp_probe_run_async(argv, 60000, 1024, NULL, on_run_done, &result);
  iterate_until(process_running, (gpointer)argv);
  pid = find_process(argv);
  g_assert_cmpint(kill(pid, SIGTERM), ==, 0);
  iterate_until(result_arrived, &result);
  out = pp_probe_run_finish(result, &error);
  g_assert_null(out);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_EXIT);
  g_assert_cmpstr(error->message, ==, "killed by signal 15");
}

static void
test_run_too_big(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "big", NULL);
  g_autofree char *text = g_strnfill(100000, 'x');
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) exact = NULL;
  g_autoptr(GBytes) over = NULL;
  g_autoptr(GBytes) endless = NULL;
  g_autofree char *word = g_strdup_printf("pcipass-test-yes-%u", (guint)getpid());

  pp_test_write_file(path, text);
  /* Exactly the bound passes, whole. */
  exact = run((const char *const[]){ "/bin/cat", path, NULL }, 60000, 100000, &error);
  g_assert_no_error(error);
  g_assert_cmpmem(g_bytes_get_data(exact, NULL), g_bytes_get_size(exact), text, 100000);

  /* One byte under it does not. */
  over = run((const char *const[]){ "/bin/cat", path, NULL }, 60000, 99999, &error);
  g_assert_null(over);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TOO_BIG);
  g_assert_cmpstr(error->message, ==, "printed more than 99999 bytes");
  g_clear_error(&error);

  /* A program that never stops printing is killed, not waited for. */
  endless = run((const char *const[]){ "/usr/bin/yes", word, NULL }, 600000, 1 << 20, &error);
  g_assert_null(endless);
  g_assert_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TOO_BIG);
  g_assert_cmpstr(error->message, ==, "printed more than 1048576 bytes");
  g_assert_cmpint(find_process((const char *const[]){ "/usr/bin/yes", word, NULL }), ==, 0);
  pp_test_rmtree(dir);
}

static void
test_run_cancelled_before(void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;

  g_cancellable_cancel(cancellable);
  out = run_cancellable((const char *const[]){ "/bin/sleep", "305", NULL }, 60000, 1024,
                        cancellable, &error);
  g_assert_null(out);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main(int argc, char **argv)
{
  int status;

  g_test_init(&argc, &argv, NULL);

  shared_dir = pp_test_mkdtemp();
  pp_test_unpack(HWLOC_2PA, shared_dir);

  g_test_add_func("/probe-run/argv/local", test_argv_local);
  g_test_add_func("/probe-run/argv/ssh", test_argv_ssh);
  g_test_add_func("/probe-run/argv/command-wins", test_argv_command_wins);
  g_test_add_func("/probe-run/argv/bad", test_argv_bad);
  g_test_add_func("/probe-run/command/parse", test_command_parse);
  g_test_add_func("/probe-run/run/probe", test_run_probe);
  g_test_add_func("/probe-run/run/empty-output", test_run_empty_output);
  g_test_add_func("/probe-run/run/path-search", test_run_path_search);
  g_test_add_func("/probe-run/run/exit-status", test_run_exit_status);
  g_test_add_func("/probe-run/run/stderr-tail", test_run_stderr_tail);
  g_test_add_func("/probe-run/run/no-stderr", test_run_no_stderr);
  g_test_add_func("/probe-run/run/spawn", test_run_spawn);
  g_test_add_func("/probe-run/run/timeout", test_run_timeout);
  g_test_add_func("/probe-run/run/timeout-whole-seconds", test_run_timeout_whole_seconds);
  g_test_add_func("/probe-run/run/timeout-group", test_run_timeout_group);
  g_test_add_func("/probe-run/run/signal", test_run_signal);
  g_test_add_func("/probe-run/run/too-big", test_run_too_big);
  g_test_add_func("/probe-run/run/cancelled-before", test_run_cancelled_before);

  status = g_test_run();
  pp_test_rmtree(shared_dir);
  g_free(shared_dir);
  return status;
}
