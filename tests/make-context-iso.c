/* make-context-iso: an ISO 9660 image of volume CONTEXT holding
 * context.sh, made by pcipassd's own builder (pp_context_iso_build()), for
 * tests/e2e/run-context-agent (not installed).
 *
 *   make-context-iso OUT.iso CONTEXT.sh */
#include "config.h"

#include <stdio.h>

#include <glib.h>

#include "pp-test-iso.h"

int
main(int argc, char **argv)
{
  g_autofree char *context = NULL;
  g_autoptr(GError) error = NULL;

  if (argc != 3) {
    fprintf(stderr, "usage: make-context-iso OUT.iso CONTEXT.sh\n");
    return 2;
  }
  if (!g_file_get_contents(argv[2], &context, NULL, &error)) {
    fprintf(stderr, "make-context-iso: %s\n", error->message);
    return 2;
  }
  pp_test_write_iso(argv[1], "CONTEXT", context);
  return 0;
}
