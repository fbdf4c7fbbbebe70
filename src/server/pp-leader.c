/* pp-leader: the leader lock tried, kept and let go. */
#define G_LOG_DOMAIN "pcipassd"

#include "config.h"

#include "pp-leader.h"

/* A store that stays unreachable is said again this often, not every try. */
#define UNREACHABLE_SAY_S 30

struct _PpLeader {
  PpStore *store;
  char *name;
  PpLeaderFunc func;
  gpointer data;
  guint timer;
  gboolean leading;
  gint64 since;
  guint terms;
  gint64 said_unreachable; /* monotonic µs of the last warning */
};

static void
stop_leading(PpLeader *leader, const char *why)
{
  if (!leader->leading)
    return;
  leader->leading = FALSE;
  leader->since = 0;
  g_warning("no longer leading: %s; the monitor, the scheduler and the deployer stop here, and "
            "this pcipassd stands by",
            why);
  leader->func(FALSE, leader->data);
}

/* The store's connection is lost: its session, and the lock with it, are
 * gone; another pcipassd may lead from now on. */
static void
on_store_lost(gpointer data)
{
  stop_leading(data, "the store's connection is lost");
}

static void
tick(PpLeader *leader)
{
  g_autoptr(GError) error = NULL;
  gboolean leading = FALSE;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;

  if (leader->leading) {
    /* Reads what the server sent: a lost connection is found here at the
     * latest (on_store_lost()), when the socket's watch did not. */
    pp_store_check_connection(leader->store);
    return;
  }
  if (!pp_store_check_connection(leader->store) && !pp_store_reconnect(leader->store, &error)) {
    gint64 mono = g_get_monotonic_time();

    if (leader->said_unreachable == 0 ||
        mono - leader->said_unreachable >= UNREACHABLE_SAY_S * G_USEC_PER_SEC) {
      g_warning("standing by: %s; trying again every %d ms", error->message, PP_LEADER_INTERVAL_MS);
      leader->said_unreachable = mono;
    }
    return;
  }
  leader->said_unreachable = 0;
  if (!pp_store_try_lead(leader->store, leader->name, now, &leading, &error)) {
    g_warning("standing by: %s", error->message);
    return;
  }
  if (!leading)
    return;
  leader->leading = TRUE;
  leader->since = now;
  leader->terms++;
  if (pp_store_get_backend(leader->store) == PP_STORE_BACKEND_POSTGRESQL)
    g_message("leading (as '%s'): the monitor, the scheduler and the deployer run here",
              leader->name);
  leader->func(TRUE, leader->data);
}

static gboolean
on_timer(gpointer data)
{
  tick(data);
  return G_SOURCE_CONTINUE;
}

PpLeader *
pp_leader_new(PpStore *store, const char *name, PpLeaderFunc func, gpointer data)
{
  PpLeader *leader;

  g_return_val_if_fail(store != NULL && name != NULL && func != NULL, NULL);

  leader = g_new0(PpLeader, 1);
  leader->store = store;
  leader->name = g_strdup(name);
  leader->func = func;
  leader->data = data;
  return leader;
}

void
pp_leader_start(PpLeader *leader)
{
  g_return_if_fail(leader != NULL && leader->timer == 0);

  pp_store_set_lost_func(leader->store, on_store_lost, leader);
  tick(leader);
  /* SQLite: leads for good; nothing to try again. */
  if (pp_store_get_backend(leader->store) == PP_STORE_BACKEND_POSTGRESQL)
    leader->timer = g_timeout_add(PP_LEADER_INTERVAL_MS, on_timer, leader);
}

void
pp_leader_free(PpLeader *leader)
{
  if (leader == NULL)
    return;
  if (leader->timer != 0)
    g_source_remove(leader->timer);
  pp_store_set_lost_func(leader->store, NULL, NULL);
  g_free(leader->name);
  g_free(leader);
}

gboolean
pp_leader_is_leading(PpLeader *leader)
{
  g_return_val_if_fail(leader != NULL, FALSE);
  return leader->leading;
}

const char *
pp_leader_get_name(PpLeader *leader)
{
  g_return_val_if_fail(leader != NULL, NULL);
  return leader->name;
}

gint64
pp_leader_get_since(PpLeader *leader)
{
  g_return_val_if_fail(leader != NULL, 0);
  return leader->since;
}

guint
pp_leader_get_terms(PpLeader *leader)
{
  g_return_val_if_fail(leader != NULL, 0);
  return leader->terms;
}
