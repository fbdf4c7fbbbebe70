#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-client.h"
#include "pp-file.h"
#include "pp-template.h"

gboolean
pp_cli_parse_options(const char *usage, const char *summary, const GOptionEntry *entries, int *argc,
                     char ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new(usage);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary(context, summary);
  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, argc, argv, &error)) {
    pp_say_error("%s (try --help)", error->message);
    return FALSE;
  }
  return TRUE;
}

void
pp_cli_daemon_options_clear(PpCliDaemonOptions *opts)
{
  g_clear_pointer(&opts->socket_path, g_free);
  g_clear_pointer(&opts->url, g_free);
  g_clear_pointer(&opts->token_file, g_free);
  g_clear_pointer(&opts->ca_file, g_free);
  opts->json = FALSE;
}

/* The options of every command that talks to pcipassd. They may also come
 * before the command (pp_cli_daemon_option_words()), so that
 * `pcipass --socket S host list` works as `pcipass host list --socket S`.
 *   long_name, short_name  as GOption's
 *   arg                    G_OPTION_ARG_NONE for a flag, else its value's kind
 *   offset                 the field of PpCliDaemonOptions it fills
 *   description, arg_description  for --help
 */
static const struct {
  const char *long_name;
  char short_name;
  GOptionArg arg;
  gsize offset;
  const char *description;
  const char *arg_description;
} daemon_options[] = {
  { "json", 'j', G_OPTION_ARG_NONE, G_STRUCT_OFFSET(PpCliDaemonOptions, json),
    "Print the API's JSON", NULL },
  { "socket", 0, G_OPTION_ARG_FILENAME, G_STRUCT_OFFSET(PpCliDaemonOptions, socket_path),
    "pcipassd's Unix socket (default $PCIPASS_SOCKET, else /run/pcipass/pcipassd.sock)", "PATH" },
  { "url", 0, G_OPTION_ARG_STRING, G_STRUCT_OFFSET(PpCliDaemonOptions, url),
    "Call pcipassd over TCP at this base URL (default $PCIPASS_URL)", "URL" },
  { "token-file", 0, G_OPTION_ARG_FILENAME, G_STRUCT_OFFSET(PpCliDaemonOptions, token_file),
    "With --url: the file holding the token (chmod 600; default $PCIPASS_TOKEN, else "
    "~/.config/pcipass/token)",
    "FILE" },
  { "ca-file", 0, G_OPTION_ARG_FILENAME, G_STRUCT_OFFSET(PpCliDaemonOptions, ca_file),
    "With an https --url: verify pcipassd with the CA certificates in FILE (default "
    "$PCIPASS_CA_FILE, else the system's store)",
    "FILE" },
};

int
pp_cli_daemon_option_words(const char *arg)
{
  g_return_val_if_fail(arg != NULL, -1);

  for (guint i = 0; i < G_N_ELEMENTS(daemon_options); i++) {
    const char *name = daemon_options[i].long_name;
    gsize len = strlen(name);
    gboolean flag = daemon_options[i].arg == G_OPTION_ARG_NONE;

    if (daemon_options[i].short_name != 0 && arg[0] == '-' &&
        arg[1] == daemon_options[i].short_name && arg[2] == '\0')
      return flag ? 0 : 1;
    if (arg[0] != '-' || arg[1] != '-' || strncmp(arg + 2, name, len) != 0)
      continue;
    if (arg[2 + len] == '\0')
      return flag ? 0 : 1;
    /* --socket=PATH carries its value; a flag takes none. */
    if (arg[2 + len] == '=' && !flag)
      return 0;
  }
  return -1;
}

char *
pp_cli_daemon_option_list(void)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < G_N_ELEMENTS(daemon_options); i++) {
    if (i > 0)
      g_string_append(out, i + 1 == G_N_ELEMENTS(daemon_options) ? " and " : ", ");
    g_string_append_printf(out, "--%s", daemon_options[i].long_name);
  }
  return g_string_free(out, FALSE);
}

gboolean
pp_cli_parse_daemon_options(const char *usage, const char *summary, const GOptionEntry *entries,
                            guint n_args, const char *args_usage, PpCliDaemonOptions *ret_opts,
                            int *argc, char ***argv)
{
  g_autoptr(GArray) all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
  g_autofree char *command_name = g_strdup((*argv)[0]);
  const char *command = command_name;
  g_autoptr(GOptionContext) context = g_option_context_new(usage);
  g_autoptr(GError) error = NULL;
  gboolean parsed;

  for (guint i = 0; entries != NULL && entries[i].long_name != NULL; i++)
    g_array_append_val(all, entries[i]);
  for (guint i = 0; i < G_N_ELEMENTS(daemon_options); i++) {
    GOptionEntry entry = { daemon_options[i].long_name,
                           daemon_options[i].short_name,
                           0,
                           daemon_options[i].arg,
                           G_STRUCT_MEMBER_P(ret_opts, daemon_options[i].offset),
                           daemon_options[i].description,
                           daemon_options[i].arg_description };

    g_array_append_val(all, entry);
  }
  /* --help's usage line says "pcipass host show"; messages stay
   * "pcipass: ...", as for every command. */
  g_option_context_set_summary(context, summary);
  g_option_context_add_main_entries(context, (const GOptionEntry *)all->data, NULL);
  g_set_prgname(command);
  parsed = g_option_context_parse(context, argc, argv, &error);
  g_set_prgname("pcipass");
  if (!parsed) {
    pp_say_error("%s (try --help)", error->message);
    return FALSE;
  }
  /* "pcipass host show" names itself "host show" in messages. */
  if (g_str_has_prefix(command, "pcipass "))
    command += strlen("pcipass ");
  if ((guint)*argc != n_args + 1) {
    pp_say_error("%s takes %s (try --help)", command, args_usage);
    return FALSE;
  }
  for (int i = 1; i < *argc; i++) {
    if ((*argv)[i][0] == '\0') {
      pp_say_error("an empty argument: %s takes %s (try --help)", command, args_usage);
      return FALSE;
    }
  }
  return TRUE;
}

int
pp_cli_call(const PpCliDaemonOptions *opts, const char *method, const char *path, json_t *body,
            json_t **ret_json)
{
  g_autoptr(json_t) owned_body = body;
  g_autoptr(PpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  json_t *json;

  client = pp_client_new(opts->socket_path, opts->url, opts->token_file, opts->ca_file, &error);
  if (client == NULL) {
    pp_say_error("%s", error->message);
    return pp_client_error_exit_code(error);
  }
  json = pp_client_call(client, method, path, owned_body, NULL, &error);
  if (json == NULL) {
    pp_say_error("%s", error->message);
    return pp_client_error_exit_code(error);
  }
  *ret_json = json;
  return PP_EXIT_OK;
}

void
pp_cli_query_add(GString *path, const char *name, const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL)
    return;
  escaped = g_uri_escape_string(value, NULL, FALSE);
  g_string_append_printf(path, "%s%s=%s", strchr(path->str, '?') != NULL ? "&" : "?", name,
                         escaped);
}

/* Writes @text on stdout; FALSE, said, when it cannot. */
static gboolean
list_write(const char *text)
{
  return pp_cli_print(text) == PP_EXIT_OK;
}

int
pp_cli_list(const PpCliDaemonOptions *opts, const char *path, const char *key, guint64 max,
            PpCliPageTable table)
{
  g_autoptr(PpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  PpTableStream stream = { 0 };
  gboolean json_started = FALSE;
  guint64 printed = 0;
  gint64 after = 0;

  client = pp_client_new(opts->socket_path, opts->url, opts->token_file, opts->ca_file, &error);
  if (client == NULL) {
    pp_say_error("%s", error->message);
    return pp_client_error_exit_code(error);
  }
  for (;;) {
    guint64 limit = max != 0 ? MIN(PP_CLI_PAGE_SIZE, max - printed) : PP_CLI_PAGE_SIZE;
    g_autoptr(GString) page_path = g_string_new(path);
    g_autofree char *limit_text = g_strdup_printf("%" G_GUINT64_FORMAT, limit);
    g_autofree char *after_text = after > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, after) : NULL;
    g_autoptr(json_t) page = NULL;
    g_autoptr(json_t) items = NULL;
    const json_t *next;
    gboolean more;

    pp_cli_query_add(page_path, "limit", limit_text);
    pp_cli_query_add(page_path, "after", after_text);
    page = pp_client_call(client, "GET", page_path->str, NULL, NULL, &error);
    if (page == NULL) {
      pp_say_error("%s", error->message);
      return pp_client_error_exit_code(error);
    }
    items = json_incref(json_object_get(page, key));
    next = json_object_get(page, "next");
    if (!json_is_array(items) || (next != NULL && !json_is_null(next) && !json_is_integer(next))) {
      pp_say_error("pcipassd's answer to GET %s is not a page of '%s'", page_path->str, key);
      return PP_EXIT_RUNTIME;
    }
    /* A pcipassd that pages gives no more than asked; one that does not
     * gives everything, and no "next". */
    if (max != 0 && json_array_size(items) > max - printed) {
      g_autoptr(json_t) cut = json_array();

      for (size_t i = 0; i < max - printed; i++)
        json_array_append(cut, json_array_get(items, i));
      json_decref(items);
      items = g_steal_pointer(&cut);
    }
    printed += json_array_size(items);
    more = json_is_integer(next) && (max == 0 || printed < max);
    if (more && json_integer_value(next) <= after) {
      pp_say_error("pcipassd's next page of '%s' does not follow %" G_GINT64_FORMAT
                   " (next: %" JSON_INTEGER_FORMAT ")",
                   key, after, json_integer_value(next));
      return PP_EXIT_RUNTIME;
    }
    if (opts->json) {
      size_t i;
      json_t *item;

      if (!json_started) {
        g_autofree char *head = g_strdup_printf("{\"%s\": [", key);

        json_started = TRUE;
        if (!list_write(head))
          return PP_EXIT_RUNTIME;
      }
      json_array_foreach(items, i, item)
      {
        g_autofree char *dumped = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
        g_autofree char *line = NULL;

        if (dumped == NULL) {
          pp_say_error("internal error: the JSON output could not be built; please report it");
          return PP_EXIT_RUNTIME;
        }
        line =
            g_strconcat(printed - json_array_size(items) + i > 0 ? ",\n  " : "\n  ", dumped, NULL);
        if (!list_write(line))
          return PP_EXIT_RUNTIME;
      }
      if (!more)
        return list_write(printed > 0 ? "\n]}\n" : "]}\n") ? PP_EXIT_OK : PP_EXIT_RUNTIME;
    } else {
      g_autofree char *text = table(items, now, more, &stream);

      if (!list_write(text))
        return PP_EXIT_RUNTIME;
      if (!more)
        return PP_EXIT_OK;
    }
    after = json_integer_value(next);
  }
}

int
pp_cli_print(const char *text)
{
  if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
    pp_say_error("cannot write the output: %s", g_strerror(errno));
    return PP_EXIT_RUNTIME;
  }
  return PP_EXIT_OK;
}

gboolean
pp_cli_json_set_string(json_t *obj, const char *key, const char *what, const char *value)
{
  if (value == NULL)
    return TRUE;
  if (!g_utf8_validate(value, -1, NULL)) {
    pp_say_error("%s is not valid UTF-8", what);
    return FALSE;
  }
  json_object_set_new(obj, key, json_string(value));
  return TRUE;
}

void
pp_cli_say_template_error(const char *shown, guint line, guint column, const char *message)
{
  g_autofree char *prefix = NULL;

  if (line == 0) {
    pp_say_error("%s: %s", shown, message);
    return;
  }
  prefix = g_strdup_printf("line %u, column %u: ", line, column);
  if (g_str_has_prefix(message, prefix))
    message += strlen(prefix);
  pp_say_error("%s:%u:%u: %s", shown, line, column, message);
}

/* Reads the template @path ('-': standard input) and checks its syntax,
 * so that a syntax error needs no daemon; said on stderr as `template
 * check` says it. Returns: (transfer full): its text, or NULL. */
static char *
read_template(const char *path)
{
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpTemplate) tmpl = NULL;
  g_autofree char *text = NULL;
  PpTextPos pos = { 0, 0 };
  gsize len = 0;

  if (!pp_file_read(path, PP_TEMPLATE_MAX_SIZE, &text, &len, &error)) {
    pp_say_error("%s", error->message);
    return NULL;
  }
  tmpl = pp_template_parse(text, len, &pos, &error);
  if (tmpl == NULL) {
    gboolean placed = g_error_matches(error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID);

    pp_cli_say_template_error(shown, placed ? pos.line : 0, pos.column, error->message);
    return NULL;
  }
  /* The syntax allows no NUL, but JSON would cut the text at one. */
  if (strlen(text) != len) {
    pp_say_error("%s: the template holds a NUL byte", shown);
    return NULL;
  }
  return g_steal_pointer(&text);
}

int
pp_cli_send_template(const PpCliDaemonOptions *opts, const char *method, const char *path,
                     const char *api_path, const json_t *fields, json_t **ret_json)
{
  const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;
  g_autofree char *text = read_template(path);
  g_autoptr(json_t) body = json_object();
  g_autoptr(PpClient) client = NULL;
  g_autoptr(GError) error = NULL;
  json_t *json;

  if (text == NULL)
    return PP_EXIT_USAGE;
  if (!pp_cli_json_set_string(body, "template", shown, text))
    return PP_EXIT_USAGE;
  if (fields != NULL)
    json_object_update(body, (json_t *)fields);
  client = pp_client_new(opts->socket_path, opts->url, opts->token_file, opts->ca_file, &error);
  if (client == NULL) {
    pp_say_error("%s", error->message);
    return pp_client_error_exit_code(error);
  }
  json = pp_client_call(client, method, api_path, body, NULL, &error);
  if (json == NULL) {
    const json_t *api_error = pp_client_get_api_error(client);
    json_int_t line = json_integer_value(json_object_get(api_error, "line"));
    json_int_t column = json_integer_value(json_object_get(api_error, "column"));
    gboolean bad = g_error_matches(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_BAD_REQUEST);

    if (bad && line > 0 && line <= G_MAXUINT && column > 0 && column <= G_MAXUINT)
      pp_cli_say_template_error(shown, (guint)line, (guint)column, error->message);
    /* A pcipassd without the fields said "line L, column C: " alone. */
    else if (bad && (json_is_string(json_object_get(api_error, "missing")) ||
                     g_str_has_prefix(error->message, "line ")))
      pp_cli_say_template_error(shown, 0, 0, error->message);
    else
      pp_say_error("%s", error->message);
    return pp_client_error_exit_code(error);
  }
  *ret_json = json;
  return PP_EXIT_OK;
}
