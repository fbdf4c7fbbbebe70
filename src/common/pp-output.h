/* pp-output: how the programs speak: errors on stderr named by program,
 * JSON on stdout. */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* Prints "PROGRAM: MESSAGE" and a newline on stderr; PROGRAM is
 * g_get_prgname(). */
void pp_say_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Prints @json, indented and in its order, with a newline on stdout, and
 * takes the reference. Returns: PP_EXIT_OK, or PP_EXIT_RUNTIME (said on
 * stderr) when it cannot be written. */
int pp_print_json(json_t *json);

G_END_DECLS
