/* pp-http-priv: what only tests use (STYLE rule 5): a request made without
 * a connection, so that a handler (pp_api_handle) can be driven without
 * sockets, as tests/fuzz/fuzz-api.c does. Never called by pcipassd. */
#pragma once

#include <glib.h>

#include "pp-http.h"

G_BEGIN_DECLS

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
