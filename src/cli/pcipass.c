/* pcipass: the command line of pcipass. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-cli.h"

/* The commands.
 *   group    the first word (`template`)
 *   verb     the second word (`check`)
 *   args     its arguments, for the usage line
 *   summary  one line for `pcipass --help`
 *   daemon   whether it talks to pcipassd
 *   run      the handler
 */
static const struct {
  const char *group;
  const char *verb;
  const char *args;
  const char *summary;
  gboolean daemon;
  PpCliHandler run;
} commands[] = {
  { "template", "check", "FILE|-", "check a template and print it normalized", FALSE,
    pp_cmd_template_check },
  { "host", "create", "NAME", "add a host", TRUE, pp_cmd_host_create },
  { "host", "list", "", "list the hosts", TRUE, pp_cmd_host_list },
  { "host", "show", "ID|NAME", "show a host and its PCI devices", TRUE, pp_cmd_host_show },
  { "host", "enable", "ID|NAME", "enable a host", TRUE, pp_cmd_host_enable },
  { "host", "disable", "ID|NAME", "disable a host", TRUE, pp_cmd_host_disable },
  { "host", "delete", "ID|NAME", "delete a host", TRUE, pp_cmd_host_delete },
  { "host", "probe", "ID|NAME", "probe a host now", TRUE, pp_cmd_host_probe },
  { "host", "token", "ID|NAME", "make (or --revoke) a host's report token", TRUE,
    pp_cmd_host_token },
  { "host", "update", "ID|NAME", "change how a host is probed and reached, its hostdev mode", TRUE,
    pp_cmd_host_update },
  { "host", "types", "", "list the PCI device types across the hosts, and how many are free", TRUE,
    pp_cmd_host_types },
  { "vm", "create", "FILE|-", "create a VM from a template", TRUE, pp_cmd_vm_create },
  { "vm", "list", "", "list the VMs", TRUE, pp_cmd_vm_list },
  { "vm", "show", "ID|NAME", "show a VM, its devices, why it is pending", TRUE, pp_cmd_vm_show },
  { "vm", "terminate", "ID|NAME", "terminate a VM, releasing its devices", TRUE,
    pp_cmd_vm_terminate },
  { "vm", "poweroff", "ID|NAME", "power a VM off, keeping its devices", TRUE, pp_cmd_vm_poweroff },
  { "vm", "resume", "ID|NAME", "start a powered-off VM again", TRUE, pp_cmd_vm_resume },
  { "vm", "retry", "ID|NAME", "put a failed VM back to pending", TRUE, pp_cmd_vm_retry },
  { "vm", "place", "FILE|-", "say where a template's VM would go (a dry run)", TRUE,
    pp_cmd_vm_place },
  { "vm", "context", "ID|NAME", "print what a VM's context disk holds (context.sh)", TRUE,
    pp_cmd_vm_context },
  { "image", "list", "", "list the images templates can name", TRUE, pp_cmd_image_list },
  { "net", "create", "FILE|-", "create a virtual network from a template", TRUE,
    pp_cmd_net_create },
  { "net", "list", "", "list the networks you may use", TRUE, pp_cmd_net_list },
  { "net", "show", "ID|NAME", "show a network, its ranges and its leases", TRUE, pp_cmd_net_show },
  { "net", "update", "ID|NAME FILE|-", "replace a network's template", TRUE, pp_cmd_net_update },
  { "net", "delete", "ID|NAME", "delete a network that no VM uses", TRUE, pp_cmd_net_delete },
  { "net", "hold", "ID|NAME ADDRESS", "keep an address of a network out of use", TRUE,
    pp_cmd_net_hold },
  { "net", "release", "ID|NAME ADDRESS", "give back an address net hold kept", TRUE,
    pp_cmd_net_release },
  { "user", "create", "NAME", "add a user", TRUE, pp_cmd_user_create },
  { "user", "list", "", "list the users", TRUE, pp_cmd_user_list },
  { "user", "show", "NAME", "show a user, its quotas and what it uses", TRUE, pp_cmd_user_show },
  { "user", "quota", "NAME", "set a user's quotas of VMs, CPU, memory, PCI devices", TRUE,
    pp_cmd_user_quota },
  { "user", "delete", "NAME", "delete a user, its tokens and its done VMs", TRUE,
    pp_cmd_user_delete },
  { "token", "create", "", "make a token for --url, shown once", TRUE, pp_cmd_token_create },
  { "token", "list", "", "list the tokens", TRUE, pp_cmd_token_list },
  { "token", "delete", "ID", "delete a token: refused from then on", TRUE, pp_cmd_token_delete },
};

static void
print_usage(FILE *out, const char *group)
{
  fprintf(out, "Usage: pcipass [DAEMON OPTION...] COMMAND [OPTION...] [ARG...]\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    g_autofree char *left = NULL;

    if (group != NULL && strcmp(group, commands[i].group) != 0)
      continue;
    left = g_strdup_printf("%s %s%s%s", commands[i].group, commands[i].verb,
                           commands[i].args[0] != '\0' ? " " : "", commands[i].args);
    fprintf(out, "  %-30s %s%s\n", left, commands[i].summary,
            commands[i].daemon ? "" : " (no daemon needed)");
  }
  fprintf(out, "\nEvery command takes --help and --json. Those that talk to pcipassd take\n"
               "--socket PATH, or --url URL with --token-file FILE (and --ca-file FILE for\n"
               "an https URL). These daemon options may come before the command too;\n"
               "given twice, the later one wins.\n"
               "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n"
               "See pcipass(1).\n");
}

/* Moves the daemon options (pp_cli_daemon_option_words()) that start at
 * argv[*i] to @leading, with their values; *i is then past them. Returns
 * FALSE, said on stderr, when the last one lacks its value. */
static gboolean
take_daemon_options(int argc, char **argv, int *i, GPtrArray *leading)
{
  while (*i < argc) {
    int words = pp_cli_daemon_option_words(argv[*i]);

    if (words < 0)
      return TRUE;
    if (*i + words >= argc) {
      pp_say_error("%s needs a value (try pcipass --help)", argv[*i]);
      return FALSE;
    }
    for (int k = 0; k <= words; k++)
      g_ptr_array_add(leading, argv[(*i)++]);
  }
  return TRUE;
}

int
main(int argc, char **argv)
{
  g_autoptr(GPtrArray) leading = g_ptr_array_new();
  g_autoptr(GPtrArray) args = NULL;
  g_autofree char *prgname = NULL;
  gboolean group_known = FALSE;
  const char *group, *verb;
  int i = 1;

  g_set_prgname("pcipass");
  /* stdout is the program's output: GLib's info and debug lines go to
   * stderr, like its warnings (G_MESSAGES_DEBUG set by a caller). */
  g_log_writer_default_set_use_stderr(TRUE);
  /* The daemon options may come before the command, and between its two
   * words: `pcipass --socket S host list`. */
  if (!take_daemon_options(argc, argv, &i, leading))
    return PP_EXIT_USAGE;
  if (i >= argc) {
    print_usage(stderr, NULL);
    return PP_EXIT_USAGE;
  }
  group = argv[i++];
  if (strcmp(group, "--help") == 0 || strcmp(group, "-h") == 0 || strcmp(group, "help") == 0) {
    print_usage(stdout, NULL);
    return PP_EXIT_OK;
  }
  if (strcmp(group, "--version") == 0 || strcmp(group, "-V") == 0) {
    printf("pcipass %s\n", PACKAGE_VERSION);
    return PP_EXIT_OK;
  }
  if (group[0] == '-') {
    g_autofree char *list = pp_cli_daemon_option_list();

    pp_say_error("unknown option '%s' before the command (there pcipass takes only %s; "
                 "try pcipass --help)",
                 group, list);
    return PP_EXIT_USAGE;
  }
  if (!take_daemon_options(argc, argv, &i, leading))
    return PP_EXIT_USAGE;
  verb = i < argc ? argv[i++] : NULL;

  for (guint c = 0; c < G_N_ELEMENTS(commands); c++) {
    if (strcmp(group, commands[c].group) != 0)
      continue;
    group_known = TRUE;
    if (verb == NULL || strcmp(verb, commands[c].verb) != 0)
      continue;
    /* The handler sees "pcipass GROUP VERB" as its program name, then the
     * options given before the command, then those after it: given twice,
     * the later one wins (GOption keeps the last value). */
    if (!commands[c].daemon) {
      /* --json is also an option of its own; the rest is for pcipassd. */
      for (guint k = 0; k < leading->len; k++) {
        const char *option = g_ptr_array_index(leading, k);

        if (strcmp(option, "--json") != 0 && strcmp(option, "-j") != 0) {
          pp_say_error("%s %s talks to no daemon: %s is not for it", group, verb, option);
          return PP_EXIT_USAGE;
        }
      }
    }
    prgname = g_strdup_printf("pcipass %s %s", group, verb);
    args = g_ptr_array_new();
    g_ptr_array_add(args, prgname);
    g_ptr_array_extend(args, leading, NULL, NULL);
    for (; i < argc; i++)
      g_ptr_array_add(args, argv[i]);
    g_ptr_array_add(args, NULL);
    return commands[c].run((int)args->len - 1, (char **)args->pdata);
  }

  if (group_known && (verb == NULL || strcmp(verb, "--help") == 0)) {
    print_usage(verb == NULL ? stderr : stdout, group);
    return verb == NULL ? PP_EXIT_USAGE : PP_EXIT_OK;
  }
  if (group_known)
    pp_say_error("unknown command '%s %s' (try pcipass %s --help)", group, verb, group);
  else
    pp_say_error("unknown command '%s' (try pcipass --help)", group);
  return PP_EXIT_USAGE;
}
