/* pp-pci-device: what pcipass knows of one PCI function on a host, and its
 * probe record, the `PCI = [ ... ]` vector of DESIGN.md's contract. */
#pragma once

#include <glib.h>

#include "pp-pci-address.h"
#include "pp-template.h"

G_BEGIN_DECLS

typedef enum {
  PP_SRIOV_NO, /* not SR-IOV capable */
  PP_SRIOV_PF, /* a physical function that can have VFs */
  PP_SRIOV_VF, /* a virtual function; physfn names its PF */
  _PP_SRIOV_MAX
} PpSriovRole;

/* Bounds of the numbers of a record, the same for the probe that reads them
 * from sysfs and for pcipassd that reads the record (pp-probe-report): a
 * value past them is not printed, and not accepted.
 * NUMA nodes: Linux has at most 1024 (NODES_SHIFT is at most 10). */
#define PP_PCI_NUMA_NODE_MAX 4095
/* IOMMU groups: the kernel numbers them from 0 with an IDA, so they stay
 * below the number of groups. */
#define PP_PCI_IOMMU_GROUP_MAX 1000000
/* VFs of a PF: TotalVFs is a 16-bit field (PCIe 6.0, 9.3.3.5). */
#define PP_PCI_SRIOV_VFS_MAX 65535

typedef struct {
  PpPciAddress address;
  guint16 vendor;
  guint16 device;
  guint32 class_code; /* 24 bits: class, subclass, programming interface */
  gint header_type;   /* config byte 0x0e without the multi-function bit; -1: not read */
  gboolean has_subsystem;
  guint16 subsystem_vendor;
  guint16 subsystem_device;
  char *vendor_name; /* from pci.ids; never NULL once named */
  char *device_name;
  char *class_name;
  gint numa_node;        /* -1: unknown */
  char *driver;          /* NULL: no driver bound */
  char *driver_override; /* NULL: none set (sysfs reads "(null)") */
  gint iommu_group;      /* -1: none (no IOMMU, or not known) */
  /* char*, sorted: the addresses (`0000:3b:00.1`) of every device of the
   * IOMMU group that goes with it when the group is passed through (the
   * bridges that stay with the host left out), this one included; NULL
   * when not known (pp_pci_scan() fills it from the whole tree). */
  GPtrArray *group_endpoints;
  PpSriovRole sriov;
  guint sriov_numvfs;   /* PF: VFs enabled now */
  guint sriov_totalvfs; /* PF: VFs it can have */
  gboolean has_physfn;
  PpPciAddress physfn; /* VF: its PF */
  GPtrArray *ifnames;  /* char*, sorted: network interfaces of this function */
  char *reset_method;  /* NULL: not known */
  /* Why the host itself needs this device (pp-host-needs: "is the ISA/LPC
   * bridge (firmware, timers, the clock)"), several reasons joined with
   * "; "; NULL when it does not, or nobody asked (only the probe does). */
  char *host_needs;
  /* The permanent MAC of its first interface (ifnames[0]), lower case
   * (02:00:0a:00:00:01); NULL when it has no interface, or the kernel says
   * the address is not the permanent one (addr_assign_type not 0), or it
   * is not a unicast Ethernet MAC (InfiniBand's are 20 bytes). */
  char *perm_mac;
  /* VF: N of the PF's virtfnN link that leads to it; -1: not known. */
  gint vf_index;
} PpPciDevice;

PpPciDevice *pp_pci_device_new(const PpPciAddress *address);
void pp_pci_device_free(PpPciDevice *dev);

/* The longest HOST_NEEDS of a record: a sentence or a few, joined with
 * "; " (pp_host_needs_join() says how many more there are past it). */
#define PP_PCI_HOST_NEEDS_MAX 1024

/* The longest driver name of a record: Linux's are far shorter
 * (struct device_driver.name). */
#define PP_PCI_DRIVER_NAME_MAX 64

/* Whether @name is a driver name a record may hold: 1 to
 * PP_PCI_DRIVER_NAME_MAX of [A-Za-z0-9_.-], as the probe prints it and
 * pcipassd reads it. */
gboolean pp_pci_driver_name_is_valid(const char *name);

/* The 16-bit class and subclass, the CLASS of a record (0x0200). */
guint16 pp_pci_device_get_class(const PpPciDevice *dev);

const char *pp_sriov_role_to_string(PpSriovRole role);

/**
 * pp_pci_device_add_record:
 *
 * Appends the device's probe record to @tmpl: a vector `PCI` with the
 * attributes of DESIGN.md in its order (TYPE, VENDOR, VENDOR_NAME, DEVICE,
 * DEVICE_NAME, CLASS, CLASS_NAME, ADDRESS, SHORT_ADDRESS, DOMAIN, BUS, SLOT,
 * FUNCTION, NUMA_NODE, IFNAME, SRIOV, SRIOV_NUM, IOMMU_GROUP,
 * IOMMU_GROUP_ENDPOINTS, DRIVER, PHYSFN, SUBSYSTEM_VENDOR, SUBSYSTEM_DEVICE,
 * RESET_METHOD), then SRIOV_TOTAL, then HOST_NEEDS, then PERM_MAC and
 * VF_INDEX (issue 12; new keys go last, so older readers keep their order).
 * Attributes whose value is not known are left out, but NUMA_NODE, which is
 * `-`; HOST_NEEDS is only on a device the host needs (host_needs set). IFNAME lists several
 * interfaces with commas; SRIOV_NUM and SRIOV_TOTAL are on PFs only, PHYSFN and VF_INDEX on
 * VFs only; PERM_MAC when perm_mac is known.
 * IOMMU_GROUP_ENDPOINTS
 * (`0000:3b:00.0,0000:3b:00.1`: group_endpoints joined with commas) comes
 * with IOMMU_GROUP, when group_endpoints is known.
 */
void pp_pci_device_add_record(const PpPciDevice *dev, PpTemplate *tmpl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPciDevice, pp_pci_device_free)

G_END_DECLS
