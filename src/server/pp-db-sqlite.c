/* pp-db-sqlite: pp-db.h on SQLite. A thin layer: SQLite's own model is
 * pp-db's, so each call is the one sqlite3_* call it names; what it adds
 * is the error kept as a code and a message of its own, so that a later
 * call (a rollback) cannot replace it before the store reads it. */
#define G_LOG_DOMAIN "pp-db"

#include "config.h"

#include <sqlite3.h>

#include "pp-db-sqlite.h"

/* How long a writer waits for another process's lock before BUSY. */
#define BUSY_TIMEOUT_MS 5000

typedef struct {
  PpDbKind kind; /* first: pp-db.c reads it */
  sqlite3 *db;
  PpDbErr err;
  char *errmsg;
  sqlite3_stmt *begin_write, *begin_read, *commit, *rollback;
  PpDbChangeFunc change_func;
  gpointer change_data;
} DbSqlite;

typedef struct {
  PpDbKind kind; /* first: pp-db.c reads it */
  DbSqlite *db;
  sqlite3_stmt *stmt;
} StmtSqlite;

static PpDbErr
err_from_rc(int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE:
    return PP_DB_ERR_NONE;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return PP_DB_ERR_BUSY;
  case SQLITE_CONSTRAINT:
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER: /* a device held by another VM */
      return PP_DB_ERR_CONFLICT;
    default: /* CHECK, NOT NULL */
      return PP_DB_ERR_INVALID;
    }
  default:
    return PP_DB_ERR_FAILED;
  }
}

/* Keeps the connection's last error as the connection's error. */
static void
keep_error(DbSqlite *db)
{
  db->err = err_from_rc(sqlite3_extended_errcode(db->db));
  if (db->err == PP_DB_ERR_NONE)
    db->err = PP_DB_ERR_FAILED;
  g_free(db->errmsg);
  db->errmsg = g_strdup(sqlite3_errmsg(db->db));
}

void *
pp_db_sqlite_handle(PpDb *db)
{
  if (db == NULL || *(const PpDbKind *)db != PP_DB_KIND_SQLITE)
    return NULL;
  return ((DbSqlite *)db)->db;
}

PpDb *
pp_db_sqlite_open(const char *path, GError **error)
{
  DbSqlite *db = g_new0(DbSqlite, 1);
  int rc;

  db->kind = PP_DB_KIND_SQLITE;
  rc = sqlite3_open_v2(path, &db->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    g_set_error(error, PP_DB_ERROR, PP_DB_ERR_FAILED, "opening store '%s': %s", path,
                db->db != NULL ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
    sqlite3_close(db->db);
    g_free(db);
    return NULL;
  }
  sqlite3_extended_result_codes(db->db, 1);
  sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
  return (PpDb *)db;
}

void
pp_db_sqlite_close(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;

  sqlite3_finalize(db->begin_write);
  sqlite3_finalize(db->begin_read);
  sqlite3_finalize(db->commit);
  sqlite3_finalize(db->rollback);
  if (sqlite3_close(db->db) != SQLITE_OK)
    g_debug("closing: %s, ignoring", sqlite3_errmsg(db->db));
  g_free(db->errmsg);
  g_free(db);
}

PpDbStmt *
pp_db_sqlite_prepare(PpDb *pdb, const char *sql)
{
  DbSqlite *db = (DbSqlite *)pdb;
  sqlite3_stmt *raw = NULL;
  StmtSqlite *stmt;

  if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, NULL) != SQLITE_OK) {
    keep_error(db);
    return NULL;
  }
  if (raw == NULL) { /* only a comment or white space */
    db->err = PP_DB_ERR_FAILED;
    g_free(db->errmsg);
    db->errmsg = g_strdup("no statement in the SQL");
    return NULL;
  }
  stmt = g_new0(StmtSqlite, 1);
  stmt->kind = PP_DB_KIND_SQLITE;
  stmt->db = db;
  stmt->stmt = raw;
  return (PpDbStmt *)stmt;
}

void
pp_db_sqlite_finalize(PpDbStmt *pstmt)
{
  StmtSqlite *stmt = (StmtSqlite *)pstmt;

  sqlite3_finalize(stmt->stmt);
  g_free(stmt);
}

void
pp_db_sqlite_reset(PpDbStmt *pstmt)
{
  StmtSqlite *stmt = (StmtSqlite *)pstmt;

  sqlite3_reset(stmt->stmt);
  sqlite3_clear_bindings(stmt->stmt);
}

void
pp_db_sqlite_bind_int64(PpDbStmt *pstmt, int index, gint64 value)
{
  sqlite3_bind_int64(((StmtSqlite *)pstmt)->stmt, index, value);
}

void
pp_db_sqlite_bind_text(PpDbStmt *pstmt, int index, const char *text, gboolean copy)
{
  StmtSqlite *stmt = (StmtSqlite *)pstmt;

  if (text == NULL)
    sqlite3_bind_null(stmt->stmt, index);
  else
    sqlite3_bind_text(stmt->stmt, index, text, -1, copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
}

void
pp_db_sqlite_bind_text_len(PpDbStmt *pstmt, int index, const char *text, gsize len)
{
  sqlite3_bind_text64(((StmtSqlite *)pstmt)->stmt, index, text, len, SQLITE_STATIC, SQLITE_UTF8);
}

void
pp_db_sqlite_bind_null(PpDbStmt *pstmt, int index)
{
  sqlite3_bind_null(((StmtSqlite *)pstmt)->stmt, index);
}

PpDbStep
pp_db_sqlite_step(PpDbStmt *pstmt)
{
  StmtSqlite *stmt = (StmtSqlite *)pstmt;
  int rc = sqlite3_step(stmt->stmt);

  if (rc == SQLITE_ROW)
    return PP_DB_STEP_ROW;
  if (rc == SQLITE_DONE)
    return PP_DB_STEP_DONE;
  keep_error(stmt->db);
  return PP_DB_STEP_ERROR;
}

gboolean
pp_db_sqlite_column_is_null(PpDbStmt *pstmt, int col)
{
  return sqlite3_column_type(((StmtSqlite *)pstmt)->stmt, col) == SQLITE_NULL;
}

gint64
pp_db_sqlite_column_int64(PpDbStmt *pstmt, int col)
{
  return sqlite3_column_int64(((StmtSqlite *)pstmt)->stmt, col);
}

const char *
pp_db_sqlite_column_text(PpDbStmt *pstmt, int col)
{
  return (const char *)sqlite3_column_text(((StmtSqlite *)pstmt)->stmt, col);
}

gsize
pp_db_sqlite_column_bytes(PpDbStmt *pstmt, int col)
{
  return (gsize)sqlite3_column_bytes(((StmtSqlite *)pstmt)->stmt, col);
}

int
pp_db_sqlite_column_count(PpDbStmt *pstmt)
{
  return sqlite3_column_count(((StmtSqlite *)pstmt)->stmt);
}

const char *
pp_db_sqlite_column_name(PpDbStmt *pstmt, int col)
{
  return sqlite3_column_name(((StmtSqlite *)pstmt)->stmt, col);
}

gint64
pp_db_sqlite_changes(PpDb *pdb)
{
  return sqlite3_changes64(((DbSqlite *)pdb)->db);
}

gboolean
pp_db_sqlite_exec(PpDb *pdb, const char *sql)
{
  DbSqlite *db = (DbSqlite *)pdb;

  if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    keep_error(db);
    return FALSE;
  }
  return TRUE;
}

/* Runs the transaction statement in *@cache (prepared on first use). */
static gboolean
run_cached(DbSqlite *db, sqlite3_stmt **cache, const char *sql)
{
  int rc;

  if (*cache == NULL &&
      sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, cache, NULL) != SQLITE_OK) {
    keep_error(db);
    return FALSE;
  }
  rc = sqlite3_step(*cache);
  if (rc != SQLITE_DONE)
    keep_error(db);
  sqlite3_reset(*cache);
  return rc == SQLITE_DONE;
}

gboolean
pp_db_sqlite_begin_write(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;

  return run_cached(db, &db->begin_write, "BEGIN IMMEDIATE");
}

gboolean
pp_db_sqlite_begin_read(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;

  return run_cached(db, &db->begin_read, "BEGIN DEFERRED");
}

gboolean
pp_db_sqlite_commit(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;

  return run_cached(db, &db->commit, "COMMIT");
}

void
pp_db_sqlite_rollback(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;
  PpDbErr err = db->err;
  char *errmsg = g_steal_pointer(&db->errmsg);

  /* A failed statement may have ended the transaction already. */
  if (!sqlite3_get_autocommit(db->db) && !run_cached(db, &db->rollback, "ROLLBACK"))
    g_debug("rolling back: %s, ignoring", db->errmsg);
  /* The error that made the caller roll back stays the one it reads. */
  db->err = err;
  g_free(db->errmsg);
  db->errmsg = errmsg;
}

gboolean
pp_db_sqlite_in_transaction(PpDb *pdb)
{
  return !sqlite3_get_autocommit(((DbSqlite *)pdb)->db);
}

/* SQLite's update hook: a row changed (or is changing: the transaction may
 * still roll back, and a watcher only reads again what it is told of). */
static void
on_update(void *data, int op, const char *db_name, const char *table, sqlite3_int64 rowid)
{
  DbSqlite *db = data;

  (void)op;
  (void)db_name;
  db->change_func(table, (gint64)rowid, db->change_data);
}

gboolean
pp_db_sqlite_set_change_func(PpDb *pdb, PpDbChangeFunc func, gpointer data)
{
  DbSqlite *db = (DbSqlite *)pdb;

  db->change_func = func;
  db->change_data = data;
  sqlite3_update_hook(db->db, func != NULL ? on_update : NULL, func != NULL ? db : NULL);
  return TRUE;
}

PpDbErr
pp_db_sqlite_errcode(PpDb *pdb)
{
  return ((DbSqlite *)pdb)->err;
}

const char *
pp_db_sqlite_errmsg(PpDb *pdb)
{
  DbSqlite *db = (DbSqlite *)pdb;

  return db->errmsg != NULL ? db->errmsg : "not an error";
}
