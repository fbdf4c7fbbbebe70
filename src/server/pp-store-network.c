/* pp-store-network: networks, address ranges and leases in the store
 * (pp-store-network.h). */
#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pp-autoptr.h"
#include "pp-store-int.h"
#include "pp-store-network.h"

/* The statements of this file, prepared on first use. */
static const char *const net_stmt_sql[N_NET_STMTS] = {
  [NET_INSERT] = "INSERT INTO networks (name, owner_id, shared, template, vn_mad, bridge, phydev, "
                 "vlan_id, mtu, network_address, network_prefix, gateway, gateway6, dns, "
                 "search_domains, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                 "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16) RETURNING id",
  [NET_UPDATE] = "UPDATE networks SET name = ?2, shared = ?3, template = ?4, vn_mad = ?5, "
                 "bridge = ?6, phydev = ?7, vlan_id = ?8, mtu = ?9, network_address = ?10, "
                 "network_prefix = ?11, gateway = ?12, gateway6 = ?13, dns = ?14, "
                 "search_domains = ?15, updated = ?16 WHERE id = ?1",
  [NET_GET] = "SELECT n.id, n.name, n.owner_id, u.name, n.shared, n.template, n.vn_mad, n.bridge, "
              "n.phydev, n.vlan_id, n.mtu, n.network_address, n.network_prefix, n.gateway, "
              "n.gateway6, n.dns, n.search_domains, n.created, n.updated, "
              "(SELECT count(*) FROM network_lease l WHERE l.network_id = n.id "
              "AND l.vm_id IS NULL) "
              "FROM networks n JOIN users u ON u.id = n.owner_id WHERE n.id = ?1",
  [NET_ARS] = "SELECT ar_id, type, size, used, mac, mac_given, ip4, global_prefix, ula_prefix, "
              "ip6, prefix_length, next_idx FROM network_ar WHERE network_id = ?1 ORDER BY ar_id",
  [NET_AR_INSERT] = "INSERT INTO network_ar (network_id, ar_id, type, size, mac, mac_given, ip4, "
                    "global_prefix, ula_prefix, ip6, prefix_length) VALUES (?1, ?2, ?3, ?4, ?5, "
                    "?6, ?7, ?8, ?9, ?10, ?11)",
  [NET_AR_UPDATE] = "UPDATE network_ar SET type = ?3, size = ?4, mac = ?5, mac_given = ?6, "
                    "ip4 = ?7, global_prefix = ?8, ula_prefix = ?9, ip6 = ?10, "
                    "prefix_length = ?11, next_idx = 0 WHERE network_id = ?1 AND ar_id = ?2",
  [NET_AR_DELETE_FROM] = "DELETE FROM network_ar WHERE network_id = ?1 AND ar_id >= ?2",
  [NET_AR_MAX_IDX] = "SELECT max(idx), count(*) FROM network_lease "
                     "WHERE network_id = ?1 AND ar_id = ?2",
  [NET_AR_SET_NEXT] = "UPDATE network_ar SET next_idx = ?3 WHERE network_id = ?1 AND ar_id = ?2",
  [NET_MAC_NEXT] = "SELECT next FROM network_mac_next WHERE id = 1",
  [NET_MAC_SET_NEXT] = "UPDATE network_mac_next SET next = ?1 WHERE id = 1",
  [NET_ID_BY_OWNER_NAME] = "SELECT id FROM networks WHERE owner_id = ?1 AND name = ?2",
  [NET_SHARED_BY_NAME] = "SELECT n.id, u.name FROM networks n JOIN users u ON u.id = n.owner_id "
                         "WHERE n.shared = 1 AND n.name = ?1 ORDER BY n.id LIMIT 4",
  [NET_ANY_BY_NAME] = "SELECT n.id, u.name FROM networks n JOIN users u ON u.id = n.owner_id "
                      "WHERE n.name = ?1 ORDER BY n.id LIMIT 4",
  [NET_PAGE_ALL] = "SELECT id FROM networks WHERE id > ?1 ORDER BY id LIMIT ?2",
  [NET_PAGE_VIEWER] = "SELECT id FROM networks WHERE id > ?1 AND (owner_id = ?3 OR shared = 1) "
                      "ORDER BY id LIMIT ?2",
  [NET_LEASES] = "SELECT network_id, ar_id, idx, vm_id, nic_id FROM network_lease "
                 "WHERE network_id = ?1 ORDER BY ar_id, idx LIMIT ?2",
  [NET_LEASE_AT] = "SELECT vm_id, nic_id FROM network_lease "
                   "WHERE network_id = ?1 AND ar_id = ?2 AND idx = ?3",
  [NET_LEASE_INSERT] = "INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4, vm_id, "
                       "nic_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [NET_LEASE_RELEASE] = "DELETE FROM network_lease WHERE network_id = ?1 AND ar_id = ?2 "
                        "AND idx = ?3 AND vm_id IS NULL",
  /* The lowest index from ?3 up without a lease, below ?4 (the size). */
  [NET_FREE_IDX] =
      "SELECT CAST(?3 AS BIGINT) WHERE ?3 < ?4 AND NOT EXISTS (SELECT 1 FROM network_lease "
      "WHERE network_id = ?1 AND ar_id = ?2 AND idx = ?3) "
      "UNION ALL SELECT * FROM (SELECT l.idx + 1 FROM network_lease l "
      "WHERE l.network_id = ?1 AND l.ar_id = ?2 AND l.idx >= ?3 AND l.idx + 1 < ?4 "
      "AND NOT EXISTS (SELECT 1 FROM network_lease m WHERE m.network_id = ?1 "
      "AND m.ar_id = ?2 AND m.idx = l.idx + 1) ORDER BY l.idx LIMIT 1) AS t LIMIT 1",
  [NET_USERS_OF] = "SELECT DISTINCT v.id FROM vm_nic n JOIN vms v ON v.id = n.vm_id "
                   "WHERE n.network_id = ?1 AND v.state <> 'done' ORDER BY v.id LIMIT 8",
  [NET_LEASED_VMS] = "SELECT DISTINCT vm_id FROM network_lease WHERE network_id = ?1 "
                     "AND vm_id IS NOT NULL ORDER BY vm_id LIMIT 8",
  [NET_DELETE_LEASES] = "DELETE FROM network_lease WHERE network_id = ?1",
  [NET_DELETE] = "DELETE FROM networks WHERE id = ?1",
  [NET_VM_NIC_INSERT] = "INSERT INTO vm_nic (vm_id, nic_id, network_id, ip4, mac) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
  [NET_VM_NICS_UNLEASED] = "SELECT n.nic_id, n.network_id, n.ip4, n.mac FROM vm_nic n "
                           "WHERE n.vm_id = ?1 AND n.network_id IS NOT NULL "
                           "AND NOT EXISTS (SELECT 1 FROM network_lease l "
                           "WHERE l.vm_id = n.vm_id AND l.nic_id = n.nic_id) ORDER BY n.nic_id",
  [NET_VM_LEASES] = "SELECT network_id, ar_id, idx, vm_id, nic_id FROM network_lease "
                    "WHERE vm_id = ?1 ORDER BY nic_id",
  [NET_VM_LEASES_FREE] = "DELETE FROM network_lease WHERE vm_id = ?1",
  [NET_VM_NIC_COUNT] = "SELECT count(*) FROM vm_nic WHERE vm_id = ?1 AND network_id IS NOT NULL",
  [NET_OF_OWNER] = "SELECT id, name FROM networks WHERE owner_id = ?1 ORDER BY id LIMIT 9",
  [NET_FREE_COUNT] = "SELECT n.name, coalesce(sum(a.size), 0), coalesce(sum(a.used), 0) "
                     "FROM networks n LEFT JOIN network_ar a ON a.network_id = n.id "
                     "WHERE n.id = ?1 GROUP BY n.id",
};

static StoreStmt *
net_stmt(PpStore *store, NetStmtId id, GError **error)
{
  if (store->net_stmts[id] == NULL &&
      (store->net_stmts[id] = pp_db_prepare(store->db, net_stmt_sql[id])) == NULL) {
    store_set_error(store, error, "preparing the network statement %d", (int)id);
    return NULL;
  }
  return store->net_stmts[id];
}

void
store_network_stmts_finalize(PpStore *store)
{
  for (guint i = 0; i < N_NET_STMTS; i++)
    pp_db_finalize(store->net_stmts[i]);
}

void
pp_network_free(PpNetwork *network)
{
  if (network == NULL)
    return;
  g_free(network->name);
  g_free(network->owner_name);
  g_free(network->template_text);
  pp_network_spec_free(network->spec);
  if (network->ar_used != NULL)
    g_array_unref(network->ar_used);
  if (network->ar_next != NULL)
    g_array_unref(network->ar_next);
  g_free(network);
}

/* ------------------------------------------------------------------------ */
/* Columns                                                                  */
/* ------------------------------------------------------------------------ */

static void
bind_ip6(PpDbStmt *stmt, int index, gboolean has, const PpIp6 *ip)
{
  char buf[PP_IP6_BUFSIZE];

  if (has)
    pp_db_bind_text_copy(stmt, index, pp_ip6_format(ip, buf));
  else
    pp_db_bind_null(stmt, index);
}

static gboolean
col_ip6(PpDbStmt *stmt, int col, PpIp6 *ret)
{
  const char *text = store_col_text(stmt, col);

  return text != NULL && pp_ip6_parse(text, ret, NULL);
}

/* The network's attributes, bound to ?5..?15 of NET_INSERT / NET_UPDATE. */
static void
bind_attributes(PpDbStmt *stmt, const PpNetworkSpec *spec)
{
  g_autoptr(GString) dns = g_string_new(NULL);
  g_autofree char *search = NULL;

  store_bind_text(stmt, 5, pp_network_vn_mad_to_string(spec->vn_mad));
  store_bind_text(stmt, 6, spec->bridge);
  store_bind_text(stmt, 7, spec->phydev);
  if (spec->vlan_id >= 0)
    pp_db_bind_int(stmt, 8, spec->vlan_id);
  if (spec->mtu > 0)
    pp_db_bind_int(stmt, 9, (int)spec->mtu);
  if (spec->has_network) {
    pp_db_bind_int64(stmt, 10, pp_ip4_to_u32(&spec->network_address));
    pp_db_bind_int(stmt, 11, (int)spec->network_prefix);
  }
  if (spec->has_gateway)
    pp_db_bind_int64(stmt, 12, pp_ip4_to_u32(&spec->gateway));
  bind_ip6(stmt, 13, spec->has_gateway6, &spec->gateway6);
  for (guint i = 0; i < spec->dns->len; i++) {
    const PpIpAddress *a = &g_array_index(spec->dns, PpIpAddress, i);
    char buf[PP_IP6_BUFSIZE];

    if (i > 0)
      g_string_append_c(dns, ' ');
    g_string_append(dns, a->is_ip6 ? pp_ip6_format(&a->ip6, buf) : pp_ip4_format(&a->ip4, buf));
  }
  if (dns->len > 0)
    pp_db_bind_text_copy(stmt, 14, dns->str);
  search = g_strjoinv(" ", spec->search_domains);
  if (search[0] != '\0')
    pp_db_bind_text_copy(stmt, 15, search);
}

/* Binds an AR's columns: ?3 type .. ?11 prefix_length (NET_AR_INSERT and
 * NET_AR_UPDATE). */
static void
bind_ar(PpDbStmt *stmt, const PpNetworkAr *ar)
{
  store_bind_text(stmt, 3, pp_network_ar_type_to_string(ar->type));
  pp_db_bind_int64(stmt, 4, ar->size);
  pp_db_bind_int64(stmt, 5, (gint64)pp_mac_to_u64(&ar->mac));
  pp_db_bind_int(stmt, 6, ar->mac_given ? 1 : 0);
  if (pp_network_ar_type_has_ip4(ar->type))
    pp_db_bind_int64(stmt, 7, pp_ip4_to_u32(&ar->ip));
  bind_ip6(stmt, 8, ar->has_global, &ar->global_prefix);
  bind_ip6(stmt, 9, ar->has_ula, &ar->ula_prefix);
  bind_ip6(stmt, 10, pp_network_ar_type_has_ip6_static(ar->type), &ar->ip6);
  if (pp_network_ar_type_has_ip6_static(ar->type))
    pp_db_bind_int(stmt, 11, (int)ar->prefix_length);
}

static gboolean
vn_mad_from_string(const char *text, PpNetworkVnMad *ret)
{
  for (int i = 0; i < _PP_NETWORK_VN_MAD_MAX; i++)
    if (g_strcmp0(text, pp_network_vn_mad_to_string((PpNetworkVnMad)i)) == 0) {
      *ret = (PpNetworkVnMad)i;
      return TRUE;
    }
  return FALSE;
}

static gboolean
ar_type_from_string(const char *text, PpNetworkArType *ret)
{
  for (int i = 0; i < _PP_NETWORK_AR_MAX; i++)
    if (g_strcmp0(text, pp_network_ar_type_to_string((PpNetworkArType)i)) == 0) {
      *ret = (PpNetworkArType)i;
      return TRUE;
    }
  return FALSE;
}

static gboolean
corrupt(GError **error, gint64 id, const char *what)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
              "network %" G_GINT64_FORMAT " has a bad %s in the store", id, what);
  return FALSE;
}

/* The network's ranges, typed, into @network's spec and ar_used. */
static gboolean
read_ars(PpStore *store, PpNetwork *network, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_ARS, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, network->id);
  while (store_stmt_next(store, stmt, &local, "reading a network's ranges")) {
    PpNetworkAr ar = { 0 };
    guint64 used = (guint64)pp_db_column_int64(stmt, 3);
    guint32 next = (guint32)CLAMP(pp_db_column_int64(stmt, 11), 0, G_MAXUINT32);

    if (!ar_type_from_string(store_col_text(stmt, 1), &ar.type))
      return corrupt(error, network->id, "range type");
    ar.size = (guint32)pp_db_column_int64(stmt, 2);
    pp_mac_from_u64((guint64)pp_db_column_int64(stmt, 4), &ar.mac);
    ar.has_mac = TRUE;
    ar.mac_given = pp_db_column_int(stmt, 5) != 0;
    if (!pp_db_column_is_null(stmt, 6))
      pp_ip4_from_u32((guint32)pp_db_column_int64(stmt, 6), &ar.ip);
    ar.has_global = col_ip6(stmt, 7, &ar.global_prefix);
    ar.has_ula = col_ip6(stmt, 8, &ar.ula_prefix);
    if (pp_network_ar_type_has_ip6_static(ar.type) && !col_ip6(stmt, 9, &ar.ip6))
      return corrupt(error, network->id, "static IPv6 address");
    if (!pp_db_column_is_null(stmt, 10))
      ar.prefix_length = (guint)pp_db_column_int(stmt, 10);
    g_array_append_val(network->spec->ars, ar);
    g_array_append_val(network->ar_used, used);
    g_array_append_val(network->ar_next, next);
    network->size += ar.size;
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

static PpNetwork *
network_read(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_GET, error);
  g_autoptr(PpNetwork) network = NULL;
  PpNetworkSpec *spec;
  GError *local = NULL;
  const char *text;
  guint64 leased = 0;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, id);
  if (!store_stmt_next(store, stmt, &local, "reading a network")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no network %" G_GINT64_FORMAT,
                  id);
    return NULL;
  }
  network = g_new0(PpNetwork, 1);
  network->ar_used = g_array_new(FALSE, TRUE, sizeof(guint64));
  network->ar_next = g_array_new(FALSE, TRUE, sizeof(guint32));
  network->spec = spec = pp_network_spec_new();
  network->id = pp_db_column_int64(stmt, 0);
  network->name = store_col_strdup(stmt, 1);
  network->owner_id = pp_db_column_int64(stmt, 2);
  network->owner_name = store_col_strdup(stmt, 3);
  network->shared = pp_db_column_int(stmt, 4) != 0;
  network->template_text = store_col_strdup(stmt, 5);
  spec->name = g_strdup(network->name);
  if (!vn_mad_from_string(store_col_text(stmt, 6), &spec->vn_mad)) {
    corrupt(error, id, "VN_MAD");
    return NULL;
  }
  spec->bridge = store_col_strdup(stmt, 7);
  spec->phydev = store_col_strdup(stmt, 8);
  spec->vlan_id = !pp_db_column_is_null(stmt, 9) ? pp_db_column_int(stmt, 9) : -1;
  spec->mtu = (guint)pp_db_column_int(stmt, 10);
  if (!pp_db_column_is_null(stmt, 11)) {
    spec->has_network = TRUE;
    pp_ip4_from_u32((guint32)pp_db_column_int64(stmt, 11), &spec->network_address);
    spec->network_prefix = (guint)pp_db_column_int(stmt, 12);
  }
  if (!pp_db_column_is_null(stmt, 13)) {
    spec->has_gateway = TRUE;
    pp_ip4_from_u32((guint32)pp_db_column_int64(stmt, 13), &spec->gateway);
  }
  spec->has_gateway6 = col_ip6(stmt, 14, &spec->gateway6);
  text = store_col_text(stmt, 15);
  if (text != NULL) {
    g_auto(GStrv) words = g_strsplit(text, " ", -1);

    for (guint i = 0; words[i] != NULL; i++) {
      PpIpAddress a = { 0 };

      if (pp_ip4_parse(words[i], &a.ip4, NULL))
        a.is_ip6 = FALSE;
      else if (pp_ip6_parse(words[i], &a.ip6, NULL))
        a.is_ip6 = TRUE;
      else {
        corrupt(error, id, "DNS");
        return NULL;
      }
      g_array_append_val(spec->dns, a);
    }
  }
  text = store_col_text(stmt, 16);
  if (text != NULL) {
    g_strfreev(spec->search_domains);
    spec->search_domains = g_strsplit(text, " ", -1);
  }
  network->created = pp_db_column_int64(stmt, 17);
  network->updated = pp_db_column_int64(stmt, 18);
  network->held = (guint64)pp_db_column_int64(stmt, 19);
  store_stmt_release(g_steal_pointer(&stmt));
  if (!read_ars(store, network, error))
    return NULL;
  for (guint i = 0; i < network->ar_used->len; i++)
    leased += g_array_index(network->ar_used, guint64, i);
  network->used = leased >= network->held ? leased - network->held : 0;
  return g_steal_pointer(&network);
}

PpNetwork *
pp_store_network_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return network_read(store, id, error);
}

/* ------------------------------------------------------------------------ */
/* Create, update, delete                                                   */
/* ------------------------------------------------------------------------ */

/* Gives @ar its MACs from the store's counter. */
static gboolean
take_mac_base_locked(PpStore *store, PpNetworkAr *ar, guint ar_id, const PpMacPrefix *prefix,
                     GError **error)
{
  gint64 next;
  GError *local = NULL;

  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_MAC_NEXT, error);

    if (stmt == NULL)
      return FALSE;
    if (!store_stmt_next(store, stmt, &local, "reading the MAC counter")) {
      if (local == NULL)
        return corrupt(error, 0, "MAC counter");
      g_propagate_error(error, local);
      return FALSE;
    }
    next = pp_db_column_int64(stmt, 0);
  }
  if (next > G_MAXUINT32 || !pp_network_ar_set_mac_base(ar, prefix, (guint32)next, &local)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "AR %u: no generated MACs are left for %u more (%s); give the range a MAC", ar_id,
                ar->size, local != NULL ? local->message : "the counter is at its end");
    g_clear_error(&local);
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_MAC_SET_NEXT, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, next + ar->size);
    return store_stmt_run(store, stmt, error, "moving the MAC counter");
  }
}

static gboolean
check_name_free_locked(PpStore *store, gint64 owner_id, const char *name, gint64 except,
                       GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_ID_BY_OWNER_NAME, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, owner_id);
  store_bind_text(stmt, 2, name);
  if (store_stmt_next(store, stmt, &local, "looking a network up") &&
      pp_db_column_int64(stmt, 0) != except) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "its owner has a network named '%s' (id %" G_GINT64_FORMAT "); choose another NAME",
                name, (gint64)pp_db_column_int64(stmt, 0));
    return FALSE;
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

static gboolean
ar_write_locked(PpStore *store, NetStmtId id, gint64 network_id, guint ar_id, const PpNetworkAr *ar,
                GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, id, error);

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, network_id);
  pp_db_bind_int(stmt, 2, (int)ar_id);
  bind_ar(stmt, ar);
  return store_stmt_run(store, stmt, error, "writing a network's range");
}

PpNetwork *
pp_store_network_create(PpStore *store, gint64 owner_id, const char *template_text,
                        PpNetworkSpec *spec, gboolean shared, const PpMacPrefix *prefix, gint64 now,
                        GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  gint64 id;

  g_return_val_if_fail(store != NULL && template_text != NULL && spec != NULL, NULL);
  g_return_val_if_fail(prefix != NULL, NULL);

  if (!store_txn_begin(store, &txn, "creating a network", error) ||
      !check_name_free_locked(store, owner_id, spec->name, 0, error))
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_INSERT, error);

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, spec->name);
    pp_db_bind_int64(stmt, 2, owner_id);
    pp_db_bind_int(stmt, 3, shared ? 1 : 0);
    store_bind_text(stmt, 4, template_text);
    bind_attributes(stmt, spec);
    pp_db_bind_int64(stmt, 16, now);
    if (!store_stmt_insert(store, stmt, &id, error, "creating a network"))
      return NULL;
  }
  for (guint i = 0; i < spec->ars->len; i++) {
    PpNetworkAr *ar = &g_array_index(spec->ars, PpNetworkAr, i);

    if (!ar->mac_given && !take_mac_base_locked(store, ar, i, prefix, error))
      return NULL;
    if (!ar_write_locked(store, NET_AR_INSERT, id, i, ar, error))
      return NULL;
  }
  if (!store_txn_commit(&txn, "creating a network", error))
    return NULL;
  return network_read(store, id, error);
}

/* The highest index leased in range @ar_id, in @ret_max (-1: none). */
static gboolean
ar_max_idx_locked(PpStore *store, gint64 id, guint ar_id, gint64 *ret_max, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_AR_MAX_IDX, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, id);
  pp_db_bind_int(stmt, 2, (int)ar_id);
  *ret_max = -1;
  if (store_stmt_next(store, stmt, &local, "reading a range's leases") &&
      !pp_db_column_is_null(stmt, 0))
    *ret_max = pp_db_column_int64(stmt, 0);
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

static gboolean
same_addresses(const PpNetworkAr *a, const PpNetworkAr *b)
{
  return a->type == b->type && pp_mac_compare(&a->mac, &b->mac) == 0 &&
         pp_ip4_compare(&a->ip, &b->ip) == 0 && a->has_global == b->has_global &&
         (!a->has_global || pp_ip6_compare(&a->global_prefix, &b->global_prefix) == 0) &&
         a->has_ula == b->has_ula &&
         (!a->has_ula || pp_ip6_compare(&a->ula_prefix, &b->ula_prefix) == 0) &&
         pp_ip6_compare(&a->ip6, &b->ip6) == 0 && a->prefix_length == b->prefix_length;
}

PpNetwork *
pp_store_network_update(PpStore *store, gint64 id, const char *template_text, PpNetworkSpec *spec,
                        int shared, const PpMacPrefix *prefix, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpNetwork) old = NULL;
  guint n_old;

  g_return_val_if_fail(store != NULL && template_text != NULL && spec != NULL, NULL);

  if (!store_txn_begin(store, &txn, "updating a network", error))
    return NULL;
  old = network_read(store, id, error);
  if (old == NULL || !check_name_free_locked(store, old->owner_id, spec->name, id, error))
    return NULL;
  n_old = old->spec->ars->len;
  for (guint i = 0; i < MAX(n_old, spec->ars->len); i++) {
    const PpNetworkAr *was = i < n_old ? &g_array_index(old->spec->ars, PpNetworkAr, i) : NULL;
    PpNetworkAr *ar = i < spec->ars->len ? &g_array_index(spec->ars, PpNetworkAr, i) : NULL;
    gint64 max_idx = -1;

    if (was != NULL && !ar_max_idx_locked(store, id, i, &max_idx, error))
      return NULL;
    /* A range that keeps its type and has no MAC of its own keeps the
     * MACs the counter gave it. */
    if (ar != NULL && was != NULL && !ar->mac_given && !was->mac_given && ar->type == was->type) {
      ar->mac = was->mac;
      ar->has_mac = TRUE;
    } else if (ar != NULL && !ar->mac_given && !take_mac_base_locked(store, ar, i, prefix, error))
      return NULL;
    if (max_idx < 0)
      continue;
    if (ar == NULL) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "AR %u of network '%s' holds leases; the new template has no AR %u (keep it, "
                  "or release its leases first)",
                  i, old->name, i);
      return NULL;
    }
    if (!same_addresses(was, ar) || max_idx >= ar->size) {
      PpNetworkLease lease;
      char mac[PP_MAC_BUFSIZE], ip[PP_IP4_BUFSIZE];

      pp_network_ar_lease(was, (guint32)max_idx, &lease, NULL);
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "AR %u of network '%s' holds leases (the last: %s%s%s): it must keep its TYPE "
                  "and first addresses, and a SIZE of at least %" G_GINT64_FORMAT,
                  i, old->name, pp_mac_format(&lease.mac, mac), lease.has_ip ? " " : "",
                  lease.has_ip ? pp_ip4_format(&lease.ip, ip) : "", max_idx + 1);
      return NULL;
    }
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_UPDATE, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, id);
    store_bind_text(stmt, 2, spec->name);
    pp_db_bind_int(stmt, 3, shared < 0 ? (old->shared ? 1 : 0) : (shared ? 1 : 0));
    store_bind_text(stmt, 4, template_text);
    bind_attributes(stmt, spec);
    pp_db_bind_int64(stmt, 16, now);
    if (!store_stmt_run(store, stmt, error, "updating a network"))
      return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_AR_DELETE_FROM, error);

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, id);
    pp_db_bind_int(stmt, 2, (int)spec->ars->len);
    if (!store_stmt_run(store, stmt, error, "removing a network's ranges"))
      return NULL;
  }
  for (guint i = 0; i < spec->ars->len; i++)
    if (!ar_write_locked(store, i < n_old ? NET_AR_UPDATE : NET_AR_INSERT, id, i,
                         &g_array_index(spec->ars, PpNetworkAr, i), error))
      return NULL;
  if (!store_txn_commit(&txn, "updating a network", error))
    return NULL;
  return network_read(store, id, error);
}

/* The ids a statement of one id parameter gives, "4, 7". */
static char *
ids_of_locked(PpStore *store, NetStmtId id, gint64 param, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, id, error);
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, param);
  while (store_stmt_next(store, stmt, &local, "reading a network's VMs")) {
    gint64 vm = pp_db_column_int64(stmt, 0);

    g_array_append_val(ids, vm);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return ids->len > 0 ? store_ids_text(ids) : g_strdup("");
}

gboolean
pp_store_network_delete(PpStore *store, gint64 id, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpNetwork) network = NULL;
  g_autofree char *leased = NULL;
  g_autofree char *users = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "deleting a network", error))
    return FALSE;
  network = network_read(store, id, error);
  if (network == NULL)
    return FALSE;
  leased = ids_of_locked(store, NET_LEASED_VMS, id, error);
  if (leased == NULL)
    return FALSE;
  users = ids_of_locked(store, NET_USERS_OF, id, error);
  if (users == NULL)
    return FALSE;
  if (leased[0] != '\0' || users[0] != '\0') {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "network '%s' is used by VMs %s; terminate them first", network->name,
                leased[0] != '\0' ? leased : users);
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_DELETE_LEASES, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    if (!store_stmt_run(store, stmt, error, "deleting a network's held addresses"))
      return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_DELETE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    if (!store_stmt_run(store, stmt, error, "deleting a network"))
      return FALSE;
  }
  return store_txn_commit(&txn, "deleting a network", error);
}

/* ------------------------------------------------------------------------ */
/* Find and list                                                            */
/* ------------------------------------------------------------------------ */

static gboolean
parse_id(const char *key, gint64 *ret)
{
  char *end = NULL;
  gint64 id;

  if (key[0] < '1' || key[0] > '9' || strlen(key) > 18)
    return FALSE;
  id = g_ascii_strtoll(key, &end, 10);
  if (end == NULL || *end != '\0' || id <= 0)
    return FALSE;
  *ret = id;
  return TRUE;
}

static gboolean
visible(const PpNetwork *network, gint64 viewer_id)
{
  return viewer_id == 0 || network->owner_id == viewer_id || network->shared;
}

static PpNetwork *
not_found(GError **error, const char *key)
{
  g_autofree char *escaped = g_strescape(key, NULL);

  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no network '%.64s'", escaped);
  return NULL;
}

/* The network named @name of owner @owner_id, or 0 in @ret_id. */
static gboolean
id_by_owner_name(PpStore *store, gint64 owner_id, const char *name, gint64 *ret_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_ID_BY_OWNER_NAME, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, owner_id);
  store_bind_text(stmt, 2, name);
  *ret_id = 0;
  if (store_stmt_next(store, stmt, &local, "looking a network up"))
    *ret_id = pp_db_column_int64(stmt, 0);
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

PpNetwork *
pp_store_network_find(PpStore *store, const char *key, const char *uname, gint64 viewer_id,
                      GError **error)
{
  gint64 id = 0;

  g_return_val_if_fail(store != NULL && key != NULL, NULL);

  if (uname != NULL) {
    g_autoptr(PpUser) owner = NULL;
    g_autoptr(GError) local = NULL;
    g_autoptr(PpNetwork) network = NULL;

    owner = pp_store_user_find(store, uname, &local);
    if (owner == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
      }
      return not_found(error, key);
    }
    if (!id_by_owner_name(store, owner->id, key, &id, error))
      return NULL;
    if (id == 0)
      return not_found(error, key);
    network = network_read(store, id, error);
    if (network == NULL)
      return NULL;
    if (!visible(network, viewer_id))
      return not_found(error, key);
    return g_steal_pointer(&network);
  }
  if (parse_id(key, &id)) {
    g_autoptr(GError) local = NULL;
    g_autoptr(PpNetwork) network = network_read(store, id, &local);

    if (network != NULL && visible(network, viewer_id))
      return g_steal_pointer(&network);
    if (network == NULL && !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
    /* An id that is not the viewer's may still be a name. */
  }
  if (viewer_id != 0) {
    if (!id_by_owner_name(store, viewer_id, key, &id, error))
      return NULL;
    if (id != 0)
      return network_read(store, id, error);
  }
  {
    g_autoptr(StoreStmt) stmt =
        net_stmt(store, viewer_id != 0 ? NET_SHARED_BY_NAME : NET_ANY_BY_NAME, error);
    g_autoptr(GString) owners = g_string_new(NULL);
    GError *local = NULL;
    guint n = 0;

    if (stmt == NULL)
      return NULL;
    store_bind_text(stmt, 1, key);
    while (store_stmt_next(store, stmt, &local, "looking a network up")) {
      id = pp_db_column_int64(stmt, 0);
      g_string_append_printf(owners, "%s'%s' (id %" G_GINT64_FORMAT ")", n > 0 ? ", " : "",
                             store_col_text(stmt, 1), id);
      n++;
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
    if (n == 0)
      return not_found(error, key);
    if (n > 1) {
      g_autofree char *escaped = g_strescape(key, NULL);

      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "%s networks are named '%.64s', of users %s%s: name the owner "
                  "(NETWORK_UNAME, --uname) or use an id",
                  n > 3    ? "several"
                  : n == 2 ? "2"
                           : "3",
                  escaped, owners->str, n > 3 ? ", ..." : "");
      return NULL;
    }
    return network_read(store, id, error);
  }
}

GPtrArray *
pp_store_network_page(PpStore *store, gint64 viewer_id, gint64 after, guint limit, gint64 *ret_next,
                      GError **error)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)pp_network_free);

  g_return_val_if_fail(store != NULL && limit >= 1 && limit <= PP_STORE_PAGE_MAX, NULL);

  {
    g_autoptr(StoreStmt) stmt =
        net_stmt(store, viewer_id != 0 ? NET_PAGE_VIEWER : NET_PAGE_ALL, error);
    GError *local = NULL;

    if (stmt == NULL)
      return NULL;
    pp_db_bind_int64(stmt, 1, after);
    pp_db_bind_int(stmt, 2, (int)limit + 1);
    if (viewer_id != 0)
      pp_db_bind_int64(stmt, 3, viewer_id);
    while (store_stmt_next(store, stmt, &local, "listing networks")) {
      gint64 id = pp_db_column_int64(stmt, 0);

      g_array_append_val(ids, id);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  *ret_next = 0;
  for (guint i = 0; i < ids->len && i < limit; i++) {
    PpNetwork *network = network_read(store, g_array_index(ids, gint64, i), error);

    if (network == NULL)
      return NULL;
    g_ptr_array_add(rows, network);
  }
  if (ids->len > limit)
    *ret_next = g_array_index(ids, gint64, limit - 1);
  return g_steal_pointer(&rows);
}

/* The lease a row of NET_LEASES / NET_VM_LEASES is, its addresses from
 * @spec's ranges. */
static gboolean
lease_from_row(PpDbStmt *stmt, const PpNetworkSpec *spec, PpStoreLease *ret, GError **error)
{
  ret->network_id = pp_db_column_int64(stmt, 0);
  ret->ar_id = (guint)pp_db_column_int(stmt, 1);
  ret->index = (guint32)pp_db_column_int64(stmt, 2);
  ret->vm_id = !pp_db_column_is_null(stmt, 3) ? pp_db_column_int64(stmt, 3) : 0;
  ret->nic_id = !pp_db_column_is_null(stmt, 4) ? pp_db_column_int(stmt, 4) : -1;
  if (ret->ar_id >= spec->ars->len ||
      !pp_network_ar_lease(&g_array_index(spec->ars, PpNetworkAr, ret->ar_id), ret->index,
                           &ret->lease, NULL))
    return corrupt(error, ret->network_id, "lease");
  return TRUE;
}

GArray *
pp_store_network_list_leases(PpStore *store, gint64 network_id, guint max, GError **error)
{
  g_autoptr(PpNetwork) network = network_read(store, network_id, error);
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GArray) leases = g_array_new(FALSE, TRUE, sizeof(PpStoreLease));
  GError *local = NULL;

  if (network == NULL)
    return NULL;
  stmt = net_stmt(store, NET_LEASES, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, network_id);
  pp_db_bind_int64(stmt, 2, max);
  while (store_stmt_next(store, stmt, &local, "listing a network's leases")) {
    PpStoreLease lease;

    if (!lease_from_row(stmt, network->spec, &lease, error))
      return NULL;
    g_array_append_val(leases, lease);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&leases);
}

/* ------------------------------------------------------------------------ */
/* Leases                                                                   */
/* ------------------------------------------------------------------------ */

/* Where @address (an IPv4 address or a MAC) is in @network's ranges. */
static gboolean
find_address(const PpNetwork *network, const char *address, guint *ret_ar, guint32 *ret_index,
             GError **error)
{
  PpIp4 ip;
  PpMac mac;
  gboolean found;

  if (pp_ip4_parse(address, &ip, NULL))
    found = pp_network_spec_find_ip(network->spec, &ip, ret_ar, ret_index);
  else if (pp_mac_parse(address, &mac, NULL))
    found = pp_network_spec_find_mac(network->spec, &mac, ret_ar, ret_index);
  else {
    g_autofree char *escaped = g_strescape(address, NULL);

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "'%.64s' is neither an IPv4 address (as 10.0.0.5) nor a MAC (as "
                "02:00:0a:00:00:05)",
                escaped);
    return FALSE;
  }
  if (!found)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%s is in no address range of network '%s'; `pcipass net show %s` lists them",
                address, network->name, network->name);
  return found;
}

/* Who has lease @index of range @ar_id: FALSE in @ret_taken when nobody. */
static gboolean
lease_holder_locked(PpStore *store, gint64 network_id, guint ar_id, guint32 index,
                    gboolean *ret_taken, gint64 *ret_vm_id, gint *ret_nic_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_LEASE_AT, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, network_id);
  pp_db_bind_int(stmt, 2, (int)ar_id);
  pp_db_bind_int64(stmt, 3, index);
  *ret_taken = store_stmt_next(store, stmt, &local, "reading a lease");
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  *ret_vm_id = *ret_taken && !pp_db_column_is_null(stmt, 0) ? pp_db_column_int64(stmt, 0) : 0;
  *ret_nic_id = *ret_taken && !pp_db_column_is_null(stmt, 1) ? pp_db_column_int(stmt, 1) : -1;
  return TRUE;
}

static void
set_taken(GError **error, const char *address, const PpNetwork *network, gint64 vm_id)
{
  if (vm_id != 0)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "%s of network '%s' is leased to VM %" G_GINT64_FORMAT, address, network->name,
                vm_id);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "%s of network '%s' is held (`pcipass net release` gives it back)", address,
                network->name);
}

static gboolean
lease_insert_locked(PpStore *store, gint64 network_id, guint ar_id, guint32 index,
                    const PpNetworkLease *lease, gint64 vm_id, gint nic_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_LEASE_INSERT, error);

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, network_id);
  pp_db_bind_int(stmt, 2, (int)ar_id);
  pp_db_bind_int64(stmt, 3, index);
  pp_db_bind_int64(stmt, 4, (gint64)pp_mac_to_u64(&lease->mac));
  if (lease->has_ip)
    pp_db_bind_int64(stmt, 5, pp_ip4_to_u32(&lease->ip));
  if (vm_id != 0) {
    pp_db_bind_int64(stmt, 6, vm_id);
    pp_db_bind_int(stmt, 7, nic_id);
  }
  return store_stmt_run(store, stmt, error, "taking a lease");
}

gboolean
pp_store_network_hold(PpStore *store, gint64 id, const char *address, PpStoreLease *ret_lease,
                      GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpNetwork) network = NULL;
  PpStoreLease lease = { 0 };
  gboolean taken;
  gint64 vm_id;
  gint nic_id;

  g_return_val_if_fail(store != NULL && address != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "holding an address", error))
    return FALSE;
  network = network_read(store, id, error);
  if (network == NULL || !find_address(network, address, &lease.ar_id, &lease.index, error) ||
      !lease_holder_locked(store, id, lease.ar_id, lease.index, &taken, &vm_id, &nic_id, error))
    return FALSE;
  if (taken) {
    set_taken(error, address, network, vm_id);
    return FALSE;
  }
  lease.network_id = id;
  lease.nic_id = -1;
  pp_network_ar_lease(&g_array_index(network->spec->ars, PpNetworkAr, lease.ar_id), lease.index,
                      &lease.lease, NULL);
  if (!lease_insert_locked(store, id, lease.ar_id, lease.index, &lease.lease, 0, -1, error) ||
      !store_txn_commit(&txn, "holding an address", error))
    return FALSE;
  if (ret_lease != NULL)
    *ret_lease = lease;
  return TRUE;
}

gboolean
pp_store_network_release(PpStore *store, gint64 id, const char *address, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpNetwork) network = NULL;
  guint ar_id;
  guint32 index;
  gboolean taken;
  gint64 vm_id;
  gint nic_id;

  g_return_val_if_fail(store != NULL && address != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "releasing an address", error))
    return FALSE;
  network = network_read(store, id, error);
  if (network == NULL || !find_address(network, address, &ar_id, &index, error) ||
      !lease_holder_locked(store, id, ar_id, index, &taken, &vm_id, &nic_id, error))
    return FALSE;
  if (!taken || vm_id != 0) {
    if (!taken)
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT, "%s of network '%s' is not held",
                  address, network->name);
    else
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "%s of network '%s' is leased to VM %" G_GINT64_FORMAT
                  ", not held: it is given back when the VM is terminated",
                  address, network->name, vm_id);
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_LEASE_RELEASE, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, id);
    pp_db_bind_int(stmt, 2, (int)ar_id);
    pp_db_bind_int64(stmt, 3, index);
    if (!store_stmt_run(store, stmt, error, "releasing an address"))
      return FALSE;
  }
  return store_txn_commit(&txn, "releasing an address", error);
}

/* The lowest free index of range @ar_id from @from, in @ret_index; FALSE
 * in @ret_found when none. */
static gboolean
free_index_locked(PpStore *store, gint64 network_id, guint ar_id, guint32 from, guint32 size,
                  gboolean *ret_found, guint32 *ret_index, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_FREE_IDX, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, network_id);
  pp_db_bind_int(stmt, 2, (int)ar_id);
  pp_db_bind_int64(stmt, 3, from);
  pp_db_bind_int64(stmt, 4, size);
  *ret_found = store_stmt_next(store, stmt, &local, "looking for a free address");
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  if (*ret_found)
    *ret_index = (guint32)pp_db_column_int64(stmt, 0);
  return TRUE;
}

static void
set_no_address(GError **error, const PpNetwork *network)
{
  g_set_error(
      error, PP_STORE_ERROR, PP_STORE_ERROR_NO_ADDRESS,
      "network '%s' (id %" G_GINT64_FORMAT ") has no free address: %" G_GUINT64_FORMAT
      " of %" G_GUINT64_FORMAT " in use (%" G_GUINT64_FORMAT " held); add an AR or free some",
      network->name, network->id, network->used + network->held, network->size, network->held);
}

/* A free address of @network for NIC @nic_id of VM @vm_id: the first
 * range with room, from where its last search ended. Costs the leases
 * between that point and the first free one. */
static gboolean
lease_any_locked(PpStore *store, const PpNetwork *network, gint64 vm_id, gint nic_id,
                 GError **error)
{
  for (guint i = 0; i < network->spec->ars->len; i++) {
    const PpNetworkAr *ar = &g_array_index(network->spec->ars, PpNetworkAr, i);
    guint64 used = g_array_index(network->ar_used, guint64, i);
    guint32 next = g_array_index(network->ar_next, guint32, i);
    gboolean found = FALSE;
    guint32 index = 0;
    PpNetworkLease lease;

    if (used >= ar->size)
      continue;
    if (next >= ar->size)
      next = 0;
    if (!free_index_locked(store, network->id, i, next, ar->size, &found, &index, error))
      return FALSE;
    if (!found && next > 0 &&
        !free_index_locked(store, network->id, i, 0, ar->size, &found, &index, error))
      return FALSE;
    if (!found)
      continue;
    pp_network_ar_lease(ar, index, &lease, NULL);
    if (!lease_insert_locked(store, network->id, i, index, &lease, vm_id, nic_id, error))
      return FALSE;
    {
      g_autoptr(StoreStmt) stmt = net_stmt(store, NET_AR_SET_NEXT, error);

      if (stmt == NULL)
        return FALSE;
      pp_db_bind_int64(stmt, 1, network->id);
      pp_db_bind_int(stmt, 2, (int)i);
      pp_db_bind_int64(stmt, 3, (gint64)index + 1);
      return store_stmt_run(store, stmt, error, "moving a range's search");
    }
  }
  set_no_address(error, network);
  return FALSE;
}

/* Where the IP and MAC asked for are: one lease of @network, which both
 * name when both are given. */
static gboolean
find_asked_locked(const PpNetwork *network, gboolean has_ip, const PpIp4 *ip, gboolean has_mac,
                  const PpMac *mac, guint *ret_ar, guint32 *ret_index, GError **error)
{
  char ip_text[PP_IP4_BUFSIZE], mac_text[PP_MAC_BUFSIZE];
  guint ar_mac;
  guint32 index_mac;

  if (has_ip) {
    pp_ip4_format(ip, ip_text);
    if (!find_address(network, ip_text, ret_ar, ret_index, error))
      return FALSE;
  }
  if (has_mac) {
    pp_mac_format(mac, mac_text);
    if (!find_address(network, mac_text, &ar_mac, &index_mac, error))
      return FALSE;
    if (has_ip && (ar_mac != *ret_ar || index_mac != *ret_index)) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "IP %s and MAC %s are two leases of network '%s'; ask for one of them, or "
                  "both of one lease",
                  ip_text, mac_text, network->name);
      return FALSE;
    }
    *ret_ar = ar_mac;
    *ret_index = index_mac;
  }
  return TRUE;
}

/* The lease asked for (IP, MAC), free: else CONFLICT naming who has it. */
static gboolean
lease_asked_locked(PpStore *store, const PpNetwork *network, gboolean has_ip, const PpIp4 *ip,
                   gboolean has_mac, const PpMac *mac, gint64 vm_id, gint nic_id, gboolean take,
                   GError **error)
{
  guint ar_id = 0;
  guint32 index = 0;
  gboolean taken;
  gint64 holder;
  gint holder_nic;
  PpNetworkLease lease;

  if (!find_asked_locked(network, has_ip, ip, has_mac, mac, &ar_id, &index, error))
    return FALSE;
  pp_network_ar_lease(&g_array_index(network->spec->ars, PpNetworkAr, ar_id), index, &lease, NULL);
  if (!lease_holder_locked(store, network->id, ar_id, index, &taken, &holder, &holder_nic, error))
    return FALSE;
  if (taken) {
    char text[PP_MAC_BUFSIZE];

    set_taken(error, has_ip ? pp_ip4_format(ip, text) : pp_mac_format(mac, text), network, holder);
    return FALSE;
  }
  if (!take)
    return TRUE;
  return lease_insert_locked(store, network->id, ar_id, index, &lease, vm_id, nic_id, error);
}

gboolean
store_vm_nics_insert_locked(PpStore *store, gint64 vm_id, const PpVmSpec *spec, GError **error)
{
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);
    g_autoptr(StoreStmt) stmt = NULL;
    PpIp4 ip;
    PpMac mac;
    gboolean has_ip = nic->ip != NULL && pp_ip4_parse(nic->ip, &ip, NULL);
    gboolean has_mac = nic->mac != NULL && pp_mac_parse(nic->mac, &mac, NULL);

    if (nic->network_id <= 0)
      continue;
    if (has_ip || has_mac) {
      g_autoptr(PpNetwork) network = network_read(store, nic->network_id, error);

      if (network == NULL || !lease_asked_locked(store, network, has_ip, &ip, has_mac, &mac, vm_id,
                                                 (gint)i, FALSE, error)) {
        g_prefix_error(error, "NIC %u: ", i);
        return FALSE;
      }
    }
    stmt = net_stmt(store, NET_VM_NIC_INSERT, error);
    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, vm_id);
    pp_db_bind_int(stmt, 2, (int)i);
    pp_db_bind_int64(stmt, 3, nic->network_id);
    if (has_ip)
      pp_db_bind_int64(stmt, 4, pp_ip4_to_u32(&ip));
    if (has_mac)
      pp_db_bind_int64(stmt, 5, (gint64)pp_mac_to_u64(&mac));
    if (!store_stmt_run(store, stmt, error, "recording a VM's NICs"))
      return FALSE;
  }
  return TRUE;
}

typedef struct {
  gint nic_id;
  gint64 network_id;
  gboolean has_ip;
  PpIp4 ip;
  gboolean has_mac;
  PpMac mac;
} UnleasedNic;

static GArray *
unleased_nics_locked(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_VM_NICS_UNLEASED, error);
  g_autoptr(GArray) nics = g_array_new(FALSE, TRUE, sizeof(UnleasedNic));
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, vm_id);
  while (store_stmt_next(store, stmt, &local, "reading a VM's NICs")) {
    UnleasedNic nic = { 0 };

    nic.nic_id = pp_db_column_int(stmt, 0);
    nic.network_id = pp_db_column_int64(stmt, 1);
    if (!pp_db_column_is_null(stmt, 2)) {
      nic.has_ip = TRUE;
      pp_ip4_from_u32((guint32)pp_db_column_int64(stmt, 2), &nic.ip);
    }
    if (!pp_db_column_is_null(stmt, 3)) {
      nic.has_mac = TRUE;
      pp_mac_from_u64((guint64)pp_db_column_int64(stmt, 3), &nic.mac);
    }
    g_array_append_val(nics, nic);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&nics);
}

gboolean
store_vm_leases_take_locked(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(GArray) nics = unleased_nics_locked(store, vm_id, error);

  if (nics == NULL)
    return FALSE;
  for (guint i = 0; i < nics->len; i++) {
    const UnleasedNic *nic = &g_array_index(nics, UnleasedNic, i);
    g_autoptr(PpNetwork) network = network_read(store, nic->network_id, error);
    gboolean ok;

    if (network == NULL)
      return FALSE;
    if (nic->has_ip || nic->has_mac)
      ok = lease_asked_locked(store, network, nic->has_ip, &nic->ip, nic->has_mac, &nic->mac, vm_id,
                              nic->nic_id, TRUE, error);
    else
      ok = lease_any_locked(store, network, vm_id, nic->nic_id, error);
    if (!ok) {
      g_prefix_error(error, "NIC %d: ", nic->nic_id);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
store_vm_leases_free_locked(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_VM_LEASES_FREE, error);

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  return store_stmt_run(store, stmt, error, "giving a VM's leases back");
}

GArray *
pp_store_vm_list_leases(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GArray) leases = g_array_new(FALSE, TRUE, sizeof(PpStoreLease));
  g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(PpStoreLease));
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = net_stmt(store, NET_VM_LEASES, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, vm_id);
  /* Read the rows first: a network's read uses statements of its own. */
  while (store_stmt_next(store, stmt, &local, "listing a VM's leases")) {
    PpStoreLease row = { 0 };

    row.network_id = pp_db_column_int64(stmt, 0);
    row.ar_id = (guint)pp_db_column_int(stmt, 1);
    row.index = (guint32)pp_db_column_int64(stmt, 2);
    row.vm_id = pp_db_column_int64(stmt, 3);
    row.nic_id = pp_db_column_int(stmt, 4);
    g_array_append_val(rows, row);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  store_stmt_release(g_steal_pointer(&stmt));
  for (guint i = 0; i < rows->len; i++) {
    PpStoreLease *row = &g_array_index(rows, PpStoreLease, i);
    g_autoptr(PpNetwork) network = network_read(store, row->network_id, error);

    if (network == NULL)
      return NULL;
    if (row->ar_id >= network->spec->ars->len ||
        !pp_network_ar_lease(&g_array_index(network->spec->ars, PpNetworkAr, row->ar_id),
                             row->index, &row->lease, NULL)) {
      corrupt(error, row->network_id, "lease");
      return NULL;
    }
    g_array_append_val(leases, *row);
  }
  return g_steal_pointer(&leases);
}

gboolean
pp_store_vm_check_leases(PpStore *store, gint64 vm_id, gboolean *ret_ok, char **ret_reason,
                         GError **error)
{
  g_autoptr(GArray) nics = NULL;

  g_return_val_if_fail(store != NULL && ret_ok != NULL && ret_reason != NULL, FALSE);

  *ret_ok = TRUE;
  *ret_reason = NULL;
  nics = unleased_nics_locked(store, vm_id, error);
  if (nics == NULL)
    return FALSE;
  for (guint i = 0; i < nics->len; i++) {
    const UnleasedNic *nic = &g_array_index(nics, UnleasedNic, i);
    g_autoptr(StoreStmt) stmt = net_stmt(store, NET_FREE_COUNT, error);
    GError *local = NULL;
    gint64 size, used;

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, nic->network_id);
    if (!store_stmt_next(store, stmt, &local, "counting a network's leases")) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return FALSE;
      }
      continue; /* deleted meanwhile: the VM's NIC names none now */
    }
    size = pp_db_column_int64(stmt, 1);
    used = pp_db_column_int64(stmt, 2);
    if (nic->has_ip || nic->has_mac) {
      /* The address asked for: free now, or whom it waits for. */
      g_autoptr(PpNetwork) network = NULL;
      g_autoptr(GError) taken = NULL;

      store_stmt_release(g_steal_pointer(&stmt));
      network = network_read(store, nic->network_id, error);
      if (network == NULL)
        return FALSE;
      if (!lease_asked_locked(store, network, nic->has_ip, &nic->ip, nic->has_mac, &nic->mac, 0,
                              nic->nic_id, FALSE, &taken)) {
        if (taken->domain != PP_STORE_ERROR || taken->code == PP_STORE_ERROR_FAILED ||
            taken->code == PP_STORE_ERROR_BUSY) {
          g_propagate_error(error, g_steal_pointer(&taken));
          return FALSE;
        }
        *ret_ok = FALSE;
        *ret_reason = g_strdup_printf("NIC %d: %s", nic->nic_id, taken->message);
        return TRUE;
      }
      continue;
    }
    if (used >= size) {
      *ret_ok = FALSE;
      *ret_reason = g_strdup_printf(
          "NIC %d: network '%s' (id %" G_GINT64_FORMAT ") has no free address: %" G_GINT64_FORMAT
          " of %" G_GINT64_FORMAT " in use",
          nic->nic_id, store_col_text(stmt, 0), nic->network_id, used, size);
      return TRUE;
    }
  }
  return TRUE;
}

gboolean
store_vm_nic_count_locked(PpStore *store, gint64 vm_id, guint *ret_n, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_VM_NIC_COUNT, error);

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, vm_id);
  if (!store_stmt_next(store, stmt, error, "counting a VM's NICs on networks"))
    return FALSE;
  *ret_n = (guint)pp_db_column_int64(stmt, 0);
  return TRUE;
}

/* The networks @user_id owns, "'lan' (id 1), 'lab' (id 4)" (the first
 * eight, then "..."), or NULL in @ret_text when none. */
gboolean
store_user_networks_locked(PpStore *store, gint64 user_id, char **ret_text, GError **error)
{
  g_autoptr(StoreStmt) stmt = net_stmt(store, NET_OF_OWNER, error);
  g_autoptr(GString) text = g_string_new(NULL);
  GError *local = NULL;
  guint n = 0;

  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, user_id);
  while (store_stmt_next(store, stmt, &local, "reading a user's networks")) {
    if (n++ == 8) {
      g_string_append(text, ", ...");
      break;
    }
    g_string_append_printf(text, "%s'%s' (id %" G_GINT64_FORMAT ")", n > 1 ? ", " : "",
                           store_col_text(stmt, 1), (gint64)pp_db_column_int64(stmt, 0));
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  *ret_text = n > 0 ? g_strdup(text->str) : NULL;
  return TRUE;
}
