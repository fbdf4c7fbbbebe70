/* pp-deployer: libvirt calls, off the main loop. Each call runs in a
 * GTask worker thread (a slow or unreachable host delays no other), opens
 * or reuses one connection per URI, and reports back on the main context.
 * Its threads never touch the store: a deploy reads what it needs from the
 * store on the main loop before its thread starts, and records the XML it
 * gave libvirt there after (pp_deployer_deploy_finish()).
 *
 * The deployer owns the domain: it builds the domain XML (pp-domain-xml)
 * from the VM's typed spec (pp_store_vm_get_spec()), its devices and the
 * host's libvirt capabilities, read once per connection: the domain's type
 * and arch are what the host offers (pp-domain-caps: kvm, else qemu, else
 * the test driver's test), never guessed from the URI nor edited into
 * finished XML.
 *
 * Each connection also listens: libvirt's domain lifecycle events and the
 * connection's end reach the event function given to pp_deployer_new(),
 * on the main loop (pp-libvirt-events runs libvirt's event loop there). */
#pragma once

#include <gio/gio.h>

#include "pp-images.h"
#include "pp-store.h"

G_BEGIN_DECLS

#define PP_DEPLOYER_ERROR (pp_deployer_error_quark())
GQuark pp_deployer_error_quark(void);

typedef enum {
  PP_DEPLOYER_ERROR_CONNECT,     /* the URI cannot be opened, or the connection broke */
  PP_DEPLOYER_ERROR_LIBVIRT,     /* libvirt refused the call: its message */
  PP_DEPLOYER_ERROR_CONFIG,      /* libvirt refused the domain's XML itself: the VM's own fault */
  PP_DEPLOYER_ERROR_SPEC,        /* the domain cannot be made: the VM's stored spec or an image
                                  * of its template (gone, changed: the message says which); the
                                  * VM's own fault */
  PP_DEPLOYER_ERROR_UNSUPPORTED, /* the host's libvirt runs no domain pcipass makes (neither
                                  * kvm nor qemu for its arch): the host's fault */
} PpDeployerError;

typedef struct _PpDeployer PpDeployer;

/* What happened to a domain, or to a connection. */
typedef enum {
  PP_DOMAIN_EVENT_SHUTDOWN,  /* its guest shut it down */
  PP_DOMAIN_EVENT_DESTROYED, /* destroyed (by pcipass, or from outside) */
  PP_DOMAIN_EVENT_CRASHED,   /* the guest crashed, or QEMU failed */
  PP_DOMAIN_EVENT_STOPPED,   /* stopped otherwise: saved, migrated away, a snapshot */
  PP_DOMAIN_EVENT_LOST,      /* the connection to the host's libvirt ended (domain NULL) */
} PpDomainEventKind;

/**
 * PpDeployerEventFunc:
 * @uri: the connection's URI
 * @domain: (nullable): the domain's name; NULL for PP_DOMAIN_EVENT_LOST
 * @what: libvirt's words for it ("stopped: crashed"), for reasons
 *
 * Runs on the main loop. Events of other kinds (started, paused, ...) are
 * not passed on: the reconcile reads the state itself.
 */
typedef void (*PpDeployerEventFunc)(const char *uri, const char *domain, PpDomainEventKind kind,
                                    const char *what, gpointer user_data);

/**
 * pp_deployer_new:
 * @owner: the store's id, which the domains pcipassd starts carry in their
 *   metadata (pp-domain-xml): a domain of that name that carries another
 *   is not adopted by a start, nor destroyed
 * @events: (nullable): called for every domain event and connection end
 *
 * Registers libvirt's event loop on GLib's default main context (the
 * first time) before any connection opens.
 *
 * Returns: (transfer full): a deployer with no connection yet.
 */
PpDeployer *pp_deployer_new(const char *owner, PpDeployerEventFunc events, gpointer user_data);

/* Closes the connections once the calls in flight end; their callbacks
 * still run (with their own data). */
void pp_deployer_free(PpDeployer *deployer);

/* pcipassd's domain-type, which domains the deployer makes of what each
 * host's libvirt offers: NULL or "auto" (the best: kvm, else qemu, else
 * test), "kvm" (kvm only: a host without it fails the start, saying so)
 * or "qemu" (never kvm: emulated, for hosts whose KVM is missing or not to
 * be trusted). Applies from the next start. */
void pp_deployer_set_domain_type(PpDeployer *deployer, const char *type);

/**
 * pp_deployer_deploy_async:
 * @store: the store, read now on the main loop: the VM's spec and devices
 * @images: (nullable): where the images of its template are found (again
 *   now: one may have changed or gone since its create); NULL: none
 * @vm_id: the VM, allocated on @host (its devices, in its order)
 * @host: the host; a prebound one gets managed='no' hostdevs
 * @uri: the host's libvirt URI
 * @name: the domain's name
 *
 * Starts VM @vm_id's transient domain on @uri, its XML built in the call's
 * thread from the VM, its devices and the host's capabilities (read once
 * per connection). A domain of that name already running counts as
 * started when it is this store's (a restart of pcipassd finishing a
 * deploy); another's is an error. What cannot be read from the store, or
 * resolved, fails the call with SPEC before any libvirt call.
 */
void pp_deployer_deploy_async(PpDeployer *deployer, PpStore *store, const PpImages *images,
                              gint64 vm_id, const PpHost *host, const char *uri, const char *name,
                              GAsyncReadyCallback callback, gpointer user_data);

/**
 * pp_deployer_deploy_finish:
 * @store: (nullable): where to record the XML; NULL: not recorded (the
 *   caller is going away)
 *
 * Records in @store the domain XML the call built, when it built one
 * (pp_store_vm_set_domain_xml(): also when libvirt refused it, for `vm
 * show`), then gives the call's result.
 *
 * Returns: FALSE with the libvirt error ("libvirt: <its message>"), SPEC,
 *   or UNSUPPORTED naming the host's URI and what its libvirt offers.
 */
gboolean pp_deployer_deploy_finish(GAsyncResult *result, PpStore *store, GError **error);

/**
 * pp_deployer_destroy_async:
 *
 * @context_pool: (nullable): the host's pool of context disks: the
 *   domain's context volume there is removed too (terminate); NULL: it
 *   stays (poweroff, which resume starts from)
 *
 * Destroys the domain @name (its devices go back to the host's drivers
 * when libvirt manages them). A domain that does not exist, or that is
 * another store's, counts as destroyed (the other is left alone, and so
 * is its volume).
 */
void pp_deployer_destroy_async(PpDeployer *deployer, const char *uri, const char *name,
                               const char *context_pool, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean pp_deployer_destroy_finish(GAsyncResult *result, GError **error);

/* How a domain is, as the reconcile needs it. */
typedef enum {
  PP_DOMAIN_ACTIVE,  /* running, paused, blocked, ...: QEMU runs and holds its devices */
  PP_DOMAIN_SHUTOFF, /* defined, not running */
  PP_DOMAIN_CRASHED, /* libvirt says crashed */
} PpDomainRun;

typedef struct {
  char *name;
  PpDomainRun run;
  char *what; /* libvirt's state and reason: "shut off: destroyed" */
  /* The store id of its metadata; NULL when it has none (a domain of a
   * pcipassd from before metadata, or not one of pcipass's). */
  char *owner;
} PpDomainInfo;

void pp_domain_info_free(PpDomainInfo *info);

/**
 * pp_deployer_list_async:
 * @prefix: only domains whose name starts with it
 *
 * Every domain of the host whose name starts with @prefix, active or
 * defined, with its state: the reconcile's one read, and the monitor's
 * check that the host's libvirt answers.
 */
void pp_deployer_list_async(PpDeployer *deployer, const char *uri, const char *prefix,
                            GAsyncReadyCallback callback, gpointer user_data);
/* Returns: (transfer full) (element-type PpDomainInfo): by name; NULL with
 * CONNECT or LIBVIRT. */
GPtrArray *pp_deployer_list_finish(GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDomainInfo, pp_domain_info_free)

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDeployer, pp_deployer_free)

G_END_DECLS
