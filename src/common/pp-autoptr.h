/* pp-autoptr: g_autoptr() cleanups for the external types we use (STYLE
 * rule 9). Defined once, here. */
#pragma once

#include <dirent.h>

#include <glib.h>
#include <jansson.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DIR, closedir)
