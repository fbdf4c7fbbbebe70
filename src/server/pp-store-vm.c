/* pp-store-vm: VMs: create (typed spec), find, state changes, allocation,
 * history, usage, and the paged light lists. */
#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-spec.h"
#include "pp-store-int.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-template.h"
#include "pp-vm-spec-json.h"
#include "pp-vm-template.h"

/* ------------------------------------------------------------------------ */
/* VMs                                                                      */
/* ------------------------------------------------------------------------ */

static const char *const vm_state_names[_PP_VM_STATE_MAX] = {
  [PP_VM_STATE_PENDING] = "pending", [PP_VM_STATE_DEPLOYING] = "deploying",
  [PP_VM_STATE_RUNNING] = "running", [PP_VM_STATE_POWEROFF] = "poweroff",
  [PP_VM_STATE_UNKNOWN] = "unknown", [PP_VM_STATE_TERMINATING] = "terminating",
  [PP_VM_STATE_DONE] = "done",       [PP_VM_STATE_FAILED] = "failed",
};

const char *
pp_vm_state_to_string(PpVmState state)
{
  g_return_val_if_fail(state < _PP_VM_STATE_MAX, NULL);
  return vm_state_names[state];
}

/* The schema's CHECK lets only these names in. */
PpVmState
store_vm_state_from_string(const char *text)
{
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++)
    if (text != NULL && strcmp(vm_state_names[i], text) == 0)
      return (PpVmState)i;
  g_assert_not_reached();
  return PP_VM_STATE_FAILED;
}

void
pp_vm_free(PpVm *vm)
{
  if (vm == NULL)
    return;
  g_free(vm->name);
  g_free(vm->owner_name);
  g_free(vm->reason);
  g_free(vm->template_text);
  g_free(vm->host_name);
  g_free(vm);
}

static PpVm *
vm_from_row(PpDbStmt *stmt)
{
  PpVm *vm = g_new0(PpVm, 1);

  vm->id = pp_db_column_int64(stmt, 0);
  vm->name = store_col_strdup(stmt, 1);
  vm->owner_id = pp_db_column_int64(stmt, 2);
  vm->owner_name = store_col_strdup(stmt, 3);
  vm->state = store_vm_state_from_string(store_col_text(stmt, 4));
  vm->reason = store_col_strdup(stmt, 5);
  vm->template_text = store_col_strdup(stmt, 6);
  vm->host_id = pp_db_column_int64(stmt, 7); /* NULL reads as 0 */
  vm->host_name = store_col_strdup(stmt, 8);
  vm->cpu = pp_db_column_int64(stmt, 9);
  vm->memory_kib = pp_db_column_int64(stmt, 10);
  vm->created = pp_db_column_int64(stmt, 11);
  vm->updated = pp_db_column_int64(stmt, 12);
  vm->tries = (guint)pp_db_column_int64(stmt, 13);
  return vm;
}

static void
set_no_vm(GError **error, gint64 id)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no VM %" G_GINT64_FORMAT, id);
}

static PpVm *
vm_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a VM"))
    return vm_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    set_no_vm(error, id);
  return NULL;
}

/* The VM's state, for a check or a message: FALSE with NOT_FOUND when
 * there is no such VM. */
static gboolean
vm_state_locked(PpStore *store, gint64 id, PpVmState *ret_state, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_STATE, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a VM")) {
    *ret_state = store_vm_state_from_string(store_col_text(stmt, 0));
    return TRUE;
  }
  if (local != NULL)
    g_propagate_error(error, local);
  else
    set_no_vm(error, id);
  return FALSE;
}

/* CONFLICT: "VM 7 is running, not pending". */
static void
set_wrong_state(GError **error, gint64 id, PpVmState state, PpVmState wanted)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
              "VM %" G_GINT64_FORMAT " is %s, not %s", id, vm_state_names[state],
              vm_state_names[wanted]);
}

/* A VM name: what a template's NAME may be, 1..64 of [A-Za-z0-9._-]. */
static gboolean
check_vm_name(const char *name, GError **error)
{
  gsize len = strlen(name);

  if (len == 0 || len > NAME_MAX_LEN || strspn(name, NAME_CHARS) != len) {
    g_autofree char *escaped = g_strescape(name, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "'%s' is not a VM name: 1 to %d letters, digits, '.', '_' or '-'", escaped,
                NAME_MAX_LEN);
    return FALSE;
  }
  return TRUE;
}

/* Records the PCI requests of new VM @vm_id, inside the caller's
 * transaction. */
static gboolean
vm_requests_insert_locked(PpStore *store, gint64 vm_id, const gint *pci_classes, guint n_pci,
                          const PpVmSpec *spec, GError **error)
{
  for (guint i = 0; i < n_pci; i++) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEST_INSERT, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    pp_db_bind_int(stmt, 2, (int)i);
    if (spec != NULL) {
      const PpPciRequest *request = &g_array_index(spec->requests, PpPciRequest, i);

      store_bind_request(stmt, 4, request);
      pp_db_bind_int(stmt, 7, (int)request->pf_policy);
      if (request->nic >= 0)
        pp_db_bind_int(stmt, 8, request->nic);
    }
    if (pci_classes[i] >= 0)
      pp_db_bind_int(stmt, 3, pci_classes[i]);
    if (!store_stmt_run(store, stmt, error, "recording a VM's PCI requests"))
      return FALSE;
  }
  return TRUE;
}

/* The NICs of @spec on a network: what the network quota counts. */
static guint
spec_n_leases(const PpVmSpec *spec)
{
  guint n = 0;

  for (guint i = 0; i < spec->nics->len; i++)
    if (((const PpVmNic *)g_ptr_array_index(spec->nics, i))->network_id > 0)
      n++;
  return n;
}

/* pp_store_vm_create(), and with @spec (nullable) its typed columns. */
static PpVm *
vm_create(PpStore *store, gint64 owner_id, const char *name, const char *template_text, gint64 cpu,
          gint64 memory_kib, const gint *pci_classes, guint n_pci, const PpVmSpec *spec, gint64 now,
          GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) owner = NULL;
  g_autoptr(PpVm) vm = NULL;
  g_autofree char *domain_spec = NULL;
  gint64 id;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(template_text != NULL, NULL);
  g_return_val_if_fail(pci_classes != NULL || n_pci == 0, NULL);
  g_return_val_if_fail(n_pci <= G_MAXINT, NULL);

  if (name != NULL && !check_vm_name(name, error))
    return NULL;
  if (strlen(template_text) > PP_TEMPLATE_MAX_SIZE || !g_utf8_validate(template_text, -1, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a VM template is UTF-8 of at most %d bytes", PP_TEMPLATE_MAX_SIZE);
    return NULL;
  }
  if (cpu < 0 || memory_kib < 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a VM's CPU (%" G_GINT64_FORMAT ") and memory (%" G_GINT64_FORMAT
                " KiB) cannot be negative",
                cpu, memory_kib);
    return NULL;
  }
  for (guint i = 0; i < n_pci; i++) {
    if (pci_classes[i] > 0xffff) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "PCI[%u]: class %d is not 16 bits (class and subclass)", i, pci_classes[i]);
      return NULL;
    }
  }
  /* The check and the insert in one transaction: clients that race for a
   * user's last VM are serialized here, and one gets it. */
  if (!store_txn_begin(store, &txn, "creating a VM", error))
    return NULL;
  owner = store_user_lookup(store, owner_id, NULL, error);
  if (owner == NULL ||
      !store_quota_check_locked(store, owner, 0, cpu, memory_kib, pci_classes, n_pci,
                                spec != NULL ? spec_n_leases(spec) : 0, error))
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_INSERT, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, name);
    pp_db_bind_int64(stmt, 2, owner_id);
    store_bind_text(stmt, 3, template_text);
    pp_db_bind_int64(stmt, 4, cpu);
    pp_db_bind_int64(stmt, 5, memory_kib);
    pp_db_bind_int64(stmt, 6, now);
    /* Bound as static text: it lives until the statement ran. */
    if (spec != NULL) {
      domain_spec = pp_vm_spec_domain_to_json(spec);
      if (spec->host_id > 0)
        pp_db_bind_int64(stmt, 7, spec->host_id);
      store_bind_text(stmt, 8, spec->host_name);
      store_bind_text(stmt, 9, domain_spec);
    }
    if (!store_stmt_insert(store, stmt, &id, error, "creating a VM"))
      return NULL;
  }
  if (!vm_requests_insert_locked(store, id, pci_classes, n_pci, spec, error) ||
      (spec != NULL && !store_vm_nics_insert_locked(store, id, spec, error)))
    return NULL;
  if (name == NULL) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_NAME_DEFAULT, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, id);
    if (!store_stmt_run(store, stmt, error, "naming a VM"))
      return NULL;
  }
  vm = vm_get(store, id, error);
  if (vm == NULL || !store_txn_commit(&txn, "creating a VM", error))
    return NULL;
  g_debug("VM %" G_GINT64_FORMAT " '%s': created for '%s'", vm->id, vm->name, owner->name);
  return g_steal_pointer(&vm);
}

PpVm *
pp_store_vm_create(PpStore *store, gint64 owner_id, const char *name, const char *template_text,
                   gint64 cpu, gint64 memory_kib, const gint *pci_classes, guint n_pci, gint64 now,
                   GError **error)
{
  return vm_create(store, owner_id, name, template_text, cpu, memory_kib, pci_classes, n_pci, NULL,
                   now, error);
}

PpVm *
pp_store_vm_create_spec(PpStore *store, gint64 owner_id, const char *template_text,
                        const PpVmSpec *spec, gint64 now, GError **error)
{
  g_autoptr(GArray) classes = NULL;

  g_return_val_if_fail(spec != NULL, NULL);

  classes = g_array_sized_new(FALSE, FALSE, sizeof(gint), spec->requests->len);
  for (guint i = 0; i < spec->requests->len; i++)
    g_array_append_val(classes, g_array_index(spec->requests, PpPciRequest, i).class_code);
  return vm_create(store, owner_id, spec->name, template_text, spec->cpu,
                   (gint64)spec->memory_mib * 1024, (const gint *)(void *)classes->data,
                   classes->len, spec, now, error);
}

/* The typed PCI requests of VM @vm_id, appended to @spec. */
static gboolean
vm_spec_requests(PpStore *store, gint64 vm_id, PpVmSpec *spec, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUESTS_TYPED, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  while (store_stmt_next(store, stmt, &local, "reading a VM's PCI requests")) {
    PpPciRequest request = { -1, -1, -1, FALSE, { 0 }, NULL, PP_PF_POLICY_NONE, -1 };
    gint *fields[] = { &request.class_code, &request.vendor, &request.device };

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
      if (!pp_db_column_is_null(stmt, (int)i))
        *fields[i] = pp_db_column_int(stmt, (int)i);
    }
    if (!pp_db_column_is_null(stmt, 3)) {
      request.by_address = TRUE;
      store_address_unpack(pp_db_column_int64(stmt, 3), &request.address);
    }
    request.pf_policy =
        (PpPfPolicy)CLAMP(pp_db_column_int(stmt, 4), PP_PF_POLICY_NONE, PP_PF_POLICY_SPREAD);
    if (!pp_db_column_is_null(stmt, 5))
      request.nic = pp_db_column_int(stmt, 5);
    pp_vm_spec_add_request(spec, &request);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

PpVmSpec *
pp_store_vm_get_spec(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(PpVmSpec) spec = NULL;
  GError *local = NULL;
  const char *domain_spec;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_VM_SPEC, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, vm_id);
  if (!store_stmt_next(store, stmt, &local, "reading a VM's spec")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      set_no_vm(error, vm_id);
    return NULL;
  }
  domain_spec = store_col_text(stmt, 5);
  if (domain_spec == NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "VM %" G_GINT64_FORMAT " has no spec: its template did not parse when the store "
                "was upgraded; terminate it and create it again",
                vm_id);
    return NULL;
  }
  spec = pp_vm_spec_new();
  spec->name = g_strdup(store_col_text(stmt, 0));
  spec->cpu = pp_db_column_int64(stmt, 1);
  spec->memory_mib = (guint64)pp_db_column_int64(stmt, 2) / 1024;
  spec->host_id = pp_db_column_int64(stmt, 3);
  spec->host_name = g_strdup(store_col_text(stmt, 4));
  if (!pp_vm_spec_domain_from_json(spec, domain_spec, &local)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED, "VM %" G_GINT64_FORMAT ": %s", vm_id,
                local->message);
    g_error_free(local);
    return NULL;
  }
  g_clear_pointer(&stmt, store_stmt_release);
  if (!vm_spec_requests(store, vm_id, spec, error))
    return NULL;
  return g_steal_pointer(&spec);
}

gboolean
pp_store_vm_set_domain_xml(PpStore *store, gint64 vm_id, const char *xml, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  stmt = store_stmt(store, STMT_VM_SET_DOMAIN_XML, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  store_bind_text(stmt, 2, xml);
  if (!store_stmt_run(store, stmt, error, "recording a VM's domain XML"))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    set_no_vm(error, vm_id);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_vm_get_domain_xml(PpStore *store, gint64 vm_id, char **ret_xml, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL && ret_xml != NULL, FALSE);

  stmt = store_stmt(store, STMT_VM_DOMAIN_XML, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  if (!store_stmt_next(store, stmt, &local, "reading a VM's domain XML")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      set_no_vm(error, vm_id);
    return FALSE;
  }
  *ret_xml = g_strdup(store_col_text(stmt, 0));
  return TRUE;
}

PpVm *
pp_store_vm_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return vm_get(store, id, error);
}

/* The most ids an error about an ambiguous VM name lists. */
#define AMBIGUOUS_IDS_MAX 10

/* "4, 9, 12", or "4, 9, ... (25 in all)" past AMBIGUOUS_IDS_MAX. */
char *
store_ids_text(const GArray *ids)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < ids->len && i < AMBIGUOUS_IDS_MAX; i++)
    g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
                           g_array_index(ids, gint64, i));
  if (ids->len > AMBIGUOUS_IDS_MAX)
    g_string_append_printf(out, ", ... (%u in all)", ids->len);
  return g_string_free(out, FALSE);
}

/* The VM named @name among @owner_id's (0: everyone's): its id, 0 when
 * none has that name, or -1 with INVALID when the name is ambiguous. See
 * pp_store_vm_find() for the rule. */
static gint64
vm_id_by_name(PpStore *store, const char *name, gint64 owner_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_FIND_BY_NAME, error);
  g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) done = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree char *list = NULL;
  GError *local = NULL;

  if (stmt == NULL)
    return -1;
  store_bind_text(stmt, 1, name);
  pp_db_bind_int64(stmt, 2, owner_id);
  while (store_stmt_next(store, stmt, &local, "finding a VM by name")) {
    gint64 id = pp_db_column_int64(stmt, 0);

    g_array_append_val(
        store_vm_state_from_string(store_col_text(stmt, 1)) == PP_VM_STATE_DONE ? done : live, id);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return -1;
  }
  if (live->len == 1)
    return g_array_index(live, gint64, 0);
  if (live->len == 0 && done->len <= 1)
    return done->len == 1 ? g_array_index(done, gint64, 0) : 0;
  list = store_ids_text(live->len > 0 ? live : done);
  if (live->len > 0)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%u VMs are named '%s' (ids %s): use an id", live->len, name, list);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%u VMs named '%s' are done (ids %s): use an id", done->len, name, list);
  return -1;
}

PpVm *
pp_store_vm_find(PpStore *store, const char *key, gint64 owner_id, GError **error)
{
  gsize len;
  guint64 number;
  gint64 id;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(key != NULL, NULL);

  /* An id first: "12" is VM 12 when the caller may see it, even when one
   * of the caller's VMs is named "12". */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &number, NULL)) {
    PpVm *vm = vm_get(store, (gint64)number, &local);

    if (vm != NULL && (owner_id == 0 || vm->owner_id == owner_id))
      return vm;
    pp_vm_free(vm);
    if (local != NULL && !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_propagate_error(error, local);
      return NULL;
    }
    g_clear_error(&local);
  }
  len = strlen(key);
  if (len > 0 && len <= NAME_MAX_LEN && strspn(key, NAME_CHARS) == len) {
    id = vm_id_by_name(store, key, owner_id, error);
    if (id < 0)
      return NULL;
    if (id > 0)
      return vm_get(store, id, error);
  }
  /* Another user's VM is not found either: the same words as for none. */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &number, NULL)) {
    set_no_vm(error, (gint64)number);
  } else {
    g_autofree char *escaped = g_strescape(key, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no VM '%s'", escaped);
  }
  return NULL;
}

GPtrArray *
pp_store_vm_list(PpStore *store, gint64 owner_id, guint states, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) vms = NULL;
  GError *local = NULL;
  int param = 2;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(states >> _PP_VM_STATE_MAX == 0, NULL);

  stmt = store_stmt(store, STMT_VM_LIST, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, owner_id);
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++)
    if (states & (1u << i))
      store_bind_text(stmt, param++, vm_state_names[i]);
  vms = g_ptr_array_new_with_free_func((GDestroyNotify)pp_vm_free);
  while (store_stmt_next(store, stmt, &local, "listing VMs"))
    g_ptr_array_add(vms, vm_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&vms);
}

static gpointer
vm_row(PpDbStmt *stmt)
{
  return vm_from_row(stmt);
}

GPtrArray *
pp_store_vm_list_on_host(PpStore *store, gint64 host_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store_rows_list(store, STMT_VM_LIST_ON_HOST, host_id, vm_row, (GDestroyNotify)pp_vm_free,
                         "listing a host's VMs", error);
}

/* Why the device @device_id could not go to VM @vm_id on host @host_id:
 * CONFLICT naming the device, its host and its holder. */
static void
set_device_refused(PpStore *store, gint64 vm_id, gint64 host_id, const char *host_name,
                   gint64 device_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_HOLDER, error);
  GError *local = NULL;
  const char *address;
  gint64 holder;

  if (stmt == NULL)
    return;
  pp_db_bind_int64(stmt, 1, device_id);
  if (!store_stmt_next(store, stmt, &local, "reading a device")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "device %" G_GINT64_FORMAT " is no longer in the inventory", device_id);
    return;
  }
  address = store_col_text(stmt, 0);
  holder = pp_db_column_int64(stmt, 3);
  if (pp_db_column_int64(stmt, 1) != host_id)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s is on host '%s', not on host '%s'", address, store_col_text(stmt, 2),
                host_name);
  else if (holder == vm_id)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is given twice", address, host_name);
  else if (pp_db_column_int(stmt, 4) != 0)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is gone (held by VM %" G_GINT64_FORMAT ")", address,
                host_name, holder);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is held by VM %" G_GINT64_FORMAT, address, host_name,
                holder);
}

/* The body of pp_store_vm_allocate(), inside its transaction. The VM
 * gets its host first: the schema lets a VM hold devices of its own host
 * only. */
static gboolean
vm_allocate_locked(PpStore *store, gint64 vm_id, gint64 host_id, const char *host_name,
                   const gint64 *device_ids, guint n_devices, gint64 now, GError **error)
{
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_ALLOCATE, error);
    g_autofree char *reason = g_strdup_printf("placed on host '%s' with %u device%s", host_name,
                                              n_devices, n_devices == 1 ? "" : "s");

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    pp_db_bind_int64(stmt, 2, host_id);
    pp_db_bind_int64(stmt, 3, now);
    store_bind_text(stmt, 4, reason);
    if (!store_stmt_run(store, stmt, error, "allocating a VM"))
      return FALSE;
    /* Checked pending in this transaction. */
    g_assert(pp_db_changes(store->db) == 1);
  }
  for (guint i = 0; i < n_devices; i++) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_ALLOCATE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, device_ids[i]);
    pp_db_bind_int64(stmt, 2, vm_id);
    pp_db_bind_int(stmt, 3, (int)i);
    pp_db_bind_int64(stmt, 4, host_id);
    if (!store_stmt_run(store, stmt, error, "allocating a device"))
      return FALSE;
    if (pp_db_changes(store->db) != 1) {
      set_device_refused(store, vm_id, host_id, host_name, device_ids[i], error);
      return FALSE;
    }
  }
  /* The leases of its NICs, in the same transaction (issue 12). */
  return store_vm_leases_take_locked(store, vm_id, error);
}

gboolean
pp_store_vm_allocate(PpStore *store, gint64 vm_id, gint64 host_id, const gint64 *device_ids,
                     guint n_devices, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *host_name = NULL;
  PpVmState state;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(device_ids != NULL || n_devices == 0, FALSE);
  g_return_val_if_fail(n_devices <= G_MAXINT, FALSE);

  if (!store_txn_begin(store, &txn, "allocating a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != PP_VM_STATE_PENDING) {
    set_wrong_state(error, vm_id, state, PP_VM_STATE_PENDING);
    return FALSE;
  }
  host_name = store_host_name_locked(store, host_id, NULL, error);
  if (host_name == NULL)
    return FALSE;
  /* On failure the transaction rolls back: nothing allocated. */
  if (!vm_allocate_locked(store, vm_id, host_id, host_name, device_ids, n_devices, now, error) ||
      !store_txn_commit(&txn, "allocating a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": allocated on host '%s' with %u devices", vm_id, host_name,
          n_devices);
  return TRUE;
}

gboolean
pp_store_vm_transition(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to,
                       const char *reason, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  g_autofree char *what = NULL;
  PpVmState state;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX && to < _PP_VM_STATE_MAX, FALSE);

  text = store_vm_reason_text(reason);
  what = g_strdup_printf("moving VM %" G_GINT64_FORMAT " from %s to %s", vm_id,
                         vm_state_names[from], vm_state_names[to]);
  if (!store_txn_begin(store, &txn, what, error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != from) {
    set_wrong_state(error, vm_id, state, from);
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_TRANSITION, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    store_bind_text(stmt, 2, vm_state_names[from]);
    store_bind_text(stmt, 3, vm_state_names[to]);
    store_bind_text(stmt, 4, text);
    pp_db_bind_int64(stmt, 5, now);
    /* The schema refuses a move that would leave a host to a VM that
     * holds nothing, or none to one that holds: release, allocate. */
    if (!store_stmt_run(store, stmt, error, what))
      return FALSE;
  }
  if (!store_txn_commit(&txn, what, error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> %s", vm_id, vm_state_names[from], vm_state_names[to]);
  return TRUE;
}

/* Frees what VM @vm_id holds, inside the caller's transaction: its gone
 * devices are deleted (nothing holds them once freed), the others freed.
 * The VM's row is the caller's to change next. */
static gboolean
vm_free_devices_locked(PpStore *store, gint64 vm_id, guint *ret_freed, guint *ret_deleted,
                       GError **error)
{
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_DELETE_GONE_OF_VM, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    if (!store_stmt_run(store, stmt, error, "releasing a VM: deleting its gone devices"))
      return FALSE;
    *ret_deleted = (guint)pp_db_changes(store->db);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_FREE_OF_VM, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    if (!store_stmt_run(store, stmt, error, "releasing a VM: freeing its devices"))
      return FALSE;
    *ret_freed = (guint)pp_db_changes(store->db);
  }
  /* Its leases go with its devices (issue 12). */
  return store_vm_leases_free_locked(store, vm_id, error);
}

/* pp_store_vm_release(), and pp_store_vm_release_from() when @from is a
 * state (else _PP_VM_STATE_MAX: whatever its state). */
static gboolean
vm_release(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to, const char *reason,
           gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  PpVmState state;
  guint deleted, freed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(to == PP_VM_STATE_DONE || to == PP_VM_STATE_FAILED, FALSE);

  text = store_vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "releasing a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (from != _PP_VM_STATE_MAX && state != from) {
    set_wrong_state(error, vm_id, state, from);
    return FALSE;
  }
  if (!vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_RELEASE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    store_bind_text(stmt, 2, vm_state_names[to]);
    store_bind_text(stmt, 3, text);
    pp_db_bind_int64(stmt, 4, now);
    if (!store_stmt_run(store, stmt, error, "releasing a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "releasing a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> %s, %u devices freed, %u gone ones deleted", vm_id,
          vm_state_names[state], vm_state_names[to], freed, deleted);
  return TRUE;
}

gboolean
pp_store_vm_release(PpStore *store, gint64 vm_id, PpVmState to, const char *reason, gint64 now,
                    GError **error)
{
  return vm_release(store, vm_id, _PP_VM_STATE_MAX, to, reason, now, error);
}

gboolean
pp_store_vm_release_from(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to,
                         const char *reason, gint64 now, GError **error)
{
  g_return_val_if_fail(from < _PP_VM_STATE_MAX, FALSE);
  return vm_release(store, vm_id, from, to, reason, now, error);
}

gboolean
pp_store_vm_requeue(PpStore *store, gint64 vm_id, PpVmState from, const char *reason,
                    gboolean count_try, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  PpVmState state;
  guint deleted, freed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX, FALSE);

  text = store_vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "requeueing a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != from) {
    set_wrong_state(error, vm_id, state, from);
    return FALSE;
  }
  if (!vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEUE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    store_bind_text(stmt, 2, text);
    pp_db_bind_int64(stmt, 3, now);
    pp_db_bind_int(stmt, 4, count_try ? 1 : 0);
    if (!store_stmt_run(store, stmt, error, "requeueing a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "requeueing a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> pending, %u devices freed, %u gone ones deleted", vm_id,
          vm_state_names[state], freed, deleted);
  return TRUE;
}

/* The CLASS of each PCI request of VM @vm_id, in order (-1: none). */
static GArray *
vm_requests_locked(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUESTS, error);
  g_autoptr(GArray) classes = g_array_new(FALSE, FALSE, sizeof(gint));
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, vm_id);
  while (store_stmt_next(store, stmt, &local, "reading a VM's PCI requests")) {
    gint c = pp_db_column_is_null(stmt, 0) ? -1 : pp_db_column_int(stmt, 0);

    g_array_append_val(classes, c);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&classes);
}

gboolean
pp_store_vm_retry(PpStore *store, gint64 vm_id, PpVmState from, const char *reason, gint64 now,
                  GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  g_autoptr(PpVm) vm = NULL;
  g_autoptr(PpUser) owner = NULL;
  g_autoptr(GArray) classes = NULL;
  guint deleted, freed, n_leases = 0;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX, FALSE);

  text = store_vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "retrying a VM", error))
    return FALSE;
  vm = vm_get(store, vm_id, error);
  if (vm == NULL)
    return FALSE;
  if (vm->state != from) {
    set_wrong_state(error, vm_id, vm->state, from);
    return FALSE;
  }
  owner = store_user_lookup(store, vm->owner_id, NULL, error);
  if (owner == NULL)
    return FALSE;
  classes = vm_requests_locked(store, vm_id, error);
  if (classes == NULL || !store_vm_nic_count_locked(store, vm_id, &n_leases, error) ||
      !store_quota_check_locked(store, owner, vm_id, vm->cpu, vm->memory_kib,
                                (const gint *)(void *)classes->data, classes->len, n_leases,
                                error) ||
      !vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEUE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    store_bind_text(stmt, 2, text);
    pp_db_bind_int64(stmt, 3, now);
    pp_db_bind_int(stmt, 4, 0);
    if (!store_stmt_run(store, stmt, error, "retrying a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "retrying a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> pending (retry), %u devices freed, %u gone ones deleted",
          vm_id, vm_state_names[from], freed, deleted);
  return TRUE;
}

void
pp_vm_change_free(PpVmChange *change)
{
  if (change == NULL)
    return;
  g_free(change->from_state);
  g_free(change->to_state);
  g_free(change->reason);
  g_free(change->host_name);
  g_free(change);
}

static gpointer
change_from_row(PpDbStmt *stmt)
{
  PpVmChange *c = g_new0(PpVmChange, 1);

  c->at = pp_db_column_int64(stmt, 0);
  c->from_state = store_col_strdup(stmt, 1);
  c->to_state = store_col_strdup(stmt, 2);
  c->reason = store_col_strdup(stmt, 3);
  c->host_name = store_col_strdup(stmt, 4);
  return c;
}

GPtrArray *
pp_store_vm_list_history(PpStore *store, gint64 vm_id, GError **error)
{
  PpVmState state;

  g_return_val_if_fail(store != NULL, NULL);

  if (!vm_state_locked(store, vm_id, &state, error))
    return NULL;
  return store_rows_list(store, STMT_VM_HISTORY, vm_id, change_from_row,
                         (GDestroyNotify)pp_vm_change_free, "reading a VM's history", error);
}

GPtrArray *
pp_store_vm_list_devices(PpStore *store, gint64 vm_id, GError **error)
{
  PpVmState state;

  g_return_val_if_fail(store != NULL, NULL);

  if (!vm_state_locked(store, vm_id, &state, error))
    return NULL;
  return store_device_list(store, STMT_DEV_LIST_VM, vm_id, "listing a VM's devices", error);
}

GPtrArray *
pp_store_device_list_all(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store_device_list(store, STMT_DEV_LIST_ALL, 0, "listing every device", error);
}

gboolean
store_usage_rows_into(PpStore *store, StoreStmt *stmt, GHashTable *usage, const char *what,
                      GError **error)
{
  GError *local = NULL;

  while (store_stmt_next(store, stmt, &local, what)) {
    gint64 *host_id = g_new(gint64, 1);
    PpHostUsage *used = g_new0(PpHostUsage, 1);

    *host_id = pp_db_column_int64(stmt, 0);
    used->cpu = pp_db_column_int64(stmt, 1);
    used->memory_kib = pp_db_column_int64(stmt, 2);
    g_hash_table_insert(usage, host_id, used);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

GHashTable *
pp_store_host_usage(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GHashTable) usage = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_HOST_USAGE, error);
  if (stmt == NULL)
    return NULL;
  usage = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  if (!store_usage_rows_into(store, stmt, usage, "summing what the hosts' VMs hold", error))
    return NULL;
  return g_steal_pointer(&usage);
}

GHashTable *
pp_store_vm_host_ids(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GHashTable) ids = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_VM_HOST_IDS, error);
  if (stmt == NULL)
    return NULL;
  ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  while (store_stmt_next(store, stmt, &local, "listing the VMs on hosts")) {
    gint64 vm_id = pp_db_column_int64(stmt, 0), host_id = pp_db_column_int64(stmt, 1);

    g_hash_table_insert(ids, g_memdup2(&vm_id, sizeof(vm_id)),
                        g_memdup2(&host_id, sizeof(host_id)));
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&ids);
}

/* ------------------------------------------------------------------------ */
/* Paged lists                                                              */
/* ------------------------------------------------------------------------ */

gboolean
pp_vm_state_from_string(const char *text, PpVmState *ret_state)
{
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++) {
    if (text != NULL && strcmp(vm_state_names[i], text) == 0) {
      *ret_state = (PpVmState)i;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
pp_host_state_from_string(const char *text, PpHostState *ret_state)
{
  for (guint i = 0; i < _PP_HOST_STATE_MAX; i++) {
    if (text != NULL && strcmp(host_state_names[i], text) == 0) {
      *ret_state = (PpHostState)i;
      return TRUE;
    }
  }
  return FALSE;
}

void
pp_vm_row_free(PpVmRow *row)
{
  if (row == NULL)
    return;
  g_free(row->name);
  g_free(row->owner_name);
  g_free(row->reason);
  g_free(row->host_name);
  g_free(row);
}

/* Appends the ids @stmt (bound) gives to @ids. */
static gboolean
page_read_ids(PpStore *store, StoreStmt *stmt, GArray *ids, GError **error)
{
  GError *local = NULL;

  while (store_stmt_next(store, stmt, &local, "listing a page")) {
    gint64 id = pp_db_column_int64(stmt, 0);

    g_array_append_val(ids, id);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

static gint
compare_ids(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

/* @ids, read state by state, sorted and cut to the page's @limit + 1 (one
 * more than the page, to know whether another follows). */
static void
page_cut(GArray *ids, guint limit)
{
  g_array_sort(ids, compare_ids);
  if (ids->len > limit + 1)
    g_array_set_size(ids, limit + 1);
}

/* The ids of a page of VMs, @page->limit + 1 at most. */
static gboolean
vm_page_ids(PpStore *store, const PpStorePage *page, GArray *ids, GError **error)
{
  guint all = (1u << _PP_VM_STATE_MAX) - 1;
  gint64 limit = (gint64)page->limit + 1;

  if (page->host_id != 0) {
    g_autoptr(StoreStmt) stmt = store_page_stmt(store, PAGE_VM_IDS_HOST, error);
    g_autoptr(GString) states = NULL;

    if (stmt == NULL)
      return FALSE;
    if (page->states != 0 && page->states != all) {
      states = g_string_new(",");
      for (guint s = 0; s < _PP_VM_STATE_MAX; s++)
        if (page->states & (1u << s))
          g_string_append_printf(states, "%s,", vm_state_names[s]);
    }
    pp_db_bind_int64(stmt, 1, page->host_id);
    pp_db_bind_int64(stmt, 2, page->after);
    pp_db_bind_int64(stmt, 3, limit);
    pp_db_bind_int64(stmt, 4, page->owner_id);
    store_bind_text(stmt, 5, states != NULL ? states->str : NULL);
    return page_read_ids(store, stmt, ids, error);
  }
  if (page->states == 0 || page->states == all) {
    g_autoptr(StoreStmt) stmt =
        store_page_stmt(store, page->owner_id != 0 ? PAGE_VM_IDS_OWNER : PAGE_VM_IDS, error);
    int p = 1;

    if (stmt == NULL)
      return FALSE;
    if (page->owner_id != 0)
      pp_db_bind_int64(stmt, p++, page->owner_id);
    pp_db_bind_int64(stmt, p++, page->after);
    pp_db_bind_int64(stmt, p, limit);
    return page_read_ids(store, stmt, ids, error);
  }
  /* One index range per state, merged: SQLite would otherwise read every
   * VM in those states and sort them. */
  for (guint s = 0; s < _PP_VM_STATE_MAX; s++) {
    g_autoptr(StoreStmt) stmt = NULL;
    int p = 1;

    if (!(page->states & (1u << s)))
      continue;
    stmt = store_page_stmt(store, page->owner_id != 0 ? PAGE_VM_IDS_OWNER_STATE : PAGE_VM_IDS_STATE,
                           error);
    if (stmt == NULL)
      return FALSE;
    if (page->owner_id != 0)
      pp_db_bind_int64(stmt, p++, page->owner_id);
    store_bind_text(stmt, p++, vm_state_names[s]);
    pp_db_bind_int64(stmt, p++, page->after);
    pp_db_bind_int64(stmt, p, limit);
    if (!page_read_ids(store, stmt, ids, error))
      return FALSE;
  }
  return TRUE;
}

static PpVmRow *
vm_row_from_row(PpDbStmt *stmt)
{
  PpVmRow *row = g_new0(PpVmRow, 1);

  row->id = pp_db_column_int64(stmt, 0);
  row->name = store_col_strdup(stmt, 1);
  row->owner_id = pp_db_column_int64(stmt, 2);
  row->owner_name = store_col_strdup(stmt, 3);
  row->state = store_vm_state_from_string(store_col_text(stmt, 4));
  row->reason = store_col_strdup(stmt, 5);
  row->host_id = pp_db_column_int64(stmt, 6); /* NULL reads as 0 */
  row->host_name = store_col_strdup(stmt, 7);
  row->cpu = pp_db_column_int64(stmt, 8);
  row->memory_kib = pp_db_column_int64(stmt, 9);
  row->devices = (guint)pp_db_column_int64(stmt, 10);
  row->created = pp_db_column_int64(stmt, 11);
  row->updated = pp_db_column_int64(stmt, 12);
  row->tries = (guint)pp_db_column_int64(stmt, 13);
  return row;
}

/* The next cursor of a page read as @ids (@limit + 1 at most): the last
 * id of the page when one more row follows, else 0. */
static gint64
page_next(const GArray *ids, guint limit)
{
  return ids->len > limit ? g_array_index(ids, gint64, limit - 1) : 0;
}

/* The statement that reads rows of a page by their ids (?1 .. ?N, N the
 * page_rows() caller's @at_once), in id order. */
typedef StoreStmt *(*PageRowStmt)(PpStore *store, GError **error);

static StoreStmt *
vm_rows_stmt(PpStore *store, GError **error)
{
  return store_page_stmt(store, PAGE_VM_ROWS, error);
}

static StoreStmt *
host_row_stmt(PpStore *store, GError **error)
{
  return store_stmt(store, STMT_HOST_GET, error);
}

static gpointer
vm_page_row(PpDbStmt *stmt)
{
  return vm_row_from_row(stmt);
}

static gpointer
host_page_row(PpDbStmt *stmt)
{
  return store_host_from_row(stmt);
}

/* The rows of the first @limit of @ids, sorted (read with @ids, in the
 * same turn of the main loop: a row gone since is left out), @at_once ids
 * a statement (the last one repeated to fill its parameters).
 * Returns: (transfer full) (element-type @free_func's). */
static GPtrArray *
page_rows(PpStore *store, const GArray *ids, guint limit, PageRowStmt row_stmt, guint at_once,
          RowReader read, GDestroyNotify free_func, const char *what, GError **error)
{
  guint n = MIN(ids->len, limit);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_full(n, free_func);

  for (guint i = 0; i < n; i += at_once) {
    g_autoptr(StoreStmt) stmt = row_stmt(store, error);
    GError *local = NULL;

    if (stmt == NULL)
      return NULL;
    for (guint k = 0; k < at_once; k++)
      pp_db_bind_int64(stmt, (int)k + 1, g_array_index(ids, gint64, MIN(i + k, n - 1)));
    while (store_stmt_next(store, stmt, &local, what))
      g_ptr_array_add(rows, read(stmt));
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  return g_steal_pointer(&rows);
}

GPtrArray *
pp_store_vm_page(PpStore *store, const PpStorePage *page, gint64 *ret_next, GError **error)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) rows = NULL;

  g_return_val_if_fail(store != NULL && page != NULL && ret_next != NULL, NULL);
  g_return_val_if_fail(page->limit >= 1 && page->limit <= PP_STORE_PAGE_MAX, NULL);
  g_return_val_if_fail(page->after >= 0 && page->states >> _PP_VM_STATE_MAX == 0, NULL);

  if (!vm_page_ids(store, page, ids, error))
    return NULL;
  page_cut(ids, page->limit);
  rows = page_rows(store, ids, page->limit, vm_rows_stmt, PAGE_ROWS_AT_ONCE, vm_page_row,
                   (GDestroyNotify)pp_vm_row_free, "reading a VM of a page", error);
  if (rows == NULL)
    return NULL;
  *ret_next = page_next(ids, page->limit);
  return g_steal_pointer(&rows);
}

GPtrArray *
pp_store_host_page(PpStore *store, const PpStorePage *page, gint64 *ret_next, GError **error)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) hosts = NULL;
  guint all = (1u << _PP_HOST_STATE_MAX) - 1;
  gint64 limit;

  g_return_val_if_fail(store != NULL && page != NULL && ret_next != NULL, NULL);
  g_return_val_if_fail(page->limit >= 1 && page->limit <= PP_STORE_PAGE_MAX, NULL);
  g_return_val_if_fail(page->after >= 0 && page->states >> _PP_HOST_STATE_MAX == 0, NULL);
  g_return_val_if_fail(page->owner_id == 0 && page->host_id == 0, NULL);

  limit = (gint64)page->limit + 1;
  for (guint s = 0; s < _PP_HOST_STATE_MAX; s++) {
    gboolean any = page->states == 0 || page->states == all;
    g_autoptr(StoreStmt) stmt = NULL;
    int p = 1;

    if (!any && !(page->states & (1u << s)))
      continue;
    stmt = store_page_stmt(store, any ? PAGE_HOST_IDS : PAGE_HOST_IDS_STATE, error);
    if (stmt == NULL)
      return NULL;
    if (!any)
      store_bind_text(stmt, p++, host_state_names[s]);
    pp_db_bind_int64(stmt, p++, page->after);
    pp_db_bind_int64(stmt, p, limit);
    if (!page_read_ids(store, stmt, ids, error))
      return NULL;
    if (any)
      break;
  }
  page_cut(ids, page->limit);
  hosts = page_rows(store, ids, page->limit, host_row_stmt, 1, host_page_row,
                    (GDestroyNotify)pp_host_free, "reading a host of a page", error);
  if (hosts == NULL)
    return NULL;
  *ret_next = page_next(ids, page->limit);
  return g_steal_pointer(&hosts);
}

gboolean
pp_store_vm_is_owned(PpStore *store, gint64 vm_id, gint64 owner_id, gboolean *ret_owned,
                     GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL && ret_owned != NULL, FALSE);

  stmt = store_page_stmt(store, PAGE_VM_OWNED, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  pp_db_bind_int64(stmt, 2, owner_id);
  if (!store_stmt_next(store, stmt, &local, "reading a VM's owner")) {
    if (local == NULL)
      g_set_error(&local, PP_STORE_ERROR, PP_STORE_ERROR_FAILED, "reading a VM's owner: no row");
    g_propagate_error(error, local);
    return FALSE;
  }
  *ret_owned = pp_db_column_int(stmt, 0) != 0;
  return TRUE;
}
