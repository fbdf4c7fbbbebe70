/* pp-probe-push: pcipass-probe --push: the report sent to pcipassd
 * (POST /v1/hosts/NAME/report) with the host's report token, instead of
 * printed. The only part of the probe that talks to the network; it uses
 * libcurl, which no other part of src/host needs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_PROBE_PUSH_ERROR (pp_probe_push_error_quark())
GQuark pp_probe_push_error_quark(void);

typedef enum {
  PP_PROBE_PUSH_ERROR_USAGE,  /* a bad URL or token file: exit 2 */
  PP_PROBE_PUSH_ERROR_FAILED, /* pcipassd not reached, or it refused the report: exit 1 */
} PpProbePushError;

/* The longest token file read: a token is "pph_" and 64 hex digits. */
#define PP_PROBE_PUSH_MAX_TOKEN_FILE 4096

/**
 * pp_probe_push_read_token:
 * @path: the token file (pcipass host token NAME > FILE)
 *
 * The file must be a regular file that others may not read nor write
 * (mode 0600 or 0640): a token readable by every local user is refused
 * (USAGE, saying what to chmod). Its one line is the token.
 *
 * Returns: (transfer full): the token, or %NULL with USAGE.
 */
char *pp_probe_push_read_token(const char *path, GError **error);

/* Checks @url: http:// or https://, nothing else (USAGE). */
gboolean pp_probe_push_check_url(const char *url, GError **error);

/**
 * pp_probe_push_send:
 * @url: pcipassd's /v1/hosts/NAME/report
 * @token: the host's report token
 * @ca_file: (nullable): the CA that signed pcipassd's certificate (https)
 * @report: the probe's output
 * @ret_summary: (transfer full) (optional): one line saying what pcipassd
 *   did ("unchanged", or "changed: 12 devices (2 new, 1 removed)")
 *
 * Returns: FALSE with FAILED naming @url and what went wrong: curl's
 *   words, or pcipassd's status and message.
 */
gboolean pp_probe_push_send(const char *url, const char *token, const char *ca_file,
                            const char *report, gsize len, char **ret_summary, GError **error);

G_END_DECLS
