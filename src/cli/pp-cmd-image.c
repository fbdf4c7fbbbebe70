/* pcipass image ...: the images that templates name (DISK IMAGE, OS
 * KERNEL_IMAGE and INITRD_IMAGE), in pcipassd's image folders. */
#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include "pp-autoptr.h"
#include "pp-cli.h"
#include "pp-image-table.h"

int
pp_cmd_image_list(int argc, char **argv)
{
  g_auto(PpCliDaemonOptions) opts = { 0 };
  g_autoptr(json_t) answer = NULL;
  g_autofree char *text = NULL;
  int rc;

  if (!pp_cli_parse_daemon_options("",
                                   "Lists the images a template can name, in pcipassd's image "
                                   "folders: NAME, KIND (qcow2 or raw, from the file's name), "
                                   "SIZE, DIRECTORY.",
                                   NULL, 0, "no arguments", &opts, &argc, &argv))
    return PP_EXIT_USAGE;
  rc = pp_cli_call(&opts, "GET", "/v1/images", NULL, &answer);
  if (rc != PP_EXIT_OK)
    return rc;
  if (opts.json)
    return pp_print_json(g_steal_pointer(&answer));
  if (json_is_true(json_object_get(answer, "truncated")))
    pp_say_error("note: an image folder has more entries than pcipassd looks at; some images "
                 "are not listed");
  text = pp_image_table_list(json_object_get(answer, "images"));
  return pp_cli_print(text);
}
