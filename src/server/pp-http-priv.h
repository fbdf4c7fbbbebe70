/* pp-http-priv: what pp-http exports for its tests and fuzz targets only
 * (STYLE rule 5): the check of a request's head (tests/fuzz/fuzz-http-head.c),
 * and requests made without a connection, so that a handler (pp_api_handle)
 * can be driven without sockets, as tests/fuzz/fuzz-api.c does. */
#pragma once

#include <glib.h>

#include "pp-http.h"

G_BEGIN_DECLS

/* The longest request line, and the longest head (request line, headers
 * and the empty line) a request may have; the most header lines. */
#define PP_HTTP_REQUEST_LINE_MAX 8192
#define PP_HTTP_HEAD_MAX 16384
#define PP_HTTP_HEADER_LINES_MAX 100

/* What pp_http_head_check() made of the bytes a connection sent so far. */
typedef struct {
  guint status;        /* 0: not whole yet; 200: a good head; else the error to answer */
  const char *message; /* the error's message (static), or NULL */
  gsize head_len;      /* with 200: the head's length, its empty line included */
} PpHttpHeadCheck;

/**
 * pp_http_head_check:
 * @data: what the client sent so far (a request's head, maybe more)
 *
 * Checks a request's head strictly, so that libmicrohttpd, to which a good
 * one goes, finds nothing to refuse in it itself: "METHOD SP /TARGET SP
 * HTTP/1.x", header lines "Name: value" (no folding, no control
 * characters), lines ending in CRLF or LF, a Host for HTTP/1.1, at most
 * one Content-Length and it a number, and no Transfer-Encoding (a body
 * has a Content-Length: 411). Errors are found as early as the bytes show
 * them: 400 bad syntax, 414 a request line over PP_HTTP_REQUEST_LINE_MAX,
 * 431 a head over PP_HTTP_HEAD_MAX or PP_HTTP_HEADER_LINES_MAX lines, 505
 * an HTTP version other than 1.0 and 1.1.
 */
void pp_http_head_check(const char *data, gsize len, PpHttpHeadCheck *ret);

/**
 * pp_http_test_request_new:
 * @path: the raw path, not percent-decoded, without the query
 * @body: (nullable): @len bytes, copied
 * @peer: who asks, copied
 *
 * Returns: (transfer full): a request whose getters answer as for one
 *   that libmicrohttpd read; free it with pp_http_test_request_free().
 */
PpHttpRequest *pp_http_test_request_new(const char *method, const char *path, const char *body,
                                        gsize len, const PpHttpPeer *peer);

/* Sets a header (its name case-insensitive, as libmicrohttpd compares them)
 * or a query argument (decoded), replacing one of that name. */
void pp_http_test_request_set_header(PpHttpRequest *req, const char *name, const char *value);
void pp_http_test_request_set_query(PpHttpRequest *req, const char *name, const char *value);

void pp_http_test_request_free(PpHttpRequest *req);

G_END_DECLS
