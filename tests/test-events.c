/* GET /v1/events and the web UI's files through the real pcipassd (issue
 * 14): the files are served without credentials with their CSP, and no
 * path reaches outside them; a stream says hello, then tells host, vm and
 * network changes, a VM only to its owner and the admins; the per-user
 * bound; logout ends its session's streams. Streams are read over raw
 * sockets: what a browser's EventSource reads. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pp-test-daemon.h"

/* A connection to pcipassd's TCP port, and what came on it. */
typedef struct {
  int fd;
  GString *got;
  gboolean eof;
} Conn;

static void
conn_clear(Conn *c)
{
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  if (c->got != NULL)
    g_string_free(c->got, TRUE);
  c->got = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Conn, conn_clear)

/* Connects and sends @head (the request's head, "\r\n\r\n" added). */
static void
conn_open(PpTestDaemon *f, const char *head, Conn *ret)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
  g_autofree char *text = g_strconcat(head, "\r\n\r\n", NULL);
  gsize len = strlen(text);

  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ret->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(ret->fd, >=, 0);
  g_assert_cmpint(connect(ret->fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  g_assert_cmpint(write(ret->fd, text, len), ==, (gssize)len);
  ret->got = g_string_new(NULL);
  ret->eof = FALSE;
}

/* Reads what comes for up to @ms; FALSE when nothing came. */
static gboolean
conn_read(Conn *c, int ms)
{
  struct pollfd p = { .fd = c->fd, .events = POLLIN };
  char buf[4096];
  ssize_t n;

  if (c->eof || poll(&p, 1, ms) <= 0)
    return FALSE;
  n = read(c->fd, buf, sizeof(buf));
  if (n <= 0) {
    c->eof = TRUE;
    return FALSE;
  }
  g_string_append_len(c->got, buf, n);
  return TRUE;
}

/* Waits until what came holds @needle (the test fails on a hang). */
static void
conn_wait_for(Conn *c, const char *needle)
{
  gint64 end = g_get_monotonic_time() + PP_TEST_WAIT_US;

  while (strstr(c->got->str, needle) == NULL) {
    if (c->eof || g_get_monotonic_time() > end)
      g_error("waited for '%s'; got: %s%s", needle, c->got->str, c->eof ? " (closed)" : "");
    conn_read(c, 200);
  }
}

/* Waits until the server closes @c. */
static void
conn_wait_closed(Conn *c)
{
  gint64 end = g_get_monotonic_time() + PP_TEST_WAIT_US;

  while (!c->eof) {
    g_assert_cmpint(g_get_monotonic_time(), <, end);
    conn_read(c, 200);
  }
}

/* A whole answer to @head (the connection closes after one). */
static char *
fetch(PpTestDaemon *f, const char *head)
{
  g_auto(Conn) c = { .fd = -1 };

  conn_open(f, head, &c);
  conn_wait_closed(&c);
  return g_strdup(c.got->str);
}

/* Opens GET /v1/events with @auth ("Authorization: Bearer ..." or
 * "Cookie: ..."), asserting its 200 and hello for @user. */
static void
stream_open(PpTestDaemon *f, const char *auth, const char *user, Conn *ret)
{
  g_autofree char *head = g_strdup_printf("GET /v1/events HTTP/1.1\r\nHost: t\r\n%s", auth);
  g_autofree char *hello = g_strdup_printf("event: hello\ndata: {\"user\":\"%s\",", user);

  conn_open(f, head, ret);
  conn_wait_for(ret, hello);
  g_assert_true(g_str_has_prefix(ret->got->str, "HTTP/1.1 200 "));
  g_assert_nonnull(strstr(ret->got->str, "Content-Type: text/event-stream\r\n"));
  g_assert_nonnull(strstr(ret->got->str, "retry: 3000\n"));
}

static char *
bearer(const char *token)
{
  return g_strdup_printf("Authorization: Bearer %s", token);
}

static char *
admin_token(PpTestDaemon *f)
{
  const char *argv[] = { "token", "create", NULL };
  g_autoptr(json_t) json = pp_test_cli_json(f, argv);

  return g_strdup(json_string_value(json_object_get(json, "token")));
}

#define CSP                                                                                        \
  "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "             \
  "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "                   \
  "form-action 'self'; frame-ancestors 'none'\r\n"

static void
test_assets(PpTestDaemon *f, gconstpointer data)
{
  pp_test_daemon_start(f, NULL);

  /* The page, without credentials, with its policy; "/" is index.html. */
  for (guint i = 0; i < 2; i++) {
    g_autofree char *got =
        fetch(f, i == 0 ? "GET / HTTP/1.1\r\nHost: t" : "GET /index.html HTTP/1.1\r\nHost: t");

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
    g_assert_nonnull(strstr(got, "Content-Type: text/html; charset=utf-8\r\n"));
    g_assert_nonnull(strstr(got, CSP));
    g_assert_nonnull(strstr(got, "X-Content-Type-Options: nosniff\r\n"));
    g_assert_nonnull(strstr(got, "X-Frame-Options: DENY\r\n"));
    g_assert_nonnull(strstr(got, "<html"));
  }
  /* HEAD too, without a body. */
  {
    g_autofree char *got = fetch(f, "HEAD / HTTP/1.1\r\nHost: t");

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
    g_assert_null(strstr(got, "<html"));
  }
  /* Nothing outside the compiled files: an unknown one, a dot segment, a
   * hidden name, an empty segment, an odd character, a long path. */
  {
    g_autofree char *longpath = g_strnfill(300, 'a');
    g_autofree char *longhead = g_strdup_printf("GET /%s.js HTTP/1.1\r\nHost: t", longpath);
    const char *heads[] = {
      "GET /nope.js HTTP/1.1\r\nHost: t",      "GET /web/../index.html HTTP/1.1\r\nHost: t",
      "GET /./index.html HTTP/1.1\r\nHost: t", "GET /.index.html HTTP/1.1\r\nHost: t",
      "GET //index.html HTTP/1.1\r\nHost: t",  "GET /index.html%00 HTTP/1.1\r\nHost: t",
      "GET /meson.build HTTP/1.1\r\nHost: t",  longhead,
    };

    for (guint i = 0; i < G_N_ELEMENTS(heads); i++) {
      g_autofree char *got = fetch(f, heads[i]);

      g_assert_true(g_str_has_prefix(got, "HTTP/1.1 404 "));
      g_assert_nonnull(strstr(got, "no such resource: the API is under /v1/, the web UI at /"));
      g_assert_null(strstr(got, "<html"));
    }
  }
  /* Only GET and HEAD: anything else is the API's, which asks who it is
   * first; so is /v1/events. */
  {
    g_autofree char *post = fetch(f, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0");
    g_autofree char *events = fetch(f, "GET /v1/events HTTP/1.1\r\nHost: t");

    g_assert_true(g_str_has_prefix(post, "HTTP/1.1 401 "));
    g_assert_true(g_str_has_prefix(events, "HTTP/1.1 401 "));
    g_assert_null(strstr(events, "text/event-stream"));
  }
  /* The API's answers are no page either. */
  {
    g_autofree char *token = admin_token(f);
    g_autofree char *head =
        g_strdup_printf("GET /v1/whoami HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer %s", token);
    g_autofree char *got = fetch(f, head);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
    g_assert_nonnull(
        strstr(got, "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"));
    g_assert_nonnull(strstr(got, "X-Content-Type-Options: nosniff\r\n"));
  }
}

/* POSTs @body to @path over TCP as @token; asserts @status. Returns:
 * (transfer full): the answer's JSON. */
static json_t *
post_as(PpTestDaemon *f, const char *token, const char *path, const char *body, long status)
{
  g_auto(PpTestReply) reply = { 0 };

  pp_test_http(f, NULL, token, "POST", path, body, strlen(body), &reply);
  if (reply.status != status)
    g_error("POST %s: %ld, not %ld: %s", path, reply.status, status, reply.body->str);
  return json_incref(reply.json);
}

static void
test_stream(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *admin = NULL;
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *admin_auth = NULL;
  g_autofree char *alice_auth = NULL;
  g_autofree char *bob_auth = NULL;
  g_auto(Conn) sa = { .fd = -1 };
  g_auto(Conn) sb = { .fd = -1 };
  g_auto(Conn) sr = { .fd = -1 };
  g_autoptr(json_t) vm = NULL;
  g_autoptr(json_t) net = NULL;
  g_autofree char *vm_event = NULL;
  g_autofree char *net_event = NULL;
  gsize bob_before;

  pp_test_daemon_start(f, NULL);
  admin = admin_token(f);
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");
  admin_auth = bearer(admin);
  alice_auth = bearer(alice);
  bob_auth = bearer(bob);
  stream_open(f, admin_auth, "root", &sr);
  g_assert_nonnull(strstr(sr.got->str, "\"admin\":true}"));
  stream_open(f, alice_auth, "alice", &sa);
  g_assert_nonnull(strstr(sa.got->str, "\"admin\":false}"));
  stream_open(f, bob_auth, "bob", &sb);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 3);

  /* A host and its devices: everyone hears of it, as one host once its
   * probe is in. */
  pp_test_add_tree_host(f, "node1", f->trees[0]);
  g_clear_pointer(&vm, json_decref);
  vm = pp_test_wait_host(f, "node1", "monitored", 0);
  g_clear_pointer(&vm, json_decref);
  for (guint i = 0; i < 3; i++) {
    Conn *c = i == 0 ? &sr : i == 1 ? &sa : &sb;

    conn_wait_for(c, "event: host\ndata: {\"id\":1,\"name\":\"node1\",\"state\":\"monitored\"");
  }

  /* Alice's VM: to her and the admin, not to bob. */
  bob_before = sb.got->len;
  vm = post_as(f, alice, "/v1/vms", "{\"template\": \"NAME = quiet\\nCPU = 1\\nMEMORY = 64\\n\"}",
               201);
  vm_event = g_strdup_printf("event: vm\ndata: {\"id\":%" G_GINT64_FORMAT ",\"name\":\"quiet\",",
                             (gint64)json_integer_value(json_object_get(vm, "id")));
  conn_wait_for(&sa, vm_event);
  conn_wait_for(&sr, vm_event);
  /* A change everyone hears of comes after: bob heard that, and not the
   * VM before it. */
  {
    const char *argv[] = { "host", "disable", "node1", NULL };
    PpTestRun run = { 0 };

    pp_test_cli(f, argv, &run);
    g_assert_cmpint(run.status, ==, 0);
    pp_test_run_clear(&run);
  }
  conn_wait_for(&sb, "\"state\":\"disabled\"");
  conn_wait_for(&sa, "\"state\":\"disabled\"");
  g_assert_null(strstr(sb.got->str + bob_before, "event: vm"));
  g_assert_null(strstr(sb.got->str, "quiet"));

  /* A network, and an address held on it: its id only, to everyone (a
   * private one's name is its owner's business). */
  net = post_as(f, alice, "/v1/networks",
                "{\"template\": \"NAME = \\\"secretnet\\\"\\nVN_MAD = \\\"dummy\\\"\\n"
                "BRIDGE = \\\"br0\\\"\\nAR = [ TYPE = \\\"IP4\\\", IP = \\\"10.0.0.10\\\", "
                "SIZE = \\\"4\\\" ]\\n\"}",
                201);
  net_event = g_strdup_printf("event: network\ndata: {\"id\":%" G_GINT64_FORMAT "}\n",
                              (gint64)json_integer_value(json_object_get(net, "id")));
  conn_wait_for(&sb, net_event);
  conn_wait_for(&sa, net_event);
  g_assert_null(strstr(sb.got->str, "secretnet"));
  {
    g_autofree char *path = g_strdup_printf("/v1/networks/%" G_GINT64_FORMAT "/hold",
                                            (gint64)json_integer_value(json_object_get(net, "id")));
    g_autoptr(json_t) held = post_as(f, alice, path, "{\"address\": \"10.0.0.11\"}", 200);
    const char *at = strstr(sa.got->str, net_event);
    gsize after = (gsize)(at - sa.got->str) + strlen(net_event);

    g_assert_cmpstr(json_string_value(json_object_get(held, "ip")), ==, "10.0.0.11");
    /* A second one, after the first. */
    while (strstr(sa.got->str + after, net_event) == NULL) {
      g_assert_false(sa.eof);
      conn_read(&sa, 200);
    }
  }
  /* Every event has its id, in order. */
  g_assert_nonnull(strstr(sr.got->str, "id: 1\nevent: hello\n"));
  g_assert_cmpuint(pp_test_metric(f, "pcipass_events_sent_total"), >=, 10);

  /* A client that goes: its stream ends, the others go on. */
  conn_clear(&sb);
  {
    const char *argv[] = { "host", "enable", "node1", NULL };
    PpTestRun run = { 0 };

    pp_test_cli(f, argv, &run);
    g_assert_cmpint(run.status, ==, 0);
    pp_test_run_clear(&run);
  }
  conn_wait_for(&sa, "\"state\":\"monitored\",\"pci_free\"");
  g_assert_false(sa.eof);
}

static void
test_bounds(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *bob = NULL;
  g_autofree char *alice_auth = NULL;
  g_autofree char *bob_auth = NULL;
  Conn streams[8];
  g_auto(Conn) other = { .fd = -1 };

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  bob = pp_test_add_user(f, "bob");
  alice_auth = bearer(alice);
  bob_auth = bearer(bob);
  for (guint i = 0; i < G_N_ELEMENTS(streams); i++)
    stream_open(f, alice_auth, "alice", &streams[i]);
  /* The ninth of one user: 429, with what to do; another user's goes on. */
  {
    g_autofree char *head = g_strdup_printf("GET /v1/events HTTP/1.1\r\nHost: t\r\n%s", alice_auth);
    g_autofree char *got = fetch(f, head);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 429 "));
    g_assert_nonnull(strstr(
        got, "user 'alice' has 8 event streams open, the most one user may: close one first"));
    g_assert_null(strstr(got, "text/event-stream"));
  }
  stream_open(f, bob_auth, "bob", &other);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 9);
  /* A bad token is 401 as anywhere. */
  {
    g_autofree char *got = fetch(f, "GET /v1/events HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                                    "pp_0000000000000000000000000000000000000000000000000000000000"
                                    "000000");

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 401 "));
  }
  /* The daemon stops cleanly with streams waiting (libmicrohttpd stops no
   * daemon with a suspended connection): they end. */
  pp_test_daemon_stop(f);
  for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
    conn_wait_closed(&streams[i]);
    conn_clear(&streams[i]);
  }
  conn_wait_closed(&other);
  {
    g_autofree char *log = pp_test_daemon_log(f);

    g_assert_nonnull(strstr(log, "stopped"));
    g_assert_null(strstr(log, "CRITICAL"));
  }
}

static void
test_logout(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *body = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *csrf = NULL;
  g_auto(Conn) s = { .fd = -1 };
  g_auto(Conn) kept = { .fd = -1 };
  g_autofree char *alice_auth = NULL;

  pp_test_daemon_start(f, NULL);
  alice = pp_test_add_user(f, "alice");
  alice_auth = bearer(alice);
  body = g_strdup_printf("{\"token\": \"%s\"}", alice);
  /* Logged in: the cookie opens a stream (GET needs no CSRF token). */
  {
    g_autofree char *head = g_strdup_printf("POST /v1/session HTTP/1.1\r\nHost: t\r\nContent-Type: "
                                            "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                                            strlen(body), body);
    g_autofree char *got = NULL;
    const char *at;
    const char *json;
    g_autoptr(json_t) answer = NULL;

    /* conn_open adds an empty line after the body: harmless, the
     * connection closes after one request. */
    got = fetch(f, head);
    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 201 "));
    at = strstr(got, "pp_session=");
    g_assert_nonnull(at);
    cookie = g_strndup(at, 11 + 64);
    json = strstr(got, "\r\n\r\n");
    g_assert_nonnull(json);
    answer = json_loads(json + 4, 0, NULL);
    g_assert_nonnull(answer);
    csrf = g_strdup(json_string_value(json_object_get(answer, "csrf")));
    g_assert_nonnull(csrf);
  }
  {
    g_autofree char *auth = g_strdup_printf("Cookie: %s", cookie);

    stream_open(f, auth, "alice", &s);
  }
  stream_open(f, alice_auth, "alice", &kept);
  /* Logout without the CSRF token is refused, and the stream goes on. */
  {
    g_autofree char *head =
        g_strdup_printf("DELETE /v1/session HTTP/1.1\r\nHost: t\r\nCookie: %s", cookie);
    g_autofree char *got = fetch(f, head);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 403 "));
    g_assert_nonnull(strstr(got, "X-CSRF-Token"));
    g_assert_false(conn_read(&s, 300));
    g_assert_false(s.eof);
  }
  /* With it: the session's stream ends at once; a bearer stream of the
   * same user goes on. */
  {
    g_autofree char *head = g_strdup_printf(
        "DELETE /v1/session HTTP/1.1\r\nHost: t\r\nCookie: %s\r\nX-CSRF-Token: %s", cookie, csrf);
    g_autofree char *got = fetch(f, head);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
  }
  conn_wait_closed(&s);
  g_assert_false(conn_read(&kept, 300));
  g_assert_false(kept.eof);
  /* The cookie opens no stream any more. */
  {
    g_autofree char *head =
        g_strdup_printf("GET /v1/events HTTP/1.1\r\nHost: t\r\nCookie: %s", cookie);
    g_autofree char *got = fetch(f, head);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 401 "));
  }
}

/* Waits until pcipassd holds @n event streams. */
static void
wait_streams(PpTestDaemon *f, guint n)
{
  gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US;

  while (pp_test_metric(f, "pcipass_event_streams") != n) {
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(20 * 1000);
  }
}

/* A client that closes its connection frees its stream at once: not at
 * a heartbeat (an hour away here), nor at an event. */
static void
test_client_gone(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *alice_auth = NULL;
  g_auto(Conn) gone = { .fd = -1 };
  g_auto(Conn) kept = { .fd = -1 };

  pp_test_daemon_start(f, (const char *const[]){ "--event-heartbeat", "3600", NULL });
  alice = pp_test_add_user(f, "alice");
  alice_auth = bearer(alice);
  stream_open(f, alice_auth, "alice", &gone);
  stream_open(f, alice_auth, "alice", &kept);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 2);
  conn_clear(&gone);
  wait_streams(f, 1);
  /* The other goes on, and hears what comes. */
  pp_test_add_tree_host(f, "node1", f->trees[0]);
  conn_wait_for(&kept, "event: host\ndata: {\"id\":1,\"name\":\"node1\"");
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 1);
}

/* The heartbeat checks each stream's token again: one deleted since the
 * stream opened ends it at the next beat; a stream of the same user's
 * other token, still good, goes on and is pinged. */
static void
test_token_gone(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *alice = NULL;
  g_autofree char *alice_auth = NULL;
  g_autofree char *second_auth = NULL;
  g_autofree char *path = NULL;
  g_auto(PpTestReply) reply = { 0 };
  g_auto(Conn) gone = { .fd = -1 };
  g_auto(Conn) kept = { .fd = -1 };

  pp_test_daemon_start(f, (const char *const[]){ "--event-heartbeat", "1", NULL });
  alice = pp_test_add_user(f, "alice");
  alice_auth = bearer(alice);
  pp_test_http(f, NULL, alice, "POST", "/v1/tokens", "{}", 2, &reply);
  g_assert_cmpint(reply.status, ==, 201);
  second_auth = bearer(json_string_value(json_object_get(reply.json, "token")));
  path = g_strdup_printf("/v1/tokens/%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(reply.json, "id")));
  pp_test_reply_clear(&reply);
  stream_open(f, second_auth, "alice", &gone);
  stream_open(f, alice_auth, "alice", &kept);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 2);

  pp_test_http(f, NULL, alice, "DELETE", path, NULL, 0, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  conn_wait_closed(&gone);
  wait_streams(f, 1);
  /* Two beats later the other is still open, pinged. */
  conn_wait_for(&kept, ": ping\n\n");
  g_string_truncate(kept.got, 0);
  conn_wait_for(&kept, ": ping\n\n");
  g_assert_false(kept.eof);
  g_assert_cmpuint(pp_test_metric(f, "pcipass_event_streams"), ==, 1);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/events/assets", PpTestDaemon, NULL, pp_test_daemon_set_up, test_assets,
             pp_test_daemon_tear_down);
  g_test_add("/events/stream", PpTestDaemon, NULL, pp_test_daemon_set_up, test_stream,
             pp_test_daemon_tear_down);
  g_test_add("/events/bounds", PpTestDaemon, NULL, pp_test_daemon_set_up, test_bounds,
             pp_test_daemon_tear_down);
  g_test_add("/events/logout", PpTestDaemon, NULL, pp_test_daemon_set_up, test_logout,
             pp_test_daemon_tear_down);
  g_test_add("/events/client-gone", PpTestDaemon, NULL, pp_test_daemon_set_up, test_client_gone,
             pp_test_daemon_tear_down);
  g_test_add("/events/token-gone", PpTestDaemon, NULL, pp_test_daemon_set_up, test_token_gone,
             pp_test_daemon_tear_down);
  return g_test_run();
}
