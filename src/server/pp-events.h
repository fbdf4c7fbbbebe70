/* pp-events: GET /v1/events, server-sent events of what changes: hosts
 * (and their PCI devices), VMs and networks, each told only to the
 * streams whose user may see it. The store tells of every row written
 * (pp_store_add_watch()), the network handlers of theirs; changes are
 * noted, coalesced for PP_EVENTS_COALESCE_MS (a probe that rewrites 37
 * devices is one host event), then read once and sent. A pass reads at
 * most PP_EVENTS_MAX_BATCH rows: past it, every stream is told "resync"
 * (reload what you show) instead, so that no pass costs in proportion to
 * the cluster. */
#pragma once

#include <glib.h>

#include "pp-http.h"
#include "pp-session.h"
#include "pp-store.h"

G_BEGIN_DECLS

/* Streams open at once, in all and per user; past them 503 and 429. */
#define PP_EVENTS_MAX_STREAMS 64
#define PP_EVENTS_MAX_PER_USER 8
#define PP_EVENTS_COALESCE_MS 200
/* A comment line this often (pcipassd's event-heartbeat): it keeps
 * proxies from closing a quiet stream, and checks again that the stream's
 * session and token are still good. A client that goes is seen at once
 * (pp-http watches a waiting stream's socket). */
#define PP_EVENTS_HEARTBEAT_S 15
#define PP_EVENTS_MAX_BATCH 512
/* Device rows a pass folds into their hosts (a lookup each), past which
 * it tells resync too. */
#define PP_EVENTS_MAX_DEVICES 16384

typedef enum {
  PP_EVENT_HOST,    /* id: the host's */
  PP_EVENT_DEVICE,  /* id: the PCI device's; told as its host's event */
  PP_EVENT_VM,      /* id: the VM's */
  PP_EVENT_NETWORK, /* id: the network's */
} PpEventKind;

#define PP_EVENTS_ERROR (pp_events_error_quark())
GQuark pp_events_error_quark(void);

typedef enum {
  PP_EVENTS_ERROR_FULL,      /* PP_EVENTS_MAX_STREAMS are open: 503 */
  PP_EVENTS_ERROR_USER_FULL, /* the user has PP_EVENTS_MAX_PER_USER open: 429 */
  PP_EVENTS_ERROR_NO_STREAM, /* the request cannot stream (no connection): 500 */
} PpEventsError;

typedef struct _PpEvents PpEvents;

/* Watches @store (both must outlive it); @sessions nullable; a heartbeat
 * every @heartbeat_s seconds (0: PP_EVENTS_HEARTBEAT_S). */
PpEvents *pp_events_new(PpStore *store, PpSessions *sessions, guint heartbeat_s);
/* Ends every stream. */
void pp_events_free(PpEvents *events);

/* Notes a change, told at the next pass. */
void pp_events_note(PpEvents *events, PpEventKind kind, gint64 id);

/* Who a stream is for, and what it came with (checked again at each
 * heartbeat: a logged-out session or a deleted token ends it). */
typedef struct {
  gint64 user_id;
  const char *user_name;
  gboolean admin;
  const char *session_hash; /* nullable: not a session's */
  const char *token_hash;   /* nullable: the Unix socket's peer */
} PpEventsWho;

/**
 * pp_events_open:
 * @req: a GET /v1/events, in its handler
 *
 * Answers @req with a stream, its first event "hello".
 *
 * Returns: FALSE with a PP_EVENTS_ERROR.
 */
gboolean pp_events_open(PpEvents *events, const PpHttpRequest *req, const PpEventsWho *who,
                        GError **error);

/* Ends the streams of a session (its logout). */
void pp_events_end_session(PpEvents *events, const char *session_hash);

/* What /metrics tells. */
typedef struct {
  guint streams;   /* open now */
  guint64 sent;    /* events sent (one per stream told) */
  guint64 resyncs; /* passes that told resync for too many changes */
  guint64 dropped; /* streams ended for a client that did not read */
} PpEventsCounts;

void pp_events_get_counts(PpEvents *events, PpEventsCounts *ret);

/* Tests: run the pass now (not after PP_EVENTS_COALESCE_MS), and the
 * heartbeat. */
void pp_events_flush(PpEvents *events);
void pp_events_heartbeat(PpEvents *events);

G_END_DECLS
