/* pp-pci-scan: the PCI functions of a host, read from sysfs.
 *
 * For each entry of bus/pci/devices: ids from vendor, device, class and
 * subsystem_* (or, where those files are missing, from the first bytes of
 * config), numa_node, the driver and iommu_group links, SR-IOV (physfn,
 * virtfn*, sriov_totalvfs, sriov_numvfs), the net/ interfaces and
 * reset_method; then, from the whole tree, each grouped device's
 * group_endpoints. Missing files are normal (old kernels, pruned trees): the
 * field stays unknown. Names (pci.ids) are not filled in here.
 */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"
#include "pp-sysfs.h"

G_BEGIN_DECLS

/**
 * pp_pci_scan:
 * @warnings: (element-type utf8): receives one message, a whole sentence, for
 *   every device skipped (its ids cannot be read), entry that is not a PCI
 *   address, for a tree without bus/pci/devices, and for every number out of
 *   its bounds (numa_node, the iommu_group link, SR-IOV counts: see
 *   PP_PCI_NUMA_NODE_MAX...), which is then not known
 *
 * Returns: (transfer full) (element-type PpPciDevice): the devices sorted by
 *   address; an empty array when the tree has no bus/pci/devices; %NULL
 *   when that folder exists but cannot be listed.
 */
GPtrArray *pp_pci_scan(PpSysfs *sysfs, GPtrArray *warnings, GError **error);

/**
 * pp_pci_scan_device:
 * @name: the device's folder name in bus/pci/devices (`0000:05:00.0`)
 *
 * Returns: (transfer full): the device, or %NULL when its vendor, device or
 *   class cannot be read.
 */
PpPciDevice *pp_pci_scan_device(PpSysfs *sysfs, const char *name, GError **error);

G_END_DECLS
