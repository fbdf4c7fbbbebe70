#define G_LOG_DOMAIN "pp-output"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "pp-exit.h"
#include "pp-output.h"

void
pp_say_error(const char *format, ...)
{
  va_list args;

  fprintf(stderr, "%s: ", g_get_prgname() ? g_get_prgname() : "pcipass");
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
}

int
pp_print_json(json_t *json)
{
  char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  int rc = PP_EXIT_OK;

  json_decref(json);
  if (text == NULL || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ||
      fflush(stdout) != 0) {
    pp_say_error("cannot write the output: %s", g_strerror(errno));
    rc = PP_EXIT_RUNTIME;
  }
  free(text);
  return rc;
}
