#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-client.h"

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
