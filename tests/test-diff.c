/* pp-diff against GNU diff and patch: for random pairs of texts, `patch`
 * applies our diff to the old text and gets the new one; where both are
 * unambiguous, the text is GNU diff's. */
#include "config.h"

#include <string.h>

#include "pp-diff.h"
#include "pp-test-util.h"

static void
test_equal_and_new(void)
{
  g_autofree char *same = pp_diff_unified("a\nb\n", "a\nb\n", "f");
  g_autofree char *created = pp_diff_unified(NULL, "x\ny\n", "etc/f");
  g_autofree char *no_newline = pp_diff_unified("a\n", "a\nb", "f");

  g_assert_cmpstr(same, ==, "");
  g_assert_cmpstr(created, ==, "--- /dev/null\n+++ etc/f\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  g_assert_cmpstr(no_newline, ==,
                  "--- f\n+++ f\n@@ -1 +1,2 @@\n a\n+b\n\\ No newline at end of file\n");
}

static void
test_like_gnu_diff(void)
{
  /* A change in the middle of a long file, and two far apart: hunks,
   * context and ranges as diff -u prints them. */
  static const char *old_text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n";
  static const char *new_text =
      "1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\nadded\n17\n18\n";
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *a = g_build_filename(dir, "a", NULL);
  g_autofree char *b = g_build_filename(dir, "b", NULL);
  g_autofree char *ours = pp_diff_unified(old_text, new_text, "f");
  PpTestRun run = { 0 };

  pp_test_write_file(a, old_text);
  pp_test_write_file(b, new_text);
  pp_test_run(
      (const char *const[]){ "/usr/bin/diff", "-u", "--label", "f", "--label", "f", a, b, NULL },
      NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(ours, ==, run.out);
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* A random text of lines from a small alphabet, so that lines repeat. */
static char *
random_text(guint lines)
{
  static const char *const words[] = { "a", "b", "c", "", "# comment", "key = value" };
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < lines; i++)
    g_string_append_printf(s, "%s\n", words[g_test_rand_int_range(0, G_N_ELEMENTS(words))]);
  return g_string_free(s, FALSE);
}

static char *
mutate(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  GString *s = g_string_new(NULL);

  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++) {
    switch (g_test_rand_int_range(0, 8)) {
    case 0:
      break; /* delete */
    case 1:
      g_string_append_printf(s, "new %d\n", g_test_rand_int_range(0, 3));
      g_string_append_printf(s, "%s\n", lines[i]);
      break;
    case 2:
      g_string_append(s, "changed\n");
      break;
    default:
      g_string_append_printf(s, "%s\n", lines[i]);
    }
  }
  if (g_test_rand_bit())
    g_string_append(s, "tail\n");
  return g_string_free(s, FALSE);
}

static void
test_patch_applies(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *file = g_build_filename(dir, "f", NULL);
  g_autofree char *patch_file = g_build_filename(dir, "f.diff", NULL);

  for (guint round = 0; round < 60; round++) {
    g_autofree char *old_text = random_text(g_test_rand_int_range(0, 40));
    g_autofree char *new_text = mutate(old_text);
    g_autofree char *diff = pp_diff_unified(old_text, new_text, "f");
    g_autofree char *result = NULL;
    PpTestRun run = { 0 };

    if (diff[0] == '\0') {
      g_assert_cmpstr(old_text, ==, new_text);
      continue;
    }
    pp_test_write_file(file, old_text);
    pp_test_write_file(patch_file, diff);
    pp_test_run((const char *const[]){ "/usr/bin/patch", "--quiet", "--force", "-d", dir, "-p0",
                                       "-i", patch_file, NULL },
                NULL, &run);
    if (run.status != 0)
      g_error("patch refused our diff (%s):\n%s", run.out, diff);
    g_assert_true(g_file_get_contents(file, &result, NULL, NULL));
    g_assert_cmpstr(result, ==, new_text);
    pp_test_run_clear(&run);
  }
  pp_test_rmtree(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/diff/equal-and-new", test_equal_and_new);
  g_test_add_func("/diff/like-gnu-diff", test_like_gnu_diff);
  g_test_add_func("/diff/patch-applies", test_patch_applies);
  return g_test_run();
}
