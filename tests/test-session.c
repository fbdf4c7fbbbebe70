/* Browser sessions through the real pcipassd (issue 14): POST /v1/session
 * trades a user's token for a pp_session cookie and a CSRF token; the
 * cookie then authenticates, GET and HEAD as they are, anything else only
 * with X-CSRF-Token; logout ends it; the bounds hold against hostile
 * Cookie headers. Secure under TLS is tested in test-tls.c. */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "pp-test-daemon.h"

/* A reply with its Set-Cookie header (NULL: none). */
typedef struct {
  PpTestReply reply;
  char *set_cookie;
  guint n_set_cookie;
} Answer;

static void
answer_clear(Answer *a)
{
  pp_test_reply_clear(&a->reply);
  g_clear_pointer(&a->set_cookie, g_free);
  a->n_set_cookie = 0;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Answer, answer_clear)

static size_t
on_body(char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *user_data)
{
  Answer *a = user_data;
  gsize len = size * n;

  if (len > 11 && g_ascii_strncasecmp(data, "Set-Cookie:", 11) == 0) {
    g_autofree char *value = g_strndup(data + 11, len - 11);

    g_free(a->set_cookie);
    a->set_cookie = g_strdup(g_strstrip(value));
    a->n_set_cookie++;
  }
  return len;
}

/* @method @path over TCP with @cookie ("Cookie: ..." value, nullable),
 * @csrf (X-CSRF-Token, nullable) and @body (nullable). */
static void
request(PpTestDaemon *f, const char *method, const char *path, const char *cookie, const char *csrf,
        const char *body, Answer *ret)
{
  CURL *curl = curl_easy_init();
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u%s", f->port, path);
  g_autofree char *cookie_h = NULL;
  g_autofree char *csrf_h = NULL;

  memset(ret, 0, sizeof(*ret));
  ret->reply.body = g_string_new(NULL);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (cookie != NULL) {
    cookie_h = g_strdup_printf("Cookie: %s", cookie);
    headers = curl_slist_append(headers, cookie_h);
  }
  if (csrf != NULL) {
    csrf_h = g_strdup_printf("X-CSRF-Token: %s", csrf);
    headers = curl_slist_append(headers, csrf_h);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, ret->reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, ret);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  g_assert_cmpint(curl_easy_perform(curl), ==, CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ret->reply.status);
  ret->reply.json = json_loadb(ret->reply.body->str, ret->reply.body->len, 0, NULL);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

/* A logged-in browser: its cookie ("pp_session=ID") and CSRF token. */
typedef struct {
  char *cookie;
  char *csrf;
} Browser;

static void
browser_clear(Browser *b)
{
  g_clear_pointer(&b->cookie, g_free);
  g_clear_pointer(&b->csrf, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Browser, browser_clear)

/* POST /v1/session with @token; asserts 201 and the cookie exactly. */
static void
login(PpTestDaemon *f, const char *token, const char *user, gboolean admin, Browser *ret)
{
  g_auto(Answer) a = { 0 };
  g_autofree char *body = g_strdup_printf("{\"token\": \"%s\"}", token);
  const char *csrf;
  const char *end;

  request(f, "POST", "/v1/session", NULL, NULL, body, &a);
  g_assert_cmpint(a.reply.status, ==, 201);
  g_assert_cmpuint(a.n_set_cookie, ==, 1);
  /* pp_session=<64 hex>; Path=/; HttpOnly; SameSite=Strict, not Secure
   * on a plain listener. */
  g_assert_true(g_str_has_prefix(a.set_cookie, "pp_session="));
  end = strchr(a.set_cookie, ';');
  g_assert_nonnull(end);
  g_assert_cmpint(end - a.set_cookie, ==, 11 + 64);
  g_assert_cmpuint(strspn(a.set_cookie + 11, "0123456789abcdef"), ==, 64);
  g_assert_cmpstr(end, ==, "; Path=/; HttpOnly; SameSite=Strict");
  g_assert_cmpstr(json_string_value(json_object_get(a.reply.json, "user")), ==, user);
  g_assert_true(json_is_boolean(json_object_get(a.reply.json, "admin")));
  g_assert_cmpint(json_boolean_value(json_object_get(a.reply.json, "admin")), ==, admin);
  csrf = json_string_value(json_object_get(a.reply.json, "csrf"));
  g_assert_nonnull(csrf);
  g_assert_cmpuint(strlen(csrf), ==, 64);
  ret->cookie = g_strndup(a.set_cookie, (gsize)(end - a.set_cookie));
  ret->csrf = g_strdup(csrf);
}

/* The number of @token's user's tokens (GET /v1/tokens with the token). */
static gsize
n_tokens(PpTestDaemon *f, const char *token)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, NULL, token, "GET", "/v1/tokens", NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  return json_array_size(json_object_get(reply.json, "tokens"));
}

static void
test_login(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_auto(Browser) b = { 0 };
  g_auto(Browser) other = { 0 };
  g_autofree char *unknown_message = NULL;
  gint64 bob_token = 0;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");
  g_assert_cmpuint(n_tokens(f, alice), ==, 1);

  /* An unknown token, a host's, none, a bad body: 401 or 400, no cookie. */
  {
    const struct {
      const char *body;
      long status;
    } bad[] = {
      { "{\"token\": \"pp_0000000000000000000000000000000000000000000000000000000000000000\"}",
        401 },
      { "{\"token\": \"pph_0000000000000000000000000000000000000000000000000000000000000000\"}",
        401 },
      { "{\"token\": \"\"}", 401 },
      { "{\"token\": 7}", 400 },
      { "{}", 400 },
      { "[]", 400 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
      g_auto(Answer) a = { 0 };

      request(f, "POST", "/v1/session", NULL, NULL, bad[i].body, &a);
      g_assert_cmpint(a.reply.status, ==, bad[i].status);
      g_assert_null(a.set_cookie);
    }
  }

  login(f, alice, "alice", FALSE, &b);

  /* GET with the cookie: alice, as with her token. */
  {
    g_auto(Answer) a = { 0 };
    g_auto(PpTestReply) with_token = { 0 };

    request(f, "GET", "/v1/whoami", b.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 200);
    g_assert_cmpstr(json_string_value(json_object_get(a.reply.json, "name")), ==, "alice");
    answer_clear(&a);
    request(f, "GET", "/v1/tokens", b.cookie, NULL, NULL, &a);
    pp_test_http(f, NULL, alice, "GET", "/v1/tokens", NULL, 0, &with_token);
    g_assert_cmpint(a.reply.status, ==, 200);
    g_assert_true(json_equal(a.reply.json, with_token.json));
    pp_test_reply_clear(&with_token);
    answer_clear(&a);
    request(f, "GET", "/v1/hosts", b.cookie, NULL, NULL, &a);
    pp_test_http(f, NULL, alice, "GET", "/v1/hosts", NULL, 0, &with_token);
    g_assert_cmpint(a.reply.status, ==, 200);
    g_assert_true(json_equal(a.reply.json, with_token.json));
    answer_clear(&a);
    /* Admin's routes stay an admin's. */
    request(f, "GET", "/v1/users", b.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 403);
    answer_clear(&a);
    /* HEAD needs no CSRF token either. */
    request(f, "HEAD", "/v1/whoami", b.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, !=, 403);
    g_assert_cmpint(a.reply.status, !=, 401);
    answer_clear(&a);
    /* GET /v1/session gives the CSRF token again (a reloaded page). */
    request(f, "GET", "/v1/session", b.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 200);
    g_assert_cmpstr(json_string_value(json_object_get(a.reply.json, "csrf")), ==, b.csrf);
    g_assert_cmpstr(json_string_value(json_object_get(a.reply.json, "user")), ==, "alice");
    g_assert_null(a.set_cookie);
    answer_clear(&a);
    /* With a token, there is no session to show. */
    pp_test_reply_clear(&with_token);
    pp_test_http(f, NULL, alice, "GET", "/v1/session", NULL, 0, &with_token);
    g_assert_nonnull(strstr(pp_test_error_message(&with_token, 404), "no session"));
  }

  /* POST and DELETE without X-CSRF-Token, or with a wrong one (bob's, one
   * character off, longer): 403, and nothing changed. */
  {
    g_autofree char *off = g_strdup(b.csrf);
    g_autofree char *longer = g_strconcat(b.csrf, "0", NULL);
    const char *wrong[] = { NULL, NULL, "", off, longer };
    g_autofree char *del = NULL;
    g_auto(PpTestReply) list = { 0 };

    off[10] = off[10] == 'a' ? 'b' : 'a';
    login(f, bob, "bob", FALSE, &other);
    pp_test_reply_clear(&list);
    pp_test_http(f, NULL, bob, "GET", "/v1/tokens", NULL, 0, &list);
    bob_token = json_integer_value(
        json_object_get(json_array_get(json_object_get(list.json, "tokens"), 0), "id"));
    pp_test_reply_clear(&list);
    wrong[1] = other.csrf;
    pp_test_http(f, NULL, alice, "GET", "/v1/tokens", NULL, 0, &list);
    del = g_strdup_printf("/v1/tokens/%" JSON_INTEGER_FORMAT,
                          json_integer_value(json_object_get(
                              json_array_get(json_object_get(list.json, "tokens"), 0), "id")));
    for (gsize i = 0; i < G_N_ELEMENTS(wrong); i++) {
      g_auto(Answer) a = { 0 };

      request(f, "POST", "/v1/tokens", b.cookie, wrong[i], "{}", &a);
      g_assert_nonnull(strstr(pp_test_error_message(&a.reply, 403), "X-CSRF-Token"));
      answer_clear(&a);
      request(f, "DELETE", del, b.cookie, wrong[i], NULL, &a);
      g_assert_nonnull(strstr(pp_test_error_message(&a.reply, 403), "X-CSRF-Token"));
      answer_clear(&a);
      request(f, "DELETE", "/v1/session", b.cookie, wrong[i], NULL, &a);
      g_assert_cmpint(a.reply.status, ==, 403);
      g_assert_null(a.set_cookie);
    }
    g_assert_cmpuint(n_tokens(f, alice), ==, 1);

    /* With it: made, as alice's. */
    {
      g_auto(Answer) a = { 0 };

      request(f, "POST", "/v1/tokens", b.cookie, b.csrf, "{\"name\": \"web\"}", &a);
      g_assert_cmpint(a.reply.status, ==, 201);
      g_assert_cmpuint(n_tokens(f, alice), ==, 2);
      g_assert_cmpuint(n_tokens(f, bob), ==, 1);
    }
    /* A bearer token needs none (not an ambient credential). */
    {
      g_auto(PpTestReply) reply = { 0 };

      pp_test_http(f, NULL, bob, "POST", "/v1/tokens", "{}", 2, &reply);
      g_assert_cmpint(reply.status, ==, 201);
    }
  }

  /* Logout: the cookie expired in the answer, then 401 like an unknown
   * token; bob's session goes on. */
  {
    g_auto(Answer) a = { 0 };

    request(f, "DELETE", "/v1/session", b.cookie, b.csrf, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 200);
    g_assert_cmpstr(a.set_cookie, ==, "pp_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    answer_clear(&a);
    request(f, "GET", "/v1/whoami", b.cookie, NULL, NULL, &a);
    unknown_message = g_strdup(pp_test_error_message(&a.reply, 401));
    g_assert_nonnull(strstr(unknown_message, "session is not known"));
    answer_clear(&a);
    request(f, "GET", "/v1/whoami", other.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 200);
  }

  /* Deleting the token a session was made with ends the session. */
  {
    g_auto(Answer) a = { 0 };
    g_auto(PpTestReply) reply = { 0 };
    g_autofree char *del = g_strdup_printf("/v1/tokens/%" G_GINT64_FORMAT, bob_token);

    pp_test_http(f, f->socket, NULL, "DELETE", del, NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    request(f, "GET", "/v1/whoami", other.cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, 401);
  }
  pp_test_daemon_stop(f);
}

/* An expired token logs in no one, and ends its sessions. */
static void
test_expired(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename(f->state, "pcipass.db", NULL);
  g_autofree char *alice = NULL;
  g_auto(Browser) b = { 0 };
  g_auto(Answer) a = { 0 };
  g_autofree char *body = NULL;
  sqlite3 *sql = NULL;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  login(f, alice, "alice", FALSE, &b);
  g_assert_cmpint(sqlite3_open(db, &sql), ==, SQLITE_OK);
  sqlite3_busy_timeout(sql, 10000);
  g_assert_cmpint(sqlite3_exec(sql,
                               "UPDATE tokens SET created = created - 7200, "
                               "expires = created - 7200 + 3600",
                               NULL, NULL, NULL),
                  ==, SQLITE_OK);
  sqlite3_close(sql);
  body = g_strdup_printf("{\"token\": \"%s\"}", alice);
  request(f, "POST", "/v1/session", NULL, NULL, body, &a);
  g_assert_nonnull(strstr(pp_test_error_message(&a.reply, 401), "not known"));
  g_assert_null(a.set_cookie);
  /* In the very words of the same token as a bearer's (one check for both). */
  {
    g_auto(PpTestReply) bearer = { 0 };

    pp_test_http(f, NULL, alice, "GET", "/v1/whoami", NULL, 0, &bearer);
    g_assert_cmpstr(pp_test_error_message(&bearer, 401), ==, pp_test_error_message(&a.reply, 401));
  }
  answer_clear(&a);
  request(f, "GET", "/v1/whoami", b.cookie, NULL, NULL, &a);
  g_assert_cmpint(a.reply.status, ==, 401);
  pp_test_daemon_stop(f);
}

/* The 17th login of a user ends its first; the others live. */
static void
test_bound(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  Browser b[17] = { { 0 } };

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  for (guint i = 0; i < G_N_ELEMENTS(b); i++)
    login(f, alice, "alice", FALSE, &b[i]);
  for (guint i = 0; i < G_N_ELEMENTS(b); i++) {
    g_auto(Answer) a = { 0 };

    request(f, "GET", "/v1/whoami", b[i].cookie, NULL, NULL, &a);
    g_assert_cmpint(a.reply.status, ==, i == 0 ? 401 : 200);
  }
  for (guint i = 0; i < G_N_ELEMENTS(b); i++)
    browser_clear(&b[i]);
  pp_test_daemon_stop(f);
}

/* Hostile Cookie headers: huge, several pp_session, odd characters; a
 * good cookie among others works. */
static void
test_hostile(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_auto(Browser) b = { 0 };
  g_autofree char *huge = NULL;
  g_autofree char *twice = NULL;
  g_autofree char *among = NULL;
  g_autofree char *upper = NULL;
  GString *big = g_string_new("a=");

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  login(f, alice, "alice", FALSE, &b);
  while (big->len < 5000)
    g_string_append_c(big, 'x');
  huge = g_strdup_printf("%s; %s", b.cookie, big->str);
  g_string_free(big, TRUE);
  twice = g_strdup_printf("%s; %s", b.cookie, b.cookie);
  among = g_strdup_printf("theme=dark;%s ;  other=\"q;\" ", b.cookie);
  /* Upper-case hex: no session's id. */
  upper = g_ascii_strup(b.cookie, -1);
  memcpy(upper, "pp_session", 10);
  {
    const struct {
      const char *cookie;
      long status;
    } cases[] = {
      { huge, 401 },
      { twice, 401 },
      { upper, 401 },
      { "pp_session=", 401 },
      { "pp_session=../../etc/passwd", 401 },
      /* pp-http refuses control characters in any header first. */
      { "pp_session=\x01\x7f%00", 400 },
      { "pp_session=%00%ff\xc3\xa9\"", 401 },
      { "pp_session", 401 },
      { ";;;;", 401 },
      { among, 200 },
      { "other=1", 401 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
      g_auto(Answer) a = { 0 };

      request(f, "GET", "/v1/whoami", cases[i].cookie, NULL, NULL, &a);
      if (a.reply.status != cases[i].status)
        g_error("cookie case %zu: %ld %s", i, a.reply.status, a.reply.body->str);
    }
  }
  /* A token to log in that is too long: 401, not stored, no cookie. */
  {
    g_auto(Answer) a = { 0 };
    g_autofree char *pad = g_strnfill(300, 'a');
    g_autofree char *body = g_strdup_printf("{\"token\": \"pp_%s\"}", pad);

    request(f, "POST", "/v1/session", NULL, NULL, body, &a);
    g_assert_cmpint(a.reply.status, ==, 401);
    g_assert_null(a.set_cookie);
  }
  /* A body over the API's bound: 413 before it is read. */
  {
    g_auto(Answer) a = { 0 };
    g_autofree char *pad = g_strnfill(2 * 1024 * 1024, 'a');
    g_autofree char *body = g_strdup_printf("{\"token\": \"pp_%s\"}", pad);

    request(f, "POST", "/v1/session", NULL, NULL, body, &a);
    g_assert_cmpint(a.reply.status, ==, 413);
  }
  /* Never the secrets in the log. */
  {
    g_autofree char *log = pp_test_daemon_log(f);

    g_assert_null(strstr(log, b.cookie + 11));
    g_assert_null(strstr(log, b.csrf));
    g_assert_null(strstr(log, alice));
  }
  pp_test_daemon_stop(f);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/session/login", PpTestDaemon, NULL, pp_test_daemon_set_up, test_login,
             pp_test_daemon_tear_down);
  g_test_add("/session/expired", PpTestDaemon, NULL, pp_test_daemon_set_up, test_expired,
             pp_test_daemon_tear_down);
  g_test_add("/session/bound", PpTestDaemon, NULL, pp_test_daemon_set_up, test_bound,
             pp_test_daemon_tear_down);
  g_test_add("/session/hostile", PpTestDaemon, NULL, pp_test_daemon_set_up, test_hostile,
             pp_test_daemon_tear_down);
  return g_test_run();
}
