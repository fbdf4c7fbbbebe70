/* pp-store-host: hosts, their report tokens, the needed devices allowed on
 * purpose and the devices set aside. */
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
/* Hosts                                                                    */
/* ------------------------------------------------------------------------ */

const char *const host_state_names[_PP_HOST_STATE_MAX] = {
  [PP_HOST_STATE_INIT] = "init",
  [PP_HOST_STATE_MONITORED] = "monitored",
  [PP_HOST_STATE_ERROR] = "error",
  [PP_HOST_STATE_DISABLED] = "disabled",
};

const char *
pp_host_state_to_string(PpHostState state)
{
  g_return_val_if_fail(state < _PP_HOST_STATE_MAX, NULL);
  return host_state_names[state];
}

/* The schema's CHECK lets only the four names in. */
PpHostState
store_host_state_from_string(const char *text)
{
  for (guint i = 0; i < _PP_HOST_STATE_MAX; i++)
    if (text != NULL && strcmp(host_state_names[i], text) == 0)
      return (PpHostState)i;
  g_assert_not_reached();
  return PP_HOST_STATE_ERROR;
}

void
pp_host_free(PpHost *host)
{
  if (host == NULL)
    return;
  g_free(host->name);
  g_free(host->ssh_user);
  g_free(host->ssh_host);
  g_free(host->libvirt_uri);
  g_strfreev(host->probe_command);
  g_free(host->error);
  g_free(host->libvirt_error);
  g_free(host->context_pool);
  g_free(host->reported_hostname);
  g_free(host->kernel_version);
  g_free(host);
}

/* The probe command's JSON array back into argv; NULL for NULL or for
 * something that is not an array of strings (the store writes only
 * those). */
static GStrv
probe_command_from_json(const char *text)
{
  g_autoptr(json_t) root = NULL;
  g_autoptr(GStrvBuilder) argv = NULL;
  json_t *arg;
  gsize i;

  if (text == NULL)
    return NULL;
  root = json_loads(text, 0, NULL);
  if (!json_is_array(root))
    return NULL;
  argv = g_strv_builder_new();
  json_array_foreach(root, i, arg)
  {
    if (!json_is_string(arg))
      return NULL;
    g_strv_builder_add(argv, json_string_value(arg));
  }
  return g_strv_builder_end(argv);
}

static char *
probe_command_to_json(const char *const *argv)
{
  g_autoptr(json_t) root = json_array();

  for (guint i = 0; argv[i] != NULL; i++)
    json_array_append_new(root, json_string(argv[i]));
  return json_dumps(root, JSON_COMPACT);
}

PpHost *
store_host_from_row(PpDbStmt *stmt)
{
  PpHost *host = g_new0(PpHost, 1);

  host->id = pp_db_column_int64(stmt, 0);
  host->name = store_col_strdup(stmt, 1);
  host->ssh_user = store_col_strdup(stmt, 2);
  host->ssh_host = store_col_strdup(stmt, 3);
  host->ssh_port = pp_db_column_int(stmt, 4);
  host->libvirt_uri = store_col_strdup(stmt, 5);
  host->probe_command = probe_command_from_json(store_col_text(stmt, 6));
  host->state = store_host_state_from_string(store_col_text(stmt, 7));
  host->error = store_col_strdup(stmt, 8);
  host->reported_hostname = store_col_strdup(stmt, 9);
  host->cpu_count = pp_db_column_int64(stmt, 10);
  host->memory_kib = pp_db_column_int64(stmt, 11);
  host->kernel_version = store_col_strdup(stmt, 12);
  host->last_monitored = pp_db_column_int64(stmt, 13);
  host->created = pp_db_column_int64(stmt, 14);
  host->prebound = pp_db_column_int(stmt, 15) != 0;
  host->pci_total = (guint)pp_db_column_int64(stmt, 16);
  host->pci_free = (guint)pp_db_column_int64(stmt, 17);
  host->libvirt_error = store_col_strdup(stmt, 18);
  host->context_pool = store_col_strdup(stmt, 19);
  return host;
}

/* One host by id; NOT_FOUND names the id. */
static PpHost *
host_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a host"))
    return store_host_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
  return NULL;
}

/* One host by name: the host, or NULL with @error set only on failure (a
 * missing host is NULL without an error). */
static PpHost *
host_get_by_name(PpStore *store, const char *name, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_GET_BY_NAME, error);

  if (stmt == NULL)
    return NULL;
  store_bind_text(stmt, 1, name);
  if (store_stmt_next(store, stmt, error, "reading a host"))
    return store_host_from_row(stmt);
  return NULL;
}

/* The rules are pp-host-spec's, which the API and the probe runner read
 * too. */
static gboolean
check_host_spec(const PpHostSpec *spec, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!store_check_name("host", spec->name, error))
    return FALSE;
  if (spec->ssh_user != NULL && spec->ssh_host == NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "host '%s': an ssh user needs an ssh host", spec->name);
    return FALSE;
  }
  if (!pp_host_spec_check_ssh_port(spec->ssh_port, &local) ||
      (spec->ssh_user != NULL && !pp_host_spec_check_ssh_user(spec->ssh_user, &local)) ||
      (spec->ssh_host != NULL && !pp_host_spec_check_ssh_host(spec->ssh_host, &local)) ||
      (spec->libvirt_uri != NULL && !pp_host_spec_check_libvirt_uri(spec->libvirt_uri, &local)) ||
      (spec->probe_command != NULL &&
       !pp_host_spec_check_probe_command(spec->probe_command, &local)) ||
      (spec->context_pool != NULL && !pp_host_spec_check_pool(spec->context_pool, &local))) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "host '%s': %s", spec->name,
                local->message);
    return FALSE;
  }
  return TRUE;
}

PpHost *
pp_store_host_create(PpStore *store, const PpHostSpec *spec, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpHost) existing = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *probe_command = NULL;
  GError *local = NULL;
  gint64 id = 0;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(spec != NULL, NULL);

  if (!check_host_spec(spec, error))
    return NULL;
  if (spec->probe_command != NULL)
    probe_command = probe_command_to_json(spec->probe_command);

  if (!store_txn_begin(store, &txn, "creating a host", error))
    return NULL;
  existing = host_get_by_name(store, spec->name, &local);
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  if (existing != NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "a host named '%s' exists (id %" G_GINT64_FORMAT ")", spec->name, existing->id);
    return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_INSERT, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, spec->name);
    store_bind_text(stmt, 2, spec->ssh_user);
    store_bind_text(stmt, 3, spec->ssh_host);
    pp_db_bind_int(stmt, 4, spec->ssh_port);
    store_bind_text(stmt, 5, spec->libvirt_uri);
    store_bind_text(stmt, 6, probe_command);
    pp_db_bind_int64(stmt, 7, now);
    pp_db_bind_int(stmt, 8, spec->prebound ? 1 : 0);
    store_bind_text(stmt, 9, spec->context_pool);
    if (!store_stmt_insert(store, stmt, &id, error, "creating a host"))
      return NULL;
  }
  host = host_get(store, id, error);
  if (host == NULL || !store_txn_commit(&txn, "creating a host", error))
    return NULL;
  g_debug("host '%s': created (id %" G_GINT64_FORMAT ")", host->name, host->id);
  return g_steal_pointer(&host);
}

GPtrArray *
pp_store_host_list(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) hosts = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_HOST_LIST, error);
  if (stmt == NULL)
    return NULL;
  hosts = g_ptr_array_new_with_free_func((GDestroyNotify)pp_host_free);
  while (store_stmt_next(store, stmt, &local, "listing hosts"))
    g_ptr_array_add(hosts, store_host_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&hosts);
}

PpHost *
pp_store_host_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return host_get(store, id, error);
}

PpHost *
pp_store_host_find(PpStore *store, const char *key, GError **error)
{
  PpHost *host = NULL;
  GError *local = NULL;
  guint64 id;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(key != NULL, NULL);

  /* An id first: "12" is host 12 even when a host is named "12". */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &id, NULL)) {
    host = host_get(store, (gint64)id, &local);
    if (host != NULL)
      return host;
    if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_propagate_error(error, local);
      return NULL;
    }
    g_clear_error(&local);
  }
  if (strlen(key) <= NAME_MAX_LEN) {
    host = host_get_by_name(store, key, &local);
    if (host != NULL)
      return host;
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  {
    g_autofree char *escaped = g_strescape(key, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no host '%s'", escaped);
  }
  return NULL;
}

/* The host's name, for messages, inside a transaction; NOT_FOUND when it
 * is gone. */
char *
store_host_name_locked(PpStore *store, gint64 id, gboolean *ret_enabled, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_NAME, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a host")) {
    if (ret_enabled != NULL)
      *ret_enabled = pp_db_column_int(stmt, 1) != 0;
    return store_col_strdup(stmt, 0);
  }
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
  return NULL;
}

/* Runs @which, an UPDATE of one host's row (?1: its id) to the flag @value
 * (?2); @what names it for errors and @done for the debug log. One
 * statement: atomic on its own. NOT_FOUND for an unknown id. */
static gboolean
host_set_flag(PpStore *store, StmtId which, gint64 id, gboolean value, const char *what,
              const char *done, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, which, error);

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, id);
  pp_db_bind_int(stmt, 2, value ? 1 : 0);
  if (!store_stmt_run(store, stmt, error, what))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  g_debug("host %" G_GINT64_FORMAT ": %s", id, done);
  return TRUE;
}

gboolean
pp_store_host_set_enabled(PpStore *store, gint64 id, gboolean enabled, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_flag(store, STMT_HOST_SET_ENABLED, id, enabled,
                       enabled ? "enabling a host" : "disabling a host",
                       enabled ? "enabled" : "disabled", error);
}

gboolean
pp_store_host_set_prebound(PpStore *store, gint64 id, gboolean prebound, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_flag(store, STMT_HOST_SET_PREBOUND, id, prebound,
                       "changing a host's hostdev mode", prebound ? "prebound" : "managed", error);
}

PpHost *
pp_store_host_update(PpStore *store, gint64 id, const PpHostUpdate *update, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpHost) host = NULL;
  g_autofree char *probe_command = NULL;
  PpHostSpec spec = { 0 };

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(update != NULL, NULL);

  if (!store_txn_begin(store, &txn, "changing a host", error))
    return NULL;
  host = host_get(store, id, error);
  if (host == NULL)
    return NULL;
  /* The host as it would be, checked as a new one is: one set of rules. */
  spec.name = host->name;
  spec.ssh_user = update->set_ssh ? update->ssh_user : host->ssh_user;
  spec.ssh_host = update->set_ssh ? update->ssh_host : host->ssh_host;
  spec.ssh_port = update->set_ssh ? update->ssh_port : host->ssh_port;
  spec.libvirt_uri = update->set_libvirt_uri ? update->libvirt_uri : host->libvirt_uri;
  spec.probe_command =
      update->set_probe_command ? update->probe_command : (const char *const *)host->probe_command;
  spec.prebound = update->set_prebound ? update->prebound : host->prebound;
  spec.context_pool = update->context_pool != NULL ? update->context_pool : host->context_pool;
  if (!check_host_spec(&spec, error))
    return NULL;
  if (spec.probe_command != NULL)
    probe_command = probe_command_to_json(spec.probe_command);
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_UPDATE, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, id);
    store_bind_text(stmt, 2, spec.ssh_user);
    store_bind_text(stmt, 3, spec.ssh_host);
    pp_db_bind_int(stmt, 4, spec.ssh_port);
    store_bind_text(stmt, 5, spec.libvirt_uri);
    store_bind_text(stmt, 6, probe_command);
    pp_db_bind_int(stmt, 7, spec.prebound ? 1 : 0);
    store_bind_text(stmt, 8, spec.context_pool);
    if (!store_stmt_run(store, stmt, error, "changing a host"))
      return NULL;
  }
  g_clear_pointer(&host, pp_host_free);
  host = host_get(store, id, error);
  if (host == NULL || !store_txn_commit(&txn, "changing a host", error))
    return NULL;
  g_debug("host '%s': settings changed", host->name);
  return g_steal_pointer(&host);
}

gboolean
pp_store_host_delete(PpStore *store, gint64 id, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;
  g_autoptr(GString) vms = g_string_new(NULL);
  guint n_vms = 0;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "deleting a host", error))
    return FALSE;
  name = store_host_name_locked(store, id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_HELD_BY, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    while (store_stmt_next(store, stmt, &local, "deleting a host")) {
      g_string_append_printf(vms, "%s%" G_GINT64_FORMAT, n_vms > 0 ? ", " : "",
                             (gint64)pp_db_column_int64(stmt, 0));
      n_vms++;
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (n_vms > 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' has devices held by %s %s; terminate %s first", name,
                n_vms == 1 ? "VM" : "VMs", vms->str, n_vms == 1 ? "it" : "them");
    return FALSE;
  }
  /* VMs on the host without devices reserve its CPU and memory. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_VMS_ON, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    while (store_stmt_next(store, stmt, &local, "deleting a host")) {
      g_string_append_printf(vms, "%s%" G_GINT64_FORMAT, n_vms > 0 ? ", " : "",
                             (gint64)pp_db_column_int64(stmt, 0));
      n_vms++;
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (n_vms > 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' has %s %s on it; terminate %s first", name, n_vms == 1 ? "VM" : "VMs",
                vms->str, n_vms == 1 ? "it" : "them");
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_DELETE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    if (!store_stmt_run(store, stmt, error, "deleting a host"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "deleting a host", error))
    return FALSE;
  g_debug("host '%s': deleted", name);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Host report tokens                                                       */
/* ------------------------------------------------------------------------ */

void
pp_host_token_free(PpHostToken *token)
{
  if (token == NULL)
    return;
  g_free(token->host_name);
  g_free(token);
}

static PpHostToken *
host_token_from_row(PpDbStmt *stmt)
{
  PpHostToken *token = g_new0(PpHostToken, 1);

  token->host_id = pp_db_column_int64(stmt, 0);
  token->host_name = store_col_strdup(stmt, 1);
  token->created = pp_db_column_int64(stmt, 2);
  token->last_used = pp_db_column_int64(stmt, 3); /* NULL reads as 0: never */
  return token;
}

gboolean
pp_store_host_token_set(PpStore *store, gint64 host_id, const char *hash, gint64 now,
                        GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_check_token_hash(hash, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "making a host's report token", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_SET, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, host_id);
    store_bind_text(stmt, 2, hash);
    pp_db_bind_int64(stmt, 3, now);
    if (!store_stmt_run(store, stmt, error, "making a host's report token")) {
      g_prefix_error(error, "host '%s': ", name);
      return FALSE;
    }
  }
  if (!store_txn_commit(&txn, "making a host's report token", error))
    return FALSE;
  g_debug("host '%s': report token made", name);
  return TRUE;
}

gboolean
pp_store_host_token_delete(PpStore *store, gint64 host_id, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "revoking a host's report token", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_DELETE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, host_id);
    if (!store_stmt_run(store, stmt, error, "revoking a host's report token"))
      return FALSE;
    if (pp_db_changes(store->db) == 0) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "host '%s' has no report token",
                  name);
      return FALSE;
    }
  }
  if (!store_txn_commit(&txn, "revoking a host's report token", error))
    return FALSE;
  g_debug("host '%s': report token revoked", name);
  return TRUE;
}

PpHostToken *
pp_store_host_token_authenticate(PpStore *store, const char *hash, gint64 now, GError **error)
{
  g_autoptr(PpHostToken) token = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (!store_check_token_hash(hash, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such host token");
    return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_BY_HASH, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, hash);
    if (!store_stmt_next(store, stmt, &local, "authenticating a host token")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such host token");
      return NULL;
    }
    token = host_token_from_row(stmt);
  }
  /* A write an hour at most per host, however often it pushes: the
   * cheap path of an unchanged report stays one read. */
  if (token->last_used == 0 || now - token->last_used >= PP_STORE_HOST_TOKEN_TOUCH_S) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_TOUCH, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, token->host_id);
    pp_db_bind_int64(stmt, 2, now);
    if (!store_stmt_run(store, stmt, error, "authenticating a host token"))
      return NULL;
    token->last_used = now;
  }
  return g_steal_pointer(&token);
}

static gpointer
host_token_row(PpDbStmt *stmt)
{
  return host_token_from_row(stmt);
}

GPtrArray *
pp_store_host_token_list(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);

  return store_rows_list(store, STMT_HOST_TOKEN_LIST, 0, host_token_row,
                         (GDestroyNotify)pp_host_token_free, "listing host report tokens", error);
}

/* Records a host's probe or libvirt failure (@id: STMT_HOST_SET_ERROR or
 * STMT_HOST_SET_LIBVIRT; ?1 the host, ?2 the message, ?3, when it has
 * one, @now): words of another machine, bounded and made UTF-8. */
static gboolean
host_set_failure(PpStore *store, StmtId id, gint64 host_id, const char *message, gint64 now,
                 const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, id, error);
  g_autofree char *text = NULL;

  if (stmt == NULL)
    return FALSE;
  if (message != NULL)
    text = g_utf8_make_valid(message, MIN(strlen(message), HOST_ERROR_MAX_LEN));
  pp_db_bind_int64(stmt, 1, host_id);
  store_bind_text(stmt, 2, text);
  if (id == STMT_HOST_SET_ERROR)
    pp_db_bind_int64(stmt, 3, now);
  if (!store_stmt_run(store, stmt, error, what))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, host_id);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_host_set_error(PpStore *store, gint64 host_id, const char *message, gint64 now,
                        GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(message != NULL, FALSE);

  return host_set_failure(store, STMT_HOST_SET_ERROR, host_id, message, now,
                          "recording a probe's failure", error);
}

gboolean
pp_store_host_set_libvirt_error(PpStore *store, gint64 host_id, const char *message, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_failure(store, STMT_HOST_SET_LIBVIRT, host_id, message, 0,
                          "recording a libvirt check", error);
}

/* ------------------------------------------------------------------------ */
/* Needed devices allowed on purpose, devices set aside                     */
/* ------------------------------------------------------------------------ */

void
pp_host_allowance_free(PpHostAllowance *allowance)
{
  if (allowance == NULL)
    return;
  g_free(allowance->address);
  g_free(allowance->by);
  g_free(allowance);
}

/* @address in the store's form (0000:00:1f.0) into @buf; INVALID names
 * what was given. */
static gboolean
normalize_address(const char *address, char buf[PP_PCI_ADDRESS_BUFSIZE], GError **error)
{
  PpPciAddress parsed;
  g_autoptr(GError) local = NULL;

  if (address == NULL || !pp_pci_address_parse(address, &parsed, &local)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "%s",
                local != NULL ? local->message : "no PCI address");
    return FALSE;
  }
  pp_pci_address_format(&parsed, buf);
  return TRUE;
}

gboolean
pp_store_host_allow(PpStore *store, gint64 host_id, const char *address, const char *by, gint64 now,
                    GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *name = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(by != NULL, FALSE);

  if (!normalize_address(address, bdf, error) ||
      !store_check_field("who allowed it", by, NAME_MAX_LEN, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "allowing a needed device", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  stmt = store_stmt(store, STMT_ALLOW_INSERT, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, host_id);
  store_bind_text(stmt, 2, bdf);
  store_bind_text(stmt, 3, by);
  pp_db_bind_int64(stmt, 4, now);
  if (!store_stmt_run(store, stmt, error, "allowing a needed device") ||
      !store_txn_commit(&txn, "allowing a needed device", error))
    return FALSE;
  g_debug("host '%s': %s allowed by '%s'", name, bdf, by);
  return TRUE;
}

gboolean
pp_store_host_disallow(PpStore *store, gint64 host_id, const char *address, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *name = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);

  if (!normalize_address(address, bdf, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "taking back an allowance", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  stmt = store_stmt(store, STMT_ALLOW_DELETE, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, host_id);
  store_bind_text(stmt, 2, bdf);
  if (!store_stmt_run(store, stmt, error, "taking back an allowance"))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "host '%s' has no allowance for %s", name, bdf);
    return FALSE;
  }
  return store_txn_commit(&txn, "taking back an allowance", error);
}

static gpointer
allowance_from_row(PpDbStmt *stmt)
{
  PpHostAllowance *a = g_new0(PpHostAllowance, 1);

  a->address = store_col_strdup(stmt, 0);
  a->by = store_col_strdup(stmt, 1);
  a->created = pp_db_column_int64(stmt, 2);
  return a;
}

GPtrArray *
pp_store_host_list_allowances(PpStore *store, gint64 host_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store_rows_list(store, STMT_ALLOW_LIST, host_id, allowance_from_row,
                         (GDestroyNotify)pp_host_allowance_free, "listing a host's allowances",
                         error);
}

gboolean
pp_store_device_set_aside(PpStore *store, gint64 host_id, const char *address, const char *reason,
                          GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *text = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(reason != NULL, FALSE);

  if (!normalize_address(address, bdf, error))
    return FALSE;
  text = store_vm_reason_text(reason);
  stmt = store_stmt(store, STMT_DEV_SET_ASIDE, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, host_id);
  store_bind_text(stmt, 2, bdf);
  store_bind_text(stmt, 3, text);
  if (!store_stmt_run(store, stmt, error, "setting a device aside"))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "host %" G_GINT64_FORMAT " has no device %s", host_id, bdf);
    return FALSE;
  }
  return TRUE;
}
