#define G_LOG_DOMAIN "pp-template-pos"

#include "config.h"

#include <string.h>

#include "pp-template-pos.h"

/* A reader over the text that counts lines and columns as the template
 * parser does. The text parsed already, so only what a valid vector holds
 * is handled. */
typedef struct {
  const char *text;
  gsize len;
  gsize at;
  PpTextPos pos;
} Cursor;

static char
cur_peek(const Cursor *c)
{
  return c->at < c->len ? c->text[c->at] : '\0';
}

static void
cur_advance(Cursor *c)
{
  char ch = c->text[c->at++];

  if (ch == '\n') {
    c->pos.line++;
    c->pos.column = 1;
  } else if (((guchar)ch & 0xC0) != 0x80) {
    /* Columns count characters, as the template parser does. */
    c->pos.column++;
  }
}

static gboolean
is_blank(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

static gboolean
is_name_char(char ch)
{
  return g_ascii_isalnum(ch) || ch == '_';
}

static void
cur_skip_space(Cursor *c)
{
  while (c->at < c->len) {
    char ch = cur_peek(c);

    if (is_blank(ch) || ch == '\n') {
      cur_advance(c);
    } else if (ch == '#') {
      while (c->at < c->len && cur_peek(c) != '\n')
        cur_advance(c);
    } else {
      break;
    }
  }
}

static void
cur_skip_name(Cursor *c)
{
  while (c->at < c->len && is_name_char(cur_peek(c)))
    cur_advance(c);
}

static void
cur_skip_value(Cursor *c)
{
  if (cur_peek(c) == '"') {
    cur_advance(c);
    while (c->at < c->len && cur_peek(c) != '"') {
      if (cur_peek(c) == '\\' && c->at + 1 < c->len &&
          (c->text[c->at + 1] == '"' || c->text[c->at + 1] == '\\'))
        cur_advance(c);
      cur_advance(c);
    }
    if (c->at < c->len)
      cur_advance(c);
    return;
  }
  while (c->at < c->len) {
    char ch = cur_peek(c);

    if (ch == '\0' || is_blank(ch) || ch == '\n' || ch == '=' || ch == '#' || ch == ',' ||
        ch == '[' || ch == ']')
      break;
    cur_advance(c);
  }
}

/* Puts @c just inside the '[' of vector @attr of @text. FALSE when the
 * attribute has no position (a built one) or is not found there. */
static gboolean
cur_enter_vector(Cursor *c, const char *text, gsize len, const PpAttribute *attr)
{
  PpTextPos start = pp_attribute_get_pos(attr);

  *c = (Cursor){ text, len, 0, { 1, 1 } };
  if (text == NULL || start.line == 0)
    return FALSE;
  /* The template parser skips a byte-order mark without counting it: so
   * must we, or a vector on line 1 is not found where the parser says
   * (found by fuzz-vm-template). */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
    c->at = 3;
  while (c->at < c->len &&
         (c->pos.line < start.line || (c->pos.line == start.line && c->pos.column < start.column)))
    cur_advance(c);
  if (c->pos.line != start.line || c->pos.column != start.column)
    return FALSE;
  cur_skip_name(c);
  cur_skip_space(c);
  if (cur_peek(c) != '=')
    return FALSE;
  cur_advance(c);
  cur_skip_space(c);
  if (cur_peek(c) != '[')
    return FALSE;
  cur_advance(c);
  return TRUE;
}

/* Reads the next pair of the vector @c is in (cur_enter_vector()); FALSE
 * at its end. */
static gboolean
cur_next_pair(Cursor *c, PpTemplatePair *ret)
{
  cur_skip_space(c);
  if (c->at >= c->len || !is_name_char(cur_peek(c)))
    return FALSE;
  ret->pos = c->pos;
  ret->key_from = c->at;
  cur_skip_name(c);
  ret->key_to = c->at;
  cur_skip_space(c);
  if (cur_peek(c) != '=')
    return FALSE;
  cur_advance(c);
  cur_skip_space(c);
  ret->value_from = c->at;
  cur_skip_value(c);
  ret->value_to = c->at;
  cur_skip_space(c);
  if (cur_peek(c) == ',')
    cur_advance(c);
  return TRUE;
}

gboolean
pp_template_pair_is(const char *text, const PpTemplatePair *pair, const char *key)
{
  gsize n = pair->key_to - pair->key_from;

  return n == strlen(key) && g_ascii_strncasecmp(text + pair->key_from, key, n) == 0;
}

gboolean
pp_template_vector_foreach_pair(const char *text, gsize len, const PpAttribute *attr,
                                PpTemplatePairFunc func, gpointer user_data)
{
  Cursor c;
  PpTemplatePair pair;

  g_return_val_if_fail(attr != NULL && func != NULL, FALSE);

  if (!cur_enter_vector(&c, text, len, attr))
    return FALSE;
  while (cur_next_pair(&c, &pair) && func(text, &pair, user_data))
    ;
  return TRUE;
}

typedef struct {
  const char *key;
  PpTextPos pos;
  gboolean found;
} KeyFind;

static gboolean
find_key(const char *text, const PpTemplatePair *pair, gpointer user_data)
{
  KeyFind *find = user_data;

  if (!pp_template_pair_is(text, pair, find->key))
    return TRUE;
  find->pos = pair->pos;
  find->found = TRUE;
  return FALSE;
}

/* Where @key (upper case) first appears in vector @attr of @text; the
 * attribute's own position when it cannot be found. */
PpTextPos
pp_template_vector_key_pos(const char *text, gsize len, const PpAttribute *attr, const char *key)
{
  KeyFind find = { key, { 0, 0 }, FALSE };
  PpTextPos none = { 0, 0 };

  g_return_val_if_fail(attr != NULL && key != NULL, none);

  pp_template_vector_foreach_pair(text, len, attr, find_key, &find);
  return find.found ? find.pos : pp_attribute_get_pos(attr);
}
