/* pcipass template check: the template language, without a daemon. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-file.h"
#include "pp-template-json.h"
#include "pp-template.h"

int
pp_cmd_template_check(int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      "Print the template as a JSON array of {name, value}, in order", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpTemplate) tmpl = NULL;
  g_autofree char *text = NULL;
  g_autofree char *normalized = NULL;
  const char *path, *shown;
  PpTextPos pos = { 0, 0 };
  gsize len = 0;

  if (!pp_cli_parse_options(
          "FILE|-",
          "Checks a template (OpenNebula's syntax) and prints it normalized: names "
          "upper case,\nvalues quoted, one attribute per line. '-' reads standard input.",
          entries, &argc, &argv))
    return PP_EXIT_USAGE;
  if (argc != 2) {
    pp_say_error("template check takes one FILE, or - for standard input (try --help)");
    return PP_EXIT_USAGE;
  }
  path = argv[1];
  shown = strcmp(path, "-") == 0 ? "<stdin>" : path;

  /* The file named is the input: not being able to read it is bad input
   * (exit 2), as for pcipass-probe's pci.conf. */
  if (!pp_file_read(path, PP_TEMPLATE_MAX_SIZE, &text, &len, &error)) {
    pp_say_error("%s", error->message);
    return PP_EXIT_USAGE;
  }

  /* Errors go to stderr only, with or without --json: stdout stays empty. */
  tmpl = pp_template_parse(text, len, &pos, &error);
  if (tmpl == NULL) {
    gboolean placed = g_error_matches(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);

    pp_cli_say_template_error(shown, placed ? pos.line : 0, pos.column, error->message);
    return PP_EXIT_USAGE;
  }

  if (json)
    return pp_print_json(pp_template_to_json(tmpl));
  normalized = pp_template_to_string(tmpl);
  if (fputs(normalized, stdout) == EOF || fflush(stdout) != 0) {
    pp_say_error("cannot write the output: %s", g_strerror(errno));
    return PP_EXIT_RUNTIME;
  }
  return PP_EXIT_OK;
}
