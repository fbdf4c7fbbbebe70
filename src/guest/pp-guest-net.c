/* pp-guest-net: a NIC of the plan applied through netlink
 * (pp-guest-net.h). */
#define G_LOG_DOMAIN "pp-guest-net"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/vlan.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

#include "pp-guest-net.h"

G_DEFINE_QUARK(pp - guest - net - error - quark, pp_guest_net_error)

/* libnl's objects, for g_autoptr (their headers use struct tags). */
typedef struct nl_addr PpNlAddr;
typedef struct nl_cache PpNlCache;
typedef struct rtnl_addr PpNlRtAddr;
typedef struct rtnl_link PpNlLink;
typedef struct rtnl_route PpNlRoute;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNlAddr, nl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNlCache, nl_cache_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNlRtAddr, rtnl_addr_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNlLink, rtnl_link_put)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNlRoute, rtnl_route_put)

struct PpGuestNet {
  struct nl_sock *sock;
  char *sysfs;
  PpGuestNetFlags flags;
  /* The default routes this run placed: "4/METRIC" or "6/METRIC" -> the
   * NIC's name; a later NIC with the same metric leaves it. */
  GHashTable *defaults;
};

PpGuestNet *
pp_guest_net_open(const char *sysfs, PpGuestNetFlags flags, GError **error)
{
  g_autoptr(PpGuestNet) net = g_new0(PpGuestNet, 1);
  int err;

  net->sysfs = g_strdup(sysfs);
  net->flags = flags;
  net->defaults = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  net->sock = nl_socket_alloc();
  if (net->sock == NULL) {
    g_set_error(error, PP_GUEST_NET_ERROR, PP_GUEST_NET_ERROR_FAILED, "netlink: out of memory");
    return NULL;
  }
  err = nl_connect(net->sock, NETLINK_ROUTE);
  if (err < 0) {
    g_set_error(error, PP_GUEST_NET_ERROR, PP_GUEST_NET_ERROR_FAILED,
                "cannot open a netlink socket: %s", nl_geterror(err));
    return NULL;
  }
  return g_steal_pointer(&net);
}

void
pp_guest_net_free(PpGuestNet *net)
{
  if (net == NULL)
    return;
  if (net->sock != NULL)
    nl_socket_free(net->sock);
  g_free(net->sysfs);
  g_clear_pointer(&net->defaults, g_hash_table_unref);
  g_free(net);
}

void
pp_guest_net_result_clear(PpGuestNetResult *result)
{
  g_clear_pointer(&result->ifname, g_free);
  g_clear_pointer(&result->done, g_ptr_array_unref);
  g_clear_pointer(&result->notes, g_ptr_array_unref);
}

/* One NIC being applied. */
typedef struct {
  PpGuestNet *net;
  const PpGuestNic *nic;
  PpGuestNetResult *result;
  char *who; /* "PCI0 (0000:01:00.0, eth1)": messages start with it */
  gboolean dry_run;
} Apply;

static gboolean G_GNUC_PRINTF(4, 5)
    apply_fail(const Apply *a, GError **error, int code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_GUEST_NET_ERROR, code, "%s: %s", a->who, message);
  return FALSE;
}

/* Records a change: done, or that it would be with --dry-run. */
static void G_GNUC_PRINTF(2, 3) apply_done(const Apply *a, const char *format, ...)
{
  va_list args;

  va_start(args, format);
  g_ptr_array_add(a->result->done, g_strdup_vprintf(format, args));
  va_end(args);
}

static char *
var(const Apply *a, const char *suffix)
{
  return g_strdup_printf("%s_%s", a->nic->name, suffix);
}

static const char *
address_text(const PpGuestAddress *addr, char buf[INET6_ADDRSTRLEN])
{
  return inet_ntop(addr->family, &addr->v6, buf, INET6_ADDRSTRLEN);
}

static PpNlAddr *
nl_address(const PpGuestAddress *addr, guint prefix)
{
  PpNlAddr *a = nl_addr_build(addr->family, (void *)&addr->v6, addr->family == AF_INET ? 4 : 16);

  if (a != NULL)
    nl_addr_set_prefixlen(a, (int)prefix);
  return a;
}

/* The interface whose sysfs device link ends in the NIC's PCI address:
 * class/net/IF/device -> ../../../0000:01:00.0. */
static char *
find_by_pci_address(const char *sysfs, const char *address)
{
  g_autofree char *dir_path = g_build_filename(sysfs, "class", "net", NULL);
  g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name(dir)) != NULL) {
    g_autofree char *link = g_build_filename(dir_path, name, "device", NULL);
    g_autofree char *target = g_file_read_link(link, NULL);
    g_autofree char *base = target ? g_path_get_basename(target) : NULL;

    if (base != NULL && g_ascii_strcasecmp(base, address) == 0)
      return g_strdup(name);
  }
  return NULL;
}

static gboolean
link_has_mac(struct rtnl_link *link, const guint8 mac[6])
{
  struct nl_addr *a = rtnl_link_get_addr(link);

  return a != NULL && nl_addr_get_len(a) == 6 && memcmp(nl_addr_get_binary_addr(a), mac, 6) == 0;
}

/* The NIC's link: by PCI address, else by MAC (not a VLAN, which has its
 * parent's MAC). Returns: (transfer full). */
static PpNlLink *
find_link(const Apply *a, struct nl_cache *links, GError **error)
{
  const PpGuestNic *nic = a->nic;

  if (nic->pci_address != NULL) {
    g_autofree char *ifname = find_by_pci_address(a->net->sysfs, nic->pci_address);
    g_autofree char *name = var(a, "ADDRESS");
    PpNlLink *link;

    if (ifname == NULL) {
      apply_fail(a, error, PP_GUEST_NET_ERROR_NOT_FOUND,
                 "no interface has PCI address %s (%s) in '%s/class/net'", nic->pci_address, name,
                 a->net->sysfs);
      return NULL;
    }
    link = rtnl_link_get_by_name(links, ifname);
    if (link == NULL)
      apply_fail(a, error, PP_GUEST_NET_ERROR_NOT_FOUND,
                 "interface '%s' of PCI address %s (%s) is not in this network namespace", ifname,
                 nic->pci_address, name);
    return link;
  }
  for (struct nl_object *o = nl_cache_get_first(links); o != NULL; o = nl_cache_get_next(o)) {
    struct rtnl_link *link = (struct rtnl_link *)o;

    if (rtnl_link_is_vlan(link) || !link_has_mac(link, nic->mac))
      continue;
    nl_object_get(o);
    return link;
  }
  {
    g_autofree char *name = var(a, "MAC");
    char mac[18];

    g_snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", nic->mac[0], nic->mac[1],
               nic->mac[2], nic->mac[3], nic->mac[4], nic->mac[5]);
    apply_fail(a, error, PP_GUEST_NET_ERROR_NOT_FOUND, "no interface has MAC %s (%s)", mac, name);
  }
  return NULL;
}

/* Changes @link as @change says: what `ip link set` does. */
static gboolean
link_change(const Apply *a, struct rtnl_link *link, struct rtnl_link *change, const char *what,
            GError **error)
{
  int err;

  if (a->dry_run)
    return TRUE;
  err = rtnl_link_change(a->net->sock, link, change, 0);
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s: %s", what, nl_geterror(err));
  return TRUE;
}

static gboolean
set_mac(const Apply *a, struct rtnl_link *link, GError **error)
{
  g_autoptr(PpNlLink) change = NULL;
  g_autoptr(PpNlAddr) mac = NULL;
  g_autofree char *name = var(a, "MAC");
  g_autofree char *what = NULL;
  char text[18];
  int err;

  if (!a->nic->has_mac || link_has_mac(link, a->nic->mac))
    return TRUE;
  g_snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", a->nic->mac[0], a->nic->mac[1],
             a->nic->mac[2], a->nic->mac[3], a->nic->mac[4], a->nic->mac[5]);
  what = g_strdup_printf("setting %s %s", name, text);
  change = rtnl_link_alloc();
  mac = nl_addr_build(AF_LLC, (void *)a->nic->mac, 6);
  rtnl_link_set_addr(change, mac);
  if (a->dry_run) {
    apply_done(a, "mac %s", text);
    return TRUE;
  }
  err = rtnl_link_change(a->net->sock, link, change, 0);
  if (err == -NLE_BUSY && (rtnl_link_get_flags(link) & IFF_UP)) {
    /* A driver that takes a new MAC only while down: down, set, and the
     * next step brings it up. */
    g_autoptr(PpNlLink) down = rtnl_link_alloc();

    rtnl_link_unset_flags(down, IFF_UP);
    if (!link_change(a, link, down, what, error))
      return FALSE;
    rtnl_link_unset_flags(link, IFF_UP);
    err = rtnl_link_change(a->net->sock, link, change, 0);
  }
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s: %s", what, nl_geterror(err));
  apply_done(a, "mac %s", text);
  return TRUE;
}

static gboolean
set_mtu(const Apply *a, struct rtnl_link *link, const char *ifname, GError **error)
{
  g_autoptr(PpNlLink) change = NULL;
  g_autofree char *name = var(a, "MTU");
  g_autofree char *what = NULL;

  if (a->nic->mtu == 0 || rtnl_link_get_mtu(link) == a->nic->mtu)
    return TRUE;
  what = g_strdup_printf("setting %s %u on %s", name, a->nic->mtu, ifname);
  change = rtnl_link_alloc();
  rtnl_link_set_mtu(change, a->nic->mtu);
  if (!link_change(a, link, change, what, error))
    return FALSE;
  apply_done(a, "mtu %u on %s", a->nic->mtu, ifname);
  return TRUE;
}

static gboolean
set_up(const Apply *a, struct rtnl_link *link, const char *ifname, GError **error)
{
  g_autoptr(PpNlLink) change = NULL;
  g_autofree char *what = NULL;

  if (rtnl_link_get_flags(link) & IFF_UP)
    return TRUE;
  what = g_strdup_printf("bringing %s up", ifname);
  change = rtnl_link_alloc();
  rtnl_link_set_flags(change, IFF_UP);
  if (!link_change(a, link, change, what, error))
    return FALSE;
  apply_done(a, "up %s", ifname);
  return TRUE;
}

/* The VLAN sub-interface's name, "eth0.42", checked: not too long, and
 * not another link's. @ret_link: (transfer full) (nullable): the VLAN link
 * when it is there already. */
static gboolean
check_vlan(const Apply *a, struct nl_cache *links, struct rtnl_link *parent, char **ret_name,
           PpNlLink **ret_link, GError **error)
{
  g_autofree char *name = g_strdup_printf("%s.%d", rtnl_link_get_name(parent), a->nic->vlan_id);
  g_autofree char *vlan_var = var(a, "VLAN_ID");
  g_autoptr(PpNlLink) link = NULL;

  if (strlen(name) >= IFNAMSIZ)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_CONFLICT,
                      "%s %d: the sub-interface's name '%s' is longer than %d bytes", vlan_var,
                      a->nic->vlan_id, name, IFNAMSIZ - 1);
  link = rtnl_link_get_by_name(links, name);
  if (link != NULL && !(rtnl_link_is_vlan(link) && rtnl_link_vlan_get_id(link) == a->nic->vlan_id &&
                        rtnl_link_get_link(link) == rtnl_link_get_ifindex(parent)))
    return apply_fail(a, error, PP_GUEST_NET_ERROR_CONFLICT,
                      "%s %d: a link named '%s' is there and is not VLAN %d of %s; remove it",
                      vlan_var, a->nic->vlan_id, name, a->nic->vlan_id, rtnl_link_get_name(parent));
  *ret_name = g_steal_pointer(&name);
  *ret_link = g_steal_pointer(&link);
  return TRUE;
}

static gboolean
add_vlan(const Apply *a, struct nl_cache *links, struct rtnl_link *parent, const char *name,
         PpNlLink **ret_link, GError **error)
{
  g_autoptr(PpNlLink) vlan = rtnl_link_vlan_alloc();
  g_autofree char *vlan_var = var(a, "VLAN_ID");
  int err;

  if (a->dry_run) {
    apply_done(a, "vlan %s", name);
    return TRUE;
  }
  rtnl_link_set_link(vlan, rtnl_link_get_ifindex(parent));
  rtnl_link_set_name(vlan, name);
  rtnl_link_vlan_set_id(vlan, a->nic->vlan_id);
  err = rtnl_link_add(a->net->sock, vlan, NLM_F_CREATE | NLM_F_EXCL);
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s %d: adding '%s': %s%s", vlan_var,
                      a->nic->vlan_id, name, nl_geterror(err),
                      err == -NLE_OPNOTSUPP ? " (has the kernel 8021q?)" : "");
  apply_done(a, "vlan %s", name);
  err = nl_cache_refill(a->net->sock, links);
  if (err >= 0)
    *ret_link = rtnl_link_get_by_name(links, name);
  if (*ret_link == NULL)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s %d: '%s' added, then not found",
                      vlan_var, a->nic->vlan_id, name);
  return TRUE;
}

/* The address @addr/@prefix on interface @ifindex, unless it is there. An
 * address there with another prefix length is replaced. */
static gboolean
add_address(const Apply *a, struct nl_cache *addrs, int ifindex, const char *ifname,
            const char *suffix, const PpGuestAddress *addr, GError **error)
{
  g_autoptr(PpNlRtAddr) nl = NULL;
  g_autoptr(PpNlAddr) local = NULL;
  g_autofree char *name = var(a, suffix);
  char text[INET6_ADDRSTRLEN];
  int err;

  if (addr->family == 0)
    return TRUE;
  address_text(addr, text);
  for (struct nl_object *o = nl_cache_get_first(addrs); o != NULL; o = nl_cache_get_next(o)) {
    struct rtnl_addr *have = (struct rtnl_addr *)o;
    struct nl_addr *have_local = rtnl_addr_get_local(have);

    if (ifindex == 0 || rtnl_addr_get_ifindex(have) != ifindex ||
        rtnl_addr_get_family(have) != addr->family || have_local == NULL ||
        memcmp(nl_addr_get_binary_addr(have_local), &addr->v6, addr->family == AF_INET ? 4 : 16) !=
            0)
      continue;
    if ((guint)rtnl_addr_get_prefixlen(have) == addr->prefix)
      return TRUE;
    if (!a->dry_run && (err = rtnl_addr_delete(a->net->sock, have, 0)) < 0)
      return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s '%s': removing %s/%d from %s: %s",
                        name, text, text, rtnl_addr_get_prefixlen(have), ifname, nl_geterror(err));
    apply_done(a, "address %s/%d removed from %s", text, rtnl_addr_get_prefixlen(have), ifname);
    break;
  }
  if (a->dry_run) {
    apply_done(a, "address %s/%u on %s", text, addr->prefix, ifname);
    return TRUE;
  }
  nl = rtnl_addr_alloc();
  local = nl_address(addr, addr->prefix);
  rtnl_addr_set_ifindex(nl, ifindex);
  rtnl_addr_set_family(nl, addr->family);
  rtnl_addr_set_local(nl, local);
  rtnl_addr_set_prefixlen(nl, (int)addr->prefix);
  err = rtnl_addr_add(a->net->sock, nl, 0);
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s '%s/%u': adding it to %s: %s", name,
                      text, addr->prefix, ifname, nl_geterror(err));
  apply_done(a, "address %s/%u on %s", text, addr->prefix, ifname);
  return TRUE;
}

/* The default route of the family in the main table with metric
 * @metric: (transfer none) (nullable). */
static struct rtnl_route *
find_default(struct nl_cache *routes, int family, guint metric)
{
  for (struct nl_object *o = nl_cache_get_first(routes); o != NULL; o = nl_cache_get_next(o)) {
    struct rtnl_route *r = (struct rtnl_route *)o;
    struct nl_addr *dst = rtnl_route_get_dst(r);

    if (rtnl_route_get_family(r) == family && rtnl_route_get_table(r) == RT_TABLE_MAIN &&
        rtnl_route_get_type(r) == RTN_UNICAST && rtnl_route_get_priority(r) == metric &&
        (dst == NULL || nl_addr_get_prefixlen(dst) == 0))
      return r;
  }
  return NULL;
}

/* The kernel stores IPv6's metric 0 as 1024 (IP6_RT_PRIO_USER). */
static guint
effective_metric(int family, guint metric)
{
  return family == AF_INET6 && metric == 0 ? 1024 : metric;
}

/* Whether this run left the default route of @family and @metric to an
 * earlier NIC; claims it otherwise. */
static gboolean
default_taken(const Apply *a, int family, guint metric, const char **ret_owner)
{
  g_autofree char *key = g_strdup_printf("%d/%u", family == AF_INET ? 4 : 6, metric);
  const char *owner = g_hash_table_lookup(a->net->defaults, key);

  if (owner != NULL && strcmp(owner, a->nic->name) != 0) {
    *ret_owner = owner;
    return TRUE;
  }
  g_hash_table_replace(a->net->defaults, g_steal_pointer(&key), g_strdup(a->nic->name));
  return FALSE;
}

static gboolean
set_default_route(const Apply *a, struct nl_cache *routes, int ifindex, const char *ifname,
                  const PpGuestAddress *gateway, guint metric, GError **error)
{
  static const guint8 zero[16] = { 0 };
  const char *suffix = gateway->family == AF_INET ? "GATEWAY" : "IP6_GATEWAY";
  g_autofree char *name = var(a, suffix);
  g_autoptr(PpNlRoute) route = NULL;
  g_autoptr(PpNlAddr) dst = NULL;
  g_autoptr(PpNlAddr) via = NULL;
  struct rtnl_nexthop *nh;
  struct rtnl_route *have;
  const char *owner = NULL;
  char text[INET6_ADDRSTRLEN];
  guint kernel_metric = effective_metric(gateway->family, metric);
  int err;

  if (gateway->family == 0)
    return TRUE;
  address_text(gateway, text);
  if (default_taken(a, gateway->family, metric, &owner)) {
    g_ptr_array_add(a->result->notes,
                    g_strdup_printf("%s %s left: the default route of metric %u is %s's; "
                                    "%s_%sMETRIC sets another",
                                    name, text, metric, owner, a->nic->name,
                                    gateway->family == AF_INET ? "" : "IP6_"));
    return TRUE;
  }
  have = find_default(routes, gateway->family, kernel_metric);
  if (have != NULL && ifindex != 0 && rtnl_route_get_nnexthops(have) == 1) {
    struct rtnl_nexthop *have_nh = rtnl_route_nexthop_n(have, 0);
    struct nl_addr *have_gw = rtnl_route_nh_get_gateway(have_nh);

    if (rtnl_route_nh_get_ifindex(have_nh) == ifindex && have_gw != NULL &&
        memcmp(nl_addr_get_binary_addr(have_gw), &gateway->v6,
               gateway->family == AF_INET ? 4 : 16) == 0)
      return TRUE;
  }
  if (a->dry_run) {
    apply_done(a, "default via %s dev %s%s", text, ifname, have != NULL ? " (replaced)" : "");
    return TRUE;
  }
  route = rtnl_route_alloc();
  dst = nl_addr_build(gateway->family, (void *)zero, gateway->family == AF_INET ? 4 : 16);
  nl_addr_set_prefixlen(dst, 0);
  via = nl_address(gateway, gateway->family == AF_INET ? 32 : 128);
  rtnl_route_set_family(route, (guint8)gateway->family);
  rtnl_route_set_table(route, RT_TABLE_MAIN);
  rtnl_route_set_scope(route, RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol(route, RTPROT_STATIC);
  rtnl_route_set_type(route, RTN_UNICAST);
  rtnl_route_set_dst(route, dst);
  rtnl_route_set_priority(route, kernel_metric);
  nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_nh_set_gateway(nh, via);
  /* The gateway need not be in the address's prefix (a /128, a /32):
   * it is on this link, as OpenNebula's network says. */
  rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
  rtnl_route_add_nexthop(route, nh);
  err = rtnl_route_add(a->net->sock, route, NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "%s '%s': default route via %s: %s",
                      name, text, ifname, nl_geterror(err));
  apply_done(a, "default via %s dev %s%s", text, ifname, have != NULL ? " (replaced)" : "");
  return TRUE;
}

static gboolean
apply(Apply *a, GError **error)
{
  const PpGuestNic *nic = a->nic;
  g_autoptr(PpNlCache) links = NULL;
  g_autoptr(PpNlCache) addrs = NULL;
  g_autoptr(PpNlCache) routes = NULL;
  g_autoptr(PpNlLink) link = NULL;
  g_autoptr(PpNlLink) vlan = NULL;
  g_autofree char *vlan_name = NULL;
  const char *target_name;
  int target_index;
  int err;

  err = rtnl_link_alloc_cache(a->net->sock, AF_UNSPEC, &links);
  if (err < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "listing the links: %s",
                      nl_geterror(err));
  link = find_link(a, links, error);
  if (link == NULL)
    return FALSE;
  a->result->ifname = g_strdup(rtnl_link_get_name(link));
  g_free(a->who);
  a->who = g_strdup_printf("%s (%s, %s)", nic->name, nic->key, a->result->ifname);
  if (nic->vlan_id >= 0 && !check_vlan(a, links, link, &vlan_name, &vlan, error))
    return FALSE;
  if ((err = rtnl_addr_alloc_cache(a->net->sock, &addrs)) < 0 ||
      (err = rtnl_route_alloc_cache(a->net->sock, AF_UNSPEC, 0, &routes)) < 0)
    return apply_fail(a, error, PP_GUEST_NET_ERROR_FAILED, "listing addresses and routes: %s",
                      nl_geterror(err));

  /* The VLAN first: a kernel without 8021q refuses it before anything
   * else changed. */
  if (nic->vlan_id >= 0 && vlan == NULL && !add_vlan(a, links, link, vlan_name, &vlan, error))
    return FALSE;
  if (!set_mac(a, link, error) || !set_mtu(a, link, a->result->ifname, error) ||
      !set_up(a, link, a->result->ifname, error))
    return FALSE;
  target_name = a->result->ifname;
  target_index = rtnl_link_get_ifindex(link);
  if (nic->vlan_id >= 0) {
    target_name = vlan_name;
    target_index = vlan != NULL ? rtnl_link_get_ifindex(vlan) : 0;
    /* A VLAN takes its parent's MTU when made; later changes are ours. */
    if (vlan != NULL && (!set_mtu(a, vlan, vlan_name, error) || !set_up(a, vlan, vlan_name, error)))
      return FALSE;
    if (vlan == NULL)
      apply_done(a, "up %s", vlan_name);
  }
  return add_address(a, addrs, target_index, target_name, "IP", &nic->ip4, error) &&
         add_address(a, addrs, target_index, target_name, "IP6", &nic->ip6, error) &&
         add_address(a, addrs, target_index, target_name, "IP6_ULA", &nic->ip6_ula, error) &&
         set_default_route(a, routes, target_index, target_name, &nic->gateway4, nic->metric4,
                           error) &&
         set_default_route(a, routes, target_index, target_name, &nic->gateway6, nic->metric6,
                           error);
}

gboolean
pp_guest_net_apply(PpGuestNet *net, const PpGuestNic *nic, PpGuestNetResult *result, GError **error)
{
  Apply a = { net, nic, result, g_strdup(nic->label), (net->flags & PP_GUEST_NET_DRY_RUN) != 0 };
  gboolean ok;

  g_return_val_if_fail(net != NULL && nic != NULL && nic->error == NULL, FALSE);

  result->done = g_ptr_array_new_with_free_func(g_free);
  result->notes = g_ptr_array_new_with_free_func(g_free);
  ok = apply(&a, error);
  g_free(a.who);
  return ok;
}
