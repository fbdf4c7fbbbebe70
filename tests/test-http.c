/* pp-http against libcurl: the server runs on this test's main loop, the
 * clients in threads (curl blocks), so the test iterates the main context
 * until they are done. An echo handler answers what the server made of
 * each request. */
#include "config.h"

#include <errno.h>
#include <string.h>
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
#include "pp-http.h"
#include "pp-test-util.h"

#define MAX_BODY 1000
#define TOO_LARGE                                                                                  \
  "{\"error\": {\"code\": 413, \"message\": \"request body larger than 1000 bytes\"}}"

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
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
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
    if (c->body_len > MAX_BODY) {
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
  assert_counts(f->server, 4, 0, 5, 0);
}

/* Several requests on one connection, over both sockets, a dropped body
 * among them. */
static void
test_keepalive(Fixture *f, gconstpointer data)
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
      { .unix_path = path,
        .port = f->port,
        .target = "/4",
        .body = "four, in chunks",
        .body_len = 15,
        .chunked = TRUE },
      { .unix_path = path, .port = f->port, .method = "DELETE", .target = "/5" },
    };

    run_calls(calls, G_N_ELEMENTS(calls));
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++) {
      g_assert_cmpint(calls[i].rc, ==, CURLE_OK);
      g_assert_cmpint(calls[i].new_connections, ==, i == 0 ? 1 : 0);
      if (path == NULL)
        g_assert_cmpint(calls[i].local_port, ==, calls[0].local_port);
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
      g_autoptr(json_t) json = answer_json(&calls[4]);

      g_assert_cmpstr(jstr(json, "method"), ==, "DELETE");
    }
    for (guint i = 0; i < G_N_ELEMENTS(calls); i++)
      call_clear(&calls[i]);
  }
  g_assert_cmpuint(f->calls, ==, 8);
  assert_counts(f->server, 8, 0, 2, 0);
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

int
main(int argc, char **argv)
{
  int ret;

  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(curl_global_init(CURL_GLOBAL_DEFAULT), ==, 0);

#define ADD(name, fn) g_test_add(name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/http/echo-unix", test_echo_unix);
  ADD("/http/echo-tcp", test_echo_tcp);
  ADD("/http/body-limit", test_body_limit);
  ADD("/http/keepalive", test_keepalive);
  ADD("/http/sequential", test_sequential);
  ADD("/http/concurrent", test_concurrent);
  ADD("/http/stale-socket", test_stale_socket);
  ADD("/http/in-use", test_in_use);
  ADD("/http/not-a-socket", test_not_a_socket);
  ADD("/http/localhost", test_localhost);
  ADD("/http/ipv6", test_ipv6);
  ADD("/http/free-removes-socket", test_free_removes_socket);
  ADD("/http/counts", test_counts);
#undef ADD
  g_test_add_func("/http/bad-address", test_bad_address);

  ret = g_test_run();
  curl_global_cleanup();
  return ret;
}
