/* pp-guest-context: context.sh parsed as data, and what it asks for
 * (pp-guest-context.h). */
#define G_LOG_DOMAIN "pp-guest-context"

#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pp-guest-context.h"

G_DEFINE_QUARK(pp - guest - context - error - quark, pp_guest_context_error)

/* The parser's cursor: a position in the text and its line and column,
 * both from 1, for messages. */
typedef struct {
  const char *p;
  const char *end;
  guint line;
  guint column;
} Cursor;

static void
advance(Cursor *c)
{
  if (*c->p == '\n') {
    c->line++;
    c->column = 1;
  } else {
    c->column++;
  }
  c->p++;
}

static gboolean G_GNUC_PRINTF(3, 4) fail(const Cursor *c, GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_GUEST_CONTEXT_ERROR, PP_GUEST_CONTEXT_ERROR_SYNTAX, "%u:%u: %s", c->line,
              c->column, message);
  return FALSE;
}

/* How a character is named in a message: 'x', or its code. */
static char *
char_name(char ch)
{
  if ((guchar)ch >= 0x20 && (guchar)ch < 0x7f)
    return g_strdup_printf("'%c'", ch);
  if (ch == '\n')
    return g_strdup("the end of the line");
  return g_strdup_printf("byte 0x%02x", (guchar)ch);
}

static gboolean
is_bare(char ch)
{
  return g_ascii_isalnum(ch) || strchr("_.,:/@%+=-", ch) != NULL;
}

static gboolean
append_value(GString *value, char ch, const Cursor *c, const char *name, GError **error)
{
  if (value->len >= PP_GUEST_CONTEXT_MAX_VALUE) {
    g_set_error(error, PP_GUEST_CONTEXT_ERROR, PP_GUEST_CONTEXT_ERROR_LIMIT,
                "%u:%u: %s: a value longer than %d bytes", c->line, c->column, name,
                PP_GUEST_CONTEXT_MAX_VALUE);
    return FALSE;
  }
  g_string_append_c(value, ch);
  return TRUE;
}

/* The value after NAME=, up to the end of the assignment: quoted parts,
 * '\'' escapes and bare characters, side by side as a shell joins them. */
static gboolean
parse_value(Cursor *c, const char *name, GString *value, GError **error)
{
  while (c->p < c->end) {
    char ch = *c->p;

    if (ch == '\'') {
      Cursor open = *c;

      advance(c);
      while (c->p < c->end && *c->p != '\'') {
        if (*c->p == '\0')
          return fail(c, error, "%s: a NUL byte in a value", name);
        if (!append_value(value, *c->p, c, name, error))
          return FALSE;
        advance(c);
      }
      if (c->p == c->end)
        return fail(&open, error, "%s: the quote opened here is not closed", name);
      advance(c);
    } else if (ch == '"') {
      Cursor open = *c;

      advance(c);
      while (c->p < c->end && *c->p != '"') {
        if (*c->p == '$' || *c->p == '`' || *c->p == '\\')
          return fail(c, error,
                      "%s: '%c' in a double-quoted value: nothing is expanded here; "
                      "single-quote the value",
                      name, *c->p);
        if (*c->p == '\0')
          return fail(c, error, "%s: a NUL byte in a value", name);
        if (!append_value(value, *c->p, c, name, error))
          return FALSE;
        advance(c);
      }
      if (c->p == c->end)
        return fail(&open, error, "%s: the quote opened here is not closed", name);
      advance(c);
    } else if (ch == '\\') {
      /* Outside quotes only \' is taken: the quote of '\''. */
      if (c->p + 1 >= c->end || c->p[1] != '\'')
        return fail(c, error, "%s: a backslash outside quotes other than \\' (a quote)", name);
      advance(c);
      if (!append_value(value, '\'', c, name, error))
        return FALSE;
      advance(c);
    } else if (is_bare(ch)) {
      if (!append_value(value, ch, c, name, error))
        return FALSE;
      advance(c);
    } else {
      break;
    }
  }
  return TRUE;
}

/* Spaces and tabs, a comment, then the end of the line (or of the text). */
static gboolean
parse_line_end(Cursor *c, const char *name, GError **error)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
    advance(c);
  if (c->p < c->end && *c->p == '#')
    while (c->p < c->end && *c->p != '\n')
      advance(c);
  if (c->p < c->end && *c->p != '\n') {
    g_autofree char *what = char_name(*c->p);

    return fail(c, error, "%s: %s after the value: one assignment a line, the value quoted", name,
                what);
  }
  if (c->p < c->end)
    advance(c);
  return TRUE;
}

PpGuestContext *
pp_guest_context_parse(const char *text, gsize len, GError **error)
{
  g_autoptr(PpGuestContext) ctx = g_new0(PpGuestContext, 1);
  Cursor c = { text, text + len, 1, 1 };

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  ctx->names = g_ptr_array_new_with_free_func(g_free);
  ctx->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (len > PP_GUEST_CONTEXT_MAX_SIZE) {
    g_set_error(error, PP_GUEST_CONTEXT_ERROR, PP_GUEST_CONTEXT_ERROR_LIMIT,
                "1:1: %" G_GSIZE_FORMAT " bytes, more than the %d accepted", len,
                PP_GUEST_CONTEXT_MAX_SIZE);
    return NULL;
  }
  while (c.p < c.end) {
    g_autoptr(GString) value = NULL;
    g_autofree char *name = NULL;
    const char *start;
    guint line;

    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t' || *c.p == '\r'))
      advance(&c);
    if (c.p == c.end)
      break;
    if (*c.p == '\n' || *c.p == '#') {
      if (!parse_line_end(&c, "a comment", error))
        return NULL;
      continue;
    }
    start = c.p;
    line = c.line;
    if (g_ascii_isdigit(*c.p)) {
      fail(&c, error, "a name cannot start with a digit");
      return NULL;
    }
    while (c.p < c.end && (g_ascii_isupper(*c.p) || g_ascii_isdigit(*c.p) || *c.p == '_'))
      advance(&c);
    if (c.p == start) {
      g_autofree char *what = c.p < c.end ? char_name(*c.p) : g_strdup("the end");

      fail(&c, error, "%s where a NAME (A-Z, 0-9, _) was expected", what);
      return NULL;
    }
    name = g_strndup(start, (gsize)(c.p - start));
    if (c.p == c.end || *c.p != '=') {
      g_autofree char *what = c.p < c.end ? char_name(*c.p) : g_strdup("the end");

      fail(&c, error, "%s: %s where '=' was expected (NAME='value')", name, what);
      return NULL;
    }
    advance(&c);
    value = g_string_new(NULL);
    if (!parse_value(&c, name, value, error) || !parse_line_end(&c, name, error))
      return NULL;
    if (!g_hash_table_contains(ctx->values, name)) {
      if (ctx->names->len >= PP_GUEST_CONTEXT_MAX_VARS) {
        g_set_error(error, PP_GUEST_CONTEXT_ERROR, PP_GUEST_CONTEXT_ERROR_LIMIT,
                    "%u:1: %s: more than %d variables", line, name, PP_GUEST_CONTEXT_MAX_VARS);
        return NULL;
      }
      g_ptr_array_add(ctx->names, g_strdup(name));
    }
    g_hash_table_replace(ctx->values, g_steal_pointer(&name),
                         g_string_free(g_steal_pointer(&value), FALSE));
  }
  return g_steal_pointer(&ctx);
}

void
pp_guest_context_free(PpGuestContext *ctx)
{
  if (ctx == NULL)
    return;
  g_clear_pointer(&ctx->names, g_ptr_array_unref);
  g_clear_pointer(&ctx->values, g_hash_table_unref);
  g_free(ctx);
}

const char *
pp_guest_context_get(const PpGuestContext *ctx, const char *name)
{
  return g_hash_table_lookup(ctx->values, name);
}

/* The plan. */

static void
nic_free(PpGuestNic *nic)
{
  g_free(nic->name);
  g_free(nic->key);
  g_free(nic->label);
  g_free(nic->error);
  g_free(nic->pci_address);
  g_free(nic);
}

void
pp_guest_plan_free(PpGuestPlan *plan)
{
  if (plan == NULL)
    return;
  g_clear_pointer(&plan->nics, g_ptr_array_unref);
  g_free(plan->hostname);
  g_free(plan->hostname_error);
  g_strfreev(plan->nameservers);
  g_strfreev(plan->search);
  g_free(plan->dns_error);
  g_free(plan);
}

/* The hex number of @n digits at @p, or -1. */
static gint
hex_at(const char *p, guint n)
{
  gint v = 0;

  for (guint i = 0; i < n; i++) {
    if (!g_ascii_isxdigit(p[i]))
      return -1;
    v = v * 16 + g_ascii_xdigit_value(p[i]);
  }
  return v;
}

char *
pp_guest_pci_address_normalize(const char *text)
{
  gsize len = text != NULL ? strlen(text) : 0;
  const char *p = text;
  gint domain = 0, bus, slot, function;

  /* DDDD:BB:SS.F or BB:SS.F, as lspci and OpenNebula write them. */
  if (len == 12) {
    if (p[4] != ':')
      return NULL;
    domain = hex_at(p, 4);
    p += 5;
  } else if (len != 7) {
    return NULL;
  }
  if (p[2] != ':' || p[5] != '.')
    return NULL;
  bus = hex_at(p, 2);
  slot = hex_at(p + 3, 2);
  function = hex_at(p + 6, 1);
  if (domain < 0 || bus < 0 || slot < 0 || slot > 0x1f || function < 0 || function > 7)
    return NULL;
  return g_strdup_printf("%04x:%02x:%02x.%x", domain, bus, slot, function);
}

gboolean
pp_guest_iso_has_label(const guint8 *sector, gsize len, const char *label)
{
  gsize n = strlen(label);

  /* ECMA-119 8.4: type 1, "CD001", version 1; the volume identifier at
   * byte 40, 32 d-characters padded with spaces. */
  if (len < 72 || n > 32 || sector[0] != 1 || memcmp(sector + 1, "CD001", 5) != 0 ||
      sector[6] != 1 || memcmp(sector + 40, label, n) != 0)
    return FALSE;
  for (gsize i = 40 + n; i < 72; i++)
    if (sector[i] != ' ' && sector[i] != '\0')
      return FALSE;
  return TRUE;
}

/* An unsigned decimal in [@min, @max], nothing else. */
static gboolean
parse_uint(const char *text, guint min, guint max, guint *ret)
{
  guint64 v;

  if (text[0] == '\0' || strlen(text) > 10 ||
      !g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL))
    return FALSE;
  *ret = (guint)v;
  return TRUE;
}

static gboolean
parse_mac(const char *text, guint8 mac[6])
{
  guint b[6];
  int n = 0;

  if (strlen(text) != 17 ||
      sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &n) !=
          6 ||
      n != 17)
    return FALSE;
  for (guint i = 0; i < 17; i++)
    if (i % 3 == 2 ? text[i] != ':' : !g_ascii_isxdigit(text[i]))
      return FALSE;
  for (guint i = 0; i < 6; i++)
    mac[i] = (guint8)b[i];
  return TRUE;
}

/* A dotted netmask (255.255.255.0) or a prefix length (24). */
static gboolean
parse_mask(const char *text, guint *ret)
{
  struct in_addr a;
  guint32 m;
  guint prefix = 0;

  if (parse_uint(text, 0, 32, ret))
    return TRUE;
  if (inet_pton(AF_INET, text, &a) != 1)
    return FALSE;
  m = ntohl(a.s_addr);
  while (prefix < 32 && (m & (1u << (31 - prefix))))
    prefix++;
  if (prefix < 32 && (m << prefix) != 0)
    return FALSE; /* holes: 255.0.255.0 */
  *ret = prefix;
  return TRUE;
}

/* The NIC's variable @suffix ("IP" for ETH0_IP), or NULL. */
static const char *
nic_var(const PpGuestContext *ctx, const PpGuestNic *nic, const char *suffix, char **ret_name)
{
  g_autofree char *name = g_strdup_printf("%s_%s", nic->name, suffix);
  const char *value = pp_guest_context_get(ctx, name);

  *ret_name = g_steal_pointer(&name);
  /* An empty value says nothing, as OpenNebula writes them. */
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* Sets the NIC's error, the first one only. Returns FALSE. */
static gboolean G_GNUC_PRINTF(2, 3) nic_fail(PpGuestNic *nic, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  if (nic->error == NULL)
    nic->error = g_strdup_printf("%s: %s", nic->label, message);
  return FALSE;
}

static gboolean
nic_address(const PpGuestContext *ctx, PpGuestNic *nic, const char *suffix, int family,
            PpGuestAddress *ret)
{
  g_autofree char *name = NULL;
  const char *v = nic_var(ctx, nic, suffix, &name);

  if (v == NULL)
    return TRUE;
  if (inet_pton(family, v, family == AF_INET ? (void *)&ret->v4 : (void *)&ret->v6) != 1)
    return nic_fail(nic, "%s '%s' is not an %s address", name, v,
                    family == AF_INET ? "IPv4" : "IPv6");
  ret->family = family;
  return TRUE;
}

static gboolean
nic_uint(const PpGuestContext *ctx, PpGuestNic *nic, const char *suffix, guint min, guint max,
         const char *what, guint *ret)
{
  g_autofree char *name = NULL;
  const char *v = nic_var(ctx, nic, suffix, &name);

  if (v == NULL)
    return TRUE;
  if (!parse_uint(v, min, max, ret))
    return nic_fail(nic, "%s '%s' is not %s (%u to %u)", name, v, what, min, max);
  return TRUE;
}

/* Adds the words of @text to @into, each once; FALSE at a bad one, named
 * in @ret_error. */
static gboolean
add_words(GPtrArray *into, const char *name, const char *text, gboolean addresses, char **ret_error)
{
  g_auto(GStrv) words = g_strsplit_set(text, " ,\t", -1);

  for (guint i = 0; words[i] != NULL; i++) {
    const char *w = words[i];
    gboolean ok = TRUE;

    if (w[0] == '\0')
      continue;
    if (addresses) {
      struct in6_addr a;

      ok = inet_pton(AF_INET, w, &a) == 1 || inet_pton(AF_INET6, w, &a) == 1;
    } else {
      ok = strlen(w) <= 253;
      for (const char *p = w; *p != '\0' && ok; p++)
        ok = g_ascii_isalnum(*p) || *p == '-' || *p == '.';
    }
    if (!ok) {
      if (*ret_error == NULL)
        *ret_error = g_strdup_printf("%s '%s' is not %s", name, w,
                                     addresses ? "an IP address" : "a domain name");
      return FALSE;
    }
    if (!g_ptr_array_find_with_equal_func(into, w, g_str_equal, NULL))
      g_ptr_array_add(into, g_strdup(w));
  }
  return TRUE;
}

/* The NIC's variables; @nic->error at the first bad one. */
static void
nic_read(const PpGuestContext *ctx, PpGuestNic *nic)
{
  g_autofree char *mac_name = NULL, *address_name = NULL, *mask_name = NULL;
  g_autofree char *vlan_name = NULL;
  const char *mac = nic_var(ctx, nic, "MAC", &mac_name);
  const char *address =
      nic->kind == PP_GUEST_NIC_PCI ? nic_var(ctx, nic, "ADDRESS", &address_name) : NULL;
  const char *mask = nic_var(ctx, nic, "MASK", &mask_name);
  const char *vlan = nic_var(ctx, nic, "VLAN_ID", &vlan_name);
  guint prefix6 = 128, vlan_id = 0;

  nic->vlan_id = -1;
  if (address != NULL)
    nic->pci_address = pp_guest_pci_address_normalize(address);
  nic->key = g_strdup(nic->pci_address ? nic->pci_address
                      : address        ? address
                      : mac            ? mac
                                       : "no MAC");
  nic->label = g_strdup_printf("%s (%s)", nic->name, nic->key);
  if (address != NULL && nic->pci_address == NULL) {
    nic_fail(nic, "%s '%s' is not a PCI address (0000:01:00.0)", address_name, address);
    return;
  }
  if (mac != NULL) {
    if (!parse_mac(mac, nic->mac)) {
      nic_fail(nic, "%s '%s' is not a MAC address (02:00:0a:00:00:05)", mac_name, mac);
      return;
    }
    if (nic->mac[0] & 1) {
      nic_fail(nic, "%s '%s' is a multicast address: an interface cannot take it", mac_name, mac);
      return;
    }
    nic->has_mac = TRUE;
  }
  if (!nic->has_mac && nic->pci_address == NULL) {
    if (nic->kind == PP_GUEST_NIC_PCI)
      nic_fail(nic, "neither %s_ADDRESS nor %s is set: the interface cannot be found", nic->name,
               mac_name);
    else
      nic_fail(nic, "%s is not set: the interface cannot be found", mac_name);
    return;
  }
  if (!nic_address(ctx, nic, "IP", AF_INET, &nic->ip4) ||
      !nic_address(ctx, nic, "GATEWAY", AF_INET, &nic->gateway4) ||
      !nic_address(ctx, nic, "IP6", AF_INET6, &nic->ip6) ||
      !nic_address(ctx, nic, "IP6_ULA", AF_INET6, &nic->ip6_ula) ||
      !nic_address(ctx, nic, "IP6_GATEWAY", AF_INET6, &nic->gateway6) ||
      !nic_uint(ctx, nic, "MTU", 68, 65535, "an MTU", &nic->mtu) ||
      !nic_uint(ctx, nic, "VLAN_ID", 1, 4094, "a VLAN id", &vlan_id) ||
      !nic_uint(ctx, nic, "IP6_PREFIX_LENGTH", 1, 128, "a prefix length", &prefix6) ||
      !nic_uint(ctx, nic, "METRIC", 0, G_MAXINT32, "a route metric", &nic->metric4) ||
      !nic_uint(ctx, nic, "IP6_METRIC", 0, G_MAXINT32, "a route metric", &nic->metric6))
    return;
  if (vlan != NULL)
    nic->vlan_id = (gint)vlan_id;
  nic->ip4.prefix = 24; /* the guide: "IP (assuming a /24 netmask)" */
  if (mask != NULL && !parse_mask(mask, &nic->ip4.prefix)) {
    nic_fail(nic, "%s '%s' is not a netmask", mask_name, mask);
    return;
  }
  nic->ip6.prefix = prefix6; /* the guide: "IPV6 (assuming /128)" */
  nic->ip6_ula.prefix = 64;  /* OpenNebula's ULA range is a /64 */
}

/* ETH<n>_ or PCI<n>_ and the rest: the NIC's kind and index. */
static gboolean
nic_of(const char *name, PpGuestNicKind *ret_kind, guint *ret_index)
{
  const char *p;
  guint64 index;

  if (g_str_has_prefix(name, "ETH"))
    *ret_kind = PP_GUEST_NIC_ETH;
  else if (g_str_has_prefix(name, "PCI"))
    *ret_kind = PP_GUEST_NIC_PCI;
  else
    return FALSE;
  p = name + 3;
  if (!g_ascii_isdigit(*p))
    return FALSE;
  index = 0;
  while (g_ascii_isdigit(*p) && index < 100000)
    index = index * 10 + (guint64)(*p++ - '0');
  if (*p != '_' || index >= 100000)
    return FALSE;
  /* ETH0_ALIAS0_IP: OpenNebula's aliases, not a NIC of their own; the
   * agent leaves them. */
  if (g_str_has_prefix(p, "_ALIAS"))
    return FALSE;
  *ret_index = (guint)index;
  return TRUE;
}

static gint
nic_compare(gconstpointer a, gconstpointer b)
{
  const PpGuestNic *x = *(const PpGuestNic *const *)a;
  const PpGuestNic *y = *(const PpGuestNic *const *)b;

  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

PpGuestPlan *
pp_guest_plan_new(const PpGuestContext *ctx)
{
  PpGuestPlan *plan = g_new0(PpGuestPlan, 1);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) search = g_ptr_array_new_with_free_func(g_free);
  const char *hostname;

  plan->nics = g_ptr_array_new_with_free_func((GDestroyNotify)nic_free);
  for (guint i = 0; i < ctx->names->len; i++) {
    const char *name = g_ptr_array_index(ctx->names, i);
    PpGuestNicKind kind;
    guint index;
    PpGuestNic *nic;
    g_autofree char *prefix = NULL;

    if (!nic_of(name, &kind, &index))
      continue;
    prefix = g_strdup_printf("%s%u", kind == PP_GUEST_NIC_ETH ? "ETH" : "PCI", index);
    if (g_hash_table_contains(seen, prefix))
      continue;
    nic = g_new0(PpGuestNic, 1);
    nic->kind = kind;
    nic->index = index;
    nic->name = g_steal_pointer(&prefix);
    g_hash_table_add(seen, nic->name);
    g_ptr_array_add(plan->nics, nic);
  }
  g_ptr_array_sort(plan->nics, nic_compare);
  for (guint i = 0; i < plan->nics->len; i++) {
    PpGuestNic *nic = g_ptr_array_index(plan->nics, i);
    g_autofree char *dns_name = NULL, *search_name = NULL;
    const char *dns, *domains;

    nic_read(ctx, nic);
    if (nic->error != NULL)
      continue;
    dns = nic_var(ctx, nic, "DNS", &dns_name);
    domains = nic_var(ctx, nic, "SEARCH_DOMAIN", &search_name);
    if (dns != NULL)
      add_words(servers, dns_name, dns, TRUE, &plan->dns_error);
    if (domains != NULL)
      add_words(search, search_name, domains, FALSE, &plan->dns_error);
  }
  if (pp_guest_context_get(ctx, "DNS") != NULL)
    add_words(servers, "DNS", pp_guest_context_get(ctx, "DNS"), TRUE, &plan->dns_error);
  if (pp_guest_context_get(ctx, "SEARCH_DOMAIN") != NULL)
    add_words(search, "SEARCH_DOMAIN", pp_guest_context_get(ctx, "SEARCH_DOMAIN"), FALSE,
              &plan->dns_error);
  if (plan->dns_error == NULL && servers->len > 0) {
    g_ptr_array_add(servers, NULL);
    plan->nameservers = (char **)g_ptr_array_steal(servers, NULL);
    if (search->len > 0) {
      g_ptr_array_add(search, NULL);
      plan->search = (char **)g_ptr_array_steal(search, NULL);
    }
  }
  hostname = pp_guest_context_get(ctx, "SET_HOSTNAME");
  if (hostname != NULL && hostname[0] != '\0') {
    gboolean ok = strlen(hostname) <= 64 && hostname[0] != '-' && hostname[0] != '.';

    for (const char *p = hostname; *p != '\0' && ok; p++)
      ok = g_ascii_isalnum(*p) || *p == '-' || *p == '.';
    if (ok)
      plan->hostname = g_strdup(hostname);
    else
      plan->hostname_error =
          g_strdup_printf("SET_HOSTNAME '%s' is not a host name (at most 64 letters, digits, "
                          "'-' and '.')",
                          hostname);
  }
  return plan;
}

char *
pp_guest_plan_resolv_conf(const PpGuestPlan *plan)
{
  GString *out;

  if (plan->nameservers == NULL)
    return NULL;
  out = g_string_new("# Written by pcipass-context from the context disk.\n");
  if (plan->search != NULL) {
    g_autofree char *joined = g_strjoinv(" ", plan->search);

    g_string_append_printf(out, "search %s\n", joined);
  }
  for (guint i = 0; plan->nameservers[i] != NULL; i++)
    g_string_append_printf(out, "nameserver %s\n", plan->nameservers[i]);
  return g_string_free(out, FALSE);
}
