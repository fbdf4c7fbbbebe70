/* pp-image: what names an image, the disk format its file's name gives,
 * and what a qcow2 header must say. Pure: no I/O (src/server/pp-images
 * finds the files).
 *
 * An image is a regular file in one of pcipassd's image folders, named
 * by its file name with one of the known extensions taken off, or by its
 * whole file name: the name "debian12" finds "debian12.qcow2",
 * "debian12.raw", "debian12.img" or "debian12"; "debian12.qcow2" finds
 * that file. A name is 1 to PP_IMAGE_NAME_MAX letters, digits, '.', '_',
 * '+' or '-', and does not start with '.': it holds no '/', is never '.'
 * or '..', and cannot name a hidden file.
 *
 * The format comes from the file's name, never from what it holds: a file
 * ending in ".qcow2" is qcow2, any other raw. A raw disk's guest writes
 * its first bytes, and would make it look like a qcow2 naming a backing
 * file of the host, were the format read from the content (the reason
 * libvirt stopped probing formats).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_IMAGE_ERROR (pp_image_error_quark())
GQuark pp_image_error_quark(void);

typedef enum {
  PP_IMAGE_ERROR_INVALID, /* a bad name, or a qcow2 header pcipass refuses */
} PpImageError;

/* The longest image name; a file name is at most this plus ".qcow2". */
#define PP_IMAGE_NAME_MAX 128

typedef enum {
  PP_IMAGE_FORMAT_RAW,
  PP_IMAGE_FORMAT_QCOW2,
} PpImageFormat;

/* "raw", "qcow2". Returns: (transfer none). */
const char *pp_image_format_to_string(PpImageFormat format);

/**
 * pp_image_name_check:
 *
 * Returns: FALSE with INVALID when @name is not an image name: "'../x' is
 *   not an image name: 1 to 128 letters, ...".
 */
gboolean pp_image_name_check(const char *name, GError **error);

/* The format of the file called @file_name: qcow2 for ".qcow2", else raw. */
PpImageFormat pp_image_format_of_file(const char *file_name);

/* The name that finds @file_name: without its known extension, or itself
 * when it has none (or is only one). Returns: (transfer full). */
char *pp_image_name_of_file(const char *file_name);

/**
 * pp_image_candidates:
 *
 * The file names that image @name may be, in the order they are tried:
 * @name with ".qcow2", ".raw" and ".img", then @name itself.
 *
 * Returns: (transfer full): a NULL-terminated array.
 */
GStrv pp_image_candidates(const char *name);

/* The bytes of a qcow2 header pp_image_qcow2_check() reads: the version 3
 * header up to its header_length field. */
#define PP_IMAGE_QCOW2_HEADER_SIZE 104

/**
 * pp_image_qcow2_check:
 * @header: the file's first bytes
 * @len: how many (a shorter file gives fewer)
 * @ret_virtual_size: (optional): the disk's size for the guest, in bytes
 *
 * Checks that @header is a qcow2 (version 2 or 3) that stands alone: no
 * backing file and no external data file, each of which names a file of
 * the host that QEMU would open.
 *
 * Returns: FALSE with INVALID saying what is wrong ("it is not a qcow2
 *   file: ...", "it has a backing file ...").
 */
gboolean pp_image_qcow2_check(const guint8 *header, gsize len, guint64 *ret_virtual_size,
                              GError **error);

G_END_DECLS
