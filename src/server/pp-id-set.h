/* pp-id-set: a set of row ids (gint64), as the store's watchers keep
 * them (pp_store_add_watch()): what changed since their last pass, taken
 * whole and in id order when they read it. A GHashTable of g_int64 keys
 * it owns. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Returns: (transfer full): an empty set. */
GHashTable *pp_id_set_new(void);
/* Adds @id; TRUE when it was not there. */
gboolean pp_id_set_add(GHashTable *set, gint64 id);
/* Takes the ids of @set, which is left empty. Returns: (transfer full):
 * gint64, ascending. */
GArray *pp_id_set_take(GHashTable *set);

G_END_DECLS
