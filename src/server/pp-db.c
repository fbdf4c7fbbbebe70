/* pp-db: the backend a connection was opened on does the work; this file
 * only picks it. Every backend's structs start with their PpDbKind. */
#define G_LOG_DOMAIN "pp-db"

#include "config.h"

#include <string.h>

#include "pp-db-pg.h"
#include "pp-db-sqlite.h"
#include "pp-db.h"

/* clang-format off */
G_DEFINE_QUARK(pp-db-error-quark, pp_db_error)
/* clang-format on */

#define KIND(p) (*(const PpDbKind *)(p))
#define IS_PG(p) (KIND(p) == PP_DB_KIND_POSTGRESQL)

PpDbKind
pp_db_kind_of_location(const char *location)
{
  g_return_val_if_fail(location != NULL, PP_DB_KIND_SQLITE);
  if (g_str_has_prefix(location, "postgresql://") || g_str_has_prefix(location, "postgres://"))
    return PP_DB_KIND_POSTGRESQL;
  return PP_DB_KIND_SQLITE;
}

PpDb *
pp_db_open(const char *location, GError **error)
{
  g_return_val_if_fail(location != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (pp_db_kind_of_location(location) == PP_DB_KIND_POSTGRESQL)
    return pp_db_pg_open(location, error);
  return pp_db_sqlite_open(location, error);
}

void
pp_db_close(PpDb *db)
{
  if (db == NULL)
    return;
  if (IS_PG(db))
    pp_db_pg_close(db);
  else
    pp_db_sqlite_close(db);
}

PpDbKind
pp_db_get_kind(PpDb *db)
{
  g_return_val_if_fail(db != NULL, PP_DB_KIND_SQLITE);
  return KIND(db);
}

PpDbStmt *
pp_db_prepare(PpDb *db, const char *sql)
{
  g_return_val_if_fail(db != NULL && sql != NULL, NULL);
  if (IS_PG(db))
    return pp_db_pg_prepare(db, sql);
  return pp_db_sqlite_prepare(db, sql);
}

void
pp_db_finalize(PpDbStmt *stmt)
{
  if (stmt == NULL)
    return;
  if (IS_PG(stmt))
    pp_db_pg_finalize(stmt);
  else
    pp_db_sqlite_finalize(stmt);
}

void
pp_db_reset(PpDbStmt *stmt)
{
  if (IS_PG(stmt))
    pp_db_pg_reset(stmt);
  else
    pp_db_sqlite_reset(stmt);
}

void
pp_db_bind_int64(PpDbStmt *stmt, int index, gint64 value)
{
  if (IS_PG(stmt))
    pp_db_pg_bind_int64(stmt, index, value);
  else
    pp_db_sqlite_bind_int64(stmt, index, value);
}

void
pp_db_bind_int(PpDbStmt *stmt, int index, int value)
{
  pp_db_bind_int64(stmt, index, value);
}

void
pp_db_bind_text(PpDbStmt *stmt, int index, const char *text)
{
  if (IS_PG(stmt))
    pp_db_pg_bind_text(stmt, index, text);
  else
    pp_db_sqlite_bind_text(stmt, index, text, FALSE);
}

void
pp_db_bind_text_copy(PpDbStmt *stmt, int index, const char *text)
{
  if (IS_PG(stmt))
    pp_db_pg_bind_text_copy(stmt, index, text);
  else
    pp_db_sqlite_bind_text(stmt, index, text, TRUE);
}

void
pp_db_bind_text_len(PpDbStmt *stmt, int index, const char *text, gsize len)
{
  if (IS_PG(stmt))
    pp_db_pg_bind_text_len(stmt, index, text, len);
  else
    pp_db_sqlite_bind_text_len(stmt, index, text, len);
}

void
pp_db_bind_null(PpDbStmt *stmt, int index)
{
  if (IS_PG(stmt))
    pp_db_pg_bind_null(stmt, index);
  else
    pp_db_sqlite_bind_null(stmt, index);
}

PpDbStep
pp_db_step(PpDbStmt *stmt)
{
  if (IS_PG(stmt))
    return pp_db_pg_step(stmt);
  return pp_db_sqlite_step(stmt);
}

gboolean
pp_db_column_is_null(PpDbStmt *stmt, int col)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_is_null(stmt, col);
  return pp_db_sqlite_column_is_null(stmt, col);
}

gint64
pp_db_column_int64(PpDbStmt *stmt, int col)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_int64(stmt, col);
  return pp_db_sqlite_column_int64(stmt, col);
}

int
pp_db_column_int(PpDbStmt *stmt, int col)
{
  return (int)pp_db_column_int64(stmt, col);
}

const char *
pp_db_column_text(PpDbStmt *stmt, int col)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_text(stmt, col);
  return pp_db_sqlite_column_text(stmt, col);
}

gsize
pp_db_column_bytes(PpDbStmt *stmt, int col)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_bytes(stmt, col);
  return pp_db_sqlite_column_bytes(stmt, col);
}

int
pp_db_column_count(PpDbStmt *stmt)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_count(stmt);
  return pp_db_sqlite_column_count(stmt);
}

const char *
pp_db_column_name(PpDbStmt *stmt, int col)
{
  if (IS_PG(stmt))
    return pp_db_pg_column_name(stmt, col);
  return pp_db_sqlite_column_name(stmt, col);
}

gint64
pp_db_changes(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_changes(db);
  return pp_db_sqlite_changes(db);
}

gboolean
pp_db_exec(PpDb *db, const char *sql)
{
  if (IS_PG(db))
    return pp_db_pg_exec(db, sql);
  return pp_db_sqlite_exec(db, sql);
}

gboolean
pp_db_begin_write(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_begin_write(db);
  return pp_db_sqlite_begin_write(db);
}

gboolean
pp_db_begin_read(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_begin_read(db);
  return pp_db_sqlite_begin_read(db);
}

gboolean
pp_db_commit(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_commit(db);
  return pp_db_sqlite_commit(db);
}

void
pp_db_rollback(PpDb *db)
{
  if (IS_PG(db))
    pp_db_pg_rollback(db);
  else
    pp_db_sqlite_rollback(db);
}

gboolean
pp_db_in_transaction(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_in_transaction(db);
  return pp_db_sqlite_in_transaction(db);
}

gboolean
pp_db_set_change_func(PpDb *db, PpDbChangeFunc func, gpointer data)
{
  if (IS_PG(db))
    return pp_db_pg_set_change_func(db, func, data);
  return pp_db_sqlite_set_change_func(db, func, data);
}

gboolean
pp_db_dispatch(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_dispatch(db);
  return TRUE;
}

int
pp_db_get_socket(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_get_socket(db);
  return -1;
}

gboolean
pp_db_is_connected(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_is_connected(db);
  return TRUE;
}

gboolean
pp_db_reconnect(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_reconnect(db);
  return TRUE;
}

PpDbErr
pp_db_errcode(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_errcode(db);
  return pp_db_sqlite_errcode(db);
}

const char *
pp_db_errmsg(PpDb *db)
{
  if (IS_PG(db))
    return pp_db_pg_errmsg(db);
  return pp_db_sqlite_errmsg(db);
}
