/* pp-client: the CLI's way to pcipassd's HTTP+JSON API (pp-api.h), with
 * libcurl.
 *
 * The daemon is reached on its Unix socket (authenticated by the caller's
 * Unix user) or, with a base URL, over TCP with "Authorization: Bearer
 * TOKEN". Where (first that is set):
 *   socket: the @socket_path given, else a URL (below), else
 *           $PCIPASS_SOCKET, else PP_CLIENT_DEFAULT_SOCKET;
 *   URL:    the @url given, else $PCIPASS_URL (when no @socket_path);
 *   token:  the @token_file given, else $PCIPASS_TOKEN, else the file
 *           $XDG_CONFIG_HOME/pcipass/token (~/.config/pcipass/token);
 *   CA:     for an https URL, the @ca_file given, else $PCIPASS_CA_FILE,
 *           else the system's store: the server's certificate must be
 *           signed by it and name the URL's host, or nothing is sent.
 * A token file must be a regular file that neither group nor others may
 * read or write (chmod 600). The token never appears in a message.
 *
 * Answers are bounded (PP_CLIENT_MAX_ANSWER); every error is a GError of
 * PP_CLIENT_ERROR with a message ready for the user, and
 * pp_client_error_exit_code() says the exit status it means.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

#define PP_CLIENT_DEFAULT_SOCKET "/run/pcipass/pcipassd.sock"

/* The largest answer read; more is an error. */
#define PP_CLIENT_MAX_ANSWER (64 * 1024 * 1024)

/* The largest token file read. */
#define PP_CLIENT_MAX_TOKEN 4096

#define PP_CLIENT_ERROR (pp_client_error_quark())
GQuark pp_client_error_quark(void);

typedef enum {
  PP_CLIENT_ERROR_INVALID,      /* --socket with --url; a URL that is not http(s); --ca-file
                                 * without https, or unreadable */
  PP_CLIENT_ERROR_CREDENTIALS,  /* no token; a token file unsafe or unreadable */
  PP_CLIENT_ERROR_UNREACHABLE,  /* no socket, refused, permission denied, DNS, TLS */
  PP_CLIENT_ERROR_PROTOCOL,     /* an answer that is not the API's: not JSON, too large */
  PP_CLIENT_ERROR_UNAUTHORIZED, /* 401 */
  PP_CLIENT_ERROR_FORBIDDEN,    /* 403 */
  PP_CLIENT_ERROR_BAD_REQUEST,  /* 400, 405, 413 and other 4xx */
  PP_CLIENT_ERROR_NOT_FOUND,    /* 404 */
  PP_CLIENT_ERROR_CONFLICT,     /* 409 */
  PP_CLIENT_ERROR_SERVER,       /* 5xx */
} PpClientError;

typedef struct _PpClient PpClient;

/**
 * pp_client_new:
 * @socket_path: (nullable): --socket
 * @url: (nullable): --url, the base URL without /v1 ("https://front:8443")
 * @token_file: (nullable): --token-file
 * @ca_file: (nullable): --ca-file, for an https URL
 *
 * Chooses the target and, for a URL, reads the token; connects nowhere.
 *
 * Returns: (transfer full): a client, or NULL with INVALID or CREDENTIALS.
 */
PpClient *pp_client_new(const char *socket_path, const char *url, const char *token_file,
                        const char *ca_file, GError **error);

void pp_client_free(PpClient *client);

/* Returns: (transfer none): the socket path or the base URL, for messages. */
const char *pp_client_get_target(const PpClient *client);

/* Returns: (transfer none) (nullable): the error object of the last
 * pp_client_call() that pcipassd refused ({"code": 400, "message": ...,
 * and the fields some errors carry, as "line" and "column"}), or NULL. */
const json_t *pp_client_get_api_error(const PpClient *client);

/**
 * pp_client_call:
 * @method: "GET", "POST", "DELETE"
 * @path: below the base, "/v1/hosts"; names in it already escaped
 * @body: (nullable): sent as the JSON body; none when NULL (a POST then
 *   sends Content-Length: 0: the action routes take no body)
 * @ret_status: (optional): the HTTP status of a success
 *
 * Calls the API and reads the whole answer.
 *
 * Returns: (transfer full): the answer's JSON object on a 2xx status; NULL
 *   with a GError otherwise: an API error ({"error": {"message"}}) by its
 *   status (401 "pcipassd refused the credentials: MESSAGE (...)", 403
 *   "not allowed: MESSAGE", others MESSAGE), or a transport error naming
 *   the target ("cannot reach pcipassd at 'PATH': no such socket (...)",
 *   "cannot verify pcipassd at 'URL': ... (give the CA ...)").
 */
json_t *pp_client_call(PpClient *client, const char *method, const char *path, json_t *body,
                       guint *ret_status, GError **error);

/* The exit status an error of pp_client_call() or pp_client_new() means:
 * PP_EXIT_USAGE (2) for INVALID, BAD_REQUEST, NOT_FOUND and CONFLICT (the
 * input was wrong); PP_EXIT_RUNTIME (1) for everything else. */
int pp_client_error_exit_code(const GError *error);

/* Returns: (transfer full): @name escaped for a URL path ("a b" -> "a%20b"). */
char *pp_client_escape(const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpClient, pp_client_free)

G_END_DECLS
