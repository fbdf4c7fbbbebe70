/* pp-output: how the programs speak: errors on stderr named by program,
 * JSON on stdout. */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* Prints "PROGRAM: MESSAGE" and a newline on stderr; PROGRAM is
 * g_get_prgname(). */
void pp_say_error(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* A JSON string of @text from files, names or paths, which need not be
 * UTF-8: invalid bytes become U+FFFD (jansson takes only UTF-8 and would
 * give NULL). JSON null for a NULL @text. Returns: (transfer full). */
json_t *pp_json_text(const char *text);

/* Appends @value to @array and takes it. Returns: FALSE when @value is
 * NULL (a json_pack() that failed), so builders can give NULL up. */
gboolean pp_json_append(json_t *array, json_t *value);

/* Prints @json, indented and in its order, with a newline on stdout, and
 * takes the reference. Returns: PP_EXIT_OK, or PP_EXIT_RUNTIME (said on
 * stderr) when it cannot be written, or is NULL: a builder failed. */
int pp_print_json(json_t *json);

G_END_DECLS
