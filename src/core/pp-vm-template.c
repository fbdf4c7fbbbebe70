#define G_LOG_DOMAIN "pp-vm-template"

#include "config.h"

#include <string.h>

#include "pp-vm-template.h"

#include "pp-network.h"
#include "pp-template-pos.h"

/* clang-format off */
G_DEFINE_QUARK(pp-vm-template-error-quark, pp_vm_template_error)
/* clang-format on */

/* Bounds of what a template may ask for. */
#define NAME_MAX_LEN 64
#define HOST_NAME_MAX_LEN 255
#define CPU_MAX 1024                      /* CPUs, for CPU and VCPU */
#define MEMORY_MAX_MIB (16 * 1024 * 1024) /* 16 TiB */
#define PATH_MAX_LEN 4095
#define KERNEL_CMD_MAX_LEN 4096
#define BRIDGE_MAX_LEN 15      /* IFNAMSIZ - 1 */
#define WORD_MAX_LEN 32        /* MODEL, TARGET */
#define VECTORS_MAX 64         /* DISK, NIC and PCI vectors, each */
#define NICS_MAX 64            /* NIC and PCI NIC together */
#define ENTITY_NAME_MAX_LEN 64 /* NETWORK, NETWORK_UNAME */
#define VLAN_ID_MAX 4094       /* IEEE 802.1Q: 4095 is reserved */
#define LISTEN_MAX_LEN 45      /* INET6_ADDRSTRLEN - 1 */
#define GRAPHICS_PORT_MIN 5900 /* QEMU's VNC display 0; SPICE alike, for one rule */
#define GRAPHICS_PORT_MAX 65535
/* The RFB protocol keys its DES challenge with 8 bytes of the password,
 * and libvirt refuses a longer VNC password rather than cut it. */
#define VNC_PASSWD_MAX 8
#define SPICE_PASSWD_MAX 64
#define CONTEXT_KEY_MAX_LEN 64
#define CONTEXT_KEYS_MAX 256
#define CONTEXT_VALUE_MAX (64 * 1024)

/* ------------------------------------------------------------------------ */
/* The spec                                                                  */
/* ------------------------------------------------------------------------ */

static void
disk_free(PpVmDisk *disk)
{
  if (disk == NULL)
    return;
  g_free(disk->source);
  g_free(disk->format);
  g_free(disk->target);
  g_free(disk->image);
  g_free(disk);
}

static void
nic_free(PpVmNic *nic)
{
  if (nic == NULL)
    return;
  g_free(nic->bridge);
  g_free(nic->model);
  g_free(nic->mac);
  g_free(nic->network);
  g_free(nic->network_uname);
  g_free(nic->ip);
  g_free(nic);
}

/* A NIC being read, freed unless it is added to the spec. */
typedef PpVmNic PpVmNicOwned;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpVmNicOwned, nic_free)

static void
request_clear(gpointer data)
{
  PpPciRequest *request = data;

  g_free((char *)request->text);
  request->text = NULL;
}

/* How a request reads in explanations: "VENDOR=10de,CLASS=0302" (OpenNebula's
 * key order), "SHORT_ADDRESS=3b:00.0". */
static char *
request_text(const PpPciRequest *request)
{
  static const char *const ids[] = { "VENDOR", "DEVICE", "CLASS" };
  const gint fields[] = { request->vendor, request->device, request->class_code };
  GString *text = g_string_new(NULL);

  if (request->by_address) {
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_string_append_printf(text, "SHORT_ADDRESS=%s",
                           pp_pci_address_format_short(&request->address, buf));
    return g_string_free(text, FALSE);
  }
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    if (fields[i] >= 0)
      g_string_append_printf(text, "%s%s=%04x", text->len > 0 ? "," : "", ids[i], (guint)fields[i]);
  }
  return g_string_free(text, FALSE);
}

void
pp_vm_spec_add_request(PpVmSpec *spec, const PpPciRequest *request)
{
  PpPciRequest copy;

  g_return_if_fail(spec != NULL && request != NULL);
  copy = *request;
  copy.text = request_text(request);
  g_array_append_val(spec->requests, copy);
}

PpVmSpec *
pp_vm_spec_new(void)
{
  PpVmSpec *spec = g_new0(PpVmSpec, 1);

  spec->cpu = 100;
  spec->machine = PP_VM_MACHINE_Q35;
  spec->graphics.port = -1;
  spec->disks = g_ptr_array_new_with_free_func((GDestroyNotify)disk_free);
  spec->nics = g_ptr_array_new_with_free_func((GDestroyNotify)nic_free);
  spec->requests = g_array_new(FALSE, TRUE, sizeof(PpPciRequest));
  g_array_set_clear_func(spec->requests, request_clear);
  spec->context.vars = g_ptr_array_new_with_free_func((GDestroyNotify)pp_vm_context_var_free);
  return spec;
}

void
pp_vm_context_var_free(PpVmContextVar *var)
{
  if (var == NULL)
    return;
  g_free(var->name);
  g_free(var->value);
  g_free(var);
}

void
pp_vm_spec_free(PpVmSpec *spec)
{
  if (spec == NULL)
    return;
  g_free(spec->graphics.listen);
  g_free(spec->graphics.passwd);
  g_free(spec->graphics.keymap);
  g_free(spec->name);
  if (spec->disks != NULL)
    g_ptr_array_unref(spec->disks);
  if (spec->nics != NULL)
    g_ptr_array_unref(spec->nics);
  if (spec->requests != NULL)
    g_array_unref(spec->requests);
  if (spec->context.vars != NULL)
    g_ptr_array_unref(spec->context.vars);
  g_free(spec->host_name);
  g_free(spec->kernel);
  g_free(spec->initrd);
  g_free(spec->kernel_cmd);
  g_free(spec->kernel_image);
  g_free(spec->initrd_image);
  pp_template_free(spec->tmpl);
  g_free(spec);
}

/* Hides the value of each PASSWD pair it is called on. */
typedef struct {
  GString *out;
  gsize copied;     /* bytes of the text copied into out so far */
  gboolean context; /* the vector is CONTEXT (else GRAPHICS) */
} Redaction;

/* CONTEXT's secrets, OpenNebula's context keys for the guest's root
 * password: hidden as GRAPHICS' PASSWD is, and refused as "(hidden)". */
static const char *const context_secrets[] = { "PASSWORD", "PASSWORD_BASE64", "CRYPTED_PASSWORD",
                                               "CRYPTED_PASSWORD_BASE64", NULL };

static gboolean
redact_pair(const char *text, const PpTemplatePair *pair, gpointer user_data)
{
  Redaction *r = user_data;
  gboolean secret = FALSE;

  for (guint i = 0; context_secrets[i] != NULL && r->context; i++)
    secret = secret || pp_template_pair_is(text, pair, context_secrets[i]);
  if (!secret && (r->context || !pp_template_pair_is(text, pair, "PASSWD")))
    return TRUE;
  g_string_append_len(r->out, text + r->copied, (gssize)(pair->value_from - r->copied));
  g_string_append(r->out, "\"" PP_VM_TEMPLATE_HIDDEN "\"");
  r->copied = pair->value_to;
  return TRUE;
}

char *
pp_vm_template_redact_secrets(const char *text, gsize len)
{
  g_autoptr(PpTemplate) tmpl = NULL;
  g_autoptr(GString) out = NULL;
  Redaction r = { NULL, 0, FALSE };

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  tmpl = pp_template_parse(text != NULL ? text : "", len, NULL, NULL);
  if (tmpl == NULL)
    return NULL;
  out = g_string_sized_new(len);
  r.out = out;
  /* Every PASSWD of every GRAPHICS, in the order of the text: a repeated
   * key is hidden too, though the first one is the password. */
  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);

    if (!pp_attribute_is_vector(attr))
      continue;
    r.context = strcmp(pp_attribute_get_name(attr), "CONTEXT") == 0;
    if (r.context || strcmp(pp_attribute_get_name(attr), "GRAPHICS") == 0)
      pp_template_vector_foreach_pair(text, len, attr, redact_pair, &r);
  }
  g_string_append_len(out, text + r.copied, (gssize)(len - r.copied));
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* The most attribute rules (rules[] below). */
#define RULES_MAX 32

typedef struct {
  const char *text;
  gsize len;
  PpVmSpec *spec;
  GError **error;
  PpVmTemplateWhere *where;
  /* By rule: the first attribute of that name, and how many have been
   * read. */
  const PpAttribute *first[RULES_MAX];
  guint count[RULES_MAX];
} Ctx;

static gboolean fail_at(Ctx *ctx, PpTextPos pos, const char *attribute, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

/* Sets "line L, column C: ATTRIBUTE: message", or without "ATTRIBUTE: "
 * when @attribute is NULL; returns FALSE. */
static gboolean
fail_at(Ctx *ctx, PpTextPos pos, const char *attribute, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(ctx->error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID,
              "line %u, column %u: %s%s%s", pos.line, pos.column, attribute ? attribute : "",
              attribute ? ": " : "", message);
  ctx->where->pos = pos;
  return FALSE;
}

#define fail_attr(ctx, attr, ...)                                                                  \
  fail_at((ctx), pp_attribute_get_pos(attr), pp_attribute_get_name(attr), __VA_ARGS__)
#define fail_key(ctx, attr, key, ...)                                                              \
  fail_at((ctx), pp_template_vector_key_pos((ctx)->text, (ctx)->len, (attr), (key)),               \
          pp_attribute_get_name(attr), __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

static gboolean
all_chars(const char *s, const char *extra)
{
  for (const char *p = s; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p) && strchr(extra, *p) == NULL)
      return FALSE;
  return TRUE;
}

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

/* "1", "0.5", "2.25": hundredths, in (0, CPU_MAX * 100]. */
static gboolean
parse_cpu(const char *s, gint64 *ret)
{
  g_autofree char *whole = NULL;
  const char *dot = strchr(s, '.');
  guint64 units, hundredths = 0;

  whole = dot != NULL ? g_strndup(s, dot - s) : g_strdup(s);
  if (!parse_uint(whole, 0, CPU_MAX, &units))
    return FALSE;
  if (dot != NULL) {
    gsize n = strlen(dot + 1);

    if (n < 1 || n > 2 || !all_digits(dot + 1))
      return FALSE;
    hundredths = g_ascii_strtoull(dot + 1, NULL, 10) * (n == 1 ? 10 : 1);
  }
  units = units * 100 + hundredths;
  if (units == 0 || units > CPU_MAX * 100)
    return FALSE;
  *ret = (gint64)units;
  return TRUE;
}

/* 4 hex digits, any case, with or without 0x. */
static gboolean
parse_hex4(const char *s, gint *ret)
{
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    s += 2;
  if (strlen(s) != 4)
    return FALSE;
  for (guint i = 0; i < 4; i++)
    if (!g_ascii_isxdigit(s[i]))
      return FALSE;
  *ret = (gint)g_ascii_strtoull(s, NULL, 16);
  return TRUE;
}

static gboolean
has_control_chars(const char *s)
{
  for (const char *p = s; *p != '\0'; p++)
    if ((guchar)*p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean
is_absolute_path(const char *s)
{
  return s[0] == '/' && strlen(s) <= PATH_MAX_LEN && !has_control_chars(s);
}

/* [a-z]+[a-z0-9]* */
static gboolean
is_target(const char *s)
{
  gsize n = strlen(s);

  if (n == 0 || n > WORD_MAX_LEN || !g_ascii_islower(s[0]))
    return FALSE;
  for (gsize i = 1; i < n; i++)
    if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]))
      return FALSE;
  return TRUE;
}

/* [a-z0-9_-]+ */
static gboolean
is_model(const char *s)
{
  gsize n = strlen(s);

  if (n == 0 || n > WORD_MAX_LEN)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i]) && s[i] != '_' && s[i] != '-')
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Attributes                                                                */
/* ------------------------------------------------------------------------ */

/* A vector's keys must be among @allowed (NULL-terminated), which @list
 * says in words ("SOURCE, FORMAT and TARGET"): any other is refused, never
 * ignored, since it would change the VM. */
static gboolean
check_keys(Ctx *ctx, const PpAttribute *attr, const char *const *allowed, const char *list)
{
  for (guint i = 0; i < pp_attribute_vector_get_n_pairs(attr); i++) {
    const char *key;

    pp_attribute_vector_get_pair(attr, i, &key, NULL);
    if (!g_strv_contains(allowed, key))
      return fail_key(ctx, attr, key, "key %s is not supported by pcipass; %s takes %s", key,
                      pp_attribute_get_name(attr), list);
  }
  return TRUE;
}

static gboolean
parse_name_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (value[0] == '\0' || strlen(value) > NAME_MAX_LEN || !all_chars(value, "._-"))
    return fail_attr(ctx, attr, "'%s' is not a VM name: 1 to %d letters, digits, '.', '_' or '-'",
                     value, NAME_MAX_LEN);
  ctx->spec->name = g_strdup(value);
  return TRUE;
}

static gboolean
parse_cpu_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (!parse_cpu(value, &ctx->spec->cpu))
    return fail_attr(ctx, attr,
                     "'%s' is not a number of CPUs: more than 0, at most %d, with at most two "
                     "decimals (as 0.5 or 2)",
                     value, CPU_MAX);
  return TRUE;
}

static gboolean
parse_vcpu_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  guint64 n;

  if (!parse_uint(value, 1, CPU_MAX, &n))
    return fail_attr(ctx, attr, "'%s' is not a number of virtual CPUs: an integer from 1 to %d",
                     value, CPU_MAX);
  ctx->spec->vcpu = (guint)n;
  return TRUE;
}

static gboolean
parse_memory_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (!parse_uint(value, 1, MEMORY_MAX_MIB, &ctx->spec->memory_mib))
    return fail_attr(ctx, attr,
                     "'%s' is not a memory size: an integer of MiB from 1 to %d (16 TiB)", value,
                     MEMORY_MAX_MIB);
  return TRUE;
}

static gboolean
parse_host_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  guint64 id;

  if (all_digits(value)) {
    if (!parse_uint(value, 1, G_MAXINT64, &id))
      return fail_attr(ctx, attr, "'%s' is not a host id: ids start at 1", value);
    ctx->spec->host_id = (gint64)id;
    return TRUE;
  }
  if (value[0] == '\0' || strlen(value) > HOST_NAME_MAX_LEN || !all_chars(value, "._-"))
    return fail_attr(ctx, attr,
                     "'%s' is not a host: a host name (1 to %d letters, digits, '.', '_' or "
                     "'-') or a host id",
                     value, HOST_NAME_MAX_LEN);
  ctx->spec->host_name = g_strdup(value);
  return TRUE;
}

static gboolean
parse_machine_attr(Ctx *ctx, const PpAttribute *attr, const char *value)
{
  if (g_ascii_strcasecmp(value, "q35") == 0)
    ctx->spec->machine = PP_VM_MACHINE_Q35;
  else if (g_ascii_strcasecmp(value, "i440fx") == 0)
    ctx->spec->machine = PP_VM_MACHINE_I440FX;
  else
    return fail_attr(ctx, attr, "'%s' is not a machine type: q35 or i440fx", value);
  return TRUE;
}

/* An image's name, for the key @key of @attr (IMAGE, KERNEL_IMAGE,
 * INITRD_IMAGE): checked here, where the error has its position; its file
 * is pcipassd's to find. */
static gboolean
check_image_name(Ctx *ctx, const PpAttribute *attr, const char *key, const char *name)
{
  g_autoptr(GError) error = NULL;

  if (name == NULL || pp_image_name_check(name, &error))
    return TRUE;
  return fail_key(ctx, attr, key, "%s %s", key, error->message);
}

static gboolean
parse_disk(Ctx *ctx, const PpAttribute *attr)
{
  static const char *const keys[] = { "IMAGE", "SOURCE", "FORMAT", "TARGET", NULL };
  const char *image = pp_attribute_vector_get(attr, "IMAGE");
  const char *source = pp_attribute_vector_get(attr, "SOURCE");
  const char *format = pp_attribute_vector_get(attr, "FORMAT");
  const char *target = pp_attribute_vector_get(attr, "TARGET");
  PpVmDisk *disk;

  if (!check_keys(ctx, attr, keys, "IMAGE, SOURCE, FORMAT and TARGET"))
    return FALSE;
  if (source == NULL && image == NULL)
    return fail_attr(ctx, attr,
                     "needs IMAGE, the name of an image (pcipass image list shows them), or "
                     "SOURCE, the absolute path of a disk file of the host (administrators only)");
  if (source != NULL && image != NULL)
    return fail_key(ctx, attr, "IMAGE",
                    "IMAGE and SOURCE cannot both be set: a disk is an image or a file of the "
                    "host");
  if (!check_image_name(ctx, attr, "IMAGE", image))
    return FALSE;
  if (image != NULL && format != NULL)
    return fail_key(ctx, attr, "FORMAT",
                    "FORMAT is not for an IMAGE: an image's format is its file's (qcow2 for a "
                    "file ending in .qcow2, else raw)");
  if (source != NULL && !is_absolute_path(source))
    return fail_key(ctx, attr, "SOURCE",
                    "SOURCE '%s' is not an absolute path (it starts with '/', at most %d bytes, "
                    "no control characters)",
                    source, PATH_MAX_LEN);
  if (format != NULL && g_ascii_strcasecmp(format, "raw") != 0 &&
      g_ascii_strcasecmp(format, "qcow2") != 0)
    return fail_key(ctx, attr, "FORMAT", "FORMAT '%s' is not a disk format: raw or qcow2", format);
  if (target != NULL && !is_target(target))
    return fail_key(ctx, attr, "TARGET",
                    "TARGET '%s' is not a disk name: a lower-case letter, then lower-case "
                    "letters or digits (as vda), at most %d",
                    target, WORD_MAX_LEN);
  if (target != NULL) {
    for (guint i = 0; i < ctx->spec->disks->len; i++) {
      const PpVmDisk *other = g_ptr_array_index(ctx->spec->disks, i);

      if (other->target != NULL && strcmp(other->target, target) == 0)
        return fail_key(ctx, attr, "TARGET", "TARGET %s is given to two disks", target);
    }
  }
  disk = g_new0(PpVmDisk, 1);
  disk->source = g_strdup(source);
  disk->format = source != NULL ? g_ascii_strdown(format != NULL ? format : "raw", -1) : NULL;
  disk->target = g_strdup(target); /* NULL: given one once all disks are read */
  disk->image = g_strdup(image);
  if (image != NULL)
    disk->image_pos = pp_template_vector_key_pos(ctx->text, ctx->len, attr, "IMAGE");
  g_ptr_array_add(ctx->spec->disks, disk);
  return TRUE;
}

/* "vda".."vdz", "vdaa".. as libvirt names disks beyond 26. */
static char *
disk_name(guint index)
{
  g_autoptr(GString) letters = g_string_new(NULL);

  for (guint i = index + 1; i > 0; i = (i - 1) / 26)
    g_string_prepend_c(letters, (char)('a' + (i - 1) % 26));
  return g_strdup_printf("vd%s", letters->str);
}

/* The disks without a TARGET get the first free vda, vdb, ... in order. */
static void
name_disks(PpVmSpec *spec)
{
  guint next = 0;

  for (guint i = 0; i < spec->disks->len; i++) {
    PpVmDisk *disk = g_ptr_array_index(spec->disks, i);

    while (disk->target == NULL) {
      g_autofree char *name = disk_name(next++);
      gboolean used = FALSE;

      for (guint j = 0; j < spec->disks->len && !used; j++) {
        const PpVmDisk *other = g_ptr_array_index(spec->disks, j);

        used = other->target != NULL && strcmp(other->target, name) == 0;
      }
      if (!used)
        disk->target = g_steal_pointer(&name);
    }
  }
}

/* A network's name, or its owner's: the rule of network, host and user
 * names (pp-network.h, the store's users). */
static gboolean
is_entity_name(const char *s)
{
  gsize n = strlen(s);

  return n >= 1 && n <= ENTITY_NAME_MAX_LEN && all_chars(s, "._-") && s[0] != '-' && s[0] != '.';
}

static gboolean
fail_mac(Ctx *ctx, const PpAttribute *attr, const char *mac)
{
  return fail_key(ctx, attr, "MAC",
                  "MAC '%s' is not a unicast MAC address: xx:xx:xx:xx:xx:xx in hex, with the "
                  "lowest bit of the first octet clear (as 52:54:00:12:34:56)",
                  mac);
}

/* The keys a NIC and a PCI NIC share: NETWORK | NETWORK_ID, NETWORK_UNAME,
 * IP and MAC, checked and copied into @nic. Whether a network is required
 * is the caller's rule; the keys that need one are checked here. */
static gboolean
parse_nic_network(Ctx *ctx, const PpAttribute *attr, PpVmNic *nic)
{
  const char *network = pp_attribute_vector_get(attr, "NETWORK");
  const char *network_id = pp_attribute_vector_get(attr, "NETWORK_ID");
  const char *uname = pp_attribute_vector_get(attr, "NETWORK_UNAME");
  const char *ip = pp_attribute_vector_get(attr, "IP");
  const char *mac = pp_attribute_vector_get(attr, "MAC");
  guint64 id = 0;

  if (network != NULL && network_id != NULL)
    return fail_key(ctx, attr, "NETWORK_ID",
                    "NETWORK and NETWORK_ID cannot both be set: give the network by name or by "
                    "id");
  if (network != NULL && !is_entity_name(network))
    return fail_key(ctx, attr, "NETWORK",
                    "NETWORK '%s' is not a network name: 1 to %d letters, digits, '.', '_' or "
                    "'-', not starting with '.' or '-'",
                    network, ENTITY_NAME_MAX_LEN);
  if (network_id != NULL && !parse_uint(network_id, 1, G_MAXINT64, &id))
    return fail_key(ctx, attr, "NETWORK_ID",
                    "NETWORK_ID '%s' is not a network id: an integer from 1 (pcipass net list "
                    "shows them)",
                    network_id);
  if (uname != NULL && network == NULL)
    return fail_key(ctx, attr, "NETWORK_UNAME",
                    "NETWORK_UNAME names the owner of the network NETWORK names: it needs "
                    "NETWORK (a NETWORK_ID is one network already)");
  if (uname != NULL && !is_entity_name(uname))
    return fail_key(ctx, attr, "NETWORK_UNAME",
                    "NETWORK_UNAME '%s' is not a user name: 1 to %d letters, digits, '.', '_' or "
                    "'-', not starting with '.' or '-'",
                    uname, ENTITY_NAME_MAX_LEN);
  if (ip != NULL && network == NULL && network_id == NULL)
    return fail_key(ctx, attr, "IP",
                    "IP is an address of a virtual network: it needs NETWORK or NETWORK_ID");
  if (ip != NULL) {
    g_autoptr(GError) ip_error = NULL;
    PpIp4 ip4;
    char buf[PP_IP4_BUFSIZE];

    if (!pp_ip4_parse(ip, &ip4, &ip_error))
      return fail_key(ctx, attr, "IP", "IP %s", ip_error->message);
    nic->ip = g_strdup(pp_ip4_format(&ip4, buf));
  }
  if (mac != NULL) {
    PpMac parsed;
    char buf[PP_MAC_BUFSIZE];

    if (!pp_mac_parse(mac, &parsed, NULL) || !pp_mac_is_unicast(&parsed))
      return fail_mac(ctx, attr, mac);
    nic->mac = g_strdup(pp_mac_format(&parsed, buf));
  }
  nic->network = g_strdup(network);
  nic->network_id = (gint64)id;
  nic->network_uname = g_strdup(uname);
  return TRUE;
}

/* A NIC id for the next NIC, NIC and PCI NIC counted together. */
static gboolean
check_nic_count(Ctx *ctx, const PpAttribute *attr)
{
  if (ctx->spec->nics->len < NICS_MAX)
    return TRUE;
  return fail_attr(ctx, attr,
                   "more than %d NICs: NIC vectors and PCI vectors with TYPE = \"NIC\" count "
                   "together",
                   NICS_MAX);
}

static PpVmNic *
nic_new(PpVmNicKind kind, const PpAttribute *attr)
{
  PpVmNic *nic = g_new0(PpVmNic, 1);

  nic->kind = kind;
  nic->vlan_id = -1;
  nic->request = -1;
  nic->pos = pp_attribute_get_pos(attr);
  return nic;
}

/* NIC = [ NETWORK | NETWORK_ID, NETWORK_UNAME, IP, MAC, MODEL ] on a
 * virtual network, or NIC = [ BRIDGE, MODEL, MAC ] on a host bridge. */
static gboolean
parse_nic(Ctx *ctx, const PpAttribute *attr)
{
  static const char *const keys[] = { "NETWORK", "NETWORK_ID", "NETWORK_UNAME", "IP",
                                      "MAC",     "MODEL",      "BRIDGE",        NULL };
  const char *bridge = pp_attribute_vector_get(attr, "BRIDGE");
  const char *model = pp_attribute_vector_get(attr, "MODEL");
  gboolean network = pp_attribute_vector_get(attr, "NETWORK") != NULL ||
                     pp_attribute_vector_get(attr, "NETWORK_ID") != NULL;
  g_autoptr(PpVmNicOwned) nic = NULL;

  if (!check_keys(ctx, attr, keys,
                  "NETWORK or NETWORK_ID, NETWORK_UNAME, IP, MAC and MODEL, or BRIDGE, MODEL "
                  "and MAC"))
    return FALSE;
  if (bridge != NULL && network)
    return fail_key(ctx, attr, "BRIDGE",
                    "BRIDGE cannot be set with NETWORK or NETWORK_ID: a NIC on a virtual network "
                    "is plugged into the network's bridge");
  if (bridge == NULL && !network)
    return fail_attr(ctx, attr,
                     "needs NETWORK or NETWORK_ID, the virtual network (pcipass net list shows "
                     "them), or BRIDGE, the host bridge to plug it into (as br0)");
  if (bridge != NULL &&
      (bridge[0] == '\0' || strlen(bridge) > BRIDGE_MAX_LEN || !all_chars(bridge, "._-")))
    return fail_key(ctx, attr, "BRIDGE",
                    "BRIDGE '%s' is not a bridge name: 1 to %d letters, digits, '.', '_' or '-'",
                    bridge, BRIDGE_MAX_LEN);
  if (model != NULL && !is_model(model))
    return fail_key(ctx, attr, "MODEL",
                    "MODEL '%s' is not a NIC model: lower-case letters, digits, '_' or '-' "
                    "(as virtio or e1000e), at most %d",
                    model, WORD_MAX_LEN);
  if (!check_nic_count(ctx, attr))
    return FALSE;
  nic = nic_new(PP_VM_NIC_BRIDGE, attr);
  if (!parse_nic_network(ctx, attr, nic))
    return FALSE;
  nic->bridge = g_strdup(bridge);
  nic->model = g_strdup(model != NULL ? model : "virtio");
  g_ptr_array_add(ctx->spec->nics, g_steal_pointer(&nic));
  return TRUE;
}

/* The keys of a PCI vector that make it a NIC on a virtual network: refused
 * without TYPE = "NIC". */
static const char *const pci_nic_keys[] = { "NETWORK", "NETWORK_ID", "NETWORK_UNAME", "IP", "MAC",
                                            "VLAN_ID", NULL };

static gboolean
parse_pf_policy(Ctx *ctx, const PpAttribute *attr, PpPciRequest *request)
{
  const char *policy = pp_attribute_vector_get(attr, "PF_POLICY");

  if (policy == NULL)
    request->pf_policy = PP_PF_POLICY_NONE;
  else if (g_ascii_strcasecmp(policy, "pack") == 0)
    request->pf_policy = PP_PF_POLICY_PACK;
  else if (g_ascii_strcasecmp(policy, "spread") == 0)
    request->pf_policy = PP_PF_POLICY_SPREAD;
  else
    return fail_key(ctx, attr, "PF_POLICY",
                    "PF_POLICY '%s' is not a PF policy: pack (VFs of one PF first) or spread "
                    "(VFs of different PFs first)",
                    policy);
  return TRUE;
}

/* TYPE = "NIC": the PCI NIC of the request about to be added, or NULL with
 * an error. */
static PpVmNic *
parse_pci_nic(Ctx *ctx, const PpAttribute *attr)
{
  const char *vlan = pp_attribute_vector_get(attr, "VLAN_ID");
  g_autoptr(PpVmNicOwned) nic = NULL;
  guint64 vlan_id;

  if (pp_attribute_vector_get(attr, "NETWORK") == NULL &&
      pp_attribute_vector_get(attr, "NETWORK_ID") == NULL) {
    fail_key(ctx, attr, "TYPE",
             "TYPE = \"NIC\" needs NETWORK or NETWORK_ID, the virtual network that gives the "
             "NIC its MAC, IP and VLAN (pcipass net list shows them)");
    return NULL;
  }
  if (vlan != NULL && !parse_uint(vlan, 0, VLAN_ID_MAX, &vlan_id)) {
    fail_key(ctx, attr, "VLAN_ID", "VLAN_ID '%s' is not a VLAN id: an integer from 0 to %d", vlan,
             VLAN_ID_MAX);
    return NULL;
  }
  if (!check_nic_count(ctx, attr))
    return NULL;
  nic = nic_new(PP_VM_NIC_PCI, attr);
  if (!parse_nic_network(ctx, attr, nic))
    return NULL;
  if (vlan != NULL) {
    nic->vlan_id = (gint)vlan_id;
    /* The first one is what pp_vm_spec_check_admin_only() points at. */
    if (ctx->spec->vlan_id_pos.line == 0)
      ctx->spec->vlan_id_pos = pp_template_vector_key_pos(ctx->text, ctx->len, attr, "VLAN_ID");
  }
  nic->request = (gint)ctx->spec->requests->len;
  return g_steal_pointer(&nic);
}

static gboolean
parse_pci(Ctx *ctx, const PpAttribute *attr)
{
  /* OpenNebula's order of the id keys (VirtualMachine::check_pci_attributes). */
  static const char *const ids[] = { "VENDOR", "DEVICE", "CLASS" };
  static const char *const keys[] = {
    "VENDOR",     "DEVICE",        "CLASS", "SHORT_ADDRESS", "PF_POLICY", "TYPE", "NETWORK",
    "NETWORK_ID", "NETWORK_UNAME", "IP",    "MAC",           "VLAN_ID",   NULL
  };
  const char *short_address = pp_attribute_vector_get(attr, "SHORT_ADDRESS");
  const char *type = pp_attribute_vector_get(attr, "TYPE");
  PpPciRequest request = { -1, -1, -1, FALSE, { 0 }, NULL, PP_PF_POLICY_NONE, -1 };
  gint *fields[] = { &request.vendor, &request.device, &request.class_code };
  g_autoptr(PpVmNicOwned) nic = NULL;
  gboolean found = FALSE;

  if (!check_keys(ctx, attr, keys,
                  "VENDOR, DEVICE, CLASS or SHORT_ADDRESS, and PF_POLICY; a NIC on a virtual "
                  "network also TYPE = \"NIC\", NETWORK or NETWORK_ID, NETWORK_UNAME, IP, MAC "
                  "and VLAN_ID"))
    return FALSE;
  /* The guide writes "NIC"; OpenNebula compares it as written. */
  if (type != NULL && strcmp(type, "NIC") != 0)
    return fail_key(ctx, attr, "TYPE",
                    "TYPE '%s' is not a PCI type: pcipass knows TYPE = \"NIC\" (in capitals), a "
                    "passed-through NIC on a virtual network; leave TYPE out for any other "
                    "device",
                    type);
  if (type == NULL) {
    for (guint i = 0; i < pp_attribute_vector_get_n_pairs(attr); i++) {
      const char *key;

      pp_attribute_vector_get_pair(attr, i, &key, NULL);
      if (g_strv_contains(pci_nic_keys, key))
        return fail_key(ctx, attr, key,
                        "%s is a key of a NIC on a virtual network: add TYPE = \"NIC\" to pass "
                        "the device through as one",
                        key);
    }
  }

  for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
    const char *value = pp_attribute_vector_get(attr, ids[i]);

    if (value == NULL)
      continue;
    if (!parse_hex4(value, fields[i]))
      return fail_key(ctx, attr, ids[i], "Wrong Hex value for PCI attribute %s: '%s'", ids[i],
                      value);
    found = TRUE;
  }
  if (short_address != NULL && found)
    return fail_attr(ctx, attr, "SHORT_ADDRESS cannot be set with DEVICE, VENDOR or CLASS");
  if (short_address == NULL && !found)
    return fail_attr(ctx, attr, "SHORT_ADDRESS, DEVICE, VENDOR or CLASS must be defined for PCI");
  if (short_address != NULL) {
    g_autoptr(GError) address_error = NULL;

    if (!pp_pci_address_parse(short_address, &request.address, &address_error))
      return fail_key(ctx, attr, "SHORT_ADDRESS", "SHORT_ADDRESS %s", address_error->message);
    request.by_address = TRUE;
  }
  if (!parse_pf_policy(ctx, attr, &request))
    return FALSE;
  if (type != NULL) {
    nic = parse_pci_nic(ctx, attr);
    if (nic == NULL)
      return FALSE;
    request.nic = (gint)ctx->spec->nics->len;
    g_ptr_array_add(ctx->spec->nics, g_steal_pointer(&nic));
  }
  pp_vm_spec_add_request(ctx->spec, &request);
  return TRUE;
}

static gboolean
parse_os(Ctx *ctx, const PpAttribute *attr)
{
  static const char *const keys[] = { "KERNEL_IMAGE", "INITRD_IMAGE", "KERNEL",
                                      "INITRD",       "KERNEL_CMD",   NULL };
  static const char *const paths[] = { "KERNEL", "INITRD" };
  const char *kernel = pp_attribute_vector_get(attr, "KERNEL");
  const char *initrd = pp_attribute_vector_get(attr, "INITRD");
  const char *kernel_image = pp_attribute_vector_get(attr, "KERNEL_IMAGE");
  const char *initrd_image = pp_attribute_vector_get(attr, "INITRD_IMAGE");
  const char *cmd = pp_attribute_vector_get(attr, "KERNEL_CMD");
  const char *needs_kernel = NULL;

  if (!check_keys(ctx, attr, keys, "KERNEL_IMAGE, INITRD_IMAGE, KERNEL, INITRD and KERNEL_CMD"))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    const char *path = pp_attribute_vector_get(attr, paths[i]);
    g_autofree char *image_key = g_strconcat(paths[i], "_IMAGE", NULL);

    if (path != NULL && pp_attribute_vector_get(attr, image_key) != NULL)
      return fail_key(ctx, attr, image_key,
                      "%s and %s cannot both be set: the %s is an image or a file of the host",
                      image_key, paths[i], i == 0 ? "kernel" : "initrd");
    if (!check_image_name(ctx, attr, image_key, pp_attribute_vector_get(attr, image_key)))
      return FALSE;
    if (path != NULL && !is_absolute_path(path))
      return fail_key(ctx, attr, paths[i],
                      "%s '%s' is not an absolute path (it starts with '/', at most %d bytes, "
                      "no control characters)",
                      paths[i], path, PATH_MAX_LEN);
  }
  if (cmd != NULL && (strlen(cmd) > KERNEL_CMD_MAX_LEN || has_control_chars(cmd)))
    return fail_key(ctx, attr, "KERNEL_CMD",
                    "KERNEL_CMD is not a kernel command line: at most %d bytes, no control "
                    "characters",
                    KERNEL_CMD_MAX_LEN);
  needs_kernel = initrd != NULL         ? "INITRD"
                 : initrd_image != NULL ? "INITRD_IMAGE"
                 : cmd != NULL          ? "KERNEL_CMD"
                                        : NULL;
  if (kernel == NULL && kernel_image == NULL && needs_kernel != NULL)
    return fail_key(ctx, attr, needs_kernel,
                    "%s needs KERNEL_IMAGE or KERNEL: it is for direct kernel boot", needs_kernel);
  ctx->spec->kernel = g_strdup(kernel);
  ctx->spec->initrd = g_strdup(initrd);
  ctx->spec->kernel_cmd = g_strdup(cmd);
  ctx->spec->kernel_image = g_strdup(kernel_image);
  ctx->spec->initrd_image = g_strdup(initrd_image);
  if (kernel_image != NULL)
    ctx->spec->kernel_image_pos =
        pp_template_vector_key_pos(ctx->text, ctx->len, attr, "KERNEL_IMAGE");
  if (initrd_image != NULL)
    ctx->spec->initrd_image_pos =
        pp_template_vector_key_pos(ctx->text, ctx->len, attr, "INITRD_IMAGE");
  return TRUE;
}

/* [A-Za-z0-9_+-]+, as libvirt's schema has a keymap ("en-us", "de"). */
static gboolean
is_keymap(const char *s)
{
  gsize n = strlen(s);

  return n > 0 && n <= WORD_MAX_LEN && all_chars(s, "_+-");
}

/* OpenNebula's GRAPHICS: a VNC or SPICE console. PASSWD is a secret: no
 * message ever holds it. */
static gboolean
parse_graphics(Ctx *ctx, const PpAttribute *attr)
{
  static const char *const keys[] = { "TYPE", "LISTEN", "PORT", "PASSWD", "KEYMAP", NULL };
  const char *type = pp_attribute_vector_get(attr, "TYPE");
  const char *listen = pp_attribute_vector_get(attr, "LISTEN");
  const char *port = pp_attribute_vector_get(attr, "PORT");
  const char *passwd = pp_attribute_vector_get(attr, "PASSWD");
  const char *keymap = pp_attribute_vector_get(attr, "KEYMAP");
  PpVmGraphics *graphics = &ctx->spec->graphics;
  gsize passwd_max;
  guint64 number = 0;

  if (!check_keys(ctx, attr, keys, "TYPE, LISTEN, PORT, PASSWD and KEYMAP"))
    return FALSE;
  if (type == NULL)
    return fail_attr(ctx, attr, "needs TYPE, VNC or SPICE");
  if (g_ascii_strcasecmp(type, "vnc") == 0)
    graphics->type = PP_VM_GRAPHICS_VNC;
  else if (g_ascii_strcasecmp(type, "spice") == 0)
    graphics->type = PP_VM_GRAPHICS_SPICE;
  else
    return fail_key(ctx, attr, "TYPE", "TYPE '%s' is not a console type: VNC or SPICE", type);
  if (listen != NULL && (strlen(listen) > LISTEN_MAX_LEN || !g_hostname_is_ip_address(listen)))
    return fail_key(ctx, attr, "LISTEN",
                    "LISTEN '%s' is not an IP address (as 0.0.0.0, 127.0.0.1 or ::)", listen);
  if (port != NULL && strcmp(port, "-1") != 0 &&
      !parse_uint(port, GRAPHICS_PORT_MIN, GRAPHICS_PORT_MAX, &number))
    return fail_key(ctx, attr, "PORT",
                    "PORT '%s' is not a console port: %d to %d, or -1 for one libvirt chooses",
                    port, GRAPHICS_PORT_MIN, GRAPHICS_PORT_MAX);
  passwd_max = graphics->type == PP_VM_GRAPHICS_VNC ? VNC_PASSWD_MAX : SPICE_PASSWD_MAX;
  if (passwd != NULL && passwd[0] == '\0')
    return fail_key(ctx, attr, "PASSWD", "PASSWD is empty; leave PASSWD out for no password");
  if (passwd != NULL && strlen(passwd) > passwd_max)
    return fail_key(
        ctx, attr, "PASSWD", "PASSWD is longer than %" G_GSIZE_FORMAT " characters%s", passwd_max,
        graphics->type == PP_VM_GRAPHICS_VNC ? ": VNC uses 8 only, and libvirt refuses more" : "");
  for (const char *p = passwd; p != NULL && *p != '\0'; p++) {
    if (*p < 0x20 || *p > 0x7e)
      return fail_key(ctx, attr, "PASSWD",
                      "PASSWD has a character other than printable ASCII (at byte %" G_GSIZE_FORMAT
                      ")",
                      (gsize)(p - passwd) + 1);
  }
  if (passwd != NULL && strcmp(passwd, PP_VM_TEMPLATE_HIDDEN) == 0)
    return fail_key(ctx, attr, "PASSWD",
                    "PASSWD is '" PP_VM_TEMPLATE_HIDDEN "', what pcipass shows in place of a "
                    "password: give the password itself");
  if (keymap != NULL && !is_keymap(keymap))
    return fail_key(ctx, attr, "KEYMAP",
                    "KEYMAP '%s' is not a keymap: letters, digits, '_', '+' or '-' (as en-us or "
                    "de), at most %d",
                    keymap, WORD_MAX_LEN);
  graphics->listen = g_strdup(listen);
  graphics->port = port != NULL && number != 0 ? (gint)number : -1;
  graphics->passwd = g_strdup(passwd);
  graphics->keymap = g_strdup(keymap);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* CONTEXT                                                                   */
/* ------------------------------------------------------------------------ */

/* The attributes of a network a substitution may name (pp-vm-template.h),
 * and those a NIC adds to its network's. */
static const char *const network_attrs[] = { "GATEWAY",       "GATEWAY6",        "DNS",
                                             "MTU",           "NETWORK_ADDRESS", "NETWORK_MASK",
                                             "SEARCH_DOMAIN", "VLAN_ID",         NULL };
static const char *const nic_attrs[] = { "MAC",     "IP",      "IP6",        "IP6_GLOBAL",
                                         "IP6_ULA", "NETWORK", "NETWORK_ID", NULL };
#define NETWORK_ATTRS_TEXT                                                                         \
  "GATEWAY, GATEWAY6, DNS, MTU, NETWORK_ADDRESS, NETWORK_MASK, SEARCH_DOMAIN or VLAN_ID"

/* The keys a NoCloud disk reads: any other would be dropped. */
static const char *const nocloud_keys[] = { "SET_HOSTNAME", "SSH_PUBLIC_KEY", "USER_DATA",
                                            "USER_DATA_BASE64", NULL };

static void
context_piece_free(PpVmContextPiece *piece)
{
  if (piece == NULL)
    return;
  g_free(piece->text);
  g_free(piece->network);
  g_free(piece);
}

/* Reads a reference's text from @p; the static name in @names it is, or
 * NULL. */
static const char *
static_name(const char *const *names, const char *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp(names[i], name) == 0)
      return names[i];
  return NULL;
}

static const char *
skip_blanks(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* [A-Z0-9_]* from @p, into a new string; @ret_end past it. */
static char *
read_upper_name(const char *p, const char **ret_end)
{
  const char *q = p;

  while (g_ascii_isupper(*q) || g_ascii_isdigit(*q) || *q == '_')
    q++;
  *ret_end = q;
  return g_strndup(p, q - p);
}

static gboolean split_fail(GError **error, const char *from, const char *to, const char *format,
                           ...) G_GNUC_PRINTF(4, 5);

/* "'$NIC[IP, X': ..." : the substitution as far as it reads (at most 64
 * bytes of it), then why it does not. */
static gboolean
split_fail(GError **error, const char *from, const char *to, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;
  int n = (int)MIN(to - from, 64);

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID, "'%.*s%s': %s", n, from,
              to - from > 64 ? "..." : "", message);
  return FALSE;
}

/* The bracket of $NIC[...] or $NETWORK[...] from @p (at '['), into
 * @piece; @ret_end past its ']'. */
static gboolean
split_bracket(const char *dollar, const char *p, PpVmContextPiece *piece, const char **ret_end,
              GError **error)
{
  gboolean nic = piece->kind == PP_VM_CONTEXT_PIECE_NIC;
  const char *end = strchr(p, ']');
  const char *q;
  g_autofree char *attr = NULL;
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;

  if (end == NULL)
    return split_fail(error, dollar, dollar + strlen(dollar), "it has no ']'");
  end++;
  attr = read_upper_name(skip_blanks(p + 1), &q);
  piece->attr = static_name(network_attrs, attr);
  if (piece->attr == NULL && nic)
    piece->attr = static_name(nic_attrs, attr);
  if (piece->attr == NULL)
    return split_fail(
        error, dollar, end, "%s%s%s is not an attribute of a %s: %s%s", attr[0] == '\0' ? "'" : "",
        attr, attr[0] == '\0' ? "'" : "", nic ? "NIC" : "network",
        nic ? "MAC, IP, IP6, IP6_GLOBAL, IP6_ULA, NETWORK, NETWORK_ID, " : "", NETWORK_ATTRS_TEXT);
  q = skip_blanks(q);
  if (*q == ']') {
    if (!nic)
      return split_fail(error, dollar, end,
                        "$NETWORK needs the network: NETWORK = \"NAME\" or NETWORK_ID = ID");
    piece->by = PP_VM_CONTEXT_BY_FIRST;
    *ret_end = end;
    return TRUE;
  }
  if (*q != ',')
    return split_fail(error, dollar, end, "expected ',' or ']' after %s", attr);
  key = read_upper_name(skip_blanks(q + 1), &q);
  q = skip_blanks(q);
  if (*q != '=')
    return split_fail(error, dollar, end, "expected KEY = VALUE after ','");
  q = skip_blanks(q + 1);
  if (*q == '"') {
    const char *close = strchr(q + 1, '"');

    if (close == NULL || close > end)
      return split_fail(error, dollar, end, "a quoted value has no closing '\"'");
    value = g_strndup(q + 1, close - q - 1);
    q = close + 1;
  } else {
    const char *from = q;

    while (g_ascii_isalnum(*q) || *q == '.' || *q == '_' || *q == '-')
      q++;
    value = g_strndup(from, q - from);
  }
  if (*skip_blanks(q) != ']')
    return split_fail(error, dollar, end, "expected ']' after %s's value", key);

  if (strcmp(key, "NETWORK") == 0) {
    if (!is_entity_name(value))
      return split_fail(error, dollar, end,
                        "NETWORK '%s' is not a network name: 1 to %d letters, digits, '.', '_' "
                        "or '-', not starting with '.' or '-'",
                        value, ENTITY_NAME_MAX_LEN);
    piece->by = PP_VM_CONTEXT_BY_NETWORK;
    piece->network = g_steal_pointer(&value);
  } else if (strcmp(key, "NETWORK_ID") == 0 || (nic && strcmp(key, "NIC_ID") == 0)) {
    guint64 id;
    gboolean nic_id = strcmp(key, "NIC_ID") == 0;

    if (!parse_uint(value, nic_id ? 0 : 1, G_MAXINT64, &id))
      return split_fail(error, dollar, end, "%s '%s' is not an id: an integer from %d", key, value,
                        nic_id ? 0 : 1);
    piece->by = nic_id ? PP_VM_CONTEXT_BY_NIC_ID : PP_VM_CONTEXT_BY_NETWORK_ID;
    piece->id = (gint64)id;
  } else
    return split_fail(error, dollar, end, "%s%s%s is not a key of $%s: %s", key[0] ? "" : "'", key,
                      key[0] ? "" : "'", nic ? "NIC" : "NETWORK",
                      nic ? "NIC_ID, NETWORK or NETWORK_ID" : "NETWORK or NETWORK_ID");
  *ret_end = end;
  return TRUE;
}

GPtrArray *
pp_vm_context_value_split(const char *value, GError **error)
{
  static const struct {
    const char *name;
    PpVmContextPieceKind kind;
  } names[] = {
    { "VMID", PP_VM_CONTEXT_PIECE_VMID },   { "NAME", PP_VM_CONTEXT_PIECE_NAME },
    { "UNAME", PP_VM_CONTEXT_PIECE_UNAME }, { "UID", PP_VM_CONTEXT_PIECE_UID },
    { "NIC", PP_VM_CONTEXT_PIECE_NIC },     { "NETWORK", PP_VM_CONTEXT_PIECE_NETWORK },
  };
  g_autoptr(GPtrArray) pieces = g_ptr_array_new_with_free_func((GDestroyNotify)context_piece_free);
  g_autoptr(GString) text = g_string_new(NULL);
  const char *p = value;

  g_return_val_if_fail(value != NULL, NULL);

  while (*p != '\0') {
    const char *dollar = p, *end;
    g_autofree char *name = NULL;
    PpVmContextPiece *piece;
    guint i = 0;

    if (p[0] != '$' || (p[1] != '$' && !g_ascii_isupper(p[1]))) {
      g_string_append_c(text, *p++);
      continue;
    }
    if (p[1] == '$') {
      g_string_append_c(text, '$');
      p += 2;
      continue;
    }
    name = read_upper_name(p + 1, &end);
    while (i < G_N_ELEMENTS(names) && strcmp(names[i].name, name) != 0)
      i++;
    if (i == G_N_ELEMENTS(names)) {
      split_fail(error, dollar, end,
                 "not a substitution pcipass knows ($VMID, $NAME, $UNAME, $UID, $NIC[...], "
                 "$NETWORK[...]); write $$ for a '$'");
      return NULL;
    }
    piece = g_new0(PpVmContextPiece, 1);
    piece->kind = names[i].kind;
    if (text->len > 0) {
      PpVmContextPiece *literal = g_new0(PpVmContextPiece, 1);

      literal->kind = PP_VM_CONTEXT_PIECE_TEXT;
      literal->text = g_strdup(text->str);
      g_ptr_array_add(pieces, literal);
      g_string_truncate(text, 0);
    }
    g_ptr_array_add(pieces, piece);
    if (piece->kind == PP_VM_CONTEXT_PIECE_NIC || piece->kind == PP_VM_CONTEXT_PIECE_NETWORK) {
      if (*end != '[') {
        split_fail(error, dollar, end, "$%s needs [ATTRIBUTE, ...], as $%s", name,
                   piece->kind == PP_VM_CONTEXT_PIECE_NIC ? "NIC[IP]"
                                                          : "NETWORK[GATEWAY, NETWORK = \"lan\"]");
        return NULL;
      }
      if (!split_bracket(dollar, end, piece, &end, error))
        return NULL;
    }
    piece->text = g_strndup(dollar, end - dollar);
    p = end;
  }
  if (text->len > 0) {
    PpVmContextPiece *literal = g_new0(PpVmContextPiece, 1);

    literal->kind = PP_VM_CONTEXT_PIECE_TEXT;
    literal->text = g_strdup(text->str);
    g_ptr_array_add(pieces, literal);
  }
  return g_steal_pointer(&pieces);
}

/* Reads each KEY = value of CONTEXT as written: the key's case and a key
 * given twice are the text's (the template folds and drops them). */
typedef struct {
  Ctx *ctx;
  const PpAttribute *attr;
  GHashTable *seen; /* the keys read so far */
  gboolean failed;
} ContextRead;

static gboolean context_fail(ContextRead *r, PpTextPos pos, const char *format, ...)
    G_GNUC_PRINTF(3, 4);

static gboolean
context_fail(ContextRead *r, PpTextPos pos, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start(args, format);
  message = g_strdup_vprintf(format, args);
  va_end(args);
  fail_at(r->ctx, pos, "CONTEXT", "%s", message);
  r->failed = TRUE;
  return FALSE;
}

/* ETH<n>_ or PCI<n>_: a NIC's variable. */
static gboolean
is_nic_variable(const char *key)
{
  const char *p = NULL;

  if (g_str_has_prefix(key, "ETH"))
    p = key + 3;
  else if (g_str_has_prefix(key, "PCI"))
    p = key + 3;
  else
    return FALSE;
  if (!g_ascii_isdigit(*p))
    return FALSE;
  while (g_ascii_isdigit(*p))
    p++;
  return *p == '_';
}

static gboolean
read_context_pair(const char *text, const PpTemplatePair *pair, gpointer user_data)
{
  ContextRead *r = user_data;
  PpVmContext *context = &r->ctx->spec->context;
  g_autofree char *key = g_strndup(text + pair->key_from, pair->key_to - pair->key_from);
  const char *value;
  PpVmContextVar *var;

  for (const char *p = key; *p != '\0'; p++)
    if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p) && *p != '_')
      return context_fail(r, pair->pos,
                          "key '%s' is not a context key: 1 to %d of A-Z, 0-9 and '_' "
                          "(OpenNebula's context keys are upper case)",
                          key, CONTEXT_KEY_MAX_LEN);
  if (strlen(key) > CONTEXT_KEY_MAX_LEN)
    return context_fail(r, pair->pos, "key %.16s... is longer than %d characters", key,
                        CONTEXT_KEY_MAX_LEN);
  if (g_hash_table_contains(r->seen, key))
    return context_fail(r, pair->pos, "%s is given twice; a context key is given once", key);
  g_hash_table_add(r->seen, g_strdup(key));
  if (is_nic_variable(key))
    return context_fail(r, pair->pos,
                        "%s is set by pcipass from %s %.*s's lease: leave it out (a NIC's "
                        "variables come from its network)",
                        key, key[0] == 'E' ? "NIC" : "PCI vector",
                        (int)(strchr(key, '_') - key - 3), key + 3);
  value = pp_attribute_vector_get(r->attr, key);
  g_assert(value != NULL);
  if (strlen(value) > CONTEXT_VALUE_MAX)
    return context_fail(r, pair->pos, "%s is longer than %d bytes", key, CONTEXT_VALUE_MAX);
  if (has_control_chars(value))
    return context_fail(r, pair->pos,
                        "%s has a control character (a newline, a tab): a context value is one "
                        "line; a script goes in START_SCRIPT_BASE64, user data in "
                        "USER_DATA_BASE64",
                        key);
  if (strcmp(key, "FORMAT") == 0) {
    if (g_ascii_strcasecmp(value, "one") == 0)
      context->format = PP_VM_CONTEXT_ONE;
    else if (g_ascii_strcasecmp(value, "nocloud") == 0)
      context->format = PP_VM_CONTEXT_NOCLOUD;
    else
      return context_fail(r, pair->pos,
                          "FORMAT '%s' is not a context format: one (context.sh, OpenNebula's) or "
                          "nocloud (cloud-init's NoCloud)",
                          value);
    return TRUE;
  }
  if (g_strv_contains(context_secrets, key) && strcmp(value, PP_VM_TEMPLATE_HIDDEN) == 0)
    return context_fail(r, pair->pos,
                        "%s is '" PP_VM_TEMPLATE_HIDDEN "', what pcipass shows in place of a "
                        "password: give the password itself",
                        key);
  if (context->vars->len >= CONTEXT_KEYS_MAX)
    return context_fail(r, pair->pos, "more than %d keys", CONTEXT_KEYS_MAX);
  var = g_new0(PpVmContextVar, 1);
  var->name = g_steal_pointer(&key);
  var->value = g_strdup(value);
  var->pos = pair->pos;
  g_ptr_array_add(context->vars, var);
  return TRUE;
}

static gboolean
parse_context(Ctx *ctx, const PpAttribute *attr)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  ContextRead r = { ctx, attr, seen, FALSE };

  ctx->spec->context.present = TRUE;
  pp_template_vector_foreach_pair(ctx->text, ctx->len, attr, read_context_pair, &r);
  return !r.failed;
}

/* The first NIC of the spec on the network @name (by name) or @id; or
 * whether it cannot be known before the names are resolved (a NIC naming
 * its network the other way). */
static gboolean
context_network_known(const PpVmSpec *spec, const char *name, gint64 id, gboolean *ret_unknowable)
{
  *ret_unknowable = FALSE;
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);

    if (name != NULL && nic->network != NULL && strcmp(nic->network, name) == 0)
      return TRUE;
    if (name == NULL && nic->network_id == id)
      return TRUE;
    if ((name != NULL && nic->network_id > 0) || (name == NULL && nic->network != NULL))
      *ret_unknowable = TRUE;
  }
  return FALSE;
}

/* A var's substitutions, against what the template says: a NIC id it has,
 * a network one of its NICs is on (when the template names it the same
 * way). */
static gboolean
check_context_var(Ctx *ctx, const PpVmContextVar *var)
{
  const PpVmSpec *spec = ctx->spec;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) pieces = pp_vm_context_value_split(var->value, &error);

  if (pieces == NULL)
    return fail_at(ctx, var->pos, "CONTEXT", "%s: %s", var->name, error->message);
  for (guint i = 0; i < pieces->len; i++) {
    const PpVmContextPiece *piece = g_ptr_array_index(pieces, i);
    gboolean unknowable;

    if (piece->kind != PP_VM_CONTEXT_PIECE_NIC && piece->kind != PP_VM_CONTEXT_PIECE_NETWORK)
      continue;
    switch (piece->by) {
    case PP_VM_CONTEXT_BY_FIRST:
      if (spec->nics->len == 0)
        return fail_at(ctx, var->pos, "CONTEXT", "%s: '%s': the template has no NIC", var->name,
                       piece->text);
      break;
    case PP_VM_CONTEXT_BY_NIC_ID:
      if (piece->id >= (gint64)spec->nics->len)
        return fail_at(ctx, var->pos, "CONTEXT",
                       "%s: '%s': the template has no NIC %" G_GINT64_FORMAT
                       " (NIC ids count NIC and PCI NIC vectors from 0; it has %u)",
                       var->name, piece->text, piece->id, spec->nics->len);
      break;
    case PP_VM_CONTEXT_BY_NETWORK:
    case PP_VM_CONTEXT_BY_NETWORK_ID:
      if (!context_network_known(spec, piece->network, piece->id, &unknowable) && !unknowable)
        return fail_at(ctx, var->pos, "CONTEXT",
                       "%s: '%s': no NIC of the template is on that network", var->name,
                       piece->text);
      break;
    }
  }
  return TRUE;
}

static gboolean
base64_is_valid(const char *s)
{
  gsize n = strlen(s);

  if (n % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' && !(s[i] == '=' && i + 2 >= n))
      return FALSE;
  return TRUE;
}

/* CONTEXT once the NICs are read: its substitutions, and what a NoCloud
 * disk cannot carry. */
static gboolean
check_context(Ctx *ctx)
{
  const PpVmContext *context = &ctx->spec->context;
  const PpVmContextVar *user_data = NULL, *user_data_base64 = NULL;

  for (guint i = 0; i < context->vars->len; i++) {
    const PpVmContextVar *var = g_ptr_array_index(context->vars, i);

    if (!check_context_var(ctx, var))
      return FALSE;
    if (strcmp(var->name, "USER_DATA") == 0)
      user_data = var;
    else if (strcmp(var->name, "USER_DATA_BASE64") == 0)
      user_data_base64 = var;
    if (context->format == PP_VM_CONTEXT_NOCLOUD && !g_strv_contains(nocloud_keys, var->name))
      return fail_at(ctx, var->pos, "CONTEXT",
                     "%s is not read by a NoCloud disk (FORMAT = \"nocloud\" reads SET_HOSTNAME, "
                     "SSH_PUBLIC_KEY, USER_DATA and USER_DATA_BASE64): say it in cloud-config "
                     "in USER_DATA_BASE64, or use FORMAT = \"one\"",
                     var->name);
  }
  if (user_data != NULL && user_data_base64 != NULL)
    return fail_at(ctx, user_data_base64->pos, "CONTEXT",
                   "USER_DATA and USER_DATA_BASE64 cannot both be set: the user data is one");
  if (user_data_base64 != NULL) {
    gsize len = 0;
    g_autofree guchar *data = NULL;

    if (!base64_is_valid(user_data_base64->value))
      return fail_at(ctx, user_data_base64->pos, "CONTEXT",
                     "USER_DATA_BASE64 is not base64 (RFC 4648: A-Z, a-z, 0-9, '+', '/', '=' "
                     "padding, a multiple of 4 characters)");
    data = g_base64_decode(user_data_base64->value, &len);
    if (!g_utf8_validate((const char *)data, (gssize)len, NULL) || memchr(data, '\0', len) != NULL)
      return fail_at(ctx, user_data_base64->pos, "CONTEXT",
                     "USER_DATA_BASE64 does not decode to UTF-8 text (compressed user data is "
                     "not supported)");
  }
  return TRUE;
}

/* The attributes pcipass implements, in the order the error about an
 * attribute it does not implement lists them; any other is refused, never
 * ignored. To implement one, add its row and its parser. Columns: the
 * name; whether it is a vector (else a single value); whether it may be
 * given more than once; its parser (single attributes get the value too);
 * how to write it, for the error when it has the wrong shape; what to add
 * when it is required and missing (NULL: optional).
 */
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
  { "NAME", FALSE, FALSE, parse_name_attr, NULL, "NAME = \"gpu-job\"", NULL },
  { "CPU", FALSE, FALSE, parse_cpu_attr, NULL, "CPU = 0.5", NULL },
  { "VCPU", FALSE, FALSE, parse_vcpu_attr, NULL, "VCPU = 2", NULL },
  { "MEMORY", FALSE, FALSE, parse_memory_attr, NULL, "MEMORY = 1024", "MEMORY = <MiB>" },
  { "HOST", FALSE, FALSE, parse_host_attr, NULL, "HOST = \"node1\"", NULL },
  { "MACHINE", FALSE, FALSE, parse_machine_attr, NULL, "MACHINE = \"q35\"", NULL },
  { "DISK", TRUE, TRUE, NULL, parse_disk, "DISK = [ IMAGE = \"debian12\" ]", NULL },
  { "NIC", TRUE, TRUE, NULL, parse_nic, "NIC = [ NETWORK = \"public\" ]", NULL },
  { "PCI", TRUE, TRUE, NULL, parse_pci, "PCI = [ VENDOR = \"10de\" ]", NULL },
  { "OS", TRUE, FALSE, NULL, parse_os, "OS = [ KERNEL_IMAGE = \"vmlinuz\" ]", NULL },
  { "GRAPHICS", TRUE, FALSE, NULL, parse_graphics, "GRAPHICS = [ TYPE = \"VNC\" ]", NULL },
  { "CONTEXT", TRUE, FALSE, NULL, parse_context, "CONTEXT = [ SET_HOSTNAME = \"$NAME\" ]", NULL },
};

G_STATIC_ASSERT(G_N_ELEMENTS(rules) <= RULES_MAX);

static gboolean
parse_attribute(Ctx *ctx, guint r, const PpAttribute *attr)
{
  const AttrRule *rule = &rules[r];

  if (ctx->first[r] == NULL)
    ctx->first[r] = attr;
  else if (!rule->repeats &&
           pp_attribute_get_pos(ctx->first[r]).line == pp_attribute_get_pos(attr).line)
    return fail_attr(ctx, attr, "given twice on line %u; a template has one %s",
                     pp_attribute_get_pos(attr).line, rule->name);
  else if (!rule->repeats)
    return fail_attr(ctx, attr, "given twice, on lines %u and %u; a template has one %s",
                     pp_attribute_get_pos(ctx->first[r]).line, pp_attribute_get_pos(attr).line,
                     rule->name);
  if (++ctx->count[r] > VECTORS_MAX)
    return fail_attr(ctx, attr, "more than %d %s vectors", VECTORS_MAX, rule->name);
  if (rule->vector != pp_attribute_is_vector(attr))
    return fail_attr(ctx, attr, "must be %s, as %s", rule->vector ? "a vector" : "a single value",
                     rule->example);
  if (rule->vector)
    return rule->parse_vector(ctx, attr);
  return rule->parse_single(ctx, attr, pp_attribute_get_value(attr));
}

/* An attribute no rule reads: refused, naming it and what pcipass reads. */
static gboolean
fail_unsupported(Ctx *ctx, const PpAttribute *attr)
{
  g_autoptr(GString) names = g_string_new(NULL);

  for (guint r = 0; r < G_N_ELEMENTS(rules); r++)
    g_string_append_printf(names, "%s%s",
                           r == 0                        ? ""
                           : r + 1 < G_N_ELEMENTS(rules) ? ", "
                                                         : " and ",
                           rules[r].name);
  return fail_at(ctx, pp_attribute_get_pos(attr), NULL,
                 "attribute '%s' is not supported by pcipass (it reads %s)",
                 pp_attribute_get_name(attr), names->str);
}

/* The keys that name a file of the host: the VM reads or writes it
 * (DESIGN: users never name host paths). Any key added to a vector above
 * that names a path of the host gets its row here. Columns: the vector,
 * the key, what a user writes instead. */
static const struct {
  const char *attribute;
  const char *key;
  const char *instead;
} host_path_keys[] = {
  { "DISK", "SOURCE", "DISK = [ IMAGE = \"NAME\" ]" },
  { "OS", "KERNEL", "OS = [ KERNEL_IMAGE = \"NAME\" ]" },
  { "OS", "INITRD", "OS = [ INITRD_IMAGE = \"NAME\" ]" },
};

/* Records in the spec the first key, in the template's order, that names a
 * file of the host. */
static void
find_host_path(Ctx *ctx)
{
  const PpTemplate *tmpl = ctx->spec->tmpl;

  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *attr = pp_template_get_attribute(tmpl, i);

    if (!pp_attribute_is_vector(attr))
      continue;
    for (guint p = 0; p < pp_attribute_vector_get_n_pairs(attr); p++) {
      const char *key, *value;

      pp_attribute_vector_get_pair(attr, p, &key, &value);
      for (guint k = 0; k < G_N_ELEMENTS(host_path_keys); k++) {
        if (strcmp(host_path_keys[k].attribute, pp_attribute_get_name(attr)) != 0 ||
            strcmp(host_path_keys[k].key, key) != 0)
          continue;
        ctx->spec->host_path = (PpVmHostPath){
          .attribute = host_path_keys[k].attribute,
          .key = host_path_keys[k].key,
          .value = value,
          .instead = host_path_keys[k].instead,
          .pos = pp_template_vector_key_pos(ctx->text, ctx->len, attr, key),
        };
        return;
      }
    }
  }
}

gboolean
pp_vm_spec_check_host_paths(const PpVmSpec *spec, PpTextPos *ret_pos, GError **error)
{
  const PpVmHostPath *path;

  g_return_val_if_fail(spec != NULL, FALSE);

  path = &spec->host_path;
  if (path->attribute == NULL)
    return TRUE;
  g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_HOST_PATH,
              "line %u, column %u: %s: %s '%s' names a file of the host, which only an "
              "administrator may do; use an image: %s (pcipass image list shows them)",
              path->pos.line, path->pos.column, path->attribute, path->key, path->value,
              path->instead);
  if (ret_pos != NULL)
    *ret_pos = path->pos;
  return FALSE;
}

/* VLAN_ID of a PCI NIC puts the VF on any VLAN of the PF's wire, past the
 * network's: an administrator's decision. */
#define ADMIN_ONLY_VLAN                                                                            \
  "VLAN_ID sets the VLAN of a passed-through NIC, which only an administrator may do; leave it "   \
  "out to use the network's VLAN_ID"
#define ADMIN_ONLY_BRIDGE                                                                          \
  "BRIDGE plugs the NIC into a bridge of the host without a network, which only an "               \
  "administrator may do; use NETWORK = \"NAME\" (pcipass net list shows the networks you may "     \
  "use)"

gboolean
pp_vm_spec_check_admin_only(const PpVmSpec *spec, PpTextPos *ret_pos, GError **error)
{
  g_return_val_if_fail(spec != NULL, FALSE);

  /* A NIC on a bridge of the host without a network: any bridge, the
   * hosts' own networks included, where networks say who may use what. */
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);

    if (nic->kind != PP_VM_NIC_BRIDGE || nic->bridge == NULL || nic->network != NULL ||
        nic->network_id > 0)
      continue;
    if (nic->pos.line > 0)
      g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY,
                  "line %u, column %u: NIC: " ADMIN_ONLY_BRIDGE, nic->pos.line, nic->pos.column);
    else
      g_set_error_literal(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY,
                          "NIC: " ADMIN_ONLY_BRIDGE);
    if (ret_pos != NULL)
      *ret_pos = nic->pos;
    return FALSE;
  }
  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);

    if (nic->kind != PP_VM_NIC_PCI || nic->vlan_id < 0)
      continue;
    /* A spec read from the store has no positions: the message has none. */
    if (spec->vlan_id_pos.line > 0)
      g_set_error(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY,
                  "line %u, column %u: PCI: " ADMIN_ONLY_VLAN, spec->vlan_id_pos.line,
                  spec->vlan_id_pos.column);
    else
      g_set_error_literal(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_ADMIN_ONLY,
                          "PCI: " ADMIN_ONLY_VLAN);
    if (ret_pos != NULL)
      *ret_pos = spec->vlan_id_pos;
    return FALSE;
  }
  return TRUE;
}

/* Reads every attribute of the parsed template into the spec, then checks
 * that the required ones were given. */
static gboolean
read_attributes(Ctx *ctx)
{
  const PpTemplate *tmpl = ctx->spec->tmpl;

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
    g_set_error(ctx->error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_INVALID,
                "%s is required (add %s)", rules[r].name, rules[r].required);
    ctx->where->missing = rules[r].name;
    return FALSE;
  }
  find_host_path(ctx);
  return check_context(ctx);
}

PpVmSpec *
pp_vm_template_parse_where(const char *text, gsize len, PpVmTemplateWhere *ret_where,
                           GError **error)
{
  g_autoptr(PpVmSpec) spec = NULL;
  g_autoptr(GError) parse_error = NULL;
  PpVmTemplateWhere where = { { 0, 0 }, NULL };
  Ctx ctx = { 0 };

  g_return_val_if_fail(text != NULL || len == 0, NULL);

  spec = pp_vm_spec_new();
  spec->tmpl = pp_template_parse(text != NULL ? text : "", len, &where.pos, &parse_error);
  if (spec->tmpl == NULL) {
    g_set_error_literal(error, PP_VM_TEMPLATE_ERROR, PP_VM_TEMPLATE_ERROR_SYNTAX,
                        parse_error->message);
    /* A template too large has no position. */
    if (ret_where != NULL &&
        g_error_matches(parse_error, PP_TEMPLATE_ERROR, PP_TEMPLATE_ERROR_INVALID))
      *ret_where = where;
    else if (ret_where != NULL)
      *ret_where = (PpVmTemplateWhere){ { 0, 0 }, NULL };
    return NULL;
  }

  ctx.text = text;
  ctx.len = len;
  ctx.spec = spec;
  ctx.error = error;
  ctx.where = &where;
  if (!read_attributes(&ctx)) {
    if (ret_where != NULL)
      *ret_where = where;
    return NULL;
  }
  if (spec->vcpu == 0)
    spec->vcpu = (guint)((spec->cpu + 99) / 100);
  name_disks(spec);
  return g_steal_pointer(&spec);
}

PpVmSpec *
pp_vm_template_parse(const char *text, gsize len, GError **error)
{
  return pp_vm_template_parse_where(text, len, NULL, error);
}

void
pp_vm_spec_to_place_vm(const PpVmSpec *spec, gint64 vm_id, PpPlaceVm *ret)
{
  g_return_if_fail(spec != NULL && ret != NULL);

  memset(ret, 0, sizeof(*ret));
  ret->id = vm_id;
  ret->cpu = spec->cpu;
  ret->memory_kib = (gint64)spec->memory_mib * 1024;
  ret->requests = (const PpPciRequest *)spec->requests->data;
  ret->n_requests = spec->requests->len;
  ret->host_id = spec->host_id;
  ret->host_name = spec->host_name;
}
