/* pp-pci-names: vendor, device and class names from pci.ids, through libpci.
 *
 * libpci's error hook ends the process (STYLE rule 21), so this module is
 * for the short-lived probe and CLI only, never for pcipassd. The ID file
 * is loaded when the names are opened, so a broken file is reported before
 * anything is printed.
 */
#pragma once

#include <glib.h>

#include "pp-pci-device.h"

G_BEGIN_DECLS

#define PP_PCI_NAMES_ERROR (pp_pci_names_error_quark())
GQuark pp_pci_names_error_quark(void);

typedef enum {
  PP_PCI_NAMES_ERROR_NOT_FOUND,
} PpPciNamesError;

typedef struct _PpPciNames PpPciNames;

/**
 * pp_pci_names_open:
 * @ids_path: (nullable): the pci.ids file; %NULL for libpci's default
 *   (Debian's /usr/share/misc/pci.ids), completed by udev's hwdb as lspci
 *   does. With a file given, it is the only source.
 *
 * Returns: (transfer full): the names, or %NULL when @ids_path was given
 *   and cannot be read. A missing default file is not an error: every name
 *   is then numeric ("Device 0d57"), as lspci does.
 */
PpPciNames *pp_pci_names_open(const char *ids_path, GError **error);
void pp_pci_names_free(PpPciNames *names);

/* Fills vendor_name, device_name and class_name of @dev. Unknown ids give
 * libpci's numeric names: "Vendor 1d0f", "Device 0d57", "Class ff00". */
void pp_pci_names_fill(PpPciNames *names, PpPciDevice *dev);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPciNames, pp_pci_names_free)

G_END_DECLS
