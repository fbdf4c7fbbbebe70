/* pp-api-user: the handlers of /v1/whoami, /v1/users (users and their
 * quotas) and /v1/tokens. */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-domain-xml.h"
#include "pp-host-spec.h"
#include "pp-images.h"
#include "pp-output.h"
#include "pp-probe-run.h"
#include "pp-vm-template.h"

static json_t *
user_to_json(const PpUser *user)
{
  return json_pack("{s:I,s:o,s:b,s:I}", "id", (json_int_t)user->id, "name",
                   pp_json_text(user->name), "admin", user->admin, "created",
                   (json_int_t)user->created);
}

static json_t *
token_to_json(const PpToken *token, gint64 now)
{
  return json_pack("{s:I,s:o,s:o,s:I,s:o,s:o,s:b}", "id", (json_int_t)token->id, "user",
                   pp_json_text(token->user_name), "name", pp_json_text(token->name), "created",
                   (json_int_t)token->created, "last_used",
                   api_json_int_or_null(token->last_used, 0), "expires",
                   api_json_int_or_null(token->expires, 0), "expired",
                   token->expires != 0 && now >= token->expires);
}

/* How a quota's values read: counts as they are, CPU from hundredths to
 * CPUs, memory from KiB to MiB. */
typedef enum {
  QUOTA_COUNT,
  QUOTA_CPU,
  QUOTA_MEMORY,
} QuotaUnit;

/* A use or a limit as JSON: null for no limit. */
static json_t *
quota_value_json(gint64 value, QuotaUnit unit)
{
  if (value == PP_QUOTA_NONE)
    return json_null();
  switch (unit) {
  case QUOTA_CPU:
    return json_real((double)value / 100.0);
  case QUOTA_MEMORY:
    return json_integer(value / 1024);
  case QUOTA_COUNT:
  default:
    return json_integer(value);
  }
}

/* {"used": N, "limit": N|null}. */
static json_t *
quota_item_json(const PpQuotaItem *item, QuotaUnit unit)
{
  return json_pack("{s:o,s:o}", "used", quota_value_json(item->used, unit), "limit",
                   quota_value_json(item->limit, unit));
}

static json_t *
quota_to_json(const PpQuota *quota)
{
  json_t *classes = json_array();

  for (guint i = 0; i < quota->classes->len; i++) {
    const PpQuotaClass *c = &g_array_index(quota->classes, PpQuotaClass, i);
    char code[8];

    g_snprintf(code, sizeof(code), "%04x", c->class_code);
    pp_json_append(classes, json_pack("{s:s,s:I,s:o}", "class", code, "used", (json_int_t)c->used,
                                      "limit", quota_value_json(c->limit, QUOTA_COUNT)));
  }
  return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "vms", quota_item_json(&quota->vms, QUOTA_COUNT),
                   "cpu", quota_item_json(&quota->cpu, QUOTA_CPU), "memory_mib",
                   quota_item_json(&quota->memory_kib, QUOTA_MEMORY), "pci",
                   quota_item_json(&quota->pci, QUOTA_COUNT), "leases",
                   quota_item_json(&quota->leases, QUOTA_COUNT), "pci_classes", classes);
}

/* The handlers. */

json_t *
api_whoami(PpApiCall *call, guint *ret_status, GError **error)
{
  return api_built(user_to_json(call->user), error);
}

json_t *
api_user_list(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(GPtrArray) users = pp_store_user_list(call->ctx->store, error);
  g_autoptr(json_t) array = NULL;

  if (users == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < users->len; i++) {
    if (!pp_json_append(array, user_to_json(g_ptr_array_index(users, i))))
      return api_built(NULL, error);
  }
  return api_built(json_pack("{s:O}", "users", array), error);
}

json_t *
api_user_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "name", "admin", NULL };
  const char *name;
  gboolean admin;
  g_autoptr(PpUser) user = NULL;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "name", 64, TRUE, &name, error) ||
      !api_get_bool(call->body, "admin", TRUE, &admin, error))
    return NULL;
  user = pp_store_user_create(call->ctx->store, name, admin, call->now, error);
  if (user == NULL)
    return NULL;
  g_message("user '%s'%s created by '%s'", user->name, admin ? " (admin)" : "", call->user->name);
  *ret_status = 201;
  return api_built(user_to_json(user), error);
}

/* The user of the path, by name, if the caller may see it: an admin sees
 * every user, another user only itself (others are 404, as if they did
 * not exist). */
static PpUser *
find_user(PpApiCall *call, GError **error)
{
  const char *name = call->args[0];

  if (!call->user->admin && strcmp(name, call->user->name) != 0) {
    g_autofree char *escaped = g_strescape(name, NULL);

    if (strlen(escaped) > 64)
      escaped[64] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no user '%s'", escaped);
    return NULL;
  }
  return pp_store_user_find(call->ctx->store, name, error);
}

/* USER with "quota": its limits and what its VMs that are not done hold. */
static json_t *
user_with_quota(PpApiCall *call, const PpUser *user, const PpQuota *given, GError **error)
{
  g_autoptr(PpQuota) read = NULL;
  const PpQuota *quota = given;
  json_t *json;

  if (quota == NULL) {
    read = pp_store_user_get_quota(call->ctx->store, user->id, error);
    if (read == NULL)
      return NULL;
    quota = read;
  }
  json = api_built(user_to_json(user), error);
  if (json != NULL && json_object_set_new(json, "quota", quota_to_json(quota)) != 0) {
    json_decref(json);
    return api_built(NULL, error);
  }
  return json;
}

json_t *
api_user_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpUser) user = find_user(call, error);

  if (user == NULL)
    return NULL;
  return user_with_quota(call, user, NULL, error);
}

json_t *
api_user_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpUser) user = find_user(call, error);
  guint vms = 0, tokens = 0;

  if (user == NULL)
    return NULL;
  /* Who deletes users keeps a way in. */
  if (user->id == call->user->id) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "'%s' is you: a user cannot delete itself; another admin can", user->name);
    return NULL;
  }
  if (!pp_store_user_delete(call->ctx->store, user->id, &vms, &tokens, error))
    return NULL;
  g_message("user '%s' (id %" G_GINT64_FORMAT ") deleted by '%s', with %u token%s and %u done VM%s",
            user->name, user->id, call->user->name, tokens, tokens == 1 ? "" : "s", vms,
            vms == 1 ? "" : "s");
  return api_built(json_pack("{s:I,s:i,s:i}", "deleted", (json_int_t)user->id, "tokens",
                             (int)tokens, "done_vms", (int)vms),
                   error);
}

/* A limit of a quota body: absent (FALSE in *ret_set), null (none), or an
 * integer of 0..@max; a number with at most two decimals when @hundredths
 * (CPU: *ret is then in hundredths). */
static gboolean
get_limit(const json_t *body, const char *field, gint64 max, gboolean hundredths, gboolean *ret_set,
          gint64 *ret, GError **error)
{
  json_t *value = json_object_get(body, field);

  *ret_set = value != NULL;
  *ret = PP_QUOTA_NONE;
  if (value == NULL || json_is_null(value))
    return TRUE;
  if (json_is_integer(value) && json_integer_value(value) >= 0 &&
      json_integer_value(value) <= max) {
    *ret = (gint64)json_integer_value(value) * (hundredths ? 100 : 1);
    return TRUE;
  }
  /* 2.5 is 250 hundredths; 0.125 is no number of hundredths. */
  if (hundredths && json_is_real(value) && json_real_value(value) >= 0 &&
      json_real_value(value) <= (double)max) {
    double scaled = json_real_value(value) * 100.0;
    gint64 rounded = (gint64)(scaled + 0.5);
    double off = scaled - (double)rounded;

    if (off < 1e-6 && off > -1e-6) {
      *ret = rounded;
      return TRUE;
    }
  }
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
              "field '%s' must be null (no limit) or %s of 0 to %" G_GINT64_FORMAT, field,
              hundredths ? "a number with at most two decimals" : "an integer", max);
  return FALSE;
}

/* PATCH /v1/users/NAME/quota: {"vms", "cpu", "memory_mib", "pci", "leases": N or
 * null, "pci_classes": {"0302": N or null}}; a field left out keeps its
 * limit, null removes it. All is checked before anything changes. */
json_t *
api_user_quota(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "vms",    "cpu",         "memory_mib", "pci",
                                        "leases", "pci_classes", NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpQuota) quota = NULL;
  g_autoptr(GArray) classes = g_array_new(FALSE, TRUE, sizeof(PpQuotaClass));
  const json_t *by_class = json_object_get(call->body, "pci_classes");
  PpQuotaUpdate update = { 0 };
  gboolean set;
  const char *key;
  json_t *value;

  if (!api_check_fields(call->body, fields, error))
    return NULL;
  if (json_object_size(call->body) == 0) {
    g_autofree char *list = g_strjoinv(", ", (char **)fields);

    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "nothing to change: the body names no field (known: %s)", list);
    return NULL;
  }
  if (!get_limit(call->body, "vms", PP_QUOTA_MAX_VMS, FALSE, &update.set_vms, &update.vms, error) ||
      !get_limit(call->body, "cpu", PP_QUOTA_MAX_CPU / 100, TRUE, &update.set_cpu, &update.cpu,
                 error) ||
      !get_limit(call->body, "memory_mib", PP_QUOTA_MAX_MEMORY_KIB / 1024, FALSE,
                 &update.set_memory, &update.memory_kib, error) ||
      !get_limit(call->body, "pci", PP_QUOTA_MAX_PCI, FALSE, &update.set_pci, &update.pci, error) ||
      !get_limit(call->body, "leases", PP_QUOTA_MAX_LEASES, FALSE, &update.set_leases,
                 &update.leases, error))
    return NULL;
  if (update.memory_kib != PP_QUOTA_NONE)
    update.memory_kib *= 1024;
  if (by_class != NULL &&
      (!json_is_object(by_class) || json_object_size(by_class) > PP_QUOTA_MAX_CLASSES)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field 'pci_classes' must be an object of at most %d classes: {\"0302\": 2, "
                "\"0200\": null}",
                PP_QUOTA_MAX_CLASSES);
    return NULL;
  }
  json_object_foreach((json_t *)by_class, key, value)
  {
    PpQuotaClass c = { 0 };
    g_autoptr(json_t) one = json_pack("{s:O}", "class", value);
    guint64 code;

    if (strlen(key) != 4 || strspn(key, "0123456789abcdefABCDEF") != 4 ||
        !g_ascii_string_to_unsigned(key, 16, 0, 0xffff, &code, NULL)) {
      g_autofree char *escaped = g_strescape(key, NULL);

      if (strlen(escaped) > 16)
        escaped[16] = '\0';
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "field 'pci_classes': '%s' is not a PCI class and subclass (4 hex digits, as "
                  "a request's CLASS: 0302)",
                  escaped);
      return NULL;
    }
    if (!get_limit(one, "class", PP_QUOTA_MAX_PCI, FALSE, &set, &c.limit, error)) {
      g_prefix_error(error, "field 'pci_classes': %s: ", key);
      return NULL;
    }
    c.class_code = (guint16)code;
    g_array_append_val(classes, c);
  }
  update.classes = (const PpQuotaClass *)(void *)classes->data;
  update.n_classes = classes->len;
  user = find_user(call, error);
  if (user == NULL)
    return NULL;
  quota = pp_store_user_set_quota(call->ctx->store, user->id, &update, error);
  if (quota == NULL)
    return NULL;
  {
    g_autofree char *body = json_dumps(call->body, JSON_COMPACT | JSON_SORT_KEYS);

    g_message("user '%s': quotas %s set by '%s'", user->name, body ? body : "", call->user->name);
  }
  return user_with_quota(call, user, quota, error);
}

json_t *
api_token_list(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(GPtrArray) tokens =
      pp_store_token_list(call->ctx->store, call->user->admin ? 0 : call->user->id, error);
  g_autoptr(json_t) array = NULL;

  if (tokens == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < tokens->len; i++) {
    if (!pp_json_append(array, token_to_json(g_ptr_array_index(tokens, i), call->now)))
      return api_built(NULL, error);
  }
  return api_built(json_pack("{s:O}", "tokens", array), error);
}

json_t *
api_token_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "name", "user", "expires_in", NULL };
  const json_t *life = json_object_get(call->body, "expires_in");
  gint64 expires = 0;
  const char *label, *user_name;
  g_autoptr(PpUser) other = NULL;
  g_autoptr(PpToken) token = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *secret = NULL;
  const PpUser *owner = call->user;
  json_t *json;

  if (!api_check_fields(call->body, fields, error) ||
      !api_get_string(call->body, "name", MAX_LABEL_LEN, FALSE, &label, error) ||
      !api_get_string(call->body, "user", 64, FALSE, &user_name, error))
    return NULL;
  if (life != NULL && !json_is_null(life)) {
    if (!json_is_integer(life) || json_integer_value(life) < PP_AUTH_TOKEN_MIN_LIFE ||
        json_integer_value(life) > PP_AUTH_TOKEN_MAX_LIFE) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "field 'expires_in' must be null (never) or %d to %d seconds (1 minute to %d "
                  "days)",
                  PP_AUTH_TOKEN_MIN_LIFE, PP_AUTH_TOKEN_MAX_LIFE, PP_AUTH_TOKEN_MAX_LIFE / 86400);
      return NULL;
    }
    expires = call->now + (gint64)json_integer_value(life);
  }
  if (user_name != NULL && strcmp(user_name, call->user->name) != 0) {
    if (!call->user->admin) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                  "only an admin makes tokens for another user ('%s')", user_name);
      return NULL;
    }
    other = pp_store_user_find(call->ctx->store, user_name, error);
    if (other == NULL)
      return NULL;
    owner = other;
  }
  /* A token that expires makes none that outlives it: a stolen one would
   * otherwise buy a token for ever. */
  if (call->user->token_expires != 0 && (expires == 0 || expires > call->user->token_expires)) {
    g_message("token of '%s' made by an expiring token: it expires with it", owner->name);
    expires = call->user->token_expires;
  }
  secret = pp_auth_token_new(&hash);
  token =
      pp_store_token_create(call->ctx->store, owner->id, label, hash, call->now, expires, error);
  if (token == NULL)
    return NULL;
  g_message("token %" G_GINT64_FORMAT " of '%s' created by '%s'", token->id, owner->name,
            call->user->name);
  json = api_built(token_to_json(token, call->now), error);
  if (json != NULL)
    json_object_set_new(json, "token", json_string(secret));
  explicit_bzero(secret, strlen(secret));
  *ret_status = 201;
  return json;
}

/* DELETE /v1/tokens/ID: the caller's own token, or any for an admin;
 * another's is 404, as if it did not exist. */
json_t *
api_token_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  guint64 id;

  if (!g_ascii_string_to_unsigned(call->args[0], 10, 1, G_MAXINT64, &id, NULL)) {
    g_autofree char *escaped = g_strescape(call->args[0], NULL);

    if (strlen(escaped) > 32)
      escaped[32] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no token '%s': a token is named by its id (pcipass token list)", escaped);
    return NULL;
  }
  if (!pp_store_token_delete(call->ctx->store, (gint64)id, call->user->admin ? 0 : call->user->id,
                             error))
    return NULL;
  g_message("token %" G_GINT64_FORMAT " deleted by '%s'", (gint64)id, call->user->name);
  return api_built(json_pack("{s:I}", "deleted", (json_int_t)id), error);
}
