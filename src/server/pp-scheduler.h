/* pp-scheduler: the VMs' life on pcipassd's main loop.
 *
 * A pass, whenever the store changed (pp_store_add_watch()) and on a timer:
 * the placer (pp-placement), built whole once at start, is brought up to
 * date by reading again only the hosts, devices and VMs that changed. Pending
 * VMs are grouped by what they ask for; the first of each group, in id order
 * across groups, is placed and allocated in one transaction, until one fails:
 * the rest of its group then waits without being tried until a host gains
 * something (a device freed or reported, a host enabled, CPU or memory
 * freed) that could take its first VM. Why a group waits is made on
 * demand, grouped by reason, bounded by the requests
 * (pp_scheduler_explain()), and logged once. Deploying VMs are started
 * through the deployer, terminating ones destroyed. A restart picks up
 * where the last run stopped: the states are in the store.
 *
 * The state follows libvirt: domain lifecycle events (a guest that shuts
 * itself down, a domain destroyed outside pcipass: poweroff, devices kept;
 * a crash: failed, devices kept until terminate), and a reconcile of each
 * host's domains (pp_scheduler_reconcile_host(), at every monitor pass and
 * at start) for events that were missed. A host whose libvirt does not
 * answer is in state error, and its running VMs unknown, until it answers.
 *
 * Failures recover: a deploy that fails for a reason of the host (its
 * libvirt does not answer) or of a device (libvirt's message names it: the
 * device is set aside on that host) goes back to pending and is placed
 * elsewhere if another host fits, up to deploy_tries tries; a domain XML
 * that libvirt refuses fails the VM at once. */
#pragma once

#include <glib.h>

#include "pp-deployer.h"
#include "pp-images.h"
#include "pp-placement.h"
#include "pp-store.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

#define PP_SCHEDULER_ERROR (pp_scheduler_error_quark())
GQuark pp_scheduler_error_quark(void);

typedef enum {
  PP_SCHEDULER_ERROR_STATE, /* the action does not apply to the VM's state (409) */
} PpSchedulerError;

typedef struct {
  guint interval_s;       /* between two passes when nothing pokes it */
  PpPlacePolicy policy;   /* pack or stripe */
  guint deploy_tries;     /* deploys of a VM that may fail before it is failed (>= 1) */
  const PpImages *images; /* nullable: no image folders; must outlive the scheduler */
} PpSchedulerConfig;

typedef struct _PpScheduler PpScheduler;

/* Returns: (transfer full). @store and @deployer must outlive it. */
PpScheduler *pp_scheduler_new(PpStore *store, PpDeployer *deployer,
                              const PpSchedulerConfig *config);
void pp_scheduler_free(PpScheduler *scheduler);

/* Runs a pass soon (on the main loop's next idle). */
void pp_scheduler_poke(PpScheduler *scheduler);

/* Addresses of a network may have come free (a release, an update, a
 * delete): the VMs that wait for one are looked at again. */
void pp_scheduler_networks_changed(PpScheduler *scheduler);

/* The actions of pcipass vm terminate, poweroff, resume and retry. They
 * change the store at once or fail with STATE (409).
 * terminate: from every state; what the VM holds is always released,
 *   once its domain is destroyed, or at once when its host's libvirt does
 *   not answer (the reconcile destroys the domain when it answers again).
 *   A done VM stays done.
 * poweroff: a running VM's domain is destroyed; it keeps its devices.
 * resume: a powered-off VM, or a failed one that kept its devices (a
 *   crash), starts again on the same host with the same devices; refused
 *   while one of them is gone (naming it).
 * retry: a failed or powered-off VM releases what it kept and is pending
 *   again, to be placed anew, its tries counted from 0; refused when its
 *   owner's quotas, checked with it as at its create, no longer allow it. */
gboolean pp_scheduler_terminate(PpScheduler *scheduler, gint64 vm_id, GError **error);
gboolean pp_scheduler_poweroff(PpScheduler *scheduler, gint64 vm_id, GError **error);
gboolean pp_scheduler_resume(PpScheduler *scheduler, gint64 vm_id, GError **error);
gboolean pp_scheduler_retry(PpScheduler *scheduler, gint64 vm_id, const char *by, GError **error);
/* What terminate and retry do in the store alone, for a pcipassd that
 * stands by (no scheduler): the leader's scheduler hears the change and
 * makes the libvirt calls. */
gboolean pp_scheduler_terminate_stored(PpStore *store, gint64 vm_id, GError **error);
gboolean pp_scheduler_retry_stored(PpStore *store, gint64 vm_id, const char *by, GError **error);

/* A PpDeployerEventFunc: what libvirt said about a domain or a
 * connection, applied to the VM whose domain it is. */
void pp_scheduler_domain_event(const char *uri, const char *domain, PpDomainEventKind kind,
                               const char *what, gpointer scheduler);

/* Reads host @host_id's domains (in the background) and makes the store
 * say what libvirt says: the host's libvirt error, its VMs' states, and
 * domains of pcipass that no VM should have destroyed. Does nothing while
 * a reconcile of that host is running. */
void pp_scheduler_reconcile_host(PpScheduler *scheduler, gint64 host_id);

/**
 * pp_scheduler_place_dry:
 *
 * Where @spec would go now, without creating anything.
 * Returns: the placer's result as pp_placer_place gives it (transfer
 *   full), but for the placement's host_name, which is NULL (the placer is
 *   gone: the host id says which); FALSE with @error only when the store
 *   fails (then neither out parameter is set).
 */
gboolean pp_scheduler_place_dry(PpScheduler *scheduler, const PpVmSpec *spec,
                                PpPlacement **ret_placement, GPtrArray **ret_rejections,
                                gboolean *ret_fits, GError **error);

/* The device types across the hosts, with how many are free now
 * (pp_placer_list_types()), the placer caught up first. Returns: (transfer
 * container) (element-type PpPlaceType): valid until the scheduler next
 * runs; NULL with @error when the store fails. */
GPtrArray *pp_scheduler_list_types(PpScheduler *scheduler, GError **error);

/**
 * pp_scheduler_explain:
 * @ret_n_hosts: (out) (optional): the hosts looked at
 *
 * Why pending VM @vm_id fits on no host, as pp_placer_explain() groups it,
 * made again only when the placer changed since. Shared by the VMs that ask
 * for the same; do not change it.
 *
 * Returns: (transfer full) (element-type PpPlaceReasonGroup) (nullable):
 *   NULL when the VM is not pending or has not been tried yet.
 */
GPtrArray *pp_scheduler_explain(PpScheduler *scheduler, gint64 vm_id, guint *ret_n_hosts);

/* The explanation's first reason, on one line ("9996 hosts: no free device
 * matches PCI[0] (CLASS=0302) (h1, ...)"), for lists. Returns: (transfer
 * full) (nullable): as pp_scheduler_explain(). */
char *pp_scheduler_explain_summary(PpScheduler *scheduler, gint64 vm_id);

/* The host-by-host account of pending VM @vm_id (pcipass vm show
 * --all-hosts): every host's reason, in the hosts' order; empty when it
 * fits now (the next pass places it). Returns: (transfer full)
 * (element-type PpPlaceRejection) (nullable): as pp_scheduler_explain(). */
GPtrArray *pp_scheduler_explain_hosts(PpScheduler *scheduler, gint64 vm_id);

/* The libvirt URI of @host: its own, or qemu+ssh://[USER@]HOST[:PORT]/system
 * for an ssh host, or qemu:///system. Returns: (transfer full). */
char *pp_scheduler_host_uri(const PpHost *host);

/* The domain name of VM @id: "pcipass-ID". Returns: (transfer full). */
char *pp_scheduler_domain_name(gint64 vm_id);

typedef struct {
  guint64 passes;
  guint64 pass_yields; /* passes that stopped at their time budget, to answer the API */
  guint64 placed;
  guint64 deployed;
  guint64 deploy_failures;
  guint64 events;         /* domain events applied to a VM */
  guint64 reconciles;     /* host reconciles done */
  guint64 reconciled;     /* VMs whose state a reconcile changed */
  guint64 tries;          /* placements tried: one per group of pending VMs that may fit */
  guint64 host_refreshes; /* hosts read again into the placer after a change */
  guint in_flight;
} PpSchedulerCounts;

void pp_scheduler_get_counts(PpScheduler *scheduler, PpSchedulerCounts *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpScheduler, pp_scheduler_free)

G_END_DECLS
