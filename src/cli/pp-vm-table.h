/* pp-vm-table: the text that `pcipass vm` prints, from the VM and PLACE
 * objects of pcipassd's API (src/server/pp-api.h). Pure: no I/O, the time
 * of day is a parameter.
 *
 * Cells are made safe for a terminal as in pp-host-table.h (controls
 * shown as '?', tabs and newlines as a space); fields that are missing or
 * of the wrong type show as "-". Tables have columns as wide as their
 * widest cell, one space between, no trailing spaces.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-host-table.h"

G_BEGIN_DECLS

/**
 * pp_vm_table_age:
 * @when: (nullable): unix seconds (a JSON integer), or JSON null / NULL
 * @now: the current unix time
 *
 * The age of something made at @when: "12s" under a minute, "3m" under an
 * hour, "5h" under a day, then "2d"; "-" when not known. A time ahead of
 * @now is "0s".
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_age(const json_t *when, gint64 now);

/**
 * pp_vm_table_cpu:
 * @cpu: (nullable): a JSON number, the CPUs reserved (0.5)
 *
 * At most two decimals, no trailing zeros: "0.5", "1", "1.25"; "-" when
 * not a number.
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_cpu(const json_t *cpu);

/**
 * pp_vm_table_list:
 * @vms: an array of VM
 *
 * Columns ID (right-aligned), NAME, OWNER, STATE, HOST (its name, "-"
 * when none), CPU (pp_vm_table_cpu()), MEMORY ("4G" for a whole number of
 * GiB, else "1536M"), PCI (how many devices the VM holds, right-aligned),
 * AGE (pp_vm_table_age() of "created").
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_list(const json_t *vms, gint64 now);

/* One page of pp_vm_table_list() (pp_host_table_render_stream()); PCI
 * reads a light row's "devices_held". @more: more pages follow (the first
 * page then leaves room: ID 7, NAME 20, OWNER 12, STATE 11, HOST 16, CPU
 * 4, MEMORY 6). Returns: (transfer full) */
char *pp_vm_table_list_stream(const json_t *vms, gint64 now, gboolean more, PpTableStream *stream);

/**
 * pp_vm_table_devices:
 * @devices: the "devices" array of a VM or of a PLACE
 *
 * "PCI DEVICES\n\n", then the table: REQ (the index of the PCI request the
 * device answers, right-aligned; "-" for a companion of its IOMMU group),
 * ADDR (the short address, else the address), TYPE, NAME (cut to 50
 * characters), then, when @topology, NUMA and IOMMU (right-aligned); or
 * "  none" when there are no devices.
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_devices(const json_t *devices, gboolean topology);

/**
 * pp_vm_table_nics:
 * @nics: the "nics" array of a VM, in template order
 *
 * "NICS\n\n", then the table: ID (the NIC's id, right-aligned), KIND
 * ("bridge" or "pci"), NETWORK (its name, else its id), MAC, IP, IPV6 (the
 * global, ULA and static addresses it has, blank-separated), VLAN, MODEL
 * (a bridged NIC's), HOST (a bridged NIC's bridge, a PCI NIC's device on
 * the host) and GUEST (the PCI address in the guest); "-" where none.
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_nics(const json_t *nics);

/**
 * pp_vm_table_show:
 * @vm: a VM
 *
 * The facts, one "LABEL          : value" line each (ID, NAME, OWNER,
 * STATE, REASON when set, HOST, CPU, VCPU, MEMORY in MiB, DOMAIN, GRAPHICS
 * when it has a console ("vnc, listen 0.0.0.0, port 5900, password set":
 * never the password), CREATED as a time ago); a blank line and "PCI REQUESTS", a blank line, one
 * "  INDEX TEXT" line per request (INDEX right-aligned to 3) or "  none";
 * a blank line and pp_vm_table_devices() with NUMA and IOMMU; for a VM
 * with a non-empty "nics", a blank line and pp_vm_table_nics(); and, for a
 * VM with an "explanation", a blank line, "WHY PENDING", a blank line and
 * pp_vm_table_explanation(); DEPLOY TRIES after CREATED when a deploy
 * failed since the VM was created or retried; and, for a VM with a
 * "history", a blank line, "HISTORY", a blank line and
 * pp_vm_table_history().
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_show(const json_t *vm, gint64 now);

/**
 * pp_vm_table_explanation:
 * @explanation: an array of {"host_id", "host", "reason"}
 *
 * One "  HOST: REASON" line per host, in order.
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_explanation(const json_t *explanation);

/**
 * pp_vm_table_place:
 * @place: a PLACE
 *
 * When it fits: "fits on HOST (NUMA node N)" (without the parenthesis
 * when the node is null), a blank line, pp_vm_table_devices() without
 * NUMA and IOMMU. Otherwise "no host fits:" and
 * pp_vm_table_explanation(), or "no host fits: no host to try" when the
 * explanation is empty.
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_place(const json_t *place);

/**
 * pp_vm_table_history:
 * @history: the "history" array of a VM: {"at", "from", "to", "reason",
 *   "host"}, oldest first
 *
 * Columns WHEN (a time ago), CHANGE ("running > poweroff", or "pending
 * (created)" for the first), HOST and REASON ("-" when none).
 *
 * Returns: (transfer full)
 */
char *pp_vm_table_history(const json_t *history, gint64 now);

G_END_DECLS
