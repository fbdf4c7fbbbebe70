/* pp-store-priv: what only tests and benchmarks use (STYLE rule 5): the
 * raw database, to show that the schema itself refuses what it must, and
 * stand-ins for the scheduler (which comes later) to make VMs and hold
 * devices. Never called by pcipassd. */
#pragma once

#include "pp-db.h"
#include <glib.h>

#include "pp-store.h"

G_BEGIN_DECLS

/* Returns: (transfer none): the store's connection. */
PpDb *pp_store_test_get_db(PpStore *store);

/* Adds a VM in state pending, on no host, with no template, owned by the
 * user 'test-vm-owner' (made on first use). Returns its id; asserts
 * success. */
gint64 pp_store_test_add_vm(PpStore *store, const char *name);

/* Sets the device's vm_id to @vm_id (0: frees it) with a plain UPDATE, so
 * that the schema's checks and trigger decide: CONFLICT when another VM
 * holds it, INVALID when freeing a gone device. NOT_FOUND for an unknown
 * device. Its vm_slot follows: kept when @vm_id holds it already, else
 * @vm_id's next free slot (one past its highest), NULL when freed. */
gboolean pp_store_test_hold_device(PpStore *store, gint64 device_id, gint64 vm_id, GError **error);

/* The SQL of migration @version (from @version - 1 to @version), to build
 * an old file by hand. Returns: (transfer none) (nullable): NULL for a
 * version without one. */
const char *pp_store_test_get_migration(int version);

/* The SQL of the read that decides whether a pushed report is the host's
 * last one again (the cheap path of pp_store_host_ingest()), to look at its
 * query plan. Returns: (transfer none). */
const char *pp_store_test_get_report_state_sql(void);

/* The JSON object text the store keeps for a probe record (the
 * `attributes` column): keys in order. Returns: (transfer full). */
char *pp_store_test_record_to_json(const char *const *keys, const char *const *values);

G_END_DECLS
