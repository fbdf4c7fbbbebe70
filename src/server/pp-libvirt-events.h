/* pp-libvirt-events: libvirt's event loop, run by GLib's.
 *
 * libvirt needs an event loop for what it tells a client on its own:
 * domain lifecycle events, a connection that dies (keepalive), and the
 * test driver's queued events. Instead of a thread spinning
 * virEventRunDefaultImpl(), its handles and timeouts become GSources of
 * the default GMainContext, so that every libvirt callback runs on
 * pcipassd's main loop, where the store lives (STYLE rule 29).
 *
 * libvirt registers and removes handles from any thread (a connection
 * opened in a deployer worker adds its socket); the table is locked, and a
 * callback never runs with the lock held, nor after its removal returned.
 * The free callbacks run from an idle of the main loop, never from
 * inside a removal, as libvirt asks.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Makes GLib's default main context libvirt's event loop. Once per
 * process, before the first connection (later calls do nothing). */
void pp_libvirt_events_register(void);

/* How many handles and timeouts libvirt has registered now (tests). */
guint pp_libvirt_events_count(void);

G_END_DECLS
