/* /init of the tiny guest (tests/lab/tiny-guest/build): PID 1 of a Linux
 * guest booted directly from a kernel and an initramfs that holds nothing
 * else. The tests use it as a domain that runs without disks, devices or
 * network and ends the way they ask:
 *
 *   pcipass.poweroff=N   power the guest off after N seconds (0 to 86400)
 *   (absent)             stay up until the domain is destroyed or killed
 *
 * It prints one line on the console when it starts ("pcipass-tiny-guest:
 * up ...") and one before it powers off, so a test can tell that the guest
 * ran. Linux does not hand dotted parameters to init, hence /proc/cmdline.
 *
 * Static, libc only (gcc -static): the initramfs has no loader and no
 * libraries. PID 1 must never exit (the kernel panics), so every failure
 * says what went wrong and then waits like the guest that stays up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAG "pcipass-tiny-guest"
#define CMDLINE_MAX 4096
#define POWEROFF_KEY "pcipass.poweroff="
#define POWEROFF_MAX_S 86400L

static double
uptime_s(void)
{
  struct timespec ts;

  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
    return -1.0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The kernel opens /dev/console for init only if the initramfs has that
 * node, and ours is built without root (no mknod): take the console from
 * devtmpfs when stdout is not open. */
static void
open_console(void)
{
  int fd;

  if (fcntl(STDOUT_FILENO, F_GETFD) != -1)
    return;
  (void)mkdir("/dev", 0755);
  (void)mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0)
    return; /* nowhere to say it: the test sees no console line */
  for (int i = 0; i <= 2; i++)
    if (fd != i)
      (void)dup2(fd, i);
  if (fd > 2)
    (void)close(fd);
}

/* Reads the kernel command line into @buf (NUL-terminated, at most
 * CMDLINE_MAX - 1 bytes). Returns 0, or -errno. */
static int
read_cmdline(char *buf, size_t size)
{
  ssize_t n;
  int fd;

  (void)mkdir("/proc", 0555);
  if (mount("proc", "/proc", "proc", 0, NULL) != 0 && errno != EBUSY)
    return -errno;
  fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  n = read(fd, buf, size - 1);
  if (n < 0) {
    int err = -errno;
    (void)close(fd);
    return err;
  }
  (void)close(fd);
  buf[n] = '\0';
  return 0;
}

/* Finds pcipass.poweroff=N on @cmdline. Returns 1 and sets *ret_seconds
 * when it is there and valid, 0 when absent, -1 when present but not a
 * number of seconds in range (the value is printed). */
static int
parse_poweroff(const char *cmdline, long *ret_seconds)
{
  const char *p = cmdline;

  while (*p != '\0') {
    size_t len;

    p += strspn(p, " \t\n");
    len = strcspn(p, " \t\n");
    if (len >= strlen(POWEROFF_KEY) && strncmp(p, POWEROFF_KEY, strlen(POWEROFF_KEY)) == 0) {
      const char *value = p + strlen(POWEROFF_KEY);
      char *end = NULL;
      long seconds;

      errno = 0;
      seconds = strtol(value, &end, 10);
      if (errno != 0 || end != p + len || *value < '0' || *value > '9' || seconds < 0 ||
          seconds > POWEROFF_MAX_S) {
        printf(TAG ": bad %.*s (want whole seconds, 0 to %ld): staying up\n", (int)len, p,
               POWEROFF_MAX_S);
        return -1;
      }
      *ret_seconds = seconds;
      return 1;
    }
    p += len;
  }
  return 0;
}

static void
sleep_s(long seconds)
{
  struct timespec left = { .tv_sec = seconds, .tv_nsec = 0 };

  while (nanosleep(&left, &left) != 0 && errno == EINTR)
    ;
}

static _Noreturn void
stay_up(void)
{
  fflush(stdout);
  for (;;)
    pause();
}

int
main(void)
{
  char cmdline[CMDLINE_MAX];
  long seconds = 0;
  int found;
  int r;

  open_console();
  setvbuf(stdout, NULL, _IOLBF, 0);

  r = read_cmdline(cmdline, sizeof(cmdline));
  if (r < 0) {
    printf(TAG ": up after %.3f s, cannot read /proc/cmdline: %s: staying up\n", uptime_s(),
           strerror(-r));
    stay_up();
  }
  found = parse_poweroff(cmdline, &seconds);
  if (found <= 0) {
    printf(TAG ": up after %.3f s, staying up\n", uptime_s());
    stay_up();
  }

  printf(TAG ": up after %.3f s, powering off in %ld s\n", uptime_s(), seconds);
  sleep_s(seconds);
  printf(TAG ": powering off at %.3f s\n", uptime_s());
  sync();
  reboot(RB_POWER_OFF);
  printf(TAG ": reboot(RB_POWER_OFF) failed: %s: staying up\n", strerror(errno));
  stay_up();
}
