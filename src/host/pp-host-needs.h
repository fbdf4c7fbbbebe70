/* pp-host-needs: the PCI devices the host itself needs, and why.
 *
 *   storage   the controller behind a mounted filesystem or active swap,
 *             through partitions, device-mapper and md layers, every
 *             device of a btrfs filesystem, the controllers of a native
 *             NVMe multipath disk, and every storage controller when ZFS
 *             is mounted (its pools' disks are not in sysfs)
 *             (/proc/self/mountinfo or /proc/mounts, /proc/swaps)
 *   network   the NIC under an interface that carries a default route, a
 *             route through a gateway, an IPv4 address (from netlink, or
 *             the link routes of /proc/net/route) or a global IPv6
 *             address, through bridges, bonds, VLANs and Open vSwitch
 *             (/proc/net/route, /proc/net/ipv6_route, /proc/net/if_inet6)
 *   console   the display device of the console when it is the only one
 *             (boot_vga, /sys/class/graphics/fb*)
 *   chipset   host bridges (class 0600) and the ISA/LPC bridge (0601)
 *
 * Everything is read below roots, so fixture trees can play a host.
 */
#pragma once

#include <glib.h>

#include "pp-netlink.h"
#include "pp-pci-device.h"
#include "pp-sysfs.h"

G_BEGIN_DECLS

typedef struct {
  PpPciAddress address;
  char *reason; /* "holds /dev/sda2, mounted at /boot" */
} PpHostNeed;

/**
 * pp_host_needs_read:
 * @sysfs: the sysfs tree
 * @proc: (nullable): the proc tree
 * @dev: (nullable): the /dev tree, to follow /dev/disk/by-* and LVM links
 * @ipv4: (nullable) (element-type PpIfAddress): the host's IPv4 addresses
 *   from pp_netlink_ipv4_addresses(), when the host read is the running
 *   one; without them, /proc/net/route's link routes stand for them
 * @devices: (element-type PpPciDevice): the host's PCI devices
 *
 * What cannot be read (no proc, pruned trees) gives no need: the guard is
 * as good as the host's files.
 *
 * Returns: (transfer full) (element-type PpHostNeed): the needs, in
 *   address order, several for one device when it serves several uses.
 */
GPtrArray *pp_host_needs_read(PpSysfs *sysfs, PpSysfs *proc, PpSysfs *dev, GPtrArray *ipv4,
                              GPtrArray *devices);

/* Returns: (transfer none): the first reason @address is needed, or NULL. */
const char *pp_host_needs_find(GPtrArray *needs, const PpPciAddress *address);

/**
 * pp_host_needs_refuse:
 * @targets: (element-type PpPciDevice): the devices about to be bound,
 *   groups expanded
 * @requested: (element-type PpPciDevice): those the user named
 *
 * Returns: (transfer full) (nullable): why binding @targets would take
 *   something the host needs ("0000:00:1f.2 holds /dev/sda, mounted at /"),
 *   naming the group when the device needed is only a companion of the one
 *   requested; %NULL when nothing is.
 */
char *pp_host_needs_refuse(GPtrArray *needs, GPtrArray *targets, GPtrArray *requested);

G_END_DECLS
