/* pp-deployer: libvirt calls, off the main loop. Each call runs in a
 * GTask worker thread (a slow or unreachable host delays no other), opens
 * or reuses one connection per URI, and reports back on the main context.
 * It never touches the store. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PP_DEPLOYER_ERROR (pp_deployer_error_quark())
GQuark pp_deployer_error_quark(void);

typedef enum {
  PP_DEPLOYER_ERROR_CONNECT, /* the URI cannot be opened */
  PP_DEPLOYER_ERROR_LIBVIRT, /* libvirt refused the call: its message */
} PpDeployerError;

typedef struct _PpDeployer PpDeployer;

/* Returns: (transfer full): a deployer with no connection yet. */
PpDeployer *pp_deployer_new(void);

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
 * running counts as started (a restart of pcipassd finishing a deploy).
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
 * when libvirt manages them). A domain that does not exist counts as
 * destroyed.
 */
void pp_deployer_destroy_async(PpDeployer *deployer, const char *uri, const char *name,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean pp_deployer_destroy_finish(GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDeployer, pp_deployer_free)

G_END_DECLS
