#define G_LOG_DOMAIN "pp-images"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp-fd.h"
#include "pp-images.h"

/* clang-format off */
G_DEFINE_QUARK(pp-images-error-quark, pp_images_error)
/* clang-format on */

struct _PpImages {
  GStrv dirs;
};

void
pp_image_free(PpImage *image)
{
  if (image == NULL)
    return;
  g_free(image->name);
  g_free(image->dir);
  g_free(image->file);
  g_free(image->path);
  g_free(image);
}

PpImages *
pp_images_new(const char *const *dirs)
{
  PpImages *images;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

  for (guint i = 0; dirs != NULL && dirs[i] != NULL; i++) {
    g_return_val_if_fail(g_path_is_absolute(dirs[i]), NULL);
    g_strv_builder_add(builder, dirs[i]);
  }
  images = g_new0(PpImages, 1);
  images->dirs = g_strv_builder_end(builder);
  return images;
}

void
pp_images_free(PpImages *images)
{
  if (images == NULL)
    return;
  g_strfreev(images->dirs);
  g_free(images);
}

const char *const *
pp_images_get_dirs(const PpImages *images)
{
  static const char *const none[] = { NULL };

  return images != NULL ? (const char *const *)images->dirs : none;
}

/* What a file of type @mode is, in words. */
static const char *
file_kind(mode_t mode)
{
  if (S_ISDIR(mode))
    return "a folder";
  if (S_ISFIFO(mode))
    return "a named pipe (fifo)";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

static gboolean set_invalid(GError **error, const char *name, const char *path, const char *format,
                            ...) G_GNUC_PRINTF(4, 5);

/* "image 'NAME' ('PATH'): REASON", INVALID; returns FALSE. */
static gboolean
set_invalid(GError **error, const char *name, const char *path, const char *format, ...)
{
  va_list args;
  g_autofree char *reason = NULL;

  va_start(args, format);
  reason = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_INVALID, "image '%s' ('%s'): %s", name, path,
              reason);
  return FALSE;
}

/* The first bytes of @file of @dir_fd, which fstatat() saw as @seen: opened
 * without following a link nor waiting on a fifo, and checked to be that
 * same regular file (it may have been swapped since). */
static gboolean
read_header(int dir_fd, const char *file, const struct stat *seen, const char *name,
            const char *path, guint8 *buf, gsize size, gsize *ret_len, GError **error)
{
  pp_autofd int fd =
      openat(dir_fd, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  gsize len = 0;

  if (fd < 0 && errno == ELOOP)
    return set_invalid(error, name, path,
                       "it is a symbolic link; pcipass takes only regular files from its image "
                       "folders, and follows no link");
  if (fd < 0 || fstat(fd, &st) != 0) {
    int saved = errno;

    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED, "cannot read image '%s' ('%s'): %s",
                name, path, g_strerror(saved));
    return FALSE;
  }
  if (!S_ISREG(st.st_mode) || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino)
    return set_invalid(error, name, path, "it changed while pcipassd looked at it; try again");
  while (len < size) {
    ssize_t n = pread(fd, buf + len, size - len, (off_t)len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int saved = errno;

      g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED,
                  "cannot read image '%s' ('%s'): %s", name, path, g_strerror(saved));
      return FALSE;
    }
    if (n == 0)
      break;
    len += (gsize)n;
  }
  *ret_len = len;
  return TRUE;
}

/* Checks the candidate @file of @dir_fd, which fstatat() saw as @st, and
 * makes the image. */
static PpImage *
check_file(int dir_fd, const char *dir, const char *name, const char *file, const struct stat *st,
           GError **error)
{
  g_autoptr(PpImage) image = g_new0(PpImage, 1);

  image->name = g_strdup(name);
  image->dir = g_strdup(dir);
  image->file = g_strdup(file);
  image->path = g_build_filename(dir, file, NULL);
  image->format = pp_image_format_of_file(file);
  image->size = (guint64)st->st_size;
  image->virtual_size = image->size;

  if (S_ISLNK(st->st_mode)) {
    set_invalid(error, name, image->path,
                "it is a symbolic link; pcipass takes only regular files from its image folders, "
                "and follows no link");
    return NULL;
  }
  if (!S_ISREG(st->st_mode)) {
    set_invalid(error, name, image->path, "it is %s, not a regular file", file_kind(st->st_mode));
    return NULL;
  }
  if (st->st_nlink > 1) {
    set_invalid(error, name, image->path,
                "it has %" G_GUINT64_FORMAT " hard links, and another name of the same file may "
                "be outside the image folders; copy it to make an image of its own",
                (guint64)st->st_nlink);
    return NULL;
  }
  if (image->format == PP_IMAGE_FORMAT_QCOW2) {
    guint8 header[PP_IMAGE_QCOW2_HEADER_SIZE];
    gsize len = 0;
    g_autoptr(GError) local = NULL;

    if (!read_header(dir_fd, file, st, name, image->path, header, sizeof(header), &len, error))
      return NULL;
    if (!pp_image_qcow2_check(header, len, &image->virtual_size, &local)) {
      set_invalid(error, name, image->path, "%s", local->message);
      return NULL;
    }
  }
  return g_steal_pointer(&image);
}

/* Looks for @name in folder @dir. Returns: the image, or NULL: with an
 * error, or without one when the folder has none of its candidates (or is
 * missing: *ret_missing then TRUE). */
static PpImage *
resolve_in(const char *dir, const char *name, gboolean *ret_missing, GError **error)
{
  g_auto(GStrv) candidates = pp_image_candidates(name);
  pp_autofd int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  g_autoptr(GPtrArray) found = g_ptr_array_new();
  struct stat st, first = { 0 };

  *ret_missing = FALSE;
  if (dir_fd < 0 && errno == ENOENT) {
    *ret_missing = TRUE;
    return NULL;
  }
  if (dir_fd < 0) {
    int saved = errno;

    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED,
                "cannot open the image folder '%s': %s", dir, g_strerror(saved));
    return NULL;
  }
  for (guint i = 0; candidates[i] != NULL; i++) {
    /* A candidate is one name of the folder (the image name has no '/'):
     * looked at, never followed. */
    if (fstatat(dir_fd, candidates[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (found->len == 0)
        first = st;
      g_ptr_array_add(found, candidates[i]);
    } else if (errno != ENOENT) {
      int saved = errno;
      g_autofree char *path = g_build_filename(dir, candidates[i], NULL);

      g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED,
                  "cannot look at image '%s' ('%s'): %s", name, path, g_strerror(saved));
      return NULL;
    }
  }
  if (found->len == 0)
    return NULL;
  if (found->len > 1) {
    g_autoptr(GString) files = g_string_new(NULL);

    for (guint i = 0; i < found->len; i++)
      g_string_append_printf(files, "%s'%s'",
                             i == 0               ? ""
                             : i + 1 < found->len ? ", "
                                                  : " and ",
                             (const char *)g_ptr_array_index(found, i));
    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_INVALID,
                "image '%s' is ambiguous in '%s': %s; name the file itself (as '%s')", name, dir,
                files->str, (const char *)g_ptr_array_index(found, 0));
    return NULL;
  }
  return check_file(dir_fd, dir, name, g_ptr_array_index(found, 0), &first, error);
}

PpImage *
pp_images_resolve(const PpImages *images, const char *name, GError **error)
{
  const char *const *dirs = pp_images_get_dirs(images);
  g_autoptr(GString) where = g_string_new(NULL);
  g_autoptr(GError) local = NULL;
  guint n = g_strv_length((char **)dirs);

  g_return_val_if_fail(name != NULL, NULL);

  if (!pp_image_name_check(name, &local)) {
    g_set_error_literal(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_INVALID, local->message);
    return NULL;
  }
  for (guint i = 0; i < n; i++) {
    gboolean missing = FALSE;
    PpImage *image = resolve_in(dirs[i], name, &missing, &local);

    if (image != NULL)
      return image;
    if (local != NULL) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
    g_string_append_printf(where, "%s'%s'%s",
                           i == 0      ? ""
                           : i + 1 < n ? ", "
                                       : " or ",
                           dirs[i], missing ? " (missing)" : "");
  }
  if (n == 0)
    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_NOT_FOUND,
                "no image '%s': pcipassd has no image folders (its setting image-dirs is empty)",
                name);
  else
    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_NOT_FOUND,
                "no image '%s' in %s (pcipass image list shows the images)", name, where->str);
  return NULL;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of folder @dir that may be images (regular files with a
 * name that is not hidden), sorted; NULL with FAILED, or an empty array
 * for a missing folder. */
static GPtrArray *
list_files(const char *dir, gboolean *ret_truncated, GError **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  pp_autofd int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *entry;
  guint seen = 0;

  if (dir_fd < 0 && errno == ENOENT)
    return g_steal_pointer(&files);
  if (dir_fd < 0 || (d = fdopendir(dir_fd)) == NULL) {
    int saved = errno;

    g_set_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED,
                "cannot read the image folder '%s': %s", dir, g_strerror(saved));
    return NULL;
  }
  /* The stream owns the fd now. */
  dir_fd = -1;
  while ((entry = readdir(d)) != NULL) {
    struct stat st;

    if (entry->d_name[0] == '.')
      continue;
    if (++seen > PP_IMAGES_LIST_MAX) {
      *ret_truncated = TRUE;
      break;
    }
    if (fstatat(dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      g_ptr_array_add(files, g_strdup(entry->d_name));
  }
  closedir(d);
  g_ptr_array_sort(files, compare_names);
  return g_steal_pointer(&files);
}

GPtrArray *
pp_images_list(const PpImages *images, gboolean *ret_truncated, GError **error)
{
  const char *const *dirs = pp_images_get_dirs(images);
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)pp_image_free);
  gboolean truncated = FALSE;

  for (guint i = 0; dirs[i] != NULL; i++) {
    g_autoptr(GPtrArray) files = list_files(dirs[i], &truncated, error);

    if (files == NULL)
      return NULL;
    for (guint f = 0; f < files->len; f++) {
      const char *file = g_ptr_array_index(files, f);
      g_autofree char *short_name = pp_image_name_of_file(file);
      const char *names[] = { short_name, file };

      /* The shorter name when it finds this file, else the whole one:
       * what a template would resolve, by the same code. */
      for (guint k = 0; k < G_N_ELEMENTS(names); k++) {
        g_autoptr(PpImage) image = NULL;

        if (k == 1 && strcmp(names[0], names[1]) == 0)
          break;
        image = pp_images_resolve(images, names[k], NULL);
        if (image != NULL && strcmp(image->dir, dirs[i]) == 0 && strcmp(image->file, file) == 0) {
          g_ptr_array_add(list, g_steal_pointer(&image));
          break;
        }
      }
    }
  }
  if (ret_truncated != NULL)
    *ret_truncated = truncated;
  return g_steal_pointer(&list);
}

/* Resolves @name, given as @key of @attribute at @pos; on failure, the
 * error says where. */
static PpImage *
resolve_at(const PpImages *images, const char *name, const char *attribute, const char *key,
           PpTextPos pos, PpTextPos *ret_pos, GError **error)
{
  PpImage *image = pp_images_resolve(images, name, error);

  if (image == NULL) {
    g_prefix_error(error, "line %u, column %u: %s: %s: ", pos.line, pos.column, attribute, key);
    if (ret_pos != NULL)
      *ret_pos = pos;
  }
  return image;
}

gboolean
pp_images_resolve_spec(const PpImages *images, PpVmSpec *spec, PpTextPos *ret_pos, GError **error)
{
  g_return_val_if_fail(spec != NULL, FALSE);

  for (guint i = 0; i < spec->disks->len; i++) {
    PpVmDisk *disk = g_ptr_array_index(spec->disks, i);
    g_autoptr(PpImage) image = NULL;

    if (disk->image == NULL)
      continue;
    image = resolve_at(images, disk->image, "DISK", "IMAGE", disk->image_pos, ret_pos, error);
    if (image == NULL)
      return FALSE;
    g_free(disk->source);
    disk->source = g_steal_pointer(&image->path);
    g_free(disk->format);
    disk->format = g_strdup(pp_image_format_to_string(image->format));
  }
  if (spec->kernel_image != NULL) {
    g_autoptr(PpImage) image = resolve_at(images, spec->kernel_image, "OS", "KERNEL_IMAGE",
                                          spec->kernel_image_pos, ret_pos, error);

    if (image == NULL)
      return FALSE;
    g_free(spec->kernel);
    spec->kernel = g_steal_pointer(&image->path);
  }
  if (spec->initrd_image != NULL) {
    g_autoptr(PpImage) image = resolve_at(images, spec->initrd_image, "OS", "INITRD_IMAGE",
                                          spec->initrd_image_pos, ret_pos, error);

    if (image == NULL)
      return FALSE;
    g_free(spec->initrd);
    spec->initrd = g_steal_pointer(&image->path);
  }
  return TRUE;
}
