/* pp-test-iso: real ISO 9660 images for the tests of pcipass-context,
 * made with libisofs (pp-test-iso.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* struct burn_source without libburn: libisofs.h has a copy. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "pp-test-iso.h"

/* A real ISO 9660 image of volume @label holding context.sh, made with
 * libisofs as pcipassd makes the context disk. */
void
pp_test_write_iso(const char *path, const char *label, const char *context)
{
  IsoImage *image = NULL;
  IsoStream *stream = NULL;
  IsoWriteOpts *opts = NULL;
  struct burn_source *burn = NULL;
  unsigned char *data = (unsigned char *)strdup(context);
  unsigned char block[2048];
  g_autoptr(GString) out = g_string_new(NULL);
  g_autoptr(GError) error = NULL;
  int n;

  g_assert_cmpint(iso_init(), ==, 1);
  g_assert_cmpint(iso_image_new(label, &image), ==, 1);
  /* The stream takes data (freed with free()), the file the stream. */
  g_assert_cmpint(iso_memory_stream_new(data, strlen(context), &stream), ==, 1);
  g_assert_cmpint(iso_tree_add_new_file(iso_image_get_root(image), "context.sh", stream, NULL), ==,
                  1);
  g_assert_cmpint(iso_write_opts_new(&opts, 0), ==, 1);
  iso_write_opts_set_rockridge(opts, 1);
  g_assert_cmpint(iso_image_create_burn_source(image, opts, &burn), ==, 1);
  while ((n = burn->read_xt(burn, block, sizeof(block))) == (int)sizeof(block))
    g_string_append_len(out, (const char *)block, sizeof(block));
  burn->free_data(burn);
  free(burn);
  iso_write_opts_free(opts);
  iso_image_unref(image);
  iso_finish();
  g_file_set_contents(path, out->str, (gssize)out->len, &error);
  g_assert_no_error(error);
}
