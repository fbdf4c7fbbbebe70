#define G_LOG_DOMAIN "pp-libvirt-events"

#include "config.h"

#include <glib-unix.h>
#include <libvirt/libvirt.h>

#include "pp-libvirt-events.h"

/* A handle (fd watched) or a timeout libvirt registered. */
typedef struct {
  int id;
  gboolean is_handle;
  int fd;          /* handles */
  int events;      /* handles: VIR_EVENT_HANDLE_* asked for; 0: none */
  int interval;    /* timeouts: milliseconds; -1: off */
  GSource *source; /* NULL while nothing is asked for */
  virEventHandleCallback handle_cb;
  virEventTimeoutCallback timeout_cb;
  void *opaque;
  virFreeCallback ff;
} Watch;

/* Every Watch by id, under lock. libvirt's ids only need to be positive
 * and unique among handles, and among timeouts: one counter serves both. */
static GMutex lock;
static GHashTable *watches;
static int last_id;

static GIOCondition
condition_from_events(int events)
{
  GIOCondition cond = G_IO_HUP | G_IO_ERR;

  if (events & VIR_EVENT_HANDLE_READABLE)
    cond |= G_IO_IN;
  if (events & VIR_EVENT_HANDLE_WRITABLE)
    cond |= G_IO_OUT;
  return cond;
}

static int
events_from_condition(GIOCondition cond)
{
  int events = 0;

  if (cond & G_IO_IN)
    events |= VIR_EVENT_HANDLE_READABLE;
  if (cond & G_IO_OUT)
    events |= VIR_EVENT_HANDLE_WRITABLE;
  if (cond & G_IO_ERR)
    events |= VIR_EVENT_HANDLE_ERROR;
  if (cond & G_IO_HUP)
    events |= VIR_EVENT_HANDLE_HANGUP;
  return events;
}

/* On the main loop: the callback of watch @id, if it is still there. */
static gboolean
on_fd(gint fd, GIOCondition cond, gpointer data)
{
  int id = GPOINTER_TO_INT(data);
  virEventHandleCallback cb = NULL;
  void *opaque = NULL;
  Watch *w;

  g_mutex_lock(&lock);
  w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
  if (w != NULL) {
    cb = w->handle_cb;
    opaque = w->opaque;
  }
  g_mutex_unlock(&lock);
  if (cb != NULL)
    cb(id, fd, events_from_condition(cond), opaque);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout(gpointer data)
{
  int id = GPOINTER_TO_INT(data);
  virEventTimeoutCallback cb = NULL;
  void *opaque = NULL;
  Watch *w;

  g_mutex_lock(&lock);
  w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
  if (w != NULL) {
    cb = w->timeout_cb;
    opaque = w->opaque;
  }
  g_mutex_unlock(&lock);
  if (cb != NULL)
    cb(id, opaque);
  return G_SOURCE_CONTINUE;
}

/* Drops @w's source; under lock. */
static void
watch_detach(Watch *w)
{
  if (w->source == NULL)
    return;
  g_source_destroy(w->source);
  g_clear_pointer(&w->source, g_source_unref);
}

/* Gives @w the source of what it asks for now; under lock. The default
 * context is attached from any thread: GLib wakes the loop up. */
static void
watch_attach(Watch *w)
{
  watch_detach(w);
  if (w->is_handle && w->events != 0) {
    w->source = g_unix_fd_source_new(w->fd, condition_from_events(w->events));
    g_source_set_callback(w->source, G_SOURCE_FUNC(on_fd), GINT_TO_POINTER(w->id), NULL);
  } else if (!w->is_handle && w->interval >= 0) {
    w->source = g_timeout_source_new((guint)w->interval);
    g_source_set_callback(w->source, on_timeout, GINT_TO_POINTER(w->id), NULL);
  } else {
    return;
  }
  g_source_set_name(w->source, w->is_handle ? "libvirt handle" : "libvirt timeout");
  g_source_attach(w->source, NULL);
}

static int
watch_add(Watch *w)
{
  int id;

  g_mutex_lock(&lock);
  id = w->id = ++last_id;
  g_hash_table_insert(watches, GINT_TO_POINTER(id), w);
  watch_attach(w);
  g_mutex_unlock(&lock);
  return id;
}

static int
add_handle(int fd, int events, virEventHandleCallback cb, void *opaque, virFreeCallback ff)
{
  Watch *w = g_new0(Watch, 1);

  w->is_handle = TRUE;
  w->fd = fd;
  w->events = events;
  w->handle_cb = cb;
  w->opaque = opaque;
  w->ff = ff;
  return watch_add(w);
}

static int
add_timeout(int interval, virEventTimeoutCallback cb, void *opaque, virFreeCallback ff)
{
  Watch *w = g_new0(Watch, 1);

  w->interval = interval;
  w->timeout_cb = cb;
  w->opaque = opaque;
  w->ff = ff;
  return watch_add(w);
}

static void
watch_update(int id, gboolean is_handle, int value)
{
  Watch *w;

  g_mutex_lock(&lock);
  w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
  if (w != NULL && w->is_handle == is_handle) {
    int *slot = is_handle ? &w->events : &w->interval;

    if (*slot != value) {
      *slot = value;
      watch_attach(w);
    }
  }
  g_mutex_unlock(&lock);
}

static void
update_handle(int id, int events)
{
  watch_update(id, TRUE, events);
}

static void
update_timeout(int id, int interval)
{
  watch_update(id, FALSE, interval);
}

/* On the main loop, from a clean stack: libvirt's free callback. */
static gboolean
free_watch(gpointer data)
{
  Watch *w = data;

  if (w->ff != NULL)
    w->ff(w->opaque);
  g_free(w);
  return G_SOURCE_REMOVE;
}

static int
watch_remove(int id, gboolean is_handle)
{
  Watch *w;

  g_mutex_lock(&lock);
  w = g_hash_table_lookup(watches, GINT_TO_POINTER(id));
  if (w == NULL || w->is_handle != is_handle) {
    g_mutex_unlock(&lock);
    return -1;
  }
  g_hash_table_remove(watches, GINT_TO_POINTER(id));
  watch_detach(w);
  g_mutex_unlock(&lock);
  g_idle_add_full(G_PRIORITY_DEFAULT, free_watch, w, NULL);
  return 0;
}

static int
remove_handle(int id)
{
  return watch_remove(id, TRUE);
}

static int
remove_timeout(int id)
{
  return watch_remove(id, FALSE);
}

void
pp_libvirt_events_register(void)
{
  static gsize once = 0;

  if (g_once_init_enter(&once)) {
    watches = g_hash_table_new(NULL, NULL);
    virEventRegisterImpl(add_handle, update_handle, remove_handle, add_timeout, update_timeout,
                         remove_timeout);
    g_once_init_leave(&once, 1);
  }
}

guint
pp_libvirt_events_count(void)
{
  guint n;

  if (watches == NULL)
    return 0;
  g_mutex_lock(&lock);
  n = g_hash_table_size(watches);
  g_mutex_unlock(&lock);
  return n;
}
