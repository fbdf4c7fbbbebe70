/* pp-http: pcipassd's HTTP server: libmicrohttpd driven from the GLib main
 * loop (no threads of its own: its epoll fd on g_unix_fd_add, its timeout
 * on a GLib timer), listening on a Unix socket and optionally on TCP.
 *
 * It reads whole requests, with a bound on the body (over it: 413 with
 * the JSON error of pp-api.h, the handler is not called), asks the Unix
 * peer's credentials (SO_PEERCRED) so that the API can authenticate, and
 * hands each complete request to one handler, on the main loop, which
 * answers at once.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

#define PP_HTTP_ERROR (pp_http_error_quark())
GQuark pp_http_error_quark(void);

typedef enum {
  PP_HTTP_ERROR_INVALID, /* a bad listen address */
  PP_HTTP_ERROR_IN_USE,  /* another daemon answers on the socket; the port is taken */
  PP_HTTP_ERROR_FAILED,  /* socket, bind, listen, or libmicrohttpd failed */
} PpHttpError;

/* Who is asking. */
typedef struct {
  gboolean is_unix; /* on the Unix socket: uid, gid and pid are the peer's */
  uid_t uid;
  gid_t gid;
  pid_t pid;
  const char *remote; /* "unix" or the TCP peer, "127.0.0.1:40112" */
} PpHttpPeer;

typedef struct _PpHttpRequest PpHttpRequest;

const char *pp_http_request_get_method(const PpHttpRequest *req); /* "GET" */
/* The path without the query string, percent-decoding NOT applied
 * ("/v1/hosts/node1"). */
const char *pp_http_request_get_path(const PpHttpRequest *req);
/* A query argument, decoded, or NULL. */
const char *pp_http_request_get_query(const PpHttpRequest *req, const char *name);
/* A request header (case-insensitive name), or NULL. */
const char *pp_http_request_get_header(const PpHttpRequest *req, const char *name);
/* The body, NUL-terminated (the NUL not counted); "" with 0 when none. */
const char *pp_http_request_get_body(const PpHttpRequest *req, gsize *ret_len);
const PpHttpPeer *pp_http_request_get_peer(const PpHttpRequest *req);

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

typedef struct _PpHttpServer PpHttpServer;

/* Returns: (transfer full): a server that listens nowhere yet. */
PpHttpServer *pp_http_server_new(PpHttpHandler handler, gpointer user_data, gsize max_body);

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

/* Requests answered, by status class (1xx..5xx: index 1..5), for /metrics. */
void pp_http_server_get_counts(PpHttpServer *server, guint64 ret_by_class[6]);

/* Stops listening, closes every connection, removes the socket file. */
void pp_http_server_free(PpHttpServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpHttpServer, pp_http_server_free)

G_END_DECLS
