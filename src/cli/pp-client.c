#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pp-autoptr.h"
#include "pp-client.h"
#include "pp-exit.h"
#include "pp-fd.h"

/* clang-format off */
G_DEFINE_QUARK(pp-client-error-quark, pp_client_error)
/* clang-format on */

/* Seconds to connect, and for a whole call (a probe over ssh runs while
 * the daemon answers `host probe`). */
#define CONNECT_TIMEOUT 10
#define CALL_TIMEOUT 300

struct _PpClient {
  char *socket_path; /* NULL over TCP */
  char *base_url;    /* "http://localhost" on the socket */
  char *token;       /* NULL on the socket */
  char *ca_file;     /* for https: the CA to verify the server with; NULL: the system's */
  gboolean ca_named; /* ca_file came from --ca-file or PCIPASS_CA_FILE, for messages */
  char *target;      /* the socket path or the URL, for messages */
  json_t *api_error; /* the last call's {"code", "message", ...} when pcipassd refused it */
};

/* An environment variable, NULL when unset or empty. */
static const char *
env(const char *name)
{
  const char *value = g_getenv(name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

static void
free_secret(char *secret)
{
  if (secret != NULL) {
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
  }
}

void
pp_client_free(PpClient *client)
{
  if (client == NULL)
    return;
  g_free(client->socket_path);
  g_free(client->base_url);
  free_secret(client->token);
  g_free(client->ca_file);
  g_free(client->target);
  if (client->api_error != NULL)
    json_decref(client->api_error);
  g_free(client);
}

const char *
pp_client_get_target(const PpClient *client)
{
  return client->target;
}

const json_t *
pp_client_get_api_error(const PpClient *client)
{
  return client->api_error;
}

/* A token is visible ASCII: it goes into an HTTP header. */
static gboolean
token_valid(const char *token)
{
  if (token[0] == '\0')
    return FALSE;
  for (const char *p = token; *p != '\0'; p++)
    if (*p < 0x21 || *p > 0x7e)
      return FALSE;
  return TRUE;
}

/* Reads the token in @path, refusing a file that others may read. */
static char *
read_token_file(const char *path, gboolean named, GError **error)
{
  pp_autofd int fd = -1;
  struct stat st;
  char buf[PP_CLIENT_MAX_TOKEN + 1];
  gsize len = 0;
  char *token;

  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 && errno == ENOENT && !named) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "no token to call pcipassd over TCP: set PCIPASS_TOKEN, give --token-file FILE, "
                "or write the token to '%s' (chmod 600)",
                path);
    return NULL;
  }
  if (fd < 0) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "cannot read the token file '%s': %s", path, g_strerror(errno));
    return NULL;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "the token file '%s' is not a regular file", path);
    return NULL;
  }
  if ((st.st_mode & 077) != 0) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "the token file '%s' is open to group or others (mode %04o): "
                "chmod 600 '%s', and make a new token if others could read it",
                path, (guint)(st.st_mode & 07777), path);
    return NULL;
  }
  while (len < sizeof(buf)) {
    ssize_t n = read(fd, buf + len, sizeof(buf) - len);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                  "cannot read the token file '%s': %s", path, g_strerror(errno));
      explicit_bzero(buf, sizeof(buf));
      return NULL;
    }
    if (n == 0)
      break;
    len += (gsize)n;
  }
  if (len > PP_CLIENT_MAX_TOKEN) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "the token file '%s' is larger than %d bytes: it is not a token", path,
                PP_CLIENT_MAX_TOKEN);
    explicit_bzero(buf, sizeof(buf));
    return NULL;
  }
  token = g_strstrip(g_strndup(buf, len));
  explicit_bzero(buf, sizeof(buf));
  if (!token_valid(token)) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                "the token file '%s' holds no token (one line of visible characters)", path);
    free_secret(token);
    return NULL;
  }
  return token;
}

static char *
find_token(const char *token_file, GError **error)
{
  const char *from_env = env("PCIPASS_TOKEN");
  g_autofree char *path = NULL;

  if (token_file != NULL)
    return read_token_file(token_file, TRUE, error);
  if (from_env != NULL) {
    g_autofree char *token = g_strstrip(g_strdup(from_env));

    if (!token_valid(token)) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CREDENTIALS,
                  "PCIPASS_TOKEN holds no token (one line of visible characters)");
      return NULL;
    }
    return g_steal_pointer(&token);
  }
  path = g_build_filename(g_get_user_config_dir(), "pcipass", "token", NULL);
  return read_token_file(path, FALSE, error);
}

/* The CA file of an https URL: @ca_file, else $PCIPASS_CA_FILE (NULL:
 * the system's store). It must be a readable regular file. */
static gboolean
find_ca_file(PpClient *client, const char *ca_file, GError **error)
{
  const char *from = ca_file != NULL ? "--ca-file" : "PCIPASS_CA_FILE";
  pp_autofd int fd = -1;
  struct stat st;

  if (ca_file == NULL)
    ca_file = env("PCIPASS_CA_FILE");
  if (ca_file == NULL)
    return TRUE;
  fd = open(ca_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                "cannot read the CA file '%s' (%s): %s", ca_file, from, g_strerror(errno));
    return FALSE;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                "the CA file '%s' (%s) is not a regular file", ca_file, from);
    return FALSE;
  }
  client->ca_file = g_strdup(ca_file);
  client->ca_named = TRUE;
  return TRUE;
}

PpClient *
pp_client_new(const char *socket_path, const char *url, const char *token_file, const char *ca_file,
              GError **error)
{
  g_autoptr(PpClient) client = g_new0(PpClient, 1);

  if (socket_path != NULL && url != NULL) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                "--socket and --url exclude each other");
    return NULL;
  }
  if (socket_path == NULL && url == NULL)
    url = env("PCIPASS_URL");

  if (url == NULL) {
    if (token_file != NULL) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                  "--token-file is for --url: on the socket pcipassd knows you by your Unix user");
      return NULL;
    }
    if (ca_file != NULL) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                  "--ca-file is for an https:// --url: the Unix socket needs no TLS");
      return NULL;
    }
    if (socket_path == NULL)
      socket_path = env("PCIPASS_SOCKET");
    if (socket_path == NULL)
      socket_path = PP_CLIENT_DEFAULT_SOCKET;
    if (socket_path[0] == '\0') {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID, "the socket path is empty");
      return NULL;
    }
    client->socket_path = g_strdup(socket_path);
    client->base_url = g_strdup("http://localhost");
    client->target = g_strdup(socket_path);
    return g_steal_pointer(&client);
  }

  if ((!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://")) ||
      strchr(url, '?') != NULL || strchr(url, '#') != NULL) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                "'%s' is not a base URL: give http://HOST[:PORT] or https://HOST[:PORT]", url);
    return NULL;
  }
  for (const char *p = url; *p != '\0'; p++) {
    if ((guchar)*p <= 0x20 || *p == 0x7f) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                  "the URL has a space or a control character");
      return NULL;
    }
  }
  if (g_str_has_prefix(url, "https://")) {
    if (!find_ca_file(client, ca_file, error))
      return NULL;
  } else if (ca_file != NULL) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                "--ca-file is for an https:// URL: '%s' is plain HTTP", url);
    return NULL;
  }
  client->base_url = g_strdup(url);
  while (g_str_has_suffix(client->base_url, "/"))
    client->base_url[strlen(client->base_url) - 1] = '\0';
  client->target = g_strdup(client->base_url);
  client->token = find_token(token_file, error);
  if (client->token == NULL)
    return NULL;
  return g_steal_pointer(&client);
}

char *
pp_client_escape(const char *name)
{
  return g_uri_escape_string(name, NULL, FALSE);
}

/* The answer as it comes. */
typedef struct {
  GByteArray *body;
  gboolean too_large;
} Answer;

static size_t
on_data(char *data, size_t size, size_t nmemb, void *user_data)
{
  Answer *answer = user_data;
  gsize n = size * nmemb;

  if (n > PP_CLIENT_MAX_ANSWER - answer->body->len) {
    answer->too_large = TRUE;
    return 0; /* curl stops with CURLE_WRITE_ERROR */
  }
  g_byte_array_append(answer->body, (const guint8 *)data, (guint)n);
  return n;
}

static void
free_headers(struct curl_slist *headers)
{
  for (struct curl_slist *h = headers; h != NULL; h = h->next)
    explicit_bzero(h->data, strlen(h->data));
  curl_slist_free_all(headers);
}

/* Says why the connection failed, as the user can act on it. */
static void
set_transport_error(PpClient *client, CURLcode rc, long os_errno, const char *curl_message,
                    GError **error)
{
  int err = (int)os_errno;
  struct stat st;

  if (client->socket_path == NULL) {
    gboolean https = g_str_has_prefix(client->base_url, "https://");
    const char *what = curl_message[0] != '\0' ? curl_message : curl_easy_strerror(rc);

    if (rc == CURLE_PEER_FAILED_VERIFICATION && client->ca_named)
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot verify pcipassd at '%s': %s (is '%s' the CA that signed its "
                  "certificate, and does the certificate name the URL's host?); nothing was sent",
                  client->target, what, client->ca_file);
    else if (rc == CURLE_PEER_FAILED_VERIFICATION)
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot verify pcipassd at '%s': %s (the system's store does not vouch for its "
                  "certificate: give the CA that signed it with --ca-file FILE or "
                  "PCIPASS_CA_FILE); nothing was sent",
                  client->target, what);
    else if (rc == CURLE_SSL_CACERT_BADFILE)
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                  "cannot use the CA file '%s': %s (a PEM file of certificates)",
                  client->ca_file != NULL ? client->ca_file : "(the system's)", what);
    else if (https && rc == CURLE_SSL_CONNECT_ERROR)
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot reach pcipassd at '%s': the TLS handshake failed: %s (does it serve "
                  "TLS? a pcipassd without --tls-cert speaks plain http://)",
                  client->target, what);
    else if (!https && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
                        rc == CURLE_WEIRD_SERVER_REPLY || rc == CURLE_UNSUPPORTED_PROTOCOL))
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot reach pcipassd at '%s': %s (does it serve TLS? then the URL is "
                  "https://)",
                  client->target, what);
    else if (rc == CURLE_COULDNT_CONNECT && err == ECONNREFUSED)
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot reach pcipassd at '%s': connection refused (is pcipassd listening "
                  "there?)",
                  client->target);
    else
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                  "cannot reach pcipassd at '%s': %s", client->target,
                  curl_message[0] != '\0' ? curl_message : curl_easy_strerror(rc));
    return;
  }

  /* curl does not always keep the errno of a Unix connect(): ask the
   * file system then. */
  if (rc == CURLE_COULDNT_CONNECT && err == 0 && stat(client->socket_path, &st) < 0)
    err = errno;
  if (rc == CURLE_COULDNT_CONNECT && err == 0)
    err = ECONNREFUSED;
  if (rc == CURLE_COULDNT_CONNECT && (err == ENOENT || err == ENOTDIR))
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                "cannot reach pcipassd at '%s': no such socket (is pcipassd running? see "
                "systemctl status pcipassd)",
                client->target);
  else if (rc == CURLE_COULDNT_CONNECT && err == ECONNREFUSED)
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                "cannot reach pcipassd at '%s': connection refused (pcipassd is not running)",
                client->target);
  else if (rc == CURLE_COULDNT_CONNECT && (err == EACCES || err == EPERM))
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                "cannot reach pcipassd at '%s': permission denied (you may not open the "
                "socket; ask the administrator)",
                client->target);
  else if (rc == CURLE_COULDNT_CONNECT)
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                "cannot reach pcipassd at '%s': %s", client->target, g_strerror(err));
  else
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE,
                "cannot reach pcipassd at '%s': %s", client->target,
                curl_message[0] != '\0' ? curl_message : curl_easy_strerror(rc));
}

/* The message of an API error, made safe for a terminal; NULL when
 * @json is not one. */
static char *
api_message(const json_t *json)
{
  const char *message =
      json_string_value(json_object_get(json_object_get(json, "error"), "message"));
  GString *out;

  if (message == NULL || message[0] == '\0')
    return NULL;
  out = g_string_new(NULL);
  for (const char *p = message; *p != '\0'; p++)
    g_string_append_c(out, (guchar)*p < 0x20 || *p == 0x7f ? ' ' : *p);
  return g_string_free(out, FALSE);
}

static void
set_api_error(PpClient *client, long status, const json_t *json, GError **error)
{
  g_autofree char *message = api_message(json);

  if (message == NULL)
    message = g_strdup_printf("pcipassd at '%s' answered HTTP %ld without a message",
                              client->target, status);
  if (status == 401)
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNAUTHORIZED,
                "pcipassd refused the credentials: %s (%s)", message,
                client->socket_path != NULL
                    ? "on the socket pcipassd knows you by your Unix user; ask the administrator"
                    : "set PCIPASS_TOKEN or --token-file");
  else if (status == 403)
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_FORBIDDEN, "not allowed: %s", message);
  else if (status == 404)
    g_set_error_literal(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_NOT_FOUND, message);
  else if (status == 409)
    g_set_error_literal(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_CONFLICT, message);
  else if (status >= 400 && status < 500)
    g_set_error_literal(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_BAD_REQUEST, message);
  else if (status >= 500)
    g_set_error_literal(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_SERVER, message);
  else
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_PROTOCOL,
                "pcipassd at '%s' answered HTTP %ld: that is not pcipass's API (a wrong URL?)",
                client->target, status);
}

json_t *
pp_client_call(PpClient *client, const char *method, const char *path, json_t *body,
               guint *ret_status, GError **error)
{
  static gsize curl_ready = 0;
  g_autoptr(CURL) curl = NULL;
  g_autoptr(GByteArray) bytes = g_byte_array_new();
  g_autofree char *url = NULL;
  g_autofree char *payload = NULL;
  g_autoptr(json_t) json = NULL;
  struct curl_slist *headers = NULL;
  char curl_message[CURL_ERROR_SIZE] = "";
  Answer answer = { bytes, FALSE };
  json_error_t jerr;
  CURLcode rc;
  long status = 0;
  long os_errno = 0;

  g_return_val_if_fail(client != NULL && method != NULL && path != NULL, NULL);

  g_clear_pointer(&client->api_error, json_decref);
  if (g_once_init_enter(&curl_ready)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_once_init_leave(&curl_ready, 1);
  }
  curl = curl_easy_init();
  if (curl == NULL) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_UNREACHABLE, "cannot start libcurl");
    return NULL;
  }
  url = g_strconcat(client->base_url, path, NULL);
  if (body != NULL) {
    payload = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (payload == NULL) {
      g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_INVALID,
                  "the request could not be written as JSON");
      return NULL;
    }
  }

  headers = curl_slist_append(headers, "Accept: application/json");
  /* "Content-Type:" drops the form type curl would give an empty POST. */
  headers = curl_slist_append(headers,
                              payload != NULL ? "Content-Type: application/json" : "Content-Type:");
  if (client->token != NULL) {
    g_autofree char *auth = g_strconcat("Authorization: Bearer ", client->token, NULL);

    headers = curl_slist_append(headers, auth);
    explicit_bzero(auth, strlen(auth));
  }

  curl_easy_setopt(curl, CURLOPT_URL, url);
  if (client->socket_path != NULL)
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, client->socket_path);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  /* https: the server proves itself (CA and host name) before the token
   * goes; TLS 1.2 at least, as pcipassd serves. */
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (client->ca_file != NULL)
    curl_easy_setopt(curl, CURLOPT_CAINFO, client->ca_file);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)CALL_TIMEOUT);
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PP_CLIENT_MAX_ANSWER);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "pcipass/" PACKAGE_VERSION);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp(method, "GET") == 0)
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  if (payload != NULL || strcmp(method, "POST") == 0) {
    /* A POST without a body says so: Content-Length: 0. */
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload != NULL ? payload : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)(payload != NULL ? strlen(payload) : 0));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_message);

  rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  /* The handle refers to the headers: it goes first. */
  g_clear_pointer(&curl, curl_easy_cleanup);
  free_headers(headers);

  if (answer.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_PROTOCOL,
                "the answer of pcipassd at '%s' is larger than %d bytes", client->target,
                PP_CLIENT_MAX_ANSWER);
    return NULL;
  }
  if (rc != CURLE_OK) {
    set_transport_error(client, rc, os_errno, curl_message, error);
    return NULL;
  }

  json = json_loadb((const char *)bytes->data, bytes->len, JSON_REJECT_DUPLICATES, &jerr);
  if (status < 200 || status >= 300) {
    json_t *api_error = json_object_get(json, "error");

    if (json_is_object(api_error))
      client->api_error = json_incref(api_error);
    set_api_error(client, status, json, error);
    return NULL;
  }
  if (!json_is_object(json)) {
    g_set_error(error, PP_CLIENT_ERROR, PP_CLIENT_ERROR_PROTOCOL,
                "pcipassd at '%s' answered HTTP %ld with something that is not a JSON object%s%s",
                client->target, status, json == NULL ? ": " : "", json == NULL ? jerr.text : "");
    return NULL;
  }
  if (ret_status != NULL)
    *ret_status = (guint)status;
  return g_steal_pointer(&json);
}

int
pp_client_error_exit_code(const GError *error)
{
  if (error->domain == PP_CLIENT_ERROR &&
      (error->code == PP_CLIENT_ERROR_INVALID || error->code == PP_CLIENT_ERROR_BAD_REQUEST ||
       error->code == PP_CLIENT_ERROR_NOT_FOUND || error->code == PP_CLIENT_ERROR_CONFLICT))
    return PP_EXIT_USAGE;
  return PP_EXIT_RUNTIME;
}
