/* pp-fd: a cleanup for file descriptors (Debian 12's GLib 2.74 predates
 * g_autofd). Declare `pp_autofd int fd = -1;`. */
#pragma once

#include <errno.h>
#include <unistd.h>

#include <glib.h>

static inline void
pp_close_fdp(int *fd)
{
  if (*fd >= 0) {
    int saved = errno;

    close(*fd);
    errno = saved;
    *fd = -1;
  }
}

#define pp_autofd __attribute__((cleanup(pp_close_fdp)))
