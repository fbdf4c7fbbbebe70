#define G_LOG_DOMAIN "pp-netlink"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "pp-fd.h"
#include "pp-netlink.h"

/* A dump arrives in datagrams of at most a page or so; 32 KiB holds any. */
#define NL_BUFSIZE (32 * 1024)
/* A host with more addresses than this is not one we can reason about. */
#define NL_MAX_ADDRESSES 65536

void
pp_if_address_free(PpIfAddress *a)
{
  if (a == NULL)
    return;
  g_free(a->ifname);
  g_free(a->address);
  g_free(a);
}

static void
add_address(GPtrArray *out, const struct ifaddrmsg *ifa, int len)
{
  const struct rtattr *rta = IFA_RTA(ifa);
  int left = len; /* signed: the kernel's macros count it down past 0 */
  const void *local = NULL, *address = NULL;
  char ifname[IF_NAMESIZE];
  char text[INET_ADDRSTRLEN];
  PpIfAddress *a;

  for (; RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
    if (RTA_PAYLOAD(rta) < 4)
      continue;
    if (rta->rta_type == IFA_LOCAL)
      local = RTA_DATA(rta);
    else if (rta->rta_type == IFA_ADDRESS)
      address = RTA_DATA(rta);
  }
  /* On a point-to-point link IFA_ADDRESS is the peer; IFA_LOCAL is ours. */
  if (local == NULL)
    local = address;
  if (local == NULL || if_indextoname(ifa->ifa_index, ifname) == NULL ||
      inet_ntop(AF_INET, local, text, sizeof(text)) == NULL)
    return;
  a = g_new0(PpIfAddress, 1);
  a->ifname = g_strdup(ifname);
  a->address = g_strdup_printf("%s/%u", text, ifa->ifa_prefixlen);
  g_ptr_array_add(out, a);
}

GPtrArray *
pp_netlink_ipv4_addresses(GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)pp_if_address_free);
  g_autofree char *buf = g_malloc(NL_BUFSIZE);
  pp_autofd int fd = -1;
  struct {
    struct nlmsghdr nh;
    struct ifaddrmsg ifa;
  } req;
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  guint32 seq = (guint32)g_get_monotonic_time();

  fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot open a netlink socket: %s",
                g_strerror(errno));
    return NULL;
  }
  memset(&req, 0, sizeof(req));
  req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
  req.nh.nlmsg_type = RTM_GETADDR;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = seq;
  req.ifa.ifa_family = AF_INET;
  if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                "cannot ask the kernel for its addresses: %s", g_strerror(errno));
    return NULL;
  }
  for (;;) {
    ssize_t n = recv(fd, buf, NL_BUFSIZE, 0);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(n < 0 ? errno : EPIPE),
                  "cannot read the kernel's addresses: %s",
                  n < 0 ? g_strerror(errno) : "the dump ended early");
      return NULL;
    }
    /* NLMSG_OK and NLMSG_NEXT, with the sizes kept unsigned. */
    for (gsize off = 0, len = (gsize)n; off + sizeof(struct nlmsghdr) <= len;) {
      struct nlmsghdr *nh = (struct nlmsghdr *)(buf + off);

      if (nh->nlmsg_len < sizeof(struct nlmsghdr) || nh->nlmsg_len > len - off)
        break;
      off += NLMSG_ALIGN(nh->nlmsg_len);
      if (nh->nlmsg_seq != seq)
        continue;
      if (nh->nlmsg_type == NLMSG_DONE)
        return g_steal_pointer(&out);
      if (nh->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(nh);
        int code = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) ? -e->error : EPROTO;

        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(code),
                    "the kernel refused to list its addresses: %s", g_strerror(code));
        return NULL;
      }
      if (nh->nlmsg_type != RTM_NEWADDR || nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        continue;
      if (out->len >= NL_MAX_ADDRESSES) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the kernel lists more than %d addresses",
                    NL_MAX_ADDRESSES);
        return NULL;
      }
      add_address(out, NLMSG_DATA(nh),
                  (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifaddrmsg))));
    }
  }
}
