/* Runs a fuzz target without libFuzzer (gcc builds, the normal test
 * suite): every file of the corpus folders given, then mutations of them
 * from a fixed seed, so a crash is reproducible.
 *
 *   fuzz-replay-NAME [--mutations=N] CORPUS...   N per file, default 2000 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tokens[] = {
  "=",    "[",  "]", ",", "\"", "\\",  "\\\"", "#", "\n", " ",  "A",  "PCI", "\xc3\xa9",
  "\xff", "\0", ":", "-", "'",  "*:*", "{",    "}", "&a", "*a", "!!", "---",
};

static void
mutate_and_run(GRand *rand, const char *data, gsize len)
{
  GString *s = g_string_new_len(data, len);
  guint edits = g_rand_int_range(rand, 1, 6);

  for (guint e = 0; e < edits; e++) {
    gsize at = s->len ? g_rand_int_range(rand, 0, s->len + 1) : 0;
    const char *tok = tokens[g_rand_int_range(rand, 0, G_N_ELEMENTS(tokens))];
    gsize toklen = tok[0] ? strlen(tok) : 1;

    switch (g_rand_int_range(rand, 0, 3)) {
    case 0:
      g_string_insert_len(s, at, tok, toklen);
      break;
    case 1:
      if (at < s->len) {
        /* One draw: MIN() would evaluate it twice. */
        gsize n = (gsize)g_rand_int_range(rand, 1, 8);

        g_string_erase(s, at, MIN(n, s->len - at));
      }
      break;
    default:
      if (at < s->len)
        s->str[at] = (char)g_rand_int_range(rand, 0, 256);
      break;
    }
  }
  LLVMFuzzerTestOneInput((const uint8_t *)s->str, s->len);
  g_string_free(s, TRUE);
}

int
main(int argc, char **argv)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(20261125);
  guint inputs = 0;
  guint mutations = 2000;
  int first = 1;

  if (argc > 1 && g_str_has_prefix(argv[1], "--mutations=")) {
    mutations = (guint)g_ascii_strtoull(argv[1] + strlen("--mutations="), NULL, 10);
    first = 2;
  }
  for (int i = first; i < argc; i++) {
    g_autoptr(GDir) dir = g_dir_open(argv[i], 0, NULL);
    const char *name;

    if (dir == NULL) {
      fprintf(stderr, "cannot open corpus '%s'\n", argv[i]);
      return 1;
    }
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *path = g_build_filename(argv[i], name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      /* An unreadable corpus file is a failure: it would test nothing. */
      if (!g_file_get_contents(path, &data, &len, NULL)) {
        fprintf(stderr, "cannot read corpus file '%s'\n", path);
        return 1;
      }
      LLVMFuzzerTestOneInput((const uint8_t *)data, len);
      for (guint m = 0; m < mutations; m++)
        mutate_and_run(rand, data, len);
      inputs++;
    }
  }
  if (inputs == 0) {
    fprintf(stderr, "no corpus files\n");
    return 1;
  }
  printf("%u corpus files, %u mutations each: no failure\n", inputs, mutations);
  return 0;
}
