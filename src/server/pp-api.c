/* pp-api: the HTTP API's core: the routes and their admission (who
 * may call what), errors as statuses, the JSON helpers, the caller's sight,
 * the paged lists' query helpers, and /metrics. The handlers live in
 * pp-api-*.c, one file per resource. */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-context.h"
#include "pp-domain-xml.h"
#include "pp-host-spec.h"
#include "pp-images.h"
#include "pp-network.h"
#include "pp-output.h"
#include "pp-probe-run.h"
#include "pp-template.h"
#include "pp-vm-template.h"
#include "pp-web-resources.h"

/* clang-format off */
G_DEFINE_QUARK(pp-api-error-quark, pp_api_error)
/* clang-format on */

enum {
  ROUTE_ADMIN = 1 << 0,    /* only an admin may call it */
  ROUTE_BODY = 1 << 1,     /* takes a JSON object body (may be empty: {}) */
  ROUTE_RAW = 1 << 2,      /* takes a body that is not JSON, of at most PP_API_MAX_REPORT bytes */
  ROUTE_HOST = 1 << 3,     /* a host's report token may call it, for the host its '*' names */
  ROUTE_LOGIN = 1 << 4,    /* no credentials: it takes its own, in the body (POST /v1/session) */
  ROUTE_STREAM = 1 << 5,   /* answers with a stream (GET /v1/events): its handler is NULL */
  ROUTE_OWN_READ = 1 << 6, /* a GET whose handler has the scheduler read the store: no read
                            * transaction around it (the scheduler's catch-up writes none,
                            * but begins its own) */
};

/* The routes.
 *   method   the HTTP method
 *   path     segments; '*' matches one segment, given to the handler in args
 *   handler  what answers
 *   flags    ROUTE_ADMIN, ROUTE_BODY, ROUTE_RAW, ROUTE_HOST, ROUTE_LOGIN
 */
static const struct {
  const char *method;
  const char *path;
  PpApiHandler handler;
  guint flags;
} routes[] = {
  { "GET", "/v1/whoami", api_whoami, 0 },
  { "GET", "/v1/status", api_status, 0 },
  { "POST", "/v1/session", api_session_create, ROUTE_BODY | ROUTE_LOGIN },
  { "GET", "/v1/session", api_session_show, 0 },
  { "DELETE", "/v1/session", api_session_delete, 0 },
  { "GET", "/v1/events", NULL, ROUTE_STREAM },
  { "GET", "/v1/hosts", api_host_list, 0 },
  { "POST", "/v1/hosts", api_host_create, ROUTE_ADMIN | ROUTE_BODY },
  { "GET", "/v1/hosts/*", api_host_show, 0 },
  { "GET", "/v1/pci/types", api_pci_types, ROUTE_OWN_READ },
  { "DELETE", "/v1/hosts/*", api_host_delete, ROUTE_ADMIN },
  { "PATCH", "/v1/hosts/*", api_host_update, ROUTE_ADMIN | ROUTE_BODY },
  { "POST", "/v1/hosts/*/enable", api_host_enable, ROUTE_ADMIN },
  { "POST", "/v1/hosts/*/disable", api_host_disable, ROUTE_ADMIN },
  { "POST", "/v1/hosts/*/probe", api_host_probe, ROUTE_ADMIN },
  { "POST", "/v1/hosts/*/report", api_host_report, ROUTE_ADMIN | ROUTE_RAW | ROUTE_HOST },
  { "POST", "/v1/hosts/*/token", api_host_token_create, ROUTE_ADMIN },
  { "DELETE", "/v1/hosts/*/token", api_host_token_delete, ROUTE_ADMIN },
  { "GET", "/v1/users", api_user_list, ROUTE_ADMIN },
  { "POST", "/v1/users", api_user_create, ROUTE_ADMIN | ROUTE_BODY },
  { "GET", "/v1/users/*", api_user_show, 0 },
  { "DELETE", "/v1/users/*", api_user_delete, ROUTE_ADMIN },
  { "PATCH", "/v1/users/*/quota", api_user_quota, ROUTE_ADMIN | ROUTE_BODY },
  { "GET", "/v1/tokens", api_token_list, 0 },
  { "POST", "/v1/tokens", api_token_create, ROUTE_BODY },
  { "DELETE", "/v1/tokens/*", api_token_delete, 0 },
  { "GET", "/v1/vms", api_vm_list, 0 },
  { "POST", "/v1/vms", api_vm_create, ROUTE_BODY },
  { "POST", "/v1/vms/place", api_vm_place, ROUTE_BODY },
  { "GET", "/v1/vms/*", api_vm_show, 0 },
  { "GET", "/v1/vms/*/context", api_vm_context, 0 },
  { "POST", "/v1/vms/*/terminate", api_vm_terminate, 0 },
  { "POST", "/v1/vms/*/poweroff", api_vm_poweroff, 0 },
  { "POST", "/v1/vms/*/resume", api_vm_resume, 0 },
  { "POST", "/v1/vms/*/retry", api_vm_retry, 0 },
  { "GET", "/v1/images", api_image_list, 0 },
  { "GET", "/v1/networks", api_net_list, 0 },
  { "POST", "/v1/networks", api_net_create, ROUTE_BODY },
  { "GET", "/v1/networks/*", api_net_show, 0 },
  { "PUT", "/v1/networks/*", api_net_update, ROUTE_BODY },
  { "DELETE", "/v1/networks/*", api_net_delete, 0 },
  { "POST", "/v1/networks/*/hold", api_net_hold, ROUTE_BODY },
  { "POST", "/v1/networks/*/release", api_net_release, ROUTE_BODY },
};

/* How errors become HTTP statuses (STYLE rule 18).
 *   domain, code  the GError; code -1 matches any code of the domain
 *   status        the HTTP status
 */
static const struct {
  GQuark (*domain)(void);
  int code;
  guint status;
} error_statuses[] = {
  { pp_api_error_quark, PP_API_ERROR_BAD_REQUEST, 400 },
  { pp_api_error_quark, PP_API_ERROR_FORBIDDEN, 403 },
  { pp_api_error_quark, PP_API_ERROR_NOT_FOUND, 404 },
  { pp_api_error_quark, PP_API_ERROR_METHOD, 405 },
  { pp_api_error_quark, PP_API_ERROR_UNAVAILABLE, 503 },
  { pp_events_error_quark, PP_EVENTS_ERROR_FULL, 503 },
  { pp_events_error_quark, PP_EVENTS_ERROR_USER_FULL, 429 },
  { pp_auth_error_quark, PP_AUTH_ERROR_UNAUTHENTICATED, 401 },
  { pp_store_error_quark, PP_STORE_ERROR_NOT_FOUND, 404 },
  { pp_store_error_quark, PP_STORE_ERROR_EXPIRED, 401 },
  { pp_store_error_quark, PP_STORE_ERROR_CONFLICT, 409 },
  { pp_store_error_quark, PP_STORE_ERROR_INVALID, 400 },
  { pp_store_error_quark, PP_STORE_ERROR_BUSY, 503 },
  { pp_store_error_quark, PP_STORE_ERROR_NO_ADDRESS, 409 },
  { pp_network_error_quark, -1, 400 },
  { pp_probe_run_error_quark, PP_PROBE_RUN_ERROR_INVALID, 400 },
  { pp_vm_template_error_quark, -1, 400 },
  { pp_images_error_quark, PP_IMAGES_ERROR_NOT_FOUND, 400 },
  { pp_images_error_quark, PP_IMAGES_ERROR_INVALID, 400 },
  { pp_scheduler_error_quark, PP_SCHEDULER_ERROR_STATE, 409 },
  { pp_probe_report_error_quark, PP_PROBE_REPORT_ERROR_INVALID, 400 },
  { pp_probe_report_error_quark, PP_PROBE_REPORT_ERROR_TOO_BIG, 413 },
  /* A pushed report's syntax (a VM template's is its own error's). */
  { pp_template_error_quark, PP_TEMPLATE_ERROR_INVALID, 400 },
  { pp_template_error_quark, PP_TEMPLATE_ERROR_TOO_LARGE, 413 },
  /* A context substitution that cannot be resolved yet (a NIC without a
   * lease): the VM's state, not the request. */
  { pp_context_error_quark, PP_CONTEXT_ERROR_INVALID, 409 },
};

static guint
error_status(const GError *error)
{
  for (guint i = 0; i < G_N_ELEMENTS(error_statuses); i++) {
    if (error->domain == error_statuses[i].domain() &&
        (error_statuses[i].code < 0 || error->code == error_statuses[i].code))
      return error_statuses[i].status;
  }
  return 500;
}

static GBytes *
json_bytes(json_t *json)
{
  char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

  char *copy;
  gsize len;

  if (text == NULL) {
    static const char failed[] = "{\"error\": {\"code\": 500, \"message\": \"out of memory\"}}\n";

    return g_bytes_new_static(failed, sizeof(failed) - 1);
  }
  copy = g_strconcat(text, "\n", NULL);
  len = strlen(copy);
  free(text);
  return g_bytes_new_take(copy, len);
}

/* {"error": {"code": N, "message": ..., FIELDS...}}; @fields nullable. */
static GBytes *
error_bytes(guint status, const char *message, const json_t *fields)
{
  g_autoptr(json_t) json =
      json_pack("{s:{s:i,s:o}}", "error", "code", (int)status, "message", pp_json_text(message));

  if (json != NULL && fields != NULL)
    json_object_update_missing(json_object_get(json, "error"), (json_t *)fields);
  return json_bytes(json);
}

/* Field checks for bodies. */

gboolean
api_check_fields(const json_t *body, const char *const *allowed, GError **error)
{
  const char *key;
  json_t *value;

  json_object_foreach((json_t *)body, key, value)
  {
    if (!g_strv_contains(allowed, key)) {
      g_autofree char *list = g_strjoinv(", ", (char **)allowed);

      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "unknown field '%s' (known: %s)",
                  key, list);
      return FALSE;
    }
  }
  return TRUE;
}

/* A string field, or NULL when absent or null. FALSE with an error for
 * another type, an empty string, or one longer than @max. */
gboolean
api_get_string(const json_t *body, const char *field, gsize max, gboolean required,
               const char **ret, GError **error)
{
  json_t *value = json_object_get(body, field);

  *ret = NULL;
  if (value == NULL || json_is_null(value)) {
    if (required) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "field '%s' is required", field);
      return FALSE;
    }
    return TRUE;
  }
  if (!json_is_string(value)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "field '%s' must be a string",
                field);
    return FALSE;
  }
  if (json_string_length(value) == 0 || json_string_length(value) > max ||
      strlen(json_string_value(value)) != json_string_length(value)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field '%s' must be 1 to %" G_GSIZE_FORMAT " bytes, without NUL", field, max);
    return FALSE;
  }
  *ret = json_string_value(value);
  return TRUE;
}

/* A boolean field, FALSE when absent, or null where @nullable. FALSE with
 * an error for another type. */
gboolean
api_get_bool(const json_t *body, const char *field, gboolean nullable, gboolean *ret,
             GError **error)
{
  json_t *value = json_object_get(body, field);

  *ret = FALSE;
  if (value == NULL || (nullable && json_is_null(value)))
    return TRUE;
  if (!json_is_boolean(value)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "field '%s' must be true or false",
                field);
    return FALSE;
  }
  *ret = json_is_true(value);
  return TRUE;
}

/* JSON of the store's objects. */

json_t *
api_json_int_or_null(gint64 value, gint64 none)
{
  return value == none ? json_null() : json_integer(value);
}

json_t *
api_json_strv(const char *const *strv)
{
  json_t *array;

  if (strv == NULL)
    return json_null();
  array = json_array();
  for (guint i = 0; strv[i] != NULL; i++)
    json_array_append_new(array, pp_json_text(strv[i]));
  return array;
}

void
api_sight_clear(Sight *sight)
{
  g_clear_pointer(&sight->shown, g_hash_table_unref);
  g_clear_pointer(&sight->uris, g_hash_table_unref);
}

/* The caller's sight; @with_uris: what hides the hosts' libvirt URIs in
 * texts that may hold them (a VM's reasons) is needed too. Reads nothing
 * now: what it needs is read when it is asked (api_sight_shows_vm(),
 * api_sight_text()). */
gboolean
api_sight_init(const PpApiCall *call, gboolean with_uris, Sight *ret, GError **error)
{
  ret->admin = call->user->admin;
  if (ret->admin)
    return TRUE;
  ret->store = call->ctx->store;
  ret->user_id = call->user->id;
  ret->hide_uris = with_uris;
  ret->shown = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  ret->uris = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return TRUE;
}

/* Whether the caller may read @vm_id: an admin any, a user its own that
 * are not done. A store that fails hides it. */
gboolean
api_sight_shows_vm(gint64 vm_id, gpointer data)
{
  const Sight *sight = data;
  g_autoptr(GError) error = NULL;
  gboolean owned = FALSE;
  gpointer known;
  gint64 *key;

  if (sight->admin)
    return TRUE;
  known = g_hash_table_lookup(sight->shown, &vm_id);
  if (known != NULL)
    return GPOINTER_TO_INT(known) - 1;
  if (!pp_store_vm_is_owned(sight->store, vm_id, sight->user_id, &owned, &error)) {
    g_debug("VM %" G_GINT64_FORMAT ": %s, hiding it", vm_id, error->message);
    return FALSE;
  }
  key = g_new(gint64, 1);
  *key = vm_id;
  g_hash_table_insert(sight->shown, key, GINT_TO_POINTER(1 + owned));
  return owned;
}

/* Returns: (transfer none): the libvirt URI of the host named @name, ""
 * when there is none (read once per request). */
static const char *
sight_host_uri(const Sight *sight, const char *name)
{
  g_autoptr(PpHost) host = NULL;
  const char *known = g_hash_table_lookup(sight->uris, name);
  char *uri;

  if (known != NULL)
    return known;
  host = pp_store_host_find(sight->store, name, NULL);
  uri = host != NULL && strcmp(host->name, name) == 0 ? pp_scheduler_host_uri(host) : g_strdup("");
  g_hash_table_insert(sight->uris, g_strdup(name), uri);
  return uri;
}

/* Replaces in @out whatever reads as a URI, SCHEME://REST (to a space, a
 * quote or an angle bracket), with what stands for one: the words of
 * libvirt or ssh may hold a host's URI in another spelling than ours. */
static void
hide_any_uri(GString *out)
{
  static const char hidden[] = "(a libvirt URI)";
  gsize at = 0;

  for (;;) {
    const char *found = strstr(out->str + at, "://");
    gsize colon, start, end;

    if (found == NULL)
      return;
    colon = (gsize)(found - out->str);
    start = colon;
    while (start > 0 && (g_ascii_isalnum(out->str[start - 1]) || out->str[start - 1] == '+' ||
                         out->str[start - 1] == '.' || out->str[start - 1] == '-'))
      start--;
    end = colon + 3;
    while (end < out->len && !g_ascii_isspace(out->str[end]) &&
           strchr("'\"<>", out->str[end]) == NULL)
      end++;
    if (start == colon || !g_ascii_isalpha(out->str[start])) {
      at = colon + 3;
      continue;
    }
    g_string_erase(out, (gssize)start, (gssize)(end - start));
    g_string_insert(out, (gssize)start, hidden);
    at = start + sizeof(hidden) - 1;
  }
}

/* @text (nullable) as the caller may read it: for a user, the libvirt URI
 * of each host it names ("host 'NAME'", as the scheduler's reasons do)
 * named, not shown; any other URI hidden too.
 * Returns: (transfer full) (nullable). */
char *
api_sight_text(const Sight *sight, const char *text)
{
  g_autoptr(GString) out = NULL;
  const char *p = text;

  if (text == NULL || sight->admin || !sight->hide_uris)
    return g_strdup(text);
  out = g_string_new(text);
  for (guint n = 0; n < SIGHT_HOSTS_MAX && (p = strstr(p, "host '")) != NULL; n++) {
    gsize len;

    p += strlen("host '");
    len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");
    if (len > 0 && len <= 64 && p[len] == '\'') {
      g_autofree char *name = g_strndup(p, len);
      const char *uri = sight_host_uri(sight, name);

      if (uri[0] != '\0') {
        g_autofree char *named = g_strdup_printf("(host '%s''s libvirt URI)", name);

        g_string_replace(out, uri, named, 0);
      }
    }
  }
  hide_any_uri(out);
  return g_string_free(g_steal_pointer(&out), FALSE);
}

/* A placer's reason as the caller may read it. Returns: (transfer full). */
char *
api_sight_reason(const Sight *sight, const char *reason)
{
  g_autofree char *text = api_sight_text(sight, reason);

  if (sight->admin)
    return g_steal_pointer(&text);
  return pp_place_reason_hide_holders(text, api_sight_shows_vm, (gpointer)sight);
}

/* The sight of the handlers of ROUTE_ADMIN routes. */
const Sight admin_sight = { .admin = TRUE };

/* A builder that gave NULL ran out of memory or met a bad value. */
json_t *
api_built(json_t *json, GError **error)
{
  if (json == NULL)
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FAILED, "cannot build the JSON answer");
  return json;
}

/* Paged lists (issue 11): GET /v1/vms and /v1/hosts take "limit" (a page's
 * rows, 1..PP_STORE_PAGE_MAX, LIST_LIMIT_DEFAULT when not given), "after"
 * (the cursor: the "next" of the page before) and filters, and answer
 * {"vms"|"hosts": [...], "next": ID|null}. A parameter the route does not
 * take, one given twice or without a value, or a bad value is 400, naming
 * the parameter, the value and what it takes. */

#define LIST_LIMIT_DEFAULT 100
/* The longest value of "state" (every VM state, with commas, is 64). */
#define LIST_STATE_MAX 256

/* Checks the query's parameters against @allowed (NULL-terminated) for
 * @route ("GET /v1/vms"). */
/* GET /v1/status: this pcipassd, its store, and who leads it (pcipassd
 * --status asks this). */
json_t *
api_status(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { NULL };
  const PpApiContext *ctx = call->ctx;
  gboolean leading = ctx->leader == NULL || pp_leader_is_leading(ctx->leader);
  g_autofree char *leader = NULL;
  gint64 since = 0;

  if (!api_check_query(call, "GET /v1/status", takes, error))
    return NULL;
  /* A store that cannot be asked (its connection lost) leaves who leads
   * unknown: this pcipassd still says what it is. */
  if (!pp_store_get_leader(ctx->store, &leader, &since, NULL)) {
    g_clear_pointer(&leader, g_free);
    since = 0;
  }
  if (leading && ctx->leader != NULL) {
    g_free(leader);
    leader = g_strdup(pp_leader_get_name(ctx->leader));
    since = pp_leader_get_since(ctx->leader);
  }
  return api_built(
      json_pack("{s:s, s:s?, s:b, s:s?, s:I, s:s, s:s, s:i, s:I}", "version", PACKAGE_VERSION,
                "name", ctx->leader != NULL ? pp_leader_get_name(ctx->leader) : NULL, "leader",
                leading, "leader_name", leader, "leader_since", (json_int_t)since, "store",
                pp_store_backend_to_string(pp_store_get_backend(ctx->store)), "store_id",
                pp_store_get_id(ctx->store), "schema", pp_store_get_schema_version(ctx->store),
                "started", (json_int_t)ctx->started),
      error);
}

gboolean
api_need_leader(const PpApiCall *call, const char *what, GError **error)
{
  g_autofree char *name = NULL;
  gint64 since = 0;

  if (call->ctx->leader == NULL || pp_leader_is_leading(call->ctx->leader))
    return TRUE;
  if (!pp_store_get_leader(call->ctx->store, &name, &since, NULL))
    g_clear_pointer(&name, g_free);
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_UNAVAILABLE,
              "this pcipassd ('%s') stands by: %s runs on the leader%s%s%s; ask it, or ask again "
              "here (a standby leads within seconds of the leader's end)",
              pp_leader_get_name(call->ctx->leader), what, name != NULL ? ", '" : "",
              name != NULL ? name : "", name != NULL ? "'" : "");
  return FALSE;
}

gboolean
api_check_query(const PpApiCall *call, const char *route, const char *const *allowed,
                GError **error)
{
  g_auto(GStrv) names = pp_http_request_list_query(call->req);
  guint n = g_strv_length(names);

  if (n > PP_HTTP_QUERY_MAX) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "%s takes at most %d query parameters", route, PP_HTTP_QUERY_MAX);
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (!g_strv_contains(allowed, names[i])) {
      g_autofree char *takes = g_strjoinv(", ", (char **)allowed);

      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "unknown query parameter '%.64s': %s takes %s", names[i], route,
                  allowed[0] != NULL ? takes : "none");
      return FALSE;
    }
    for (guint j = 0; j < i; j++) {
      if (strcmp(names[i], names[j]) == 0) {
        g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                    "query parameter '%s' is given twice: give it once", names[i]);
        return FALSE;
      }
    }
    if (pp_http_request_get_query(call->req, names[i]) == NULL) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "query parameter '%s' has no value: give '%s=VALUE'", names[i], names[i]);
      return FALSE;
    }
  }
  return TRUE;
}

/* "limit" and "after" into @page. */
gboolean
api_query_page(const PpApiCall *call, PpStorePage *page, GError **error)
{
  const char *limit = pp_http_request_get_query(call->req, "limit");
  const char *after = pp_http_request_get_query(call->req, "after");
  guint64 n = LIST_LIMIT_DEFAULT;
  guint64 cursor = 0;

  if (limit != NULL && !g_ascii_string_to_unsigned(limit, 10, 1, PP_STORE_PAGE_MAX, &n, NULL)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "query 'limit': '%.64s' is not a page size: give a whole number from 1 to %d "
                "(the default is %d)",
                limit, PP_STORE_PAGE_MAX, LIST_LIMIT_DEFAULT);
    return FALSE;
  }
  if (after != NULL && !g_ascii_string_to_unsigned(after, 10, 0, G_MAXINT64, &cursor, NULL)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "query 'after': '%.64s' is not a cursor: give the 'next' of the page before "
                "(an id, 0 or more), or leave it out for the first page",
                after);
    return FALSE;
  }
  page->limit = (guint)n;
  page->after = (gint64)cursor;
  return TRUE;
}

gboolean
api_vm_state_parse(const char *text, int *ret_state)
{
  PpVmState state;

  if (!pp_vm_state_from_string(text, &state))
    return FALSE;
  *ret_state = (int)state;
  return TRUE;
}

gboolean
api_host_state_parse(const char *text, int *ret_state)
{
  PpHostState state;

  if (!pp_host_state_from_string(text, &state))
    return FALSE;
  *ret_state = (int)state;
  return TRUE;
}

/* "state": one or more of @names (@n of them), separated by commas, into
 * @ret_states (a bit each; 0 when not given). @what: "VM", "host". */
gboolean
api_query_states(const PpApiCall *call, const char *what, const char *(*name)(int), int n,
                 StateFromString parse, guint *ret_states, GError **error)
{
  const char *text = pp_http_request_get_query(call->req, "state");
  g_auto(GStrv) parts = NULL;
  guint states = 0;

  *ret_states = 0;
  if (text == NULL)
    return TRUE;
  parts = strlen(text) <= LIST_STATE_MAX ? g_strsplit(text, ",", -1) : NULL;
  for (guint i = 0; parts != NULL && parts[i] != NULL; i++) {
    int state;

    if (!parse(parts[i], &state)) {
      g_clear_pointer(&parts, g_strfreev);
      break;
    }
    states |= 1u << state;
  }
  if (parts == NULL || states == 0) {
    g_autoptr(GString) names = g_string_new(NULL);

    for (int s = 0; s < n; s++)
      g_string_append_printf(names, "%s%s", s > 0 ? ", " : "", name(s));
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "query 'state': '%.64s' is not a %s state: give one or more of %s, separated "
                "by commas",
                text, what, names->str);
    return FALSE;
  }
  *ret_states = states;
  return TRUE;
}

const char *
api_vm_state_name(int state)
{
  return pp_vm_state_to_string((PpVmState)state);
}

const char *
api_host_state_name(int state)
{
  return pp_host_state_to_string((PpHostState)state);
}

/* The answer of a page: {"KEY": @array, "next": ID|null}. Takes @array. */
json_t *
api_page_json(const char *key, json_t *array, gint64 next, GError **error)
{
  return api_built(json_pack("{s:o,s:o}", key, array, "next", api_json_int_or_null(next, 0)),
                   error);
}

/* /metrics: Prometheus's text format 0.0.4. */
static GBytes *
metrics_text(const PpApiContext *ctx, GError **error)
{
  GString *out = g_string_new(NULL);
  PpStoreCounts counts;
  guint64 classes[6] = { 0 };
  PpHttpStats http;

  if (!pp_store_get_counts(ctx->store, &counts, error)) {
    g_string_free(out, TRUE);
    return NULL;
  }
  g_string_append(out, "# HELP pcipass_hosts Hosts by state.\n# TYPE pcipass_hosts gauge\n");
  for (int s = 0; s < _PP_HOST_STATE_MAX; s++)
    g_string_append_printf(out, "pcipass_hosts{state=\"%s\"} %u\n",
                           pp_host_state_to_string((PpHostState)s), counts.hosts_by_state[s]);
  g_string_append_printf(
      out,
      "# HELP pcipass_pci_devices PCI devices in the hosts' inventories.\n"
      "# TYPE pcipass_pci_devices gauge\n"
      "pcipass_pci_devices{status=\"free\"} %u\n"
      "pcipass_pci_devices{status=\"held\"} %u\n"
      "pcipass_pci_devices{status=\"gone\"} %u\n"
      "# HELP pcipass_users Users.\n# TYPE pcipass_users gauge\npcipass_users %u\n"
      "# HELP pcipass_tokens API tokens.\n# TYPE pcipass_tokens gauge\npcipass_tokens %u\n",
      counts.devices - counts.devices_held, counts.devices_held - counts.devices_gone,
      counts.devices_gone, counts.users, counts.tokens);
  g_string_append(out, "# HELP pcipass_vms VMs by state.\n# TYPE pcipass_vms gauge\n");
  for (int s = 0; s < _PP_VM_STATE_MAX; s++)
    g_string_append_printf(out, "pcipass_vms{state=\"%s\"} %u\n",
                           pp_vm_state_to_string((PpVmState)s), counts.vms_by_state[s]);
  if (ctx->monitor != NULL) {
    PpMonitorCounts mon;

    pp_monitor_get_counts(ctx->monitor, &mon);
    g_string_append_printf(
        out,
        "# HELP pcipass_probes_total Host probes finished, by result.\n"
        "# TYPE pcipass_probes_total counter\n"
        "pcipass_probes_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
        /* The monitor counts timeouts among the failures; here they are apart. */
        "pcipass_probes_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_probes_total{result=\"timeout\"} %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_probe_reports_unchanged_total Probes whose report was the host's last "
        "again (of result ok): a hash comparison, nothing reconciled.\n"
        "# TYPE pcipass_probe_reports_unchanged_total counter\n"
        "pcipass_probe_reports_unchanged_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_probes_running Host probes running now.\n"
        "# TYPE pcipass_probes_running gauge\npcipass_probes_running %u\n"
        "# HELP pcipass_monitor_passes_total Monitor passes started.\n"
        "# TYPE pcipass_monitor_passes_total counter\n"
        "pcipass_monitor_passes_total %" G_GUINT64_FORMAT "\n",
        mon.probes_ok, mon.probes_failed - mon.probes_timed_out, mon.probes_timed_out,
        mon.probes_unchanged, mon.running, mon.passes);
    g_string_append_printf(
        out,
        "# HELP pcipass_reports_pushed_total Pushed reports, by what came of them.\n"
        "# TYPE pcipass_reports_pushed_total counter\n"
        "pcipass_reports_pushed_total{result=\"unchanged\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_reports_pushed_total{result=\"changed\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_reports_pushed_total{result=\"refused\"} %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_push_stale_total Push hosts put in error for want of reports.\n"
        "# TYPE pcipass_push_stale_total counter\n"
        "pcipass_push_stale_total %" G_GUINT64_FORMAT "\n",
        mon.reports_unchanged, mon.reports_changed, mon.reports_refused, mon.reports_stale);
  }
  if (ctx->scheduler != NULL) {
    PpSchedulerCounts sched;

    pp_scheduler_get_counts(ctx->scheduler, &sched);
    g_string_append_printf(
        out,
        "# HELP pcipass_vms_placed_total VMs placed on a host.\n"
        "# TYPE pcipass_vms_placed_total counter\n"
        "pcipass_vms_placed_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_scheduler_tries_total Placements tried (one per group of pending VMs "
        "that may fit).\n"
        "# TYPE pcipass_scheduler_tries_total counter\n"
        "pcipass_scheduler_tries_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_scheduler_host_reads_total Hosts read again into the placer after a "
        "change.\n"
        "# TYPE pcipass_scheduler_host_reads_total counter\n"
        "pcipass_scheduler_host_reads_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_deploys_total Domain starts that ended, by result.\n"
        "# TYPE pcipass_deploys_total counter\n"
        "pcipass_deploys_total{result=\"ok\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_deploys_total{result=\"failed\"} %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_libvirt_calls_running libvirt calls running now.\n"
        "# TYPE pcipass_libvirt_calls_running gauge\npcipass_libvirt_calls_running %u\n"
        "# HELP pcipass_domain_events_total libvirt domain events that changed a VM.\n"
        "# TYPE pcipass_domain_events_total counter\n"
        "pcipass_domain_events_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_reconciles_total Reconciles of a host's domains.\n"
        "# TYPE pcipass_reconciles_total counter\npcipass_reconciles_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_reconciled_total VMs and domains a reconcile changed.\n"
        "# TYPE pcipass_reconciled_total counter\npcipass_reconciled_total %" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_scheduler_pass_yields_total Scheduler passes that stopped at their time "
        "budget (100 ms) to let the API be answered, and went on after.\n"
        "# TYPE pcipass_scheduler_pass_yields_total counter\n"
        "pcipass_scheduler_pass_yields_total %" G_GUINT64_FORMAT "\n",
        sched.placed, sched.tries, sched.host_refreshes, sched.deployed, sched.deploy_failures,
        sched.in_flight, sched.events, sched.reconciles, sched.reconciled, sched.pass_yields);
  }
  if (ctx->events != NULL) {
    PpEventsCounts ev;

    pp_events_get_counts(ctx->events, &ev);
    g_string_append_printf(
        out,
        "# HELP pcipass_event_streams GET /v1/events streams open now.\n"
        "# TYPE pcipass_event_streams gauge\npcipass_event_streams %u\n"
        "# HELP pcipass_events_sent_total Events sent, one per stream told.\n"
        "# TYPE pcipass_events_sent_total counter\npcipass_events_sent_total %" G_GUINT64_FORMAT
        "\n"
        "# HELP pcipass_event_resyncs_total Passes that told resync: too many changes at once.\n"
        "# TYPE pcipass_event_resyncs_total counter\npcipass_event_resyncs_total %" G_GUINT64_FORMAT
        "\n"
        "# HELP pcipass_event_streams_dropped_total Streams ended: their client did not read.\n"
        "# TYPE pcipass_event_streams_dropped_total counter\n"
        "pcipass_event_streams_dropped_total %" G_GUINT64_FORMAT "\n",
        ev.streams, ev.sent, ev.resyncs, ev.dropped);
  }
  if (ctx->http != NULL) {
    pp_http_server_get_counts(ctx->http, classes);
    g_string_append(out, "# HELP pcipass_http_responses_total HTTP responses, by status "
                         "class.\n# TYPE pcipass_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
      g_string_append_printf(out,
                             "pcipass_http_responses_total{class=\"%dxx\"} %" G_GUINT64_FORMAT "\n",
                             c, classes[c]);
    pp_http_server_get_stats(ctx->http, &http);
    g_string_append_printf(
        out,
        "# HELP pcipass_http_connections_open HTTP connections open now.\n"
        "# TYPE pcipass_http_connections_open gauge\npcipass_http_connections_open %u\n"
        "# HELP pcipass_http_connections_total HTTP connections accepted.\n"
        "# TYPE pcipass_http_connections_total counter\npcipass_http_connections_total "
        "%" G_GUINT64_FORMAT "\n"
        "# HELP pcipass_http_connections_cut_total HTTP connections cut by a limit: "
        "their peer held max-connections-per-peer, the server max-connections (only the "
        "admin goes past it, on the socket), or their head passed header-timeout.\n"
        "# TYPE pcipass_http_connections_cut_total counter\n"
        "pcipass_http_connections_cut_total{reason=\"peer-limit\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_http_connections_cut_total{reason=\"full\"} %" G_GUINT64_FORMAT "\n"
        "pcipass_http_connections_cut_total{reason=\"header-timeout\"} %" G_GUINT64_FORMAT "\n",
        http.open, http.accepted, http.refused_peer, http.refused_full, http.header_timeouts);
  }
  g_string_append_printf(
      out,
      "# HELP pcipass_leader Whether this pcipassd leads its store (runs the monitor, the "
      "scheduler and the deployer): 1, or 0 for a standby.\n"
      "# TYPE pcipass_leader gauge\npcipass_leader %d\n"
      "# HELP pcipass_leader_terms_total Times this pcipassd became the leader.\n"
      "# TYPE pcipass_leader_terms_total counter\npcipass_leader_terms_total %u\n"
      "# HELP pcipass_store_backend The store's database (the label), always 1.\n"
      "# TYPE pcipass_store_backend gauge\npcipass_store_backend{backend=\"%s\"} 1\n",
      ctx->leader == NULL || pp_leader_is_leading(ctx->leader) ? 1 : 0,
      ctx->leader != NULL ? pp_leader_get_terms(ctx->leader) : 1,
      pp_store_backend_to_string(pp_store_get_backend(ctx->store)));
  g_string_append_printf(out,
                         "# HELP pcipass_start_time_seconds When pcipassd started.\n"
                         "# TYPE pcipass_start_time_seconds gauge\n"
                         "pcipass_start_time_seconds %" G_GINT64_FORMAT "\n",
                         ctx->started);
  return g_string_free_to_bytes(out);
}

/* Splits @path into its segments, each percent-decoded; FALSE when it has
 * too many or one does not decode. */
static gboolean
split_path(const char *path, char **segments, guint *ret_n)
{
  g_auto(GStrv) parts = NULL;
  guint n = 0;

  /* Checked first: "" (a request for "?x") splits into no part at all. */
  if (path[0] != '/')
    return FALSE;
  parts = g_strsplit(path, "/", MAX_SEGMENTS + 2);
  /* "/v1/hosts" splits as "", "v1", "hosts"; a trailing '/' is tolerated. */
  for (guint i = 1; parts[i] != NULL; i++) {
    if (parts[i][0] == '\0' && parts[i + 1] == NULL)
      break;
    if (n == MAX_SEGMENTS)
      return FALSE;
    segments[n] = g_uri_unescape_string(parts[i], "/");
    if (segments[n] == NULL || segments[n][0] == '\0')
      return FALSE;
    n++;
  }
  *ret_n = n;
  return TRUE;
}

static gboolean
route_matches(const char *pattern, char **segments, guint n, const char **args)
{
  g_auto(GStrv) want = g_strsplit(pattern + 1, "/", -1);
  guint nargs = 0;

  if (g_strv_length(want) != n)
    return FALSE;
  for (guint i = 0; i < n; i++) {
    if (strcmp(want[i], "*") == 0)
      args[nargs++] = segments[i];
    else if (strcmp(want[i], segments[i]) != 0)
      return FALSE;
  }
  return TRUE;
}

/* Finds the route; NULL with 404 or 405 in @error. */
static int
find_route(const char *method, char **segments, guint n, const char **args, GError **error)
{
  gboolean path_known = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
    if (!route_matches(routes[i].path, segments, n, args))
      continue;
    path_known = TRUE;
    if (strcmp(routes[i].method, method) == 0)
      return (int)i;
  }
  if (path_known)
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_METHOD, "method %s is not allowed here", method);
  else
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND, "no such resource");
  return -1;
}

static gboolean
parse_body(const PpHttpRequest *req, gboolean wanted, json_t **ret, GError **error)
{
  gsize len = 0;
  const char *text = pp_http_request_get_body(req, &len);
  json_error_t jerr;
  json_t *json;

  *ret = NULL;
  if (!wanted) {
    if (len > 0) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "this request takes no body");
      return FALSE;
    }
    return TRUE;
  }
  if (len == 0) {
    *ret = json_object();
    return TRUE;
  }
  json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
  if (json == NULL) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "the body is not JSON: line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
    return FALSE;
  }
  if (!json_is_object(json)) {
    json_decref(json);
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "the body must be a JSON object");
    return FALSE;
  }
  *ret = json;
  return TRUE;
}

/* A request judged on its head (pp_api_admit): who asks, and what. */
typedef struct {
  PpUser *user;       /* NULL for a host's report token */
  PpHostToken *host;  /* the host of a report token, else NULL */
  gboolean metrics;   /* GET /metrics */
  gboolean asset;     /* GET of a web UI file (any path outside /v1/ but /metrics) */
  char *session_hash; /* the SHA-256 of the pp_session id it came with, or NULL */
  int route;          /* else the route's index */
  char *segments[MAX_SEGMENTS];
  const char *args[MAX_SEGMENTS]; /* into segments */
} ApiAdmitted;

static void
api_admitted_free(ApiAdmitted *admitted)
{
  if (admitted == NULL)
    return;
  g_clear_pointer(&admitted->user, pp_user_free);
  g_clear_pointer(&admitted->host, pp_host_token_free);
  g_free(admitted->session_hash);
  for (guint i = 0; i < MAX_SEGMENTS; i++)
    g_free(admitted->segments[i]);
  g_free(admitted);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ApiAdmitted, api_admitted_free)

/* A host's report token may do one thing: POST its own host's report
 * (a ROUTE_HOST route whose '*' names it, by name or id). Anything else
 * is 403, whatever the path: the token learns nothing more. */
static gboolean
host_token_admit(ApiAdmitted *admitted, const char *method, const char *path, GError **error)
{
  const PpHostToken *host = admitted->host;
  g_autofree char *id_text = g_strdup_printf("%" G_GINT64_FORMAT, host->host_id);
  guint n = 0;

  admitted->route = -1;
  if (split_path(path, admitted->segments, &n))
    admitted->route = find_route(method, admitted->segments, n, admitted->args, NULL);
  if (admitted->route < 0 || !(routes[admitted->route].flags & ROUTE_HOST)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                "%s %s: this is host '%s''s report token: it may only POST /v1/hosts/%s/report",
                method, path, host->host_name, host->host_name);
    return FALSE;
  }
  if (strcmp(admitted->args[0], host->host_name) != 0 && strcmp(admitted->args[0], id_text) != 0) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                "this is host '%s''s report token: it may not report for host '%s'",
                host->host_name, admitted->args[0]);
    return FALSE;
  }
  return TRUE;
}

/* The user of the session the Cookie header's pp_session (@id, @len bytes)
 * names, and the SHA-256 of its id in @ret_hash. Any method but GET and
 * HEAD must carry the session's X-CSRF-Token: a cookie is an ambient
 * credential, which another site's form would send too.
 * Returns: (transfer full): the user, or NULL with UNAUTHENTICATED or
 * FORBIDDEN (no or a wrong X-CSRF-Token). */
static PpUser *
session_admit(const PpApiContext *ctx, const PpHttpRequest *req, const char *id, gsize len,
              gint64 now, char **ret_hash, GError **error)
{
  const char *method = pp_http_request_get_method(req);
  const char *sent = pp_http_request_get_header(req, "X-CSRF-Token");
  g_autoptr(GError) local = NULL;
  g_autoptr(PpUser) user = NULL;
  char copy[65]; /* an id: 64 hex digits */
  g_autofree char *hash = NULL;
  const PpSession *session = NULL;

  /* An id is 64 lower-case hex digits; anything else is no session's. */
  if (len == sizeof(copy) - 1) {
    memcpy(copy, id, len);
    copy[len] = '\0';
    if (strspn(copy, "0123456789abcdef") == len)
      session = pp_sessions_lookup(ctx->sessions, copy, now);
    explicit_bzero(copy, sizeof(copy));
  }
  if (session == NULL) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the session is not known (it may have been logged out or expired, or pcipassd "
                "restarted): log in again with POST /v1/session");
    return NULL;
  }
  hash = g_strdup(session->id_hash);
  /* Its token is checked as a bearer token would be: deleted, past its
   * expiry, or its user deleted, the session ends with it. */
  user = pp_store_token_authenticate(ctx->store, session->token_hash, now, &local);
  if (user == NULL) {
    if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND) &&
        !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_EXPIRED)) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
    pp_sessions_remove(ctx->sessions, hash);
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the session's token was deleted or is past its expiry: log in again with "
                "POST /v1/session");
    return NULL;
  }
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    gsize want = strlen(session->csrf);
    guint8 diff = 0;

    /* Compared in a time that does not tell how much of it matched. */
    if (sent != NULL && strlen(sent) == want) {
      for (gsize i = 0; i < want; i++)
        diff |= (guint8)(sent[i] ^ session->csrf[i]);
    }
    if (sent == NULL || strlen(sent) != want || diff != 0) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                  "%s with a session cookie needs the header X-CSRF-Token, the session's CSRF "
                  "token (GET /v1/session gives it); it is %s",
                  method, sent == NULL ? "missing" : "wrong");
      return NULL;
    }
  }
  *ret_hash = g_steal_pointer(&hash);
  return g_steal_pointer(&user);
}

/* Authenticates and routes @req on its head alone. Authentication comes
 * first: an unknown caller learns nothing, not even which paths exist.
 * Returns: (transfer full): what it asks, or NULL with the error to
 * answer (401, 403, 404, 405). */
static ApiAdmitted *
api_admit(const PpApiContext *ctx, const PpHttpRequest *req, gint64 now, GError **error)
{
  const char *method = pp_http_request_get_method(req);
  const char *path = pp_http_request_get_path(req);
  g_autoptr(ApiAdmitted) admitted = g_new0(ApiAdmitted, 1);
  const char *authorization = pp_http_request_get_header(req, "Authorization");
  const PpHttpPeer *peer = pp_http_request_get_peer(req);
  const char *session_id = NULL;
  gsize session_len = 0;
  int cookie = 0;
  guint n = 0;

  if (pp_auth_is_host_token(authorization)) {
    admitted->host = pp_auth_authenticate_host(ctx->store, authorization, now, error);
    if (admitted->host == NULL || !host_token_admit(admitted, method, path, error))
      return NULL;
    return g_steal_pointer(&admitted);
  }
  /* The web UI's files are public: the login page is one of them. */
  if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
      !g_str_has_prefix(path, "/v1/") && strcmp(path, "/v1") != 0 &&
      strcmp(path, "/metrics") != 0) {
    admitted->asset = TRUE;
    return g_steal_pointer(&admitted);
  }
  /* A login carries its credentials in its body, checked by its handler:
   * the one path an unknown caller may reach. */
  if (ctx->sessions != NULL && strcmp(method, "POST") == 0 && strcmp(path, "/v1/session") == 0 &&
      split_path(path, admitted->segments, &n)) {
    admitted->route = find_route(method, admitted->segments, n, admitted->args, error);
    g_assert(admitted->route >= 0 && (routes[admitted->route].flags & ROUTE_LOGIN));
    return g_steal_pointer(&admitted);
  }
  /* A bearer token, or the socket's peer, come before a cookie. */
  if (ctx->sessions != NULL && authorization == NULL && !peer->is_unix)
    cookie = pp_session_cookie_find(pp_http_request_get_header(req, "Cookie"), &session_id,
                                    &session_len);
  if (cookie < 0) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the Cookie header is over %u bytes or has %s twice", PP_SESSION_MAX_COOKIE,
                PP_SESSION_COOKIE);
    return NULL;
  }
  if (cookie > 0)
    admitted->user =
        session_admit(ctx, req, session_id, session_len, now, &admitted->session_hash, error);
  else
    admitted->user = pp_auth_authenticate(ctx->store, peer, authorization, now, error);
  if (admitted->user == NULL)
    return NULL;
  if (strcmp(path, "/metrics") == 0) {
    if (strcmp(method, "GET") != 0) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_METHOD, "method %s is not allowed here",
                  method);
      return NULL;
    }
    admitted->metrics = TRUE;
    return g_steal_pointer(&admitted);
  }
  if (!split_path(path, admitted->segments, &n)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND, "no such resource");
    return NULL;
  }
  admitted->route = find_route(method, admitted->segments, n, admitted->args, error);
  if (admitted->route < 0)
    return NULL;
  if ((routes[admitted->route].flags & ROUTE_ADMIN) && !admitted->user->admin) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                "%s %s is for an admin; '%s' is not one", method, routes[admitted->route].path,
                admitted->user->name);
    return NULL;
  }
  return g_steal_pointer(&admitted);
}

static void answer_error(const PpHttpRequest *req, const GError *error, const json_t *fields,
                         guint *ret_status, GBytes **ret_body);

/* The web UI's files (web/, compiled in: pp-web-resources.c). */
#define ASSET_PREFIX "/org/pcipass/web"
#define ASSET_PATH_MAX 256

/* What every page and its files are allowed: their own origin's scripts,
 * styles, images and API, nothing inline, nothing from elsewhere, never
 * framed. */
#define ASSET_CSP                                                                                  \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "                \
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "                     \
  "frame-ancestors 'none'"

static const char *
asset_content_type(const char *path)
{
  static const struct {
    const char *ext;
    const char *type;
  } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".json", "application/json" },
    { ".txt", "text/plain; charset=utf-8" },
    { ".woff2", "font/woff2" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    if (g_str_has_suffix(path, types[i].ext))
      return types[i].type;
  }
  return "application/octet-stream";
}

/* Whether @path may name a file of web/: segments of [A-Za-z0-9._-], none
 * empty or starting with a dot (no "..", no hidden file). */
static gboolean
asset_path_ok(const char *path)
{
  gsize len = strlen(path);

  if (len < 2 || len > ASSET_PATH_MAX || path[0] != '/')
    return FALSE;
  for (const char *p = path; *p != '\0'; p++) {
    if (*p == '/') {
      if (p[1] == '\0' || p[1] == '/' || p[1] == '.')
        return FALSE;
    } else if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-') {
      return FALSE;
    }
  }
  return TRUE;
}

/* GET /PATH outside /v1: a file of the web UI ("/": index.html), 404
 * else. */
static void
serve_asset(const PpHttpRequest *req, guint *ret_status, const char **ret_content_type,
            GBytes **ret_body)
{
  const char *path = pp_http_request_get_path(req);
  g_autofree char *name = NULL;
  g_autoptr(GBytes) data = NULL;

  if (strcmp(path, "/") == 0)
    path = "/index.html";
  if (asset_path_ok(path)) {
    name = g_strconcat(ASSET_PREFIX, path, NULL);
    data = g_resource_lookup_data(pp_web_get_resource(), name, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  }
  pp_http_request_add_header(req, "X-Content-Type-Options", "nosniff");
  pp_http_request_add_header(req, "Referrer-Policy", "no-referrer");
  if (data == NULL) {
    g_autoptr(GError) error = NULL;

    g_set_error(&error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND,
                "no such resource: the API is under /v1/, the web UI at /");
    pp_http_request_add_header(req, "Content-Security-Policy",
                               "default-src 'none'; frame-ancestors 'none'");
    answer_error(req, error, NULL, ret_status, ret_body);
    *ret_content_type = "application/json";
    return;
  }
  pp_http_request_add_header(req, "Content-Security-Policy", ASSET_CSP);
  pp_http_request_add_header(req, "X-Frame-Options", "DENY");
  *ret_status = 200;
  *ret_content_type = asset_content_type(path);
  *ret_body = g_steal_pointer(&data);
}

void
api_note(PpApiCall *call, PpEventKind kind, gint64 id)
{
  if (call->ctx->events != NULL)
    pp_events_note(call->ctx->events, kind, id);
}

/* GET /v1/events: the caller's stream, with what it came with (checked
 * again at each heartbeat). */
static gboolean
open_events(PpApiCall *call, const PpHttpRequest *req, GError **error)
{
  const char *authorization = pp_http_request_get_header(req, "Authorization");
  g_autofree char *token_hash = NULL;
  const char *session_hash = call->session_hash;
  PpEventsWho who = { 0 };

  if (call->ctx->events == NULL) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND, "no such resource");
    return FALSE;
  }
  if (session_hash == NULL && authorization != NULL &&
      g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0)
    token_hash = pp_auth_token_hash(authorization + 7);
  who.user_id = call->user->id;
  who.user_name = call->user->name;
  who.admin = call->user->admin;
  who.session_hash = session_hash;
  who.token_hash = token_hash;
  return pp_events_open(call->ctx->events, req, &who, error);
}

/* The answer of an error; @fields (nullable) are carried beside its
 * message. */
static void
answer_error(const PpHttpRequest *req, const GError *error, const json_t *fields, guint *ret_status,
             GBytes **ret_body)
{
  guint status = error_status(error);

  if (status >= 500)
    g_warning("%s %s: %s", pp_http_request_get_method(req), pp_http_request_get_path(req),
              error->message);
  else
    g_debug("%s %s: %u %s", pp_http_request_get_method(req), pp_http_request_get_path(req), status,
            error->message);
  *ret_status = status;
  *ret_body = error_bytes(status, error->message, fields);
}

gboolean
pp_api_admit(PpHttpRequest *req, gsize *ret_max_body, guint *ret_status,
             const char **ret_content_type, GBytes **ret_body, gpointer user_data)
{
  const PpApiContext *ctx = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ApiAdmitted) admitted = api_admit(ctx, req, g_get_real_time() / G_USEC_PER_SEC, &error);
  const char *length = pp_http_request_get_header(req, "Content-Length");
  gboolean takes_body;

  *ret_content_type = "application/json";
  if (admitted == NULL) {
    answer_error(req, error, NULL, ret_status, ret_body);
    return FALSE;
  }
  takes_body = !admitted->metrics && !admitted->asset &&
               (routes[admitted->route].flags & (ROUTE_BODY | ROUTE_RAW)) != 0;
  if (!takes_body && length != NULL && strspn(length, "0") != strlen(length)) {
    g_set_error(&error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "this request takes no body");
    answer_error(req, error, NULL, ret_status, ret_body);
    return FALSE;
  }
  *ret_max_body = !takes_body                                   ? 0
                  : (routes[admitted->route].flags & ROUTE_RAW) ? PP_API_MAX_REPORT
                                                                : PP_API_MAX_BODY;
  pp_http_request_set_data(req, g_steal_pointer(&admitted), (GDestroyNotify)api_admitted_free);
  return TRUE;
}

void
pp_api_handle(const PpHttpRequest *req, guint *ret_status, const char **ret_content_type,
              GBytes **ret_body, gpointer user_data)
{
  const PpApiContext *ctx = user_data;
  const char *method = pp_http_request_get_method(req);
  const char *path = pp_http_request_get_path(req);
  const PpHttpPeer *peer = pp_http_request_get_peer(req);
  ApiAdmitted *admitted = pp_http_request_get_data(req);
  g_autoptr(ApiAdmitted) own = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(json_t) body = NULL;
  g_autoptr(json_t) answer = NULL;
  PpApiCall call = { .ctx = ctx, .req = req };
  guint status = 200;
  gboolean reading = FALSE; /* in a read transaction (a GET) */

  *ret_content_type = "application/json";
  call.now = g_get_real_time() / G_USEC_PER_SEC;

  /* Judged on its head already (pp_api_admit), or now: a request that
   * comes whole, without the server's admit hook. */
  if (admitted == NULL) {
    own = api_admit(ctx, req, call.now, &error);
    if (own == NULL) {
      answer_error(req, error, NULL, ret_status, ret_body);
      return;
    }
    admitted = own;
  }
  if (admitted->asset) {
    serve_asset(req, ret_status, ret_content_type, ret_body);
    return;
  }
  /* Nothing of the API is a page: a browser neither runs nor frames it. */
  pp_http_request_add_header(req, "X-Content-Type-Options", "nosniff");
  pp_http_request_add_header(req, "Content-Security-Policy",
                             "default-src 'none'; frame-ancestors 'none'");
  call.user = admitted->user;
  call.host = admitted->host;
  call.session_hash = admitted->session_hash;
  memcpy(call.args, admitted->args, sizeof(call.args));
  /* A GET reads, and writes nothing: one read transaction for all it reads
   * (one snapshot, and SQLite's read lock taken once). Without it, it
   * reads as before, a statement at a time. */
  if (strcmp(method, "GET") == 0 &&
      (admitted->metrics || !(routes[admitted->route].flags & ROUTE_OWN_READ))) {
    reading = pp_store_read_begin(ctx->store, &error);
    if (!reading) {
      g_debug("%s %s: %s; reading without one", method, path, error->message);
      g_clear_error(&error);
    }
  }
  if (!admitted->metrics && (routes[admitted->route].flags & ROUTE_STREAM)) {
    if (reading)
      pp_store_read_end(ctx->store);
    if (open_events(&call, req, &error)) {
      g_debug("%s %s: a stream (%s, %s)", method, path, call.user->name, peer->remote);
      *ret_status = 200;
      *ret_content_type = "text/event-stream";
      return;
    }
    answer_error(req, error, NULL, ret_status, ret_body);
    return;
  }
  if (admitted->metrics) {
    *ret_body = metrics_text(ctx, &error);
    if (reading)
      pp_store_read_end(ctx->store);
    if (*ret_body != NULL) {
      *ret_status = 200;
      *ret_content_type = "text/plain; version=0.0.4";
      return;
    }
  } else if ((routes[admitted->route].flags & ROUTE_RAW) ||
             parse_body(req, (routes[admitted->route].flags & ROUTE_BODY) != 0, &body, &error)) {
    call.body = body;
    answer = routes[admitted->route].handler(&call, &status, &error);
  }
  if (reading)
    pp_store_read_end(ctx->store);

  if (answer == NULL) {
    g_autoptr(json_t) fields = g_steal_pointer(&call.error_fields);

    g_assert(error != NULL);
    answer_error(req, error, fields, ret_status, ret_body);
    return;
  }
  g_clear_pointer(&call.error_fields, json_decref);
  if (call.user == NULL && call.host == NULL)
    g_debug("%s %s: %u (a login, %s)", method, path, status, peer->remote);
  else
    g_debug("%s %s: %u (%s%s, %s)", method, path, status, call.user ? "" : "host ",
            call.user ? call.user->name : call.host->host_name, peer->remote);
  *ret_status = status;
  *ret_body = json_bytes(answer);
}
