#define G_LOG_DOMAIN "pp-probe-report"

#include "config.h"

#include <string.h>

#include "pp-network.h"
#include "pp-pci-device.h"
#include "pp-probe-report.h"
#include "pp-template.h"

/* clang-format off */
G_DEFINE_QUARK(pp-probe-report-error-quark, pp_probe_report_error)
/* clang-format on */

/* pci.ids names run to about 100 bytes; a name ten times that is not one. */
#define NAME_MAX_LEN 1024

void
pp_probe_device_clear(PpProbeDevice *dev)
{
  g_clear_pointer(&dev->vendor_name, g_free);
  g_clear_pointer(&dev->device_name, g_free);
  g_clear_pointer(&dev->class_name, g_free);
  g_clear_pointer(&dev->driver, g_free);
  g_clear_pointer(&dev->sriov, g_free);
  g_clear_pointer(&dev->physfn, g_free);
  g_clear_pointer(&dev->host_needs, g_free);
  g_clear_pointer(&dev->group_endpoints, g_free);
  dev->n_group_endpoints = 0;
  g_clear_pointer(&dev->keys, g_strfreev);
  g_clear_pointer(&dev->values, g_strfreev);
  g_clear_pointer(&dev->perm_mac, g_free);
  dev->has_pf = FALSE;
  dev->has_vf_index = FALSE;
}

void
pp_probe_device_free(PpProbeDevice *dev)
{
  if (dev == NULL)
    return;
  pp_probe_device_clear(dev);
  g_free(dev);
}

void
pp_probe_report_free(PpProbeReport *report)
{
  if (report == NULL)
    return;
  g_free(report->hostname);
  g_free(report->kernel_version);
  if (report->devices != NULL)
    g_ptr_array_unref(report->devices);
  g_free(report);
}

static gboolean
parse_hex4(const char *text, guint16 *ret)
{
  guint64 v;

  if (text == NULL || strlen(text) != 4 || strspn(text, "0123456789abcdefABCDEF") != 4)
    return FALSE;
  v = g_ascii_strtoull(text, NULL, 16);
  *ret = (guint16)v;
  return TRUE;
}

/* IOMMU_GROUP_ENDPOINTS (the probe's "0000:00:1f.0,0000:00:1f.3") into
 * @dev's addresses; returns the problem, or NULL. */
static char *
read_group_endpoints(const char *list, PpProbeDevice *dev)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GHashTable) seen = NULL;
  g_autofree PpPciAddress *addrs = NULL;
  guint n;

  /* Bounded before it is split: an address is at most 13 characters and a
   * comma. */
  if (list[0] == '\0' ||
      strlen(list) > (gsize)PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS * (PP_PCI_ADDRESS_BUFSIZE + 1))
    return g_strdup_printf("IOMMU_GROUP_ENDPOINTS must list 1 to %d PCI addresses",
                           PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS);
  parts = g_strsplit(list, ",", PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS + 1);
  n = g_strv_length(parts);
  if (n > PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS)
    return g_strdup_printf("IOMMU_GROUP_ENDPOINTS lists more than %d addresses",
                           PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS);
  addrs = g_new(PpPciAddress, MAX(n, 1));
  seen = g_hash_table_new(pp_pci_address_hash, pp_pci_address_hash_equal);
  for (guint i = 0; i < n; i++) {
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    if (!pp_pci_address_parse(parts[i], &addrs[i], NULL))
      return g_strdup_printf("IOMMU_GROUP_ENDPOINTS: item %u '%s' is not a PCI address "
                             "(0000:3b:00.0)",
                             i + 1, parts[i]);
    if (!g_hash_table_add(seen, &addrs[i]))
      return g_strdup_printf("IOMMU_GROUP_ENDPOINTS: item %u repeats %s", i + 1,
                             pp_pci_address_format(&addrs[i], buf));
  }
  dev->group_endpoints = g_steal_pointer(&addrs);
  dev->n_group_endpoints = n;
  return NULL;
}

/* Parses a record's fields into @dev; returns the problem, or NULL.
 * *@ret_addressed: whether its address was read (before the problem). */
static char *
read_record(const PpAttribute *vec, PpProbeDevice *dev, gboolean *ret_addressed)
{
  const char *address = pp_attribute_vector_get(vec, "ADDRESS");
  const char *short_address = pp_attribute_vector_get(vec, "SHORT_ADDRESS");
  const char *numa = pp_attribute_vector_get(vec, "NUMA_NODE");
  const char *group = pp_attribute_vector_get(vec, "IOMMU_GROUP");
  const char *driver = pp_attribute_vector_get(vec, "DRIVER");
  const char *sriov = pp_attribute_vector_get(vec, "SRIOV");
  const char *physfn = pp_attribute_vector_get(vec, "PHYSFN");
  const char *host_needs = pp_attribute_vector_get(vec, "HOST_NEEDS");
  const char *endpoints = pp_attribute_vector_get(vec, "IOMMU_GROUP_ENDPOINTS");
  const char *vf_index = pp_attribute_vector_get(vec, "VF_INDEX");
  const char *perm_mac = pp_attribute_vector_get(vec, "PERM_MAC");
  static const char *const names[] = { "VENDOR_NAME", "DEVICE_NAME", "CLASS_NAME" };
  char **name_slots[] = { &dev->vendor_name, &dev->device_name, &dev->class_name };
  static const char *const ids[] = { "VENDOR", "DEVICE", "CLASS" };
  guint16 *id_slots[] = { &dev->vendor, &dev->device, &dev->class_code };
  char buf[PP_PCI_ADDRESS_BUFSIZE];
  guint n = pp_attribute_vector_get_n_pairs(vec);
  guint64 v;

  /* ADDRESS is OpenNebula's 0000:3b:00:1 (lspci's 0000:3b:00.1 is taken
   * too); SHORT_ADDRESS is lspci's 3b:00.1. When both are there they must
   * name one device. */
  if (address != NULL) {
    g_autofree char *dotted = g_strdup(address);
    char *last = strrchr(dotted, ':');

    if (last != NULL && strchr(dotted, ':') != last && strchr(dotted, '.') == NULL)
      *last = '.';
    if (!pp_pci_address_parse(dotted, &dev->address, NULL))
      return g_strdup_printf("ADDRESS '%s' is not a PCI address (0000:3b:00:1)", address);
  }
  if (short_address != NULL) {
    PpPciAddress parsed;

    if (!pp_pci_address_parse(short_address, &parsed, NULL))
      return g_strdup_printf("SHORT_ADDRESS '%s' is not a PCI address (3b:00.1)", short_address);
    if (address == NULL)
      dev->address = parsed;
    else if (!pp_pci_address_equal(&parsed, &dev->address))
      return g_strdup_printf("SHORT_ADDRESS '%s' and ADDRESS '%s' are not the same device",
                             short_address, address);
  }
  if (address == NULL && short_address == NULL)
    return g_strdup("has neither ADDRESS nor SHORT_ADDRESS");
  *ret_addressed = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    const char *value = pp_attribute_vector_get(vec, ids[i]);

    if (value == NULL)
      return g_strdup_printf("has no %s", ids[i]);
    if (!parse_hex4(value, id_slots[i]))
      return g_strdup_printf("%s '%s' is not 4 hex digits", ids[i], value);
  }
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    const char *value = pp_attribute_vector_get(vec, names[i]);

    if (value != NULL && strlen(value) > NAME_MAX_LEN)
      return g_strdup_printf("%s is longer than %d bytes", names[i], NAME_MAX_LEN);
    *name_slots[i] = g_strdup(value ? value : "");
  }

  /* The probe writes '-' for no node; sysfs's own -1 means the same. */
  dev->numa_node = -1;
  if (numa != NULL && strcmp(numa, "-") != 0 && strcmp(numa, "-1") != 0) {
    if (!g_ascii_string_to_unsigned(numa, 10, 0, PP_PCI_NUMA_NODE_MAX, &v, NULL))
      return g_strdup_printf("NUMA_NODE '%s' is neither '-' nor a node number from 0 to %d", numa,
                             PP_PCI_NUMA_NODE_MAX);
    dev->numa_node = (gint)v;
  }
  dev->iommu_group = -1;
  if (group != NULL) {
    if (!g_ascii_string_to_unsigned(group, 10, 0, PP_PCI_IOMMU_GROUP_MAX, &v, NULL))
      return g_strdup_printf("IOMMU_GROUP '%s' is not a group number from 0 to %d", group,
                             PP_PCI_IOMMU_GROUP_MAX);
    dev->iommu_group = (gint)v;
  }
  if (driver != NULL) {
    if (!pp_pci_driver_name_is_valid(driver))
      return g_strdup_printf("DRIVER '%s' is not a driver name", driver);
    dev->driver = g_strdup(driver);
  }
  if (sriov != NULL && strcmp(sriov, "pf") != 0 && strcmp(sriov, "vf") != 0 &&
      strcmp(sriov, "no") != 0)
    return g_strdup_printf("SRIOV '%s' is not pf, vf or no", sriov);
  dev->sriov = g_strdup(sriov ? sriov : "no");
  if (physfn != NULL) {
    if (!pp_pci_address_parse(physfn, &dev->pf, NULL))
      return g_strdup_printf("PHYSFN '%s' is not a PCI address", physfn);
    dev->has_pf = TRUE;
    dev->physfn = g_strdup(pp_pci_address_format(&dev->pf, buf));
  }
  if (vf_index != NULL) {
    if (strcmp(dev->sriov, "vf") != 0)
      return g_strdup_printf("has VF_INDEX '%.32s' but SRIOV '%s', not vf", vf_index, dev->sriov);
    if (!g_ascii_string_to_unsigned(vf_index, 10, 0, PP_PCI_SRIOV_VFS_MAX - 1, &v, NULL))
      return g_strdup_printf("VF_INDEX '%.32s' is not a VF number from 0 to %d", vf_index,
                             PP_PCI_SRIOV_VFS_MAX - 1);
    dev->has_vf_index = TRUE;
    dev->vf_index = (guint)v;
  }
  if (perm_mac != NULL) {
    char mac_buf[PP_MAC_BUFSIZE];
    PpMac mac;

    if (!pp_mac_parse(perm_mac, &mac, NULL) || !pp_mac_is_unicast(&mac))
      return g_strdup_printf("PERM_MAC '%.32s' is not a unicast MAC address (02:00:0a:00:00:01)",
                             perm_mac);
    dev->perm_mac = g_strdup(pp_mac_format(&mac, mac_buf));
  }
  /* Shown to administrators and quoted in explanations: one line. */
  if (host_needs != NULL) {
    if (host_needs[0] == '\0' || strlen(host_needs) > PP_PCI_HOST_NEEDS_MAX)
      return g_strdup_printf("HOST_NEEDS must have 1 to %d bytes", PP_PCI_HOST_NEEDS_MAX);
    for (const char *p = host_needs; *p != '\0'; p++)
      if ((guchar)*p < 0x20 || *p == 0x7f)
        return g_strdup("HOST_NEEDS has a control character");
    dev->host_needs = g_strdup(host_needs);
  }
  if (endpoints != NULL) {
    char *problem = read_group_endpoints(endpoints, dev);

    if (problem != NULL)
      return problem;
  }

  dev->keys = g_new0(char *, n + 1);
  dev->values = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    const char *key, *value;

    pp_attribute_vector_get_pair(vec, i, &key, &value);
    dev->keys[i] = g_strdup(key);
    dev->values[i] = g_strdup(value);
  }
  return NULL;
}

/* A fact: a decimal count within 0..@max, or -1 when absent. @what says
 * what it counts, for the error ("a number of CPUs"). */
static gboolean
read_count(const PpTemplate *tmpl, const char *name, gint64 max, const char *what, gint64 *ret,
           GError **error)
{
  const PpAttribute *attr = pp_template_find(tmpl, name);
  const char *value = attr ? pp_attribute_get_value(attr) : NULL;
  guint64 v;

  *ret = -1;
  if (attr == NULL)
    return TRUE;
  if (value == NULL || !g_ascii_string_to_unsigned(value, 10, 0, (guint64)max, &v, NULL)) {
    g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID,
                "line %u: %s '%s' is not %s from 0 to %" G_GINT64_FORMAT,
                pp_attribute_get_pos(attr).line, name, value ? value : "[...]", what, max);
    return FALSE;
  }
  *ret = (gint64)v;
  return TRUE;
}

static gboolean
read_text(const PpTemplate *tmpl, const char *name, char **ret, GError **error)
{
  const PpAttribute *attr = pp_template_find(tmpl, name);

  *ret = NULL;
  if (attr == NULL)
    return TRUE;
  if (pp_attribute_get_value(attr) == NULL ||
      strlen(pp_attribute_get_value(attr)) > PP_PROBE_REPORT_FACT_TEXT_MAX) {
    g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID,
                "line %u: %s is not a single value of at most %d bytes",
                pp_attribute_get_pos(attr).line, name, PP_PROBE_REPORT_FACT_TEXT_MAX);
    return FALSE;
  }
  *ret = g_strdup(pp_attribute_get_value(attr));
  return TRUE;
}

PpProbeReport *
pp_probe_report_parse(const char *text, gsize len, GError **error)
{
  g_autoptr(PpTemplate) tmpl = NULL;
  g_autoptr(PpProbeReport) report = g_new0(PpProbeReport, 1);
  g_autoptr(GHashTable) seen = g_hash_table_new(pp_pci_address_hash, pp_pci_address_hash_equal);
  guint records = 0;

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  if (len > PP_PROBE_REPORT_MAX_SIZE) {
    g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_TOO_BIG,
                "the report is %" G_GSIZE_FORMAT " bytes, more than the limit of %d (%d MiB)", len,
                PP_PROBE_REPORT_MAX_SIZE, PP_PROBE_REPORT_MAX_SIZE >> 20);
    return NULL;
  }
  tmpl = pp_template_parse(text ? text : "", len, NULL, error);
  if (tmpl == NULL)
    return NULL;
  report->devices = g_ptr_array_new_with_free_func((GDestroyNotify)pp_probe_device_free);
  if (!read_text(tmpl, "HOSTNAME", &report->hostname, error) ||
      !read_text(tmpl, "KERNEL_VERSION", &report->kernel_version, error) ||
      !read_count(tmpl, "CPU_COUNT", PP_PROBE_REPORT_CPU_COUNT_MAX, "a number of CPUs",
                  &report->cpu_count, error) ||
      !read_count(tmpl, "MEMORY_KIB", PP_PROBE_REPORT_MEMORY_KIB_MAX, "a size in KiB",
                  &report->memory_kib, error))
    return NULL;

  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);
    g_autoptr(PpProbeDevice) dev = NULL;
    g_autofree char *problem = NULL;
    gboolean addressed = FALSE;

    if (strcmp(pp_attribute_get_name(attr), "PCI") != 0)
      continue;
    records++;
    if (!pp_attribute_is_vector(attr)) {
      g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID,
                  "line %u: PCI record %u is not a vector (PCI = [ ... ])",
                  pp_attribute_get_pos(attr).line, records);
      return NULL;
    }
    if (report->devices->len >= PP_PROBE_REPORT_MAX_DEVICES) {
      g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_TOO_BIG,
                  "line %u: more than %d PCI records", pp_attribute_get_pos(attr).line,
                  PP_PROBE_REPORT_MAX_DEVICES);
      return NULL;
    }
    dev = g_new0(PpProbeDevice, 1);
    problem = read_record(attr, dev, &addressed);
    if (problem == NULL && g_hash_table_contains(seen, &dev->address))
      problem = g_strdup("repeats an address that an earlier record has");
    if (problem != NULL) {
      char buf[PP_PCI_ADDRESS_BUFSIZE];

      g_set_error(error, PP_PROBE_REPORT_ERROR, PP_PROBE_REPORT_ERROR_INVALID,
                  "line %u: PCI record %u%s%s%s: %s", pp_attribute_get_pos(attr).line, records,
                  addressed ? " (" : "", addressed ? pp_pci_address_format(&dev->address, buf) : "",
                  addressed ? ")" : "", problem);
      return NULL;
    }
    g_hash_table_add(seen, &dev->address);
    g_ptr_array_add(report->devices, g_steal_pointer(&dev));
  }
  return g_steal_pointer(&report);
}

gboolean
pp_probe_report_error_is_input(const GError *error)
{
  return error != NULL &&
         (error->domain == PP_PROBE_REPORT_ERROR || error->domain == PP_TEMPLATE_ERROR);
}

gboolean
pp_probe_device_is_vf(const PpProbeDevice *dev)
{
  return dev->physfn != NULL || g_strcmp0(dev->sriov, "vf") == 0;
}
