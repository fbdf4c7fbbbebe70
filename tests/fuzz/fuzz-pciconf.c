/* libFuzzer target: the pci.conf parser (libyaml underneath). Any input
 * gives a filter or an error with a position, never a crash or a leak. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pp-pciconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpPciFilter) filter = NULL;
  g_autoptr(GError) error = NULL;

  filter = pp_pciconf_parse((const char *)data, size, &error);
  if (filter == NULL && (error == NULL || (error->code == PP_PCICONF_ERROR_INVALID &&
                                           !g_str_has_prefix(error->message, "line "))))
    abort();
  return 0;
}
