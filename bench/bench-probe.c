/* bench-probe: pcipass-probe against lspci -mmnn -D, on this machine's
 * /sys and on the largest fixture tree (hwloc's 32em64t, 137 devices).
 *
 * Both programs run alternately, N times each, in this one process: the
 * medians of their wall times and their peak RSS are printed, with the
 * ratio probe/lspci. Both name every device from the same pci.ids. The
 * probe does more (drivers, SR-IOV, IOMMU groups, NUMA, host facts, the
 * pci.conf filter); lspci is the peer an administrator knows.
 *
 *   bench-probe [--runs N] [--probe PATH] [--fixtures DIR]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

extern char **environ;

typedef struct {
  gint64 usec;
  long maxrss_kib;
} Sample;

/* Runs @argv with stdout and stderr on /dev/null; returns its time and
 * peak RSS. Aborts if it fails: a benchmark of a failing run is no figure. */
static Sample
run_once(char *const *argv)
{
  posix_spawn_file_actions_t actions;
  struct rusage usage;
  Sample s;
  gint64 start;
  pid_t pid;
  int status;

  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  start = g_get_monotonic_time();
  if (posix_spawn(&pid, argv[0], &actions, NULL, argv, environ) != 0)
    g_error("cannot start '%s': %s", argv[0], g_strerror(errno));
  if (wait4(pid, &status, 0, &usage) != pid)
    g_error("wait4: %s", g_strerror(errno));
  s.usec = g_get_monotonic_time() - start;
  s.maxrss_kib = usage.ru_maxrss;
  posix_spawn_file_actions_destroy(&actions);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    g_error("'%s' failed (status %d)", argv[0], status);
  return s;
}

static int
compare_i64(const void *a, const void *b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

static int
compare_long(const void *a, const void *b)
{
  long x = *(const long *)a, y = *(const long *)b;

  return (x > y) - (x < y);
}

typedef struct {
  gint64 usec;
  long maxrss_kib;
} Median;

static Median
median(const Sample *samples, guint n)
{
  g_autofree gint64 *t = g_new(gint64, n);
  g_autofree long *m = g_new(long, n);
  Median med;

  for (guint i = 0; i < n; i++) {
    t[i] = samples[i].usec;
    m[i] = samples[i].maxrss_kib;
  }
  qsort(t, n, sizeof(*t), compare_i64);
  qsort(m, n, sizeof(*m), compare_long);
  med.usec = t[n / 2];
  med.maxrss_kib = m[n / 2];
  return med;
}

static void
bench(const char *label, char *const *probe, char *const *lspci, guint runs)
{
  g_autofree Sample *a = g_new(Sample, runs);
  g_autofree Sample *b = g_new(Sample, runs);
  Median ma, mb;

  /* One warm-up each (page cache, pci.ids), then alternate. */
  run_once(probe);
  run_once(lspci);
  for (guint i = 0; i < runs; i++) {
    a[i] = run_once(probe);
    b[i] = run_once(lspci);
  }
  ma = median(a, runs);
  mb = median(b, runs);
  printf("%-34s probe %7.2f ms %6ld KiB | lspci %7.2f ms %6ld KiB | time ratio %.2f, "
         "memory ratio %.2f\n",
         label, ma.usec / 1000.0, ma.maxrss_kib, mb.usec / 1000.0, mb.maxrss_kib,
         (double)ma.usec / (double)mb.usec, (double)ma.maxrss_kib / (double)mb.maxrss_kib);
}

int
main(int argc, char **argv)
{
  int runs = 51;
  g_autofree char *probe = NULL;
  g_autofree char *fixtures = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *sys = NULL;
  g_autofree char *sysfs_path = NULL;
  g_autofree char *tarball = NULL;
  const GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs of each program (default 51)", "N" },
    { "probe", 0, 0, G_OPTION_ARG_FILENAME, &probe, "The pcipass-probe to measure", "PATH" },
    { "fixtures", 0, 0, G_OPTION_ARG_FILENAME, &fixtures, "The fixtures folder", "DIR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new("- pcipass-probe against lspci");
  g_autoptr(GError) error = NULL;
  char *tar_argv[6];

  g_option_context_add_main_entries(context, entries, NULL);
  if (!g_option_context_parse(context, &argc, &argv, &error)) {
    fprintf(stderr, "bench-probe: %s\n", error->message);
    return 2;
  }
  if (runs < 1) {
    fprintf(stderr, "bench-probe: --runs must be at least 1\n");
    return 2;
  }
  if (probe == NULL)
    probe = g_strdup(PP_BENCH_PROBE);
  if (fixtures == NULL)
    fixtures = g_strdup(PP_BENCH_FIXTURES);

  printf("pcipass-probe against lspci -mmnn -D, median of %d runs each, alternating\n", runs);
  {
    char *p[] = { probe, "--all", "--pci-ids", "/usr/share/misc/pci.ids", NULL };
    char *l[] = { "/usr/bin/lspci", "-mmnn", "-D", "-i", "/usr/share/misc/pci.ids", NULL };

    bench("this machine (/sys)", p, l, runs);
  }

  /* The largest capture, unpacked on tmpfs when there is one. */
  tmp = g_build_filename(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : g_get_tmp_dir(),
                         "pcipass-bench-XXXXXX", NULL);
  if (g_mkdtemp(tmp) == NULL)
    g_error("mkdtemp: %s", g_strerror(errno));
  tarball =
      g_build_filename(fixtures, "hwloc-sysfs", "32em64t-2n8c+dax+nvme+mic+dimms.tar.bz2", NULL);
  tar_argv[0] = "/bin/tar";
  tar_argv[1] = "-xf";
  tar_argv[2] = tarball;
  tar_argv[3] = "-C";
  tar_argv[4] = tmp;
  tar_argv[5] = NULL;
  run_once(tar_argv);
  sys = g_build_filename(tmp, "32em64t-2n8c+1mic", "sys", NULL);
  sysfs_path = g_strdup_printf("sysfs.path=%s/bus/pci", sys);
  {
    char *p[] = {
      probe, "--all", "--sysfs-root", sys, "--pci-ids", "/usr/share/misc/pci.ids", NULL
    };
    char *l[] = {
      "/usr/bin/lspci",          "-A", "linux-sysfs", "-O", sysfs_path, "-mmnn", "-D", "-i",
      "/usr/share/misc/pci.ids", NULL
    };

    bench("32em64t fixture (137 devices)", p, l, runs);
  }
  {
    char *rm[] = { "/bin/rm", "-rf", "--", tmp, NULL };

    run_once(rm);
  }
  return 0;
}
