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
  opts->json = FALSE;
}

gboolean
pp_cli_parse_daemon_options(const char *usage, const char *summary, const GOptionEntry *entries,
                            guint n_args, const char *args_usage, PpCliDaemonOptions *ret_opts,
                            int *argc, char ***argv)
{
  const GOptionEntry common[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &ret_opts->json, "Print the API's JSON", NULL },
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &ret_opts->socket_path,
      "pcipassd's Unix socket (default $PCIPASS_SOCKET, else /run/pcipass/pcipassd.sock)", "PATH" },
    { "url", 0, 0, G_OPTION_ARG_STRING, &ret_opts->url,
      "Call pcipassd over TCP at this base URL (default $PCIPASS_URL)", "URL" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &ret_opts->token_file,
      "With --url: the file holding the token (chmod 600; default $PCIPASS_TOKEN, else "
      "~/.config/pcipass/token)",
      "FILE" },
  };
  g_autoptr(GArray) all = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
  g_autofree char *command_name = g_strdup((*argv)[0]);
  const char *command = command_name;
  g_autoptr(GOptionContext) context = g_option_context_new(usage);
  g_autoptr(GError) error = NULL;
  gboolean parsed;

  for (guint i = 0; entries != NULL && entries[i].long_name != NULL; i++)
    g_array_append_val(all, entries[i]);
  g_array_append_vals(all, common, G_N_ELEMENTS(common));
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

  client = pp_client_new(opts->socket_path, opts->url, opts->token_file, &error);
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
