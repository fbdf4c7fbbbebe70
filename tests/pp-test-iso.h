/* pp-test-iso: real ISO 9660 images for the tests of pcipass-context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes to @path the ISO 9660 image that pcipassd makes
 * (pp_context_iso_build()) of volume id @label holding context.sh with
 * @context. */
void pp_test_write_iso(const char *path, const char *label, const char *context);

G_END_DECLS
