/* libFuzzer target: the network template checks (pp_network_template_parse,
 * which pcipassd will run on every `pcipass net create`) and the lease
 * arithmetic of what they accept. Any input is accepted or refused with an
 * error that says where (its position is the message's); what is accepted
 * is within pp-network.h's bounds, its ranges do not overlap, the first and
 * last lease of every range exist and are found again by their addresses,
 * the lease past the end does not, and every address formats and parses
 * back the same. No crash, no leak. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-network-template: " __VA_ARGS__);                                      \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

static void
check_addresses(const PpNetworkLease *lease)
{
  char buf[PP_IP6_BUFSIZE];
  PpMac mac;
  PpIp4 ip;
  PpIp6 ip6;

  CHECK(pp_mac_parse(pp_mac_format(&lease->mac, buf), &mac, NULL) &&
            pp_mac_compare(&mac, &lease->mac) == 0,
        "MAC '%s' does not parse back", buf);
  CHECK(pp_mac_is_unicast(&lease->mac), "MAC '%s' is multicast", buf);
  if (lease->has_ip)
    CHECK(pp_ip4_parse(pp_ip4_format(&lease->ip, buf), &ip, NULL) &&
              pp_ip4_compare(&ip, &lease->ip) == 0,
          "IP '%s' does not parse back", buf);
  if (lease->has_ip6)
    CHECK(pp_ip6_parse(pp_ip6_format(&lease->ip6, buf), &ip6, NULL) &&
              pp_ip6_compare(&ip6, &lease->ip6) == 0,
          "IP6 '%s' does not parse back", buf);
}

static void
check_lease(const PpNetworkSpec *spec, guint id, guint32 index)
{
  const PpNetworkAr *ar = &g_array_index(spec->ars, PpNetworkAr, id);
  g_autoptr(GError) error = NULL;
  PpNetworkLease lease;
  guint32 found = G_MAXUINT32;
  guint found_ar = G_MAXUINT;

  CHECK(pp_network_ar_lease(ar, index, &lease, &error), "AR %u lease %u: %s", id, index,
        error->message);
  check_addresses(&lease);
  CHECK(lease.has_ip == pp_network_ar_type_has_ip4(ar->type), "AR %u: IPv4", id);
  CHECK(lease.has_ip6 == pp_network_ar_type_has_ip6_static(ar->type), "AR %u: IP6", id);
  CHECK(pp_network_spec_find_mac(spec, &lease.mac, &found_ar, &found) && found_ar == id &&
            found == index,
        "AR %u lease %u: its MAC is found at AR %u index %u", id, index, found_ar, found);
  if (lease.has_ip)
    CHECK(pp_network_spec_find_ip(spec, &lease.ip, &found_ar, &found) && found_ar == id &&
              found == index,
          "AR %u lease %u: its IP is found at AR %u index %u", id, index, found_ar, found);
  if (lease.has_ip6)
    CHECK(pp_network_ar_find_ip6(ar, &lease.ip6, &found) && found == index,
          "AR %u lease %u: its IP6 is found at index %u", id, index, found);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpNetworkSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  PpTextPos pos = { 0, 0 };
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  PpNetworkLease lease;

  spec = pp_network_template_parse((const char *)data, size, NULL, &pos, &error);
  if (spec == NULL) {
    CHECK(error != NULL, "no spec and no error");
    if (pos.line > 0) {
      g_autofree char *where = g_strdup_printf("line %u, column %u: ", pos.line, pos.column);

      CHECK(g_str_has_prefix(error->message, where), "'%s' is not at %u:%u", error->message,
            pos.line, pos.column);
    } else {
      CHECK(strstr(error->message, " is required (add ") != NULL ||
                g_str_has_prefix(error->message, "the template is "),
            "the error '%s' does not say where", error->message);
    }
    return 0;
  }
  CHECK(error == NULL, "a spec and an error");
  CHECK(spec->name != NULL && spec->name[0] != '\0' && strlen(spec->name) <= 64, "NAME");
  CHECK(spec->vn_mad < _PP_NETWORK_VN_MAD_MAX, "VN_MAD");
  CHECK((spec->vn_mad == PP_NETWORK_VN_MAD_8021Q) == (spec->vlan_id >= 0) &&
            spec->vlan_id <= PP_NETWORK_VLAN_ID_MAX,
        "VLAN_ID %d with VN_MAD %s", spec->vlan_id, pp_network_vn_mad_to_string(spec->vn_mad));
  CHECK(spec->phydev == NULL || spec->vn_mad == PP_NETWORK_VN_MAD_8021Q, "PHYDEV");
  CHECK(spec->mtu == 0 || (spec->mtu >= PP_NETWORK_MTU_MIN && spec->mtu <= PP_NETWORK_MTU_MAX),
        "MTU %u", spec->mtu);
  CHECK(spec->dns->len <= PP_NETWORK_MAX_DNS, "DNS");
  CHECK(g_strv_length(spec->search_domains) <= PP_NETWORK_MAX_SEARCH_DOMAINS, "SEARCH_DOMAIN");
  CHECK(spec->network_prefix <= 32, "NETWORK_MASK");
  CHECK(spec->ars->len >= 1 && spec->ars->len <= PP_NETWORK_MAX_ARS, "%u ARs", spec->ars->len);
  CHECK(pp_network_spec_check_overlaps(spec, NULL), "ARs that overlap were accepted");

  for (guint id = 0; id < spec->ars->len; id++) {
    PpNetworkAr *ar = &g_array_index(spec->ars, PpNetworkAr, id);

    CHECK(ar->size >= 1 && ar->size <= PP_NETWORK_AR_SIZE_MAX, "AR %u: SIZE %u", id, ar->size);
    CHECK(ar->has_mac || (!ar->mac_given && !pp_network_ar_type_has_ip4(ar->type)), "AR %u: no MAC",
          id);
    if (!ar->has_mac) {
      /* As the store will: a base past every generated MAC of this
       * network, 02:00:ff:f0:00:00 on; it may overlap a given MAC. */
      CHECK(pp_network_ar_set_mac_base(ar, &prefix, 0xfff00000 - id * PP_NETWORK_AR_SIZE_MAX, NULL),
            "AR %u: a base", id);
      if (!pp_network_spec_check_overlaps(spec, NULL))
        return 0;
    }
  }
  for (guint id = 0; id < spec->ars->len; id++) {
    const PpNetworkAr *ar = &g_array_index(spec->ars, PpNetworkAr, id);

    check_lease(spec, id, 0);
    check_lease(spec, id, ar->size - 1);
    CHECK(!pp_network_ar_lease(ar, ar->size, &lease, NULL), "AR %u: a lease past the end", id);
  }
  return 0;
}
