#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "pp-fake-kernel.h"

struct _PpFakeKernel {
  char *sys;
  char *dev;
  int inotify;
  int stop_pipe[2];
  GThread *thread;
  GMutex lock;
  GHashTable *watches;  /* wd -> the watched folder, relative to sys */
  GHashTable *defaults; /* bdf -> driver */
  GHashTable *refused;  /* "bdf driver" */
  GPtrArray *writes;
};

static char *
read_file(const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  return text;
}

static char *
device_dir(PpFakeKernel *k, const char *bdf)
{
  g_autofree char *link = g_build_filename(k->sys, "bus", "pci", "devices", bdf, NULL);
  g_autofree char *target = g_file_read_link(link, NULL);
  g_autofree char *parent = g_path_get_dirname(link);

  return target ? g_canonicalize_filename(target, parent) : NULL;
}

static char *
current_driver(PpFakeKernel *k, const char *bdf)
{
  g_autofree char *dir = device_dir(k, bdf);
  g_autofree char *link = dir ? g_build_filename(dir, "driver", NULL) : NULL;
  g_autofree char *target = link ? g_file_read_link(link, NULL) : NULL;

  return target ? g_path_get_basename(target) : NULL;
}

static char *
override_of(PpFakeKernel *k, const char *bdf)
{
  g_autofree char *dir = device_dir(k, bdf);
  g_autofree char *path = dir ? g_build_filename(dir, "driver_override", NULL) : NULL;
  char *text = path ? read_file(path) : NULL;

  if (text != NULL && g_strstrip(text)[0] == '\0')
    g_clear_pointer(&text, g_free);
  return text;
}

static gint
group_of(PpFakeKernel *k, const char *bdf)
{
  g_autofree char *dir = device_dir(k, bdf);
  g_autofree char *link = dir ? g_build_filename(dir, "iommu_group", NULL) : NULL;
  g_autofree char *target = link ? g_file_read_link(link, NULL) : NULL;
  g_autofree char *base = target ? g_path_get_basename(target) : NULL;

  return base ? (gint)g_ascii_strtoll(base, NULL, 10) : -1;
}

static void
make_vfio_node(PpFakeKernel *k, gint group)
{
  g_autofree char *dir = g_build_filename(k->dev, "vfio", NULL);
  g_autofree char *name = g_strdup_printf("%d", group);
  g_autofree char *node = g_build_filename(dir, name, NULL);

  g_mkdir_with_parents(dir, 0755);
  /* A character device as the kernel makes (vfio's major is dynamic);
   * a plain file where mknod is not allowed. */
  if (mknod(node, S_IFCHR | 0600, makedev(243, group)) != 0 && errno != EEXIST)
    g_file_set_contents(node, "", 0, NULL);
}

static void
do_bind(PpFakeKernel *k, const char *bdf, const char *driver)
{
  g_autofree char *dir = device_dir(k, bdf);
  g_autofree char *drv = g_build_filename(k->sys, "bus", "pci", "drivers", driver, NULL);
  g_autofree char *key = g_strdup_printf("%s %s", bdf, driver);
  g_autofree char *override = override_of(k, bdf);
  g_autofree char *now = current_driver(k, bdf);
  g_autofree char *link = NULL;
  GString *rel;

  if (dir == NULL || now != NULL || !g_file_test(drv, G_FILE_TEST_IS_DIR) ||
      g_hash_table_contains(k->refused, key) || (override && strcmp(override, driver) != 0))
    return;
  /* Relative, as sysfs makes it: up to sys, then down. */
  rel = g_string_new(NULL);
  for (const char *p = dir + strlen(k->sys); *p != '\0'; p++)
    if (*p == '/')
      g_string_append(rel, "../");
  g_string_append_printf(rel, "bus/pci/drivers/%s", driver);
  link = g_build_filename(dir, "driver", NULL);
  if (symlink(rel->str, link) != 0)
    g_warning("fake kernel: symlink %s: %s", link, g_strerror(errno));
  g_string_free(rel, TRUE);
  if (strcmp(driver, "vfio-pci") == 0 && group_of(k, bdf) >= 0)
    make_vfio_node(k, group_of(k, bdf));
}

static void
react(PpFakeKernel *k, const char *rel, const char *value)
{
  g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
  guint n = g_strv_length(parts);

  if (strcmp(rel, "bus/pci/drivers_probe") == 0) {
    g_autofree char *override = override_of(k, value);
    const char *fallback = g_hash_table_lookup(k->defaults, value);

    if (override != NULL)
      do_bind(k, value, override);
    else if (fallback != NULL)
      do_bind(k, value, fallback);
  } else if (n == 5 && strcmp(parts[2], "drivers") == 0 && strcmp(parts[4], "bind") == 0) {
    do_bind(k, value, parts[3]);
  } else if (n == 5 && strcmp(parts[2], "drivers") == 0 && strcmp(parts[4], "unbind") == 0) {
    g_autofree char *now = current_driver(k, value);
    g_autofree char *dir = device_dir(k, value);

    if (now != NULL && strcmp(now, parts[3]) == 0) {
      g_autofree char *link = g_build_filename(dir, "driver", NULL);

      unlink(link);
    }
  }
}

static void
add_watch(PpFakeKernel *k, const char *rel)
{
  g_autofree char *path = g_build_filename(k->sys, rel, NULL);
  int wd = inotify_add_watch(k->inotify, path, IN_CLOSE_WRITE);

  if (wd >= 0)
    g_hash_table_insert(k->watches, GINT_TO_POINTER(wd), g_strdup(rel));
}

static gpointer
run(gpointer data)
{
  PpFakeKernel *k = data;
  char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));

  for (;;) {
    struct pollfd fds[2] = { { k->inotify, POLLIN, 0 }, { k->stop_pipe[0], POLLIN, 0 } };
    gssize n;

    if (poll(fds, 2, -1) < 0 && errno != EINTR)
      break;
    /* Stopping: the events already queued are answered first. The writes
     * of a program that has exited are all queued (inotify queues them as
     * they happen), so none is lost however late this thread runs. */
    if (!(fds[0].revents & POLLIN)) {
      if (fds[1].revents & POLLIN)
        break;
      continue;
    }
    n = read(k->inotify, buf, sizeof(buf));
    for (char *p = buf; n > 0 && p < buf + n;) {
      struct inotify_event *ev = (struct inotify_event *)p;
      const char *dir = g_hash_table_lookup(k->watches, GINT_TO_POINTER(ev->wd));

      if (dir != NULL && ev->len > 0) {
        g_autofree char *rel = g_build_filename(dir, ev->name, NULL);
        g_autofree char *path = g_build_filename(k->sys, rel, NULL);
        g_autofree char *value = read_file(path);
        g_autofree char *escaped = g_strescape(value ? value : "", NULL);

        g_mutex_lock(&k->lock);
        g_ptr_array_add(k->writes, g_strdup_printf("%s <- %s", rel, escaped));
        if (value != NULL)
          react(k, rel, g_strstrip(value));
        g_mutex_unlock(&k->lock);
      }
      p += sizeof(struct inotify_event) + ev->len;
    }
  }
  return NULL;
}

PpFakeKernel *
pp_fake_kernel_start(const char *sys, const char *dev)
{
  PpFakeKernel *k = g_new0(PpFakeKernel, 1);
  g_autofree char *drivers_dir = g_build_filename(sys, "bus", "pci", "drivers", NULL);
  g_autofree char *devices_dir = g_build_filename(sys, "bus", "pci", "devices", NULL);
  g_autoptr(GDir) drivers = g_dir_open(drivers_dir, 0, NULL);
  g_autoptr(GDir) devices = g_dir_open(devices_dir, 0, NULL);
  const char *name;

  k->sys = g_canonicalize_filename(sys, NULL);
  k->dev = g_strdup(dev);
  k->inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  g_assert_cmpint(k->inotify, >=, 0);
  g_assert_cmpint(pipe(k->stop_pipe), ==, 0);
  g_mutex_init(&k->lock);
  k->watches = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  k->defaults = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  k->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  k->writes = g_ptr_array_new_with_free_func(g_free);

  add_watch(k, "bus/pci");
  while (drivers != NULL && (name = g_dir_read_name(drivers)) != NULL) {
    g_autofree char *rel = g_build_filename("bus", "pci", "drivers", name, NULL);

    add_watch(k, rel);
  }
  /* driver_override is not acted on, but logged. */
  while (devices != NULL && (name = g_dir_read_name(devices)) != NULL) {
    g_autofree char *rel = g_build_filename("bus", "pci", "devices", name, NULL);

    add_watch(k, rel);
  }
  k->thread = g_thread_new("fake-kernel", run, k);
  return k;
}

GPtrArray *
pp_fake_kernel_stop(PpFakeKernel *k)
{
  GPtrArray *writes;

  g_assert_cmpint(write(k->stop_pipe[1], "x", 1), ==, 1);
  g_thread_join(k->thread);
  close(k->inotify);
  close(k->stop_pipe[0]);
  close(k->stop_pipe[1]);
  writes = k->writes;
  g_hash_table_unref(k->watches);
  g_hash_table_unref(k->defaults);
  g_hash_table_unref(k->refused);
  g_mutex_clear(&k->lock);
  g_free(k->sys);
  g_free(k->dev);
  g_free(k);
  return writes;
}

void
pp_fake_kernel_set_default(PpFakeKernel *k, const char *bdf, const char *driver)
{
  g_mutex_lock(&k->lock);
  g_hash_table_insert(k->defaults, g_strdup(bdf), g_strdup(driver));
  g_mutex_unlock(&k->lock);
}

void
pp_fake_kernel_refuse(PpFakeKernel *k, const char *bdf, const char *driver)
{
  g_mutex_lock(&k->lock);
  g_hash_table_add(k->refused, g_strdup_printf("%s %s", bdf, driver));
  g_mutex_unlock(&k->lock);
}
