/* pp-store-device: devices, the JSON of their probe records, and the
 * reconcile and ingest of a host's report. */
#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-spec.h"
#include "pp-store-int.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-template.h"
#include "pp-vm-spec-json.h"
#include "pp-vm-template.h"

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

void
pp_store_device_free(PpStoreDevice *dev)
{
  if (dev == NULL)
    return;
  /* keys and values are one block (record_from_json()). */
  g_free(dev->pci.keys);
  dev->pci.keys = dev->pci.values = NULL;
  pp_probe_device_clear(&dev->pci);
  g_free(dev->set_aside);
  g_free(dev);
}

/* Appends @text as a JSON string. The report's text is UTF-8 without NUL
 * (the template parser checks), so only quotes, backslashes and control
 * characters need escapes. */
static void
json_append_string(GString *out, const char *text)
{
  const char *run = text;

  g_string_append_c(out, '"');
  for (const char *p = text; *p != '\0'; p++) {
    guchar c = (guchar)*p;

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    g_string_append_len(out, run, p - run);
    if (c == '"' || c == '\\') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, (char)c);
    } else {
      g_string_append_printf(out, "\\u%04x", c);
    }
    run = p + 1;
  }
  g_string_append(out, run);
  g_string_append_c(out, '"');
}

/* The record as a JSON object, keys in order (the attributes column). */
static void
record_append_json(GString *out, const char *const *keys, const char *const *values)
{
  g_string_append_c(out, '{');
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    json_append_string(out, keys[i]);
    g_string_append_c(out, ':');
    json_append_string(out, values[i]);
  }
  g_string_append_c(out, '}');
}

char *
pp_store_test_record_to_json(const char *const *keys, const char *const *values)
{
  GString *out = g_string_new(NULL);

  record_append_json(out, keys, values);
  return g_string_free(out, FALSE);
}

/* The byte of two hex digits (of a "\\u00XX" escape). */
static int
control_char(const char *hex)
{
  return g_ascii_xdigit_value(hex[0]) * 16 + g_ascii_xdigit_value(hex[1]);
}

/* Appends the JSON string at *@at, as json_append_string() writes it
 * (escapes only for '"', '\\' and U+0001..U+001F), to @out with its NUL,
 * moving *@at past it. FALSE for anything else. */
static gboolean
record_string_fast(const char **at, GString *out)
{
  const char *p = *at;
  const char *run;

  if (*p != '"')
    return FALSE;
  run = ++p;
  for (;;) {
    while ((guchar)*p >= 0x20 && *p != '"' && *p != '\\')
      p++;
    g_string_append_len(out, run, p - run);
    if (*p == '"')
      break;
    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
      g_string_append_c(out, p[1]);
      p += 2;
    } else if (*p == '\\' && p[1] == 'u' && p[2] == '0' && p[3] == '0' && g_ascii_isxdigit(p[4]) &&
               g_ascii_isxdigit(p[5]) && control_char(p + 4) > 0 && control_char(p + 4) < 0x20) {
      g_string_append_c(out, (char)control_char(p + 4));
      p += 6;
    } else {
      return FALSE;
    }
    run = p;
  }
  g_string_append_c(out, '\0');
  *at = p + 1;
  return TRUE;
}

/* Whether @buf's first @n key/value pairs have the key that starts at
 * @key. */
static gboolean
record_has_key(const GString *buf, guint n, const char *key)
{
  const char *p = buf->str;

  for (guint i = 0; i < n; i++) {
    if (strcmp(p, key) == 0)
      return TRUE;
    p += strlen(p) + 1;
    p += strlen(p) + 1;
  }
  return FALSE;
}

/* The attributes column as record_append_json() writes it, into @buf as
 * "key\0value\0..." with the pair count in @ret_n: FALSE for anything
 * else (blanks, other escapes, a repeated key, not UTF-8), which jansson
 * then reads. Several times faster than jansson: the scheduler reads
 * every device of the cluster each pass. */
static gboolean
record_from_json_fast(const char *text, GString *buf, guint *ret_n)
{
  const char *p = text;
  guint n = 0;

  if (*p++ != '{' || !g_utf8_validate(text, -1, NULL))
    return FALSE;
  if (*p != '}') {
    for (;;) {
      gsize key_at = buf->len;

      if (!record_string_fast(&p, buf) || record_has_key(buf, n, buf->str + key_at) ||
          *p++ != ':' || !record_string_fast(&p, buf))
        return FALSE;
      n++;
      if (*p == '}')
        break;
      if (*p++ != ',')
        return FALSE;
    }
  }
  if (p[1] != '\0')
    return FALSE;
  *ret_n = n;
  return TRUE;
}

/* The attributes column back into keys and values (insertion order: jansson
 * keeps it). Something that is not an object of strings reads as empty.
 * Both vectors and their strings are one allocation, at *@ret_keys (one
 * malloc a device, not thirty): pp_store_device_free() frees only that. */
static void
record_from_json(const char *text, GStrv *ret_keys, GStrv *ret_values)
{
  g_autoptr(GString) buf = g_string_sized_new(text != NULL ? strlen(text) : 0);
  guint n = 0;
  char **block;
  char *data;
  const char *p;

  if (text != NULL && !record_from_json_fast(text, buf, &n)) {
    g_autoptr(json_t) root = json_loads(text, 0, NULL);
    const char *key;
    json_t *value;

    g_string_truncate(buf, 0);
    n = 0;
    if (json_is_object(root)) {
      json_object_foreach(root, key, value)
      {
        if (!json_is_string(value))
          continue;
        g_string_append_len(buf, key, (gssize)strlen(key) + 1);
        g_string_append_len(buf, json_string_value(value),
                            (gssize)strlen(json_string_value(value)) + 1);
        n++;
      }
    }
  }
  block = g_malloc(sizeof(char *) * 2 * (n + 1) + buf->len);
  data = (char *)(block + 2 * (n + 1));
  memcpy(data, buf->str, buf->len);
  p = data;
  for (guint i = 0; i < n; i++) {
    block[i] = (char *)p;
    p += strlen(p) + 1;
    block[n + 1 + i] = (char *)p;
    p += strlen(p) + 1;
  }
  block[n] = NULL;
  block[2 * n + 1] = NULL;
  *ret_keys = block;
  *ret_values = block + n + 1;
}

/* An address column: written from a checked record (pp_probe_report_parse()),
 * so one that does not read is a store changed behind pcipassd's back. */
static gboolean
col_address(PpDbStmt *stmt, int col, PpPciAddress *ret, GError **error)
{
  const char *text = store_col_text(stmt, col);
  GError *local = NULL;

  if (text != NULL && pp_pci_address_parse(text, ret, &local))
    return TRUE;
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
              "host %" G_GINT64_FORMAT ": device row %" G_GINT64_FORMAT ": %s",
              (gint64)pp_db_column_int64(stmt, DCOL_HOST_ID),
              (gint64)pp_db_column_int64(stmt, DCOL_ID),
              local != NULL ? local->message : "no address");
  g_clear_error(&local);
  return FALSE;
}

/* The group_endpoints column ("0000:3b:00.0,0000:3b:00.1") into @dev. */
static gboolean
col_group_endpoints(PpDbStmt *stmt, PpProbeDevice *dev, GError **error)
{
  const char *text = store_col_text(stmt, DCOL_GROUP_ENDPOINTS);
  guint n = 1;

  if (text == NULL)
    return TRUE;
  for (const char *p = text; *p != '\0'; p++)
    n += *p == ',';
  dev->group_endpoints = g_new(PpPciAddress, n);
  for (guint i = 0; i < n; i++) {
    const char *end = strchr(text, ',');
    char item[PP_PCI_ADDRESS_BUFSIZE] = "";
    gsize len = end != NULL ? (gsize)(end - text) : strlen(text);
    GError *local = NULL;

    /* Longer than any address: left empty, so that it does not parse. */
    if (len < sizeof item) {
      memcpy(item, text, len);
      item[len] = '\0';
    }
    if (!pp_pci_address_parse(item, &dev->group_endpoints[i], &local)) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                  "host %" G_GINT64_FORMAT ": device row %" G_GINT64_FORMAT
                  ": group endpoint %u: %s",
                  (gint64)pp_db_column_int64(stmt, DCOL_HOST_ID),
                  (gint64)pp_db_column_int64(stmt, DCOL_ID), i + 1, local->message);
      g_error_free(local);
      return FALSE;
    }
    text = end != NULL ? end + 1 : text + len;
  }
  dev->n_group_endpoints = n;
  return TRUE;
}

/* Returns: (transfer full): the row's device, or %NULL with FAILED when
 * an address of it does not read. */
static PpStoreDevice *
device_from_row(PpDbStmt *stmt, GError **error)
{
  g_autoptr(PpStoreDevice) dev = g_new0(PpStoreDevice, 1);
  PpProbeDevice *pci = &dev->pci;

  dev->id = pp_db_column_int64(stmt, DCOL_ID);
  dev->host_id = pp_db_column_int64(stmt, DCOL_HOST_ID);
  if (!col_address(stmt, DCOL_ADDRESS, &pci->address, error))
    return NULL;
  pci->vendor = (guint16)pp_db_column_int(stmt, DCOL_VENDOR);
  pci->device = (guint16)pp_db_column_int(stmt, DCOL_DEVICE);
  pci->class_code = (guint16)pp_db_column_int(stmt, DCOL_CLASS);
  pci->vendor_name = store_col_strdup(stmt, DCOL_VENDOR_NAME);
  pci->device_name = store_col_strdup(stmt, DCOL_DEVICE_NAME);
  pci->class_name = store_col_strdup(stmt, DCOL_CLASS_NAME);
  pci->numa_node = pp_db_column_int(stmt, DCOL_NUMA_NODE);
  pci->iommu_group = pp_db_column_int(stmt, DCOL_IOMMU_GROUP);
  pci->driver = store_col_strdup(stmt, DCOL_DRIVER);
  pci->sriov = store_col_strdup(stmt, DCOL_SRIOV);
  pci->physfn = store_col_strdup(stmt, DCOL_PHYSFN);
  /* Written canonical from a checked record; a row that does not read
   * (edited by hand) has no PF rather than none of the host's devices. */
  pci->has_pf = pci->physfn != NULL && pp_pci_address_parse(pci->physfn, &pci->pf, NULL);
  pci->perm_mac = store_col_strdup(stmt, DCOL_PERM_MAC);
  pci->has_vf_index = !pp_db_column_is_null(stmt, DCOL_VF_INDEX);
  pci->vf_index = pci->has_vf_index ? (guint)pp_db_column_int(stmt, DCOL_VF_INDEX) : 0;
  pci->host_needs = store_col_strdup(stmt, DCOL_HOST_NEEDS);
  dev->vm_id = pp_db_column_int64(stmt, DCOL_VM_ID); /* NULL reads as 0 */
  dev->vm_slot =
      pp_db_column_is_null(stmt, DCOL_VM_SLOT) ? -1 : pp_db_column_int(stmt, DCOL_VM_SLOT);
  dev->gone = pp_db_column_int(stmt, DCOL_GONE) != 0;
  dev->set_aside = store_col_strdup(stmt, DCOL_SET_ASIDE);
  dev->allowed = pp_db_column_int(stmt, DCOL_ALLOWED) != 0;
  /* Checked and canonical when written (pp_probe_report_parse()). */
  if (!col_group_endpoints(stmt, pci, error))
    return NULL;
  record_from_json(store_col_text(stmt, DCOL_ATTRIBUTES), &pci->keys, &pci->values);
  return g_steal_pointer(&dev);
}

/* Adds every device row of @stmt (bound) to @devices; FALSE with an error
 * that says @what. */
static gboolean
device_rows_into(PpStore *store, StoreStmt *stmt, GPtrArray *devices, const char *what,
                 GError **error)
{
  GError *local = NULL;

  while (store_stmt_next(store, stmt, &local, what)) {
    PpStoreDevice *dev = device_from_row(stmt, &local);

    if (dev == NULL)
      break;
    g_ptr_array_add(devices, dev);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

/* Every device row of @stmt (bound), or %NULL with an error that says
 * @what. */
static GPtrArray *
device_rows(PpStore *store, StoreStmt *stmt, const char *what, GError **error)
{
  g_autoptr(GPtrArray) devices =
      g_ptr_array_new_with_free_func((GDestroyNotify)pp_store_device_free);

  if (!device_rows_into(store, stmt, devices, what, error))
    return NULL;
  return g_steal_pointer(&devices);
}

GPtrArray *
store_device_list(PpStore *store, StmtId id, gint64 param, const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, id, error);

  if (stmt == NULL)
    return NULL;
  if (param != 0)
    pp_db_bind_int64(stmt, 1, param);
  return device_rows(store, stmt, what, error);
}

GPtrArray *
pp_store_host_list_devices(PpStore *store, gint64 host_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  /* Outside a transaction each statement sees its own snapshot; the host
   * check and the list need not agree to the instant. */
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return NULL;
  stmt = store_stmt(store, STMT_DEV_LIST, error);
  if (stmt == NULL)
    return NULL;
  pp_db_bind_int64(stmt, 1, host_id);
  devices = device_rows(store, stmt, "listing devices", error);
  if (devices == NULL) {
    g_prefix_error(error, "host '%s': ", name);
    return NULL;
  }
  return g_steal_pointer(&devices);
}

/* The page statement @id with ?1 .. ?PAGE_ROWS_AT_ONCE bound to
 * @ids[@n] (1 to PAGE_ROWS_AT_ONCE; the last repeated to fill). */
static StoreStmt *
ids_stmt(PpStore *store, PageStmtId id, const gint64 *ids, guint n, GError **error)
{
  StoreStmt *stmt = store_page_stmt(store, id, error);

  g_assert(n >= 1 && n <= PAGE_ROWS_AT_ONCE);
  if (stmt == NULL)
    return NULL;
  for (guint k = 0; k < PAGE_ROWS_AT_ONCE; k++)
    pp_db_bind_int64(stmt, (int)k + 1, ids[MIN(k, n - 1)]);
  return stmt;
}

static gint
compare_id(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a;
  gint64 y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

GArray *
pp_store_device_host_ids(PpStore *store, const gint64 *device_ids, guint n, GError **error)
{
  g_autoptr(GArray) hosts = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint kept = 0;

  g_return_val_if_fail(store != NULL && (device_ids != NULL || n == 0), NULL);

  for (guint i = 0; i < n; i += PAGE_ROWS_AT_ONCE) {
    g_autoptr(StoreStmt) stmt =
        ids_stmt(store, PAGE_DEVICE_HOSTS, device_ids + i, MIN(n - i, PAGE_ROWS_AT_ONCE), error);
    GError *local = NULL;

    if (stmt == NULL)
      return NULL;
    while (store_stmt_next(store, stmt, &local, "finding the hosts of devices")) {
      gint64 host_id = pp_db_column_int64(stmt, 0);

      g_array_append_val(hosts, host_id);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  /* DISTINCT within a statement; across them, sorted and kept once. */
  g_array_sort(hosts, compare_id);
  for (guint i = 0; i < hosts->len; i++) {
    if (kept == 0 || g_array_index(hosts, gint64, i) != g_array_index(hosts, gint64, kept - 1))
      g_array_index(hosts, gint64, kept++) = g_array_index(hosts, gint64, i);
  }
  g_array_set_size(hosts, kept);
  return g_steal_pointer(&hosts);
}

gboolean
pp_store_host_read_many(PpStore *store, const gint64 *host_ids, guint n, GPtrArray **ret_hosts,
                        GPtrArray **ret_devices, GHashTable **ret_usage, GError **error)
{
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func((GDestroyNotify)pp_host_free);
  g_autoptr(GPtrArray) devices =
      g_ptr_array_new_with_free_func((GDestroyNotify)pp_store_device_free);
  g_autoptr(GHashTable) usage = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  g_autofree gint64 *ids = NULL;

  g_return_val_if_fail(store != NULL && (host_ids != NULL || n == 0), FALSE);
  g_return_val_if_fail(ret_hosts != NULL && ret_devices != NULL && ret_usage != NULL, FALSE);

  /* In id order, so that each statement's rows follow on from the last's. */
  ids = g_memdup2(host_ids, sizeof(gint64) * n);
  if (n > 0)
    qsort(ids, n, sizeof(gint64), compare_id);
  for (guint i = 0; i < n; i += PAGE_ROWS_AT_ONCE) {
    guint at_once = MIN(n - i, PAGE_ROWS_AT_ONCE);
    GError *local = NULL;

    {
      g_autoptr(StoreStmt) stmt = ids_stmt(store, PAGE_HOST_ROWS, ids + i, at_once, error);

      if (stmt == NULL)
        return FALSE;
      while (store_stmt_next(store, stmt, &local, "reading hosts"))
        g_ptr_array_add(hosts, store_host_from_row(stmt));
      if (local != NULL) {
        g_propagate_error(error, local);
        return FALSE;
      }
    }
    {
      g_autoptr(StoreStmt) stmt = ids_stmt(store, PAGE_HOST_DEVICES, ids + i, at_once, error);

      if (stmt == NULL || !device_rows_into(store, stmt, devices, "reading hosts' devices", error))
        return FALSE;
    }
    {
      g_autoptr(StoreStmt) stmt = ids_stmt(store, PAGE_HOST_USAGE, ids + i, at_once, error);

      if (stmt == NULL ||
          !store_usage_rows_into(store, stmt, usage, "summing what hosts' VMs hold", error))
        return FALSE;
    }
  }
  *ret_hosts = g_steal_pointer(&hosts);
  *ret_devices = g_steal_pointer(&devices);
  *ret_usage = g_steal_pointer(&usage);
  return TRUE;
}

/* Binds a probe record's fields to ?2..?19 of DEV_INSERT / DEV_UPDATE;
 * @endpoints: its group_endpoints joined (endpoints_text()). */
static void
bind_device(PpDbStmt *stmt, const PpProbeDevice *dev, const char *json, gsize json_len,
            const char *endpoints)
{
  char buf[PP_PCI_ADDRESS_BUFSIZE];

  /* The address columns are text, formatted here, the one place they are
   * written. */
  pp_db_bind_text_copy(stmt, 2, pp_pci_address_format(&dev->address, buf));
  pp_db_bind_text_copy(stmt, 3, pp_pci_address_format_short(&dev->address, buf));
  pp_db_bind_int(stmt, 4, dev->vendor);
  pp_db_bind_int(stmt, 5, dev->device);
  pp_db_bind_int(stmt, 6, dev->class_code);
  store_bind_text(stmt, 7, dev->vendor_name);
  store_bind_text(stmt, 8, dev->device_name);
  store_bind_text(stmt, 9, dev->class_name);
  pp_db_bind_int(stmt, 10, dev->numa_node);
  pp_db_bind_int(stmt, 11, dev->iommu_group);
  store_bind_text(stmt, 12, dev->driver);
  store_bind_text(stmt, 13, dev->sriov);
  store_bind_text(stmt, 14, dev->physfn);
  pp_db_bind_text_len(stmt, 15, json, json_len);
  store_bind_text(stmt, 16, dev->host_needs);
  store_bind_text(stmt, 17, endpoints);
  store_bind_text(stmt, 18, dev->perm_mac);
  if (dev->has_vf_index)
    pp_db_bind_int(stmt, 19, (int)dev->vf_index);
  else
    pp_db_bind_null(stmt, 19);
}

/* The group_endpoints column of a record: its addresses comma-separated.
 * Returns: (transfer full) (nullable): NULL when it has none. */
static char *
endpoints_text(const PpProbeDevice *dev)
{
  GString *text;

  if (dev->group_endpoints == NULL)
    return NULL;
  text = g_string_sized_new(dev->n_group_endpoints * PP_PCI_ADDRESS_BUFSIZE);
  for (guint i = 0; i < dev->n_group_endpoints; i++) {
    char buf[PP_PCI_ADDRESS_BUFSIZE];

    if (i > 0)
      g_string_append_c(text, ',');
    g_string_append(text, pp_pci_address_format(&dev->group_endpoints[i], buf));
  }
  return g_string_free(text, FALSE);
}

static gboolean
col_equal(PpDbStmt *stmt, int col, const char *text)
{
  const char *have = store_col_text(stmt, col);

  if (have == NULL || text == NULL)
    return have == NULL && text == NULL;
  return strcmp(have, text) == 0;
}

/* Whether the row (a DEVICE_COLUMNS row) already says what the record
 * says, gone flag included: then it needs no write. */
static gboolean
device_row_matches(PpDbStmt *stmt, const PpProbeDevice *dev, const char *json, gsize json_len,
                   const char *endpoints)
{
  char buf[PP_PCI_ADDRESS_BUFSIZE];

  return pp_db_column_int(stmt, DCOL_GONE) == 0 &&
         col_equal(stmt, DCOL_GROUP_ENDPOINTS, endpoints) &&
         pp_db_column_is_null(stmt, DCOL_SET_ASIDE) &&
         col_equal(stmt, DCOL_HOST_NEEDS, dev->host_needs) &&
         pp_db_column_int(stmt, DCOL_VENDOR) == dev->vendor &&
         pp_db_column_int(stmt, DCOL_DEVICE) == dev->device &&
         pp_db_column_int(stmt, DCOL_CLASS) == dev->class_code &&
         pp_db_column_int(stmt, DCOL_NUMA_NODE) == dev->numa_node &&
         pp_db_column_int(stmt, DCOL_IOMMU_GROUP) == dev->iommu_group &&
         (gsize)pp_db_column_bytes(stmt, DCOL_ATTRIBUTES) == json_len &&
         memcmp(store_col_text(stmt, DCOL_ATTRIBUTES), json, json_len) == 0 &&
         col_equal(stmt, DCOL_SHORT_ADDRESS, pp_pci_address_format_short(&dev->address, buf)) &&
         col_equal(stmt, DCOL_VENDOR_NAME, dev->vendor_name) &&
         col_equal(stmt, DCOL_DEVICE_NAME, dev->device_name) &&
         col_equal(stmt, DCOL_CLASS_NAME, dev->class_name) &&
         col_equal(stmt, DCOL_DRIVER, dev->driver) && col_equal(stmt, DCOL_SRIOV, dev->sriov) &&
         col_equal(stmt, DCOL_PHYSFN, dev->physfn) &&
         col_equal(stmt, DCOL_PERM_MAC, dev->perm_mac) &&
         (pp_db_column_is_null(stmt, DCOL_VF_INDEX)
              ? !dev->has_vf_index
              : dev->has_vf_index && pp_db_column_int(stmt, DCOL_VF_INDEX) == (int)dev->vf_index);
}

/* A known row the report lacks. */
typedef struct {
  gint64 id;
  gboolean held;
  gboolean gone;
} MissingRow;

/* A known row the report has, with something changed. */
typedef struct {
  gint64 id;
  guint index; /* in the report */
} ChangedRow;

/* The body of pp_store_host_reconcile(), inside its transaction;
 * @report_hash: what hosts.report_hash becomes (NULL: a pulled report). */
static gboolean
reconcile_locked(PpStore *store, gint64 host_id, const char *name, const PpProbeReport *report,
                 const char *report_hash, gint64 now, PpReconcileStats *stats, GError **error)
{
  GPtrArray *devices = report->devices;
  g_autoptr(GPtrArray) endpoints = g_ptr_array_new_full(devices->len, g_free);
  g_autoptr(GHashTable) by_address =
      g_hash_table_new(pp_pci_address_hash, pp_pci_address_hash_equal);
  g_autofree gsize *json_at = g_new(gsize, devices->len + 1);
  g_autofree gboolean *known = g_new0(gboolean, devices->len);
  g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(MissingRow));
  g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(ChangedRow));
  GString *json = store->scratch;
  GError *local = NULL;

  /* Each record's JSON, one after the other in the scratch buffer. */
  g_string_truncate(json, 0);
  for (guint i = 0; i < devices->len; i++) {
    const PpProbeDevice *dev = g_ptr_array_index(devices, i);

    json_at[i] = json->len;
    record_append_json(json, (const char *const *)dev->keys, (const char *const *)dev->values);
    g_hash_table_insert(by_address, (gpointer)&dev->address, GUINT_TO_POINTER(i + 1));
    g_ptr_array_add(endpoints, endpoints_text(dev));
  }
  json_at[devices->len] = json->len;

  /* What the store has, against the report. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_LIST, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, host_id);
    while (store_stmt_next(store, stmt, &local, "reading the inventory")) {
      gint64 id = pp_db_column_int64(stmt, DCOL_ID);
      PpPciAddress address;
      guint i;

      if (!col_address(stmt, DCOL_ADDRESS, &address, error))
        return FALSE;
      i = GPOINTER_TO_UINT(g_hash_table_lookup(by_address, &address));

      if (i == 0) {
        MissingRow row = { id, !pp_db_column_is_null(stmt, DCOL_VM_ID),
                           pp_db_column_int(stmt, DCOL_GONE) != 0 };

        g_array_append_val(missing, row);
        continue;
      }
      i--;
      known[i] = TRUE;
      stats->updated++;
      if (!device_row_matches(stmt, g_ptr_array_index(devices, i), json->str + json_at[i],
                              json_at[i + 1] - json_at[i], g_ptr_array_index(endpoints, i))) {
        ChangedRow row = { id, i };

        g_array_append_val(changed, row);
      }
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }

  /* Refresh what changed, clearing gone. */
  if (changed->len > 0) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_UPDATE, error);

    if (stmt == NULL)
      return FALSE;
    for (guint k = 0; k < changed->len; k++) {
      const ChangedRow *row = &g_array_index(changed, ChangedRow, k);
      guint i = row->index;

      pp_db_bind_int64(stmt, 1, row->id);
      bind_device(stmt, g_ptr_array_index(devices, i), json->str + json_at[i],
                  json_at[i + 1] - json_at[i], g_ptr_array_index(endpoints, i));
      if (!store_stmt_run(store, stmt, error, "refreshing a device"))
        return FALSE;
      pp_db_reset(stmt);
    }
  }

  /* Add what is new. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_INSERT, error);

    if (stmt == NULL)
      return FALSE;
    for (guint i = 0; i < devices->len; i++) {
      const PpProbeDevice *dev = g_ptr_array_index(devices, i);

      if (known[i])
        continue;
      pp_db_bind_int64(stmt, 1, host_id);
      bind_device(stmt, dev, json->str + json_at[i], json_at[i + 1] - json_at[i],
                  g_ptr_array_index(endpoints, i));
      if (!store_stmt_run(store, stmt, error, "adding a device")) {
        char buf[PP_PCI_ADDRESS_BUFSIZE];

        g_prefix_error(error, "%s: ", pp_pci_address_format(&dev->address, buf));
        return FALSE;
      }
      pp_db_reset(stmt);
      stats->added++;
    }
  }

  /* Drop what vanished while free; flag what vanished while held. */
  for (guint k = 0; k < missing->len; k++) {
    const MissingRow *row = &g_array_index(missing, MissingRow, k);

    if (!row->held) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_DELETE, error);

      if (stmt == NULL)
        return FALSE;
      pp_db_bind_int64(stmt, 1, row->id);
      if (!store_stmt_run(store, stmt, error, "removing a device"))
        return FALSE;
      stats->removed++;
      continue;
    }
    stats->flagged++;
    if (!row->gone) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_FLAG_GONE, error);

      if (stmt == NULL)
        return FALSE;
      pp_db_bind_int64(stmt, 1, row->id);
      if (!store_stmt_run(store, stmt, error, "flagging a device gone"))
        return FALSE;
      g_debug("host '%s': device %" G_GINT64_FORMAT " is gone while a VM holds it", name, row->id);
    }
  }

  /* The host's facts and state. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_SET_FACTS, error);

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, host_id);
    store_bind_text(stmt, 2, report->hostname);
    pp_db_bind_int64(stmt, 3, report->cpu_count);
    pp_db_bind_int64(stmt, 4, report->memory_kib);
    store_bind_text(stmt, 5, report->kernel_version);
    pp_db_bind_int64(stmt, 6, now);
    store_bind_text(stmt, 7, report_hash);
    if (!store_stmt_run(store, stmt, error, "recording the host's facts"))
      return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_host_reconcile(PpStore *store, gint64 host_id, const PpProbeReport *report, gint64 now,
                        PpReconcileStats *ret_stats, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;
  PpReconcileStats stats = { 0 };

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(report != NULL && report->devices != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "reconciling a host", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  if (!reconcile_locked(store, host_id, name, report, NULL, now, &stats, error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  if (!store_txn_commit(&txn, "reconciling a host", error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  g_debug("host '%s': %u added, %u refreshed, %u removed, %u gone while held", name, stats.added,
          stats.updated, stats.removed, stats.flagged);
  if (ret_stats != NULL)
    *ret_stats = stats;
  return TRUE;
}

gboolean
pp_store_host_ingest(PpStore *store, gint64 host_id, const char *text, gsize len, gint64 now,
                     PpIngestResult *ret_result, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(GChecksum) checksum = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autofree char *name = NULL;
  PpIngestResult result = { 0 };
  const char *hash;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(text != NULL || len == 0, FALSE);

  checksum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(checksum, (const guchar *)(text != NULL ? text : ""), (gssize)len);
  hash = g_checksum_get_string(checksum);

  /* The cheap path: one indexed read, no write, no parse. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_REPORT_STATE, error);
    GError *local = NULL;

    if (stmt == NULL)
      return FALSE;
    pp_db_bind_int64(stmt, 1, host_id);
    if (!store_stmt_next(store, stmt, &local, "reading a host's last report")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                    "no host with id %" G_GINT64_FORMAT, host_id);
      return FALSE;
    }
    if (col_equal(stmt, 0, hash) && pp_db_column_int(stmt, 1) != 0 &&
        pp_db_column_int(stmt, 2) == 0) {
      if (ret_result != NULL)
        *ret_result = result;
      return TRUE;
    }
  }

  report = pp_probe_report_parse(text, len, error);
  if (report == NULL)
    return FALSE;
  result.changed = TRUE;
  result.devices = report->devices->len;
  if (!store_txn_begin(store, &txn, "ingesting a report", error))
    return FALSE;
  name = store_host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  if (!reconcile_locked(store, host_id, name, report, hash, now, &result.stats, error) ||
      !store_txn_commit(&txn, "ingesting a report", error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  g_debug("host '%s': pushed report: %u added, %u refreshed, %u removed, %u gone while held", name,
          result.stats.added, result.stats.updated, result.stats.removed, result.stats.flagged);
  if (ret_result != NULL)
    *ret_result = result;
  return TRUE;
}

gboolean
pp_store_host_ingest_probe(PpStore *store, gint64 host_id, const char *text, gsize len, gint64 now,
                           PpIngestResult *ret_result, GError **error)
{
  PpIngestResult result = { 0 };
  g_autoptr(StoreStmt) stmt = NULL;

  if (!pp_store_host_ingest(store, host_id, text, len, now, &result, error))
    return FALSE;
  if (ret_result != NULL)
    *ret_result = result;
  if (result.changed)
    return TRUE; /* reconciled: last_monitored is set */
  stmt = store_stmt(store, STMT_HOST_TOUCH_MONITORED, error);
  if (stmt == NULL)
    return FALSE;
  pp_db_bind_int64(stmt, 1, host_id);
  pp_db_bind_int64(stmt, 2, now);
  return store_stmt_run(store, stmt, error, "recording an unchanged probe");
}
