/* Placement: which host and which devices a VM gets, and, when none fits,
 * why not, host by host. Pure logic. */
#include "config.h"

#include <string.h>

#include "pp-placement.h"
#include "pp-test-util.h"

#define GIB_KIB (1024 * 1024)

static PpPlaceDevice
dev(gint64 id, const char *address, guint16 vendor, guint16 device, guint16 class_code)
{
  PpPlaceDevice d = { 0 };

  d.id = id;
  g_assert_true(pp_pci_address_parse(address, &d.address, NULL));
  d.name = "device";
  d.vendor = vendor;
  d.device = device;
  d.class_code = class_code;
  d.numa_node = -1;
  d.iommu_group = -1;
  return d;
}

/* An enabled host of 8 CPUs and 16 GiB, nothing used. */
static PpPlaceHost
host(gint64 id, const char *name, const PpPlaceDevice *devices, guint n_devices)
{
  PpPlaceHost h = { 0 };

  h.id = id;
  h.name = name;
  h.state = PP_PLACE_HOST_OK;
  h.cpu_total = 800;
  h.memory_total_kib = 16 * GIB_KIB;
  h.devices = devices;
  h.n_devices = n_devices;
  return h;
}

static PpPciRequest
req_ids(gint vendor, gint device, gint class_code, const char *text)
{
  PpPciRequest r = { 0 };

  r.vendor = vendor;
  r.device = device;
  r.class_code = class_code;
  r.text = text;
  return r;
}

static PpPciRequest
req_address(const char *address, const char *text)
{
  PpPciRequest r = { 0 };

  r.vendor = r.device = r.class_code = -1;
  r.by_address = TRUE;
  g_assert_true(pp_pci_address_parse(address, &r.address, NULL));
  r.text = text;
  return r;
}

/* One CPU and 1 GiB. */
static PpPlaceVm
vm(gint64 id, const PpPciRequest *requests, guint n_requests)
{
  PpPlaceVm v = { 0 };

  v.id = id;
  v.cpu = 100;
  v.memory_kib = GIB_KIB;
  v.requests = requests;
  v.n_requests = n_requests;
  return v;
}

static gint64
device_id(const PpPlacement *p, guint i)
{
  g_assert_cmpuint(i, <, p->device_ids->len);
  return g_array_index(p->device_ids, gint64, i);
}

/* The placement's devices as "3,1", companions after a '+'. */
static char *
describe(const PpPlacement *p)
{
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < p->device_ids->len; i++)
    g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "",
                           g_array_index(p->device_ids, gint64, i));
  for (guint i = 0; i < p->companion_ids->len; i++)
    g_string_append_printf(s, "%s%" G_GINT64_FORMAT, i > 0 ? "," : "+",
                           g_array_index(p->companion_ids, gint64, i));
  return g_string_free(s, FALSE);
}

/* Places @v, expecting no fit, and returns the reason of host @index. */
static char *
reject_reason(PpPlacer *placer, const PpPlaceVm *v, guint index)
{
  g_autoptr(PpPlacement) p = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  PpPlaceRejection *rej;

  g_assert_false(pp_placer_place(placer, v, &p, &rejections));
  g_assert_null(p);
  g_assert_nonnull(rejections);
  g_assert_cmpuint(index, <, rejections->len);
  rej = g_ptr_array_index(rejections, index);
  /* Without explanations the answer is the same. */
  g_assert_false(pp_placer_place(placer, v, NULL, NULL));
  return g_strdup(rej->reason);
}

/* Places @v, expecting a fit on @host_id, and returns the devices. */
static char *
place_on(PpPlacer *placer, const PpPlaceVm *v, gint64 host_id, PpPlacement **ret)
{
  g_autoptr(PpPlacement) p = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  char *text;

  g_assert_true(pp_placer_place(placer, v, &p, &rejections));
  g_assert_null(rejections);
  g_assert_nonnull(p);
  g_assert_cmpint(p->host_id, ==, host_id);
  text = describe(p);
  if (ret != NULL)
    *ret = g_steal_pointer(&p);
  return text;
}

/* The greedy pass gives the first device to [CLASS=0200] and has none left
 * for [VENDOR=8086]; the matching moves the first request to the other. */
static void
test_counter_example(void)
{
  const PpPlaceDevice devs[] = {
    dev(1, "0000:01:00.0", 0x8086, 0x10d3, 0x0200),
    dev(2, "0000:02:00.0", 0x14e4, 0x165f, 0x0200),
  };
  const PpPlaceHost h = host(1, "node1", devs, G_N_ELEMENTS(devs));
  const PpPciRequest reqs[] = {
    req_ids(-1, -1, 0x0200, "CLASS=0200"),
    req_ids(0x8086, -1, -1, "VENDOR=8086"),
  };
  const PpPlaceVm v = vm(1, reqs, G_N_ELEMENTS(reqs));
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(PpPlacement) p = NULL;
  g_autofree char *got = NULL;

  pp_placer_add_host(placer, &h);
  got = place_on(placer, &v, 1, &p);
  g_assert_cmpstr(got, ==, "2,1");
  g_assert_cmpstr(p->host_name, ==, "node1");
  g_assert_cmpint(p->numa_node, ==, -1);
}

static void
test_distinct(void)
{
  const PpPlaceDevice devs[] = {
    dev(1, "0000:3b:00.0", 0x10de, 0x1db4, 0x0300),
    dev(2, "0000:5e:00.0", 0x8086, 0x10d3, 0x0200),
    dev(3, "0000:af:00.0", 0x10de, 0x20b0, 0x0302),
  };
  const PpPlaceHost h = host(1, "node1", devs, G_N_ELEMENTS(devs));
  const PpPciRequest two[] = {
    req_ids(-1, -1, 0x0300, "CLASS=0300"),
    req_ids(-1, -1, 0x0300, "CLASS=0300"),
  };
  /* [VENDOR=10de] [CLASS=0200] [VENDOR=10de] [CLASS=0302]: three need
   * NVIDIA devices and there are two; the NIC request is not part of it. */
  const PpPciRequest four[] = {
    req_ids(0x10de, -1, -1, "VENDOR=10de"),
    req_ids(-1, -1, 0x0200, "CLASS=0200"),
    req_ids(0x10de, -1, -1, "VENDOR=10de"),
    req_ids(-1, -1, 0x0302, "CLASS=0302"),
  };
  const PpPlaceVm v2 = vm(1, two, G_N_ELEMENTS(two));
  const PpPlaceVm v4 = vm(1, four, G_N_ELEMENTS(four));
  const PpPlaceVm v3 = vm(1, four, 3);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autofree char *r2 = NULL;
  g_autofree char *r4 = NULL;
  g_autofree char *got = NULL;

  pp_placer_add_host(placer, &h);
  r2 = reject_reason(placer, &v2, 0);
  g_assert_cmpstr(r2, ==,
                  "PCI[0] (CLASS=0300) and PCI[1] (CLASS=0300) need 2 distinct devices; "
                  "only 1 is free: 0000:3b:00.0");
  r4 = reject_reason(placer, &v4, 0);
  g_assert_cmpstr(r4, ==,
                  "PCI[0] (VENDOR=10de), PCI[2] (VENDOR=10de) and PCI[3] (CLASS=0302) need 3 "
                  "distinct devices; only 2 are free: 0000:3b:00.0, 0000:af:00.0");
  /* Without the last, it fits: the two NVIDIA devices, each once. */
  got = place_on(placer, &v3, 1, NULL);
  g_assert_cmpstr(got, ==, "1,2,3");
}

static void
test_by_address(void)
{
  const PpPlaceDevice devs[] = {
    dev(1, "0001:3b:00.0", 0x10de, 0x1db4, 0x0300),
    dev(2, "0000:3b:00.0", 0x10de, 0x1db4, 0x0300),
    dev(3, "0000:3b:00.1", 0x10de, 0x10f0, 0x0403),
  };
  const PpPlaceHost h = host(1, "node1", devs, G_N_ELEMENTS(devs));
  const PpPciRequest short_form[] = { req_address("3b:00.0", "SHORT_ADDRESS=3b:00.0") };
  const PpPciRequest domain1[] = { req_address("0001:3b:00.0", "SHORT_ADDRESS=0001:3b:00.0") };
  const PpPciRequest absent[] = { req_address("af:00.0", "SHORT_ADDRESS=af:00.0") };
  /* Both functions: the address and the ids may name the same device only
   * once. */
  const PpPciRequest mixed[] = {
    req_ids(0x10de, -1, -1, "VENDOR=10de"),
    req_address("3b:00.0", "SHORT_ADDRESS=3b:00.0"),
  };
  const PpPlaceVm v_short = vm(1, short_form, 1);
  const PpPlaceVm v_domain1 = vm(1, domain1, 1);
  const PpPlaceVm v_absent = vm(1, absent, 1);
  const PpPlaceVm v_mixed = vm(1, mixed, 2);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *reason = NULL;

  pp_placer_add_host(placer, &h);
  a = place_on(placer, &v_short, 1, NULL);
  g_assert_cmpstr(a, ==, "2");
  b = place_on(placer, &v_domain1, 1, NULL);
  g_assert_cmpstr(b, ==, "1");
  c = place_on(placer, &v_mixed, 1, NULL);
  g_assert_cmpstr(c, ==, "1,2");
  reason = reject_reason(placer, &v_absent, 0);
  g_assert_cmpstr(reason, ==, "no device matches PCI[0] (SHORT_ADDRESS=af:00.0)");
}

/* Every subset of the ids, alone: which device of the host it gets. */
static void
test_ids_combinations(void)
{
  const PpPlaceDevice devs[] = {
    dev(1, "0000:01:00.0", 0x8086, 0x10d3, 0x0200),
    dev(2, "0000:02:00.0", 0x8086, 0x1521, 0x0200),
    dev(3, "0000:3b:00.0", 0x10de, 0x1db4, 0x0302),
    dev(4, "0000:5e:00.0", 0x144d, 0xa808, 0x0108),
  };
  const PpPlaceHost h = host(1, "node1", devs, G_N_ELEMENTS(devs));
  static const struct {
    gint vendor, device, class_code;
    const char *expect; /* NULL: no device matches */
  } cases[] = {
    { -1, -1, -1, "1" },          { 0x8086, -1, -1, "1" },         { -1, 0x1521, -1, "2" },
    { -1, -1, 0x0302, "3" },      { 0x8086, 0x1521, -1, "2" },     { 0x8086, -1, 0x0200, "1" },
    { -1, 0xa808, 0x0108, "4" },  { 0x10de, 0x1db4, 0x0302, "3" }, { 0x10de, 0x1db4, 0x0300, NULL },
    { 0x8086, 0x1db4, -1, NULL }, { -1, 0xa808, 0x0200, NULL },    { 0x1af4, -1, -1, NULL },
  };
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);

  pp_placer_add_host(placer, &h);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    const PpPciRequest r[] = {
      req_ids(cases[i].vendor, cases[i].device, cases[i].class_code, "IDS"),
    };
    const PpPlaceVm v = vm(1, r, 1);

    if (cases[i].expect != NULL) {
      g_autofree char *got = place_on(placer, &v, 1, NULL);

      g_assert_cmpstr(got, ==, cases[i].expect);
    } else {
      g_autofree char *reason = reject_reason(placer, &v, 0);

      g_assert_cmpstr(reason, ==, "no device matches PCI[0] (IDS)");
    }
  }
}

static const PpPciAddress gpu_group[] = { { 0, 0x3b, 0, 0 }, { 0, 0x3b, 0, 1 } };

/* A GPU and its audio function in IOMMU group 12. */
static void
gpu_with_audio(PpPlaceDevice *devs)
{
  devs[0] = dev(10, "0000:3b:00.0", 0x10de, 0x1db4, 0x0300);
  devs[1] = dev(11, "0000:3b:00.1", 0x10de, 0x10f0, 0x0403);
  devs[0].iommu_group = devs[1].iommu_group = 12;
  devs[0].group_endpoints = devs[1].group_endpoints = gpu_group;
  devs[0].n_group_endpoints = devs[1].n_group_endpoints = G_N_ELEMENTS(gpu_group);
}

static void
test_iommu_companions(void)
{
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  const PpPciRequest both[] = {
    req_ids(-1, -1, 0x0403, "CLASS=0403"),
    req_ids(-1, -1, 0x0300, "CLASS=0300"),
  };
  const PpPlaceVm v = vm(1, gpu, 1);
  const PpPlaceVm v_both = vm(1, both, 2);
  PpPlaceDevice devs[3];
  const char *prefix = "PCI[0] (CLASS=0300): 0000:3b:00.0 cannot be given: its IOMMU group 12 "
                       "holds 0000:3b:00.1, ";

  /* Free: the audio function comes along; asked for too, it is a device,
   * not a companion. */
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *got = NULL;
    g_autofree char *got_both = NULL;
    PpPlaceHost h;

    gpu_with_audio(devs);
    h = host(1, "node1", devs, 2);
    pp_placer_add_host(placer, &h);
    got = place_on(placer, &v, 1, NULL);
    g_assert_cmpstr(got, ==, "10+11");
    got_both = place_on(placer, &v_both, 1, NULL);
    g_assert_cmpstr(got_both, ==, "11,10");
  }

  /* The audio function held, gone, or not offered. */
  for (guint c = 0; c < 3; c++) {
    static const char *const why[] = {
      "held by VM 4",
      "which is gone",
      "which pci.conf does not offer (not in the inventory)",
    };
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *reason = NULL;
    g_autofree char *expect = g_strconcat(prefix, why[c], NULL);
    PpPlaceHost h;

    gpu_with_audio(devs);
    if (c == 0)
      devs[1].vm_id = 4;
    else if (c == 1)
      devs[1].gone = TRUE;
    h = host(1, "node1", devs, c == 2 ? 1 : 2);
    pp_placer_add_host(placer, &h);
    reason = reject_reason(placer, &v, 0);
    g_assert_cmpstr(reason, ==, expect);
  }

  /* Held: a second GPU that stands alone is given instead. */
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *got = NULL;
    PpPlaceHost h;

    gpu_with_audio(devs);
    devs[1].vm_id = 4;
    devs[2] = dev(12, "0000:af:00.0", 0x10de, 0x1db4, 0x0300);
    h = host(1, "node1", devs, 3);
    pp_placer_add_host(placer, &h);
    got = place_on(placer, &v, 1, NULL);
    g_assert_cmpstr(got, ==, "12");
  }
}

/* Typed endpoints in a VMD domain (0x10000): the group is matched by the
 * whole address, domain included (0000:e1:00.1 is another device), and
 * explanations show the address as lspci -D writes it. */
static void
test_iommu_vmd_domain(void)
{
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  const PpPciRequest at[] = { req_address("10000:e1:00.0", "SHORT_ADDRESS=10000:e1:00.0") };
  const PpPlaceVm v = vm(1, gpu, 1);
  const PpPlaceVm v_at = vm(2, at, 1);
  PpPciAddress group[2];
  PpPlaceDevice devs[3];

  g_assert_true(pp_pci_address_parse("10000:e1:00.0", &group[0], NULL));
  g_assert_true(pp_pci_address_parse("10000:e1:00.1", &group[1], NULL));
  g_assert_cmpuint(group[0].domain, ==, 0x10000);
  devs[0] = dev(20, "10000:e1:00.0", 0x10de, 0x1db4, 0x0300);
  devs[1] = dev(21, "10000:e1:00.1", 0x10de, 0x10f0, 0x0403);
  devs[2] = dev(22, "0000:e1:00.1", 0x8086, 0x1521, 0x0200);
  devs[0].iommu_group = devs[1].iommu_group = 3;
  devs[0].group_endpoints = devs[1].group_endpoints = group;
  devs[0].n_group_endpoints = devs[1].n_group_endpoints = G_N_ELEMENTS(group);

  /* The companion is the VMD domain's audio function, not 0000:e1:00.1. */
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *got = NULL;
    g_autofree char *got_at = NULL;
    PpPlaceHost h = host(1, "node1", devs, 3);

    devs[2].vm_id = 7;
    pp_placer_add_host(placer, &h);
    got = place_on(placer, &v, 1, NULL);
    g_assert_cmpstr(got, ==, "20+21");
    got_at = place_on(placer, &v_at, 1, NULL);
    g_assert_cmpstr(got_at, ==, "20+21");
  }

  /* Held: the reason names both in the long form. */
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *reason = NULL;
    PpPlaceHost h = host(1, "node1", devs, 3);

    devs[1].vm_id = 4;
    devs[2].vm_id = 0;
    pp_placer_add_host(placer, &h);
    reason = reject_reason(placer, &v, 0);
    g_assert_cmpstr(reason, ==,
                    "PCI[0] (CLASS=0300): 10000:e1:00.0 cannot be given: its IOMMU group 3 "
                    "holds 10000:e1:00.1, held by VM 4");
  }
}

/* A host whose GPU 12 is already held by VM 9 and whose other GPU is
 * blocked by its group. */
static void
test_iommu_blocked_count(void)
{
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  const PpPlaceVm v = vm(1, gpu, 1);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autofree char *reason = NULL;
  PpPlaceDevice devs[3];
  PpPlaceHost h;

  gpu_with_audio(devs);
  devs[1].vm_id = 4;
  devs[2] = dev(12, "0000:af:00.0", 0x10de, 0x1db4, 0x0300);
  devs[2].vm_id = 9;
  h = host(1, "node1", devs, 3);
  pp_placer_add_host(placer, &h);
  reason = reject_reason(placer, &v, 0);
  g_assert_cmpstr(reason, ==,
                  "PCI[0] (CLASS=0300): 0000:3b:00.0 cannot be given: its IOMMU group 12 holds "
                  "0000:3b:00.1, held by VM 4 (1 more matching device cannot be given either)");
}

static gboolean
shown_if_even(gint64 vm_id, gpointer data)
{
  (*(guint *)data)++;
  return vm_id % 2 == 0;
}

/* A reader who may see only some VMs: "held by VM N" of another's VM is
 * "held by another VM"; the rest of the reason stays, word for word. */
static void
test_hide_holders(void)
{
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  const PpPlaceVm v = vm(1, gpu, 1);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autofree char *reason = NULL;
  g_autofree char *hidden = NULL;
  PpPlaceDevice devs[3];
  PpPlaceHost h;
  guint asked = 0;

  gpu_with_audio(devs);
  devs[1].vm_id = 3;
  devs[2] = dev(12, "0000:af:00.0", 0x10de, 0x1db4, 0x0300);
  devs[2].vm_id = 10;
  h = host(1, "node1", devs, 3);
  pp_placer_add_host(placer, &h);
  reason = reject_reason(placer, &v, 0);
  hidden = pp_place_reason_hide_holders(reason, shown_if_even, &asked);
  g_assert_cmpstr(hidden, ==,
                  "PCI[0] (CLASS=0300): 0000:3b:00.0 cannot be given: its IOMMU group 12 holds "
                  "0000:3b:00.1, held by another VM (1 more matching device cannot be given "
                  "either)");
  g_assert_cmpuint(asked, ==, 1);
  g_free(hidden);

  /* Every holder of a list, its own VM's id kept; what is not the
   * placer's phrase stays as it is. */
  hidden = pp_place_reason_hide_holders("no free device matches PCI[0] (CLASS=0200): 0000:01:00.0 "
                                        "held by VM 7, 0000:02:00.0 gone, 0000:03:00.0 held by "
                                        "VM 22, held by VM x, held by VM 99999999999999999999",
                                        shown_if_even, &asked);
  g_assert_cmpstr(hidden, ==,
                  "no free device matches PCI[0] (CLASS=0200): 0000:01:00.0 held by another VM, "
                  "0000:02:00.0 gone, 0000:03:00.0 held by VM 22, held by VM x, held by another "
                  "VM");
  g_free(hidden);
  hidden = pp_place_reason_hide_holders("", shown_if_even, &asked);
  g_assert_cmpstr(hidden, ==, "");
}

/* Devices the caller marks not ready (on a prebound host, those not on
 * vfio-pci) are not given, nor are those whose group holds one; the
 * reason names the device and carries the caller's words. */
static void
test_not_ready(void)
{
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  const PpPlaceVm v = vm(1, gpu, 1);
  const char *prefix = "PCI[0] (CLASS=0300): ";
  PpPlaceDevice devs[2];
  PpPlaceDevice other[1];

  for (guint c = 0; c < 2; c++) {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *words = g_strdup("is on driver snd_hda_intel, not vfio-pci");
    g_autofree char *reason = NULL;
    g_autofree char *expect = NULL;
    g_autofree char *got = NULL;
    g_autoptr(PpPlacement) p = NULL;
    PpPlaceHost h, h2;

    gpu_with_audio(devs);
    devs[c].not_ready = words;
    h = host(1, "node1", devs, 2);
    h.cpu_used = 400; /* fuller: pack tries it first */
    pp_placer_add_host(placer, &h);
    /* The placer keeps its own copy. */
    words[0] = 'X';
    if (c == 0)
      expect = g_strconcat(prefix, "0000:3b:00.0 is on driver snd_hda_intel, not vfio-pci", NULL);
    else
      expect = g_strconcat(prefix,
                           "0000:3b:00.0 cannot be given: its IOMMU group 12 holds 0000:3b:00.1, "
                           "which is on driver snd_hda_intel, not vfio-pci",
                           NULL);
    reason = reject_reason(placer, &v, 0);
    g_assert_cmpstr(reason, ==, expect);

    /* A ready GPU on the emptier node2 is given; committing keeps
     * node1's device unready. */
    other[0] = dev(20, "0000:af:00.0", 0x10de, 0x1db4, 0x0300);
    h2 = host(2, "node2", other, 1);
    pp_placer_add_host(placer, &h2);
    got = place_on(placer, &v, 2, &p);
    g_assert_cmpstr(got, ==, "20");
    pp_placer_commit(placer, &v, p);
    g_clear_pointer(&reason, g_free);
    reason = reject_reason(placer, &v, 0);
    g_assert_cmpstr(reason, ==, expect);
  }
}

static void
test_numa(void)
{
  PpPlaceDevice devs[] = {
    dev(1, "0000:d8:00.0", 0x10de, 0x20b0, 0x0302),
    dev(2, "0000:3b:00.0", 0x10de, 0x20b0, 0x0302),
    dev(3, "0000:5e:00.0", 0x10de, 0x20b0, 0x0302),
  };
  const PpPciRequest one[] = { req_ids(0x10de, -1, -1, "VENDOR=10de") };
  const PpPciRequest two[] = {
    req_ids(0x10de, -1, -1, "VENDOR=10de"),
    req_ids(0x10de, -1, -1, "VENDOR=10de"),
  };
  const PpPlaceVm v1 = vm(1, one, 1);
  const PpPlaceVm v2 = vm(1, two, 2);

  devs[0].numa_node = 1;
  devs[1].numa_node = 0;
  devs[2].numa_node = 0;
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    const PpPlaceHost h = host(1, "node1", devs, 3);
    g_autoptr(PpPlacement) p1 = NULL;
    g_autoptr(PpPlacement) p2 = NULL;
    g_autofree char *got1 = NULL;
    g_autofree char *got2 = NULL;

    pp_placer_add_host(placer, &h);
    /* The lowest node first, even though node 1's GPU comes first. */
    got1 = place_on(placer, &v1, 1, &p1);
    g_assert_cmpstr(got1, ==, "2");
    g_assert_cmpint(p1->numa_node, ==, 0);
    got2 = place_on(placer, &v2, 1, &p2);
    g_assert_cmpstr(got2, ==, "2,3");
    g_assert_cmpint(p2->numa_node, ==, 0);
  }
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    PpPlaceHost h;
    g_autoptr(PpPlacement) p2 = NULL;
    g_autofree char *got2 = NULL;

    devs[1].vm_id = 5;
    h = host(1, "node1", devs, 3);
    pp_placer_add_host(placer, &h);
    got2 = place_on(placer, &v2, 1, &p2);
    g_assert_cmpstr(got2, ==, "1,3");
    g_assert_cmpint(p2->numa_node, ==, -1);
  }
}

static void
test_policy(void)
{
  PpPlaceHost hosts[4];
  const PpPlaceVm v = vm(1, NULL, 0);
  g_autoptr(PpPlacer) pack = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(PpPlacer) stripe = pp_placer_new(PP_PLACE_POLICY_STRIPE);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  hosts[0] = host(1, "a", NULL, 0); /* 8.00 free */
  hosts[1] = host(2, "b", NULL, 0);
  hosts[1].cpu_used = 650; /* 1.50 free: the fullest that fits */
  hosts[2] = host(3, "c", NULL, 0);
  hosts[2].cpu_used = 750; /* 0.50 free: does not fit */
  hosts[3] = host(4, "d", NULL, 0);
  hosts[3].cpu_total = 1600; /* 16.00 free: the emptiest */
  for (guint i = 0; i < 4; i++) {
    pp_placer_add_host(pack, &hosts[i]);
    pp_placer_add_host(stripe, &hosts[i]);
  }
  a = place_on(pack, &v, 2, NULL);
  b = place_on(stripe, &v, 4, NULL);
  g_assert_cmpstr(a, ==, "");
  g_assert_cmpstr(b, ==, "");
}

/* Equal CPU: memory decides, then (pack) the free devices, then the order. */
static void
test_policy_ties(void)
{
  const PpPlaceDevice devs[] = {
    dev(1, "0000:01:00.0", 0x8086, 0x10d3, 0x0200),
    dev(2, "0000:02:00.0", 0x8086, 0x10d3, 0x0200),
  };
  const PpPlaceVm v = vm(1, NULL, 0);
  PpPlaceHost hosts[4];

  hosts[0] = host(1, "a", devs, 2);
  hosts[1] = host(2, "b", devs, 1);
  hosts[2] = host(3, "c", devs, 1);
  hosts[3] = host(4, "d", devs, 2);
  hosts[3].memory_used_kib = GIB_KIB;
  {
    g_autoptr(PpPlacer) pack = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autoptr(PpPlacer) stripe = pp_placer_new(PP_PLACE_POLICY_STRIPE);
    g_autoptr(PpPlacement) p = NULL;
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;
    g_autofree char *c = NULL;

    for (guint i = 0; i < 4; i++) {
      pp_placer_add_host(pack, &hosts[i]);
      pp_placer_add_host(stripe, &hosts[i]);
    }
    /* Pack: d has the least memory free. */
    a = place_on(pack, &v, 4, NULL);
    /* Stripe: a, b and c have the most memory; a comes first. */
    b = place_on(stripe, &v, 1, &p);
    g_assert_cmpstr(a, ==, "");
    g_assert_cmpstr(b, ==, "");
    /* After a commit, a has less CPU free: b is next. */
    pp_placer_commit(stripe, &v, p);
    g_clear_pointer(&p, pp_placement_free);
    c = place_on(stripe, &v, 2, NULL);
    g_assert_cmpstr(c, ==, "");
  }
  {
    g_autoptr(PpPlacer) pack = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autofree char *a = NULL;

    /* Without d: a, b, c tie on CPU and memory; b has fewer free devices
     * than a, and comes before c. */
    for (guint i = 0; i < 3; i++)
      pp_placer_add_host(pack, &hosts[i]);
    a = place_on(pack, &v, 2, NULL);
    g_assert_cmpstr(a, ==, "");
  }
}

static void
test_resources(void)
{
  PpPlaceHost hosts[5];
  PpPlaceVm v = vm(1, NULL, 0);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(GPtrArray) rejections = NULL;
  static const char *const expect[] = {
    "not enough CPU: needs 2.50, 1.00 free of 8.00",
    "no CPU count reported yet",
    "not enough memory: needs 4096 MiB, 2048 MiB free of 8192 MiB",
    "no memory size reported yet",
    "not enough CPU: needs 2.50, -0.50 free of 8.00",
  };

  for (guint i = 0; i < 5; i++)
    hosts[i] = host(i + 1, "h", NULL, 0);
  hosts[0].cpu_used = 700;
  hosts[1].cpu_total = -1;
  hosts[2].memory_total_kib = 8 * GIB_KIB;
  hosts[2].memory_used_kib = 6 * GIB_KIB;
  hosts[3].memory_total_kib = -1;
  hosts[4].cpu_used = 850;
  for (guint i = 0; i < 5; i++)
    pp_placer_add_host(placer, &hosts[i]);
  v.cpu = 250;
  v.memory_kib = 4 * GIB_KIB;
  g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
  g_assert_cmpuint(rejections->len, ==, 5);
  for (guint i = 0; i < 5; i++) {
    PpPlaceRejection *rej = g_ptr_array_index(rejections, i);

    g_assert_cmpint(rej->host_id, ==, i + 1);
    g_assert_cmpstr(rej->host_name, ==, "h");
    g_assert_cmpstr(rej->reason, ==, expect[i]);
  }
  /* Exactly what is free fits: host 1's CPU, then host 3's memory. */
  v.cpu = 100;
  v.memory_kib = 2 * GIB_KIB;
  {
    g_autofree char *got = place_on(placer, &v, 1, NULL);

    g_assert_cmpstr(got, ==, "");
  }
  v.cpu = 200;
  {
    g_autofree char *got = place_on(placer, &v, 3, NULL);

    g_assert_cmpstr(got, ==, "");
  }
}

static void
test_states(void)
{
  PpPlaceHost hosts[4];
  const PpPlaceVm v = vm(1, NULL, 0);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_STRIPE);
  g_autoptr(GPtrArray) rejections = NULL;
  g_autofree char *summary = NULL;

  hosts[0] = host(1, "node1", NULL, 0);
  hosts[0].state = PP_PLACE_HOST_DISABLED;
  hosts[1] = host(2, "node2", NULL, 0);
  hosts[1].state = PP_PLACE_HOST_NOT_MONITORED;
  hosts[1].state_text = "error: exit status 2: ssh: connect refused";
  hosts[2] = host(3, "node3", NULL, 0);
  hosts[2].state = PP_PLACE_HOST_NOT_MONITORED;
  hosts[3] = host(4, "node4", NULL, 0);
  hosts[3].state = PP_PLACE_HOST_NOT_MONITORED;
  hosts[3].state_text = "init";
  for (guint i = 0; i < 4; i++)
    pp_placer_add_host(placer, &hosts[i]);
  g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
  summary = pp_place_rejections_summary(rejections, 10);
  g_assert_cmpstr(summary, ==,
                  "4 hosts: node1: disabled; node2: not monitored (error: exit status 2: ssh: "
                  "connect refused); node3: not monitored; node4: not monitored (init)");
}

static void
test_host_requirement(void)
{
  PpPlaceHost hosts[3];
  PpPlaceVm v = vm(1, NULL, 0);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);

  hosts[0] = host(1, "node1", NULL, 0);
  hosts[0].cpu_used = 600; /* pack's choice without a requirement */
  hosts[1] = host(2, "node2", NULL, 0);
  hosts[2] = host(3, "node3", NULL, 0);
  hosts[2].state = PP_PLACE_HOST_DISABLED;
  for (guint i = 0; i < 3; i++)
    pp_placer_add_host(placer, &hosts[i]);
  {
    g_autofree char *got = place_on(placer, &v, 1, NULL);

    g_assert_cmpstr(got, ==, "");
  }
  v.host_id = 2;
  {
    g_autofree char *got = place_on(placer, &v, 2, NULL);

    g_assert_cmpstr(got, ==, "");
  }
  v.host_id = 0;
  v.host_name = "node2";
  {
    g_autofree char *got = place_on(placer, &v, 2, NULL);

    g_assert_cmpstr(got, ==, "");
  }
  /* The host asked for cannot take it: the others say why not them. */
  v.host_name = NULL;
  v.host_id = 3;
  {
    g_autoptr(GPtrArray) rejections = NULL;
    g_autofree char *summary = NULL;

    g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
    summary = pp_place_rejections_summary(rejections, 3);
    g_assert_cmpstr(summary, ==,
                    "3 hosts: node1: not the host the template asks for (HOST = 3); node2: not "
                    "the host the template asks for (HOST = 3); node3: disabled");
  }
  v.host_id = 0;
  v.host_name = "node9";
  {
    g_autofree char *reason = reject_reason(placer, &v, 1);

    g_assert_cmpstr(reason, ==, "not the host the template asks for (HOST = node9)");
  }
  /* Both given: both must name the host. */
  v.host_id = 1;
  v.host_name = "node2";
  {
    g_autofree char *reason = reject_reason(placer, &v, 1);

    g_assert_cmpstr(reason, ==, "not the host the template asks for (HOST = node2)");
  }
}

static void
test_commit(void)
{
  PpPlaceDevice devs[2];
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  PpPlaceVm first = vm(7, gpu, 1);
  PpPlaceVm second = vm(8, gpu, 1);
  PpPlaceVm dry = vm(0, gpu, 1);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(PpPlacement) p = NULL;
  g_autofree char *got = NULL;
  g_autofree char *again = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *cpu_reason = NULL;
  PpPlaceHost h;

  gpu_with_audio(devs);
  h = host(1, "node1", devs, 2);
  pp_placer_add_host(placer, &h);

  /* A dry run's commit records nothing. */
  got = place_on(placer, &dry, 1, &p);
  g_assert_cmpstr(got, ==, "10+11");
  pp_placer_commit(placer, &dry, p);
  g_clear_pointer(&p, pp_placement_free);
  again = place_on(placer, &first, 1, &p);
  g_assert_cmpstr(again, ==, "10+11");

  pp_placer_commit(placer, &first, p);
  reason = reject_reason(placer, &second, 0);
  g_assert_cmpstr(reason, ==,
                  "no free device matches PCI[0] (CLASS=0300): 0000:3b:00.0 held by VM 7");

  /* CPU and memory are counted too: 1.00 was taken. */
  second.n_requests = 0;
  second.cpu = 750;
  cpu_reason = reject_reason(placer, &second, 0);
  g_assert_cmpstr(cpu_reason, ==, "not enough CPU: needs 7.50, 7.00 free of 8.00");
  second.cpu = 700;
  second.memory_kib = 15 * GIB_KIB;
  {
    g_autofree char *fits = place_on(placer, &second, 1, NULL);

    g_assert_cmpstr(fits, ==, "");
  }
  second.memory_kib = 15 * GIB_KIB + 1;
  {
    g_autofree char *mem = reject_reason(placer, &second, 0);

    g_assert_cmpstr(mem, ==, "not enough memory: needs 15361 MiB, 15360 MiB free of 16384 MiB");
  }
}

/* The types across the hosts (GET /v1/pci/types): kept as hosts are set,
 * VMs committed and hosts removed, without a whole count. */
static void
test_types(void)
{
  PpPlaceDevice a[3], b[2];
  const PpPciRequest gpu[] = { req_ids(-1, -1, 0x0300, "CLASS=0300") };
  PpPlaceVm first = vm(7, gpu, 1);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(PpPlacement) p = NULL;
  PpPlaceHost ha, hb;

  gpu_with_audio(a);
  a[0].vendor_name = "NVIDIA Corporation";
  a[0].class_name = "VGA compatible controller";
  a[2] = dev(12, "0000:5e:00.0", 0x8086, 0x1521, 0x0200);
  a[2].gone = TRUE;
  a[2].vm_id = 3;
  gpu_with_audio(b);
  b[0].id = 20;
  b[1].id = 21;
  ha = host(1, "node1", a, 3);
  hb = host(2, "node2", b, 2);
  pp_placer_add_host(placer, &ha);
  pp_placer_add_host(placer, &hb);
  {
    g_autoptr(GPtrArray) types = pp_placer_list_types(placer);
    const PpPlaceType *gpu_type = g_ptr_array_index(types, 1);

    /* By vendor and device: the audio function (10f0) first. The held
     * NIC that went counts nowhere, and is not listed. */
    g_assert_cmpuint(types->len, ==, 2);
    g_assert_cmpuint(gpu_type->vendor, ==, 0x10de);
    g_assert_cmpuint(gpu_type->class_code, ==, 0x0300);
    g_assert_cmpstr(gpu_type->vendor_name, ==, "NVIDIA Corporation");
    g_assert_cmpstr(gpu_type->class_name, ==, "VGA compatible controller");
    g_assert_cmpuint(gpu_type->total, ==, 2);
    g_assert_cmpuint(gpu_type->free, ==, 2);
    g_assert_cmpuint(gpu_type->hosts, ==, 2);
  }
  /* A VM takes node1's GPU (and its audio companion). */
  g_autofree char *got = place_on(placer, &first, 1, &p);
  g_assert_cmpstr(got, ==, "10+11");
  pp_placer_commit(placer, &first, p);
  {
    g_autoptr(GPtrArray) types = pp_placer_list_types(placer);
    const PpPlaceType *gpu_type = g_ptr_array_index(types, 1);
    const PpPlaceType *audio = g_ptr_array_index(types, 0);

    g_assert_cmpuint(gpu_type->total, ==, 2);
    g_assert_cmpuint(gpu_type->free, ==, 1);
    g_assert_cmpuint(gpu_type->hosts, ==, 1);
    g_assert_cmpuint(audio->free, ==, 1);
  }
  /* node2 disabled: its devices are there, none free; set again enabled,
   * free again. */
  hb.state = PP_PLACE_HOST_DISABLED;
  pp_placer_set_host(placer, &hb);
  {
    g_autoptr(GPtrArray) types = pp_placer_list_types(placer);
    const PpPlaceType *gpu_type = g_ptr_array_index(types, 1);

    g_assert_cmpuint(gpu_type->total, ==, 2);
    g_assert_cmpuint(gpu_type->free, ==, 0);
    g_assert_cmpuint(gpu_type->hosts, ==, 0);
  }
  hb.state = PP_PLACE_HOST_OK;
  pp_placer_set_host(placer, &hb);
  /* node1 removed: only node2's count. */
  g_assert_true(pp_placer_remove_host(placer, 1));
  {
    g_autoptr(GPtrArray) types = pp_placer_list_types(placer);
    const PpPlaceType *gpu_type = g_ptr_array_index(types, 1);

    g_assert_cmpuint(types->len, ==, 2);
    g_assert_cmpuint(gpu_type->total, ==, 1);
    g_assert_cmpuint(gpu_type->free, ==, 1);
    g_assert_cmpuint(gpu_type->hosts, ==, 1);
    /* The names stay those first given. */
    g_assert_cmpstr(gpu_type->vendor_name, ==, "NVIDIA Corporation");
  }
  g_assert_true(pp_placer_remove_host(placer, 2));
  {
    g_autoptr(GPtrArray) types = pp_placer_list_types(placer);

    g_assert_cmpuint(types->len, ==, 0);
  }
}

/* Many candidates, none free: five are named. */
static void
test_none_free_list(void)
{
  PpPlaceDevice devs[8];
  char addresses[8][16];
  const PpPciRequest nic[] = { req_ids(0x8086, -1, 0x0200, "VENDOR=8086, CLASS=0200") };
  const PpPlaceVm v = vm(1, nic, 1);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autofree char *reason = NULL;
  PpPlaceHost h;

  for (guint i = 0; i < 8; i++) {
    g_snprintf(addresses[i], sizeof(addresses[i]), "0000:%02x:00.0", i + 1);
    devs[i] = dev(i + 1, addresses[i], 0x8086, 0x1521, 0x0200);
    devs[i].vm_id = 20 + i;
  }
  devs[1].gone = TRUE;
  h = host(1, "node1", devs, 8);
  pp_placer_add_host(placer, &h);
  reason = reject_reason(placer, &v, 0);
  g_assert_cmpstr(reason, ==,
                  "no free device matches PCI[0] (VENDOR=8086, CLASS=0200): 0000:01:00.0 held by "
                  "VM 20, 0000:02:00.0 gone, 0000:03:00.0 held by VM 22, 0000:04:00.0 held by VM "
                  "23, 0000:05:00.0 held by VM 24, and 3 more");
}

static void
test_summary(void)
{
  g_autoptr(GPtrArray) rejections =
      g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_rejection_free);
  static const char *const reasons[] = { "disabled", "no CPU count reported yet", "disabled" };
  g_autofree char *none = NULL;
  g_autofree char *two = NULL;
  g_autofree char *all = NULL;
  g_autofree char *zero = NULL;
  g_autofree char *one = NULL;

  none = pp_place_rejections_summary(rejections, 5);
  g_assert_cmpstr(none, ==, "no hosts");
  for (guint i = 0; i < 3; i++) {
    PpPlaceRejection *rej = g_new0(PpPlaceRejection, 1);

    rej->host_id = i + 1;
    rej->host_name = g_strdup_printf("node%u", i + 1);
    rej->reason = g_strdup(reasons[i]);
    g_ptr_array_add(rejections, rej);
  }
  two = pp_place_rejections_summary(rejections, 2);
  g_assert_cmpstr(two, ==,
                  "3 hosts: node1: disabled; node2: no CPU count reported yet; and 1 more");
  all = pp_place_rejections_summary(rejections, 3);
  g_assert_cmpstr(all, ==,
                  "3 hosts: node1: disabled; node2: no CPU count reported yet; node3: disabled");
  zero = pp_place_rejections_summary(rejections, 0);
  g_assert_cmpstr(zero, ==, "3 hosts");
  g_ptr_array_set_size(rejections, 1);
  one = pp_place_rejections_summary(rejections, 1);
  g_assert_cmpstr(one, ==, "1 host: node1: disabled");
}

static void
test_no_requests(void)
{
  PpPlaceDevice devs[1] = { dev(1, "0000:01:00.0", 0x8086, 0x10d3, 0x0200) };
  const PpPlaceVm v = vm(1, NULL, 0);
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(PpPlacement) p = NULL;
  g_autofree char *got = NULL;
  PpPlaceHost h;

  devs[0].numa_node = 0;
  h = host(1, "node1", devs, 1);
  pp_placer_add_host(placer, &h);
  got = place_on(placer, &v, 1, &p);
  g_assert_cmpstr(got, ==, "");
  g_assert_cmpuint(p->device_ids->len, ==, 0);
  g_assert_cmpuint(p->companion_ids->len, ==, 0);
  g_assert_cmpint(p->numa_node, ==, -1);

  /* No host at all. */
  {
    g_autoptr(PpPlacer) empty = pp_placer_new(PP_PLACE_POLICY_PACK);
    g_autoptr(GPtrArray) rejections = NULL;

    g_assert_false(pp_placer_place(empty, &v, NULL, &rejections));
    g_assert_cmpuint(rejections->len, ==, 0);
  }
}

/* --- PF_POLICY: VFs over their PFs (issue 12) ----------------------------- */

/* Two I350 PFs of 4 VFs each: PF A (3b:00.0) has VFs 1-4, PF B (3b:00.1)
 * VFs 5-8, in the inventory's order, all on @node_a and @node_b. No
 * capture has SR-IOV links: the VFs are written here as the store gives
 * them (PHYSFN typed into has_pf and pf). */
static void
two_pfs(PpPlaceDevice devs[8], gint node_a, gint node_b)
{
  static const char *const addresses[] = {
    "0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3",
    "0000:3b:0a.0", "0000:3b:0a.1", "0000:3b:0a.2", "0000:3b:0a.3",
  };

  for (guint i = 0; i < 8; i++) {
    devs[i] = dev(i + 1, addresses[i], 0x8086, 0x1520, 0x0200);
    devs[i].has_pf = TRUE;
    g_assert_true(pp_pci_address_parse(i < 4 ? "0000:3b:00.0" : "0000:3b:00.1", &devs[i].pf, NULL));
    devs[i].numa_node = i < 4 ? node_a : node_b;
  }
}

static PpPciRequest
req_vf(PpPfPolicy policy)
{
  PpPciRequest r = req_ids(0x8086, 0x1520, -1, "VENDOR=8086,DEVICE=1520");

  r.pf_policy = policy;
  return r;
}

/* Places @n requests of @policies (one each) on a placer of one host
 * with @devs, and returns the devices. */
static char *
place_vfs(const PpPlaceDevice *devs, guint n_devs, const PpPfPolicy *policies, guint n)
{
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  const PpPlaceHost h = host(1, "node1", devs, n_devs);
  PpPciRequest requests[8];
  PpPlaceVm v;

  g_assert_cmpuint(n, <=, G_N_ELEMENTS(requests));
  for (guint i = 0; i < n; i++)
    requests[i] = req_vf(policies[i]);
  v = vm(10, requests, n);
  pp_placer_add_host(placer, &h);
  return place_on(placer, &v, 1, NULL);
}

/* NONE is today's choice exactly: the same devices as when the placer
 * knows no PF at all, whatever VMs hold. */
static void
test_pf_none(void)
{
  static const PpPfPolicy none[] = { PP_PF_POLICY_NONE, PP_PF_POLICY_NONE, PP_PF_POLICY_NONE };
  static const gint64 held[][2] = { { 0, 0 }, { 6, 7 }, { 1, 5 }, { 2, 3 } };

  for (guint t = 0; t < G_N_ELEMENTS(held); t++) {
    PpPlaceDevice devs[8], plain[8];

    two_pfs(devs, 0, 0);
    for (guint i = 0; i < 8; i++) {
      if (devs[i].id == held[t][0] || devs[i].id == held[t][1])
        devs[i].vm_id = 9;
      plain[i] = devs[i];
      plain[i].has_pf = FALSE;
    }
    for (guint n = 1; n <= 3; n++) {
      g_autofree char *with = place_vfs(devs, 8, none, n);
      g_autofree char *without = place_vfs(plain, 8, none, n);

      g_assert_cmpstr(with, ==, without);
    }
  }
  {
    PpPlaceDevice devs[8];
    g_autofree char *got = NULL;

    two_pfs(devs, 0, 0);
    devs[5].vm_id = 9;
    got = place_vfs(devs, 8, none, 2);
    g_assert_cmpstr(got, ==, "1,2");
  }
}

/* PACK: a VF of the PF whose VFs are taken, by other VMs or by the VM's
 * earlier requests; the VMs placed after see what was committed. */
static void
test_pf_pack(void)
{
  static const PpPfPolicy pack3[] = { PP_PF_POLICY_PACK, PP_PF_POLICY_PACK, PP_PF_POLICY_PACK };
  PpPlaceDevice devs[8];

  /* Nothing taken: the first PF, then the VM's own VFs keep it there. */
  two_pfs(devs, 0, 0);
  {
    g_autofree char *got = place_vfs(devs, 8, pack3, 3);

    g_assert_cmpstr(got, ==, "1,2,3");
  }
  /* VM 9 holds one of PF B's VFs: B first, for every request. */
  devs[5].vm_id = 9;
  {
    g_autofree char *one = place_vfs(devs, 8, pack3, 1);
    g_autofree char *three = place_vfs(devs, 8, pack3, 3);

    g_assert_cmpstr(one, ==, "5");
    g_assert_cmpstr(three, ==, "5,7,8");
  }
  /* B has one VF left: the first request takes it, the others pack on
   * A, where the VM's own second VF then counts. */
  devs[6].vm_id = 9;
  devs[7].vm_id = 9;
  {
    g_autofree char *got = place_vfs(devs, 8, pack3, 3);

    g_assert_cmpstr(got, ==, "5,1,2");
  }
  /* The most taken wins: A has 2, B 1. */
  two_pfs(devs, 0, 0);
  devs[0].vm_id = 9;
  devs[1].vm_id = 8;
  devs[4].vm_id = 7;
  {
    g_autofree char *got = place_vfs(devs, 8, pack3, 2);

    g_assert_cmpstr(got, ==, "3,4");
  }
  /* Committed placements count for the next VM of the pass. */
  two_pfs(devs, 0, 0);
  devs[7].vm_id = 9;
  {
    g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
    const PpPlaceHost h = host(1, "node1", devs, 8);
    const PpPciRequest none[] = { req_vf(PP_PF_POLICY_NONE), req_vf(PP_PF_POLICY_NONE) };
    const PpPciRequest pack[] = { req_vf(PP_PF_POLICY_PACK) };
    const PpPlaceVm first = vm(11, none, 2);
    const PpPlaceVm second = vm(12, pack, 1);
    g_autoptr(PpPlacement) p1 = NULL;
    g_autofree char *got1 = NULL;
    g_autofree char *got2 = NULL;

    pp_placer_add_host(placer, &h);
    /* NONE takes A's first two; now A has 2 taken, B 1. */
    got1 = place_on(placer, &first, 1, &p1);
    g_assert_cmpstr(got1, ==, "1,2");
    pp_placer_commit(placer, &first, p1);
    got2 = place_on(placer, &second, 1, NULL);
    g_assert_cmpstr(got2, ==, "3");
  }
}

/* SPREAD: the VF of the PF with the fewest taken; the VM's own requests
 * count, so its VFs alternate; ties go to the inventory's order. */
static void
test_pf_spread(void)
{
  static const PpPfPolicy spread3[] = { PP_PF_POLICY_SPREAD, PP_PF_POLICY_SPREAD,
                                        PP_PF_POLICY_SPREAD };
  static const PpPfPolicy mixed[] = { PP_PF_POLICY_NONE, PP_PF_POLICY_SPREAD, PP_PF_POLICY_PACK };
  PpPlaceDevice devs[8];

  two_pfs(devs, 0, 0);
  {
    g_autofree char *two = place_vfs(devs, 8, spread3, 2);
    g_autofree char *three = place_vfs(devs, 8, spread3, 3);

    /* A then B; the third ties (one each) and takes A's next. */
    g_assert_cmpstr(two, ==, "1,5");
    g_assert_cmpstr(three, ==, "1,5,2");
  }
  /* A has two taken: B's VFs first, until B has as many. */
  devs[0].vm_id = 9;
  devs[2].vm_id = 9;
  {
    g_autofree char *got = place_vfs(devs, 8, spread3, 3);

    g_assert_cmpstr(got, ==, "5,6,2");
  }
  /* A request without a policy counts for the ones after it: NONE takes
   * A's first, SPREAD then B, PACK then the PF with most: a tie (1 and 1)
   * in the inventory's order, A. */
  two_pfs(devs, 0, 0);
  {
    g_autofree char *got = place_vfs(devs, 8, mixed, 3);

    g_assert_cmpstr(got, ==, "1,5,2");
  }
}

/* The policy picks on the VM's NUMA node: PACK does not leave it for a
 * PF with VFs taken on another node, and SPREAD does not either; when
 * no node has all the VM's devices, the PFs of every node count. */
static void
test_pf_numa(void)
{
  static const PpPfPolicy pack[] = { PP_PF_POLICY_PACK, PP_PF_POLICY_PACK };
  static const PpPfPolicy spread[] = { PP_PF_POLICY_SPREAD, PP_PF_POLICY_SPREAD };
  PpPlaceDevice devs[8];

  /* PF A on node 1, PF B on node 0, where B's VFs are taken but one. */
  two_pfs(devs, 1, 0);
  devs[4].vm_id = 9;
  devs[5].vm_id = 9;
  {
    g_autofree char *one = place_vfs(devs, 8, pack, 1);
    g_autofree char *two = place_vfs(devs, 8, spread, 2);

    /* Node 0 fits one: B's, packing or not. Two: node 0 has 2 free. */
    g_assert_cmpstr(one, ==, "7");
    g_assert_cmpstr(two, ==, "7,8");
  }
  /* Node 0 has one VF free; two requests fit on node 1 (A) only. */
  devs[6].vm_id = 9;
  {
    g_autofree char *got = place_vfs(devs, 8, pack, 2);

    g_assert_cmpstr(got, ==, "1,2");
  }
  /* Three requests fit on no node alone: across nodes, PACK goes to B
   * (3 taken) first, then A; SPREAD to A (2 taken) first, then B's
   * ties A's (3 each) and the inventory's order keeps A. */
  {
    static const PpPfPolicy pack3[] = { PP_PF_POLICY_PACK, PP_PF_POLICY_PACK, PP_PF_POLICY_PACK };
    static const PpPfPolicy spread3[] = { PP_PF_POLICY_SPREAD, PP_PF_POLICY_SPREAD,
                                          PP_PF_POLICY_SPREAD };
    PpPlaceDevice few[8];

    memcpy(few, devs, sizeof(few));
    few[2].vm_id = 9; /* A: 1, 2 free (2 taken); B: 8 (3 taken) */
    few[3].vm_id = 9;
    {
      g_autofree char *p = place_vfs(few, 8, pack3, 3);
      g_autofree char *s = place_vfs(few, 8, spread3, 3);

      g_assert_cmpstr(p, ==, "8,1,2");
      g_assert_cmpstr(s, ==, "1,2,8");
    }
  }
}

/* --- Against a brute force ----------------------------------------------- */

typedef struct {
  PpPlaceHost host;
  PpPlaceDevice devs[6];
  char addresses[6][16];
  PpPciAddress groups[6][2];
} RandomHost;

static const struct {
  guint16 vendor, device, class_code;
} catalogue[] = {
  { 0x10de, 0x20b0, 0x0302 }, { 0x10de, 0x1db4, 0x0300 }, { 0x8086, 0x1521, 0x0200 },
  { 0x15b3, 0x101b, 0x0200 }, { 0x144d, 0xa808, 0x0108 }, { 0x1002, 0x73bf, 0x0300 },
};

/* Rank of a for the policy, as the header says, <0 when a comes first. */
static int
rank(PpPlacePolicy policy, const RandomHost *a, guint ia, const RandomHost *b, guint ib)
{
  gint64 ca = a->host.cpu_total - a->host.cpu_used, cb = b->host.cpu_total - b->host.cpu_used;
  gint64 ma = a->host.memory_total_kib - a->host.memory_used_kib;
  gint64 mb = b->host.memory_total_kib - b->host.memory_used_kib;
  guint fa = 0, fb = 0;

  for (guint i = 0; i < a->host.n_devices; i++)
    fa += a->devs[i].vm_id == 0 && !a->devs[i].gone;
  for (guint i = 0; i < b->host.n_devices; i++)
    fb += b->devs[i].vm_id == 0 && !b->devs[i].gone;
  if (policy == PP_PLACE_POLICY_PACK) {
    if (ca != cb)
      return ca < cb ? -1 : 1;
    if (ma != mb)
      return ma < mb ? -1 : 1;
    if (fa != fb)
      return fa < fb ? -1 : 1;
  } else {
    if (ca != cb)
      return ca > cb ? -1 : 1;
    if (ma != mb)
      return ma > mb ? -1 : 1;
  }
  return ia < ib ? -1 : 1;
}

/* The brute force: the header's rules, written again from its words, not
 * from the placer. */

static gint
compare_id(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

/* The index of the device at @address on @rh, or -1. */
static gint
bf_find(const RandomHost *rh, const PpPciAddress *address)
{
  for (guint i = 0; i < rh->host.n_devices; i++)
    if (pp_pci_address_equal(&rh->devs[i].address, address))
      return (gint)i;
  return -1;
}

static gboolean
bf_free(const PpPlaceDevice *d)
{
  return !d->gone && d->vm_id == 0 && d->not_ready == NULL;
}

/* Whether device @i may be given: free, and every endpoint of its IOMMU
 * group in the inventory and free (a device not ready takes its group
 * with it). */
static gboolean
bf_givable(const RandomHost *rh, guint i)
{
  const PpPlaceDevice *d = &rh->devs[i];

  if (!bf_free(d))
    return FALSE;
  for (guint e = 0; d->group_endpoints != NULL && e < d->n_group_endpoints; e++) {
    gint j = bf_find(rh, &d->group_endpoints[e]);

    if (j < 0 || !bf_free(&rh->devs[j]))
      return FALSE;
  }
  return TRUE;
}

static gboolean
bf_matches(const PpPciRequest *r, const PpPlaceDevice *d)
{
  if (r->by_address)
    return pp_pci_address_equal(&d->address, &r->address);
  return (r->vendor < 0 || r->vendor == d->vendor) && (r->device < 0 || r->device == d->device) &&
         (r->class_code < 0 || r->class_code == d->class_code);
}

/* What every assignment of the VM's requests to distinct givable devices
 * of a host gives. */
typedef struct {
  gboolean fits; /* one assignment at least */
  guint nodes;   /* bit n: an assignment whose devices all are on NUMA node n */
} BfResult;

static void
bf_assign(const RandomHost *rh, const PpPlaceVm *v, guint r, guint *chosen, BfResult *ret)
{
  if (r == v->n_requests) {
    gint node = r > 0 ? rh->devs[chosen[0]].numa_node : -1;

    ret->fits = TRUE;
    for (guint k = 1; k < r; k++)
      if (rh->devs[chosen[k]].numa_node != node)
        node = -1;
    if (node >= 0)
      ret->nodes |= 1u << node;
    return;
  }
  for (guint i = 0; i < rh->host.n_devices; i++) {
    gboolean taken = FALSE;

    for (guint k = 0; k < r; k++)
      taken = taken || chosen[k] == i;
    if (taken || !bf_givable(rh, i) || !bf_matches(&v->requests[r], &rh->devs[i]))
      continue;
    chosen[r] = i;
    bf_assign(rh, v, r + 1, chosen, ret);
  }
}

static BfResult
bf_host(const RandomHost *rh, const PpPlaceVm *v)
{
  BfResult ret = { 0 };
  guint chosen[3];

  g_assert_cmpuint(v->n_requests, <=, G_N_ELEMENTS(chosen));
  if (rh->host.state != PP_PLACE_HOST_OK || rh->host.cpu_total < 0 ||
      rh->host.memory_total_kib < 0 || rh->host.cpu_total - rh->host.cpu_used < v->cpu ||
      rh->host.memory_total_kib - rh->host.memory_used_kib < v->memory_kib)
    return ret;
  bf_assign(rh, v, 0, chosen, &ret);
  return ret;
}

/* The placer's answer on @rh is one the brute force allows: each request
 * a distinct givable device that matches it, the companions exactly the
 * other endpoints of their groups, and a NUMA node when one is possible. */
static void
bf_check_placement(const RandomHost *rh, const PpPlaceVm *v, const BfResult *bf,
                   const PpPlacement *got)
{
  g_autoptr(GArray) companions = g_array_new(FALSE, FALSE, sizeof(gint64));

  g_assert_cmpuint(got->device_ids->len, ==, v->n_requests);
  for (guint r = 0; r < v->n_requests; r++) {
    gint i = -1;

    for (guint k = 0; k < rh->host.n_devices; k++)
      if (rh->devs[k].id == device_id(got, r))
        i = (gint)k;
    g_assert_cmpint(i, >=, 0);
    g_assert_true(bf_givable(rh, (guint)i));
    g_assert_true(bf_matches(&v->requests[r], &rh->devs[i]));
    for (guint k = 0; k < r; k++)
      g_assert_cmpint(device_id(got, k), !=, device_id(got, r));
    if (got->numa_node >= 0)
      g_assert_cmpint(rh->devs[i].numa_node, ==, got->numa_node);
    for (guint e = 0; rh->devs[i].group_endpoints != NULL && e < rh->devs[i].n_group_endpoints;
         e++) {
      gint64 id = rh->devs[bf_find(rh, &rh->devs[i].group_endpoints[e])].id;
      gboolean known = FALSE;

      for (guint k = 0; k < v->n_requests; k++)
        known = known || device_id(got, k) == id;
      for (guint k = 0; k < companions->len; k++)
        known = known || g_array_index(companions, gint64, k) == id;
      if (!known)
        g_array_append_val(companions, id);
    }
  }
  g_array_sort(companions, compare_id);
  g_assert_cmpuint(got->companion_ids->len, ==, companions->len);
  for (guint k = 0; k < companions->len; k++)
    g_assert_cmpint(g_array_index(got->companion_ids, gint64, k), ==,
                    g_array_index(companions, gint64, k));
  /* A set of devices on one node is chosen when there is one. */
  if (bf->nodes != 0) {
    g_assert_cmpint(got->numa_node, >=, 0);
    g_assert_true((bf->nodes & (1u << got->numa_node)) != 0);
  } else {
    g_assert_cmpint(got->numa_node, ==, -1);
  }
}

/* Random hosts and VMs, placed and committed one by one; each time, the
 * expected host is the best-ranked of those where the brute force finds
 * an assignment, and the placer's devices are checked against its rules.
 * Covers the indexes and both ways of visiting hosts (a rare device makes
 * the candidates sparse). */
static void
check_random(PpPlacePolicy policy, guint seed)
{
  enum { N_HOSTS = 80, N_VMS = 150 };
  g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
  RandomHost *hosts = g_new0(RandomHost, N_HOSTS);
  g_autoptr(PpPlacer) placer = pp_placer_new(policy);
  guint placed = 0, on_one_node = 0, with_companions = 0;

  for (guint h = 0; h < N_HOSTS; h++) {
    RandomHost *rh = &hosts[h];
    guint n = (guint)g_rand_int_range(rand, 0, 7);

    for (guint i = 0; i < n; i++) {
      /* The last model is rare. */
      guint k = (guint)g_rand_int_range(rand, 0, G_N_ELEMENTS(catalogue) - 1);

      if (g_rand_int_range(rand, 0, 40) == 0)
        k = G_N_ELEMENTS(catalogue) - 1;
      g_snprintf(rh->addresses[i], sizeof(rh->addresses[i]), "0000:%02x:00.%u", i / 2, i % 2);
      rh->devs[i] = dev(h * 10 + i + 1, rh->addresses[i], catalogue[k].vendor, catalogue[k].device,
                        catalogue[k].class_code);
      rh->devs[i].numa_node = g_rand_int_range(rand, -1, 2);
      rh->devs[i].gone = g_rand_int_range(rand, 0, 20) == 0;
      if (g_rand_int_range(rand, 0, 25) == 0)
        rh->devs[i].not_ready = "is on e1000e, not vfio-pci";
    }
    /* Pairs of functions share a group, now and then. */
    for (guint i = 0; i + 1 < n; i += 2) {
      if (g_rand_int_range(rand, 0, 3) != 0)
        continue;
      rh->groups[i][0] = rh->devs[i].address;
      rh->groups[i][1] = rh->devs[i + 1].address;
      rh->devs[i].group_endpoints = rh->devs[i + 1].group_endpoints = rh->groups[i];
      rh->devs[i].n_group_endpoints = rh->devs[i + 1].n_group_endpoints = 2;
      rh->devs[i].iommu_group = rh->devs[i + 1].iommu_group = (gint)(h * 10 + i);
    }
    rh->host = host(h + 1, "h", rh->devs, n);
    rh->host.cpu_total =
        g_rand_int_range(rand, 0, 20) == 0 ? -1 : 400 * g_rand_int_range(rand, 1, 5);
    rh->host.memory_total_kib = (gint64)GIB_KIB * g_rand_int_range(rand, 4, 32);
    if (g_rand_int_range(rand, 0, 20) == 0)
      rh->host.state = PP_PLACE_HOST_DISABLED;
    pp_placer_add_host(placer, &rh->host);
  }

  for (guint n = 0; n < N_VMS; n++) {
    PpPciRequest reqs[3];
    guint n_req = (guint)g_rand_int_range(rand, 0, 4);
    PpPlaceVm v = vm(n + 1, reqs, n_req);
    g_autoptr(PpPlacement) got = NULL;
    gint best = -1;
    BfResult best_bf = { 0 };

    for (guint r = 0; r < n_req; r++) {
      guint k = (guint)g_rand_int_range(rand, 0, G_N_ELEMENTS(catalogue));

      switch (g_rand_int_range(rand, 0, 4)) {
      case 0:
        reqs[r] = req_ids(catalogue[k].vendor, catalogue[k].device, -1, "IDS");
        break;
      case 1:
        reqs[r] = req_ids(-1, -1, catalogue[k].class_code, "CLASS");
        break;
      case 2:
        reqs[r] = req_ids(catalogue[k].vendor, -1, -1, "VENDOR");
        break;
      default:
        reqs[r] = req_address(g_rand_boolean(rand) ? "00:00.0" : "01:00.1", "ADDRESS");
      }
    }
    v.cpu = g_rand_int_range(rand, 1, 300);
    v.memory_kib = g_rand_int_range(rand, 1, 4 * GIB_KIB);

    for (guint h = 0; h < N_HOSTS; h++) {
      BfResult bf = bf_host(&hosts[h], &v);

      if (bf.fits && (best < 0 || rank(policy, &hosts[h], h, &hosts[best], (guint)best) < 0)) {
        best = (gint)h;
        best_bf = bf;
      }
    }
    if (best < 0) {
      g_autoptr(GPtrArray) rejections = NULL;

      g_assert_false(pp_placer_place(placer, &v, &got, &rejections));
      g_assert_cmpuint(rejections->len, ==, N_HOSTS);
      continue;
    }
    g_assert_true(pp_placer_place(placer, &v, &got, NULL));
    g_assert_cmpint(got->host_id, ==, hosts[best].host.id);
    bf_check_placement(&hosts[best], &v, &best_bf, got);
    on_one_node += got->numa_node >= 0;
    with_companions += got->companion_ids->len > 0;
    pp_placer_commit(placer, &v, got);
    /* Apply it to the brute force's view. */
    {
      RandomHost *rh = &hosts[best];

      rh->host.cpu_used += v.cpu;
      rh->host.memory_used_kib += v.memory_kib;
      for (guint i = 0; i < rh->host.n_devices; i++) {
        for (guint k = 0; k < got->device_ids->len; k++)
          if (device_id(got, k) == rh->devs[i].id)
            rh->devs[i].vm_id = v.id;
        for (guint k = 0; k < got->companion_ids->len; k++)
          if (g_array_index(got->companion_ids, gint64, k) == rh->devs[i].id)
            rh->devs[i].vm_id = v.id;
      }
    }
    placed++;
  }
  /* The draw reaches what it is for: most VMs placed, some on one node,
   * some with companions. */
  g_assert_cmpuint(placed, >, N_VMS / 4);
  g_assert_cmpuint(on_one_node, >, 0);
  g_assert_cmpuint(with_companions, >, 0);
  g_free(hosts);
}

static void
test_random(void)
{
  for (guint seed = 1; seed <= 2; seed++) {
    check_random(PP_PLACE_POLICY_PACK, seed);
    check_random(PP_PLACE_POLICY_STRIPE, seed);
  }
}

/* A host replaced in place: a device freed or added wakes (TRUE), one
 * taken does not; the order added is kept for ties; a removed host is
 * neither offered nor explained, and may not be replaced by its id. */
static void
test_set_host(void)
{
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  PpPlaceDevice a[] = { dev(1, "0000:01:00.0", 0x10de, 0x1db4, 0x0302) };
  PpPlaceDevice b[] = { dev(2, "0000:01:00.0", 0x10de, 0x1db4, 0x0302) };
  PpPlaceHost ha = host(10, "a", a, 1), hb = host(20, "b", b, 1);
  PpPciRequest r[] = { req_ids(-1, -1, 0x0302, "CLASS=0302") };
  PpPlaceVm v = vm(7, r, 1);
  g_autoptr(PpPlacement) p = NULL;
  g_autoptr(PpPlacement) q = NULL;
  g_autoptr(GPtrArray) rejections = NULL;

  pp_placer_add_host(placer, &ha);
  pp_placer_add_host(placer, &hb);
  g_assert_cmpuint(pp_placer_get_n_hosts(placer), ==, 2);

  /* Host a's device taken by VM 3, by its word: no gain; b gets the VM. */
  a[0].vm_id = 3;
  g_assert_false(pp_placer_set_host(placer, &ha));
  g_assert_true(pp_placer_place(placer, &v, &p, NULL));
  g_assert_cmpint(p->host_id, ==, 20);
  pp_placer_commit(placer, &v, p);

  /* Nothing left: the reasons keep the order added (a, then b). */
  g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
  g_assert_cmpuint(rejections->len, ==, 2);
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(rejections, 0))->host_name, ==, "a");
  g_clear_pointer(&rejections, g_ptr_array_unref);

  /* a's device freed: a gain, and the VM fits there again. */
  a[0].vm_id = 0;
  g_assert_true(pp_placer_set_host(placer, &ha));
  g_assert_true(pp_placer_place(placer, &v, &q, NULL));
  g_assert_cmpint(q->host_id, ==, 10);

  /* Less memory is no gain; more CPU is. */
  ha.memory_total_kib = 8 * GIB_KIB;
  g_assert_false(pp_placer_set_host(placer, &ha));
  ha.cpu_total = 1600;
  g_assert_true(pp_placer_set_host(placer, &ha));
  /* Disabled: no gain; enabled again: a gain. */
  ha.state = PP_PLACE_HOST_DISABLED;
  g_assert_false(pp_placer_set_host(placer, &ha));
  ha.state = PP_PLACE_HOST_OK;
  g_assert_true(pp_placer_set_host(placer, &ha));

  /* One device freed and another of the same type taken in one report: a
   * gain all the same (a request by address wants the freed one). */
  {
    g_autoptr(PpPlacer) two = pp_placer_new(PP_PLACE_POLICY_PACK);
    PpPlaceDevice nics[] = { dev(41, "0000:01:00.0", 0x8086, 0x1521, 0x0200),
                             dev(42, "0000:02:00.0", 0x8086, 0x1521, 0x0200) };
    PpPlaceHost hn = host(40, "n", nics, 2);
    PpPciRequest by_address[] = { req_address("0000:02:00.0", "ADDRESS=0000:02:00.0") };
    PpPlaceVm wants = vm(8, by_address, 1);

    nics[1].vm_id = 5;
    pp_placer_add_host(two, &hn);
    g_assert_false(pp_placer_place(two, &wants, NULL, NULL));
    nics[0].vm_id = 6;
    nics[1].vm_id = 0;
    g_assert_true(pp_placer_set_host(two, &hn));
    g_assert_true(pp_placer_place(two, &wants, NULL, NULL));
    /* The same again: nothing gained. */
    g_assert_false(pp_placer_set_host(two, &hn));
  }

  /* Removed: not offered, not explained, gone from the count. */
  g_assert_true(pp_placer_remove_host(placer, 10));
  g_assert_false(pp_placer_remove_host(placer, 10));
  g_assert_false(pp_placer_has_host(placer, 10));
  g_assert_cmpuint(pp_placer_get_n_hosts(placer), ==, 1);
  g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
  g_assert_cmpuint(rejections->len, ==, 1);
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(rejections, 0))->host_name, ==, "b");
  /* A new host of a new id comes after the others. */
  ha.id = 30;
  g_assert_true(pp_placer_set_host(placer, &ha));
  g_clear_pointer(&p, pp_placement_free);
  g_assert_true(pp_placer_place(placer, &v, &p, NULL));
  g_assert_cmpint(p->host_id, ==, 30);
}

/* Many hosts, few reasons: groups with counts, in the order of their first
 * host, each naming its first hosts with their own whole reason. */
static void
test_explain_groups(void)
{
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  PpPlaceDevice gpus[100][1];
  PpPlaceHost hosts[100];
  char names[100][16];
  PpPciRequest r[] = { req_ids(-1, -1, 0x0302, "CLASS=0302") };
  PpPlaceVm v = vm(7, r, 1);
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  const PpPlaceReasonGroup *g;
  guint n_hosts = 0, total = 0;

  for (guint i = 0; i < 100; i++) {
    g_snprintf(names[i], sizeof(names[i]), "h%u", i);
    gpus[i][0] = dev(i + 1, "0000:01:00.0", 0x10de, 0x1db4, i < 90 ? 0x0302 : 0x0300);
    gpus[i][0].vm_id = i < 90 ? 1000 + i : 0;
    hosts[i] = host(i + 1, names[i], gpus[i], 1);
    if (i == 3)
      hosts[i].state = PP_PLACE_HOST_DISABLED;
    if (i == 5)
      hosts[i].memory_total_kib = 512 * 1024;
    pp_placer_add_host(placer, &hosts[i]);
  }
  g_assert_false(pp_placer_place(placer, &v, NULL, NULL));
  groups = pp_placer_explain(placer, &v, 3, &n_hosts);
  g_assert_cmpuint(n_hosts, ==, 100);
  g_assert_cmpuint(groups->len, ==, 4);
  for (guint i = 0; i < groups->len; i++)
    total += ((PpPlaceReasonGroup *)g_ptr_array_index(groups, i))->n_hosts;
  g_assert_cmpuint(total, ==, 100);

  g = g_ptr_array_index(groups, 0);
  g_assert_cmpuint(g->n_hosts, ==, 88);
  g_assert_cmpstr(g->summary, ==, "no free device matches PCI[0] (CLASS=0302)");
  g_assert_cmpuint(g->examples->len, ==, 3);
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(g->examples, 0))->host_name, ==, "h0");
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(g->examples, 2))->host_name, ==, "h2");
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(g->examples, 0))->reason, ==,
                  "no free device matches PCI[0] (CLASS=0302): 0000:01:00.0 held by VM 1000");
  g = g_ptr_array_index(groups, 1);
  g_assert_cmpuint(g->n_hosts, ==, 1);
  g_assert_cmpstr(g->summary, ==, "disabled");
  g = g_ptr_array_index(groups, 2);
  g_assert_cmpuint(g->n_hosts, ==, 1);
  g_assert_cmpstr(g->summary, ==, "not enough memory free: needs 1024 MiB");
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(g->examples, 0))->reason, ==,
                  "not enough memory: needs 1024 MiB, 512 MiB free of 512 MiB");
  g = g_ptr_array_index(groups, 3);
  g_assert_cmpuint(g->n_hosts, ==, 10);
  g_assert_cmpstr(g->summary, ==, "no device matches PCI[0] (CLASS=0302)");
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(g->examples, 0))->host_name, ==, "h90");

  /* The example's reason is the host-by-host one. */
  g_assert_false(pp_placer_place(placer, &v, NULL, &rejections));
  g_assert_cmpstr(((PpPlaceRejection *)g_ptr_array_index(rejections, 0))->reason, ==,
                  ((PpPlaceRejection *)g_ptr_array_index(
                       ((PpPlaceReasonGroup *)g_ptr_array_index(groups, 0))->examples, 0))
                      ->reason);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/placement/counter-example", test_counter_example);
  g_test_add_func("/placement/distinct", test_distinct);
  g_test_add_func("/placement/by-address", test_by_address);
  g_test_add_func("/placement/ids-combinations", test_ids_combinations);
  g_test_add_func("/placement/iommu-companions", test_iommu_companions);
  g_test_add_func("/placement/iommu-vmd-domain", test_iommu_vmd_domain);
  g_test_add_func("/placement/iommu-blocked-count", test_iommu_blocked_count);
  g_test_add_func("/placement/not-ready", test_not_ready);
  g_test_add_func("/placement/numa", test_numa);
  g_test_add_func("/placement/policy", test_policy);
  g_test_add_func("/placement/policy-ties", test_policy_ties);
  g_test_add_func("/placement/resources", test_resources);
  g_test_add_func("/placement/states", test_states);
  g_test_add_func("/placement/host-requirement", test_host_requirement);
  g_test_add_func("/placement/commit", test_commit);
  g_test_add_func("/placement/none-free-list", test_none_free_list);
  g_test_add_func("/placement/summary", test_summary);
  g_test_add_func("/placement/hide-holders", test_hide_holders);
  g_test_add_func("/placement/no-requests", test_no_requests);
  g_test_add_func("/placement/random", test_random);
  g_test_add_func("/placement/set-host", test_set_host);
  g_test_add_func("/placement/explain-groups", test_explain_groups);
  g_test_add_func("/placement/pf/none", test_pf_none);
  g_test_add_func("/placement/pf/pack", test_pf_pack);
  g_test_add_func("/placement/pf/spread", test_pf_spread);
  g_test_add_func("/placement/pf/numa", test_pf_numa);
  g_test_add_func("/placement/types", test_types);
  return g_test_run();
}
