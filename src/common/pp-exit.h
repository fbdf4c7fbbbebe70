/* pp-exit: the exit codes of every pcipass program. */
#pragma once

enum {
  PP_EXIT_OK = 0,
  PP_EXIT_RUNTIME = 1, /* the work failed: daemon down, host error, output not written */
  PP_EXIT_USAGE = 2,   /* bad usage or bad input: options, files, templates, pci.conf */
};
