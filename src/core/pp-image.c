#define G_LOG_DOMAIN "pp-image"

#include "config.h"

#include <string.h>

#include "pp-image.h"

/* clang-format off */
G_DEFINE_QUARK(pp-image-error-quark, pp_image_error)
/* clang-format on */

/* The extensions a name may leave off, in the order they are tried. */
static const char *const extensions[] = { ".qcow2", ".raw", ".img" };

/* qcow2's header (QEMU's docs/interop/qcow2.txt), big-endian:
 *   0  magic "QFI\xfb"           4  version (2 or 3)
 *   8  backing_file_offset (0: none)   16 backing_file_size
 *   24 size: the virtual disk's bytes
 *   72 incompatible_features (version 3); bit 2: an external data file */
#define QCOW2_MAGIC "QFI\xfb"
#define QCOW2_V2_HEADER_SIZE 72
#define QCOW2_INCOMPAT_DATA_FILE (G_GUINT64_CONSTANT(1) << 2)

const char *
pp_image_format_to_string(PpImageFormat format)
{
  return format == PP_IMAGE_FORMAT_QCOW2 ? "qcow2" : "raw";
}

gboolean
pp_image_name_check(const char *name, GError **error)
{
  gsize n;

  g_return_val_if_fail(name != NULL, FALSE);

  n = strlen(name);
  for (gsize i = 0; i < n; i++) {
    if (!g_ascii_isalnum(name[i]) && strchr("._+-", name[i]) == NULL) {
      n = 0;
      break;
    }
  }
  if (n == 0 || n > PP_IMAGE_NAME_MAX || name[0] == '.') {
    /* The name is the user's, and may hold anything: shown escaped. */
    g_autofree char *shown = g_strescape(name, NULL);

    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "'%s' is not an image name: 1 to %d letters, digits, '.', '_', '+' or '-', not "
                "starting with '.' (a name, not a path)",
                shown, PP_IMAGE_NAME_MAX);
    return FALSE;
  }
  return TRUE;
}

PpImageFormat
pp_image_format_of_file(const char *file_name)
{
  return g_str_has_suffix(file_name, ".qcow2") ? PP_IMAGE_FORMAT_QCOW2 : PP_IMAGE_FORMAT_RAW;
}

char *
pp_image_name_of_file(const char *file_name)
{
  gsize n = strlen(file_name);

  for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
    gsize e = strlen(extensions[i]);

    if (n > e && g_str_has_suffix(file_name, extensions[i]))
      return g_strndup(file_name, n - e);
  }
  return g_strdup(file_name);
}

GStrv
pp_image_candidates(const char *name)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

  for (guint i = 0; i < G_N_ELEMENTS(extensions); i++) {
    g_autofree char *file = g_strconcat(name, extensions[i], NULL);

    /* GLib 2.74 has no g_strv_builder_take(). */
    g_strv_builder_add(builder, file);
  }
  g_strv_builder_add(builder, name);
  return g_strv_builder_end(builder);
}

static guint64
read_be(const guint8 *p, guint bytes)
{
  guint64 value = 0;

  for (guint i = 0; i < bytes; i++)
    value = value << 8 | p[i];
  return value;
}

gboolean
pp_image_qcow2_check(const guint8 *header, gsize len, guint64 *ret_virtual_size, GError **error)
{
  guint64 version;

  g_return_val_if_fail(header != NULL || len == 0, FALSE);

  if (len < QCOW2_V2_HEADER_SIZE || memcmp(header, QCOW2_MAGIC, 4) != 0) {
    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "it is not a qcow2 file (%s), though its name ends in .qcow2",
                len < 4 || memcmp(header, QCOW2_MAGIC, 4) != 0 ? "no QFI\\xfb magic"
                                                               : "its header is cut short");
    return FALSE;
  }
  version = read_be(header + 4, 4);
  if (version != 2 && version != 3) {
    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "it is a qcow2 of version %" G_GUINT64_FORMAT ", which pcipass does not know (2 "
                "or 3)",
                version);
    return FALSE;
  }
  if (read_be(header + 8, 8) != 0) {
    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "it has a backing file, a file of the host that QEMU would open: pcipass takes "
                "only qcow2 images that stand alone (qemu-img convert -O qcow2 makes one)");
    return FALSE;
  }
  if (version == 3 && len < PP_IMAGE_QCOW2_HEADER_SIZE) {
    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "it is not a qcow2 file (its version 3 header is cut short), though its name "
                "ends in .qcow2");
    return FALSE;
  }
  if (version == 3 && (read_be(header + 72, 8) & QCOW2_INCOMPAT_DATA_FILE) != 0) {
    g_set_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID,
                "it has an external data file, a file of the host that QEMU would open: pcipass "
                "takes only qcow2 images that stand alone (qemu-img convert -O qcow2 makes one)");
    return FALSE;
  }
  if (ret_virtual_size != NULL)
    *ret_virtual_size = read_be(header + 24, 8);
  return TRUE;
}
