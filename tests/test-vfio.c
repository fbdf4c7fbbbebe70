/* pcipass-vfio bind, unbind, boot and list: the real binary on a copy of a
 * real server's sysfs (ghw's 8581 capture: BCM5709s, an I350 with VFs, a
 * MegaRAID holding /boot, a Matrox VGA), with IOMMU groups added as such a
 * board has them, and the kernel's answers to the writes played by
 * pp-fake-kernel (this machine has no VFIO). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pp-test-host.h"

#define assert_driver(h, bdf, want)                                                                \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autofree char *_d = pp_test_host_driver(h, bdf);                                             \
    g_assert_cmpstr(_d, ==, want);                                                                 \
  }                                                                                                \
  G_STMT_END

static void
test_bind_unbind(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;
  g_autofree char *state = NULL;
  g_autofree char *node = NULL;
  g_autofree char *override = NULL;
  struct stat st;

  pp_test_host_setup(&h);
  pp_test_host_kernel_start(&h);
  assert_driver(&h, "0000:02:00.0", "bnx2");
  pp_test_host_vfio(&h, &run, "bind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  writes = pp_test_host_kernel_stop(&h);
  if (run.status != 0)
    g_error("bind failed: %s", run.err);
  /* By address, in libvirt's order; never new_id. */
  g_assert_cmpstr(writes, ==,
                  "bus/pci/devices/0000:02:00.0/driver_override <- vfio-pci\n"
                  "bus/pci/drivers/bnx2/unbind <- 0000:02:00.0\n"
                  "bus/pci/drivers_probe <- 0000:02:00.0\n");
  g_assert_cmpstr(run.out, ==,
                  "0000:02:00.0: bnx2 -> vfio-pci\n"
                  "/dev/vfio/21 is ready for QEMU\n");
  assert_driver(&h, "0000:02:00.0", "vfio-pci");
  node = g_build_filename(h.root, "dev", "vfio", "21", NULL);
  g_assert_cmpint(lstat(node, &st), ==, 0);
  /* The driver it had is recorded, for unbind and for after a reboot. */
  state = pp_test_host_state(&h);
  g_assert_nonnull(strstr(state, "[0000:02:00.0]\ndriver=bnx2\n"));
  pp_test_run_clear(&run);

  /* Again: nothing to do, nothing written. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "0000:02:00.0", NULL);
  g_free(writes);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(writes, ==, "");
  g_assert_nonnull(strstr(run.out, "nothing to do: already on vfio-pci"));
  pp_test_run_clear(&run);

  /* Back to bnx2, the override cleared, the record gone. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(writes);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(writes, ==,
                  "bus/pci/drivers/vfio-pci/unbind <- 0000:02:00.0\n"
                  "bus/pci/devices/0000:02:00.0/driver_override <- \\n\n"
                  "bus/pci/drivers/bnx2/bind <- 0000:02:00.0\n");
  g_assert_cmpstr(run.out, ==, "0000:02:00.0: vfio-pci -> bnx2\n");
  assert_driver(&h, "0000:02:00.0", "bnx2");
  override = pp_test_host_override(&h, "0000:02:00.0");
  g_assert_cmpstr(override, ==, "");
  g_free(state);
  state = pp_test_host_state(&h);
  g_assert_null(strstr(state, "0000:02:00.0"));
  pp_test_run_clear(&run);

  /* restore is unbind; with nothing bound it does nothing. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "restore", "02:00.0", NULL);
  g_free(writes);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(writes, ==, "");
  g_assert_cmpstr(run.out, ==, "nothing to do: not on vfio-pci\n");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_group_expansion(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;

  pp_test_host_setup(&h);
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  /* The card's second function shares group 20: it goes too, and says so. */
  g_assert_cmpstr(run.out, ==,
                  "0000:01:00.1 (NetXtreme II BCM5709 Gigabit Ethernet) shares IOMMU group 20 "
                  "with 0000:01:00.0: it goes too\n"
                  "0000:01:00.0: bnx2 -> vfio-pci\n"
                  "0000:01:00.1: bnx2 -> vfio-pci\n"
                  "/dev/vfio/20 is ready for QEMU\n");
  assert_driver(&h, "0000:01:00.0", "vfio-pci");
  assert_driver(&h, "0000:01:00.1", "vfio-pci");
  g_assert_cmpuint(pp_test_count(writes, "drivers_probe"), ==, 2);
  pp_test_run_clear(&run);

  /* Unbinding one gives the group back whole. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "01:00.1", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "0000:01:00.0 shares IOMMU group 20: it goes back too\n"
                  "0000:01:00.0: vfio-pci -> bnx2\n"
                  "0000:01:00.1: vfio-pci -> bnx2\n");
  assert_driver(&h, "0000:01:00.0", "bnx2");
  assert_driver(&h, "0000:01:00.1", "bnx2");
  pp_test_run_clear(&run);

  /* The I350's root port is in its group: a bridge, it stays on pcieport. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "05:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(writes);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  assert_driver(&h, "0000:05:00.0", "vfio-pci");
  assert_driver(&h, "0000:00:09.0", "pcieport");
  g_assert_null(strstr(writes, "0000:00:09.0"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_rollback_on_refused_probe(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *state = NULL;

  pp_test_host_setup(&h);
  pp_test_host_kernel_start(&h);
  /* vfio-pci's probe fails on the second function. */
  pp_fake_kernel_refuse(h.kernel, "0000:01:00.1", "vfio-pci");
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", "--wait", "0.3", NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "0000:01:00.1: expected vfio-pci, found no driver after 0.3 s; "
                                   "undone: 0000:01:00.1 is back on bnx2, 0000:01:00.0 is back "
                                   "on bnx2"));
  /* Both as before: drivers, overrides, no record left. */
  assert_driver(&h, "0000:01:00.0", "bnx2");
  assert_driver(&h, "0000:01:00.1", "bnx2");
  {
    g_autofree char *o0 = pp_test_host_override(&h, "0000:01:00.0");
    g_autofree char *o1 = pp_test_host_override(&h, "0000:01:00.1");

    g_assert_cmpstr(o0, ==, "");
    g_assert_cmpstr(o1, ==, "");
  }
  state = pp_test_host_state(&h);
  g_assert_null(strstr(state, "0000:01:00"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_rollback_on_failed_write(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *dev = NULL;
  g_autofree char *override = NULL;

  pp_test_host_setup(&h);
  /* The second function's driver_override cannot be written (a folder
   * where the attribute should be): the first function goes back. */
  dev = pp_test_sysfs_device_dir(h.sys, "0000:01:00.1");
  override = g_build_filename(dev, "driver_override", NULL);
  g_assert_cmpint(unlink(override), ==, 0);
  g_assert_cmpint(mkdir(override, 0755), ==, 0);
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "cannot write 'vfio-pci' to"));
  g_assert_nonnull(strstr(run.err, "0000:01:00.1/driver_override"));
  g_assert_nonnull(strstr(run.err, "undone: 0000:01:00.1 is back on bnx2, 0000:01:00.0 is back "
                                   "on bnx2"));
  assert_driver(&h, "0000:01:00.0", "bnx2");
  assert_driver(&h, "0000:01:00.1", "bnx2");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_dry_run(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;
  g_autofree char *want = NULL;
  g_autofree char *state = NULL;

  pp_test_host_setup(&h);
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "--dry-run", "02:00.0", NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(writes, ==, "");
  want = g_strdup_printf("write 'vfio-pci' to %s/bus/pci/devices/0000:02:00.0/driver_override\n"
                         "write '0000:02:00.0' to %s/bus/pci/drivers/bnx2/unbind\n"
                         "write '0000:02:00.0' to %s/bus/pci/drivers_probe\n",
                         h.sys, h.sys, h.sys);
  g_assert_cmpstr(run.out, ==, want);
  assert_driver(&h, "0000:02:00.0", "bnx2");
  state = pp_test_host_state(&h);
  g_assert_cmpstr(state, ==, "");
  pp_test_run_clear(&run);

  /* As JSON. */
  pp_test_host_vfio(&h, &run, "bind", "--dry-run", "--json", "02:00.0", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"action\": \"write\""));
  g_assert_nonnull(strstr(run.out, "\"value\": \"vfio-pci\""));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_crash_recovery(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *dev = NULL;
  g_autofree char *link = NULL;
  g_autofree char *path = NULL;

  pp_test_host_setup(&h);
  /* A bind that stopped halfway (the machine lost power): the record was
   * written, the override set, bnx2 let go; nothing probed yet. */
  pp_test_write_file(h.state, "[0000:02:00.0]\ndriver=bnx2\n");
  dev = pp_test_sysfs_device_dir(h.sys, "0000:02:00.0");
  path = g_build_filename(dev, "driver_override", NULL);
  pp_test_write_file(path, "vfio-pci\n");
  link = g_build_filename(dev, "driver", NULL);
  g_assert_cmpint(unlink(link), ==, 0);

  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "0000:02:00.0: no driver -> bnx2\n");
  assert_driver(&h, "0000:02:00.0", "bnx2");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_guard(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;
  g_autofree char *route = NULL;
  g_autofree char *eno1 = NULL;
  g_autofree char *eno2 = NULL;
  g_autofree char *eno2_link = NULL;
  g_autofree char *br0 = NULL;
  g_autofree char *br0_port = NULL;
  g_autofree char *vga = NULL;
  g_autofree char *boot_vga = NULL;

  pp_test_host_setup(&h);
  /* The capture's /proc/self/mounts has /dev/sda2 on /boot, and sda sits
   * behind the MegaRAID at 03:00.0. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "03:00.0", NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(writes, ==, "");
  g_assert_nonnull(strstr(run.err, "refusing to bind: 0000:03:00.0 holds /dev/sda2, mounted at "
                                   "/boot"));
  g_assert_nonnull(strstr(run.err, "--force"));
  assert_driver(&h, "0000:03:00.0", "megaraid_sas");
  pp_test_run_clear(&run);

  /* The NIC of the default route: eno1 is 02:00.1. The companion of a
   * group: 01:00.1 is under br0, which has an address. */
  eno1 = g_build_filename(h.sys, "class", "net", "eno1", NULL);
  {
    g_autofree char *net = g_path_get_dirname(eno1);

    g_assert_cmpint(g_mkdir_with_parents(net, 0755), ==, 0);
  }
  g_assert_cmpint(symlink("../../devices/pci0000:00/0000:00:03.0/0000:02:00.1/net/eno1", eno1), ==,
                  0);
  eno2 = g_build_filename(h.sys, "class", "net", "eno2", NULL);
  g_assert_cmpint(symlink("../../devices/pci0000:00/0000:00:01.0/0000:01:00.1/net/eno2", eno2), ==,
                  0);
  br0 = g_build_filename(h.sys, "devices", "virtual", "net", "br0", "brif", NULL);
  g_assert_cmpint(g_mkdir_with_parents(br0, 0755), ==, 0);
  br0_port = g_build_filename(br0, "eno2", NULL);
  g_assert_cmpint(symlink("../../../../../class/net/eno2", br0_port), ==, 0);
  eno2_link = g_build_filename(h.sys, "class", "net", "br0", NULL);
  g_assert_cmpint(symlink("../../devices/virtual/net/br0", eno2_link), ==, 0);
  route = g_build_filename(h.root, "proc", "net", "route", NULL);
  pp_test_write_file(route,
                     "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\t"
                     "Window\tIRTT\n"
                     "eno1\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                     "br0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n");
  pp_test_host_vfio(&h, &run, "bind", "02:00.1", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:02:00.1 is eno1, which carries the default route"));
  pp_test_run_clear(&run);
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:01:00.1, which shares IOMMU group 20 with what was "
                                   "asked, is eno2, under br0, which has an address on "
                                   "10.0.0.0/8"));
  pp_test_run_clear(&run);

  /* The chipset's ISA bridge shares the SATA controller's group. */
  pp_test_host_vfio(&h, &run, "bind", "00:1f.2", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:00:1f.0, which shares IOMMU group 41 with what was asked, "
                                   "is the ISA/LPC bridge"));
  pp_test_run_clear(&run);

  /* The only display device, the console's. */
  vga = pp_test_sysfs_device_dir(h.sys, "0000:07:03.0");
  boot_vga = g_build_filename(vga, "boot_vga", NULL);
  pp_test_write_file(boot_vga, "1\n");
  pp_test_host_vfio(&h, &run, "bind", "07:03.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:07:03.0 is the only display device, and the console's"));
  pp_test_run_clear(&run);

  /* --force takes the administrator's word. */
  pp_test_host_kernel_start(&h);
  pp_fake_kernel_set_default(h.kernel, "0000:03:00.0", "megaraid_sas");
  pp_test_host_vfio(&h, &run, "bind", "03:00.0", "--force", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  assert_driver(&h, "0000:03:00.0", "vfio-pci");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_refusals(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *vfio_dir = NULL;

  pp_test_host_setup(&h);
  pp_test_host_vfio(&h, &run, "bind", "0000:42:00.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:42:00.0: no such PCI device under"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "bind", "42:00", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "'42:00' is not a PCI address"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "bind", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "no device given"));
  pp_test_run_clear(&run);

  /* No IOMMU group: the IOMMU is off, vfio-pci would fail. */
  pp_test_host_vfio(&h, &run, "bind", "05:10.0", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "0000:05:10.0 has no IOMMU group"));
  pp_test_run_clear(&run);

  /* vfio-pci not loaded, and this is not the real root: no modprobe. */
  vfio_dir = g_build_filename(h.sys, "bus", "pci", "drivers", "vfio-pci", NULL);
  pp_test_rmtree(vfio_dir);
  pp_test_host_vfio(&h, &run, "bind", "02:00.0", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "vfio-pci is not loaded under"));
  g_assert_nonnull(strstr(run.err, "loads modules only on the real root"));
  assert_driver(&h, "0000:02:00.0", "bnx2");
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "frobnicate", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "unknown command 'frobnicate'"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "list", "extra", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "list takes no argument 'extra'"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "bind", "02:00.0", "--wait", "-1", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--wait must be between"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_boot(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *sysconfig = NULL;

  pp_test_host_setup(&h);
  pp_test_host_vfio(&h, &run, "boot", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "nothing to do: no /etc/sysconfig/pcipass-vfio\n");
  pp_test_run_clear(&run);

  /* The guide's format. */
  sysconfig = g_build_filename(h.root, "etc", "sysconfig", "pcipass-vfio", NULL);
  pp_test_write_file(sysconfig,
                     "# devices for passthrough\nDEVICES=\"0000:02:00.0 0000:02:00.1\"\n");
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "boot", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  assert_driver(&h, "0000:02:00.0", "vfio-pci");
  assert_driver(&h, "0000:02:00.1", "vfio-pci");
  pp_test_run_clear(&run);

  pp_test_write_file(sysconfig, "DEVICES=\"$(cat /tmp/x)\"\n");
  pp_test_host_vfio(&h, &run, "boot", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "line 1: DEVICES is not a plain list of addresses"));
  pp_test_run_clear(&run);

  /* A card taken out: the others are bound all the same, and boot fails
   * (exit 1) naming it. */
  pp_test_write_file(sysconfig, "DEVICES=\"0000:77:00.0 0000:05:00.1\"\n");
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "boot", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 1);
  {
    g_autofree char *want = g_strdup_printf("pcipass-vfio: 0000:77:00.0, listed in "
                                            "/etc/sysconfig/pcipass-vfio, is not on this host "
                                            "(under '%s'); the others were bound\n",
                                            h.root);

    g_assert_cmpstr(run.err, ==, want);
  }
  assert_driver(&h, "0000:05:00.1", "vfio-pci");
  g_assert_nonnull(strstr(run.out, "0000:05:00.1: igb -> vfio-pci\n"));
  pp_test_run_clear(&run);

  /* --json: bind's object, with what is missing. */
  pp_test_host_vfio(&h, &run, "boot", "--json", NULL);
  g_assert_cmpint(run.status, ==, 1);
  {
    json_error_t jerr;
    json_t *j = json_loads(run.out, 0, &jerr);

    g_assert_nonnull(j);
    g_assert_cmpuint(json_array_size(json_object_get(j, "changed")), ==, 0);
    g_assert_cmpstr(json_string_value(json_array_get(json_object_get(j, "missing"), 0)), ==,
                    "0000:77:00.0");
    json_decref(j);
  }
  pp_test_run_clear(&run);

  /* Only missing devices: nothing bound, still a failure. */
  pp_test_write_file(sysconfig, "DEVICES=\"0000:77:00.0\"\n");
  pp_test_host_vfio(&h, &run, "boot", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "0000:77:00.0, listed in /etc/sysconfig/pcipass-vfio"));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);

  /* A list without devices, in JSON. */
  pp_test_write_file(sysconfig, "DEVICES=\"\"\n");
  pp_test_host_vfio(&h, &run, "boot", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(
      strstr(run.out, "\"nothing_to_do\": \"/etc/sysconfig/pcipass-vfio lists no device\""));
  pp_test_run_clear(&run);

  /* --wait must be a number of seconds: NaN is not. */
  pp_test_host_vfio(&h, &run, "boot", "--wait", "nan", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass-vfio: --wait must be between 0 and 600 seconds\n");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_list(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root, *list;
  gboolean saw_boot_disk = FALSE, saw_bridge = FALSE;

  pp_test_host_setup(&h);
  pp_test_host_vfio(&h, &run, "list", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "IOMMU group 20: can be passed through\n"
                                   "  0000:01:00.0  14e4:1639:0200  bnx2"));
  g_assert_nonnull(strstr(run.out, "IOMMU group 23: cannot be passed through: 0000:03:00.0 holds "
                                   "/dev/sda2, mounted at /boot\n"));
  g_assert_nonnull(strstr(run.out, "the host needs it: it holds /dev/sda1, mounted at /boot/efi"));
  g_assert_nonnull(strstr(run.out, "IOMMU group 30: can be passed through\n"
                                   "  0000:00:09.0"));
  g_assert_nonnull(strstr(run.out, "[bridge: stays with the host]"));
  g_assert_nonnull(strstr(run.out, "No IOMMU group: cannot be passed through: the IOMMU is off"));
  g_assert_nonnull(strstr(run.out, "IOMMU group 40: nothing to pass through: only devices that "
                                   "stay with the host\n"));
  g_assert_nonnull(strstr(run.out, "IOMMU group 41: cannot be passed through: 0000:00:1f.0 is the "
                                   "ISA/LPC bridge (firmware, timers, the clock)\n"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "list", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  list = json_object_get(root, "groups");
  for (guint i = 0; i < json_array_size(list); i++) {
    json_t *g = json_array_get(list, i);
    json_t *devs = json_object_get(g, "devices");

    for (guint d = 0; d < json_array_size(devs); d++) {
      json_t *dev = json_array_get(devs, d);
      const char *addr = json_string_value(json_object_get(dev, "address"));

      if (strcmp(addr, "0000:03:00.0") == 0) {
        g_assert_false(json_is_true(json_object_get(g, "passthrough")));
        /* /boot and /boot/efi, both on sda. */
        g_assert_cmpuint(json_array_size(json_object_get(dev, "host_needs")), ==, 2);
        g_assert_cmpint(json_integer_value(json_object_get(dev, "iommu_group")), ==, 23);
        saw_boot_disk = TRUE;
      }
      if (strcmp(addr, "0000:00:09.0") == 0) {
        g_assert_true(json_is_true(json_object_get(dev, "stays")));
        g_assert_true(json_is_true(json_object_get(g, "passthrough")));
        saw_bridge = TRUE;
      }
    }
  }
  g_assert_true(saw_boot_disk && saw_bridge);
  json_decref(root);
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* The reasons `list` gives for a device, joined with "; ". */
static char *
needs_of(PpTestHost *h, const char *bdf)
{
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root, *list;
  GString *s = g_string_new(NULL);

  pp_test_host_vfio(h, &run, "list", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  list = json_object_get(root, "groups");
  for (guint i = 0; i < json_array_size(list); i++) {
    json_t *devs = json_object_get(json_array_get(list, i), "devices");

    for (guint d = 0; d < json_array_size(devs); d++) {
      json_t *dev = json_array_get(devs, d);
      json_t *needs = json_object_get(dev, "host_needs");

      if (strcmp(json_string_value(json_object_get(dev, "address")), bdf) != 0)
        continue;
      for (guint n = 0; n < json_array_size(needs); n++)
        g_string_append_printf(s, "%s%s", s->len ? "; " : "",
                               json_string_value(json_array_get(needs, n)));
    }
  }
  json_decref(root);
  pp_test_run_clear(&run);
  return g_string_free(s, FALSE);
}

static void
test_host_needs_layers(void)
{
  PpTestHost h;
  g_autofree char *dm = NULL;
  g_autofree char *slave = NULL;
  g_autofree char *swaps = NULL;
  g_autofree char *mountinfo = NULL;
  g_autofree char *devblock = NULL;
  g_autofree char *inet6 = NULL;
  g_autofree char *eno1 = NULL;
  g_autofree char *needs = NULL;

  pp_test_host_setup(&h);
  /* The capture mounts / from /dev/mapper/mainvg-main but pruned the
   * device-mapper folders: put dm-0 back, built on sda3. */
  dm = g_build_filename(h.sys, "devices", "virtual", "block", "dm-0", "dm", "name", NULL);
  pp_test_write_file(dm, "mainvg-main\n");
  slave = g_build_filename(h.sys, "devices", "virtual", "block", "dm-0", "slaves", "sda3", NULL);
  {
    g_autofree char *dir = g_path_get_dirname(slave);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  }
  g_assert_cmpint(symlink("../../../../pci0000:00/0000:00:1c.0/0000:03:00.0/host2/target2:2:0/"
                          "2:2:0:0/block/sda/sda3",
                          slave),
                  ==, 0);
  /* Swap on a partition and in a file on /. */
  swaps = g_build_filename(h.root, "proc", "swaps", NULL);
  pp_test_write_file(swaps, "Filename\tType\tSize\tUsed\tPriority\n"
                            "/dev/sda3\tpartition\t8388604\t0\t-2\n"
                            "/swap\\040file\tfile\t1048572\t0\t-3\n");
  needs = needs_of(&h, "0000:03:00.0");
  /* In the order of /proc/self/mounts. */
  g_assert_cmpstr(needs, ==,
                  "holds /dev/sda3, under /dev/mapper/mainvg-main mounted at /; "
                  "holds /dev/sda2, mounted at /boot; holds /dev/sda1, mounted at /boot/efi; "
                  "holds /dev/sda3, used as swap; "
                  "holds /dev/sda3, under /dev/mapper/mainvg-main holding the swap file "
                  "/swap file");
  g_free(needs);

  /* mountinfo, where the kernel gives major:minor: sys/dev/block finds the
   * disk whatever the source says (/dev/root). */
  mountinfo = g_build_filename(h.root, "proc", "self", "mountinfo", NULL);
  pp_test_write_file(mountinfo, "22 1 8:2 / /srv rw,relatime shared:1 - ext4 /dev/root rw\n"
                                "23 1 0:21 / /proc rw - proc proc rw\n");
  devblock = g_build_filename(h.sys, "dev", "block", "8:2", NULL);
  {
    g_autofree char *dir = g_path_get_dirname(devblock);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  }
  g_assert_cmpint(symlink("../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/host2/"
                          "target2:2:0/2:2:0:0/block/sda/sda2",
                          devblock),
                  ==, 0);
  needs = needs_of(&h, "0000:03:00.0");
  g_assert_nonnull(strstr(needs, "holds /dev/sda2, mounted at /srv"));
  g_free(needs);

  /* A global IPv6 address; a link-local one does not count. */
  eno1 = g_build_filename(h.sys, "class", "net", "eno1", NULL);
  {
    g_autofree char *dir = g_path_get_dirname(eno1);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  }
  g_assert_cmpint(symlink("../../devices/pci0000:00/0000:00:03.0/0000:02:00.1/net/eno1", eno1), ==,
                  0);
  inet6 = g_build_filename(h.root, "proc", "net", "if_inet6", NULL);
  pp_test_write_file(inet6, "20010db8000000000000000000000001 02 40 00 80     eno1\n"
                            "fe800000000000000000000000000001 02 40 20 80     eno1\n");
  needs = needs_of(&h, "0000:02:00.1");
  g_assert_cmpstr(needs, ==, "is eno1, which has the address 2001:db8::1/64");

  /* Empty proc files (a guest without routes or swap) are nothing. */
  g_free(needs);
  pp_test_write_file(swaps, "");
  {
    g_autofree char *route = g_build_filename(h.root, "proc", "net", "route", NULL);
    g_autofree char *route6 = g_build_filename(h.root, "proc", "net", "ipv6_route", NULL);

    pp_test_write_file(route, "");
    pp_test_write_file(route6, "");
  }
  pp_test_write_file(inet6, "");
  needs = needs_of(&h, "0000:02:00.1");
  g_assert_cmpstr(needs, ==, "");
  pp_test_host_teardown(&h);
}

/* What goes wrong: a state file that cannot be read stops everything; a
 * rollback that fails says so and keeps the record; an unbind that fails
 * for one device gives the others back and exits 1; --json says the same. */
static void
test_failures(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  json_error_t jerr;
  json_t *j;

  pp_test_host_setup(&h);

  /* A broken state file: nothing is written, and the message says what to do. */
  pp_test_write_file(h.state, "[0000:02:00.0\ndriver=bnx2\n");
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "cannot read the state file"));
  g_assert_nonnull(strstr(run.err, "(move it away to start afresh)"));
  g_assert_cmpstr(writes, ==, "");
  assert_driver(&h, "0000:02:00.0", "bnx2");
  state = pp_test_host_state(&h);
  g_assert_cmpstr(state, ==, "[0000:02:00.0\ndriver=bnx2\n");
  g_assert_cmpint(unlink(h.state), ==, 0);
  pp_test_run_clear(&run);

  /* The rollback fails too: bnx2 takes nothing back (its bind is a
   * folder), so 01:00.0 is left on no driver, with its record kept. */
  path = g_build_filename(h.sys, "bus", "pci", "drivers", "bnx2", "bind", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  g_assert_cmpint(mkdir(path, 0755), ==, 0);
  {
    g_autofree char *dev = pp_test_sysfs_device_dir(h.sys, "0000:01:00.1");
    g_autofree char *override = g_build_filename(dev, "driver_override", NULL);

    g_assert_cmpint(unlink(override), ==, 0);
    g_assert_cmpint(mkdir(override, 0755), ==, 0);
  }
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "undone: 0000:01:00.1 is back on bnx2, 0000:01:00.0 could not "
                                   "be given back (cannot write '0000:01:00.0' to "));
  g_assert_nonnull(strstr(run.err, "its record is kept, and `pcipass-vfio unbind 0000:01:00.0` "
                                   "tries again\n"));
  assert_driver(&h, "0000:01:00.0", "none");
  g_free(state);
  state = pp_test_host_state(&h);
  g_assert_nonnull(strstr(state, "[0000:01:00.0]\ndriver=bnx2\n"));
  g_assert_null(strstr(state, "0000:01:00.1"));
  pp_test_run_clear(&run);

  /* unbind: 01:00.0 still cannot go back (bnx2's bind is a folder);
   * 05:00.1 can. It goes, and the exit is 1; the JSON names both. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "--json", "05:00.1", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  j = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(j);
  g_assert_cmpstr(json_string_value(json_array_get(json_object_get(j, "changed"), 0)), ==,
                  "0000:05:00.1: igb -> vfio-pci");
  g_assert_cmpstr(json_string_value(json_array_get(json_object_get(j, "vfio_nodes"), 0)), ==,
                  "/dev/vfio/31");
  json_decref(j);
  pp_test_run_clear(&run);

  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "--json", "01:00.0", "05:00.1", "--wait",
                    PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 1);
  j = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(j);
  g_assert_cmpuint(json_array_size(json_object_get(j, "changed")), ==, 1);
  g_assert_cmpstr(json_string_value(json_array_get(json_object_get(j, "changed"), 0)), ==,
                  "0000:05:00.1: vfio-pci -> igb");
  g_assert_cmpuint(json_array_size(json_object_get(j, "failed")), ==, 1);
  g_assert_nonnull(strstr(json_string_value(json_array_get(json_object_get(j, "failed"), 0)),
                          "drivers/bnx2/bind"));
  json_decref(j);
  g_assert_nonnull(strstr(run.err, "drivers/bnx2/bind"));
  assert_driver(&h, "0000:05:00.1", "igb");
  assert_driver(&h, "0000:01:00.0", "none");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* A VM holds the group: unbind refuses, naming it, and changes nothing;
 * --force goes on. The driver's module is recorded at bind. */
static void
test_unbind_in_use(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;
  g_autofree char *state = NULL;
  g_autofree char *state_before = NULL;
  g_autofree char *path = NULL;

  pp_test_host_setup(&h);
  path = g_build_filename(h.sys, "bus", "pci", "drivers", "bnx2", "module", NULL);
  pp_test_symlink("../../../../module/bnx2", path);
  g_free(path);
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  state_before = pp_test_host_state(&h);
  g_assert_nonnull(strstr(state_before, "[0000:02:00.0]\ndriver=bnx2\nmodule=bnx2\n"));

  /* QEMU (pid 4242) holds group 21; pid 99 holds another group, pid 7 a file. */
  path = g_build_filename(h.root, "proc", "4242", "fd", "12", NULL);
  pp_test_symlink("/dev/vfio/21", path);
  g_free(path);
  path = g_build_filename(h.root, "proc", "4242", "comm", NULL);
  pp_test_write_file(path, "qemu-system-x86\n");
  g_free(path);
  path = g_build_filename(h.root, "proc", "99", "fd", "3", NULL);
  pp_test_symlink("/dev/vfio/210", path);
  g_free(path);
  path = g_build_filename(h.root, "proc", "7", "fd", "0", NULL);
  pp_test_symlink("/dev/null", path);

  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==,
                  "pcipass-vfio: refusing to unbind: /dev/vfio/21 is open in pid 4242 "
                  "(qemu-system-x86); shut the VM down, or detach the device from it, first "
                  "(--force unbinds anyway, and waits until the group is let go)\n");
  g_assert_cmpstr(writes, ==, "");
  assert_driver(&h, "0000:02:00.0", "vfio-pci");
  state = pp_test_host_state(&h);
  g_assert_cmpstr(state, ==, state_before);
  pp_test_run_clear(&run);

  /* --dry-run refuses the same: what it prints would not happen. */
  pp_test_host_vfio(&h, &run, "unbind", "--dry-run", "02:00.0", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "is open in pid 4242"));
  pp_test_run_clear(&run);

  /* --force: given back (the fake kernel does not hold the write). */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "unbind", "--force", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  assert_driver(&h, "0000:02:00.0", "bnx2");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* Storage and networks that span several devices, named by the kernel in
 * ways the plain walk does not see. The capture has two storage
 * controllers (03:00.0, a MegaRAID; 00:1f.2, the chipset's SATA). */
static void
test_host_needs_spanning(void)
{
  PpTestHost h;
  g_autofree char *sys = NULL;
  g_autofree char *mountinfo = NULL;
  g_autofree char *route = NULL;
  g_autofree char *path = NULL;
  g_autofree char *sata = NULL;
  g_autofree char *raid = NULL;
  g_autofree char *nic = NULL;
  g_autofree char *eno2 = NULL;

  pp_test_host_setup(&h);
  sys = g_strdup(h.sys);
  mountinfo = g_build_filename(h.root, "proc", "self", "mountinfo", NULL);
  pp_test_write_file(mountinfo,
                     /* btrfs over sda2 (the MegaRAID) and sdb (SATA) */
                     "30 1 0:45 / /data rw - btrfs /dev/sda2 rw\n"
                     /* native NVMe multipath: one disk, two controllers */
                     "31 1 259:0 / /nvme rw - xfs /dev/nvme0n1 rw\n"
                     /* ZFS: every storage controller */
                     "32 1 0:50 / /tank rw - zfs tank/data rw\n"
                     "33 1 0:51 / /tank/home rw - zfs tank/home rw\n"
                     /* a mount point that is not UTF-8 (\377) */
                     "34 1 0:46 / /mnt/\\377x rw - ext4 /dev/sda1 rw\n");
  path = g_build_filename(sys, "fs", "btrfs", "5d6c", "devices", "sda2", NULL);
  pp_test_symlink("../../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/host2/target2:2:0/"
                  "2:2:0:0/block/sda/sda2",
                  path);
  g_free(path);
  path = g_build_filename(sys, "fs", "btrfs", "5d6c", "devices", "sdb", NULL);
  pp_test_symlink("../../../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/"
                  "block/sdb",
                  path);
  g_free(path);
  path = g_build_filename(sys, "class", "block", "sdb", NULL);
  pp_test_symlink("../../devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sdb",
                  path);
  g_free(path);
  path = g_build_filename(sys, "class", "block", "nvme0n1", NULL);
  pp_test_symlink("../../devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1", path);
  g_free(path);
  path = g_build_filename(sys, "class", "nvme-subsystem", "nvme-subsys0", "nvme0", NULL);
  pp_test_symlink("../../../devices/pci0000:00/0000:00:1f.2/nvme/nvme0", path);
  g_free(path);
  path = g_build_filename(sys, "class", "nvme-subsystem", "nvme-subsys0", "nvme1", NULL);
  pp_test_symlink("../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0/nvme/nvme1", path);

  /* Open vSwitch: br-ex carries the default route; eno2 (02:00.1) is in
   * the datapath; eno1 (02:00.0) carries a route through a gateway. */
  g_free(path);
  path = g_build_filename(sys, "class", "net", "br-ex", "master", NULL);
  pp_test_symlink("../ovs-system", path);
  eno2 = g_build_filename(sys, "class", "net", "eno2", NULL);
  pp_test_symlink("../../devices/pci0000:00/0000:00:03.0/0000:02:00.1/net/eno2", eno2);
  g_free(path);
  path = g_build_filename(sys, "devices", "pci0000:00", "0000:00:03.0", "0000:02:00.1", "net",
                          "eno2", "master", NULL);
  pp_test_symlink("../../../../virtual/net/ovs-system", path);
  g_free(path);
  path = g_build_filename(sys, "class", "net", "eno1", NULL);
  pp_test_symlink("../../devices/pci0000:00/0000:00:03.0/0000:02:00.0/net/eno1", path);
  route = g_build_filename(h.root, "proc", "net", "route", NULL);
  pp_test_write_file(
      route, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
             "br-ex\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
             "eno1\t00001AAC\t0100000A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
             "eno1\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0\n");

  sata = needs_of(&h, "0000:00:1f.2");
  raid = needs_of(&h, "0000:03:00.0");
  g_assert_nonnull(strstr(sata, "holds /dev/sdb, mounted at /data (a device of the btrfs "
                                "filesystem on /dev/sda2)"));
  g_assert_nonnull(strstr(raid, "holds /dev/sda2, mounted at /data"));
  g_assert_nonnull(
      strstr(sata, "holds /dev/nvme0n1 (through nvme0, a path of nvme-subsys0), mounted at /nvme"));
  g_assert_nonnull(
      strstr(raid, "holds /dev/nvme0n1 (through nvme1, a path of nvme-subsys0), mounted at /nvme"));
  /* Once per pool, however many of its datasets are mounted. */
  g_assert_nonnull(strstr(sata, "is a storage controller, and may hold the ZFS pool tank"));
  g_assert_nonnull(strstr(raid, "is a storage controller, and may hold the ZFS pool tank"));
  g_assert_null(strstr(strstr(raid, "ZFS pool tank") + 1, "ZFS pool tank"));
  /* Valid JSON, the byte that is not UTF-8 replaced. */
  g_assert_nonnull(strstr(raid, "holds /dev/sda1, mounted at /mnt/\xef\xbf\xbdx"));
  /* No NIC is a storage controller. */
  nic = needs_of(&h, "0000:02:00.1");
  g_assert_cmpstr(nic, ==,
                  "is eno2, which may carry br-ex (Open vSwitch), which carries the default route");
  g_free(nic);
  /* A route through a gateway counts; a link route is an address's. */
  nic = needs_of(&h, "0000:02:00.0");
  g_assert_cmpstr(nic, ==,
                  "is eno1, which carries the route to 172.26.0.0/16; "
                  "is eno1, which has an address on 10.0.0.0/8");

  /* Without the OVS datapath link, eno2 is nothing to br-ex. */
  g_free(nic);
  g_assert_cmpint(unlink(path), ==, 0);
  {
    g_autofree char *master = g_build_filename(sys, "devices", "pci0000:00", "0000:00:03.0",
                                               "0000:02:00.1", "net", "eno2", "master", NULL);

    g_assert_cmpint(unlink(master), ==, 0);
  }
  nic = needs_of(&h, "0000:02:00.1");
  g_assert_cmpstr(nic, ==, "");
  pp_test_host_teardown(&h);
}

static void
test_what_stays(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *writes = NULL;

  pp_test_host_setup(&h);
  /* A root port: never bound, the guard or not. */
  pp_test_host_vfio(&h, &run, "bind", "00:1c.0", "--force", NULL);
  g_assert_cmpint(run.status, ==, 2);
  /* Said as the guard says what it is (the probe's HOST_NEEDS). */
  g_assert_cmpstr(run.err, ==,
                  "pcipass-vfio: refusing to bind: 0000:00:1c.0 is a PCI bridge (the devices "
                  "behind it hang from it): bridges stay with the host (vfio-pci takes "
                  "endpoints); give the devices behind it\n");
  pp_test_run_clear(&run);
  pp_test_host_vfio(&h, &run, "config", "--devices", "00:1c.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "refusing to configure: 0000:00:1c.0 is a PCI bridge"));
  pp_test_run_clear(&run);

  /* A host bridge without a driver in a NIC's group (as some boards have
   * a dummy one with the GPU): it stays, the NIC goes. */
  pp_test_sysfs_set_group(h.sys, "0000:00:00.0", 21);
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  writes = pp_test_host_kernel_stop(&h);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(writes, "0000:00:00.0"));
  pp_test_run_clear(&run);
  pp_test_host_vfio(&h, &run, "bind", "00:00.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==,
                  "pcipass-vfio: refusing to bind: 0000:00:00.0 is a host bridge (the "
                  "processor's link to PCI): it stays with the host\n");
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

static void
test_sriov_pf(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *pf = NULL;
  g_autofree char *num = NULL;
  g_autofree char *total = NULL;
  g_autofree char *eno = NULL;
  g_autofree char *route = NULL;

  pp_test_host_setup(&h);
  /* The I350's first port with 4 VFs; its first VF carries the route. */
  pf = pp_test_sysfs_device_dir(h.sys, "0000:05:00.0");
  num = g_build_filename(pf, "sriov_numvfs", NULL);
  total = g_build_filename(pf, "sriov_totalvfs", NULL);
  pp_test_write_file(num, "4\n");
  pp_test_write_file(total, "7\n");
  pp_test_sysfs_link_vf(h.sys, "0000:05:00.0", "0000:05:10.0", 0);
  pp_test_sysfs_set_group(h.sys, "0000:05:10.0", 50);
  pp_test_host_vfio(&h, &run, "bind", "05:00.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:05:00.0 has 4 VFs enabled, which taking it from igb would "
                                   "remove"));
  pp_test_run_clear(&run);

  eno = g_build_filename(h.sys, "class", "net", "eno5v0", NULL);
  {
    g_autofree char *dir = g_path_get_dirname(eno);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  }
  g_assert_cmpint(symlink("../../devices/pci0000:00/0000:00:09.0/0000:05:10.0/net/eno5v0", eno), ==,
                  0);
  route = g_build_filename(h.root, "proc", "net", "route", NULL);
  pp_test_write_file(route, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\n"
                            "eno5v0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\n");
  pp_test_host_vfio(&h, &run, "list", NULL);
  g_assert_nonnull(strstr(run.out, "the host needs it: it has the VF 0000:05:10.0, which is "
                                   "eno5v0, which carries the default route"));
  pp_test_run_clear(&run);
  /* --force answers for the guard and the VFs alike. */
  pp_test_host_vfio(&h, &run, "bind", "05:10.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "0000:05:10.0 is eno5v0, which carries the default route"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vfio/bind-unbind", test_bind_unbind);
  g_test_add_func("/vfio/group-expansion", test_group_expansion);
  g_test_add_func("/vfio/rollback/refused-probe", test_rollback_on_refused_probe);
  g_test_add_func("/vfio/rollback/failed-write", test_rollback_on_failed_write);
  g_test_add_func("/vfio/dry-run", test_dry_run);
  g_test_add_func("/vfio/crash-recovery", test_crash_recovery);
  g_test_add_func("/vfio/guard", test_guard);
  g_test_add_func("/vfio/refusals", test_refusals);
  g_test_add_func("/vfio/boot", test_boot);
  g_test_add_func("/vfio/list", test_list);
  g_test_add_func("/vfio/host-needs-layers", test_host_needs_layers);
  g_test_add_func("/vfio/host-needs-spanning", test_host_needs_spanning);
  g_test_add_func("/vfio/unbind-in-use", test_unbind_in_use);
  g_test_add_func("/vfio/failures", test_failures);
  g_test_add_func("/vfio/what-stays", test_what_stays);
  g_test_add_func("/vfio/sriov-pf", test_sriov_pf);
  return g_test_run();
}
