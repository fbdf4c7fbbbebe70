/* pp-store-user: users, their API tokens and their quotas. */
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
/* Users and tokens                                                         */
/* ------------------------------------------------------------------------ */

void
pp_user_free(PpUser *user)
{
  if (user == NULL)
    return;
  g_free(user->name);
  g_free(user);
}

void
pp_token_free(PpToken *token)
{
  if (token == NULL)
    return;
  g_free(token->user_name);
  g_free(token->name);
  g_free(token);
}

static PpUser *
user_from_row(PpDbStmt *stmt)
{
  PpUser *user = g_new0(PpUser, 1);

  user->id = pp_db_column_int64(stmt, 0);
  user->name = store_col_strdup(stmt, 1);
  user->admin = pp_db_column_int(stmt, 2) != 0;
  user->created = pp_db_column_int64(stmt, 3);
  return user;
}

static PpToken *
token_from_row(PpDbStmt *stmt)
{
  PpToken *token = g_new0(PpToken, 1);

  token->id = pp_db_column_int64(stmt, 0);
  token->user_id = pp_db_column_int64(stmt, 1);
  token->user_name = store_col_strdup(stmt, 2);
  token->name = store_col_strdup(stmt, 3);
  token->created = pp_db_column_int64(stmt, 4);
  token->last_used = pp_db_column_int64(stmt, 5);
  token->expires = pp_db_column_int64(stmt, 6); /* NULL reads as 0: never */
  return token;
}

/* A user by id (@name NULL) or by name: the user, or NULL with NOT_FOUND. */
PpUser *
store_user_lookup(PpStore *store, gint64 id, const char *name, GError **error)
{
  g_autoptr(StoreStmt) stmt =
      store_stmt(store, name ? STMT_USER_GET_BY_NAME : STMT_USER_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  if (name != NULL)
    store_bind_text(stmt, 1, name);
  else
    pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a user"))
    return user_from_row(stmt);
  if (local != NULL) {
    g_propagate_error(error, local);
  } else if (name != NULL) {
    g_autofree char *escaped = g_strescape(name, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no user '%s'", escaped);
  } else {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no user with id %" G_GINT64_FORMAT, id);
  }
  return NULL;
}

PpUser *
pp_store_user_create(PpStore *store, const char *name, gboolean admin, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  GError *local = NULL;
  gint64 id = 0;

  g_return_val_if_fail(store != NULL, NULL);

  if (!store_check_name("user", name, error))
    return NULL;
  if (!store_txn_begin(store, &txn, "creating a user", error))
    return NULL;
  user = store_user_lookup(store, 0, name, &local);
  if (user != NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "a user named '%s' exists (id %" G_GINT64_FORMAT ")", name, user->id);
    return NULL;
  }
  if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
    g_propagate_error(error, local);
    return NULL;
  }
  g_clear_error(&local);
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_INSERT, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, name);
    pp_db_bind_int(stmt, 2, admin ? 1 : 0);
    pp_db_bind_int64(stmt, 3, now);
    if (!store_stmt_insert(store, stmt, &id, error, "creating a user"))
      return NULL;
  }
  user = store_user_lookup(store, id, NULL, error);
  if (user == NULL || !store_txn_commit(&txn, "creating a user", error))
    return NULL;
  g_debug("user '%s': created (id %" G_GINT64_FORMAT ")", user->name, user->id);
  return g_steal_pointer(&user);
}

PpUser *
pp_store_user_find(PpStore *store, const char *name, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);
  return store_user_lookup(store, 0, name, error);
}

PpUser *
pp_store_user_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store_user_lookup(store, id, NULL, error);
}

GPtrArray *
pp_store_user_list(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) users = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_USER_LIST, error);
  if (stmt == NULL)
    return NULL;
  users = g_ptr_array_new_with_free_func((GDestroyNotify)pp_user_free);
  while (store_stmt_next(store, stmt, &local, "listing users"))
    g_ptr_array_add(users, user_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&users);
}

gboolean
pp_store_user_delete(PpStore *store, gint64 user_id, guint *ret_vms, guint *ret_tokens,
                     GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(gint64));
  GError *local = NULL;
  guint vms, tokens;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "deleting a user", error))
    return FALSE;
  user = store_user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_VMS_NOT_DONE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, user_id);
    while (store_stmt_next(store, stmt, &local, "deleting a user: reading its VMs")) {
      gint64 id = pp_db_column_int64(stmt, 0);

      g_array_append_val(live, id);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (live->len > 0) {
    g_autofree char *list = store_ids_text(live);

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "user '%s' owns %s %s that %s not done; terminate %s first (pcipass vm terminate)",
                user->name, live->len == 1 ? "VM" : "VMs", list, live->len == 1 ? "is" : "are",
                live->len == 1 ? "it" : "them");
    return FALSE;
  }
  /* Its networks are others' too (shared ones, and the leases and holds
   * they keep): deleted by a person, not with their owner. */
  {
    g_autofree char *networks = NULL;

    if (!store_user_networks_locked(store, user_id, &networks, error))
      return FALSE;
    if (networks != NULL) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "user '%s' owns networks %s; delete them first (pcipass net delete)", user->name,
                  networks);
      return FALSE;
    }
  }
  {
    static const StmtId steps[] = { STMT_USER_DELETE_DONE_VMS, STMT_USER_DELETE_TOKENS,
                                    STMT_USER_DELETE };
    guint changed[G_N_ELEMENTS(steps)];

    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, steps[i], error);

      if (stmt == NULL)
        return FALSE;
      pp_db_bind_int64(stmt, 1, user_id);
      if (!store_stmt_run(store, stmt, error, "deleting a user"))
        return FALSE;
      changed[i] = (guint)pp_db_changes(store->db);
    }
    vms = changed[0];
    tokens = changed[1];
  }
  if (!store_txn_commit(&txn, "deleting a user", error))
    return FALSE;
  g_debug("user '%s' (id %" G_GINT64_FORMAT "): deleted with %u done VMs and %u tokens", user->name,
          user_id, vms, tokens);
  if (ret_vms != NULL)
    *ret_vms = vms;
  if (ret_tokens != NULL)
    *ret_tokens = tokens;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Quotas                                                                   */
/* ------------------------------------------------------------------------ */

void
pp_quota_free(PpQuota *quota)
{
  if (quota == NULL)
    return;
  if (quota->classes != NULL)
    g_array_unref(quota->classes);
  g_free(quota);
}

static gint64
col_limit(PpDbStmt *stmt, int col)
{
  if (pp_db_column_is_null(stmt, col))
    return PP_QUOTA_NONE;
  return pp_db_column_int64(stmt, col);
}

/* User @user_id's limits and what its VMs that are not done hold, VM
 * @leave_out's use left out (0: none); the user must exist. */
static PpQuota *
quota_read(PpStore *store, gint64 user_id, gint64 leave_out, GError **error)
{
  g_autoptr(PpQuota) quota = g_new0(PpQuota, 1);
  GError *local = NULL;

  quota->classes = g_array_new(FALSE, TRUE, sizeof(PpQuotaClass));
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_QUOTA, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    if (!store_stmt_next(store, stmt, &local, "reading a user's quotas")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                    "no user with id %" G_GINT64_FORMAT, user_id);
      return NULL;
    }
    quota->vms.limit = col_limit(stmt, 0);
    quota->cpu.limit = col_limit(stmt, 1);
    quota->memory_kib.limit = col_limit(stmt, 2);
    quota->pci.limit = col_limit(stmt, 3);
    quota->leases.limit = col_limit(stmt, 4);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_USAGE, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    pp_db_bind_int64(stmt, 2, leave_out);
    if (!store_stmt_next(store, stmt, error, "reading what a user's VMs hold"))
      return NULL;
    quota->vms.used = pp_db_column_int64(stmt, 0);
    quota->cpu.used = pp_db_column_int64(stmt, 1);
    quota->memory_kib.used = pp_db_column_int64(stmt, 2);
    quota->pci.used = pp_db_column_int64(stmt, 3);
    quota->leases.used = pp_db_column_int64(stmt, 4);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_CLASS_USAGE, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    pp_db_bind_int64(stmt, 2, leave_out);
    while (store_stmt_next(store, stmt, &local, "reading what a user's VMs hold")) {
      PpQuotaClass c = { (guint16)pp_db_column_int(stmt, 0), col_limit(stmt, 1),
                         pp_db_column_int64(stmt, 2) };

      g_array_append_val(quota->classes, c);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  return g_steal_pointer(&quota);
}

PpQuota *
pp_store_user_get_quota(PpStore *store, gint64 user_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return quota_read(store, user_id, 0, error);
}

/* Hundredths of a CPU as a template writes them: "4", "2.5", "0.25". */
static char *
cpu_text(gint64 hundredths)
{
  if (hundredths % 100 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT, hundredths / 100);
  if (hundredths % 10 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, hundredths / 100,
                           hundredths % 100 / 10);
  return g_strdup_printf("%" G_GINT64_FORMAT ".%02" G_GINT64_FORMAT, hundredths / 100,
                         hundredths % 100);
}

/* CONFLICT: "user 'alice' would pass a quota: WHAT: USED of LIMIT used,
 * this VM asks for ASKED". */
static void
set_quota_passed(GError **error, const char *user, const char *what, const char *used,
                 const char *limit, const char *asked)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
              "user '%s' would pass a quota: %s: %s of %s used, this VM asks for %s (terminate "
              "VMs, or ask an administrator to raise it: pcipass user show %s)",
              user, what, used, limit, asked, user);
}

static void
set_count_passed(GError **error, const char *user, const char *what, const PpQuotaItem *item,
                 gint64 asked)
{
  g_autofree char *used = g_strdup_printf("%" G_GINT64_FORMAT, item->used);
  g_autofree char *limit = g_strdup_printf("%" G_GINT64_FORMAT, item->limit);
  g_autofree char *more = g_strdup_printf("%" G_GINT64_FORMAT, asked);

  set_quota_passed(error, user, what, used, limit, more);
}

/* Whether @used + @asked stays within @limit. */
static gboolean
within(gint64 limit, gint64 used, gint64 asked)
{
  return limit == PP_QUOTA_NONE || used + asked <= limit;
}

/* Inside a transaction: whether a VM of @owner asking for @cpu, @memory_kib
 * and PCI requests of @pci_classes (-1: no CLASS) keeps @owner within its
 * quotas, the use of VM @leave_out (0: none) left out; else CONFLICT
 * naming the first quota it would pass. */
gboolean
store_quota_check_locked(PpStore *store, const PpUser *owner, gint64 leave_out, gint64 cpu,
                         gint64 memory_kib, const gint *pci_classes, guint n_pci, guint n_leases,
                         GError **error)
{
  g_autoptr(PpQuota) quota = NULL;

  /* What a user's VMs hold is summed over all of them: only for a user
   * with a quota. Without one a create costs no more with 100,000 VMs. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_HAS_QUOTA, error);
    GError *local = NULL;

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, owner->id);
    if (!store_stmt_next(store, stmt, &local, "reading whether a user has quotas")) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return FALSE;
      }
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                  "no user with id %" G_GINT64_FORMAT, owner->id);
      return FALSE;
    }
    if (pp_db_column_int(stmt, 0) == 0)
      return TRUE;
  }
  quota = quota_read(store, owner->id, leave_out, error);
  if (quota == NULL)
    return FALSE;
  if (!within(quota->vms.limit, quota->vms.used, 1)) {
    set_count_passed(error, owner->name, "VMs", &quota->vms, 1);
    return FALSE;
  }
  if (!within(quota->cpu.limit, quota->cpu.used, cpu)) {
    g_autofree char *used = cpu_text(quota->cpu.used);
    g_autofree char *limit = cpu_text(quota->cpu.limit);
    g_autofree char *asked = cpu_text(cpu);

    set_quota_passed(error, owner->name, "CPU", used, limit, asked);
    return FALSE;
  }
  if (!within(quota->memory_kib.limit, quota->memory_kib.used, memory_kib)) {
    g_autofree char *used = g_strdup_printf("%" G_GINT64_FORMAT, quota->memory_kib.used / 1024);
    g_autofree char *limit =
        g_strdup_printf("%" G_GINT64_FORMAT " MiB", quota->memory_kib.limit / 1024);
    g_autofree char *asked = g_strdup_printf("%" G_GINT64_FORMAT " MiB", memory_kib / 1024);

    set_quota_passed(error, owner->name, "memory", used, limit, asked);
    return FALSE;
  }
  if (!within(quota->pci.limit, quota->pci.used, n_pci)) {
    set_count_passed(error, owner->name, "PCI devices", &quota->pci, n_pci);
    return FALSE;
  }
  if (!within(quota->leases.limit, quota->leases.used, n_leases)) {
    set_count_passed(error, owner->name, "network leases", &quota->leases, n_leases);
    return FALSE;
  }
  for (guint i = 0; i < quota->classes->len; i++) {
    const PpQuotaClass *c = &g_array_index(quota->classes, PpQuotaClass, i);
    PpQuotaItem item = { c->limit, c->used };
    gint64 asked = 0;

    if (c->limit == PP_QUOTA_NONE)
      continue;
    for (guint r = 0; r < n_pci; r++) {
      if (pci_classes[r] < 0) {
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                    "user '%s' has quotas of PCI devices by class (%04x: %" G_GINT64_FORMAT
                    "), and PCI[%u] of this VM names no CLASS: give each PCI request the CLASS "
                    "of the device it asks for (PCI = [ ..., CLASS = \"%04x\" ])",
                    owner->name, c->class_code, c->limit, r, c->class_code);
        return FALSE;
      }
      asked += pci_classes[r] == c->class_code ? 1 : 0;
    }
    if (!within(c->limit, c->used, asked)) {
      g_autofree char *what = g_strdup_printf("PCI devices of class %04x", c->class_code);

      set_count_passed(error, owner->name, what, &item, asked);
      return FALSE;
    }
  }
  return TRUE;
}

/* Checks a limit of a quota update: PP_QUOTA_NONE or 0..@max. */
static gboolean
check_limit(const char *what, gint64 value, gint64 max, GError **error)
{
  if (value == PP_QUOTA_NONE || (value >= 0 && value <= max))
    return TRUE;
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
              "a quota of %s is 0 to %" G_GINT64_FORMAT ", or none; not %" G_GINT64_FORMAT, what,
              max, value);
  return FALSE;
}

PpQuota *
pp_store_user_set_quota(PpStore *store, gint64 user_id, const PpQuotaUpdate *update, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpQuota) before = NULL;
  g_autoptr(PpQuota) after = NULL;
  PpQuotaUpdate u;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(update != NULL, NULL);
  g_return_val_if_fail(update->classes != NULL || update->n_classes == 0, NULL);

  u = *update;
  if ((u.set_vms && !check_limit("VMs", u.vms, PP_QUOTA_MAX_VMS, error)) ||
      (u.set_cpu && !check_limit("CPU (hundredths)", u.cpu, PP_QUOTA_MAX_CPU, error)) ||
      (u.set_memory &&
       !check_limit("memory (KiB)", u.memory_kib, PP_QUOTA_MAX_MEMORY_KIB, error)) ||
      (u.set_pci && !check_limit("PCI devices", u.pci, PP_QUOTA_MAX_PCI, error)) ||
      (u.set_leases && !check_limit("network leases", u.leases, PP_QUOTA_MAX_LEASES, error)))
    return NULL;
  for (guint i = 0; i < u.n_classes; i++) {
    g_autofree char *what = g_strdup_printf("PCI devices of class %04x", u.classes[i].class_code);

    if (!check_limit(what, u.classes[i].limit, PP_QUOTA_MAX_PCI, error))
      return NULL;
  }
  if (!store_txn_begin(store, &txn, "setting a user's quotas", error))
    return NULL;
  user = store_user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  before = quota_read(store, user_id, 0, error);
  if (before == NULL)
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_SET_QUOTA, error);
    const gint64 limits[] = {
      u.set_vms ? u.vms : before->vms.limit,
      u.set_cpu ? u.cpu : before->cpu.limit,
      u.set_memory ? u.memory_kib : before->memory_kib.limit,
      u.set_pci ? u.pci : before->pci.limit,
      u.set_leases ? u.leases : before->leases.limit,
    };

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
      if (limits[i] != PP_QUOTA_NONE)
        pp_db_bind_int64(stmt, (int)i + 2, limits[i]);
    }
    if (!store_stmt_run(store, stmt, error, "setting a user's quotas"))
      return NULL;
  }
  for (guint i = 0; i < u.n_classes; i++) {
    gboolean remove = u.classes[i].limit == PP_QUOTA_NONE;
    g_autoptr(StoreStmt) stmt =
        store_stmt(store, remove ? STMT_CLASS_QUOTA_DELETE : STMT_CLASS_QUOTA_SET, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    pp_db_bind_int(stmt, 2, u.classes[i].class_code);
    if (!remove)
      pp_db_bind_int64(stmt, 3, u.classes[i].limit);
    if (!store_stmt_run(store, stmt, error, "setting a user's quotas"))
      return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_CLASS_QUOTA_COUNT, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    if (!store_stmt_next(store, stmt, error, "setting a user's quotas"))
      return NULL;
    if (pp_db_column_int64(stmt, 0) > PP_QUOTA_MAX_CLASSES) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "user '%s' would have %" G_GINT64_FORMAT " quotas by PCI class; at most %d",
                  user->name, (gint64)pp_db_column_int64(stmt, 0), PP_QUOTA_MAX_CLASSES);
      return NULL;
    }
  }
  after = quota_read(store, user_id, 0, error);
  if (after == NULL || !store_txn_commit(&txn, "setting a user's quotas", error))
    return NULL;
  g_debug("user '%s': quotas set", user->name);
  return g_steal_pointer(&after);
}

gboolean
store_check_token_hash(const char *hash, GError **error)
{
  if (hash == NULL || strlen(hash) != TOKEN_HASH_LEN ||
      strspn(hash, "0123456789abcdef") != TOKEN_HASH_LEN) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a token hash is %d lower-case hex digits (SHA-256)", TOKEN_HASH_LEN);
    return FALSE;
  }
  return TRUE;
}

static PpToken *
token_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, id);
  if (store_stmt_next(store, stmt, &local, "reading a token"))
    return token_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no token with id %" G_GINT64_FORMAT, id);
  return NULL;
}

PpToken *
pp_store_token_create(PpStore *store, gint64 user_id, const char *name, const char *hash,
                      gint64 now, gint64 expires, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpToken) token = NULL;
  gint64 id = 0;

  g_return_val_if_fail(store != NULL, NULL);

  if (!store_check_token_hash(hash, error))
    return NULL;
  if (name != NULL && !store_check_field("a token name", name, TOKEN_NAME_MAX_LEN, error))
    return NULL;
  if (expires != 0 && expires <= now) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a token's expiry (%" G_GINT64_FORMAT
                ") must come after its creation (%" G_GINT64_FORMAT ")",
                expires, now);
    return NULL;
  }
  if (!store_txn_begin(store, &txn, "creating a token", error))
    return NULL;
  user = store_user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_INSERT, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, user_id);
    store_bind_text(stmt, 2, name);
    store_bind_text(stmt, 3, hash);
    pp_db_bind_int64(stmt, 4, now);
    if (expires != 0)
      pp_db_bind_int64(stmt, 5, expires);
    if (pp_db_step(stmt) != PP_DB_STEP_ROW) {
      /* The hash is the one UNIQUE column a new token's row has. */
      if (pp_db_errcode(store->db) == PP_DB_ERR_CONFLICT)
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                    "a token with this hash exists");
      else
        store_set_error(store, error, "creating a token for user '%s'", user->name);
      return NULL;
    }
    id = pp_db_column_int64(stmt, 0);
  }
  token = token_get(store, id, error);
  if (token == NULL || !store_txn_commit(&txn, "creating a token", error))
    return NULL;
  g_debug("user '%s': token %" G_GINT64_FORMAT " created", user->name, token->id);
  return g_steal_pointer(&token);
}

PpUser *
pp_store_token_authenticate(PpStore *store, const char *hash, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  gint64 token_id, user_id, last_used, expires;
  g_autoptr(PpUser) user = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  /* Not a hash we could have stored: unknown, without a query. */
  if (!store_check_token_hash(hash, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such token");
    return NULL;
  }
  if (!store_txn_begin(store, &txn, "authenticating a token", error))
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_BY_HASH, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, hash);
    if (!store_stmt_next(store, stmt, &local, "authenticating a token")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such token");
      return NULL;
    }
    token_id = pp_db_column_int64(stmt, 0);
    user_id = pp_db_column_int64(stmt, 1);
    last_used = pp_db_column_int64(stmt, 2);
    expires = pp_db_column_int64(stmt, 3); /* NULL reads as 0: never */
  }
  user = store_user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  /* Checked at every use: an expired token is refused at once. */
  if (expires != 0 && now >= expires) {
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(expires);
    g_autofree char *text = when ? g_date_time_format(when, "%F %T UTC") : NULL;

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_EXPIRED,
                "token %" G_GINT64_FORMAT " of user '%s' expired at %s", token_id, user->name,
                text ? text : "?");
    return NULL;
  }
  /* One write a second at most per token, however many requests. */
  if (last_used != now) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_TOUCH, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, token_id);
    pp_db_bind_int64(stmt, 2, now);
    if (!store_stmt_run(store, stmt, error, "authenticating a token"))
      return NULL;
  }
  if (!store_txn_commit(&txn, "authenticating a token", error))
    return NULL;
  user->token_expires = expires;
  return g_steal_pointer(&user);
}

GPtrArray *
pp_store_token_list(PpStore *store, gint64 user_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (user_id != 0) {
    g_autoptr(PpUser) user = store_user_lookup(store, user_id, NULL, error);

    if (user == NULL)
      return NULL;
  }
  stmt = store_stmt(store, STMT_TOKEN_LIST, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, user_id);
  tokens = g_ptr_array_new_with_free_func((GDestroyNotify)pp_token_free);
  while (store_stmt_next(store, stmt, &local, "listing tokens"))
    g_ptr_array_add(tokens, token_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&tokens);
}

gboolean
pp_store_token_delete(PpStore *store, gint64 id, gint64 user_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  /* One statement: atomic on its own. */
  stmt = store_stmt(store, STMT_TOKEN_DELETE, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, id);
  pp_db_bind_int64(stmt, 2, user_id);
  if (!store_stmt_run(store, stmt, error, "deleting a token"))
    return FALSE;
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no token %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  g_debug("token %" G_GINT64_FORMAT ": deleted", id);
  return TRUE;
}
