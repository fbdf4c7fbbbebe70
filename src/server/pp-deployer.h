/* pp-deployer: libvirt calls, off the main loop. Each call runs in a
 * GTask worker thread (a slow or unreachable host delays no other), opens
 * or reuses one connection per URI, and reports back on the main context.
 * It never touches the store.
 *
 * Each connection also listens: libvirt's domain lifecycle events and the
 * connection's end reach the event function given to pp_deployer_new(),
 * on the main loop (pp-libvirt-events runs libvirt's event loop there). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PP_DEPLOYER_ERROR (pp_deployer_error_quark())
GQuark pp_deployer_error_quark(void);

typedef enum {
  PP_DEPLOYER_ERROR_CONNECT, /* the URI cannot be opened, or the connection broke */
  PP_DEPLOYER_ERROR_LIBVIRT, /* libvirt refused the call: its message */
  PP_DEPLOYER_ERROR_CONFIG,  /* libvirt refused the domain's XML itself: the VM's own fault */
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

/**
 * pp_deployer_start_async:
 * @uri: the host's libvirt URI
 * @name: the domain's name
 * @xml: the domain XML
 *
 * Starts a transient domain from @xml. A domain of that name already
 * running counts as started when it is this store's (a restart of
 * pcipassd finishing a deploy); another's is an error.
 * A domain of type kvm on a host whose libvirt offers no KVM (no /dev/kvm:
 * a nested or emulated host) is started as type qemu.
 */
void pp_deployer_start_async(PpDeployer *deployer, const char *uri, const char *name,
                             const char *xml, GAsyncReadyCallback callback, gpointer user_data);
/* Returns: FALSE with the libvirt error ("libvirt: <its message>"). */
gboolean pp_deployer_start_finish(GAsyncResult *result, GError **error);

/**
 * pp_deployer_destroy_async:
 *
 * Destroys the domain @name (its devices go back to the host's drivers
 * when libvirt manages them). A domain that does not exist, or that is
 * another store's, counts as destroyed (the other is left alone).
 */
void pp_deployer_destroy_async(PpDeployer *deployer, const char *uri, const char *name,
                               GAsyncReadyCallback callback, gpointer user_data);
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
