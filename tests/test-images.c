/* Images: names (pp-image, pure) and the files behind them (pp-images),
 * on real folders made for each test: every way a name could reach a file
 * outside its folder (a path, '..', a symbolic link in or out, a hard
 * link, a fifo, a device, a socket, a folder) is refused with its reason;
 * qcow2 headers that name host files are refused; the list shows what a
 * template can name. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pp-images.h"
#include "pp-test-util.h"

typedef struct {
  char *dir;     /* the test's folder */
  char *images;  /* an image folder */
  char *more;    /* a second one, searched after */
  char *outside; /* not an image folder: what must stay out of reach */
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  f->dir = pp_test_mkdtemp();
  f->images = g_build_filename(f->dir, "images", NULL);
  f->more = g_build_filename(f->dir, "more", NULL);
  f->outside = g_build_filename(f->dir, "outside", NULL);
  g_assert_cmpint(g_mkdir(f->images, 0755), ==, 0);
  g_assert_cmpint(g_mkdir(f->more, 0755), ==, 0);
  g_assert_cmpint(g_mkdir(f->outside, 0755), ==, 0);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->images);
  g_free(f->more);
  g_free(f->outside);
}

static char *
in(const char *dir, const char *name)
{
  return g_build_filename(dir, name, NULL);
}

static void
put(const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = in(dir, name);

  pp_test_write_file(path, contents);
}

static void
put_symlink(const char *target, const char *dir, const char *name)
{
  g_autofree char *path = in(dir, name);

  pp_test_symlink(target, path);
}

/* A qcow2 header of @len bytes (QEMU's docs/interop/qcow2.txt). */
static void
qcow2_header(guint8 *buf, gsize len, guint32 version, guint64 backing_offset, guint64 incompatible,
             guint64 virtual_size)
{
  memset(buf, 0, len);
  memcpy(buf, "QFI\xfb", 4);
  for (guint i = 0; i < 4; i++)
    buf[4 + i] = (guint8)(version >> (24 - 8 * i));
  for (guint i = 0; i < 8; i++) {
    buf[8 + i] = (guint8)(backing_offset >> (56 - 8 * i));
    buf[24 + i] = (guint8)(virtual_size >> (56 - 8 * i));
    if (len >= 80)
      buf[72 + i] = (guint8)(incompatible >> (56 - 8 * i));
  }
  buf[20 + 3] = 16; /* cluster_bits */
}

static void
put_qcow2(const char *dir, const char *name, guint32 version, guint64 backing_offset,
          guint64 incompatible, guint64 virtual_size)
{
  g_autofree char *path = in(dir, name);
  guint8 header[PP_IMAGE_QCOW2_HEADER_SIZE];
  g_autoptr(GError) error = NULL;

  qcow2_header(header, sizeof(header), version, backing_offset, incompatible, virtual_size);
  g_file_set_contents(path, (const char *)header, sizeof(header), &error);
  g_assert_no_error(error);
}

static PpImages *
images_of(const char *first, const char *second)
{
  const char *dirs[] = { first, second, NULL };

  return pp_images_new(dirs);
}

/* Resolving @name must fail with @code and a message holding @part. */
static void
assert_refused(const PpImages *images, const char *name, int code, const char *part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpImage) image = pp_images_resolve(images, name, &error);

  if (image != NULL)
    g_error("image '%s' resolved to '%s', but should be refused (%s)", name, image->path, part);
  g_assert_error(error, PP_IMAGES_ERROR, code);
  if (strstr(error->message, part) == NULL)
    g_error("image '%s':\n got '%s'\nwant '%s' in it", name, error->message, part);
}

/* ------------------------------------------------------------------------ */

static void
test_names(void)
{
  static const char *const good[] = { "debian12", "vmlinuz-6.1", "initrd.img-6.1", "a..b",
                                      "x_y+z",    "A",           "debian12.qcow2" };
  static const char *const bad[] = { "",     ".",           "..",    ".hidden", "../x",
                                     "a/b",  "/etc/shadow", "a b",   "a\nb",    "caf\xc3\xa9",
                                     "a\\b", "*",           "~root", "a:b" };
  g_autofree char *longest = g_strnfill(PP_IMAGE_NAME_MAX, 'a');
  g_autofree char *too_long = g_strnfill(PP_IMAGE_NAME_MAX + 1, 'a');
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(good); i++)
    g_assert_true(pp_image_name_check(good[i], NULL));
  g_assert_true(pp_image_name_check(longest, NULL));
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    if (pp_image_name_check(bad[i], NULL))
      g_error("'%s' should not be an image name", bad[i]);
  }
  g_assert_false(pp_image_name_check(too_long, NULL));
  g_assert_false(pp_image_name_check("a\nb", &error));
  g_assert_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID);
  /* A control character is shown escaped, never raw. */
  g_assert_cmpstr(error->message, ==,
                  "'a\\nb' is not an image name: 1 to 128 letters, digits, '.', '_', '+' or '-', "
                  "not starting with '.' (a name, not a path)");
}

static void
test_file_names(void)
{
  static const struct {
    const char *file;
    const char *name;
    PpImageFormat format;
  } cases[] = {
    { "debian12.qcow2", "debian12", PP_IMAGE_FORMAT_QCOW2 },
    { "debian12.raw", "debian12", PP_IMAGE_FORMAT_RAW },
    { "initrd-6.1.img", "initrd-6.1", PP_IMAGE_FORMAT_RAW },
    { "vmlinuz-6.1", "vmlinuz-6.1", PP_IMAGE_FORMAT_RAW },
    { "a.qcow2.raw", "a.qcow2", PP_IMAGE_FORMAT_RAW },
    { ".qcow2", ".qcow2", PP_IMAGE_FORMAT_QCOW2 },
    { "disk.QCOW2", "disk.QCOW2", PP_IMAGE_FORMAT_RAW },
  };
  g_auto(GStrv) candidates = pp_image_candidates("debian12");

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *name = pp_image_name_of_file(cases[i].file);

    g_assert_cmpstr(name, ==, cases[i].name);
    g_assert_cmpint(pp_image_format_of_file(cases[i].file), ==, cases[i].format);
  }
  g_assert_cmpuint(g_strv_length(candidates), ==, 4);
  g_assert_cmpstr(candidates[0], ==, "debian12.qcow2");
  g_assert_cmpstr(candidates[1], ==, "debian12.raw");
  g_assert_cmpstr(candidates[2], ==, "debian12.img");
  g_assert_cmpstr(candidates[3], ==, "debian12");
  g_assert_cmpstr(pp_image_format_to_string(PP_IMAGE_FORMAT_QCOW2), ==, "qcow2");
  g_assert_cmpstr(pp_image_format_to_string(PP_IMAGE_FORMAT_RAW), ==, "raw");
}

static void
test_qcow2_header(void)
{
  guint8 h[PP_IMAGE_QCOW2_HEADER_SIZE];
  guint64 size = 0;
  static const struct {
    guint32 version;
    guint64 backing;
    guint64 incompatible;
    gsize len;
    const char *message; /* NULL: accepted */
  } cases[] = {
    { 3, 0, 0, PP_IMAGE_QCOW2_HEADER_SIZE, NULL },
    { 2, 0, 0, 72, NULL },
    /* Dirty (bit 0) is QEMU's business, not a file of the host. */
    { 3, 0, 1, PP_IMAGE_QCOW2_HEADER_SIZE, NULL },
    { 3, 0x10000, 0, PP_IMAGE_QCOW2_HEADER_SIZE,
      "it has a backing file, a file of the host that QEMU would open: pcipass takes only qcow2 "
      "images that stand alone (qemu-img convert -O qcow2 makes one)" },
    { 2, 0x200, 0, 72, "it has a backing file" },
    { 3, 0, 1 << 2, PP_IMAGE_QCOW2_HEADER_SIZE,
      "it has an external data file, a file of the host that QEMU would open: pcipass takes only "
      "qcow2 images that stand alone (qemu-img convert -O qcow2 makes one)" },
    { 4, 0, 0, PP_IMAGE_QCOW2_HEADER_SIZE,
      "it is a qcow2 of version 4, which pcipass does not know (2 or 3)" },
    { 3, 0, 0, 80, "it is not a qcow2 file (its version 3 header is cut short)" },
    { 3, 0, 0, 40,
      "it is not a qcow2 file (its header is cut short), though its name ends in "
      ".qcow2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;

    qcow2_header(h, sizeof(h), cases[i].version, cases[i].backing, cases[i].incompatible,
                 G_GUINT64_CONSTANT(10) << 30);
    if (cases[i].message == NULL) {
      g_assert_true(pp_image_qcow2_check(h, cases[i].len, &size, &error));
      g_assert_no_error(error);
      g_assert_cmpuint(size, ==, G_GUINT64_CONSTANT(10) << 30);
      continue;
    }
    g_assert_false(pp_image_qcow2_check(h, cases[i].len, &size, &error));
    g_assert_error(error, PP_IMAGE_ERROR, PP_IMAGE_ERROR_INVALID);
    if (!g_str_has_prefix(error->message, cases[i].message))
      g_error("case %u:\n got '%s'\nwant '%s'", i, error->message, cases[i].message);
  }
  {
    g_autoptr(GError) error = NULL;

    memcpy(h, "QFI\xfa", 4);
    g_assert_false(pp_image_qcow2_check(h, sizeof(h), NULL, &error));
    g_assert_cmpstr(error->message, ==,
                    "it is not a qcow2 file (no QFI\\xfb magic), though its name ends in .qcow2");
    g_clear_error(&error);
    g_assert_false(pp_image_qcow2_check(h, 0, NULL, &error));
    g_assert_nonnull(strstr(error->message, "no QFI\\xfb magic"));
  }
}

/* ------------------------------------------------------------------------ */

static void
test_resolve(Fixture *f, gconstpointer data)
{
  g_autoptr(PpImages) images = images_of(f->images, f->more);
  static const struct {
    const char *name;
    const char *dir; /* "images" or "more" */
    const char *file;
    const char *format;
  } cases[] = {
    { "debian12", "images", "debian12.qcow2", "qcow2" },
    { "debian12.qcow2", "images", "debian12.qcow2", "qcow2" },
    { "alpine", "images", "alpine.raw", "raw" },
    { "initrd-6.1", "images", "initrd-6.1.img", "raw" },
    { "initrd-6.1.img", "images", "initrd-6.1.img", "raw" },
    { "vmlinuz-6.1", "images", "vmlinuz-6.1", "raw" },
    /* Only in the second folder. */
    { "scratch", "more", "scratch.raw", "raw" },
    /* In both: the first folder's. */
    { "shared", "images", "shared", "raw" },
  };

  put_qcow2(f->images, "debian12.qcow2", 3, 0, 0, G_GUINT64_CONSTANT(2) << 30);
  put(f->images, "alpine.raw", "0123456789");
  put(f->images, "initrd-6.1.img", "initrd");
  put(f->images, "vmlinuz-6.1", "kernel");
  put(f->images, "shared", "first");
  put(f->more, "shared.qcow2", "second");
  put(f->more, "scratch.raw", "");

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpImage) image = pp_images_resolve(images, cases[i].name, &error);
    const char *dir = strcmp(cases[i].dir, "images") == 0 ? f->images : f->more;
    g_autofree char *path = in(dir, cases[i].file);

    g_assert_no_error(error);
    g_assert_nonnull(image);
    g_assert_cmpstr(image->name, ==, cases[i].name);
    g_assert_cmpstr(image->dir, ==, dir);
    g_assert_cmpstr(image->file, ==, cases[i].file);
    g_assert_cmpstr(image->path, ==, path);
    g_assert_cmpstr(pp_image_format_to_string(image->format), ==, cases[i].format);
  }
  {
    g_autoptr(PpImage) qcow2 = pp_images_resolve(images, "debian12", NULL);
    g_autoptr(PpImage) raw = pp_images_resolve(images, "alpine", NULL);

    g_assert_cmpuint(qcow2->size, ==, PP_IMAGE_QCOW2_HEADER_SIZE);
    g_assert_cmpuint(qcow2->virtual_size, ==, G_GUINT64_CONSTANT(2) << 30);
    g_assert_cmpuint(raw->size, ==, 10);
    g_assert_cmpuint(raw->virtual_size, ==, 10);
  }

  /* Not there: which folders were searched, and how to see what is. */
  {
    g_autofree char *message =
        g_strdup_printf("no image 'nothere' in '%s' or '%s' (pcipass image list shows the images)",
                        f->images, f->more);

    assert_refused(images, "nothere", PP_IMAGES_ERROR_NOT_FOUND, message);
  }
  /* Two candidates in one folder: which file is meant is not guessed. */
  put(f->images, "twice.qcow2", "");
  put(f->images, "twice.img", "");
  {
    g_autofree char *message = g_strdup_printf(
        "image 'twice' is ambiguous in '%s': 'twice.qcow2' and 'twice.img'; name the file itself "
        "(as 'twice.qcow2')",
        f->images);
    g_autoptr(PpImage) image = pp_images_resolve(images, "twice.img", NULL);

    assert_refused(images, "twice", PP_IMAGES_ERROR_INVALID, message);
    g_assert_nonnull(image);
    g_assert_cmpstr(image->file, ==, "twice.img");
  }
  /* A folder that is missing is passed over, and said so when nothing is
   * found. */
  {
    g_autofree char *gone = in(f->dir, "gone");
    g_autoptr(PpImages) with_gone = images_of(gone, f->images);
    g_autoptr(PpImage) image = pp_images_resolve(with_gone, "alpine", NULL);
    g_autofree char *message =
        g_strdup_printf("no image 'nothere' in '%s' (missing) or '%s'", gone, f->images);

    g_assert_nonnull(image);
    g_assert_cmpstr(image->dir, ==, f->images);
    assert_refused(with_gone, "nothere", PP_IMAGES_ERROR_NOT_FOUND, message);
  }
  /* No folders at all. */
  {
    g_autoptr(PpImages) none = pp_images_new(NULL);

    assert_refused(none, "alpine", PP_IMAGES_ERROR_NOT_FOUND,
                   "no image 'alpine': pcipassd has no image folders (its setting image-dirs is "
                   "empty)");
    assert_refused(NULL, "alpine", PP_IMAGES_ERROR_NOT_FOUND, "no image folders");
  }
}

/* Every way out of the folder, refused with its reason; what lies outside
 * is never opened (a fifo would hang the test). */
static void
test_escapes(Fixture *f, gconstpointer data)
{
  g_autoptr(PpImages) images = images_of(f->images, NULL);
  g_autofree char *secret = in(f->outside, "secret");
  g_autofree char *inside = in(f->images, "inside.raw");
  g_autofree char *fifo = in(f->images, "pipe");
  g_autofree char *folder = in(f->images, "folder.img");
  g_autofree char *sock_path = in(f->images, "sock");
  g_autofree char *hard = in(f->images, "hard.raw");
  g_autofree char *device = in(f->images, "null");
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int sock;
  static const struct {
    const char *name;
    const char *reason; /* after "image 'NAME' ('PATH'): " */
  } refused[] = {
    { "evil", "it is a symbolic link; pcipass takes only regular files from its image folders, "
              "and follows no link" },
    { "evil-qcow", "it is a symbolic link" },
    { "relative", "it is a symbolic link" },
    { "link-inside", "it is a symbolic link" },
    { "link-dir", "it is a symbolic link" },
    { "pipe", "it is a named pipe (fifo), not a regular file" },
    { "folder", "it is a folder, not a regular file" },
    { "sock", "it is a socket, not a regular file" },
    { "hard", "it has 2 hard links, and another name of the same file may be outside the image "
              "folders; copy it to make an image of its own" },
    { "fake", "it is not a qcow2 file (no QFI\\xfb magic), though its name ends in .qcow2" },
    { "backed", "it has a backing file" },
    { "datafile", "it has an external data file" },
  };

  put(f->outside, "secret", "host secret");
  put(f->images, "inside.raw", "fine");
  put_symlink(secret, f->images, "evil");
  put_symlink(secret, f->images, "evil-qcow.qcow2");
  put_symlink("../outside/secret", f->images, "relative");
  /* A link inside to a file inside is refused too: links are never
   * followed (pcipassd(8), IMAGES). */
  put_symlink(inside, f->images, "link-inside.raw");
  put_symlink(f->outside, f->images, "link-dir");
  g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
  g_assert_cmpint(g_mkdir(folder, 0755), ==, 0);
  g_assert_cmpuint(strlen(sock_path), <, sizeof(sa.sun_path));
  memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
  sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  g_assert_cmpint(link(secret, hard), ==, 0);
  put(f->images, "fake.qcow2",
      "raw bytes, not a qcow2, and long enough to hold a header: "
      "...........................................................");
  put_qcow2(f->images, "backed.qcow2", 3, 0x10000, 0, 1 << 20);
  put_qcow2(f->images, "datafile.qcow2", 3, 0, 1 << 2, 1 << 20);

  for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpImage) image = pp_images_resolve(images, refused[i].name, &error);
    g_autofree char *prefix = g_strdup_printf("image '%s' ('%s/", refused[i].name, f->images);

    if (image != NULL)
      g_error("image '%s' resolved to '%s'", refused[i].name, image->path);
    g_assert_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_INVALID);
    if (!g_str_has_prefix(error->message, prefix) ||
        strstr(error->message, refused[i].reason) == NULL)
      g_error("image '%s':\n got '%s'\nwant '%s...%s'", refused[i].name, error->message, prefix,
              refused[i].reason);
  }

  /* A device node: made only by root (the tests run as root in CI). */
  if (mknod(device, S_IFCHR | 0666, makedev(1, 3)) == 0)
    assert_refused(images, "null", PP_IMAGES_ERROR_INVALID,
                   "it is a character device, not a regular file");
  else
    g_test_message("mknod: %s: the device case is not checked here", g_strerror(errno));

  /* Names that are paths never reach the folder. */
  assert_refused(images, "../outside/secret", PP_IMAGES_ERROR_INVALID,
                 "'../outside/secret' is not an image name");
  assert_refused(images, secret, PP_IMAGES_ERROR_INVALID, "is not an image name");
  assert_refused(images, "..", PP_IMAGES_ERROR_INVALID, "is not an image name");
  assert_refused(images, ".", PP_IMAGES_ERROR_INVALID, "is not an image name");

  /* The file the link pointed to is still usable by its own name. */
  {
    g_autoptr(PpImage) image = pp_images_resolve(images, "inside", NULL);

    g_assert_nonnull(image);
    g_assert_cmpstr(image->path, ==, inside);
  }
  close(sock);
}

/* What templates can name, by the resolver's own rules. */
static void
test_list(Fixture *f, gconstpointer data)
{
  g_autofree char *gone = in(f->dir, "gone");
  const char *dirs[] = { f->images, gone, f->more, NULL };
  g_autoptr(PpImages) images = pp_images_new(dirs);
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  gboolean truncated = TRUE;
  static const struct {
    const char *name;
    const char *file;
    const char *kind;
    guint64 size;
    gboolean more;
  } want[] = {
    { "alpine", "alpine.raw", "raw", 3, FALSE },
    { "debian12", "debian12.qcow2", "qcow2", PP_IMAGE_QCOW2_HEADER_SIZE, FALSE },
    { "twice.img", "twice.img", "raw", 0, FALSE },
    { "twice.qcow2", "twice.qcow2", "qcow2", PP_IMAGE_QCOW2_HEADER_SIZE, FALSE },
    { "vmlinuz-6.1", "vmlinuz-6.1", "raw", 6, FALSE },
    { "scratch", "scratch.raw", "raw", 1, TRUE },
  };

  put(f->images, "alpine.raw", "abc");
  put_qcow2(f->images, "debian12.qcow2", 3, 0, 0, 1 << 30);
  put(f->images, "twice.img", "");
  put_qcow2(f->images, "twice.qcow2", 2, 0, 0, 1 << 20);
  put(f->images, "vmlinuz-6.1", "kernel");
  put(f->images, ".hidden.raw", "");
  put(f->images, "bad name.raw", "");
  put(f->images, "broken.qcow2", "not qcow2");
  put(f->outside, "secret", "");
  put_symlink("../outside/secret", f->images, "link.raw");
  {
    g_autofree char *sub = in(f->images, "sub");

    g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  }
  /* Hidden by the first folder's alpine.raw. */
  put(f->more, "alpine.qcow2", "");
  put(f->more, "scratch.raw", "s");

  list = pp_images_list(images, &truncated, &error);
  g_assert_no_error(error);
  g_assert_false(truncated);
  for (guint i = 0; i < list->len; i++) {
    const PpImage *image = g_ptr_array_index(list, i);

    g_test_message("%s %s %s", image->name, image->dir, image->file);
  }
  g_assert_cmpuint(list->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    const PpImage *image = g_ptr_array_index(list, i);

    g_assert_cmpstr(image->name, ==, want[i].name);
    g_assert_cmpstr(image->file, ==, want[i].file);
    g_assert_cmpstr(image->dir, ==, want[i].more ? f->more : f->images);
    g_assert_cmpstr(pp_image_format_to_string(image->format), ==, want[i].kind);
    g_assert_cmpuint(image->size, ==, want[i].size);
  }

  /* Nothing configured: nothing listed. */
  {
    g_autoptr(PpImages) none = pp_images_new(NULL);
    g_autoptr(GPtrArray) empty = pp_images_list(none, NULL, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(empty->len, ==, 0);
  }
  /* A folder that is a file cannot be read: said, not skipped. */
  {
    g_autofree char *file = in(f->dir, "file");
    const char *bad[] = { file, NULL };
    g_autoptr(PpImages) wrong = NULL;
    g_autoptr(GPtrArray) none = NULL;

    pp_test_write_file(file, "");
    wrong = pp_images_new(bad);
    none = pp_images_list(wrong, NULL, &error);
    g_assert_null(none);
    g_assert_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_FAILED);
    g_assert_true(g_str_has_prefix(error->message, "cannot read the image folder '"));
  }
}

/* A template's images, resolved into what the domain XML reads; a bad one
 * says where it is. */
static void
test_resolve_spec(Fixture *f, gconstpointer data)
{
  static const char text[] = "MEMORY = 256\n"
                             "DISK = [ IMAGE = debian12 ]\n"
                             "DISK = [ SOURCE = /dev/vg/data ]\n"
                             "OS = [ KERNEL_IMAGE = vmlinuz, INITRD_IMAGE = initrd ]\n";
  g_autoptr(PpImages) images = images_of(f->images, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVmSpec) spec = NULL;
  g_autofree char *disk = in(f->images, "debian12.qcow2");
  g_autofree char *kernel = in(f->images, "vmlinuz");
  g_autofree char *initrd = in(f->images, "initrd.img");
  PpTextPos pos = { 0, 0 };

  put_qcow2(f->images, "debian12.qcow2", 3, 0, 0, 1 << 30);
  put(f->images, "vmlinuz", "k");
  put(f->images, "initrd.img", "i");

  spec = pp_vm_template_parse(text, strlen(text), &error);
  g_assert_no_error(error);
  g_assert_true(pp_images_resolve_spec(images, spec, &pos, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 0))->source, ==, disk);
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 0))->format, ==, "qcow2");
  /* The administrator's path is left as it is. */
  g_assert_cmpstr(((PpVmDisk *)g_ptr_array_index(spec->disks, 1))->source, ==, "/dev/vg/data");
  g_assert_cmpstr(spec->kernel, ==, kernel);
  g_assert_cmpstr(spec->initrd, ==, initrd);
  g_clear_pointer(&spec, pp_vm_spec_free);

  /* The initrd is gone: where, which key, why. */
  g_assert_cmpint(unlink(initrd), ==, 0);
  spec = pp_vm_template_parse(text, strlen(text), &error);
  g_assert_false(pp_images_resolve_spec(images, spec, &pos, &error));
  g_assert_error(error, PP_IMAGES_ERROR, PP_IMAGES_ERROR_NOT_FOUND);
  {
    g_autofree char *want = g_strdup_printf(
        "line 4, column 32: OS: INITRD_IMAGE: no image 'initrd' in '%s' (pcipass image list "
        "shows the images)",
        f->images);

    g_assert_cmpstr(error->message, ==, want);
  }
  g_assert_cmpuint(pos.line, ==, 4);
  g_assert_cmpuint(pos.column, ==, 32);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/images/names", test_names);
  g_test_add_func("/images/file-names", test_file_names);
  g_test_add_func("/images/qcow2-header", test_qcow2_header);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD("/images/resolve", test_resolve);
  ADD("/images/escapes", test_escapes);
  ADD("/images/list", test_list);
  ADD("/images/resolve-spec", test_resolve_spec);
#undef ADD
  return g_test_run();
}
