#define G_LOG_DOMAIN "pp-template-json"

#include "config.h"

#include "pp-autoptr.h"
#include "pp-output.h"
#include "pp-template-json.h"

json_t *
pp_attribute_vector_to_json(const PpAttribute *attr)
{
  g_autoptr(json_t) object = NULL;

  g_return_val_if_fail(attr != NULL && pp_attribute_is_vector(attr), NULL);

  object = json_object();
  for (guint j = 0; j < pp_attribute_vector_get_n_pairs(attr); j++) {
    const char *key, *text;

    pp_attribute_vector_get_pair(attr, j, &key, &text);
    if (json_object_set_new(object, key, pp_json_text(text)) != 0)
      return NULL;
  }
  return g_steal_pointer(&object);
}

json_t *
pp_template_to_json(const PpTemplate *tmpl)
{
  g_autoptr(json_t) array = NULL;

  g_return_val_if_fail(tmpl != NULL, NULL);

  array = json_array();
  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);
    json_t *value;

    if (pp_attribute_is_vector(attr))
      value = pp_attribute_vector_to_json(attr);
    else
      value = pp_json_text(pp_attribute_get_value(attr));
    if (!pp_json_append(
            array, json_pack("{s:s, s:o}", "name", pp_attribute_get_name(attr), "value", value)))
      return NULL;
  }
  return g_steal_pointer(&array);
}
