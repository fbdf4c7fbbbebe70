/* Virtual networks (pp-network): typed addresses and their arithmetic,
 * EUI-64, every attribute and AR key of a network template with its exact
 * error, the leases of every range type (first, last, past the end),
 * overflow at the ends of the address spaces, overlaps, and finding a
 * requested address. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pp-network.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static PpNetworkSpec *
parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpNetworkSpec *spec = pp_network_template_parse(text, strlen(text), NULL, NULL, &error);

  if (spec == NULL)
    g_error("'%s' should parse: %s", text, error->message);
  g_assert_no_error(error);
  return spec;
}

/* Parses @text, which must fail with exactly @message, at @line:@column
 * (0:0 for an error without a position). */
static void
parse_fails_at(const char *text, guint line, guint column, const char *message)
{
  g_autoptr(GError) error = NULL;
  PpTextPos pos = { 99, 99 };
  PpNetworkSpec *spec = pp_network_template_parse(text, strlen(text), NULL, &pos, &error);

  if (spec != NULL)
    g_error("'%s' parsed, but should fail with '%s'", text, message);
  g_assert_nonnull(error);
  if (strcmp(error->message, message) != 0)
    g_error("'%s':\n got '%s'\nwant '%s'", text, error->message, message);
  g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID);
  g_assert_cmpstr(g_quark_to_string(error->domain), ==, "pp-network-error-quark");
  g_assert_cmpuint(pos.line, ==, line);
  g_assert_cmpuint(pos.column, ==, column);
}

/* The message must start with "line L, column C: ", and that is where the
 * error is. */
static void
parse_fails(const char *text, const char *message)
{
  guint line = 0, column = 0;

  if (sscanf(message, "line %u, column %u: ", &line, &column) != 2)
    line = column = 0;
  parse_fails_at(text, line, column, message);
}

#define HEAD "NAME = \"net\"\nVN_MAD = \"dummy\"\n"
#define AR4 "AR = [ TYPE = \"IP4\", IP = \"10.0.0.1\", SIZE = 10 ]\n"

static const PpNetworkAr *
ar(const PpNetworkSpec *spec, guint i)
{
  g_assert_cmpuint(i, <, spec->ars->len);
  return &g_array_index(spec->ars, PpNetworkAr, i);
}

static char *
mac_str(const PpMac *mac)
{
  char buf[PP_MAC_BUFSIZE];

  return g_strdup(pp_mac_format(mac, buf));
}

static char *
ip4_str(const PpIp4 *ip)
{
  char buf[PP_IP4_BUFSIZE];

  return g_strdup(pp_ip4_format(ip, buf));
}

static char *
ip6_str(const PpIp6 *ip)
{
  char buf[PP_IP6_BUFSIZE];

  return g_strdup(pp_ip6_format(ip, buf));
}

#define assert_mac(mac, want)                                                                      \
  do {                                                                                             \
    g_autofree char *got_ = mac_str(mac);                                                          \
    g_assert_cmpstr(got_, ==, want);                                                               \
  } while (0)
#define assert_ip4(ip, want)                                                                       \
  do {                                                                                             \
    g_autofree char *got_ = ip4_str(ip);                                                           \
    g_assert_cmpstr(got_, ==, want);                                                               \
  } while (0)
#define assert_ip6(ip, want)                                                                       \
  do {                                                                                             \
    g_autofree char *got_ = ip6_str(ip);                                                           \
    g_assert_cmpstr(got_, ==, want);                                                               \
  } while (0)

static PpMac
mac(const char *s)
{
  PpMac m;

  g_assert_true(pp_mac_parse(s, &m, NULL));
  return m;
}

static PpIp4
ip4(const char *s)
{
  PpIp4 ip;

  g_assert_true(pp_ip4_parse(s, &ip, NULL));
  return ip;
}

static PpIp6
ip6(const char *s)
{
  PpIp6 ip;

  g_assert_true(pp_ip6_parse(s, &ip, NULL));
  return ip;
}

static void
lease_ok(const PpNetworkAr *range, guint32 index, PpNetworkLease *ret)
{
  g_autoptr(GError) error = NULL;

  if (!pp_network_ar_lease(range, index, ret, &error))
    g_error("lease %u: %s", index, error->message);
}

static void
lease_fails(const PpNetworkAr *range, guint32 index, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  PpNetworkLease lease;

  memset(&lease, 0xaa, sizeof(lease));
  g_assert_false(pp_network_ar_lease(range, index, &lease, &error));
  g_assert_error(error, PP_NETWORK_ERROR, code);
  g_assert_cmpstr(error->message, ==, message);
  /* Nothing written. */
  g_assert_cmpuint(lease.mac.bytes[0], ==, 0xaa);
}

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

static void
test_mac(void)
{
  static const char *const bad[] = {
    "",
    "02-00-0a-00-00-01",
    "2:0:a:0:0:1",
    "02:00:0a:00:00",
    "02:00:0a:00:00:01:02",
    "0200.0a00.0001",
    "02:00:0a:00:00:0g",
    "02:00:0a:00:00:01 ",
    " 02:00:0a:00:00:01",
    "02:00:0a:00:00:1",
    "02::0a:00:00:001",
  };
  g_autoptr(GError) error = NULL;
  PpMac m = mac("02:00:0A:00:00:fF"), untouched = mac("52:54:00:12:34:56");

  assert_mac(&m, "02:00:0a:00:00:ff");
  g_assert_true(pp_mac_is_unicast(&m));
  m = mac("01:00:5e:00:00:01");
  g_assert_false(pp_mac_is_unicast(&m));

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    PpMac got = untouched;

    g_clear_error(&error);
    if (pp_mac_parse(bad[i], &got, &error))
      g_error("MAC '%s' parsed", bad[i]);
    g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID);
    g_assert_cmpint(pp_mac_compare(&got, &untouched), ==, 0);
  }
  g_clear_error(&error);
  g_assert_false(pp_mac_parse("02-00-0a-00-00-01", &m, &error));
  g_assert_cmpstr(error->message, ==,
                  "'02-00-0a-00-00-01' is not a MAC address: six pairs of hex digits separated "
                  "by ':' (as 02:00:0a:00:00:01)");

  /* As 48-bit numbers. */
  m = mac("02:00:0a:00:00:01");
  g_assert_cmphex(pp_mac_to_u64(&m), ==, G_GUINT64_CONSTANT(0x02000a000001));
  pp_mac_from_u64(G_GUINT64_CONSTANT(0xffff02000a0000ff), &m);
  assert_mac(&m, "02:00:0a:00:00:ff");
  {
    PpMac a = mac("02:00:0a:00:00:01"), b = mac("02:00:0a:00:01:00");

    g_assert_cmpint(pp_mac_compare(&a, &b), <, 0);
    g_assert_cmpint(pp_mac_compare(&b, &a), >, 0);
    g_assert_cmpint(pp_mac_compare(&a, &a), ==, 0);
  }
}

static void
test_mac_add(void)
{
  PpMac m = mac("02:00:0a:00:00:ff"), sum, untouched = mac("52:54:00:00:00:00");

  g_assert_true(pp_mac_add(&m, 1, &sum));
  assert_mac(&sum, "02:00:0a:00:01:00");
  /* Carries through the whole 48 bits, not the low 32 as OpenNebula. */
  m = mac("02:00:ff:ff:ff:ff");
  g_assert_true(pp_mac_add(&m, 1, &sum));
  assert_mac(&sum, "02:01:00:00:00:00");
  m = mac("ff:ff:ff:ff:ff:fe");
  g_assert_true(pp_mac_add(&m, 1, &sum));
  assert_mac(&sum, "ff:ff:ff:ff:ff:ff");
  sum = untouched;
  g_assert_false(pp_mac_add(&m, 2, &sum));
  g_assert_false(pp_mac_add(&m, G_MAXUINT64, &sum));
  g_assert_cmpint(pp_mac_compare(&sum, &untouched), ==, 0);
}

static void
test_mac_prefix(void)
{
  g_autoptr(GError) error = NULL;
  PpMacPrefix prefix = { { 0x55, 0x55 } };
  PpMac m;

  g_assert_true(pp_mac_prefix_parse("02:00", &prefix, NULL));
  g_assert_cmphex(prefix.bytes[0], ==, 0x02);
  g_assert_cmphex(prefix.bytes[1], ==, 0x00);
  g_assert_true(pp_mac_prefix_parse("0A:fE", &prefix, NULL));
  g_assert_cmphex(prefix.bytes[0], ==, 0x0a);
  g_assert_cmphex(prefix.bytes[1], ==, 0xfe);

  g_assert_false(pp_mac_prefix_parse("0200", &prefix, &error));
  g_assert_cmpstr(error->message, ==,
                  "'0200' is not a MAC prefix: two pairs of hex digits separated by ':' (as "
                  "02:00)");
  g_clear_error(&error);
  g_assert_false(pp_mac_prefix_parse("03:00", &prefix, &error));
  g_assert_cmpstr(error->message, ==,
                  "the MAC prefix '03:00' is multicast (bit 0 of its first byte is set): a NIC's "
                  "MAC is unicast (as 02:00)");
  g_assert_cmphex(prefix.bytes[0], ==, 0x0a);

  /* OpenNebula's rule: MAC_PREFIX:IP. */
  prefix = PP_MAC_PREFIX_DEFAULT;
  pp_mac_generate(&prefix, 0x0a000001, &m);
  assert_mac(&m, "02:00:0a:00:00:01");
  pp_mac_generate(&prefix, 0xffffffff, &m);
  assert_mac(&m, "02:00:ff:ff:ff:ff");
}

static void
test_ip4(void)
{
  static const char *const bad[] = {
    "",           "10.0.0",     "10.0.0.256", "010.0.0.1", "10.0.0.1 ",
    "1.2.3.4/24", "0x0a.0.0.1", "10.0.0.1.",  "-1.0.0.0",  "::1",
  };
  g_autoptr(GError) error = NULL;
  PpIp4 ip, sum, untouched = ip4("1.2.3.4");

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    PpIp4 got = untouched;

    g_clear_error(&error);
    if (pp_ip4_parse(bad[i], &got, &error))
      g_error("IPv4 '%s' parsed", bad[i]);
    g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID);
    g_assert_cmpint(pp_ip4_compare(&got, &untouched), ==, 0);
  }
  g_assert_cmpstr(error->message, ==, "'::1' is not an IPv4 address (as 10.0.0.1)");

  ip = ip4("10.0.0.1");
  g_assert_cmphex(pp_ip4_to_u32(&ip), ==, 0x0a000001);
  assert_ip4(&ip, "10.0.0.1");
  pp_ip4_from_u32(0xc0a801fe, &ip);
  assert_ip4(&ip, "192.168.1.254");

  ip = ip4("10.0.0.255");
  g_assert_true(pp_ip4_add(&ip, 1, &sum));
  assert_ip4(&sum, "10.0.1.0");
  ip = ip4("255.255.255.254");
  g_assert_true(pp_ip4_add(&ip, 1, &sum));
  assert_ip4(&sum, "255.255.255.255");
  sum = untouched;
  g_assert_false(pp_ip4_add(&ip, 2, &sum));
  g_assert_false(pp_ip4_add(&ip, G_GUINT64_CONSTANT(1) << 32, &sum));
  g_assert_cmpint(pp_ip4_compare(&sum, &untouched), ==, 0);
  ip = ip4("0.0.0.0");
  g_assert_true(pp_ip4_add(&ip, G_MAXUINT32, &sum));
  assert_ip4(&sum, "255.255.255.255");
}

static void
test_ip6(void)
{
  g_autoptr(GError) error = NULL;
  PpIp6 ip = ip6("2001:DB8:0:0:0:0:0:1"), sum, untouched = ip6("::1");

  assert_ip6(&ip, "2001:db8::1");
  g_assert_false(pp_ip6_parse("2001:db8::1/64", &sum, &error));
  g_assert_cmpstr(error->message, ==, "'2001:db8::1/64' is not an IPv6 address (as 2001:db8::1)");
  g_assert_false(pp_ip6_parse("10.0.0.1", &sum, NULL));
  g_assert_false(pp_ip6_parse("fe80::1%eth0", &sum, NULL));
  g_assert_false(pp_ip6_parse("2001:db8:::1", &sum, NULL));

  /* Carries over the 64-bit boundary. */
  ip = ip6("2001:db8::ffff:ffff:ffff:ffff");
  g_assert_true(pp_ip6_add(&ip, 1, &sum));
  assert_ip6(&sum, "2001:db8:0:1::");
  ip = ip6("2001:db8::ffff:ffff:ffff:fff0");
  g_assert_true(pp_ip6_add(&ip, G_MAXUINT64, &sum));
  assert_ip6(&sum, "2001:db8:0:1:ffff:ffff:ffff:ffef");
  ip = ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
  g_assert_true(pp_ip6_add(&ip, 1, &sum));
  assert_ip6(&sum, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  sum = untouched;
  g_assert_false(pp_ip6_add(&ip, 2, &sum));
  g_assert_cmpint(pp_ip6_compare(&sum, &untouched), ==, 0);
}

/* RFC 4291 appendix A: the modified EUI-64 of a MAC inverts the
 * universal/local bit and puts ff:fe between its halves. */
static void
test_eui64(void)
{
  static const struct {
    const char *prefix, *mac, *want;
  } vectors[] = {
    /* RFC 4291 appendix A's IEEE 802 example, 34-56-78-9A-BC-DE. */
    { "fe80::", "34:56:78:9a:bc:de", "fe80::3656:78ff:fe9a:bcde" },
    /* OpenNebula's first MAC of 10.0.0.1: the U/L bit of 02 flips to 00.
     * (2001:db8::aff:fe00:1, not ::ff:fe0a:1: ff:fe goes after the third
     * byte.) */
    { "2001:db8::", "02:00:0a:00:00:01", "2001:db8::aff:fe00:1" },
    { "2001:db8:1:2::", "02:00:c0:a8:01:02", "2001:db8:1:2:0:c0ff:fea8:102" },
    /* A universally administered MAC gets the bit set. */
    { "2001:db8::", "00:00:00:00:00:00", "2001:db8::200:ff:fe00:0" },
    { "fd00:1:2:3::", "52:54:00:12:34:56", "fd00:1:2:3:5054:ff:fe12:3456" },
    /* Only the prefix's upper 64 bits count. */
    { "2001:db8::1234:5678", "02:00:0a:00:00:01", "2001:db8::aff:fe00:1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(vectors); i++) {
    PpIp6 prefix = ip6(vectors[i].prefix), got;
    PpMac m = mac(vectors[i].mac);

    pp_ip6_eui64(&prefix, &m, &got);
    assert_ip6(&got, vectors[i].want);
  }
}

/* ------------------------------------------------------------------------ */
/* Templates                                                                 */
/* ------------------------------------------------------------------------ */

static void
test_minimal(void)
{
  g_autoptr(PpNetworkSpec) spec = parse_ok(HEAD AR4);

  g_assert_cmpstr(spec->name, ==, "net");
  g_assert_cmpint(spec->vn_mad, ==, PP_NETWORK_VN_MAD_DUMMY);
  g_assert_null(spec->bridge);
  g_assert_null(spec->phydev);
  g_assert_cmpint(spec->vlan_id, ==, -1);
  g_assert_cmpuint(spec->mtu, ==, 0);
  g_assert_false(spec->has_network);
  g_assert_false(spec->has_gateway);
  g_assert_false(spec->has_gateway6);
  g_assert_cmpuint(spec->dns->len, ==, 0);
  g_assert_cmpuint(g_strv_length(spec->search_domains), ==, 0);
  g_assert_cmpuint(spec->ars->len, ==, 1);
  g_assert_cmpint(ar(spec, 0)->type, ==, PP_NETWORK_AR_IP4);
  g_assert_cmpuint(ar(spec, 0)->size, ==, 10);
  assert_ip4(&ar(spec, 0)->ip, "10.0.0.1");
  g_assert_true(ar(spec, 0)->has_mac);
  g_assert_false(ar(spec, 0)->mac_given);
  assert_mac(&ar(spec, 0)->mac, "02:00:0a:00:00:01");
  g_assert_cmpuint(ar(spec, 0)->pos.line, ==, 3);
  g_assert_cmpuint(ar(spec, 0)->pos.column, ==, 1);
  g_assert_nonnull(spec->tmpl);
}

/* The guide's advice for a network of PCI NICs: "use either the dummy
 * network driver or the 802.1Q if you are using VLAN. In any case, type
 * any random value into the BRIDGE field, and it will be ignored. For
 * 802.1Q you can also leave PHYDEV blank." Its VM example names the
 * network "passthrough", owned by oneadmin. */
static void
test_guide(void)
{
  g_autoptr(PpNetworkSpec) dummy = NULL;
  g_autoptr(PpNetworkSpec) vlan = NULL;

  dummy = parse_ok("NAME = \"passthrough\"\n"
                   "VN_MAD = \"dummy\"\n"
                   "BRIDGE = \"random\"\n"
                   "AR = [ TYPE = \"IP4\", IP = \"192.168.100.10\", SIZE = \"20\" ]\n");
  g_assert_cmpstr(dummy->name, ==, "passthrough");
  g_assert_cmpstr(dummy->bridge, ==, "random");
  g_assert_cmpint(dummy->vlan_id, ==, -1);

  vlan = parse_ok("NAME = \"passthrough\"\n"
                  "VN_MAD = \"802.1Q\"\n"
                  "BRIDGE = \"whatever\"\n"
                  "PHYDEV = \"\"\n"
                  "VLAN_ID = 50\n"
                  "NETWORK_ADDRESS = \"192.168.100.0\"\n"
                  "NETWORK_MASK = \"255.255.255.0\"\n"
                  "GATEWAY = \"192.168.100.1\"\n"
                  "DNS = \"192.168.100.1\"\n"
                  "AR = [ TYPE = \"IP4\", IP = \"192.168.100.10\", SIZE = \"20\" ]\n");
  g_assert_cmpint(vlan->vn_mad, ==, PP_NETWORK_VN_MAD_8021Q);
  g_assert_null(vlan->phydev);
  g_assert_cmpint(vlan->vlan_id, ==, 50);
  g_assert_true(vlan->has_network);
  g_assert_cmpuint(vlan->network_prefix, ==, 24);
  assert_mac(&ar(vlan, 0)->mac, "02:00:c0:a8:64:0a");
}

static void
test_full(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok("name = \"lab-net.1_a\"\n"
               "VN_MAD = \"802.1q\"\n"
               "BRIDGE = \"br-lab.50\"\n"
               "PHYDEV = \"eno1\"\n"
               "VLAN_ID = 0\n"
               "MTU = 9000\n"
               "NETWORK_ADDRESS = \"10.0.0.0\"\n"
               "NETWORK_MASK = \"/16\"\n"
               "GATEWAY = \"10.0.0.1\"\n"
               "DNS = \"10.0.0.2  2001:DB8::53\t10.0.0.3\"\n"
               "SEARCH_DOMAIN = \"lab.example.org example.org.\"\n"
               "GATEWAY6 = \"2001:db8::1\"\n"
               "AR = [ TYPE = \"IP4_6\", IP = \"10.0.1.1\", SIZE = 254,\n"
               "       GLOBAL_PREFIX = \"2001:db8:1:2::/64\", ULA_PREFIX = \"fd00:1:2:3::\" ]\n"
               "AR = [ type = ether, size = 16, mac = \"02:42:00:00:00:10\" ]\n"
               "AR = [ TYPE = IP6_STATIC, IP6 = \"2001:db8:9::100\", PREFIX_LENGTH = 64, "
               "SIZE = 100 ]\n");

  g_assert_cmpstr(spec->name, ==, "lab-net.1_a");
  g_assert_cmpint(spec->vn_mad, ==, PP_NETWORK_VN_MAD_8021Q);
  g_assert_cmpstr(pp_network_vn_mad_to_string(spec->vn_mad), ==, "802.1Q");
  g_assert_cmpstr(spec->bridge, ==, "br-lab.50");
  g_assert_cmpstr(spec->phydev, ==, "eno1");
  g_assert_cmpint(spec->vlan_id, ==, 0);
  g_assert_cmpuint(spec->mtu, ==, 9000);
  g_assert_true(spec->has_network);
  assert_ip4(&spec->network_address, "10.0.0.0");
  g_assert_cmpuint(spec->network_prefix, ==, 16);
  g_assert_true(spec->has_gateway);
  assert_ip4(&spec->gateway, "10.0.0.1");
  g_assert_cmpuint(spec->dns->len, ==, 3);
  g_assert_false(g_array_index(spec->dns, PpIpAddress, 0).is_ip6);
  assert_ip4(&g_array_index(spec->dns, PpIpAddress, 0).ip4, "10.0.0.2");
  g_assert_true(g_array_index(spec->dns, PpIpAddress, 1).is_ip6);
  assert_ip6(&g_array_index(spec->dns, PpIpAddress, 1).ip6, "2001:db8::53");
  assert_ip4(&g_array_index(spec->dns, PpIpAddress, 2).ip4, "10.0.0.3");
  g_assert_cmpuint(g_strv_length(spec->search_domains), ==, 2);
  g_assert_cmpstr(spec->search_domains[0], ==, "lab.example.org");
  g_assert_cmpstr(spec->search_domains[1], ==, "example.org.");
  g_assert_true(spec->has_gateway6);
  assert_ip6(&spec->gateway6, "2001:db8::1");

  g_assert_cmpuint(spec->ars->len, ==, 3);
  g_assert_cmpint(ar(spec, 0)->type, ==, PP_NETWORK_AR_IP4_6);
  g_assert_true(ar(spec, 0)->has_global);
  assert_ip6(&ar(spec, 0)->global_prefix, "2001:db8:1:2::");
  g_assert_true(ar(spec, 0)->has_ula);
  assert_ip6(&ar(spec, 0)->ula_prefix, "fd00:1:2:3::");
  g_assert_cmpint(ar(spec, 1)->type, ==, PP_NETWORK_AR_ETHER);
  g_assert_true(ar(spec, 1)->mac_given);
  assert_mac(&ar(spec, 1)->mac, "02:42:00:00:00:10");
  g_assert_cmpuint(ar(spec, 1)->pos.line, ==, 15);
  g_assert_cmpint(ar(spec, 2)->type, ==, PP_NETWORK_AR_IP6_STATIC);
  g_assert_cmpstr(pp_network_ar_type_to_string(ar(spec, 2)->type), ==, "IP6_STATIC");
  assert_ip6(&ar(spec, 2)->ip6, "2001:db8:9::100");
  g_assert_cmpuint(ar(spec, 2)->prefix_length, ==, 64);
  g_assert_false(ar(spec, 2)->has_mac);
}

static void
test_required(void)
{
  parse_fails("VN_MAD = dummy\n" AR4, "NAME is required (add NAME = \"...\")");
  parse_fails("NAME = n\n" AR4,
              "VN_MAD is required (add VN_MAD = \"dummy\", \"802.1Q\" or \"bridge\")");
  parse_fails(HEAD, "AR is required (add AR = [ TYPE = ..., SIZE = ... ])");
  parse_fails("", "NAME is required (add NAME = \"...\")");
}

static void
test_syntax(void)
{
  g_autoptr(GError) error = NULL;
  PpTextPos pos = { 0, 0 };
  const char *text = "NAME = \"net\nVN_MAD = dummy\n";
  PpNetworkSpec *spec = pp_network_template_parse(text, strlen(text), NULL, &pos, &error);

  g_assert_null(spec);
  g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_SYNTAX);
  g_assert_true(g_str_has_prefix(error->message, "line 1, column "));
  g_assert_cmpuint(pos.line, ==, 1);
}

static void
test_name(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok("NAME = "
               "\"a234567890123456789012345678901234567890123456789012345678901234\"\n"
               "VN_MAD = dummy\n" AR4);

  g_assert_cmpuint(strlen(spec->name), ==, 64);
  parse_fails("NAME = \"-x\"\nVN_MAD = dummy\n" AR4,
              "line 1, column 1: NAME: '-x' is not a network name: 1 to 64 letters, digits, "
              "'.', '_' or '-', not starting with '.' or '-'");
  parse_fails("NAME = \".x\"\nVN_MAD = dummy\n" AR4,
              "line 1, column 1: NAME: '.x' is not a network name: 1 to 64 letters, digits, "
              "'.', '_' or '-', not starting with '.' or '-'");
  parse_fails("VN_MAD = dummy\nNAME = \"a b\"\n" AR4,
              "line 2, column 1: NAME: 'a b' is not a network name: 1 to 64 letters, digits, "
              "'.', '_' or '-', not starting with '.' or '-'");
  parse_fails("NAME = \"\"\nVN_MAD = dummy\n" AR4,
              "line 1, column 1: NAME: '' is not a network name: 1 to 64 letters, digits, "
              "'.', '_' or '-', not starting with '.' or '-'");
  parse_fails("NAME = "
              "\"a2345678901234567890123456789012345678901234567890123456789012345\"\n"
              "VN_MAD = dummy\n" AR4,
              "line 1, column 1: NAME: "
              "'a2345678901234567890123456789012345678901234567890123456789012345' is not a "
              "network name: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or "
              "'-'");
  parse_fails("NAME = a\nNAME = b\nVN_MAD = dummy\n" AR4,
              "line 2, column 1: NAME: given twice, on lines 1 and 2; a network has one NAME");
  parse_fails("NAME = [ A = 1 ]\nVN_MAD = dummy\n" AR4,
              "line 1, column 1: NAME: must be a single value, as NAME = \"passthrough\"");
}

static void
test_vn_mad(void)
{
  g_autoptr(PpNetworkSpec) bridge = parse_ok("NAME = n\nVN_MAD = BRIDGE\nBRIDGE = br0\n" AR4);

  g_assert_cmpint(bridge->vn_mad, ==, PP_NETWORK_VN_MAD_BRIDGE);
  parse_fails("NAME = n\nVN_MAD = vxlan\n" AR4,
              "line 2, column 1: VN_MAD: 'vxlan' is not a network driver pcipass implements: "
              "dummy, 802.1Q, bridge or ovswitch");
  parse_fails("NAME = n\nVN_MAD = \"\"\n" AR4,
              "line 2, column 1: VN_MAD: '' is not a network driver pcipass implements: dummy, "
              "802.1Q, bridge or ovswitch");
}

static void
test_bridge_phydev(void)
{
  g_autoptr(PpNetworkSpec) blank = NULL;

  parse_fails(HEAD "BRIDGE = \"br0/x\"\n" AR4,
              "line 3, column 1: BRIDGE: 'br0/x' is not an interface name: 1 to 15 letters, "
              "digits, '.', '_' or '-'");
  parse_fails(HEAD "BRIDGE = \"a234567890123456\"\n" AR4,
              "line 3, column 1: BRIDGE: 'a234567890123456' is not an interface name: 1 to 15 "
              "letters, digits, '.', '_' or '-'");
  parse_fails(HEAD "BRIDGE = \"\"\n" AR4,
              "line 3, column 1: BRIDGE: '' is not an interface name: 1 to 15 letters, digits, "
              "'.', '_' or '-'");
  parse_fails("NAME = n\nVN_MAD = \"802.1Q\"\nVLAN_ID = 1\nPHYDEV = \"eth 0\"\n" AR4,
              "line 4, column 1: PHYDEV: 'eth 0' is not an interface name: 1 to 15 letters, "
              "digits, '.', '_' or '-'");
  /* PHYDEV is the 802.1Q driver's; blank is none, on any network. */
  parse_fails("NAME = n\nVN_MAD = bridge\nPHYDEV = eth0\n" AR4,
              "line 3, column 1: PHYDEV: is for 802.1Q networks; this one's VN_MAD is bridge");
  parse_fails(HEAD "PHYDEV = eth0\n" AR4,
              "line 3, column 1: PHYDEV: is for 802.1Q networks; this one's VN_MAD is dummy");
  blank = parse_ok(HEAD "PHYDEV = \"\"\n" AR4);
  g_assert_null(blank->phydev);
}

static void
test_vlan_id(void)
{
  static const char *const bad[] = { "4095", "-1", "1e2", "", "0x10", "99999999999999999999" };
  g_autoptr(PpNetworkSpec) spec = parse_ok("NAME = n\nVN_MAD = \"802.1Q\"\nVLAN_ID = 4094\n" AR4);

  g_assert_cmpint(spec->vlan_id, ==, 4094);
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text =
        g_strdup_printf("NAME = n\nVN_MAD = \"802.1Q\"\nVLAN_ID = \"%s\"\n" AR4, bad[i]);
    g_autofree char *message = g_strdup_printf(
        "line 3, column 1: VLAN_ID: '%s' is not a VLAN id: an integer from 0 to 4094", bad[i]);

    parse_fails(text, message);
  }
  parse_fails("NAME = n\nVN_MAD = \"802.1Q\"\n" AR4,
              "line 2, column 1: VN_MAD: an 802.1Q network needs VLAN_ID (0 to 4094); pcipass "
              "does not pick one (no AUTOMATIC_VLAN_ID)");
  parse_fails(HEAD "VLAN_ID = 5\n" AR4,
              "line 3, column 1: VLAN_ID: is for 802.1Q and ovswitch networks; this one's "
              "VN_MAD is dummy");
  parse_fails("NAME = n\nVLAN_ID = 5\nVN_MAD = bridge\n" AR4,
              "line 2, column 1: VLAN_ID: is for 802.1Q and ovswitch networks; this one's "
              "VN_MAD is bridge");
  /* Open vSwitch: a VLAN or none; PHYDEV is 802.1Q's. */
  {
    g_autoptr(PpNetworkSpec) tagged =
        parse_ok("NAME = n\nVN_MAD = ovswitch\nBRIDGE = ovsbr0\nVLAN_ID = 200\n" AR4);
    g_autoptr(PpNetworkSpec) untagged =
        parse_ok("NAME = n\nVN_MAD = OVSwitch\nBRIDGE = ovsbr0\n" AR4);

    g_assert_cmpint(tagged->vn_mad, ==, PP_NETWORK_VN_MAD_OVSWITCH);
    g_assert_cmpint(tagged->vlan_id, ==, 200);
    g_assert_cmpint(untagged->vlan_id, ==, -1);
    g_assert_cmpstr(pp_network_vn_mad_to_string(untagged->vn_mad), ==, "ovswitch");
  }
  parse_fails("NAME = n\nVN_MAD = ovswitch\nPHYDEV = eth0\n" AR4,
              "line 3, column 1: PHYDEV: is for 802.1Q networks; this one's VN_MAD is ovswitch");
}

static void
test_mtu(void)
{
  g_autoptr(PpNetworkSpec) low = parse_ok(HEAD "MTU = 68\n" AR4);
  g_autoptr(PpNetworkSpec) high = parse_ok(HEAD "MTU = 65535\n" AR4);

  g_assert_cmpuint(low->mtu, ==, 68);
  g_assert_cmpuint(high->mtu, ==, 65535);
  parse_fails(HEAD "MTU = 67\n" AR4,
              "line 3, column 1: MTU: '67' is not an MTU: an integer from 68 to 65535");
  parse_fails(HEAD "MTU = 65536\n" AR4,
              "line 3, column 1: MTU: '65536' is not an MTU: an integer from 68 to 65535");
  parse_fails(HEAD "MTU = 1500b\n" AR4,
              "line 3, column 1: MTU: '1500b' is not an MTU: an integer from 68 to 65535");
}

static void
test_network_address(void)
{
  static const struct {
    const char *mask;
    guint prefix;
  } masks[] = {
    { "255.255.255.0", 24 }, { "/24", 24 },
    { "0.0.0.0", 0 },        { "/0", 0 },
    { "/32", 32 },           { "255.255.255.255", 32 },
    { "255.255.240.0", 20 }, { "128.0.0.0", 1 },
  };
  static const char *const bad_masks[] = {
    "255.0.255.0", "/33", "24", "/", "255.255.255.1", "/-1"
  };

  for (guint i = 0; i < G_N_ELEMENTS(masks); i++) {
    g_autofree char *text = g_strdup_printf(
        HEAD "NETWORK_ADDRESS = 0.0.0.0\nNETWORK_MASK = \"%s\"\n" AR4, masks[i].mask);
    g_autoptr(PpNetworkSpec) spec = parse_ok(text);

    g_assert_true(spec->has_network);
    g_assert_cmpuint(spec->network_prefix, ==, masks[i].prefix);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad_masks); i++) {
    g_autofree char *text = g_strdup_printf(
        HEAD "NETWORK_ADDRESS = 10.0.0.0\nNETWORK_MASK = \"%s\"\n" AR4, bad_masks[i]);
    g_autofree char *message =
        g_strdup_printf("line 4, column 1: NETWORK_MASK: '%s' is not a network mask: dotted, "
                        "with its ones first (as 255.255.255.0), or a prefix length (as /24)",
                        bad_masks[i]);

    parse_fails(text, message);
  }
  parse_fails(HEAD "NETWORK_ADDRESS = 10.0.0.1\nNETWORK_MASK = /24\n" AR4,
              "line 3, column 1: NETWORK_ADDRESS: 10.0.0.1 is not the address of a /24 network: "
              "its host bits are not zero");
  parse_fails(HEAD "NETWORK_ADDRESS = 10.0.0.0\n" AR4,
              "line 3, column 1: NETWORK_ADDRESS: needs NETWORK_MASK too");
  parse_fails(HEAD "NETWORK_MASK = /8\n" AR4,
              "line 3, column 1: NETWORK_MASK: needs NETWORK_ADDRESS too");
  parse_fails(HEAD "NETWORK_ADDRESS = 10.0.0\nNETWORK_MASK = /8\n" AR4,
              "line 3, column 1: NETWORK_ADDRESS: '10.0.0' is not an IPv4 address (as "
              "10.0.0.1)");
}

static void
test_gateways(void)
{
  parse_fails(HEAD "GATEWAY = \"10.0.0.1.\"\n" AR4,
              "line 3, column 1: GATEWAY: '10.0.0.1.' is not an IPv4 address (as 10.0.0.1)");
  parse_fails(HEAD "GATEWAY = \"2001:db8::1\"\n" AR4,
              "line 3, column 1: GATEWAY: '2001:db8::1' is not an IPv4 address (as 10.0.0.1)");
  parse_fails(HEAD "GATEWAY6 = \"10.0.0.1\"\n" AR4,
              "line 3, column 1: GATEWAY6: '10.0.0.1' is not an IPv6 address (as 2001:db8::1)");
}

static void
test_dns(void)
{
  parse_fails(HEAD "DNS = \"10.0.0.2 nope\"\n" AR4,
              "line 3, column 1: DNS: 'nope' is not an IP address (DNS is a list of IPv4 or IPv6 "
              "addresses separated by blanks, as \"10.0.0.2 2001:db8::53\")");
  parse_fails(HEAD "DNS = \"10.0.0.2,10.0.0.3\"\n" AR4,
              "line 3, column 1: DNS: '10.0.0.2,10.0.0.3' is not an IP address (DNS is a list of "
              "IPv4 or IPv6 addresses separated by blanks, as \"10.0.0.2 2001:db8::53\")");
  parse_fails(HEAD "DNS = \"1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 "
                   "1.1.1.9\"\n" AR4,
              "line 3, column 1: DNS: more than 8 servers");
  parse_fails(HEAD "DNS = \" \"\n" AR4, "line 3, column 1: DNS: is empty; leave DNS out for none");
}

static void
test_search_domain(void)
{
  static const char *const bad[] = { "bad_domain", "-a.org", "a-.org", "a..org", ".org" };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf(HEAD "SEARCH_DOMAIN = \"ok.org %s\"\n" AR4, bad[i]);
    g_autofree char *message =
        g_strdup_printf("line 3, column 1: SEARCH_DOMAIN: '%s' is not a DNS domain: labels of "
                        "letters, digits and '-' separated by '.' (as example.org)",
                        bad[i]);

    parse_fails(text, message);
  }
  parse_fails(HEAD "SEARCH_DOMAIN = \"a b c d e f g\"\n" AR4,
              "line 3, column 1: SEARCH_DOMAIN: more than 6 domains");
  parse_fails(HEAD "SEARCH_DOMAIN = \"\"\n" AR4,
              "line 3, column 1: SEARCH_DOMAIN: is empty; leave SEARCH_DOMAIN out for none");
}

static void
test_unsupported(void)
{
  parse_fails(HEAD "VLANID = 5\n" AR4,
              "line 3, column 1: attribute 'VLANID' is not supported by pcipass (did you mean "
              "VLAN_ID?); a network template has NAME, VN_MAD, BRIDGE, PHYDEV, VLAN_ID, MTU, "
              "NETWORK_ADDRESS, NETWORK_MASK, GATEWAY, DNS, SEARCH_DOMAIN, GATEWAY6 and AR");
  parse_fails(HEAD "network_maks = /24\n" AR4,
              "line 3, column 1: attribute 'NETWORK_MAKS' is not supported by pcipass (did you "
              "mean NETWORK_MASK?); a network template has NAME, VN_MAD, BRIDGE, PHYDEV, "
              "VLAN_ID, MTU, NETWORK_ADDRESS, NETWORK_MASK, GATEWAY, DNS, SEARCH_DOMAIN, GATEWAY6 "
              "and AR");
  parse_fails(HEAD AR4 "DESCRIPTION = \"x\"\n",
              "line 4, column 1: attribute 'DESCRIPTION' is not supported by pcipass; a network "
              "template has NAME, VN_MAD, BRIDGE, PHYDEV, VLAN_ID, MTU, NETWORK_ADDRESS, "
              "NETWORK_MASK, GATEWAY, DNS, SEARCH_DOMAIN, GATEWAY6 and AR");
  parse_fails(HEAD "AR = x\n",
              "line 3, column 1: AR: must be a vector, as AR = [ TYPE = \"IP4\", IP = "
              "\"10.0.0.1\", SIZE = 10 ]");
}

/* ------------------------------------------------------------------------ */
/* Address ranges                                                            */
/* ------------------------------------------------------------------------ */

static void
test_ar_keys(void)
{
  /* Columns: "AR = [ " is 7 characters. */
  parse_fails(HEAD "AR = [ SIZE = 1 ]\n",
              "line 3, column 1: AR: needs TYPE: ETHER, IP4, IP6, IP6_STATIC, IP4_6 or "
              "IP4_6_STATIC");
  parse_fails(HEAD "AR = [ SIZE = 1, TYPE = IP5 ]\n",
              "line 3, column 18: AR: TYPE 'IP5' is not an address range type: ETHER, IP4, IP6, "
              "IP6_STATIC, IP4_6 or IP4_6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 1, FOO = 2 ]\n",
              "line 3, column 45: AR: key FOO is not supported by pcipass; AR takes TYPE, SIZE, "
              "MAC, IP, GLOBAL_PREFIX, ULA_PREFIX, IP6 and PREFIX_LENGTH");
  parse_fails(HEAD "AR = [ TYPE = ETHER, IP = 10.0.0.1, SIZE = 1 ]\n",
              "line 3, column 22: AR: IP is not for a range of TYPE ETHER; it is for IP4, IP4_6 "
              "or IP4_6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP6, IP = 10.0.0.1, SIZE = 1 ]\n",
              "line 3, column 20: AR: IP is not for a range of TYPE IP6; it is for IP4, IP4_6 or "
              "IP4_6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 1,\n"
                   "       GLOBAL_PREFIX = \"2001:db8::\" ]\n",
              "line 4, column 8: AR: GLOBAL_PREFIX is not for a range of TYPE IP4; it is for IP6 "
              "or IP4_6");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, ULA_PREFIX = \"fd00::\", SIZE = 1 ]\n",
              "line 3, column 27: AR: ULA_PREFIX is not for a range of TYPE IP6_STATIC; it is "
              "for IP6 or IP4_6");
  parse_fails(HEAD "AR = [ TYPE = IP4_6, IP = 10.0.0.1, IP6 = \"2001:db8::1\", SIZE = 1 ]\n",
              "line 3, column 37: AR: IP6 is not for a range of TYPE IP4_6; it is for IP6_STATIC "
              "or IP4_6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP6, PREFIX_LENGTH = 64, SIZE = 1 ]\n",
              "line 3, column 20: AR: PREFIX_LENGTH is not for a range of TYPE IP6; it is for "
              "IP6_STATIC or IP4_6_STATIC");
}

static void
test_ar_size(void)
{
  static const char *const bad[] = { "0", "1048577", "-1", "ten", "", "1 ", "4294967297" };
  g_autoptr(PpNetworkSpec) spec = parse_ok(HEAD "AR = [ TYPE = ETHER, SIZE = 1048576 ]\n");

  g_assert_cmpuint(ar(spec, 0)->size, ==, PP_NETWORK_AR_SIZE_MAX);
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *text = g_strdup_printf(HEAD "AR = [ TYPE = ETHER, SIZE = \"%s\" ]\n", bad[i]);
    g_autofree char *message = g_strdup_printf(
        "line 3, column 22: AR: SIZE '%s' is not a range size: 1 to 1048576", bad[i]);

    parse_fails(text, message);
  }
  parse_fails(HEAD "AR = [ TYPE = ETHER ]\n",
              "line 3, column 1: AR: needs SIZE, the number of addresses (1 to 1048576)");
}

static void
test_ar_ip4(void)
{
  g_autoptr(PpNetworkSpec) edge = NULL;

  parse_fails(HEAD "AR = [ TYPE = IP4, SIZE = 1 ]\n",
              "line 3, column 1: AR: needs IP, the first IPv4 address, for TYPE IP4");
  parse_fails(HEAD "AR = [ TYPE = IP4_6_STATIC, SIZE = 1 ]\n",
              "line 3, column 1: AR: needs IP, the first IPv4 address, for TYPE IP4_6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP4, SIZE = 1, IP = 10.0.0.300 ]\n",
              "line 3, column 30: AR: IP '10.0.0.300' is not an IPv4 address (as 10.0.0.1)");
  /* The end of the IPv4 space: 255.255.255.250 + 5 is the last. */
  edge = parse_ok(HEAD "AR = [ TYPE = IP4, IP = 255.255.255.250, SIZE = 6 ]\n");
  assert_mac(&ar(edge, 0)->mac, "02:00:ff:ff:ff:fa");
  parse_fails(HEAD "AR = [ TYPE = IP4, IP = 255.255.255.250, SIZE = 7 ]\n",
              "line 3, column 20: AR: 7 addresses from IP 255.255.255.250 would pass "
              "255.255.255.255 (at most 6 from there)");
}

static void
test_ar_prefixes(void)
{
  g_autoptr(PpNetworkSpec) spec = NULL;

  spec = parse_ok(HEAD "AR = [ TYPE = IP6, SIZE = 1, GLOBAL_PREFIX = \"2001:db8::/64\" ]\n");
  g_assert_true(ar(spec, 0)->has_global);
  g_assert_false(ar(spec, 0)->has_ula);
  g_clear_pointer(&spec, pp_network_spec_free);
  /* OpenNebula's IP6 range may have no prefix at all: MACs only. */
  spec = parse_ok(HEAD "AR = [ TYPE = IP6, SIZE = 1 ]\n");
  g_assert_false(ar(spec, 0)->has_global);
  g_assert_false(ar(spec, 0)->has_ula);

  parse_fails(HEAD "AR = [ TYPE = IP6, SIZE = 1, GLOBAL_PREFIX = \"2001:db8::1\" ]\n",
              "line 3, column 30: AR: GLOBAL_PREFIX '2001:db8::1' is not an IPv6 /64 prefix: an "
              "address whose last 64 bits are zero, as 2001:db8:1:2::");
  parse_fails(HEAD "AR = [ TYPE = IP6, SIZE = 1, GLOBAL_PREFIX = \"2001:db8::/48\" ]\n",
              "line 3, column 30: AR: GLOBAL_PREFIX '2001:db8::/48' is not an IPv6 /64 prefix: "
              "an address whose last 64 bits are zero, as 2001:db8:1:2::");
  parse_fails(HEAD "AR = [ TYPE = IP6, SIZE = 1, ULA_PREFIX = \"fd00::x\" ]\n",
              "line 3, column 30: AR: ULA_PREFIX 'fd00::x' is not an IPv6 /64 prefix: an address "
              "whose last 64 bits are zero, as fd00:1:2:3::");
  parse_fails(HEAD "AR = [ TYPE = IP6, SIZE = 1, GLOBAL_PREFIX = \"fd00:1::\" ]\n",
              "line 3, column 30: AR: GLOBAL_PREFIX 'fd00:1::' is not a global prefix: not "
              "within fc00::/7 (use ULA_PREFIX), fe80::/10, ff00::/8 or ::/64");
  parse_fails(HEAD "AR = [ TYPE = IP6, SIZE = 1, GLOBAL_PREFIX = \"fe80::\" ]\n",
              "line 3, column 30: AR: GLOBAL_PREFIX 'fe80::' is not a global prefix: not within "
              "fc00::/7 (use ULA_PREFIX), fe80::/10, ff00::/8 or ::/64");
  parse_fails(HEAD "AR = [ TYPE = IP4_6, IP = 10.0.0.1, SIZE = 1, ULA_PREFIX = \"2001:db8::\" ]\n",
              "line 3, column 47: AR: ULA_PREFIX '2001:db8::' is not a unique local prefix: it "
              "is within fc00::/7 (RFC 4193)");
}

static void
test_ar_ip6_static(void)
{
  g_autoptr(PpNetworkSpec) spec = NULL;

  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 1 ]\n",
              "line 3, column 1: AR: needs IP6, the first IPv6 address, for TYPE IP6_STATIC");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 1, IP6 = \"2001:db8::g\" ]\n",
              "line 3, column 37: AR: IP6 '2001:db8::g' is not an IPv6 address (as 2001:db8::1)");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 1, IP6 = \"2001:db8::1\" ]\n",
              "line 3, column 1: AR: needs PREFIX_LENGTH, the length of IP6's prefix (1 to 128)");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 1, IP6 = \"2001:db8::1\", PREFIX_LENGTH = 0 "
                   "]\n",
              "line 3, column 58: AR: PREFIX_LENGTH '0' is not a prefix length: 1 to 128");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 1, IP6 = \"2001:db8::1\", PREFIX_LENGTH = "
                   "129 ]\n",
              "line 3, column 58: AR: PREFIX_LENGTH '129' is not a prefix length: 1 to 128");
  /* The last of a /112 is ::ffff: two from ::fffe fit, three do not. */
  spec = parse_ok(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 2, IP6 = \"2001:db8::fffe\", "
                       "PREFIX_LENGTH = 112 ]\n");
  g_clear_pointer(&spec, pp_network_spec_free);
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 3, IP6 = \"2001:db8::fffe\", PREFIX_LENGTH = "
                   "112 ]\n",
              "line 3, column 37: AR: 3 addresses from IP6 2001:db8::fffe would pass the end of "
              "its /112");
  /* And the end of the IPv6 space. */
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 2, IP6 = \"ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
                   "ffff\", PREFIX_LENGTH = 1 ]\n",
              "line 3, column 37: AR: 2 addresses from IP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
              "would pass the end of its /1");
  /* A range over a 64-bit boundary, within its /32. */
  spec = parse_ok(HEAD "AR = [ TYPE = IP6_STATIC, SIZE = 4, IP6 = "
                       "\"2001:db8::ffff:ffff:ffff:fffe\", PREFIX_LENGTH = 32 ]\n");
  g_assert_cmpuint(ar(spec, 0)->size, ==, 4);
}

static void
test_ar_mac(void)
{
  g_autoptr(PpNetworkSpec) spec = NULL;

  parse_fails(HEAD "AR = [ TYPE = ETHER, SIZE = 1, MAC = \"02-00-00-00-00-01\" ]\n",
              "line 3, column 32: AR: MAC '02-00-00-00-00-01' is not a MAC address: six pairs of "
              "hex digits separated by ':' (as 02:00:0a:00:00:01)");
  parse_fails(HEAD "AR = [ TYPE = ETHER, SIZE = 1, MAC = \"03:00:00:00:00:01\" ]\n",
              "line 3, column 32: AR: MAC '03:00:00:00:00:01' is multicast (bit 0 of its first "
              "byte is set): a NIC's MAC is unicast");
  /* The last unicast MAC of 02: is 02:ff:ff:ff:ff:ff. */
  spec = parse_ok(HEAD "AR = [ TYPE = ETHER, SIZE = 1, MAC = \"02:ff:ff:ff:ff:ff\" ]\n");
  g_assert_true(ar(spec, 0)->mac_given);
  parse_fails(HEAD "AR = [ TYPE = ETHER, SIZE = 2, MAC = \"02:ff:ff:ff:ff:ff\" ]\n",
              "line 3, column 32: AR: 2 MACs from MAC 02:ff:ff:ff:ff:ff would pass "
              "02:ff:ff:ff:ff:ff into multicast addresses");
  parse_fails(HEAD "AR = [ TYPE = ETHER, SIZE = 2, MAC = \"fe:ff:ff:ff:ff:ff\" ]\n",
              "line 3, column 32: AR: 2 MACs from MAC fe:ff:ff:ff:ff:ff would pass "
              "fe:ff:ff:ff:ff:ff into multicast addresses");
  /* A MAC given to an IPv4 range replaces MAC_PREFIX:IP. */
  g_clear_pointer(&spec, pp_network_spec_free);
  spec = parse_ok(HEAD "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 2, MAC = 52:54:00:AA:00:00 ]\n");
  assert_mac(&ar(spec, 0)->mac, "52:54:00:aa:00:00");
}

static void
test_too_many_ars(void)
{
  g_autoptr(GString) text = g_string_new(HEAD);
  g_autoptr(PpNetworkSpec) spec = NULL;

  for (guint i = 0; i < PP_NETWORK_MAX_ARS; i++)
    g_string_append(text, "AR = [ TYPE = ETHER, SIZE = 1 ]\n");
  spec = parse_ok(text->str);
  g_assert_cmpuint(spec->ars->len, ==, PP_NETWORK_MAX_ARS);
  g_string_append(text, "AR = [ TYPE = ETHER, SIZE = 1 ]\n");
  parse_fails(text->str, "line 67, column 1: AR: more than 64 AR vectors");
}

static void
test_overlaps(void)
{
  g_autoptr(PpNetworkSpec) spec = NULL;

  /* Adjacent is not overlapping. */
  spec = parse_ok(HEAD AR4 "AR = [ TYPE = IP4, IP = 10.0.0.11, SIZE = 5 ]\n");
  g_assert_true(pp_network_spec_check_overlaps(spec, NULL));
  parse_fails(HEAD AR4 "AR = [ TYPE = IP4, IP = 10.0.0.5, SIZE = 10 ]\n",
              "line 4, column 1: AR: the IPv4 addresses 10.0.0.5 to 10.0.0.14 of AR 1 overlap "
              "10.0.0.1 to 10.0.0.10 of AR 0 (line 3)");
  /* Inside, and around. */
  parse_fails(HEAD AR4 "AR = [ TYPE = ETHER, SIZE = 1 ]\n"
                       "AR = [ TYPE = IP4_6, IP = 10.0.0.0, SIZE = 100 ]\n",
              "line 5, column 1: AR: the IPv4 addresses 10.0.0.0 to 10.0.0.99 of AR 2 overlap "
              "10.0.0.1 to 10.0.0.10 of AR 0 (line 3)");
  parse_fails(HEAD "AR = [ TYPE = ETHER, MAC = 02:00:00:00:00:10, SIZE = 16 ]\n"
                   "AR = [ TYPE = IP6, MAC = 02:00:00:00:00:1f, SIZE = 1 ]\n",
              "line 4, column 1: AR: the MACs 02:00:00:00:00:1f to 02:00:00:00:00:1f of AR 1 "
              "overlap 02:00:00:00:00:10 to 02:00:00:00:00:1f of AR 0 (line 3)");
  /* A given MAC among an IPv4 range's generated ones. */
  parse_fails(HEAD AR4 "AR = [ TYPE = ETHER, MAC = 02:00:0a:00:00:05, SIZE = 1 ]\n",
              "line 4, column 1: AR: the MACs 02:00:0a:00:00:05 to 02:00:0a:00:00:05 of AR 1 "
              "overlap 02:00:0a:00:00:01 to 02:00:0a:00:00:0a of AR 0 (line 3)");
  parse_fails(HEAD "AR = [ TYPE = IP6_STATIC, IP6 = \"2001:db8::10\", PREFIX_LENGTH = 64, SIZE = "
                   "16 ]\n"
                   "AR = [ TYPE = IP4_6_STATIC, IP = 10.9.0.1, IP6 = \"2001:db8::1\", "
                   "PREFIX_LENGTH = 64, SIZE = 16 ]\n",
              "line 4, column 1: AR: the IPv6 addresses 2001:db8::1 to 2001:db8::10 of AR 1 "
              "overlap 2001:db8::10 to 2001:db8::1f of AR 0 (line 3)");
}

/* The store gives ETHER, IP6 and IP6_STATIC ranges without MAC a base;
 * the overlap check runs again then. */
static void
test_mac_base(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD AR4 "AR = [ TYPE = ETHER, SIZE = 16 ]\nAR = [ TYPE = IP6, SIZE = 16 ]\n");
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  PpNetworkAr *ether = &g_array_index(spec->ars, PpNetworkAr, 1);
  PpNetworkAr *v6 = &g_array_index(spec->ars, PpNetworkAr, 2);
  g_autoptr(GError) error = NULL;
  PpNetworkLease lease;

  g_assert_false(ether->has_mac);
  lease_fails(ether, 0, PP_NETWORK_ERROR_RANGE,
              "the ETHER range has no MACs yet (no MAC, and no base given)");
  g_assert_true(pp_network_ar_set_mac_base(ether, &prefix, 0x0b000000, &error));
  g_assert_no_error(error);
  lease_ok(ether, 15, &lease);
  assert_mac(&lease.mac, "02:00:0b:00:00:0f");
  g_assert_false(lease.has_ip);
  /* Given again, the base replaces the first: the store's counter. */
  g_assert_true(pp_network_ar_set_mac_base(ether, &prefix, 0x0c000000, NULL));
  lease_ok(ether, 1, &lease);
  assert_mac(&lease.mac, "02:00:0c:00:00:01");
  /* An IPv4 range's MACs made from its addresses give way too: two networks
   * with the same addresses must not share MACs. */
  {
    PpNetworkAr *v4 = &g_array_index(spec->ars, PpNetworkAr, 0);

    g_assert_true(v4->has_mac);
    g_assert_false(v4->mac_given);
    g_assert_true(pp_network_ar_set_mac_base(v4, &prefix, 0x0d000000, NULL));
    lease_ok(v4, 2, &lease);
    assert_mac(&lease.mac, "02:00:0d:00:00:02");
    g_assert_true(lease.has_ip);
    /* Back where the parser had them, for the overlap below. */
    g_assert_true(pp_network_ar_set_mac_base(v4, &prefix, 0x0a000001, NULL));
  }
  /* A MAC the template gave is kept. */
  {
    g_autoptr(PpNetworkSpec) given =
        parse_ok(HEAD "AR = [ TYPE = ETHER, MAC = 02:00:01:00:00:00, SIZE = 4 ]\n");
    PpNetworkAr *ar = &g_array_index(given->ars, PpNetworkAr, 0);

    g_assert_false(pp_network_ar_set_mac_base(ar, &prefix, 0, &error));
    g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "the ETHER range has its MACs from the template (MAC)");
    g_clear_error(&error);
    lease_ok(ar, 3, &lease);
    assert_mac(&lease.mac, "02:00:01:00:00:03");
  }

  /* The 32 bits after the prefix end at ff:ff:ff:ff. */
  g_assert_false(pp_network_ar_set_mac_base(v6, &prefix, 0xfffffff1, &error));
  g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_OVERFLOW);
  g_assert_cmpstr(error->message, ==,
                  "a range of 16 MACs from base fffffff1 would pass 02:00:ff:ff:ff:ff");
  g_assert_false(v6->has_mac);
  g_clear_error(&error);
  g_assert_true(pp_network_ar_set_mac_base(v6, &prefix, 0xfffffff0, NULL));
  lease_ok(v6, 15, &lease);
  assert_mac(&lease.mac, "02:00:ff:ff:ff:ff");
  g_assert_true(pp_network_spec_check_overlaps(spec, NULL));

  /* A base that lands on the IPv4 range's MACs: found on the second check. */
  v6->has_mac = FALSE;
  g_assert_true(pp_network_ar_set_mac_base(v6, &prefix, 0x0a000008, NULL));
  g_assert_false(pp_network_spec_check_overlaps(spec, &error));
  g_assert_cmpstr(error->message, ==,
                  "line 5, column 1: AR: the MACs 02:00:0a:00:00:08 to 02:00:0a:00:00:17 of AR 2 "
                  "overlap 02:00:0a:00:00:01 to 02:00:0a:00:00:0a of AR 0 (line 3)");
}

/* A byte-order mark is skipped, not counted: the key is where the parser
 * says its line is. */
static void
test_key_pos_bom(void)
{
  parse_fails("\xef\xbb\xbf"
              "AR = [ TYPE = ETHER, SIZE = 0 ]\nNAME = n\nVN_MAD = dummy\n",
              "line 1, column 22: AR: SIZE '0' is not a range size: 1 to 1048576");
}

/* Ranges the store built (no position): the overlap says which, without a
 * line. */
static void
test_overlaps_built(void)
{
  g_autoptr(PpNetworkSpec) spec = pp_network_spec_new();
  g_autoptr(GError) error = NULL;
  PpNetworkAr a = { 0 }, b = { 0 };

  a.type = PP_NETWORK_AR_IP4;
  a.size = 4;
  a.ip = ip4("10.0.0.1");
  a.mac = mac("02:00:0a:00:00:01");
  a.has_mac = TRUE;
  b = a;
  b.type = PP_NETWORK_AR_ETHER;
  b.mac = mac("02:00:0a:00:00:04");
  g_array_append_val(spec->ars, a);
  g_array_append_val(spec->ars, b);
  g_assert_false(pp_network_spec_check_overlaps(spec, &error));
  g_assert_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "the MACs 02:00:0a:00:00:04 to 02:00:0a:00:00:07 of AR 1 overlap "
                  "02:00:0a:00:00:01 to 02:00:0a:00:00:04 of AR 0");
  g_array_index(spec->ars, PpNetworkAr, 1).mac = mac("02:00:0a:00:00:05");
  g_assert_true(pp_network_spec_check_overlaps(spec, NULL));
}

/* ------------------------------------------------------------------------ */
/* Leases                                                                    */
/* ------------------------------------------------------------------------ */

static void
test_lease_ether(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD "AR = [ TYPE = ETHER, MAC = 02:00:00:00:01:00, SIZE = 256 ]\n");
  PpNetworkLease lease;

  lease_ok(ar(spec, 0), 0, &lease);
  assert_mac(&lease.mac, "02:00:00:00:01:00");
  g_assert_false(lease.has_ip || lease.has_ip6 || lease.has_ip6_global || lease.has_ip6_ula);
  lease_ok(ar(spec, 0), 255, &lease);
  assert_mac(&lease.mac, "02:00:00:00:01:ff");
  lease_fails(ar(spec, 0), 256, PP_NETWORK_ERROR_RANGE,
              "lease 256 is past the end of a range of 256");
  lease_fails(ar(spec, 0), G_MAXUINT32, PP_NETWORK_ERROR_RANGE,
              "lease 4294967295 is past the end of a range of 256");
}

static void
test_lease_ip4(void)
{
  g_autoptr(PpNetworkSpec) spec = parse_ok(HEAD "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 254 ]\n");
  g_autoptr(PpNetworkSpec) prefixed = NULL;
  PpMacPrefix prefix;
  PpNetworkLease lease;
  const char *text = HEAD "AR = [ TYPE = IP4, IP = 10.0.0.1, SIZE = 254 ]\n";

  lease_ok(ar(spec, 0), 0, &lease);
  assert_mac(&lease.mac, "02:00:0a:00:00:01");
  g_assert_true(lease.has_ip);
  assert_ip4(&lease.ip, "10.0.0.1");
  g_assert_false(lease.has_ip6 || lease.has_ip6_global || lease.has_ip6_ula);
  lease_ok(ar(spec, 0), 253, &lease);
  assert_mac(&lease.mac, "02:00:0a:00:00:fe");
  assert_ip4(&lease.ip, "10.0.0.254");
  lease_fails(ar(spec, 0), 254, PP_NETWORK_ERROR_RANGE,
              "lease 254 is past the end of a range of 254");

  /* Another MAC prefix (pcipassd's setting). */
  g_assert_true(pp_mac_prefix_parse("02:42", &prefix, NULL));
  prefixed = pp_network_template_parse(text, strlen(text), &prefix, NULL, NULL);
  g_assert_nonnull(prefixed);
  lease_ok(ar(prefixed, 0), 253, &lease);
  assert_mac(&lease.mac, "02:42:0a:00:00:fe");
}

static void
test_lease_ip6(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD "AR = [ TYPE = IP6, MAC = 02:00:0a:00:00:01, SIZE = 4,\n"
                    "       GLOBAL_PREFIX = \"2001:db8::\", ULA_PREFIX = \"fd00::\" ]\n"
                    "AR = [ TYPE = IP6, MAC = 02:00:0b:00:00:01, SIZE = 1 ]\n");
  PpNetworkLease lease;

  lease_ok(ar(spec, 0), 0, &lease);
  assert_mac(&lease.mac, "02:00:0a:00:00:01");
  g_assert_false(lease.has_ip);
  g_assert_true(lease.has_ip6_global);
  assert_ip6(&lease.ip6_global, "2001:db8::aff:fe00:1");
  g_assert_true(lease.has_ip6_ula);
  assert_ip6(&lease.ip6_ula, "fd00::aff:fe00:1");
  g_assert_false(lease.has_ip6);
  lease_ok(ar(spec, 0), 3, &lease);
  assert_mac(&lease.mac, "02:00:0a:00:00:04");
  assert_ip6(&lease.ip6_global, "2001:db8::aff:fe00:4");
  assert_ip6(&lease.ip6_ula, "fd00::aff:fe00:4");
  lease_fails(ar(spec, 0), 4, PP_NETWORK_ERROR_RANGE, "lease 4 is past the end of a range of 4");

  /* No prefix: a MAC only. */
  lease_ok(ar(spec, 1), 0, &lease);
  assert_mac(&lease.mac, "02:00:0b:00:00:01");
  g_assert_false(lease.has_ip || lease.has_ip6 || lease.has_ip6_global || lease.has_ip6_ula);
}

static void
test_lease_ip6_static(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD "AR = [ TYPE = IP6_STATIC, IP6 = \"2001:db8::10\", PREFIX_LENGTH = 64, "
                    "SIZE = 16 ]\n"
                    "AR = [ TYPE = IP6_STATIC, IP6 = \"2001:db8::ffff:ffff:ffff:fffe\", "
                    "PREFIX_LENGTH = 32, SIZE = 4, MAC = 02:00:00:00:00:01 ]\n");
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  PpNetworkLease lease;

  /* Without MAC, its MACs come from a base. */
  lease_fails(ar(spec, 0), 0, PP_NETWORK_ERROR_RANGE,
              "the IP6_STATIC range has no MACs yet (no MAC, and no base given)");
  g_assert_true(
      pp_network_ar_set_mac_base(&g_array_index(spec->ars, PpNetworkAr, 0), &prefix, 0x100, NULL));
  lease_ok(ar(spec, 0), 0, &lease);
  assert_mac(&lease.mac, "02:00:00:00:01:00");
  g_assert_true(lease.has_ip6);
  assert_ip6(&lease.ip6, "2001:db8::10");
  g_assert_false(lease.has_ip || lease.has_ip6_global || lease.has_ip6_ula);
  lease_ok(ar(spec, 0), 15, &lease);
  assert_ip6(&lease.ip6, "2001:db8::1f");
  lease_fails(ar(spec, 0), 16, PP_NETWORK_ERROR_RANGE, "lease 16 is past the end of a range of 16");

  /* Over the 64-bit boundary. */
  lease_ok(ar(spec, 1), 3, &lease);
  assert_ip6(&lease.ip6, "2001:db8:0:1::1");
  assert_mac(&lease.mac, "02:00:00:00:00:04");
}

static void
test_lease_ip4_6(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD "AR = [ TYPE = IP4_6, IP = 192.168.1.1, SIZE = 2,\n"
                    "       GLOBAL_PREFIX = \"2001:db8:1:2::\" ]\n"
                    "AR = [ TYPE = IP4_6_STATIC, IP = 10.1.0.1, SIZE = 256,\n"
                    "       IP6 = \"2001:db8::100\", PREFIX_LENGTH = 120 ]\n");
  PpNetworkLease lease;

  lease_ok(ar(spec, 0), 1, &lease);
  assert_mac(&lease.mac, "02:00:c0:a8:01:02");
  assert_ip4(&lease.ip, "192.168.1.2");
  g_assert_true(lease.has_ip6_global);
  assert_ip6(&lease.ip6_global, "2001:db8:1:2:0:c0ff:fea8:102");
  g_assert_false(lease.has_ip6_ula);
  g_assert_false(lease.has_ip6);
  lease_fails(ar(spec, 0), 2, PP_NETWORK_ERROR_RANGE, "lease 2 is past the end of a range of 2");

  lease_ok(ar(spec, 1), 0, &lease);
  assert_mac(&lease.mac, "02:00:0a:01:00:01");
  assert_ip4(&lease.ip, "10.1.0.1");
  g_assert_true(lease.has_ip6);
  assert_ip6(&lease.ip6, "2001:db8::100");
  g_assert_false(lease.has_ip6_global || lease.has_ip6_ula);
  lease_ok(ar(spec, 1), 255, &lease);
  assert_ip4(&lease.ip, "10.1.1.0");
  assert_ip6(&lease.ip6, "2001:db8::1ff");
  assert_mac(&lease.mac, "02:00:0a:01:01:00");
  lease_fails(ar(spec, 1), 256, PP_NETWORK_ERROR_RANGE,
              "lease 256 is past the end of a range of 256");
  /* One more would leave the /120. */
  parse_fails(HEAD "AR = [ TYPE = IP4_6_STATIC, IP = 10.1.0.1, SIZE = 257,\n"
                   "       IP6 = \"2001:db8::100\", PREFIX_LENGTH = 120 ]\n",
              "line 4, column 8: AR: 257 addresses from IP6 2001:db8::100 would pass the end of "
              "its /120");
}

/* The last lease of a range at the end of the IPv4 space. */
static void
test_lease_edge(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD "AR = [ TYPE = IP4, IP = 255.255.255.250, SIZE = 6 ]\n");
  PpNetworkLease lease;

  lease_ok(ar(spec, 0), 5, &lease);
  assert_ip4(&lease.ip, "255.255.255.255");
  assert_mac(&lease.mac, "02:00:ff:ff:ff:ff");
  lease_fails(ar(spec, 0), 6, PP_NETWORK_ERROR_RANGE, "lease 6 is past the end of a range of 6");
}

/* ------------------------------------------------------------------------ */
/* Requested addresses                                                       */
/* ------------------------------------------------------------------------ */

static void
test_find(void)
{
  g_autoptr(PpNetworkSpec) spec =
      parse_ok(HEAD AR4 "AR = [ TYPE = IP4, IP = 10.0.1.1, SIZE = 10 ]\n"
                        "AR = [ TYPE = ETHER, MAC = 52:54:00:00:00:00, SIZE = 300 ]\n"
                        "AR = [ TYPE = IP6_STATIC, IP6 = \"2001:db8::ffff:ffff:ffff:fffe\", "
                        "PREFIX_LENGTH = 32, SIZE = 4 ]\n");
  guint32 index = 777;
  guint which = 777;
  PpIp4 ip;
  PpMac m;
  PpIp6 v6;

  ip = ip4("10.0.0.1");
  g_assert_true(pp_network_ar_find_ip(ar(spec, 0), &ip, &index));
  g_assert_cmpuint(index, ==, 0);
  ip = ip4("10.0.0.10");
  g_assert_true(pp_network_ar_find_ip(ar(spec, 0), &ip, &index));
  g_assert_cmpuint(index, ==, 9);
  index = 777;
  ip = ip4("10.0.0.11");
  g_assert_false(pp_network_ar_find_ip(ar(spec, 0), &ip, &index));
  ip = ip4("10.0.0.0");
  g_assert_false(pp_network_ar_find_ip(ar(spec, 0), &ip, &index));
  g_assert_false(pp_network_ar_find_ip(ar(spec, 2), &ip, &index)); /* ETHER */
  g_assert_cmpuint(index, ==, 777);

  ip = ip4("10.0.1.5");
  g_assert_true(pp_network_spec_find_ip(spec, &ip, &which, &index));
  g_assert_cmpuint(which, ==, 1);
  g_assert_cmpuint(index, ==, 4);
  ip = ip4("10.0.2.1");
  g_assert_false(pp_network_spec_find_ip(spec, &ip, &which, &index));

  /* Generated and given MACs. */
  m = mac("02:00:0a:00:01:0a");
  g_assert_true(pp_network_spec_find_mac(spec, &m, &which, &index));
  g_assert_cmpuint(which, ==, 1);
  g_assert_cmpuint(index, ==, 9);
  m = mac("52:54:00:00:01:2b");
  g_assert_true(pp_network_spec_find_mac(spec, &m, &which, &index));
  g_assert_cmpuint(which, ==, 2);
  g_assert_cmpuint(index, ==, 299);
  m = mac("52:54:00:00:01:2c");
  g_assert_false(pp_network_spec_find_mac(spec, &m, &which, &index));
  /* A range without MAC yet holds none. */
  m = mac("02:00:00:00:00:00");
  g_assert_false(pp_network_ar_find_mac(ar(spec, 3), &m, &index));

  v6 = ip6("2001:db8:0:1::1");
  g_assert_true(pp_network_ar_find_ip6(ar(spec, 3), &v6, &index));
  g_assert_cmpuint(index, ==, 3);
  v6 = ip6("2001:db8::ffff:ffff:ffff:fffe");
  g_assert_true(pp_network_ar_find_ip6(ar(spec, 3), &v6, &index));
  g_assert_cmpuint(index, ==, 0);
  index = 777;
  v6 = ip6("2001:db8:0:1::2");
  g_assert_false(pp_network_ar_find_ip6(ar(spec, 3), &v6, &index));
  v6 = ip6("2001:db8::ffff:ffff:ffff:fffd");
  g_assert_false(pp_network_ar_find_ip6(ar(spec, 3), &v6, &index));
  v6 = ip6("2001:db9::ffff:ffff:ffff:fffe");
  g_assert_false(pp_network_ar_find_ip6(ar(spec, 3), &v6, &index));
  g_assert_false(pp_network_ar_find_ip6(ar(spec, 0), &v6, &index));
  g_assert_cmpuint(index, ==, 777);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/network/mac", test_mac);
  g_test_add_func("/network/mac-add", test_mac_add);
  g_test_add_func("/network/mac-prefix", test_mac_prefix);
  g_test_add_func("/network/ip4", test_ip4);
  g_test_add_func("/network/ip6", test_ip6);
  g_test_add_func("/network/eui64", test_eui64);
  g_test_add_func("/network/minimal", test_minimal);
  g_test_add_func("/network/guide", test_guide);
  g_test_add_func("/network/full", test_full);
  g_test_add_func("/network/required", test_required);
  g_test_add_func("/network/syntax", test_syntax);
  g_test_add_func("/network/name", test_name);
  g_test_add_func("/network/vn-mad", test_vn_mad);
  g_test_add_func("/network/bridge-phydev", test_bridge_phydev);
  g_test_add_func("/network/vlan-id", test_vlan_id);
  g_test_add_func("/network/mtu", test_mtu);
  g_test_add_func("/network/network-address", test_network_address);
  g_test_add_func("/network/gateways", test_gateways);
  g_test_add_func("/network/dns", test_dns);
  g_test_add_func("/network/search-domain", test_search_domain);
  g_test_add_func("/network/unsupported", test_unsupported);
  g_test_add_func("/network/ar-keys", test_ar_keys);
  g_test_add_func("/network/ar-size", test_ar_size);
  g_test_add_func("/network/ar-ip4", test_ar_ip4);
  g_test_add_func("/network/ar-prefixes", test_ar_prefixes);
  g_test_add_func("/network/ar-ip6-static", test_ar_ip6_static);
  g_test_add_func("/network/ar-mac", test_ar_mac);
  g_test_add_func("/network/too-many-ars", test_too_many_ars);
  g_test_add_func("/network/overlaps", test_overlaps);
  g_test_add_func("/network/mac-base", test_mac_base);
  g_test_add_func("/network/key-pos-bom", test_key_pos_bom);
  g_test_add_func("/network/overlaps-built", test_overlaps_built);
  g_test_add_func("/network/lease-ether", test_lease_ether);
  g_test_add_func("/network/lease-ip4", test_lease_ip4);
  g_test_add_func("/network/lease-ip6", test_lease_ip6);
  g_test_add_func("/network/lease-ip6-static", test_lease_ip6_static);
  g_test_add_func("/network/lease-ip4-6", test_lease_ip4_6);
  g_test_add_func("/network/lease-edge", test_lease_edge);
  g_test_add_func("/network/find", test_find);

  return g_test_run();
}
