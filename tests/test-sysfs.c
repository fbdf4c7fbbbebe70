/* pp-sysfs's whole-file readers: the limit holds to the byte, a file is
 * read whole whatever its size below it, on a folder made here and on this
 * machine's real /proc (whose files say nothing of their size). */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "pp-autoptr.h"
#include "pp-sysfs.h"
#include "pp-test-util.h"

static PpSysfs *
open_or_die(const char *root)
{
  g_autoptr(GError) error = NULL;
  PpSysfs *sysfs = pp_sysfs_open(root, &error);

  g_assert_no_error(error);
  return sysfs;
}

/* A configuration file exactly as it is, up to its limit and not a byte
 * more; nothing is returned for a file over it. */
static void
test_read_file_limit(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "etc", "big.conf", NULL);
  g_autoptr(PpSysfs) root = open_or_die(dir);
  g_autoptr(GString) text = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *got = NULL;

  /* Larger than the buffer a small file gets, with a NUL-free tail. */
  while (text->len < 300000)
    g_string_append(text, "option = value\n");
  pp_test_write_file(path, text->str);

  got = pp_sysfs_read_file(root, "etc/big.conf", text->len, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(got, ==, text->str);
  g_clear_pointer(&got, g_free);

  got = pp_sysfs_read_file(root, "etc/big.conf", text->len - 1, &error);
  g_assert_null(got);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "etc/big.conf' is larger than 299999"));
  g_clear_error(&error);

  got = pp_sysfs_read_file(root, "etc/none.conf", 100, &error);
  g_assert_null(got);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* An empty file is "", not absent. */
  pp_test_write_file(path, "");
  got = pp_sysfs_read_file(root, "etc/big.conf", 100, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(got, ==, "");
  pp_test_rmtree(dir);
}

/* Text loses its trailing newlines only; the limit counts them. */
static void
test_read_text(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *path = g_build_filename(dir, "proc", "cmdline", NULL);
  g_autoptr(PpSysfs) root = open_or_die(dir);
  g_autoptr(GError) error = NULL;
  g_autofree char *got = NULL;

  pp_test_write_file(path, "root=/dev/sda1\nquiet\n\n");
  got = pp_sysfs_read_text(root, "proc/cmdline", 22, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(got, ==, "root=/dev/sda1\nquiet");
  g_clear_pointer(&got, g_free);

  got = pp_sysfs_read_text(root, "proc/cmdline", 21, &error);
  g_assert_null(got);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "proc/cmdline"));
  pp_test_rmtree(dir);
}

/* This machine's /proc/self/mountinfo: its size says 0, it is read whole
 * (every line ends a mount), and a limit below its length refuses it. */
static void
test_read_real_proc(void)
{
  g_autoptr(PpSysfs) proc = open_or_die("/proc");
  g_autoptr(GError) error = NULL;
  g_autofree char *got = pp_sysfs_read_text(proc, "self/mountinfo", 4 * 1024 * 1024, &error);
  g_autofree char *small = NULL;

  g_assert_no_error(error);
  g_assert_nonnull(strstr(got, " / "));
  g_assert_cmpuint(strlen(got), >, 20);
  small = pp_sysfs_read_text(proc, "self/mountinfo", 10, &error);
  g_assert_null(small);
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sysfs/read-file-limit", test_read_file_limit);
  g_test_add_func("/sysfs/read-text", test_read_text);
  g_test_add_func("/sysfs/read-real-proc", test_read_real_proc);
  return g_test_run();
}
