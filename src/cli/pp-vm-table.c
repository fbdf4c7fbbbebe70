#define G_LOG_DOMAIN "pcipass"

#include "config.h"

#include <string.h>

#include "pp-host-table.h"
#include "pp-vm-table.h"

/* The widest NAME of a device; longer names are cut. */
#define NAME_WIDTH 50

/* The widest index of a PCI request in PCI REQUESTS. */
#define INDEX_WIDTH 3

/* @text cleaned and cut to @max characters. */
static char *
cut_text(const char *text, glong max)
{
  g_autofree char *clean = pp_host_table_clean(text);

  if (g_utf8_strlen(clean, -1) <= max)
    return g_steal_pointer(&clean);
  return g_utf8_substring(clean, 0, max);
}

/* The name of a VM's or a PLACE's host ({"id", "name"}), or "-". */
static char *
host_text(const json_t *host)
{
  return pp_host_table_field(host, "name");
}

char *
pp_vm_table_age(const json_t *when, gint64 now)
{
  gint64 delta;

  if (!json_is_integer(when))
    return g_strdup("-");
  delta = now - (gint64)json_integer_value(when);
  if (delta < 0)
    delta = 0;
  if (delta < 60)
    return g_strdup_printf("%" G_GINT64_FORMAT "s", delta);
  if (delta < 3600)
    return g_strdup_printf("%" G_GINT64_FORMAT "m", delta / 60);
  if (delta < 86400)
    return g_strdup_printf("%" G_GINT64_FORMAT "h", delta / 3600);
  return g_strdup_printf("%" G_GINT64_FORMAT "d", delta / 86400);
}

char *
pp_vm_table_cpu(const json_t *cpu)
{
  double value;
  gint64 hundredths;

  if (!json_is_number(cpu))
    return g_strdup("-");
  value = json_number_value(cpu);
  /* Also false for NaN. */
  if (!(value >= 0 && value < 1e12))
    return g_strdup("-");
  hundredths = (gint64)(value * 100 + 0.5);
  if (hundredths % 100 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT, hundredths / 100);
  if (hundredths % 10 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, hundredths / 100,
                           hundredths % 100 / 10);
  return g_strdup_printf("%" G_GINT64_FORMAT ".%02" G_GINT64_FORMAT, hundredths / 100,
                         hundredths % 100);
}

/* MiB as "4G" when a whole number of GiB, else "1536M"; "-" when not a
 * count. */
static char *
memory_short(const json_t *mib)
{
  json_int_t n;

  if (!json_is_integer(mib) || json_integer_value(mib) < 0)
    return g_strdup("-");
  n = json_integer_value(mib);
  if (n > 0 && n % 1024 == 0)
    return g_strdup_printf("%" JSON_INTEGER_FORMAT "G", n / 1024);
  return g_strdup_printf("%" JSON_INTEGER_FORMAT "M", n);
}

char *
pp_vm_table_list_stream(const json_t *vms, gint64 now, gboolean more, PpTableStream *stream)
{
  static const PpTableColumn columns[] = {
    { "ID", TRUE },      { "NAME", FALSE }, { "OWNER", FALSE },
    { "STATE", FALSE },  { "HOST", FALSE }, { "CPU", FALSE },
    { "MEMORY", FALSE }, { "PCI", TRUE },   { "AGE", FALSE },
  };
  /* When more pages follow: room for what they may hold. */
  static const guint min_widths[G_N_ELEMENTS(columns)] = { 7, 20, 12, 11, 16, 4, 6, 3, 3 };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *vm;
  size_t i;

  json_array_foreach(vms, i, vm)
  {
    const json_t *devices = json_object_get(vm, "devices");
    const json_t *held = json_object_get(vm, "devices_held");

    g_ptr_array_add(cells, pp_host_table_field(vm, "id"));
    g_ptr_array_add(cells, pp_host_table_field(vm, "name"));
    g_ptr_array_add(cells, pp_host_table_field(vm, "owner"));
    g_ptr_array_add(cells, pp_host_table_field(vm, "state"));
    g_ptr_array_add(cells, host_text(json_object_get(vm, "host")));
    g_ptr_array_add(cells, pp_vm_table_cpu(json_object_get(vm, "cpu")));
    g_ptr_array_add(cells, memory_short(json_object_get(vm, "memory_mib")));
    /* A list's light row counts them; a VM object lists them. */
    if (json_is_integer(held))
      g_ptr_array_add(cells, pp_host_table_cell(held));
    else if (json_is_array(devices))
      g_ptr_array_add(cells, g_strdup_printf("%zu", json_array_size(devices)));
    else
      g_ptr_array_add(cells, g_strdup("-"));
    g_ptr_array_add(cells, pp_vm_table_age(json_object_get(vm, "created"), now));
  }
  return pp_host_table_render_stream(columns, G_N_ELEMENTS(columns), cells,
                                     more ? min_widths : NULL, stream);
}

char *
pp_vm_table_list(const json_t *vms, gint64 now)
{
  PpTableStream stream = { 0 };

  return pp_vm_table_list_stream(vms, now, FALSE, &stream);
}

char *
pp_vm_table_devices(const json_t *devices, gboolean topology)
{
  static const PpTableColumn columns[] = {
    { "REQ", TRUE },   { "ADDR", FALSE }, { "TYPE", FALSE },
    { "NAME", FALSE }, { "NUMA", TRUE },  { "IOMMU", TRUE },
  };
  guint n_columns = topology ? G_N_ELEMENTS(columns) : 4;
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *table = NULL;
  const json_t *dev;
  size_t i;

  /* A pending or released VM holds none: say so rather than draw an empty
   * table. */
  if (json_array_size(devices) == 0)
    return g_strdup("PCI DEVICES\n\n  none\n");
  json_array_foreach(devices, i, dev)
  {
    const json_t *request = json_object_get(dev, "request");
    const char *addr = json_string_value(json_object_get(dev, "short_address"));
    const char *name = json_string_value(json_object_get(dev, "name"));

    if (addr == NULL || addr[0] == '\0')
      addr = json_string_value(json_object_get(dev, "address"));
    g_ptr_array_add(cells, pp_host_table_cell(request));
    g_ptr_array_add(cells, pp_host_table_clean(addr));
    g_ptr_array_add(cells, pp_host_table_field(dev, "type"));
    g_ptr_array_add(cells, cut_text(name, NAME_WIDTH));
    if (topology) {
      g_ptr_array_add(cells, pp_host_table_field(dev, "numa_node"));
      g_ptr_array_add(cells, pp_host_table_field(dev, "iommu_group"));
    }
  }
  table = pp_host_table_render(columns, n_columns, cells);
  return g_strconcat("PCI DEVICES\n\n", table, NULL);
}

char *
pp_vm_table_explanation(const json_t *explanation)
{
  GString *out = g_string_new(NULL);
  const json_t *entry;
  size_t i;

  json_array_foreach(explanation, i, entry)
  {
    g_autofree char *host = pp_host_table_field(entry, "host");
    g_autofree char *reason = pp_host_table_field(entry, "reason");
    const json_t *count = json_object_get(entry, "hosts_count");

    if (json_is_integer(count) && json_integer_value(count) > 1) {
      /* A group of hosts: how many, why, the first few, and the first's
       * own words. */
      g_autofree char *summary = pp_host_table_field(entry, "summary");
      const json_t *names = json_object_get(entry, "hosts");
      const json_t *name;
      size_t k;

      g_string_append_printf(out, "  %" JSON_INTEGER_FORMAT " hosts: %s (",
                             json_integer_value(count), summary);
      json_array_foreach(names, k, name)
      {
        g_autofree char *clean = pp_host_table_clean(json_string_value(name));

        g_string_append_printf(out, "%s%s", k > 0 ? ", " : "", clean);
      }
      if (json_array_size(names) < (size_t)json_integer_value(count))
        g_string_append(out, json_array_size(names) > 0 ? ", ..." : "...");
      g_string_append_printf(out, ")\n    %s: %s\n", host, reason);
    } else {
      g_string_append_printf(out, "  %s: %s\n", host, reason);
    }
  }
  return g_string_free(out, FALSE);
}

char *
pp_vm_table_nics(const json_t *nics)
{
  static const PpTableColumn columns[] = {
    { "ID", TRUE },    { "KIND", FALSE },  { "NETWORK", FALSE }, { "MAC", FALSE },
    { "IP", FALSE },   { "IPV6", FALSE },  { "VLAN", TRUE },     { "MODEL", FALSE },
    { "HOST", FALSE }, { "GUEST", FALSE },
  };
  static const char *const ip6_keys[] = { "ip6_global", "ip6_ula", "ip6" };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *table = NULL;
  const json_t *nic;
  size_t i;

  json_array_foreach(nics, i, nic)
  {
    const json_t *network = json_object_get(nic, "network");
    const json_t *host = json_object_get(nic, "device");
    g_autoptr(GString) ip6 = g_string_new(NULL);

    g_ptr_array_add(cells, pp_host_table_field(nic, "nic_id"));
    g_ptr_array_add(cells, pp_host_table_field(nic, "kind"));
    g_ptr_array_add(cells, json_is_string(network) ? pp_host_table_cell(network)
                                                   : pp_host_table_field(nic, "network_id"));
    g_ptr_array_add(cells, pp_host_table_field(nic, "mac"));
    g_ptr_array_add(cells, pp_host_table_field(nic, "ip"));
    for (guint k = 0; k < G_N_ELEMENTS(ip6_keys); k++) {
      const char *value = json_string_value(json_object_get(nic, ip6_keys[k]));

      if (value != NULL && value[0] != '\0')
        g_string_append_printf(ip6, "%s%s", ip6->len > 0 ? " " : "", value);
    }
    g_ptr_array_add(cells, pp_host_table_clean(ip6->str));
    g_ptr_array_add(cells, pp_host_table_field(nic, "vlan_id"));
    g_ptr_array_add(cells, pp_host_table_field(nic, "model"));
    /* A bridged NIC's host side is its bridge; a PCI NIC's, its device. */
    if (!json_is_string(host))
      host = json_object_get(nic, "bridge");
    g_ptr_array_add(cells, pp_host_table_cell(host));
    g_ptr_array_add(cells, pp_host_table_field(nic, "guest_address"));
  }
  table = pp_host_table_render(columns, G_N_ELEMENTS(columns), cells);
  return g_strconcat("NICS\n\n", table, NULL);
}

static void
append_fact(GString *out, const char *label, const char *value)
{
  g_string_append_printf(out, "%-14s : %s\n", label, value);
}

/* "  0 VENDOR=10de,DEVICE=1db4" per request, or "  none". */
static void
append_requests(GString *out, const json_t *requests)
{
  const json_t *request;
  size_t i;

  if (!json_is_array(requests) || json_array_size(requests) == 0) {
    g_string_append(out, "  none\n");
    return;
  }
  json_array_foreach(requests, i, request)
  {
    g_autofree char *text = pp_host_table_cell(request);

    g_string_append_printf(out, "%*zu %s\n", INDEX_WIDTH, i, text);
  }
}

/* A VM's console ({"type", "listen", "port", "keymap", "password"}):
 * "vnc, listen 0.0.0.0, port 5900, password set"; "default" and "auto"
 * where libvirt chooses. */
static char *
graphics_text(const json_t *graphics)
{
  g_autofree char *type = pp_host_table_field(graphics, "type");
  g_autofree char *listen = json_is_string(json_object_get(graphics, "listen"))
                                ? pp_host_table_field(graphics, "listen")
                                : g_strdup("default");
  g_autofree char *port = json_is_integer(json_object_get(graphics, "port"))
                              ? pp_host_table_field(graphics, "port")
                              : g_strdup("auto");
  g_autofree char *keymap = pp_host_table_field(graphics, "keymap");
  gboolean has_keymap = json_is_string(json_object_get(graphics, "keymap"));

  return g_strdup_printf("%s, listen %s, port %s%s%s, %s", type, listen, port,
                         has_keymap ? ", keymap " : "", has_keymap ? keymap : "",
                         json_is_true(json_object_get(graphics, "password")) ? "password set"
                                                                             : "no password");
}

char *
pp_vm_table_history(const json_t *history, gint64 now)
{
  static const PpTableColumn columns[] = {
    { "WHEN", FALSE },
    { "CHANGE", FALSE },
    { "HOST", FALSE },
    { "REASON", FALSE },
  };
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func(g_free);
  const json_t *change;
  size_t i;

  json_array_foreach(history, i, change)
  {
    const char *from = json_string_value(json_object_get(change, "from"));
    const char *to = json_string_value(json_object_get(change, "to"));
    g_autofree char *text = from != NULL ? g_strdup_printf("%s > %s", from, to ? to : "-")
                                         : g_strdup_printf("%s (created)", to ? to : "-");

    g_ptr_array_add(cells, pp_host_table_ago(json_object_get(change, "at"), now));
    g_ptr_array_add(cells, pp_host_table_clean(text));
    g_ptr_array_add(cells, pp_host_table_clean(json_string_value(json_object_get(change, "host"))));
    g_ptr_array_add(cells,
                    pp_host_table_clean(json_string_value(json_object_get(change, "reason"))));
  }
  return pp_host_table_render(columns, G_N_ELEMENTS(columns), cells);
}

char *
pp_vm_table_show(const json_t *vm, gint64 now)
{
  const json_t *explanation = json_object_get(vm, "explanation");
  const json_t *all_hosts = json_object_get(vm, "explanation_hosts");
  const json_t *mib = json_object_get(vm, "memory_mib");
  const char *reason = json_string_value(json_object_get(vm, "reason"));
  const json_t *tries = json_object_get(vm, "tries");
  const json_t *history = json_object_get(vm, "history");
  GString *out = g_string_new(NULL);
  g_autofree char *id = pp_host_table_field(vm, "id");
  g_autofree char *name = pp_host_table_field(vm, "name");
  g_autofree char *owner = pp_host_table_field(vm, "owner");
  g_autofree char *state = pp_host_table_field(vm, "state");
  g_autofree char *host = host_text(json_object_get(vm, "host"));
  g_autofree char *cpu = pp_vm_table_cpu(json_object_get(vm, "cpu"));
  g_autofree char *vcpu = pp_host_table_field(vm, "vcpu");
  g_autofree char *memory = json_is_integer(mib) ? g_strdup_printf("%" JSON_INTEGER_FORMAT " MiB",
                                                                   json_integer_value(mib))
                                                 : g_strdup("-");
  g_autofree char *domain = pp_host_table_field(vm, "domain");
  g_autofree char *created = pp_host_table_ago(json_object_get(vm, "created"), now);
  g_autofree char *devices = pp_vm_table_devices(json_object_get(vm, "devices"), TRUE);

  append_fact(out, "ID", id);
  append_fact(out, "NAME", name);
  append_fact(out, "OWNER", owner);
  append_fact(out, "STATE", state);
  if (reason != NULL && reason[0] != '\0') {
    g_autofree char *clean = pp_host_table_clean(reason);

    append_fact(out, "REASON", clean);
  }
  append_fact(out, "HOST", host);
  append_fact(out, "CPU", cpu);
  append_fact(out, "VCPU", vcpu);
  append_fact(out, "MEMORY", memory);
  append_fact(out, "DOMAIN", domain);
  if (json_is_object(json_object_get(vm, "graphics"))) {
    g_autofree char *graphics = graphics_text(json_object_get(vm, "graphics"));

    append_fact(out, "GRAPHICS", graphics);
  }
  append_fact(out, "CREATED", created);
  if (json_is_integer(tries) && json_integer_value(tries) > 0) {
    g_autofree char *text = g_strdup_printf("%" JSON_INTEGER_FORMAT " failed since it was created "
                                            "or retried",
                                            json_integer_value(tries));

    append_fact(out, "DEPLOY TRIES", text);
  }
  g_string_append(out, "\nPCI REQUESTS\n\n");
  append_requests(out, json_object_get(vm, "pci_requests"));
  g_string_append_c(out, '\n');
  g_string_append(out, devices);
  /* A VM without NICs (or of a pcipassd that does not say) has no
   * section. */
  if (json_is_array(json_object_get(vm, "nics")) &&
      json_array_size(json_object_get(vm, "nics")) > 0) {
    g_autofree char *nics = pp_vm_table_nics(json_object_get(vm, "nics"));

    g_string_append_c(out, '\n');
    g_string_append(out, nics);
  }
  if (json_is_array(explanation) && json_array_size(explanation) > 0) {
    g_autofree char *why = pp_vm_table_explanation(explanation);

    g_string_append(out, "\nWHY PENDING\n\n");
    g_string_append(out, why);
  }
  if (json_is_array(all_hosts) && json_array_size(all_hosts) > 0) {
    g_autofree char *why = pp_vm_table_explanation(all_hosts);

    g_string_append(out, "\nALL HOSTS\n\n");
    g_string_append(out, why);
  }
  if (json_is_array(history) && json_array_size(history) > 0) {
    g_autofree char *table = pp_vm_table_history(history, now);

    g_string_append(out, "\nHISTORY\n\n");
    g_string_append(out, table);
  }
  return g_string_free(out, FALSE);
}

char *
pp_vm_table_place(const json_t *place)
{
  const json_t *explanation = json_object_get(place, "explanation");
  const json_t *numa = json_object_get(place, "numa_node");
  GString *out = g_string_new(NULL);

  if (json_is_true(json_object_get(place, "fits"))) {
    g_autofree char *host = host_text(json_object_get(place, "host"));
    g_autofree char *devices = pp_vm_table_devices(json_object_get(place, "devices"), FALSE);

    g_string_append_printf(out, "fits on %s", host);
    if (json_is_integer(numa))
      g_string_append_printf(out, " (NUMA node %" JSON_INTEGER_FORMAT ")",
                             json_integer_value(numa));
    g_string_append(out, "\n\n");
    g_string_append(out, devices);
  } else if (json_is_array(explanation) && json_array_size(explanation) > 0) {
    g_autofree char *why = pp_vm_table_explanation(explanation);

    g_string_append(out, "no host fits:\n");
    g_string_append(out, why);
  } else {
    g_string_append(out, "no host fits: no host to try\n");
  }
  return g_string_free(out, FALSE);
}
