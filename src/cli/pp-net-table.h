/* pp-net-table: the text that `pcipass net` prints, from the network
 * objects of pcipassd's API (GET /v1/networks, GET /v1/networks/ID|NAME).
 * Pure: no I/O, the time of day is a parameter.
 *
 * Cells are made safe for a terminal as in pp-host-table.h (controls shown
 * as '?'); fields that are missing or of the wrong type show as "-", and a
 * list the answer lacks (its "ars", its "leases") is said, not drawn
 * empty, so that an answer of another pcipassd shows what it lacks rather
 * than nothing.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-host-table.h"

G_BEGIN_DECLS

/**
 * pp_net_table_list:
 * @networks: an array of network ROW objects
 *
 * Columns ID (right-aligned), NAME, OWNER, SHARED ("yes"/"no"), VN_MAD,
 * VLAN ("-" when none), LEASES ("used/size": addresses leased by VMs of
 * all the addresses of its ranges), HELD (addresses kept out of use by
 * `net hold`, right-aligned).
 *
 * Returns: (transfer full)
 */
char *pp_net_table_list(const json_t *networks);

/* One page of pp_net_table_list() (pp_host_table_render_stream()); @now is
 * unused (PpCliPageTable's signature). @more: more pages follow (the first
 * page then leaves room: ID 6, NAME 20, OWNER 12, SHARED 6, VN_MAD 6, VLAN
 * 4, LEASES 11, HELD 4). Returns: (transfer full) */
char *pp_net_table_list_stream(const json_t *networks, gint64 now, gboolean more,
                               PpTableStream *stream);

/**
 * pp_net_table_ranges:
 * @ars: the "ars" array of a network
 *
 * Columns AR (its id, right-aligned), TYPE, SIZE and USED (right-aligned),
 * FIRST MAC, FIRST IP and LAST IP (IPv4), IPV6 (the range's prefixes,
 * GLOBAL_PREFIX then ULA_PREFIX, blank-separated, or a static range's
 * first address with its "/PREFIX_LENGTH"; "-" for none). "  none" for an
 * empty array; "  - (pcipassd's answer has no \"ars\")" when not an array.
 *
 * Returns: (transfer full)
 */
char *pp_net_table_ranges(const json_t *ars);

/**
 * pp_net_table_leases:
 * @leases: the "leases" array of a network
 *
 * Columns AR (right-aligned), IP, IPV6 (the global, ULA and static
 * addresses it has, blank-separated), MAC, VM (the VM's id, or "held" for
 * an address kept out of use), NIC (the NIC's id in its VM, right-aligned).
 * "  none" for an empty array; "  - (pcipassd's answer has no \"leases\")"
 * when not an array.
 *
 * Returns: (transfer full)
 */
char *pp_net_table_leases(const json_t *leases);

/**
 * pp_net_table_show:
 * @network: a network object
 * @now: the current unix time
 *
 * The facts, one "LABEL          : value" line each (ID, NAME, OWNER,
 * SHARED, VN_MAD, BRIDGE, PHYDEV, VLAN_ID, MTU, NETWORK (address/prefix),
 * GATEWAY, DNS and SEARCH_DOMAIN (blank-separated), GATEWAY6, LEASES ("3
 * used, 1 held, of 256"), CREATED and UPDATED as a time ago); a blank
 * line, "ADDRESS RANGES", a blank line and pp_net_table_ranges(); a blank
 * line, "LEASES", a blank line and pp_net_table_leases().
 *
 * Returns: (transfer full)
 */
char *pp_net_table_show(const json_t *network, gint64 now);

G_END_DECLS
