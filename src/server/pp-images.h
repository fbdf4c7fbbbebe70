/* pp-images: pcipassd's image folders, and the files behind image names
 * (pp-image.h says what a name is), found so that no name reaches a file
 * outside its folder.
 *
 * A name is one file name (pp_image_name_check(): no '/', never '..'),
 * looked up in each folder in turn, its candidates in the order of
 * pp_image_candidates(); the first folder that has any candidate is the
 * image's (as PATH is searched). There:
 * - two candidates are ambiguous (debian12.qcow2 and debian12.raw): refused;
 *   the whole file name finds each;
 * - a symbolic link is refused wherever it points, inside the folder or
 *   out: it is looked at, never followed (fstatat with
 *   AT_SYMLINK_NOFOLLOW, opens with O_NOFOLLOW);
 * - anything but a regular file (a folder, a fifo, a device, a socket) is
 *   refused without being opened;
 * - a file with more than one hard link is refused: its other names may be
 *   outside the folder (/etc/shadow linked in);
 * - a qcow2 is opened (O_NOFOLLOW, O_NONBLOCK), must still be the file
 *   looked at, and must stand alone (pp_image_qcow2_check()).
 *
 * The path libvirt gets is FOLDER/FILE as pcipassd sees it: hosts must see
 * the image folders at the same paths (shared storage, as OpenNebula
 * assumes of its system datastore). Whoever can write an image folder
 * decides what VMs read: only administrators should.
 *
 * pcipassd resolves a template's images when a VM is created or placed,
 * to refuse early, and again each time it makes the VM's domain: a file
 * may have changed or gone meanwhile.
 */
#pragma once

#include <glib.h>

#include "pp-image.h"
#include "pp-template.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

#define PP_IMAGES_ERROR (pp_images_error_quark())
GQuark pp_images_error_quark(void);

typedef enum {
  PP_IMAGES_ERROR_NOT_FOUND, /* no such image in any folder */
  PP_IMAGES_ERROR_INVALID,   /* a bad name, or a file pcipass refuses (the message says why) */
  PP_IMAGES_ERROR_FAILED,    /* a folder or file that cannot be read */
} PpImagesError;

/* The most entries of one folder pp_images_list() looks at. */
#define PP_IMAGES_LIST_MAX 10000

typedef struct _PpImages PpImages;

typedef struct {
  char *name;           /* the name that finds it */
  char *dir;            /* its folder, as configured */
  char *file;           /* its file name there */
  char *path;           /* dir/file: what libvirt gets */
  PpImageFormat format; /* from the file's name */
  guint64 size;         /* bytes of the file */
  guint64 virtual_size; /* bytes of the disk the guest sees (a qcow2's own; else size) */
} PpImage;

void pp_image_free(PpImage *image);

/**
 * pp_images_new:
 * @dirs: (nullable): absolute paths of folders, in the order they are
 *   searched; NULL or empty: no images
 *
 * Returns: (transfer full).
 */
PpImages *pp_images_new(const char *const *dirs);
void pp_images_free(PpImages *images);

/* Returns: (transfer none): the folders, NULL-terminated. */
const char *const *pp_images_get_dirs(const PpImages *images);

/**
 * pp_images_resolve:
 * @images: (nullable): NULL has no folders
 *
 * Finds image @name's file.
 *
 * Returns: (transfer full): the image, or %NULL with NOT_FOUND ("no image
 *   'x' in '/var/lib/pcipass/images' ..."), INVALID ("image 'x'
 *   ('/d/x'): it is a symbolic link; ...") or FAILED.
 */
PpImage *pp_images_resolve(const PpImages *images, const char *name, GError **error);

/**
 * pp_images_list:
 * @ret_truncated: (optional): TRUE when a folder had more than
 *   PP_IMAGES_LIST_MAX entries, the rest not looked at
 *
 * The images a template can name now: each regular file of each folder
 * that its name (without extension, or else its whole file name) resolves
 * to; files that a name of an earlier folder hides, and files resolving
 * refuses, are left out. In folder order, then by file name.
 *
 * Returns: (transfer full) (element-type PpImage): the images, or %NULL
 *   with FAILED when a folder cannot be read (a missing one has none).
 */
GPtrArray *pp_images_list(const PpImages *images, gboolean *ret_truncated, GError **error);

/**
 * pp_images_resolve_spec:
 * @ret_pos: (optional): where the failing key is, written only on failure
 *
 * Resolves every image @spec names (DISK's IMAGE, OS's KERNEL_IMAGE and
 * INITRD_IMAGE) and sets what the domain XML reads: the disk's source and
 * format, the spec's kernel and initrd.
 *
 * Returns: FALSE with the error of pp_images_resolve(), its message
 *   prefixed with where: "line 4, column 10: DISK: IMAGE: no image ...".
 */
gboolean pp_images_resolve_spec(const PpImages *images, PpVmSpec *spec, PpTextPos *ret_pos,
                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpImage, pp_image_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpImages, pp_images_free)

G_END_DECLS
