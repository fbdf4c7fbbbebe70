/* pp-test-iso: real ISO 9660 images for the tests of pcipass-context,
 * made by pcipassd's own builder (pp-context-iso), so that the agent is
 * tested on the disks pcipassd writes (pp-test-iso.h). */
#include "config.h"

#include <string.h>

#include "pp-context-iso.h"
#include "pp-test-iso.h"

void
pp_test_write_iso(const char *path, const char *label, const char *context)
{
  g_autoptr(PpContextDisk) disk = pp_context_disk_new(PP_VM_CONTEXT_ONE);
  g_autoptr(GBytes) iso = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data;

  disk->label = label;
  pp_context_disk_add(disk, "context.sh", context, strlen(context));
  iso = pp_context_iso_build(disk, &error);
  g_assert_no_error(error);
  data = g_bytes_get_data(iso, &len);
  g_file_set_contents(path, data, (gssize)len, &error);
  g_assert_no_error(error);
}
