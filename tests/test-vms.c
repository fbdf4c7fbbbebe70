/* VMs end to end through the real pcipassd: templates, placement,
 * allocation, deployment through libvirt's real test:/// driver (inside
 * pcipassd: the driver needs no host), explanations, terminate, poweroff,
 * resume, a failing deployment, a restart, ownership, and 32 clients at
 * once. Hosts are the real probe on captured sysfs trees; the domain XML
 * the daemon deploys is checked with the real virt-xml-validate. Nothing is
 * mocked. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <sqlite3.h>

#include "pp-test-daemon.h"

/* Node-a (the 40intel64 capture): 4 BCM5709 NICs 14e4:1639:0200, one
 * Matrox VGA 102b:0532:0300, a MegaRAID 1000:0079:0104. */
#define NIC_TEMPLATE "NAME = nic-vm\nCPU = 1\nMEMORY = 1024\nPCI = [ CLASS = \"0200\" ]\n"
#define VGA_TEMPLATE "CPU = 0.5\nMEMORY = 512\nPCI = [ VENDOR = \"102b\", DEVICE = \"0532\" ]\n"
#define NVIDIA_TEMPLATE "NAME = gpu\nMEMORY = 2048\nPCI = [ VENDOR = \"10de\" ]\n"

/* Waits until a scheduling pass has explained why VM @id pends, with a
 * first host's reason holding @text (NULL: any reason). Returns: (transfer
 * full): its JSON. */
static json_t *
wait_explained(PpTestDaemon *f, gint64 id, const char *text)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    g_autoptr(json_t) vm = pp_test_vm_get(f, id);
    json_t *why = json_object_get(vm, "explanation");
    const char *reason = json_string_value(json_object_get(json_array_get(why, 0), "reason"));

    if (json_is_array(why) && (text == NULL || (reason != NULL && strstr(reason, text) != NULL)))
      return g_steal_pointer(&vm);
    if (g_get_monotonic_time() > deadline) {
      g_autofree char *dump = json_dumps(vm, JSON_INDENT(2));

      g_error("VM %" G_GINT64_FORMAT " has no explanation%s%s: %s", id,
              text != NULL ? " with " : "", text != NULL ? text : "", dump);
    }
    g_usleep(50000);
  }
}

static void
vm_action(PpTestDaemon *f, gint64 id, const char *action, long status, PpTestReply *ret)
{
  g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/%s", id, action);

  pp_test_http(f, f->socket, NULL, "POST", path, NULL, 0, ret);
  g_assert_cmpint(ret->status, ==, status);
}

/* pcipass host create NAME, probing @sys, deploying on @uri; @option is
 * one more option of host create, or NULL; waits until the host is in
 * state @wait_for (NULL: monitored). */
static void
add_host_in(PpTestDaemon *f, const char *name, const char *sys, const char *uri, const char *option,
            const char *wait_for)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname %s", f->probe, sys, name);
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f,
              (const char *const[]){ "host", "create", name, "--probe-command", command,
                                     "--libvirt-uri", uri, option, NULL },
              &run);
  if (run.status != 0)
    g_error("host create %s: %s", name, run.err);
  json_decref(pp_test_wait_host(f, name, wait_for != NULL ? wait_for : "monitored", 0));
}

static void
add_host_with(PpTestDaemon *f, const char *name, const char *sys, const char *uri,
              const char *option)
{
  add_host_in(f, name, sys, uri, option, NULL);
}

static void
add_host(PpTestDaemon *f, const char *name, const char *sys, const char *uri)
{
  add_host_with(f, name, sys, uri, NULL);
}

/* node-a's Matrox VGA (09:03.0, what VGA_TEMPLATE asks for) is its only
 * display device: the probe says the host needs it (the console). An
 * administrator allows it on purpose, so that tests can give it. */
static void
allow_vga(PpTestDaemon *f, const char *host)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f, (const char *const[]){ "host", "update", host, "--allow-needed", "09:03.0", NULL },
              &run);
  if (run.status != 0)
    g_error("host update %s --allow-needed 09:03.0: %s", host, run.err);
}

/* The device of host @name at @address, or NULL. Returns: (transfer none)
 * into @host. */
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

/* The address of the VM's device @i. */
static const char *
vm_device(json_t *vm, guint i)
{
  json_t *dev = json_array_get(json_object_get(vm, "devices"), i);

  g_assert_nonnull(dev);
  return json_string_value(json_object_get(dev, "address"));
}

/* Checks the domain XML that pcipassd gives libvirt with virt-xml-validate. */
static void
assert_domain_xml_valid(PpTestDaemon *f, json_t *vm)
{
  const char *xml = json_string_value(json_object_get(vm, "domain_xml"));
  g_autofree char *path = g_build_filename(f->dir, "domain.xml", NULL);
  g_auto(PpTestRun) run = { 0 };

  g_assert_nonnull(xml);
  pp_test_write_file(path, xml);
  pp_test_run((const char *const[]){ "virt-xml-validate", path, "domain", NULL }, NULL, &run);
  if (run.status != 0)
    g_error("virt-xml-validate: %s%s\n%s", run.out, run.err, xml);
}

/* A NIC by class: placed, deployed on test:///, shown in the host's
 * table with the VM's id; terminated: the NIC is free again. */
static void
test_deploy_and_terminate(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) done = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *row = NULL;
  g_autofree char *tmpl = g_build_filename(f->dir, "nic.tmpl", NULL);
  char id_text[32];
  const char *nic;
  const char *xml;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  /* Through the real CLI: pcipass vm create FILE. */
  pp_test_write_file(tmpl, NIC_TEMPLATE);
  pp_test_cli(f, (const char *const[]){ "vm", "create", tmpl, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "ID: "));
  id = g_ascii_strtoll(run.out + 4, NULL, 10);
  pp_test_run_clear(&run);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(vm, "host"), "name")), ==,
                  "node-a");
  g_assert_cmpuint(json_array_size(json_object_get(vm, "devices")), ==, 1);
  g_assert_cmpstr(
      json_string_value(json_object_get(json_array_get(json_object_get(vm, "devices"), 0), "type")),
      ==, "14e4:1639:0200");
  nic = vm_device(vm, 0);

  /* The XML has the NIC as a managed hostdev, and libvirt's schema takes it. */
  xml = json_string_value(json_object_get(vm, "domain_xml"));
  g_assert_nonnull(strstr(xml, "<domain type='test'>"));
  g_assert_nonnull(strstr(xml, "<hostdev mode='subsystem' type='pci' managed='yes'>"));
  /* Neither CONTEXT nor NICs: no context disk (issue 13). */
  g_assert_null(strstr(xml, "device='cdrom'"));
  assert_domain_xml_valid(f, vm);

  /* The host's table marks the NIC with the VM's id. */
  host = pp_test_host_show(f, "node-a");
  g_assert_cmpint(json_integer_value(json_object_get(host_device(host, nic), "vm")), ==, id);
  pp_test_cli(f, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  row = g_strdup_printf("\n%5" G_GINT64_FORMAT " %s ", id, nic + 5);
  g_assert_nonnull(strstr(run.out, row));
  pp_test_run_clear(&run);

  /* pcipass vm show: the NIC answers request 0. */
  g_snprintf(id_text, sizeof(id_text), "%" G_GINT64_FORMAT, id);
  pp_test_cli(f, (const char *const[]){ "vm", "show", id_text, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "STATE          : running\n"));
  g_free(row);
  row = g_strdup_printf("\n  0 %s 14e4:1639:0200 ", nic + 5);
  g_assert_nonnull(strstr(run.out, row));
  pp_test_run_clear(&run);

  pp_test_cli(f, (const char *const[]){ "vm", "terminate", id_text, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  done = pp_test_wait_vm(f, id, "done");
  g_assert_cmpuint(json_array_size(json_object_get(done, "devices")), ==, 0);
  g_clear_pointer(&host, json_decref);
  host = pp_test_host_show(f, "node-a");
  g_assert_true(json_is_null(json_object_get(host_device(host, nic), "vm")));

  /* Done VMs leave the list unless asked for. */
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 0);
  pp_test_reply_clear(&reply);
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms?all=1", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 1);
  pp_test_reply_clear(&reply);

  /* Terminating it again works from every state: done stays done, its
   * record as it was. */
  vm_action(f, id, "terminate", 202, &reply);
  g_assert_cmpstr(json_string_value(json_object_get(reply.json, "state")), ==, "done");
  pp_test_reply_clear(&reply);
  {
    g_autofree char *arg = g_strdup_printf("%" G_GINT64_FORMAT, id);
    g_autoptr(json_t) again = pp_test_cli_json(f, (const char *const[]){ "vm", "show", arg, NULL });
    json_t *history = json_object_get(again, "history");

    /* pending (created) > deploying > running > terminating > done. */
    g_assert_cmpuint(json_array_size(history), ==, 5);
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(history, 4), "to")), ==,
                    "done");
  }
  pp_test_daemon_stop(f);
}

/* Has host @name probed by a probe that starts after what the test just
 * changed in its tree: `host probe --wait` returns when the host's
 * last_monitored changes, which a probe already running (started by the
 * monitor before the change) may do; the second waits for the probe
 * queued after it. */
static void
probe_after_change(PpTestDaemon *f, const char *name)
{
  for (guint i = 0; i < 2; i++) {
    g_auto(PpTestRun) run = { 0 };

    pp_test_cli(f, (const char *const[]){ "host", "probe", "--wait", name, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
  }
}

/* A prebound host: the NIC is offered only once the probe sees it on
 * vfio-pci, the pending VM says which command binds it, and the domain
 * gets managed='no'. pcipass host update turns it back to managed. */
static void
test_prebound(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *driver =
      g_build_filename(f->trees[0], "bus", "pci", "devices", "0000:02:00.0", "driver", NULL);
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) done = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  const char *reason;
  const char *xml;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host_with(f, "node-a", f->trees[0], "test:///default", "--prebound");
  host = pp_test_host_show(f, "node-a");
  g_assert_true(json_is_true(json_object_get(host, "prebound")));
  g_assert_cmpstr(json_string_value(json_object_get(host_device(host, "0000:02:00.0"), "driver")),
                  ==, "bnx2");
  pp_test_cli(f, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\nHOSTDEV        : prebound (managed='no')\n"));
  pp_test_run_clear(&run);

  id = pp_test_vm_create(
      f, "NAME = bound\nCPU = 1\nMEMORY = 512\nPCI = [ SHORT_ADDRESS = \"02:00.0\" ]\n");
  vm = wait_explained(f, id, NULL);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "pending");
  reason = json_string_value(
      json_object_get(json_array_get(json_object_get(vm, "explanation"), 0), "reason"));
  g_assert_cmpstr(reason, ==,
                  "PCI[0] (SHORT_ADDRESS=02:00.0): 0000:02:00.0 is on driver bnx2, not vfio-pci, "
                  "and host 'node-a' is prebound (managed='no'): run 'pcipass-vfio bind "
                  "0000:02:00.0' there, then 'pcipass host probe node-a'");
  g_clear_pointer(&vm, json_decref);

  /* Unbound from bnx2, on no driver: still not ready, and said so. */
  g_assert_cmpint(unlink(driver), ==, 0);
  pp_test_cli(f, (const char *const[]){ "host", "probe", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  vm = wait_explained(f, id, "has no driver");
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "pending");
  g_assert_cmpstr(
      json_string_value(
          json_object_get(json_array_get(json_object_get(vm, "explanation"), 0), "reason")),
      ==,
      "PCI[0] (SHORT_ADDRESS=02:00.0): 0000:02:00.0 has no driver, not vfio-pci, and host "
      "'node-a' is prebound (managed='no'): run 'pcipass-vfio bind 0000:02:00.0' there, then "
      "'pcipass host probe node-a'");
  g_clear_pointer(&vm, json_decref);

  /* What 'pcipass-vfio bind' leaves in sysfs, written by hand: this
   * kernel has no VFIO (tests/test-vfio.c binds through a fake kernel).
   * Then the probe the explanation asks for. */
  g_assert_cmpint(symlink("../../../../bus/pci/drivers/vfio-pci", driver), ==, 0);
  pp_test_cli(f, (const char *const[]){ "host", "probe", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);

  vm = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(vm_device(vm, 0), ==, "0000:02:00.0");
  xml = json_string_value(json_object_get(vm, "domain_xml"));
  g_assert_nonnull(strstr(xml, "<hostdev mode='subsystem' type='pci' managed='no'>"));
  g_assert_null(strstr(xml, "managed='yes'"));
  assert_domain_xml_valid(f, vm);

  /* Terminated, the NIC is free again, still on vfio-pci. */
  vm_action(f, id, "terminate", 202, &reply);
  pp_test_reply_clear(&reply);
  done = pp_test_wait_vm(f, id, "done");
  g_clear_pointer(&host, json_decref);
  host = pp_test_host_show(f, "node-a");
  g_assert_true(json_is_null(json_object_get(host_device(host, "0000:02:00.0"), "vm")));
  g_assert_cmpstr(json_string_value(json_object_get(host_device(host, "0000:02:00.0"), "driver")),
                  ==, "vfio-pci");

  /* pcipass host update: bad values change nothing. */
  pp_test_cli(f, (const char *const[]){ "host", "update", "node-a", "--prebound", "maybe", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--prebound: 'maybe' is neither yes nor no"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "update", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "nothing to change"));
  pp_test_run_clear(&run);
  g_clear_pointer(&host, json_decref);
  host = pp_test_host_show(f, "node-a");
  g_assert_true(json_is_true(json_object_get(host, "prebound")));

  /* Back to managed: the next VM's domain lets libvirt bind. */
  pp_test_cli(f, (const char *const[]){ "host", "update", "node-a", "--prebound", "no", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "show", "node-a", NULL }, &run);
  g_assert_nonnull(strstr(run.out, "\nHOSTDEV        : managed\n"));
  pp_test_run_clear(&run);
  id = pp_test_vm_create(
      f, "NAME = again\nCPU = 1\nMEMORY = 512\nPCI = [ SHORT_ADDRESS = \"02:00.0\" ]\n");
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "domain_xml")),
                          "<hostdev mode='subsystem' type='pci' managed='yes'>"));

  /* Powered off, its host made prebound again: a resume would start it
   * with managed='no', so it is refused while the probe sees the NIC off
   * vfio-pci, and the VM stays off, holding it. */
  vm_action(f, id, "poweroff", 202, &reply);
  pp_test_reply_clear(&reply);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_vm(f, id, "poweroff");
  pp_test_cli(f, (const char *const[]){ "host", "update", "node-a", "--prebound", "yes", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  g_assert_cmpint(unlink(driver), ==, 0);
  probe_after_change(f, "node-a");
  vm_action(f, id, "resume", 409, &reply);
  {
    g_autofree char *expected = g_strdup_printf(
        "VM %" G_GINT64_FORMAT " is poweroff; it cannot be resumed: 0000:02:00.0 has no driver, "
        "not vfio-pci, and host 'node-a' is prebound (managed='no'): run 'pcipass-vfio bind "
        "0000:02:00.0' there, then 'pcipass host probe node-a'",
        id);

    g_assert_cmpstr(pp_test_error_message(&reply, 409), ==, expected);
  }
  pp_test_reply_clear(&reply);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "poweroff");
  g_assert_cmpstr(vm_device(vm, 0), ==, "0000:02:00.0");

  /* Bound and probed, it resumes with managed='no'. */
  g_assert_cmpint(symlink("../../../../bus/pci/drivers/vfio-pci", driver), ==, 0);
  probe_after_change(f, "node-a");
  vm_action(f, id, "resume", 202, &reply);
  pp_test_reply_clear(&reply);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "domain_xml")),
                          "<hostdev mode='subsystem' type='pci' managed='no'>"));
}

/* One VGA, two VMs: the second pends, its explanation naming the first;
 * it is placed when the first is terminated. A host that has nothing the
 * VM asks for says so; a disabled host says so. */
static void
test_pending_explained(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) first = NULL;
  g_autoptr(json_t) second = NULL;
  g_autoptr(json_t) placed = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *held = NULL;
  g_autofree char *log = NULL;
  json_t *why;
  gint64 a, b;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  add_host(f, "gpu-1", f->trees[2], "test:///default");
  pp_test_cli(f, (const char *const[]){ "host", "disable", "gpu-1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);

  /* The host needs its only display device: never given, and said so. */
  a = pp_test_vm_create(f, VGA_TEMPLATE);
  first = wait_explained(f, a, "needed by host 'node-a'");
  g_assert_cmpstr(
      json_string_value(
          json_object_get(json_array_get(json_object_get(first, "explanation"), 0), "reason")),
      ==,
      "PCI[0] (VENDOR=102b,DEVICE=0532): 0000:09:03.0 is needed by host 'node-a': it is the only "
      "display device, and the console's (boot VGA)");
  g_clear_pointer(&first, json_decref);
  {
    g_autoptr(json_t) host = pp_test_host_show(f, "node-a");
    json_t *vga = host_device(host, "0000:09:03.0");
    g_autoptr(json_t) allowed = NULL;

    g_assert_cmpstr(json_string_value(json_object_get(vga, "host_needs")), ==,
                    "is the only display device, and the console's (boot VGA)");
    g_assert_false(json_is_true(json_object_get(vga, "allowed")));
    /* Allowed on purpose: recorded with who, and the VM runs. */
    allow_vga(f, "node-a");
    allowed = pp_test_host_show(f, "node-a");
    g_assert_true(json_is_true(json_object_get(host_device(allowed, "0000:09:03.0"), "allowed")));
    g_assert_cmpstr(json_string_value(json_object_get(
                        json_array_get(json_object_get(allowed, "allowances"), 0), "by")),
                    ==, "root");
  }
  first = pp_test_wait_vm(f, a, "running");
  b = pp_test_vm_create(f, VGA_TEMPLATE);
  /* Pending with an explanation once a pass has looked at it. */
  second = wait_explained(f, b, NULL);
  g_assert_cmpstr(pp_test_vm_state(second), ==, "pending");
  why = json_object_get(second, "explanation");
  g_assert_cmpuint(json_array_size(why), ==, 2);
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(why, 0), "host")), ==, "node-a");
  held = g_strdup_printf("held by VM %" G_GINT64_FORMAT, a);
  g_assert_nonnull(
      strstr(json_string_value(json_object_get(json_array_get(why, 0), "reason")), held));
  g_assert_nonnull(
      strstr(json_string_value(json_object_get(json_array_get(why, 0), "reason")), "PCI[0]"));
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(why, 1), "reason")), ==,
                  "disabled");

  /* One line in the log names the VM and the hosts. */
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "is pending: no host fits: "));
  g_assert_nonnull(strstr(log, "gpu-1: disabled"));

  /* The first goes; the second takes its VGA. */
  vm_action(f, a, "terminate", 202, &reply);
  pp_test_reply_clear(&reply);
  placed = pp_test_wait_vm(f, b, "running");
  g_assert_cmpstr(vm_device(placed, 0), ==, vm_device(first, 0));
  g_assert_true(json_is_null(json_object_get(placed, "explanation")));

  /* NVIDIA: not on node-a at all; gpu-1 has one but is disabled. */
  {
    gint64 g = pp_test_vm_create(f, NVIDIA_TEMPLATE);
    g_autoptr(json_t) gpu = NULL;

    gpu = wait_explained(f, g, NULL);
    why = json_object_get(gpu, "explanation");
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(why, 0), "reason")), ==,
                    "no device matches PCI[0] (VENDOR=10de)");
    g_clear_pointer(&gpu, json_decref);

    /* Enabled, monitored again: the GPU VM is placed there. */
    pp_test_cli(f, (const char *const[]){ "host", "enable", "gpu-1", NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    gpu = pp_test_wait_vm(f, g, "running");
    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(gpu, "host"), "name")), ==,
                    "gpu-1");
    g_assert_cmpstr(json_string_value(json_object_get(
                        json_array_get(json_object_get(gpu, "devices"), 0), "type")),
                    ==, "10de:15f8:0302");
  }
  pp_test_daemon_stop(f);
}

/* Waits until metric @name passes @above (a guard against a hang). */
static void
wait_metric_above(PpTestDaemon *f, const char *name, guint64 above)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  while (pp_test_metric(f, name) <= above) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(50 * 1000);
  }
}

static void
cli_ok(PpTestDaemon *f, const char *const *argv)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f, argv, &run);
  if (run.status != 0)
    g_error("pcipass %s %s: %s", argv[0], argv[1], run.err);
}

/* The scheduler is incremental: pending VMs that ask for the same wait as
 * one group, tried again only when a host gains something that could take
 * them (here a NIC freed, hosts enabled), not when a host changes without
 * gaining (made prebound: its NICs are no longer ready) nor when what it
 * gained cannot take them (a NIC for a VM that wants a GPU). Their explanation groups the
 * hosts by reason with counts; --all-hosts gives every host's own. */
static void
test_incremental(PpTestDaemon *f, gconstpointer data)
{
  gint64 nic[6], gpu;
  g_autoptr(json_t) waiting = NULL;
  g_autoptr(json_t) gpu_vm = NULL;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *path = NULL;
  json_t *why;
  guint64 tries, reads;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  add_host(f, "node-b", f->trees[0], "test:///default");
  add_host(f, "node-c", f->trees[0], "test:///default");
  cli_ok(f, (const char *const[]){ "host", "disable", "node-b", NULL });
  cli_ok(f, (const char *const[]){ "host", "disable", "node-c", NULL });

  /* node-a has 4 NICs of class 0200: 4 run, 2 wait as one group. */
  for (guint i = 0; i < G_N_ELEMENTS(nic); i++)
    nic[i] = pp_test_vm_create(f, NIC_TEMPLATE);
  for (guint i = 0; i < 4; i++)
    json_decref(pp_test_wait_vm(f, nic[i], "running"));
  json_decref(wait_explained(f, nic[4], NULL));
  waiting = wait_explained(f, nic[5], "no free device matches PCI[0] (CLASS=0200)");
  why = json_object_get(waiting, "explanation");
  g_assert_cmpuint(json_array_size(why), ==, 2);
  g_assert_cmpint(json_integer_value(json_object_get(json_array_get(why, 0), "hosts_count")), ==,
                  1);
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(why, 1), "summary")), ==,
                  "disabled");
  g_assert_cmpint(json_integer_value(json_object_get(json_array_get(why, 1), "hosts_count")), ==,
                  2);
  g_assert_cmpstr(
      json_string_value(json_array_get(json_object_get(json_array_get(why, 1), "hosts"), 1)), ==,
      "node-c");

  /* The CLI: grouped, and every host with --all-hosts. */
  path = g_strdup_printf("%" G_GINT64_FORMAT, nic[5]);
  pp_test_cli(f, (const char *const[]){ "vm", "show", path, "--all-hosts", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "WHY PENDING\n\n  node-a: no free device matches PCI[0] "
                                   "(CLASS=0200): 0000:"));
  g_assert_nonnull(strstr(run.out, "  2 hosts: disabled (node-b, node-c)\n    node-b: disabled\n"));
  g_assert_nonnull(strstr(run.out, "\nALL HOSTS\n\n"));
  g_assert_nonnull(strstr(run.out, "\n  node-c: disabled\n"));
  pp_test_run_clear(&run);
  /* Without it, no host-by-host account. */
  pp_test_cli(f, (const char *const[]){ "vm", "show", path, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, "ALL HOSTS"));
  pp_test_run_clear(&run);
  {
    g_auto(PpTestReply) reply = { 0 };
    g_autofree char *api = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "?all_hosts=2", nic[5]);

    pp_test_http(f, f->socket, NULL, "GET", api, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 400);
    g_assert_nonnull(strstr(reply.body->str, "query 'all_hosts' must be 0 or 1"));
  }

  /* A change with no gain: the hosts are read again, no VM is tried. */
  tries = pp_test_metric(f, "pcipass_scheduler_tries_total");
  reads = pp_test_metric(f, "pcipass_scheduler_host_reads_total");
  cli_ok(f, (const char *const[]){ "host", "update", "node-a", "--prebound", "yes", NULL });
  wait_metric_above(f, "pcipass_scheduler_host_reads_total", reads);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_scheduler_tries_total"), ==, tries);
  /* Back: a gain (its free NICs, none here, would be ready again). */
  reads = pp_test_metric(f, "pcipass_scheduler_host_reads_total");
  cli_ok(f, (const char *const[]){ "host", "update", "node-a", "--prebound", "no", NULL });
  wait_metric_above(f, "pcipass_scheduler_host_reads_total", reads);

  /* A GPU VM: its own group, tried once. */
  tries = pp_test_metric(f, "pcipass_scheduler_tries_total");
  gpu = pp_test_vm_create(f, NVIDIA_TEMPLATE);
  json_decref(wait_explained(f, gpu, "no device matches PCI[0] (VENDOR=10de)"));
  g_assert_cmpuint(pp_test_metric(f, "pcipass_scheduler_tries_total"), ==, tries + 1);

  /* A NIC freed: the oldest waiting NIC VM takes it and the next one is
   * tried and waits: two tries. The GPU VM is not tried: the host that
   * gained (a NIC) has no GPU for it. */
  tries = pp_test_metric(f, "pcipass_scheduler_tries_total");
  {
    g_auto(PpTestReply) reply = { 0 };

    vm_action(f, nic[0], "terminate", 202, &reply);
  }
  json_decref(pp_test_wait_vm(f, nic[4], "running"));
  json_decref(wait_explained(f, nic[5], NULL));
  json_decref(pp_test_wait_vm(f, nic[0], "done"));
  g_assert_cmpuint(pp_test_metric(f, "pcipass_scheduler_tries_total"), ==, tries + 2);

  /* Hosts enabled: the last NIC VM runs on one; the GPU VM's explanation
   * groups all three hosts under one reason. */
  cli_ok(f, (const char *const[]){ "host", "enable", "node-b", NULL });
  cli_ok(f, (const char *const[]){ "host", "enable", "node-c", NULL });
  json_decref(pp_test_wait_host(f, "node-b", "monitored", 0));
  json_decref(pp_test_wait_host(f, "node-c", "monitored", 0));
  json_decref(pp_test_wait_vm(f, nic[5], "running"));
  {
    gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

    for (;;) {
      gpu_vm = pp_test_vm_get(f, gpu);
      why = json_object_get(gpu_vm, "explanation");
      if (json_array_size(why) == 1)
        break;
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_clear_pointer(&gpu_vm, json_decref);
      g_usleep(50 * 1000);
    }
  }
  g_assert_cmpint(json_integer_value(json_object_get(json_array_get(why, 0), "hosts_count")), ==,
                  3);
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(why, 0), "summary")), ==,
                  "no device matches PCI[0] (VENDOR=10de)");
  g_assert_cmpuint(json_array_size(json_object_get(json_array_get(why, 0), "hosts")), ==, 3);
  pp_test_daemon_stop(f);
}

/* A libvirt test driver of its own for a host: @domains (defined, shut
 * off, so that starting a VM of that name fails), in a file of the test's
 * folder. Returns: (transfer full): its URI. */
static char *
test_driver_uri(PpTestDaemon *f, const char *file, const char *const *domains)
{
  g_autofree char *path = g_build_filename(f->dir, file, NULL);
  g_autoptr(GString) xml = g_string_new("<node>\n");

  for (guint i = 0; domains != NULL && domains[i] != NULL; i++)
    g_string_append_printf(xml,
                           "  <domain type='test' "
                           "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
                           "    <name>%s</name><memory>65536</memory>\n"
                           "    <os><type>hvm</type></os><test:runstate>5</test:runstate>\n"
                           "  </domain>\n",
                           domains[i]);
  g_string_append(xml, "</node>\n");
  pp_test_write_file(path, xml->str);
  return g_strdup_printf("test://%s", path);
}

/* The reasons of a VM's history, one per line. Returns: (transfer full) */
static char *
history_text(json_t *vm)
{
  GString *out = g_string_new(NULL);
  size_t i;
  json_t *change;

  json_array_foreach(json_object_get(vm, "history"), i, change)
      g_string_append_printf(out, "%s: %s\n", json_string_value(json_object_get(change, "to")),
                             json_string_value(json_object_get(change, "reason")));
  return g_string_free(out, FALSE);
}

/* A host whose libvirt cannot be reached is in state error with libvirt's
 * words and is not chosen; once its libvirt answers (checked every
 * monitor pass), it is monitored again and the pending VM runs there. */
static void
test_libvirt_unreachable(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename(f->dir, "later.xml", NULL);
  g_autofree char *uri = g_strdup_printf("test://%s", missing);
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) vm = NULL;
  const char *libvirt_error;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host_in(f, "node-a", f->trees[0], uri, NULL, "error");
  host = pp_test_wait_host(f, "node-a", "error", 0);
  libvirt_error = json_string_value(json_object_get(host, "libvirt_error"));
  g_assert_nonnull(libvirt_error);
  g_assert_nonnull(strstr(libvirt_error, missing));
  /* The probe itself worked: only libvirt is wrong. */
  g_assert_true(json_is_null(json_object_get(host, "error")));
  g_assert_cmpint(json_integer_value(json_object_get(host, "pci_total")), >, 0);

  id = pp_test_vm_create(f, NIC_TEMPLATE);
  vm = wait_explained(f, id, "its libvirt does not answer");
  /* Not libvirt's words, which name the host's URI: every owner of a
   * pending VM reads them; host show has them, for an administrator. */
  g_assert_null(strstr(json_string_value(json_object_get(
                           json_array_get(json_object_get(vm, "explanation"), 0), "reason")),
                       missing));
  g_clear_pointer(&vm, json_decref);

  /* libvirt answers: the next pass puts it back, the VM runs there. */
  g_clear_pointer(&host, json_decref);
  g_free(test_driver_uri(f, "later.xml", NULL));
  g_assert_true(g_file_test(missing, G_FILE_TEST_EXISTS));
  host = pp_test_wait_host(f, "node-a", "monitored", 0);
  g_assert_true(json_is_null(json_object_get(host, "libvirt_error")));
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(vm, "host"), "name")), ==,
                  "node-a");
  pp_test_daemon_stop(f);
}

/* A deploy libvirt refuses on one host goes back to pending and is placed
 * on another host; each try is in the VM's history. */
static void
test_deploy_retry(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *uri =
      test_driver_uri(f, "taken.xml", (const char *const[]){ "pcipass-1", NULL });
  g_autoptr(json_t) vm = NULL;
  g_autofree char *history = NULL;
  g_autofree char *log = NULL;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], uri);
  add_host(f, "node-b", f->trees[0], "test:///default");
  json_decref(pp_test_wait_host(f, "node-a", "monitored", 0));
  json_decref(pp_test_wait_host(f, "node-b", "monitored", 0));
  /* Both fit; pack takes the first, node-a, whose libvirt refuses. */
  id = pp_test_vm_create(f, NIC_TEMPLATE);
  g_assert_cmpint(id, ==, 1);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(vm, "host"), "name")), ==,
                  "node-b");
  g_assert_cmpint(json_integer_value(json_object_get(vm, "tries")), ==, 1);
  history = history_text(vm);
  g_test_message("%s", history);
  g_assert_nonnull(strstr(history, "deploying: placed on host 'node-a' with 1 device\n"
                                   "pending: deploy 1 of 3 failed on host 'node-a', placing it "
                                   "again: libvirt: starting pcipass-1 on "));
  g_assert_nonnull(strstr(history, "already exists"));
  g_assert_nonnull(strstr(history, "deploying: placed on host 'node-b' with 1 device\n"
                                   "running: (null)\n"));
  /* node-a keeps nothing for it. */
  {
    g_autoptr(json_t) a = pp_test_host_show(f, "node-a");

    g_assert_cmpint(json_integer_value(json_object_get(a, "pci_free")), ==,
                    json_integer_value(json_object_get(a, "pci_total")));
  }
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "deploy 1 of 3 failed on host 'node-a'"));
  pp_test_daemon_stop(f);
}

/* With no other host, the tries run out: failed with the last reason,
 * holding nothing. Its host given a libvirt URI that works (host update),
 * vm retry makes it pending again, tries counted anew, and it runs. */
static void
test_deploy_gives_up(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *uri =
      test_driver_uri(f, "taken.xml", (const char *const[]){ "pcipass-1", NULL });
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) host = NULL;
  g_auto(PpTestRun) run = { 0 };
  const char *reason;
  gint64 id;

  pp_test_daemon_start(f, (const char *const[]){ "--deploy-tries", "2", NULL });
  add_host(f, "node-a", f->trees[0], uri);
  json_decref(pp_test_wait_host(f, "node-a", "monitored", 0));
  id = pp_test_vm_create(f, NIC_TEMPLATE);
  vm = pp_test_wait_vm(f, id, "failed");
  reason = json_string_value(json_object_get(vm, "reason"));
  g_assert_true(g_str_has_prefix(reason, "its deploy failed 2 times; the last, on host 'node-a': "
                                         "libvirt: starting pcipass-1 on "));
  g_assert_nonnull(strstr(reason, "already exists"));
  g_assert_cmpuint(json_array_size(json_object_get(vm, "devices")), ==, 0);
  g_assert_true(json_is_null(json_object_get(vm, "host")));
  host = pp_test_host_show(f, "node-a");
  g_assert_cmpint(json_integer_value(json_object_get(host, "pci_free")), ==,
                  json_integer_value(json_object_get(host, "pci_total")));
  g_clear_pointer(&vm, json_decref);

  /* pcipass host update --libvirt-uri: the next libvirt call uses it;
   * vm retry makes the VM pending again, tries from 0, and it runs. */
  pp_test_cli(
      f,
      (const char *const[]){ "host", "update", "node-a", "--libvirt-uri", "test:///default", NULL },
      &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "vm", "retry", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(vm, "host"), "name")), ==,
                  "node-a");
  g_assert_nonnull(
      strstr(json_string_value(json_object_get(vm, "domain_xml")), "<domain type='test'>"));
  g_assert_cmpint(json_integer_value(json_object_get(vm, "tries")), ==, 0);
  /* Retrying what is not failed changes nothing. */
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "vm", "retry", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(
      strstr(run.err, "VM 1 is running; only a failed or powered-off VM can be retried"));
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "running");
  pp_test_daemon_stop(f);
}

/* PATCH allow_needed / disallow_needed: a bad address, an undo of what
 * was not allowed, a user who is not the admin: refused, nothing changed;
 * the undo keeps the device from new VMs again, the VM holding it keeps
 * it. */
static void
test_allow_needed(PpTestDaemon *f, gconstpointer data)
{
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) token = NULL;
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) vm = NULL;
  static const struct {
    const char *body;
    long status;
    const char *message;
  } bad[] = {
    { "{\"allow_needed\": \"09:03\"}", 400,
      "allow_needed: '09:03' is not a PCI address (0000:00:1f.0 or 00:1f.0)" },
    { "{\"allow_needed\": 7}", 400, "allow_needed" },
    { "{\"disallow_needed\": \"09:03.0\"}", 404,
      "host 'node-a' has no allowance for 0000:09:03.0" },
    /* The undo is checked first: the good setting beside it is not made. */
    { "{\"disallow_needed\": \"02:00.0\", \"prebound\": true}", 404,
      "host 'node-a' has no allowance for 0000:02:00.0" },
  };
  gint64 a, b;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    pp_test_http(f, f->socket, NULL, "PATCH", "/v1/hosts/node-a", bad[i].body, strlen(bad[i].body),
                 &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, bad[i].status), bad[i].message));
    pp_test_reply_clear(&reply);
  }
  host = pp_test_host_show(f, "node-a");
  g_assert_cmpuint(json_array_size(json_object_get(host, "allowances")), ==, 0);
  g_assert_false(json_is_true(json_object_get(host, "prebound")));
  g_clear_pointer(&host, json_decref);

  /* Only the admin allows. */
  pp_test_cli(f, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", NULL });
  pp_test_http(f, NULL, json_string_value(json_object_get(token, "token")), "PATCH",
               "/v1/hosts/node-a", "{\"allow_needed\": \"09:03.0\"}", 27, &reply);
  pp_test_error_message(&reply, 403);
  pp_test_reply_clear(&reply);

  /* Allowed: a VM takes it. Taken back: the next VM pends, naming why;
   * the first keeps its device. */
  allow_vga(f, "node-a");
  a = pp_test_vm_create(f, VGA_TEMPLATE);
  json_decref(pp_test_wait_vm(f, a, "running"));
  pp_test_run_clear(&run);
  pp_test_cli(
      f, (const char *const[]){ "host", "update", "node-a", "--disallow-needed", "09:03.0", NULL },
      &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  vm = pp_test_vm_get(f, a);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "running");
  g_assert_cmpstr(vm_device(vm, 0), ==, "0000:09:03.0");
  g_clear_pointer(&vm, json_decref);
  vm_action(f, a, "terminate", 202, &reply);
  pp_test_reply_clear(&reply);
  json_decref(pp_test_wait_vm(f, a, "done"));
  b = pp_test_vm_create(f, VGA_TEMPLATE);
  vm = wait_explained(f, b, "is needed by host 'node-a'");
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "pending");
  pp_test_daemon_stop(f);
}

/* A domain named pcipass-1 that another pcipass store started runs on the
 * host (libvirt's test driver, its file naming it running, with another
 * store's metadata): pcipassd neither adopts it for its VM 1 (the start
 * fails, naming the other store) nor destroys it as an orphan (a retry,
 * after reconciles, fails the same way: it is still there). */
static void
test_foreign_domain(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename(f->dir, "foreign.xml", NULL);
  g_autofree char *uri = g_strdup_printf("test://%s", path);
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestRun) run = { 0 };
  const char *reason;
  gint64 id;

  pp_test_write_file(path,
                     "<node>\n"
                     "  <domain type='test' "
                     "xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
                     "    <name>pcipass-1</name><memory>65536</memory>\n"
                     "    <metadata><pcipass:vm xmlns:pcipass='https://pcipass.org/xmlns/domain/1' "
                     "store='ffffffffffffffffffffffffffffffff' id='1'/></metadata>\n"
                     "    <os><type>hvm</type></os><test:runstate>1</test:runstate>\n"
                     "  </domain>\n"
                     "</node>\n");
  pp_test_daemon_start(f, (const char *const[]){ "--deploy-tries", "1", NULL });
  add_host(f, "node-a", f->trees[0], uri);
  id = pp_test_vm_create(f, NIC_TEMPLATE);
  g_assert_cmpint(id, ==, 1);
  vm = pp_test_wait_vm(f, id, "failed");
  reason = json_string_value(json_object_get(vm, "reason"));
  g_assert_nonnull(strstr(reason, "a domain of that name runs there that another pcipass store "
                                  "(ffffffffffffffffffffffffffffffff) started"));
  g_clear_pointer(&vm, json_decref);
  /* Reconciles pass (one a second); the other's domain stays. */
  g_usleep(3 * G_USEC_PER_SEC);
  pp_test_cli(f, (const char *const[]){ "vm", "retry", "1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  vm = pp_test_wait_vm(f, id, "failed");
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "reason")), "another pcipass"));
  pp_test_daemon_stop(f);
}

/* A libvirtd that takes connections and never answers (stands in for a
 * host that hangs, which cannot be had here otherwise): a listening Unix
 * socket nobody accepts on. Returns: its fd; closing it makes every
 * client waiting on it fail. */
static int
hung_libvirtd(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
  memcpy(sa.sun_path, path, strlen(path) + 1);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  g_assert_cmpint(listen(fd, 16), ==, 0);
  return fd;
}

/* Terminate while the deploy is in flight: the VM is terminating at once;
 * when the start returns (here: fails, its host never answered), the
 * domain is destroyed or, the host not answering, what the VM holds is
 * released all the same. A host that hangs delays no other host's VM. */
static void
test_terminate_during_deploy(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *sock = g_build_filename(f->dir, "hung.sock", NULL);
  g_autofree char *uri = g_strdup_printf("qemu+unix:///system?socket=%s", sock);
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) other = NULL;
  g_autoptr(json_t) host = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_autofree char *history = NULL;
  int hung = hung_libvirtd(sock);
  gint64 id, fast;

  pp_test_daemon_start(f, NULL);
  add_host(f, "slow", f->trees[0], uri);
  add_host(f, "fast", f->trees[0], "test:///default");
  id = pp_test_vm_create(f, "NAME = stuck\nMEMORY = 512\nHOST = \"slow\"\n"
                            "PCI = [ CLASS = \"0200\" ]\n");
  vm = pp_test_wait_vm(f, id, "deploying");
  /* The other host deploys meanwhile. */
  fast = pp_test_vm_create(f, "NAME = quick\nMEMORY = 512\nHOST = \"fast\"\n"
                              "PCI = [ CLASS = \"0200\" ]\n");
  other = pp_test_wait_vm(f, fast, "running");
  /* Still starting: terminate is taken at once. */
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "deploying");
  vm_action(f, id, "terminate", 202, &reply);
  g_assert_cmpstr(json_string_value(json_object_get(reply.json, "state")), ==, "terminating");
  pp_test_reply_clear(&reply);

  /* The host's libvirt goes away: the start fails, and the VM is done. */
  close(hung);
  unlink(sock);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_vm(f, id, "done");
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "reason")),
                          "terminated while host 'slow' did not answer"));
  history = history_text(vm);
  g_assert_nonnull(strstr(history, "deploying: placed on host 'slow' with 1 device\n"
                                   "terminating: terminate asked\n"
                                   "done: terminated while host 'slow' did not answer"));
  host = pp_test_wait_host(f, "slow", "error", 0);
  g_assert_cmpint(json_integer_value(json_object_get(host, "pci_free")), ==,
                  json_integer_value(json_object_get(host, "pci_total")));
  g_assert_nonnull(json_string_value(json_object_get(host, "libvirt_error")));
  /* The other VM ran all along. */
  g_clear_pointer(&other, json_decref);
  other = pp_test_vm_get(f, fast);
  g_assert_cmpstr(pp_test_vm_state(other), ==, "running");
  pp_test_daemon_stop(f);
}

/* poweroff keeps the devices; resume runs it again; a restart of pcipassd
 * keeps VMs, hosts and allocations. */
static void
test_poweroff_resume_restart(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) off = NULL;
  g_autoptr(json_t) other = NULL;
  g_autoptr(json_t) back = NULL;
  g_autoptr(json_t) after = NULL;
  g_auto(PpTestReply) reply = { 0 };
  gint64 id, second;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  allow_vga(f, "node-a");
  id = pp_test_vm_create(f, VGA_TEMPLATE);
  vm = pp_test_wait_vm(f, id, "running");

  vm_action(f, id, "poweroff", 202, &reply);
  pp_test_reply_clear(&reply);
  off = pp_test_wait_vm(f, id, "poweroff");
  g_assert_cmpstr(vm_device(off, 0), ==, vm_device(vm, 0));

  /* Its VGA stays reserved: another VM asking for it pends. */
  second = pp_test_vm_create(f, VGA_TEMPLATE);
  other = wait_explained(f, second, NULL);
  g_assert_cmpstr(pp_test_vm_state(other), ==, "pending");

  /* Only a running VM powers off; only an off one resumes. */
  vm_action(f, id, "poweroff", 409, &reply);
  g_assert_nonnull(strstr(pp_test_error_message(&reply, 409), "is poweroff"));
  pp_test_reply_clear(&reply);
  vm_action(f, second, "resume", 409, &reply);
  pp_test_reply_clear(&reply);

  vm_action(f, id, "resume", 202, &reply);
  pp_test_reply_clear(&reply);
  back = pp_test_wait_vm(f, id, "running");
  g_assert_cmpstr(vm_device(back, 0), ==, vm_device(vm, 0));

  /* A restart: the store has it all. */
  pp_test_daemon_stop(f);
  pp_test_daemon_start(f, (const char *const[]){ "--monitor-interval", "3600", NULL });
  after = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(after), ==, "running");
  g_assert_cmpstr(vm_device(after, 0), ==, vm_device(vm, 0));
  g_clear_pointer(&other, json_decref);
  other = pp_test_vm_get(f, second);
  g_assert_cmpstr(pp_test_vm_state(other), ==, "pending");
  pp_test_daemon_stop(f);
}

/* Users see and touch only their own VMs. */
static void
test_ownership(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) token = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *mine = NULL;
  const char *secret;
  gint64 root_vm, alice_vm;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  allow_vga(f, "node-a");
  pp_test_cli(f, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", NULL });
  secret = json_string_value(json_object_get(token, "token"));
  root_vm = pp_test_vm_create(f, NIC_TEMPLATE);

  {
    g_autoptr(json_t) body = json_pack("{s:s}", "template", VGA_TEMPLATE);
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

    pp_test_http(f, NULL, secret, "POST", "/v1/vms", dumped, strlen(dumped), &reply);
    g_assert_cmpint(reply.status, ==, 201);
    g_assert_cmpstr(json_string_value(json_object_get(reply.json, "owner")), ==, "alice");
    alice_vm = json_integer_value(json_object_get(reply.json, "id"));
    pp_test_reply_clear(&reply);
  }

  /* alice lists hers only; root's is 404 to her, to read and to terminate. */
  pp_test_http(f, NULL, secret, "GET", "/v1/vms", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 1);
  pp_test_reply_clear(&reply);
  path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT, root_vm);
  pp_test_http(f, NULL, secret, "GET", path, NULL, 0, &reply);
  pp_test_error_message(&reply, 404);
  pp_test_reply_clear(&reply);
  g_free(path);
  path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/terminate", root_vm);
  pp_test_http(f, NULL, secret, "POST", path, NULL, 0, &reply);
  pp_test_error_message(&reply, 404);
  pp_test_reply_clear(&reply);
  json_decref(pp_test_wait_vm(f, root_vm, "running"));

  /* She terminates her own; the admin sees both. */
  mine = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/terminate", alice_vm);
  json_decref(pp_test_wait_vm(f, alice_vm, "running"));
  pp_test_http(f, NULL, secret, "POST", mine, NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 202);
  pp_test_reply_clear(&reply);
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms?all=1", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 2);
  pp_test_daemon_stop(f);
}

/* VMs by name, through the real CLI and the API: the caller's own only,
 * a done VM leaves its name to the live one, a name two live VMs share
 * asks for an id, and another user's VM stays unknown, in the words of a
 * VM that does not exist. */
static void
test_by_name(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) token = NULL;
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *token_file = g_build_filename(f->dir, "alice.token", NULL);
  g_autofree char *url = NULL;
  g_autofree char *want = NULL;
  gint64 audio, secret, alice_audio, again;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  audio = pp_test_vm_create(f, "NAME = audio\nMEMORY = 256\nPCI = [ CLASS = \"0200\" ]\n");
  secret = pp_test_vm_create(f, "NAME = secret\nMEMORY = 256\n");
  json_decref(pp_test_wait_vm(f, audio, "running"));
  json_decref(pp_test_wait_vm(f, secret, "running"));

  /* pcipass vm show NAME */
  pp_test_cli(f, (const char *const[]){ "vm", "show", "audio", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  want = g_strdup_printf("ID             : %" G_GINT64_FORMAT "\nNAME           : audio\n", audio);
  g_assert_true(g_str_has_prefix(run.out, want));
  pp_test_run_clear(&run);

  /* poweroff, resume and terminate by name. */
  pp_test_cli(f, (const char *const[]){ "vm", "poweroff", "secret", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(f, secret, "poweroff"));
  pp_test_cli(f, (const char *const[]){ "vm", "resume", "secret", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(f, secret, "running"));
  pp_test_cli(f, (const char *const[]){ "vm", "terminate", "secret", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(f, secret, "done"));

  /* A new VM of that name: the done one does not stand in its way. */
  again = pp_test_vm_create(f, "NAME = secret\nMEMORY = 256\n");
  vm = pp_test_cli_json(f, (const char *const[]){ "vm", "show", "secret", NULL });
  g_assert_cmpint(json_integer_value(json_object_get(vm, "id")), ==, again);
  g_clear_pointer(&vm, json_decref);

  /* alice, over TCP with her token: her own "audio". */
  pp_test_cli(f, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", NULL });
  pp_test_write_file(token_file, json_string_value(json_object_get(token, "token")));
  g_assert_cmpint(chmod(token_file, 0600), ==, 0);
  url = g_strdup_printf("http://127.0.0.1:%u", f->port);
  {
    g_autoptr(json_t) body = json_pack("{s:s}", "template", "NAME = audio\nMEMORY = 256\n");
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

    pp_test_http(f, NULL, json_string_value(json_object_get(token, "token")), "POST", "/v1/vms",
                 dumped, strlen(dumped), &reply);
    g_assert_cmpint(reply.status, ==, 201);
    alice_audio = json_integer_value(json_object_get(reply.json, "id"));
    pp_test_reply_clear(&reply);
  }
  pp_test_cli(f,
              (const char *const[]){ "--url", url, "--token-file", token_file, "vm", "show",
                                     "audio", "--json", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  vm = json_loads(run.out, 0, NULL);
  g_assert_cmpint(json_integer_value(json_object_get(vm, "id")), ==, alice_audio);
  g_assert_cmpstr(json_string_value(json_object_get(vm, "owner")), ==, "alice");
  g_clear_pointer(&vm, json_decref);
  pp_test_run_clear(&run);

  /* root's "secret" is to alice what a VM that does not exist is. */
  {
    static const char *const keys[] = { "secret", "nothing-here" };

    for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
      g_autofree char *expect = g_strdup_printf("no VM '%s'", keys[i]);
      g_autofree char *said = g_strdup_printf("pcipass: %s\n", expect);
      g_autofree char *path = g_strdup_printf("/v1/vms/%s/terminate", keys[i]);

      pp_test_cli(f,
                  (const char *const[]){ "vm", "show", keys[i], "--url", url, "--token-file",
                                         token_file, NULL },
                  &run);
      g_assert_cmpint(run.status, ==, 2);
      g_assert_cmpstr(run.err, ==, said);
      pp_test_run_clear(&run);
      pp_test_http(f, NULL, json_string_value(json_object_get(token, "token")), "POST", path, NULL,
                   0, &reply);
      g_assert_cmpstr(pp_test_error_message(&reply, 404), ==, expect);
      pp_test_reply_clear(&reply);
    }
  }
  vm = pp_test_vm_get(f, again);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "running");
  g_clear_pointer(&vm, json_decref);

  /* The admin sees both "audio": ambiguous, exit 2, the ids, nothing done. */
  pp_test_cli(f, (const char *const[]){ "vm", "terminate", "audio", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_free(want);
  want = g_strdup_printf("pcipass: 2 VMs are named 'audio' (ids %" G_GINT64_FORMAT
                         ", %" G_GINT64_FORMAT "): use an id\n",
                         audio, alice_audio);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);
  vm = pp_test_vm_get(f, audio);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "running");
  pp_test_daemon_stop(f);
}

/* A VM with a console: its domain has the <graphics> libvirt's schema
 * takes, on the real test driver; its password is in no answer of the API
 * (template and domain XML say "(hidden)"), in no output of pcipass vm
 * show, table or JSON, and in no line of pcipassd's log (debug on). */
static void
test_graphics_secret(PpTestDaemon *f, gconstpointer data)
{
  static const char secret[] = "Zq7!xK2w";
  g_autofree char *text = g_strdup_printf(
      "NAME = desk\nMEMORY = 256\nPCI = [ CLASS = \"0200\" ]\n"
      "GRAPHICS = [ TYPE = \"VNC\", LISTEN = \"0.0.0.0\", PORT = \"5905\", PASSWD = \"%s\" ]\n",
      secret);
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *log = NULL;
  json_t *graphics;
  const char *xml;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  id = pp_test_vm_create(f, text);
  vm = pp_test_wait_vm(f, id, "running");
  xml = json_string_value(json_object_get(vm, "domain_xml"));
  g_assert_nonnull(strstr(xml, "<graphics type='vnc' port='5905' autoport='no' listen='0.0.0.0' "
                               "passwd='(hidden)'>\n"
                               "      <listen type='address' address='0.0.0.0'/>\n"));
  assert_domain_xml_valid(f, vm);
  g_assert_nonnull(
      strstr(json_string_value(json_object_get(vm, "template")), "PASSWD = \"(hidden)\" ]\n"));
  graphics = json_object_get(vm, "graphics");
  g_assert_cmpstr(json_string_value(json_object_get(graphics, "type")), ==, "vnc");
  g_assert_cmpint(json_integer_value(json_object_get(graphics, "port")), ==, 5905);
  g_assert_true(json_is_true(json_object_get(graphics, "password")));

  /* Every way to read it back. */
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms?all=1", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_null(strstr(reply.body->str, secret));
  pp_test_reply_clear(&reply);
  pp_test_cli(f, (const char *const[]){ "vm", "show", "desk", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\nGRAPHICS       : vnc, listen 0.0.0.0, port 5905, password "
                                   "set\n"));
  g_assert_null(strstr(run.out, secret));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "--json", "vm", "show", "desk", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, secret));
  pp_test_run_clear(&run);

  /* A template copied from vm show would start a console with the mark
   * for a password: refused. And a VNC password too long, without it in
   * the message. */
  {
    g_autofree char *copied = g_strdup(json_string_value(json_object_get(vm, "template")));
    g_autofree char *too_long =
        g_strdup_printf("MEMORY = 256\nGRAPHICS = [ TYPE = VNC, PASSWD = \"%s9\" ]\n", secret);

    pp_test_post_template(f, "/v1/vms", copied, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 400), "PASSWD is '(hidden)'"));
    pp_test_reply_clear(&reply);
    pp_test_post_template(f, "/v1/vms", too_long, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 400), "longer than 8"));
    g_assert_null(strstr(reply.body->str, secret));
    pp_test_reply_clear(&reply);
  }

  /* Powered off and resumed: the domain is made again, the password too. */
  vm_action(f, id, "poweroff", 202, &reply);
  pp_test_reply_clear(&reply);
  json_decref(pp_test_wait_vm(f, id, "poweroff"));
  vm_action(f, id, "resume", 202, &reply);
  pp_test_reply_clear(&reply);
  json_decref(pp_test_wait_vm(f, id, "running"));
  pp_test_daemon_stop(f);
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "desk"));
  g_assert_null(strstr(log, secret));
}

/* Bad templates: 400 with the line, column and OpenNebula's words; nothing
 * created. The dry run places nothing. */
static void
test_templates_and_dry_run(PpTestDaemon *f, gconstpointer data)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "MEMORY = 512\nPCI = [ SHORT_ADDRESS = \"02:00.0\", VENDOR = \"14e4\" ]\n",
      "line 2, column 1: PCI: SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS" },
    { "MEMORY = 512\nPCI = [ VENDOR = \"14g4\" ]\n",
      "line 2, column 9: PCI: Wrong Hex value for PCI attribute VENDOR" },
    { "CPU = 1\n", "MEMORY is required" },
    { "MEMORY = 512\nA = foo bar\n", "line 2" },
    { "MEMORY = 512\nCPU = 1\n\nUSER_INPUTS = [ NETWORK = \"YES\" ]\n",
      "line 4, column 1: attribute 'USER_INPUTS' is not supported by pcipass" },
    { "MEMORY = 512\nCONTEXT = [ NETWORK = \"YES\",\n  ETH0_IP = \"10.0.0.9\" ]\n",
      "line 3, column 3: CONTEXT: ETH0_IP is set by pcipass from NIC 0's lease" },
  };
  g_autofree char *tmpl = g_build_filename(f->dir, "vm.tmpl", NULL);
  g_autofree char *want = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  json_t *error;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  allow_vga(f, "node-a");
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *message;

    pp_test_post_template(f, "/v1/vms", cases[i].text, &reply);
    message = pp_test_error_message(&reply, 400);
    if (strstr(message, cases[i].message) == NULL)
      g_error("'%s' gave '%s'", cases[i].text, message);
    pp_test_reply_clear(&reply);
  }

  /* The error says where apart from the message: line and column, or the
   * attribute missing. */
  pp_test_post_template(f, "/v1/vms/place", cases[1].text, &reply);
  error = json_object_get(reply.json, "error");
  g_assert_cmpint(reply.status, ==, 400);
  g_assert_cmpint(json_integer_value(json_object_get(error, "line")), ==, 2);
  g_assert_cmpint(json_integer_value(json_object_get(error, "column")), ==, 9);
  g_assert_null(json_object_get(error, "missing"));
  pp_test_reply_clear(&reply);
  pp_test_post_template(f, "/v1/vms", cases[2].text, &reply);
  error = json_object_get(reply.json, "error");
  g_assert_cmpstr(json_string_value(json_object_get(error, "missing")), ==, "MEMORY");
  g_assert_null(json_object_get(error, "line"));
  pp_test_reply_clear(&reply);

  /* pcipass names the file: FILE:LINE:COLUMN, or FILE: for a missing
   * attribute; exit 2. */
  pp_test_write_file(tmpl, cases[4].text);
  pp_test_cli(f, (const char *const[]){ "vm", "create", tmpl, NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  want = g_strdup_printf(
      "pcipass: %s:4:1: attribute 'USER_INPUTS' is not supported by pcipass (it "
      "reads NAME, CPU, VCPU, MEMORY, HOST, MACHINE, DISK, NIC, PCI, OS, GRAPHICS and CONTEXT)\n",
      tmpl);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);
  pp_test_write_file(tmpl, cases[2].text);
  pp_test_cli(f, (const char *const[]){ "vm", "place", tmpl, NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_free(want);
  want = g_strdup_printf("pcipass: %s: MEMORY is required (add MEMORY = <MiB>)\n", tmpl);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);
  pp_test_http(f, f->socket, NULL, "POST", "/v1/vms", "{\"template\": 7}", 15, &reply);
  pp_test_error_message(&reply, 400);
  pp_test_reply_clear(&reply);
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms/place", NULL, 0, &reply);
  pp_test_error_message(&reply, 404);
  pp_test_reply_clear(&reply);

  /* The dry run: where, with which device; or why nowhere. */
  pp_test_post_template(f, "/v1/vms/place", VGA_TEMPLATE, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_true(json_is_true(json_object_get(reply.json, "fits")));
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(reply.json, "host"), "name")),
                  ==, "node-a");
  g_assert_cmpstr(json_string_value(json_object_get(
                      json_array_get(json_object_get(reply.json, "devices"), 0), "type")),
                  ==, "102b:0532:0300");
  pp_test_reply_clear(&reply);
  pp_test_post_template(f, "/v1/vms/place", NVIDIA_TEMPLATE, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_true(json_is_false(json_object_get(reply.json, "fits")));
  g_assert_cmpstr(json_string_value(json_object_get(
                      json_array_get(json_object_get(reply.json, "explanation"), 0), "reason")),
                  ==, "no device matches PCI[0] (VENDOR=10de)");
  pp_test_reply_clear(&reply);

  /* Nothing was created. */
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms?all=1", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 0);
  pp_test_daemon_stop(f);
}

/* Images and who may name paths. The image folder of these tests, and
 * alice: a user who is not an administrator, over TCP with her token. */
typedef struct {
  char *images;     /* the daemon's image folder */
  char *token;      /* alice's secret */
  char *token_file; /* a file holding it, for the CLI */
  char *url;        /* the daemon's TCP URL */
} Tenant;

static void
tenant_clear(Tenant *t)
{
  g_free(t->images);
  g_free(t->token);
  g_free(t->token_file);
  g_free(t->url);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Tenant, tenant_clear)

/* A qcow2 of version 3 that stands alone: its header, as qemu-img writes
 * it (QEMU's docs/interop/qcow2.txt), enough for pcipassd and for the test
 * driver, which reads no disk. */
static void
write_qcow2(const char *path, guint64 virtual_size)
{
  guint8 header[104] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
  g_autoptr(GError) error = NULL;

  header[23] = 16; /* cluster_bits */
  for (guint i = 0; i < 8; i++)
    header[24 + i] = (guint8)(virtual_size >> (56 - 8 * i));
  g_file_set_contents(path, (const char *)header, sizeof(header), &error);
  g_assert_no_error(error);
}

/* Starts pcipassd with an image folder holding debian12.qcow2,
 * vmlinuz-6.1 and initrd-6.1.img, and host node-a; makes alice. */
static void
start_with_images(PpTestDaemon *f, Tenant *t)
{
  g_autoptr(json_t) token = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *kernel = NULL;
  g_autofree char *initrd = NULL;
  g_auto(PpTestRun) run = { 0 };

  t->images = g_build_filename(f->dir, "images", NULL);
  g_assert_cmpint(g_mkdir_with_parents(t->images, 0755), ==, 0);
  qcow2 = g_build_filename(t->images, "debian12.qcow2", NULL);
  kernel = g_build_filename(t->images, "vmlinuz-6.1", NULL);
  initrd = g_build_filename(t->images, "initrd-6.1.img", NULL);
  write_qcow2(qcow2, G_GUINT64_CONSTANT(8) << 30);
  pp_test_write_file(kernel, "a kernel");
  pp_test_write_file(initrd, "an initrd");
  pp_test_daemon_start(f, (const char *const[]){ "--image-dirs", t->images, NULL });

  pp_test_cli(f, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", NULL });
  t->token = g_strdup(json_string_value(json_object_get(token, "token")));
  t->token_file = g_build_filename(f->dir, "alice.token", NULL);
  pp_test_write_file(t->token_file, t->token);
  g_assert_cmpint(chmod(t->token_file, 0600), ==, 0);
  t->url = g_strdup_printf("http://127.0.0.1:%u", f->port);
}

/* POSTs @text as alice. */
static void
post_as(PpTestDaemon *f, const Tenant *t, const char *path, const char *text, PpTestReply *ret)
{
  g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

  pp_test_http(f, NULL, t->token, "POST", path, dumped, strlen(dumped), ret);
}

/* The VMs the store has, of any state: what a refused template must leave
 * as it was. */
static int
vm_rows(PpTestDaemon *f)
{
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  sqlite3 *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  int n;

  g_assert_cmpint(sqlite3_open_v2(db, &sql, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout(sql, 5000);
  g_assert_cmpint(sqlite3_prepare_v2(sql, "SELECT COUNT(*) FROM vms", -1, &stmt, NULL), ==,
                  SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(sql);
  return n;
}

/* A PCI NIC's VLAN_ID in a template of alice's is refused, by the create
 * and by the dry run, over the API and through pcipass, saying where and
 * what to do; nothing is made. A host path is refused first, as the text
 * has it or not. The administrator's same template is not refused for it,
 * and neither is alice's without VLAN_ID (whatever else becomes of them:
 * the networks are another test's). */
static void
test_vlan_id_admin_only(PpTestDaemon *f, gconstpointer data)
{
  static const char *const text = "NAME = vf\nMEMORY = 256\n"
                                  "PCI = [ TYPE = \"NIC\", NETWORK = \"passthrough\",\n"
                                  "    VLAN_ID = 100, CLASS = \"0200\" ]\n";
  static const char *const message =
      "line 4, column 5: PCI: VLAN_ID sets the VLAN of a passed-through NIC, which only an "
      "administrator may do; leave it out to use the network's VLAN_ID";
  static const char *const paths[] = { "/v1/vms", "/v1/vms/place" };
  g_auto(Tenant) t = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *tmpl = g_build_filename(f->dir, "vf.tmpl", NULL);
  g_autofree char *want = NULL;
  g_autofree char *log = NULL;
  g_autofree char *with_path = g_strconcat(text, "DISK = [ SOURCE = \"/dev/sda\" ]\n", NULL);

  start_with_images(f, &t);
  add_host(f, "node-a", f->trees[0], "test:///default");

  for (guint p = 0; p < G_N_ELEMENTS(paths); p++) {
    json_t *error;

    post_as(f, &t, paths[p], text, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 400), ==, message);
    error = json_object_get(reply.json, "error");
    g_assert_cmpint(json_integer_value(json_object_get(error, "line")), ==, 4);
    g_assert_cmpint(json_integer_value(json_object_get(error, "column")), ==, 5);
    pp_test_reply_clear(&reply);
    post_as(f, &t, paths[p], with_path, &reply);
    g_assert_true(g_str_has_prefix(pp_test_error_message(&reply, 400),
                                   "line 5, column 10: DISK: SOURCE '/dev/sda' names a file"));
    pp_test_reply_clear(&reply);
  }
  /* Through pcipass: the file's name and position, exit 2. */
  pp_test_write_file(tmpl, text);
  pp_test_cli(f,
              (const char *const[]){ "--url", t.url, "--token-file", t.token_file, "vm", "create",
                                     tmpl, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 2);
  want = g_strdup_printf("pcipass: %s:4:5: PCI: VLAN_ID sets the VLAN of a passed-through NIC, "
                         "which only an administrator may do; leave it out to use the network's "
                         "VLAN_ID\n",
                         tmpl);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);

  /* Nothing was made; the log says who tried. */
  g_assert_cmpint(vm_rows(f), ==, 0);
  log = pp_test_daemon_log(f);
  g_assert_nonnull(
      strstr(log, "a template of 'alice' sets the VLAN of a PCI NIC (PCI: VLAN_ID), refused"));

  /* Not refused for this: the administrator's, and alice's without it. */
  pp_test_post_template(f, "/v1/vms/place", text, &reply);
  g_assert_null(strstr(reply.body->str, "only an administrator"));
  pp_test_reply_clear(&reply);
  post_as(f, &t, "/v1/vms/place",
          "MEMORY = 256\nPCI = [ TYPE = \"NIC\", NETWORK = \"passthrough\", CLASS = \"0200\" ]\n",
          &reply);
  g_assert_null(strstr(reply.body->str, "only an administrator"));
  pp_test_reply_clear(&reply);
  g_assert_cmpint(vm_rows(f), ==, 0);
  pp_test_daemon_stop(f);
}

/* A template of alice's that names a file of the host is refused, by the
 * create and by the dry run, over the API and through pcipass, saying
 * which key, where and what to use; nothing is made. The administrator's
 * same template is taken, and its domain names the path. */
static void
test_host_paths_admin_only(PpTestDaemon *f, gconstpointer data)
{
  static const struct {
    const char *text;
    int line, column;
    const char *message;
  } cases[] = {
    { "NAME = disk\nMEMORY = 256\nDISK = [ SOURCE = \"/dev/sda\" ]\n", 3, 10,
      "line 3, column 10: DISK: SOURCE '/dev/sda' names a file of the host, which only an "
      "administrator may do; use an image: DISK = [ IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
    { "NAME = boot\nMEMORY = 256\nOS = [ KERNEL = \"/etc/shadow\" ]\n", 3, 8,
      "line 3, column 8: OS: KERNEL '/etc/shadow' names a file of the host, which only an "
      "administrator may do; use an image: OS = [ KERNEL_IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
    /* An image beside it does not make the path right. */
    { "MEMORY = 256\nOS = [ KERNEL_IMAGE = vmlinuz-6.1, INITRD = \"/etc/shadow\" ]\n", 2, 36,
      "line 2, column 36: OS: INITRD '/etc/shadow' names a file of the host, which only an "
      "administrator may do; use an image: OS = [ INITRD_IMAGE = \"NAME\" ] (pcipass image list "
      "shows them)" },
  };
  static const char *const paths[] = { "/v1/vms", "/v1/vms/place" };
  g_auto(Tenant) t = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *tmpl = g_build_filename(f->dir, "host.tmpl", NULL);
  g_autofree char *want = NULL;
  g_autofree char *log = NULL;
  g_autoptr(json_t) vm = NULL;
  const char *xml;
  gint64 id;

  start_with_images(f, &t);
  add_host(f, "node-a", f->trees[0], "test:///default");

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    for (guint p = 0; p < G_N_ELEMENTS(paths); p++) {
      json_t *error;

      post_as(f, &t, paths[p], cases[i].text, &reply);
      g_assert_cmpstr(pp_test_error_message(&reply, 400), ==, cases[i].message);
      error = json_object_get(reply.json, "error");
      g_assert_cmpint(json_integer_value(json_object_get(error, "line")), ==, cases[i].line);
      g_assert_cmpint(json_integer_value(json_object_get(error, "column")), ==, cases[i].column);
      pp_test_reply_clear(&reply);
    }
  }
  /* Through pcipass: the file's name and position, exit 2. */
  pp_test_write_file(tmpl, cases[0].text);
  pp_test_cli(f,
              (const char *const[]){ "--url", t.url, "--token-file", t.token_file, "vm", "create",
                                     tmpl, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 2);
  want = g_strdup_printf("pcipass: %s:3:10: DISK: SOURCE '/dev/sda' names a file of the host, "
                         "which only an administrator may do; use an image: DISK = [ IMAGE = "
                         "\"NAME\" ] (pcipass image list shows them)\n",
                         tmpl);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);
  pp_test_cli(f,
              (const char *const[]){ "--url", t.url, "--token-file", t.token_file, "vm", "place",
                                     tmpl, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, want);
  pp_test_run_clear(&run);

  /* Nothing was made: not in the list, not in the store; and the log says
   * who tried. */
  pp_test_http(f, f->socket, NULL, "GET", "/v1/vms?all=1", NULL, 0, &reply);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "vms")), ==, 0);
  pp_test_reply_clear(&reply);
  g_assert_cmpint(vm_rows(f), ==, 0);
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "a template of 'alice' names a file of the host (DISK: SOURCE), "
                               "refused"));

  /* The administrator may: the domain names the path as given. */
  id = pp_test_vm_create(f, cases[0].text);
  vm = pp_test_wait_vm(f, id, "running");
  xml = json_string_value(json_object_get(vm, "domain_xml"));
  g_assert_nonnull(strstr(xml, "      <driver name='qemu' type='raw'/>\n"
                               "      <source file='/dev/sda'/>\n"));
  assert_domain_xml_valid(f, vm);
  g_clear_pointer(&vm, json_decref);
  id = pp_test_vm_create(f, cases[1].text);
  vm = pp_test_wait_vm(f, id, "running");
  g_assert_nonnull(
      strstr(json_string_value(json_object_get(vm, "domain_xml")), "<kernel>/etc/shadow</kernel>"));
  g_assert_cmpint(vm_rows(f), ==, 2);
  pp_test_daemon_stop(f);
}

/* alice's VM from images: its domain names the files of the image folder
 * with their formats, and libvirt's schema takes it; pcipass image list
 * shows what she can name. */
static void
test_images(PpTestDaemon *f, gconstpointer data)
{
  static const char text[] =
      "NAME = from-images\nMEMORY = 512\n"
      "DISK = [ IMAGE = \"debian12\" ]\n"
      "DISK = [ IMAGE = \"initrd-6.1.img\", TARGET = vdc ]\n"
      "OS = [ KERNEL_IMAGE = \"vmlinuz-6.1\", INITRD_IMAGE = \"initrd-6.1\",\n"
      "       KERNEL_CMD = \"console=ttyS0 root=/dev/vda1\" ]\n"
      "PCI = [ CLASS = \"0200\" ]\n";
  g_auto(Tenant) t = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) listed = NULL;
  g_autofree char *want = NULL;
  g_autofree char *table = NULL;
  const char *xml;
  json_t *image;
  gint64 id;

  start_with_images(f, &t);
  add_host(f, "node-a", f->trees[0], "test:///default");

  /* The dry run finds them too. */
  post_as(f, &t, "/v1/vms/place", text, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_true(json_is_true(json_object_get(reply.json, "fits")));
  pp_test_reply_clear(&reply);

  post_as(f, &t, "/v1/vms", text, &reply);
  g_assert_cmpint(reply.status, ==, 201);
  g_assert_cmpstr(json_string_value(json_object_get(reply.json, "owner")), ==, "alice");
  id = json_integer_value(json_object_get(reply.json, "id"));
  pp_test_reply_clear(&reply);
  vm = pp_test_wait_vm(f, id, "running");
  xml = json_string_value(json_object_get(vm, "domain_xml"));
  /* The arch is the host's, from its capabilities: the test driver's
   * host is i686. */
  want = g_strdup_printf("  <os>\n"
                         "    <type arch='i686' machine='q35'>hvm</type>\n"
                         "    <kernel>%s/vmlinuz-6.1</kernel>\n"
                         "    <initrd>%s/initrd-6.1.img</initrd>\n"
                         "    <cmdline>console=ttyS0 root=/dev/vda1</cmdline>\n"
                         "  </os>\n",
                         t.images, t.images);
  if (strstr(xml, want) == NULL)
    g_error("no\n%s\nin\n%s", want, xml);
  g_free(want);
  want = g_strdup_printf("    <disk type='file' device='disk'>\n"
                         "      <driver name='qemu' type='qcow2'/>\n"
                         "      <source file='%s/debian12.qcow2'/>\n"
                         "      <target dev='vda' bus='virtio'/>\n"
                         "    </disk>\n"
                         "    <disk type='file' device='disk'>\n"
                         "      <driver name='qemu' type='raw'/>\n"
                         "      <source file='%s/initrd-6.1.img'/>\n"
                         "      <target dev='vdc' bus='virtio'/>\n"
                         "    </disk>\n",
                         t.images, t.images);
  if (strstr(xml, want) == NULL)
    g_error("no\n%s\nin\n%s", want, xml);
  assert_domain_xml_valid(f, vm);
  /* The template shown is hers, as written: names, no paths. */
  g_assert_cmpstr(json_string_value(json_object_get(vm, "template")), ==, text);

  /* pcipass image list, as alice: a table, and JSON. */
  pp_test_cli(
      f,
      (const char *const[]){ "--url", t.url, "--token-file", t.token_file, "image", "list", NULL },
      &run);
  g_assert_cmpint(run.status, ==, 0);
  table = g_strdup_printf("NAME        KIND   SIZE DIRECTORY\n"
                          "debian12    qcow2 104 B %s\n"
                          "initrd-6.1  raw     9 B %s\n"
                          "vmlinuz-6.1 raw     8 B %s\n",
                          t.images, t.images, t.images);
  g_assert_cmpstr(run.out, ==, table);
  pp_test_run_clear(&run);
  pp_test_cli(f,
              (const char *const[]){ "image", "list", "--url", t.url, "--token-file", t.token_file,
                                     "--json", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  listed = json_loads(run.out, 0, NULL);
  g_assert_nonnull(listed);
  g_assert_cmpuint(json_array_size(json_object_get(listed, "images")), ==, 3);
  g_assert_cmpstr(json_string_value(json_array_get(json_object_get(listed, "directories"), 0)), ==,
                  t.images);
  g_assert_true(json_is_false(json_object_get(listed, "truncated")));
  image = json_array_get(json_object_get(listed, "images"), 0);
  g_assert_cmpstr(json_string_value(json_object_get(image, "name")), ==, "debian12");
  g_assert_cmpstr(json_string_value(json_object_get(image, "kind")), ==, "qcow2");
  g_assert_cmpstr(json_string_value(json_object_get(image, "file")), ==, "debian12.qcow2");
  g_assert_cmpstr(json_string_value(json_object_get(image, "directory")), ==, t.images);
  g_assert_cmpint(json_integer_value(json_object_get(image, "size")), ==, 104);
  g_assert_cmpint(json_integer_value(json_object_get(image, "virtual_size")), ==,
                  G_GINT64_CONSTANT(8) << 30);
  pp_test_run_clear(&run);
  /* Without a token, nothing. */
  pp_test_http(f, NULL, NULL, "GET", "/v1/images", NULL, 0, &reply);
  pp_test_error_message(&reply, 401);
  pp_test_daemon_stop(f);
}

/* Every image that would leave the folder, or is no file, is refused at
 * create and at the dry run, with where and why; nothing is made. */
static void
test_image_escapes(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Tenant) t = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_autofree char *outside = g_build_filename(f->dir, "secret", NULL);
  g_autofree char *device = NULL;
  g_autofree char *fifo = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *evil = NULL;
  g_autofree char *inner = NULL;
  g_autofree char *hard = NULL;
  gboolean have_device;
  static const struct {
    const char *image;
    const char *message; /* after "line 3, column 10: DISK: IMAGE"; IMAGES: the folder */
  } cases[] = {
    { "../secret", " '../secret' is not an image name: 1 to 128 letters, digits, '.', '_', '+' "
                   "or '-', not starting with '.' (a name, not a path)" },
    { "sub/debian12", " 'sub/debian12' is not an image name" },
    { "..", " '..' is not an image name" },
    { ".hidden", " '.hidden' is not an image name" },
    { "evil", ": image 'evil' ('IMAGES/evil'): it is a symbolic link; pcipass takes only regular "
              "files from its image folders, and follows no link" },
    { "inner", ": image 'inner' ('IMAGES/inner.raw'): it is a symbolic link" },
    { "pipe", ": image 'pipe' ('IMAGES/pipe'): it is a named pipe (fifo), not a regular file" },
    { "folder", ": image 'folder' ('IMAGES/folder.img'): it is a folder, not a regular file" },
    { "hard", ": image 'hard' ('IMAGES/hard.raw'): it has 2 hard links" },
    { "nothere", ": no image 'nothere' in 'IMAGES' (pcipass image list shows the images)" },
    { "null", ": image 'null' ('IMAGES/null'): it is a character device, not a regular file" },
  };

  start_with_images(f, &t);
  add_host(f, "node-a", f->trees[0], "test:///default");
  pp_test_write_file(outside, "the host's secret");
  evil = g_build_filename(t.images, "evil", NULL);
  pp_test_symlink(outside, evil);
  inner = g_build_filename(t.images, "inner.raw", NULL);
  pp_test_symlink("vmlinuz-6.1", inner);
  fifo = g_build_filename(t.images, "pipe", NULL);
  g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
  folder = g_build_filename(t.images, "folder.img", NULL);
  g_assert_cmpint(g_mkdir_with_parents(folder, 0755), ==, 0);
  hard = g_build_filename(t.images, "hard.raw", NULL);
  g_assert_cmpint(link(outside, hard), ==, 0);
  /* A device node needs root (the tests run as root in CI). */
  device = g_build_filename(t.images, "null", NULL);
  have_device = mknod(device, S_IFCHR | 0666, makedev(1, 3)) == 0;
  if (!have_device)
    g_test_message("mknod: %s: the device case is not checked here", g_strerror(errno));

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *text =
        g_strdup_printf("NAME = x\nMEMORY = 256\nDISK = [ IMAGE = \"%s\" ]\n", cases[i].image);
    g_auto(GStrv) parts = g_strsplit(cases[i].message, "IMAGES", -1);
    g_autofree char *reason = g_strjoinv(t.images, parts);
    g_autofree char *message = g_strconcat("line 3, column 10: DISK: IMAGE", reason, NULL);

    if (strcmp(cases[i].image, "null") == 0 && !have_device)
      continue;
    for (guint p = 0; p < 2; p++) {
      json_t *error;

      post_as(f, &t, p == 0 ? "/v1/vms" : "/v1/vms/place", text, &reply);
      if (!g_str_has_prefix(pp_test_error_message(&reply, 400), message))
        g_error("image '%s':\n got '%s'\nwant '%s...'", cases[i].image,
                pp_test_error_message(&reply, 400), message);
      error = json_object_get(reply.json, "error");
      g_assert_cmpint(json_integer_value(json_object_get(error, "line")), ==, 3);
      g_assert_cmpint(json_integer_value(json_object_get(error, "column")), ==, 10);
      pp_test_reply_clear(&reply);
    }
  }
  /* The kernel and initrd keys are held to the same rules. */
  post_as(f, &t, "/v1/vms",
          "MEMORY = 256\nOS = [ KERNEL_IMAGE = vmlinuz-6.1,\n  INITRD_IMAGE = evil ]\n", &reply);
  {
    g_autofree char *message = g_strdup_printf(
        "line 3, column 3: OS: INITRD_IMAGE: image 'evil' ('%s/evil'): it is a symbolic link",
        t.images);

    g_assert_true(g_str_has_prefix(pp_test_error_message(&reply, 400), message));
  }
  pp_test_reply_clear(&reply);
  g_assert_cmpint(vm_rows(f), ==, 0);
  pp_test_daemon_stop(f);
}

/* An image removed after the VM was made: its deploy fails, saying which
 * and why, and releases what it held; put back, a retry runs it. Removed
 * while the VM is off: resume is refused, and the VM keeps its devices. */
static void
test_image_gone_at_deploy(PpTestDaemon *f, gconstpointer data)
{
  static const char text[] = "NAME = later\nMEMORY = 256\nDISK = [ IMAGE = debian12 ]\n"
                             "PCI = [ CLASS = \"0200\" ]\n";
  g_auto(Tenant) t = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) host = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *want = NULL;
  g_autofree char *path = NULL;
  gint64 id;

  start_with_images(f, &t);
  qcow2 = g_build_filename(t.images, "debian12.qcow2", NULL);
  /* No host yet: it pends. */
  post_as(f, &t, "/v1/vms", text, &reply);
  g_assert_cmpint(reply.status, ==, 201);
  id = json_integer_value(json_object_get(reply.json, "id"));
  pp_test_reply_clear(&reply);
  json_decref(wait_explained(f, id, NULL));

  g_assert_cmpint(unlink(qcow2), ==, 0);
  add_host(f, "node-a", f->trees[0], "test:///default");
  vm = pp_test_wait_vm(f, id, "failed");
  want = g_strdup_printf("an image of its template cannot be used: line 3, column 10: DISK: "
                         "IMAGE: no image 'debian12' in '%s' (pcipass image list shows the "
                         "images)",
                         t.images);
  g_assert_cmpstr(json_string_value(json_object_get(vm, "reason")), ==, want);
  g_assert_cmpuint(json_array_size(json_object_get(vm, "devices")), ==, 0);
  host = pp_test_host_show(f, "node-a");
  g_assert_cmpint(json_integer_value(json_object_get(host, "pci_free")), ==,
                  json_integer_value(json_object_get(host, "pci_total")));
  g_clear_pointer(&vm, json_decref);

  /* Back in place: retried, it runs. */
  write_qcow2(qcow2, 1 << 30);
  path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/retry", id);
  pp_test_http(f, NULL, t.token, "POST", path, NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 202);
  pp_test_reply_clear(&reply);
  vm = pp_test_wait_vm(f, id, "running");
  g_clear_pointer(&vm, json_decref);

  /* Powered off, the image replaced by a link: resume is refused, the VM
   * stays off with its NIC. */
  vm_action(f, id, "poweroff", 202, &reply);
  pp_test_reply_clear(&reply);
  vm = pp_test_wait_vm(f, id, "poweroff");
  g_assert_cmpint(unlink(qcow2), ==, 0);
  pp_test_symlink("/etc/shadow", qcow2);
  vm_action(f, id, "resume", 409, &reply);
  g_free(want);
  want = g_strdup_printf("VM %" G_GINT64_FORMAT " is poweroff; it cannot be resumed: an image of "
                         "its template cannot be used: line 3, column 10: DISK: IMAGE: image "
                         "'debian12' ('%s/debian12.qcow2'): it is a symbolic link; pcipass takes "
                         "only regular files from its image folders, and follows no link",
                         id, t.images);
  g_assert_cmpstr(pp_test_error_message(&reply, 409), ==, want);
  pp_test_reply_clear(&reply);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(f, id);
  g_assert_cmpstr(pp_test_vm_state(vm), ==, "poweroff");
  g_assert_cmpuint(json_array_size(json_object_get(vm, "devices")), ==, 1);
  /* What is shown is the domain the deployer made when it last ran, as
   * recorded then, not one made now (which could not be). */
  g_free(want);
  want = g_strdup_printf("<source file='%s'/>", qcow2);
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "domain_xml")), want));
  pp_test_daemon_stop(f);
}

/* 32 clients create VMs at once for 4 NICs: 4 run, each on its own NIC;
 * 28 pend with explanations; the database agrees. */
typedef struct {
  PpTestDaemon *f;
  long status;
} Client;

static gpointer
client_thread(gpointer data)
{
  Client *client = data;
  g_auto(PpTestReply) reply = { 0 };

  pp_test_post_template(client->f, "/v1/vms", NIC_TEMPLATE, &reply);
  client->status = reply.status;
  return NULL;
}

static void
test_concurrent_clients(PpTestDaemon *f, gconstpointer data)
{
  enum { CLIENTS = 32, NICS = 4 };
  Client clients[CLIENTS];
  GThread *threads[CLIENTS];
  g_autoptr(GHashTable) nics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  g_auto(PpTestReply) reply = { 0 };
  guint running = 0, pending = 0;
  sqlite3 *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  size_t i;
  json_t *vm;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  for (guint c = 0; c < CLIENTS; c++) {
    clients[c].f = f;
    clients[c].status = 0;
    threads[c] = g_thread_new("client", client_thread, &clients[c]);
  }
  for (guint c = 0; c < CLIENTS; c++) {
    g_thread_join(threads[c]);
    g_assert_cmpint(clients[c].status, ==, 201);
  }

  /* Wait until every VM is running or explained. */
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;;) {
    guint settled = 0;

    pp_test_http(f, f->socket, NULL, "GET", "/v1/vms", NULL, 0, &reply);
    json_array_foreach(json_object_get(reply.json, "vms"), i, vm)
    {
      /* A list's row is light: a pending VM's explanation is its summary. */
      if (g_strcmp0(pp_test_vm_state(vm), "running") == 0 ||
          (g_strcmp0(pp_test_vm_state(vm), "pending") == 0 &&
           json_is_string(json_object_get(vm, "summary"))))
        settled++;
    }
    if (settled == CLIENTS)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pp_test_reply_clear(&reply);
    g_usleep(100000);
  }
  json_array_foreach(json_object_get(reply.json, "vms"), i, vm)
  {
    g_autoptr(json_t) full =
        pp_test_wait_vm(f, json_integer_value(json_object_get(vm, "id")), pp_test_vm_state(vm));

    if (g_strcmp0(pp_test_vm_state(vm), "running") == 0) {
      running++;
      g_assert_cmpint(json_integer_value(json_object_get(vm, "devices_held")), ==, 1);
      g_assert_cmpuint(json_array_size(json_object_get(full, "devices")), ==, 1);
      /* Never the same NIC twice. */
      g_assert_true(g_hash_table_add(nics, g_strdup(vm_device(full, 0))));
    } else {
      pending++;
      g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "summary")), "held by VM"));
      g_assert_nonnull(
          strstr(json_string_value(json_object_get(
                     json_array_get(json_object_get(full, "explanation"), 0), "reason")),
                 "held by VM"));
    }
  }
  g_assert_cmpuint(running, ==, NICS);
  g_assert_cmpuint(pending, ==, CLIENTS - NICS);
  pp_test_daemon_stop(f);

  /* The store agrees: 4 NICs held, by 4 different VMs. */
  g_assert_cmpint(sqlite3_open(db, &sql), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(sql,
                                     "SELECT COUNT(*), COUNT(DISTINCT vm_id) FROM pci_device "
                                     "WHERE vm_id IS NOT NULL",
                                     -1, &stmt, NULL),
                  ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(stmt, 0), ==, NICS);
  g_assert_cmpint(sqlite3_column_int(stmt, 1), ==, NICS);
  sqlite3_finalize(stmt);
  sqlite3_close(sql);
}

/* GET /v1/pci/types and pcipass host types: the device types across the
 * hosts, their totals as the hosts' inventories count them, and how many
 * are free now, following a VM, a disabled host and a second host. */
static json_t *
find_type(json_t *answer, const char *type)
{
  json_t *t;
  size_t i;

  json_array_foreach(json_object_get(answer, "types"), i, t)
  {
    if (g_strcmp0(json_string_value(json_object_get(t, "type")), type) == 0)
      return t;
  }
  return NULL;
}

/* Waits until @type's counts are these (a host is offered once its
 * libvirt answered, a moment after its probe), then asserts them. */
static void
assert_type(PpTestDaemon *f, const char *type, gint64 free, gint64 total, gint64 hosts)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  for (;;) {
    g_autoptr(json_t) answer = pp_test_cli_json(f, (const char *const[]){ "host", "types", NULL });
    json_t *t = find_type(answer, type);

    g_assert_nonnull(t);
    if ((json_integer_value(json_object_get(t, "free")) == free &&
         json_integer_value(json_object_get(t, "hosts")) == hosts) ||
        g_get_monotonic_time() > deadline) {
      g_assert_cmpint(json_integer_value(json_object_get(t, "free")), ==, free);
      g_assert_cmpint(json_integer_value(json_object_get(t, "total")), ==, total);
      g_assert_cmpint(json_integer_value(json_object_get(t, "hosts")), ==, hosts);
      return;
    }
    g_usleep(50 * 1000);
  }
}

static void
test_types(PpTestDaemon *f, gconstpointer data)
{
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) answer = NULL;
  g_autoptr(GHashTable) counted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_auto(PpTestRun) run = { 0 };
  g_auto(PpTestReply) reply = { 0 };
  g_autofree char *alice = NULL;
  json_t *dev;
  size_t i;
  gint64 id;

  pp_test_daemon_start(f, NULL);
  add_host(f, "node-a", f->trees[0], "test:///default");
  /* The totals are the inventory's, type by type; nothing more is listed. */
  host = pp_test_host_show(f, "node-a");
  json_array_foreach(json_object_get(host, "pci_devices"), i, dev)
  {
    const char *type = json_string_value(json_object_get(dev, "type"));
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counted, type));

    g_hash_table_replace(counted, g_strdup(type), GUINT_TO_POINTER(n + 1));
  }
  answer = pp_test_cli_json(f, (const char *const[]){ "host", "types", NULL });
  g_assert_cmpuint(json_array_size(json_object_get(answer, "types")), ==,
                   g_hash_table_size(counted));
  json_array_foreach(json_object_get(answer, "types"), i, dev)
  {
    const char *type = json_string_value(json_object_get(dev, "type"));

    g_assert_cmpint(json_integer_value(json_object_get(dev, "total")), ==,
                    GPOINTER_TO_UINT(g_hash_table_lookup(counted, type)));
    g_assert_cmpint(json_integer_value(json_object_get(dev, "free")), <=,
                    json_integer_value(json_object_get(dev, "total")));
  }
  g_assert_cmpstr(
      json_string_value(json_object_get(find_type(answer, "14e4:1639:0200"), "class_name")), ==,
      "Ethernet controller");
  assert_type(f, "14e4:1639:0200", 4, 4, 1);
  /* The table. */
  pp_test_cli(f, (const char *const[]){ "host", "types", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "TYPE           FREE TOTAL HOSTS CLASS"));
  g_assert_nonnull(strstr(run.out, "\n14e4:1639:0200    4     4     1 Ethernet controller "));
  pp_test_run_clear(&run);

  /* A VM takes one NIC: one fewer free. */
  id = pp_test_vm_create(f, NIC_TEMPLATE);
  g_clear_pointer(&host, json_decref);
  host = pp_test_wait_vm(f, id, "running");
  assert_type(f, "14e4:1639:0200", 3, 4, 1);
  /* A disabled host gives nothing: its devices count, none free. */
  pp_test_cli(f, (const char *const[]){ "host", "disable", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  assert_type(f, "14e4:1639:0200", 0, 4, 0);
  pp_test_cli(f, (const char *const[]){ "host", "enable", "node-a", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  /* Terminated: free again. */
  vm_action(f, id, "terminate", 202, &reply);
  pp_test_reply_clear(&reply);
  g_clear_pointer(&host, json_decref);
  host = pp_test_wait_vm(f, id, "done");
  assert_type(f, "14e4:1639:0200", 4, 4, 1);

  /* Any user may ask, as any user sees the hosts; a query is refused. */
  alice = pp_test_add_user(f, "alice");
  pp_test_http(f, NULL, alice, "GET", "/v1/pci/types", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_nonnull(find_type(reply.json, "14e4:1639:0200"));
  pp_test_reply_clear(&reply);
  pp_test_http(f, NULL, alice, "GET", "/v1/pci/types?host=node-a", NULL, 0, &reply);
  g_assert_cmpstr(pp_test_error_message(&reply, 400), ==,
                  "unknown query parameter 'host': GET /v1/pci/types takes none");
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
#define ADD(path, fn)                                                                              \
  g_test_add(path, PpTestDaemon, NULL, pp_test_daemon_set_up, fn, pp_test_daemon_tear_down)
  ADD("/vms/deploy-and-terminate", test_deploy_and_terminate);
  ADD("/vms/pending-explained", test_pending_explained);
  ADD("/vms/incremental", test_incremental);
  ADD("/vms/libvirt-unreachable", test_libvirt_unreachable);
  ADD("/vms/deploy-retry", test_deploy_retry);
  ADD("/vms/deploy-gives-up", test_deploy_gives_up);
  ADD("/vms/terminate-during-deploy", test_terminate_during_deploy);
  ADD("/vms/allow-needed", test_allow_needed);
  ADD("/vms/foreign-domain", test_foreign_domain);
  ADD("/vms/poweroff-resume-restart", test_poweroff_resume_restart);
  ADD("/vms/prebound", test_prebound);
  ADD("/vms/ownership", test_ownership);
  ADD("/vms/by-name", test_by_name);
  ADD("/vms/graphics-secret", test_graphics_secret);
  ADD("/vms/templates-and-dry-run", test_templates_and_dry_run);
  ADD("/vms/host-paths-admin-only", test_host_paths_admin_only);
  ADD("/vms/vlan-id-admin-only", test_vlan_id_admin_only);
  ADD("/vms/images", test_images);
  ADD("/vms/image-escapes", test_image_escapes);
  ADD("/vms/image-gone-at-deploy", test_image_gone_at_deploy);
  ADD("/vms/concurrent-clients", test_concurrent_clients);
  ADD("/vms/types", test_types);
#undef ADD
  return g_test_run();
}
