/* pp-events: server-sent events (see pp-events.h). */
#define G_LOG_DOMAIN "pp-events"

#include "config.h"

#include <jansson.h>
#include <string.h>

#include "pp-auth.h"
#include "pp-autoptr.h"
#include "pp-events.h"
#include "pp-id-set.h"

/* clang-format off */
G_DEFINE_QUARK(pp-events-error-quark, pp_events_error)
/* clang-format on */

typedef struct {
  PpEvents *events;
  PpHttpStream *stream; /* NULL once it is over */
  gint64 user_id;
  gboolean admin;
  char *session_hash;
  char *token_hash;
} Client;

struct _PpEvents {
  PpStore *store;
  PpSessions *sessions;
  GPtrArray *clients; /* Client, owned */
  /* What changed since the last pass: ids (gint64 keys, owned). */
  GHashTable *dirty[PP_EVENT_NETWORK + 1];
  guint n_dirty;
  gboolean overflow; /* past PP_EVENTS_MAX_BATCH: resync */
  guint pass_source;
  guint heartbeat_source;
  guint64 seq; /* the last event's id */
  PpEventsCounts counts;
};

static void
client_free(Client *client)
{
  if (client->stream != NULL)
    pp_http_stream_end(client->stream);
  g_free(client->session_hash);
  g_free(client->token_hash);
  g_free(client);
}

/* Sends one event to @client; one that does not read (its queue full) is
 * ended. */
static void
client_send(Client *client, const char *text, gsize len)
{
  if (client->stream == NULL)
    return;
  if (!pp_http_stream_send(client->stream, text, len)) {
    g_debug("an events stream of user %" G_GINT64_FORMAT " holds %" G_GSIZE_FORMAT
            " bytes its client did not take: ended",
            client->user_id, pp_http_stream_get_queued(client->stream));
    pp_http_stream_end(g_steal_pointer(&client->stream));
    client->events->counts.dropped++;
    return;
  }
  client->events->counts.sent++;
}

/* Drops the clients whose streams are over. */
static void
prune(PpEvents *events)
{
  for (guint i = events->clients->len; i > 0; i--) {
    Client *client = g_ptr_array_index(events->clients, i - 1);

    if (client->stream == NULL)
      g_ptr_array_remove_index(events->clients, i - 1);
  }
}

/* "id: N\nevent: KIND\ndata: JSON\n\n". */
static GString *
format_event(PpEvents *events, const char *kind, json_t *data)
{
  g_autofree char *json = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER);
  GString *out = g_string_new(NULL);

  g_string_append_printf(out, "id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n", ++events->seq,
                         kind, json != NULL ? json : "{}");
  return out;
}

/* Sends @kind with @data to every client that may see it: every one
 * (@owner_id < 0), or an admin and the owner. */
static void
broadcast(PpEvents *events, const char *kind, json_t *data, gint64 owner_id)
{
  g_autoptr(GString) text = format_event(events, kind, data);

  for (guint i = 0; i < events->clients->len; i++) {
    Client *client = g_ptr_array_index(events->clients, i);

    if (owner_id < 0 || client->admin || client->user_id == owner_id)
      client_send(client, text->str, text->len);
  }
}

static void
tell_host(PpEvents *events, gint64 host_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpHost) host = pp_store_host_get(events->store, host_id, &error);
  g_autoptr(json_t) data = NULL;

  /* A host deleted is told too: its page has to say so. Every user sees
   * the hosts (GET /v1/hosts). */
  if (host == NULL)
    data = json_pack("{s:I,s:b}", "id", (json_int_t)host_id, "deleted", TRUE);
  else
    data = json_pack("{s:I,s:s,s:s,s:i,s:i}", "id", (json_int_t)host_id, "name", host->name,
                     "state", pp_host_state_to_string(host->state), "pci_free", (int)host->pci_free,
                     "pci_total", (int)host->pci_total);
  broadcast(events, "host", data, -1);
}

static void
tell_vm(PpEvents *events, gint64 vm_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = pp_store_vm_get(events->store, vm_id, &error);
  g_autoptr(json_t) data = NULL;

  /* A VM that is not there any more (its row deleted with its user) is
   * told to the admins only: its owner is not known now. */
  if (vm == NULL) {
    data = json_pack("{s:I,s:b}", "id", (json_int_t)vm_id, "deleted", TRUE);
    broadcast(events, "vm", data, 0);
    return;
  }
  data = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)vm_id, "name", vm->name, "state",
                   pp_vm_state_to_string(vm->state));
  broadcast(events, "vm", data, vm->owner_id);
}

void
pp_events_flush(PpEvents *events)
{
  g_return_if_fail(events != NULL);

  g_clear_handle_id(&events->pass_source, g_source_remove);
  if (events->overflow) {
    g_autoptr(json_t) data = json_object();

    for (guint k = 0; k < G_N_ELEMENTS(events->dirty); k++)
      g_hash_table_remove_all(events->dirty[k]);
    events->overflow = FALSE;
    events->n_dirty = 0;
    events->counts.resyncs++;
    broadcast(events, "resync", data, -1);
    prune(events);
    return;
  }
  /* A device's change is its host's. */
  {
    g_autoptr(GArray) devices = pp_id_set_take(events->dirty[PP_EVENT_DEVICE]);
    g_autoptr(GArray) hosts = NULL;
    g_autoptr(GError) error = NULL;

    if (devices->len > 0) {
      hosts = pp_store_device_host_ids(events->store, (const gint64 *)devices->data, devices->len,
                                       &error);
      /* Not known which hosts changed: every client reads again. */
      if (hosts == NULL) {
        g_warning("events: %s", error->message);
        events->overflow = TRUE;
        pp_events_flush(events);
        return;
      }
    }
    for (guint i = 0; hosts != NULL && i < hosts->len; i++) {
      gint64 host_id = g_array_index(hosts, gint64, i);

      if (g_hash_table_contains(events->dirty[PP_EVENT_HOST], &host_id))
        continue;
      /* Folded into more hosts than a pass tells: resync. */
      if (events->n_dirty == PP_EVENTS_MAX_BATCH) {
        events->overflow = TRUE;
        pp_events_flush(events);
        return;
      }
      pp_id_set_add(events->dirty[PP_EVENT_HOST], host_id);
      events->n_dirty++;
    }
  }
  {
    g_autoptr(GArray) hosts = pp_id_set_take(events->dirty[PP_EVENT_HOST]);
    g_autoptr(GArray) vms = pp_id_set_take(events->dirty[PP_EVENT_VM]);
    g_autoptr(GArray) networks = pp_id_set_take(events->dirty[PP_EVENT_NETWORK]);

    for (guint i = 0; i < hosts->len; i++)
      tell_host(events, g_array_index(hosts, gint64, i));
    for (guint i = 0; i < vms->len; i++)
      tell_vm(events, g_array_index(vms, gint64, i));
    /* A network's name is not told: one private to its owner is its
     * owner's business; the id tells a page showing it to reload, which
     * then sees what the API lets it see. */
    for (guint i = 0; i < networks->len; i++) {
      g_autoptr(json_t) data =
          json_pack("{s:I}", "id", (json_int_t)g_array_index(networks, gint64, i));

      broadcast(events, "network", data, -1);
    }
  }
  events->n_dirty = 0;
  prune(events);
}

static gboolean
on_pass(gpointer user_data)
{
  PpEvents *events = user_data;

  events->pass_source = 0;
  pp_events_flush(events);
  return G_SOURCE_REMOVE;
}

void
pp_events_note(PpEvents *events, PpEventKind kind, gint64 id)
{
  GHashTable *set;

  g_return_if_fail(events != NULL && kind <= PP_EVENT_NETWORK);
  /* Nobody listens: nothing to remember. */
  if (events->clients->len == 0)
    return;
  set = events->dirty[kind];
  /* Devices have their own bound: they fold into their hosts at the pass
   * (one lookup each), so that one host's report of many devices is one
   * host event, not a resync. */
  if (kind == PP_EVENT_DEVICE) {
    if (!events->overflow && !g_hash_table_contains(set, &id)) {
      if (g_hash_table_size(set) == PP_EVENTS_MAX_DEVICES)
        events->overflow = TRUE;
      else
        pp_id_set_add(set, id);
    }
  } else if (!events->overflow && !g_hash_table_contains(set, &id)) {
    if (events->n_dirty == PP_EVENTS_MAX_BATCH) {
      events->overflow = TRUE;
    } else {
      pp_id_set_add(set, id);
      events->n_dirty++;
    }
  }
  if (events->pass_source == 0)
    events->pass_source = g_timeout_add(PP_EVENTS_COALESCE_MS, on_pass, events);
}

/* The store's word (pp_store_add_watch()): while a statement runs, so
 * only noted. */
static void
on_store_change(PpStoreTable table, gint64 rowid, gpointer data)
{
  PpEvents *events = data;

  switch (table) {
  case PP_STORE_TABLE_HOSTS:
    pp_events_note(events, PP_EVENT_HOST, rowid);
    break;
  case PP_STORE_TABLE_DEVICES:
    pp_events_note(events, PP_EVENT_DEVICE, rowid);
    break;
  case PP_STORE_TABLE_VMS:
    pp_events_note(events, PP_EVENT_VM, rowid);
    break;
  case PP_STORE_TABLE_ALLOWANCES:
  default:
    break;
  }
}

/* Whether @client's credentials still hold: its session not logged out,
 * its token not deleted nor past its expiry. */
static gboolean
client_still_good(PpEvents *events, Client *client, gint64 now)
{
  const char *token_hash = client->token_hash;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) user = NULL;

  if (client->session_hash != NULL) {
    const PpSession *session =
        events->sessions != NULL ? pp_sessions_get(events->sessions, client->session_hash) : NULL;

    if (session == NULL)
      return FALSE;
    token_hash = session->token_hash;
  }
  if (token_hash == NULL)
    return TRUE; /* the Unix socket's peer: its uid does not expire */
  user = pp_auth_user_by_token_hash(events->store, token_hash, now, &error);
  if (user == NULL) /* a store that fails now keeps the stream: the next beat asks again */
    return !g_error_matches(error, PP_AUTH_ERROR, PP_AUTH_ERROR_UNAUTHENTICATED);
  return user->id == client->user_id;
}

void
pp_events_heartbeat(PpEvents *events)
{
  static const char ping[] = ": ping\n\n";
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;

  g_return_if_fail(events != NULL);
  for (guint i = 0; i < events->clients->len; i++) {
    Client *client = g_ptr_array_index(events->clients, i);

    if (client->stream == NULL)
      continue;
    if (!client_still_good(events, client, now)) {
      g_debug("an events stream of user %" G_GINT64_FORMAT " ended: its session or token is gone",
              client->user_id);
      pp_http_stream_end(g_steal_pointer(&client->stream));
      continue;
    }
    client_send(client, ping, sizeof(ping) - 1);
  }
  prune(events);
}

static gboolean
on_heartbeat(gpointer user_data)
{
  pp_events_heartbeat(user_data);
  return G_SOURCE_CONTINUE;
}

/* PpHttpStreamClosed: the client went (or the server stops). */
static void
on_stream_closed(PpHttpStream *stream, gpointer data)
{
  Client *client = data;

  client->stream = NULL;
  prune(client->events);
}

gboolean
pp_events_open(PpEvents *events, const PpHttpRequest *req, const PpEventsWho *who, GError **error)
{
  g_autoptr(json_t) hello = NULL;
  g_autoptr(GString) text = NULL;
  guint mine = 0;
  Client *client;

  g_return_val_if_fail(events != NULL && req != NULL && who != NULL, FALSE);

  prune(events);
  if (events->clients->len >= PP_EVENTS_MAX_STREAMS) {
    g_set_error(error, PP_EVENTS_ERROR, PP_EVENTS_ERROR_FULL,
                "%u event streams are open, the most pcipassd keeps: try again later",
                PP_EVENTS_MAX_STREAMS);
    return FALSE;
  }
  for (guint i = 0; i < events->clients->len; i++)
    mine += ((Client *)g_ptr_array_index(events->clients, i))->user_id == who->user_id;
  if (mine >= PP_EVENTS_MAX_PER_USER) {
    g_set_error(error, PP_EVENTS_ERROR, PP_EVENTS_ERROR_USER_FULL,
                "user '%s' has %u event streams open, the most one user may: close one first",
                who->user_name, PP_EVENTS_MAX_PER_USER);
    return FALSE;
  }
  client = g_new0(Client, 1);
  client->events = events;
  client->user_id = who->user_id;
  client->admin = who->admin;
  client->session_hash = g_strdup(who->session_hash);
  client->token_hash = g_strdup(who->token_hash);
  client->stream = pp_http_request_stream(req, on_stream_closed, client);
  if (client->stream == NULL) {
    client_free(client);
    g_set_error(error, PP_EVENTS_ERROR, PP_EVENTS_ERROR_NO_STREAM,
                "this request cannot be answered with a stream");
    return FALSE;
  }
  g_ptr_array_add(events->clients, client);
  /* The client's reconnection delay, and who it is. */
  hello = json_pack("{s:s,s:b}", "user", who->user_name, "admin", who->admin);
  text = format_event(events, "hello", hello);
  g_string_prepend(text, "retry: 3000\n");
  client_send(client, text->str, text->len);
  return TRUE;
}

void
pp_events_end_session(PpEvents *events, const char *session_hash)
{
  g_return_if_fail(events != NULL && session_hash != NULL);
  for (guint i = 0; i < events->clients->len; i++) {
    Client *client = g_ptr_array_index(events->clients, i);

    if (client->stream != NULL && g_strcmp0(client->session_hash, session_hash) == 0)
      pp_http_stream_end(g_steal_pointer(&client->stream));
  }
  prune(events);
}

void
pp_events_get_counts(PpEvents *events, PpEventsCounts *ret)
{
  g_return_if_fail(events != NULL && ret != NULL);
  prune(events);
  *ret = events->counts;
  ret->streams = events->clients->len;
}

PpEvents *
pp_events_new(PpStore *store, PpSessions *sessions, guint heartbeat_s)
{
  PpEvents *events = g_new0(PpEvents, 1);

  g_return_val_if_fail(store != NULL, NULL);
  events->store = store;
  events->sessions = sessions;
  events->clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
  for (guint k = 0; k < G_N_ELEMENTS(events->dirty); k++)
    events->dirty[k] = pp_id_set_new();
  pp_store_add_watch(store, on_store_change, events);
  events->heartbeat_source = g_timeout_add_seconds(
      heartbeat_s > 0 ? heartbeat_s : PP_EVENTS_HEARTBEAT_S, on_heartbeat, events);
  return events;
}

void
pp_events_free(PpEvents *events)
{
  if (events == NULL)
    return;
  pp_store_remove_watch(events->store, on_store_change, events);
  g_clear_handle_id(&events->pass_source, g_source_remove);
  g_clear_handle_id(&events->heartbeat_source, g_source_remove);
  /* client_free() ends each stream: the server forgets them. */
  g_ptr_array_unref(events->clients);
  for (guint k = 0; k < G_N_ELEMENTS(events->dirty); k++)
    g_hash_table_unref(events->dirty[k]);
  g_free(events);
}
