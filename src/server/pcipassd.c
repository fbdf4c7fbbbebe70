/* pcipassd: pcipass's front-end daemon: the store, the monitor of the
 * hosts, and the HTTP+JSON API on a Unix socket (and TCP on request), in
 * one GLib main loop. */
#define G_LOG_DOMAIN "pcipassd"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <jansson.h>

#include "pp-api.h"
#include "pp-autoptr.h"
#include "pp-daemon-config.h"
#include "pp-deployer.h"
#include "pp-exit.h"
#include "pp-fd.h"
#include "pp-file.h"
#include "pp-http.h"
#include "pp-images.h"
#include "pp-leader.h"
#include "pp-monitor.h"
#include "pp-output.h"
#include "pp-probe-report.h"
#include "pp-scheduler.h"
#include "pp-session.h"
#include "pp-store.h"

#define DEFAULT_CONFIG PP_SYSCONFDIR "/pcipassd.conf"
/* A config file is a few hundred bytes. */
#define CONFIG_MAX_SIZE (64 * 1024)

/* File descriptors beside the connections': the store, the probes' pipes,
 * libvirt's connections, the main loop's. */
#define SPARE_FDS 256

/* The lock of the state folder, held for the daemon's life: one pcipassd
 * per store. It holds the pid of its holder, for the message of the
 * next. */
#define LOCK_NAME "pcipassd.lock"

/* Everything the daemon holds (STYLE rule 7). */
typedef struct {
  PpDaemonConfig *config;
  int lock_fd;     /* -1: none */
  char *lock_path; /* removed at a clean stop */
  GPtrArray *made; /* what the start made (files, folders), undone if it fails */
  GMainLoop *loop;
  PpStore *store;
  PpMonitor *monitor;
  PpDeployer *deployer;
  PpScheduler *scheduler;
  PpHttpServer *http;
  PpImages *images;
  PpSessions *sessions;
  PpEvents *events;
  PpLeader *leader;
  PpMonitorConfig monitor_config;
  PpSchedulerConfig scheduler_config;
  PpApiContext api;
  PpMacPrefix mac_prefix;
  int signal;
} PpDaemon;

static GLogLevelFlags log_threshold = G_LOG_LEVEL_MESSAGE;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  /* GLib's levels grow less important as their bits grow. */
  if ((level & G_LOG_LEVEL_MASK) > log_threshold)
    return G_LOG_WRITER_HANDLED;
  /* Not g_log_writer_default(): it would drop info and debug unless
   * G_MESSAGES_DEBUG were set, and that would reach the probes we run. */
  if (g_log_writer_is_journald(fileno(stderr)) &&
      g_log_writer_journald(level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_standard_streams(level, fields, n_fields, user_data);
}

static void
set_log_level(const char *name)
{
  static const struct {
    const char *name;
    GLogLevelFlags level;
  } levels[] = {
    { "error", G_LOG_LEVEL_CRITICAL },  { "warning", G_LOG_LEVEL_WARNING },
    { "message", G_LOG_LEVEL_MESSAGE }, { "info", G_LOG_LEVEL_INFO },
    { "debug", G_LOG_LEVEL_DEBUG },
  };

  for (guint i = 0; i < G_N_ELEMENTS(levels); i++) {
    if (strcmp(levels[i].name, name) == 0)
      log_threshold = levels[i].level;
  }
  /* Every line goes to stderr (the journal), none to stdout. */
  g_log_writer_default_set_use_stderr(TRUE);
  g_log_set_writer_func(log_writer, NULL, NULL);
}

static gboolean
on_signal(gpointer user_data)
{
  PpDaemon *daemon = user_data;

  g_message("stopping on a signal");
  g_main_loop_quit(daemon->loop);
  return G_SOURCE_CONTINUE;
}

/* The command line: every config key as a long option, which overrides
 * the file. */
typedef struct {
  GHashTable *overrides; /* key -> value */
} Options;

static gboolean
on_option(const char *name, const char *value, gpointer data, GError **error)
{
  Options *options = data;

  g_hash_table_replace(options->overrides, g_strdup(name + 2), g_strdup(value));
  return TRUE;
}

/* What libvirt says about a domain or a connection goes to the
 * scheduler, once it exists. */
static void
on_domain_event(const char *uri, const char *domain, PpDomainEventKind kind, const char *what,
                gpointer user_data)
{
  PpDaemon *daemon = user_data;

  if (daemon->scheduler != NULL)
    pp_scheduler_domain_event(uri, domain, kind, what, daemon->scheduler);
}

/* After each host's turn in a monitor pass: its domains are reconciled. */
static void
on_host_checked(gint64 host_id, gpointer user_data)
{
  PpDaemon *daemon = user_data;

  if (daemon->scheduler != NULL)
    pp_scheduler_reconcile_host(daemon->scheduler, host_id);
}

/* The loops of the leader: the scheduler first (the monitor's first pass,
 * at once, reconciles every host's domains through it: a new leader
 * reconciles from the store and from libvirt), then the monitor. */
static void
start_loops(PpDaemon *daemon)
{
  daemon->deployer = pp_deployer_new(pp_store_get_id(daemon->store), on_domain_event, daemon);
  pp_deployer_set_domain_type(daemon->deployer, daemon->config->domain_type);
  daemon->scheduler = pp_scheduler_new(daemon->store, daemon->deployer, &daemon->scheduler_config);
  daemon->api.scheduler = daemon->scheduler;
  daemon->monitor = pp_monitor_new(daemon->store, &daemon->monitor_config);
  daemon->api.monitor = daemon->monitor;
}

/* The monitor and the scheduler first: they report to the store. */
static void
stop_loops(PpDaemon *daemon)
{
  daemon->api.monitor = NULL;
  daemon->api.scheduler = NULL;
  g_clear_pointer(&daemon->monitor, pp_monitor_free);
  g_clear_pointer(&daemon->scheduler, pp_scheduler_free);
  g_clear_pointer(&daemon->deployer, pp_deployer_free);
}

static void
on_leading(gboolean leading, gpointer data)
{
  PpDaemon *daemon = data;

  if (leading)
    start_loops(daemon);
  else
    stop_loops(daemon);
}

/* Who this pcipassd is, as the other daemons of its store say it. */
static char *
daemon_name(const PpDaemonConfig *config)
{
  if (config->listen[0] != '\0')
    return g_strdup_printf("%s pid %d (%s)", g_get_host_name(), (int)getpid(), config->listen);
  return g_strdup_printf("%s pid %d", g_get_host_name(), (int)getpid());
}

/* Makes the folder @path and its missing parents with @mode, recording
 * each one made in @made (the start's undo list). */
static gboolean
make_dir_recorded(const char *path, int mode, const char *what, GPtrArray *made, GError **error)
{
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *at = g_canonicalize_filename(path, NULL);

  /* The missing ones, deepest first. */
  while (!g_file_test(at, G_FILE_TEST_EXISTS)) {
    char *parent = g_path_get_dirname(at);

    g_ptr_array_add(missing, g_steal_pointer(&at));
    at = parent;
  }
  for (guint i = missing->len; i > 0; i--) {
    const char *dir = g_ptr_array_index(missing, i - 1);

    if (mkdir(dir, mode) != 0 && errno != EEXIST) {
      int saved = errno;

      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved),
                  "cannot make the %s '%s': %s", what, dir, g_strerror(saved));
      return FALSE;
    }
    g_ptr_array_add(made, g_strdup(dir));
  }
  if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR, "the %s '%s' is not a folder", what,
                path);
    return FALSE;
  }
  return TRUE;
}

/* A start that failed: what it made goes, newest first (a folder only
 * when empty: a file of someone else's stays). */
static void
undo_start(PpDaemon *daemon)
{
  for (guint i = daemon->made->len; i > 0; i--) {
    const char *path = g_ptr_array_index(daemon->made, i - 1);

    if (remove(path) != 0 && errno != ENOENT)
      g_debug("'%s': cannot remove it: %s, ignoring", path, g_strerror(errno));
  }
  g_ptr_array_set_size(daemon->made, 0);
}

/* Takes the state folder's lock, or says who holds it. */
static gboolean
take_lock(PpDaemon *daemon, GError **error)
{
  const char *dir = daemon->config->state_dir;
  g_autofree char *path = g_build_filename(dir, LOCK_NAME, NULL);
  gboolean existed = g_file_test(path, G_FILE_TEST_EXISTS);
  g_autofree char *pid = NULL;
  pp_autofd int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

  if (fd < 0) {
    int saved = errno;

    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot open '%s': %s", path,
                g_strerror(saved));
    return FALSE;
  }
  if (!existed)
    g_ptr_array_add(daemon->made, g_strdup(path));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int saved = errno;
    char buf[32] = { 0 };
    ssize_t n = saved == EWOULDBLOCK ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;

    if (saved != EWOULDBLOCK) {
      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot lock '%s': %s", path,
                  g_strerror(saved));
      return FALSE;
    }
    g_strstrip(buf);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                "the state folder '%s' is in use by another pcipassd (%s%s%s); stop it, or give "
                "this one another --state-dir",
                dir, n > 0 && buf[0] != '\0' ? "pid " : "its lock is '",
                n > 0 && buf[0] != '\0' ? buf : path, n > 0 && buf[0] != '\0' ? "" : "'");
    return FALSE;
  }
  pid = g_strdup_printf("%d\n", (int)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
    g_debug("'%s': cannot write the pid: %s, ignoring", path, g_strerror(errno));
  daemon->lock_fd = g_steal_fd(&fd);
  daemon->lock_path = g_steal_pointer(&path);
  return TRUE;
}

/* Says how each image folder stands: it may be made later (images are
 * looked for when used), but a folder that others than its owner may
 * write lets them choose what VMs read. */
static void
check_image_dirs(const PpImages *images)
{
  const char *const *dirs = pp_images_get_dirs(images);

  if (dirs[0] == NULL)
    g_message("no image folders (image-dirs is empty): templates can name no image");
  for (guint i = 0; dirs[i] != NULL; i++) {
    struct stat st;

    if (stat(dirs[i], &st) != 0)
      g_message("image folder '%s': %s; its images are found once it exists", dirs[i],
                g_strerror(errno));
    else if (!S_ISDIR(st.st_mode))
      g_warning("image folder '%s' is not a folder: no image is found there, ignoring", dirs[i]);
    else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
      g_warning("image folder '%s' is writable by its group or by others (mode %04o): whoever "
                "can write there chooses what VMs read; only administrators should, ignoring",
                dirs[i], (guint)(st.st_mode & 07777));
  }
}

/* The open-file limit fits max-connections and SPARE_FDS: the soft limit
 * is raised towards the hard one when it does not (systemd gives services
 * 1024 soft). A limit that stays short is said: accept() then pauses when
 * it runs out, rather than failing. */
static void
raise_fd_limit(guint max_connections)
{
  struct rlimit rl;
  rlim_t want = (rlim_t)max_connections + SPARE_FDS;

  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
    return;
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : MIN(want, rl.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
    g_warning("max-connections %u needs %lu open files, the limit is %lu: raise LimitNOFILE= "
              "or lower max-connections",
              max_connections, (unsigned long)want, (unsigned long)rl.rlim_cur);
}

/* The HTTP server, its limits and TLS, before anything is made: a bad
 * certificate leaves nothing behind. */
static int
make_http(PpDaemon *daemon)
{
  const PpDaemonConfig *config = daemon->config;
  g_autoptr(GError) error = NULL;
  PpHttpLimits limits = {
    .max_connections = config->max_connections,
    .unix_reserved = config->unix_reserved_connections,
    .max_per_peer = config->max_connections_per_peer,
    .header_timeout_s = config->header_timeout,
    .idle_timeout_s = config->idle_timeout,
  };
  struct stat st;

  daemon->http =
      pp_http_server_new(pp_api_handle, &daemon->api, MAX(PP_API_MAX_BODY, PP_API_MAX_REPORT));
  pp_http_server_set_admit(daemon->http, pp_api_admit);
  /* The admin (pp-auth: root, and the user pcipassd runs as) is never
   * limited per peer on the socket: a local flood must not lock it out. */
  pp_http_server_exempt_uid(daemon->http, 0);
  pp_http_server_exempt_uid(daemon->http, geteuid());
  if (!pp_http_server_set_limits(daemon->http, &limits, &error)) {
    pp_say_error("%s", error->message);
    return PP_EXIT_USAGE;
  }
  if (config->tls_cert[0] == '\0')
    return PP_EXIT_OK;
  if (!pp_http_server_set_tls(daemon->http, config->tls_cert, config->tls_key, &error)) {
    pp_say_error("%s", error->message);
    return g_error_matches(error, PP_HTTP_ERROR, PP_HTTP_ERROR_INVALID) ? PP_EXIT_USAGE
                                                                        : PP_EXIT_RUNTIME;
  }
  if (pp_http_server_get_tls_expiry(daemon->http) < g_get_real_time() / G_USEC_PER_SEC) {
    g_autoptr(GDateTime) at =
        g_date_time_new_from_unix_utc(pp_http_server_get_tls_expiry(daemon->http));
    g_autofree char *when = at != NULL ? g_date_time_format_iso8601(at) : g_strdup("?");

    g_warning("the TLS certificate '%s' expired on %s: clients will refuse it", config->tls_cert,
              when);
  }
  if (stat(config->tls_key, &st) == 0 && (st.st_mode & 0077) != 0)
    g_warning("the TLS key '%s' is open to group or others (mode %04o): chmod 600 it",
              config->tls_key, (guint)(st.st_mode & 07777));
  return PP_EXIT_OK;
}

/* The most of an answer to GET /v1/status that pcipassd --status reads. */
#define STATUS_MAX_ANSWER (64 * 1024)

/* pcipassd --status: asks the running pcipassd of @config's socket who it
 * is and who leads its store (GET /v1/status, authenticated as the caller
 * by the socket's peer credentials). 0 when it answers; 1 when it cannot
 * be asked. */
static int
print_status(const PpDaemonConfig *config, gboolean as_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new(config->socket);
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GByteArray) answer = g_byte_array_new();
  static const char request[] = "GET /v1/status HTTP/1.1\r\nHost: localhost\r\n"
                                "Connection: close\r\n\r\n";
  g_autoptr(json_t) json = NULL;
  const char *body, *leader_name = NULL, *name = NULL, *store = NULL;
  guint8 buf[4096];
  gssize n;
  int leader = 0, code = 0;
  json_int_t since = 0, schema = 0;
  json_error_t jerror;

  g_socket_client_set_timeout(client, 10);
  conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(address), NULL, &error);
  if (conn == NULL ||
      !g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)), request,
                                 sizeof(request) - 1, NULL, NULL, &error)) {
    pp_say_error("cannot ask pcipassd on '%s': %s (is it running? --socket names another)",
                 config->socket, error->message);
    return PP_EXIT_RUNTIME;
  }
  while ((n = g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(conn)), buf, sizeof(buf),
                                  NULL, &error)) > 0 &&
         answer->len + (gsize)n <= STATUS_MAX_ANSWER)
    g_byte_array_append(answer, buf, (guint)n);
  if (n < 0) {
    pp_say_error("reading pcipassd's answer on '%s': %s", config->socket, error->message);
    return PP_EXIT_RUNTIME;
  }
  g_byte_array_append(answer, (const guint8 *)"", 1);
  body = strstr((const char *)answer->data, "\r\n\r\n");
  if (sscanf((const char *)answer->data, "HTTP/1.%*d %d", &code) != 1 || body == NULL) {
    pp_say_error("pcipassd on '%s' answered something that is not HTTP", config->socket);
    return PP_EXIT_RUNTIME;
  }
  body += 4;
  json = json_loads(body, 0, &jerror);
  if (code != 200 || json == NULL) {
    json_t *message =
        json != NULL ? json_object_get(json_object_get(json, "error"), "message") : NULL;

    pp_say_error("pcipassd on '%s' answered %d: %s", config->socket, code,
                 json_is_string(message) ? json_string_value(message) : "(no message)");
    return PP_EXIT_RUNTIME;
  }
  if (as_json) {
    g_autofree char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    printf("%s\n", text);
    return PP_EXIT_OK;
  }
  if (json_unpack(json, "{s:b, s?s, s?s, s:I, s:s, s:I}", "leader", &leader, "name", &name,
                  "leader_name", &leader_name, "leader_since", &since, "store", &store, "schema",
                  &schema) != 0) {
    pp_say_error("pcipassd on '%s' answered a status without its fields", config->socket);
    return PP_EXIT_RUNTIME;
  }
  printf("pcipassd on '%s': %s\n", config->socket,
         leader ? "the leader (it runs the monitor, the scheduler and the deployer)"
                : "a standby (it serves the API; it leads when the leader is gone)");
  printf("this pcipassd: %s\n", name != NULL ? name : "?");
  if (since > 0) {
    g_autoptr(GDateTime) at = g_date_time_new_from_unix_utc(since);
    g_autofree char *when = at != NULL ? g_date_time_format_iso8601(at) : g_strdup("?");

    printf("leader: %s, since %s\n", leader_name != NULL ? leader_name : "?", when);
  } else {
    printf("leader: %s\n", leader_name != NULL ? leader_name : "none recorded yet");
  }
  printf("store: %s, schema %" JSON_INTEGER_FORMAT "\n", store, schema);
  return PP_EXIT_OK;
}

static int
run(PpDaemon *daemon)
{
  const PpDaemonConfig *config = daemon->config;
  g_autoptr(GError) error = NULL;
  /* A PostgreSQL store is a URI: no file, no folder of ours. */
  gboolean db_file = pp_store_location_is_file(config->database);
  g_autofree char *db_dir = db_file ? g_path_get_dirname(config->database) : NULL;
  g_autofree char *socket_dir = g_path_get_dirname(config->socket);
  PpMonitorConfig monitor = {
    .interval_s = config->monitor_interval,
    .timeout_s = config->probe_timeout,
    .parallel = config->probe_parallel,
    .probe_path = config->probe_path,
    .connect_timeout_s = config->ssh_connect_timeout,
    .max_output = PP_PROBE_REPORT_MAX_SIZE,
    .host_checked = on_host_checked,
    .host_checked_data = daemon,
  };
  g_auto(GStrv) image_dirs = pp_daemon_config_get_image_dirs(config);
  PpSchedulerConfig scheduler = {
    .interval_s = config->schedule_interval,
    .policy = strcmp(config->placement_policy, "stripe") == 0 ? PP_PLACE_POLICY_STRIPE
                                                              : PP_PLACE_POLICY_PACK,
    .deploy_tries = config->deploy_tries,
  };
  g_autofree char *name = daemon_name(config);
  int status;

  daemon->images = pp_images_new((const char *const *)image_dirs);
  daemon->api.images = daemon->images;
  /* Checked when the configuration was read. */
  if (!pp_mac_prefix_parse(config->mac_prefix, &daemon->mac_prefix, NULL))
    g_assert_not_reached();
  daemon->api.mac_prefix = &daemon->mac_prefix;
  scheduler.images = daemon->images;
  daemon->monitor_config = monitor;
  daemon->scheduler_config = scheduler;

  /* Each step records what it makes: a start that fails leaves nothing
   * new behind. The HTTP server's settings and TLS files first: they make
   * nothing. Then the lock, so that a second daemon touches nothing; the
   * store last, once the listeners are ours. */
  status = make_http(daemon);
  if (status != PP_EXIT_OK)
    return status;
  if (!make_dir_recorded(config->state_dir, 0700, "state folder", daemon->made, &error) ||
      !take_lock(daemon, &error) ||
      (db_file && !make_dir_recorded(db_dir, 0700, "database's folder", daemon->made, &error)) ||
      !make_dir_recorded(socket_dir, 0755, "socket's folder", daemon->made, &error)) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  daemon->api.started = g_get_real_time() / G_USEC_PER_SEC;
  daemon->api.http = daemon->http;
  daemon->sessions = pp_sessions_new();
  daemon->api.sessions = daemon->sessions;
  if (!pp_http_server_listen_unix(daemon->http, config->socket, 0666, &error) ||
      (config->listen[0] != '\0' &&
       !pp_http_server_listen_tcp(daemon->http, config->listen, &error))) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  if (db_file) {
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

    for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
      g_autofree char *file = g_strconcat(config->database, suffixes[i], NULL);

      if (!g_file_test(file, G_FILE_TEST_EXISTS))
        g_ptr_array_add(daemon->made, g_steal_pointer(&file));
    }
  }
  daemon->store = pp_store_open(config->database, &error);
  if (daemon->store == NULL) {
    pp_say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  daemon->api.store = daemon->store;
  daemon->events = pp_events_new(daemon->store, daemon->sessions, config->event_heartbeat);
  daemon->api.events = daemon->events;
  /* Started: what it made stays. */
  g_ptr_array_set_size(daemon->made, 0);

  /* The loops run where the leader is: here at once on SQLite; on
   * PostgreSQL once this pcipassd holds the store's leader lock. */
  daemon->leader = pp_leader_new(daemon->store, name, on_leading, daemon);
  daemon->api.leader = daemon->leader;
  pp_leader_start(daemon->leader);
  if (!pp_leader_is_leading(daemon->leader))
    g_message("standing by as '%s': another pcipassd leads this store; this one serves the API "
              "and leads when that one is gone",
              name);
  check_image_dirs(daemon->images);

  g_unix_signal_add(SIGTERM, on_signal, daemon);
  g_unix_signal_add(SIGINT, on_signal, daemon);
  if (config->listen[0] != '\0' && config->tls_cert[0] == '\0')
    g_warning("TCP on '%s' is plain HTTP, unencrypted: tokens and answers cross the network in "
              "the clear; give --tls-cert and --tls-key for TLS",
              config->listen);
  if (config->listen[0] != '\0')
    g_message("pcipassd %s: store '%s' (schema %d), socket '%s', TCP port %u (%s)", PACKAGE_VERSION,
              pp_store_get_location(daemon->store), pp_store_get_schema_version(daemon->store),
              config->socket, pp_http_server_get_tcp_port(daemon->http),
              config->tls_cert[0] != '\0' ? "TLS" : "plain HTTP");
  else
    g_message("pcipassd %s: store '%s' (schema %d), socket '%s'", PACKAGE_VERSION,
              pp_store_get_location(daemon->store), pp_store_get_schema_version(daemon->store),
              config->socket);

  daemon->loop = g_main_loop_new(NULL, FALSE);
  g_main_loop_run(daemon->loop);
  g_message("stopped");
  return PP_EXIT_OK;
}

static void
daemon_clear(PpDaemon *daemon)
{
  /* The monitor and the scheduler first: they report to the store. */
  g_clear_pointer(&daemon->leader, pp_leader_free);
  stop_loops(daemon);
  /* The event streams end before their server stops. */
  g_clear_pointer(&daemon->events, pp_events_free);
  /* The listeners remove their sockets; then what a failed start made. */
  g_clear_pointer(&daemon->http, pp_http_server_free);
  g_clear_pointer(&daemon->store, pp_store_free);
  g_clear_pointer(&daemon->images, pp_images_free);
  g_clear_pointer(&daemon->sessions, pp_sessions_free);
  if (daemon->made != NULL)
    undo_start(daemon);
  g_clear_pointer(&daemon->made, g_ptr_array_unref);
  /* Unlocked last: no other daemon starts before this one is gone. */
  if (daemon->lock_fd >= 0) {
    if (daemon->lock_path != NULL)
      unlink(daemon->lock_path);
    close(daemon->lock_fd);
    daemon->lock_fd = -1;
  }
  g_clear_pointer(&daemon->lock_path, g_free);
  g_clear_pointer(&daemon->loop, g_main_loop_unref);
  g_clear_pointer(&daemon->config, pp_daemon_config_free);
}

int
main(int argc, char **argv)
{
  const char *const *keys = pp_daemon_config_keys();
  g_autofree char *config_file = NULL;
  gboolean print_config = FALSE, version = FALSE, status_asked = FALSE, as_json = FALSE,
           config_read;
  Options options = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free) };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GOptionGroup) group = NULL;
  g_autoptr(GArray) entries = g_array_new(TRUE, TRUE, sizeof(GOptionEntry));
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GHashTableIter iter;
  gpointer key, value;
  PpDaemon daemon = { .lock_fd = -1 };
  gsize len = 0;
  int status;
  const GOptionEntry main_entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_file,
      "The config file (default " DEFAULT_CONFIG ", if it exists)", "FILE" },
    { "print-config", 0, 0, G_OPTION_ARG_NONE, &print_config,
      "Print the settings in effect and exit", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { "status", 0, 0, G_OPTION_ARG_NONE, &status_asked,
      "Ask the running pcipassd (on --socket) whether it leads its store, and who does; exit",
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, "With --status: print the answer as JSON", NULL },
    { NULL }
  };

  g_set_prgname("pcipassd");
  context = g_option_context_new(NULL);
  g_option_context_set_summary(
      context, "pcipass's daemon: keeps the hosts' PCI inventory (probing them every "
               "interval),\nand serves the HTTP+JSON API on a Unix socket and optionally TCP.\n"
               "Runs in the foreground and logs to stderr. See pcipassd(8).");
  g_option_context_set_description(
      context, "Every setting is also a config file key (key = value). The command line\n"
               "overrides the file; the file overrides the defaults.\n"
               "Exit status: 0 stopped cleanly, 1 runtime failure, 2 bad usage or config.\n");
  group = g_option_group_new("pcipassd", "pcipassd", "Show the options", &options, NULL);
  for (guint i = 0; keys[i] != NULL; i++) {
    GOptionEntry entry = {
      keys[i], 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)on_option, pp_daemon_config_key_help(keys[i]),
      "VALUE"
    };

    g_array_append_val(entries, entry);
  }
  g_option_group_add_entries(group, (const GOptionEntry *)(void *)entries->data);
  /* The settings are the main options: the callbacks get &options. */
  g_option_context_set_main_group(context, g_steal_pointer(&group));
  g_option_context_add_main_entries(context, main_entries, NULL);

  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    pp_say_error("%s (try --help)", error->message);
    g_hash_table_unref(options.overrides);
    return PP_EXIT_USAGE;
  }
  if (version) {
    printf("pcipassd %s\n", PACKAGE_VERSION);
    g_hash_table_unref(options.overrides);
    return PP_EXIT_OK;
  }
  if (argc > 1) {
    pp_say_error("unexpected argument '%s' (try --help)", argv[1]);
    g_hash_table_unref(options.overrides);
    return PP_EXIT_USAGE;
  }

  daemon.config = pp_daemon_config_new();
  config_read = config_file != NULL || g_file_test(DEFAULT_CONFIG, G_FILE_TEST_EXISTS);
  if (config_read) {
    const char *path = config_file ? config_file : DEFAULT_CONFIG;

    if (!pp_file_read(path, CONFIG_MAX_SIZE, &text, &len, &error) ||
        !pp_daemon_config_parse(daemon.config, text, len, &error)) {
      pp_say_error("%s%s%s", error->domain == PP_DAEMON_CONFIG_ERROR ? path : "",
                   error->domain == PP_DAEMON_CONFIG_ERROR ? ": " : "", error->message);
      g_hash_table_unref(options.overrides);
      daemon_clear(&daemon);
      return PP_EXIT_USAGE;
    }
  }
  g_hash_table_iter_init(&iter, options.overrides);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    if (!pp_daemon_config_set(daemon.config, key, value, &error)) {
      pp_say_error("--%s", error->message);
      g_hash_table_unref(options.overrides);
      daemon_clear(&daemon);
      return PP_EXIT_USAGE;
    }
  }
  g_hash_table_unref(options.overrides);
  pp_daemon_config_finish(daemon.config);
  if (!pp_daemon_config_check(daemon.config, &error)) {
    pp_say_error("%s", error->message);
    daemon_clear(&daemon);
    return PP_EXIT_USAGE;
  }

  if (print_config) {
    g_autofree char *printed = pp_daemon_config_to_string(daemon.config);

    /* Which file the settings come from: an installed pcipassd says where
     * it looks (a comment, so that the output still reads back). */
    printf("# config file: %s%s\n", config_file ? config_file : DEFAULT_CONFIG,
           config_read ? "" : " (absent: the defaults)");
    fputs(printed, stdout);
    daemon_clear(&daemon);
    return PP_EXIT_OK;
  }

  if (as_json && !status_asked) {
    pp_say_error("--json goes with --status (try --help)");
    daemon_clear(&daemon);
    return PP_EXIT_USAGE;
  }
  if (status_asked) {
    status = print_status(daemon.config, as_json);
    daemon_clear(&daemon);
    return status;
  }

  daemon.made = g_ptr_array_new_with_free_func(g_free);
  set_log_level(daemon.config->log_level);
  signal(SIGPIPE, SIG_IGN);
  umask(022);
  raise_fd_limit(daemon.config->max_connections);
  status = run(&daemon);
  daemon_clear(&daemon);
  return status;
}
