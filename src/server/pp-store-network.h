/* pp-store-network: virtual networks, their address ranges and leases in
 * the store (schema version 12; issue 12).
 *
 * A network is its owner's, and shared (any user may attach NICs to it)
 * or private (its owner and an administrator only). Its name is unique
 * per owner. Its ranges are typed rows; each address in use is a lease
 * row: a VM's NIC's, or held (kept out of use by its owner or an
 * administrator). The schema keeps a MAC and an IPv4 address unique per
 * network. MACs the template does not give come from one counter for the
 * whole store, with the daemon's MAC prefix, so that generated MACs never
 * collide across networks.
 *
 * A VM's NICs that name a network are stored at its create (the IP and MAC
 * asked for checked then: inside a range, not leased); their leases are
 * taken in the transaction that places the VM (pp_store_vm_allocate()) and
 * given back with its devices (terminate, a failed deploy, a requeue);
 * poweroff keeps them.
 */
#pragma once

#include <glib.h>

#include "pp-network.h"
#include "pp-store.h"

G_BEGIN_DECLS

typedef struct {
  gint64 id;
  char *name;
  gint64 owner_id;
  char *owner_name;
  gboolean shared;
  char *template_text;
  PpNetworkSpec *spec; /* typed, every range with its MACs; its tmpl NULL */
  guint64 size;        /* the addresses of all its ranges */
  guint64 used;        /* leased to VMs */
  guint64 held;
  gint64 created;
  gint64 updated;
  GArray *ar_used; /* guint64 per AR: its leases, held ones included */
  GArray *ar_next; /* guint32 per AR: where the search for a free address starts */
} PpNetwork;

void pp_network_free(PpNetwork *network);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNetwork, pp_network_free)

/* One address in use. */
typedef struct {
  gint64 network_id;
  guint ar_id;
  guint32 index;
  PpNetworkLease lease; /* its addresses */
  gint64 vm_id;         /* 0: held */
  gint nic_id;          /* -1: held */
} PpStoreLease;

/* The most leases `net show` lists; past them the answer says how many. */
#define PP_STORE_NETWORK_LEASES_MAX 10000

/**
 * pp_store_network_create:
 * @spec: the template parsed (pp_network_template_parse()); its ranges
 *   without a MAC in the template get theirs from the store's counter
 * @prefix: the first two bytes of generated MACs
 *
 * Returns: (transfer full): the network, or %NULL: CONFLICT when its owner
 *   has a network of that name ("user 'alice' has a network named 'x'
 *   (id 3)"), INVALID when the counter of generated MACs would pass its end.
 */
PpNetwork *pp_store_network_create(PpStore *store, gint64 owner_id, const char *template_text,
                                   PpNetworkSpec *spec, gboolean shared, const PpMacPrefix *prefix,
                                   gint64 now, GError **error);

/* Returns: (transfer full): network @id, or %NULL with NOT_FOUND ("no
 * network 7"). */
PpNetwork *pp_store_network_get(PpStore *store, gint64 id, GError **error);

/**
 * pp_store_network_find:
 * @key: an id (decimal) or a name
 * @uname: (nullable): the owner's name (NETWORK_UNAME)
 * @viewer_id: who asks: networks of theirs and shared ones are found; 0
 *   for an administrator (every network)
 *
 * A name without @uname finds the viewer's own network of that name
 * first, then the one shared network of that name (several: INVALID
 * listing their owners). Another's private network is NOT_FOUND in the
 * words of one that does not exist ("no network 'x'").
 */
PpNetwork *pp_store_network_find(PpStore *store, const char *key, const char *uname,
                                 gint64 viewer_id, GError **error);

/* The networks @viewer_id sees (0: all), by id, at most @limit above
 * @after; @ret_next the cursor of the next page, 0 when this is the last.
 * Returns: (transfer full) (element-type PpNetwork). */
GPtrArray *pp_store_network_page(PpStore *store, gint64 viewer_id, gint64 after, guint limit,
                                 gint64 *ret_next, GError **error);

/* The network's leases, by range then index, at most @max. Returns:
 * (transfer full) (element-type PpStoreLease). */
GArray *pp_store_network_list_leases(PpStore *store, gint64 network_id, guint max, GError **error);

/**
 * pp_store_network_update:
 * @shared: 0 or 1; -1: unchanged
 *
 * The network takes the new template. Its ranges are matched by AR id: a
 * range that holds leases must keep its type and first addresses and
 * cover every lease (SIZE may grow), else CONFLICT naming the range and a
 * lease; a range without a MAC keeps the MACs it had when its type is
 * unchanged. Nothing changes on error.
 */
PpNetwork *pp_store_network_update(PpStore *store, gint64 id, const char *template_text,
                                   PpNetworkSpec *spec, int shared, const PpMacPrefix *prefix,
                                   gint64 now, GError **error);

/* Deletes the network and its held addresses: CONFLICT while a VM holds a
 * lease of it or a VM that is not done names it ("network 'x' is used by
 * VMs 4, 7; terminate them first"). */
gboolean pp_store_network_delete(PpStore *store, gint64 id, GError **error);

/**
 * pp_store_network_hold:
 * @address: an IPv4 address or a MAC of one of its ranges
 *
 * Keeps the address out of use. INVALID when no range holds it, CONFLICT
 * when it is leased or held already.
 */
gboolean pp_store_network_hold(PpStore *store, gint64 id, const char *address,
                               PpStoreLease *ret_lease, GError **error);
/* Gives a held address back; CONFLICT when it is not held (or a VM's). */
gboolean pp_store_network_release(PpStore *store, gint64 id, const char *address, GError **error);

/* The leases of VM @vm_id's NICs, by NIC id. Returns: (transfer full)
 * (element-type PpStoreLease). */
GArray *pp_store_vm_list_leases(PpStore *store, gint64 vm_id, GError **error);

/* Whether the networks VM @vm_id's NICs name have a free address for each
 * NIC that has no lease yet (the address it asks for, when it asks for
 * one); FALSE in @ret_ok with the reason ("NIC 0: network 'x' (id 3) has
 * no free address: 8 of 8 in use", "NIC 1: 10.0.0.5 of network 'x' is
 * leased to VM 7") otherwise. Costs a few rows per NIC. */
gboolean pp_store_vm_check_leases(PpStore *store, gint64 vm_id, gboolean *ret_ok, char **ret_reason,
                                  GError **error);

G_END_DECLS
