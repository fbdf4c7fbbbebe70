/* `meson install` of this build into a temporary DESTDIR: the installed
 * programs read their configuration where it was installed, pcipassd's
 * default probe is the installed pcipass-probe and it runs, and the manual
 * pages and systemd units are there. The programs are run from DESTDIR;
 * the paths they name are the ones they would use once installed, so each
 * is checked as DESTDIR + path. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-test-util.h"

#define HWLOC_2PA "hwloc-sysfs/2pa-pcidomain32bits.tar.bz2"

static char *destdir;
/* What meson installed: build or source path -> installed path. */
static json_t *installed;

static char *
read_file(const char *path)
{
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("%s", error->message);
  return text;
}

/* The installed path of the build or source file that ends with @suffix;
 * fails unless exactly one does. */
static const char *
installed_path(const char *suffix)
{
  const char *from;
  const char *found = NULL;
  json_t *to;

  json_object_foreach(installed, from, to)
  {
    if (g_str_has_suffix(from, suffix)) {
      if (found != NULL)
        g_error("more than one installed file ends with '%s'", suffix);
      found = json_string_value(to);
    }
  }
  if (found == NULL)
    g_error("meson installs nothing that ends with '%s'", suffix);
  g_assert_true(g_path_is_absolute(found));
  return found;
}

/* DESTDIR + @path. */
static char *
staged(const char *path)
{
  return g_build_filename(destdir, path, NULL);
}

/* The value of `key = value` in pcipassd's --print-config. */
static char *
printed_value(const char *printed, const char *key)
{
  g_autofree char *start = g_strdup_printf("\n%s = ", key);
  const char *at = strstr(printed, start);
  const char *end;

  if (at == NULL)
    g_error("--print-config has no '%s': %s", key, printed);
  at += strlen(start);
  end = strchr(at, '\n');
  g_assert_nonnull(end);
  return g_strndup(at, (gsize)(end - at));
}

static char *
print_config(void)
{
  g_autofree char *daemon = staged(installed_path("/src/server/pcipassd"));
  PpTestRun run = { 0 };
  char *out;

  pp_test_run((const char *const[]){ daemon, "--print-config", NULL }, NULL, &run);
  if (run.status != 0)
    g_error("the installed pcipassd --print-config exited %d: %s", run.status, run.err);
  out = g_steal_pointer(&run.out);
  pp_test_run_clear(&run);
  return out;
}

/* pcipassd reads the pcipassd.conf that meson installed, and says so. */
static void
test_daemon_config(void)
{
  g_autofree char *printed = print_config();
  const char *conf = installed_path("/data/pcipassd.conf");
  g_autofree char *want = g_strdup_printf("# config file: %s", conf);
  g_autofree char *staged_conf = staged(conf);
  g_autofree char *source = g_test_build_filename(G_TEST_DIST, "..", "data", "pcipassd.conf", NULL);
  g_autofree char *text = NULL;
  g_autofree char *shipped = NULL;

  /* Its first line names the file: the installed one (absent from the real
   * PREFIX unless installed there, which the test does not ask). */
  if (!g_str_has_prefix(printed, want))
    g_error("pcipassd reads '%s', meson installs '%s'", printed, conf);
  g_assert_true(g_str_has_suffix(conf, "/pcipass/pcipassd.conf"));
  text = read_file(staged_conf);
  shipped = read_file(source);
  g_assert_cmpstr(text, ==, shipped);
}

/* pcipass-probe's default pci.conf is the installed one. */
static void
test_probe_config(void)
{
  g_autofree char *probe = staged(installed_path("/src/host/pcipass-probe"));
  const char *conf = installed_path("/data/pci.conf");
  g_autofree char *want = g_strdup_printf("(default %s)", conf);
  g_autofree char *staged_conf = staged(conf);
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ probe, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  if (strstr(run.out, want) == NULL)
    g_error("pcipass-probe's default pci.conf is not the installed '%s': %s", conf, run.out);
  g_assert_true(g_file_test(staged_conf, G_FILE_TEST_IS_REGULAR));
}

/* pcipassd's default probe path is the installed pcipass-probe, which runs
 * with the installed pci.conf on a real capture. */
static void
test_probe_path(void)
{
  g_autofree char *printed = print_config();
  g_autofree char *probe_path = printed_value(printed, "probe-path");
  g_autofree char *probe = staged(probe_path);
  g_autofree char *conf = staged(installed_path("/data/pci.conf"));
  g_autofree char *trees = pp_test_mkdtemp();
  g_autofree char *sys = g_build_filename(trees, "2pa-pcidomain32bits", "sys", NULL);
  g_auto(PpTestRun) run = { 0 };

  g_assert_cmpstr(probe_path, ==, installed_path("/src/host/pcipass-probe"));
  g_assert_true(g_file_test(probe, G_FILE_TEST_IS_EXECUTABLE));
  pp_test_unpack(HWLOC_2PA, trees);

  /* The shipped pci.conf offers nothing; --all shows the probe reads the
   * capture, the config run that it reads the installed file. */
  pp_test_run((const char *const[]){ probe, "--config", conf, "--sysfs-root", sys, "--hostname",
                                     "t", NULL },
              NULL, &run);
  if (run.status != 0)
    g_error("the installed probe exited %d: %s", run.status, run.err);
  g_assert_nonnull(strstr(run.out, "HOSTNAME = \"t\""));
  g_assert_null(strstr(run.out, "PCI = ["));
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ probe, "--all", "--sysfs-root", sys, "--hostname", "t", NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpuint(pp_test_count(run.out, "PCI = ["), ==, 9);
  pp_test_rmtree(trees);
}

/* Every manual page of man/ is installed, in its section. */
static void
test_man_pages(void)
{
  g_autofree char *man = g_test_build_filename(G_TEST_DIST, "..", "man", NULL);
  g_autoptr(GDir) dir = g_dir_open(man, 0, NULL);
  const char *name;
  guint pages = 0;

  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    const char *dot = strrchr(name, '.');
    g_autofree char *suffix = NULL;
    g_autofree char *path = NULL;
    g_autofree char *section = NULL;
    const char *to;

    if (dot == NULL || strchr("158", dot[1]) == NULL || dot[2] != '\0')
      continue;
    suffix = g_strdup_printf("/man/%s", name);
    to = installed_path(suffix);
    section = g_strdup_printf("/man%c/%s", dot[1], name);
    g_assert_true(g_str_has_suffix(to, section));
    path = staged(to);
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    pages++;
  }
  g_assert_cmpuint(pages, >=, 5);
}

/* The systemd units start the installed programs. */
static void
test_units(void)
{
  static const char *const units[][2] = {
    { "/data/pcipassd.service", "/src/server/pcipassd" },
    { "/data/pcipass-vfio.service", "/src/host/pcipass-vfio" },
    { "/data/pcipass-probe-push.service", "/src/host/pcipass-probe" },
    { "/data/pcipass-context.service", "/src/guest/pcipass-context" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
    g_autofree char *unit = staged(installed_path(units[i][0]));
    g_autofree char *text = read_file(unit);
    const char *program = installed_path(units[i][1]);
    g_autofree char *exec = g_strdup_printf("\nExecStart=%s", program);
    g_autofree char *staged_program = staged(program);

    if (strstr(text, exec) == NULL)
      g_error("%s does not start %s", unit, program);
    g_assert_true(g_file_test(staged_program, G_FILE_TEST_IS_EXECUTABLE));
  }
  /* The push service reads the push.conf installed beside pci.conf, and
   * its timer is there. */
  {
    g_autofree char *unit = staged(installed_path("/data/pcipass-probe-push.service"));
    g_autofree char *text = read_file(unit);
    g_autofree char *conf_dir = g_path_get_dirname(installed_path("/data/pci.conf"));
    g_autofree char *env = g_strdup_printf("\nEnvironmentFile=%s/push.conf\n", conf_dir);
    g_autofree char *push_conf = staged(installed_path("/data/push.conf"));
    g_autofree char *timer = staged(installed_path("/data/pcipass-probe-push.timer"));

    if (strstr(text, env) == NULL)
      g_error("%s does not read %s/push.conf", unit, conf_dir);
    g_assert_true(g_file_test(push_conf, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(timer, G_FILE_TEST_IS_REGULAR));
  }
}

int
main(int argc, char **argv)
{
  const char *build = g_getenv("PP_BUILD_ROOT");
  g_auto(PpTestRun) run = { 0 };
  json_error_t json_error;
  int status;

  g_test_init(&argc, &argv, NULL);
  g_assert_nonnull(build);
  destdir = pp_test_mkdtemp();

  /* The build is complete: meson test builds every target first. */
  pp_test_run((const char *const[]){ PP_MESON, "install", "-C", build, "--no-rebuild", "--quiet",
                                     "--destdir", destdir, NULL },
              NULL, &run);
  if (run.status != 0)
    g_error("meson install exited %d: %s%s", run.status, run.out, run.err);
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ PP_MESON, "introspect", "--installed", build, NULL }, NULL,
              &run);
  g_assert_cmpint(run.status, ==, 0);
  installed = json_loads(run.out, 0, &json_error);
  if (!json_is_object(installed))
    g_error("meson introspect --installed: %s", json_error.text);

  g_test_add_func("/install/daemon-config", test_daemon_config);
  g_test_add_func("/install/probe-config", test_probe_config);
  g_test_add_func("/install/probe-path", test_probe_path);
  g_test_add_func("/install/man-pages", test_man_pages);
  g_test_add_func("/install/units", test_units);
  status = g_test_run();

  json_decref(installed);
  pp_test_rmtree(destdir);
  g_free(destdir);
  return status;
}
