/* bench-placement: how fast pp-placement places VMs, against a greedy
 * first-fit on the same input.
 *
 * For N VMs on M hosts of K devices each (deterministic pseudo-random),
 * hosts of 64..128 CPUs and 256..768 GiB carry devices from a small
 * catalogue (GPUs of class 0300 and 0302, NICs of class 0200, NVMe of class
 * 0108; half on NUMA node 0, half on node 1). VMs ask 0.5..8 CPUs,
 * 1..32 GiB and 0..3 devices, each by vendor and device, by class only or
 * by vendor only. Each VM is placed, then committed when it fits, the way
 * the scheduler does it in one pass; no explanation is built.
 *
 * The baseline, in the same process and on the same input, is the greedy
 * first-fit the reference does: the first host, in order, whose CPU and
 * memory fit and where the requests, in order, each take the first free
 * matching device. Prints the time per VM and in total, the VMs placed by
 * each, and the ratio of our time to the baseline's.
 *
 * Placed counts: on one host, ours fits whenever greedy does; across the
 * cluster the host policy also decides what is left for later VMs, so the
 * counts can differ either way by a fraction of a percent (pack's best fit
 * on CPU against first fit). A difference is printed, not failed on.
 *
 * Then, on the cluster as pack left it, what the daemon's incremental
 * scheduler does: the explanation of VMs that fit nowhere, grouped by
 * reason against host by host (time and size), and one host read again
 * after a change against the whole placer built again.
 *
 * Usage: bench-placement [VMS HOSTS DEVICES]...
 *   (default: 1000 100 8  10000 1000 8  100000 10000 8)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "pp-placement.h"

#define GIB_KIB (G_GINT64_CONSTANT(1024) * 1024)

static const struct {
  guint16 vendor, device, class_code;
} catalogue[] = {
  { 0x10de, 0x20b0, 0x0302 }, /* A100 */
  { 0x10de, 0x2236, 0x0302 }, /* A10 */
  { 0x10de, 0x1eb8, 0x0302 }, /* T4 */
  { 0x1002, 0x73bf, 0x0300 }, /* Radeon RX 6900 */
  { 0x8086, 0x1521, 0x0200 }, /* I350 */
  { 0x8086, 0x1593, 0x0200 }, /* E810 */
  { 0x15b3, 0x101b, 0x0200 }, /* ConnectX-6 */
  { 0x144d, 0xa808, 0x0108 }, /* PM983 */
  { 0x8086, 0x0a54, 0x0108 }, /* P4510 */
};

/* splitmix64: the same sequence everywhere. */
static guint64
next_random(guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT(0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static guint
random_below(guint64 *state, guint n)
{
  return (guint)(next_random(state) % n);
}

typedef struct {
  PpPlaceHost *hosts;
  PpPlaceDevice *devices;
  PpPciAddress *addresses; /* one per device of a host */
  char *names;             /* 16 bytes each */
  PpPlaceVm *vms;
  PpPciRequest *requests;
  guint n_vms, n_hosts, n_devices;
} Input;

static void
input_build(Input *in, guint n_vms, guint n_hosts, guint n_devices)
{
  guint64 rnd = 42;
  guint n_requests = 0;

  in->n_vms = n_vms;
  in->n_hosts = n_hosts;
  in->n_devices = n_devices;
  in->hosts = g_new0(PpPlaceHost, n_hosts);
  in->devices = g_new0(PpPlaceDevice, (gsize)n_hosts * n_devices + 1);
  in->addresses = g_new0(PpPciAddress, (gsize)n_devices + 1);
  in->names = g_new0(char, (gsize)n_hosts * 16);
  in->vms = g_new0(PpPlaceVm, n_vms);
  in->requests = g_new0(PpPciRequest, (gsize)n_vms * 3 + 1);

  for (guint k = 0; k < n_devices; k++)
    in->addresses[k] = (PpPciAddress){ 0, (guint8)((k / 32) + 1), (guint8)(k % 32), 0 };
  for (guint h = 0; h < n_hosts; h++) {
    PpPlaceHost *host = &in->hosts[h];
    PpPlaceDevice *devs = &in->devices[(gsize)h * n_devices];

    g_snprintf(in->names + (gsize)h * 16, 16, "host%u", h + 1);
    host->id = h + 1;
    host->name = in->names + (gsize)h * 16;
    host->state = PP_PLACE_HOST_OK;
    host->cpu_total = 100 * (64 + 32 * random_below(&rnd, 3));
    host->memory_total_kib = GIB_KIB * (256 + 256 * random_below(&rnd, 3));
    host->devices = devs;
    host->n_devices = n_devices;
    for (guint k = 0; k < n_devices; k++) {
      guint c = random_below(&rnd, G_N_ELEMENTS(catalogue));

      devs[k].id = (gint64)h * n_devices + k + 1;
      devs[k].address = in->addresses[k];
      devs[k].name = "device";
      devs[k].vendor = catalogue[c].vendor;
      devs[k].device = catalogue[c].device;
      devs[k].class_code = catalogue[c].class_code;
      devs[k].numa_node = k < n_devices / 2 ? 0 : 1;
      devs[k].iommu_group = -1;
    }
  }
  for (guint v = 0; v < n_vms; v++) {
    PpPlaceVm *vm = &in->vms[v];
    guint roll = random_below(&rnd, 10);
    guint n = roll < 4 ? 0 : roll < 7 ? 1 : roll < 9 ? 2 : 3;

    vm->id = v + 1;
    vm->cpu = 50 * (1 + random_below(&rnd, 16));
    vm->memory_kib = GIB_KIB * (1 + random_below(&rnd, 32));
    vm->requests = &in->requests[n_requests];
    vm->n_requests = n;
    for (guint r = 0; r < n; r++) {
      PpPciRequest *req = &in->requests[n_requests++];
      guint c = random_below(&rnd, G_N_ELEMENTS(catalogue));

      req->vendor = req->device = req->class_code = -1;
      req->text = "bench";
      switch (random_below(&rnd, 4)) {
      case 0:
      case 1:
        req->vendor = catalogue[c].vendor;
        req->device = catalogue[c].device;
        break;
      case 2:
        req->class_code = catalogue[c].class_code;
        break;
      default:
        req->vendor = catalogue[c].vendor;
      }
    }
  }
}

static void
input_clear(Input *in)
{
  g_free(in->hosts);
  g_free(in->devices);
  g_free(in->addresses);
  g_free(in->names);
  g_free(in->vms);
  g_free(in->requests);
}

static guint
run_ours(const Input *in, PpPlacePolicy policy, double *ret_seconds)
{
  g_autoptr(PpPlacer) placer = pp_placer_new(policy);
  gint64 start;
  guint placed = 0;

  for (guint h = 0; h < in->n_hosts; h++)
    pp_placer_add_host(placer, &in->hosts[h]);
  start = g_get_monotonic_time();
  for (guint v = 0; v < in->n_vms; v++) {
    g_autoptr(PpPlacement) p = NULL;

    if (!pp_placer_place(placer, &in->vms[v], &p, NULL))
      continue;
    pp_placer_commit(placer, &in->vms[v], p);
    placed++;
  }
  *ret_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  return placed;
}

static gboolean
greedy_matches(const PpPciRequest *r, const PpPlaceDevice *d)
{
  return (r->vendor < 0 || r->vendor == d->vendor) && (r->device < 0 || r->device == d->device) &&
         (r->class_code < 0 || r->class_code == d->class_code);
}

/* The reference's first-fit, on its own copy of the state. */
static guint
run_greedy(const Input *in, double *ret_seconds)
{
  gsize n_all = (gsize)in->n_hosts * in->n_devices;
  g_autofree gint64 *cpu_used = g_new0(gint64, in->n_hosts);
  g_autofree gint64 *memory_used = g_new0(gint64, in->n_hosts);
  g_autofree gint64 *held = g_new0(gint64, n_all + 1);
  guint taken[3];
  gint64 start = g_get_monotonic_time();
  guint placed = 0;

  for (guint v = 0; v < in->n_vms; v++) {
    const PpPlaceVm *vm = &in->vms[v];

    for (guint h = 0; h < in->n_hosts; h++) {
      const PpPlaceHost *host = &in->hosts[h];
      gint64 *host_held = &held[(gsize)h * in->n_devices];
      guint r;

      if (host->cpu_total - cpu_used[h] < vm->cpu ||
          host->memory_total_kib - memory_used[h] < vm->memory_kib)
        continue;
      for (r = 0; r < vm->n_requests; r++) {
        guint k;

        for (k = 0; k < host->n_devices; k++) {
          gboolean mine = FALSE;

          for (guint t = 0; t < r; t++)
            mine = mine || taken[t] == k;
          if (host_held[k] == 0 && !mine && greedy_matches(&vm->requests[r], &host->devices[k]))
            break;
        }
        if (k == host->n_devices)
          break;
        taken[r] = k;
      }
      if (r < vm->n_requests)
        continue;
      for (r = 0; r < vm->n_requests; r++)
        host_held[taken[r]] = vm->id;
      cpu_used[h] += vm->cpu;
      memory_used[h] += vm->memory_kib;
      placed++;
      break;
    }
  }
  *ret_seconds = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  return placed;
}

static gsize
rejections_bytes(const GPtrArray *rejections)
{
  gsize n = 0;

  for (guint i = 0; i < rejections->len; i++) {
    const PpPlaceRejection *r = g_ptr_array_index((GPtrArray *)rejections, i);

    n += strlen(r->host_name) + strlen(r->reason) + 2;
  }
  return n;
}

static gsize
groups_bytes(const GPtrArray *groups)
{
  gsize n = 0;

  for (guint i = 0; i < groups->len; i++) {
    const PpPlaceReasonGroup *g = g_ptr_array_index((GPtrArray *)groups, i);

    n += strlen(g->summary) + 16 + rejections_bytes(g->examples);
  }
  return n;
}

/* What the daemon's scheduler does between passes, on the cluster full:
 * the explanation of a VM that fits nowhere, compact (grouped by reason)
 * against host by host; and one host read again after a change against the
 * whole placer built again (what each pass did before). */
static void
bench_incremental(const Input *in)
{
  g_autoptr(PpPlacer) placer = pp_placer_new(PP_PLACE_POLICY_PACK);
  g_autoptr(GArray) unplaced = g_array_new(FALSE, FALSE, sizeof(guint));
  g_autofree PpPlaceDevice *copy = g_new0(PpPlaceDevice, in->n_devices + 1);
  double t_groups = 0, t_hosts = 0, t_set = 0, t_build;
  gsize b_groups = 0, b_hosts = 0;
  guint n_explained = 0, n_set = 0, gained = 0;
  guint64 rnd = 7;
  gint64 start;

  for (guint h = 0; h < in->n_hosts; h++)
    pp_placer_add_host(placer, &in->hosts[h]);
  for (guint v = 0; v < in->n_vms; v++) {
    g_autoptr(PpPlacement) p = NULL;

    if (pp_placer_place(placer, &in->vms[v], &p, NULL))
      pp_placer_commit(placer, &in->vms[v], p);
    else if (unplaced->len < 20)
      g_array_append_val(unplaced, v);
  }
  for (guint i = 0; i < unplaced->len; i++) {
    const PpPlaceVm *vm = &in->vms[g_array_index(unplaced, guint, i)];
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GPtrArray) rejections = NULL;

    start = g_get_monotonic_time();
    groups = pp_placer_explain(placer, vm, 3, NULL);
    t_groups += (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    start = g_get_monotonic_time();
    pp_placer_place(placer, vm, NULL, &rejections);
    t_hosts += (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    b_groups += groups_bytes(groups);
    b_hosts += rejections_bytes(rejections);
    n_explained++;
  }
  /* A host reports again with a device freed: read into the placer. */
  for (guint k = 0; k < 1000 && k < in->n_hosts; k++) {
    const PpPlaceHost *src = &in->hosts[random_below(&rnd, in->n_hosts)];
    PpPlaceHost h = *src;

    memcpy(copy, src->devices, src->n_devices * sizeof(PpPlaceDevice));
    copy[random_below(&rnd, src->n_devices)].vm_id = 0;
    h.devices = copy;
    start = g_get_monotonic_time();
    gained += pp_placer_set_host(placer, &h) ? 1 : 0;
    t_set += (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
    n_set++;
  }
  {
    g_autoptr(PpPlacer) whole = pp_placer_new(PP_PLACE_POLICY_PACK);

    start = g_get_monotonic_time();
    for (guint h = 0; h < in->n_hosts; h++)
      pp_placer_add_host(whole, &in->hosts[h]);
    t_build = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
  }
  if (n_explained > 0)
    printf("  explanation of a VM that fits nowhere (%u VMs): grouped %.2f ms, %zu bytes; host by "
           "host %.2f ms, %zu bytes; size ratio %.4f\n",
           n_explained, t_groups * 1e3 / n_explained, b_groups / n_explained,
           t_hosts * 1e3 / n_explained, b_hosts / n_explained,
           b_hosts > 0 ? (double)b_groups / (double)b_hosts : 0.0);
  printf("  one host read again: %.2f us (%u of %u gained); the whole placer built again: %.2f ms; "
         "ratio %.5f\n",
         t_set * 1e6 / MAX(n_set, 1), gained, n_set, t_build * 1e3,
         t_build > 0 ? (t_set / MAX(n_set, 1)) / t_build : 0.0);
}

static void
bench(guint n_vms, guint n_hosts, guint n_devices)
{
  Input in = { 0 };
  double t_pack, t_stripe, t_greedy;
  guint pack, stripe, greedy;

  input_build(&in, n_vms, n_hosts, n_devices);
  pack = run_ours(&in, PP_PLACE_POLICY_PACK, &t_pack);
  stripe = run_ours(&in, PP_PLACE_POLICY_STRIPE, &t_stripe);
  greedy = run_greedy(&in, &t_greedy);

  printf("%u VMs on %u hosts of %u devices:\n", n_vms, n_hosts, n_devices);
  printf("  ours (pack):    placed %6u in %8.3f s, %8.2f us per VM\n", pack, t_pack,
         t_pack * 1e6 / n_vms);
  printf("  ours (stripe):  placed %6u in %8.3f s, %8.2f us per VM\n", stripe, t_stripe,
         t_stripe * 1e6 / n_vms);
  printf("  greedy:         placed %6u in %8.3f s, %8.2f us per VM\n", greedy, t_greedy,
         t_greedy * 1e6 / n_vms);
  printf("  time ours (pack) / greedy: %.2f; placed ours - greedy: %+d\n",
         t_greedy > 0 ? t_pack / t_greedy : 0.0, (int)pack - (int)greedy);
  if (pack < greedy)
    printf("  note: pack placed %u fewer than greedy (%.2f%%)\n", greedy - pack,
           100.0 * (greedy - pack) / greedy);
  bench_incremental(&in);
  input_clear(&in);
  fflush(stdout);
}

int
main(int argc, char **argv)
{
  static const guint defaults[] = { 1000, 100, 8, 10000, 1000, 8, 100000, 10000, 8 };
  if (argc > 1) {
    if ((argc - 1) % 3 != 0) {
      fprintf(stderr, "usage: %s [VMS HOSTS DEVICES]...\n", argv[0]);
      return 2;
    }
    for (int i = 1; i < argc; i += 3) {
      guint64 v[3];

      for (int j = 0; j < 3; j++) {
        if (!g_ascii_string_to_unsigned(argv[i + j], 10, 1,
                                        j == 0   ? 10000000
                                        : j == 1 ? 1000000
                                                 : 1024,
                                        &v[j], NULL)) {
          fprintf(stderr, "%s: not a count in range: '%s'\n", argv[0], argv[i + j]);
          return 2;
        }
      }
      bench((guint)v[0], (guint)v[1], (guint)v[2]);
    }
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS(defaults); i += 3)
    bench(defaults[i], defaults[i + 1], defaults[i + 2]);
  return 0;
}
