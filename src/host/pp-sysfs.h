/* pp-sysfs: reads a sysfs-like tree below a root folder.
 *
 * Every path is relative to the root, which is `/sys` on a host and an
 * unpacked fixture in tests (STYLE rule 32). Paths resolve as if the root were
 * `/`: `..` and absolute symlinks cannot leave it (openat2's RESOLVE_IN_ROOT;
 * best effort where the kernel lacks it, see pp_sysfs_is_confined()). Attributes are read with one
 * read() into a bounded buffer (rule 33). The same reader serves /proc for host facts.
 */
#pragma once

#include <sys/stat.h>

#include <glib.h>

G_BEGIN_DECLS

/* The most bytes pp_sysfs_read_string() returns: sysfs attributes fit in a page. */
#define PP_SYSFS_ATTR_MAX 4096

typedef struct _PpSysfs PpSysfs;

/**
 * pp_sysfs_open:
 * @root: the folder that plays `/sys` (or `/proc`)
 *
 * Returns: (transfer full): the reader, or %NULL with a message that names
 *   @root when it is not a folder that can be opened.
 */
PpSysfs *pp_sysfs_open(const char *root, GError **error);

/**
 * pp_sysfs_open_at:
 * @path: a folder below @parent's root, such as `bus/pci/devices/0000:05:00.0`
 *
 * A reader rooted at that folder: paths given to it are relative to it, and
 * cannot leave it. Reading many attributes of one device this way resolves
 * the device's path once.
 *
 * Returns: (transfer full): the reader, or %NULL with the path and reason.
 */
PpSysfs *pp_sysfs_open_at(PpSysfs *parent, const char *path, GError **error);
void pp_sysfs_free(PpSysfs *sysfs);

/* Returns: (transfer none): the root folder as given. */
const char *pp_sysfs_get_root(const PpSysfs *sysfs);

/* Whether paths are confined to the root. They are where the kernel has
 * openat2 (Linux 5.6); where it does not, or a container's seccomp profile
 * refuses it, absolute and `..` links of a captured tree lead out of it. */
gboolean pp_sysfs_is_confined(const PpSysfs *sysfs);

/**
 * pp_sysfs_read:
 * @buf: receives at most @size - 1 bytes and a NUL
 *
 * Reads @path with one read(). Trailing newlines are removed.
 *
 * Returns: the length read, or -errno (-ENOENT for a missing file, -EFBIG
 *   when the file holds more than fits).
 */
gssize pp_sysfs_read(PpSysfs *sysfs, const char *path, char *buf, gsize size);

/* Like pp_sysfs_read() for binary files (`config`): reads the first @size
 * bytes at most, removes nothing and adds no NUL. */
gssize pp_sysfs_read_raw(PpSysfs *sysfs, const char *path, guint8 *buf, gsize size);

/**
 * pp_sysfs_write:
 *
 * Writes @value to the attribute @path with one unbuffered write(), as the
 * kernel wants (STYLE rule 33). The attribute must exist (no O_CREAT) and
 * must not be a symlink.
 *
 * Returns: %TRUE, or %FALSE with the path, the value and errno's reason.
 */
gboolean pp_sysfs_write(PpSysfs *sysfs, const char *path, const char *value, GError **error);

/**
 * pp_sysfs_read_file:
 * @max: the most bytes accepted
 *
 * Reads a whole file exactly as it is (configuration files, which are
 * written back): up to @max bytes, NUL-terminated.
 *
 * Returns: (transfer full): the bytes, or %NULL with the path and reason
 *   (G_IO_ERROR_NOT_FOUND when it does not exist; a file over @max is
 *   G_IO_ERROR_FAILED).
 */
char *pp_sysfs_read_file(PpSysfs *sysfs, const char *path, gsize max, GError **error);

/**
 * pp_sysfs_read_text:
 * @max: the most bytes accepted
 *
 * Reads a text file larger than a sysfs page (/proc/self/mountinfo,
 * /proc/net/route), without its trailing newlines: a /proc file with one
 * read() into a buffer of @max + 1 bytes, a regular file into a buffer of
 * its size.
 *
 * Returns: (transfer full): the text, or %NULL with the path and reason
 *   (G_IO_ERROR_NOT_FOUND when it does not exist).
 */
char *pp_sysfs_read_text(PpSysfs *sysfs, const char *path, gsize max, GError **error);

/* Returns: (transfer full): the attribute's text without trailing
 * newlines, or %NULL with the path and the reason in @error. */
char *pp_sysfs_read_string(PpSysfs *sysfs, const char *path, GError **error);

/**
 * pp_sysfs_read_hex:
 *
 * Reads an attribute of the form "0x8086" (the 0x optional) no larger than
 * @max.
 *
 * Returns: %TRUE and writes @ret, or %FALSE with the path and the reason
 *   (missing, unreadable, or not such a number: the text is quoted).
 */
gboolean pp_sysfs_read_hex(PpSysfs *sysfs, const char *path, guint32 max, guint32 *ret,
                           GError **error);

/* Reads a decimal attribute, which may be negative ("-1"). */
gboolean pp_sysfs_read_int(PpSysfs *sysfs, const char *path, gint64 *ret, GError **error);

/* Returns: (transfer full): the target of the symlink @path, or %NULL. */
char *pp_sysfs_readlink(PpSysfs *sysfs, const char *path, GError **error);

/* Returns: (transfer full): the last component of the symlink's target
 * (`igb` for `driver -> ../../bus/pci/drivers/igb`), or %NULL. */
char *pp_sysfs_readlink_basename(PpSysfs *sysfs, const char *path, GError **error);

/**
 * pp_sysfs_list:
 *
 * Returns: (transfer full) (element-type utf8): the names in folder @path,
 *   sorted, without `.` and `..`; %NULL with the reason in @error, whose
 *   code is G_IO_ERROR_NOT_FOUND when the folder does not exist.
 */
GPtrArray *pp_sysfs_list(PpSysfs *sysfs, const char *path, GError **error);

/**
 * pp_sysfs_make_dirs:
 *
 * Makes the folder @dir and those above it (mode 0755), each below the
 * root: links on the way are followed inside it, never out.
 */
gboolean pp_sysfs_make_dirs(PpSysfs *sysfs, const char *dir, GError **error);

/**
 * pp_sysfs_replace:
 * @backup: (nullable): a name beside @path that keeps the old file
 *
 * Replaces the file @path below the root with @len bytes of @data: a new
 * file in the same folder, with the old one's mode, owner and group (0644
 * for a new one), synced, then renamed over it; the old one, when @backup
 * is given, stays as @backup (a hard link: every byte and attribute of
 * it). The folders are made when missing. A @path that is a symbolic link
 * or not a regular file is refused: writing through it would put the file
 * elsewhere or replace the link.
 */
gboolean pp_sysfs_replace(PpSysfs *sysfs, const char *path, const char *data, gsize len,
                          const char *backup, GError **error);

/* lstat() of @path: 0 and @ret filled, or -errno. */
int pp_sysfs_stat(PpSysfs *sysfs, const char *path, struct stat *ret);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpSysfs, pp_sysfs_free)

G_END_DECLS
