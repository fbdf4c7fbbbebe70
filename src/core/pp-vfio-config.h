/* pp-vfio-config: the host configuration that the guide asks an
 * administrator to write by hand, generated for a set of devices. Pure:
 * the files' current texts go in, their new texts come out; the caller
 * reads, shows diffs and writes.
 *
 *   etc/default/grub                   GRUB_CMDLINE_LINUX gains intel_iommu=on (or
 *                                      amd_iommu=on), iommu=pt, rd.driver.pre=vfio-pci and
 *                                      rd.driver.blacklist= for the drivers blacklisted
 *   etc/dracut.conf.d/pcipass-vfio.conf   add_drivers+=" vfio vfio_iommu_type1 vfio_pci "
 *                                      (where dracut is installed)
 *   etc/initramfs-tools/modules        the same modules, in a marked block (Debian, Ubuntu)
 *   etc/modprobe.d/pcipass-vfio.conf   softdep MODULE pre: vfio-pci for the devices'
 *                                      modules, and `blacklist MODULE` only for a module that
 *                                      no device staying with the host uses
 *   etc/sysconfig/pcipass-vfio         DEVICES="0000:04:00.0 ..." for the boot unit
 *   etc/libvirt/qemu.conf              cgroup_device_acl with /dev/vfio/vfio and the
 *                                      /dev/vfio/N of the devices' groups
 *
 * No `options vfio-pci ids=`: an id also takes the device's identical
 * twins, which may be the host's own; the boot unit binds by address.
 * Each file is changed only where pcipass-vfio owns it; a file that cannot
 * be parsed is left alone and reported, and a step that is not needed (the
 * file already as wanted, or the tool it configures absent) says why.
 */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"

G_BEGIN_DECLS

#define PP_VFIO_CONFIG_GRUB "etc/default/grub"
#define PP_VFIO_CONFIG_DRACUT "etc/dracut.conf.d/pcipass-vfio.conf"
#define PP_VFIO_CONFIG_INITRAMFS "etc/initramfs-tools/modules"
#define PP_VFIO_CONFIG_MODPROBE "etc/modprobe.d/pcipass-vfio.conf"
#define PP_VFIO_CONFIG_SYSCONFIG "etc/sysconfig/pcipass-vfio"
#define PP_VFIO_CONFIG_QEMU "etc/libvirt/qemu.conf"

typedef struct {
  char *path;     /* relative to the root */
  char *old_text; /* NULL: the file does not exist */
  char *new_text; /* NULL when it cannot be changed (see error) or is skipped */
  char *error;    /* why it is left alone: it cannot be parsed; or NULL */
  char *skipped;  /* why the step is skipped: the file is already as wanted
                   * (new_text then equals old_text), or what it configures
                   * is not on this host; or NULL */
} PpConfigFile;

typedef struct {
  PpPciAddress address;
  char *module;     /* the module to keep off it (softdep, blacklist); NULL if none */
  gboolean builtin; /* that module is built into the kernel: it cannot be kept off */
  gint iommu_group;
} PpConfigDevice;

typedef struct {
  const char *iommu_vendor;     /* "intel", "amd", or NULL: which *_iommu=on */
  GArray *devices;              /* PpConfigDevice: the devices to pass through, groups complete */
  GHashTable *module_kept;      /* module -> "0000:00:19.0": a device staying with the host
                                 * that uses it (such a module is not blacklisted) */
  gboolean has_vfio_virqfd;     /* the kernel still has the vfio_virqfd module (before 6.2) */
  gboolean has_dracut;          /* etc/dracut.conf.d exists */
  gboolean has_initramfs_tools; /* etc/initramfs-tools exists */
  GHashTable *texts;            /* path -> the file's current text; absent: no such file */
} PpVfioConfigInput;

/**
 * pp_vfio_config_generate:
 * @ret_kernel_params: (out) (transfer full): the kernel parameters wanted,
 *   for a host whose boot loader is not GRUB
 * @ret_warnings: (out) (transfer full) (element-type utf8): what the files
 *   cannot fix: an IOMMU turned off in GRUB_CMDLINE_LINUX_DEFAULT, which
 *   wins; an IOMMU still off, so that groups are not known yet
 *
 * Returns: (transfer full) (element-type PpConfigFile): every file, in the
 *   order of the list above; those whose tool is missing (no GRUB file, no
 *   dracut, no initramfs-tools, no libvirt) and those already as wanted
 *   have `skipped` set.
 */
GPtrArray *pp_vfio_config_generate(const PpVfioConfigInput *in, char ***ret_kernel_params,
                                   GPtrArray **ret_warnings);

void pp_config_file_free(PpConfigFile *file);

G_END_DECLS
