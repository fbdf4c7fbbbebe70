#define G_LOG_DOMAIN "pp-daemon-config"

#include "config.h"

#include <stddef.h>
#include <string.h>

#include "pp-daemon-config.h"
#include "pp-db.h"
#include "pp-events.h"
#include "pp-http.h"
#include "pp-network.h"

/* clang-format off */
G_DEFINE_QUARK(pp-daemon-config-error-quark, pp_daemon_config_error)
/* clang-format on */

/* The longest value of any key. */
#define VALUE_MAX 4096
/* The most folders a KEY_PATH_LIST holds. */
#define PATH_LIST_MAX 16

typedef enum {
  KEY_STRING,     /* any text, 0..VALUE_MAX bytes; `empty` says whether "" is allowed */
  KEY_PATH,       /* an absolute path */
  KEY_STORE,      /* an absolute path (SQLite), or a postgresql:// or postgres:// URI */
  KEY_UINT,       /* a decimal number within min..max */
  KEY_CHOICE,     /* one of `choices` */
  KEY_PATH_LIST,  /* absolute paths separated by ':', at most PATH_LIST_MAX; "" for none */
  KEY_MAC_PREFIX, /* "xx:xx", unicast (pp_mac_prefix_parse()) */
} KeyType;

/* The keys.
 *   key      the name in the file and the long option (--key)
 *   type     KEY_*
 *   offset   where the value lives in PpDaemonConfig
 *   def      the default, as text
 *   min/max  the bounds of a KEY_UINT
 *   choices  the values of a KEY_CHOICE, '|'-separated
 *   empty    whether "" is a value (KEY_STRING, KEY_PATH, KEY_PATH_LIST)
 *   help     one line for --help and the man page
 */
static const struct {
  const char *key;
  KeyType type;
  size_t offset;
  const char *def;
  guint min, max;
  const char *choices;
  gboolean empty;
  const char *help;
} keys[] = {
  { "state-dir", KEY_PATH, offsetof(PpDaemonConfig, state_dir), "/var/lib/pcipass", 0, 0, NULL,
    FALSE, "The folder of pcipassd's state (made 0700 when missing)" },
  { "database", KEY_STORE, offsetof(PpDaemonConfig, database), "", 0, 0, NULL, TRUE,
    "The store: an SQLite file (default: STATE_DIR/pcipass.db), or a PostgreSQL "
    "postgresql://... URI (several pcipassd, one leading)" },
  { "socket", KEY_PATH, offsetof(PpDaemonConfig, socket), "/run/pcipass/pcipassd.sock", 0, 0, NULL,
    FALSE, "The Unix socket of the API (peers authenticated by their credentials)" },
  { "listen", KEY_STRING, offsetof(PpDaemonConfig, listen), "", 0, 0, NULL, TRUE,
    "Also serve the API over TCP on HOST:PORT (bearer tokens); empty: not" },
  { "tls-cert", KEY_PATH, offsetof(PpDaemonConfig, tls_cert), "", 0, 0, NULL, TRUE,
    "Serve TCP in TLS with this certificate (PEM, the chain with the server's first); empty: "
    "plain HTTP" },
  { "tls-key", KEY_PATH, offsetof(PpDaemonConfig, tls_key), "", 0, 0, NULL, TRUE,
    "The private key of tls-cert (PEM, not encrypted; keep it 0600)" },
  { "max-connections", KEY_UINT, offsetof(PpDaemonConfig, max_connections),
    G_STRINGIFY(PP_HTTP_DEFAULT_MAX_CONNECTIONS), 2, 65536, NULL, FALSE,
    "Connections open at once over the socket and TCP; more wait in the kernel's backlog" },
  { "unix-reserved-connections", KEY_UINT, offsetof(PpDaemonConfig, unix_reserved_connections),
    G_STRINGIFY(PP_HTTP_DEFAULT_UNIX_RESERVED), 0, 65535, NULL, FALSE,
    "Of max-connections, those TCP may not take: the Unix socket's, so that a flood over TCP "
    "never locks out the local admin" },
  { "max-connections-per-peer", KEY_UINT, offsetof(PpDaemonConfig, max_connections_per_peer),
    G_STRINGIFY(PP_HTTP_DEFAULT_MAX_PER_PEER), 1, 65536, NULL, FALSE,
    "Connections open at once per TCP address and per local user (root and pcipassd's user "
    "aside); more are answered 503" },
  { "header-timeout", KEY_UINT, offsetof(PpDaemonConfig, header_timeout),
    G_STRINGIFY(PP_HTTP_DEFAULT_HEADER_TIMEOUT_S), 1, 3600, NULL, FALSE,
    "Seconds from a connection's start to its request's whole head; past it, 408 and closed" },
  { "idle-timeout", KEY_UINT, offsetof(PpDaemonConfig, idle_timeout),
    G_STRINGIFY(PP_HTTP_DEFAULT_IDLE_TIMEOUT_S), 1, 3600, NULL, FALSE,
    "Seconds of silence in the middle of a request's body or an answer before it is closed" },
  { "event-heartbeat", KEY_UINT, offsetof(PpDaemonConfig, event_heartbeat),
    G_STRINGIFY(PP_EVENTS_HEARTBEAT_S), 1, 3600, NULL, FALSE,
    "Seconds between two heartbeats of an events stream (GET /v1/events): below a proxy's idle "
    "timeout; each checks again the stream's session and token" },
  { "monitor-interval", KEY_UINT, offsetof(PpDaemonConfig, monitor_interval), "60", 1, 86400, NULL,
    FALSE, "Seconds between two probes of every host" },
  { "probe-timeout", KEY_UINT, offsetof(PpDaemonConfig, probe_timeout), "30", 1, 3600, NULL, FALSE,
    "Seconds after which a probe is killed and its host put in error" },
  { "probe-parallel", KEY_UINT, offsetof(PpDaemonConfig, probe_parallel), "16", 1, 1024, NULL,
    FALSE, "The most probes running at once" },
  { "probe-path", KEY_STRING, offsetof(PpDaemonConfig, probe_path), PP_PROBE_PATH, 0, 0, NULL,
    FALSE, "The probe program run on hosts without a probe command (local or over ssh)" },
  { "ssh-connect-timeout", KEY_UINT, offsetof(PpDaemonConfig, ssh_connect_timeout), "10", 1, 600,
    NULL, FALSE, "ssh's ConnectTimeout for probes over ssh, in seconds" },
  { "schedule-interval", KEY_UINT, offsetof(PpDaemonConfig, schedule_interval), "10", 1, 3600, NULL,
    FALSE, "Seconds between two scheduler passes (it also runs when VMs or hosts change)" },
  { "deploy-tries", KEY_UINT, offsetof(PpDaemonConfig, deploy_tries), "3", 1, 100, NULL, FALSE,
    "Deploys of a VM that may fail (each on another host when one fits) before it is failed" },
  { "image-dirs", KEY_PATH_LIST, offsetof(PpDaemonConfig, image_dirs), "/var/lib/pcipass/images", 0,
    0, NULL, TRUE,
    "The image folders, ':'-separated, searched in order: templates name their files (DISK "
    "IMAGE, OS KERNEL_IMAGE); hosts must see them at the same paths" },
  { "domain-type", KEY_CHOICE, offsetof(PpDaemonConfig, domain_type), "auto", 0, 0, "auto|kvm|qemu",
    FALSE,
    "The domains made of what each host's libvirt offers: the best (auto: kvm, else qemu), kvm "
    "only, or qemu (emulated, never kvm: for hosts whose KVM is missing or not to be trusted)" },
  { "placement-policy", KEY_CHOICE, offsetof(PpDaemonConfig, placement_policy), "pack", 0, 0,
    "pack|stripe", FALSE, "Which fitting host a VM goes to: the fullest (pack) or the emptiest" },
  { "mac-prefix", KEY_MAC_PREFIX, offsetof(PpDaemonConfig, mac_prefix), "02:00", 0, 0, NULL, FALSE,
    "The first two bytes of the MACs of network ranges that give none (xx:xx, unicast); the "
    "other four come from one counter, so that they never collide across networks" },
  { "log-level", KEY_CHOICE, offsetof(PpDaemonConfig, log_level), "message", 0, 0,
    "error|warning|message|info|debug", FALSE, "The least important messages logged" },
};

static int
find_key(const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    if (strcmp(keys[i].key, key) == 0)
      return (int)i;
  }
  return -1;
}

const char *const *
pp_daemon_config_keys(void)
{
  static const char *names[G_N_ELEMENTS(keys) + 1];

  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    names[i] = keys[i].key;
  return names;
}

const char *
pp_daemon_config_key_help(const char *key)
{
  int i = find_key(key);

  return i < 0 ? NULL : keys[i].help;
}

void
pp_daemon_config_free(PpDaemonConfig *config)
{
  if (config == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    if (keys[i].type != KEY_UINT)
      g_free(*(char **)G_STRUCT_MEMBER_P(config, keys[i].offset));
  }
  g_free(config);
}

static gboolean
set_key(PpDaemonConfig *config, int i, const char *value, GError **error)
{
  guint64 number;

  if (strlen(value) > VALUE_MAX || strpbrk(value, "\n\r") != NULL) {
    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "%s: the value is longer than %d bytes or spans lines", keys[i].key, VALUE_MAX);
    return FALSE;
  }
  switch (keys[i].type) {
  case KEY_UINT:
    if (!g_ascii_string_to_unsigned(value, 10, keys[i].min, keys[i].max, &number, NULL)) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: '%s' is not a number from %u to %u", keys[i].key, value, keys[i].min,
                  keys[i].max);
      return FALSE;
    }
    *(guint *)G_STRUCT_MEMBER_P(config, keys[i].offset) = (guint)number;
    return TRUE;
  case KEY_MAC_PREFIX: {
    PpMacPrefix prefix;
    g_autoptr(GError) local = NULL;

    if (!pp_mac_prefix_parse(value, &prefix, &local)) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID, "%s: %s",
                  keys[i].key, local->message);
      return FALSE;
    }
    break;
  }
  case KEY_CHOICE: {
    g_auto(GStrv) choices = g_strsplit(keys[i].choices, "|", -1);

    if (!g_strv_contains((const char *const *)choices, value)) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: '%s' is not one of %s", keys[i].key, value, keys[i].choices);
      return FALSE;
    }
    break;
  }
  case KEY_PATH_LIST: {
    g_auto(GStrv) paths = g_strsplit(value, ":", -1);

    if (g_strv_length(paths) > PATH_LIST_MAX) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: more than %d folders", keys[i].key, PATH_LIST_MAX);
      return FALSE;
    }
    for (guint p = 0; value[0] != '\0' && paths[p] != NULL; p++) {
      g_auto(GStrv) parts = g_strsplit(paths[p], "/", -1);
      gboolean dots = g_strv_contains((const char *const *)parts, ".") ||
                      g_strv_contains((const char *const *)parts, "..");

      /* The folder's path goes into domain XML as it is written: a plain
       * absolute path, so that what pcipassd checked is what hosts open. */
      if (paths[p][0] != '/' || dots) {
        g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                    "%s: '%s' is not an absolute path without '.' or '..' (folders are "
                    "separated by ':')",
                    keys[i].key, paths[p]);
        return FALSE;
      }
    }
    if (value[0] == '\0' && !keys[i].empty) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: the value is empty", keys[i].key);
      return FALSE;
    }
    break;
  }
  case KEY_STORE:
    /* libpq reads the URI; every value is bounded (4096 bytes) above. */
    if (g_str_has_prefix(value, "postgresql://") || g_str_has_prefix(value, "postgres://"))
      break;
    if (value[0] != '\0' && value[0] != '/') {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: '%s' is neither an absolute path (an SQLite file) nor a postgresql:// URI",
                  keys[i].key, value);
      return FALSE;
    }
    break;
  case KEY_PATH:
    if (value[0] != '\0' && value[0] != '/') {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: '%s' is not an absolute path", keys[i].key, value);
      return FALSE;
    }
    G_GNUC_FALLTHROUGH;
  case KEY_STRING:
    if (value[0] == '\0' && !keys[i].empty) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "%s: the value is empty", keys[i].key);
      return FALSE;
    }
    break;
  }
  g_free(*(char **)G_STRUCT_MEMBER_P(config, keys[i].offset));
  *(char **)G_STRUCT_MEMBER_P(config, keys[i].offset) = g_strdup(value);
  return TRUE;
}

gboolean
pp_daemon_config_set(PpDaemonConfig *config, const char *key, const char *value, GError **error)
{
  int i = find_key(key);

  if (i < 0) {
    g_autofree char *known = g_strjoinv(", ", (char **)pp_daemon_config_keys());

    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "unknown key '%s' (known: %s)", key, known);
    return FALSE;
  }
  return set_key(config, i, value, error);
}

PpDaemonConfig *
pp_daemon_config_new(void)
{
  PpDaemonConfig *config = g_new0(PpDaemonConfig, 1);

  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    gboolean ok = set_key(config, (int)i, keys[i].def, NULL);

    g_assert(ok);
  }
  return config;
}

static PpDaemonConfig *
config_copy(const PpDaemonConfig *config)
{
  PpDaemonConfig *copy = g_new0(PpDaemonConfig, 1);

  *copy = *config;
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    if (keys[i].type != KEY_UINT) {
      char **slot = G_STRUCT_MEMBER_P(copy, keys[i].offset);

      *slot = g_strdup(*slot);
    }
  }
  return copy;
}

gboolean
pp_daemon_config_parse(PpDaemonConfig *config, const char *text, gsize len, GError **error)
{
  g_autoptr(PpDaemonConfig) work = config_copy(config);
  g_autofree char *copy = g_strndup(text, len);
  g_auto(GStrv) lines = NULL;

  if (strlen(copy) != len) {
    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "the file holds a NUL byte");
    return FALSE;
  }
  lines = g_strsplit(copy, "\n", -1);
  for (guint n = 0; lines[n] != NULL; n++) {
    char *line = g_strstrip(lines[n]);
    char *eq;

    if (line[0] == '\0' || line[0] == '#' || strcmp(line, "[pcipassd]") == 0)
      continue;
    eq = strchr(line, '=');
    if (eq == NULL) {
      g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                  "line %u: '%s' is not 'key = value'", n + 1, line);
      return FALSE;
    }
    *eq = '\0';
    if (!pp_daemon_config_set(work, g_strstrip(line), g_strstrip(eq + 1), error)) {
      g_prefix_error(error, "line %u: ", n + 1);
      return FALSE;
    }
  }
  /* All or nothing: only now does @config change. */
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    if (keys[i].type == KEY_UINT) {
      *(guint *)G_STRUCT_MEMBER_P(config, keys[i].offset) =
          *(guint *)G_STRUCT_MEMBER_P(work, keys[i].offset);
    } else {
      char **from = G_STRUCT_MEMBER_P(work, keys[i].offset);
      char **to = G_STRUCT_MEMBER_P(config, keys[i].offset);

      g_free(*to);
      *to = g_steal_pointer(from);
    }
  }
  return TRUE;
}

void
pp_daemon_config_finish(PpDaemonConfig *config)
{
  if (config->database[0] == '\0') {
    g_free(config->database);
    config->database = g_build_filename(config->state_dir, "pcipass.db", NULL);
  }
}

GStrv
pp_daemon_config_get_image_dirs(const PpDaemonConfig *config)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  g_auto(GStrv) paths = NULL;

  g_return_val_if_fail(config != NULL, NULL);

  paths = g_strsplit(config->image_dirs, ":", -1);
  for (guint i = 0; paths[i] != NULL; i++) {
    /* "/a/b/" and "/a/b" are one folder; its path is written without the
     * slash, as the XML will have it. */
    gsize n = strlen(paths[i]);

    while (n > 1 && paths[i][n - 1] == '/')
      paths[i][--n] = '\0';
    if (n > 0)
      g_strv_builder_add(builder, paths[i]);
  }
  return g_strv_builder_end(builder);
}

char *
pp_daemon_config_to_string(const PpDaemonConfig *config)
{
  GString *out = g_string_new("[pcipassd]\n");

  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    if (keys[i].type == KEY_UINT)
      g_string_append_printf(out, "%s = %u\n", keys[i].key,
                             *(guint *)G_STRUCT_MEMBER_P(config, keys[i].offset));
    else if (keys[i].type == KEY_STORE) {
      /* A URI's password is not printed: it belongs in ~/.pgpass. */
      g_autofree char *shown =
          pp_db_location_redact(*(char **)G_STRUCT_MEMBER_P(config, keys[i].offset));

      g_string_append_printf(out, "%s = %s\n", keys[i].key, shown);
    } else
      g_string_append_printf(out, "%s = %s\n", keys[i].key,
                             *(char **)G_STRUCT_MEMBER_P(config, keys[i].offset));
  }
  return g_string_free(out, FALSE);
}

gboolean
pp_daemon_config_check(const PpDaemonConfig *config, GError **error)
{
  if ((config->tls_cert[0] == '\0') != (config->tls_key[0] == '\0')) {
    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "tls-cert and tls-key go together: give both, or neither for plain HTTP");
    return FALSE;
  }
  if (config->tls_cert[0] != '\0' && config->listen[0] == '\0') {
    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "tls-cert and tls-key are for TCP: give listen too (the Unix socket needs no TLS)");
    return FALSE;
  }
  if (config->unix_reserved_connections >= config->max_connections) {
    g_set_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID,
                "unix-reserved-connections (%u) must be below max-connections (%u): TCP would "
                "have none",
                config->unix_reserved_connections, config->max_connections);
    return FALSE;
  }
  return TRUE;
}
