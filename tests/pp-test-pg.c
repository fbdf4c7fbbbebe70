/* pp-test-pg: a throwaway PostgreSQL server (pp-test-pg.h). Programs run
 * with argv, never a shell; as root through runuser, as the user postgres. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <libpq-fe.h>

#include "pp-test-pg.h"
#include "pp-test-util.h"

#define PG_FALLBACK_BINDIR "/usr/lib/postgresql/15/bin"
#define PG_USER "postgres"
#define RUNUSER "/usr/sbin/runuser"

struct _PpTestPg {
  char *dir;      /* the temporary folder: the socket, the log, data/ */
  char *data_dir; /* dir/data */
  guint next_database;
  int watchdog_fd;   /* the pipe's end whose closing wakes the watchdog; -1: none */
  GPid watchdog_pid; /* 0: none */
};

/* The server programs' folder: $PP_PG_BINDIR, else `pg_config --bindir`,
 * else Debian's for 15. Returns: (transfer full). */
static char *
pg_bindir(void)
{
  const char *const argv[] = { "pg_config", "--bindir", NULL };
  const char *env = g_getenv("PP_PG_BINDIR");
  g_autofree char *out = NULL;
  int status = -1;

  if (env && *env)
    return g_strdup(env);
  if (g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                   NULL, NULL, &out, NULL, &status, NULL) &&
      g_spawn_check_wait_status(status, NULL) && out && *g_strstrip(out)) {
    g_autofree char *initdb = g_build_filename(out, "initdb", NULL);

    /* libpq-dev's pg_config answers /usr/lib/postgresql/15/bin too, but
     * may name a folder without the server's programs. */
    if (g_file_test(initdb, G_FILE_TEST_IS_EXECUTABLE))
      return g_steal_pointer(&out);
  }
  return g_strdup(PG_FALLBACK_BINDIR);
}

static gboolean
pg_as_postgres(void)
{
  return geteuid() == 0;
}

gboolean
pp_test_pg_available(void)
{
  g_autofree char *bindir = pg_bindir();
  static const char *const programs[] = { "initdb", "pg_ctl", "postgres" };

  for (gsize i = 0; i < G_N_ELEMENTS(programs); i++) {
    g_autofree char *path = g_build_filename(bindir, programs[i], NULL);

    if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE))
      return FALSE;
  }
  if (pg_as_postgres() &&
      (getpwnam(PG_USER) == NULL || !g_file_test(RUNUSER, G_FILE_TEST_IS_EXECUTABLE)))
    return FALSE;
  return TRUE;
}

gboolean
pp_test_pg_check(void)
{
  g_autofree char *bindir = NULL;

  if (pp_test_pg_available())
    return TRUE;
  bindir = pg_bindir();
  if (g_strcmp0(g_getenv("PP_PG_REQUIRED"), "1") == 0) {
    g_test_fail_printf("PostgreSQL's server programs are not usable in '%s' (or, as root, no "
                       "user '" PG_USER "' or no " RUNUSER "), and PP_PG_REQUIRED=1: install "
                       "Debian's postgresql",
                       bindir);
  } else {
    g_autofree char *reason = g_strdup_printf(
        "PostgreSQL's server programs are not usable in '%s': install Debian's postgresql "
        "(set PP_PG_REQUIRED=1 to make this a failure)",
        bindir);

    g_test_skip(reason);
  }
  return FALSE;
}

/* Fills @argv (not owning) with @path and @args, run as the user postgres
 * when we are root, and a NULL. */
static void
pg_program_argv(GPtrArray *argv, const char *path, const char *const *args)
{
  if (pg_as_postgres()) {
    g_ptr_array_add(argv, (gpointer)RUNUSER);
    g_ptr_array_add(argv, (gpointer) "-u");
    g_ptr_array_add(argv, (gpointer)PG_USER);
    g_ptr_array_add(argv, (gpointer) "--");
  }
  g_ptr_array_add(argv, (gpointer)path);
  for (gsize i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
}

/* Runs @program of the server's folder with @args, as the user postgres
 * when we are root. FALSE with @error (its output) when it fails. */
static gboolean
pg_run_program(const char *program, const char *const *args, GError **error)
{
  g_autofree char *bindir = pg_bindir();
  g_autofree char *path = g_build_filename(bindir, program, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;

  pg_program_argv(argv, path, args);

  proc = g_subprocess_newv((const char *const *)argv->pdata,
                           G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, error);
  if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, &out, NULL, error))
    return FALSE;
  if (!g_subprocess_get_successful(proc)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s failed: %s", path, out ? out : "");
    return FALSE;
  }
  return TRUE;
}

/* Appends the server's settings for tests to postgresql.conf: quick to
 * start, nothing synced, only the socket in @pg's folder; then @extra
 * (nullable), which overrides them. */
static gboolean
pg_configure(PpTestPg *pg, const char *extra, GError **error)
{
  g_autofree char *conf = g_build_filename(pg->data_dir, "postgresql.conf", NULL);
  g_autofree char *settings = NULL;
  g_autofree char *old = NULL;
  g_autofree char *all = NULL;

  if (!g_file_get_contents(conf, &old, NULL, error))
    return FALSE;
  settings = g_strdup_printf("\n# pp-test-pg\n"
                             "listen_addresses = ''\n"
                             "unix_socket_directories = '%s'\n"
                             "fsync = off\n"
                             "synchronous_commit = off\n"
                             "full_page_writes = off\n"
                             "shared_buffers = 16MB\n"
                             "max_connections = 100\n"
                             "max_wal_senders = 0\n"
                             "wal_level = minimal\n"
                             "logging_collector = off\n",
                             pg->dir);
  all = g_strconcat(old, settings, extra != NULL ? extra : "", NULL);
  /* g_file_set_contents() would replace the file, its owner root's. */
  FILE *f = fopen(conf, "w");
  if (!f || fputs(all, f) < 0 || fclose(f) != 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "cannot write '%s': %s", conf,
                g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

/* A process that outlives the test's: when the test ends without
 * stopping the server (an assertion's abort, meson's kill at a timeout),
 * the pipe's other end closes and the watchdog stops the server and
 * removes its folder, so that no server is left running. It leaves the
 * test's process group (meson kills the group) and, between fork and
 * exec, calls only what is safe there: every argument is made before. */
static void
pg_start_watchdog(PpTestPg *pg)
{
  g_autofree char *bindir = pg_bindir();
  g_autofree char *pg_ctl = g_build_filename(bindir, "pg_ctl", NULL);
  const char *const stop_args[] = {
    "-D", pg->data_dir, "-m", "immediate", "-w", "-s", "stop", NULL
  };
  const char *const rm_argv[] = { "/bin/rm", "-rf", "--", pg->dir, NULL };
  g_autoptr(GPtrArray) stop_argv = g_ptr_array_new();
  int fds[2];
  pid_t pid;

  pg_program_argv(stop_argv, pg_ctl, stop_args);
  /* O_CLOEXEC: no other child (pcipassd, the server) keeps the pipe
   * open. */
  if (pipe2(fds, O_CLOEXEC) != 0)
    return;
  pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    char c;
    pid_t stopper;

    close(fds[1]);
    setsid();
    if (null >= 0) {
      dup2(null, STDIN_FILENO);
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    /* Only the pipe, as 3: no copy of the test's other descriptors (a
     * socket, a pipe a reader waits to see closed) outlives the test. */
    if (fds[0] != 3 && dup2(fds[0], 3) < 0)
      _exit(1);
    close_range(4, ~0U, 0);
    while (read(3, &c, 1) < 0 && errno == EINTR)
      ;
    stopper = fork();
    if (stopper == 0) {
      execv(stop_argv->pdata[0], (char *const *)stop_argv->pdata);
      _exit(127);
    }
    if (stopper > 0)
      while (waitpid(stopper, NULL, 0) < 0 && errno == EINTR)
        ;
    execv(rm_argv[0], (char *const *)rm_argv);
    _exit(127);
  }
  close(fds[0]);
  if (pid < 0) {
    close(fds[1]);
    return;
  }
  pg->watchdog_fd = fds[1];
  pg->watchdog_pid = pid;
}

PpTestPg *
pp_test_pg_start(GError **error)
{
  return pp_test_pg_start_with(NULL, error);
}

PpTestPg *
pp_test_pg_start_with(const char *settings, GError **error)
{
  g_autoptr(PpTestPg) pg = g_new0(PpTestPg, 1);
  g_autofree char *log = NULL;

  pg->watchdog_fd = -1;
  pg->dir = pp_test_mkdtemp();
  pg->data_dir = g_build_filename(pg->dir, "data", NULL);
  log = g_build_filename(pg->dir, "server.log", NULL);
  if (pg_as_postgres()) {
    struct passwd *pw = getpwnam(PG_USER);

    if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot give '%s' to " PG_USER ": %s",
                  pg->dir, pw ? g_strerror(errno) : "no such user");
      return NULL;
    }
  }
  if (!pg_run_program("initdb",
                      (const char *const[]){ "-D", pg->data_dir, "-U", PG_USER, "-A", "trust", "-E",
                                             "UTF8", "--locale=C", "--no-sync", NULL },
                      error) ||
      !pg_configure(pg, settings, error))
    return NULL;
  if (!pg_run_program("pg_ctl",
                      (const char *const[]){ "-D", pg->data_dir, "-l", log, "-w", "-t", "60", "-s",
                                             "start", NULL },
                      error)) {
    g_autofree char *text = NULL;

    if (g_file_get_contents(log, &text, NULL, NULL))
      g_prefix_error(error, "server log: %s\n", text);
    return NULL;
  }
  pg_start_watchdog(pg);
  return g_steal_pointer(&pg);
}

GPid
pp_test_pg_server_pid(PpTestPg *pg)
{
  g_autofree char *path = g_build_filename(pg->data_dir, "postmaster.pid", NULL);
  g_autofree char *text = NULL;
  guint64 pid = 0;

  /* Its first line is the postmaster's pid. */
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0;
  text[strcspn(text, "\n")] = '\0';
  if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT, &pid, NULL))
    return 0;
  return (GPid)pid;
}

const char *
pp_test_pg_socket_dir(PpTestPg *pg)
{
  return pg->dir;
}

/* Returns: (transfer full): the URI of database @name. */
static char *
pg_uri(PpTestPg *pg, const char *name)
{
  g_autofree char *host = g_uri_escape_string(pg->dir, "/", FALSE);

  return g_strdup_printf("postgresql:///%s?host=%s&user=" PG_USER, name, host);
}

char *
pp_test_pg_new_database(PpTestPg *pg, GError **error)
{
  g_autofree char *admin = pg_uri(pg, "postgres");
  g_autofree char *name = g_strdup_printf("pp_test_%u", ++pg->next_database);
  g_autofree char *sql = g_strdup_printf("CREATE DATABASE %s", name);
  PGconn *conn = PQconnectdb(admin);
  PGresult *result = NULL;
  gboolean ok;

  if (PQstatus(conn) != CONNECTION_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot connect to '%s': %s", admin,
                PQerrorMessage(conn));
    PQfinish(conn);
    return NULL;
  }
  result = PQexec(conn, sql);
  ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  if (!ok)
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", sql, PQerrorMessage(conn));
  PQclear(result);
  PQfinish(conn);
  return ok ? pg_uri(pg, name) : NULL;
}

void
pp_test_pg_keep(PpTestPg *pg)
{
  if (!pg)
    return;
  /* Killed before its pipe closes: closing it first would stop the
   * server. */
  if (pg->watchdog_pid > 0) {
    kill(pg->watchdog_pid, SIGKILL);
    while (waitpid(pg->watchdog_pid, NULL, 0) < 0 && errno == EINTR)
      ;
  }
  if (pg->watchdog_fd >= 0)
    close(pg->watchdog_fd);
  g_free(pg->data_dir);
  g_free(pg->dir);
  g_free(pg);
}

void
pp_test_pg_stop(PpTestPg *pg)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pid_file = NULL;

  if (!pg)
    return;
  if (pg->data_dir) {
    pid_file = g_build_filename(pg->data_dir, "postmaster.pid", NULL);
    if (g_file_test(pid_file, G_FILE_TEST_EXISTS) &&
        !pg_run_program("pg_ctl",
                        (const char *const[]){ "-D", pg->data_dir, "-m", "immediate", "-w", "-s",
                                               "stop", NULL },
                        &error))
      g_printerr("# stopping the test's PostgreSQL: %s\n", error->message);
  }
  if (pg->dir)
    pp_test_rmtree(pg->dir);
  /* The watchdog finds the server stopped and the folder gone, and ends. */
  if (pg->watchdog_fd >= 0)
    close(pg->watchdog_fd);
  if (pg->watchdog_pid > 0)
    while (waitpid(pg->watchdog_pid, NULL, 0) < 0 && errno == EINTR)
      ;
  g_free(pg->data_dir);
  g_free(pg->dir);
  g_free(pg);
}
