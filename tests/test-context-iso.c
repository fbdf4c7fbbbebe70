/* The context disk's ISO image (pp-context-iso): made with libisofs in
 * memory and read back with libisofs's own reader through each of its
 * three directory trees (Rock Ridge, Joliet, plain ISO 9660), and checked
 * by util-linux's blkid and file(1), independent readers of the volume
 * label (the guest's udev finds the disk with blkid's). No mock: the real
 * library both ways. The kernel's iso9660 driver is not here to mount it:
 * the end-to-end lab's guest does. */
#include "config.h"

#include <string.h>

#include "pp-context-iso-priv.h"
#include "pp-context-iso.h"
#include "pp-test-util.h"

static char *tmp_dir;

/* What OpenNebula's one-context writes; quotes and a newline at the end
 * as pp-context writes them. */
static const char context_sh[] = "ETH0_MAC='02:00:0a:00:00:05'\n"
                                 "ETH0_IP='10.0.0.5'\n"
                                 "ETH0_MASK='255.255.255.0'\n"
                                 "ETH0_GATEWAY='10.0.0.1'\n"
                                 "ETH0_DNS='10.0.0.1 9.9.9.9'\n"
                                 "PCI0_MAC='02:00:0a:00:00:06'\n"
                                 "PCI0_IP='10.0.0.6'\n"
                                 "PCI0_ADDRESS='0000:01:00.0'\n"
                                 "SSH_PUBLIC_KEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx "
                                 "user@host'\n"
                                 "SET_HOSTNAME='vm-42'\n";

static PpContextDisk *
one_disk(void)
{
  PpContextDisk *disk = pp_context_disk_new(PP_VM_CONTEXT_ONE);

  pp_context_disk_add(disk, "context.sh", context_sh, strlen(context_sh));
  return disk;
}

static const char meta_data[] = "instance-id: pcipass-42\nlocal-hostname: vm-42\n";
static const char user_data[] = "#cloud-config\nssh_authorized_keys:\n  - ssh-ed25519 AAAA x\n";
static const char network_config[] = "version: 2\nethernets:\n  id0:\n    match:\n"
                                     "      macaddress: '02:00:0a:00:00:05'\n"
                                     "    set-name: eth0\n";

static PpContextDisk *
nocloud_disk(void)
{
  PpContextDisk *disk = pp_context_disk_new(PP_VM_CONTEXT_NOCLOUD);

  pp_context_disk_add(disk, "meta-data", meta_data, strlen(meta_data));
  pp_context_disk_add(disk, "user-data", user_data, strlen(user_data));
  pp_context_disk_add(disk, "network-config", network_config, strlen(network_config));
  return disk;
}

static GBytes *
build(const PpContextDisk *disk)
{
  g_autoptr(GError) error = NULL;
  GBytes *iso = pp_context_iso_build(disk, &error);

  g_assert_no_error(error);
  g_assert_nonnull(iso);
  g_assert_cmpuint(g_bytes_get_size(iso) % 2048, ==, 0);
  return iso;
}

static GPtrArray *
read_back(GBytes *iso, PpContextIsoTree tree, char **ret_label)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *entries = NULL;

  g_assert_true(pp_context_iso_read(iso, tree, ret_label, &entries, &error));
  g_assert_no_error(error);
  return entries;
}

/* @iso holds exactly @disk's files (by name, in any order) under @label,
 * read through each tree; Rock Ridge shows them 0444 root:root at
 * PP_CONTEXT_ISO_TIME. */
static void
assert_holds(GBytes *iso, const char *label, const PpContextDisk *disk)
{
  static const PpContextIsoTree trees[] = { PP_CONTEXT_ISO_TREE_ROCKRIDGE,
                                            PP_CONTEXT_ISO_TREE_JOLIET,
                                            PP_CONTEXT_ISO_TREE_ISO9660 };

  for (guint t = 0; t < G_N_ELEMENTS(trees); t++) {
    g_autofree char *read_label = NULL;
    g_autoptr(GPtrArray) entries = read_back(iso, trees[t], &read_label);

    g_test_message("tree %u", t);
    g_assert_cmpstr(read_label, ==, label);
    g_assert_cmpuint(entries->len, ==, disk->files->len);
    for (guint i = 0; i < disk->files->len; i++) {
      const PpContextFile *file = g_ptr_array_index(disk->files, i);
      const PpContextIsoEntry *found = NULL;

      for (guint j = 0; j < entries->len && found == NULL; j++) {
        const PpContextIsoEntry *entry = g_ptr_array_index(entries, j);

        if (strcmp(entry->name, file->name) == 0)
          found = entry;
      }
      if (found == NULL)
        g_error("tree %u lacks '%s'", t, file->name);
      g_assert_true(g_bytes_equal(found->data, file->data));
      if (trees[t] == PP_CONTEXT_ISO_TREE_ROCKRIDGE) {
        g_assert_cmpuint(found->mode, ==, 0444);
        g_assert_cmpuint(found->uid, ==, 0);
        g_assert_cmpuint(found->gid, ==, 0);
        g_assert_cmpint(found->mtime, ==, PP_CONTEXT_ISO_TIME);
      }
    }
  }
}

/* file(1), another reader of the primary volume descriptor: "ISO 9660
 * CD-ROM filesystem data 'cidata'" (file 5.44); scripts/install-deps
 * installs it. */
static void
assert_file_says(const char *path, const char *label)
{
  g_autofree char *file = g_find_program_in_path("file");
  g_autofree char *expected = g_strdup_printf("ISO 9660 CD-ROM filesystem data '%s'", label);
  g_auto(PpTestRun) run = { 0 };

  if (file == NULL)
    g_error("file(1) is not installed: run scripts/install-deps");
  {
    const char *argv[] = { file, "-b", path, NULL };

    pp_test_run(argv, NULL, &run);
    g_assert_cmpint(run.status, ==, 0);
    if (!g_str_has_prefix(run.out, expected))
      g_error("file says '%s', not '%s'", run.out, expected);
  }
}

/* blkid (util-linux) reads the label as the guest's udev does: cloud-init
 * and OpenNebula's packages find their disk by it. Run by argv. */
static void
assert_blkid_label(GBytes *iso, const char *label)
{
  static guint n;
  g_autofree char *blkid = g_find_program_in_path("blkid");
  g_autofree char *name = g_strdup_printf("image-%u.iso", n++);
  g_autofree char *path = g_build_filename(tmp_dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *expected = g_strdup_printf("%s\n", label);

  if (blkid == NULL && g_file_test("/usr/sbin/blkid", G_FILE_TEST_IS_EXECUTABLE))
    blkid = g_strdup("/usr/sbin/blkid");
  if (blkid == NULL)
    g_error("blkid (util-linux) is not installed: run scripts/install-deps");
  g_assert_true(
      g_file_set_contents(path, g_bytes_get_data(iso, NULL), g_bytes_get_size(iso), &error));
  g_assert_no_error(error);
  {
    const char *argv[] = { blkid, "-p", "-o", "value", "-s", "LABEL", path, NULL };

    pp_test_run(argv, NULL, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.out, ==, expected);
  }
  {
    const char *argv[] = { blkid, "-p", "-o", "value", "-s", "TYPE", path, NULL };
    g_auto(PpTestRun) type = { 0 };

    pp_test_run(argv, NULL, &type);
    g_assert_cmpint(type.status, ==, 0);
    g_assert_cmpstr(type.out, ==, "iso9660\n");
  }
  assert_file_says(path, label);
}

/* ------------------------------------------------------------------------ */

/* FORMAT one: context.sh under CONTEXT. */
static void
test_one(void)
{
  g_autoptr(PpContextDisk) disk = one_disk();
  g_autoptr(GBytes) iso = build(disk);

  g_test_message("context.sh of %zu bytes: an ISO of %zu bytes", strlen(context_sh),
                 g_bytes_get_size(iso));
  assert_holds(iso, "CONTEXT", disk);
  assert_blkid_label(iso, "CONTEXT");
}

/* FORMAT nocloud: three files with '-' under cidata, in lower case. */
static void
test_nocloud(void)
{
  g_autoptr(PpContextDisk) disk = nocloud_disk();
  g_autoptr(GBytes) iso = build(disk);

  g_test_message("meta-data, user-data, network-config: an ISO of %zu bytes",
                 g_bytes_get_size(iso));
  assert_holds(iso, "cidata", disk);
  assert_blkid_label(iso, "cidata");
}

/* The same disk gives the same bytes: another second, another time zone,
 * other memory streams' serial numbers (libisofs's, process-wide). One
 * byte changed in a file changes the image. */
static void
test_reproducible(void)
{
  g_autoptr(PpContextDisk) disk = nocloud_disk();
  g_autoptr(PpContextDisk) changed = nocloud_disk();
  g_autoptr(GBytes) first = build(disk);
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autofree char *tz = g_strdup(g_getenv("TZ"));
  g_autofree char *edited = g_strdup(network_config);
  PpContextFile *file = g_ptr_array_index(changed->files, 2);

  /* Past the next second, half a world away. */
  g_usleep(1100 * 1000);
  g_setenv("TZ", "Pacific/Chatham", TRUE);
  tzset();
  second = build(disk);
  if (tz != NULL)
    g_setenv("TZ", tz, TRUE);
  else
    g_unsetenv("TZ");
  tzset();
  g_assert_true(g_bytes_equal(first, second));

  edited[strlen(edited) - 2] = '1'; /* eth0 -> eth1 */
  g_bytes_unref(file->data);
  file->data = g_bytes_new(edited, strlen(edited));
  other = build(changed);
  g_assert_cmpuint(g_bytes_get_size(other), ==, g_bytes_get_size(first));
  g_assert_false(g_bytes_equal(first, other));
  assert_holds(other, "cidata", changed);
}

typedef struct {
  const PpContextDisk *disk;
  GBytes *expected;
} ThreadArgs;

static gpointer
build_in_thread(gpointer data)
{
  const ThreadArgs *args = data;

  for (guint i = 0; i < 10; i++) {
    g_autoptr(GBytes) iso = build(args->disk);

    g_assert_true(g_bytes_equal(iso, args->expected));
  }
  return NULL;
}

/* Built from several threads at once, as the deployer's workers may: the
 * same bytes each time. */
static void
test_threads(void)
{
  g_autoptr(PpContextDisk) disk = nocloud_disk();
  g_autoptr(GBytes) expected = build(disk);
  ThreadArgs args = { disk, expected };
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
    threads[i] = g_thread_new("iso", build_in_thread, &args);
  for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
    g_thread_join(threads[i]);
}

/* An empty file is a file of 0 bytes; a disk without files is a valid
 * empty image. */
static void
test_empty(void)
{
  g_autoptr(PpContextDisk) disk = pp_context_disk_new(PP_VM_CONTEXT_ONE);
  g_autoptr(PpContextDisk) none = pp_context_disk_new(PP_VM_CONTEXT_NOCLOUD);
  g_autoptr(GBytes) iso = NULL;
  g_autoptr(GBytes) empty = NULL;
  g_autofree char *label = NULL;
  g_autoptr(GPtrArray) entries = NULL;

  pp_context_disk_add(disk, "context.sh", "", 0);
  iso = build(disk);
  assert_holds(iso, "CONTEXT", disk);
  entries = read_back(iso, PP_CONTEXT_ISO_TREE_ROCKRIDGE, &label);
  g_assert_cmpuint(g_bytes_get_size(((PpContextIsoEntry *)entries->pdata[0])->data), ==, 0);

  empty = build(none);
  assert_holds(empty, "cidata", none);
  assert_blkid_label(empty, "cidata");
}

/* The files may hold PP_CONTEXT_ISO_MAX_SIZE bytes together, not one
 * more: an error that says so, and no image. */
static void
test_size_bound(void)
{
  g_autoptr(PpContextDisk) disk = pp_context_disk_new(PP_VM_CONTEXT_ONE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) iso = NULL;
  g_autofree guint8 *big = g_malloc(PP_CONTEXT_ISO_MAX_SIZE);
  g_autofree char *expected = NULL;

  memset(big, 'x', PP_CONTEXT_ISO_MAX_SIZE);
  pp_context_disk_add(disk, "context.sh", big, PP_CONTEXT_ISO_MAX_SIZE - 10);
  pp_context_disk_add(disk, "user-data", big, 10);
  iso = build(disk);
  g_assert_cmpuint(g_bytes_get_size(iso), <=,
                   PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX);
  assert_holds(iso, "CONTEXT", disk);
  g_clear_pointer(&iso, g_bytes_unref);

  pp_context_disk_add(disk, "meta-data", "y", 1);
  iso = pp_context_iso_build(disk, &error);
  g_assert_null(iso);
  g_assert_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID);
  expected = g_strdup_printf("the context disk's files hold %u bytes, more than the %u a "
                             "context disk may hold: make the CONTEXT values smaller",
                             PP_CONTEXT_ISO_MAX_SIZE + 1, PP_CONTEXT_ISO_MAX_SIZE);
  g_assert_cmpstr(error->message, ==, expected);
}

/* Names and labels that cannot be written: refused before libisofs, with
 * the name; a duplicate name too. */
static void
test_bad_names(void)
{
  static const struct {
    const char *name;
    const char *message;
  } cases[] = {
    { "a/b", "the context disk's file name 'a/b' is not 1 to 64 bytes of printable ASCII "
             "without '/'" },
    { "", "the context disk's file name '' is not 1 to 64 bytes of printable ASCII "
          "without '/'" },
    { "..", "the context disk's file name '..' is not 1 to 64 bytes of printable ASCII "
            "without '/'" },
    { "a\nb", "the context disk's file name 'a\\nb' is not 1 to 64 bytes of printable ASCII "
              "without '/'" },
    { "caf\xc3\xa9", "the context disk's file name 'caf\\303\\251' is not 1 to 64 bytes of "
                     "printable ASCII without '/'" },
    { "0123456789012345678901234567890123456789012345678901234567890123x",
      "the context disk's file name "
      "'0123456789012345678901234567890123456789012345678901234567890123x' is not 1 to 64 "
      "bytes of printable ASCII without '/'" },
    { "context.sh", "the context disk has two files named 'context.sh'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpContextDisk) disk = one_disk();
    g_autoptr(GError) error = NULL;

    pp_context_disk_add(disk, cases[i].name, "x", 1);
    g_assert_null(pp_context_iso_build(disk, &error));
    g_assert_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }

  {
    g_autoptr(PpContextDisk) disk = one_disk();
    g_autoptr(GError) error = NULL;

    disk->label = "A_LABEL_OF_17_BYT";
    g_assert_null(pp_context_iso_build(disk, &error));
    g_assert_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "the context disk's label 'A_LABEL_OF_17_BYT' is not 1 to 16 bytes of "
                    "printable ASCII");
  }
  {
    g_autoptr(PpContextDisk) disk = pp_context_disk_new(PP_VM_CONTEXT_ONE);
    g_autoptr(GError) error = NULL;

    for (guint i = 0; i <= PP_CONTEXT_ISO_FILES_MAX; i++) {
      g_autofree char *name = g_strdup_printf("f%u", i);

      pp_context_disk_add(disk, name, "", 0);
    }
    g_assert_null(pp_context_iso_build(disk, &error));
    g_assert_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "the context disk has 65 files, more than the 64 it may hold");
  }
}

/* The reader refuses what is not an image, with libisofs's words, and
 * writes nothing out. */
static void
test_read_garbage(void)
{
  g_autofree guint8 *zeros = g_malloc0(64 * 2048);
  g_autoptr(GBytes) bytes = g_bytes_new(zeros, 64 * 2048);
  g_autoptr(GError) error = NULL;
  char *label = NULL;
  GPtrArray *entries = NULL;

  g_assert_false(
      pp_context_iso_read(bytes, PP_CONTEXT_ISO_TREE_ROCKRIDGE, &label, &entries, &error));
  g_assert_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED);
  g_assert_true(g_str_has_prefix(error->message, "reading the ISO: "));
  g_assert_null(label);
  g_assert_null(entries);
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  tmp_dir = pp_test_mkdtemp();

  g_test_add_func("/context-iso/one", test_one);
  g_test_add_func("/context-iso/nocloud", test_nocloud);
  g_test_add_func("/context-iso/reproducible", test_reproducible);
  g_test_add_func("/context-iso/threads", test_threads);
  g_test_add_func("/context-iso/empty", test_empty);
  g_test_add_func("/context-iso/size-bound", test_size_bound);
  g_test_add_func("/context-iso/bad-names", test_bad_names);
  g_test_add_func("/context-iso/read-garbage", test_read_garbage);
  rc = g_test_run();

  pp_test_rmtree(tmp_dir);
  g_free(tmp_dir);
  return rc;
}
