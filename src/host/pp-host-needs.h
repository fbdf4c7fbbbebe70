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
 *   chipset   what a device is, whatever it serves (pp_host_needs_chipset()):
 *             host bridges (0600), the ISA/LPC bridge (0601), PCI,
 *             semi-transparent and CardBus bridges (0604, 0609, 0607, or a
 *             header of type 1 or 2) and every other bridge class (06xx),
 *             the SMBus controller (0c05), interrupt, DMA, timer, clock and
 *             hot-plug controllers (0800-0804), the IOMMU (0806), the root
 *             complex event collector (0807); and on a root bus, where the
 *             processor and the platform controller hub put their own
 *             functions, memory controllers (0580), the management engine
 *             (0780), system peripherals (0880), SPI and I2C controllers
 *             (0c80), performance counters (1101), thermal and telemetry
 *             (1180)
 *   SR-IOV    the PF of a VF the host needs
 *
 * Bridges that vfio leaves to the host (pp_vfio_stays()) are needed but do
 * not keep their IOMMU group from being passed through: the group goes
 * without them.
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

/* Returns: (transfer full) (nullable): every reason @address is needed,
 *   in order, joined with "; " (a probe record's HOST_NEEDS): at most
 *   PP_PCI_HOST_NEEDS_MAX bytes, the reasons past them counted ("; and 12
 *   more"); NULL when it is not needed. */
char *pp_host_needs_join(GPtrArray *needs, const PpPciAddress *address);

/**
 * pp_host_needs_chipset:
 * @sysfs: the sysfs tree @dev is in, to tell a function on a root bus
 * @dev: a device
 *
 * The chipset rule alone (see above): why the host needs @dev for what it
 * is, a bridge or a function of the chipset, whatever it serves.
 *
 * Returns: (transfer full) (nullable): the reason ("is the SMBus
 *   controller (sensors, memory SPD)"), or %NULL.
 */
char *pp_host_needs_chipset(PpSysfs *sysfs, const PpPciDevice *dev);

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
