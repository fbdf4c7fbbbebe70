/* pp-http against libcurl: the server runs on this test's main loop, the
 * clients in threads (curl blocks), so the test iterates the main context
 * until they are done. An echo handler answers what the server made of
 * each request. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>
#include <netinet/in.h>

#include "pp-autoptr.h"
#include "pp-fd.h"
#include "pp-http-priv.h"
#include "pp-http.h"
#include "pp-test-util.h"

#define MAX_BODY 1000
#define TOO_LARGE                                                                                  \
  "{\"error\": {\"code\": 413, \"message\": \"request body larger than 1000 bytes\"}}"
#define LENGTH_REQUIRED                                                                            \
  "{\"error\": {\"code\": 411, \"message\": \"a body must come with a Content-Length: "            \
  "Transfer-Encoding is not accepted\"}}"

/* One request and what came back. */
typedef struct {
  const char *unix_path; /* NULL: TCP on port */
  guint16 port;
  const char *method; /* NULL: GET, or POST with a body */
  const char *target; /* "/echo?q=1" */
  const char *body;   /* NULL: none */
  gsize body_len;
  gboolean chunked; /* the body in 7-byte chunks, Transfer-Encoding: chunked */
  gboolean fresh;   /* a new connection, closed after */
  const char *headers[4];
  long timeout_s; /* 0: 120 */

  gsize sent; /* of a chunked body */
  CURLcode rc;
  long status;
  GString *head;
  GString *answer;
  long new_connections;
  long local_port;
} Call;

static void
call_clear(Call *c)
{
  if (c->head != NULL)
    g_string_free(c->head, TRUE);
  if (c->answer != NULL)
    g_string_free(c->answer, TRUE);
}

static size_t
on_write(char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len(user_data, data, (gssize)(size * n));
  return size * n;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *user_data)
{
  Call *c = user_data;
  gsize len = MIN(MIN(size * n, 7), c->body_len - c->sent);

  memcpy(buf, c->body + c->sent, len);
  c->sent += len;
  return len;
}

static void
call_perform(CURL *curl, Call *c)
{
  g_autofree char *url = NULL;
  struct curl_slist *headers = NULL;

  c->head = g_string_new(NULL);
  c->answer = g_string_new(NULL);
  curl_easy_reset(curl); /* keeps the connection cache */
  if (c->unix_path != NULL) {
    url = g_strconcat("http://localhost", c->target, NULL);
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
  } else {
    url = g_strdup_printf("http://127.0.0.1:%u%s", c->port, c->target);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  /* Not an assertion on time: a hung server fails the test instead of
   * hanging it. */
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 120L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, c->answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, c->head);
  if (c->fresh) {
    curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
  }
  if (c->body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    if (c->chunked) {
      c->sent = 0;
      headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(curl, CURLOPT_READDATA, c);
    } else {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, c->body);
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
    }
  }
  if (c->method != NULL)
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, c->method);
  for (guint i = 0; i < G_N_ELEMENTS(c->headers) && c->headers[i] != NULL; i++)
    headers = curl_slist_append(headers, c->headers[i]);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  c->rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &c->status);
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &c->new_connections);
  curl_easy_getinfo(curl, CURLINFO_LOCAL_PORT, &c->local_port);
  curl_slist_free_all(headers);
}

/* A client thread runs its calls in order on one curl handle. */
typedef struct {
  Call *calls;
  guint n;
} Client;

static gint clients_running;

static gpointer
client_thread(gpointer data)
{
  Client *client = data;
  g_autoptr(CURL) curl = curl_easy_init();

  g_assert_nonnull(curl);
  for (guint i = 0; i < client->n; i++)
    call_perform(curl, &client->calls[i]);
  if (g_atomic_int_dec_and_test(&clients_running))
    g_main_context_wakeup(NULL);
  return NULL;
}

/* Runs the clients at once; the server answers on this thread meanwhile. */
static void
run_clients(Client *clients, guint n)
{
  g_autofree GThread **threads = g_new0(GThread *, n);

  g_atomic_int_set(&clients_running, (gint)n);
  for (guint i = 0; i < n; i++)
    threads[i] = g_thread_new("client", client_thread, &clients[i]);
  while (g_atomic_int_get(&clients_running) > 0)
    g_main_context_iteration(NULL, TRUE);
  for (guint i = 0; i < n; i++)
    g_thread_join(threads[i]);
}

static void
run_calls(Call *calls, guint n)
{
  Client client = { calls, n };

  run_clients(&client, 1);
}

static void
run_call(Call *call)
{
  run_calls(call, 1);
}

static json_t *
answer_json(const Call *c)
{
  json_error_t jerr;
  json_t *json = json_loads(c->answer->str, JSON_ALLOW_NUL, &jerr);

  if (json == NULL)
    g_error("not JSON (%s): '%s'", jerr.text, c->answer->str);
  return json;
}

static const char *
jstr(json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

static json_int_t
jint(json_t *obj, const char *key)
{
  json_t *v = json_object_get(obj, key);

  g_assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static int
connect_unix(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint(fd, >=, 0);
  g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
  strcpy(sa.sun_path, path);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  return fd;
}

static void
send_all(int fd, const char *text)
{
  g_assert_cmpint(send(fd, text, strlen(text), MSG_NOSIGNAL), ==, (gssize)strlen(text));
}

/* A connection to @port of 127.0.0.1, or to the Unix socket @path. */
static int
connect_to(const char *path, guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  int fd;

  if (path != NULL)
    return connect_unix(path);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  return fd;
}

/* Runs the main loop for @ms milliseconds. */
static void
pump(guint ms)
{
  gint64 until = g_get_monotonic_time() + ms * 1000;

  while (g_get_monotonic_time() < until) {
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(1000);
  }
}

/* What comes on @fd until the server closes it (a guard of 60 s against
 * a hang, not a timing). */
static char *
read_all(int fd)
{
  GString *out = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

  for (;;) {
    char buf[4096];
    GPollFD pfd = { fd, G_IO_IN, 0 };
    ssize_t n;

    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    /* The server answers on this thread's loop: run it meanwhile. */
    g_main_context_iteration(NULL, FALSE);
    if (g_poll(&pfd, 1, 10) <= 0)
      continue;
    n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    g_string_append_len(out, buf, n);
  }
  return g_string_free(out, FALSE);
}

/* The server under test: a Unix socket in a new folder, and TCP on an
 * ephemeral port of 127.0.0.1. */
typedef struct {
  char *dir;
  char *sock;
  PpHttpServer *server;
  guint16 port;
  guint calls; /* of the handler */
} Fixture;

/* Echoes what the server made of the request; "/status/N" answers N. */
static void
echo_handler(const PpHttpRequest *req, guint *ret_status, const char **ret_content_type,
             GBytes **ret_body, gpointer user_data)
{
  Fixture *f = user_data;
  const PpHttpPeer *peer = pp_http_request_get_peer(req);
  const char *path = pp_http_request_get_path(req);
  const char *query = pp_http_request_get_query(req, "q");
  const char *header = pp_http_request_get_header(req, "x-test");
  g_autoptr(json_t) json = json_object();
  g_autofree char *text = NULL;
  const char *body;
  gsize len = 99;
  char *dumped;

  f->calls++;
  body = pp_http_request_get_body(req, &len);
  g_assert_cmpint(body[len], ==, '\0');
  json_object_set_new(json, "method", json_string(pp_http_request_get_method(req)));
  json_object_set_new(json, "path", json_string(path));
  json_object_set_new(json, "q", query != NULL ? json_string(query) : json_null());
  json_object_set_new(json, "h", header != NULL ? json_string(header) : json_null());
  json_object_set_new(json, "body", json_stringn(body, len));
  json_object_set_new(json, "body_len", json_integer((json_int_t)len));
  json_object_set_new(json, "is_unix", json_boolean(peer->is_unix));
  json_object_set_new(json, "uid", json_integer((json_int_t)peer->uid));
  json_object_set_new(json, "gid", json_integer((json_int_t)peer->gid));
  json_object_set_new(json, "pid", json_integer((json_int_t)peer->pid));
  json_object_set_new(json, "remote", json_string(peer->remote));
  json_object_set_new(json, "data",
                      pp_http_request_get_data(req) != NULL
                          ? json_string(pp_http_request_get_data(req))
                          : json_null());
  dumped = json_dumps(json, JSON_COMPACT);
  text = g_strdup(dumped);
  free(dumped);

  *ret_status = 200;
  if (g_str_has_prefix(path, "/status/"))
    *ret_status = (guint)g_ascii_strtoull(path + strlen("/status/"), NULL, 10);
  *ret_content_type = "application/json";
  *ret_body = g_bytes_new(text, strlen(text));
}

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = pp_test_mkdtemp();
  f->sock = g_build_filename(f->dir, "run", "pcipass", "pcipassd.sock", NULL);
  f->server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_assert_cmpuint(pp_http_server_get_tcp_port(f->server), ==, 0);
  g_assert_true(pp_http_server_listen_unix(f->server, f->sock, 0660, &error));
  g_assert_no_error(error);
  g_assert_true(pp_http_server_listen_tcp(f->server, "127.0.0.1:0", &error));
  g_assert_no_error(error);
  f->port = pp_http_server_get_tcp_port(f->server);
  g_assert_cmpuint(f->port, !=, 0);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_pointer(&f->server, pp_http_server_free);
  pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->sock);
}

static void
assert_counts(PpHttpServer *server, guint64 c2, guint64 c3, guint64 c4, guint64 c5)
{
  guint64 counts[6] = { 9, 9, 9, 9, 9, 9 };

  pp_http_server_get_counts(server, counts);
  g_assert_cmpuint(counts[0], ==, 0);
  g_assert_cmpuint(counts[1], ==, 0);
  g_assert_cmpuint(counts[2], ==, c2);
  g_assert_cmpuint(counts[3], ==, c3);
  g_assert_cmpuint(counts[4], ==, c4);
  g_assert_cmpuint(counts[5], ==, c5);
}

static void
assert_too_large(const Call *c)
{
  g_assert_cmpint(c->rc, ==, CURLE_OK);
  g_assert_cmpint(c->status, ==, 413);
  g_assert_cmpstr(c->answer->str, ==, TOO_LARGE);
  g_assert_nonnull(strstr(c->head->str, "Content-Type: application/json\r\n"));
}

static void
test_echo_unix(Fixture *f, gconstpointer data)
{
  Call c = { .unix_path = f->sock,
             .target = "/v1/a%20b?q=x%2Fy+z&n=1",
             .headers = { "X-Test: Hello there" } };
  g_autoptr(json_t) json = NULL;
  struct stat st;

  /* The folder was made; the socket has the mode asked. */
  g_assert_cmpint(stat(f->sock, &st), ==, 0);
  g_assert_true(S_ISSOCK(st.st_mode));
  g_assert_cmpint(st.st_mode & 07777, ==, 0660);

  run_call(&c);
  g_assert_cmpint(c.rc, ==, CURLE_OK);
  g_assert_cmpint(c.status, ==, 200);
  g_assert_nonnull(strstr(c.head->str, "Content-Type: application/json\r\n"));
  g_assert_nonnull(strstr(c.head->str, "Cache-Control: no-store\r\n"));
  json = answer_json(&c);
  g_assert_cmpstr(jstr(json, "method"), ==, "GET");
  /* The path raw, the query decoded. */
  g_assert_cmpstr(jstr(json, "path"), ==, "/v1/a%20b");
  g_assert_cmpstr(jstr(json, "q"), ==, "x/y z");
  g_assert_cmpstr(jstr(json, "h"), ==, "Hello there");
  g_assert_cmpstr(jstr(json, "body"), ==, "");
  g_assert_cmpint(jint(json, "body_len"), ==, 0);
  g_assert_true(json_is_true(json_object_get(json, "is_unix")));
  g_assert_cmpint(jint(json, "uid"), ==, getuid());
  g_assert_cmpint(jint(json, "gid"), ==, getgid());
  g_assert_cmpint(jint(json, "pid"), ==, getpid());
  g_assert_cmpstr(jstr(json, "remote"), ==, "unix");
  g_assert_cmpuint(f->calls, ==, 1);
  assert_counts(f->server, 1, 0, 0, 0);
  call_clear(&c);
}

static void
test_echo_tcp(Fixture *f, gconstpointer data)
{
  Call c = { .port = f->port, .target = "/post", .body = "hello\0world", .body_len = 11 };
  g_autoptr(json_t) json = NULL;
  g_autofree char *remote = NULL;

  run_call(&c);
  g_assert_cmpint(c.rc, ==, CURLE_OK);
  g_assert_cmpint(c.status, ==, 200);
  json = answer_json(&c);
  g_assert_cmpstr(jstr(json, "method"), ==, "POST");
  g_assert_cmpstr(jstr(json, "path"), ==, "/post");
  g_assert_true(json_is_null(json_object_get(json, "q")));
  g_assert_true(json_is_null(json_object_get(json, "h")));
  /* The body whole, NUL included. */
  g_assert_cmpint(jint(json, "body_len"), ==, 11);
  g_assert_cmpmem(json_string_value(json_object_get(json, "body")),
                  json_string_length(json_object_get(json, "body")), "hello\0world", 11);
  g_assert_true(json_is_false(json_object_get(json, "is_unix")));
  g_assert_cmpint(jint(json, "pid"), ==, 0);
  remote = g_strdup_printf("127.0.0.1:%ld", c.local_port);
  g_assert_cmpstr(jstr(json, "remote"), ==, remote);
  call_clear(&c);
}

static void
test_body_limit(Fixture *f, gconstpointer data)
{
  g_autofree char *at_limit = g_malloc(MAX_BODY + 2);
  /* "Expect:" stops curl from asking for 100-continue. */
  Call calls[] = {
    { .port = f->port, .target = "/a", .body_len = MAX_BODY, .headers = { "Expect:" } },
    { .port = f->port, .target = "/b", .body_len = MAX_BODY + 1, .headers = { "Expect:" } },
    { .port = f->port,
      .target = "/c",
      .body_len = MAX_BODY,
      .headers = { "Expect: 100-continue" } },
    { .port = f->port,
      .target = "/d",
      .body_len = MAX_BODY + 1,
      .headers = { "Expect: 100-continue" } },
    { .port = f->port, .target = "/e", .body_len = MAX_BODY, .chunked = TRUE },
    { .port = f->port, .target = "/f", .body_len = MAX_BODY + 1, .chunked = TRUE },
    { .unix_path = f->sock, .target = "/g", .body_len = MAX_BODY + 1 },
    { .unix_path = f->sock, .target = "/h", .body_len = MAX_BODY + 1, .chunked = TRUE },
    { .unix_path = f->sock, .target = "/i", .body_len = MAX_BODY, .chunked = TRUE },
  };

  for (guint i = 0; i < MAX_BODY + 1; i++)
    at_limit[i] = (char)('a' + i % 26);
  at_limit[MAX_BODY + 1] = '\0';
  for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
    calls[i].body = at_limit;

  for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
    Call *c = &calls[i];
    guint before = f->calls;

    g_test_message("%s: %" G_GSIZE_FORMAT " bytes%s", c->target, c->body_len,
                   c->chunked ? ", chunked" : "");
    run_call(c);
    /* Asked to wait, the client hears "100 Continue" only for a body
     * within the bound: one announced larger is refused before it is sent. */
    if (c->headers[0] != NULL && strcmp(c->headers[0], "Expect: 100-continue") == 0)
      g_assert_cmpint(strstr(c->head->str, " 100 Continue\r\n") != NULL, ==,
                      c->body_len <= MAX_BODY);
    if (c->chunked) {
      /* A body comes with its length: a chunked one is refused, the
       * handler not called. */
      g_assert_cmpint(c->rc, ==, CURLE_OK);
      g_assert_cmpint(c->status, ==, 411);
      g_assert_cmpstr(c->answer->str, ==, LENGTH_REQUIRED);
      g_assert_cmpuint(f->calls, ==, before);
    } else if (c->body_len > MAX_BODY) {
      assert_too_large(c);
      g_assert_cmpuint(f->calls, ==, before);
    } else {
      g_autoptr(json_t) json = NULL;

      g_assert_cmpint(c->rc, ==, CURLE_OK);
      g_assert_cmpint(c->status, ==, 200);
      g_assert_cmpuint(f->calls, ==, before + 1);
      json = answer_json(c);
      g_assert_cmpstr(jstr(json, "path"), ==, c->target);
      g_assert_cmpint(jint(json, "body_len"), ==, MAX_BODY);
      g_assert_cmpmem(jstr(json, "body"), MAX_BODY, at_limit, MAX_BODY);
    }
    call_clear(c);
  }
  assert_counts(f->server, 2, 0, 7, 0);
}

/* One request a connection: every answer closes it (the next request's
 * head then passes the checks and the header timeout again), a client that
 * would keep it reconnects; a second request sent on the same connection
 * gets no answer. */
static void
test_one_request_a_connection(Fixture *f, gconstpointer data)
{
  g_autofree char *big = g_strnfill(MAX_BODY + 1, 'x');

  for (guint s = 0; s < 2; s++) {
    const char *path = s == 0 ? f->sock : NULL;
    Call calls[] = {
      { .unix_path = path, .port = f->port, .target = "/1", .headers = { "X-Test: one" } },
      { .unix_path = path, .port = f->port, .target = "/2", .body = "two", .body_len = 3 },
      { .unix_path = path,
        .port = f->port,
        .target = "/3",
        .body = big,
        .body_len = MAX_BODY + 1,
        .headers = { "Expect:" } },
      { .unix_path = path, .port = f->port, .method = "DELETE", .target = "/4" },
    };

    run_calls(calls, G_N_ELEMENTS(calls));
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
      g_assert_cmpint(calls[i].rc, ==, CURLE_OK);
      g_assert_cmpint(calls[i].new_connections, ==, 1);
      g_assert_nonnull(strstr(calls[i].head->str, "Connection: close\r\n"));
    }
    assert_too_large(&calls[2]);
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
      g_autoptr(json_t) json = NULL;

      if (i == 2)
        continue;
      g_assert_cmpint(calls[i].status, ==, 200);
      json = answer_json(&calls[i]);
      g_assert_cmpstr(jstr(json, "path"), ==, calls[i].target);
      if (calls[i].body != NULL)
        g_assert_cmpstr(jstr(json, "body"), ==, calls[i].body);
      else
        g_assert_cmpint(jint(json, "body_len"), ==, 0);
    }
    {
      g_autoptr(json_t) json = answer_json(&calls[3]);

      g_assert_cmpstr(jstr(json, "method"), ==, "DELETE");
    }
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
      call_clear(&calls[i]);
  }
  g_assert_cmpuint(f->calls, ==, 6);
  assert_counts(f->server, 6, 0, 2, 0);

  /* Two requests at once on one connection: the first is answered, and
   * the connection closes. */
  {
    pp_autofd int fd = connect_unix(f->sock);
    g_autofree char *got = NULL;

    send_all(fd, "GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n");
    got = read_all(fd);
    g_assert_cmpuint(pp_test_count(got, "HTTP/1.1 200"), ==, 1);
    g_assert_nonnull(strstr(got, "/first"));
    g_assert_null(strstr(got, "/second"));
  }
  g_assert_cmpuint(f->calls, ==, 7);
}

static void
test_sequential(Fixture *f, gconstpointer data)
{
  Call calls[50];
  char *bodies[50];

  memset(calls, 0, sizeof(calls));
  for (guint i = 0; i < 50; i++) {
    bodies[i] = g_strdup_printf("request %u", i);
    calls[i].unix_path = i % 2 == 0 ? f->sock : NULL;
    calls[i].port = f->port;
    calls[i].target = "/seq";
    calls[i].body = bodies[i];
    calls[i].body_len = strlen(bodies[i]);
    calls[i].fresh = TRUE;
  }
  run_calls(calls, 50);
  for (guint i = 0; i < 50; i++) {
    g_autoptr(json_t) json = NULL;

    g_assert_cmpint(calls[i].rc, ==, CURLE_OK);
    g_assert_cmpint(calls[i].status, ==, 200);
    g_assert_cmpint(calls[i].new_connections, ==, 1);
    json = answer_json(&calls[i]);
    g_assert_cmpstr(jstr(json, "body"), ==, bodies[i]);
    g_assert_true(json_is_boolean(json_object_get(json, "is_unix")));
    g_assert_cmpint(json_is_true(json_object_get(json, "is_unix")), ==, i % 2 == 0);
    call_clear(&calls[i]);
  }
  for (guint i = 0; i < 50; i++)
    g_free(bodies[i]);
  g_assert_cmpuint(f->calls, ==, 50);
  assert_counts(f->server, 50, 0, 0, 0);
}

/* Clients at once, while one stalls half-way through its headers and
 * another leaves in the middle of its body: nobody waits on them. */
static void
test_concurrent(Fixture *f, gconstpointer data)
{
  enum { N_CLIENTS = 4, N_CALLS = 10 };
  Client clients[N_CLIENTS];
  Call calls[N_CLIENTS][N_CALLS];
  char bodies[N_CLIENTS][N_CALLS][32];
  pp_autofd int stalled = connect_unix(f->sock);
  pp_autofd int leaving = connect_unix(f->sock);

  send_all(stalled, "POST /stalled HTTP/1.1\r\nHost: localhost\r\nX-Te");
  send_all(leaving, "POST /leaving HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc");
  pp_close_fdp(&leaving);

  memset(calls, 0, sizeof(calls));
  for (guint i = 0; i < N_CLIENTS; i++) {
    for (guint j = 0; j < N_CALLS; j++) {
      Call *c = &calls[i][j];

      g_snprintf(bodies[i][j], sizeof(bodies[i][j]), "client %u call %u", i, j);
      c->unix_path = i % 2 == 0 ? f->sock : NULL;
      c->port = f->port;
      c->target = "/concurrent";
      c->body = bodies[i][j];
      c->body_len = strlen(bodies[i][j]);
      c->fresh = j % 3 == 0;
    }
    clients[i].calls = calls[i];
    clients[i].n = N_CALLS;
  }
  run_clients(clients, N_CLIENTS);
  for (guint i = 0; i < N_CLIENTS; i++) {
    for (guint j = 0; j < N_CALLS; j++) {
      g_autoptr(json_t) json = NULL;

      g_assert_cmpint(calls[i][j].rc, ==, CURLE_OK);
      g_assert_cmpint(calls[i][j].status, ==, 200);
      json = answer_json(&calls[i][j]);
      g_assert_cmpstr(jstr(json, "body"), ==, bodies[i][j]);
      call_clear(&calls[i][j]);
    }
  }
  g_assert_cmpuint(f->calls, ==, N_CLIENTS * N_CALLS);
  /* The stalled client is still connected: freeing the server closes it
   * and frees its request. */
  g_clear_pointer(&f->server, pp_http_server_free);
  g_assert_false(g_file_test(f->sock, G_FILE_TEST_EXISTS));
}

static void
make_stale_socket(const char *path)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  pp_autofd int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint(fd, >=, 0);
  strcpy(sa.sun_path, path);
  g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
  g_assert_cmpint(listen(fd, 1), ==, 0);
  /* Closed without unlink: a daemon that died. */
}

static void
test_stale_socket(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename(f->dir, "stale.sock", NULL);
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  g_autoptr(json_t) json = NULL;
  struct stat before, after;
  Call c = { .unix_path = path, .target = "/after-stale" };

  make_stale_socket(path);
  g_assert_cmpint(stat(path, &before), ==, 0);
  g_assert_true(pp_http_server_listen_unix(server, path, 0666, &error));
  g_assert_no_error(error);
  g_assert_cmpint(stat(path, &after), ==, 0);
  g_assert_cmpuint(after.st_ino, !=, before.st_ino);
  g_assert_cmpint(after.st_mode & 07777, ==, 0666);

  run_call(&c);
  g_assert_cmpint(c.rc, ==, CURLE_OK);
  g_assert_cmpint(c.status, ==, 200);
  json = answer_json(&c);
  g_assert_cmpstr(jstr(json, "path"), ==, "/after-stale");
  call_clear(&c);

  g_clear_pointer(&server, pp_http_server_free);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
assert_still_answers(Fixture *f)
{
  Call calls[] = {
    { .unix_path = f->sock, .target = "/still" },
    { .port = f->port, .target = "/still" },
  };

  run_calls(calls, G_N_ELEMENTS(calls));
  for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
    g_assert_cmpint(calls[i].rc, ==, CURLE_OK);
    g_assert_cmpint(calls[i].status, ==, 200);
    call_clear(&calls[i]);
  }
}

static void
test_in_use(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHttpServer) other = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *address = g_strdup_printf("127.0.0.1:%u", f->port);
  struct stat before, after;

  g_assert_cmpint(stat(f->sock, &before), ==, 0);
  g_assert_false(pp_http_server_listen_unix(other, f->sock, 0666, &error));
  g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_IN_USE);
  message = g_strdup_printf("another pcipassd answers on '%s'", f->sock);
  g_assert_cmpstr(error->message, ==, message);
  g_clear_error(&error);
  g_clear_pointer(&message, g_free);

  g_assert_false(pp_http_server_listen_tcp(other, address, &error));
  g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_IN_USE);
  message = g_strdup_printf("cannot listen on '%s': %s", address, g_strerror(EADDRINUSE));
  g_assert_cmpstr(error->message, ==, message);
  g_assert_cmpuint(pp_http_server_get_tcp_port(other), ==, 0);

  /* Freeing the loser leaves the winner's socket alone. */
  g_clear_pointer(&other, pp_http_server_free);
  g_assert_cmpint(stat(f->sock, &after), ==, 0);
  g_assert_cmpuint(after.st_ino, ==, before.st_ino);
  g_assert_cmpint(after.st_mode & 07777, ==, 0660);
  assert_still_answers(f);
  g_assert_cmpuint(f->calls, ==, 2);
}

static void
test_not_a_socket(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename(f->dir, "file", NULL);
  g_autofree char *link = g_build_filename(f->dir, "link.sock", NULL);
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *contents = NULL;

  pp_test_write_file(path, "not a socket\n");
  g_assert_false(pp_http_server_listen_unix(server, path, 0666, &error));
  g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED);
  message = g_strdup_printf("'%s' exists and is not a socket", path);
  g_assert_cmpstr(error->message, ==, message);
  g_clear_error(&error);
  g_clear_pointer(&message, g_free);
  g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
  g_assert_cmpstr(contents, ==, "not a socket\n");

  /* A link to the live socket is not followed, nor removed. */
  g_assert_cmpint(symlink(f->sock, link), ==, 0);
  g_assert_false(pp_http_server_listen_unix(server, link, 0666, &error));
  g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED);
  message = g_strdup_printf("'%s' exists and is not a socket", link);
  g_assert_cmpstr(error->message, ==, message);
  g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
  assert_still_answers(f);
}

static void
test_bad_address(void)
{
  static const struct {
    const char *address;
    const char *message;
  } cases[] = {
    { "nohost", "invalid listen address 'nohost': expected 'HOST:PORT'" },
    { "1.2.3.4:99999",
      "invalid listen address '1.2.3.4:99999': the port must be a number from 0 to 65535" },
    { "[::1", "invalid listen address '[::1': no ']' after the IPv6 address" },
    { "[::1]80", "invalid listen address '[::1]80': expected '[IPV6]:PORT'" },
    { "[::1]", "invalid listen address '[::1]': expected '[IPV6]:PORT'" },
    { "[localhost]:80",
      "invalid listen address '[localhost]:80': 'localhost' is not a numeric IPv6 address" },
    { "[1.2.3.4]:80",
      "invalid listen address '[1.2.3.4]:80': '1.2.3.4' is not a numeric IPv6 address" },
    { "::1:80", "invalid listen address '::1:80': an IPv6 address goes in brackets, '[::1]:PORT'" },
    { "example.com:80", "invalid listen address 'example.com:80': 'example.com' is not a "
                        "numeric IPv4 address or 'localhost'" },
    { "127.1:80",
      "invalid listen address '127.1:80': '127.1' is not a numeric IPv4 address or 'localhost'" },
    { " 127.0.0.1:80", "invalid listen address ' 127.0.0.1:80': ' 127.0.0.1' is not a numeric "
                       "IPv4 address or 'localhost'" },
    { ":80", "invalid listen address ':80': '' is not a numeric IPv4 address or 'localhost'" },
    { "127.0.0.1:", "invalid listen address '127.0.0.1:': the port must be a number from 0 to "
                    "65535" },
    { "127.0.0.1:-1", "invalid listen address '127.0.0.1:-1': the port must be a number from 0 "
                      "to 65535" },
    { "127.0.0.1:+80", "invalid listen address '127.0.0.1:+80': the port must be a number from "
                       "0 to 65535" },
    { "127.0.0.1:080080", "invalid listen address '127.0.0.1:080080': the port must be a number "
                          "from 0 to 65535" },
    { "127.0.0.1:80 ", "invalid listen address '127.0.0.1:80 ': the port must be a number from 0 "
                       "to 65535" },
  };
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, NULL, MAX_BODY);
  g_autofree char *long_address = g_strnfill(300, '1');
  g_autofree char *long_path = g_strnfill(200, 'p');

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_http_server_listen_tcp(server, cases[i].address, &error));
    g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, cases[i].message);
  }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_http_server_listen_tcp(server, long_address, &error));
    g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "invalid listen address: longer than 256 bytes");
  }
  for (guint i = 0; i < 2; i++) {
    g_autoptr(GError) error = NULL;
    const char *path = i == 0 ? "" : long_path;
    g_autofree char *message =
        g_strdup_printf("invalid socket path '%s': empty or longer than 107 bytes", path);

    g_assert_false(pp_http_server_listen_unix(server, path, 0666, &error));
    g_assert_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, message);
    g_assert_false(g_file_test(long_path, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpuint(pp_http_server_get_tcp_port(server), ==, 0);
}

static void
test_localhost(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  g_autoptr(json_t) json = NULL;
  Call c = { .target = "/local" };

  g_assert_true(pp_http_server_listen_tcp(server, "localhost:0", &error));
  g_assert_no_error(error);
  c.port = pp_http_server_get_tcp_port(server);
  g_assert_cmpuint(c.port, !=, 0);
  g_assert_cmpuint(c.port, !=, f->port);
  run_call(&c);
  g_assert_cmpint(c.rc, ==, CURLE_OK);
  g_assert_cmpint(c.status, ==, 200);
  json = answer_json(&c);
  g_assert_true(g_str_has_prefix(jstr(json, "remote"), "127.0.0.1:"));
  call_clear(&c);
}

static void
test_ipv6(Fixture *f, gconstpointer data)
{
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
  pp_autofd int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    g_test_skip("no IPv6 loopback here");
    return;
  }
  g_assert_true(pp_http_server_listen_tcp(server, "[::1]:0", &error));
  g_assert_no_error(error);
  g_assert_cmpuint(pp_http_server_get_tcp_port(server), !=, 0);
}

static void
test_free_removes_socket(Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename(f->dir, "a.sock", NULL);
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  struct stat st;

  g_assert_true(pp_http_server_listen_unix(server, path, 0666, &error));
  g_assert_no_error(error);
  g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
  g_clear_pointer(&server, pp_http_server_free);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

  /* A socket file that is no longer ours (another daemon replaced it) is
   * left alone. */
  server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_assert_true(pp_http_server_listen_unix(server, path, 0666, &error));
  g_assert_no_error(error);
  g_assert_cmpint(unlink(path), ==, 0);
  make_stale_socket(path);
  g_clear_pointer(&server, pp_http_server_free);
  g_assert_cmpint(lstat(path, &st), ==, 0);
  g_assert_true(S_ISSOCK(st.st_mode));
}

static void
test_counts(Fixture *f, gconstpointer data)
{
  static const char *const targets[] = {
    "/status/201", "/status/404", "/status/204", "/status/404",
    "/status/500", "/status/302", "/status/503", "/status/200"
  };
  static const long expected[] = { 201, 404, 204, 404, 500, 302, 503, 200 };
  Call calls[G_N_ELEMENTS(targets)];

  assert_counts(f->server, 0, 0, 0, 0);
  memset(calls, 0, sizeof(calls));
  for (guint i = 0; i < G_N_ELEMENTS(targets); i++) {
    calls[i].unix_path = i % 2 == 0 ? f->sock : NULL;
    calls[i].port = f->port;
    calls[i].target = targets[i];
  }
  run_calls(calls, G_N_ELEMENTS(calls));
  for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
    g_assert_cmpint(calls[i].rc, ==, CURLE_OK);
    g_assert_cmpint(calls[i].status, ==, expected[i]);
    call_clear(&calls[i]);
  }
  assert_counts(f->server, 3, 1, 2, 2);
}

/* A server of its own with @limits, on a new socket and port; the Unix
 * socket's path in @ret_sock (transfer full). */
static PpHttpServer *
limited_server(Fixture *f, const PpHttpLimits *limits, char **ret_sock, guint16 *ret_port)
{
  static guint n;
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, MAX_BODY);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf("limited%u.sock", n++);

  *ret_sock = g_build_filename(f->dir, name, NULL);
  g_assert_true(pp_http_server_set_limits(server, limits, &error));
  g_assert_no_error(error);
  g_assert_true(pp_http_server_listen_unix(server, *ret_sock, 0666, &error));
  g_assert_no_error(error);
  g_assert_true(pp_http_server_listen_tcp(server, "127.0.0.1:0", &error));
  g_assert_no_error(error);
  *ret_port = pp_http_server_get_tcp_port(server);
  return g_steal_pointer(&server);
}

static void
assert_stats(PpHttpServer *server, guint open, guint64 refused_peer, guint64 header_timeouts)
{
  PpHttpStats stats;

  pp_http_server_get_stats(server, &stats);
  g_assert_cmpuint(stats.open, ==, open);
  g_assert_cmpuint(stats.refused_peer, ==, refused_peer);
  g_assert_cmpuint(stats.header_timeouts, ==, header_timeouts);
}

/* Runs the loop until the server holds @open connections (a guard of
 * 60 s against a hang, not a timing). */
static void
wait_open(PpHttpServer *server, guint open)
{
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
  PpHttpStats stats;

  for (;;) {
    pp_http_server_get_stats(server, &stats);
    if (stats.open == open)
      return;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    pump(10);
  }
}

/* The JSON error in a raw answer, asserting the status line, the shape
 * and that the connection closes. */
static void
assert_raw_error(const char *answer, guint status, const char *message)
{
  g_autofree char *line = g_strdup_printf("HTTP/1.1 %u ", status);
  const char *body = strstr(answer, "\r\n\r\n");
  g_autoptr(json_t) json = NULL;
  json_t *error;

  if (!g_str_has_prefix(answer, line))
    g_error("not %u: '%s'", status, answer);
  g_assert_nonnull(strstr(answer, "Content-Type: application/json\r\n"));
  g_assert_nonnull(strstr(answer, "Connection: close\r\n"));
  g_assert_nonnull(body);
  json = json_loads(body + 4, 0, NULL);
  g_assert_nonnull(json);
  error = json_object_get(json, "error");
  g_assert_cmpint(json_integer_value(json_object_get(error, "code")), ==, status);
  if (strstr(json_string_value(json_object_get(error, "message")), message) == NULL)
    g_error("'%s' is not in '%s'", message, json_string_value(json_object_get(error, "message")));
}

/* More connections at once than the server holds, opened and closed: the
 * listener accepts again afterwards, by itself. (libmicrohttpd used to own
 * the listening socket: at its connection limit it took it out of its
 * epoll set and put it back only when it ran; with every connection gone
 * nothing woke it, and the listener never accepted again. The backlog
 * held what it had not accepted.) */
static void
test_flood_recovers(Fixture *f, gconstpointer data)
{
  enum { N = 1000 };
  PpHttpStats stats;

  for (guint s = 0; s < 2; s++) {
    const char *path = s == 0 ? f->sock : NULL;
    int *fds = g_new(int, N);
    Call c = { .unix_path = path, .port = f->port, .target = "/after-flood", .timeout_s = 60 };
    guint64 accepted;

    pp_http_server_get_stats(f->server, &stats);
    accepted = stats.accepted;
    g_test_message("%s: %d connections", path != NULL ? "unix" : "tcp", N);
    for (guint i = 0; i < N; i++)
      fds[i] = connect_to(path, f->port);
    pump(200);
    /* At most the limit at once; the rest wait in the backlog. */
    pp_http_server_get_stats(f->server, &stats);
    g_assert_cmpuint(stats.open, <=, PP_HTTP_DEFAULT_MAX_CONNECTIONS);
    for (guint i = 0; i < N; i++)
      close(fds[i]);
    g_free(fds);
    /* Every one is accepted in the end, found closed, and forgotten. */
    wait_open(f->server, 0);
    pp_http_server_get_stats(f->server, &stats);
    g_assert_cmpuint(stats.accepted - accepted, ==, N);
    run_call(&c);
    g_assert_cmpstr(curl_easy_strerror(c.rc), ==, curl_easy_strerror(CURLE_OK));
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
  }
}

/* Out of file descriptors: accept() fails, the listener pauses rather
 * than spin, and takes the waiting clients by itself once descriptors are
 * free again. */
static void
test_out_of_fds(Fixture *f, gconstpointer data)
{
  enum { N = 20 };
  int fds[N];
  struct rlimit saved, low;
  int lowest;
  PpHttpStats stats;
  guint64 accepted;
  g_autoptr(GArray) fillers = NULL;

  pp_http_server_get_stats(f->server, &stats);
  accepted = stats.accepted;
  for (guint i = 0; i < N; i++) {
    fds[i] = connect_to(NULL, f->port);
    send_all(fds[i], "GET /fds HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  /* No descriptor left for accept(): the lowest free one is the limit. */
  lowest = dup(0);
  g_assert_cmpint(lowest, >=, 0);
  close(lowest);
  g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
  low = saved;
  low.rlim_cur = (rlim_t)lowest;
  g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
  /* A descriptor below the limit that a thread of the process (libcurl's,
   * GLib's) closed meanwhile is taken too: none is left for accept(). */
  fillers = g_array_new(FALSE, FALSE, sizeof(int));
  for (int fd; (fd = dup(0)) >= 0;)
    g_array_append_val(fillers, fd);
  g_assert_cmpint(errno, ==, EMFILE);
  pump(300);
  pp_http_server_get_stats(f->server, &stats);
  g_assert_cmpuint(stats.accepted, ==, accepted);
  for (guint i = 0; i < fillers->len; i++)
    close(g_array_index(fillers, int, i));
  g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
  for (guint i = 0; i < N; i++) {
    g_autofree char *got = read_all(fds[i]);

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
    close(fds[i]);
  }
  pp_http_server_get_stats(f->server, &stats);
  g_assert_cmpuint(stats.accepted, ==, accepted + N);
  g_assert_cmpuint(f->calls, ==, N);
}

/* One peer holds at most max_per_peer connections: the next is answered
 * 503 and closed, counted; one closing lets the next in. The exempt uids
 * are not limited. */
static void
test_per_peer(Fixture *f, gconstpointer data)
{
  PpHttpLimits limits;
  g_autofree char *sock = NULL;
  g_autofree char *message = NULL;
  g_autoptr(PpHttpServer) server = NULL;
  guint16 port = 0;
  int held[3];

  pp_http_limits_init(&limits);
  limits.max_per_peer = 3;
  server = limited_server(f, &limits, &sock, &port);
  for (guint s = 0; s < 2; s++) {
    const char *path = s == 0 ? sock : NULL;
    Call c = { .unix_path = path, .port = port, .target = "/peer" };
    g_autofree char *got = NULL;
    pp_autofd int fourth = -1;

    for (guint i = 0; i < 3; i++)
      held[i] = connect_to(path, port);
    wait_open(server, 3);
    fourth = connect_to(path, port);
    got = read_all(fourth);
    g_free(message);
    message = s == 0 ? g_strdup_printf("too many connections from uid %u (at most 3 at once)",
                                       (guint)getuid())
                     : g_strdup("too many connections from 127.0.0.1 (at most 3 at once)");
    assert_raw_error(got, 503, message);
    close(held[0]);
    wait_open(server, 2);
    run_call(&c);
    g_assert_cmpint(c.rc, ==, CURLE_OK);
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
    close(held[1]);
    close(held[2]);
    wait_open(server, 0);
    assert_stats(server, 0, s + 1, 0);
  }
  assert_counts(server, 2, 0, 0, 2);

  /* The admin's uid on the Unix socket is not limited. */
  pp_http_server_exempt_uid(server, getuid());
  for (guint i = 0; i < 3; i++)
    held[i] = connect_to(sock, 0);
  {
    Call c = { .unix_path = sock, .target = "/exempt" };

    run_call(&c);
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
  }
  for (guint i = 0; i < 3; i++)
    close(held[i]);
  assert_stats(server, 3, 2, 0);
}

/* TCP holds at most max_connections - unix_reserved: with TCP full, the
 * Unix socket still answers, and TCP clients wait in the backlog until a
 * connection closes. */
static void
test_unix_reserve(Fixture *f, gconstpointer data)
{
  PpHttpLimits limits;
  g_autofree char *sock = NULL;
  g_autoptr(PpHttpServer) server = NULL;
  g_autofree char *got = NULL;
  guint16 port = 0;
  int held[4];
  pp_autofd int waiting = -1;
  PpHttpStats stats;

  pp_http_limits_init(&limits);
  limits.max_connections = 6;
  limits.unix_reserved = 2;
  server = limited_server(f, &limits, &sock, &port);
  for (guint i = 0; i < 4; i++)
    held[i] = connect_to(NULL, port);
  wait_open(server, 4);
  /* The fifth TCP client is not accepted: it waits. (Running the loop a
   * while can only let a wrong server answer it, never fail a right one.) */
  waiting = connect_to(NULL, port);
  send_all(waiting, "GET /waited HTTP/1.1\r\nHost: x\r\n\r\n");
  pump(300);
  pp_http_server_get_stats(server, &stats);
  g_assert_cmpuint(stats.open, ==, 4);
  g_assert_cmpuint(stats.accepted, ==, 4);
  /* The Unix socket answers all the same. */
  for (guint i = 0; i < 2; i++) {
    Call c = { .unix_path = sock, .target = "/reserved" };

    run_call(&c);
    g_assert_cmpint(c.rc, ==, CURLE_OK);
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
  }
  /* One TCP connection closes: the waiting client is taken and answered. */
  close(held[0]);
  got = read_all(waiting);
  g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
  g_assert_nonnull(strstr(got, "/waited"));
  for (guint i = 1; i < 4; i++)
    close(held[i]);
  wait_open(server, 0);
  assert_counts(server, 3, 0, 0, 0);
}

/* The admin's headroom on the Unix socket: with max_connections held by a
 * uid that is not exempt (a local user who filled the server), another of
 * its connections is answered 503 at once rather than left in the
 * backlog, and an exempt uid's is served all the same. */
static void
test_admin_headroom(Fixture *f, gconstpointer data)
{
  PpHttpLimits limits;
  g_autofree char *sock = NULL;
  g_autoptr(PpHttpServer) server = NULL;
  guint16 port = 0;
  int held[6];
  PpHttpStats stats;

  pp_http_limits_init(&limits);
  limits.max_connections = G_N_ELEMENTS(held);
  limits.unix_reserved = 2;
  server = limited_server(f, &limits, &sock, &port);
  for (guint i = 0; i < G_N_ELEMENTS(held); i++)
    held[i] = connect_to(sock, 0);
  wait_open(server, G_N_ELEMENTS(held));
  {
    pp_autofd int extra = connect_to(sock, 0);
    g_autofree char *got = NULL;

    send_all(extra, "GET /extra HTTP/1.1\r\nHost: x\r\n\r\n");
    got = read_all(extra);
    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 503 "));
    g_assert_nonnull(strstr(got, "pcipassd holds its 6 connections; try again later"));
  }
  pp_http_server_get_stats(server, &stats);
  g_assert_cmpuint(stats.refused_full, ==, 1);
  g_assert_cmpuint(f->calls, ==, 0);

  pp_http_server_exempt_uid(server, geteuid());
  {
    Call c = { .unix_path = sock, .target = "/admin" };

    run_call(&c);
    g_assert_cmpint(c.rc, ==, CURLE_OK);
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
  }
  g_assert_cmpuint(f->calls, ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS(held); i++)
    close(held[i]);
  wait_open(server, 0);
}

/* A head that does not come whole within header_timeout_s is answered 408
 * and closed, however busy its client keeps: the deadline runs from the
 * connection's start, not from its last byte. */
static void
test_header_timeout(Fixture *f, gconstpointer data)
{
  PpHttpLimits limits;
  g_autofree char *sock = NULL;
  g_autoptr(PpHttpServer) server = NULL;
  guint16 port = 0;

  pp_http_limits_init(&limits);
  limits.header_timeout_s = 1;
  server = limited_server(f, &limits, &sock, &port);
  for (guint s = 0; s < 2; s++) {
    pp_autofd int fd = connect_to(s == 0 ? sock : NULL, port);
    GString *got = g_string_new(NULL);
    g_autofree char *text = NULL;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    guint lines = 0;

    send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n");
    /* One header line every 200 ms (100 lines, the most a head has, would
     * take 20 s), until the server answers. */
    for (;;) {
      char buf[4096];
      ssize_t n;

      pump(200);
      n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        g_string_append_len(got, buf, n);
        continue;
      }
      if (n == 0 || got->len > 0)
        break;
      g_assert_cmpint(g_get_monotonic_time(), <, deadline);
      g_assert_cmpint(send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL), ==, 11);
      lines++;
    }
    text = g_string_free(got, FALSE);
    g_test_message("%s: closed after %u more header lines", s == 0 ? "unix" : "tcp", lines);
    assert_raw_error(text, 408, "did not come in time");
    g_assert_cmpuint(lines, <, 99);
  }
  wait_open(server, 0);
  assert_stats(server, 0, 0, 2);
  assert_counts(server, 0, 0, 2, 0);
}

/* Heads refused before libmicrohttpd sees them: the JSON error, counted. */
static void
test_bad_heads(Fixture *f, gconstpointer data)
{
  g_autofree char *long_target = g_strnfill(PP_HTTP_REQUEST_LINE_MAX, 'a');
  g_autofree char *long_line = g_strdup_printf("GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", long_target);
  g_autofree char *big_value = g_strnfill(PP_HTTP_HEAD_MAX, 'v');
  g_autofree char *big_head =
      g_strdup_printf("GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big_value);
  const struct {
    const char *request;
    gsize len; /* 0: strlen */
    guint status;
    const char *message;
  } cases[] = {
    { "GET / HTTP/1.1\r\n\r\n", 0, 400, "needs a Host" },
    { "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 0, 505, "HTTP/1.1" },
    { "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 0, 400, "request line" },
    { "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", 0, 400, "not a path" },
    { "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 0, 400, "folded" },
    { "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 0, 400, "token followed by ':'" },
    { "GET / HTTP/1.1\r\nHost: x\r\nX: a\001b\r\n\r\n", 0, 400, "control character" },
    { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 0, 400, "Content-Length" },
    { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 0, 400,
      "Content-Length" },
    { "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 0, 400,
      "more than one Content-Length" },
    { "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 411,
      "Content-Length" },
    /* A TLS ClientHello on the plain port: refused at its first byte. */
    { "\026\003\001\002\000\001\000\001\374\003\003", 11, 400, "request line" },
    { long_line, 0, 414, "longer than 8192 bytes" },
    { big_head, 0, 431, "larger than 16384 bytes" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    pp_autofd int fd = connect_to(i % 2 == 0 ? f->sock : NULL, f->port);
    gsize len = cases[i].len > 0 ? cases[i].len : strlen(cases[i].request);
    g_autofree char *got = NULL;

    g_test_message("case %u: %u", i, cases[i].status);
    g_assert_cmpint(send(fd, cases[i].request, len, MSG_NOSIGNAL), ==, (gssize)len);
    got = read_all(fd);
    assert_raw_error(got, cases[i].status, cases[i].message);
  }
  g_assert_cmpuint(f->calls, ==, 0);
  assert_counts(f->server, 0, 0, G_N_ELEMENTS(cases) - 1, 1);
  /* The largest head accepted goes through libmicrohttpd untouched. */
  {
    g_autofree char *value = g_strnfill(PP_HTTP_HEAD_MAX - 200, 'v');
    g_autofree char *header = g_strdup_printf("X-Test: %s", value);
    Call c = { .unix_path = f->sock, .target = "/big-head", .headers = { header } };

    run_call(&c);
    g_assert_cmpint(c.rc, ==, CURLE_OK);
    g_assert_cmpint(c.status, ==, 200);
    call_clear(&c);
  }
  /* As many header lines as a head may have, filling it. */
  {
    GString *head = g_string_new("GET /many-lines HTTP/1.1\r\nHost: x\r\n");
    g_autofree char *got = NULL;
    pp_autofd int fd = connect_unix(f->sock);

    for (guint i = 1; i < PP_HTTP_HEADER_LINES_MAX; i++)
      g_string_append_printf(head, "X-Line-%03u: %0150u\r\n", i, i);
    g_string_append(head, "\r\n");
    g_assert_cmpuint(head->len, <=, PP_HTTP_HEAD_MAX);
    g_assert_cmpuint(head->len, >, PP_HTTP_HEAD_MAX - 1024);
    send_all(fd, head->str);
    g_string_free(head, TRUE);
    got = read_all(fd);
    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 200 "));
  }
}

/* pp_http_head_check() alone: what it makes of a head coming in piece by
 * piece. */
static void
test_head_check(void)
{
  static const struct {
    const char *data;
    guint status;
  } cases[] = {
    { "", 0 },
    { "G", 0 },
    { "GET", 0 },
    { "GET /", 0 },
    { "GET / HTTP/1", 0 },
    { "GET / HTTP/1.1\r", 0 },
    { "GET / HTTP/1.1\r\nHost: x\r\n", 0 },
    { "GET / HTTP/1.1\r\nHost: x\r\n\r", 0 },
    { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200 },
    { "GET / HTTP/1.1\nHost: x\n\n", 200 },
    { "GET / HTTP/1.0\r\n\r\n", 200 },
    { "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 200 },
    { "POST /v1/vms?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{}", 200 },
    { "GET / HTTP/1.1\r\nHost:\r\n\r\n", 200 },
    { "get / HTTP/1.1\r\nHost: x\r\n\r\n", 200 }, /* a token, not ours to judge */
    { " GET", 400 },
    { "\r\nGET / HTTP/1.1\r\n", 400 },
    { "GET /\001", 400 },
    { "GET / HTTP/1.1 \r\n", 400 },
    { "GET / http/1.1\r\n", 400 },
    { "GET / HTTP/1.10", 400 },
    { "GET / HTTP/0.9\r\n\r\n", 505 },
    { "GET /\r\n\r\n", 400 },
    { "GET / HTTP/1.1\rX\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\n: empty\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\n\tfolded\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n", 400 },
    { "GET / HTTP/1.1\r\nHost: x\r\ntransfer-encoding: identity\r\n\r\n", 411 },
    { "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ / HTTP/1.1\r\n", 400 },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    PpHttpHeadCheck check;

    pp_http_head_check(cases[i].data, strlen(cases[i].data), &check);
    if (check.status != cases[i].status)
      g_error("'%s': %u (%s), not %u", g_strescape(cases[i].data, NULL), check.status,
              check.message, cases[i].status);
    g_assert_true(check.status == 0 || check.status == 200 || check.message != NULL);
  }
  {
    PpHttpHeadCheck check;
    const char *head = "GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY";

    pp_http_head_check(head, strlen(head), &check);
    g_assert_cmpuint(check.head_len, ==, strlen(head) - 4);
  }
  /* 100 header lines are accepted, not 101. */
  for (guint extra = 0; extra < 2; extra++) {
    GString *head = g_string_new("GET / HTTP/1.1\r\nHost: x\r\n");
    PpHttpHeadCheck check;

    for (guint i = 1; i < PP_HTTP_HEADER_LINES_MAX + extra; i++)
      g_string_append_printf(head, "X-%u: y\r\n", i);
    g_string_append(head, "\r\n");
    pp_http_head_check(head->str, head->len, &check);
    g_assert_cmpuint(check.status, ==, extra == 0 ? 200 : 431);
    g_string_free(head, TRUE);
  }
}

/* The admit hook of test_admit: "X-Allow: N" admits with a body of at most
 * N bytes, leaving "admitted" for the handler; without it, 401. It sees
 * no body: nothing of it is read yet. */
static gboolean
test_admit_hook(PpHttpRequest *req, gsize *ret_max_body, guint *ret_status,
                const char **ret_content_type, GBytes **ret_body, gpointer user_data)
{
  static const char refused[] = "{\"error\": {\"code\": 401, \"message\": \"who are you?\"}}";
  const char *allow = pp_http_request_get_header(req, "X-Allow");
  gsize len = 99;

  g_assert_cmpstr(pp_http_request_get_body(req, &len), ==, "");
  g_assert_cmpuint(len, ==, 0);
  if (allow == NULL) {
    *ret_status = 401;
    *ret_content_type = "application/json";
    *ret_body = g_bytes_new_static(refused, sizeof(refused) - 1);
    return FALSE;
  }
  *ret_max_body = (gsize)g_ascii_strtoull(allow, NULL, 10);
  pp_http_request_set_data(req, g_strdup("admitted"), g_free);
  return TRUE;
}

/* Refused on its head: answered before its body is read, which the client
 * still gets whole (the connection drains before it closes). Admitted: the
 * body up to the limit admit gave. */
static void
test_admit(Fixture *f, gconstpointer data)
{
  const gsize big_len = 1024 * 1024;
  g_autofree char *big = g_strnfill(big_len, 'b');
  g_autoptr(PpHttpServer) server = pp_http_server_new(echo_handler, f, big_len);
  g_autofree char *sock = g_build_filename(f->dir, "admit.sock", NULL);
  g_autoptr(GError) error = NULL;
  guint16 port;

  pp_http_server_set_admit(server, test_admit_hook);
  g_assert_true(pp_http_server_listen_unix(server, sock, 0666, &error));
  g_assert_true(pp_http_server_listen_tcp(server, "127.0.0.1:0", &error));
  g_assert_no_error(error);
  port = pp_http_server_get_tcp_port(server);

  for (guint s = 0; s < 2; s++) {
    const char *path = s == 0 ? sock : NULL;
    Call calls[] = {
      /* Refused, the body on its way (no Expect), ten times. */
      { .unix_path = path,
        .port = port,
        .target = "/r",
        .body = big,
        .body_len = big_len,
        .headers = { "Expect:" } },
      /* Refused, the client waiting for 100 Continue: it never comes. */
      { .unix_path = path,
        .port = port,
        .target = "/r",
        .body = big,
        .body_len = big_len,
        .headers = { "Expect: 100-continue" } },
      { .unix_path = path,
        .port = port,
        .target = "/a",
        .body = "12345678901",
        .body_len = 11,
        .headers = { "X-Allow: 10" } },
      { .unix_path = path,
        .port = port,
        .target = "/a",
        .body = "1234567890",
        .body_len = 10,
        .headers = { "X-Allow: 10" } },
      { .unix_path = path, .port = port, .target = "/a", .headers = { "X-Allow: 0" } },
    };
    guint before = f->calls;

    for (guint k = 0; k < 10; k++) {
      run_call(&calls[0]);
      g_assert_cmpstr(curl_easy_strerror(calls[0].rc), ==, curl_easy_strerror(CURLE_OK));
      g_assert_cmpint(calls[0].status, ==, 401);
      g_assert_cmpstr(calls[0].answer->str, ==,
                      "{\"error\": {\"code\": 401, \"message\": \"who are you?\"}}");
      call_clear(&calls[0]);
    }
    run_calls(calls + 1, G_N_ELEMENTS(calls) - 1);
    g_assert_cmpint(calls[1].rc, ==, CURLE_OK);
    g_assert_cmpint(calls[1].status, ==, 401);
    g_assert_null(strstr(calls[1].head->str, "100 Continue"));
    g_assert_cmpint(calls[2].status, ==, 413);
    g_assert_cmpstr(calls[2].answer->str, ==,
                    "{\"error\": {\"code\": 413, \"message\": \"request body larger than 10 "
                    "bytes\"}}");
    g_assert_cmpint(calls[3].status, ==, 200);
    g_assert_cmpint(calls[4].status, ==, 200);
    {
      g_autoptr(json_t) json = answer_json(&calls[3]);

      g_assert_cmpstr(jstr(json, "body"), ==, "1234567890");
      g_assert_cmpstr(jstr(json, "data"), ==, "admitted");
    }
    for (guint i = 1; i < G_N_ELEMENTS(calls); i++)
      call_clear(&calls[i]);
    g_assert_cmpuint(f->calls, ==, before + 2);
  }
  wait_open(server, 0);
  assert_counts(server, 4, 0, 24, 0);
}

int
main(int argc, char **argv)
{
  int ret;

  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(curl_global_init(CURL_GLOBAL_DEFAULT), ==, 0);

#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  /* First, before any libcurl: a thread of it (its resolver's) may close
   * a descriptor later, freeing one that the test counts as taken. */
  ADD("/http/out-of-fds", test_out_of_fds);
  ADD("/http/echo-unix", test_echo_unix);
  ADD("/http/echo-tcp", test_echo_tcp);
  ADD("/http/body-limit", test_body_limit);
  ADD("/http/one-request-a-connection", test_one_request_a_connection);
  ADD("/http/sequential", test_sequential);
  ADD("/http/concurrent", test_concurrent);
  ADD("/http/stale-socket", test_stale_socket);
  ADD("/http/in-use", test_in_use);
  ADD("/http/not-a-socket", test_not_a_socket);
  ADD("/http/localhost", test_localhost);
  ADD("/http/ipv6", test_ipv6);
  ADD("/http/free-removes-socket", test_free_removes_socket);
  ADD("/http/counts", test_counts);
  ADD("/http/flood-recovers", test_flood_recovers);
  ADD("/http/per-peer", test_per_peer);
  ADD("/http/unix-reserve", test_unix_reserve);
  ADD("/http/admin-headroom", test_admin_headroom);
  ADD("/http/header-timeout", test_header_timeout);
  ADD("/http/bad-heads", test_bad_heads);
  ADD("/http/admit", test_admit);
#undef ADD
  g_test_add_func("/http/bad-address", test_bad_address);
  g_test_add_func("/http/head-check", test_head_check);

  ret = g_test_run();
  curl_global_cleanup();
  return ret;
}
