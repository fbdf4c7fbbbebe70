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

/* ------------------------------------------------------------------------ */
/* Substitutions                                                             */
/* ------------------------------------------------------------------------ */

static gboolean resolve_fail(GError **error, const PpVmContextVar *var,
                             const PpVmContextPiece *piece, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* "CONTEXT: KEY: '$NIC[IP]': why" */
static gboolean
resolve_fail(GError **error, const PpVmContextVar *var, const PpVmContextPiece *piece,
             const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID, "CONTEXT: %s: '%s': %s", var->name,
              piece->text, message);
  return FALSE;
}

static char *
ip4_text(gboolean has, const PpIp4 *ip)
{
  char buf[PP_IP4_BUFSIZE];

  return has ? g_strdup(pp_ip4_format(ip, buf)) : NULL;
}

static char *
ip6_text(gboolean has, const PpIp6 *ip)
{
  char buf[PP_IP6_BUFSIZE];

  return has ? g_strdup(pp_ip6_format(ip, buf)) : NULL;
}

/* A network's attribute (pp-vm-template.h's list); NULL when it does not
 * set it. @vlan_id: the NIC's, or -1 for the network's. */
static char *
network_attr(const PpNetworkSpec *net, const char *attr, gint vlan_id)
{
  if (strcmp(attr, "GATEWAY") == 0)
    return ip4_text(net->has_gateway, &net->gateway);
  if (strcmp(attr, "GATEWAY6") == 0)
    return ip6_text(net->has_gateway6, &net->gateway6);
  if (strcmp(attr, "DNS") == 0)
    return dns_text(net);
  if (strcmp(attr, "MTU") == 0)
    return net->mtu > 0 ? g_strdup_printf("%u", net->mtu) : NULL;
  if (strcmp(attr, "NETWORK_ADDRESS") == 0)
    return ip4_text(net->has_network, &net->network_address);
  if (strcmp(attr, "NETWORK_MASK") == 0)
    return net->has_network ? mask_text(net->network_prefix) : NULL;
  if (strcmp(attr, "SEARCH_DOMAIN") == 0)
    return net->search_domains != NULL && net->search_domains[0] != NULL
               ? g_strjoinv(" ", net->search_domains)
               : NULL;
  g_assert(strcmp(attr, "VLAN_ID") == 0);
  if (vlan_id < 0)
    vlan_id = net->vlan_id;
  return vlan_id >= 0 ? g_strdup_printf("%d", vlan_id) : NULL;
}

/* A NIC's own attribute, from its lease; FALSE when it is a network's. */
static gboolean
nic_lease_attr(const PpContextNic *nic, const char *attr, char **ret)
{
  const PpNetworkLease *l = nic->lease;
  char buf[PP_MAC_BUFSIZE];

  if (strcmp(attr, "MAC") == 0)
    *ret = g_strdup(pp_mac_format(&l->mac, buf));
  else if (strcmp(attr, "IP") == 0)
    *ret = ip4_text(l->has_ip, &l->ip);
  else if (strcmp(attr, "IP6") == 0)
    *ret = l->has_ip6 ? ip6_text(TRUE, &l->ip6) : ip6_text(l->has_ip6_global, &l->ip6_global);
  else if (strcmp(attr, "IP6_GLOBAL") == 0)
    *ret = ip6_text(l->has_ip6_global, &l->ip6_global);
  else if (strcmp(attr, "IP6_ULA") == 0)
    *ret = ip6_text(l->has_ip6_ula, &l->ip6_ula);
  else
    return FALSE;
  return TRUE;
}

/* The NIC a $NIC[...] or $NETWORK[...] names, or NULL. */
static const PpContextNic *
find_nic(const PpContextVm *vm, const PpVmContextPiece *piece)
{
  for (guint i = 0; i < vm->n_nics; i++) {
    const PpContextNic *nic = &vm->nics[i];

    switch (piece->by) {
    case PP_VM_CONTEXT_BY_FIRST:
      if (nic->nic_id == 0)
        return nic;
      break;
    case PP_VM_CONTEXT_BY_NIC_ID:
      if ((gint64)nic->nic_id == piece->id)
        return nic;
      break;
    case PP_VM_CONTEXT_BY_NETWORK:
      if (g_strcmp0(nic->network_name, piece->network) == 0)
        return nic;
      break;
    case PP_VM_CONTEXT_BY_NETWORK_ID:
      if (nic->network_id > 0 && nic->network_id == piece->id)
        return nic;
      break;
    }
  }
  return NULL;
}

/* What a $NIC[...] or $NETWORK[...] says, "" for what its network does
 * not set; FALSE with the error naming @var. */
static gboolean
resolve_reference(const PpContextVm *vm, const PpVmContextVar *var, const PpVmContextPiece *piece,
                  GString *out, GError **error)
{
  const PpContextNic *nic = find_nic(vm, piece);
  gboolean is_nic = piece->kind == PP_VM_CONTEXT_PIECE_NIC;
  g_autofree char *value = NULL;

  if (nic == NULL && (piece->by == PP_VM_CONTEXT_BY_FIRST || piece->by == PP_VM_CONTEXT_BY_NIC_ID))
    return resolve_fail(error, var, piece, "the VM has no NIC %" G_GINT64_FORMAT,
                        piece->by == PP_VM_CONTEXT_BY_FIRST ? 0 : piece->id);
  if (nic == NULL && piece->by == PP_VM_CONTEXT_BY_NETWORK)
    return resolve_fail(error, var, piece, "no NIC of the VM is on network '%s'", piece->network);
  if (nic == NULL)
    return resolve_fail(error, var, piece, "no NIC of the VM is on network %" G_GINT64_FORMAT,
                        piece->id);
  if (is_nic && strcmp(piece->attr, "NETWORK") == 0)
    value = g_strdup(nic->network_name);
  else if (is_nic && strcmp(piece->attr, "NETWORK_ID") == 0)
    value = nic->network_id > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, nic->network_id) : NULL;
  else if (is_nic && g_strv_contains(
                         (const char *const[]){ "MAC", "IP", "IP6", "IP6_GLOBAL", "IP6_ULA", NULL },
                         piece->attr)) {
    if (nic->lease == NULL)
      return resolve_fail(error, var, piece,
                          "NIC %u has no lease yet (it gets one when the VM is placed on a "
                          "network)",
                          nic->nic_id);
    nic_lease_attr(nic, piece->attr, &value);
  } else {
    if (nic->network == NULL)
      return resolve_fail(error, var, piece, "NIC %u is on no network", nic->nic_id);
    value = network_attr(nic->network, piece->attr, is_nic ? nic->vlan_id : -1);
  }
  g_string_append(out, value != NULL ? value : "");
  return TRUE;
}

char *
pp_context_resolve(const PpContextVm *vm, const PpVmContextVar *var, GError **error)
{
  g_autoptr(GError) split_error = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GString) out = g_string_new(NULL);

  g_return_val_if_fail(vm != NULL && var != NULL, NULL);

  pieces = pp_vm_context_value_split(var->value, &split_error);
  if (pieces == NULL) {
    /* The parser checked it: a store edited by hand. */
    g_set_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID, "CONTEXT: %s: %s", var->name,
                split_error->message);
    return NULL;
  }
  for (guint i = 0; i < pieces->len; i++) {
    const PpVmContextPiece *piece = g_ptr_array_index(pieces, i);

    switch (piece->kind) {
    case PP_VM_CONTEXT_PIECE_TEXT:
      g_string_append(out, piece->text);
      break;
    case PP_VM_CONTEXT_PIECE_VMID:
      g_string_append_printf(out, "%" G_GINT64_FORMAT, vm->vm_id);
      break;
    case PP_VM_CONTEXT_PIECE_NAME:
      g_string_append(out, vm->vm_name != NULL ? vm->vm_name : "");
      break;
    case PP_VM_CONTEXT_PIECE_UNAME:
      g_string_append(out, vm->uname != NULL ? vm->uname : "");
      break;
    case PP_VM_CONTEXT_PIECE_UID:
      g_string_append_printf(out, "%" G_GINT64_FORMAT, vm->uid);
      break;
    case PP_VM_CONTEXT_PIECE_NIC:
    case PP_VM_CONTEXT_PIECE_NETWORK:
      if (!resolve_reference(vm, var, piece, out, error))
        return NULL;
      break;
    }
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ------------------------------------------------------------------------ */
/* context.sh                                                                */
/* ------------------------------------------------------------------------ */

static gboolean
build_one(const PpContextVm *vm, PpContextDisk *disk, GError **error)
{
  g_autoptr(GString) text = g_string_new("# Context variables generated by pcipass\n");

  if (!pp_context_append_nics(text, vm->nics, vm->n_nics, error))
    return FALSE;
  for (guint i = 0; vm->context != NULL && i < vm->context->vars->len; i++) {
    const PpVmContextVar *var = g_ptr_array_index(vm->context->vars, i);
    g_autofree char *value = pp_context_resolve(vm, var, error);

    if (value == NULL)
      return FALSE;
    g_string_append_printf(text, "%s=", var->name);
    if (!pp_context_quote(text, value)) {
      g_set_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID,
                  "CONTEXT: %s: a value with a control character cannot be written", var->name);
      return FALSE;
    }
    g_string_append_c(text, '\n');
  }
  pp_context_disk_add(disk, "context.sh", text->str, text->len);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* NoCloud                                                                   */
/* ------------------------------------------------------------------------ */

/* Appends @s as a YAML double-quoted scalar with JSON's escapes, which
 * YAML reads alike: a quote, a backslash, and every character YAML does
 * not print as itself (C0 and C1 controls, DEL, the BOM, U+FFFE/F)
 * escaped, so that nothing in @s ends the scalar or starts a key. Bytes
 * that are not UTF-8 are escaped one by one as \u00XX. */
static void
yaml_quote(GString *out, const char *s)
{
  const char *p = s;

  g_string_append_c(out, '"');
  while (*p != '\0') {
    gunichar c = g_utf8_get_char_validated(p, -1);
    const char *next;

    if (c == (gunichar)-1 || c == (gunichar)-2) {
      g_string_append_printf(out, "\\u%04x", (guchar)*p);
      p++;
      continue;
    }
    next = g_utf8_next_char(p);
    if (c == '"')
      g_string_append(out, "\\\"");
    else if (c == '\\')
      g_string_append(out, "\\\\");
    else if (c == '\n')
      g_string_append(out, "\\n");
    else if (c == '\t')
      g_string_append(out, "\\t");
    else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0xfeff || c == 0xfffe || c == 0xffff)
      g_string_append_printf(out, "\\u%04x", c);
    else
      g_string_append_len(out, p, next - p);
    p = next;
  }
  g_string_append_c(out, '"');
}

/* "  KEY: "value"\n" */
static void
yaml_pair(GString *out, guint indent, const char *key, const char *value)
{
  g_string_append_printf(out, "%*s%s: ", indent, "", key);
  yaml_quote(out, value);
  g_string_append_c(out, '\n');
}

/* "  - "value"\n" */
static void
yaml_item(GString *out, guint indent, const char *value)
{
  g_string_append_printf(out, "%*s- ", indent, "");
  yaml_quote(out, value);
  g_string_append_c(out, '\n');
}

static const char *
context_get(const PpContextVm *vm, const char *name)
{
  for (guint i = 0; vm->context != NULL && i < vm->context->vars->len; i++) {
    const PpVmContextVar *var = g_ptr_array_index(vm->context->vars, i);

    if (strcmp(var->name, name) == 0)
      return var->value;
  }
  return NULL;
}

/* The value of key @name resolved, in @ret (NULL when the context has
 * none). */
static gboolean
context_resolved(const PpContextVm *vm, const char *name, char **ret, GError **error)
{
  PpVmContextVar var = { (char *)name, (char *)context_get(vm, name), { 0, 0 } };

  *ret = NULL;
  if (var.value == NULL)
    return TRUE;
  *ret = pp_context_resolve(vm, &var, error);
  return *ret != NULL;
}

/* A NIC's addresses, routes and name servers, at @indent. */
static void
nocloud_addresses(GString *out, guint indent, const PpContextNic *nic)
{
  const PpNetworkLease *l = nic->lease;
  const PpNetworkSpec *net = nic->network;
  char buf[PP_IP6_BUFSIZE];
  g_autofree char *dns = net != NULL ? dns_text(net) : NULL;
  gboolean gateway = net != NULL && net->has_gateway && l->has_ip;
  gboolean gateway6 = net != NULL && net->has_gateway6 && (l->has_ip6 || l->has_ip6_global);

  if (l->has_ip || l->has_ip6 || l->has_ip6_global || l->has_ip6_ula)
    g_string_append_printf(out, "%*saddresses:\n", indent, "");
  if (l->has_ip) {
    g_autofree char *a =
        g_strdup_printf("%s/%u", pp_ip4_format(&l->ip, buf),
                        net != NULL && net->has_network ? net->network_prefix : 24);

    yaml_item(out, indent + 2, a);
  }
  if (l->has_ip6) {
    g_autofree char *a = g_strdup_printf("%s/%u", pp_ip6_format(&l->ip6, buf),
                                         nic->ip6_prefix_length > 0 ? nic->ip6_prefix_length : 64);

    yaml_item(out, indent + 2, a);
  }
  if (l->has_ip6_global) {
    g_autofree char *a = g_strdup_printf("%s/64", pp_ip6_format(&l->ip6_global, buf));

    yaml_item(out, indent + 2, a);
  }
  if (l->has_ip6_ula) {
    g_autofree char *a = g_strdup_printf("%s/64", pp_ip6_format(&l->ip6_ula, buf));

    yaml_item(out, indent + 2, a);
  }
  if (gateway || gateway6)
    g_string_append_printf(out, "%*sroutes:\n", indent, "");
  if (gateway) {
    yaml_pair(out, indent + 2, "- to", "default");
    yaml_pair(out, indent + 4, "via", pp_ip4_format(&net->gateway, buf));
  }
  if (gateway6) {
    yaml_pair(out, indent + 2, "- to", "::/0");
    yaml_pair(out, indent + 4, "via", pp_ip6_format(&net->gateway6, buf));
  }
  if (dns != NULL ||
      (net != NULL && net->search_domains != NULL && net->search_domains[0] != NULL)) {
    g_string_append_printf(out, "%*snameservers:\n", indent, "");
    if (dns != NULL) {
      g_auto(GStrv) servers = g_strsplit(dns, " ", -1);

      g_string_append_printf(out, "%*saddresses:\n", indent + 2, "");
      for (guint i = 0; servers[i] != NULL; i++)
        yaml_item(out, indent + 4, servers[i]);
    }
    if (net->search_domains != NULL && net->search_domains[0] != NULL) {
      g_string_append_printf(out, "%*ssearch:\n", indent + 2, "");
      for (guint i = 0; net->search_domains[i] != NULL; i++)
        yaml_item(out, indent + 4, net->search_domains[i]);
    }
  }
}

static char *
nocloud_network_config(const PpContextVm *vm)
{
  g_autoptr(GString) out = g_string_new("version: 2\n");
  g_autoptr(GString) vlans = g_string_new(NULL);
  gboolean ethernets = FALSE;

  for (guint i = 0; i < vm->n_nics; i++) {
    const PpContextNic *nic = &vm->nics[i];
    g_autofree char *name = g_strdup_printf("eth%u", nic->nic_id);
    char mac[PP_MAC_BUFSIZE];

    if (nic->lease == NULL)
      continue;
    if (!ethernets)
      g_string_append(out, "ethernets:\n");
    ethernets = TRUE;
    g_string_append(out, "  ");
    yaml_quote(out, name);
    g_string_append(out, ":\n    match:\n");
    pp_mac_format(&nic->lease->mac, mac);
    yaml_pair(out, 6, "macaddress", nic->hardware_mac != NULL ? nic->hardware_mac : mac);
    yaml_pair(out, 4, "set-name", name);
    yaml_pair(out, 4, "macaddress", mac);
    if (nic->network != NULL && nic->network->mtu > 0)
      g_string_append_printf(out, "    mtu: %u\n", nic->network->mtu);
    if (nic->vlan_id < 0) {
      nocloud_addresses(out, 4, nic);
      continue;
    }
    /* The guide: "it will create a tagged interface and assign the IPs
     * to the tagged interface". */
    {
      g_autofree char *vlan_name = g_strdup_printf("%s.%d", name, nic->vlan_id);

      g_string_append(vlans, "  ");
      yaml_quote(vlans, vlan_name);
      g_string_append_printf(vlans, ":\n    id: %d\n", nic->vlan_id);
      yaml_pair(vlans, 4, "link", name);
      nocloud_addresses(vlans, 4, nic);
    }
  }
  if (vlans->len > 0) {
    g_string_append(out, "vlans:\n");
    g_string_append_len(out, vlans->str, (gssize)vlans->len);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}

static gboolean
build_nocloud(const PpContextVm *vm, PpContextDisk *disk, GError **error)
{
  g_autofree char *hostname = NULL;
  g_autofree char *key = NULL;
  g_autofree char *user_data = NULL;
  g_autofree char *network_config = NULL;
  g_autoptr(GString) meta = g_string_new(NULL);
  g_autoptr(GString) user = g_string_new(NULL);
  g_autofree char *instance = g_strdup_printf("pcipass-%" G_GINT64_FORMAT, vm->vm_id);
  const char *user_data_base64 = context_get(vm, "USER_DATA_BASE64");

  if (!context_resolved(vm, "SET_HOSTNAME", &hostname, error) ||
      !context_resolved(vm, "SSH_PUBLIC_KEY", &key, error) ||
      !context_resolved(vm, "USER_DATA", &user_data, error))
    return FALSE;
  if (hostname == NULL)
    hostname = g_strdup(vm->vm_name != NULL ? vm->vm_name : instance);
  yaml_pair(meta, 0, "instance-id", instance);
  yaml_pair(meta, 0, "local-hostname", hostname);

  if (user_data_base64 != NULL) {
    gsize len = 0;
    g_autofree guchar *data = g_base64_decode(user_data_base64, &len);

    g_string_append_len(user, (const char *)data, (gssize)len);
  } else if (user_data != NULL)
    g_string_append(user, user_data);
  else {
    g_string_append(user, "#cloud-config\n");
    yaml_pair(user, 0, "hostname", hostname);
    if (key != NULL) {
      g_string_append(user, "ssh_authorized_keys:\n");
      yaml_item(user, 2, key);
    }
  }
  /* The user's own user-data says what it says: the key goes with the
   * meta-data, which cloud-init reads too. */
  if (key != NULL && (user_data != NULL || user_data_base64 != NULL)) {
    g_string_append(meta, "public-keys:\n");
    yaml_item(meta, 2, key);
  }
  network_config = nocloud_network_config(vm);
  pp_context_disk_add(disk, "meta-data", meta->str, meta->len);
  pp_context_disk_add(disk, "user-data", user->str, user->len);
  pp_context_disk_add(disk, "network-config", network_config, strlen(network_config));
  return TRUE;
}

PpContextDisk *
pp_context_disk_build(const PpContextVm *vm, GError **error)
{
  g_autoptr(PpContextDisk) disk = NULL;
  PpVmContextFormat format;

  g_return_val_if_fail(vm != NULL && (vm->nics != NULL || vm->n_nics == 0), NULL);

  format = vm->context != NULL ? vm->context->format : PP_VM_CONTEXT_ONE;
  disk = pp_context_disk_new(format);
  if (format == PP_VM_CONTEXT_NOCLOUD ? !build_nocloud(vm, disk, error)
                                      : !build_one(vm, disk, error))
    return NULL;
  return g_steal_pointer(&disk);
}
