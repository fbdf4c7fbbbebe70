/* VMs follow the real libvirtd of this machine: pcipassd deploys through
 * qemu:///system (tests/lab/libvirtd-up starts it where no init system
 * does) domains of type qemu under TCG that boot tests/lab/tiny-guest, a
 * Linux kernel and a tiny initramfs, with no devices (this kernel has no
 * VFIO). Nothing is mocked: the guest powers itself off, virsh destroys a
 * domain from outside, QEMU is killed, pcipassd misses an event while it
 * is stopped, and libvirtd itself is killed and started again. The VMs'
 * context disks (issue 13) go through its storage API into a transient
 * pool of the test's own folder, uploaded and attached as CD-ROMs.
 *
 * The system libvirtd is shared with test-libvirt-real.sh: both hold
 * /run/lock/pcipass-libvirtd-tests.lock for their whole run.
 *
 * Every pcipassd here runs with --domain-type qemu: a machine may have a
 * /dev/kvm whose KVM crashes its guests (a nested cloud VM's, such as
 * kvm-pvm), and under auto its libvirt would offer kvm first. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp-context-iso-priv.h"
#include "pp-test-daemon.h"

#define LOCK_PATH "/run/lock/pcipass-libvirtd-tests.lock"
#define URI "qemu:///system"
/* The hosts' pool of context disks: transient, in pool_dir. */
#define POOL "pcipass-test-pool"

typedef struct {
  PpTestDaemon d;
  int lock_fd;
  char *kernel;
  char *initrd;
  char *cmdline;
  char *pool_dir;
} Fixture;

/* pcipassd with @extra (nullable) after --domain-type qemu (above). */
static void
start_daemon(Fixture *f, const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();

  g_ptr_array_add(args, (gpointer) "--domain-type");
  g_ptr_array_add(args, (gpointer) "qemu");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add(args, (gpointer)extra[i]);
  g_ptr_array_add(args, NULL);
  pp_test_daemon_start(&f->d, (const char *const *)args->pdata);
}

/* A script of tests/lab; asserts it succeeded. Returns: (transfer full)
 * its standard output. */
static char *
lab(const char *script)
{
  g_autofree char *path = g_build_filename(g_getenv("G_TEST_SRCDIR"), "lab", script, NULL);
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ path, NULL }, NULL, &run);
  if (run.status != 0)
    g_error("%s: exit %d: %s", script, run.status, run.err);
  return g_strdup(run.out);
}

static void
virsh(const char *const *args, PpTestRun *ret)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();

  g_ptr_array_add(argv, "virsh");
  g_ptr_array_add(argv, "-q");
  g_ptr_array_add(argv, "-c");
  g_ptr_array_add(argv, URI);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, ret);
}

/* Destroys every domain named pcipass-N of this libvirtd: the test's own
 * (the lock keeps others away), also those of a run that aborted. */
static void
destroy_domains(void)
{
  g_auto(PpTestRun) run = { 0 };
  g_auto(GStrv) names = NULL;

  virsh((const char *const[]){ "list", "--name", NULL }, &run);
  names = g_strsplit(run.out, "\n", -1);
  for (guint i = 0; names[i] != NULL; i++) {
    g_auto(PpTestRun) destroy = { 0 };

    if (!g_str_has_prefix(names[i], "pcipass-") ||
        strspn(names[i] + 8, "0123456789") != strlen(names[i] + 8) || names[i][8] == '\0')
      continue;
    virsh((const char *const[]){ "destroy", names[i], NULL }, &destroy);
  }
}

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;

  f->lock_fd = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  g_assert_cmpint(f->lock_fd, >=, 0);
  g_assert_cmpint(flock(f->lock_fd, LOCK_EX), ==, 0);
  g_free(lab("libvirtd-up"));
  out = lab("tiny-guest/build");
  lines = g_strsplit(out, "\n", 4);
  g_assert_cmpuint(g_strv_length(lines), >=, 3);
  f->kernel = g_strdup(lines[0]);
  f->initrd = g_strdup(lines[1]);
  f->cmdline = g_strdup(lines[2]);
  destroy_domains();
  pp_test_daemon_set_up(&f->d, data);
  /* QEMU (libvirt-qemu) opens the volumes there: a folder it may enter. */
  f->pool_dir = pp_test_mkdtemp();
  g_assert_nonnull(f->pool_dir);
  g_assert_cmpint(chmod(f->pool_dir, 0755), ==, 0);
  {
    g_auto(PpTestRun) run = { 0 };

    /* One a run that aborted left. */
    virsh((const char *const[]){ "pool-destroy", POOL, NULL }, &run);
    pp_test_run_clear(&run);
    virsh((const char *const[]){ "pool-create-as", POOL, "dir", "--target", f->pool_dir, NULL },
          &run);
    if (run.status != 0)
      g_error("virsh pool-create-as: %s", run.err);
  }
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  /* Whatever happened, no domain of the test stays. */
  destroy_domains();
  {
    g_auto(PpTestRun) run = { 0 };

    virsh((const char *const[]){ "pool-destroy", POOL, NULL }, &run);
  }
  pp_test_rmtree(f->pool_dir);
  g_free(f->pool_dir);
  pp_test_daemon_tear_down(&f->d, data);
  g_free(f->kernel);
  g_free(f->initrd);
  g_free(f->cmdline);
  close(f->lock_fd);
}

/* A VM without devices that boots the tiny guest; @extra is appended to
 * its kernel command line. Returns: its id. */
static gint64
create_guest(Fixture *f, const char *name, const char *extra)
{
  g_autofree char *text =
      g_strdup_printf("NAME = %s\nCPU = 0.1\nMEMORY = 128\n"
                      "OS = [ KERNEL = \"%s\", INITRD = \"%s\", "
                      "KERNEL_CMD = \"%s%s%s\" ]\n",
                      name, f->kernel, f->initrd, f->cmdline, extra ? " " : "", extra ? extra : "");
  return pp_test_vm_create(&f->d, text);
}

static const char *
reason_of(json_t *vm)
{
  return json_string_value(json_object_get(vm, "reason"));
}

/* Asserts that @vm's reason says @words; if not, says what it said and
 * what pcipassd logged, for a failure seen only under load. */
static void
assert_reason(Fixture *f, json_t *vm, const char *words)
{
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;

  if (reason_of(vm) != NULL && strstr(reason_of(vm), words) != NULL)
    return;
  text = json_dumps(vm, JSON_INDENT(2));
  log = pp_test_daemon_log(&f->d);
  g_error("VM's reason does not say '%s': %s\npcipassd's log:\n%s", words, text, log);
}

/* Whether the VM's history has the change @from > @to. */
static gboolean
history_has(json_t *vm, const char *from, const char *to)
{
  size_t i;
  json_t *change;

  json_array_foreach(json_object_get(vm, "history"), i, change)
  {
    if (g_strcmp0(json_string_value(json_object_get(change, "from")), from) == 0 &&
        g_strcmp0(json_string_value(json_object_get(change, "to")), to) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
domain_active(gint64 id)
{
  g_autofree char *name = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, id);
  g_auto(PpTestRun) run = { 0 };

  virsh((const char *const[]){ "domstate", name, NULL }, &run);
  return run.status == 0 && g_str_has_prefix(run.out, "running");
}

/* The pid in @path (libvirt's pid files), or 0. */
static GPid
read_pid(const char *path)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0;
  return (GPid)g_ascii_strtoll(text, NULL, 10);
}

/* A counter or gauge of /metrics, or -1 when it is not there. */
static gint64
metric(Fixture *f, const char *name)
{
  g_auto(PpTestReply) reply = { 0 };
  g_autofree char *line = g_strdup_printf("\n%s ", name);
  const char *at;

  pp_test_http(&f->d, f->d.socket, NULL, "GET", "/metrics", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  at = strstr(reply.body->str, line);
  return at != NULL ? g_ascii_strtoll(at + strlen(line), NULL, 10) : -1;
}

static void
add_host(Fixture *f)
{
  g_autofree char *command =
      g_strdup_printf("%s --sysfs-root '%s' --all --hostname node-a", f->d.probe, f->d.trees[0]);
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(&f->d,
              (const char *const[]){ "host", "create", "node-a", "--probe-command", command,
                                     "--libvirt-uri", URI, "--context-pool", POOL, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  json_decref(pp_test_wait_host(&f->d, "node-a", "monitored", 0));
}

/* A guest that powers itself off, a domain destroyed with virsh, QEMU
 * killed: poweroff, poweroff, failed, each with libvirt's reason and
 * keeping its host; resume and terminate through the real libvirtd. */
static void
test_events(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) off = NULL;
  g_autoptr(json_t) destroyed = NULL;
  g_autoptr(json_t) killed = NULL;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *pid_file = NULL;
  g_autofree char *name = NULL;
  gint64 a, b, c;
  GPid qemu;

  start_daemon(f, NULL);
  add_host(f);
  a = create_guest(f, "off", "pcipass.poweroff=3");
  b = create_guest(f, "destroyed", NULL);
  c = create_guest(f, "killed", NULL);

  /* The guest shuts itself down: poweroff, its host kept. */
  off = pp_test_wait_vm(&f->d, a, "poweroff");
  g_assert_true(history_has(off, "deploying", "running"));
  g_assert_true(history_has(off, "running", "poweroff"));
  assert_reason(f, off, "its guest shut it down");
  assert_reason(f, off, "stopped: shut down by its guest");
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(off, "host"), "name")), ==,
                  "node-a");

  /* Destroyed from outside with virsh. */
  name = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, b);
  {
    g_autoptr(json_t) running = pp_test_wait_vm(&f->d, b, "running");
    const char *xml = json_string_value(json_object_get(running, "domain_xml"));
    /* qemu (TCG), as --domain-type qemu asks, also where this libvirtd
     * offers kvm (with /dev/kvm) and auto would take it. A type guessed
     * from the URI would be kvm. */
    const char *head = "<domain type='qemu'>\n";
    const char *libvirt_head = "<domain type='qemu' id=";

    /* vm show: the XML the deployer made and recorded, as libvirt runs it. */
    g_assert_nonnull(xml);
    g_assert_true(g_str_has_prefix(xml, head));
    g_assert_nonnull(strstr(xml, "<type arch='x86_64' machine='q35'>hvm</type>"));
    virsh((const char *const[]){ "dumpxml", name, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_true(g_str_has_prefix(run.out, libvirt_head));
    pp_test_run_clear(&run);
  }
  virsh((const char *const[]){ "destroy", name, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  destroyed = pp_test_wait_vm(&f->d, b, "poweroff");
  assert_reason(f, destroyed, "destroyed outside pcipass");
  g_assert_false(json_is_null(json_object_get(destroyed, "host")));

  /* QEMU killed: failed with libvirt's words, still on its host. */
  json_decref(pp_test_wait_vm(&f->d, c, "running"));
  g_clear_pointer(&name, g_free);
  name = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, c);
  pid_file = g_strdup_printf("/run/libvirt/qemu/%s.pid", name);
  qemu = read_pid(pid_file);
  g_assert_cmpint(qemu, >, 1);
  g_assert_cmpint(kill(qemu, SIGKILL), ==, 0);
  killed = pp_test_wait_vm(&f->d, c, "failed");
  assert_reason(f, killed, "QEMU failed");
  g_assert_false(json_is_null(json_object_get(killed, "host")));
  g_assert_true(history_has(killed, "running", "failed"));

  /* Three events applied; the reconcile runs at every monitor pass. */
  g_assert_cmpint(metric(f, "pcipass_domain_events_total"), >=, 3);
  g_assert_cmpint(metric(f, "pcipass_reconciles_total"), >, 0);
  g_assert_cmpint(metric(f, "pcipass_deploys_total{result=\"ok\"}"), ==, 3);

  /* Resumed through libvirt: the destroyed one runs again. */
  pp_test_run_clear(&run);
  {
    g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, b);

    pp_test_cli(&f->d, (const char *const[]){ "vm", "resume", id, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
  }
  json_decref(pp_test_wait_vm(&f->d, b, "running"));
  g_assert_true(domain_active(b));

  /* Terminate from failed, poweroff and running: done, domains gone. */
  for (gint64 id = a; id <= c; id++) {
    g_autofree char *arg = g_strdup_printf("%" G_GINT64_FORMAT, id);

    pp_test_run_clear(&run);
    pp_test_cli(&f->d, (const char *const[]){ "vm", "terminate", arg, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    json_decref(pp_test_wait_vm(&f->d, id, "done"));
    g_assert_false(domain_active(id));
  }
  pp_test_daemon_stop(&f->d);
}

/* pcipassd stopped while a domain is destroyed: the reconcile at start
 * finds it gone (poweroff), and the one that kept running still runs. */
static void
test_restart_reconcile(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) gone = NULL;
  g_autoptr(json_t) kept = NULL;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *name = NULL;
  gint64 a, b;

  start_daemon(f, NULL);
  add_host(f);
  a = create_guest(f, "gone", NULL);
  b = create_guest(f, "kept", NULL);
  json_decref(pp_test_wait_vm(&f->d, a, "running"));
  json_decref(pp_test_wait_vm(&f->d, b, "running"));
  pp_test_daemon_stop(&f->d);

  name = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, a);
  virsh((const char *const[]){ "destroy", name, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  start_daemon(f, NULL);
  gone = pp_test_wait_vm(&f->d, a, "poweroff");
  assert_reason(f, gone, "its domain is gone from host 'node-a'");
  kept = pp_test_vm_get(&f->d, b);
  g_assert_cmpstr(pp_test_vm_state(kept), ==, "running");
  g_assert_true(domain_active(b));
  pp_test_daemon_stop(&f->d);
}

/* libvirtd killed: the host is in error and its running VMs unknown until
 * libvirtd is back; then the VM whose domain outlived libvirtd runs again,
 * the one whose QEMU was killed meanwhile is found gone at once (its
 * events were missed), and the host is monitored. */
static void
test_libvirtd_killed(Fixture *f, gconstpointer data)
{
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) host = NULL;
  g_autofree char *lost_pid_file = NULL;
  GPid libvirtd, lost_qemu;
  gint64 a, b;

  start_daemon(f, NULL);
  add_host(f);
  a = create_guest(f, "survivor", NULL);
  b = create_guest(f, "lost", NULL);
  json_decref(pp_test_wait_vm(&f->d, a, "running"));
  json_decref(pp_test_wait_vm(&f->d, b, "running"));
  lost_pid_file = g_strdup_printf("/run/libvirt/qemu/pcipass-%" G_GINT64_FORMAT ".pid", b);
  lost_qemu = read_pid(lost_pid_file);
  g_assert_cmpint(lost_qemu, >, 1);

  libvirtd = read_pid("/run/libvirtd.pid");
  g_assert_cmpint(libvirtd, >, 1);
  g_assert_cmpint(kill(libvirtd, SIGKILL), ==, 0);
  vm = pp_test_wait_vm(&f->d, a, "unknown");
  assert_reason(f, vm, "host 'node-a' does not answer");
  host = pp_test_wait_host(&f->d, "node-a", "error", 0);
  g_assert_nonnull(json_string_value(json_object_get(host, "libvirt_error")));
  g_assert_cmpint(metric(f, "pcipass_vms{state=\"unknown\"}"), ==, 2);
  g_assert_cmpint(metric(f, "pcipass_hosts{state=\"error\"}"), ==, 1);
  g_clear_pointer(&host, json_decref);
  g_clear_pointer(&vm, json_decref);
  json_decref(pp_test_wait_vm(&f->d, b, "unknown"));
  g_assert_cmpint(kill(lost_qemu, SIGKILL), ==, 0);

  g_free(lab("libvirtd-up"));
  vm = pp_test_wait_vm(&f->d, a, "running");
  g_assert_true(history_has(vm, "unknown", "running"));
  assert_reason(f, vm, "answers again");
  host = pp_test_wait_host(&f->d, "node-a", "monitored", 0);
  g_assert_true(json_is_null(json_object_get(host, "libvirt_error")));
  g_assert_true(domain_active(a));
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_vm_get(&f->d, b);
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;
       g_strcmp0(pp_test_vm_state(vm), "unknown") == 0 && g_get_monotonic_time() < deadline;) {
    g_usleep(100000);
    g_clear_pointer(&vm, json_decref);
    vm = pp_test_vm_get(&f->d, b);
  }
  g_assert_true(g_strcmp0(pp_test_vm_state(vm), "poweroff") == 0 ||
                g_strcmp0(pp_test_vm_state(vm), "failed") == 0);
  g_assert_false(json_is_null(json_object_get(vm, "host")));
  g_assert_false(domain_active(b));
  pp_test_daemon_stop(&f->d);
}

/* A user who is not an administrator boots the tiny guest from images:
 * its kernel and initramfs are files of pcipassd's image folders (the
 * lab's cache, which libvirt's QEMU may read, on this one machine: the
 * same paths for pcipassd and the host), named, not given as paths. The
 * real libvirtd starts it and the guest runs until it powers itself off.
 * The same guest given by path is refused to her. */
static void
test_user_images(Fixture *f, gconstpointer data)
{
  g_autofree char *kernel_dir = g_path_get_dirname(f->kernel);
  g_autofree char *initrd_dir = g_path_get_dirname(f->initrd);
  g_autofree char *kernel_name = g_path_get_basename(f->kernel);
  g_autofree char *initrd_name = g_path_get_basename(f->initrd);
  g_autofree char *dirs = g_strdup_printf("%s:%s", kernel_dir, initrd_dir);
  g_autofree char *text = g_strdup_printf("NAME = from-images\nCPU = 0.1\nMEMORY = 128\n"
                                          "OS = [ KERNEL_IMAGE = \"%s\", INITRD_IMAGE = \"%s\", "
                                          "KERNEL_CMD = \"%s pcipass.poweroff=3\" ]\n",
                                          kernel_name, initrd_name, f->cmdline);
  g_autofree char *by_path = g_strdup_printf(
      "NAME = by-path\nCPU = 0.1\nMEMORY = 128\nOS = [ KERNEL = \"%s\" ]\n", f->kernel);
  g_autofree char *kernel_xml = g_strdup_printf("<kernel>%s</kernel>", f->kernel);
  g_autofree char *initrd_xml = g_strdup_printf("<initrd>%s</initrd>", f->initrd);
  g_autoptr(json_t) token = NULL;
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  const char *secret;
  gint64 id;

  start_daemon(f, (const char *const[]){ "--image-dirs", dirs, NULL });
  add_host(f);
  pp_test_cli(&f->d, (const char *const[]){ "user", "create", "alice", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  token =
      pp_test_cli_json(&f->d, (const char *const[]){ "token", "create", "--user", "alice", NULL });
  secret = json_string_value(json_object_get(token, "token"));

  {
    g_autoptr(json_t) body = json_pack("{s:s}", "template", by_path);
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

    pp_test_http(&f->d, NULL, secret, "POST", "/v1/vms", dumped, strlen(dumped), &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 400), "names a file of the host"));
    pp_test_reply_clear(&reply);
  }
  {
    g_autoptr(json_t) body = json_pack("{s:s}", "template", text);
    g_autofree char *dumped = json_dumps(body, JSON_COMPACT);

    pp_test_http(&f->d, NULL, secret, "POST", "/v1/vms", dumped, strlen(dumped), &reply);
    g_assert_cmpint(reply.status, ==, 201);
    id = json_integer_value(json_object_get(reply.json, "id"));
    pp_test_reply_clear(&reply);
  }
  vm = pp_test_wait_vm(&f->d, id, "running");
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "domain_xml")), kernel_xml));
  g_assert_nonnull(strstr(json_string_value(json_object_get(vm, "domain_xml")), initrd_xml));
  g_clear_pointer(&vm, json_decref);
  /* It booted: the guest's own init powers it off. */
  vm = pp_test_wait_vm(&f->d, id, "poweroff");
  assert_reason(f, vm, "its guest shut it down");
  pp_test_daemon_stop(&f->d);
}

/* A bridged NIC on a bridge the host does not have (issue 12): libvirt
 * refuses the start in its own words, the VM fails once its one try is
 * spent, and the lease it took at placement is given back. */
static void
test_missing_bridge(Fixture *f, gconstpointer data)
{
  g_autofree char *text =
      g_strdup_printf("NAME = nobridge\nCPU = 0.1\nMEMORY = 128\n"
                      "OS = [ KERNEL = \"%s\", INITRD = \"%s\", KERNEL_CMD = \"%s\" ]\n"
                      "NIC = [ NETWORK = \"nobr\" ]\n",
                      f->kernel, f->initrd, f->cmdline);
  g_autoptr(json_t) body = json_pack(
      "{s:s}", "template",
      "NAME = nobr\nVN_MAD = bridge\nBRIDGE = ppnobr0\nAR = [ TYPE = IP4, IP = \"10.5.0.1\", "
      "SIZE = 2 ]\n");
  g_autofree char *dumped = json_dumps(body, JSON_COMPACT);
  g_autoptr(json_t) vm = NULL;
  g_auto(PpTestReply) reply = { 0 };

  start_daemon(f, (const char *const[]){ "--deploy-tries", "1", NULL });
  add_host(f);
  pp_test_http(&f->d, f->d.socket, NULL, "POST", "/v1/networks", dumped, strlen(dumped), &reply);
  g_assert_cmpint(reply.status, ==, 201);
  pp_test_reply_clear(&reply);
  vm = pp_test_wait_vm(&f->d, pp_test_vm_create(&f->d, text), "failed");
  assert_reason(f, vm, "ppnobr0");
  g_assert_true(history_has(vm, "deploying", "failed"));
  pp_test_http(&f->d, f->d.socket, NULL, "GET", "/v1/networks/nobr", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_cmpint(json_integer_value(json_object_get(reply.json, "used")), ==, 0);
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "leases")), ==, 0);
  pp_test_daemon_stop(&f->d);
}

/* The bytes of volume @name of the test's pool (a file of its folder), or
 * NULL when there is none. */
static GBytes *
volume_bytes(Fixture *f, const char *name)
{
  g_autofree char *path = g_build_filename(f->pool_dir, name, NULL);
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents(path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take(data, len);
}

/* A VM with a CONTEXT vector (issue 13): its context disk is a volume of
 * the host's pool, uploaded through the real libvirtd, attached as a
 * read-only CD-ROM, labelled CONTEXT, holding what GET /v1/vms/ID/context
 * says; a resume with the same content does not upload it again; terminate
 * removes it. A host whose pool does not exist fails the VM, saying which
 * pool and how to make it, and leaves nothing in the pool. */
static void
test_context_disk(Fixture *f, gconstpointer data)
{
  g_autofree char *text =
      g_strdup_printf("NAME = ctx\nCPU = 0.1\nMEMORY = 128\n"
                      "OS = [ KERNEL = \"%s\", INITRD = \"%s\", KERNEL_CMD = \"%s\" ]\n"
                      "CONTEXT = [ SET_HOSTNAME = \"ctx-guest\", SSH_PUBLIC_KEY = \"ssh-ed25519 "
                      "AAAAC3 it's me\" ]\n",
                      f->kernel, f->initrd, f->cmdline);
  g_autoptr(json_t) vm = NULL;
  g_autoptr(GBytes) iso = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  g_autofree char *volume = NULL;
  g_autofree char *volume_path = NULL;
  g_autofree char *id = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(PpTestRun) run = { 0 };
  const PpContextIsoEntry *entry;
  struct stat before, after;
  gint64 a, b;

  start_daemon(f, (const char *const[]){ "--deploy-tries", "1", NULL });
  add_host(f);
  a = pp_test_vm_create(&f->d, text);
  id = g_strdup_printf("%" G_GINT64_FORMAT, a);
  volume = g_strdup_printf("pcipass-%" G_GINT64_FORMAT "-context.iso", a);
  volume_path = g_build_filename(f->pool_dir, volume, NULL);
  json_decref(pp_test_wait_vm(&f->d, a, "running"));

  /* The domain's CD-ROM, from the volume. */
  {
    g_autofree char *name = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, a);
    g_autofree char *source = g_strdup_printf("<source pool='%s' volume='%s'", POOL, volume);

    virsh((const char *const[]){ "dumpxml", name, NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "<disk type='volume' device='cdrom'>"));
    g_assert_nonnull(strstr(run.out, source));
    g_assert_nonnull(strstr(run.out, "<readonly/>"));
    pp_test_run_clear(&run);
  }
  /* The volume's bytes: the ISO, labelled CONTEXT, with the API's file. */
  iso = volume_bytes(f, volume);
  g_assert_nonnull(iso);
  g_assert_true(pp_context_iso_read(iso, PP_CONTEXT_ISO_TREE_ROCKRIDGE, &label, &entries, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(label, ==, "CONTEXT");
  g_assert_cmpuint(entries->len, ==, 1);
  entry = g_ptr_array_index(entries, 0);
  g_assert_cmpstr(entry->name, ==, "context.sh");
  {
    g_autofree char *path = g_strdup_printf("/v1/vms/%" G_GINT64_FORMAT "/context", a);
    const char *want;
    gsize len;
    const char *got = g_bytes_get_data(entry->data, &len);

    pp_test_http(&f->d, f->d.socket, NULL, "GET", path, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    want = json_string_value(json_object_get(json_object_get(reply.json, "files"), "context.sh"));
    g_assert_nonnull(want);
    g_assert_nonnull(strstr(want, "SET_HOSTNAME='ctx-guest'\n"));
    g_assert_nonnull(strstr(want, "SSH_PUBLIC_KEY='ssh-ed25519 AAAAC3 it'\\''s me'\n"));
    g_assert_cmpuint(len, ==, strlen(want));
    g_assert_cmpint(memcmp(got, want, len), ==, 0);
    pp_test_reply_clear(&reply);
  }

  /* Poweroff keeps it; a resume with the same content does not upload it
   * again (the file is not written). */
  g_assert_cmpint(stat(volume_path, &before), ==, 0);
  pp_test_cli(&f->d, (const char *const[]){ "vm", "poweroff", id, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(&f->d, a, "poweroff"));
  g_assert_true(g_file_test(volume_path, G_FILE_TEST_EXISTS));
  g_usleep(1100 * 1000);
  pp_test_cli(&f->d, (const char *const[]){ "vm", "resume", id, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(&f->d, a, "running"));
  g_assert_cmpint(stat(volume_path, &after), ==, 0);
  g_assert_cmpint(after.st_mtime, ==, before.st_mtime);
  g_assert_cmpint(after.st_ino, ==, before.st_ino);

  /* Terminate removes it. */
  pp_test_cli(&f->d, (const char *const[]){ "vm", "terminate", id, NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  json_decref(pp_test_wait_vm(&f->d, a, "done"));
  g_assert_false(g_file_test(volume_path, G_FILE_TEST_EXISTS));
  virsh((const char *const[]){ "vol-list", POOL, NULL }, &run);
  g_assert_null(strstr(run.out, volume));
  pp_test_run_clear(&run);

  /* A pool the host does not have: the VM fails saying so, nothing left. */
  pp_test_cli(&f->d,
              (const char *const[]){ "host", "update", "node-a", "--context-pool", "nosuch", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  b = pp_test_vm_create(&f->d, text);
  vm = pp_test_wait_vm(&f->d, b, "failed");
  assert_reason(f, vm, "the context disk of pcipass-");
  assert_reason(f, vm, "goes to the storage pool 'nosuch' of 'qemu:///system'");
  assert_reason(f, vm, "virsh pool-define-as nosuch dir");
  {
    g_autoptr(GDir) dir = g_dir_open(f->pool_dir, 0, NULL);

    g_assert_null(g_dir_read_name(dir));
  }
  pp_test_daemon_stop(&f->d);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD("/lifecycle/missing-bridge", test_missing_bridge);
  ADD("/lifecycle/context-disk", test_context_disk);
  ADD("/lifecycle/events", test_events);
  ADD("/lifecycle/restart-reconcile", test_restart_reconcile);
  ADD("/lifecycle/libvirtd-killed", test_libvirtd_killed);
  ADD("/lifecycle/user-images", test_user_images);
#undef ADD
  return g_test_run();
}
