#define G_LOG_DOMAIN "pp-domain-caps"

#include "config.h"

#include <string.h>

#include "pp-domain-caps.h"

/* clang-format off */
G_DEFINE_QUARK(pp-domain-caps-error-quark, pp_domain_caps_error)
/* clang-format on */

/* The types pcipass makes, best first. */
static const char *const types[] = { "kvm", "qemu", "test" };
/* The arches whose machines (q35, i440fx) pcipass makes. */
static const char *const arches[] = { "x86_64", "i686" };

/* What the parse collects. */
typedef struct {
  GString *host_arch;    /* <host><cpu><arch>TEXT */
  GString *os_type;      /* the current <guest>'s <os_type>TEXT */
  char *guest_arch;      /* the current <guest><arch name=...> */
  GPtrArray *guest_doms; /* the current <guest>'s "ARCH TYPE" pairs */
  GPtrArray *hvm;        /* every hvm guest's "ARCH TYPE" pairs */
} Collect;

/* Whether the open elements end with @path (the innermost last). */
static gboolean
inside(GMarkupParseContext *context, const char *const *path, guint n)
{
  const GSList *stack = g_markup_parse_context_get_element_stack(context);

  for (guint i = n; i-- > 0; stack = stack->next) {
    if (stack == NULL || strcmp(stack->data, path[i]) != 0)
      return FALSE;
  }
  return TRUE;
}

static const char *
attribute(const char **names, const char **values, const char *name)
{
  for (guint i = 0; names[i] != NULL; i++) {
    if (strcmp(names[i], name) == 0)
      return values[i];
  }
  return NULL;
}

static void
on_start(GMarkupParseContext *context, const char *element, const char **names, const char **values,
         gpointer data, GError **error)
{
  static const char *const guest_arch[] = { "guest", "arch" };
  static const char *const guest_domain[] = { "guest", "arch", "domain" };
  Collect *c = data;

  if (strcmp(element, "guest") == 0) {
    g_string_truncate(c->os_type, 0);
    g_ptr_array_set_size(c->guest_doms, 0);
  } else if (inside(context, guest_arch, G_N_ELEMENTS(guest_arch))) {
    g_free(c->guest_arch);
    c->guest_arch = g_strdup(attribute(names, values, "name"));
  } else if (inside(context, guest_domain, G_N_ELEMENTS(guest_domain))) {
    const char *type = attribute(names, values, "type");

    if (type != NULL && c->guest_arch != NULL)
      g_ptr_array_add(c->guest_doms, g_strdup_printf("%s %s", c->guest_arch, type));
  }
}

static void
on_end(GMarkupParseContext *context, const char *element, gpointer data, GError **error)
{
  Collect *c = data;

  if (strcmp(element, "guest") != 0 || strcmp(g_strstrip(c->os_type->str), "hvm") != 0)
    return;
  for (guint i = 0; i < c->guest_doms->len; i++)
    g_ptr_array_add(c->hvm, g_strdup(g_ptr_array_index(c->guest_doms, i)));
}

static void
on_text(GMarkupParseContext *context, const char *text, gsize len, gpointer data, GError **error)
{
  static const char *const host_arch[] = { "capabilities", "host", "cpu", "arch" };
  static const char *const os_type[] = { "guest", "os_type" };
  Collect *c = data;

  if (inside(context, host_arch, G_N_ELEMENTS(host_arch)))
    g_string_append_len(c->host_arch, text, (gssize)len);
  else if (inside(context, os_type, G_N_ELEMENTS(os_type)))
    g_string_append_len(c->os_type, text, (gssize)len);
}

static void
collect_clear(Collect *c)
{
  g_string_free(c->host_arch, TRUE);
  g_string_free(c->os_type, TRUE);
  g_free(c->guest_arch);
  g_ptr_array_unref(c->guest_doms);
  g_ptr_array_unref(c->hvm);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Collect, collect_clear)

/* A static copy of @s from @set, or NULL. */
static const char *
one_of(const char *const *set, guint n, const char *s)
{
  for (guint i = 0; i < n; i++) {
    if (strcmp(set[i], s) == 0)
      return set[i];
  }
  return NULL;
}

gboolean
pp_domain_caps_choose(const char *caps, gsize len, const char *want, PpDomainKind *ret_kind,
                      GError **error)
{
  /* The types @want allows, best first (types[]'s order). */
  static const char *const only_kvm[] = { "kvm" };
  static const char *const no_kvm[] = { "qemu", "test" };
  const char *const *allowed = types;
  guint n_allowed = G_N_ELEMENTS(types);
  static const GMarkupParser parser = { on_start, on_end, on_text, NULL, NULL };
  g_auto(Collect)
      c = { g_string_new(NULL), g_string_new(NULL), NULL, g_ptr_array_new_with_free_func(g_free),
            g_ptr_array_new_with_free_func(g_free) };
  g_autoptr(GMarkupParseContext) context = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GString) offered = g_string_new(NULL);
  const char *arch;

  g_return_val_if_fail(caps != NULL && ret_kind != NULL, FALSE);

  if (g_strcmp0(want, "kvm") == 0) {
    allowed = only_kvm;
    n_allowed = G_N_ELEMENTS(only_kvm);
  } else if (g_strcmp0(want, "qemu") == 0) {
    allowed = no_kvm;
    n_allowed = G_N_ELEMENTS(no_kvm);
  } else {
    g_return_val_if_fail(want == NULL || strcmp(want, "auto") == 0, FALSE);
  }

  if (len > PP_DOMAIN_CAPS_MAX_SIZE) {
    g_set_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_INVALID,
                "the capabilities of the host's libvirt are %" G_GSIZE_FORMAT
                " bytes, more than the %d pcipass reads",
                len, PP_DOMAIN_CAPS_MAX_SIZE);
    return FALSE;
  }
  context = g_markup_parse_context_new(&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &c, NULL);
  if (!g_markup_parse_context_parse(context, caps, (gssize)len, &local) ||
      !g_markup_parse_context_end_parse(context, &local)) {
    g_set_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_INVALID,
                "the capabilities of the host's libvirt do not read: %s", local->message);
    return FALSE;
  }
  g_strstrip(c.host_arch->str);
  if (c.host_arch->str[0] == '\0') {
    g_set_error_literal(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_INVALID,
                        "the capabilities of the host's libvirt name no host arch "
                        "(<host><cpu><arch>)");
    return FALSE;
  }
  arch = one_of(arches, G_N_ELEMENTS(arches), c.host_arch->str);
  if (arch == NULL) {
    g_set_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
                "the host's arch is %s; pcipass makes x86 domains (x86_64, i686) only",
                c.host_arch->str);
    return FALSE;
  }
  for (guint t = 0; t < n_allowed; t++) {
    g_autofree char *wanted = g_strdup_printf("%s %s", arch, allowed[t]);

    for (guint i = 0; i < c.hvm->len; i++) {
      if (strcmp(g_ptr_array_index(c.hvm, i), wanted) == 0) {
        ret_kind->type = allowed[t];
        ret_kind->arch = arch;
        return TRUE;
      }
    }
  }
  for (guint i = 0; i < c.hvm->len; i++) {
    const char *pair = g_ptr_array_index(c.hvm, i);

    if (g_str_has_prefix(pair, arch) && pair[strlen(arch)] == ' ')
      g_string_append_printf(offered, "%s%s", offered->len > 0 ? ", " : "",
                             pair + strlen(arch) + 1);
  }
  if (allowed == only_kvm)
    g_set_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
                "the host's libvirt offers no kvm for hvm guests of its arch %s (it offers %s), "
                "and domain-type is kvm: enable KVM there (its kernel module, /dev/kvm), or set "
                "domain-type to auto to run emulated",
                arch, offered->len > 0 ? offered->str : "none");
  else
    g_set_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
                "the host's libvirt offers %sqemu for hvm guests of its arch %s (it "
                "offers %s); install QEMU and libvirt's qemu driver there",
                allowed == no_kvm ? "no " : "neither kvm nor ", arch,
                offered->len > 0 ? offered->str : "none");
  return FALSE;
}
