/* pcipassd's settings (pp-daemon-config) and its credentials (pp-auth),
 * without a daemon: the config table's bounds, all-or-nothing files with
 * line numbers, tokens and their hashes, and who the Unix peers are. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "pp-auth.h"
#include "pp-daemon-config.h"
#include "pp-http.h"
#include "pp-store.h"
#include "pp-test-util.h"

static void
test_defaults(void)
{
  g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
  g_autofree char *text = NULL;

  pp_daemon_config_finish(config);
  g_assert_cmpstr(config->state_dir, ==, "/var/lib/pcipass");
  g_assert_cmpstr(config->database, ==, "/var/lib/pcipass/pcipass.db");
  g_assert_cmpstr(config->socket, ==, "/run/pcipass/pcipassd.sock");
  g_assert_cmpstr(config->listen, ==, "");
  g_assert_cmpuint(config->monitor_interval, ==, 60);
  g_assert_cmpuint(config->probe_timeout, ==, 30);
  /* The probe installed with pcipassd, found without PATH. */
  g_assert_cmpstr(config->probe_path, ==, PP_BINDIR "/pcipass-probe");
  g_assert_cmpstr(config->image_dirs, ==, "/var/lib/pcipass/images");
  /* The HTTP server's limits, pp-http's defaults; plain HTTP. */
  g_assert_cmpstr(config->tls_cert, ==, "");
  g_assert_cmpstr(config->tls_key, ==, "");
  g_assert_cmpuint(config->max_connections, ==, PP_HTTP_DEFAULT_MAX_CONNECTIONS);
  g_assert_cmpuint(config->unix_reserved_connections, ==, PP_HTTP_DEFAULT_UNIX_RESERVED);
  g_assert_cmpuint(config->max_connections_per_peer, ==, PP_HTTP_DEFAULT_MAX_PER_PEER);
  g_assert_cmpuint(config->header_timeout, ==, PP_HTTP_DEFAULT_HEADER_TIMEOUT_S);
  g_assert_cmpuint(config->idle_timeout, ==, PP_HTTP_DEFAULT_IDLE_TIMEOUT_S);
  g_assert_true(pp_daemon_config_check(config, NULL));

  /* What --print-config prints reads back to the same settings. */
  text = pp_daemon_config_to_string(config);
  {
    g_autoptr(PpDaemonConfig) again = pp_daemon_config_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *twice = NULL;

    g_assert_true(pp_daemon_config_set(again, "probe-timeout", "9", &error));
    g_assert_true(pp_daemon_config_parse(again, text, strlen(text), &error));
    g_assert_no_error(error);
    twice = pp_daemon_config_to_string(again);
    g_assert_cmpstr(twice, ==, text);
  }
}

static void
test_parse(void)
{
  static const char good[] = "# comment\n\n[pcipassd]\n  state-dir = /srv/pp  \n"
                             "monitor-interval=5\nlisten = 127.0.0.1:7710\nlog-level = debug\n";
  g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
  g_autoptr(GError) error = NULL;

  g_assert_true(pp_daemon_config_parse(config, good, strlen(good), &error));
  g_assert_no_error(error);
  pp_daemon_config_finish(config);
  g_assert_cmpstr(config->state_dir, ==, "/srv/pp");
  g_assert_cmpstr(config->database, ==, "/srv/pp/pcipass.db");
  g_assert_cmpuint(config->monitor_interval, ==, 5);
  g_assert_cmpstr(config->listen, ==, "127.0.0.1:7710");
  g_assert_cmpstr(config->log_level, ==, "debug");
}

/* Each bad file: its message, and nothing of it applied. */
static void
test_parse_errors(void)
{
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
    { "probe-timeout = 5\nnonsense\n", "line 2: 'nonsense' is not 'key = value'" },
    { "probe-timeout = 5\ncolour = red\n", "line 2: unknown key 'colour'" },
    { "probe-timeout = 0\n", "line 1: probe-timeout: '0' is not a number from 1 to 3600" },
    { "probe-timeout = 5\nprobe-parallel = many\n", "line 2: probe-parallel: 'many'" },
    { "monitor-interval = 86401\n", "monitor-interval: '86401' is not a number from 1 to 86400" },
    { "state-dir = relative/dir\n", "line 1: state-dir: 'relative/dir' is not an absolute path" },
    { "socket =\n", "line 1: socket: the value is empty" },
    { "log-level = loud\n", "log-level: 'loud' is not one of error|warning|message|info|debug" },
    { "probe-timeout = -1\n", "probe-timeout: '-1'" },
    { "probe-timeout = 5\nimage-dirs = images\n",
      "line 2: image-dirs: 'images' is not an absolute path without '.' or '..' (folders are "
      "separated by ':')" },
    { "image-dirs = /srv/images:/srv/../etc\n",
      "image-dirs: '/srv/../etc' is not an absolute path without '.' or '..'" },
    { "image-dirs = /srv/./images\n", "image-dirs: '/srv/./images' is not an absolute path" },
    { "image-dirs = /a::/b\n", "image-dirs: '' is not an absolute path" },
    { "image-dirs = /a:/b:/c:/d:/e:/f:/g:/h:/i:/j:/k:/l:/m:/n:/o:/p:/q\n",
      "image-dirs: more than 16 folders" },
    { "probe-timeout = 5\ndatabase = pcipass.db\n",
      "line 2: database: 'pcipass.db' is neither an absolute path (an SQLite file) nor a "
      "postgresql:// URI" },
    { "database = mysql://db/pcipass\n", "database: 'mysql://db/pcipass' is neither" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_daemon_config_parse(config, cases[i].text, strlen(cases[i].text), &error));
    g_assert_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID);
    if (strstr(error->message, cases[i].message) == NULL)
      g_error("'%s' gave '%s'", cases[i].text, error->message);
    /* All or nothing: the good first line was not applied. */
    g_assert_cmpuint(config->probe_timeout, ==, 30);
  }

  {
    g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_daemon_config_parse(config, "a = b\0c", 7, &error));
    g_assert_nonnull(strstr(error->message, "NUL"));
  }
}

/* database: an SQLite file or a PostgreSQL URI (bounded); --print-config
 * never shows a URI's password. */
static void
test_store_location(void)
{
  static const char uri[] =
      "postgresql://pcipass:s3cret@db1:5432,db2/pcipass?target_session_attrs=read-write";
  g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strdup_printf("database = %s\n", uri);
  g_autofree char *printed = NULL;
  g_autofree char *long_uri = NULL;

  g_assert_true(pp_daemon_config_parse(config, text, strlen(text), &error));
  g_assert_no_error(error);
  g_assert_cmpstr(config->database, ==, uri);
  printed = pp_daemon_config_to_string(config);
  g_assert_null(strstr(printed, "s3cret"));
  g_assert_nonnull(strstr(printed, "database = postgresql://pcipass:***@db1:5432,db2/pcipass"));
  g_assert_true(pp_daemon_config_set(config, "database", "postgres:///pcipass", &error));
  g_assert_cmpstr(config->database, ==, "postgres:///pcipass");

  long_uri = g_strnfill(5000, 'x');
  memcpy(long_uri, "postgresql://", strlen("postgresql://"));
  g_assert_false(pp_daemon_config_set(config, "database", long_uri, &error));
  g_assert_cmpstr(error->message, ==,
                  "database: the value is longer than 4096 bytes or spans lines");
  g_assert_cmpstr(config->database, ==, "postgres:///pcipass");
}

/* image-dirs: folders in order, a trailing '/' dropped, none when empty;
 * '..' in a name is a name, not a way up. */
static void
test_image_dirs(void)
{
  g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) dirs = pp_daemon_config_get_image_dirs(config);

  g_assert_cmpuint(g_strv_length(dirs), ==, 1);
  g_assert_cmpstr(dirs[0], ==, "/var/lib/pcipass/images");
  g_strfreev(g_steal_pointer(&dirs));

  g_assert_true(pp_daemon_config_set(config, "image-dirs", "/srv/images/:/mnt/nfs/a..b:/", &error));
  g_assert_no_error(error);
  dirs = pp_daemon_config_get_image_dirs(config);
  g_assert_cmpuint(g_strv_length(dirs), ==, 3);
  g_assert_cmpstr(dirs[0], ==, "/srv/images");
  g_assert_cmpstr(dirs[1], ==, "/mnt/nfs/a..b");
  g_assert_cmpstr(dirs[2], ==, "/");
  g_strfreev(g_steal_pointer(&dirs));

  g_assert_true(pp_daemon_config_set(config, "image-dirs", "", &error));
  dirs = pp_daemon_config_get_image_dirs(config);
  g_assert_cmpuint(g_strv_length(dirs), ==, 0);

  /* A bad value changes nothing. */
  g_assert_false(pp_daemon_config_set(config, "image-dirs", "/a:b", &error));
  g_assert_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID);
  g_assert_cmpstr(config->image_dirs, ==, "");
}

static void
test_tokens(void)
{
  g_autofree char *hash = NULL;
  g_autofree char *other_hash = NULL;
  g_autofree char *secret = pp_auth_token_new(&hash);
  g_autofree char *other = pp_auth_token_new(&other_hash);
  g_autofree char *again = pp_auth_token_hash(secret);

  g_assert_true(g_str_has_prefix(secret, "pp_"));
  g_assert_cmpuint(strlen(secret), ==, 3 + 64);
  g_assert_cmpuint(strspn(secret + 3, "0123456789abcdef"), ==, 64);
  g_assert_cmpuint(strlen(hash), ==, 64);
  g_assert_cmpstr(hash, ==, again);
  g_assert_cmpstr(secret, !=, other);
  g_assert_cmpstr(hash, !=, other_hash);
  g_assert_null(strstr(hash, secret + 3));
}

static void
test_authenticate(void)
{
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *db = g_build_filename(dir, "pcipass.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) store = pp_store_open(db, &error);
  g_autoptr(PpUser) root = NULL;
  g_autoptr(PpUser) alice = NULL;
  g_autoptr(PpToken) token = NULL;
  g_autoptr(GPtrArray) users = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *header = NULL;
  PpHttpPeer unix_root = { TRUE, 0, 0, 1, "unix" };
  PpHttpPeer unix_nobody = { TRUE, 65534, 65534, 1, "unix" };
  PpHttpPeer tcp = { FALSE, 0, 0, 0, "127.0.0.1:5000" };

  g_assert_no_error(error);

  /* root on the socket is the admin, made on first use, once. */
  root = pp_auth_authenticate(store, &unix_root, NULL, 100, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(root->name, ==, "root");
  g_assert_true(root->admin);
  g_clear_pointer(&root, pp_user_free);
  root = pp_auth_authenticate(store, &unix_root, NULL, 101, &error);
  g_assert_no_error(error);
  users = pp_store_user_list(store, &error);
  g_assert_cmpuint(users->len, ==, 1);

  /* Another uid is the user of its name, which an admin must make. */
  g_assert_null(pp_auth_authenticate(store, &unix_nobody, NULL, 100, &error));
  g_assert_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED);
  g_assert_nonnull(strstr(error->message, "pcipass user create nobody"));
  g_clear_error(&error);
  alice = pp_store_user_create(store, "nobody", FALSE, 100, &error);
  g_assert_no_error(error);
  g_clear_pointer(&alice, pp_user_free);
  alice = pp_auth_authenticate(store, &unix_nobody, NULL, 100, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(alice->name, ==, "nobody");
  g_assert_false(alice->admin);

  /* TCP: a token, or nothing. */
  g_assert_null(pp_auth_authenticate(store, &tcp, NULL, 100, &error));
  g_assert_nonnull(strstr(error->message, "Authorization: Bearer"));
  g_clear_error(&error);
  g_assert_null(pp_auth_authenticate(store, &tcp, "Basic dXNlcjpwdw==", 100, &error));
  g_assert_nonnull(strstr(error->message, "not 'Bearer TOKEN'"));
  g_clear_error(&error);
  secret = pp_auth_token_new(&hash);
  token = pp_store_token_create(store, alice->id, "ci", hash, 100, 0, &error);
  g_assert_no_error(error);
  header = g_strdup_printf("Bearer %s", secret);
  g_clear_pointer(&alice, pp_user_free);
  alice = pp_auth_authenticate(store, &tcp, header, 200, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(alice->name, ==, "nobody");
  /* A wrong token: refused, and the message does not echo it. */
  header[strlen(header) - 1] = header[strlen(header) - 1] == '0' ? '1' : '0';
  g_assert_null(pp_auth_authenticate(store, &tcp, header, 200, &error));
  g_assert_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED);
  g_assert_null(strstr(error->message, secret + 3));
  g_clear_error(&error);
  /* An oversized header is not hashed. */
  {
    g_autofree char *huge = g_strnfill(PP_AUTH_MAX_TOKEN + 1, 'a');

    memcpy(huge, "Bearer ", 7);
    g_assert_null(pp_auth_authenticate(store, &tcp, huge, 200, &error));
    g_assert_error(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED);
    g_clear_error(&error);
  }
  pp_test_rmtree(dir);
}

/* What binds keys together: the message names them, and what is right
 * passes. */
static void
test_check(void)
{
  static const struct {
    const char *text;
    const char *message; /* NULL: passes */
  } cases[] = {
    { "listen = 127.0.0.1:1\ntls-cert = /c.pem\ntls-key = /k.pem\n", NULL },
    { "listen = 127.0.0.1:1\ntls-cert = /c.pem\n", "tls-cert and tls-key go together" },
    { "listen = 127.0.0.1:1\ntls-key = /k.pem\n", "tls-cert and tls-key go together" },
    { "tls-cert = /c.pem\ntls-key = /k.pem\n", "are for TCP: give listen too" },
    { "max-connections = 10\nunix-reserved-connections = 9\n", NULL },
    { "max-connections = 10\nunix-reserved-connections = 0\n", NULL },
    { "max-connections = 10\nunix-reserved-connections = 10\n",
      "unix-reserved-connections (10) must be below max-connections (10)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(pp_daemon_config_parse(config, cases[i].text, strlen(cases[i].text), &error));
    g_assert_no_error(error);
    if (cases[i].message == NULL) {
      g_assert_true(pp_daemon_config_check(config, &error));
      g_assert_no_error(error);
    } else {
      g_assert_false(pp_daemon_config_check(config, &error));
      g_assert_error(error, PP_DAEMON_CONFIG_ERROR, PP_DAEMON_CONFIG_ERROR_INVALID);
      g_assert_nonnull(strstr(error->message, cases[i].message));
    }
  }
  /* The bounds of the new keys. */
  {
    g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
    g_autoptr(GError) error = NULL;

    g_assert_false(pp_daemon_config_set(config, "max-connections", "1", &error));
    g_assert_cmpstr(error->message, ==, "max-connections: '1' is not a number from 2 to 65536");
    g_clear_error(&error);
    g_assert_false(pp_daemon_config_set(config, "header-timeout", "0", &error));
    g_assert_cmpstr(error->message, ==, "header-timeout: '0' is not a number from 1 to 3600");
    g_clear_error(&error);
    g_assert_false(pp_daemon_config_set(config, "tls-cert", "cert.pem", &error));
    g_assert_cmpstr(error->message, ==, "tls-cert: 'cert.pem' is not an absolute path");
    g_assert_cmpuint(config->max_connections, ==, PP_HTTP_DEFAULT_MAX_CONNECTIONS);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/daemon-config/defaults", test_defaults);
  g_test_add_func("/daemon-config/parse", test_parse);
  g_test_add_func("/daemon-config/parse-errors", test_parse_errors);
  g_test_add_func("/daemon-config/image-dirs", test_image_dirs);
  g_test_add_func("/daemon-config/store-location", test_store_location);
  g_test_add_func("/daemon-config/check", test_check);
  g_test_add_func("/auth/tokens", test_tokens);
  g_test_add_func("/auth/authenticate", test_authenticate);
  return g_test_run();
}
