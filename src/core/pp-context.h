/* pp-context: the files of a VM's context disk (issue 13): context.sh in
 * OpenNebula's variables, so that images with OpenNebula's own context
 * packages configure themselves, and pcipass-context reads it as data; or
 * cloud-init's NoCloud files (pp_context_disk_build()). Pure: no I/O.
 *
 * Each NIC on a network gives, from its lease and its network (a variable
 * is left out when there is nothing to say):
 *
 *   ETH<n>_MAC, _IP, _MASK, _GATEWAY, _DNS, _SEARCH_DOMAIN, _MTU,
 *   _VLAN_ID, _IP6, _IP6_PREFIX_LENGTH, _IP6_ULA, _IP6_GATEWAY, _NETWORK
 *
 * for a bridged NIC, <n> its NIC id (template order over both kinds, as
 * the guide numbers them); and the same with PCI<n>_ for a PCI NIC, <n>
 * the index of its PCI vector (OpenNebula's PCI_ID), plus PCI<n>_ADDRESS,
 * its guest PCI address. _IP6 is the static address, else the global one
 * (EUI-64 of the MAC in a /64: _IP6_PREFIX_LENGTH 64). _MASK is the
 * network's (NETWORK_MASK); without one there is none, and the agent takes
 * /24 as the guide says.
 *
 * Every line is NAME='value': a value is single-quoted, a quote in it
 * written '\'' , so that no value can end its assignment; a value with a
 * byte below 0x20 (a newline, NUL cannot be in a C string) is refused
 * rather than written. The variables come in NIC order, each NIC's in the
 * order above.
 */
#pragma once

#include <glib.h>

#include "pp-network.h"
#include "pp-pci-address.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

#define PP_CONTEXT_ERROR (pp_context_error_quark())
GQuark pp_context_error_quark(void);

typedef enum {
  PP_CONTEXT_ERROR_INVALID, /* a value that cannot be written */
} PpContextError;

/* One NIC as its context says it. */
typedef struct {
  PpVmNicKind kind;
  guint nic_id;                 /* bridged: ETH<nic_id> */
  guint pci_index;              /* PCI: PCI<pci_index> */
  const PpNetworkLease *lease;  /* nullable: a NIC without a network says nothing */
  const PpNetworkSpec *network; /* nullable: its attributes */
  const char *network_name;     /* nullable */
  gint vlan_id;                 /* -1: none */
  guint ip6_prefix_length;      /* of a static IPv6 (its range's); 0: 64 */
  gboolean has_guest_address;   /* PCI: PCI<n>_ADDRESS */
  PpPciAddress guest_address;
  /* Added for the whole disk (issue 13, ctxtmpl): */
  gint64 network_id;        /* its network's id, for $NIC[..., NETWORK_ID = n]; 0: none */
  const char *hardware_mac; /* nullable: the MAC the guest first sees on a PCI NIC that is
                             * no VF (the probe's permanent MAC), which NoCloud matches;
                             * NULL: the lease's (bridged, VF: libvirt sets it) */
} PpContextNic;

/**
 * pp_context_quote:
 *
 * Appends @value to @out single-quoted for a POSIX shell, a quote written
 * '\'' : 'it'\''s'.
 *
 * Returns: FALSE, @out unchanged, when @value holds a byte below 0x20 or
 *   0x7f.
 */
gboolean pp_context_quote(GString *out, const char *value);

/**
 * pp_context_append_nics:
 *
 * Appends the NICs' variables to @out, one NAME='value' line each.
 *
 * Returns: FALSE with INVALID naming the variable ("ETH0_SEARCH_DOMAIN:
 *   a value with a control character cannot be written"), @out unchanged.
 */
gboolean pp_context_append_nics(GString *out, const PpContextNic *nics, guint n_nics,
                                GError **error);

/* A file of the context disk (issue 13): its name at the disk's root and
 * its bytes. */
typedef struct {
  char *name; /* "context.sh", "meta-data", "user-data", "network-config" */
  GBytes *data;
} PpContextFile;

/* What a VM's context disk holds: the files in the order they are shown,
 * under the volume label of its format. */
typedef struct {
  PpVmContextFormat format;
  const char *label; /* "CONTEXT" (one), "cidata" (nocloud): static */
  GPtrArray *files;  /* PpContextFile */
} PpContextDisk;

/* Returns: (transfer full): an empty disk of @format, its label set. */
PpContextDisk *pp_context_disk_new(PpVmContextFormat format);
void pp_context_disk_free(PpContextDisk *disk);
/* Adds a copy of @data (@len bytes) as file @name. */
void pp_context_disk_add(PpContextDisk *disk, const char *name, const void *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpContextDisk, pp_context_disk_free)

/* What a VM's context disk is built from: the VM, its CONTEXT and every
 * NIC it has. */
typedef struct {
  gint64 vm_id;               /* $VMID; NoCloud's instance-id pcipass-<vm_id> */
  const char *vm_name;        /* $NAME; NoCloud's hostname without SET_HOSTNAME */
  const char *uname;          /* $UNAME: the owner's name */
  gint64 uid;                 /* $UID: the owner's id */
  const PpVmContext *context; /* nullable: no CONTEXT (format one, no keys) */
  const PpContextNic *nics;   /* every NIC, by NIC id (nics[i].nic_id == i); a NIC
                               * without a lease (yet) has lease NULL */
  guint n_nics;
} PpContextVm;

/**
 * pp_context_resolve:
 * @var: a CONTEXT key of @vm
 *
 * @var's value with its substitutions (pp_vm_context_value_split())
 * resolved against @vm: $NIC[...] of a NIC without a lease, of a NIC id
 * or a network the VM does not have, is an error naming the key; an
 * attribute its network does not set reads "" (OpenNebula's).
 *
 * Returns: (transfer full): the value, or %NULL with INVALID: "CONTEXT:
 *   IP: '$NIC[IP, NIC_ID = 1]': NIC 1 has no lease yet (it gets one when
 *   the VM is placed)".
 */
char *pp_context_resolve(const PpContextVm *vm, const PpVmContextVar *var, GError **error);

/**
 * pp_context_disk_build:
 *
 * The files of @vm's context disk, in the format of its CONTEXT:
 *
 * one (label CONTEXT): context.sh, "# Context variables generated by
 * pcipass", the NICs' variables (pp_context_append_nics()), then the
 * CONTEXT keys in template order, resolved, quoted alike.
 *
 * nocloud (label cidata), every string of YAML double-quoted with JSON's
 * escapes (a value can hold no key of its own):
 *   meta-data       instance-id "pcipass-<vm_id>", local-hostname
 *                   (SET_HOSTNAME, else the VM's name); public-keys
 *                   (SSH_PUBLIC_KEY) when user-data is the user's
 *   user-data       USER_DATA as it is, USER_DATA_BASE64 decoded, else
 *                   "#cloud-config" with hostname and ssh_authorized_keys
 *   network-config  version 2: under ethernets, each NIC with a lease as
 *                   eth<nic id>, matched by macaddress (the hardware MAC
 *                   of a PCI NIC that is no VF, else the lease's), with
 *                   set-name, macaddress (the lease's), mtu, addresses
 *                   (IPv4 with the network's prefix, /24 without one as
 *                   the guide says; IPv6 static with its range's prefix,
 *                   global and ULA /64), routes (default via GATEWAY, ::/0
 *                   via GATEWAY6), nameservers (DNS, SEARCH_DOMAIN); a NIC
 *                   with a VLAN_ID has its addresses on vlans' eth<n>.<vlan>
 *                   (id, link) instead
 *
 * Returns: (transfer full): the disk, or %NULL with INVALID naming the
 *   key or the variable that cannot be written.
 */
PpContextDisk *pp_context_disk_build(const PpContextVm *vm, GError **error);

G_END_DECLS
