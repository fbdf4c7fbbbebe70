/* pcipass host ...: the hosts of pcipassd. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-host-table.h"

/* /v1/hosts/ID|NAME[/VERB], the name escaped. */
static char *
host_path(const char *id_or_name, const char *verb)
{
  g_autofree char *escaped = g_uri_escape_string(id_or_name, NULL, FALSE);

  return g_strconcat("/v1/hosts/", escaped, verb != NULL ? "/" : "", verb, NULL);
}

int
pp_cmd_host_create(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *ssh = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *command = NULL;
  gboolean prebound = FALSE;
  const GOptionEntry entries[] = {
    { "ssh", 0, 0, G_OPTION_ARG_STRING, &ssh,
      "Probe the host over ssh as USER@HOST[:PORT] (default: run the probe on pcipassd's machine)",
      "USER@HOST[:PORT]" },
    { "libvirt-uri", 0, 0, G_OPTION_ARG_STRING, &uri,
      "libvirt's URI of the host (qemu+ssh://HOST/system)", "URI" },
    { "probe-command", 0, 0, G_OPTION_ARG_STRING, &command,
      "The probe's command line, one string that pcipassd splits into words as a shell would "
      "(no shell runs it)",
      "CMD" },
    { "prebound", 0, 0, G_OPTION_ARG_NONE, &prebound,
      "The host binds its passthrough devices to vfio-pci itself (pcipass-vfio boot): VMs get "
      "<hostdev managed='no'>, devices stay on vfio-pci after them, and only devices on vfio-pci "
      "are offered (default: managed='yes', libvirt binds and gives back)",
      NULL },
    { NULL }
  };
  g_autoptr(json_t) body = json_object();
  g_autoptr(json_t) host = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("NAME", "Adds a host to pcipassd (admin only).", entries, 1,
                                   "one NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (!pp_cli_json_set_string(body, "name", "the NAME", argv[1]) ||
      !pp_cli_json_set_string(body, "ssh", "--ssh", ssh) ||
      !pp_cli_json_set_string(body, "libvirt_uri", "--libvirt-uri", uri) ||
      !pp_cli_json_set_string(body, "probe_command", "--probe-command", command))
    return PP_EXIT_USAGE;
  if (prebound)
    json_object_set_new(body, "prebound", json_true());

  rc = pp_cli_call(&opts, "POST", "/v1/hosts", g_steal_pointer(&body), &host);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&host));
  {
    g_autofree char *id = g_strdup_printf("ID: %" JSON_INTEGER_FORMAT "\n",
                                          json_integer_value(json_object_get(host, "id")));

    return pp_cli_print(id);
  }
}

int
pp_cmd_host_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the hosts: ID, NAME, STATE, PCI (free/total), "
                                   "MONITORED (when last probed).",
                                   NULL, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "GET", "/v1/hosts", NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  text = pp_host_table_list(json_object_get(answer, "hosts"), g_get_real_time() / G_USEC_PER_SEC);
  return pp_cli_print(text);
}

int
pp_cmd_host_show(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gboolean pci_columns = FALSE;
  const GOptionEntry entries[] = {
    { "pci-columns", 0, 0, G_OPTION_ARG_NONE, &pci_columns,
      "Add the IOMMU, NUMA, DRIVER, CLASS and VENDOR columns to the PCI DEVICES table", NULL },
    { NULL }
  };
  g_autoptr(json_t) host = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Shows a host: its facts, then its PCI DEVICES table (as "
                                   "OpenNebula's onehost show).",
                                   entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = host_path(argv[1], NULL);
  rc = pp_cli_call(&opts, "GET", path, NULL, &host);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&host));
  text = pp_host_table_show(host, g_get_real_time() / G_USEC_PER_SEC,
                            pci_columns ? PP_HOST_TABLE_PCI_COLUMNS : PP_HOST_TABLE_DEFAULT);
  return pp_cli_print(text);
}

int
pp_cmd_host_update(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *prebound = NULL;
  g_autofree char *allow_needed = NULL;
  g_autofree char *disallow_needed = NULL;
  const GOptionEntry entries[] = {
    { "prebound", 0, 0, G_OPTION_ARG_STRING, &prebound,
      "yes: the host binds its devices to vfio-pci itself, new VMs get managed='no' and only "
      "devices on vfio-pci are offered; no: libvirt binds them (managed='yes')",
      "yes|no" },
    { "allow-needed", 0, 0, G_OPTION_ARG_STRING, &allow_needed,
      "Offer the device at ADDR although the host needs it (HOST_NEEDS), on purpose; recorded "
      "with who and when",
      "ADDR" },
    { "disallow-needed", 0, 0, G_OPTION_ARG_STRING, &disallow_needed,
      "Take --allow-needed ADDR back (VMs holding the device keep it)", "ADDR" },
    { NULL }
  };
  g_autoptr(json_t) body = json_object();
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Changes a host's settings (admin only). VMs already started "
                                   "keep their domains as they are.",
                                   entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (prebound == NULL && allow_needed == NULL && disallow_needed == NULL) {
    pp_say_error("host update: nothing to change; give --prebound yes|no, --allow-needed ADDR or "
                 "--disallow-needed ADDR (try --help)");
    return PP_EXIT_USAGE;
  }
  if (prebound != NULL) {
    if (strcmp(prebound, "yes") != 0 && strcmp(prebound, "no") != 0) {
      pp_say_error("--prebound: '%s' is neither yes nor no", prebound);
      return PP_EXIT_USAGE;
    }
    json_object_set_new(body, "prebound", json_boolean(strcmp(prebound, "yes") == 0));
  }
  if (!pp_cli_json_set_string(body, "allow_needed", "--allow-needed", allow_needed) ||
      !pp_cli_json_set_string(body, "disallow_needed", "--disallow-needed", disallow_needed))
    return PP_EXIT_USAGE;
  path = host_path(argv[1], NULL);
  rc = pp_cli_call(&opts, "PATCH", path, g_steal_pointer(&body), &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}

/* enable, disable, delete: METHOD /v1/hosts/ID|NAME[/VERB]; prints the
 * answer with --json, nothing without. */
static int
quiet_action(int argc, char **argv, const char *summary, const char *method, const char *verb)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("ID|NAME", summary, NULL, 1, "one ID or NAME", &opts, &argc,
                                   &argv))
    return PP_EXIT_USAGE;
  path = host_path(argv[1], verb);
  rc = pp_cli_call(&opts, method, path, NULL, &answer);
  if (rc != PP_EXIT_OK || !opts.json)
    return rc;
  return pp_print_json(g_steal_pointer(&answer));
}

int
pp_cmd_host_enable(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Enables a host: pcipassd probes it and places VMs on it (admin only).",
                      "POST", "enable");
}

int
pp_cmd_host_disable(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Disables a host: pcipassd stops probing it and places no new VM on it "
                      "(admin only).",
                      "POST", "disable");
}

int
pp_cmd_host_delete(int argc, char **argv)
{
  return quiet_action(argc, argv,
                      "Deletes a host (admin only); refused while a VM holds one of its devices.",
                      "DELETE", NULL);
}

/* How long `host probe --wait` waits, and how often it asks. */
#define PROBE_WAIT_LIMIT_S 600
#define PROBE_POLL_US (G_USEC_PER_SEC / 2)

/* Asks for @host (a HOST) again until its "last_monitored" differs from
 * the one it had. Returns: the exit status; @ret_host the latest HOST. */
static int
wait_for_probe(const PpCliDaemonOptions *opts, json_t *host, json_t **ret_host)
{
  json_int_t id = json_integer_value(json_object_get(host, "id"));
  const json_t *before = json_object_get(host, "last_monitored");
  g_autofree char *id_text = g_strdup_printf("%" JSON_INTEGER_FORMAT, id);
  g_autofree char *path = host_path(id_text, NULL);
  gint64 deadline = g_get_monotonic_time() + PROBE_WAIT_LIMIT_S * G_USEC_PER_SEC;

  for (;;) {
    g_autoptr(json_t) now = NULL;
    const json_t *after;
    int rc;

    if (g_get_monotonic_time() > deadline) {
      pp_say_error("the probe of host %s did not finish in %d s", id_text, PROBE_WAIT_LIMIT_S);
      return PP_EXIT_RUNTIME;
    }
    g_usleep(PROBE_POLL_US);
    rc = pp_cli_call(opts, "GET", path, NULL, &now);
    if (rc != PP_EXIT_OK)
      return rc;
    after = json_object_get(now, "last_monitored");
    if (json_is_integer(after) &&
        (!json_is_integer(before) || json_integer_value(after) != json_integer_value(before))) {
      *ret_host = g_steal_pointer(&now);
      return PP_EXIT_OK;
    }
  }
}

int
pp_cmd_host_probe(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gboolean wait = FALSE;
  const GOptionEntry entries[] = {
    { "wait", 'w', 0, G_OPTION_ARG_NONE, &wait,
      "Wait for the probe's end and print NAME: STATE, or NAME: error: MESSAGE and exit 1", NULL },
    { NULL }
  };
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) probed = NULL;
  g_autofree char *path = NULL;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;
  const char *state, *error;
  int rc, printed;

  if (!pp_cli_parse_daemon_options("ID|NAME",
                                   "Asks pcipassd to probe a host now (admin only). Prints "
                                   "nothing unless --wait.",
                                   entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = host_path(argv[1], "probe");
  rc = pp_cli_call(&opts, "POST", path, NULL, &host);
  if (rc != PP_EXIT_OK)
    return rc;
  if (!wait)
    return opts.json ? pp_print_json(g_steal_pointer(&host)) : PP_EXIT_OK;

  rc = wait_for_probe(&opts, host, &probed);
  if (rc != PP_EXIT_OK)
    return rc;
  state = json_string_value(json_object_get(probed, "state"));
  error = json_string_value(json_object_get(probed, "error"));
  rc = state != NULL && strcmp(state, "error") == 0 ? PP_EXIT_RUNTIME : PP_EXIT_OK;
  if (opts.json) {
    printed = pp_print_json(g_steal_pointer(&probed));
    return printed != PP_EXIT_OK ? printed : rc;
  }
  name = pp_host_table_clean(json_string_value(json_object_get(probed, "name")));
  if (rc == PP_EXIT_RUNTIME) {
    g_autofree char *message = pp_host_table_clean(error != NULL ? error : "no message");

    text = g_strdup_printf("%s: error: %s\n", name, message);
  } else {
    g_autofree char *shown = pp_host_table_clean(state);

    text = g_strdup_printf("%s: %s\n", name, shown);
  }
  printed = pp_cli_print(text);
  return printed != PP_EXIT_OK ? printed : rc;
}
