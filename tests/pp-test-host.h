/* pp-test-host: a copy of a real server's sysfs (ghw's 8581 capture:
 * BCM5709s, an I350 with VFs, a MegaRAID holding /boot, a Matrox VGA) made
 * into a host root for pcipass-vfio: IOMMU groups added as such a board
 * has them, and the files a kernel has and the capture pruned. */
#pragma once

#include <glib.h>

#include "pp-fake-kernel.h"
#include "pp-test-util.h"

G_BEGIN_DECLS

/* pcipass-vfio's --wait where the fake kernel is to answer: pcipass-vfio
 * returns as soon as it does, so the bound costs nothing when all is well,
 * and it is far above what a busy machine makes the fake kernel's thread
 * wait for the CPU. A test of a kernel that never answers uses its own
 * short wait. */
#define PP_TEST_KERNEL_WAIT "30"

typedef struct {
  char *dir;  /* the temporary folder */
  char *root; /* --root */
  char *sys;
  char *state;
  PpFakeKernel *kernel;
} PpTestHost;

void pp_test_host_setup(PpTestHost *h);
void pp_test_host_teardown(PpTestHost *h);

/* Starts the fake kernel on the host, each NIC's default driver set. */
void pp_test_host_kernel_start(PpTestHost *h);
/* Stops it; returns: (transfer full) the writes it saw, one per line. */
char *pp_test_host_kernel_stop(PpTestHost *h);

/* Runs pcipass-vfio ARGS... --root ROOT; NULL-terminated. */
void pp_test_host_vfio(PpTestHost *h, PpTestRun *run, ...) G_GNUC_NULL_TERMINATED;

/* The driver of @bdf ("none" without one); its driver_override. */
char *pp_test_host_driver(PpTestHost *h, const char *bdf);
char *pp_test_host_override(PpTestHost *h, const char *bdf);
/* The state file, "" when there is none. */
char *pp_test_host_state(PpTestHost *h);

G_END_DECLS
