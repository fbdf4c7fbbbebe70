/* pp-context-iso-priv: reading an image of pp-context-iso back, for the
 * tests (STYLE rule 5). It shares the module's libisofs initialisation and
 * lock, which a reader of the tests' own could not. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "pp-context-iso.h"

G_BEGIN_DECLS

/* Which directory tree to read the names from. */
typedef enum {
  PP_CONTEXT_ISO_TREE_ROCKRIDGE, /* Rock Ridge's (with its modes and owners) */
  PP_CONTEXT_ISO_TREE_JOLIET,    /* Joliet's */
  PP_CONTEXT_ISO_TREE_ISO9660,   /* the plain ISO 9660 records' */
} PpContextIsoTree;

/* A file at the root of an image, as a reader sees it. */
typedef struct {
  char *name;
  GBytes *data;
  guint mode; /* permission bits: Rock Ridge's, else libisofs's default */
  guint uid;
  guint gid;
  gint64 mtime;
} PpContextIsoEntry;

void pp_context_iso_entry_free(PpContextIsoEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpContextIsoEntry, pp_context_iso_entry_free)

/**
 * pp_context_iso_read:
 * @iso: an image (PP_CONTEXT_ISO_MAX_SIZE + PP_CONTEXT_ISO_OVERHEAD_MAX
 *   bytes at most)
 * @tree: the directory tree to read
 * @ret_label: (out) (transfer full): the volume id libisofs's reader
 *   reports (the primary volume descriptor's)
 * @ret_entries: (out) (transfer full) (element-type PpContextIsoEntry):
 *   the root's entries, in the image's order; a directory among them is an
 *   error
 *
 * Reads @iso with libisofs's reader (iso_image_import over memory).
 *
 * Returns: FALSE with FAILED and libisofs's message, outputs untouched.
 */
gboolean pp_context_iso_read(GBytes *iso, PpContextIsoTree tree, char **ret_label,
                             GPtrArray **ret_entries, GError **error);

G_END_DECLS
