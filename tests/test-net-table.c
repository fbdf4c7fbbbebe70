/* pp-net-table: the text of `pcipass net list` and `net show`, from the
 * API's JSON, without a daemon: columns, every range type's IPv6, held
 * leases, and answers with fields missing or of the wrong type. */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-net-table.h"
#include "pp-test-util.h"

#define NOW 1000000

static json_t *
parse(const char *text)
{
  json_error_t jerr;
  json_t *json = json_loads(text, JSON_DECODE_ANY, &jerr);

  if (json == NULL)
    g_error("bad test JSON: line %d: %s", jerr.line, jerr.text);
  return json;
}

static void
assert_no_trailing_spaces(const char *text)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' && lines[i][strlen(lines[i]) - 1] == ' ')
      g_error("line %u ends in a space: '%s'", i + 1, lines[i]);
}

static const char rows[] =
    "[{\"id\": 3, \"name\": \"lab\", \"owner_id\": 2, \"owner\": \"alice\", \"shared\": true, "
    "\"vn_mad\": \"802.1Q\", \"bridge\": null, \"vlan_id\": 100, \"size\": 254, \"used\": 12, "
    "\"held\": 1}, "
    "{\"id\": 14, \"name\": \"public-v6\", \"owner_id\": 1, \"owner\": \"admin\", \"shared\": "
    "false, \"vn_mad\": \"bridge\", \"bridge\": \"br0\", \"vlan_id\": null, \"size\": 1024, "
    "\"used\": 0, \"held\": 0}]";

static void
test_list(void)
{
  g_autoptr(json_t) nets = parse(rows);
  g_autoptr(json_t) empty = json_array();
  g_autofree char *text = pp_net_table_list(nets);
  g_autofree char *none = pp_net_table_list(empty);

  g_assert_cmpstr(text, ==,
                  "ID NAME      OWNER SHARED VN_MAD VLAN LEASES HELD\n"
                  " 3 lab       alice yes    802.1Q  100 12/254    1\n"
                  "14 public-v6 admin no     bridge    - 0/1024    0\n");
  g_assert_cmpstr(none, ==, "ID NAME OWNER SHARED VN_MAD VLAN LEASES HELD\n");
}

/* A first page that more pages follow leaves room for their cells; the
 * next page has no header. */
static void
test_list_stream(void)
{
  g_autoptr(json_t) nets = parse(rows);
  PpTableStream stream = { 0 };
  g_autofree char *first = pp_net_table_list_stream(nets, NOW, TRUE, &stream);
  g_autofree char *second = pp_net_table_list_stream(nets, NOW, FALSE, &stream);

  g_assert_cmpstr(first, ==,
                  "    ID NAME                 OWNER        SHARED VN_MAD VLAN LEASES      HELD\n"
                  "     3 lab                  alice        yes    802.1Q  100 12/254         1\n"
                  "    14 public-v6            admin        no     bridge    - 0/1024         0\n");
  g_assert_cmpstr(second, ==,
                  "     3 lab                  alice        yes    802.1Q  100 12/254         1\n"
                  "    14 public-v6            admin        no     bridge    - 0/1024         0\n");
}

/* Missing fields, wrong types, rows that are not objects, text that
 * would move the terminal's cursor: "-" and '?', never a crash. */
static void
test_list_odd(void)
{
  g_autoptr(json_t) nets =
      parse("[{\"id\": \"3\", \"name\": \"ev\\u001b[2Jil\", \"shared\": \"yes\", \"vlan_id\": "
            "1.5, \"size\": 8}, 42, null, {}]");
  g_autofree char *text = pp_net_table_list(nets);
  g_autofree char *not_array = pp_net_table_list(NULL);

  g_assert_cmpstr(text, ==,
                  "ID NAME     OWNER SHARED VN_MAD VLAN LEASES HELD\n"
                  " 3 ev?[2Jil -     -      -         - -/8       -\n"
                  " - -        -     -      -         - -/-       -\n"
                  " - -        -     -      -         - -/-       -\n"
                  " - -        -     -      -         - -/-       -\n");
  g_assert_cmpstr(not_array, ==, "ID NAME OWNER SHARED VN_MAD VLAN LEASES HELD\n");
  assert_no_trailing_spaces(text);
}

/* A network with a range of each type (the IPv6 column: prefixes, or a
 * static range's first address and length), a VM's leases and a held
 * one. */
static const char network[] =
    "{\"id\": 3, \"name\": \"lab\", \"owner_id\": 2, \"owner\": \"alice\", \"shared\": true, "
    "\"vn_mad\": \"802.1Q\", \"bridge\": null, \"vlan_id\": 100, \"size\": 36, \"used\": 2, "
    "\"held\": 1, \"phydev\": \"eth1\", \"mtu\": 9000, \"network_address\": \"10.0.0.0/24\", "
    "\"gateway\": \"10.0.0.1\", \"dns\": [\"10.0.0.2\", \"2001:db8::53\"], "
    "\"search_domains\": [\"example.org\", \"lab.example.org\"], \"gateway6\": "
    "\"2001:db8::1\", \"template\": \"NAME = lab\", \"created\": 999700, \"updated\": 999940, "
    "\"ars\": ["
    "{\"ar_id\": 0, \"type\": \"IP4\", \"size\": 16, \"used\": 2, \"mac\": "
    "\"02:00:0a:00:00:10\", \"ip\": \"10.0.0.16\", \"ip_last\": \"10.0.0.31\", \"mac_last\": "
    "\"02:00:0a:00:00:1f\", \"global_prefix\": null, \"ula_prefix\": null, \"ip6\": null, "
    "\"prefix_length\": null}, "
    "{\"ar_id\": 1, \"type\": \"ETHER\", \"size\": 4, \"used\": 0, \"mac\": "
    "\"02:00:00:00:00:01\", \"ip\": null, \"ip_last\": null, \"mac_last\": "
    "\"02:00:00:00:00:04\"}, "
    "{\"ar_id\": 2, \"type\": \"IP4_6\", \"size\": 8, \"used\": 0, \"mac\": "
    "\"02:00:0a:00:01:00\", \"ip\": \"10.0.1.0\", \"ip_last\": \"10.0.1.7\", "
    "\"global_prefix\": \"2001:db8:0:1::\", \"ula_prefix\": \"fd00:0:0:1::\", \"ip6\": null}, "
    "{\"ar_id\": 3, \"type\": \"IP6_STATIC\", \"size\": 8, \"used\": 0, \"mac\": "
    "\"02:00:00:00:01:00\", \"ip\": null, \"ip6\": \"2001:db8:0:2::10\", \"prefix_length\": "
    "64}], "
    "\"leases\": ["
    "{\"ar_id\": 0, \"ip\": \"10.0.0.16\", \"ip6_global\": null, \"ip6_ula\": null, \"ip6\": "
    "null, \"mac\": \"02:00:0a:00:00:10\", \"vm_id\": 12, \"nic_id\": 0, \"held\": false}, "
    "{\"ar_id\": 0, \"ip\": \"10.0.0.17\", \"mac\": \"02:00:0a:00:00:11\", \"vm_id\": 12, "
    "\"nic_id\": 1, \"held\": false}, "
    "{\"ar_id\": 0, \"ip\": \"10.0.0.20\", \"mac\": \"02:00:0a:00:00:14\", \"vm_id\": null, "
    "\"nic_id\": null, \"held\": true}, "
    "{\"ar_id\": 2, \"ip\": \"10.0.1.0\", \"ip6_global\": \"2001:db8:0:1:0:aff:fe00:100\", "
    "\"ip6_ula\": \"fd00:0:0:1:0:aff:fe00:100\", \"mac\": \"02:00:0a:00:01:00\", \"vm_id\": 13, "
    "\"nic_id\": 0, \"held\": false}]}";

static void
test_show(void)
{
  g_autoptr(json_t) net = parse(network);
  g_autofree char *text = pp_net_table_show(net, NOW);

  g_assert_cmpstr(
      text, ==,
      "ID             : 3\n"
      "NAME           : lab\n"
      "OWNER          : alice\n"
      "SHARED         : yes\n"
      "VN_MAD         : 802.1Q\n"
      "BRIDGE         : -\n"
      "PHYDEV         : eth1\n"
      "VLAN_ID        : 100\n"
      "MTU            : 9000\n"
      "NETWORK        : 10.0.0.0/24\n"
      "GATEWAY        : 10.0.0.1\n"
      "DNS            : 10.0.0.2 2001:db8::53\n"
      "SEARCH_DOMAIN  : example.org lab.example.org\n"
      "GATEWAY6       : 2001:db8::1\n"
      "LEASES         : 2 used, 1 held, of 36\n"
      "CREATED        : 5m ago\n"
      "UPDATED        : 1m ago\n"
      "\n"
      "ADDRESS RANGES\n"
      "\n"
      "AR TYPE       SIZE USED FIRST MAC         FIRST IP  LAST IP   IPV6\n"
      " 0 IP4          16    2 02:00:0a:00:00:10 10.0.0.16 10.0.0.31 -\n"
      " 1 ETHER         4    0 02:00:00:00:00:01 -         -         -\n"
      " 2 IP4_6         8    0 02:00:0a:00:01:00 10.0.1.0  10.0.1.7  2001:db8:0:1:: fd00:0:0:1::\n"
      " 3 IP6_STATIC    8    0 02:00:00:00:01:00 -         -         2001:db8:0:2::10/64\n"
      "\n"
      "LEASES\n"
      "\n"
      "AR IP        IPV6                                                  MAC               VM   "
      "NIC\n"
      " 0 10.0.0.16 -                                                     02:00:0a:00:00:10 12     "
      "0\n"
      " 0 10.0.0.17 -                                                     02:00:0a:00:00:11 12     "
      "1\n"
      " 0 10.0.0.20 -                                                     02:00:0a:00:00:14 held   "
      "-\n"
      " 2 10.0.1.0  2001:db8:0:1:0:aff:fe00:100 fd00:0:0:1:0:aff:fe00:100 02:00:0a:00:01:00 13     "
      "0\n");
  assert_no_trailing_spaces(text);
}

/* No ranges, no leases: said, not drawn. */
static void
test_show_empty(void)
{
  g_autoptr(json_t) net = parse(network);
  g_autofree char *text = NULL;

  json_object_set_new(net, "ars", json_array());
  json_object_set_new(net, "leases", json_array());
  text = pp_net_table_show(net, NOW);
  g_assert_true(g_str_has_suffix(text, "\nADDRESS RANGES\n\n  none\n\nLEASES\n\n  none\n"));
}

/* An answer that lacks what a network has (another pcipassd's, a bug):
 * every fact "-", the lists it lacks named, no crash. */
static void
test_show_missing(void)
{
  static const char *const answers[] = {
    "{}",
    "[]",
    "null",
    ("{\"id\": [], \"shared\": 1, \"dns\": \"10.0.0.2\", \"search_domains\": [5, null], "
     "\"created\": \"yesterday\", \"ars\": {}, \"leases\": \"none\"}"),
  };

  for (guint i = 0; i < G_N_ELEMENTS(answers); i++) {
    g_autoptr(json_t) net = parse(answers[i]);
    g_autofree char *text = pp_net_table_show(net, NOW);

    g_assert_true(g_str_has_prefix(text, "ID             : -\n"
                                         "NAME           : -\n"
                                         "OWNER          : -\n"
                                         "SHARED         : -\n"));
    g_assert_nonnull(strstr(text, "DNS            : -\n"
                                  "SEARCH_DOMAIN  : -\n"));
    g_assert_nonnull(strstr(text, "LEASES         : - used, - held, of -\n"));
    g_assert_nonnull(strstr(text, "CREATED        : -"));
    g_assert_true(g_str_has_suffix(text, "\nADDRESS RANGES\n"
                                         "\n"
                                         "  - (pcipassd's answer has no \"ars\")\n"
                                         "\n"
                                         "LEASES\n"
                                         "\n"
                                         "  - (pcipassd's answer has no \"leases\")\n"));
    assert_no_trailing_spaces(text);
  }
}

/* Ranges and leases with fields missing or of the wrong type, and items
 * that are not objects: "-" in their cells. */
static void
test_odd_rows(void)
{
  g_autoptr(json_t) ars =
      parse("[{\"ar_id\": \"0\", \"type\": 4, \"ip6\": \"2001:db8::\\u0007\", \"prefix_length\": "
            "\"64\"}, \"IP4\"]");
  g_autoptr(json_t) leases =
      parse("[{\"held\": \"yes\", \"vm_id\": 1.5, \"ip6_ula\": \"fd00::1\"}, [], {\"held\": "
            "true, \"vm_id\": 12}]");
  g_autofree char *ranges = pp_net_table_ranges(ars);
  g_autofree char *lease_rows = pp_net_table_leases(leases);

  g_assert_cmpstr(ranges, ==,
                  "AR TYPE SIZE USED FIRST MAC FIRST IP LAST IP IPV6\n"
                  " 0 4       -    - -         -        -       2001:db8::?\n"
                  " - -       -    - -         -        -       -\n");
  /* "held" wins over a VM id that should not be there. */
  g_assert_cmpstr(lease_rows, ==,
                  "AR IP IPV6    MAC VM   NIC\n"
                  " - -  fd00::1 -   -      -\n"
                  " - -  -       -   -      -\n"
                  " - -  -       -   held   -\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/net-table/list", test_list);
  g_test_add_func("/net-table/list-stream", test_list_stream);
  g_test_add_func("/net-table/list-odd", test_list_odd);
  g_test_add_func("/net-table/show", test_show);
  g_test_add_func("/net-table/show-empty", test_show_empty);
  g_test_add_func("/net-table/show-missing", test_show_missing);
  g_test_add_func("/net-table/odd-rows", test_odd_rows);
  return g_test_run();
}
