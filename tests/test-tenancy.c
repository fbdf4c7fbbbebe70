/* Tenancy through the real pcipassd (issue 10, section 3): what a user
 * who is not an admin sees of hosts, devices and other users' VMs (raw
 * HTTP with the user's token, and the real CLI over TCP), and a resume
 * refused for a device that is gone. Hosts are the real probe on captured
 * sysfs trees, VMs run on libvirt's real test:/// driver inside pcipassd.
 * Nothing is mocked. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "pp-test-daemon.h"

/* Node-a (the 40intel64 capture): 4 BCM5709 NICs 14e4:1639:0200, one
 * Matrox VGA 102b:0532:0300 (the host's console: allowed on purpose
 * below), a MegaRAID 1000:0079:0104. */
#define NIC_TEMPLATE "NAME = nic\nCPU = 1\nMEMORY = 1024\nPCI = [ CLASS = \"0200\" ]\n"
#define VGA_TEMPLATE "NAME = vga\nCPU = 0.5\nMEMORY = 512\nPCI = [ VENDOR = \"102b\" ]\n"

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

/* pcipass user create NAME and a token for it. Returns: (transfer full):
 * the token's secret. */
static char *
add_user(PpTestDaemon *f, const char *name)
{
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) token = NULL;

  pp_test_cli(f, (const char *const[]){ "user", "create", name, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", name, NULL });
  return g_strdup(json_string_value(json_object_get(token, "token")));
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

static void
allow_vga(PpTestDaemon *f, const char *host)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f, (const char *const[]){ "host", "update", host, "--allow-needed", "09:03.0", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
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
  alice = add_user(f, "alice");
  bob = add_user(f, "bob");

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
  ADD("/tenancy/what-users-see", test_what_users_see);
  ADD("/tenancy/resume-gone", test_resume_gone);
#undef ADD
  return g_test_run();
}
