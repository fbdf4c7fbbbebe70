/* pp-vm-context: what a VM's context disk holds (issue 13), from the
 * store: its spec's CONTEXT and NICs, its leases, their networks, its
 * devices (a PCI NIC's hardware MAC) and its owner. The files are
 * pp-context's (pp_context_disk_build()); the deployer writes them to the
 * ISO, GET /v1/vms/ID/context shows them. */
#pragma once

#include <glib.h>

#include "pp-context.h"
#include "pp-store.h"

G_BEGIN_DECLS

/**
 * pp_vm_context_disk:
 * @vm: a VM of @store
 *
 * Builds @vm's context disk in the format of its CONTEXT (one without
 * one). It reads the VM's own rows only (its spec, leases and devices, the
 * networks its NICs are on), never the cluster's. A NIC without a lease
 * says nothing; a PCI NIC that is no VF says VLAN_ID (a VF's VLAN is its
 * PF's, a bridged NIC's its bridge's) and matches, in NoCloud, by the
 * hardware MAC the probe reported for its device.
 *
 * Returns: (transfer full): the disk, or %NULL with the store's error, or
 *   PP_CONTEXT_ERROR_INVALID naming the CONTEXT key whose substitution
 *   cannot be resolved yet ("CONTEXT: IP: '$NIC[IP]': NIC 0 has no lease
 *   yet ...") or the variable that cannot be written.
 */
PpContextDisk *pp_vm_context_disk(PpStore *store, const PpVm *vm, GError **error);

G_END_DECLS
