/* pp-api-session: POST, GET and DELETE /v1/session, a browser's login
 * (pp-session holds the sessions; pp-api admits the cookie). */
#define G_LOG_DOMAIN "pp-api"

#include "config.h"

#include <string.h>

#include "pp-api-int.h"
#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-session.h"

/* The cookie's attributes: Secure only where the browser came over TLS
 * (a plain listener's browser would drop a Secure cookie). */
static char *
session_cookie(const PpApiCall *call, const char *value, gboolean expire)
{
  return g_strdup_printf("%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", PP_SESSION_COOKIE, value,
                         expire ? "; Max-Age=0" : "",
                         pp_http_request_get_peer(call->req)->is_tls ? "; Secure" : "");
}

static json_t *
session_json(const PpUser *user, const PpSession *session, GError **error)
{
  return api_built(
      json_pack("{s:s, s:b, s:s}", "user", user->name, "admin", user->admin, "csrf", session->csrf),
      error);
}

static gboolean
sessions_on(const PpApiCall *call, GError **error)
{
  if (call->ctx->sessions != NULL)
    return TRUE;
  g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND, "this pcipassd keeps no sessions");
  return FALSE;
}

json_t *
api_session_create(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autoptr(PpUser) user = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *id = NULL;
  g_autofree char *cookie = NULL;
  const json_t *value = json_object_get(call->body, "token");
  const PpSession *session;
  const char *token;

  if (!sessions_on(call, error))
    return NULL;
  if (!json_is_string(value)) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_BAD_REQUEST,
                "'token' must be a string: a user's API token (pcipass token create)");
    return NULL;
  }
  token = json_string_value(value);
  /* As a bearer token is: bounded, and never a host's report token. */
  if (json_string_length(value) > PP_AUTH_MAX_TOKEN || strlen(token) != json_string_length(value) ||
      !g_str_has_prefix(token, "pp_")) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the token is not a user's API token (pcipass token create makes one)");
    return NULL;
  }
  hash = pp_auth_token_hash(token);
  user = pp_auth_user_by_token_hash(call->ctx->store, hash, call->now, error);
  if (user == NULL)
    return NULL;
  session = pp_sessions_add(call->ctx->sessions, user->id, hash, call->now, &id);
  if (session == NULL) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_UNAVAILABLE,
                "this pcipassd holds %u sessions, its most: try again later, or use a token",
                PP_SESSION_MAX_TOTAL);
    return NULL;
  }
  cookie = session_cookie(call, id, FALSE);
  explicit_bzero(id, strlen(id));
  pp_http_request_set_cookie(call->req, cookie);
  explicit_bzero(cookie, strlen(cookie));
  g_debug("user '%s': session started (%u held)", user->name,
          pp_sessions_count(call->ctx->sessions));
  *ret_status = 201;
  return session_json(user, session, error);
}

/* The caller's session, or NULL with NOT_FOUND (no cookie) or
 * UNAUTHENTICATED (it ended since its admission). */
static const PpSession *
call_session(const PpApiCall *call, GError **error)
{
  const PpSession *session;

  if (!sessions_on(call, error))
    return NULL;
  if (call->session_hash == NULL) {
    g_set_error(error, PP_API_ERROR, PP_API_ERROR_NOT_FOUND,
                "no session: this request has no %s cookie (POST /v1/session makes one)",
                PP_SESSION_COOKIE);
    return NULL;
  }
  session = pp_sessions_get(call->ctx->sessions, call->session_hash);
  if (session == NULL)
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the session has ended: log in again (POST /v1/session)");
  return session;
}

json_t *
api_session_show(PpApiCall *call, guint *ret_status, GError **error)
{
  const PpSession *session = call_session(call, error);

  if (session == NULL)
    return NULL;
  return session_json(call->user, session, error);
}

json_t *
api_session_delete(PpApiCall *call, guint *ret_status, GError **error)
{
  g_autofree char *cookie = NULL;

  if (call_session(call, error) == NULL)
    return NULL;
  /* Its event streams end with it, not at their next heartbeat. */
  if (call->ctx->events != NULL)
    pp_events_end_session(call->ctx->events, call->session_hash);
  pp_sessions_remove(call->ctx->sessions, call->session_hash);
  cookie = session_cookie(call, "", TRUE);
  pp_http_request_set_cookie(call->req, cookie);
  g_debug("user '%s': session ended", call->user->name);
  return api_built(json_pack("{s:b}", "ended", TRUE), error);
}
