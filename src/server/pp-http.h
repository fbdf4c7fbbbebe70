/* pp-http: pcipassd's HTTP server: libmicrohttpd driven from the GLib main
 * loop (no threads of its own: its epoll fd on g_unix_fd_add, its timeout
 * on a GLib timer), listening on a Unix socket and optionally on TCP, in
 * plain HTTP or TLS.
 *
 * The listening sockets are ours, not libmicrohttpd's: we accept, admit
 * (limits per listener and per peer), and hand a connection over with
 * MHD_add_connection() once its request's head has come in whole and been
 * checked (plain HTTP; over TLS at once). So a listener never depends on
 * libmicrohttpd to start accepting again, a slow client never reaches it,
 * and every answer, errors included, is the JSON error of pp-api.h and is
 * counted (but over TLS, where libmicrohttpd reads heads unchecked, the
 * short HTML answer it gives a malformed one, counted all the same). Each
 * connection carries one request ("Connection: close").
 *
 * A request's head is judged first (the admit hook: credentials, route,
 * body limit), so that a refused request is answered before any of its
 * body is read; its body is then read up to the limit admit gave (over
 * it: 413), and the complete request goes to one handler, on the main
 * loop, which answers at once.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

#define PP_HTTP_ERROR (pp_http_error_quark())
GQuark pp_http_error_quark(void);

typedef enum {
  PP_HTTP_ERROR_INVALID, /* a bad listen address; a bad certificate or key */
  PP_HTTP_ERROR_IN_USE,  /* another daemon answers on the socket; the port is taken */
  PP_HTTP_ERROR_FAILED,  /* socket, bind, listen, or libmicrohttpd failed; a file unreadable */
} PpHttpError;

/* How much a client may hold. Each has a default (pp_http_limits_init). */
typedef struct {
  guint max_connections;  /* open at once, over every listener; more wait in the backlog */
  guint unix_reserved;    /* of those, kept for the Unix socket: TCP holds at most
                           * max_connections - unix_reserved */
  guint max_per_peer;     /* open at once per TCP address, per Unix uid (but the exempt
                           * uids'); more are answered 503 and closed */
  guint header_timeout_s; /* from accept to a request's whole head; past it, 408 and closed */
  guint idle_timeout_s;   /* silence in the middle of a body or an answer: closed */
} PpHttpLimits;

#define PP_HTTP_DEFAULT_MAX_CONNECTIONS 256
#define PP_HTTP_DEFAULT_UNIX_RESERVED 64
#define PP_HTTP_DEFAULT_MAX_PER_PEER 32
#define PP_HTTP_DEFAULT_HEADER_TIMEOUT_S 10
#define PP_HTTP_DEFAULT_IDLE_TIMEOUT_S 30

/* Sets @ret to the defaults above. */
void pp_http_limits_init(PpHttpLimits *ret);

/* Who is asking. */
typedef struct {
  gboolean is_unix; /* on the Unix socket: uid, gid and pid are the peer's */
  uid_t uid;
  gid_t gid;
  pid_t pid;
  const char *remote; /* "unix" or the TCP peer, "127.0.0.1:40112" */
  gboolean is_tls;    /* on a TLS listener */
} PpHttpPeer;

typedef struct _PpHttpRequest PpHttpRequest;

const char *pp_http_request_get_method(const PpHttpRequest *req); /* "GET" */
/* The path without the query string, percent-decoding NOT applied
 * ("/v1/hosts/node1"). */
const char *pp_http_request_get_path(const PpHttpRequest *req);
/* A query argument, decoded, or NULL. */
const char *pp_http_request_get_query(const PpHttpRequest *req, const char *name);
/* The most query arguments pp_http_request_list_query() names. */
#define PP_HTTP_QUERY_MAX 32
/* The names of the query's arguments, decoded, in order, a name given twice
 * named twice; at most PP_HTTP_QUERY_MAX + 1 (one more tells a request with
 * too many). Returns: (transfer full): NULL-terminated. */
char **pp_http_request_list_query(const PpHttpRequest *req);
/* A request header (case-insensitive name), or NULL. */
const char *pp_http_request_get_header(const PpHttpRequest *req, const char *name);
/* The body, NUL-terminated (the NUL not counted); "" with 0 when none
 * (and always "" in the admit hook: nothing of it is read yet). */
const char *pp_http_request_get_body(const PpHttpRequest *req, gsize *ret_len);
const PpHttpPeer *pp_http_request_get_peer(const PpHttpRequest *req);
/* What the admit hook leaves for the handler: @data is freed with
 * @destroy (nullable) with the request. */
void pp_http_request_set_data(PpHttpRequest *req, gpointer data, GDestroyNotify destroy);
/* The Set-Cookie header the answer carries (@value copied; NULL: none). */
void pp_http_request_set_cookie(const PpHttpRequest *req, const char *value);
/* Adds a header to the answer (both copied), after the server's own. */
void pp_http_request_add_header(const PpHttpRequest *req, const char *name, const char *value);
/* Returns: (transfer none) (nullable): what pp_http_request_set_cookie() set. */
const char *pp_http_request_get_set_cookie(const PpHttpRequest *req);
/* Returns: (transfer none) (nullable): the data set, or NULL. */
gpointer pp_http_request_get_data(const PpHttpRequest *req);

/**
 * PpHttpAdmit:
 * @req: the request, its head only (no body yet); the hook may attach
 *   data for the handler (pp_http_request_set_data)
 * @ret_max_body: the most body bytes this request may have (0: none); at
 *   most the server's max_body. A Content-Length above it is answered 413
 *   before anything of the body is read.
 * @ret_status, @ret_content_type, @ret_body: the answer when refused
 *
 * Called on the main loop once a request's head is in, before any of its
 * body is read.
 *
 * Returns: TRUE to read the body and call the handler; FALSE to answer
 *   with @ret_status and @ret_body at once.
 */
typedef gboolean (*PpHttpAdmit)(PpHttpRequest *req, gsize *ret_max_body, guint *ret_status,
                                const char **ret_content_type, GBytes **ret_body,
                                gpointer user_data);

/**
 * PpHttpHandler:
 * @ret_status: the HTTP status to answer
 * @ret_content_type: (transfer none): a static string ("application/json")
 * @ret_body: (transfer full): the body, or NULL for none
 *
 * Called on the main loop once per complete request.
 */
typedef void (*PpHttpHandler)(const PpHttpRequest *req, guint *ret_status,
                              const char **ret_content_type, GBytes **ret_body, gpointer user_data);

/* An answer that goes on after its handler returns: server-sent events.
 * The handler makes it with pp_http_request_stream() and answers status
 * 200 with its content type (the body is ignored); bytes given to
 * pp_http_stream_send() then go out as they come, chunked. */
typedef struct _PpHttpStream PpHttpStream;

/* The most bytes a stream holds that its client has not taken yet: past
 * it, pp_http_stream_send() refuses (a client that does not read). */
#define PP_HTTP_STREAM_MAX_QUEUED (256 * 1024)

/* The stream is over (its client went, or the server stops): @stream is
 * freed after this returns. Not called for a stream its owner ended. */
typedef void (*PpHttpStreamClosed)(PpHttpStream *stream, gpointer data);

/* In a handler: the answer is a stream. @closed (nullable) tells its
 * owner when it is over. Returns: (transfer none): the stream, valid until
 * @closed or pp_http_stream_end(). */
PpHttpStream *pp_http_request_stream(const PpHttpRequest *req, PpHttpStreamClosed closed,
                                     gpointer data);
/* Queues @len bytes; FALSE (nothing queued) when the stream is ending or
 * would hold more than PP_HTTP_STREAM_MAX_QUEUED: its owner should end it. */
gboolean pp_http_stream_send(PpHttpStream *stream, const char *text, gsize len);
/* The bytes queued that the client has not taken yet. */
gsize pp_http_stream_get_queued(const PpHttpStream *stream);
/* Ends the stream after what is queued; its owner forgets it (@closed is
 * not called). */
void pp_http_stream_end(PpHttpStream *stream);

typedef struct _PpHttpServer PpHttpServer;

/* Returns: (transfer full): a server that listens nowhere yet, with the
 * default limits, admitting every request (up to @max_body). */
PpHttpServer *pp_http_server_new(PpHttpHandler handler, gpointer user_data, gsize max_body);

/* The admit hook (nullable: every request is read whole); it gets the
 * handler's user_data. */
void pp_http_server_set_admit(PpHttpServer *server, PpHttpAdmit admit);

/* Before the first listen: the limits, checked (max_connections 1 or
 * more, unix_reserved below it, max_per_peer and the timeouts 1 or more). */
gboolean pp_http_server_set_limits(PpHttpServer *server, const PpHttpLimits *limits,
                                   GError **error);

/* @uid is not limited per peer on the Unix socket (pcipassd: root and its
 * own user, the admin, whom a local flood must not lock out). */
void pp_http_server_exempt_uid(PpHttpServer *server, uid_t uid);

/**
 * pp_http_server_set_tls:
 * @cert_file: the certificate (PEM; the chain, the server's first)
 * @key_file: its private key (PEM, not encrypted)
 *
 * Reads and checks both now (each a PEM file that parses, the key the
 * certificate's); the TCP listeners made after serve TLS with them.
 *
 * Returns: FALSE with FAILED (a file unreadable) or INVALID (not PEM, not
 *   a certificate or a key, or a key that is not the certificate's), the
 *   message naming the file.
 */
gboolean pp_http_server_set_tls(PpHttpServer *server, const char *cert_file, const char *key_file,
                                GError **error);

/* When the TLS certificate expires (unix seconds; an expired one is
 * loaded all the same, the caller warns), or 0 without TLS. */
gint64 pp_http_server_get_tls_expiry(PpHttpServer *server);

/**
 * pp_http_server_listen_unix:
 * @path: the socket; its folder is created (0755) when missing
 * @mode: the socket file's mode (0666: every local user may connect; the
 *   API authenticates by credentials)
 *
 * A socket file left by a daemon that died is replaced; one on which
 * another daemon answers is IN_USE ("another pcipassd answers on 'PATH'").
 * The file is removed when the server is freed.
 */
gboolean pp_http_server_listen_unix(PpHttpServer *server, const char *path, guint mode,
                                    GError **error);

/**
 * pp_http_server_listen_tcp:
 * @address: "HOST:PORT", "[IPV6]:PORT"; HOST a numeric address or
 *   "localhost"; PORT 0 picks a free one (see get_tcp_port)
 */
gboolean pp_http_server_listen_tcp(PpHttpServer *server, const char *address, GError **error);

/* The TCP port listened on, or 0. */
guint16 pp_http_server_get_tcp_port(PpHttpServer *server);

/* Requests answered, by status class (1xx..5xx: index 1..5), for /metrics:
 * every answer, libmicrohttpd's own and those to connections refused
 * included. */
void pp_http_server_get_counts(PpHttpServer *server, guint64 ret_by_class[6]);

/* What the limits did, for /metrics and the tests. */
typedef struct {
  guint open;              /* connections open now (lingering ones included) */
  guint64 accepted;        /* connections accepted */
  guint64 refused_peer;    /* answered 503 and closed: their peer held max_per_peer */
  guint64 refused_full;    /* answered 503 and closed: past max_connections, on the Unix
                            * socket's headroom for the exempt uids, by another */
  guint64 header_timeouts; /* closed (408 in plain HTTP): no whole head within
                            * header_timeout_s */
} PpHttpStats;

void pp_http_server_get_stats(PpHttpServer *server, PpHttpStats *ret);

/* Stops listening, closes every connection, removes the socket file. */
void pp_http_server_free(PpHttpServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpServer, pp_http_server_free)

G_END_DECLS
