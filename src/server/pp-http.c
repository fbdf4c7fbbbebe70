#define G_LOG_DOMAIN "pp-http"

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>

#include "pp-fd.h"
#include "pp-file.h"
#include "pp-http-priv.h"
#include "pp-http.h"

/* clang-format off */
G_DEFINE_QUARK(pp-http-error-quark, pp_http_error)
/* clang-format on */

/* libmicrohttpd's per-connection pool: the request's head (at most
 * PP_HTTP_HEAD_MAX, checked before it gets there, with room to spare: it
 * never answers 431 itself) and the read buffer the body passes through
 * (the body itself is ours, bounded by the admitted limit). 32 KiB, not
 * more: libmicrohttpd takes a larger pool from mmap() and gives it back
 * with munmap() at every close, and at a connection a request that cost
 * pcipassd a third of its CPU at 10,000 hosts (TLB shootdowns to every
 * core its threads ran on); a pool of 32 KiB comes from malloc(). */
#define CONNECTION_MEMORY_LIMIT (32 * 1024)
G_STATIC_ASSERT(CONNECTION_MEMORY_LIMIT >= 2 * PP_HTTP_HEAD_MAX);
/* "[ffff:...:ffff%scope]:65535" fits; a longer listen address is not one. */
#define ADDRESS_MAX_LEN 256
/* Connections accepted per wakeup of a listener, so that one listener's
 * flood does not hold the loop. */
#define ACCEPT_BATCH 64
/* The Unix socket accepts this many past max_connections, for the exempt
 * uids (the admin) only: a local user who fills the server (its per-peer
 * share, refused connections lingering, TCP's share by many addresses)
 * leaves root room. Others accepted there are answered 503 at once. */
#define UNIX_ADMIN_HEADROOM 16
/* After accept() ran out of file descriptors: a pause before the next. */
#define ACCEPT_BACKOFF_MS 100
/* How often deadlines are looked at (headers, lingering closes). */
#define SWEEP_MS 250
/* A connection answered before its client finished sending (a refused
 * request, a body too large) is read and dropped until its client closes
 * it, it stays silent LINGER_IDLE_US, LINGER_MAX_US have passed, or
 * LINGER_MAX_BYTES came, before it is closed: closing with unread data
 * would reset it and could lose the answer on its way. It keeps its place
 * in its peer's count meanwhile. */
#define LINGER_IDLE_US (2 * G_USEC_PER_SEC)
#define LINGER_MAX_US (10 * G_USEC_PER_SEC)
#define LINGER_MAX_BYTES (4 * 1024 * 1024)
/* The PEM files of --tls-cert and --tls-key: a chain of a few
 * certificates is a few KiB. */
#define PEM_MAX_SIZE (256 * 1024)
/* TLS 1.2 and 1.3 only. */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef struct _PpHttpConn PpHttpConn;

/* One listening socket (ours) and its libmicrohttpd daemon (which has no
 * listening socket: we hand it the connections). */
typedef struct {
  PpHttpServer *server;
  struct MHD_Daemon *daemon;
  char *name; /* the path or the address, for messages */
  gboolean is_unix;
  gboolean tls;
  int listen_fd;
  guint accept_source;  /* the listening socket on the main loop, while accepting */
  guint backoff_source; /* the pause after running out of file descriptors */
  gboolean in_accept;   /* on_listen_ready runs: it sets accept_source itself */
  guint fd_source;      /* MHD's epoll fd on the main loop */
  guint timeout_source; /* MHD's next timeout, or 0 */
  gboolean stopping;    /* MHD_stop_daemon() runs: no lingering */
  GQueue streams;       /* PpHttpStream answering on this listener's connections */
  guint run_source;     /* an MHD_run() soon: a stream was given something to send */
  /* The Unix socket file, removed at free only while it is still the one
   * we bound (another daemon may have replaced it since). */
  char *path;
  dev_t dev;
  ino_t ino;
} PpHttpListener;

typedef enum {
  CONN_GATE,   /* ours: its request's head is coming in (plain HTTP) */
  CONN_MHD,    /* libmicrohttpd's; the fd is its */
  CONN_LINGER, /* ours again: answered, its last bytes drained before the close */
} ConnState;

/* One accepted connection, from accept() to close(). */
struct _PpHttpConn {
  PpHttpListener *listener;
  ConnState state;
  int fd;
  gboolean in_poll; /* in server->poll_fd (GATE, LINGER) */
  struct sockaddr_storage addr;
  socklen_t addr_len;
  PpHttpPeer peer;
  char *remote;
  gboolean no_peer;    /* SO_PEERCRED failed: every request is 500 */
  gboolean exempt;     /* an exempt uid's (server->open_exempt) */
  char *peer_key;      /* "uid 1000", "127.0.0.1"; NULL: not limited (an exempt uid) */
  gint64 deadline;     /* monotonic µs by which its request's head must be in; 0: in */
  GList waiting;       /* in server->waiting while deadline != 0 */
  gint64 linger_until; /* silent until then: closed */
  gint64 linger_end;   /* closed then in any case */
  gsize drained;
  GList lingering;        /* in server->lingering while state is LINGER */
  gboolean linger_at_end; /* answered before its body was read: linger when MHD closes */
};

struct _PpHttpServer {
  PpHttpHandler handler;
  PpHttpAdmit admit;
  gpointer user_data;
  gsize max_body;
  PpHttpLimits limits;
  GArray *exempt_uids;  /* uid_t */
  GPtrArray *listeners; /* PpHttpListener, owned */
  guint16 tcp_port;
  guint64 by_class[6];
  PpHttpStats stats;
  guint open_tcp;           /* of stats.open, on TCP listeners */
  guint open_exempt;        /* of stats.open, of exempt uids (UNIX_ADMIN_HEADROOM) */
  GHashTable *conns;        /* every PpHttpConn (owned) */
  GHashTable *peers;        /* peer_key -> open connections (GUINT_TO_POINTER) */
  GQueue waiting;           /* PpHttpConn with a deadline, oldest first */
  GQueue lingering;         /* PpHttpConn lingering */
  guint lingering_unpeered; /* of those, not counted under a peer (refused, exempt) */
  int poll_fd;              /* epoll (edge-triggered) of the GATE and LINGER connections */
  guint poll_source;        /* poll_fd on the main loop */
  guint sweep_source;       /* the deadlines' timer, while any */
  PpHttpConn *adding;       /* the connection MHD_add_connection() is handed */
  gboolean stopping;        /* being freed */
  char *scratch;            /* SCRATCH_SIZE bytes: peeked heads, drained bytes */
  /* TLS, from pp_http_server_set_tls(): PEM, NUL-terminated */
  char *tls_cert;
  char *tls_key;
  gint64 tls_expires; /* the certificate's end, unix seconds */
};

#define SCRATCH_SIZE (64 * 1024)
G_STATIC_ASSERT(SCRATCH_SIZE >= PP_HTTP_HEAD_MAX);

/* One request, from its request line (the URI log callback) to its
 * completion (MHD_OPTION_NOTIFY_COMPLETED); MHD's req_cls. */
struct _PpHttpRequest {
  PpHttpListener *listener;
  PpHttpConn *hconn;           /* its connection (outlives it) */
  struct MHD_Connection *conn; /* valid while the hooks run */
  const char *method;          /* MHD's, valid while the hooks run */
  char *path;                  /* the raw path, not percent-decoded */
  GByteArray *body;
  gsize max_body;     /* what admit allowed */
  gboolean started;   /* the access handler's first call is done */
  gboolean too_large; /* the body passed max_body: it is dropped, 413 */
  gboolean answered;  /* we queued its answer (else libmicrohttpd did, or nobody) */
  PpHttpPeer peer;
  gpointer data;
  GDestroyNotify data_destroy;
  /* A request made by pp_http_test_request_new() has no connection: its
   * method, headers (names in lower case), query and peer's name are these. */
  char *test_method;
  GHashTable *test_headers;
  GHashTable *test_query;
  char *test_remote;
  char *set_cookie;     /* the answer's Set-Cookie value, or NULL */
  GPtrArray *headers;   /* the answer's other headers: name, value, name, value... */
  PpHttpStream *stream; /* the handler answered with a stream (pp_http_request_stream()) */
};

/* An answer that goes on (server-sent events): libmicrohttpd asks for its
 * bytes (stream_read) and, when there are none, the connection is
 * suspended until pp_http_stream_send() gives some. It lives as long as
 * its libmicrohttpd response: stream_gone() frees it. */
struct _PpHttpStream {
  PpHttpListener *listener;
  struct MHD_Connection *conn;
  GString *queued;    /* bytes not given to libmicrohttpd yet */
  gboolean suspended; /* the connection is, waiting for bytes */
  guint peer_watch;   /* while suspended: its socket on the main loop (libmicrohttpd does
                       * not watch a suspended connection: a client that goes is seen here) */
  gboolean ending;    /* after what is queued, the end */
  PpHttpStreamClosed closed;
  gpointer data;
  GList link; /* in listener->streams */
};

static void server_update_accepting(PpHttpServer *server);
static void conn_free(PpHttpConn *conn);

static void
request_free(PpHttpRequest *req)
{
  if (req == NULL)
    return;
  if (req->data_destroy != NULL)
    req->data_destroy(req->data);
  g_free(req->path);
  if (req->body != NULL)
    g_byte_array_unref(req->body);
  g_free(req->test_method);
  g_clear_pointer(&req->test_headers, g_hash_table_unref);
  g_clear_pointer(&req->test_query, g_hash_table_unref);
  g_free(req->test_remote);
  g_free(req->set_cookie);
  g_clear_pointer(&req->headers, g_ptr_array_unref);
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

/* MHD_KeyValueIterator: adds each name to @cls (a GPtrArray), up to one
 * past PP_HTTP_QUERY_MAX. */
static enum MHD_Result
add_query_name(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  GPtrArray *names = cls;

  if (names->len > PP_HTTP_QUERY_MAX)
    return MHD_NO;
  g_ptr_array_add(names, g_strdup(key));
  return MHD_YES;
}

char **
pp_http_request_list_query(const PpHttpRequest *req)
{
  GPtrArray *names = NULL;

  g_return_val_if_fail(req != NULL && (req->conn != NULL || req->test_query != NULL), NULL);
  names = g_ptr_array_new();
  if (req->conn == NULL) {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init(&iter, req->test_query);
    while (g_hash_table_iter_next(&iter, &key, NULL) && names->len <= PP_HTTP_QUERY_MAX)
      g_ptr_array_add(names, g_strdup(key));
  } else {
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_query_name, names);
  }
  g_ptr_array_add(names, NULL);
  return (char **)g_ptr_array_free(names, FALSE);
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

void
pp_http_request_set_data(PpHttpRequest *req, gpointer data, GDestroyNotify destroy)
{
  g_return_if_fail(req != NULL);
  if (req->data_destroy != NULL)
    req->data_destroy(req->data);
  req->data = data;
  req->data_destroy = destroy;
}

void
pp_http_request_set_cookie(const PpHttpRequest *req, const char *value)
{
  /* The answer is the request's: a handler, given it const, sets what the
   * answer carries besides its body. */
  PpHttpRequest *mut = (PpHttpRequest *)req;

  g_return_if_fail(req != NULL);
  g_free(mut->set_cookie);
  mut->set_cookie = g_strdup(value);
}

void
pp_http_request_add_header(const PpHttpRequest *req, const char *name, const char *value)
{
  PpHttpRequest *mut = (PpHttpRequest *)req;

  g_return_if_fail(req != NULL && name != NULL && value != NULL);
  if (mut->headers == NULL)
    mut->headers = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(mut->headers, g_strdup(name));
  g_ptr_array_add(mut->headers, g_strdup(value));
}

const char *
pp_http_request_get_set_cookie(const PpHttpRequest *req)
{
  return req->set_cookie;
}

gpointer
pp_http_request_get_data(const PpHttpRequest *req)
{
  g_return_val_if_fail(req != NULL, NULL);
  return req->data;
}

/* The head of a request (RFC 9112 section 3 and 5), checked before
 * libmicrohttpd sees it. */

/* RFC 9110 5.6.2: tchar. */
static gboolean
is_tchar(guchar c)
{
  return g_ascii_isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* RFC 9110 5.5: field-vchar, SP and HTAB; no control character. */
static gboolean
is_value_char(guchar c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

#define METHOD_MAX 32
#define BAD_REQUEST_LINE "the request line is not 'METHOD /PATH HTTP/1.1'"

/* "METHOD SP /TARGET SP HTTP/d.d", or a prefix of it when not @complete.
 * Returns 0 (good so far) or the error status. */
static guint
check_request_line(const guchar *line, gsize len, gboolean complete, gboolean *ret_http11,
                   const char **ret_message)
{
  static const char version_form[] = "HTTP/0.0";
  gsize i = 0, start;

  *ret_message = BAD_REQUEST_LINE;
  while (i < len && i <= METHOD_MAX && is_tchar(line[i]))
    i++;
  if (i > METHOD_MAX)
    return 400;
  if (i == len)
    return complete ? 400 : 0;
  if (i == 0 || line[i] != ' ')
    return 400;
  start = ++i;
  while (i < len && line[i] > 0x20 && line[i] < 0x7f)
    i++;
  if (i > start && line[start] != '/' && !(line[start] == '*' && i == start + 1)) {
    *ret_message = "the request target is not a path";
    return 400;
  }
  if (i == len)
    return complete ? 400 : 0;
  if (i == start || line[i] != ' ')
    return 400;
  i++;
  /* "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3). */
  for (gsize k = 0; i + k < len; k++) {
    guchar c = line[i + k];

    if (k >= sizeof(version_form) - 1)
      return 400;
    if (version_form[k] == '0' ? !g_ascii_isdigit(c) : c != (guchar)version_form[k])
      return 400;
  }
  if (!complete)
    return 0;
  if (len - i != sizeof(version_form) - 1)
    return 400;
  if (memcmp(line + i, "HTTP/1.1", 8) == 0)
    *ret_http11 = TRUE;
  else if (memcmp(line + i, "HTTP/1.0", 8) != 0) {
    *ret_message = "HTTP version not supported: HTTP/1.1 or HTTP/1.0";
    return 505;
  }
  return 0;
}

/* What the header lines said. */
typedef struct {
  guint hosts;
  guint lengths;
  gboolean transfer_encoding;
} HeadFields;

static gboolean
name_is(const guchar *name, gsize len, const char *want)
{
  return strlen(want) == len && g_ascii_strncasecmp((const char *)name, want, len) == 0;
}

/* "Name: value", or a prefix of it when not @complete. Returns 0 (good so
 * far) or the error status. */
static guint
check_header_line(const guchar *line, gsize len, gboolean complete, HeadFields *fields,
                  const char **ret_message)
{
  gsize i = 0, start, end;

  if (len == 0)
    return 0;
  if (line[0] == ' ' || line[0] == '\t') {
    *ret_message = "a header line is folded onto the next: that is not accepted";
    return 400;
  }
  while (i < len && is_tchar(line[i]))
    i++;
  if (i == len) {
    *ret_message = "a header line has no ':'";
    return complete ? 400 : 0;
  }
  if (i == 0 || line[i] != ':') {
    *ret_message = "a header's name is not a token followed by ':'";
    return 400;
  }
  for (gsize k = i + 1; k < len; k++) {
    if (!is_value_char(line[k])) {
      *ret_message = "a header's value holds a control character";
      return 400;
    }
  }
  if (!complete)
    return 0;
  start = i + 1;
  end = len;
  while (start < end && (line[start] == ' ' || line[start] == '\t'))
    start++;
  while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t'))
    end--;
  if (name_is(line, i, "Host"))
    fields->hosts++;
  else if (name_is(line, i, "Transfer-Encoding"))
    fields->transfer_encoding = TRUE;
  else if (name_is(line, i, "Content-Length")) {
    fields->lengths++;
    /* 19 digits: below 2^63. */
    if (end == start || end - start > 19) {
      *ret_message = "the Content-Length is not a number of at most 19 digits";
      return 400;
    }
    for (gsize k = start; k < end; k++) {
      if (!g_ascii_isdigit(line[k])) {
        *ret_message = "the Content-Length is not a number of at most 19 digits";
        return 400;
      }
    }
  }
  return 0;
}

static void
head_result(PpHttpHeadCheck *ret, guint status, const char *message, gsize head_len)
{
  ret->status = status;
  ret->message = message;
  ret->head_len = head_len;
}

void
pp_http_head_check(const char *data, gsize len, PpHttpHeadCheck *ret)
{
  const guchar *d = (const guchar *)data;
  gsize n = MIN(len, (gsize)PP_HTTP_HEAD_MAX);
  gsize pos = 0;
  guint lines = 0;
  gboolean http11 = FALSE;
  HeadFields fields = { 0 };

  g_return_if_fail(data != NULL || len == 0);
  g_return_if_fail(ret != NULL);

  head_result(ret, 0, NULL, 0);
  for (;;) {
    const guchar *line = d + pos;
    const guchar *lf = memchr(line, '\n', n - pos);
    gboolean complete = lf != NULL;
    gsize line_len = complete ? (gsize)(lf - line) : n - pos;
    const char *message = NULL;
    guint status;

    /* CRLF or LF ends a line; a CR at the end of what came may be the
     * start of a CRLF. Any other CR is a control character. */
    if (line_len > 0 && line[line_len - 1] == '\r')
      line_len--;
    if (lines == 0)
      status = check_request_line(line, line_len, complete, &http11, &message);
    else
      status = check_header_line(line, line_len, complete, &fields, &message);
    if (status != 0) {
      head_result(ret, status, message, 0);
      return;
    }
    if (lines == 0 && line_len > PP_HTTP_REQUEST_LINE_MAX) {
      head_result(ret, 414,
                  "the request line is longer than " G_STRINGIFY(PP_HTTP_REQUEST_LINE_MAX) " bytes",
                  0);
      return;
    }
    if (!complete) {
      if (len >= PP_HTTP_HEAD_MAX)
        head_result(ret, 431,
                    "the request's head is larger than " G_STRINGIFY(PP_HTTP_HEAD_MAX) " bytes", 0);
      return; /* not whole yet */
    }
    pos = (gsize)(lf - d) + 1;
    if (lines > 0 && line_len == 0)
      break;
    if (++lines > PP_HTTP_HEADER_LINES_MAX + 1) {
      head_result(
          ret, 431,
          "the request has more than " G_STRINGIFY(PP_HTTP_HEADER_LINES_MAX) " header lines", 0);
      return;
    }
  }

  if (fields.transfer_encoding)
    head_result(ret, 411,
                "a body must come with a Content-Length: Transfer-Encoding is not accepted", 0);
  else if (fields.lengths > 1)
    head_result(ret, 400, "the request has more than one Content-Length", 0);
  else if (fields.hosts > 1)
    head_result(ret, 400, "the request has more than one Host header", 0);
  else if (http11 && fields.hosts == 0)
    head_result(ret, 400, "an HTTP/1.1 request needs a Host header", 0);
  else
    head_result(ret, 200, NULL, pos);
}

/* Answers. */

/* {"error": {"code": N, "message": "..."}}, the JSON error of pp-api.h. */
static char *
error_json(guint status, const char *message)
{
  GString *out = g_string_new(NULL);

  g_string_append_printf(out, "{\"error\": {\"code\": %u, \"message\": \"", status);
  for (const char *p = message; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_printf(out, "\\%c", *p);
    else if ((guchar)*p < 0x20)
      g_string_append_printf(out, "\\u%04x", (guint)(guchar)*p);
    else
      g_string_append_c(out, *p);
  }
  g_string_append(out, "\"}}");
  return g_string_free(out, FALSE);
}

static void
count_answer(PpHttpServer *server, guint status)
{
  if (status >= 100 && status <= 599)
    server->by_class[status / 100]++;
}

/* The headers every answer has besides its own: the cookie, and those the
 * handler added. */
static void
add_headers(PpHttpRequest *req, struct MHD_Response *resp)
{
  if (req->set_cookie != NULL)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie);
  for (guint i = 0; req->headers != NULL && i + 1 < req->headers->len; i += 2)
    MHD_add_response_header(resp, g_ptr_array_index(req->headers, i),
                            g_ptr_array_index(req->headers, i + 1));
}

/* Answers through libmicrohttpd; the body is copied. Every answer closes
 * its connection. Counts the answer by class. */
static enum MHD_Result
queue_answer(PpHttpRequest *req, guint status, const char *content_type, GBytes *body)
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
  add_headers(req, resp);
  /* One request a connection: each one's head passes our checks and its
   * own header timeout (libmicrohttpd would read a second one itself). */
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  ret = MHD_queue_response(req->conn, status, resp);
  MHD_destroy_response(resp);
  if (ret == MHD_YES) {
    req->answered = TRUE;
    count_answer(req->listener->server, status);
  }
  return ret;
}

static enum MHD_Result
queue_error(PpHttpRequest *req, guint status, const char *message)
{
  g_autofree char *json = error_json(status, message);
  gsize len = strlen(json);
  g_autoptr(GBytes) body = g_bytes_new_take(g_steal_pointer(&json), len);

  return queue_answer(req, status, "application/json", body);
}

/* Driving libmicrohttpd from the main loop (STYLE rule 29): MHD in
 * external-epoll mode has no thread; its epoll fd becomes readable when a
 * connection of its own is, and MHD_get_timeout() says when it next needs
 * to run without any (an idle connection to time out, or 0: work already
 * known, e.g. a connection just handed over, or data left in a buffer
 * after an edge-triggered wakeup). It has no listening socket: accepting
 * is ours (below), so nothing depends on it running to accept again. */

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

/* Streams (server-sent events). */

static gboolean
on_run_soon(gpointer user_data)
{
  PpHttpListener *l = user_data;

  l->run_source = 0;
  listener_run(l);
  return G_SOURCE_REMOVE;
}

/* A suspended stream has bytes again, or its end: resumed, and MHD run
 * soon (external polling: a resume is acted on at the next MHD_run()). */
static void
stream_wake(PpHttpStream *stream)
{
  PpHttpListener *l = stream->listener;

  if (!stream->suspended || stream->conn == NULL)
    return;
  stream->suspended = FALSE;
  g_clear_handle_id(&stream->peer_watch, g_source_remove);
  MHD_resume_connection(stream->conn);
  if (l->run_source == 0 && !l->stopping)
    l->run_source = g_idle_add(on_run_soon, l);
}

/* The client of a suspended stream sent something or went: it sends
 * nothing after its request (one a connection), so either way the stream
 * ends, and its owner is told (stream_gone). */
static gboolean
on_stream_peer(int fd, GIOCondition condition, gpointer user_data)
{
  PpHttpStream *stream = user_data;

  stream->peer_watch = 0;
  stream->ending = TRUE;
  stream_wake(stream);
  return G_SOURCE_REMOVE;
}

static void
stream_watch_peer(PpHttpStream *stream)
{
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(stream->conn, MHD_CONNECTION_INFO_CONNECTION_FD);

  if (info != NULL && stream->peer_watch == 0)
    stream->peer_watch =
        g_unix_fd_add(info->connect_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stream_peer, stream);
}

/* MHD_ContentReaderCallback: what is queued, the end, or nothing yet
 * (then the connection waits, suspended: the pattern libmicrohttpd gives
 * for a reader with nothing to give, which polling does not spin on). */
static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  PpHttpStream *stream = cls;
  gsize n = MIN(max, stream->queued->len);

  if (n > 0) {
    memcpy(buf, stream->queued->str, n);
    g_string_erase(stream->queued, 0, (gssize)n);
    return (ssize_t)n;
  }
  if (stream->ending || stream->listener->stopping)
    return MHD_CONTENT_READER_END_OF_STREAM;
  stream->suspended = TRUE;
  MHD_suspend_connection(stream->conn);
  stream_watch_peer(stream);
  return 0;
}

/* MHD_ContentReaderFreeCallback: the response is done with (the client
 * went, the stream ended, the server stops): its owner is told, unless it
 * ended it itself. */
static void
stream_gone(void *cls)
{
  PpHttpStream *stream = cls;
  PpHttpStreamClosed closed = stream->closed;

  g_queue_unlink(&stream->listener->streams, &stream->link);
  g_clear_handle_id(&stream->peer_watch, g_source_remove);
  stream->conn = NULL;
  stream->closed = NULL;
  if (closed != NULL)
    closed(stream, stream->data);
  g_string_free(stream->queued, TRUE);
  g_free(stream);
}

PpHttpStream *
pp_http_request_stream(const PpHttpRequest *req, PpHttpStreamClosed closed, gpointer data)
{
  PpHttpRequest *mut = (PpHttpRequest *)req;
  PpHttpStream *stream;

  g_return_val_if_fail(req != NULL && req->stream == NULL, NULL);
  g_return_val_if_fail(req->listener != NULL, NULL); /* not a test request */
  stream = g_new0(PpHttpStream, 1);
  stream->listener = req->listener;
  stream->queued = g_string_new(NULL);
  stream->closed = closed;
  stream->data = data;
  stream->link.data = stream;
  mut->stream = stream;
  return stream;
}

gboolean
pp_http_stream_send(PpHttpStream *stream, const char *text, gsize len)
{
  g_return_val_if_fail(stream != NULL && (text != NULL || len == 0), FALSE);
  if (stream->ending || stream->queued->len + len > PP_HTTP_STREAM_MAX_QUEUED)
    return FALSE;
  g_string_append_len(stream->queued, text, (gssize)len);
  stream_wake(stream);
  return TRUE;
}

gsize
pp_http_stream_get_queued(const PpHttpStream *stream)
{
  g_return_val_if_fail(stream != NULL, 0);
  return stream->queued->len;
}

void
pp_http_stream_end(PpHttpStream *stream)
{
  g_return_if_fail(stream != NULL);
  stream->closed = NULL;
  stream->ending = TRUE;
  stream_wake(stream);
}

/* Answers @req with its stream: 200, @content_type, no length (chunked),
 * its bytes as they come. */
static enum MHD_Result
queue_stream(PpHttpRequest *req, const char *content_type)
{
  PpHttpStream *stream = g_steal_pointer(&req->stream);
  struct MHD_Response *resp;
  enum MHD_Result ret;

  stream->conn = req->conn;
  g_queue_push_tail_link(&req->listener->streams, &stream->link);
  resp =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, stream, stream_gone);
  if (resp == NULL) {
    stream_gone(stream);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  add_headers(req, resp);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  ret = MHD_queue_response(req->conn, 200, resp);
  MHD_destroy_response(resp); /* stream_gone() when MHD is done with it too */
  if (ret == MHD_YES) {
    req->answered = TRUE;
    count_answer(req->listener->server, 200);
  }
  return ret;
}

/* Connections: accepted and admitted here, their heads checked (GATE),
 * handed to libmicrohttpd (MHD), and drained before their close when they
 * were answered early (LINGER). */

static gboolean on_sweep(gpointer user_data);

static void
server_arm_sweep(PpHttpServer *server)
{
  if (server->sweep_source == 0 && !server->stopping &&
      (server->waiting.length > 0 || server->lingering.length > 0))
    server->sweep_source = g_timeout_add(SWEEP_MS, on_sweep, server);
}

static void
conn_poll(PpHttpConn *conn, gboolean add)
{
  PpHttpServer *server = conn->listener->server;
  struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = conn };

  if (add && !conn->in_poll) {
    /* Edge-triggered: the head is peeked, not read, so it stays readable;
     * each new piece of it is a new edge. */
    if (epoll_ctl(server->poll_fd, EPOLL_CTL_ADD, conn->fd, &ev) == 0)
      conn->in_poll = TRUE;
    else
      g_debug("%s: epoll_ctl: %s", conn->remote, g_strerror(errno));
  } else if (!add && conn->in_poll) {
    epoll_ctl(server->poll_fd, EPOLL_CTL_DEL, conn->fd, NULL);
    conn->in_poll = FALSE;
  }
}

/* The request's head is in (or the connection goes): no deadline. */
static void
conn_clear_deadline(PpHttpConn *conn)
{
  if (conn->deadline != 0) {
    g_queue_unlink(&conn->listener->server->waiting, &conn->waiting);
    conn->deadline = 0;
  }
}

/* Gives back the connection's place in its peer's count. */
static void
conn_release_peer(PpHttpConn *conn)
{
  PpHttpServer *server = conn->listener->server;
  guint n;

  if (conn->peer_key == NULL)
    return;
  n = GPOINTER_TO_UINT(g_hash_table_lookup(server->peers, conn->peer_key));
  if (n <= 1)
    g_hash_table_remove(server->peers, conn->peer_key);
  else
    g_hash_table_insert(server->peers, g_strdup(conn->peer_key), GUINT_TO_POINTER(n - 1));
  g_clear_pointer(&conn->peer_key, g_free);
}

/* Forgets @conn and, when it is ours, closes it. */
static void
conn_free(PpHttpConn *conn)
{
  PpHttpListener *l = conn->listener;
  PpHttpServer *server = l->server;

  conn_clear_deadline(conn);
  if (conn->state == CONN_LINGER) {
    g_queue_unlink(&server->lingering, &conn->lingering);
    if (conn->peer_key == NULL)
      server->lingering_unpeered--;
  }
  conn_release_peer(conn);
  if (conn->state != CONN_MHD) {
    conn_poll(conn, FALSE);
    pp_close_fdp(&conn->fd);
  }
  g_hash_table_remove(server->conns, conn);
  server->stats.open--;
  if (!l->is_unix)
    server->open_tcp--;
  if (conn->exempt)
    server->open_exempt--;
  g_free(conn->remote);
  g_free(conn);
  server_update_accepting(server);
}

/* Reads and drops what the client still sends, until it closes or
 * LINGER_MAX_BYTES came (its silence and LINGER_MAX_US are on_sweep's). */
static void
conn_drain(PpHttpConn *conn)
{
  PpHttpServer *server = conn->listener->server;

  for (;;) {
    ssize_t n = recv(conn->fd, server->scratch, SCRATCH_SIZE, MSG_DONTWAIT);

    if (n > 0) {
      conn->drained += (gsize)n;
      conn->linger_until = MIN(g_get_monotonic_time() + LINGER_IDLE_US, conn->linger_end);
      if (conn->drained <= LINGER_MAX_BYTES)
        continue;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    }
    conn_free(conn); /* closed by the client, an error, or enough */
    return;
  }
}

/* @conn's fd is ours and its answer on its way: it closes once the client
 * stops sending (see LINGER_IDLE_US). Those counted under no peer (refused
 * by the per-peer limit) linger only while few do: a flood of them is
 * closed at once. */
static void
conn_linger(PpHttpConn *conn)
{
  PpHttpServer *server = conn->listener->server;
  gint64 now = g_get_monotonic_time();

  conn_clear_deadline(conn);
  /* Nor does one refused in the admin's headroom: it would hold it. */
  if (server->stopping || conn->fd < 0 ||
      (conn->peer_key == NULL && !conn->exempt &&
       (server->lingering_unpeered >= MAX(server->limits.max_connections / 8, 1) ||
        server->stats.open > server->limits.max_connections))) {
    conn_free(conn);
    return;
  }
  conn->state = CONN_LINGER;
  conn->linger_end = now + LINGER_MAX_US;
  conn->linger_until = now + LINGER_IDLE_US;
  conn->lingering.data = conn;
  g_queue_push_tail_link(&server->lingering, &conn->lingering);
  if (conn->peer_key == NULL)
    server->lingering_unpeered++;
  conn_poll(conn, TRUE);
  server_arm_sweep(server);
  conn_drain(conn);
}

/* Answers an error on a connection of ours (no request of libmicrohttpd's
 * on it), then lingers. Over TLS there is no HTTP before the handshake:
 * it is closed. */
static void
conn_refuse(PpHttpConn *conn, guint status, const char *message)
{
  PpHttpServer *server = conn->listener->server;
  g_autofree char *json = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (conn->listener->tls) {
    conn_free(conn);
    return;
  }
  json = error_json(status, message);
  text = g_strdup_printf("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: "
                         "%zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
                         status, MHD_get_reason_phrase_for(status), strlen(json), json);
  len = strlen(text);
  /* A few hundred bytes into an empty send buffer: whole, or the client
   * is gone. */
  if (send(conn->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)len)
    count_answer(server, status);
  g_debug("%s: %u %s", conn->remote, status, message);
  shutdown(conn->fd, SHUT_WR);
  conn_linger(conn);
}

/* The head is in and good: libmicrohttpd reads it, from the start (it was
 * only peeked). */
static void
conn_hand_over(PpHttpConn *conn)
{
  PpHttpListener *l = conn->listener;
  PpHttpServer *server = l->server;
  enum MHD_Result ok;

  conn_poll(conn, FALSE);
  conn->state = CONN_MHD;
  server->adding = conn;
  ok =
      MHD_add_connection(l->daemon, conn->fd, (const struct sockaddr *)&conn->addr, conn->addr_len);
  if (ok != MHD_YES && server->adding == conn) {
    /* Refused before it was ever MHD's (on_connection never saw it); MHD
     * closed the socket. */
    g_debug("%s: libmicrohttpd did not take the connection: %s", conn->remote, g_strerror(errno));
    conn->fd = -1;
    server->adding = NULL;
    conn_free(conn);
    return;
  }
  server->adding = NULL;
  /* A connection handed over has work pending: MHD says so with a timeout
   * of 0. */
  listener_arm_timeout(l);
}

/* Peeks at what came of the head; hands it over when whole and good,
 * answers its error when not, waits otherwise. */
static void
conn_check_head(PpHttpConn *conn, guint32 events)
{
  PpHttpServer *server = conn->listener->server;
  PpHttpHeadCheck check;
  ssize_t n;

  do
    n = recv(conn->fd, server->scratch, PP_HTTP_HEAD_MAX, MSG_PEEK | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && (events & (EPOLLHUP | EPOLLERR)) == 0)
    return;
  if (n <= 0) {
    conn_free(conn); /* gone before a whole head */
    return;
  }
  pp_http_head_check(server->scratch, (gsize)n, &check);
  if (check.status == 0) {
    /* Not whole; nothing more comes once the client has shut its side. */
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
      conn_free(conn);
    return;
  }
  if (check.status != 200) {
    conn_refuse(conn, check.status, check.message);
    return;
  }
  conn_hand_over(conn);
}

static gboolean
on_poll_ready(int fd, GIOCondition condition, gpointer user_data)
{
  PpHttpServer *server = user_data;
  struct epoll_event events[64];
  int n;

  do {
    n = epoll_wait(server->poll_fd, events, G_N_ELEMENTS(events), 0);
    /* Each event's connection is freed by its own handling only: none of
     * them touches another's. */
    for (int i = 0; i < n; i++) {
      PpHttpConn *conn = events[i].data.ptr;

      if (conn->state == CONN_GATE)
        conn_check_head(conn, events[i].events);
      else if (conn->state == CONN_LINGER)
        conn_drain(conn);
    }
  } while (n == G_N_ELEMENTS(events));
  return G_SOURCE_CONTINUE;
}

/* The deadlines: a head not in by its deadline is 408 and closed (over
 * TLS, or once libmicrohttpd has it, the socket is shut and libmicrohttpd
 * closes it); a lingering connection past its time is closed. */
static gboolean
on_sweep(gpointer user_data)
{
  PpHttpServer *server = user_data;
  gint64 now = g_get_monotonic_time();

  while (server->waiting.head != NULL) {
    PpHttpConn *conn = server->waiting.head->data;

    if (conn->deadline > now)
      break;
    server->stats.header_timeouts++;
    g_debug("%s: no whole request head within %u s, closing", conn->remote,
            server->limits.header_timeout_s);
    conn_clear_deadline(conn);
    if (conn->state == CONN_GATE) {
      conn_refuse(conn, 408, "the request's head did not come in time");
    } else if (conn->state == CONN_MHD) {
      /* libmicrohttpd sees the end of the stream and closes it. */
      shutdown(conn->fd, SHUT_RDWR);
    }
  }
  for (GList *l = server->lingering.head, *next; l != NULL; l = next) {
    PpHttpConn *conn = l->data;

    next = l->next;
    if (conn->linger_until <= now)
      conn_free(conn);
  }
  if (server->waiting.length > 0 || server->lingering.length > 0)
    return G_SOURCE_CONTINUE;
  server->sweep_source = 0;
  return G_SOURCE_REMOVE;
}

/* "127.0.0.1:40112", "[::1]:40112"; with @port FALSE the address alone. */
static char *
format_sockaddr(const struct sockaddr *sa, gboolean port)
{
  char host[INET6_ADDRSTRLEN];

  if (sa == NULL)
    return g_strdup("unknown");
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return port ? g_strdup_printf("%s:%u", host, ntohs(in->sin_port)) : g_strdup(host);
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return port ? g_strdup_printf("[%s]:%u", host, ntohs(in6->sin6_port))
                : g_strdup_printf("[%s]", host);
  }
  return g_strdup("unknown");
}

static gboolean
uid_is_exempt(PpHttpServer *server, uid_t uid)
{
  for (guint i = 0; i < server->exempt_uids->len; i++) {
    if (g_array_index(server->exempt_uids, uid_t, i) == uid)
      return TRUE;
  }
  return FALSE;
}

/* Who is asking: on the Unix socket the peer's credentials as the kernel
 * recorded them at connect(); over TCP only the address (uid and gid -1,
 * pid 0: nobody). The key its connections are counted under. */
static void
conn_read_peer(PpHttpConn *conn)
{
  PpHttpServer *server = conn->listener->server;

  conn->peer.uid = (uid_t)-1;
  conn->peer.gid = (gid_t)-1;
  conn->peer.pid = 0;
  if (conn->listener->is_unix) {
    struct ucred cred;
    socklen_t len = sizeof(cred);

    conn->peer.is_unix = TRUE;
    conn->remote = g_strdup("unix");
    if (getsockopt(conn->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred)) {
      g_debug("%s: cannot read the peer's credentials: %s", conn->listener->name,
              g_strerror(errno));
      conn->no_peer = TRUE;
      conn->peer_key = g_strdup("uid unknown");
    } else {
      conn->peer.uid = cred.uid;
      conn->peer.gid = cred.gid;
      conn->peer.pid = cred.pid;
      conn->exempt = uid_is_exempt(server, cred.uid);
      if (!conn->exempt)
        conn->peer_key = g_strdup_printf("uid %u", (guint)cred.uid);
    }
  } else {
    conn->remote = format_sockaddr((const struct sockaddr *)&conn->addr, TRUE);
    conn->peer_key = format_sockaddr((const struct sockaddr *)&conn->addr, FALSE);
  }
  conn->peer.is_tls = conn->listener->tls;
  conn->peer.remote = conn->remote;
}

/* A connection just accepted: counted, admitted or refused (its peer has
 * max_per_peer open), given its head's deadline, and watched (plain HTTP)
 * or handed over (TLS: its head comes through the TLS session). */
static void
conn_new(PpHttpListener *l, int fd, const struct sockaddr_storage *addr, socklen_t addr_len)
{
  PpHttpServer *server = l->server;
  PpHttpConn *conn = g_new0(PpHttpConn, 1);
  guint n = 0;

  conn->listener = l;
  conn->state = CONN_GATE;
  conn->fd = fd;
  conn->addr = *addr;
  conn->addr_len = addr_len;
  g_hash_table_add(server->conns, conn);
  server->stats.open++;
  server->stats.accepted++;
  if (!l->is_unix)
    server->open_tcp++;
  conn_read_peer(conn);
  if (conn->exempt)
    server->open_exempt++;

  /* Past max_connections (the admin's headroom) only an exempt uid. */
  if (!conn->exempt && server->stats.open - server->open_exempt > server->limits.max_connections) {
    g_autofree char *message = g_strdup_printf("pcipassd holds its %u connections; try again later",
                                               server->limits.max_connections);

    server->stats.refused_full++;
    g_clear_pointer(&conn->peer_key, g_free); /* not counted: refused */
    conn_refuse(conn, 503, message);
    return;
  }
  if (conn->peer_key != NULL) {
    n = GPOINTER_TO_UINT(g_hash_table_lookup(server->peers, conn->peer_key));
    if (n >= server->limits.max_per_peer) {
      g_autofree char *message =
          g_strdup_printf("too many connections from %s (at most %u at once); try again later",
                          conn->peer_key, server->limits.max_per_peer);

      server->stats.refused_peer++;
      g_clear_pointer(&conn->peer_key, g_free); /* not counted: refused */
      conn_refuse(conn, 503, message);
      return;
    }
    g_hash_table_insert(server->peers, g_strdup(conn->peer_key), GUINT_TO_POINTER(n + 1));
  }

  conn->deadline = g_get_monotonic_time() + server->limits.header_timeout_s * G_USEC_PER_SEC;
  conn->waiting.data = conn;
  g_queue_push_tail_link(&server->waiting, &conn->waiting);
  server_arm_sweep(server);
  if (l->tls) {
    conn_hand_over(conn);
    return;
  }
  /* Its head may be there already: the edge-triggered add reports it. */
  conn_poll(conn, TRUE);
}

/* Accepting. A listener accepts while there is room (max_connections in
 * all, TCP leaving unix_reserved to the Unix socket); at the limit its
 * socket leaves the main loop, and more clients wait in the kernel's
 * backlog; it comes back as soon as a connection closes. */

static gboolean
listener_has_room(PpHttpListener *l)
{
  PpHttpServer *server = l->server;
  const PpHttpLimits *limits = &server->limits;

  if (l->is_unix)
    return server->stats.open < limits->max_connections + UNIX_ADMIN_HEADROOM;
  if (server->stats.open >= limits->max_connections)
    return FALSE;
  return server->open_tcp < limits->max_connections - limits->unix_reserved;
}

static gboolean listener_want_accept(PpHttpListener *l);

static gboolean
on_backoff_done(gpointer user_data)
{
  PpHttpListener *l = user_data;

  l->backoff_source = 0;
  server_update_accepting(l->server);
  return G_SOURCE_REMOVE;
}

static gboolean
on_listen_ready(int fd, GIOCondition condition, gpointer user_data)
{
  PpHttpListener *l = user_data;

  l->in_accept = TRUE;
  for (guint i = 0; i < ACCEPT_BATCH && listener_has_room(l); i++) {
    struct sockaddr_storage addr;
    socklen_t addr_len = sizeof(addr);
    int client =
        accept4(l->listen_fd, (struct sockaddr *)&addr, &addr_len, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (client >= 0) {
      conn_new(l, client, &addr, addr_len);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED)
      continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      /* Out of file descriptors or memory: the listener pauses rather
       * than spin; a connection that closes meanwhile frees one. */
      g_debug("%s: cannot accept: %s; pausing %d ms", l->name, g_strerror(errno),
              ACCEPT_BACKOFF_MS);
      if (l->backoff_source == 0)
        l->backoff_source = g_timeout_add(ACCEPT_BACKOFF_MS, on_backoff_done, l);
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      g_debug("%s: cannot accept: %s", l->name, g_strerror(errno));
    }
    break;
  }
  l->in_accept = FALSE;
  if (listener_want_accept(l))
    return G_SOURCE_CONTINUE;
  l->accept_source = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
listener_want_accept(PpHttpListener *l)
{
  return l->listen_fd >= 0 && !l->stopping && !l->server->stopping && l->backoff_source == 0 &&
         listener_has_room(l);
}

/* Puts each listening socket on the main loop, or takes it off, as its
 * room says. */
static void
server_update_accepting(PpHttpServer *server)
{
  if (server->stopping)
    return;
  for (guint i = 0; i < server->listeners->len; i++) {
    PpHttpListener *l = g_ptr_array_index(server->listeners, i);
    gboolean want = listener_want_accept(l);

    if (l->in_accept)
      continue; /* on_listen_ready decides when it returns */
    if (want && l->accept_source == 0)
      l->accept_source = g_unix_fd_add(l->listen_fd, G_IO_IN, on_listen_ready, l);
    else if (!want && l->accept_source != 0)
      g_clear_handle_id(&l->accept_source, g_source_remove);
  }
}

/* libmicrohttpd's callbacks. */

/* A connection becomes libmicrohttpd's (inside MHD_add_connection()), or
 * it closed one. A connection answered before its body was read lingers:
 * its socket lives on in a dup until drained. */
static void
on_connection(void *cls, struct MHD_Connection *mconn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
  PpHttpListener *l = cls;
  PpHttpServer *server = l->server;
  PpHttpConn *conn;

  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    g_assert(server->adding != NULL);
    *socket_context = server->adding;
    server->adding = NULL;
    return;
  }
  conn = *socket_context;
  *socket_context = NULL;
  if (conn == NULL)
    return;
  if (conn->linger_at_end && !l->stopping) {
    /* MHD closes its fd after this; the dup, ours, keeps the socket (a
     * failed dup: -1, closed at once). */
    conn->fd = fcntl(conn->fd, F_DUPFD_CLOEXEC, 0);
    conn->state = CONN_GATE; /* ours again, not lingering yet */
    conn_linger(conn);
    return;
  }
  conn_free(conn);
}

/* The request line's URI as the client sent it, before MHD splits off the
 * query and percent-decodes the path: the API routes on the raw path. The
 * state made here is MHD's req_cls, freed in on_completed (MHD calls it for
 * every request that got here, answered or not). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mconn)
{
  PpHttpRequest *req = g_new0(PpHttpRequest, 1);
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(mconn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

  req->listener = cls;
  req->hconn = info != NULL ? info->socket_context : NULL;
  g_assert(req->hconn != NULL);
  req->peer = req->hconn->peer;
  req->path = g_strndup(uri, strcspn(uri, "?"));
  return req;
}

/* A request ends. An answer libmicrohttpd gave itself (over TLS: a head it
 * refused) is counted here. */
static void
on_completed(void *cls, struct MHD_Connection *mconn, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
  PpHttpListener *l = cls;
  PpHttpRequest *req = *req_cls;

  if (req != NULL && !req->answered) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(mconn, MHD_CONNECTION_INFO_HTTP_STATUS);

    if (info != NULL)
      count_answer(l->server, info->http_status);
  }
  request_free(req);
  *req_cls = NULL;
}

/* The Content-Length; FALSE when there is none (MHD has checked that it is
 * a number before it calls us). */
static gboolean
content_length(struct MHD_Connection *mconn, guint64 *ret)
{
  const char *text =
      MHD_lookup_connection_value(mconn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

  *ret = 0;
  return text != NULL && g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT64, ret, NULL);
}

/* An answer before the body is read: what the client still sends is
 * drained when the connection closes. */
static enum MHD_Result
answer_early(PpHttpRequest *req, guint status, const char *content_type, GBytes *body)
{
  guint64 len = 0;

  if (content_length(req->conn, &len) && len > 0)
    req->hconn->linger_at_end = TRUE;
  return queue_answer(req, status, content_type, body);
}

static enum MHD_Result
answer_early_error(PpHttpRequest *req, guint status, const char *message)
{
  g_autofree char *json = error_json(status, message);
  gsize len = strlen(json);
  g_autoptr(GBytes) body = g_bytes_new_take(g_steal_pointer(&json), len);

  return answer_early(req, status, "application/json", body);
}

/* The head is in: admitted or answered now, before any of the body is
 * read. */
static enum MHD_Result
on_head(PpHttpListener *l, PpHttpRequest *req)
{
  PpHttpServer *server = l->server;
  g_autoptr(GBytes) body = NULL;
  const char *content_type = NULL;
  guint status = 500;
  gsize max = server->max_body;
  guint64 len = 0;

  conn_clear_deadline(req->hconn);
  /* Over TLS the head was not checked before (plain HTTP: this cannot
   * be). */
  if (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) !=
      NULL)
    return answer_early_error(
        req, 411, "a body must come with a Content-Length: Transfer-Encoding is not accepted");
  if (req->hconn->no_peer)
    return answer_early_error(req, 500, "cannot read the peer's credentials");
  if (server->admit != NULL) {
    if (!server->admit(req, &max, &status, &content_type, &body, server->user_data)) {
      if (status < 200 || status > 599) {
        g_critical("%s %s: admit answered status %u", req->method, req->path, status);
        return answer_early_error(req, 500, "internal error");
      }
      return answer_early(req, status, content_type, body);
    }
  }
  req->max_body = MIN(max, server->max_body);
  if (content_length(req->conn, &len) && len > req->max_body) {
    g_autofree char *message =
        g_strdup_printf("request body larger than %" G_GSIZE_FORMAT " bytes", req->max_body);

    return answer_early_error(req, 413, message);
  }
  return MHD_YES;
}

/* Calls the handler with the whole request and answers. */
static enum MHD_Result
dispatch(PpHttpListener *l, PpHttpRequest *req)
{
  PpHttpServer *server = l->server;
  g_autoptr(GBytes) body = NULL;
  const char *content_type = NULL;
  guint status = 500;

  if (req->too_large) {
    g_autofree char *message =
        g_strdup_printf("request body larger than %" G_GSIZE_FORMAT " bytes", req->max_body);

    return queue_error(req, 413, message);
  }
  if (req->body != NULL && req->body->len > 0)
    g_byte_array_append(req->body, (const guint8 *)"", 1);

  server->handler(req, &status, &content_type, &body, server->user_data);
  if (req->stream != NULL) {
    if (status == 200 && content_type != NULL)
      return queue_stream(req, content_type);
    g_critical("%s %s: a stream answered with status %u", req->method, req->path, status);
    stream_gone(g_steal_pointer(&req->stream));
    return queue_error(req, 500, "internal error");
  }
  if (status < 200 || status > 599) {
    g_critical("%s %s: the handler answered status %u", req->method, req->path, status);
    return queue_error(req, 500, "internal error");
  }
  return queue_answer(req, status, content_type, body);
}

/* MHD calls this once when the headers are in (*upload_data_size 0), once
 * per piece of body (> 0; we must consume it all), and once at the end (0
 * again). */
static enum MHD_Result
on_access(void *cls, struct MHD_Connection *mconn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  PpHttpListener *l = cls;
  PpHttpRequest *req = *req_cls;

  g_assert(req != NULL); /* on_uri made it */
  req->conn = mconn;
  req->method = method;

  if (!req->started) {
    req->started = TRUE;
    return on_head(l, req);
  }

  if (*upload_data_size > 0) {
    gsize n = *upload_data_size;

    *upload_data_size = 0;
    if (req->too_large)
      return MHD_YES;
    if (req->body == NULL)
      req->body = g_byte_array_new();
    /* The Content-Length was within the bound; it cannot be passed. */
    if (n > req->max_body - req->body->len) {
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

static void
listener_free(PpHttpListener *l)
{
  if (l == NULL)
    return;
  l->stopping = TRUE;
  g_clear_handle_id(&l->accept_source, g_source_remove);
  g_clear_handle_id(&l->backoff_source, g_source_remove);
  g_clear_handle_id(&l->fd_source, g_source_remove);
  g_clear_handle_id(&l->timeout_source, g_source_remove);
  g_clear_handle_id(&l->run_source, g_source_remove);
  /* libmicrohttpd stops no daemon with a suspended connection: every
   * stream is resumed, to end (stream_read sees stopping). */
  for (GList *link = l->streams.head; link != NULL; link = link->next) {
    PpHttpStream *stream = link->data;

    stream->ending = TRUE;
    stream_wake(stream);
  }
  /* Closes every connection it has (on_completed frees their requests,
   * on_connection them, the streams' responses stream_gone()). */
  if (l->daemon != NULL)
    MHD_stop_daemon(l->daemon);
  pp_close_fdp(&l->listen_fd);
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

static void
free_secret(char *secret)
{
  if (secret != NULL) {
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
  }
}

void
pp_http_limits_init(PpHttpLimits *ret)
{
  g_return_if_fail(ret != NULL);
  ret->max_connections = PP_HTTP_DEFAULT_MAX_CONNECTIONS;
  ret->unix_reserved = PP_HTTP_DEFAULT_UNIX_RESERVED;
  ret->max_per_peer = PP_HTTP_DEFAULT_MAX_PER_PEER;
  ret->header_timeout_s = PP_HTTP_DEFAULT_HEADER_TIMEOUT_S;
  ret->idle_timeout_s = PP_HTTP_DEFAULT_IDLE_TIMEOUT_S;
}

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
  pp_http_limits_init(&server->limits);
  server->exempt_uids = g_array_new(FALSE, FALSE, sizeof(uid_t));
  server->listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
  server->conns = g_hash_table_new(NULL, NULL);
  server->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init(&server->waiting);
  g_queue_init(&server->lingering);
  server->poll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (server->poll_fd < 0)
    g_error("epoll_create1: %s", g_strerror(errno)); /* no file descriptor left at start */
  server->poll_source = g_unix_fd_add(server->poll_fd, G_IO_IN, on_poll_ready, server);
  server->scratch = g_malloc(SCRATCH_SIZE);
  return server;
}

void
pp_http_server_free(PpHttpServer *server)
{
  GHashTableIter iter;
  GPtrArray *ours;
  gpointer conn;

  if (server == NULL)
    return;
  server->stopping = TRUE;
  /* Ours first (heads coming in, lingering), then libmicrohttpd's, with
   * their listeners. */
  ours = g_ptr_array_new();
  g_hash_table_iter_init(&iter, server->conns);
  while (g_hash_table_iter_next(&iter, &conn, NULL)) {
    if (((PpHttpConn *)conn)->state != CONN_MHD)
      g_ptr_array_add(ours, conn);
  }
  for (guint i = 0; i < ours->len; i++)
    conn_free(g_ptr_array_index(ours, i));
  g_ptr_array_unref(ours);
  g_ptr_array_unref(server->listeners);
  g_assert(g_hash_table_size(server->conns) == 0);
  g_clear_handle_id(&server->sweep_source, g_source_remove);
  g_clear_handle_id(&server->poll_source, g_source_remove);
  pp_close_fdp(&server->poll_fd);
  g_hash_table_unref(server->conns);
  g_hash_table_unref(server->peers);
  g_array_unref(server->exempt_uids);
  g_free(server->scratch);
  g_free(server->tls_cert);
  free_secret(server->tls_key);
  g_free(server);
}

void
pp_http_server_set_admit(PpHttpServer *server, PpHttpAdmit admit)
{
  g_return_if_fail(server != NULL);
  server->admit = admit;
}

gboolean
pp_http_server_set_limits(PpHttpServer *server, const PpHttpLimits *limits, GError **error)
{
  g_return_val_if_fail(server != NULL && limits != NULL, FALSE);
  g_return_val_if_fail(server->listeners->len == 0, FALSE);

  if (limits->max_connections < 1 || limits->max_per_peer < 1 || limits->header_timeout_s < 1 ||
      limits->idle_timeout_s < 1) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the connection limits and the timeouts must be 1 or more");
    return FALSE;
  }
  if (limits->unix_reserved >= limits->max_connections) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the connections kept for the Unix socket (%u) must be fewer than all "
                "connections (%u): TCP would have none",
                limits->unix_reserved, limits->max_connections);
    return FALSE;
  }
  server->limits = *limits;
  return TRUE;
}

void
pp_http_server_exempt_uid(PpHttpServer *server, uid_t uid)
{
  g_return_if_fail(server != NULL);
  if (!uid_is_exempt(server, uid))
    g_array_append_val(server->exempt_uids, uid);
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

void
pp_http_server_get_stats(PpHttpServer *server, PpHttpStats *ret)
{
  g_return_if_fail(server != NULL && ret != NULL);
  *ret = server->stats;
}

/* TLS. */

/* Reads a PEM file of @what into @ret_text. */
static gboolean
read_pem(const char *path, const char *what, char **ret_text, GError **error)
{
  g_autoptr(GError) local = NULL;
  gsize len = 0;

  if (!pp_file_read(path, PEM_MAX_SIZE, ret_text, &len, &local)) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "the TLS %s: %s", what, local->message);
    return FALSE;
  }
  if (strlen(*ret_text) != len || strstr(*ret_text, "-----BEGIN ") == NULL) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the TLS %s '%s' is not a PEM file (no '-----BEGIN' line)", what, path);
    g_clear_pointer(ret_text, free_secret);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_http_server_set_tls(PpHttpServer *server, const char *cert_file, const char *key_file,
                       GError **error)
{
  g_autofree char *cert = NULL;
  char *key = NULL;
  gnutls_x509_crt_t *certs = NULL;
  unsigned int n_certs = 0;
  gnutls_x509_privkey_t pkey = NULL;
  gnutls_certificate_credentials_t cred = NULL;
  gnutls_datum_t cert_datum, key_datum;
  time_t expires;
  int rc;

  g_return_val_if_fail(server != NULL && cert_file != NULL && key_file != NULL, FALSE);
  g_return_val_if_fail(server->listeners->len == 0, FALSE);

  if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED,
                "this libmicrohttpd is built without TLS: cannot serve HTTPS");
    return FALSE;
  }
  if (!read_pem(cert_file, "certificate", &cert, error) || !read_pem(key_file, "key", &key, error))
    return FALSE;
  cert_datum.data = (unsigned char *)cert;
  cert_datum.size = (unsigned int)strlen(cert);
  key_datum.data = (unsigned char *)key;
  key_datum.size = (unsigned int)strlen(key);

  /* Each file alone first, so that the message names the wrong one. */
  rc = gnutls_x509_crt_list_import2(&certs, &n_certs, &cert_datum, GNUTLS_X509_FMT_PEM, 0);
  if (rc < 0 || n_certs == 0) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the TLS certificate '%s' holds no certificate: %s", cert_file,
                rc < 0 ? gnutls_strerror(rc) : "none found");
    free_secret(key);
    return FALSE;
  }
  expires = gnutls_x509_crt_get_expiration_time(certs[0]);
  for (unsigned int i = 0; i < n_certs; i++)
    gnutls_x509_crt_deinit(certs[i]);
  gnutls_free(certs);

  gnutls_x509_privkey_init(&pkey);
  rc = gnutls_x509_privkey_import2(pkey, &key_datum, GNUTLS_X509_FMT_PEM, NULL, 0);
  gnutls_x509_privkey_deinit(pkey);
  if (rc < 0) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the TLS key '%s' holds no private key that can be read without a "
                "password: %s",
                key_file, gnutls_strerror(rc));
    free_secret(key);
    return FALSE;
  }

  gnutls_certificate_allocate_credentials(&cred);
  rc = gnutls_certificate_set_x509_key_mem2(cred, &cert_datum, &key_datum, GNUTLS_X509_FMT_PEM,
                                            NULL, 0);
  gnutls_certificate_free_credentials(cred);
  if (rc < 0) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID,
                "the TLS key '%s' does not go with the certificate '%s': %s", key_file, cert_file,
                gnutls_strerror(rc));
    free_secret(key);
    return FALSE;
  }
  g_free(server->tls_cert);
  free_secret(server->tls_key);
  server->tls_cert = g_steal_pointer(&cert);
  server->tls_key = key;
  server->tls_expires = (gint64)expires;
  return TRUE;
}

gint64
pp_http_server_get_tls_expiry(PpHttpServer *server)
{
  g_return_val_if_fail(server != NULL, 0);
  return server->tls_key != NULL ? server->tls_expires : 0;
}

/* Starts MHD for @l, whose listening socket @fd it takes, and accepts. */
static gboolean
listener_start(PpHttpListener *l, int *fd, GError **error)
{
  PpHttpServer *server = l->server;
  const union MHD_DaemonInfo *info;
  /* Suspend and resume: the streams' connections wait, suspended, for
   * bytes to send. */
  unsigned int flags =
      MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  struct MHD_OptionItem tls_options[] = {
    { MHD_OPTION_HTTPS_MEM_CERT, 0, server->tls_cert },
    { MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key },
    { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES },
    { MHD_OPTION_END, 0, NULL },
  };
  struct MHD_OptionItem no_options[] = { { MHD_OPTION_END, 0, NULL } };

  l->listen_fd = g_steal_fd(fd);
  if (l->tls)
    flags |= MHD_USE_TLS;
  l->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_access, l,
      /* First, so that MHD logs nothing to stderr itself. */
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned int)server->limits.idle_timeout_s,
      /* Never reached: we hand it no more than max_connections. */
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)server->limits.max_connections + 1,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY_LIMIT,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, l, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
      MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_ARRAY,
      l->tls ? tls_options : no_options, MHD_OPTION_END);
  if (l->daemon == NULL) {
    g_set_error(error, PP_HTTP_ERROR, PP_HTTP_ERROR_FAILED, "cannot start the HTTP server on '%s'",
                l->name);
    return FALSE;
  }

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
  l->listen_fd = -1;
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
  server_update_accepting(server);
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
  l->listen_fd = -1;
  l->tls = server->tls_key != NULL;
  l->name = g_strdup(address);
  if (!listener_start(l, &fd, error))
    return FALSE;

  g_debug("listening on '%s', port %u%s", address, port, l->tls ? ", TLS" : "");
  server->tcp_port = port;
  g_ptr_array_add(server->listeners, g_steal_pointer(&l));
  server_update_accepting(server);
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
  req->test_remote = g_strdup(peer->remote != NULL ? peer->remote : "test");
  req->peer.remote = req->test_remote;
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
