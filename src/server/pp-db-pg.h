/* pp-db-pg: pp-db.h's PostgreSQL backend, with libpq. pp-db.c calls these
 * for a connection whose kind is PP_DB_KIND_POSTGRESQL; each does what its
 * pp_db_* namesake in pp-db.h says. The PpDb and PpDbStmt they take and
 * return are pp-db-pg.c's own structs, whose first member is their
 * PpDbKind (PP_DB_KIND_POSTGRESQL). */
#pragma once

#include <glib.h>

#include "pp-db.h"

G_BEGIN_DECLS

/* @uri: a libpq URI (postgresql://...). Returns: (transfer full): the
 * connection, its session set (lock_timeout 5 s, UTC, application_name
 * 'pcipassd' unless @uri names one), or NULL with @error (PP_DB_ERROR,
 * PP_DB_ERR_GONE: the server could not be reached or refused us). */
PpDb *pp_db_pg_open(const char *uri, GError **error);
void pp_db_pg_close(PpDb *db);

/* NULL, with the reason in pp_db_pg_errmsg(), for a bare '?' or a '?0'. */
PpDbStmt *pp_db_pg_prepare(PpDb *db, const char *sql);
void pp_db_pg_finalize(PpDbStmt *stmt);
void pp_db_pg_reset(PpDbStmt *stmt);

void pp_db_pg_bind_int64(PpDbStmt *stmt, int index, gint64 value);
void pp_db_pg_bind_int(PpDbStmt *stmt, int index, int value);
void pp_db_pg_bind_text(PpDbStmt *stmt, int index, const char *text);
void pp_db_pg_bind_text_copy(PpDbStmt *stmt, int index, const char *text);
void pp_db_pg_bind_text_len(PpDbStmt *stmt, int index, const char *text, gsize len);
void pp_db_pg_bind_null(PpDbStmt *stmt, int index);

PpDbStep pp_db_pg_step(PpDbStmt *stmt);

gboolean pp_db_pg_column_is_null(PpDbStmt *stmt, int col);
gint64 pp_db_pg_column_int64(PpDbStmt *stmt, int col);
int pp_db_pg_column_int(PpDbStmt *stmt, int col);
const char *pp_db_pg_column_text(PpDbStmt *stmt, int col);
gsize pp_db_pg_column_bytes(PpDbStmt *stmt, int col);
int pp_db_pg_column_count(PpDbStmt *stmt);
const char *pp_db_pg_column_name(PpDbStmt *stmt, int col);

gint64 pp_db_pg_changes(PpDb *db);
gboolean pp_db_pg_exec(PpDb *db, const char *sql);

gboolean pp_db_pg_begin_write(PpDb *db);
gboolean pp_db_pg_begin_read(PpDb *db);
gboolean pp_db_pg_commit(PpDb *db);
void pp_db_pg_rollback(PpDb *db);
gboolean pp_db_pg_in_transaction(PpDb *db);

gboolean pp_db_pg_set_change_func(PpDb *db, PpDbChangeFunc func, gpointer data);
gboolean pp_db_pg_dispatch(PpDb *db);
int pp_db_pg_get_socket(PpDb *db);
gboolean pp_db_pg_is_connected(PpDb *db);
gboolean pp_db_pg_reconnect(PpDb *db);

PpDbErr pp_db_pg_errcode(PpDb *db);
const char *pp_db_pg_errmsg(PpDb *db);

G_END_DECLS
