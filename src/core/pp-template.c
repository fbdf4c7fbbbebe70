#define G_LOG_DOMAIN "pp-template"

#include "config.h"

#include <string.h>

#include "pp-template.h"

/* clang-format off */
G_DEFINE_QUARK(pp-template-error-quark, pp_template_error)
/* clang-format on */

typedef struct {
  char *key;
  char *value;
} PpPair;

struct _PpAttribute {
  char *name;
  gboolean is_vector;
  char *value;      /* single attributes */
  GArray *pairs;    /* vectors: PpPair, in order */
  GHashTable *keys; /* vectors: upper-case key -> its index in pairs; the keys are
                     * the pairs' own strings, so that adding stays O(1) */
  PpTextPos pos;
};

struct _PpTemplate {
  GPtrArray *attrs; /* PpAttribute */
};

static void
pair_clear(gpointer data)
{
  PpPair *pair = data;

  g_free(pair->key);
  g_free(pair->value);
}

static void
attribute_free(gpointer data)
{
  PpAttribute *attr = data;

  if (attr == NULL)
    return;
  g_free(attr->name);
  g_free(attr->value);
  if (attr->keys != NULL)
    g_hash_table_unref(attr->keys);
  if (attr->pairs != NULL)
    g_array_unref(attr->pairs);
  g_free(attr);
}

PpTemplate *
pp_template_new(void)
{
  PpTemplate *tmpl = g_new0(PpTemplate, 1);

  tmpl->attrs = g_ptr_array_new_with_free_func(attribute_free);
  return tmpl;
}

void
pp_template_free(PpTemplate *tmpl)
{
  if (tmpl == NULL)
    return;
  g_ptr_array_unref(tmpl->attrs);
  g_free(tmpl);
}

static gboolean
is_name_char(char c)
{
  return g_ascii_isalnum(c) || c == '_';
}

gboolean
pp_template_name_is_valid(const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!is_name_char(*p))
      return FALSE;
  return TRUE;
}

static PpAttribute *
attribute_new(const char *name, gboolean is_vector, PpTextPos pos)
{
  PpAttribute *attr = g_new0(PpAttribute, 1);

  attr->name = g_ascii_strup(name, -1);
  attr->is_vector = is_vector;
  attr->pos = pos;
  if (is_vector) {
    attr->pairs = g_array_new(FALSE, FALSE, sizeof(PpPair));
    g_array_set_clear_func(attr->pairs, pair_clear);
    attr->keys = g_hash_table_new(g_str_hash, g_str_equal);
  }
  return attr;
}

void
pp_template_add_single(PpTemplate *tmpl, const char *name, const char *value)
{
  PpAttribute *attr;

  g_return_if_fail(tmpl != NULL);
  g_return_if_fail(pp_template_name_is_valid(name));
  g_return_if_fail(value != NULL && g_utf8_validate(value, -1, NULL));

  attr = attribute_new(name, FALSE, (PpTextPos){ 0, 0 });
  attr->value = g_strdup(value);
  g_ptr_array_add(tmpl->attrs, attr);
}

PpAttribute *
pp_template_add_vector(PpTemplate *tmpl, const char *name)
{
  PpAttribute *attr;

  g_return_val_if_fail(tmpl != NULL, NULL);
  g_return_val_if_fail(pp_template_name_is_valid(name), NULL);

  attr = attribute_new(name, TRUE, (PpTextPos){ 0, 0 });
  g_ptr_array_add(tmpl->attrs, attr);
  return attr;
}

/* Takes @upper_key and @value. */
static gboolean
vector_add_take(PpAttribute *attr, char *upper_key, char *value)
{
  PpPair pair = { upper_key, value };

  if (g_hash_table_contains(attr->keys, upper_key)) {
    pair_clear(&pair);
    return FALSE;
  }
  g_array_append_val(attr->pairs, pair);
  g_hash_table_insert(attr->keys, upper_key, GUINT_TO_POINTER(attr->pairs->len - 1));
  return TRUE;
}

gboolean
pp_attribute_vector_add(PpAttribute *attr, const char *key, const char *value)
{
  g_return_val_if_fail(attr != NULL && attr->is_vector, FALSE);
  g_return_val_if_fail(pp_template_name_is_valid(key), FALSE);
  g_return_val_if_fail(value != NULL && g_utf8_validate(value, -1, NULL), FALSE);

  return vector_add_take(attr, g_ascii_strup(key, -1), g_strdup(value));
}

guint
pp_template_get_n_attributes(const PpTemplate *tmpl)
{
  g_return_val_if_fail(tmpl != NULL, 0);
  return tmpl->attrs->len;
}

const PpAttribute *
pp_template_get_attribute(const PpTemplate *tmpl, guint index)
{
  g_return_val_if_fail(tmpl != NULL, NULL);
  g_return_val_if_fail(index < tmpl->attrs->len, NULL);
  return g_ptr_array_index(tmpl->attrs, index);
}

const PpAttribute *
pp_template_find(const PpTemplate *tmpl, const char *name)
{
  g_return_val_if_fail(tmpl != NULL && name != NULL, NULL);

  for (guint i = 0; i < tmpl->attrs->len; i++) {
    const PpAttribute *attr = g_ptr_array_index(tmpl->attrs, i);

    if (g_ascii_strcasecmp(attr->name, name) == 0)
      return attr;
  }
  return NULL;
}

const char *
pp_template_get_single(const PpTemplate *tmpl, const char *name)
{
  g_return_val_if_fail(tmpl != NULL && name != NULL, NULL);

  for (guint i = 0; i < tmpl->attrs->len; i++) {
    const PpAttribute *attr = g_ptr_array_index(tmpl->attrs, i);

    if (!attr->is_vector && g_ascii_strcasecmp(attr->name, name) == 0)
      return attr->value;
  }
  return NULL;
}

const char *
pp_attribute_get_name(const PpAttribute *attr)
{
  g_return_val_if_fail(attr != NULL, NULL);
  return attr->name;
}

gboolean
pp_attribute_is_vector(const PpAttribute *attr)
{
  g_return_val_if_fail(attr != NULL, FALSE);
  return attr->is_vector;
}

const char *
pp_attribute_get_value(const PpAttribute *attr)
{
  g_return_val_if_fail(attr != NULL, NULL);
  return attr->value;
}

PpTextPos
pp_attribute_get_pos(const PpAttribute *attr)
{
  g_return_val_if_fail(attr != NULL, ((PpTextPos){ 0, 0 }));
  return attr->pos;
}

guint
pp_attribute_vector_get_n_pairs(const PpAttribute *attr)
{
  g_return_val_if_fail(attr != NULL, 0);
  return attr->is_vector ? attr->pairs->len : 0;
}

void
pp_attribute_vector_get_pair(const PpAttribute *attr, guint index, const char **ret_key,
                             const char **ret_value)
{
  const PpPair *pair;

  g_return_if_fail(attr != NULL && attr->is_vector);
  g_return_if_fail(index < attr->pairs->len);

  pair = &g_array_index(attr->pairs, PpPair, index);
  if (ret_key != NULL)
    *ret_key = pair->key;
  if (ret_value != NULL)
    *ret_value = pair->value;
}

const char *
pp_attribute_vector_get(const PpAttribute *attr, const char *key)
{
  g_autofree char *upper = NULL;
  gpointer index;

  g_return_val_if_fail(attr != NULL && key != NULL, NULL);

  if (!attr->is_vector)
    return NULL;
  upper = g_ascii_strup(key, -1);
  if (!g_hash_table_lookup_extended(attr->keys, upper, NULL, &index))
    return NULL;
  return g_array_index(attr->pairs, PpPair, GPOINTER_TO_UINT(index)).value;
}

static gboolean
attribute_equal(const PpAttribute *a, const PpAttribute *b)
{
  if (strcmp(a->name, b->name) != 0 || a->is_vector != b->is_vector)
    return FALSE;
  if (!a->is_vector)
    return strcmp(a->value, b->value) == 0;
  if (a->pairs->len != b->pairs->len)
    return FALSE;
  for (guint i = 0; i < a->pairs->len; i++) {
    const PpPair *pa = &g_array_index(a->pairs, PpPair, i);
    const PpPair *pb = &g_array_index(b->pairs, PpPair, i);

    if (strcmp(pa->key, pb->key) != 0 || strcmp(pa->value, pb->value) != 0)
      return FALSE;
  }
  return TRUE;
}

gboolean
pp_template_equal(const PpTemplate *a, const PpTemplate *b)
{
  g_return_val_if_fail(a != NULL && b != NULL, FALSE);

  if (a->attrs->len != b->attrs->len)
    return FALSE;
  for (guint i = 0; i < a->attrs->len; i++)
    if (!attribute_equal(g_ptr_array_index(a->attrs, i), g_ptr_array_index(b->attrs, i)))
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Printing                                                                  */
/* ------------------------------------------------------------------------ */

/* Quotes @value so that the parser reads it back unchanged: '"' becomes
 * '\"', and a backslash is doubled where the parser would otherwise take it
 * as the start of an escape (before '"' or '\') or where it would escape the
 * closing quote (at the end). Other backslashes stay single, as
 * OpenNebula's parser expects them. */
static void
append_quoted(GString *out, const char *value)
{
  g_string_append_c(out, '"');
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == '"')
      g_string_append(out, "\\\"");
    else if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '\0'))
      g_string_append(out, "\\\\");
    else
      g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}

void
pp_attribute_append_to(const PpAttribute *attr, GString *out)
{
  g_return_if_fail(attr != NULL && out != NULL);

  g_string_append(out, attr->name);
  g_string_append(out, " = ");
  if (!attr->is_vector) {
    append_quoted(out, attr->value);
  } else if (attr->pairs->len == 0) {
    g_string_append(out, "[ ]");
  } else {
    g_string_append_c(out, '[');
    for (guint i = 0; i < attr->pairs->len; i++) {
      const PpPair *pair = &g_array_index(attr->pairs, PpPair, i);

      g_string_append(out, i == 0 ? "\n  " : ",\n  ");
      g_string_append(out, pair->key);
      g_string_append(out, " = ");
      append_quoted(out, pair->value);
    }
    g_string_append(out, " ]");
  }
  g_string_append_c(out, '\n');
}

char *
pp_template_to_string(const PpTemplate *tmpl)
{
  GString *out;

  g_return_val_if_fail(tmpl != NULL, NULL);

  out = g_string_new(NULL);
  for (guint i = 0; i < tmpl->attrs->len; i++)
    pp_attribute_append_to(g_ptr_array_index(tmpl->attrs, i), out);
  return g_string_free(out, FALSE);
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
  const char *text;
  gsize len;
  gsize at;      /* byte offset of the next character */
  PpTextPos pos; /* its line and column */
  PpTextPos *ret_error_pos;
  GError **error;
} Parser;

static gboolean
at_end(const Parser *p)
{
  return p->at >= p->len;
}

static char
peek(const Parser *p)
{
  return at_end(p) ? '\0' : p->text[p->at];
}

static void
advance(Parser *p)
{
  char c = p->text[p->at++];

  if (c == '\n') {
    p->pos.line++;
    p->pos.column = 1;
  } else if (((guchar)c & 0xC0) != 0x80) {
    /* Count characters, not bytes: UTF-8 continuation bytes add nothing. */
    p->pos.column++;
  }
}

/* The position of byte @offset, counted as advance() does. */
static PpTextPos
pos_of_offset(const char *text, gsize offset)
{
  PpTextPos pos = { 1, 1 };

  for (gsize i = 0; i < offset; i++) {
    if (text[i] == '\n') {
      pos.line++;
      pos.column = 1;
    } else if (((guchar)text[i] & 0xC0) != 0x80) {
      pos.column++;
    }
  }
  return pos;
}

static gboolean fail_at(Parser *p, PpTextPos pos, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail_at(Parser *p, PpTextPos pos, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);

  if (p->ret_error_pos != NULL)
    *p->ret_error_pos = pos;
  g_set_error(p->error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID, "line %u, column %u: %s",
              pos.line, pos.column, message);
  return FALSE;
}

static gboolean
is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Characters of an unquoted value: anything but blanks, newlines and the
 * template's punctuation. */
static gboolean
is_value_char(char c)
{
  return c != '\0' && !is_blank(c) && c != '\n' && c != '=' && c != '#' && c != ',' && c != '[' &&
         c != ']';
}

static void
skip_blanks(Parser *p)
{
  while (!at_end(p) && is_blank(peek(p)))
    advance(p);
}

/* Blanks, newlines and comments. */
static void
skip_space(Parser *p)
{
  while (!at_end(p)) {
    char c = peek(p);

    if (is_blank(c) || c == '\n') {
      advance(p);
    } else if (c == '#') {
      while (!at_end(p) && peek(p) != '\n')
        advance(p);
    } else {
      break;
    }
  }
}

/* Describes what is at the parser's position, for "found ..." in errors. */
static char *
describe_next(const Parser *p)
{
  gsize end;

  if (at_end(p))
    return g_strdup("the end of the input");
  if (peek(p) == '\n')
    return g_strdup("the end of the line");
  if (peek(p) == '#')
    return g_strdup("a comment");
  end = p->at;
  if (is_name_char(p->text[end])) {
    while (end < p->len && end - p->at < 32 && is_name_char(p->text[end]))
      end++;
  } else {
    /* One character, whole even when it takes several bytes. */
    end++;
    while (end < p->len && ((guchar)p->text[end] & 0xC0) == 0x80)
      end++;
  }
  return g_strdup_printf("'%.*s'", (int)(end - p->at), p->text + p->at);
}

static char *
parse_name(Parser *p)
{
  gsize start = p->at;

  while (!at_end(p) && is_name_char(peek(p)))
    advance(p);
  return g_strndup(p->text + start, p->at - start);
}

/* At a '"': reads the quoted value, which may span lines. */
static char *
parse_quoted(Parser *p)
{
  PpTextPos open = p->pos;
  g_autoptr(GString) value = g_string_new(NULL);

  advance(p);
  for (;;) {
    char c;

    if (at_end(p)) {
      fail_at(p, open, "the quoted value that starts here has no closing '\"'");
      return NULL;
    }
    c = peek(p);
    if (c == '"') {
      advance(p);
      return g_string_free(g_steal_pointer(&value), FALSE);
    }
    if (c == '\\' && p->at + 1 < p->len &&
        (p->text[p->at + 1] == '"' || p->text[p->at + 1] == '\\')) {
      advance(p);
      c = peek(p);
    }
    g_string_append_c(value, c);
    advance(p);
  }
}

static char *
parse_unquoted(Parser *p)
{
  gsize start = p->at;

  while (!at_end(p) && is_value_char(peek(p)))
    advance(p);
  return g_strndup(p->text + start, p->at - start);
}

/* After a single value, a word on the same line that is not the start of a
 * new `NAME =` is the classic mistake `A = foo bar`: say so, and how to
 * write it when the value was unquoted. */
static gboolean
check_after_value(Parser *p, const char *name, const char *value, gboolean quoted)
{
  Parser look = *p;
  PpTextPos word_pos;
  g_autofree char *word = NULL;

  skip_blanks(&look);
  if (at_end(&look) || !is_name_char(peek(&look)))
    return TRUE;
  word_pos = look.pos;
  word = parse_name(&look);
  skip_blanks(&look);
  if (peek(&look) == '=')
    return TRUE;
  if (quoted)
    return fail_at(p, word_pos,
                   "'%s' follows the value of %s on the same line, where a new NAME = value "
                   "or the end of the line was expected",
                   word, name);
  {
    /* The hint is a template itself: quote the value as the printer does. */
    g_autofree char *joined = g_strdup_printf("%s %s", value, word);
    g_autoptr(GString) hint = g_string_new(NULL);

    append_quoted(hint, joined);
    return fail_at(p, word_pos,
                   "'%s' follows the value of %s on the same line; a value with blanks must "
                   "be quoted, as in %s = %s",
                   word, name, name, hint->str);
  }
}

/* After NAME '=' and blanks: reads a value, or NULL with the error set. */
static char *
parse_value(Parser *p, const char *what)
{
  g_autofree char *found = NULL;

  if (peek(p) == '"')
    return parse_quoted(p);
  if (is_value_char(peek(p)))
    return parse_unquoted(p);
  found = describe_next(p);
  fail_at(p, p->pos, "expected a value for %s, found %s", what, found);
  return NULL;
}

/* At a '[': reads the vector's pairs into @attr up to and including ']'. */
static gboolean
parse_vector(Parser *p, PpAttribute *attr)
{
  PpTextPos open = p->pos;

  advance(p);
  skip_space(p);
  if (peek(p) == ']') {
    advance(p);
    return TRUE;
  }
  for (;;) {
    g_autofree char *key = NULL;
    g_autofree char *what = NULL;
    g_autofree char *found = NULL;
    char *value;

    if (at_end(p))
      return fail_at(p, open, "the vector %s that starts here has no closing ']'", attr->name);
    if (!is_name_char(peek(p))) {
      found = describe_next(p);
      return fail_at(p, p->pos, "expected a key name in vector %s, found %s%s", attr->name, found,
                     peek(p) == ']' ? " (a ',' must be followed by another KEY = value)" : "");
    }
    key = parse_name(p);
    skip_blanks(p);
    if (peek(p) != '=') {
      found = describe_next(p);
      return fail_at(p, p->pos, "expected '=' after %s in vector %s, found %s", key, attr->name,
                     found);
    }
    advance(p);
    skip_blanks(p);
    /* The words of parse_value()'s one error, made only for it: this runs
     * for every field of every record a host reports. */
    if (peek(p) != '"' && !is_value_char(peek(p)))
      what = g_strdup_printf("%s in vector %s (write \"\" for an empty value)", key, attr->name);
    value = parse_value(p, what);
    if (value == NULL)
      return FALSE;
    vector_add_take(attr, g_ascii_strup(key, -1), value);

    skip_space(p);
    if (peek(p) == ']') {
      advance(p);
      return TRUE;
    }
    if (peek(p) == ',') {
      advance(p);
      skip_space(p);
      continue;
    }
    if (at_end(p))
      return fail_at(p, open, "the vector %s that starts here has no closing ']'", attr->name);
    found = describe_next(p);
    return fail_at(p, p->pos, "expected ',' or ']' after the value of %s in vector %s, found %s",
                   key, attr->name, found);
  }
}

static gboolean
parse_attribute(Parser *p, PpTemplate *tmpl)
{
  PpTextPos name_pos = p->pos;
  g_autofree char *name = NULL;
  g_autofree char *found = NULL;
  PpAttribute *attr;
  gboolean quoted;

  if (!is_name_char(peek(p))) {
    found = describe_next(p);
    return fail_at(p, p->pos, "expected an attribute name, found %s", found);
  }
  name = parse_name(p);
  skip_blanks(p);
  if (peek(p) != '=') {
    found = describe_next(p);
    return fail_at(p, p->pos, "expected '=' after %s, found %s", name, found);
  }
  advance(p);
  skip_blanks(p);

  if (peek(p) == '[') {
    attr = attribute_new(name, TRUE, name_pos);
    g_ptr_array_add(tmpl->attrs, attr);
    return parse_vector(p, attr);
  }

  attr = attribute_new(name, FALSE, name_pos);
  g_ptr_array_add(tmpl->attrs, attr);
  if (at_end(p) || peek(p) == '\n' || peek(p) == '#') {
    /* `A =` at the end of a line: an empty value. */
    attr->value = g_strdup("");
    return TRUE;
  }
  quoted = peek(p) == '"';
  attr->value = parse_value(p, attr->name);
  if (attr->value == NULL)
    return FALSE;
  return check_after_value(p, attr->name, attr->value, quoted);
}

PpTemplate *
pp_template_parse(const char *text, gsize len, PpTextPos *ret_error_pos, GError **error)
{
  g_autoptr(PpTemplate) tmpl = NULL;
  const char *bad = NULL;
  Parser p = { 0 };

  g_return_val_if_fail(text != NULL || len == 0, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (len > PP_TEMPLATE_MAX_SIZE) {
    g_set_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_TOO_LARGE,
                "the template is %" G_GSIZE_FORMAT " bytes, more than the limit of %d", len,
                PP_TEMPLATE_MAX_SIZE);
    return NULL;
  }
  if (len > 0 && !g_utf8_validate_len(text, len, &bad)) {
    PpTextPos pos = pos_of_offset(text, bad - text);

    if (ret_error_pos != NULL)
      *ret_error_pos = pos;
    g_set_error(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID, "line %u, column %u: %s",
                pos.line, pos.column,
                *bad == '\0' ? "a NUL byte; a template is text"
                             : "bytes that are not UTF-8; a template must be UTF-8 text");
    return NULL;
  }

  tmpl = pp_template_new();
  p.text = text;
  p.len = len;
  p.pos = (PpTextPos){ 1, 1 };
  /* Editors on some systems start UTF-8 files with a byte-order mark. */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    p.at = 3;
  p.ret_error_pos = ret_error_pos;
  p.error = error;

  skip_space(&p);
  while (!at_end(&p)) {
    if (!parse_attribute(&p, tmpl))
      return NULL;
    skip_space(&p);
  }
  return g_steal_pointer(&tmpl);
}
