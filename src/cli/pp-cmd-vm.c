/* pcipass vm ...: the VMs of pcipassd. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-vm-table.h"

/* /v1/vms/ID|NAME[/VERB], the name escaped: pcipassd finds the VM by id,
 * else by name among the caller's. */
static char *
vm_path(const char *id_or_name, const char *verb)
{
  g_autofree char *escaped = g_uri_escape_string(id_or_name, NULL, FALSE);

  return g_strconcat("/v1/vms/", escaped, verb != NULL ? "/" : "", verb, NULL);
}

int
pp_cmd_vm_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) vm = NULL;
  g_autofree char *id = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("FILE|-",
                                   "Creates a VM from a template (its syntax checked here "
                                   "first); pcipassd places it. '-' reads standard input.",
                                   NULL, 1, "one FILE, or - for standard input", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_send_template(&opts, "POST", argv[1], "/v1/vms", NULL, &vm);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&vm));
  id = g_strdup_printf("ID: %" JSON_INTEGER_FORMAT "\n",
                       json_integer_value(json_object_get(vm, "id")));
  return pp_cli_print(id);
}

/* --limit's value when it is not given. */
#define LIMIT_NOT_GIVEN G_MININT64

int
pp_cmd_vm_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gboolean all = FALSE;
  g_autofree char *state = NULL;
  g_autofree char *host = NULL;
  g_autofree char *owner = NULL;
  gint64 limit = LIMIT_NOT_GIVEN;
  const GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "Also list the VMs that are done", NULL },
    { "state", 0, 0, G_OPTION_ARG_STRING, &state,
      "Only the VMs in these states (pending, deploying, running, poweroff, unknown, "
      "terminating, done, failed; comma-separated)",
      "STATE[,STATE...]" },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Only the VMs on this host", "ID|NAME" },
    { "owner", 0, 0, G_OPTION_ARG_STRING, &owner,
      "Only this user's VMs (an admin's choice; a user sees only their own)", "USER" },
    { "limit", 0, 0, G_OPTION_ARG_INT64, &limit, "Stop after N VMs", "N" },
    { NULL }
  };
  g_autoptr(GString) path = g_string_new("/v1/vms");

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the VMs (yours; all for an admin): ID, NAME, OWNER, "
                                   "STATE, HOST, CPU, MEMORY, PCI (devices held), AGE. Asks "
                                   "pcipassd a page at a time and prints each as it comes.",
                                   entries, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (limit != LIMIT_NOT_GIVEN && limit < 1) {
    pp_say_error("--limit %" G_GINT64_FORMAT ": give 1 or more VMs", limit);
    return PP_EXIT_USAGE;
  }
  if (all)
    pp_cli_query_add(path, "all", "1");
  pp_cli_query_add(path, "state", state);
  pp_cli_query_add(path, "host", host);
  pp_cli_query_add(path, "owner", owner);
  return pp_cli_list(&opts, path->str, "vms", limit == LIMIT_NOT_GIVEN ? 0 : (guint64)limit,
                     pp_vm_table_list_stream);
}

int
pp_cmd_vm_show(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) vm = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  gboolean all_hosts = FALSE;
  GOptionEntry entries[] = { { "all-hosts", 0, 0, G_OPTION_ARG_NONE, &all_hosts,
                               "While pending, every host's reason (ALL HOSTS), one line each",
                               NULL },
                             { NULL } };
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Shows a VM: its facts, its PCI REQUESTS, the PCI DEVICES it "
                                   "holds and, while pending, WHY PENDING: the hosts grouped by "
                                   "reason, with counts and the first few named (--all-hosts: "
                                   "every host's own reason too). A NAME is one of your VMs' (an "
                                   "admin's: anyone's).",
                                   entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = vm_path(argv[1], NULL);
  if (all_hosts) {
    char *with = g_strconcat(path, "?all_hosts=1", NULL);

    g_free(path);
    path = with;
  }
  rc = pp_cli_call(&opts, "GET", path, NULL, &vm);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&vm));
  text = pp_vm_table_show(vm, g_get_real_time() / G_USEC_PER_SEC);
  return pp_cli_print(text);
}

/* terminate, poweroff, resume: POST /v1/vms/ID|NAME/VERB; prints the VM
 * with --json, nothing without. */
static int
quiet_action(int argc, char **argv, const char *summary, const char *verb)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME", summary, NULL, 1, "one ID or NAME", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  path = vm_path(argv[1], verb);
  rc = pp_cli_call(&opts, "POST", path, NULL, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}

int
pp_cmd_vm_terminate(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Terminates a VM: its domain is destroyed and its devices released.",
                      "terminate");
}

int
pp_cmd_vm_poweroff(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Powers a VM off: its domain stops, its devices stay reserved for it.",
                      "poweroff");
}

int
pp_cmd_vm_resume(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Starts a powered-off VM again, or a failed one that kept its devices (a "
                      "crash), on the same host with the same devices.",
                      "resume");
}

int
pp_cmd_vm_retry(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Puts a failed VM back to pending: it releases what it kept and is placed "
                      "again, its deploy tries counted anew.",
                      "retry");
}

int
pp_cmd_vm_place(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) place = NULL;
  g_autofree char *text = NULL;
  int rc, printed;

  if (!pp_cli_parse_daemon_options("FILE|-",
                                   "Asks pcipassd where a template's VM would go, creating "
                                   "nothing. Exit status 1 when no host fits.",
                                   NULL, 1, "one FILE, or - for standard input", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_send_template(&opts, "POST", argv[1], "/v1/vms/place", NULL, &place);
  if (rc != PP_EXIT_OK)
    return rc;
  /* No host fits: an answer, on stdout, but not a success. */
  rc = json_is_true(json_object_get(place, "fits")) ? PP_EXIT_OK : PP_EXIT_RUNTIME;
  if (opts.json) {
    printed = pp_print_json(g_steal_pointer(&place));
  } else {
    text = pp_vm_table_place(place);
    printed = pp_cli_print(text);
  }
  return printed != PP_EXIT_OK ? printed : rc;
}

int
pp_cmd_vm_context(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) context = NULL;
  g_autofree char *path = NULL;
  json_t *files, *value;
  const char *text, *name;
  guint n = 0;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Prints what the VM's context disk holds: context.sh, the "
                                   "variables of its NICs on networks in OpenNebula's words "
                                   "(ETH<n>_ and PCI<n>_ MAC, IP, MASK, GATEWAY, DNS, ...), from "
                                   "their leases, then its CONTEXT keys; or, for CONTEXT = [ "
                                   "FORMAT = \"nocloud\" ], meta-data, user-data and "
                                   "network-config, each under '==> NAME <=='.",
                                   NULL, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = vm_path(argv[1], "context");
  rc = pp_cli_call(&opts, "GET", path, NULL, &context);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&context));
  files = json_object_get(context, "files");
  text = json_string_value(json_object_get(files, "context.sh"));
  /* One file, context.sh, as it is: a shell reads it as it is printed. */
  if (json_object_size(files) == 1 && text != NULL) {
    fputs(text, stdout);
    return PP_EXIT_OK;
  }
  if (!json_is_object(files) || json_object_size(files) == 0) {
    pp_say_error("pcipassd's answer has no files");
    return PP_EXIT_RUNTIME;
  }
  /* Several: each under a header, as tail(1) prints several files. */
  json_object_foreach(files, name, value)
  {
    text = json_string_value(value);
    if (text == NULL) {
      pp_say_error("pcipassd's answer has a file that is not text: '%s'", name);
      return PP_EXIT_RUNTIME;
    }
    printf("%s==> %s <==\n%s", n++ > 0 ? "\n" : "", name, text);
    if (text[0] != '\0' && text[strlen(text) - 1] != '\n')
      putchar('\n');
  }
  return PP_EXIT_OK;
}
