/* pp-scheduler: the VMs' life on pcipassd's main loop.
 *
 * A pass, on a timer and whenever something changed: pending VMs, in id
 * order, are placed (pp-placement: all hosts and devices read at once from
 * the store) and allocated in one transaction each, or keep an explanation
 * of why no host fits (and one log line when it changes); deploying VMs are
 * started through the deployer, terminating ones destroyed. An error from
 * libvirt fails the VM with its message and releases what it held. A
 * restart picks up where the last run stopped: the states are in the
 * store. */
#pragma once

#include <glib.h>

#include "pp-deployer.h"
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
  guint interval_s;     /* between two passes when nothing pokes it */
  PpPlacePolicy policy; /* pack or stripe */
} PpSchedulerConfig;

typedef struct _PpScheduler PpScheduler;

/* Returns: (transfer full). @store and @deployer must outlive it. */
PpScheduler *pp_scheduler_new(PpStore *store, PpDeployer *deployer,
                              const PpSchedulerConfig *config);
void pp_scheduler_free(PpScheduler *scheduler);

/* Runs a pass soon (on the main loop's next idle). */
void pp_scheduler_poke(PpScheduler *scheduler);

/* The actions of pcipass vm terminate, poweroff and resume. They change
 * the store at once (terminate a pending or failed VM: done; poweroff and
 * resume: a libvirt call follows) or fail with STATE. */
gboolean pp_scheduler_terminate(PpScheduler *scheduler, gint64 vm_id, GError **error);
gboolean pp_scheduler_poweroff(PpScheduler *scheduler, gint64 vm_id, GError **error);
gboolean pp_scheduler_resume(PpScheduler *scheduler, gint64 vm_id, GError **error);

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

/* The libvirt URI of @host: its own, or qemu+ssh://[USER@]HOST[:PORT]/system
 * for an ssh host, or qemu:///system. Returns: (transfer full). */
char *pp_scheduler_host_uri(const PpHost *host);

/* The domain XML of @vm, placed on @host with its devices. Returns:
 * (transfer full): it, or %NULL when the template or a device address no
 * longer reads. */
char *pp_scheduler_domain_xml(PpStore *store, const PpVm *vm, const PpHost *host,
                              GError **error);

/* The domain name of VM @id: "pcipass-ID". Returns: (transfer full). */
char *pp_scheduler_domain_name(gint64 vm_id);

typedef struct {
  guint64 passes;
  guint64 placed;
  guint64 deployed;
  guint64 deploy_failures;
  guint in_flight;
} PpSchedulerCounts;

void pp_scheduler_get_counts(PpScheduler *scheduler, PpSchedulerCounts *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpScheduler, pp_scheduler_free)

G_END_DECLS
