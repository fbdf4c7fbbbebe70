#define G_LOG_DOMAIN "pp-network"

#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "pp-network.h"
#include "pp-template-pos.h"

/* clang-format off */
G_DEFINE_QUARK(pp-network-error-quark, pp_network_error)
/* clang-format on */

/* Network names: the rule of host and user names (pp-store-int.h). */
#define NAME_MAX_LEN 64
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
#define IFNAME_MAX_LEN 15 /* IFNAMSIZ - 1: BRIDGE and PHYDEV */
#define DOMAIN_MAX_LEN 253
#define LIST_MAX_LEN 4096 /* DNS and SEARCH_DOMAIN as written */

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

gboolean
pp_mac_parse(const char *s, PpMac *ret, GError **error)
{
  PpMac mac;

  g_return_val_if_fail(s != NULL && ret != NULL, FALSE);

  if (strlen(s) != 17)
    goto bad;
  for (guint i = 0; i < 17; i++) {
    if (i % 3 == 2 ? s[i] != ':' : !g_ascii_isxdigit(s[i]))
      goto bad;
  }
  for (guint i = 0; i < 6; i++)
    mac.bytes[i] =
        (guint8)(g_ascii_xdigit_value(s[i * 3]) << 4 | g_ascii_xdigit_value(s[i * 3 + 1]));
  *ret = mac;
  return TRUE;

bad:
  g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
              "'%s' is not a MAC address: six pairs of hex digits separated by ':' (as "
              "02:00:0a:00:00:01)",
              s);
  return FALSE;
}

const char *
pp_mac_format(const PpMac *mac, char buf[PP_MAC_BUFSIZE])
{
  g_snprintf(buf, PP_MAC_BUFSIZE, "%02x:%02x:%02x:%02x:%02x:%02x", mac->bytes[0], mac->bytes[1],
             mac->bytes[2], mac->bytes[3], mac->bytes[4], mac->bytes[5]);
  return buf;
}

gboolean
pp_mac_is_unicast(const PpMac *mac)
{
  return (mac->bytes[0] & 0x01) == 0;
}

gint
pp_mac_compare(const PpMac *a, const PpMac *b)
{
  return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

guint64
pp_mac_to_u64(const PpMac *mac)
{
  guint64 n = 0;

  for (guint i = 0; i < 6; i++)
    n = n << 8 | mac->bytes[i];
  return n;
}

void
pp_mac_from_u64(guint64 n, PpMac *ret)
{
  for (gint i = 5; i >= 0; i--, n >>= 8)
    ret->bytes[i] = (guint8)(n & 0xff);
}

#define MAC_MAX G_GUINT64_CONSTANT(0xffffffffffff)

gboolean
pp_mac_add(const PpMac *mac, guint64 n, PpMac *ret)
{
  guint64 value = pp_mac_to_u64(mac);

  if (n > MAC_MAX - value)
    return FALSE;
  pp_mac_from_u64(value + n, ret);
  return TRUE;
}

gboolean
pp_mac_prefix_parse(const char *s, PpMacPrefix *ret, GError **error)
{
  g_return_val_if_fail(s != NULL && ret != NULL, FALSE);

  if (strlen(s) != 5 || s[2] != ':' || !g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]) ||
      !g_ascii_isxdigit(s[3]) || !g_ascii_isxdigit(s[4])) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
                "'%s' is not a MAC prefix: two pairs of hex digits separated by ':' (as 02:00)", s);
    return FALSE;
  }
  if (g_ascii_xdigit_value(s[1]) & 1) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
                "the MAC prefix '%s' is multicast (bit 0 of its first byte is set): a NIC's MAC "
                "is unicast (as 02:00)",
                s);
    return FALSE;
  }
  ret->bytes[0] = (guint8)(g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]));
  ret->bytes[1] = (guint8)(g_ascii_xdigit_value(s[3]) << 4 | g_ascii_xdigit_value(s[4]));
  return TRUE;
}

void
pp_mac_generate(const PpMacPrefix *prefix, guint32 value, PpMac *ret)
{
  ret->bytes[0] = prefix->bytes[0];
  ret->bytes[1] = prefix->bytes[1];
  ret->bytes[2] = (guint8)(value >> 24);
  ret->bytes[3] = (guint8)(value >> 16);
  ret->bytes[4] = (guint8)(value >> 8);
  ret->bytes[5] = (guint8)value;
}

gboolean
pp_ip4_parse(const char *s, PpIp4 *ret, GError **error)
{
  PpIp4 ip;

  g_return_val_if_fail(s != NULL && ret != NULL, FALSE);

  /* glibc's inet_pton(AF_INET) takes exactly four decimal parts, each
   * 0..255 and without a leading zero: no octal, no "10.1" shorthand. */
  if (inet_pton(AF_INET, s, ip.bytes) != 1) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
                "'%s' is not an IPv4 address (as 10.0.0.1)", s);
    return FALSE;
  }
  *ret = ip;
  return TRUE;
}

const char *
pp_ip4_format(const PpIp4 *ip, char buf[PP_IP4_BUFSIZE])
{
  g_snprintf(buf, PP_IP4_BUFSIZE, "%u.%u.%u.%u", ip->bytes[0], ip->bytes[1], ip->bytes[2],
             ip->bytes[3]);
  return buf;
}

guint32
pp_ip4_to_u32(const PpIp4 *ip)
{
  return (guint32)ip->bytes[0] << 24 | (guint32)ip->bytes[1] << 16 | (guint32)ip->bytes[2] << 8 |
         ip->bytes[3];
}

void
pp_ip4_from_u32(guint32 n, PpIp4 *ret)
{
  ret->bytes[0] = (guint8)(n >> 24);
  ret->bytes[1] = (guint8)(n >> 16);
  ret->bytes[2] = (guint8)(n >> 8);
  ret->bytes[3] = (guint8)n;
}

gint
pp_ip4_compare(const PpIp4 *a, const PpIp4 *b)
{
  return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

gboolean
pp_ip4_add(const PpIp4 *ip, guint64 n, PpIp4 *ret)
{
  guint32 value = pp_ip4_to_u32(ip);

  if (n > (guint64)(G_MAXUINT32 - value))
    return FALSE;
  pp_ip4_from_u32(value + (guint32)n, ret);
  return TRUE;
}

gboolean
pp_ip6_parse(const char *s, PpIp6 *ret, GError **error)
{
  PpIp6 ip;

  g_return_val_if_fail(s != NULL && ret != NULL, FALSE);

  if (inet_pton(AF_INET6, s, ip.bytes) != 1) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
                "'%s' is not an IPv6 address (as 2001:db8::1)", s);
    return FALSE;
  }
  *ret = ip;
  return TRUE;
}

const char *
pp_ip6_format(const PpIp6 *ip, char buf[PP_IP6_BUFSIZE])
{
  if (inet_ntop(AF_INET6, ip->bytes, buf, PP_IP6_BUFSIZE) == NULL)
    g_assert_not_reached(); /* the buffer is INET6_ADDRSTRLEN long */
  return buf;
}

gint
pp_ip6_compare(const PpIp6 *a, const PpIp6 *b)
{
  return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

gboolean
pp_ip6_add(const PpIp6 *ip, guint64 n, PpIp6 *ret)
{
  PpIp6 sum = *ip;
  guint carry = 0;

  /* Byte by byte from the lowest, @n's bytes first, then the carry. */
  for (gint i = 15; i >= 0; i--) {
    guint add = (guint)(n & 0xff) + carry;

    n >>= 8;
    add += sum.bytes[i];
    sum.bytes[i] = (guint8)(add & 0xff);
    carry = add >> 8;
  }
  if (carry != 0)
    return FALSE;
  *ret = sum;
  return TRUE;
}

void
pp_ip6_eui64(const PpIp6 *prefix, const PpMac *mac, PpIp6 *ret)
{
  memcpy(ret->bytes, prefix->bytes, 8);
  ret->bytes[8] = mac->bytes[0] ^ 0x02; /* the universal/local bit, inverted */
  ret->bytes[9] = mac->bytes[1];
  ret->bytes[10] = mac->bytes[2];
  ret->bytes[11] = 0xff;
  ret->bytes[12] = 0xfe;
  ret->bytes[13] = mac->bytes[3];
  ret->bytes[14] = mac->bytes[4];
  ret->bytes[15] = mac->bytes[5];
}

/* ------------------------------------------------------------------------ */
/* Types                                                                     */
/* ------------------------------------------------------------------------ */

static const char *const vn_mad_names[] = { "dummy", "802.1Q", "bridge", "ovswitch" };
static const char *const ar_type_names[] = { "ETHER",      "IP4",   "IP6",
                                             "IP6_STATIC", "IP4_6", "IP4_6_STATIC" };

G_STATIC_ASSERT(G_N_ELEMENTS(vn_mad_names) == _PP_NETWORK_VN_MAD_MAX);
G_STATIC_ASSERT(G_N_ELEMENTS(ar_type_names) == _PP_NETWORK_AR_MAX);

const char *
pp_network_vn_mad_to_string(PpNetworkVnMad vn_mad)
{
  g_return_val_if_fail(vn_mad < _PP_NETWORK_VN_MAD_MAX, NULL);
  return vn_mad_names[vn_mad];
}

const char *
pp_network_ar_type_to_string(PpNetworkArType type)
{
  g_return_val_if_fail(type < _PP_NETWORK_AR_MAX, NULL);
  return ar_type_names[type];
}

gboolean
pp_network_ar_type_has_ip4(PpNetworkArType type)
{
  return type == PP_NETWORK_AR_IP4 || type == PP_NETWORK_AR_IP4_6 ||
         type == PP_NETWORK_AR_IP4_6_STATIC;
}

gboolean
pp_network_ar_type_has_prefixes(PpNetworkArType type)
{
  return type == PP_NETWORK_AR_IP6 || type == PP_NETWORK_AR_IP4_6;
}

gboolean
pp_network_ar_type_has_ip6_static(PpNetworkArType type)
{
  return type == PP_NETWORK_AR_IP6_STATIC || type == PP_NETWORK_AR_IP4_6_STATIC;
}

/* ------------------------------------------------------------------------ */
/* The spec                                                                  */
/* ------------------------------------------------------------------------ */

PpNetworkSpec *
pp_network_spec_new(void)
{
  PpNetworkSpec *spec = g_new0(PpNetworkSpec, 1);

  spec->vn_mad = PP_NETWORK_VN_MAD_DUMMY;
  spec->vlan_id = -1;
  spec->dns = g_array_new(FALSE, TRUE, sizeof(PpIpAddress));
  spec->search_domains = g_new0(char *, 1);
  spec->ars = g_array_new(FALSE, TRUE, sizeof(PpNetworkAr));
  return spec;
}

void
pp_network_spec_free(PpNetworkSpec *spec)
{
  if (spec == NULL)
    return;
  g_free(spec->name);
  g_free(spec->bridge);
  g_free(spec->phydev);
  if (spec->dns != NULL)
    g_array_unref(spec->dns);
  g_strfreev(spec->search_domains);
  if (spec->ars != NULL)
    g_array_unref(spec->ars);
  pp_template_free(spec->tmpl);
  g_free(spec);
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                    */
/* ------------------------------------------------------------------------ */

/* The last address of each kind a range holds, written only when it does
 * not pass the end of its space. */
static gboolean
ar_last_ip(const PpNetworkAr *ar, PpIp4 *ret)
{
  return pp_ip4_add(&ar->ip, ar->size - 1, ret);
}

static gboolean
ar_last_mac(const PpNetworkAr *ar, PpMac *ret)
{
  return pp_mac_add(&ar->mac, ar->size - 1, ret);
}

/* TRUE when @a and @b, the first addresses, are within @prefix_length bits
 * of each other: the same network. */
static gboolean
ip6_same_prefix(const PpIp6 *a, const PpIp6 *b, guint prefix_length)
{
  guint whole = prefix_length / 8, bits = prefix_length % 8;

  if (memcmp(a->bytes, b->bytes, whole) != 0)
    return FALSE;
  if (bits == 0)
    return TRUE;
  return ((a->bytes[whole] ^ b->bytes[whole]) & (0xff << (8 - bits)) & 0xff) == 0;
}

/* The last static IPv6 of @ar, when it is within IP6/PREFIX_LENGTH. */
static gboolean
ar_last_ip6(const PpNetworkAr *ar, PpIp6 *ret)
{
  PpIp6 last;

  if (!pp_ip6_add(&ar->ip6, ar->size - 1, &last) ||
      !ip6_same_prefix(&ar->ip6, &last, ar->prefix_length))
    return FALSE;
  *ret = last;
  return TRUE;
}

gboolean
pp_network_ar_set_mac_base(PpNetworkAr *ar, const PpMacPrefix *prefix, guint32 base, GError **error)
{
  g_return_val_if_fail(ar != NULL && prefix != NULL && ar->size >= 1, FALSE);

  if (ar->mac_given) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
                "the %s range has its MACs from the template (MAC)", ar_type_names[ar->type]);
    return FALSE;
  }
  if (ar->size - 1 > G_MAXUINT32 - base) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_OVERFLOW,
                "a range of %u MACs from base %08x would pass %02x:%02x:ff:ff:ff:ff", ar->size,
                base, prefix->bytes[0], prefix->bytes[1]);
    return FALSE;
  }
  pp_mac_generate(prefix, base, &ar->mac);
  ar->has_mac = TRUE;
  return TRUE;
}

gboolean
pp_network_ar_lease(const PpNetworkAr *ar, guint32 index, PpNetworkLease *ret_lease, GError **error)
{
  PpNetworkLease lease = { 0 };

  g_return_val_if_fail(ar != NULL && ret_lease != NULL, FALSE);

  if (index >= ar->size) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_RANGE,
                "lease %u is past the end of a range of %u", index, ar->size);
    return FALSE;
  }
  if (!ar->has_mac) {
    g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_RANGE,
                "the %s range has no MACs yet (no MAC, and no base given)",
                ar_type_names[ar->type]);
    return FALSE;
  }
  /* The parser refused a range whose addresses pass their ends: these
   * hold for any index below SIZE of a range it made. */
  if (!pp_mac_add(&ar->mac, index, &lease.mac))
    goto overflow;
  if (pp_network_ar_type_has_ip4(ar->type)) {
    lease.has_ip = TRUE;
    if (!pp_ip4_add(&ar->ip, index, &lease.ip))
      goto overflow;
  }
  if (pp_network_ar_type_has_prefixes(ar->type) && ar->has_global) {
    lease.has_ip6_global = TRUE;
    pp_ip6_eui64(&ar->global_prefix, &lease.mac, &lease.ip6_global);
  }
  if (pp_network_ar_type_has_prefixes(ar->type) && ar->has_ula) {
    lease.has_ip6_ula = TRUE;
    pp_ip6_eui64(&ar->ula_prefix, &lease.mac, &lease.ip6_ula);
  }
  if (pp_network_ar_type_has_ip6_static(ar->type)) {
    lease.has_ip6 = TRUE;
    if (!pp_ip6_add(&ar->ip6, index, &lease.ip6) ||
        !ip6_same_prefix(&ar->ip6, &lease.ip6, ar->prefix_length))
      goto overflow;
  }
  *ret_lease = lease;
  return TRUE;

overflow:
  g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_OVERFLOW,
              "lease %u of the %s range is past the end of its address space", index,
              ar_type_names[ar->type]);
  return FALSE;
}

gboolean
pp_network_ar_find_ip(const PpNetworkAr *ar, const PpIp4 *ip, guint32 *ret_index)
{
  guint32 first, want;

  g_return_val_if_fail(ar != NULL && ip != NULL, FALSE);

  if (!pp_network_ar_type_has_ip4(ar->type))
    return FALSE;
  first = pp_ip4_to_u32(&ar->ip);
  want = pp_ip4_to_u32(ip);
  if (want < first || want - first >= ar->size)
    return FALSE;
  if (ret_index != NULL)
    *ret_index = want - first;
  return TRUE;
}

gboolean
pp_network_ar_find_mac(const PpNetworkAr *ar, const PpMac *mac, guint32 *ret_index)
{
  guint64 first, want;

  g_return_val_if_fail(ar != NULL && mac != NULL, FALSE);

  if (!ar->has_mac)
    return FALSE;
  first = pp_mac_to_u64(&ar->mac);
  want = pp_mac_to_u64(mac);
  if (want < first || want - first >= ar->size)
    return FALSE;
  if (ret_index != NULL)
    *ret_index = (guint32)(want - first);
  return TRUE;
}

gboolean
pp_network_ar_find_ip6(const PpNetworkAr *ar, const PpIp6 *ip6, guint32 *ret_index)
{
  guint64 offset = 0;
  guint borrow = 0;
  PpIp6 diff;

  g_return_val_if_fail(ar != NULL && ip6 != NULL, FALSE);

  if (!pp_network_ar_type_has_ip6_static(ar->type) || pp_ip6_compare(ip6, &ar->ip6) < 0)
    return FALSE;
  /* @ip6 - IP6 as 128-bit numbers (OpenNebula compares the upper 96 bits
   * and subtracts the lower 32, so a range over a 32-bit boundary loses
   * its end). */
  for (gint i = 15; i >= 0; i--) {
    gint d = (gint)ip6->bytes[i] - (gint)ar->ip6.bytes[i] - (gint)borrow;

    borrow = d < 0;
    diff.bytes[i] = (guint8)(d < 0 ? d + 256 : d);
  }
  for (guint i = 0; i < 8; i++) {
    if (diff.bytes[i] != 0)
      return FALSE;
  }
  for (guint i = 8; i < 16; i++)
    offset = offset << 8 | diff.bytes[i];
  if (offset >= ar->size)
    return FALSE;
  if (ret_index != NULL)
    *ret_index = (guint32)offset;
  return TRUE;
}

gboolean
pp_network_spec_find_ip(const PpNetworkSpec *spec, const PpIp4 *ip, guint *ret_ar,
                        guint32 *ret_index)
{
  g_return_val_if_fail(spec != NULL && ip != NULL, FALSE);

  for (guint i = 0; i < spec->ars->len; i++) {
    if (pp_network_ar_find_ip(&g_array_index(spec->ars, PpNetworkAr, i), ip, ret_index)) {
      if (ret_ar != NULL)
        *ret_ar = i;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
pp_network_spec_find_mac(const PpNetworkSpec *spec, const PpMac *mac, guint *ret_ar,
                         guint32 *ret_index)
{
  g_return_val_if_fail(spec != NULL && mac != NULL, FALSE);

  for (guint i = 0; i < spec->ars->len; i++) {
    if (pp_network_ar_find_mac(&g_array_index(spec->ars, PpNetworkAr, i), mac, ret_index)) {
      if (ret_ar != NULL)
        *ret_ar = i;
      return TRUE;
    }
  }
  return FALSE;
}

/* "line 4, column 1: AR: " for an AR read from a text; "" for a built one. */
static char *
ar_where(const PpNetworkAr *ar)
{
  if (ar->pos.line == 0)
    return g_strdup("");
  return g_strdup_printf("line %u, column %u: AR: ", ar->pos.line, ar->pos.column);
}

/* "AR 0 (line 2)" or "AR 0". */
static char *
ar_name(const PpNetworkAr *ar, guint id)
{
  if (ar->pos.line == 0)
    return g_strdup_printf("AR %u", id);
  return g_strdup_printf("AR %u (line %u)", id, ar->pos.line);
}

static gboolean
fail_overlap(const PpNetworkSpec *spec, guint later, guint earlier, const char *what,
             const char *later_first, const char *later_last, const char *earlier_first,
             const char *earlier_last, GError **error)
{
  const PpNetworkAr *b = &g_array_index(spec->ars, PpNetworkAr, later);
  const PpNetworkAr *a = &g_array_index(spec->ars, PpNetworkAr, earlier);
  g_autofree char *where = ar_where(b);
  g_autofree char *name = ar_name(a, earlier);

  g_set_error(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID,
              "%sthe %s %s to %s of AR %u overlap %s to %s of %s", where, what, later_first,
              later_last, later, earlier_first, earlier_last, name);
  return FALSE;
}

/* pp_network_spec_check_overlaps(), saying which AR the error is about. */
static gboolean
check_overlaps(const PpNetworkSpec *spec, guint *ret_later, GError **error)
{
  /* At most PP_NETWORK_MAX_ARS ranges: every pair, in order, so the error
   * names the later one where it is written. IP addresses before MACs: an
   * IPv4 range's MACs come from its addresses, and the addresses are what
   * the user wrote. */
  for (guint j = 1; j < spec->ars->len; j++) {
    const PpNetworkAr *b = &g_array_index(spec->ars, PpNetworkAr, j);

    for (guint i = 0; i < j; i++) {
      const PpNetworkAr *a = &g_array_index(spec->ars, PpNetworkAr, i);

      *ret_later = j;
      if (pp_network_ar_type_has_ip4(a->type) && pp_network_ar_type_has_ip4(b->type)) {
        PpIp4 a_last, b_last;
        char s[4][PP_IP4_BUFSIZE];

        if (ar_last_ip(a, &a_last) && ar_last_ip(b, &b_last) &&
            pp_ip4_compare(&a->ip, &b_last) <= 0 && pp_ip4_compare(&b->ip, &a_last) <= 0)
          return fail_overlap(spec, j, i, "IPv4 addresses", pp_ip4_format(&b->ip, s[0]),
                              pp_ip4_format(&b_last, s[1]), pp_ip4_format(&a->ip, s[2]),
                              pp_ip4_format(&a_last, s[3]), error);
      }
      if (pp_network_ar_type_has_ip6_static(a->type) &&
          pp_network_ar_type_has_ip6_static(b->type)) {
        PpIp6 a_last, b_last;
        char s[4][PP_IP6_BUFSIZE];

        if (ar_last_ip6(a, &a_last) && ar_last_ip6(b, &b_last) &&
            pp_ip6_compare(&a->ip6, &b_last) <= 0 && pp_ip6_compare(&b->ip6, &a_last) <= 0)
          return fail_overlap(spec, j, i, "IPv6 addresses", pp_ip6_format(&b->ip6, s[0]),
                              pp_ip6_format(&b_last, s[1]), pp_ip6_format(&a->ip6, s[2]),
                              pp_ip6_format(&a_last, s[3]), error);
      }
      if (a->has_mac && b->has_mac) {
        PpMac a_last, b_last;
        char s[4][PP_MAC_BUFSIZE];

        if (ar_last_mac(a, &a_last) && ar_last_mac(b, &b_last) &&
            pp_mac_compare(&a->mac, &b_last) <= 0 && pp_mac_compare(&b->mac, &a_last) <= 0)
          return fail_overlap(spec, j, i, "MACs", pp_mac_format(&b->mac, s[0]),
                              pp_mac_format(&b_last, s[1]), pp_mac_format(&a->mac, s[2]),
                              pp_mac_format(&a_last, s[3]), error);
      }
    }
  }
  return TRUE;
}

gboolean
pp_network_spec_check_overlaps(const PpNetworkSpec *spec, GError **error)
{
  guint later = 0;

  g_return_val_if_fail(spec != NULL, FALSE);
  return check_overlaps(spec, &later, error);
}

/* ------------------------------------------------------------------------ */
/* The template                                                              */
/* ------------------------------------------------------------------------ */

/* The most attribute rules (rules[] below). */
#define RULES_MAX 16

typedef struct {
  const char *text;
  gsize len;
  PpNetworkSpec *spec;
  PpMacPrefix mac_prefix;
  GError **error;
  PpTextPos *where;
  /* By rule: the first attribute of that name, and how many were read. */
  const PpAttribute *first[RULES_MAX];
  guint count[RULES_MAX];
} Ctx;

static gboolean fail_at(Ctx *ctx, PpTextPos pos, const char *attribute, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* Sets "line L, column C: ATTRIBUTE: message" (without "ATTRIBUTE: " when
 * @attribute is NULL); returns FALSE. */
static gboolean
fail_at(Ctx *ctx, PpTextPos pos, const char *attribute, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(ctx->error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID, "line %u, column %u: %s%s%s",
              pos.line, pos.column, attribute ? attribute : "", attribute ? ": " : "", message);
  *ctx->where = pos;
  return FALSE;
}

#define fail_attr(ctx, attr, ...)                                                                  \
  fail_at((ctx), pp_attribute_get_pos(attr), pp_attribute_get_name(attr), __VA_ARGS__)
#define fail_key(ctx, attr, key, ...)                                                              \
  fail_at((ctx), pp_template_vector_key_pos((ctx)->text, (ctx)->len, (attr), (key)),               \
          pp_attribute_get_name(attr), __VA_ARGS__)

static gboolean
all_digits(const char *s)
{
  if (*s == '\0')
    return FALSE;
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  return TRUE;
}

/* A decimal integer in [min, max]; digits only (no sign, no blanks). */
static gboolean
parse_uint(const char *s, guint64 min, guint64 max, guint64 *ret)
{
  return all_digits(s) && g_ascii_string_to_unsigned(s, 10, min, max, ret, NULL);
}

/* 1..@max of [A-Za-z0-9._-]. */
static gboolean
is_word(const char *s, gsize max)
{
  gsize n = strlen(s);

  return n >= 1 && n <= max && strspn(s, NAME_CHARS) == n;
}

/* A DNS name: labels of 1..63 letters, digits and '-', not starting or
 * ending with '-', separated by '.'; at most 253 bytes; a final '.' is
 * allowed. */
static gboolean
is_domain(const char *s)
{
  gsize n = strlen(s), label = 0;

  if (n == 0 || n > DOMAIN_MAX_LEN + 1 || s[0] == '.')
    return FALSE;
  for (gsize i = 0; i < n; i++) {
    if (s[i] == '.') {
      if (label == 0 || s[i - 1] == '-')
        return FALSE;
      label = 0;
    } else if (g_ascii_isalnum(s[i]) || (s[i] == '-' && label > 0)) {
      if (++label > 63)
        return FALSE;
    } else {
      return FALSE;
    }
  }
  return s[n - 1] != '-';
}

/* --- single attributes --------------------------------------------------- */

static gboolean
parse_name(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (!is_word(value, NAME_MAX_LEN) || value[0] == '-' || value[0] == '.')
    return fail_attr(ctx, attr,
                     "'%s' is not a network name: 1 to %d letters, digits, '.', '_' or '-', not "
                     "starting with '.' or '-'",
                     value, NAME_MAX_LEN);
  ctx->spec->name = g_strdup(value);
  return TRUE;
}

static gboolean
parse_vn_mad(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  for (guint i = 0; i < G_N_ELEMENTS(vn_mad_names); i++) {
    /* OpenNebula writes them so; any case is the same driver. */
    if (g_ascii_strcasecmp(value, vn_mad_names[i]) == 0) {
      ctx->spec->vn_mad = (PpNetworkVnMad)i;
      return TRUE;
    }
  }
  return fail_attr(
      ctx, attr,
      "'%s' is not a network driver pcipass implements: dummy, 802.1Q, bridge or ovswitch", value);
}

static gboolean
parse_bridge(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (!is_word(value, IFNAME_MAX_LEN))
    return fail_attr(ctx, attr,
                     "'%s' is not an interface name: 1 to %d letters, digits, '.', '_' or '-'",
                     value, IFNAME_MAX_LEN);
  ctx->spec->bridge = g_strdup(value);
  return TRUE;
}

static gboolean
parse_phydev(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  /* Blank is "none": the guide's 802.1Q network of PCI NICs. */
  if (value[0] == '\0')
    return TRUE;
  if (!is_word(value, IFNAME_MAX_LEN))
    return fail_attr(ctx, attr,
                     "'%s' is not an interface name: 1 to %d letters, digits, '.', '_' or '-'",
                     value, IFNAME_MAX_LEN);
  ctx->spec->phydev = g_strdup(value);
  return TRUE;
}

static gboolean
parse_vlan_id(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  guint64 n;

  /* 4095 is reserved by 802.1Q itself. */
  if (!parse_uint(value, 0, PP_NETWORK_VLAN_ID_MAX, &n))
    return fail_attr(ctx, attr, "'%s' is not a VLAN id: an integer from 0 to %d", value,
                     PP_NETWORK_VLAN_ID_MAX);
  ctx->spec->vlan_id = (gint)n;
  return TRUE;
}

static gboolean
parse_mtu(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  guint64 n;

  if (!parse_uint(value, PP_NETWORK_MTU_MIN, PP_NETWORK_MTU_MAX, &n))
    return fail_attr(ctx, attr, "'%s' is not an MTU: an integer from %d to %d", value,
                     PP_NETWORK_MTU_MIN, PP_NETWORK_MTU_MAX);
  ctx->spec->mtu = (guint)n;
  return TRUE;
}

static gboolean
parse_network_address(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!pp_ip4_parse(value, &ctx->spec->network_address, &error))
    return fail_attr(ctx, attr, "%s", error->message);
  return TRUE;
}

static gboolean
parse_network_mask(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  guint64 n;
  PpIp4 mask;

  if (value[0] == '/' && parse_uint(value + 1, 0, 32, &n)) {
    ctx->spec->network_prefix = (guint)n;
    return TRUE;
  }
  if (pp_ip4_parse(value, &mask, NULL)) {
    guint32 m = pp_ip4_to_u32(&mask);
    guint bits = 0;

    while (bits < 32 && (m & (G_GUINT64_CONSTANT(0x80000000) >> bits)) != 0)
      bits++;
    /* Contiguous: the bits after the ones are all zero. */
    if (bits == 32 || (m << bits) == 0) {
      ctx->spec->network_prefix = bits;
      return TRUE;
    }
  }
  return fail_attr(ctx, attr,
                   "'%s' is not a network mask: dotted, with its ones first (as 255.255.255.0), "
                   "or a prefix length (as /24)",
                   value);
}

static gboolean
parse_gateway(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!pp_ip4_parse(value, &ctx->spec->gateway, &error))
    return fail_attr(ctx, attr, "%s", error->message);
  ctx->spec->has_gateway = TRUE;
  return TRUE;
}

static gboolean
parse_gateway6(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  g_autoptr(GError) error = NULL;

  if (!pp_ip6_parse(value, &ctx->spec->gateway6, &error))
    return fail_attr(ctx, attr, "%s", error->message);
  ctx->spec->has_gateway6 = TRUE;
  return TRUE;
}

static gboolean
parse_dns(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  g_auto(GStrv) words = NULL;

  if (strlen(value) > LIST_MAX_LEN)
    return fail_attr(ctx, attr, "longer than %d bytes", LIST_MAX_LEN);
  words = g_strsplit_set(value, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    PpIpAddress address = { 0 };

    if (words[i][0] == '\0')
      continue;
    if (ctx->spec->dns->len == PP_NETWORK_MAX_DNS)
      return fail_attr(ctx, attr, "more than %d servers", PP_NETWORK_MAX_DNS);
    if (!pp_ip4_parse(words[i], &address.ip4, NULL)) {
      if (!pp_ip6_parse(words[i], &address.ip6, NULL))
        return fail_attr(ctx, attr,
                         "'%s' is not an IP address (DNS is a list of IPv4 or IPv6 addresses "
                         "separated by blanks, as \"10.0.0.2 2001:db8::53\")",
                         words[i]);
      address.is_ip6 = TRUE;
    }
    g_array_append_val(ctx->spec->dns, address);
  }
  if (ctx->spec->dns->len == 0)
    return fail_attr(ctx, attr, "is empty; leave DNS out for none");
  return TRUE;
}

static gboolean
parse_search_domain(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(g_free);

  if (strlen(value) > LIST_MAX_LEN)
    return fail_attr(ctx, attr, "longer than %d bytes", LIST_MAX_LEN);
  words = g_strsplit_set(value, " \t", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    if (words[i][0] == '\0')
      continue;
    if (domains->len == PP_NETWORK_MAX_SEARCH_DOMAINS)
      return fail_attr(ctx, attr, "more than %d domains", PP_NETWORK_MAX_SEARCH_DOMAINS);
    if (!is_domain(words[i]))
      return fail_attr(ctx, attr,
                       "'%s' is not a DNS domain: labels of letters, digits and '-' separated by "
                       "'.' (as example.org)",
                       words[i]);
    g_ptr_array_add(domains, g_strdup(words[i]));
  }
  if (domains->len == 0)
    return fail_attr(ctx, attr, "is empty; leave SEARCH_DOMAIN out for none");
  g_ptr_array_add(domains, NULL);
  g_strfreev(ctx->spec->search_domains);
  ctx->spec->search_domains = (GStrv)g_ptr_array_free(g_steal_pointer(&domains), FALSE);
  return TRUE;
}

/* --- address ranges ------------------------------------------------------ */

/* An IPv6 /64 prefix: an address whose lower 64 bits are zero, with or
 * without "/64". */
static gboolean
parse_prefix64(const char *value, PpIp6 *ret)
{
  g_autofree char *address = NULL;
  const char *slash = strchr(value, '/');

  if (slash != NULL && strcmp(slash, "/64") != 0)
    return FALSE;
  address = slash != NULL ? g_strndup(value, slash - value) : g_strdup(value);
  if (!pp_ip6_parse(address, ret, NULL))
    return FALSE;
  for (guint i = 8; i < 16; i++) {
    if (ret->bytes[i] != 0)
      return FALSE;
  }
  return TRUE;
}

/* fc00::/7 (RFC 4193). */
static gboolean
ip6_is_ula(const PpIp6 *ip)
{
  return (ip->bytes[0] & 0xfe) == 0xfc;
}

/* Not a global unicast prefix: ULA, link-local fe80::/10, multicast
 * ff00::/8, or the first /64 (::, loopback, IPv4-mapped's neighbours). */
static gboolean
ip6_is_global(const PpIp6 *ip)
{
  static const guint8 zero[8] = { 0 };

  return !ip6_is_ula(ip) && !(ip->bytes[0] == 0xfe && (ip->bytes[1] & 0xc0) == 0x80) &&
         ip->bytes[0] != 0xff && memcmp(ip->bytes, zero, 8) != 0;
}

/* The keys of an AR, and which types take each (the table of pp-network.h):
 * a key given to a type that does not take it is refused, never dropped. */
static const struct {
  const char *key;
  gboolean (*taken_by)(PpNetworkArType type);
} ar_keys[] = {
  { "TYPE", NULL },
  { "SIZE", NULL },
  { "MAC", NULL },
  { "IP", pp_network_ar_type_has_ip4 },
  { "GLOBAL_PREFIX", pp_network_ar_type_has_prefixes },
  { "ULA_PREFIX", pp_network_ar_type_has_prefixes },
  { "IP6", pp_network_ar_type_has_ip6_static },
  { "PREFIX_LENGTH", pp_network_ar_type_has_ip6_static },
};

#define AR_KEYS_LIST "TYPE, SIZE, MAC, IP, GLOBAL_PREFIX, ULA_PREFIX, IP6 and PREFIX_LENGTH"

/* The types that take a key, in words: "IP4, IP4_6 and IP4_6_STATIC". */
static char *
types_taking(gboolean (*taken_by)(PpNetworkArType type))
{
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  GString *out = g_string_new(NULL);

  for (guint t = 0; t < _PP_NETWORK_AR_MAX; t++) {
    if (taken_by((PpNetworkArType)t))
      g_ptr_array_add(names, (gpointer)ar_type_names[t]);
  }
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf(out, "%s%s",
                           i == 0               ? ""
                           : i + 1 < names->len ? ", "
                                                : " or ",
                           (const char *)g_ptr_array_index(names, i));
  return g_string_free(out, FALSE);
}

static gboolean
check_ar_keys(Ctx *ctx, const PpAttribute *attr, PpNetworkArType type)
{
  for (guint i = 0; i < pp_attribute_vector_get_n_pairs(attr); i++) {
    const char *key;
    guint k = 0;

    pp_attribute_vector_get_pair(attr, i, &key, NULL);
    while (k < G_N_ELEMENTS(ar_keys) && strcmp(ar_keys[k].key, key) != 0)
      k++;
    if (k == G_N_ELEMENTS(ar_keys))
      return fail_key(ctx, attr, key, "key %s is not supported by pcipass; AR takes %s", key,
                      AR_KEYS_LIST);
    if (ar_keys[k].taken_by != NULL && !ar_keys[k].taken_by(type)) {
      g_autofree char *types = types_taking(ar_keys[k].taken_by);

      return fail_key(ctx, attr, key, "%s is not for a range of TYPE %s; it is for %s", key,
                      ar_type_names[type], types);
    }
  }
  return TRUE;
}

static gboolean
parse_ar_prefix(Ctx *ctx, const PpAttribute *attr, const char *key, gboolean ula, PpIp6 *ret,
                gboolean *ret_has)
{
  const char *value = pp_attribute_vector_get(attr, key);

  if (value == NULL)
    return TRUE;
  if (!parse_prefix64(value, ret))
    return fail_key(ctx, attr, key,
                    "%s '%s' is not an IPv6 /64 prefix: an address whose last 64 bits are zero, "
                    "as %s",
                    key, value, ula ? "fd00:1:2:3::" : "2001:db8:1:2::");
  if (ula && !ip6_is_ula(ret))
    return fail_key(ctx, attr, key,
                    "%s '%s' is not a unique local prefix: it is within fc00::/7 (RFC 4193)", key,
                    value);
  if (!ula && !ip6_is_global(ret))
    return fail_key(ctx, attr, key,
                    "%s '%s' is not a global prefix: not within fc00::/7 (use ULA_PREFIX), "
                    "fe80::/10, ff00::/8 or ::/64",
                    key, value);
  *ret_has = TRUE;
  return TRUE;
}

static gboolean
parse_ar(Ctx *ctx, const PpAttribute *attr)
{
  const char *type = pp_attribute_vector_get(attr, "TYPE");
  const char *size = pp_attribute_vector_get(attr, "SIZE");
  const char *mac = pp_attribute_vector_get(attr, "MAC");
  const char *ip = pp_attribute_vector_get(attr, "IP");
  const char *ip6 = pp_attribute_vector_get(attr, "IP6");
  const char *prefix_length = pp_attribute_vector_get(attr, "PREFIX_LENGTH");
  PpNetworkAr ar = { 0 };
  guint64 n;
  guint t = 0;

  ar.pos = pp_attribute_get_pos(attr);
  if (type == NULL)
    return fail_attr(ctx, attr, "needs TYPE: ETHER, IP4, IP6, IP6_STATIC, IP4_6 or IP4_6_STATIC");
  while (t < _PP_NETWORK_AR_MAX && g_ascii_strcasecmp(type, ar_type_names[t]) != 0)
    t++;
  if (t == _PP_NETWORK_AR_MAX)
    return fail_key(ctx, attr, "TYPE",
                    "TYPE '%s' is not an address range type: ETHER, IP4, IP6, IP6_STATIC, IP4_6 "
                    "or IP4_6_STATIC",
                    type);
  ar.type = (PpNetworkArType)t;
  if (!check_ar_keys(ctx, attr, ar.type))
    return FALSE;

  if (size == NULL)
    return fail_attr(ctx, attr, "needs SIZE, the number of addresses (1 to %u)",
                     PP_NETWORK_AR_SIZE_MAX);
  if (!parse_uint(size, 1, PP_NETWORK_AR_SIZE_MAX, &n))
    return fail_key(ctx, attr, "SIZE", "SIZE '%s' is not a range size: 1 to %u", size,
                    PP_NETWORK_AR_SIZE_MAX);
  ar.size = (guint32)n;

  if (pp_network_ar_type_has_ip4(ar.type)) {
    g_autoptr(GError) error = NULL;
    PpIp4 last;
    char buf[PP_IP4_BUFSIZE];

    if (ip == NULL)
      return fail_attr(ctx, attr, "needs IP, the first IPv4 address, for TYPE %s",
                       ar_type_names[ar.type]);
    if (!pp_ip4_parse(ip, &ar.ip, &error))
      return fail_key(ctx, attr, "IP", "IP %s", error->message);
    if (!ar_last_ip(&ar, &last))
      return fail_key(ctx, attr, "IP",
                      "%u addresses from IP %s would pass 255.255.255.255 (at most %u from "
                      "there)",
                      ar.size, pp_ip4_format(&ar.ip, buf), G_MAXUINT32 - pp_ip4_to_u32(&ar.ip) + 1);
  }

  if (pp_network_ar_type_has_prefixes(ar.type) &&
      (!parse_ar_prefix(ctx, attr, "GLOBAL_PREFIX", FALSE, &ar.global_prefix, &ar.has_global) ||
       !parse_ar_prefix(ctx, attr, "ULA_PREFIX", TRUE, &ar.ula_prefix, &ar.has_ula)))
    return FALSE;

  if (pp_network_ar_type_has_ip6_static(ar.type)) {
    g_autoptr(GError) error = NULL;
    PpIp6 last;

    if (ip6 == NULL)
      return fail_attr(ctx, attr, "needs IP6, the first IPv6 address, for TYPE %s",
                       ar_type_names[ar.type]);
    if (!pp_ip6_parse(ip6, &ar.ip6, &error))
      return fail_key(ctx, attr, "IP6", "IP6 %s", error->message);
    if (prefix_length == NULL)
      return fail_attr(ctx, attr, "needs PREFIX_LENGTH, the length of IP6's prefix (1 to 128)");
    if (!parse_uint(prefix_length, 1, 128, &n))
      return fail_key(ctx, attr, "PREFIX_LENGTH",
                      "PREFIX_LENGTH '%s' is not a prefix length: 1 to 128", prefix_length);
    ar.prefix_length = (guint)n;
    if (!ar_last_ip6(&ar, &last))
      return fail_key(ctx, attr, "IP6", "%u addresses from IP6 %s would pass the end of its /%u",
                      ar.size, ip6, ar.prefix_length);
  }

  if (mac != NULL) {
    g_autoptr(GError) error = NULL;
    PpMac last;

    if (!pp_mac_parse(mac, &ar.mac, &error))
      return fail_key(ctx, attr, "MAC", "MAC %s", error->message);
    if (!pp_mac_is_unicast(&ar.mac))
      return fail_key(ctx, attr, "MAC",
                      "MAC '%s' is multicast (bit 0 of its first byte is set): a NIC's MAC is "
                      "unicast",
                      mac);
    /* Unicast first and last: a range of at most 2^20 cannot pass two
     * first bytes, and passing one makes the last odd. */
    if (!ar_last_mac(&ar, &last) || !pp_mac_is_unicast(&last))
      return fail_key(ctx, attr, "MAC",
                      "%u MACs from MAC %s would pass %02x:ff:ff:ff:ff:ff into multicast "
                      "addresses",
                      ar.size, mac, ar.mac.bytes[0]);
    ar.has_mac = ar.mac_given = TRUE;
  } else if (pp_network_ar_type_has_ip4(ar.type)) {
    /* OpenNebula's rule: MAC_PREFIX:IP. The IPv4 range did not pass
     * 255.255.255.255, so neither do the MACs their 32 bits. */
    pp_mac_generate(&ctx->mac_prefix, pp_ip4_to_u32(&ar.ip), &ar.mac);
    ar.has_mac = TRUE;
  }
  g_array_append_val(ctx->spec->ars, ar);
  return TRUE;
}

/* --- the table ----------------------------------------------------------- */

/* The attributes of a network template, in the order the error about an
 * unknown one lists them. Columns: the name; whether it is a vector;
 * whether it may be given more than once; its parser (single attributes
 * get the value too); how to write it, for the error when it has the wrong
 * shape; what to add when it is required and missing (NULL: optional). */
typedef struct {
  const char *name;
  gboolean vector;
  gboolean repeats;
  gboolean (*parse_single)(Ctx *ctx, const PpAttribute *attr, const char *value);
  gboolean (*parse_vector)(Ctx *ctx, const PpAttribute *attr);
  const char *example;
  const char *required;
} AttrRule;

static const AttrRule rules[] = {
  { "NAME", FALSE, FALSE, parse_name, NULL, "NAME = \"passthrough\"", "NAME = \"...\"" },
  { "VN_MAD", FALSE, FALSE, parse_vn_mad, NULL, "VN_MAD = \"802.1Q\"",
    "VN_MAD = \"dummy\", \"802.1Q\" or \"bridge\"" },
  { "BRIDGE", FALSE, FALSE, parse_bridge, NULL, "BRIDGE = \"br0\"", NULL },
  { "PHYDEV", FALSE, FALSE, parse_phydev, NULL, "PHYDEV = \"eth0\"", NULL },
  { "VLAN_ID", FALSE, FALSE, parse_vlan_id, NULL, "VLAN_ID = 100", NULL },
  { "MTU", FALSE, FALSE, parse_mtu, NULL, "MTU = 1500", NULL },
  { "NETWORK_ADDRESS", FALSE, FALSE, parse_network_address, NULL, "NETWORK_ADDRESS = \"10.0.0.0\"",
    NULL },
  { "NETWORK_MASK", FALSE, FALSE, parse_network_mask, NULL, "NETWORK_MASK = \"255.255.255.0\"",
    NULL },
  { "GATEWAY", FALSE, FALSE, parse_gateway, NULL, "GATEWAY = \"10.0.0.1\"", NULL },
  { "DNS", FALSE, FALSE, parse_dns, NULL, "DNS = \"10.0.0.2\"", NULL },
  { "SEARCH_DOMAIN", FALSE, FALSE, parse_search_domain, NULL, "SEARCH_DOMAIN = \"example.org\"",
    NULL },
  { "GATEWAY6", FALSE, FALSE, parse_gateway6, NULL, "GATEWAY6 = \"2001:db8::1\"", NULL },
  { "AR", TRUE, TRUE, NULL, parse_ar, "AR = [ TYPE = \"IP4\", IP = \"10.0.0.1\", SIZE = 10 ]",
    "AR = [ TYPE = ..., SIZE = ... ]" },
};

G_STATIC_ASSERT(G_N_ELEMENTS(rules) <= RULES_MAX);

enum {
  RULE_NAME,
  RULE_VN_MAD,
  RULE_BRIDGE,
  RULE_PHYDEV,
  RULE_VLAN_ID,
  RULE_MTU,
  RULE_NETWORK_ADDRESS,
  RULE_NETWORK_MASK
};

static gboolean
parse_attribute(Ctx *ctx, guint r, const PpAttribute *attr)
{
  const AttrRule *rule = &rules[r];

  if (ctx->first[r] == NULL)
    ctx->first[r] = attr;
  else if (!rule->repeats)
    return fail_attr(ctx, attr, "given twice, on lines %u and %u; a network has one %s",
                     pp_attribute_get_pos(ctx->first[r]).line, pp_attribute_get_pos(attr).line,
                     rule->name);
  if (++ctx->count[r] > PP_NETWORK_MAX_ARS)
    return fail_attr(ctx, attr, "more than %d %s vectors", PP_NETWORK_MAX_ARS, rule->name);
  if (rule->vector != pp_attribute_is_vector(attr))
    return fail_attr(ctx, attr, "must be %s, as %s", rule->vector ? "a vector" : "a single value",
                     rule->example);
  if (rule->vector)
    return rule->parse_vector(ctx, attr);
  return rule->parse_single(ctx, attr, pp_attribute_get_value(attr));
}

/* Levenshtein's distance of two short upper-case names, for the hint. */
static guint
distance(const char *a, const char *b)
{
  gsize la = strlen(a), lb = strlen(b);
  g_autofree guint *row = NULL;

  if (la > 64 || lb > 64)
    return G_MAXUINT;
  row = g_new(guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = (guint)j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0];

    row[0] = (guint)i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint best = MIN(row[j] + 1, row[j - 1] + 1);

      row[j] = MIN(best, diag + (a[i - 1] == b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[lb];
}

/* An attribute no rule reads: refused, naming it, the nearest known name
 * when it is within two edits (VLANID, NETWORK_MAKS), and what pcipass
 * reads. */
static gboolean
fail_unsupported(Ctx *ctx, const PpAttribute *attr)
{
  const char *name = pp_attribute_get_name(attr);
  g_autoptr(GString) names = g_string_new(NULL);
  g_autofree char *hint = NULL;
  const char *nearest = NULL;
  guint best = 3;

  for (guint r = 0; r < G_N_ELEMENTS(rules); r++) {
    guint d = distance(name, rules[r].name);

    if (d < best) {
      best = d;
      nearest = rules[r].name;
    }
    g_string_append_printf(names, "%s%s",
                           r == 0                        ? ""
                           : r + 1 < G_N_ELEMENTS(rules) ? ", "
                                                         : " and ",
                           rules[r].name);
  }
  hint = nearest != NULL ? g_strdup_printf(" (did you mean %s?)", nearest) : g_strdup("");
  return fail_at(ctx, pp_attribute_get_pos(attr), NULL,
                 "attribute '%s' is not supported by pcipass%s; a network template has %s", name,
                 hint, names->str);
}

/* The rules between attributes, once all are read. */
static gboolean
check_network(Ctx *ctx)
{
  PpNetworkSpec *spec = ctx->spec;
  const PpAttribute *vlan = ctx->first[RULE_VLAN_ID];
  const PpAttribute *phydev = ctx->first[RULE_PHYDEV];
  const PpAttribute *address = ctx->first[RULE_NETWORK_ADDRESS];
  const PpAttribute *mask = ctx->first[RULE_NETWORK_MASK];

  /* VLAN_ID and PHYDEV are the 802.1Q driver's; on another they would be
   * silently ignored, and a network the user meant to isolate would not
   * be. */
  if (spec->vn_mad == PP_NETWORK_VN_MAD_8021Q && vlan == NULL)
    return fail_attr(ctx, ctx->first[RULE_VN_MAD],
                     "an 802.1Q network needs VLAN_ID (0 to %d); pcipass does not pick one "
                     "(no AUTOMATIC_VLAN_ID)",
                     PP_NETWORK_VLAN_ID_MAX);
  if (spec->vn_mad != PP_NETWORK_VN_MAD_8021Q && spec->vn_mad != PP_NETWORK_VN_MAD_OVSWITCH &&
      vlan != NULL)
    return fail_attr(ctx, vlan, "is for 802.1Q and ovswitch networks; this one's VN_MAD is %s",
                     vn_mad_names[spec->vn_mad]);
  if (spec->vn_mad != PP_NETWORK_VN_MAD_8021Q && spec->phydev != NULL)
    return fail_attr(ctx, phydev, "is for 802.1Q networks; this one's VN_MAD is %s",
                     vn_mad_names[spec->vn_mad]);
  if ((address == NULL) != (mask == NULL))
    return fail_attr(ctx, address != NULL ? address : mask, "needs %s too",
                     address != NULL ? "NETWORK_MASK" : "NETWORK_ADDRESS");
  if (address != NULL) {
    guint32 a = pp_ip4_to_u32(&spec->network_address);
    guint32 host = spec->network_prefix == 32 ? 0 : G_MAXUINT32 >> spec->network_prefix;
    char buf[PP_IP4_BUFSIZE];

    if ((a & host) != 0)
      return fail_attr(ctx, address,
                       "%s is not the address of a /%u network: its host bits are "
                       "not zero",
                       pp_ip4_format(&spec->network_address, buf), spec->network_prefix);
    spec->has_network = TRUE;
  }
  return TRUE;
}

static gboolean
read_attributes(Ctx *ctx)
{
  const PpTemplate *tmpl = ctx->spec->tmpl;
  guint later = 0;

  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);
    guint r = 0;

    while (r < G_N_ELEMENTS(rules) && strcmp(rules[r].name, pp_attribute_get_name(attr)) != 0)
      r++;
    if (r == G_N_ELEMENTS(rules))
      return fail_unsupported(ctx, attr);
    if (!parse_attribute(ctx, r, attr))
      return FALSE;
  }
  for (guint r = 0; r < G_N_ELEMENTS(rules); r++) {
    if (rules[r].required == NULL || ctx->count[r] > 0)
      continue;
    g_set_error(ctx->error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_INVALID, "%s is required (add %s)",
                rules[r].name, rules[r].required);
    *ctx->where = (PpTextPos){ 0, 0 };
    return FALSE;
  }
  if (!check_network(ctx))
    return FALSE;
  if (!check_overlaps(ctx->spec, &later, ctx->error)) {
    *ctx->where = g_array_index(ctx->spec->ars, PpNetworkAr, later).pos;
    return FALSE;
  }
  return TRUE;
}

PpNetworkSpec *
pp_network_template_parse(const char *text, gsize len, const PpMacPrefix *mac_prefix,
                          PpTextPos *ret_error_pos, GError **error)
{
  g_autoptr(PpNetworkSpec) spec = NULL;
  g_autoptr(GError) parse_error = NULL;
  PpTextPos where = { 0, 0 };
  Ctx ctx = { 0 };

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  spec = pp_network_spec_new();
  spec->tmpl = pp_template_parse(text != NULL ? text : "", len, &where, &parse_error);
  if (spec->tmpl == NULL) {
    g_set_error_literal(error, PP_NETWORK_ERROR, PP_NETWORK_ERROR_SYNTAX, parse_error->message);
    /* A template too large has no position. */
    if (ret_error_pos != NULL)
      *ret_error_pos = g_error_matches(parse_error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID)
                           ? where
                           : (PpTextPos){ 0, 0 };
    return NULL;
  }
  ctx.text = text;
  ctx.len = len;
  ctx.spec = spec;
  ctx.mac_prefix = mac_prefix != NULL ? *mac_prefix : PP_MAC_PREFIX_DEFAULT;
  ctx.error = error;
  ctx.where = &where;
  if (!read_attributes(&ctx)) {
    if (ret_error_pos != NULL)
      *ret_error_pos = where;
    return NULL;
  }
  return g_steal_pointer(&spec);
}
