/* pcipass user ... and pcipass token ...: who may call pcipassd. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-host-table.h"

static gint64
now_seconds(void)
{
  return g_get_real_time() / G_USEC_PER_SEC;
}

int
pp_cmd_user_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gboolean admin = FALSE;
  const GOptionEntry entries[] = {
    { "admin", 0, 0, G_OPTION_ARG_NONE, &admin, "Make the user an admin", NULL }, { NULL }
  };
  g_autoptr(json_t) body = json_object();
  g_autoptr(json_t) user = NULL;
  g_autofree char *id = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("NAME",
                                   "Adds a user (admin only). On the Unix socket a user is known "
                                   "by the name of its Unix user.",
                                   entries, 1, "one NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (!pp_cli_json_set_string(body, "name", "the NAME", argv[1]))
    return PP_EXIT_USAGE;
  json_object_set_new(body, "admin", json_boolean(admin));
  rc = pp_cli_call(&opts, "POST", "/v1/users", g_steal_pointer(&body), &user);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&user));
  id = g_strdup_printf("ID: %" JSON_INTEGER_FORMAT "\n",
                       json_integer_value(json_object_get(user, "id")));
  return pp_cli_print(id);
}

int
pp_cmd_user_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("", "Lists the users: ID, NAME, ADMIN, CREATED (admin only).",
                                   NULL, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "GET", "/v1/users", NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  text = pp_host_table_users(json_object_get(answer, "users"), now_seconds());
  return pp_cli_print(text);
}

/* A token goes on one line by itself: visible ASCII only. */
static gboolean
token_printable(const char *token)
{
  if (token == NULL || token[0] == '\0')
    return FALSE;
  for (const char *p = token; *p != '\0'; p++)
    if (*p < 0x21 || *p > 0x7e)
      return FALSE;
  return TRUE;
}

int
pp_cmd_token_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *name = NULL;
  g_autofree char *user = NULL;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "A label for the token (where it is used)",
      "LABEL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      "Make the token for another user (admin only; default: yourself)", "NAME" },
    { NULL }
  };
  g_autoptr(json_t) body = json_object();
  g_autoptr(json_t) token = NULL;
  g_autofree char *line = NULL;
  const char *secret;
  int rc;

  if (!pp_cli_parse_daemon_options(
          "", "Makes a token for calling pcipassd over TCP and prints it, this once.", entries, 0,
          "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (!pp_cli_json_set_string(body, "name", "--name", name) ||
      !pp_cli_json_set_string(body, "user", "--user", user))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "POST", "/v1/tokens", g_steal_pointer(&body), &token);
  if (rc != PP_EXIT_OK)
    return rc;
  secret = json_string_value(json_object_get(token, "token"));
  if (!token_printable(secret)) {
    pp_say_error("pcipassd's answer has no token one can print");
    return PP_EXIT_RUNTIME;
  }
  pp_say_error("note: the token is shown this once; keep it in a file only you can read "
               "(chmod 600), or in PCIPASS_TOKEN");
  if (opts.json)
    return pp_print_json(g_steal_pointer(&token));
  line = g_strconcat(secret, "\n", NULL);
  rc = pp_cli_print(line);
  explicit_bzero(line, strlen(line));
  return rc;
}

int
pp_cmd_token_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the tokens (yours; all for an admin): ID, USER, NAME, "
                                   "CREATED, LAST USED. Never their secrets.",
                                   NULL, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "GET", "/v1/tokens", NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  text = pp_host_table_tokens(json_object_get(answer, "tokens"), now_seconds());
  return pp_cli_print(text);
}
