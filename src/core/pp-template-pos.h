/* pp-template-pos: where a key of a vector is in a template's text.
 *
 * The template keeps the position of an attribute's name only (pp-template.h);
 * an error about one key of a vector should point at the key. This finds it
 * again by reading the vector's text with the template language's own rules.
 * The text must be the one the template was parsed from. Pure: no I/O.
 *
 * pp-vm-template reads its vectors' keys (error positions, the redaction
 * of passwords) through it.
 */
#pragma once

#include <glib.h>

#include "pp-template.h"

G_BEGIN_DECLS

/**
 * pp_template_vector_key_pos:
 * @text: the text @attr was parsed from
 * @attr: a vector attribute of that template
 * @key: the key, upper case
 *
 * Returns: where @key first appears in @attr, or @attr's own position when
 *   it is not found there (a template built, not parsed: 0:0).
 */
PpTextPos pp_template_vector_key_pos(const char *text, gsize len, const PpAttribute *attr,
                                     const char *key);

/* One KEY = value pair of a vector as written: where its key starts, and
 * the bytes of the key and of the value (a quoted value with its quotes). */
typedef struct {
  PpTextPos pos;
  gsize key_from, key_to;
  gsize value_from, value_to;
} PpTemplatePair;

/* Called for each pair; FALSE stops. */
typedef gboolean (*PpTemplatePairFunc)(const char *text, const PpTemplatePair *pair,
                                       gpointer user_data);

/**
 * pp_template_vector_foreach_pair:
 * @text: the text @attr was parsed from
 * @attr: a vector attribute of that template
 *
 * Calls @func on each KEY = value pair of @attr, in the order of the text.
 *
 * Returns: FALSE when @attr is not found in @text (a template built, not
 *   parsed), and @func was not called.
 */
gboolean pp_template_vector_foreach_pair(const char *text, gsize len, const PpAttribute *attr,
                                         PpTemplatePairFunc func, gpointer user_data);

/* Whether @pair's key is @key (upper case; the text's case is ignored). */
gboolean pp_template_pair_is(const char *text, const PpTemplatePair *pair, const char *key);

G_END_DECLS
