/* pp-context: the context.sh of a VM's context disk (pp-context.h). */
#define G_LOG_DOMAIN "pp-context"

#include "config.h"

#include <string.h>

#include "pp-context.h"

G_DEFINE_QUARK(pp - context - error - quark, pp_context_error)

gboolean
pp_context_quote(GString *out, const char *value)
{
  for (const char *p = value; *p != '\0'; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return FALSE;
  g_string_append_c(out, '\'');
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == '\'')
      g_string_append(out, "'\\''");
    else
      g_string_append_c(out, *p);
  }
  g_string_append_c(out, '\'');
  return TRUE;
}

/* Appends PREFIX_NAME='value' and a newline to @out; nothing for a NULL
 * @value. */
static gboolean
append_var(GString *out, const char *prefix, const char *name, const char *value, GError **error)
{
  gsize len = out->len;

  if (value == NULL)
    return TRUE;
  g_string_append_printf(out, "%s_%s=", prefix, name);
  if (!pp_context_quote(out, value)) {
    g_string_truncate(out, len);
    g_set_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID,
                "%s_%s: a value with a control character cannot be written", prefix, name);
    return FALSE;
  }
  g_string_append_c(out, '\n');
  return TRUE;
}

/* The dotted mask of prefix length @prefix (0..32). */
static char *
mask_text(guint prefix)
{
  PpIp4 mask;
  char buf[PP_IP4_BUFSIZE];

  pp_ip4_from_u32(prefix == 0 ? 0 : G_MAXUINT32 << (32 - prefix), &mask);
  return g_strdup(pp_ip4_format(&mask, buf));
}

static char *
dns_text(const PpNetworkSpec *network)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < network->dns->len; i++) {
    const PpIpAddress *a = &g_array_index(network->dns, PpIpAddress, i);
    char buf[PP_IP6_BUFSIZE];

    g_string_append_printf(out, "%s%s", i > 0 ? " " : "",
                           a->is_ip6 ? pp_ip6_format(&a->ip6, buf) : pp_ip4_format(&a->ip4, buf));
  }
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

/* One NIC's variables, in the order of pp-context.h. */
static gboolean
append_nic(GString *out, const PpContextNic *nic, GError **error)
{
  const PpNetworkLease *lease = nic->lease;
  const PpNetworkSpec *net = nic->network;
  g_autofree char *prefix = nic->kind == PP_VM_NIC_PCI ? g_strdup_printf("PCI%u", nic->pci_index)
                                                       : g_strdup_printf("ETH%u", nic->nic_id);
  char mac[PP_MAC_BUFSIZE], ip[PP_IP4_BUFSIZE], gateway[PP_IP4_BUFSIZE];
  char ip6[PP_IP6_BUFSIZE], ula[PP_IP6_BUFSIZE], gateway6[PP_IP6_BUFSIZE];
  char address[PP_PCI_ADDRESS_BUFSIZE];
  g_autofree char *mask = NULL;
  g_autofree char *dns = NULL;
  g_autofree char *search = NULL;
  g_autofree char *mtu = NULL;
  g_autofree char *vlan = NULL;
  g_autofree char *ip6_prefix = NULL;
  gboolean has_ip6 = lease != NULL && (lease->has_ip6 || lease->has_ip6_global);

  if (lease == NULL)
    return TRUE;
  if (net != NULL && net->has_network)
    mask = mask_text(net->network_prefix);
  if (net != NULL) {
    dns = dns_text(net);
    if (net->search_domains != NULL && net->search_domains[0] != NULL)
      search = g_strjoinv(" ", net->search_domains);
    if (net->mtu > 0)
      mtu = g_strdup_printf("%u", net->mtu);
  }
  if (nic->vlan_id >= 0)
    vlan = g_strdup_printf("%d", nic->vlan_id);
  if (has_ip6)
    ip6_prefix = g_strdup_printf(
        "%u", lease->has_ip6 && nic->ip6_prefix_length > 0 ? nic->ip6_prefix_length : 64);
  return append_var(out, prefix, "MAC", pp_mac_format(&lease->mac, mac), error) &&
         append_var(out, prefix, "IP", lease->has_ip ? pp_ip4_format(&lease->ip, ip) : NULL,
                    error) &&
         append_var(out, prefix, "MASK", mask, error) &&
         append_var(out, prefix, "GATEWAY",
                    net != NULL && net->has_gateway ? pp_ip4_format(&net->gateway, gateway) : NULL,
                    error) &&
         append_var(out, prefix, "DNS", dns, error) &&
         append_var(out, prefix, "SEARCH_DOMAIN", search, error) &&
         append_var(out, prefix, "MTU", mtu, error) &&
         append_var(out, prefix, "VLAN_ID", vlan, error) &&
         append_var(out, prefix, "IP6",
                    !has_ip6         ? NULL
                    : lease->has_ip6 ? pp_ip6_format(&lease->ip6, ip6)
                                     : pp_ip6_format(&lease->ip6_global, ip6),
                    error) &&
         append_var(out, prefix, "IP6_PREFIX_LENGTH", ip6_prefix, error) &&
         append_var(out, prefix, "IP6_ULA",
                    lease->has_ip6_ula ? pp_ip6_format(&lease->ip6_ula, ula) : NULL, error) &&
         append_var(out, prefix, "IP6_GATEWAY",
                    net != NULL && net->has_gateway6 ? pp_ip6_format(&net->gateway6, gateway6)
                                                     : NULL,
                    error) &&
         append_var(out, prefix, "NETWORK", nic->network_name, error) &&
         append_var(out, prefix, "ADDRESS",
                    nic->kind == PP_VM_NIC_PCI && nic->has_guest_address
                        ? pp_pci_address_format(&nic->guest_address, address)
                        : NULL,
                    error);
}

gboolean
pp_context_append_nics(GString *out, const PpContextNic *nics, guint n_nics, GError **error)
{
  gsize len;

  g_return_val_if_fail(out != NULL && (nics != NULL || n_nics == 0), FALSE);

  len = out->len;
  for (guint i = 0; i < n_nics; i++) {
    if (!append_nic(out, &nics[i], error)) {
      g_string_truncate(out, len);
      return FALSE;
    }
  }
  return TRUE;
}

static void
context_file_free(PpContextFile *file)
{
  g_free(file->name);
  g_bytes_unref(file->data);
  g_free(file);
}

PpContextDisk *
pp_context_disk_new(PpVmContextFormat format)
{
  PpContextDisk *disk = g_new0(PpContextDisk, 1);

  disk->format = format;
  disk->label = format == PP_VM_CONTEXT_NOCLOUD ? "cidata" : "CONTEXT";
  disk->files = g_ptr_array_new_with_free_func((GDestroyNotify)context_file_free);
  return disk;
}

void
pp_context_disk_free(PpContextDisk *disk)
{
  if (disk == NULL)
    return;
  g_ptr_array_unref(disk->files);
  g_free(disk);
}

void
pp_context_disk_add(PpContextDisk *disk, const char *name, const void *data, gsize len)
{
  PpContextFile *file = g_new0(PpContextFile, 1);

  file->name = g_strdup(name);
  file->data = g_bytes_new(data, len);
  g_ptr_array_add(disk->files, file);
}
