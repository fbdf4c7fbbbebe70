/* libFuzzer target: the JSON bodies of every route, through pcipassd's API
 * handler (pp_api_handle) without sockets. Each input is a few requests
 * made on a fresh store in memory, seeded as a small cluster is: users
 * root (admin), alice and bob with tokens, a host monitored from a real
 * probe report (tests/fuzz/corpus/probe-report, the ghw laptop: IOMMU
 * groups, needed devices), a host over ssh, VMs of alice and bob, quotas
 * of alice, and an image folder (a disk, a kernel and an initrd). An input
 * reads
 *
 *   WHO METHOD PATH[?QUERY]
 *   BODY
 *   %%
 *   WHO METHOD PATH
 *   ...
 *
 * WHO: admin (the Unix socket, as root), alice or bob (TCP, their
 * tokens), stranger (a token nobody has), anon (TCP, no token). Each
 * request goes as pcipassd takes it: pp_api_admit on its head (an answer
 * there ends it), a body over what admit allows is 413, then
 * pp_api_handle. After every request: the answer is JSON with a status the
 * API documents, an error is {"error": {"code": STATUS, "message": "..."}}
 * and changed nothing in the store, a user sees no one else's VMs or
 * tokens and no host's probe command, ssh target or libvirt URI, and the
 * store's invariants hold. The deployer's libvirt calls are not reached:
 * no VM is ever placed (the scheduler's passes run on the main loop, which
 * is not run here). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-db-sqlite.h"
#include "pp-deployer.h"
#include "pp-http-priv.h"
#include "pp-images.h"
#include "pp-probe-report.h"
#include "pp-scheduler.h"
#include "pp-store-priv.h"
#include "pp-web-resources.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-api: " __VA_ARGS__);                                                   \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* Requests read from one input, at most. */
#define MAX_REQUESTS 8
#define ALICE_TOKEN "pp_alice_secret"
#define BOB_TOKEN "pp_bob_secret"
/* What pp-http answers to a body over what admit allows. */
#define TOO_LARGE "{\"error\": {\"code\": 413, \"message\": \"request body too large\"}}"
/* The probe's real output on ghw's laptop capture (23 devices). */
#define REPORT_FILE                                                                                \
  PP_FUZZ_CORPUS "/probe-report/probe-linux-amd64-415ee03b8c4d1c4f07ae2e9d8b3d3d6d"

typedef struct {
  PpStore *store;
  PpScheduler *scheduler;
  PpApiContext ctx;
  /* The store as the last request that changed it left it
   * (store_snapshot()), to compare with after an error. */
  char *snapshot;
} Cluster;

static PpDeployer *deployer;
/* The seeded store, made once: a fresh copy of it per input is much
 * cheaper than migrating and seeding a new one. */
static char *golden_dir;
static char *golden_path;
static char *input_path;
static char *golden_data;
static gsize golden_len;
static char *golden_snapshot;
static char *images_dir;
static PpImages *images;

/* Warnings and criticals (a 500 is logged as a warning) are printed, and
 * abort: g_log_set_always_fatal(); what the API tells of its work is
 * dropped. */
static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_standard_streams(level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
ok_or_die(gboolean ok, GError *error)
{
  if (!ok)
    g_error("seeding the store: %s", error->message);
}

/* A VM as the API makes one: its template parsed and stored typed. */
static gint64
add_vm(PpStore *store, gint64 owner, const char *name, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVmSpec) spec = pp_vm_template_parse(text, strlen(text), &error);
  g_autoptr(PpVm) vm = NULL;

  ok_or_die(spec != NULL, error);
  vm = pp_store_vm_create_spec(store, owner, text, spec, 1700000000, &error);
  ok_or_die(vm != NULL, error);
  g_assert_cmpstr(vm->name, ==, name);
  return vm->id;
}

static void
seed(PpStore *store, const PpProbeReport *report)
{
  static const char *const node2_probe[] = { "pcipass-probe", "--all", NULL };
  PpHttpPeer root = { .is_unix = TRUE, .uid = geteuid(), .gid = getegid(), .remote = "unix" };
  PpHostSpec node1 = { .name = "node1", .libvirt_uri = "test:///default" };
  PpHostSpec node2 = { .name = "node2",
                       .ssh_user = "root",
                       .ssh_host = "node2.example.org",
                       .ssh_port = 2222,
                       .probe_command = node2_probe,
                       .prebound = TRUE };
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) admin = NULL;
  g_autoptr(PpUser) alice = NULL;
  g_autoptr(PpUser) bob = NULL;
  g_autoptr(PpHost) host1 = NULL;
  g_autoptr(PpHost) host2 = NULL;
  g_autoptr(PpToken) t1 = NULL;
  g_autoptr(PpToken) t2 = NULL;
  g_autoptr(PpToken) t3 = NULL;
  g_autoptr(PpQuota) quota = NULL;
  const PpQuotaClass gpus = { .class_code = 0x0300, .limit = 1 };
  const PpQuotaUpdate limits = { .set_vms = TRUE,
                                 .vms = 5,
                                 .set_memory = TRUE,
                                 .memory_kib = 8 * 1024 * 1024,
                                 .set_pci = TRUE,
                                 .pci = 4,
                                 .classes = &gpus,
                                 .n_classes = 1 };
  g_autofree char *h1 = pp_auth_token_hash(ALICE_TOKEN);
  g_autofree char *h2 = pp_auth_token_hash(BOB_TOKEN);
  g_autofree char *h3 = pp_auth_token_hash("pp_alice_expired");
  gint64 failed, done;

  /* root, as the socket's first admin request makes it. */
  admin = pp_auth_authenticate(store, &root, NULL, 1700000000, &error);
  ok_or_die(admin != NULL, error);
  alice = pp_store_user_create(store, "alice", FALSE, 1700000000, &error);
  ok_or_die(alice != NULL, error);
  bob = pp_store_user_create(store, "bob", FALSE, 1700000000, &error);
  ok_or_die(bob != NULL, error);
  t1 = pp_store_token_create(store, alice->id, "laptop", h1, 1700000000, 0, &error);
  ok_or_die(t1 != NULL, error);
  t2 = pp_store_token_create(store, bob->id, NULL, h2, 1700000000, 0, &error);
  ok_or_die(t2 != NULL, error);
  /* One that expired, for token delete and list. */
  t3 = pp_store_token_create(store, alice->id, "old", h3, 1600000000, 1650000000, &error);
  ok_or_die(t3 != NULL, error);
  quota = pp_store_user_set_quota(store, alice->id, &limits, &error);
  ok_or_die(quota != NULL, error);
  host1 = pp_store_host_create(store, &node1, 1700000000, &error);
  ok_or_die(host1 != NULL, error);
  ok_or_die(pp_store_host_reconcile(store, host1->id, report, 1700000000, NULL, &error), error);
  ok_or_die(pp_store_host_allow(store, host1->id, "0000:00:02.0", "root", 1700000000, &error),
            error);
  host2 = pp_store_host_create(store, &node2, 1700000000, &error);
  ok_or_die(host2 != NULL, error);

  add_vm(store, alice->id, "web",
         "NAME = web\nCPU = 1\nMEMORY = 512\nPCI = [ CLASS = \"0c03\" ]\n");
  failed =
      add_vm(store, alice->id, "gpu", "NAME = gpu\nMEMORY = 512\nPCI = [ CLASS = \"0300\" ]\n");
  ok_or_die(
      pp_store_vm_release(store, failed, PP_VM_STATE_FAILED, "no host fits", 1700000001, &error),
      error);
  add_vm(store, bob->id, "db", "NAME = db\nMEMORY = 512\n");
  done = add_vm(store, alice->id, "old", "NAME = old\nMEMORY = 512\n");
  ok_or_die(pp_store_vm_release(store, done, PP_VM_STATE_DONE, "terminated", 1700000002, &error),
            error);
}

static void
remove_store_files(const char *path)
{
  g_autofree char *wal = g_strconcat(path, "-wal", NULL);
  g_autofree char *shm = g_strconcat(path, "-shm", NULL);

  unlink(path);
  unlink(wal);
  unlink(shm);
}

static void
remove_golden(void)
{
  remove_store_files(golden_path);
  remove_store_files(input_path);
  if (images_dir != NULL) {
    static const char *const files[] = { "debian12.raw", "vmlinuz-6.1", "initrd.img" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
      g_autofree char *path = g_build_filename(images_dir, files[i], NULL);

      unlink(path);
    }
    rmdir(images_dir);
  }
  rmdir(golden_dir);
}

static void
init_once(void)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autoptr(PpStore) store = NULL;
  const char *shm = "/dev/shm";
  gsize len = 0;

  if (golden_data != NULL)
    return;
  g_log_set_writer_func(log_writer, NULL, NULL);
  g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  if (!g_file_get_contents(REPORT_FILE, &text, &len, &error))
    g_error("%s", error->message);
  report = pp_probe_report_parse(text, len, &error);
  g_assert_no_error(error);

  /* In memory where the system has a tmpfs for it. */
  golden_dir =
      g_build_filename(access(shm, W_OK) == 0 ? shm : g_get_tmp_dir(), "pp-fuzz-api-XXXXXX", NULL);
  if (g_mkdtemp(golden_dir) == NULL)
    g_error("cannot make '%s'", golden_dir);
  golden_path = g_build_filename(golden_dir, "golden.db", NULL);
  input_path = g_build_filename(golden_dir, "input.db", NULL);
  atexit(remove_golden);
  images_dir = g_build_filename(golden_dir, "images", NULL);
  if (mkdir(images_dir, 0755) != 0)
    g_error("cannot make '%s'", images_dir);
  {
    static const char *const files[] = { "debian12.raw", "vmlinuz-6.1", "initrd.img" };
    const char *dirs[] = { images_dir, NULL };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
      g_autofree char *path = g_build_filename(images_dir, files[i], NULL);

      if (!g_file_set_contents(path, "not a real disk\n", -1, &error))
        g_error("%s", error->message);
    }
    images = pp_images_new(dirs);
  }
  store = pp_store_open(golden_path, &error);
  ok_or_die(store != NULL, error);
  seed(store, report);
  g_clear_pointer(&store, pp_store_free);
  if (!g_file_get_contents(golden_path, &golden_data, &golden_len, &error))
    g_error("%s", error->message);
  /* Never called: no VM is placed. One for the process. */
  deployer = pp_deployer_new("fuzz-api", NULL, NULL);
}

static char *store_snapshot(PpStore *store);
static void check_invariants(PpStore *store);

static void
cluster_open(Cluster *c)
{
  PpSchedulerConfig sched_config = { .interval_s = 3600,
                                     .policy = PP_PLACE_POLICY_PACK,
                                     .deploy_tries = 3 };
  g_autoptr(GError) error = NULL;

  remove_store_files(input_path);
  if (!g_file_set_contents(input_path, golden_data, (gssize)golden_len, &error))
    g_error("%s", error->message);
  c->store = pp_store_open(input_path, &error);
  ok_or_die(c->store != NULL, error);
  c->scheduler = pp_scheduler_new(c->store, deployer, &sched_config);
  c->ctx = (PpApiContext){
    .store = c->store, .scheduler = c->scheduler, .images = images, .started = 1700000000
  };
  if (golden_snapshot == NULL) {
    golden_snapshot = store_snapshot(c->store);
    check_invariants(c->store);
  }
  c->snapshot = g_strdup(golden_snapshot);
}

static void
cluster_free(Cluster *c)
{
  g_clear_pointer(&c->snapshot, g_free);
  g_clear_pointer(&c->scheduler, pp_scheduler_free);
  g_clear_pointer(&c->store, pp_store_free);
  remove_store_files(input_path);
}

/* ---- the store ---------------------------------------------------------- */

static gint64
sql_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  CHECK(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
        sqlite3_errmsg(db));
  CHECK(sqlite3_step(stmt) == SQLITE_ROW, "%s", sql);
  value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

/* Every row of every table, but when tokens were last used (each request
 * with a token sets it). */
static char *
store_snapshot(PpStore *store)
{
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(store));
  g_autoptr(GString) out = g_string_new(NULL);
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func(g_free);
  sqlite3_stmt *stmt = NULL;

  CHECK(sqlite3_prepare_v2(db,
                           "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                           "'sqlite_%' ORDER BY name",
                           -1, &stmt, NULL) == SQLITE_OK,
        "listing tables");
  while (sqlite3_step(stmt) == SQLITE_ROW)
    g_ptr_array_add(tables, g_strdup((const char *)sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  for (guint t = 0; t < tables->len; t++) {
    g_autofree char *sql =
        g_strdup_printf("SELECT * FROM \"%s\" ORDER BY 1", (char *)g_ptr_array_index(tables, t));

    CHECK(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s", sql);
    g_string_append_printf(out, "[%s]\n", (char *)g_ptr_array_index(tables, t));
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(stmt); i++) {
        const char *text = (const char *)sqlite3_column_text(stmt, i);

        if (strcmp(sqlite3_column_name(stmt, i), "last_used") == 0)
          continue;
        g_string_append_printf(out, "%s=%s|", sqlite3_column_name(stmt, i), text ? text : "NULL");
      }
      g_string_append_c(out, '\n');
    }
    sqlite3_finalize(stmt);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* What tests/test-kill.c checks after every kill, that applies here. */
static void
check_invariants(PpStore *store)
{
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(store));
  sqlite3_stmt *stmt = NULL;

  CHECK(sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &stmt, NULL) == SQLITE_OK, "fk");
  CHECK(sqlite3_step(stmt) == SQLITE_DONE, "a foreign key is broken");
  sqlite3_finalize(stmt);
  CHECK(sql_int(db, "SELECT count(*) FROM pci_device d JOIN vms v ON v.id = d.vm_id "
                    "WHERE v.state IN ('pending', 'done')") == 0,
        "a device held by a pending or done VM");
  CHECK(sql_int(db, "SELECT count(*) FROM pci_device d JOIN vms v ON v.id = d.vm_id "
                    "WHERE v.host_id IS NOT d.host_id") == 0,
        "a device held by a VM not on its host");
  CHECK(sql_int(db, "SELECT count(*) FROM vms v WHERE NOT EXISTS "
                    "(SELECT 1 FROM vm_history h WHERE h.vm_id = v.id)") == 0,
        "a VM without a history");
  CHECK(sql_int(db, "SELECT count(*) FROM vms v WHERE v.state <> (SELECT h.to_state FROM "
                    "vm_history h WHERE h.vm_id = v.id ORDER BY h.id DESC LIMIT 1)") == 0,
        "a VM whose last change is not its state");
  CHECK(sql_int(db, "SELECT count(*) FROM users WHERE name = 'root' AND admin") == 1,
        "root is not the admin any more");
}

/* ---- the answers -------------------------------------------------------- */

/* A user sees only their own VMs and tokens, and nothing of how hosts are
 * reached (the seeded ones: node1 by test:///default, node2 by ssh as
 * root@node2.example.org): no key that says it, and no text that holds
 * one of them. Names (@key "name", "host") and templates are the users'
 * own words: the fuzzer names a host node2.example.org, or writes
 * test:///default in a template, and that is no leak. */
static void
check_sees_own(const json_t *json, const char *name, const char *key)
{
  /* Neither can be in a name ([A-Za-z0-9._-]); node2's probe command is
   * only in its key. */
  static const char *const hidden[] = { "test:///default", "@node2.example.org" };
  static const char *const hidden_keys[] = { "ssh", "libvirt_uri", "probe_command" };
  static const char *const own_words[] = { "name", "host", "template" };
  const char *child;
  json_t *value;
  size_t i;

  if (json_is_array(json)) {
    json_array_foreach((json_t *)json, i, value) check_sees_own(value, name, key);
    return;
  }
  if (json_is_string(json)) {
    for (guint w = 0; key != NULL && w < G_N_ELEMENTS(own_words); w++)
      if (strcmp(key, own_words[w]) == 0)
        return;
    for (guint h = 0; h < G_N_ELEMENTS(hidden); h++)
      CHECK(strstr(json_string_value(json), hidden[h]) == NULL, "%s sees '%s' (in \"%s\")", name,
            hidden[h], key != NULL ? key : "");
    return;
  }
  if (!json_is_object(json))
    return;
  for (guint k = 0; k < G_N_ELEMENTS(hidden_keys); k++)
    CHECK(json_object_get(json, hidden_keys[k]) == NULL, "%s sees a host's \"%s\"", name,
          hidden_keys[k]);
  value = json_object_get(json, "owner");
  if (json_is_string(value))
    CHECK(strcmp(json_string_value(value), name) == 0, "%s sees a VM of %s", name,
          json_string_value(value));
  /* A TOKEN: {"id", "user", "name", "created", "last_used"}. */
  value = json_object_get(json, "user");
  if (json_is_string(value) && json_object_get(json, "last_used") != NULL)
    CHECK(strcmp(json_string_value(value), name) == 0, "%s sees a token of %s", name,
          json_string_value(value));
  json_object_foreach((json_t *)json, child, value) check_sees_own(value, name, child);
}

static void
check_answer(const char *method, const char *path, guint status, const char *type, GBytes *body,
             const char *who)
{
  static const guint statuses[] = { 200, 201, 202, 204, 400, 401, 403, 404, 405, 409, 413 };
  g_autoptr(json_t) json = NULL;
  gsize len = 0;
  const char *text;
  gboolean known = FALSE;
  json_error_t jerr;

  CHECK(body != NULL, "%s %s: no body", method, path);
  text = g_bytes_get_data(body, &len);
  for (guint i = 0; i < G_N_ELEMENTS(statuses); i++)
    known |= status == statuses[i];
  CHECK(known, "%s %s: status %u: %.*s", method, path, status, (int)len, text);
  if (status == 200 && strcmp(path, "/metrics") == 0 && strcmp(method, "GET") == 0) {
    CHECK(g_str_has_prefix(type, "text/plain"), "/metrics is %s", type);
    return;
  }
  /* Outside /v1, a GET is answered with one of the web UI's files ("/":
   * index.html), byte for byte, whoever asks; anything else is a JSON
   * error. */
  if (status == 200 && strcmp(method, "GET") == 0 && !g_str_has_prefix(path, "/v1/") &&
      strcmp(path, "/metrics") != 0) {
    g_autofree char *name =
        g_strconcat("/org/pcipass/web", strcmp(path, "/") == 0 ? "/index.html" : path, NULL);
    g_autoptr(GBytes) file =
        g_resource_lookup_data(pp_web_get_resource(), name, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);

    CHECK(file != NULL, "GET %s: 200, but the web UI has no %s", path, name);
    CHECK(g_bytes_equal(file, body), "GET %s: 200, but not the web UI's %s", path, name);
    CHECK(strcmp(type, "application/json") != 0 || g_str_has_suffix(name, ".json"),
          "GET %s: %s for %s", path, type, name);
    return;
  }
  CHECK(strcmp(type, "application/json") == 0, "%s %s: %s", method, path, type);
  json = json_loadb(text, len, 0, &jerr);
  CHECK(json_is_object(json), "%s %s: %u, not a JSON object: %.*s", method, path, status, (int)len,
        text);
  if (status >= 400) {
    json_t *error = json_object_get(json, "error");
    json_t *message = json_object_get(error, "message");

    CHECK(json_object_size(json) == 1 && json_is_object(error), "%s %s: %u: %.*s", method, path,
          status, (int)len, text);
    CHECK(json_integer_value(json_object_get(error, "code")) == status, "%s %s: code", method,
          path);
    CHECK(json_is_string(message) && json_string_length(message) > 0, "%s %s: message", method,
          path);
    return;
  }
  if (strcmp(who, "alice") == 0 || strcmp(who, "bob") == 0)
    check_sees_own(json, who, NULL);
}

/* ---- the requests ------------------------------------------------------- */

static void
run_request(Cluster *c, const char *block, gsize len)
{
  const char *eol = memchr(block, '\n', len);
  g_autofree char *line = g_strndup(block, eol ? (gsize)(eol - block) : len);
  g_auto(GStrv) words = g_strsplit(line, " ", 3);
  const char *body = eol ? eol + 1 : block + len;
  gsize body_len = (gsize)(block + len - body);
  const char *who, *method, *target;
  g_autofree char *path = NULL;
  PpHttpPeer peer = { .uid = (uid_t)-1, .gid = (gid_t)-1, .remote = "192.0.2.1:40000" };
  PpHttpRequest *req;
  const char *type = NULL;
  GBytes *answer = NULL;
  guint status = 0;
  const char *query;
  gsize max_body = G_MAXSIZE;
  int changes;

  if (g_strv_length(words) < 3)
    return;
  who = words[0];
  method = words[1];
  target = words[2];
  query = strchr(target, '?');
  path = g_strndup(target, query ? (gsize)(query - target) : strlen(target));
  if (strcmp(who, "admin") == 0) {
    peer.is_unix = TRUE;
    peer.uid = geteuid();
    peer.gid = getegid();
    peer.remote = "unix";
  }
  req = pp_http_test_request_new(method, path, body, body_len, &peer);
  if (body_len > 0) {
    g_autofree char *length = g_strdup_printf("%" G_GSIZE_FORMAT, body_len);

    pp_http_test_request_set_header(req, "Content-Length", length);
  }
  if (strcmp(who, "alice") == 0)
    pp_http_test_request_set_header(req, "Authorization", "Bearer " ALICE_TOKEN);
  else if (strcmp(who, "bob") == 0)
    pp_http_test_request_set_header(req, "Authorization", "Bearer " BOB_TOKEN);
  else if (strcmp(who, "stranger") == 0)
    pp_http_test_request_set_header(req, "authorization", "Bearer pp_nobody");
  if (query != NULL) {
    g_auto(GStrv) pairs = g_strsplit(query + 1, "&", 16);

    for (guint i = 0; pairs[i] != NULL; i++) {
      char *eq = strchr(pairs[i], '=');
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (eq == NULL)
        continue;
      *eq = '\0';
      name = g_uri_unescape_string(pairs[i], NULL);
      value = g_uri_unescape_string(eq + 1, NULL);
      if (name != NULL && value != NULL)
        pp_http_test_request_set_query(req, name, value);
    }
  }

  changes = sqlite3_total_changes(pp_db_sqlite_handle(pp_store_test_get_db(c->store)));
  /* As pp-http.c's on_head() and dispatch(). */
  if (!pp_api_admit(req, &max_body, &status, &type, &answer, &c->ctx)) {
    CHECK(status >= 400, "%s %s: admit refused with %u", method, path, status);
  } else if (body_len > max_body) {
    status = 413;
    type = "application/json";
    answer = g_bytes_new_static(TOO_LARGE, strlen(TOO_LARGE));
  } else {
    pp_api_handle(req, &status, &type, &answer, &c->ctx);
  }
  /* PP_FUZZ_API_TRACE=1: each request and its answer, to see what a
   * corpus file reaches. */
  if (g_getenv("PP_FUZZ_API_TRACE") != NULL)
    fprintf(stderr, "%s %s %s -> %u %.*s\n", who, method, path, status,
            answer != NULL ? (int)MIN(g_bytes_get_size(answer), 160) : 0,
            answer != NULL ? (const char *)g_bytes_get_data(answer, NULL) : "");
  check_answer(method, path, status, type, answer, who);
  /* No row written: nothing changed (most requests, cheaply). Else an
   * error must have changed nothing but when a token was last used. */
  if (sqlite3_total_changes(pp_db_sqlite_handle(pp_store_test_get_db(c->store))) != changes) {
    g_autofree char *after = store_snapshot(c->store);

    if (status >= 400)
      CHECK(strcmp(c->snapshot, after) == 0, "%s %s as %s: %u changed the store:\n%.*s", method,
            path, who, status, (int)g_bytes_get_size(answer),
            (const char *)g_bytes_get_data(answer, NULL));
    check_invariants(c->store);
    g_free(c->snapshot);
    c->snapshot = g_steal_pointer(&after);
  }
  g_bytes_unref(answer);
  pp_http_test_request_free(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  const char *end = text + size;
  Cluster c = { 0 };
  guint n = 0;

  init_once();
  cluster_open(&c);
  while (text < end && n++ < MAX_REQUESTS) {
    const char *sep = g_strstr_len(text, end - text, "\n%%\n");
    const char *block_end = sep ? sep : end;

    run_request(&c, text, (gsize)(block_end - text));
    text = sep ? sep + 4 : end;
  }
  cluster_free(&c);
  return 0;
}
