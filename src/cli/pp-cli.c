#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pp-cli.h"

void
pp_cli_error(const char *format, ...)
{
  va_list args;

  fputs("pcipass: ", stderr);
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
}

int
pp_cli_print_json(json_t *json)
{
  char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  int rc = PP_EXIT_OK;

  json_decref(json);
  if (text == NULL || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ||
      fflush(stdout) != 0) {
    pp_cli_error("cannot write the output: %s", g_strerror(errno));
    rc = PP_EXIT_RUNTIME;
  }
  free(text);
  return rc;
}

gboolean
pp_cli_parse_options(const char *usage, const char *summary, const GOptionEntry *entries, int *argc,
                     char ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new(usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary(context, summary);
  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, argc, argv, &error)) {
    pp_cli_error("%s (try --help)", error->message);
    return FALSE;
  }
  return TRUE;
}
