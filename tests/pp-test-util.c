#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "pp-test-util.h"

void
pp_test_run_clear(PpTestRun *run)
{
  g_clear_pointer(&run->out, g_free);
  g_clear_pointer(&run->err, g_free);
  run->status = -1;
}

void
pp_test_run(const char *const *argv, const char *input, PpTestRun *ret)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) in = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE;

  if (input != NULL)
    flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
  proc = g_subprocess_newv(argv, flags, &error);
  g_assert_no_error(error);
  if (input != NULL)
    in = g_bytes_new(input, strlen(input));
  g_subprocess_communicate(proc, in, NULL, &out, &err, &error);
  g_assert_no_error(error);
  /* g_strndup(NULL, 0) is NULL: empty output is "". */
  ret->out =
      g_strndup(g_bytes_get_size(out) ? g_bytes_get_data(out, NULL) : "", g_bytes_get_size(out));
  ret->err =
      g_strndup(g_bytes_get_size(err) ? g_bytes_get_data(err, NULL) : "", g_bytes_get_size(err));
  if (g_subprocess_get_if_exited(proc))
    ret->status = g_subprocess_get_exit_status(proc);
  else
    ret->status = 128 + g_subprocess_get_term_sig(proc);
}

char *
pp_test_build_path(const char *relative)
{
  const char *root = g_getenv("PP_BUILD_ROOT");

  g_assert_nonnull(root);
  return g_build_filename(root, relative, NULL);
}

/* Where test folders go: $PP_TEST_TMPDIR, else /dev/shm (unpacking a
 * fixture of 9000 files takes 0.2 s on tmpfs and can take 7 s on a disk),
 * else the usual temporary folder. */
static const char *
test_tmpdir(void)
{
  const char *dir = g_getenv("PP_TEST_TMPDIR");

  if (dir != NULL && dir[0] != '\0')
    return dir;
  if (access("/dev/shm", W_OK | X_OK) == 0)
    return "/dev/shm";
  return g_get_tmp_dir();
}

char *
pp_test_mkdtemp(void)
{
  char *dir = g_build_filename(test_tmpdir(), "pcipass-test-XXXXXX", NULL);

  if (g_mkdtemp(dir) == NULL)
    g_error("cannot make a folder '%s': %s", dir, g_strerror(errno));
  return dir;
}

void
pp_test_rmtree(const char *path)
{
  PpTestRun run = { 0 };

  if (path == NULL)
    return;
  /* Tests make folders unreadable on purpose: give them back first. */
  pp_test_run((const char *const[]){ "/bin/chmod", "-R", "u+rwx", "--", path, NULL }, NULL, &run);
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ "/bin/rm", "-rf", "--", path, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
}

void
pp_test_write_file(const char *path, const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname(path);

  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_file_set_contents(path, contents, -1, &error);
  g_assert_no_error(error);
}

void
pp_test_symlink(const char *target, const char *path)
{
  g_autofree char *dir = g_path_get_dirname(path);

  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  g_assert_cmpint(symlink(target, path), ==, 0);
}

const char *
pp_test_fixtures_dir(void)
{
  const char *dir = g_getenv("PP_FIXTURES_DIR");

  g_assert_nonnull(dir);
  if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
    g_error("the fixtures are not at '%s': they are in the source tree's tests/data/fixtures "
            "(meson configure -Dfixtures_dir=DIR chooses another folder)",
            dir);
  return dir;
}

void
pp_test_unpack(const char *relative, const char *into)
{
  g_autofree char *tarball = g_build_filename(pp_test_fixtures_dir(), relative, NULL);
  const char *argv[] = { "/bin/tar", "-xf", tarball, "-C", into, NULL };
  PpTestRun run = { 0 };

  g_assert_true(g_file_test(tarball, G_FILE_TEST_IS_REGULAR));
  pp_test_run(argv, NULL, &run);
  if (run.status != 0)
    g_error("unpacking '%s' failed: %s", tarball, run.err);
  pp_test_run_clear(&run);
}

char *
pp_test_sysfs_new(const char *dir)
{
  char *sys = g_build_filename(dir, "sys", NULL);
  g_autofree char *devices = g_build_filename(sys, "bus", "pci", "devices", NULL);

  g_assert_cmpint(g_mkdir_with_parents(devices, 0755), ==, 0);
  return sys;
}

static void
symlink_or_die(const char *target, const char *path)
{
  if (symlink(target, path) != 0 && errno != EEXIST)
    g_error("symlink '%s' -> '%s': %s", path, target, g_strerror(errno));
}

char *
pp_test_sysfs_device_dir(const char *sys, const char *bdf)
{
  g_autofree char *link = g_build_filename(sys, "bus", "pci", "devices", bdf, NULL);
  g_autofree char *target = g_file_read_link(link, NULL);
  g_autofree char *parent = g_path_get_dirname(link);

  g_assert_nonnull(target);
  return g_canonicalize_filename(target, parent);
}

void
pp_test_sysfs_set_group(const char *sys, const char *bdf, gint group)
{
  g_autofree char *dev = pp_test_sysfs_device_dir(sys, bdf);
  g_autofree char *group_dir = g_strdup_printf("%s/kernel/iommu_groups/%d/devices", sys, group);
  g_autofree char *link = g_build_filename(dev, "iommu_group", NULL);
  g_autofree char *member = g_build_filename(group_dir, bdf, NULL);
  g_autofree char *rel_group = NULL;
  g_autofree char *rel_dev = NULL;
  const char *p;
  GString *ups = g_string_new(NULL);

  g_assert_cmpint(g_mkdir_with_parents(group_dir, 0755), ==, 0);
  /* Relative links, as the kernel makes them: count the levels below sys. */
  for (p = dev + strlen(sys); *p != '\0'; p++)
    if (*p == '/')
      g_string_append(ups, "../");
  rel_group = g_strdup_printf("%skernel/iommu_groups/%d", ups->str, group);
  g_string_free(ups, TRUE);
  unlink(link);
  symlink_or_die(rel_group, link);
  rel_dev = g_strdup_printf("../../../../devices/%s", dev + strlen(sys) + strlen("/devices/"));
  symlink_or_die(rel_dev, member);
}

void
pp_test_sysfs_add_device(const char *sys, const char *bdf, guint16 vendor, guint16 device,
                         guint32 class_code, gint group, const char *driver)
{
  g_autofree char *domain = g_strndup(bdf, strlen(bdf) - strlen(":00:00.0"));
  g_autofree char *dev = g_strdup_printf("%s/devices/pci%s:00/%s", sys, domain, bdf);
  g_autofree char *link = g_build_filename(sys, "bus", "pci", "devices", bdf, NULL);
  g_autofree char *target = g_strdup_printf("../../../devices/pci%s:00/%s", domain, bdf);
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;

  g_assert_cmpint(g_mkdir_with_parents(dev, 0755), ==, 0);
  text = g_strdup_printf("0x%04x\n", vendor);
  path = g_build_filename(dev, "vendor", NULL);
  pp_test_write_file(path, text);
  g_free(text);
  g_free(path);
  text = g_strdup_printf("0x%04x\n", device);
  path = g_build_filename(dev, "device", NULL);
  pp_test_write_file(path, text);
  g_free(text);
  g_free(path);
  text = g_strdup_printf("0x%06x\n", class_code);
  path = g_build_filename(dev, "class", NULL);
  pp_test_write_file(path, text);
  g_free(path);
  path = g_build_filename(dev, "numa_node", NULL);
  pp_test_write_file(path, "-1\n");
  symlink_or_die(target, link);

  if (driver != NULL) {
    g_autofree char *drv_dir = g_build_filename(sys, "bus", "pci", "drivers", driver, NULL);
    g_autofree char *drv_link = g_build_filename(dev, "driver", NULL);
    g_autofree char *drv_target = g_strdup_printf("../../../bus/pci/drivers/%s", driver);

    g_assert_cmpint(g_mkdir_with_parents(drv_dir, 0755), ==, 0);
    symlink_or_die(drv_target, drv_link);
  }
  if (group >= 0)
    pp_test_sysfs_set_group(sys, bdf, group);
}

void
pp_test_sysfs_link_vf(const char *sys, const char *pf_bdf, const char *vf_bdf, guint index)
{
  g_autofree char *pf = pp_test_sysfs_device_dir(sys, pf_bdf);
  g_autofree char *vf = pp_test_sysfs_device_dir(sys, vf_bdf);
  g_autofree char *virtfn = g_strdup_printf("%s/virtfn%u", pf, index);
  g_autofree char *physfn = g_build_filename(vf, "physfn", NULL);
  g_autofree char *pf_parent = g_path_get_dirname(pf);
  g_autofree char *vf_parent = g_path_get_dirname(vf);
  g_autofree char *to_vf = NULL;
  g_autofree char *to_pf = NULL;

  /* The kernel links siblings as ../<bdf>; these trees put a PF and its
   * VFs under the same bridge. */
  g_assert_cmpstr(pf_parent, ==, vf_parent);
  to_vf = g_strdup_printf("../%s", vf_bdf);
  to_pf = g_strdup_printf("../%s", pf_bdf);
  symlink_or_die(to_vf, virtfn);
  symlink_or_die(to_pf, physfn);
}

guint
pp_test_count(const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

PpPciDevice *
pp_test_device_new(const char *address, guint16 vendor, guint16 device, guint32 class_code,
                   const char *name)
{
  PpPciAddress a;
  PpPciDevice *d;

  g_assert_true(pp_pci_address_parse(address, &a, NULL));
  d = pp_pci_device_new(&a);
  d->vendor = vendor;
  d->device = device;
  d->class_code = class_code;
  d->device_name = g_strdup(name);
  return d;
}
