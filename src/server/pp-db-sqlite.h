/* pp-db-sqlite: pp-db.h's functions on SQLite; pp-db.c calls them for a
 * connection of kind PP_DB_KIND_SQLITE. Nobody else includes this. */
#pragma once

#include "pp-db.h"

G_BEGIN_DECLS

/* For tests of what only SQLite has (pragmas, query plans, old files):
 * the connection's sqlite3 handle, or NULL for another backend. Declared
 * as void * so that this header needs no sqlite3.h. */
void *pp_db_sqlite_handle(PpDb *db);

PpDb *pp_db_sqlite_open(const char *path, GError **error);
void pp_db_sqlite_close(PpDb *db);
PpDbStmt *pp_db_sqlite_prepare(PpDb *db, const char *sql);
void pp_db_sqlite_finalize(PpDbStmt *stmt);
void pp_db_sqlite_reset(PpDbStmt *stmt);
void pp_db_sqlite_bind_int64(PpDbStmt *stmt, int index, gint64 value);
void pp_db_sqlite_bind_text(PpDbStmt *stmt, int index, const char *text, gboolean copy);
void pp_db_sqlite_bind_text_len(PpDbStmt *stmt, int index, const char *text, gsize len);
void pp_db_sqlite_bind_null(PpDbStmt *stmt, int index);
PpDbStep pp_db_sqlite_step(PpDbStmt *stmt);
gboolean pp_db_sqlite_column_is_null(PpDbStmt *stmt, int col);
gint64 pp_db_sqlite_column_int64(PpDbStmt *stmt, int col);
const char *pp_db_sqlite_column_text(PpDbStmt *stmt, int col);
gsize pp_db_sqlite_column_bytes(PpDbStmt *stmt, int col);
int pp_db_sqlite_column_count(PpDbStmt *stmt);
const char *pp_db_sqlite_column_name(PpDbStmt *stmt, int col);
gint64 pp_db_sqlite_changes(PpDb *db);
gboolean pp_db_sqlite_exec(PpDb *db, const char *sql);
gboolean pp_db_sqlite_begin_write(PpDb *db);
gboolean pp_db_sqlite_begin_read(PpDb *db);
gboolean pp_db_sqlite_commit(PpDb *db);
void pp_db_sqlite_rollback(PpDb *db);
gboolean pp_db_sqlite_in_transaction(PpDb *db);
gboolean pp_db_sqlite_set_change_func(PpDb *db, PpDbChangeFunc func, gpointer data);
PpDbErr pp_db_sqlite_errcode(PpDb *db);
const char *pp_db_sqlite_errmsg(PpDb *db);

G_END_DECLS
