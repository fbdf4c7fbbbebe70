/* pp-network: virtual networks as OpenNebula writes them, their address
 * ranges (AR) and the arithmetic of their leases. Pure: no I/O, no store.
 *
 * Typed addresses (PpMac, PpIp4, PpIp6) are parsed once where text comes
 * in and carried as bytes, in network order; arithmetic on them says when
 * it would pass the end of the address space rather than wrap.
 *
 * A network template (OpenNebula's words; pp_network_template_parse()):
 *
 *   NAME = "passthrough"          required; 1..64 of [A-Za-z0-9._-], not
 *                                 starting with '-' or '.' (as host and user
 *                                 names)
 *   VN_MAD = "dummy" | "802.1Q" | "bridge" | "ovswitch"
 *                                 required. On the hosts, pcipass plugs
 *                                 bridged NICs into BRIDGE and configures no
 *                                 host networking: for dummy, bridge and
 *                                 802.1Q BRIDGE is the bridge of the
 *                                 network (of its VLAN for 802.1Q), its
 *                                 NICs untagged; for ovswitch BRIDGE is an
 *                                 Open vSwitch bridge and the NICs' ports
 *                                 get VLAN_ID's tag
 *   BRIDGE = "br0"                optional: a network without one serves PCI
 *                                 NICs only (the guide: for PCI NICs it "will
 *                                 be ignored"); 1..15 of [A-Za-z0-9._-]
 *   PHYDEV = "eth0"               802.1Q only, may be blank (the guide: "for
 *                                 802.1Q you can also leave PHYDEV blank" for
 *                                 PCI NICs); a bridged NIC on an 802.1Q
 *                                 network without one is refused where it is
 *                                 attached, not here
 *   VLAN_ID = 100                 802.1Q (required there) and ovswitch
 *                                 (optional) only, 0..4094; OpenNebula's
 *                                 AUTOMATIC_VLAN_ID is not implemented:
 *                                 pcipass never picks a VLAN. A PCI NIC that
 *                                 is an SR-IOV VF gets it from its PF
 *   MTU = 1500                    68..65535 (RFC 791's minimum for IPv4)
 *   NETWORK_ADDRESS = "10.0.0.0"  IPv4, given with NETWORK_MASK, host bits
 *   NETWORK_MASK = "255.255.255.0" | "/24"
 *                                 zero; a mask dotted (OpenNebula's) or as
 *                                 a prefix length; both or neither
 *   GATEWAY = "10.0.0.1"          IPv4
 *   DNS = "10.0.0.2 2001:db8::53" IPv4 or IPv6, blank-separated, 1..8
 *   SEARCH_DOMAIN = "example.org" DNS names, blank-separated, 1..6
 *   GATEWAY6 = "2001:db8::1"      IPv6
 *   AR = [ TYPE = ..., SIZE = n, ... ]
 *                                 one or more (at most PP_NETWORK_MAX_ARS);
 *                                 their AR ids are 0, 1, ... in order, as
 *                                 OpenNebula's AR_ID
 *
 * An AR's keys by TYPE (OpenNebula's vnet template reference; "-": refused,
 * where OpenNebula silently drops the key):
 *
 *   TYPE          SIZE  MAC  IP   GLOBAL_PREFIX  ULA_PREFIX  IP6  PREFIX_LENGTH
 *   ETHER         yes   opt  -    -              -           -    -
 *   IP4           yes   opt  yes  -              -           -    -
 *   IP6           yes   opt  -    opt            opt         -    -
 *   IP6_STATIC    yes   opt  -    -              -           yes  yes
 *   IP4_6         yes   opt  yes  opt            opt         -    -
 *   IP4_6_STATIC  yes   opt  yes  -              -           yes  yes
 *
 * SIZE is 1..PP_NETWORK_AR_SIZE_MAX everywhere (OpenNebula computes an
 * IP6_STATIC's from PREFIX_LENGTH when absent, up to 2^64: pcipass asks for
 * it). An IP6 range without prefixes gives MACs only, as OpenNebula's does.
 *
 * Addresses of lease i (0 <= i < SIZE):
 * - MAC: MAC + i. Without MAC, the first is the network's 2-byte MAC prefix
 *   (default 02:00, locally administered, OpenNebula's MAC_PREFIX) followed
 *   by 32 bits: the IPv4 address for IP4, IP4_6 and IP4_6_STATIC (so
 *   10.0.0.1 has 02:00:0a:00:00:01, as OpenNebula), a base the caller
 *   gives for ETHER, IP6 and IP6_STATIC (pp_network_ar_set_mac_base()).
 * - IP: IP + i; IP6 (static): IP6 + i, within IP6/PREFIX_LENGTH.
 * - IPv6 from a prefix: the prefix's upper 64 bits and the EUI-64
 *   interface id of lease i's MAC (RFC 4291 appendix A), as OpenNebula.
 * A range whose addresses would pass 255.255.255.255, ff:ff:ff:ff:ff:ff,
 * a multicast MAC, its IPv6 prefix, or the 32 bits after the MAC prefix,
 * is refused. Two ARs of a network whose MACs, IPv4 or static IPv6
 * addresses overlap are refused, naming both.
 */
#pragma once

#include <glib.h>

#include "pp-template.h"

G_BEGIN_DECLS

#define PP_NETWORK_ERROR (pp_network_error_quark())
GQuark pp_network_error_quark(void);

typedef enum {
  PP_NETWORK_ERROR_SYNTAX,   /* the template language (line, column) */
  PP_NETWORK_ERROR_INVALID,  /* a value, or a rule between values (line, column, attribute) */
  PP_NETWORK_ERROR_OVERFLOW, /* addresses past the end of their space */
  PP_NETWORK_ERROR_RANGE,    /* an index past a range's SIZE, or a MAC not given yet */
} PpNetworkError;

/* ------------------------------------------------------------------------ */
/* Addresses                                                                 */
/* ------------------------------------------------------------------------ */

/* Bytes in network order. */
typedef struct {
  guint8 bytes[6];
} PpMac;

typedef struct {
  guint8 bytes[4];
} PpIp4;

typedef struct {
  guint8 bytes[16];
} PpIp6;

/* The first two bytes of generated MACs (OpenNebula's MAC_PREFIX). */
typedef struct {
  guint8 bytes[2];
} PpMacPrefix;

#define PP_MAC_BUFSIZE 18 /* "02:00:0a:00:00:01" and the NUL */
#define PP_IP4_BUFSIZE 16 /* INET_ADDRSTRLEN */
#define PP_IP6_BUFSIZE 46 /* INET6_ADDRSTRLEN */

/* 02:00: locally administered, unicast. */
#define PP_MAC_PREFIX_DEFAULT ((PpMacPrefix){ { 0x02, 0x00 } })

/**
 * pp_mac_parse:
 *
 * Reads "xx:xx:xx:xx:xx:xx", six pairs of hex digits of any case separated
 * by ':', and nothing else (no '-', no dots, no single digits).
 *
 * Returns: FALSE with INVALID: "'x' is not a MAC address: six pairs of hex
 *   digits separated by ':' (as 02:00:0a:00:00:01)"; @ret is written only on
 *   success.
 */
gboolean pp_mac_parse(const char *s, PpMac *ret, GError **error);
/* Lower case, colon-separated. Returns: (transfer none): @buf. */
const char *pp_mac_format(const PpMac *mac, char buf[PP_MAC_BUFSIZE]);
/* Bit 0 of the first byte clear: a NIC's MAC. */
gboolean pp_mac_is_unicast(const PpMac *mac);
/* <0, 0, >0 as memcmp, which orders MACs as 48-bit numbers. */
gint pp_mac_compare(const PpMac *a, const PpMac *b);
/* The MAC as a 48-bit number, and back (the upper 16 bits of @n ignored). */
guint64 pp_mac_to_u64(const PpMac *mac);
void pp_mac_from_u64(guint64 n, PpMac *ret);
/* @mac + @n; FALSE (and @ret unwritten) past ff:ff:ff:ff:ff:ff. */
gboolean pp_mac_add(const PpMac *mac, guint64 n, PpMac *ret);

/**
 * pp_mac_prefix_parse:
 *
 * Reads "xx:xx" (the form of OpenNebula's MAC_PREFIX), which must be
 * unicast: bit 0 of the first byte clear.
 */
gboolean pp_mac_prefix_parse(const char *s, PpMacPrefix *ret, GError **error);

/**
 * pp_mac_generate:
 *
 * The MAC @prefix:@value (the 32 bits in network order), how OpenNebula
 * makes MACs: pp_mac_generate(02:00, 0x0a000001) is 02:00:0a:00:00:01.
 */
void pp_mac_generate(const PpMacPrefix *prefix, guint32 value, PpMac *ret);

/**
 * pp_ip4_parse:
 *
 * Reads a dotted quad, four decimal numbers 0..255 without leading zeros
 * (inet_pton(AF_INET)).
 *
 * Returns: FALSE with INVALID: "'x' is not an IPv4 address (as 10.0.0.1)".
 */
gboolean pp_ip4_parse(const char *s, PpIp4 *ret, GError **error);
const char *pp_ip4_format(const PpIp4 *ip, char buf[PP_IP4_BUFSIZE]);
guint32 pp_ip4_to_u32(const PpIp4 *ip);
void pp_ip4_from_u32(guint32 n, PpIp4 *ret);
gint pp_ip4_compare(const PpIp4 *a, const PpIp4 *b);
/* @ip + @n; FALSE (and @ret unwritten) past 255.255.255.255. */
gboolean pp_ip4_add(const PpIp4 *ip, guint64 n, PpIp4 *ret);

/* Any form inet_pton(AF_INET6) reads; no zone, no prefix length. */
gboolean pp_ip6_parse(const char *s, PpIp6 *ret, GError **error);
/* RFC 5952's form (inet_ntop). */
const char *pp_ip6_format(const PpIp6 *ip, char buf[PP_IP6_BUFSIZE]);
gint pp_ip6_compare(const PpIp6 *a, const PpIp6 *b);
/* @ip + @n; FALSE (and @ret unwritten) past ffff:...:ffff. */
gboolean pp_ip6_add(const PpIp6 *ip, guint64 n, PpIp6 *ret);

/**
 * pp_ip6_eui64:
 * @prefix: its upper 64 bits are used
 *
 * The address of @prefix's /64 whose interface id is @mac's modified EUI-64
 * (RFC 4291 section 2.5.1 and appendix A): the MAC's first three bytes
 * with the universal/local bit (0x02 of the first) flipped, ff:fe, its last
 * three. 2001:db8:: and 02:00:0a:00:00:01 give 2001:db8::aff:fe00:1.
 */
void pp_ip6_eui64(const PpIp6 *prefix, const PpMac *mac, PpIp6 *ret);

/* ------------------------------------------------------------------------ */
/* Networks and their address ranges                                         */
/* ------------------------------------------------------------------------ */

/* What the template may hold: its bounds. */
#define PP_NETWORK_MAX_ARS 64
/* 2^20 leases a range: a /12 of IPv4, more than a layer-2 segment holds.
 * Each lease may become a row of the store and a line of `net show`; and a
 * range this small can never run through more than one MAC prefix byte. */
#define PP_NETWORK_AR_SIZE_MAX (1u << 20)
#define PP_NETWORK_MAX_DNS 8
#define PP_NETWORK_MAX_SEARCH_DOMAINS 6
#define PP_NETWORK_VLAN_ID_MAX 4094
#define PP_NETWORK_MTU_MIN 68
#define PP_NETWORK_MTU_MAX 65535

typedef enum {
  PP_NETWORK_VN_MAD_DUMMY,
  PP_NETWORK_VN_MAD_8021Q,
  PP_NETWORK_VN_MAD_BRIDGE,
  PP_NETWORK_VN_MAD_OVSWITCH,
  _PP_NETWORK_VN_MAD_MAX,
} PpNetworkVnMad;

typedef enum {
  PP_NETWORK_AR_ETHER,
  PP_NETWORK_AR_IP4,
  PP_NETWORK_AR_IP6,
  PP_NETWORK_AR_IP6_STATIC,
  PP_NETWORK_AR_IP4_6,
  PP_NETWORK_AR_IP4_6_STATIC,
  _PP_NETWORK_AR_MAX,
} PpNetworkArType;

/* "dummy", "802.1Q", "bridge"; "ETHER", "IP4", ... Returns: (transfer none). */
const char *pp_network_vn_mad_to_string(PpNetworkVnMad vn_mad);
const char *pp_network_ar_type_to_string(PpNetworkArType type);
/* What a type's leases have. */
gboolean pp_network_ar_type_has_ip4(PpNetworkArType type);
gboolean pp_network_ar_type_has_prefixes(PpNetworkArType type); /* IP6, IP4_6 */
gboolean pp_network_ar_type_has_ip6_static(PpNetworkArType type);

typedef struct {
  PpNetworkArType type;
  guint32 size;        /* 1..PP_NETWORK_AR_SIZE_MAX */
  gboolean has_mac;    /* FALSE: an ETHER, IP6 or IP6_STATIC range without MAC
                        * whose base is not given yet (pp_network_ar_set_mac_base()) */
  gboolean mac_given;  /* MAC was in the template (else generated) */
  PpMac mac;           /* the first lease's */
  PpIp4 ip;            /* the first lease's, when the type has IPv4 */
  gboolean has_global; /* GLOBAL_PREFIX, for IP6 and IP4_6 */
  PpIp6 global_prefix; /* upper 64 bits; the rest zero */
  gboolean has_ula;    /* ULA_PREFIX, for IP6 and IP4_6 */
  PpIp6 ula_prefix;
  PpIp6 ip6;           /* the first lease's, for IP6_STATIC and IP4_6_STATIC */
  guint prefix_length; /* 1..128, for IP6_STATIC and IP4_6_STATIC */
  PpTextPos pos;       /* where the AR is in the text; 0:0 when built */
} PpNetworkAr;

/* One lease's addresses. */
typedef struct {
  PpMac mac;
  gboolean has_ip;
  PpIp4 ip;
  gboolean has_ip6_global;
  PpIp6 ip6_global;
  gboolean has_ip6_ula;
  PpIp6 ip6_ula;
  gboolean has_ip6; /* static */
  PpIp6 ip6;
} PpNetworkLease;

/* An IPv4 or IPv6 address, for DNS. */
typedef struct {
  gboolean is_ip6;
  PpIp4 ip4;
  PpIp6 ip6;
} PpIpAddress;

typedef struct {
  char *name;
  PpNetworkVnMad vn_mad;
  char *bridge;         /* NULL: none (PCI NICs only) */
  char *phydev;         /* NULL: none, or blank */
  gint vlan_id;         /* -1: none (always for dummy and bridge) */
  guint mtu;            /* 0: not set */
  gboolean has_network; /* NETWORK_ADDRESS and NETWORK_MASK */
  PpIp4 network_address;
  guint network_prefix; /* 0..32 */
  gboolean has_gateway;
  PpIp4 gateway;
  GArray *dns;          /* PpIpAddress, in order */
  GStrv search_domains; /* NULL-terminated, maybe empty */
  gboolean has_gateway6;
  PpIp6 gateway6;
  GArray *ars;      /* PpNetworkAr, AR id = index */
  PpTemplate *tmpl; /* the template as parsed; NULL when built */
} PpNetworkSpec;

/* Returns: (transfer full): a spec that holds nothing (vn_mad dummy, no
 * VLAN), for a caller to fill (the store's reading of a network). */
PpNetworkSpec *pp_network_spec_new(void);
void pp_network_spec_free(PpNetworkSpec *spec);

/**
 * pp_network_template_parse:
 * @text: the template (at most PP_TEMPLATE_MAX_SIZE bytes)
 * @mac_prefix: (nullable): the prefix of generated MACs; NULL: 02:00
 * @ret_error_pos: (optional): where the error is, written only on failure
 *   (0:0 for an error without a position: a required attribute missing,
 *   a template too large)
 *
 * Every attribute and key is checked; any attribute or key the table above
 * does not name is refused with its name (and the nearest name when it is
 * a likely typo). ETHER, IP6 and IP6_STATIC ranges without MAC come back
 * with has_mac FALSE: their MACs are the caller's to place
 * (pp_network_ar_set_mac_base()).
 *
 * Returns: (transfer full): the spec, or %NULL with an error: "line 3,
 *   column 10: AR: SIZE '0' is not a range size: 1 to 1048576", "line 2,
 *   column 1: attribute 'VLANID' is not supported by pcipass (did you mean
 *   VLAN_ID?); a network template has NAME, ...", "NAME is required (add
 *   NAME = \"...\")". A positioned message starts with "line L, column C: ".
 */
PpNetworkSpec *pp_network_template_parse(const char *text, gsize len, const PpMacPrefix *mac_prefix,
                                         PpTextPos *ret_error_pos, GError **error);

/**
 * pp_network_spec_check_overlaps:
 *
 * Two ARs whose MACs (of those that have them), IPv4 or static IPv6
 * addresses overlap. The parser calls it; call it again after giving MAC
 * bases.
 *
 * Returns: FALSE with INVALID naming both: "line 4, column 1: AR: the IPv4
 *   addresses 10.0.0.5 to 10.0.0.14 of AR 1 overlap 10.0.0.1 to 10.0.0.10
 *   of AR 0 (line 2)" (without the position when the ARs have none).
 */
gboolean pp_network_spec_check_overlaps(const PpNetworkSpec *spec, GError **error);

/**
 * pp_network_ar_set_mac_base:
 * @base: the 32 bits after @prefix of the range's first MAC
 *
 * Gives the MACs of a range whose template gave no MAC: @prefix:@base to
 * @prefix:@base+SIZE-1, in place of those the parser made from its IPv4
 * addresses, if any. OpenNebula draws @base at random, or takes the IPv4
 * address (so two networks with the same addresses have the same MACs);
 * pcipass's store hands out bases from one counter for all networks, IPv4
 * ranges included, so that generated MACs never collide across networks:
 * this is the pure part, the counter is the store's.
 *
 * Returns: FALSE with OVERFLOW when the range would pass @prefix:ff:ff:ff:ff
 *   (the range unchanged), with INVALID when its MAC is the template's.
 */
gboolean pp_network_ar_set_mac_base(PpNetworkAr *ar, const PpMacPrefix *prefix, guint32 base,
                                    GError **error);

/**
 * pp_network_ar_lease:
 * @index: 0..SIZE-1
 *
 * The addresses of lease @index of @ar: its MAC, its IPv4 when the type has
 * one, its IPv6 from each prefix given, its static IPv6.
 *
 * Returns: FALSE with RANGE when @index is past the range's end or the
 *   range has no MAC yet; @ret_lease is written only on success.
 */
gboolean pp_network_ar_lease(const PpNetworkAr *ar, guint32 index, PpNetworkLease *ret_lease,
                             GError **error);

/* The index of @ip / @mac / a static @ip6 within @ar, written to @ret_index;
 * FALSE when @ar does not hold it (a range without IPv4, without MAC yet,
 * or without static IPv6 holds none). */
gboolean pp_network_ar_find_ip(const PpNetworkAr *ar, const PpIp4 *ip, guint32 *ret_index);
gboolean pp_network_ar_find_mac(const PpNetworkAr *ar, const PpMac *mac, guint32 *ret_index);
gboolean pp_network_ar_find_ip6(const PpNetworkAr *ar, const PpIp6 *ip6, guint32 *ret_index);

/* The AR id and index of @ip / @mac in @spec; FALSE when outside every
 * range (ARs do not overlap, so there is at most one). */
gboolean pp_network_spec_find_ip(const PpNetworkSpec *spec, const PpIp4 *ip, guint *ret_ar,
                                 guint32 *ret_index);
gboolean pp_network_spec_find_mac(const PpNetworkSpec *spec, const PpMac *mac, guint *ret_ar,
                                  guint32 *ret_index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpNetworkSpec, pp_network_spec_free)

G_END_DECLS
