/* pp-pci-filter: which devices a host offers, as pci.conf says it.
 *
 * Three lists, combined with AND:
 *   id patterns   lspci -d `vendor:device[:class]`; a device passes if any
 *                 pattern matches; no pattern at all: nothing passes;
 *   addresses     when not empty, the device must be one of them;
 *   name regexes  when not empty, the device name must match one of them
 *                 (case-insensitive).
 * The parsing of pci.conf itself (YAML) lives in src/host/pp-pciconf.
 */
#pragma once

#include <glib.h>

#include "pp-pci-address.h"
#include "pp-pci-device.h"

G_BEGIN_DECLS

#define PP_PCI_FILTER_ERROR (pp_pci_filter_error_quark())
GQuark pp_pci_filter_error_quark(void);

typedef enum {
  PP_PCI_FILTER_ERROR_INVALID,
} PpPciFilterError;

/* One lspci -d pattern; -1 in a field means any value. */
typedef struct {
  gint32 vendor;
  gint32 device;
  gint32 class_; /* 16 bits: class and subclass, as lspci's -d */
} PpPciIdPattern;

/**
 * pp_pci_id_pattern_parse:
 * @str: `[vendor]:[device][:class]`, each up to 4 hex digits, `*` or empty
 *   for any (`10de:*`, `*:10d3`, `8086::0c03`, `0:0`); blanks around it
 *   are ignored.
 *
 * Returns: %TRUE and writes @ret; %FALSE with a message that quotes @str.
 */
gboolean pp_pci_id_pattern_parse(const char *str, PpPciIdPattern *ret, GError **error);
gboolean pp_pci_id_pattern_match(const PpPciIdPattern *pattern, guint16 vendor, guint16 device,
                                 guint16 class_);

typedef struct _PpPciFilter PpPciFilter;

/* A filter with no pattern: it lets nothing through. */
PpPciFilter *pp_pci_filter_new(void);
void pp_pci_filter_free(PpPciFilter *filter);

void pp_pci_filter_add_id_pattern(PpPciFilter *filter, const PpPciIdPattern *pattern);
void pp_pci_filter_add_address(PpPciFilter *filter, const PpPciAddress *address);
/* Compiles @regex case-insensitively; %FALSE with GRegex's reason on error. */
gboolean pp_pci_filter_add_name_regex(PpPciFilter *filter, const char *regex, GError **error);

guint pp_pci_filter_get_n_id_patterns(const PpPciFilter *filter);

/* Whether @dev passes all three lists. */
gboolean pp_pci_filter_match(const PpPciFilter *filter, const PpPciDevice *dev);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPciFilter, pp_pci_filter_free)

G_END_DECLS
