/* pp-domain-xml: the libvirt domain XML of a placed VM. Pure: no I/O.
 *
 * Every allocated device (companions included) becomes a
 * <hostdev mode='subsystem' type='pci' managed='yes'> with its host
 * address. The guest address follows the device's position: on q35 each
 * host slot (domain:bus:slot) gets its own pcie-root-port and keeps its
 * functions (a GPU at .0 and its audio at .1 stay one multifunction device);
 * on i440fx each host slot gets a slot of bus 0 from 0x10 up, functions
 * kept. Bridged NICs become <interface type='bridge'>, disks <disk
 * type='file'>, direct kernel boot <os><kernel/><initrd/><cmdline/>,
 * GRAPHICS <graphics type='vnc'|'spice'> with its <listen type='address'>.
 * Text is escaped for XML. The result validates with virt-xml-validate.
 *
 * NICs with their leases (PpDomainOptions.nics, issue 12) are written in
 * NIC id order, in place of the spec's bridged NICs, and take the first
 * guest addresses, so that the guest enumerates its interfaces in template
 * order; the other devices follow them. A NIC's guest address depends on
 * the machine and its NIC id only (pp_domain_xml_nic_guest_address()):
 *
 *   q35     NIC i on bus i + 1, slot 0, behind a pcie-root-port of its
 *           own (index and chassis i + 1, on pcie-root at slot 0x02 + i / 8,
 *           function i % 8, port 0x10 + i: all explicit); the devices'
 *           ports come after, from index n_nics + 1, their addresses left
 *           to libvirt
 *   i440fx  NIC i on bus 0, slot 0x10 + i (16 NICs at most: beyond,
 *           libvirt chooses); the devices' slots come after, from
 *           0x10 + n_nics
 *
 * Without NICs from the options the output is what it was before them.
 * libvirt gives the devices without an address (disks, the memory balloon,
 * its USB controller) one after it has reserved the explicit ones: they
 * cannot collide.
 *
 * - A bridged NIC: <interface type='bridge'> with its MAC, <source bridge>,
 *   <vlan><tag> when it has a VLAN, <virtualport type='openvswitch'/> when
 *   the bridge is Open vSwitch's, and <model>. A VLAN tag on a bridge that
 *   is not Open vSwitch's is written all the same: libvirt refuses it when
 *   the domain starts (libvirt 9.0: "unsupported configuration: interface
 *   02:00:0a:00:00:05 - vlan tag not supported for this connection type"),
 *   and the deploy fails with those words, which are the user's to read.
 * - A PCI NIC that is an SR-IOV VF: <interface type='hostdev'> (managed as
 *   the hostdevs are) with its MAC and <vlan><tag>: libvirt programs both
 *   through the PF before the guest starts, so the MAC is right from the
 *   first boot.
 * - Another PCI NIC: a <hostdev> as any device, without its MAC (the guest
 *   sets it from the context).
 * A PCI NIC's device is also among the hostdevs given (it is one of the
 * VM's devices): it is written once, as its NIC, and its companions stay
 * among the hostdevs.
 *
 * The context disk (issue 13), when the options name its pool and volume
 * (both or neither), is a read-only CD-ROM after the VM's disks:
 *
 *   <disk type='volume' device='cdrom'><driver name='qemu' type='raw'/>
 *   <source pool='P' volume='V'/><target dev='D' bus='B'/><readonly/></disk>
 *
 * on q35 a drive of the ICH9 AHCI controller (bus sata, dev sda), on
 * i440fx of the PIIX IDE controller (bus ide, dev hdc, the secondary
 * master); the first of hdc, hdd, hdb, hda, then sda, sdb, ... that no disk
 * of the spec names as its TARGET. It has no guest PCI address (libvirt
 * gives the drive its controller, bus and unit from the name), so the NICs'
 * and devices' addresses are what they are without it. libvirt resolves
 * the volume to its path when the domain starts.
 *
 * A disk, kernel or initrd given as an image must have been resolved to
 * its file first (its source and format, the spec's kernel or initrd, set
 * to what pcipassd found: src/server/pp-images): the XML names the file's
 * path on the front-end, which the hosts see at the same path.
 */
#pragma once

#include <glib.h>

#include "pp-pci-address.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

/* A NIC of the domain as the deployer knows it at deploy (issue 12): the
 * spec's NIC with its lease and, for a PCI NIC, its device. In NIC id
 * order (the spec's nics order). */
typedef struct {
  PpVmNicKind kind;
  const char *mac; /* the lease's ("02:00:0a:00:00:05"); NULL: libvirt's (a NIC without
                    * a network) */
  gint vlan_id;    /* -1: none */
  /* Bridged: */
  const char *bridge;   /* the host bridge */
  const char *model;    /* "virtio" */
  gboolean openvswitch; /* <virtualport type='openvswitch'/>: the VLAN tag of a bridged NIC
                         * needs an Open vSwitch bridge. Without it a VLAN is
                         * written all the same, and libvirt refuses it at
                         * start with its own words (see above) */
  /* PCI: */
  PpPciAddress host; /* the device's host address; it is also in the hostdevs given,
                      * where it is not written again */
  gboolean is_vf;    /* an SR-IOV VF: <interface type='hostdev' managed='yes'> with the
                      * MAC and VLAN, which libvirt programs through the PF */
} PpDomainNic;

typedef struct {
  const char *name;        /* the domain's name: "pcipass-42" */
  const char *uuid;        /* nullable: libvirt makes one */
  const char *domain_type; /* "kvm", "qemu" (no KVM: emulation), "test" (test:///) */
  const char *arch;        /* the guest's: "x86_64", "i686"; NULL: x86_64 */
  const char *emulator;    /* nullable: libvirt's default */
  gboolean managed;        /* managed='yes': libvirt detaches to vfio-pci; 'no': pre-bound */
  /* Nullable: the store's id and the VM's, written in the domain's
   * <metadata> (PP_DOMAIN_XML_METADATA_URI), so that pcipassd knows its
   * own domains from others of the same name. */
  const char *store_id;
  gint64 vm_id;
  /* Nullable: the VM's NICs with their leases (issue 12), in NIC id
   * order; when set they are written in place of the spec's nics. */
  const PpDomainNic *nics;
  guint n_nics;
  /* Nullable: the VM's context disk (issue 13), a CD-ROM from a volume of
   * a storage pool of the host: <disk type='volume' device='cdrom'>. */
  const char *context_pool;   /* the pool's name: "default" */
  const char *context_volume; /* the volume's name: "pcipass-42-context.iso" */
} PpDomainOptions;

/* The namespace of pcipass's element in a domain's <metadata>:
 * <pcipass:vm store="ID" id="N"/>. */
#define PP_DOMAIN_XML_METADATA_URI "https://pcipass.org/xmlns/domain/1"
#define PP_DOMAIN_XML_METADATA_PREFIX "pcipass"

/**
 * pp_domain_xml_build:
 * @hostdevs: (element-type PpPciAddress): the host addresses to pass
 *   through, in the VM's order (requests first, then companions)
 *
 * Returns: (transfer full): the XML.
 */
char *pp_domain_xml_build(const PpVmSpec *spec, const PpDomainOptions *options,
                          const GArray *hostdevs);

/**
 * pp_domain_xml_nic_guest_address:
 * @nic_id: the NIC's index in the spec's nics (both kinds)
 * @ret_address: (out): its guest PCI address (domain 0), as the XML of
 *   pp_domain_xml_build() writes it
 *
 * The guest address of NIC @nic_id on @machine, for showing it without the
 * XML.
 *
 * Returns: %TRUE; %FALSE, @ret_address untouched, when the machine has no
 *   fixed address for that NIC (i440fx from its 17th NIC: libvirt chooses).
 */
gboolean pp_domain_xml_nic_guest_address(PpVmMachine machine, guint nic_id,
                                         PpPciAddress *ret_address);

/**
 * pp_domain_xml_redact_secrets:
 * @xml: XML of pp_domain_xml_build()
 *
 * The XML with the value of every passwd attribute (a console's password)
 * made PP_VM_TEMPLATE_HIDDEN: what pcipassd shows of it.
 *
 * Returns: (transfer full): the XML.
 */
char *pp_domain_xml_redact_secrets(const char *xml);

G_END_DECLS
