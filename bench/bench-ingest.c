/* bench-ingest: how fast pcipassd's store takes in probe reports.
 *
 * For N simulated hosts of 8..64 devices each (deterministic), it writes
 * the report text pcipass-probe would print, then parses it
 * (pp_probe_report_parse) and reconciles it (pp_store_host_reconcile) into
 * a fresh SQLite store in a temporary folder: a first pass that adds every
 * device, and a second pass in which every device is reported again and a
 * few change, vanish or appear. The baseline, in the same process and on the
 * same reports, is the naive way: per host, one transaction that deletes
 * every device of the host and inserts each again, with statements
 * prepared for each use.
 *
 * Only parsing and storing are timed; writing the texts is not. Prints
 * reports/s for each pass, the devices, peak RSS and the ratio of ours to
 * the baseline.
 *
 * Usage: bench-ingest [N...]   (default: 1000 10000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "pp-autoptr.h"
#include "pp-probe-report.h"
#include "pp-store-priv.h"
#include "pp-store.h"

/* The kinds of device a simulated host has. */
static const struct {
  guint16 vendor, device, class_code;
  const char *vendor_name, *device_name, *class_name;
  const char *driver; /* NULL: none bound */
  const char *sriov;
  gboolean nic;
} kinds[] = {
  { 0x8086, 0x1521, 0x0200, "Intel Corporation", "I350 Gigabit Network Connection",
    "Ethernet controller", "igb", "pf", TRUE },
  { 0x8086, 0x1520, 0x0200, "Intel Corporation", "I350 Ethernet Controller Virtual Function",
    "Ethernet controller", "igbvf", "vf", TRUE },
  { 0x10de, 0x20b0, 0x0302, "NVIDIA Corporation", "GA100 [A100 SXM4 40GB]", "3D controller",
    "nvidia", "no", FALSE },
  { 0x144d, 0xa808, 0x0108, "Samsung Electronics Co Ltd", "NVMe SSD Controller SM981/PM981/PM983",
    "Non-Volatile memory controller", "nvme", "no", FALSE },
  { 0x15b3, 0x101c, 0x0207, "Mellanox Technologies", "MT28908 Family [ConnectX-6 Virtual Function]",
    "Infiniband controller", "mlx5_core", "vf", TRUE },
  { 0x1022, 0x1482, 0x0600, "Advanced Micro Devices, Inc. [AMD]",
    "Starship/Matisse PCIe Dummy Host Bridge", "Host bridge", NULL, "no", FALSE },
  { 0x8086, 0x2030, 0x0604, "Intel Corporation", "Sky Lake-E PCI Express Root Port A", "PCI bridge",
    "pcieport", "no", FALSE },
  { 0x1af4, 0x1041, 0x0200, "Red Hat, Inc.", "Virtio network device", "Ethernet controller",
    "virtio-pci", "no", TRUE },
};

/* A small deterministic hash: the same hosts on every run. */
static guint32
mix(guint32 a, guint32 b)
{
  guint32 h = a * 0x9e3779b1u ^ (b + 0x7f4a7c15u + (a << 6) + (a >> 2));

  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  return h;
}

static guint
host_devices(guint host)
{
  return 8 + mix(host, 1) % 57; /* 8..64 */
}

/* Appends one PCI record, as pcipass-probe prints it. */
static void
append_record(GString *out, guint host, guint j, gboolean changed)
{
  guint k = mix(host, 100 + j) % G_N_ELEMENTS(kinds);
  guint bus = 0x10 + j / 8, function = j % 8;
  const char *driver = changed ? "vfio-pci" : kinds[k].driver;

  g_string_append_printf(out,
                         "PCI = [\n"
                         "  TYPE = \"%04x:%04x:%04x\",\n"
                         "  VENDOR = \"%04x\",\n"
                         "  VENDOR_NAME = \"%s\",\n"
                         "  DEVICE = \"%04x\",\n"
                         "  DEVICE_NAME = \"%s\",\n"
                         "  CLASS = \"%04x\",\n"
                         "  CLASS_NAME = \"%s\",\n"
                         "  ADDRESS = \"0000:%02x:00:%x\",\n"
                         "  SHORT_ADDRESS = \"%02x:00.%x\",\n"
                         "  DOMAIN = \"0000\",\n"
                         "  BUS = \"%02x\",\n"
                         "  SLOT = \"00\",\n"
                         "  FUNCTION = \"%x\",\n"
                         "  NUMA_NODE = \"%u\",\n",
                         kinds[k].vendor, kinds[k].device, kinds[k].class_code, kinds[k].vendor,
                         kinds[k].vendor_name, kinds[k].device, kinds[k].device_name,
                         kinds[k].class_code, kinds[k].class_name, bus, function, bus, function,
                         bus, function, j < 32 ? 0 : 1);
  if (kinds[k].nic)
    g_string_append_printf(out, "  IFNAME = \"enp%us0f%u\",\n", bus, function);
  g_string_append_printf(out, "  SRIOV = \"%s\",\n  IOMMU_GROUP = \"%u\"", kinds[k].sriov, 20 + j);
  if (driver != NULL)
    g_string_append_printf(out, ",\n  DRIVER = \"%s\"", driver);
  if (strcmp(kinds[k].sriov, "vf") == 0)
    g_string_append_printf(out, ",\n  PHYSFN = \"0000:%02x:00.0\"", bus);
  g_string_append_printf(out,
                         ",\n  SUBSYSTEM_VENDOR = \"%04x\",\n  SUBSYSTEM_DEVICE = \"%04x\" ]\n",
                         kinds[k].vendor, 0x1000 + k);
}

/* The report of @host in @pass (1 or 2). In pass 2 a third of the hosts
 * lose their last device, a seventh gain one, and one device in sixteen
 * moves to vfio-pci. */
static void
make_report(GString *out, guint host, guint pass)
{
  guint n = host_devices(host);

  g_string_truncate(out, 0);
  g_string_append_printf(out,
                         "HOSTNAME = \"sim-%05u.example.org\"\n"
                         "CPU_COUNT = \"%u\"\n"
                         "MEMORY_KIB = \"%u\"\n"
                         "KERNEL_VERSION = \"6.1.0-18-amd64\"\n",
                         host, 16 + mix(host, 2) % 240, 65921280u + pass);
  if (pass == 2 && host % 3 == 0)
    n--;
  if (pass == 2 && host % 7 == 0)
    n++;
  for (guint j = 0; j < n; j++)
    append_record(out, host, j, pass == 2 && mix(host, 200 + j) % 16 == 0);
}

/* What a pass did, summed over the hosts. */
typedef struct {
  gint64 usec;       /* parsing and storing only */
  gint64 parse_usec; /* of which parsing */
  guint64 devices;
  PpReconcileStats stats;
} PassResult;

typedef gboolean (*IngestFunc)(PpStore *store, gint64 host_id, const PpProbeReport *report,
                               PpReconcileStats *stats, GError **error);

static gboolean
ingest_ours(PpStore *store, gint64 host_id, const PpProbeReport *report, PpReconcileStats *stats,
            GError **error)
{
  return pp_store_host_reconcile(store, host_id, report, 1700000000, stats, error);
}

static void
must_exec(sqlite3 *db, const char *sql)
{
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    g_error("%s: %s", sql, sqlite3_errmsg(db));
}

/* The naive way: delete the host's devices, insert each again, every
 * statement prepared for its one use; one transaction per host. */
static gboolean
ingest_naive(PpStore *store, gint64 host_id, const PpProbeReport *report, PpReconcileStats *stats,
             GError **error)
{
  sqlite3 *db = pp_store_test_get_db(store);

  must_exec(db, "BEGIN IMMEDIATE");
  {
    g_autoptr(sqlite3_stmt) stmt = NULL;

    sqlite3_prepare_v2(db, "DELETE FROM pci_device WHERE host_id = ?1", -1, &stmt, NULL);
    sqlite3_bind_int64(stmt, 1, host_id);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      g_error("delete: %s", sqlite3_errmsg(db));
  }
  for (guint i = 0; i < report->devices->len; i++) {
    const PpProbeDevice *dev = g_ptr_array_index(report->devices, i);
    g_autoptr(sqlite3_stmt) stmt = NULL;
    g_autofree char *json = pp_store_test_record_to_json((const char *const *)dev->keys,
                                                         (const char *const *)dev->values);

    sqlite3_prepare_v2(db,
                       "INSERT INTO pci_device (host_id, address, short_address, vendor, device, "
                       "class_code, vendor_name, device_name, class_name, numa_node, "
                       "iommu_group, driver, sriov, physfn, attributes) VALUES (?1, ?2, ?3, ?4, "
                       "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                       -1, &stmt, NULL);
    sqlite3_bind_int64(stmt, 1, host_id);
    sqlite3_bind_text(stmt, 2, dev->bdf, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, dev->short_address, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 4, dev->vendor);
    sqlite3_bind_int(stmt, 5, dev->device);
    sqlite3_bind_int(stmt, 6, dev->class_code);
    sqlite3_bind_text(stmt, 7, dev->vendor_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 8, dev->device_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 9, dev->class_name, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 10, dev->numa_node);
    sqlite3_bind_int(stmt, 11, dev->iommu_group);
    sqlite3_bind_text(stmt, 12, dev->driver, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 13, dev->sriov, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 14, dev->physfn, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 15, json, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      g_error("insert: %s", sqlite3_errmsg(db));
    stats->added++;
  }
  {
    g_autoptr(sqlite3_stmt) stmt = NULL;

    sqlite3_prepare_v2(db,
                       "UPDATE hosts SET reported_hostname = ?2, cpu_count = ?3, "
                       "memory_kib = ?4, kernel_version = ?5, state = 'monitored', "
                       "error = NULL, last_monitored = ?6 WHERE id = ?1",
                       -1, &stmt, NULL);
    sqlite3_bind_int64(stmt, 1, host_id);
    sqlite3_bind_text(stmt, 2, report->hostname, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, report->cpu_count);
    sqlite3_bind_int64(stmt, 4, report->memory_kib);
    sqlite3_bind_text(stmt, 5, report->kernel_version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 6, 1700000000);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      g_error("update: %s", sqlite3_errmsg(db));
  }
  must_exec(db, "COMMIT");
  return TRUE;
}

static PassResult
run_pass(PpStore *store, const gint64 *ids, guint n, guint pass, IngestFunc ingest)
{
  g_autoptr(GString) text = g_string_sized_new(64 * 1024);
  PassResult r = { 0 };

  for (guint h = 0; h < n; h++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(PpProbeReport) report = NULL;
    PpReconcileStats stats = { 0 };
    gint64 start;

    make_report(text, h, pass);
    start = g_get_monotonic_time();
    report = pp_probe_report_parse(text->str, text->len, &error);
    if (report == NULL)
      g_error("host %u: %s", h, error->message);
    r.parse_usec += g_get_monotonic_time() - start;
    if (!ingest(store, ids[h], report, &stats, &error))
      g_error("host %u: %s", h, error->message);
    r.usec += g_get_monotonic_time() - start;
    r.devices += report->devices->len;
    r.stats.added += stats.added;
    r.stats.updated += stats.updated;
    r.stats.removed += stats.removed;
    r.stats.flagged += stats.flagged;
  }
  return r;
}

static long
peak_rss_mib(void)
{
  struct rusage usage;

  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

static void
remove_store(const char *path)
{
  static const char *const suffixes[] = { "", "-wal", "-shm" };

  for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
    g_autofree char *file = g_strconcat(path, suffixes[i], NULL);

    g_unlink(file);
  }
}

/* Both passes of one way on a fresh store; fills @ret (2 passes). */
static void
run_way(const char *dir, const char *label, guint n, IngestFunc ingest, PassResult ret[2])
{
  g_autofree char *path = g_build_filename(dir, "bench.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(PpStore) store = NULL;
  g_autofree gint64 *ids = g_new(gint64, n);

  remove_store(path);
  store = pp_store_open(path, &error);
  if (store == NULL)
    g_error("%s", error->message);
  for (guint h = 0; h < n; h++) {
    g_autofree char *name = g_strdup_printf("sim-%05u", h);
    PpHostSpec spec = { .name = name };
    g_autoptr(PpHost) host = pp_store_host_create(store, &spec, 1700000000, &error);

    if (host == NULL)
      g_error("%s", error->message);
    ids[h] = host->id;
  }
  for (guint pass = 1; pass <= 2; pass++) {
    PassResult *r = &ret[pass - 1];

    *r = run_pass(store, ids, n, pass, ingest);
    printf("  %-8s pass %u: %6.0f reports/s  %8.0f devices/s  (%.2f s, parsing %.2f s; "
           "%" G_GUINT64_FORMAT " devices: %u added, %u refreshed, %u removed)  peak RSS %ld MiB\n",
           label, pass, n / (r->usec / 1e6), r->devices / (r->usec / 1e6), r->usec / 1e6,
           r->parse_usec / 1e6, r->devices, r->stats.added, r->stats.updated, r->stats.removed,
           peak_rss_mib());
    fflush(stdout);
  }
  g_clear_pointer(&store, pp_store_free);
  remove_store(path);
}

int
main(int argc, char **argv)
{
  static const guint defaults[] = { 1000, 10000 };
  g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  for (int i = 1; i < argc; i++) {
    guint64 v;
    guint n;

    if (!g_ascii_string_to_unsigned(argv[i], 10, 1, 1000000, &v, NULL)) {
      fprintf(stderr, "usage: %s [N...]  (hosts; default 1000 10000)\n", argv[0]);
      return 2;
    }
    n = (guint)v;
    g_array_append_val(sizes, n);
  }
  if (sizes->len == 0)
    g_array_append_vals(sizes, defaults, G_N_ELEMENTS(defaults));

  dir = g_dir_make_tmp("pcipass-bench-ingest-XXXXXX", &error);
  if (dir == NULL)
    g_error("%s", error->message);
  printf("bench-ingest: SQLite %s, store in '%s'\n", sqlite3_libversion(), dir);

  for (guint s = 0; s < sizes->len; s++) {
    guint n = g_array_index(sizes, guint, s);
    PassResult ours[2], naive[2];

    printf("N = %u hosts of 8..64 devices\n", n);
    fflush(stdout);
    run_way(dir, "store", n, ingest_ours, ours);
    run_way(dir, "baseline", n, ingest_naive, naive);
    for (guint p = 0; p < 2; p++)
      printf("  pass %u: store/baseline = %.2fx (reports/s)\n", p + 1,
             (double)naive[p].usec / (double)ours[p].usec);
    printf("  total devices stored: %" G_GUINT64_FORMAT " (pass 1), %" G_GUINT64_FORMAT
           " (pass 2)\n",
           ours[0].devices, ours[1].devices);
    fflush(stdout);
  }
  g_rmdir(dir);
  return 0;
}
