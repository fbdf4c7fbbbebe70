#define G_LOG_DOMAIN "pp-pciconf"

#include "config.h"

#include <string.h>

#include <yaml.h>

#include "pp-file.h"
#include "pp-pciconf.h"

/* clang-format off */
G_DEFINE_QUARK(pp-pciconf-error-quark, pp_pciconf_error)
/* clang-format on */

typedef struct {
  yaml_document_t *doc;
  PpPciFilter *filter;
} Loader;

/* What a key's handler gets: the value node, and the key's name for
 * messages. Returns FALSE with @error set. */
typedef gboolean (*KeyHandler)(Loader *loader, const char *key, yaml_node_t *value, GError **error);

static gboolean fail_at(GError **error, const yaml_mark_t *mark, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean
fail_at(GError **error, const yaml_mark_t *mark, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  /* libyaml counts from 0. */
  g_set_error(error, PP_PCICONF_ERROR, PP_PCICONF_ERROR_INVALID, "line %lu, column %lu: %s",
              (unsigned long)mark->line + 1, (unsigned long)mark->column + 1, message);
  return FALSE;
}

static const char *
scalar_text(const yaml_node_t *node)
{
  return (const char *)node->data.scalar.value;
}

/* A YAML null: an empty plain scalar, `~` or `null` in any of its cases. */
static gboolean
is_null(const yaml_node_t *node)
{
  const char *text;

  if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return FALSE;
  text = scalar_text(node);
  return text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 ||
         strcmp(text, "Null") == 0 || strcmp(text, "NULL") == 0;
}

static const char *
node_kind(const yaml_node_t *node)
{
  switch (node->type) {
  case YAML_MAPPING_NODE:
    return "a mapping";
  case YAML_SEQUENCE_NODE:
    return "a list";
  default:
    return "a string";
  }
}

/* Calls @item for every scalar of @value: the scalar itself, or each item
 * of a list of scalars. Anything else is a type error. */
typedef gboolean (*ItemHandler)(Loader *loader, const char *key, yaml_node_t *item, GError **error);

static gboolean
for_each_scalar(Loader *loader, const char *key, yaml_node_t *value, const char *expected,
                ItemHandler item, GError **error)
{
  if (value->type == YAML_SCALAR_NODE)
    return item(loader, key, value, error);
  if (value->type != YAML_SEQUENCE_NODE)
    return fail_at(error, &value->start_mark, "%s must be %s, not %s", key, expected,
                   node_kind(value));
  for (yaml_node_item_t *i = value->data.sequence.items.start; i < value->data.sequence.items.top;
       i++) {
    yaml_node_t *node = yaml_document_get_node(loader->doc, *i);

    if (node == NULL)
      continue;
    if (node->type != YAML_SCALAR_NODE || is_null(node))
      return fail_at(error, &node->start_mark, "each item of %s must be a string, not %s", key,
                     is_null(node) ? "empty" : node_kind(node));
    if (!item(loader, key, node, error))
      return FALSE;
  }
  return TRUE;
}

/* One string of :filter: patterns separated by commas. */
static gboolean
filter_item(Loader *loader, const char *key, yaml_node_t *node, GError **error)
{
  /* g_strsplit() of "" is no part at all: catch '' here. */
  g_auto(GStrv) parts = g_strsplit(scalar_text(node)[0] ? scalar_text(node) : " ", ",", -1);

  for (guint i = 0; parts[i] != NULL; i++) {
    g_autoptr(GError) pattern_error = NULL;
    PpPciIdPattern pattern;

    if (g_strstrip(parts[i])[0] == '\0')
      return fail_at(error, &node->start_mark,
                     "%s: '%s' has an empty pattern; write '*:*' for every device, '0:0' for "
                     "none",
                     key, scalar_text(node));
    if (!pp_pci_id_pattern_parse(parts[i], &pattern, &pattern_error))
      return fail_at(error, &node->start_mark, "%s: %s", key, pattern_error->message);
    pp_pci_filter_add_id_pattern(loader->filter, &pattern);
  }
  return TRUE;
}

static gboolean
handle_filter(Loader *loader, const char *key, yaml_node_t *value, GError **error)
{
  if (is_null(value)) {
    /* OpenNebula's "NULL filter": every device. */
    PpPciIdPattern any = { -1, -1, -1 };

    pp_pci_filter_add_id_pattern(loader->filter, &any);
    return TRUE;
  }
  return for_each_scalar(loader, key, value, "a pattern or a list of patterns", filter_item, error);
}

static gboolean
address_item(Loader *loader, const char *key, yaml_node_t *node, GError **error)
{
  g_auto(GStrv) parts = g_strsplit(scalar_text(node)[0] ? scalar_text(node) : " ", ",", -1);

  for (guint i = 0; parts[i] != NULL; i++) {
    g_autoptr(GError) address_error = NULL;
    PpPciAddress address;

    if (!pp_pci_address_parse(g_strstrip(parts[i]), &address, &address_error))
      return fail_at(error, &node->start_mark, "%s: %s", key, address_error->message);
    pp_pci_filter_add_address(loader->filter, &address);
  }
  return TRUE;
}

static gboolean
handle_short_address(Loader *loader, const char *key, yaml_node_t *value, GError **error)
{
  if (is_null(value))
    return TRUE;
  return for_each_scalar(loader, key, value, "an address or a list of addresses", address_item,
                         error);
}

static gboolean
name_item(Loader *loader, const char *key, yaml_node_t *node, GError **error)
{
  g_autoptr(GError) regex_error = NULL;

  if (!pp_pci_filter_add_name_regex(loader->filter, scalar_text(node), &regex_error))
    return fail_at(error, &node->start_mark, "%s: '%s' is not a valid regular expression: %s", key,
                   scalar_text(node), regex_error->message);
  return TRUE;
}

static gboolean
handle_device_name(Loader *loader, const char *key, yaml_node_t *value, GError **error)
{
  if (is_null(value))
    return TRUE;
  return for_each_scalar(loader, key, value, "a regular expression or a list of them", name_item,
                         error);
}

static gboolean
handle_ignored(Loader *loader, const char *key, yaml_node_t *value, GError **error)
{
  return TRUE;
}

/* The keys of pci.conf.
 *   key      the YAML key, with OpenNebula's leading ':' (Ruby symbols)
 *   handler  reads the value into the filter; it checks the value's type
 */
static const struct {
  const char *key;
  KeyHandler handler;
} keys[] = {
  { ":filter", handle_filter },
  { ":short_address", handle_short_address },
  { ":device_name", handle_device_name },
  { ":nvidia_vendors", handle_ignored },
};

static gboolean
load_root(Loader *loader, yaml_node_t *root, GError **error)
{
  gboolean seen[G_N_ELEMENTS(keys)] = { FALSE };

  if (is_null(root))
    goto defaults;
  if (root->type != YAML_MAPPING_NODE)
    return fail_at(error, &root->start_mark,
                   "the file must be a mapping of keys such as ':filter:', not %s",
                   node_kind(root));

  for (yaml_node_pair_t *pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top;
       pair++) {
    yaml_node_t *key = yaml_document_get_node(loader->doc, pair->key);
    yaml_node_t *value = yaml_document_get_node(loader->doc, pair->value);
    guint k;

    if (key == NULL || value == NULL)
      continue;
    if (key->type != YAML_SCALAR_NODE)
      return fail_at(error, &key->start_mark, "a key must be a string, not %s", node_kind(key));
    for (k = 0; k < G_N_ELEMENTS(keys); k++)
      if (strcmp(scalar_text(key), keys[k].key) == 0)
        break;
    if (k == G_N_ELEMENTS(keys)) {
      g_autofree char *colon = g_strconcat(":", scalar_text(key), NULL);
      gboolean missing_colon = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS(keys); j++)
        missing_colon |= strcmp(colon, keys[j].key) == 0;
      return fail_at(error, &key->start_mark,
                     "unknown key '%s'%s; the keys are :filter, :short_address and "
                     ":device_name",
                     scalar_text(key),
                     missing_colon ? " (OpenNebula's keys start with ':', as in ':filter:')" : "");
    }
    if (seen[k])
      return fail_at(error, &key->start_mark, "%s is given twice", keys[k].key);
    seen[k] = TRUE;
    if (!keys[k].handler(loader, keys[k].key, value, error))
      return FALSE;
  }

defaults:
  if (!seen[0]) {
    /* The reference's default '0:0': no device has vendor 0000. */
    PpPciIdPattern none = { 0, 0, -1 };

    pp_pci_filter_add_id_pattern(loader->filter, &none);
  }
  return TRUE;
}

/* libyaml's own error. Its reader (bad UTF-8, control characters) gives a
 * byte offset where the scanner and parser give a mark: make it a mark. */
static gboolean
yaml_error(const yaml_parser_t *parser, const char *text, gsize len, GError **error)
{
  yaml_mark_t mark = parser->problem_mark;

  if (parser->error == YAML_READER_ERROR) {
    gsize end = MIN(parser->problem_offset, len);

    memset(&mark, 0, sizeof(mark));
    for (gsize i = 0; i < end; i++) {
      if (text[i] == '\n') {
        mark.line++;
        mark.column = 0;
      } else if (((guchar)text[i] & 0xC0) != 0x80) {
        mark.column++;
      }
    }
    if (parser->problem_value != -1)
      return fail_at(error, &mark, "not valid YAML: %s (byte 0x%02x)", parser->problem,
                     (guint)parser->problem_value & 0xff);
  }
  return fail_at(error, &mark, "not valid YAML: %s%s%s", parser->problem,
                 parser->context ? " " : "", parser->context ? parser->context : "");
}

PpPciFilter *
pp_pciconf_parse(const char *text, gsize len, GError **error)
{
  g_autoptr(PpPciFilter) filter = NULL;
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *root;
  gboolean ok;
  Loader loader;

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  if (len > PP_PCICONF_MAX_SIZE) {
    g_set_error(error, PP_PCICONF_ERROR, PP_PCICONF_ERROR_TOO_LARGE,
                "the file is %" G_GSIZE_FORMAT " bytes, more than the limit of %d", len,
                PP_PCICONF_MAX_SIZE);
    return NULL;
  }

  if (!yaml_parser_initialize(&parser)) {
    g_set_error_literal(error, PP_PCICONF_ERROR, PP_PCICONF_ERROR_INVALID,
                        "out of memory for the YAML parser");
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)(text ? text : ""), len);
  if (!yaml_parser_load(&parser, &doc)) {
    yaml_error(&parser, text, len, error);
    yaml_parser_delete(&parser);
    return NULL;
  }

  filter = pp_pci_filter_new();
  loader.doc = &doc;
  loader.filter = filter;
  root = yaml_document_get_root_node(&doc);
  if (root == NULL) {
    /* An empty file: the defaults. */
    yaml_node_t empty = { .type = YAML_SCALAR_NODE };

    empty.data.scalar.value = (yaml_char_t *)"";
    empty.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    ok = load_root(&loader, &empty, error);
  } else {
    ok = load_root(&loader, root, error);
  }
  yaml_document_delete(&doc);

  if (ok) {
    /* One document only: a second one would be silently ignored otherwise. */
    if (!yaml_parser_load(&parser, &doc)) {
      ok = yaml_error(&parser, text, len, error);
    } else {
      root = yaml_document_get_root_node(&doc);
      if (root != NULL)
        ok =
            fail_at(error, &root->start_mark, "a second YAML document; pci.conf holds one mapping");
      yaml_document_delete(&doc);
    }
  }
  yaml_parser_delete(&parser);
  return ok ? g_steal_pointer(&filter) : NULL;
}

PpPciFilter *
pp_pciconf_load(const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  PpPciFilter *filter;

  g_return_val_if_fail(path != NULL, NULL);

  if (!pp_file_read(path, PP_PCICONF_MAX_SIZE, &text, &len, error))
    return NULL;
  filter = pp_pciconf_parse(text, len, error);
  if (filter == NULL)
    g_prefix_error(error, "%s: ", path);
  return filter;
}
