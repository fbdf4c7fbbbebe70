#include "config.h"

#include <string.h>
#include <unistd.h>

#include "pp-test-host.h"

#define GHW_SERVER "ghw-sysfs/linux-amd64-8581cf3a529e5d8b97ea876eade2f60d.tar.gz"

/* IOMMU groups as a server board of that era has them: the two functions
 * of each BCM5709 card share a group (no ACS between them), the I350's
 * first port shares one with its root port (a bridge, which stays), the
 * rest alone. */
static const struct {
  const char *bdf;
  gint group;
} groups[] = {
  { "0000:01:00.0", 20 },
  { "0000:01:00.1", 20 },
  { "0000:02:00.0", 21 },
  { "0000:02:00.1", 22 },
  { "0000:03:00.0", 23 },
  { "0000:00:09.0", 30 },
  { "0000:05:00.0", 30 },
  { "0000:05:00.1", 31 },
  { "0000:07:03.0", 25 },
  /* A root port alone; the chipset's ISA bridge with its SATA controller. */
  { "0000:00:1c.0", 40 },
  { "0000:00:1f.0", 41 },
  { "0000:00:1f.2", 41 },
};

static void
touch(const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename(dir, name, NULL);

  pp_test_write_file(path, contents);
}

void
pp_test_host_setup(PpTestHost *h)
{
  g_autofree char *devices = NULL;
  g_autofree char *drivers = NULL;
  g_autofree char *vfio = NULL;
  g_autofree char *pci = NULL;
  g_autoptr(GDir) d = NULL;
  const char *name;

  h->dir = pp_test_mkdtemp();
  h->root = g_build_filename(h->dir, "host", NULL);
  g_assert_cmpint(g_mkdir_with_parents(h->root, 0755), ==, 0);
  pp_test_unpack(GHW_SERVER, h->root);
  h->sys = g_build_filename(h->root, "sys", NULL);
  h->state = g_build_filename(h->root, "var", "lib", "pcipass", "vfio.state", NULL);

  for (guint i = 0; i < G_N_ELEMENTS(groups); i++)
    pp_test_sysfs_set_group(h->sys, groups[i].bdf, groups[i].group);

  /* What the capture pruned and a kernel has: driver_override in every
   * device ("(null)" when unset), bind and unbind in every driver,
   * drivers_probe; and vfio-pci, loaded. */
  devices = g_build_filename(h->sys, "bus", "pci", "devices", NULL);
  d = g_dir_open(devices, 0, NULL);
  while ((name = g_dir_read_name(d)) != NULL) {
    g_autofree char *dev = pp_test_sysfs_device_dir(h->sys, name);

    touch(dev, "driver_override", "(null)\n");
  }
  g_clear_pointer(&d, g_dir_close);
  drivers = g_build_filename(h->sys, "bus", "pci", "drivers", NULL);
  vfio = g_build_filename(drivers, "vfio-pci", NULL);
  g_assert_cmpint(g_mkdir_with_parents(vfio, 0755), ==, 0);
  d = g_dir_open(drivers, 0, NULL);
  while ((name = g_dir_read_name(d)) != NULL) {
    g_autofree char *drv = g_build_filename(drivers, name, NULL);

    touch(drv, "bind", "");
    touch(drv, "unbind", "");
  }
  pci = g_build_filename(h->sys, "bus", "pci", NULL);
  touch(pci, "drivers_probe", "");

  h->kernel = NULL;
}

void
pp_test_host_kernel_start(PpTestHost *h)
{
  g_autofree char *dev = g_build_filename(h->root, "dev", NULL);

  h->kernel = pp_fake_kernel_start(h->sys, dev);
  /* What drivers_probe picks without an override: the device's own. */
  pp_fake_kernel_set_default(h->kernel, "0000:01:00.0", "bnx2");
  pp_fake_kernel_set_default(h->kernel, "0000:01:00.1", "bnx2");
  pp_fake_kernel_set_default(h->kernel, "0000:02:00.0", "bnx2");
  pp_fake_kernel_set_default(h->kernel, "0000:02:00.1", "bnx2");
  pp_fake_kernel_set_default(h->kernel, "0000:05:00.0", "igb");
}

/* The writes the kernel saw, one per line. */
char *
pp_test_host_kernel_stop(PpTestHost *h)
{
  g_autoptr(GPtrArray) writes = pp_fake_kernel_stop(h->kernel);
  GString *s = g_string_new(NULL);

  h->kernel = NULL;
  for (guint i = 0; i < writes->len; i++)
    g_string_append_printf(s, "%s\n", (char *)g_ptr_array_index(writes, i));
  return g_string_free(s, FALSE);
}

void
pp_test_host_teardown(PpTestHost *h)
{
  if (h->kernel != NULL)
    g_free(pp_test_host_kernel_stop(h));
  pp_test_rmtree(h->dir);
  g_free(h->dir);
  g_free(h->root);
  g_free(h->sys);
  g_free(h->state);
}

/* Runs pcipass-vfio ARGS... --root ROOT --wait 0.5. */
void
pp_test_host_vfio(PpTestHost *h, PpTestRun *run, ...)
{
  g_autofree char *binary = pp_test_build_path("src/host/pcipass-vfio");
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  va_list args;
  const char *arg;

  g_ptr_array_add(argv, binary);
  va_start(args, run);
  while ((arg = va_arg(args, const char *)) != NULL)
    g_ptr_array_add(argv, (char *)arg);
  va_end(args);
  g_ptr_array_add(argv, "--root");
  g_ptr_array_add(argv, h->root);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, run);
}

char *
pp_test_host_driver(PpTestHost *h, const char *bdf)
{
  g_autofree char *dir = pp_test_sysfs_device_dir(h->sys, bdf);
  g_autofree char *link = g_build_filename(dir, "driver", NULL);
  g_autofree char *target = g_file_read_link(link, NULL);

  return target ? g_path_get_basename(target) : g_strdup("none");
}

char *
pp_test_host_override(PpTestHost *h, const char *bdf)
{
  g_autofree char *dir = pp_test_sysfs_device_dir(h->sys, bdf);
  g_autofree char *path = g_build_filename(dir, "driver_override", NULL);
  char *text = NULL;

  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  return g_strstrip(text);
}

char *
pp_test_host_state(PpTestHost *h)
{
  char *text = NULL;

  if (!g_file_get_contents(h->state, &text, NULL, NULL))
    return g_strdup("");
  return text;
}
