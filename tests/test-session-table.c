/* pp-session alone: expiry (idle and whole life), the per-user bound, and
 * the Cookie header's parsing. The daemon's use of it is test-session.c's. */
#include "config.h"

#include <string.h>

#include "pp-session.h"

static void
test_expiry(void)
{
  g_autoptr(PpSessions) sessions = pp_sessions_new();
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  const gint64 t0 = 1000000;
  gint64 t;

  g_assert_nonnull(pp_sessions_add(sessions, 1, "h", t0, &id));
  g_assert_cmpuint(strlen(id), ==, 64);
  /* Used within the idle time, again and again: alive up to its whole life. */
  for (t = t0; t < t0 + PP_SESSION_MAX_LIFE; t += PP_SESSION_IDLE - 1)
    g_assert_nonnull(pp_sessions_lookup(sessions, id, t));
  g_assert_null(pp_sessions_lookup(sessions, id, t0 + PP_SESSION_MAX_LIFE));
  g_assert_cmpuint(pp_sessions_count(sessions), ==, 0);

  /* Idle for PP_SESSION_IDLE: gone. */
  g_assert_nonnull(pp_sessions_add(sessions, 1, "h", t0, &id2));
  g_assert_nonnull(pp_sessions_lookup(sessions, id2, t0 + PP_SESSION_IDLE - 1));
  g_assert_null(pp_sessions_lookup(sessions, id2, t0 + 2 * PP_SESSION_IDLE - 1));
  g_assert_null(pp_sessions_lookup(sessions, "00", t0));
}

static void
test_bound(void)
{
  g_autoptr(PpSessions) sessions = pp_sessions_new();
  char *ids[PP_SESSION_MAX_PER_USER + 1] = { NULL };
  g_autofree char *other = NULL;

  g_assert_nonnull(pp_sessions_add(sessions, 2, "h2", 10, &other));
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
    g_assert_nonnull(pp_sessions_add(sessions, 1, "h", 10, &ids[i]));
  /* The oldest of user 1 went; user 2's stays. */
  g_assert_cmpuint(pp_sessions_count(sessions), ==, PP_SESSION_MAX_PER_USER + 1);
  g_assert_null(pp_sessions_lookup(sessions, ids[0], 10));
  for (guint i = 1; i < G_N_ELEMENTS(ids); i++)
    g_assert_nonnull(pp_sessions_lookup(sessions, ids[i], 10));
  g_assert_nonnull(pp_sessions_lookup(sessions, other, 10));
  for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
    g_free(ids[i]);
}

static void
test_cookie(void)
{
  const struct {
    const char *header;
    int found;
    const char *value;
  } cases[] = {
    { NULL, 0, NULL },
    { "", 0, NULL },
    { "a=b", 0, NULL },
    { "pp_session=abc", 1, "abc" },
    { "  pp_session=abc  ", 1, "abc" },
    { "a=b; pp_session=abc; c=d", 1, "abc" },
    { "a=b;pp_session=", 1, "" },
    { "xpp_session=abc", 0, NULL },
    { "pp_session", 0, NULL },
    { "pp_sessionx=abc", 0, NULL },
    { "pp_session=a; pp_session=b", -1, NULL },
    { ";;;", 0, NULL },
  };
  g_autofree char *huge = g_strnfill(PP_SESSION_MAX_COOKIE + 1, 'a');

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *value = NULL;
    gsize len = 0;
    int found = pp_session_cookie_find(cases[i].header, &value, &len);

    g_assert_cmpint(found, ==, cases[i].found);
    if (found == 1) {
      g_autofree char *got = g_strndup(value, len);

      g_assert_cmpstr(got, ==, cases[i].value);
    }
  }
  {
    const char *value = NULL;
    gsize len = 0;

    g_assert_cmpint(pp_session_cookie_find(huge, &value, &len), ==, -1);
    huge[PP_SESSION_MAX_COOKIE] = '\0';
    g_assert_cmpint(pp_session_cookie_find(huge, &value, &len), ==, 0);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/session-table/expiry", test_expiry);
  g_test_add_func("/session-table/bound", test_bound);
  g_test_add_func("/session-table/cookie", test_cookie);
  return g_test_run();
}
