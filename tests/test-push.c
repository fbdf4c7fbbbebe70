/* Pushed reports against the real pcipassd: a host's report token and
 * what it may not do, POST /v1/hosts/NAME/report (a changed report, the
 * same one again, one that does not parse, one too large), the monitor
 * leaving a push host alone and putting it in error when its reports stop,
 * and the real pcipass-probe --push over TCP on loopback, on a captured
 * tree (the probe's --sysfs-root). */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "pp-test-daemon.h"

/* pcipass-probe --all on @sys, as host @name: the report text. */
static char *
probe_output(PpTestDaemon *f, const char *sys, const char *name)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_run(
      (const char *const[]){ f->probe, "--sysfs-root", sys, "--all", "--hostname", name, NULL },
      NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  return g_strdup(run.out);
}

/* pcipass host token NAME: the secret it prints, alone on its line. */
static char *
make_token(PpTestDaemon *f, const char *name)
{
  g_auto(PpTestRun) run = { 0 };

  pp_test_cli(f, (const char *const[]){ "host", "token", name, NULL }, &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_prefix(run.out, "pph_"));
  g_assert_cmpuint(strlen(run.out), ==, 4 + 64 + 1);
  g_assert_cmpint(run.out[strlen(run.out) - 1], ==, '\n');
  return g_strndup(run.out, strlen(run.out) - 1);
}

/* How many times the monitor started @name's probe so far. */
static guint
probes_of(PpTestDaemon *f, const char *name)
{
  g_autofree char *log = pp_test_daemon_log(f);
  g_autofree char *needle = g_strdup_printf("host '%s': probing with", name);
  guint n = 0;

  for (const char *at = strstr(log, needle); at != NULL; at = strstr(at + 1, needle))
    n++;
  return n;
}

static void
push(PpTestDaemon *f, const char *token, const char *name, const char *text, PpTestReply *ret)
{
  g_autofree char *path = g_strdup_printf("/v1/hosts/%s/report", name);

  pp_test_http(f, NULL, token, "POST", path, text, strlen(text), ret);
}

/* The report token may do one thing; everything else is 403 in words that
 * say so, an unknown or revoked one 401; the secret is never logged. */
static void
test_token_limits(PpTestDaemon *f, gconstpointer data)
{
  static const char *const forbidden[][2] = {
    { "GET", "/v1/whoami" },
    { "GET", "/v1/hosts" },
    { "GET", "/v1/hosts/h1" },
    { "POST", "/v1/hosts/h1/probe" },
    { "POST", "/v1/hosts/h1/token" },
    { "DELETE", "/v1/hosts/h1/token" },
    { "DELETE", "/v1/hosts/h1" },
    { "GET", "/v1/vms" },
    { "POST", "/v1/vms" },
    { "POST", "/v1/tokens" },
    { "GET", "/v1/users" },
    { "GET", "/metrics" },
    { "GET", "/v1/hosts/h1/report" },
    { "GET", "/v1/no-such-thing" },
  };
  g_autofree char *token = NULL;
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;
  g_auto(PpTestRun) run = { 0 };

  pp_test_daemon_start(f, (const char *const[]){ "--monitor-interval", "5", NULL });
  pp_test_add_tree_host(f, "h1", f->trees[2]);
  pp_test_add_tree_host(f, "h2", f->trees[2]);
  token = make_token(f, "h1");
  text = probe_output(f, f->trees[2], "h1");

  for (guint i = 0; i < G_N_ELEMENTS(forbidden); i++) {
    g_auto(PpTestReply) reply = { 0 };
    g_autofree char *expect =
        g_strdup_printf("%s %s: this is host 'h1''s report token: it may only POST "
                        "/v1/hosts/h1/report",
                        forbidden[i][0], forbidden[i][1]);

    pp_test_http(f, NULL, token, forbidden[i][0], forbidden[i][1], NULL, 0, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 403), ==, expect);
  }
  /* Another host's report, by name or id. */
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h2", text, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 403), ==,
                    "this is host 'h1''s report token: it may not report for host 'h2'");
    pp_test_reply_clear(&reply);
    push(f, token, "2", text, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 403), ==,
                    "this is host 'h1''s report token: it may not report for host '2'");
    /* Nothing reached h2. */
    pp_test_reply_clear(&reply);
    pp_test_http(f, f->socket, NULL, "GET", "/v1/hosts/h2", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
  }
  /* On the Unix socket too: the header names the caller. */
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, f->socket, token, "GET", "/v1/hosts", NULL, 0, &reply);
    pp_test_error_message(&reply, 403);
  }
  /* Its own report, by name and by id. */
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    /* Changed, unless the monitor's probe of h1 (before its token) saw the
     * same tree: a pulled report is hashed too. */
    g_assert_true(json_is_boolean(json_object_get(reply.json, "changed")));
    pp_test_reply_clear(&reply);
    push(f, token, "1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_true(json_is_false(json_object_get(reply.json, "changed")));
  }
  /* A push host is not probed from here: asking is 409, and says what to
   * do; a host without a token still is. */
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, f->socket, NULL, "POST", "/v1/hosts/h1/probe", NULL, 0, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 409), ==,
                    "host 'h1' pushes its reports (it has a report token), so pcipassd does not "
                    "probe it: run pcipass-probe --push on the host, or revoke its token (pcipass "
                    "host token h1 --revoke) to have it probed from here");
    pp_test_reply_clear(&reply);
    pp_test_http(f, f->socket, NULL, "POST", "/v1/hosts/h2/probe", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 202);
  }
  /* A token nobody made: 401, in the words of a revoked one. */
  {
    g_auto(PpTestReply) reply = { 0 };
    g_autofree char *unknown = g_strnfill(68, '0');

    memcpy(unknown, "pph_", 4);
    push(f, unknown, "h1", text, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 401), "the host token is not known"));
  }
  /* A user who is not the admin may not push (a user token over TCP). */
  {
    g_auto(PpTestReply) reply = { 0 };
    g_autoptr(json_t) user = NULL;
    g_autoptr(json_t) made = NULL;
    const char *secret;

    user = pp_test_cli_json(f, (const char *const[]){ "user", "create", "alice", NULL });
    made = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--user", "alice", NULL });
    secret = json_string_value(json_object_get(made, "token"));
    g_assert_nonnull(secret);
    push(f, secret, "h1", text, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 403), ==,
                    "POST /v1/hosts/*/report is for an admin; 'alice' is not one");
  }

  /* Revoked: 401 from the next request on; revoking again is refused. */
  pp_test_cli(f, (const char *const[]){ "host", "token", "h1", "--revoke", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_nonnull(strstr(pp_test_error_message(&reply, 401), "the host token is not known"));
  }
  /* Probed from here again. */
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, f->socket, NULL, "POST", "/v1/hosts/h1/probe", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 202);
  }
  pp_test_cli(f, (const char *const[]){ "host", "token", "h1", "--revoke", NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "host 'h1' has no report token"));

  log = pp_test_daemon_log(f);
  g_assert_null(strstr(log, token + 4));
}

/* A changed report is reconciled; the same one again writes nothing; one
 * that does not parse, or is too large, changes nothing. The monitor does
 * not probe a push host. */
static void
test_ingest(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *token = NULL;
  g_autofree char *text = NULL;
  g_autoptr(json_t) first = NULL;
  g_autoptr(json_t) again = NULL;
  g_autoptr(json_t) host = NULL;
  g_autofree char *first_text = NULL;
  json_int_t last_report;
  g_autofree char *again_text = NULL;
  guint probes;

  pp_test_daemon_start(f, (const char *const[]){ "--monitor-interval", "1", NULL });
  /* Probed from another tree until it pushes. */
  pp_test_add_tree_host(f, "h1", f->trees[2]);
  host = pp_test_wait_host(f, "h1", "monitored", 0);
  g_clear_pointer(&host, json_decref);
  token = make_token(f, "h1");
  text = probe_output(f, f->trees[1], "h1");

  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_cmpstr(json_string_value(json_object_get(reply.json, "host")), ==, "h1");
    g_assert_true(json_is_true(json_object_get(reply.json, "changed")));
    g_assert_cmpint(json_integer_value(json_object_get(reply.json, "devices")), ==,
                    pp_test_probe_count(f, f->trees[1]));
  }
  first = pp_test_host_show(f, "h1");
  g_assert_cmpstr(pp_test_host_state(first), ==, "monitored");
  g_assert_cmpint(json_array_size(json_object_get(first, "pci_devices")), ==,
                  pp_test_probe_count(f, f->trees[1]));
  g_assert_cmpstr(json_string_value(json_object_get(json_object_get(first, "facts"), "hostname")),
                  ==, "h1");

  /* The same report: nothing written, the rows as they were. */
  g_usleep(1100 * 1000); /* a new second: a write would change last_monitored */
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_true(json_is_false(json_object_get(reply.json, "changed")));
  }
  again = pp_test_host_show(f, "h1");
  /* Only the time of the last report moves, which the monitor keeps in
   * memory (and the host's show says). */
  g_assert_cmpstr(json_string_value(json_object_get(first, "reports")), ==, "pushed");
  g_assert_cmpint(json_integer_value(json_object_get(again, "last_report")), >,
                  json_integer_value(json_object_get(first, "last_report")));
  g_assert_cmpint(json_integer_value(json_object_get(first, "last_report")), >=,
                  json_integer_value(json_object_get(first, "last_monitored")));
  last_report = json_integer_value(json_object_get(again, "last_report"));
  json_object_del(first, "last_report");
  json_object_del(again, "last_report");
  first_text = json_dumps(first, JSON_SORT_KEYS);
  again_text = json_dumps(again, JSON_SORT_KEYS);
  g_assert_cmpstr(again_text, ==, first_text);
  {
    g_auto(PpTestRun) run = { 0 };

    pp_test_cli(f, (const char *const[]){ "host", "show", "h1", NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "\nREPORTS        : pushed by the host, the last one "));
  }

  /* Does not parse: 400 with its line; nothing changed. */
  {
    g_auto(PpTestReply) reply = { 0 };
    g_autoptr(json_t) after = NULL;
    g_autofree char *after_text = NULL;

    push(f, token, "h1", "HOSTNAME = \"h1\"\nPCI = [ VENDOR = \"zz\" ]\n", &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 400), ==,
                    "the report of host 'h1' is refused, nothing changed: line 2: PCI record 1: "
                    "has neither ADDRESS nor SHORT_ADDRESS");
    /* Nor does its syntax: 400 with the line and column, not a 500. */
    pp_test_reply_clear(&reply);
    push(f, token, "h1", "HOSTNAME = \"h1\"\nPCI = [ ADDRESS = \n", &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 400), ==,
                    "the report of host 'h1' is refused, nothing changed: line 2, column 19: "
                    "expected a value for ADDRESS in vector PCI (write \"\" for an empty value), "
                    "found the end of the line");
    after = pp_test_host_show(f, "h1");
    /* A refused report is not one: the last report stays the one before. */
    g_assert_cmpint(json_integer_value(json_object_get(after, "last_report")), ==, last_report);
    json_object_del(after, "last_report");
    after_text = json_dumps(after, JSON_SORT_KEYS);
    g_assert_cmpstr(after_text, ==, first_text);
  }
  /* Too large: 413 on its head, nothing read. */
  {
    g_auto(PpTestReply) reply = { 0 };
    gsize size = 4 * 1024 * 1024 + 1;
    g_autofree char *big = g_malloc(size + 1);

    memset(big, '#', size);
    big[size] = '\0';
    pp_test_http(f, NULL, token, "POST", "/v1/hosts/h1/report", big, size, &reply);
    g_assert_cmpstr(pp_test_error_message(&reply, 413), ==,
                    "request body larger than 4194304 bytes");
  }

  /* /metrics counts them: the first changed, the second unchanged, the two
   * bad ones refused (the large one was refused on its head, before the
   * API). */
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, f->socket, NULL, "GET", "/metrics", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_nonnull(
        strstr(reply.body->str, "pcipass_reports_pushed_total{result=\"changed\"} 1\n"));
    g_assert_nonnull(
        strstr(reply.body->str, "pcipass_reports_pushed_total{result=\"unchanged\"} 1\n"));
    g_assert_nonnull(
        strstr(reply.body->str, "pcipass_reports_pushed_total{result=\"refused\"} 2\n"));
    g_assert_nonnull(strstr(reply.body->str, "pcipass_push_stale_total 0\n"));
  }

  /* Not probed any more: its probe count stays while passes go by. */
  g_usleep(1500 * 1000);
  probes = probes_of(f, "h1");
  g_assert_cmpuint(probes, >=, 1);
  g_usleep(3500 * 1000);
  g_assert_cmpuint(probes_of(f, "h1"), ==, probes);
  /* Nor on an admin's poke, which is refused (test_token_limits has its
   * words). */
  {
    g_auto(PpTestReply) reply = { 0 };

    pp_test_http(f, f->socket, NULL, "POST", "/v1/hosts/h1/probe", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 409);
    g_usleep(500 * 1000);
    g_assert_cmpuint(probes_of(f, "h1"), ==, probes);
  }
}

/* The device of @show's pci_devices (or a place reply's devices, @key)
 * at @address. */
static json_t *
device_at(json_t *show, const char *key, const char *address)
{
  json_t *devices = json_object_get(show, key);

  for (gsize i = 0; i < json_array_size(devices); i++) {
    json_t *dev = json_array_get(devices, i);

    if (g_strcmp0(json_string_value(json_object_get(dev, "address")), address) == 0)
      return dev;
  }
  g_error("no device %s in %s", address, key);
}

/* A VMD domain (0x10000) from a pushed report to the API: the address
 * typed on the way and shown as before, in the long form and lspci's
 * short one (the domain kept: it is not 0); a request by that address is
 * placed with its IOMMU group's companion of the same domain, not the
 * 0000:e1:00.1 of domain 0. */
static void
test_vmd_domain(PpTestDaemon *f, gconstpointer data)
{
  static const char text[] = "HOSTNAME = \"h1\"\nCPU_COUNT = \"8\"\nMEMORY_KIB = \"16777216\"\n"
                             "PCI = [ VENDOR = \"10de\", DEVICE = \"20b0\", CLASS = \"0302\", "
                             "ADDRESS = \"10000:e1:00:0\", IOMMU_GROUP = \"3\", "
                             "IOMMU_GROUP_ENDPOINTS = \"10000:e1:00.0,10000:e1:00.1\" ]\n"
                             "PCI = [ VENDOR = \"10de\", DEVICE = \"1aef\", CLASS = \"0403\", "
                             "SHORT_ADDRESS = \"10000:e1:00.1\", IOMMU_GROUP = \"3\", "
                             "IOMMU_GROUP_ENDPOINTS = \"10000:e1:00.0,10000:e1:00.1\" ]\n"
                             "PCI = [ VENDOR = \"8086\", DEVICE = \"1521\", CLASS = \"0200\", "
                             "SHORT_ADDRESS = \"e1:00.1\" ]\n";
  g_autofree char *token = NULL;
  g_autoptr(json_t) host = NULL;
  g_auto(PpTestReply) reply = { 0 };
  json_t *dev;

  pp_test_daemon_start(f, NULL);
  pp_test_add_tree_host(f, "h1", f->trees[2]);
  host = pp_test_wait_host(f, "h1", "monitored", 0);
  g_clear_pointer(&host, json_decref);
  token = make_token(f, "h1");
  push(f, token, "h1", text, &reply);
  g_assert_cmpint(reply.status, ==, 200);
  pp_test_reply_clear(&reply);

  host = pp_test_host_show(f, "h1");
  g_assert_cmpuint(json_array_size(json_object_get(host, "pci_devices")), ==, 3);
  dev = device_at(host, "pci_devices", "10000:e1:00.0");
  g_assert_cmpstr(json_string_value(json_object_get(dev, "short_address")), ==, "10000:e1:00.0");
  dev = device_at(host, "pci_devices", "0000:e1:00.1");
  g_assert_cmpstr(json_string_value(json_object_get(dev, "short_address")), ==, "e1:00.1");

  pp_test_post_template(f, "/v1/vms/place",
                        "CPU = 1\nMEMORY = 64\nPCI = [ SHORT_ADDRESS = \"10000:e1:00.0\" ]\n",
                        &reply);
  g_assert_cmpint(reply.status, ==, 200);
  g_assert_true(json_is_true(json_object_get(reply.json, "fits")));
  g_assert_cmpuint(json_array_size(json_object_get(reply.json, "devices")), ==, 2);
  dev = device_at(reply.json, "devices", "10000:e1:00.0");
  g_assert_cmpstr(json_string_value(json_object_get(dev, "short_address")), ==, "10000:e1:00.0");
  g_assert_cmpint(json_integer_value(json_object_get(dev, "request")), ==, 0);
  dev = device_at(reply.json, "devices", "10000:e1:00.1");
  g_assert_true(json_is_null(json_object_get(dev, "request")));
  pp_test_daemon_stop(f);
}

/* No report for 3 monitor intervals: error, saying so; the next report
 * clears it, though it is the same as the last. Revoked: probed again. */
static void
test_stale(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *token = NULL;
  g_autofree char *text = NULL;
  g_autoptr(json_t) host = NULL;
  const char *error;
  guint probes;

  pp_test_daemon_start(f, (const char *const[]){ "--monitor-interval", "1", NULL });
  pp_test_add_tree_host(f, "h1", f->trees[2]);
  host = pp_test_wait_host(f, "h1", "monitored", 0);
  g_clear_pointer(&host, json_decref);
  token = make_token(f, "h1");
  text = probe_output(f, f->trees[2], "h1");
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
  }
  host = pp_test_wait_host(f, "h1", "error", 0);
  error = json_string_value(json_object_get(host, "error"));
  g_assert_nonnull(error);
  g_assert_true(g_str_has_prefix(error, "no report pushed for "));
  g_assert_nonnull(strstr(error, "(more than 3 monitor intervals of 1 s): check "
                                 "pcipass-probe-push.timer on the host and its token"));
  g_clear_pointer(&host, json_decref);
  {
    g_auto(PpTestReply) reply = { 0 };

    push(f, token, "h1", text, &reply);
    g_assert_cmpint(reply.status, ==, 200);
    g_assert_true(json_is_true(json_object_get(reply.json, "changed")));
  }
  host = pp_test_host_show(f, "h1");
  g_assert_cmpstr(pp_test_host_state(host), ==, "monitored");
  g_assert_true(json_is_null(json_object_get(host, "error")));

  /* Revoked: the monitor probes it again. */
  probes = probes_of(f, "h1");
  {
    g_auto(PpTestRun) run = { 0 };

    pp_test_cli(f, (const char *const[]){ "host", "token", "h1", "--revoke", NULL }, &run);
    g_assert_cmpint(run.status, ==, 0);
  }
  for (gint64 deadline = g_get_monotonic_time() + PP_TEST_WAIT_US; probes_of(f, "h1") == probes;
       g_usleep(100 * 1000))
    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
}

/* The real pcipass-probe --push, over TCP on loopback: a changed report,
 * the same again, then each way it refuses or fails. */
static void
test_probe_push(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *token = NULL;
  g_autofree char *token_file = g_build_filename(f->dir, "push.token", NULL);
  g_autofree char *other_file = g_build_filename(f->dir, "other.token", NULL);
  g_autofree char *url = NULL;
  g_autofree char *other_url = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(json_t) host = NULL;
  g_auto(PpTestRun) run = { 0 };

  pp_test_daemon_start(f, (const char *const[]){ "--monitor-interval", "5", NULL });
  /* A host whose probe cannot run: only pushes fill it. */
  {
    g_auto(PpTestRun) made = { 0 };

    pp_test_cli(f,
                (const char *const[]){ "host", "create", "h1", "--probe-command",
                                       "/nonexistent/pcipass-probe", "--libvirt-uri",
                                       "test:///default", NULL },
                &made);
    g_assert_cmpint(made.status, ==, 0);
    pp_test_run_clear(&made);
    pp_test_cli(f,
                (const char *const[]){ "host", "create", "h2", "--probe-command",
                                       "/nonexistent/pcipass-probe", NULL },
                &made);
    g_assert_cmpint(made.status, ==, 0);
  }
  token = make_token(f, "h1");
  contents = g_strconcat(token, "\n", NULL);
  pp_test_write_file(token_file, contents);
  g_assert_cmpint(chmod(token_file, 0600), ==, 0);
  url = g_strdup_printf("http://127.0.0.1:%u/v1/hosts/h1/report", f->port);
  other_url = g_strdup_printf("http://127.0.0.1:%u/v1/hosts/h2/report", f->port);

#define PROBE_PUSH(u, file)                                                                        \
  (const char *const[]){ f->probe,       "--sysfs-root", f->trees[1], "--all",                     \
                         "--hostname",   "h1",           "--push",    u,                           \
                         "--token-file", file,           NULL }
  pp_test_run(PROBE_PUSH(url, token_file), NULL, &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
  {
    g_autofree char *expect =
        g_strdup_printf("pushed to '%s': changed: %u devices (%u new, 0 removed)\n", url,
                        pp_test_probe_count(f, f->trees[1]), pp_test_probe_count(f, f->trees[1]));

    g_assert_cmpstr(run.out, ==, expect);
  }
  pp_test_run_clear(&run);
  host = pp_test_host_show(f, "h1");
  g_assert_cmpstr(pp_test_host_state(host), ==, "monitored");
  g_assert_cmpint(json_integer_value(json_object_get(host, "pci_total")), ==,
                  pp_test_probe_count(f, f->trees[1]));

  pp_test_run(PROBE_PUSH(url, token_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_true(g_str_has_suffix(run.out, "': unchanged\n"));
  pp_test_run_clear(&run);

  /* Another host's URL: pcipassd's 403, exit 1. */
  pp_test_run(PROBE_PUSH(other_url, token_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "pcipassd refused the report (HTTP 403): this is host 'h1''s "
                                   "report token: it may not report for host 'h2'"));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);

  /* A token file every user may read: refused before anything is sent. */
  g_assert_cmpint(chmod(token_file, 0644), ==, 0);
  pp_test_run(PROBE_PUSH(url, token_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "is readable or writable by every user (mode 0644): make it "
                                   "private first ('chmod 600 "));
  pp_test_run_clear(&run);
  g_assert_cmpint(chmod(token_file, 0600), ==, 0);

  /* A file without a token; a missing one. */
  pp_test_write_file(other_file, "two words\n");
  g_assert_cmpint(chmod(other_file, 0600), ==, 0);
  pp_test_run(PROBE_PUSH(url, other_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "does not hold one token on one line"));
  pp_test_run_clear(&run);
  g_assert_cmpint(g_unlink(other_file), ==, 0);
  pp_test_run(PROBE_PUSH(url, other_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "No such file or directory"));
  pp_test_run_clear(&run);

  /* Bad usage: no token file, a URL that is not http. */
  pp_test_run(
      (const char *const[]){ f->probe, "--sysfs-root", f->trees[1], "--all", "--push", url, NULL },
      NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--push needs --token-file FILE"));
  pp_test_run_clear(&run);
  pp_test_run(PROBE_PUSH("ftp://127.0.0.1/x", token_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "give pcipassd's report URL"));
  pp_test_run_clear(&run);
  pp_test_run((const char *const[]){ f->probe, "--all", "--token-file", token_file, NULL }, NULL,
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--token-file and --ca-file go with --push URL"));
  pp_test_run_clear(&run);

  /* pcipassd gone: exit 1, saying where. */
  pp_test_daemon_stop(f);
  pp_test_run(PROBE_PUSH(url, token_file), NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  {
    g_autofree char *where = g_strdup_printf("pushing to '%s': ", url);

    g_assert_nonnull(strstr(run.err, where));
  }
#undef PROBE_PUSH
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

#define ADD(path, func)                                                                            \
  g_test_add(path, PpTestDaemon, NULL, pp_test_daemon_set_up, func, pp_test_daemon_tear_down)
  ADD("/push/token-limits", test_token_limits);
  ADD("/push/ingest", test_ingest);
  ADD("/push/stale", test_stale);
  ADD("/push/vmd-domain", test_vmd_domain);
  ADD("/push/probe-push", test_probe_push);
#undef ADD
  return g_test_run();
}
