/* pp-store-int: what the store's own files (pp-store*.c) share, and
 * nobody else: the store's struct, the statement ids, and the helpers of
 * pp-store.c (statements, errors, transactions, columns, names). The
 * functions here are not static so that the store's files can share them;
 * they are private to the store module by convention: include this header
 * only from src/server/pp-store*.c. */
#pragma once

#include "pp-db.h"
#include <glib.h>

#include "pp-store.h"

G_BEGIN_DECLS

/* Host and user names: 1..64 of [A-Za-z0-9._-], not starting with '-' or
 * '.', so that a name can never pass for an option or a path. */
#define NAME_MAX_LEN 64
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
/* Bounds of what a host spec may hold: a DNS name is at most 253 bytes,
 * a login name far less; a libvirt URI, a probe command line and a probe's
 * error message are text an admin reads, not documents. */
#define TOKEN_NAME_MAX_LEN 128
#define HOST_ERROR_MAX_LEN 4096
/* Why a VM failed: an error message of libvirt's or ours. */
#define VM_REASON_MAX_LEN 4096
/* A token is stored as the SHA-256 of its secret, in hex. */
#define TOKEN_HASH_LEN 64

/* The columns of DEVICE_COLUMNS (pp-store.c), by index. */
enum {
  DCOL_ID,
  DCOL_HOST_ID,
  DCOL_ADDRESS,
  DCOL_SHORT_ADDRESS,
  DCOL_VENDOR,
  DCOL_DEVICE,
  DCOL_CLASS,
  DCOL_VENDOR_NAME,
  DCOL_DEVICE_NAME,
  DCOL_CLASS_NAME,
  DCOL_NUMA_NODE,
  DCOL_IOMMU_GROUP,
  DCOL_DRIVER,
  DCOL_SRIOV,
  DCOL_PHYSFN,
  DCOL_VM_ID,
  DCOL_VM_SLOT,
  DCOL_GONE,
  DCOL_ATTRIBUTES,
  DCOL_HOST_NEEDS,
  DCOL_SET_ASIDE,
  DCOL_ALLOWED,
  DCOL_GROUP_ENDPOINTS,
  DCOL_PERM_MAC,
  DCOL_VF_INDEX,
};

/* The store's statements; their SQL is stmt_sql in pp-store.c. */
typedef enum {
  STMT_HOST_GET,
  STMT_HOST_GET_BY_NAME,
  STMT_HOST_LIST,
  STMT_HOST_ID_BY_NAME,
  STMT_HOST_INSERT,
  STMT_HOST_SET_ENABLED,
  STMT_HOST_SET_PREBOUND,
  STMT_HOST_UPDATE,
  STMT_HOST_NAME,
  STMT_HOST_HELD_BY,
  STMT_HOST_VMS_ON,
  STMT_HOST_DELETE,
  STMT_HOST_SET_FACTS,
  STMT_HOST_SET_ERROR,
  STMT_HOST_SET_LIBVIRT,
  STMT_ALLOW_INSERT,
  STMT_ALLOW_DELETE,
  STMT_ALLOW_LIST,
  STMT_DEV_LIST,
  STMT_DEV_INSERT,
  STMT_DEV_UPDATE,
  STMT_DEV_DELETE,
  STMT_DEV_FLAG_GONE,
  STMT_DEV_LIST_ALL,
  STMT_DEV_LIST_VM,
  STMT_DEV_ALLOCATE,
  STMT_DEV_HOLDER,
  STMT_DEV_DELETE_GONE_OF_VM,
  STMT_DEV_FREE_OF_VM,
  STMT_DEV_SET_ASIDE,
  STMT_VM_GET,
  STMT_VM_FIND_BY_NAME,
  STMT_VM_LIST,
  STMT_VM_INSERT,
  STMT_VM_REQUEST_INSERT,
  STMT_VM_REQUESTS,
  STMT_VM_NAME_DEFAULT,
  STMT_VM_STATE,
  STMT_VM_ALLOCATE,
  STMT_VM_TRANSITION,
  STMT_VM_RELEASE,
  STMT_VM_REQUEUE,
  STMT_VM_LIST_ON_HOST,
  STMT_VM_HISTORY,
  STMT_VM_SPEC,
  STMT_VM_REQUESTS_TYPED,
  STMT_VM_SET_DOMAIN_XML,
  STMT_VM_DOMAIN_XML,
  STMT_HOST_USAGE,
  STMT_VM_HOST_IDS,
  STMT_USER_GET,
  STMT_USER_GET_BY_NAME,
  STMT_USER_LIST,
  STMT_USER_INSERT,
  STMT_USER_VMS_NOT_DONE,
  STMT_USER_DELETE_DONE_VMS,
  STMT_USER_DELETE_TOKENS,
  STMT_USER_DELETE,
  STMT_USER_QUOTA,
  STMT_USER_HAS_QUOTA,
  STMT_USER_USAGE,
  STMT_USER_CLASS_USAGE,
  STMT_USER_SET_QUOTA,
  STMT_CLASS_QUOTA_SET,
  STMT_CLASS_QUOTA_DELETE,
  STMT_CLASS_QUOTA_COUNT,
  STMT_TOKEN_GET,
  STMT_TOKEN_BY_HASH,
  STMT_TOKEN_TOUCH,
  STMT_TOKEN_INSERT,
  STMT_TOKEN_LIST,
  STMT_TOKEN_DELETE,
  STMT_COUNT_HOSTS,
  STMT_COUNT_DEVICES,
  STMT_COUNT_USERS,
  STMT_COUNT_VMS,
  STMT_HOST_REPORT_STATE,
  STMT_HOST_TOUCH_MONITORED,
  STMT_HOST_TOKEN_SET,
  STMT_HOST_TOKEN_DELETE,
  STMT_HOST_TOKEN_BY_HASH,
  STMT_HOST_TOKEN_TOUCH,
  STMT_HOST_TOKEN_LIST,
  STMT_LEADER_SET,
  STMT_LEADER_GET,
  N_STMTS
} StmtId;

/* The statements of the paged lists (issue 11), apart from the others so
 * that their additions merge apart. The *_IDS statements read an index
 * only (migration 7): the ids of a page, LIMIT ?n of them above the
 * cursor; the rows are then read by id. */
typedef enum {
  PAGE_VM_IDS,             /* ?1 after, ?2 limit */
  PAGE_VM_IDS_OWNER,       /* ?1 owner, ?2 after, ?3 limit */
  PAGE_VM_IDS_STATE,       /* ?1 state, ?2 after, ?3 limit */
  PAGE_VM_IDS_OWNER_STATE, /* ?1 owner, ?2 state, ?3 after, ?4 limit */
  /* ?1 host, ?2 after, ?3 limit, ?4 owner (0: any), ?5 ",state,...," (NULL: any): the VMs on a
   * host are a few, read through vms_host_id */
  PAGE_VM_IDS_HOST,
  PAGE_VM_ROWS, /* ?1 .. ?PAGE_ROWS_AT_ONCE: ids (repeat one to fill) */
  PAGE_VM_OWNED,
  PAGE_HOST_IDS,       /* ?1 after, ?2 limit */
  PAGE_HOST_IDS_STATE, /* ?1 state, ?2 after, ?3 limit */
  /* ?1 .. ?PAGE_ROWS_AT_ONCE: host ids (repeat one to fill), for the
   * scheduler's reading of the hosts that changed (pp_store_host_read_many()) */
  PAGE_HOST_ROWS,
  PAGE_HOST_DEVICES,
  PAGE_HOST_USAGE,
  PAGE_DEVICE_HOSTS, /* ?1 .. ?PAGE_ROWS_AT_ONCE: device ids */
  N_PAGE_STMTS
} PageStmtId;

/* How many VMs of a page PAGE_VM_ROWS reads at once: on PostgreSQL a
 * statement is a round trip to the server, so a page of 100 is one
 * statement, not 100. */
#define PAGE_ROWS_AT_ONCE 100

/* The statements of networks and leases (pp-store-network.c). */
typedef enum {
  NET_INSERT,
  NET_UPDATE,
  NET_GET,
  NET_ARS,
  NET_AR_INSERT,
  NET_AR_UPDATE,
  NET_AR_DELETE_FROM,
  NET_AR_MAX_IDX,
  NET_AR_SET_NEXT,
  NET_MAC_NEXT,
  NET_MAC_SET_NEXT,
  NET_ID_BY_OWNER_NAME,
  NET_SHARED_BY_NAME,
  NET_ANY_BY_NAME,
  NET_PAGE_ALL,
  NET_PAGE_VIEWER,
  NET_LEASES,
  NET_LEASE_AT,
  NET_LEASE_INSERT,
  NET_LEASE_RELEASE,
  NET_FREE_IDX,
  NET_USERS_OF,
  NET_LEASED_VMS,
  NET_DELETE_LEASES,
  NET_DELETE,
  NET_VM_NIC_INSERT,
  NET_VM_NICS_UNLEASED,
  NET_VM_LEASES,
  NET_VM_LEASES_FREE,
  NET_FREE_COUNT,
  NET_VM_NIC_COUNT,
  NET_OF_OWNER,
  N_NET_STMTS
} NetStmtId;

struct _PpStore {
  PpDb *db;
  char *path;
  int schema_version;
  PpDbStmt *stmts[N_STMTS];           /* prepared on first use */
  PpDbStmt *page_stmts[N_PAGE_STMTS]; /* the paged lists', prepared on first use */
  PpDbStmt *net_stmts[N_NET_STMTS];   /* networks', prepared on first use */
  char *id;                           /* store_meta's id, read at open */
  GString *scratch;                   /* reconcile's JSON of the records */
  /* pp_store_add_watch(): func and data of each watcher, in order */
  PpStoreWatchFunc watch[PP_STORE_MAX_WATCHES];
  gpointer watch_data[PP_STORE_MAX_WATCHES];
  guint n_watches;
  /* PostgreSQL: the main loop's watch of the connection's socket (0: none),
   * and who is told when the connection is found lost. */
  guint socket_source;
  gboolean lost;
  PpStoreLostFunc lost_func;
  gpointer lost_data;
};

/* A cached statement in use: released (reset, bindings cleared) when it
 * goes out of scope, never finalized. */
typedef PpDbStmt StoreStmt;

void store_stmt_release(StoreStmt *stmt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreStmt, store_stmt_release)

/* An open transaction: rolled back when it goes out of scope uncommitted. */
typedef struct {
  PpStore *store; /* NULL: none open */
} StoreTxn;

void store_txn_clear(StoreTxn *txn);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StoreTxn, store_txn_clear)

/* Reads one row of a query into a new object. */
typedef gpointer (*RowReader)(PpDbStmt *stmt);

/* The helpers of pp-store.c and those the other files share, by file. */
/* pp-store.c */
StoreStmt *store_page_stmt(PpStore *store, PageStmtId id, GError **error);
void G_GNUC_PRINTF(3, 4) store_set_error(PpStore *store, GError **error, const char *format, ...);
StoreStmt *store_stmt(PpStore *store, StmtId id, GError **error);
gboolean store_stmt_run(PpStore *store, StoreStmt *stmt, GError **error, const char *what);
gboolean store_stmt_insert(PpStore *store, StoreStmt *stmt, gint64 *ret_id, GError **error,
                           const char *what);
gboolean store_stmt_next(PpStore *store, StoreStmt *stmt, GError **error, const char *what);
gboolean store_txn_begin(PpStore *store, StoreTxn *txn, const char *what, GError **error);
gboolean store_txn_commit(StoreTxn *txn, const char *what, GError **error);
char *store_col_strdup(PpDbStmt *stmt, int col);
const char *store_col_text(PpDbStmt *stmt, int col);
void store_bind_text(PpDbStmt *stmt, int index, const char *text);
char *store_vm_reason_text(const char *reason);
gboolean store_check_name(const char *kind, const char *name, GError **error);
gboolean store_check_field(const char *what, const char *value, gsize max_len, GError **error);
GPtrArray *store_rows_list(PpStore *store, StmtId id, gint64 param, RowReader read,
                           GDestroyNotify free_func, const char *what, GError **error);

/* pp-store-schema.c */
gboolean store_exec(PpStore *store, const char *sql, GError **error, const char *what);
void store_address_unpack(gint64 packed, PpPciAddress *ret);
void store_bind_request(PpDbStmt *stmt, int first, const PpPciRequest *request);
gboolean store_migrate(PpStore *store, GError **error);

/* pp-store-schema-pg.c: the whole schema at version 14, for an empty
 * PostgreSQL database. */
extern const char pp_store_schema_pg[];

/* pp-store-host.c */
extern const char *const host_state_names[_PP_HOST_STATE_MAX];
PpHostState store_host_state_from_string(const char *text);
PpHost *store_host_from_row(PpDbStmt *stmt);

/* Adds each row of @stmt (host id, its VMs' cpu, their memory_kib) to
 * @usage (host id (gint64 *) -> PpHostUsage *); FALSE with an error that
 * says @what. */
gboolean store_usage_rows_into(PpStore *store, StoreStmt *stmt, GHashTable *usage, const char *what,
                               GError **error);
char *store_host_name_locked(PpStore *store, gint64 id, gboolean *ret_enabled, GError **error);

/* pp-store-device.c */
GPtrArray *store_device_list(PpStore *store, StmtId id, gint64 param, const char *what,
                             GError **error);

/* pp-store-user.c */
PpUser *store_user_lookup(PpStore *store, gint64 id, const char *name, GError **error);
gboolean store_quota_check_locked(PpStore *store, const PpUser *owner, gint64 leave_out, gint64 cpu,
                                  gint64 memory_kib, const gint *pci_classes, guint n_pci,
                                  guint n_leases, GError **error);
gboolean store_check_token_hash(const char *hash, GError **error);

/* pp-store-network.c */
void store_network_stmts_finalize(PpStore *store);
gboolean store_vm_nics_insert_locked(PpStore *store, gint64 vm_id, const PpVmSpec *spec,
                                     GError **error);
gboolean store_vm_leases_take_locked(PpStore *store, gint64 vm_id, GError **error);
gboolean store_vm_leases_free_locked(PpStore *store, gint64 vm_id, GError **error);
gboolean store_vm_nic_count_locked(PpStore *store, gint64 vm_id, guint *ret_n, GError **error);
gboolean store_user_networks_locked(PpStore *store, gint64 user_id, char **ret_text,
                                    GError **error);

/* pp-store-vm.c */
PpVmState store_vm_state_from_string(const char *text);
char *store_ids_text(const GArray *ids);

G_END_DECLS
