/* pp-vm-spec-json: what the domain of a VM needs from its spec, as the
 * store keeps it (the vms.domain_spec column), so that nothing after the
 * create reads the template again. Images are kept as names, with where
 * the template names them: they are found again at each deploy.
 *
 *   {"vcpu": 2, "machine": "q35",
 *    "disks": [{"image": "debian12", "target": "vda", "at": [3, 10]},
 *              {"source": "/var/lib/a.raw", "format": "raw", "target": "vdb"}],
 *    "nics": [{"kind": "bridge", "network": null, "network_id": 0, "network_uname": null,
 *              "ip": null, "vlan_id": -1, "request": -1, "mac": null, "model": "virtio",
 *              "bridge": "br0"},
 *             {"kind": "pci", "network": "passthrough", "network_id": 0,
 *              "network_uname": "oneadmin", "ip": "10.0.0.5", "vlan_id": 100, "request": 0,
 *              "mac": null, "model": null, "bridge": null}],
 *    "os": {"kernel": null, "initrd": null, "kernel_image": "vmlinuz", "kernel_image_at": [5, 8],
 *           "initrd_image": null, "initrd_image_at": [0, 0], "kernel_cmd": "console=ttyS0"},
 *    "graphics": {"type": "vnc", "listen": null, "port": -1, "passwd": null, "keymap": null},
 *    "context": {"format": "nocloud",
 *                "vars": [{"name": "SET_HOSTNAME", "value": "web-$VMID"}]}}
 *
 * "context" only when the template has CONTEXT (issue 13): its vars in
 * template order, values raw (substitutions resolved when the disk is
 * built), without positions; a spec stored before reads as without.
 * NICs in template order (a NIC's id is its index); a NIC stored before
 * issue 12 has only bridge, model and mac, and reads as a bridged NIC
 * (vlan_id and request -1). The template's NAME, CPU, MEMORY, HOST and PCI
 * requests have columns of their own (the scheduler reads them), the
 * requests' PF_POLICY and NIC id too. */
#pragma once

#include <glib.h>

#include "pp-vm-template.h"

G_BEGIN_DECLS

/* Returns: (transfer full): the JSON text of @spec's domain part. */
char *pp_vm_spec_domain_to_json(const PpVmSpec *spec);

/**
 * pp_vm_spec_domain_from_json:
 * @spec: a spec whose domain part is empty (spec_new()'s defaults)
 *
 * Fills @spec's domain part from @json (pp_vm_spec_domain_to_json()).
 * Returns: FALSE with PP_VM_TEMPLATE_ERROR_INVALID saying what does not
 *   read (a store edited by hand, or a bug).
 */
gboolean pp_vm_spec_domain_from_json(PpVmSpec *spec, const char *json, GError **error);

G_END_DECLS
