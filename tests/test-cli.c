/* pcipass, the real binary: `template check` and the command dispatch. */
#include "config.h"

#include <string.h>

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
  want = g_strdup_printf("pcipass: %s: line 2, column 9: 'bar' follows the value of A", path);
  g_assert_true(g_str_has_prefix(run.err, want));
  pp_test_run_clear(&run);

  /* With --json too: the error on stderr, nothing on stdout. */
  run_cli((const char *const[]){ "template", "check", "--json", "-", NULL }, "N = [ A = 1, ]",
          &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "pcipass: <stdin>: line 1, column 14: expected a key name"));
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

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  cli = pp_test_build_path("src/cli/pcipass");
  g_test_add_func("/cli/template-check/file", test_check_file);
  g_test_add_func("/cli/template-check/json", test_check_json);
  g_test_add_func("/cli/template-check/errors", test_check_errors);
  g_test_add_func("/cli/template-check/too-large", test_check_too_large);
  g_test_add_func("/cli/dispatch", test_dispatch);
  rc = g_test_run();
  g_free(cli);
  return rc;
}
