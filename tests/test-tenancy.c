/* Tenancy through the real pcipassd (issue 10, section 3): a resume
 * refused for a device that is gone. Hosts are the real probe on captured
 * sysfs trees, VMs run on libvirt's real test:/// driver inside pcipassd.
 * Nothing is mocked. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "pp-test-daemon.h"

/* Node-a (the 40intel64 capture): 4 BCM5709 NICs 14e4:1639:0200. */
#define NIC_TEMPLATE "NAME = nic\nCPU = 1\nMEMORY = 1024\nPCI = [ CLASS = \"0200\" ]\n"

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
  ADD("/tenancy/resume-gone", test_resume_gone);
#undef ADD
  return g_test_run();
}
