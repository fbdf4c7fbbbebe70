/* The documentation keeps up with the programs: every option that --help
 * lists is in the man page, every pci.conf key in pcipass-pci.conf(5) and
 * the shipped data/pci.conf, every command of pcipass in pcipass(1), every
 * option and config key of pcipassd in pcipassd(8) and data/pcipassd.conf,
 * systemd accepts the units, and every man page renders without a warning
 * and names all the others in its SEE ALSO. */
#include "config.h"

#include <string.h>

#include "pp-guest-context.h"
#include "pp-network.h"
#include "pp-probe-report.h"
#include "pp-test-util.h"

/* Not inlined: gcc 12 at -O3 then takes the text its callers search for
 * this function's dangling local (-Wdangling-pointer, a false positive). */
static G_GNUC_NO_INLINE char *
read_source(const char *relative)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", relative, NULL);
  char *text = NULL;

  if (!g_file_get_contents(path, &text, NULL, NULL))
    g_error("cannot read '%s'", path);
  return text;
}

/* The long options in a --help text: "  --name" at a line's start. */
static GPtrArray *
long_options(const char *help)
{
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(help, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    const char *line = g_strchug(lines[i]);
    const char *at = strstr(line, "--");
    gsize n = 0;

    if (at == NULL || line[0] != '-')
      continue;
    at += 2;
    while (g_ascii_isalnum(at[n]) || at[n] == '-')
      n++;
    if (n > 0 && strncmp(at, "help-all", n) != 0)
      g_ptr_array_add(names, g_strndup(at, n));
  }
  return names;
}

/* Every long option @argv's --help lists is in the man page @man_path;
 * returns how many. */
static guint
assert_options_documented(const char *const *argv, const char *man_path)
{
  g_autofree char *man = read_source(man_path);
  g_autoptr(GPtrArray) options = NULL;
  PpTestRun run = { 0 };
  guint n;

  pp_test_run(argv, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  options = long_options(run.out);
  for (guint i = 0; i < options->len; i++) {
    g_auto(GStrv) parts = g_strsplit(g_ptr_array_index(options, i), "-", -1);
    g_autofree char *joined = g_strjoinv("\\-", parts);
    /* In roff, "--sysfs-root" is written "\-\-sysfs\-root". */
    g_autofree char *escaped = g_strconcat("\\-\\-", joined, NULL);

    if (strstr(man, escaped) == NULL)
      g_error("--%s (%s --help) is not in %s", (char *)g_ptr_array_index(options, i), argv[1],
              man_path);
  }
  n = options->len;
  pp_test_run_clear(&run);
  return n;
}

static void
test_probe_man_page(void)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");

  g_assert_cmpuint(assert_options_documented((const char *const[]){ probe, "--help", NULL },
                                             "man/pcipass-probe.1"),
                   >=, 10);
}

/* pcipass-context(8): its options, and the limits of context.sh. */
static void
test_context_man_page(void)
{
  g_autofree char *agent = pp_test_build_path("src/guest/pcipass-context");
  g_autofree char *man = read_source("man/pcipass-context.8");
  g_autofree char *limits = g_strdup_printf(
      "At most %d MiB, %d variables and %d KiB a value.", PP_GUEST_CONTEXT_MAX_SIZE >> 20,
      PP_GUEST_CONTEXT_MAX_VARS, PP_GUEST_CONTEXT_MAX_VALUE >> 10);

  g_assert_cmpuint(assert_options_documented((const char *const[]){ agent, "--help", NULL },
                                             "man/pcipass-context.8"),
                   ==, 9);
  if (strstr(man, limits) == NULL)
    g_error("man/pcipass-context.8 does not say '%s'", limits);
  g_assert_nonnull(strstr(man, ".SH EXIT STATUS\n"));
}

static void
test_vfio_man_page(void)
{
  g_autofree char *vfio = pp_test_build_path("src/host/pcipass-vfio");
  g_autofree char *man = read_source("man/pcipass-vfio.8");
  g_auto(GStrv) lines = NULL;
  PpTestRun run = { 0 };
  guint commands = 0;

  pp_test_run((const char *const[]){ vfio, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  lines = g_strsplit(run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto(GStrv) words = NULL;
    g_autofree char *synopsis = NULL;

    if (!g_str_has_prefix(lines[i], "  "))
      continue;
    words = g_strsplit(g_strstrip(lines[i]), " ", 2);
    /* Each command in the synopsis, and its options in the page. */
    synopsis = g_strdup_printf("pcipass-vfio %s", words[0]);
    if (strstr(man, synopsis) == NULL && strstr(man, words[0]) == NULL)
      g_error("command %s is not in man/pcipass-vfio.8", words[0]);
    assert_options_documented((const char *const[]){ vfio, words[0], "--help", NULL },
                              "man/pcipass-vfio.8");
    commands++;
  }
  g_assert_cmpuint(commands, ==, 7);
  pp_test_run_clear(&run);
}

/* systemd's own verdict on unit @name, its ExecStart pointed at @sbindir
 * of the build; @exec is what ExecStart must run. */
static void
verify_unit(const char *name, const char *sbindir_relative, const char *exec)
{
  g_autofree char *source = g_strconcat("data/", name, ".in", NULL);
  g_autofree char *in = read_source(source);
  g_autofree char *sbindir = pp_test_build_path(sbindir_relative);
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *unit = g_build_filename(dir, name, NULL);
  g_auto(GStrv) parts = g_strsplit(in, "@SBINDIR@", -1);
  g_autofree char *text = g_strjoinv(sbindir, parts);
  PpTestRun run = { 0 };

  g_assert_nonnull(strstr(text, "ExecStart="));
  g_assert_nonnull(strstr(text, exec));
  pp_test_write_file(unit, text);
  pp_test_run((const char *const[]){ "/usr/bin/systemd-analyze", "verify", "--man=no", unit, NULL },
              NULL, &run);
  if (run.status != 0)
    g_error("systemd-analyze verify %s: %s%s", name, run.out, run.err);
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

/* pcipass-probe-push.service and its timer, side by side, by systemd's
 * verdict; the service runs the build's probe with --push. */
static void
verify_push_units(void)
{
  g_autofree char *in = read_source("data/pcipass-probe-push.service.in");
  g_autofree char *timer_text = read_source("data/pcipass-probe-push.timer");
  g_autofree char *bindir = pp_test_build_path("src/host");
  g_autofree char *dir = pp_test_mkdtemp();
  g_autofree char *service = g_build_filename(dir, "pcipass-probe-push.service", NULL);
  g_autofree char *timer = g_build_filename(dir, "pcipass-probe-push.timer", NULL);
  g_auto(GStrv) parts = g_strsplit(in, "@BINDIR@", -1);
  g_autofree char *with_bin = g_strjoinv(bindir, parts);
  g_auto(GStrv) parts2 = g_strsplit(with_bin, "@PP_SYSCONFDIR@", -1);
  g_autofree char *text = g_strjoinv(dir, parts2);
  PpTestRun run = { 0 };

  g_assert_nonnull(strstr(text, "/pcipass-probe --push ${PCIPASS_PUSH_URL} --token-file "
                                "${PCIPASS_PUSH_TOKEN_FILE} $PCIPASS_PUSH_OPTIONS\n"));
  g_assert_nonnull(strstr(timer_text, "WantedBy=timers.target"));
  pp_test_write_file(service, text);
  pp_test_write_file(timer, timer_text);
  pp_test_run((const char *const[]){ "/usr/bin/systemd-analyze", "verify", "--man=no", service,
                                     timer, NULL },
              NULL, &run);
  if (run.status != 0)
    g_error("systemd-analyze verify pcipass-probe-push: %s%s", run.out, run.err);
  pp_test_run_clear(&run);
  pp_test_rmtree(dir);
}

static void
test_systemd_unit(void)
{
  g_autofree char *in = read_source("data/pcipass-vfio.service.in");

  g_assert_nonnull(strstr(in, "Before=libvirtd.service"));
  verify_unit("pcipass-vfio.service", "src/host", "/pcipass-vfio boot\n");
  verify_unit("pcipassd.service", "src/server", "/pcipassd\n");
  verify_unit("pcipass-context.service", "src/guest", "/pcipass-context --wait 10\n");
  verify_push_units();
}

/* Every option of pcipassd is in pcipassd(8), and every config key in the
 * shipped data/pcipassd.conf: --print-config lists them all. */
static void
test_daemon_docs(void)
{
  g_autofree char *daemon = pp_test_build_path("src/server/pcipassd");
  g_autofree char *conf = read_source("data/pcipassd.conf");
  g_auto(GStrv) lines = NULL;
  PpTestRun run = { 0 };
  guint keys = 0;

  g_assert_cmpuint(
      assert_options_documented((const char *const[]){ daemon, "--help", NULL }, "man/pcipassd.8"),
      >=, 13);
  pp_test_run((const char *const[]){ daemon, "--print-config", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  lines = g_strsplit(run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_autofree char *key = NULL;
    g_autofree char *commented = NULL;
    const char *eq = strstr(lines[i], " = ");

    if (eq == NULL)
      continue;
    key = g_strndup(lines[i], (gsize)(eq - lines[i]));
    commented = g_strdup_printf("\n#%s = ", key);
    if (strstr(conf, commented) == NULL)
      g_error("key '%s' is not in data/pcipassd.conf", key);
    keys++;
  }
  g_assert_cmpuint(keys, ==, 24);
  pp_test_run_clear(&run);
}

/* pcipassd(8) says the limits of a probe's output that the parser and the
 * monitor apply: one constant each. */
static void
test_probe_limits_documented(void)
{
  g_autofree char *man = read_source("man/pcipassd.8");
  g_autofree char *said =
      g_strdup_printf("(at most %d MiB and %d devices;", PP_PROBE_REPORT_MAX_SIZE >> 20,
                      PP_PROBE_REPORT_MAX_DEVICES);

  g_assert_cmpint(PP_PROBE_REPORT_MAX_SIZE % (1 << 20), ==, 0);
  if (strstr(man, said) == NULL)
    g_error("man/pcipassd.8 does not say '%s'", said);
}

static void
test_pciconf_keys(void)
{
  static const char *const keys[] = { ":filter", ":short_address", ":device_name" };
  g_autofree char *man = read_source("man/pcipass-pci.conf.5");
  g_autofree char *conf = read_source("data/pci.conf");
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  PpTestRun run = { 0 };

  pp_test_run((const char *const[]){ probe, "--help", NULL }, NULL, &run);
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    g_autofree char *bold = g_strdup_printf(".B %s\n", keys[i]);

    g_assert_nonnull(strstr(man, bold));
    g_assert_nonnull(strstr(conf, keys[i]));
    g_assert_nonnull(strstr(run.out, keys[i]));
  }
  g_assert_nonnull(strstr(man, ".B :nvidia_vendors\n"));
  pp_test_run_clear(&run);
}

static void
test_shipped_pci_conf_offers_nothing(void)
{
  g_autofree char *probe = pp_test_build_path("src/host/pcipass-probe");
  g_autofree char *conf = g_test_build_filename(G_TEST_DIST, "..", "data", "pci.conf", NULL);
  PpTestRun run = { 0 };

  pp_test_run((const char *const[]){ probe, "--config", conf, NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.err, ==, "");
  g_assert_null(strstr(run.out, "PCI = ["));
  g_assert_nonnull(strstr(run.out, "CPU_COUNT = "));
  pp_test_run_clear(&run);
}

static void
test_cli_man_page(void)
{
  g_autofree char *cli = pp_test_build_path("src/cli/pcipass");
  g_autofree char *man = read_source("man/pcipass.1");
  PpTestRun run = { 0 };
  g_auto(GStrv) lines = NULL;
  static const char *const variables[] = { "PCIPASS_SOCKET", "PCIPASS_URL", "PCIPASS_TOKEN",
                                           "PCIPASS_CA_FILE", "XDG_CONFIG_HOME" };
  guint commands = 0;
  guint options = 0;

  pp_test_run((const char *const[]){ cli, "--help", NULL }, NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  lines = g_strsplit(run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++) {
    g_auto(GStrv) words = NULL;
    g_autofree char *command = NULL;

    if (!g_str_has_prefix(lines[i], "  "))
      continue;
    words = g_strsplit(g_strstrip(lines[i]), " ", 3);
    if (g_strv_length(words) < 2)
      continue;
    command = g_strdup_printf(".BR \"%s %s\"", words[0], words[1]);
    if (strstr(man, command) == NULL)
      g_error("'%s %s' is not in man/pcipass.1", words[0], words[1]);
    /* And each of its options. */
    options += assert_options_documented(
        (const char *const[]){ cli, words[0], words[1], "--help", NULL }, "man/pcipass.1");
    commands++;
  }
  g_assert_cmpuint(commands, ==, 36);
  /* --json on all; --socket, --url, --token-file, --ca-file on the 35
   * daemon ones; 41 of their own (--context-pool of host create and host update
   * among them; host types has none). */
  g_assert_cmpuint(options, ==, 36 + 4 * 35 + 41);
  pp_test_run_clear(&run);

  /* The environment it reads, and the exit statuses. */
  for (guint i = 0; i < G_N_ELEMENTS(variables); i++) {
    g_autofree char *entry = g_strdup_printf(".TP\n.B %s\n", variables[i]);

    if (strstr(man, entry) == NULL)
      g_error("%s is not in ENVIRONMENT of man/pcipass.1", variables[i]);
  }
  g_assert_nonnull(strstr(man, ".SH EXIT STATUS\n"));
  g_assert_nonnull(strstr(man, ".SH THE PCI DEVICES TABLE\n"));
  g_assert_nonnull(strstr(man, "   VM ADDR    TYPE           NAME\n"));
  g_assert_nonnull(strstr(man, ".SH THE VM TABLES\n"));
  g_assert_nonnull(strstr(man, "REQ ADDR    TYPE           NAME"));
  g_assert_nonnull(strstr(man, ".SH A VM TEMPLATE\n"));
  g_assert_nonnull(strstr(man, ".SS NICS\n"));
  g_assert_nonnull(strstr(man, ".SH THE NETWORK TABLES\n"));
  g_assert_nonnull(
      strstr(man, "AR TYPE       SIZE USED FIRST MAC         FIRST IP  LAST IP   IPV6\n"));
}

/* Whether @word is in @text with no letter, digit or '_' on either side. */
static gboolean
has_word(const char *text, const char *word)
{
  gsize len = strlen(word);

  for (const char *at = strstr(text, word); at != NULL; at = strstr(at + 1, word)) {
    char before = at > text ? at[-1] : ' ';
    char after = at[len];

    if (!g_ascii_isalnum(before) && before != '_' && !g_ascii_isalnum(after) && after != '_')
      return TRUE;
  }
  return FALSE;
}

/* The words the parser lists in @message after @after (\"NAME, VN_MAD and
 * AR\"), each in @section of pcipass(1); returns how many. */
static guint
assert_listed_words(const char *message, const char *after, const char *section)
{
  const char *list = strstr(message, after);
  g_autofree char *commas = NULL;
  g_auto(GStrv) words = NULL;
  guint n = 0;

  if (list == NULL)
    g_error("the parser's message changed: '%s' has no '%s'", message, after);
  commas = g_strdup(list + strlen(after));
  g_strdelimit(commas, ",", ' ');
  words = g_strsplit(commas, " ", -1);
  for (guint i = 0; words[i] != NULL; i++) {
    if (words[i][0] == '\0' || strcmp(words[i], "and") == 0 || strcmp(words[i], "or") == 0)
      continue;
    if (!has_word(section, words[i]))
      g_error("%s is not in A NETWORK TEMPLATE of man/pcipass.1", words[i]);
    n++;
  }
  return n;
}

/* pcipass(1)'s A NETWORK TEMPLATE names every attribute, AR type, AR key and
 * driver the network template parser takes, as the parser lists them in
 * its refusals: one added there must be documented. */
static void
test_network_template_documented(void)
{
  static const struct {
    const char *text;
    const char *after;
    guint count;
  } cases[] = {
    { "NAME = x\nVN_MAD = dummy\nFOO = 1\n", "a network template has ", 13 },
    { "NAME = x\nVN_MAD = dummy\nAR = [ TYPE = FOO, SIZE = 1 ]\n",
      "is not an address range type: ", 6 },
    { "NAME = x\nVN_MAD = dummy\nAR = [ TYPE = IP4, IP = \"10.0.0.1\", SIZE = 1, FOO = 1 ]\n",
      "AR takes ", 8 },
    { "NAME = x\nVN_MAD = foo\n", "a network driver pcipass implements: ", 4 },
  };
  g_autofree char *man = read_source("man/pcipass.1");
  const char *start = strstr(man, "\n.SH A NETWORK TEMPLATE\n");
  const char *end = NULL;
  g_autofree char *section = NULL;

  g_assert_nonnull(start);
  end = strstr(start + 1, "\n.SH ");
  g_assert_nonnull(end);
  section = g_strndup(start, (gsize)(end - start));
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    PpNetworkSpec *spec =
        pp_network_template_parse(cases[i].text, strlen(cases[i].text), NULL, NULL, &error);

    g_assert_null(spec);
    g_assert_nonnull(error);
    g_assert_cmpuint(assert_listed_words(error->message, cases[i].after, section), ==,
                     cases[i].count);
  }
  /* And what the page says of MACs, ownership and NETWORK_UNAME. */
  g_assert_true(has_word(section, "NETWORK_UNAME"));
  g_assert_nonnull(strstr(section, "02:00"));
  g_assert_nonnull(strstr(section, "never collide"));
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The manual pages of man/: "pcipassd.8", ... sorted. */
static GPtrArray *
man_pages(void)
{
  g_autofree char *man = g_test_build_filename(G_TEST_DIST, "..", "man", NULL);
  g_autoptr(GDir) dir = g_dir_open(man, 0, NULL);
  GPtrArray *pages = g_ptr_array_new_with_free_func(g_free);
  const char *name;

  g_assert_nonnull(dir);
  while ((name = g_dir_read_name(dir)) != NULL) {
    const char *dot = strrchr(name, '.');

    if (dot != NULL && dot[1] >= '1' && dot[1] <= '8' && dot[2] == '\0')
      g_ptr_array_add(pages, g_strdup(name));
  }
  g_ptr_array_sort(pages, compare_names);
  return pages;
}

/* groff, as man runs it at 80 columns (preconv, tbl, the man macros), with
 * every warning on: it prints nothing. A table wider than the line, an
 * unknown request or escape, a bad font: each is a warning. */
static void
test_man_pages_render(void)
{
  g_autoptr(GPtrArray) pages = man_pages();

  g_assert_cmpuint(pages->len, >=, 5);
  for (guint i = 0; i < pages->len; i++) {
    g_autofree char *relative = g_strconcat("man/", pages->pdata[i], NULL);
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", relative, NULL);
    g_autofree char *text = read_source(relative);
    g_auto(PpTestRun) run = { 0 };

    pp_test_run((const char *const[]){ "/usr/bin/groff", "-k", "-t", "-man", "-Tutf8", "-rLL=78n",
                                       "-ww", "-z", path, NULL },
                NULL, &run);
    if (run.status != 0 || run.err[0] != '\0')
      g_error("groff warns about man/%s (exit %d):\n%s", (const char *)pages->pdata[i], run.status,
              run.err);
    /* A page with a table says so in its first line, where man, mandb and
     * lexgrog look for the preprocessors to run. */
    if (strstr(text, "\n.TS\n") != NULL && !g_str_has_prefix(text, "'\\\" t\n"))
      g_error("man/%s has a table but no '\\\" t line first", (const char *)pages->pdata[i]);
  }
}

/* Every page's SEE ALSO names every other page of pcipass, as
 * ".BR name (section)" (the name's '-' as '-' or '\-'). */
static void
test_man_see_also(void)
{
  g_autoptr(GPtrArray) pages = man_pages();

  for (guint i = 0; i < pages->len; i++) {
    const char *page = pages->pdata[i];
    g_autofree char *relative = g_strconcat("man/", page, NULL);
    g_autofree char *text = read_source(relative);
    const char *start = strstr(text, "\n.SH SEE ALSO\n");
    g_autofree char *section = NULL;
    g_autoptr(GString) plain = NULL;
    const char *end;

    if (start == NULL)
      g_error("man/%s has no SEE ALSO", page);
    start += strlen("\n.SH SEE ALSO\n");
    end = strstr(start, "\n.SH ");
    section = end ? g_strndup(start, (gsize)(end - start + 1)) : g_strdup(start);
    plain = g_string_new(section);
    g_string_replace(plain, "\\-", "-", 0);
    for (guint j = 0; j < pages->len; j++) {
      const char *other = pages->pdata[j];
      const char *dot = strrchr(other, '.');
      g_autofree char *want = NULL;

      if (j == i)
        continue;
      want = g_strdup_printf(".BR %.*s (%s)", (int)(dot - other), other, dot + 1);
      if (strstr(plain->str, want) == NULL)
        g_error("the SEE ALSO of man/%s does not name %.*s(%s)", page, (int)(dot - other), other,
                dot + 1);
    }
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/docs/probe-man-page", test_probe_man_page);
  g_test_add_func("/docs/vfio-man-page", test_vfio_man_page);
  g_test_add_func("/docs/context-man-page", test_context_man_page);
  g_test_add_func("/docs/systemd-unit", test_systemd_unit);
  g_test_add_func("/docs/daemon", test_daemon_docs);
  g_test_add_func("/docs/probe-limits", test_probe_limits_documented);
  g_test_add_func("/docs/pciconf-keys", test_pciconf_keys);
  g_test_add_func("/docs/shipped-pci-conf", test_shipped_pci_conf_offers_nothing);
  g_test_add_func("/docs/cli-man-page", test_cli_man_page);
  g_test_add_func("/docs/network-template", test_network_template_documented);
  g_test_add_func("/docs/man-pages-render", test_man_pages_render);
  g_test_add_func("/docs/man-see-also", test_man_see_also);
  return g_test_run();
}
