/* pcipass net ...: the virtual networks of pcipassd, their address ranges
 * and leases (the API: /v1/networks). */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-net-table.h"
#include "pp-network.h"

/* /v1/networks/ID|NAME[/VERB], the name escaped: pcipassd finds the network
 * by id, else by name among those the caller may use. */
static char *
net_path(const char *id_or_name, const char *verb)
{
  g_autofree char *escaped = g_uri_escape_string(id_or_name, NULL, FALSE);

  return g_strconcat("/v1/networks/", escaped, verb != NULL ? "/" : "", verb, NULL);
}

int
pp_cmd_net_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) net = NULL;
  g_autoptr(json_t) fields = json_object();
  g_autofree char *id = NULL;
  gboolean shared = FALSE;
  const GOptionEntry entries[] = {
    { "shared", 0, 0, G_OPTION_ARG_NONE, &shared,
      "Every user may attach NICs to it (default: only you)", NULL },
    { NULL },
  };
  int rc;

  if (!pp_cli_parse_daemon_options("FILE|-",
                                   "Creates a virtual network from a template (NAME, VN_MAD, "
                                   "AR = [ ... ] and the rest; see pcipass(1)), yours; its "
                                   "syntax is checked here first. '-' reads standard input.",
                                   entries, 1, "one FILE, or - for standard input", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  /* Said only when asked: a network is private unless shared. */
  if (shared)
    json_object_set_new(fields, "shared", json_true());
  rc = pp_cli_send_template(&opts, "POST", argv[1], "/v1/networks", fields, &net);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&net));
  id = g_strdup_printf("ID: %" JSON_INTEGER_FORMAT "\n",
                       json_integer_value(json_object_get(net, "id")));
  return pp_cli_print(id);
}

/* --limit's value when it is not given. */
#define LIMIT_NOT_GIVEN G_MININT64

int
pp_cmd_net_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gint64 limit = LIMIT_NOT_GIVEN;
  const GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT64, &limit, "Stop after N networks", "N" },
    { NULL },
  };

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the networks you may use (yours and the shared ones; "
                                   "all for an admin): ID, NAME, OWNER, SHARED, VN_MAD, VLAN, "
                                   "LEASES (used/size), HELD. Asks pcipassd a page at a time "
                                   "and prints each as it comes.",
                                   entries, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (limit != LIMIT_NOT_GIVEN && limit < 1) {
    pp_say_error("--limit %" G_GINT64_FORMAT ": give 1 or more networks", limit);
    return PP_EXIT_USAGE;
  }
  return pp_cli_list(&opts, "/v1/networks", "networks",
                     limit == LIMIT_NOT_GIVEN ? 0 : (guint64)limit, pp_net_table_list_stream);
}

int
pp_cmd_net_show(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) net = NULL;
  g_autoptr(GString) path = NULL;
  g_autofree char *base = NULL;
  g_autofree char *text = NULL;
  g_autofree char *uname = NULL;
  const GOptionEntry entries[] = {
    { "uname", 0, 0, G_OPTION_ARG_STRING, &uname,
      "The NAME is of this user's network (as NETWORK_UNAME in a VM template)", "USER" },
    { NULL },
  };
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Shows a network: its attributes, its ADDRESS RANGES and "
                                   "every lease (IP, IPv6, MAC, and the VM and NIC that hold "
                                   "it, or \"held\"). A NAME is of your networks, else of the "
                                   "shared ones; --uname names the owner.",
                                   entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (uname != NULL && uname[0] == '\0') {
    pp_say_error("--uname is empty: give a user's name (try --help)");
    return PP_EXIT_USAGE;
  }
  base = net_path(argv[1], NULL);
  path = g_string_new(base);
  pp_cli_query_add(path, "uname", uname);
  rc = pp_cli_call(&opts, "GET", path->str, NULL, &net);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&net));
  text = pp_net_table_show(net, g_get_real_time() / G_USEC_PER_SEC);
  return pp_cli_print(text);
}

int
pp_cmd_net_update(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) net = NULL;
  g_autoptr(json_t) fields = json_object();
  g_autofree char *path = NULL;
  gboolean shared = FALSE, not_shared = FALSE;
  const GOptionEntry entries[] = {
    { "shared", 0, 0, G_OPTION_ARG_NONE, &shared, "Share it: every user may attach NICs to it",
      NULL },
    { "private", 0, 0, G_OPTION_ARG_NONE, &not_shared,
      "Share it no more: only its owner attaches new NICs", NULL },
    { NULL },
  };
  int rc;

  if (!pp_cli_parse_daemon_options(
          "ID|NAME FILE|-",
          "Replaces a network's template with FILE ('-': standard "
          "input), checked here first. Without --shared or "
          "--private it stays shared or private as it was. Prints "
          "nothing; the network with --json.",
          entries, 2, "one ID or NAME and one FILE (or - for standard input)", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (shared && not_shared) {
    pp_say_error("--shared and --private exclude each other (try --help)");
    return PP_EXIT_USAGE;
  }
  if (shared || not_shared)
    json_object_set_new(fields, "shared", json_boolean(shared));
  path = net_path(argv[1], NULL);
  rc = pp_cli_send_template(&opts, "PUT", argv[2], path, fields, &net);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&net));
}

int
pp_cmd_net_delete(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Deletes a network; refused while VMs hold leases of it, or "
                                   "VMs that are not done name it. Prints nothing; pcipassd's "
                                   "answer with --json.",
                                   NULL, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = net_path(argv[1], NULL);
  rc = pp_cli_call(&opts, "DELETE", path, NULL, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}

/* The longest address hold and release send ("ffff:...:ffff" is 39). */
#define ADDRESS_MAX 64

/* Says whether @address reads as an IPv4 address, an IPv6 one or a MAC,
 * so that a typo needs no daemon; said on stderr when not. */
static gboolean
address_ok(const char *address)
{
  PpIp4 ip4;
  PpIp6 ip6;
  PpMac mac;

  if (strlen(address) <= ADDRESS_MAX &&
      (pp_ip4_parse(address, &ip4, NULL) || pp_ip6_parse(address, &ip6, NULL) ||
       pp_mac_parse(address, &mac, NULL)))
    return TRUE;
  pp_say_error("'%.*s%s' is not an address: give an IPv4 address (as 10.0.0.5), an IPv6 "
               "address or a MAC (as 02:00:0a:00:00:05)",
               ADDRESS_MAX, address, strlen(address) > ADDRESS_MAX ? "..." : "");
  return FALSE;
}

/* hold, release: POST /v1/networks/ID|NAME/VERB {"address": ADDRESS};
 * prints pcipassd's answer with --json, nothing without. */
static int
address_action(int argc, char **argv, const char *summary, const char *verb)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  json_t *body;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME ADDRESS", summary, NULL, 2,
                                   "one ID or NAME and one ADDRESS (an IP or a MAC)", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  if (!address_ok(argv[2]))
    return PP_EXIT_USAGE;
  path = net_path(argv[1], verb);
  body = json_pack("{s:s}", "address", argv[2]);
  rc = pp_cli_call(&opts, "POST", path, body, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}

int
pp_cmd_net_hold(int argc, char **argv)
{
  return address_action(argc, argv,
                        "Keeps an address of a network's ranges out of use (OpenNebula's "
                        "onevnet hold): no VM gets it until it is released. ADDRESS is an IP "
                        "or a MAC of the network; one a VM holds is refused. Yours or an "
                        "admin's.",
                        "hold");
}

int
pp_cmd_net_release(int argc, char **argv)
{
  return address_action(argc, argv,
                        "Gives back an address that net hold kept out of use; an address a "
                        "VM holds is given back when the VM terminates, not with this.",
                        "release");
}
