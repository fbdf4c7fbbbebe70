/* pp-daemon-config: pcipassd's settings, from the built-in defaults, then
 * the config file, then the command line (STYLE rules 24-26). One table
 * gives every key its type, default and bounds; the file and the options
 * are both read through it, and --print-config prints from it. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_DAEMON_CONFIG_ERROR (pp_daemon_config_error_quark())
GQuark pp_daemon_config_error_quark(void);

typedef enum {
  PP_DAEMON_CONFIG_ERROR_INVALID, /* a bad line, key or value */
} PpDaemonConfigError;

typedef struct {
  char *state_dir;
  char *database; /* "" until resolved: STATE_DIR/pcipass.db */
  char *socket;
  char *listen;   /* "" for none */
  char *tls_cert; /* "" for none: TCP is plain HTTP */
  char *tls_key;
  guint max_connections;
  guint unix_reserved_connections;
  guint max_connections_per_peer;
  guint header_timeout;
  guint idle_timeout;
  guint event_heartbeat; /* seconds between two heartbeats of GET /v1/events */
  guint monitor_interval;
  guint probe_timeout;
  guint probe_parallel;
  char *probe_path;
  guint ssh_connect_timeout;
  guint schedule_interval;
  guint deploy_tries;
  char *domain_type;      /* auto, kvm, qemu (pp_deployer_set_domain_type()) */
  char *placement_policy; /* pack, stripe */
  char *image_dirs;       /* absolute paths, ':'-separated, searched in order; "" for none */
  char *mac_prefix;       /* "02:00": generated MACs' first two bytes */
  char *log_level;        /* error, warning, message, info, debug */
} PpDaemonConfig;

/* Returns: (transfer full): the built-in defaults. */
PpDaemonConfig *pp_daemon_config_new(void);
void pp_daemon_config_free(PpDaemonConfig *config);

/**
 * pp_daemon_config_set:
 * @key: a key of the table ("probe-timeout")
 *
 * Sets one key from its text, checked against the table's type and bounds.
 * Returns: FALSE with INVALID naming the key and the accepted values.
 */
gboolean pp_daemon_config_set(PpDaemonConfig *config, const char *key, const char *value,
                              GError **error);

/**
 * pp_daemon_config_parse:
 * @text: `key = value` lines; `#` comments, blank lines, and an optional
 *   `[pcipassd]` section header
 *
 * Applies every line to @config, or none: on an error @config is left as
 * it was. The error says "line L: ...".
 */
gboolean pp_daemon_config_parse(PpDaemonConfig *config, const char *text, gsize len,
                                GError **error);

/* Resolves what depends on other keys (the database below the state dir). */
void pp_daemon_config_finish(PpDaemonConfig *config);

/* Returns: (transfer full): the image folders of image-dirs, in order
 * (empty for none). */
GStrv pp_daemon_config_get_image_dirs(const PpDaemonConfig *config);
/**
 * pp_daemon_config_check:
 *
 * Checks what binds keys together: tls-cert and tls-key go together and
 * with listen; unix-reserved-connections is below max-connections.
 *
 * Returns: FALSE with INVALID naming the keys.
 */
gboolean pp_daemon_config_check(const PpDaemonConfig *config, GError **error);

/* Returns: (transfer full): every key as `key = value` lines, the format
 * that pp_daemon_config_parse reads. */
char *pp_daemon_config_to_string(const PpDaemonConfig *config);

/* The keys, for --help and the options: NULL-terminated, (transfer none). */
const char *const *pp_daemon_config_keys(void);
/* The help line of @key, (transfer none). */
const char *pp_daemon_config_key_help(const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDaemonConfig, pp_daemon_config_free)

G_END_DECLS
