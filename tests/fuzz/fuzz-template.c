/* libFuzzer target: the template parser. Every input must parse or fail
 * cleanly, and every input that parses must survive the print-and-parse-
 * again round trip unchanged. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpTemplate) tmpl = NULL;
  g_autoptr(PpTemplate) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *text_again = NULL;
  PpTextPos pos = { 0, 0 };

  tmpl = pp_template_parse((const char *)data, size, &pos, &error);
  if (tmpl == NULL) {
    /* A failure says where, inside the input. */
    if (error == NULL || (error->code == PP_TEMPLATE_ERROR_INVALID && pos.line == 0))
      abort();
    return 0;
  }
  text = pp_template_to_string(tmpl);
  again = pp_template_parse(text, strlen(text), NULL, &error);
  if (again == NULL) {
    fprintf(stderr, "printed template does not parse: %s\n%s", error->message, text);
    abort();
  }
  if (!pp_template_equal(tmpl, again)) {
    fprintf(stderr, "round trip changed the template:\n%s", text);
    abort();
  }
  text_again = pp_template_to_string(again);
  if (strcmp(text, text_again) != 0)
    abort();
  return 0;
}
