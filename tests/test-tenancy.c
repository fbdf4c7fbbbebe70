/* Tenancy through the real pcipassd (issue 10, section 3): users' quotas
 * (a create, a failure, a retry, 64 clients racing for the last VM), what
 * a user who is not an admin sees of hosts, devices and other users' VMs
 * (raw HTTP with the user's token, and the real CLI over TCP), tokens that
 * expire or are deleted, users deleted, and a resume refused for a device
 * that is gone. Hosts are the real probe on captured sysfs trees, VMs run
 * on libvirt's real test:/// driver inside pcipassd. Nothing is mocked. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pp-test-daemon.h"

/* Node-a (the 40intel64 capture): 4 BCM5709 NICs 14e4:1639:0200, one
 * Matrox VGA 102b:0532:0300 (the host's console: allowed on purpose
 * below), a MegaRAID 1000:0079:0104. */
#define NIC_TEMPLATE "NAME = nic\nCPU = 1\nMEMORY = 1024\nPCI = [ CLASS = \"0200\" ]\n"
#define VGA_TEMPLATE "NAME = vga\nCPU = 0.5\nMEMORY = 512\nPCI = [ VENDOR = \"102b\" ]\n"
#define PLAIN_TEMPLATE "NAME = plain\nCPU = 0.5\nMEMORY = 512\n"
#define SMALL_NIC_TEMPLATE "CPU = 0.25\nMEMORY = 128\nPCI = [ CLASS = \"0200\" ]\n"

/* What each refusal of a quota ends with. */
#define QUOTA_TAIL(user)                                                                           \
  " (terminate VMs, or ask an administrator to raise it: pcipass user show " user ")"

/* pcipass host create NAME probing @sys with @extra (an option and its
 * value, or NULL), deploying on @uri; waits for @state. */
static void
add_host(PpTestDaemon *f, const char *name, const char *sys, const char *uri, const char *option,
         const char *value, const char *state)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", f->probe, sys, name);
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f,
              (const char *const[]){ "host", "create", name, "--probe-command", command,
                                     "--libvirt-uri", uri, option, value, NULL },
              &run);
  if (run.status != 0)
    g_error("host create %s: %s", name, run.err);
  json_decref(pp_test_wait_host(f, name, state, 0));
}

/* The real CLI over TCP with @token (PCIPASS_TOKEN). */
static void
cli_as(PpTestDaemon *f, const char *token, const char *const *argv, PpTestRun *ret)
{
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u", f->port);
  g_autoptr(GPtrArray) full = g_ptr_array_new();

  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add(full, (gpointer)argv[i]);
  g_ptr_array_add(full, "--url");
  g_ptr_array_add(full, url);
  g_ptr_array_add(full, NULL);
  g_setenv("PCIPASS_TOKEN", token, TRUE);
  pp_test_cli(f, (const char *const *)full->pdata, ret);
  g_unsetenv("PCIPASS_TOKEN");
}

/* POSTs {"template": @text} to /v1/vms with @token over TCP. */
static void
post_vm(PpTestDaemon *f, const char *token, const char *text, PpTestReply *ret)
{
  g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

  pp_test_http(f, NULL, token, "POST", "/v1/vms", dumped, strlen(dumped), ret);
}

/* POST /v1/vms with @token; asserts 201. Returns: the VM's id. */
static gint64
create_vm_as(PpTestDaemon *f, const char *token, const char *text)
{
  g_auto(PpTestReply) reply = { 0 };

  post_vm(f, token, text, &reply);
  if (reply.status != 201)
    g_error("POST /v1/vms: %ld %s", reply.status, reply.body->str);
  return json_integer_value(json_object_get(reply.json, "id"));
}

/* GET @path with @token over TCP (NULL: root on the socket), asserting
 * 200. Returns: (transfer full). */
static json_t *
get_as(PpTestDaemon *f, const char *token, const char *path)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, token ? NULL : f->socket, token, "GET", path, NULL, 0, &reply);
  if (reply.status != 200)
    g_error("GET %s: %ld %s", path, reply.status, reply.body->str);
  return json_incref(reply.json);
}

/* How many VMs @token's user has that are not done. */
static gsize
n_vms(PpTestDaemon *f, const char *token)
{
  g_autoptr(json_t) vms = get_as(f, token, "/v1/vms");

  return json_array_size(json_object_get(vms, "vms"));
}

/* "used" of quota @item of user @name, as root sees it. */
static json_int_t
quota_used(PpTestDaemon *f, const char *name, const char *item)
{
  g_autofree char *path = g_strdup_printf("/v1/users/%s", name);
  g_autoptr(json_t) user = get_as(f, NULL, path);

  return json_integer_value(
      json_object_get(json_object_get(json_object_get(user, "quota"), item), "used"));
}

static void
allow_vga(PpTestDaemon *f, const char *host)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f, (const char *const[]){ "host", "update", host, "--allow-needed", "09:03.0", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
}

/* Quotas through the daemon and the CLI: set by an admin, shown to the
 * user, each kind refusing a create (exit 2, 409, naming the quota,
 * nothing created), freed by a terminate, removed with 'none'; the admin
 * limited only once given one; bad input changing nothing. */
static void
test_quota(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *vga = g_build_filename(f->dir, "vga.tmpl", NULL);
  g_autofree char *plain = g_build_filename(f->dir, "plain.tmpl", NULL);
  g_autoptr(json_t) shown = NULL;
  g_autoptr(json_t) before = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  gint64 nic;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default", NULL, NULL, "monitored");
  allow_vga(f, "node-a");
  alice = pp_test_add_user(f, "alice");
  pp_test_write_file(vga, VGA_TEMPLATE);
  pp_test_write_file(plain, PLAIN_TEMPLATE);

  /* Set by the admin; the CLI prints the user with its quotas. */
  pp_test_cli(f,
              (const char *const[]){ "user", "quota", "alice", "--vms", "2", "--cpu", "1.5",
                                     "--memory", "2048", "--pci", "2", "--pci-class", "0200=1",
                                     "--leases", "3", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "NAME           : alice\n"));
  g_assert_nonnull(strstr(run.out, "\nQUOTA          USED LIMIT\n"
                                   "VMS               0     2\n"
                                   "CPU               0   1.5\n"
                                   "MEMORY (MIB)      0  2048\n"
                                   "PCI DEVICES       0     2\n"
                                   "NETWORK LEASES    0     3\n"
                                   "PCI CLASS 0200    0     1\n"));
  pp_test_run_clear(&run);

  /* A NIC: within every limit. A second: past the limit of its class. */
  nic = create_vm_as(f, alice, NIC_TEMPLATE);
  post_vm(f, alice, SMALL_NIC_TEMPLATE, &reply);
  g_assert_cmpstr(pp_test_error_message(&reply, 409), ==,
                  "user 'alice' would pass a quota: PCI devices of class 0200: 1 of 1 used, this "
                  "VM asks for 1" QUOTA_TAIL("alice"));
  pp_test_reply_clear(&reply);
  /* A request without a CLASS, with a class limit: refused, saying so;
   * through the CLI, exit 2. */
  post_vm(f, alice, VGA_TEMPLATE, &reply);
  g_assert_nonnull(strstr(pp_test_error_message(&reply, 409), "PCI[0] of this VM names no CLASS"));
  pp_test_reply_clear(&reply);
  cli_as(f, alice, (const char *const[]){ "vm", "create", vga, NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "user 'alice' has quotas of PCI devices by class (0200: 1)"));
  pp_test_run_clear(&run);
  g_assert_cmpuint(n_vms(f, alice), ==, 1);

  /* CPU: 1 + 0.5 = 1.5 fits; then VMs: 2 of 2. */
  create_vm_as(f, alice, PLAIN_TEMPLATE);
  cli_as(f, alice, (const char *const[]){ "vm", "create", plain, NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "pcipass: user 'alice' would pass a quota: VMs: 2 of 2 used, "
                                   "this VM asks for 1"));
  pp_test_run_clear(&run);
  g_assert_cmpuint(n_vms(f, alice), ==, 2);

  /* alice sees her own quotas, not another user's. */
  cli_as(f, alice, (const char *const[]){ "user", "show", "alice", "--json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  shown = json_loads(run.out, 0, NULL);
  {
    json_t *quota = json_object_get(shown, "quota");
    json_t *cls = json_array_get(json_object_get(quota, "pci_classes"), 0);

    g_assert_cmpint(json_integer_value(json_object_get(json_object_get(quota, "vms"), "used")), ==,
                    2);
    g_assert_cmpfloat(json_real_value(json_object_get(json_object_get(quota, "cpu"), "used")), ==,
                      1.5);
    g_assert_cmpfloat(json_real_value(json_object_get(json_object_get(quota, "cpu"), "limit")), ==,
                      1.5);
    g_assert_cmpint(
        json_integer_value(json_object_get(json_object_get(quota, "memory_mib"), "used")), ==,
        1536);
    g_assert_cmpint(json_integer_value(json_object_get(json_object_get(quota, "pci"), "used")), ==,
                    1);
    g_assert_cmpstr(json_string_value(json_object_get(cls, "class")), ==, "0200");
    g_assert_cmpint(json_integer_value(json_object_get(cls, "used")), ==, 1);
  }
  pp_test_run_clear(&run);
  cli_as(f, alice, (const char *const[]){ "user", "show", "root", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "no user 'root'"));
  pp_test_run_clear(&run);

  /* Terminated, the NIC's VM leaves the count: another NIC fits. */
  {
    g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/terminate", nic);

    json_decref(pp_test_wait_vm(f, nic, "running"));
    pp_test_http(f, NULL, alice, "POST", path, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 202);
    pp_test_reply_clear(&reply);
    json_decref(pp_test_wait_vm(f, nic, "done"));
  }
  g_assert_cmpint(quota_used(f, "alice", "vms"), ==, 1);
  g_assert_cmpint(quota_used(f, "alice", "pci"), ==, 0);
  create_vm_as(f, alice, NIC_TEMPLATE);

  /* 'none' removes a limit. */
  pp_test_cli(f,
              (const char *const[]){ "user", "quota", "alice", "--vms", "none", "--cpu", "none",
                                     "--pci-class", "0200=none", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "VMS               2 unlimited\n"));
  pp_test_run_clear(&run);
  create_vm_as(f, alice, VGA_TEMPLATE);

  /* The admin has no limit until given one. */
  for (guint i = 0; i < 3; i++)
    pp_test_vm_create(f, PLAIN_TEMPLATE);
  pp_test_cli(f, (const char *const[]){ "user", "quota", "root", "--vms", "3", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_post_template(f, "/v1/vms", PLAIN_TEMPLATE, &reply);
  g_assert_nonnull(strstr(pp_test_error_message(&reply, 409), "user 'root' would pass a quota: "
                                                              "VMs: 3 of 3 used"));
  pp_test_reply_clear(&reply);

  /* Bad input: said, exit 2, nothing changed. */
  before = get_as(f, NULL, "/v1/users/alice");
  {
    static const struct {
      const char *option, *value, *message;
    } bad[] = {
      { "--vms", "-1", "--vms takes a whole number (0 or more), or 'none' for no limit; not '-1'" },
      { "--vms", "1.5", "--vms takes a whole number" },
      { "--cpu", "1.234", "--cpu takes a number of CPUs with at most two decimals" },
      { "--memory", "lots", "--memory takes a whole number" },
      { "--pci-class", "03=1", "--pci-class takes CLASS=N: a class and subclass of 4 hex digits" },
      { "--pci-class", "0302=x", "--pci-class 0302 takes a whole number" },
      { "--vms", "2000000", "field 'vms' must be null (no limit) or an integer of 0 to 1000000" },
      { "--memory", "999999999999", "field 'memory_mib' must be null (no limit) or an integer" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
      pp_test_cli(
          f, (const char *const[]){ "user", "quota", "alice", bad[i].option, bad[i].value, NULL },
          &run);
      g_test_message("%s %s: %s", bad[i].option, bad[i].value, run.err);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_nonnull(strstr(run.err, bad[i].message));
      pp_test_run_clear(&run);
    }
  }
  pp_test_cli(f, (const char *const[]){ "user", "quota", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "user quota changes nothing"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "user", "quota", "nobody", "--vms", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "no user 'nobody'"));
  pp_test_run_clear(&run);
  {
    static const char *const bodies[] = {
      "{}",
      "{\"vms\": -1}",
      "{\"vms\": true}",
      "{\"cpu\": \"2\"}",
      "{\"cpu\": 0.125}",
      "{\"pci_classes\": {\"3\": 1}}",
      "{\"pci_classes\": {\"0302\": -4}}",
      "{\"pci_classes\": [1]}",
      "{\"color\": 1}",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
      pp_test_http(f, f->socket, NULL, "PATCH", "/v1/users/alice/quota", bodies[i],
                   strlen(bodies[i]), &reply);
      g_test_message("%s: %s", bodies[i], reply.body->str);
      pp_test_error_message(&reply, 400);
      pp_test_reply_clear(&reply);
    }
  }
  /* alice may not change her own. */
  pp_test_http(f, NULL, alice, "PATCH", "/v1/users/alice/quota", "{\"vms\": null}", 13, &reply);
  g_assert_nonnull(strstr(pp_test_error_message(&reply, 403), "admin"));
  pp_test_reply_clear(&reply);
  {
    g_autoptr(json_t) after = get_as(f, NULL, "/v1/users/alice");

    g_assert_true(json_equal(json_object_get(after, "quota"), json_object_get(before, "quota")));
  }
  pp_test_daemon_stop(f);
}

/* A failed VM counts, as in OpenNebula (it may keep its devices, and a
 * retry asks for them again); a retry is checked as a create: refused when
 * an admin lowered the limit meanwhile, nothing changed. */
static void
test_quota_failed_retry(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename(f->dir, "taken.xml", NULL);
  g_autofree char *uri = g_strdup_printf("test://%s", path);
  g_autofree char *alice = NULL;
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  gint64 id;

  /* A test driver where pcipass-1 exists already: its start fails. */
  pp_test_write_file(path, "<node>\n  <domain type='test' "
                           "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
                           "    <name>pcipass-1</name><memory>65536</memory>\n"
                           "    <os><type>hvm</type></os><test:runstate>5</test:runstate>\n"
                           "  </domain>\n</node>\n");
  pp_test_daemon_start(f, (const char *const[]){ "--deploy-tries", "1", NULL });
  add_host(f, "node-f", f->trees[0], uri, NULL, NULL, "monitored");
  alice = pp_test_add_user(f, "alice");
  pp_test_cli(f, (const char *const[]){ "user", "quota", "alice", "--vms", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);

  id = create_vm_as(f, alice, NIC_TEMPLATE);
  g_assert_cmpint(id, ==, 1);
  vm = pp_test_wait_vm(f, id, "failed");
  g_assert_cmpint(quota_used(f, "alice", "vms"), ==, 1);
  post_vm(f, alice, PLAIN_TEMPLATE, &reply);
  g_assert_nonnull(strstr(pp_test_error_message(&reply, 409), "VMs: 1 of 1 used"));
  pp_test_reply_clear(&reply);

  /* The limit lowered: the retry is refused, the VM stays failed. */
  pp_test_cli(f, (const char *const[]){ "user", "quota", "alice", "--vms", "0", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  cli_as(f, alice, (const char *const[]){ "vm", "retry", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "user 'alice' would pass a quota: VMs: 0 of 0 used, this VM "
                                   "asks for 1" QUOTA_TAIL("alice")));
  pp_test_run_clear(&run);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "failed");

  /* Raised again: the retry goes through; the count stays one VM. */
  pp_test_cli(f, (const char *const[]){ "user", "quota", "alice", "--vms", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_http(f, NULL, alice, "POST", "/v1/vms/1/retry", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 202);
  g_assert_cmpint(json_integer_value(json_object_get(reply.json, "tries")), ==, 0);
  pp_test_reply_clear(&reply);
  g_assert_cmpint(quota_used(f, "alice", "vms"), ==, 1);
  pp_test_daemon_stop(f);
}

/* 64 clients race for alice's last 5 VMs: exactly 5 are made, each other
 * one refused naming the quota; the store agrees. */
typedef struct {
  PpTestDaemon *f;
  const char *token;
  long status;
  char *message;
} Racer;

static gpointer
racer_thread(gpointer data)
{
  Racer *r = data;
  g_autoptr(json_t) body = json_pack("{s:s}", "template", PLAIN_TEMPLATE);
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

  /* Over the socket with alice's token (it names her there too); a
   * connection the daemon could not take yet is tried again. */
  for (guint attempt = 0; attempt < 100; attempt++) {
    g_auto(PpTestReply) reply = { 0 };
    CURLcode rc = pp_test_http_try(r->f, r->f->socket, r->token, "POST", "/v1/vms", dumped,
                                   strlen(dumped), &reply);

    if (rc == CURLE_OK && reply.status != 503) {
      r->status = reply.status;
      if (reply.status != 201)
        r->message = g_strdup(
            json_string_value(json_object_get(json_object_get(reply.json, "error"), "message")));
      return NULL;
    }
    g_usleep(10000);
  }
  return NULL;
}

static void
test_quota_race(PpTestDaemon *f, gconstpointer data)
{
  enum { RACERS = 64, LIMIT = 5 };
  g_autofree char *alice = NULL;
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  Racer racers[RACERS];
  GThread *threads[RACERS];
  guint made = 0, refused = 0;
  sqlite3 *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  g_auto(PpTestRun) run = { 0 };

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  pp_test_cli(f, (const char *const[]){ "user", "quota", "alice", "--vms", "5", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  for (guint i = 0; i < RACERS; i++) {
    racers[i] = (Racer){ f, alice, 0, NULL };
    threads[i] = g_thread_new("racer", racer_thread, &racers[i]);
  }
  for (guint i = 0; i < RACERS; i++) {
    g_thread_join(threads[i]);
    if (racers[i].status == 201) {
      made++;
    } else {
      g_assert_cmpint(racers[i].status, ==, 409);
      g_assert_nonnull(racers[i].message);
      g_assert_true(g_str_has_prefix(racers[i].message, "user 'alice' would pass a quota: VMs: 5 "
                                                        "of 5 used, this VM asks for 1"));
      refused++;
    }
    g_free(racers[i].message);
  }
  g_assert_cmpuint(made, ==, LIMIT);
  g_assert_cmpuint(refused, ==, RACERS - LIMIT);
  g_assert_cmpuint(n_vms(f, alice), ==, LIMIT);
  g_assert_cmpint(quota_used(f, "alice", "vms"), ==, LIMIT);
  pp_test_daemon_stop(f);

  /* The store: 5 VMs of alice's, no id skipped by a refused one. */
  g_assert_cmpint(sqlite3_open(db, &sql), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(sql,
                                     "SELECT count(*), max(v.id) FROM vms v JOIN users u "
                                     "ON u.id = v.owner_id WHERE u.name = 'alice'",
                                     -1, &stmt, NULL),
                  ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(stmt, 0), ==, LIMIT);
  g_assert_cmpint(sqlite3_column_int(stmt, 1), ==, LIMIT);
  sqlite3_finalize(stmt);
  sqlite3_close(sql);
}

/* The device of @host at @address, or NULL. Returns: (transfer none). */
static json_t *
host_device(json_t *host, const char *address)
{
  size_t i;
  json_t *dev;

  json_array_foreach(json_object_get(host, "pci_devices"), i, dev)
  {
    if (g_strcmp0(json_string_value(json_object_get(dev, "address")), address) == 0)
      return dev;
  }
  return NULL;
}

static const char *
vm_device(json_t *vm, guint i)
{
  json_t *dev = json_array_get(json_object_get(vm, "devices"), i);

  g_assert_nonnull(dev);
  return json_string_value(json_object_get(dev, "address"));
}

/* The first reason of VM @id's explanation as @token's user reads it,
 * once the scheduler explained it. Returns: (transfer full). */
static char *
explained(PpTestDaemon *f, const char *token, gint64 id)
{
  g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, id);
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    g_autoptr(json_t) vm = get_as(f, token, path);
    const char *reason = json_string_value(
        json_object_get(json_array_get(json_object_get(vm, "explanation"), 0), "reason"));

    if (reason != NULL)
      return g_strdup(reason);
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50000);
  }
}

/* What users see: no host's probe command, ssh target or libvirt URI (nor
 * the probe's, ssh's or libvirt's words that name them), no other user's
 * VM id (a device is taken; a pending VM's device "held by another VM");
 * their own VMs' ids. The admin sees everything. Raw HTTP with the user's
 * token, and the CLI over TCP. */
static void
test_what_users_see(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *secret_probe =
      g_strdup_printf("%s --all --sysfs-root /secret/nowhere", f->probe);
  g_autofree char *held = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *vga_file = g_build_filename(f->dir, "vga.tmpl", NULL);
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *alice_vga = NULL;
  g_autofree char *bob_nic = NULL;
  gint64 a, b, pending;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default", NULL, NULL, "monitored");
  allow_vga(f, "node-a");
  /* Two hosts whose probe fails: the error names the probe's path, or
   * the ssh target. */
  pp_test_cli(f,
              (const char *const[]){ "host", "create", "node-p", "--probe-command", secret_probe,
                                     "--libvirt-uri", "test:///default", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_cli(f,
              (const char *const[]){ "host", "create", "node-s", "--ssh",
                                     "nobody@secret-node.invalid:2222", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  {
    g_autoptr(json_t) p = pp_test_wait_host(f, "node-p", "error", 0);
    g_autoptr(json_t) s = pp_test_wait_host(f, "node-s", "error", 0);

    /* The admin sees why. */
    g_test_message("node-p: %s; node-s: %s", json_string_value(json_object_get(p, "error")),
                   json_string_value(json_object_get(s, "error")));
    g_assert_nonnull(strstr(json_string_value(json_object_get(p, "error")), "/secret/nowhere"));
    g_assert_nonnull(strstr(json_string_value(json_object_get(s, "error")), "secret-node"));
    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(s, "ssh"), "host")), ==,
                    "secret-node.invalid");
  }
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");

  /* alice holds the VGA, bob a NIC; bob's VGA VM pends behind alice's. */
  a = create_vm_as(f, alice, VGA_TEMPLATE);
  vm = pp_test_wait_vm(f, a, "running");
  alice_vga = g_strdup(vm_device(vm, 0));
  b = create_vm_as(f, bob, NIC_TEMPLATE);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_vm(f, b, "running");
  bob_nic = g_strdup(vm_device(vm, 0));
  pending = create_vm_as(f, bob, VGA_TEMPLATE);

  /* The admin: "held by VM A". */
  reason = explained(f, NULL, pending);
  held = g_strdup_printf("0000:09:03.0 held by VM %" G_GINT64_FORMAT, a);
  g_assert_nonnull(strstr(reason, held));
  g_clear_pointer(&reason, g_free);
  /* bob: "held by another VM", alice's id nowhere. */
  reason = explained(f, bob, pending);
  g_assert_nonnull(strstr(reason, "0000:09:03.0 held by another VM"));
  g_assert_null(strstr(reason, held));
  g_clear_pointer(&reason, g_free);
  pp_test_write_file(vga_file, VGA_TEMPLATE);
  cli_as(f, bob, (const char *const[]){ "vm", "place", vga_file, "--json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 1); /* no host fits */
  g_assert_nonnull(strstr(run.out, "held by another VM"));
  g_assert_null(strstr(run.out, "held by VM"));
  pp_test_run_clear(&run);
  {
    g_autofree char *pending_text = g_strdup_printf("%" G_GINT64_FORMAT, pending);

    cli_as(f, bob, (const char *const[]){ "vm", "show", pending_text, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "held by another VM"));
    g_assert_null(strstr(run.out, "held by VM"));
    pp_test_run_clear(&run);
  }

  /* Hosts as bob reads them: none of how they are reached. */
  pp_test_http(f, NULL, bob, "GET", "/v1/hosts", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  {
    static const char *const hidden[] = { "secret-node",      "/secret/nowhere", "test:///default",
                                          "--sysfs-root",     "\"ssh\"",         "\"libvirt_uri\"",
                                          "\"probe_command\"" };

    for (guint i = 0; i < G_N_ELEMENTS(hidden); i++) {
      if (strstr(reply.body->str, hidden[i]) != NULL)
        g_error("bob sees '%s' in GET /v1/hosts: %s", hidden[i], reply.body->str);
    }
  }
  {
    json_t *s = json_array_get(json_object_get(reply.json, "hosts"), 2);

    g_assert_cmpstr(json_string_value(json_object_get(s, "name")), ==, "node-s");
    g_assert_cmpstr(json_string_value(json_object_get(s, "state")), ==, "error");
    g_assert_cmpstr(json_string_value(json_object_get(s, "error")), ==,
                    "its last probe failed; an administrator sees why");
  }
  pp_test_reply_clear(&reply);
  pp_test_http(f, NULL, bob, "GET", "/v1/hosts/node-a", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_null(strstr(reply.body->str, "test:///default"));
  g_assert_null(strstr(reply.body->str, f->probe));
  {
    json_t *taken = host_device(reply.json, alice_vga);
    json_t *mine = host_device(reply.json, bob_nic);
    json_t *dev;
    size_t i;

    g_assert_true(json_is_null(json_object_get(taken, "vm")));
    g_assert_true(json_is_true(json_object_get(taken, "taken")));
    g_assert_cmpint(json_integer_value(json_object_get(mine, "vm")), ==, b);
    g_assert_true(json_is_true(json_object_get(mine, "taken")));
    /* No device carries alice's id. */
    json_array_foreach(json_object_get(reply.json, "pci_devices"), i, dev)
        g_assert_cmpint(json_integer_value(json_object_get(dev, "vm")), !=, a);
  }
  pp_test_reply_clear(&reply);
  /* The admin sees it all. */
  {
    g_autoptr(json_t) host = get_as(f, NULL, "/v1/hosts/node-a");

    g_assert_cmpint(json_integer_value(json_object_get(host_device(host, alice_vga), "vm")), ==, a);
    g_assert_cmpstr(json_string_value(json_object_get(host, "libvirt_uri")), ==, "test:///default");
    g_assert_nonnull(json_object_get(host, "probe_command"));
  }

  /* The CLI: bob's host show has no SSH, LIBVIRT URI or PROBE COMMAND,
   * "taken" where alice's VM is, his own VM's id; root's has them all. */
  cli_as(f, bob, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, "SSH"));
  g_assert_null(strstr(run.out, "LIBVIRT URI"));
  g_assert_null(strstr(run.out, "PROBE COMMAND"));
  g_assert_null(strstr(run.out, "test:///default"));
  {
    g_autofree char *taken_row = g_strdup_printf("\ntaken %s ", alice_vga + 5);
    g_autofree char *own_row = g_strdup_printf("\n%5" G_GINT64_FORMAT " %s ", b, bob_nic + 5);

    g_assert_nonnull(strstr(run.out, taken_row));
    g_assert_nonnull(strstr(run.out, own_row));
  }
  pp_test_run_clear(&run);
  cli_as(f, bob, (const char *const[]){ "host", "show", "node-s", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "ERROR          : its last probe failed; an administrator sees "
                                   "why\n"));
  g_assert_null(strstr(run.out, "secret-node"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "show", "node-s", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "SSH            : nobody@secret-node.invalid:2222\n"));
  g_assert_nonnull(strstr(run.out, "secret-node.invalid"));
  pp_test_run_clear(&run);
  {
    g_autofree char *row = g_strdup_printf("\n%5" G_GINT64_FORMAT " %s ", a, alice_vga + 5);

    pp_test_cli(f, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
    g_assert_nonnull(strstr(run.out, row));
    g_assert_nonnull(strstr(run.out, "LIBVIRT URI    : test:///default\n"));
    pp_test_run_clear(&run);
  }
  pp_test_daemon_stop(f);
}

/* Tokens: an expiry given at creation and shown in token list; a token
 * past its expiry, or deleted, refused at once in the words of an unknown
 * one; a user deletes only its own; bad expiries refused. */
static void
test_tokens(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *unknown_message = NULL;
  g_autoptr(json_t) limited = NULL;
  g_autoptr(json_t) list = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  const char *secret;
  json_int_t limited_id, bob_id;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");

  /* --expires 90m: alice makes one for herself. */
  cli_as(f, alice,
         (const char *const[]){ "token", "create", "--expires", "90m", "--name", "ci", "--json",
                                NULL },
         &run);
  g_assert_cmpint(run.status, ==, 0);
  limited = json_loads(run.out, 0, NULL);
  pp_test_run_clear(&run);
  secret = json_string_value(json_object_get(limited, "token"));
  limited_id = json_integer_value(json_object_get(limited, "id"));
  g_assert_cmpint(json_integer_value(json_object_get(limited, "expires")) -
                      json_integer_value(json_object_get(limited, "created")),
                  ==, 5400);
  cli_as(f, alice, (const char *const[]){ "token", "list", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, " EXPIRES\n"));
  g_assert_nonnull(strstr(run.out, " never\n"));
  g_assert_nonnull(strstr(run.out, " in 1h\n"));
  pp_test_run_clear(&run);

  /* Bad expiries: said, exit 2, no token made. */
  {
    static const char *const bad[] = { "0m", "366d", "5s", "90", "m", "1.5h", "99999999d" };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
      cli_as(f, alice, (const char *const[]){ "token", "create", "--expires", bad[i], NULL }, &run);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_nonnull(strstr(run.err, "--expires takes N and m, h or d (90m, 12h, 30d)"));
      pp_test_run_clear(&run);
    }
    pp_test_http(f, NULL, alice, "POST", "/v1/tokens", "{\"expires_in\": 59}", 18, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 400), "field 'expires_in' must be"));
    pp_test_reply_clear(&reply);
    pp_test_http(f, NULL, alice, "POST", "/v1/tokens", "{\"expires_in\": \"1d\"}", 20, &reply);
    pp_test_error_message(&reply, 400);
    pp_test_reply_clear(&reply);
    list = get_as(f, NULL, "/v1/tokens");
    g_assert_cmpuint(json_array_size(json_object_get(list, "tokens")), ==, 3);
    g_clear_pointer(&list, json_decref);
  }

  /* A token that expires makes none that outlives it, asked for with no
   * expiry or a longer one: a stolen one buys nothing for ever. */
  {
    static const char *const bodies[] = { "{}", "{\"expires_in\": 86400}" };
    json_int_t until = json_integer_value(json_object_get(limited, "expires"));

    for (guint i = 0; i < G_N_ELEMENTS(bodies); i++) {
      g_autofree char *id = NULL;

      pp_test_http(f, NULL, secret, "POST", "/v1/tokens", bodies[i], strlen(bodies[i]), &reply);
      g_assert_cmpint(reply.status, ==, 201);
      g_assert_cmpint(json_integer_value(json_object_get(reply.json, "expires")), ==, until);
      id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
                           json_integer_value(json_object_get(reply.json, "id")));
      pp_test_reply_clear(&reply);
      pp_test_cli(f, (const char *const[]){ "token", "delete", id, NULL }, &run);
      g_assert_cmpint(run.status, ==, 0);
      pp_test_run_clear(&run);
    }
    /* A shorter one is its own. */
    pp_test_http(f, NULL, secret, "POST", "/v1/tokens", "{\"expires_in\": 600}", 19, &reply);
    g_assert_cmpint(reply.status, ==, 201);
    g_assert_cmpint(json_integer_value(json_object_get(reply.json, "expires")) -
                        json_integer_value(json_object_get(reply.json, "created")),
                    ==, 600);
    {
      g_autofree char *id = g_strdup_printf("%" JSON_INTEGER_FORMAT,
                                            json_integer_value(json_object_get(reply.json, "id")));

      pp_test_reply_clear(&reply);
      pp_test_cli(f, (const char *const[]){ "token", "delete", id, NULL }, &run);
      g_assert_cmpint(run.status, ==, 0);
      pp_test_run_clear(&run);
    }
  }

  /* Used, then past its expiry (the store says so while pcipassd runs):
   * refused at the very next request. */
  pp_test_http(f, NULL, secret, "GET", "/v1/whoami", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  pp_test_reply_clear(&reply);
  pp_test_http(f, NULL, "pp_0000000000000000000000000000000000000000000000000000000000000000",
               "GET", "/v1/whoami", NULL, 0, &reply);
  unknown_message = g_strdup(pp_test_error_message(&reply, 401));
  g_assert_nonnull(strstr(unknown_message, "not known"));
  pp_test_reply_clear(&reply);
  {
    sqlite3 *sql = NULL;
    g_autofree char *stmt = g_strdup_printf(
        "UPDATE tokens SET created = created - 7200, expires = created - 7200 + 3600 "
        "WHERE id = %" JSON_INTEGER_FORMAT,
        limited_id);

    g_assert_cmpint(sqlite3_open(db, &sql), ==, SQLITE_OK);
    sqlite3_busy_timeout(sql, 10000);
    g_assert_cmpint(sqlite3_exec(sql, stmt, NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(sql);
  }
  pp_test_http(f, NULL, secret, "GET", "/v1/whoami", NULL, 0, &reply);
  /* The words of a token that never existed: nothing learnt of it. */
  g_assert_cmpstr(pp_test_error_message(&reply, 401), ==, unknown_message);
  pp_test_reply_clear(&reply);
  pp_test_cli(f, (const char *const[]){ "token", "list", NULL }, &run);
  g_assert_nonnull(strstr(run.out, " expired\n"));
  pp_test_run_clear(&run);

  /* Deleting: bob's token is not alice's to delete (404, as for none). */
  list = get_as(f, bob, "/v1/tokens");
  bob_id =
      json_integer_value(json_object_get(json_array_get(json_object_get(list, "tokens"), 0), "id"));
  g_clear_pointer(&list, json_decref);
  {
    g_autofree char *bob_text = g_strdup_printf("%" JSON_INTEGER_FORMAT, bob_id);
    g_autofree char *missing = g_strdup_printf("no token %" JSON_INTEGER_FORMAT, bob_id);

    cli_as(f, alice, (const char *const[]){ "token", "delete", bob_text, NULL }, &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, missing));
    pp_test_run_clear(&run);
    pp_test_http(f, NULL, bob, "GET", "/v1/whoami", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    pp_test_reply_clear(&reply);
    cli_as(f, alice, (const char *const[]){ "token", "delete", "seven", NULL }, &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "no token 'seven'"));
    pp_test_run_clear(&run);

    /* bob deletes his own, with itself: refused from the next request. */
    cli_as(f, bob, (const char *const[]){ "token", "delete", bob_text, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    pp_test_run_clear(&run);
    pp_test_http(f, NULL, bob, "GET", "/v1/whoami", NULL, 0, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 401), ==, unknown_message);
    pp_test_reply_clear(&reply);
  }
  /* The admin deletes anyone's. */
  {
    g_autofree char *id = g_strdup_printf("%" JSON_INTEGER_FORMAT, limited_id);

    pp_test_cli(f, (const char *const[]){ "token", "delete", id, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    pp_test_run_clear(&run);
  }
  list = get_as(f, NULL, "/v1/tokens");
  g_assert_cmpuint(json_array_size(json_object_get(list, "tokens")), ==, 1);
  pp_test_daemon_stop(f);
}

/* user delete: refused while the user owns a VM that is not done (naming
 * it, nothing changed); then the user, its tokens and done VMs go. */
static void
test_user_delete(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *message = NULL;
  g_autoptr(json_t) users = NULL;
  g_autoptr(json_t) all = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  gint64 id;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");
  id = create_vm_as(f, alice, PLAIN_TEMPLATE);

  pp_test_cli(f, (const char *const[]){ "user", "delete", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  message = g_strdup_printf(
      "user 'alice' owns VM %" G_GINT64_FORMAT " that is not done; terminate it first", id);
  g_assert_nonnull(strstr(run.err, message));
  pp_test_run_clear(&run);
  pp_test_http(f, NULL, alice, "GET", "/v1/whoami", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  pp_test_reply_clear(&reply);
  /* Only an admin deletes, and not itself. */
  pp_test_http(f, NULL, bob, "DELETE", "/v1/users/alice", NULL, 0, &reply);
  pp_test_error_message(&reply, 403);
  pp_test_reply_clear(&reply);
  pp_test_cli(f, (const char *const[]){ "user", "delete", "root", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "'root' is you: a user cannot delete itself"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "user", "delete", "carol", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "no user 'carol'"));
  pp_test_run_clear(&run);

  pp_test_http(f, NULL, alice, "POST", "/v1/vms/plain/terminate", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 202);
  pp_test_reply_clear(&reply);
  json_decref(pp_test_wait_vm(f, id, "done"));
  pp_test_cli(f, (const char *const[]){ "user", "delete", "alice", "--json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"tokens\": 1"));
  g_assert_nonnull(strstr(run.out, "\"done_vms\": 1"));
  pp_test_run_clear(&run);
  /* Her token is refused at once; she and her done VM are gone. */
  pp_test_http(f, NULL, alice, "GET", "/v1/whoami", NULL, 0, &reply);
  pp_test_error_message(&reply, 401);
  pp_test_reply_clear(&reply);
  users = get_as(f, NULL, "/v1/users");
  {
    g_autofree char *names = json_dumps(users, 0);

    g_assert_null(strstr(names, "alice"));
  }
  all = get_as(f, NULL, "/v1/vms?all=1");
  g_assert_cmpuint(json_array_size(json_object_get(all, "vms")), ==, 0);
  pp_test_http(f, NULL, bob, "GET", "/v1/whoami", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  pp_test_daemon_stop(f);
}

/* resume of a VM whose device is gone: refused (409, exit 2) naming the
 * device, nothing changed; retry gives it back and places the VM anew. */
static void
test_resume_gone(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) off = NULL;
  g_autoptr(json_t) again = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *gone = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *path = NULL;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default", NULL, NULL, "monitored");
  id = pp_test_vm_create(f, NIC_TEMPLATE);
  vm = pp_test_wait_vm(f, id, "running");
  gone = g_strdup(vm_device(vm, 0));
  pp_test_cli(f, (const char *const[]){ "vm", "poweroff", "nic", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  off = pp_test_wait_vm(f, id, "poweroff");

  /* The NIC vanishes from the machine: the next probe flags it gone. */
  path = g_build_filename(f->trees[0], "bus", "pci", "devices", gone, NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
    g_autoptr(json_t) host = pp_test_host_show(f, "node-a");

    if (json_is_true(json_object_get(host_device(host, gone), "gone")))
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(100000);
  }

  expect = g_strdup_printf("VM %" G_GINT64_FORMAT " is poweroff; it cannot be resumed: %s of host "
                           "'node-a' is gone: the host's last probe did not report it; 'pcipass vm "
                           "retry %" G_GINT64_FORMAT "' gives back what the VM holds and places it "
                           "anew",
                           id, gone, id);
  pp_test_http(f, f->socket, NULL, "POST", "/v1/vms/nic/resume", NULL, 0, &reply);
  g_assert_cmpstr(pp_test_error_message(&reply, 409), ==, expect);
  pp_test_reply_clear(&reply);
  pp_test_cli(f, (const char *const[]){ "vm", "resume", "nic", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, expect));
  pp_test_run_clear(&run);
  /* Nothing changed: still off, on its device. */
  {
    g_autoptr(json_t) still = pp_test_vm_get(f, id);

    g_assert_cmpstr(pp_test_vm_state(still), ==, "poweroff");
    g_assert_cmpstr(vm_device(still, 0), ==, gone);
  }

  /* retry: the gone NIC is given back (and leaves the inventory), the VM
   * runs on another. */
  pp_test_cli(f, (const char *const[]){ "vm", "retry", "nic", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  again = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(vm_device(again, 0), !=, gone);
  {
    g_autoptr(json_t) host = pp_test_host_show(f, "node-a");

    g_assert_null(host_device(host, gone));
  }
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
#define ADD(path, fn)                                                                              \
  g_test_add(path, PpTestDaemon, NULL, pp_test_daemon_set_up, fn, pp_test_daemon_tear_down)
  ADD("/tenancy/quota", test_quota);
  ADD("/tenancy/quota-failed-retry", test_quota_failed_retry);
  ADD("/tenancy/quota-race", test_quota_race);
  ADD("/tenancy/what-users-see", test_what_users_see);
  ADD("/tenancy/tokens", test_tokens);
  ADD("/tenancy/user-delete", test_user_delete);
  ADD("/tenancy/resume-gone", test_resume_gone);
#undef ADD
  return g_test_run();
}
