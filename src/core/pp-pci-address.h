/* pp-pci-address: PCI addresses (domain:bus:slot.function) in the forms
 * sysfs, lspci and OpenNebula write them. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_PCI_ADDRESS_ERROR (pp_pci_address_error_quark())
GQuark pp_pci_address_error_quark(void);

typedef enum {
  PP_PCI_ADDRESS_ERROR_INVALID,
} PpPciAddressError;

typedef struct {
  guint32 domain; /* 16 bits on most hosts; VMD domains start at 0x10000 */
  guint8 bus;
  guint8 slot;     /* 0..0x1f */
  guint8 function; /* 0..7 */
} PpPciAddress;

/* Longest text any pp_pci_address_format_*() writes, with its NUL. */
#define PP_PCI_ADDRESS_BUFSIZE 20

/**
 * pp_pci_address_parse:
 * @str: `[domain:]bus:slot.function` in hex, as lspci writes it
 *   (`0000:3b:00.1`, `3b:00.1`, `10000:00:04.0`); any case; without the
 *   domain, domain 0.
 *
 * Returns: %TRUE and writes @ret on success; %FALSE with a message that
 *   quotes @str and says what is wrong.
 */
gboolean pp_pci_address_parse(const char *str, PpPciAddress *ret, GError **error);

/* `0000:3b:00.1`: the sysfs name, domain on at least 4 digits. Returns @buf. */
char *pp_pci_address_format(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE]);

/* `3b:00.1`, with the domain in front when it is not 0 (`10000:00:04.0`),
 * as lspci writes it without -D. Returns @buf. */
char *pp_pci_address_format_short(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE]);

/* `0000:3b:00:1`: OpenNebula's ADDRESS attribute. Returns @buf. */
char *pp_pci_address_format_one(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE]);

gboolean pp_pci_address_equal(const PpPciAddress *a, const PpPciAddress *b);
int pp_pci_address_compare(const PpPciAddress *a, const PpPciAddress *b);

/* For a GHashTable keyed by (const PpPciAddress *). */
guint pp_pci_address_hash(gconstpointer addr);
gboolean pp_pci_address_hash_equal(gconstpointer a, gconstpointer b);

G_END_DECLS
