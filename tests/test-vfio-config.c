/* pcipass-vfio check and config: the real binary on a host root made from a
 * real server's capture, once unready and once made ready; config's diff
 * and written files against golden files, starting from the files Debian 12
 * ships (tests/data/debian), idempotence of --write, and files it cannot
 * parse left alone. Set PP_UPDATE_GOLDEN=1 to rewrite the golden files. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <jansson.h>

#include "pp-test-host.h"
#include "pp-vfio-config-priv.h"

static char *
data_path(const char *dir, const char *name)
{
  return g_test_build_filename(G_TEST_DIST, "data", dir, name, NULL);
}

static char *
read_or_die(const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    g_error("cannot read '%s'", path);
  return text;
}

/* Compares @actual with golden file @name, or rewrites it. */
static void
assert_golden(const char *name, const char *actual)
{
  g_autofree char *path = data_path("vfio-config", name);
  g_autofree char *want = NULL;

  if (g_strcmp0(g_getenv("PP_UPDATE_GOLDEN"), "1") == 0) {
    pp_test_write_file(path, actual);
    return;
  }
  want = read_or_die(path);
  if (strcmp(want, actual) != 0)
    g_error("%s differs from its golden file '%s':\n%s", name, path, actual);
}

static void
install(PpTestHost *h, const char *debian_name, const char *where)
{
  g_autofree char *from = data_path("debian", debian_name);
  g_autofree char *text = read_or_die(from);
  g_autofree char *to = g_build_filename(h->root, where, NULL);

  pp_test_write_file(to, text);
}

static char *
root_file(PpTestHost *h, const char *path)
{
  g_autofree char *full = g_build_filename(h->root, path, NULL);
  char *text = NULL;

  return g_file_get_contents(full, &text, NULL, NULL) ? text : NULL;
}

static void
write_root_file(PpTestHost *h, const char *path, const char *text)
{
  g_autofree char *full = g_build_filename(h->root, path, NULL);

  pp_test_write_file(full, text);
}

static guint
count_backups(PpTestHost *h, const char *dir)
{
  g_autofree char *full = g_build_filename(h->root, dir, NULL);
  g_autoptr(GDir) d = g_dir_open(full, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name(d)) != NULL)
    n += g_str_has_suffix(name, ".bak") && strstr(name, ".pcipass-") != NULL;
  return n;
}

static void
make_char_device(PpTestHost *h, const char *path, guint minor)
{
  g_autofree char *full = g_build_filename(h->root, path, NULL);
  g_autofree char *dir = g_path_get_dirname(full);

  g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
  if (mknod(full, S_IFCHR | 0666, makedev(10, minor)) != 0 && errno != EEXIST)
    g_error("mknod '%s': %s (these tests run as root, as CI does)", full, g_strerror(errno));
}

/* ------------------------------------------------------------------------ */
/* check                                                                      */
/* ------------------------------------------------------------------------ */

static void
test_check_unready(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *groups = NULL;

  pp_test_host_setup(&h);
  /* As captured: no IOMMU groups, no ACPI tables, no vfio. */
  groups = g_build_filename(h.sys, "kernel", NULL);
  pp_test_rmtree(groups);
  write_root_file(&h, "proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "fail  iommu-firmware       no DMAR or IVRS ACPI table"));
  g_assert_nonnull(strstr(run.out, "fail  iommu-groups         /sys/kernel/iommu_groups is empty"));
  g_assert_nonnull(strstr(run.out, "fix: add intel_iommu=on"));
  g_assert_nonnull(strstr(run.out, "fail  iommu-cmdline        intel_iommu=on is not on the kernel "
                                   "command line"));
  g_assert_nonnull(strstr(run.out, "fail  vfio-modules"));
  g_assert_nonnull(strstr(run.out, "fail  dev-vfio             /dev/vfio/vfio is missing"));
  g_assert_nonnull(strstr(run.out, "warn  qemu-acl             /etc/libvirt/qemu.conf is missing"));
  g_assert_nonnull(strstr(run.out, "warn  boot-unit            pcipass-vfio.service is not "
                                   "installed"));
  g_assert_cmpuint(pp_test_count(run.out, "\n") - pp_test_count(run.out, "fix:"), ==, 11);
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* A host with everything the guide asks for, and 02:00.0 bound. */
static void
make_ready(PpTestHost *h)
{
  static const char *const modules[] = { "vfio", "vfio_iommu_type1", "vfio_pci" };
  g_autofree char *unit = NULL;
  g_autofree char *wants = NULL;
  PpTestRun run = { 0 };

  write_root_file(h, "sys/firmware/acpi/tables/DMAR", "");
  write_root_file(h, "proc/cmdline",
                  "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n");
  write_root_file(h, "proc/interrupts",
                  "           CPU0\n 24:  0  IR-PCI-MSI 512000-edge  ahci[0000:00:1f.2]\n");
  write_root_file(h, "proc/sys/kernel/osrelease", "6.1.0-13-amd64\n");
  for (guint i = 0; i < G_N_ELEMENTS(modules); i++) {
    g_autofree char *path = g_strdup_printf("sys/module/%s/refcnt", modules[i]);

    write_root_file(h, path, "0\n");
  }
  make_char_device(h, "dev/vfio/vfio", 196);
  unit = g_build_filename(h->root, "lib", "systemd", "system", "pcipass-vfio.service", NULL);
  pp_test_write_file(unit, "[Unit]\n");
  wants = g_build_filename(h->root, "etc", "systemd", "system", "multi-user.target.wants", NULL);
  g_assert_cmpint(g_mkdir_with_parents(wants, 0755), ==, 0);
  {
    g_autofree char *link = g_build_filename(wants, "pcipass-vfio.service", NULL);

    g_assert_cmpint(symlink("/lib/systemd/system/pcipass-vfio.service", link), ==, 0);
  }
  write_root_file(h, "etc/libvirt/qemu.conf",
                  "cgroup_device_acl = [ \"/dev/null\", \"/dev/kvm\", \"/dev/vfio/vfio\",\n"
                  "                      \"/dev/vfio/21\" ]\n");
  write_root_file(h, "etc/sysconfig/pcipass-vfio", "DEVICES=\"0000:02:00.0\"\n");

  pp_test_host_kernel_start(h);
  pp_test_host_vfio(h, &run, "bind", "02:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(h));
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
}

static void
test_check_ready(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *root;

  pp_test_host_setup(&h);
  make_ready(&h);
  pp_test_host_vfio(&h, &run, "check", NULL);
  if (run.status != 0)
    g_error("check failed on a ready host:\n%s", run.out);
  /* Every check passes. */
  g_assert_cmpuint(pp_test_count(run.out, "\nok    ") + g_str_has_prefix(run.out, "ok    "), ==,
                   11);
  g_assert_nonnull(strstr(run.out, "ok    vfio-groups          1 groups bound to vfio-pci"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "check", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_cmpuint(json_array_size(root), ==, 11);
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(root, 0), "check")), ==,
                  "iommu-firmware");
  g_assert_cmpstr(json_string_value(json_object_get(json_array_get(root, 0), "status")), ==, "ok");
  json_decref(root);
  pp_test_run_clear(&run);

  /* Each way it goes wrong again, each caught. */
  write_root_file(&h, "etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/vfio/vfio\" ]\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "fail  qemu-acl             qemu.conf's cgroup_device_acl lacks "
                                   "/dev/vfio/21"));
  pp_test_run_clear(&run);

  /* The distribution's blacklists are not ours to judge; ours and the
   * kernel command line's are, by module name. */
  write_root_file(&h, "etc/libvirt/qemu.conf",
                  "cgroup_device_acl = [ \"/dev/vfio/vfio\", \"/dev/vfio/21\" ]\n");
  write_root_file(&h, "etc/modprobe.d/local.conf", "blacklist bnx2\n");
  write_root_file(&h, "sys/module/bnx2/refcnt", "1\n");
  write_root_file(&h, "sys/module/ehci_pci/refcnt", "1\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  write_root_file(&h, "etc/modprobe.d/pcipass-vfio.conf", "blacklist ehci-pci\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "fail  blacklists           blacklisted by pcipass-vfio or the "
                                   "kernel command line, but loaded: ehci_pci"));
  pp_test_run_clear(&run);
  write_root_file(&h, "etc/modprobe.d/pcipass-vfio.conf", "");
  write_root_file(&h, "proc/cmdline", "root=/dev/sda1 intel_iommu=on modprobe.blacklist=bnx2\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "but loaded: bnx2"));
  pp_test_run_clear(&run);
  write_root_file(&h, "proc/cmdline", "root=/dev/sda1 intel_iommu=on\n");

  /* Half a group on vfio-pci is not viable. */
  {
    g_autofree char *dev = pp_test_sysfs_device_dir(h.sys, "0000:01:00.0");
    g_autofree char *link = g_build_filename(dev, "driver", NULL);

    g_assert_cmpint(unlink(link), ==, 0);
    g_assert_cmpint(symlink("../../../../bus/pci/drivers/vfio-pci", link), ==, 0);
  }
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_nonnull(strstr(run.out, "group 20 is not viable: 0000:01:00.1 is on bnx2"));
  g_assert_nonnull(strstr(run.out, "/dev/vfio/20 is missing"));
  g_assert_nonnull(strstr(run.out, "fix: pcipass-vfio bind 0000:01:00.1"));
  pp_test_run_clear(&run);

  write_root_file(&h, "proc/interrupts", "           CPU0\n 24:  0  PCI-MSI 512000-edge  ahci\n");
  pp_test_host_vfio(&h, &run, "check", NULL);
  g_assert_nonnull(strstr(run.out, "fail  interrupt-remapping  interrupt remapping is off"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* Runs check; asserts its exit status, and that @line is among its lines. */
static void
assert_check(PpTestHost *h, int status, const char *line)
{
  PpTestRun run = { 0 };

  pp_test_host_vfio(h, &run, "check", NULL);
  if (run.status != status || strstr(run.out, line) == NULL)
    g_error("check: want exit %d and '%s', got exit %d:\n%s", status, line, run.status, run.out);
  pp_test_run_clear(&run);
}

/* The other branches of each check, from a ready host. */
static void
test_check_branches(void)
{
  PpTestHost h;
  g_autofree char *path = NULL;

  pp_test_host_setup(&h);
  make_ready(&h);

  /* AMD: IVRS, and no parameter needed to turn it on. */
  path = g_build_filename(h.sys, "firmware", "acpi", "tables", "DMAR", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  write_root_file(&h, "sys/firmware/acpi/tables/IVRS", "");
  write_root_file(&h, "proc/cmdline", "root=/dev/sda1 iommu=pt\n");
  assert_check(&h, 0,
               "ok    iommu-firmware       the firmware describes an AMD-Vi IOMMU (IVRS "
               "table)");
  assert_check(&h, 0, "ok    iommu-cmdline        the AMD IOMMU is on (amd_iommu is not off)");
  write_root_file(&h, "proc/cmdline", "root=/dev/sda1 amd_iommu=off\n");
  assert_check(&h, 1,
               "fail  iommu-cmdline        the kernel command line turns the AMD IOMMU "
               "off");
  write_root_file(&h, "proc/cmdline", "root=/dev/sda1 intel_iommu=on\n");

  /* vfio_pci built in: as good as loaded. Only among the modules: a
   * warning (bind loads it). Nowhere: a failure. */
  g_free(path);
  path = g_build_filename(h.sys, "module", "vfio_pci", NULL);
  pp_test_rmtree(path);
  write_root_file(&h, "lib/modules/6.1.0-13-amd64/modules.builtin",
                  "kernel/drivers/vfio/pci/vfio-pci.ko\n");
  assert_check(&h, 0, "ok    vfio-modules         loaded: vfio, vfio_iommu_type1, vfio_pci");
  write_root_file(&h, "lib/modules/6.1.0-13-amd64/modules.builtin", "");
  write_root_file(&h, "lib/modules/6.1.0-13-amd64/modules.dep",
                  "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n");
  assert_check(&h, 0,
               "warn  vfio-modules         vfio_pci: available, not loaded; loaded: vfio, "
               "vfio_iommu_type1");
  write_root_file(&h, "lib/modules/6.1.0-13-amd64/modules.dep", "");
  assert_check(&h, 1,
               "fail  vfio-modules         vfio_pci: not loaded, and not among this "
               "kernel's modules");
  write_root_file(&h, "sys/module/vfio_pci/refcnt", "0\n");

  /* No remapping, but unsafe interrupts allowed: a warning, not a failure. */
  write_root_file(&h, "proc/interrupts", "           CPU0\n 24:  0  PCI-MSI 512000-edge  ahci\n");
  write_root_file(&h, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
  assert_check(&h, 0,
               "warn  interrupt-remapping  interrupt remapping is off, and "
               "vfio_iommu_type1 allows unsafe interrupts");
  write_root_file(&h, "proc/interrupts",
                  "           CPU0\n 24:  0  IR-PCI-MSI 512000-edge  ahci\n");

  /* The unit not enabled: a failure while the boot list names devices
   * (in any form the shell takes), a warning when it names none. */
  g_free(path);
  path = g_build_filename(h.root, "etc", "systemd", "system", "multi-user.target.wants",
                          "pcipass-vfio.service", NULL);
  g_assert_cmpint(unlink(path), ==, 0);
  write_root_file(&h, "etc/sysconfig/pcipass-vfio", "DEVICES=1a:00.0\n");
  assert_check(&h, 1,
               "fail  boot-unit            /etc/sysconfig/pcipass-vfio lists devices, but "
               "pcipass-vfio.service is not enabled");
  write_root_file(&h, "etc/sysconfig/pcipass-vfio", "DEVICES=\"1a:00.0\"\nDEVICES=\"\"\n");
  assert_check(&h, 0, "warn  boot-unit            pcipass-vfio.service is not enabled");

  /* A qemu.conf that cannot be read is a failure that says where. */
  write_root_file(&h, "etc/libvirt/qemu.conf", "cgroup_device_acl = [ \"/dev/vfio/vfio\",\n");
  assert_check(&h, 1,
               "fail  qemu-acl             /etc/libvirt/qemu.conf: line 1: a list that "
               "starts here is not closed with ']'");
  pp_test_host_teardown(&h);
}

/* ------------------------------------------------------------------------ */
/* config                                                                     */
/* ------------------------------------------------------------------------ */

/* A Debian 12 host: GRUB, initramfs-tools and libvirt as installed. */
static void
make_debian(PpTestHost *h)
{
  /* Debian 12's kernel and its module files (modules.alias trimmed to the
   * capture's devices). */
  write_root_file(h, "proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
  install(h, "modules.alias", "lib/modules/6.1.0-56-amd64/modules.alias");
  install(h, "modules.builtin", "lib/modules/6.1.0-56-amd64/modules.builtin");
  install(h, "grub", "etc/default/grub");
  install(h, "initramfs-tools-modules", "etc/initramfs-tools/modules");
  install(h, "qemu.conf", "etc/libvirt/qemu.conf");
}

static void
test_config_diff_and_write(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  static const char *const written[] = {
    "etc/default/grub",           "etc/initramfs-tools/modules", "etc/modprobe.d/pcipass-vfio.conf",
    "etc/sysconfig/pcipass-vfio", "etc/libvirt/qemu.conf",
  };
  g_autofree char *grub_before = NULL;

  pp_test_host_setup(&h);
  make_debian(&h);
  grub_before = root_file(&h, "etc/default/grub");

  /* A BCM5709 card (two functions in group 20; bnx2 also drives the card
   * at 02:00, which stays) and the Matrox VGA (the only mgag200 device). */
  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0", "--devices", "07:03.0", NULL);
  g_assert_cmpint(run.status, ==, 0);
  assert_golden("diff.golden", run.out);
  /* Nothing written without --write. */
  {
    g_autofree char *grub = root_file(&h, "etc/default/grub");
    g_autofree char *modprobe = root_file(&h, "etc/modprobe.d/pcipass-vfio.conf");

    g_assert_cmpstr(grub, ==, grub_before);
    g_assert_null(modprobe);
  }
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0,07:03.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS(written); i++) {
    g_autofree char *text = root_file(&h, written[i]);
    g_autofree char *base = g_path_get_basename(written[i]);
    g_autofree char *golden = g_strdup_printf("%s.golden", base);

    g_assert_nonnull(text);
    assert_golden(golden, text);
  }
  /* The old files kept beside them. */
  g_assert_cmpuint(count_backups(&h, "etc/default"), ==, 1);
  g_assert_cmpuint(count_backups(&h, "etc/initramfs-tools"), ==, 1);
  g_assert_cmpuint(count_backups(&h, "etc/libvirt"), ==, 1);
  g_assert_cmpuint(count_backups(&h, "etc/modprobe.d"), ==, 0);
  pp_test_run_clear(&run);

  /* Again: nothing changes, no diff, no new backup; each step says it is
   * done already. */
  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0,07:03.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, "@@"));
  g_assert_null(strstr(run.out, "# wrote"));
  for (guint i = 0; i < G_N_ELEMENTS(written); i++) {
    g_autofree char *line = g_strdup_printf(
        "# skipped /%s: already done: the file is as config would write it\n", written[i]);

    g_assert_nonnull(strstr(run.out, line));
  }
  g_assert_cmpuint(count_backups(&h, "etc/default"), ==, 1);
  g_assert_cmpuint(count_backups(&h, "etc/libvirt"), ==, 1);
  pp_test_run_clear(&run);

  /* The configured devices bound, the same again: their drivers come from
   * the state file now that they are on vfio-pci. */
  pp_test_host_kernel_start(&h);
  pp_test_host_vfio(&h, &run, "bind", "01:00.0", "--wait", PP_TEST_KERNEL_WAIT, NULL);
  g_free(pp_test_host_kernel_stop(&h));
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0,07:03.0", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, "@@"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* A file that cannot be read (a folder in its place): it is left alone,
 * the others are written, and config exits 1 naming it, in words and in
 * JSON. */
static void
test_config_write_failure(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *blocker = NULL;
  g_autofree char *grub_before = NULL;
  g_autofree char *grub_after = NULL;
  json_error_t jerr;
  json_t *root, *files;
  gboolean saw_error = FALSE, saw_grub = FALSE;

  pp_test_host_setup(&h);
  make_debian(&h);
  grub_before = root_file(&h, "etc/default/grub");
  /* /etc/sysconfig/pcipass-vfio is a folder here. */
  blocker = g_build_filename(h.root, "etc", "sysconfig", "pcipass-vfio", NULL);
  g_assert_cmpint(g_mkdir_with_parents(blocker, 0755), ==, 0);
  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0", "--write", "--json", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "etc/sysconfig/pcipass-vfio"));
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  g_assert_true(json_is_true(json_object_get(root, "written")));
  files = json_object_get(root, "files");
  for (gsize i = 0; i < json_array_size(files); i++) {
    json_t *f = json_array_get(files, i);
    const char *path = json_string_value(json_object_get(f, "path"));
    const char *status = json_string_value(json_object_get(f, "status"));

    if (strcmp(path, "/etc/sysconfig/pcipass-vfio") == 0) {
      g_assert_cmpstr(status, ==, "error");
      saw_error = TRUE;
    } else if (strcmp(path, "/etc/default/grub") == 0) {
      g_assert_cmpstr(status, ==, "changed");
      g_assert_true(g_str_has_prefix(json_string_value(json_object_get(f, "backup")),
                                     "/etc/default/grub.pcipass-"));
      saw_grub = TRUE;
    }
  }
  g_assert_true(saw_error && saw_grub);
  json_decref(root);
  grub_after = root_file(&h, "etc/default/grub");
  g_assert_cmpstr(grub_after, !=, grub_before);
  g_assert_true(g_file_test(blocker, G_FILE_TEST_IS_DIR));
  pp_test_run_clear(&run);

  /* In words: on standard output, among the diffs. */
  pp_test_host_vfio(&h, &run, "config", "--devices", "01:00.0", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "# /etc/sysconfig/pcipass-vfio is left alone: cannot read "));
  g_assert_nonnull(strstr(run.out, "etc/sysconfig/pcipass-vfio': Is a directory\n"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* The status and reasons of file @path in config's --json. */
static json_t *
json_file(json_t *root, const char *path)
{
  json_t *files = json_object_get(root, "files");

  for (gsize i = 0; i < json_array_size(files); i++) {
    json_t *f = json_array_get(files, i);

    if (g_strcmp0(json_string_value(json_object_get(f, "path")), path) == 0)
      return f;
  }
  g_error("config --json has no file '%s'", path);
}

static void
assert_json_file(json_t *root, const char *path, const char *status, const char *reason)
{
  json_t *f = json_file(root, path);
  const char *skipped = json_string_value(json_object_get(f, "skipped"));

  g_assert_cmpstr(json_string_value(json_object_get(f, "status")), ==, status);
  if (reason == NULL)
    g_assert_true(json_is_null(json_object_get(f, "skipped")));
  else if (skipped == NULL || !g_str_has_prefix(skipped, reason))
    g_error("%s: skipped '%s', want '%s...'", path, skipped, reason);
}

static void
test_config_left_alone(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  static const char *bad_grub = "GRUB_CMDLINE_LINUX=\"$EXTRA quiet\"\n";
  static const char *bad_qemu = "cgroup_device_acl = [ \"/dev/null\"\n";
  g_autofree char *grub = NULL;
  g_autofree char *qemu = NULL;
  g_autofree char *modprobe = NULL;

  pp_test_host_setup(&h);
  write_root_file(&h, "etc/default/grub", bad_grub);
  write_root_file(&h, "etc/libvirt/qemu.conf", bad_qemu);
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "# /etc/default/grub is left alone: line 1: GRUB_CMDLINE_LINUX "
                                   "is more than a plain string"));
  g_assert_nonnull(strstr(run.out, "# /etc/libvirt/qemu.conf is left alone: line 1: a list that "
                                   "starts here is not closed"));
  g_assert_null(strstr(run.out, "# skipped /etc/default/grub"));
  /* Those two untouched; the others written. */
  grub = root_file(&h, "etc/default/grub");
  qemu = root_file(&h, "etc/libvirt/qemu.conf");
  modprobe = root_file(&h, "etc/modprobe.d/pcipass-vfio.conf");
  g_assert_cmpstr(grub, ==, bad_grub);
  g_assert_cmpstr(qemu, ==, bad_qemu);
  g_assert_nonnull(modprobe);
  g_assert_cmpuint(count_backups(&h, "etc/default"), ==, 0);
  pp_test_run_clear(&run);

  /* In JSON: errors, with the reason, not steps skipped. */
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--json", NULL);
  g_assert_cmpint(run.status, ==, 1);
  {
    json_error_t jerr;
    json_t *root = json_loads(run.out, 0, &jerr);
    json_t *f;

    g_assert_nonnull(root);
    assert_json_file(root, "/etc/default/grub", "error", NULL);
    f = json_file(root, "/etc/default/grub");
    g_assert_true(g_str_has_prefix(json_string_value(json_object_get(f, "error")),
                                   "line 1: GRUB_CMDLINE_LINUX is more than a plain string"));
    assert_json_file(root, "/etc/libvirt/qemu.conf", "error", NULL);
    json_decref(root);
  }
  pp_test_run_clear(&run);

  /* dracut instead of initramfs-tools. */
  {
    g_autofree char *dracut = g_build_filename(h.root, "etc", "dracut.conf.d", NULL);
    g_autofree char *conf = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dracut, 0755), ==, 0);
    pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", NULL);
    conf = root_file(&h, "etc/dracut.conf.d/pcipass-vfio.conf");
    g_assert_cmpstr(conf, ==,
                    "# Written by pcipass-vfio config: the vfio modules in the initramfs.\n"
                    "add_drivers+=\" vfio vfio_iommu_type1 vfio_pci \"\n");
    pp_test_run_clear(&run);
  }

  /* Links are not written through: one to a folder outside the root
   * stays empty, one in place of qemu.conf stays a link. */
  {
    g_autofree char *outside = pp_test_mkdtemp();
    g_autofree char *modprobe_d = g_build_filename(h.root, "etc", "modprobe.d", NULL);
    g_autofree char *qemu_conf = g_build_filename(h.root, "etc", "libvirt", "qemu.conf", NULL);
    g_autofree char *real_conf = g_build_filename(h.root, "srv", "qemu.conf", NULL);
    g_autoptr(GDir) d = NULL;
    g_autofree char *target = NULL;
    g_autofree char *real_text = NULL;

    pp_test_rmtree(modprobe_d);
    g_assert_cmpint(symlink(outside, modprobe_d), ==, 0);
    pp_test_write_file(real_conf, "cgroup_device_acl = [ \"/dev/null\" ]\n");
    g_assert_cmpint(unlink(qemu_conf), ==, 0);
    g_assert_cmpint(symlink("../../srv/qemu.conf", qemu_conf), ==, 0);
    pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", NULL);
    g_assert_cmpint(run.status, ==, 1);
    d = g_dir_open(outside, 0, NULL);
    g_assert_null(g_dir_read_name(d));
    g_assert_nonnull(strstr(run.err, "etc/modprobe.d"));
    g_assert_nonnull(strstr(run.err, "etc/libvirt/qemu.conf' is a symbolic link"));
    target = g_file_read_link(qemu_conf, NULL);
    g_assert_cmpstr(target, ==, "../../srv/qemu.conf");
    real_text = root_file(&h, "srv/qemu.conf");
    g_assert_cmpstr(real_text, ==, "cgroup_device_acl = [ \"/dev/null\" ]\n");
    pp_test_run_clear(&run);
    pp_test_rmtree(outside);
    g_assert_cmpint(unlink(modprobe_d), ==, 0);
  }

  /* The guard applies: the boot disk's controller. */
  pp_test_host_vfio(&h, &run, "config", "--devices", "03:00.0", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "refusing to configure: 0000:03:00.0 holds /dev/sda2"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "config", NULL);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "config needs --devices"));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* The GRUB line's edits, on their own. */
static void
test_edit_grub(void)
{
  static const char *const params[] = { "intel_iommu=on", "iommu=pt", "rd.driver.blacklist=nouveau",
                                        NULL };
  static const char *const pre[] = { "rd.driver.pre=vfio-pci", NULL };
  static const struct {
    const char *before, *after;
  } cases[] = {
    { "GRUB_CMDLINE_LINUX=\"\"\n",
      "GRUB_CMDLINE_LINUX=\"intel_iommu=on iommu=pt rd.driver.blacklist=nouveau\"\n" },
    /* Replaced in place, lists merged, the rest kept. */
    { "X=1\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=off rd.driver.blacklist=radeon\" # c\nY=2",
      "X=1\nGRUB_CMDLINE_LINUX=\"quiet intel_iommu=on rd.driver.blacklist=radeon,nouveau "
      "iommu=pt\" # c\nY=2" },
    { "  GRUB_CMDLINE_LINUX='a=$b'\n",
      "  GRUB_CMDLINE_LINUX='a=$b intel_iommu=on iommu=pt rd.driver.blacklist=nouveau'\n" },
    { "GRUB_CMDLINE_LINUX=quiet\n",
      "GRUB_CMDLINE_LINUX=\"quiet intel_iommu=on iommu=pt rd.driver.blacklist=nouveau\"\n" },
    /* The last one counts, as for the shell. */
    { "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b\"\n",
      "GRUB_CMDLINE_LINUX=\"a\"\nGRUB_CMDLINE_LINUX=\"b intel_iommu=on iommu=pt "
      "rd.driver.blacklist=nouveau\"\n" },
    /* The administrator's list items stay; "on" takes "off" away. */
    { "GRUB_CMDLINE_LINUX=\"intel_iommu=on,igfx_off rd.driver.pre=nvme\"\n",
      "GRUB_CMDLINE_LINUX=\"intel_iommu=on,igfx_off rd.driver.pre=nvme iommu=pt "
      "rd.driver.blacklist=nouveau\"\n" },
    { "GRUB_CMDLINE_LINUX=\"intel_iommu=off,sp_off iommu=nopt\"\n",
      "GRUB_CMDLINE_LINUX=\"intel_iommu=sp_off,on iommu=pt rd.driver.blacklist=nouveau\"\n" },
    /* None: one is added. */
    { "GRUB_TIMEOUT=5",
      "GRUB_TIMEOUT=5\n# Added by pcipass-vfio config.\nGRUB_CMDLINE_LINUX=\"intel_iommu=on "
      "iommu=pt rd.driver.blacklist=nouveau\"\n" },
  };
  static const char *const bad[] = {
    "GRUB_CMDLINE_LINUX=\"$X\"\n", "GRUB_CMDLINE_LINUX=\"`x`\"\n", "GRUB_CMDLINE_LINUX=\"a\\\"\n",
    "GRUB_CMDLINE_LINUX=\"open\n", "GRUB_CMDLINE_LINUX=\"a\" b\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *error = NULL;
    g_autofree char *got = pp_vfio_config_edit_grub(cases[i].before, params, &error);

    g_assert_null(error);
    g_assert_cmpstr(got, ==, cases[i].after);
  }
  /* rd.driver.pre is a list too: the admin's nvme stays, loaded first. */
  {
    char *error = NULL;
    g_autofree char *got =
        pp_vfio_config_edit_grub("GRUB_CMDLINE_LINUX=\"rd.driver.pre=nvme\"\n", pre, &error);

    g_assert_cmpstr(got, ==, "GRUB_CMDLINE_LINUX=\"rd.driver.pre=nvme,vfio-pci\"\n");
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *error = NULL;
    g_autofree char *got = pp_vfio_config_edit_grub(bad[i], params, &error);

    g_assert_null(got);
    g_assert_true(g_str_has_prefix(error, "line 1: GRUB_CMDLINE_LINUX"));
  }
}

/* Modules, not sysfs driver names; stable across the reboot that
 * blacklists them; built-in ones named as such. */
static void
test_config_modules(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *modprobe = NULL;

  pp_test_host_setup(&h);
  make_debian(&h);
  /* 00:1a.7's driver is "ehci-pci", its module ehci_pci, which 00:1d.7,
   * staying, uses too. */
  pp_test_sysfs_set_group(h.sys, "0000:00:1a.7", 60);
  pp_test_host_vfio(&h, &run, "config", "--devices", "00:1a.7", "--write", NULL);
  g_assert_cmpint(run.status, ==, 0);
  modprobe = root_file(&h, "etc/modprobe.d/pcipass-vfio.conf");
  g_assert_nonnull(strstr(modprobe, "softdep ehci_pci pre: vfio-pci\n"));
  g_assert_nonnull(strstr(modprobe, "# ehci_pci is not blacklisted: 0000:00:1d.7, which stays with "
                                    "the host, uses it\n"));
  g_assert_null(strstr(modprobe, "ehci-pci"));
  pp_test_run_clear(&run);

  /* The Matrox, bound and rebooted: blacklisted at boot, it was on no
   * driver when pcipass-vfio.service took it (the record says ""). The
   * module is still mgag200, from modules.alias: nothing changes. */
  pp_test_host_vfio(&h, &run, "config", "--devices", "07:03.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  {
    g_autofree char *dev = pp_test_sysfs_device_dir(h.sys, "0000:07:03.0");
    g_autofree char *link = g_build_filename(dev, "driver", NULL);

    g_assert_cmpint(unlink(link), ==, 0);
    g_assert_cmpint(symlink("../../../../bus/pci/drivers/vfio-pci", link), ==, 0);
    write_root_file(&h, "var/lib/pcipass/vfio.state", "[0000:07:03.0]\ndriver=\n");
  }
  pp_test_host_vfio(&h, &run, "config", "--devices", "07:03.0", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_null(strstr(run.out, "@@"));
  pp_test_run_clear(&run);

  /* Built in: modprobe cannot keep it off, the boot unit takes the device. */
  write_root_file(&h, "lib/modules/6.1.0-56-amd64/modules.builtin",
                  "kernel/drivers/gpu/drm/mgag200/mgag200.ko\n");
  pp_test_host_vfio(&h, &run, "config", "--devices", "07:03.0", NULL);
  g_assert_nonnull(
      strstr(run.out, "+# mgag200 is built into the kernel: modprobe cannot keep it off"));
  g_assert_null(strstr(run.out, "+blacklist mgag200"));
  pp_test_run_clear(&run);

  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

/* A host without GRUB, dracut, initramfs-tools or libvirt: config says it
 * skips those steps and why, in words and in JSON, writes the two files it
 * owns, and exits 0; run again, every step is done already. */
static void
test_config_skipped(void)
{
  PpTestHost h;
  g_auto(PpTestRun) run = { 0 };
  json_error_t jerr;
  json_t *root;
  static const char *const absent[] = { "etc/default/grub", "etc/dracut.conf.d",
                                        "etc/initramfs-tools", "etc/libvirt" };

  pp_test_host_setup(&h);
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "# skipped /etc/default/grub: no such file: this host does not "
                                   "boot with GRUB; its boot loader needs the kernel parameters "
                                   "below\n"));
  g_assert_nonnull(strstr(run.out, "# skipped /etc/dracut.conf.d/pcipass-vfio.conf: no "
                                   "/etc/dracut.conf.d: this host does not build its initramfs "
                                   "with dracut\n"));
  g_assert_nonnull(strstr(run.out, "# skipped /etc/initramfs-tools/modules: no "
                                   "/etc/initramfs-tools: this host does not build its initramfs "
                                   "with initramfs-tools\n"));
  g_assert_nonnull(strstr(run.out, "# skipped /etc/libvirt/qemu.conf: no such file: libvirt's "
                                   "QEMU driver is not installed; run config again once it is\n"));
  g_assert_cmpuint(pp_test_count(run.out, "# skipped "), ==, 4);
  /* The two it owns are new, shown as diffs. */
  g_assert_nonnull(strstr(run.out, "+++ /etc/modprobe.d/pcipass-vfio.conf\n"));
  g_assert_nonnull(strstr(run.out, "+++ /etc/sysconfig/pcipass-vfio\n"));
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  g_assert_cmpuint(json_array_size(json_object_get(root, "files")), ==, 6);
  assert_json_file(root, "/etc/default/grub", "skipped", "no such file: this host does not boot");
  assert_json_file(root, "/etc/dracut.conf.d/pcipass-vfio.conf", "skipped",
                   "no /etc/dracut.conf.d");
  assert_json_file(root, "/etc/initramfs-tools/modules", "skipped", "no /etc/initramfs-tools");
  assert_json_file(root, "/etc/libvirt/qemu.conf", "skipped",
                   "no such file: libvirt's QEMU driver");
  assert_json_file(root, "/etc/modprobe.d/pcipass-vfio.conf", "new", NULL);
  assert_json_file(root, "/etc/sysconfig/pcipass-vfio", "new", NULL);
  g_assert_true(json_is_null(json_object_get(json_file(root, "/etc/default/grub"), "diff")));
  json_decref(root);
  /* Nothing made for the steps skipped. */
  for (guint i = 0; i < G_N_ELEMENTS(absent); i++) {
    g_autofree char *path = g_build_filename(h.root, absent[i], NULL);

    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
  }
  pp_test_run_clear(&run);

  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  root = json_loads(run.out, 0, &jerr);
  g_assert_nonnull(root);
  assert_json_file(root, "/etc/modprobe.d/pcipass-vfio.conf", "unchanged", "already done");
  assert_json_file(root, "/etc/sysconfig/pcipass-vfio", "unchanged", "already done");
  assert_json_file(root, "/etc/default/grub", "skipped", "no such file");
  json_decref(root);
  pp_test_host_teardown(&h);
}

/* A GRUB file that cannot be read is an error, not a host without GRUB. */
static void
test_config_unreadable_grub(void)
{
  PpTestHost h;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *grub = NULL;

  pp_test_host_setup(&h);
  grub = g_build_filename(h.root, "etc", "default", "grub", NULL);
  g_assert_cmpint(g_mkdir_with_parents(grub, 0755), ==, 0);
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.out, "# /etc/default/grub is left alone: cannot read "));
  g_assert_null(strstr(run.out, "# skipped /etc/default/grub"));
  g_assert_true(g_file_test(grub, G_FILE_TEST_IS_DIR));
  pp_test_host_teardown(&h);
}

static void
test_config_warnings(void)
{
  PpTestHost h;
  PpTestRun run = { 0 };
  g_autofree char *qemu = NULL;
  g_autofree char *groups = NULL;

  pp_test_host_setup(&h);
  make_debian(&h);
  /* A newer libvirt documents /dev/userfaultfd among its defaults: kept. */
  write_root_file(&h, "etc/libvirt/qemu.conf",
                  "# The default:\n#cgroup_device_acl = [\n#    \"/dev/null\", \"/dev/kvm\",\n"
                  "#    \"/dev/userfaultfd\"\n#]\n");
  /* An IOMMU turned off where it wins. */
  write_root_file(
      &h, "etc/default/grub",
      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=off\"\nGRUB_CMDLINE_LINUX=\"\"\n");
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--write", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "# warning: GRUB_CMDLINE_LINUX_DEFAULT has 'intel_iommu=off', "
                                   "which comes after GRUB_CMDLINE_LINUX"));
  qemu = root_file(&h, "etc/libvirt/qemu.conf");
  g_assert_nonnull(strstr(qemu, "cgroup_device_acl = [\n    \"/dev/null\",\n    \"/dev/kvm\",\n"
                                "    \"/dev/userfaultfd\",\n    \"/dev/vfio/vfio\",\n"
                                "    \"/dev/vfio/21\"\n]"));
  pp_test_run_clear(&run);

  /* The IOMMU off: groups unknown, said. */
  groups = g_build_filename(h.sys, "kernel", NULL);
  pp_test_rmtree(groups);
  {
    g_autofree char *dev = pp_test_sysfs_device_dir(h.sys, "0000:02:00.0");
    g_autofree char *link = g_build_filename(dev, "iommu_group", NULL);

    g_assert_cmpint(unlink(link), ==, 0);
  }
  pp_test_host_vfio(&h, &run, "config", "--devices", "02:00.0", "--json", NULL);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "the IOMMU is off, so the devices' IOMMU groups are not known"));
  g_assert_nonnull(strstr(run.out, "\"warnings\": ["));
  pp_test_run_clear(&run);
  pp_test_host_teardown(&h);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vfio-check/unready", test_check_unready);
  g_test_add_func("/vfio-check/ready", test_check_ready);
  g_test_add_func("/vfio-check/branches", test_check_branches);
  g_test_add_func("/vfio-config/diff-and-write", test_config_diff_and_write);
  g_test_add_func("/vfio-config/left-alone", test_config_left_alone);
  g_test_add_func("/vfio-config/write-failure", test_config_write_failure);
  g_test_add_func("/vfio-config/edit-grub", test_edit_grub);
  g_test_add_func("/vfio-config/modules", test_config_modules);
  g_test_add_func("/vfio-config/warnings", test_config_warnings);
  g_test_add_func("/vfio-config/skipped", test_config_skipped);
  g_test_add_func("/vfio-config/unreadable-grub", test_config_unreadable_grub);
  return g_test_run();
}
