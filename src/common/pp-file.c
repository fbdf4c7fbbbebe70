#define G_LOG_DOMAIN "pp-file"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "pp-fd.h"
#include "pp-file.h"

gboolean
pp_file_read(const char *path, gsize max, char **ret_contents, gsize *ret_len, GError **error)
{
  pp_autofd int owned = -1;
  g_autoptr(GString) data = NULL;
  gboolean is_stdin;
  int fd;

  g_return_val_if_fail(path != NULL && ret_contents != NULL && ret_len != NULL, FALSE);

  is_stdin = strcmp(path, "-") == 0;
  if (is_stdin) {
    fd = STDIN_FILENO;
  } else {
    owned = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (owned < 0) {
      int err = errno;

      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot read '%s': %s", path,
                  g_strerror(err));
      return FALSE;
    }
    fd = owned;
  }

  data = g_string_sized_new(MIN(max, 64 * 1024) + 1);
  for (;;) {
    char buf[16384];
    gssize n = read(fd, buf, sizeof(buf));

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;

      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "cannot read '%s': %s",
                  is_stdin ? "standard input" : path,
                  err == EISDIR ? "it is a folder" : g_strerror(err));
      return FALSE;
    }
    if (n == 0)
      break;
    if (data->len + n > max) {
      g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                  "'%s' is larger than the limit of %" G_GSIZE_FORMAT " bytes",
                  is_stdin ? "standard input" : path, max);
      return FALSE;
    }
    g_string_append_len(data, buf, n);
  }
  *ret_len = data->len;
  *ret_contents = g_string_free(g_steal_pointer(&data), FALSE);
  return TRUE;
}
