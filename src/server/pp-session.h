/* pp-session: browsers' logins. POST /v1/session trades a user's API
 * token for a session: a random id (the pp_session cookie) and a CSRF
 * token the page sends back as X-CSRF-Token. Sessions live in the
 * daemon's memory only (a restart logs everyone out), keyed by the
 * SHA-256 of their id: the id itself is never kept. Each remembers the
 * hash of the token it was made with, checked again on every request, so
 * deleting the token, its expiry, or deleting the user ends the session. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Idle and whole life of a session, in seconds. */
#define PP_SESSION_IDLE (12 * 3600)
#define PP_SESSION_MAX_LIFE (7 * 24 * 3600)
/* Sessions at once per user (a login past it ends the user's oldest) and
 * in all (a login past it, once expired ones are gone, is refused). */
#define PP_SESSION_MAX_PER_USER 16
#define PP_SESSION_MAX_TOTAL 4096
/* The longest Cookie header looked at. */
#define PP_SESSION_MAX_COOKIE 4096
#define PP_SESSION_COOKIE "pp_session"

typedef struct _PpSessions PpSessions;

typedef struct {
  char *id_hash;    /* SHA-256 of the id */
  char *token_hash; /* SHA-256 of the token it was made with */
  gint64 user_id;
  char *csrf;
  gint64 created, used; /* unix seconds */
  guint64 serial;       /* the order sessions were made in (created ties within a second) */
} PpSession;

/* Returns: (transfer full): no sessions. */
PpSessions *pp_sessions_new(void);
void pp_sessions_free(PpSessions *sessions);

/**
 * pp_sessions_add:
 * @ret_id: (transfer full): the new session's id, for the cookie
 *
 * Returns: (transfer none): the new session, or %NULL when
 *   PP_SESSION_MAX_TOTAL live sessions are held already.
 */
const PpSession *pp_sessions_add(PpSessions *sessions, gint64 user_id, const char *token_hash,
                                 gint64 now, char **ret_id);

/* Returns: (transfer none) (nullable): the live session of @id (which it
 * marks used at @now), or NULL (unknown, expired: then dropped). */
const PpSession *pp_sessions_lookup(PpSessions *sessions, const char *id, gint64 now);

/* Returns: (transfer none) (nullable): the session of @id_hash, as it is. */
const PpSession *pp_sessions_get(PpSessions *sessions, const char *id_hash);

/* Ends the session of @id_hash; nothing when there is none. */
void pp_sessions_remove(PpSessions *sessions, const char *id_hash);

guint pp_sessions_count(PpSessions *sessions);

/**
 * pp_session_cookie_find:
 * @header: (nullable): the Cookie header
 * @ret_id: (transfer none): where the pp_session value starts, in @header
 * @ret_len: its length
 *
 * Returns: 1 when @header has one pp_session cookie, 0 when none, -1 when
 *   it is over PP_SESSION_MAX_COOKIE bytes or has pp_session twice.
 */
int pp_session_cookie_find(const char *header, const char **ret_id, gsize *ret_len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpSessions, pp_sessions_free)

G_END_DECLS
