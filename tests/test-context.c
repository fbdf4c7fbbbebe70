/* pp-context: context.sh's NIC variables, golden, and quoting that no
 * value breaks out of: each quoted hostile value is read back by a real
 * POSIX shell (/bin/sh, argv only) as exactly itself. */
#include "config.h"

#include <string.h>

#include "pp-context.h"

static PpNetworkSpec *
parse_network(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpNetworkSpec *spec = pp_network_template_parse(text, strlen(text), NULL, NULL, &error);

  g_assert_no_error(error);
  return spec;
}

static void
lease_of(const PpNetworkSpec *spec, guint ar, guint32 index, PpNetworkLease *ret)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(
      pp_network_ar_lease(&g_array_index(spec->ars, PpNetworkAr, ar), index, ret, &error));
  g_assert_no_error(error);
}

/* A bridged NIC on a dual-stack network and a PCI NIC on an 802.1Q one
 * with a static IPv6: every variable, in order. */
static void
test_golden(void)
{
  g_autoptr(PpNetworkSpec) lan = parse_network(
      "NAME = lan\nVN_MAD = bridge\nBRIDGE = br0\nMTU = 9000\n"
      "NETWORK_ADDRESS = 10.0.0.0\nNETWORK_MASK = 255.255.255.0\nGATEWAY = 10.0.0.1\n"
      "DNS = \"10.0.0.2 2001:db8::53\"\nSEARCH_DOMAIN = \"example.org lab.example.org\"\n"
      "GATEWAY6 = \"2001:db8::1\"\n"
      "AR = [ TYPE = IP4_6, IP = 10.0.0.10, MAC = \"02:00:0a:00:00:0a\", "
      "GLOBAL_PREFIX = \"2001:db8::\", ULA_PREFIX = \"fd00::\", SIZE = 8 ]\n");
  g_autoptr(PpNetworkSpec) vlan =
      parse_network("NAME = sriov\nVN_MAD = \"802.1Q\"\nVLAN_ID = 100\nPHYDEV = \"\"\n"
                    "AR = [ TYPE = IP4_6_STATIC, IP = 192.168.5.20, MAC = \"02:00:c0:a8:05:14\", "
                    "IP6 = \"2001:db8:5::20\", PREFIX_LENGTH = 64, SIZE = 4 ]\n");
  PpNetworkLease a, b;
  PpContextNic nics[3] = { { 0 } };
  g_autoptr(GString) out = g_string_new("# context\n");
  g_autoptr(GError) error = NULL;

  lease_of(lan, 0, 2, &a);
  lease_of(vlan, 0, 0, &b);
  nics[0] = (PpContextNic){ PP_VM_NIC_BRIDGE, 0, 0, &a, lan, "lan", -1, 0, FALSE, { 0 } };
  nics[1] = (PpContextNic){ PP_VM_NIC_PCI, 1, 0, &b, vlan, "sriov", 100, 64, TRUE, { 0, 2, 0, 0 } };
  /* A NIC without a network says nothing. */
  nics[2] = (PpContextNic){ PP_VM_NIC_BRIDGE, 2, 0, NULL, NULL, NULL, -1, 0, FALSE, { 0 } };
  g_assert_true(pp_context_append_nics(out, nics, G_N_ELEMENTS(nics), &error));
  g_assert_no_error(error);
  g_assert_cmpstr(out->str, ==,
                  "# context\n"
                  "ETH0_MAC='02:00:0a:00:00:0c'\n"
                  "ETH0_IP='10.0.0.12'\n"
                  "ETH0_MASK='255.255.255.0'\n"
                  "ETH0_GATEWAY='10.0.0.1'\n"
                  "ETH0_DNS='10.0.0.2 2001:db8::53'\n"
                  "ETH0_SEARCH_DOMAIN='example.org lab.example.org'\n"
                  "ETH0_MTU='9000'\n"
                  "ETH0_IP6='2001:db8::aff:fe00:c'\n"
                  "ETH0_IP6_PREFIX_LENGTH='64'\n"
                  "ETH0_IP6_ULA='fd00::aff:fe00:c'\n"
                  "ETH0_IP6_GATEWAY='2001:db8::1'\n"
                  "ETH0_NETWORK='lan'\n"
                  "PCI0_MAC='02:00:c0:a8:05:14'\n"
                  "PCI0_IP='192.168.5.20'\n"
                  "PCI0_VLAN_ID='100'\n"
                  "PCI0_IP6='2001:db8:5::20'\n"
                  "PCI0_IP6_PREFIX_LENGTH='64'\n"
                  "PCI0_NETWORK='sriov'\n"
                  "PCI0_ADDRESS='0000:02:00.0'\n");
}

/* What /bin/sh reads @line (V='...') as. */
static char *
shell_reads(const char *line)
{
  g_autofree char *script = g_strdup_printf("%s\nprintf %%s \"$V\"", line);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  gint status = -1;

  g_assert_true(g_spawn_sync(NULL, (char *[]){ "/bin/sh", "-c", script, NULL }, NULL,
                             G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_assert_cmpstr(err, ==, "");
  return out;
}

/* Hostile values stay values; control characters are refused and leave
 * the text as it was. */
static void
test_quote(void)
{
  static const char *const hostile[] = {
    "it's",     "'",
    "''",       "'; touch /tmp/pcipass-pwned; '",
    "$(id)",    "`id`",
    "${HOME}",  "\\",
    "\\'",      "a\"b",
    "; exit 3", "#",
    "'\\''",    "\xc3\xa9t\xc3\xa9",
    "",
  };
  static const char *const refused[] = { "a\nb", "\r", "tab\there", "\x1b[31m", "del\x7f" };

  for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
    g_autoptr(GString) line = g_string_new("V=");
    g_autofree char *read = NULL;

    g_assert_true(pp_context_quote(line, hostile[i]));
    read = shell_reads(line->str);
    g_assert_cmpstr(read, ==, hostile[i]);
  }
  g_assert_false(g_file_test("/tmp/pcipass-pwned", G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GString) line = g_string_new("V=");

    g_assert_false(pp_context_quote(line, refused[i]));
    g_assert_cmpstr(line->str, ==, "V=");
  }
}

/* A value that cannot be written: the error names the variable, and the
 * text is as it was (no half NIC). */
static void
test_refused(void)
{
  g_autoptr(PpNetworkSpec) lan =
      parse_network("NAME = lan\nVN_MAD = dummy\nAR = [ TYPE = ETHER, MAC = "
                    "\"02:00:00:00:00:01\", SIZE = 2 ]\n");
  PpNetworkLease a;
  PpContextNic nic = { PP_VM_NIC_BRIDGE, 3, 0, &a, lan, "bad\nname", -1, 0, FALSE, { 0 } };
  g_autoptr(GString) out = g_string_new("KEEP='1'\n");
  g_autoptr(GError) error = NULL;

  lease_of(lan, 0, 1, &a);
  g_assert_false(pp_context_append_nics(out, &nic, 1, &error));
  g_assert_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "ETH3_NETWORK: a value with a control character cannot be written");
  g_assert_cmpstr(out->str, ==, "KEEP='1'\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/context/golden", test_golden);
  g_test_add_func("/context/quote", test_quote);
  g_test_add_func("/context/refused", test_refused);
  return g_test_run();
}
