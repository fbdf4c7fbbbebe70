#define G_LOG_DOMAIN "pp-session"

#include "config.h"

#include <string.h>

#include "pp-auth.h"
#include "pp-session.h"

struct _PpSessions {
  GHashTable *by_hash; /* id_hash (borrowed from the value) -> PpSession */
  guint64 made;        /* sessions made so far */
};

static void
session_free(PpSession *s)
{
  if (s == NULL)
    return;
  g_free(s->id_hash);
  g_free(s->token_hash);
  if (s->csrf != NULL)
    explicit_bzero(s->csrf, strlen(s->csrf));
  g_free(s->csrf);
  g_free(s);
}

PpSessions *
pp_sessions_new(void)
{
  PpSessions *sessions = g_new0(PpSessions, 1);

  sessions->by_hash =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)session_free);
  return sessions;
}

void
pp_sessions_free(PpSessions *sessions)
{
  if (sessions == NULL)
    return;
  g_hash_table_unref(sessions->by_hash);
  g_free(sessions);
}

static gboolean
session_expired(const PpSession *s, gint64 now)
{
  return now - s->used >= PP_SESSION_IDLE || now - s->created >= PP_SESSION_MAX_LIFE;
}

static gboolean
drop_expired(gpointer key, gpointer value, gpointer now)
{
  (void)key;
  return session_expired(value, *(gint64 *)now);
}

const PpSession *
pp_sessions_add(PpSessions *sessions, gint64 user_id, const char *token_hash, gint64 now,
                char **ret_id)
{
  g_autofree char *id = NULL;
  g_autofree char *csrf_hash = NULL;
  PpSession *oldest = NULL, *s;
  GHashTableIter iter;
  gpointer value;
  guint mine = 0;

  g_return_val_if_fail(sessions != NULL && token_hash != NULL && ret_id != NULL, NULL);

  g_hash_table_foreach_remove(sessions->by_hash, drop_expired, &now);
  g_hash_table_iter_init(&iter, sessions->by_hash);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    s = value;
    if (s->user_id != user_id)
      continue;
    mine++;
    if (oldest == NULL || s->serial < oldest->serial)
      oldest = s;
  }
  /* A user past the bound loses the oldest: a browser's lost cookies must
   * not lock its owner out. */
  if (mine >= PP_SESSION_MAX_PER_USER)
    g_hash_table_remove(sessions->by_hash, oldest->id_hash);
  else if (g_hash_table_size(sessions->by_hash) >= PP_SESSION_MAX_TOTAL)
    return NULL;

  s = g_new0(PpSession, 1);
  id = pp_auth_secret_new("", &s->id_hash);
  s->csrf = pp_auth_secret_new("", &csrf_hash);
  s->token_hash = g_strdup(token_hash);
  s->user_id = user_id;
  s->created = s->used = now;
  s->serial = ++sessions->made;
  g_hash_table_replace(sessions->by_hash, s->id_hash, s);
  *ret_id = g_steal_pointer(&id);
  return s;
}

const PpSession *
pp_sessions_lookup(PpSessions *sessions, const char *id, gint64 now)
{
  g_autofree char *hash = NULL;
  PpSession *s;

  g_return_val_if_fail(sessions != NULL && id != NULL, NULL);

  hash = pp_auth_token_hash(id);
  s = g_hash_table_lookup(sessions->by_hash, hash);
  if (s == NULL)
    return NULL;
  if (session_expired(s, now)) {
    g_hash_table_remove(sessions->by_hash, hash);
    return NULL;
  }
  s->used = now;
  return s;
}

const PpSession *
pp_sessions_get(PpSessions *sessions, const char *id_hash)
{
  g_return_val_if_fail(sessions != NULL && id_hash != NULL, NULL);
  return g_hash_table_lookup(sessions->by_hash, id_hash);
}

void
pp_sessions_remove(PpSessions *sessions, const char *id_hash)
{
  g_return_if_fail(sessions != NULL && id_hash != NULL);
  g_hash_table_remove(sessions->by_hash, id_hash);
}

guint
pp_sessions_count(PpSessions *sessions)
{
  return g_hash_table_size(sessions->by_hash);
}

/* RFC 6265 section 4.2.1: cookie-string is "name=value" pairs joined by
 * "; ". Spaces around each are tolerated; anything else is some other
 * cookie's business. */
int
pp_session_cookie_find(const char *header, const char **ret_id, gsize *ret_len)
{
  const char *p = header;
  int found = 0;

  if (header == NULL)
    return 0;
  if (strnlen(header, PP_SESSION_MAX_COOKIE + 1) > PP_SESSION_MAX_COOKIE)
    return -1;
  while (*p != '\0') {
    const char *end = strchr(p, ';');
    gsize len;

    if (end == NULL)
      end = p + strlen(p);
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    len = (gsize)(end - p);
    if (len > strlen(PP_SESSION_COOKIE) && strncmp(p, PP_SESSION_COOKIE "=", 11) == 0) {
      const char *v = p + 11;
      gsize vlen = (gsize)(end - v);

      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
      if (found++ > 0)
        return -1;
      *ret_id = v;
      *ret_len = vlen;
    }
    p = *end == ';' ? end + 1 : end;
  }
  return found;
}
