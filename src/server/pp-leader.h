/* pp-leader: whether this pcipassd leads: runs the monitor, the scheduler
 * and the deployer (issue 15). Every pcipassd on one store serves the API;
 * one leads. On SQLite the one pcipassd of the file leads from the start.
 * On PostgreSQL leadership is the store's leader lock (pp_store_try_lead(),
 * a session advisory lock): a standby tries it every second and leads once
 * the leader's session ends; a leader whose connection is lost lets go at
 * once (its loops are stopped before anything else runs), connects again
 * and stands by. */
#pragma once

#include <glib.h>

#include "pp-store.h"

G_BEGIN_DECLS

typedef struct _PpLeader PpLeader;

/* Told when this pcipassd starts (@leading TRUE) or stops leading. */
typedef void (*PpLeaderFunc)(gboolean leading, gpointer data);

/* How often a standby tries the lock, and a leader checks its connection. */
#define PP_LEADER_INTERVAL_MS 1000

/* @name: who this pcipassd is, as the others say it ("HOST pid PID").
 * Nothing happens before pp_leader_start(). Returns: (transfer full). */
PpLeader *pp_leader_new(PpStore *store, const char *name, PpLeaderFunc func, gpointer data);
/* Tries at once (SQLite: leads, @func told before this returns), then
 * every PP_LEADER_INTERVAL_MS on the main loop. */
void pp_leader_start(PpLeader *leader);
/* Stops trying; @func is not told. NULL is fine. */
void pp_leader_free(PpLeader *leader);

gboolean pp_leader_is_leading(PpLeader *leader);
/* Returns: (transfer none): this pcipassd's name. */
const char *pp_leader_get_name(PpLeader *leader);
/* Unix seconds since this pcipassd leads (0: it does not). */
gint64 pp_leader_get_since(PpLeader *leader);
/* How many times this pcipassd became leader. */
guint pp_leader_get_terms(PpLeader *leader);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpLeader, pp_leader_free)

G_END_DECLS
