#define G_LOG_DOMAIN "pp-probe-push"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "pp-probe-push.h"

/* clang-format off */
G_DEFINE_QUARK(pp-probe-push-error-quark, pp_probe_push_error)
/* clang-format on */

/* How long pcipassd may take: a connection, then the whole request. */
#define CONNECT_TIMEOUT_S 10
#define PUSH_TIMEOUT_S 60
/* pcipassd's answer is a small JSON object. */
#define MAX_ANSWER (64 * 1024)

/* Our own cleanups for curl's types: curl stays out of src/common. */
typedef CURL PpPushCurl;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPushCurl, curl_easy_cleanup)
typedef struct curl_slist PpPushHeaders;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPushHeaders, curl_slist_free_all)
typedef json_t PpPushJson;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpPushJson, json_decref)

static void
close_fd(int *fd)
{
  if (*fd >= 0)
    close(*fd);
}

char *
pp_probe_push_read_token(const char *path, GError **error)
{
  __attribute__((cleanup(close_fd))) int fd = -1;
  char buf[PP_PROBE_PUSH_MAX_TOKEN_FILE + 1];
  struct stat st;
  gsize got = 0;
  char *token;

  g_return_val_if_fail(path != NULL, NULL);

  fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0) {
    int err = errno;

    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE, "token file '%s': %s%s",
                path, g_strerror(err), err == ELOOP ? " (a link: give the file itself)" : "");
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE,
                "token file '%s' is not a regular file", path);
    return NULL;
  }
  /* The token lets whoever holds it write this host's inventory. */
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE,
                "token file '%s' is readable or writable by every user (mode %04o): make it "
                "private first ('chmod 600 %s')",
                path, (guint)(st.st_mode & 07777), path);
    return NULL;
  }
  while (got < sizeof(buf)) {
    ssize_t n = read(fd, buf + got, sizeof(buf) - got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE, "token file '%s': %s",
                  path, g_strerror(errno));
      return NULL;
    }
    if (n == 0)
      break;
    got += (gsize)n;
  }
  if (got > PP_PROBE_PUSH_MAX_TOKEN_FILE) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE,
                "token file '%s' is larger than %d bytes: not a token", path,
                PP_PROBE_PUSH_MAX_TOKEN_FILE);
    return NULL;
  }
  buf[got] = '\0';
  token = g_strstrip(buf);
  /* One printable word: it goes into a header line. */
  if (token[0] == '\0' || strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-.") != strlen(token)) {
    explicit_bzero(buf, sizeof(buf));
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE,
                "token file '%s' does not hold one token on one line (pcipass host token NAME "
                "prints it)",
                path);
    return NULL;
  }
  token = g_strdup(token);
  explicit_bzero(buf, sizeof(buf));
  return token;
}

gboolean
pp_probe_push_check_url(const char *url, GError **error)
{
  if (url == NULL || (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://")) ||
      strpbrk(url, " \t\r\n") != NULL || strlen(url) > 2048) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_USAGE,
                "--push '%s': give pcipassd's report URL, "
                "https://PCIPASSD:PORT/v1/hosts/NAME/report",
                url != NULL ? url : "");
    return FALSE;
  }
  return TRUE;
}

static size_t
on_data(char *data, size_t size, size_t n, void *user_data)
{
  GString *answer = user_data;

  if (answer->len + size * n > MAX_ANSWER)
    return 0; /* curl fails the transfer */
  g_string_append_len(answer, data, (gssize)(size * n));
  return size * n;
}

/* What pcipassd said, from its answer. Returns: (transfer full). */
static char *
answer_summary(const GString *answer)
{
  g_autoptr(PpPushJson) json = json_loadb(answer->str, answer->len, 0, NULL);

  if (json == NULL)
    return g_strdup("done (an answer that is not JSON)");
  if (!json_is_true(json_object_get(json, "changed")))
    return g_strdup("unchanged");
  return g_strdup_printf("changed: %" JSON_INTEGER_FORMAT " devices (%" JSON_INTEGER_FORMAT
                         " new, %" JSON_INTEGER_FORMAT " removed)",
                         json_integer_value(json_object_get(json, "devices")),
                         json_integer_value(json_object_get(json, "added")),
                         json_integer_value(json_object_get(json, "removed")));
}

/* pcipassd's error message, from its answer, or NULL. */
static char *
answer_error(const GString *answer)
{
  g_autoptr(PpPushJson) json = json_loadb(answer->str, answer->len, 0, NULL);
  const char *message =
      json_string_value(json_object_get(json_object_get(json, "error"), "message"));

  return message != NULL ? g_strdup(message) : NULL;
}

gboolean
pp_probe_push_send(const char *url, const char *token, const char *ca_file, const char *report,
                   gsize len, char **ret_summary, GError **error)
{
  g_autoptr(PpPushCurl) curl = NULL;
  g_autoptr(PpPushHeaders) headers = NULL;
  g_autoptr(GString) answer = g_string_new(NULL);
  g_autofree char *authorization = NULL;
  char curl_message[CURL_ERROR_SIZE] = "";
  long status = 0;
  CURLcode rc;

  g_return_val_if_fail(url != NULL && token != NULL && report != NULL, FALSE);

  if (!pp_probe_push_check_url(url, error))
    return FALSE;
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (curl = curl_easy_init()) == NULL) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_FAILED,
                "pushing to '%s': libcurl cannot start", url);
    return FALSE;
  }
  authorization = g_strconcat("Authorization: Bearer ", token, NULL);
  headers = curl_slist_append(headers, authorization);
  headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
  /* No "Expect: 100-continue": pcipassd judges the head anyway. */
  headers = curl_slist_append(headers, "Expect:");
  explicit_bzero(authorization, strlen(authorization));
  if (headers == NULL) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_FAILED,
                "pushing to '%s': out of memory", url);
    return FALSE;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (ca_file != NULL)
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)PUSH_TIMEOUT_S);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "pcipass-probe/" PACKAGE_VERSION);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, report);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_message);
  rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_FAILED, "pushing to '%s': %s", url,
                curl_message[0] != '\0' ? curl_message : curl_easy_strerror(rc));
    return FALSE;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    g_autofree char *message = answer_error(answer);

    g_set_error(error, PP_PROBE_PUSH_ERROR, PP_PROBE_PUSH_ERROR_FAILED,
                "pushing to '%s': pcipassd refused the report (HTTP %ld): %s", url, status,
                message != NULL ? message : "no message");
    return FALSE;
  }
  if (ret_summary != NULL)
    *ret_summary = answer_summary(answer);
  return TRUE;
}
