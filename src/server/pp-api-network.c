/* pp-api-network: the handlers of /v1/networks (issue 12): create, the
 * paged list, show with ranges and leases, update, delete, hold and
 * release; and the resolution of the networks a VM template's NICs name. */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-api.h"
#include "pp-autoptr.h"
#include "pp-domain-xml.h"
#include "pp-network.h"
#include "pp-output.h"
#include "pp-store-network.h"
#include "pp-vm-context.h"

static const PpMacPrefix *
mac_prefix(const PpApiCall *call)
{
  static const PpMacPrefix fallback = PP_MAC_PREFIX_DEFAULT;

  return call->ctx->mac_prefix != NULL ? call->ctx->mac_prefix : &fallback;
}

static json_t *
ip4_or_null(gboolean has, const PpIp4 *ip)
{
  char buf[PP_IP4_BUFSIZE];

  return has ? json_string(pp_ip4_format(ip, buf)) : json_null();
}

static json_t *
ip6_or_null(gboolean has, const PpIp6 *ip)
{
  char buf[PP_IP6_BUFSIZE];

  return has ? json_string(pp_ip6_format(ip, buf)) : json_null();
}

static json_t *
mac_json(const PpMac *mac)
{
  char buf[PP_MAC_BUFSIZE];

  return json_string(pp_mac_format(mac, buf));
}

/* A lease's addresses, into @object. */
static void
lease_addresses(json_t *object, const PpNetworkLease *lease)
{
  json_object_set_new(object, "mac", mac_json(&lease->mac));
  json_object_set_new(object, "ip", ip4_or_null(lease->has_ip, &lease->ip));
  json_object_set_new(object, "ip6_global", ip6_or_null(lease->has_ip6_global, &lease->ip6_global));
  json_object_set_new(object, "ip6_ula", ip6_or_null(lease->has_ip6_ula, &lease->ip6_ula));
  json_object_set_new(object, "ip6", ip6_or_null(lease->has_ip6, &lease->ip6));
}

/* A network as a list shows it. */
static json_t *
network_row_json(const PpNetwork *network)
{
  const PpNetworkSpec *spec = network->spec;

  return json_pack("{s:I,s:o,s:I,s:o,s:b,s:s,s:o,s:o,s:I,s:I,s:I}", "id", (json_int_t)network->id,
                   "name", pp_json_text(network->name), "owner_id", (json_int_t)network->owner_id,
                   "owner", pp_json_text(network->owner_name), "shared", network->shared, "vn_mad",
                   pp_network_vn_mad_to_string(spec->vn_mad), "bridge", pp_json_text(spec->bridge),
                   "vlan_id", api_json_int_or_null(spec->vlan_id, -1), "size",
                   (json_int_t)network->size, "used", (json_int_t)network->used, "held",
                   (json_int_t)network->held);
}

static json_t *
ar_json(const PpNetwork *network, guint i)
{
  const PpNetworkAr *ar = &g_array_index(network->spec->ars, PpNetworkAr, i);
  PpNetworkLease last = { 0 };
  json_t *object;

  pp_network_ar_lease(ar, ar->size - 1, &last, NULL);
  object =
      json_pack("{s:i,s:s,s:I,s:I,s:o,s:o,s:b}", "ar_id", (int)i, "type",
                pp_network_ar_type_to_string(ar->type), "size", (json_int_t)ar->size, "used",
                (json_int_t)g_array_index(network->ar_used, guint64, i), "mac", mac_json(&ar->mac),
                "mac_last", mac_json(&last.mac), "mac_given", ar->mac_given);
  json_object_set_new(object, "ip", ip4_or_null(pp_network_ar_type_has_ip4(ar->type), &ar->ip));
  json_object_set_new(object, "ip_last", ip4_or_null(last.has_ip, &last.ip));
  json_object_set_new(object, "global_prefix", ip6_or_null(ar->has_global, &ar->global_prefix));
  json_object_set_new(object, "ula_prefix", ip6_or_null(ar->has_ula, &ar->ula_prefix));
  json_object_set_new(object, "ip6",
                      ip6_or_null(pp_network_ar_type_has_ip6_static(ar->type), &ar->ip6));
  json_object_set_new(object, "prefix_length",
                      pp_network_ar_type_has_ip6_static(ar->type)
                          ? json_integer((json_int_t)ar->prefix_length)
                          : json_null());
  return object;
}

/* A lease as @sight may see it: a user sees which VM has it when the VM
 * is theirs, else that a VM has it. */
static json_t *
lease_json(const Sight *sight, const PpStoreLease *lease)
{
  gboolean shown = lease->vm_id != 0 && api_sight_shows_vm(lease->vm_id, (gpointer)sight);
  json_t *object = json_pack("{s:i,s:o,s:o,s:b}", "ar_id", (int)lease->ar_id, "vm_id",
                             shown ? json_integer((json_int_t)lease->vm_id) : json_null(), "nic_id",
                             shown ? json_integer((json_int_t)lease->nic_id) : json_null(), "held",
                             lease->vm_id == 0);

  lease_addresses(object, &lease->lease);
  return object;
}

/* The whole network: its row, attributes, template, ranges and leases. */
static json_t *
network_json(const PpApiCall *call, const PpNetwork *network, GError **error)
{
  const PpNetworkSpec *spec = network->spec;
  g_auto(Sight) sight = { 0 };
  g_autoptr(GArray) leases = NULL;
  g_autoptr(json_t) object = network_row_json(network);
  json_t *ars = json_array();
  json_t *array = json_array();
  json_t *dns = json_array();
  char buf[PP_IP4_BUFSIZE + 4];

  json_object_set_new(object, "ars", ars);
  json_object_set_new(object, "leases", array);
  json_object_set_new(object, "dns", dns);
  if (!api_sight_init(call, FALSE, &sight, error))
    return NULL;
  leases = pp_store_network_list_leases(call->ctx->store, network->id, PP_STORE_NETWORK_LEASES_MAX,
                                        error);
  if (leases == NULL)
    return NULL;
  for (guint i = 0; i < spec->ars->len; i++)
    json_array_append_new(ars, ar_json(network, i));
  for (guint i = 0; i < leases->len; i++)
    json_array_append_new(array, lease_json(&sight, &g_array_index(leases, PpStoreLease, i)));
  for (guint i = 0; i < spec->dns->len; i++) {
    const PpIpAddress *a = &g_array_index(spec->dns, PpIpAddress, i);

    json_array_append_new(dns, a->is_ip6 ? ip6_or_null(TRUE, &a->ip6) : ip4_or_null(TRUE, &a->ip4));
  }
  if (spec->has_network) {
    char ip[PP_IP4_BUFSIZE];

    g_snprintf(buf, sizeof(buf), "%s/%u", pp_ip4_format(&spec->network_address, ip),
               spec->network_prefix);
  }
  json_object_set_new(object, "leases_truncated",
                      json_boolean(leases->len >= PP_STORE_NETWORK_LEASES_MAX &&
                                   network->used + network->held > leases->len));
  json_object_set_new(object, "phydev", pp_json_text(spec->phydev));
  json_object_set_new(object, "mtu", api_json_int_or_null(spec->mtu, 0));
  json_object_set_new(object, "network_address",
                      spec->has_network ? json_string(buf) : json_null());
  json_object_set_new(object, "gateway", ip4_or_null(spec->has_gateway, &spec->gateway));
  json_object_set_new(object, "gateway6", ip6_or_null(spec->has_gateway6, &spec->gateway6));
  json_object_set_new(object, "search_domains",
                      api_json_strv((const char *const *)spec->search_domains));
  json_object_set_new(object, "template", pp_json_text(network->template_text));
  json_object_set_new(object, "created", json_integer((json_int_t)network->created));
  json_object_set_new(object, "updated", json_integer((json_int_t)network->updated));
  return g_steal_pointer(&object);
}

/* The template of a body, parsed; its error answer says where ("line",
 * "column") as a VM template's does. */
static PpNetworkSpec *
parse_template(PpApiCall *call, const char *text, GError **error)
{
  PpTextPos pos = { 0, 0 };
  PpNetworkSpec *spec =
      pp_network_template_parse(text, strlen(text), mac_prefix(call), &pos, error);

  if (spec == NULL && pos.line > 0)
    call->error_fields = json_pack("{s:i,s:i}", "line", (int)pos.line, "column", (int)pos.column);
  return spec;
}

json_t *
api_net_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "template", "shared", NULL };
  const char *text;
  gboolean shared = FALSE;
  g_autoptr(PpNetworkSpec) spec = NULL;
  g_autoptr(PpNetwork) network = NULL;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "template", PP_TEMPLATE_MAX_SIZE, TRUE, &text, error) ||
      !api_get_bool(call->body, "shared", FALSE, &shared, error))
    return NULL;
  spec = parse_template(call, text, error);
  if (spec == NULL)
    return NULL;
  network = pp_store_network_create(call->ctx->store, call->user->id, text, spec, shared,
                                    mac_prefix(call), call->now, error);
  if (network == NULL)
    return NULL;
  g_message("network %" G_GINT64_FORMAT " '%s' created by '%s' (%s, %u range%s, %" G_GUINT64_FORMAT
            " addresses)",
            network->id, network->name, call->user->name, shared ? "shared" : "private",
            network->spec->ars->len, network->spec->ars->len == 1 ? "" : "s", network->size);
  api_note(call, PP_EVENT_NETWORK, network->id);
  *ret_status = 201;
  return network_json(call, network, error);
}

json_t *
api_net_list(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const allowed[] = { "limit", "after", NULL };
  PpStorePage page = { 0 };
  g_autoptr(GPtrArray) rows = NULL;
  json_t *array;
  gint64 next = 0;

  if (!api_check_query(call, "GET /v1/networks", allowed, error) ||
      !api_query_page(call, &page, error))
    return NULL;
  rows = pp_store_network_page(call->ctx->store, call->user->admin ? 0 : call->user->id, page.after,
                               page.limit, &next, error);
  if (rows == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < rows->len; i++)
    json_array_append_new(array, network_row_json(g_ptr_array_index(rows, i)));
  return api_page_json("networks", array, next, error);
}

/* The network the route's '*' names (id or name; query "uname" names the
 * owner), as the caller may see it. */
static PpNetwork *
find_network(PpApiCall *call, GError **error)
{
  static const char *const allowed[] = { "uname", NULL };
  const char *uname = pp_http_request_get_query(call->req, "uname");

  if (!api_check_query(call, "/v1/networks/NETWORK", allowed, error))
    return NULL;
  return pp_store_network_find(call->ctx->store, call->args[0], uname,
                               call->user->admin ? 0 : call->user->id, error);
}

/* Only its owner and an administrator change a network. */
static PpNetwork *
find_own_network(PpApiCall *call, GError **error)
{
  g_autoptr(PpNetwork) network = find_network(call, error);

  if (network == NULL)
    return NULL;
  if (!call->user->admin && network->owner_id != call->user->id) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                "network '%s' is user '%s''s, shared: only its owner or an administrator may "
                "change it",
                network->name, network->owner_name);
    return NULL;
  }
  return g_steal_pointer(&network);
}

json_t *
api_net_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpNetwork) network = find_network(call, error);

  if (network == NULL)
    return NULL;
  return network_json(call, network, error);
}

json_t *
api_net_update(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "template", "shared", NULL };
  g_autoptr(PpNetwork) network = NULL;
  g_autoptr(PpNetwork) updated = NULL;
  g_autoptr(PpNetworkSpec) spec = NULL;
  const char *text = NULL;
  json_t *shared_json;
  int shared = -1;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "template", PP_TEMPLATE_MAX_SIZE, FALSE, &text, error))
    return NULL;
  shared_json = json_object_get(call->body, "shared");
  if (shared_json != NULL) {
    gboolean value;

    if (!api_get_bool(call->body, "shared", FALSE, &value, error))
      return NULL;
    shared = value ? 1 : 0;
  }
  if (text == NULL && shared < 0) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "nothing to change: give a template, or shared");
    return NULL;
  }
  network = find_own_network(call, error);
  if (network == NULL)
    return NULL;
  if (text == NULL)
    text = network->template_text;
  spec = parse_template(call, text, error);
  if (spec == NULL)
    return NULL;
  updated = pp_store_network_update(call->ctx->store, network->id, text, spec, shared,
                                    mac_prefix(call), call->now, error);
  if (updated == NULL)
    return NULL;
  g_message("network %" G_GINT64_FORMAT " '%s' updated by '%s'", updated->id, updated->name,
            call->user->name);
  api_note(call, PP_EVENT_NETWORK, updated->id);
  if (call->ctx->scheduler != NULL)
    pp_scheduler_networks_changed(call->ctx->scheduler);
  return network_json(call, updated, error);
}

json_t *
api_net_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpNetwork) network = find_own_network(call, error);

  if (network == NULL || !pp_store_network_delete(call->ctx->store, network->id, error))
    return NULL;
  g_message("network %" G_GINT64_FORMAT " '%s' deleted by '%s'", network->id, network->name,
            call->user->name);
  api_note(call, PP_EVENT_NETWORK, network->id);
  return api_built(json_pack("{s:I}", "deleted", (json_int_t)network->id), error);
}

/* The longest address a hold names: a MAC is 17 characters. */
#define ADDRESS_MAX_LEN 64

json_t *
api_net_hold(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "address", NULL };
  g_autoptr(PpNetwork) network = NULL;
  g_auto(Sight) sight = { 0 };
  PpStoreLease lease;
  const char *address;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "address", ADDRESS_MAX_LEN, TRUE, &address, error))
    return NULL;
  network = find_own_network(call, error);
  if (network == NULL ||
      !pp_store_network_hold(call->ctx->store, network->id, address, &lease, error) ||
      !api_sight_init(call, FALSE, &sight, error))
    return NULL;
  g_message("address %s of network '%s' held by '%s'", address, network->name, call->user->name);
  api_note(call, PP_EVENT_NETWORK, network->id);
  return lease_json(&sight, &lease);
}

json_t *
api_net_release(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "address", NULL };
  g_autoptr(PpNetwork) network = NULL;
  const char *address;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "address", ADDRESS_MAX_LEN, TRUE, &address, error))
    return NULL;
  network = find_own_network(call, error);
  if (network == NULL || !pp_store_network_release(call->ctx->store, network->id, address, error))
    return NULL;
  g_message("address %s of network '%s' released by '%s'", address, network->name,
            call->user->name);
  api_note(call, PP_EVENT_NETWORK, network->id);
  if (call->ctx->scheduler != NULL)
    pp_scheduler_networks_changed(call->ctx->scheduler);
  return api_built(json_pack("{s:s}", "released", address), error);
}

/* ------------------------------------------------------------------------ */
/* A VM template's networks                                                 */
/* ------------------------------------------------------------------------ */

static gboolean nic_fail(PpApiCall *call, const PpVmNic *nic, guint nic_id, GError **error,
                         const char *format, ...) G_GNUC_PRINTF(5, 6);

static gboolean
nic_fail(PpApiCall *call, const PpVmNic *nic, guint nic_id, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  if (nic->pos.line > 0) {
    call->error_fields =
        json_pack("{s:i,s:i}", "line", (int)nic->pos.line, "column", (int)nic->pos.column);
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "line %u, column %u: %s %u: %s",
                nic->pos.line, nic->pos.column, nic->kind == PP_VM_NIC_PCI ? "PCI NIC" : "NIC",
                nic_id, message);
  } else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "%s %u: %s",
                nic->kind == PP_VM_NIC_PCI ? "PCI NIC" : "NIC", nic_id, message);
  return FALSE;
}

gboolean
api_resolve_networks(PpApiCall *call, PpVmSpec *spec, GError **error)
{
  for (guint i = 0; i < spec->nics->len; i++) {
    PpVmNic *nic = g_ptr_array_index(spec->nics, i);
    g_autoptr(PpNetwork) network = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *key = NULL;

    if (nic->network == NULL && nic->network_id <= 0)
      continue;
    key = nic->network != NULL ? g_strdup(nic->network)
                               : g_strdup_printf("%" G_GINT64_FORMAT, nic->network_id);
    if (nic->network != NULL)
      network = pp_store_network_find(call->ctx->store, key, nic->network_uname,
                                      call->user->admin ? 0 : call->user->id, &local);
    else {
      network = pp_store_network_get(call->ctx->store, nic->network_id, &local);
      if (network != NULL && !call->user->admin && network->owner_id != call->user->id &&
          !network->shared) {
        g_clear_pointer(&network, pp_network_free);
        g_set_error(&local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                    "no network %" G_GINT64_FORMAT, nic->network_id);
      }
    }
    if (network == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND) &&
          !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_INVALID)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      return nic_fail(call, nic, i, error, "%s (`pcipass net list` shows the networks you may use)",
                      local->message);
    }
    if (nic->kind == PP_VM_NIC_BRIDGE && network->spec->bridge == NULL)
      return nic_fail(call, nic, i, error,
                      "network '%s' has no BRIDGE: it serves PCI NICs only (PCI = [ TYPE = "
                      "\"NIC\", NETWORK = \"%s\", ... ])",
                      network->name, network->name);
    if (nic->kind == PP_VM_NIC_BRIDGE && network->spec->vn_mad == PP_NETWORK_VN_MAD_8021Q &&
        (network->spec->phydev == NULL || network->spec->phydev[0] == '\0'))
      return nic_fail(call, nic, i, error,
                      "network '%s' is 802.1Q without PHYDEV, which serves PCI NICs only; give "
                      "it a PHYDEV (pcipass net update) to plug bridged NICs into it",
                      network->name);
    if (nic->ip != NULL) {
      PpIp4 ip;
      guint ar;
      guint32 index;

      if (pp_ip4_parse(nic->ip, &ip, NULL) &&
          !pp_network_spec_find_ip(network->spec, &ip, &ar, &index))
        return nic_fail(call, nic, i, error,
                        "IP %s is in no address range of network '%s' (`pcipass net show %s` "
                        "lists them)",
                        nic->ip, network->name, network->name);
    }
    if (nic->mac != NULL) {
      PpMac mac;
      guint ar;
      guint32 index;

      if (pp_mac_parse(nic->mac, &mac, NULL) &&
          !pp_network_spec_find_mac(network->spec, &mac, &ar, &index))
        return nic_fail(call, nic, i, error,
                        "MAC %s is in no address range of network '%s' (`pcipass net show %s` "
                        "lists them)",
                        nic->mac, network->name, network->name);
    }
    nic->network_id = network->id;
  }
  return TRUE;
}

json_t *
api_vm_nics_json(const PpApiContext *ctx, const PpVm *vm, const PpVmSpec *spec,
                 const GPtrArray *devices, GError **error)
{
  g_autoptr(GArray) leases = pp_store_vm_list_leases(ctx->store, vm->id, error);
  g_autoptr(GHashTable) networks =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)pp_network_free);
  json_t *array;

  if (leases == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; spec != NULL && i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);
    const PpStoreLease *lease = NULL;
    const PpNetwork *network = NULL;
    const char *device = NULL;
    char address[PP_PCI_ADDRESS_BUFSIZE];
    gint vlan = nic->vlan_id;
    json_t *object;

    for (guint k = 0; k < leases->len; k++)
      if (g_array_index(leases, PpStoreLease, k).nic_id == (gint)i)
        lease = &g_array_index(leases, PpStoreLease, k);
    if (nic->network_id > 0) {
      network = g_hash_table_lookup(networks, &nic->network_id);
      if (network == NULL) {
        PpNetwork *read = pp_store_network_get(ctx->store, nic->network_id, NULL);

        if (read != NULL) {
          g_hash_table_insert(networks, &read->id, read);
          network = read;
        }
      }
    }
    if (vlan < 0 && network != NULL)
      vlan = network->spec->vlan_id;
    for (guint k = 0; nic->kind == PP_VM_NIC_PCI && devices != NULL && k < devices->len; k++) {
      const PpStoreDevice *dev = g_ptr_array_index((GPtrArray *)devices, k);

      if (dev->vm_slot == nic->request)
        device = pp_pci_address_format(&dev->pci.address, address);
    }
    object = json_pack("{s:i,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "nic_id", (int)i, "kind",
                       nic->kind == PP_VM_NIC_PCI ? "pci" : "bridge", "network_id",
                       api_json_int_or_null(nic->network_id, 0), "network",
                       pp_json_text(network != NULL ? network->name : nic->network), "vlan_id",
                       api_json_int_or_null(vlan, -1), "bridge",
                       pp_json_text(nic->bridge != NULL ? nic->bridge
                                    : network != NULL   ? network->spec->bridge
                                                        : NULL),
                       "model", pp_json_text(nic->model), "device", pp_json_text(device));
    {
      PpPciAddress guest;
      char text[PP_PCI_ADDRESS_BUFSIZE];

      /* Where the domain XML puts it: fixed by the machine and NIC id. */
      json_object_set_new(object, "guest_address",
                          pp_domain_xml_nic_guest_address(spec->machine, i, &guest)
                              ? json_string(pp_pci_address_format(&guest, text))
                              : json_null());
    }
    if (lease != NULL)
      lease_addresses(object, &lease->lease);
    else {
      json_object_set_new(object, "mac", pp_json_text(nic->mac));
      json_object_set_new(object, "ip", json_null());
      json_object_set_new(object, "ip6_global", json_null());
      json_object_set_new(object, "ip6_ula", json_null());
      json_object_set_new(object, "ip6", json_null());
    }
    json_array_append_new(array, object);
  }
  return array;
}

/* GET /v1/vms/ID/context (issue 13): what the VM's context disk holds
 * (pp_vm_context_disk()): {"format": "one", "label": "CONTEXT", "files":
 * {"context.sh": TEXT}}, the files in the disk's order. */
json_t *
api_vm_context_json(const PpApiContext *ctx, const PpVm *vm, GError **error)
{
  g_autoptr(PpContextDisk) disk = pp_vm_context_disk(ctx->store, vm, error);
  json_t *files;

  if (disk == NULL)
    return NULL;
  files = json_object();
  for (guint i = 0; i < disk->files->len; i++) {
    const PpContextFile *file = g_ptr_array_index(disk->files, i);
    gsize len;
    const char *data = g_bytes_get_data(file->data, &len);

    /* Text by construction (the template is UTF-8, user data checked). */
    json_t *text = json_stringn(data, len);

    if (text == NULL) {
      json_decref(files);
      g_set_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID,
                  "the context disk's %s is not UTF-8 text", file->name);
      return NULL;
    }
    json_object_set_new(files, file->name, text);
  }
  return api_built(json_pack("{s:s,s:s,s:o}", "format",
                             disk->format == PP_VM_CONTEXT_NOCLOUD ? "nocloud" : "one", "label",
                             disk->label, "files", files),
                   error);
}
