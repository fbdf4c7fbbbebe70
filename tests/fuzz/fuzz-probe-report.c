/* libFuzzer target: the probe report parser (pcipassd's monitor reads every
 * host's probe output with it). Any input gives a report or an error that
 * says where; a report holds only what its bounds allow: facts within
 * theirs, at most PP_PROBE_REPORT_MAX_DEVICES devices, each with one
 * address that no other has and fields within their bounds. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-pci-device.h"
#include "pp-probe-report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-probe-report: " __VA_ARGS__);                                          \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static gboolean
is_driver_name(const char *s)
{
  gsize n = strlen(s);

  return n >= 1 && n <= 64 &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void
check_device(const PpProbeDevice *dev, GHashTable *seen)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE], buf[PP_PCI_ADDRESS_BUFSIZE];
  PpPciAddress again;

  pp_pci_address_format(&dev->address, bdf);
  CHECK(pp_pci_address_parse(bdf, &again, NULL) && pp_pci_address_equal(&again, &dev->address),
        "bdf '%s' does not parse back", bdf);
  CHECK(pp_pci_address_parse(pp_pci_address_format_short(&dev->address, buf), &again, NULL) &&
            pp_pci_address_equal(&again, &dev->address),
        "short address '%s' does not parse back", buf);
  CHECK(g_hash_table_add(seen, g_strdup(bdf)), "two devices at %s", bdf);
  CHECK((dev->group_endpoints == NULL) == (dev->n_group_endpoints == 0) &&
            dev->n_group_endpoints <= PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS,
        "%s: %u group endpoints", bdf, dev->n_group_endpoints);
  CHECK(dev->numa_node >= -1 && dev->numa_node <= PP_PCI_NUMA_NODE_MAX, "%s: NUMA node %d", bdf,
        dev->numa_node);
  CHECK(dev->iommu_group >= -1 && dev->iommu_group <= PP_PCI_IOMMU_GROUP_MAX, "%s: IOMMU group %d",
        bdf, dev->iommu_group);
  CHECK(dev->vendor_name != NULL && strlen(dev->vendor_name) <= 1024, "%s: vendor name", bdf);
  CHECK(dev->device_name != NULL && strlen(dev->device_name) <= 1024, "%s: device name", bdf);
  CHECK(dev->class_name != NULL && strlen(dev->class_name) <= 1024, "%s: class name", bdf);
  CHECK(dev->driver == NULL || is_driver_name(dev->driver), "%s: driver", bdf);
  CHECK(dev->sriov != NULL && (strcmp(dev->sriov, "pf") == 0 || strcmp(dev->sriov, "vf") == 0 ||
                               strcmp(dev->sriov, "no") == 0),
        "%s: sriov", bdf);
  CHECK(dev->physfn == NULL || pp_pci_address_parse(dev->physfn, &again, NULL), "%s: physfn", bdf);
  if (dev->host_needs != NULL) {
    CHECK(dev->host_needs[0] != '\0' && strlen(dev->host_needs) <= 1024, "%s: HOST_NEEDS", bdf);
    for (const char *p = dev->host_needs; *p != '\0'; p++)
      CHECK((guchar)*p >= 0x20 && *p != 0x7f, "%s: HOST_NEEDS has a control character", bdf);
  }
  CHECK(dev->keys != NULL && dev->values != NULL &&
            g_strv_length(dev->keys) == g_strv_length(dev->values),
        "%s: keys and values", bdf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpProbeReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) seen = NULL;

  report = pp_probe_report_parse((const char *)data, size, &error);
  if (report == NULL) {
    /* A failure says where: a line, or the size. */
    CHECK(error != NULL, "no report and no error");
    CHECK(g_str_has_prefix(error->message, "line ") ||
              g_str_has_prefix(error->message, "the report is "),
          "the error '%s' does not say where", error->message);
    return 0;
  }
  CHECK(error == NULL, "a report and an error");
  CHECK(report->cpu_count >= -1 && report->cpu_count <= PP_PROBE_REPORT_CPU_COUNT_MAX,
        "CPU_COUNT %" G_GINT64_FORMAT, report->cpu_count);
  CHECK(report->memory_kib >= -1 && report->memory_kib <= PP_PROBE_REPORT_MEMORY_KIB_MAX,
        "MEMORY_KIB %" G_GINT64_FORMAT, report->memory_kib);
  CHECK(report->hostname == NULL || strlen(report->hostname) <= 1024, "HOSTNAME");
  CHECK(report->kernel_version == NULL || strlen(report->kernel_version) <= 1024, "KERNEL_VERSION");
  CHECK(report->devices->len <= PP_PROBE_REPORT_MAX_DEVICES, "%u devices", report->devices->len);
  seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < report->devices->len; i++)
    check_device(g_ptr_array_index(report->devices, i), seen);
  return 0;
}
