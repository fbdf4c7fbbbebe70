#define G_LOG_DOMAIN "pp-http"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <microhttpd.h>

#include "pp-fd.h"
#include "pp-http-priv.h"
#include "pp-http.h"

/* clang-format off */
G_DEFINE_QUARK(pp-http-error-quark, pp_http_error)
/* clang-format on */

/* An idle connection is closed after this long (MHD counts from the last
 * byte received or sent). */
#define CONNECTION_TIMEOUT_S 30
/* Connections open at once, per listening socket; more wait in the
 * kernel's backlog. */
#define CONNECTION_LIMIT 256
/* libmicrohttpd's per-connection pool: the request line and headers, and
 * the read buffer the body passes through (the body itself is ours, bounded
 * by max_body). A request whose headers do not fit is refused by MHD. */
#define CONNECTION_MEMORY_LIMIT (64 * 1024)
/* "[ffff:...:ffff%scope]:65535" fits; a longer listen address is not one. */
#define ADDRESS_MAX_LEN 256

/* One listening socket and its libmicrohttpd daemon. */
typedef struct {
  PpHttpServer *server;
  struct MHD_Daemon *daemon;
  char *name; /* the path or the address, for messages */
  gboolean is_unix;
  guint fd_source;      /* MHD's epoll fd on the main loop */
  guint timeout_source; /* MHD's next timeout, or 0 */
  /* The Unix socket file, removed at free only while it is still the one
   * we bound (another daemon may have replaced it since). */
  char *path;
  dev_t dev;
  ino_t ino;
} PpHttpListener;

struct _PpHttpServer {
  PpHttpHandler handler;
  gpointer user_data;
  gsize max_body;
  GPtrArray *listeners; /* PpHttpListener, owned */
  guint16 tcp_port;
  guint64 by_class[6];
};

/* One request, from its request line (the URI log callback) to its
 * completion (MHD_OPTION_NOTIFY_COMPLETED); MHD's req_cls. */
struct _PpHttpRequest {
  PpHttpListener *listener;
  struct MHD_Connection *conn; /* valid while the handler runs */
  const char *method;          /* MHD's, valid while the handler runs */
  char *path;                  /* the raw path, not percent-decoded */
  GByteArray *body;
  gboolean started;   /* the access handler's first call is done */
  gboolean too_large; /* the body passed max_body: it is dropped, 413 */
  gboolean no_peer;   /* SO_PEERCRED failed: 500 */
  PpHttpPeer peer;
  char *remote;
  /* A request made by pp_http_test_request_new() has no connection: its
   * method, headers (names in lower case) and query are these. */
  char *test_method;
  GHashTable *test_headers;
  GHashTable *test_query;
};

static void
request_free(PpHttpRequest *req)
{
  if (req == NULL)
    return;
  g_free(req->path);
  if (req->body != NULL)
    g_byte_array_unref(req->body);
  g_free(req->remote);
  g_free(req->test_method);
  g_clear_pointer(&req->test_headers, g_hash_table_unref);
  g_clear_pointer(&req->test_query, g_hash_table_unref);
  g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpRequest, request_free)

const char *
pp_http_request_get_method(const PpHttpRequest *req)
{
  g_return_val_if_fail(req != NULL, NULL);
  return req->method;
}

const char *
pp_http_request_get_path(const PpHttpRequest *req)
{
  g_return_val_if_fail(req != NULL, NULL);
  return req->path;
}

const char *
pp_http_request_get_query(const PpHttpRequest *req, const char *name)
{
  g_return_val_if_fail(req != NULL && (req->conn != NULL || req->test_query != NULL), NULL);
  g_return_val_if_fail(name != NULL, NULL);
  if (req->conn == NULL)
    return g_hash_table_lookup(req->test_query, name);
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
pp_http_request_get_header(const PpHttpRequest *req, const char *name)
{
  g_return_val_if_fail(req != NULL && (req->conn != NULL || req->test_headers != NULL), NULL);
  g_return_val_if_fail(name != NULL, NULL);
  if (req->conn == NULL) {
    g_autofree char *lower = g_ascii_strdown(name, -1);

    return g_hash_table_lookup(req->test_headers, lower);
  }
  /* MHD compares header names case-insensitively. */
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *
pp_http_request_get_body(const PpHttpRequest *req, gsize *ret_len)
{
  g_return_val_if_fail(req != NULL, NULL);
  if (req->body == NULL || req->body->len == 0) {
    if (ret_len != NULL)
      *ret_len = 0;
    return "";
  }
  /* dispatch() appended a NUL that is not counted. */
  if (ret_len != NULL)
    *ret_len = req->body->len - 1;
  return (const char *)req->body->data;
}

const PpHttpPeer *
pp_http_request_get_peer(const PpHttpRequest *req)
{
  g_return_val_if_fail(req != NULL, NULL);
  return &req->peer;
}

/* Driving libmicrohttpd from the main loop (STYLE rule 29): MHD in
 * external-epoll mode has no thread; its epoll fd becomes readable when a
 * socket of its own (listening or connected) is, and MHD_get_timeout()
 * says when it next needs to run without any (an idle connection to time
 * out, or 0: work already known, e.g. data left in a connection's buffer
 * after an edge-triggered wakeup). */

static gboolean on_timeout(gpointer user_data);

static void
listener_arm_timeout(PpHttpListener *l)
{
  MHD_UNSIGNED_LONG_LONG ms = 0;

  g_clear_handle_id(&l->timeout_source, g_source_remove);
  if (MHD_get_timeout(l->daemon, &ms) != MHD_YES)
    return; /* nothing to time out */
  l->timeout_source =
      g_timeout_add((guint)MIN(ms, (MHD_UNSIGNED_LONG_LONG)G_MAXUINT), on_timeout, l);
}

static void
listener_run(PpHttpListener *l)
{
  if (MHD_run(l->daemon) != MHD_YES)
    g_debug("%s: MHD_run failed", l->name);
  listener_arm_timeout(l);
}

static gboolean
on_timeout(gpointer user_data)
{
  PpHttpListener *l = user_data;

  l->timeout_source = 0;
  listener_run(l);
  return G_SOURCE_REMOVE;
}

static gboolean
on_epoll_ready(int fd, GIOCondition condition, gpointer user_data)
{
  listener_run(user_data);
  return G_SOURCE_CONTINUE;
}

static void
listener_free(PpHttpListener *l)
{
  if (l == NULL)
    return;
  g_clear_handle_id(&l->fd_source, g_source_remove);
  g_clear_handle_id(&l->timeout_source, g_source_remove);
  /* Closes every connection (NOTIFY_COMPLETED frees their requests) and
   * the listening socket. */
  if (l->daemon != NULL)
    MHD_stop_daemon(l->daemon);
  if (l->path != NULL) {
    struct stat st;

    if (lstat(l->path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino &&
        unlink(l->path) < 0)
      g_debug("cannot remove '%s': %s, ignoring", l->path, g_strerror(errno));
  }
  g_free(l->name);
  g_free(l->path);
  g_free(l);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpListener, listener_free)

PpHttpServer *
pp_http_server_new(PpHttpHandler handler, gpointer user_data, gsize max_body)
{
  PpHttpServer *server;

  g_return_val_if_fail(handler != NULL, NULL);
  server = g_new0(PpHttpServer, 1);
  server->handler = handler;
  server->user_data = user_data;
  /* GByteArray counts in guint; no API body comes near. */
  server->max_body = MIN(max_body, (gsize)G_MAXUINT - 1);
  server->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
  return server;
}

void
pp_http_server_free(PpHttpServer *server)
{
  if (server == NULL)
    return;
  g_ptr_array_unref(server->listeners);
  g_free(server);
}

guint16
pp_http_server_get_tcp_port(PpHttpServer *server)
{
  g_return_val_if_fail(server != NULL, 0);
  return server->tcp_port;
}

void
pp_http_server_get_counts(PpHttpServer *server, guint64 ret_by_class[6])
{
  g_return_if_fail(server != NULL);
  memcpy(ret_by_class, server->by_class, sizeof(server->by_class));
}

/* Answers; the body is copied. Counts the answer by class. */
static enum MHD_Result
queue_answer(PpHttpListener *l, struct MHD_Connection *conn, guint status, const char *content_type,
             GBytes *body)
{
  struct MHD_Response *resp;
  enum MHD_Result ret;
  gsize len = 0;
  const void *data = body != NULL ? g_bytes_get_data(body, &len) : NULL;

  if (len > 0)
    resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
  else
    resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
  if (resp == NULL)
    return MHD_NO; /* out of memory: MHD closes the connection */
  if (body != NULL && content_type != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  ret = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  if (ret == MHD_YES)
    l->server->by_class[status / 100]++;
  return ret;
}

/* The JSON error of pp-api.h; the message must need no escaping. */
static enum MHD_Result
queue_error(PpHttpListener *l, struct MHD_Connection *conn, guint status, const char *message)
{
  g_autofree char *json =
      g_strdup_printf("{\"error\": {\"code\": %u, \"message\": \"%s\"}}", status, message);
  gsize len = strlen(json);
  g_autoptr(GBytes) body = g_bytes_new_take(g_steal_pointer(&json), len);

  return queue_answer(l, conn, status, "application/json", body);
}

static enum MHD_Result
queue_too_large(PpHttpListener *l, struct MHD_Connection *conn)
{
  g_autofree char *message =
      g_strdup_printf("request body larger than %" G_GSIZE_FORMAT " bytes", l->server->max_body);

  return queue_error(l, conn, 413, message);
}

/* "127.0.0.1:40112", "[::1]:40112". */
static char *
format_sockaddr(const struct sockaddr *sa)
{
  char host[INET6_ADDRSTRLEN];

  if (sa == NULL)
    return g_strdup("unknown");
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return g_strdup_printf("%s:%u", host, ntohs(in->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return g_strdup_printf("[%s]:%u", host, ntohs(in6->sin6_port));
  }
  return g_strdup("unknown");
}

/* Who is asking: on the Unix socket the peer's credentials as the kernel
 * recorded them at connect(); over TCP only the address (uid and gid -1,
 * pid 0: nobody). */
static void
request_read_peer(PpHttpRequest *req, struct MHD_Connection *conn)
{
  const union MHD_ConnectionInfo *info;

  req->peer.uid = (uid_t)-1;
  req->peer.gid = (gid_t)-1;
  req->peer.pid = 0;
  if (req->listener->is_unix) {
    struct ucred cred;
    socklen_t len = sizeof(cred);

    req->peer.is_unix = TRUE;
    req->remote = g_strdup("unix");
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info == NULL || getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        len != sizeof(cred)) {
      g_debug("%s: cannot read the peer's credentials: %s", req->listener->name, g_strerror(errno));
      req->no_peer = TRUE;
    } else {
      req->peer.uid = cred.uid;
      req->peer.gid = cred.gid;
      req->peer.pid = cred.pid;
    }
  } else {
    info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    req->remote = format_sockaddr(info != NULL ? info->client_addr : NULL);
  }
  req->peer.remote = req->remote;
}

/* The request line's URI as the client sent it, before MHD splits off the
 * query and percent-decodes the path: the API routes on the raw path. The
 * state made here is MHD's req_cls, freed in on_completed (MHD calls it for
 * every request that got here, answered or not). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
  PpHttpRequest *req = g_new0(PpHttpRequest, 1);

  req->listener = cls;
  req->path = g_strndup(uri, strcspn(uri, "?"));
  return req;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
  request_free(*req_cls);
  *req_cls = NULL;
}

static gboolean
header_says_100_continue(struct MHD_Connection *conn)
{
  const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

  return expect != NULL && g_ascii_strcasecmp(expect, "100-continue") == 0;
}

/* Content-Length above max_body. MHD has checked that the header is a
 * number before it calls us. */
static gboolean
content_length_too_large(struct MHD_Connection *conn, gsize max_body)
{
  const char *text =
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  guint64 len;

  if (text == NULL || !g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, &len, NULL))
    return FALSE;
  return len > max_body;
}

/* Calls the handler with the whole request and answers. */
static enum MHD_Result
dispatch(PpHttpListener *l, PpHttpRequest *req)
{
  PpHttpServer *server = l->server;
  g_autoptr(GBytes) body = NULL;
  const char *content_type = NULL;
  guint status = 500;

  if (req->too_large)
    return queue_too_large(l, req->conn);
  if (req->no_peer)
    return queue_error(l, req->conn, 500, "cannot read the peer's credentials");
  if (req->body != NULL && req->body->len > 0)
    g_byte_array_append(req->body, (const guint8 *)"", 1);

  server->handler(req, &status, &content_type, &body, server->user_data);
  if (status < 200 || status > 599) {
    g_critical("%s %s: the handler answered status %u", req->method, req->path, status);
    return queue_error(l, req->conn, 500, "internal error");
  }
  return queue_answer(l, req->conn, status, content_type, body);
}

/* MHD calls this once when the headers are in (*upload_data_size 0), once
 * per piece of body (> 0; we must consume it all), and once at the end (0
 * again). */
static enum MHD_Result
on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  PpHttpListener *l = cls;
  PpHttpRequest *req = *req_cls;
  gsize max_body = l->server->max_body;

  if (req == NULL) {
    /* The URI log callback always runs first; should it not, MHD's
     * decoded URL is the best we have. */
    req = on_uri(l, url, conn);
    *req_cls = req;
  }
  req->conn = conn;
  req->method = method;

  if (!req->started) {
    req->started = TRUE;
    request_read_peer(req, conn);
    /* A body announced too large is refused before the client sends it,
     * when it waits for "100 Continue". Without Expect the body may already
     * be on its way: answering now and closing with unread data would
     * reset the connection and could lose the answer, so it is read and
     * dropped, and answered at the end. */
    if (content_length_too_large(conn, max_body)) {
      req->too_large = TRUE;
      if (header_says_100_continue(conn))
        return queue_too_large(l, conn);
    }
    return MHD_YES;
  }

  if (*upload_data_size > 0) {
    gsize n = *upload_data_size;

    *upload_data_size = 0;
    if (req->too_large)
      return MHD_YES;
    if (req->body == NULL)
      req->body = g_byte_array_new();
    if (n > max_body - req->body->len) {
      g_debug("%s %s: body over %" G_GSIZE_FORMAT " bytes, dropping it", method, req->path,
              max_body);
      req->too_large = TRUE;
      g_clear_pointer(&req->body, g_byte_array_unref);
      return MHD_YES;
    }
    g_byte_array_append(req->body, (const guint8 *)upload_data, (guint)n);
    return MHD_YES;
  }

  return dispatch(l, req);
}

/* MHD's own messages (a client's bad request, an accept failure): debug
 * lines only, library code does not log above debug (STYLE rule 19). */
static void G_GNUC_PRINTF(2, 0) on_mhd_log(void *cls, const char *format, va_list ap)
{
  PpHttpListener *l = cls;
  g_autofree char *message = g_strdup_vprintf(format, ap);

  g_debug("%s: %s", l->name, g_strchomp(message));
}

/* Starts MHD on @fd, a bound listening socket that it takes. */
static gboolean
listener_start(PpHttpListener *l, int *fd, GError **error)
{
  const union MHD_DaemonInfo *info;

  l->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_access, l,
                               /* First, so that MHD logs nothing to stderr itself. */
                               MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l, MHD_OPTION_LISTEN_SOCKET,
                               (MHD_socket)*fd, MHD_OPTION_CONNECTION_TIMEOUT,
                               (unsigned int)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                               (unsigned int)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                               (size_t)CONNECTION_MEMORY_LIMIT, MHD_OPTION_URI_LOG_CALLBACK, on_uri,
                               l, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l, MHD_OPTION_END);
  if (l->daemon == NULL) {
    /* Whether MHD closed the socket on failure depends on where it failed;
     * close it only if it is still open. */
    if (fcntl(*fd, F_GETFD) < 0)
      *fd = -1;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot start the HTTP server on '%s'",
                l->name);
    return FALSE;
  }
  *fd = -1; /* MHD_stop_daemon() closes it */

  info = MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_EPOLL_FD);
  if (info == NULL || info->epoll_fd < 0) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED,
                "cannot start the HTTP server on '%s': no epoll fd", l->name);
    return FALSE;
  }
  l->fd_source = g_unix_fd_add(info->epoll_fd, G_IO_IN, on_epoll_ready, l);
  listener_arm_timeout(l);
  return TRUE;
}

/* A socket file at @path: left by a daemon that died (connect() refused:
 * removed), or one that answers (IN_USE). Anything else is not ours to
 * remove. */
static gboolean
remove_stale_socket(const char *path, const struct sockaddr_un *sa, GError **error)
{
  pp_autofd int probe = -1;
  struct stat st;
  int saved;

  if (lstat(path, &st) < 0) {
    if (errno == ENOENT)
      return TRUE;
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot stat '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  if (!S_ISSOCK(st.st_mode)) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "'%s' exists and is not a socket",
                path);
    return FALSE;
  }

  probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (probe < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot create a socket: %s",
                g_strerror(saved));
    return FALSE;
  }
  /* Non-blocking: a listener with a full backlog answers EAGAIN, not a
   * wait. */
  if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN ||
      errno == EINPROGRESS) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_IN_USE, "another pcipassd answers on '%s'",
                path);
    return FALSE;
  }
  saved = errno;
  if (saved == ENOENT)
    return TRUE; /* gone meanwhile */
  if (saved != ECONNREFUSED) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot connect to '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  g_debug("'%s': removing the socket of a daemon that died", path);
  if (unlink(path) < 0 && errno != ENOENT) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED,
                "cannot remove the stale socket '%s': %s", path, g_strerror(saved));
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_http_server_listen_unix(PpHttpServer *server, const char *path, guint mode, GError **error)
{
  g_autoptr(PpHttpListener) l = NULL;
  g_autofree char *dir = NULL;
  pp_autofd int fd = -1;
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  struct stat st;
  int saved;

  g_return_val_if_fail(server != NULL, FALSE);
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (path[0] == '\0' || strlen(path) >= sizeof(sa.sun_path)) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "invalid socket path '%s': empty or longer than %zu bytes", path,
                sizeof(sa.sun_path) - 1);
    return FALSE;
  }
  memcpy(sa.sun_path, path, strlen(path) + 1);

  dir = g_path_get_dirname(path);
  if (g_mkdir_with_parents(dir, 0755) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot create '%s': %s", dir,
                g_strerror(saved));
    return FALSE;
  }
  if (!remove_stale_socket(path, &sa, error))
    return FALSE;

  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot create a socket: %s",
                g_strerror(saved));
    return FALSE;
  }
  if (bind(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
    saved = errno;
    /* EADDRINUSE: another daemon bound it since we looked. */
    g_set_error(error, PP_HTTP_ERROR,
                saved == EADDRINUSE ? PP_HTTP_ERROR_IN_USE : PP_HTTP_ERROR_FAILED,
                "cannot bind '%s': %s", path, g_strerror(saved));
    return FALSE;
  }

  l = g_new0(PpHttpListener, 1);
  l->server = server;
  l->is_unix = TRUE;
  l->name = g_strdup(path);
  if (lstat(path, &st) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot stat '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  /* From here on listener_free() removes the file. */
  l->path = g_strdup(path);
  l->dev = st.st_dev;
  l->ino = st.st_ino;

  /* Before listen(): nobody connects while the mode is still umask's. */
  if (chmod(path, mode) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot chmod '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  if (listen(fd, SOMAXCONN) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot listen on '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  if (!listener_start(l, &fd, error))
    return FALSE;

  g_debug("listening on '%s'", path);
  g_ptr_array_add(server->listeners, g_steal_pointer(&l));
  return TRUE;
}

/* Parses "HOST:PORT" or "[IPV6]:PORT" strictly: HOST a numeric address
 * (dotted quad, inet_pton's IPv6 forms) or "localhost" (127.0.0.1), PORT
 * 0 to 65535 in decimal. */
static gboolean
parse_tcp_address(const char *address, struct sockaddr_storage *ret_sa, socklen_t *ret_len,
                  GError **error)
{
  g_autofree char *host = NULL;
  const char *port;
  guint64 port_num;
  int family;

  if (strlen(address) > ADDRESS_MAX_LEN) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "invalid listen address: longer than %d bytes", ADDRESS_MAX_LEN);
    return FALSE;
  }
  if (address[0] == '[') {
    const char *close = strchr(address, ']');

    if (close == NULL) {
      g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                  "invalid listen address '%s': no ']' after the IPv6 address", address);
      return FALSE;
    }
    if (close[1] != ':') {
      g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                  "invalid listen address '%s': expected '[IPV6]:PORT'", address);
      return FALSE;
    }
    host = g_strndup(address + 1, close - address - 1);
    port = close + 2;
    family = AF_INET6;
  } else {
    const char *colon = strrchr(address, ':');

    if (colon == NULL) {
      g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                  "invalid listen address '%s': expected 'HOST:PORT'", address);
      return FALSE;
    }
    host = g_strndup(address, colon - address);
    if (strchr(host, ':') != NULL) {
      g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                  "invalid listen address '%s': an IPv6 address goes in brackets, '[::1]:PORT'",
                  address);
      return FALSE;
    }
    port = colon + 1;
    family = AF_INET;
  }

  if (port[0] == '\0' || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
      (port_num = g_ascii_strtoull(port, NULL, 10)) > 65535) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "invalid listen address '%s': the port must be a number from 0 to 65535", address);
    return FALSE;
  }

  memset(ret_sa, 0, sizeof(*ret_sa));
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)ret_sa;

    in->sin_family = AF_INET;
    in->sin_port = htons((guint16)port_num);
    if (g_ascii_strcasecmp(host, "localhost") == 0)
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
      goto bad_host;
    *ret_len = sizeof(*in);
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ret_sa;

    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((guint16)port_num);
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
      goto bad_host;
    *ret_len = sizeof(*in6);
  }
  return TRUE;

bad_host:
  g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
              "invalid listen address '%s': '%s' is not a numeric %s address%s", address, host,
              family == AF_INET ? "IPv4" : "IPv6", family == AF_INET ? " or 'localhost'" : "");
  return FALSE;
}

gboolean
pp_http_server_listen_tcp(PpHttpServer *server, const char *address, GError **error)
{
  g_autoptr(PpHttpListener) l = NULL;
  pp_autofd int fd = -1;
  struct sockaddr_storage sa;
  socklen_t sa_len = 0;
  int one = 1;
  int saved;
  guint16 port;

  g_return_val_if_fail(server != NULL, FALSE);
  g_return_val_if_fail(address != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (!parse_tcp_address(address, &sa, &sa_len, error))
    return FALSE;

  fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot listen on '%s': %s", address,
                g_strerror(saved));
    return FALSE;
  }
  /* Restarting must not wait for the old connections' TIME_WAIT. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  /* "[::]:PORT" is IPv6 only: one address, one family. */
  if (sa.ss_family == AF_INET6)
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (bind(fd, (const struct sockaddr *)&sa, sa_len) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR,
                saved == EADDRINUSE ? PP_HTTP_ERROR_IN_USE : PP_HTTP_ERROR_FAILED,
                "cannot listen on '%s': %s", address, g_strerror(saved));
    return FALSE;
  }
  if (listen(fd, SOMAXCONN) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR,
                saved == EADDRINUSE ? PP_HTTP_ERROR_IN_USE : PP_HTTP_ERROR_FAILED,
                "cannot listen on '%s': %s", address, g_strerror(saved));
    return FALSE;
  }
  sa_len = sizeof(sa);
  if (getsockname(fd, (struct sockaddr *)&sa, &sa_len) < 0) {
    saved = errno;
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot listen on '%s': %s", address,
                g_strerror(saved));
    return FALSE;
  }
  port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
                                       : ((struct sockaddr_in6 *)&sa)->sin6_port);

  l = g_new0(PpHttpListener, 1);
  l->server = server;
  l->name = g_strdup(address);
  if (!listener_start(l, &fd, error))
    return FALSE;

  g_debug("listening on '%s', port %u", address, port);
  server->tcp_port = port;
  g_ptr_array_add(server->listeners, g_steal_pointer(&l));
  return TRUE;
}

/* ---- requests without a connection, for tests (pp-http-priv.h) ----------- */

PpHttpRequest *
pp_http_test_request_new(const char *method, const char *path, const char *body, gsize len,
                         const PpHttpPeer *peer)
{
  PpHttpRequest *req;

  g_return_val_if_fail(method != NULL && path != NULL && peer != NULL, NULL);
  g_return_val_if_fail(body != NULL || len == 0, NULL);

  req = g_new0(PpHttpRequest, 1);
  req->test_method = g_strdup(method);
  req->method = req->test_method;
  req->path = g_strdup(path);
  req->test_headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  req->test_query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  /* As dispatch() leaves it: the body and a NUL that is not counted. */
  if (len > 0) {
    req->body = g_byte_array_sized_new((guint)len + 1);
    g_byte_array_append(req->body, (const guint8 *)body, (guint)len);
    g_byte_array_append(req->body, (const guint8 *)"", 1);
  }
  req->started = TRUE;
  req->peer = *peer;
  req->remote = g_strdup(peer->remote != NULL ? peer->remote : "test");
  req->peer.remote = req->remote;
  return req;
}

void
pp_http_test_request_set_header(PpHttpRequest *req, const char *name, const char *value)
{
  g_return_if_fail(req != NULL && req->test_headers != NULL && name != NULL && value != NULL);
  g_hash_table_replace(req->test_headers, g_ascii_strdown(name, -1), g_strdup(value));
}

void
pp_http_test_request_set_query(PpHttpRequest *req, const char *name, const char *value)
{
  g_return_if_fail(req != NULL && req->test_query != NULL && name != NULL && value != NULL);
  g_hash_table_replace(req->test_query, g_strdup(name), g_strdup(value));
}

void
pp_http_test_request_free(PpHttpRequest *req)
{
  request_free(req);
}
