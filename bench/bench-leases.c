/* bench-leases: what a lease costs as a network fills (issue 12), in the
 * real store on a real SQLite file.
 *
 *   build/bench/bench-leases [N]      (default 100000 VMs)
 *
 * One network with a range of 2^20 addresses; N VMs, each with one NIC on
 * it, created and placed (pp_store_vm_allocate(), which takes the lease in
 * its transaction) one after the other. Prints the time per placement of
 * the first and the last 1000, then of 1000 more placed the way a store
 * without the range's search cursor would (each search from the range's
 * first address, through every lease taken): the ratio of that baseline
 * to ours, run in the same process on the same store. A placement must not
 * cost in proportion to the leases a network has. Then the check a pending
 * VM costs the scheduler (pp_store_vm_check_leases()) on the full network,
 * and the first page of `net show` (its leases are bounded). And (issue 13)
 * what a VM's context disk costs the deployer at each start, its content
 * from the store (pp_vm_context_disk()) and its ISO
 * (pp_context_iso_build()): for a VM of the first 1000 with 1000 leases in
 * the store, then for the last VM with N: the ratio must stay near 1, a
 * start reading the VM's own rows only. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "pp-context-iso.h"
#include "pp-db-sqlite.h"
#include "pp-store-network.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-vm-context.h"

#define BATCH 1000

static const char network_text[] =
    "NAME = big\nVN_MAD = bridge\nBRIDGE = br0\nAR = [ TYPE = IP4, IP = \"10.0.0.0\", "
    "SIZE = 1048576 ]\n";

static void
die(const char *what, GError *error)
{
  fprintf(stderr, "bench-leases: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit(1);
}

static gint64
add_vm(PpStore *store, gint64 owner_id, gint64 network_id)
{
  g_autoptr(PpVmSpec) spec = pp_vm_spec_new();
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = NULL;
  PpVmNic *nic = g_new0(PpVmNic, 1);

  spec->memory_mib = 1;
  spec->vcpu = 1;
  nic->kind = PP_VM_NIC_BRIDGE;
  nic->model = g_strdup("virtio");
  nic->network_id = network_id;
  nic->vlan_id = -1;
  nic->request = -1;
  g_ptr_array_add(spec->nics, nic);
  vm = pp_store_vm_create_spec(store, owner_id, "MEMORY = 1\n", spec, 1000, &error);
  if (vm == NULL)
    die("creating a VM", error);
  return vm->id;
}

/* Creates and places @n VMs; returns the seconds the placements took. When
 * @from_start, each search starts at the range's first address. */
static double
place(PpStore *store, gint64 owner_id, gint64 host_id, gint64 network_id, guint n,
      gboolean from_start)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  sqlite3 *db = pp_db_sqlite_handle(pp_store_test_get_db(store));
  double spent = 0;

  for (guint i = 0; i < n; i++) {
    gint64 id = add_vm(store, owner_id, network_id);

    g_array_append_val(ids, id);
  }
  for (guint i = 0; i < n; i++) {
    g_autoptr(GError) error = NULL;
    gint64 start;

    if (from_start &&
        sqlite3_exec(db, "UPDATE network_ar SET next_idx = 0", NULL, NULL, NULL) != SQLITE_OK)
      die("resetting the cursor", NULL);
    start = g_get_monotonic_time();
    if (!pp_store_vm_allocate(store, g_array_index(ids, gint64, i), host_id, NULL, 0, 1001, &error))
      die("placing a VM", error);
    spent += (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  }
  return spent;
}

/* Seconds per context disk of VM @vm_id, content and ISO, over @rounds. */
static double
context_disk_time(PpStore *store, gint64 vm_id, guint rounds, gsize *ret_size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = pp_store_vm_get(store, vm_id, &error);
  gint64 start;

  if (vm == NULL)
    die("reading a VM", error);
  /* Warm first (libisofs's start, the statements, the pages), then timed:
   * 20 rounds more. */
  start = g_get_monotonic_time();
  for (guint i = 0; i < rounds + 20; i++) {
    g_autoptr(PpContextDisk) disk = pp_vm_context_disk(store, vm, &error);
    g_autoptr(GBytes) iso = disk != NULL ? pp_context_iso_build(disk, &error) : NULL;

    if (iso == NULL)
      die("building a context disk", error);
    *ret_size = g_bytes_get_size(iso);
    if (i == 19)
      start = g_get_monotonic_time();
  }
  return (double)(g_get_monotonic_time() - start) / 1e6 / rounds;
}

int
main(int argc, char **argv)
{
  guint n = argc > 1 ? (guint)g_ascii_strtoull(argv[1], NULL, 10) : 100000;
  g_autofree char *dir = g_dir_make_tmp("pcipass-bench-leases-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "pcipass.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) store = NULL;
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autoptr(PpNetwork) network = NULL;
  g_autoptr(PpNetworkSpec) spec = NULL;
  PpHostSpec host_spec = { .name = "node1" };
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  double first, last, baseline, disk_first, disk_last;
  gsize iso_size = 0;
  gint64 start;

  if (n < 2 * BATCH || n > 1000000) {
    fprintf(stderr, "bench-leases: N is %d to 1000000\n", 2 * BATCH);
    return 2;
  }
  store = pp_store_open(path, &error);
  if (store == NULL)
    die("opening the store", error);
  user = pp_store_user_create(store, "bench", FALSE, 1000, &error);
  host = user != NULL ? pp_store_host_create(store, &host_spec, 1000, &error) : NULL;
  spec = pp_network_template_parse(network_text, strlen(network_text), NULL, NULL, &error);
  if (host == NULL || spec == NULL)
    die("setting up", error);
  network =
      pp_store_network_create(store, user->id, network_text, spec, FALSE, &prefix, 1000, &error);
  if (network == NULL)
    die("creating the network", error);

  printf("bench-leases: %u VMs with one NIC each on a network of 1048576 addresses (%s)\n", n,
         path);
  first = place(store, user->id, host->id, network->id, BATCH, FALSE);
  /* VM 1: the first placed, with BATCH leases in the store. */
  disk_first = context_disk_time(store, 1, 200, &iso_size);
  for (guint done = BATCH; done < n - BATCH; done += BATCH) {
    place(store, user->id, host->id, network->id, MIN(BATCH, n - BATCH - done), FALSE);
    if (done % 20000 == 0)
      fprintf(stderr, "  %u placed\n", done);
  }
  last = place(store, user->id, host->id, network->id, BATCH, FALSE);
  baseline = place(store, user->id, host->id, network->id, BATCH, TRUE);
  printf("placement with its lease, per VM:\n"
         "  first %u:            %8.1f us\n"
         "  last %u (of %u):  %8.1f us   (last / first: %.2f)\n"
         "  baseline, %u more searched from the first address: %8.1f us\n"
         "  ratio baseline / ours at %u leases: %.1f\n",
         BATCH, first * 1e6 / BATCH, BATCH, n, last * 1e6 / BATCH, last / first, BATCH,
         baseline * 1e6 / BATCH, n + BATCH, baseline / last);

  /* The same for the last VM placed, with every lease in the store. */
  disk_last = context_disk_time(store, n + BATCH, 200, &iso_size);
  printf("context disk of a VM (pp_vm_context_disk + pp_context_iso_build, %" G_GSIZE_FORMAT
         " bytes):\n"
         "  with %u leases in the store:   %8.1f us\n"
         "  with %u leases in the store: %8.1f us   (ratio %.2f)\n",
         iso_size, BATCH, disk_first * 1e6, n + BATCH, disk_last * 1e6, disk_last / disk_first);

  /* What a pending VM costs the scheduler, and `net show`. */
  {
    gint64 waiting = add_vm(store, user->id, network->id);
    gboolean ok = FALSE;

    start = g_get_monotonic_time();
    for (guint i = 0; i < BATCH; i++) {
      g_autofree char *reason = NULL;

      if (!pp_store_vm_check_leases(store, waiting, &ok, &reason, &error))
        die("checking leases", error);
    }
    printf("check of a pending VM's NIC (pp_store_vm_check_leases): %.1f us\n",
           (double)(g_get_monotonic_time() - start) / BATCH);
  }
  {
    g_autoptr(GArray) leases = NULL;

    start = g_get_monotonic_time();
    leases = pp_store_network_list_leases(store, network->id, PP_STORE_NETWORK_LEASES_MAX, &error);
    if (leases == NULL)
      die("listing leases", error);
    printf("net show's leases (the first %u of %u): %.1f ms\n", leases->len, n + BATCH,
           (double)(g_get_monotonic_time() - start) / 1000);
  }
  g_clear_pointer(&store, pp_store_free);
  {
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(path, "-shm", NULL);

    g_unlink(path);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(dir);
  }
  return 0;
}
