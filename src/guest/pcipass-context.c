/* pcipass-context: inside a guest, at boot, applies the context disk that
 * pcipassd gives every VM: finds the ISO 9660 volume CONTEXT among the
 * block devices, reads its context.sh as data (never runs it), and
 * configures each NIC through netlink, the host name and resolv.conf.
 *
 *   pcipass-context [--context FILE] [--sysfs DIR] [--dev DIR] [--root DIR]
 *                   [--dry-run] [--json]
 *
 * Exit: 0 all done, 1 a NIC (or the host name, or resolv.conf) failed, the
 * others done all the same, 2 bad usage or a context.sh that does not
 * parse.
 */
#define G_LOG_DOMAIN "pcipass-context"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>

#include "pp-exit.h"
#include "pp-guest-context.h"
#include "pp-guest-disk.h"
#include "pp-guest-net.h"

#define CONTEXT_LABEL "CONTEXT"
#define CONTEXT_FILE "context.sh"

/* The parsed command line (STYLE rule 7). */
static struct {
  char *context;
  char *sysfs;
  char *dev;
  char *root;
  gboolean dry_run;
  gboolean json;
  gboolean verbose;
  gboolean version;
  double wait;
} opt;

static const GOptionEntry entries[] = {
  { "context", 'c', 0, G_OPTION_ARG_FILENAME, &opt.context,
    "Read FILE instead of the context disk's context.sh", "FILE" },
  { "sysfs", 0, 0, G_OPTION_ARG_FILENAME, &opt.sysfs,
    "Find block devices and PCI NICs below DIR (default /sys)", "DIR" },
  { "dev", 0, 0, G_OPTION_ARG_FILENAME, &opt.dev, "Device nodes are in DIR (default /dev)", "DIR" },
  { "root", 0, 0, G_OPTION_ARG_FILENAME, &opt.root,
    "Write etc/hostname and etc/resolv.conf below DIR (default /)", "DIR" },
  { "wait", 'w', 0, G_OPTION_ARG_DOUBLE, &opt.wait,
    "Wait up to SECONDS for the context disk to appear (default 0)", "SECONDS" },
  { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt.dry_run, "Say what would change, change nothing",
    NULL },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt.json, "Print what was done as JSON", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt.verbose, "Print debug messages on stderr", NULL },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt.version, "Print the version and exit", NULL },
  { NULL }
};

static void G_GNUC_PRINTF(1, 2) say_error(const char *format, ...)
{
  va_list args;

  fprintf(stderr, "pcipass-context: ");
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
}

/* context.sh's bytes and where they came from. Returns an exit code. */
static int
read_context(GBytes **ret_bytes, char **ret_source)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *device = NULL;
  GBytes *bytes;

  if (opt.context != NULL) {
    bytes = pp_guest_read_file(opt.context, PP_GUEST_CONTEXT_MAX_SIZE, &error);
    if (bytes == NULL) {
      say_error("--context: %s", error->message);
      return PP_EXIT_USAGE;
    }
    *ret_bytes = bytes;
    *ret_source = g_strdup(opt.context);
    return PP_EXIT_OK;
  }
  device = pp_guest_disk_find(opt.sysfs, opt.dev, CONTEXT_LABEL, &error);
  /* At boot the CD-ROM's driver may come after us: look again, twice a
   * second, for --wait seconds. */
  for (gint64 until = g_get_monotonic_time() + (gint64)(opt.wait * G_USEC_PER_SEC);
       device == NULL && g_get_monotonic_time() < until;) {
    g_usleep(G_USEC_PER_SEC / 2);
    g_clear_error(&error);
    device = pp_guest_disk_find(opt.sysfs, opt.dev, CONTEXT_LABEL, &error);
  }
  if (device == NULL) {
    say_error("%s", error->message);
    return PP_EXIT_RUNTIME;
  }
  g_debug("%s: the context disk", device);
  bytes = pp_guest_disk_read(device, CONTEXT_FILE, PP_GUEST_CONTEXT_MAX_SIZE, &error);
  if (bytes == NULL) {
    say_error("%s: %s", device, error->message);
    return PP_EXIT_RUNTIME;
  }
  *ret_bytes = bytes;
  *ret_source = g_strdup_printf("%s:" CONTEXT_FILE, device);
  return PP_EXIT_OK;
}

/* What one part (a NIC, the host name, resolv.conf) came to. */
typedef struct {
  const char *name;   /* "ETH0", "hostname", "resolv.conf" */
  const char *ifname; /* nullable */
  GPtrArray *done;    /* nullable: char * */
  GPtrArray *notes;   /* nullable: char * */
  const char *error;  /* nullable */
} Outcome;

static json_t *
strings_json(GPtrArray *strings)
{
  json_t *array = json_array();

  for (guint i = 0; strings != NULL && i < strings->len; i++)
    json_array_append_new(array, json_string(g_ptr_array_index(strings, i)));
  return array;
}

/* One line on stdout, or an element of @json. */
static void
report(const Outcome *o, json_t *json)
{
  GString *line;

  if (json != NULL) {
    json_array_append_new(json, json_pack("{s:s, s:s?, s:o, s:o, s:s?}", "name", o->name,
                                          "interface", o->ifname, "changed", strings_json(o->done),
                                          "notes", strings_json(o->notes), "error", o->error));
    return;
  }
  line = g_string_new(o->name);
  if (o->ifname != NULL)
    g_string_append_printf(line, " %s", o->ifname);
  g_string_append(line, ": ");
  if (o->error != NULL)
    g_string_append(line, "failed");
  if (o->done != NULL && o->done->len > 0) {
    g_string_append(line, o->error != NULL ? " after " : opt.dry_run ? "would: " : "");
    for (guint i = 0; i < o->done->len; i++)
      g_string_append_printf(line, "%s%s", i > 0 ? ", " : "",
                             (const char *)g_ptr_array_index(o->done, i));
  } else if (o->error == NULL) {
    g_string_append(line, "unchanged");
  }
  for (guint i = 0; o->notes != NULL && i < o->notes->len; i++)
    g_string_append_printf(line, "; %s", (const char *)g_ptr_array_index(o->notes, i));
  printf("%s\n", line->str);
  g_string_free(line, TRUE);
}

/* The end of a part that writes a file (the host name, resolv.conf):
 * @message, when it failed, on stderr and in its outcome, which is
 * reported. Returns: whether it did not fail. */
static gboolean
report_file(Outcome *o, const char *message, json_t *json)
{
  if (message != NULL) {
    say_error("%s", message);
    o->error = message;
  }
  report(o, json);
  return message == NULL;
}

/* Writes @text to @path unless it holds it: a temporary file renamed over
 * it. Returns FALSE with the error; @ret_changed says whether it wrote. */
static gboolean
write_if_different(const char *path, const char *text, gboolean *ret_changed, GError **error)
{
  g_autofree char *have = NULL;

  *ret_changed = FALSE;
  if (g_file_get_contents(path, &have, NULL, NULL) && strcmp(have, text) == 0)
    return TRUE;
  *ret_changed = TRUE;
  if (opt.dry_run)
    return TRUE;
  /* An initramfs may have no etc/ yet. */
  {
    g_autofree char *dir = g_path_get_dirname(path);

    if (g_mkdir_with_parents(dir, 0755) != 0) {
      int saved = errno;

      g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot make '%s': %s", dir,
                  g_strerror(saved));
      return FALSE;
    }
  }
  return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* SET_HOSTNAME: the kernel's and etc/hostname. Returns FALSE on failure. */
static gboolean
apply_hostname(const PpGuestPlan *plan, json_t *json)
{
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(opt.root, "etc", "hostname", NULL);
  g_autofree char *text = NULL;
  g_autofree char *message = NULL;
  Outcome o = { "hostname", NULL, done, NULL, NULL };
  char have[HOST_NAME_MAX + 1] = "";
  gboolean changed = FALSE;

  if (plan->hostname_error == NULL && plan->hostname == NULL)
    return TRUE;
  if (plan->hostname_error != NULL) {
    say_error("%s", plan->hostname_error);
    o.error = plan->hostname_error;
    report(&o, json);
    return FALSE;
  }
  if (gethostname(have, sizeof(have) - 1) != 0 || strcmp(have, plan->hostname) != 0) {
    g_ptr_array_add(done, g_strdup_printf("set '%s'", plan->hostname));
    if (!opt.dry_run && sethostname(plan->hostname, strlen(plan->hostname)) != 0)
      message = g_strdup_printf("SET_HOSTNAME '%s': %s", plan->hostname, g_strerror(errno));
  }
  text = g_strdup_printf("%s\n", plan->hostname);
  if (message == NULL && !write_if_different(path, text, &changed, &error))
    message = g_strdup_printf("SET_HOSTNAME: %s", error->message);
  else if (changed)
    g_ptr_array_add(done, g_strdup_printf("'%s' written", path));
  return report_file(&o, message, json);
}

/* The NICs' DNS and SEARCH_DOMAIN, into etc/resolv.conf. */
static gboolean
apply_resolv_conf(const PpGuestPlan *plan, json_t *json)
{
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(opt.root, "etc", "resolv.conf", NULL);
  g_autofree char *text = pp_guest_plan_resolv_conf(plan);
  g_autofree char *message = NULL;
  Outcome o = { "resolv.conf", NULL, done, NULL, NULL };
  gboolean changed = FALSE;

  if (plan->dns_error == NULL && text == NULL)
    return TRUE;
  if (plan->dns_error != NULL)
    message = g_strdup(plan->dns_error);
  else if (!write_if_different(path, text, &changed, &error))
    message = g_strdup_printf("DNS: %s", error->message);
  else if (changed)
    g_ptr_array_add(done, g_strdup_printf("'%s' written", path));
  return report_file(&o, message, json);
}

static int
run(void)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *source = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PpGuestContext) ctx = NULL;
  g_autoptr(PpGuestPlan) plan = NULL;
  g_autoptr(PpGuestNet) net = NULL;
  json_t *json = opt.json ? json_array() : NULL;
  const char *data;
  gsize len;
  int rc;

  rc = read_context(&bytes, &source);
  if (rc != PP_EXIT_OK)
    return rc;
  data = g_bytes_get_data(bytes, &len);
  ctx = pp_guest_context_parse(data, len, &error);
  if (ctx == NULL) {
    say_error("%s:%s", source, error->message);
    return PP_EXIT_USAGE;
  }
  plan = pp_guest_plan_new(ctx);
  g_debug("%s: %u variables, %u NICs", source, ctx->names->len, plan->nics->len);
  if (plan->nics->len > 0) {
    net = pp_guest_net_open(opt.sysfs, opt.dry_run ? PP_GUEST_NET_DRY_RUN : PP_GUEST_NET_APPLY,
                            &error);
    if (net == NULL) {
      say_error("%s", error->message);
      rc = PP_EXIT_RUNTIME;
    }
  }
  for (guint i = 0; net != NULL && i < plan->nics->len; i++) {
    const PpGuestNic *nic = g_ptr_array_index(plan->nics, i);
    g_auto(PpGuestNetResult) result = { 0 };
    g_autoptr(GError) nic_error = NULL;
    Outcome o = { nic->name, NULL, NULL, NULL, nic->error };

    if (nic->error == NULL && !pp_guest_net_apply(net, nic, &result, &nic_error))
      o.error = nic_error->message;
    if (o.error != NULL) {
      say_error("%s", o.error);
      rc = PP_EXIT_RUNTIME;
    }
    o.ifname = result.ifname;
    o.done = result.done;
    o.notes = result.notes;
    report(&o, json);
  }
  if (!apply_hostname(plan, json))
    rc = PP_EXIT_RUNTIME;
  if (!apply_resolv_conf(plan, json))
    rc = PP_EXIT_RUNTIME;
  if (json != NULL) {
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

    printf("%s\n", text);
    free(text);
    json_decref(json);
  }
  if (fflush(stdout) != 0) {
    say_error("cannot write the output: %s", g_strerror(errno));
    rc = PP_EXIT_RUNTIME;
  }
  return rc;
}

int
main(int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  g_set_prgname("pcipass-context");
  /* Debug messages on stderr: stdout is the summary, or JSON. */
  g_log_writer_default_set_use_stderr(TRUE);
  context = g_option_context_new("- configure this guest from its context disk");
  g_option_context_add_main_entries(context, entries, NULL);
  g_option_context_set_description(
      context,
      "Finds the ISO 9660 volume CONTEXT among the block devices, reads its context.sh as data\n"
      "(it is never run) and configures the NICs it names through netlink: ETH<n>_* by MAC,\n"
      "PCI<n>_* by PCI<n>_ADDRESS; SET_HOSTNAME and DNS too. Running it again changes nothing.\n"
      "\n"
      "Exit status: 0 done, 1 a NIC or another part failed (the others are done), 2 bad usage\n"
      "or a context.sh that does not parse.\n"
      "\n"
      "See pcipass-context(8).");
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    say_error("%s (see --help)", error->message);
    return PP_EXIT_USAGE;
  }
  if (opt.version) {
    printf("pcipass-context %s\n", PACKAGE_VERSION);
    return PP_EXIT_OK;
  }
  if (argc > 1) {
    say_error("unexpected argument '%s' (see --help)", argv[1]);
    return PP_EXIT_USAGE;
  }
  if (opt.wait < 0 || opt.wait > 3600) {
    say_error("--wait: %g is not between 0 and 3600 seconds", opt.wait);
    return PP_EXIT_USAGE;
  }
  if (opt.verbose)
    g_log_set_debug_enabled(TRUE);
  if (opt.sysfs == NULL)
    opt.sysfs = g_strdup("/sys");
  if (opt.dev == NULL)
    opt.dev = g_strdup("/dev");
  if (opt.root == NULL)
    opt.root = g_strdup("/");
  rc = run();
  g_clear_pointer(&opt.context, g_free);
  g_clear_pointer(&opt.sysfs, g_free);
  g_clear_pointer(&opt.dev, g_free);
  g_clear_pointer(&opt.root, g_free);
  return rc;
}
