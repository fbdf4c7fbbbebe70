/* pp-pciconf: pci.conf, the probe's configuration, in OpenNebula's YAML.
 *
 *   :filter:         lspci -d patterns `vendor:device[:class]`, as a list,
 *                    or one string with commas; a device passes if any
 *                    matches. Absent: '0:0' (no device). Null: every device.
 *   :short_address:  `bus:slot.func` (or with the domain); when not empty
 *                    the device must be one of them.
 *   :device_name:    case-insensitive regular expressions; when not empty the
 *                    device name must match one of them.
 *   :nvidia_vendors: accepted from OpenNebula's file and ignored: pcipass
 *                    treats every vendor's VFs alike.
 *
 * Any error rejects the whole file (STYLE rule 25).
 */
#pragma once

#include <glib.h>

#include "pp-pci-filter.h"

G_BEGIN_DECLS

#define PP_PCICONF_ERROR (pp_pciconf_error_quark())
GQuark pp_pciconf_error_quark(void);

typedef enum {
  PP_PCICONF_ERROR_INVALID, /* the message starts with "line L, column C: " */
  PP_PCICONF_ERROR_TOO_LARGE,
} PpPciconfError;

#define PP_PCICONF_MAX_SIZE (1024 * 1024)

/**
 * pp_pciconf_parse:
 * @text: the YAML text
 *
 * Returns: (transfer full): the filter, or %NULL with the line, the column,
 *   the key and the reason in @error. The caller adds the file's name.
 */
PpPciFilter *pp_pciconf_parse(const char *text, gsize len, GError **error);

/**
 * pp_pciconf_load:
 * @path: the file to read
 *
 * Reads @path and parses it.
 *
 * Returns: (transfer full): the filter, or %NULL with an error that starts
 *   with @path.
 */
PpPciFilter *pp_pciconf_load(const char *path, GError **error);

G_END_DECLS
