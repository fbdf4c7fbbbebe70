#define G_LOG_DOMAIN "pp-libvirt-conf"

#include "config.h"

#include <string.h>

#include "pp-libvirt-conf.h"

/* clang-format off */
G_DEFINE_QUARK(pp-libvirt-conf-error-quark, pp_libvirt_conf_error)
/* clang-format on */

typedef struct {
  char *name;
  GPtrArray *strings; /* the values when they are strings, else NULL */
  gsize start, end;   /* the setting's span in the text: name to end of value */
} Setting;

struct _PpLibvirtConf {
  char *text;
  gsize len;
  GPtrArray *settings; /* Setting */
};

typedef struct {
  const char *text;
  gsize len;
  gsize at;
  guint line;
  GError **error;
} Lexer;

static void
setting_free(gpointer data)
{
  Setting *s = data;

  g_free(s->name);
  if (s->strings != NULL)
    g_ptr_array_unref(s->strings);
  g_free(s);
}

void
pp_libvirt_conf_free(PpLibvirtConf *conf)
{
  if (conf == NULL)
    return;
  g_free(conf->text);
  if (conf->settings != NULL)
    g_ptr_array_unref(conf->settings);
  g_free(conf);
}

static gboolean fail(Lexer *lx, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
fail(Lexer *lx, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(lx->error, PP_LIBVIRT_CONF_ERROR, PP_LIBVIRT_CONF_ERROR_INVALID, "line %u: %s",
              lx->line, message);
  return FALSE;
}

static char
peek(const Lexer *lx)
{
  return lx->at < lx->len ? lx->text[lx->at] : '\0';
}

static void
advance(Lexer *lx)
{
  if (lx->text[lx->at] == '\n')
    lx->line++;
  lx->at++;
}

typedef enum {
  SKIP_BLANKS, /* inside a line */
  SKIP_LINES,  /* and newlines and comments: between settings */
} SkipWhat;

/* Blanks, and with SKIP_LINES also newlines and comments. */
static void
skip(Lexer *lx, SkipWhat what)
{
  gboolean newlines = what == SKIP_LINES;

  while (lx->at < lx->len) {
    char c = peek(lx);

    if (c == ' ' || c == '\t' || c == '\r') {
      advance(lx);
    } else if (newlines && c == '\n') {
      advance(lx);
    } else if (newlines && c == '#') {
      while (lx->at < lx->len && peek(lx) != '\n')
        advance(lx);
    } else {
      break;
    }
  }
}

static gboolean
is_name_char(char c)
{
  return g_ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
}

/* A value; appends strings to @strings, or sets *@not_strings. */
static gboolean
parse_value(Lexer *lx, GPtrArray *strings, gboolean *not_strings, gboolean in_list)
{
  char c = peek(lx);

  if (c == '"' || c == '\'') {
    gboolean triple =
        c == '"' && lx->at + 2 < lx->len && strncmp(lx->text + lx->at, "\"\"\"", 3) == 0;
    guint open_line = lx->line;
    gsize start;

    for (guint i = 0; i < (triple ? 3u : 1u); i++)
      advance(lx);
    start = lx->at;
    for (;;) {
      if (lx->at >= lx->len) {
        lx->line = open_line;
        return fail(lx, "a string that starts here has no closing quote");
      }
      if (triple ? strncmp(lx->text + lx->at, "\"\"\"", 3) == 0 : peek(lx) == c)
        break;
      if (!triple && peek(lx) == '\n')
        return fail(lx, "a string ends at the end of the line without its closing quote");
      advance(lx);
    }
    g_ptr_array_add(strings, g_strndup(lx->text + start, lx->at - start));
    for (guint i = 0; i < (triple ? 3u : 1u); i++)
      advance(lx);
    return TRUE;
  }
  if (c == '-' || c == '+' || g_ascii_isdigit(c)) {
    advance(lx);
    while (g_ascii_isdigit(peek(lx)))
      advance(lx);
    *not_strings = TRUE;
    return TRUE;
  }
  if (c == '[' && !in_list) {
    guint open_line = lx->line;

    advance(lx);
    skip(lx, SKIP_LINES);
    while (peek(lx) != ']') {
      if (lx->at >= lx->len) {
        lx->line = open_line;
        return fail(lx, "a list that starts here is not closed with ']'");
      }
      if (!parse_value(lx, strings, not_strings, TRUE))
        return FALSE;
      skip(lx, SKIP_LINES);
      if (lx->at >= lx->len)
        continue;
      if (peek(lx) == ',') {
        advance(lx);
        skip(lx, SKIP_LINES);
      } else if (peek(lx) != ']') {
        return fail(lx, "expected ',' or ']' in a list");
      }
    }
    advance(lx);
    return TRUE;
  }
  return fail(lx, "expected a value: a quoted string, a number or a [ list ]");
}

PpLibvirtConf *
pp_libvirt_conf_parse(const char *text, gsize len, GError **error)
{
  g_autoptr(PpLibvirtConf) conf = g_new0(PpLibvirtConf, 1);
  Lexer lx = { text, len, 0, 1, error };

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  /* A NUL would end the text that pp_libvirt_conf_set_strings() returns
   * early; libvirt reads a file up to its first one. */
  if (len > 0 && memchr(text, '\0', len) != NULL) {
    const char *nul = memchr(text, '\0', len);

    for (const char *p = text; p < nul; p++)
      if (*p == '\n')
        lx.line++;
    fail(&lx, "a NUL byte; the file must be text");
    return NULL;
  }
  conf->text = g_strndup(text ? text : "", len);
  conf->len = len;
  conf->settings = g_ptr_array_new_with_free_func(setting_free);
  lx.text = conf->text;

  for (;;) {
    Setting *s;
    gsize name_start;
    gboolean not_strings = FALSE;

    skip(&lx, SKIP_LINES);
    if (lx.at >= lx.len)
      break;
    if (!g_ascii_isalpha(peek(&lx)) && peek(&lx) != '_') {
      fail(&lx, "expected a setting name, found '%c'", peek(&lx));
      return NULL;
    }
    name_start = lx.at;
    while (is_name_char(peek(&lx)))
      advance(&lx);
    s = g_new0(Setting, 1);
    s->name = g_strndup(lx.text + name_start, lx.at - name_start);
    s->start = name_start;
    s->strings = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(conf->settings, s);
    skip(&lx, SKIP_BLANKS);
    if (peek(&lx) != '=') {
      fail(&lx, "expected '=' after %s", s->name);
      return NULL;
    }
    advance(&lx);
    skip(&lx, SKIP_BLANKS);
    if (!parse_value(&lx, s->strings, &not_strings, FALSE))
      return NULL;
    s->end = lx.at;
    if (not_strings)
      g_clear_pointer(&s->strings, g_ptr_array_unref);
    /* The rest of the line: blanks, a ';', a comment. */
    skip(&lx, SKIP_BLANKS);
    if (peek(&lx) == ';')
      advance(&lx);
    skip(&lx, SKIP_BLANKS);
    if (lx.at < lx.len && peek(&lx) != '\n' && peek(&lx) != '#') {
      fail(&lx, "expected the end of the line after the value of %s", s->name);
      return NULL;
    }
  }
  return g_steal_pointer(&conf);
}

static const Setting *
find(const PpLibvirtConf *conf, const char *name)
{
  const Setting *found = NULL;

  /* The last one wins, as in libvirt. */
  for (guint i = 0; i < conf->settings->len; i++) {
    const Setting *s = g_ptr_array_index(conf->settings, i);

    if (strcmp(s->name, name) == 0)
      found = s;
  }
  return found;
}

gboolean
pp_libvirt_conf_has(const PpLibvirtConf *conf, const char *name)
{
  g_return_val_if_fail(conf != NULL && name != NULL, FALSE);
  return find(conf, name) != NULL;
}

char **
pp_libvirt_conf_get_strings(const PpLibvirtConf *conf, const char *name)
{
  const Setting *s;
  GStrvBuilder *builder;
  char **result;

  g_return_val_if_fail(conf != NULL && name != NULL, NULL);

  s = find(conf, name);
  if (s == NULL || s->strings == NULL)
    return NULL;
  builder = g_strv_builder_new();
  for (guint i = 0; i < s->strings->len; i++)
    g_strv_builder_add(builder, g_ptr_array_index(s->strings, i));
  result = g_strv_builder_end(builder);
  g_strv_builder_unref(builder);
  return result;
}

/* The quotes that hold @value, libvirt having no escapes: double ones, or
 * single ones for a value with a double quote, or triple double ones for a
 * value on several lines or with both kinds (which may not hold three
 * double quotes nor end with one: the first three end it). Every string
 * that parse_value() reads is one of these. NULL: none can. */
static const char *
value_quote(const char *value)
{
  gsize len = strlen(value);

  if (strchr(value, '\n') == NULL && strchr(value, '"') == NULL)
    return "\"";
  if (strchr(value, '\n') == NULL && strchr(value, '\'') == NULL)
    return "'";
  if (strstr(value, "\"\"\"") == NULL && (len == 0 || value[len - 1] != '"'))
    return "\"\"\"";
  return NULL;
}

char *
pp_libvirt_conf_set_strings(const PpLibvirtConf *conf, const char *name, const char *const *values,
                            const char *comment)
{
  const Setting *s;
  g_autoptr(GString) setting = g_string_new(NULL);
  g_autoptr(GString) out = NULL;

  g_return_val_if_fail(conf != NULL && name != NULL && values != NULL, NULL);

  g_string_append_printf(setting, "%s = [\n", name);
  for (guint i = 0; values[i] != NULL; i++) {
    const char *quote = value_quote(values[i]);

    g_return_val_if_fail(quote != NULL, NULL);
    g_string_append_printf(setting, "    %s%s%s%s\n", quote, values[i], quote,
                           values[i + 1] ? "," : "");
  }
  g_string_append(setting, "]");

  s = find(conf, name);
  out = g_string_new_len(conf->text, conf->len);
  if (s != NULL) {
    g_string_erase(out, s->start, s->end - s->start);
    g_string_insert(out, s->start, setting->str);
  } else {
    if (out->len > 0 && out->str[out->len - 1] != '\n')
      g_string_append_c(out, '\n');
    g_string_append_c(out, '\n');
    if (comment != NULL)
      g_string_append_printf(out, "# %s\n", comment);
    g_string_append_printf(out, "%s\n", setting->str);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}
