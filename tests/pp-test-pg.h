/* pp-test-pg: a throwaway PostgreSQL server for the tests (issue 15):
 * initdb into a fresh temporary folder (as the user postgres when we are
 * root: initdb refuses root), fsync off, listening only on a Unix socket in
 * that folder; databases made in it on demand; stopped and removed at the
 * end. Never the system's cluster, never TCP. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PpTestPg PpTestPg;

/* Whether PostgreSQL's server programs (initdb, pg_ctl, postgres) are
 * installed (in $PP_PG_BINDIR if set, else where `pg_config --bindir` or
 * Debian's PostgreSQL 15 has them), and as root whether the user postgres
 * exists to run them. */
gboolean pp_test_pg_available(void);

/* For a test that needs PostgreSQL: TRUE when it is available; otherwise
 * marks the test skipped with the reason and returns FALSE, or, with
 * PP_PG_REQUIRED=1 in the environment (.ci/run), failed. */
gboolean pp_test_pg_check(void);

/* Starts a server (pg_ctl -w: ready when it returns). Returns: (transfer
 * full): it, or NULL with @error (what failed, with initdb's, pg_ctl's or
 * the server's log's words). */
PpTestPg *pp_test_pg_start(GError **error);

/* The same, with @settings (nullable: none) appended to postgresql.conf
 * after the tests' own, which they override ("shared_buffers = 128MB\n"
 * for bench-daemon). */
PpTestPg *pp_test_pg_start_with(const char *settings, GError **error);

/* The server's process (the postmaster: its backends are its children), or
 * 0 when its postmaster.pid cannot be read. */
GPid pp_test_pg_server_pid(PpTestPg *pg);

/* Creates a new empty database. Returns: (transfer full): its libpq URI
 * (postgresql:///pp_test_N?host=DIR&user=postgres), or NULL with @error. */
char *pp_test_pg_new_database(PpTestPg *pg, GError **error);

/* Returns: (transfer none): the folder of the server's socket. */
const char *pp_test_pg_socket_dir(PpTestPg *pg);

/* Stops the server (immediate), removes its folder, frees @pg. NULL is
 * fine. */
void pp_test_pg_stop(PpTestPg *pg);

/* Frees @pg and leaves its server running, and its folder (bench-daemon
 * --keep): its watchdog is ended first, so that the server outlives the
 * process. */
void pp_test_pg_keep(PpTestPg *pg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpTestPg, pp_test_pg_stop)

G_END_DECLS
