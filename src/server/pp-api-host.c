/* pp-api-host: the handlers of /v1/hosts: hosts, their devices, probes,
 * pushed reports and report tokens. */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-domain-xml.h"
#include "pp-host-spec.h"
#include "pp-images.h"
#include "pp-output.h"
#include "pp-probe-run.h"
#include "pp-vm-template.h"

/* A host as the API shows it; "reports" and "last_report" come from the
 * monitor (push mode and its last report are kept in memory). */
static json_t *
host_to_json(const PpApiContext *ctx, const PpHost *host, const Sight *sight)
{
  gboolean push = ctx->monitor != NULL && pp_monitor_is_push(ctx->monitor, host->id);
  json_t *ssh = json_null();
  json_t *json;

  if (host->ssh_host != NULL)
    ssh = json_pack("{s:o,s:o,s:o}", "user", pp_json_text(host->ssh_user), "host",
                    pp_json_text(host->ssh_host), "port", api_json_int_or_null(host->ssh_port, 0));
  json = json_pack(
      "{s:I,s:o,s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:b,s:{s:o,s:o,s:o,s:o},s:i,s:i,s:o,"
      "s:I}",
      "id", (json_int_t)host->id, "name", pp_json_text(host->name), "state",
      pp_host_state_to_string(host->state), "enabled", host->state != PP_HOST_STATE_DISABLED,
      "error", pp_json_text(host->error), "libvirt_error", pp_json_text(host->libvirt_error), "ssh",
      ssh, "libvirt_uri", pp_json_text(host->libvirt_uri), "probe_command",
      api_json_strv((const char *const *)host->probe_command), "prebound", host->prebound, "facts",
      "hostname", pp_json_text(host->reported_hostname), "cpu_count",
      api_json_int_or_null(host->cpu_count, -1), "memory_kib",
      api_json_int_or_null(host->memory_kib, -1), "kernel_version",
      pp_json_text(host->kernel_version), "pci_total", (int)host->pci_total, "pci_free",
      (int)host->pci_free, "last_monitored", api_json_int_or_null(host->last_monitored, 0),
      "created", (json_int_t)host->created);
  if (json == NULL)
    return NULL;
  json_object_set_new(json, "context_pool", pp_json_text(host->context_pool));
  json_object_set_new(json, "reports", json_string(push ? "pushed" : "probed"));
  json_object_set_new(json, "last_report",
                      push ? api_json_int_or_null(pp_monitor_last_report(ctx->monitor, host->id), 0)
                           : json_null());
  if (sight->admin)
    return json;
  /* Left out, not null: null means "the default" there. */
  json_object_del(json, "ssh");
  json_object_del(json, "libvirt_uri");
  json_object_del(json, "probe_command");
  json_object_del(json, "context_pool");
  if (host->error != NULL)
    json_object_set_new(json, "error", json_string(HIDDEN_PROBE_ERROR));
  if (host->libvirt_error != NULL)
    json_object_set_new(json, "libvirt_error", json_string(HIDDEN_LIBVIRT_ERROR));
  return json;
}

static json_t *
device_to_json(const PpStoreDevice *dev, const Sight *sight)
{
  gint64 vm = dev->vm_id != 0 && api_sight_shows_vm(dev->vm_id, (gpointer)sight) ? dev->vm_id : 0;
  const char *set_aside =
      dev->set_aside != NULL && !sight->admin ? HIDDEN_SET_ASIDE : dev->set_aside;
  char type[16], vendor[8], device[8], class_code[8];
  json_t *attributes = json_object();
  const PpProbeDevice *pci = &dev->pci;
  char address[PP_PCI_ADDRESS_BUFSIZE], short_address[PP_PCI_ADDRESS_BUFSIZE];
  char pf[PP_PCI_ADDRESS_BUFSIZE];

  pp_pci_address_format(&pci->address, address);
  pp_pci_address_format_short(&pci->address, short_address);
  g_snprintf(vendor, sizeof(vendor), "%04x", pci->vendor);
  g_snprintf(device, sizeof(device), "%04x", pci->device);
  g_snprintf(class_code, sizeof(class_code), "%04x", pci->class_code);
  g_snprintf(type, sizeof(type), "%s:%s:%s", vendor, device, class_code);
  for (guint i = 0; pci->keys != NULL && pci->keys[i] != NULL; i++)
    json_object_set_new(attributes, pci->keys[i], pp_json_text(pci->values[i]));
  if (pci->has_pf)
    pp_pci_address_format(&pci->pf, pf);
  /* "pf" is "physfn" again, under the name the NIC fields share (issue
   * 12): "physfn" stays for the clients that read it. */
  return json_pack(
      "{s:o,s:o,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:o,s:b,s:o,s:o,"
      "s:o,s:o,s:o}",
      "address", pp_json_text(address), "short_address", pp_json_text(short_address), "type", type,
      "vendor", vendor, "device", device, "class", class_code, "vendor_name",
      pp_json_text(pci->vendor_name), "device_name", pp_json_text(pci->device_name), "class_name",
      pp_json_text(pci->class_name), "numa_node", api_json_int_or_null(pci->numa_node, -1),
      "iommu_group", api_json_int_or_null(pci->iommu_group, -1), "driver",
      pp_json_text(pci->driver), "sriov", pp_json_text(pci->sriov), "physfn",
      pp_json_text(pci->physfn), "vm", api_json_int_or_null(vm, 0), "taken", dev->vm_id != 0,
      "gone", dev->gone, "host_needs", pp_json_text(pci->host_needs), "allowed", dev->allowed,
      "set_aside", pp_json_text(set_aside), "attributes", attributes, "perm_mac",
      pp_json_text(pci->perm_mac), "pf", pci->has_pf ? pp_json_text(pf) : json_null(), "vf_index",
      pci->has_vf_index ? json_integer(pci->vf_index) : json_null());
}

json_t *
api_host_list(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { "limit", "after", "state", NULL };
  PpStorePage page = { 0 };
  g_autoptr(GPtrArray) hosts = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gint64 next = 0;

  if (!api_check_query(call, "GET /v1/hosts", takes, error) ||
      !api_query_page(call, &page, error) ||
      !api_query_states(call, "host", api_host_state_name, _PP_HOST_STATE_MAX, api_host_state_parse,
                        &page.states, error))
    return NULL;
  hosts = pp_store_host_page(call->ctx->store, &page, &next, error);
  if (hosts == NULL || !api_sight_init(call, FALSE, &sight, error))
    return NULL;
  array = json_array();
  for (guint i = 0; i < hosts->len; i++) {
    if (!pp_json_append(array, host_to_json(call->ctx, g_ptr_array_index(hosts, i), &sight)))
      return api_built(NULL, error);
  }
  return api_page_json("hosts", g_steal_pointer(&array), next, error);
}

/* "USER@HOST[:PORT]", "HOST[:PORT]", "USER@[V6]:PORT". */
static gboolean
parse_ssh(const char *text, char **ret_user, char **ret_host, int *ret_port, GError **error)
{
  g_autofree char *user = NULL;
  g_autofree char *host = NULL;
  const char *at = strchr(text, '@');
  const char *rest = at ? at + 1 : text;
  const char *colon;
  guint64 port = 0;

  if (at != NULL)
    user = g_strndup(text, (gsize)(at - text));
  if (rest[0] == '[') {
    const char *close = strchr(rest, ']');

    if (close == NULL)
      goto bad;
    host = g_strndup(rest + 1, (gsize)(close - rest - 1));
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] != '\0' && colon == NULL)
      goto bad;
  } else {
    colon = strrchr(rest, ':');
    host = colon ? g_strndup(rest, (gsize)(colon - rest)) : g_strdup(rest);
  }
  if (colon != NULL && !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field 'ssh': port '%s' is not 1 to 65535", colon + 1);
    return FALSE;
  }
  *ret_user = g_steal_pointer(&user);
  *ret_host = g_steal_pointer(&host);
  *ret_port = (int)port;
  return TRUE;

bad:
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
              "field 'ssh': '%s' is not USER@HOST[:PORT]", text);
  return FALSE;
}

/* pp-host-spec's rule, for field @field. */
static gboolean
spec_rule(gboolean ok, const char *field, GError *const *local, GError **error)
{
  if (!ok)
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "field '%s': %s", field,
                (*local)->message);
  return ok;
}

static GStrv
parse_probe_command(const json_t *value, GError **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) local = NULL;
  size_t i;
  json_t *word;

  if (value == NULL || json_is_null(value))
    return NULL;
  if (json_is_string(value)) {
    GStrv parsed = pp_probe_command_parse(json_string_value(value), error);

    if (parsed == NULL)
      g_prefix_error(error, "field 'probe_command': ");
    return parsed;
  }
  if (!json_is_array(value) || json_array_size(value) == 0 ||
      json_array_size(value) > PP_HOST_PROBE_WORDS_MAX) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field 'probe_command' must be a string or an array of 1 to %d strings",
                PP_HOST_PROBE_WORDS_MAX);
    return NULL;
  }
  builder = g_strv_builder_new();
  json_array_foreach((json_t *)value, i, word)
  {
    if (!json_is_string(word) || strlen(json_string_value(word)) != json_string_length(word)) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "field 'probe_command': word %zu must be a string without NUL", i + 1);
      return NULL;
    }
    g_strv_builder_add(builder, json_string_value(word));
  }
  argv = g_strv_builder_end(builder);
  if (!spec_rule(pp_host_spec_check_probe_command((const char *const *)argv, &local),
                 "probe_command", &local, error))
    return NULL;
  return g_steal_pointer(&argv);
}

/* The host settings of a body, as POST /v1/hosts and PATCH /v1/hosts/ID
 * take them, parsed and checked for their form; the store checks the
 * whole host again (check_host_spec()). A has_* flag says the field is in
 * the body, null included: the field's value is then NULL (no ssh, the
 * default URI or probe). */
typedef struct {
  gboolean has_ssh;
  char *ssh_user;
  char *ssh_host;
  int ssh_port;
  gboolean has_libvirt_uri;
  const char *libvirt_uri; /* borrowed from the body */
  gboolean has_probe_command;
  GStrv probe_command;
  gboolean has_prebound;
  gboolean prebound;
  const char *context_pool; /* borrowed from the body; NULL: not given */
} HostFields;

static void
host_fields_clear(HostFields *fields)
{
  g_clear_pointer(&fields->ssh_user, g_free);
  g_clear_pointer(&fields->ssh_host, g_free);
  g_clear_pointer(&fields->probe_command, g_strfreev);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostFields, host_fields_clear)

/* Parses ssh, libvirt_uri, probe_command and prebound of @body into @ret.
 * prebound may be null when @prebound_nullable (create: the default), not
 * in a change, which says what to. */
static gboolean
host_fields_parse(const json_t *body, gboolean prebound_nullable, HostFields *ret, GError **error)
{
  const char *ssh;
  g_autoptr(GError) local = NULL;

  ret->has_ssh = json_object_get(body, "ssh") != NULL;
  ret->has_libvirt_uri = json_object_get(body, "libvirt_uri") != NULL;
  ret->has_probe_command = json_object_get(body, "probe_command") != NULL;
  ret->has_prebound = json_object_get(body, "prebound") != NULL;
  if (!api_get_string(body, "ssh", MAX_SSH_LEN, FALSE, &ssh, error) ||
      !api_get_string(body, "libvirt_uri", PP_HOST_URI_MAX, FALSE, &ret->libvirt_uri, error) ||
      !api_get_bool(body, "prebound", prebound_nullable, &ret->prebound, error) ||
      !api_get_string(body, "context_pool", PP_HOST_POOL_MAX, FALSE, &ret->context_pool, error))
    return FALSE;
  if (ret->context_pool != NULL &&
      !spec_rule(pp_host_spec_check_pool(ret->context_pool, &local), "context_pool", &local, error))
    return FALSE;
  if (ssh != NULL && !parse_ssh(ssh, &ret->ssh_user, &ret->ssh_host, &ret->ssh_port, error))
    return FALSE;
  if (ret->libvirt_uri != NULL &&
      !spec_rule(pp_host_spec_check_libvirt_uri(ret->libvirt_uri, &local), "libvirt_uri", &local,
                 error))
    return FALSE;
  ret->probe_command = parse_probe_command(json_object_get(body, "probe_command"), &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  return TRUE;
}

/* What the monitor will run for a host probed with @command or over ssh
 * must be buildable now, not fail at the next probe. */
static gboolean
check_probe_target(const char *const *command, const char *ssh_user, const char *ssh_host,
                   int ssh_port, GError **error)
{
  PpProbeTarget target = { 0 };
  g_auto(GStrv) argv = NULL;

  target.probe_command = command;
  target.ssh_user = ssh_user;
  target.ssh_host = ssh_host;
  target.ssh_port = ssh_port;
  target.probe_path = "pcipass-probe";
  argv = pp_probe_argv_build(&target, error);
  if (argv == NULL) {
    g_prefix_error(error, "field '%s': ", command ? "probe_command" : "ssh");
    return FALSE;
  }
  return TRUE;
}

json_t *
api_host_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "name",     "ssh",          "libvirt_uri", "probe_command",
                                        "prebound", "context_pool", NULL };
  const char *name;
  g_auto(HostFields) parsed = { 0 };
  g_autoptr(PpHost) host = NULL;
  PpHostSpec spec = { 0 };

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "name", 64, TRUE, &name, error) ||
      !host_fields_parse(call->body, TRUE, &parsed, error) ||
      !check_probe_target((const char *const *)parsed.probe_command, parsed.ssh_user,
                          parsed.ssh_host, parsed.ssh_port, error))
    return NULL;

  spec.name = name;
  spec.ssh_user = parsed.ssh_user;
  spec.ssh_host = parsed.ssh_host;
  spec.ssh_port = parsed.ssh_port;
  spec.libvirt_uri = parsed.libvirt_uri;
  spec.probe_command = (const char *const *)parsed.probe_command;
  spec.prebound = parsed.prebound;
  spec.context_pool = parsed.context_pool;
  host = pp_store_host_create(call->ctx->store, &spec, call->now, error);
  if (host == NULL)
    return NULL;
  g_message("host '%s' (id %" G_GINT64_FORMAT ") created by '%s'", host->name, host->id,
            call->user->name);
  if (call->ctx->monitor != NULL)
    pp_monitor_poke(call->ctx->monitor, host->id);
  *ret_status = 201;
  return api_built(host_to_json(call->ctx, host, &admin_sight), error);
}

static PpHost *
find_host(PpApiCall *call, GError **error)
{
  return pp_store_host_find(call->ctx->store, call->args[0], error);
}

json_t *
api_host_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) allowances = NULL;
  g_autoptr(json_t) json = NULL;
  g_auto(Sight) sight = { 0 };
  json_t *array;

  if (host == NULL || !api_sight_init(call, FALSE, &sight, error))
    return NULL;
  devices = pp_store_host_list_devices(call->ctx->store, host->id, error);
  if (devices == NULL)
    return NULL;
  json = host_to_json(call->ctx, host, &sight);
  array = json_array();
  if (json == NULL || json_object_set_new(json, "pci_devices", array) != 0)
    return api_built(NULL, error);
  for (guint i = 0; i < devices->len; i++) {
    if (!pp_json_append(array, device_to_json(g_ptr_array_index(devices, i), &sight)))
      return api_built(NULL, error);
  }
  allowances = pp_store_host_list_allowances(call->ctx->store, host->id, error);
  if (allowances == NULL)
    return NULL;
  array = json_array();
  if (json_object_set_new(json, "allowances", array) != 0)
    return api_built(NULL, error);
  for (guint i = 0; i < allowances->len; i++) {
    const PpHostAllowance *a = g_ptr_array_index(allowances, i);

    if (!pp_json_append(array, json_pack("{s:o,s:o,s:I}", "address", pp_json_text(a->address), "by",
                                         pp_json_text(a->by), "created", (json_int_t)a->created)))
      return api_built(NULL, error);
  }
  return g_steal_pointer(&json);
}

static json_t *
set_enabled(PpApiCall *call, gboolean enabled, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autoptr(PpHost) changed = NULL;

  if (host == NULL || !pp_store_host_set_enabled(call->ctx->store, host->id, enabled, error))
    return NULL;
  changed = pp_store_host_get(call->ctx->store, host->id, error);
  if (changed == NULL)
    return NULL;
  if (changed->state != host->state)
    g_message("host '%s' %s by '%s'", host->name, enabled ? "enabled" : "disabled",
              call->user->name);
  if (enabled && call->ctx->monitor != NULL && host->state == PP_HOST_STATE_DISABLED)
    pp_monitor_poke(call->ctx->monitor, host->id);
  return api_built(host_to_json(call->ctx, changed, &admin_sight), error);
}

/* PATCH /v1/hosts/ID: the settings that can change without re-creating
 * the host: how it is probed (ssh, probe_command; null: the default),
 * reached (libvirt_uri; null: the default), its hostdev mode (prebound),
 * the storage pool of its VMs' context disks (context_pool),
 * and allow_needed / disallow_needed: an address the host needs that VMs
 * may have all the same (recorded with who and when), and its undo. All
 * are checked before anything changes. */
json_t *
api_host_update(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = {
    "ssh",          "libvirt_uri",  "probe_command",   "prebound",
    "context_pool", "allow_needed", "disallow_needed", NULL
  };
  g_autoptr(json_t) own = NULL;
  g_auto(HostFields) parsed = { 0 };
  g_autoptr(PpHost) host = NULL;
  g_autoptr(PpHost) changed = NULL;
  g_autoptr(GString) what = g_string_new(NULL);
  PpHostUpdate update = { 0 };
  const char *allow = NULL, *disallow = NULL;
  gboolean probe_changed;
  PpPciAddress addr;

  if (!api_check_fields(call->body, fields, error))
    return NULL;
  if (json_object_size(call->body) == 0) {
    g_autofree char *list = g_strjoinv(", ", (char **)fields);

    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "nothing to change: the body names no field (known: %s)", list);
    return NULL;
  }
  if (!api_get_string(call->body, "allow_needed", MAX_ADDRESS_LEN, FALSE, &allow, error) ||
      !api_get_string(call->body, "disallow_needed", MAX_ADDRESS_LEN, FALSE, &disallow, error))
    return NULL;
  for (guint i = 0; i < 2; i++) {
    const char *text = i == 0 ? allow : disallow;

    if (text != NULL && !pp_pci_address_parse(text, &addr, NULL)) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "%s: '%s' is not a PCI address (0000:00:1f.0 or 00:1f.0)",
                  i == 0 ? "allow_needed" : "disallow_needed", text);
      return NULL;
    }
  }
  /* host_fields_parse() knows the host's own fields only; @parsed
   * borrows from @own. */
  own = json_deep_copy(call->body);
  json_object_del(own, "allow_needed");
  json_object_del(own, "disallow_needed");
  if (!host_fields_parse(own, FALSE, &parsed, error))
    return NULL;
  host = find_host(call, error);
  if (host == NULL)
    return NULL;
  /* The undo can fail on a good request (no such allowance): checked
   * before anything changes. */
  if (disallow != NULL) {
    g_autoptr(GPtrArray) allowances =
        pp_store_host_list_allowances(call->ctx->store, host->id, error);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];
    gboolean found = FALSE;

    if (allowances == NULL)
      return NULL;
    pp_pci_address_parse(disallow, &addr, NULL);
    pp_pci_address_format(&addr, bdf);
    for (guint i = 0; i < allowances->len; i++)
      found |= strcmp(((PpHostAllowance *)g_ptr_array_index(allowances, i))->address, bdf) == 0;
    if (!found) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                  "host '%s' has no allowance for %s", host->name, bdf);
      return NULL;
    }
  }

  update.set_ssh = parsed.has_ssh;
  update.ssh_user = parsed.ssh_user;
  update.ssh_host = parsed.ssh_host;
  update.ssh_port = parsed.ssh_port;
  update.set_libvirt_uri = parsed.has_libvirt_uri;
  update.libvirt_uri = parsed.libvirt_uri;
  update.set_probe_command = parsed.has_probe_command;
  update.probe_command = (const char *const *)parsed.probe_command;
  update.set_prebound = parsed.has_prebound;
  update.prebound = parsed.prebound;
  update.context_pool = parsed.context_pool;
  if (!check_probe_target(parsed.has_probe_command ? update.probe_command
                                                   : (const char *const *)host->probe_command,
                          parsed.has_ssh ? parsed.ssh_user : host->ssh_user,
                          parsed.has_ssh ? parsed.ssh_host : host->ssh_host,
                          parsed.has_ssh ? parsed.ssh_port : host->ssh_port, error))
    return NULL;
  changed = pp_store_host_update(call->ctx->store, host->id, &update, error);
  if (changed == NULL)
    return NULL;
  if (disallow != NULL) {
    if (!pp_store_host_disallow(call->ctx->store, host->id, disallow, error))
      return NULL;
    g_message("host '%s': %s no longer allowed to VMs, by '%s'", host->name, disallow,
              call->user->name);
  }
  if (allow != NULL) {
    if (!pp_store_host_allow(call->ctx->store, host->id, allow, call->user->name, call->now, error))
      return NULL;
    g_message("host '%s': %s allowed to VMs although the host may need it, by '%s'", host->name,
              allow, call->user->name);
  }

  for (guint i = 0; fields[i] != NULL; i++) {
    if (json_object_get(call->body, fields[i]) != NULL && strstr(fields[i], "allow") == NULL)
      g_string_append_printf(what, "%s%s", what->len > 0 ? ", " : "", fields[i]);
  }
  if (what->len > 0)
    g_message("host '%s': %s changed by '%s'", host->name, what->str, call->user->name);
  if (changed->prebound != host->prebound)
    g_message("host '%s' is now %s", host->name,
              changed->prebound ? "prebound (managed='no')" : "managed");
  /* What can be given there changed: pending VMs may fit, or not. */
  if (call->ctx->scheduler != NULL &&
      (allow != NULL || disallow != NULL || changed->prebound != host->prebound))
    pp_scheduler_poke(call->ctx->scheduler);
  /* A new way to probe it is tried at once, as a new host is; a new URI
   * is checked then too (the probe's end reconciles its libvirt). */
  probe_changed = parsed.has_ssh || parsed.has_probe_command || parsed.has_libvirt_uri;
  if (probe_changed && call->ctx->monitor != NULL && changed->state != PP_HOST_STATE_DISABLED)
    pp_monitor_poke(call->ctx->monitor, changed->id);
  return api_built(host_to_json(call->ctx, changed, &admin_sight), error);
}

json_t *
api_host_enable(PpApiCall *call, guint *ret_status, GError **error)
{
  return set_enabled(call, TRUE, error);
}

json_t *
api_host_disable(PpApiCall *call, guint *ret_status, GError **error)
{
  return set_enabled(call, FALSE, error);
}

json_t *
api_host_probe(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL || !api_need_leader(call, "probing", error))
    return NULL;
  if (host->state == PP_HOST_STATE_DISABLED) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' is disabled; enable it first (pcipass host enable %s)", host->name,
                host->name);
    return NULL;
  }
  if (call->ctx->monitor != NULL && pp_monitor_is_push(call->ctx->monitor, host->id)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' pushes its reports (it has a report token), so pcipassd does not "
                "probe it: run pcipass-probe --push on the host, or revoke its token (pcipass "
                "host token %s --revoke) to have it probed from here",
                host->name, host->name);
    return NULL;
  }
  if (call->ctx->monitor != NULL)
    pp_monitor_poke(call->ctx->monitor, host->id);
  *ret_status = 202;
  return api_built(host_to_json(call->ctx, host, &admin_sight), error);
}

json_t *
api_host_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL || !pp_store_host_delete(call->ctx->store, host->id, error))
    return NULL;
  g_message("host '%s' (id %" G_GINT64_FORMAT ") deleted by '%s'", host->name, host->id,
            call->user->name);
  return api_built(json_pack("{s:I}", "deleted", (json_int_t)host->id), error);
}

/* POST /v1/hosts/ID/report: the body is the host's probe output
 * (pcipass-probe --push), from the host's report token or an admin. */
json_t *
api_host_report(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = NULL;
  PpIngestResult result = { 0 };
  const char *text, *name;
  gint64 host_id;
  gsize len = 0;
  gboolean ok;

  /* A report token is its host's: the path named it already (admit). */
  if (call->host != NULL) {
    host_id = call->host->host_id;
    name = call->host->host_name;
  } else {
    host = find_host(call, error);
    if (host == NULL)
      return NULL;
    host_id = host->id;
    name = host->name;
  }
  text = pp_http_request_get_body(call->req, &len);
  if (call->ctx->monitor != NULL)
    ok = pp_monitor_ingest(call->ctx->monitor, host_id, text, len, &result, error);
  else
    ok = pp_store_host_ingest(call->ctx->store, host_id, text, len, call->now, &result, error);
  if (!ok) {
    if (pp_probe_report_error_is_input(*error))
      g_prefix_error(error, "the report of host '%s' is refused, nothing changed: ", name);
    return NULL;
  }
  return api_built(json_pack("{s:s,s:I,s:b,s:I,s:I,s:I,s:I}", "host", name, "host_id",
                             (json_int_t)host_id, "changed", result.changed, "devices",
                             (json_int_t)result.devices, "added", (json_int_t)result.stats.added,
                             "removed", (json_int_t)result.stats.removed, "gone",
                             (json_int_t)result.stats.flagged),
                   error);
}

/* POST /v1/hosts/ID/token: a new report token for the host, replacing
 * any it had; the secret is in the answer, this once. The host is in
 * push mode from now on. */
json_t *
api_host_token_create(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autofree char *hash = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *path = NULL;
  json_t *json;

  if (host == NULL)
    return NULL;
  secret = pp_auth_host_token_new(&hash);
  if (!pp_store_host_token_set(call->ctx->store, host->id, hash, call->now, error)) {
    explicit_bzero(secret, strlen(secret));
    return NULL;
  }
  if (call->ctx->monitor != NULL)
    pp_monitor_set_push(call->ctx->monitor, host->id, TRUE);
  g_message("host '%s': report token made by '%s'; the host pushes its reports from now on",
            host->name, call->user->name);
  path = g_strdup_printf("/v1/hosts/%s/report", host->name);
  json = api_built(json_pack("{s:s,s:I,s:s,s:I,s:s}", "host", host->name, "host_id",
                             (json_int_t)host->id, "report_path", path, "created",
                             (json_int_t)call->now, "token", secret),
                   error);
  explicit_bzero(secret, strlen(secret));
  *ret_status = 201;
  return json;
}

/* DELETE /v1/hosts/ID/token: refused from the next request on; the host
 * is probed again from the next monitor pass. */
json_t *
api_host_token_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL || !pp_store_host_token_delete(call->ctx->store, host->id, error))
    return NULL;
  if (call->ctx->monitor != NULL)
    pp_monitor_set_push(call->ctx->monitor, host->id, FALSE);
  g_message("host '%s': report token revoked by '%s'; the host is probed again", host->name,
            call->user->name);
  return api_built(json_pack("{s:s,s:I,s:b}", "host", host->name, "host_id", (json_int_t)host->id,
                             "revoked", TRUE),
                   error);
}

/* GET /v1/pci/types: the device types across the hosts, with how many
 * are free now: the scheduler's counts, kept as hosts and VMs change, so
 * that the answer costs the number of types, not of hosts. Every user
 * sees them, as every user sees the hosts. */
json_t *
api_pci_types(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { NULL };
  g_autoptr(GPtrArray) types = NULL;
  g_autoptr(json_t) array = json_array();

  if (!api_check_query(call, "GET /v1/pci/types", takes, error) ||
      !api_need_leader(call, "the scheduler's inventory", error))
    return NULL;
  if (call->ctx->scheduler == NULL) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND, "no scheduler: no device types");
    return NULL;
  }
  types = pp_scheduler_list_types(call->ctx->scheduler, error);
  if (types == NULL)
    return NULL;
  for (guint i = 0; i < types->len; i++) {
    const PpPlaceType *t = g_ptr_array_index(types, i);
    char type[16], vendor[8], device[8], class_code[8];

    g_snprintf(vendor, sizeof(vendor), "%04x", t->vendor);
    g_snprintf(device, sizeof(device), "%04x", t->device);
    g_snprintf(class_code, sizeof(class_code), "%04x", t->class_code);
    g_snprintf(type, sizeof(type), "%s:%s:%s", vendor, device, class_code);
    if (!pp_json_append(array, json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:i,s:i,s:i}", "type", type,
                                         "vendor", vendor, "device", device, "class", class_code,
                                         "vendor_name", pp_json_text(t->vendor_name), "device_name",
                                         pp_json_text(t->device_name), "class_name",
                                         pp_json_text(t->class_name), "total", (int)t->total,
                                         "free", (int)t->free, "hosts", (int)t->hosts)))
      return api_built(NULL, error);
  }
  return api_built(json_pack("{s:O}", "types", array), error);
}
