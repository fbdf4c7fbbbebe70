/* libFuzzer target: the VM template checks (pp_vm_template_parse, which
 * pcipassd runs on every template a user sends) and the domain XML built
 * from what they accept. Any input is accepted or refused with an error
 * that says where; what is accepted is within the bounds pp-vm-template.h
 * documents, its XML is well-formed (checked here: libxml2 is not a
 * dependency of pcipass), and neither the template nor the XML shown to
 * people keeps a console password. No crash, no leak. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-domain-xml.h"
#include "pp-vm-template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-vm-template: " __VA_ARGS__);                                           \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* ---- an XML 1.0 well-formedness check, enough for what pp-domain-xml
 * writes: elements, attributes, character and entity references, the
 * characters XML allows; no DTD, no CDATA, no processing instructions. */

static gboolean
is_name_start(guchar c)
{
  return g_ascii_isalpha(c) || c == '_' || c == ':';
}

static gboolean
is_name_char(guchar c)
{
  return is_name_start(c) || g_ascii_isdigit(c) || c == '-' || c == '.';
}

/* A reference after '&': "amp;", "#38;", "#x26;", the character XML 1.0
 * allows (Char: #x9 | #xA | #xD | [#x20-#xD7FF] | ...). Returns its length,
 * or 0. */
static gsize
reference_length(const char *p)
{
  static const char *const entities[] = { "amp;", "lt;", "gt;", "quot;", "apos;" };
  guint64 code;
  const char *end;

  for (guint i = 0; i < G_N_ELEMENTS(entities); i++)
    if (g_str_has_prefix(p, entities[i]))
      return strlen(entities[i]);
  if (p[0] != '#')
    return 0;
  end = strchr(p, ';');
  if (end == NULL || end - p > 10)
    return 0;
  if (p[1] == 'x')
    code = g_ascii_strtoull(p + 2, NULL, 16);
  else
    code = g_ascii_strtoull(p + 1, NULL, 10);
  if (!(code == 0x9 || code == 0xa || code == 0xd || (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff)))
    return 0;
  return (gsize)(end - p) + 1;
}

/* Text or an attribute value up to @stop ('<' or a quote): no raw '<', every
 * '&' a reference, every character one XML allows. */
static const char *
check_chars(const char *p, char stop, const char *xml)
{
  while (*p != '\0' && *p != stop) {
    guchar c = (guchar)*p;

    CHECK(c != '<', "a raw '<' at offset %td:\n%s", p - xml, xml);
    CHECK(c >= 0x20 || c == '\t' || c == '\n' || c == '\r',
          "control character 0x%02x at offset %td:\n%s", c, p - xml, xml);
    if (c == '&') {
      gsize n = reference_length(p + 1);

      CHECK(n > 0, "a bad reference at offset %td:\n%s", p - xml, xml);
      p += n + 1;
    } else {
      p++;
    }
  }
  return p;
}

static void
check_xml(const char *xml)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new_with_free_func(g_free);
  const char *p = xml;
  guint roots = 0;

  CHECK(g_utf8_validate(xml, -1, NULL), "the XML is not UTF-8");
  while (*p != '\0') {
    if (*p != '<') {
      const char *text = p;

      p = check_chars(p, '<', xml);
      if (open->len == 0)
        for (const char *q = text; q < p; q++)
          CHECK(g_ascii_isspace(*q), "text outside the root element:\n%s", xml);
      continue;
    }
    p++;
    if (*p == '/') {
      const char *name = ++p;
      g_autofree char *want = NULL;

      while (is_name_char((guchar)*p))
        p++;
      CHECK(open->len > 0, "a closing tag with nothing open:\n%s", xml);
      want = g_ptr_array_steal_index(open, open->len - 1);
      CHECK(strlen(want) == (gsize)(p - name) && strncmp(want, name, p - name) == 0,
            "</%.*s> closes <%s>:\n%s", (int)(p - name), name, want, xml);
      while (g_ascii_isspace(*p))
        p++;
      CHECK(*p == '>', "a closing tag does not end:\n%s", xml);
      p++;
      continue;
    }
    {
      const char *name = p;
      g_autoptr(GHashTable) attributes =
          g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

      CHECK(is_name_start((guchar)*p), "a tag without a name at offset %td:\n%s", p - xml, xml);
      while (is_name_char((guchar)*p))
        p++;
      if (open->len == 0)
        roots++;
      CHECK(roots == 1, "more than one root element:\n%s", xml);
      g_ptr_array_add(open, g_strndup(name, p - name));
      for (;;) {
        const char *attr;
        char quote;

        CHECK(g_ascii_isspace(*p) || *p == '>' || *p == '/', "a tag goes on badly:\n%s", xml);
        while (g_ascii_isspace(*p))
          p++;
        if (*p == '>') {
          p++;
          break;
        }
        if (p[0] == '/' && p[1] == '>') {
          g_free(g_ptr_array_steal_index(open, open->len - 1));
          p += 2;
          break;
        }
        attr = p;
        CHECK(is_name_start((guchar)*p), "an attribute without a name:\n%s", xml);
        while (is_name_char((guchar)*p))
          p++;
        CHECK(g_hash_table_add(attributes, g_strndup(attr, p - attr)),
              "attribute %.*s twice in a tag:\n%s", (int)(p - attr), attr, xml);
        CHECK(*p == '=', "an attribute without '=':\n%s", xml);
        p++;
        quote = *p;
        CHECK(quote == '\'' || quote == '"', "an attribute value without quotes:\n%s", xml);
        p = check_chars(p + 1, quote, xml);
        CHECK(*p == quote, "an attribute value does not end:\n%s", xml);
        p++;
      }
    }
  }
  CHECK(roots == 1 && open->len == 0, "the root element does not end:\n%s", xml);
}

/* ---- the template ----------------------------------------------------- */

/* NICs (issue 12): on a network or a bridge, not both; a PCI NIC and its
 * request name each other, and every other request names no NIC. */
static void
check_nics(const PpVmSpec *spec)
{
  guint pci_nics = 0;

  for (guint i = 0; i < spec->nics->len; i++) {
    const PpVmNic *nic = g_ptr_array_index(spec->nics, i);
    gboolean network = nic->network != NULL || nic->network_id > 0;

    CHECK(!(nic->network != NULL && nic->network_id != 0), "NIC %u: NETWORK and NETWORK_ID", i);
    CHECK(nic->network_uname == NULL || nic->network != NULL, "NIC %u: NETWORK_UNAME alone", i);
    CHECK(nic->ip == NULL || network, "NIC %u: IP without a network", i);
    /* Unicast, lower case, as the parser keeps it. */
    CHECK(nic->mac == NULL ||
              (strlen(nic->mac) == 17 && (g_ascii_xdigit_value(nic->mac[1]) & 1) == 0 &&
               strspn(nic->mac, "0123456789abcdef:") == 17),
          "NIC %u: MAC '%s'", i, nic->mac);
    if (nic->kind == PP_VM_NIC_BRIDGE) {
      CHECK((nic->bridge != NULL) != network, "NIC %u: a bridge and a network, or neither", i);
      CHECK(nic->model != NULL && nic->request == -1 && nic->vlan_id == -1, "NIC %u", i);
      continue;
    }
    CHECK(nic->kind == PP_VM_NIC_PCI && network && nic->bridge == NULL && nic->model == NULL,
          "PCI NIC %u", i);
    CHECK(nic->vlan_id >= -1 && nic->vlan_id <= 4094, "PCI NIC %u: VLAN_ID %d", i, nic->vlan_id);
    CHECK(nic->request >= 0 && (guint)nic->request < spec->requests->len &&
              g_array_index(spec->requests, PpPciRequest, nic->request).nic == (gint)i,
          "PCI NIC %u: request %d does not name it", i, nic->request);
    pci_nics++;
  }
  for (guint i = 0; i < spec->requests->len; i++) {
    gint nic = g_array_index(spec->requests, PpPciRequest, i).nic;

    CHECK(nic == -1 || (nic >= 0 && (guint)nic < spec->nics->len &&
                        ((const PpVmNic *)g_ptr_array_index(spec->nics, nic))->request == (gint)i),
          "request %u: NIC %d does not name it", i, nic);
    pci_nics -= nic >= 0;
  }
  CHECK(pci_nics == 0, "PCI NICs and requests with a NIC differ");
}

static void
check_spec(const PpVmSpec *spec)
{
  CHECK(spec->cpu >= 1 && spec->cpu <= 1024 * 100, "CPU %" G_GINT64_FORMAT, spec->cpu);
  CHECK(spec->vcpu >= 1 && spec->vcpu <= 1024, "VCPU %u", spec->vcpu);
  CHECK(spec->memory_mib >= 1 && spec->memory_mib <= 16 * 1024 * 1024, "MEMORY %" G_GUINT64_FORMAT,
        spec->memory_mib);
  CHECK(spec->disks->len <= 64 && spec->nics->len <= 64 && spec->requests->len <= 64,
        "%u disks, %u NICs, %u PCI", spec->disks->len, spec->nics->len, spec->requests->len);
  CHECK(spec->name == NULL || (spec->name[0] != '\0' && strlen(spec->name) <= 64), "NAME");
  CHECK(spec->host_id >= 0, "HOST %" G_GINT64_FORMAT, spec->host_id);
  CHECK(spec->graphics.type == PP_VM_GRAPHICS_NONE || spec->graphics.port == -1 ||
            (spec->graphics.port >= 5900 && spec->graphics.port <= 65535),
        "GRAPHICS PORT %d", spec->graphics.port);
  CHECK(spec->graphics.passwd == NULL || strcmp(spec->graphics.passwd, PP_VM_TEMPLATE_HIDDEN) != 0,
        "PASSWD (hidden) accepted");
  check_nics(spec);
}

/* The XML of @spec on a host with a device for each request: the address
 * of a request by address, else one made up from its index. */
static void
check_domain_xml(const PpVmSpec *spec)
{
  g_autoptr(GArray) hostdevs = g_array_new(FALSE, TRUE, sizeof(PpPciAddress));
  PpDomainOptions options = { .name = "pcipass-42", .domain_type = "kvm", .managed = TRUE };
  g_autofree char *xml = NULL;
  g_autofree char *shown = NULL;

  for (guint i = 0; i < spec->requests->len; i++) {
    const PpPciRequest *r = &g_array_index(spec->requests, PpPciRequest, i);
    PpPciAddress a = { 0, 0x3b, (guint8)(i / 8), (guint8)(i % 8) };

    if (r->by_address)
      a = r->address;
    g_array_append_val(hostdevs, a);
  }
  xml = pp_domain_xml_build(spec, &options, hostdevs);
  CHECK(xml != NULL, "no XML");
  check_xml(xml);
  shown = pp_domain_xml_redact_secrets(xml);
  check_xml(shown);
  if (spec->graphics.passwd != NULL) {
    g_autofree char *escaped = g_markup_escape_text(spec->graphics.passwd, -1);
    g_autofree char *secret = g_strdup_printf(" passwd='%s'", escaped);

    CHECK(strstr(xml, secret) != NULL, "the XML has no passwd");
    CHECK(strstr(shown, secret) == NULL ||
              strcmp(spec->graphics.passwd, PP_VM_TEMPLATE_HIDDEN) == 0,
          "the XML shown keeps the password");
    CHECK(strstr(shown, " passwd='" PP_VM_TEMPLATE_HIDDEN "'") != NULL, "no passwd hidden");
  }
}

/* What pcipassd shows of a template: the same template, but every PASSWD
 * of every GRAPHICS reads "(hidden)". */
static void
check_redacted(const char *text, gsize len)
{
  g_autoptr(PpTemplate) tmpl = pp_template_parse(text, len, NULL, NULL);
  g_autoptr(PpTemplate) shown_tmpl = NULL;
  g_autofree char *shown = NULL;

  if (tmpl == NULL)
    return;
  shown = pp_vm_template_redact_secrets(text, len);
  CHECK(shown != NULL, "a template that parses is not redacted");
  shown_tmpl = pp_template_parse(shown, strlen(shown), NULL, NULL);
  CHECK(shown_tmpl != NULL, "the redacted template does not parse:\n%s", shown);
  CHECK(pp_template_get_n_attributes(tmpl) == pp_template_get_n_attributes(shown_tmpl),
        "redacting changed the attributes:\n%s", shown);
  for (guint i = 0; i < pp_template_get_n_attributes(tmpl); i++) {
    const PpAttribute *a = pp_template_get_attribute(tmpl, i);
    const PpAttribute *b = pp_template_get_attribute(shown_tmpl, i);
    gboolean graphics = strcmp(pp_attribute_get_name(a), "GRAPHICS") == 0;

    CHECK(strcmp(pp_attribute_get_name(a), pp_attribute_get_name(b)) == 0 &&
              pp_attribute_is_vector(a) == pp_attribute_is_vector(b),
          "redacting changed attribute %u:\n%s", i, shown);
    if (!pp_attribute_is_vector(a)) {
      CHECK(g_strcmp0(pp_attribute_get_value(a), pp_attribute_get_value(b)) == 0,
            "redacting changed attribute %u:\n%s", i, shown);
      continue;
    }
    CHECK(pp_attribute_vector_get_n_pairs(a) == pp_attribute_vector_get_n_pairs(b),
          "redacting changed vector %u:\n%s", i, shown);
    for (guint j = 0; j < pp_attribute_vector_get_n_pairs(a); j++) {
      const char *ka, *va, *kb, *vb;

      pp_attribute_vector_get_pair(a, j, &ka, &va);
      pp_attribute_vector_get_pair(b, j, &kb, &vb);
      CHECK(strcmp(ka, kb) == 0, "redacting changed a key:\n%s", shown);
      if (graphics && strcmp(ka, "PASSWD") == 0)
        CHECK(strcmp(vb, PP_VM_TEMPLATE_HIDDEN) == 0, "a PASSWD is shown:\n%s", shown);
      else
        CHECK(strcmp(va, vb) == 0, "redacting changed %s:\n%s", ka, shown);
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpVmSpec) spec = NULL;
  g_autoptr(GError) error = NULL;
  PpVmTemplateWhere where = { { 0, 0 }, NULL };
  const char *text = (const char *)data;

  check_redacted(text, size);
  spec = pp_vm_template_parse_where(text, size, &where, &error);
  if (spec == NULL) {
    CHECK(error != NULL, "no spec and no error");
    if (where.pos.line > 0) {
      g_autofree char *prefix =
          g_strdup_printf("line %u, column %u: ", where.pos.line, where.pos.column);

      CHECK(g_str_has_prefix(error->message, prefix), "'%s' does not start with '%s'",
            error->message, prefix);
    } else if (where.missing != NULL) {
      CHECK(strstr(error->message, where.missing) != NULL, "'%s' does not name %s", error->message,
            where.missing);
    }
    return 0;
  }
  check_spec(spec);
  check_domain_xml(spec);
  return 0;
}
