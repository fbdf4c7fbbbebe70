/* pp-host-spec: the one set of rules for what a host's settings may be
 * (its ssh user, host and port, libvirt URI and probe command), read by the
 * API (a request), the store (what it keeps) and the probe runner (what it
 * runs), so that no one of them accepts what another refuses.
 *
 * An ssh user and host go into ssh's argv: no option look-alikes, no
 * blanks; a host may be a DNS name or an IP address, IPv6 and zone
 * included. A probe command is an argv, run without a shell. Messages name
 * the setting ("the ssh host '-x' starts with '-'"); callers say whose. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_HOST_SPEC_ERROR (pp_host_spec_error_quark())
GQuark pp_host_spec_error_quark(void);

typedef enum {
  PP_HOST_SPEC_ERROR_INVALID,
} PpHostSpecError;

/* Linux user names are at most 32 bytes (useradd); room for others. */
#define PP_HOST_SSH_USER_MAX 64
/* A DNS name is at most 253 bytes; room for [v6%zone]. */
#define PP_HOST_SSH_HOST_MAX 255
#define PP_HOST_URI_MAX 1024
/* A probe command: words, each at most PP_HOST_PROBE_WORD_MAX bytes. */
#define PP_HOST_PROBE_WORDS_MAX 64
#define PP_HOST_PROBE_WORD_MAX 4096

/* A short single-line value named @what ("the ssh user"): 1 to @max_len
 * bytes of UTF-8 without control characters; with @chars (nullable), only
 * those and not starting with '-' (it goes into ssh's argv). The store
 * reads its other short names (a token's) by it too. */
gboolean pp_host_spec_check_word(const char *what, const char *value, gsize max_len,
                                 const char *chars, GError **error);

gboolean pp_host_spec_check_ssh_user(const char *user, GError **error);
gboolean pp_host_spec_check_ssh_host(const char *host, GError **error);
/* 0 is ssh's default; else 1 to 65535. */
gboolean pp_host_spec_check_ssh_port(int port, GError **error);
/* driver[+transport]://[host]/path[?query]: qemu:///system,
 * qemu+ssh://node1/system, test:///default. */
gboolean pp_host_spec_check_libvirt_uri(const char *uri, GError **error);
/* 1 to PP_HOST_PROBE_WORDS_MAX words of UTF-8 without NUL, the program
 * (the first) not empty. */
gboolean pp_host_spec_check_probe_command(const char *const *argv, GError **error);
/* A libvirt storage pool's name (the context disks' pool, issue 13): 1 to
 * PP_HOST_POOL_MAX bytes of UTF-8 without control characters or '/'. */
#define PP_HOST_POOL_MAX 128
gboolean pp_host_spec_check_pool(const char *pool, GError **error);

G_END_DECLS
