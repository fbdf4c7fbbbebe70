/* pp-db-pg: pp-db.h on PostgreSQL, with libpq, synchronously.
 *
 * Statements: the SQL's ?N become $N (outside '...' strings, "..."
 * identifiers and comments); the statement is prepared on the server at its
 * first step (PQprepare, named "pp_s<N>"), and again at its next step after a
 * reconnect (a new session knows none). Parameters go as text, their types
 * left to the server; the first step runs the statement (PQexecPrepared) and
 * keeps its whole result, each step then moves to the next row.
 *
 * Changes: the schema's triggers NOTIFY pp_change with "TABLE ID" at COMMIT;
 * with a change func set, this connection LISTENs and hands what arrived to
 * it after every step and commit, and in pp_db_pg_dispatch(). */
#define G_LOG_DOMAIN "pp-db"

#include "config.h"

#include <string.h>

#include <libpq-fe.h>

#include "pp-db-pg.h"

/* The store's write lock, transaction-scoped: 1886546288 is 'pcip'. */
#define PG_WRITE_LOCK_SQL "SELECT pg_advisory_xact_lock(1886546288, 1)"
/* What every session, new or reconnected, is set to. */
#define PG_SESSION_SQL                                                                             \
  "SET lock_timeout = '5s'; SET TIME ZONE 'UTC'; SET client_min_messages = warning"
#define PG_CHANGE_CHANNEL "pp_change"
/* PostgreSQL's own bound on a statement's parameters. */
#define PG_MAX_PARAMS 65535
/* The boolean and text types' OIDs (pg_type.dat). */
#define PG_BOOLOID 16
#define PG_TEXTOID 25
/* A change's payload: a table's name (an identifier, at most 63 bytes), a
 * space, an id. */
#define PG_CHANGE_MAX 128

typedef struct _PpDbPg PpDbPg;
typedef struct _PpDbPgStmt PpDbPgStmt;

struct _PpDbPg {
  PpDbKind kind; /* PP_DB_KIND_POSTGRESQL: pp-db.c's dispatch reads it */
  PGconn *conn;
  PpDbErr errcode;
  char *errmsg;
  gint64 changes;
  /* Bumped at each reconnect: a statement prepared under another one is
   * prepared again. */
  guint generation;
  guint next_stmt;
  GList *stmts; /* PpDbPgStmt, not owned: those still prepared */
  PpDbChangeFunc change_func;
  gpointer change_data;
};

struct _PpDbPgStmt {
  PpDbKind kind; /* PP_DB_KIND_POSTGRESQL */
  PpDbPg *db;
  GList *link; /* in db->stmts */
  char *name;  /* "pp_s<N>" */
  char *sql;   /* with $N */
  int n_params;
  /* [n_params]: 0 (the server infers it) for a parameter the SQL uses,
   * text for one it skips (?1 and ?3 without ?2): SQLite allows that, the
   * server could not infer a type for it. */
  Oid *param_types;
  guint prepared_generation; /* 0: not prepared on the server */
  const char **values;       /* [n_params], NULL: SQL NULL */
  char **copies;             /* [n_params]: what values point to, when owned */
  PGresult *result;          /* of the last run; NULL before the first step */
  PGresult *describe;        /* PQdescribePrepared's, for the columns before a step */
  int row;                   /* the current row of result */
};

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static void
pg_clear_error(PpDbPg *db)
{
  db->errcode = PP_DB_ERR_NONE;
  g_clear_pointer(&db->errmsg, g_free);
}

G_GNUC_PRINTF(3, 4)
static void
pg_set_error(PpDbPg *db, PpDbErr code, const char *format, ...)
{
  va_list args;

  g_free(db->errmsg);
  va_start(args, format);
  db->errmsg = g_strdup_vprintf(format, args);
  va_end(args);
  db->errcode = code;
}

/* A libpq message's first line, without "ERROR:  " or "FATAL:  " and the
 * newline. Returns: (transfer full). */
static char *
pg_message_first_line(const char *message)
{
  const char *start = message ? message : "";
  static const char *const prefixes[] = { "ERROR:  ", "FATAL:  ", "PANIC:  " };

  for (gsize i = 0; i < G_N_ELEMENTS(prefixes); i++) {
    if (g_str_has_prefix(start, prefixes[i])) {
      start += strlen(prefixes[i]);
      break;
    }
  }
  const char *end = strchr(start, '\n');
  char *line = end ? g_strndup(start, end - start) : g_strdup(start);
  g_strstrip(line);
  if (!*line) {
    g_free(line);
    line = g_strdup("unknown error from libpq");
  }
  return line;
}

/* pg-15.md's table: the SQLSTATE to the store's code. */
static PpDbErr
pg_errcode_of_sqlstate(const char *sqlstate)
{
  static const struct {
    const char *sqlstate;
    PpDbErr code;
  } table[] = {
    { "23505", PP_DB_ERR_CONFLICT }, /* unique_violation */
    { "23503", PP_DB_ERR_CONFLICT }, /* foreign_key_violation */
    { "23000", PP_DB_ERR_CONFLICT }, /* integrity_constraint_violation: the triggers' */
    { "23514", PP_DB_ERR_INVALID },  /* check_violation */
    { "23502", PP_DB_ERR_INVALID },  /* not_null_violation */
    { "40001", PP_DB_ERR_BUSY },     /* serialization_failure */
    { "40P01", PP_DB_ERR_BUSY },     /* deadlock_detected */
    { "55P03", PP_DB_ERR_BUSY },     /* lock_not_available: lock_timeout */
    { "57P01", PP_DB_ERR_GONE },     /* admin_shutdown, pg_terminate_backend() */
    { "57P02", PP_DB_ERR_GONE },     /* crash_shutdown */
    { "57P03", PP_DB_ERR_GONE },     /* cannot_connect_now */
  };

  if (!sqlstate)
    return PP_DB_ERR_FAILED;
  if (g_str_has_prefix(sqlstate, "08")) /* connection_exception */
    return PP_DB_ERR_GONE;
  for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
    if (strcmp(table[i].sqlstate, sqlstate) == 0)
      return table[i].code;
  }
  return PP_DB_ERR_FAILED;
}

/* Sets the connection's error from @result (nullable: libpq could not even
 * make one). */
static void
pg_set_error_from_result(PpDbPg *db, const PGresult *result)
{
  const char *sqlstate = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
  const char *primary = result ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  PpDbErr code = pg_errcode_of_sqlstate(sqlstate);

  if (PQstatus(db->conn) == CONNECTION_BAD)
    code = PP_DB_ERR_GONE;
  g_free(db->errmsg);
  if (primary)
    db->errmsg = g_strdup(primary);
  else if (result && *PQresultErrorMessage(result))
    db->errmsg = pg_message_first_line(PQresultErrorMessage(result));
  else
    db->errmsg = pg_message_first_line(PQerrorMessage(db->conn));
  db->errcode = code;
}

/* Whether @result is a success; if not, the connection's error is set from
 * it. */
static gboolean
pg_result_ok(PpDbPg *db, const PGresult *result)
{
  ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;

  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
    return TRUE;
  pg_set_error_from_result(db, result);
  return FALSE;
}

/* Runs @sql (no parameters) and drops its rows; FALSE with the error set. */
static gboolean
pg_run(PpDbPg *db, const char *sql)
{
  PGresult *result = PQexec(db->conn, sql);
  gboolean ok = pg_result_ok(db, result);

  PQclear(result);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Changes                                                                  */
/* ------------------------------------------------------------------------ */

/* "TABLE ID": TABLE an identifier ([a-z_][a-z0-9_]*, as the schema's table
 * names), one space, ID a decimal id (digits only, 1 or more, no sign).
 * Returns: whether @payload is one, with @table_buf and @ret_id set. */
static gboolean
pg_change_parse(const char *payload, char *table_buf, gsize table_size, gint64 *ret_id)
{
  gsize len = strnlen(payload, PG_CHANGE_MAX + 1);
  const char *space;
  guint64 id;

  if (len > PG_CHANGE_MAX)
    return FALSE;
  space = strchr(payload, ' ');
  if (!space || space == payload || (gsize)(space - payload) >= table_size)
    return FALSE;
  if (!g_ascii_islower(payload[0]) && payload[0] != '_')
    return FALSE;
  for (const char *p = payload; p < space; p++) {
    if (!g_ascii_islower(*p) && !g_ascii_isdigit(*p) && *p != '_')
      return FALSE;
  }
  if (!g_ascii_isdigit(space[1]))
    return FALSE;
  if (!g_ascii_string_to_unsigned(space + 1, 10, 1, G_MAXINT64, &id, NULL))
    return FALSE;
  memcpy(table_buf, payload, space - payload);
  table_buf[space - payload] = '\0';
  *ret_id = (gint64)id;
  return TRUE;
}

/* Hands the notifications libpq has read to the change func (dropped
 * without one). */
static void
pg_deliver_changes(PpDbPg *db)
{
  PGnotify *notify;

  while ((notify = PQnotifies(db->conn)) != NULL) {
    char table[64];
    gint64 id;

    if (strcmp(notify->relname, PG_CHANGE_CHANNEL) != 0) {
      g_debug("notification on channel '%s', not " PG_CHANGE_CHANNEL ", ignoring", notify->relname);
    } else if (!pg_change_parse(notify->extra, table, sizeof(table), &id)) {
      g_debug("malformed " PG_CHANGE_CHANNEL " payload '%.*s', ignoring", PG_CHANGE_MAX,
              notify->extra);
    } else if (db->change_func) {
      db->change_func(table, id, db->change_data);
    }
    PQfreemem(notify);
  }
}

/* Reads what the server sent without waiting, then delivers the changes.
 * FALSE when the connection is lost, with GONE set if @set_error (after a
 * success, the loss is for the next call to find). */
static gboolean
pg_consume(PpDbPg *db, gboolean set_error)
{
  gboolean ok = TRUE;

  if (PQstatus(db->conn) != CONNECTION_OK || !PQconsumeInput(db->conn)) {
    ok = FALSE;
    if (set_error) {
      g_autofree char *message = pg_message_first_line(PQerrorMessage(db->conn));

      pg_set_error(db, PP_DB_ERR_GONE, "connection to the database lost: %s", message);
    }
  }
  pg_deliver_changes(db);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* Connection                                                               */
/* ------------------------------------------------------------------------ */

static void
pg_notice(void *data, const char *message)
{
  g_autofree char *line = pg_message_first_line(message);

  g_debug("server notice: %s", line);
}

/* The session settings, and LISTEN if a change func is set: at open and at
 * each reconnect. */
static gboolean
pg_session_setup(PpDbPg *db)
{
  if (!pg_run(db, PG_SESSION_SQL))
    return FALSE;
  if (db->change_func && !pg_run(db, "LISTEN " PG_CHANGE_CHANNEL))
    return FALSE;
  return TRUE;
}

PpDb *
pp_db_pg_open(const char *uri, GError **error)
{
  /* Later keywords override earlier ones, and the expanded URI (dbname)
   * overrides these defaults; fallback_application_name gives way to the
   * URI's application_name. Over TCP, a server that went silent (a cut
   * network) is found out within about 30 s rather than never: every
   * call of the daemon's one thread would wait on it. */
  const char *const keywords[] = {
    "connect_timeout",           "keepalives",       "keepalives_idle",
    "keepalives_interval",       "keepalives_count", "tcp_user_timeout",
    "fallback_application_name", "dbname",           NULL
  };
  const char *const values[] = { "10", "1", "10", "5", "3", "30000", "pcipassd", uri, NULL };
  PpDbPg *db;

  g_return_val_if_fail(uri != NULL, NULL);

  db = g_new0(PpDbPg, 1);
  db->kind = PP_DB_KIND_POSTGRESQL;
  db->generation = 1;
  db->conn = PQconnectdbParams(keywords, values, 1);
  if (!db->conn) {
    g_free(db);
    g_set_error_literal(error, PP_DB_ERROR, PP_DB_ERR_FAILED, "libpq: out of memory");
    return NULL;
  }
  if (PQstatus(db->conn) != CONNECTION_OK) {
    g_autofree char *redacted = pp_db_location_redact(uri);
    g_autofree char *message = pg_message_first_line(PQerrorMessage(db->conn));

    g_set_error(error, PP_DB_ERROR, PP_DB_ERR_GONE,
                "cannot connect to PostgreSQL at '%s': %s; check the URI and that the server "
                "is up",
                redacted, message);
    pp_db_pg_close((PpDb *)db);
    return NULL;
  }
  PQsetNoticeProcessor(db->conn, pg_notice, NULL);
  if (!pg_session_setup(db)) {
    g_autofree char *redacted = pp_db_location_redact(uri);

    g_set_error(error, PP_DB_ERROR, db->errcode, "setting up the session on '%s': %s", redacted,
                db->errmsg);
    pp_db_pg_close((PpDb *)db);
    return NULL;
  }
  return (PpDb *)db;
}

static void pg_stmt_free(PpDbPgStmt *stmt);

void
pp_db_pg_close(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  if (!db)
    return;
  while (db->stmts)
    pg_stmt_free(db->stmts->data);
  if (db->conn)
    PQfinish(db->conn);
  g_free(db->errmsg);
  g_free(db);
}

gboolean
pp_db_pg_is_connected(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  return PQstatus(db->conn) == CONNECTION_OK;
}

int
pp_db_pg_get_socket(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  return PQstatus(db->conn) == CONNECTION_OK ? PQsocket(db->conn) : -1;
}

gboolean
pp_db_pg_reconnect(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  pg_clear_error(db);
  PQreset(db->conn);
  db->generation++;
  if (PQstatus(db->conn) != CONNECTION_OK) {
    g_autofree char *message = pg_message_first_line(PQerrorMessage(db->conn));

    pg_set_error(db, PP_DB_ERR_GONE, "cannot connect to PostgreSQL again: %s", message);
    return FALSE;
  }
  PQsetNoticeProcessor(db->conn, pg_notice, NULL);
  return pg_session_setup(db);
}

PpDbErr
pp_db_pg_errcode(PpDb *db_)
{
  return ((PpDbPg *)db_)->errcode;
}

const char *
pp_db_pg_errmsg(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  return db->errmsg ? db->errmsg : "not an error";
}

gint64
pp_db_pg_changes(PpDb *db_)
{
  return ((PpDbPg *)db_)->changes;
}

gboolean
pp_db_pg_exec(PpDb *db_, const char *sql)
{
  PpDbPg *db = (PpDbPg *)db_;

  g_return_val_if_fail(sql != NULL, FALSE);

  pg_clear_error(db);
  return pg_run(db, sql);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

gboolean
pp_db_pg_in_transaction(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;
  PGTransactionStatusType status = PQtransactionStatus(db->conn);

  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

/* PostgreSQL only warns at a BEGIN inside a transaction; SQLite refuses it,
 * and so do we: it is the caller's bug. */
static gboolean
pg_check_no_transaction(PpDbPg *db)
{
  if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
    return TRUE;
  if (PQstatus(db->conn) != CONNECTION_OK)
    pg_set_error(db, PP_DB_ERR_GONE, "no connection to the database: reconnect first");
  else
    pg_set_error(db, PP_DB_ERR_FAILED, "cannot begin a transaction: one is already open");
  return FALSE;
}

gboolean
pp_db_pg_begin_write(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  pg_clear_error(db);
  if (!pg_check_no_transaction(db))
    return FALSE;
  /* One round trip: if the lock is not had in time (lock_timeout: BUSY),
   * the transaction is in error; end it, keeping the reason. */
  if (!pg_run(db, "BEGIN ISOLATION LEVEL READ COMMITTED; " PG_WRITE_LOCK_SQL)) {
    pp_db_pg_rollback(db_);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_db_pg_begin_read(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  pg_clear_error(db);
  if (!pg_check_no_transaction(db))
    return FALSE;
  return pg_run(db, "BEGIN ISOLATION LEVEL REPEATABLE READ");
}

gboolean
pp_db_pg_commit(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;
  PGresult *result;
  gboolean ok;

  pg_clear_error(db);
  if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
    pg_set_error(db, PP_DB_ERR_FAILED, "cannot commit: no transaction is open");
    return FALSE;
  }
  /* COMMIT of a transaction in error "succeeds" by rolling back: say so. */
  if (PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
    pp_db_pg_rollback(db_);
    pg_set_error(db, PP_DB_ERR_FAILED,
                 "the transaction was aborted by an earlier error and is rolled back");
    return FALSE;
  }
  result = PQexec(db->conn, "COMMIT");
  ok = pg_result_ok(db, result);
  if (ok && strcmp(PQcmdStatus(result), "ROLLBACK") == 0) {
    pg_set_error(db, PP_DB_ERR_FAILED, "the transaction was rolled back instead of committed");
    ok = FALSE;
  }
  PQclear(result);
  pg_consume(db, FALSE);
  return ok;
}

void
pp_db_pg_rollback(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;
  PGresult *result;

  /* Quietly, and leaving the error that made the caller roll back. */
  if (!pp_db_pg_in_transaction(db_))
    return;
  result = PQexec(db->conn, "ROLLBACK");
  if (PQresultStatus(result) != PGRES_COMMAND_OK)
    g_debug("ROLLBACK failed: %s, ignoring", PQresultErrorMessage(result));
  PQclear(result);
}

gboolean
pp_db_pg_set_change_func(PpDb *db_, PpDbChangeFunc func, gpointer data)
{
  PpDbPg *db = (PpDbPg *)db_;
  gboolean was_listening = db->change_func != NULL;

  pg_clear_error(db);
  db->change_func = func;
  db->change_data = data;
  if (func && !was_listening)
    return pg_run(db, "LISTEN " PG_CHANGE_CHANNEL);
  if (!func && was_listening)
    return pg_run(db, "UNLISTEN " PG_CHANGE_CHANNEL);
  return TRUE;
}

gboolean
pp_db_pg_dispatch(PpDb *db_)
{
  PpDbPg *db = (PpDbPg *)db_;

  pg_clear_error(db);
  return pg_consume(db, TRUE);
}

/* ------------------------------------------------------------------------ */
/* Statements                                                               */
/* ------------------------------------------------------------------------ */

/* Copies a quoted part of @sql from @p (its opening @quote) to its end (the
 * closing one, '' or "" counting as an escaped one and a new start). */
static const char *
pg_copy_quoted(GString *out, const char *p, char quote)
{
  const char *end = strchr(p + 1, quote);

  if (!end) {
    g_string_append(out, p);
    return p + strlen(p);
  }
  g_string_append_len(out, p, end + 1 - p);
  return end + 1;
}

/* @sql with ?N as $N, outside '...', "...", -- and C comments. Returns:
 * (transfer full): the rewritten SQL, @ret_n_params (the largest N) and
 * @ret_types (those not used text, see param_types), or NULL with
 * @ret_error. */
static char *
pg_rewrite_params(const char *sql, int *ret_n_params, Oid **ret_types, char **ret_error)
{
  g_autoptr(GArray) used = g_array_new(FALSE, TRUE, sizeof(gboolean));
  g_autoptr(GString) out = g_string_sized_new(strlen(sql) + 16);
  int n_params = 0;
  const char *p = sql;

  while (*p) {
    if (*p == '\'' || *p == '"') {
      p = pg_copy_quoted(out, p, *p);
    } else if (p[0] == '-' && p[1] == '-') {
      const char *end = strchr(p, '\n');
      gsize len = end ? (gsize)(end - p) : strlen(p);

      g_string_append_len(out, p, len);
      p += len;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *end = strstr(p + 2, "*/");
      gsize len = end ? (gsize)(end + 2 - p) : strlen(p);

      g_string_append_len(out, p, len);
      p += len;
    } else if (*p == '?') {
      const char *digits = p + 1;
      long n = 0;

      while (g_ascii_isdigit(*digits) && n <= PG_MAX_PARAMS)
        n = n * 10 + (*digits++ - '0');
      if (digits == p + 1) {
        *ret_error = g_strdup_printf("a bare '?' at offset %d of the statement: number the "
                                     "parameters ?1, ?2...",
                                     (int)(p - sql));
        return NULL;
      }
      if (n < 1 || n > PG_MAX_PARAMS || g_ascii_isdigit(*digits)) {
        *ret_error =
            g_strdup_printf("parameter '?%.*s' at offset %d of the statement is out of "
                            "range: 1 to %d",
                            (int)MIN(digits - p - 1, 12), p + 1, (int)(p - sql), PG_MAX_PARAMS);
        return NULL;
      }
      g_string_append_printf(out, "$%ld", n);
      n_params = MAX(n_params, (int)n);
      if (used->len < (guint)n)
        g_array_set_size(used, n);
      g_array_index(used, gboolean, n - 1) = TRUE;
      p = digits;
    } else {
      g_string_append_c(out, *p++);
    }
  }
  *ret_n_params = n_params;
  *ret_types = g_new0(Oid, MAX(n_params, 1));
  for (int i = 0; i < n_params; i++)
    (*ret_types)[i] = g_array_index(used, gboolean, i) ? 0 : PG_TEXTOID;
  return g_string_free(g_steal_pointer(&out), FALSE);
}

PpDbStmt *
pp_db_pg_prepare(PpDb *db_, const char *sql)
{
  PpDbPg *db = (PpDbPg *)db_;
  g_autofree char *error = NULL;
  PpDbPgStmt *stmt;
  char *rewritten;
  int n_params = 0;
  Oid *types = NULL;

  g_return_val_if_fail(sql != NULL, NULL);

  pg_clear_error(db);
  rewritten = pg_rewrite_params(sql, &n_params, &types, &error);
  if (!rewritten) {
    pg_set_error(db, PP_DB_ERR_FAILED, "%s", error);
    return NULL;
  }
  stmt = g_new0(PpDbPgStmt, 1);
  stmt->kind = PP_DB_KIND_POSTGRESQL;
  stmt->db = db;
  stmt->name = g_strdup_printf("pp_s%u", ++db->next_stmt);
  stmt->sql = rewritten;
  stmt->n_params = n_params;
  stmt->param_types = types;
  stmt->values = g_new0(const char *, MAX(n_params, 1));
  stmt->copies = g_new0(char *, MAX(n_params, 1));
  db->stmts = g_list_prepend(db->stmts, stmt);
  stmt->link = db->stmts;
  return (PpDbStmt *)stmt;
}

static void
pg_stmt_free(PpDbPgStmt *stmt)
{
  PpDbPg *db = stmt->db;

  db->stmts = g_list_delete_link(db->stmts, stmt->link);
  for (int i = 0; i < stmt->n_params; i++)
    g_free(stmt->copies[i]);
  g_free(stmt->copies);
  g_free(stmt->values);
  g_free(stmt->param_types);
  PQclear(stmt->result);
  PQclear(stmt->describe);
  g_free(stmt->sql);
  g_free(stmt->name);
  g_free(stmt);
}

void
pp_db_pg_finalize(PpDbStmt *stmt_)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;
  PpDbPg *db;

  if (!stmt)
    return;
  db = stmt->db;
  /* Drop it on the server too, unless that cannot work now (lost, or a
   * transaction in error: then the session keeps it, harmless). */
  if (stmt->prepared_generation == db->generation && PQstatus(db->conn) == CONNECTION_OK &&
      PQtransactionStatus(db->conn) != PQTRANS_INERROR) {
    g_autofree char *sql = g_strdup_printf("DEALLOCATE %s", stmt->name);
    PGresult *result = PQexec(db->conn, sql);

    if (PQresultStatus(result) != PGRES_COMMAND_OK)
      g_debug("%s: %s, ignoring", sql, PQresultErrorMessage(result));
    PQclear(result);
  }
  pg_stmt_free(stmt);
}

void
pp_db_pg_reset(PpDbStmt *stmt_)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  for (int i = 0; i < stmt->n_params; i++) {
    g_clear_pointer(&stmt->copies[i], g_free);
    stmt->values[i] = NULL;
  }
  g_clear_pointer(&stmt->result, PQclear);
  stmt->row = 0;
}

/* Parameter @index's slot, emptied; NULL (a programming error) when out of
 * range. */
static gboolean
pg_stmt_bind_slot(PpDbPgStmt *stmt, int index)
{
  g_return_val_if_fail(index >= 1 && index <= stmt->n_params, FALSE);

  g_clear_pointer(&stmt->copies[index - 1], g_free);
  stmt->values[index - 1] = NULL;
  return TRUE;
}

void
pp_db_pg_bind_int64(PpDbStmt *stmt_, int index, gint64 value)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  if (!pg_stmt_bind_slot(stmt, index))
    return;
  stmt->copies[index - 1] = g_strdup_printf("%" G_GINT64_FORMAT, value);
  stmt->values[index - 1] = stmt->copies[index - 1];
}

void
pp_db_pg_bind_int(PpDbStmt *stmt, int index, int value)
{
  pp_db_pg_bind_int64(stmt, index, value);
}

void
pp_db_pg_bind_text(PpDbStmt *stmt_, int index, const char *text)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  if (!pg_stmt_bind_slot(stmt, index))
    return;
  stmt->values[index - 1] = text;
}

void
pp_db_pg_bind_text_copy(PpDbStmt *stmt_, int index, const char *text)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  if (!pg_stmt_bind_slot(stmt, index))
    return;
  stmt->copies[index - 1] = g_strdup(text);
  stmt->values[index - 1] = stmt->copies[index - 1];
}

void
pp_db_pg_bind_text_len(PpDbStmt *stmt_, int index, const char *text, gsize len)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  if (!pg_stmt_bind_slot(stmt, index))
    return;
  /* libpq takes text parameters up to their NUL: a copy of the @len bytes. */
  stmt->copies[index - 1] = text ? g_strndup(text, len) : NULL;
  stmt->values[index - 1] = stmt->copies[index - 1];
}

void
pp_db_pg_bind_null(PpDbStmt *stmt_, int index)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;

  pg_stmt_bind_slot(stmt, index);
}

/* Prepares @stmt on the server if this session has not yet. */
static gboolean
pg_stmt_ensure_prepared(PpDbPgStmt *stmt)
{
  PpDbPg *db = stmt->db;
  PGresult *result;
  gboolean ok;

  if (stmt->prepared_generation == db->generation)
    return TRUE;
  result = PQprepare(db->conn, stmt->name, stmt->sql, stmt->n_params, stmt->param_types);
  ok = pg_result_ok(db, result);
  PQclear(result);
  if (ok) {
    stmt->prepared_generation = db->generation;
    g_clear_pointer(&stmt->describe, PQclear);
  }
  return ok;
}

/* Runs @stmt: its result kept, changes() set for an INSERT, UPDATE,
 * DELETE or MERGE. */
static gboolean
pg_stmt_run(PpDbPgStmt *stmt)
{
  PpDbPg *db = stmt->db;
  const char *status;

  if (!pg_stmt_ensure_prepared(stmt))
    return FALSE;
  stmt->result = PQexecPrepared(db->conn, stmt->name, stmt->n_params, stmt->values, NULL, NULL, 0);
  if (!pg_result_ok(db, stmt->result)) {
    g_clear_pointer(&stmt->result, PQclear);
    return FALSE;
  }
  status = PQcmdStatus(stmt->result);
  if (g_str_has_prefix(status, "INSERT ") || g_str_has_prefix(status, "UPDATE ") ||
      g_str_has_prefix(status, "DELETE ") || g_str_has_prefix(status, "MERGE "))
    db->changes = g_ascii_strtoll(PQcmdTuples(stmt->result), NULL, 10);
  stmt->row = 0;
  return TRUE;
}

PpDbStep
pp_db_pg_step(PpDbStmt *stmt_)
{
  PpDbPgStmt *stmt = (PpDbPgStmt *)stmt_;
  PpDbPg *db = stmt->db;

  pg_clear_error(db);
  if (stmt->result && stmt->row < PQntuples(stmt->result)) {
    /* The next row of the run under way: what libpq has read already. */
    stmt->row++;
    pg_deliver_changes(db);
  } else {
    /* A first step, or one after the last row: SQLite runs the statement
     * again with the same bindings, and so do we. */
    g_clear_pointer(&stmt->result, PQclear);
    if (!pg_stmt_run(stmt)) {
      pg_deliver_changes(db);
      return PP_DB_STEP_ERROR;
    }
    pg_consume(db, FALSE);
  }
  return stmt->row < PQntuples(stmt->result) ? PP_DB_STEP_ROW : PP_DB_STEP_DONE;
}

/* The current row's value of @col, or NULL (SQL NULL, no row, no column). */
static const char *
pg_stmt_value(PpDbPgStmt *stmt, int col)
{
  if (!stmt->result || stmt->row >= PQntuples(stmt->result) || col < 0 ||
      col >= PQnfields(stmt->result) || PQgetisnull(stmt->result, stmt->row, col))
    return NULL;
  if (PQftype(stmt->result, col) == PG_BOOLOID)
    return PQgetvalue(stmt->result, stmt->row, col)[0] == 't' ? "1" : "0";
  return PQgetvalue(stmt->result, stmt->row, col);
}

gboolean
pp_db_pg_column_is_null(PpDbStmt *stmt, int col)
{
  return pg_stmt_value((PpDbPgStmt *)stmt, col) == NULL;
}

gint64
pp_db_pg_column_int64(PpDbStmt *stmt, int col)
{
  const char *value = pg_stmt_value((PpDbPgStmt *)stmt, col);

  return value ? g_ascii_strtoll(value, NULL, 10) : 0;
}

int
pp_db_pg_column_int(PpDbStmt *stmt, int col)
{
  return (int)pp_db_pg_column_int64(stmt, col);
}

const char *
pp_db_pg_column_text(PpDbStmt *stmt, int col)
{
  return pg_stmt_value((PpDbPgStmt *)stmt, col);
}

gsize
pp_db_pg_column_bytes(PpDbStmt *stmt, int col)
{
  const char *value = pg_stmt_value((PpDbPgStmt *)stmt, col);

  return value ? strlen(value) : 0;
}

/* The result that describes @stmt's columns: the last run's, or before any
 * run the server's description (the statement prepared for it). */
static const PGresult *
pg_stmt_columns(PpDbPgStmt *stmt)
{
  PpDbPg *db = stmt->db;

  if (stmt->result)
    return stmt->result;
  if (stmt->describe)
    return stmt->describe;
  if (!pg_stmt_ensure_prepared(stmt))
    return NULL;
  stmt->describe = PQdescribePrepared(db->conn, stmt->name);
  if (!pg_result_ok(db, stmt->describe)) {
    g_clear_pointer(&stmt->describe, PQclear);
    return NULL;
  }
  return stmt->describe;
}

int
pp_db_pg_column_count(PpDbStmt *stmt)
{
  const PGresult *result = pg_stmt_columns((PpDbPgStmt *)stmt);

  return result ? PQnfields(result) : 0;
}

const char *
pp_db_pg_column_name(PpDbStmt *stmt, int col)
{
  const PGresult *result = pg_stmt_columns((PpDbPgStmt *)stmt);

  return result ? PQfname(result, col) : NULL;
}

/* ------------------------------------------------------------------------ */
/* Locations                                                                */
/* ------------------------------------------------------------------------ */

char *
pp_db_location_redact(const char *location)
{
  g_autoptr(GString) out = NULL;
  const char *authority;
  const char *authority_end;
  const char *at = NULL;
  const char *query;

  g_return_val_if_fail(location != NULL, NULL);

  if (g_str_has_prefix(location, "postgresql://"))
    authority = location + strlen("postgresql://");
  else if (g_str_has_prefix(location, "postgres://"))
    authority = location + strlen("postgres://");
  else
    return g_strdup(location);

  out = g_string_new(NULL);
  /* postgresql://[user[:password]@][hosts][/dbname][?param=value&...] */
  authority_end = authority + strcspn(authority, "/?");
  for (const char *p = authority; p < authority_end; p++) {
    if (*p == '@')
      at = p;
  }
  if (at) {
    const char *colon = memchr(authority, ':', at - authority);

    if (colon) {
      g_string_append_len(out, location, colon + 1 - location);
      g_string_append(out, "***");
      g_string_append_len(out, at, authority_end - at);
    } else {
      g_string_append_len(out, location, authority_end - location);
    }
  } else {
    g_string_append_len(out, location, authority_end - location);
  }

  query = strchr(authority_end, '?');
  if (!query) {
    g_string_append(out, authority_end);
    return g_string_free(g_steal_pointer(&out), FALSE);
  }
  g_string_append_len(out, authority_end, query + 1 - authority_end);
  for (const char *p = query + 1; *p;) {
    gsize len = strcspn(p, "&");

    if (len >= strlen("password=") && g_ascii_strncasecmp(p, "password=", 9) == 0)
      g_string_append(out, "password=***");
    else
      g_string_append_len(out, p, len);
    p += len;
    if (*p == '&')
      g_string_append_c(out, *p++);
  }
  return g_string_free(g_steal_pointer(&out), FALSE);
}
