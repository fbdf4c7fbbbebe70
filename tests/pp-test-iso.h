/* pp-test-iso: real ISO 9660 images for the tests of pcipass-context. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes to @path an ISO 9660 image (Rock Ridge) of volume id @label
 * holding context.sh with @context, made with libisofs as pcipassd makes
 * the context disk. */
void pp_test_write_iso(const char *path, const char *label, const char *context);

G_END_DECLS
