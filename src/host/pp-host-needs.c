#define G_LOG_DOMAIN "pp-host-needs"

#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "pp-host-needs.h"
#include "pp-vfio-plan.h"

/* /proc/self/mountinfo of a busy container host runs to a few hundred KiB. */
#define PROC_TEXT_MAX (4 * 1024 * 1024)
/* Layers of block devices (dm over md over partitions) and of network
 * interfaces (VLAN over bond over NIC) followed at most. */
#define MAX_DEPTH 8

typedef struct {
  PpSysfs *sysfs;
  PpSysfs *proc;
  PpSysfs *dev;
  GPtrArray *devices;
  GPtrArray *needs; /* PpHostNeed */
  gboolean in_ovs;  /* following the ports of Open vSwitch's datapath */
} Ctx;

static void
need_free(gpointer data)
{
  PpHostNeed *need = data;

  g_free(need->reason);
  g_free(need);
}

/* @text made printable: control characters as \n, \t or \xHH. */
static char *
escape_controls(const char *text)
{
  GString *out = g_string_new(NULL);

  for (const char *p = text; *p != '\0'; p++) {
    guchar c = (guchar)*p;

    if (c == '\n')
      g_string_append(out, "\\n");
    else if (c == '\t')
      g_string_append(out, "\\t");
    else if (c < 0x20 || c == 0x7f)
      g_string_append_printf(out, "\\x%02x", c);
    else
      g_string_append_c(out, (char)c);
  }
  return g_string_free(out, FALSE);
}

/* Adds a need for @bdf, once for each reason. Takes @reason, which may
 * carry bytes from mount points and interface names: it is made valid
 * UTF-8 for JSON and terminals, and printable, as a probe record's
 * HOST_NEEDS must be (a mount point may hold a newline: mountinfo's
 * \012). */
static void
add_need(Ctx *ctx, const char *bdf, char *raw)
{
  g_autofree char *owned = raw;
  g_autofree char *valid = g_utf8_make_valid(owned, -1);
  g_autofree char *reason = escape_controls(valid);
  PpHostNeed *need;
  PpPciAddress a;

  if (!pp_pci_address_parse(bdf, &a, NULL))
    return;
  for (guint i = 0; i < ctx->needs->len; i++) {
    PpHostNeed *n = g_ptr_array_index(ctx->needs, i);

    if (pp_pci_address_equal(&n->address, &a) && strcmp(n->reason, reason) == 0)
      return;
  }
  need = g_new0(PpHostNeed, 1);
  need->address = a;
  need->reason = g_steal_pointer(&reason);
  g_ptr_array_add(ctx->needs, need);
}

/* The last component of @path that is a full PCI address (0000:03:00.0):
 * in a sysfs device path, the controller itself; those before it are its
 * bridges. */
static char *
last_pci_component(const char *path)
{
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  const char *found = NULL;

  for (guint i = 0; parts[i] != NULL; i++) {
    PpPciAddress a;

    if (strchr(parts[i], '.') != NULL && strchr(parts[i], ':') != strrchr(parts[i], ':') &&
        pp_pci_address_parse(parts[i], &a, NULL))
      found = parts[i];
  }
  return g_strdup(found);
}

/* ------------------------------------------------------------------------ */
/* Storage                                                                    */
/* ------------------------------------------------------------------------ */

/* The sysfs path of block device @name: class/block/NAME, else block/NAME,
 * else a partition inside a disk of block/ (pruned captures keep only
 * block/). Returns: the link's target, or NULL. */
static char *
block_target(Ctx *ctx, const char *name, char **ret_dir)
{
  g_autofree char *path = g_strdup_printf("class/block/%s", name);
  g_autoptr(GPtrArray) disks = NULL;
  char *target;

  target = pp_sysfs_readlink(ctx->sysfs, path, NULL);
  if (target != NULL) {
    *ret_dir = g_steal_pointer(&path);
    return target;
  }
  g_free(path);
  path = g_strdup_printf("block/%s", name);
  target = pp_sysfs_readlink(ctx->sysfs, path, NULL);
  if (target != NULL) {
    *ret_dir = g_steal_pointer(&path);
    return target;
  }
  disks = pp_sysfs_list(ctx->sysfs, "block", NULL);
  for (guint i = 0; disks != NULL && i < disks->len; i++) {
    const char *disk = g_ptr_array_index(disks, i);
    g_autofree char *part = g_strdup_printf("block/%s/%s", disk, name);
    g_autoptr(PpSysfs) part_dir = pp_sysfs_open_at(ctx->sysfs, part, NULL);
    g_autofree char *disk_path = NULL;

    if (part_dir == NULL)
      continue;
    disk_path = g_strdup_printf("block/%s", disk);
    target = pp_sysfs_readlink(ctx->sysfs, disk_path, NULL);
    if (target != NULL) {
      *ret_dir = g_steal_pointer(&part);
      return target;
    }
  }
  return NULL;
}

/* Finds the controllers under block device @name and records why the host
 * needs them: @source is what the host uses (/dev/mapper/vg-root), @use
 * how ("mounted at /"). */
static void
block_needs(Ctx *ctx, const char *name, const char *source, const char *use, guint depth)
{
  g_autofree char *dir = NULL;
  g_autofree char *target = NULL;
  g_autofree char *pci = NULL;
  g_autofree char *slaves_path = NULL;
  g_autoptr(GPtrArray) slaves = NULL;
  g_autofree char *leaf = NULL;

  if (depth > MAX_DEPTH)
    return;
  target = block_target(ctx, name, &dir);
  if (target == NULL)
    return;
  pci = last_pci_component(target);
  if (pci != NULL) {
    leaf = g_strdup_printf("/dev/%s", name);
    if (strcmp(leaf, source) == 0)
      add_need(ctx, pci, g_strdup_printf("holds %s, %s", source, use));
    else
      add_need(ctx, pci, g_strdup_printf("holds %s, under %s %s", leaf, source, use));
    return;
  }
  /* Native NVMe multipath: the disk hangs off its subsystem, whose
   * controllers (nvme0, nvme1) are the PCI devices. */
  {
    g_auto(GStrv) parts = g_strsplit(target, "/", -1);

    for (guint i = 0; parts[i] != NULL; i++) {
      g_autofree char *subsys = NULL;
      g_autoptr(GPtrArray) ctrls = NULL;

      if (!g_str_has_prefix(parts[i], "nvme-subsys") || strcmp(parts[i], "nvme-subsystem") == 0)
        continue;
      subsys = g_strdup_printf("class/nvme-subsystem/%s", parts[i]);
      ctrls = pp_sysfs_list(ctx->sysfs, subsys, NULL);
      for (guint c = 0; ctrls != NULL && c < ctrls->len; c++) {
        const char *ctrl = g_ptr_array_index(ctrls, c);
        g_autofree char *link = g_strdup_printf("%s/%s", subsys, ctrl);
        g_autofree char *ctrl_target = NULL;
        g_autofree char *ctrl_pci = NULL;

        if (!g_str_has_prefix(ctrl, "nvme") || !g_ascii_isdigit(ctrl[4]))
          continue;
        ctrl_target = pp_sysfs_readlink(ctx->sysfs, link, NULL);
        ctrl_pci = ctrl_target ? last_pci_component(ctrl_target) : NULL;
        if (ctrl_pci != NULL)
          add_need(ctx, ctrl_pci,
                   g_strdup_printf("holds /dev/%s (through %s, a path of %s), %s", name, ctrl,
                                   parts[i], use));
      }
      return;
    }
  }

  /* A virtual device (dm, md): what it is built on. */
  slaves_path = g_strdup_printf("%s/slaves", dir);
  slaves = pp_sysfs_list(ctx->sysfs, slaves_path, NULL);
  for (guint i = 0; slaves != NULL && i < slaves->len; i++)
    block_needs(ctx, g_ptr_array_index(slaves, i), source, use, depth + 1);
}

/* The block device name behind /dev/mapper/NAME: the dm-N whose dm/name is NAME. */
static char *
dm_by_name(Ctx *ctx, const char *mapper_name)
{
  g_autoptr(GPtrArray) blocks = pp_sysfs_list(ctx->sysfs, "block", NULL);

  for (guint i = 0; blocks != NULL && i < blocks->len; i++) {
    const char *name = g_ptr_array_index(blocks, i);
    g_autofree char *path = NULL;
    g_autofree char *dm_name = NULL;

    if (!g_str_has_prefix(name, "dm-"))
      continue;
    path = g_strdup_printf("block/%s/dm/name", name);
    dm_name = pp_sysfs_read_string(ctx->sysfs, path, NULL);
    if (dm_name != NULL && strcmp(dm_name, mapper_name) == 0)
      return g_strdup(name);
  }
  return NULL;
}

/* The kernel's name for a /dev path: /dev/sda2 -> sda2, /dev/mapper/X ->
 * dm-N, /dev/disk/by-uuid/U and /dev/VG/LV followed through /dev's links. */
static char *
block_name_of(Ctx *ctx, const char *source)
{
  g_autofree char *path = NULL;

  if (!g_str_has_prefix(source, "/dev/"))
    return NULL;
  path = g_strdup(source + strlen("/dev/"));
  for (guint hop = 0; ctx->dev != NULL && hop < MAX_DEPTH; hop++) {
    g_autofree char *target = pp_sysfs_readlink(ctx->dev, path, NULL);
    g_autofree char *dir = NULL;
    g_autofree char *joined = NULL;

    if (target == NULL)
      break;
    dir = g_path_get_dirname(path);
    joined = target[0] == '/' ? g_strdup(target + 1) : g_build_filename(dir, target, NULL);
    g_free(path);
    path = g_canonicalize_filename(joined, "/");
    memmove(path, path + 1, strlen(path));
  }
  if (g_str_has_prefix(path, "mapper/"))
    return dm_by_name(ctx, path + strlen("mapper/"));
  return g_path_get_basename(path);
}

/* mountinfo and mounts escape blanks as \040 and so on. */
static char *
unescape_octal(const char *text)
{
  GString *out = g_string_new(NULL);

  for (const char *p = text; *p != '\0'; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      g_string_append_c(out, (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
      p += 3;
    } else {
      g_string_append_c(out, *p);
    }
  }
  return g_string_free(out, FALSE);
}

typedef struct {
  char *fstype;     /* ext4, btrfs, zfs */
  char *source;     /* /dev/sda2 */
  char *mountpoint; /* /boot */
  char *block;      /* the kernel's name, when known (from maj:min) */
} Mount;

static void
mount_free(gpointer data)
{
  Mount *m = data;

  g_free(m->fstype);
  g_free(m->source);
  g_free(m->mountpoint);
  g_free(m->block);
  g_free(m);
}

/* The mounts: /proc/self/mountinfo (with maj:min) or the older formats. */
static GPtrArray *
read_mounts(Ctx *ctx)
{
  GPtrArray *mounts = g_ptr_array_new_with_free_func(mount_free);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean info = TRUE;

  text = pp_sysfs_read_text(ctx->proc, "self/mountinfo", PROC_TEXT_MAX, NULL);
  if (text == NULL) {
    info = FALSE;
    text = pp_sysfs_read_text(ctx->proc, "self/mounts", PROC_TEXT_MAX, NULL);
  }
  if (text == NULL)
    text = pp_sysfs_read_text(ctx->proc, "mounts", PROC_TEXT_MAX, NULL);
  if (text == NULL)
    return mounts;

  lines = g_strsplit(text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
    guint n = g_strv_length(f);
    Mount *m;

    if (info) {
      /* id parent maj:min root mountpoint options [optional...] - type source super */
      guint dash = 6;

      while (dash < n && strcmp(f[dash], "-") != 0)
        dash++;
      if (n < 5 || dash + 2 >= n)
        continue;
      m = g_new0(Mount, 1);
      m->fstype = g_strdup(f[dash + 1]);
      m->source = unescape_octal(f[dash + 2]);
      m->mountpoint = unescape_octal(f[4]);
      if (!g_str_has_prefix(f[2], "0:")) {
        g_autofree char *link = g_strdup_printf("dev/block/%s", f[2]);

        m->block = pp_sysfs_readlink_basename(ctx->sysfs, link, NULL);
      }
    } else {
      /* source mountpoint type options 0 0 */
      if (n < 2)
        continue;
      m = g_new0(Mount, 1);
      m->source = unescape_octal(f[0]);
      m->fstype = g_strdup(n > 2 ? f[2] : "");
      m->mountpoint = unescape_octal(f[1]);
    }
    g_ptr_array_add(mounts, m);
  }
  return mounts;
}

/* A btrfs filesystem spans every device in fs/btrfs/UUID/devices, though
 * it is mounted by one of them: the others are needed as much. */
static void
btrfs_needs(Ctx *ctx, const char *mounted, const char *use)
{
  g_autoptr(GPtrArray) filesystems = pp_sysfs_list(ctx->sysfs, "fs/btrfs", NULL);

  for (guint i = 0; filesystems != NULL && i < filesystems->len; i++) {
    const char *uuid = g_ptr_array_index(filesystems, i);
    g_autofree char *path = g_strdup_printf("fs/btrfs/%s/devices", uuid);
    g_autoptr(GPtrArray) members = pp_sysfs_list(ctx->sysfs, path, NULL);
    gboolean ours = FALSE;

    for (guint d = 0; members != NULL && d < members->len; d++)
      ours = ours || strcmp(g_ptr_array_index(members, d), mounted) == 0;
    if (!ours)
      continue;
    for (guint d = 0; d < members->len; d++) {
      const char *member = g_ptr_array_index(members, d);
      g_autofree char *shown = NULL;
      g_autofree char *why = NULL;

      if (strcmp(member, mounted) == 0)
        continue;
      shown = g_strdup_printf("/dev/%s", member);
      why = g_strdup_printf("%s (a device of the btrfs filesystem on /dev/%s)", use, mounted);
      block_needs(ctx, member, shown, why, 0);
    }
  }
}

/* ZFS keeps its vdevs to itself: sysfs names no member disk of a pool.
 * Every storage controller may hold one, so all of them are needed, and
 * the administrator who knows better says --force. */
static void
zfs_needs(Ctx *ctx, const Mount *m)
{
  g_autofree char *pool = g_strndup(m->source, strcspn(m->source, "/@"));

  for (guint i = 0; i < ctx->devices->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(ctx->devices, i);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    if ((dev->class_code >> 16) != 0x01)
      continue;
    pp_pci_address_format(&dev->address, bdf);
    add_need(ctx, bdf,
             g_strdup_printf("is a storage controller, and may hold the ZFS pool %s", pool));
  }
}

static void
storage_needs(Ctx *ctx, GPtrArray *mounts)
{
  g_autofree char *swaps = NULL;

  for (guint i = 0; i < mounts->len; i++) {
    Mount *m = g_ptr_array_index(mounts, i);
    g_autofree char *name = NULL;
    g_autofree char *use = NULL;

    g_autofree char *shown = NULL;

    if (g_strcmp0(m->fstype, "zfs") == 0) {
      zfs_needs(ctx, m);
      continue;
    }
    name = m->block ? g_strdup(m->block) : block_name_of(ctx, m->source);
    if (name == NULL)
      continue;
    /* The name the administrator knows: /dev/mapper/... as mounted, but
     * the kernel's name for aliases such as /dev/root. */
    if (g_str_has_prefix(m->source, "/dev/mapper/") ||
        (m->block == NULL && g_str_has_prefix(m->source, "/dev/")))
      shown = g_strdup(m->source);
    else
      shown = g_strdup_printf("/dev/%s", name);
    use = g_strdup_printf("mounted at %s", m->mountpoint);
    block_needs(ctx, name, shown, use, 0);
    if (g_strcmp0(m->fstype, "btrfs") == 0)
      btrfs_needs(ctx, name, use);
  }

  /* Filename Type Size Used Priority */
  swaps = pp_sysfs_read_text(ctx->proc, "swaps", PROC_TEXT_MAX, NULL);
  if (swaps != NULL) {
    g_auto(GStrv) lines = g_strsplit(swaps, "\n", -1);

    for (guint i = lines[0] != NULL ? 1 : 0; lines[i] != NULL; i++) {
      g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
      g_autoptr(GPtrArray) w = g_ptr_array_new();
      g_autofree char *file = NULL;
      Mount *best = NULL;

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add(w, f[j]);
      if (w->len < 2)
        continue;
      file = unescape_octal(g_ptr_array_index(w, 0));
      if (strcmp(g_ptr_array_index(w, 1), "partition") == 0) {
        g_autofree char *name = block_name_of(ctx, file);

        if (name != NULL)
          block_needs(ctx, name, file, "used as swap", 0);
        continue;
      }
      /* A swap file: the filesystem that holds it, the longest mount point
       * that is a prefix of its path. */
      for (guint j = 0; j < mounts->len; j++) {
        Mount *m = g_ptr_array_index(mounts, j);
        gsize len = strlen(m->mountpoint);

        if (g_str_has_prefix(file, m->mountpoint) &&
            (len == 1 || file[len] == '/' || file[len] == '\0') &&
            (best == NULL || len > strlen(best->mountpoint)))
          best = m;
      }
      if (best != NULL) {
        g_autofree char *mname =
            best->block ? g_strdup(best->block) : block_name_of(ctx, best->source);
        g_autofree char *use = g_strdup_printf("holding the swap file %s", file);

        if (mname != NULL)
          block_needs(ctx, mname, best->source, use, 0);
      }
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Network                                                                    */
/* ------------------------------------------------------------------------ */

static gboolean
is_ovs_port(Ctx *ctx, const char *ifname)
{
  g_autofree char *link = g_strdup_printf("class/net/%s/master", ifname);
  g_autofree char *master = pp_sysfs_readlink_basename(ctx->sysfs, link, NULL);

  return g_strcmp0(master, "ovs-system") == 0;
}

static void net_needs(Ctx *ctx, const char *ifname, const char *top, const char *what, guint depth);

/* An Open vSwitch bridge (@ifname, an internal port) names no ports in
 * sysfs; the ports of the datapath are the interfaces whose master is
 * ovs-system. Which bridge each serves is OVS's own, so every port (a NIC,
 * or a bond or VLAN over NICs) may carry @ifname. */
static void
ovs_needs(Ctx *ctx, const char *ifname, const char *top, const char *what, guint depth)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *why = NULL;

  if (ctx->in_ovs)
    return;
  all = pp_sysfs_list(ctx->sysfs, "class/net", NULL);
  why = g_strdup_printf("may carry %s (Open vSwitch), which %s", top, what);
  ctx->in_ovs = TRUE;
  for (guint i = 0; all != NULL && i < all->len; i++) {
    const char *port = g_ptr_array_index(all, i);

    if (strcmp(port, ifname) != 0 && is_ovs_port(ctx, port))
      net_needs(ctx, port, port, why, depth + 1);
  }
  ctx->in_ovs = FALSE;
}

/* Finds the NICs under interface @ifname (itself, or what a bridge, bond or
 * VLAN sits on) and records @what it carries. */
static void
net_needs(Ctx *ctx, const char *ifname, const char *top, const char *what, guint depth)
{
  g_autofree char *dir = g_strdup_printf("class/net/%s", ifname);
  g_autofree char *brif = g_strdup_printf("class/net/%s/brif", ifname);
  g_autofree char *target = NULL;
  g_autofree char *pci = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) ports = NULL;

  if (depth > MAX_DEPTH)
    return;
  /* class/net/eth0 -> ../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0:
   * the PCI device is in the path (its `device` link may name a virtio or
   * USB device in between). */
  target = pp_sysfs_readlink(ctx->sysfs, dir, NULL);
  pci = target ? last_pci_component(target) : NULL;
  if (pci != NULL) {
    if (strcmp(ifname, top) == 0)
      add_need(ctx, pci, g_strdup_printf("is %s, which %s", ifname, what));
    else
      add_need(ctx, pci, g_strdup_printf("is %s, under %s, which %s", ifname, top, what));
    return;
  }
  /* A bridge, bond or VLAN: what it sits on. */
  entries = pp_sysfs_list(ctx->sysfs, dir, NULL);
  for (guint i = 0; entries != NULL && i < entries->len; i++) {
    const char *e = g_ptr_array_index(entries, i);

    if (g_str_has_prefix(e, "lower_"))
      net_needs(ctx, e + strlen("lower_"), top, what, depth + 1);
  }
  ports = pp_sysfs_list(ctx->sysfs, brif, NULL);
  for (guint i = 0; ports != NULL && i < ports->len; i++)
    net_needs(ctx, g_ptr_array_index(ports, i), top, what, depth + 1);
  if (is_ovs_port(ctx, ifname))
    ovs_needs(ctx, ifname, top, what, depth);
}

/* RTF_GATEWAY of <linux/route.h>: the route goes through a router. */
#define ROUTE_GATEWAY 0x0002

/* /proc/net/route keeps addresses as host-order hex of network-order
 * words (little-endian bytes here), and flags as plain hex. */
static gboolean
parse_ipv4(const char *hex, guint32 *ret)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned(hex, 16, 0, G_MAXUINT32, &v, NULL))
    return FALSE;
  *ret = (guint32)v;
  return TRUE;
}

static char *
format_ipv4(guint32 le)
{
  return g_strdup_printf("%u.%u.%u.%u", le & 0xff, (le >> 8) & 0xff, (le >> 16) & 0xff,
                         (le >> 24) & 0xff);
}

static void
network_needs(Ctx *ctx, GPtrArray *ipv4)
{
  g_autofree char *route = pp_sysfs_read_text(ctx->proc, "net/route", PROC_TEXT_MAX, NULL);
  g_autofree char *route6 = pp_sysfs_read_text(ctx->proc, "net/ipv6_route", PROC_TEXT_MAX, NULL);
  g_autofree char *inet6 = pp_sysfs_read_text(ctx->proc, "net/if_inet6", PROC_TEXT_MAX, NULL);

  /* Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT */
  if (route != NULL) {
    g_auto(GStrv) lines = g_strsplit(route, "\n", -1);

    for (guint i = lines[0] != NULL ? 1 : 0; lines[i] != NULL; i++) {
      g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
      g_autoptr(GPtrArray) w = g_ptr_array_new();
      guint32 dest, mask, flags;
      g_autofree char *what = NULL;
      g_autofree char *net = NULL;

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add(w, f[j]);
      if (w->len < 8 || strcmp(g_ptr_array_index(w, 0), "lo") == 0 ||
          !parse_ipv4(g_ptr_array_index(w, 1), &dest) ||
          !parse_ipv4(g_ptr_array_index(w, 3), &flags) ||
          !parse_ipv4(g_ptr_array_index(w, 7), &mask))
        continue;
      net = format_ipv4(dest);
      if (dest == 0 && mask == 0)
        what = g_strdup("carries the default route");
      else if ((flags & ROUTE_GATEWAY) != 0)
        what = g_strdup_printf("carries the route to %s/%d", net, __builtin_popcount(mask));
      else if (ipv4 == NULL)
        what = g_strdup_printf("has an address on %s/%d", net, __builtin_popcount(mask));
      else
        continue; /* the address itself says it, below */
      net_needs(ctx, g_ptr_array_index(w, 0), g_ptr_array_index(w, 0), what, 0);
    }
  }

  for (guint i = 0; ipv4 != NULL && i < ipv4->len; i++) {
    const PpIfAddress *a = g_ptr_array_index(ipv4, i);
    g_autofree char *what = NULL;

    if (strcmp(a->ifname, "lo") == 0 || g_str_has_prefix(a->address, "127."))
      continue;
    what = g_strdup_printf("has the address %s", a->address);
    net_needs(ctx, a->ifname, a->ifname, what, 0);
  }

  /* dest destlen src srclen nexthop metric refcnt use flags iface */
  if (route6 != NULL) {
    g_auto(GStrv) lines = g_strsplit(route6, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++) {
      g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
      g_autoptr(GPtrArray) w = g_ptr_array_new();

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add(w, f[j]);
      if (w->len < 10 || strcmp(g_ptr_array_index(w, 9), "lo") == 0)
        continue;
      if (strcmp(g_ptr_array_index(w, 0), "00000000000000000000000000000000") == 0 &&
          strcmp(g_ptr_array_index(w, 1), "00") == 0)
        net_needs(ctx, g_ptr_array_index(w, 9), g_ptr_array_index(w, 9),
                  "carries the IPv6 default route", 0);
    }
  }

  /* address ifindex prefixlen scope flags ifname; scope 00 is global */
  if (inet6 != NULL) {
    g_auto(GStrv) lines = g_strsplit(inet6, "\n", -1);

    for (guint i = 0; lines[i] != NULL; i++) {
      g_auto(GStrv) f = g_strsplit_set(lines[i], " \t", -1);
      g_autoptr(GPtrArray) w = g_ptr_array_new();
      guint8 bytes[16];
      char text[INET6_ADDRSTRLEN];
      const char *hex;
      guint64 prefix;
      g_autofree char *what = NULL;

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add(w, f[j]);
      if (w->len < 6 || strcmp(g_ptr_array_index(w, 3), "00") != 0 ||
          strcmp(g_ptr_array_index(w, 5), "lo") == 0)
        continue;
      hex = g_ptr_array_index(w, 0);
      if (strlen(hex) != 32 ||
          !g_ascii_string_to_unsigned(g_ptr_array_index(w, 2), 16, 0, 128, &prefix, NULL))
        continue;
      for (guint b = 0; b < 16; b++)
        bytes[b] =
            (guint8)(g_ascii_xdigit_value(hex[2 * b]) * 16 + g_ascii_xdigit_value(hex[2 * b + 1]));
      if (inet_ntop(AF_INET6, bytes, text, sizeof(text)) == NULL)
        continue;
      what = g_strdup_printf("has the address %s/%u", text, (guint)prefix);
      net_needs(ctx, g_ptr_array_index(w, 5), g_ptr_array_index(w, 5), what, 0);
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Console                                                                    */
/* ------------------------------------------------------------------------ */

static void
console_needs(Ctx *ctx)
{
  g_autoptr(GPtrArray) fbs = pp_sysfs_list(ctx->sysfs, "class/graphics", NULL);
  PpPciDevice *display = NULL;
  guint displays = 0;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *boot_vga_path = NULL;
  g_autofree char *boot_vga = NULL;
  g_autofree char *fb = NULL;

  for (guint i = 0; i < ctx->devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(ctx->devices, i);

    if ((dev->class_code >> 16) == 0x03) {
      display = dev;
      displays++;
    }
  }
  /* With two display devices, the console can live on the other. */
  if (displays != 1)
    return;
  pp_pci_address_format(&display->address, bdf);
  boot_vga_path = g_strdup_printf("bus/pci/devices/%s/boot_vga", bdf);
  boot_vga = pp_sysfs_read_string(ctx->sysfs, boot_vga_path, NULL);
  for (guint i = 0; fbs != NULL && i < fbs->len && fb == NULL; i++) {
    const char *name = g_ptr_array_index(fbs, i);
    g_autofree char *link = g_strdup_printf("class/graphics/%s", name);
    g_autofree char *target = pp_sysfs_readlink(ctx->sysfs, link, NULL);
    g_autofree char *pci = target ? last_pci_component(target) : NULL;

    if (pci != NULL && strcmp(pci, bdf) == 0)
      fb = g_strdup(name);
  }
  if (fb != NULL)
    add_need(ctx, bdf,
             g_strdup_printf("is the only display device, and drives the console (%s)", fb));
  else if (g_strcmp0(boot_vga, "1") == 0)
    add_need(ctx, bdf, g_strdup("is the only display device, and the console's (boot VGA)"));
}

/* ------------------------------------------------------------------------ */
/* Chipset                                                                    */
/* ------------------------------------------------------------------------ */

/* Where a class makes a device the chipset's. */
typedef enum {
  /* Wherever it is: no plug-in card has this class. */
  CHIPSET_ANYWHERE,
  /* On a root bus only: a function of the processor's root complex or of
   * the platform controller hub. Behind a root port the same classes are
   * cards (FPGA boards say 0580). */
  CHIPSET_ON_ROOT_BUS,
} ChipsetWhere;

/* The classes of the chipset's own functions (the PCI Code and ID
 * Assignment Specification's base class and subclass), and why the host
 * needs each, as a phrase that follows the device's address. Columns:
 * class; mask (0xff00: every subclass of the base class, after the exact
 * entries); where it counts; the phrase.
 *
 * Not here, from real machines: 0500 RAM (the PCH's shared SRAM, which no
 * host driver uses and which shares the xHCI's group), 0805 SD host
 * controllers (devices), 1300 instrumentation (AMD's dummy functions), 1080
 * encryption (cards such as Cavium's Nitrox, and AMD's PSP behind an
 * internal bridge). */
static const struct {
  guint16 class_;
  guint16 mask;
  ChipsetWhere where;
  const char *reason;
} chipset_classes[] = {
  { 0x0600, 0xffff, CHIPSET_ANYWHERE, "is a host bridge (the processor's link to PCI)" },
  { 0x0601, 0xffff, CHIPSET_ANYWHERE, "is the ISA/LPC bridge (firmware, timers, the clock)" },
  { 0x0604, 0xffff, CHIPSET_ANYWHERE, "is a PCI bridge (the devices behind it hang from it)" },
  { 0x0609, 0xffff, CHIPSET_ANYWHERE,
    "is a semi-transparent PCI bridge (the devices behind it hang from it)" },
  { 0x0607, 0xffff, CHIPSET_ANYWHERE, "is a CardBus bridge (the cards behind it hang from it)" },
  /* EISA, MicroChannel, PCMCIA, NuBus, RACEway, InfiniBand, other (PIIX4's
   * ACPI function, non-transparent bridges). */
  { 0x0600, 0xff00, CHIPSET_ANYWHERE, "is a bridge of the platform" },
  { 0x0c05, 0xffff, CHIPSET_ANYWHERE, "is the SMBus controller (sensors, memory SPD)" },
  { 0x0800, 0xffff, CHIPSET_ANYWHERE, "is a chipset function (class 0800, interrupt controller)" },
  { 0x0801, 0xffff, CHIPSET_ANYWHERE, "is a chipset function (class 0801, DMA controller)" },
  { 0x0802, 0xffff, CHIPSET_ANYWHERE, "is a chipset function (class 0802, timer)" },
  { 0x0803, 0xffff, CHIPSET_ANYWHERE, "is a chipset function (class 0803, real-time clock)" },
  { 0x0804, 0xffff, CHIPSET_ANYWHERE,
    "is a chipset function (class 0804, PCI hot-plug controller)" },
  { 0x0806, 0xffff, CHIPSET_ANYWHERE, "is the IOMMU (it isolates the devices)" },
  { 0x0807, 0xffff, CHIPSET_ANYWHERE,
    "is the root complex event collector (it reports PCIe errors)" },
  { 0x0580, 0xffff, CHIPSET_ON_ROOT_BUS, "is a chipset function (class 0580, memory controller)" },
  { 0x0780, 0xffff, CHIPSET_ON_ROOT_BUS,
    "is a chipset function (class 0780, such as the management engine's interface)" },
  { 0x0880, 0xffff, CHIPSET_ON_ROOT_BUS, "is a chipset function (class 0880, system peripheral)" },
  { 0x0c80, 0xffff, CHIPSET_ON_ROOT_BUS,
    "is a chipset function (class 0c80, serial bus such as SPI flash or I2C)" },
  { 0x1101, 0xffff, CHIPSET_ON_ROOT_BUS,
    "is a chipset function (class 1101, performance counters)" },
  { 0x1180, 0xffff, CHIPSET_ON_ROOT_BUS,
    "is a chipset function (class 1180, such as thermal or telemetry)" },
};

/* Whether @dev sits on a root bus: bus/pci/devices/BDF links to
 * ../../../devices/pci0000:00/0000:00:1f.0, its parent a pciDDDD:BB root
 * rather than a bridge's address. */
static gboolean
on_root_bus(PpSysfs *sysfs, const PpPciDevice *dev)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *link = NULL;
  g_autofree char *target = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *name = NULL;

  pp_pci_address_format(&dev->address, bdf);
  link = g_strdup_printf("bus/pci/devices/%s", bdf);
  target = pp_sysfs_readlink(sysfs, link, NULL);
  if (target == NULL)
    return FALSE;
  parent = g_path_get_dirname(target);
  name = g_path_get_basename(parent);
  return g_str_has_prefix(name, "pci") && strchr(name, ':') != NULL;
}

char *
pp_host_needs_chipset(PpSysfs *sysfs, const PpPciDevice *dev)
{
  guint16 cls;
  const char *reason = NULL;

  g_return_val_if_fail(sysfs != NULL && dev != NULL, NULL);

  cls = pp_pci_device_get_class(dev);
  for (guint i = 0; i < G_N_ELEMENTS(chipset_classes) && reason == NULL; i++) {
    if ((cls & chipset_classes[i].mask) != chipset_classes[i].class_)
      continue;
    if (chipset_classes[i].where == CHIPSET_ON_ROOT_BUS && !on_root_bus(sysfs, dev))
      break;
    reason = chipset_classes[i].reason;
  }
  /* A bridge by its header (type 1 or 2) whatever its class says: vfio
   * leaves it to the host too (pp_vfio_is_bridge()). */
  if (reason == NULL && pp_vfio_is_bridge(dev))
    reason = dev->header_type == 2 ? "is a CardBus bridge (the cards behind it hang from it)"
                                   : "is a PCI bridge (the devices behind it hang from it)";
  if (reason == NULL)
    return NULL;
  /* A host bridge with a driver serves it too (igen6_edac: memory errors). */
  if (cls == 0x0600 && dev->driver != NULL)
    return g_strdup_printf("%s, on %s", reason, dev->driver);
  return g_strdup(reason);
}

/* The bridges and the chipset's own functions. */
static void
chipset_needs(Ctx *ctx)
{
  for (guint i = 0; i < ctx->devices->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(ctx->devices, i);
    char *reason = pp_host_needs_chipset(ctx->sysfs, dev);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    if (reason != NULL)
      add_need(ctx, pp_pci_address_format(&dev->address, bdf), reason);
  }
}

/* A PF carries its VFs: taking it from its driver removes them. */
static void
vf_needs(Ctx *ctx)
{
  guint n = ctx->needs->len;

  for (guint i = 0; i < n; i++) {
    const PpHostNeed *need = g_ptr_array_index(ctx->needs, i);

    for (guint d = 0; d < ctx->devices->len; d++) {
      const PpPciDevice *dev = g_ptr_array_index(ctx->devices, d);
      char vf[PP_PCI_ADDRESS_BUFSIZE], pf[PP_PCI_ADDRESS_BUFSIZE];

      if (!dev->has_physfn || !pp_pci_address_equal(&dev->address, &need->address))
        continue;
      pp_pci_address_format(&dev->address, vf);
      pp_pci_address_format(&dev->physfn, pf);
      add_need(ctx, pf, g_strdup_printf("has the VF %s, which %s", vf, need->reason));
    }
  }
}

static gint
compare_needs(gconstpointer a, gconstpointer b, gpointer unused)
{
  const PpHostNeed *na = *(const PpHostNeed *const *)a;
  const PpHostNeed *nb = *(const PpHostNeed *const *)b;

  return pp_pci_address_compare(&na->address, &nb->address);
}

GPtrArray *
pp_host_needs_read(PpSysfs *sysfs, PpSysfs *proc, PpSysfs *dev, GPtrArray *ipv4, GPtrArray *devices)
{
  Ctx ctx = { sysfs, proc, dev, devices, NULL, FALSE };

  g_return_val_if_fail(sysfs != NULL && devices != NULL, NULL);

  ctx.needs = g_ptr_array_new_with_free_func(need_free);
  if (proc != NULL) {
    g_autoptr(GPtrArray) mounts = read_mounts(&ctx);

    storage_needs(&ctx, mounts);
    network_needs(&ctx, ipv4);
  }
  console_needs(&ctx);
  chipset_needs(&ctx);
  vf_needs(&ctx);
  /* Stable: a device's reasons stay in the order they were found. */
  g_qsort_with_data(ctx.needs->pdata, ctx.needs->len, sizeof(gpointer), compare_needs, NULL);
  return ctx.needs;
}

const char *
pp_host_needs_find(GPtrArray *needs, const PpPciAddress *address)
{
  g_return_val_if_fail(needs != NULL && address != NULL, NULL);

  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *need = g_ptr_array_index(needs, i);

    if (pp_pci_address_equal(&need->address, address))
      return need->reason;
  }
  return NULL;
}

/* Room kept for "; and 4294967295 more". */
#define MORE_ROOM 24

char *
pp_host_needs_join(GPtrArray *needs, const PpPciAddress *address)
{
  g_autoptr(GString) joined = g_string_new(NULL);
  guint more = 0;

  g_return_val_if_fail(needs != NULL && address != NULL, NULL);

  /* At most PP_PCI_HOST_NEEDS_MAX bytes: the reasons that fit whole (a
   * disk bind-mounted in many places has one a mount), the first cut if
   * it alone does not, then how many more. */
  for (guint i = 0; i < needs->len; i++) {
    const PpHostNeed *need = g_ptr_array_index(needs, i);
    gsize len = strlen(need->reason);

    if (!pp_pci_address_equal(&need->address, address))
      continue;
    if (more > 0 ||
        (joined->len > 0 && joined->len + 2 + len + MORE_ROOM > PP_PCI_HOST_NEEDS_MAX)) {
      more++;
    } else if (len + MORE_ROOM > PP_PCI_HOST_NEEDS_MAX) {
      const char *end = need->reason + PP_PCI_HOST_NEEDS_MAX - MORE_ROOM - strlen("...");

      /* Cut on a character's first byte: the reason is UTF-8. */
      while (((guchar)*end & 0xc0) == 0x80)
        end--;
      g_string_append_len(joined, need->reason, end - need->reason);
      g_string_append(joined, "...");
    } else {
      g_string_append_printf(joined, "%s%s", joined->len ? "; " : "", need->reason);
    }
  }
  if (more > 0)
    g_string_append_printf(joined, "; and %u more", more);
  g_assert(joined->len <= PP_PCI_HOST_NEEDS_MAX);
  return joined->len ? g_string_free(g_steal_pointer(&joined), FALSE) : NULL;
}

static gboolean
contains(GPtrArray *devices, const PpPciDevice *dev)
{
  for (guint i = 0; i < devices->len; i++)
    if (pp_pci_address_equal(&((PpPciDevice *)g_ptr_array_index(devices, i))->address,
                             &dev->address))
      return TRUE;
  return FALSE;
}

char *
pp_host_needs_refuse(GPtrArray *needs, GPtrArray *targets, GPtrArray *requested)
{
  g_autoptr(GString) why = g_string_new(NULL);

  g_return_val_if_fail(needs != NULL && targets != NULL && requested != NULL, NULL);

  for (guint i = 0; i < targets->len; i++) {
    const PpPciDevice *t = g_ptr_array_index(targets, i);
    const char *reason = pp_host_needs_find(needs, &t->address);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    if (reason == NULL)
      continue;
    pp_pci_address_format(&t->address, bdf);
    if (why->len > 0)
      g_string_append(why, "; ");
    if (contains(requested, t))
      g_string_append_printf(why, "%s %s", bdf, reason);
    else
      g_string_append_printf(why, "%s, which shares IOMMU group %d with what was asked, %s", bdf,
                             t->iommu_group, reason);
  }
  return why->len ? g_string_free(g_steal_pointer(&why), FALSE) : NULL;
}
