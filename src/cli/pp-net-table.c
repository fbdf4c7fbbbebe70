#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include "pp-host-table.h"
#include "pp-net-table.h"

/* A JSON boolean as "yes" or "no"; "-" for anything else. */
static char *
yes_no(const json_t *value)
{
  if (json_is_boolean(value))
    return g_strdup(json_is_true(value) ? "yes" : "no");
  return g_strdup("-");
}

/* The strings among @obj's @keys, cleaned and blank-separated; "-" when
 * none is. */
static char *
strings_text(const json_t *obj, const char *const *keys)
{
  g_autoptr(GString) out = g_string_new(NULL);

  for (guint i = 0; keys[i] != NULL; i++) {
    const char *value = json_string_value(json_object_get(obj, keys[i]));
    g_autofree char *clean = NULL;

    if (value == NULL || value[0] == '\0')
      continue;
    clean = pp_host_table_clean(value);
    g_string_append_printf(out, "%s%s", out->len > 0 ? " " : "", clean);
  }
  return out->len > 0 ? g_string_free(g_steal_pointer(&out), FALSE) : g_strdup("-");
}

/* The strings of the array @array, cleaned and blank-separated; "-" when
 * it has none. */
static char *
array_text(const json_t *array)
{
  g_autoptr(GString) out = g_string_new(NULL);
  const json_t *item;
  size_t i;

  json_array_foreach(array, i, item)
  {
    g_autofree char *clean = NULL;

    if (!json_is_string(item))
      continue;
    clean = pp_host_table_clean(json_string_value(item));
    g_string_append_printf(out, "%s%s", out->len > 0 ? " " : "", clean);
  }
  return out->len > 0 ? g_string_free(g_steal_pointer(&out), FALSE) : g_strdup("-");
}

char *
pp_net_table_list_stream(const json_t *networks, gint64 now, gboolean more, PpTableStream *stream)
{
  static const PpTableColumn columns[] = {
    { "ID", TRUE },      { "NAME", FALSE }, { "OWNER", FALSE },  { "SHARED", FALSE },
    { "VN_MAD", FALSE }, { "VLAN", TRUE },  { "LEASES", FALSE }, { "HELD", TRUE },
  };
  /* When more pages follow: room for what they may hold. */
  static const guint min_widths[G_N_ELEMENTS(columns)] = { 6, 20, 12, 6, 6, 4, 11, 4 };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *net;
  size_t i;

  (void)now;
  json_array_foreach(networks, i, net)
  {
    g_autofree char *used = pp_host_table_field(net, "used");
    g_autofree char *size = pp_host_table_field(net, "size");

    g_ptr_array_add(cells, pp_host_table_field(net, "id"));
    g_ptr_array_add(cells, pp_host_table_field(net, "name"));
    g_ptr_array_add(cells, pp_host_table_field(net, "owner"));
    g_ptr_array_add(cells, yes_no(json_object_get(net, "shared")));
    g_ptr_array_add(cells, pp_host_table_field(net, "vn_mad"));
    g_ptr_array_add(cells, pp_host_table_field(net, "vlan_id"));
    g_ptr_array_add(cells, g_strdup_printf("%s/%s", used, size));
    g_ptr_array_add(cells, pp_host_table_field(net, "held"));
  }
  return pp_host_table_render_stream(columns, G_N_ELEMENTS(columns), cells,
                                     more ? min_widths : NULL, stream);
}

char *
pp_net_table_list(const json_t *networks)
{
  PpTableStream stream = { 0 };

  return pp_net_table_list_stream(networks, 0, FALSE, &stream);
}

/* What a section says instead of a table: "  none" for an empty array,
 * what is missing when @array is not one; NULL when there is a table to
 * draw. */
static char *
section_empty(const json_t *array, const char *key)
{
  if (!json_is_array(array))
    return g_strdup_printf("  - (pcipassd's answer has no \"%s\")\n", key);
  if (json_array_size(array) == 0)
    return g_strdup("  none\n");
  return NULL;
}

/* A range's IPv6: its prefixes, or a static range's first address and
 * prefix length. */
static char *
range_ip6_text(const json_t *ar)
{
  static const char *const prefixes[] = { "global_prefix", "ula_prefix", NULL };
  const char *ip6 = json_string_value(json_object_get(ar, "ip6"));
  const json_t *length = json_object_get(ar, "prefix_length");
  g_autofree char *clean = NULL;

  if (ip6 == NULL || ip6[0] == '\0')
    return strings_text(ar, prefixes);
  clean = pp_host_table_clean(ip6);
  if (json_is_integer(length))
    return g_strdup_printf("%s/%" JSON_INTEGER_FORMAT, clean, json_integer_value(length));
  return g_steal_pointer(&clean);
}

char *
pp_net_table_ranges(const json_t *ars)
{
  static const PpTableColumn columns[] = {
    { "AR", TRUE },         { "TYPE", FALSE },     { "SIZE", TRUE },     { "USED", TRUE },
    { "FIRST MAC", FALSE }, { "FIRST IP", FALSE }, { "LAST IP", FALSE }, { "IPV6", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  char *empty = section_empty(ars, "ars");
  const json_t *ar;
  size_t i;

  if (empty != NULL)
    return empty;
  json_array_foreach(ars, i, ar)
  {
    g_ptr_array_add(cells, pp_host_table_field(ar, "ar_id"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "type"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "size"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "used"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "mac"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "ip"));
    g_ptr_array_add(cells, pp_host_table_field(ar, "ip_last"));
    g_ptr_array_add(cells, range_ip6_text(ar));
  }
  return pp_host_table_render(columns, G_N_ELEMENTS(columns), cells);
}

char *
pp_net_table_leases(const json_t *leases)
{
  static const PpTableColumn columns[] = {
    { "AR", TRUE },   { "IP", FALSE }, { "IPV6", FALSE },
    { "MAC", FALSE }, { "VM", FALSE }, { "NIC", TRUE },
  };
  static const char *const ip6_keys[] = { "ip6_global", "ip6_ula", "ip6", NULL };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  char *empty = section_empty(leases, "leases");
  const json_t *lease;
  size_t i;

  if (empty != NULL)
    return empty;
  json_array_foreach(leases, i, lease)
  {
    gboolean held = json_is_true(json_object_get(lease, "held"));

    g_ptr_array_add(cells, pp_host_table_field(lease, "ar_id"));
    g_ptr_array_add(cells, pp_host_table_field(lease, "ip"));
    g_ptr_array_add(cells, strings_text(lease, ip6_keys));
    g_ptr_array_add(cells, pp_host_table_field(lease, "mac"));
    g_ptr_array_add(cells, held ? g_strdup("held") : pp_host_table_field(lease, "vm_id"));
    g_ptr_array_add(cells, pp_host_table_field(lease, "nic_id"));
  }
  return pp_host_table_render(columns, G_N_ELEMENTS(columns), cells);
}

/* A time as "5m ago"; "-" when it is not one (a network always has
 * both of its times, so none is not "never"). */
static char *
ago_text(const json_t *when, gint64 now)
{
  if (!json_is_integer(when))
    return g_strdup("-");
  return pp_host_table_ago(when, now);
}

static void
append_fact(GString *out, const char *label, const char *value)
{
  g_string_append_printf(out, "%-14s : %s\n", label, value);
}

/* @network's @key as a fact. */
static void
append_field(GString *out, const char *label, const json_t *network, const char *key)
{
  g_autofree char *value = pp_host_table_field(network, key);

  append_fact(out, label, value);
}

char *
pp_net_table_show(const json_t *network, gint64 now)
{
  GString *out = g_string_new(NULL);
  g_autofree char *shared = yes_no(json_object_get(network, "shared"));
  g_autofree char *dns = array_text(json_object_get(network, "dns"));
  g_autofree char *search = array_text(json_object_get(network, "search_domains"));
  g_autofree char *used = pp_host_table_field(network, "used");
  g_autofree char *held = pp_host_table_field(network, "held");
  g_autofree char *size = pp_host_table_field(network, "size");
  g_autofree char *leases_fact = g_strdup_printf("%s used, %s held, of %s", used, held, size);
  g_autofree char *created = ago_text(json_object_get(network, "created"), now);
  g_autofree char *updated = ago_text(json_object_get(network, "updated"), now);
  g_autofree char *ranges = pp_net_table_ranges(json_object_get(network, "ars"));
  g_autofree char *leases = pp_net_table_leases(json_object_get(network, "leases"));

  append_field(out, "ID", network, "id");
  append_field(out, "NAME", network, "name");
  append_field(out, "OWNER", network, "owner");
  append_fact(out, "SHARED", shared);
  append_field(out, "VN_MAD", network, "vn_mad");
  append_field(out, "BRIDGE", network, "bridge");
  append_field(out, "PHYDEV", network, "phydev");
  append_field(out, "VLAN_ID", network, "vlan_id");
  append_field(out, "MTU", network, "mtu");
  append_field(out, "NETWORK", network, "network_address");
  append_field(out, "GATEWAY", network, "gateway");
  append_fact(out, "DNS", dns);
  append_fact(out, "SEARCH_DOMAIN", search);
  append_field(out, "GATEWAY6", network, "gateway6");
  append_fact(out, "LEASES", leases_fact);
  append_fact(out, "CREATED", created);
  append_fact(out, "UPDATED", updated);
  g_string_append(out, "\nADDRESS RANGES\n\n");
  g_string_append(out, ranges);
  g_string_append(out, "\nLEASES\n\n");
  g_string_append(out, leases);
  return g_string_free(out, FALSE);
}
