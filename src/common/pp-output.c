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

json_t *
pp_json_text(const char *text)
{
  g_autofree char *valid = NULL;

  if (text == NULL)
    return json_null();
  if (g_utf8_validate(text, -1, NULL))
    return json_string(text);
  valid = g_utf8_make_valid(text, -1);
  return json_string(valid);
}

gboolean
pp_json_append(json_t *array, json_t *value)
{
  return value != NULL && json_array_append_new(array, value) == 0;
}

int
pp_print_json(json_t *json)
{
  char *text;
  int rc = PP_EXIT_OK;

  if (json == NULL) {
    pp_say_error("internal error: the JSON output could not be built; please report it");
    return PP_EXIT_RUNTIME;
  }
  text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  json_decref(json);
  if (text == NULL || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ||
      fflush(stdout) != 0) {
    pp_say_error("cannot write the output: %s", g_strerror(errno));
    rc = PP_EXIT_RUNTIME;
  }
  free(text);
  return rc;
}
