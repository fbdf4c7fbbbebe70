/* pp-test-util: what the tests share: temporary folders, running the real
 * binaries (argv, never a shell), unpacking the fixtures, and fake
 * sysfs trees built the way the kernel lays them out (STYLE rule 34). */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"

G_BEGIN_DECLS

typedef struct {
  char *out;
  char *err;
  int status; /* the exit code; 128 + N for a signal N */
} PpTestRun;

void pp_test_run_clear(PpTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpTestRun, pp_test_run_clear)

/* Runs @argv (argv[0] a path) with @input on stdin (nullable); asserts that
 * it could be started. */
void pp_test_run(const char *const *argv, const char *input, PpTestRun *ret);

/* The path of a built program, from the environment meson sets
 * (PP_BUILD_ROOT) and its path below the build root. */
char *pp_test_build_path(const char *relative);

/* A new empty folder, removed with pp_test_rmtree(). */
char *pp_test_mkdtemp(void);
void pp_test_rmtree(const char *path);

/* Both make the folders above @path. */
void pp_test_write_file(const char *path, const char *contents);
void pp_test_symlink(const char *target, const char *path);

/* The fixtures folder (tests/data/fixtures, meson's fixtures_dir), asserted
 * to exist. */
const char *pp_test_fixtures_dir(void);

/* Unpacks fixture @relative (a tarball below the fixtures folder) into a
 * new folder @into, which must exist. */
void pp_test_unpack(const char *relative, const char *into);

/* The root of a fake sysfs tree: `<dir>/sys`, created. */
char *pp_test_sysfs_new(const char *dir);

/**
 * pp_test_sysfs_add_device:
 * @sys: the tree's sys folder
 * @bdf: `0000:01:00.0`
 * @class_code: 24 bits, as in sysfs's class file
 * @group: the IOMMU group, or -1
 * @driver: (nullable): the bound driver
 *
 * Adds a device below a root port folder, with the bus/pci/devices link,
 * relative driver and iommu_group links, and the group's devices folder.
 */
void pp_test_sysfs_add_device(const char *sys, const char *bdf, guint16 vendor, guint16 device,
                              guint32 class_code, gint group, const char *driver);

/* The folder of a device in a tree (following bus/pci/devices). */
char *pp_test_sysfs_device_dir(const char *sys, const char *bdf);

/* Adds `iommu_group` to an existing device, and the group's folder and
 * link, as the kernel does. */
void pp_test_sysfs_set_group(const char *sys, const char *bdf, gint group);

/* Makes @vf_bdf a VF of @pf_bdf: physfn and virtfnN links. */
void pp_test_sysfs_link_vf(const char *sys, const char *pf_bdf, const char *vf_bdf, guint index);

/* A device with these ids and name, for tests of pure logic. */
PpPciDevice *pp_test_device_new(const char *address, guint16 vendor, guint16 device,
                                guint32 class_code, const char *name);

/* Counts the occurrences of @needle in @haystack. */
guint pp_test_count(const char *haystack, const char *needle);

G_END_DECLS
