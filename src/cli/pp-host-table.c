#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <string.h>

#include "pp-host-table.h"

/* The widths of the --pci-columns extras; CLASS and VENDOR are cut. */
#define IOMMU_WIDTH 5
#define NUMA_WIDTH 4
#define DRIVER_WIDTH 10
#define OFFER_WIDTH 7
#define CLASS_WIDTH 30
#define VENDOR_MAX 50

/* " (gone)": the mark of a device gone from its host. */
#define GONE_MARK " (gone)"
/* The VM cell of a device another user's VM holds (5 characters: the
 * column's width). */
#define TAKEN_MARK "taken"

/* @text made safe for a terminal and cut to @max characters (0: no
 * limit): tabs, newlines and carriage returns become a space, other C0
 * and C1 controls and DEL '?'; invalid UTF-8 becomes U+FFFD. */
static char *
clean_text(const char *text, guint max)
{
  g_autofree char *valid = g_utf8_make_valid(text, -1);
  GString *out = g_string_sized_new(strlen(valid));
  guint n = 0;

  for (const char *p = valid; *p != '\0' && (max == 0 || n < max); p = g_utf8_next_char(p), n++) {
    gunichar c = g_utf8_get_char(p);

    if (c == '\t' || c == '\n' || c == '\r')
      g_string_append_c(out, ' ');
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
      g_string_append_c(out, '?');
    else
      g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

/* A string field, or NULL when missing, null or not a string. */
static const char *
get_str(const json_t *obj, const char *key)
{
  return json_string_value(json_object_get(obj, key));
}

/* A JSON scalar as a cell: strings cleaned, integers in decimal, booleans
 * "yes"/"no", anything else "-". */
static char *
scalar_text(const json_t *value, guint max)
{
  if (json_is_string(value) && json_string_length(value) > 0)
    return clean_text(json_string_value(value), max);
  if (json_is_integer(value))
    return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(value));
  if (json_is_boolean(value))
    return g_strdup(json_is_true(value) ? "yes" : "no");
  return g_strdup("-");
}

static char *
field_text(const json_t *obj, const char *key)
{
  return scalar_text(json_object_get(obj, key), 0);
}

/* Appends @text padded with spaces to @width characters, on the left for
 * @right. A wider @text is appended whole. */
static void
append_cell(GString *line, const char *text, guint width, gboolean right)
{
  glong len = g_utf8_strlen(text, -1);
  guint pad = len < (glong)width ? width - (guint)len : 0;

  if (right)
    for (guint i = 0; i < pad; i++)
      g_string_append_c(line, ' ');
  g_string_append(line, text);
  if (!right)
    for (guint i = 0; i < pad; i++)
      g_string_append_c(line, ' ');
}

/* Ends the row in @line: trailing spaces off, a newline on, onto @out. */
static void
end_row(GString *out, GString *line)
{
  while (line->len > 0 && line->str[line->len - 1] == ' ')
    g_string_truncate(line, line->len - 1);
  g_string_append_len(out, line->str, line->len);
  g_string_append_c(out, '\n');
  g_string_truncate(line, 0);
}

/* A table whose columns are as wide as their widest cell. */
typedef PpTableColumn Column;

char *
pp_host_table_render_stream(const PpTableColumn *columns, guint n_columns, const GPtrArray *cells,
                            const guint *min_widths, PpTableStream *stream)
{
  g_autoptr(GString) line = g_string_new(NULL);
  GString *out = g_string_new(NULL);

  g_return_val_if_fail(n_columns > 0 && n_columns <= PP_TABLE_MAX_COLUMNS, NULL);
  g_return_val_if_fail(cells->len % n_columns == 0, NULL);

  if (!stream->started) {
    stream->started = TRUE;
    for (guint c = 0; c < n_columns; c++) {
      stream->widths[c] = (guint)g_utf8_strlen(columns[c].header, -1);
      if (min_widths != NULL)
        stream->widths[c] = MAX(stream->widths[c], min_widths[c]);
    }
    for (guint i = 0; i < cells->len; i++) {
      guint len = (guint)g_utf8_strlen(g_ptr_array_index(cells, i), -1);

      stream->widths[i % n_columns] = MAX(stream->widths[i % n_columns], len);
    }
    for (guint c = 0; c < n_columns; c++) {
      if (c > 0)
        g_string_append_c(line, ' ');
      append_cell(line, columns[c].header, stream->widths[c], columns[c].right);
    }
    end_row(out, line);
  }
  for (guint i = 0; i < cells->len; i++) {
    guint c = i % n_columns;

    if (c > 0)
      g_string_append_c(line, ' ');
    append_cell(line, g_ptr_array_index(cells, i), stream->widths[c], columns[c].right);
    if (c == n_columns - 1)
      end_row(out, line);
  }
  return g_string_free(out, FALSE);
}

/* @cells: rows × @n_columns strings, row by row. */
static char *
render_table(const Column *columns, guint n_columns, const GPtrArray *cells)
{
  PpTableStream stream = { 0 };

  return pp_host_table_render_stream(columns, n_columns, cells, NULL, &stream);
}

char *
pp_host_table_render(const PpTableColumn *columns, guint n_columns, const GPtrArray *cells)
{
  g_return_val_if_fail(n_columns > 0 && cells->len % n_columns == 0, NULL);
  return render_table(columns, n_columns, cells);
}

char *
pp_host_table_clean(const char *text)
{
  if (text == NULL || text[0] == '\0')
    return g_strdup("-");
  return clean_text(text, 0);
}

char *
pp_host_table_cell(const json_t *value)
{
  if (json_is_string(value))
    return pp_host_table_clean(json_string_value(value));
  if (json_is_integer(value))
    return g_strdup_printf("%" JSON_INTEGER_FORMAT, json_integer_value(value));
  return g_strdup("-");
}

char *
pp_host_table_field(const json_t *obj, const char *key)
{
  return pp_host_table_cell(json_object_get(obj, key));
}

char *
pp_host_table_ago(const json_t *when, gint64 now)
{
  gint64 delta;

  if (!json_is_integer(when))
    return g_strdup("never");
  delta = now - (gint64)json_integer_value(when);
  if (delta < 0)
    delta = 0;
  if (delta < 60)
    return g_strdup_printf("%" G_GINT64_FORMAT "s ago", delta);
  if (delta < 3600)
    return g_strdup_printf("%" G_GINT64_FORMAT "m ago", delta / 60);
  if (delta < 86400)
    return g_strdup_printf("%" G_GINT64_FORMAT "h ago", delta / 3600);
  return g_strdup_printf("%" G_GINT64_FORMAT "d ago", delta / 86400);
}

/* Whether @dev, needed by the host and not allowed on purpose, keeps
 * itself and its IOMMU group from VMs. */
static gboolean
needed_not_allowed(const json_t *dev)
{
  return get_str(dev, "host_needs") != NULL && !json_is_true(json_object_get(dev, "allowed"));
}

/* Whether @address is one of @dev's IOMMU group endpoints (the probe's
 * IOMMU_GROUP_ENDPOINTS, a comma-separated list of addresses). */
static gboolean
group_holds(const json_t *dev, const char *address)
{
  const char *list = get_str(json_object_get(dev, "attributes"), "IOMMU_GROUP_ENDPOINTS");
  g_auto(GStrv) endpoints = NULL;

  if (list == NULL || address == NULL)
    return FALSE;
  endpoints = g_strsplit(list, ",", -1);
  return g_strv_contains((const char *const *)endpoints, address);
}

/* Whether pcipassd offers @dev to VMs, as placement decides it: "no" when
 * the host needs it, a deploy set it aside, or its IOMMU group holds a
 * device the host needs; "allowed" when the host needs it and an
 * administrator allowed it all the same; else "yes". @ret_why (nullable):
 * (transfer full) why not, or NULL. */
static const char *
offer_status(const json_t *devices, const json_t *dev, char **ret_why)
{
  const char *address = get_str(dev, "address");
  const json_t *other;
  size_t i;

  *ret_why = NULL;
  if (needed_not_allowed(dev)) {
    *ret_why = g_strdup_printf("the host needs it: it %s", get_str(dev, "host_needs"));
    return "no";
  }
  if (get_str(dev, "set_aside") != NULL) {
    *ret_why =
        g_strdup_printf("set aside until a probe reports it again: %s", get_str(dev, "set_aside"));
    return "no";
  }
  json_array_foreach(devices, i, other)
  {
    const char *other_address = get_str(other, "address");

    if (other != dev && needed_not_allowed(other) && g_strcmp0(other_address, address) != 0 &&
        group_holds(dev, other_address)) {
      g_autofree char *group = field_text(dev, "iommu_group");

      *ret_why = g_strdup_printf("its IOMMU group %s holds %s, which the host needs", group,
                                 other_address);
      return "no";
    }
  }
  return get_str(dev, "host_needs") != NULL ? "allowed" : "yes";
}

/* The NAME cell: the device name, " (gone)" for a gone device, at most
 * PP_HOST_TABLE_NAME_WIDTH characters in all. */
static char *
name_cell(const json_t *dev)
{
  const char *name = get_str(dev, "device_name");
  gboolean gone = json_is_true(json_object_get(dev, "gone"));
  guint max = PP_HOST_TABLE_NAME_WIDTH - (gone ? strlen(GONE_MARK) : 0);
  g_autofree char *cut = clean_text(name != NULL ? name : "", max);

  return g_strconcat(cut, gone ? GONE_MARK : "", NULL);
}

char *
pp_host_table_pci(const json_t *devices, PpHostTableFlags flags)
{
  gboolean extra = (flags & PP_HOST_TABLE_PCI_COLUMNS) != 0;
  g_autoptr(GString) line = g_string_new(NULL);
  GString *out = g_string_new("PCI DEVICES\n\n");
  const json_t *dev;
  size_t i;

  append_cell(line, "VM", 5, TRUE);
  g_string_append_c(line, ' ');
  append_cell(line, "ADDR", 7, FALSE);
  g_string_append_c(line, ' ');
  append_cell(line, "TYPE", 14, FALSE);
  g_string_append_c(line, ' ');
  append_cell(line, "NAME", extra ? PP_HOST_TABLE_NAME_WIDTH : 0, FALSE);
  if (extra) {
    g_string_append_c(line, ' ');
    append_cell(line, "IOMMU", IOMMU_WIDTH, TRUE);
    g_string_append_c(line, ' ');
    append_cell(line, "NUMA", NUMA_WIDTH, TRUE);
    g_string_append_c(line, ' ');
    append_cell(line, "DRIVER", DRIVER_WIDTH, FALSE);
    g_string_append_c(line, ' ');
    append_cell(line, "OFFER", OFFER_WIDTH, FALSE);
    g_string_append_c(line, ' ');
    append_cell(line, "CLASS", CLASS_WIDTH, FALSE);
    g_string_append(line, " VENDOR");
  }
  end_row(out, line);

  json_array_foreach(devices, i, dev)
  {
    const json_t *vm = json_object_get(dev, "vm");
    gboolean taken = json_is_true(json_object_get(dev, "taken"));
    g_autofree char *vm_text =
        vm == NULL || json_is_null(vm) ? g_strdup(taken ? TAKEN_MARK : "") : scalar_text(vm, 0);
    g_autofree char *addr = field_text(dev, "short_address");
    g_autofree char *type = field_text(dev, "type");
    g_autofree char *name = name_cell(dev);

    append_cell(line, vm_text, 5, TRUE);
    g_string_append_c(line, ' ');
    append_cell(line, addr, 7, FALSE);
    g_string_append_c(line, ' ');
    append_cell(line, type, 14, FALSE);
    g_string_append_c(line, ' ');
    append_cell(line, name, extra ? PP_HOST_TABLE_NAME_WIDTH : 0, FALSE);
    if (extra) {
      g_autofree char *group = field_text(dev, "iommu_group");
      g_autofree char *numa = field_text(dev, "numa_node");
      g_autofree char *driver = field_text(dev, "driver");
      g_autofree char *class_name = scalar_text(json_object_get(dev, "class_name"), CLASS_WIDTH);
      g_autofree char *vendor = scalar_text(json_object_get(dev, "vendor_name"), VENDOR_MAX);
      g_autofree char *why = NULL;
      const char *offer = offer_status(devices, dev, &why);

      g_string_append_c(line, ' ');
      append_cell(line, group, IOMMU_WIDTH, TRUE);
      g_string_append_c(line, ' ');
      append_cell(line, numa, NUMA_WIDTH, TRUE);
      g_string_append_c(line, ' ');
      append_cell(line, driver, DRIVER_WIDTH, FALSE);
      g_string_append_c(line, ' ');
      append_cell(line, offer, OFFER_WIDTH, FALSE);
      g_string_append_c(line, ' ');
      append_cell(line, class_name, CLASS_WIDTH, FALSE);
      g_string_append_c(line, ' ');
      g_string_append(line, vendor);
    }
    end_row(out, line);
  }
  return g_string_free(out, FALSE);
}

/* "user@host:port", "host:port", "host", or "-". */
static char *
ssh_text(const json_t *ssh)
{
  const char *user = get_str(ssh, "user");
  const char *host = get_str(ssh, "host");
  const json_t *port = json_object_get(ssh, "port");
  g_autoptr(GString) out = g_string_new(NULL);

  if (host == NULL)
    return g_strdup("-");
  if (user != NULL)
    g_string_append_printf(out, "%s@", user);
  g_string_append(out, host);
  if (json_is_integer(port))
    g_string_append_printf(out, ":%" JSON_INTEGER_FORMAT, json_integer_value(port));
  return clean_text(out->str, 0);
}

/* A word of the probe command as a shell would read it back: as is when
 * it has only harmless characters, else in single quotes. */
static void
append_word(GString *out, const char *word)
{
  gboolean plain = word[0] != '\0';

  for (const char *p = word; *p != '\0'; p++)
    if (!g_ascii_isalnum(*p) && strchr("-_./:=@%+,", *p) == NULL)
      plain = FALSE;
  if (plain) {
    g_string_append(out, word);
  } else {
    g_autofree char *quoted = g_shell_quote(word);

    g_string_append(out, quoted);
  }
}

static char *
command_text(const json_t *argv)
{
  g_autoptr(GString) out = g_string_new(NULL);
  const json_t *word;
  size_t i;

  if (!json_is_array(argv) || json_array_size(argv) == 0)
    return g_strdup("-");
  json_array_foreach(argv, i, word)
  {
    if (i > 0)
      g_string_append_c(out, ' ');
    if (json_is_string(word))
      append_word(out, json_string_value(word));
    else
      g_string_append_c(out, '?');
  }
  return clean_text(out->str, 0);
}

/* KiB as "15.5 GiB", "512.0 MiB" or "900 KiB". */
static char *
memory_text(const json_t *kib)
{
  gint64 n;

  if (!json_is_integer(kib) || json_integer_value(kib) < 0)
    return g_strdup("-");
  n = (gint64)json_integer_value(kib);
  if (n >= 1024 * 1024)
    return g_strdup_printf("%.1f GiB", (double)n / (1024.0 * 1024.0));
  if (n >= 1024)
    return g_strdup_printf("%.1f MiB", (double)n / 1024.0);
  return g_strdup_printf("%" G_GINT64_FORMAT " KiB", n);
}

static void
append_fact(GString *out, const char *label, const char *value)
{
  g_string_append_printf(out, "%-14s : %s\n", label, value);
}

/* After the PCI table: the devices pcipassd does not offer and why, and
 * the needed ones an administrator allowed; nothing when there are none. */
static void
append_offer_notes(GString *out, const json_t *devices, const json_t *allowances, gint64 now)
{
  g_autoptr(GString) notes = g_string_new(NULL);
  const json_t *item;
  size_t i;

  json_array_foreach(devices, i, item)
  {
    g_autofree char *why = NULL;
    g_autofree char *addr = field_text(item, "short_address");
    g_autofree char *clean = NULL;

    offer_status(devices, item, &why);
    if (why == NULL)
      continue;
    clean = clean_text(why, 0);
    g_string_append_printf(notes, "%-7s %s\n", addr, clean);
  }
  if (notes->len > 0)
    g_string_append_printf(out, "\nNOT OFFERED TO VMS\n\n%s", notes->str);
  g_string_truncate(notes, 0);
  json_array_foreach(allowances, i, item)
  {
    g_autofree char *addr = field_text(item, "address");
    g_autofree char *by = field_text(item, "by");
    g_autofree char *when = pp_host_table_ago(json_object_get(item, "created"), now);

    g_string_append_printf(notes, "%s by %s, %s\n", addr, by, when);
  }
  if (notes->len > 0)
    g_string_append_printf(out, "\nNEEDED BY THE HOST, ALLOWED TO VMS ON PURPOSE\n\n%s",
                           notes->str);
}

/* An address as lspci shows it: without the domain when it is 0000. */
static char *
short_pci_text(const json_t *dev, const char *key)
{
  const char *text = get_str(dev, key);

  if (text == NULL || text[0] == '\0')
    return g_strdup("-");
  return clean_text(g_str_has_prefix(text, "0000:") ? text + 5 : text, 0);
}

char *
pp_host_table_nics(const json_t *devices)
{
  static const Column columns[] = {
    { "ADDR", FALSE },
    { "PERM MAC", FALSE },
    { "PF", FALSE },
    { "VF", TRUE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *table = NULL;
  const json_t *dev;
  size_t i;

  json_array_foreach(devices, i, dev)
  {
    const json_t *vf = json_object_get(dev, "vf_index");

    if (get_str(dev, "perm_mac") == NULL && get_str(dev, "pf") == NULL && !json_is_integer(vf))
      continue;
    g_ptr_array_add(cells, field_text(dev, "short_address"));
    g_ptr_array_add(cells, field_text(dev, "perm_mac"));
    g_ptr_array_add(cells, short_pci_text(dev, "pf"));
    g_ptr_array_add(cells, field_text(dev, "vf_index"));
  }
  if (cells->len == 0)
    return g_strdup("");
  table = render_table(columns, G_N_ELEMENTS(columns), cells);
  return g_strconcat("\nNETWORK FUNCTIONS\n\n", table, NULL);
}

char *
pp_host_table_show(const json_t *host, gint64 now, PpHostTableFlags flags)
{
  const json_t *facts = json_object_get(host, "facts");
  const char *error = get_str(host, "error");
  const char *libvirt_error = get_str(host, "libvirt_error");
  GString *out = g_string_new(NULL);
  g_autofree char *id = field_text(host, "id");
  g_autofree char *name = field_text(host, "name");
  g_autofree char *state = field_text(host, "state");
  g_autofree char *ssh = ssh_text(json_object_get(host, "ssh"));
  g_autofree char *uri = field_text(host, "libvirt_uri");
  g_autofree char *command = command_text(json_object_get(host, "probe_command"));
  g_autofree char *hostname = field_text(facts, "hostname");
  g_autofree char *cpus = field_text(facts, "cpu_count");
  g_autofree char *memory = memory_text(json_object_get(facts, "memory_kib"));
  g_autofree char *kernel = field_text(facts, "kernel_version");
  g_autofree char *monitored = pp_host_table_ago(json_object_get(host, "last_monitored"), now);
  g_autofree char *table = pp_host_table_pci(json_object_get(host, "pci_devices"), flags);
  g_autofree char *nics = pp_host_table_nics(json_object_get(host, "pci_devices"));

  append_fact(out, "ID", id);
  append_fact(out, "NAME", name);
  append_fact(out, "STATE", state);
  if (error != NULL && error[0] != '\0') {
    g_autofree char *clean = clean_text(error, 0);

    append_fact(out, "ERROR", clean);
  }
  if (libvirt_error != NULL && libvirt_error[0] != '\0') {
    g_autofree char *clean = clean_text(libvirt_error, 0);

    append_fact(out, "LIBVIRT ERROR", clean);
  }
  /* A user who is not an admin is not told how hosts are reached: the
   * fields are not in its answer, and their lines not in the text. */
  if (json_object_get(host, "ssh") != NULL)
    append_fact(out, "SSH", ssh);
  if (json_object_get(host, "libvirt_uri") != NULL)
    append_fact(out, "LIBVIRT URI", uri);
  append_fact(out, "HOSTDEV",
              json_is_true(json_object_get(host, "prebound")) ? "prebound (managed='no')"
                                                              : "managed");
  if (json_object_get(host, "probe_command") != NULL)
    append_fact(out, "PROBE COMMAND", command);
  if (json_is_string(json_object_get(host, "context_pool")))
    append_fact(out, "CONTEXT POOL", json_string_value(json_object_get(host, "context_pool")));
  append_fact(out, "HOSTNAME", hostname);
  append_fact(out, "CPUS", cpus);
  append_fact(out, "MEMORY", memory);
  append_fact(out, "KERNEL", kernel);
  append_fact(out, "LAST MONITORED", monitored);
  /* Push hosts send their reports (pcipass-probe --push); an unchanged
   * one refreshes no LAST MONITORED, only this. */
  if (g_strcmp0(get_str(host, "reports"), "pushed") == 0) {
    const json_t *last = json_object_get(host, "last_report");
    g_autofree char *ago = pp_host_table_ago(last, now);
    g_autofree char *reports = json_is_integer(last)
                                   ? g_strdup_printf("pushed by the host, the last one %s", ago)
                                   : g_strdup("pushed by the host, none since pcipassd started");

    append_fact(out, "REPORTS", reports);
  }
  g_string_append_c(out, '\n');
  g_string_append(out, table);
  g_string_append(out, nics);
  append_offer_notes(out, json_object_get(host, "pci_devices"), json_object_get(host, "allowances"),
                     now);
  return g_string_free(out, FALSE);
}

char *
pp_host_table_list_stream(const json_t *hosts, gint64 now, gboolean more, PpTableStream *stream)
{
  static const Column columns[] = {
    { "ID", TRUE }, { "NAME", FALSE }, { "STATE", FALSE }, { "PCI", FALSE }, { "MONITORED", FALSE },
  };
  /* When more pages follow: room for what they may hold. */
  static const guint min_widths[G_N_ELEMENTS(columns)] = { 6, 20, 9, 7, 8 };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *host;
  size_t i;

  json_array_foreach(hosts, i, host)
  {
    const json_t *free_count = json_object_get(host, "pci_free");
    const json_t *total = json_object_get(host, "pci_total");

    g_ptr_array_add(cells, field_text(host, "id"));
    g_ptr_array_add(cells, field_text(host, "name"));
    g_ptr_array_add(cells, field_text(host, "state"));
    if (json_is_integer(free_count) && json_is_integer(total))
      g_ptr_array_add(cells,
                      g_strdup_printf("%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT,
                                      json_integer_value(free_count), json_integer_value(total)));
    else
      g_ptr_array_add(cells, g_strdup("-"));
    g_ptr_array_add(cells, pp_host_table_ago(json_object_get(host, "last_monitored"), now));
  }
  return pp_host_table_render_stream(columns, G_N_ELEMENTS(columns), cells,
                                     more ? min_widths : NULL, stream);
}

char *
pp_host_table_list(const json_t *hosts, gint64 now)
{
  PpTableStream stream = { 0 };

  return pp_host_table_list_stream(hosts, now, FALSE, &stream);
}

char *
pp_host_table_users(const json_t *users, gint64 now)
{
  static const Column columns[] = {
    { "ID", TRUE },
    { "NAME", FALSE },
    { "ADMIN", FALSE },
    { "CREATED", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *user;
  size_t i;

  json_array_foreach(users, i, user)
  {
    g_ptr_array_add(cells, field_text(user, "id"));
    g_ptr_array_add(cells, field_text(user, "name"));
    g_ptr_array_add(cells, g_strdup(json_is_true(json_object_get(user, "admin")) ? "yes" : "no"));
    g_ptr_array_add(cells, pp_host_table_ago(json_object_get(user, "created"), now));
  }
  return render_table(columns, G_N_ELEMENTS(columns), cells);
}

/* A USER's QUOTA value: an integer, a number (CPU: up to two decimals),
 * "unlimited" for null. */
static char *
quota_cell(const json_t *value)
{
  if (json_is_null(value))
    return g_strdup("unlimited");
  if (json_is_real(value)) {
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_autofree char *text =
        g_strdup(g_ascii_formatd(buf, sizeof(buf), "%.2f", json_real_value(value)));
    gsize len = strlen(text);

    /* "2.50" -> "2.5", "4.00" -> "4". */
    while (len > 0 && text[len - 1] == '0')
      text[--len] = '\0';
    if (len > 0 && text[len - 1] == '.')
      text[--len] = '\0';
    return g_steal_pointer(&text);
  }
  return scalar_text(value, 0);
}

char *
pp_host_table_user(const json_t *user, gint64 now)
{
  static const Column columns[] = { { "QUOTA", FALSE }, { "USED", TRUE }, { "LIMIT", TRUE } };
  static const struct {
    const char *key;
    const char *label;
  } items[] = {
    { "vms", "VMS" },
    { "cpu", "CPU" },
    { "memory_mib", "MEMORY (MIB)" },
    { "pci", "PCI DEVICES" },
    { "leases", "NETWORK LEASES" },
  };
  const json_t *quota = json_object_get(user, "quota");
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *id = field_text(user, "id");
  g_autofree char *name = field_text(user, "name");
  g_autofree char *created = pp_host_table_ago(json_object_get(user, "created"), now);
  g_autofree char *table = NULL;
  GString *out = g_string_new(NULL);
  const json_t *c;
  size_t i;

  append_fact(out, "ID", id);
  append_fact(out, "NAME", name);
  append_fact(out, "ADMIN", json_is_true(json_object_get(user, "admin")) ? "yes" : "no");
  append_fact(out, "CREATED", created);
  for (guint k = 0; k < G_N_ELEMENTS(items); k++) {
    const json_t *item = json_object_get(quota, items[k].key);

    g_ptr_array_add(cells, g_strdup(items[k].label));
    g_ptr_array_add(cells, quota_cell(json_object_get(item, "used")));
    g_ptr_array_add(cells, quota_cell(json_object_get(item, "limit")));
  }
  json_array_foreach(json_object_get(quota, "pci_classes"), i, c)
  {
    g_autofree char *code = field_text(c, "class");

    g_ptr_array_add(cells, g_strdup_printf("PCI CLASS %s", code));
    g_ptr_array_add(cells, quota_cell(json_object_get(c, "used")));
    g_ptr_array_add(cells, quota_cell(json_object_get(c, "limit")));
  }
  table = render_table(columns, G_N_ELEMENTS(columns), cells);
  g_string_append_c(out, '\n');
  g_string_append(out, table);
  return g_string_free(out, FALSE);
}

/* "never" for null, "in 3d" ahead of @now (the units of
 * pp_host_table_ago()), "expired" at or after it. */
static char *
expiry_text(const json_t *when, gint64 now)
{
  gint64 left;

  if (!json_is_integer(when))
    return g_strdup("never");
  left = (gint64)json_integer_value(when) - now;
  if (left <= 0)
    return g_strdup("expired");
  if (left < 60)
    return g_strdup_printf("in %" G_GINT64_FORMAT "s", left);
  if (left < 3600)
    return g_strdup_printf("in %" G_GINT64_FORMAT "m", left / 60);
  if (left < 86400)
    return g_strdup_printf("in %" G_GINT64_FORMAT "h", left / 3600);
  return g_strdup_printf("in %" G_GINT64_FORMAT "d", left / 86400);
}

char *
pp_host_table_tokens(const json_t *tokens, gint64 now)
{
  static const Column columns[] = {
    { "ID", TRUE },       { "USER", FALSE },      { "NAME", FALSE },
    { "CREATED", FALSE }, { "LAST USED", FALSE }, { "EXPIRES", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *token;
  size_t i;

  json_array_foreach(tokens, i, token)
  {
    g_ptr_array_add(cells, field_text(token, "id"));
    g_ptr_array_add(cells, field_text(token, "user"));
    g_ptr_array_add(cells, field_text(token, "name"));
    g_ptr_array_add(cells, pp_host_table_ago(json_object_get(token, "created"), now));
    g_ptr_array_add(cells, pp_host_table_ago(json_object_get(token, "last_used"), now));
    g_ptr_array_add(cells, expiry_text(json_object_get(token, "expires"), now));
  }
  return render_table(columns, G_N_ELEMENTS(columns), cells);
}

char *
pp_host_table_types(const json_t *types)
{
  static const Column columns[] = {
    { "TYPE", FALSE }, { "FREE", TRUE },   { "TOTAL", TRUE },
    { "HOSTS", TRUE }, { "CLASS", FALSE }, { "NAME", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *type;
  size_t i;

  json_array_foreach(types, i, type)
  {
    g_autofree char *vendor = field_text(type, "vendor_name");
    g_autofree char *device = field_text(type, "device_name");

    g_ptr_array_add(cells, field_text(type, "type"));
    g_ptr_array_add(cells, field_text(type, "free"));
    g_ptr_array_add(cells, field_text(type, "total"));
    g_ptr_array_add(cells, field_text(type, "hosts"));
    g_ptr_array_add(cells, field_text(type, "class_name"));
    g_ptr_array_add(cells, g_strdup_printf("%s %s", vendor, device));
  }
  return render_table(columns, G_N_ELEMENTS(columns), cells);
}
