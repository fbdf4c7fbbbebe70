/* pci.conf parsing: the YAML forms of the guide, and every error with its
 * line, column and key. The probe's tests run the same through the binary. */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "pp-pci-filter.h"
#include "pp-pciconf.h"
#include "pp-test-util.h"

static PpPciFilter *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpPciFilter *f = pp_pciconf_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  g_assert_nonnull(f);
  return f;
}

static void
parse_fails(const char *text, const char *want)
{
  g_autoptr(GError) error = NULL;
  PpPciFilter *f = pp_pciconf_parse(text, strlen(text), &error);

  if (f != NULL)
    g_error("parsed, but should fail with '%s'", want);
  g_assert_error(error, PP_PCICONF_ERROR, PP_PCICONF_ERROR_INVALID);
  if (strstr(error->message, want) == NULL)
    g_error("got '%s', want '%s'", error->message, want);
}

static void
test_reference_file(void)
{
  /* The guide's own pci.conf, comments and all, with its examples active. */
  g_autoptr(PpPciFilter) f =
      parse_ok("# This option specifies the main filters for PCI card monitoring. The format\n"
               "# is the same as used by lspci to filter on PCI card by vendor:device(:class)\n"
               ":filter:\n"
               "  - '10de:*'      # all NVIDIA VGA cards\n"
               "  - '10de:11bf'   # only GK104GL [GRID K2]\n"
               "  - '*:10d3'      # only 82574L Gigabit Network cards\n"
               "  - '8086::0c03'  # only Intel USB controllers\n"
               "\n"
               ":short_address:\n"
               "  - '07:00.0'\n"
               "  - '06:00.0'\n"
               "\n"
               ":device_name:\n"
               "  - 'Virtual Function'\n"
               "  - 'Gigabit Network'\n"
               "  - 'USB.*Host Controller'\n"
               "  - '^MegaRAID'\n");
  g_autoptr(PpPciDevice) nic = pp_test_device_new("0000:07:00.0", 0x8086, 0x10d3, 0x020000,
                                                  "82574L Gigabit Network Connection");
  g_autoptr(PpPciDevice) elsewhere = pp_test_device_new("0000:08:00.0", 0x8086, 0x10d3, 0x020000,
                                                        "82574L Gigabit Network Connection");
  g_autoptr(PpPciDevice) gpu =
      pp_test_device_new("0000:06:00.0", 0x10de, 0x11bf, 0x030000, "GK104GL");

  g_assert_cmpuint(pp_pci_filter_get_n_id_patterns(f), ==, 4);
  g_assert_true(pp_pci_filter_match(f, nic));
  g_assert_false(pp_pci_filter_match(f, elsewhere));
  /* The GPU passes filter and address, not the names. */
  g_assert_false(pp_pci_filter_match(f, gpu));
}

static void
test_defaults_and_nulls(void)
{
  g_autoptr(PpPciDevice) gpu =
      pp_test_device_new("0000:06:00.0", 0x10de, 0x11bf, 0x030000, "GK104GL");
  g_autoptr(PpPciFilter) empty = parse_ok("");
  g_autoptr(PpPciFilter) comments = parse_ok("# nothing\n");
  g_autoptr(PpPciFilter) null_filter = parse_ok(":filter:\n");
  g_autoptr(PpPciFilter) tilde = parse_ok(":filter: ~\n:short_address:\n:device_name: null\n");
  g_autoptr(PpPciFilter) ignored = parse_ok(":filter: '*:*'\n:nvidia_vendors: [ '10de' ]\n");
  g_autoptr(PpPciFilter) empty_list = parse_ok(":filter: []\n");

  g_assert_false(pp_pci_filter_match(empty, gpu));
  g_assert_false(pp_pci_filter_match(comments, gpu));
  g_assert_true(pp_pci_filter_match(null_filter, gpu));
  g_assert_true(pp_pci_filter_match(tilde, gpu));
  g_assert_true(pp_pci_filter_match(ignored, gpu));
  g_assert_false(pp_pci_filter_match(empty_list, gpu));
}

static void
test_errors(void)
{
  parse_fails(":filter: '1af4'\n", "line 1, column 10: :filter: '1af4' is not a vendor:device");
  parse_fails(":filter: ''\n", "line 1, column 10: :filter: '' has an empty pattern");
  parse_fails(":filter:\n  - \n", "line 2, column 4: each item of :filter must be a string, "
                                  "not empty");
  parse_fails(":filter: { a: b }\n", "line 1, column 10: :filter must be a pattern or a list");
  parse_fails(":device_name: [ '*x' ]\n", "line 1, column 17: :device_name: '*x' is not a "
                                          "valid regular expression");
  parse_fails(":short_address: ''\n", "line 1, column 17: :short_address: '' is not a PCI");
  parse_fails(":short_address: [ 'x' ]\n", "line 1, column 19: :short_address: 'x' is not a "
                                           "PCI address");
  parse_fails("? [a]\n: 1\n", "a key must be a string, not a list");
  parse_fails("just text\n", "line 1, column 1: the file must be a mapping");
  parse_fails(":filter: '*:*'\n  bad indent: 1\n",
              "line 2, column 3: not valid YAML: did not find expected key");
  /* The reader's errors (bytes) name the line of the byte. */
  parse_fails("# c\n# c\n:filter: '*:*'\n:device_name: 'a\x01"
              "b'\n",
              "line 4, column 17: not valid YAML: control characters are not allowed (byte 0x01)");
  parse_fails("# c\n:filter: '\xff'\n", "line 2, column 11: not valid YAML: invalid leading UTF-8");
  parse_fails("device_name: []\n", "unknown key 'device_name' (OpenNebula's keys start with "
                                   "':'");
  parse_fails(":filter: \"10de:*\"\n:filter: '*:*'", "line 2, column 1: :filter is given twice");
}

static void
test_too_large(void)
{
  gsize len = PP_PCICONF_MAX_SIZE + 1;
  g_autofree char *text = g_malloc(len);
  g_autoptr(GError) error = NULL;

  memset(text, '#', len);
  g_assert_null(pp_pciconf_parse(text, len, &error));
  g_assert_error(error, PP_PCICONF_ERROR, PP_PCICONF_ERROR_TOO_LARGE);
}

static void
test_load_names_file(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("pcipass-pciconf-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "pci.conf", NULL);

  g_assert_true(g_file_set_contents(path, ":filter: 'x'\n", -1, NULL));
  g_assert_null(pp_pciconf_load(path, &error));
  g_assert_true(g_str_has_prefix(error->message, path));
  g_assert_nonnull(strstr(error->message, ": line 1, column 10: :filter: 'x'"));
  g_clear_error(&error);
  g_assert_cmpint(g_unlink(path), ==, 0);
  g_assert_null(pp_pciconf_load(path, &error));
  g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pciconf/reference-file", test_reference_file);
  g_test_add_func("/pciconf/defaults-nulls", test_defaults_and_nulls);
  g_test_add_func("/pciconf/errors", test_errors);
  g_test_add_func("/pciconf/too-large", test_too_large);
  g_test_add_func("/pciconf/load", test_load_names_file);
  return g_test_run();
}
