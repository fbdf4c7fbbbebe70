/* pcipass-probe: lists the PCI devices a host offers for passthrough.
 *
 * Reads sysfs below --sysfs-root, names the devices from pci.ids, judges
 * what the host needs for itself as pcipass-vfio does (pp-host-trees), keeps
 * the devices that pci.conf lets through and prints one `PCI = [ ... ]`
 * record per device (or JSON), after the host facts; a device the host
 * needs says why in HOST_NEEDS. Output is built whole before anything is
 * written, so an error leaves stdout empty.
 */
#define G_LOG_DOMAIN "pcipass-probe"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-exit.h"
#include "pp-host-facts.h"
#include "pp-host-needs.h"
#include "pp-host-trees.h"
#include "pp-output.h"
#include "pp-pci-names.h"
#include "pp-pci-scan.h"
#include "pp-pciconf.h"
#include "pp-probe-push.h"
#include "pp-probe-report.h"
#include "pp-probe.h"
#include "pp-sysfs.h"

/* The parsed command line (STYLE rule 7 allows it as a global). */
static struct {
  char *sysfs_root;
  char *proc_root;
  char *dev_root;
  char *config;
  char *pci_ids;
  char *format;
  char *hostname;
  char *push;
  char *token_file;
  char *ca_file;
  gboolean all;
  gboolean json;
  gboolean verbose;
  gboolean version;
} opt;

static const GOptionEntry entries[] = {
  { "sysfs-root", 0, 0, G_OPTION_ARG_FILENAME, &opt.sysfs_root,
    "Read devices from DIR instead of /sys (a captured tree, for tests)", "DIR" },
  { "proc-root", 0, 0, G_OPTION_ARG_FILENAME, &opt.proc_root,
    "Read host facts and mounts from DIR (default: the 'proc' folder beside the sysfs root)",
    "DIR" },
  { "dev-root", 0, 0, G_OPTION_ARG_FILENAME, &opt.dev_root,
    "Follow /dev links below DIR (default: the 'dev' folder beside the sysfs root)", "DIR" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt.config,
    "The pci.conf to apply (default " PP_DEFAULT_PCI_CONF ")", "FILE" },
  { "all", 'a', 0, G_OPTION_ARG_NONE, &opt.all,
    "Offer every device, as if pci.conf said :filter: '*:*'", NULL },
  { "pci-ids", 0, 0, G_OPTION_ARG_FILENAME, &opt.pci_ids,
    "Take names from FILE only (default: the system's pci.ids and udev's hwdb)", "FILE" },
  { "format", 'f', 0, G_OPTION_ARG_STRING, &opt.format, "Output 'template' (default) or 'json'",
    "FORMAT" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json, "Same as --format json", NULL },
  { "hostname", 0, 0, G_OPTION_ARG_STRING, &opt.hostname,
    "Report NAME as the host name (default: the tree's kernel/hostname)", "NAME" },
  { "push", 0, 0, G_OPTION_ARG_STRING, &opt.push,
    "Send the report to pcipassd's URL (https://PCIPASSD:PORT/v1/hosts/NAME/report) instead of "
    "printing it",
    "URL" },
  { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &opt.token_file,
    "With --push: the host's report token (pcipass host token NAME), in a file others cannot read",
    "FILE" },
  { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt.ca_file,
    "With --push: the CA that signed pcipassd's certificate (default: the system's)", "FILE" },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Print debug messages on stderr", NULL },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt.version, "Print the version and exit", NULL },
  { NULL }
};

static int
write_output(const char *text)
{
  gsize len = strlen(text);

  if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
    pp_say_error("cannot write the output: %s", g_strerror(errno));
    return PP_EXIT_RUNTIME;
  }
  return PP_EXIT_OK;
}

int
main(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpPciFilter) filter = NULL;
  g_autoptr(PpPciNames) names = NULL;
  g_autoptr(PpHostTrees) trees = NULL;
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) needs = NULL;
  g_autofree char *needs_warning = NULL;
  g_autoptr(GPtrArray) offered = NULL;
  g_autoptr(PpHostFacts) facts = NULL;
  g_autoptr(PpTemplate) output = NULL;
  g_autofree char *text = NULL;
  g_autofree char *token = NULL;
  gboolean sysfs_given;

  g_set_prgname("pcipass-probe");
  /* stdout is the program's output: GLib's info and debug lines go to
   * stderr, like its warnings (G_MESSAGES_DEBUG set by a caller). */
  g_log_writer_default_set_use_stderr(TRUE);

  context = g_option_context_new("- list the PCI devices this host offers for passthrough");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context,
      "pci.conf (YAML, as OpenNebula's) chooses the devices; the three keys combine with AND:\n"
      "  :filter:         lspci -d patterns vendor:device[:class], '*' or empty for any,\n"
      "                   as a list or comma-separated; a device passes if any matches.\n"
      "                   Absent: '0:0' (nothing). Empty (null): every device.\n"
      "  :short_address:  bus:slot.func addresses (domain optional); when given, the\n"
      "                   device must be one of them.\n"
      "  :device_name:    case-insensitive regular expressions; when given, the device\n"
      "                   name must match one of them.\n"
      "A PF whose VFs are enabled is not offered; its VFs are.\n"
      "A device the host needs for itself (storage it mounts, the NICs of its\n"
      "routes and addresses, its only console, bridges and chipset functions)\n"
      "says why in HOST_NEEDS; pcipassd never offers it nor its IOMMU group.\n"
      "\n"
      "With --push the report goes to pcipassd (POST /v1/hosts/NAME/report) with the\n"
      "host's report token, and one line on stdout says what pcipassd did.\n"
      "\n"
      "Exit status: 0 success, 1 runtime failure (a push that failed included), 2 bad\n"
      "usage or bad input (pci.conf, pci.ids, the sysfs root, the token file). See\n"
      "pcipass-probe(1).");
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    pp_say_error("%s (try --help)", error->message);
    return PP_EXIT_USAGE;
  }
  if (opt.verbose)
    g_setenv("G_MESSAGES_DEBUG", "all", TRUE);
  if (opt.version) {
    printf("pcipass-probe %s\n", PACKAGE_VERSION);
    return PP_EXIT_OK;
  }
  if (argc > 1) {
    pp_say_error("unexpected argument '%s' (try --help)", argv[1]);
    return PP_EXIT_USAGE;
  }
  if (opt.json) {
    if (opt.format != NULL && strcmp(opt.format, "json") != 0) {
      pp_say_error("--json and --format %s exclude each other", opt.format);
      return PP_EXIT_USAGE;
    }
    g_free(opt.format);
    opt.format = g_strdup("json");
  }
  if (opt.format == NULL)
    opt.format = g_strdup("template");
  if (strcmp(opt.format, "template") != 0 && strcmp(opt.format, "json") != 0) {
    pp_say_error("unknown format '%s': use 'template' or 'json'", opt.format);
    return PP_EXIT_USAGE;
  }
  if (opt.hostname != NULL &&
      (opt.hostname[0] == '\0' || strlen(opt.hostname) > PP_PROBE_REPORT_FACT_TEXT_MAX ||
       strpbrk(opt.hostname, "\n\r\t") != NULL)) {
    pp_say_error("--hostname: a host name is 1 to %d bytes on one line",
                 PP_PROBE_REPORT_FACT_TEXT_MAX);
    return PP_EXIT_USAGE;
  }
  if (opt.all && opt.config != NULL) {
    pp_say_error("--all and --config exclude each other");
    return PP_EXIT_USAGE;
  }
  /* The push's settings first: a bad one stops us before the probe. */
  if (opt.push == NULL && (opt.token_file != NULL || opt.ca_file != NULL)) {
    pp_say_error("--token-file and --ca-file go with --push URL");
    return PP_EXIT_USAGE;
  }
  if (opt.push != NULL) {
    if (strcmp(opt.format, "template") != 0) {
      pp_say_error("--push sends the template format: --format %s does not go with it", opt.format);
      return PP_EXIT_USAGE;
    }
    if (opt.token_file == NULL) {
      pp_say_error("--push needs --token-file FILE (the host's report token)");
      return PP_EXIT_USAGE;
    }
    if (!pp_probe_push_check_url(opt.push, &error)) {
      pp_say_error("%s", error->message);
      return PP_EXIT_USAGE;
    }
    token = pp_probe_push_read_token(opt.token_file, &error);
    if (token == NULL) {
      pp_say_error("%s", error->message);
      return PP_EXIT_USAGE;
    }
  }

  /* 1. pci.conf: any error rejects the whole file, before any output. */
  if (opt.all) {
    PpPciIdPattern any = { -1, -1, -1 };

    filter = pp_pci_filter_new();
    pp_pci_filter_add_id_pattern(filter, &any);
  } else {
    filter = pp_pciconf_load(opt.config ? opt.config : PP_DEFAULT_PCI_CONF, &error);
    if (filter == NULL) {
      pp_say_error("%s%s", error->message,
                   opt.config == NULL && g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                       ? " (install data/pci.conf there, or give --config FILE or --all)"
                       : "");
      return PP_EXIT_USAGE;
    }
  }

  /* 2. pci.ids, loaded now so that a damaged file stops us here. */
  names = pp_pci_names_open(opt.pci_ids, &error);
  if (names == NULL) {
    pp_say_error("%s", error->message);
    return PP_EXIT_USAGE;
  }

  /* 3. The trees. */
  sysfs_given = opt.sysfs_root != NULL;
  if (!sysfs_given)
    opt.sysfs_root = g_strdup("/sys");
  /* proc and dev are optional: a tree without them still lists devices. */
  trees = pp_host_trees_open(opt.sysfs_root, opt.proc_root, opt.dev_root, &error);
  if (trees == NULL) {
    pp_say_error("%s", error->message);
    return sysfs_given ? PP_EXIT_USAGE : PP_EXIT_RUNTIME;
  }
  if (sysfs_given && !pp_sysfs_is_confined(trees->sys))
    pp_say_error("this kernel refuses openat2: links in '%s' that point out of it are followed",
                 opt.sysfs_root);

  /* 4. Scan, name, judge, select. */
  warnings = g_ptr_array_new_with_free_func(g_free);
  devices = pp_pci_scan(trees->sys, warnings, &error);
  if (devices == NULL) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  for (guint i = 0; i < warnings->len; i++)
    pp_say_error("%s", (const char *)g_ptr_array_index(warnings, i));
  for (guint i = 0; i < devices->len; i++)
    pp_pci_names_fill(names, g_ptr_array_index(devices, i));
  /* Judged on the whole host, as pcipass-vfio does: what pci.conf leaves
   * out is not printed, but what is printed says whether the host needs it. */
  needs = pp_host_trees_read_needs(trees, devices, &needs_warning);
  if (needs_warning != NULL)
    pp_say_error("warning: %s", needs_warning);
  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);

    dev->host_needs = pp_host_needs_join(needs, &dev->address);
  }
  offered = pp_probe_select(filter, devices);

  g_ptr_array_set_size(warnings, 0);
  facts = pp_host_facts_read(trees->sys, trees->proc, warnings);
  for (guint i = 0; i < warnings->len; i++)
    pp_say_error("%s", (const char *)g_ptr_array_index(warnings, i));
  if (opt.hostname != NULL) {
    g_free(facts->hostname);
    facts->hostname = g_utf8_make_valid(opt.hostname, -1);
  }
  output = pp_probe_build(facts, offered);

  /* 5. Print. */
  if (strcmp(opt.format, "json") == 0) {
    g_autoptr(json_t) json = pp_probe_to_json(output);
    char *dumped = json ? json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

    if (dumped == NULL) {
      pp_say_error("internal error: the JSON output could not be built; please report it");
      return PP_EXIT_RUNTIME;
    }
    text = g_strconcat(dumped, "\n", NULL);
    free(dumped);
  } else {
    text = pp_template_to_string(output);
  }
  if (opt.push != NULL) {
    g_autofree char *summary = NULL;
    g_autofree char *line = NULL;
    gboolean pushed =
        pp_probe_push_send(opt.push, token, opt.ca_file, text, strlen(text), &summary, &error);

    explicit_bzero(token, strlen(token));
    if (!pushed) {
      pp_say_error("%s", error->message);
      return PP_EXIT_RUNTIME;
    }
    line = g_strdup_printf("pushed to '%s': %s\n", opt.push, summary);
    return write_output(line);
  }
  return write_output(text);
}
