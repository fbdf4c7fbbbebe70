/* pp-netlink: the host's IPv4 addresses, from the kernel (RTM_GETADDR).
 *
 * /proc/net/route shows only the main routing table: an address whose
 * routes live in another table (policy routing, a VRF) or that has none
 * (noprefixroute) is not there. The kernel's address list has them all.
 * It is the running host's, whatever root the sysfs tree is read from, so
 * callers ask for it only when they look at the host itself.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *ifname;  /* eth0 */
  char *address; /* 192.0.2.2/24 */
} PpIfAddress;

void pp_if_address_free(PpIfAddress *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpIfAddress, pp_if_address_free)

/**
 * pp_netlink_ipv4_addresses:
 *
 * Returns: (transfer full) (element-type PpIfAddress): every IPv4 address
 *   of every interface, loopback included, in the kernel's order; %NULL
 *   with @error set when the kernel cannot be asked.
 */
GPtrArray *pp_netlink_ipv4_addresses(GError **error);

G_END_DECLS
