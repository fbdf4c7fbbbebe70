#define G_LOG_DOMAIN "pp-scheduler"

#include "config.h"

#include <string.h>

#include "pp-autoptr.h"
#include "pp-id-set.h"
#include "pp-output.h"
#include "pp-probe-report.h"
#include "pp-scheduler.h"
#include "pp-store-network.h"

/* clang-format off */
G_DEFINE_QUARK(pp-scheduler-error-quark, pp_scheduler_error)
/* clang-format on */

/* How many reasons the log line of a pending VM gives. */
#define LOG_HOSTS 8
/* How many hosts each reason of an explanation names. */
#define EXPLAIN_EXAMPLES 3
/* How long an explanation is shown unchanged when the placer changes. */
#define EXPLAIN_FRESH_US (G_USEC_PER_SEC / 2)
/* How long one pass places VMs before it lets the main loop answer the
 * API and come back (an idle source, below every request's): a placement
 * is a write transaction, a few round trips on PostgreSQL, and a burst of
 * a thousand pending VMs would otherwise hold the daemon for seconds. */
#define PASS_BUDGET_US (G_USEC_PER_SEC / 10)
/* Every domain pcipass starts is named DOMAIN_PREFIX and the VM's id. */
#define DOMAIN_PREFIX "pcipass-"

typedef enum {
  OP_START,     /* deploying -> running */
  OP_TERMINATE, /* terminating -> done */
  OP_POWEROFF,  /* running -> poweroff */
  OP_ORPHAN,    /* a domain of that VM's name that no VM holds is destroyed */
} OpKind;

/* A libvirt call in flight for one VM. sched is NULL once the scheduler is
 * freed: the callback then only frees the op. */
typedef struct {
  PpScheduler *sched;
  gint64 vm_id;
  OpKind kind;
  gint64 host_id;
  char *host_name;
  /* A start's domain that stopped before the start returned: what libvirt
   * said, applied when it returns. */
  gboolean stopped;
  PpDomainEventKind stopped_kind;
  char *stopped_what;
} Op;

/* A reconcile of one host in flight. */
typedef struct {
  PpScheduler *sched; /* NULL once the scheduler is freed */
  gint64 host_id;
  guint64 epoch; /* sched->epoch when the domains were asked for */
} Reconcile;

typedef struct _Pending Pending;

typedef struct {
  guint64 wake;
  gint64 host_id;
} Gain;

/* The most gains remembered; past it the older half is forgotten. */
#define GAINS_MAX 4096

/* Pending VMs that ask for the same thing (CPU, memory, requests, host, and
 * where their deploys failed): when the first, in id order, fits on no host,
 * none does, until the placer gains something. */
typedef struct {
  char *key;
  PpVmSpec *spec;         /* of the first VM that made it: the requests */
  GArray *avoid;          /* gint64: hosts where a deploy failed */
  PpPlaceVm pv;           /* into spec and avoid; its id is set for each try */
  GQueue vms;             /* Pending *, ids ascending */
  guint64 failed_at;      /* sched->wake when its first VM last failed; 0: has not */
  guint64 explained_at;   /* sched->placer_version of the explanation; 0: none */
  gint64 explained_time;  /* monotonic time it was made */
  GPtrArray *explanation; /* PpPlaceReasonGroup */
  guint explained_hosts;
} Group;

struct _Pending {
  gint64 id;
  char *name;
  Group *group;
  GList *link; /* in group->vms */
};

struct _PpScheduler {
  PpStore *store;
  PpDeployer *deployer;
  PpSchedulerConfig config;
  guint timer_id;
  guint idle_id;
  GHashTable *in_flight;   /* vm id (gint64 *) -> Op * */
  GHashTable *reconciling; /* host id (gint64 *) -> Reconcile * */
  /* Counts the libvirt calls that ended and the domain events; a VM whose
   * call ended, or whose domain had an event, after a reconcile read its
   * host's domains is not judged by that read (it is older than what the
   * VM says). */
  guint64 epoch;
  GHashTable *op_ended;     /* vm id (gint64 *) -> guint64 epoch of its last call's end or event */
  GHashTable *failed_hosts; /* vm id (gint64 *) -> GArray of host ids where a deploy failed */
  GHashTable *destroy_failures; /* vm id (gint64 *) -> count of failed destroys (terminate) */
  /* VMs whose domain the last reconcile of their host did not find; the
   * next one that does not either decides (libvirt's event, with the real
   * reason, comes in between when there is one). */
  GHashTable *missing;    /* vm id (gint64 *), a set */
  GHashTable *seen_hosts; /* host id (gint64 *), a set: reconciled since start */
  PpSchedulerCounts counts;

  /* The index: the placer, kept for the daemon's life and changed only
   * where the store says a row changed (pp_store_add_watch()). NULL until
   * the first pass builds it whole. */
  PpPlacer *placer;
  guint64 placer_version; /* counts every change to the placer */
  /* Counts the changes that may let a pending VM fit (a host gained). */
  guint64 wake;
  /* Which host each recent wake was (Gain, wake ascending), so that a
   * group that failed is tried again only when one of the hosts that
   * gained since could take it. A group that failed before gains_floor
   * (a whole build, or a log cut short) is tried again in any case. */
  GArray *gains;
  guint64 gains_floor;
  GHashTable *dirty_hosts;   /* host id (gint64 *), a set: read again */
  GHashTable *dirty_devices; /* device id (gint64 *), a set: their host is read again */
  GHashTable *dirty_vms;     /* vm id (gint64 *), a set: read again */
  gboolean rebuild;          /* something no id tells: the placer is built whole again */
  gboolean check_busy;       /* list the deploying and terminating VMs (start, timer) */
  GHashTable *vm_host;       /* vm id (gint64 *) -> host id (gint64 *), for the VMs on hosts */
  /* Pending VMs, by what they ask for: one try stands for all of a group. */
  GHashTable *pending; /* vm id (gint64 *) -> Pending * */
  GHashTable *groups;  /* key -> Group * */
  /* Pending VMs out of their groups until a network their NICs name has a
   * free address (issue 12): vm id (gint64 *) -> why (char *). Looked at
   * again by the timer's pass and when addresses may have come free. */
  GHashTable *no_address;
  gboolean recheck_addresses;
};

static void start_op(PpScheduler *sched, const PpVm *vm, OpKind kind);

/* What libvirt says of VM @vm_id changed now (a call ended, an event):
 * the reconciles that read its host before do not judge it. */
static void vm_news(PpScheduler *sched, gint64 vm_id);

static gint64
now_s(void)
{
  return g_get_real_time() / G_USEC_PER_SEC;
}

static gint64 *
id_key(gint64 id)
{
  gint64 *key = g_new(gint64, 1);

  *key = id;
  return key;
}

static void
op_free(Op *op)
{
  g_free(op->host_name);
  g_free(op->stopped_what);
  g_free(op);
}

char *
pp_scheduler_domain_name(gint64 vm_id)
{
  return g_strdup_printf(DOMAIN_PREFIX "%" G_GINT64_FORMAT, vm_id);
}

/* The VM id of a domain pcipass named, or 0. */
static gint64
domain_vm_id(const char *domain)
{
  guint64 id;

  if (domain == NULL || !g_str_has_prefix(domain, DOMAIN_PREFIX) ||
      !g_ascii_string_to_unsigned(domain + strlen(DOMAIN_PREFIX), 10, 1, G_MAXINT64, &id, NULL))
    return 0;
  return (gint64)id;
}

char *
pp_scheduler_host_uri(const PpHost *host)
{
  g_autofree char *user = NULL;
  g_autofree char *port = NULL;

  if (host->libvirt_uri != NULL)
    return g_strdup(host->libvirt_uri);
  if (host->ssh_host == NULL)
    return g_strdup("qemu:///system");
  if (host->ssh_user != NULL)
    user = g_strdup_printf("%s@", host->ssh_user);
  if (host->ssh_port != 0)
    port = g_strdup_printf(":%d", host->ssh_port);
  return g_strdup_printf("qemu+ssh://%s%s%s%s%s/system", user ? user : "",
                         strchr(host->ssh_host, ':') ? "[" : "", host->ssh_host,
                         strchr(host->ssh_host, ':') ? "]" : "", port ? port : "");
}

/* On a prebound host, domains say managed='no': QEMU opens the device's
 * IOMMU group as it is, so a device not on vfio-pci cannot be given.
 * Returns: (transfer none) (nullable): why, kept in @reasons; NULL when the
 * device is ready or the host lets libvirt bind (managed='yes'). */
static const char *
prebound_not_ready(const PpHost *host, const PpStoreDevice *dev, GPtrArray *reasons)
{
  const char *driver = dev->pci.driver;
  char address[PP_PCI_ADDRESS_BUFSIZE];
  char *reason;

  if (!host->prebound || g_strcmp0(driver, "vfio-pci") == 0)
    return NULL;
  reason = g_strdup_printf("%s%s, not vfio-pci, and host '%s' is prebound (managed='no'): "
                           "run 'pcipass-vfio bind %s' there, then 'pcipass host probe %s'",
                           driver != NULL ? "is on driver " : "has no driver",
                           driver != NULL ? driver : "", host->name,
                           pp_pci_address_format(&dev->pci.address, address), host->name);
  g_ptr_array_add(reasons, reason);
  return reason;
}

/* Why a free device of @host cannot be given, for the placer (the rest of
 * a sentence after its address): the host needs it (and no administrator
 * allowed it), a deploy could not bind it, or the host is prebound and it
 * is not on vfio-pci. Every device of its IOMMU group is then kept back
 * too. A pending VM's owner reads it: libvirt's own words (which name the
 * host's URI and the VM it failed for) are in pcipass host show, for an
 * administrator. Returns: (transfer none) (nullable): kept in @reasons. */
static const char *
device_not_ready(const PpHost *host, const PpStoreDevice *dev, GPtrArray *reasons)
{
  char *reason;

  if (dev->pci.host_needs != NULL && !dev->allowed)
    reason = g_strdup_printf("is needed by host '%s': it %s", host->name, dev->pci.host_needs);
  else if (dev->set_aside != NULL)
    reason = g_strdup_printf("was set aside on host '%s' after a deploy could not use it; it "
                             "is offered again when a probe reports it",
                             host->name);
  else
    return prebound_not_ready(host, dev, reasons);
  g_ptr_array_add(reasons, reason);
  return reason;
}

/* Fails a VM that cannot go on, releasing what it holds. */
static void vm_recheck(PpScheduler *sched, gint64 vm_id);

static void
fail_vm(PpScheduler *sched, const PpVm *vm, const char *reason)
{
  g_autoptr(GError) error = NULL;

  /* Only from the state it was read in: a VM terminated meanwhile (by
   * another pcipassd of the store, a standby) is not failed after it. */
  if (pp_store_vm_release_from(sched->store, vm->id, vm->state, PP_VM_STATE_FAILED, reason, now_s(),
                               &error)) {
    g_warning("VM %" G_GINT64_FORMAT " '%s' failed: %s", vm->id, vm->name, reason);
    return;
  }
  if (g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT)) {
    g_message("VM %" G_GINT64_FORMAT " '%s': not failed (%s): %s; read again", vm->id, vm->name,
              reason, error->message);
    vm_recheck(sched, vm->id);
    return;
  }
  g_warning("VM %" G_GINT64_FORMAT " '%s' failed: %s; cannot release it: %s", vm->id, vm->name,
            reason, error->message);
}

/* Moves @vm from @from to @to with @reason, logging the change at
 * message level; FALSE (logged) when the store refused. */
static gboolean
move_vm(PpScheduler *sched, const PpVm *vm, PpVmState from, PpVmState to, const char *reason)
{
  g_autoptr(GError) error = NULL;

  g_hash_table_remove(sched->missing, &vm->id);
  if (!pp_store_vm_transition(sched->store, vm->id, from, to, reason, now_s(), &error)) {
    g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, error->message);
    return FALSE;
  }
  g_message("VM %" G_GINT64_FORMAT " '%s': %s -> %s%s%s", vm->id, vm->name,
            pp_vm_state_to_string(from), pp_vm_state_to_string(to), reason ? ": " : "",
            reason ? reason : "");
  return TRUE;
}

/* Gives the placer @host, its @devices (those of @host, in the store's
 * order) and what its VMs hold (@used, nullable: nothing). Returns: what
 * pp_placer_set_host() says: whether it may now fit more. */
static gboolean
placer_set_store_host(PpScheduler *sched, const PpHost *host, PpStoreDevice *const *devices,
                      guint n_devices, const PpHostUsage *used)
{
  g_autoptr(GArray) place_devices = g_array_new(FALSE, TRUE, sizeof(PpPlaceDevice));
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *state_text = NULL;
  PpPlaceHost ph = { 0 };

  for (guint i = 0; i < n_devices; i++) {
    const PpStoreDevice *dev = devices[i];
    PpPlaceDevice pd = { 0 };

    pd.id = dev->id;
    pd.address = dev->pci.address;
    pd.name = dev->pci.device_name;
    pd.vendor_name = dev->pci.vendor_name;
    pd.class_name = dev->pci.class_name;
    pd.vendor = dev->pci.vendor;
    pd.device = dev->pci.device;
    pd.class_code = dev->pci.class_code;
    pd.numa_node = dev->pci.numa_node;
    pd.iommu_group = dev->pci.iommu_group;
    pd.vm_id = dev->vm_id;
    pd.gone = dev->gone;
    pd.not_ready = device_not_ready(host, dev, reasons);
    pd.group_endpoints = dev->pci.group_endpoints;
    pd.n_group_endpoints = dev->pci.n_group_endpoints;
    /* A VF's PF, for the requests' PF_POLICY. */
    pd.has_pf = dev->pci.has_pf;
    pd.pf = dev->pci.pf;
    g_array_append_val(place_devices, pd);
  }

  ph.id = host->id;
  ph.name = host->name;
  switch (host->state) {
  case PP_HOST_STATE_MONITORED:
    ph.state = PP_PLACE_HOST_OK;
    break;
  case PP_HOST_STATE_DISABLED:
    ph.state = PP_PLACE_HOST_DISABLED;
    break;
  default:
    /* Every owner of a pending VM reads it: not the probe's or libvirt's
     * words, which may name the host's ssh target or URI (pcipass host
     * show has them, for an administrator). */
    ph.state = PP_PLACE_HOST_NOT_MONITORED;
    if (host->state != PP_HOST_STATE_ERROR)
      state_text = g_strdup("init: not probed yet");
    else if (host->error != NULL)
      state_text = g_strdup("error: its last probe failed");
    else
      state_text = g_strdup("error: its libvirt does not answer");
    ph.state_text = state_text;
    break;
  }
  /* The facts are bounded where a report is read; a store written before
   * the bounds may hold more, which counts as not known until the next
   * probe (and cannot overflow the hundredths). */
  ph.cpu_total = host->cpu_count >= 0 && host->cpu_count <= PP_PROBE_REPORT_CPU_COUNT_MAX
                     ? host->cpu_count * 100
                     : -1;
  ph.cpu_used = used ? used->cpu : 0;
  ph.memory_total_kib = host->memory_kib <= PP_PROBE_REPORT_MEMORY_KIB_MAX ? host->memory_kib : -1;
  ph.memory_used_kib = used ? used->memory_kib : 0;
  ph.devices = (const PpPlaceDevice *)(void *)place_devices->data;
  ph.n_devices = place_devices->len;
  sched->placer_version++;
  return pp_placer_set_host(sched->placer, &ph);
}

/* The devices of host @host_id in @devices, sorted by host id as the
 * store reads them, from *@next on: their first index (returned) and
 * count (@ret_n); *@next moves past them. */
static guint
host_devices(const GPtrArray *devices, gint64 host_id, guint *next, guint *ret_n)
{
  guint first;

  while (*next < devices->len &&
         ((PpStoreDevice *)g_ptr_array_index(devices, *next))->host_id < host_id)
    (*next)++;
  for (first = *next; *next < devices->len; (*next)++)
    if (((PpStoreDevice *)g_ptr_array_index(devices, *next))->host_id != host_id)
      break;
  *ret_n = *next - first;
  return first;
}

/* Builds the placer whole: every host with its devices and what its VMs
 * hold. Once at start, and again only when a change names no host. */
static gboolean
build_placer(PpScheduler *sched, GError **error)
{
  g_autoptr(GPtrArray) hosts = pp_store_host_list(sched->store, error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GHashTable) usage = NULL;
  g_autoptr(GHashTable) vm_host = NULL;
  guint next = 0;

  if (hosts == NULL)
    return FALSE;
  devices = pp_store_device_list_all(sched->store, error);
  if (devices == NULL)
    return FALSE;
  usage = pp_store_host_usage(sched->store, error);
  if (usage == NULL)
    return FALSE;
  vm_host = pp_store_vm_host_ids(sched->store, error);
  if (vm_host == NULL)
    return FALSE;

  g_clear_pointer(&sched->placer, pp_placer_free);
  sched->placer = pp_placer_new(sched->config.policy);
  g_hash_table_unref(sched->vm_host);
  sched->vm_host = g_steal_pointer(&vm_host);
  /* Devices come by host id, as hosts do. */
  for (guint h = 0; h < hosts->len; h++) {
    const PpHost *host = g_ptr_array_index(hosts, h);
    guint n;
    guint first = host_devices(devices, host->id, &next, &n);

    placer_set_store_host(sched, host, (PpStoreDevice *const *)devices->pdata + first, n,
                          g_hash_table_lookup(usage, &host->id));
  }
  /* Anything may fit now: every group is tried again. */
  sched->wake++;
  sched->gains_floor = sched->wake;
  g_array_set_size(sched->gains, 0);
  return TRUE;
}

/* Gives the placer @host again, as refresh_hosts() read it; a gain when it
 * may now fit more. */
static void
refresh_host(PpScheduler *sched, const PpHost *host, PpStoreDevice *const *devices, guint n_devices,
             const PpHostUsage *used)
{
  if (placer_set_store_host(sched, host, devices, n_devices, used)) {
    Gain gain = { ++sched->wake, host->id };

    if (sched->gains->len >= GAINS_MAX) {
      guint drop = sched->gains->len / 2;

      sched->gains_floor = g_array_index(sched->gains, Gain, drop).wake;
      g_array_remove_range(sched->gains, 0, drop);
    }
    g_array_append_val(sched->gains, gain);
  }
  sched->counts.host_refreshes++;
}

/* How many hosts refresh_hosts() reads at once: three statements for
 * them all, where one host alone took four (on PostgreSQL, a round trip
 * each). */
#define HOSTS_AT_ONCE 100

/* Reads hosts @ids again into the placer, HOSTS_AT_ONCE at a time (and
 * takes out those that are gone). Returns: FALSE (logged) when the store
 * fails; the hosts from @ids[*@done] on are then not read. */
static gboolean
refresh_hosts(PpScheduler *sched, const GArray *ids, guint *done)
{
  for (*done = 0; *done < ids->len; *done += HOSTS_AT_ONCE) {
    const gint64 *batch = &g_array_index(ids, gint64, *done);
    guint n = MIN(ids->len - *done, HOSTS_AT_ONCE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) hosts = NULL;
    g_autoptr(GPtrArray) devices = NULL;
    g_autoptr(GHashTable) usage = NULL;
    g_autoptr(GHashTable) found = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint next = 0;

    if (!pp_store_host_read_many(sched->store, batch, n, &hosts, &devices, &usage, &error)) {
      g_warning("scheduler: reading %u hosts again: %s", n, error->message);
      return FALSE;
    }
    /* Devices come by host id, as hosts do. */
    for (guint h = 0; h < hosts->len; h++) {
      const PpHost *host = g_ptr_array_index(hosts, h);
      guint n_devices;
      guint first = host_devices(devices, host->id, &next, &n_devices);

      refresh_host(sched, host, (PpStoreDevice *const *)devices->pdata + first, n_devices,
                   g_hash_table_lookup(usage, &host->id));
      g_hash_table_add(found, (gpointer)&host->id);
    }
    for (guint i = 0; i < n; i++) {
      if (!g_hash_table_contains(found, &batch[i]) &&
          pp_placer_remove_host(sched->placer, batch[i]))
        sched->placer_version++;
    }
  }
  return TRUE;
}

/* The store's word on a change (pp_store_add_watch()): noted, read again
 * at the next pass. */
static void
on_store_change(PpStoreTable table, gint64 rowid, gpointer data)
{
  PpScheduler *sched = data;
  GHashTable *set = NULL;

  switch (table) {
  case PP_STORE_TABLE_HOSTS:
    set = sched->dirty_hosts;
    break;
  case PP_STORE_TABLE_DEVICES:
    set = sched->dirty_devices;
    break;
  case PP_STORE_TABLE_VMS:
    set = sched->dirty_vms;
    break;
  case PP_STORE_TABLE_ALLOWANCES:
  default:
    /* An allowance names its host only in its row, which may be gone: an
     * administrator's rare act, paid by one whole build. */
    sched->rebuild = TRUE;
    break;
  }
  if (set != NULL)
    pp_id_set_add(set, rowid);
  pp_scheduler_poke(sched);
}

/* A VM whose state may need a call made (a start, a destroy) that no row
 * change announces: read again at the next pass. */
static void
vm_recheck(PpScheduler *sched, gint64 vm_id)
{
  pp_id_set_add(sched->dirty_vms, vm_id);
  pp_scheduler_poke(sched);
}

static void
mark_host(PpScheduler *sched, gint64 host_id)
{
  if (host_id > 0)
    pp_id_set_add(sched->dirty_hosts, host_id);
}

/* --- Pending VMs, grouped --------------------------------------------------- */

static void
group_free(Group *group)
{
  if (group == NULL)
    return;
  g_free(group->key);
  pp_vm_spec_free(group->spec);
  g_array_unref(group->avoid);
  g_queue_clear(&group->vms);
  if (group->explanation != NULL)
    g_ptr_array_unref(group->explanation);
  g_free(group);
}

static void
pending_free(Pending *pending)
{
  g_free(pending->name);
  g_free(pending);
}

/* What a VM asks for, as text: VMs of the same key are placed alike. */
static char *
group_key(const PpPlaceVm *pv, const GArray *avoid)
{
  GString *key = g_string_new(NULL);

  g_string_append_printf(key, "%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT "|%s|",
                         pv->cpu, pv->memory_kib, pv->host_id,
                         pv->host_name != NULL ? pv->host_name : "");
  for (guint r = 0; r < pv->n_requests; r++) {
    const PpPciRequest *req = &pv->requests[r];
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_string_append_printf(key, "%d:%d:%d:%s:%s;", req->vendor, req->device, req->class_code,
                           req->by_address ? pp_pci_address_format(&req->address, buf) : "",
                           req->text != NULL ? req->text : "");
  }
  g_string_append_c(key, '|');
  for (guint i = 0; avoid != NULL && i < avoid->len; i++)
    g_string_append_printf(key, "%" G_GINT64_FORMAT ",", g_array_index(avoid, gint64, i));
  return g_string_free(key, FALSE);
}

static void
pending_remove(PpScheduler *sched, gint64 vm_id)
{
  Pending *pending = g_hash_table_lookup(sched->pending, &vm_id);
  Group *group;

  if (pending == NULL)
    return;
  group = pending->group;
  g_queue_delete_link(&group->vms, pending->link);
  g_hash_table_remove(sched->pending, &vm_id);
  if (group->vms.length == 0)
    g_hash_table_remove(sched->groups, group->key);
}

static gint
pending_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
  gint64 x = ((const Pending *)a)->id, y = ((const Pending *)b)->id;

  (void)data;
  return (x > y) - (x < y);
}

/* Makes @vm, pending, a member of its group (made when new). A VM whose
 * template does not parse is failed. */
static void
pending_add(PpScheduler *sched, const PpVm *vm)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVmSpec) spec = NULL;
  g_autoptr(GArray) avoid = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree char *key = NULL;
  GArray *failed = g_hash_table_lookup(sched->failed_hosts, &vm->id);
  Pending *pending;
  Group *group;
  PpPlaceVm pv;

  /* Typed at its create: nothing parses the template again. */
  spec = pp_store_vm_get_spec(sched->store, vm->id, &error);
  if (spec == NULL && !g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID)) {
    /* The store failed, not the VM: read again at the next pass. */
    g_warning("scheduler: VM %" G_GINT64_FORMAT ": %s", vm->id, error->message);
    pp_id_set_add(sched->dirty_vms, vm->id);
    return;
  }
  if (spec == NULL) {
    /* A VM whose template did not parse when the store was made typed, or
     * a hand-edited store. */
    g_autofree char *reason =
        g_strdup_printf("its PCI requests cannot be read: %s", error->message);

    pending_remove(sched, vm->id);
    fail_vm(sched, vm, reason);
    return;
  }
  if (failed != NULL)
    g_array_append_vals(avoid, failed->data, failed->len);
  pp_vm_spec_to_place_vm(spec, vm->id, &pv);
  key = group_key(&pv, avoid);

  pending = g_hash_table_lookup(sched->pending, &vm->id);
  if (pending != NULL && strcmp(pending->group->key, key) == 0)
    return;
  pending_remove(sched, vm->id);

  group = g_hash_table_lookup(sched->groups, key);
  if (group == NULL) {
    group = g_new0(Group, 1);
    group->key = g_steal_pointer(&key);
    group->spec = g_steal_pointer(&spec);
    group->avoid = g_steal_pointer(&avoid);
    pp_vm_spec_to_place_vm(group->spec, 0, &group->pv);
    group->pv.avoid_host_ids = (const gint64 *)(void *)group->avoid->data;
    group->pv.n_avoid_host_ids = group->avoid->len;
    g_queue_init(&group->vms);
    g_hash_table_insert(sched->groups, group->key, group);
  }
  pending = g_new0(Pending, 1);
  pending->id = vm->id;
  pending->name = g_strdup(vm->name);
  pending->group = group;
  if (group->vms.tail == NULL || ((Pending *)group->vms.tail->data)->id < vm->id) {
    g_queue_push_tail(&group->vms, pending);
    pending->link = group->vms.tail;
  } else {
    g_queue_insert_sorted(&group->vms, pending, pending_cmp, NULL);
    pending->link = g_queue_find(&group->vms, pending);
  }
  g_hash_table_insert(sched->pending, id_key(vm->id), pending);
}

/* Reads VM @vm_id again: where it is (its old and new host are read again)
 * and whether it waits (pending) or a call must be made for it. */
static void
refresh_vm(PpScheduler *sched, gint64 vm_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = pp_store_vm_get(sched->store, vm_id, &error);
  gint64 *old_host = g_hash_table_lookup(sched->vm_host, &vm_id);

  if (old_host != NULL)
    mark_host(sched, *old_host);
  if (vm == NULL) {
    if (!g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      /* The store failed, not the VM: read again at the next pass. */
      g_warning("scheduler: VM %" G_GINT64_FORMAT ": %s", vm_id, error->message);
      pp_id_set_add(sched->dirty_vms, vm_id);
      return;
    }
    g_hash_table_remove(sched->vm_host, &vm_id);
    pending_remove(sched, vm_id);
    return;
  }
  if (vm->host_id != 0) {
    mark_host(sched, vm->host_id);
    g_hash_table_replace(sched->vm_host, id_key(vm_id), g_memdup2(&vm->host_id, sizeof(gint64)));
  } else {
    g_hash_table_remove(sched->vm_host, &vm_id);
  }
  if (vm->state == PP_VM_STATE_PENDING) {
    if (!g_hash_table_contains(sched->no_address, &vm_id))
      pending_add(sched, vm);
  } else {
    pending_remove(sched, vm_id);
    /* A VM that gave its host back may have given leases back too. */
    if (g_hash_table_remove(sched->no_address, &vm_id) || vm->host_id == 0)
      sched->recheck_addresses = g_hash_table_size(sched->no_address) > 0;
  }
  /* A destroy that failed is tried again by the timer's pass, not at once
   * (its "retried" row change would make it a loop). */
  if ((vm->state == PP_VM_STATE_DEPLOYING ||
       (vm->state == PP_VM_STATE_TERMINATING &&
        !g_hash_table_contains(sched->destroy_failures, &vm->id))) &&
      !g_hash_table_contains(sched->in_flight, &vm->id))
    start_op(sched, vm, vm->state == PP_VM_STATE_DEPLOYING ? OP_START : OP_TERMINATE);
}

/* Brings the index and the pending groups up to what the store says. */
static gboolean
catch_up(PpScheduler *sched)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) vms = NULL;
  g_autoptr(GArray) devices = NULL;
  g_autoptr(GArray) hosts = NULL;

  if (sched->placer == NULL || sched->rebuild) {
    gboolean first = sched->placer == NULL;

    /* What the watch said of hosts and devices is in what is read now. */
    g_hash_table_remove_all(sched->dirty_hosts);
    g_hash_table_remove_all(sched->dirty_devices);
    sched->rebuild = FALSE;
    if (!build_placer(sched, &error)) {
      g_warning("scheduler: %s", error->message);
      sched->rebuild = TRUE;
      return FALSE;
    }
    /* The pending VMs are read whole once, at start; a rebuild keeps the
     * groups (it counts as a gain: each is tried again). */
    if (first) {
      g_autoptr(GPtrArray) pending =
          pp_store_vm_list(sched->store, 0, 1u << PP_VM_STATE_PENDING, &error);

      if (pending == NULL) {
        g_warning("scheduler: %s", error->message);
        g_clear_pointer(&sched->placer, pp_placer_free);
        return FALSE;
      }
      for (guint i = 0; i < pending->len; i++)
        pending_add(sched, g_ptr_array_index(pending, i));
    }
    /* The VMs the watch named: where they are, and a call that may be
     * due (deploying). */
    vms = pp_id_set_take(sched->dirty_vms);
    for (guint i = 0; i < vms->len; i++) {
      gint64 id = g_array_index(vms, gint64, i);

      if (!first || !g_hash_table_contains(sched->pending, &id))
        refresh_vm(sched, id);
    }
    /* The placer was just read whole. */
    g_hash_table_remove_all(sched->dirty_hosts);
    return TRUE;
  }

  vms = pp_id_set_take(sched->dirty_vms);
  for (guint i = 0; i < vms->len; i++)
    refresh_vm(sched, g_array_index(vms, gint64, i));
  devices = pp_id_set_take(sched->dirty_devices);
  if (devices->len > 0) {
    /* Read by id, a hundred at once, not a map of every device (290,000
     * at 10,000 hosts): a device deleted is no longer found, but the
     * report that deleted it changed its host's row too. */
    g_autoptr(GArray) found =
        pp_store_device_host_ids(sched->store, (const gint64 *)devices->data, devices->len, &error);

    if (found == NULL) {
      g_warning("scheduler: %s", error->message);
      g_clear_error(&error);
      sched->rebuild = TRUE; /* read everything at the next pass */
    } else {
      for (guint i = 0; i < found->len; i++)
        mark_host(sched, g_array_index(found, gint64, i));
    }
  }
  hosts = pp_id_set_take(sched->dirty_hosts);
  if (hosts->len > 0) {
    guint done = 0;

    /* The store failed: those not read are read at the next pass (the
     * timer's, at the latest). */
    if (!refresh_hosts(sched, hosts, &done))
      for (guint i = done; i < hosts->len; i++)
        pp_id_set_add(sched->dirty_hosts, g_array_index(hosts, gint64, i));
  }
  return TRUE;
}

/* The explanation of @group, made again when the placer changed since, at
 * most once per EXPLAIN_FRESH_US: it looks at every host (15 ms at 10,000
 * hosts), and a busy cluster changes the placer at every placement. */
static void
group_explain(PpScheduler *sched, Group *group)
{
  gint64 now = g_get_monotonic_time();

  if (group->explanation != NULL && (group->explained_at == sched->placer_version ||
                                     now - group->explained_time < EXPLAIN_FRESH_US))
    return;
  g_clear_pointer(&group->explanation, g_ptr_array_unref);
  group->explanation =
      pp_placer_explain(sched->placer, &group->pv, EXPLAIN_EXAMPLES, &group->explained_hosts);
  group->explained_at = sched->placer_version;
  group->explained_time = now;
}

static char *
explanation_summary(const GPtrArray *groups, guint n_hosts, guint max)
{
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < groups->len && i < max; i++) {
    const PpPlaceReasonGroup *g = g_ptr_array_index((GPtrArray *)groups, i);
    const PpPlaceRejection *first = g_ptr_array_index(g->examples, 0);

    if (i > 0)
      g_string_append(s, "; ");
    if (g->n_hosts == 1)
      g_string_append_printf(s, "%s: %s", first->host_name, first->reason);
    else
      g_string_append_printf(s, "%u hosts: %s (%s, ...)", g->n_hosts, g->summary, first->host_name);
  }
  if (groups->len > max)
    g_string_append_printf(s, "; and %u more reason%s", groups->len - max,
                           groups->len - max == 1 ? "" : "s");
  if (groups->len == 0)
    g_string_append(s, n_hosts > 0 ? "a host fits now: it is placed at the next pass" : "no hosts");
  return g_string_free(s, FALSE);
}

/* VM @vm_id waits, out of its group, for an address of a network. */
static void
wait_address(PpScheduler *sched, gint64 vm_id, const char *name, const char *reason)
{
  const char *before = g_hash_table_lookup(sched->no_address, &vm_id);

  if (g_strcmp0(before, reason) != 0)
    g_message("VM %" G_GINT64_FORMAT " '%s' is pending: %s", vm_id, name, reason);
  g_hash_table_replace(sched->no_address, id_key(vm_id), g_strdup(reason));
}

/* Whether every NIC of @pending's VM can have an address; else it waits
 * (wait_address()). A store that fails says yes: the allocation then
 * says what is wrong. */
static gboolean
has_addresses(PpScheduler *sched, const Pending *pending)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gboolean ok = TRUE;

  if (!pp_store_vm_check_leases(sched->store, pending->id, &ok, &reason, &error)) {
    g_warning("scheduler: VM %" G_GINT64_FORMAT ": %s", pending->id, error->message);
    return TRUE;
  }
  if (!ok)
    wait_address(sched, pending->id, pending->name, reason);
  return ok;
}

/* The VMs that wait for an address, looked at again when one may have
 * come free (a few rows per NIC each): those that can have theirs go back
 * to their groups; the others keep waiting, their reason brought up to
 * date without a log line of its own. */
static void
recheck_addresses(PpScheduler *sched)
{
  GHashTableIter iter;
  gpointer key, value;

  sched->recheck_addresses = FALSE;
  g_hash_table_iter_init(&iter, sched->no_address);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    g_autoptr(GError) error = NULL;
    g_autofree char *reason = NULL;
    gboolean ok = TRUE;

    if (pp_store_vm_check_leases(sched->store, *(gint64 *)key, &ok, &reason, &error) && !ok) {
      if (strcmp(reason, value) != 0)
        g_hash_table_iter_replace(&iter, g_steal_pointer(&reason));
      continue;
    }
    /* Free now, or the store failed: read again (a VM gone is dropped
     * there). */
    pp_id_set_add(sched->dirty_vms, *(gint64 *)key);
    g_hash_table_iter_remove(&iter);
  }
}

void
pp_scheduler_networks_changed(PpScheduler *scheduler)
{
  g_return_if_fail(scheduler != NULL);
  scheduler->recheck_addresses = g_hash_table_size(scheduler->no_address) > 0;
  pp_scheduler_poke(scheduler);
}

/* Tries the first VM of @group. Returns: TRUE when it was placed. */
static gboolean
place_first(PpScheduler *sched, Group *group)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpPlacement) placement = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(PpVm) placed = NULL;
  Pending *first;
  gint64 vm_id;
  g_autofree char *name = NULL;
  gboolean allocated;

  /* VMs whose networks have no free address leave the group until one
   * does (one row per NIC each). */
  while ((first = g_queue_peek_head(&group->vms)) != NULL && !has_addresses(sched, first)) {
    gboolean last = group->vms.length == 1;

    pending_remove(sched, first->id);
    if (last)
      return FALSE;
  }
  vm_id = first->id;
  name = g_strdup(first->name);

  group->pv.id = vm_id;
  sched->counts.tries++;
  if (!pp_placer_place(sched->placer, &group->pv, &placement, NULL)) {
    gboolean logged = group->failed_at != 0;

    group->failed_at = sched->wake;
    if (!logged) {
      g_autofree char *summary = NULL;

      group_explain(sched, group);
      summary = explanation_summary(group->explanation, group->explained_hosts, LOG_HOSTS);
      g_message("VM %" G_GINT64_FORMAT " '%s'%s is pending: no host fits: %s", vm_id, name,
                group->vms.length > 1 ? " (and the VMs that ask for the same)" : "", summary);
    }
    return FALSE;
  }

  ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_array_append_vals(ids, placement->device_ids->data, placement->device_ids->len);
  g_array_append_vals(ids, placement->companion_ids->data, placement->companion_ids->len);
  allocated = pp_store_vm_allocate(sched->store, vm_id, placement->host_id,
                                   (gint64 *)(void *)ids->data, ids->len, now_s(), &error);
  if (allocated) {
    PpPlaceVm pv = group->pv;

    pv.id = vm_id;
    pp_placer_commit(sched->placer, &pv, placement);
    sched->placer_version++;
    /* Where it is, before any later change (a failed deploy) moves it. */
    g_hash_table_replace(sched->vm_host, id_key(vm_id),
                         g_memdup2(&placement->host_id, sizeof(gint64)));
  }
  /* Out of its group (which goes with its last VM) whatever the store
   * said. */
  pending_remove(sched, vm_id);
  if (!allocated && g_error_matches(error, PP_STORE_ERROR, PP_STORE_ERROR_NO_ADDRESS)) {
    /* A network's last address went meanwhile. */
    wait_address(sched, vm_id, name, error->message);
    return FALSE;
  }
  if (!allocated) {
    /* The placer follows the store: only a bug or a race with a writer
     * the watch has not told of yet gets here. Both are read again at the
     * next pass. */
    g_warning("VM %" G_GINT64_FORMAT ": allocation on host '%s' refused: %s", vm_id,
              placement->host_name, error->message);
    mark_host(sched, placement->host_id);
    pp_id_set_add(sched->dirty_vms, vm_id);
    return FALSE;
  }
  sched->counts.placed++;
  g_message("VM %" G_GINT64_FORMAT " '%s' placed on host '%s' with %u device%s%s", vm_id, name,
            placement->host_name, ids->len, ids->len == 1 ? "" : "s",
            placement->numa_node >= 0 ? " on one NUMA node" : "");
  placed = pp_store_vm_get(sched->store, vm_id, &error);
  if (placed != NULL)
    start_op(sched, placed, OP_START);
  return TRUE;
}

/* Whether @group, which failed before the last gain, may fit now: one of
 * the hosts that gained since it failed takes its first VM (a dry run on
 * that host alone). Marks it failed now when none does, so that it is not
 * asked again until the next gain. */
static gboolean
group_may_fit(PpScheduler *sched, Group *group)
{
  PpPlaceVm pv = group->pv;

  if (group->failed_at < sched->gains_floor || pv.host_id != 0 || pv.host_name != NULL)
    return TRUE;
  pv.id = 0;
  pv.avoid_host_ids = NULL;
  pv.n_avoid_host_ids = 0;
  for (guint i = sched->gains->len; i > 0; i--) {
    const Gain *gain = &g_array_index(sched->gains, Gain, i - 1);

    if (gain->wake <= group->failed_at)
      break;
    pv.host_id = gain->host_id;
    if (pp_placer_place(sched->placer, &pv, NULL, NULL))
      return TRUE;
  }
  group->failed_at = sched->wake;
  return FALSE;
}

static gint
group_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
  gint64 x = ((const Pending *)((const Group *)a)->vms.head->data)->id;
  gint64 y = ((const Pending *)((const Group *)b)->vms.head->data)->id;

  (void)data;
  return (x > y) - (x < y);
}

static void
run_pass(PpScheduler *sched)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSequence) queue = NULL;
  GHashTableIter iter;
  gpointer value;
  gint64 start = g_get_monotonic_time();

  sched->counts.passes++;

  if (sched->check_busy) {
    /* What a call was cut short of (a restart, a failed destroy). */
    g_autoptr(GPtrArray) busy = pp_store_vm_list(
        sched->store, 0, (1u << PP_VM_STATE_DEPLOYING) | (1u << PP_VM_STATE_TERMINATING), &error);

    if (busy == NULL) {
      g_warning("scheduler: %s", error->message);
      return;
    }
    sched->check_busy = FALSE;
    for (guint i = 0; i < busy->len; i++) {
      const PpVm *vm = g_ptr_array_index(busy, i);

      if (!g_hash_table_contains(sched->in_flight, &vm->id))
        start_op(sched, vm, vm->state == PP_VM_STATE_DEPLOYING ? OP_START : OP_TERMINATE);
    }
  }
  if (sched->recheck_addresses)
    recheck_addresses(sched);
  if (!catch_up(sched))
    return;

  /* The groups with a VM to try, oldest first: those that never failed,
   * and those that failed before a host gained what may take them. */
  queue = g_sequence_new(NULL);
  g_hash_table_iter_init(&iter, sched->groups);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    Group *group = value;

    if (group->failed_at == 0 || (group->failed_at != sched->wake && group_may_fit(sched, group)))
      g_sequence_insert_sorted(queue, group, group_cmp, NULL);
  }
  while (!g_sequence_is_empty(queue)) {
    GSequenceIter *head = g_sequence_get_begin_iter(queue);
    Group *group = g_sequence_get(head);
    gchar *key;

    /* The groups left are in sched->groups still: the next pass, at once
     * after what waits, takes them up again. */
    if (g_get_monotonic_time() - start >= PASS_BUDGET_US) {
      sched->counts.pass_yields++;
      pp_scheduler_poke(sched);
      break;
    }
    key = g_strdup(group->key);
    g_sequence_remove(head);
    if (!place_first(sched, group)) {
      g_free(key);
      continue;
    }
    /* Placed: the group is gone when it was its last VM; else its next VM
     * waits its turn among the others. */
    if (g_hash_table_lookup(sched->groups, key) == group)
      g_sequence_insert_sorted(queue, group, group_cmp, NULL);
    g_free(key);
  }
}

static gboolean
on_idle(gpointer data)
{
  PpScheduler *sched = data;

  sched->idle_id = 0;
  run_pass(sched);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timer(gpointer data)
{
  PpScheduler *sched = data;

  sched->check_busy = TRUE;
  sched->recheck_addresses = g_hash_table_size(sched->no_address) > 0;
  run_pass(sched);
  return G_SOURCE_CONTINUE;
}

void
pp_scheduler_poke(PpScheduler *scheduler)
{
  g_return_if_fail(scheduler != NULL);
  if (scheduler->idle_id == 0)
    scheduler->idle_id = g_idle_add(on_idle, scheduler);
}

/* The state a stopped domain leaves its VM in, and why. Returns: (transfer
 * full) the reason. */
static char *
stop_outcome(PpDomainEventKind kind, const char *what, PpVmState *ret_state)
{
  *ret_state = PP_VM_STATE_POWEROFF;
  switch (kind) {
  case PP_DOMAIN_EVENT_SHUTDOWN:
    return g_strdup_printf("its guest shut it down (libvirt: %s); it keeps its devices", what);
  case PP_DOMAIN_EVENT_DESTROYED:
    return g_strdup_printf("its domain was destroyed outside pcipass (libvirt: %s); it keeps its "
                           "devices",
                           what);
  case PP_DOMAIN_EVENT_CRASHED:
    *ret_state = PP_VM_STATE_FAILED;
    return g_strdup_printf("libvirt: %s; it keeps its devices until 'pcipass vm terminate' or "
                           "'pcipass vm retry'",
                           what);
  case PP_DOMAIN_EVENT_STOPPED:
  default:
    return g_strdup_printf("libvirt: %s; it keeps its devices", what);
  }
}

/* A libvirt call for a VM whose deploy failed: back to pending to be
 * placed elsewhere, or failed after the last try. A connection error puts
 * the host in error (not chosen until its libvirt answers); a message that
 * names a device of the VM sets that device aside on the host. */
static void
start_failed(PpScheduler *sched, const PpVm *vm, const Op *op, const GError *error)
{
  g_autoptr(GError) store_error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *reason = NULL;
  GArray *hosts;
  guint tries = vm->tries + 1;

  sched->counts.deploy_failures++;
  if (g_error_matches(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_SPEC)) {
    /* Its own inputs (an image gone): no host would do better. */
    fail_vm(sched, vm, error->message);
    return;
  }
  if (g_error_matches(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_CONFIG)) {
    reason = g_strdup_printf("libvirt refused its domain XML on host '%s': %s", op->host_name,
                             error->message);
    fail_vm(sched, vm, reason);
    return;
  }
  if (g_error_matches(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_CONNECT)) {
    if (pp_store_host_set_libvirt_error(sched->store, op->host_id, error->message, &store_error))
      g_warning("host '%s': error: %s", op->host_name, error->message);
    else
      g_warning("host '%s': %s", op->host_name, store_error->message);
    g_clear_error(&store_error);
  } else {
    devices = pp_store_vm_list_devices(sched->store, vm->id, NULL);
    for (guint i = 0; devices != NULL && i < devices->len; i++) {
      const PpStoreDevice *dev = g_ptr_array_index(devices, i);
      char address[PP_PCI_ADDRESS_BUFSIZE];

      /* libvirt names a device it could not bind in the sysfs form. */
      pp_pci_address_format(&dev->pci.address, address);
      if (strstr(error->message, address) == NULL)
        continue;
      g_warning("host '%s': %s set aside until a probe reports it again: %s", op->host_name,
                address, error->message);
      if (!pp_store_device_set_aside(sched->store, op->host_id, address, error->message,
                                     &store_error)) {
        g_warning("host '%s': %s", op->host_name, store_error->message);
        g_clear_error(&store_error);
      }
    }
  }
  /* Remembered until it runs or is terminated: a retry prefers others. */
  hosts = g_hash_table_lookup(sched->failed_hosts, &vm->id);
  if (hosts == NULL) {
    hosts = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_hash_table_insert(sched->failed_hosts, id_key(vm->id), hosts);
  }
  g_array_append_val(hosts, op->host_id);
  if (tries >= sched->config.deploy_tries) {
    reason = g_strdup_printf("its deploy failed %u time%s; the last, on host '%s': %s", tries,
                             tries == 1 ? "" : "s", op->host_name, error->message);
    fail_vm(sched, vm, reason);
    return;
  }
  reason = g_strdup_printf("deploy %u of %u failed on host '%s', placing it again: %s", tries,
                           sched->config.deploy_tries, op->host_name, error->message);
  if (pp_store_vm_requeue(sched->store, vm->id, PP_VM_STATE_DEPLOYING, reason, TRUE, now_s(),
                          &store_error))
    g_warning("VM %" G_GINT64_FORMAT " '%s': %s", vm->id, vm->name, reason);
  else
    g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, store_error->message);
}

/* terminating -> done, releasing what the VM holds. */
static void
terminated(PpScheduler *sched, const PpVm *vm, const char *reason)
{
  g_autoptr(GError) error = NULL;

  g_hash_table_remove(sched->destroy_failures, &vm->id);
  g_hash_table_remove(sched->failed_hosts, &vm->id);
  if (!pp_store_vm_release(sched->store, vm->id, PP_VM_STATE_DONE, reason, now_s(), &error)) {
    g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, error->message);
    return;
  }
  g_message("VM %" G_GINT64_FORMAT " '%s' terminated; its devices are free%s%s", vm->id, vm->name,
            reason ? ": " : "", reason ? reason : "");
  pp_scheduler_poke(sched);
}

static void
on_op_done(GObject *source, GAsyncResult *result, gpointer data)
{
  Op *op = data;
  PpScheduler *sched = op->sched;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) store_error = NULL;
  g_autoptr(PpVm) vm = NULL;
  /* A start's XML is recorded only while the scheduler, and its store,
   * are there. */
  gboolean ok = op->kind == OP_START
                    ? pp_deployer_deploy_finish(result, sched != NULL ? sched->store : NULL, &error)
                    : pp_deployer_destroy_finish(result, &error);

  if (sched == NULL) {
    op_free(op);
    return;
  }
  g_hash_table_remove(sched->in_flight, &op->vm_id);
  if (op->kind == OP_ORPHAN) {
    /* A VM of that id waiting for it starts at the next pass. */
    if (!ok)
      g_warning("host '%s': %s", op->host_name, error->message);
    vm_recheck(sched, op->vm_id);
    op_free(op);
    return;
  }
  g_hash_table_remove(sched->missing, &op->vm_id);
  vm_news(sched, op->vm_id);
  vm = pp_store_vm_get(sched->store, op->vm_id, &store_error);
  if (vm == NULL) {
    g_warning("VM %" G_GINT64_FORMAT ": %s", op->vm_id, store_error->message);
    op_free(op);
    return;
  }

  switch (op->kind) {
  case OP_START:
    if (vm->state == PP_VM_STATE_TERMINATING) {
      /* Terminated while it started: the pass destroys it. */
      vm_recheck(sched, vm->id);
    } else if (vm->state != PP_VM_STATE_DEPLOYING) {
      g_debug("VM %" G_GINT64_FORMAT ": %s when its start returned, ignoring", vm->id,
              pp_vm_state_to_string(vm->state));
    } else if (ok && op->stopped) {
      /* Started, and stopped before the start returned. */
      PpVmState to;
      g_autofree char *reason = stop_outcome(op->stopped_kind, op->stopped_what, &to);

      sched->counts.deployed++;
      move_vm(sched, vm, PP_VM_STATE_DEPLOYING, to, reason);
    } else if (ok) {
      sched->counts.deployed++;
      g_hash_table_remove(sched->failed_hosts, &vm->id);
      if (pp_store_vm_transition(sched->store, vm->id, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING,
                                 NULL, now_s(), &store_error))
        g_message("VM %" G_GINT64_FORMAT " '%s' is running on host '%s'", vm->id, vm->name,
                  op->host_name);
      else
        g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, store_error->message);
    } else {
      start_failed(sched, vm, op, error);
      /* What it held may fit a pending VM; it may fit elsewhere. */
      pp_scheduler_poke(sched);
    }
    break;
  case OP_TERMINATE:
    if (ok) {
      terminated(sched, vm, NULL);
    } else if (g_error_matches(error, PP_DEPLOYER_ERROR, PP_DEPLOYER_ERROR_CONNECT)) {
      /* The host does not answer: what the VM holds is released now; the
       * reconcile destroys its domain when the host answers again. */
      g_autofree char *reason =
          g_strdup_printf("terminated while host '%s' did not answer (%s); its domain is "
                          "destroyed when the host answers again",
                          op->host_name, error->message);

      pp_store_host_set_libvirt_error(sched->store, op->host_id, error->message, NULL);
      terminated(sched, vm, reason);
    } else {
      /* It stays terminating, holding its devices: the next pass retries,
       * deploy_tries times in all, then it is released all the same. */
      guint failures = GPOINTER_TO_UINT(g_hash_table_lookup(sched->destroy_failures, &vm->id)) + 1;
      g_autofree char *reason = NULL;

      if (failures >= sched->config.deploy_tries) {
        reason = g_strdup_printf("its domain could not be destroyed on host '%s' (%s); released "
                                 "after %u tries: the reconcile destroys the domain later",
                                 op->host_name, error->message, failures);
        terminated(sched, vm, reason);
        break;
      }
      g_hash_table_replace(sched->destroy_failures, id_key(vm->id), GUINT_TO_POINTER(failures));
      reason = g_strdup_printf("terminate: %s (retried)", error->message);
      g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, reason);
      pp_store_vm_transition(sched->store, vm->id, PP_VM_STATE_TERMINATING, PP_VM_STATE_TERMINATING,
                             reason, now_s(), NULL);
    }
    break;
  case OP_ORPHAN:
    g_assert_not_reached();
    break;
  case OP_POWEROFF:
    if (ok && vm->state == PP_VM_STATE_RUNNING) {
      if (move_vm(sched, vm, PP_VM_STATE_RUNNING, PP_VM_STATE_POWEROFF,
                  "powered off by pcipass; it keeps its devices"))
        g_message("VM %" G_GINT64_FORMAT " '%s' is off; its devices stay reserved", vm->id,
                  vm->name);
    } else if (!ok && vm->state == PP_VM_STATE_RUNNING) {
      g_autofree char *reason = g_strdup_printf("poweroff: %s", error->message);

      g_warning("VM %" G_GINT64_FORMAT ": %s", vm->id, reason);
      pp_store_vm_transition(sched->store, vm->id, PP_VM_STATE_RUNNING, PP_VM_STATE_RUNNING, reason,
                             now_s(), NULL);
    } else if (vm->state == PP_VM_STATE_TERMINATING) {
      vm_recheck(sched, vm->id);
    }
    break;
  }
  op_free(op);
}

/* Starts the libvirt call of @kind for @vm. */
static void
start_op(PpScheduler *sched, const PpVm *vm, OpKind kind)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *name = pp_scheduler_domain_name(vm->id);
  Op *op;

  if (g_hash_table_contains(sched->in_flight, &vm->id))
    return;
  if (vm->host_id == 0) {
    /* Released meanwhile, or never placed: nothing runs anywhere. */
    if (kind == OP_TERMINATE)
      terminated(sched, vm, NULL);
    return;
  }
  host = pp_store_host_get(sched->store, vm->host_id, &error);
  if (host == NULL) {
    fail_vm(sched, vm, error->message);
    return;
  }
  uri = pp_scheduler_host_uri(host);
  op = g_new0(Op, 1);
  op->sched = sched;
  op->vm_id = vm->id;
  op->kind = kind;
  op->host_id = host->id;
  op->host_name = g_strdup(host->name);

  if (kind == OP_START) {
    /* The deployer builds the domain: from the VM's typed spec, its
     * devices and what the host's libvirt offers. */
    g_debug("VM %" G_GINT64_FORMAT ": starting %s on '%s'", vm->id, name, uri);
    pp_deployer_deploy_async(sched->deployer, sched->store, sched->config.images, vm->id, host, uri,
                             name, on_op_done, op);
  } else {
    g_debug("VM %" G_GINT64_FORMAT ": destroying %s on '%s'", vm->id, name, uri);
    /* Terminate takes the context disk away; poweroff leaves it for resume. */
    pp_deployer_destroy_async(sched->deployer, uri, name,
                              kind == OP_TERMINATE ? host->context_pool : NULL, on_op_done, op);
  }
  g_hash_table_insert(sched->in_flight, id_key(vm->id), op);
}

static gboolean
state_error(const PpVm *vm, const char *wanted, GError **error)
{
  g_set_error(error, PP_SCHEDULER_ERROR, PP_SCHEDULER_ERROR_STATE,
              "VM %" G_GINT64_FORMAT " is %s; %s", vm->id, pp_vm_state_to_string(vm->state),
              wanted);
  return FALSE;
}

/* One try of pp_scheduler_terminate_stored(): each write is made only
 * from the state read (else CONFLICT). */
static gboolean
terminate_stored_once(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(PpVm) vm = pp_store_vm_get(store, vm_id, error);

  if (vm == NULL)
    return FALSE;
  switch (vm->state) {
  case PP_VM_STATE_DONE:
    /* Terminated already: nothing held, nothing to do. */
    return TRUE;
  case PP_VM_STATE_PENDING:
    /* Nothing runs: done at once. */
    return pp_store_vm_release_from(store, vm_id, PP_VM_STATE_PENDING, PP_VM_STATE_DONE,
                                    "terminated before it was placed", now_s(), error);
  case PP_VM_STATE_FAILED:
    if (vm->host_id == 0)
      return pp_store_vm_release_from(store, vm_id, PP_VM_STATE_FAILED, PP_VM_STATE_DONE,
                                      vm->reason, now_s(), error);
    /* A crashed VM kept its devices: its domain may still be there. */
    G_GNUC_FALLTHROUGH;
  case PP_VM_STATE_DEPLOYING:
  case PP_VM_STATE_RUNNING:
  case PP_VM_STATE_POWEROFF:
  case PP_VM_STATE_UNKNOWN:
    return pp_store_vm_transition(store, vm_id, vm->state, PP_VM_STATE_TERMINATING,
                                  "terminate asked", now_s(), error);
  case PP_VM_STATE_TERMINATING:
  default:
    return TRUE;
  }
}

/* Another pcipassd (the leader, when this one stands by) may move the VM
 * between the read of its state and the write: a pending VM placed
 * meanwhile must not be released under its deploy (its devices would be
 * given again while libvirt starts it), nor a terminate refused because
 * a start ended. So the write checks the state read, and a state changed
 * meanwhile is read again, a few times. */
gboolean
pp_scheduler_terminate_stored(PpStore *store, gint64 vm_id, GError **error)
{
  for (guint tries = 1;; tries++) {
    g_autoptr(GError) local = NULL;

    if (terminate_stored_once(store, vm_id, &local))
      return TRUE;
    if (tries == 5 || !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT)) {
      g_propagate_error(error, g_steal_pointer(&local));
      return FALSE;
    }
    g_debug("VM %" G_GINT64_FORMAT ": terminate: %s; reading it again", vm_id, local->message);
  }
}

gboolean
pp_scheduler_terminate(PpScheduler *scheduler, gint64 vm_id, GError **error)
{
  g_autoptr(PpVm) now = NULL;

  g_hash_table_remove(scheduler->failed_hosts, &vm_id);
  if (!pp_scheduler_terminate_stored(scheduler->store, vm_id, error))
    return FALSE;
  now = pp_store_vm_get(scheduler->store, vm_id, error);
  if (now == NULL)
    return FALSE;
  /* A call in flight (a start) ends first; its callback sees terminating. */
  if (now->state == PP_VM_STATE_TERMINATING)
    start_op(scheduler, now, OP_TERMINATE);
  return TRUE;
}

gboolean
pp_scheduler_poweroff(PpScheduler *scheduler, gint64 vm_id, GError **error)
{
  g_autoptr(PpVm) vm = pp_store_vm_get(scheduler->store, vm_id, error);

  if (vm == NULL)
    return FALSE;
  if (vm->state != PP_VM_STATE_RUNNING)
    return state_error(vm, "only a running VM can be powered off", error);
  if (g_hash_table_contains(scheduler->in_flight, &vm_id))
    return state_error(vm, "a libvirt call for it is still running; try again", error);
  start_op(scheduler, vm, OP_POWEROFF);
  return TRUE;
}

/* A VM resumes on the devices it holds: each must still be there (a
 * device the last probe did not report is gone: libvirt would fail the
 * start); retry gives them back and places the VM anew. A VM resumed on a
 * prebound host gets managed='no', whatever the host was when it started:
 * each device must be on vfio-pci, as the last probe saw it, or libvirt
 * would fail the start and the VM its devices. */
static gboolean
check_resume_ready(PpScheduler *sched, const PpVm *vm, GError **error)
{
  g_autoptr(PpHost) host = pp_store_host_get(sched->store, vm->host_id, error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);

  if (host == NULL)
    return FALSE;
  devices = pp_store_vm_list_devices(sched->store, vm->id, error);
  if (devices == NULL)
    return FALSE;
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);
    char address[PP_PCI_ADDRESS_BUFSIZE];

    if (dev->gone) {
      g_autofree char *wanted = g_strdup_printf(
          "it cannot be resumed: %s of host '%s' is gone: the host's last probe did not report it; "
          "'pcipass vm retry %" G_GINT64_FORMAT "' gives back what the VM holds and places it anew",
          pp_pci_address_format(&dev->pci.address, address), host->name, vm->id);

      return state_error(vm, wanted, error);
    }
  }
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);
    const char *reason = prebound_not_ready(host, dev, reasons);
    char address[PP_PCI_ADDRESS_BUFSIZE];

    if (reason != NULL) {
      g_autofree char *wanted = g_strdup_printf(
          "it cannot be resumed: %s %s", pp_pci_address_format(&dev->pci.address, address), reason);

      return state_error(vm, wanted, error);
    }
  }
  return TRUE;
}

/* A VM's images are found again when it starts: one gone or changed
 * since would fail it and release its devices; a resume is refused
 * instead, and the VM keeps them. */
static gboolean
check_resume_images(PpScheduler *sched, const PpVm *vm, GError **error)
{
  g_autoptr(PpVmSpec) spec = pp_store_vm_get_spec(sched->store, vm->id, NULL);
  g_autoptr(GError) local = NULL;

  if (spec == NULL || pp_images_resolve_spec(sched->config.images, spec, NULL, &local))
    return TRUE;
  {
    g_autofree char *wanted = g_strdup_printf(
        "it cannot be resumed: an image of its template cannot be used: %s", local->message);

    return state_error(vm, wanted, error);
  }
}

gboolean
pp_scheduler_resume(PpScheduler *scheduler, gint64 vm_id, GError **error)
{
  g_autoptr(PpVm) vm = pp_store_vm_get(scheduler->store, vm_id, error);
  g_autoptr(PpVm) now = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != PP_VM_STATE_POWEROFF && (vm->state != PP_VM_STATE_FAILED || vm->host_id == 0))
    return state_error(vm,
                       "only a VM that is powered off, or failed keeping its devices, can be "
                       "resumed",
                       error);
  if (g_hash_table_contains(scheduler->in_flight, &vm_id))
    return state_error(vm, "a libvirt call for it is still running; try again", error);
  if (!check_resume_ready(scheduler, vm, error) || !check_resume_images(scheduler, vm, error))
    return FALSE;
  if (!pp_store_vm_transition(scheduler->store, vm_id, vm->state, PP_VM_STATE_DEPLOYING,
                              "resume asked", now_s(), error))
    return FALSE;
  now = pp_store_vm_get(scheduler->store, vm_id, error);
  if (now == NULL)
    return FALSE;
  start_op(scheduler, now, OP_START);
  return TRUE;
}

gboolean
pp_scheduler_retry_stored(PpStore *store, gint64 vm_id, const char *by, GError **error)
{
  g_autoptr(PpVm) vm = pp_store_vm_get(store, vm_id, error);
  g_autofree char *reason = NULL;

  if (vm == NULL)
    return FALSE;
  if (vm->state != PP_VM_STATE_FAILED && vm->state != PP_VM_STATE_POWEROFF)
    return state_error(vm, "only a failed or powered-off VM can be retried", error);
  reason = g_strdup_printf("retried by '%s'", by);
  /* Its owner's quotas are checked with it: it asks for a place anew. */
  return pp_store_vm_retry(store, vm_id, vm->state, reason, now_s(), error);
}

gboolean
pp_scheduler_retry(PpScheduler *scheduler, gint64 vm_id, const char *by, GError **error)
{
  if (g_hash_table_contains(scheduler->in_flight, &vm_id)) {
    g_autoptr(PpVm) vm = pp_store_vm_get(scheduler->store, vm_id, error);

    if (vm == NULL)
      return FALSE;
    /* A VM in another state is refused for that, below. */
    if (vm->state == PP_VM_STATE_FAILED || vm->state == PP_VM_STATE_POWEROFF)
      return state_error(vm, "a libvirt call for it is still running; try again", error);
  }
  if (!pp_scheduler_retry_stored(scheduler->store, vm_id, by, error))
    return FALSE;
  pp_scheduler_poke(scheduler);
  return TRUE;
}

/* The VM of @domain on the host of @uri, or NULL (not pcipass's, not on
 * that host, or the store failed: logged). */
static PpVm *
vm_of_domain(PpScheduler *sched, const char *uri, const char *domain, PpHost **ret_host)
{
  gint64 id = domain_vm_id(domain);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *host_uri = NULL;

  if (id == 0)
    return NULL;
  vm = pp_store_vm_get(sched->store, id, &error);
  if (vm == NULL) {
    g_debug("'%s': %s: %s, ignoring", uri, domain, error->message);
    return NULL;
  }
  if (vm->host_id == 0)
    return NULL;
  host = pp_store_host_get(sched->store, vm->host_id, NULL);
  if (host == NULL)
    return NULL;
  host_uri = pp_scheduler_host_uri(host);
  if (strcmp(host_uri, uri) != 0)
    return NULL;
  *ret_host = g_steal_pointer(&host);
  return g_steal_pointer(&vm);
}

void
pp_scheduler_domain_event(const char *uri, const char *domain, PpDomainEventKind kind,
                          const char *what, gpointer scheduler)
{
  PpScheduler *sched = scheduler;
  g_autoptr(PpVm) vm = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *reason = NULL;
  PpVmState to;
  Op *op;

  g_return_if_fail(sched != NULL && uri != NULL);

  if (kind == PP_DOMAIN_EVENT_LOST) {
    g_autoptr(GPtrArray) hosts = pp_store_host_list(sched->store, NULL);

    /* Its hosts are reconciled now: unknown until libvirt answers. */
    for (guint i = 0; hosts != NULL && i < hosts->len; i++) {
      const PpHost *h = g_ptr_array_index(hosts, i);
      g_autofree char *host_uri = pp_scheduler_host_uri(h);

      if (strcmp(host_uri, uri) == 0) {
        g_message("host '%s': %s; checking it now", h->name, what);
        pp_scheduler_reconcile_host(sched, h->id);
      }
    }
    return;
  }
  vm = vm_of_domain(sched, uri, domain, &host);
  if (vm == NULL)
    return;
  /* A reconcile whose read of the host came before this event would
   * undo what it says (a domain seen running just before its destroy). */
  vm_news(sched, vm->id);
  op = g_hash_table_lookup(sched->in_flight, &vm->id);
  if (op != NULL) {
    /* Our own destroy (poweroff, terminate) ends in its callback; a start
     * whose domain already stopped, when the start returns. */
    if (op->kind == OP_START && !op->stopped) {
      op->stopped = TRUE;
      op->stopped_kind = kind;
      op->stopped_what = g_strdup(what);
    }
    return;
  }
  if (vm->state != PP_VM_STATE_RUNNING && vm->state != PP_VM_STATE_UNKNOWN)
    return;
  reason = stop_outcome(kind, what, &to);
  sched->counts.events++;
  move_vm(sched, vm, vm->state, to, reason);
}

static void
vm_news(PpScheduler *sched, gint64 vm_id)
{
  sched->epoch++;
  g_hash_table_replace(sched->op_ended, id_key(vm_id), GSIZE_TO_POINTER(sched->epoch));
}

static void
reconcile_free(Reconcile *rec)
{
  g_free(rec);
}

/* Makes the VMs on host @host say what its libvirt says (@domains, read
 * at @epoch), and destroys the domains of pcipass that no VM there holds. */
static void
reconcile_vms(PpScheduler *sched, const PpHost *host, GPtrArray *domains, guint64 epoch)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) vms = pp_store_vm_list_on_host(sched->store, host->id, &error);
  g_autoptr(GHashTable) by_name = g_hash_table_new(g_str_hash, g_str_equal);
  g_autofree char *uri = pp_scheduler_host_uri(host);

  if (vms == NULL) {
    g_warning("host '%s': reconcile: %s", host->name, error->message);
    return;
  }
  /* Another store's domains (another pcipass on this libvirt) are not
   * ours to judge or destroy. */
  for (guint i = 0; i < domains->len; i++) {
    PpDomainInfo *d = g_ptr_array_index(domains, i);

    if (d->owner == NULL || strcmp(d->owner, pp_store_get_id(sched->store)) == 0)
      g_hash_table_insert(by_name, d->name, d);
  }
  for (guint i = 0; i < vms->len; i++) {
    const PpVm *vm = g_ptr_array_index(vms, i);
    g_autofree char *name = pp_scheduler_domain_name(vm->id);
    PpDomainInfo *d = g_hash_table_lookup(by_name, name);
    gboolean active = d != NULL && d->run == PP_DOMAIN_ACTIVE;
    gsize ended = GPOINTER_TO_SIZE(g_hash_table_lookup(sched->op_ended, &vm->id));

    /* A domain of this VM is the VM's, whatever we do with it below. */
    g_hash_table_remove(by_name, name);
    /* A call running, or one that ended after the read: not judged. */
    if (g_hash_table_contains(sched->in_flight, &vm->id) || ended > epoch)
      continue;
    switch (vm->state) {
    case PP_VM_STATE_RUNNING:
    case PP_VM_STATE_UNKNOWN:
      if (active)
        g_hash_table_remove(sched->missing, &vm->id);
      if (active && vm->state == PP_VM_STATE_UNKNOWN) {
        move_vm(sched, vm, vm->state, PP_VM_STATE_RUNNING,
                "its host's libvirt answers again, and its domain runs");
      } else if (!active) {
        g_autofree char *reason = NULL;
        PpVmState to = PP_VM_STATE_POWEROFF;

        /* A domain just gone is decided by its event (the reason) or by
         * the next reconcile; where events were missed (the first
         * reconcile since start, a VM unknown while its host did not
         * answer): now. */
        if (d == NULL && vm->state == PP_VM_STATE_RUNNING &&
            g_hash_table_contains(sched->seen_hosts, &host->id) &&
            !g_hash_table_contains(sched->missing, &vm->id)) {
          g_hash_table_add(sched->missing, id_key(vm->id));
          continue;
        }
        g_hash_table_remove(sched->missing, &vm->id);
        if (d == NULL)
          reason = g_strdup_printf("its domain is gone from host '%s' (found by the reconcile); "
                                   "it keeps its devices",
                                   host->name);
        else
          reason = stop_outcome(d->run == PP_DOMAIN_CRASHED ? PP_DOMAIN_EVENT_CRASHED
                                                            : PP_DOMAIN_EVENT_STOPPED,
                                d->what, &to);
        move_vm(sched, vm, vm->state, to, reason);
      } else {
        continue;
      }
      sched->counts.reconciled++;
      break;
    case PP_VM_STATE_POWEROFF:
    case PP_VM_STATE_FAILED:
      if (active) {
        move_vm(sched, vm, vm->state, PP_VM_STATE_RUNNING,
                "its domain runs (found by the reconcile)");
        sched->counts.reconciled++;
      }
      break;
    case PP_VM_STATE_DEPLOYING:
    case PP_VM_STATE_TERMINATING:
      /* Cut short (a restart): the pass calls libvirt again. */
      vm_recheck(sched, vm->id);
      break;
    default:
      break;
    }
  }
  /* What is left runs without a VM of pcipass on this host: a VM
   * terminated while its host did not answer, or released after its
   * destroy kept failing. It would hold devices pcipass gives to others. */
  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, by_name);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
      PpDomainInfo *d = value;
      gint64 id = domain_vm_id(d->name);
      gsize ended = GPOINTER_TO_SIZE(g_hash_table_lookup(sched->op_ended, &id));

      /* Only a domain this store started (its metadata says so) is
       * destroyed: one without metadata may be a pcipassd's of before. */
      if (d->run != PP_DOMAIN_ACTIVE || id == 0 || d->owner == NULL ||
          g_hash_table_contains(sched->in_flight, &id) || ended > epoch)
        continue;
      /* Another host of the same libvirt (a URI given to two hosts, as
       * the test driver's in tests and the demo) may hold it. */
      {
        g_autoptr(PpHost) owner = NULL;
        g_autoptr(PpVm) vm = vm_of_domain(sched, uri, d->name, &owner);

        if (vm != NULL)
          continue;
      }
      g_warning("host '%s': domain %s runs, but no VM of pcipass is there; destroying it",
                host->name, d->name);
      sched->counts.reconciled++;
      /* In flight under that VM id: a VM of that id (a new store beside
       * old domains) is not started until the domain is gone. */
      {
        Op *op = g_new0(Op, 1);

        op->sched = sched;
        op->vm_id = id;
        op->kind = OP_ORPHAN;
        op->host_id = host->id;
        op->host_name = g_strdup(host->name);
        g_hash_table_insert(sched->in_flight, id_key(id), op);
        pp_deployer_destroy_async(sched->deployer, uri, d->name, host->context_pool, on_op_done,
                                  op);
      }
    }
  }
}

static void
on_listed(GObject *source, GAsyncResult *result, gpointer data)
{
  Reconcile *rec = data;
  PpScheduler *sched = rec->sched;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) domains = pp_deployer_list_finish(result, &error);
  g_autoptr(PpHost) host = NULL;
  g_autoptr(GError) store_error = NULL;

  if (sched == NULL) {
    reconcile_free(rec);
    return;
  }
  g_hash_table_remove(sched->reconciling, &rec->host_id);
  sched->counts.reconciles++;
  host = pp_store_host_get(sched->store, rec->host_id, &store_error);
  if (host == NULL) {
    g_debug("host %" G_GINT64_FORMAT ": %s, ignoring", rec->host_id, store_error->message);
    reconcile_free(rec);
    return;
  }
  if (!pp_store_host_set_libvirt_error(sched->store, host->id,
                                       domains == NULL ? error->message : NULL, &store_error))
    g_warning("host '%s': %s", host->name, store_error->message);
  else if (domains == NULL && host->libvirt_error == NULL && host->state != PP_HOST_STATE_DISABLED)
    g_warning("host '%s': %s -> error: %s", host->name, pp_host_state_to_string(host->state),
              error->message);
  else if (domains != NULL && host->libvirt_error != NULL)
    g_message("host '%s': its libvirt answers again", host->name);

  if (domains == NULL) {
    /* What runs there is not known until it answers. */
    g_autoptr(GPtrArray) vms = pp_store_vm_list_on_host(sched->store, host->id, NULL);
    g_autofree char *reason =
        g_strdup_printf("host '%s' does not answer: %s", host->name, error->message);

    for (guint i = 0; vms != NULL && i < vms->len; i++) {
      const PpVm *vm = g_ptr_array_index(vms, i);

      if (vm->state == PP_VM_STATE_RUNNING && !g_hash_table_contains(sched->in_flight, &vm->id))
        move_vm(sched, vm, PP_VM_STATE_RUNNING, PP_VM_STATE_UNKNOWN, reason);
    }
  } else {
    reconcile_vms(sched, host, domains, rec->epoch);
    g_hash_table_add(sched->seen_hosts, id_key(host->id));
    /* A host that answers again may take pending VMs. */
    if (host->libvirt_error != NULL)
      pp_scheduler_poke(sched);
  }
  reconcile_free(rec);
}

void
pp_scheduler_reconcile_host(PpScheduler *scheduler, gint64 host_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *uri = NULL;
  Reconcile *rec;

  g_return_if_fail(scheduler != NULL);

  if (g_hash_table_contains(scheduler->reconciling, &host_id))
    return;
  host = pp_store_host_get(scheduler->store, host_id, &error);
  if (host == NULL) {
    g_debug("host %" G_GINT64_FORMAT ": %s, not reconciled", host_id, error->message);
    return;
  }
  uri = pp_scheduler_host_uri(host);
  rec = g_new0(Reconcile, 1);
  rec->sched = scheduler;
  rec->host_id = host_id;
  rec->epoch = scheduler->epoch;
  g_hash_table_insert(scheduler->reconciling, id_key(host_id), rec);
  pp_deployer_list_async(scheduler->deployer, uri, DOMAIN_PREFIX, on_listed, rec);
}

gboolean
pp_scheduler_place_dry(PpScheduler *scheduler, const PpVmSpec *spec, PpPlacement **ret_placement,
                       GPtrArray **ret_rejections, gboolean *ret_fits, GError **error)
{
  PpPlaceVm pv;

  if (!catch_up(scheduler)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "the scheduler cannot read the store now (pcipassd's log says why)");
    return FALSE;
  }
  pp_vm_spec_to_place_vm(spec, 0, &pv);
  *ret_fits = pp_placer_place(scheduler->placer, &pv, ret_placement, ret_rejections);
  /* The name is the placer's, which changes. */
  if (*ret_fits)
    (*ret_placement)->host_name = NULL;
  return TRUE;
}

GPtrArray *
pp_scheduler_list_types(PpScheduler *scheduler, GError **error)
{
  g_return_val_if_fail(scheduler != NULL, NULL);
  if (!catch_up(scheduler)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "the scheduler cannot read the store now (pcipassd's log says why)");
    return NULL;
  }
  return pp_placer_list_types(scheduler->placer);
}

/* Why VM @vm_id, waiting for an address, is pending: one reason, of no
 * host (host_id 0, host ""). */
static GPtrArray *
no_address_explanation(PpScheduler *sched, gint64 vm_id, guint *ret_n_hosts)
{
  GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_reason_group_free);
  PpPlaceReasonGroup *group = g_new0(PpPlaceReasonGroup, 1);
  PpPlaceRejection *rejection = g_new0(PpPlaceRejection, 1);
  const char *reason = g_hash_table_lookup(sched->no_address, &vm_id);

  rejection->host_name = g_strdup("");
  rejection->reason = g_strdup(reason);
  group->summary = g_strdup(reason);
  group->examples = g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_rejection_free);
  g_ptr_array_add(group->examples, rejection);
  g_ptr_array_add(groups, group);
  if (ret_n_hosts != NULL)
    *ret_n_hosts = 0;
  return groups;
}

/* The group of pending VM @vm_id once it has been tried, or NULL. */
static Group *
tried_group(PpScheduler *sched, gint64 vm_id)
{
  Pending *pending = g_hash_table_lookup(sched->pending, &vm_id);

  if (pending == NULL || pending->group->failed_at == 0 || sched->placer == NULL)
    return NULL;
  return pending->group;
}

GPtrArray *
pp_scheduler_explain(PpScheduler *scheduler, gint64 vm_id, guint *ret_n_hosts)
{
  Group *group;

  g_return_val_if_fail(scheduler != NULL, NULL);

  if (g_hash_table_contains(scheduler->no_address, &vm_id))
    return no_address_explanation(scheduler, vm_id, ret_n_hosts);
  group = tried_group(scheduler, vm_id);
  if (group == NULL)
    return NULL;
  group_explain(scheduler, group);
  /* No reason: a host fits now (the placer gained since the group last
   * failed); the next pass places it. */
  if (group->explanation->len == 0)
    pp_scheduler_poke(scheduler);
  if (ret_n_hosts != NULL)
    *ret_n_hosts = group->explained_hosts;
  return g_ptr_array_ref(group->explanation);
}

char *
pp_scheduler_explain_summary(PpScheduler *scheduler, gint64 vm_id)
{
  Group *group;

  g_return_val_if_fail(scheduler != NULL, NULL);

  if (g_hash_table_contains(scheduler->no_address, &vm_id))
    return g_strdup(g_hash_table_lookup(scheduler->no_address, &vm_id));
  group = tried_group(scheduler, vm_id);
  if (group == NULL)
    return NULL;
  /* A list row: the explanation made last, however old (a page of 100
   * pending VMs must not look at every host 100 times). */
  if (group->explanation == NULL)
    group_explain(scheduler, group);
  return explanation_summary(group->explanation, group->explained_hosts, 1);
}

GPtrArray *
pp_scheduler_explain_hosts(PpScheduler *scheduler, gint64 vm_id)
{
  g_autoptr(GPtrArray) rejections = NULL;
  Group *group;
  PpPlaceVm pv;

  g_return_val_if_fail(scheduler != NULL, NULL);

  group = tried_group(scheduler, vm_id);
  if (group == NULL)
    return NULL;
  /* A dry run (id 0): nothing is recorded. */
  pv = group->pv;
  pv.id = 0;
  if (pp_placer_place(scheduler->placer, &pv, NULL, &rejections))
    return g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_rejection_free);
  return g_steal_pointer(&rejections);
}

void
pp_scheduler_get_counts(PpScheduler *scheduler, PpSchedulerCounts *ret)
{
  *ret = scheduler->counts;
  ret->in_flight = g_hash_table_size(scheduler->in_flight);
}

PpScheduler *
pp_scheduler_new(PpStore *store, PpDeployer *deployer, const PpSchedulerConfig *config)
{
  PpScheduler *sched = g_new0(PpScheduler, 1);

  sched->store = store;
  sched->deployer = deployer;
  sched->config = *config;
  sched->config.deploy_tries = MAX(config->deploy_tries, 1);
  sched->in_flight = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->reconciling = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->op_ended = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->failed_hosts =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_array_unref);
  sched->destroy_failures = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->missing = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->seen_hosts = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  sched->dirty_hosts = pp_id_set_new();
  sched->dirty_devices = pp_id_set_new();
  sched->dirty_vms = pp_id_set_new();
  sched->vm_host = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  sched->pending =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)pending_free);
  sched->groups = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)group_free);
  sched->no_address = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  sched->check_busy = TRUE;
  sched->gains = g_array_new(FALSE, FALSE, sizeof(Gain));
  pp_store_add_watch(store, on_store_change, sched);
  sched->timer_id = g_timeout_add_seconds(MAX(config->interval_s, 1), on_timer, sched);
  /* The first pass picks up what the last run left. */
  pp_scheduler_poke(sched);
  return sched;
}

void
pp_scheduler_free(PpScheduler *scheduler)
{
  GHashTableIter iter;
  gpointer value;

  if (scheduler == NULL)
    return;
  g_clear_handle_id(&scheduler->timer_id, g_source_remove);
  g_clear_handle_id(&scheduler->idle_id, g_source_remove);
  /* Calls in flight finish in their threads; their callbacks only free. */
  g_hash_table_iter_init(&iter, scheduler->in_flight);
  while (g_hash_table_iter_next(&iter, NULL, &value))
    ((Op *)value)->sched = NULL;
  g_hash_table_iter_init(&iter, scheduler->reconciling);
  while (g_hash_table_iter_next(&iter, NULL, &value))
    ((Reconcile *)value)->sched = NULL;
  g_hash_table_unref(scheduler->in_flight);
  g_hash_table_unref(scheduler->reconciling);
  g_hash_table_unref(scheduler->op_ended);
  g_hash_table_unref(scheduler->failed_hosts);
  g_hash_table_unref(scheduler->destroy_failures);
  g_hash_table_unref(scheduler->missing);
  g_hash_table_unref(scheduler->seen_hosts);
  pp_store_remove_watch(scheduler->store, on_store_change, scheduler);
  g_hash_table_unref(scheduler->dirty_hosts);
  g_hash_table_unref(scheduler->dirty_devices);
  g_hash_table_unref(scheduler->dirty_vms);
  g_hash_table_unref(scheduler->vm_host);
  /* The groups' queues point at the pending VMs: the groups go first. */
  g_hash_table_unref(scheduler->groups);
  g_hash_table_unref(scheduler->pending);
  g_hash_table_unref(scheduler->no_address);
  pp_placer_free(scheduler->placer);
  g_array_unref(scheduler->gains);
  g_free(scheduler);
}
