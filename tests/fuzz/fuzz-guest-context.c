/* libFuzzer target: pcipass-context's reading of context.sh. Every input
 * parses or fails with its line and column; what parses is within the
 * bounds, written again single-quoted (as pcipassd writes it) it reads
 * back the same, and its plan holds together. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-guest-context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* NAME='value', a quote written '\'' (pp_context_quote's form, which
 * refuses control characters; the parser takes a newline in quotes). */
static void
append_quoted(GString *out, const char *name, const char *value)
{
  g_string_append_printf(out, "%s='", name);
  for (const char *p = value; *p != '\0'; p++) {
    if (*p == '\'')
      g_string_append(out, "'\\''");
    else
      g_string_append_c(out, *p);
  }
  g_string_append(out, "'\n");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpGuestContext) ctx = NULL;
  g_autoptr(PpGuestContext) again = NULL;
  g_autoptr(PpGuestPlan) plan = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = NULL;
  g_autofree char *resolv = NULL;
  guint line = 0, column = 0;

  ctx = pp_guest_context_parse((const char *)data, size, &error);
  if (ctx == NULL) {
    if (error == NULL || sscanf(error->message, "%u:%u: ", &line, &column) != 2 || line == 0 ||
        column == 0)
      abort();
    return 0;
  }
  if (ctx->names->len > PP_GUEST_CONTEXT_MAX_VARS ||
      ctx->names->len != g_hash_table_size(ctx->values))
    abort();
  text = g_string_new(NULL);
  for (guint i = 0; i < ctx->names->len; i++) {
    const char *name = g_ptr_array_index(ctx->names, i);
    const char *value = pp_guest_context_get(ctx, name);

    if (value == NULL || strlen(value) > PP_GUEST_CONTEXT_MAX_VALUE)
      abort();
    append_quoted(text, name, value);
  }
  again = pp_guest_context_parse(text->str, text->len, &error);
  if (again == NULL) {
    /* Only the quoting's growth may pass the size bound. */
    if (text->len <= PP_GUEST_CONTEXT_MAX_SIZE) {
      fprintf(stderr, "written again, it does not parse: %s\n%s", error->message, text->str);
      abort();
    }
    return 0;
  }
  if (again->names->len != ctx->names->len)
    abort();
  for (guint i = 0; i < ctx->names->len; i++) {
    const char *name = g_ptr_array_index(ctx->names, i);

    if (strcmp(name, g_ptr_array_index(again->names, i)) != 0 ||
        strcmp(pp_guest_context_get(ctx, name), pp_guest_context_get(again, name)) != 0)
      abort();
  }
  plan = pp_guest_plan_new(ctx);
  for (guint i = 0; i < plan->nics->len; i++) {
    const PpGuestNic *nic = g_ptr_array_index(plan->nics, i);

    /* A NIC without an error can be found, and its values are in range. */
    if (nic->label == NULL || !g_str_has_prefix(nic->label, nic->name))
      abort();
    if (nic->error == NULL &&
        ((!nic->has_mac && nic->pci_address == NULL) || nic->vlan_id > 4094 ||
         (nic->mtu != 0 && nic->mtu < 68) || (nic->ip4.family != 0 && nic->ip4.prefix > 32) ||
         (nic->ip6.family != 0 && (nic->ip6.prefix < 1 || nic->ip6.prefix > 128))))
      abort();
    if (nic->error != NULL && !g_str_has_prefix(nic->error, nic->label))
      abort();
  }
  resolv = pp_guest_plan_resolv_conf(plan);
  if (resolv != NULL && (strchr(resolv, '\'') != NULL || plan->dns_error != NULL))
    abort();
  return 0;
}
