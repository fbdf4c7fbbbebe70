/* PCI addresses, lspci -d patterns and the three-list filter: pure logic. */
#include "config.h"

#include <string.h>

#include "pp-pci-address.h"
#include "pp-pci-device.h"
#include "pp-pci-filter.h"
#include "pp-test-util.h"

static void
test_address_parse(void)
{
  static const struct {
    const char *text;
    guint32 domain;
    guint bus, slot, function;
    const char *full, *short_, *one;
  } ok[] = {
    { "0000:3b:00.1", 0, 0x3b, 0, 1, "0000:3b:00.1", "3b:00.1", "0000:3b:00:1" },
    { "3b:00.1", 0, 0x3b, 0, 1, "0000:3b:00.1", "3b:00.1", "0000:3b:00:1" },
    { "3B:1F.7", 0, 0x3b, 0x1f, 7, "0000:3b:1f.7", "3b:1f.7", "0000:3b:1f:7" },
    { "10000:00:04.0", 0x10000, 0, 4, 0, "10000:00:04.0", "10000:00:04.0", "10000:00:04:0" },
    { "0002:01:00.0", 2, 1, 0, 0, "0002:01:00.0", "0002:01:00.0", "0002:01:00:0" },
  };
  static const char *const bad[] = {
    "",
    "3b",
    "3b:00",
    "3b:00.",
    "3b:00.8",
    "3b:20.0",
    "3b:00.1x",
    "0000:3b:00:1",
    "zz:00.0",
    "123:00.0",
    "0000:3b:00.1 ",
    " 3b:00.1",
    "1:2:3:4.0",
    "123456789:00:00.0",
  };

  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autoptr(GError) error = NULL;
    PpPciAddress a;
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_assert_true(pp_pci_address_parse(ok[i].text, &a, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(a.domain, ==, ok[i].domain);
    g_assert_cmpuint(a.bus, ==, ok[i].bus);
    g_assert_cmpuint(a.slot, ==, ok[i].slot);
    g_assert_cmpuint(a.function, ==, ok[i].function);
    g_assert_cmpstr(pp_pci_address_format(&a, buf), ==, ok[i].full);
    g_assert_cmpstr(pp_pci_address_format_short(&a, buf), ==, ok[i].short_);
    g_assert_cmpstr(pp_pci_address_format_one(&a, buf), ==, ok[i].one);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *quoted = g_strdup_printf("'%s' is not a PCI address", bad[i]);
    PpPciAddress a = { 9, 9, 9, 9 };

    if (pp_pci_address_parse(bad[i], &a, &error))
      g_error("'%s' parsed", bad[i]);
    g_assert_error(error, PP_PCI_ADDRESS_ERROR, PP_PCI_ADDRESS_ERROR_INVALID);
    g_assert_true(g_str_has_prefix(error->message, quoted));
    /* Nothing written on failure. */
    g_assert_cmpuint(a.domain, ==, 9);
  }
}

static void
test_address_compare(void)
{
  PpPciAddress a, b, c;

  g_assert_true(pp_pci_address_parse("0000:00:1f.3", &a, NULL));
  g_assert_true(pp_pci_address_parse("0000:01:00.0", &b, NULL));
  g_assert_true(pp_pci_address_parse("10000:00:00.0", &c, NULL));
  g_assert_cmpint(pp_pci_address_compare(&a, &b), <, 0);
  g_assert_cmpint(pp_pci_address_compare(&b, &c), <, 0);
  g_assert_cmpint(pp_pci_address_compare(&c, &a), >, 0);
  g_assert_true(pp_pci_address_equal(&a, &a));
}

static void
test_pattern_parse(void)
{
  static const struct {
    const char *text;
    gint32 vendor, device, class_;
  } ok[] = {
    { "10de:*", 0x10de, -1, -1 },
    { "10de:11bf", 0x10de, 0x11bf, -1 },
    { "*:10d3", -1, 0x10d3, -1 },
    { "8086::0c03", 0x8086, -1, 0x0c03 },
    { "*:*", -1, -1, -1 },
    { "0:0", 0, 0, -1 },
    { ":", -1, -1, -1 },
    { "::0200", -1, -1, 0x0200 },
    { " 10DE:11BF ", 0x10de, 0x11bf, -1 },
    { "10de:11bf:0300", 0x10de, 0x11bf, 0x0300 },
    { "*:*:*", -1, -1, -1 },
  };
  static const struct {
    const char *text, *reason;
  } bad[] = {
    { "1af4", "it needs at least one ':'" }, { "", "it needs at least one ':'" },
    { "1:2:3:4", "more than two ':'" },      { "10de0:*", "the vendor '10de0'" },
    { "10de:xyz", "the device 'xyz'" },      { "10de:11bf:03000", "the class '03000'" },
    { "-1:*", "the vendor '-1'" },           { "10 de:*", "the vendor '10 de'" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    PpPciIdPattern p;
    g_autoptr(GError) error = NULL;

    g_assert_true(pp_pci_id_pattern_parse(ok[i].text, &p, &error));
    g_assert_no_error(error);
    g_assert_cmpint(p.vendor, ==, ok[i].vendor);
    g_assert_cmpint(p.device, ==, ok[i].device);
    g_assert_cmpint(p.class_, ==, ok[i].class_);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    PpPciIdPattern p;
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_pci_id_pattern_parse(bad[i].text, &p, &error));
    g_assert_error(error, PP_PCI_FILTER_ERROR, PP_PCI_FILTER_ERROR_INVALID);
    if (strstr(error->message, bad[i].reason) == NULL)
      g_error("'%s': got '%s', want '%s'", bad[i].text, error->message, bad[i].reason);
  }
}

static void
add_pattern(PpPciFilter *f, const char *text)
{
  PpPciIdPattern p;

  g_assert_true(pp_pci_id_pattern_parse(text, &p, NULL));
  pp_pci_filter_add_id_pattern(f, &p);
}

static void
test_filter_match(void)
{
  g_autoptr(PpPciDevice) gpu =
      pp_test_device_new("0000:3b:00.0", 0x10de, 0x11bf, 0x030000, "GK104GL [GRID K2]");
  g_autoptr(PpPciDevice) nic = pp_test_device_new("0000:04:00.0", 0x8086, 0x10d3, 0x020000,
                                                  "82574L Gigabit Network Connection");
  g_autoptr(PpPciDevice) usb =
      pp_test_device_new("0000:00:14.0", 0x8086, 0x9c31, 0x0c0330, "8 Series USB xHCI HC");
  g_autoptr(PpPciFilter) f = pp_pci_filter_new();
  g_autoptr(PpPciFilter) g = pp_pci_filter_new();
  g_autoptr(GError) error = NULL;
  PpPciAddress addr;

  /* No pattern: nothing. */
  g_assert_false(pp_pci_filter_match(f, gpu));
  add_pattern(f, "10de:*");
  add_pattern(f, "8086::0c03");
  g_assert_true(pp_pci_filter_match(f, gpu));
  g_assert_false(pp_pci_filter_match(f, nic));
  g_assert_true(pp_pci_filter_match(f, usb));

  /* Addresses restrict (AND). */
  g_assert_true(pp_pci_address_parse("00:14.0", &addr, NULL));
  pp_pci_filter_add_address(f, &addr);
  g_assert_false(pp_pci_filter_match(f, gpu));
  g_assert_true(pp_pci_filter_match(f, usb));

  /* Names restrict too, case-insensitively. */
  add_pattern(g, "*:*");
  g_assert_true(pp_pci_filter_add_name_regex(g, "gigabit", &error));
  g_assert_true(pp_pci_filter_add_name_regex(g, "^GK104", &error));
  g_assert_true(pp_pci_filter_match(g, nic));
  g_assert_true(pp_pci_filter_match(g, gpu));
  g_assert_false(pp_pci_filter_match(g, usb));
  g_assert_false(pp_pci_filter_add_name_regex(g, "[unclosed", &error));
  g_assert_nonnull(error);
  /* A failed regex adds nothing. */
  g_assert_false(pp_pci_filter_match(g, usb));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pci-address/parse-format", test_address_parse);
  g_test_add_func("/pci-address/compare", test_address_compare);
  g_test_add_func("/pci-filter/pattern-parse", test_pattern_parse);
  g_test_add_func("/pci-filter/match", test_filter_match);
  return g_test_run();
}
