/* pp-autoptr: g_autoptr() cleanups for the external types we use (STYLE
 * rule 9). Defined once, here, but each only where its library's header was
 * included first: this header brings in no library, so that a part that
 * does not use curl, libvirt or SQLite does not see their headers (nor
 * need them to build). */
/* No #pragma once: included again after a library's header, it adds that
 * library's cleanups. */
#ifndef PP_AUTOPTR_H
#define PP_AUTOPTR_H

#include <dirent.h>

#include <glib.h>
#include <jansson.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DIR, closedir)
#endif

#if defined(SQLITE3_H) && !defined(PP_AUTOPTR_SQLITE)
#define PP_AUTOPTR_SQLITE
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)
#endif

#if defined(CURLINC_CURL_H) && !defined(PP_AUTOPTR_CURL)
#define PP_AUTOPTR_CURL
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
#endif

#if defined(LIBVIRT_H) && !defined(PP_AUTOPTR_LIBVIRT)
#define PP_AUTOPTR_LIBVIRT
/* virConnectClose returns the references left; a cleanup ignores it. */
static inline void
pp_vir_connect_close(virConnectPtr conn)
{
  virConnectClose(conn);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, pp_vir_connect_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
#endif
