#define G_LOG_DOMAIN "pp-placement"

#include "config.h"

#include <string.h>

#include "pp-placement.h"

/* How it works.
 *
 * Each host keeps its devices with, per device, the indexes of the other
 * endpoints of its IOMMU group (-1: not in the inventory) and whether it is
 * "eligible": free and ready, and every companion in the inventory, not
 * gone, free and ready.
 * That flag changes only on commit, so it is kept, not recomputed.
 *
 * The ids (vendor, device, class) seen on any host are "device types". For
 * each type the placer keeps a bitmap of the hosts that have at least one
 * eligible device of that type. A VM's request by ids matches a set of
 * types; OR-ing their bitmaps, then AND-ing over the requests, gives the
 * hosts that may fit, in a few hundred word operations for 10,000 hosts.
 * Requests by address do not narrow the set (each host checks them).
 *
 * The hosts that can ever fit (enabled, monitored, CPU and memory known)
 * are also kept sorted by the policy's rank: pack, free CPU ascending, then
 * free memory ascending, then fewer free devices, then the order they were
 * added in; stripe, free CPU descending, then free memory descending, then
 * the order added. Placing walks that order from the first host with
 * enough CPU free and stops at the first that fits whole (memory, then the
 * matching). When the candidate bitmap is sparse compared to that walk, it
 * visits the bitmap's hosts instead and keeps the best-ranked that fits,
 * running the matching only for a host that would rank better.
 *
 * On one host, the matching is Kuhn's augmenting paths over the eligible
 * candidates of each request, tried in the inventory's order: first with
 * the devices of one NUMA node only (nodes ascending; companions may be
 * anywhere, they come with the group), then with any device. When it fails,
 * the requests and devices the last search reached are a Hall witness:
 * k requests whose candidates are k - 1 devices, which the explanation
 * names.
 *
 * Explanations are built only when asked for and no host fits; then every
 * host is checked the slow way, in the order added, the first failing
 * condition giving its reason: the host the template asks for, the state,
 * CPU, memory, then each request in order (no matching device; none free;
 * all free ones blocked by their IOMMU group), then the requests together.
 */

/* How many devices a list in an explanation names before "and N more". */
#define LIST_MAX 5
/* How a reason names the VM holding a device, and what a reader who may
 * not see that VM reads instead (pp_place_reason_hide_holders()). */
#define HELD_BY "held by VM "
#define HELD_BY_HIDDEN "held by another VM"

typedef struct {
  gint64 id;
  PpPciAddress addr;
  char address[PP_PCI_ADDRESS_BUFSIZE]; /* addr as explanations show it */
  char *name;
  guint16 vendor;
  guint16 device;
  guint16 class_code;
  gint numa_node;
  gint iommu_group;
  char **endpoints; /* the group's endpoints as explanations show them */
  /* The other endpoints of its group: their index in the host's devices,
   * -1 when not in the inventory, and the endpoint's text. */
  gint *companions;
  const char **companion_text;
  guint n_companions;
  gint64 vm_id;
  gboolean gone;
  char *not_ready; /* why it cannot be given while free; NULL: it can */
  gboolean eligible;
  guint type;  /* the placer's device type */
  guint tslot; /* its slot in the host's list of types */
  gint pf;     /* a VF: its PF's slot in the host's pf_taken; -1: no VF */
} Device;

typedef struct {
  gint64 id;
  char *name;
  PpPlaceHostState state;
  char *state_text;
  gint64 cpu_total;
  gint64 cpu_used;
  gint64 memory_total_kib;
  gint64 memory_used_kib;
  Device *devices;
  guint n_devices;
  guint index;       /* in the order added */
  gboolean rankable; /* can ever fit: enabled, monitored, CPU and memory known */
  guint n_free;      /* devices not gone and not held */
  gint *nodes;       /* the NUMA nodes of its devices, ascending */
  guint n_nodes;
  guint *types; /* the device types it has, and how many eligible of each */
  guint *type_counts;
  guint *type_totals; /* and how many not gone */
  guint n_types;
  gboolean counted;          /* its counts are in the placer's type sums */
  gboolean counted_rankable; /* its eligible ones too (it was rankable then) */
  guint *pf_taken;           /* per PF of its VFs: how many VMs hold (pf_policy) */
  guint n_pfs;
  gboolean removed; /* pp_placer_remove_host(): kept for its index, never offered or explained */
} Host;

struct _PpPlacer {
  PpPlacePolicy policy;
  GPtrArray *hosts;     /* Host, in the order added */
  GHashTable *by_id;    /* gint64 * -> Host */
  GHashTable *by_name;  /* name -> Host */
  GHashTable *type_of;  /* packed ids -> type + 1 */
  GArray *type_ids;     /* guint64 packed ids, per type */
  GPtrArray *type_bits; /* guint64 bitmap of hosts, per type */
  GArray *type_sums;    /* PpPlaceType, per type: the counts over the hosts */
  guint64 *rankable_bits;
  guint words;   /* allocated words of every bitmap */
  GArray *order; /* guint host index: the rankable hosts, best first */

  /* Scratch for one place call, reused. */
  GArray *cand;      /* guint device index */
  GArray *cand_off;  /* guint, n_requests + 1 */
  GArray *match_dev; /* gint request, per device */
  GArray *match_req; /* gint device, per request */
  GArray *seen;      /* guint stamp, per device */
  guint stamp;
  GArray *best_req; /* gint device, per request, of the best so far */
  guint64 *filter;  /* the candidate bitmap */
  guint64 *req_bits;
  guint filter_words;
};

/* The outcome of matching on one host. */
typedef struct {
  gint *dev_for_req; /* n_requests */
  gint numa_node;
} Fit;

static guint64
pack_ids(guint16 vendor, guint16 device, guint16 class_code)
{
  return ((guint64)vendor << 32) | ((guint64)device << 16) | class_code;
}

static gboolean
bit_get(const guint64 *bits, guint i)
{
  return (bits[i / 64] >> (i % 64)) & 1;
}

static void
bit_set(guint64 *bits, guint i, gboolean value)
{
  if (value)
    bits[i / 64] |= G_GUINT64_CONSTANT(1) << (i % 64);
  else
    bits[i / 64] &= ~(G_GUINT64_CONSTANT(1) << (i % 64));
}

static gint64
host_free_cpu(const Host *h)
{
  return h->cpu_total - h->cpu_used;
}

static gint64
host_free_memory(const Host *h)
{
  return h->memory_total_kib - h->memory_used_kib;
}

/* <0 when @a ranks before @b under @policy. */
static int
host_rank_cmp(PpPlacePolicy policy, const Host *a, const Host *b)
{
  gint64 ca = host_free_cpu(a), cb = host_free_cpu(b);
  gint64 ma = host_free_memory(a), mb = host_free_memory(b);

  if (policy == PP_PLACE_POLICY_PACK) {
    if (ca != cb)
      return ca < cb ? -1 : 1;
    if (ma != mb)
      return ma < mb ? -1 : 1;
    if (a->n_free != b->n_free)
      return a->n_free < b->n_free ? -1 : 1;
  } else {
    if (ca != cb)
      return ca > cb ? -1 : 1;
    if (ma != mb)
      return ma > mb ? -1 : 1;
  }
  if (a->index != b->index)
    return a->index < b->index ? -1 : 1;
  return 0;
}

static Host *
host_at(const PpPlacer *placer, guint index)
{
  return g_ptr_array_index(placer->hosts, index);
}

/* Frees what @h's devices hold (not the array); it has none after. */
static void
host_free_devices(Host *h)
{
  for (guint i = 0; i < h->n_devices; i++) {
    Device *d = &h->devices[i];

    g_free(d->name);
    g_free(d->not_ready);
    g_strfreev(d->endpoints);
    g_free(d->companions);
    g_free(d->companion_text);
  }
  h->n_devices = 0;
}

static void
host_free(gpointer data)
{
  Host *h = data;

  if (h == NULL)
    return;
  host_free_devices(h);
  g_free(h->devices);
  g_free(h->name);
  g_free(h->state_text);
  g_free(h->nodes);
  g_free(h->types);
  g_free(h->type_counts);
  g_free(h->type_totals);
  g_free(h->pf_taken);
  g_free(h);
}

void
pp_placement_free(PpPlacement *placement)
{
  if (placement == NULL)
    return;
  if (placement->device_ids != NULL)
    g_array_unref(placement->device_ids);
  if (placement->companion_ids != NULL)
    g_array_unref(placement->companion_ids);
  g_free(placement);
}

void
pp_place_rejection_free(PpPlaceRejection *rejection)
{
  if (rejection == NULL)
    return;
  g_free(rejection->host_name);
  g_free(rejection->reason);
  g_free(rejection);
}

PpPlacer *
pp_placer_new(PpPlacePolicy policy)
{
  PpPlacer *placer = g_new0(PpPlacer, 1);

  placer->policy = policy;
  placer->hosts = g_ptr_array_new_with_free_func(host_free);
  placer->by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
  placer->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  placer->type_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  placer->type_ids = g_array_new(FALSE, FALSE, sizeof(guint64));
  placer->type_bits = g_ptr_array_new_with_free_func(g_free);
  placer->type_sums = g_array_new(FALSE, TRUE, sizeof(PpPlaceType));
  placer->order = g_array_new(FALSE, FALSE, sizeof(guint));
  placer->cand = g_array_new(FALSE, FALSE, sizeof(guint));
  placer->cand_off = g_array_new(FALSE, FALSE, sizeof(guint));
  placer->match_dev = g_array_new(FALSE, FALSE, sizeof(gint));
  placer->match_req = g_array_new(FALSE, FALSE, sizeof(gint));
  placer->seen = g_array_new(FALSE, TRUE, sizeof(guint));
  placer->best_req = g_array_new(FALSE, FALSE, sizeof(gint));
  return placer;
}

void
pp_placer_free(PpPlacer *placer)
{
  if (placer == NULL)
    return;
  g_ptr_array_unref(placer->hosts);
  g_hash_table_unref(placer->by_id);
  g_hash_table_unref(placer->by_name);
  g_hash_table_unref(placer->type_of);
  g_array_unref(placer->type_ids);
  g_ptr_array_unref(placer->type_bits);
  for (guint t = 0; t < placer->type_sums->len; t++) {
    PpPlaceType *sum = &g_array_index(placer->type_sums, PpPlaceType, t);

    g_free((char *)sum->vendor_name);
    g_free((char *)sum->device_name);
    g_free((char *)sum->class_name);
  }
  g_array_unref(placer->type_sums);
  g_free(placer->rankable_bits);
  g_array_unref(placer->order);
  g_array_unref(placer->cand);
  g_array_unref(placer->cand_off);
  g_array_unref(placer->match_dev);
  g_array_unref(placer->match_req);
  g_array_unref(placer->seen);
  g_array_unref(placer->best_req);
  g_free(placer->filter);
  g_free(placer->req_bits);
  g_free(placer);
}

/* Grows every bitmap to hold @n_hosts bits. */
static void
placer_grow_bitmaps(PpPlacer *placer, guint n_hosts)
{
  guint need = (n_hosts + 63) / 64;
  guint words = MAX(placer->words, 4);

  if (need <= placer->words)
    return;
  while (words < need)
    words *= 2;
  for (guint t = 0; t < placer->type_bits->len; t++) {
    guint64 *bits = g_renew(guint64, g_ptr_array_index(placer->type_bits, t), words);

    memset(bits + placer->words, 0, (words - placer->words) * sizeof(guint64));
    placer->type_bits->pdata[t] = bits;
  }
  placer->rankable_bits = g_renew(guint64, placer->rankable_bits, words);
  memset(placer->rankable_bits + placer->words, 0, (words - placer->words) * sizeof(guint64));
  placer->words = words;
}

static guint
placer_type(PpPlacer *placer, guint16 vendor, guint16 device, guint16 class_code)
{
  guint64 key = pack_ids(vendor, device, class_code);
  gpointer found = g_hash_table_lookup(placer->type_of, &key);
  guint type;

  if (found != NULL)
    return GPOINTER_TO_UINT(found) - 1;
  type = placer->type_ids->len;
  g_array_append_val(placer->type_ids, key);
  g_ptr_array_add(placer->type_bits, g_new0(guint64, placer->words));
  {
    PpPlaceType sum = { .vendor = vendor, .device = device, .class_code = class_code };

    g_array_append_val(placer->type_sums, sum);
  }
  g_hash_table_insert(placer->type_of, g_memdup2(&key, sizeof(key)), GUINT_TO_POINTER(type + 1));
  return type;
}

/* Sets what a type's sum is named when no host named it yet. */
static void
type_name_note(PpPlacer *placer, guint type, const PpPlaceDevice *src)
{
  PpPlaceType *sum = &g_array_index(placer->type_sums, PpPlaceType, type);
  const char **names[] = { &sum->vendor_name, &sum->device_name, &sum->class_name };
  const char *given[] = { src->vendor_name, src->name, src->class_name };

  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    if (*names[i] == NULL || (**names[i] == '\0' && given[i] != NULL && *given[i] != '\0')) {
      g_free((char *)*names[i]);
      *names[i] = g_strdup(given[i] != NULL ? given[i] : "");
    }
  }
}

static int
type_cmp(gconstpointer a, gconstpointer b)
{
  const PpPlaceType *x = *(const PpPlaceType *const *)a;
  const PpPlaceType *y = *(const PpPlaceType *const *)b;

  if (x->vendor != y->vendor)
    return x->vendor < y->vendor ? -1 : 1;
  if (x->device != y->device)
    return x->device < y->device ? -1 : 1;
  return (x->class_code > y->class_code) - (x->class_code < y->class_code);
}

GPtrArray *
pp_placer_list_types(PpPlacer *placer)
{
  GPtrArray *out;

  g_return_val_if_fail(placer != NULL, NULL);
  out = g_ptr_array_new();
  for (guint t = 0; t < placer->type_sums->len; t++) {
    PpPlaceType *sum = &g_array_index(placer->type_sums, PpPlaceType, t);

    /* A type every host of which went (or removed) is not listed. */
    if (sum->total > 0 || sum->free > 0)
      g_ptr_array_add(out, sum);
  }
  g_ptr_array_sort(out, type_cmp);
  return out;
}

static gboolean
device_free(const Device *d)
{
  return !d->gone && d->vm_id == 0;
}

static gboolean
device_usable(const Device *d)
{
  return device_free(d) && d->not_ready == NULL;
}

/* Adds @h's counts to the placer's type sums (@sign 1), or takes them out
 * (-1). */
static void
host_count(PpPlacer *placer, Host *h, int sign)
{
  gboolean with_free = sign > 0 ? h->rankable : h->counted_rankable;

  if ((sign > 0) == h->counted)
    return;
  for (guint s = 0; s < h->n_types; s++) {
    PpPlaceType *sum = &g_array_index(placer->type_sums, PpPlaceType, h->types[s]);

    sum->total += (guint)sign * h->type_totals[s];
    if (with_free) {
      sum->free += (guint)sign * h->type_counts[s];
      sum->hosts += (guint)sign * (h->type_counts[s] > 0);
    }
  }
  h->counted = sign > 0;
  h->counted_rankable = sign > 0 && with_free;
}

/* Recomputes what depends on the holds: eligibility, the free count, the
 * counts per type and the type bitmaps, and the placer's type sums. */
static void
host_refresh(PpPlacer *placer, Host *h)
{
  host_count(placer, h, -1);
  h->n_free = 0;
  memset(h->type_counts, 0, h->n_types * sizeof(guint));
  memset(h->pf_taken, 0, h->n_pfs * sizeof(guint));
  for (guint i = 0; i < h->n_devices; i++) {
    Device *d = &h->devices[i];
    gboolean ok = device_usable(d);

    if (device_free(d))
      h->n_free++;
    if (d->vm_id != 0 && d->pf >= 0)
      h->pf_taken[d->pf]++;
    for (guint c = 0; ok && c < d->n_companions; c++)
      ok = d->companions[c] >= 0 && device_usable(&h->devices[d->companions[c]]);
    d->eligible = ok;
    if (ok)
      h->type_counts[d->tslot]++;
  }
  for (guint s = 0; s < h->n_types; s++)
    bit_set(g_ptr_array_index(placer->type_bits, h->types[s]), h->index, h->type_counts[s] > 0);
  host_count(placer, h, 1);
}

/* The position of @h in the order, or where it would go. */
static guint
order_search(const PpPlacer *placer, const Host *h)
{
  guint lo = 0, hi = placer->order->len;

  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const Host *m = host_at(placer, g_array_index(placer->order, guint, mid));

    if (host_rank_cmp(placer->policy, m, h) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void
order_insert(PpPlacer *placer, Host *h)
{
  g_array_insert_val(placer->order, order_search(placer, h), h->index);
}

static void
order_remove(PpPlacer *placer, Host *h)
{
  guint pos = order_search(placer, h);

  g_assert(pos < placer->order->len && g_array_index(placer->order, guint, pos) == h->index);
  g_array_remove_index(placer->order, pos);
}

static int
cmp_gint(gconstpointer a, gconstpointer b)
{
  gint x = *(const gint *)a, y = *(const gint *)b;

  return (x > y) - (x < y);
}

/* A host's copy of @host, at @index of the order added, not yet in the
 * placer's maps, bitmaps or order (host_link()). */
static Host *
host_build(PpPlacer *placer, const PpPlaceHost *host, guint index)
{
  g_autoptr(GHashTable) by_address = NULL;
  g_autoptr(GHashTable) pfs = NULL;
  g_autoptr(GArray) nodes = NULL;
  g_autoptr(GArray) types = NULL;
  Host *h;

  h = g_new0(Host, 1);
  h->id = host->id;
  h->name = g_strdup(host->name != NULL ? host->name : "");
  h->state = host->state;
  h->state_text = g_strdup(host->state_text);
  h->cpu_total = host->cpu_total;
  h->cpu_used = host->cpu_used;
  h->memory_total_kib = host->memory_total_kib;
  h->memory_used_kib = host->memory_used_kib;
  h->n_devices = host->n_devices;
  h->devices = g_new0(Device, MAX(host->n_devices, 1));
  h->index = index;
  h->rankable =
      host->state == PP_PLACE_HOST_OK && host->cpu_total >= 0 && host->memory_total_kib >= 0;

  by_address = g_hash_table_new(pp_pci_address_hash, pp_pci_address_hash_equal);
  pfs = g_hash_table_new(pp_pci_address_hash, pp_pci_address_hash_equal);
  nodes = g_array_new(FALSE, FALSE, sizeof(gint));
  types = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; i < host->n_devices; i++) {
    const PpPlaceDevice *src = &host->devices[i];
    Device *d = &h->devices[i];
    guint s;

    d->id = src->id;
    d->addr = src->address;
    pp_pci_address_format(&d->addr, d->address);
    d->name = g_strdup(src->name);
    d->vendor = src->vendor;
    d->device = src->device;
    d->class_code = src->class_code;
    d->numa_node = src->numa_node;
    d->iommu_group = src->iommu_group;
    if (src->group_endpoints != NULL) {
      d->endpoints = g_new0(char *, src->n_group_endpoints + 1);
      for (guint e = 0; e < src->n_group_endpoints; e++) {
        char buf[PP_PCI_ADDRESS_BUFSIZE];

        d->endpoints[e] = g_strdup(pp_pci_address_format(&src->group_endpoints[e], buf));
      }
    }
    d->vm_id = src->vm_id;
    d->gone = src->gone;
    d->not_ready = g_strdup(src->not_ready);
    d->type = placer_type(placer, src->vendor, src->device, src->class_code);
    type_name_note(placer, d->type, src);
    for (s = 0; s < types->len; s++)
      if (g_array_index(types, guint, s) == d->type)
        break;
    if (s == types->len)
      g_array_append_val(types, d->type);
    d->tslot = s;
    /* PFs numbered in the order their first VF comes. */
    d->pf = -1;
    if (src->has_pf) {
      gpointer slot = g_hash_table_lookup(pfs, &src->pf);

      if (slot == NULL) {
        slot = GUINT_TO_POINTER(g_hash_table_size(pfs) + 1);
        g_hash_table_insert(pfs, (gpointer)&src->pf, slot);
      }
      d->pf = (gint)GPOINTER_TO_UINT(slot) - 1;
    }
    if (src->numa_node >= 0) {
      guint n;

      for (n = 0; n < nodes->len; n++)
        if (g_array_index(nodes, gint, n) == src->numa_node)
          break;
      if (n == nodes->len)
        g_array_append_val(nodes, src->numa_node);
    }
    if (!g_hash_table_contains(by_address, &d->addr))
      g_hash_table_insert(by_address, &d->addr, GUINT_TO_POINTER(i + 1));
  }

  /* The companions, once every address is known. */
  for (guint i = 0; i < h->n_devices; i++) {
    const PpPlaceDevice *src = &host->devices[i];
    Device *d = &h->devices[i];
    guint n = src->group_endpoints != NULL ? src->n_group_endpoints : 0;

    d->companions = g_new(gint, MAX(n, 1));
    d->companion_text = g_new(const char *, MAX(n, 1));
    for (guint e = 0; e < n; e++) {
      const PpPciAddress *key = &src->group_endpoints[e];
      guint found = GPOINTER_TO_UINT(g_hash_table_lookup(by_address, key));

      if (pp_pci_address_equal(key, &d->addr) || found == i + 1)
        continue;
      d->companions[d->n_companions] = (gint)found - 1;
      d->companion_text[d->n_companions] = d->endpoints[e];
      d->n_companions++;
    }
  }

  g_array_sort(nodes, cmp_gint);
  h->n_nodes = nodes->len;
  h->nodes = (gint *)g_array_free(g_steal_pointer(&nodes), FALSE);
  h->n_types = types->len;
  h->type_counts = g_new0(guint, MAX(types->len, 1));
  h->type_totals = g_new0(guint, MAX(types->len, 1));
  for (guint i = 0; i < h->n_devices; i++) {
    if (!h->devices[i].gone)
      h->type_totals[h->devices[i].tslot]++;
  }
  h->n_pfs = g_hash_table_size(pfs);
  h->pf_taken = g_new0(guint, MAX(h->n_pfs, 1));
  h->types = (guint *)g_array_free(g_steal_pointer(&types), FALSE);
  return h;
}

/* Enters @h, built at its index, in the maps, the bitmaps and the order. */
static void
host_link(PpPlacer *placer, Host *h)
{
  if (!g_hash_table_contains(placer->by_id, &h->id))
    g_hash_table_insert(placer->by_id, &h->id, h);
  /* A name is the newest host's that has it (a host may take the name
   * another had). */
  g_hash_table_replace(placer->by_name, h->name, h);
  placer_grow_bitmaps(placer, placer->hosts->len);
  host_refresh(placer, h);
  bit_set(placer->rankable_bits, h->index, h->rankable);
  if (h->rankable)
    order_insert(placer, h);
}

/* Takes @h out of the maps, the bitmaps and the order; its slot stays. */
static void
host_unlink(PpPlacer *placer, Host *h)
{
  if (h->rankable)
    order_remove(placer, h);
  host_count(placer, h, -1);
  for (guint s = 0; s < h->n_types; s++)
    bit_set(g_ptr_array_index(placer->type_bits, h->types[s]), h->index, FALSE);
  bit_set(placer->rankable_bits, h->index, FALSE);
  if (g_hash_table_lookup(placer->by_id, &h->id) == h)
    g_hash_table_remove(placer->by_id, &h->id);
  if (g_hash_table_lookup(placer->by_name, h->name) == h)
    g_hash_table_remove(placer->by_name, h->name);
}

void
pp_placer_add_host(PpPlacer *placer, const PpPlaceHost *host)
{
  Host *h;

  g_return_if_fail(placer != NULL);
  g_return_if_fail(host != NULL);
  g_return_if_fail(host->n_devices == 0 || host->devices != NULL);

  h = host_build(placer, host, placer->hosts->len);
  g_ptr_array_add(placer->hosts, h);
  host_link(placer, h);
}

/* Whether device @id of @h is eligible (free, ready, its group free). */
static gboolean
device_eligible(const Host *h, gint64 id, const PpPciAddress *address)
{
  for (guint i = 0; i < h->n_devices; i++)
    if (h->devices[i].id == id && pp_pci_address_equal(&h->devices[i].addr, address))
      return h->devices[i].eligible;
  return FALSE;
}

/* Whether @after may fit a VM that @before could not: it became rankable,
 * or has more CPU or memory free, or a device eligible that was not (one
 * by one, not counts per type: a request by address wants that device), or
 * another name (a template may ask for a host by name). */
static gboolean
host_gained(const Host *before, const Host *after)
{
  if (!after->rankable)
    return FALSE;
  if (!before->rankable || strcmp(before->name, after->name) != 0)
    return TRUE;
  if (host_free_cpu(after) > host_free_cpu(before) ||
      host_free_memory(after) > host_free_memory(before))
    return TRUE;
  for (guint i = 0; i < after->n_devices; i++) {
    const Device *d = &after->devices[i];

    if (d->eligible && !device_eligible(before, d->id, &d->addr))
      return TRUE;
  }
  return FALSE;
}

gboolean
pp_placer_set_host(PpPlacer *placer, const PpPlaceHost *host)
{
  Host *old, *h;
  gboolean gained;

  g_return_val_if_fail(placer != NULL, FALSE);
  g_return_val_if_fail(host != NULL, FALSE);
  g_return_val_if_fail(host->n_devices == 0 || host->devices != NULL, FALSE);

  old = g_hash_table_lookup(placer->by_id, &host->id);
  if (old == NULL) {
    pp_placer_add_host(placer, host);
    return host_at(placer, placer->hosts->len - 1)->rankable;
  }
  host_unlink(placer, old);
  h = host_build(placer, host, old->index);
  placer->hosts->pdata[old->index] = h;
  host_link(placer, h);
  gained = host_gained(old, h);
  host_free(old);
  return gained;
}

gboolean
pp_placer_remove_host(PpPlacer *placer, gint64 host_id)
{
  Host *h;

  g_return_val_if_fail(placer != NULL, FALSE);

  h = g_hash_table_lookup(placer->by_id, &host_id);
  if (h == NULL)
    return FALSE;
  host_unlink(placer, h);
  h->removed = TRUE;
  h->rankable = FALSE;
  /* Only its slot stays: the devices go. */
  host_free_devices(h);
  return TRUE;
}

guint
pp_placer_get_n_hosts(PpPlacer *placer)
{
  g_return_val_if_fail(placer != NULL, 0);
  return g_hash_table_size(placer->by_id);
}

gboolean
pp_placer_has_host(PpPlacer *placer, gint64 host_id)
{
  g_return_val_if_fail(placer != NULL, FALSE);
  return g_hash_table_contains(placer->by_id, &host_id);
}

/* --- Matching one host --------------------------------------------------- */

static gboolean
request_matches(const PpPciRequest *r, const Device *d)
{
  if (r->by_address)
    return pp_pci_address_equal(&r->address, &d->addr);
  return (r->vendor < 0 || r->vendor == d->vendor) && (r->device < 0 || r->device == d->device) &&
         (r->class_code < 0 || r->class_code == d->class_code);
}

static gboolean
request_matches_ids(const PpPciRequest *r, guint64 packed)
{
  guint16 vendor = (guint16)(packed >> 32), device = (guint16)(packed >> 16);
  guint16 class_code = (guint16)packed;

  return (r->vendor < 0 || r->vendor == vendor) && (r->device < 0 || r->device == device) &&
         (r->class_code < 0 || r->class_code == class_code);
}

/* Fills the scratch lists with each request's eligible candidates.
 * Returns: FALSE when a request has none. */
static gboolean
collect_candidates(PpPlacer *placer, const Host *h, const PpPlaceVm *vm)
{
  g_array_set_size(placer->cand, 0);
  g_array_set_size(placer->cand_off, 0);
  for (guint r = 0; r < vm->n_requests; r++) {
    guint start = placer->cand->len;

    g_array_append_val(placer->cand_off, start);
    for (guint i = 0; i < h->n_devices; i++)
      if (h->devices[i].eligible && request_matches(&vm->requests[r], &h->devices[i]))
        g_array_append_val(placer->cand, i);
    if (placer->cand->len == start)
      return FALSE;
  }
  g_array_append_val(placer->cand_off, placer->cand->len);
  return TRUE;
}

typedef struct {
  const Host *host;
  const guint *cand;
  const guint *cand_off;
  gint *match_dev;
  gint *match_req;
  guint *seen;
  guint stamp;
  gint node; /* -1: any */
} Matcher;

static gboolean
augment(Matcher *m, guint r)
{
  /* A free candidate first, so that requests keep the inventory's order
   * where nothing forces a swap. */
  for (guint k = m->cand_off[r]; k < m->cand_off[r + 1]; k++) {
    guint d = m->cand[k];

    if (m->match_dev[d] < 0 && (m->node < 0 || m->host->devices[d].numa_node == m->node)) {
      m->seen[d] = m->stamp;
      m->match_dev[d] = (gint)r;
      m->match_req[r] = (gint)d;
      return TRUE;
    }
  }
  for (guint k = m->cand_off[r]; k < m->cand_off[r + 1]; k++) {
    guint d = m->cand[k];

    if (m->node >= 0 && m->host->devices[d].numa_node != m->node)
      continue;
    if (m->seen[d] == m->stamp)
      continue;
    m->seen[d] = m->stamp;
    if (m->match_dev[d] < 0 || augment(m, (guint)m->match_dev[d])) {
      m->match_dev[d] = (gint)r;
      m->match_req[r] = (gint)d;
      return TRUE;
    }
  }
  return FALSE;
}

/* Kuhn's algorithm over the scratch candidates, restricted to @node when
 * >= 0. Returns: the first request that could not be matched, or -1 when
 * all were; the seen stamps of the last search then mark the witness. */
static gint
match_all(PpPlacer *placer, Matcher *m, const Host *h, guint n_requests, gint node)
{
  g_array_set_size(placer->match_dev, h->n_devices);
  g_array_set_size(placer->match_req, n_requests);
  if (placer->seen->len < h->n_devices)
    g_array_set_size(placer->seen, h->n_devices);
  m->host = h;
  m->cand = (const guint *)placer->cand->data;
  m->cand_off = (const guint *)placer->cand_off->data;
  m->match_dev = (gint *)placer->match_dev->data;
  m->match_req = (gint *)placer->match_req->data;
  m->seen = (guint *)placer->seen->data;
  m->node = node;
  for (guint i = 0; i < h->n_devices; i++)
    m->match_dev[i] = -1;
  for (guint r = 0; r < n_requests; r++) {
    if (++placer->stamp == 0) {
      memset(placer->seen->data, 0, placer->seen->len * sizeof(guint));
      placer->stamp = 1;
    }
    m->stamp = placer->stamp;
    if (!augment(m, r))
      return (gint)r;
  }
  return -1;
}

/* How @d ranks for a request of @policy, lower first: @vm_taken counts
 * per PF the VFs the VM's earlier requests have. */
static gint64
pf_rank(const Host *h, const Device *d, PpPfPolicy policy, const guint *vm_taken)
{
  gint64 taken = d->pf >= 0 ? (gint64)h->pf_taken[d->pf] + vm_taken[d->pf] : 0;

  return policy == PP_PF_POLICY_PACK ? -taken : taken;
}

/* Whether device @d is among request @r's scratch candidates. */
static gboolean
is_candidate(const guint *cand, const guint *cand_off, guint r, guint d)
{
  for (guint k = cand_off[r]; k < cand_off[r + 1]; k++)
    if (cand[k] == d)
      return TRUE;
  return FALSE;
}

/* The requests' pf_policy over @fit, a matching found on @h with the
 * scratch candidates. Each request in order that has one takes the
 * candidate on the fit's node that ranks first (pf_rank() against what
 * VMs hold and what the earlier requests have, then the inventory's
 * order) among those no earlier request has: a free one, or one a later
 * request has when that request can have this one's device instead (the
 * two swap). The matching stays one: every device is free, eligible and
 * its request's, none twice. */
static void
apply_pf_policy(PpPlacer *placer, const Host *h, const PpPlaceVm *vm, Fit *fit)
{
  const guint *cand = (const guint *)placer->cand->data;
  const guint *cand_off = (const guint *)placer->cand_off->data;
  g_autofree guint *vm_taken = NULL;
  g_autofree gint *owner = NULL;
  guint r;

  for (r = 0; r < vm->n_requests; r++)
    if (vm->requests[r].pf_policy != PP_PF_POLICY_NONE)
      break;
  if (r == vm->n_requests || h->n_pfs == 0)
    return;
  vm_taken = g_new0(guint, h->n_pfs);
  owner = g_new(gint, h->n_devices);
  for (guint i = 0; i < h->n_devices; i++)
    owner[i] = -1;
  for (r = 0; r < vm->n_requests; r++)
    owner[fit->dev_for_req[r]] = (gint)r;
  for (r = 0; r < vm->n_requests; r++) {
    PpPfPolicy policy = vm->requests[r].pf_policy;
    guint cur = (guint)fit->dev_for_req[r];
    guint best = cur;

    if (policy != PP_PF_POLICY_NONE) {
      gint64 best_rank = pf_rank(h, &h->devices[cur], policy, vm_taken);

      for (guint k = cand_off[r]; k < cand_off[r + 1]; k++) {
        guint d = cand[k];
        gint64 rank;

        if (d == cur || (fit->numa_node >= 0 && h->devices[d].numa_node != fit->numa_node))
          continue;
        if (owner[d] >= 0 &&
            (owner[d] < (gint)r || !is_candidate(cand, cand_off, (guint)owner[d], cur)))
          continue;
        rank = pf_rank(h, &h->devices[d], policy, vm_taken);
        if (rank < best_rank || (rank == best_rank && d < best)) {
          best = d;
          best_rank = rank;
        }
      }
      if (best != cur) {
        gint other = owner[best];

        if (other >= 0)
          fit->dev_for_req[other] = (gint)cur;
        owner[cur] = other;
        owner[best] = (gint)r;
        fit->dev_for_req[r] = (gint)best;
      }
    }
    if (h->devices[best].pf >= 0)
      vm_taken[h->devices[best].pf]++;
  }
}

/* Whether @vm's requests fit on @h (CPU and memory not checked): writes
 * the device per request and the NUMA node to @fit. */
static gboolean
host_match(PpPlacer *placer, const Host *h, const PpPlaceVm *vm, Fit *fit)
{
  Matcher m = { 0 };

  fit->numa_node = -1;
  if (vm->n_requests == 0)
    return TRUE;
  if (!collect_candidates(placer, h, vm))
    return FALSE;
  if (match_all(placer, &m, h, vm->n_requests, -1) >= 0)
    return FALSE;
  memcpy(fit->dev_for_req, m.match_req, vm->n_requests * sizeof(gint));
  for (guint n = 0; n < h->n_nodes; n++) {
    Matcher local = { 0 };

    if (match_all(placer, &local, h, vm->n_requests, h->nodes[n]) < 0) {
      memcpy(fit->dev_for_req, local.match_req, vm->n_requests * sizeof(gint));
      fit->numa_node = h->nodes[n];
      break;
    }
  }
  apply_pf_policy(placer, h, vm, fit);
  return TRUE;
}

/* --- Explanations -------------------------------------------------------- */

static void
append_hundredths(GString *s, gint64 v)
{
  if (v < 0) {
    g_string_append_c(s, '-');
    v = -v;
  }
  g_string_append_printf(s, "%" G_GINT64_FORMAT ".%02d", v / 100, (int)(v % 100));
}

static void
append_request(GString *s, const PpPlaceVm *vm, guint r)
{
  const PpPciRequest *req = &vm->requests[r];

  g_string_append_printf(s, "PCI[%u] (", r);
  if (req->text != NULL) {
    g_string_append(s, req->text);
  } else if (req->by_address) {
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    g_string_append_printf(s, "SHORT_ADDRESS=%s", pp_pci_address_format_short(&req->address, buf));
  } else {
    const char *sep = "";

    if (req->vendor >= 0) {
      g_string_append_printf(s, "VENDOR=%04x", (guint)req->vendor);
      sep = ", ";
    }
    if (req->device >= 0) {
      g_string_append_printf(s, "%sDEVICE=%04x", sep, (guint)req->device);
      sep = ", ";
    }
    if (req->class_code >= 0)
      g_string_append_printf(s, "%sCLASS=%04x", sep, (guint)req->class_code);
  }
  g_string_append_c(s, ')');
}

/* ", and N more" after LIST_MAX items; @i counts from 0. Returns: FALSE
 * when the item is not to be written. */
static gboolean
list_item(GString *s, guint i, guint total)
{
  if (i >= LIST_MAX) {
    if (i == LIST_MAX)
      g_string_append_printf(s, ", and %u more", total - LIST_MAX);
    return FALSE;
  }
  if (i > 0)
    g_string_append(s, ", ");
  return TRUE;
}

/* Why @d, free, cannot be given: it is not ready, or a companion keeps it.
 * Returns: FALSE when nothing does. */
static gboolean
append_companion_problem(GString *s, const Host *h, const Device *d)
{
  if (d->not_ready != NULL) {
    g_string_append_printf(s, "%s %s", d->address, d->not_ready);
    return TRUE;
  }
  for (guint c = 0; c < d->n_companions; c++) {
    const Device *o = d->companions[c] >= 0 ? &h->devices[d->companions[c]] : NULL;

    if (o != NULL && device_usable(o))
      continue;
    g_string_append_printf(s, "%s cannot be given: its IOMMU group ", d->address);
    if (d->iommu_group >= 0)
      g_string_append_printf(s, "%d ", d->iommu_group);
    g_string_append_printf(s, "holds %s, ", d->companion_text[c]);
    if (o == NULL)
      g_string_append(s, "which pci.conf does not offer (not in the inventory)");
    else if (o->gone)
      g_string_append(s, "which is gone");
    else if (o->vm_id != 0)
      g_string_append_printf(s, HELD_BY "%" G_GINT64_FORMAT, o->vm_id);
    else
      g_string_append_printf(s, "which %s", o->not_ready);
    return TRUE;
  }
  return FALSE;
}

/* What keeps a VM off a host, the grouping key of pp_placer_explain(): the
 * first failing check of host_reason(), and the request it concerns. */
typedef enum {
  KIND_FITS,
  KIND_NOT_ASKED, /* not the host the template asks for */
  KIND_DISABLED,
  KIND_NOT_MONITORED,
  KIND_NO_CPU_COUNT,
  KIND_CPU,
  KIND_NO_MEMORY_SIZE,
  KIND_MEMORY,
  KIND_NO_DEVICE, /* request r: no device matches */
  KIND_NONE_FREE, /* request r: every matching device is held or gone */
  KIND_BLOCKED,   /* request r: the free ones cannot be given (group, not ready) */
  KIND_TOGETHER,  /* the requests cannot all have distinct devices at once */
} ReasonKind;

/* The reason request @r has no eligible device on @h, or KIND_FITS when it
 * has. */
static ReasonKind
explain_request(GString *s, const Host *h, const PpPlaceVm *vm, guint r)
{
  const PpPciRequest *req = &vm->requests[r];
  guint matching = 0, free_count = 0, i_item = 0;
  const Device *blocked = NULL;

  for (guint i = 0; i < h->n_devices; i++) {
    const Device *d = &h->devices[i];

    if (!request_matches(req, d))
      continue;
    if (d->eligible)
      return KIND_FITS;
    matching++;
    if (device_free(d)) {
      free_count++;
      if (blocked == NULL)
        blocked = d;
    }
  }
  if (matching == 0) {
    g_string_append(s, "no device matches ");
    append_request(s, vm, r);
    return KIND_NO_DEVICE;
  }
  if (free_count == 0) {
    g_string_append(s, "no free device matches ");
    append_request(s, vm, r);
    g_string_append(s, ": ");
    for (guint i = 0; i < h->n_devices; i++) {
      const Device *d = &h->devices[i];

      if (!request_matches(req, d))
        continue;
      if (list_item(s, i_item++, matching)) {
        if (d->gone)
          g_string_append_printf(s, "%s gone", d->address);
        else
          g_string_append_printf(s, "%s " HELD_BY "%" G_GINT64_FORMAT, d->address, d->vm_id);
      }
    }
    return KIND_NONE_FREE;
  }
  append_request(s, vm, r);
  g_string_append(s, ": ");
  append_companion_problem(s, h, blocked);
  if (matching > 1)
    g_string_append_printf(s, " (%u more matching device%s cannot be given either)", matching - 1,
                           matching - 1 == 1 ? "" : "s");
  return KIND_BLOCKED;
}

/* Every request has a candidate but not all at once: name the Hall
 * witness the failed search from @failed left in the seen stamps. */
static void
explain_witness(GString *s, const Matcher *m, const Host *h, const PpPlaceVm *vm, guint failed)
{
  g_autofree gboolean *in = g_new0(gboolean, vm->n_requests);
  guint k = 0, n_dev = 0, written = 0, i_item = 0;

  in[failed] = TRUE;
  for (guint i = 0; i < h->n_devices; i++)
    if (m->seen[i] == m->stamp) {
      n_dev++;
      g_assert(m->match_dev[i] >= 0);
      in[m->match_dev[i]] = TRUE;
    }
  for (guint r = 0; r < vm->n_requests; r++)
    k += in[r] ? 1 : 0;
  for (guint r = 0; r < vm->n_requests; r++) {
    if (!in[r])
      continue;
    if (written > 0)
      g_string_append(s, written + 1 == k ? " and " : ", ");
    append_request(s, vm, r);
    written++;
  }
  g_string_append_printf(s, " need %u distinct devices; only %u %s free: ", k, n_dev,
                         n_dev == 1 ? "is" : "are");
  for (guint i = 0; i < h->n_devices; i++)
    if (m->seen[i] == m->stamp && list_item(s, i_item++, n_dev))
      g_string_append(s, h->devices[i].address);
}

static gboolean
host_is_required(const Host *h, const PpPlaceVm *vm)
{
  if (vm->host_id != 0 && h->id != vm->host_id)
    return FALSE;
  if (vm->host_name != NULL && strcmp(h->name, vm->host_name) != 0)
    return FALSE;
  return TRUE;
}

/* The reason @vm does not fit on @h, the slow way, written to @s (emptied
 * first); *ret_request is the request it concerns, for the kinds that
 * concern one. Returns: its kind, KIND_FITS (and @s empty) when it fits. */
static ReasonKind
host_reason(PpPlacer *placer, const Host *h, const PpPlaceVm *vm, GString *s, guint *ret_request)
{
  Matcher m = { 0 };
  gint failed;

  g_string_truncate(s, 0);
  *ret_request = 0;
  if (!host_is_required(h, vm)) {
    if (vm->host_name != NULL)
      g_string_printf(s, "not the host the template asks for (HOST = %s)", vm->host_name);
    else
      g_string_printf(s, "not the host the template asks for (HOST = %" G_GINT64_FORMAT ")",
                      vm->host_id);
    return KIND_NOT_ASKED;
  }
  if (h->state == PP_PLACE_HOST_DISABLED) {
    g_string_assign(s, "disabled");
    return KIND_DISABLED;
  }
  if (h->state != PP_PLACE_HOST_OK) {
    if (h->state_text != NULL)
      g_string_printf(s, "not monitored (%s)", h->state_text);
    else
      g_string_assign(s, "not monitored");
    return KIND_NOT_MONITORED;
  }
  if (h->cpu_total < 0) {
    g_string_assign(s, "no CPU count reported yet");
    return KIND_NO_CPU_COUNT;
  }
  if (host_free_cpu(h) < vm->cpu) {
    g_string_append(s, "not enough CPU: needs ");
    append_hundredths(s, vm->cpu);
    g_string_append(s, ", ");
    append_hundredths(s, host_free_cpu(h));
    g_string_append(s, " free of ");
    append_hundredths(s, h->cpu_total);
    return KIND_CPU;
  }
  if (h->memory_total_kib < 0) {
    g_string_assign(s, "no memory size reported yet");
    return KIND_NO_MEMORY_SIZE;
  }
  if (host_free_memory(h) < vm->memory_kib) {
    g_string_printf(s,
                    "not enough memory: needs %" G_GINT64_FORMAT " MiB, %" G_GINT64_FORMAT
                    " MiB free of %" G_GINT64_FORMAT " MiB",
                    (vm->memory_kib + 1023) / 1024, host_free_memory(h) / 1024,
                    h->memory_total_kib / 1024);
    return KIND_MEMORY;
  }
  for (guint r = 0; r < vm->n_requests; r++) {
    ReasonKind kind = explain_request(s, h, vm, r);

    if (kind != KIND_FITS) {
      *ret_request = r;
      return kind;
    }
  }
  if (vm->n_requests == 0)
    return KIND_FITS;
  if (!collect_candidates(placer, h, vm))
    g_assert_not_reached();
  failed = match_all(placer, &m, h, vm->n_requests, -1);
  if (failed < 0)
    return KIND_FITS;
  explain_witness(s, &m, h, vm, (guint)failed);
  return KIND_TOGETHER;
}

/* The reason @vm does not fit on @h. Returns: (transfer full) (nullable):
 * NULL when it fits. */
static char *
host_explain(PpPlacer *placer, const Host *h, const PpPlaceVm *vm)
{
  g_autoptr(GString) s = g_string_new(NULL);
  guint request;

  if (host_reason(placer, h, vm, s, &request) == KIND_FITS)
    return NULL;
  return g_string_free(g_steal_pointer(&s), FALSE);
}

/* The words a group of hosts of @kind shares: the host's own reason
 * without what differs from host to host (its free CPU, the devices). */
static char *
kind_summary(ReasonKind kind, const PpPlaceVm *vm, guint r)
{
  g_autoptr(GString) s = g_string_new(NULL);

  switch (kind) {
  case KIND_NOT_ASKED:
    if (vm->host_name != NULL)
      g_string_printf(s, "not the host the template asks for (HOST = %s)", vm->host_name);
    else
      g_string_printf(s, "not the host the template asks for (HOST = %" G_GINT64_FORMAT ")",
                      vm->host_id);
    break;
  case KIND_DISABLED:
    g_string_assign(s, "disabled");
    break;
  case KIND_NOT_MONITORED:
    g_string_assign(s, "not monitored");
    break;
  case KIND_NO_CPU_COUNT:
    g_string_assign(s, "no CPU count reported yet");
    break;
  case KIND_CPU:
    g_string_assign(s, "not enough CPU free: needs ");
    append_hundredths(s, vm->cpu);
    break;
  case KIND_NO_MEMORY_SIZE:
    g_string_assign(s, "no memory size reported yet");
    break;
  case KIND_MEMORY:
    g_string_printf(s, "not enough memory free: needs %" G_GINT64_FORMAT " MiB",
                    (vm->memory_kib + 1023) / 1024);
    break;
  case KIND_NO_DEVICE:
    g_string_assign(s, "no device matches ");
    append_request(s, vm, r);
    break;
  case KIND_NONE_FREE:
    g_string_assign(s, "no free device matches ");
    append_request(s, vm, r);
    break;
  case KIND_BLOCKED:
    g_string_assign(s, "the free devices that match ");
    append_request(s, vm, r);
    g_string_append(s, " cannot be given (their IOMMU group, or not ready)");
    break;
  case KIND_TOGETHER:
    g_string_assign(s, "the PCI requests cannot all have distinct devices at once");
    break;
  case KIND_FITS:
  default:
    g_assert_not_reached();
  }
  return g_string_free(g_steal_pointer(&s), FALSE);
}

void
pp_place_reason_group_free(PpPlaceReasonGroup *group)
{
  if (group == NULL)
    return;
  g_free(group->summary);
  if (group->examples != NULL)
    g_ptr_array_unref(group->examples);
  g_free(group);
}

GPtrArray *
pp_placer_explain(PpPlacer *placer, const PpPlaceVm *vm, guint max_examples, guint *ret_n_hosts)
{
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GString) s = NULL;
  guint n_hosts = 0;

  g_return_val_if_fail(placer != NULL, NULL);
  g_return_val_if_fail(vm != NULL, NULL);
  g_return_val_if_fail(vm->n_requests == 0 || vm->requests != NULL, NULL);

  groups = g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_reason_group_free);
  keys = g_array_new(FALSE, FALSE, sizeof(guint64));
  s = g_string_new(NULL);
  for (guint i = 0; i < placer->hosts->len; i++) {
    const Host *h = host_at(placer, i);
    PpPlaceReasonGroup *group;
    ReasonKind kind;
    guint r, k;
    guint64 key;

    if (h->removed)
      continue;
    n_hosts++;
    kind = host_reason(placer, h, vm, s, &r);
    if (kind == KIND_FITS)
      continue;
    key = ((guint64)kind << 32) | r;
    for (k = 0; k < keys->len; k++)
      if (g_array_index(keys, guint64, k) == key)
        break;
    if (k == keys->len) {
      group = g_new0(PpPlaceReasonGroup, 1);
      group->summary = kind_summary(kind, vm, r);
      group->examples = g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_rejection_free);
      g_array_append_val(keys, key);
      g_ptr_array_add(groups, group);
    }
    group = g_ptr_array_index(groups, k);
    group->n_hosts++;
    if (group->examples->len < MAX(max_examples, 1)) {
      PpPlaceRejection *rej = g_new0(PpPlaceRejection, 1);

      rej->host_id = h->id;
      rej->host_name = g_strdup(h->name);
      rej->reason = g_strdup(s->str);
      g_ptr_array_add(group->examples, rej);
    }
  }
  if (ret_n_hosts != NULL)
    *ret_n_hosts = n_hosts;
  return g_steal_pointer(&groups);
}

/* --- Placing ------------------------------------------------------------- */

static gboolean
host_fits_resources(const Host *h, const PpPlaceVm *vm)
{
  return h->rankable && host_free_cpu(h) >= vm->cpu && host_free_memory(h) >= vm->memory_kib;
}

/* Builds the candidate bitmap of @vm's requests by ids in placer->filter.
 * Returns: FALSE when no host can have them all; *ret_filtered FALSE when
 * no request narrows the hosts (all by address, or none). */
static gboolean
build_filter(PpPlacer *placer, const PpPlaceVm *vm, gboolean *ret_filtered)
{
  guint words = (placer->hosts->len + 63) / 64;
  gboolean filtered = FALSE;

  if (words == 0)
    return FALSE;
  if (placer->filter_words < placer->words) {
    placer->filter = g_renew(guint64, placer->filter, placer->words);
    placer->req_bits = g_renew(guint64, placer->req_bits, placer->words);
    placer->filter_words = placer->words;
  }
  memcpy(placer->filter, placer->rankable_bits, words * sizeof(guint64));
  for (guint r = 0; r < vm->n_requests; r++) {
    const PpPciRequest *req = &vm->requests[r];
    gboolean any = FALSE;

    if (req->by_address)
      continue;
    memset(placer->req_bits, 0, words * sizeof(guint64));
    for (guint t = 0; t < placer->type_ids->len; t++) {
      const guint64 *bits;

      if (!request_matches_ids(req, g_array_index(placer->type_ids, guint64, t)))
        continue;
      bits = g_ptr_array_index(placer->type_bits, t);
      for (guint w = 0; w < words; w++)
        placer->req_bits[w] |= bits[w];
      any = TRUE;
    }
    if (!any)
      return FALSE;
    for (guint w = 0; w < words; w++)
      placer->filter[w] &= placer->req_bits[w];
    filtered = TRUE;
  }
  *ret_filtered = filtered;
  return TRUE;
}

/* The range of the order with enough CPU free: [*ret_from, *ret_to). */
static void
order_cpu_range(const PpPlacer *placer, gint64 cpu, guint *ret_from, guint *ret_to)
{
  guint lo = 0, hi = placer->order->len;
  gboolean pack = placer->policy == PP_PLACE_POLICY_PACK;

  /* First position where the CPU test turns: pack ascending, so the first
   * with enough; stripe descending, so the first without. */
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    const Host *m = host_at(placer, g_array_index(placer->order, guint, mid));
    gboolean enough = host_free_cpu(m) >= cpu;

    if (pack ? !enough : enough)
      lo = mid + 1;
    else
      hi = mid;
  }
  *ret_from = pack ? lo : 0;
  *ret_to = pack ? placer->order->len : lo;
}

static guint
bitmap_count(const guint64 *bits, guint words)
{
  guint n = 0;

  for (guint w = 0; w < words; w++)
    n += (guint)__builtin_popcountll(bits[w]);
  return n;
}

static gboolean
host_avoided(const PpPlaceVm *vm, const Host *h)
{
  for (guint i = 0; i < vm->n_avoid_host_ids; i++)
    if (vm->avoid_host_ids[i] == h->id)
      return TRUE;
  return FALSE;
}

/* The best host for @vm by the fast path, or NULL; its fit in @fit. */
static Host *
place_fast(PpPlacer *placer, const PpPlaceVm *vm, Fit *fit)
{
  gboolean filtered = FALSE;
  guint from, to, words = (placer->hosts->len + 63) / 64;
  Host *best = NULL;

  if (vm->host_id != 0 || vm->host_name != NULL) {
    Host *h = vm->host_name != NULL ? g_hash_table_lookup(placer->by_name, vm->host_name)
                                    : g_hash_table_lookup(placer->by_id, &vm->host_id);

    if (h == NULL || !host_is_required(h, vm) || !host_fits_resources(h, vm))
      return NULL;
    return host_match(placer, h, vm, fit) ? h : NULL;
  }

  if (!build_filter(placer, vm, &filtered))
    return NULL;
  order_cpu_range(placer, vm->cpu, &from, &to);
  if (filtered && (guint64)bitmap_count(placer->filter, words) * 8 < to - from) {
    /* Few candidates: visit them, keep the best that fits. */
    gint *best_req = (gint *)placer->best_req->data;
    g_autofree gint *trial_req = g_new(gint, MAX(vm->n_requests, 1));
    Fit trial = { trial_req, -1 };

    for (guint w = 0; w < words; w++) {
      guint64 bits = placer->filter[w];

      while (bits != 0) {
        guint i = w * 64 + (guint)__builtin_ctzll(bits);
        Host *h = host_at(placer, i);

        bits &= bits - 1;
        if (!host_fits_resources(h, vm) || host_avoided(vm, h))
          continue;
        if (best != NULL && host_rank_cmp(placer->policy, h, best) > 0)
          continue;
        if (host_match(placer, h, vm, &trial)) {
          best = h;
          memcpy(best_req, trial_req, vm->n_requests * sizeof(gint));
          fit->numa_node = trial.numa_node;
        }
      }
    }
    if (best != NULL)
      memcpy(fit->dev_for_req, best_req, vm->n_requests * sizeof(gint));
    return best;
  }
  for (guint p = from; p < to; p++) {
    guint i = g_array_index(placer->order, guint, p);
    Host *h = host_at(placer, i);

    if (filtered && !bit_get(placer->filter, i))
      continue;
    if (host_free_memory(h) < vm->memory_kib || host_avoided(vm, h))
      continue;
    if (host_match(placer, h, vm, fit))
      return h;
  }
  return NULL;
}

static int
cmp_gint64(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

static PpPlacement *
placement_new(const Host *h, const PpPlaceVm *vm, const Fit *fit)
{
  PpPlacement *p = g_new0(PpPlacement, 1);
  g_autofree gboolean *taken = g_new0(gboolean, MAX(h->n_devices, 1));

  p->host_id = h->id;
  p->host_name = h->name;
  p->numa_node = fit->numa_node;
  p->device_ids = g_array_sized_new(FALSE, FALSE, sizeof(gint64), vm->n_requests);
  p->companion_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  for (guint r = 0; r < vm->n_requests; r++) {
    g_array_append_val(p->device_ids, h->devices[fit->dev_for_req[r]].id);
    taken[fit->dev_for_req[r]] = TRUE;
  }
  for (guint r = 0; r < vm->n_requests; r++) {
    const Device *d = &h->devices[fit->dev_for_req[r]];

    for (guint c = 0; c < d->n_companions; c++) {
      gint o = d->companions[c];

      g_assert(o >= 0);
      if (taken[o])
        continue;
      taken[o] = TRUE;
      g_array_append_val(p->companion_ids, h->devices[o].id);
    }
  }
  g_array_sort(p->companion_ids, cmp_gint64);
  return p;
}

gboolean
pp_placer_place(PpPlacer *placer, const PpPlaceVm *vm, PpPlacement **ret_placement,
                GPtrArray **ret_rejections)
{
  g_autofree gint *dev_for_req = NULL;
  g_autoptr(GPtrArray) rejections = NULL;
  Fit fit = { NULL, -1 };
  Host *h;

  g_return_val_if_fail(placer != NULL, FALSE);
  g_return_val_if_fail(vm != NULL, FALSE);
  g_return_val_if_fail(vm->n_requests == 0 || vm->requests != NULL, FALSE);

  dev_for_req = g_new(gint, MAX(vm->n_requests, 1));
  fit.dev_for_req = dev_for_req;
  g_array_set_size(placer->best_req, MAX(vm->n_requests, 1));
  h = place_fast(placer, vm, &fit);
  if (h == NULL && vm->n_avoid_host_ids > 0) {
    /* No other host: one where a deploy failed is better than none. */
    PpPlaceVm again = *vm;

    again.n_avoid_host_ids = 0;
    h = place_fast(placer, &again, &fit);
  }
  if (h != NULL) {
    if (ret_placement != NULL)
      *ret_placement = placement_new(h, vm, &fit);
    if (ret_rejections != NULL)
      *ret_rejections = NULL;
    return TRUE;
  }
  if (ret_rejections == NULL)
    return FALSE;

  rejections = g_ptr_array_new_with_free_func((GDestroyNotify)pp_place_rejection_free);
  for (guint i = 0; i < placer->hosts->len; i++) {
    Host *host = host_at(placer, i);
    PpPlaceRejection *rej;

    if (host->removed)
      continue;
    rej = g_new0(PpPlaceRejection, 1);
    rej->host_id = host->id;
    rej->host_name = g_strdup(host->name);
    rej->reason = host_explain(placer, host, vm);
    if (rej->reason == NULL) {
      /* The fast path found no host: the slow one should agree. A reader
       * asked (vm show): a warning, not an abort. */
      g_warning("host '%s' fits VM %" G_GINT64_FORMAT " by the slow path only", host->name, vm->id);
      rej->reason = g_strdup("fits");
    }
    g_ptr_array_add(rejections, rej);
  }
  if (ret_placement != NULL)
    *ret_placement = NULL;
  *ret_rejections = g_steal_pointer(&rejections);
  return FALSE;
}

void
pp_placer_commit(PpPlacer *placer, const PpPlaceVm *vm, const PpPlacement *placement)
{
  Host *h;
  const GArray *lists[2];

  g_return_if_fail(placer != NULL);
  g_return_if_fail(vm != NULL);
  g_return_if_fail(placement != NULL);

  /* A dry run is not recorded. */
  if (vm->id == 0)
    return;
  h = g_hash_table_lookup(placer->by_id, &placement->host_id);
  g_return_if_fail(h != NULL);

  if (h->rankable)
    order_remove(placer, h);
  lists[0] = placement->device_ids;
  lists[1] = placement->companion_ids;
  for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
    for (guint k = 0; lists[l] != NULL && k < lists[l]->len; k++) {
      gint64 id = g_array_index(lists[l], gint64, k);

      for (guint i = 0; i < h->n_devices; i++)
        if (h->devices[i].id == id) {
          h->devices[i].vm_id = vm->id;
          break;
        }
    }
  }
  h->cpu_used += vm->cpu;
  h->memory_used_kib += vm->memory_kib;
  host_refresh(placer, h);
  if (h->rankable)
    order_insert(placer, h);
}

char *
pp_place_rejections_summary(const GPtrArray *rejections, guint max)
{
  g_autoptr(GString) s = g_string_new(NULL);
  guint n;

  g_return_val_if_fail(rejections != NULL, NULL);

  n = rejections->len;
  if (n == 0)
    return g_strdup("no hosts");
  g_string_printf(s, "%u host%s", n, n == 1 ? "" : "s");
  if (max == 0)
    return g_string_free(g_steal_pointer(&s), FALSE);
  g_string_append(s, ": ");
  for (guint i = 0; i < n && i < max; i++) {
    const PpPlaceRejection *rej = g_ptr_array_index((GPtrArray *)rejections, i);

    if (i > 0)
      g_string_append(s, "; ");
    g_string_append_printf(s, "%s: %s", rej->host_name, rej->reason);
  }
  if (n > max)
    g_string_append_printf(s, "; and %u more", n - max);
  return g_string_free(g_steal_pointer(&s), FALSE);
}

char *
pp_place_reason_hide_holders(const char *reason, PpPlaceVmShown shown, gpointer data)
{
  GString *out;
  const char *p;

  g_return_val_if_fail(reason != NULL && shown != NULL, NULL);

  out = g_string_sized_new(strlen(reason));
  for (p = reason; *p != '\0';) {
    const char *at = strstr(p, HELD_BY);
    const char *digits, *end;
    guint64 id = 0;

    if (at == NULL)
      break;
    digits = at + strlen(HELD_BY);
    for (end = digits; g_ascii_isdigit(*end); end++)
      ;
    g_string_append_len(out, p, at - p);
    p = end;
    if (end == digits) {
      /* Not the placer's phrase: as it is. */
      g_string_append(out, HELD_BY);
      continue;
    }
    if (end - digits <= 19) {
      g_autofree char *number = g_strndup(digits, (gsize)(end - digits));

      g_ascii_string_to_unsigned(number, 10, 1, G_MAXINT64, &id, NULL);
    }
    if (id > 0 && shown((gint64)id, data))
      g_string_append_len(out, at, end - at);
    else
      g_string_append(out, HELD_BY_HIDDEN);
  }
  g_string_append(out, p);
  return g_string_free(out, FALSE);
}
