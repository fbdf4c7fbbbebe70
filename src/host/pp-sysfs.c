#define G_LOG_DOMAIN "pp-sysfs"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

#include "pp-autoptr.h"
#include "pp-fd.h"
#include "pp-sysfs.h"

struct _PpSysfs {
  char *root;
  int root_fd;
  gboolean use_openat2;
};

static int
sys_openat2(int dirfd, const char *path, int flags)
{
  struct open_how how = {
    .flags = (guint64)flags,
    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
  };

  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Opens @path below the root. Returns the fd or -errno. */
static int
open_in_root(PpSysfs *sysfs, const char *path, int flags)
{
  int fd;

  flags |= O_CLOEXEC;
  if (!sysfs->use_openat2) {
    fd = openat(sysfs->root_fd, path, flags);
    return fd < 0 ? -errno : fd;
  }
  /* The kernel answers EAGAIN when a rename anywhere raced with resolving
   * a ".." (sysfs links are full of them): openat2(2) says to retry. */
  for (guint attempt = 0;; attempt++) {
    fd = sys_openat2(sysfs->root_fd, path, flags);
    if (fd >= 0 || errno != EAGAIN || attempt == 64)
      return fd < 0 ? -errno : fd;
  }
}

/* The folder that holds @path's last component, for the *at() calls that
 * must not follow it: the root itself for a plain name (nothing to close,
 * *@ret_owned stays -1), else a new fd in *@ret_owned. Returns the fd or
 * -errno; *@ret_base points into @path. */
static int
parent_fd(PpSysfs *sysfs, const char *path, const char **ret_base, int *ret_owned)
{
  const char *slash = strrchr(path, '/');
  g_autofree char *dir = NULL;

  if (slash == NULL) {
    *ret_base = path;
    return sysfs->root_fd;
  }
  *ret_base = slash + 1;
  dir = g_strndup(path, slash - path);
  *ret_owned = open_in_root(sysfs, dir[0] != '\0' ? dir : ".", O_PATH | O_DIRECTORY);
  return *ret_owned;
}

static gboolean
set_errno_error(GError **error, int err, const PpSysfs *sysfs, const char *path, const char *what)
{
  g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot %s '%s/%s': %s", what,
              sysfs->root, path, g_strerror(err));
  return FALSE;
}

PpSysfs *
pp_sysfs_open(const char *root, GError **error)
{
  g_autofree PpSysfs *sysfs = NULL;
  pp_autofd int fd = -1;
  pp_autofd int probe = -1;

  g_return_val_if_fail(root != NULL, NULL);

  fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;

    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot open '%s': %s", root,
                err == ENOTDIR ? "not a folder" : g_strerror(err));
    return NULL;
  }

  sysfs = g_new0(PpSysfs, 1);
  sysfs->root = g_strdup(root);
  /* Seccomp profiles of some containers refuse openat2: fall back. */
  probe = sys_openat2(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  sysfs->use_openat2 = probe >= 0 || (errno != ENOSYS && errno != EPERM);
  sysfs->root_fd = fd;
  fd = -1;
  return g_steal_pointer(&sysfs);
}

PpSysfs *
pp_sysfs_open_at(PpSysfs *parent, const char *path, GError **error)
{
  PpSysfs *sysfs;
  int fd;

  g_return_val_if_fail(parent != NULL && path != NULL, NULL);

  fd = open_in_root(parent, path, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    set_errno_error(error, -fd, parent, path, "open");
    return NULL;
  }
  sysfs = g_new0(PpSysfs, 1);
  sysfs->root = g_build_filename(parent->root, path, NULL);
  sysfs->root_fd = fd;
  sysfs->use_openat2 = parent->use_openat2;
  return sysfs;
}

void
pp_sysfs_free(PpSysfs *sysfs)
{
  if (sysfs == NULL)
    return;
  if (sysfs->root_fd >= 0)
    close(sysfs->root_fd);
  g_free(sysfs->root);
  g_free(sysfs);
}

const char *
pp_sysfs_get_root(const PpSysfs *sysfs)
{
  g_return_val_if_fail(sysfs != NULL, NULL);
  return sysfs->root;
}

gboolean
pp_sysfs_is_confined(const PpSysfs *sysfs)
{
  g_return_val_if_fail(sysfs != NULL, FALSE);
  return sysfs->use_openat2;
}

typedef enum {
  READ_TEXT = 1 << 0, /* strip trailing newlines and add a NUL */
} ReadFlags;

/* One read() of at most @size bytes. Text gets a NUL (so @size - 1 bytes of
 * it fit), and a text file larger than that is -EFBIG; binary files are read
 * for their first @size bytes. */
static gssize
read_internal(PpSysfs *sysfs, const char *path, char *buf, gsize size, ReadFlags flags)
{
  pp_autofd int fd = -1;
  gsize room = (flags & READ_TEXT) ? size - 1 : size;
  gssize n;

  g_return_val_if_fail(sysfs != NULL && path != NULL && buf != NULL && room > 0, -EINVAL);

  fd = open_in_root(sysfs, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return fd;
  do
    n = read(fd, buf, room);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return -errno;
  if ((flags & READ_TEXT) && (gsize)n == room) {
    /* Full: if one more byte comes, the file did not fit. */
    char extra;

    if (read(fd, &extra, 1) > 0)
      return -EFBIG;
  }
  if (flags & READ_TEXT) {
    while (n > 0 && buf[n - 1] == '\n')
      n--;
    buf[n] = '\0';
  }
  return n;
}

gssize
pp_sysfs_read(PpSysfs *sysfs, const char *path, char *buf, gsize size)
{
  return read_internal(sysfs, path, buf, size, READ_TEXT);
}

gssize
pp_sysfs_read_raw(PpSysfs *sysfs, const char *path, guint8 *buf, gsize size)
{
  return read_internal(sysfs, path, (char *)buf, size, 0);
}

/* The whole of a file of at most @max bytes, NUL-terminated, in
 * *@ret_buf. A regular file is read into a buffer of its size (a limit of
 * 64 MiB must not cost 64 MiB, touched, for a file of 2 KiB), grown if the
 * file grows meanwhile; a file that says nothing of its size (/proc) gets
 * @max + 1 bytes and one read(), which the kernel fills from one walk.
 * Returns: the length, or -errno (-EFBIG for a file over @max). */
static gssize
read_whole(PpSysfs *sysfs, const char *path, gsize max, char **ret_buf)
{
  pp_autofd int fd = -1;
  g_autofree char *buf = NULL;
  struct stat st;
  gsize size = max + 1; /* room for one byte too many, which says "too large" */
  gsize len = 0;

  fd = open_in_root(sysfs, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return fd;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (guint64)st.st_size < max)
    size = (gsize)st.st_size + 1;
  buf = g_malloc(size + 1);
  for (;;) {
    gssize n;

    if (len == size) {
      if (size > max)
        return -EFBIG;
      size = MIN(size * 2, max + 1);
      buf = g_realloc(buf, size + 1);
    }
    n = read(fd, buf + len, size - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      break;
    len += (gsize)n;
  }
  if (len > max)
    return -EFBIG;
  buf[len] = '\0';
  *ret_buf = g_realloc(g_steal_pointer(&buf), len + 1);
  return (gssize)len;
}

char *
pp_sysfs_read_text(PpSysfs *sysfs, const char *path, gsize max, GError **error)
{
  char *buf = NULL;
  gssize n;

  g_return_val_if_fail(sysfs != NULL && path != NULL && max > 0, NULL);

  n = read_whole(sysfs, path, max, &buf);
  if (n < 0) {
    set_errno_error(error, (int)-n, sysfs, path, "read");
    return NULL;
  }
  while (n > 0 && buf[n - 1] == '\n')
    buf[--n] = '\0';
  return buf;
}

char *
pp_sysfs_read_file(PpSysfs *sysfs, const char *path, gsize max, GError **error)
{
  char *buf = NULL;
  gssize n;

  g_return_val_if_fail(sysfs != NULL && path != NULL && max > 0, NULL);

  n = read_whole(sysfs, path, max, &buf);
  if (n == -EFBIG) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                "'%s/%s' is larger than %" G_GSIZE_FORMAT " bytes", sysfs->root, path, max);
    return NULL;
  }
  if (n < 0) {
    set_errno_error(error, (int)-n, sysfs, path, "read");
    return NULL;
  }
  return buf;
}

gboolean
pp_sysfs_write(PpSysfs *sysfs, const char *path, const char *value, GError **error)
{
  pp_autofd int fd = -1;
  gsize len;
  gssize n;

  g_return_val_if_fail(sysfs != NULL && path != NULL && value != NULL, FALSE);

  /* O_TRUNC is ignored by sysfs and keeps fake trees (regular files) true
   * to what was last written. */
  fd = open_in_root(sysfs, path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0) {
    g_autofree char *escaped = g_strescape(value, NULL);

    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-fd), "cannot write '%s' to '%s/%s': %s",
                escaped, sysfs->root, path, g_strerror(-fd));
    return FALSE;
  }
  len = strlen(value);
  do
    n = write(fd, value, len);
  while (n < 0 && errno == EINTR);
  if (n < 0 || (gsize)n != len) {
    int err = n < 0 ? errno : EIO;
    g_autofree char *escaped = g_strescape(value, NULL);

    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err), "cannot write '%s' to '%s/%s': %s",
                escaped, sysfs->root, path, g_strerror(err));
    return FALSE;
  }
  return TRUE;
}

char *
pp_sysfs_read_string(PpSysfs *sysfs, const char *path, GError **error)
{
  char buf[PP_SYSFS_ATTR_MAX + 1];
  gssize n;

  n = pp_sysfs_read(sysfs, path, buf, sizeof(buf));
  if (n < 0) {
    set_errno_error(error, (int)-n, sysfs, path, "read");
    return NULL;
  }
  if ((gsize)n != strlen(buf)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "'%s/%s' holds a NUL byte where text was expected", sysfs->root, path);
    return NULL;
  }
  return g_strndup(buf, n);
}

gboolean
pp_sysfs_read_hex(PpSysfs *sysfs, const char *path, guint32 max, guint32 *ret, GError **error)
{
  g_autofree char *text = NULL;
  const char *digits;
  guint64 value = 0;

  text = pp_sysfs_read_string(sysfs, path, error);
  if (text == NULL)
    return FALSE;
  digits = g_str_has_prefix(text, "0x") ? text + 2 : text;
  if (!g_ascii_string_to_unsigned(digits, 16, 0, max, &value, NULL) || strchr(digits, '+') ||
      strchr(digits, '-')) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "'%s/%s' holds '%.32s', not a hex number up to 0x%x", sysfs->root, path, text, max);
    return FALSE;
  }
  *ret = (guint32)value;
  return TRUE;
}

gboolean
pp_sysfs_read_int(PpSysfs *sysfs, const char *path, gint64 *ret, GError **error)
{
  g_autofree char *text = NULL;
  gint64 value = 0;

  text = pp_sysfs_read_string(sysfs, path, error);
  if (text == NULL)
    return FALSE;
  if (!g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &value, NULL)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s/%s' holds '%.32s', not a number",
                sysfs->root, path, text);
    return FALSE;
  }
  *ret = value;
  return TRUE;
}

char *
pp_sysfs_readlink(PpSysfs *sysfs, const char *path, GError **error)
{
  pp_autofd int owned = -1;
  const char *base;
  char target[PATH_MAX];
  gssize n;
  int dir;

  g_return_val_if_fail(sysfs != NULL && path != NULL, NULL);

  dir = parent_fd(sysfs, path, &base, &owned);
  if (dir < 0) {
    set_errno_error(error, -dir, sysfs, path, "read the link");
    return NULL;
  }
  n = readlinkat(dir, base, target, sizeof(target) - 1);
  if (n < 0) {
    set_errno_error(error, errno, sysfs, path, "read the link");
    return NULL;
  }
  target[n] = '\0';
  return g_strndup(target, n);
}

char *
pp_sysfs_readlink_basename(PpSysfs *sysfs, const char *path, GError **error)
{
  g_autofree char *target = NULL;
  char *base;

  target = pp_sysfs_readlink(sysfs, path, error);
  if (target == NULL)
    return NULL;
  while (g_str_has_suffix(target, "/") && target[1] != '\0')
    target[strlen(target) - 1] = '\0';
  base = strrchr(target, '/');
  if (base == NULL)
    return g_steal_pointer(&target);
  if (base[1] == '\0') {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "'%s/%s' points to '/'", sysfs->root,
                path);
    return NULL;
  }
  return g_strdup(base + 1);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GPtrArray *
pp_sysfs_list(PpSysfs *sysfs, const char *path, GError **error)
{
  g_autoptr(GPtrArray) names = NULL;
  g_autoptr(DIR) dir = NULL;
  pp_autofd int fd = -1;
  struct dirent *entry;

  g_return_val_if_fail(sysfs != NULL && path != NULL, NULL);

  fd = open_in_root(sysfs, path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) {
    set_errno_error(error, -fd, sysfs, path, "list");
    return NULL;
  }
  dir = fdopendir(fd);
  if (dir == NULL) {
    set_errno_error(error, errno, sysfs, path, "list");
    return NULL;
  }
  fd = -1; /* the DIR owns it now */
  names = g_ptr_array_new_with_free_func(g_free);
  for (;;) {
    errno = 0;
    entry = readdir(dir);
    if (entry == NULL)
      break;
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
      continue;
    g_ptr_array_add(names, g_strdup(entry->d_name));
  }
  if (errno != 0) {
    set_errno_error(error, errno, sysfs, path, "list");
    return NULL;
  }
  g_ptr_array_sort(names, compare_names);
  return g_steal_pointer(&names);
}

int
pp_sysfs_stat(PpSysfs *sysfs, const char *path, struct stat *ret)
{
  pp_autofd int owned = -1;
  const char *base;
  int dir;

  g_return_val_if_fail(sysfs != NULL && path != NULL && ret != NULL, -EINVAL);

  dir = parent_fd(sysfs, path, &base, &owned);
  if (dir < 0)
    return dir;
  return fstatat(dir, base, ret, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

gboolean
pp_sysfs_make_dirs(PpSysfs *sysfs, const char *dir, GError **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GString) prefix = g_string_new(NULL);

  g_return_val_if_fail(sysfs != NULL && dir != NULL, FALSE);

  parts = g_strsplit(dir, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++) {
    pp_autofd int fd = -1;

    if (parts[i][0] == '\0' || strcmp(parts[i], ".") == 0)
      continue;
    if (strcmp(parts[i], "..") == 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' goes up with '..'", dir);
      return FALSE;
    }
    if (prefix->len > 0)
      g_string_append_c(prefix, '/');
    g_string_append(prefix, parts[i]);
    fd = open_in_root(sysfs, prefix->str, O_PATH | O_DIRECTORY);
    if (fd == -ENOENT) {
      pp_autofd int owned = -1;
      const char *base;
      int parent = parent_fd(sysfs, prefix->str, &base, &owned);

      if (parent < 0 || (mkdirat(parent, base, 0755) != 0 && errno != EEXIST))
        return set_errno_error(error, parent < 0 ? -parent : errno, sysfs, prefix->str,
                               "make the folder");
      fd = open_in_root(sysfs, prefix->str, O_PATH | O_DIRECTORY);
    }
    if (fd < 0)
      return set_errno_error(error, -fd, sysfs, prefix->str, "open the folder");
  }
  return TRUE;
}

gboolean
pp_sysfs_replace(PpSysfs *sysfs, const char *path, const char *data, gsize len, const char *backup,
                 GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *tmp = NULL;
  pp_autofd int dirfd = -1;
  pp_autofd int fd = -1;
  const char *base;
  struct stat st;
  gboolean exists;
  gsize done = 0;

  g_return_val_if_fail(sysfs != NULL && path != NULL && (data != NULL || len == 0), FALSE);

  dir = g_path_get_dirname(path);
  if (strcmp(dir, ".") != 0 && !pp_sysfs_make_dirs(sysfs, dir, error))
    return FALSE;
  base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
  dirfd = open_in_root(sysfs, strcmp(dir, ".") != 0 ? dir : ".", O_PATH | O_DIRECTORY);
  if (dirfd < 0)
    return set_errno_error(error, -dirfd, sysfs, dir, "open the folder");

  exists = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && S_ISLNK(st.st_mode)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                "'%s/%s' is a symbolic link: pcipass does not write through links (edit the file "
                "it points to, or make it a file)",
                sysfs->root, path);
    return FALSE;
  }
  if (exists && !S_ISREG(st.st_mode)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "'%s/%s' is not a regular file",
                sysfs->root, path);
    return FALSE;
  }

  tmp = g_strdup_printf(".%s.pcipass-%08x", base, g_random_int());
  fd = openat(dirfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_errno_error(error, errno, sysfs, path, "write a new");
  while (done < len) {
    gssize n = write(fd, data + done, len - done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto fail;
    done += n;
  }
  if ((exists && fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM) ||
      fchmod(fd, exists ? st.st_mode & 07777 : 0644) != 0 || fsync(fd) != 0)
    goto fail;
  if (exists && backup != NULL && linkat(dirfd, base, dirfd, backup, 0) != 0 && errno != EEXIST)
    goto fail;
  if (renameat(dirfd, tmp, dirfd, base) != 0)
    goto fail;
  return TRUE;

fail : {
  int err = errno ? errno : EIO;

  unlinkat(dirfd, tmp, 0);
  return set_errno_error(error, err, sysfs, path, "replace");
}
}
