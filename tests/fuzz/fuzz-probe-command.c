/* libFuzzer target: the probe command splitter (pp_probe_command_parse, for
 * a host's probe command given as one string: POST /v1/hosts,
 * pcipass host create --probe-command) and the argv built from it
 * (pp_probe_argv_build). Any text is split or refused: the words are
 * bounded, quoting each and joining them splits back to the same words,
 * and the argv is those words. The same words as an ssh host, user and
 * probe path give an argv only when each is safe: a host or user that ssh
 * could take for an option, or a path the remote shell would read as more
 * than a word, is refused. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-probe-run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-probe-command: " __VA_ARGS__);                                         \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static gboolean
only(const char *s, const char *chars)
{
  return strspn(s, chars) == strlen(s);
}

/* ssh -o BatchMode=yes -o ConnectTimeout=N [-p PORT] [-l USER] -- HOST PATH */
static void
check_ssh(const char *const *words, guint n)
{
  PpProbeTarget target = { 0 };
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  guint len;

  target.ssh_host = words[0];
  target.ssh_user = n > 1 ? words[1] : NULL;
  target.probe_path = n > 2 ? words[2] : "pcipass-probe";
  target.ssh_port = n > 3 ? (int)strlen(words[3]) * 1000 : 0;
  target.connect_timeout_s = 10;
  argv = pp_probe_argv_build(&target, &error);
  if (argv == NULL) {
    CHECK(error != NULL, "no argv and no error");
    return;
  }
  len = g_strv_length(argv);
  CHECK(len >= 3 && strcmp(argv[0], "ssh") == 0 && strcmp(argv[len - 3], "--") == 0,
        "not ssh ... -- HOST PATH");
  CHECK(strcmp(argv[len - 2], target.ssh_host) == 0 && target.ssh_host[0] != '-' &&
            target.ssh_host[0] != '\0',
        "ssh host '%s'", target.ssh_host);
  CHECK(target.ssh_user == NULL ||
            (target.ssh_user[0] != '-' && target.ssh_user[0] != '\0' &&
             only(target.ssh_user,
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")),
        "ssh user '%s'", target.ssh_user);
  /* The remote shell reads the path: one plain word. */
  CHECK(strcmp(argv[len - 1], target.probe_path) == 0 && target.probe_path[0] != '-' &&
            target.probe_path[0] != '\0' &&
            only(target.probe_path,
                 "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/+-"),
        "probe path '%s' for the remote shell", target.probe_path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup((const char *)data, size);
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) again = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(GString) joined = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  PpProbeTarget target = { 0 };
  gsize total = 0;
  guint n;

  /* A JSON string or a command line argument holds no NUL. */
  if (strlen(text) != size)
    return 0;
  words = pp_probe_command_parse(text, &error);
  if (words == NULL) {
    CHECK(error != NULL && error->message[0] != '\0', "no words and no error");
    return 0;
  }
  n = g_strv_length(words);
  CHECK(n >= 1 && n <= 256, "%u words", n);
  CHECK(words[0][0] != '\0', "an empty program");
  for (guint i = 0; i < n; i++) {
    g_autofree char *quoted = g_shell_quote(words[i]);

    total += strlen(words[i]);
    g_string_append_printf(joined, "%s%s", i ? " " : "", quoted);
  }
  CHECK(total <= 4096, "%zu bytes of words", total);
  /* Quoted and joined, the words split back to themselves (when quoting
   * keeps them within the bound of a command). */
  if (joined->len <= 4096) {
    again = pp_probe_command_parse(joined->str, NULL);
    CHECK(again != NULL && g_strv_equal((const char *const *)again, (const char *const *)words),
          "'%s' quoted as '%s' does not split back", text, joined->str);
  }

  target.probe_command = (const char *const *)words;
  argv = pp_probe_argv_build(&target, &error);
  CHECK(argv != NULL && g_strv_equal((const char *const *)argv, (const char *const *)words),
        "the argv of '%s' is not its words", text);
  check_ssh((const char *const *)words, n);
  return 0;
}
