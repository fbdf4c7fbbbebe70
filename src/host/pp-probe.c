#define G_LOG_DOMAIN "pp-probe"

#include "config.h"

#include <string.h>

#include "pp-autoptr.h"
#include "pp-output.h"
#include "pp-probe.h"
#include "pp-template-json.h"

GPtrArray *
pp_probe_select(const PpPciFilter *filter, GPtrArray *devices)
{
  g_autoptr(GPtrArray) offered = NULL;

  g_return_val_if_fail(filter != NULL && devices != NULL, NULL);

  offered = g_ptr_array_new();
  for (guint i = 0; i < devices->len; i++) {
    PpPciDevice *dev = g_ptr_array_index(devices, i);

    if (dev->sriov == PP_SRIOV_PF && dev->sriov_numvfs > 0)
      continue;
    if (pp_pci_filter_match(filter, dev))
      g_ptr_array_add(offered, dev);
  }
  return g_steal_pointer(&offered);
}

PpTemplate *
pp_probe_build(const PpHostFacts *facts, GPtrArray *offered)
{
  g_autoptr(PpTemplate) output = NULL;

  g_return_val_if_fail(facts != NULL && offered != NULL, NULL);

  output = pp_template_new();
  pp_host_facts_add_to(facts, output);
  for (guint i = 0; i < offered->len; i++)
    pp_pci_device_add_record(g_ptr_array_index(offered, i), output);
  return g_steal_pointer(&output);
}

json_t *
pp_probe_to_json(const PpTemplate *output)
{
  g_autoptr(json_t) host = NULL;
  g_autoptr(json_t) pci = NULL;

  g_return_val_if_fail(output != NULL, NULL);

  host = json_object();
  pci = json_array();
  for (guint i = 0; i < pp_template_get_n_attributes(output); i++) {
    const PpAttribute *attr = pp_template_get_attribute(output, i);

    if (pp_attribute_is_vector(attr)) {
      if (!pp_json_append(pci, pp_attribute_vector_to_json(attr)))
        return NULL;
    } else if (json_object_set_new(host, pp_attribute_get_name(attr),
                                   pp_json_text(pp_attribute_get_value(attr))) != 0) {
      return NULL;
    }
  }
  return json_pack("{s:o, s:o}", "host", g_steal_pointer(&host), "pci", g_steal_pointer(&pci));
}
