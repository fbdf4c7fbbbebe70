/* pp-file: reading whole input files with a bound on their size. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * pp_file_read:
 * @path: the file, or `-` for standard input
 * @max: the most bytes accepted
 * @ret_contents: (transfer full): the bytes, NUL-terminated
 * @ret_len: their number, without the NUL
 *
 * Returns: %TRUE on success; %FALSE with G_FILE_ERROR (the errno's code) or
 *   G_FILE_ERROR_FAILED for a file over @max, the message naming @path.
 */
gboolean pp_file_read(const char *path, gsize max, char **ret_contents, gsize *ret_len,
                      GError **error);

G_END_DECLS
