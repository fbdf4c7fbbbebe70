#define G_LOG_DOMAIN "pp-pci-address"

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-pci-address.h"

/* clang-format off */
G_DEFINE_QUARK(pp-pci-address-error-quark, pp_pci_address_error)
/* clang-format on */

/* Reads 1 to @max_digits hex digits at *@p; advances *@p past them. */
static gboolean
read_hex(const char **p, guint max_digits, guint32 *ret)
{
  guint32 value = 0;
  guint n = 0;

  while (g_ascii_isxdigit(**p) && n < max_digits) {
    value = value * 16 + g_ascii_xdigit_value(**p);
    (*p)++;
    n++;
  }
  if (n == 0 || g_ascii_isxdigit(**p))
    return FALSE;
  *ret = value;
  return TRUE;
}

gboolean
pp_pci_address_parse(const char *str, PpPciAddress *ret, GError **error)
{
  const char *p = str;
  guint32 first, bus, slot, function, domain = 0;

  g_return_val_if_fail(str != NULL && ret != NULL, FALSE);

  /* Either domain:bus:slot.function or bus:slot.function. */
  if (!read_hex(&p, 8, &first) || *p != ':')
    goto invalid;
  p++;
  if (!read_hex(&p, 2, &bus))
    goto invalid;
  if (*p == ':') {
    p++;
    domain = first;
    if (!read_hex(&p, 2, &slot))
      goto invalid;
  } else {
    if (first > 0xff)
      goto invalid;
    slot = bus;
    bus = first;
  }
  if (*p != '.')
    goto invalid;
  p++;
  if (!read_hex(&p, 1, &function) || *p != '\0')
    goto invalid;
  if (slot > 0x1f || function > 7) {
    g_set_error(error, PP_PCI_ADDRESS_ERROR, PP_PCI_ADDRESS_ERROR_INVALID,
                "'%s' is not a PCI address: the slot goes up to 1f and the function up to 7", str);
    return FALSE;
  }
  ret->domain = domain;
  ret->bus = bus;
  ret->slot = slot;
  ret->function = function;
  return TRUE;

invalid:
  g_set_error(error, PP_PCI_ADDRESS_ERROR, PP_PCI_ADDRESS_ERROR_INVALID,
              "'%s' is not a PCI address: expected [domain:]bus:slot.function in hex, "
              "such as 0000:3b:00.1 or 3b:00.1",
              str);
  return FALSE;
}

char *
pp_pci_address_format(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE])
{
  snprintf(buf, PP_PCI_ADDRESS_BUFSIZE, "%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot,
           addr->function);
  return buf;
}

char *
pp_pci_address_format_short(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE])
{
  if (addr->domain != 0)
    return pp_pci_address_format(addr, buf);
  snprintf(buf, PP_PCI_ADDRESS_BUFSIZE, "%02x:%02x.%x", addr->bus, addr->slot, addr->function);
  return buf;
}

char *
pp_pci_address_format_one(const PpPciAddress *addr, char buf[PP_PCI_ADDRESS_BUFSIZE])
{
  snprintf(buf, PP_PCI_ADDRESS_BUFSIZE, "%04x:%02x:%02x:%x", addr->domain, addr->bus, addr->slot,
           addr->function);
  return buf;
}

gboolean
pp_pci_address_equal(const PpPciAddress *a, const PpPciAddress *b)
{
  return pp_pci_address_compare(a, b) == 0;
}

int
pp_pci_address_compare(const PpPciAddress *a, const PpPciAddress *b)
{
  if (a->domain != b->domain)
    return a->domain < b->domain ? -1 : 1;
  if (a->bus != b->bus)
    return a->bus < b->bus ? -1 : 1;
  if (a->slot != b->slot)
    return a->slot < b->slot ? -1 : 1;
  if (a->function != b->function)
    return a->function < b->function ? -1 : 1;
  return 0;
}

guint
pp_pci_address_hash(gconstpointer addr)
{
  const PpPciAddress *a = addr;

  return a->domain * 0x9e3779b1u ^ ((guint)a->bus << 8 | (guint)a->slot << 3 | a->function);
}

gboolean
pp_pci_address_hash_equal(gconstpointer a, gconstpointer b)
{
  return pp_pci_address_compare(a, b) == 0;
}
