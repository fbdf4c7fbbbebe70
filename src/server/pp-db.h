/* pp-db: one connection to the store's database, SQLite or PostgreSQL,
 * behind SQLite's own model: statements prepared once, with numbered
 * parameters (?1..?N, each of which may appear several times), bound, then
 * stepped row by row, then reset for their next use. The store
 * (pp-store*.c) is written once against this; only pp-db-sqlite.c and
 * pp-db-pg.c know their library.
 *
 * The SQL the store writes is the common part of both dialects (SQLite
 * 3.40, PostgreSQL 15); pp-db-pg.c rewrites ?N into $N and nothing else.
 * Values go in and come out as SQLite sees them: integers and text; a
 * PostgreSQL boolean reads as 1 or 0.
 *
 * Errors: a call that fails returns NULL, FALSE or PP_DB_STEP_ERROR and
 * leaves the reason in pp_db_errcode() and pp_db_errmsg() until the next
 * call on the connection. Not thread-safe: one connection, one thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PP_DB_KIND_SQLITE,
  PP_DB_KIND_POSTGRESQL,
} PpDbKind;

/* What went wrong, as the store tells its callers (PpStoreError maps one to
 * one). */
typedef enum {
  PP_DB_ERR_NONE,
  PP_DB_ERR_FAILED,   /* anything else */
  PP_DB_ERR_BUSY,     /* a lock not had in time; a serialization failure */
  PP_DB_ERR_CONFLICT, /* UNIQUE, PRIMARY KEY, FOREIGN KEY; a trigger's "held by another" */
  PP_DB_ERR_INVALID,  /* CHECK, NOT NULL; a trigger's refusal of a value */
  PP_DB_ERR_GONE,     /* the connection to the server is lost (PostgreSQL only) */
} PpDbErr;

typedef enum {
  PP_DB_STEP_ROW,
  PP_DB_STEP_DONE,
  PP_DB_STEP_ERROR,
} PpDbStep;

typedef struct _PpDb PpDb;
typedef struct _PpDbStmt PpDbStmt;

#define PP_DB_ERROR (pp_db_error_quark())
GQuark pp_db_error_quark(void);

/* Which backend @location names: PostgreSQL for a postgresql:// or
 * postgres:// URI (libpq's, with its query parameters), SQLite for
 * anything else (a file path). */
PpDbKind pp_db_kind_of_location(const char *location);

/* @location as it may be shown: a postgresql:// or postgres:// URI with its
 * password (user:PASSWORD@ or a password= parameter) replaced by "***";
 * anything else (an SQLite path) as it is. Returns: (transfer full). */
char *pp_db_location_redact(const char *location);

/* Opens (and for SQLite creates) the database. PostgreSQL: the session is
 * set to the store's needs (lock_timeout 5 s, UTC). Returns: (transfer
 * full): the connection, or NULL with @error (PP_DB_ERROR, a PpDbErr). */
PpDb *pp_db_open(const char *location, GError **error);
/* Finalizes every statement still prepared, then closes. NULL is fine. */
void pp_db_close(PpDb *db);

PpDbKind pp_db_get_kind(PpDb *db);

/* Prepares @sql, one statement. Returns: (transfer full): the statement,
 * or NULL (the reason in pp_db_errmsg()). PostgreSQL prepares it on the
 * server at its first step, under a name of its own. */
PpDbStmt *pp_db_prepare(PpDb *db, const char *sql);
/* NULL is fine. */
void pp_db_finalize(PpDbStmt *stmt);
/* Ready for new bindings and a new first step: the bindings cleared (all
 * NULL), the rows of the last run dropped. */
void pp_db_reset(PpDbStmt *stmt);

/* Parameter @index counts from 1. bind_text: @text must stay as it is until
 * the statement is reset or bound again (SQLite's SQLITE_STATIC);
 * bind_text_copy copies it. A NULL @text binds NULL. */
void pp_db_bind_int64(PpDbStmt *stmt, int index, gint64 value);
void pp_db_bind_int(PpDbStmt *stmt, int index, int value);
void pp_db_bind_text(PpDbStmt *stmt, int index, const char *text);
void pp_db_bind_text_copy(PpDbStmt *stmt, int index, const char *text);
/* @len bytes of @text, which need not end there (bind_text's lifetime). */
void pp_db_bind_text_len(PpDbStmt *stmt, int index, const char *text, gsize len);
void pp_db_bind_null(PpDbStmt *stmt, int index);

/* Runs the statement at its first step; each step then gives the next row.
 * PostgreSQL reads the whole result at the first step. */
PpDbStep pp_db_step(PpDbStmt *stmt);

/* The current row's column @col (from 0). A NULL reads as 0 or NULL. */
gboolean pp_db_column_is_null(PpDbStmt *stmt, int col);
gint64 pp_db_column_int64(PpDbStmt *stmt, int col);
int pp_db_column_int(PpDbStmt *stmt, int col);
/* Returns: (transfer none) (nullable): valid until the next step or reset. */
const char *pp_db_column_text(PpDbStmt *stmt, int col);
/* The length in bytes of column @col's text. */
gsize pp_db_column_bytes(PpDbStmt *stmt, int col);
int pp_db_column_count(PpDbStmt *stmt);
/* Returns: (transfer none): the name of result column @col. */
const char *pp_db_column_name(PpDbStmt *stmt, int col);

/* How many rows the last INSERT, UPDATE or DELETE stepped on this
 * connection changed (not counting what triggers did). */
gint64 pp_db_changes(PpDb *db);

/* Runs @sql, any number of statements without parameters, and drops what
 * they return. */
gboolean pp_db_exec(PpDb *db, const char *sql);

/* Transactions. begin_write: the database's write lock now, waiting up to
 * 5 s (SQLite: BEGIN IMMEDIATE; PostgreSQL: BEGIN, READ COMMITTED, then
 * the store's transaction-scoped advisory lock, which every writer takes:
 * writers one at a time, as on SQLite). begin_read: a snapshot that holds
 * until the end (SQLite: BEGIN DEFERRED; PostgreSQL: REPEATABLE READ). */
gboolean pp_db_begin_write(PpDb *db);
gboolean pp_db_begin_read(PpDb *db);
gboolean pp_db_commit(PpDb *db);
/* Rolls back if a transaction is open; failing quietly (a lost
 * connection ended it already). */
void pp_db_rollback(PpDb *db);
gboolean pp_db_in_transaction(PpDb *db);

/* Watching changes. @func is called with a table's name and a row's id for
 * each row inserted, updated or deleted in the tables the schema watches
 * (vms, pci_device, hosts, host_allowance), by this connection or, on
 * PostgreSQL, by any. SQLite: its update hook, at each change of this
 * connection, before COMMIT. PostgreSQL: LISTEN on channel "pp_change",
 * whose payloads the schema's triggers send as "TABLE ID" (at COMMIT); they
 * are handed to @func at the end of every pp_db_step() and pp_db_commit(),
 * and by pp_db_dispatch(). NULL @func stops it. */
typedef void (*PpDbChangeFunc)(const char *table, gint64 id, gpointer data);
gboolean pp_db_set_change_func(PpDb *db, PpDbChangeFunc func, gpointer data);
/* PostgreSQL: reads what the server sent without waiting and hands the
 * notifications to the change func. FALSE when the connection is lost.
 * SQLite: does nothing, TRUE. */
gboolean pp_db_dispatch(PpDb *db);
/* The connection's socket, to watch for notifications from other
 * sessions (readable: call pp_db_dispatch()); -1 for SQLite or when lost. */
int pp_db_get_socket(PpDb *db);

/* PostgreSQL: whether the connection is up. SQLite: TRUE. */
gboolean pp_db_is_connected(PpDb *db);
/* PostgreSQL: connects again (libpq's PQreset: the URI's hosts in turn),
 * LISTENs again if a change func is set; the statements stay valid and
 * are prepared again on the server at their next step. SQLite: TRUE. */
gboolean pp_db_reconnect(PpDb *db);

PpDbErr pp_db_errcode(PpDb *db);
/* Returns: (transfer none): the last error's message, without the
 * library's prefixes ("UNIQUE constraint failed: hosts.name", "duplicate
 * key value violates unique constraint ..."). */
const char *pp_db_errmsg(PpDb *db);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpDbStmt, pp_db_finalize)

G_END_DECLS
