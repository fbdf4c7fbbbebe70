/* pp-api-image: the handler of /v1/images. */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-domain-xml.h"
#include "pp-host-spec.h"
#include "pp-images.h"
#include "pp-output.h"
#include "pp-probe-run.h"
#include "pp-vm-template.h"

/* Images. */

static json_t *
image_to_json(const PpImage *image)
{
  return json_pack("{s:o,s:s,s:o,s:o,s:o,s:I,s:I}", "name", pp_json_text(image->name), "kind",
                   pp_image_format_to_string(image->format), "directory", pp_json_text(image->dir),
                   "file", pp_json_text(image->file), "path", pp_json_text(image->path), "size",
                   (json_int_t)image->size, "virtual_size", (json_int_t)image->virtual_size);
}

json_t *
api_image_list(PpApiCall *call, guint *ret_status, GError **error)
{
  gboolean truncated = FALSE;
  g_autoptr(GPtrArray) images = pp_images_list(call->ctx->images, &truncated, error);
  g_autoptr(json_t) array = NULL;

  if (images == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < images->len; i++) {
    if (!pp_json_append(array, image_to_json(g_ptr_array_index(images, i))))
      return api_built(NULL, error);
  }
  return api_built(json_pack("{s:O,s:o,s:b}", "images", array, "directories",
                             api_json_strv(pp_images_get_dirs(call->ctx->images)), "truncated",
                             truncated),
                   error);
}
