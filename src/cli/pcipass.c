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
  { "host", "update", "ID|NAME", "change a host's settings (--prebound yes|no)", TRUE,
    pp_cmd_host_update },
  { "vm", "create", "FILE|-", "create a VM from a template", TRUE, pp_cmd_vm_create },
  { "vm", "list", "", "list the VMs", TRUE, pp_cmd_vm_list },
  { "vm", "show", "ID", "show a VM, its devices, why it is pending", TRUE, pp_cmd_vm_show },
  { "vm", "terminate", "ID", "terminate a VM, releasing its devices", TRUE, pp_cmd_vm_terminate },
  { "vm", "poweroff", "ID", "power a VM off, keeping its devices", TRUE, pp_cmd_vm_poweroff },
  { "vm", "resume", "ID", "start a powered-off VM again", TRUE, pp_cmd_vm_resume },
  { "vm", "retry", "ID", "put a failed VM back to pending", TRUE, pp_cmd_vm_retry },
  { "vm", "place", "FILE|-", "say where a template's VM would go (a dry run)", TRUE,
    pp_cmd_vm_place },
  { "user", "create", "NAME", "add a user", TRUE, pp_cmd_user_create },
  { "user", "list", "", "list the users", TRUE, pp_cmd_user_list },
  { "token", "create", "", "make a token for --url, shown once", TRUE, pp_cmd_token_create },
  { "token", "list", "", "list the tokens", TRUE, pp_cmd_token_list },
};

static void
print_usage(FILE *out, const char *group)
{
  fprintf(out, "Usage: pcipass COMMAND [OPTION...] [ARG...]\n\nCommands:\n");
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
               "--socket PATH, or --url URL with --token-file FILE.\n"
               "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n"
               "See pcipass(1).\n");
}

int
main(int argc, char **argv)
{
  gboolean group_known = FALSE;
  g_autofree char *prgname = NULL;

  g_set_prgname("pcipass");
  /* stdout is the program's output: GLib's info and debug lines go to
   * stderr, like its warnings (G_MESSAGES_DEBUG set by a caller). */
  g_log_writer_default_set_use_stderr(TRUE);
  if (argc < 2) {
    print_usage(stderr, NULL);
    return PP_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_usage(stdout, NULL);
    return PP_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
    printf("pcipass %s\n", PACKAGE_VERSION);
    return PP_EXIT_OK;
  }

  for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
    if (strcmp(argv[1], commands[i].group) != 0)
      continue;
    group_known = TRUE;
    if (argc < 3 || strcmp(argv[2], commands[i].verb) != 0)
      continue;
    /* The handler sees "pcipass GROUP VERB" as its program name. */
    prgname = g_strdup_printf("pcipass %s %s", argv[1], argv[2]);
    argv[2] = prgname;
    return commands[i].run(argc - 2, argv + 2);
  }

  if (group_known && (argc < 3 || strcmp(argv[2], "--help") == 0)) {
    print_usage(argc < 3 ? stderr : stdout, argv[1]);
    return argc < 3 ? PP_EXIT_USAGE : PP_EXIT_OK;
  }
  if (group_known)
    pp_say_error("unknown command '%s %s' (try pcipass %s --help)", argv[1], argv[2], argv[1]);
  else
    pp_say_error("unknown command '%s' (try pcipass --help)", argv[1]);
  return PP_EXIT_USAGE;
}
