#define G_LOG_DOMAIN "pp-pci-filter"

#include "config.h"

#include <string.h>

#include "pp-pci-filter.h"

/* clang-format off */
G_DEFINE_QUARK(pp-pci-filter-error-quark, pp_pci_filter_error)
/* clang-format on */

struct _PpPciFilter {
  GArray *patterns;   /* PpPciIdPattern */
  GArray *addresses;  /* PpPciAddress */
  GPtrArray *regexes; /* GRegex */
};

/* One field of an id pattern: empty or `*` for any, else 1-4 hex digits. */
static gboolean
parse_id_field(const char *field, gint32 *ret)
{
  guint32 value = 0;
  gsize n = strlen(field);

  if (n == 0 || strcmp(field, "*") == 0) {
    *ret = -1;
    return TRUE;
  }
  if (n > 4)
    return FALSE;
  for (const char *p = field; *p != '\0'; p++) {
    if (!g_ascii_isxdigit(*p))
      return FALSE;
    value = value * 16 + g_ascii_xdigit_value(*p);
  }
  *ret = value;
  return TRUE;
}

gboolean
pp_pci_id_pattern_parse(const char *str, PpPciIdPattern *ret, GError **error)
{
  static const char *const field_names[] = { "vendor", "device", "class" };
  g_autofree char *copy = NULL;
  g_auto(GStrv) fields = NULL;
  guint n;
  gint32 values[3] = { -1, -1, -1 };

  g_return_val_if_fail(str != NULL && ret != NULL, FALSE);

  copy = g_strstrip(g_strdup(str));
  fields = g_strsplit(copy, ":", -1);
  n = g_strv_length(fields);
  if (n < 2 || n > 3) {
    g_set_error(error, PP_PCI_FILTER_ERROR, PP_PCI_FILTER_ERROR_INVALID,
                "'%s' is not a vendor:device[:class] pattern: %s", str,
                n < 2 ? "it needs at least one ':' (write '1af4:*' for every device of vendor 1af4)"
                      : "it has more than two ':'");
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (!parse_id_field(fields[i], &values[i])) {
      g_set_error(error, PP_PCI_FILTER_ERROR, PP_PCI_FILTER_ERROR_INVALID,
                  "'%s' is not a vendor:device[:class] pattern: the %s '%s' should be up to 4 "
                  "hex digits, '*' or empty",
                  str, field_names[i], fields[i]);
      return FALSE;
    }
  }
  ret->vendor = values[0];
  ret->device = values[1];
  ret->class_ = values[2];
  return TRUE;
}

gboolean
pp_pci_id_pattern_match(const PpPciIdPattern *pattern, guint16 vendor, guint16 device,
                        guint16 class_)
{
  return (pattern->vendor < 0 || pattern->vendor == vendor) &&
         (pattern->device < 0 || pattern->device == device) &&
         (pattern->class_ < 0 || pattern->class_ == class_);
}

PpPciFilter *
pp_pci_filter_new(void)
{
  PpPciFilter *filter = g_new0(PpPciFilter, 1);

  filter->patterns = g_array_new(FALSE, FALSE, sizeof(PpPciIdPattern));
  filter->addresses = g_array_new(FALSE, FALSE, sizeof(PpPciAddress));
  filter->regexes = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
  return filter;
}

void
pp_pci_filter_free(PpPciFilter *filter)
{
  if (filter == NULL)
    return;
  g_array_unref(filter->patterns);
  g_array_unref(filter->addresses);
  g_ptr_array_unref(filter->regexes);
  g_free(filter);
}

void
pp_pci_filter_add_id_pattern(PpPciFilter *filter, const PpPciIdPattern *pattern)
{
  g_return_if_fail(filter != NULL && pattern != NULL);
  g_array_append_val(filter->patterns, *pattern);
}

void
pp_pci_filter_add_address(PpPciFilter *filter, const PpPciAddress *address)
{
  g_return_if_fail(filter != NULL && address != NULL);
  g_array_append_val(filter->addresses, *address);
}

gboolean
pp_pci_filter_add_name_regex(PpPciFilter *filter, const char *regex, GError **error)
{
  GRegex *re;

  g_return_val_if_fail(filter != NULL && regex != NULL, FALSE);

  re = g_regex_new(regex, G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, error);
  if (re == NULL)
    return FALSE;
  g_ptr_array_add(filter->regexes, re);
  return TRUE;
}

guint
pp_pci_filter_get_n_id_patterns(const PpPciFilter *filter)
{
  g_return_val_if_fail(filter != NULL, 0);
  return filter->patterns->len;
}

gboolean
pp_pci_filter_match(const PpPciFilter *filter, const PpPciDevice *dev)
{
  gboolean ok = FALSE;

  g_return_val_if_fail(filter != NULL && dev != NULL, FALSE);

  for (guint i = 0; i < filter->patterns->len && !ok; i++)
    ok = pp_pci_id_pattern_match(&g_array_index(filter->patterns, PpPciIdPattern, i), dev->vendor,
                                 dev->device, pp_pci_device_get_class(dev));
  if (!ok)
    return FALSE;

  if (filter->addresses->len > 0) {
    ok = FALSE;
    for (guint i = 0; i < filter->addresses->len && !ok; i++)
      ok = pp_pci_address_equal(&g_array_index(filter->addresses, PpPciAddress, i), &dev->address);
    if (!ok)
      return FALSE;
  }

  if (filter->regexes->len > 0) {
    const char *name = dev->device_name != NULL ? dev->device_name : "";

    ok = FALSE;
    for (guint i = 0; i < filter->regexes->len && !ok; i++)
      ok = g_regex_match(g_ptr_array_index(filter->regexes, i), name, 0, NULL);
  }
  return ok;
}
