#define G_LOG_DOMAIN "pp-auth"

#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "pp-auth.h"

/* clang-format off */
G_DEFINE_QUARK(pp-auth-error-quark, pp_auth_error)
/* clang-format on */

#define TOKEN_PREFIX "pp_"
#define HOST_TOKEN_PREFIX "pph_"
#define TOKEN_BYTES 32
/* The name the Unix socket's admin has in the store. */
#define ADMIN_NAME "root"

char *
pp_auth_token_hash(const char *secret)
{
  return g_compute_checksum_for_string(G_CHECKSUM_SHA256, secret, -1);
}

static char *
token_new(const char *prefix, char **ret_hash)
{
  guint8 bytes[TOKEN_BYTES];
  GString *secret = g_string_new(prefix);
  gsize got = 0;

  /* getrandom() blocks only before the pool is seeded, at early boot. */
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

    if (n < 0) {
      if (errno == EINTR)
        continue;
      g_error("getrandom: %s", g_strerror(errno)); /* no randomness: no tokens */
    }
    got += (gsize)n;
  }
  for (gsize i = 0; i < sizeof(bytes); i++)
    g_string_append_printf(secret, "%02x", bytes[i]);
  explicit_bzero(bytes, sizeof(bytes));
  *ret_hash = pp_auth_token_hash(secret->str);
  return g_string_free(secret, FALSE);
}

char *
pp_auth_token_new(char **ret_hash)
{
  return token_new(TOKEN_PREFIX, ret_hash);
}

char *
pp_auth_secret_new(const char *prefix, char **ret_hash)
{
  return token_new(prefix, ret_hash);
}

char *
pp_auth_host_token_new(char **ret_hash)
{
  return token_new(HOST_TOKEN_PREFIX, ret_hash);
}

/* The secret of "Bearer SECRET", or NULL when @authorization is not that. */
static const char *
bearer_secret(const char *authorization)
{
  const char *secret;

  if (authorization == NULL || strlen(authorization) > PP_AUTH_MAX_TOKEN ||
      g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0)
    return NULL;
  secret = authorization + 7;
  while (*secret == ' ')
    secret++;
  return secret;
}

gboolean
pp_auth_is_host_token(const char *authorization)
{
  const char *secret = bearer_secret(authorization);

  return secret != NULL && g_str_has_prefix(secret, HOST_TOKEN_PREFIX);
}

PpHostToken *
pp_auth_authenticate_host(PpStore *store, const char *authorization, gint64 now, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *hash = NULL;
  const char *secret = bearer_secret(authorization);
  PpHostToken *token;

  g_return_val_if_fail(store != NULL, NULL);

  if (secret == NULL) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the Authorization header is not 'Bearer TOKEN'");
    return NULL;
  }
  hash = pp_auth_token_hash(secret);
  token = pp_store_host_token_authenticate(store, hash, now, &local);
  if (token != NULL)
    return token;
  /* Never the token itself, as for a user's. */
  if (g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the host token is not known (it may have been mistyped, made for another "
                "pcipassd, or revoked: an admin makes a new one with 'pcipass host token NAME')");
    return NULL;
  }
  g_propagate_error(error, g_steal_pointer(&local));
  return NULL;
}

/* The account name of @uid, or NULL. */
static char *
account_name(uid_t uid)
{
  struct passwd pw, *found = NULL;
  char buf[4096];

  if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0 || found == NULL)
    return NULL;
  return g_strdup(found->pw_name);
}

static PpUser *
find_or_make_admin(PpStore *store, gint64 now, GError **error)
{
  g_autoptr(GError) local = NULL;
  PpUser *user = pp_store_user_find(store, ADMIN_NAME, &local);

  if (user != NULL)
    return user;
  if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
  }
  return pp_store_user_create(store, ADMIN_NAME, TRUE, now, error);
}

static PpUser *
authenticate_unix(PpStore *store, const PpHttpPeer *peer, gint64 now, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree char *name = NULL;
  PpUser *user;

  if (peer->uid == 0 || peer->uid == geteuid())
    return find_or_make_admin(store, now, error);
  name = account_name(peer->uid);
  if (name == NULL) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "uid %u has no account name, so no pcipass user; use a token over TCP",
                (guint)peer->uid);
    return NULL;
  }
  user = pp_store_user_find(store, name, &local);
  if (user != NULL)
    return user;
  if (g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "no pcipass user '%s' (uid %u); an admin creates it with 'pcipass user create %s'",
                name, (guint)peer->uid, name);
    return NULL;
  }
  g_propagate_error(error, g_steal_pointer(&local));
  return NULL;
}

PpUser *
pp_auth_user_by_token_hash(PpStore *store, const char *token_hash, gint64 now, GError **error)
{
  g_autoptr(GError) local = NULL;
  PpUser *user;

  g_return_val_if_fail(store != NULL && token_hash != NULL, NULL);

  user = pp_store_token_authenticate(store, token_hash, now, &local);
  if (user != NULL)
    return user;
  /* Never the token itself: it may be someone's mistyped secret. An
   * expired token gets the words of an unknown one: a caller who found an
   * old secret learns nothing of it (nor whether this pcipassd made it);
   * its owner sees the expiry in pcipass token list. */
  if (g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND) ||
      g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_EXPIRED)) {
    if (local->code == PP_STORE_ERROR_EXPIRED)
      g_debug("%s: refused", local->message);
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the token is not known (it may have been mistyped, made for another pcipassd, "
                "deleted, or be past its expiry: pcipass token list shows yours)");
    return NULL;
  }
  g_propagate_error(error, g_steal_pointer(&local));
  return NULL;
}

static PpUser *
authenticate_token(PpStore *store, const char *authorization, gint64 now, GError **error)
{
  g_autofree char *hash = NULL;
  const char *secret;

  if (authorization == NULL) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "no credentials: send 'Authorization: Bearer TOKEN' (pcipass token create)");
    return NULL;
  }
  if (strlen(authorization) > PP_AUTH_MAX_TOKEN ||
      g_ascii_strncasecmp(authorization, "Bearer ", 7) != 0) {
    g_set_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED,
                "the Authorization header is not 'Bearer TOKEN'");
    return NULL;
  }
  secret = authorization + 7;
  while (*secret == ' ')
    secret++;
  hash = pp_auth_token_hash(secret);
  return pp_auth_user_by_token_hash(store, hash, now, error);
}

PpUser *
pp_auth_authenticate(PpStore *store, const PpHttpPeer *peer, const char *authorization, gint64 now,
                     GError **error)
{
  g_return_val_if_fail(store != NULL && peer != NULL, NULL);

  /* A token on the Unix socket is honoured too: it names a user exactly. */
  if (peer->is_unix && authorization == NULL)
    return authenticate_unix(store, peer, now, error);
  return authenticate_token(store, authorization, now, error);
}
