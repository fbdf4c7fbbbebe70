/* pp-placement: where a VM goes. Pure: hosts and their devices in, a host
 * and a set of devices out, or, for every host, why not.
 *
 * A host fits a VM when it is enabled and monitored, has the CPU and memory
 * free, and all the VM's PCI requests can be given distinct free devices at
 * once: a real bipartite matching (augmenting paths), not a greedy pass, so
 * `[CLASS=0200]` then `[VENDOR=8086]` fits on a host with 8086:10d3:0200 and
 * 14e4:165f:0200. A device can be given only when every other endpoint of
 * its IOMMU group is in the host's inventory, not gone, and free; those
 * companions go to the same VM. A device the caller marks not ready (on a
 * prebound host, one not on vfio-pci) is not given, nor is any device of
 * its group. Among the device sets that fit, one whose devices share a
 * NUMA node is preferred; among the hosts that fit, the policy chooses
 * (pack: the fullest first; stripe: the emptiest first).
 *
 * A request's pf_policy then picks among the devices it could have on
 * the host that was chosen, on the NUMA node chosen when there is one,
 * requests in their order, each against the VFs that VMs hold there and
 * those the VM's earlier requests have: PACK takes a VF of the PF with the
 * most VFs taken, SPREAD one of the PF with the fewest; ties go to the
 * inventory's order, and a device that is no VF counts as a PF with none
 * taken. NONE leaves the choice as it was. The policy never makes a host
 * fit or not, nor changes the host or the node.
 */
#pragma once

#include <glib.h>

#include "pp-pci-address.h"

G_BEGIN_DECLS

/* One device of a host's inventory, as the store has it. */
typedef struct {
  gint64 id;            /* the store's device id */
  PpPciAddress address; /* shown as 0000:3b:00.1 */
  const char *name;     /* the device name, for explanations */
  guint16 vendor;
  guint16 device;
  guint16 class_code; /* 0x0300: class and subclass */
  gint numa_node;     /* -1: unknown */
  gint iommu_group;   /* -1: none */
  /* Every endpoint of its IOMMU group, itself included (the probe's
   * IOMMU_GROUP_ENDPOINTS); NULL (and 0) when the group is unknown: the
   * device stands alone. */
  const PpPciAddress *group_endpoints;
  guint n_group_endpoints;
  gint64 vm_id; /* 0: free */
  gboolean gone;
  /* Nullable: why it cannot be given although free, as the rest of a
   * sentence that names it: "is on e1000e, not vfio-pci (...)". It and
   * every device whose IOMMU group holds it are not offered. */
  const char *not_ready;
  /* A VF's PF (the probe's PHYSFN), for PpPciRequest.pf_policy: VFs with
   * one pf share it; has_pf FALSE for any other device (issue 12). */
  gboolean has_pf;
  PpPciAddress pf;
  /* Nullable: the names pp_placer_list_types() gives its type (the
   * device's is @name). */
  const char *vendor_name;
  const char *class_name;
} PpPlaceDevice;

typedef enum {
  PP_PLACE_HOST_OK, /* enabled and monitored */
  PP_PLACE_HOST_DISABLED,
  PP_PLACE_HOST_NOT_MONITORED, /* init or error: state_text says which */
} PpPlaceHostState;

typedef struct {
  gint64 id;
  const char *name;
  PpPlaceHostState state;
  const char *state_text;  /* "error: exit status 2: ...", for explanations; nullable */
  gint64 cpu_total;        /* hundredths of a CPU; -1: unknown (then nothing fits) */
  gint64 cpu_used;         /* hundredths, held by the host's VMs */
  gint64 memory_total_kib; /* -1: unknown */
  gint64 memory_used_kib;
  const PpPlaceDevice *devices;
  guint n_devices;
} PpPlaceHost;

/* How a request picks among SR-IOV VFs (PCI's PF_POLICY, issue 12). */
typedef enum {
  PP_PF_POLICY_NONE,   /* no preference */
  PP_PF_POLICY_PACK,   /* VFs of a PF that already gives VFs (on the VM's NUMA node) first */
  PP_PF_POLICY_SPREAD, /* VFs of the PF that gives the fewest first */
} PpPfPolicy;

/* One PCI = [ ... ] request of a VM. */
typedef struct {
  gint vendor;     /* -1: any */
  gint device;     /* -1: any */
  gint class_code; /* -1: any; 16 bits, class and subclass */
  gboolean by_address;
  PpPciAddress address; /* when by_address; domain 0 when the request had none */
  const char *text;     /* how the request reads, for explanations: "VENDOR=10de" */
  PpPfPolicy pf_policy;
  gint nic; /* TYPE = "NIC": the NIC id (index in the spec's nics); else -1 */
} PpPciRequest;

typedef struct {
  gint64 id;  /* 0 for a dry run */
  gint64 cpu; /* hundredths */
  gint64 memory_kib;
  const PpPciRequest *requests;
  guint n_requests;
  gint64 host_id;        /* 0: any host */
  const char *host_name; /* NULL: any host */
  /* Hosts to take only when no other fits (where a deploy of the VM
   * failed); ignored for the host the template asks for. */
  const gint64 *avoid_host_ids;
  guint n_avoid_host_ids;
} PpPlaceVm;

typedef enum {
  PP_PLACE_POLICY_PACK,   /* fill the fullest host first (the default) */
  PP_PLACE_POLICY_STRIPE, /* spread: the emptiest host first */
} PpPlacePolicy;

typedef struct {
  gint64 host_id;
  const char *host_name; /* (transfer none): the placer's copy */
  GArray *device_ids;    /* gint64, one per request, in the requests' order */
  GArray *companion_ids; /* gint64: the other endpoints of their groups, sorted */
  gint numa_node;        /* the node all devices share, or -1 */
} PpPlacement;

typedef struct {
  gint64 host_id;
  char *host_name;
  char *reason; /* "not enough memory: needs 4096 MiB, 2048 MiB free of 8192 MiB" */
} PpPlaceRejection;

void pp_placement_free(PpPlacement *placement);
void pp_place_rejection_free(PpPlaceRejection *rejection);

typedef struct _PpPlacer PpPlacer;

/* Returns: (transfer full): a placer with no hosts. */
PpPlacer *pp_placer_new(PpPlacePolicy policy);
void pp_placer_free(PpPlacer *placer);

/* Adds a host; everything is copied. Hosts keep the order they are added
 * in (ids ascending, as the store lists them) for ties. */
void pp_placer_add_host(PpPlacer *placer, const PpPlaceHost *host);

/**
 * pp_placer_place:
 * @ret_placement: (transfer full) (nullable): where, when a host fits
 * @ret_rejections: (transfer full) (element-type PpPlaceRejection)
 *   (nullable): when no host fits, every host's reason, in the hosts'
 *   order; pass NULL to skip building them (the benchmark)
 *
 * Returns: TRUE when a host fits.
 */
gboolean pp_placer_place(PpPlacer *placer, const PpPlaceVm *vm, PpPlacement **ret_placement,
                         GPtrArray **ret_rejections);

/**
 * pp_placer_set_host:
 *
 * Adds @host, or replaces the host of its id with it (everything copied;
 * it keeps its place in the order added). What VMs hold is @host's word,
 * not what was committed before.
 *
 * Returns: TRUE when the host may now fit a VM that it could not before:
 * it was added, or it became enabled and monitored, or it has more CPU,
 * memory or eligible devices of some type free, or another name. FALSE
 * when it can only fit less (a VM that failed before fails again).
 */
gboolean pp_placer_set_host(PpPlacer *placer, const PpPlaceHost *host);

/* Takes the host of @host_id out: nothing goes there and explanations no
 * longer name it. Returns: FALSE when there was none. */
gboolean pp_placer_remove_host(PpPlacer *placer, gint64 host_id);

/* The hosts in the placer (not removed). */
guint pp_placer_get_n_hosts(PpPlacer *placer);
gboolean pp_placer_has_host(PpPlacer *placer, gint64 host_id);

/* One device type (vendor, device, class) across the placer's hosts:
 * how many there are, how many could be given now, and on how many hosts.
 * Kept up to date as hosts are set and VMs committed, so that listing
 * costs the number of types, not of hosts. */
typedef struct {
  guint16 vendor;
  guint16 device;
  guint16 class_code;
  const char *vendor_name; /* (transfer none): the placer's; "" when no host said */
  const char *device_name;
  const char *class_name;
  guint total; /* devices not gone, on any host */
  guint free;  /* given now: not held, not gone, ready, its IOMMU group's companions free and
                * ready, on an enabled monitored host */
  guint hosts; /* enabled monitored hosts with one free */
} PpPlaceType;

/* Returns: (transfer container) (element-type PpPlaceType): every type
 * with a device on some host, by vendor, device and class; valid until
 * the placer next changes. */
GPtrArray *pp_placer_list_types(PpPlacer *placer);

/* Hosts that keep a VM out for the same reason. */
typedef struct {
  guint n_hosts;
  /* What they share: "no free device matches PCI[0] (CLASS=0302)". */
  char *summary;
  /* (element-type PpPlaceRejection): the first hosts of the group, in the
   * order added, each with its own whole reason. */
  GPtrArray *examples;
} PpPlaceReasonGroup;

void pp_place_reason_group_free(PpPlaceReasonGroup *group);

/**
 * pp_placer_explain:
 * @max_examples: how many hosts each group names (at least 1)
 * @ret_n_hosts: (out) (optional): the hosts looked at
 *
 * Why @vm fits on no host, compactly: the hosts grouped by the first check
 * they fail (the host asked for, the state, CPU, memory, then each request:
 * no device matches, none is free, the free ones cannot be given, then the
 * requests together), in the order each group's first host was added. Its
 * size is bounded by the number of requests, not of hosts. A host that
 * fits is in no group.
 *
 * Returns: (transfer full) (element-type PpPlaceReasonGroup)
 */
GPtrArray *pp_placer_explain(PpPlacer *placer, const PpPlaceVm *vm, guint max_examples,
                             guint *ret_n_hosts);

/* Records @placement for @vm_id in the placer's view (devices held, CPU
 * and memory used), so that the next VM placed in the same pass sees it. */
void pp_placer_commit(PpPlacer *placer, const PpPlaceVm *vm, const PpPlacement *placement);

/* Returns: (transfer full): a one-line summary of @rejections: "3 hosts:
 * node1: disabled; node2: no free device matches PCI[0] (CLASS=0300)
 * ..."; at most @max hosts named, then "and N more". */
char *pp_place_rejections_summary(const GPtrArray *rejections, guint max);

/* Whether the reader of a reason may see VM @vm_id's id (its own VM). */
typedef gboolean (*PpPlaceVmShown)(gint64 vm_id, gpointer data);

/**
 * pp_place_reason_hide_holders:
 * @reason: a rejection's reason, as pp_placer_place() words it
 *
 * The reason as a reader who may see only some VMs reads it: each "held by
 * VM 4" whose VM @shown refuses becomes "held by another VM", so that a
 * user learns that a device is taken, not by whom.
 *
 * Returns: (transfer full)
 */
char *pp_place_reason_hide_holders(const char *reason, PpPlaceVmShown shown, gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPlacer, pp_placer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPlacement, pp_placement_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPlaceRejection, pp_place_rejection_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPlaceReasonGroup, pp_place_reason_group_free)

G_END_DECLS
