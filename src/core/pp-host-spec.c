#define G_LOG_DOMAIN "pp-host-spec"

#include "config.h"

#include <string.h>

#include "pp-host-spec.h"

/* clang-format off */
G_DEFINE_QUARK(pp-host-spec-error-quark, pp_host_spec_error)
/* clang-format on */

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define SSH_USER_CHARS ALNUM "._-"
#define SSH_HOST_CHARS ALNUM "._-:%[]"
#define URI_SCHEME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789+"

gboolean
pp_host_spec_check_word(const char *what, const char *value, gsize max_len, const char *chars,
                        GError **error)
{
  gsize len = strlen(value);

  if (len == 0 || len > max_len) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "%s must have 1 to %" G_GSIZE_FORMAT " bytes; it has %" G_GSIZE_FORMAT, what,
                max_len, len);
    return FALSE;
  }
  if (!g_utf8_validate(value, -1, NULL)) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID, "%s is not UTF-8", what);
    return FALSE;
  }
  if (chars != NULL && value[0] == '-') {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID, "%s '%s' starts with '-'",
                what, value);
    return FALSE;
  }
  for (const char *p = value; *p != '\0'; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f || (chars != NULL && strchr(chars, *p) == NULL)) {
      g_autofree char *escaped = g_strescape(value, NULL);

      g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                  "%s '%s' has a character it cannot have (at byte %" G_GSIZE_FORMAT ")", what,
                  escaped, (gsize)(p - value) + 1);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
pp_host_spec_check_ssh_user(const char *user, GError **error)
{
  g_return_val_if_fail(user != NULL, FALSE);
  return pp_host_spec_check_word("the ssh user", user, PP_HOST_SSH_USER_MAX, SSH_USER_CHARS, error);
}

gboolean
pp_host_spec_check_ssh_host(const char *host, GError **error)
{
  g_return_val_if_fail(host != NULL, FALSE);
  return pp_host_spec_check_word("the ssh host", host, PP_HOST_SSH_HOST_MAX, SSH_HOST_CHARS, error);
}

gboolean
pp_host_spec_check_ssh_port(int port, GError **error)
{
  if (port < 0 || port > 65535) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "the ssh port %d is not 1 to 65535 (0: ssh's default)", port);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_host_spec_check_libvirt_uri(const char *uri, GError **error)
{
  const char *sep;
  gsize scheme;

  g_return_val_if_fail(uri != NULL, FALSE);

  if (!pp_host_spec_check_word("the libvirt URI", uri, PP_HOST_URI_MAX, NULL, error))
    return FALSE;
  sep = strstr(uri, "://");
  scheme = sep != NULL ? (gsize)(sep - uri) : 0;
  if (scheme == 0 || strspn(uri, URI_SCHEME_CHARS) != scheme || strpbrk(uri, " \"'<>\\") != NULL) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "the libvirt URI '%s' is not a libvirt URI (qemu:///system, "
                "qemu+ssh://node1/system, test:///default)",
                uri);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_host_spec_check_probe_command(const char *const *argv, GError **error)
{
  guint n;

  g_return_val_if_fail(argv != NULL, FALSE);

  n = g_strv_length((GStrv)argv);
  if (n == 0 || n > PP_HOST_PROBE_WORDS_MAX) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "a probe command has 1 to %d words; this one has %u", PP_HOST_PROBE_WORDS_MAX, n);
    return FALSE;
  }
  if (argv[0][0] == '\0') {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "the probe command's program is an empty word");
    return FALSE;
  }
  for (guint i = 0; i < n; i++) {
    if (strlen(argv[i]) > PP_HOST_PROBE_WORD_MAX || !g_utf8_validate(argv[i], -1, NULL)) {
      g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                  "word %u of the probe command is longer than %d bytes or not UTF-8", i + 1,
                  PP_HOST_PROBE_WORD_MAX);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
pp_host_spec_check_pool(const char *pool, GError **error)
{
  if (!pp_host_spec_check_word("the context pool", pool, PP_HOST_POOL_MAX, NULL, error))
    return FALSE;
  /* libvirt refuses a '/' in a pool's name (virXMLCheckIllegalChars). */
  if (strchr(pool, '/') != NULL) {
    g_set_error(error, PP_HOST_SPEC_ERROR, PP_HOST_SPEC_ERROR_INVALID,
                "the context pool '%s' has a '/', which a libvirt pool's name cannot have", pool);
    return FALSE;
  }
  return TRUE;
}
