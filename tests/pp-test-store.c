/* pp-test-store: a test's store, on the backend the run asks for. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pp-test-pg.h"
#include "pp-test-store.h"

static PpTestPg *server;

static void
stop_server(void)
{
  g_clear_pointer(&server, pp_test_pg_stop);
}

gboolean
pp_test_store_is_pg(void)
{
  const char *which = g_getenv("PP_TEST_STORE");

  if (which == NULL || *which == '\0' || strcmp(which, "sqlite") == 0)
    return FALSE;
  if (strcmp(which, "postgresql") != 0)
    g_error("PP_TEST_STORE is '%s': say sqlite or postgresql", which);
  return TRUE;
}

char *
pp_test_store_location(const char *dir)
{
  g_autoptr(GError) error = NULL;
  char *uri;

  if (!pp_test_store_is_pg())
    return g_build_filename(dir, "pcipass.db", NULL);
  if (server == NULL) {
    if (!pp_test_pg_available())
      g_error("PP_TEST_STORE=postgresql, but PostgreSQL's server programs are not installed "
              "(scripts/install-deps installs them)");
    server = pp_test_pg_start(&error);
    g_assert_no_error(error);
    atexit(stop_server);
  }
  uri = pp_test_pg_new_database(server, &error);
  g_assert_no_error(error);
  return uri;
}

gboolean
pp_test_store_sqlite_only(const char *why)
{
  if (!pp_test_store_is_pg())
    return TRUE;
  g_test_skip(why);
  return FALSE;
}
