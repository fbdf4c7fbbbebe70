/* pp-guest-context: what pcipass-context reads from the context disk,
 * parsed as data and planned, with no I/O (STYLE rule 27).
 *
 * context.sh is a list of shell assignments, which the agent never runs:
 *
 *   # a comment
 *   NAME='value'          single quotes; a quote in it written '\''
 *   NAME="value"          no $, ` or \ inside: nothing is expanded
 *   NAME=value            bare: letters, digits and _ . , : / @ % + = -
 *
 * A single-quoted value may span lines (OpenNebula's SSH_PUBLIC_KEY does).
 * Names are [A-Z_][A-Z0-9_]*; the last assignment of a name wins, as in a
 * shell. At most PP_GUEST_CONTEXT_MAX_VARS variables and
 * PP_GUEST_CONTEXT_MAX_VALUE bytes per value.
 *
 * The plan takes OpenNebula's variables: ETH<n>_* (a bridged NIC, found by
 * its MAC) and PCI<n>_* (a passed-through NIC, found by PCI<n>_ADDRESS, its
 * guest PCI address, or else by its MAC): _MAC, _IP, _MASK (/24 when
 * none), _GATEWAY, _METRIC, _DNS, _SEARCH_DOMAIN, _MTU, _VLAN_ID, _IP6,
 * _IP6_PREFIX_LENGTH (/128 when none), _IP6_ULA (/64), _IP6_GATEWAY,
 * _IP6_METRIC; and SET_HOSTNAME, DNS and SEARCH_DOMAIN.
 */
#pragma once

#include <netinet/in.h>

#include <glib.h>

G_BEGIN_DECLS

#define PP_GUEST_CONTEXT_ERROR (pp_guest_context_error_quark())
GQuark pp_guest_context_error_quark(void);

typedef enum {
  PP_GUEST_CONTEXT_ERROR_SYNTAX, /* a line that is not an assignment */
  PP_GUEST_CONTEXT_ERROR_LIMIT,  /* too many variables, a value too long */
} PpGuestContextError;

#define PP_GUEST_CONTEXT_MAX_SIZE (1 << 20) /* context.sh: 1 MiB */
#define PP_GUEST_CONTEXT_MAX_VARS 4096
#define PP_GUEST_CONTEXT_MAX_VALUE (64 * 1024)

/* The variables of a context.sh. */
typedef struct {
  GPtrArray *names;   /* char *, in the order first assigned */
  GHashTable *values; /* name -> value, both owned */
} PpGuestContext;

/**
 * pp_guest_context_parse:
 * @text: context.sh's bytes (need not end with a NUL)
 * @len: their number, at most PP_GUEST_CONTEXT_MAX_SIZE
 *
 * Returns: (transfer full): the variables, or NULL with SYNTAX or LIMIT,
 *   the message starting with "LINE:COLUMN: " (both from 1) for the
 *   caller to put the file's name before.
 */
PpGuestContext *pp_guest_context_parse(const char *text, gsize len, GError **error);
void pp_guest_context_free(PpGuestContext *ctx);
/* Returns: (transfer none) (nullable): @name's value. */
const char *pp_guest_context_get(const PpGuestContext *ctx, const char *name);

typedef enum {
  PP_GUEST_NIC_ETH, /* bridged: ETH<n>, found by MAC */
  PP_GUEST_NIC_PCI, /* passed through: PCI<n>, found by PCI address */
} PpGuestNicKind;

/* An IP address with its prefix length. */
typedef struct {
  int family; /* AF_INET, AF_INET6; 0: none */
  union {
    struct in_addr v4;
    struct in6_addr v6;
  };
  guint prefix;
} PpGuestAddress;

/* One NIC as its variables say it. Anything not given is left as it is. */
typedef struct {
  PpGuestNicKind kind;
  guint index;
  char *name;  /* "ETH0", "PCI1": the variables' prefix */
  char *key;   /* how it is found: "0000:01:00.0", "02:00:0a:00:00:05" */
  char *label; /* "PCI0 (0000:01:00.0)": how messages name it */
  char *error; /* nullable: the first bad value; nothing is done */
  gboolean has_mac;
  guint8 mac[6];
  char *pci_address; /* nullable: PCI<n>_ADDRESS as 0000:01:00.0 */
  guint mtu;         /* 0: leave */
  gint vlan_id;      /* -1: none */
  PpGuestAddress ip4, ip6, ip6_ula;
  PpGuestAddress gateway4, gateway6; /* prefix unused */
  guint metric4, metric6;            /* of the default routes */
} PpGuestNic;

/* What the context asks for. */
typedef struct {
  GPtrArray *nics;      /* PpGuestNic: ETH by index, then PCI by index */
  char *hostname;       /* nullable: SET_HOSTNAME */
  char *hostname_error; /* nullable: why SET_HOSTNAME is not used */
  char **nameservers;   /* nullable: every NIC's DNS then DNS, no duplicates */
  char **search;        /* nullable: search domains, the same way */
  char *dns_error;      /* nullable: a bad DNS or SEARCH_DOMAIN value */
} PpGuestPlan;

/**
 * pp_guest_plan_new:
 *
 * Reads the variables of @ctx into a plan. A bad value does not fail the
 * plan: it is set as the error of its NIC ("PCI0 (0000:01:00.0): PCI0_MASK
 * '255.0.255.0' is not a netmask"), or of the hostname or DNS, and only
 * that part is left undone.
 *
 * Returns: (transfer full): the plan.
 */
PpGuestPlan *pp_guest_plan_new(const PpGuestContext *ctx);
void pp_guest_plan_free(PpGuestPlan *plan);

/**
 * pp_guest_plan_resolv_conf:
 *
 * Returns: (transfer full) (nullable): resolv.conf's text for the plan's
 *   name servers and search domains; NULL when the context has none.
 */
char *pp_guest_plan_resolv_conf(const PpGuestPlan *plan);

/* "0000:01:00.0", lowercase, from "0000:01:00.0" or "01:00.0"; NULL when
 * @text is not a PCI address. Returns: (transfer full). */
char *pp_guest_pci_address_normalize(const char *text);

/* Whether @sector, the 2048 bytes at 32768 of a disk (ISO 9660's sector
 * 16), is a primary volume descriptor of volume id @label. */
gboolean pp_guest_iso_has_label(const guint8 *sector, gsize len, const char *label);

#define PP_GUEST_ISO_PVD_OFFSET 32768
#define PP_GUEST_ISO_SECTOR 2048

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpGuestContext, pp_guest_context_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpGuestPlan, pp_guest_plan_free)

G_END_DECLS
