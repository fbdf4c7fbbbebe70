/* pp-test-store: where a test's store lives, by the backend the run asks
 * for: PP_TEST_STORE=postgresql (.ci/run's second store run) gives each
 * call a fresh database on one throwaway PostgreSQL server per test
 * process (pp-test-pg, started at the first call, stopped at exit);
 * unset or sqlite gives a file in the test's folder. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether this run's stores are PostgreSQL's. */
gboolean pp_test_store_is_pg(void);

/* A new, empty store's location: a postgresql:// URI, or @dir/pcipass.db.
 * Asserts that the server started. Returns: (transfer full). */
char *pp_test_store_location(const char *dir);

/* For a test of what only SQLite has (pragmas, query plans, old files):
 * TRUE on SQLite; on PostgreSQL, marks the test skipped with @why and
 * returns FALSE. */
gboolean pp_test_store_sqlite_only(const char *why);

G_END_DECLS
