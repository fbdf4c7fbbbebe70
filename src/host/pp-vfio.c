#define G_LOG_DOMAIN "pp-vfio"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>

#include "pp-pci-scan.h"
#include "pp-vfio.h"

/* clang-format off */
G_DEFINE_QUARK(pp-vfio-error-quark, pp_vfio_error)
/* clang-format on */

/* Polling for the kernel's (un)bind: real sysfs answers at once, as the
 * write returns after the driver's probe or remove. */
#define POLL_INTERVAL_USEC 5000
#define MODULE_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

struct _PpVfio {
  PpSysfs *sysfs;
  PpSysfs *state_dir;
  char *state_path;
  GKeyFile *state; /* [BDF] driver=NAME ("" for none), module=ITS MODULE */
  PpVfioFlags flags;
  double wait_seconds;
};

#define STATE_HEADER                                                                               \
  " pcipass-vfio: the driver each device had before pcipass-vfio bound it to\n"                    \
  " vfio-pci; `pcipass-vfio unbind` gives it back. Written by pcipass-vfio.\n"

PpVfio *
pp_vfio_new(PpSysfs *sysfs, PpSysfs *state_dir, const char *state_path, PpVfioFlags flags,
            double wait_seconds, GError **error)
{
  g_autoptr(PpVfio) vfio = NULL;
  g_autoptr(GError) read_error = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail(sysfs != NULL && state_dir != NULL && state_path != NULL, NULL);

  vfio = g_new0(PpVfio, 1);
  vfio->sysfs = sysfs;
  vfio->state_dir = state_dir;
  vfio->state_path = g_strdup(state_path);
  vfio->state = g_key_file_new();
  vfio->flags = flags;
  vfio->wait_seconds = wait_seconds;
  text = pp_sysfs_read_file(state_dir, state_path, 1024 * 1024, &read_error);
  if (text == NULL && !g_error_matches(read_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_STATE, "cannot read the state file: %s",
                read_error->message);
    return NULL;
  }
  if (text != NULL &&
      !g_key_file_load_from_data(vfio->state, text, -1, G_KEY_FILE_KEEP_COMMENTS, &read_error)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_STATE,
                "cannot read the state file '%s/%s': %s (move it away to start afresh)",
                pp_sysfs_get_root(state_dir), state_path, read_error->message);
    return NULL;
  }
  return g_steal_pointer(&vfio);
}

void
pp_vfio_free(PpVfio *vfio)
{
  if (vfio == NULL)
    return;
  g_free(vfio->state_path);
  g_key_file_unref(vfio->state);
  g_free(vfio);
}

char *
pp_vfio_get_recorded(PpVfio *vfio, const PpPciAddress *address)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(vfio != NULL && address != NULL, NULL);

  pp_pci_address_format(address, bdf);
  return g_key_file_get_string(vfio->state, bdf, "driver", NULL);
}

static gboolean
save_state(PpVfio *vfio, GError **error)
{
  g_autofree char *data = NULL;
  g_autoptr(GError) save_error = NULL;
  gsize len;

  g_key_file_set_comment(vfio->state, NULL, NULL, STATE_HEADER, NULL);
  data = g_key_file_to_data(vfio->state, &len, NULL);
  /* A new file renamed over the old, below the root: a crash leaves the
   * old one whole. */
  if (!pp_sysfs_replace(vfio->state_dir, vfio->state_path, data, len, NULL, &save_error)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_STATE, "cannot write the state file: %s",
                save_error->message);
    return FALSE;
  }
  return TRUE;
}

/* The driver @bdf is on now, NULL for none. */
static char *
current_driver(PpVfio *vfio, const char *bdf)
{
  g_autofree char *path = g_strdup_printf("bus/pci/devices/%s/driver", bdf);

  return pp_sysfs_readlink_basename(vfio->sysfs, path, NULL);
}

static gboolean
has_driver(PpVfio *vfio, const char *driver)
{
  g_autofree char *path = g_strdup_printf("bus/pci/drivers/%s", driver);
  g_autoptr(PpSysfs) dir = pp_sysfs_open_at(vfio->sysfs, path, NULL);

  return dir != NULL;
}

static char *
find_modprobe(void)
{
  static const char *const places[] = { "/usr/sbin/modprobe", "/sbin/modprobe" };
  char *path = g_find_program_in_path("modprobe");

  for (guint i = 0; path == NULL && i < G_N_ELEMENTS(places); i++)
    if (g_file_test(places[i], G_FILE_TEST_IS_EXECUTABLE))
      path = g_strdup(places[i]);
  return path;
}

/* Loads @module unless @driver (NULL: @module) is registered already. */
static gboolean
load_module(PpVfio *vfio, const char *module, const char *driver, GError **error)
{
  g_autofree char *modprobe = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) run_error = NULL;
  g_autofree char *err_text = NULL;

  if (driver == NULL)
    driver = module;
  if (has_driver(vfio, driver))
    return TRUE;
  /* The name may come from the state file: a module name, never an option. */
  if (module[0] == '\0' || module[0] == '-' ||
      strspn(module, MODULE_NAME_CHARS) != strlen(module)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_NOT_FOUND,
                "'%s' is not a module name; not loading it", module);
    return FALSE;
  }
  if (!(vfio->flags & PP_VFIO_LOAD_MODULES)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_NOT_FOUND,
                "%s is not loaded under '%s', and pcipass-vfio loads modules only on the real "
                "root",
                module, pp_sysfs_get_root(vfio->sysfs));
    return FALSE;
  }
  modprobe = find_modprobe();
  if (modprobe == NULL) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_NOT_FOUND,
                "%s is not loaded and there is no modprobe to load it (install kmod)", module);
    return FALSE;
  }
  /* An argv, never a shell. */
  proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                          &run_error, modprobe, module, NULL);
  if (proc == NULL ||
      !g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err_text, &run_error)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_NOT_FOUND, "cannot run '%s %s': %s", modprobe,
                module, run_error->message);
    return FALSE;
  }
  if (!g_subprocess_get_successful(proc) || !has_driver(vfio, driver)) {
    g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_NOT_FOUND, "'%s %s' did not load %s%s%s%s",
                modprobe, module, driver, err_text && err_text[0] ? ": " : "",
                err_text ? g_strstrip(err_text) : "",
                strcmp(module, PP_VFIO_DRIVER) == 0 ? " (is the kernel built with VFIO?)" : "");
    return FALSE;
  }
  return TRUE;
}

/* The first record of a device is the truth: a device found on vfio-pci or
 * on no driver with a record already was bound by us before. */
static gboolean
record(PpVfio *vfio, const char *bdf, const char *driver, GError **error)
{
  g_autofree char *old = g_key_file_get_string(vfio->state, bdf, "driver", NULL);

  if (old != NULL && (driver[0] == '\0' || strcmp(driver, PP_VFIO_DRIVER) == 0))
    return TRUE;
  g_key_file_set_string(vfio->state, bdf, "driver", driver);
  /* Its module, to load it again should it be gone by unbind (a built-in
   * driver has none). */
  g_key_file_remove_key(vfio->state, bdf, "module", NULL);
  if (driver[0] != '\0') {
    g_autofree char *link = g_strdup_printf("bus/pci/drivers/%s/module", driver);
    g_autofree char *module = pp_sysfs_readlink_basename(vfio->sysfs, link, NULL);

    if (module != NULL)
      g_key_file_set_string(vfio->state, bdf, "module", module);
  }
  return save_state(vfio, error);
}

static gboolean
forget(PpVfio *vfio, const char *bdf, GError **error)
{
  if (!g_key_file_has_group(vfio->state, bdf))
    return TRUE;
  g_key_file_remove_group(vfio->state, bdf, NULL);
  return save_state(vfio, error);
}

static gboolean
expect(PpVfio *vfio, const char *bdf, const char *want, GError **error)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)(vfio->wait_seconds * G_USEC_PER_SEC);
  g_autofree char *driver = NULL;

  for (;;) {
    g_free(driver);
    driver = current_driver(vfio, bdf);
    if (g_strcmp0(driver ? driver : "", want) == 0)
      return TRUE;
    if (g_get_monotonic_time() >= deadline)
      break;
    g_usleep(POLL_INTERVAL_USEC);
  }
  g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_FAILED, "%s: expected %s, found %s after %.1f s",
              bdf, want[0] ? want : "no driver", driver ? driver : "no driver", vfio->wait_seconds);
  return FALSE;
}

static gboolean
run_step(PpVfio *vfio, const PpVfioStep *step, GError **error)
{
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  pp_pci_address_format(&step->device, bdf);
  if (g_log_writer_default_would_drop(G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN) == FALSE) {
    g_autofree char *what = pp_vfio_step_describe(step);

    g_debug("%s", what);
  }
  switch (step->kind) {
  case PP_VFIO_STEP_LOAD_MODULE:
    return load_module(vfio, step->value, step->path, error);
  case PP_VFIO_STEP_RECORD:
    return record(vfio, bdf, step->value, error);
  case PP_VFIO_STEP_WRITE:
    return pp_sysfs_write(vfio->sysfs, step->path, step->value, error);
  case PP_VFIO_STEP_EXPECT:
    return expect(vfio, bdf, step->value, error);
  case PP_VFIO_STEP_FORGET:
    return forget(vfio, bdf, error);
  default:
    g_return_val_if_reached(FALSE);
  }
}

GPtrArray *
pp_vfio_plan_bind_all(PpVfio *vfio, GPtrArray *targets)
{
  g_autoptr(GPtrArray) plan = pp_vfio_plan_new();

  g_return_val_if_fail(vfio != NULL && targets != NULL, NULL);

  for (guint i = 0; i < targets->len; i++)
    pp_vfio_plan_bind(plan, g_ptr_array_index(targets, i));
  if (plan->len > 0 && !has_driver(vfio, PP_VFIO_DRIVER)) {
    PpVfioStep *load = g_new0(PpVfioStep, 1);

    load->kind = PP_VFIO_STEP_LOAD_MODULE;
    load->value = g_strdup(PP_VFIO_DRIVER);
    g_ptr_array_insert(plan, 0, load);
  }
  return g_steal_pointer(&plan);
}

GPtrArray *
pp_vfio_plan_restore_all(PpVfio *vfio, GPtrArray *targets)
{
  g_autoptr(GPtrArray) plan = pp_vfio_plan_new();
  g_autoptr(GPtrArray) loaded = NULL;

  g_return_val_if_fail(vfio != NULL && targets != NULL, NULL);

  loaded = pp_sysfs_list(vfio->sysfs, "bus/pci/drivers", NULL);
  if (loaded == NULL)
    loaded = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < targets->len; i++) {
    const PpPciDevice *dev = g_ptr_array_index(targets, i);
    g_autofree char *original = pp_vfio_get_recorded(vfio, &dev->address);
    g_autofree char *module = NULL;
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    /* The driver it had is gone (rmmod): on the real root, its module
     * is loaded again first, and the device bound to it by name. */
    pp_pci_address_format(&dev->address, bdf);
    module = g_key_file_get_string(vfio->state, bdf, "module", NULL);
    if ((vfio->flags & PP_VFIO_LOAD_MODULES) && original != NULL && original[0] != '\0' &&
        module != NULL && !g_ptr_array_find_with_equal_func(loaded, original, g_str_equal, NULL)) {
      PpVfioStep *load = g_new0(PpVfioStep, 1);

      load->kind = PP_VFIO_STEP_LOAD_MODULE;
      load->value = g_steal_pointer(&module);
      load->path = g_strdup(original);
      g_ptr_array_insert(plan, 0, load);
      g_ptr_array_add(loaded, g_strdup(original));
    }
    pp_vfio_plan_restore(plan, dev, original, loaded);
  }
  return g_steal_pointer(&plan);
}

/* The devices a plan concerns, in the order they first appear. */
static GArray *
plan_devices(GPtrArray *plan)
{
  GArray *devices = g_array_new(FALSE, FALSE, sizeof(PpPciAddress));

  for (guint i = 0; i < plan->len; i++) {
    const PpVfioStep *step = g_ptr_array_index(plan, i);
    gboolean seen = FALSE;

    if (step->kind == PP_VFIO_STEP_LOAD_MODULE)
      continue;
    for (guint j = 0; j < devices->len && !seen; j++)
      seen = pp_pci_address_equal(&g_array_index(devices, PpPciAddress, j), &step->device);
    if (!seen)
      g_array_append_val(devices, step->device);
  }
  return devices;
}

/* Gives back, in reverse order, the devices this call recorded. Returns a
 * sentence on what happened, for the error. */
static char *
roll_back(PpVfio *vfio, GArray *recorded)
{
  g_autoptr(GString) said = g_string_new(NULL);
  g_autoptr(GPtrArray) loaded = pp_sysfs_list(vfio->sysfs, "bus/pci/drivers", NULL);

  for (guint i = recorded->len; i-- > 0;) {
    const PpPciAddress *a = &g_array_index(recorded, PpPciAddress, i);
    char bdf[PP_PCI_ADDRESS_BUFSIZE];
    g_autoptr(PpPciDevice) dev = NULL;
    g_autoptr(GPtrArray) plan = pp_vfio_plan_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *now = NULL;
    gboolean ok = TRUE;

    pp_pci_address_format(a, bdf);
    dev = pp_pci_scan_device(vfio->sysfs, bdf, &error);
    if (dev != NULL) {
      g_autofree char *original = pp_vfio_get_recorded(vfio, a);

      pp_vfio_plan_restore(plan, dev, original, loaded);
      for (guint j = 0; j < plan->len && ok; j++)
        ok = run_step(vfio, g_ptr_array_index(plan, j), &error);
    }
    now = current_driver(vfio, bdf);
    if (dev != NULL && ok)
      g_string_append_printf(said, "%s%s is back on %s", said->len ? ", " : "", bdf,
                             now ? now : "no driver");
    else
      g_string_append_printf(said,
                             "%s%s could not be given back (%s); its record is kept, and "
                             "`pcipass-vfio unbind %s` tries again",
                             said->len ? ", " : "", bdf, error->message, bdf);
  }
  return g_string_free(g_steal_pointer(&said), FALSE);
}

gboolean
pp_vfio_execute(PpVfio *vfio, GPtrArray *plan, GPtrArray *done, GError **error)
{
  g_autoptr(GArray) devices = NULL;
  g_autoptr(GArray) recorded = g_array_new(FALSE, FALSE, sizeof(PpPciAddress));
  g_autoptr(GPtrArray) before = g_ptr_array_new_with_free_func(g_free);

  g_return_val_if_fail(vfio != NULL && plan != NULL, FALSE);

  devices = plan_devices(plan);
  for (guint i = 0; i < devices->len; i++) {
    char bdf[PP_PCI_ADDRESS_BUFSIZE];

    pp_pci_address_format(&g_array_index(devices, PpPciAddress, i), bdf);
    g_ptr_array_add(before, current_driver(vfio, bdf));
  }

  for (guint i = 0; i < plan->len; i++) {
    const PpVfioStep *step = g_ptr_array_index(plan, i);
    g_autoptr(GError) step_error = NULL;

    if (run_step(vfio, step, &step_error)) {
      if (step->kind == PP_VFIO_STEP_RECORD)
        g_array_append_val(recorded, step->device);
      continue;
    }
    if (recorded->len == 0) {
      g_propagate_error(error, g_steal_pointer(&step_error));
      return FALSE;
    }
    {
      g_autofree char *undone = roll_back(vfio, recorded);

      g_set_error(error, PP_VFIO_ERROR, PP_VFIO_ERROR_FAILED, "%s; undone: %s", step_error->message,
                  undone);
    }
    return FALSE;
  }

  for (guint i = 0; done != NULL && i < devices->len; i++) {
    char bdf[PP_PCI_ADDRESS_BUFSIZE];
    g_autofree char *after = NULL;
    const char *was = g_ptr_array_index(before, i);

    pp_pci_address_format(&g_array_index(devices, PpPciAddress, i), bdf);
    after = current_driver(vfio, bdf);
    if (g_strcmp0(was, after) != 0)
      g_ptr_array_add(done, g_strdup_printf("%s: %s -> %s", bdf, was ? was : "no driver",
                                            after ? after : "no driver"));
  }
  return TRUE;
}

static gint
compare_pids(gconstpointer a, gconstpointer b)
{
  guint64 pa = g_ascii_strtoull(*(const char *const *)a, NULL, 10);
  guint64 pb = g_ascii_strtoull(*(const char *const *)b, NULL, 10);

  return pa < pb ? -1 : pa > pb;
}

GPtrArray *
pp_vfio_group_users(PpSysfs *proc, gint group)
{
  GPtrArray *users = g_ptr_array_new_with_free_func(g_free);
  g_autofree char *node = g_strdup_printf("/dev/vfio/%d", group);
  g_autoptr(GPtrArray) pids = NULL;

  g_return_val_if_fail(proc != NULL, users);

  pids = pp_sysfs_list(proc, ".", NULL);
  if (pids == NULL)
    return users;
  g_ptr_array_sort(pids, compare_pids);
  for (guint i = 0; i < pids->len; i++) {
    const char *pid = g_ptr_array_index(pids, i);
    g_autofree char *fd_dir = NULL;
    g_autoptr(GPtrArray) fds = NULL;
    gboolean holds = FALSE;

    if (strspn(pid, "0123456789") != strlen(pid))
      continue;
    fd_dir = g_strdup_printf("%s/fd", pid);
    fds = pp_sysfs_list(proc, fd_dir, NULL);
    for (guint f = 0; fds != NULL && f < fds->len && !holds; f++) {
      g_autofree char *link = g_strdup_printf("%s/%s", fd_dir, (char *)g_ptr_array_index(fds, f));
      g_autofree char *target = pp_sysfs_readlink(proc, link, NULL);

      holds = g_strcmp0(target, node) == 0;
    }
    if (holds) {
      g_autofree char *comm_path = g_strdup_printf("%s/comm", pid);
      g_autofree char *comm = pp_sysfs_read_string(proc, comm_path, NULL);
      g_autofree char *valid = comm ? g_utf8_make_valid(comm, -1) : NULL;

      g_ptr_array_add(users, valid ? g_strdup_printf("pid %s (%s)", pid, valid)
                                   : g_strdup_printf("pid %s", pid));
    }
  }
  return users;
}
