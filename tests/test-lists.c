/* Paged, light lists through the real pcipassd (issue 11): GET /v1/vms and
 * GET /v1/hosts by pages (limit, after, next), their filters and their
 * refusals, what a user sees of them, and `pcipass vm list` / `host list`
 * paging through them. Hosts use libvirt's test driver (test:///default).
 * Many VMs are written into the store while pcipassd is stopped (one
 * INSERT, as failed VMs that the scheduler leaves alone): creating 1,234
 * over the API would test the scheduler, not the lists. */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "pp-test-daemon.h"

#define NIC_TEMPLATE "NAME = nic\nCPU = 1\nMEMORY = 1024\nPCI = [ CLASS = \"0200\" ]\n"
#define PLAIN_TEMPLATE "NAME = plain\nCPU = 0.5\nMEMORY = 512\n"

/* pcipass host create NAME probing @sys, deploying on the test driver;
 * waits until it is monitored. */
static void
add_host(PpTestDaemon *f, const char *name, const char *sys)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", f->probe, sys, name);
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f,
              (const char *const[]){ "host", "create", name, "--probe-command", command,
                                     "--libvirt-uri", "test:///default", NULL },
              &run);
  if (run.status != 0)
    g_error("host create %s: %s", name, run.err);
  json_decref(pp_test_wait_host(f, name, "monitored", 0));
}

/* POST /v1/vms as @token (NULL: root on the socket). Returns: its id. */
static gint64
create_vm_as(PpTestDaemon *f, const char *token, const char *text)
{
  g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, token ? NULL : f->socket, token, "POST", "/v1/vms", dumped, strlen(dumped),
               &reply);
  if (reply.status != 201)
    g_error("POST /v1/vms: %ld %s", reply.status, reply.body->str);
  return json_integer_value(json_object_get(reply.json, "id"));
}

/* GET @path as @token (NULL: root on the socket), asserting 200.
 * Returns: (transfer full). */
static json_t *
get_as(PpTestDaemon *f, const char *token, const char *path)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, token ? NULL : f->socket, token, "GET", path, NULL, 0, &reply);
  if (reply.status != 200)
    g_error("GET %s: %ld %s", path, reply.status, reply.body->str);
  return json_incref(reply.json);
}

/* The ids of a page's @key array. */
static GArray *
page_ids(const json_t *page, const char *key)
{
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  const json_t *item;
  size_t i;

  json_array_foreach(json_object_get(page, key), i, item)
  {
    gint64 id = json_integer_value(json_object_get(item, "id"));

    g_array_append_val(ids, id);
  }
  return ids;
}

/* Every id of @path's pages (@path with its query but not "after") as
 * @token, asserting the pages: ascending ids, no page past @limit, each
 * but the last full, "next" the last id of its page and null on the last.
 * @between (nullable) runs after the first page. */
static GArray *
all_pages(PpTestDaemon *f, const char *token, const char *path, const char *key, guint limit,
          guint *ret_pages, void (*between)(PpTestDaemon *f))
{
  GArray *all = g_array_new(FALSE, FALSE, sizeof(gint64));
  gint64 after = 0;
  guint pages = 0;

  for (;;) {
    g_autofree char *page_path = g_strdup_printf("%s%slimit=%u&after=%" G_GINT64_FORMAT, path,
                                                 strchr(path, '?') ? "&" : "?", limit, after);
    g_autoptr(json_t) page = get_as(f, token, page_path);
    g_autoptr(GArray) ids = page_ids(page, key);
    const json_t *next = json_object_get(page, "next");

    pages++;
    g_assert_cmpuint(ids->len, <=, limit);
    for (guint i = 0; i < ids->len; i++) {
      gint64 id = g_array_index(ids, gint64, i);

      if (all->len > 0)
        g_assert_cmpint(id, >, g_array_index(all, gint64, all->len - 1));
      g_array_append_val(all, id);
    }
    if (json_is_null(next))
      break;
    g_assert_true(json_is_integer(next));
    g_assert_cmpuint(ids->len, ==, limit);
    g_assert_cmpint(json_integer_value(next), ==, g_array_index(ids, gint64, ids->len - 1));
    after = json_integer_value(next);
    if (pages == 1 && between != NULL)
      between(f);
    g_assert_cmpuint(pages, <, 1000);
  }
  *ret_pages = pages;
  return all;
}

/* Writes @n failed VMs of user @owner (a name) into pcipassd's store,
 * pcipassd stopped, then starts it again. */
static void
bulk_vms(PpTestDaemon *f, const char *owner, guint n)
{
  g_autofree char *db_path = g_build_filename(f->state, "pcipass.db", NULL);
  g_autofree char *sql = g_strdup_printf(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %u) "
      "INSERT INTO vms (name, owner_id, state, reason, template, cpu, memory_kib, created, "
      "updated) "
      "SELECT 'bulk-' || i, (SELECT id FROM users WHERE name = '%s'), 'failed', "
      "'written by test-lists', 'NAME = x', 100, 1048576, 1000, 1000 FROM n",
      n, owner);
  sqlite3 *db = NULL;

  /* root is made at its first request. */
  json_decref(get_as(f, NULL, "/v1/whoami"));
  pp_test_daemon_stop(f);
  g_assert_cmpint(sqlite3_open(db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_changes(db), ==, (int)n);
  sqlite3_close(db);
  pp_test_daemon_start(f, NULL);
}

static void
create_one_plain(PpTestDaemon *f)
{
  create_vm_as(f, NULL, PLAIN_TEMPLATE);
}

/* 250 VMs paged by 100: 3 pages, none twice, none missing, in order,
 * next null on the last; a VM made between two pages shows up on a later
 * one; the rows are light. */
static void
test_vm_pages(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) again = NULL;
  g_autoptr(json_t) first = NULL;
  guint pages = 0;
  gint64 made;

  pp_test_daemon_start(f, NULL);
  bulk_vms(f, "root", 250);
  ids = all_pages(f, NULL, "/v1/vms", "vms", 100, &pages, NULL);
  g_assert_cmpuint(pages, ==, 3);
  g_assert_cmpuint(ids->len, ==, 250);
  for (guint i = 0; i < ids->len; i++)
    g_assert_cmpint(g_array_index(ids, gint64, i), ==, (gint64)i + 1);

  /* Made after the first page was read: on a later one. */
  again = all_pages(f, NULL, "/v1/vms", "vms", 100, &pages, create_one_plain);
  g_assert_cmpuint(again->len, ==, 251);
  made = g_array_index(again, gint64, 250);
  g_assert_cmpint(made, ==, 251);

  /* The default page is 100; a row carries no template, domain or
   * explanation. */
  first = get_as(f, NULL, "/v1/vms");
  g_assert_cmpuint(json_array_size(json_object_get(first, "vms")), ==, 100);
  g_assert_cmpint(json_integer_value(json_object_get(first, "next")), ==, 100);
  {
    json_t *row = json_array_get(json_object_get(first, "vms"), 0);

    g_assert_cmpstr(json_string_value(json_object_get(row, "state")), ==, "failed");
    g_assert_cmpstr(json_string_value(json_object_get(row, "reason")), ==, "written by test-lists");
    g_assert_cmpstr(json_string_value(json_object_get(row, "owner")), ==, "root");
    g_assert_cmpint(json_integer_value(json_object_get(row, "devices_held")), ==, 0);
    g_assert_true(json_is_null(json_object_get(row, "summary")));
    g_assert_null(json_object_get(row, "template"));
    g_assert_null(json_object_get(row, "domain_xml"));
    g_assert_null(json_object_get(row, "explanation"));
    g_assert_null(json_object_get(row, "devices"));
  }
  /* A page as large as allowed; past the last id, an empty last page. */
  {
    g_autoptr(json_t) big = get_as(f, NULL, "/v1/vms?limit=1000");
    g_autoptr(json_t) past = get_as(f, NULL, "/v1/vms?after=251");

    g_assert_cmpuint(json_array_size(json_object_get(big, "vms")), ==, 251);
    g_assert_true(json_is_null(json_object_get(big, "next")));
    g_assert_cmpuint(json_array_size(json_object_get(past, "vms")), ==, 0);
    g_assert_true(json_is_null(json_object_get(past, "next")));
  }
  pp_test_daemon_stop(f);
}

/* Filters: state (one or several), host (id or name), owner; hosts by
 * state. Running VMs on a real host (the test driver), a pending one
 * explained: its summary a line. */
static void
test_filters(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autoptr(GArray) ids = NULL;
  gint64 nics[5];
  guint pages = 0;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0]);
  add_host(f, "node-b", f->trees[0]);
  {
    g_auto(PpTestRun) run = { 0 };

    pp_test_cli(f, (const char *const[]){ "host", "disable", "node-b", NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
  }
  alice = pp_test_add_user(f, "alice");
  /* node-a has 4 NICs: four run, the fifth pends. */
  for (guint i = 0; i < G_N_ELEMENTS(nics); i++)
    nics[i] = create_vm_as(f, i % 2 ? alice : NULL, NIC_TEMPLATE);
  for (guint i = 0; i < 4; i++)
    json_decref(pp_test_wait_vm(f, nics[i], "running"));
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
    g_autoptr(json_t) pending = get_as(f, NULL, "/v1/vms?state=pending");
    json_t *row = json_array_get(json_object_get(pending, "vms"), 0);
    const char *summary = json_string_value(json_object_get(row, "summary"));

    if (summary != NULL) {
      g_test_message("summary: %s", summary);
      g_assert_cmpint(json_integer_value(json_object_get(row, "id")), ==, nics[4]);
      g_assert_nonnull(strstr(summary, "node-a: "));
      g_assert_nonnull(strstr(summary, "held by VM"));
      g_assert_null(strchr(summary, '\n'));
      g_assert_cmpint(g_utf8_strlen(summary, -1), <=, 160);
      break;
    }
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(100000);
  }

  /* A user's summary: "held by another VM" for root's, never their ids. */
  {
    gint64 hers = create_vm_as(f, alice, NIC_TEMPLATE);

    for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
      g_autoptr(json_t) pending = get_as(f, alice, "/v1/vms?state=pending");
      json_t *row = json_array_get(json_object_get(pending, "vms"), 0);
      const char *summary = json_string_value(json_object_get(row, "summary"));

      g_assert_cmpuint(json_array_size(json_object_get(pending, "vms")), ==, 1);
      if (summary != NULL) {
        g_autofree char *root_1 = g_strdup_printf("held by VM %" G_GINT64_FORMAT ",", nics[0]);
        g_autofree char *root_3 = g_strdup_printf("held by VM %" G_GINT64_FORMAT ",", nics[2]);

        g_test_message("alice's summary: %s", summary);
        g_assert_cmpint(json_integer_value(json_object_get(row, "id")), ==, hers);
        g_assert_nonnull(strstr(summary, "held by another VM"));
        g_assert_null(strstr(summary, root_1));
        g_assert_null(strstr(summary, root_3));
        break;
      }
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_usleep(100000);
    }
  }

  ids = all_pages(f, NULL, "/v1/vms?state=running", "vms", 3, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 4);
  g_assert_cmpuint(pages, ==, 2);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?state=pending,running", "vms", 2, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 6);
  g_assert_cmpuint(pages, ==, 3);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?host=node-a", "vms", 100, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 4);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?host=1&state=running&owner=alice", "vms", 1, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 2);
  g_assert_cmpint(g_array_index(ids, gint64, 0), ==, nics[1]);
  g_assert_cmpint(g_array_index(ids, gint64, 1), ==, nics[3]);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?host=node-b", "vms", 100, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 0);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?state=done", "vms", 100, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 0);
  g_clear_pointer(&ids, g_array_unref);
  {
    g_autoptr(json_t) page = get_as(f, NULL, "/v1/vms?host=node-a&limit=1");
    json_t *row = json_array_get(json_object_get(page, "vms"), 0);

    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(row, "host"), "name")), ==,
                    "node-a");
    g_assert_cmpint(json_integer_value(json_object_get(row, "devices_held")), ==, 1);
  }

  /* Hosts by state. */
  ids = all_pages(f, NULL, "/v1/hosts?state=disabled", "hosts", 10, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 1);
  g_assert_cmpint(g_array_index(ids, gint64, 0), ==, 2);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/hosts", "hosts", 1, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 2);
  g_assert_cmpuint(pages, ==, 2);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/hosts?state=monitored,init,error", "hosts", 10, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 1);
  pp_test_daemon_stop(f);
}

/* Each bad parameter is 400 (403 for another's VMs), its message naming
 * the parameter, the value and what is accepted; nothing changes. */
static void
test_refusals(PpTestDaemon *f, gconstpointer data)
{
  static const struct {
    const char *path;
    long status;
    const char *words[3];
  } cases[] = {
    { "/v1/vms?limit=0", 400, { "'limit'", "'0'", "from 1 to 1000" } },
    { "/v1/vms?limit=abc", 400, { "'limit'", "'abc'", "from 1 to 1000" } },
    { "/v1/vms?limit=5000", 400, { "'limit'", "'5000'", "from 1 to 1000" } },
    { "/v1/vms?limit=-1", 400, { "'limit'", "'-1'", "from 1 to 1000" } },
    { "/v1/vms?limit=%2B5", 400, { "'limit'", "'+5'", "from 1 to 1000" } },
    { "/v1/vms?after=-1", 400, { "'after'", "'-1'", "'next' of the page before" } },
    { "/v1/vms?after=x", 400, { "'after'", "'x'", "an id, 0 or more" } },
    { "/v1/vms?after=99999999999999999999", 400, { "'after'", "'99999999999999999999'", "id" } },
    { "/v1/vms?state=bogus", 400, { "'state'", "'bogus'", "pending, deploying, running" } },
    { "/v1/vms?state=running,", 400, { "'state'", "'running,'", "separated by commas" } },
    { "/v1/vms?state=", 400, { "'state'", "''", "one or more of" } },
    { "/v1/vms?colour=red", 400, { "'colour'", "limit, after, state, host, owner, all", NULL } },
    { "/v1/vms?limit=5&limit=6", 400, { "'limit'", "twice", NULL } },
    { "/v1/vms?limit", 400, { "'limit'", "no value", NULL } },
    { "/v1/vms?host=nowhere", 400, { "'host'", "'nowhere'", "id or name" } },
    { "/v1/vms?owner=nobody", 400, { "'owner'", "'nobody'", "user's name" } },
    { "/v1/vms?all=2", 400, { "'all'", "'2'", "0 or 1" } },
    { "/v1/hosts?state=running", 400, { "'state'", "'running'", "init, monitored, error" } },
    { "/v1/hosts?owner=root", 400, { "'owner'", "limit, after, state", NULL } },
    { "/v1/hosts?limit=1001", 400, { "'limit'", "'1001'", "from 1 to 1000" } },
  };
  g_autofree char *alice = NULL;
  g_autoptr(json_t) before = NULL;
  g_autoptr(json_t) hosts_before = NULL;
  g_autoptr(json_t) after = NULL;
  g_autoptr(json_t) hosts_after = NULL;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  create_vm_as(f, alice, PLAIN_TEMPLATE);
  create_vm_as(f, NULL, PLAIN_TEMPLATE);
  /* Both explained (no host to try): the scheduler changes them no more. */
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
    g_autoptr(json_t) vms = get_as(f, NULL, "/v1/vms?all=1");
    json_t *vm;
    size_t i;
    guint explained = 0;

    json_array_foreach(json_object_get(vms, "vms"), i, vm)
    {
      if (json_is_string(json_object_get(vm, "summary")))
        explained++;
    }
    if (explained == 2)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
  before = get_as(f, NULL, "/v1/vms?all=1");
  hosts_before = get_as(f, NULL, "/v1/hosts");
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_auto(PpTestReply) reply = { 0 };
    const char *message;

    pp_test_http(f, f->socket, NULL, "GET", cases[i].path, NULL, 0, &reply);
    message = pp_test_error_message(&reply, cases[i].status);
    g_test_message("%s: %s", cases[i].path, message);
    for (guint w = 0; w < G_N_ELEMENTS(cases[i].words) && cases[i].words[w] != NULL; w++)
      g_assert_nonnull(strstr(message, cases[i].words[w]));
  }
  /* A user: another's VMs are refused, their own given. */
  {
    g_auto(PpTestReply) reply = { 0 };
    g_autoptr(json_t) own = get_as(f, alice, "/v1/vms?owner=alice");

    pp_test_http(f, NULL, alice, "GET", "/v1/vms?owner=root", NULL, 0, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 403), "only your own VMs ('alice')"));
    pp_test_reply_clear(&reply);
    pp_test_http(f, NULL, alice, "GET", "/v1/vms?owner=nobody", NULL, 0, &reply);
    pp_test_error_message(&reply, 403);
    g_assert_cmpuint(json_array_size(json_object_get(own, "vms")), ==, 1);
  }
  after = get_as(f, NULL, "/v1/vms?all=1");
  hosts_after = get_as(f, NULL, "/v1/hosts");
  g_assert_true(json_equal(before, after));
  g_assert_true(json_equal(hosts_before, hosts_after));
  pp_test_daemon_stop(f);
}

/* A user pages through their own VMs only, the admin's hidden; an admin
 * may ask for one owner's. */
static void
test_user_sight(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autoptr(GArray) mine = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) ids = NULL;
  guint pages = 0;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  for (guint i = 0; i < 9; i++) {
    gint64 id = create_vm_as(f, i % 3 == 0 ? alice : NULL, PLAIN_TEMPLATE);

    if (i % 3 == 0)
      g_array_append_val(mine, id);
  }
  ids = all_pages(f, alice, "/v1/vms", "vms", 2, &pages, NULL);
  g_assert_cmpuint(pages, ==, 2);
  g_assert_cmpuint(ids->len, ==, 3);
  for (guint i = 0; i < ids->len; i++)
    g_assert_cmpint(g_array_index(ids, gint64, i), ==, g_array_index(mine, gint64, i));
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, alice, "/v1/vms?owner=alice&state=pending", "vms", 1, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 3);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms?owner=alice", "vms", 100, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 3);
  g_clear_pointer(&ids, g_array_unref);
  ids = all_pages(f, NULL, "/v1/vms", "vms", 4, &pages, NULL);
  g_assert_cmpuint(ids->len, ==, 9);
  g_assert_cmpuint(pages, ==, 3);
  pp_test_daemon_stop(f);
}

/* The offset of @word in the first line of @text that holds it. */
static glong
column_of(const char *line, const char *word)
{
  const char *at = strstr(line, word);

  g_assert_nonnull(at);
  return at - line;
}

/* pcipass vm list pages through 1,234 VMs (pages of 500): every row once,
 * in order, its columns under the header's; --limit stops; --json is one
 * document; filters reach pcipassd; bad ones exit 2. */
static void
test_cli_paging(PpTestDaemon *f, gconstpointer data)
{
  g_auto(PpTestRun) run = { 0 };
  g_auto(GStrv) lines = NULL;
  glong state_at, host_at;

  pp_test_daemon_start(f, NULL);
  bulk_vms(f, "root", 1234);

  pp_test_cli(f, (const char *const[]){ "vm", "list", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  lines = g_strsplit(run.out, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 1 + 1234 + 1); /* header, rows, "" */
  state_at = column_of(lines[0], "STATE");
  host_at = column_of(lines[0], "HOST");
  for (guint i = 1; i <= 1234; i++) {
    g_autofree char *id = g_strdup_printf("%u", i);
    g_auto(GStrv) words = g_strsplit_set(lines[i], " ", -1);
    guint w = 0;

    while (words[w][0] == '\0')
      w++;
    g_assert_cmpstr(words[w], ==, id);
    /* Fixed widths: each page's rows under the first page's header. */
    g_assert_cmpint(column_of(lines[i], "failed"), ==, state_at);
    g_assert_cmpint(lines[i][host_at], ==, '-');
  }
  pp_test_run_clear(&run);

  /* --limit: 700 rows (test-cli /cli/fake/list-pages sees the pages asked). */
  pp_test_cli(f, (const char *const[]){ "vm", "list", "--limit", "700", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpuint(pp_test_count(run.out, "\n"), ==, 701);
  g_assert_nonnull(strstr(run.out, "\n    700 bulk-700 "));
  g_assert_null(strstr(run.out, " bulk-701 "));
  pp_test_run_clear(&run);

  /* --json: one document, every VM. */
  {
    g_autoptr(json_t) all = pp_test_cli_json(f, (const char *const[]){ "vm", "list", NULL });
    g_autoptr(json_t) some =
        pp_test_cli_json(f, (const char *const[]){ "vm", "list", "--limit", "3", NULL });

    g_assert_cmpuint(json_array_size(json_object_get(all, "vms")), ==, 1234);
    g_assert_cmpint(json_integer_value(
                        json_object_get(json_array_get(json_object_get(all, "vms"), 1233), "id")),
                    ==, 1234);
    g_assert_cmpuint(json_array_size(json_object_get(some, "vms")), ==, 3);
    g_assert_null(json_object_get(all, "next"));
  }

  /* Filters. */
  pp_test_cli(f, (const char *const[]){ "vm", "list", "--state", "pending", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID NAME OWNER STATE HOST CPU MEMORY PCI AGE\n");
  pp_test_run_clear(&run);
  pp_test_cli(f,
              (const char *const[]){ "vm", "list", "--state", "failed", "--owner", "root",
                                     "--limit", "2", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpuint(pp_test_count(run.out, "\n"), ==, 3);
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "vm", "list", "--state", "bogus", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "'bogus' is not a VM state"));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "vm", "list", "--host", "nowhere", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "no host 'nowhere'"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "vm", "list", "--limit", "0", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--limit 0: give 1 or more VMs"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "list", "--state", "nope", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "'nope' is not a host state"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "list", "--state", "init", "--limit", "1", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ID NAME STATE PCI MONITORED\n");
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, fn)                                                                              \
  g_test_add(path, PpTestDaemon, NULL, pp_test_daemon_set_up, fn, pp_test_daemon_tear_down)
  ADD("/lists/vm-pages", test_vm_pages);
  ADD("/lists/filters", test_filters);
  ADD("/lists/refusals", test_refusals);
  ADD("/lists/user-sight", test_user_sight);
  ADD("/lists/cli-paging", test_cli_paging);
#undef ADD
  return g_test_run();
}
