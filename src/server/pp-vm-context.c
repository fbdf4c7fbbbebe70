/* pp-vm-context: a VM's context disk from the store (pp-vm-context.h). */
#define G_LOG_DOMAIN "pp-vm-context"

#include "config.h"

#include <string.h>

#include "pp-domain-xml.h"
#include "pp-network.h"
#include "pp-store-network.h"
#include "pp-vm-context.h"

/* The network @id, read once per disk: NICs on one network share it. */
static PpNetwork *
network_of(PpStore *store, GPtrArray *networks, gint64 id, GError **error)
{
  PpNetwork *network;

  for (guint i = 0; i < networks->len; i++) {
    network = g_ptr_array_index(networks, i);
    if (network->id == id)
      return network;
  }
  network = pp_store_network_get(store, id, error);
  if (network != NULL)
    g_ptr_array_add(networks, network);
  return network;
}

PpContextDisk *
pp_vm_context_disk(PpStore *store, const PpVm *vm, GError **error)
{
  g_autoptr(PpVmSpec) spec = NULL;
  g_autoptr(GArray) leases = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) networks = g_ptr_array_new_with_free_func((GDestroyNotify)pp_network_free);
  g_autoptr(GArray) nics = g_array_new(FALSE, TRUE, sizeof(PpContextNic));
  PpContextVm context_vm;

  g_return_val_if_fail(store != NULL && vm != NULL, NULL);

  spec = pp_store_vm_get_spec(store, vm->id, error);
  if (spec == NULL)
    return NULL;
  leases = pp_store_vm_list_leases(store, vm->id, error);
  devices = leases != NULL ? pp_store_vm_list_devices(store, vm->id, error) : NULL;
  if (devices == NULL)
    return NULL;
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *vm_nic = g_ptr_array_index(spec->nics, i);
    const PpStoreDevice *device = NULL;
    const PpStoreLease *lease = NULL;
    PpNetwork *network = NULL;
    PpContextNic nic = { 0 };
    gboolean is_vf;

    nic.kind = vm_nic->kind;
    nic.nic_id = i;
    nic.pci_index = vm_nic->request >= 0 ? (guint)vm_nic->request : 0;
    nic.vlan_id = -1;
    nic.network_id = vm_nic->network_id;
    for (guint k = 0; k < leases->len; k++)
      if (g_array_index(leases, PpStoreLease, k).nic_id == (gint)i)
        lease = &g_array_index(leases, PpStoreLease, k);
    /* The network even before a lease: $NETWORK[...] reads it. */
    if (vm_nic->network_id > 0) {
      network = network_of(store, networks, vm_nic->network_id, error);
      if (network == NULL)
        return NULL;
      nic.network = network->spec;
      nic.network_name = network->name;
    }
    if (lease == NULL) {
      /* No network, or not placed yet: its variables say nothing. */
      g_array_append_val(nics, nic);
      continue;
    }
    nic.lease = &lease->lease;
    if (network != NULL && lease->ar_id < network->spec->ars->len)
      nic.ip6_prefix_length =
          g_array_index(network->spec->ars, PpNetworkAr, lease->ar_id).prefix_length;
    for (guint k = 0; nic.kind == PP_VM_NIC_PCI && k < devices->len; k++) {
      const PpStoreDevice *dev = g_ptr_array_index(devices, k);

      if (dev->vm_slot == vm_nic->request)
        device = dev;
    }
    is_vf = device != NULL && pp_probe_device_is_vf(&device->pci);
    /* A VF's VLAN is its PF's (libvirt), a bridged NIC's its bridge's:
     * only a PCI NIC that is no VF says VLAN_ID, for the guest to tag;
     * and only its MAC is the device's own until the guest sets it. */
    if (nic.kind == PP_VM_NIC_PCI && !is_vf && network != NULL)
      nic.vlan_id = vm_nic->vlan_id >= 0 ? vm_nic->vlan_id : network->spec->vlan_id;
    if (nic.kind == PP_VM_NIC_PCI && !is_vf && device != NULL)
      nic.hardware_mac = device->pci.perm_mac;
    nic.has_guest_address = nic.kind == PP_VM_NIC_PCI &&
                            pp_domain_xml_nic_guest_address(spec->machine, i, &nic.guest_address);
    g_array_append_val(nics, nic);
  }
  context_vm = (PpContextVm){
    .vm_id = vm->id,
    .vm_name = vm->name,
    .uname = vm->owner_name,
    .uid = vm->owner_id,
    .context = &spec->context,
    .nics = (const PpContextNic *)(void *)nics->data,
    .n_nics = nics->len,
  };
  return pp_context_disk_build(&context_vm, error);
}
