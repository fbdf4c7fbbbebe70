/* pp-store: pcipassd's SQLite store, on a fresh file in a temporary folder
 * per test: the schema and its version, a restart, hosts and their names,
 * the inventory's reconciliation (with the real probe's output of real
 * trees), what the schema itself refuses, users and tokens. */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include "pp-db-sqlite.h"
#include "pp-db.h"
#include "pp-pci-address.h"
#include "pp-store-network.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-test-store.h"
#include "pp-test-util.h"

#define GHW_I350 "ghw-sysfs/linux-amd64-8581cf3a529e5d8b97ea876eade2f60d.tar.gz"
#define HWLOC_40INTEL "hwloc-sysfs/40intel64-2g2n4c+pcilocality.tar.bz2"
#define PCI_IDS "/usr/share/misc/pci.ids"

#define HASH_A "a3f1c2e4b5d6978812345678901234567890abcdefabcdefabcdefabcdef0123"
#define HASH_B "0000000000000000000000000000000000000000000000000000000000000001"

typedef struct {
  char *dir;
  char *path;
  PpStore *store;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = pp_test_mkdtemp();
  f->path = pp_test_store_location(f->dir);
  f->store = pp_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_nonnull(f->store);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_pointer(&f->store, pp_store_free);
  pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->path);
}

static void
reopen(Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer(&f->store, pp_store_free);
  f->store = pp_store_open(f->path, &error);
  g_assert_no_error(error);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A network @name of @owner_id with one ETHER range. */
static PpNetwork *
add_network(PpStore *store, gint64 owner_id, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text =
      g_strdup_printf("NAME = %s\nVN_MAD = dummy\nAR = [ TYPE = ETHER, SIZE = 4 ]\n", name);
  g_autoptr(PpNetworkSpec) spec = pp_network_template_parse(text, strlen(text), NULL, NULL, &error);
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  PpNetwork *network;

  g_assert_no_error(error);
  network = pp_store_network_create(store, owner_id, text, spec, FALSE, &prefix, 500, &error);
  g_assert_no_error(error);
  return network;
}

static PpHost *
add_host(PpStore *store, const char *name)
{
  g_autoptr(GError) error = NULL;
  PpHostSpec spec = { .name = name };
  PpHost *host = pp_store_host_create(store, &spec, 1000, &error);

  g_assert_no_error(error);
  g_assert_nonnull(host);
  return host;
}

static PpHost *
get_host(PpStore *store, gint64 id)
{
  g_autoptr(GError) error = NULL;
  PpHost *host = pp_store_host_get(store, id, &error);

  g_assert_no_error(error);
  return host;
}

static guint
n_hosts(PpStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) hosts = pp_store_host_list(store, &error);

  g_assert_no_error(error);
  return hosts->len;
}

static GPtrArray *
list_devices(PpStore *store, gint64 host_id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *devices = pp_store_host_list_devices(store, host_id, &error);

  g_assert_no_error(error);
  return devices;
}

/* @dev's address as the API shows it (one use at a time: a static buffer). */
static const char *
dev_bdf(const PpStoreDevice *dev)
{
  static char buf[PP_PCI_ADDRESS_BUFSIZE];

  return pp_pci_address_format(&dev->pci.address, buf);
}

static const PpStoreDevice *
find_device(GPtrArray *devices, const char *address)
{
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);

    if (strcmp(dev_bdf(dev), address) == 0)
      return dev;
  }
  g_error("no device %s", address);
}

static gint64
device_id(PpStore *store, gint64 host_id, const char *address)
{
  g_autoptr(GPtrArray) devices = list_devices(store, host_id);

  return find_device(devices, address)->id;
}

static PpProbeReport *
parse_report(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpProbeReport *report = pp_probe_report_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  return report;
}

/* A device of a synthesized report: an I350 function by default. */
typedef struct {
  const char *address;    /* 0000:05:00.0 */
  const char *device;     /* NULL: 1521 */
  const char *name;       /* NULL: I350 Gigabit Network Connection */
  const char *driver;     /* NULL: none */
  const char *host_needs; /* NULL: none */
} SynthDevice;

/* Report text as pcipass-probe prints it, after @facts (may be ""). */
static char *
synth_report(const char *facts, const SynthDevice *devs, guint n)
{
  GString *text = g_string_new(facts);

  for (guint i = 0; i < n; i++) {
    PpPciAddress addr;
    char one[PP_PCI_ADDRESS_BUFSIZE], short_[PP_PCI_ADDRESS_BUFSIZE];
    const char *device = devs[i].device ? devs[i].device : "1521";

    g_assert_true(pp_pci_address_parse(devs[i].address, &addr, NULL));
    g_string_append_printf(
        text,
        "PCI = [\n  TYPE = \"8086:%s:0200\",\n  VENDOR = \"8086\",\n"
        "  VENDOR_NAME = \"Intel Corporation\",\n  DEVICE = \"%s\",\n  DEVICE_NAME = \"%s\",\n"
        "  CLASS = \"0200\",\n  CLASS_NAME = \"Ethernet controller\",\n  ADDRESS = \"%s\",\n"
        "  SHORT_ADDRESS = \"%s\",\n  NUMA_NODE = \"%u\",\n  SRIOV = \"no\",\n"
        "  IOMMU_GROUP = \"%u\"%s%s%s%s%s%s ]\n",
        device, device, devs[i].name ? devs[i].name : "I350 Gigabit Network Connection",
        pp_pci_address_format_one(&addr, one), pp_pci_address_format_short(&addr, short_),
        addr.function % 2, 10 + addr.function, devs[i].driver ? ",\n  DRIVER = \"" : "",
        devs[i].driver ? devs[i].driver : "", devs[i].driver ? "\"" : "",
        devs[i].host_needs ? ",\n  HOST_NEEDS = \"" : "",
        devs[i].host_needs ? devs[i].host_needs : "", devs[i].host_needs ? "\"" : "");
  }
  return g_string_free(text, FALSE);
}

static PpReconcileStats
reconcile_text(PpStore *store, gint64 host_id, const char *text, gint64 now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = parse_report(text);
  PpReconcileStats stats = { 0 };

  g_assert_true(pp_store_host_reconcile(store, host_id, report, now, &stats, &error));
  g_assert_no_error(error);
  return stats;
}

static PpReconcileStats
reconcile(PpStore *store, gint64 host_id, const char *facts, const SynthDevice *devs, guint n,
          gint64 now)
{
  g_autofree char *text = synth_report(facts, devs, n);

  return reconcile_text(store, host_id, text, now);
}

static void
assert_stats(PpReconcileStats stats, guint added, guint updated, guint removed, guint flagged)
{
  g_assert_cmpuint(stats.added, ==, added);
  g_assert_cmpuint(stats.updated, ==, updated);
  g_assert_cmpuint(stats.removed, ==, removed);
  g_assert_cmpuint(stats.flagged, ==, flagged);
}

static PpStoreCounts
get_counts(PpStore *store)
{
  g_autoptr(GError) error = NULL;
  PpStoreCounts counts;

  g_assert_true(pp_store_get_counts(store, &counts, &error));
  g_assert_no_error(error);
  return counts;
}

static const SynthDevice four_nics[] = {
  { "0000:05:00.0", NULL, NULL, "igb" },
  { "0000:05:00.1", NULL, NULL, "igb" },
  { "0000:05:10.0", "1520", "I350 Ethernet Controller Virtual Function", "igbvf" },
  { "0000:05:10.1", "1520", "I350 Ethernet Controller Virtual Function", NULL },
};

/* What raw_exec() returns: the statement ran, a constraint or a trigger
 * refused it (PpDbErr CONFLICT or INVALID), or something else failed. */
enum { RAW_OK, RAW_CONSTRAINT, RAW_OTHER };

/* A raw statement on the store's own connection, for what only SQL can
 * try (on both backends); returns a RAW_* code and the database's message
 * in @ret_message. */
static int
raw_exec(PpStore *store, const char *sql, char **ret_message)
{
  PpDb *db = pp_store_test_get_db(store);

  if (pp_db_exec(db, sql)) {
    *ret_message = g_strdup("not an error");
    return RAW_OK;
  }
  *ret_message = g_strdup(pp_db_errmsg(db));
  switch (pp_db_errcode(db)) {
  case PP_DB_ERR_CONFLICT:
  case PP_DB_ERR_INVALID:
    return RAW_CONSTRAINT;
  default:
    return RAW_OTHER;
  }
}

/* Whether @text holds the database's words for a CHECK refusal:
 * SQLite's "CHECK constraint failed", PostgreSQL's "violates check
 * constraint". */
static gboolean
is_check_refusal(const char *text)
{
  return strstr(text, pp_test_store_is_pg() ? "violates check constraint"
                                            : "CHECK constraint failed") != NULL;
}

/* @got is the refusal SQLite words @sqlite: that text on SQLite, and for
 * the schema's triggers (their own words) on both; on PostgreSQL, its
 * words for the same kind of refusal (naming the column, for NOT NULL). */
static void
assert_refusal(const char *got, const char *sqlite)
{
  const char *column;

  if (!pp_test_store_is_pg() || strstr(sqlite, "constraint failed") == NULL) {
    g_assert_cmpstr(got, ==, sqlite);
    return;
  }
  if (g_str_has_prefix(sqlite, "CHECK constraint failed"))
    g_assert_nonnull(strstr(got, "violates check constraint"));
  else if (g_str_has_prefix(sqlite, "UNIQUE constraint failed"))
    g_assert_true(g_str_has_prefix(got, "duplicate key value violates unique constraint"));
  else if (g_str_has_prefix(sqlite, "FOREIGN KEY constraint failed"))
    g_assert_nonnull(strstr(got, "violates foreign key constraint"));
  else if (g_str_has_prefix(sqlite, "NOT NULL constraint failed: ") &&
           (column = strchr(sqlite, '.')) != NULL) {
    g_autofree char *table = g_strndup(sqlite + strlen("NOT NULL constraint failed: "),
                                       column - sqlite - strlen("NOT NULL constraint failed: "));
    g_autofree char *want = g_strdup_printf(
        "null value in column \"%s\" of relation \"%s\" violates not-null constraint", column + 1,
        table);

    g_assert_cmpstr(got, ==, want);
  } else {
    g_error("no PostgreSQL words known for '%s'", sqlite);
  }
}

static gint64
raw_int(PpStore *store, const char *sql)
{
  PpDb *db = pp_store_test_get_db(store);
  g_autoptr(PpDbStmt) stmt = pp_db_prepare(db, sql);

  if (stmt == NULL || pp_db_step(stmt) != PP_DB_STEP_ROW)
    g_error("%s: %s", sql, pp_db_errmsg(db));
  return pp_db_column_int64(stmt, 0);
}

/* ------------------------------------------------------------------------ */
/* Open, schema, restart                                                    */
/* ------------------------------------------------------------------------ */

static void
test_open(Fixture *f, gconstpointer data)
{
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(f->store));
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint(pp_store_get_schema_version(f->store), ==, 14);
  g_assert_cmpuint(n_hosts(f->store), ==, 0);
  if (pp_test_store_is_pg()) {
    g_assert_cmpint(raw_int(f->store, "SELECT CAST(value AS bigint) FROM store_meta "
                                      "WHERE key = 'schema_version'"),
                    ==, 14);
    return;
  }
  g_assert_cmpint(raw_int(f->store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(f->store, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint(raw_int(f->store, "PRAGMA synchronous"), ==, 1); /* NORMAL */
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  g_assert_cmpstr((const char *)sqlite3_column_text(stmt, 0), ==, "wal");
  sqlite3_finalize(stmt);
  g_assert_cmpuint(n_hosts(f->store), ==, 0);
}

static void
test_open_errors(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = g_build_filename(f->dir, "no", "such", "pcipass.db", NULL);
  g_autofree char *garbage = g_build_filename(f->dir, "garbage.db", NULL);
  g_autofree char *expect = NULL;
  g_autoptr(PpStore) store = NULL;

  store = pp_store_open(missing, &error);
  g_assert_null(store);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  expect = g_strdup_printf("opening store '%s': unable to open database file", missing);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);

  pp_test_write_file(garbage, "this is not a database, not even close; it is a text file that "
                              "is long enough to have a header's worth of bytes in it.\n");
  store = pp_store_open(garbage, &error);
  g_assert_null(store);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, garbage));
  g_assert_nonnull(strstr(error->message, "file is not a database"));
}

/* A file written by a newer pcipassd is refused, and left as it is. */
static void
test_newer_schema(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *expect = NULL;
  g_autoptr(PpHost) host = add_host(f->store, "node1");

  g_assert_cmpint(host->id, ==, 1);
  g_assert_cmpint(raw_exec(f->store, "PRAGMA user_version = 15", &message), ==, RAW_OK);
  g_clear_pointer(&f->store, pp_store_free);

  f->store = pp_store_open(f->path, &error);
  g_assert_null(f->store);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  expect = g_strdup_printf("opening store '%s': its schema version is 15, newer than the 14 this "
                           "pcipassd knows; run a newer pcipassd",
                           f->path);
  g_assert_cmpstr(error->message, ==, expect);

  /* Untouched: back to version 14, it opens with its host. */
  {
    sqlite3 *db = NULL;

    g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "PRAGMA user_version = 14", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
  }
  reopen(f);
  g_assert_cmpuint(n_hosts(f->store), ==, 1);
}

/* The store's identity: made once, 32 hex digits, kept across a restart,
 * its own (another store has another). */
static void
test_store_id(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *first = g_strdup(pp_store_get_id(f->store));
  g_autofree char *other_path = g_build_filename(f->dir, "other.db", NULL);
  g_autoptr(PpStore) other = NULL;

  g_assert_cmpuint(strlen(first), ==, 32);
  g_assert_cmpuint(strspn(first, "0123456789abcdef"), ==, 32);
  reopen(f);
  g_assert_cmpstr(pp_store_get_id(f->store), ==, first);
  other = pp_store_open(other_path, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(pp_store_get_id(other), !=, first);
}

/* Everything survives a restart: hosts, devices, holds, users, tokens. */
static void
test_reopen(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *const probe[] = { "/usr/bin/pcipass-probe", "--all", NULL };
  PpHostSpec spec = { .name = "node1",
                      .ssh_user = "root",
                      .ssh_host = "node1.example.org",
                      .ssh_port = 2222,
                      .libvirt_uri = "qemu+ssh://root@node1.example.org/system",
                      .probe_command = probe,
                      .prebound = TRUE };
  g_autoptr(PpHost) created = pp_store_host_create(f->store, &spec, 1000, &error);
  g_autoptr(PpHost) host = NULL;
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpToken) token = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  gint64 vm;

  g_assert_no_error(error);
  reconcile(f->store, created->id, "HOSTNAME = n1\nCPU_COUNT = 8\n", four_nics, 4, 2000);
  vm = pp_store_test_add_vm(f->store, "vm1");
  g_assert_true(pp_store_test_hold_device(
      f->store, device_id(f->store, created->id, "0000:05:10.0"), vm, &error));
  g_assert_no_error(error);
  user = pp_store_user_create(f->store, "alice", TRUE, 3000, &error);
  g_assert_no_error(error);
  token = pp_store_token_create(f->store, user->id, "laptop", HASH_A, 3001, 0, &error);
  g_assert_no_error(error);
  g_clear_pointer(&user, pp_user_free);

  reopen(f);

  host = get_host(f->store, created->id);
  g_assert_cmpstr(host->name, ==, "node1");
  g_assert_cmpstr(host->ssh_user, ==, "root");
  g_assert_cmpstr(host->ssh_host, ==, "node1.example.org");
  g_assert_cmpint(host->ssh_port, ==, 2222);
  g_assert_cmpstr(host->libvirt_uri, ==, "qemu+ssh://root@node1.example.org/system");
  g_assert_cmpstrv(host->probe_command, probe);
  g_assert_true(host->prebound);
  g_assert_cmpint(host->state, ==, PP_HOST_STATE_MONITORED);
  g_assert_cmpstr(host->reported_hostname, ==, "n1");
  g_assert_cmpint(host->cpu_count, ==, 8);
  g_assert_cmpint(host->last_monitored, ==, 2000);
  g_assert_cmpint(host->created, ==, 1000);
  g_assert_cmpuint(host->pci_total, ==, 4);
  g_assert_cmpuint(host->pci_free, ==, 3);
  devices = list_devices(f->store, host->id);
  g_assert_cmpint(find_device(devices, "0000:05:10.0")->vm_id, ==, vm);
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_id, ==, 0);

  user = pp_store_user_find(f->store, "alice", &error);
  g_assert_no_error(error);
  g_assert_true(user->admin);
  g_assert_cmpint(user->created, ==, 3000);
  tokens = pp_store_token_list(f->store, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(tokens->len, ==, 1);
  g_assert_cmpstr(((PpToken *)tokens->pdata[0])->name, ==, "laptop");
}

/* ------------------------------------------------------------------------ */
/* Hosts                                                                    */
/* ------------------------------------------------------------------------ */

static void
test_host_create(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  PpHostSpec spec = { .name = "node1" };
  g_autoptr(PpHost) host = pp_store_host_create(f->store, &spec, 1234, &error);
  g_autoptr(PpHost) other = add_host(f->store, "Node_2.rack-3");
  g_autoptr(PpHost) by_id = NULL;
  g_autoptr(PpHost) by_name = NULL;
  g_autoptr(GPtrArray) hosts = NULL;

  g_assert_no_error(error);
  g_assert_cmpint(host->id, >, 0);
  g_assert_cmpstr(host->name, ==, "node1");
  g_assert_null(host->ssh_user);
  g_assert_null(host->ssh_host);
  g_assert_cmpint(host->ssh_port, ==, 0);
  g_assert_null(host->libvirt_uri);
  g_assert_null(host->probe_command);
  g_assert_false(host->prebound);
  g_assert_cmpint(host->state, ==, PP_HOST_STATE_INIT);
  g_assert_cmpstr(pp_host_state_to_string(host->state), ==, "init");
  g_assert_null(host->error);
  g_assert_null(host->reported_hostname);
  g_assert_cmpint(host->cpu_count, ==, -1);
  g_assert_cmpint(host->memory_kib, ==, -1);
  g_assert_null(host->kernel_version);
  g_assert_cmpint(host->last_monitored, ==, 0);
  g_assert_cmpint(host->created, ==, 1234);
  g_assert_cmpuint(host->pci_total, ==, 0);
  g_assert_cmpuint(host->pci_free, ==, 0);

  by_id = pp_store_host_get(f->store, other->id, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(by_id->name, ==, "Node_2.rack-3");
  by_name = pp_store_host_find(f->store, "node1", &error);
  g_assert_no_error(error);
  g_assert_cmpint(by_name->id, ==, host->id);

  hosts = pp_store_host_list(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hosts->len, ==, 2);
  g_assert_cmpint(((PpHost *)hosts->pdata[0])->id, ==, host->id);
  g_assert_cmpint(((PpHost *)hosts->pdata[1])->id, ==, other->id);

  g_assert_null(pp_store_host_get(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no host with id 99");
}

/* A key is an id first, then a name: a host may be called "7". */
static void
test_host_find(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) seven = add_host(f->store, "7");
  g_autoptr(PpHost) b = add_host(f->store, "b");
  static const struct {
    const char *key;
    gint64 id; /* 0: not found */
  } cases[] = {
    { "1", 1 }, { "2", 2 },  { "7", 1 }, { "b", 2 }, { "3", 0 },
    { "0", 0 }, { "-1", 0 }, { "B", 0 }, { "", 0 },  { "01", 1 },
  };

  g_assert_cmpint(seven->id, ==, 1);
  g_assert_cmpint(b->id, ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpHost) host = pp_store_host_find(f->store, cases[i].key, &error);

    if (cases[i].id == 0) {
      g_autofree char *expect = g_strdup_printf("no host '%s'", cases[i].key);

      g_assert_null(host);
      g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
      g_assert_cmpstr(error->message, ==, expect);
    } else {
      g_assert_no_error(error);
      g_assert_cmpint(host->id, ==, cases[i].id);
    }
  }
}

static void
test_host_bad(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) node1 = add_host(f->store, "node1");
  const char *const empty_probe[] = { NULL };
  const char *const blank_probe[] = { "", NULL };

  g_assert_cmpint(node1->id, ==, 1);
  static const struct {
    const char *name;
    const char *ssh_user;
    const char *ssh_host;
    int ssh_port;
    const char *libvirt_uri;
    gboolean empty_probe;
    int code;
    const char *message;
  } cases[] = {
    { "node1", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_CONFLICT,
      "a host named 'node1' exists (id 1)" },
    { "", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID, "a host name cannot be empty" },
    { "node 2", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host name 'node 2' has a character other than A-Z, a-z, 0-9, '.', '_' and '-' (at byte "
      "5)" },
    { "n\xc3\xa9", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host name 'n\\303\\251' has a character other than A-Z, a-z, 0-9, '.', '_' and '-' (at "
      "byte 2)" },
    { "-node", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host name '-node' starts with '-'" },
    { ".node", NULL, NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host name '.node' starts with '.'" },
    { "a123456789b123456789c123456789d123456789e123456789f123456789g1234", NULL, NULL, 0, NULL,
      FALSE, PP_STORE_ERROR_INVALID, "a host name is at most 64 characters; this one has 65" },
    { "node2", "root", NULL, 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': an ssh user needs an ssh host" },
    { "node2", NULL, "-oProxyCommand=touch_x", 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the ssh host '-oProxyCommand=touch_x' starts with '-'" },
    { "node2", NULL, "node2 -v", 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the ssh host 'node2 -v' has a character it cannot have (at byte 6)" },
    { "node2", "r;oot", "node2", 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the ssh user 'r;oot' has a character it cannot have (at byte 2)" },
    { "node2", NULL, "node2", 65536, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the ssh port 65536 is not 1 to 65535 (0: ssh's default)" },
    /* The user is a setting of its own, as the API and the probe runner
     * have it (pp-host-spec). */
    { "node2", NULL, "root@node2", 0, NULL, FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the ssh host 'root@node2' has a character it cannot have (at byte 5)" },
    { "node2", NULL, NULL, 0, "system", FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the libvirt URI 'system' is not a libvirt URI (qemu:///system, "
      "qemu+ssh://node1/system, test:///default)" },
    /* The store once took what the API refused. */
    { "node2", NULL, NULL, 0, "qemu:/system", FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the libvirt URI 'qemu:/system' is not a libvirt URI (qemu:///system, "
      "qemu+ssh://node1/system, test:///default)" },
    { "node2", NULL, NULL, 0, "qemu:///system\n", FALSE, PP_STORE_ERROR_INVALID,
      "host 'node2': the libvirt URI 'qemu:///system\\n' has a character it cannot have (at "
      "byte 15)" },
    { "node2", NULL, NULL, 0, NULL, TRUE, PP_STORE_ERROR_INVALID,
      "host 'node2': a probe command has 1 to 64 words; this one has 0" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    PpHostSpec spec = { .name = cases[i].name,
                        .ssh_user = cases[i].ssh_user,
                        .ssh_host = cases[i].ssh_host,
                        .ssh_port = cases[i].ssh_port,
                        .libvirt_uri = cases[i].libvirt_uri,
                        .probe_command = cases[i].empty_probe ? empty_probe : NULL };
    g_autoptr(PpHost) host = pp_store_host_create(f->store, &spec, 1000, &error);

    g_assert_null(host);
    g_assert_error(error, PP_STORE_ERROR, cases[i].code);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    g_assert_cmpuint(n_hosts(f->store), ==, 1);
  }

  {
    g_autoptr(GError) error = NULL;
    PpHostSpec spec = { .name = "node2", .probe_command = blank_probe };
    g_autoptr(PpHost) host = pp_store_host_create(f->store, &spec, 1000, &error);

    g_assert_null(host);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "host 'node2': the probe command's program is an empty word");
    g_assert_cmpuint(n_hosts(f->store), ==, 1);
  }
}

static void
assert_state(PpStore *store, gint64 id, PpHostState state)
{
  g_autoptr(PpHost) host = get_host(store, id);

  g_assert_cmpstr(pp_host_state_to_string(host->state), ==, pp_host_state_to_string(state));
}

static void
set_enabled_ok(PpStore *store, gint64 id, gboolean enabled)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_store_host_set_enabled(store, id, enabled, &error));
  g_assert_no_error(error);
}

static void
test_host_enable(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;

  set_enabled_ok(f->store, host->id, TRUE); /* already */
  assert_state(f->store, host->id, PP_HOST_STATE_INIT);
  set_enabled_ok(f->store, host->id, FALSE);
  assert_state(f->store, host->id, PP_HOST_STATE_DISABLED);
  set_enabled_ok(f->store, host->id, FALSE);
  assert_state(f->store, host->id, PP_HOST_STATE_DISABLED);
  set_enabled_ok(f->store, host->id, TRUE);
  assert_state(f->store, host->id, PP_HOST_STATE_INIT);

  /* Enabling a monitored host changes nothing. */
  reconcile(f->store, host->id, "", four_nics, 2, 2000);
  assert_state(f->store, host->id, PP_HOST_STATE_MONITORED);
  set_enabled_ok(f->store, host->id, TRUE);
  assert_state(f->store, host->id, PP_HOST_STATE_MONITORED);

  /* Disabling a failed host drops its error; enabling probes it anew. */
  g_assert_true(pp_store_host_set_error(f->store, host->id, "ssh: timed out", 3000, &error));
  g_assert_no_error(error);
  assert_state(f->store, host->id, PP_HOST_STATE_ERROR);
  set_enabled_ok(f->store, host->id, FALSE);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_DISABLED);
    g_assert_null(h->error);
    g_assert_cmpuint(h->pci_total, ==, 2);
  }
  set_enabled_ok(f->store, host->id, TRUE);
  assert_state(f->store, host->id, PP_HOST_STATE_INIT);

  g_assert_false(pp_store_host_set_enabled(f->store, 42, FALSE, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no host with id 42");
}

/* prebound changes alone: the state, the error and the devices stay. */
static void
test_host_set_prebound(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpHost) other = add_host(f->store, "node2");
  g_autoptr(GError) error = NULL;

  reconcile(f->store, host->id, "HOSTNAME = n1\nCPU_COUNT = 8\n", four_nics, 4, 2000);
  for (guint i = 0; i < 2; i++) {
    gboolean want = i == 0;
    g_autoptr(PpHost) h = NULL;
    g_autoptr(PpHost) o = NULL;

    g_assert_true(pp_store_host_set_prebound(f->store, host->id, want, &error));
    g_assert_no_error(error);
    h = get_host(f->store, host->id);
    o = get_host(f->store, other->id);
    g_assert_cmpint(h->prebound, ==, want);
    g_assert_cmpint(h->state, ==, PP_HOST_STATE_MONITORED);
    g_assert_cmpuint(h->pci_total, ==, 4);
    g_assert_false(o->prebound);
  }
  g_assert_false(pp_store_host_set_prebound(f->store, 42, TRUE, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no host with id 42");
}

/* The settings of a host, as text, to see that nothing changed. */
static char *
host_settings(PpStore *store, gint64 id)
{
  g_autoptr(PpHost) host = get_host(store, id);
  g_autofree char *command =
      host->probe_command != NULL ? g_strjoinv("|", host->probe_command) : g_strdup("-");

  return g_strdup_printf("%s@%s:%d %s %s %d %s %u %s", host->ssh_user ? host->ssh_user : "-",
                         host->ssh_host ? host->ssh_host : "-", host->ssh_port,
                         host->libvirt_uri ? host->libvirt_uri : "-", command, host->prebound,
                         pp_host_state_to_string(host->state), host->pci_total, host->context_pool);
}

/* host update: each setting alone, cleared, checked by host create's
 * rules; a bad one changes nothing; state and devices stay. */
static void
test_host_update(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  const char *const command[] = { "pcipass-probe", "--all", NULL };
  const char *const blank_first[] = { "", "x", NULL };
  g_autoptr(GPtrArray) too_many = g_ptr_array_new();
  g_autofree char *before = NULL;

  reconcile(f->store, host->id, "HOSTNAME = n1\n", four_nics, 4, 2000);
  {
    PpHostUpdate update = { .set_ssh = TRUE, .ssh_user = "root", .ssh_host = "n1", .ssh_port = 22 };
    g_autoptr(GError) error = NULL;
    g_autoptr(PpHost) got = pp_store_host_update(f->store, host->id, &update, &error);
    g_autofree char *now = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(got);
    g_assert_cmpstr(got->ssh_user, ==, "root");
    now = host_settings(f->store, host->id);
    g_assert_cmpstr(now, ==, "root@n1:22 - - 0 monitored 4 default");
  }
  {
    PpHostUpdate update = { .set_libvirt_uri = TRUE,
                            .libvirt_uri = "qemu+ssh://n1/system",
                            .set_probe_command = TRUE,
                            .probe_command = command,
                            .set_prebound = TRUE,
                            .prebound = TRUE,
                            .context_pool = "images" };
    g_autoptr(GError) error = NULL;
    g_autoptr(PpHost) got = pp_store_host_update(f->store, host->id, &update, &error);
    g_autofree char *now = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(got);
    now = host_settings(f->store, host->id);
    g_assert_cmpstr(now, ==,
                    "root@n1:22 qemu+ssh://n1/system pcipass-probe|--all 1 monitored 4 images");
  }

  /* Bad: the rules of host create, nothing changed. */
  before = host_settings(f->store, host->id);
  for (guint i = 0; i <= 64; i++)
    g_ptr_array_add(too_many, "w");
  g_ptr_array_add(too_many, NULL);
  {
    static const char *const long_user =
        "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu";
    struct {
      PpHostUpdate update;
      const char *message;
    } cases[] = {
      { { .set_ssh = TRUE, .ssh_user = "root" }, "host 'node1': an ssh user needs an ssh host" },
      { { .set_ssh = TRUE, .ssh_host = "n1", .ssh_port = 70000 },
        "host 'node1': the ssh port 70000 is not 1 to 65535 (0: ssh's default)" },
      { { .set_ssh = TRUE, .ssh_host = "-oProxyCommand=x" },
        "host 'node1': the ssh host '-oProxyCommand=x' starts with '-'" },
      { { .set_ssh = TRUE, .ssh_user = long_user, .ssh_host = "n1" },
        "host 'node1': the ssh user must have 1 to 64 bytes; it has 65" },
      { { .set_libvirt_uri = TRUE, .libvirt_uri = "nope", .set_prebound = TRUE },
        "host 'node1': the libvirt URI 'nope' is not a libvirt URI (qemu:///system, "
        "qemu+ssh://node1/system, test:///default)" },
      { { .set_probe_command = TRUE, .probe_command = blank_first, .set_ssh = TRUE },
        "host 'node1': the probe command's program is an empty word" },
      { { .set_probe_command = TRUE, .probe_command = (const char *const *)too_many->pdata },
        "host 'node1': a probe command has 1 to 64 words; this one has 65" },
      { { .context_pool = "" },
        "host 'node1': the context pool must have 1 to 128 bytes; it has 0" },
      { { .context_pool = "a/b" },
        "host 'node1': the context pool 'a/b' has a '/', which a libvirt pool's name cannot have" },
      { { .context_pool = "a\nb" },
        "host 'node1': the context pool 'a\\nb' has a character it cannot have (at byte 2)" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      g_autoptr(GError) error = NULL;
      g_autofree char *now = NULL;

      g_assert_null(pp_store_host_update(f->store, host->id, &cases[i].update, &error));
      g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
      g_assert_cmpstr(error->message, ==, cases[i].message);
      now = host_settings(f->store, host->id);
      g_assert_cmpstr(now, ==, before);
    }
  }

  /* Cleared: back to the defaults. */
  {
    PpHostUpdate update = { .set_ssh = TRUE, .set_libvirt_uri = TRUE, .set_probe_command = TRUE };
    g_autoptr(GError) error = NULL;
    g_autoptr(PpHost) got = pp_store_host_update(f->store, host->id, &update, &error);
    g_autofree char *now = NULL;

    g_assert_no_error(error);
    g_assert_nonnull(got);
    now = host_settings(f->store, host->id);
    g_assert_cmpstr(now, ==, "-@-:0 - - 1 monitored 4 images");
  }
  {
    PpHostUpdate update = { .set_prebound = TRUE };
    g_autoptr(GError) error = NULL;

    g_assert_null(pp_store_host_update(f->store, 42, &update, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
    g_assert_cmpstr(error->message, ==, "no host with id 42");
  }
}

static void
test_host_delete(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpHost) other = add_host(f->store, "node2");
  g_autoptr(GError) error = NULL;
  gint64 vm1 = pp_store_test_add_vm(f->store, "vm1");
  gint64 vm2 = pp_store_test_add_vm(f->store, "vm2");
  gint64 d0, d1, d2;
  g_autofree char *expect = NULL;

  reconcile(f->store, host->id, "", four_nics, 4, 2000);
  reconcile(f->store, other->id, "", four_nics, 3, 2000);
  d0 = device_id(f->store, host->id, "0000:05:00.0");
  d1 = device_id(f->store, host->id, "0000:05:00.1");
  d2 = device_id(f->store, host->id, "0000:05:10.0");
  /* VM 2 holds two devices, VM 1 one: each VM named once, in order. */
  g_assert_true(pp_store_test_hold_device(f->store, d0, vm2, &error));
  g_assert_true(pp_store_test_hold_device(f->store, d1, vm1, &error));
  g_assert_true(pp_store_test_hold_device(f->store, d2, vm2, &error));
  g_assert_no_error(error);

  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  expect = g_strdup_printf("host 'node1' has devices held by VMs %" G_GINT64_FORMAT
                           ", %" G_GINT64_FORMAT "; terminate them first",
                           vm1, vm2);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  g_assert_cmpuint(n_hosts(f->store), ==, 2);
  g_assert_cmpuint(get_counts(f->store).devices, ==, 7);

  /* One VM left. */
  g_assert_true(pp_store_vm_release(f->store, vm2, PP_VM_STATE_DONE, NULL, 2100, &error));
  g_assert_no_error(error);
  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_clear_pointer(&expect, g_free);
  expect = g_strdup_printf(
      "host 'node1' has devices held by VM %" G_GINT64_FORMAT "; terminate it first", vm1);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);

  /* A VM on the host without devices: its CPU and memory are there. */
  g_assert_true(pp_store_test_hold_device(f->store, d1, 0, &error));
  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_clear_pointer(&expect, g_free);
  expect =
      g_strdup_printf("host 'node1' has VM %" G_GINT64_FORMAT " on it; terminate it first", vm1);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  g_assert_true(pp_store_vm_release(f->store, vm1, PP_VM_STATE_DONE, NULL, 2100, &error));
  g_assert_true(pp_store_host_delete(f->store, host->id, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n_hosts(f->store), ==, 1);
  g_assert_cmpuint(get_counts(f->store).devices, ==, 3); /* node2's */
  g_assert_null(pp_store_host_list_devices(f->store, host->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_pointer(&expect, g_free);
  expect = g_strdup_printf("no host with id %" G_GINT64_FORMAT, host->id);
  g_assert_cmpstr(error->message, ==, expect);
}

/* Another process holds the write lock: BUSY, nothing changed. */
static void
test_busy(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) other = pp_store_open(f->path, &error);
  PpHostSpec spec = { .name = "node1" };
  g_autoptr(PpHost) host = NULL;
  g_autofree char *message = NULL;

  g_assert_no_error(error);
  g_assert_cmpint(raw_exec(other, "BEGIN IMMEDIATE", &message), ==, RAW_OK);
  sqlite3_busy_timeout(pp_db_sqlite_handle(pp_store_test_get_db(f->store)), 10);
  host = pp_store_host_create(f->store, &spec, 1000, &error);
  g_assert_null(host);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_BUSY);
  g_assert_cmpstr(error->message, ==,
                  "creating a host: starting a transaction: database is locked");
  g_clear_error(&error);
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(other, "ROLLBACK", &message), ==, RAW_OK);
  g_assert_cmpuint(n_hosts(f->store), ==, 0);
  host = pp_store_host_create(f->store, &spec, 1000, &error);
  g_assert_no_error(error);
}

/* ------------------------------------------------------------------------ */
/* Reconciling                                                              */
/* ------------------------------------------------------------------------ */

static void
test_reconcile(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(PpHost) after = NULL;
  const PpStoreDevice *dev;
  PpReconcileStats stats;
  /* 05:00.1's driver changes, 05:10.0 is renamed, 05:10.1 vanishes,
   * 06:00.0 appears. */
  static const SynthDevice second[] = {
    { "0000:05:00.0", NULL, NULL, "igb" },
    { "0000:05:00.1", NULL, NULL, "vfio-pci" },
    { "0000:05:10.0", "1520", "I350 Virtual Function", "igbvf" },
    { "0000:06:00.0", "10fb", "82599ES 10-Gigabit SFI/SFP+ Network Connection", "ixgbe" },
  };

  stats = reconcile(f->store, host->id, "", four_nics, 4, 2000);
  assert_stats(stats, 4, 0, 0, 0);
  devices = list_devices(f->store, host->id);
  g_assert_cmpuint(devices->len, ==, 4);
  dev = g_ptr_array_index(devices, 0);
  g_assert_cmpstr(dev_bdf(dev), ==, "0000:05:00.0");
  g_assert_cmpint(dev->host_id, ==, host->id);
  {
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_assert_cmpstr(pp_pci_address_format_short(&dev->pci.address, buf), ==, "05:00.0");
  }
  g_assert_cmpuint(dev->pci.vendor, ==, 0x8086);
  g_assert_cmpuint(dev->pci.device, ==, 0x1521);
  g_assert_cmpuint(dev->pci.class_code, ==, 0x0200);
  g_assert_cmpstr(dev->pci.vendor_name, ==, "Intel Corporation");
  g_assert_cmpstr(dev->pci.device_name, ==, "I350 Gigabit Network Connection");
  g_assert_cmpstr(dev->pci.class_name, ==, "Ethernet controller");
  g_assert_cmpint(dev->pci.numa_node, ==, 0);
  g_assert_cmpint(dev->pci.iommu_group, ==, 10);
  g_assert_cmpstr(dev->pci.driver, ==, "igb");
  g_assert_cmpstr(dev->pci.sriov, ==, "no");
  g_assert_null(dev->pci.physfn);
  g_assert_cmpint(dev->vm_id, ==, 0);
  g_assert_false(dev->gone);
  g_assert_cmpuint(g_strv_length(dev->pci.keys), ==, 13);
  g_assert_cmpstr(dev->pci.keys[0], ==, "TYPE");
  g_assert_cmpstr(dev->pci.values[0], ==, "8086:1521:0200");
  g_assert_cmpstr(dev->pci.keys[12], ==, "DRIVER");
  g_assert_cmpstr(dev->pci.values[12], ==, "igb");
  g_assert_null(find_device(devices, "0000:05:10.1")->pci.driver);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* The same report again: all refreshed, nothing else. */
  stats = reconcile(f->store, host->id, "", four_nics, 4, 2100);
  assert_stats(stats, 0, 4, 0, 0);

  stats = reconcile(f->store, host->id, "", second, 4, 2200);
  assert_stats(stats, 1, 3, 1, 0);
  devices = list_devices(f->store, host->id);
  g_assert_cmpuint(devices->len, ==, 4);
  g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[3])), ==, "0000:06:00.0");
  dev = find_device(devices, "0000:05:00.1");
  g_assert_cmpstr(dev->pci.driver, ==, "vfio-pci");
  g_assert_cmpstr(dev->pci.values[12], ==, "vfio-pci");
  dev = find_device(devices, "0000:05:10.0");
  g_assert_cmpstr(dev->pci.device_name, ==, "I350 Virtual Function");
  g_assert_cmpstr(dev->pci.values[4], ==, "I350 Virtual Function");
  dev = find_device(devices, "0000:06:00.0");
  g_assert_cmpuint(dev->pci.device, ==, 0x10fb);
  g_assert_cmpstr(dev->pci.driver, ==, "ixgbe");
  for (guint i = 0; i < devices->len; i++)
    g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[i])), !=, "0000:05:10.1");

  after = get_host(f->store, host->id);
  g_assert_cmpuint(after->pci_total, ==, 4);
  g_assert_cmpuint(after->pci_free, ==, 4);
  g_assert_cmpint(after->last_monitored, ==, 2200);

  /* An empty report empties a host whose devices are all free. */
  stats = reconcile(f->store, host->id, "", NULL, 0, 2300);
  assert_stats(stats, 0, 0, 4, 0);
  g_assert_cmpuint(get_counts(f->store).devices, ==, 0);
}

/* A device that vanishes while a VM holds it is kept and flagged; it comes
 * back un-flagged, still held, when reported again. */
static void
test_reconcile_held(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;
  gint64 vm = pp_store_test_add_vm(f->store, "vm1");
  gint64 held;
  PpReconcileStats stats;

  reconcile(f->store, host->id, "", four_nics, 4, 2000);
  held = device_id(f->store, host->id, "0000:05:10.0");
  g_assert_true(pp_store_test_hold_device(f->store, held, vm, &error));
  g_assert_no_error(error);

  /* Only the PFs are reported: 05:10.0 (held) is flagged, 05:10.1 goes. */
  stats = reconcile(f->store, host->id, "", four_nics, 2, 2100);
  assert_stats(stats, 0, 2, 1, 1);
  {
    g_autoptr(GPtrArray) devices = list_devices(f->store, host->id);
    g_autoptr(PpHost) h = get_host(f->store, host->id);
    const PpStoreDevice *dev = find_device(devices, "0000:05:10.0");
    PpStoreCounts counts = get_counts(f->store);

    g_assert_cmpuint(devices->len, ==, 3);
    g_assert_true(dev->gone);
    g_assert_cmpint(dev->vm_id, ==, vm);
    g_assert_cmpint(dev->id, ==, held);
    g_assert_cmpstr(dev->pci.driver, ==, "igbvf"); /* as last reported */
    g_assert_cmpuint(h->pci_total, ==, 3);
    g_assert_cmpuint(h->pci_free, ==, 2);
    g_assert_cmpuint(counts.devices, ==, 3);
    g_assert_cmpuint(counts.devices_held, ==, 1);
    g_assert_cmpuint(counts.devices_gone, ==, 1);
  }

  /* Still missing: still kept. */
  stats = reconcile(f->store, host->id, "", four_nics, 2, 2200);
  assert_stats(stats, 0, 2, 0, 1);

  /* Back, with another driver: un-flagged, refreshed, still held. */
  {
    SynthDevice back[3] = { four_nics[0], four_nics[1], four_nics[2] };

    back[2].driver = "vfio-pci";
    stats = reconcile(f->store, host->id, "", back, 3, 2300);
    assert_stats(stats, 0, 3, 0, 0);
  }
  {
    g_autoptr(GPtrArray) devices = list_devices(f->store, host->id);
    const PpStoreDevice *dev = find_device(devices, "0000:05:10.0");

    g_assert_false(dev->gone);
    g_assert_cmpint(dev->vm_id, ==, vm);
    g_assert_cmpint(dev->id, ==, held);
    g_assert_cmpstr(dev->pci.driver, ==, "vfio-pci");
    g_assert_cmpuint(get_counts(f->store).devices_gone, ==, 0);
  }
}

static void
test_reconcile_facts(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;

  reconcile(f->store, host->id,
            "HOSTNAME = \"node1.lab\"\nCPU_COUNT = 48\nMEMORY_KIB = 263921280\n"
            "KERNEL_VERSION = \"6.1.0-18-amd64\"\n",
            four_nics, 1, 2000);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_MONITORED);
    g_assert_cmpstr(h->reported_hostname, ==, "node1.lab");
    g_assert_cmpint(h->cpu_count, ==, 48);
    g_assert_cmpint(h->memory_kib, ==, 263921280);
    g_assert_cmpstr(h->kernel_version, ==, "6.1.0-18-amd64");
    g_assert_cmpint(h->last_monitored, ==, 2000);
  }

  /* A failed probe: the error, the time; the facts and inventory stay. */
  g_assert_true(pp_store_host_set_error(f->store, host->id,
                                        "probe exited with status 1: no such file", 2100, &error));
  g_assert_no_error(error);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_ERROR);
    g_assert_cmpstr(h->error, ==, "probe exited with status 1: no such file");
    g_assert_cmpint(h->last_monitored, ==, 2100);
    g_assert_cmpint(h->cpu_count, ==, 48);
    g_assert_cmpuint(h->pci_total, ==, 1);
  }

  /* The next report replaces every fact, absent ones included, and clears
   * the error. */
  reconcile(f->store, host->id, "CPU_COUNT = 2\n", four_nics, 1, 2200);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_MONITORED);
    g_assert_null(h->error);
    g_assert_null(h->reported_hostname);
    g_assert_cmpint(h->cpu_count, ==, 2);
    g_assert_cmpint(h->memory_kib, ==, -1);
    g_assert_null(h->kernel_version);
  }

  /* A long, broken message is cut and made UTF-8. */
  {
    g_autoptr(GString) message = g_string_new("\xff");
    g_autoptr(PpHost) h = NULL;

    while (message->len < 10000)
      g_string_append(message, "stderr ");
    g_assert_true(pp_store_host_set_error(f->store, host->id, message->str, 2300, &error));
    h = get_host(f->store, host->id);
    g_assert_true(g_utf8_validate(h->error, -1, NULL));
    g_assert_cmpuint(strlen(h->error), <=, 4096 + 3);
    g_assert_true(g_str_has_prefix(h->error, "\xef\xbf\xbdstderr"));
  }

  g_assert_false(pp_store_host_set_error(f->store, 77, "x", 2400, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  {
    g_autoptr(PpProbeReport) report = parse_report("CPU_COUNT = 1\n");

    g_assert_false(pp_store_host_reconcile(f->store, 77, report, 2400, NULL, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
    g_assert_cmpstr(error->message, ==, "no host with id 77");
  }
}

/* A disabled host keeps state disabled; its inventory is still kept up. */
static void
test_reconcile_disabled(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;
  PpReconcileStats stats;

  set_enabled_ok(f->store, host->id, FALSE);
  stats = reconcile(f->store, host->id, "CPU_COUNT = 4\n", four_nics, 3, 2000);
  assert_stats(stats, 3, 0, 0, 0);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_DISABLED);
    g_assert_cmpint(h->cpu_count, ==, 4);
    g_assert_cmpint(h->last_monitored, ==, 2000);
    g_assert_cmpuint(h->pci_total, ==, 3);
  }
  g_assert_true(pp_store_host_set_error(f->store, host->id, "ssh: refused", 2100, &error));
  g_assert_no_error(error);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpint(h->state, ==, PP_HOST_STATE_DISABLED);
    g_assert_null(h->error);
    g_assert_cmpint(h->last_monitored, ==, 2100);
    g_assert_cmpuint(h->pci_total, ==, 3);
  }
  g_assert_cmpuint(get_counts(f->store).hosts_by_state[PP_HOST_STATE_DISABLED], ==, 1);
}

/* Runs the real probe on a real tree; returns its output. */
static char *
probe_tree(const char *tarball, const char *folder)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *sys = NULL;
  PpTestRun run = { 0 };
  char *out;

  pp_test_unpack(tarball, dir);
  sys = folder ? g_build_filename(dir, folder, "sys", NULL) : g_build_filename(dir, "sys", NULL);
  {
    const char *argv[] = { probe, "--sysfs-root", sys, "--pci-ids", PCI_IDS, "--all", NULL };

    pp_test_run(argv, NULL, &run);
  }
  if (run.status != 0)
    g_error("the probe failed (%d): %s", run.status, run.err);
  out = g_steal_pointer(&run.out);
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
  return out;
}

/* The real probe's output of two real hosts, reconciled. */
static void
test_reconcile_real(Fixture *f, gconstpointer data)
{
  g_autofree char *i350 = probe_tree(GHW_I350, NULL);
  g_autofree char *intel40 = probe_tree(HWLOC_40INTEL, "40intel64-2g2n4c+pci");
  g_autoptr(PpHost) a = add_host(f->store, "i350-host");
  g_autoptr(PpHost) b = add_host(f->store, "intel40");
  PpReconcileStats stats;

  stats = reconcile_text(f->store, a->id, i350, 2000);
  assert_stats(stats, 82, 0, 0, 0);
  stats = reconcile_text(f->store, b->id, intel40, 2000);
  assert_stats(stats, 37, 0, 0, 0);
  stats = reconcile_text(f->store, a->id, i350, 2100);
  assert_stats(stats, 0, 82, 0, 0);

  {
    g_autoptr(PpHost) h = get_host(f->store, a->id);
    g_autoptr(GPtrArray) devices = list_devices(f->store, a->id);
    const PpStoreDevice *pf = find_device(devices, "0000:05:00.0");
    const PpStoreDevice *vf = find_device(devices, "0000:05:10.1");

    g_assert_cmpint(h->cpu_count, ==, 24);
    g_assert_cmpint(h->memory_kib, ==, 65921280);
    g_assert_cmpuint(h->pci_total, ==, 82);
    g_assert_cmpuint(h->pci_free, ==, 82);
    g_assert_cmpuint(devices->len, ==, 82);
    g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[0])), ==, "0000:00:00.0");
    g_assert_cmpuint(pf->pci.vendor, ==, 0x8086);
    g_assert_cmpuint(pf->pci.device, ==, 0x1521);
    g_assert_cmpstr(pf->pci.device_name, ==, "I350 Gigabit Network Connection");
    g_assert_cmpstr(pf->pci.driver, ==, "igb");
    g_assert_cmpint(pf->pci.numa_node, ==, 0);
    g_assert_cmpuint(vf->pci.device, ==, 0x1520);
    g_assert_cmpstr(vf->pci.driver, ==, "igbvf");
    g_assert_cmpstr(vf->pci.keys[7], ==, "ADDRESS");
    g_assert_cmpstr(vf->pci.values[7], ==, "0000:05:10:1");
  }
  {
    g_autoptr(GPtrArray) devices = list_devices(f->store, b->id);
    const PpStoreDevice *ib = find_device(devices, "0000:43:00.0");
    PpStoreCounts counts = get_counts(f->store);

    g_assert_cmpuint(devices->len, ==, 37);
    g_assert_cmpuint(ib->pci.vendor, ==, 0x1077);
    g_assert_cmpuint(ib->pci.class_code, ==, 0x0c06);
    g_assert_cmpint(ib->pci.numa_node, ==, 2);
    g_assert_cmpstr(ib->pci.driver, ==, "ib_qib");
    g_assert_cmpstrv(
        ib->pci.keys,
        ((const char *const[]){
            "TYPE",  "VENDOR",     "VENDOR_NAME",      "DEVICE",           "DEVICE_NAME",
            "CLASS", "CLASS_NAME", "ADDRESS",          "SHORT_ADDRESS",    "DOMAIN",
            "BUS",   "SLOT",       "FUNCTION",         "NUMA_NODE",        "IFNAME",
            "SRIOV", "DRIVER",     "SUBSYSTEM_VENDOR", "SUBSYSTEM_DEVICE", NULL }));
    g_assert_cmpstr(ib->pci.values[14], ==, "ib0");
    g_assert_cmpuint(counts.devices, ==, 82 + 37);
    g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_MONITORED], ==, 2);
  }
}

/* ------------------------------------------------------------------------ */
/* What the schema itself refuses                                           */
/* ------------------------------------------------------------------------ */

static void
test_schema_one_vm(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *sql = NULL;
  gint64 vm1 = pp_store_test_add_vm(f->store, "vm1");
  gint64 vm2 = pp_store_test_add_vm(f->store, "vm2");
  gint64 dev;

  reconcile(f->store, host->id, "", four_nics, 2, 2000);
  dev = device_id(f->store, host->id, "0000:05:00.0");
  g_assert_true(pp_store_test_hold_device(f->store, dev, vm1, &error));
  g_assert_no_error(error);

  /* Another VM: refused by the trigger, through the store's mapping... */
  g_assert_false(pp_store_test_hold_device(f->store, dev, vm2, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_nonnull(strstr(error->message, "device is held by another VM"));
  g_clear_error(&error);
  /* ... and to any SQL. */
  sql = g_strdup_printf(
      "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT, vm2, dev);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "device is held by another VM");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                  1);
  {
    g_autoptr(GPtrArray) devices = list_devices(f->store, host->id);

    g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_id, ==, vm1);
  }

  /* The same VM again is no change; freed first, another VM may take it. */
  g_assert_true(pp_store_test_hold_device(f->store, dev, vm1, &error));
  g_assert_true(pp_store_test_hold_device(f->store, dev, 0, &error));
  g_assert_true(pp_store_test_hold_device(f->store, dev, vm2, &error));
  g_assert_no_error(error);

  /* A VM that holds a device cannot vanish. */
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("DELETE FROM vms WHERE id = %" G_GINT64_FORMAT, vm2);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  assert_refusal(message, "FOREIGN KEY constraint failed");
  g_clear_pointer(&message, g_free);

  /* Nor can a device be held by a VM that does not exist. */
  g_assert_false(pp_store_test_hold_device(f->store, device_id(f->store, host->id, "0000:05:00.1"),
                                           999, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_clear_error(&error);

  /* One row per device of a host. */
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("INSERT INTO pci_device (host_id, address, short_address, vendor, device, "
                        "class_code) VALUES (%" G_GINT64_FORMAT ", '0000:05:00.0', '05:00.0', "
                        "1, 2, 3)",
                        host->id);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  assert_refusal(message, "UNIQUE constraint failed: pci_device.host_id, pci_device.address");
  g_clear_pointer(&message, g_free);
}

static void
test_schema_gone(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  gint64 vm = pp_store_test_add_vm(f->store, "vm1");
  gint64 dev;

  reconcile(f->store, host->id, "", four_nics, 2, 2000);
  dev = device_id(f->store, host->id, "0000:05:00.1");

  /* A free device cannot be gone. */
  g_assert_cmpint(raw_exec(f->store, "UPDATE pci_device SET gone = 1", &message), ==,
                  RAW_CONSTRAINT);
  assert_refusal(message, "CHECK constraint failed: gone = 0 OR vm_id IS NOT NULL");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE gone = 1"), ==, 0);

  /* A held one vanishes; freeing it without deleting it is refused. */
  g_assert_true(pp_store_test_hold_device(f->store, dev, vm, &error));
  reconcile(f->store, host->id, "", four_nics, 1, 2100);
  g_assert_false(pp_store_test_hold_device(f->store, dev, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_true(is_check_refusal(error->message));

  /* A host's state is one of four, and agrees with enabled. */
  g_assert_cmpint(raw_exec(f->store, "UPDATE hosts SET state = 'busy'", &message), ==,
                  RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(f->store, "UPDATE hosts SET state = 'disabled'", &message), ==,
                  RAW_CONSTRAINT);
  assert_refusal(message, "CHECK constraint failed: (enabled = 0) = (state = 'disabled')");
}

/* ------------------------------------------------------------------------ */
/* Users and tokens                                                         */
/* ------------------------------------------------------------------------ */

static void
test_users(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) admin = pp_store_user_create(f->store, "admin", TRUE, 100, &error);
  g_autoptr(PpUser) bob = pp_store_user_create(f->store, "bob", FALSE, 200, &error);
  g_autoptr(PpUser) found = NULL;
  g_autoptr(GPtrArray) users = NULL;

  g_assert_no_error(error);
  g_assert_true(admin->admin);
  g_assert_cmpstr(admin->name, ==, "admin");
  g_assert_cmpint(admin->created, ==, 100);
  g_assert_false(bob->admin);

  found = pp_store_user_find(f->store, "bob", &error);
  g_assert_no_error(error);
  g_assert_cmpint(found->id, ==, bob->id);
  g_clear_pointer(&found, pp_user_free);
  found = pp_store_user_get(f->store, admin->id, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(found->name, ==, "admin");

  g_assert_null(pp_store_user_create(f->store, "bob", TRUE, 300, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==, "a user named 'bob' exists (id 2)");
  g_clear_error(&error);
  g_assert_null(pp_store_user_create(f->store, "bob smith", FALSE, 300, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "user name 'bob smith' has a character other than A-Z, a-z, 0-9, '.', '_' and "
                  "'-' (at byte 4)");
  g_clear_error(&error);
  g_assert_null(pp_store_user_find(f->store, "carol", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no user 'carol'");
  g_clear_error(&error);
  g_assert_null(pp_store_user_get(f->store, 9, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no user with id 9");
  g_clear_error(&error);

  users = pp_store_user_list(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(users->len, ==, 2);
  g_assert_cmpstr(((PpUser *)users->pdata[0])->name, ==, "admin");
  g_assert_cmpstr(((PpUser *)users->pdata[1])->name, ==, "bob");
  g_assert_cmpuint(get_counts(f->store).users, ==, 2);
}

static void
test_tokens(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = pp_store_user_create(f->store, "alice", FALSE, 100, &error);
  g_autoptr(PpUser) bob = pp_store_user_create(f->store, "bob", FALSE, 100, &error);
  g_autoptr(PpToken) ta =
      pp_store_token_create(f->store, alice->id, "laptop", HASH_A, 200, 0, &error);
  g_autoptr(PpToken) tb = pp_store_token_create(f->store, bob->id, NULL, HASH_B, 300, 0, &error);
  g_autoptr(PpUser) who = NULL;
  g_autoptr(GPtrArray) tokens = NULL;

  g_assert_no_error(error);
  g_assert_cmpint(ta->user_id, ==, alice->id);
  g_assert_cmpstr(ta->user_name, ==, "alice");
  g_assert_cmpstr(ta->name, ==, "laptop");
  g_assert_cmpint(ta->created, ==, 200);
  g_assert_cmpint(ta->last_used, ==, 0);
  g_assert_null(tb->name);

  /* The secret's hash finds its user and marks the token used. */
  who = pp_store_token_authenticate(f->store, HASH_A, 500, &error);
  g_assert_no_error(error);
  g_assert_cmpint(who->id, ==, alice->id);
  g_assert_cmpstr(who->name, ==, "alice");
  tokens = pp_store_token_list(f->store, alice->id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(tokens->len, ==, 1);
  g_assert_cmpint(((PpToken *)tokens->pdata[0])->last_used, ==, 500);
  g_clear_pointer(&tokens, g_ptr_array_unref);

  tokens = pp_store_token_list(f->store, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(tokens->len, ==, 2);
  g_assert_cmpstr(((PpToken *)tokens->pdata[1])->user_name, ==, "bob");
  g_assert_cmpint(((PpToken *)tokens->pdata[1])->last_used, ==, 0);
  g_clear_pointer(&tokens, g_ptr_array_unref);

  g_assert_null(pp_store_token_authenticate(
      f->store, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 500, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_null(pp_store_token_authenticate(f->store, "' OR 1=1 --", 500, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* Bad input, changing nothing. */
  g_assert_null(pp_store_token_create(f->store, alice->id, NULL, HASH_A, 600, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==, "a token with this hash exists");
  g_clear_error(&error);
  g_assert_null(pp_store_token_create(f->store, alice->id, NULL, "ABCDEF", 600, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "a token hash is 64 lower-case hex digits (SHA-256)");
  g_clear_error(&error);
  g_assert_null(pp_store_token_create(
      f->store, 99, NULL, "1111111111111111111111111111111111111111111111111111111111111111", 600,
      0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no user with id 99");
  g_clear_error(&error);
  g_assert_null(pp_store_token_create(
      f->store, bob->id, "two\nlines",
      "1111111111111111111111111111111111111111111111111111111111111111", 600, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(pp_store_token_list(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_cmpuint(get_counts(f->store).tokens, ==, 2);

  /* A user's tokens go with the user (nothing deletes users yet). */
  {
    g_autofree char *message = NULL;
    g_autofree char *sql =
        g_strdup_printf("DELETE FROM users WHERE id = %" G_GINT64_FORMAT, bob->id);

    g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_OK);
    g_assert_cmpuint(get_counts(f->store).tokens, ==, 1);
  }
}

/* ------------------------------------------------------------------------ */
/* VMs                                                                      */
/* ------------------------------------------------------------------------ */

#define VM_TEMPLATE "CPU = 2\nMEMORY = 4096\n"

static PpUser *
add_user(PpStore *store, const char *name)
{
  g_autoptr(GError) error = NULL;
  PpUser *user = pp_store_user_create(store, name, FALSE, 50, &error);

  g_assert_no_error(error);
  return user;
}

static PpVm *
add_vm(PpStore *store, gint64 owner_id, const char *name, gint64 cpu, gint64 memory_kib)
{
  g_autoptr(GError) error = NULL;
  PpVm *vm =
      pp_store_vm_create(store, owner_id, name, VM_TEMPLATE, cpu, memory_kib, NULL, 0, 500, &error);

  g_assert_no_error(error);
  g_assert_nonnull(vm);
  return vm;
}

static PpVm *
get_vm(PpStore *store, gint64 id)
{
  g_autoptr(GError) error = NULL;
  PpVm *vm = pp_store_vm_get(store, id, &error);

  g_assert_no_error(error);
  return vm;
}

static PpVmState
vm_state(PpStore *store, gint64 id)
{
  g_autoptr(PpVm) vm = get_vm(store, id);

  return vm->state;
}

static GPtrArray *
vm_devices(PpStore *store, gint64 vm_id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *devices = pp_store_vm_list_devices(store, vm_id, &error);

  g_assert_no_error(error);
  return devices;
}

static void
allocate_ok(PpStore *store, gint64 vm_id, gint64 host_id, const gint64 *ids, guint n, gint64 now)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_store_vm_allocate(store, vm_id, host_id, ids, n, now, &error));
  g_assert_no_error(error);
}

static void
transition_ok(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to, const char *reason)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_store_vm_transition(store, vm_id, from, to, reason, 900, &error));
  g_assert_no_error(error);
}

/* The ids of @vms, "1,3". */
static char *
vm_ids(GPtrArray *vms)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < vms->len; i++)
    g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i ? "," : "",
                           ((PpVm *)g_ptr_array_index(vms, i))->id);
  return g_string_free(out, FALSE);
}

static char *
list_vm_ids(PpStore *store, gint64 owner_id, guint states)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) vms = pp_store_vm_list(store, owner_id, states, &error);

  g_assert_no_error(error);
  return vm_ids(vms);
}

static void
test_vm_create(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpVm) named = NULL;
  g_autoptr(PpVm) unnamed = NULL;
  g_autoptr(PpVm) got = NULL;

  named = pp_store_vm_create(f->store, alice->id, "gpu-job", VM_TEMPLATE, 250, 4194304, NULL, 0,
                             500, &error);
  g_assert_no_error(error);
  g_assert_cmpint(named->id, ==, 1);
  g_assert_cmpstr(named->name, ==, "gpu-job");
  g_assert_cmpint(named->owner_id, ==, alice->id);
  g_assert_cmpstr(named->owner_name, ==, "alice");
  g_assert_cmpint(named->state, ==, PP_VM_STATE_PENDING);
  g_assert_null(named->reason);
  g_assert_cmpstr(named->template_text, ==, VM_TEMPLATE);
  g_assert_cmpint(named->host_id, ==, 0);
  g_assert_null(named->host_name);
  g_assert_cmpint(named->cpu, ==, 250);
  g_assert_cmpint(named->memory_kib, ==, 4194304);
  g_assert_cmpint(named->created, ==, 500);
  g_assert_cmpint(named->updated, ==, 500);

  /* No name: "vm-ID"; names need not be unique. */
  unnamed = pp_store_vm_create(f->store, alice->id, NULL, "", 0, 0, NULL, 0, 600, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(unnamed->name, ==, "vm-2");
  g_assert_cmpstr(unnamed->template_text, ==, "");
  g_clear_pointer(&unnamed, pp_vm_free);
  unnamed = pp_store_vm_create(f->store, alice->id, "gpu-job", "", 0, 0, NULL, 0, 600, &error);
  g_assert_no_error(error);
  g_assert_cmpint(unnamed->id, ==, 3);

  /* Bad input changes nothing. */
  g_assert_null(pp_store_vm_create(f->store, 99, "x", VM_TEMPLATE, 1, 1, NULL, 0, 700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no user with id 99");
  g_clear_error(&error);
  g_assert_null(pp_store_vm_create(f->store, alice->id, "two words", VM_TEMPLATE, 1, 1, NULL, 0,
                                   700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "'two words' is not a VM name: 1 to 64 letters, digits, '.', '_' or '-'");
  g_clear_error(&error);
  g_assert_null(
      pp_store_vm_create(f->store, alice->id, "", VM_TEMPLATE, 1, 1, NULL, 0, 700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(
      pp_store_vm_create(f->store, alice->id, "x", VM_TEMPLATE, -1, 1, NULL, 0, 700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "a VM's CPU (-1) and memory (1 KiB) cannot be negative");
  g_clear_error(&error);
  g_assert_null(
      pp_store_vm_create(f->store, alice->id, "x", "NAME = \"\xff\"", 1, 1, NULL, 0, 700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms"), ==, 3);

  g_assert_null(pp_store_vm_get(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
  g_clear_error(&error);

  /* A restart keeps them. */
  reopen(f);
  got = get_vm(f->store, named->id);
  g_assert_cmpstr(got->name, ==, "gpu-job");
  g_assert_cmpstr(got->owner_name, ==, "alice");
  g_assert_cmpstr(got->template_text, ==, VM_TEMPLATE);
  g_assert_cmpint(got->cpu, ==, 250);
  g_assert_cmpint(got->memory_kib, ==, 4194304);
}

static void
test_vm_list(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) a1 = add_vm(f->store, alice->id, "a1", 100, 1024);
  g_autoptr(PpVm) b1 = add_vm(f->store, bob->id, "b1", 100, 1024);
  g_autoptr(PpVm) a2 = add_vm(f->store, alice->id, "a2", 100, 1024);
  g_autoptr(PpVm) b2 = add_vm(f->store, bob->id, "b2", 100, 1024);

  g_assert_cmpint(a1->id, ==, 1);
  g_assert_cmpint(b1->id, ==, 2);
  allocate_ok(f->store, a2->id, host->id, NULL, 0, 800);
  transition_ok(f->store, a2->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  g_assert_true(pp_store_vm_release(f->store, b2->id, PP_VM_STATE_FAILED, "no", 800, NULL));

#define CHECK_LIST(owner, states, expect)                                                          \
  do {                                                                                             \
    g_autofree char *got_ = list_vm_ids(f->store, (owner), (states));                              \
    g_assert_cmpstr(got_, ==, (expect));                                                           \
  } while (0)
  CHECK_LIST(0, 0, "1,2,3,4");
  CHECK_LIST(alice->id, 0, "1,3");
  CHECK_LIST(bob->id, 0, "2,4");
  CHECK_LIST(99, 0, "");
  CHECK_LIST(0, 1u << PP_VM_STATE_PENDING, "1,2");
  CHECK_LIST(0, (1u << PP_VM_STATE_RUNNING) | (1u << PP_VM_STATE_FAILED), "3,4");
  CHECK_LIST(bob->id, (1u << PP_VM_STATE_RUNNING) | (1u << PP_VM_STATE_FAILED), "4");
  CHECK_LIST(alice->id, 1u << PP_VM_STATE_DONE, "");
  /* Every state but done, as the API lists by default. */
  CHECK_LIST(0, ((1u << _PP_VM_STATE_MAX) - 1) & ~(1u << PP_VM_STATE_DONE), "1,2,3,4");
#undef CHECK_LIST
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vms = pp_store_vm_list(f->store, 0, 1u << PP_VM_STATE_RUNNING, &error);
    const PpVm *vm = g_ptr_array_index(vms, 0);

    g_assert_no_error(error);
    g_assert_cmpstr(vm->name, ==, "a2");
    g_assert_cmpstr(vm->owner_name, ==, "alice");
    g_assert_cmpint(vm->host_id, ==, host->id);
    g_assert_cmpstr(vm->host_name, ==, "node1");
  }
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_PENDING), ==, "pending");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_DEPLOYING), ==, "deploying");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_RUNNING), ==, "running");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_POWEROFF), ==, "poweroff");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_TERMINATING), ==, "terminating");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_DONE), ==, "done");
  g_assert_cmpstr(pp_vm_state_to_string(PP_VM_STATE_FAILED), ==, "failed");
}

/* A VM by id or name, as the API finds it: the caller's own only (0: an
 * admin, everyone's); an id first; a name that is not done wins over done
 * ones of that name; two live ones are ambiguous, listing their ids;
 * another's VM is not found in the same words as none. */
static void
test_vm_find(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  g_autoptr(PpVm) audio_old = add_vm(f->store, alice->id, "audio", 100, 1024); /* 1, done */
  g_autoptr(PpVm) audio = add_vm(f->store, alice->id, "audio", 100, 1024);     /* 2 */
  g_autoptr(PpVm) twin_a = add_vm(f->store, alice->id, "twin", 100, 1024);     /* 3 */
  g_autoptr(PpVm) twin_b = add_vm(f->store, alice->id, "twin", 100, 1024);     /* 4 */
  g_autoptr(PpVm) bob_audio = add_vm(f->store, bob->id, "audio", 100, 1024);   /* 5 */
  g_autoptr(PpVm) seven = add_vm(f->store, alice->id, "7", 100, 1024);         /* 6 */
  g_autoptr(PpVm) bob_seven = add_vm(f->store, bob->id, "x", 100, 1024);       /* 7 */
  g_autoptr(PpVm) gone_a = add_vm(f->store, alice->id, "gone", 100, 1024);     /* 8, done */
  g_autoptr(PpVm) gone_b = add_vm(f->store, alice->id, "gone", 100, 1024);     /* 9, done */
  g_autoptr(PpVm) once = add_vm(f->store, alice->id, "once", 100, 1024);       /* 10, done */
  g_autoptr(PpVm) unnamed = add_vm(f->store, bob->id, NULL, 100, 1024);        /* 11 */
  static const struct {
    const char *key;
    int owner; /* 0: admin, 1: alice, 2: bob */
    gint64 id; /* 0: an error */
    const char *message;
  } cases[] = {
    { "2", 1, 2, NULL },
    { "audio", 1, 2, NULL }, /* VM 1 of that name is done */
    { "audio", 2, 5, NULL },
    { "5", 1, 0, "no VM 5" }, /* bob's: as if it did not exist */
    { "5", 2, 5, NULL },
    { "7", 1, 6, NULL }, /* VM 7 is bob's: alice's VM named 7 */
    { "7", 2, 7, NULL },
    { "6", 2, 0, "no VM 6" },
    { "7", 0, 7, NULL }, /* an admin: the id */
    { "twin", 1, 0, "2 VMs are named 'twin' (ids 3, 4): use an id" },
    { "twin", 2, 0, "no VM 'twin'" },
    { "audio", 0, 0, "2 VMs are named 'audio' (ids 2, 5): use an id" },
    { "gone", 1, 0, "2 VMs named 'gone' are done (ids 8, 9): use an id" },
    { "once", 1, 10, NULL }, /* done, and alone of that name */
    { "vm-11", 2, 11, NULL },
    { "vm-11", 1, 0, "no VM 'vm-11'" },
    { "Audio", 1, 0, "no VM 'Audio'" },
    { "99", 0, 0, "no VM 99" },
    { "0", 1, 0, "no VM '0'" },
    { "", 1, 0, "no VM ''" },
    { "a/../b", 1, 0, "no VM 'a/../b'" },
    { "two words", 0, 0, "no VM 'two words'" },
  };

  g_assert_cmpint(unnamed->id, ==, 11);
  /* The ids the cases name. */
  g_assert_cmpint(audio->id, ==, 2);
  g_assert_cmpint(bob_audio->id, ==, 5);
  g_assert_cmpint(seven->id, ==, 6);
  g_assert_cmpint(bob_seven->id, ==, 7);
  g_assert_true(pp_store_vm_release(f->store, audio_old->id, PP_VM_STATE_DONE, NULL, 900, NULL));
  g_assert_true(pp_store_vm_release(f->store, gone_a->id, PP_VM_STATE_DONE, NULL, 900, NULL));
  g_assert_true(pp_store_vm_release(f->store, gone_b->id, PP_VM_STATE_DONE, NULL, 900, NULL));
  g_assert_true(pp_store_vm_release(f->store, once->id, PP_VM_STATE_DONE, NULL, 900, NULL));
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    gint64 owner = cases[i].owner == 0 ? 0 : cases[i].owner == 1 ? alice->id : bob->id;
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = pp_store_vm_find(f->store, cases[i].key, owner, &error);

    if (cases[i].id != 0) {
      if (vm == NULL)
        g_error("case %u '%s': %s", i, cases[i].key, error->message);
      g_assert_cmpint(vm->id, ==, cases[i].id);
      continue;
    }
    g_assert_null(vm);
    g_assert_nonnull(error);
    if (strcmp(error->message, cases[i].message) != 0)
      g_error("case %u '%s': got '%s', want '%s'", i, cases[i].key, error->message,
              cases[i].message);
    g_assert_true(error->domain == PP_STORE_ERROR);
    g_assert_cmpint(error->code, ==,
                    g_str_has_prefix(cases[i].message, "no VM") ? PP_STORE_ERROR_NOT_FOUND
                                                                : PP_STORE_ERROR_INVALID);
  }

  /* Terminated, one twin leaves the other alone with the name. */
  g_assert_true(pp_store_vm_release(f->store, twin_a->id, PP_VM_STATE_DONE, NULL, 950, NULL));
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = pp_store_vm_find(f->store, "twin", alice->id, &error);

    g_assert_no_error(error);
    g_assert_cmpint(vm->id, ==, twin_b->id);
  }

  /* More than ten of a name: the first ten ids, and how many in all. */
  for (guint i = 0; i < 11; i++)
    pp_vm_free(add_vm(f->store, bob->id, "many", 100, 1024));
  {
    g_autoptr(GError) error = NULL;

    g_assert_null(pp_store_vm_find(f->store, "many", bob->id, &error));
    g_assert_cmpstr(error->message, ==,
                    "11 VMs are named 'many' (ids 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, ... "
                    "(11 in all)): use an id");
  }
}

static void
test_vm_allocate(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 200, 2048);
  g_autoptr(PpVm) after = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  gint64 ids[2];

  reconcile(f->store, host->id, "", four_nics, 4, 2000);
  ids[0] = device_id(f->store, host->id, "0000:05:10.0");
  ids[1] = device_id(f->store, host->id, "0000:05:00.1");

  allocate_ok(f->store, vm->id, host->id, ids, 2, 1234);
  after = get_vm(f->store, vm->id);
  g_assert_cmpint(after->state, ==, PP_VM_STATE_DEPLOYING);
  g_assert_cmpint(after->host_id, ==, host->id);
  g_assert_cmpstr(after->host_name, ==, "node1");
  g_assert_cmpint(after->updated, ==, 1234);
  g_assert_cmpint(after->created, ==, 500);

  /* In the VM's order, not the addresses'. */
  devices = vm_devices(f->store, vm->id);
  g_assert_cmpuint(devices->len, ==, 2);
  g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[0])), ==, "0000:05:10.0");
  g_assert_cmpint(((PpStoreDevice *)devices->pdata[0])->vm_slot, ==, 0);
  g_assert_cmpint(((PpStoreDevice *)devices->pdata[0])->vm_id, ==, vm->id);
  g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[1])), ==, "0000:05:00.1");
  g_assert_cmpint(((PpStoreDevice *)devices->pdata[1])->vm_slot, ==, 1);
  g_clear_pointer(&devices, g_ptr_array_unref);
  devices = list_devices(f->store, host->id);
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_slot, ==, -1);
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_id, ==, 0);
  g_assert_cmpint(find_device(devices, "0000:05:00.1")->vm_slot, ==, 1);
  {
    g_autoptr(PpHost) h = get_host(f->store, host->id);

    g_assert_cmpuint(h->pci_free, ==, 2);
  }
  g_assert_cmpuint(get_counts(f->store).devices_held, ==, 2);

  /* The holds survive a restart and a reconcile. */
  reopen(f);
  reconcile(f->store, host->id, "", four_nics, 4, 3000);
  g_clear_pointer(&devices, g_ptr_array_unref);
  devices = vm_devices(f->store, vm->id);
  g_assert_cmpuint(devices->len, ==, 2);
  g_assert_cmpstr(dev_bdf(((PpStoreDevice *)devices->pdata[1])), ==, "0000:05:00.1");
  g_assert_cmpint(((PpStoreDevice *)devices->pdata[1])->vm_slot, ==, 1);

  g_assert_null(pp_store_vm_list_devices(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
}

/* What allocate refuses: nothing allocated, the VM still pending. */
static void
assert_refused(PpStore *store, gint64 vm_id, gint64 host_id, const gint64 *ids, guint n, gint code,
               const char *message)
{
  g_autoptr(GError) error = NULL;
  PpStoreCounts before = get_counts(store);
  PpStoreCounts after;
  g_autoptr(PpVm) vm_before = pp_store_vm_get(store, vm_id, NULL);

  g_assert_false(pp_store_vm_allocate(store, vm_id, host_id, ids, n, 7777, &error));
  g_assert_error(error, PP_STORE_ERROR, code);
  g_assert_cmpstr(error->message, ==, message);
  after = get_counts(store);
  g_assert_cmpuint(after.devices, ==, before.devices);
  g_assert_cmpuint(after.devices_held, ==, before.devices_held);
  if (vm_before != NULL) {
    g_autoptr(PpVm) vm = get_vm(store, vm_id);
    g_autoptr(GPtrArray) held = vm_devices(store, vm_id);

    g_assert_cmpint(vm->state, ==, vm_before->state);
    g_assert_cmpint(vm->host_id, ==, vm_before->host_id);
    g_assert_cmpint(vm->updated, ==, vm_before->updated);
    if (vm->state == PP_VM_STATE_PENDING)
      g_assert_cmpuint(held->len, ==, 0);
  }
}

static void
test_vm_allocate_refused(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) a = add_host(f->store, "node1");
  g_autoptr(PpHost) b = add_host(f->store, "node2");
  g_autoptr(PpVm) first = add_vm(f->store, alice->id, "first", 100, 1024);
  g_autoptr(PpVm) second = add_vm(f->store, alice->id, "second", 100, 1024);
  g_autoptr(PpVm) third = add_vm(f->store, alice->id, "third", 100, 1024);
  g_autofree char *expect = NULL;
  gint64 d0, d1, d2, d3, other;

  reconcile(f->store, a->id, "", four_nics, 4, 2000);
  reconcile(f->store, b->id, "", four_nics, 1, 2000);
  d0 = device_id(f->store, a->id, "0000:05:00.0");
  d1 = device_id(f->store, a->id, "0000:05:00.1");
  d2 = device_id(f->store, a->id, "0000:05:10.0");
  d3 = device_id(f->store, a->id, "0000:05:10.1");
  other = device_id(f->store, b->id, "0000:05:00.0");

  /* The first VM takes d0 and d3; d3 then vanishes (kept, gone). */
  {
    gint64 ids[] = { d0, d3 };

    allocate_ok(f->store, first->id, a->id, ids, 2, 3000);
  }
  reconcile(f->store, a->id, "", four_nics, 3, 3100);

  /* Taken meanwhile, after a free one: the free one is not taken either. */
  {
    gint64 ids[] = { d1, d0 };

    expect = g_strdup_printf("device 0000:05:00.0 of host 'node1' is held by VM %" G_GINT64_FORMAT,
                             first->id);
    assert_refused(f->store, second->id, a->id, ids, 2, PP_STORE_ERROR_CONFLICT, expect);
  }
  {
    gint64 ids[] = { d1, d3 };

    g_clear_pointer(&expect, g_free);
    expect = g_strdup_printf(
        "device 0000:05:10.1 of host 'node1' is gone (held by VM %" G_GINT64_FORMAT ")", first->id);
    assert_refused(f->store, second->id, a->id, ids, 2, PP_STORE_ERROR_CONFLICT, expect);
  }
  {
    gint64 ids[] = { d1, other };

    assert_refused(f->store, second->id, a->id, ids, 2, PP_STORE_ERROR_CONFLICT,
                   "device 0000:05:00.0 is on host 'node2', not on host 'node1'");
  }
  {
    gint64 ids[] = { d1, d2, d1 };

    assert_refused(f->store, second->id, a->id, ids, 3, PP_STORE_ERROR_CONFLICT,
                   "device 0000:05:00.1 of host 'node1' is given twice");
  }
  {
    gint64 ids[] = { d1, 999 };

    assert_refused(f->store, second->id, a->id, ids, 2, PP_STORE_ERROR_CONFLICT,
                   "device 999 is no longer in the inventory");
  }
  {
    gint64 ids[] = { d1 };

    g_clear_pointer(&expect, g_free);
    expect = g_strdup_printf("VM %" G_GINT64_FORMAT " is deploying, not pending", first->id);
    assert_refused(f->store, first->id, a->id, ids, 1, PP_STORE_ERROR_CONFLICT, expect);
    transition_ok(f->store, first->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
    g_clear_pointer(&expect, g_free);
    expect = g_strdup_printf("VM %" G_GINT64_FORMAT " is running, not pending", first->id);
    assert_refused(f->store, first->id, a->id, ids, 1, PP_STORE_ERROR_CONFLICT, expect);
    assert_refused(f->store, 99, a->id, ids, 1, PP_STORE_ERROR_NOT_FOUND, "no VM 99");
    assert_refused(f->store, second->id, 99, ids, 1, PP_STORE_ERROR_NOT_FOUND,
                   "no host with id 99");
  }

  /* The free ones are still there to take, and the store still works. */
  {
    gint64 ids[] = { d2, d1 };
    g_autoptr(GPtrArray) held = NULL;

    allocate_ok(f->store, second->id, a->id, ids, 2, 4000);
    held = vm_devices(f->store, second->id);
    g_assert_cmpuint(held->len, ==, 2);
  }
  /* A VM without devices takes only the host's CPU and memory. */
  allocate_ok(f->store, third->id, b->id, NULL, 0, 4000);
  g_assert_cmpint(vm_state(f->store, third->id), ==, PP_VM_STATE_DEPLOYING);
  g_assert_cmpuint(get_counts(f->store).devices_held, ==, 4);
}

static void
test_vm_transition(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 100, 1024);
  g_autoptr(PpVm) got = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *long_reason = g_strnfill(10000, 'x');

  allocate_ok(f->store, vm->id, host->id, NULL, 0, 800);
  transition_ok(f->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  transition_ok(f->store, vm->id, PP_VM_STATE_RUNNING, PP_VM_STATE_POWEROFF, "shut down inside");
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_POWEROFF);
  g_assert_cmpstr(got->reason, ==, "shut down inside");
  g_assert_cmpint(got->updated, ==, 900);
  g_assert_cmpint(got->host_id, ==, host->id);
  g_clear_pointer(&got, pp_vm_free);

  /* Not in @from: CONFLICT, nothing changed. */
  g_assert_false(pp_store_vm_transition(f->store, vm->id, PP_VM_STATE_RUNNING,
                                        PP_VM_STATE_TERMINATING, NULL, 950, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  expect = g_strdup_printf("VM %" G_GINT64_FORMAT " is poweroff, not running", vm->id);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_POWEROFF);
  g_assert_cmpstr(got->reason, ==, "shut down inside");
  g_assert_cmpint(got->updated, ==, 900);
  g_clear_pointer(&got, pp_vm_free);

  /* The same state: only the reason, cleared by NULL; a long one is cut. */
  transition_ok(f->store, vm->id, PP_VM_STATE_POWEROFF, PP_VM_STATE_POWEROFF, long_reason);
  got = get_vm(f->store, vm->id);
  g_assert_cmpuint(strlen(got->reason), ==, 4096);
  g_clear_pointer(&got, pp_vm_free);
  transition_ok(f->store, vm->id, PP_VM_STATE_POWEROFF, PP_VM_STATE_DEPLOYING, NULL);
  got = get_vm(f->store, vm->id);
  g_assert_null(got->reason);
  g_clear_pointer(&got, pp_vm_free);

  /* A VM on a host cannot become done without a release (the schema). */
  g_assert_false(pp_store_vm_transition(f->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_DONE,
                                        NULL, 990, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_true(is_check_refusal(error->message));
  g_clear_error(&error);
  g_assert_cmpint(vm_state(f->store, vm->id), ==, PP_VM_STATE_DEPLOYING);

  g_assert_false(pp_store_vm_transition(f->store, 99, PP_VM_STATE_RUNNING, PP_VM_STATE_POWEROFF,
                                        NULL, 990, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
}

static void
test_vm_release(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 100, 1024);
  g_autoptr(PpVm) keep = add_vm(f->store, alice->id, "keep", 100, 1024);
  g_autoptr(PpVm) pending = add_vm(f->store, alice->id, "pending", 100, 1024);
  g_autoptr(PpVm) got = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  gint64 ids[3], kept;

  reconcile(f->store, host->id, "", four_nics, 4, 2000);
  ids[0] = device_id(f->store, host->id, "0000:05:10.1");
  ids[1] = device_id(f->store, host->id, "0000:05:00.0");
  ids[2] = device_id(f->store, host->id, "0000:05:10.0");
  kept = device_id(f->store, host->id, "0000:05:00.1");
  allocate_ok(f->store, vm->id, host->id, ids, 3, 3000);
  allocate_ok(f->store, keep->id, host->id, &kept, 1, 3000);
  transition_ok(f->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  /* 05:10.1 vanishes: kept, gone. */
  reconcile(f->store, host->id, "", four_nics, 3, 3100);
  g_assert_cmpuint(get_counts(f->store).devices_gone, ==, 1);

  g_assert_true(pp_store_vm_release(f->store, vm->id, PP_VM_STATE_FAILED, "libvirt: no domain",
                                    4000, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_FAILED);
  g_assert_cmpstr(got->reason, ==, "libvirt: no domain");
  g_assert_cmpint(got->host_id, ==, 0);
  g_assert_null(got->host_name);
  g_assert_cmpint(got->updated, ==, 4000);
  g_clear_pointer(&got, pp_vm_free);
  devices = vm_devices(f->store, vm->id);
  g_assert_cmpuint(devices->len, ==, 0);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* The gone one is deleted, the others free; the other VM keeps its own. */
  devices = list_devices(f->store, host->id);
  g_assert_cmpuint(devices->len, ==, 3);
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_id, ==, 0);
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_slot, ==, -1);
  g_assert_cmpint(find_device(devices, "0000:05:10.0")->vm_id, ==, 0);
  g_assert_cmpint(find_device(devices, "0000:05:00.1")->vm_id, ==, keep->id);
  g_assert_cmpint(find_device(devices, "0000:05:00.1")->vm_slot, ==, 0);
  {
    PpStoreCounts counts = get_counts(f->store);

    g_assert_cmpuint(counts.devices, ==, 3);
    g_assert_cmpuint(counts.devices_held, ==, 1);
    g_assert_cmpuint(counts.devices_gone, ==, 0);
  }

  /* Again (terminating a failed VM): done, still holding nothing. */
  g_assert_true(pp_store_vm_release(f->store, vm->id, PP_VM_STATE_DONE, NULL, 4100, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_DONE);
  g_assert_null(got->reason);
  g_clear_pointer(&got, pp_vm_free);

  /* A pending VM: failed. */
  g_assert_true(
      pp_store_vm_release(f->store, pending->id, PP_VM_STATE_FAILED, "bad template", 4200, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, pending->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_FAILED);

  g_assert_false(pp_store_vm_release(f->store, 99, PP_VM_STATE_DONE, NULL, 4300, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
  g_clear_error(&error);
  g_clear_pointer(&got, pp_vm_free);

  /* Only from the state its caller read (a terminate that found a VM
   * pending, which the leader placed since): else refused, nothing
   * changed, the VM keeps its devices. */
  {
    g_autofree char *expect =
        g_strdup_printf("VM %" G_GINT64_FORMAT " is deploying, not pending", keep->id);

    g_assert_false(pp_store_vm_release_from(f->store, keep->id, PP_VM_STATE_PENDING,
                                            PP_VM_STATE_DONE, "terminated before it was placed",
                                            4400, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
    g_assert_cmpstr(error->message, ==, expect);
    g_clear_error(&error);
  }
  got = get_vm(f->store, keep->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_DEPLOYING);
  g_assert_cmpint(got->host_id, ==, host->id);
  g_assert_cmpint(got->updated, ==, 3000);
  g_clear_pointer(&got, pp_vm_free);
  devices = vm_devices(f->store, keep->id);
  g_assert_cmpuint(devices->len, ==, 1);
  g_clear_pointer(&devices, g_ptr_array_unref);
  /* From the state it is in: released. */
  g_assert_true(pp_store_vm_release_from(f->store, keep->id, PP_VM_STATE_DEPLOYING,
                                         PP_VM_STATE_DONE, NULL, 4500, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, keep->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_DONE);
  g_assert_cmpint(got->host_id, ==, 0);
  devices = vm_devices(f->store, keep->id);
  g_assert_cmpuint(devices->len, ==, 0);
}

static const PpHostUsage *
usage_of(GHashTable *usage, gint64 host_id)
{
  return g_hash_table_lookup(usage, &host_id);
}

static void
test_host_usage(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) a = add_host(f->store, "a");
  g_autoptr(PpHost) b = add_host(f->store, "b");
  g_autoptr(PpHost) c = add_host(f->store, "c");
  g_autoptr(GHashTable) usage = NULL;
  /* cpu, memory, host, the state it ends in. */
  static const struct {
    gint64 cpu, memory_kib;
    int host; /* 0: a, 1: b, -1: none */
    PpVmState state;
  } vms[] = {
    { 100, 1000, 0, PP_VM_STATE_DEPLOYING }, { 250, 2000, 0, PP_VM_STATE_RUNNING },
    { 50, 4000, 0, PP_VM_STATE_POWEROFF },   { 400, 8000, 1, PP_VM_STATE_TERMINATING },
    { 999, 99999, -1, PP_VM_STATE_PENDING }, { 777, 77777, 1, PP_VM_STATE_DONE },
    { 666, 66666, 0, PP_VM_STATE_FAILED },   { 30, 500, 1, PP_VM_STATE_UNKNOWN },
  };
  gint64 hosts[] = { a->id, b->id };

  usage = pp_store_host_usage(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(usage), ==, 0);
  g_clear_pointer(&usage, g_hash_table_unref);

  for (guint i = 0; i < G_N_ELEMENTS(vms); i++) {
    g_autoptr(PpVm) vm = add_vm(f->store, alice->id, NULL, vms[i].cpu, vms[i].memory_kib);

    if (vms[i].host < 0)
      continue;
    allocate_ok(f->store, vm->id, hosts[vms[i].host], NULL, 0, 800);
    switch (vms[i].state) {
    case PP_VM_STATE_RUNNING:
      transition_ok(f->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
      break;
    case PP_VM_STATE_POWEROFF:
    case PP_VM_STATE_UNKNOWN:
    case PP_VM_STATE_TERMINATING:
      transition_ok(f->store, vm->id, PP_VM_STATE_DEPLOYING, vms[i].state, NULL);
      break;
    case PP_VM_STATE_DONE:
    case PP_VM_STATE_FAILED:
      g_assert_true(pp_store_vm_release(f->store, vm->id, vms[i].state, NULL, 900, &error));
      g_assert_no_error(error);
      break;
    default:
      break;
    }
    g_assert_cmpint(vm_state(f->store, vm->id), ==, vms[i].state);
  }

  usage = pp_store_host_usage(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(usage), ==, 2);
  g_assert_cmpint(usage_of(usage, a->id)->cpu, ==, 400);
  g_assert_cmpint(usage_of(usage, a->id)->memory_kib, ==, 7000);
  g_assert_cmpint(usage_of(usage, b->id)->cpu, ==, 430);
  g_assert_cmpint(usage_of(usage, b->id)->memory_kib, ==, 8500);
  g_assert_null(usage_of(usage, c->id));

  /* The VMs' counts by state. */
  {
    PpStoreCounts counts = get_counts(f->store);

    for (guint s = 0; s < _PP_VM_STATE_MAX; s++)
      g_assert_cmpuint(counts.vms_by_state[s], ==, 1);
  }
}

static void
test_host_delete_vms(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) v1 = add_vm(f->store, alice->id, "v1", 100, 1024);
  g_autoptr(PpVm) v2 = add_vm(f->store, alice->id, "v2", 100, 1024);
  g_autoptr(PpVm) v3 = add_vm(f->store, alice->id, "v3", 100, 1024);
  g_autofree char *expect = NULL;

  reconcile(f->store, host->id, "", four_nics, 2, 2000);
  allocate_ok(f->store, v1->id, host->id, NULL, 0, 800);
  allocate_ok(f->store, v3->id, host->id, NULL, 0, 800);
  transition_ok(f->store, v3->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_POWEROFF, NULL);
  allocate_ok(f->store, v2->id, host->id, NULL, 0, 800);
  g_assert_true(pp_store_vm_release(f->store, v2->id, PP_VM_STATE_DONE, NULL, 900, &error));

  /* No devices held, yet VMs on it. */
  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  expect = g_strdup_printf("host 'node1' has VMs %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                           " on it; terminate them first",
                           v1->id, v3->id);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);
  g_assert_cmpuint(n_hosts(f->store), ==, 1);
  g_assert_cmpuint(get_counts(f->store).devices, ==, 2);

  transition_ok(f->store, v1->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_TERMINATING, NULL);
  g_assert_true(pp_store_vm_release(f->store, v3->id, PP_VM_STATE_DONE, NULL, 900, &error));
  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_clear_pointer(&expect, g_free);
  expect =
      g_strdup_printf("host 'node1' has VM %" G_GINT64_FORMAT " on it; terminate it first", v1->id);
  g_assert_cmpstr(error->message, ==, expect);
  g_clear_error(&error);

  g_assert_true(pp_store_vm_release(f->store, v1->id, PP_VM_STATE_DONE, NULL, 900, &error));
  g_assert_true(pp_store_host_delete(f->store, host->id, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n_hosts(f->store), ==, 0);
  /* The done VMs stay, on no host. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms WHERE host_id IS NULL"), ==, 3);
}

static void
test_device_list_all(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) a = add_host(f->store, "a");
  g_autoptr(PpHost) b = add_host(f->store, "b");
  g_autoptr(PpHost) c = add_host(f->store, "c");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 100, 1024);
  g_autoptr(GPtrArray) all = NULL;
  static const SynthDevice wide[] = {
    { "10000:00:01.0", NULL, NULL, NULL },
    { "0000:ff:00.0", NULL, NULL, NULL },
    { "0000:00:02.0", NULL, NULL, NULL },
  };
  static const char *const order[] = {
    "0000:05:00.0", "0000:05:00.1", "0000:05:10.0",  /* c */
    "0000:00:02.0", "0000:ff:00.0", "10000:00:01.0", /* a */
  };
  gint64 held;

  all = pp_store_device_list_all(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 0);
  g_clear_pointer(&all, g_ptr_array_unref);

  /* Reported in another order than the hosts' ids. */
  reconcile(f->store, c->id, "", four_nics, 3, 2000);
  reconcile(f->store, a->id, "", wide, 3, 2000);
  held = device_id(f->store, c->id, "0000:05:00.1");
  allocate_ok(f->store, vm->id, c->id, &held, 1, 3000);

  all = pp_store_device_list_all(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, ==, 6);
  for (guint i = 0; i < all->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(all, i);

    g_assert_cmpint(dev->host_id, ==, i < 3 ? a->id : c->id);
    g_assert_cmpstr(dev_bdf(dev), ==, order[(i + 3) % 6]);
    g_assert_nonnull(dev->pci.keys);
    g_assert_cmpstr(dev->pci.keys[0], ==, "TYPE");
    g_assert_cmpint(dev->vm_id, ==, dev->id == held ? vm->id : 0);
    g_assert_cmpint(dev->vm_slot, ==, dev->id == held ? 0 : -1);
  }
  g_assert_cmpint(b->id, <, c->id);
}

/* Ids past 2^31 where a statement takes "0 for any" (an owner, a user):
 * PostgreSQL typed such a parameter from its first use, "?N = 0", as a
 * 32-bit integer and refused the value. A user made with such an id (as
 * after 2^31 of them) lists, finds, pages and deletes what is theirs,
 * and nothing of another's. */
#define HASH_BIG "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"

static void
test_big_ids(Fixture *f, gconstpointer data)
{
  const gint64 big = G_GINT64_CONSTANT(3000000000);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpVm) theirs = add_vm(f->store, alice->id, "job", 100, 1024);
  g_autoptr(PpVm) mine = NULL;
  g_autoptr(PpVm) found = NULL;
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpToken) token = NULL;
  g_autoptr(GPtrArray) vms = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GPtrArray) page = NULL;
  PpStorePage by_host = { .limit = 10, .owner_id = big, .host_id = host->id };
  gint64 next = -1;

  g_assert_cmpint(raw_exec(f->store,
                           "INSERT INTO users (id, name, admin, created) "
                           "VALUES (3000000000, 'big', 0, 1)",
                           &message),
                  ==, RAW_OK);
  mine = add_vm(f->store, big, "job", 100, 1024);
  allocate_ok(f->store, mine->id, host->id, NULL, 0, 800);
  token = pp_store_token_create(f->store, big, "ci", HASH_BIG, 900, 0, &error);
  g_assert_no_error(error);

  vms = pp_store_vm_list(f->store, big, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(vms->len, ==, 1);
  g_assert_cmpint(((PpVm *)g_ptr_array_index(vms, 0))->id, ==, mine->id);
  found = pp_store_vm_find(f->store, "job", big, &error);
  g_assert_no_error(error);
  g_assert_cmpint(found->id, ==, mine->id);
  page = pp_store_vm_page(f->store, &by_host, &next, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(page->len, ==, 1);
  g_assert_cmpint(next, ==, 0);
  tokens = pp_store_token_list(f->store, big, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(tokens->len, ==, 1);
  /* Not another's token; then theirs. */
  g_assert_false(pp_store_token_delete(f->store, token->id, alice->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_true(pp_store_token_delete(f->store, token->id, big, &error));
  g_assert_no_error(error);
  /* alice's VM is hers still. */
  g_clear_pointer(&vms, g_ptr_array_unref);
  vms = pp_store_vm_list(f->store, alice->id, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(vms->len, ==, 1);
  g_assert_cmpint(((PpVm *)g_ptr_array_index(vms, 0))->id, ==, theirs->id);
}

/* pp_store_host_read_many() and pp_store_device_host_ids(), the
 * scheduler's reads of what changed, a hundred ids per statement: more
 * than two statements' worth, asked in no order, with ids of hosts gone
 * or never made; the same hosts, devices and sums as the one-host reads
 * and the whole lists. */
static void
test_host_read_many(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 100, 1024);
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) device_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) hosts = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GHashTable) usage = NULL;
  g_autoptr(GHashTable) all_usage = NULL;
  g_autoptr(GArray) found = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed(15);
  static const SynthDevice nics[] = {
    { "0000:05:10.0", NULL, NULL, NULL },
    { "0000:05:00.1", NULL, NULL, NULL },
    { "0000:05:00.0", NULL, NULL, NULL },
  };
  gint64 gone_id, held, with_vm = 0, expect_hosts_with_devices = 0;
  guint n_devices = 0, next = 0;

  for (guint i = 0; i < 230; i++) {
    g_autofree char *name = g_strdup_printf("node%u", i);
    g_autoptr(PpHost) host = add_host(f->store, name);

    g_array_append_val(ids, host->id);
    /* Every seventh host has devices; the others none. */
    if (i % 7 == 3) {
      reconcile(f->store, host->id, "", nics, G_N_ELEMENTS(nics), 2000);
      n_devices += G_N_ELEMENTS(nics);
      expect_hosts_with_devices++;
      with_vm = host->id;
    }
  }
  held = device_id(f->store, with_vm, "0000:05:00.1");
  allocate_ok(f->store, vm->id, with_vm, &held, 1, 3000);
  /* A host gone, and an id never given, are asked for too. */
  gone_id = g_array_index(ids, gint64, 100);
  g_assert_true(pp_store_host_delete(f->store, gone_id, &error));
  g_assert_no_error(error);
  g_array_append_val(ids, (gint64){ gone_id + 100000 });
  for (guint i = ids->len - 1; i > 0; i--) {
    guint j = g_rand_int_range(rand, 0, (gint32)i + 1);
    gint64 t = g_array_index(ids, gint64, i);

    g_array_index(ids, gint64, i) = g_array_index(ids, gint64, j);
    g_array_index(ids, gint64, j) = t;
  }

  g_assert_true(pp_store_host_read_many(f->store, (const gint64 *)ids->data, ids->len, &hosts,
                                        &devices, &usage, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(hosts->len, ==, 229);
  g_assert_cmpuint(devices->len, ==, n_devices);
  for (guint h = 0; h < hosts->len; h++) {
    const PpHost *host = g_ptr_array_index(hosts, h);
    g_autoptr(PpHost) one = get_host(f->store, host->id);
    g_autoptr(GPtrArray) own = list_devices(f->store, host->id);

    g_assert_cmpint(host->id, !=, gone_id);
    if (h > 0)
      g_assert_cmpint(((PpHost *)g_ptr_array_index(hosts, h - 1))->id, <, host->id);
    g_assert_cmpstr(host->name, ==, one->name);
    g_assert_cmpuint(host->pci_total, ==, one->pci_total);
    g_assert_cmpuint(host->pci_free, ==, one->pci_free);
    /* Its devices follow on, in the order of its own list. */
    for (guint d = 0; d < own->len; d++, next++) {
      const PpStoreDevice *dev = g_ptr_array_index(devices, next);
      const PpStoreDevice *want = g_ptr_array_index(own, d);

      g_assert_cmpint(dev->id, ==, want->id);
      g_assert_cmpint(dev->host_id, ==, host->id);
      g_assert_cmpint(dev->vm_id, ==, want->vm_id);
      g_array_append_val(device_ids, dev->id);
    }
  }
  g_assert_cmpuint(next, ==, devices->len);
  /* The sums of pp_store_host_usage(), for the hosts asked. */
  all_usage = pp_store_host_usage(f->store, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_hash_table_size(usage), ==, 1);
  g_assert_cmpuint(g_hash_table_size(all_usage), ==, 1);
  g_assert_cmpint(usage_of(usage, with_vm)->cpu, ==, 100);
  g_assert_cmpint(usage_of(usage, with_vm)->memory_kib, ==,
                  usage_of(all_usage, with_vm)->memory_kib);

  /* None asked: nothing, and no statement run wrong. */
  g_clear_pointer(&hosts, g_ptr_array_unref);
  g_clear_pointer(&devices, g_ptr_array_unref);
  g_clear_pointer(&usage, g_hash_table_unref);
  g_assert_true(pp_store_host_read_many(f->store, NULL, 0, &hosts, &devices, &usage, &error));
  g_assert_cmpuint(hosts->len + devices->len + g_hash_table_size(usage), ==, 0);

  /* The devices' hosts: each once, in id order, ids never given found
   * nowhere. */
  g_array_append_val(device_ids, (gint64){ 0 });
  g_array_append_val(device_ids, (gint64){ G_MAXINT64 });
  found =
      pp_store_device_host_ids(f->store, (const gint64 *)device_ids->data, device_ids->len, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(device_ids->len, >, 100);
  g_assert_cmpuint(found->len, ==, expect_hosts_with_devices);
  for (guint i = 0; i < found->len; i++) {
    g_autoptr(GPtrArray) own = list_devices(f->store, g_array_index(found, gint64, i));

    g_assert_cmpuint(own->len, ==, G_N_ELEMENTS(nics));
    if (i > 0)
      g_assert_cmpint(g_array_index(found, gint64, i - 1), <, g_array_index(found, gint64, i));
  }
  g_clear_pointer(&found, g_array_unref);
  found = pp_store_device_host_ids(f->store, NULL, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(found->len, ==, 0);
}

/* The attributes column read back: what the store writes (its fast
 * reader), and what only jansson reads (a hand-edited row). */
static void
test_attributes_json(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  const char *const keys[] = { "A", "Q\"uote", "B\\slash", "CTL", "UTF", "EMPTY", NULL };
  const char *const values[] = { "1",           "say \"hi\"", "a\\b\\", "tab\there\x01\x1f",
                                 "caf\xc3\xa9", "",           NULL };
  g_autofree char *written = pp_store_test_record_to_json(keys, values);
  static const struct {
    const char *json;
    const char *expect; /* keys=values, joined by ';' */
  } cases[] = {
    { "{}", "" },
    { "{\"k\":\"v\"}", "k=v" },
    /* jansson's: blanks, other escapes, a non-string value skipped. */
    { " { \"k\" : \"v\\n\" , \"n\": 1, \"e\":\"\\u00e9\\/\"} ", "k=v\n;e=\xc3\xa9/" },
    /* A repeated key: jansson keeps the last value. */
    { "{\"k\":\"1\",\"k\":\"2\"}", "k=2" },
    /* Not an object of strings, or not JSON: empty. */
    { "[\"k\"]", "" },
    { "{\"k\":\"v\"", "" },
    { "{\"k\":\"v\"}x", "" },
    { "{\"k\":\"a\\u0000b\"}", "" },
    { "{\"k\":\"\xff\"}", "" },
    { "", "" },
  };

  reconcile(f->store, host->id, "", four_nics, 1, 2000);
  {
    g_autoptr(PpDbStmt) stmt =
        pp_db_prepare(pp_store_test_get_db(f->store), "UPDATE pci_device SET attributes = ?1");

    g_assert_nonnull(stmt);
    for (guint i = 0; i <= G_N_ELEMENTS(cases); i++) {
      const char *json = i < G_N_ELEMENTS(cases) ? cases[i].json : written;
      g_autoptr(GPtrArray) devices = NULL;
      const PpStoreDevice *dev;
      g_autoptr(GString) got = g_string_new(NULL);

      g_test_message("attributes, case %u", i);
      /* PostgreSQL keeps text valid UTF-8: such a row cannot be. */
      if (pp_test_store_is_pg() && !g_utf8_validate(json, -1, NULL))
        continue;
      pp_db_bind_text(stmt, 1, json);
      g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
      pp_db_reset(stmt);
      devices = list_devices(f->store, host->id);
      dev = g_ptr_array_index(devices, 0);
      g_assert_cmpuint(g_strv_length(dev->pci.keys), ==, g_strv_length(dev->pci.values));
      if (i == G_N_ELEMENTS(cases)) {
        g_assert_true(g_strv_equal((const char *const *)dev->pci.keys, keys));
        g_assert_true(g_strv_equal((const char *const *)dev->pci.values, values));
        continue;
      }
      for (guint k = 0; dev->pci.keys[k] != NULL; k++)
        g_string_append_printf(got, "%s%s=%s", k ? ";" : "", dev->pci.keys[k], dev->pci.values[k]);
      g_assert_cmpstr(got->str, ==, cases[i].expect);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Migration from version 1                                                 */
/* ------------------------------------------------------------------------ */

static void
test_migrate_v1(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v1.db", NULL);
  g_autofree char *message = NULL;
  g_autoptr(PpStore) store = NULL;
  sqlite3 *db = NULL;

  /* A version-1 file, as pcipassd 1 made it: its own migration's SQL. */
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, pp_store_test_get_migration(1), NULL, NULL, NULL), ==,
                  SQLITE_OK);
  g_assert_nonnull(pp_store_test_get_migration(6));
  g_assert_nonnull(pp_store_test_get_migration(7));
  g_assert_nonnull(pp_store_test_get_migration(8));
  g_assert_nonnull(pp_store_test_get_migration(9));
  g_assert_nonnull(pp_store_test_get_migration(10));
  g_assert_nonnull(pp_store_test_get_migration(11));
  g_assert_nonnull(pp_store_test_get_migration(12));
  g_assert_nonnull(pp_store_test_get_migration(13));
  g_assert_nonnull(pp_store_test_get_migration(14));
  g_assert_null(pp_store_test_get_migration(15));
  g_assert_cmpint(
      sqlite3_exec(
          db,
          "PRAGMA user_version = 1;"
          "INSERT INTO users (id, name, admin, created) VALUES (1, 'root', 1, 10);"
          "INSERT INTO tokens (user_id, name, hash, created) VALUES (1, 'cli', "
          "'" HASH_A "', 11);"
          "INSERT INTO hosts (id, name, state, cpu_count, created) "
          "VALUES (1, 'node1', 'monitored', 8, 20), (2, 'node2', 'init', -1, 21);"
          "INSERT INTO vms (id, name, owner_id, state, created) VALUES "
          "  (4, 'owned', 1, 'running', 30)," /* on node1 by its devices */
          "  (5, 'orphan', NULL, 'pending', 31),"
          "  (6, 'lost', 1, 'running', 32)," /* running, holding nothing */
          "  (7, 'odd', NULL, 'weird', 33);"
          "INSERT INTO pci_device (id, host_id, address, short_address, vendor, device, "
          "class_code, attributes, vm_id, gone) VALUES "
          "  (10, 1, '0000:05:00.0', '05:00.0', 32902, 5409, 512, '{\"TYPE\":\"8086:1521:0200\"}',"
          "   NULL, 0),"
          "  (11, 1, '0000:05:00.1', '05:00.1', 32902, 5409, 512, '{}', 4, 0),"
          "  (12, 1, '0000:05:10.0', '05:10.0', 32902, 5408, 512, '{}', 4, 1),"
          "  (13, 2, '0000:05:00.0', '05:00.0', 32902, 5409, 512, '{}', 5, 0);",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close(db);

  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(pp_store_get_schema_version(store), ==, 14);
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(store, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'new%'"), ==,
                  0);

  /* Hosts, users, tokens as they were. */
  {
    g_autoptr(PpHost) host = get_host(store, 1);
    g_autoptr(PpUser) root = pp_store_user_find(store, "root", &error);
    g_autoptr(GPtrArray) tokens = pp_store_token_list(store, 0, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(host->name, ==, "node1");
    g_assert_cmpint(host->state, ==, PP_HOST_STATE_MONITORED);
    g_assert_false(host->prebound); /* migration 3's default */
    g_assert_cmpint(host->cpu_count, ==, 8);
    g_assert_cmpuint(host->pci_total, ==, 3);
    g_assert_cmpuint(host->pci_free, ==, 1);
    g_assert_true(root->admin);
    g_assert_cmpuint(tokens->len, ==, 1);
  }
  /* Migration 3's column takes a flag and nothing else. */
  g_assert_cmpint(raw_exec(store, "UPDATE hosts SET prebound = 2 WHERE id = 1", &message), ==,
                  RAW_CONSTRAINT);
  g_assert_true(is_check_refusal(message));
  g_clear_pointer(&message, g_free);
  /* Devices: ids, holds and gone flags kept; slots in id order. */
  {
    g_autoptr(GPtrArray) devices = list_devices(store, 1);
    const PpStoreDevice *free_dev = find_device(devices, "0000:05:00.0");
    const PpStoreDevice *gone_dev = find_device(devices, "0000:05:10.0");

    g_assert_cmpint(free_dev->id, ==, 10);
    g_assert_cmpint(free_dev->vm_id, ==, 0);
    g_assert_cmpint(free_dev->vm_slot, ==, -1);
    g_assert_cmpstr(free_dev->pci.keys[0], ==, "TYPE");
    g_assert_cmpstr(free_dev->pci.values[0], ==, "8086:1521:0200");
    g_assert_cmpint(find_device(devices, "0000:05:00.1")->vm_id, ==, 4);
    g_assert_cmpint(find_device(devices, "0000:05:00.1")->vm_slot, ==, 0);
    g_assert_cmpint(gone_dev->vm_id, ==, 4);
    g_assert_cmpint(gone_dev->vm_slot, ==, 1);
    g_assert_true(gone_dev->gone);
  }
  /* VMs: owned and on a host; orphaned given an owner; impossible ones
   * failed, with a reason. */
  {
    g_autoptr(PpVm) owned = get_vm(store, 4);
    g_autoptr(PpVm) orphan = get_vm(store, 5);
    g_autoptr(PpVm) lost = get_vm(store, 6);
    g_autoptr(PpVm) odd = get_vm(store, 7);
    g_autoptr(GPtrArray) held = vm_devices(store, 5);

    g_assert_cmpstr(owned->name, ==, "owned");
    g_assert_cmpint(owned->state, ==, PP_VM_STATE_RUNNING);
    g_assert_cmpint(owned->owner_id, ==, 1);
    g_assert_cmpint(owned->host_id, ==, 1);
    g_assert_cmpstr(owned->host_name, ==, "node1");
    g_assert_cmpint(owned->created, ==, 30);
    g_assert_cmpint(owned->updated, ==, 30);
    g_assert_cmpstr(owned->template_text, ==, "");
    g_assert_cmpint(orphan->state, ==, PP_VM_STATE_PENDING);
    g_assert_cmpstr(orphan->owner_name, ==, "migrated-vm-owner");
    g_assert_cmpint(orphan->host_id, ==, 0);
    /* Version 1 let a pending VM hold a device; version 4 frees it. */
    g_assert_cmpuint(held->len, ==, 0);
    g_assert_cmpint(raw_int(store, "SELECT count(*) FROM pci_device WHERE id = 13 AND vm_id IS "
                                   "NULL AND vm_slot IS NULL"),
                    ==, 1);
    g_assert_cmpint(lost->state, ==, PP_VM_STATE_FAILED);
    g_assert_cmpstr(lost->reason, ==,
                    "the upgrade to schema version 2 found it 'running' without a host");
    g_assert_cmpint(lost->host_id, ==, 0);
    g_assert_cmpint(odd->state, ==, PP_VM_STATE_FAILED);
    g_assert_cmpstr(odd->owner_name, ==, "migrated-vm-owner");
  }
  g_assert_cmpuint(get_counts(store).users, ==, 2);

  /* The rebuilt schema still refuses what it must: foreign keys point at
   * the new tables, the trigger is back. */
  g_assert_cmpint(raw_exec(store, "DELETE FROM vms WHERE id = 4", &message), ==, RAW_CONSTRAINT);
  assert_refusal(message, "FOREIGN KEY constraint failed");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(
      raw_exec(store, "UPDATE pci_device SET vm_id = 5, vm_slot = 9 WHERE id = 11", &message), ==,
      RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "device is held by another VM");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(
      raw_exec(store, "UPDATE pci_device SET vm_id = 5, vm_slot = 9 WHERE id = 10", &message), ==,
      RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a VM holds devices of its own host only");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(store, "DELETE FROM hosts WHERE id = 2", &message), ==, RAW_OK);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM pci_device WHERE host_id = 2"), ==, 0);

  /* And works: the released VM frees its devices, the gone one goes. */
  g_assert_true(pp_store_vm_release(store, 4, PP_VM_STATE_DONE, NULL, 100, &error));
  g_assert_no_error(error);
  g_assert_true(pp_store_host_delete(store, 1, &error));
  g_assert_no_error(error);

  /* Opened again: nothing more to migrate. */
  g_clear_pointer(&store, pp_store_free);
  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM users"), ==, 2);
}

/* ------------------------------------------------------------------------ */
/* What the schema refuses about VMs                                        */
/* ------------------------------------------------------------------------ */

static void
test_schema_vms(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) v1 = add_vm(f->store, alice->id, "v1", 100, 1024);
  g_autoptr(PpVm) v2 = add_vm(f->store, alice->id, "v2", 100, 1024);
  gint64 d0, d1;
  g_autoptr(GPtrArray) sql = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) expect = g_ptr_array_new();

  reconcile(f->store, host->id, "", four_nics, 2, 2000);
  d0 = device_id(f->store, host->id, "0000:05:00.0");
  d1 = device_id(f->store, host->id, "0000:05:00.1");
  allocate_ok(f->store, v1->id, host->id, &d0, 1, 3000);

#define REFUSED(message, ...)                                                                      \
  do {                                                                                             \
    g_ptr_array_add(sql, g_strdup_printf(__VA_ARGS__));                                            \
    g_ptr_array_add(expect, (gpointer)(message));                                                  \
  } while (0)
  /* Two VMs on one device. */
  REFUSED("device is held by another VM",
          "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT
          ", vm_slot = 5 WHERE id = %" G_GINT64_FORMAT,
          v2->id, d0);
  /* Two devices in one slot of a VM. */
  REFUSED("UNIQUE constraint failed: pci_device.vm_id, pci_device.vm_slot",
          "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT
          ", vm_slot = 0 WHERE id = %" G_GINT64_FORMAT,
          v1->id, d1);
  /* A hold without a slot, a slot without a hold, a negative slot. */
  REFUSED("CHECK constraint failed: (vm_id IS NULL) = (vm_slot IS NULL)",
          "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT, v1->id,
          d1);
  REFUSED("CHECK constraint failed: (vm_id IS NULL) = (vm_slot IS NULL)",
          "UPDATE pci_device SET vm_slot = 3 WHERE id = %" G_GINT64_FORMAT, d1);
  REFUSED("CHECK constraint failed: vm_slot >= 0",
          "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT
          ", vm_slot = -1 WHERE id = %" G_GINT64_FORMAT,
          v1->id, d1);
  /* A state of none of the eight names. */
  REFUSED("CHECK constraint failed: state IN ('pending', 'deploying', 'running', 'poweroff', "
          "'unknown', 'terminating', 'done', 'failed')",
          "UPDATE vms SET state = 'sleeping' WHERE id = %" G_GINT64_FORMAT, v2->id);
  /* Pending and done hold no host; the states on a host hold one. */
  REFUSED("CHECK constraint failed: state NOT IN ('pending', 'done') OR host_id IS NULL",
          "UPDATE vms SET state = 'done' WHERE id = %" G_GINT64_FORMAT, v1->id);
  REFUSED("CHECK constraint failed: state NOT IN ('pending', 'done') OR host_id IS NULL",
          "UPDATE vms SET host_id = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT, host->id,
          v2->id);
  REFUSED("CHECK constraint failed: state NOT IN ('deploying', 'running', 'poweroff', 'unknown', "
          "'terminating') OR host_id IS NOT NULL",
          "UPDATE vms SET state = 'running' WHERE id = %" G_GINT64_FORMAT, v2->id);
  REFUSED("CHECK constraint failed: state NOT IN ('deploying', 'running', 'poweroff', 'unknown', "
          "'terminating') OR host_id IS NOT NULL",
          "UPDATE vms SET state = 'unknown' WHERE id = %" G_GINT64_FORMAT, v2->id);
  /* A VM holds devices of its own host only, and keeps that host while
   * it holds them: no pending or done VM can hold a device. */
  REFUSED("a VM holds devices of its own host only",
          "UPDATE pci_device SET vm_id = %" G_GINT64_FORMAT
          ", vm_slot = 0 WHERE id = %" G_GINT64_FORMAT,
          v2->id, d1);
  REFUSED("a VM that holds devices keeps its host until it frees them",
          "UPDATE vms SET host_id = NULL, state = 'failed' WHERE id = %" G_GINT64_FORMAT, v1->id);
  REFUSED("CHECK constraint failed: tries >= 0",
          "UPDATE vms SET tries = -1 WHERE id = %" G_GINT64_FORMAT, v1->id);
  /* A host in error says why; one that says why is in error. */
  REFUSED("CHECK constraint failed: (state = 'error') = (error IS NOT NULL OR libvirt_error IS NOT "
          "NULL)",
          "UPDATE hosts SET state = 'error' WHERE id = %" G_GINT64_FORMAT, host->id);
  REFUSED("CHECK constraint failed: (state = 'error') = (error IS NOT NULL OR libvirt_error IS NOT "
          "NULL)",
          "UPDATE hosts SET libvirt_error = 'x' WHERE id = %" G_GINT64_FORMAT, host->id);
  REFUSED("NOT NULL constraint failed: vms.owner_id",
          "UPDATE vms SET owner_id = NULL WHERE id = %" G_GINT64_FORMAT, v2->id);
  REFUSED("FOREIGN KEY constraint failed",
          "UPDATE vms SET owner_id = 99 WHERE id = %" G_GINT64_FORMAT, v2->id);
  REFUSED("CHECK constraint failed: cpu >= 0",
          "UPDATE vms SET cpu = -1 WHERE id = %" G_GINT64_FORMAT, v2->id);
#undef REFUSED

  for (guint i = 0; i < sql->len; i++) {
    g_autofree char *got = NULL;

    g_test_message("%s", (const char *)sql->pdata[i]);
    g_assert_cmpint(raw_exec(f->store, sql->pdata[i], &got), ==, RAW_CONSTRAINT);
    assert_refusal(got, expect->pdata[i]);
  }
  /* Nothing changed. */
  {
    g_autoptr(GPtrArray) held = vm_devices(f->store, v1->id);
    g_autoptr(PpVm) got1 = get_vm(f->store, v1->id);
    g_autoptr(PpVm) got2 = get_vm(f->store, v2->id);

    g_assert_cmpuint(held->len, ==, 1);
    g_assert_cmpint(((PpStoreDevice *)held->pdata[0])->id, ==, d0);
    g_assert_cmpint(got1->state, ==, PP_VM_STATE_DEPLOYING);
    g_assert_cmpint(got2->state, ==, PP_VM_STATE_PENDING);
    g_assert_cmpint(got2->host_id, ==, 0);
    g_assert_cmpuint(get_counts(f->store).devices_held, ==, 1);
  }
  /* The helper's holds take the VM's next slot. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) held = NULL;

    g_assert_true(pp_store_test_hold_device(f->store, d1, v1->id, &error));
    g_assert_no_error(error);
    held = vm_devices(f->store, v1->id);
    g_assert_cmpuint(held->len, ==, 2);
    g_assert_cmpint(((PpStoreDevice *)held->pdata[1])->vm_slot, ==, 1);
  }
}

static void
test_counts(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) a = add_host(f->store, "a");
  g_autoptr(PpHost) b = add_host(f->store, "b");
  g_autoptr(PpHost) c = add_host(f->store, "c");
  g_autoptr(PpHost) d = add_host(f->store, "d");
  g_autoptr(GError) error = NULL;
  gint64 vm = pp_store_test_add_vm(f->store, "vm");
  gint64 vm2 = pp_store_test_add_vm(f->store, "vm2");
  gint64 waiting = pp_store_test_add_vm(f->store, "waiting");
  PpStoreCounts counts = get_counts(f->store);

  g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_INIT], ==, 4);
  g_assert_cmpuint(counts.devices, ==, 0);

  reconcile(f->store, a->id, "", four_nics, 4, 10);
  reconcile(f->store, b->id, "", four_nics, 2, 10);
  g_assert_true(pp_store_host_set_error(f->store, c->id, "down", 10, &error));
  set_enabled_ok(f->store, d->id, FALSE);
  g_assert_true(
      pp_store_test_hold_device(f->store, device_id(f->store, a->id, "0000:05:00.0"), vm, &error));
  g_assert_true(
      pp_store_test_hold_device(f->store, device_id(f->store, b->id, "0000:05:00.1"), vm2, &error));
  g_assert_no_error(error);
  reconcile(f->store, b->id, "", four_nics, 1, 20);
  g_assert_true(pp_store_vm_transition(f->store, vm2, PP_VM_STATE_RUNNING, PP_VM_STATE_UNKNOWN,
                                       "host 'b' does not answer", 21, &error));

  counts = get_counts(f->store);
  g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_INIT], ==, 0);
  g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_MONITORED], ==, 2);
  g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_ERROR], ==, 1);
  g_assert_cmpuint(counts.hosts_by_state[PP_HOST_STATE_DISABLED], ==, 1);
  g_assert_cmpuint(counts.devices, ==, 6);
  g_assert_cmpuint(counts.devices_held, ==, 2);
  g_assert_cmpuint(counts.devices_gone, ==, 1);
  g_assert_cmpuint(counts.users, ==, 1); /* the test VM's owner */
  g_assert_cmpuint(counts.tokens, ==, 0);
  g_assert_cmpint(vm_state(f->store, waiting), ==, PP_VM_STATE_PENDING);
  g_assert_cmpuint(counts.vms_by_state[PP_VM_STATE_PENDING], ==, 1);
  g_assert_cmpuint(counts.vms_by_state[PP_VM_STATE_RUNNING], ==, 1);
  g_assert_cmpuint(counts.vms_by_state[PP_VM_STATE_UNKNOWN], ==, 1);
  for (guint s = PP_VM_STATE_DEPLOYING; s < _PP_VM_STATE_MAX; s++)
    if (s != PP_VM_STATE_RUNNING && s != PP_VM_STATE_UNKNOWN)
      g_assert_cmpuint(counts.vms_by_state[s], ==, 0);
}

/* ------------------------------------------------------------------------ */
/* Issue 9: ids, libvirt checks, needed devices, set aside, history         */
/* ------------------------------------------------------------------------ */

/* An id is never given again after a delete, not even the largest. */
static void
test_ids_never_reused(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) a = add_host(f->store, "a");
  g_autoptr(PpHost) b = add_host(f->store, "b");
  g_autoptr(PpHost) c = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpVm) v1 = add_vm(f->store, alice->id, "v1", 100, 1024);
  g_autoptr(PpVm) v2 = NULL;
  g_autofree char *message = NULL;
  gint64 dev_before;

  reconcile(f->store, b->id, "", four_nics, 2, 10);
  dev_before = device_id(f->store, b->id, "0000:05:00.1");
  g_assert_true(pp_store_host_delete(f->store, b->id, &error));
  g_assert_no_error(error);
  c = add_host(f->store, "c");
  g_assert_cmpint(c->id, >, b->id);
  /* Across a restart too. */
  reopen(f);
  g_assert_true(pp_store_host_delete(f->store, c->id, &error));
  {
    g_autoptr(PpHost) d = add_host(f->store, "d");

    g_assert_cmpint(d->id, >, c->id);
    reconcile(f->store, d->id, "", four_nics, 2, 20);
    g_assert_cmpint(device_id(f->store, d->id, "0000:05:00.0"), >, dev_before);
  }
  /* VMs, users and tokens are never deleted by pcipass; the schema
   * keeps their ids unique all the same. */
  g_assert_cmpint(raw_exec(f->store, "DELETE FROM vm_history; DELETE FROM vms", &message), ==,
                  RAW_OK);
  v2 = add_vm(f->store, alice->id, "v2", 100, 1024);
  g_assert_cmpint(v2->id, >, v1->id);
  /* SQLite's AUTOINCREMENT keeps them in sqlite_sequence; PostgreSQL's
   * identity columns in their sequences. */
  if (pp_test_store_is_pg())
    g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pg_sequences WHERE sequencename IN "
                                      "('users_id_seq', 'tokens_id_seq', 'hosts_id_seq', "
                                      "'vms_id_seq', 'pci_device_id_seq', "
                                      "'host_allowance_id_seq', 'vm_history_id_seq')"),
                    ==, 7);
  else
    g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM sqlite_sequence WHERE name IN "
                                      "('users', 'tokens', 'hosts', 'vms', 'pci_device', "
                                      "'host_allowance', 'vm_history')"),
                    >=, 5);
  (void)a;
}

/* A host is in error when its probe or its libvirt failed, and leaves it
 * only when both are fine again. */
static void
test_host_libvirt_error(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  PpHost *got;

#define STATE_IS(state_, probe_error, libvirt_error_)                                              \
  do {                                                                                             \
    got = get_host(f->store, host->id);                                                            \
    g_assert_cmpint(got->state, ==, state_);                                                       \
    g_assert_cmpstr(got->error, ==, probe_error);                                                  \
    g_assert_cmpstr(got->libvirt_error, ==, libvirt_error_);                                       \
    pp_host_free(got);                                                                             \
  } while (0)

  /* Before the first probe: libvirt answering keeps it init. */
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, NULL, &error));
  STATE_IS(PP_HOST_STATE_INIT, NULL, NULL);
  g_assert_true(
      pp_store_host_set_libvirt_error(f->store, host->id, "libvirt: cannot connect", &error));
  STATE_IS(PP_HOST_STATE_ERROR, NULL, "libvirt: cannot connect");
  /* A good probe does not hide a libvirt that does not answer. */
  reconcile(f->store, host->id, "", four_nics, 1, 10);
  STATE_IS(PP_HOST_STATE_ERROR, NULL, "libvirt: cannot connect");
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, NULL, &error));
  STATE_IS(PP_HOST_STATE_MONITORED, NULL, NULL);
  /* Both failing; then one fixed at a time. */
  g_assert_true(pp_store_host_set_error(f->store, host->id, "probe: exit 1", 20, &error));
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, "libvirt: gone", &error));
  STATE_IS(PP_HOST_STATE_ERROR, "probe: exit 1", "libvirt: gone");
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, NULL, &error));
  STATE_IS(PP_HOST_STATE_ERROR, "probe: exit 1", NULL);
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, "libvirt: gone", &error));
  reconcile(f->store, host->id, "", four_nics, 1, 30);
  STATE_IS(PP_HOST_STATE_ERROR, NULL, "libvirt: gone");
  /* Disabling clears both; a disabled host stays disabled. */
  set_enabled_ok(f->store, host->id, FALSE);
  STATE_IS(PP_HOST_STATE_DISABLED, NULL, NULL);
  g_assert_true(pp_store_host_set_libvirt_error(f->store, host->id, "libvirt: gone", &error));
  STATE_IS(PP_HOST_STATE_DISABLED, NULL, NULL);
  set_enabled_ok(f->store, host->id, TRUE);
  STATE_IS(PP_HOST_STATE_INIT, NULL, NULL);
  g_assert_no_error(error);
#undef STATE_IS

  g_assert_false(pp_store_host_set_libvirt_error(f->store, 99, NULL, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no host with id 99");
}

/* HOST_NEEDS is stored as the probe says it; an administrator's
 * allowance is recorded with who and when, shown on the device, and
 * taken back. */
static void
test_host_needs_allowance(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpHost) other = add_host(f->store, "node2");
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) allowances = NULL;
  const SynthDevice devs[] = {
    { "0000:05:00.0", NULL, NULL, "igb", "carries the default route (eno1)" },
    { "0000:05:00.1", NULL, NULL, "igb", NULL },
  };
  const SynthDevice changed[] = {
    { "0000:05:00.0", NULL, NULL, "igb", NULL },
    { "0000:05:00.1", NULL, NULL, "igb", "has the address 10.0.0.5 (eno2)" },
  };
  const PpHostAllowance *a;

  reconcile(f->store, host->id, "", devs, 2, 10);
  devices = list_devices(f->store, host->id);
  g_assert_cmpstr(find_device(devices, "0000:05:00.0")->pci.host_needs, ==,
                  "carries the default route (eno1)");
  g_assert_null(find_device(devices, "0000:05:00.1")->pci.host_needs);
  g_assert_false(find_device(devices, "0000:05:00.0")->allowed);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* Any spelling of the address; kept as 0000:05:00.0. */
  g_assert_true(pp_store_host_allow(f->store, host->id, "05:00.0", "root", 50, &error));
  g_assert_no_error(error);
  /* Again: the first record stays. */
  g_assert_true(pp_store_host_allow(f->store, host->id, "0000:05:00.0", "alice", 60, &error));
  allowances = pp_store_host_list_allowances(f->store, host->id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(allowances->len, ==, 1);
  a = g_ptr_array_index(allowances, 0);
  g_assert_cmpstr(a->address, ==, "0000:05:00.0");
  g_assert_cmpstr(a->by, ==, "root");
  g_assert_cmpint(a->created, ==, 50);
  g_clear_pointer(&allowances, g_ptr_array_unref);
  devices = list_devices(f->store, host->id);
  g_assert_true(find_device(devices, "0000:05:00.0")->allowed);
  g_assert_false(find_device(devices, "0000:05:00.1")->allowed);
  g_clear_pointer(&devices, g_ptr_array_unref);
  /* Per host: the other host's device of the same address is not. */
  reconcile(f->store, other->id, "", devs, 1, 10);
  devices = list_devices(f->store, other->id);
  g_assert_false(find_device(devices, "0000:05:00.0")->allowed);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* What the host needs changes with the probe; the allowance stays. */
  reconcile(f->store, host->id, "", changed, 2, 20);
  devices = list_devices(f->store, host->id);
  g_assert_null(find_device(devices, "0000:05:00.0")->pci.host_needs);
  g_assert_true(find_device(devices, "0000:05:00.0")->allowed);
  g_assert_cmpstr(find_device(devices, "0000:05:00.1")->pci.host_needs, ==,
                  "has the address 10.0.0.5 (eno2)");
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* Bad input changes nothing. */
  g_assert_false(pp_store_host_allow(f->store, host->id, "05:00", "root", 70, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "05:00"));
  g_clear_error(&error);
  g_assert_false(pp_store_host_allow(f->store, 99, "05:00.0", "root", 70, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(pp_store_host_disallow(f->store, host->id, "05:00.1", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "host 'node1' has no allowance for 0000:05:00.1");
  g_clear_error(&error);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM host_allowance"), ==, 1);

  /* The undo. */
  g_assert_true(pp_store_host_disallow(f->store, host->id, "0000:05:00.0", &error));
  g_assert_no_error(error);
  devices = list_devices(f->store, host->id);
  g_assert_false(find_device(devices, "0000:05:00.0")->allowed);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM host_allowance"), ==, 0);
}

/* A device set aside is not free for placement's eyes until a probe
 * reports it again. */
static void
test_set_aside(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GPtrArray) devices = NULL;

  reconcile(f->store, host->id, "", four_nics, 2, 10);
  g_assert_true(pp_store_device_set_aside(f->store, host->id, "05:00.1",
                                          "libvirt: Failed to bind PCI device", &error));
  g_assert_no_error(error);
  devices = list_devices(f->store, host->id);
  g_assert_cmpstr(find_device(devices, "0000:05:00.1")->set_aside, ==,
                  "libvirt: Failed to bind PCI device");
  g_assert_null(find_device(devices, "0000:05:00.0")->set_aside);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* The next report that has it clears it. */
  reconcile(f->store, host->id, "", four_nics, 2, 20);
  devices = list_devices(f->store, host->id);
  g_assert_null(find_device(devices, "0000:05:00.1")->set_aside);
  g_clear_pointer(&devices, g_ptr_array_unref);

  g_assert_false(pp_store_device_set_aside(f->store, host->id, "0000:09:00.0", "x", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(pp_store_device_set_aside(f->store, host->id, "nonsense", "x", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
}

/* Requeue frees what the VM holds and counts the try; the history has
 * every change with its reason and host; a crashed VM may keep its
 * devices in state failed. */
static void
test_requeue_history(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "v1", 100, 1024);
  g_autoptr(PpVm) got = NULL;
  g_autoptr(GPtrArray) history = NULL;
  gint64 d0;
  static const struct {
    const char *from, *to, *reason, *host;
  } expect[] = {
    { NULL, "pending", NULL, NULL },
    { "pending", "deploying", "placed on host 'node1' with 1 device", "node1" },
    { "deploying", "pending", "try 1: libvirt: no", "node1" },
    { "pending", "deploying", "placed on host 'node1' with 1 device", "node1" },
    { "deploying", "running", NULL, "node1" },
    { "running", "failed", "libvirt: the domain crashed", "node1" },
    { "failed", "pending", "retried by alice", "node1" },
  };

  reconcile(f->store, host->id, "", four_nics, 2, 10);
  d0 = device_id(f->store, host->id, "0000:05:00.0");
  allocate_ok(f->store, vm->id, host->id, &d0, 1, 600);
  g_assert_true(pp_store_vm_requeue(f->store, vm->id, PP_VM_STATE_DEPLOYING, "try 1: libvirt: no",
                                    TRUE, 700, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_PENDING);
  g_assert_cmpuint(got->tries, ==, 1);
  g_assert_cmpint(got->host_id, ==, 0);
  g_assert_cmpstr(got->reason, ==, "try 1: libvirt: no");
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                  0);
  g_clear_pointer(&got, pp_vm_free);
  /* From the wrong state: CONFLICT, nothing changed. */
  g_assert_false(
      pp_store_vm_requeue(f->store, vm->id, PP_VM_STATE_RUNNING, "x", TRUE, 710, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(strstr(error->message, "is pending, not running"), !=, NULL);
  g_clear_error(&error);

  allocate_ok(f->store, vm->id, host->id, &d0, 1, 800);
  transition_ok(f->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  /* A crash: failed, still on its host with its device. */
  transition_ok(f->store, vm->id, PP_VM_STATE_RUNNING, PP_VM_STATE_FAILED,
                "libvirt: the domain crashed");
  got = get_vm(f->store, vm->id);
  g_assert_cmpint(got->host_id, ==, host->id);
  g_clear_pointer(&got, pp_vm_free);
  {
    g_autoptr(GPtrArray) held = vm_devices(f->store, vm->id);

    g_assert_cmpuint(held->len, ==, 1);
  }
  /* A user's retry starts the count again. */
  g_assert_true(pp_store_vm_requeue(f->store, vm->id, PP_VM_STATE_FAILED, "retried by alice", FALSE,
                                    1000, &error));
  got = get_vm(f->store, vm->id);
  g_assert_cmpuint(got->tries, ==, 0);
  g_clear_pointer(&got, pp_vm_free);

  history = pp_store_vm_list_history(f->store, vm->id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(history->len, ==, G_N_ELEMENTS(expect));
  for (guint i = 0; i < history->len; i++) {
    const PpVmChange *c = g_ptr_array_index(history, i);

    g_test_message("change %u: %s -> %s", i, c->from_state, c->to_state);
    g_assert_cmpstr(c->from_state, ==, expect[i].from);
    g_assert_cmpstr(c->to_state, ==, expect[i].to);
    g_assert_cmpstr(c->reason, ==, expect[i].reason);
    g_assert_cmpstr(c->host_name, ==, expect[i].host);
  }
  g_assert_cmpint(((PpVmChange *)history->pdata[2])->at, ==, 700);
  g_clear_pointer(&history, g_ptr_array_unref);

  /* Bounded: the newest 100 changes stay. */
  for (guint i = 0; i < 80; i++) {
    allocate_ok(f->store, vm->id, host->id, &d0, 1, 2000 + i);
    g_assert_true(pp_store_vm_requeue(f->store, vm->id, PP_VM_STATE_DEPLOYING, "again", TRUE,
                                      2000 + i, &error));
  }
  history = pp_store_vm_list_history(f->store, vm->id, &error);
  g_assert_cmpuint(history->len, ==, 100);
  g_assert_cmpstr(((PpVmChange *)history->pdata[99])->reason, ==, "again");
  got = get_vm(f->store, vm->id);
  g_assert_cmpuint(got->tries, ==, 80);

  g_assert_null(pp_store_vm_list_history(f->store, 999, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
}

/* A version-3 store with data: migration 4 keeps every id and row, takes
 * HOST_NEEDS out of the attributes, gives each VM a first history entry,
 * and goes on counting ids after the largest. */
static void
test_migrate_v3(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v3.db", NULL);
  g_autoptr(PpStore) store = NULL;
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  for (int v = 1; v <= 3; v++)
    g_assert_cmpint(sqlite3_exec(db, pp_store_test_get_migration(v), NULL, NULL, NULL), ==,
                    SQLITE_OK);
  g_assert_cmpint(
      sqlite3_exec(db,
                   "PRAGMA user_version = 3;"
                   "INSERT INTO users (id, name, admin, created) VALUES (3, 'alice', 0, 10);"
                   "INSERT INTO hosts (id, name, state, error, cpu_count, created, prebound) "
                   "VALUES (2, 'node1', 'monitored', NULL, 8, 20, 1),"
                   "       (5, 'node2', 'error', 'probe: exit 1', 8, 21, 0),"
                   "       (6, 'node3', 'error', NULL, 8, 22, 0);"
                   "INSERT INTO vms (id, name, owner_id, state, template, host_id, created, "
                   "updated) VALUES (7, 'v7', 3, 'running', 'NAME=v7', 2, 30, 40),"
                   "  (8, 'v8', 3, 'pending', 'NAME=v8', NULL, 31, 31);"
                   "INSERT INTO pci_device (id, host_id, address, short_address, vendor, device, "
                   "class_code, attributes, vm_id, vm_slot) VALUES "
                   "  (20, 2, '0000:00:1f.0', '00:1f.0', 32902, 6931, 1537, "
                   "   '{\"HOST_NEEDS\":\"is the ISA/LPC bridge\"}', NULL, NULL),"
                   "  (21, 2, '0000:05:00.0', '05:00.0', 32902, 5409, 512, '{}', 7, 0);",
                   NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close(db);

  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'new%'"), ==,
                  0);
  {
    g_autoptr(PpHost) h2 = get_host(store, 2);
    g_autoptr(PpHost) h5 = get_host(store, 5);
    g_autoptr(PpHost) h6 = get_host(store, 6);
    g_autoptr(PpVm) v7 = get_vm(store, 7);

    g_assert_true(h2->prebound);
    g_assert_cmpint(h5->state, ==, PP_HOST_STATE_ERROR);
    g_assert_cmpstr(h5->error, ==, "probe: exit 1");
    /* Version 3 allowed an error without a message; version 4 does not. */
    g_assert_cmpint(h6->state, ==, PP_HOST_STATE_INIT);
    g_assert_cmpint(v7->state, ==, PP_VM_STATE_RUNNING);
    g_assert_cmpint(v7->host_id, ==, 2);
    g_assert_cmpuint(v7->tries, ==, 0);
  }
  devices = list_devices(store, 2);
  g_assert_cmpstr(find_device(devices, "0000:00:1f.0")->pci.host_needs, ==,
                  "is the ISA/LPC bridge");
  g_assert_cmpint(find_device(devices, "0000:05:00.0")->vm_id, ==, 7);
  history = pp_store_vm_list_history(store, 7, &error);
  g_assert_cmpuint(history->len, ==, 1);
  g_assert_cmpstr(((PpVmChange *)history->pdata[0])->to_state, ==, "running");
  g_assert_cmpstr(((PpVmChange *)history->pdata[0])->host_name, ==, "node1");
  g_assert_cmpint(((PpVmChange *)history->pdata[0])->at, ==, 40);
  /* New ids after the largest copied. */
  {
    PpHostSpec spec = { .name = "node4" };
    g_autoptr(PpHost) h = pp_store_host_create(store, &spec, 50, &error);

    g_assert_cmpint(h->id, ==, 7);
  }
  /* The triggers are there: a pending VM cannot take a device. */
  {
    g_autofree char *message = NULL;

    g_assert_cmpint(
        raw_exec(store, "UPDATE pci_device SET vm_id = 8, vm_slot = 0 WHERE id = 20", &message), ==,
        RAW_CONSTRAINT);
    g_assert_cmpstr(message, ==, "a VM holds devices of its own host only");
  }
}

/* ------------------------------------------------------------------------ */
/* Tenancy (schema version 6): quotas, users and tokens' lifecycle          */
/* ------------------------------------------------------------------------ */

/* A VM of @owner asking for @cpu hundredths, @memory_mib and PCI requests
 * of @classes (-1: no CLASS); NULL with @error when refused. */
static PpVm *
try_vm(PpStore *store, gint64 owner_id, gint64 cpu, gint64 memory_mib, const gint *classes, guint n,
       GError **error)
{
  return pp_store_vm_create(store, owner_id, NULL, VM_TEMPLATE, cpu, memory_mib * 1024, classes, n,
                            500, error);
}

static PpQuota *
get_quota(PpStore *store, gint64 user_id)
{
  g_autoptr(GError) error = NULL;
  PpQuota *quota = pp_store_user_get_quota(store, user_id, &error);

  g_assert_no_error(error);
  g_assert_nonnull(quota);
  return quota;
}

static void
set_quota_ok(PpStore *store, gint64 user_id, const PpQuotaUpdate *update)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpQuota) quota = pp_store_user_set_quota(store, user_id, update, &error);

  g_assert_no_error(error);
  g_assert_nonnull(quota);
}

/* The limit and use of class @code in @quota; FALSE when it is not there. */
static gboolean
quota_class(const PpQuota *quota, guint16 code, gint64 *ret_limit, gint64 *ret_used)
{
  for (guint i = 0; i < quota->classes->len; i++) {
    const PpQuotaClass *c = &g_array_index(quota->classes, PpQuotaClass, i);

    if (c->class_code == code) {
      *ret_limit = c->limit;
      *ret_used = c->used;
      return TRUE;
    }
  }
  return FALSE;
}

/* Limits set, changed and removed; use counted from the VMs that are not
 * done; bad limits change nothing. */
static void
test_quota_set(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpQuota) quota = get_quota(f->store, alice->id);
  const PpQuotaClass gpu2[] = { { 0x0302, 2, 0 }, { 0x0200, 0, 0 } };
  const PpQuotaClass drop[] = { { 0x0200, PP_QUOTA_NONE, 0 } };
  const gint classes[] = { 0x0302, -1, 0x0403 };
  PpQuotaUpdate update = { 0 };
  gint64 limit = 0, used = 0;

  /* Nobody has a limit until one is set. */
  g_assert_cmpint(quota->vms.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(quota->cpu.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(quota->memory_kib.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(quota->pci.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpuint(quota->classes->len, ==, 0);
  g_clear_pointer(&quota, pp_quota_free);

  /* Use: VMs that are not done, failed and pending ones included. */
  {
    g_autoptr(PpVm) a = try_vm(f->store, alice->id, 250, 1024, classes, 3, &error);
    g_autoptr(PpVm) b = try_vm(f->store, alice->id, 100, 512, NULL, 0, &error);
    g_autoptr(PpVm) c = try_vm(f->store, alice->id, 400, 4096, classes, 1, &error);

    g_assert_no_error(error);
    g_assert_nonnull(a);
    g_assert_true(pp_store_vm_release(f->store, b->id, PP_VM_STATE_FAILED, "x", 600, &error));
    g_assert_true(pp_store_vm_release(f->store, c->id, PP_VM_STATE_DONE, NULL, 600, &error));
    g_assert_no_error(error);
  }
  quota = get_quota(f->store, alice->id);
  g_assert_cmpint(quota->vms.used, ==, 2);
  g_assert_cmpint(quota->cpu.used, ==, 350);
  g_assert_cmpint(quota->memory_kib.used, ==, 1536 * 1024);
  g_assert_cmpint(quota->pci.used, ==, 3);
  /* Classes used, none limited; a request without a CLASS has none. */
  g_assert_cmpuint(quota->classes->len, ==, 2);
  g_assert_true(quota_class(quota, 0x0302, &limit, &used));
  g_assert_cmpint(limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(used, ==, 1);
  g_assert_true(quota_class(quota, 0x0403, &limit, &used));
  g_assert_cmpint(used, ==, 1);
  g_clear_pointer(&quota, pp_quota_free);

  update.set_vms = TRUE;
  update.vms = 5;
  update.set_cpu = TRUE;
  update.cpu = 450;
  update.classes = gpu2;
  update.n_classes = G_N_ELEMENTS(gpu2);
  set_quota_ok(f->store, alice->id, &update);
  quota = get_quota(f->store, alice->id);
  g_assert_cmpint(quota->vms.limit, ==, 5);
  g_assert_cmpint(quota->cpu.limit, ==, 450);
  g_assert_cmpint(quota->memory_kib.limit, ==, PP_QUOTA_NONE);
  g_assert_true(quota_class(quota, 0x0302, &limit, &used));
  g_assert_cmpint(limit, ==, 2);
  g_assert_cmpint(used, ==, 1);
  g_assert_true(quota_class(quota, 0x0200, &limit, &used));
  g_assert_cmpint(limit, ==, 0);
  g_assert_cmpint(used, ==, 0);
  g_clear_pointer(&quota, pp_quota_free);

  /* A change names only what changes; none removes; a class removed. */
  memset(&update, 0, sizeof(update));
  update.set_vms = TRUE;
  update.vms = PP_QUOTA_NONE;
  update.set_memory = TRUE;
  update.memory_kib = 8192 * 1024;
  update.classes = drop;
  update.n_classes = 1;
  set_quota_ok(f->store, alice->id, &update);
  quota = get_quota(f->store, alice->id);
  g_assert_cmpint(quota->vms.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(quota->cpu.limit, ==, 450);
  g_assert_cmpint(quota->memory_kib.limit, ==, 8192 * 1024);
  g_assert_false(quota_class(quota, 0x0200, &limit, &used));
  g_clear_pointer(&quota, pp_quota_free);

  /* Bad limits: INVALID, nothing changed. */
  {
    static const struct {
      PpQuotaUpdate update;
      const char *message;
    } bad[] = {
      { { .set_vms = TRUE, .vms = -2 }, "a quota of VMs is 0 to 1000000, or none; not -2" },
      { { .set_pci = TRUE, .pci = PP_QUOTA_MAX_PCI + 1 },
        "a quota of PCI devices is 0 to 1000000, or none; not 1000001" },
      { { .set_memory = TRUE, .memory_kib = PP_QUOTA_MAX_MEMORY_KIB + 1 },
        "a quota of memory (KiB) is 0 to 1099511627776, or none; not 1099511627777" },
      { { .set_cpu = TRUE, .cpu = G_MAXINT64 },
        "a quota of CPU (hundredths) is 0 to 100000000, or none; not 9223372036854775807" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
      PpQuotaUpdate u = bad[i].update;

      u.set_vms = TRUE; /* would change vms too, if anything changed */
      if (u.vms == 0)
        u.vms = 1;
      g_assert_null(pp_store_user_set_quota(f->store, alice->id, &u, &error));
      g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
      g_assert_cmpstr(error->message, ==, bad[i].message);
      g_clear_error(&error);
    }
  }
  {
    g_autofree PpQuotaClass *many = g_new0(PpQuotaClass, PP_QUOTA_MAX_CLASSES);
    PpQuotaUpdate u = { .set_vms = TRUE, .vms = 1 };

    /* Two already (0302 and one more here) pass the limit of classes. */
    for (guint i = 0; i < PP_QUOTA_MAX_CLASSES; i++) {
      many[i].class_code = (guint16)(0x0a00 + i);
      many[i].limit = 1;
    }
    u.classes = many;
    u.n_classes = PP_QUOTA_MAX_CLASSES;
    g_assert_null(pp_store_user_set_quota(f->store, alice->id, &u, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "user 'alice' would have 65 quotas by PCI class; at most 64");
    g_clear_error(&error);
  }
  quota = get_quota(f->store, alice->id);
  g_assert_cmpint(quota->vms.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpuint(quota->classes->len, ==, 2); /* 0302 and 0403 (used) */
  g_clear_pointer(&quota, pp_quota_free);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM user_pci_quota"), ==, 1);

  g_assert_null(pp_store_user_set_quota(f->store, 99, &update, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_null(pp_store_user_get_quota(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
}

/* A create that would pass a quota is refused naming it, and stores
 * nothing; each kind of limit, each counted as OpenNebula counts. */
static void
test_quota_create(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  const PpQuotaClass gpus[] = { { 0x0302, 2, 0 } };
  const gint gpu[] = { 0x0302 };
  const gint two_gpus[] = { 0x0302, 0x0302 };
  const gint nic_any[] = { 0x0200, -1 };
  const gint nics[] = { 0x0200, 0x0200, 0x0200 };
  PpQuotaUpdate update = { .set_vms = TRUE, .vms = 2 };
  g_autoptr(PpVm) first = NULL;
  g_autoptr(PpVm) second = NULL;
  g_autoptr(PpVm) third = NULL;
  gint64 vms_before;

  set_quota_ok(f->store, alice->id, &update);
  first = try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error);
  second = try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error);
  g_assert_no_error(error);
  vms_before = raw_int(f->store, "SELECT count(*) FROM vms");
  g_assert_null(try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' would pass a quota: VMs: 2 of 2 used, this VM asks for 1 "
                  "(terminate VMs, or ask an administrator to raise it: pcipass user show alice)");
  g_clear_error(&error);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms"), ==, vms_before);
  /* Bob has no limit; alice's are hers alone. */
  g_clear_pointer(&third, pp_vm_free);
  third = try_vm(f->store, bob->id, 100, 1024, NULL, 0, &error);
  g_assert_no_error(error);
  /* A failed VM counts (it may hold its devices; retry makes it pending
   * again); a done one does not. */
  g_assert_true(pp_store_vm_release(f->store, first->id, PP_VM_STATE_FAILED, "x", 600, &error));
  g_assert_null(try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_clear_error(&error);
  g_assert_true(pp_store_vm_release(f->store, first->id, PP_VM_STATE_DONE, "x", 700, &error));
  g_clear_pointer(&third, pp_vm_free);
  third = try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error);
  g_assert_no_error(error);

  /* CPU and memory: what all its VMs that are not done ask for. */
  memset(&update, 0, sizeof(update));
  update.set_vms = TRUE;
  update.vms = PP_QUOTA_NONE;
  update.set_cpu = TRUE;
  update.cpu = 350;
  update.set_memory = TRUE;
  update.memory_kib = 4096 * 1024;
  set_quota_ok(f->store, alice->id, &update);
  g_assert_null(try_vm(f->store, alice->id, 200, 512, NULL, 0, &error));
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' would pass a quota: CPU: 2 of 3.5 used, this VM asks for 2 "
                  "(terminate VMs, or ask an administrator to raise it: pcipass user show alice)");
  g_clear_error(&error);
  g_assert_null(try_vm(f->store, alice->id, 150, 2049, NULL, 0, &error));
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' would pass a quota: memory: 2048 of 4096 MiB used, this VM asks "
                  "for 2049 MiB (terminate VMs, or ask an administrator to raise it: pcipass "
                  "user show alice)");
  g_clear_error(&error);
  /* Exactly at the limit is within it. */
  g_clear_pointer(&first, pp_vm_free);
  first = try_vm(f->store, alice->id, 150, 2048, NULL, 0, &error);
  g_assert_no_error(error);
  {
    g_autoptr(PpQuota) quota = get_quota(f->store, alice->id);

    g_assert_cmpint(quota->cpu.used, ==, 350);
    g_assert_cmpint(quota->memory_kib.used, ==, 4096 * 1024);
  }

  /* PCI: in all, and by class. */
  memset(&update, 0, sizeof(update));
  update.set_cpu = TRUE;
  update.cpu = PP_QUOTA_NONE;
  update.set_memory = TRUE;
  update.memory_kib = PP_QUOTA_NONE;
  update.set_pci = TRUE;
  update.pci = 3;
  set_quota_ok(f->store, alice->id, &update);
  g_clear_pointer(&first, pp_vm_free);
  first = try_vm(f->store, alice->id, 100, 1024, nic_any, 2, &error);
  g_assert_no_error(error);
  g_assert_null(try_vm(f->store, alice->id, 100, 1024, two_gpus, 2, &error));
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' would pass a quota: PCI devices: 2 of 3 used, this VM asks for 2 "
                  "(terminate VMs, or ask an administrator to raise it: pcipass user show alice)");
  g_clear_error(&error);
  memset(&update, 0, sizeof(update));
  update.set_pci = TRUE;
  update.pci = PP_QUOTA_NONE;
  update.classes = gpus;
  update.n_classes = 1;
  set_quota_ok(f->store, alice->id, &update);
  /* With a class limit, a request must say its class: the VM of nic_any
   * stays (it was made before), a new one without CLASS is refused. */
  g_assert_null(try_vm(f->store, alice->id, 100, 1024, nic_any, 2, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' has quotas of PCI devices by class (0302: 2), and PCI[1] of this "
                  "VM names no CLASS: give each PCI request the CLASS of the device it asks for "
                  "(PCI = [ ..., CLASS = \"0302\" ])");
  g_clear_error(&error);
  /* Other classes are free; 0302 counts its own. */
  g_clear_pointer(&second, pp_vm_free);
  second = try_vm(f->store, alice->id, 100, 1024, nics, 3, &error);
  g_assert_no_error(error);
  g_clear_pointer(&third, pp_vm_free);
  third = try_vm(f->store, alice->id, 100, 1024, gpu, 1, &error);
  g_assert_no_error(error);
  g_assert_null(try_vm(f->store, alice->id, 100, 1024, two_gpus, 2, &error));
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' would pass a quota: PCI devices of class 0302: 1 of 2 used, this "
                  "VM asks for 2 (terminate VMs, or ask an administrator to raise it: pcipass "
                  "user show alice)");
  g_clear_error(&error);
  /* Terminated: its GPU counts no more. */
  g_assert_true(pp_store_vm_release(f->store, third->id, PP_VM_STATE_DONE, NULL, 800, &error));
  g_clear_pointer(&third, pp_vm_free);
  third = try_vm(f->store, alice->id, 100, 1024, two_gpus, 2, &error);
  g_assert_no_error(error);
  {
    g_autoptr(PpQuota) quota = get_quota(f->store, alice->id);
    gint64 limit = 0, used = 0;

    g_assert_true(quota_class(quota, 0x0302, &limit, &used));
    g_assert_cmpint(used, ==, 2);
    g_assert_true(quota_class(quota, 0x0200, &limit, &used));
    g_assert_cmpint(used, ==, 4);
    g_assert_cmpint(limit, ==, PP_QUOTA_NONE);
    g_assert_cmpint(quota->pci.used, ==, 7);
  }
  /* The requests are stored, in order, with their class. */
  {
    g_autofree char *sql = g_strdup_printf("SELECT coalesce(class_code, -1) FROM vm_pci_request "
                                           "WHERE vm_id = %" G_GINT64_FORMAT " ORDER BY slot",
                                           first->id);
    g_autoptr(PpDbStmt) stmt = pp_db_prepare(pp_store_test_get_db(f->store), sql);
    g_autoptr(GString) got = g_string_new(NULL);

    g_assert_nonnull(stmt);
    while (pp_db_step(stmt) == PP_DB_STEP_ROW)
      g_string_append_printf(got, "%s%" G_GINT64_FORMAT, got->len > 0 ? "," : "",
                             pp_db_column_int64(stmt, 0));
    g_assert_cmpstr(got->str, ==, "512,-1");
  }
}

/* A retry (failed or powered off -> pending) is checked as a create is,
 * the VM's own use left out: refused only when a limit was lowered below
 * what the user has. */
static void
test_quota_retry(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  const gint gpu[] = { 0x0302 };
  PpQuotaUpdate update = { .set_vms = TRUE, .vms = 2 };
  g_autoptr(PpVm) a = NULL;
  g_autoptr(PpVm) b = NULL;
  g_autoptr(PpVm) got = NULL;
  gint64 d0;

  set_quota_ok(f->store, alice->id, &update);
  a = try_vm(f->store, alice->id, 100, 1024, gpu, 1, &error);
  b = try_vm(f->store, alice->id, 100, 1024, NULL, 0, &error);
  g_assert_no_error(error);
  reconcile(f->store, host->id, "", four_nics, 2, 10);
  d0 = device_id(f->store, host->id, "0000:05:00.0");
  allocate_ok(f->store, a->id, host->id, &d0, 1, 600);
  transition_ok(f->store, a->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  transition_ok(f->store, a->id, PP_VM_STATE_RUNNING, PP_VM_STATE_FAILED, "crashed");
  /* At its limit, but the VM counts already: the retry passes. */
  g_assert_true(
      pp_store_vm_retry(f->store, a->id, PP_VM_STATE_FAILED, "retried by alice", 900, &error));
  g_assert_no_error(error);
  got = get_vm(f->store, a->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_PENDING);
  g_assert_cmpint(got->host_id, ==, 0);
  g_assert_cmpuint(got->tries, ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                  0);
  g_clear_pointer(&got, pp_vm_free);

  /* Powered off, holding its device, and the limits lowered below what
   * alice has: the retry is refused naming the quota, nothing changes. */
  allocate_ok(f->store, a->id, host->id, &d0, 1, 1000);
  transition_ok(f->store, a->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING, NULL);
  transition_ok(f->store, a->id, PP_VM_STATE_RUNNING, PP_VM_STATE_POWEROFF, "off");
  update.vms = 1;
  set_quota_ok(f->store, alice->id, &update);
  g_assert_false(
      pp_store_vm_retry(f->store, a->id, PP_VM_STATE_POWEROFF, "retried by alice", 1100, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_true(g_str_has_prefix(error->message, "user 'alice' would pass a quota: VMs: 1 of 1 "
                                                 "used, this VM asks for 1"));
  g_clear_error(&error);
  got = get_vm(f->store, a->id);
  g_assert_cmpint(got->state, ==, PP_VM_STATE_POWEROFF);
  g_assert_cmpint(got->host_id, ==, host->id);
  g_clear_pointer(&got, pp_vm_free);
  {
    g_autoptr(GPtrArray) held = vm_devices(f->store, a->id);

    g_assert_cmpuint(held->len, ==, 1);
  }
  /* A class limit lowered to 0: refused on its class too. */
  {
    const PpQuotaClass none[] = { { 0x0302, 0, 0 } };
    PpQuotaUpdate u = { .set_vms = TRUE, .vms = PP_QUOTA_NONE, .classes = none, .n_classes = 1 };

    set_quota_ok(f->store, alice->id, &u);
    g_assert_false(
        pp_store_vm_retry(f->store, a->id, PP_VM_STATE_POWEROFF, "retried", 1200, &error));
    g_assert_true(g_str_has_prefix(error->message,
                                   "user 'alice' would pass a quota: PCI devices "
                                   "of class 0302: 0 of 0 used, this VM asks for 1"));
    g_clear_error(&error);
  }
  /* The other VM leaves: alice is within her quota again. */
  g_assert_true(pp_store_vm_release(f->store, b->id, PP_VM_STATE_DONE, NULL, 1300, &error));
  update.vms = 1;
  set_quota_ok(f->store, alice->id, &update);
  {
    const PpQuotaClass one[] = { { 0x0302, 1, 0 } };
    PpQuotaUpdate u = { .classes = one, .n_classes = 1 };

    set_quota_ok(f->store, alice->id, &u);
  }
  g_assert_true(pp_store_vm_retry(f->store, a->id, PP_VM_STATE_POWEROFF, "retried", 1400, &error));
  g_assert_no_error(error);
  /* From the wrong state: CONFLICT, nothing changed. */
  g_assert_false(pp_store_vm_retry(f->store, a->id, PP_VM_STATE_FAILED, "x", 1500, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==, "VM 1 is pending, not failed");
  g_clear_error(&error);
  g_assert_false(pp_store_vm_retry(f->store, 99, PP_VM_STATE_FAILED, "x", 1500, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
}

/* The schema refuses what would pass a quota, whatever the code does. */
static void
test_quota_schema(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  const PpQuotaClass gpus[] = { { 0x0302, 1, 0 } };
  PpQuotaUpdate update = { .set_vms = TRUE,
                           .vms = 1,
                           .set_cpu = TRUE,
                           .cpu = 200,
                           .set_memory = TRUE,
                           .memory_kib = 1024,
                           .set_pci = TRUE,
                           .pci = 2,
                           .classes = gpus,
                           .n_classes = 1 };
  g_autofree char *message = NULL;
  g_autofree char *sql = NULL;
  gint64 vm;

  set_quota_ok(f->store, alice->id, &update);
  /* CPU, memory, then the count of VMs. */
  sql = g_strdup_printf("INSERT INTO vms (name, owner_id, cpu, memory_kib, created) "
                        "VALUES ('x', %" G_GINT64_FORMAT ", 201, 0, 0)",
                        alice->id);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a new VM would pass a quota of its owner");
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("INSERT INTO vms (name, owner_id, cpu, memory_kib, created) "
                        "VALUES ('x', %" G_GINT64_FORMAT ", 0, 1025, 0)",
                        alice->id);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("INSERT INTO vms (name, owner_id, cpu, memory_kib, created) "
                        "VALUES ('x', %" G_GINT64_FORMAT ", 200, 1024, 0)",
                        alice->id);
  {
    g_autofree char *returning = g_strconcat(sql, " RETURNING id", NULL);

    vm = raw_int(f->store, returning);
  }
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a new VM would pass a quota of its owner");
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);

  /* Requests: a class limit wants a CLASS; the class and the total are
   * counted. */
  sql = g_strdup_printf("INSERT INTO vm_pci_request (vm_id, slot, class_code) "
                        "VALUES (%" G_GINT64_FORMAT ", 0, NULL)",
                        vm);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a PCI request would pass a quota of its VM's owner");
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES "
                        "(%" G_GINT64_FORMAT ", 0, 770), (%" G_GINT64_FORMAT ", 1, 512)",
                        vm, vm);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_OK);
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);
  sql = g_strdup_printf("INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES "
                        "(%" G_GINT64_FORMAT ", 2, 512)",
                        vm);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  g_clear_pointer(&sql, g_free);
  /* Written once: a request cannot change its class afterwards. */
  g_assert_cmpint(raw_exec(f->store, "UPDATE vm_pci_request SET class_code = 1", &message), ==,
                  RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a VM's PCI requests do not change");
  g_clear_pointer(&message, g_free);
  /* Limits are never negative. */
  g_assert_cmpint(raw_exec(f->store, "UPDATE users SET quota_vms = -1", &message), ==,
                  RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(f->store, "INSERT INTO user_pci_quota VALUES (1, 70000, 1)", &message),
                  ==, RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  /* A token expires after it was made. */
  g_assert_cmpint(
      raw_exec(f->store,
               "INSERT INTO tokens (user_id, hash, created, expires) VALUES (1, '" HASH_B
               "', 100, 100)",
               &message),
      ==, RAW_CONSTRAINT);
}

/* Tokens with an expiry: refused from that second on; deleted: refused at
 * once; a user deletes only its own. */
static void
test_token_lifecycle(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  g_autoptr(PpToken) ta = NULL;
  g_autoptr(PpToken) tb = NULL;
  g_autoptr(PpUser) who = NULL;
  g_autoptr(GPtrArray) tokens = NULL;

  /* An expiry must come after the creation. */
  g_assert_null(pp_store_token_create(f->store, alice->id, NULL, HASH_A, 100, 100, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "a token's expiry (100) must come after its creation (100)");
  g_clear_error(&error);
  g_assert_cmpuint(get_counts(f->store).tokens, ==, 0);

  ta = pp_store_token_create(f->store, alice->id, "ci", HASH_A, 100, 100 + 3600, &error);
  tb = pp_store_token_create(f->store, bob->id, NULL, HASH_B, 100, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpint(ta->expires, ==, 3700);
  g_assert_cmpint(tb->expires, ==, 0);
  tokens = pp_store_token_list(f->store, alice->id, &error);
  g_assert_cmpint(((PpToken *)tokens->pdata[0])->expires, ==, 3700);
  g_clear_pointer(&tokens, g_ptr_array_unref);

  /* The last second before the expiry works; from the expiry on, EXPIRED
   * (pp-auth answers it as an unknown token), its use not recorded. */
  who = pp_store_token_authenticate(f->store, HASH_A, 3699, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(who->name, ==, "alice");
  g_clear_pointer(&who, pp_user_free);
  g_assert_null(pp_store_token_authenticate(f->store, HASH_A, 3700, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_EXPIRED);
  g_assert_cmpstr(error->message, ==, "token 1 of user 'alice' expired at 1970-01-01 01:01:40 UTC");
  g_clear_error(&error);
  tokens = pp_store_token_list(f->store, alice->id, &error);
  g_assert_cmpint(((PpToken *)tokens->pdata[0])->last_used, ==, 3699);
  g_clear_pointer(&tokens, g_ptr_array_unref);

  /* Bob cannot delete alice's token, in the words of one that is not. */
  g_assert_false(pp_store_token_delete(f->store, ta->id, bob->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no token 1");
  g_clear_error(&error);
  g_assert_false(pp_store_token_delete(f->store, 77, bob->id, &error));
  g_assert_cmpstr(error->message, ==, "no token 77");
  g_clear_error(&error);
  g_assert_cmpuint(get_counts(f->store).tokens, ==, 2);
  /* His own; then the admin (0) any. */
  who = pp_store_token_authenticate(f->store, HASH_B, 200, &error);
  g_assert_nonnull(who);
  g_clear_pointer(&who, pp_user_free);
  g_assert_true(pp_store_token_delete(f->store, tb->id, bob->id, &error));
  g_assert_null(pp_store_token_authenticate(f->store, HASH_B, 201, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_true(pp_store_token_delete(f->store, ta->id, 0, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(get_counts(f->store).tokens, ==, 0);
}

/* A user is deleted only when it owns no VM that is not done; its tokens,
 * quotas and done VMs (their history and requests) go with it. */
static void
test_user_delete(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  g_autoptr(PpToken) token =
      pp_store_token_create(f->store, alice->id, NULL, HASH_A, 100, 0, &error);
  const PpQuotaClass gpus[] = { { 0x0302, 1, 0 } };
  PpQuotaUpdate update = { .set_vms = TRUE, .vms = 3, .classes = gpus, .n_classes = 1 };
  const gint gpu[] = { 0x0302 };
  g_autoptr(PpVm) done = try_vm(f->store, alice->id, 100, 512, gpu, 1, &error);
  g_autoptr(PpVm) live = try_vm(f->store, alice->id, 100, 512, NULL, 0, &error);
  g_autoptr(PpVm) other = try_vm(f->store, bob->id, 100, 512, NULL, 0, &error);
  g_autoptr(PpUser) again = NULL;
  guint vms = 99, tokens = 99;

  g_assert_no_error(error);
  g_assert_nonnull(token);
  g_assert_nonnull(other);
  set_quota_ok(f->store, alice->id, &update);
  g_assert_true(pp_store_vm_release(f->store, done->id, PP_VM_STATE_DONE, NULL, 600, &error));
  g_assert_true(pp_store_vm_release(f->store, live->id, PP_VM_STATE_FAILED, "x", 600, &error));

  g_assert_false(pp_store_user_delete(f->store, alice->id, &vms, &tokens, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' owns VM 2 that is not done; terminate it first (pcipass vm "
                  "terminate)");
  g_clear_error(&error);
  g_assert_cmpuint(vms, ==, 99);
  g_assert_cmpuint(get_counts(f->store).users, ==, 2);
  g_assert_cmpuint(get_counts(f->store).tokens, ==, 1);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms"), ==, 3);

  g_assert_true(pp_store_vm_release(f->store, live->id, PP_VM_STATE_DONE, NULL, 700, &error));
  g_assert_true(pp_store_user_delete(f->store, alice->id, &vms, &tokens, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(vms, ==, 2);
  g_assert_cmpuint(tokens, ==, 1);
  g_assert_null(pp_store_user_find(f->store, "alice", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_null(pp_store_token_authenticate(f->store, HASH_A, 800, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  /* Nothing of hers is left; bob's VM is. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms"), ==, 1);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_history WHERE vm_id <> 3"), ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_pci_request"), ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM user_pci_quota"), ==, 0);
  /* PostgreSQL checks every foreign key as each row changes. */
  if (!pp_test_store_is_pg())
    g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  /* Her name may be taken again, with a new id and no quota. */
  again = pp_store_user_create(f->store, "alice", FALSE, 900, &error);
  g_assert_no_error(error);
  g_assert_cmpint(again->id, >, bob->id);
  {
    g_autoptr(PpQuota) quota = get_quota(f->store, again->id);

    g_assert_cmpint(quota->vms.limit, ==, PP_QUOTA_NONE);
    g_assert_cmpint(quota->vms.used, ==, 0);
  }
  g_assert_false(pp_store_user_delete(f->store, 99, NULL, NULL, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
}

/* A version-4 store with data: migration 6 gives every VM its PCI
 * requests from its template (a template that does not parse: none),
 * nobody a limit, every token no expiry; the use is right at once. */
static void
test_migrate_v4(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v4.db", NULL);
  g_autoptr(PpStore) store = NULL;
  g_autoptr(PpQuota) quota = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(PpUser) who = NULL;
  sqlite3 *db = NULL;
  gint64 limit = 0, used = 0;

  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  for (int v = 1; v <= 4; v++)
    g_assert_cmpint(sqlite3_exec(db, pp_store_test_get_migration(v), NULL, NULL, NULL), ==,
                    SQLITE_OK);
  g_assert_cmpint(
      sqlite3_exec(
          db,
          "PRAGMA user_version = 4;"
          "INSERT INTO users (id, name, admin, created) VALUES (1, 'root', 1, 10), "
          "  (3, 'alice', 0, 11);"
          "INSERT INTO tokens (id, user_id, name, hash, created, last_used) VALUES "
          "  (5, 3, 'ci', '" HASH_A "', 12, 13);"
          "INSERT INTO vms (id, name, owner_id, state, template, cpu, memory_kib, created, "
          "updated) "
          "VALUES (7, 'gpus', 3, 'pending', 'MEMORY = 1024\nCPU = 2\nPCI = [ CLASS = \"0302\" ]\n"
          "PCI = [ VENDOR = \"10de\" ]\nPCI = [ SHORT_ADDRESS = \"3b:00.0\" ]', 200, 1048576, 30, "
          "30),"
          "  (8, 'off', 3, 'failed', 'MEMORY = 512\nPCI = [ CLASS = \"0302\" ]', 100, 524288, 31, "
          "31),"
          "  (9, 'old', 3, 'done', 'MEMORY = 512\nPCI = [ CLASS = \"0200\" ]', 100, 524288, 32, "
          "32),"
          "  (10, 'odd', 3, 'failed', 'NOT A TEMPLATE [', 100, 0, 33, 33);",
          NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close(db);

  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_pci_request"), ==, 5);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_pci_request WHERE vm_id = 7 AND "
                                 "slot = 0 AND class_code = 770"),
                  ==, 1);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_pci_request WHERE vm_id = 7 AND "
                                 "slot IN (1, 2) AND class_code IS NULL"),
                  ==, 2);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_pci_request WHERE vm_id = 10"), ==, 0);

  /* alice's use: the VMs that are not done (7, 8, 10). */
  quota = get_quota(store, 3);
  g_assert_cmpint(quota->vms.limit, ==, PP_QUOTA_NONE);
  g_assert_cmpint(quota->vms.used, ==, 3);
  g_assert_cmpint(quota->cpu.used, ==, 400);
  g_assert_cmpint(quota->memory_kib.used, ==, 1572864);
  g_assert_cmpint(quota->pci.used, ==, 4);
  g_assert_true(quota_class(quota, 0x0302, &limit, &used));
  g_assert_cmpint(used, ==, 2);
  g_assert_false(quota_class(quota, 0x0200, &limit, &used));

  /* Tokens as they were, never expiring. */
  tokens = pp_store_token_list(store, 0, &error);
  g_assert_cmpuint(tokens->len, ==, 1);
  g_assert_cmpint(((PpToken *)tokens->pdata[0])->expires, ==, 0);
  g_assert_cmpint(((PpToken *)tokens->pdata[0])->last_used, ==, 13);
  who = pp_store_token_authenticate(store, HASH_A, G_MAXINT32, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(who->name, ==, "alice");

  /* The quotas work on the migrated VMs: a limit of 3 VMs is reached. */
  {
    PpQuotaUpdate u = { .set_vms = TRUE, .vms = 3 };
    g_autoptr(PpQuota) q = pp_store_user_set_quota(store, 3, &u, &error);

    g_assert_no_error(error);
    g_assert_nonnull(q);
    g_assert_null(try_vm(store, 3, 100, 512, NULL, 0, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
    g_assert_true(g_str_has_prefix(error->message, "user 'alice' would pass a quota: VMs: 3 of 3"));
  }
}

/* ------------------------------------------------------------------------ */
/* Typed VMs (schema version 9): the template parsed once, at create         */
/* ------------------------------------------------------------------------ */

/* Every form of PCI request, a HOST, and the domain's part. */
#define TYPED_TEMPLATE                                                                             \
  "NAME = \"typed\"\n"                                                                             \
  "CPU = 1.5\n"                                                                                    \
  "VCPU = 3\n"                                                                                     \
  "MEMORY = 2048\n"                                                                                \
  "HOST = \"node7\"\n"                                                                             \
  "MACHINE = \"i440fx\"\n"                                                                         \
  "PCI = [ VENDOR = \"10DE\", DEVICE = \"1db4\", CLASS = \"0302\" ]\n"                             \
  "PCI = [ SHORT_ADDRESS = \"3b:00.1\" ]\n"                                                        \
  "PCI = [ CLASS = \"0200\" ]\n"                                                                   \
  "PCI = [ VENDOR = \"8086\" ]\n"                                                                  \
  "PCI = [ SHORT_ADDRESS = \"10000:01:1f.7\" ]\n"                                                  \
  "DISK = [ IMAGE = \"debian12\", TARGET = \"vdb\" ]\n"                                            \
  "DISK = [ SOURCE = \"/var/lib/a.qcow2\", FORMAT = \"qcow2\" ]\n"                                 \
  "NIC = [ BRIDGE = \"br0\", MAC = \"52:54:00:12:34:56\" ]\n"                                      \
  "OS = [ KERNEL_IMAGE = \"vmlinuz\", INITRD = \"/boot/initrd\", KERNEL_CMD = \"console=ttyS0\" "  \
  "]\n"                                                                                            \
  "GRAPHICS = [ TYPE = \"VNC\", LISTEN = \"127.0.0.1\", PORT = 5901, PASSWD = \"s3cret\" ]\n"

/* raw_exec(), its message dropped. */
static int
raw_rc(PpStore *store, const char *sql)
{
  g_autofree char *message = NULL;

  return raw_exec(store, sql, &message);
}

static PpVmSpec *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  return spec;
}

static PpVmSpec *
get_spec(PpStore *store, gint64 vm_id)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_store_vm_get_spec(store, vm_id, &error);

  g_assert_no_error(error);
  g_assert_nonnull(spec);
  return spec;
}

/* @got, read from the store, says what @want, the template parsed, says
 * (images unresolved in both). */
static void
assert_spec_equal(const PpVmSpec *got, const PpVmSpec *want)
{
  g_assert_cmpint(got->cpu, ==, want->cpu);
  g_assert_cmpuint(got->vcpu, ==, want->vcpu);
  g_assert_cmpuint(got->memory_mib, ==, want->memory_mib);
  g_assert_cmpint(got->host_id, ==, want->host_id);
  g_assert_cmpstr(got->host_name, ==, want->host_name);
  g_assert_cmpint(got->machine, ==, want->machine);
  g_assert_cmpuint(got->requests->len, ==, want->requests->len);
  for (guint i = 0; i < want->requests->len; i++) {
    const PpPciRequest *a = &g_array_index(got->requests, PpPciRequest, i);
    const PpPciRequest *b = &g_array_index(want->requests, PpPciRequest, i);

    g_assert_cmpint(a->vendor, ==, b->vendor);
    g_assert_cmpint(a->device, ==, b->device);
    g_assert_cmpint(a->class_code, ==, b->class_code);
    g_assert_cmpint(a->by_address, ==, b->by_address);
    g_assert_true(pp_pci_address_equal(&a->address, &b->address));
    g_assert_cmpstr(a->text, ==, b->text);
  }
  g_assert_cmpuint(got->disks->len, ==, want->disks->len);
  for (guint i = 0; i < want->disks->len; i++) {
    const PpVmDisk *a = g_ptr_array_index(got->disks, i);
    const PpVmDisk *b = g_ptr_array_index(want->disks, i);

    g_assert_cmpstr(a->image, ==, b->image);
    g_assert_cmpstr(a->source, ==, b->source);
    g_assert_cmpstr(a->format, ==, b->format);
    g_assert_cmpstr(a->target, ==, b->target);
    g_assert_cmpuint(a->image_pos.line, ==, b->image_pos.line);
    g_assert_cmpuint(a->image_pos.column, ==, b->image_pos.column);
  }
  g_assert_cmpuint(got->nics->len, ==, want->nics->len);
  for (guint i = 0; i < want->nics->len; i++) {
    const PpVmNic *a = g_ptr_array_index(got->nics, i);
    const PpVmNic *b = g_ptr_array_index(want->nics, i);

    g_assert_cmpstr(a->bridge, ==, b->bridge);
    g_assert_cmpstr(a->model, ==, b->model);
    g_assert_cmpstr(a->mac, ==, b->mac);
    g_assert_cmpint(a->kind, ==, b->kind);
    g_assert_cmpstr(a->network, ==, b->network);
    g_assert_cmpint(a->network_id, ==, b->network_id);
    g_assert_cmpstr(a->network_uname, ==, b->network_uname);
    g_assert_cmpstr(a->ip, ==, b->ip);
    g_assert_cmpint(a->vlan_id, ==, b->vlan_id);
    g_assert_cmpint(a->request, ==, b->request);
  }
  g_assert_cmpstr(got->kernel, ==, want->kernel);
  g_assert_cmpstr(got->initrd, ==, want->initrd);
  g_assert_cmpstr(got->kernel_cmd, ==, want->kernel_cmd);
  g_assert_cmpstr(got->kernel_image, ==, want->kernel_image);
  g_assert_cmpuint(got->kernel_image_pos.line, ==, want->kernel_image_pos.line);
  g_assert_cmpstr(got->initrd_image, ==, want->initrd_image);
  g_assert_cmpint(got->graphics.type, ==, want->graphics.type);
  g_assert_cmpstr(got->graphics.listen, ==, want->graphics.listen);
  g_assert_cmpint(got->graphics.port, ==, want->graphics.port);
  g_assert_cmpstr(got->graphics.passwd, ==, want->graphics.passwd);
  g_assert_cmpstr(got->graphics.keymap, ==, want->graphics.keymap);
  g_assert_cmpint(got->context.present, ==, want->context.present);
  g_assert_cmpint(got->context.format, ==, want->context.format);
  g_assert_cmpuint(got->context.vars->len, ==, want->context.vars->len);
  for (guint i = 0; i < want->context.vars->len; i++) {
    const PpVmContextVar *a = g_ptr_array_index(got->context.vars, i);
    const PpVmContextVar *b = g_ptr_array_index(want->context.vars, i);

    g_assert_cmpstr(a->name, ==, b->name);
    g_assert_cmpstr(a->value, ==, b->value);
    /* Positions are the template's, not the store's. */
    g_assert_cmpuint(a->pos.line, ==, 0);
  }
  /* Read from columns: no template behind it. */
  g_assert_null(got->tmpl);
}

/* What the create stores is what the template says, read back typed, in
 * every form of request; a restart keeps it; the template stays too. */
static void
test_vm_typed(Fixture *f, gconstpointer data)
{
  static const char *const templates[] = {
    TYPED_TEMPLATE,
    "MEMORY = 512\n",
    "MEMORY = 512\nHOST = 3\nPCI = [ CLASS = \"0302\" ]\nPCI = [ CLASS = \"0302\" ]\n",
    ("MEMORY = 512\nPCI = [ SHORT_ADDRESS = \"0000:3b:00.0\" ]\n"
     "GRAPHICS = [ TYPE = \"SPICE\", KEYMAP = \"de\" ]\n"),
    /* CONTEXT (issue 13): raw values, substitutions and quotes kept. */
    ("MEMORY = 512\nNIC = [ NETWORK = \"lan\" ]\n"
     "CONTEXT = [ SSH_PUBLIC_KEY = \"ssh-ed25519 AAAA a'b\\\"c\", IP = \"$NIC[IP]\",\n"
     "  EMPTY = \"\", UTF8 = \"h\u00e9\", FORMAT = \"ONE\" ]\n"),
    "MEMORY = 512\nCONTEXT = [ FORMAT = nocloud ]\n",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  gint64 ids[G_N_ELEMENTS(templates)];

  for (guint i = 0; i < G_N_ELEMENTS(templates); i++) {
    g_autoptr(PpVmSpec) spec = parse_ok(templates[i]);
    g_autoptr(PpVm) vm =
        pp_store_vm_create_spec(f->store, alice->id, templates[i], spec, 500, &error);
    g_autoptr(PpVmSpec) got = NULL;

    g_assert_no_error(error);
    ids[i] = vm->id;
    g_assert_cmpstr(vm->template_text, ==, templates[i]);
    g_assert_cmpint(vm->cpu, ==, spec->cpu);
    g_assert_cmpint(vm->memory_kib, ==, (gint64)spec->memory_mib * 1024);
    got = get_spec(f->store, vm->id);
    assert_spec_equal(got, spec);
  }
  /* The rows themselves: typed columns, the address packed. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_pci_request WHERE vm_id = 1"), ==, 5);
  g_assert_cmpint(raw_int(f->store, "SELECT vendor FROM vm_pci_request WHERE vm_id = 1 AND "
                                    "slot = 0 AND device = 7604 AND class_code = 770"),
                  ==, 0x10de);
  g_assert_cmpint(raw_int(f->store, "SELECT address FROM vm_pci_request WHERE vm_id = 1 AND "
                                    "slot = 1 AND vendor IS NULL AND class_code IS NULL"),
                  ==, 0x3b << 8 | 0 << 3 | 1);
  g_assert_cmpint(raw_int(f->store, "SELECT address FROM vm_pci_request WHERE vm_id = 1 AND "
                                    "slot = 4"),
                  ==, (gint64)0x10000 << 16 | 1 << 8 | 0x1f << 3 | 7);
  g_assert_cmpint(raw_int(f->store, "SELECT only_host_id FROM vms WHERE id = 3"), ==, 3);

  reopen(f);
  for (guint i = 0; i < G_N_ELEMENTS(templates); i++) {
    g_autoptr(PpVmSpec) spec = parse_ok(templates[i]);
    g_autoptr(PpVmSpec) got = get_spec(f->store, ids[i]);

    assert_spec_equal(got, spec);
  }

  /* The placer's input, from the store alone. */
  {
    g_autoptr(PpVmSpec) got = get_spec(f->store, ids[0]);
    PpPlaceVm pv;

    pp_vm_spec_to_place_vm(got, ids[0], &pv);
    g_assert_cmpint(pv.cpu, ==, 150);
    g_assert_cmpint(pv.memory_kib, ==, 2048 * 1024);
    g_assert_cmpuint(pv.n_requests, ==, 5);
    g_assert_cmpstr(pv.requests[0].text, ==, "VENDOR=10de,DEVICE=1db4,CLASS=0302");
    g_assert_cmpstr(pv.requests[1].text, ==, "SHORT_ADDRESS=3b:00.1");
    g_assert_cmpstr(pv.requests[4].text, ==, "SHORT_ADDRESS=10000:01:1f.7");
    g_assert_cmpstr(pv.host_name, ==, "node7");
  }

  /* Requests never change, as before. */
  g_assert_cmpint(raw_rc(f->store, "UPDATE vm_pci_request SET vendor = 1"), !=, RAW_OK);
  /* A request names an address or ids, not both. */
  g_assert_cmpint(raw_rc(f->store, "INSERT INTO vm_pci_request (vm_id, slot, class_code, address) "
                                   "VALUES (2, 0, 770, 5)"),
                  !=, RAW_OK);

  /* Errors: no such VM; a VM stored without a spec (pp_store_vm_create). */
  g_assert_null(pp_store_vm_get_spec(f->store, 99, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
  g_clear_error(&error);
  {
    g_autoptr(PpVm) bare = add_vm(f->store, alice->id, "bare", 100, 1024);

    g_assert_null(pp_store_vm_get_spec(f->store, bare->id, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "has no spec"));
    g_clear_error(&error);
  }
  /* A spec edited by hand into nonsense says so, and names the VM. */
  g_assert_cmpint(raw_rc(f->store, "UPDATE vms SET domain_spec = '{\"vcpu\": 0}' WHERE id = 2"), ==,
                  RAW_OK);
  g_assert_null(pp_store_vm_get_spec(f->store, 2, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  g_assert_true(g_str_has_prefix(error->message, "VM 2: the stored spec does not read: "));
  g_clear_error(&error);
  /* A context that does not read, either. */
  {
    static const struct {
      const char *context, *message;
    } bad[] = {
      { "{\"format\": \"cloud\", \"vars\": []}", "context of an unknown format" },
      { "{\"format\": \"one\"}", "context has no format or vars" },
      { "{\"format\": \"one\", \"vars\": [{\"name\": \"A\"}]}",
        "a context var without its name or value" },
      { "{\"format\": \"one\", \"vars\": [{\"name\": \"\", \"value\": \"\"}]}",
        "a context var without its name or value" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
      g_autofree char *sql = g_strdup_printf(
          pp_test_store_is_pg()
              ? "UPDATE vms SET domain_spec = jsonb_set(CAST(domain_spec AS jsonb), '{context}', "
                "CAST('%s' AS jsonb)) WHERE id = %" G_GINT64_FORMAT
              : "UPDATE vms SET domain_spec = json_set(domain_spec, '$.context', json('%s')) "
                "WHERE id = %" G_GINT64_FORMAT,
          bad[i].context, ids[4]);
      g_autofree char *want = g_strdup_printf(
          "VM %" G_GINT64_FORMAT ": the stored spec does not read: %s", ids[4], bad[i].message);

      g_assert_cmpint(raw_rc(f->store, sql), ==, RAW_OK);
      g_assert_null(pp_store_vm_get_spec(f->store, ids[4], &error));
      g_assert_cmpstr(error->message, ==, want);
      g_clear_error(&error);
    }
  }
}

/* NICs of both kinds keep every field through the store, in template
 * order; a spec stored before issue 12 (bridged NICs with bridge, model
 * and mac only) still reads; a NIC that makes no sense says so. */
static void
test_vm_nics_json(Fixture *f, gconstpointer data)
{
  static const char *const text =
      "MEMORY = 512\n"
      "PCI = [ TYPE = \"NIC\", NETWORK = \"passthrough\", NETWORK_UNAME = \"oneadmin\",\n"
      "  IP = \"10.0.0.5\", MAC = \"02:00:0A:00:00:05\", VLAN_ID = 100, CLASS = \"0200\" ]\n"
      "NIC = [ NETWORK_ID = 1, MODEL = \"e1000e\" ]\n"
      "PCI = [ CLASS = \"0302\", PF_POLICY = \"spread\" ]\n"
      "NIC = [ BRIDGE = \"br0\", MAC = \"52:54:00:12:34:56\" ]\n"
      "PCI = [ TYPE = \"NIC\", NETWORK_ID = 2, SHORT_ADDRESS = \"3b:00.1\" ]\n";
  static const char *const old_spec =
      "{\"vcpu\": 1, \"machine\": \"q35\", \"disks\": [], "
      "\"nics\": [{\"bridge\": \"br0\", \"model\": \"virtio\", \"mac\": \"52:54:00:00:00:01\"}], "
      "\"os\": {}, \"graphics\": {\"type\": \"none\", \"port\": -1}}";
  static const struct {
    const char *nic;
    const char *message;
  } bad[] = {
    { "{\"kind\": \"wifi\"}", "a NIC of an unknown kind" },
    { "{\"kind\": 1}", "a NIC's kind, network_id, vlan_id or request is of another type" },
    { "{\"kind\": \"bridge\", \"vlan_id\": 4095}",
      "a NIC's network_id, vlan_id or request out of range" },
    { "{\"kind\": \"bridge\", \"network_id\": -2}",
      "a NIC's network_id, vlan_id or request out of range" },
    { "{\"kind\": \"pci\", \"request\": -1}",
      "a PCI NIC without its request, or a bridged NIC with one" },
    { "{\"kind\": \"bridge\", \"request\": 0}",
      "a PCI NIC without its request, or a bridged NIC with one" },
    { "{\"kind\": \"bridge\", \"ip\": 10}", "the stored spec's 'ip' is not a string" },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpVmSpec) spec = parse_ok(text);
  g_autoptr(PpNetwork) net1 = add_network(f->store, alice->id, "a");
  g_autoptr(PpNetwork) net2 = add_network(f->store, alice->id, "b");
  /* NETWORK_ID 1 and 2 below name them. */
  g_assert_cmpint(net1->id, ==, 1);
  g_assert_cmpint(net2->id, ==, 2);
  g_autoptr(PpVm) vm = pp_store_vm_create_spec(f->store, alice->id, text, spec, 500, &error);
  g_autoptr(PpVm) old = NULL;
  g_autofree char *old_sql = NULL;

  g_assert_no_error(error);
  g_assert_cmpuint(spec->nics->len, ==, 4);
  {
    g_autoptr(PpVmSpec) got = get_spec(f->store, vm->id);

    assert_spec_equal(got, spec);
    /* Positions are the template's, not the store's. */
    g_assert_cmpuint(((PpVmNic *)g_ptr_array_index(got->nics, 0))->pos.line, ==, 0);
  }
  reopen(f);
  {
    g_autoptr(PpVmSpec) got = get_spec(f->store, vm->id);
    const PpVmNic *nic = g_ptr_array_index(got->nics, 0);

    assert_spec_equal(got, spec);
    g_assert_cmpint(nic->kind, ==, PP_VM_NIC_PCI);
    g_assert_cmpstr(nic->network_uname, ==, "oneadmin");
    g_assert_cmpstr(nic->mac, ==, "02:00:0a:00:00:05");
    g_assert_cmpint(nic->vlan_id, ==, 100);
    g_assert_cmpint(nic->request, ==, 0);
    nic = g_ptr_array_index(got->nics, 3);
    g_assert_cmpint(nic->kind, ==, PP_VM_NIC_PCI);
    g_assert_cmpint(nic->network_id, ==, 2);
    g_assert_cmpint(nic->request, ==, 2);
    /* The requests' own columns. */
    g_assert_cmpint(g_array_index(got->requests, PpPciRequest, 0).nic, ==, 0);
    g_assert_cmpint(g_array_index(got->requests, PpPciRequest, 1).nic, ==, -1);
    g_assert_cmpint(g_array_index(got->requests, PpPciRequest, 1).pf_policy, ==,
                    PP_PF_POLICY_SPREAD);
    g_assert_cmpint(g_array_index(got->requests, PpPciRequest, 2).nic, ==, 3);
    g_assert_cmpint(g_array_index(got->requests, PpPciRequest, 2).pf_policy, ==, PP_PF_POLICY_NONE);
  }
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_nic"), ==, 2);
  /* The requests' PF_POLICY and NIC id are not in the JSON: they are
   * columns of the requests. */
  g_assert_cmpint(raw_int(f->store, "SELECT instr(domain_spec, 'spread') + "
                                    "instr(domain_spec, 'pf_policy') FROM vms"),
                  ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT instr(domain_spec, '\"kind\":\"pci\"') > 0 FROM vms"),
                  ==, 1);

  /* Stored before issue 12. */
  old = add_vm(f->store, alice->id, "old", 100, 512 * 1024);
  old_sql = g_strdup_printf("UPDATE vms SET domain_spec = '%s' WHERE id = %" G_GINT64_FORMAT,
                            old_spec, old->id);
  g_assert_cmpint(raw_rc(f->store, old_sql), ==, RAW_OK);
  {
    g_autoptr(PpVmSpec) got = get_spec(f->store, old->id);
    const PpVmNic *nic;

    g_assert_cmpuint(got->nics->len, ==, 1);
    nic = g_ptr_array_index(got->nics, 0);
    g_assert_cmpint(nic->kind, ==, PP_VM_NIC_BRIDGE);
    g_assert_cmpstr(nic->bridge, ==, "br0");
    g_assert_cmpstr(nic->model, ==, "virtio");
    g_assert_cmpstr(nic->mac, ==, "52:54:00:00:00:01");
    g_assert_null(nic->network);
    g_assert_cmpint(nic->network_id, ==, 0);
    g_assert_null(nic->network_uname);
    g_assert_null(nic->ip);
    g_assert_cmpint(nic->vlan_id, ==, -1);
    g_assert_cmpint(nic->request, ==, -1);
  }

  /* Nonsense in a NIC is refused, naming what. */
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *json = g_strdup_printf(
        "{\"vcpu\": 1, \"machine\": \"q35\", \"disks\": [], \"nics\": [%s], \"os\": {}, "
        "\"graphics\": {\"type\": \"none\", \"port\": -1}}",
        bad[i].nic);
    g_autofree char *sql = g_strdup_printf(
        "UPDATE vms SET domain_spec = '%s' WHERE id = %" G_GINT64_FORMAT, json, old->id);
    g_autofree char *want = NULL;

    g_assert_cmpint(raw_rc(f->store, sql), ==, RAW_OK);
    g_assert_null(pp_store_vm_get_spec(f->store, old->id, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
    if (g_str_has_prefix(bad[i].message, "the stored spec's"))
      want = g_strdup_printf("VM %" G_GINT64_FORMAT ": %s", old->id, bad[i].message);
    else
      want = g_strdup_printf("VM %" G_GINT64_FORMAT ": the stored spec does not read: %s", old->id,
                             bad[i].message);
    g_assert_cmpstr(error->message, ==, want);
    g_clear_error(&error);
  }
}

/* The domain XML the deployer records: none at create, kept as given,
 * dropped when the VM is placed anew (allocated, or back to pending). */
static void
test_vm_domain_xml(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpVm) vm = add_vm(f->store, alice->id, "job", 200, 2048);
  g_autofree char *xml = NULL;
  char unset[] = "unset";
  char *none = unset;
  gint64 ids[1];

  g_assert_true(pp_store_vm_get_domain_xml(f->store, vm->id, &none, &error));
  g_assert_no_error(error);
  g_assert_null(none);

  reconcile(f->store, host->id, "", four_nics, 4, 2000);
  ids[0] = device_id(f->store, host->id, "0000:05:10.0");
  allocate_ok(f->store, vm->id, host->id, ids, 1, 1234);
  g_assert_true(pp_store_vm_set_domain_xml(f->store, vm->id, "<domain type='test'/>", &error));
  g_assert_no_error(error);
  g_assert_true(pp_store_vm_get_domain_xml(f->store, vm->id, &xml, &error));
  g_assert_cmpstr(xml, ==, "<domain type='test'/>");
  g_clear_pointer(&xml, g_free);

  /* A deploy that failed: back to pending, no domain any more. */
  g_assert_true(pp_store_vm_requeue(f->store, vm->id, PP_VM_STATE_DEPLOYING, "deploy failed", TRUE,
                                    1300, &error));
  g_assert_no_error(error);
  g_assert_true(pp_store_vm_get_domain_xml(f->store, vm->id, &xml, &error));
  g_assert_null(xml);

  /* Placed again: still none until the deployer records one. */
  g_assert_true(pp_store_vm_set_domain_xml(f->store, vm->id, "<old/>", &error));
  allocate_ok(f->store, vm->id, host->id, ids, 1, 1400);
  g_assert_true(pp_store_vm_get_domain_xml(f->store, vm->id, &xml, &error));
  g_assert_null(xml);

  /* No such VM. */
  g_assert_false(pp_store_vm_set_domain_xml(f->store, 99, "<x/>", &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(pp_store_vm_get_domain_xml(f->store, 99, &xml, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "no VM 99");
}

/* A version-6 store with VMs: migration 9 types each from its template,
 * once (a template that does not parse: no spec, the VM says so when it
 * is read); their requests, quotas and states as they were. */
static void
test_migrate_v6(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v6.db", NULL);
  g_autofree char *insert = NULL;
  g_autofree char *quoted = NULL;
  g_autoptr(PpStore) store = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  for (int v = 1; v <= 6; v++) {
    if (pp_store_test_get_migration(v) != NULL)
      g_assert_cmpint(sqlite3_exec(db, pp_store_test_get_migration(v), NULL, NULL, NULL), ==,
                      SQLITE_OK);
  }
  quoted = sqlite3_mprintf("%Q", TYPED_TEMPLATE);
  insert = g_strdup_printf(
      "PRAGMA user_version = 6;"
      "INSERT INTO users (id, name, admin, created) VALUES (3, 'alice', 0, 11);"
      "INSERT INTO vms (id, name, owner_id, state, template, cpu, memory_kib, created, updated) "
      "VALUES (7, 'typed', 3, 'pending', %s, 150, 2097152, 30, 30),"
      "  (8, 'plain', 3, 'failed', 'MEMORY = 512\nPCI = [ CLASS = \"0302\" ]', 100, 524288, 31, "
      "31),"
      "  (10, 'odd', 3, 'failed', 'NOT A TEMPLATE [', 100, 0, 33, 33);"
      "INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES (7, 0, 770), (7, 1, NULL), "
      "  (7, 2, 512), (7, 3, NULL), (7, 4, NULL), (8, 0, 770);",
      quoted);
  sqlite3_free(g_steal_pointer(&quoted));
  g_assert_cmpint(sqlite3_exec(db, insert, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);

  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  {
    g_autoptr(PpVmSpec) want = parse_ok(TYPED_TEMPLATE);
    g_autoptr(PpVmSpec) got = get_spec(store, 7);

    assert_spec_equal(got, want);
  }
  {
    g_autoptr(PpVmSpec) want = parse_ok("MEMORY = 512\nPCI = [ CLASS = \"0302\" ]");
    g_autoptr(PpVmSpec) got = get_spec(store, 8);

    assert_spec_equal(got, want);
  }
  g_assert_null(pp_store_vm_get_spec(store, 10, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "VM 10 has no spec: its template did not parse when the store was upgraded; "
                  "terminate it and create it again");
  g_clear_error(&error);
  /* No domain recorded for any, and the rule that requests never change
   * is back. */
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vms WHERE domain_xml IS NOT NULL"), ==, 0);
  g_assert_cmpint(raw_rc(store, "UPDATE vm_pci_request SET vendor = 1 WHERE vm_id = 8"), !=,
                  RAW_OK);
  g_assert_cmpint(vm_state(store, 7), ==, PP_VM_STATE_PENDING);
}

/* The first column of the first row @sql gives on @db, as text (NULL:
 * none). Returns: (transfer full) (nullable). */
static char *
db_text(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *text;

  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  text = g_strdup((const char *)sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  return text;
}

/* Every object of the schema but the vms table, one a line: what
 * migration 10 must leave or make again word for word. */
/* Migration 11 adds pci_device_set_aside; migration 12 adds the network
 * tables and columns to vm_pci_request and users (migration 13's columns
 * of pci_device are cut where the schema is compared). */
#define SCHEMA_BUT_VMS                                                                             \
  "SELECT group_concat(type || ' ' || name || ' ' || tbl_name || ': ' || coalesce(sql, ''), "      \
  "char(10)) FROM (SELECT * FROM sqlite_master WHERE name <> 'vms' "                               \
  "AND name <> 'pci_device_set_aside' "                                                            \
  "AND tbl_name NOT IN ('networks', 'network_ar', 'network_lease', 'vm_nic', "                     \
  "'network_mac_next') AND NOT (type = 'table' AND name IN ('vm_pci_request', 'users')) "          \
  "ORDER BY type, name)"
/* vms's columns as PRAGMA table_info has them, but explanation. */
#define VMS_COLUMNS_BUT_EXPLANATION                                                                \
  "SELECT group_concat(name || ' ' || type || ' ' || \"notnull\" || ' ' || "                       \
  "coalesce(dflt_value, '-') || ' ' || pk, ', ') FROM pragma_table_info('vms') "                   \
  "WHERE name <> 'explanation'"

/* @sql without its white space. Returns: (transfer full). */
static char *
squeezed(const char *sql)
{
  GString *out = g_string_new(NULL);

  for (const char *c = sql; *c != '\0'; c++)
    if (!g_ascii_isspace(*c))
      g_string_append_c(out, *c);
  return g_string_free(out, FALSE);
}

/* A version-9 store at @path, as pcipassd made it (migrations 1..9; 9's
 * data step, which only puts back the trigger its SQL drops, done by
 * hand: there are no VMs to type yet), with: alice (3); host node1 (1)
 * with a GPU and its audio function; VM 7 pending with an explanation a
 * pass of the old scheduler stored and two PCI requests; VM 8 running on
 * node1 holding both devices; VM 9 failed; VM 12 made and deleted (the
 * AUTOINCREMENT counter is 12). */
static void
make_v9_store(const char *path, const char *extra_sql)
{
  g_autofree char *sql = NULL;
  sqlite3 *db = NULL;

  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  for (int v = 1; v <= 9; v++)
    g_assert_cmpint(sqlite3_exec(db, pp_store_test_get_migration(v), NULL, NULL, NULL), ==,
                    SQLITE_OK);
  sql = g_strconcat(
      "CREATE TRIGGER vm_pci_request_fixed BEFORE UPDATE ON vm_pci_request"
      "  BEGIN SELECT RAISE(ABORT, 'a VM''s PCI requests do not change'); END;"
      "PRAGMA user_version = 9;"
      "INSERT INTO users (id, name, admin, created) VALUES (3, 'alice', 0, 11);"
      "INSERT INTO hosts (id, name, state, cpu_count, memory_kib, created) "
      "  VALUES (1, 'node1', 'monitored', 16, 67108864, 12);"
      "INSERT INTO vms (id, name, owner_id, state, template, cpu, memory_kib, explanation, "
      "    tries, created, updated, only_host_id, only_host_name, domain_spec) "
      "  VALUES (7, 'waits', 3, 'pending', 'PCI = [ CLASS = \"0302\" ]', 150, 2097152, "
      "    '[{\"host_id\": 1, \"host\": \"node1\", \"reason\": \"no free device\"}]', 2, 30, 31, "
      "    1, 'node1', '{}');"
      "INSERT INTO vms (id, name, owner_id, state, template, host_id, cpu, memory_kib, created, "
      "    updated, domain_xml) "
      "  VALUES (8, 'runs', 3, 'running', 'MEMORY = 512', 1, 100, 524288, 32, 33, '<domain/>');"
      "INSERT INTO vms (id, name, owner_id, state, reason, template, created, updated) "
      "  VALUES (9, 'broke', 3, 'failed', 'its template did not parse', 'X', 34, 34),"
      "    (12, 'gone', 3, 'done', NULL, '', 35, 35);"
      "DELETE FROM vm_history WHERE vm_id = 12;"
      "DELETE FROM vms WHERE id = 12;"
      "UPDATE vms SET state = 'poweroff', updated = 40 WHERE id = 8;"
      "UPDATE vms SET state = 'running', updated = 41 WHERE id = 8;"
      "INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES (7, 0, 770), (7, 1, NULL);"
      "INSERT INTO pci_device (id, host_id, address, short_address, vendor, device, class_code, "
      "    iommu_group, vm_id, vm_slot, group_endpoints) "
      "  VALUES (5, 1, '0000:3b:00.0', '3b:00.0', 4318, 8368, 770, 7, 8, 0, "
      "      '0000:3b:00.0,0000:3b:00.1'),"
      "    (6, 1, '0000:3b:00.1', '3b:00.1', 4318, 6895, 1027, 7, 8, 1, "
      "      '0000:3b:00.0,0000:3b:00.1');",
      extra_sql, NULL);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
}

/* A version-9 store with a pending VM's stored explanation: migration 10
 * drops the column and nothing else. The VMs keep their ids, columns,
 * history, requests and devices; every other table, index and trigger is
 * as it was, word for word, and the triggers work on the new table; ids
 * are still never given again; foreign keys hold. */
static void
test_migrate_v9(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v9.db", NULL);
  g_autofree char *schema_before = NULL;
  g_autofree char *columns_before = NULL;
  g_autofree char *table_before = NULL;
  g_autofree char *history_before = NULL;
  g_autofree char *message = NULL;
  g_autoptr(PpStore) store = NULL;
  sqlite3 *db = NULL;

  make_v9_store(path, "");
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  schema_before = db_text(db, SCHEMA_BUT_VMS);
  columns_before = db_text(db, VMS_COLUMNS_BUT_EXPLANATION);
  table_before = db_text(db, "SELECT sql FROM sqlite_master WHERE name = 'vms'");
  history_before = db_text(db, "SELECT group_concat(id || ' ' || vm_id || ' ' || at || ' ' || "
                               "coalesce(from_state, '-') || ' ' || to_state || ' ' || "
                               "coalesce(host_name, '-'), '; ') FROM vm_history");
  sqlite3_close(db);
  g_assert_nonnull(strstr(columns_before, "only_host_id INTEGER 0 - 0"));
  g_assert_nonnull(strstr(table_before, "CHECK(explanation IS NULL OR state = 'pending')"));

  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  db = pp_db_sqlite_handle(pp_store_test_get_db(store));
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(store, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM pragma_integrity_check WHERE "
                                 "integrity_check <> 'ok'"),
                  ==, 0);

  /* The column is gone; every other one is as it was, in its order, and
   * so is the table's text but for it. */
  g_assert_cmpint(
      raw_int(store, "SELECT count(*) FROM pragma_table_info('vms') WHERE name = 'explanation'"),
      ==, 0);
  {
    g_autofree char *columns = db_text(db, VMS_COLUMNS_BUT_EXPLANATION);
    g_autofree char *table = db_text(db, "SELECT sql FROM sqlite_master WHERE name = 'vms'");
    g_autofree char *want = squeezed(table_before);
    g_autofree char *got = squeezed(table);
    g_autoptr(GString) cut = g_string_new(want);

    g_assert_cmpstr(columns, ==, columns_before);
    g_assert_cmpuint(g_string_replace(cut, "explanationTEXT,", "", 0), ==, 1);
    g_assert_cmpuint(g_string_replace(cut, ",CHECK(explanationISNULLORstate='pending')", "", 0), ==,
                     1);
    g_assert_cmpstr(got, ==, cut->str);
  }
  {
    g_autofree char *schema = db_text(db, SCHEMA_BUT_VMS);
    g_autoptr(GString) cut = g_string_new(schema);

    /* Migration 13 adds two columns to pci_device, at its end. */
    g_assert_cmpuint(g_string_replace(cut,
                                      " perm_mac TEXT  CHECK (perm_mac IS NULL OR length(perm_mac) "
                                      "= 17), vf_index INTEGER  CHECK (vf_index IS NULL OR "
                                      "vf_index BETWEEN 0 AND 65534),",
                                      "", 0),
                     ==, 1);
    /* Migration 14 adds one column to hosts, at its end. */
    g_assert_cmpuint(g_string_replace(cut,
                                      " context_pool TEXT NOT NULL DEFAULT 'default'  "
                                      "CHECK(length(context_pool) BETWEEN 1 AND 128),",
                                      "", 0),
                     ==, 1);
    g_assert_cmpstr(cut->str, ==, schema_before);
  }
  g_assert_cmpint(raw_rc(store, "UPDATE vms SET explanation = NULL"), ==, RAW_OTHER);

  /* The VMs as they were, with their history, requests and devices. */
  {
    g_autoptr(PpVm) waits = get_vm(store, 7);
    g_autoptr(PpVm) runs = get_vm(store, 8);
    g_autoptr(PpVm) broke = get_vm(store, 9);
    g_autoptr(GPtrArray) held = vm_devices(store, 8);
    g_autofree char *history =
        db_text(db, "SELECT group_concat(id || ' ' || vm_id || ' ' || at || ' ' || "
                    "coalesce(from_state, '-') || ' ' || to_state || ' ' || "
                    "coalesce(host_name, '-'), '; ') FROM vm_history");
    g_autofree char *typed = db_text(db, "SELECT only_host_id || ' ' || only_host_name || ' ' || "
                                         "domain_spec FROM vms WHERE id = 7");
    g_autofree char *xml = db_text(db, "SELECT domain_xml FROM vms WHERE id = 8");

    g_assert_cmpint(waits->state, ==, PP_VM_STATE_PENDING);
    g_assert_cmpstr(waits->name, ==, "waits");
    g_assert_cmpstr(waits->owner_name, ==, "alice");
    g_assert_cmpstr(waits->template_text, ==, "PCI = [ CLASS = \"0302\" ]");
    g_assert_cmpint(waits->cpu, ==, 150);
    g_assert_cmpint(waits->memory_kib, ==, 2097152);
    g_assert_cmpuint(waits->tries, ==, 2);
    g_assert_cmpint(waits->created, ==, 30);
    g_assert_cmpint(waits->updated, ==, 31);
    g_assert_cmpstr(typed, ==, "1 node1 {}");
    g_assert_cmpint(runs->state, ==, PP_VM_STATE_RUNNING);
    g_assert_cmpint(runs->host_id, ==, 1);
    g_assert_cmpstr(runs->host_name, ==, "node1");
    g_assert_cmpint(runs->updated, ==, 41);
    g_assert_cmpstr(xml, ==, "<domain/>");
    g_assert_cmpint(broke->state, ==, PP_VM_STATE_FAILED);
    g_assert_cmpstr(broke->reason, ==, "its template did not parse");
    g_assert_cmpuint(held->len, ==, 2);
    g_assert_cmpint(((PpStoreDevice *)held->pdata[0])->id, ==, 5);
    g_assert_cmpint(((PpStoreDevice *)held->pdata[1])->id, ==, 6);
    g_assert_cmpint(((PpStoreDevice *)held->pdata[1])->vm_slot, ==, 1);
    g_assert_cmpstr(history, ==, history_before);
    g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_history WHERE vm_id = 8"), ==, 3);
    g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_pci_request WHERE vm_id = 7"), ==, 2);
  }

  /* The triggers made again read and guard the new table. */
  g_assert_cmpint(
      raw_exec(store, "UPDATE vms SET state = 'failed', host_id = NULL WHERE id = 8", &message), ==,
      RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a VM that holds devices keeps its host until it frees them");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(
      raw_exec(store, "UPDATE pci_device SET vm_id = 7, vm_slot = 0 WHERE id = 5", &message), ==,
      RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "device is held by another VM");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(store,
                           "INSERT INTO pci_device (host_id, address, short_address, vendor, "
                           "device, class_code, vm_id, vm_slot) VALUES (1, '0000:5e:00.0', "
                           "'5e:00.0', 32902, 5409, 512, 7, 0)",
                           &message),
                  ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a VM holds devices of its own host only");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_rc(store, "UPDATE users SET quota_pci = 2 WHERE id = 3"), ==, RAW_OK);
  g_assert_cmpint(
      raw_exec(store, "INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES (7, 2, 512)",
               &message),
      ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a PCI request would pass a quota of its VM's owner");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_rc(store, "UPDATE users SET quota_pci = NULL, quota_vms = 3 WHERE id = 3"),
                  ==, RAW_OK);
  g_assert_cmpint(raw_exec(store,
                           "INSERT INTO vms (name, owner_id, created, updated) "
                           "VALUES ('one-more', 3, 50, 50)",
                           &message),
                  ==, RAW_CONSTRAINT);
  g_assert_cmpstr(message, ==, "a new VM would pass a quota of its owner");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_exec(store, "UPDATE vms SET state = 'running' WHERE id = 7", &message), ==,
                  RAW_CONSTRAINT);
  assert_refusal(message,
                 "CHECK constraint failed: state NOT IN ('deploying', 'running', 'poweroff', "
                 "'unknown', 'terminating') OR host_id IS NOT NULL");
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(raw_rc(store, "UPDATE users SET quota_vms = NULL WHERE id = 3"), ==, RAW_OK);

  /* A pending VM leaves pending and its history says so; a new VM takes
   * the id after the deleted one, not after the largest left. */
  g_assert_true(pp_store_vm_release(store, 7, PP_VM_STATE_FAILED, "given up", 60, &error));
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_history WHERE vm_id = 7 AND "
                                 "from_state = 'pending' AND to_state = 'failed' AND at = 60"),
                  ==, 1);
  {
    g_autoptr(PpVm) next = add_vm(store, 3, "next", 100, 1024);

    g_assert_cmpint(next->id, ==, 13);
    g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vm_history WHERE vm_id = 13"), ==, 1);
  }

  /* Opened again: nothing more to migrate. */
  g_clear_pointer(&store, pp_store_free);
  store = pp_store_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(store, "SELECT count(*) FROM vms"), ==, 4);
}

/* A version-9 store whose foreign keys do not hold (a history row of a
 * VM deleted by hand): migration 10 stops before its commit, naming the
 * row, and the store is left as it was: version 9, the column there. */
static void
test_migrate_v9_broken(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(f->dir, "v9-broken.db", NULL);
  g_autofree char *want = NULL;
  g_autofree char *explanation = NULL;
  g_autofree char *version = NULL;
  g_autoptr(PpStore) store = NULL;
  sqlite3 *db = NULL;

  make_v9_store(path,
                "INSERT INTO vm_history (id, vm_id, at, to_state) VALUES (90, 44, 1, 'done');");
  store = pp_store_open(path, &error);
  g_assert_null(store);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  want = g_strdup_printf("opening store '%s': migrating the schema to version 10: row 90 of "
                         "table vm_history refers to a missing row of table vms",
                         path);
  g_assert_cmpstr(error->message, ==, want);

  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  version = db_text(db, "PRAGMA user_version");
  g_assert_cmpstr(version, ==, "9");
  explanation = db_text(db, "SELECT explanation FROM vms WHERE id = 7");
  g_assert_cmpstr(explanation, ==,
                  "[{\"host_id\": 1, \"host\": \"node1\", \"reason\": \"no free device\"}]");
  sqlite3_close(db);
}

/* ------------------------------------------------------------------------ */
/* Pushed reports and host report tokens (schema version 8)                  */
/* ------------------------------------------------------------------------ */

/* A GPU and its audio function in one IOMMU group, as the probe prints
 * IOMMU_GROUP_ENDPOINTS (the short form is taken too). */
#define GPU_RECORDS                                                                                \
  "PCI = [ VENDOR = \"10de\", DEVICE = \"20b0\", CLASS = \"0302\", ADDRESS = \"0000:3b:00:0\", "   \
  "IOMMU_GROUP = \"7\", IOMMU_GROUP_ENDPOINTS = \"3b:00.0,0000:3b:00.1\" ]\n"                      \
  "PCI = [ VENDOR = \"10de\", DEVICE = \"1aef\", CLASS = \"0403\", ADDRESS = \"0000:3b:00:1\", "   \
  "IOMMU_GROUP = \"7\", IOMMU_GROUP_ENDPOINTS = \"0000:3b:00.0,0000:3b:00.1\" ]\n"

static PpIngestResult
ingest(PpStore *store, gint64 host_id, const char *text, gint64 now)
{
  g_autoptr(GError) error = NULL;
  PpIngestResult result = { 0 };

  g_assert_true(pp_store_host_ingest(store, host_id, text, strlen(text), now, &result, &error));
  g_assert_no_error(error);
  return result;
}

/* Every row SQLite changed on the store's connection so far; -1 on
 * PostgreSQL. */
static gint64
total_changes(PpStore *store)
{
  /* PostgreSQL has no such count: the checks that use it are SQLite's. */
  if (pp_test_store_is_pg())
    return -1;
  return sqlite3_total_changes64(pp_db_sqlite_handle(pp_store_test_get_db(store)));
}

/* A device's address and its group's endpoints are typed from the report
 * to the store and back, a VMD domain (0x10000) too; the columns keep the
 * text the API shows. A row whose address does not read (only SQL can
 * make one) is an error that names the host and the row, not a device
 * read as 0000:00:00.0. */
static void
test_device_typed_address(Fixture *f, gconstpointer data)
{
  static const char text[] = "HOSTNAME = \"vmd1\"\n"
                             "PCI = [ VENDOR = \"10de\", DEVICE = \"20b0\", CLASS = \"0302\", "
                             "ADDRESS = \"10000:e1:00:0\", IOMMU_GROUP = \"3\", "
                             "IOMMU_GROUP_ENDPOINTS = \"10000:e1:00.0,10000:E1:00.1\" ]\n"
                             "PCI = [ VENDOR = \"10de\", DEVICE = \"1aef\", CLASS = \"0403\", "
                             "SHORT_ADDRESS = \"10000:e1:00.1\", IOMMU_GROUP = \"3\", "
                             "IOMMU_GROUP_ENDPOINTS = \"10000:e1:00.0,10000:e1:00.1\" ]\n"
                             "PCI = [ VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", "
                             "SHORT_ADDRESS = \"e1:00.1\" ]\n";
  g_autoptr(PpHost) node = add_host(f->store, "vmd1");
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *message = NULL;
  g_autofree char *want = NULL;
  const PpStoreDevice *gpu, *audio, *nic;
  char buf[PP_PCI_ADDRESS_BUFSIZE];
  gint64 gpu_id;

  reconcile_text(f->store, node->id, text, 2000);
  devices = list_devices(f->store, node->id);
  g_assert_cmpuint(devices->len, ==, 3);
  gpu = find_device(devices, "10000:e1:00.0");
  audio = find_device(devices, "10000:e1:00.1");
  nic = find_device(devices, "0000:e1:00.1");
  g_assert_cmpuint(gpu->pci.address.domain, ==, 0x10000);
  g_assert_cmpuint(gpu->pci.address.bus, ==, 0xe1);
  g_assert_cmpstr(pp_pci_address_format_short(&gpu->pci.address, buf), ==, "10000:e1:00.0");
  g_assert_cmpstr(pp_pci_address_format_short(&nic->pci.address, buf), ==, "e1:00.1");
  g_assert_cmpuint(gpu->pci.n_group_endpoints, ==, 2);
  g_assert_true(pp_pci_address_equal(&gpu->pci.group_endpoints[0], &gpu->pci.address));
  g_assert_true(pp_pci_address_equal(&gpu->pci.group_endpoints[1], &audio->pci.address));
  g_assert_false(pp_pci_address_equal(&gpu->pci.group_endpoints[1], &nic->pci.address));
  g_assert_cmpuint(audio->pci.n_group_endpoints, ==, 2);
  g_assert_null(nic->pci.group_endpoints);
  g_assert_cmpuint(nic->pci.n_group_endpoints, ==, 0);
  /* The columns, as the report's canonical text. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE address = "
                                    "'10000:e1:00.0' AND short_address = '10000:e1:00.0' AND "
                                    "group_endpoints = '10000:e1:00.0,10000:e1:00.1'"),
                  ==, 1);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE address = "
                                    "'0000:e1:00.1' AND short_address = 'e1:00.1' AND "
                                    "group_endpoints IS NULL"),
                  ==, 1);
  gpu_id = gpu->id;
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* The same report again: every row matched by its typed address. */
  {
    PpReconcileStats stats = reconcile_text(f->store, node->id, text, 2100);

    assert_stats(stats, 0, 3, 0, 0);
  }

  /* A row that does not read: the host and the row are named. */
  sql = g_strdup_printf("UPDATE pci_device SET address = 'e1:00' WHERE id = %" G_GINT64_FORMAT,
                        gpu_id);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_OK);
  want =
      g_strdup_printf("host 'vmd1': host %" G_GINT64_FORMAT ": device row %" G_GINT64_FORMAT ": ",
                      node->id, gpu_id);
  devices = pp_store_host_list_devices(f->store, node->id, &error);
  g_assert_null(devices);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  g_assert_true(g_str_has_prefix(error->message, want));
  g_assert_nonnull(strstr(error->message, "'e1:00'"));
  g_clear_error(&error);
  devices = pp_store_device_list_all(f->store, &error);
  g_assert_null(devices);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  g_assert_true(g_str_has_prefix(error->message, want + strlen("host 'vmd1': ")));
  g_clear_error(&error);

  /* An endpoint that does not read, the address put back. */
  g_clear_pointer(&sql, g_free);
  g_clear_pointer(&message, g_free);
  sql = g_strdup_printf("UPDATE pci_device SET address = '10000:e1:00.0', group_endpoints = "
                        "'10000:e1:00.0,x' WHERE id = %" G_GINT64_FORMAT,
                        gpu_id);
  g_assert_cmpint(raw_exec(f->store, sql, &message), ==, RAW_OK);
  devices = pp_store_host_list_devices(f->store, node->id, &error);
  g_assert_null(devices);
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
  g_assert_true(g_str_has_prefix(error->message, want));
  g_assert_nonnull(strstr(error->message, "group endpoint 2: "));
  g_clear_error(&error);
}

/* A changed report is reconciled with its endpoints typed; the same one
 * again is a hash comparison: nothing written, not even the time; an
 * error, a device set aside or a pulled report make the next one count
 * again; a report that does not parse changes nothing. */
static void
test_ingest(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) node = add_host(f->store, "node1");
  g_autofree char *nics = synth_report("HOSTNAME = \"node1\"\nCPU_COUNT = \"8\"\n", four_nics, 4);
  g_autofree char *text = g_strconcat(nics, GPU_RECORDS, NULL);
  g_autofree char *fewer = synth_report("HOSTNAME = \"node1\"\nCPU_COUNT = \"8\"\n", four_nics, 3);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autoptr(GError) error = NULL;
  PpIngestResult r;
  const PpStoreDevice *gpu;
  char buf[PP_PCI_ADDRESS_BUFSIZE];
  gint64 before;

  r = ingest(f->store, node->id, text, 2000);
  g_assert_true(r.changed);
  g_assert_cmpuint(r.devices, ==, 6);
  assert_stats(r.stats, 6, 0, 0, 0);
  host = get_host(f->store, node->id);
  g_assert_cmpint(host->state, ==, PP_HOST_STATE_MONITORED);
  g_assert_cmpint(host->last_monitored, ==, 2000);
  g_clear_pointer(&host, pp_host_free);
  devices = list_devices(f->store, node->id);
  gpu = find_device(devices, "0000:3b:00.0");
  g_assert_nonnull(gpu->pci.group_endpoints);
  g_assert_cmpuint(gpu->pci.n_group_endpoints, ==, 2);
  g_assert_true(pp_pci_address_equal(&gpu->pci.group_endpoints[0], &gpu->pci.address));
  g_assert_cmpstr(pp_pci_address_format(&gpu->pci.group_endpoints[1], buf), ==, "0000:3b:00.1");
  g_assert_null(find_device(devices, "0000:05:00.0")->pci.group_endpoints);
  g_clear_pointer(&devices, g_ptr_array_unref);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE group_endpoints = "
                                    "'0000:3b:00.0,0000:3b:00.1'"),
                  ==, 2);

  /* The same report: no row written, the time not either. */
  before = total_changes(f->store);
  r = ingest(f->store, node->id, text, 2100);
  g_assert_false(r.changed);
  g_assert_cmpuint(r.devices, ==, 0);
  g_assert_cmpint(total_changes(f->store), ==, before);
  host = get_host(f->store, node->id);
  g_assert_cmpint(host->last_monitored, ==, 2000);
  g_clear_pointer(&host, pp_host_free);

  /* One that does not parse: 400's error, with its line; nothing changed. */
  {
    static const char bad[] = "HOSTNAME = \"node1\"\n"
                              "PCI = [ VENDOR = \"10de\", DEVICE = \"20b0\", CLASS = \"0302\", "
                              "ADDRESS = \"0000:3b:00:0\", IOMMU_GROUP_ENDPOINTS = \"3b:00\" ]\n";

    g_assert_false(pp_store_host_ingest(f->store, node->id, bad, strlen(bad), 2200, &r, &error));
    g_assert_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "line 2: PCI record 1 (0000:3b:00.0): IOMMU_GROUP_ENDPOINTS: item 1 '3b:00' "
                    "is not a PCI address (0000:3b:00.0)");
    g_clear_error(&error);
    g_assert_cmpint(total_changes(f->store), ==, before);
    /* The last good report is still the one compared with. */
    g_assert_false(ingest(f->store, node->id, text, 2250).changed);
  }

  /* A host in error (a stale push) takes the same report in full. */
  g_assert_true(pp_store_host_set_error(f->store, node->id, "stale", 2300, &error));
  g_assert_no_error(error);
  r = ingest(f->store, node->id, text, 2400);
  g_assert_true(r.changed);
  assert_stats(r.stats, 0, 6, 0, 0);
  host = get_host(f->store, node->id);
  g_assert_cmpint(host->state, ==, PP_HOST_STATE_MONITORED);
  g_assert_null(host->error);
  g_clear_pointer(&host, pp_host_free);

  /* A device set aside waits for a report: the same one counts. */
  g_assert_true(pp_store_device_set_aside(f->store, node->id, "0000:3b:00.0", "busy", &error));
  g_assert_no_error(error);
  g_assert_true(ingest(f->store, node->id, text, 2500).changed);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE set_aside IS NOT NULL"),
                  ==, 0);
  g_assert_false(ingest(f->store, node->id, text, 2550).changed);

  /* A pulled report in between: the pushed one is reconciled again. */
  reconcile_text(f->store, node->id, text, 2600);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM hosts WHERE report_hash IS NULL"), ==, 1);
  /* Migration 14: every host's context disks go to libvirt's "default"
   * pool until told otherwise. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM hosts WHERE context_pool = 'default'"),
                  ==, 1);
  g_assert_true(ingest(f->store, node->id, text, 2700).changed);

  /* A changed report: one NIC fewer, the GPU gone. */
  r = ingest(f->store, node->id, fewer, 2800);
  g_assert_true(r.changed);
  assert_stats(r.stats, 0, 3, 3, 0);

  /* A host disabled and enabled again (init) takes it in full. */
  g_assert_true(pp_store_host_set_enabled(f->store, node->id, FALSE, &error));
  g_assert_true(pp_store_host_set_enabled(f->store, node->id, TRUE, &error));
  g_assert_no_error(error);
  g_assert_true(ingest(f->store, node->id, fewer, 2900).changed);

  /* An unknown host. */
  g_assert_false(pp_store_host_ingest(f->store, 99, text, strlen(text), 3000, &r, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
}

/* One report token per host, stored by hash: replaced, revoked, gone with
 * its host. */
static void
test_host_tokens(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) node = add_host(f->store, "node1");
  g_autoptr(PpHost) other = add_host(f->store, "node2");
  g_autoptr(PpHostToken) token = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_store_host_token_set(f->store, node->id, HASH_A, 100, &error));
  g_assert_no_error(error);
  token = pp_store_host_token_authenticate(f->store, HASH_A, 150, &error);
  g_assert_no_error(error);
  g_assert_cmpint(token->host_id, ==, node->id);
  g_assert_cmpstr(token->host_name, ==, "node1");
  g_assert_cmpint(token->created, ==, 100);
  g_assert_cmpint(token->last_used, ==, 150);
  g_clear_pointer(&token, pp_host_token_free);
  /* Touched once an hour at most. */
  token = pp_store_host_token_authenticate(f->store, HASH_A, 170, &error);
  g_assert_cmpint(token->last_used, ==, 150);
  g_clear_pointer(&token, pp_host_token_free);
  token = pp_store_host_token_authenticate(f->store, HASH_A, 150 + PP_STORE_HOST_TOKEN_TOUCH_S - 1,
                                           &error);
  g_assert_cmpint(token->last_used, ==, 150);
  g_clear_pointer(&token, pp_host_token_free);
  token =
      pp_store_host_token_authenticate(f->store, HASH_A, 150 + PP_STORE_HOST_TOKEN_TOUCH_S, &error);
  g_assert_cmpint(token->last_used, ==, 150 + PP_STORE_HOST_TOKEN_TOUCH_S);
  g_clear_pointer(&token, pp_host_token_free);
  token = pp_store_host_token_authenticate(f->store, HASH_A, 170, &error);
  g_assert_cmpint(token->last_used, ==, 150 + PP_STORE_HOST_TOKEN_TOUCH_S);
  g_clear_pointer(&token, pp_host_token_free);
  /* Not a user's token. */
  g_assert_null(pp_store_token_authenticate(f->store, HASH_A, 170, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* A new one replaces the old. */
  g_assert_true(pp_store_host_token_set(f->store, node->id, HASH_B, 200, &error));
  g_assert_null(pp_store_host_token_authenticate(f->store, HASH_A, 210, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  list = pp_store_host_token_list(f->store, &error);
  g_assert_cmpuint(list->len, ==, 1);
  g_assert_cmpint(((PpHostToken *)list->pdata[0])->created, ==, 200);
  g_clear_pointer(&list, g_ptr_array_unref);

  /* One hash, one host. */
  g_assert_false(pp_store_host_token_set(f->store, other->id, HASH_B, 220, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_clear_error(&error);
  g_assert_false(pp_store_host_token_set(f->store, other->id, "abc", 220, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_false(pp_store_host_token_set(f->store, 99, HASH_A, 220, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* Revoked: refused; revoking again says there is none. */
  g_assert_true(pp_store_host_token_delete(f->store, node->id, &error));
  g_assert_null(pp_store_host_token_authenticate(f->store, HASH_B, 230, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_clear_error(&error);
  g_assert_false(pp_store_host_token_delete(f->store, node->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND);
  g_assert_cmpstr(error->message, ==, "host 'node1' has no report token");
  g_clear_error(&error);

  /* Gone with its host. */
  g_assert_true(pp_store_host_token_set(f->store, other->id, HASH_A, 240, &error));
  g_assert_true(pp_store_host_delete(f->store, other->id, &error));
  g_assert_no_error(error);
  list = pp_store_host_token_list(f->store, &error);
  g_assert_cmpuint(list->len, ==, 0);
}

/* ------------------------------------------------------------------------ */
/* Paged lists                                                              */
/* ------------------------------------------------------------------------ */

/* Every id of every page of @page (its limit, states and owner), checking
 * that each page but the last is full, ids ascend across pages and the
 * last page's next is 0. */
static GArray *
all_pages(PpStore *store, PpStorePage page, gboolean hosts, guint *ret_pages)
{
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint pages = 0;

  for (;;) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = NULL;
    gint64 next = -1;

    rows = hosts ? pp_store_host_page(store, &page, &next, &error)
                 : pp_store_vm_page(store, &page, &next, &error);
    g_assert_no_error(error);
    g_assert_nonnull(rows);
    g_assert_cmpuint(rows->len, <=, page.limit);
    pages++;
    for (guint i = 0; i < rows->len; i++) {
      gint64 id = hosts ? ((PpHost *)g_ptr_array_index(rows, i))->id
                        : ((PpVmRow *)g_ptr_array_index(rows, i))->id;

      g_assert_cmpint(id, >, page.after);
      if (ids->len > 0)
        g_assert_cmpint(id, >, g_array_index(ids, gint64, ids->len - 1));
      g_array_append_val(ids, id);
    }
    if (next == 0)
      break;
    g_assert_cmpuint(rows->len, ==, page.limit);
    g_assert_cmpint(next, ==, g_array_index(ids, gint64, ids->len - 1));
    page.after = next;
    g_assert_cmpuint(pages, <, 10000);
  }
  *ret_pages = pages;
  return ids;
}

/* The ids pp_store_vm_list() gives (the whole list): what pages must add
 * up to. */
static GArray *
listed_ids(PpStore *store, gint64 owner_id, guint states)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) vms = pp_store_vm_list(store, owner_id, states, &error);
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));

  g_assert_no_error(error);
  for (guint i = 0; i < vms->len; i++)
    g_array_append_val(ids, ((PpVm *)g_ptr_array_index(vms, i))->id);
  return ids;
}

static void
assert_same_ids(const GArray *a, const GArray *b)
{
  g_assert_cmpuint(a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpint(g_array_index(a, gint64, i), ==, g_array_index(b, gint64, i));
}

/* EXPLAIN QUERY PLAN of @sql: its details, one a line. */
static char *
query_plan(PpStore *store, const char *sql)
{
  g_autofree char *explain = g_strconcat("EXPLAIN QUERY PLAN ", sql, NULL);
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(store));
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new(NULL);

  g_assert_cmpint(sqlite3_prepare_v2(db, explain, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_string_append_printf(out, "%s\n", (const char *)sqlite3_column_text(stmt, 3));
  sqlite3_finalize(stmt);
  return g_string_free(out, FALSE);
}

/* 250 VMs of two owners in three states, read in pages of 100 and of 7,
 * with and without filters: every page but the last full, no id twice,
 * none missing (what the whole list gives), in order, next 0 at the end. */
static void
test_vm_page(Fixture *f, gconstpointer data)
{
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  g_autoptr(PpUser) bob = add_user(f->store, "bob");
  g_autoptr(GError) error = NULL;
  guint pending = 1u << PP_VM_STATE_PENDING, failed = 1u << PP_VM_STATE_FAILED;
  guint done = 1u << PP_VM_STATE_DONE;
  guint pages = 0;

  for (guint i = 0; i < 250; i++) {
    g_autoptr(PpVm) vm = add_vm(f->store, i % 2 ? bob->id : alice->id, NULL, 100, 1024);

    if (i % 5 == 0)
      g_assert_true(pp_store_vm_release(f->store, vm->id, PP_VM_STATE_FAILED, "it could not\nrun",
                                        600, &error));
    else if (i % 7 == 0)
      g_assert_true(pp_store_vm_release(f->store, vm->id, PP_VM_STATE_DONE, NULL, 600, &error));
    g_assert_no_error(error);
  }
  {
    g_autoptr(GArray) ids = all_pages(f->store, (PpStorePage){ .limit = 100 }, FALSE, &pages);
    g_autoptr(GArray) want = listed_ids(f->store, 0, 0);

    g_assert_cmpuint(pages, ==, 3);
    g_assert_cmpuint(ids->len, ==, 250);
    assert_same_ids(ids, want);
  }
  {
    /* Exactly two pages' worth: the second page says it is the last. */
    g_autoptr(GArray) ids = all_pages(f->store, (PpStorePage){ .limit = 125 }, FALSE, &pages);

    g_assert_cmpuint(pages, ==, 2);
    g_assert_cmpuint(ids->len, ==, 250);
  }
  {
    const struct {
      gint64 owner;
      guint states;
    } cases[] = {
      { 0, pending },
      { alice->id, pending },
      { bob->id, pending | failed },
      { 0, failed | done },
      { bob->id, 0 },
      { alice->id, done },
      { 0, (1u << _PP_VM_STATE_MAX) - 1 - done },
    };

    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
      g_autoptr(GArray) ids = all_pages(
          f->store,
          (PpStorePage){ .limit = 7, .owner_id = cases[c].owner, .states = cases[c].states }, FALSE,
          &pages);
      g_autoptr(GArray) want = listed_ids(f->store, cases[c].owner, cases[c].states);

      g_test_message("owner %" G_GINT64_FORMAT ", states %x: %u VMs in %u pages", cases[c].owner,
                     cases[c].states, ids->len, pages);
      g_assert_cmpuint(want->len, >, 0);
      assert_same_ids(ids, want);
    }
  }

  /* The light row: the reason as it is (the API cuts it). A pending VM's
   * summary is not the store's: the API asks the scheduler. */
  {
    g_autoptr(GPtrArray) rows = NULL;
    const PpVmRow *row;
    gint64 next = -1;

    rows = pp_store_vm_page(f->store, &(PpStorePage){ .limit = 3 }, &next, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(rows->len, ==, 3);
    g_assert_cmpint(next, ==, 3);
    row = g_ptr_array_index(rows, 0);
    g_assert_cmpint(row->state, ==, PP_VM_STATE_FAILED);
    g_assert_cmpstr(row->reason, ==, "it could not\nrun");
    g_assert_cmpstr(row->owner_name, ==, "alice");
    g_assert_cmpint(row->cpu, ==, 100);
    g_assert_cmpint(row->memory_kib, ==, 1024);
    g_assert_cmpuint(row->devices, ==, 0);
    row = g_ptr_array_index(rows, 1);
    g_assert_cmpint(row->id, ==, 2);
    g_assert_cmpint(row->state, ==, PP_VM_STATE_PENDING);
    g_assert_null(row->reason);
    g_assert_cmpint(row->host_id, ==, 0);
    g_assert_null(row->host_name);
    row = g_ptr_array_index(rows, 2);
    g_assert_cmpint(row->id, ==, 3);
  }

  /* Who owns what, one point query: done VMs are nobody's to see. */
  {
    gboolean owned = TRUE;

    g_assert_true(pp_store_vm_is_owned(f->store, 2, bob->id, &owned, &error));
    g_assert_true(owned);
    g_assert_true(pp_store_vm_is_owned(f->store, 2, alice->id, &owned, &error));
    g_assert_false(owned);
    g_assert_true(pp_store_vm_is_owned(f->store, 8, bob->id, &owned, &error)); /* done */
    g_assert_false(owned);
    g_assert_true(pp_store_vm_is_owned(f->store, 9999, bob->id, &owned, &error));
    g_assert_false(owned);
    g_assert_no_error(error);
  }

  /* Each page reads an index in id order: no scan of the table, no sort. */
  {
    static const char *const queries[] = {
      "SELECT id FROM vms WHERE id > 5 ORDER BY id LIMIT 101",
      "SELECT id FROM vms WHERE owner_id = 1 AND id > 5 ORDER BY id LIMIT 101",
      "SELECT id FROM vms WHERE state = 'pending' AND id > 5 ORDER BY id LIMIT 101",
      "SELECT id FROM vms WHERE owner_id = 1 AND state = 'pending' AND id > 5 ORDER BY id "
      "LIMIT 101",
      "SELECT id FROM vms WHERE host_id = 1 AND id > 5 AND (0 = 0 OR owner_id = 0) "
      "AND (NULL IS NULL OR instr(NULL, ',' || state || ',') > 0) ORDER BY id LIMIT 101",
      "SELECT id FROM hosts WHERE state = 'init' AND id > 5 ORDER BY id LIMIT 101",
      "SELECT id FROM hosts WHERE id > 5 ORDER BY id LIMIT 101",
    };

    /* SQLite's plans; PostgreSQL plans by its statistics. */
    for (guint i = 0; i < G_N_ELEMENTS(queries) && !pp_test_store_is_pg(); i++) {
      g_autofree char *plan = query_plan(f->store, queries[i]);

      g_test_message("%s: %s", queries[i], plan);
      g_assert_null(strstr(plan, "TEMP B-TREE"));
      g_assert_true(strstr(plan, "USING") != NULL);
      g_assert_true(g_str_has_prefix(plan, "SEARCH"));
    }
  }
}

/* Hosts in pages, by state. */
static void
test_host_page(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint pages = 0;

  for (guint i = 0; i < 23; i++) {
    g_autofree char *name = g_strdup_printf("node%u", i);
    g_autoptr(PpHost) host = add_host(f->store, name);

    if (i % 3 == 0)
      g_assert_true(pp_store_host_set_enabled(f->store, host->id, FALSE, &error));
    g_assert_no_error(error);
  }
  {
    g_autoptr(GArray) ids = all_pages(f->store, (PpStorePage){ .limit = 10 }, TRUE, &pages);

    g_assert_cmpuint(pages, ==, 3);
    g_assert_cmpuint(ids->len, ==, 23);
  }
  {
    g_autoptr(GArray) ids =
        all_pages(f->store, (PpStorePage){ .limit = 4, .states = 1u << PP_HOST_STATE_DISABLED },
                  TRUE, &pages);

    g_assert_cmpuint(ids->len, ==, 8);
    g_assert_cmpuint(pages, ==, 2);
    for (guint i = 0; i < ids->len; i++)
      g_assert_cmpint(g_array_index(ids, gint64, i), ==, 1 + 3 * (gint64)i);
  }
  {
    g_autoptr(GArray) ids = all_pages(
        f->store,
        (PpStorePage){ .limit = 1000,
                       .states = 1u << PP_HOST_STATE_INIT | 1u << PP_HOST_STATE_DISABLED },
        TRUE, &pages);

    g_assert_cmpuint(ids->len, ==, 23);
    g_assert_cmpuint(pages, ==, 1);
  }
}

/* Migration 11: whether a host's devices are set aside is read from the
 * small partial index, not from every device row of the host (an
 * unchanged pushed report's one read); and the answer is still right. */
static void
test_set_aside_index(Fixture *f, gconstpointer data)
{
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(f->store));
  g_autofree char *explain =
      g_strdup_printf("EXPLAIN QUERY PLAN %s", pp_store_test_get_report_state_sql());
  g_autoptr(GString) plan = g_string_new(NULL);
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint(sqlite3_prepare_v2(db, explain, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_string_append_printf(plan, "%s\n", (const char *)sqlite3_column_text(stmt, 3));
  sqlite3_finalize(stmt);
  g_test_message("%s", plan->str);
  /* Its rows are the few set-aside devices: none read in the common case. */
  g_assert_nonnull(strstr(plan->str, "INDEX pci_device_set_aside (host_id=?)"));
  g_assert_null(strstr(plan->str, "sqlite_autoindex_pci_device"));
}

/* pp_store_read_begin(): the reads inside see one snapshot (another
 * connection's commit shows only after pp_store_read_end()); a write that
 * starts its own transaction fails inside, says so and changes nothing;
 * after the end, writes work again. */
static void
test_read_snapshot(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(GError) error = NULL;
  sqlite3 *other = NULL;
  char *errmsg = NULL;
  g_autofree char *rename = NULL;

  g_assert_cmpint(sqlite3_open(f->path, &other), ==, SQLITE_OK);
  g_assert_true(pp_store_read_begin(f->store, &error));
  g_assert_no_error(error);
  {
    g_autoptr(PpHost) before = get_host(f->store, host->id);

    g_assert_cmpstr(before->name, ==, "node1");
  }
  rename =
      g_strdup_printf("UPDATE hosts SET name = 'node9' WHERE id = %" G_GINT64_FORMAT, host->id);
  g_assert_cmpint(sqlite3_exec(other, rename, NULL, NULL, &errmsg), ==, SQLITE_OK);
  g_assert_null(errmsg);
  {
    g_autoptr(PpHost) still = get_host(f->store, host->id);

    g_assert_cmpstr(still->name, ==, "node1");
  }
  /* A write with its own transaction: refused, nothing written. */
  g_assert_false(pp_store_host_delete(f->store, host->id, &error));
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "deleting a host: starting a transaction"));
  g_clear_error(&error);
  pp_store_read_end(f->store);
  {
    g_autoptr(PpHost) after = get_host(f->store, host->id);

    g_assert_cmpstr(after->name, ==, "node9");
  }
  g_assert_cmpuint(n_hosts(f->store), ==, 1);
  /* Ended: a write works again, and an end without a begin does nothing. */
  pp_store_read_end(f->store);
  g_assert_true(pp_store_host_delete(f->store, host->id, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n_hosts(f->store), ==, 0);
  sqlite3_close(other);
}

/* What the probe says of network functions (issue 12): a VF's PF, typed
 * from physfn, its index and a function's permanent MAC, kept in their
 * columns, rewritten when the report changes them, NULL when it stops
 * saying them. No capture has SR-IOV links: the report is written here as
 * the probe prints it on the I350 tree that test-probe builds. */
static void
test_device_nic_fields(Fixture *f, gconstpointer data)
{
#define I350_VF(addr, index, mac)                                                                  \
  "PCI = [ VENDOR = \"8086\", DEVICE = \"1520\", CLASS = \"0200\", SHORT_ADDRESS = \"" addr "\", " \
  "SRIOV = \"vf\", PHYSFN = \"0000:05:00.0\", PERM_MAC = \"" mac "\", VF_INDEX = \"" index         \
  "\" ]\n"
  static const char first[] =
      "PCI = [ VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", SHORT_ADDRESS = "
      "\"05:00.0\", "
      "SRIOV = \"pf\", SRIOV_NUM = \"2\", SRIOV_TOTAL = \"7\", PERM_MAC = \"A0:36:9F:00:00:01\" "
      "]\n" I350_VF("05:10.0", "0", "02:00:00:00:00:10")
          I350_VF("05:10.4", "1", "02:00:00:00:00:14");
  /* The VF at 05:10.4 is now VF 3 and lost its MAC; the other as it was. */
  static const char second[] =
      "PCI = [ VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", SHORT_ADDRESS = "
      "\"05:00.0\", "
      "SRIOV = \"pf\", SRIOV_NUM = \"2\", SRIOV_TOTAL = \"7\", PERM_MAC = \"A0:36:9F:00:00:01\" "
      "]\n" I350_VF("05:10.0", "0",
                    "02:00:00:00:00:10") "PCI = [ VENDOR = \"8086\", DEVICE = \"1520\", "
                                         "CLASS = \"0200\", SHORT_ADDRESS = \"05:10.4\", "
                                         "SRIOV = \"vf\", PHYSFN = \"0000:05:00.0\", "
                                         "VF_INDEX = \"3\" ]\n";
#undef I350_VF
  g_autoptr(PpHost) node = add_host(f->store, "sriov1");
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *message = NULL;
  const PpStoreDevice *pf, *vf0, *vf1;
  char buf[PP_PCI_ADDRESS_BUFSIZE];

  reconcile_text(f->store, node->id, first, 2000);
  devices = list_devices(f->store, node->id);
  g_assert_cmpuint(devices->len, ==, 3);
  pf = find_device(devices, "0000:05:00.0");
  vf0 = find_device(devices, "0000:05:10.0");
  vf1 = find_device(devices, "0000:05:10.4");
  g_assert_false(pf->pci.has_pf);
  g_assert_false(pf->pci.has_vf_index);
  g_assert_cmpstr(pf->pci.perm_mac, ==, "a0:36:9f:00:00:01");
  g_assert_true(vf0->pci.has_pf);
  g_assert_cmpstr(pp_pci_address_format(&vf0->pci.pf, buf), ==, "0000:05:00.0");
  g_assert_true(vf0->pci.has_vf_index);
  g_assert_cmpuint(vf0->pci.vf_index, ==, 0);
  g_assert_cmpstr(vf0->pci.perm_mac, ==, "02:00:00:00:00:10");
  g_assert_true(vf1->pci.has_pf);
  g_assert_cmpuint(vf1->pci.vf_index, ==, 1);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE address = "
                                    "'0000:05:10.4' AND physfn = '0000:05:00.0' AND vf_index = 1 "
                                    "AND perm_mac = '02:00:00:00:00:14'"),
                  ==, 1);
  g_clear_pointer(&devices, g_ptr_array_unref);

  /* The same report, then the changed one: rows refreshed, none added. */
  assert_stats(reconcile_text(f->store, node->id, first, 2001), 0, 3, 0, 0);
  assert_stats(reconcile_text(f->store, node->id, second, 2002), 0, 3, 0, 0);
  devices = list_devices(f->store, node->id);
  vf1 = find_device(devices, "0000:05:10.4");
  g_assert_true(vf1->pci.has_vf_index);
  g_assert_cmpuint(vf1->pci.vf_index, ==, 3);
  g_assert_null(vf1->pci.perm_mac);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE perm_mac IS NULL"), ==,
                  1);

  /* The schema holds the bounds too, whatever writes. */
  g_assert_cmpint(
      raw_exec(f->store, "UPDATE pci_device SET vf_index = 65535 WHERE vf_index = 3", &message), ==,
      RAW_CONSTRAINT);
  g_clear_pointer(&message, g_free);
  g_assert_cmpint(
      raw_exec(f->store, "UPDATE pci_device SET perm_mac = '02:00' WHERE vf_index = 3", &message),
      ==, RAW_CONSTRAINT);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE vf_index = 3 AND "
                                    "perm_mac IS NULL"),
                  ==, 1);
}

/* A store of version 12 gains the columns, NULL on its rows, and forgets
 * its hosts' report hashes, so that the next pushed report, even one the
 * same as the last, fills them. */
static void
test_migrate_v12(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) node = add_host(f->store, "node1");
  g_autoptr(GPtrArray) devices = NULL;
  const PpStoreDevice *vf;
  sqlite3 *db = NULL;

  reconcile_text(f->store, node->id,
                 "PCI = [ VENDOR = \"8086\", DEVICE = \"1520\", CLASS = \"0200\", "
                 "SHORT_ADDRESS = \"05:10.0\", SRIOV = \"vf\", PHYSFN = \"0000:05:00.0\", "
                 "VF_INDEX = \"2\", PERM_MAC = \"02:00:00:00:00:10\" ]\n",
                 2000);
  g_clear_pointer(&f->store, pp_store_free);
  /* Back to version 12: without the columns (and migration 14's), with a
   * report hash. */
  g_assert_cmpint(sqlite3_open(f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db,
                               "ALTER TABLE pci_device DROP COLUMN perm_mac;"
                               "ALTER TABLE pci_device DROP COLUMN vf_index;"
                               "UPDATE hosts SET report_hash = printf('%064d', 7);"
                               "ALTER TABLE hosts DROP COLUMN context_pool;"
                               "PRAGMA user_version = 12;",
                               NULL, NULL, NULL),
                  ==, SQLITE_OK);
  sqlite3_close(db);

  f->store = pp_store_open(f->path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(f->store, "PRAGMA user_version"), ==, 14);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM hosts WHERE report_hash IS NULL"), ==, 1);
  devices = list_devices(f->store, node->id);
  vf = find_device(devices, "0000:05:10.0");
  /* physfn was there before: the PF is known; the new ones are not yet. */
  g_assert_true(vf->pci.has_pf);
  g_assert_false(vf->pci.has_vf_index);
  g_assert_null(vf->pci.perm_mac);
  g_clear_pointer(&devices, g_ptr_array_unref);
  /* The same report again fills them. */
  assert_stats(reconcile_text(f->store, node->id,
                              "PCI = [ VENDOR = \"8086\", DEVICE = \"1520\", CLASS = \"0200\", "
                              "SHORT_ADDRESS = \"05:10.0\", SRIOV = \"vf\", "
                              "PHYSFN = \"0000:05:00.0\", VF_INDEX = \"2\", "
                              "PERM_MAC = \"02:00:00:00:00:10\" ]\n",
                              2001),
               0, 1, 0, 0);
  devices = list_devices(f->store, node->id);
  vf = find_device(devices, "0000:05:10.0");
  g_assert_cmpuint(vf->pci.vf_index, ==, 2);
  g_assert_cmpstr(vf->pci.perm_mac, ==, "02:00:00:00:00:10");
}

/* ------------------------------------------------------------------------ */
/* Writers of several connections at once                                   */
/* ------------------------------------------------------------------------ */

#define WRITERS 4
#define WRITER_VMS 6
#define WRITER_ROUNDS 60

typedef struct {
  const char *location; /* the store, opened by each writer on its own */
  const gint64 *vms;    /* WRITER_VMS of its own */
  const gint64 *devices;
  gint64 host_id;
  guint seed;
  guint allocated, requeued, conflicts, busy;
  char *failure; /* the first unexpected error */
} Writer;

/* A writer: its own connection, as another pcipassd's; takes a device at
 * random for one of its pending VMs, or gives one back, WRITER_ROUNDS
 * times. CONFLICT (the device taken by another meanwhile) and BUSY are the
 * answers a writer may get; anything else is a failure. */
static gpointer
writer_run(gpointer data)
{
  Writer *w = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) store = pp_store_open(w->location, &error);
  g_autoptr(GRand) rand = g_rand_new_with_seed(w->seed);

  if (store == NULL) {
    w->failure = g_strdup(error->message);
    return NULL;
  }
  for (guint r = 0; r < WRITER_ROUNDS && w->failure == NULL; r++) {
    gint64 vm = w->vms[g_rand_int_range(rand, 0, WRITER_VMS)];
    gint64 dev = w->devices[g_rand_int_range(rand, 0, 4)];
    g_autoptr(PpVm) got = pp_store_vm_get(store, vm, &error);
    gboolean ok;

    if (got == NULL) {
      w->failure = g_strdup(error->message);
      break;
    }
    if (got->state == PP_VM_STATE_PENDING)
      ok = pp_store_vm_allocate(store, vm, w->host_id, &dev, 1, 1000 + r, &error);
    else
      ok = pp_store_vm_requeue(store, vm, PP_VM_STATE_DEPLOYING, "given back", FALSE, 1000 + r,
                               &error);
    if (ok) {
      if (got->state == PP_VM_STATE_PENDING)
        w->allocated++;
      else
        w->requeued++;
    } else if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT)) {
      w->conflicts++;
    } else if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_BUSY)) {
      w->busy++;
    } else {
      w->failure = g_strdup(error->message);
    }
    g_clear_error(&error);
  }
  return NULL;
}

/* WRITERS connections (as many pcipassd would have) allocate the four
 * NICs of one host to their VMs and give them back, at once: each device
 * ends with one VM at most, each VM that deploys holds exactly its one,
 * and what the writers say they did adds up to what the store holds. On
 * PostgreSQL every writer's transaction takes the store's write lock
 * (READ COMMITTED, writers one at a time); on SQLite, the file's. */
static void
test_concurrent_writers(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHost) host = add_host(f->store, "node1");
  g_autoptr(PpUser) alice = add_user(f->store, "alice");
  gint64 vms[WRITERS][WRITER_VMS];
  gint64 devices[4];
  Writer writers[WRITERS] = { { 0 } };
  GThread *threads[WRITERS];
  guint allocated = 0, requeued = 0, conflicts = 0;

  reconcile(f->store, host->id, "", four_nics, 4, 900);
  for (guint d = 0; d < 4; d++)
    devices[d] = device_id(f->store, host->id, four_nics[d].address);
  for (guint t = 0; t < WRITERS; t++) {
    for (guint v = 0; v < WRITER_VMS; v++) {
      g_autofree char *name = g_strdup_printf("w%u-%u", t, v);
      g_autoptr(PpVm) vm = add_vm(f->store, alice->id, name, 100, 1024);

      vms[t][v] = vm->id;
    }
    writers[t] = (Writer){
      .location = f->path, .vms = vms[t], .devices = devices, .host_id = host->id, .seed = 7 + t
    };
  }
  for (guint t = 0; t < WRITERS; t++)
    threads[t] = g_thread_new("writer", writer_run, &writers[t]);
  for (guint t = 0; t < WRITERS; t++) {
    g_thread_join(threads[t]);
    if (writers[t].failure != NULL)
      g_error("writer %u: %s", t, writers[t].failure);
    allocated += writers[t].allocated;
    requeued += writers[t].requeued;
    conflicts += writers[t].conflicts;
    g_test_message("writer %u: %u allocated, %u given back, %u conflicts, %u busy", t,
                   writers[t].allocated, writers[t].requeued, writers[t].conflicts,
                   writers[t].busy);
  }
  /* They did meet: some allocations found their device taken. */
  g_assert_cmpuint(conflicts, >, 0);
  g_assert_cmpuint(allocated, >, 4);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms WHERE state = 'deploying'"), ==,
                  allocated - requeued);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM pci_device WHERE vm_id IS NOT NULL"), ==,
                  allocated - requeued);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms v WHERE v.state = 'deploying' AND "
                                    "(SELECT count(*) FROM pci_device d WHERE d.vm_id = v.id) "
                                    "<> 1"),
                  ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms v WHERE v.state = 'pending' AND "
                                    "EXISTS (SELECT 1 FROM pci_device d WHERE d.vm_id = v.id)"),
                  ==, 0);
}

/* PostgreSQL: a database whose store_meta says no version, or one that is
 * not a number, or a newer one, is refused at open, saying so; nothing in
 * it changes. */
static void
test_pg_open_errors(Fixture *f, gconstpointer data)
{
  static const struct {
    const char *sql;
    const char *message;
  } cases[] = {
    { "UPDATE store_meta SET value = '99' WHERE key = 'schema_version'",
      "its schema version is 99, newer than the 14 this pcipassd knows; run a newer pcipassd" },
    { "UPDATE store_meta SET value = 'x1' WHERE key = 'schema_version'",
      "store_meta's schema_version is 'x1', not a version number" },
    { "DELETE FROM store_meta WHERE key = 'schema_version'",
      "the database has a store_meta table without a schema_version: it is not a pcipass "
      "store, or one whose creation was cut short; give pcipassd an empty database" },
  };
  g_autofree char *id = NULL;

  if (!pp_test_store_is_pg()) {
    g_test_skip("PostgreSQL's own: SQLite keeps its version in the file's header");
    return;
  }
  id = g_strdup(pp_store_get_id(f->store));
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpStore) store = NULL;
    g_autofree char *message = NULL;

    g_assert_cmpint(raw_exec(f->store, cases[i].sql, &message), ==, RAW_OK);
    store = pp_store_open(f->path, &error);
    g_assert_null(store);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED);
    g_test_message("%s", error->message);
    g_assert_true(g_str_has_prefix(error->message, "opening store 'postgresql://"));
    g_assert_true(g_str_has_suffix(error->message, cases[i].message));
    /* Nothing made again over it. */
    g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM hosts"), ==, 0);
    g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM store_meta WHERE key = 'id'"), ==, 1);
    g_clear_pointer(&message, g_free);
    g_assert_cmpint(raw_exec(f->store,
                             "INSERT INTO store_meta (key, value) VALUES ('schema_version', '14') "
                             "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                             &message),
                    ==, RAW_OK);
  }
  reopen(f);
  g_assert_cmpstr(pp_store_get_id(f->store), ==, id);
}

typedef void (*FixtureFunc)(Fixture *f, gconstpointer data);

/* Runs the test in @data on SQLite only; skipped on PostgreSQL. */
static void
run_sqlite_only(Fixture *f, gconstpointer data)
{
  if (!pp_test_store_sqlite_only("SQLite's own (its files, pragmas, locks or query plans)"))
    return;
  ((FixtureFunc)data)(f, NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  /* What these look at is SQLite's own: its files, pragmas, locks, plans. */
#define ADD_SQLITE(path, func)                                                                     \
  g_test_add(path, Fixture, (gconstpointer)func, fixture_setup, run_sqlite_only, fixture_teardown)
  ADD("/store/open", test_open);
  ADD_SQLITE("/store/open-errors", test_open_errors);
  ADD_SQLITE("/store/newer-schema", test_newer_schema);
  ADD("/store/vm/page", test_vm_page);
  ADD("/store/host/page", test_host_page);
  ADD("/store/reopen", test_reopen);
  ADD("/store/id", test_store_id);
  ADD("/store/ids-never-reused", test_ids_never_reused);
  ADD("/store/host/libvirt-error", test_host_libvirt_error);
  ADD("/store/host/needs-allowance", test_host_needs_allowance);
  ADD("/store/device/set-aside", test_set_aside);
  ADD("/store/vm/requeue-history", test_requeue_history);
  ADD_SQLITE("/store/migrate-v3", test_migrate_v3);
  ADD_SQLITE("/store/busy", test_busy);
  ADD("/store/host/create", test_host_create);
  ADD_SQLITE("/store/read-snapshot", test_read_snapshot);
  ADD_SQLITE("/store/set-aside-index", test_set_aside_index);
  ADD("/store/host/find", test_host_find);
  ADD("/store/host/bad", test_host_bad);
  ADD("/store/host/enable", test_host_enable);
  ADD("/store/host/delete", test_host_delete);
  ADD("/store/reconcile/add-refresh-remove", test_reconcile);
  ADD("/store/reconcile/held-gone", test_reconcile_held);
  ADD("/store/reconcile/facts-and-errors", test_reconcile_facts);
  ADD("/store/reconcile/disabled", test_reconcile_disabled);
  ADD("/store/reconcile/real-probe", test_reconcile_real);
  ADD("/store/schema/one-vm", test_schema_one_vm);
  ADD("/store/schema/gone", test_schema_gone);
  ADD("/store/users", test_users);
  ADD("/store/tokens", test_tokens);
  ADD("/store/counts", test_counts);
  ADD("/store/vm/create", test_vm_create);
  ADD("/store/vm/list", test_vm_list);
  ADD("/store/vm/find", test_vm_find);
  ADD("/store/vm/allocate", test_vm_allocate);
  ADD("/store/vm/allocate-refused", test_vm_allocate_refused);
  ADD("/store/vm/transition", test_vm_transition);
  ADD("/store/vm/release", test_vm_release);
  ADD("/store/vm/host-usage", test_host_usage);
  ADD("/store/vm/host-delete", test_host_delete_vms);
  ADD("/store/vm/device-list-all", test_device_list_all);
  ADD("/store/host/read-many", test_host_read_many);
  ADD("/store/big-ids", test_big_ids);
  ADD("/store/attributes-json", test_attributes_json);
  ADD("/store/schema/vms", test_schema_vms);
  ADD("/store/host-set-prebound", test_host_set_prebound);
  ADD("/store/host/update", test_host_update);
  ADD_SQLITE("/store/migrate-v1", test_migrate_v1);
  ADD_SQLITE("/store/migrate-v4", test_migrate_v4);
  ADD_SQLITE("/store/migrate-v6", test_migrate_v6);
  ADD_SQLITE("/store/migrate-v9", test_migrate_v9);
  ADD_SQLITE("/store/migrate-v9-broken", test_migrate_v9_broken);
  ADD("/store/vm/typed", test_vm_typed);
  ADD("/store/vm/nics-json", test_vm_nics_json);
  ADD("/store/vm/domain-xml", test_vm_domain_xml);
  ADD("/store/quota/set", test_quota_set);
  ADD("/store/quota/create", test_quota_create);
  ADD("/store/quota/retry", test_quota_retry);
  ADD("/store/quota/schema", test_quota_schema);
  ADD("/store/token/lifecycle", test_token_lifecycle);
  ADD("/store/user/delete", test_user_delete);
  ADD("/store/ingest", test_ingest);
  ADD("/store/device/typed-address", test_device_typed_address);
  ADD("/store/host-tokens", test_host_tokens);
  ADD("/store/device/nic-fields", test_device_nic_fields);
  ADD("/store/concurrent-writers", test_concurrent_writers);
  ADD("/store/pg-open-errors", test_pg_open_errors);
  ADD_SQLITE("/store/migrate-v12", test_migrate_v12);
#undef ADD
  return g_test_run();
}
