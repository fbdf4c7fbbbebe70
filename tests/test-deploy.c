/* The deployer owns the domain: a VM placed by the real scheduler is
 * deployed by the real deployer on libvirt's test driver (in this
 * process), which builds the domain XML from the VM's typed spec, its
 * devices and the host's capabilities, and records it in the store.
 *
 * A host whose libvirt offers neither kvm nor qemu cannot be had here (the
 * only hypervisor driver installed is QEMU's): its capabilities are
 * answered by pp_deployer_test_set_capabilities() on a real test-driver
 * connection; the rest (connection, store, scheduler) is real. QEMU
 * without KVM (qemu:///system) is test-lifecycle's. */
#include "config.h"

#include <string.h>

#include "pp-deployer-priv.h"
#include "pp-scheduler.h"
#include "pp-store.h"
#include "pp-test-util.h"

#define URI "test:///default"

/* A Xen host's libvirt: hvm guests of type xen only. */
#define XEN_CAPS                                                                                   \
  "<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"                                      \
  "<guest><os_type>hvm</os_type><arch name='x86_64'><domain type='xen'/></arch></guest>"           \
  "</capabilities>"

typedef struct {
  char *dir;
  PpStore *store;
  PpDeployer *deployer;
  PpScheduler *scheduler;
  gint64 host_id;
  gint64 owner_id;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autoptr(PpUser) owner = NULL;
  PpHostSpec spec = { .name = "node1", .libvirt_uri = URI };
  PpSchedulerConfig config = { .interval_s = 3600, .deploy_tries = 1 };
  static const char report_text[] =
      "CPU_COUNT = 8\nMEMORY_KIB = 16777216\n"
      "PCI = [ TYPE = \"8086:1521:0200\", VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", "
      "ADDRESS = \"0000:05:00:0\", SHORT_ADDRESS = \"05:00.0\", IOMMU_GROUP = \"10\", "
      "NUMA_NODE = \"0\", SRIOV = \"no\" ]\n";

  f->dir = pp_test_mkdtemp();
  path = g_build_filename(f->dir, "pcipass.db", NULL);
  f->store = pp_store_open(path, &error);
  g_assert_no_error(error);
  host = pp_store_host_create(f->store, &spec, 100, &error);
  g_assert_no_error(error);
  f->host_id = host->id;
  report = pp_probe_report_parse(report_text, strlen(report_text), &error);
  g_assert_no_error(error);
  g_assert_true(pp_store_host_reconcile(f->store, host->id, report, 200, NULL, &error));
  g_assert_no_error(error);
  owner = pp_store_user_create(f->store, "alice", FALSE, 300, &error);
  g_assert_no_error(error);
  f->owner_id = owner->id;
  f->deployer = pp_deployer_new(pp_store_get_id(f->store), NULL, NULL);
  f->scheduler = pp_scheduler_new(f->store, f->deployer, &config);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_pointer(&f->scheduler, pp_scheduler_free);
  g_clear_pointer(&f->deployer, pp_deployer_free);
  /* The deployer's calls end on the main loop. */
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_clear_pointer(&f->store, pp_store_free);
  pp_test_rmtree(f->dir);
  g_free(f->dir);
}

static gint64
create_vm(Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVmSpec) spec = pp_vm_template_parse(text, strlen(text), &error);
  g_autoptr(PpVm) vm = NULL;

  g_assert_no_error(error);
  vm = pp_store_vm_create_spec(f->store, f->owner_id, text, spec, 400, &error);
  g_assert_no_error(error);
  return vm->id;
}

static gboolean
on_timeout(gpointer data)
{
  g_error("VM still pending or deploying after 30 s");
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until VM @id is neither pending nor deploying. */
static PpVm *
settle(Fixture *f, gint64 id)
{
  guint timeout = g_timeout_add_seconds(30, on_timeout, NULL);

  pp_scheduler_poke(f->scheduler);
  for (;;) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpVm) vm = pp_store_vm_get(f->store, id, &error);

    g_assert_no_error(error);
    if (vm->state != PP_VM_STATE_PENDING && vm->state != PP_VM_STATE_DEPLOYING) {
      g_source_remove(timeout);
      return g_steal_pointer(&vm);
    }
    g_main_context_iteration(NULL, TRUE);
  }
}

static char *
recorded_xml(Fixture *f, gint64 id)
{
  g_autoptr(GError) error = NULL;
  char *xml = NULL;

  g_assert_true(pp_store_vm_get_domain_xml(f->store, id, &xml, &error));
  g_assert_no_error(error);
  return xml;
}

static void
on_list(GObject *source, GAsyncResult *result, gpointer data)
{
  *(GPtrArray **)data = pp_deployer_list_finish(result, NULL);
}

/* The domains named pcipass-* that the host's libvirt has. */
static GPtrArray *
domains(Fixture *f)
{
  GPtrArray *list = NULL;

  pp_deployer_list_async(f->deployer, URI, "pcipass-", on_list, &list);
  while (list == NULL)
    g_main_context_iteration(NULL, TRUE);
  return list;
}

static void
on_destroyed(GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_deployer_destroy_finish(result, &error));
  g_assert_no_error(error);
  *(gboolean *)data = TRUE;
}

/* test:///default's domains live as long as the process: the next test
 * starts with none. */
static void
destroy_all(Fixture *f)
{
  g_autoptr(GPtrArray) list = domains(f);

  for (guint i = 0; i < list->len; i++) {
    gboolean done = FALSE;

    pp_deployer_destroy_async(f->deployer, URI, ((PpDomainInfo *)list->pdata[i])->name, NULL,
                              on_destroyed, &done);
    while (!done)
      g_main_context_iteration(NULL, TRUE);
  }
}

/* The domain is what the host offers (the test driver: type test, arch
 * i686, neither of which a guess from the URI gives), built from the
 * typed VM and its device, and recorded as defined. */
static void
test_deploy_from_caps(Fixture *f, gconstpointer data)
{
  gint64 id = create_vm(f, "NAME = \"job\"\nMEMORY = 512\nVCPU = 2\nMACHINE = \"i440fx\"\n"
                           "PCI = [ CLASS = \"0200\" ]\n");
  g_autoptr(PpVm) vm = NULL;
  g_autofree char *xml = NULL;
  g_autoptr(GPtrArray) list = NULL;

  /* None before a deploy. */
  xml = recorded_xml(f, id);
  g_assert_null(xml);

  vm = settle(f, id);
  g_assert_cmpint(vm->state, ==, PP_VM_STATE_RUNNING);
  xml = recorded_xml(f, id);
  g_assert_nonnull(xml);
  g_assert_true(g_str_has_prefix(xml, "<domain type='test'>\n  <name>pcipass-1</name>\n"));
  g_assert_nonnull(strstr(xml, "<type arch='i686' machine='pc'>hvm</type>"));
  g_assert_nonnull(strstr(xml, "<vcpu>2</vcpu>"));
  g_assert_nonnull(strstr(xml, "<memory unit='KiB'>524288</memory>"));
  g_assert_nonnull(strstr(xml, "<address domain='0x0000' bus='0x05' slot='0x00' "
                               "function='0x0'/>"));
  /* And libvirt runs it. */
  list = domains(f);
  g_assert_cmpuint(list->len, ==, 1);
  g_assert_cmpstr(((PpDomainInfo *)list->pdata[0])->name, ==, "pcipass-1");
  g_assert_cmpint(((PpDomainInfo *)list->pdata[0])->run, ==, PP_DOMAIN_ACTIVE);
  destroy_all(f);
}

/* A host whose libvirt offers neither kvm nor qemu: the deploy fails
 * saying so, naming the host's URI; nothing is started, the VM holds
 * nothing, and no XML is recorded. */
static void
test_deploy_unsupported(Fixture *f, gconstpointer data)
{
  gint64 id = create_vm(f, "MEMORY = 512\nPCI = [ CLASS = \"0200\" ]\n");
  g_autoptr(PpVm) vm = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *xml = NULL;

  pp_deployer_test_set_capabilities(f->deployer, URI, XEN_CAPS);
  vm = settle(f, id);
  g_assert_cmpint(vm->state, ==, PP_VM_STATE_FAILED);
  g_assert_cmpstr(vm->reason, ==,
                  "its deploy failed 1 time; the last, on host 'node1': '" URI "': the host's "
                  "libvirt offers neither kvm nor qemu for hvm guests of its arch x86_64 (it "
                  "offers xen); install QEMU and libvirt's qemu driver there");
  g_assert_cmpint(vm->host_id, ==, 0);
  devices = pp_store_vm_list_devices(f->store, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(devices->len, ==, 0);
  host = pp_store_host_get(f->store, f->host_id, &error);
  g_assert_no_error(error);
  g_assert_cmpint(host->pci_free, ==, host->pci_total);
  xml = recorded_xml(f, id);
  g_assert_null(xml);
  list = domains(f);
  g_assert_cmpuint(list->len, ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* The scheduler warns of the failures these tests cause, as it should;
   * criticals stay fatal. */
  g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD("/deploy/from-capabilities", test_deploy_from_caps);
  ADD("/deploy/unsupported", test_deploy_unsupported);
  return g_test_run();
}
