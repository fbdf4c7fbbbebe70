/* libvirt's configuration format: Debian's real qemu.conf, edits that keep
 * every other byte, and the errors that stop pcipass from rewriting a file
 * it cannot parse. */
#include "config.h"

#include <string.h>

#include "pp-libvirt-conf.h"

static char *
read_data(const char *name)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "debian", name, NULL);
  char *text = NULL;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return text;
}

static PpLibvirtConf *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpLibvirtConf *conf = pp_libvirt_conf_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  return conf;
}

static void
test_debian_default(void)
{
  g_autofree char *text = read_data("qemu.conf");
  g_autoptr(PpLibvirtConf) conf = parse_ok(text);
  static const char *const acl[] = { "/dev/null", "/dev/vfio/vfio", "/dev/vfio/14", NULL };
  g_autofree char *edited = NULL;
  g_autoptr(PpLibvirtConf) again = NULL;
  g_auto(GStrv) got = NULL;

  /* Every setting is commented out there. */
  g_assert_false(pp_libvirt_conf_has(conf, "cgroup_device_acl"));
  g_assert_null(pp_libvirt_conf_get_strings(conf, "cgroup_device_acl"));

  edited = pp_libvirt_conf_set_strings(conf, "cgroup_device_acl", acl, "Added by a test");
  g_assert_true(g_str_has_prefix(edited, text));
  g_assert_cmpstr(edited + strlen(text), ==,
                  "\n# Added by a test\n"
                  "cgroup_device_acl = [\n"
                  "    \"/dev/null\",\n"
                  "    \"/dev/vfio/vfio\",\n"
                  "    \"/dev/vfio/14\"\n"
                  "]\n");
  again = parse_ok(edited);
  got = pp_libvirt_conf_get_strings(again, "cgroup_device_acl");
  g_assert_cmpstrv(got, acl);
}

static void
test_replace_in_place(void)
{
  static const char *text = "# head\n"
                            "user = \"qemu\"   # who\n"
                            "cgroup_device_acl = [ \"/dev/null\",  # one\n"
                            "   '/dev/kvm',\n"
                            "   # a comment inside\n"
                            "]\n"
                            "max_files = 32768\n";
  static const char *const acl[] = { "/dev/null", "/dev/kvm", "/dev/vfio/vfio", NULL };
  g_autoptr(PpLibvirtConf) conf = parse_ok(text);
  g_auto(GStrv) got = pp_libvirt_conf_get_strings(conf, "cgroup_device_acl");
  g_auto(GStrv) user = pp_libvirt_conf_get_strings(conf, "user");
  g_autofree char *edited = NULL;

  g_assert_cmpuint(g_strv_length(got), ==, 2);
  g_assert_cmpstr(got[1], ==, "/dev/kvm");
  g_assert_cmpstr(user[0], ==, "qemu");
  /* A number is not a list of strings. */
  g_assert_true(pp_libvirt_conf_has(conf, "max_files"));
  g_assert_null(pp_libvirt_conf_get_strings(conf, "max_files"));

  edited = pp_libvirt_conf_set_strings(conf, "cgroup_device_acl", acl, NULL);
  g_assert_cmpstr(edited, ==,
                  "# head\n"
                  "user = \"qemu\"   # who\n"
                  "cgroup_device_acl = [\n"
                  "    \"/dev/null\",\n"
                  "    \"/dev/kvm\",\n"
                  "    \"/dev/vfio/vfio\"\n"
                  "]\n"
                  "max_files = 32768\n");
}

static void
test_forms(void)
{
  g_autoptr(PpLibvirtConf) conf = parse_ok("a = \"\"\"multi\nline\"\"\"\nb = [ \"x\", ];\n"
                                           "c = -5\nd.e_f = [ ]\ng = 'it\"s'\n");
  g_auto(GStrv) a = pp_libvirt_conf_get_strings(conf, "a");
  g_auto(GStrv) b = pp_libvirt_conf_get_strings(conf, "b");
  g_auto(GStrv) d = pp_libvirt_conf_get_strings(conf, "d.e_f");
  g_auto(GStrv) g = pp_libvirt_conf_get_strings(conf, "g");
  static const char *const quoted[] = { "it\"s", NULL };
  g_autofree char *edited = pp_libvirt_conf_set_strings(conf, "g", quoted, NULL);

  g_assert_cmpstr(a[0], ==, "multi\nline");
  g_assert_cmpstr(b[0], ==, "x");
  g_assert_cmpuint(g_strv_length(d), ==, 0);
  g_assert_cmpstr(g[0], ==, "it\"s");
  /* A value with a double quote is written in single quotes. */
  g_assert_nonnull(strstr(edited, "g = [\n    'it\"s'\n]"));
}

/* A value on several lines, or with both kinds of quotes, is written in
 * triple quotes, and the edited file reads back (found by
 * fuzz-libvirt-conf: a triple-quoted value written back in double quotes
 * made a file that does not parse). */
static void
test_write_any_read_value(void)
{
  static const char text[] = "a = \"\"\"multi\nline\"\"\"\n"
                             "b = \"\"\"it's \"quoted\\\"\"\"\n";
  static const char *const values[] = { "multi\nline", "it's \"quoted\\", "plain", "it\"s", "it's",
                                        NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpLibvirtConf) conf = pp_libvirt_conf_parse(text, strlen(text), &error);
  g_autoptr(PpLibvirtConf) again = NULL;
  g_autofree char *edited = NULL;
  g_auto(GStrv) got = NULL;

  g_assert_no_error(error);
  edited = pp_libvirt_conf_set_strings(conf, "a", values, NULL);
  g_assert_nonnull(strstr(edited, "a = [\n    \"\"\"multi\nline\"\"\",\n"
                                  "    \"\"\"it's \"quoted\\\"\"\",\n"
                                  "    \"plain\",\n    'it\"s',\n    \"it's\"\n]\n"));
  again = pp_libvirt_conf_parse(edited, strlen(edited), &error);
  g_assert_no_error(error);
  got = pp_libvirt_conf_get_strings(again, "a");
  g_assert_true(g_strv_equal((const char *const *)got, values));
}

static void
test_errors(void)
{
  static const struct {
    const char *text, *message;
  } bad[] = {
    { "a = \"open\n", "line 1: a string ends at the end of the line" },
    { "a = [ \"x\"\n\"y\" ]", "line 2: expected ',' or ']' in a list" },
    { "a = [ \"x\",", "line 1: a list that starts here is not closed" },
    { "\na = [ \"x\"\n\n", "line 2: a list that starts here is not closed" },
    { "\n\n= 1", "line 3: expected a setting name, found '='" },
    { "a 1", "line 1: expected '=' after a" },
    { "a = b", "line 1: expected a value" },
    { "a = 1 2", "line 1: expected the end of the line after the value of a" },
    { "a = \"\"\"never\nclosed", "line 1: a string that starts here has no closing quote" },
    { "a = [ [ \"x\" ] ]", "line 1: expected a value" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;

    g_assert_null(pp_libvirt_conf_parse(bad[i].text, strlen(bad[i].text), &error));
    g_assert_error(error, PP_LIBVIRT_CONF_ERROR, PP_LIBVIRT_CONF_ERROR_INVALID);
    if (!g_str_has_prefix(error->message, bad[i].message))
      g_error("'%s': got '%s', want '%s'", bad[i].text, error->message, bad[i].message);
  }
}

/* A NUL byte, even in a comment, is refused with its line: the edited text
 * would end at it (found by fuzz-libvirt-conf: "#\0" parsed, and its
 * edit lost everything after the '#'). */
static void
test_nul_byte(void)
{
  static const char text[] = "a = 1\n# x\0y\nb = 2\n";
  g_autoptr(GError) error = NULL;

  g_assert_null(pp_libvirt_conf_parse(text, sizeof(text) - 1, &error));
  g_assert_error(error, PP_LIBVIRT_CONF_ERROR, PP_LIBVIRT_CONF_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "line 2: a NUL byte; the file must be text");
  g_clear_error(&error);
  g_assert_null(pp_libvirt_conf_parse("#\0", 2, &error));
  g_assert_cmpstr(error->message, ==, "line 1: a NUL byte; the file must be text");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/libvirt-conf/debian-default", test_debian_default);
  g_test_add_func("/libvirt-conf/replace-in-place", test_replace_in_place);
  g_test_add_func("/libvirt-conf/forms", test_forms);
  g_test_add_func("/libvirt-conf/errors", test_errors);
  g_test_add_func("/libvirt-conf/nul-byte", test_nul_byte);
  g_test_add_func("/libvirt-conf/write-any-read-value", test_write_any_read_value);
  return g_test_run();
}
