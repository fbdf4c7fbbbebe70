/* test-db: pp-db.h's contract, on SQLite (a temporary file) and on
 * PostgreSQL (a throwaway server, pp-test-pg.h; skipped when it is not
 * installed, unless PP_PG_REQUIRED=1): parameters, binds and columns,
 * changes, errors and their codes, transactions and the write lock between
 * two connections, changes watched, and a connection killed by the server
 * then made again. */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pp-db-pg.h"
#include "pp-db.h"
#include "pp-test-pg.h"
#include "pp-test-util.h"

typedef struct {
  PpDbKind kind;
  const char *name;
} Backend;

static const Backend backend_sqlite = { PP_DB_KIND_SQLITE, "sqlite" };
static const Backend backend_pg = { PP_DB_KIND_POSTGRESQL, "postgresql" };

/* One server for the whole run, started by the first PostgreSQL test. */
static PpTestPg *test_pg;
static gboolean test_pg_failed;

typedef struct {
  const Backend *backend;
  char *dir;      /* SQLite: the database's folder */
  char *location; /* the path or the URI; NULL: the test is skipped */
  PpDb *db;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->backend = data;
  if (f->backend->kind == PP_DB_KIND_SQLITE) {
    f->dir = pp_test_mkdtemp();
    f->location = g_build_filename(f->dir, "test.db", NULL);
  } else {
    if (!pp_test_pg_check())
      return;
    if (!test_pg && !test_pg_failed) {
      test_pg = pp_test_pg_start(&error);
      g_assert_no_error(error);
    }
    f->location = pp_test_pg_new_database(test_pg, &error);
    g_assert_no_error(error);
  }
  f->db = pp_db_open(f->location, &error);
  g_assert_no_error(error);
  g_assert_nonnull(f->db);
  g_assert_cmpint(pp_db_get_kind(f->db), ==, f->backend->kind);
  /* As the store has it: WAL, readers never block the writer. */
  if (f->backend->kind == PP_DB_KIND_SQLITE)
    g_assert_true(pp_db_exec(f->db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON"));
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  pp_db_close(f->db);
  if (f->dir)
    pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->location);
}

#define SKIP_IF_NO_DB(f)                                                                           \
  do {                                                                                             \
    if (!(f)->location)                                                                            \
      return;                                                                                      \
  } while (0)

static gboolean
is_pg(Fixture *f)
{
  return f->backend->kind == PP_DB_KIND_POSTGRESQL;
}

/* A second connection to the fixture's database. */
static PpDb *
open_other(Fixture *f)
{
  g_autoptr(GError) error = NULL;
  PpDb *db = pp_db_open(f->location, &error);

  g_assert_no_error(error);
  return db;
}

static void
exec_ok(PpDb *db, const char *sql)
{
  if (!pp_db_exec(db, sql))
    g_error("'%s': %s", sql, pp_db_errmsg(db));
}

/* The single integer that @sql (one row, one column) gives. */
static gint64
query_int(PpDb *db, const char *sql)
{
  PpDbStmt *stmt = pp_db_prepare(db, sql);
  gint64 value;

  g_assert_nonnull(stmt);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  value = pp_db_column_int64(stmt, 0);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  pp_db_finalize(stmt);
  return value;
}

/* ------------------------------------------------------------------------ */

static void
test_params(Fixture *f, gconstpointer data)
{
  PpDbStmt *stmt;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, "CREATE TABLE p (id bigint PRIMARY KEY, a text, b bigint, \"odd?1\" text)");

  /* ?1 twice. */
  stmt = pp_db_prepare(f->db, "INSERT INTO p (id, a, b, \"odd?1\") VALUES (?1, ?2, ?1, 'q?2')");
  g_assert_nonnull(stmt);
  pp_db_bind_int64(stmt, 1, 7);
  pp_db_bind_text(stmt, 2, "x");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  pp_db_finalize(stmt);
  g_assert_cmpint(query_int(f->db, "SELECT b FROM p WHERE id = 7"), ==, 7);

  /* '?1' in a string, "odd?1" an identifier, ?3 in a comment: left as they
   * are; ?2 and ?1 out of order. */
  stmt = pp_db_prepare(f->db, "SELECT '?1', \"odd?1\", a || ?2 FROM p -- not ?3\n"
                              "WHERE id = ?1 /* nor ?4 */");
  g_assert_nonnull(stmt);
  pp_db_bind_int64(stmt, 1, 7);
  pp_db_bind_text(stmt, 2, "y");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_count(stmt), ==, 3);
  g_assert_cmpstr(pp_db_column_text(stmt, 0), ==, "?1");
  g_assert_cmpstr(pp_db_column_text(stmt, 1), ==, "q?2");
  g_assert_cmpstr(pp_db_column_text(stmt, 2), ==, "xy");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);

  /* Reset, bound again: runs again with the new values. */
  pp_db_reset(stmt);
  pp_db_bind_int64(stmt, 1, 8);
  pp_db_bind_text(stmt, 2, "y");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  pp_db_finalize(stmt);

  /* ?2 not used (SQLite allows it): bound all the same. */
  stmt = pp_db_prepare(f->db, "SELECT a FROM p WHERE id = ?1 OR id = ?3");
  g_assert_nonnull(stmt);
  pp_db_bind_int64(stmt, 1, 0);
  pp_db_bind_text(stmt, 2, "unused");
  pp_db_bind_int64(stmt, 3, 7);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpstr(pp_db_column_text(stmt, 0), ==, "x");
  pp_db_finalize(stmt);

  if (is_pg(f)) {
    /* PostgreSQL has no bare '?': refused at prepare, with where. */
    g_assert_null(pp_db_prepare(f->db, "SELECT a FROM p WHERE id = ?"));
    g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_FAILED);
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "bare '?' at offset 27"));
    g_assert_null(pp_db_prepare(f->db, "SELECT ?0"));
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "'?0'"));
    g_assert_null(pp_db_prepare(f->db, "SELECT ?99999999999999999999"));
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "out of range"));

    /* Finalized statements do not pile up on the server. */
    gint64 before = query_int(f->db, "SELECT count(*) FROM pg_prepared_statements");
    for (int i = 0; i < 5; i++)
      g_assert_cmpint(query_int(f->db, "SELECT 1"), ==, 1);
    g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM pg_prepared_statements"), ==, before);
  }
}

static void
test_binds(Fixture *f, gconstpointer data)
{
  const char *odd = "it's \"quoted\" -- ?1 \\ é ü 日本";
  char buffer[16] = "copied";
  PpDbStmt *insert;
  PpDbStmt *select;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, "CREATE TABLE v (id bigint PRIMARY KEY, i bigint, s text)");
  insert = pp_db_prepare(f->db, "INSERT INTO v (id, i, s) VALUES (?1, ?2, ?3)");
  g_assert_nonnull(insert);

  pp_db_bind_int64(insert, 1, 1);
  pp_db_bind_int64(insert, 2, G_MAXINT64);
  pp_db_bind_text(insert, 3, odd);
  g_assert_cmpint(pp_db_step(insert), ==, PP_DB_STEP_DONE);
  pp_db_reset(insert);

  pp_db_bind_int64(insert, 1, 2);
  pp_db_bind_int64(insert, 2, G_MININT64);
  pp_db_bind_null(insert, 3);
  g_assert_cmpint(pp_db_step(insert), ==, PP_DB_STEP_DONE);
  pp_db_reset(insert);

  /* ?2 not bound after the reset: NULL; ?3 copied, then the buffer changed. */
  pp_db_bind_int(insert, 1, 3);
  pp_db_bind_text_copy(insert, 3, buffer);
  strcpy(buffer, "changed");
  g_assert_cmpint(pp_db_step(insert), ==, PP_DB_STEP_DONE);
  pp_db_reset(insert);

  pp_db_bind_int(insert, 1, 4);
  pp_db_bind_int(insert, 2, G_MININT32);
  pp_db_bind_text(insert, 3, NULL);
  g_assert_cmpint(pp_db_step(insert), ==, PP_DB_STEP_DONE);
  pp_db_reset(insert);

  /* The first bytes of a longer text. */
  pp_db_bind_int(insert, 1, 5);
  pp_db_bind_text_len(insert, 3, "abcdef", 3);
  g_assert_cmpint(pp_db_step(insert), ==, PP_DB_STEP_DONE);
  pp_db_finalize(insert);

  select = pp_db_prepare(f->db, "SELECT id, i, s FROM v ORDER BY id");
  g_assert_nonnull(select);
  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int64(select, 1), ==, G_MAXINT64);
  g_assert_cmpstr(pp_db_column_text(select, 2), ==, odd);
  g_assert_cmpuint(pp_db_column_bytes(select, 2), ==, strlen(odd));
  g_assert_false(pp_db_column_is_null(select, 2));

  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(select, 0), ==, 2);
  g_assert_cmpint(pp_db_column_int64(select, 1), ==, G_MININT64);
  g_assert_true(pp_db_column_is_null(select, 2));
  g_assert_null(pp_db_column_text(select, 2));
  g_assert_cmpuint(pp_db_column_bytes(select, 2), ==, 0);

  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_ROW);
  g_assert_true(pp_db_column_is_null(select, 1));
  g_assert_cmpint(pp_db_column_int64(select, 1), ==, 0);
  g_assert_cmpstr(pp_db_column_text(select, 2), ==, "copied");

  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(select, 1), ==, G_MININT32);
  g_assert_true(pp_db_column_is_null(select, 2));

  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_ROW);
  g_assert_cmpstr(pp_db_column_text(select, 2), ==, "abc");
  g_assert_cmpuint(pp_db_column_bytes(select, 2), ==, 3);
  g_assert_cmpint(pp_db_step(select), ==, PP_DB_STEP_DONE);
  pp_db_finalize(select);
}

static void
test_columns(Fixture *f, gconstpointer data)
{
  PpDbStmt *stmt;

  SKIP_IF_NO_DB(f);
  /* PostgreSQL's booleans read as SQLite's integers. */
  stmt = pp_db_prepare(f->db, "SELECT 1 = 1 AS yes, 1 = 0 AS no, NULL = 1 AS unknown, 'text' AS t");
  g_assert_nonnull(stmt);
  g_assert_cmpint(pp_db_column_count(stmt), ==, 4);
  g_assert_cmpstr(pp_db_column_name(stmt, 0), ==, "yes");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(stmt, 0), ==, 1);
  g_assert_cmpint(pp_db_column_int64(stmt, 1), ==, 0);
  g_assert_cmpstr(pp_db_column_text(stmt, 0), ==, "1");
  g_assert_cmpstr(pp_db_column_text(stmt, 1), ==, "0");
  g_assert_true(pp_db_column_is_null(stmt, 2));
  g_assert_cmpstr(pp_db_column_name(stmt, 3), ==, "t");
  g_assert_cmpstr(pp_db_column_text(stmt, 3), ==, "text");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  pp_db_finalize(stmt);
}

static void
test_changes(Fixture *f, gconstpointer data)
{
  PpDbStmt *stmt;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, is_pg(f) ? "CREATE TABLE c (id bigint GENERATED BY DEFAULT AS IDENTITY "
                            "PRIMARY KEY, n bigint NOT NULL)"
                          : "CREATE TABLE c (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER "
                            "NOT NULL)");
  stmt = pp_db_prepare(f->db, "INSERT INTO c (n) VALUES (?1) RETURNING id");
  g_assert_nonnull(stmt);
  for (int i = 1; i <= 3; i++) {
    pp_db_reset(stmt);
    pp_db_bind_int(stmt, 1, i * 10);
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
    g_assert_cmpint(pp_db_column_int64(stmt, 0), ==, i);
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  }
  g_assert_cmpint(pp_db_changes(f->db), ==, 1);
  pp_db_finalize(stmt);

  stmt = pp_db_prepare(f->db, "UPDATE c SET n = n + 1 WHERE n >= ?1");
  pp_db_bind_int(stmt, 1, 20);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  g_assert_cmpint(pp_db_changes(f->db), ==, 2);
  /* A SELECT leaves it. */
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM c"), ==, 3);
  g_assert_cmpint(pp_db_changes(f->db), ==, 2);
  pp_db_reset(stmt);
  pp_db_bind_int(stmt, 1, 1000);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  g_assert_cmpint(pp_db_changes(f->db), ==, 0);
  pp_db_finalize(stmt);

  stmt = pp_db_prepare(f->db, "DELETE FROM c WHERE id = ?1");
  pp_db_bind_int(stmt, 1, 3);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  g_assert_cmpint(pp_db_changes(f->db), ==, 1);
  pp_db_finalize(stmt);
}

static const char schema_errors_sqlite[] =
    "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
    "CREATE TABLE child (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " parent_id INTEGER REFERENCES parent (id), name TEXT NOT NULL UNIQUE,"
    " n INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0));"
    "CREATE TRIGGER child_held BEFORE INSERT ON child WHEN NEW.n = 99"
    " BEGIN SELECT RAISE(ABORT, 'device is held by another VM'); END;"
    "INSERT INTO parent (id) VALUES (1);";

static const char schema_errors_pg[] =
    "CREATE TABLE parent (id bigint PRIMARY KEY);"
    "CREATE TABLE child (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " parent_id bigint REFERENCES parent (id), name text NOT NULL UNIQUE,"
    " n bigint NOT NULL DEFAULT 0 CHECK (n >= 0));"
    "CREATE FUNCTION child_held() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF NEW.n = 99 THEN RAISE EXCEPTION 'device is held by another VM'"
    " USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$;"
    "CREATE TRIGGER child_held BEFORE INSERT ON child FOR EACH ROW"
    " EXECUTE FUNCTION child_held();"
    "INSERT INTO parent (id) VALUES (1);";

static void
test_errors(Fixture *f, gconstpointer data)
{
  /* parent_id, name (NULL: SQL NULL), n; the code; the message on SQLite,
   * on PostgreSQL. */
  static const struct {
    gint64 parent;
    const char *name;
    gint64 n;
    PpDbErr code;
    const char *sqlite;
    const char *pg;
  } cases[] = {
    { 1, "a", 0, PP_DB_ERR_CONFLICT, "UNIQUE constraint failed: child.name",
      "duplicate key value violates unique constraint \"child_name_key\"" },
    { 1, "b", -1, PP_DB_ERR_INVALID, "CHECK constraint failed: n >= 0",
      "new row for relation \"child\" violates check constraint \"child_n_check\"" },
    { 1, NULL, 0, PP_DB_ERR_INVALID, "NOT NULL constraint failed: child.name",
      "null value in column \"name\" of relation \"child\" violates not-null constraint" },
    { 42, "c", 0, PP_DB_ERR_CONFLICT, "FOREIGN KEY constraint failed",
      "insert or update on table \"child\" violates foreign key constraint "
      "\"child_parent_id_fkey\"" },
    { 1, "d", 99, PP_DB_ERR_CONFLICT, "device is held by another VM",
      "device is held by another VM" },
  };
  PpDbStmt *stmt;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, is_pg(f) ? schema_errors_pg : schema_errors_sqlite);
  stmt = pp_db_prepare(f->db, "INSERT INTO child (parent_id, name, n) VALUES (?1, ?2, ?3) "
                              "RETURNING id");
  g_assert_nonnull(stmt);
  pp_db_bind_int(stmt, 1, 1);
  pp_db_bind_text(stmt, 2, "a");
  pp_db_bind_int(stmt, 3, 0);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int64(stmt, 0), ==, 1);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_NONE);

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_test_message("case %zu: %s", i, is_pg(f) ? cases[i].pg : cases[i].sqlite);
    pp_db_reset(stmt);
    pp_db_bind_int64(stmt, 1, cases[i].parent);
    pp_db_bind_text(stmt, 2, cases[i].name);
    pp_db_bind_int64(stmt, 3, cases[i].n);
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ERROR);
    g_assert_cmpint(pp_db_errcode(f->db), ==, cases[i].code);
    g_assert_cmpstr(pp_db_errmsg(f->db), ==, is_pg(f) ? cases[i].pg : cases[i].sqlite);
    /* Nothing changed. */
    g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM child"), ==, 1);
  }
  pp_db_finalize(stmt);

  /* Not a constraint: FAILED, the message without "ERROR:". */
  g_assert_false(pp_db_exec(f->db, "SELEC 1"));
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_FAILED);
  g_assert_nonnull(strstr(pp_db_errmsg(f->db), "syntax error"));
  g_assert_false(g_str_has_prefix(pp_db_errmsg(f->db), "ERROR"));
  stmt = pp_db_prepare(f->db, "SELECT nothing FROM child");
  /* PostgreSQL finds out at the first step. */
  if (stmt) {
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ERROR);
    pp_db_finalize(stmt);
  }
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_FAILED);
  g_assert_nonnull(strstr(pp_db_errmsg(f->db), "nothing"));
}

static const char schema_t[] = "CREATE TABLE t (id bigint PRIMARY KEY, v text)";

static void
insert_t(PpDb *db, gint64 id, PpDbStep expect)
{
  PpDbStmt *stmt = pp_db_prepare(db, "INSERT INTO t (id, v) VALUES (?1, 'v')");

  g_assert_nonnull(stmt);
  pp_db_bind_int64(stmt, 1, id);
  g_assert_cmpint(pp_db_step(stmt), ==, expect);
  pp_db_finalize(stmt);
}

static void
test_transactions(Fixture *f, gconstpointer data)
{
  PpDb *other;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, schema_t);
  other = open_other(f);

  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_true(pp_db_begin_write(f->db));
  g_assert_true(pp_db_in_transaction(f->db));
  insert_t(f->db, 1, PP_DB_STEP_DONE);
  /* Not seen by another before the commit. */
  g_assert_cmpint(query_int(other, "SELECT count(*) FROM t"), ==, 0);
  g_assert_true(pp_db_commit(f->db));
  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_cmpint(query_int(other, "SELECT count(*) FROM t"), ==, 1);

  /* Rolled back: gone. */
  g_assert_true(pp_db_begin_write(f->db));
  insert_t(f->db, 2, PP_DB_STEP_DONE);
  pp_db_rollback(f->db);
  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t"), ==, 1);
  /* Without a transaction: nothing, quietly. */
  pp_db_rollback(f->db);

  /* An error inside, then rollback: the transaction ends, the rollback
   * keeps the error's reason, and the next one works. */
  g_assert_true(pp_db_begin_write(f->db));
  insert_t(f->db, 3, PP_DB_STEP_DONE);
  insert_t(f->db, 1, PP_DB_STEP_ERROR);
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_CONFLICT);
  g_assert_true(pp_db_in_transaction(f->db));
  pp_db_rollback(f->db);
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_CONFLICT);
  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_true(pp_db_begin_write(f->db));
  insert_t(f->db, 4, PP_DB_STEP_DONE);
  g_assert_true(pp_db_commit(f->db));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t WHERE id IN (3, 4)"), ==, 1);

  /* A read transaction: its snapshot holds. */
  g_assert_true(pp_db_begin_read(f->db));
  g_assert_true(pp_db_in_transaction(f->db));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t"), ==, 2);
  insert_t(other, 5, PP_DB_STEP_DONE);
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t"), ==, 2);
  g_assert_true(pp_db_commit(f->db));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t"), ==, 3);

  if (is_pg(f)) {
    /* A statement failed: PostgreSQL's transaction is over, COMMIT would
     * roll back: commit says so, and nothing of it is kept. */
    g_assert_true(pp_db_begin_write(f->db));
    insert_t(f->db, 6, PP_DB_STEP_DONE);
    insert_t(f->db, 1, PP_DB_STEP_ERROR);
    g_assert_false(pp_db_commit(f->db));
    g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_FAILED);
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "aborted by an earlier error"));
    g_assert_false(pp_db_in_transaction(f->db));
    g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t WHERE id = 6"), ==, 0);

    /* Nested BEGIN and COMMIT without BEGIN: refused, as SQLite does. */
    g_assert_false(pp_db_commit(f->db));
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "no transaction"));
    g_assert_true(pp_db_begin_read(f->db));
    g_assert_false(pp_db_begin_write(f->db));
    g_assert_nonnull(strstr(pp_db_errmsg(f->db), "already open"));
    pp_db_rollback(f->db);
    g_assert_false(pp_db_in_transaction(f->db));
  }
  pp_db_close(other);
}

static void
test_write_lock(Fixture *f, gconstpointer data)
{
  PpDb *other;
  gint64 start;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, schema_t);
  other = open_other(f);
  exec_ok(other, is_pg(f) ? "SET lock_timeout = '300ms'" : "PRAGMA busy_timeout = 300");

  g_assert_true(pp_db_begin_write(f->db));
  start = g_get_monotonic_time();
  g_assert_false(pp_db_begin_write(other));
  g_assert_cmpint(g_get_monotonic_time() - start, >=, 250 * 1000);
  g_assert_cmpint(pp_db_errcode(other), ==, PP_DB_ERR_BUSY);
  g_test_message("busy: %s", pp_db_errmsg(other));
  g_assert_false(pp_db_in_transaction(other));

  /* A reader is not held up by the writer. */
  g_assert_true(pp_db_begin_read(other));
  g_assert_cmpint(query_int(other, "SELECT count(*) FROM t"), ==, 0);
  g_assert_true(pp_db_commit(other));

  insert_t(f->db, 1, PP_DB_STEP_DONE);
  g_assert_true(pp_db_commit(f->db));
  g_assert_true(pp_db_begin_write(other));
  insert_t(other, 2, PP_DB_STEP_DONE);
  g_assert_true(pp_db_commit(other));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM t"), ==, 2);
  pp_db_close(other);
}

/* ------------------------------------------------------------------------ */
/* Changes watched                                                          */
/* ------------------------------------------------------------------------ */

static const char schema_vms_sqlite[] =
    "CREATE TABLE vms (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)";
/* As the schema's triggers do (pg-15.md). */
static const char schema_vms_pg[] =
    "CREATE TABLE vms (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text);"
    "CREATE FUNCTION pp_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " IF TG_OP = 'DELETE' THEN"
    "  PERFORM pg_notify('pp_change', TG_TABLE_NAME || ' ' || OLD.id);"
    " ELSE PERFORM pg_notify('pp_change', TG_TABLE_NAME || ' ' || NEW.id); END IF;"
    " RETURN NULL; END $$;"
    "CREATE TRIGGER vms_change AFTER INSERT OR UPDATE OR DELETE ON vms FOR EACH ROW"
    " EXECUTE FUNCTION pp_notify_change();";

static void
record_change(const char *table, gint64 id, gpointer data)
{
  GPtrArray *changes = data;

  g_ptr_array_add(changes, g_strdup_printf("%s %" G_GINT64_FORMAT, table, id));
}

static char *
changes_take(GPtrArray *changes)
{
  g_ptr_array_add(changes, NULL);
  char *joined = g_strjoinv(",", (char **)changes->pdata);
  g_ptr_array_set_size(changes, 0);
  return joined;
}

static void
test_change_own(Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *got = NULL;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, is_pg(f) ? schema_vms_pg : schema_vms_sqlite);
  g_assert_true(pp_db_set_change_func(f->db, record_change, changes));

  g_assert_true(pp_db_begin_write(f->db));
  exec_ok(f->db, "INSERT INTO vms (name) VALUES ('a')");
  {
    PpDbStmt *stmt = pp_db_prepare(f->db, "UPDATE vms SET name = ?1 WHERE id = 1");

    pp_db_bind_text(stmt, 1, "b");
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
    pp_db_finalize(stmt);
  }
  g_assert_true(pp_db_commit(f->db));
  got = changes_take(changes);
  /* SQLite's hook: each change; PostgreSQL: the same payload once per
   * transaction. */
  g_assert_cmpstr(got, ==, is_pg(f) ? "vms 1" : "vms 1,vms 1");
  g_clear_pointer(&got, g_free);

  g_assert_true(pp_db_begin_write(f->db));
  {
    PpDbStmt *stmt = pp_db_prepare(f->db, "DELETE FROM vms WHERE id = ?1");

    pp_db_bind_int(stmt, 1, 1);
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_DONE);
    pp_db_finalize(stmt);
  }
  g_assert_true(pp_db_commit(f->db));
  got = changes_take(changes);
  g_assert_cmpstr(got, ==, "vms 1");
  g_clear_pointer(&got, g_free);

  /* Stopped. */
  g_assert_true(pp_db_set_change_func(f->db, NULL, NULL));
  exec_ok(f->db, "INSERT INTO vms (name) VALUES ('c')");
  g_assert_true(pp_db_dispatch(f->db));
  g_assert_cmpuint(changes->len, ==, 0);
}

/* Waits up to 5 s for the socket of @db to be readable, dispatching, until
 * @changes has something. */
static void
wait_changes(PpDb *db, GPtrArray *changes)
{
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

  while (changes->len == 0 && g_get_monotonic_time() < deadline) {
    GPollFD pfd = { pp_db_get_socket(db), G_IO_IN, 0 };

    g_assert_cmpint(pfd.fd, >=, 0);
    g_poll(&pfd, 1, 100);
    g_assert_true(pp_db_dispatch(db));
  }
}

static void
test_change_other(Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *got = NULL;
  PpDb *other;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, schema_vms_pg);
  other = open_other(f);
  g_assert_true(pp_db_set_change_func(f->db, record_change, changes));

  /* By another connection, at its commit: through dispatch. */
  g_assert_true(pp_db_begin_write(other));
  exec_ok(other, "INSERT INTO vms (name) VALUES ('a'), ('b')");
  g_assert_true(pp_db_dispatch(f->db));
  g_assert_cmpuint(changes->len, ==, 0);
  g_assert_true(pp_db_commit(other));
  wait_changes(f->db, changes);
  /* Both arrive together, in one message batch of the server's. */
  if (changes->len < 2)
    wait_changes(f->db, changes);
  got = changes_take(changes);
  g_assert_cmpstr(got, ==, "vms 1,vms 2");
  g_clear_pointer(&got, g_free);

  /* Malformed payloads are dropped; the good one after them arrives. */
  exec_ok(other, "SELECT pg_notify('pp_change', 'vms'), pg_notify('pp_change', 'vms 12x'),"
                 " pg_notify('pp_change', 'Vms 3'), pg_notify('pp_change', 'vms -3'),"
                 " pg_notify('pp_change', 'vms 0'), pg_notify('pp_change', ' 5'),"
                 " pg_notify('pp_change', 'vms  5'), pg_notify('pp_change', 'vms 5 '),"
                 " pg_notify('pp_change', 'vms 99999999999999999999'),"
                 " pg_notify('other', 'vms 8'), pg_notify('pp_change', 'hosts 7')");
  wait_changes(f->db, changes);
  got = changes_take(changes);
  g_assert_cmpstr(got, ==, "hosts 7");
  g_clear_pointer(&got, g_free);

  /* Also handed over at a step. */
  exec_ok(other, "UPDATE vms SET name = 'c' WHERE id = 2");
  {
    GPollFD pfd = { pp_db_get_socket(f->db), G_IO_IN, 0 };

    g_assert_cmpint(g_poll(&pfd, 1, 5000), ==, 1);
  }
  g_assert_cmpint(query_int(f->db, "SELECT 1"), ==, 1);
  got = changes_take(changes);
  g_assert_cmpstr(got, ==, "vms 2");
  pp_db_close(other);
}

/* The server ends @db's session, as an admin or a failover would. */
static void
kill_session(PpDb *db, PpDb *admin)
{
  gint64 pid = query_int(db, "SELECT pg_backend_pid()");
  gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  PpDbStmt *stmt = pp_db_prepare(admin, "SELECT pg_terminate_backend(?1::integer)");

  pp_db_bind_int64(stmt, 1, pid);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(stmt, 0), ==, 1);
  pp_db_finalize(stmt);
  stmt = pp_db_prepare(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = ?1::integer");
  for (;;) {
    pp_db_reset(stmt);
    pp_db_bind_int64(stmt, 1, pid);
    g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
    if (pp_db_column_int(stmt, 0) == 0)
      break;
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    g_usleep(20 * 1000);
  }
  pp_db_finalize(stmt);
}

static char *
query_text(PpDb *db, const char *sql)
{
  PpDbStmt *stmt = pp_db_prepare(db, sql);
  char *text;

  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  text = g_strdup(pp_db_column_text(stmt, 0));
  pp_db_finalize(stmt);
  return text;
}

static void
test_reconnect(Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *got = NULL;
  PpDbStmt *stmt;
  PpDb *admin;

  SKIP_IF_NO_DB(f);
  exec_ok(f->db, schema_vms_pg);
  admin = open_other(f);
  g_assert_true(pp_db_set_change_func(f->db, record_change, changes));
  g_assert_true(pp_db_is_connected(f->db));

  /* Prepared on the server by its first step. */
  stmt = pp_db_prepare(f->db, "SELECT ?1::bigint + 1");
  pp_db_bind_int(stmt, 1, 41);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(stmt, 0), ==, 42);
  pp_db_reset(stmt);

  kill_session(f->db, admin);
  pp_db_bind_int(stmt, 1, 1);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ERROR);
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_GONE);
  g_test_message("gone: %s", pp_db_errmsg(f->db));
  g_assert_cmpstr(pp_db_errmsg(f->db), !=, "");
  g_assert_false(pp_db_is_connected(f->db));
  g_assert_cmpint(pp_db_get_socket(f->db), ==, -1);
  g_assert_false(pp_db_dispatch(f->db));
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_GONE);
  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_false(pp_db_begin_write(f->db));
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_GONE);
  pp_db_rollback(f->db);

  /* Again: the same statement works, prepared again; the session is set
   * again; changes are listened to again. */
  g_assert_true(pp_db_reconnect(f->db));
  g_assert_true(pp_db_is_connected(f->db));
  g_assert_cmpint(pp_db_get_socket(f->db), >=, 0);
  pp_db_reset(stmt);
  pp_db_bind_int(stmt, 1, 1);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int(stmt, 0), ==, 2);
  pp_db_reset(stmt);
  got = query_text(f->db, "SHOW lock_timeout");
  g_assert_cmpstr(got, ==, "5s");
  g_clear_pointer(&got, g_free);
  got = query_text(f->db, "SHOW TimeZone");
  g_assert_cmpstr(got, ==, "UTC");
  g_clear_pointer(&got, g_free);
  got = query_text(f->db, "SHOW application_name");
  g_assert_cmpstr(got, ==, "pcipassd");
  g_clear_pointer(&got, g_free);
  exec_ok(admin, "INSERT INTO vms (name) VALUES ('a')");
  wait_changes(f->db, changes);
  got = changes_take(changes);
  g_assert_cmpstr(got, ==, "vms 1");
  g_clear_pointer(&got, g_free);

  /* Killed inside a write transaction: the step fails GONE, the rollback
   * is quiet, the transaction is over; after a reconnect, nothing of it. */
  g_assert_true(pp_db_begin_write(f->db));
  exec_ok(f->db, "INSERT INTO vms (name) VALUES ('b')");
  kill_session(f->db, admin);
  pp_db_bind_int(stmt, 1, 1);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ERROR);
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_GONE);
  pp_db_rollback(f->db);
  g_assert_false(pp_db_in_transaction(f->db));
  g_assert_false(pp_db_commit(f->db));
  g_assert_cmpint(pp_db_errcode(f->db), ==, PP_DB_ERR_GONE);
  g_assert_true(pp_db_reconnect(f->db));
  g_assert_cmpint(query_int(f->db, "SELECT count(*) FROM vms"), ==, 1);
  pp_db_finalize(stmt);
  pp_db_close(admin);
}

/* A URI of several hosts, as for a PostgreSQL with a standby: libpq tries
 * them in turn, and target_session_attrs=read-write takes the one that
 * accepts writes; a first host that is down is passed over. */
static void
test_several_hosts(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *down = pp_test_mkdtemp();
  g_autofree char *with = g_strdup_printf("host=%s,", down);
  g_autofree char *host = g_strdup_printf("host=%s", pp_test_pg_socket_dir(test_pg));
  g_autoptr(GString) uri = g_string_new(f->location);
  PpDb *db;
  PpDbStmt *stmt;

  SKIP_IF_NO_DB(f);
  g_assert_nonnull(strstr(uri->str, host));
  g_string_replace(uri, "host=", with, 1);
  g_string_append(uri, "&target_session_attrs=read-write");
  db = pp_db_open(uri->str, &error);
  g_assert_no_error(error);
  stmt = pp_db_prepare(db, "SELECT NOT pg_is_in_recovery()");
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  g_assert_cmpint(pp_db_column_int64(stmt, 0), ==, 1);
  pp_db_finalize(stmt);
  pp_db_close(db);
  pp_test_rmtree(down);
}

static void
test_open_refused(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *uri =
      g_strdup_printf("postgresql://pp:s3cret@/nodb?host=%s&password=s3cret2", dir);
  PpDb *db = pp_db_open(uri, &error);

  /* No server there: GONE, saying where, never the password. */
  g_assert_null(db);
  g_assert_error(error, PP_DB_ERROR, PP_DB_ERR_GONE);
  g_test_message("%s", error->message);
  g_assert_nonnull(strstr(error->message, dir));
  g_assert_null(strstr(error->message, "s3cret"));
  pp_test_rmtree(dir);
}

static void
test_redact(void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "/var/lib/pcipass/store.db", "/var/lib/pcipass/store.db" },
    { "postgres:secret@x", "postgres:secret@x" },
    { "postgresql://u:pw@db.example:5432/pcipass", "postgresql://u:***@db.example:5432/pcipass" },
    { "postgres://u:p%40w@h/d", "postgres://u:***@h/d" },
    { "postgresql://u@h/d", "postgresql://u@h/d" },
    { "postgresql:///pcipass?host=/tmp/x&user=postgres",
      "postgresql:///pcipass?host=/tmp/x&user=postgres" },
    { "postgresql://u:a:b@h1,h2:5433", "postgresql://u:***@h1,h2:5433" },
    { "postgresql://h/d?user=u&password=pw&sslmode=require",
      "postgresql://h/d?user=u&password=***&sslmode=require" },
    { "postgresql://u:pw@h?password=pw", "postgresql://u:***@h?password=***" },
    { "postgresql://h/d?passwordx=1", "postgresql://h/d?passwordx=1" },
    { "postgresql://h/d?user=me@x", "postgresql://h/d?user=me@x" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *out = pp_db_location_redact(cases[i].in);

    g_assert_cmpstr(out, ==, cases[i].out);
  }
}

/* pp-test-pg's watchdog: a test process that dies without stopping its
 * server (here an abort, in a subprocess) leaves no server running and
 * no folder. */
static void
test_pg_watchdog(void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) words = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *said = NULL;
  g_autofree char *text = NULL;
  guint64 pid = 0;
  const char *dir;
  gboolean gone = FALSE;

  if (!pp_test_pg_check())
    return;
  if (g_test_subprocess()) {
    PpTestPg *pg = pp_test_pg_start(&error);
    g_autofree char *line = NULL;

    g_assert_no_error(error);
    line = g_strdup_printf("%d %s", (int)pp_test_pg_server_pid(pg), pp_test_pg_socket_dir(pg));
    g_assert_true(g_file_set_contents(g_getenv("PP_TEST_WATCHDOG_SAID"), line, -1, NULL));
    abort();
  }
  /* The subprocess inherits the environment: where it says its server's
   * pid and folder. */
  tmp = pp_test_mkdtemp();
  said = g_build_filename(tmp, "said", NULL);
  g_setenv("PP_TEST_WATCHDOG_SAID", said, TRUE);
  g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_unsetenv("PP_TEST_WATCHDOG_SAID");
  g_test_trap_assert_failed();
  g_assert_true(g_file_get_contents(said, &text, NULL, NULL));
  pp_test_rmtree(tmp);
  words = g_strsplit(text, " ", 2);
  g_assert_cmpuint(g_strv_length(words), ==, 2);
  g_assert_true(g_ascii_string_to_unsigned(words[0], 10, 1, G_MAXINT, &pid, NULL));
  dir = words[1];
  g_assert_true(g_path_is_absolute(dir));
  /* pg_ctl stop -m immediate waits for the server: seconds at most. */
  for (guint i = 0; i < 600 && !gone; i++) {
    gone = kill((pid_t)pid, 0) != 0 && !g_file_test(dir, G_FILE_TEST_EXISTS);
    if (!gone)
      g_usleep(100 * 1000);
  }
  g_assert_true(gone);
}

/* ------------------------------------------------------------------------ */

typedef void (*FixtureFunc)(Fixture *f, gconstpointer data);

static void
add(const Backend *backend, const char *name, FixtureFunc func)
{
  g_autofree char *path = g_strdup_printf("/db/%s/%s", backend->name, name);

  g_test_add(path, Fixture, backend, fixture_set_up, func, fixture_tear_down);
}

int
main(int argc, char **argv)
{
  /* Both backends run the contract's tests; what only PostgreSQL has runs
   * there only. */
  static const struct {
    const char *name;
    FixtureFunc func;
    gboolean pg_only;
  } tests[] = {
    { "params", test_params, FALSE },
    { "binds", test_binds, FALSE },
    { "columns", test_columns, FALSE },
    { "changes", test_changes, FALSE },
    { "errors", test_errors, FALSE },
    { "transactions", test_transactions, FALSE },
    { "write-lock", test_write_lock, FALSE },
    { "change-own", test_change_own, FALSE },
    { "change-other", test_change_other, TRUE },
    { "reconnect", test_reconnect, TRUE },
    { "several-hosts", test_several_hosts, TRUE },
  };
  const Backend *backends[] = { &backend_sqlite, &backend_pg };
  int status;

  g_test_init(&argc, &argv, NULL);
  for (gsize b = 0; b < G_N_ELEMENTS(backends); b++) {
    for (gsize i = 0; i < G_N_ELEMENTS(tests); i++) {
      if (tests[i].pg_only && backends[b]->kind != PP_DB_KIND_POSTGRESQL)
        continue;
      add(backends[b], tests[i].name, tests[i].func);
    }
  }
  g_test_add_func("/db/postgresql/open-refused", test_open_refused);
  g_test_add_func("/db/redact", test_redact);
  g_test_add_func("/db/postgresql/watchdog", test_pg_watchdog);
  status = g_test_run();
  pp_test_pg_stop(test_pg);
  return status;
}
