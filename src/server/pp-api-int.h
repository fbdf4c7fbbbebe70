/* pp-api-int: what the API's own files (pp-api*.c) share, and nobody
 * else: a call, the caller's sight, and the helpers of pp-api.c and the
 * handlers the route table names. The functions here are not static so
 * that the API's files can share them; they are private to the API module
 * by convention: include this header only from src/server/pp-api*.c. */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-api.h"
#include "pp-events.h"
#include "pp-vm-template.h"

G_BEGIN_DECLS

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
  json_t *error_fields;     /* owned: fields an error answer carries beside its message, or NULL */
  const char *session_hash; /* the SHA-256 of the caller's session id, or NULL: no cookie */
} PpApiCall;

/* A handler answers with a JSON value (transfer full) and sets *ret_status
 * when it is not 200, or returns NULL with an error. */
typedef json_t *(*PpApiHandler)(PpApiCall *call, guint *ret_status, GError **error);

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

void api_sight_clear(Sight *sight);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Sight, api_sight_clear)

/* What stands, for a user, for the words of the probe, ssh or libvirt
 * (which name a host's ssh target, probe command or URI). */
#define HIDDEN_PROBE_ERROR "its last probe failed; an administrator sees why"
#define HIDDEN_LIBVIRT_ERROR "its libvirt does not answer; an administrator sees why"
#define HIDDEN_SET_ASIDE "a deploy could not use it; an administrator sees why"

/* Reads a state's name (a paged list's "state" filter). */
typedef gboolean (*StateFromString)(const char *text, int *ret_state);

/* What a light row's reason or summary keeps of its first line. */
#define LIST_LINE_MAX 160

/* The helpers of pp-api.c and those the other files share, by file. */
/* pp-api.c */
gboolean api_check_fields(const json_t *body, const char *const *allowed, GError **error);
gboolean api_get_string(const json_t *body, const char *field, gsize max, gboolean required,
                        const char **ret, GError **error);
gboolean api_get_bool(const json_t *body, const char *field, gboolean nullable, gboolean *ret,
                      GError **error);
json_t *api_json_int_or_null(gint64 value, gint64 none);
json_t *api_json_strv(const char *const *strv);
gboolean api_sight_init(const PpApiCall *call, gboolean with_uris, Sight *ret, GError **error);
gboolean api_sight_shows_vm(gint64 vm_id, gpointer data);
char *api_sight_text(const Sight *sight, const char *text);
char *api_sight_reason(const Sight *sight, const char *reason);
extern const Sight admin_sight;
json_t *api_built(json_t *json, GError **error);
/* Tells GET /v1/events of a change the store's watch does not see (a
 * network's leases); nothing without events. */
void api_note(PpApiCall *call, PpEventKind kind, gint64 id);
gboolean api_check_query(const PpApiCall *call, const char *route, const char *const *allowed,
                         GError **error);
/* TRUE when this pcipassd leads (its scheduler and monitor run here);
 * else FALSE with a 503 that says @what runs on the leader, and names it. */
json_t *api_status(PpApiCall *call, guint *ret_status, GError **error);
gboolean api_need_leader(const PpApiCall *call, const char *what, GError **error);
gboolean api_query_page(const PpApiCall *call, PpStorePage *page, GError **error);
gboolean api_vm_state_parse(const char *text, int *ret_state);
gboolean api_host_state_parse(const char *text, int *ret_state);
gboolean api_query_states(const PpApiCall *call, const char *what, const char *(*name)(int), int n,
                          StateFromString parse, guint *ret_states, GError **error);
const char *api_vm_state_name(int state);
const char *api_host_state_name(int state);
json_t *api_page_json(const char *key, json_t *array, gint64 next, GError **error);

/* pp-api-host.c */
json_t *api_host_list(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_pci_types(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_show(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_update(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_enable(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_disable(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_probe(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_delete(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_report(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_token_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_host_token_delete(PpApiCall *call, guint *ret_status, GError **error);

/* pp-api-network.c */
json_t *api_vm_context(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_list(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_show(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_update(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_delete(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_hold(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_net_release(PpApiCall *call, guint *ret_status, GError **error);
gboolean api_resolve_networks(PpApiCall *call, PpVmSpec *spec, GError **error);
json_t *api_vm_nics_json(const PpApiContext *ctx, const PpVm *vm, const PpVmSpec *spec,
                         const GPtrArray *devices, GError **error);
json_t *api_vm_context_json(const PpApiContext *ctx, const PpVm *vm, GError **error);

/* pp-api-user.c */
json_t *api_whoami(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_user_list(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_user_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_user_show(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_user_delete(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_user_quota(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_token_list(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_token_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_token_delete(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_session_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_session_show(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_session_delete(PpApiCall *call, guint *ret_status, GError **error);

/* pp-api-vm.c */
json_t *api_vm_create(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_list(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_show(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_terminate(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_poweroff(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_resume(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_retry(PpApiCall *call, guint *ret_status, GError **error);
json_t *api_vm_place(PpApiCall *call, guint *ret_status, GError **error);

/* pp-api-image.c */
json_t *api_image_list(PpApiCall *call, guint *ret_status, GError **error);

G_END_DECLS
