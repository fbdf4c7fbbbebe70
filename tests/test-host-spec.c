/* pp-host-spec: the one set of rules for a host's settings, at its
 * bounds. The API, the store and the probe runner read it (test-store,
 * test-probe-run and test-daemon check their messages). */
#include "config.h"

#include <string.h>

#include "pp-host-spec.h"

typedef gboolean (*Check)(const char *value, GError **error);

/* A check's verdict: passed (@part NULL), or refused with a message that
 * has @part (is @part, when @exact). */
static void
assert_verdict(gboolean ok, const GError *error, const char *part, gboolean exact)
{
  if (part == NULL) {
    g_assert_no_error(error);
    g_assert_true(ok);
    return;
  }
  g_assert_false(ok);
  g_assert_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID);
  if (exact)
    g_assert_cmpstr(error->message, ==, part);
  else if (strstr(error->message, part) == NULL)
    g_error("'%s' is not in '%s'", part, error->message);
}

static void
expect(Check check, const char *value, const char *part)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = check(value, &error);

  assert_verdict(ok, error, part, FALSE);
}

static void
test_ssh(void)
{
  g_autofree char *user64 = g_strnfill(64, 'u');
  g_autofree char *user65 = g_strnfill(65, 'u');
  g_autofree char *host255 = g_strnfill(255, 'h');
  g_autofree char *host256 = g_strnfill(256, 'h');

  expect(pp_host_spec_check_ssh_user, "root", NULL);
  expect(pp_host_spec_check_ssh_user, "svc.pp_1-a", NULL);
  expect(pp_host_spec_check_ssh_user, user64, NULL);
  expect(pp_host_spec_check_ssh_user, user65, "must have 1 to 64 bytes; it has 65");
  expect(pp_host_spec_check_ssh_user, "", "must have 1 to 64 bytes; it has 0");
  expect(pp_host_spec_check_ssh_user, "-l", "the ssh user '-l' starts with '-'");
  expect(pp_host_spec_check_ssh_user, "ro:ot", "has a character it cannot have (at byte 3)");
  expect(pp_host_spec_check_ssh_user, "a@b", "(at byte 2)");

  expect(pp_host_spec_check_ssh_host, "hv1.example.org", NULL);
  expect(pp_host_spec_check_ssh_host, "192.0.2.7", NULL);
  expect(pp_host_spec_check_ssh_host, "[fe80::1%eth0]", NULL);
  expect(pp_host_spec_check_ssh_host, host255, NULL);
  expect(pp_host_spec_check_ssh_host, host256, "must have 1 to 255 bytes; it has 256");
  expect(pp_host_spec_check_ssh_host, "-oProxyCommand=x", "starts with '-'");
  expect(pp_host_spec_check_ssh_host, "root@hv1", "'root@hv1' has a character it cannot have");
  expect(pp_host_spec_check_ssh_host, "a b", "(at byte 2)");
  expect(pp_host_spec_check_ssh_host, "a\nb", "'a\\nb' has a character it cannot have");
  expect(pp_host_spec_check_ssh_host, "h\xc3", "is not UTF-8");

  g_assert_true(pp_host_spec_check_ssh_port(0, NULL));
  g_assert_true(pp_host_spec_check_ssh_port(65535, NULL));
  g_assert_false(pp_host_spec_check_ssh_port(65536, NULL));
  g_assert_false(pp_host_spec_check_ssh_port(-1, NULL));
}

static void
test_uri(void)
{
  g_autofree char *long_path = g_strnfill(1024 - strlen("qemu:///"), 'p');
  g_autofree char *longest = g_strconcat("qemu:///", long_path, NULL);
  g_autofree char *too_long = g_strconcat(longest, "p", NULL);

  expect(pp_host_spec_check_libvirt_uri, "qemu:///system", NULL);
  expect(pp_host_spec_check_libvirt_uri, "qemu+ssh://root@node1/system?keyfile=/k", NULL);
  expect(pp_host_spec_check_libvirt_uri, "test:///default", NULL);
  expect(pp_host_spec_check_libvirt_uri, longest, NULL);
  expect(pp_host_spec_check_libvirt_uri, too_long, "must have 1 to 1024 bytes; it has 1025");
  expect(pp_host_spec_check_libvirt_uri, "", "must have 1 to 1024 bytes; it has 0");
  for (guint i = 0; i < 6; i++) {
    static const char *const bad[] = { "system",         "qemu:/system",    "://x",
                                       "QEMU:///system", "qemu:///sys tem", "qemu:///a'b" };

    expect(pp_host_spec_check_libvirt_uri, bad[i], "is not a libvirt URI (qemu:///system, ");
  }
  expect(pp_host_spec_check_libvirt_uri, "qemu:///system\n", "has a character it cannot have");
}

static void
expect_command(const char *const *argv, const char *part)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = pp_host_spec_check_probe_command(argv, &error);

  assert_verdict(ok, error, part, TRUE);
}

static void
test_probe_command(void)
{
  g_autoptr(GPtrArray) words = g_ptr_array_new();
  g_autofree char *word4096 = g_strnfill(4096, 'w');
  g_autofree char *word4097 = g_strnfill(4097, 'w');

  expect_command((const char *const[]){ "/opt/probe", "--sysfs-root", "/srv/my hosts/a", NULL },
                 NULL);
  /* A later word may be empty: an argv, no shell. */
  expect_command((const char *const[]){ "probe", "", NULL }, NULL);
  expect_command((const char *const[]){ NULL },
                 "a probe command has 1 to 64 words; this one has 0");
  expect_command((const char *const[]){ "", "x", NULL },
                 "the probe command's program is an empty word");
  expect_command((const char *const[]){ "probe", word4096, NULL }, NULL);
  expect_command((const char *const[]){ "probe", word4097, NULL },
                 "word 2 of the probe command is longer than 4096 bytes or not UTF-8");
  expect_command((const char *const[]){ "probe", "\xff", NULL },
                 "word 2 of the probe command is longer than 4096 bytes or not UTF-8");
  for (guint i = 0; i < 64; i++)
    g_ptr_array_add(words, "w");
  g_ptr_array_add(words, NULL);
  expect_command((const char *const *)words->pdata, NULL);
  words->pdata[64] = "w";
  g_ptr_array_add(words, NULL);
  expect_command((const char *const *)words->pdata,
                 "a probe command has 1 to 64 words; this one has 65");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/host-spec/ssh", test_ssh);
  g_test_add_func("/host-spec/uri", test_uri);
  g_test_add_func("/host-spec/probe-command", test_probe_command);
  return g_test_run();
}
