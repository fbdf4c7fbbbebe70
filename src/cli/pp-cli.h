/* pp-cli: what the commands of pcipass share. */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-exit.h"
#include "pp-output.h"

G_BEGIN_DECLS

/* A command's handler: @argc/@argv start at the command's own arguments,
 * argv[0] being "pcipass GROUP VERB". Returns the exit code. */
typedef int (*PpCliHandler)(int argc, char **argv);

/* Parses a command's options with @entries (plus --help); on error prints
 * it and returns FALSE. */
gboolean pp_cli_parse_options(const char *usage, const char *summary, const GOptionEntry *entries,
                              int *argc, char ***argv);

int pp_cmd_template_check(int argc, char **argv);

G_END_DECLS
