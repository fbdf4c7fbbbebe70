/* pcipass-context, the real binary, configuring veth interfaces in a
 * network namespace of its own: each test that needs root runs in a
 * subprocess (g_test_trap_subprocess) that unshares a new network and UTS
 * namespace, so the machine's interfaces, routes and host name are never
 * touched, and all it made goes with it. Interfaces are made with ip(8)
 * (argv) and checked with `ip -j`. The PCI NIC is found through a fake
 * sysfs root (class/net/IF/device -> .../0000:01:00.0), as in a guest.
 *
 * veth, not dummy: this machine's kernel has veth but neither dummy nor
 * 8021q. Where the kernel has no 8021q, the VLAN test checks the error
 * path (the NIC named, nothing changed on it, the others configured) and
 * is then reported skipped for the VLAN itself. The kernel here has no
 * iso9660 either: finding the disk is tested in test-guest-context.c on
 * fake nodes, mounting it only in the e2e lab. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <jansson.h>

#include "pp-test-iso.h"
#include "pp-test-util.h"

static char *ip_path;
/* The binary the namespace tests run: pcipass-context, or with
 * PP_TEST_CONTEXT_STATIC set (the static test), pcipass-context-static. */
static char *
context_path(void)
{
  return pp_test_build_path(g_getenv("PP_TEST_CONTEXT_STATIC") != NULL
                                ? "src/guest/pcipass-context-static"
                                : "src/guest/pcipass-context");
}

/* Runs ip(8) with @args (NULL-terminated); asserts success unless
 * @may_fail. Returns: (transfer full): its stdout. */
static char *
ip_run(gboolean may_fail, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  PpTestRun run = { 0 };
  va_list args;
  char *out;

  g_ptr_array_add(argv, ip_path);
  va_start(args, first);
  for (const char *a = first; a != NULL; a = va_arg(args, const char *))
    g_ptr_array_add(argv, (char *)a);
  va_end(args);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, &run);
  if (run.status != 0 && !may_fail)
    g_error("ip %s: %s", first, run.err);
  out = run.status == 0 ? g_steal_pointer(&run.out) : NULL;
  pp_test_run_clear(&run);
  return out;
}

#define IP(...) g_free(ip_run(FALSE, __VA_ARGS__, NULL))

static json_t *
ip_json(const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  PpTestRun run = { 0 };
  json_error_t jerr;
  json_t *json;
  va_list args;

  g_ptr_array_add(argv, ip_path);
  g_ptr_array_add(argv, "-j");
  va_start(args, first);
  for (const char *a = first; a != NULL; a = va_arg(args, const char *))
    g_ptr_array_add(argv, (char *)a);
  va_end(args);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  json = json_loads(run.out[0] ? run.out : "[]", 0, &jerr);
  if (json == NULL)
    g_error("ip -j %s: %s: %s", first, jerr.text, run.out);
  pp_test_run_clear(&run);
  return json;
}

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An interface as the test compares it: "eth0 mtu 1400 02:00:00:00:00:01
 * up 10.0.0.5/24 2001:db8::5/128" (link-local addresses left out). */
static char *
link_state(const char *ifname)
{
  json_t *json = ip_json("addr", "show", "dev", ifname, NULL);
  json_t *link = json_array_get(json, 0);
  json_t *flags = json_object_get(link, "flags");
  json_t *addrs = json_object_get(link, "addr_info");
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(g_free);
  gboolean up = FALSE;
  GString *out = g_string_new(NULL);
  size_t i;
  json_t *v;

  g_assert_nonnull(link);
  json_array_foreach(flags, i, v) up |= strcmp(json_string_value(v), "UP") == 0;
  json_array_foreach(addrs, i, v)
  {
    const char *local = json_string_value(json_object_get(v, "local"));

    if (!g_str_has_prefix(local, "fe80:"))
      g_ptr_array_add(list, g_strdup_printf("%s/%" JSON_INTEGER_FORMAT, local,
                                            json_integer_value(json_object_get(v, "prefixlen"))));
  }
  g_ptr_array_sort(list, compare_strings);
  g_string_append_printf(out, "%s mtu %" JSON_INTEGER_FORMAT " %s %s", ifname,
                         json_integer_value(json_object_get(link, "mtu")),
                         json_string_value(json_object_get(link, "address")), up ? "up" : "down");
  for (guint n = 0; n < list->len; n++)
    g_string_append_printf(out, " %s", (char *)g_ptr_array_index(list, n));
  json_decref(json);
  return g_string_free(out, FALSE);
}

/* The default routes: "4 via 10.0.0.1 dev eth0 metric 0; 6 via ...". */
static char *
default_routes(void)
{
  GString *out = g_string_new(NULL);

  for (guint f = 0; f < 2; f++) {
    json_t *json = ip_json(f == 0 ? "-4" : "-6", "route", "show", "default", NULL);
    size_t i;
    json_t *r;

    json_array_foreach(json, i, r)
    {
      g_string_append_printf(out, "%s via %s dev %s metric %" JSON_INTEGER_FORMAT "; ",
                             f == 0 ? "4" : "6", json_string_value(json_object_get(r, "gateway")),
                             json_string_value(json_object_get(r, "dev")),
                             json_integer_value(json_object_get(r, "metric")));
    }
    json_decref(json);
  }
  return g_string_free(out, FALSE);
}

/* The three interfaces and the default routes, as one string. */
static char *
snapshot(void)
{
  g_autofree char *eth0 = link_state("eth0");
  g_autofree char *eth1 = link_state("eth1");
  g_autofree char *pci = link_state("enp1s0");
  g_autofree char *routes = default_routes();

  return g_strdup_printf("%s | %s | %s | %s", eth0, eth1, pci, routes);
}

/* A test's world inside its namespaces: interfaces, a fake sysfs, a root
 * for etc/. */
typedef struct {
  char *dir;
  char *sys;
  char *root;
  char *context;
} World;

static void
world_clear(World *w)
{
  if (w->dir != NULL)
    pp_test_rmtree(w->dir);
  g_free(w->dir);
  g_free(w->sys);
  g_free(w->root);
  g_free(w->context);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(World, world_clear)

/* A veth @ifname (MAC @mac, or random) whose peer is up. */
static void
add_veth(const char *ifname, const char *mac)
{
  g_autofree char *peer = g_strconcat(ifname, "p", NULL);

  if (mac != NULL)
    IP("link", "add", "name", ifname, "address", mac, "type", "veth", "peer", "name", peer);
  else
    IP("link", "add", "name", ifname, "type", "veth", "peer", "name", peer);
  IP("link", "set", "dev", peer, "up");
}

/* In the subprocess: new namespaces, eth0 and eth1 (bridged NICs, by
 * MAC), enp1s0 (the PCI NIC at 0000:01:00.0, its hardware MAC random). */
static void
world_init(World *w, const char *context)
{
  g_autofree char *device = NULL;
  g_autofree char *link = NULL;

  if (unshare(CLONE_NEWNET | CLONE_NEWUTS) != 0)
    g_error("unshare(CLONE_NEWNET | CLONE_NEWUTS): %s", g_strerror(errno));
  g_assert_cmpint(sethostname("before", 6), ==, 0);
  w->dir = pp_test_mkdtemp();
  w->sys = g_build_filename(w->dir, "sys", NULL);
  w->root = g_build_filename(w->dir, "root", NULL);
  w->context = g_build_filename(w->dir, "context.sh", NULL);
  device = g_build_filename(w->sys, "devices", "pci0000:00", "0000:01:00.0", NULL);
  link = g_build_filename(w->sys, "class", "net", "enp1s0", "device", NULL);
  g_assert_cmpint(g_mkdir_with_parents(device, 0755), ==, 0);
  pp_test_symlink("../../../devices/pci0000:00/0000:01:00.0", link);
  g_assert_cmpint(g_mkdir_with_parents(w->root, 0755), ==, 0);
  {
    g_autofree char *etc = g_build_filename(w->root, "etc", NULL);

    g_assert_cmpint(g_mkdir_with_parents(etc, 0755), ==, 0);
  }
  pp_test_write_file(w->context, context);
  add_veth("eth0", "02:00:00:00:00:01");
  add_veth("eth1", "02:00:00:00:00:02");
  add_veth("enp1s0", NULL);
}

/* Runs pcipass-context on the world with @extra (nullable) options. */
static void
world_run(const World *w, const char *extra, PpTestRun *ret)
{
  g_autofree char *program = context_path();
  const char *argv[] = { program,  "--context", w->context, "--sysfs", w->sys,
                         "--root", w->root,     extra,      NULL };

  pp_test_run(argv, NULL, ret);
  g_test_message("pcipass-context %s: %d\n%s%s", extra ? extra : "", ret->status, ret->out,
                 ret->err);
}

static char *
read_text(const char *dir, const char *relative)
{
  g_autofree char *path = g_build_filename(dir, relative, NULL);
  char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* Every variable but VLAN_ID, twice: the second run changes nothing. */
static const char full_context[] = "# Context variables generated by pcipassd\n"
                                   "ETH0_MAC='02:00:00:00:00:01'\n"
                                   "ETH0_IP='10.0.0.5'\n"
                                   "ETH0_GATEWAY='10.0.0.1'\n"
                                   "ETH0_DNS='10.0.0.53 2001:db8::53'\n"
                                   "ETH0_SEARCH_DOMAIN='example.org'\n"
                                   "ETH0_MTU='1400'\n"
                                   "ETH0_IP6='2001:db8::5'\n"
                                   "ETH0_IP6_GATEWAY='2001:db8::1'\n"
                                   "ETH1_MAC='02:00:00:00:00:02'\n"
                                   "ETH1_IP='192.168.7.9'\n"
                                   "ETH1_MASK='255.255.0.0'\n"
                                   "ETH1_IP6='2001:db8:7::9'\n"
                                   "ETH1_IP6_PREFIX_LENGTH='64'\n"
                                   "ETH1_IP6_ULA='fd00:7::9'\n"
                                   "ETH1_GATEWAY='192.168.0.1'\n"
                                   "ETH1_METRIC='100'\n"
                                   "PCI0_ADDRESS='0000:01:00.0'\n"
                                   "PCI0_MAC='02:aa:bb:cc:dd:ee'\n"
                                   "PCI0_IP='172.16.0.10'\n"
                                   "PCI0_MASK='255.255.255.0'\n"
                                   "PCI0_MTU='9000'\n"
                                   "PCI0_GATEWAY='172.16.0.1'\n"
                                   "PCI0_DNS='172.16.0.53'\n"
                                   "SET_HOSTNAME='guest-one'\n"
                                   "SSH_PUBLIC_KEY='ssh-ed25519 AAAA it'\\''s $(reboot)'\n";

static gboolean
need_root(void)
{
  if (geteuid() == 0)
    return TRUE;
  g_test_skip("needs root: it makes network and UTS namespaces (run the suite as root, as CI "
              "does)");
  return FALSE;
}

static void
run_in_namespaces(const char *path)
{
  g_test_trap_subprocess(path, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed();
}

static void
test_apply(void)
{
  g_auto(World) w = { 0 };
  PpTestRun run = { 0 };
  g_autofree char *before = NULL, *after = NULL, *again = NULL;
  g_autofree char *eth0 = NULL, *eth1 = NULL, *pci = NULL, *routes = NULL;
  g_autofree char *resolv = NULL, *hostname = NULL;
  char name[64] = "";

  if (!g_test_subprocess()) {
    if (need_root())
      run_in_namespaces(NULL);
    return;
  }
  world_init(&w, full_context);

  /* --dry-run says what it would do and changes nothing. */
  before = snapshot();
  world_run(&w, "--dry-run", &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "ETH0 eth0: would: mtu 1400 on eth0, up eth0, address "
                                   "10.0.0.5/24 on eth0"));
  g_assert_nonnull(strstr(run.out, "PCI0 enp1s0: would: mac 02:aa:bb:cc:dd:ee"));
  pp_test_run_clear(&run);
  after = snapshot();
  g_assert_cmpstr(after, ==, before);
  g_assert_null(read_text(w.root, "etc/resolv.conf"));
  g_assert_null(read_text(w.root, "etc/hostname"));
  g_clear_pointer(&after, g_free);

  world_run(&w, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);

  /* /24 when no mask, /128 when no prefix length, the mask and the prefix
   * length given, the ULA as a /64; MTU; up. */
  eth0 = link_state("eth0");
  g_assert_cmpstr(eth0, ==, "eth0 mtu 1400 02:00:00:00:00:01 up 10.0.0.5/24 2001:db8::5/128");
  eth1 = link_state("eth1");
  g_assert_cmpstr(eth1, ==,
                  "eth1 mtu 1500 02:00:00:00:00:02 up 192.168.7.9/16 2001:db8:7::9/64 "
                  "fd00:7::9/64");
  /* The PCI NIC, found by its address, takes PCI0_MAC. */
  pci = link_state("enp1s0");
  g_assert_cmpstr(pci, ==, "enp1s0 mtu 9000 02:aa:bb:cc:dd:ee up 172.16.0.10/24");
  /* ETH0's default routes; ETH1's with its metric; PCI0's left to ETH0
   * (the same metric). */
  routes = default_routes();
  g_assert_cmpstr(routes, ==,
                  "4 via 10.0.0.1 dev eth0 metric 0; 4 via 192.168.0.1 dev eth1 metric 100; "
                  "6 via 2001:db8::1 dev eth0 metric 1024; ");
  resolv = read_text(w.root, "etc/resolv.conf");
  g_assert_cmpstr(resolv, ==,
                  "# Written by pcipass-context from the context disk.\n"
                  "search example.org\n"
                  "nameserver 10.0.0.53\n"
                  "nameserver 2001:db8::53\n"
                  "nameserver 172.16.0.53\n");
  hostname = read_text(w.root, "etc/hostname");
  g_assert_cmpstr(hostname, ==, "guest-one\n");
  g_assert_cmpint(gethostname(name, sizeof(name) - 1), ==, 0);
  g_assert_cmpstr(name, ==, "guest-one");

  /* Again: nothing to do, and it says so. */
  world_run(&w, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==,
                  "ETH0 eth0: unchanged\n"
                  "ETH1 eth1: unchanged\n"
                  "PCI0 enp1s0: unchanged; PCI0_GATEWAY 172.16.0.1 left: the default route of "
                  "metric 0 is ETH0's; PCI0_METRIC sets another\n"
                  "hostname: unchanged\n"
                  "resolv.conf: unchanged\n");
  pp_test_run_clear(&run);
  again = snapshot();
  after = g_strdup_printf("%s | %s | %s | %s", eth0, eth1, pci, routes);
  g_assert_cmpstr(again, ==, after);

  /* A default route changed by someone else is put back; an address with
   * another prefix length is replaced; the JSON says what was done. */
  IP("route", "replace", "default", "via", "10.0.0.254", "dev", "eth0", "onlink");
  IP("addr", "del", "172.16.0.10/24", "dev", "enp1s0");
  IP("addr", "add", "172.16.0.10/16", "dev", "enp1s0");
  world_run(&w, "--json", &run);
  g_assert_cmpint(run.status, ==, 0);
  {
    json_t *json = json_loads(run.out, 0, NULL);
    json_t *pci_json = json_array_get(json, 2);
    json_t *eth0_json = json_array_get(json, 0);

    g_assert_nonnull(json);
    g_assert_cmpstr(json_string_value(json_object_get(pci_json, "name")), ==, "PCI0");
    g_assert_cmpstr(json_string_value(json_object_get(pci_json, "interface")), ==, "enp1s0");
    g_assert_cmpstr(json_string_value(json_array_get(json_object_get(pci_json, "changed"), 0)), ==,
                    "address 172.16.0.10/16 removed from enp1s0");
    g_assert_cmpstr(json_string_value(json_array_get(json_object_get(pci_json, "changed"), 1)), ==,
                    "address 172.16.0.10/24 on enp1s0");
    g_assert_cmpstr(json_string_value(json_array_get(json_object_get(eth0_json, "changed"), 0)), ==,
                    "default via 10.0.0.1 dev eth0 (replaced)");
    g_assert_true(json_is_null(json_object_get(eth0_json, "error")));
    json_decref(json);
  }
  pp_test_run_clear(&run);
  g_free(again);
  again = snapshot();
  g_assert_cmpstr(again, ==, after);
}

/* The same run by pcipass-context-static, which the e2e lab puts into
 * its initramfs: netlink, the sysfs lookup and the files work the same
 * with glib, jansson and libnl linked in. */
static void
test_static(void)
{
  g_autofree char *path = pp_test_build_path("src/guest/pcipass-context-static");

  if (!g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)) {
    g_test_skip("pcipass-context-static is not built here (static archives missing)");
    return;
  }
  if (!need_root())
    return;
  g_setenv("PP_TEST_CONTEXT_STATIC", "1", TRUE);
  g_test_trap_subprocess("/guest-net/apply", 120 * G_USEC_PER_SEC,
                         G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv("PP_TEST_CONTEXT_STATIC");
  g_test_trap_assert_passed();
}

/* The context disk itself: a real ISO 9660 image (libisofs) on a loop
 * device, found by its volume id, mounted read-only, read, unmounted, in
 * a mount namespace of the test's own. A kernel without iso9660 (this
 * machine's) refuses the mount: the error is checked, the rest skipped. */
static void
test_disk(void)
{
  g_auto(World) w = { 0 };
  PpTestRun run = { 0 };
  g_autofree char *image = NULL, *loop = NULL, *name = NULL, *block = NULL;
  g_autofree char *eth0 = NULL, *hostname = NULL, *mounts = NULL;
  const char *mark = g_getenv("PP_TEST_DISK_MARK");

  if (!g_test_subprocess()) {
    g_autofree char *dir = NULL;
    g_autofree char *marker = NULL;
    g_autofree char *said = NULL;
    g_autofree char *losetup = g_find_program_in_path("losetup");

    if (!need_root())
      return;
    if (losetup == NULL) {
      g_test_skip("no losetup(8)");
      return;
    }
    dir = pp_test_mkdtemp();
    marker = g_build_filename(dir, "mark", NULL);
    g_setenv("PP_TEST_DISK_MARK", marker, TRUE);
    g_test_trap_subprocess(NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_unsetenv("PP_TEST_DISK_MARK");
    /* The loop device, detached whatever happened. */
    if (g_file_get_contents(marker, &said, NULL, NULL)) {
      g_auto(GStrv) lines = g_strsplit(said, "\n", 2);
      PpTestRun detach = { 0 };

      pp_test_run((const char *const[]){ losetup, "-d", lines[0], NULL }, NULL, &detach);
      pp_test_run_clear(&detach);
      if (lines[1] != NULL && lines[1][0] != '\0')
        g_test_skip(lines[1]);
    }
    pp_test_rmtree(dir);
    g_test_trap_assert_passed();
    return;
  }
  world_init(&w, "SSH_PUBLIC_KEY='unused'\n");
  if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    g_error("a private mount namespace: %s", g_strerror(errno));
  image = g_build_filename(w.dir, "context.iso", NULL);
  pp_test_write_iso(image, "CONTEXT",
                    "# from the disk\nETH0_MAC='02:00:00:00:00:01'\nETH0_IP='10.0.0.5'\n"
                    "SET_HOSTNAME='from-disk'\n");
  {
    g_autofree char *losetup = g_find_program_in_path("losetup");

    pp_test_run((const char *const[]){ losetup, "--find", "--show", "--read-only", image, NULL },
                NULL, &run);
    g_assert_cmpint(run.status, ==, 0);
    loop = g_strdup(g_strstrip(run.out));
    pp_test_run_clear(&run);
  }
  {
    g_autofree char *line = g_strconcat(loop, "\n", NULL);

    pp_test_write_file(mark, line);
  }
  /* Only this loop device in the block devices of the fake sysfs: a
   * CONTEXT disk of another test on this machine is not ours. */
  name = g_path_get_basename(loop);
  block = g_build_filename(w.sys, "class", "block", name, NULL);
  pp_test_symlink("../../devices/virtual/block/loop", block);
  {
    g_autofree char *program = context_path();

    pp_test_run(
        (const char *const[]){ program, "--sysfs", w.sys, "--dev", "/dev", "--root", w.root, NULL },
        NULL, &run);
  }
  if (run.status == 1 && strstr(run.err, "(the kernel has no iso9660: modprobe isofs)") != NULL) {
    g_autofree char *expected = g_strdup_printf("pcipass-context: %s: cannot mount '%s' (iso9660, "
                                                "read-only) on '",
                                                loop, loop);
    g_autofree char *line = g_strdup_printf("%s\nthe kernel has no iso9660: the disk was found "
                                            "on %s, its mount refused, the rest not checked",
                                            loop, loop);

    g_assert_true(g_str_has_prefix(run.err, expected));
    pp_test_write_file(mark, line);
    pp_test_run_clear(&run);
    return;
  }
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  pp_test_run_clear(&run);
  eth0 = link_state("eth0");
  g_assert_cmpstr(eth0, ==, "eth0 mtu 1500 02:00:00:00:00:01 up 10.0.0.5/24");
  hostname = read_text(w.root, "etc/hostname");
  g_assert_cmpstr(hostname, ==, "from-disk\n");
  /* Unmounted, and its folder removed. */
  mounts = read_text("/proc/self", "mounts");
  g_assert_null(strstr(mounts, "pcipass-context."));
}

/* A NIC that is not there, and bad values: each named with its variable,
 * its interface left as it was, the other NICs configured, exit 1. */
static void
test_errors(void)
{
  g_auto(World) w = { 0 };
  PpTestRun run = { 0 };
  g_autofree char *eth1 = NULL, *pci = NULL, *eth2 = NULL;
  g_autofree char *eth1_after = NULL, *pci_after = NULL, *eth2_after = NULL;
  g_autofree char *eth0 = NULL;
  g_autofree char *expected = NULL;
  /* libnl's words for the kernel's refusal (EACCES with IPv6 off). */
  const char *nl_refused = "No Access";

  if (!g_test_subprocess()) {
    if (need_root())
      run_in_namespaces(NULL);
    return;
  }
  world_init(&w, "ETH0_MAC='02:00:00:00:00:01'\nETH0_IP='10.0.0.5'\nETH0_MTU='1400'\n"
                 "ETH1_MAC='02:00:00:00:00:02'\nETH1_IP='192.168.7.9'\n"
                 "ETH1_MASK='255.0.255.0'\nETH1_MTU='1400'\n"
                 "ETH2_MAC='02:00:00:00:00:03'\nETH2_IP='10.0.0.300'\n"
                 "ETH5_MAC='02:00:00:00:00:05'\nETH5_IP='10.5.0.5'\n"
                 "PCI0_ADDRESS='0000:01:00.0'\nPCI0_MAC='02:aa:bb:cc:dd:ee'\n"
                 "PCI0_IP='172.16.0.10'\nPCI0_VLAN_ID='5000'\n"
                 "PCI1_ADDRESS='0000:02:00.0'\nPCI1_IP='172.17.0.10'\n"
                 "ETH3_MAC='02:00:00:00:00:04'\nETH3_IP='10.3.0.3'\nETH3_IP6='2001:db8:3::3'\n");
  add_veth("eth2", "02:00:00:00:00:03");
  /* The kernel refuses eth3 an IPv6 address: a failure past the plan. */
  add_veth("eth3", "02:00:00:00:00:04");
  {
    FILE *f = fopen("/proc/sys/net/ipv6/conf/eth3/disable_ipv6", "w");

    g_assert_nonnull(f);
    g_assert_cmpint(fputs("1", f), >=, 0);
    g_assert_cmpint(fclose(f), ==, 0);
  }
  eth1 = link_state("eth1");
  eth2 = link_state("eth2");
  pci = link_state("enp1s0");

  world_run(&w, NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  expected = g_strdup_printf(
      "pcipass-context: ETH1 (02:00:00:00:00:02): ETH1_MASK '255.0.255.0' is not a netmask\n"
      "pcipass-context: ETH2 (02:00:00:00:00:03): ETH2_IP '10.0.0.300' is not an IPv4 address\n"
      "pcipass-context: ETH3 (02:00:00:00:00:04, eth3): ETH3_IP6 '2001:db8:3::3/128': adding it "
      "to eth3: %s\n"
      "pcipass-context: ETH5 (02:00:00:00:00:05): no interface has MAC 02:00:00:00:00:05 "
      "(ETH5_MAC)\n"
      "pcipass-context: PCI0 (0000:01:00.0): PCI0_VLAN_ID '5000' is not a VLAN id (1 to 4094)\n"
      "pcipass-context: PCI1 (0000:02:00.0): no interface has PCI address 0000:02:00.0 "
      "(PCI1_ADDRESS) in '%s/class/net'\n",
      nl_refused, w.sys);
  g_assert_cmpstr(run.err, ==, expected);
  g_assert_nonnull(strstr(run.out, "ETH0 eth0: mtu 1400 on eth0, up eth0, address 10.0.0.5/24 "
                                   "on eth0\n"));
  g_assert_nonnull(strstr(run.out, "ETH5: failed\n"));
  g_assert_nonnull(
      strstr(run.out, "ETH3 eth3: failed after up eth3, address 10.3.0.3/24 on eth3\n"));
  pp_test_run_clear(&run);

  eth0 = link_state("eth0");
  g_assert_cmpstr(eth0, ==, "eth0 mtu 1400 02:00:00:00:00:01 up 10.0.0.5/24");
  eth1_after = link_state("eth1");
  eth2_after = link_state("eth2");
  pci_after = link_state("enp1s0");
  g_assert_cmpstr(eth1_after, ==, eth1);
  g_assert_cmpstr(eth2_after, ==, eth2);
  g_assert_cmpstr(pci_after, ==, pci);
}

/* VLAN_ID: the sub-interface eth1.42 with the IPs, up, the parent up
 * without them; again changes nothing. A link named eth1.42 that is not
 * that VLAN is refused before anything changes. */
static void
test_vlan(void)
{
  g_auto(World) w = { 0 };
  PpTestRun run = { 0 };
  g_autofree char *eth1 = NULL;
  g_autofree char *eth1_before = NULL;
  g_autofree char *eth0 = NULL;
  const char *mark = g_getenv("PP_TEST_VLAN_MARK");

  if (!g_test_subprocess()) {
    g_autofree char *dir = NULL;
    g_autofree char *marker = NULL;
    g_autofree char *said = NULL;

    if (!need_root())
      return;
    dir = pp_test_mkdtemp();
    marker = g_build_filename(dir, "no-vlan", NULL);
    g_setenv("PP_TEST_VLAN_MARK", marker, TRUE);
    run_in_namespaces(NULL);
    g_unsetenv("PP_TEST_VLAN_MARK");
    if (g_file_get_contents(marker, &said, NULL, NULL))
      g_test_skip(said);
    pp_test_rmtree(dir);
    return;
  }
  world_init(&w, "ETH0_MAC='02:00:00:00:00:01'\nETH0_IP='10.0.0.5'\n"
                 "ETH1_MAC='02:00:00:00:00:02'\nETH1_IP='192.168.7.9'\nETH1_VLAN_ID='42'\n"
                 "ETH1_IP6='2001:db8:42::9'\nETH1_IP6_PREFIX_LENGTH='64'\nETH1_MTU='1400'\n"
                 "ETH1_GATEWAY='192.168.7.1'\n");
  eth1_before = link_state("eth1");
  world_run(&w, NULL, &run);
  if (run.status != 0 && strstr(run.err, "Operation not supported") != NULL) {
    /* No 8021q in this kernel: the error names the NIC and the variable,
     * eth1 is as it was, ETH0 is configured. */
    g_assert_cmpint(run.status, ==, 1);
    g_assert_cmpstr(run.err, ==,
                    "pcipass-context: ETH1 (02:00:00:00:00:02, eth1): ETH1_VLAN_ID 42: adding "
                    "'eth1.42': Operation not supported (has the kernel 8021q?)\n");
    eth1 = link_state("eth1");
    g_assert_cmpstr(eth1, ==, eth1_before);
    eth0 = link_state("eth0");
    g_assert_cmpstr(eth0, ==, "eth0 mtu 1500 02:00:00:00:00:01 up 10.0.0.5/24");
    pp_test_write_file(mark, "the kernel has no 8021q: VLAN_ID's error path checked, the VLAN "
                             "itself not");
    pp_test_run_clear(&run);
    return;
  }
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  eth1 = link_state("eth1");
  g_assert_cmpstr(eth1, ==, "eth1 mtu 1400 02:00:00:00:00:02 up");
  {
    g_autofree char *vlan = link_state("eth1.42");
    g_autofree char *routes = default_routes();
    json_t *json = ip_json("-d", "link", "show", "dev", "eth1.42", NULL);
    json_t *info =
        json_object_get(json_object_get(json_array_get(json, 0), "linkinfo"), "info_data");

    g_assert_cmpstr(vlan, ==,
                    "eth1.42 mtu 1400 02:00:00:00:00:02 up 192.168.7.9/24 "
                    "2001:db8:42::9/64");
    g_assert_cmpint(json_integer_value(json_object_get(info, "id")), ==, 42);
    g_assert_cmpstr(routes, ==, "4 via 192.168.7.1 dev eth1.42 metric 0; ");
    json_decref(json);
  }
  world_run(&w, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "ETH0 eth0: unchanged\nETH1 eth1: unchanged\n");
  pp_test_run_clear(&run);

  /* eth1.42 taken by something else: refused, eth1 untouched. */
  IP("link", "del", "dev", "eth1.42");
  IP("link", "set", "dev", "eth1", "down");
  g_free(eth1_before);
  eth1_before = link_state("eth1");
  add_veth("eth1.42", NULL);
  world_run(&w, NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_cmpstr(run.err, ==,
                  "pcipass-context: ETH1 (02:00:00:00:00:02, eth1): ETH1_VLAN_ID 42: a link "
                  "named 'eth1.42' is there and is not VLAN 42 of eth1; remove it\n");
  pp_test_run_clear(&run);
  g_free(eth1);
  eth1 = link_state("eth1");
  g_assert_cmpstr(eth1, ==, eth1_before);
}

/* What needs no root: usage, a context.sh that does not parse, no disk,
 * a dry run of the host name and DNS. */
static void
test_usage(void)
{
  g_autofree char *program = context_path();
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *bad = g_build_filename(dir, "bad.sh", NULL);
  g_autofree char *good = g_build_filename(dir, "good.sh", NULL);
  g_autofree char *missing = g_build_filename(dir, "missing.sh", NULL);
  g_autofree char *sys = g_build_filename(dir, "sys", NULL);
  g_autofree char *dev = g_build_filename(dir, "dev", NULL);
  g_autofree char *root = g_build_filename(dir, "root", NULL);
  g_autofree char *expected = NULL;
  g_autofree char *block = g_build_filename(sys, "class", "block", "sr0", NULL);
  PpTestRun run = { 0 };

  pp_test_write_file(bad, "A='1'\nB=$(reboot)\n");
  pp_test_write_file(good, "SET_HOSTNAME='guest-one'\nDNS='10.0.0.53'\n");
  pp_test_symlink("../../devices/virtual/block/sr0", block);
  {
    g_autofree char *node = g_build_filename(dev, "sr0", NULL);

    pp_test_write_file(node, "not an iso");
  }
  g_assert_cmpint(g_mkdir_with_parents(root, 0755), ==, 0);

  pp_test_run((const char *const[]){ program, "--context", bad, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  expected = g_strdup_printf("pcipass-context: %s:2:3: B: '$' after the value: one assignment a "
                             "line, the value quoted\n",
                             bad);
  g_assert_cmpstr(run.err, ==, expected);
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ program, "--context", missing, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--context: cannot open '"));
  pp_test_run_clear(&run);

  pp_test_run((const char *const[]){ program, "--frobnicate", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ program, "extra", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass-context: unexpected argument 'extra' (see --help)\n");
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ program, "--version", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "pcipass-context " PACKAGE_VERSION "\n");
  pp_test_run_clear(&run);

  /* No context disk among the block devices: exit 1, saying where it
   * looked. */
  pp_test_run((const char *const[]){ program, "--sysfs", sys, "--dev", dev, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "no disk with an ISO 9660 volume 'CONTEXT' among the 1 block "
                                   "devices"));
  pp_test_run_clear(&run);
  {
    gint64 start = g_get_monotonic_time();

    pp_test_run((const char *const[]){ program, "--sysfs", sys, "--dev", dev, "--wait", "1", NULL },
                NULL, &run);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_cmpint(g_get_monotonic_time() - start, >=, G_USEC_PER_SEC);
    pp_test_run_clear(&run);
  }
  pp_test_run((const char *const[]){ program, "--wait", "-1", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_cmpstr(run.err, ==, "pcipass-context: --wait: -1 is not between 0 and 3600 seconds\n");
  pp_test_run_clear(&run);

  /* A dry run writes nothing. */
  pp_test_run(
      (const char *const[]){ program, "--context", good, "--root", root, "--dry-run", NULL }, NULL,
      &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "hostname: would: set 'guest-one'"));
  g_assert_nonnull(strstr(run.out, "resolv.conf: would: '"));
  g_assert_null(read_text(root, "etc/resolv.conf"));
  g_assert_null(read_text(root, "etc/hostname"));
  pp_test_run_clear(&run);

  /* --verbose's debug lines go to stderr: stdout stays JSON. */
  pp_test_run((const char *const[]){ program, "--context", good, "--root", root, "--dry-run",
                                     "--json", "--verbose", NULL },
              NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.err, "DEBUG"));
  {
    json_t *json = json_loads(run.out, 0, NULL);

    g_assert_nonnull(json);
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(json, 0), "name")), ==,
                    "hostname");
    json_decref(json);
  }
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  ip_path = g_find_program_in_path("ip");
  if (ip_path == NULL)
    ip_path = g_strdup("/usr/sbin/ip");
  g_test_add_func("/guest-net/usage", test_usage);
  g_test_add_func("/guest-net/apply", test_apply);
  g_test_add_func("/guest-net/errors", test_errors);
  g_test_add_func("/guest-net/vlan", test_vlan);
  g_test_add_func("/guest-net/static", test_static);
  g_test_add_func("/guest-net/disk", test_disk);
  return g_test_run();
}
