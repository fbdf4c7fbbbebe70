/* pp-kmod: kernel modules as the host's module files know them:
 * lib/modules/RELEASE/modules.alias (which module the kernel loads for a
 * device), modules.builtin and modules.dep, below a root. Driver names in
 * sysfs (xhci_hcd, sof-audio-pci-intel-tgl) are not module names
 * (xhci_pci, snd_sof_pci_intel_tgl): blacklists and softdeps need these. */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"
#include "pp-sysfs.h"

G_BEGIN_DECLS

typedef struct _PpKmod PpKmod;

/**
 * pp_kmod_open:
 * @root: the host's root
 * @kernel: (nullable): its kernel release
 *
 * Missing files are no error: lookups then find nothing.
 *
 * Returns: (transfer full): never %NULL.
 */
PpKmod *pp_kmod_open(PpSysfs *root, const char *kernel);
void pp_kmod_free(PpKmod *kmod);

/* "xhci-pci" -> "xhci_pci". Returns: (transfer full). */
char *pp_kmod_normalize(const char *name);

/* Returns: (transfer none): the module modules.alias names for
 * @modalias ("pci:v00008086d000010D3sv..."), or %NULL. */
const char *pp_kmod_lookup_alias(PpKmod *kmod, const char *modalias);

/* Whether @module is built into the kernel (modules.builtin). */
gboolean pp_kmod_is_builtin(PpKmod *kmod, const char *module);

/* Whether modules.dep or modules.builtin lists @module. */
gboolean pp_kmod_exists(PpKmod *kmod, const char *module);

/**
 * pp_kmod_module_of:
 * @driver: (nullable): the driver the device has, or had
 *
 * The module that drives @dev: @driver's own (bus/pci/drivers/D/module),
 * else what modules.alias says for the device's modalias, else @driver
 * itself, normalized.
 *
 * Returns: (transfer full) (nullable): the module, or %NULL.
 */
char *pp_kmod_module_of(PpKmod *kmod, PpSysfs *sys, const PpPciDevice *dev, const char *driver);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpKmod, pp_kmod_free)

G_END_DECLS
