/* pp-context-iso: the ISO image of a context disk (pp-context-iso.h). */
#define G_LOG_DOMAIN "pp-context-iso"

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* libisofs's copy of libburn's struct burn_source: we read the image
 * from it without libburn. */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include <libisofs/libisofs.h>

#include "pp-context-iso-priv.h"
#include "pp-context-iso.h"

G_DEFINE_QUARK(pp - context - iso - error - quark, pp_context_iso_error)

#define BLOCK_SIZE 2048
/* PP_CONTEXT_ISO_TIME as iso_write_opts_set_pvd_times() takes it:
 * YYYYMMDDhhmmsscc, GMT. */
#define PVD_TIME "2000010100000000"

/* libisofs's global state: initialised once, used under the lock (see the
 * header). */
static GMutex iso_lock;
static gboolean iso_ready;

/* The cleanups of libisofs's objects. */
static void
iso_write_opts_cleanup(IsoWriteOpts *opts)
{
  iso_write_opts_free(opts);
}

static void
iso_read_opts_cleanup(IsoReadOpts *opts)
{
  iso_read_opts_free(opts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(IsoImage, iso_image_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IsoWriteOpts, iso_write_opts_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IsoReadOpts, iso_read_opts_cleanup)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IsoDataSource, iso_data_source_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IsoDirIter, iso_dir_iter_free)

/* The burn source of iso_image_create_burn_source(): libisofs hands it out
 * without libburn's burn_source_free(), so it is freed as libisofs's own
 * demo does, after its writer thread is cancelled when not read to the
 * end. */
typedef struct {
  struct burn_source *src;
  gboolean done; /* read to its end: nothing to cancel */
} BurnSource;

static void
burn_source_clear(BurnSource *burn)
{
  if (burn->src == NULL)
    return;
  if (!burn->done && burn->src->cancel != NULL)
    burn->src->cancel(burn->src);
  burn->src->free_data(burn->src);
  free(burn->src);
  burn->src = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BurnSource, burn_source_clear)

/* Sets @error to FAILED: "@what: libisofs's message for @code", with the
 * most severe message libisofs queued for it, when there is one (the
 * writer thread's reason). */
static void
set_iso_error(GError **error, int code, const char *what)
{
  char text[ISO_MSGS_MESSAGE_LEN] = "";
  char severity[80] = "";
  int queued_code = 0;
  int image_id = 0;
  g_autofree char *detail = NULL;

  while (iso_obtain_msgs((char *)"FAILURE", &queued_code, &image_id, text, severity) > 0)
    if (detail == NULL && text[0] != '\0')
      detail = g_strdup(g_strchomp(text));
  g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED, "%s: %s%s%s%s", what,
              iso_error_to_msg(code), detail != NULL ? " (" : "", detail != NULL ? detail : "",
              detail != NULL ? ")" : "");
}

/* Takes the lock, and initialises libisofs the first time. */
static gboolean
iso_lock_and_init(GError **error)
{
  int rc;

  g_mutex_lock(&iso_lock);
  if (iso_ready)
    return TRUE;
  /* Bit 0: leave the process's locale alone (pcipassd's, not libisofs's to
   * set). Names are ASCII, so the local charset is that too. */
  rc = iso_init_with_flag(1);
  if (rc < 0) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED,
                "initialising libisofs: %s", iso_error_to_msg(rc));
    g_mutex_unlock(&iso_lock);
    return FALSE;
  }
  iso_set_local_charset((char *)"UTF-8", 0);
  /* Queue failures for set_iso_error(); print nothing: a daemon's stderr
   * is not where errors go. */
  iso_set_msgs_severities((char *)"FAILURE", (char *)"NEVER", (char *)"pcipassd");
  iso_ready = TRUE;
  return TRUE;
}

static void
iso_unlock(void)
{
  /* What is still queued belongs to this call: drop it. */
  char text[ISO_MSGS_MESSAGE_LEN];
  char severity[80];
  int code;
  int image_id;

  while (iso_obtain_msgs((char *)"ALL", &code, &image_id, text, severity) > 0)
    ;
  g_mutex_unlock(&iso_lock);
}

/* 1 to PP_CONTEXT_ISO_NAME_MAX bytes of printable ASCII, no '/', not "."
 * or "..". */
static gboolean
is_valid_name(const char *name, gsize max)
{
  gsize n = strlen(name);

  if (n == 0 || n > max || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '/')
      return FALSE;
  return TRUE;
}

static gboolean
check_disk(const PpContextDisk *disk, GError **error)
{
  guint64 total = 0;

  if (disk->label == NULL || !is_valid_name(disk->label, PP_CONTEXT_ISO_LABEL_MAX)) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                "the context disk's label '%s' is not 1 to %u bytes of printable ASCII",
                disk->label != NULL ? disk->label : "", PP_CONTEXT_ISO_LABEL_MAX);
    return FALSE;
  }
  if (disk->files->len > PP_CONTEXT_ISO_FILES_MAX) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                "the context disk has %u files, more than the %u it may hold", disk->files->len,
                PP_CONTEXT_ISO_FILES_MAX);
    return FALSE;
  }
  for (guint i = 0; i < disk->files->len; i++) {
    const PpContextFile *file = g_ptr_array_index(disk->files, i);

    if (!is_valid_name(file->name, PP_CONTEXT_ISO_NAME_MAX)) {
      g_autofree char *shown = g_strescape(file->name, NULL);

      g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                  "the context disk's file name '%s' is not 1 to %u bytes of printable ASCII "
                  "without '/'",
                  shown, PP_CONTEXT_ISO_NAME_MAX);
      return FALSE;
    }
    for (guint j = 0; j < i; j++) {
      const PpContextFile *other = g_ptr_array_index(disk->files, j);

      if (strcmp(other->name, file->name) == 0) {
        g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                    "the context disk has two files named '%s'", file->name);
        return FALSE;
      }
    }
    total += g_bytes_get_size(file->data);
  }
  if (total > PP_CONTEXT_ISO_MAX_SIZE) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                "the context disk's files hold %" G_GUINT64_FORMAT
                " bytes, more than the %u a context disk may hold: make the CONTEXT values "
                "smaller",
                total, PP_CONTEXT_ISO_MAX_SIZE);
    return FALSE;
  }
  return TRUE;
}

/* Fixes what a node shows, whatever the options replace. */
static void
set_node_attributes(IsoNode *node, mode_t mode)
{
  iso_node_set_permissions(node, mode);
  iso_node_set_uid(node, 0);
  iso_node_set_gid(node, 0);
  iso_node_set_mtime(node, (time_t)PP_CONTEXT_ISO_TIME);
  iso_node_set_atime(node, (time_t)PP_CONTEXT_ISO_TIME);
  iso_node_set_ctime(node, (time_t)PP_CONTEXT_ISO_TIME);
}

/* Adds @file at the root of @image, from a copy of its bytes (a memory
 * stream takes a malloc'd buffer and free()s it). */
static gboolean
add_file(IsoImage *image, const PpContextFile *file, GError **error)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data(file->data, &size);
  /* Never NULL, even for an empty file: libisofs refuses a NULL buffer. */
  unsigned char *copy = malloc(MAX(size, 1));
  IsoStream *stream = NULL;
  IsoFile *node = NULL;
  int rc;

  if (copy == NULL) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED,
                "the context disk's file '%s': out of memory", file->name);
    return FALSE;
  }
  if (size > 0)
    memcpy(copy, data, size);
  rc = iso_memory_stream_new(copy, size, &stream);
  if (rc < 0) {
    free(copy);
    set_iso_error(error, rc, "adding the context disk's file");
    g_prefix_error(error, "'%s': ", file->name);
    return FALSE;
  }
  /* The node takes the stream's reference when it is made; before, on
   * failure, it is still ours. */
  rc = iso_image_add_new_file(image, iso_image_get_root(image), file->name, stream, &node);
  if (rc < 0) {
    iso_stream_unref(stream);
    g_autofree char *what = g_strdup_printf("adding the context disk's file '%s'", file->name);

    set_iso_error(error, rc, what);
    return FALSE;
  }
  set_node_attributes((IsoNode *)node, 0444);
  return TRUE;
}

/* The write options: see the header for why each. */
static gboolean
write_opts_new(IsoWriteOpts **ret_opts, GError **error)
{
  g_autoptr(IsoWriteOpts) opts = NULL;
  int rc = iso_write_opts_new(&opts, 0);

  if (rc < 0) {
    set_iso_error(error, rc, "creating the ISO write options");
    return FALSE;
  }
  iso_write_opts_set_iso_level(opts, 3);
  iso_write_opts_set_rockridge(opts, 1);
  iso_write_opts_set_joliet(opts, 1);
  /* ISO 9660's names as given: lower case, '-', no forced dot, no ";1",
   * and a label in lower case ("cidata"). */
  iso_write_opts_set_allow_lowercase(opts, 1);
  iso_write_opts_set_allow_7bit_ascii(opts, 1);
  iso_write_opts_set_no_force_dots(opts, 3);
  iso_write_opts_set_omit_version_numbers(opts, 1);
  iso_write_opts_set_relaxed_vol_atts(opts, 1);
  /* Modes and owners fixed: 0555 root:root for the root, 0444 for files. */
  iso_write_opts_set_replace_mode(opts, 2, 2, 2, 2);
  iso_write_opts_set_default_dir_mode(opts, 0555);
  iso_write_opts_set_default_file_mode(opts, 0444);
  iso_write_opts_set_default_uid(opts, 0);
  iso_write_opts_set_default_gid(opts, 0);
  /* Every timestamp PP_CONTEXT_ISO_TIME in GMT: Rock Ridge's, the
   * directory records' of all three trees (their mtime, replaced), the
   * volume descriptors' (PVD_TIME, which iso_write_opts_set_pvd_times()
   * writes as given). */
  iso_write_opts_set_replace_timestamps(opts, 2);
  iso_write_opts_set_default_timestamp(opts, (time_t)PP_CONTEXT_ISO_TIME);
  iso_write_opts_set_dir_rec_mtime(opts, 7);
  iso_write_opts_set_always_gmt(opts, 1);
  rc = iso_write_opts_set_pvd_times(opts, (time_t)PP_CONTEXT_ISO_TIME, (time_t)PP_CONTEXT_ISO_TIME,
                                    0, 0, (char *)PVD_TIME);
  if (rc < 0) {
    set_iso_error(error, rc, "setting the ISO's volume times");
    return FALSE;
  }
  *ret_opts = g_steal_pointer(&opts);
  return TRUE;
}

/* One block from @src: 1 read, 0 at its end, -1 failed. */
static int
burn_source_read(struct burn_source *src, unsigned char *buffer)
{
  if (src->read != NULL)
    return src->read(src, buffer, BLOCK_SIZE);
  return src->read_xt(src, buffer, BLOCK_SIZE);
}

/* Runs libisofs's writer on @image and reads its output, bounded. */
static GBytes *
write_image(IsoImage *image, IsoWriteOpts *opts, GError **error)
{
  g_auto(BurnSource) burn = { 0 };
  g_autoptr(GByteArray) out = NULL;
  off_t size;
  int rc = iso_image_create_burn_source(image, opts, &burn.src);

  if (rc < 0) {
    set_iso_error(error, rc, "starting to write the ISO");
    return NULL;
  }
  size = burn.src->get_size(burn.src);
  if (size < 0 || size > PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                "the context disk's ISO would be %" G_GINT64_FORMAT
                " bytes, more than the %u it may be",
                (gint64)size, PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX);
    return NULL;
  }
  out = g_byte_array_sized_new((guint)size);
  for (;;) {
    guint8 block[BLOCK_SIZE];

    rc = burn_source_read(burn.src, block);
    if (rc == 0)
      break;
    if (rc != BLOCK_SIZE) {
      set_iso_error(error, (int)ISO_WRITE_ERROR, "writing the ISO");
      return NULL;
    }
    /* The writer delivers what get_size() said; more would be its bug,
     * still bounded. */
    if (out->len + BLOCK_SIZE > (guint64)size) {
      g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED,
                  "writing the ISO: libisofs wrote more than the %" G_GINT64_FORMAT
                  " bytes it announced",
                  (gint64)size);
      return NULL;
    }
    g_byte_array_append(out, block, BLOCK_SIZE);
  }
  burn.done = TRUE;
  if (out->len != (guint64)size) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED,
                "writing the ISO: libisofs wrote %u of the %" G_GINT64_FORMAT " bytes it announced",
                out->len, (gint64)size);
    return NULL;
  }
  return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static GBytes *
build_locked(const PpContextDisk *disk, GError **error)
{
  g_autoptr(IsoImage) image = NULL;
  g_autoptr(IsoWriteOpts) opts = NULL;
  int rc = iso_image_new(disk->label, &image);

  if (rc < 0) {
    set_iso_error(error, rc, "creating the ISO image");
    return NULL;
  }
  /* iso_image_new() names the volume and the volume set: the label both. */
  iso_image_set_volume_id(image, disk->label);
  set_node_attributes((IsoNode *)iso_image_get_root(image), 0555);
  for (guint i = 0; i < disk->files->len; i++)
    if (!add_file(image, g_ptr_array_index(disk->files, i), error))
      return NULL;
  if (!write_opts_new(&opts, error))
    return NULL;
  return write_image(image, opts, error);
}

GBytes *
pp_context_iso_build(const PpContextDisk *disk, GError **error)
{
  GBytes *iso = NULL;

  g_return_val_if_fail(disk != NULL && disk->files != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (!check_disk(disk, error))
    return NULL;
  if (!iso_lock_and_init(error))
    return NULL;
  iso = build_locked(disk, error);
  iso_unlock();
  return iso;
}

/* ------------------------------------------------------------------------ */
/* Reading back (pp-context-iso-priv.h). */

void
pp_context_iso_entry_free(PpContextIsoEntry *entry)
{
  if (entry == NULL)
    return;
  g_free(entry->name);
  if (entry->data != NULL)
    g_bytes_unref(entry->data);
  g_free(entry);
}

/* An IsoDataSource over an image in memory: its data a GBytes reference. */
static int
memory_source_open(IsoDataSource *src)
{
  (void)src;
  return ISO_SUCCESS;
}

static int
memory_source_close(IsoDataSource *src)
{
  (void)src;
  return ISO_SUCCESS;
}

static int
memory_source_read_block(IsoDataSource *src, uint32_t lba, uint8_t *buffer)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data(src->data, &size);

  if ((guint64)lba * BLOCK_SIZE + BLOCK_SIZE > size)
    return (int)ISO_DATA_SOURCE_FAILURE;
  memcpy(buffer, data + (gsize)lba * BLOCK_SIZE, BLOCK_SIZE);
  return ISO_SUCCESS;
}

static void
memory_source_free_data(IsoDataSource *src)
{
  g_bytes_unref(src->data);
}

static IsoDataSource *
memory_source_new(GBytes *iso)
{
  IsoDataSource *src = g_malloc0(sizeof(*src));

  src->refcount = 1;
  src->open = memory_source_open;
  src->close = memory_source_close;
  src->read_block = memory_source_read_block;
  src->free_data = memory_source_free_data;
  src->data = g_bytes_ref(iso);
  return src;
}

/* The bytes of @file, bounded by the image's size. */
static GBytes *
read_file_data(IsoFile *file, GError **error)
{
  IsoStream *stream = iso_file_get_stream(file);
  g_autoptr(GByteArray) out = g_byte_array_new();
  int rc = iso_stream_open(stream);

  if (rc < 0) {
    set_iso_error(error, rc, "opening a file of the ISO");
    return NULL;
  }
  for (;;) {
    guint8 buffer[BLOCK_SIZE];

    rc = iso_stream_read(stream, buffer, sizeof(buffer));
    if (rc <= 0)
      break;
    if (out->len + rc > PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX) {
      rc = (int)ISO_FILE_TOO_BIG;
      break;
    }
    g_byte_array_append(out, buffer, rc);
  }
  iso_stream_close(stream);
  if (rc < 0) {
    set_iso_error(error, rc, "reading a file of the ISO");
    return NULL;
  }
  return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

static gboolean
read_locked(GBytes *iso, PpContextIsoTree tree, char **ret_label, GPtrArray **ret_entries,
            GError **error)
{
  g_autoptr(IsoImage) image = NULL;
  g_autoptr(IsoReadOpts) opts = NULL;
  g_autoptr(IsoDataSource) src = memory_source_new(iso);
  g_autoptr(IsoDirIter) iter = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  IsoNode *node = NULL;
  int rc = iso_image_new("read", &image);

  if (rc >= 0)
    rc = iso_read_opts_new(&opts, 0);
  if (rc < 0) {
    set_iso_error(error, rc, "preparing to read the ISO");
    return FALSE;
  }
  iso_read_opts_set_no_rockridge(opts, tree != PP_CONTEXT_ISO_TREE_ROCKRIDGE);
  iso_read_opts_set_no_joliet(opts, tree != PP_CONTEXT_ISO_TREE_JOLIET);
  iso_read_opts_set_preferjoliet(opts, tree == PP_CONTEXT_ISO_TREE_JOLIET);
  /* The plain ISO 9660 names as recorded, not folded to lower case. */
  iso_read_opts_set_ecma119_map(opts, 0);
  iso_read_opts_set_joliet_map(opts, 0);
  rc = iso_image_import(image, src, opts, NULL);
  if (rc < 0) {
    set_iso_error(error, rc, "reading the ISO");
    return FALSE;
  }

  entries = g_ptr_array_new_with_free_func((GDestroyNotify)pp_context_iso_entry_free);
  rc = iso_dir_get_children(iso_image_get_root(image), &iter);
  if (rc < 0) {
    set_iso_error(error, rc, "listing the ISO's root");
    return FALSE;
  }
  while (iso_dir_iter_next(iter, &node) == 1) {
    g_autoptr(PpContextIsoEntry) entry = NULL;

    if (!ISO_NODE_IS_FILE(node)) {
      g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_FAILED,
                  "the ISO's root holds '%s', which is not a file", iso_node_get_name(node));
      return FALSE;
    }
    entry = g_new0(PpContextIsoEntry, 1);
    entry->name = g_strdup(iso_node_get_name(node));
    entry->data = read_file_data((IsoFile *)node, error);
    if (entry->data == NULL) {
      g_prefix_error(error, "'%s': ", entry->name);
      return FALSE;
    }
    entry->mode = iso_node_get_permissions(node);
    entry->uid = iso_node_get_uid(node);
    entry->gid = iso_node_get_gid(node);
    entry->mtime = iso_node_get_mtime(node);
    g_ptr_array_add(entries, g_steal_pointer(&entry));
  }
  *ret_label = g_strdup(iso_image_get_volume_id(image));
  *ret_entries = g_steal_pointer(&entries);
  return TRUE;
}

gboolean
pp_context_iso_read(GBytes *iso, PpContextIsoTree tree, char **ret_label, GPtrArray **ret_entries,
                    GError **error)
{
  gboolean ok;

  g_return_val_if_fail(iso != NULL && ret_label != NULL && ret_entries != NULL, FALSE);

  if (g_bytes_get_size(iso) > PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX) {
    g_set_error(error, PP_CONTEXT_ISO_ERROR, PP_CONTEXT_ISO_ERROR_INVALID,
                "the ISO holds %" G_GSIZE_FORMAT " bytes, more than the %u it may hold",
                g_bytes_get_size(iso), PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX);
    return FALSE;
  }
  if (!iso_lock_and_init(error))
    return FALSE;
  ok = read_locked(iso, tree, ret_label, ret_entries, error);
  iso_unlock();
  return ok;
}
