#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include "pp-host-table.h"
#include "pp-image-table.h"

char *
pp_image_table_size(const json_t *bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
  double value;
  guint unit = 0;

  if (!json_is_integer(bytes) || json_integer_value(bytes) < 0)
    return g_strdup("-");
  if (json_integer_value(bytes) < 1024)
    return g_strdup_printf("%" JSON_INTEGER_FORMAT " B", json_integer_value(bytes));
  value = (double)json_integer_value(bytes) / 1024.0;
  while (value >= 1024.0 && unit + 1 < G_N_ELEMENTS(units)) {
    value /= 1024.0;
    unit++;
  }
  return g_strdup_printf("%.1f %s", value, units[unit]);
}

char *
pp_image_table_list(const json_t *images)
{
  static const PpTableColumn columns[] = {
    { "NAME", FALSE },
    { "KIND", FALSE },
    { "SIZE", TRUE },
    { "DIRECTORY", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *image;
  size_t i;

  json_array_foreach(images, i, image)
  {
    g_ptr_array_add(cells, pp_host_table_clean(json_string_value(json_object_get(image, "name"))));
    g_ptr_array_add(cells, pp_host_table_clean(json_string_value(json_object_get(image, "kind"))));
    g_ptr_array_add(cells, pp_image_table_size(json_object_get(image, "size")));
    g_ptr_array_add(cells,
                    pp_host_table_clean(json_string_value(json_object_get(image, "directory"))));
  }
  return pp_host_table_render(columns, G_N_ELEMENTS(columns), cells);
}
