/* pp-autoptr: g_autoptr() cleanups for the external types we use (STYLE
 * rule 9). Defined once, here. */
#pragma once

#include <dirent.h>

#include <curl/curl.h>
#include <glib.h>
#include <jansson.h>
#include <libvirt/libvirt.h>
#include <sqlite3.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DIR, closedir)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURL, curl_easy_cleanup)
/* virConnectClose returns the references left; a cleanup ignores it. */
static inline void
pp_vir_connect_close(virConnectPtr conn)
{
  virConnectClose(conn);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virConnect, pp_vir_connect_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)
