/* pp-context-iso: the ISO 9660 image of a VM's context disk (issue 13),
 * made in memory with libisofs, for the deployer to upload into a volume
 * of the host's pool (no shelling out to genisoimage or xorriso).
 *
 * The image has three directory trees over the same file data, each
 * naming the files exactly as given (lower case, '-' and '.' kept), so
 * that every reader finds them:
 *
 *   ISO 9660   level 3, relaxed: lower case and 7-bit ASCII allowed, no
 *              forced dot, no ";1" version (readers without extensions)
 *   Rock Ridge POSIX names, mode 0444 for files and 0555 for the root,
 *              owned by root (Linux mounts it by default)
 *   Joliet     UCS-2 names (Windows, and blkid's label)
 *
 * The volume id is the disk's label as given, case kept ("CONTEXT" for
 * OpenNebula's context packages, "cidata" for cloud-init's NoCloud, which
 * looks for that exact label), in the primary and the Joliet volume
 * descriptors. The files are at the root, in name order (ISO 9660 sorts
 * a directory).
 *
 * Reproducible: the same disk gives the same bytes, whatever the time,
 * the time zone or how many images the process made before, so that the
 * deployer can compare a rebuilt image with the last one it uploaded and
 * upload only when they differ. Every timestamp (the volume descriptors',
 * the directory records', Rock Ridge's) is PP_CONTEXT_ISO_TIME, in GMT;
 * modes and owners are fixed; libisofs numbers inodes per image.
 *
 * Bounded: the files hold PP_CONTEXT_ISO_MAX_SIZE bytes at most, and the
 * image as much plus PP_CONTEXT_ISO_OVERHEAD_MAX (the system area,
 * descriptors, path tables, directories: 68 KiB with one small
 * context.sh, 72 KiB with NoCloud's three small files).
 *
 * Threads: libisofs is initialised once, on first use, and one global
 * lock serialises every use of it in this module: libisofs keeps global
 * state (its message queue, the serial numbers of memory streams) that is
 * not safe to touch from two threads at once, and pcipassd's deployer may
 * build images from its worker threads. An image takes milliseconds.
 */
#pragma once

#include <glib.h>

#include "pp-context.h"

G_BEGIN_DECLS

#define PP_CONTEXT_ISO_ERROR (pp_context_iso_error_quark())
GQuark pp_context_iso_error_quark(void);

typedef enum {
  PP_CONTEXT_ISO_ERROR_INVALID, /* a disk that cannot be written: too big, a bad name */
  PP_CONTEXT_ISO_ERROR_FAILED,  /* libisofs failed: its message says why */
} PpContextIsoError;

/* What the files of one disk may hold, together. */
#define PP_CONTEXT_ISO_MAX_SIZE (16 * 1024 * 1024)
/* What the image may add to them: volume descriptors, path tables,
 * directories. */
#define PP_CONTEXT_ISO_OVERHEAD_MAX (1024 * 1024)
/* Files a disk may hold. */
#define PP_CONTEXT_ISO_FILES_MAX 64
/* A file name's bytes at most: Joliet's limit. */
#define PP_CONTEXT_ISO_NAME_MAX 64
/* A label's bytes at most: Joliet's volume id (16 UCS-2 characters). */
#define PP_CONTEXT_ISO_LABEL_MAX 16
/* Every timestamp of the image: 2000-01-01T00:00:00Z. */
#define PP_CONTEXT_ISO_TIME ((gint64)946684800)

/**
 * pp_context_iso_build:
 * @disk: its label and files (names of 1 to PP_CONTEXT_ISO_NAME_MAX
 *   bytes of printable ASCII without '/', each once)
 *
 * The ISO image of @disk, made in memory. Safe to call from any thread.
 *
 * Returns: (transfer full): the image, a whole number of 2048-byte
 *   blocks; NULL with INVALID when the disk cannot be written ("the
 *   context disk's files hold 16777300 bytes, more than the 16777216 a
 *   context disk may hold: make the CONTEXT values smaller", a name or
 *   label that is not allowed), or FAILED naming the libisofs step that
 *   failed and libisofs's message.
 */
GBytes *pp_context_iso_build(const PpContextDisk *disk, GError **error);

G_END_DECLS
