#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-domain-xml.h"
#include "pp-host-spec.h"
#include "pp-images.h"
#include "pp-output.h"
#include "pp-probe-run.h"
#include "pp-vm-template.h"

/* clang-format off */
G_DEFINE_QUARK(pp-api-error-quark, pp_api_error)
/* clang-format on */

/* The most path segments a route has; longer paths are 404. */
#define MAX_SEGMENTS 8
/* Bounds of the strings a host is created with. */
#define MAX_SSH_LEN 256
#define MAX_LABEL_LEN 128
/* 10000:e1:00.0 is 13 characters; room for a domain of 8 hex digits. */
#define MAX_ADDRESS_LEN 32

typedef struct {
  const PpApiContext *ctx;
  const PpHttpRequest *req;
  PpUser *user;                   /* NULL for a host's report token (host) */
  const PpHostToken *host;        /* the host of a report token, or NULL for a user */
  const char *args[MAX_SEGMENTS]; /* what each '*' of the route matched, decoded */
  json_t *body;                   /* the request's JSON object, or NULL without a body */
  gint64 now;
  json_t *error_fields; /* owned: fields an error answer carries beside its message, or NULL */
} PpApiCall;

/* A handler answers with a JSON value (transfer full) and sets *ret_status
 * when it is not 200, or returns NULL with an error. */
typedef json_t *(*PpApiHandler)(PpApiCall *call, guint *ret_status, GError **error);

enum {
  ROUTE_ADMIN = 1 << 0, /* only an admin may call it */
  ROUTE_BODY = 1 << 1,  /* takes a JSON object body (may be empty: {}) */
  ROUTE_RAW = 1 << 2,   /* takes a body that is not JSON, of at most PP_API_MAX_REPORT bytes */
  ROUTE_HOST = 1 << 3,  /* a host's report token may call it, for the host its '*' names */
};

static json_t *api_whoami(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_list(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_create(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_show(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_enable(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_update(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_disable(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_probe(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_delete(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_report(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_token_create(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_host_token_delete(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_user_list(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_user_create(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_user_show(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_user_delete(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_user_quota(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_token_list(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_token_create(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_token_delete(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_list(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_create(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_place(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_show(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_terminate(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_poweroff(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_resume(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_vm_retry(PpApiCall *call, guint *ret_status, GError **error);
static json_t *api_image_list(PpApiCall *call, guint *ret_status, GError **error);

/* The routes.
 *   method   the HTTP method
 *   path     segments; '*' matches one segment, given to the handler in args
 *   handler  what answers
 *   flags    ROUTE_ADMIN, ROUTE_BODY, ROUTE_RAW, ROUTE_HOST
 */
static const struct {
  const char *method;
  const char *path;
  PpApiHandler handler;
  guint flags;
} routes[] = {
  { "GET", "/v1/whoami", api_whoami, 0 },
  { "GET", "/v1/hosts", api_host_list, 0 },
  { "POST", "/v1/hosts", api_host_create, ROUTE_ADMIN | ROUTE_BODY },
  { "GET", "/v1/hosts/*", api_host_show, 0 },
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
  { "POST", "/v1/vms/*/terminate", api_vm_terminate, 0 },
  { "POST", "/v1/vms/*/poweroff", api_vm_poweroff, 0 },
  { "POST", "/v1/vms/*/resume", api_vm_resume, 0 },
  { "POST", "/v1/vms/*/retry", api_vm_retry, 0 },
  { "GET", "/v1/images", api_image_list, 0 },
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
  { pp_auth_error_quark, PP_AUTH_ERROR_UNAUTHENTICATED, 401 },
  { pp_store_error_quark, PP_STORE_ERROR_NOT_FOUND, 404 },
  { pp_store_error_quark, PP_STORE_ERROR_EXPIRED, 401 },
  { pp_store_error_quark, PP_STORE_ERROR_CONFLICT, 409 },
  { pp_store_error_quark, PP_STORE_ERROR_INVALID, 400 },
  { pp_store_error_quark, PP_STORE_ERROR_BUSY, 503 },
  { pp_probe_run_error_quark, PP_PROBE_RUN_ERROR_INVALID, 400 },
  { pp_vm_template_error_quark, -1, 400 },
  { pp_images_error_quark, PP_IMAGES_ERROR_NOT_FOUND, 400 },
  { pp_images_error_quark, PP_IMAGES_ERROR_INVALID, 400 },
  { pp_scheduler_error_quark, PP_SCHEDULER_ERROR_STATE, 409 },
  { pp_probe_report_error_quark, PP_PROBE_REPORT_ERROR_INVALID, 400 },
  { pp_probe_report_error_quark, PP_PROBE_REPORT_ERROR_TOO_BIG, 413 },
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

static gboolean
check_fields(const json_t *body, const char *const *allowed, GError **error)
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
static gboolean
get_string(const json_t *body, const char *field, gsize max, gboolean required, const char **ret,
           GError **error)
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
static gboolean
get_bool(const json_t *body, const char *field, gboolean nullable, gboolean *ret, GError **error)
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

static json_t *
json_int_or_null(gint64 value, gint64 none)
{
  return value == none ? json_null() : json_integer(value);
}

static json_t *
json_strv(const char *const *strv)
{
  json_t *array;

  if (strv == NULL)
    return json_null();
  array = json_array();
  for (guint i = 0; strv[i] != NULL; i++)
    json_array_append_new(array, pp_json_text(strv[i]));
  return array;
}

/* What a caller sees (pcipass(1), WHAT USERS SEE). An admin sees
 * everything. Another user sees no host's ssh target, probe command or
 * libvirt URI, nor the probe's, ssh's or libvirt's own words (they name
 * them), nor the id of another user's VM: a device is free or taken.
 *
 * A request's sight costs what it shows, not the cluster's size (issue
 * 11): whether a VM is the user's is one point query, asked when a VM id
 * is about to be shown and kept for the request; a host's URI is read
 * when a text names that host. */
typedef struct {
  gboolean admin;
  PpStore *store;     /* a user's: where VMs' owners and hosts' URIs are read */
  gint64 user_id;     /* a user's */
  gboolean hide_uris; /* texts that may hold a libvirt URI (a VM's reasons) are read */
  GHashTable *shown;  /* a user's: VM id (gint64 *) -> GINT_TO_POINTER(1 + shown), asked once */
  GHashTable *uris;   /* a user's: host name -> its libvirt URI, "" for no such host */
} Sight;

/* The most hosts a text may name whose URIs are hidden in it; a URI past
 * them is still hidden, as any libvirt URI (hide_any_uri()). */
#define SIGHT_HOSTS_MAX 16

static void
sight_clear(Sight *sight)
{
  g_clear_pointer(&sight->shown, g_hash_table_unref);
  g_clear_pointer(&sight->uris, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Sight, sight_clear)

/* The caller's sight; @with_uris: what hides the hosts' libvirt URIs in
 * texts that may hold them (a VM's reasons) is needed too. Reads nothing
 * now: what it needs is read when it is asked (sight_shows_vm(),
 * sight_text()). */
static gboolean
sight_init(const PpApiCall *call, gboolean with_uris, Sight *ret, GError **error)
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
static gboolean
sight_shows_vm(gint64 vm_id, gpointer data)
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
static char *
sight_text(const Sight *sight, const char *text)
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
static char *
sight_reason(const Sight *sight, const char *reason)
{
  g_autofree char *text = sight_text(sight, reason);

  if (sight->admin)
    return g_steal_pointer(&text);
  return pp_place_reason_hide_holders(text, sight_shows_vm, (gpointer)sight);
}

/* What stands, for a user, for the words of the probe, ssh or libvirt
 * (which name a host's ssh target, probe command or URI). */
#define HIDDEN_PROBE_ERROR "its last probe failed; an administrator sees why"
#define HIDDEN_LIBVIRT_ERROR "its libvirt does not answer; an administrator sees why"
#define HIDDEN_SET_ASIDE "a deploy could not use it; an administrator sees why"

/* The sight of the handlers of ROUTE_ADMIN routes. */
static const Sight admin_sight = { .admin = TRUE };

static json_t *
host_to_json(const PpHost *host, const Sight *sight)
{
  json_t *ssh = json_null();
  json_t *json;

  if (host->ssh_host != NULL)
    ssh = json_pack("{s:o,s:o,s:o}", "user", pp_json_text(host->ssh_user), "host",
                    pp_json_text(host->ssh_host), "port", json_int_or_null(host->ssh_port, 0));
  json = json_pack(
      "{s:I,s:o,s:s,s:b,s:o,s:o,s:o,s:o,s:o,s:b,s:{s:o,s:o,s:o,s:o},s:i,s:i,s:o,"
      "s:I}",
      "id", (json_int_t)host->id, "name", pp_json_text(host->name), "state",
      pp_host_state_to_string(host->state), "enabled", host->state != PP_HOST_STATE_DISABLED,
      "error", pp_json_text(host->error), "libvirt_error", pp_json_text(host->libvirt_error), "ssh",
      ssh, "libvirt_uri", pp_json_text(host->libvirt_uri), "probe_command",
      json_strv((const char *const *)host->probe_command), "prebound", host->prebound, "facts",
      "hostname", pp_json_text(host->reported_hostname), "cpu_count",
      json_int_or_null(host->cpu_count, -1), "memory_kib", json_int_or_null(host->memory_kib, -1),
      "kernel_version", pp_json_text(host->kernel_version), "pci_total", (int)host->pci_total,
      "pci_free", (int)host->pci_free, "last_monitored", json_int_or_null(host->last_monitored, 0),
      "created", (json_int_t)host->created);
  if (json == NULL || sight->admin)
    return json;
  /* Left out, not null: null means "the default" there. */
  json_object_del(json, "ssh");
  json_object_del(json, "libvirt_uri");
  json_object_del(json, "probe_command");
  if (host->error != NULL)
    json_object_set_new(json, "error", json_string(HIDDEN_PROBE_ERROR));
  if (host->libvirt_error != NULL)
    json_object_set_new(json, "libvirt_error", json_string(HIDDEN_LIBVIRT_ERROR));
  return json;
}

static json_t *
device_to_json(const PpStoreDevice *dev, const Sight *sight)
{
  gint64 vm = dev->vm_id != 0 && sight_shows_vm(dev->vm_id, (gpointer)sight) ? dev->vm_id : 0;
  const char *set_aside =
      dev->set_aside != NULL && !sight->admin ? HIDDEN_SET_ASIDE : dev->set_aside;
  char type[16], vendor[8], device[8], class_code[8];
  json_t *attributes = json_object();

  g_snprintf(vendor, sizeof(vendor), "%04x", dev->vendor);
  g_snprintf(device, sizeof(device), "%04x", dev->device);
  g_snprintf(class_code, sizeof(class_code), "%04x", dev->class_code);
  g_snprintf(type, sizeof(type), "%s:%s:%s", vendor, device, class_code);
  for (guint i = 0; dev->keys != NULL && dev->keys[i] != NULL; i++)
    json_object_set_new(attributes, dev->keys[i], pp_json_text(dev->values[i]));
  return json_pack(
      "{s:o,s:o,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:b,s:o,s:b,s:o,s:o}",
      "address", pp_json_text(dev->address), "short_address", pp_json_text(dev->short_address),
      "type", type, "vendor", vendor, "device", device, "class", class_code, "vendor_name",
      pp_json_text(dev->vendor_name), "device_name", pp_json_text(dev->device_name), "class_name",
      pp_json_text(dev->class_name), "numa_node", json_int_or_null(dev->numa_node, -1),
      "iommu_group", json_int_or_null(dev->iommu_group, -1), "driver", pp_json_text(dev->driver),
      "sriov", pp_json_text(dev->sriov), "physfn", pp_json_text(dev->physfn), "vm",
      json_int_or_null(vm, 0), "taken", dev->vm_id != 0, "gone", dev->gone, "host_needs",
      pp_json_text(dev->host_needs), "allowed", dev->allowed, "set_aside", pp_json_text(set_aside),
      "attributes", attributes);
}

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
                   (json_int_t)token->created, "last_used", json_int_or_null(token->last_used, 0),
                   "expires", json_int_or_null(token->expires, 0), "expired",
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
  return json_pack("{s:o,s:o,s:o,s:o,s:o}", "vms", quota_item_json(&quota->vms, QUOTA_COUNT), "cpu",
                   quota_item_json(&quota->cpu, QUOTA_CPU), "memory_mib",
                   quota_item_json(&quota->memory_kib, QUOTA_MEMORY), "pci",
                   quota_item_json(&quota->pci, QUOTA_COUNT), "pci_classes", classes);
}

/* A builder that gave NULL ran out of memory or met a bad value. */
static json_t *
built(json_t *json, GError **error)
{
  if (json == NULL)
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_FAILED, "cannot build the JSON answer");
  return json;
}

/* The handlers. */

static json_t *
api_whoami(PpApiCall *call, guint *ret_status, GError **error)
{
  return built(user_to_json(call->user), error);
}

/* Paged lists (issue 11): GET /v1/vms and /v1/hosts take "limit" (a page's
 * rows, 1..PP_STORE_PAGE_MAX, LIST_LIMIT_DEFAULT when not given), "after"
 * (the cursor: the "next" of the page before) and filters, and answer
 * {"vms"|"hosts": [...], "next": ID|null}. A parameter the route does not
 * take, one given twice or without a value, or a bad value is 400, naming
 * the parameter, the value and what it takes. */

#define LIST_LIMIT_DEFAULT 100
/* What a light row's reason or summary keeps of its first line. */
#define LIST_LINE_MAX 160
/* The longest value of "state" (every VM state, with commas, is 64). */
#define LIST_STATE_MAX 256

/* Checks the query's parameters against @allowed (NULL-terminated) for
 * @route ("GET /v1/vms"). */
static gboolean
check_query(const PpApiCall *call, const char *route, const char *const *allowed, GError **error)
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
                  "unknown query parameter '%.64s': %s takes %s", names[i], route, takes);
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
static gboolean
query_page(const PpApiCall *call, PpStorePage *page, GError **error)
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

typedef gboolean (*StateFromString)(const char *text, int *ret_state);

static gboolean
vm_state_parse(const char *text, int *ret_state)
{
  PpVmState state;

  if (!pp_vm_state_from_string(text, &state))
    return FALSE;
  *ret_state = (int)state;
  return TRUE;
}

static gboolean
host_state_parse(const char *text, int *ret_state)
{
  PpHostState state;

  if (!pp_host_state_from_string(text, &state))
    return FALSE;
  *ret_state = (int)state;
  return TRUE;
}

/* "state": one or more of @names (@n of them), separated by commas, into
 * @ret_states (a bit each; 0 when not given). @what: "VM", "host". */
static gboolean
query_states(const PpApiCall *call, const char *what, const char *(*name)(int), int n,
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

static const char *
vm_state_name(int state)
{
  return pp_vm_state_to_string((PpVmState)state);
}

static const char *
host_state_name(int state)
{
  return pp_host_state_to_string((PpHostState)state);
}

/* The answer of a page: {"KEY": @array, "next": ID|null}. Takes @array. */
static json_t *
page_json(const char *key, json_t *array, gint64 next, GError **error)
{
  return built(json_pack("{s:o,s:o}", key, array, "next", json_int_or_null(next, 0)), error);
}

static json_t *
api_host_list(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { "limit", "after", "state", NULL };
  PpStorePage page = { 0 };
  g_autoptr(GPtrArray) hosts = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gint64 next = 0;

  if (!check_query(call, "GET /v1/hosts", takes, error) || !query_page(call, &page, error) ||
      !query_states(call, "host", host_state_name, _PP_HOST_STATE_MAX, host_state_parse,
                    &page.states, error))
    return NULL;
  hosts = pp_store_host_page(call->ctx->store, &page, &next, error);
  if (hosts == NULL || !sight_init(call, FALSE, &sight, error))
    return NULL;
  array = json_array();
  for (guint i = 0; i < hosts->len; i++) {
    if (!pp_json_append(array, host_to_json(g_ptr_array_index(hosts, i), &sight)))
      return built(NULL, error);
  }
  return page_json("hosts", g_steal_pointer(&array), next, error);
}

/* "USER@HOST[:PORT]", "HOST[:PORT]", "USER@[V6]:PORT". */
static gboolean
parse_ssh(const char *text, char **ret_user, char **ret_host, int *ret_port, GError **error)
{
  g_autofree char *user = NULL;
  g_autofree char *host = NULL;
  const char *at = strchr(text, '@');
  const char *rest = at ? at + 1 : text;
  const char *colon;
  guint64 port = 0;

  if (at != NULL)
    user = g_strndup(text, (gsize)(at - text));
  if (rest[0] == '[') {
    const char *close = strchr(rest, ']');

    if (close == NULL)
      goto bad;
    host = g_strndup(rest + 1, (gsize)(close - rest - 1));
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] != '\0' && colon == NULL)
      goto bad;
  } else {
    colon = strrchr(rest, ':');
    host = colon ? g_strndup(rest, (gsize)(colon - rest)) : g_strdup(rest);
  }
  if (colon != NULL && !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field 'ssh': port '%s' is not 1 to 65535", colon + 1);
    return FALSE;
  }
  *ret_user = g_steal_pointer(&user);
  *ret_host = g_steal_pointer(&host);
  *ret_port = (int)port;
  return TRUE;

bad:
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
              "field 'ssh': '%s' is not USER@HOST[:PORT]", text);
  return FALSE;
}

/* pp-host-spec's rule, for field @field. */
static gboolean
spec_rule(gboolean ok, const char *field, GError *const *local, GError **error)
{
  if (!ok)
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "field '%s': %s", field,
                (*local)->message);
  return ok;
}

static GStrv
parse_probe_command(const json_t *value, GError **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) local = NULL;
  size_t i;
  json_t *word;

  if (value == NULL || json_is_null(value))
    return NULL;
  if (json_is_string(value)) {
    GStrv parsed = pp_probe_command_parse(json_string_value(value), error);

    if (parsed == NULL)
      g_prefix_error(error, "field 'probe_command': ");
    return parsed;
  }
  if (!json_is_array(value) || json_array_size(value) == 0 ||
      json_array_size(value) > PP_HOST_PROBE_WORDS_MAX) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "field 'probe_command' must be a string or an array of 1 to %d strings",
                PP_HOST_PROBE_WORDS_MAX);
    return NULL;
  }
  builder = g_strv_builder_new();
  json_array_foreach((json_t *)value, i, word)
  {
    if (!json_is_string(word) || strlen(json_string_value(word)) != json_string_length(word)) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "field 'probe_command': word %zu must be a string without NUL", i + 1);
      return NULL;
    }
    g_strv_builder_add(builder, json_string_value(word));
  }
  argv = g_strv_builder_end(builder);
  if (!spec_rule(pp_host_spec_check_probe_command((const char *const *)argv, &local),
                 "probe_command", &local, error))
    return NULL;
  return g_steal_pointer(&argv);
}

/* The host settings of a body, as POST /v1/hosts and PATCH /v1/hosts/ID
 * take them, parsed and checked for their form; the store checks the
 * whole host again (check_host_spec()). A has_* flag says the field is in
 * the body, null included: the field's value is then NULL (no ssh, the
 * default URI or probe). */
typedef struct {
  gboolean has_ssh;
  char *ssh_user;
  char *ssh_host;
  int ssh_port;
  gboolean has_libvirt_uri;
  const char *libvirt_uri; /* borrowed from the body */
  gboolean has_probe_command;
  GStrv probe_command;
  gboolean has_prebound;
  gboolean prebound;
} HostFields;

static void
host_fields_clear(HostFields *fields)
{
  g_clear_pointer(&fields->ssh_user, g_free);
  g_clear_pointer(&fields->ssh_host, g_free);
  g_clear_pointer(&fields->probe_command, g_strfreev);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostFields, host_fields_clear)

/* Parses ssh, libvirt_uri, probe_command and prebound of @body into @ret.
 * prebound may be null when @prebound_nullable (create: the default), not
 * in a change, which says what to. */
static gboolean
host_fields_parse(const json_t *body, gboolean prebound_nullable, HostFields *ret, GError **error)
{
  const char *ssh;
  g_autoptr(GError) local = NULL;

  ret->has_ssh = json_object_get(body, "ssh") != NULL;
  ret->has_libvirt_uri = json_object_get(body, "libvirt_uri") != NULL;
  ret->has_probe_command = json_object_get(body, "probe_command") != NULL;
  ret->has_prebound = json_object_get(body, "prebound") != NULL;
  if (!get_string(body, "ssh", MAX_SSH_LEN, FALSE, &ssh, error) ||
      !get_string(body, "libvirt_uri", PP_HOST_URI_MAX, FALSE, &ret->libvirt_uri, error) ||
      !get_bool(body, "prebound", prebound_nullable, &ret->prebound, error))
    return FALSE;
  if (ssh != NULL && !parse_ssh(ssh, &ret->ssh_user, &ret->ssh_host, &ret->ssh_port, error))
    return FALSE;
  if (ret->libvirt_uri != NULL &&
      !spec_rule(pp_host_spec_check_libvirt_uri(ret->libvirt_uri, &local), "libvirt_uri", &local,
                 error))
    return FALSE;
  ret->probe_command = parse_probe_command(json_object_get(body, "probe_command"), &local);
  if (local != NULL) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  return TRUE;
}

/* What the monitor will run for a host probed with @command or over ssh
 * must be buildable now, not fail at the next probe. */
static gboolean
check_probe_target(const char *const *command, const char *ssh_user, const char *ssh_host,
                   int ssh_port, GError **error)
{
  PpProbeTarget target = { 0 };
  g_auto(GStrv) argv = NULL;

  target.probe_command = command;
  target.ssh_user = ssh_user;
  target.ssh_host = ssh_host;
  target.ssh_port = ssh_port;
  target.probe_path = "pcipass-probe";
  argv = pp_probe_argv_build(&target, error);
  if (argv == NULL) {
    g_prefix_error(error, "field '%s': ", command ? "probe_command" : "ssh");
    return FALSE;
  }
  return TRUE;
}

static json_t *
api_host_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "name",          "ssh",      "libvirt_uri",
                                        "probe_command", "prebound", NULL };
  const char *name;
  g_auto(HostFields) parsed = { 0 };
  g_autoptr(PpHost) host = NULL;
  PpHostSpec spec = { 0 };

  if (!check_fields(call->body, fields, error) ||
      !get_string(call->body, "name", 64, TRUE, &name, error) ||
      !host_fields_parse(call->body, TRUE, &parsed, error) ||
      !check_probe_target((const char *const *)parsed.probe_command, parsed.ssh_user,
                          parsed.ssh_host, parsed.ssh_port, error))
    return NULL;

  spec.name = name;
  spec.ssh_user = parsed.ssh_user;
  spec.ssh_host = parsed.ssh_host;
  spec.ssh_port = parsed.ssh_port;
  spec.libvirt_uri = parsed.libvirt_uri;
  spec.probe_command = (const char *const *)parsed.probe_command;
  spec.prebound = parsed.prebound;
  host = pp_store_host_create(call->ctx->store, &spec, call->now, error);
  if (host == NULL)
    return NULL;
  g_message("host '%s' (id %" G_GINT64_FORMAT ") created by '%s'", host->name, host->id,
            call->user->name);
  if (call->ctx->monitor != NULL)
    pp_monitor_poke(call->ctx->monitor, host->id);
  *ret_status = 201;
  return built(host_to_json(host, &admin_sight), error);
}

static PpHost *
find_host(PpApiCall *call, GError **error)
{
  return pp_store_host_find(call->ctx->store, call->args[0], error);
}

static json_t *
api_host_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GPtrArray) allowances = NULL;
  g_autoptr(json_t) json = NULL;
  g_auto(Sight) sight = { 0 };
  json_t *array;

  if (host == NULL || !sight_init(call, FALSE, &sight, error))
    return NULL;
  devices = pp_store_host_list_devices(call->ctx->store, host->id, error);
  if (devices == NULL)
    return NULL;
  json = host_to_json(host, &sight);
  array = json_array();
  if (json == NULL || json_object_set_new(json, "pci_devices", array) != 0)
    return built(NULL, error);
  for (guint i = 0; i < devices->len; i++) {
    if (!pp_json_append(array, device_to_json(g_ptr_array_index(devices, i), &sight)))
      return built(NULL, error);
  }
  allowances = pp_store_host_list_allowances(call->ctx->store, host->id, error);
  if (allowances == NULL)
    return NULL;
  array = json_array();
  if (json_object_set_new(json, "allowances", array) != 0)
    return built(NULL, error);
  for (guint i = 0; i < allowances->len; i++) {
    const PpHostAllowance *a = g_ptr_array_index(allowances, i);

    if (!pp_json_append(array, json_pack("{s:o,s:o,s:I}", "address", pp_json_text(a->address), "by",
                                         pp_json_text(a->by), "created", (json_int_t)a->created)))
      return built(NULL, error);
  }
  return g_steal_pointer(&json);
}

static json_t *
set_enabled(PpApiCall *call, gboolean enabled, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autoptr(PpHost) changed = NULL;

  if (host == NULL || !pp_store_host_set_enabled(call->ctx->store, host->id, enabled, error))
    return NULL;
  changed = pp_store_host_get(call->ctx->store, host->id, error);
  if (changed == NULL)
    return NULL;
  if (changed->state != host->state)
    g_message("host '%s' %s by '%s'", host->name, enabled ? "enabled" : "disabled",
              call->user->name);
  if (enabled && call->ctx->monitor != NULL && host->state == PP_HOST_STATE_DISABLED)
    pp_monitor_poke(call->ctx->monitor, host->id);
  return built(host_to_json(changed, &admin_sight), error);
}

/* PATCH /v1/hosts/ID: the settings that can change without re-creating
 * the host: how it is probed (ssh, probe_command; null: the default),
 * reached (libvirt_uri; null: the default), its hostdev mode (prebound),
 * and allow_needed / disallow_needed: an address the host needs that VMs
 * may have all the same (recorded with who and when), and its undo. All
 * are checked before anything changes. */
static json_t *
api_host_update(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "ssh",      "libvirt_uri",  "probe_command",
                                        "prebound", "allow_needed", "disallow_needed",
                                        NULL };
  g_autoptr(json_t) own = NULL;
  g_auto(HostFields) parsed = { 0 };
  g_autoptr(PpHost) host = NULL;
  g_autoptr(PpHost) changed = NULL;
  g_autoptr(GString) what = g_string_new(NULL);
  PpHostUpdate update = { 0 };
  const char *allow = NULL, *disallow = NULL;
  gboolean probe_changed;
  PpPciAddress addr;

  if (!check_fields(call->body, fields, error))
    return NULL;
  if (json_object_size(call->body) == 0) {
    g_autofree char *list = g_strjoinv(", ", (char **)fields);

    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "nothing to change: the body names no field (known: %s)", list);
    return NULL;
  }
  if (!get_string(call->body, "allow_needed", MAX_ADDRESS_LEN, FALSE, &allow, error) ||
      !get_string(call->body, "disallow_needed", MAX_ADDRESS_LEN, FALSE, &disallow, error))
    return NULL;
  for (guint i = 0; i < 2; i++) {
    const char *text = i == 0 ? allow : disallow;

    if (text != NULL && !pp_pci_address_parse(text, &addr, NULL)) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "%s: '%s' is not a PCI address (0000:00:1f.0 or 00:1f.0)",
                  i == 0 ? "allow_needed" : "disallow_needed", text);
      return NULL;
    }
  }
  /* host_fields_parse() knows the host's own fields only; @parsed
   * borrows from @own. */
  own = json_deep_copy(call->body);
  json_object_del(own, "allow_needed");
  json_object_del(own, "disallow_needed");
  if (!host_fields_parse(own, FALSE, &parsed, error))
    return NULL;
  host = find_host(call, error);
  if (host == NULL)
    return NULL;
  /* The undo can fail on a good request (no such allowance): checked
   * before anything changes. */
  if (disallow != NULL) {
    g_autoptr(GPtrArray) allowances =
        pp_store_host_list_allowances(call->ctx->store, host->id, error);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];
    gboolean found = FALSE;

    if (allowances == NULL)
      return NULL;
    pp_pci_address_parse(disallow, &addr, NULL);
    pp_pci_address_format(&addr, bdf);
    for (guint i = 0; i < allowances->len; i++)
      found |= strcmp(((PpHostAllowance *)g_ptr_array_index(allowances, i))->address, bdf) == 0;
    if (!found) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                  "host '%s' has no allowance for %s", host->name, bdf);
      return NULL;
    }
  }

  update.set_ssh = parsed.has_ssh;
  update.ssh_user = parsed.ssh_user;
  update.ssh_host = parsed.ssh_host;
  update.ssh_port = parsed.ssh_port;
  update.set_libvirt_uri = parsed.has_libvirt_uri;
  update.libvirt_uri = parsed.libvirt_uri;
  update.set_probe_command = parsed.has_probe_command;
  update.probe_command = (const char *const *)parsed.probe_command;
  update.set_prebound = parsed.has_prebound;
  update.prebound = parsed.prebound;
  if (!check_probe_target(parsed.has_probe_command ? update.probe_command
                                                   : (const char *const *)host->probe_command,
                          parsed.has_ssh ? parsed.ssh_user : host->ssh_user,
                          parsed.has_ssh ? parsed.ssh_host : host->ssh_host,
                          parsed.has_ssh ? parsed.ssh_port : host->ssh_port, error))
    return NULL;
  changed = pp_store_host_update(call->ctx->store, host->id, &update, error);
  if (changed == NULL)
    return NULL;
  if (disallow != NULL) {
    if (!pp_store_host_disallow(call->ctx->store, host->id, disallow, error))
      return NULL;
    g_message("host '%s': %s no longer allowed to VMs, by '%s'", host->name, disallow,
              call->user->name);
  }
  if (allow != NULL) {
    if (!pp_store_host_allow(call->ctx->store, host->id, allow, call->user->name, call->now, error))
      return NULL;
    g_message("host '%s': %s allowed to VMs although the host may need it, by '%s'", host->name,
              allow, call->user->name);
  }

  for (guint i = 0; fields[i] != NULL; i++) {
    if (json_object_get(call->body, fields[i]) != NULL && strstr(fields[i], "allow") == NULL)
      g_string_append_printf(what, "%s%s", what->len > 0 ? ", " : "", fields[i]);
  }
  if (what->len > 0)
    g_message("host '%s': %s changed by '%s'", host->name, what->str, call->user->name);
  if (changed->prebound != host->prebound)
    g_message("host '%s' is now %s", host->name,
              changed->prebound ? "prebound (managed='no')" : "managed");
  /* What can be given there changed: pending VMs may fit, or not. */
  if (call->ctx->scheduler != NULL &&
      (allow != NULL || disallow != NULL || changed->prebound != host->prebound))
    pp_scheduler_poke(call->ctx->scheduler);
  /* A new way to probe it is tried at once, as a new host is; a new URI
   * is checked then too (the probe's end reconciles its libvirt). */
  probe_changed = parsed.has_ssh || parsed.has_probe_command || parsed.has_libvirt_uri;
  if (probe_changed && call->ctx->monitor != NULL && changed->state != PP_HOST_STATE_DISABLED)
    pp_monitor_poke(call->ctx->monitor, changed->id);
  return built(host_to_json(changed, &admin_sight), error);
}

static json_t *
api_host_enable(PpApiCall *call, guint *ret_status, GError **error)
{
  return set_enabled(call, TRUE, error);
}

static json_t *
api_host_disable(PpApiCall *call, guint *ret_status, GError **error)
{
  return set_enabled(call, FALSE, error);
}

static json_t *
api_host_probe(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL)
    return NULL;
  if (host->state == PP_HOST_STATE_DISABLED) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' is disabled; enable it first (pcipass host enable %s)", host->name,
                host->name);
    return NULL;
  }
  if (call->ctx->monitor != NULL)
    pp_monitor_poke(call->ctx->monitor, host->id);
  *ret_status = 202;
  return built(host_to_json(host, &admin_sight), error);
}

static json_t *
api_host_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL || !pp_store_host_delete(call->ctx->store, host->id, error))
    return NULL;
  g_message("host '%s' (id %" G_GINT64_FORMAT ") deleted by '%s'", host->name, host->id,
            call->user->name);
  return built(json_pack("{s:I}", "deleted", (json_int_t)host->id), error);
}

/* POST /v1/hosts/ID/report: the body is the host's probe output
 * (pcipass-probe --push), from the host's report token or an admin. */
static json_t *
api_host_report(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = NULL;
  PpIngestResult result = { 0 };
  const char *text, *name;
  gint64 host_id;
  gsize len = 0;
  gboolean ok;

  /* A report token is its host's: the path named it already (admit). */
  if (call->host != NULL) {
    host_id = call->host->host_id;
    name = call->host->host_name;
  } else {
    host = find_host(call, error);
    if (host == NULL)
      return NULL;
    host_id = host->id;
    name = host->name;
  }
  text = pp_http_request_get_body(call->req, &len);
  if (call->ctx->monitor != NULL)
    ok = pp_monitor_ingest(call->ctx->monitor, host_id, text, len, &result, error);
  else
    ok = pp_store_host_ingest(call->ctx->store, host_id, text, len, call->now, &result, error);
  if (!ok) {
    if ((*error)->domain == PP_PROBE_REPORT_ERROR)
      g_prefix_error(error, "the report of host '%s' is refused, nothing changed: ", name);
    return NULL;
  }
  return built(json_pack("{s:s,s:I,s:b,s:I,s:I,s:I,s:I}", "host", name, "host_id",
                         (json_int_t)host_id, "changed", result.changed, "devices",
                         (json_int_t)result.devices, "added", (json_int_t)result.stats.added,
                         "removed", (json_int_t)result.stats.removed, "gone",
                         (json_int_t)result.stats.flagged),
               error);
}

/* POST /v1/hosts/ID/token: a new report token for the host, replacing
 * any it had; the secret is in the answer, this once. The host is in
 * push mode from now on. */
static json_t *
api_host_token_create(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);
  g_autofree char *hash = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *path = NULL;
  json_t *json;

  if (host == NULL)
    return NULL;
  secret = pp_auth_host_token_new(&hash);
  if (!pp_store_host_token_set(call->ctx->store, host->id, hash, call->now, error)) {
    explicit_bzero(secret, strlen(secret));
    return NULL;
  }
  if (call->ctx->monitor != NULL)
    pp_monitor_set_push(call->ctx->monitor, host->id, TRUE);
  g_message("host '%s': report token made by '%s'; the host pushes its reports from now on",
            host->name, call->user->name);
  path = g_strdup_printf("/v1/hosts/%s/report", host->name);
  json =
      built(json_pack("{s:s,s:I,s:s,s:I,s:s}", "host", host->name, "host_id", (json_int_t)host->id,
                      "report_path", path, "created", (json_int_t)call->now, "token", secret),
            error);
  explicit_bzero(secret, strlen(secret));
  *ret_status = 201;
  return json;
}

/* DELETE /v1/hosts/ID/token: refused from the next request on; the host
 * is probed again from the next monitor pass. */
static json_t *
api_host_token_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpHost) host = find_host(call, error);

  if (host == NULL || !pp_store_host_token_delete(call->ctx->store, host->id, error))
    return NULL;
  if (call->ctx->monitor != NULL)
    pp_monitor_set_push(call->ctx->monitor, host->id, FALSE);
  g_message("host '%s': report token revoked by '%s'; the host is probed again", host->name,
            call->user->name);
  return built(json_pack("{s:s,s:I,s:b}", "host", host->name, "host_id", (json_int_t)host->id,
                         "revoked", TRUE),
               error);
}

static json_t *
api_user_list(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(GPtrArray) users = pp_store_user_list(call->ctx->store, error);
  g_autoptr(json_t) array = NULL;

  if (users == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < users->len; i++) {
    if (!pp_json_append(array, user_to_json(g_ptr_array_index(users, i))))
      return built(NULL, error);
  }
  return built(json_pack("{s:O}", "users", array), error);
}

static json_t *
api_user_create(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "name", "admin", NULL };
  const char *name;
  gboolean admin;
  g_autoptr(PpUser) user = NULL;

  if (!check_fields(call->body, fields, error) ||
      !get_string(call->body, "name", 64, TRUE, &name, error) ||
      !get_bool(call->body, "admin", TRUE, &admin, error))
    return NULL;
  user = pp_store_user_create(call->ctx->store, name, admin, call->now, error);
  if (user == NULL)
    return NULL;
  g_message("user '%s'%s created by '%s'", user->name, admin ? " (admin)" : "", call->user->name);
  *ret_status = 201;
  return built(user_to_json(user), error);
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
  json = built(user_to_json(user), error);
  if (json != NULL && json_object_set_new(json, "quota", quota_to_json(quota)) != 0) {
    json_decref(json);
    return built(NULL, error);
  }
  return json;
}

static json_t *
api_user_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpUser) user = find_user(call, error);

  if (user == NULL)
    return NULL;
  return user_with_quota(call, user, NULL, error);
}

static json_t *
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
  return built(json_pack("{s:I,s:i,s:i}", "deleted", (json_int_t)user->id, "tokens", (int)tokens,
                         "done_vms", (int)vms),
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

/* PATCH /v1/users/NAME/quota: {"vms", "cpu", "memory_mib", "pci": N or
 * null, "pci_classes": {"0302": N or null}}; a field left out keeps its
 * limit, null removes it. All is checked before anything changes. */
static json_t *
api_user_quota(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const fields[] = { "vms", "cpu", "memory_mib", "pci", "pci_classes", NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpQuota) quota = NULL;
  g_autoptr(GArray) classes = g_array_new(FALSE, TRUE, sizeof(PpQuotaClass));
  const json_t *by_class = json_object_get(call->body, "pci_classes");
  PpQuotaUpdate update = { 0 };
  gboolean set;
  const char *key;
  json_t *value;

  if (!check_fields(call->body, fields, error))
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
      !get_limit(call->body, "pci", PP_QUOTA_MAX_PCI, FALSE, &update.set_pci, &update.pci, error))
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

static json_t *
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
      return built(NULL, error);
  }
  return built(json_pack("{s:O}", "tokens", array), error);
}

static json_t *
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

  if (!check_fields(call->body, fields, error) ||
      !get_string(call->body, "name", MAX_LABEL_LEN, FALSE, &label, error) ||
      !get_string(call->body, "user", 64, FALSE, &user_name, error))
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
  json = built(token_to_json(token, call->now), error);
  if (json != NULL)
    json_object_set_new(json, "token", json_string(secret));
  explicit_bzero(secret, strlen(secret));
  *ret_status = 201;
  return json;
}

/* DELETE /v1/tokens/ID: the caller's own token, or any for an admin;
 * another's is 404, as if it did not exist. */
static json_t *
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
  return built(json_pack("{s:I}", "deleted", (json_int_t)id), error);
}

/* VMs. */

static json_t *
requests_to_json(const PpVmSpec *spec)
{
  json_t *array = json_array();

  for (guint i = 0; spec != NULL && i < spec->requests->len; i++)
    json_array_append_new(array, pp_json_text(g_array_index(spec->requests, PpPciRequest, i).text));
  return array;
}

/* A device of a VM: @request is its request's index, or -1 for a
 * companion of its IOMMU group. */
static json_t *
vm_device_to_json(const char *address, const char *short_address, guint16 vendor, guint16 device,
                  guint16 class_code, const char *name, gint numa_node, gint iommu_group,
                  gint request)
{
  char type[16];

  g_snprintf(type, sizeof(type), "%04x:%04x:%04x", vendor, device, class_code);
  return json_pack("{s:o,s:o,s:s,s:o,s:o,s:o,s:o}", "address", pp_json_text(address),
                   "short_address", pp_json_text(short_address), "type", type, "name",
                   pp_json_text(name), "numa_node", json_int_or_null(numa_node, -1), "iommu_group",
                   json_int_or_null(iommu_group, -1), "request", json_int_or_null(request, -1));
}

/* The VM's console, without its password: whether it has one. */
static json_t *
graphics_to_json(const PpVmSpec *spec)
{
  const PpVmGraphics *graphics = spec != NULL ? &spec->graphics : NULL;

  if (graphics == NULL || graphics->type == PP_VM_GRAPHICS_NONE)
    return json_null();
  return json_pack("{s:s,s:o,s:o,s:o,s:b}", "type",
                   graphics->type == PP_VM_GRAPHICS_VNC ? "vnc" : "spice", "listen",
                   pp_json_text(graphics->listen), "port", json_int_or_null(graphics->port, -1),
                   "keymap", pp_json_text(graphics->keymap), "password", graphics->passwd != NULL);
}

/* An explanation ([{"host_id", "host", "reason"}...], the scheduler's or
 * a dry run's) as the caller may read it: for a user, "held by another VM"
 * for a VM not its own. Takes @explanation; returns it. */
static json_t *
sight_explanation(const Sight *sight, json_t *explanation)
{
  json_t *entry;
  size_t i;

  if (sight->admin || !json_is_array(explanation))
    return explanation;
  json_array_foreach(explanation, i, entry)
  {
    const char *reason = json_string_value(json_object_get(entry, "reason"));

    if (reason != NULL) {
      g_autofree char *shown = sight_reason(sight, reason);

      json_object_set_new(entry, "reason", pp_json_text(shown));
    }
  }
  return explanation;
}

/* A compact explanation (pp_scheduler_explain()): per reason, its first
 * host with that host's own reason (host_id, host, reason), how many hosts
 * share it (hosts_count), what they share (summary), and the first few
 * hosts' names (hosts). */
static json_t *
explanation_to_json(const GPtrArray *groups)
{
  json_t *array = json_array();

  for (guint i = 0; i < groups->len; i++) {
    const PpPlaceReasonGroup *g = g_ptr_array_index((GPtrArray *)groups, i);
    const PpPlaceRejection *first = g_ptr_array_index(g->examples, 0);
    json_t *names = json_array();

    for (guint k = 0; k < g->examples->len; k++)
      pp_json_append(
          names, pp_json_text(((PpPlaceRejection *)g_ptr_array_index(g->examples, k))->host_name));
    pp_json_append(array,
                   json_pack("{s:I,s:o,s:o,s:I,s:o,s:o}", "host_id", (json_int_t)first->host_id,
                             "host", pp_json_text(first->host_name), "reason",
                             pp_json_text(first->reason), "hosts_count", (json_int_t)g->n_hosts,
                             "summary", pp_json_text(g->summary), "hosts", names));
  }
  return array;
}

/* A VM as the API shows it. A console's password is a secret: the
 * template and the domain XML show it as PP_VM_TEMPLATE_HIDDEN, to the
 * owner and the admin alike. Its reason and explanation as @sight lets
 * the caller read them. */
static json_t *
vm_to_json(const PpApiContext *ctx, const Sight *sight, const PpVm *vm, GError **error)
{
  /* What its create stored, typed: NULL for a VM stored with none. */
  g_autoptr(PpVmSpec) spec = pp_store_vm_get_spec(ctx->store, vm->id, NULL);
  g_autoptr(GPtrArray) devices = pp_store_vm_list_devices(ctx->store, vm->id, error);
  g_autofree char *recorded = NULL;
  g_autofree char *domain = pp_scheduler_domain_name(vm->id);
  g_autofree char *shown_template =
      pp_vm_template_redact_secrets(vm->template_text, strlen(vm->template_text));
  g_autofree char *reason = sight_text(sight, vm->reason);
  guint n_requests = spec ? spec->requests->len : 0;
  g_autofree char *xml = NULL;
  json_t *host = json_null();
  json_t *explanation = json_null();
  json_t *array;

  if (devices == NULL || !pp_store_vm_get_domain_xml(ctx->store, vm->id, &recorded, error))
    return NULL;
  /* What the deployer gave libvirt, as it recorded it: null before a
   * deploy (and once the VM is placed anew). */
  if (recorded != NULL)
    xml = pp_domain_xml_redact_secrets(recorded);
  if (vm->host_id != 0)
    host =
        json_pack("{s:I,s:o}", "id", (json_int_t)vm->host_id, "name", pp_json_text(vm->host_name));
  if (vm->state == PP_VM_STATE_PENDING && ctx->scheduler != NULL) {
    g_autoptr(GPtrArray) groups = pp_scheduler_explain(ctx->scheduler, vm->id, NULL);

    if (groups != NULL)
      explanation = sight_explanation(sight, explanation_to_json(groups));
  }
  array = json_array();
  for (guint i = 0; i < devices->len; i++) {
    const PpStoreDevice *dev = g_ptr_array_index(devices, i);

    pp_json_append(array,
                   vm_device_to_json(
                       dev->address, dev->short_address, dev->vendor, dev->device, dev->class_code,
                       dev->device_name, dev->numa_node, dev->iommu_group,
                       dev->vm_slot >= 0 && (guint)dev->vm_slot < n_requests ? dev->vm_slot : -1));
  }
  return built(
      json_pack(
          "{s:I,s:o,s:o,s:s,s:o,s:o,s:f,s:i,s:I,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:I,s:I,s:i}", "id",
          (json_int_t)vm->id, "name", pp_json_text(vm->name), "owner", pp_json_text(vm->owner_name),
          "state", pp_vm_state_to_string(vm->state), "reason", pp_json_text(reason), "host", host,
          "cpu", (double)vm->cpu / 100.0, "vcpu", spec ? (int)spec->vcpu : 0, "memory_mib",
          (json_int_t)(vm->memory_kib / 1024), "graphics", graphics_to_json(spec), "pci_requests",
          requests_to_json(spec), "devices", array, "explanation", explanation, "domain", domain,
          "domain_xml", pp_json_text(xml), "template", pp_json_text(shown_template), "created",
          (json_int_t)vm->created, "updated", (json_int_t)vm->updated, "tries", (int)vm->tries),
      error);
}

/* What the caller may ask of a template, by who they are: a user who is
 * not an administrator names no file of the host (DESIGN: users never
 * name host paths). And every image it names is found now, so that a bad
 * one is refused before anything is made (it is found again at deploy). */
static gboolean
check_template(PpApiCall *call, PpVmSpec *spec, GError **error)
{
  PpTextPos pos = { 0, 0 };

  if (!call->user->admin && !pp_vm_spec_check_host_paths(spec, &pos, error))
    g_message("a template of '%s' names a file of the host (%s: %s), refused", call->user->name,
              spec->host_path.attribute, spec->host_path.key);
  else if (pp_images_resolve_spec(call->ctx->images, spec, &pos, error))
    return TRUE;
  if (pos.line > 0)
    call->error_fields = json_pack("{s:i,s:i}", "line", (int)pos.line, "column", (int)pos.column);
  return FALSE;
}

/* The template of a body {"template": TEXT}, parsed, and checked for the
 * caller (check_template()). Its error answer says where, for a client
 * that names the file: "line" and "column", or "missing" (the required
 * attribute's name). */
static PpVmSpec *
body_template(PpApiCall *call, const char **ret_text, GError **error)
{
  static const char *const fields[] = { "template", NULL };
  PpVmTemplateWhere where = { { 0, 0 }, NULL };
  const char *text;
  g_autoptr(PpVmSpec) spec = NULL;

  if (!check_fields(call->body, fields, error) ||
      !get_string(call->body, "template", PP_TEMPLATE_MAX_SIZE, TRUE, &text, error))
    return NULL;
  *ret_text = text;
  spec = pp_vm_template_parse_where(text, strlen(text), &where, error);
  if (spec == NULL && where.pos.line > 0)
    call->error_fields =
        json_pack("{s:i,s:i}", "line", (int)where.pos.line, "column", (int)where.pos.column);
  else if (spec == NULL && where.missing != NULL)
    call->error_fields = json_pack("{s:s}", "missing", where.missing);
  if (spec == NULL || !check_template(call, spec, error))
    return NULL;
  return g_steal_pointer(&spec);
}

static json_t *
api_vm_create(PpApiCall *call, guint *ret_status, GError **error)
{
  const char *text;
  g_autoptr(PpVmSpec) spec = body_template(call, &text, error);
  g_autoptr(PpVm) vm = NULL;
  g_auto(Sight) sight = { 0 };

  /* What may fail goes before the create: a VM made is answered 201, or a
   * client that retries would make a second one. */
  if (spec == NULL || !sight_init(call, TRUE, &sight, error))
    return NULL;
  /* Parsed here, once: the store keeps it typed. */
  vm = pp_store_vm_create_spec(call->ctx->store, call->user->id, text, spec, call->now, error);
  if (vm == NULL)
    return NULL;
  g_message("VM %" G_GINT64_FORMAT " '%s' created by '%s' with %u PCI request%s", vm->id, vm->name,
            call->user->name, spec->requests->len, spec->requests->len == 1 ? "" : "s");
  if (call->ctx->scheduler != NULL)
    pp_scheduler_poke(call->ctx->scheduler);
  *ret_status = 201;
  return vm_to_json(call->ctx, &sight, vm, error);
}

/* Query @name, 0 or 1 (absent: 0). */
static gboolean
parse_flag(PpApiCall *call, const char *name, gboolean *ret, GError **error)
{
  const char *text = pp_http_request_get_query(call->req, name);

  *ret = FALSE;
  if (text == NULL || strcmp(text, "0") == 0)
    return TRUE;
  if (strcmp(text, "1") == 0) {
    *ret = TRUE;
    return TRUE;
  }
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST, "query '%s' must be 0 or 1", name);
  return FALSE;
}

/* The first line of @text (nullable), at most LIST_LINE_MAX characters,
 * "..." ending one cut. Returns: (transfer full) (nullable). */
static char *
first_line(const char *text)
{
  g_autofree char *valid = NULL;
  gsize len;

  if (text == NULL)
    return NULL;
  len = strcspn(text, "\n");
  valid = g_utf8_make_valid(text, (gssize)len);
  if (g_utf8_strlen(valid, -1) <= LIST_LINE_MAX && text[len] == '\0')
    return g_steal_pointer(&valid);
  if (g_utf8_strlen(valid, -1) > LIST_LINE_MAX - 3) {
    char *end = g_utf8_offset_to_pointer(valid, LIST_LINE_MAX - 3);

    *end = '\0';
  }
  return g_strconcat(valid, "...", NULL);
}

/* The first reason of a pending VM's explanation, on one line, as
 * @sight lets the caller read it (the scheduler's, kept in memory: the
 * store holds none). Returns: (transfer full) (nullable). */
static char *
row_summary(PpScheduler *scheduler, const Sight *sight, const PpVmRow *row)
{
  g_autofree char *text = NULL;
  g_autofree char *shown = NULL;

  if (scheduler == NULL || row->state != PP_VM_STATE_PENDING)
    return NULL;
  text = pp_scheduler_explain_summary(scheduler, row->id);
  if (text == NULL)
    return NULL;
  /* Hidden before cut: a URI or a VM id cut in half would not be found. */
  shown = sight_reason(sight, text);
  return first_line(shown);
}

/* A VM as a list shows it (pp-api.h, VM_ROW). */
static json_t *
vm_row_to_json(PpScheduler *scheduler, const Sight *sight, const PpVmRow *row)
{
  g_autofree char *reason_shown = sight_text(sight, row->reason);
  g_autofree char *reason = first_line(reason_shown);
  g_autofree char *summary = row_summary(scheduler, sight, row);
  json_t *host = json_null();

  if (row->host_id != 0)
    host = json_pack("{s:I,s:o}", "id", (json_int_t)row->host_id, "name",
                     pp_json_text(row->host_name));
  return json_pack(
      "{s:I,s:o,s:o,s:s,s:o,s:o,s:f,s:I,s:i,s:o,s:I,s:I,s:i}", "id", (json_int_t)row->id, "name",
      pp_json_text(row->name), "owner", pp_json_text(row->owner_name), "state",
      pp_vm_state_to_string(row->state), "reason", pp_json_text(reason), "host", host, "cpu",
      (double)row->cpu / 100.0, "memory_mib", (json_int_t)(row->memory_kib / 1024), "devices_held",
      (int)row->devices, "summary", pp_json_text(summary), "created", (json_int_t)row->created,
      "updated", (json_int_t)row->updated, "tries", (int)row->tries);
}

/* "host" (an id or a name) and "owner" (a user's name) of GET /v1/vms
 * into @page. A user lists their own VMs only: "owner" naming another is
 * 403 (naming themselves is allowed). An unknown host or owner is 400. */
static gboolean
query_vm_filters(const PpApiCall *call, PpStorePage *page, GError **error)
{
  const char *host = pp_http_request_get_query(call->req, "host");
  const char *owner = pp_http_request_get_query(call->req, "owner");

  if (host != NULL) {
    g_autoptr(GError) local = NULL;
    g_autoptr(PpHost) found = pp_store_host_find(call->ctx->store, host, &local);

    if (found == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "query 'host': no host '%.64s': give a host's id or name (GET /v1/hosts)", host);
      return FALSE;
    }
    page->host_id = found->id;
  }
  if (!call->user->admin) {
    if (owner != NULL && strcmp(owner, call->user->name) != 0) {
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_FORBIDDEN,
                  "query 'owner': you may list only your own VMs ('%s'), not '%.64s'",
                  call->user->name, owner);
      return FALSE;
    }
    page->owner_id = call->user->id;
  } else if (owner != NULL) {
    g_autoptr(GError) local = NULL;
    g_autoptr(PpUser) user = pp_store_user_find(call->ctx->store, owner, &local);

    if (user == NULL) {
      if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
      }
      g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                  "query 'owner': no user '%.64s': give a user's name (GET /v1/users)", owner);
      return FALSE;
    }
    page->owner_id = user->id;
  }
  return TRUE;
}

static json_t *
api_vm_list(PpApiCall *call, guint *ret_status, GError **error)
{
  static const char *const takes[] = { "limit", "after", "state", "host", "owner", "all", NULL };
  const char *all = pp_http_request_get_query(call->req, "all");
  PpStorePage page = { 0 };
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gint64 next = 0;

  if (!check_query(call, "GET /v1/vms", takes, error))
    return NULL;
  if (all != NULL && strcmp(all, "0") != 0 && strcmp(all, "1") != 0) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "query 'all': '%.64s' is not 0 or 1: give all=1 to list the VMs that are done "
                "too",
                all);
    return NULL;
  }
  if (!query_page(call, &page, error) ||
      !query_states(call, "VM", vm_state_name, _PP_VM_STATE_MAX, vm_state_parse, &page.states,
                    error) ||
      !query_vm_filters(call, &page, error))
    return NULL;
  /* Without "state": every VM that is not done, or every VM with all=1. */
  if (page.states == 0 && (all == NULL || strcmp(all, "0") == 0)) {
    for (int s = 0; s < _PP_VM_STATE_MAX; s++) {
      if (s != PP_VM_STATE_DONE)
        page.states |= 1u << s;
    }
  }
  rows = pp_store_vm_page(call->ctx->store, &page, &next, error);
  if (rows == NULL || !sight_init(call, TRUE, &sight, error))
    return NULL;
  array = json_array();
  for (guint i = 0; i < rows->len; i++) {
    if (!pp_json_append(array,
                        vm_row_to_json(call->ctx->scheduler, &sight, g_ptr_array_index(rows, i))))
      return built(NULL, error);
  }
  return page_json("vms", g_steal_pointer(&array), next, error);
}

/* The VM of the path, by id or name (pp_store_vm_find()), if the caller
 * may see it: others' VMs are 404, as if they did not exist. */
static PpVm *
find_vm(PpApiCall *call, GError **error)
{
  return pp_store_vm_find(call->ctx->store, call->args[0], call->user->admin ? 0 : call->user->id,
                          error);
}

/* Every change of the VM's state, oldest first: {"at", "from", "to",
 * "reason", "host"}. */
static json_t *
history_to_json(const Sight *sight, const GPtrArray *history)
{
  json_t *array = json_array();

  for (guint i = 0; i < history->len; i++) {
    const PpVmChange *c = g_ptr_array_index(history, i);
    g_autofree char *reason = sight_text(sight, c->reason);

    pp_json_append(array,
                   json_pack("{s:I,s:o,s:o,s:o,s:o}", "at", (json_int_t)c->at, "from",
                             pp_json_text(c->from_state), "to", pp_json_text(c->to_state), "reason",
                             pp_json_text(reason), "host", pp_json_text(c->host_name)));
  }
  return array;
}

static json_t *
api_vm_show(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(json_t) json = NULL;
  g_auto(Sight) sight = { 0 };
  gboolean all_hosts = FALSE;

  if (vm == NULL || !sight_init(call, TRUE, &sight, error))
    return NULL;
  json = vm_to_json(call->ctx, &sight, vm, error);
  if (json == NULL)
    return NULL;
  if (!parse_flag(call, "all_hosts", &all_hosts, error))
    return NULL;
  if (all_hosts) {
    /* Host by host: as long as the cluster, so only when asked for. */
    g_autoptr(GPtrArray) rejections = vm->state == PP_VM_STATE_PENDING
                                          ? pp_scheduler_explain_hosts(call->ctx->scheduler, vm->id)
                                          : NULL;
    json_t *array = json_null();

    if (rejections != NULL) {
      array = json_array();
      for (guint i = 0; i < rejections->len; i++) {
        const PpPlaceRejection *r = g_ptr_array_index(rejections, i);

        pp_json_append(array,
                       json_pack("{s:I,s:o,s:o}", "host_id", (json_int_t)r->host_id, "host",
                                 pp_json_text(r->host_name), "reason", pp_json_text(r->reason)));
      }
      array = sight_explanation(&sight, array);
    }
    if (json_object_set_new(json, "explanation_hosts", array) != 0)
      return built(NULL, error);
  }
  history = pp_store_vm_list_history(call->ctx->store, vm->id, error);
  if (history == NULL)
    return NULL;
  if (json_object_set_new(json, "history", history_to_json(&sight, history)) != 0)
    return built(NULL, error);
  return g_steal_pointer(&json);
}

typedef gboolean (*VmAction)(PpScheduler *scheduler, gint64 vm_id, GError **error);

static json_t *
vm_action(PpApiCall *call, VmAction action, const char *what, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(PpVm) after = NULL;
  g_auto(Sight) sight = { 0 };

  if (vm == NULL || !action(call->ctx->scheduler, vm->id, error))
    return NULL;
  g_message("VM %" G_GINT64_FORMAT " '%s': %s by '%s'", vm->id, vm->name, what, call->user->name);
  after = pp_store_vm_get(call->ctx->store, vm->id, error);
  if (after == NULL || !sight_init(call, TRUE, &sight, error))
    return NULL;
  *ret_status = 202;
  return vm_to_json(call->ctx, &sight, after, error);
}

static json_t *
api_vm_terminate(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_terminate, "terminate", ret_status, error);
}

static json_t *
api_vm_poweroff(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_poweroff, "poweroff", ret_status, error);
}

static json_t *
api_vm_resume(PpApiCall *call, guint *ret_status, GError **error)
{
  return vm_action(call, pp_scheduler_resume, "resume", ret_status, error);
}

static json_t *
api_vm_retry(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpVm) vm = find_vm(call, error);
  g_autoptr(PpVm) after = NULL;
  g_auto(Sight) sight = { 0 };

  if (vm == NULL || !pp_scheduler_retry(call->ctx->scheduler, vm->id, call->user->name, error))
    return NULL;
  g_message("VM %" G_GINT64_FORMAT " '%s': retry by '%s'", vm->id, vm->name, call->user->name);
  after = pp_store_vm_get(call->ctx->store, vm->id, error);
  if (after == NULL || !sight_init(call, TRUE, &sight, error))
    return NULL;
  *ret_status = 202;
  return vm_to_json(call->ctx, &sight, after, error);
}

static json_t *
api_vm_place(PpApiCall *call, guint *ret_status, GError **error)
{
  const char *text;
  g_autoptr(PpVmSpec) spec = body_template(call, &text, error);
  g_autoptr(PpPlacement) placement = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autoptr(json_t) array = NULL;
  g_auto(Sight) sight = { 0 };
  gboolean fits = FALSE;

  if (spec == NULL || !sight_init(call, FALSE, &sight, error) ||
      !pp_scheduler_place_dry(call->ctx->scheduler, spec, &placement, &rejections, &fits, error))
    return NULL;
  if (!fits) {
    json_t *explanation = json_array();

    for (guint i = 0; i < rejections->len; i++) {
      const PpPlaceRejection *r = g_ptr_array_index(rejections, i);

      pp_json_append(explanation,
                     json_pack("{s:I,s:o,s:o}", "host_id", (json_int_t)r->host_id, "host",
                               pp_json_text(r->host_name), "reason", pp_json_text(r->reason)));
    }
    explanation = sight_explanation(&sight, explanation);
    return built(json_pack("{s:b,s:o}", "fits", FALSE, "explanation", explanation), error);
  }
  host = pp_store_host_get(call->ctx->store, placement->host_id, error);
  if (host == NULL)
    return NULL;
  devices = pp_store_host_list_devices(call->ctx->store, placement->host_id, error);
  if (devices == NULL)
    return NULL;
  array = json_array();
  for (guint pass = 0; pass < 2; pass++) {
    const GArray *ids = pass == 0 ? placement->device_ids : placement->companion_ids;

    for (guint i = 0; i < ids->len; i++) {
      gint64 id = g_array_index(ids, gint64, i);

      for (guint d = 0; d < devices->len; d++) {
        const PpStoreDevice *dev = g_ptr_array_index(devices, d);

        if (dev->id == id)
          pp_json_append(array, vm_device_to_json(dev->address, dev->short_address, dev->vendor,
                                                  dev->device, dev->class_code, dev->device_name,
                                                  dev->numa_node, dev->iommu_group,
                                                  pass == 0 ? (gint)i : -1));
      }
    }
  }
  return built(json_pack("{s:b,s:{s:I,s:s},s:o,s:O}", "fits", TRUE, "host", "id",
                         (json_int_t)placement->host_id, "name", host->name, "numa_node",
                         json_int_or_null(placement->numa_node, -1), "devices", array),
               error);
}

/* Images. */

static json_t *
image_to_json(const PpImage *image)
{
  return json_pack("{s:o,s:s,s:o,s:o,s:o,s:I,s:I}", "name", pp_json_text(image->name), "kind",
                   pp_image_format_to_string(image->format), "directory", pp_json_text(image->dir),
                   "file", pp_json_text(image->file), "path", pp_json_text(image->path), "size",
                   (json_int_t)image->size, "virtual_size", (json_int_t)image->virtual_size);
}

static json_t *
api_image_list(PpApiCall *call, guint *ret_status, GError **error)
{
  gboolean truncated = FALSE;
  g_autoptr(GPtrArray) images = pp_images_list(call->ctx->images, &truncated, error);
  g_autoptr(json_t) array = NULL;

  if (images == NULL)
    return NULL;
  array = json_array();
  for (guint i = 0; i < images->len; i++) {
    if (!pp_json_append(array, image_to_json(g_ptr_array_index(images, i))))
      return built(NULL, error);
  }
  return built(json_pack("{s:O,s:o,s:b}", "images", array, "directories",
                         json_strv(pp_images_get_dirs(call->ctx->images)), "truncated", truncated),
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
        "# HELP pcipass_probes_running Host probes running now.\n"
        "# TYPE pcipass_probes_running gauge\npcipass_probes_running %u\n"
        "# HELP pcipass_monitor_passes_total Monitor passes started.\n"
        "# TYPE pcipass_monitor_passes_total counter\n"
        "pcipass_monitor_passes_total %" G_GUINT64_FORMAT "\n",
        mon.probes_ok, mon.probes_failed - mon.probes_timed_out, mon.probes_timed_out, mon.running,
        mon.passes);
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
        "# TYPE pcipass_reconciled_total counter\npcipass_reconciled_total %" G_GUINT64_FORMAT "\n",
        sched.placed, sched.tries, sched.host_refreshes, sched.deployed, sched.deploy_failures,
        sched.in_flight, sched.events, sched.reconciles, sched.reconciled);
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
  PpUser *user;      /* NULL for a host's report token */
  PpHostToken *host; /* the host of a report token, else NULL */
  gboolean metrics;  /* GET /metrics */
  int route;         /* else the route's index */
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
  guint n = 0;

  if (pp_auth_is_host_token(authorization)) {
    admitted->host = pp_auth_authenticate_host(ctx->store, authorization, now, error);
    if (admitted->host == NULL || !host_token_admit(admitted, method, path, error))
      return NULL;
    return g_steal_pointer(&admitted);
  }
  admitted->user =
      pp_auth_authenticate(ctx->store, pp_http_request_get_peer(req), authorization, now, error);
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
  takes_body =
      !admitted->metrics && (routes[admitted->route].flags & (ROUTE_BODY | ROUTE_RAW)) != 0;
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
  call.user = admitted->user;
  call.host = admitted->host;
  memcpy(call.args, admitted->args, sizeof(call.args));
  if (admitted->metrics) {
    *ret_body = metrics_text(ctx, &error);
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

  if (answer == NULL) {
    g_autoptr(json_t) fields = g_steal_pointer(&call.error_fields);

    g_assert(error != NULL);
    answer_error(req, error, fields, ret_status, ret_body);
    return;
  }
  g_clear_pointer(&call.error_fields, json_decref);
  g_debug("%s %s: %u (%s%s, %s)", method, path, status, call.user ? "" : "host ",
          call.user ? call.user->name : call.host->host_name, peer->remote);
  *ret_status = status;
  *ret_body = json_bytes(answer);
}
