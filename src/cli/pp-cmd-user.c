/* pcipass user ... and pcipass token ...: who may call pcipassd. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-client.h"
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

/* /v1/users/NAME[/VERB], the name escaped. */
static char *
user_path(const char *name, const char *verb)
{
  g_autofree char *escaped = pp_client_escape(name);

  return g_strconcat("/v1/users/", escaped, verb != NULL ? "/" : "", verb, NULL);
}

int
pp_cmd_user_show(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) user = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("NAME",
                                   "Shows a user: its facts, and its QUOTAS: what its VMs that "
                                   "are not done use of each limit. A user sees only itself; an "
                                   "admin, anyone.",
                                   NULL, 1, "one NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = user_path(argv[1], NULL);
  rc = pp_cli_call(&opts, "GET", path, NULL, &user);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&user));
  text = pp_host_table_user(user, now_seconds());
  return pp_cli_print(text);
}

/* The largest number a quota option takes: the daemon bounds each limit
 * itself (pcipassd(8)); this keeps the text a JSON integer. */
#define QUOTA_DIGITS_MAX 12

/* A quota option's value into @body's @key: "none" (null: no limit), or
 * digits, with at most two decimals when @decimals (CPU). FALSE, said on
 * stderr naming @option, for anything else. */
static gboolean
set_limit(json_t *body, const char *key, const char *option, const char *value, gboolean decimals)
{
  const char *dot = decimals ? strchr(value, '.') : NULL;
  gsize whole = dot != NULL ? (gsize)(dot - value) : strlen(value);
  gsize fraction = dot != NULL ? strlen(dot + 1) : 0;

  if (strcmp(value, "none") == 0) {
    json_object_set_new(body, key, json_null());
    return TRUE;
  }
  if (whole == 0 || whole > QUOTA_DIGITS_MAX || strspn(value, "0123456789") != whole ||
      (dot != NULL &&
       (fraction == 0 || fraction > 2 || strspn(dot + 1, "0123456789") != fraction))) {
    g_autofree char *escaped = g_strescape(value, NULL);

    pp_say_error("%s takes %s, or 'none' for no limit; not '%s'", option,
                 decimals ? "a number of CPUs with at most two decimals (4, 2.5)"
                          : "a whole number (0 or more)",
                 escaped);
    return FALSE;
  }
  if (dot != NULL)
    json_object_set_new(body, key, json_real(g_ascii_strtod(value, NULL)));
  else
    json_object_set_new(body, key, json_integer(g_ascii_strtoll(value, NULL, 10)));
  return TRUE;
}

int
pp_cmd_user_quota(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *vms = NULL;
  g_autofree char *cpu = NULL;
  g_autofree char *memory = NULL;
  g_autofree char *pci = NULL;
  g_autofree char *leases = NULL;
  g_auto(GStrv) classes = NULL;
  const GOptionEntry entries[] = {
    { "vms", 0, 0, G_OPTION_ARG_STRING, &vms, "At most N VMs that are not done ('none': no limit)",
      "N" },
    { "cpu", 0, 0, G_OPTION_ARG_STRING, &cpu, "At most N CPUs in all (two decimals; 'none')", "N" },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory, "At most MIB MiB of memory in all ('none')",
      "MIB" },
    { "pci", 0, 0, G_OPTION_ARG_STRING, &pci, "At most N PCI devices (requests) in all ('none')",
      "N" },
    { "leases", 0, 0, G_OPTION_ARG_STRING, &leases,
      "At most N NICs on networks, each a lease, in all ('none')", "N" },
    { "pci-class", 0, 0, G_OPTION_ARG_STRING_ARRAY, &classes,
      "At most N PCI devices of CLASS (4 hex digits, as a request's CLASS; 'none' removes it); "
      "again for another class",
      "CLASS=N" },
    { NULL }
  };
  g_autoptr(json_t) body = json_object();
  g_autoptr(json_t) by_class = json_object();
  g_autoptr(json_t) user = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options(
          "NAME",
          "Sets a user's quotas (admin only): limits on what its VMs that are not done may have "
          "in all. An option left out keeps its limit; 'none' removes it. Prints the user as "
          "user show does.",
          entries, 1, "one NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if ((vms != NULL && !set_limit(body, "vms", "--vms", vms, FALSE)) ||
      (cpu != NULL && !set_limit(body, "cpu", "--cpu", cpu, TRUE)) ||
      (memory != NULL && !set_limit(body, "memory_mib", "--memory", memory, FALSE)) ||
      (pci != NULL && !set_limit(body, "pci", "--pci", pci, FALSE)) ||
      (leases != NULL && !set_limit(body, "leases", "--leases", leases, FALSE)))
    return PP_EXIT_USAGE;
  for (guint i = 0; classes != NULL && classes[i] != NULL; i++) {
    const char *eq = strchr(classes[i], '=');
    g_autofree char *code = eq != NULL ? g_ascii_strdown(classes[i], eq - classes[i]) : NULL;
    g_autofree char *what = g_strdup_printf("--pci-class %s", code != NULL ? code : "");

    if (code == NULL || strlen(code) != 4 || strspn(code, "0123456789abcdef") != 4) {
      g_autofree char *escaped = g_strescape(classes[i], NULL);

      pp_say_error("--pci-class takes CLASS=N: a class and subclass of 4 hex digits, as a "
                   "request's CLASS (0302=2, 0200=none); not '%s'",
                   escaped);
      return PP_EXIT_USAGE;
    }
    if (json_object_get(by_class, code) != NULL) {
      pp_say_error("--pci-class %s is given twice", code);
      return PP_EXIT_USAGE;
    }
    if (!set_limit(by_class, code, what, eq + 1, FALSE))
      return PP_EXIT_USAGE;
  }
  if (json_object_size(by_class) > 0)
    json_object_set(body, "pci_classes", by_class);
  if (json_object_size(body) == 0) {
    pp_say_error("user quota changes nothing: give --vms, --cpu, --memory, --pci, --leases or "
                 "--pci-class "
                 "(try --help)");
    return PP_EXIT_USAGE;
  }
  path = user_path(argv[1], "quota");
  rc = pp_cli_call(&opts, "PATCH", path, g_steal_pointer(&body), &user);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&user));
  text = pp_host_table_user(user, now_seconds());
  return pp_cli_print(text);
}

int
pp_cmd_user_delete(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("NAME",
                                   "Deletes a user (admin only) with its tokens and its done VMs; "
                                   "refused while it owns a VM that is not done.",
                                   NULL, 1, "one NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = user_path(argv[1], NULL);
  rc = pp_cli_call(&opts, "DELETE", path, NULL, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
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

/* The longest --expires (pcipassd refuses longer: pcipassd(8)). */
#define DURATION_MAX_DAYS 365

/* "90m", "12h", "30d" in seconds, 1 minute to DURATION_MAX_DAYS days. */
static gboolean
parse_duration(const char *text, gint64 *ret_seconds)
{
  static const struct {
    char unit;
    gint64 seconds;
  } units[] = { { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
  gsize len = strlen(text);
  g_autofree char *digits = NULL;
  guint64 n;

  if (len < 2 || len > 8)
    return FALSE;
  digits = g_strndup(text, len - 1);
  if (strspn(digits, "0123456789") != len - 1 ||
      !g_ascii_string_to_unsigned(digits, 10, 1, G_MAXUINT32, &n, NULL))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(units); i++) {
    if (text[len - 1] == units[i].unit &&
        (gint64)n * units[i].seconds <= DURATION_MAX_DAYS * 86400) {
      *ret_seconds = (gint64)n * units[i].seconds;
      return TRUE;
    }
  }
  return FALSE;
}

int
pp_cmd_token_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *name = NULL;
  g_autofree char *user = NULL;
  g_autofree char *expires = NULL;
  const GOptionEntry entries[] = {
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "A label for the token (where it is used)",
      "LABEL" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      "Make the token for another user (admin only; default: yourself)", "NAME" },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &expires,
      "Refuse the token after this long: N and m, h or d (90m, 12h, 30d); 1 minute to 365 days. "
      "Default: never",
      "DURATION" },
    { NULL }
  };
  gint64 life = 0;
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
  if (expires != NULL) {
    if (!parse_duration(expires, &life)) {
      g_autofree char *escaped = g_strescape(expires, NULL);

      pp_say_error("--expires takes N and m, h or d (90m, 12h, 30d), from 1 minute to %d days; "
                   "not '%s'",
                   DURATION_MAX_DAYS, escaped);
      return PP_EXIT_USAGE;
    }
    json_object_set_new(body, "expires_in", json_integer(life));
  }
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
                                   "CREATED, LAST USED, EXPIRES. Never their secrets.",
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

int
pp_cmd_token_delete(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  g_autofree char *escaped = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID",
                                   "Deletes a token (yours; any for an admin): pcipassd refuses "
                                   "it from the next request on. Its ID is in token list.",
                                   NULL, 1, "one ID", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  escaped = pp_client_escape(argv[1]);
  path = g_strconcat("/v1/tokens/", escaped, NULL);
  rc = pp_cli_call(&opts, "DELETE", path, NULL, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}
