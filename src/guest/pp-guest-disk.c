/* pp-guest-disk: the context disk found and read (pp-guest-disk.h). */
#define G_LOG_DOMAIN "pp-guest-disk"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pp-fd.h"
#include "pp-guest-context.h"
#include "pp-guest-disk.h"

/* Whether @path's sector 16 is the primary volume descriptor of @label. */
static gboolean
has_label(const char *path, const char *label)
{
  pp_autofd int fd = -1;
  guint8 sector[PP_GUEST_ISO_SECTOR];

  /* O_NONBLOCK: a CD-ROM drive without a disc answers at once. */
  fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return FALSE;
  if (pread(fd, sector, sizeof(sector), PP_GUEST_ISO_PVD_OFFSET) != (ssize_t)sizeof(sector))
    return FALSE;
  return pp_guest_iso_has_label(sector, sizeof(sector), label);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *
pp_guest_disk_find(const char *sysfs, const char *dev, const char *label, GError **error)
{
  g_autofree char *block = g_build_filename(sysfs, "class", "block", NULL);
  g_autoptr(GError) local = NULL;
  g_autoptr(GDir) dir = g_dir_open(block, 0, &local);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  if (dir == NULL) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "no block devices: %s", local->message);
    return NULL;
  }
  while ((name = g_dir_read_name(dir)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(dev, g_ptr_array_index(names, i), NULL);

    g_debug("%s: looking for volume '%s'", path, label);
    if (has_label(path, label))
      return g_steal_pointer(&path);
  }
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
              "no disk with an ISO 9660 volume '%s' among the %u block devices of '%s' (nodes in "
              "'%s'): is the context CD-ROM attached, and the kernel's sr_mod loaded?",
              label, names->len, block, dev);
  return NULL;
}

/* A new folder for the mount, only root's: in /run if there is one, else
 * the temporary folder, else / (an initramfs may have neither). Returns:
 * (transfer full). */
static char *
make_mount_dir(GError **error)
{
  g_autofree char *run = g_strdup("/run/pcipass-context.XXXXXX");
  g_autofree char *top = g_strdup("/pcipass-context.XXXXXX");
  char *tmp;

  if (g_mkdtemp_full(run, 0700) != NULL)
    return g_steal_pointer(&run);
  tmp = g_dir_make_tmp("pcipass-context.XXXXXX", NULL);
  if (tmp != NULL)
    return tmp;
  if (g_mkdtemp_full(top, 0700) != NULL)
    return g_steal_pointer(&top);
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
              "cannot make a folder to mount the disk on in /run, the temporary folder or /: %s",
              g_strerror(errno));
  return NULL;
}

GBytes *
pp_guest_read_file(const char *path, gsize max, GError **error)
{
  g_autofree char *data = g_malloc(max + 1);
  pp_autofd int fd = -1;
  gsize len = 0;

  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int saved = errno;

    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot open '%s': %s", path,
                g_strerror(saved));
    return NULL;
  }
  while (len <= max) {
    ssize_t n = read(fd, data + len, max + 1 - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;

      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "reading '%s': %s", path,
                  g_strerror(saved));
      return NULL;
    }
    if (n == 0)
      break;
    len += (gsize)n;
  }
  if (len > max) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                "'%s' is larger than %" G_GSIZE_FORMAT " bytes", path, max);
    return NULL;
  }
  return g_bytes_new(data, len);
}

GBytes *
pp_guest_disk_read(const char *device, const char *file, gsize max, GError **error)
{
  g_autofree char *dir = make_mount_dir(error);
  g_autofree char *path = NULL;
  GBytes *bytes;

  if (dir == NULL)
    return NULL;
  if (mount(device, dir, "iso9660", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
    int saved = errno;

    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                "cannot mount '%s' (iso9660, read-only) on '%s': %s%s", device, dir,
                g_strerror(saved),
                saved == ENODEV ? " (the kernel has no iso9660: modprobe isofs)" : "");
    g_rmdir(dir);
    return NULL;
  }
  path = g_build_filename(dir, file, NULL);
  bytes = pp_guest_read_file(path, max, error);
  if (umount2(dir, 0) != 0 && umount2(dir, MNT_DETACH) != 0)
    g_warning("cannot unmount '%s': %s, ignoring", dir, g_strerror(errno));
  else
    g_rmdir(dir);
  return bytes;
}
