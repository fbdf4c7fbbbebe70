/* pp-template: OpenNebula's template language.
 *
 * A template is an ordered list of attributes. An attribute is either single
 * (`NAME = value`) or a vector (`NAME = [ KEY = value, ... ]`). Names and
 * vector keys are stored upper case; values keep their case. Order is kept,
 * and duplicate attribute names are kept in order (two `PCI = [...]` are two
 * requests). Inside a vector a duplicate key keeps its first value.
 *
 * Syntax accepted by pp_template_parse():
 *
 *   template  := { attribute }
 *   attribute := NAME '=' value
 *              | NAME '=' '[' [ pair { ',' pair } ] ']'
 *              | NAME '=' (end of line | comment | end of input)   -- empty value
 *   pair      := NAME '=' value
 *   NAME      := [A-Za-z0-9_]+
 *   value     := '"' { any byte but '"', or '\"', or '\\' } '"'   -- may span lines
 *              | one or more bytes that are not blank, newline, '=', '#', ',', '[' or ']'
 *
 * Blanks, newlines and `#` comments (to the end of the line) separate
 * tokens outside quoted values, so several attributes may share a line and
 * `A = val#x` is `val`; but a name, its '=' and the start of its value (a
 * vector's '[') share a line. In a quoted value `\"` is a quote and `\\`
 * a backslash; any other backslash is kept as it is, so `"C:\path"` means
 * what it says.
 *
 * The text must be UTF-8 without NUL bytes, and at most
 * PP_TEMPLATE_MAX_SIZE bytes long.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_TEMPLATE_ERROR (pp_template_error_quark())
GQuark pp_template_error_quark(void);

typedef enum {
  PP_TEMPLATE_ERROR_INVALID,   /* a syntax or encoding error; the message says where */
  PP_TEMPLATE_ERROR_TOO_LARGE, /* more than PP_TEMPLATE_MAX_SIZE bytes */
} PpTemplateError;

/* The largest template text pp_template_parse() accepts. */
#define PP_TEMPLATE_MAX_SIZE (4 * 1024 * 1024)

/* A position in a text: both 1-based; columns count characters. */
typedef struct {
  guint line;
  guint column;
} PpTextPos;

typedef struct _PpAttribute PpAttribute;
typedef struct _PpTemplate PpTemplate;

PpTemplate *pp_template_new(void);
void pp_template_free(PpTemplate *tmpl);

/**
 * pp_template_parse:
 * @text: the template text, not necessarily NUL-terminated
 * @len: its length in bytes
 * @ret_error_pos: (optional): where the error is, written only on failure
 * @error: the error, whose message starts with "line L, column C: "
 *
 * Returns: (transfer full): the template, or %NULL on error.
 */
PpTemplate *pp_template_parse(const char *text, gsize len, PpTextPos *ret_error_pos,
                              GError **error);

/**
 * pp_template_to_string:
 *
 * Prints the template normalized: one attribute per line, names upper case,
 * every value quoted, vectors one pair per line. Parsing the result gives a
 * template equal to @tmpl, whatever @tmpl holds.
 *
 * Returns: (transfer full): the text, ending with a newline unless empty.
 */
char *pp_template_to_string(const PpTemplate *tmpl);

/* Appends the normalized text of one attribute (with its newline) to @out. */
void pp_attribute_append_to(const PpAttribute *attr, GString *out);

gboolean pp_template_equal(const PpTemplate *a, const PpTemplate *b);

guint pp_template_get_n_attributes(const PpTemplate *tmpl);
/* Returns: (transfer none): the attribute at @index, in order. */
const PpAttribute *pp_template_get_attribute(const PpTemplate *tmpl, guint index);

/* Returns: (transfer none): the first attribute called @name (any case), or %NULL. */
const PpAttribute *pp_template_find(const PpTemplate *tmpl, const char *name);

/* Returns: (transfer none): the value of the first single attribute @name, or %NULL. */
const char *pp_template_get_single(const PpTemplate *tmpl, const char *name);

/**
 * pp_template_add_single:
 * @name: [A-Za-z0-9_]+; it is stored upper case
 * @value: UTF-8
 *
 * Appends a single attribute; @value is copied.
 */
void pp_template_add_single(PpTemplate *tmpl, const char *name, const char *value);

/**
 * pp_template_add_vector:
 *
 * Appends an empty vector attribute.
 *
 * Returns: (transfer none): the new attribute, to fill with pp_attribute_vector_add().
 */
PpAttribute *pp_template_add_vector(PpTemplate *tmpl, const char *name);

/**
 * pp_attribute_vector_add:
 * @key: [A-Za-z0-9_]+; it is stored upper case
 *
 * Appends @key = @value to a vector, copying both, unless the vector already
 * has @key: the first value stays.
 *
 * Returns: %TRUE if added, %FALSE if @key was already there.
 */
gboolean pp_attribute_vector_add(PpAttribute *attr, const char *key, const char *value);

const char *pp_attribute_get_name(const PpAttribute *attr);
gboolean pp_attribute_is_vector(const PpAttribute *attr);
/* Returns: (transfer none): the value of a single attribute, %NULL for a vector. */
const char *pp_attribute_get_value(const PpAttribute *attr);
/* Where the attribute's name starts in the parsed text; 0:0 for built ones. */
PpTextPos pp_attribute_get_pos(const PpAttribute *attr);

guint pp_attribute_vector_get_n_pairs(const PpAttribute *attr);
/* Writes the key and value of pair @index (transfer none). */
void pp_attribute_vector_get_pair(const PpAttribute *attr, guint index, const char **ret_key,
                                  const char **ret_value);
/* Returns: (transfer none): the value of @key (any case) in a vector, or %NULL. */
const char *pp_attribute_vector_get(const PpAttribute *attr, const char *key);

/* TRUE if @name is a valid attribute or key name: [A-Za-z0-9_]+. */
gboolean pp_template_name_is_valid(const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpTemplate, pp_template_free)

G_END_DECLS
