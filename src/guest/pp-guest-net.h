/* pp-guest-net: a NIC of the plan applied through netlink (libnl-route-3):
 * found by MAC or by PCI address, its MAC, MTU, link up, a VLAN
 * sub-interface, addresses and default routes.
 *
 * Each step looks first and changes only what differs, so running it
 * again changes nothing: an address already there is kept, a default
 * route replaced only when its gateway or interface differ. What can be
 * refused is checked before the first change (a VLAN name taken, one too
 * long), so a refused NIC is left as it was.
 */
#pragma once

#include <glib.h>

#include "pp-guest-context.h"

G_BEGIN_DECLS

#define PP_GUEST_NET_ERROR (pp_guest_net_error_quark())
GQuark pp_guest_net_error_quark(void);

typedef enum {
  PP_GUEST_NET_ERROR_NOT_FOUND, /* no interface for the NIC */
  PP_GUEST_NET_ERROR_CONFLICT,  /* a link in the way */
  PP_GUEST_NET_ERROR_FAILED,    /* the kernel refused */
} PpGuestNetError;

typedef struct PpGuestNet PpGuestNet;

typedef enum {
  PP_GUEST_NET_APPLY = 0,
  PP_GUEST_NET_DRY_RUN = 1 << 0, /* read the state, say what would change, change nothing */
} PpGuestNetFlags;

/**
 * pp_guest_net_open:
 * @sysfs: the sysfs root where class/net/IF/device names the PCI address
 *
 * Returns: (transfer full): a netlink connection, or NULL with FAILED.
 */
PpGuestNet *pp_guest_net_open(const char *sysfs, PpGuestNetFlags flags, GError **error);
void pp_guest_net_free(PpGuestNet *net);

/* What was done to one NIC. */
typedef struct {
  char *ifname;     /* nullable: not found */
  GPtrArray *done;  /* char *: "mtu 9000", "address 10.0.0.5/24 on eth0.42" */
  GPtrArray *notes; /* char *: what was left, and why */
} PpGuestNetResult;

void pp_guest_net_result_clear(PpGuestNetResult *result);

/**
 * pp_guest_net_apply:
 *
 * Configures @nic (which must have no error). Fills @result, also on
 * failure with what was done before it.
 *
 * Returns: FALSE with an error naming the NIC, its interface and the
 *   variable ("PCI0 (0000:01:00.0, eth1): PCI0_IP6 '2001:db8::5/128':
 *   ...").
 */
gboolean pp_guest_net_apply(PpGuestNet *net, const PpGuestNic *nic, PpGuestNetResult *result,
                            GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpGuestNet, pp_guest_net_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpGuestNetResult, pp_guest_net_result_clear)

G_END_DECLS
