/* pp-probe: what pcipass-probe offers and how it prints it. */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-host-facts.h"
#include "pp-pci-filter.h"
#include "pp-template.h"

G_BEGIN_DECLS

/**
 * pp_probe_select:
 * @devices: (element-type PpPciDevice): every device of the host
 *
 * The devices that @filter lets through, in order, each once; a PF whose
 * VFs are enabled is not offered (its VFs are, as the reference does).
 *
 * Returns: (transfer container) (element-type PpPciDevice): borrowed
 *   pointers into @devices.
 */
GPtrArray *pp_probe_select(const PpPciFilter *filter, GPtrArray *devices);

/**
 * pp_probe_build:
 * @offered: (element-type PpPciDevice): the devices to print
 *
 * Returns: (transfer full): the probe's output: the host facts as single
 *   attributes, then one `PCI = [ ... ]` record per device.
 */
PpTemplate *pp_probe_build(const PpHostFacts *facts, GPtrArray *offered);

/**
 * pp_probe_to_json:
 *
 * The same content as JSON: `{"host": {single attributes}, "pci": [records]}`,
 * with the attribute names of the template as keys, in order.
 *
 * Returns: (transfer full): a new reference.
 */
json_t *pp_probe_to_json(const PpTemplate *output);

G_END_DECLS
