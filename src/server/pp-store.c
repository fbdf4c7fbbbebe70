/* pp-store: the store's core: its statements (one table), errors,
 * transactions, the small helpers every part uses (pp-store-int.h), open
 * and close, watching, counts, and what tests use (pp-store-priv.h). The
 * store's concepts live in pp-store-*.c. */
#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <string.h>

#include <glib-unix.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-spec.h"
#include "pp-store-int.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-template.h"
#include "pp-vm-spec-json.h"
#include "pp-vm-template.h"

/* clang-format off */
G_DEFINE_QUARK(pp-store-error-quark, pp_store_error)
/* clang-format on */

/* ------------------------------------------------------------------------ */
/* Statements, prepared once per store                                      */
/* ------------------------------------------------------------------------ */

/* A host row as store_host_from_row() reads it; the counts are the devices and
 * the free devices (not held, not gone). */
#define HOST_COLUMNS                                                                               \
  "h.id, h.name, h.ssh_user, h.ssh_host, h.ssh_port, h.libvirt_uri, h.probe_command, h.state, "    \
  "h.error, h.reported_hostname, h.cpu_count, h.memory_kib, h.kernel_version, "                    \
  "h.last_monitored, h.created, h.prebound, "                                                      \
  "(SELECT count(*) FROM pci_device d WHERE d.host_id = h.id), "                                   \
  "(SELECT count(*) FROM pci_device d WHERE d.host_id = h.id AND d.vm_id IS NULL "                 \
  "AND d.gone = 0), h.libvirt_error, h.context_pool "

/* A device row as device_from_row() and device_row_matches() read it:
 * FROM pci_device d. allowed: an administrator gave this needed device to
 * VMs on purpose (host_allowance). */
#define DEVICE_COLUMNS                                                                             \
  "d.id, d.host_id, d.address, d.short_address, d.vendor, d.device, d.class_code, "                \
  "d.vendor_name, d.device_name, d.class_name, d.numa_node, d.iommu_group, d.driver, d.sriov, "    \
  "d.physfn, d.vm_id, d.vm_slot, d.gone, d.attributes, d.host_needs, d.set_aside, "                \
  "EXISTS (SELECT 1 FROM host_allowance a WHERE a.host_id = d.host_id AND a.address = "            \
  "d.address), "                                                                                   \
  "d.group_endpoints, d.perm_mac, d.vf_index "
/* Parameters ?2..?19 of DEV_INSERT and DEV_UPDATE are the same fields, so
 * that bind_device() serves both; ?1 is the host (insert) or the row
 * (update). Updates leave address alone: it is the row's key. */
#define DEVICE_FIELDS                                                                              \
  "short_address, vendor, device, class_code, vendor_name, device_name, class_name, "              \
  "numa_node, iommu_group, driver, sriov, physfn, attributes, host_needs, group_endpoints, "       \
  "perm_mac, vf_index"

/* A VM row as vm_from_row() reads it: FROM VM_TABLES. */
#define VM_COLUMNS                                                                                 \
  "v.id, v.name, v.owner_id, u.name, v.state, v.reason, v.template, v.host_id, h.name, v.cpu, "    \
  "v.memory_kib, v.created, v.updated, v.tries "
#define VM_TABLES "vms v JOIN users u ON u.id = v.owner_id LEFT JOIN hosts h ON h.id = v.host_id "

#define USER_COLUMNS "id, name, admin, created "
#define TOKEN_COLUMNS "t.id, t.user_id, u.name, t.name, t.created, t.last_used, t.expires "

/* Every statement the store runs, by id; values always go in as bound
 * parameters. A parameter whose first use compares it with a literal
 * ("?2 = 0": 0 for any owner) is cast to BIGINT there: PostgreSQL types a
 * parameter from its first use, and 0 would make it a 32-bit integer. */
static const char *const stmt_sql[N_STMTS] = {
  [STMT_HOST_GET] = "SELECT " HOST_COLUMNS "FROM hosts h WHERE h.id = ?1",
  [STMT_HOST_GET_BY_NAME] = "SELECT " HOST_COLUMNS "FROM hosts h WHERE h.name = ?1",
  [STMT_HOST_LIST] = "SELECT " HOST_COLUMNS "FROM hosts h ORDER BY h.id",
  [STMT_HOST_ID_BY_NAME] = "SELECT id FROM hosts WHERE name = ?1",
  [STMT_HOST_INSERT] =
      "INSERT INTO hosts (name, ssh_user, ssh_host, ssh_port, libvirt_uri, "
      "probe_command, created, prebound, context_pool) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, coalesce(?9, 'default')) RETURNING id",
  /* SET's right-hand sides see the row as it was. */
  [STMT_HOST_SET_ENABLED] =
      "UPDATE hosts SET enabled = ?2, "
      "state = CASE WHEN ?2 = enabled THEN state WHEN ?2 = 1 THEN 'init' ELSE 'disabled' END, "
      "error = CASE WHEN ?2 = enabled THEN error END, "
      "libvirt_error = CASE WHEN ?2 = enabled THEN libvirt_error END WHERE id = ?1",
  [STMT_HOST_SET_PREBOUND] = "UPDATE hosts SET prebound = ?2 WHERE id = ?1",
  [STMT_HOST_UPDATE] = "UPDATE hosts SET ssh_user = ?2, ssh_host = ?3, ssh_port = ?4, "
                       "libvirt_uri = ?5, probe_command = ?6, prebound = ?7, context_pool = ?8 "
                       "WHERE id = ?1",
  [STMT_HOST_NAME] = "SELECT name, enabled FROM hosts WHERE id = ?1",
  [STMT_HOST_HELD_BY] = "SELECT DISTINCT vm_id FROM pci_device "
                        "WHERE host_id = ?1 AND vm_id IS NOT NULL ORDER BY vm_id",
  [STMT_HOST_VMS_ON] = "SELECT id FROM vms WHERE host_id = ?1 ORDER BY id",
  [STMT_HOST_DELETE] = "DELETE FROM hosts WHERE id = ?1",
  [STMT_HOST_SET_FACTS] =
      "UPDATE hosts SET reported_hostname = ?2, cpu_count = ?3, memory_kib = ?4, "
      "kernel_version = ?5, state = CASE WHEN enabled = 0 THEN 'disabled' "
      "WHEN libvirt_error IS NOT NULL THEN 'error' ELSE 'monitored' END, "
      "error = NULL, last_monitored = ?6, report_hash = ?7 WHERE id = ?1",
  [STMT_HOST_SET_ERROR] =
      "UPDATE hosts SET state = CASE WHEN enabled = 1 THEN 'error' ELSE 'disabled' END, "
      "error = CASE WHEN enabled = 1 THEN ?2 ELSE NULL END, last_monitored = ?3 WHERE id = ?1",
  /* A host that answers: monitored when its last probe succeeded, init
   * before its first. */
  [STMT_HOST_SET_LIBVIRT] =
      "UPDATE hosts SET libvirt_error = CASE WHEN enabled = 1 THEN ?2 END, "
      "state = CASE WHEN enabled = 0 THEN 'disabled' "
      "WHEN ?2 IS NOT NULL OR error IS NOT NULL THEN 'error' "
      "WHEN last_monitored = 0 THEN 'init' ELSE 'monitored' END WHERE id = ?1",
  [STMT_ALLOW_INSERT] = "INSERT INTO host_allowance (host_id, address, by_name, created) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host_id, address) DO NOTHING",
  [STMT_ALLOW_DELETE] = "DELETE FROM host_allowance WHERE host_id = ?1 AND address = ?2",
  [STMT_ALLOW_LIST] = "SELECT address, by_name, created FROM host_allowance WHERE host_id = ?1 "
                      "ORDER BY length(address), address",
  /* By address; a longer address has a wider (larger) domain. */
  [STMT_DEV_LIST] = "SELECT " DEVICE_COLUMNS "FROM pci_device d WHERE d.host_id = ?1 "
                    "ORDER BY length(d.address), d.address",
  [STMT_DEV_INSERT] =
      "INSERT INTO pci_device (host_id, address, " DEVICE_FIELDS ") "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
      "?19)",
  /* Reported again: present, and no longer set aside. */
  [STMT_DEV_UPDATE] =
      "UPDATE pci_device SET (" DEVICE_FIELDS ", gone, set_aside) = "
      "(?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, 0, NULL) "
      "WHERE id = ?1",
  [STMT_DEV_DELETE] = "DELETE FROM pci_device WHERE id = ?1",
  [STMT_DEV_FLAG_GONE] = "UPDATE pci_device SET gone = 1 WHERE id = ?1",
  /* One pass over UNIQUE(host_id, address)'s index, each host's few rows
   * sorted again by address length (the order of STMT_DEV_LIST). */
  [STMT_DEV_LIST_ALL] = "SELECT " DEVICE_COLUMNS "FROM pci_device d "
                        "ORDER BY d.host_id, length(d.address), d.address",
  [STMT_DEV_LIST_VM] =
      "SELECT " DEVICE_COLUMNS "FROM pci_device d WHERE d.vm_id = ?1 ORDER BY d.vm_slot",
  /* Takes the device only if it is still free, present and on the host. */
  [STMT_DEV_ALLOCATE] = "UPDATE pci_device SET vm_id = ?2, vm_slot = ?3 "
                        "WHERE id = ?1 AND vm_id IS NULL AND gone = 0 AND host_id = ?4",
  [STMT_DEV_HOLDER] = "SELECT d.address, d.host_id, h.name, d.vm_id, d.gone "
                      "FROM pci_device d JOIN hosts h ON h.id = d.host_id WHERE d.id = ?1",
  [STMT_DEV_DELETE_GONE_OF_VM] = "DELETE FROM pci_device WHERE vm_id = ?1 AND gone = 1",
  [STMT_DEV_FREE_OF_VM] = "UPDATE pci_device SET vm_id = NULL, vm_slot = NULL WHERE vm_id = ?1",
  [STMT_DEV_SET_ASIDE] = "UPDATE pci_device SET set_aside = ?3 WHERE host_id = ?1 AND address = ?2",
  [STMT_VM_GET] = "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE v.id = ?1",
  /* ?2: the owner, 0 for every owner's (an admin). */
  [STMT_VM_FIND_BY_NAME] =
      "SELECT id, state FROM vms WHERE name = ?1 AND (CAST(?2 AS BIGINT) = 0 OR owner_id = ?2) "
      "ORDER BY id",
  /* ?2..?9: the names of the states asked for (NULL for the rest); ?2
   * NULL: every state. */
  [STMT_VM_LIST] =
      "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE (CAST(?1 AS BIGINT) = 0 OR v.owner_id = ?1) "
      "AND (CAST(?2 AS TEXT) IS NULL OR v.state IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)) "
      "ORDER BY v.id",
  [STMT_VM_INSERT] =
      "INSERT INTO vms (name, owner_id, template, cpu, memory_kib, created, updated, "
      "only_host_id, only_host_name, domain_spec) "
      "VALUES (coalesce(?1, ''), ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9) RETURNING id",
  [STMT_VM_REQUEST_INSERT] = "INSERT INTO vm_pci_request (vm_id, slot, class_code, vendor, device, "
                             "address, pf_policy, nic_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                             "coalesce(?7, 0), ?8)",
  [STMT_VM_REQUESTS] = "SELECT class_code FROM vm_pci_request WHERE vm_id = ?1 ORDER BY slot",
  [STMT_VM_NAME_DEFAULT] = "UPDATE vms SET name = 'vm-' || id WHERE id = ?1",
  [STMT_VM_STATE] = "SELECT state FROM vms WHERE id = ?1",
  /* A new place: no domain yet. */
  [STMT_VM_ALLOCATE] = "UPDATE vms SET state = 'deploying', host_id = ?2, "
                       "updated = ?3, reason = ?4, domain_xml = NULL "
                       "WHERE id = ?1 AND state = 'pending'",
  [STMT_VM_TRANSITION] = "UPDATE vms SET state = ?3, reason = ?4, updated = ?5 "
                         "WHERE id = ?1 AND state = ?2",
  [STMT_VM_RELEASE] = "UPDATE vms SET state = ?2, reason = ?3, host_id = NULL, "
                      "updated = ?4 WHERE id = ?1",
  /* Back to pending, holding nothing (its devices freed first); ?4: add
   * one try (a deploy failed) or start counting again (a user's retry). */
  [STMT_VM_REQUEUE] = "UPDATE vms SET state = 'pending', reason = ?2, host_id = NULL, "
                      "updated = ?3, domain_xml = NULL, "
                      "tries = CASE WHEN ?4 THEN tries + 1 ELSE 0 END WHERE id = ?1",
  [STMT_VM_LIST_ON_HOST] =
      "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE v.host_id = ?1 ORDER BY v.id",
  [STMT_VM_HISTORY] = "SELECT at, from_state, to_state, reason, host_name FROM vm_history "
                      "WHERE vm_id = ?1 ORDER BY id",
  [STMT_VM_SPEC] = "SELECT name, cpu, memory_kib, only_host_id, only_host_name, domain_spec "
                   "FROM vms WHERE id = ?1",
  [STMT_VM_REQUESTS_TYPED] = "SELECT class_code, vendor, device, address, pf_policy, nic_id "
                             "FROM vm_pci_request "
                             "WHERE vm_id = ?1 ORDER BY slot",
  [STMT_VM_SET_DOMAIN_XML] = "UPDATE vms SET domain_xml = ?2 WHERE id = ?1",
  [STMT_VM_DOMAIN_XML] = "SELECT domain_xml FROM vms WHERE id = ?1",
  [STMT_HOST_USAGE] = "SELECT host_id, sum(cpu), sum(memory_kib) FROM vms "
                      "WHERE host_id IS NOT NULL GROUP BY host_id",
  [STMT_VM_HOST_IDS] = "SELECT id, host_id FROM vms WHERE host_id IS NOT NULL",
  [STMT_USER_GET] = "SELECT " USER_COLUMNS "FROM users WHERE id = ?1",
  [STMT_USER_GET_BY_NAME] = "SELECT " USER_COLUMNS "FROM users WHERE name = ?1",
  [STMT_USER_LIST] = "SELECT " USER_COLUMNS "FROM users ORDER BY id",
  [STMT_USER_INSERT] = "INSERT INTO users (name, admin, created) VALUES (?1, ?2, ?3) RETURNING id",
  [STMT_USER_VMS_NOT_DONE] =
      "SELECT id FROM vms WHERE owner_id = ?1 AND state <> 'done' ORDER BY id",
  /* Their history and PCI requests go with them (ON DELETE CASCADE); a
   * done VM holds no device (the schema's triggers). */
  [STMT_USER_DELETE_DONE_VMS] = "DELETE FROM vms WHERE owner_id = ?1 AND state = 'done'",
  [STMT_USER_DELETE_TOKENS] = "DELETE FROM tokens WHERE user_id = ?1",
  [STMT_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
  [STMT_USER_HAS_QUOTA] =
      "SELECT quota_vms IS NOT NULL OR quota_cpu IS NOT NULL OR quota_memory_kib IS NOT NULL "
      "OR quota_pci IS NOT NULL OR quota_leases IS NOT NULL OR EXISTS (SELECT 1 FROM "
      "user_pci_quota q WHERE q.user_id = ?1) "
      "FROM users WHERE id = ?1",
  [STMT_USER_QUOTA] =
      "SELECT quota_vms, quota_cpu, quota_memory_kib, quota_pci, quota_leases FROM users "
      "WHERE id = ?1",
  /* What user ?1's VMs that are not done hold, VM ?2 left out (0: none). */
  [STMT_USER_USAGE] = "SELECT count(*), coalesce(sum(v.cpu), 0), coalesce(sum(v.memory_kib), 0), "
                      "(SELECT count(*) FROM vm_pci_request r JOIN vms w ON w.id = r.vm_id "
                      "WHERE w.owner_id = ?1 AND w.state <> 'done' AND w.id <> ?2), "
                      "(SELECT count(*) FROM vm_nic n JOIN vms w ON w.id = n.vm_id "
                      "WHERE w.owner_id = ?1 AND w.state <> 'done' AND w.id <> ?2 "
                      "AND n.network_id IS NOT NULL) "
                      "FROM vms v WHERE v.owner_id = ?1 AND v.state <> 'done' AND v.id <> ?2",
  /* Every class user ?1 has a limit for or requests of: the limit (NULL:
   * none) and the requests, VM ?2 left out. */
  [STMT_USER_CLASS_USAGE] =
      "SELECT class_code, max(quota), sum(used) FROM ("
      "SELECT class_code, quota, 0 AS used FROM user_pci_quota WHERE user_id = ?1 "
      "UNION ALL SELECT r.class_code, NULL, 1 FROM vm_pci_request r JOIN vms w ON w.id = r.vm_id "
      "WHERE w.owner_id = ?1 AND w.state <> 'done' AND w.id <> ?2 AND r.class_code IS NOT NULL) "
      "AS t GROUP BY class_code ORDER BY class_code",
  [STMT_USER_SET_QUOTA] = "UPDATE users SET quota_vms = ?2, quota_cpu = ?3, quota_memory_kib = ?4, "
                          "quota_pci = ?5, quota_leases = ?6 WHERE id = ?1",
  [STMT_CLASS_QUOTA_SET] = "INSERT INTO user_pci_quota (user_id, class_code, quota) "
                           "VALUES (?1, ?2, ?3) ON CONFLICT (user_id, class_code) "
                           "DO UPDATE SET quota = excluded.quota",
  [STMT_CLASS_QUOTA_DELETE] = "DELETE FROM user_pci_quota WHERE user_id = ?1 AND class_code = ?2",
  [STMT_CLASS_QUOTA_COUNT] = "SELECT count(*) FROM user_pci_quota WHERE user_id = ?1",
  [STMT_TOKEN_GET] = "SELECT " TOKEN_COLUMNS "FROM tokens t JOIN users u ON u.id = t.user_id "
                     "WHERE t.id = ?1",
  [STMT_TOKEN_BY_HASH] =
      "SELECT t.id, t.user_id, t.last_used, t.expires FROM tokens t WHERE t.hash = ?1",
  [STMT_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
  [STMT_TOKEN_INSERT] = "INSERT INTO tokens (user_id, name, hash, created, expires) "
                        "VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
  [STMT_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS "FROM tokens t JOIN users u ON u.id = t.user_id "
                      "WHERE CAST(?1 AS BIGINT) = 0 OR t.user_id = ?1 ORDER BY t.id",
  /* ?2: the owner it must have, 0 for any (an admin). */
  [STMT_TOKEN_DELETE] =
      "DELETE FROM tokens WHERE id = ?1 AND (CAST(?2 AS BIGINT) = 0 OR user_id = ?2)",
  [STMT_COUNT_HOSTS] = "SELECT state, count(*) FROM hosts GROUP BY state",
  [STMT_COUNT_DEVICES] = "SELECT count(*), count(vm_id), coalesce(sum(gone), 0) FROM pci_device",
  [STMT_COUNT_USERS] = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens)",
  [STMT_COUNT_VMS] = "SELECT state, count(*) FROM vms GROUP BY state",
  /* Whether a pushed report with the same hash may be passed over: the
   * hash, whether the host's state came from a report (not init, no
   * probe error), whether a device waits to be reported again. */
  [STMT_HOST_TOUCH_MONITORED] = "UPDATE hosts SET last_monitored = ?2 WHERE id = ?1",
  [STMT_HOST_REPORT_STATE] =
      "SELECT h.report_hash, h.state <> 'init' AND h.error IS NULL, "
      "EXISTS (SELECT 1 FROM pci_device d WHERE d.host_id = h.id AND d.set_aside IS NOT NULL) "
      "FROM hosts h WHERE h.id = ?1",
  /* A new token replaces the host's old one. */
  [STMT_HOST_TOKEN_SET] = "INSERT INTO host_token (host_id, hash, created) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (host_id) DO UPDATE SET hash = excluded.hash, "
                          "created = excluded.created, last_used = NULL",
  [STMT_HOST_TOKEN_DELETE] = "DELETE FROM host_token WHERE host_id = ?1",
  [STMT_HOST_TOKEN_BY_HASH] =
      "SELECT t.host_id, h.name, t.created, t.last_used "
      "FROM host_token t JOIN hosts h ON h.id = t.host_id WHERE t.hash = ?1",
  [STMT_HOST_TOKEN_TOUCH] = "UPDATE host_token SET last_used = ?2 WHERE host_id = ?1",
  [STMT_HOST_TOKEN_LIST] = "SELECT t.host_id, h.name, t.created, t.last_used "
                           "FROM host_token t JOIN hosts h ON h.id = t.host_id ORDER BY t.host_id",
  /* Who leads (pp_store_try_lead()), kept beside the store's id. */
  [STMT_LEADER_SET] = "INSERT INTO store_meta (key, value) VALUES ('leader', ?1), "
                      "('leader_since', ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  [STMT_LEADER_GET] = "SELECT key, value FROM store_meta WHERE key IN ('leader', 'leader_since')",
};

/* Ten parameters ?T0 .. ?T9, and the hundred ?1 .. ?100 of PAGE_VM_ROWS. */
/* clang-format off */
#define PAGE_PARAMS_10(t) \
  "?" #t "0, ?" #t "1, ?" #t "2, ?" #t "3, ?" #t "4, ?" #t "5, ?" #t "6, ?" #t "7, ?" #t "8, ?" #t "9"
#define PAGE_PARAMS_100 \
  "?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, " \
  PAGE_PARAMS_10(1) ", " PAGE_PARAMS_10(2) ", " PAGE_PARAMS_10(3) ", " \
  PAGE_PARAMS_10(4) ", " PAGE_PARAMS_10(5) ", " PAGE_PARAMS_10(6) ", " \
  PAGE_PARAMS_10(7) ", " PAGE_PARAMS_10(8) ", " PAGE_PARAMS_10(9) ", ?100"
/* clang-format on */
G_STATIC_ASSERT(PAGE_ROWS_AT_ONCE == 100);

static const char *const page_stmt_sql[N_PAGE_STMTS] = {
  [PAGE_VM_IDS] = "SELECT id FROM vms WHERE id > ?1 ORDER BY id LIMIT ?2",
  [PAGE_VM_IDS_OWNER] = "SELECT id FROM vms WHERE owner_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
  [PAGE_VM_IDS_STATE] = "SELECT id FROM vms WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
  [PAGE_VM_IDS_OWNER_STATE] = "SELECT id FROM vms WHERE owner_id = ?1 AND state = ?2 AND id > ?3 "
                              "ORDER BY id LIMIT ?4",
  [PAGE_VM_IDS_HOST] = "SELECT id FROM vms WHERE host_id = ?1 AND id > ?2 "
                       "AND (CAST(?4 AS BIGINT) = 0 OR owner_id = ?4) "
                       "AND (CAST(?5 AS TEXT) IS NULL OR instr(?5, ',' || state || ',') > 0) "
                       "ORDER BY id LIMIT ?3",
  [PAGE_VM_ROWS] =
      "SELECT v.id, v.name, v.owner_id, u.name, v.state, "
      "substr(v.reason, 1, " G_STRINGIFY(
          PP_STORE_ROW_TEXT_MAX) "), v.host_id, h.name, "
                                 "v.cpu, v.memory_kib, "
                                 "(SELECT count(*) FROM pci_device d WHERE d.vm_id = v.id), "
                                 "v.created, v.updated, v.tries "
                                 "FROM vms v JOIN users u ON u.id = v.owner_id "
                                 "LEFT JOIN hosts h ON h.id = v.host_id "
                                 "WHERE v.id IN (" PAGE_PARAMS_100 ") ORDER BY v.id",
  [PAGE_VM_OWNED] =
      "SELECT EXISTS (SELECT 1 FROM vms WHERE id = ?1 AND owner_id = ?2 AND state <> 'done')",
  [PAGE_HOST_IDS] = "SELECT id FROM hosts WHERE id > ?1 ORDER BY id LIMIT ?2",
  [PAGE_HOST_IDS_STATE] = "SELECT id FROM hosts WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
  [PAGE_HOST_ROWS] = "SELECT " HOST_COLUMNS "FROM hosts h WHERE h.id IN (" PAGE_PARAMS_100 ") "
                     "ORDER BY h.id",
  /* The order of STMT_DEV_LIST_ALL. */
  [PAGE_HOST_DEVICES] = "SELECT " DEVICE_COLUMNS "FROM pci_device d "
                        "WHERE d.host_id IN (" PAGE_PARAMS_100 ") "
                        "ORDER BY d.host_id, length(d.address), d.address",
  /* As STMT_HOST_USAGE sums. */
  [PAGE_HOST_USAGE] = "SELECT host_id, sum(cpu), sum(memory_kib) FROM vms "
                      "WHERE host_id IN (" PAGE_PARAMS_100 ") GROUP BY host_id",
  [PAGE_DEVICE_HOSTS] = "SELECT DISTINCT host_id FROM pci_device WHERE id IN (" PAGE_PARAMS_100 ")",
};

void
store_stmt_release(StoreStmt *stmt)
{
  pp_db_reset(stmt);
}

/* Returns: (transfer none): the cached paged-list statement @id. */
StoreStmt *
store_page_stmt(PpStore *store, PageStmtId id, GError **error)
{
  if (store->page_stmts[id] == NULL &&
      (store->page_stmts[id] = pp_db_prepare(store->db, page_stmt_sql[id])) == NULL) {
    store_set_error(store, error, "preparing the list statement %d", (int)id);
    return NULL;
  }
  return store->page_stmts[id];
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* PpDbErr and PpStoreError say the same things. */
static PpStoreError
error_code_from_db(PpDbErr err)
{
  switch (err) {
  case PP_DB_ERR_BUSY:
  case PP_DB_ERR_GONE: /* a standby's moment: try again once connected */
    return PP_STORE_ERROR_BUSY;
  case PP_DB_ERR_CONFLICT:
    return PP_STORE_ERROR_CONFLICT;
  case PP_DB_ERR_INVALID:
    return PP_STORE_ERROR_INVALID;
  case PP_DB_ERR_NONE:
  case PP_DB_ERR_FAILED:
  default:
    return PP_STORE_ERROR_FAILED;
  }
}

/* Sets @error from the connection's last error: "OPERATION: the
 * database's message". Call it before anything else touches the connection (a
 * rollback would replace the message). */
void G_GNUC_PRINTF(3, 4) store_set_error(PpStore *store, GError **error, const char *format, ...)
{
  g_autofree char *op = NULL;
  va_list args;

  va_start(args, format);
  op = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_STORE_ERROR, error_code_from_db(pp_db_errcode(store->db)), "%s: %s", op,
              pp_db_errmsg(store->db));
}

/* Returns: (transfer none): the cached statement @id, ready for binding. */
StoreStmt *
store_stmt(PpStore *store, StmtId id, GError **error)
{
  if (store->stmts[id] == NULL &&
      (store->stmts[id] = pp_db_prepare(store->db, stmt_sql[id])) == NULL) {
    store_set_error(store, error, "preparing statement %d", (int)id);
    return NULL;
  }
  return store->stmts[id];
}

/* Runs a statement that returns no rows; FALSE with the error on failure. */
gboolean
store_stmt_run(PpStore *store, StoreStmt *stmt, GError **error, const char *what)
{
  if (pp_db_step(stmt) != PP_DB_STEP_DONE) {
    store_set_error(store, error, "%s", what);
    return FALSE;
  }
  return TRUE;
}

/* Runs an INSERT ... RETURNING id: *@ret_id, the new row's id. */
gboolean
store_stmt_insert(PpStore *store, StoreStmt *stmt, gint64 *ret_id, GError **error, const char *what)
{
  if (pp_db_step(stmt) != PP_DB_STEP_ROW) {
    store_set_error(store, error, "%s", what);
    return FALSE;
  }
  *ret_id = pp_db_column_int64(stmt, 0);
  return TRUE;
}

/* Steps a query: TRUE for a row, FALSE at the end or on an error (set
 * then). */
gboolean
store_stmt_next(PpStore *store, StoreStmt *stmt, GError **error, const char *what)
{
  int rc = pp_db_step(stmt);

  if (rc == PP_DB_STEP_ROW)
    return TRUE;
  if (rc != PP_DB_STEP_DONE)
    store_set_error(store, error, "%s", what);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

void
store_txn_clear(StoreTxn *txn)
{
  PpStore *store = txn->store;

  if (txn->store == NULL)
    return;
  txn->store = NULL;
  pp_db_rollback(store->db);
}

/* The database's write lock now (waiting up to its busy timeout), so that
 * what the transaction reads stays true until COMMIT (pp_db_begin_write). */
gboolean
store_txn_begin(PpStore *store, StoreTxn *txn, const char *what, GError **error)
{
  g_assert(txn->store == NULL);
  if (!pp_db_begin_write(store->db)) {
    store_set_error(store, error, "%s: starting a transaction", what);
    return FALSE;
  }
  txn->store = store;
  return TRUE;
}

gboolean
pp_store_read_begin(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(!pp_db_in_transaction(store->db), FALSE);
  if (!pp_db_begin_read(store->db)) {
    store_set_error(store, error, "starting a read transaction");
    return FALSE;
  }
  return TRUE;
}

void
pp_store_read_end(PpStore *store)
{
  g_return_if_fail(store != NULL);
  /* Ended already: a write inside failed and rolled it back. */
  if (!pp_db_in_transaction(store->db))
    return;
  if (!pp_db_commit(store->db)) {
    g_warning("ending a read transaction: %s; rolling it back", pp_db_errmsg(store->db));
    pp_db_rollback(store->db);
  }
}

gboolean
store_txn_commit(StoreTxn *txn, const char *what, GError **error)
{
  PpStore *store = txn->store;

  if (!pp_db_commit(store->db)) {
    store_set_error(store, error, "%s: committing", what);
    return FALSE; /* txn rolls back when cleared */
  }
  txn->store = NULL;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

char *
store_col_strdup(PpDbStmt *stmt, int col)
{
  if (pp_db_column_is_null(stmt, col))
    return NULL;
  return g_strdup(pp_db_column_text(stmt, col));
}

const char *
store_col_text(PpDbStmt *stmt, int col)
{
  return pp_db_column_text(stmt, col);
}

/* Binds a nullable string that outlives the statement's step. */
void
store_bind_text(PpDbStmt *stmt, int index, const char *text)
{
  if (text == NULL)
    pp_db_bind_null(stmt, index);
  else
    pp_db_bind_text(stmt, index, text);
}

/* A reason, from libvirt or a probe: bounded and made UTF-8. Returns:
 * (transfer full) (nullable). */
char *
store_vm_reason_text(const char *reason)
{
  if (reason == NULL)
    return NULL;
  return g_utf8_make_valid(reason, MIN(strlen(reason), VM_REASON_MAX_LEN));
}

/* The name rule of hosts and users; @kind is "host" or "user". */
gboolean
store_check_name(const char *kind, const char *name, GError **error)
{
  gsize len = name ? strlen(name) : 0;
  gsize good = name ? strspn(name, NAME_CHARS) : 0;

  if (len == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "a %s name cannot be empty", kind);
    return FALSE;
  }
  if (len > NAME_MAX_LEN) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a %s name is at most %d characters; this one has %" G_GSIZE_FORMAT, kind,
                NAME_MAX_LEN, len);
    return FALSE;
  }
  if (good != len) {
    g_autofree char *escaped = g_strescape(name, NULL);

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%s name '%s' has a character other than A-Z, a-z, 0-9, '.', '_' and '-' "
                "(at byte %" G_GSIZE_FORMAT ")",
                kind, escaped, good + 1);
    return FALSE;
  }
  if (name[0] == '-' || name[0] == '.') {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "%s name '%s' starts with '%c'",
                kind, name, name[0]);
    return FALSE;
  }
  return TRUE;
}

/* A short single-line value (a token name, who allowed a device): the
 * rule of pp-host-spec's words, in the store's error domain. */
gboolean
store_check_field(const char *what, const char *value, gsize max_len, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!pp_host_spec_check_word(what, value, max_len, NULL, &local)) {
    g_set_error_literal(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, local->message);
    return FALSE;
  }
  return TRUE;
}

/* The rows of query @id (?1 bound to @param, unless 0), each read by @read,
 * in the query's order; @what words an error. Returns: (transfer full):
 * an array that frees them with @free_func, or %NULL with @error. */
GPtrArray *
store_rows_list(PpStore *store, StmtId id, gint64 param, RowReader read, GDestroyNotify free_func,
                const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, id, error);
  g_autoptr(GPtrArray) rows = NULL;
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  if (param != 0)
    pp_db_bind_int64(stmt, 1, param);
  rows = g_ptr_array_new_with_free_func(free_func);
  while (store_stmt_next(store, stmt, &local, what))
    g_ptr_array_add(rows, read(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&rows);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

/* SQLite's settings for the store's file. */
static gboolean
store_setup_sqlite(PpStore *store, GError **error)
{
  g_autoptr(PpDbStmt) stmt = NULL;

  if (!store_exec(store, "PRAGMA synchronous = NORMAL", error, "setting synchronous"))
    return FALSE;
  /* 32 MiB of pages (SQLite's default is 2 MiB): at 100,000 VMs the
   * indexes a request reads stay in memory instead of being read again
   * from the file at every request. */
  if (!store_exec(store, "PRAGMA cache_size = -32768", error, "setting the cache size"))
    return FALSE;
  /* WAL: readers never block the writer. The pragma answers the mode it
   * got; a file system that cannot share memory stays in its old mode. */
  if ((stmt = pp_db_prepare(store->db, "PRAGMA journal_mode = WAL")) == NULL ||
      pp_db_step(stmt) != PP_DB_STEP_ROW) {
    store_set_error(store, error, "opening store '%s': setting WAL mode", store->path);
    return FALSE;
  }
  if (g_ascii_strcasecmp(store_col_text(stmt, 0), "wal") != 0)
    g_debug("'%s': journal mode stays '%s', ignoring", store->path, store_col_text(stmt, 0));
  return TRUE;
}

PpStore *
pp_store_open(const char *path, GError **error)
{
  g_autoptr(PpStore) store = NULL;
  g_autoptr(PpDbStmt) stmt = NULL;
  g_autoptr(GError) local = NULL;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  store = g_new0(PpStore, 1);
  /* What messages say of it: a URI's password hidden. */
  store->path = pp_db_location_redact(path);
  store->scratch = g_string_sized_new(4096);
  store->db = pp_db_open(path, &local);
  if (store->db == NULL) {
    g_set_error_literal(error, PP_STORE_ERROR, error_code_from_db((PpDbErr)local->code),
                        local->message);
    return NULL;
  }
  if (pp_db_get_kind(store->db) == PP_DB_KIND_SQLITE && !store_setup_sqlite(store, error))
    return NULL;
  if (!store_migrate(store, error))
    return NULL;
  if ((stmt = pp_db_prepare(store->db, "SELECT value FROM store_meta WHERE key = 'id'")) == NULL ||
      pp_db_step(stmt) != PP_DB_STEP_ROW) {
    store_set_error(store, error, "opening store '%s': reading its id", path);
    return NULL;
  }
  store->id = store_col_strdup(stmt, 0);
  return g_steal_pointer(&store);
}

void
pp_store_free(PpStore *store)
{
  if (store == NULL)
    return;
  for (guint i = 0; i < N_STMTS; i++)
    pp_db_finalize(store->stmts[i]);
  for (guint i = 0; i < N_PAGE_STMTS; i++)
    pp_db_finalize(store->page_stmts[i]);
  store_network_stmts_finalize(store);
  if (store->db != NULL) {
    if (store->schema_version > 0 && pp_db_get_kind(store->db) == PP_DB_KIND_SQLITE &&
        !pp_db_exec(store->db, "PRAGMA optimize"))
      g_debug("'%s': optimizing: %s, ignoring", store->path, pp_db_errmsg(store->db));
    pp_db_close(store->db);
  }
  if (store->scratch != NULL)
    g_string_free(store->scratch, TRUE);
  g_free(store->path);
  g_free(store->id);
  g_free(store);
}

const char *
pp_store_get_id(PpStore *store)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store->id;
}

int
pp_store_get_schema_version(PpStore *store)
{
  g_return_val_if_fail(store != NULL, 0);
  return store->schema_version;
}

/* ------------------------------------------------------------------------ */
/* Watching                                                                 */
/* ------------------------------------------------------------------------ */

/* A row of a table the scheduler follows changed (or is changing: on
 * SQLite the transaction may still roll back, and a watcher only reads
 * again what it is told of). Not called for the migrations. */
static void
on_row_changed(const char *table, gint64 rowid, gpointer data)
{
  PpStore *store = data;
  PpStoreTable which;

  if (strcmp(table, "vms") == 0)
    which = PP_STORE_TABLE_VMS;
  else if (strcmp(table, "pci_device") == 0)
    which = PP_STORE_TABLE_DEVICES;
  else if (strcmp(table, "hosts") == 0)
    which = PP_STORE_TABLE_HOSTS;
  else if (strcmp(table, "host_allowance") == 0)
    which = PP_STORE_TABLE_ALLOWANCES;
  else
    return;
  for (guint i = 0; i < store->n_watches; i++)
    store->watch[i](which, rowid, store->watch_data[i]);
}

void
pp_store_add_watch(PpStore *store, PpStoreWatchFunc func, gpointer data)
{
  g_return_if_fail(store != NULL && func != NULL);
  g_return_if_fail(store->n_watches < PP_STORE_MAX_WATCHES);

  store->watch[store->n_watches] = func;
  store->watch_data[store->n_watches] = data;
  store->n_watches++;
  if (!pp_db_set_change_func(store->db, on_row_changed, store))
    g_warning("'%s': watching changes: %s", store->path, pp_db_errmsg(store->db));
}

void
pp_store_remove_watch(PpStore *store, PpStoreWatchFunc func, gpointer data)
{
  g_return_if_fail(store != NULL);

  for (guint i = 0; i < store->n_watches; i++) {
    if (store->watch[i] != func || store->watch_data[i] != data)
      continue;
    memmove(&store->watch[i], &store->watch[i + 1],
            (store->n_watches - i - 1) * sizeof(store->watch[0]));
    memmove(&store->watch_data[i], &store->watch_data[i + 1],
            (store->n_watches - i - 1) * sizeof(store->watch_data[0]));
    store->n_watches--;
    break;
  }
  if (store->n_watches == 0)
    pp_db_set_change_func(store->db, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* Several pcipassd on one store                                            */
/* ------------------------------------------------------------------------ */

/* The leader lock: a session advisory lock of PostgreSQL's, keys
 * ('pcip', 2); the writers' transaction lock is ('pcip', 1) (pp-db-pg). */
#define LEADER_LOCK_SQL "SELECT pg_try_advisory_lock(1886546288, 2)"

PpStoreBackend
pp_store_get_backend(PpStore *store)
{
  g_return_val_if_fail(store != NULL, PP_STORE_BACKEND_SQLITE);
  return pp_db_get_kind(store->db) == PP_DB_KIND_POSTGRESQL ? PP_STORE_BACKEND_POSTGRESQL
                                                            : PP_STORE_BACKEND_SQLITE;
}

gboolean
pp_store_location_is_file(const char *location)
{
  g_return_val_if_fail(location != NULL, TRUE);
  return pp_db_kind_of_location(location) == PP_DB_KIND_SQLITE;
}

const char *
pp_store_backend_to_string(PpStoreBackend backend)
{
  return backend == PP_STORE_BACKEND_POSTGRESQL ? "postgresql" : "sqlite";
}

const char *
pp_store_get_location(PpStore *store)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store->path;
}

static void
store_found_lost(PpStore *store)
{
  if (store->lost)
    return;
  store->lost = TRUE;
  g_warning("store '%s': the connection is lost: %s", store->path, pp_db_errmsg(store->db));
  if (store->socket_source != 0) {
    g_source_remove(store->socket_source);
    store->socket_source = 0;
  }
  if (store->lost_func != NULL)
    store->lost_func(store->lost_data);
}

/* The connection's socket is readable: other daemons' changes (told to
 * the watchers), or the server gone. */
static gboolean
on_socket_ready(int fd, GIOCondition condition, gpointer data)
{
  PpStore *store = data;

  (void)fd;
  (void)condition;
  if (pp_db_dispatch(store->db))
    return G_SOURCE_CONTINUE;
  /* Removed by returning; store_found_lost() removes it when it was
   * found lost elsewhere first, so that lost is FALSE here. */
  store->socket_source = 0;
  store_found_lost(store);
  return G_SOURCE_REMOVE;
}

/* PostgreSQL: the main loop reads the connection whenever the server
 * sends something, so that a change another daemon made, or the server's
 * going, is heard at once. */
static void
store_watch_socket(PpStore *store)
{
  int fd;

  if (pp_db_get_kind(store->db) != PP_DB_KIND_POSTGRESQL || store->socket_source != 0)
    return;
  fd = pp_db_get_socket(store->db);
  if (fd >= 0)
    store->socket_source = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_socket_ready, store);
}

void
pp_store_set_lost_func(PpStore *store, PpStoreLostFunc func, gpointer data)
{
  g_return_if_fail(store != NULL);
  store->lost_func = func;
  store->lost_data = data;
  store_watch_socket(store);
}

gboolean
pp_store_check_connection(PpStore *store)
{
  g_return_val_if_fail(store != NULL, FALSE);
  if (store->lost)
    return FALSE;
  if (pp_db_dispatch(store->db) && pp_db_is_connected(store->db))
    return TRUE;
  store_found_lost(store);
  return FALSE;
}

gboolean
pp_store_reconnect(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);
  if (!pp_db_reconnect(store->db)) {
    store_set_error(store, error, "store '%s': connecting again", store->path);
    return FALSE;
  }
  store->lost = FALSE;
  store_watch_socket(store);
  g_message("store '%s': connected again", store->path);
  return TRUE;
}

gboolean
pp_store_try_lead(PpStore *store, const char *name, gint64 now, gboolean *ret_leading,
                  GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *since = NULL;

  g_return_val_if_fail(store != NULL && name != NULL && ret_leading != NULL, FALSE);

  *ret_leading = FALSE;
  if (pp_db_get_kind(store->db) == PP_DB_KIND_POSTGRESQL) {
    g_autoptr(PpDbStmt) stmt = pp_db_prepare(store->db, LEADER_LOCK_SQL);

    if (stmt == NULL || pp_db_step(stmt) != PP_DB_STEP_ROW) {
      store_set_error(store, error, "store '%s': taking the leader lock", store->path);
      return FALSE;
    }
    if (pp_db_column_int64(stmt, 0) == 0)
      return TRUE; /* another session holds it */
  }
  since = g_strdup_printf("%" G_GINT64_FORMAT, now);
  if (!store_txn_begin(store, &txn, "recording the leader", error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_LEADER_SET, error);

    if (stmt == NULL)
      return FALSE;
    store_bind_text(stmt, 1, name);
    store_bind_text(stmt, 2, since);
    if (!store_stmt_run(store, stmt, error, "recording the leader"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "recording the leader", error))
    return FALSE;
  *ret_leading = TRUE;
  return TRUE;
}

gboolean
pp_store_get_leader(PpStore *store, char **ret_name, gint64 *ret_since, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_LEADER_GET, error);
  g_autofree char *name = NULL;
  gint64 since = 0;
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  while (store_stmt_next(store, stmt, &local, "reading who leads")) {
    if (strcmp(store_col_text(stmt, 0), "leader") == 0)
      name = store_col_strdup(stmt, 1);
    else if (!g_ascii_string_to_signed(store_col_text(stmt, 1), 10, 0, G_MAXINT64, &since, NULL))
      since = 0;
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  *ret_name = g_steal_pointer(&name);
  *ret_since = since;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Counts                                                                   */
/* ------------------------------------------------------------------------ */

gboolean
pp_store_get_counts(PpStore *store, PpStoreCounts *ret, GError **error)
{
  PpStoreCounts counts = { { 0 } };
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(ret != NULL, FALSE);

  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_HOSTS, error);

    if (stmt == NULL)
      return FALSE;
    while (store_stmt_next(store, stmt, &local, "counting hosts"))
      counts.hosts_by_state[store_host_state_from_string(store_col_text(stmt, 0))] =
          (guint)pp_db_column_int64(stmt, 1);
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_DEVICES, error);

    if (stmt == NULL)
      return FALSE;
    if (!store_stmt_next(store, stmt, error, "counting devices"))
      return FALSE;
    counts.devices = (guint)pp_db_column_int64(stmt, 0);
    counts.devices_held = (guint)pp_db_column_int64(stmt, 1);
    counts.devices_gone = (guint)pp_db_column_int64(stmt, 2);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_USERS, error);

    if (stmt == NULL)
      return FALSE;
    if (!store_stmt_next(store, stmt, error, "counting users"))
      return FALSE;
    counts.users = (guint)pp_db_column_int64(stmt, 0);
    counts.tokens = (guint)pp_db_column_int64(stmt, 1);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_VMS, error);

    if (stmt == NULL)
      return FALSE;
    while (store_stmt_next(store, stmt, &local, "counting VMs"))
      counts.vms_by_state[store_vm_state_from_string(store_col_text(stmt, 0))] =
          (guint)pp_db_column_int64(stmt, 1);
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  *ret = counts;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* For tests (pp-store-priv.h)                                              */
/* ------------------------------------------------------------------------ */

PpDb *
pp_store_test_get_db(PpStore *store)
{
  return store->db;
}

const char *
pp_store_test_get_report_state_sql(void)
{
  return stmt_sql[STMT_HOST_REPORT_STATE];
}

/* The owner of the VMs pp_store_test_add_vm() makes. */
#define TEST_VM_OWNER "test-vm-owner"

gint64
pp_store_test_add_vm(PpStore *store, const char *name)
{
  g_autoptr(PpDbStmt) stmt = NULL;

  g_assert_true(pp_db_exec(store->db, "INSERT INTO users (name, created) "
                                      "VALUES ('" TEST_VM_OWNER "', 0) ON CONFLICT DO NOTHING"));
  stmt = pp_db_prepare(store->db, "INSERT INTO vms (name, owner_id, created) VALUES (?1, "
                                  "(SELECT id FROM users WHERE name = '" TEST_VM_OWNER "'), 0) "
                                  "RETURNING id");
  g_assert_nonnull(stmt);
  pp_db_bind_text_copy(stmt, 1, name);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  return pp_db_column_int64(stmt, 0);
}

gboolean
pp_store_test_hold_device(PpStore *store, gint64 device_id, gint64 vm_id, GError **error)
{
  g_autoptr(PpDbStmt) stmt = NULL;

  /* The schema lets a VM hold devices of its own host only: the VM goes
   * to the device's host first (running, when it was without one). */
  if (vm_id != 0) {
    stmt =
        pp_db_prepare(store->db, "UPDATE vms SET host_id = (SELECT host_id FROM pci_device "
                                 "WHERE id = ?1), state = CASE WHEN state IN ('pending', "
                                 "'done') THEN 'running' ELSE state END "
                                 "WHERE id = ?2 AND host_id IS DISTINCT FROM (SELECT host_id FROM "
                                 "pci_device WHERE id = ?1)");
    g_assert_nonnull(stmt);
    pp_db_bind_int64(stmt, 1, device_id);
    pp_db_bind_int64(stmt, 2, vm_id);
    if (pp_db_step(stmt) != PP_DB_STEP_DONE) {
      store_set_error(store, error,
                      "moving VM %" G_GINT64_FORMAT " to the host of device %" G_GINT64_FORMAT,
                      vm_id, device_id);
      return FALSE;
    }
    g_clear_pointer(&stmt, pp_db_finalize);
  }
  /* The slot: kept when the VM holds it already, else the VM's next. */
  stmt = pp_db_prepare(store->db, "UPDATE pci_device SET vm_id = ?2, vm_slot = CASE "
                                  "WHEN CAST(?2 AS BIGINT) IS NULL THEN NULL "
                                  "WHEN vm_id IS NOT DISTINCT FROM ?2 THEN vm_slot "
                                  "ELSE (SELECT coalesce(max(p.vm_slot) + 1, 0) "
                                  "FROM pci_device p WHERE p.vm_id = ?2) END WHERE id = ?1");
  g_assert_nonnull(stmt);
  pp_db_bind_int64(stmt, 1, device_id);
  if (vm_id != 0)
    pp_db_bind_int64(stmt, 2, vm_id);
  if (pp_db_step(stmt) != PP_DB_STEP_DONE) {
    store_set_error(store, error, "holding device %" G_GINT64_FORMAT, device_id);
    return FALSE;
  }
  if (pp_db_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no device with id %" G_GINT64_FORMAT, device_id);
    return FALSE;
  }
  return TRUE;
}
