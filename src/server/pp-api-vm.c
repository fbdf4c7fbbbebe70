/* pp-api-vm: the handlers of /v1/vms: create, show, the paged list,
 * state changes and place. */
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

/* VMs. */

static json_t *
requests_to_json(const PpVmSpec *spec)
{
  json_t *array = json_array();

  for (guint i = 0; spec != NULL && i < spec->requests->len; i++)
    json_array_append_new(array, pp_json_text(g_array_index(spec->requests, PpPciRequest, i).text));
  return array;
}

/* A device of a VM: @request is its request's index, or -1 for a
 * companion of its IOMMU group. */
static json_t *
vm_device_to_json(const PpProbeDevice *pci, gint request)
{
  char address[PP_PCI_ADDRESS_BUFSIZE], short_address[PP_PCI_ADDRESS_BUFSIZE];
  char type[16];

  g_snprintf(type, sizeof(type), "%04x:%04x:%04x", pci->vendor, pci->device, pci->class_code);
  return json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "address",
                   pp_json_text(pp_pci_address_format(&pci->address, address)), "short_address",
                   pp_json_text(pp_pci_address_format_short(&pci->address, short_address)), "type",
                   type, "name", pp_json_text(pci->device_name), "numa_node",
                   api_json_int_or_null(pci->numa_node, -1), "iommu_group",
                   api_json_int_or_null(pci->iommu_group, -1), "request",
                   api_json_int_or_null(request, -1));
}

/* The VM's console, without its password: whether it has one. */
static json_t *
graphics_to_json(const PpVmSpec *spec)
{
  const PpVmGraphics *graphics = spec != NULL ? &spec->graphics : NULL;

  if (graphics == NULL || graphics->type == PP_VM_GRAPHICS_NONE)
    return json_null();
  return json_pack("{s:s,s:o,s:o,s:o,s:b}", "type",
                   graphics->type == PP_VM_GRAPHICS_VNC ? "vnc" : "spice", "listen",
                   pp_json_text(graphics->listen), "port", api_json_int_or_null(graphics->port, -1),
                   "keymap", pp_json_text(graphics->keymap), "password", graphics->passwd != NULL);
}

/* An explanation ([{"host_id", "host", "reason"}...], the scheduler's or
 * a dry run's) as the caller may read it: for a user, "held by another VM"
 * for a VM not its own. Takes @explanation; returns it. */
static json_t *
sight_explanation(const Sight *sight, json_t *explanation)
{
  json_t *entry;
  size_t i;

  if (sight->admin || !json_is_array(explanation))
    return explanation;
  json_array_foreach(explanation, i, entry)
  {
    const char *reason = json_string_value(json_object_get(entry, "reason"));

    if (reason != NULL) {
      g_autofree char *shown = api_sight_reason(sight, reason);

      json_object_set_new(entry, "reason", pp_json_text(shown));
    }
  }
  return explanation;
}

/* A compact explanation (pp_scheduler_explain()): per reason, its first
 * host with that host's own reason (host_id, host, reason), how many hosts
 * share it (hosts_count), what they share (summary), and the first few
 * hosts' names (hosts). */
static json_t *
explanation_to_json(const GPtrArray *groups)
{
  json_t *array = json_array();

  for (guint i = 0; i < groups->len; i++) {
    const PpPlaceReasonGroup *g = g_ptr_array_index((GPtrArray *)groups, i);
    const PpPlaceRejection *first = g_ptr_array_index(g->examples, 0);
    json_t *names = json_array();

    for (guint k = 0; k < g->examples->len; k++)
      pp_json_append(
          names, pp_json_text(((PpPlaceRejection *)g_ptr_array_index(g->examples, k))->host_name));
    pp_json_append(array,
                   json_pack("{s:I,s:o,s:o,s:I,s:o,s:o}", "host_id", (json_int_t)first->host_id,
                             "host", pp_json_text(first->host_name), "reason",
                             pp_json_text(first->reason), "hosts_count", (json_int_t)g->n_hosts,
                             "summary", pp_json_text(g->summary), "hosts", names));
  }
  return array;
}

/* A VM as the API shows it. A console's password is a secret: the
 * template and the domain XML show it as PP_VM_TEMPLATE_HIDDEN, to the
 * owner and the admin alike. Its reason and explanation as @sight lets
 * the caller read them. */
static json_t *
vm_to_json(const PpApiContext *ctx, const Sight *sight, const PpVm *vm, GError **error)
{
  /* What its create stored, typed: NULL for a VM stored with none. */
  g_autoptr(PpVmSpec) spec = pp_store_vm_get_spec(ctx->store, vm->id, NULL);
  g_autoptr(GPtrArray) devices = pp_store_vm_list_devices(ctx->store, vm->id, error);
  g_autofree char *recorded = NULL;
  g_autofree char *domain = pp_scheduler_domain_name(vm->id);
  g_autofree char *shown_template =
      pp_vm_template_redact_secrets(vm->template_text, strlen(vm->template_text));
  g_autofree char *reason = api_sight_text(sight, vm->reason);
  guint n_requests = spec ? spec->requests->len : 0;
  g_autofree char *xml = NULL;
  json_t *host = json_null();
  json_t *explanation = json_null();
  json_t *array;
  json_t *nics;

  if (devices == NULL || !pp_store_vm_get_domain_xml(ctx->store, vm->id, &recorded, error))
    return NULL;
  /* Its NICs in template order, with their leases (issue 12). */
  nics = api_vm_nics_json(ctx, vm, spec, devices, error);
  if (nics == NULL)
    return NULL;
  /* What the deployer gave libvirt, as it recorded it: null before a
   * deploy (and once the VM is placed anew). */
  if (recorded != NULL)
    xml = pp_domain_xml_redact_secrets(recorded);
  if (vm->host_id != 0)
    host =
        json_pack("{s:I,s:o}", "id", (json_int_t)vm->host_id, "name", pp_json_text(vm->host_name));
  if (vm->state == PP_VM_STATE_PENDING && ctx->scheduler != NULL) {
    g_autoptr(GPtrArray) groups = pp_scheduler_explain(ctx->scheduler, vm->id, NULL);

    if (groups != NULL)
      explanation = sight_explanation(sight, explanation_to_json(groups));
  }
  array = json_array();
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);

    pp_json_append(
        array, vm_device_to_json(&dev->pci, dev->vm_slot >= 0 && (guint)dev->vm_slot < n_requests
                                                ? dev->vm_slot
                                                : -1));
  }
  return api_built(
      json_pack("{s:I,s:o,s:o,s:s,s:o,s:o,s:f,s:i,s:I,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:I,s:I,s:i}",
                "id", (json_int_t)vm->id, "name", pp_json_text(vm->name), "owner",
                pp_json_text(vm->owner_name), "state", pp_vm_state_to_string(vm->state), "reason",
                pp_json_text(reason), "host", host, "cpu", (double)vm->cpu / 100.0, "vcpu",
                spec ? (int)spec->vcpu : 0, "memory_mib", (json_int_t)(vm->memory_kib / 1024),
                "graphics", graphics_to_json(spec), "pci_requests", requests_to_json(spec),
                "devices", array, "nics", nics, "explanation", explanation, "domain", domain,
                "domain_xml", pp_json_text(xml), "template", pp_json_text(shown_template),
                "created", (json_int_t)vm->created, "updated", (json_int_t)vm->updated, "tries",
                (int)vm->tries),
      error);
}

/* What the caller may ask of a template, by who they are: a user who is
 * not an administrator names no file of the host (DESIGN: users never
 * name host paths), nor the VLAN of a PCI NIC (it would put the VF on any
 * VLAN of its wire). And every image it names is found now, so that a bad
 * one is refused before anything is made (it is found again at deploy). */
static gboolean
check_template(PpApiCall *call, PpVmSpec *spec, GError **error)
{
  PpTextPos pos = { 0, 0 };

  if (!call->user->admin && !pp_vm_spec_check_host_paths(spec, &pos, error))
    g_message("a template of '%s' names a file of the host (%s: %s), refused", call->user->name,
              spec->host_path.attribute, spec->host_path.key);
  else if (!call->user->admin && !pp_vm_spec_check_admin_only(spec, &pos, error))
    g_message("a template of '%s' sets the VLAN of a PCI NIC (PCI: VLAN_ID), refused",
              call->user->name);
  else if (pp_images_resolve_spec(call->ctx->images, spec, &pos, error))
    /* The networks its NICs name, as this caller may use them. */
    return api_resolve_networks(call, spec, error);
  if (pos.line > 0)
    call->error_fields = json_pack("{s:i,s:i}", "line", (int)pos.line, "column", (int)pos.column);
  return FALSE;
}

/* The template of a body {"template": TEXT}, parsed, and checked for the
 * caller (check_template()). Its error answer says where, for a client
 * that names the file: "line" and "column", or "missing" (the required
 * attribute's name). */
static PpVmSpec *
body_template(PpApiCall *call, const char **ret_text, GError **error)
{
  static const char *const fields[] = { "template", NULL };
  PpVmTemplateWhere where = { { 0, 0 }, NULL };
  const char *text;
  g_autoptr(PpVmSpec) spec = NULL;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "template", PP_TEMPLATE_MAX_SIZE, TRUE, &text, error))
    return NULL;
  *ret_text = text;
  spec = pp_vm_template_parse_where(text, strlen(text), &where, error);
  if (spec == NULL && where.pos.line > 0)
    call->error_fields =
        json_pack("{s:i,s:i}", "line", (int)where.pos.line, "column", (int)where.pos.column);
  else if (spec == NULL && where.missing != NULL)
    call->error_fields = json_pack("{s:s}", "missing", where.missing);
  if (spec == NULL || !check_template(call, spec, error))
    return NULL;
  return g_steal_pointer(&spec);
}

json_t *
api_vm_create(PpApiCall *call, guint *ret_status, GError **error)
{
  const char *text;
  g_autoptr(PpVmSpec) spec = body_template(call, &text, error);
  g_autoptr(PpVm) vm = NULL;
  g_auto(Sight) sight = { 0 };

  /* What may fail goes before the create: a VM made is answered 201, or a
   * client that retries would make a second one. */
  if (spec == NULL || !api_sight_init(call, TRUE, &sight, error))
    return NULL;
  /* Parsed here, once: the store keeps it typed. */
  vm = pp_store_vm_create_spec(call->ctx->store, call->user->id, text, spec, call->now, error);
  if (vm == NULL)
    return NULL;
  g_message("VM %" G_GINT64_FORMAT " '%s' created by '%s' with %u PCI request%s", vm->id, vm->name,
            call->user->name, spec->requests->len, spec->requests->len == 1 ? "" : "s");
  if (call->ctx->scheduler != NULL)
    pp_scheduler_poke(call->ctx->scheduler);
  *ret_status = 201;
  return vm_to_json(call->ctx, &sight, vm, error);
}

/* Query @name, 0 or 1 (absent: 0). */
static gboolean
parse_flag(PpApiCall *call, const char *name, gboolean *ret, GError **error)
{
  const char *text = pp_http_request_get_query(call->req, name);

  *ret = FALSE;
  if (text == NULL || strcmp(text, "0") == 0)
    return TRUE;
  if (strcmp(text, "1") == 0) {
    *ret = TRUE;
    return TRUE;
  }
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "query '%s' must be 0 or 1", name);
  return FALSE;
}

/* The first line of @text (nullable), at most LIST_LINE_MAX characters,
 * "..." ending one cut. Returns: (transfer full) (nullable). */
static char *
first_line(const char *text)
{
  g_autofree char *valid = NULL;
  gsize len;

  if (text == NULL)
    return NULL;
  len = strcspn(text, "\n");
  valid = g_utf8_make_valid(text, (gssize)len);
  if (g_utf8_strlen(valid, -1) <= LIST_LINE_MAX && text[len] == '\0')
    return g_steal_pointer(&valid);
  if (g_utf8_strlen(valid, -1) > LIST_LINE_MAX - 3) {
    char *end = g_utf8_offset_to_pointer(valid, LIST_LINE_MAX - 3);

    *end = '\0';
  }
  return g_strconcat(valid, "...", NULL);
}

/* The first reason of a pending VM's explanation, on one line, as
 * @sight lets the caller read it (the scheduler's, kept in memory: the
 * store holds none). Returns: (transfer full) (nullable). */
static char *
row_summary(PpScheduler *scheduler, const Sight *sight, const PpVmRow *row)
{
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;

  if (scheduler == NULL || row->state != PP_VM_STATE_PENDING)
    return NULL;
  text = pp_scheduler_explain_summary(scheduler, row->id);
  if (text == NULL)
    return NULL;
  /* Hidden before cut: a URI or a VM id cut in half would not be found. */
  shown = api_sight_reason(sight, text);
  return first_line(shown);
}

/* A VM as a list shows it (pp-api.h, VM_ROW). */
static json_t *
vm_row_to_json(PpScheduler *scheduler, const Sight *sight, const PpVmRow *row)
{
  g_autofree char *reason_shown = api_sight_text(sight, row->reason);
  g_autofree char *reason = first_line(reason_shown);
  g_autofree char *summary = row_summary(scheduler, sight, row);
  json_t *host = json_null();

  if (row->host_id != 0)
    host = json_pack("{s:I,s:o}", "id", (json_int_t)row->host_id, "name",
                     pp_json_text(row->host_name));
  return json_pack(
      "{s:I,s:o,s:o,s:s,s:o,s:o,s:f,s:I,s:i,s:o,s:I,s:I,s:i}", "id", (json_int_t)row->id, "name",
      pp_json_text(row->name), "owner", pp_json_text(row->owner_name), "state",
      pp_vm_state_to_string(row->state), "reason", pp_json_text(reason), "host", host, "cpu",
      (double)row->cpu / 100.0, "memory_mib", (json_int_t)(row->memory_kib / 1024), "devices_held",
      (int)row->devices, "summary", pp_json_text(summary), "created", (json_int_t)row->created,
      "updated", (json_int_t)row->updated, "tries", (int)row->tries);
}

/* "host" (an id or a name) and "owner" (a user's name) of GET /v1/vms
 * into @page. A user lists their own VMs only: "owner" naming another is
 * 403 (naming themselves is allowed). An unknown host or owner is 400. */
static gboolean
query_vm_filters(const PpApiCall *call, PpStorePage *page, GError **error)
{
  const char *host = pp_http_request_get_query(call->req, "host");
  const char *owner = pp_http_request_get_query(call->req, "owner");

  if (host != NULL) {
    g_autoptr(GError) local = NULL;
    g_autoptr(PpHost) found = pp_store_host_find(call->ctx->store, host, &local);

    if (found == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "query 'host': no host '%.64s': give a host's id or name (GET /v1/hosts)", host);
      return FALSE;
    }
    page->host_id = found->id;
  }
  if (!call->user->admin) {
    if (owner != NULL && strcmp(owner, call->user->name) != 0) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                  "query 'owner': you may list only your own VMs ('%s'), not '%.64s'",
                  call->user->name, owner);
      return FALSE;
    }
    page->owner_id = call->user->id;
  } else if (owner != NULL) {
    g_autoptr(GError) local = NULL;
    g_autoptr(PpUser) user = pp_store_user_find(call->ctx->store, owner, &local);

    if (user == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "query 'owner': no user '%.64s': give a user's name (GET /v1/users)", owner);
      return FALSE;
    }
    page->owner_id = user->id;
  }
  return TRUE;
}

json_t *
api_vm_list(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { "limit", "after", "state", "host", "owner", "all", NULL };
  const char *all = pp_http_request_get_query(call->req, "all");
  PpStorePage page = { 0 };
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gint64 next = 0;

  if (!api_check_query(call, "GET /v1/vms", takes, error))
    return NULL;
  if (all != NULL && strcmp(all, "0") != 0 && strcmp(all, "1") != 0) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "query 'all': '%.64s' is not 0 or 1: give all=1 to list the VMs that are done "
                "too",
                all);
    return NULL;
  }
  if (!api_query_page(call, &page, error) ||
      !api_query_states(call, "VM", api_vm_state_name, _PP_VM_STATE_MAX, api_vm_state_parse,
                        &page.states, error) ||
      !query_vm_filters(call, &page, error))
    return NULL;
  /* Without "state": every VM that is not done, or every VM with all=1. */
  if (page.states == 0 && (all == NULL || strcmp(all, "0") == 0)) {
    for (int s = 0; s < _PP_VM_STATE_MAX; s++) {
      if (s != PP_VM_STATE_DONE)
        page.states |= 1u << s;
    }
  }
  rows = pp_store_vm_page(call->ctx->store, &page, &next, error);
  if (rows == NULL || !api_sight_init(call, TRUE, &sight, error))
    return NULL;
  array = json_array();
  for (guint i = 0; i < rows->len; i++) {
    if (!pp_json_append(array,
                        vm_row_to_json(call->ctx->scheduler, &sight, g_ptr_array_index(rows, i))))
      return api_built(NULL, error);
  }
  return api_page_json("vms", g_steal_pointer(&array), next, error);
}

/* The VM of the path, by id or name (pp_store_vm_find()), if the caller
 * may see it: others' VMs are 404, as if they did not exist. */
static PpVm *
find_vm(PpApiCall *call, GError **error)
{
  return pp_store_vm_find(call->ctx->store, call->args[0], call->user->admin ? 0 : call->user->id,
                          error);
}

/* Every change of the VM's state, oldest first: {"at", "from", "to",
 * "reason", "host"}. */
static json_t *
history_to_json(const Sight *sight, const GPtrArray *history)
{
  json_t *array = json_array();

  for (guint i = 0; i < history->len; i++) {
    const PpVmChange *c = g_ptr_array_index(history, i);
    g_autofree char *reason = api_sight_text(sight, c->reason);

    pp_json_append(array,
                   json_pack("{s:I,s:o,s:o,s:o,s:o}", "at", (json_int_t)c->at, "from",
                             pp_json_text(c->from_state), "to", pp_json_text(c->to_state), "reason",
                             pp_json_text(reason), "host", pp_json_text(c->host_name)));
  }
  return array;
}

json_t *
api_vm_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(json_t) json = NULL;
  g_auto(Sight) sight = { 0 };
  gboolean all_hosts = FALSE;

  if (vm == NULL || !api_sight_init(call, TRUE, &sight, error))
    return NULL;
  json = vm_to_json(call->ctx, &sight, vm, error);
  if (json == NULL)
    return NULL;
  if (!parse_flag(call, "all_hosts", &all_hosts, error))
    return NULL;
  if (all_hosts) {
    /* Host by host: as long as the cluster, so only when asked for. */
    g_autoptr(GPtrArray) rejections =
        vm->state == PP_VM_STATE_PENDING && call->ctx->scheduler != NULL
            ? pp_scheduler_explain_hosts(call->ctx->scheduler, vm->id)
            : NULL;
    json_t *array = json_null();

    if (rejections != NULL) {
      array = json_array();
      for (guint i = 0; i < rejections->len; i++) {
        const PpPlaceRejection *r = g_ptr_array_index(rejections, i);

        pp_json_append(array,
                       json_pack("{s:I,s:o,s:o}", "host_id", (json_int_t)r->host_id, "host",
                                 pp_json_text(r->host_name), "reason", pp_json_text(r->reason)));
      }
      array = sight_explanation(&sight, array);
    }
    if (json_object_set_new(json, "explanation_hosts", array) != 0)
      return api_built(NULL, error);
  }
  history = pp_store_vm_list_history(call->ctx->store, vm->id, error);
  if (history == NULL)
    return NULL;
  if (json_object_set_new(json, "history", history_to_json(&sight, history)) != 0)
    return api_built(NULL, error);
  return g_steal_pointer(&json);
}

typedef gboolean (*VmAction)(PpScheduler *scheduler, gint64 vm_id, GError **error);

/* @action, by the scheduler; on a standby, @stored instead (what the
 * store alone does: the leader's scheduler hears the change and makes the
 * calls), or, without one, a 503 naming the leader. */
static json_t *
vm_action(PpApiCall *call, VmAction action, gboolean (*stored)(PpStore *, gint64, GError **),
          const char *what, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(PpVm) after = NULL;
  g_auto(Sight) sight = { 0 };

  if (vm == NULL)
    return NULL;
  if (call->ctx->scheduler == NULL && stored != NULL) {
    if (!stored(call->ctx->store, vm->id, error))
      return NULL;
  } else if (!api_need_leader(call, what, error) || !action(call->ctx->scheduler, vm->id, error)) {
    return NULL;
  }
  g_message("VM %" G_GINT64_FORMAT " '%s': %s by '%s'", vm->id, vm->name, what, call->user->name);
  after = pp_store_vm_get(call->ctx->store, vm->id, error);
  if (after == NULL || !api_sight_init(call, TRUE, &sight, error))
    return NULL;
  *ret_status = 202;
  return vm_to_json(call->ctx, &sight, after, error);
}

json_t *
api_vm_terminate(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_terminate, pp_scheduler_terminate_stored, "terminate",
                   ret_status, error);
}

json_t *
api_vm_poweroff(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_poweroff, NULL, "poweroff", ret_status, error);
}

json_t *
api_vm_resume(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_resume, NULL, "resume", ret_status, error);
}

json_t *
api_vm_retry(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(PpVm) after = NULL;
  g_auto(Sight) sight = { 0 };

  if (vm == NULL)
    return NULL;
  if (call->ctx->scheduler == NULL
          ? !pp_scheduler_retry_stored(call->ctx->store, vm->id, call->user->name, error)
          : !pp_scheduler_retry(call->ctx->scheduler, vm->id, call->user->name, error))
    return NULL;
  g_message("VM %" G_GINT64_FORMAT " '%s': retry by '%s'", vm->id, vm->name, call->user->name);
  after = pp_store_vm_get(call->ctx->store, vm->id, error);
  if (after == NULL || !api_sight_init(call, TRUE, &sight, error))
    return NULL;
  *ret_status = 202;
  return vm_to_json(call->ctx, &sight, after, error);
}

json_t *
api_vm_place(PpApiCall *call, guint *ret_status, GError **error)
{
  const char *text;
  g_autoptr(PpVmSpec) spec = body_template(call, &text, error);
  g_autoptr(PpPlacement) placement = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gboolean fits = FALSE;

  if (spec == NULL || !api_sight_init(call, FALSE, &sight, error) ||
      !api_need_leader(call, "a dry run of the placement", error) ||
      !pp_scheduler_place_dry(call->ctx->scheduler, spec, &placement, &rejections, &fits, error))
    return NULL;
  if (!fits) {
    json_t *explanation = json_array();

    for (guint i = 0; i < rejections->len; i++) {
      const PpPlaceRejection *r = g_ptr_array_index(rejections, i);

      pp_json_append(explanation,
                     json_pack("{s:I,s:o,s:o}", "host_id", (json_int_t)r->host_id, "host",
                               pp_json_text(r->host_name), "reason", pp_json_text(r->reason)));
    }
    explanation = sight_explanation(&sight, explanation);
    return api_built(json_pack("{s:b,s:o}", "fits", FALSE, "explanation", explanation), error);
  }
  host = pp_store_host_get(call->ctx->store, placement->host_id, error);
  if (host == NULL)
    return NULL;
  devices = pp_store_host_list_devices(call->ctx->store, placement->host_id, error);
  if (devices == NULL)
    return NULL;
  array = json_array();
  for (guint pass = 0; pass < 2; pass++) {
    const GArray *ids = pass == 0 ? placement->device_ids : placement->companion_ids;

    for (guint i = 0; i < ids->len; i++) {
      gint64 id = g_array_index(ids, gint64, i);

      for (guint d = 0; d < devices->len; d++) {
        const PpStoreDevice *dev = g_ptr_array_index(devices, d);

        if (dev->id == id)
          pp_json_append(array, vm_device_to_json(&dev->pci, pass == 0 ? (gint)i : -1));
      }
    }
  }
  return api_built(json_pack("{s:b,s:{s:I,s:s},s:o,s:O}", "fits", TRUE, "host", "id",
                             (json_int_t)placement->host_id, "name", host->name, "numa_node",
                             api_json_int_or_null(placement->numa_node, -1), "devices", array),
                   error);
}

json_t *
api_vm_context(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);

  if (vm == NULL)
    return NULL;
  return api_vm_context_json(call->ctx, vm, error);
}
