/* pp-template-pos: where a key of a vector is in a template's text.
 *
 * The template keeps the position of an attribute's name only (pp-template.h);
 * an error about one key of a vector should point at the key. This finds it
 * again by reading the vector's text with the template language's own rules.
 * The text must be the one the template was parsed from. Pure: no I/O.
 *
 * (pp-vm-template.c has its own copy of this reader, with the redaction of
 * passwords built on it; it can move to this one.)
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

G_END_DECLS
