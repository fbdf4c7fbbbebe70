/* pp-image-table: the text that `pcipass image list` prints, from the
 * answer of GET /v1/images (src/server/pp-api.h). Pure: no I/O. Cells are
 * made safe as pp-host-table makes them. */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* A size in bytes (a JSON integer) as "2.0 GiB", "512.0 MiB", "4.0 KiB"
 * or "900 B"; "-" for anything else. Returns: (transfer full) */
char *pp_image_table_size(const json_t *bytes);

/**
 * pp_image_table_list:
 * @images: the "images" array of GET /v1/images (IMAGE objects)
 *
 * Columns NAME, KIND, SIZE (right-aligned; the file's: a qcow2's disk may
 * be larger), DIRECTORY, each as wide as its widest cell, in the order
 * given.
 *
 * Returns: (transfer full): the text, each line ending in a newline.
 */
char *pp_image_table_list(const json_t *images);

G_END_DECLS
