/* bench-ingest: how fast pcipassd takes in pushed probe reports.
 *
 * N simulated hosts (deterministic) of D devices each (default 8, as issue
 * 11's 10,000 hosts x 8 devices; D 0: a mix of 8..64), each with the
 * report text pcipass-probe would print: pass 1, then pass 2 in which every
 * report changes (the memory fact) and some devices change, vanish or
 * appear. Two measures:
 *
 * In process, through the store, on a fresh SQLite store in a temporary
 * folder (/dev/shm when writable):
 *   - ours: pp_store_host_ingest(), as POST /v1/hosts/NAME/report does:
 *     pass 1 (every device new), pass 1 again (unchanged: a hash
 *     comparison), pass 2 (changed: parse and reconcile);
 *   - the baseline, in the same process on its own fresh store: the path
 *     pcipassd had for every report, a parse and a full reconcile
 *     (pp_store_host_reconcile()) each time, on the same texts.
 * Each twice, taking turns (baseline, ours, baseline, ours), a fresh store
 * each time; the best of each phase counts.
 *
 * Over the real pcipassd's Unix socket (unless --no-daemon): pcipassd
 * started on a fresh state folder with the first M of the hosts (default
 * 2,000: making a host through the API takes tens of milliseconds, not
 * what is measured here) (POST /v1/hosts, libvirt's
 * test driver) each given a report token (POST /v1/hosts/NAME/token: push
 * mode, never probed), then C client threads (default 8), each with one
 * kept-alive connection, POST /v1/hosts/NAME/report with the host's token:
 * pass 1, pass 1 again (unchanged), pass 2 (changed). Rates and p99; and,
 * for scale, GET /v1/whoami from the same clients: a request that does
 * nothing, the floor that pcipassd's HTTP layer sets.
 *
 * Only ingesting is timed; writing the texts is not. Prints reports/s for
 * each phase, the ratio of ours to the baseline, and issue 11's targets
 * (unchanged >= 20,000/s, changed >= 5,000/s): met or not met.
 *
 * Usage: bench-ingest [--devices D] [--clients C] [--daemon-hosts M] [--no-daemon] [N]
 *        (default: N 10000, D 8, C 8, M 2000)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <sqlite3.h>

#include "pp-autoptr.h"
#include "pp-bench-util.h"
#include "pp-probe-report.h"
#include "pp-store.h"

/* Issue 11's targets. */
#define TARGET_UNCHANGED 20000.0
#define TARGET_CHANGED 5000.0

static guint devices_per_host = 8; /* 0: 8..64 */

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
  return devices_per_host != 0 ? devices_per_host : 8 + mix(host, 1) % 57; /* 8..64 */
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

/* The texts of every host in pass 1 and pass 2, made before any timing. */
typedef struct {
  guint n;
  char **texts[2];
  guint64 bytes;
} Reports;

static void
reports_make(Reports *r, guint n)
{
  g_autoptr(GString) text = g_string_sized_new(64 * 1024);

  r->n = n;
  r->bytes = 0;
  for (guint p = 0; p < 2; p++) {
    r->texts[p] = g_new0(char *, n + 1);
    for (guint h = 0; h < n; h++) {
      make_report(text, h, p + 1);
      r->texts[p][h] = g_strndup(text->str, text->len);
      if (p == 0)
        r->bytes += text->len;
    }
  }
}

static void
reports_clear(Reports *r)
{
  for (guint p = 0; p < 2; p++)
    g_strfreev(r->texts[p]);
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

/* A fresh store with @n hosts; their ids in @ret_ids. */
static PpStore *
store_with_hosts(const char *path, guint n, gint64 **ret_ids)
{
  g_autoptr(GError) error = NULL;
  PpStore *store;
  gint64 *ids = g_new(gint64, n);

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
  *ret_ids = ids;
  return store;
}

/* One phase in process: every host's text of @pass, ingested by ours
 * (@baseline FALSE) or the baseline. Returns reports/s; @ret_changed: how
 * many were reconciled. */
static double
phase_in_process(PpStore *store, const gint64 *ids, const Reports *r, guint pass, gboolean baseline,
                 guint *ret_changed)
{
  guint changed = 0;
  double t0 = pp_bench_now_s(), elapsed;

  for (guint h = 0; h < r->n; h++) {
    const char *text = r->texts[pass - 1][h];
    gsize len = strlen(text);
    g_autoptr(GError) error = NULL;

    if (baseline) {
      g_autoptr(PpProbeReport) report = pp_probe_report_parse(text, len, &error);

      if (report == NULL ||
          !pp_store_host_reconcile(store, ids[h], report, 1700000000, NULL, &error))
        g_error("host %u: %s", h, error->message);
      changed++;
    } else {
      PpIngestResult result;

      if (!pp_store_host_ingest(store, ids[h], text, len, 1700000000, &result, &error))
        g_error("host %u: %s", h, error->message);
      changed += result.changed;
    }
  }
  elapsed = pp_bench_now_s() - t0;
  *ret_changed = changed;
  return r->n / elapsed;
}

typedef struct {
  double first, unchanged, changed;
  double floor; /* over the socket: GET /v1/whoami, a request that does nothing */
} Rates;

static void
print_rate(const char *way, const char *phase, double rate, guint changed, guint n)
{
  printf("  %-9s %-10s %9.0f reports/s  (%u of %u reconciled)  peak RSS %ld MiB\n", way, phase,
         rate, changed, n, peak_rss_mib());
  fflush(stdout);
}

/* Ours or the baseline, in process, on a fresh store. */
static Rates
run_in_process(const char *dir, const Reports *r, gboolean baseline)
{
  g_autofree char *path = g_build_filename(dir, "bench.db", NULL);
  g_autofree gint64 *ids = NULL;
  g_autoptr(PpStore) store = store_with_hosts(path, r->n, &ids);
  const char *way = baseline ? "baseline" : "store";
  Rates rates;
  guint changed;

  rates.first = phase_in_process(store, ids, r, 1, baseline, &changed);
  print_rate(way, "first", rates.first, changed, r->n);
  rates.unchanged = phase_in_process(store, ids, r, 1, baseline, &changed);
  print_rate(way, "unchanged", rates.unchanged, changed, r->n);
  if (!baseline && changed != 0)
    g_error("%u unchanged reports were reconciled", changed);
  rates.changed = phase_in_process(store, ids, r, 2, baseline, &changed);
  print_rate(way, "changed", rates.changed, changed, r->n);
  if (changed != r->n)
    g_error("%u of %u changed reports were reconciled", changed, r->n);
  g_clear_pointer(&store, pp_store_free);
  remove_store(path);
  return rates;
}

/* ---- over the real pcipassd ---------------------------------------------- */

static char *socket_path;

/* One request on @curl (kept alive between calls; NULL: a new one). */
static CURLcode
http(CURL *curl, const char *method, const char *path, const char *token, const char *body,
     gsize len, GString *out, long *status)
{
  const PpBenchHttp how = { .socket_path = socket_path, .token = token, .timeout_s = 60 };

  return pp_bench_http(curl, &how, method, path, body, len, out, status);
}

static GSubprocess *
daemon_start(const char *dir, const char *log)
{
  const PpBenchHttp how = { .socket_path = socket_path, .timeout_s = 60 };
  g_autofree char *state = g_build_filename(dir, "state", NULL);
  g_autofree char *why = NULL;
  /* No monitor pass during the bench: push hosts are never probed, but
   * each pass would check their libvirt. */
  const char *argv[] = { PP_BENCH_DAEMON, "--state-dir",        state,  "--socket",
                         socket_path,     "--monitor-interval", "3600", NULL };
  GSubprocess *proc = pp_bench_daemon_start(argv, log, &how, "/v1/whoami", 30, &why);

  if (proc == NULL)
    g_error("%s", why);
  return proc;
}

/* The hosts, made over the socket as the admin, each with its token. */
static char **
daemon_hosts(guint n)
{
  char **tokens = g_new0(char *, n + 1);
  g_autoptr(GString) out = g_string_new(NULL);

  for (guint h = 0; h < n; h++) {
    g_autofree char *name = g_strdup_printf("sim-%05u", h);
    g_autofree char *body =
        g_strdup_printf("{\"name\": \"%s\", \"libvirt_uri\": \"test:///default\"}", name);
    g_autofree char *path = g_strdup_printf("/v1/hosts/%s/token", name);
    g_autoptr(json_t) answer = NULL;
    long status;

    g_string_truncate(out, 0);
    if (http(NULL, "POST", "/v1/hosts", NULL, body, strlen(body), out, &status) != CURLE_OK ||
        status != 201)
      g_error("POST /v1/hosts: %ld %s", status, out->str);
    g_string_truncate(out, 0);
    if (http(NULL, "POST", path, NULL, NULL, 0, out, &status) != CURLE_OK || status != 201)
      g_error("POST %s: %ld %s", path, status, out->str);
    answer = json_loads(out->str, 0, NULL);
    tokens[h] = g_strdup(json_string_value(json_object_get(answer, "token")));
    if (tokens[h] == NULL)
      g_error("POST %s: no token in %s", path, out->str);
  }
  return tokens;
}

/* One phase over the socket: the clients share the hosts. */
typedef struct {
  const Reports *r;
  char **tokens;
  guint pass;   /* 0: GET /v1/whoami as the admin, the floor of a request */
  gint next;    /* atomic */
  gint changed; /* atomic */
  double *ms;   /* each report's latency */
  char *error;  /* the first failure */
  GMutex lock;
} Phase;

static gpointer
phase_worker(gpointer data)
{
  Phase *ph = data;
  g_autoptr(CURL) curl = curl_easy_init();
  g_autoptr(GString) out = g_string_new(NULL);

  for (;;) {
    guint h = (guint)g_atomic_int_add(&ph->next, 1);
    g_autofree char *path = NULL;
    const char *text;
    double t0;
    long status;
    CURLcode code;

    if (h >= ph->r->n)
      return NULL;
    g_string_truncate(out, 0);
    t0 = pp_bench_now_s();
    if (ph->pass == 0) {
      path = g_strdup("/v1/whoami");
      code = http(curl, "GET", path, NULL, NULL, 0, out, &status);
    } else {
      path = g_strdup_printf("/v1/hosts/sim-%05u/report", h);
      text = ph->r->texts[ph->pass - 1][h];
      code = http(curl, "POST", path, ph->tokens[h], text, strlen(text), out, &status);
    }
    ph->ms[h] = (pp_bench_now_s() - t0) * 1000;
    if (code != CURLE_OK || status != 200) {
      g_mutex_lock(&ph->lock);
      if (ph->error == NULL)
        ph->error = g_strdup_printf("POST %s: %s %ld %.200s", path, curl_easy_strerror(code),
                                    status, out->str);
      g_mutex_unlock(&ph->lock);
      return NULL;
    }
    if (strstr(out->str, "\"changed\": true") != NULL)
      g_atomic_int_inc(&ph->changed);
  }
}

static double
phase_daemon(const Reports *r, char **tokens, guint pass, guint clients, const char *label,
             guint *ret_changed)
{
  Phase ph = { .r = r, .tokens = tokens, .pass = pass };
  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  g_autofree double *sorted = NULL;
  double t0, elapsed, rate;

  ph.ms = g_new0(double, r->n);
  g_mutex_init(&ph.lock);
  t0 = pp_bench_now_s();
  for (guint i = 0; i < clients; i++)
    g_ptr_array_add(threads, g_thread_new("client", phase_worker, &ph));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join(g_ptr_array_index(threads, i));
  elapsed = pp_bench_now_s() - t0;
  if (ph.error != NULL)
    g_error("%s", ph.error);
  sorted = g_memdup2(ph.ms, sizeof(double) * r->n);
  qsort(sorted, r->n, sizeof(double), pp_bench_compare_double);
  rate = r->n / elapsed;
  printf("  %-9s %-10s %9.0f %s/s  p50 %.2f ms  p99 %.2f ms  (%d of %u reconciled)\n", "pcipassd",
         label, rate, pass == 0 ? "requests" : "reports", sorted[r->n / 2],
         sorted[(guint)(0.99 * (r->n - 1))], ph.changed, r->n);
  fflush(stdout);
  *ret_changed = (guint)ph.changed;
  g_free(ph.ms);
  g_free(ph.error);
  g_mutex_clear(&ph.lock);
  return rate;
}

static Rates
run_daemon(const char *dir, const Reports *r, guint clients)
{
  g_autofree char *log = g_build_filename(dir, "pcipassd.log", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_auto(GStrv) tokens = NULL;
  Rates rates;
  guint changed;
  double t0;

  socket_path = g_build_filename(dir, "pcipassd.sock", NULL);
  proc = daemon_start(dir, log);
  t0 = pp_bench_now_s();
  tokens = daemon_hosts(r->n);
  printf("  pcipassd: %u hosts and their report tokens made in %.1f s (log '%s')\n", r->n,
         pp_bench_now_s() - t0, log);
  rates.floor = phase_daemon(r, tokens, 0, clients, "whoami", &changed);
  rates.first = phase_daemon(r, tokens, 1, clients, "first", &changed);
  rates.unchanged = phase_daemon(r, tokens, 1, clients, "unchanged", &changed);
  if (changed != 0)
    g_error("%u unchanged reports were reconciled", changed);
  rates.changed = phase_daemon(r, tokens, 2, clients, "changed", &changed);
  if (changed != r->n)
    g_error("%u of %u changed reports were reconciled", changed, r->n);
  pp_bench_daemon_stop(proc);
  g_clear_pointer(&socket_path, g_free);
  return rates;
}

static void
print_target(const char *what, double rate, double target, double baseline)
{
  printf("  %-30s %9.0f reports/s, %.1fx the baseline's %.0f: target >= %.0f: %s\n", what, rate,
         rate / baseline, baseline, target, rate >= target ? "met" : "NOT MET");
}

static void
usage(const char *why)
{
  fprintf(stderr,
          "bench-ingest: %s\nusage: bench-ingest [--devices D] [--clients C] [--daemon-hosts M] "
          "[--no-daemon] [N]\n",
          why);
  exit(2);
}

int
main(int argc, char **argv)
{
  g_autofree char *dir = NULL;
  const char *base = g_access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir();
  guint n = 10000, clients = 8, daemon_hosts = 2000;
  gboolean daemon = TRUE;
  Reports reports;
  Rates ours = { 0 }, baseline = { 0 }, over = { 0 };

  for (int i = 1; i < argc; i++) {
    guint64 v = 0;

    if (strcmp(argv[i], "--no-daemon") == 0) {
      daemon = FALSE;
    } else if (strcmp(argv[i], "--daemon-hosts") == 0) {
      if (i + 1 >= argc || !g_ascii_string_to_unsigned(argv[i + 1], 10, 1, 1000000, &v, NULL))
        usage("--daemon-hosts takes a number from 1 to 1000000");
      daemon_hosts = (guint)v;
      i++;
    } else if (strcmp(argv[i], "--devices") == 0 || strcmp(argv[i], "--clients") == 0) {
      if (i + 1 >= argc || !g_ascii_string_to_unsigned(argv[i + 1], 10, 0, 256, &v, NULL))
        usage("--devices and --clients take a number from 0 to 256");
      if (strcmp(argv[i], "--devices") == 0)
        devices_per_host = (guint)v;
      else if (v == 0)
        usage("--clients takes a number from 1 to 256");
      else
        clients = (guint)v;
      i++;
    } else if (g_ascii_string_to_unsigned(argv[i], 10, 1, 1000000, &v, NULL)) {
      n = (guint)v;
    } else {
      usage("unknown argument");
    }
  }

  {
    g_autofree char *template = g_build_filename(base, "pcipass-bench-ingest-XXXXXX", NULL);

    dir = g_mkdtemp(template) ? g_steal_pointer(&template) : NULL;
    if (dir == NULL)
      g_error("cannot make a folder in '%s': %s", base, g_strerror(errno));
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  reports_make(&reports, n);
  printf("bench-ingest: SQLite %s, store in '%s'\n", sqlite3_libversion(), dir);
  {
    g_autofree char *shape =
        devices_per_host ? g_strdup_printf("%u", devices_per_host) : g_strdup("8..64");

    printf("N = %u hosts of %s devices; a report is %.1f KiB on average\n", n, shape,
           reports.bytes / 1024.0 / n);
  }
  fflush(stdout);

  /* Each way twice, taking turns, the best of each phase: on a shared
   * machine one run alone is at the mercy of its neighbours. */
  for (guint round = 0; round < 2; round++) {
    Rates b = run_in_process(dir, &reports, TRUE);
    Rates o = run_in_process(dir, &reports, FALSE);

    baseline.first = MAX(round ? baseline.first : 0, b.first);
    baseline.unchanged = MAX(round ? baseline.unchanged : 0, b.unchanged);
    baseline.changed = MAX(round ? baseline.changed : 0, b.changed);
    ours.first = MAX(round ? ours.first : 0, o.first);
    ours.unchanged = MAX(round ? ours.unchanged : 0, o.unchanged);
    ours.changed = MAX(round ? ours.changed : 0, o.changed);
  }
  if (daemon) {
    Reports first = reports; /* the first M hosts' texts */

    first.n = MIN(n, daemon_hosts);
    over = run_daemon(dir, &first, clients);
  }

  printf("against the baseline (a parse and a full reconcile per report) and issue 11:\n");
  print_target("store, unchanged:", ours.unchanged, TARGET_UNCHANGED, baseline.unchanged);
  print_target("store, changed:", ours.changed, TARGET_CHANGED, baseline.changed);
  if (daemon) {
    print_target("pcipassd socket, unchanged:", over.unchanged, TARGET_UNCHANGED,
                 baseline.unchanged);
    print_target("pcipassd socket, changed:", over.changed, TARGET_CHANGED, baseline.changed);
    printf("  (over the socket, GET /v1/whoami, a request that does nothing, ran at %.0f/s with "
           "the same clients: unchanged reports at %.0f%% of that)\n",
           over.floor, 100.0 * over.unchanged / over.floor);
  }
  reports_clear(&reports);
  {
    g_autofree char *state = g_build_filename(dir, "state", NULL);
    g_autofree char *log = g_build_filename(dir, "pcipassd.log", NULL);
    static const char *const files[] = { "pcipass.db", "pcipass.db-wal", "pcipass.db-shm",
                                         "pcipassd.lock" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
      g_autofree char *file = g_build_filename(state, files[i], NULL);

      g_unlink(file);
    }
    g_rmdir(state);
    g_unlink(log);
    g_rmdir(dir);
  }
  return 0;
}
