/* pp-diff: unified diffs of two texts, for `pcipass-vfio config`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * pp_diff_unified:
 * @old_text: (nullable): the file as it is; %NULL when it does not exist
 * @new_text: the file as it would be
 * @path: the name shown in the headers
 *
 * A unified diff with three lines of context, as `diff -u` prints it
 * (`--- path` / `+++ path` headers, `@@ -a,b +c,d @@` hunks). A missing last
 * newline is marked `\ No newline at end of file`.
 *
 * Returns: (transfer full): the diff, "" when the texts are equal.
 */
char *pp_diff_unified(const char *old_text, const char *new_text, const char *path);

G_END_DECLS
