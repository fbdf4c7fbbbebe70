/* pp-guest-disk: the context disk, found by its ISO 9660 volume id among
 * the block devices that sysfs lists, without udev or blkid (a busybox
 * initramfs has neither), and its context.sh read from a read-only
 * mount. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * pp_guest_disk_find:
 * @sysfs: the sysfs root: its class/block/ lists the block devices
 * @dev: where their nodes are: @dev/NAME
 * @label: the volume id, "CONTEXT"
 *
 * Reads each block device's primary volume descriptor, in the order of
 * their names.
 *
 * Returns: (transfer full): the node's path, or NULL with G_FILE_ERROR
 *   NOENT naming what was looked at.
 */
char *pp_guest_disk_find(const char *sysfs, const char *dev, const char *label, GError **error);

/**
 * pp_guest_disk_read:
 * @device: the disk's node
 * @file: the file at the disk's root, "context.sh"
 * @max: the most bytes accepted
 *
 * Mounts @device (iso9660, read-only, nosuid, nodev, noexec) on a new
 * private folder, reads @file, unmounts and removes the folder.
 *
 * Returns: (transfer full): the file's bytes, or NULL with a G_FILE_ERROR.
 */
GBytes *pp_guest_disk_read(const char *device, const char *file, gsize max, GError **error);

/**
 * pp_guest_read_file:
 *
 * Reads @path, not through a symbolic link, at most @max bytes.
 *
 * Returns: (transfer full): its bytes, or NULL with a G_FILE_ERROR naming
 *   @path.
 */
GBytes *pp_guest_read_file(const char *path, gsize max, GError **error);

G_END_DECLS
