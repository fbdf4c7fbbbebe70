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
  g_autofree char *pool = NULL;
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
    { "context-pool", 0, 0, G_OPTION_ARG_STRING, &pool,
      "The host's libvirt storage pool where VMs' context disks go, uploaded through libvirt "
      "(default: default)",
      "POOL" },
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
      !pp_cli_json_set_string(body, "probe_command", "--probe-command", command) ||
      !pp_cli_json_set_string(body, "context_pool", "--context-pool", pool))
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

/* --limit's value when it is not given. */
#define LIMIT_NOT_GIVEN G_MININT64

int
pp_cmd_host_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autofree char *state = NULL;
  gint64 limit = LIMIT_NOT_GIVEN;
  const GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_STRING, &state,
      "Only the hosts in these states (init, monitored, error, disabled; comma-separated)",
      "STATE[,STATE...]" },
    { "limit", 0, 0, G_OPTION_ARG_INT64, &limit, "Stop after N hosts", "N" },
    { NULL }
  };
  g_autoptr(GString) path = g_string_new("/v1/hosts");

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the hosts: ID, NAME, STATE, PCI (free/total), "
                                   "MONITORED (when last probed). Asks pcipassd a page at a "
                                   "time and prints each as it comes.",
                                   entries, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  if (limit != LIMIT_NOT_GIVEN && limit < 1) {
    pp_say_error("--limit %" G_GINT64_FORMAT ": give 1 or more hosts", limit);
    return PP_EXIT_USAGE;
  }
  pp_cli_query_add(path, "state", state);
  return pp_cli_list(&opts, path->str, "hosts", limit == LIMIT_NOT_GIVEN ? 0 : (guint64)limit,
                     pp_host_table_list_stream);
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

/* How an option of host update becomes its field of PATCH /v1/hosts/ID. */
typedef enum {
  UPDATE_STRING, /* the option's value, as a string */
  UPDATE_YES_NO, /* yes or no: true or false */
  UPDATE_CLEAR,  /* a flag: null, the field back to its default */
} UpdateKind;

/* The options of host update, one per row; each fills one field of the
 * body, and two options of one field exclude each other.
 *   option           --OPTION
 *   field            the field of PATCH /v1/hosts/ID it fills
 *   kind             how the option becomes the field's value
 *   arg_description  the value's name in --help (NULL for a flag)
 *   description      for --help
 */
static const struct {
  const char *option;
  const char *field;
  UpdateKind kind;
  const char *arg_description;
  const char *description;
} update_options[] = {
  { "ssh", "ssh", UPDATE_STRING, "USER@HOST[:PORT]",
    "Probe the host over ssh as USER@HOST[:PORT], from its next probe on" },
  { "no-ssh", "ssh", UPDATE_CLEAR, NULL, "Probe the host on pcipassd's machine, without ssh" },
  { "libvirt-uri", "libvirt_uri", UPDATE_STRING, "URI",
    "libvirt's URI of the host (qemu+ssh://HOST/system), from the next libvirt call on" },
  { "no-libvirt-uri", "libvirt_uri", UPDATE_CLEAR, NULL,
    "Back to the default URI: qemu+ssh://HOST/system with --ssh, else qemu:///system" },
  { "probe-command", "probe_command", UPDATE_STRING, "CMD",
    "The probe's command line, split into words as a shell would (no shell runs it), from the "
    "next probe on" },
  { "no-probe-command", "probe_command", UPDATE_CLEAR, NULL, "Back to the default probe" },
  { "prebound", "prebound", UPDATE_YES_NO, "yes|no",
    "yes: the host binds its devices to vfio-pci itself, new VMs get managed='no' and only "
    "devices on vfio-pci are offered; no: libvirt binds them (managed='yes')" },
  { "context-pool", "context_pool", UPDATE_STRING, "POOL",
    "The libvirt storage pool of VMs' context disks, for disks made from then on" },
  { "allow-needed", "allow_needed", UPDATE_STRING, "ADDR",
    "Offer the device at ADDR although the host needs it (HOST_NEEDS), on purpose; recorded "
    "with who and when" },
  { "disallow-needed", "disallow_needed", UPDATE_STRING, "ADDR",
    "Take --allow-needed ADDR back (VMs holding the device keep it)" },
};

/* The body of host update from the options given, or NULL, said on
 * stderr: two options of one field, a bad yes|no, an empty value. */
static json_t *
update_body(char *const *values, const gboolean *flags)
{
  g_autoptr(json_t) body = json_object();

  for (guint i = 0; i < G_N_ELEMENTS(update_options); i++) {
    const char *value = values[i];
    g_autofree char *what = g_strconcat("--", update_options[i].option, NULL);

    if (value == NULL && !flags[i])
      continue;
    for (guint j = 0; j < i; j++) {
      if ((values[j] != NULL || flags[j]) &&
          strcmp(update_options[j].field, update_options[i].field) == 0) {
        pp_say_error("--%s and --%s exclude each other", update_options[j].option,
                     update_options[i].option);
        return NULL;
      }
    }
    switch (update_options[i].kind) {
    case UPDATE_STRING:
      /* An empty variable must not clear a setting: that says --no-X. */
      if (value[0] == '\0') {
        pp_say_error("%s: an empty value (to go back to the default, give --no-%s)", what,
                     update_options[i].option);
        return NULL;
      }
      if (!pp_cli_json_set_string(body, update_options[i].field, what, value))
        return NULL;
      break;
    case UPDATE_YES_NO:
      if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
        pp_say_error("%s: '%s' is neither yes nor no", what, value);
        return NULL;
      }
      json_object_set_new(body, update_options[i].field, json_boolean(strcmp(value, "yes") == 0));
      break;
    case UPDATE_CLEAR:
      json_object_set_new(body, update_options[i].field, json_null());
      break;
    }
  }
  if (json_object_size(body) == 0) {
    pp_say_error("host update: nothing to change; give one of its options (try --help)");
    return NULL;
  }
  return g_steal_pointer(&body);
}

int
pp_cmd_host_update(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  char *values[G_N_ELEMENTS(update_options)] = { NULL };
  gboolean flags[G_N_ELEMENTS(update_options)] = { FALSE };
  GOptionEntry entries[G_N_ELEMENTS(update_options) + 1] = { { NULL } };
  g_autoptr(json_t) body = NULL;
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  gboolean parsed;
  int rc;

  for (guint i = 0; i < G_N_ELEMENTS(update_options); i++) {
    gboolean flag = update_options[i].kind == UPDATE_CLEAR;

    entries[i].long_name = update_options[i].option;
    entries[i].arg = flag ? G_OPTION_ARG_NONE : G_OPTION_ARG_STRING;
    entries[i].arg_data = flag ? (gpointer)&flags[i] : (gpointer)&values[i];
    entries[i].description = update_options[i].description;
    entries[i].arg_description = update_options[i].arg_description;
  }
  parsed = pp_cli_parse_daemon_options("ID|NAME",
                                       "Changes a host's settings (admin only), checked as host "
                                       "create checks them; a bad one changes nothing. VMs "
                                       "already started keep their domains as they are.",
                                       entries, 1, "one ID or NAME", &opts, &argc, &argv);
  if (parsed)
    body = update_body(values, flags);
  for (guint i = 0; i < G_N_ELEMENTS(update_options); i++)
    g_free(values[i]);
  if (body == NULL)
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

int
pp_cmd_host_token(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  gboolean revoke = FALSE;
  const GOptionEntry entries[] = {
    { "revoke", 0, 0, G_OPTION_ARG_NONE, &revoke,
      "Revoke the host's report token: refused from the next request on; pcipassd probes the "
      "host again",
      NULL },
    { NULL }
  };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  const char *secret;
  int rc;

  if (!pp_cli_parse_daemon_options(
          "ID|NAME",
          "Makes the host's report token (admin only), replacing any it had, and prints it, this "
          "once: pcipass-probe --push on the host sends its reports with it, and pcipassd no "
          "longer probes the host. The token may do nothing else.",
          entries, 1, "one ID or NAME", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  path = host_path(argv[1], "token");
  rc = pp_cli_call(&opts, revoke ? "DELETE" : "POST", path, NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  if (revoke)
    return PP_EXIT_OK;
  secret = json_string_value(json_object_get(answer, "token"));
  if (secret == NULL || strspn(secret, "pph_0123456789abcdef") != strlen(secret)) {
    pp_say_error("pcipassd's answer has no report token");
    return PP_EXIT_RUNTIME;
  }
  /* The secret alone on stdout, for `> /etc/pcipass/push.token`. */
  text = g_strdup_printf("%s\n", secret);
  return pp_cli_print(text);
}

int
pp_cmd_host_types(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options(
          "",
          "Lists the PCI device types across the hosts: TYPE (vendor:device:class, as a "
          "template's PCI = [ VENDOR, DEVICE, CLASS ] asks for them), FREE (could be given to a "
          "VM now: not held, ready, its IOMMU group free, on an enabled monitored host), TOTAL "
          "(on every host), HOSTS (with one free), CLASS and NAME.",
          NULL, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "GET", "/v1/pci/types", NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  text = pp_host_table_types(json_object_get(answer, "types"));
  return pp_cli_print(text);
}
