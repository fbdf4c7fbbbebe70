/* The vfio plans: which sysfs writes, in which order, for each state a
 * device can be in; and IOMMU group expansion. Pure logic. */
#include "config.h"

#include <string.h>

#include "pp-test-util.h"
#include "pp-vfio-plan.h"

/* The plan as lines, to compare whole. */
static char *
describe(GPtrArray *plan)
{
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < plan->len; i++) {
    g_autofree char *line = pp_vfio_step_describe(g_ptr_array_index(plan, i));

    g_string_append_printf(s, "%s\n", line);
  }
  return g_string_free(s, FALSE);
}

static PpPciDevice *
device(const char *bdf, const char *driver, const char *override)
{
  PpPciDevice *dev = pp_test_device_new(bdf, 0x8086, 0x10d3, 0x020000, "82574L");

  dev->driver = g_strdup(driver);
  dev->driver_override = g_strdup(override);
  return dev;
}

static void
test_bind_bound(void)
{
  g_autoptr(PpPciDevice) dev = device("0000:01:00.0", "e1000e", NULL);
  g_autoptr(GPtrArray) plan = pp_vfio_plan_new();
  g_autofree char *text = NULL;

  pp_vfio_plan_bind(plan, dev);
  text = describe(plan);
  g_assert_cmpstr(text, ==,
                  "0000:01:00.0: record its driver, e1000e\n"
                  "write 'vfio-pci' to bus/pci/devices/0000:01:00.0/driver_override\n"
                  "write '0000:01:00.0' to bus/pci/drivers/e1000e/unbind\n"
                  "0000:01:00.0: expect no driver\n"
                  "write '0000:01:00.0' to bus/pci/drivers_probe\n"
                  "0000:01:00.0: expect vfio-pci\n");
}

static void
test_bind_unbound_and_idempotent(void)
{
  g_autoptr(PpPciDevice) free_dev = device("0000:02:00.0", NULL, NULL);
  g_autoptr(PpPciDevice) done = device("0000:03:00.0", "vfio-pci", "vfio-pci");
  g_autoptr(GPtrArray) plan = pp_vfio_plan_new();
  g_autofree char *text = NULL;

  pp_vfio_plan_bind(plan, done);
  g_assert_cmpuint(plan->len, ==, 0);
  pp_vfio_plan_bind(plan, free_dev);
  text = describe(plan);
  g_assert_cmpstr(text, ==,
                  "0000:02:00.0: record its driver, none\n"
                  "write 'vfio-pci' to bus/pci/devices/0000:02:00.0/driver_override\n"
                  "write '0000:02:00.0' to bus/pci/drivers_probe\n"
                  "0000:02:00.0: expect vfio-pci\n");
}

static void
test_restore(void)
{
  static const char *const loaded_names[] = { "e1000e", "vfio-pci", NULL };
  g_autoptr(GPtrArray) loaded = g_ptr_array_new();
  static const struct {
    const char *driver, *override, *original, *plan;
  } cases[] = {
    /* Bound by us: back to its driver. */
    { "vfio-pci", "vfio-pci", "e1000e",
      "write '0000:01:00.0' to bus/pci/drivers/vfio-pci/unbind\n"
      "0000:01:00.0: expect no driver\n"
      "write '\\n' to bus/pci/devices/0000:01:00.0/driver_override\n"
      "write '0000:01:00.0' to bus/pci/drivers/e1000e/bind\n"
      "0000:01:00.0: expect e1000e\n"
      "0000:01:00.0: forget its record\n" },
    /* No record: the kernel chooses. */
    { "vfio-pci", "vfio-pci", NULL,
      "write '0000:01:00.0' to bus/pci/drivers/vfio-pci/unbind\n"
      "0000:01:00.0: expect no driver\n"
      "write '\\n' to bus/pci/devices/0000:01:00.0/driver_override\n"
      "write '0000:01:00.0' to bus/pci/drivers_probe\n"
      "0000:01:00.0: forget its record\n" },
    /* Its driver's module is gone: the kernel chooses. */
    { "vfio-pci", "vfio-pci", "igb",
      "write '0000:01:00.0' to bus/pci/drivers/vfio-pci/unbind\n"
      "0000:01:00.0: expect no driver\n"
      "write '\\n' to bus/pci/devices/0000:01:00.0/driver_override\n"
      "write '0000:01:00.0' to bus/pci/drivers_probe\n"
      "0000:01:00.0: forget its record\n" },
    /* Stopped between unbind and probe: override cleared, driver back. */
    { NULL, "vfio-pci", "e1000e",
      "write '\\n' to bus/pci/devices/0000:01:00.0/driver_override\n"
      "write '0000:01:00.0' to bus/pci/drivers/e1000e/bind\n"
      "0000:01:00.0: expect e1000e\n"
      "0000:01:00.0: forget its record\n" },
    /* Stopped after the override only: it is still on its driver. */
    { "e1000e", "vfio-pci", "e1000e",
      "write '\\n' to bus/pci/devices/0000:01:00.0/driver_override\n"
      "0000:01:00.0: forget its record\n" },
    /* Already back: only the record goes. */
    { "e1000e", NULL, "e1000e", "0000:01:00.0: forget its record\n" },
    { NULL, NULL, NULL, "0000:01:00.0: forget its record\n" },
    { NULL, NULL, "", "0000:01:00.0: forget its record\n" },
  };

  for (guint i = 0; loaded_names[i] != NULL; i++)
    g_ptr_array_add(loaded, (gpointer)loaded_names[i]);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpPciDevice) dev = device("0000:01:00.0", cases[i].driver, cases[i].override);
    g_autoptr(GPtrArray) plan = pp_vfio_plan_new();
    g_autofree char *text = NULL;

    pp_vfio_plan_restore(plan, dev, cases[i].original, loaded);
    text = describe(plan);
    if (strcmp(text, cases[i].plan) != 0) {
      g_autofree char *got = g_strescape(text, NULL);
      g_autofree char *want = g_strescape(cases[i].plan, NULL);

      g_error("case %u: got '%s', want '%s'", i, got, want);
    }
  }
}

static void
test_group_members(void)
{
  g_autoptr(GPtrArray) devices = g_ptr_array_new_with_free_func((GDestroyNotify)pp_pci_device_free);
  g_autoptr(GPtrArray) gpu_group = NULL;
  g_autoptr(GPtrArray) alone = NULL;
  PpPciDevice *port, *gpu, *audio, *nic, *nogroup;

  /* A root port, a GPU and its audio function share group 1. */
  port = pp_test_device_new("0000:00:01.0", 0x8086, 0x1901, 0x060400, "root port");
  gpu = pp_test_device_new("0000:01:00.0", 0x10de, 0x1b80, 0x030000, "GPU");
  audio = pp_test_device_new("0000:01:00.1", 0x10de, 0x10f0, 0x040300, "audio");
  nic = pp_test_device_new("0000:02:00.0", 0x8086, 0x10d3, 0x020000, "NIC");
  nogroup = pp_test_device_new("0000:03:00.0", 0x8086, 0x10d3, 0x020000, "NIC");
  port->iommu_group = gpu->iommu_group = audio->iommu_group = 1;
  nic->iommu_group = 2;
  g_ptr_array_add(devices, port);
  g_ptr_array_add(devices, gpu);
  g_ptr_array_add(devices, audio);
  g_ptr_array_add(devices, nic);
  g_ptr_array_add(devices, nogroup);

  gpu_group = pp_vfio_group_members(devices, audio);
  g_assert_cmpuint(gpu_group->len, ==, 2);
  g_assert_true(g_ptr_array_index(gpu_group, 0) == gpu);
  g_assert_true(g_ptr_array_index(gpu_group, 1) == audio);
  g_assert_true(pp_vfio_is_bridge(port));
  g_assert_false(pp_vfio_is_bridge(gpu));
  /* With the header known, it decides: a host bridge (0600) and an ISA
   * bridge (0601) are type 0, endpoints for vfio; a PCI bridge is type 1. */
  {
    g_autoptr(PpPciDevice) host = pp_test_device_new("0000:00:00.0", 0x8086, 1, 0x060000, "h");
    g_autoptr(PpPciDevice) isa = pp_test_device_new("0000:00:1f.0", 0x8086, 2, 0x060100, "i");
    g_autoptr(PpPciDevice) p2p = pp_test_device_new("0000:00:1c.0", 0x8086, 3, 0x060400, "p");
    g_autoptr(PpPciDevice) cardbus = pp_test_device_new("0000:00:1e.0", 0x8086, 4, 0x060700, "c");

    g_assert_false(pp_vfio_is_bridge(host));
    g_assert_false(pp_vfio_is_bridge(isa));
    g_assert_true(pp_vfio_is_bridge(p2p));
    g_assert_true(pp_vfio_is_bridge(cardbus));
    p2p->header_type = 0;
    g_assert_false(pp_vfio_is_bridge(p2p));
    isa->header_type = 1;
    g_assert_true(pp_vfio_is_bridge(isa));
  }
  alone = pp_vfio_group_members(devices, nogroup);
  g_assert_cmpuint(alone->len, ==, 1);
  g_assert_true(pp_vfio_find_device(devices, &nic->address) == nic);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vfio-plan/bind-bound", test_bind_bound);
  g_test_add_func("/vfio-plan/bind-unbound-idempotent", test_bind_unbound_and_idempotent);
  g_test_add_func("/vfio-plan/restore", test_restore);
  g_test_add_func("/vfio-plan/group-members", test_group_members);
  return g_test_run();
}
