/* pp-template-json: a template as JSON, for --json output and the API. */
#pragma once

#include <jansson.h>

#include "pp-template.h"

G_BEGIN_DECLS

/**
 * pp_template_to_json:
 *
 * The attributes as an array, in order: `{"name": "CPU", "value": "1"}`
 * for a single attribute, `{"name": "PCI", "value": {"VENDOR": "10de"}}`
 * for a vector, its keys in order.
 *
 * Returns: (transfer full): a new reference.
 */
json_t *pp_template_to_json(const PpTemplate *tmpl);

/* Returns: (transfer full): a vector's pairs as an object, keys in order. */
json_t *pp_attribute_vector_to_json(const PpAttribute *attr);

G_END_DECLS
