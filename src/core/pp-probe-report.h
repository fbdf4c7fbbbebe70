/* pp-probe-report: what pcipass-probe printed about a host, read back by
 * pcipassd's monitor: the host facts (HOSTNAME, CPU_COUNT, MEMORY_KIB,
 * KERNEL_VERSION) and one PCI = [ ... ] record per device, checked field by
 * field. The text comes from another machine: every field is validated and
 * bounded, and an error names the record and the line. Pure: no I/O.
 */
#pragma once

#include <glib.h>

#include "pp-pci-address.h"
#include "pp-template.h"

G_BEGIN_DECLS

#define PP_PROBE_REPORT_ERROR (pp_probe_report_error_quark())
GQuark pp_probe_report_error_quark(void);

typedef enum {
  PP_PROBE_REPORT_ERROR_INVALID, /* not a template, or a field that is wrong */
  PP_PROBE_REPORT_ERROR_TOO_BIG, /* over PP_PROBE_REPORT_MAX_SIZE or _MAX_DEVICES */
} PpProbeReportError;

/* The largest report, in bytes: the one limit of a probe's output. pcipassd
 * stops a probe that prints more (pp-monitor's max_output), and the parser
 * refuses more; pcipassd(8) says it. It is the template parser's own limit
 * (4 MiB): a real record is about 500 bytes (the probe on the hwloc and ghw
 * captures: 430 to 530), so a host at PP_PROBE_REPORT_MAX_DEVICES prints
 * about 2 MiB; and it bounds what one report costs the daemon to parse. */
#define PP_PROBE_REPORT_MAX_SIZE PP_TEMPLATE_MAX_SIZE

/* The most devices one report may hold: a large host has a few hundred
 * functions with its VFs; 4096 leaves room and bounds what a host can make
 * the store hold. */
#define PP_PROBE_REPORT_MAX_DEVICES 4096

/* The most addresses one IOMMU_GROUP_ENDPOINTS may list: a group is the
 * functions behind one bridge without ACS; a whole report's worth is not
 * a group. */
#define PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS 256

/* The facts are bounded where they are read: a host that says more is
 * refused, so that what is computed from them (the scheduler's hundredths
 * of CPUs and KiB, in 64 bits) cannot overflow.
 * CPU_COUNT: twice Linux's largest NR_CPUS (8192, x86-64 with MAXSMP). */
#define PP_PROBE_REPORT_CPU_COUNT_MAX 16384
/* HOSTNAME and KERNEL_VERSION: Linux's are at most 64 bytes (__NEW_UTS_LEN). */
#define PP_PROBE_REPORT_FACT_TEXT_MAX 1024
/* MEMORY_KIB: 4 PiB, all that 52-bit physical addresses reach (x86-64 with
 * 5-level paging, arm64 with LPA). */
#define PP_PROBE_REPORT_MEMORY_KIB_MAX (G_GINT64_CONSTANT(1) << 42)

typedef struct {
  /* The one address: shown as 0000:3b:00.1 (pp_pci_address_format()) and
   * 3b:00.1 (pp_pci_address_format_short()), never kept as text. */
  PpPciAddress address;
  guint16 vendor;
  guint16 device;
  guint16 class_code; /* 0x0106: class and subclass, as TYPE and CLASS */
  char *vendor_name;  /* "" when the record has none */
  char *device_name;
  char *class_name;
  gint numa_node;   /* -1: unknown */
  gint iommu_group; /* -1: none */
  char *driver;     /* NULL: none */
  char *sriov;      /* "pf", "vf" or "no" */
  char *physfn;     /* a VF's PF (0000:3b:00.0), or NULL */
  char *host_needs; /* HOST_NEEDS: why the host itself needs it, or NULL */
  /* IOMMU_GROUP_ENDPOINTS: the endpoint addresses of its IOMMU group, in
   * the record's order, none twice; NULL (and 0) when the record has none
   * (the group is not known), else 1 to PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS. */
  PpPciAddress *group_endpoints;
  guint n_group_endpoints;
  /* The whole record in its order, known keys and others alike. */
  GStrv keys;
  GStrv values;
  /* Issue 12. has_pf: PHYSFN was there, and pf is it (physfn's text, typed). */
  gboolean has_pf;
  PpPciAddress pf;
  /* VF_INDEX (on VFs only): N of the PF's virtfnN link to it, 0 to
   * PP_PCI_SRIOV_VFS_MAX - 1; has_vf_index FALSE when not reported. */
  gboolean has_vf_index;
  guint vf_index;
  /* PERM_MAC: the first interface's permanent MAC, a unicast MAC in lower
   * case (02:00:0a:00:00:01); NULL when not reported. */
  char *perm_mac;
} PpProbeDevice;

typedef struct {
  char *hostname;       /* NULL when not reported */
  gint64 cpu_count;     /* 0..PP_PROBE_REPORT_CPU_COUNT_MAX; -1: not reported */
  gint64 memory_kib;    /* 0..PP_PROBE_REPORT_MEMORY_KIB_MAX; -1: not reported */
  char *kernel_version; /* NULL when not reported */
  GPtrArray *devices;   /* PpProbeDevice, in the report's order */
} PpProbeReport;

/* Frees what @dev holds (not @dev); it holds nothing after. */
void pp_probe_device_clear(PpProbeDevice *dev);
void pp_probe_device_free(PpProbeDevice *dev);

/* Whether @dev is an SR-IOV VF: it names its PF (PHYSFN) or says
 * SRIOV = "vf". A VF's MAC and VLAN are programmed through its PF. */
gboolean pp_probe_device_is_vf(const PpProbeDevice *dev);
void pp_probe_report_free(PpProbeReport *report);

/**
 * pp_probe_report_parse:
 * @text: the probe's output (template format), not necessarily
 *   NUL-terminated
 * @len: its length
 *
 * Top-level attributes other than the facts are passed over (a newer probe
 * may say more); CPU_COUNT and MEMORY_KIB are decimal numbers within their
 * bounds (PP_PROBE_REPORT_CPU_COUNT_MAX, _MEMORY_KIB_MAX); a PCI record must have ADDRESS
 * (`0000:3b:00:1`) or SHORT_ADDRESS, and VENDOR, DEVICE and CLASS (4 hex digits each). Two records
 * for one address are an error. IOMMU_GROUP_ENDPOINTS, when there, is a
 * comma-separated list of 1 to PP_PROBE_REPORT_MAX_GROUP_ENDPOINTS PCI
 * addresses, none twice. PHYSFN is a PCI address; VF_INDEX, only on a
 * record whose SRIOV is vf, a decimal number below PP_PCI_SRIOV_VFS_MAX;
 * PERM_MAC a unicast MAC (02:00:0a:00:00:01). Other keys are kept, not
 * checked: a newer probe may say more, and an older pcipassd reads the
 * newer keys (PERM_MAC, VF_INDEX) that way.
 *
 * Returns: (transfer full): the report, or %NULL with an error that says
 *   "line L, column C: ..." for the template's syntax, or "line L: PCI
 *   record N (ADDR): FIELD ..." for a field; TOO_BIG for a text over
 *   PP_PROBE_REPORT_MAX_SIZE bytes.
 */
PpProbeReport *pp_probe_report_parse(const char *text, gsize len, GError **error);

/* Whether @error, from pp_probe_report_parse(), is the report's fault (its
 * syntax: PP_TEMPLATE_ERROR; a field: PP_PROBE_REPORT_ERROR). */
gboolean pp_probe_report_error_is_input(const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpProbeDevice, pp_probe_device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpProbeReport, pp_probe_report_free)

G_END_DECLS
