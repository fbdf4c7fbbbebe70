/* pp-id-set: sets of row ids (see pp-id-set.h). */
#include "config.h"

#include "pp-id-set.h"

GHashTable *
pp_id_set_new(void)
{
  return g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}

gboolean
pp_id_set_add(GHashTable *set, gint64 id)
{
  g_return_val_if_fail(set != NULL, FALSE);
  if (g_hash_table_contains(set, &id))
    return FALSE;
  g_hash_table_add(set, g_memdup2(&id, sizeof(id)));
  return TRUE;
}

static int
cmp_id(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

GArray *
pp_id_set_take(GHashTable *set)
{
  GArray *ids;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail(set != NULL, NULL);
  ids = g_array_sized_new(FALSE, FALSE, sizeof(gint64), g_hash_table_size(set));
  g_hash_table_iter_init(&iter, set);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    g_array_append_val(ids, *(gint64 *)key);
  g_hash_table_remove_all(set);
  g_array_sort(ids, cmp_id);
  return ids;
}
