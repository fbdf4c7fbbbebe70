/* pp-auth: who is asking. On the Unix socket the peer's credentials
 * decide: root, and the user pcipassd runs as, are the admin ('root' in
 * the store, made on first use); any other uid is the pcipass user of its
 * account's name, which an admin creates. Over TCP a bearer token decides;
 * tokens are random, shown once, and stored as their SHA-256 only (a
 * browser trades one for a session cookie: pp-session, admitted in
 * pp-api). A token deleted or past its expiry is refused from the next
 * request on, in the words of a token that never existed. */
#pragma once

#include <glib.h>

#include "pp-http.h"
#include "pp-store.h"

G_BEGIN_DECLS

#define PP_AUTH_ERROR (pp_auth_error_quark())
GQuark pp_auth_error_quark(void);

typedef enum {
  PP_AUTH_ERROR_UNAUTHENTICATED, /* no credentials, or ones nobody has */
  PP_AUTH_ERROR_FAILED,          /* the store failed */
} PpAuthError;

/* The longest Authorization header value looked at. */
#define PP_AUTH_MAX_TOKEN 256

/* The shortest and the longest life a token may be given, in seconds. */
#define PP_AUTH_TOKEN_MIN_LIFE 60
#define PP_AUTH_TOKEN_MAX_LIFE (365 * 24 * 3600)

/**
 * pp_auth_token_new:
 * @ret_hash: (transfer full): the SHA-256 of the secret to store
 *
 * Returns: (transfer full): a new secret, "pp_" and 64 hex digits of 32
 *   random bytes from the kernel.
 */
char *pp_auth_token_new(char **ret_hash);

/* @prefix and 64 hex digits of 32 random bytes from the kernel (a session
 * id, a CSRF token). Returns: (transfer full), and its SHA-256 in
 * @ret_hash (transfer full). */
char *pp_auth_secret_new(const char *prefix, char **ret_hash);

/* A host's report token (pcipass host token): "pph_" and 64 hex digits,
 * told from a user's by its prefix. Returns: (transfer full). */
char *pp_auth_host_token_new(char **ret_hash);

/* Whether @authorization (nullable: the Authorization header) carries a
 * host's report token rather than a user's. */
gboolean pp_auth_is_host_token(const char *authorization);

/**
 * pp_auth_authenticate_host:
 * @authorization: the Authorization header, "Bearer pph_..."
 *
 * Returns: (transfer full): the host the report token is for, or %NULL
 *   with UNAUTHENTICATED ("the host token is not known ...").
 */
PpHostToken *pp_auth_authenticate_host(PpStore *store, const char *authorization, gint64 now,
                                       GError **error);

/* Returns: (transfer full): the SHA-256 of @secret, 64 lower-case hex digits. */
char *pp_auth_token_hash(const char *secret);

/**
 * pp_auth_user_by_token_hash:
 * @token_hash: the SHA-256 of a user's API token (pp_auth_token_hash())
 *
 * The user a token is for: what a bearer token, a login (POST
 * /v1/session) and an events stream's recheck all ask.
 *
 * Returns: (transfer full): the user, or %NULL with UNAUTHENTICATED ("the
 *   token is not known ...") where no token has @token_hash or it is past
 *   its expiry at @now, or with the store's error.
 */
PpUser *pp_auth_user_by_token_hash(PpStore *store, const char *token_hash, gint64 now,
                                   GError **error);

/**
 * pp_auth_authenticate:
 * @peer: the connection's peer
 * @authorization: (nullable): the Authorization header
 *
 * Returns: (transfer full): the user, or %NULL with UNAUTHENTICATED and a
 *   message that says what to do.
 */
PpUser *pp_auth_authenticate(PpStore *store, const PpHttpPeer *peer, const char *authorization,
                             gint64 now, GError **error);

G_END_DECLS
