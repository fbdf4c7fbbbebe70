/* The text of `pcipass image list`, from the JSON of GET /v1/images:
 * columns, sizes, and text from the server made safe. */
#include "config.h"

#include "pp-autoptr.h"
#include "pp-image-table.h"

static void
test_sizes(void)
{
  static const struct {
    json_int_t bytes;
    const char *text;
  } cases[] = {
    { 0, "0 B" },
    { 1023, "1023 B" },
    { 1024, "1.0 KiB" },
    { 1536, "1.5 KiB" },
    { 104857600, "100.0 MiB" },
    { G_GINT64_CONSTANT(8) << 30, "8.0 GiB" },
    { G_GINT64_CONSTANT(3) << 40, "3.0 TiB" },
    { G_GINT64_CONSTANT(5) << 50, "5.0 PiB" },
    { G_GINT64_CONSTANT(4096) << 50, "4096.0 PiB" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(json_t) value = json_integer(cases[i].bytes);
    g_autofree char *text = pp_image_table_size(value);

    g_assert_cmpstr(text, ==, cases[i].text);
  }
  {
    g_autoptr(json_t) negative = json_integer(-1);
    g_autoptr(json_t) string = json_string("12");
    g_autofree char *a = pp_image_table_size(negative);
    g_autofree char *b = pp_image_table_size(string);
    g_autofree char *c = pp_image_table_size(NULL);

    g_assert_cmpstr(a, ==, "-");
    g_assert_cmpstr(b, ==, "-");
    g_assert_cmpstr(c, ==, "-");
  }
}

static void
test_list(void)
{
  g_autoptr(json_t) images =
      json_pack("[{s:s,s:s,s:I,s:s},{s:s,s:s,s:I,s:s},{s:s,s:s,s:s,s:s}]", "name", "debian12",
                "kind", "qcow2", "size", (json_int_t)(G_GINT64_CONSTANT(3) << 30), "directory",
                "/var/lib/pcipass/images", "name", "vmlinuz-6.1", "kind", "raw", "size",
                (json_int_t)900, "directory", "/srv/nfs/images", "name", "odd", "kind", "raw",
                "size", "big", "directory", "/srv/\x1b[2Jimages");
  g_autoptr(json_t) empty = json_array();
  g_autofree char *text = pp_image_table_list(images);
  g_autofree char *none = pp_image_table_list(empty);

  g_assert_cmpstr(text, ==,
                  "NAME        KIND     SIZE DIRECTORY\n"
                  "debian12    qcow2 3.0 GiB /var/lib/pcipass/images\n"
                  "vmlinuz-6.1 raw     900 B /srv/nfs/images\n"
                  "odd         raw         - /srv/?[2Jimages\n");
  g_assert_cmpstr(none, ==, "NAME KIND SIZE DIRECTORY\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/image-table/sizes", test_sizes);
  g_test_add_func("/image-table/list", test_list);
  return g_test_run();
}
