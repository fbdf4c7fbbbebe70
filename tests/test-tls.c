/* TLS through the real pcipassd and pcipass: a CA and a server certificate
 * made at test time with openssl (argv, PP_OPENSSL from meson), pcipassd
 * serving --listen in TLS, pcipass verifying it (--ca-file,
 * PCIPASS_CA_FILE, the system's store), pcipass-probe --push verifying it
 * (--ca-file), and the starts refused on a bad certificate or key, leaving
 * nothing behind. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pp-fd.h"
#include "pp-test-daemon.h"

/* A CA, a server certificate it signed (for 127.0.0.1 and localhost), and
 * another CA that signed nothing of ours. */
typedef struct {
  char *ca;
  char *ca_key;
  char *other_ca;
  char *cert;
  char *key;
  char *expired;
} Certs;

static const char *
openssl(void)
{
  const char *path = g_getenv("PP_OPENSSL");

  g_assert_nonnull(path); /* meson sets it; scripts/install-deps installs openssl */
  return path;
}

static void
run_openssl(const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_auto(PpTestRun) run = { 0 };

  g_ptr_array_add(argv, (gpointer)openssl());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  pp_test_run((const char *const *)argv->pdata, NULL, &run);
  if (run.status != 0)
    g_error("openssl %s: %s", args[0], run.err);
}

static void
make_ca(const char *dir, const char *name, char **ret_pem, char **ret_key)
{
  g_autofree char *subject = g_strdup_printf("/CN=pcipass test %s", name);
  g_autofree char *pem_name = g_strconcat(name, ".pem", NULL);
  g_autofree char *key_name = g_strconcat(name, ".key", NULL);

  *ret_pem = g_build_filename(dir, pem_name, NULL);
  *ret_key = g_build_filename(dir, key_name, NULL);
  run_openssl((const char *const[]){ "req",
                                     "-x509",
                                     "-newkey",
                                     "ec",
                                     "-pkeyopt",
                                     "ec_paramgen_curve:prime256v1",
                                     "-nodes",
                                     "-keyout",
                                     *ret_key,
                                     "-out",
                                     *ret_pem,
                                     "-days",
                                     "2",
                                     "-subj",
                                     subject,
                                     "-addext",
                                     "basicConstraints=critical,CA:TRUE",
                                     "-addext",
                                     "keyUsage=critical,keyCertSign,cRLSign",
                                     NULL });
}

/* A server key and its certificate signed by @ca for @days days. */
static void
make_server_cert(const char *dir, const char *name, const char *ca, const char *ca_key,
                 const char *days, char **ret_pem, char **ret_key)
{
  g_autofree char *pem_name = g_strconcat(name, ".pem", NULL);
  g_autofree char *key_name = g_strconcat(name, ".key", NULL);
  g_autofree char *csr = g_build_filename(dir, "server.csr", NULL);
  g_autofree char *ext = g_build_filename(dir, "server.ext", NULL);
  g_autofree char *serial = g_build_filename(dir, "ca.srl", NULL);

  *ret_pem = g_build_filename(dir, pem_name, NULL);
  *ret_key = g_build_filename(dir, key_name, NULL);
  pp_test_write_file(ext, "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
                          "extendedKeyUsage = serverAuth\n"
                          "basicConstraints = CA:FALSE\n");
  run_openssl((const char *const[]){ "req", "-new", "-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", *ret_key,
                                     "-out", csr, "-subj", "/CN=127.0.0.1", NULL });
  run_openssl((const char *const[]){ "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                                     "-CAserial", serial, "-CAcreateserial", "-out", *ret_pem,
                                     "-days", days, "-extfile", ext, NULL });
  g_assert_cmpint(chmod(*ret_key, 0600), ==, 0);
}

static void
certs_make(Certs *c, const char *dir)
{
  g_autofree char *other_key = NULL;
  g_autofree char *expired_key = NULL;

  make_ca(dir, "ca", &c->ca, &c->ca_key);
  make_ca(dir, "other-ca", &c->other_ca, &other_key);
  make_server_cert(dir, "server", c->ca, c->ca_key, "2", &c->cert, &c->key);
  /* Valid for 0 days: over by the time pcipassd reads it. */
  make_server_cert(dir, "expired", c->ca, c->ca_key, "0", &c->expired, &expired_key);
}

static void
certs_clear(Certs *c)
{
  g_free(c->ca);
  g_free(c->ca_key);
  g_free(c->other_ca);
  g_free(c->cert);
  g_free(c->key);
  g_free(c->expired);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Certs, certs_clear)

/* What comes on @fd until the server closes it (a guard of 60 s against
 * a hang, not a timing). */
static char *
read_until_closed(int fd)
{
  GString *out = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

  for (;;) {
    char buf[4096];
    GPollFD pfd = { fd, G_IO_IN, 0 };
    ssize_t n;

    g_assert_cmpint(g_get_monotonic_time(), <, deadline);
    if (g_poll(&pfd, 1, 100) <= 0)
      continue;
    n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    g_string_append_len(out, buf, n);
  }
  return g_string_free(out, FALSE);
}

/* Sends @request over TLS with openssl s_client (it waits for the server
 * to close). Returns: (transfer full): what came back. */
static char *
tls_raw(PpTestDaemon *f, const char *ca, const char *request)
{
  g_autofree char *connect = g_strdup_printf("127.0.0.1:%u", f->port);
  g_auto(PpTestRun) run = { 0 };

  pp_test_run((const char *const[]){ openssl(), "s_client", "-connect", connect, "-CAfile", ca,
                                     "-verify_return_error", "-quiet", NULL },
              request, &run);
  return g_steal_pointer(&run.out);
}

/* CURLOPT_WRITEFUNCTION of an events stream: takes what comes until the
 * hello is in, then ends the transfer (0). */
static size_t
on_stream_data(char *data, size_t size, size_t n, void *user_data)
{
  GString *got = user_data;

  g_string_append_len(got, data, (gssize)(size * n));
  return strstr(got->str, "event: hello\n") != NULL && strstr(got->str, "}\n\n") != NULL ? 0
                                                                                         : size * n;
}

/* pcipassd serves TLS: a client that verifies it with the CA gets the
 * API's answers (libmicrohttpd's own ones counted too), the header timeout
 * holds, and plain HTTP at the TLS port fails cleanly. */
static void
test_serve(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Certs) c = { 0 };
  g_autofree char *log = NULL;
  g_autofree char *whoami = NULL;

  certs_make(&c, f->dir);
  pp_test_daemon_start(f, (const char *const[]){ "--tls-cert", c.cert, "--tls-key", c.key,
                                                 "--header-timeout", "2", NULL });
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "(TLS)"));
  g_assert_null(strstr(log, "unencrypted"));

  /* Verified against the CA (s_client -verify_return_error), the API
   * answers: without a token, its 401. */
  whoami = tls_raw(f, c.ca, "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true(g_str_has_prefix(whoami, "HTTP/1.1 401 "));
  g_assert_nonnull(strstr(whoami, "\"code\": 401,"));

  /* Plain HTTP at the TLS port: no answer, and pcipassd goes on. */
  {
    g_auto(PpTestReply) reply = { 0 };

    g_assert_cmpint(pp_test_http_try(f, NULL, NULL, "GET", "/v1/hosts", NULL, 0, &reply), !=,
                    CURLE_OK);
    pp_test_reply_clear(&reply);
    pp_test_http(f, f->socket, NULL, "GET", "/v1/whoami", NULL, 0, &reply);
    g_assert_cmpint(reply.status, ==, 200);
  }

  /* The header timeout holds over TLS: a client that never says hello is
   * cut. */
  {
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    pp_autofd int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    guint64 before =
        pp_test_metric(f, "pcipass_http_connections_cut_total{reason=\"header-timeout\"}");
    g_autofree char *got = NULL;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    got = read_until_closed(fd);
    g_assert_cmpstr(got, ==, "");
    g_assert_cmpuint(
        pp_test_metric(f, "pcipass_http_connections_cut_total{reason=\"header-timeout\"}"), ==,
        before + 1);
  }

  /* Over TLS, heads reach libmicrohttpd unchecked: a chunked body is
   * refused by pp-http all the same (JSON), a malformed head by
   * libmicrohttpd itself, and both are counted. */
  {
    guint64 before = pp_test_metric(f, "pcipass_http_responses_total{class=\"4xx\"}");
    g_autofree char *chunked = NULL;
    g_autofree char *malformed = NULL;

    chunked = tls_raw(
        f, c.ca, "POST /v1/vms HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    g_assert_true(g_str_has_prefix(chunked, "HTTP/1.1 411 "));
    g_assert_nonnull(strstr(chunked, "{\"error\": {\"code\": 411, \"message\": \"a body must come "
                                     "with a Content-Length"));
    malformed = tls_raw(f, c.ca, "GET /v1/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n");
    g_assert_true(g_str_has_prefix(malformed, "HTTP/1.1 400 "));
    g_assert_cmpuint(pp_test_metric(f, "pcipass_http_responses_total{class=\"4xx\"}"), ==,
                     before + 2);
  }

  /* A browser's login over TLS: its cookie is Secure (issue 14; the rest
   * of sessions is test-session.c's). */
  {
    g_autoptr(json_t) token =
        pp_test_cli_json(f, (const char *const[]){ "token", "create", "--name", "web", NULL });
    g_autofree char *body =
        g_strdup_printf("{\"token\": \"%s\"}", json_string_value(json_object_get(token, "token")));
    g_autofree char *request =
        g_strdup_printf("POST /v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: "
                        "application/json\r\nContent-Length: %zu\r\n\r\n%s",
                        strlen(body), body);
    g_autofree char *got = tls_raw(f, c.ca, request);
    const char *line = strstr(got, "\r\nSet-Cookie: pp_session=");

    g_assert_true(g_str_has_prefix(got, "HTTP/1.1 201 "));
    g_assert_nonnull(line);
    line += strlen("\r\nSet-Cookie: pp_session=");
    g_assert_cmpuint(strspn(line, "0123456789abcdef"), ==, 64);
    g_assert_true(g_str_has_prefix(line + 64, "; Path=/; HttpOnly; SameSite=Strict; Secure\r\n"));

    /* The events stream over TLS: its hello comes while the stream stays
     * open (the client ends it); and the web UI's page. */
    {
      g_autofree char *url = g_strdup_printf("https://127.0.0.1:%u/v1/events", f->port);
      g_autofree char *auth = g_strdup_printf("Authorization: Bearer %s",
                                              json_string_value(json_object_get(token, "token")));
      g_autoptr(GString) stream = g_string_new(NULL);
      struct curl_slist *headers = curl_slist_append(NULL, auth);
      CURL *curl = curl_easy_init();
      g_autofree char *page = tls_raw(f, c.ca, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");

      curl_easy_setopt(curl, CURLOPT_URL, url);
      curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca);
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_stream_data);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, stream);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
      /* Ended by on_stream_data once the hello is in. */
      g_assert_cmpint(curl_easy_perform(curl), ==, CURLE_WRITE_ERROR);
      g_assert_nonnull(strstr(stream->str, "event: hello\ndata: {\"user\":\"root\""));
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
      g_assert_true(g_str_has_prefix(page, "HTTP/1.1 200 "));
      g_assert_nonnull(strstr(page, "\r\nContent-Security-Policy: default-src 'none'; script-src "
                                    "'self';"));
    }
  }
  pp_test_daemon_stop(f);
}

/* pcipass verifies pcipassd: with the CA (--ca-file, PCIPASS_CA_FILE) it
 * works; without it, or with another, it stops before the token goes;
 * plain http:// at the TLS port fails cleanly with a hint; --ca-file where
 * it means nothing is a usage error. */
static void
test_cli(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Certs) c = { 0 };
  g_autoptr(json_t) token = NULL;
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *local_url = NULL;
  g_autofree char *plain_url = NULL;
  const char *secret;

  certs_make(&c, f->dir);
  pp_test_daemon_start(f, (const char *const[]){ "--tls-cert", c.cert, "--tls-key", c.key, NULL });
  url = g_strdup_printf("https://127.0.0.1:%u", f->port);
  local_url = g_strdup_printf("https://localhost:%u", f->port);
  plain_url = g_strdup_printf("http://127.0.0.1:%u", f->port);

  /* The socket stays plain; a token for TCP. */
  token = pp_test_cli_json(f, (const char *const[]){ "token", "create", "--name", "tls", NULL });
  secret = json_string_value(json_object_get(token, "token"));
  g_assert_nonnull(secret);
  g_setenv("PCIPASS_TOKEN", secret, TRUE);

  /* Verified with the CA: --ca-file, or PCIPASS_CA_FILE, by address or
   * name (the certificate names both). */
  pp_test_cli(f, (const char *const[]){ "host", "list", "--url", url, "--ca-file", c.ca, NULL },
              &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  g_setenv("PCIPASS_CA_FILE", c.ca, TRUE);
  pp_test_cli(f, (const char *const[]){ "--url", local_url, "user", "list", "--json", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "\"root\""));
  pp_test_run_clear(&run);
  g_unsetenv("PCIPASS_CA_FILE");

  /* Without the CA (the system's store does not know it), or with
   * another: refused before the token is sent. */
  pp_test_cli(f, (const char *const[]){ "host", "list", "--url", url, NULL }, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_test_message("%s", run.err);
  g_assert_true(g_str_has_prefix(run.err, "pcipass: cannot verify pcipassd at 'https://"));
  g_assert_nonnull(strstr(run.err, "--ca-file FILE or PCIPASS_CA_FILE"));
  g_assert_null(strstr(run.err, secret));
  pp_test_run_clear(&run);
  pp_test_cli(f,
              (const char *const[]){ "host", "list", "--url", url, "--ca-file", c.other_ca, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, "cannot verify pcipassd at"));
  g_assert_nonnull(strstr(run.err, c.other_ca));
  pp_test_run_clear(&run);

  /* Plain HTTP at the TLS port: a clean failure, and a hint. */
  pp_test_cli(f, (const char *const[]){ "host", "list", "--url", plain_url, NULL }, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_test_message("%s", run.err);
  g_assert_nonnull(strstr(run.err, "cannot reach pcipassd at 'http://127.0.0.1:"));
  g_assert_nonnull(strstr(run.err, "then the URL is https://"));
  pp_test_run_clear(&run);

  /* Bad usage of --ca-file: exit 2, nothing asked. */
  pp_test_cli(f,
              (const char *const[]){ "host", "list", "--url", plain_url, "--ca-file", c.ca, NULL },
              &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "--ca-file is for an https:// URL"));
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "list", "--ca-file", c.ca, NULL }, &run);
  g_assert_cmpint(run.status, ==, 2);
  g_assert_nonnull(strstr(run.err, "the Unix socket needs no TLS"));
  pp_test_run_clear(&run);
  {
    g_autofree char *missing = g_build_filename(f->dir, "missing.pem", NULL);

    pp_test_cli(
        f, (const char *const[]){ "host", "list", "--url", url, "--ca-file", missing, NULL }, &run);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "cannot read the CA file"));
    g_assert_nonnull(strstr(run.err, missing));
    pp_test_run_clear(&run);
  }

  g_unsetenv("PCIPASS_TOKEN");
  pp_test_daemon_stop(f);
}

/* Plain HTTP on TCP stays possible, and the log says it is unencrypted. */
static void
test_plain_warns(PpTestDaemon *f, gconstpointer data)
{
  g_autofree char *log = NULL;

  pp_test_daemon_start(f, NULL);
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "is plain HTTP, unencrypted"));
  g_assert_nonnull(strstr(log, "(plain HTTP)"));
  pp_test_daemon_stop(f);
}

/* An expired certificate is served all the same (the Unix socket must not
 * go with it), and the log says so. */
static void
test_expired_warns(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Certs) c = { 0 };
  g_autofree char *log = NULL;
  g_autofree char *key = NULL;

  certs_make(&c, f->dir);
  key = g_build_filename(f->dir, "expired.key", NULL);
  g_usleep(1100 * 1000); /* past the 0-day certificate's end */
  pp_test_daemon_start(f, (const char *const[]){ "--tls-cert", c.expired, "--tls-key", key, NULL });
  log = pp_test_daemon_log(f);
  g_assert_nonnull(strstr(log, "expired on"));
  g_assert_nonnull(strstr(log, c.expired));
  pp_test_daemon_stop(f);
}

/* A bad certificate or key, or TLS settings that do not go together:
 * pcipassd says what is wrong and where, and starts nothing, makes
 * nothing. */
static void
test_refuse_start(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Certs) c = { 0 };
  g_autofree char *missing = NULL;
  g_autofree char *garbage = NULL;
  g_autofree char *state = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *run_dir = NULL;

  certs_make(&c, f->dir);
  missing = g_build_filename(f->dir, "missing.pem", NULL);
  garbage = g_build_filename(f->dir, "garbage.pem", NULL);
  pp_test_write_file(garbage, "not a certificate\n");
  state = g_build_filename(f->dir, "refused", "state", NULL);
  run_dir = g_build_filename(f->dir, "refused", "run", NULL);
  socket = g_build_filename(run_dir, "pcipassd.sock", NULL);

  {
    const struct {
      const char *cert;
      const char *key;
      gboolean listen;
      int status;
      const char *message;
      const char *names; /* a file the message names */
    } cases[] = {
      { missing, c.key, TRUE, 1, "the TLS certificate: cannot read", missing },
      { c.cert, missing, TRUE, 1, "the TLS key: cannot read", missing },
      { garbage, c.key, TRUE, 2, "is not a PEM file", garbage },
      { c.key, c.key, TRUE, 2, "holds no certificate", c.key },
      { c.cert, c.cert, TRUE, 2, "holds no private key", c.cert },
      { c.cert, c.ca_key, TRUE, 2, "does not go with the certificate", c.ca_key },
      { c.cert, "", TRUE, 2, "tls-cert and tls-key go together", NULL },
      { "", c.key, TRUE, 2, "tls-cert and tls-key go together", NULL },
      { c.cert, c.key, FALSE, 2, "are for TCP: give listen too", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
      g_autoptr(GPtrArray) argv = g_ptr_array_new();
      g_auto(PpTestRun) run = { 0 };

      g_ptr_array_add(argv, f->daemon);
      g_ptr_array_add(argv, "--state-dir");
      g_ptr_array_add(argv, state);
      g_ptr_array_add(argv, "--socket");
      g_ptr_array_add(argv, socket);
      if (cases[i].listen) {
        g_ptr_array_add(argv, "--listen");
        g_ptr_array_add(argv, "127.0.0.1:0");
      }
      g_ptr_array_add(argv, "--tls-cert");
      g_ptr_array_add(argv, (gpointer)cases[i].cert);
      g_ptr_array_add(argv, "--tls-key");
      g_ptr_array_add(argv, (gpointer)cases[i].key);
      g_ptr_array_add(argv, NULL);
      pp_test_run((const char *const *)argv->pdata, NULL, &run);
      g_test_message("case %u: %s", i, run.err);
      g_assert_cmpint(run.status, ==, cases[i].status);
      g_assert_true(g_str_has_prefix(run.err, "pcipassd: "));
      g_assert_nonnull(strstr(run.err, cases[i].message));
      if (cases[i].names != NULL)
        g_assert_nonnull(strstr(run.err, cases[i].names));
      g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS));
      g_assert_false(g_file_test(run_dir, G_FILE_TEST_EXISTS));
    }
  }
}

/* pcipass-probe --push verifies pcipassd as pcipass does: with the CA
 * (--ca-file) the report goes; with another CA, or the system's store,
 * nothing goes, exit 1, saying where. */
static void
test_probe_push(PpTestDaemon *f, gconstpointer data)
{
  g_auto(Certs) c = { 0 };
  g_auto(PpTestRun) run = { 0 };
  g_autofree char *url = NULL;
  g_autofree char *token_file = g_build_filename(f->dir, "push.token", NULL);
  g_autofree char *where = NULL;

  certs_make(&c, f->dir);
  pp_test_daemon_start(f, (const char *const[]){ "--tls-cert", c.cert, "--tls-key", c.key, NULL });
  url = g_strdup_printf("https://127.0.0.1:%u/v1/hosts/h1/report", f->port);
  where = g_strdup_printf("pushing to '%s': ", url);
  pp_test_cli(f,
              (const char *const[]){ "host", "create", "h1", "--probe-command",
                                     "/nonexistent/pcipass-probe", NULL },
              &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_run_clear(&run);
  pp_test_cli(f, (const char *const[]){ "host", "token", "h1", NULL }, &run);
  g_assert_cmpint(run.status, ==, 0);
  pp_test_write_file(token_file, run.out);
  g_assert_cmpint(chmod(token_file, 0600), ==, 0);
  pp_test_run_clear(&run);

#define PUSH_WITH(...)                                                                             \
  (const char *const[]){ f->probe, "--sysfs-root", f->trees[2], "--all",    "--push",              \
                         url,      "--token-file", token_file,  __VA_ARGS__ }
  pp_test_run(PUSH_WITH("--ca-file", c.ca, NULL), NULL, &run);
  if (run.status != 0)
    g_test_message("%s", run.err);
  g_assert_cmpint(run.status, ==, 0);
  g_assert_nonnull(strstr(run.out, "': changed: "));
  pp_test_run_clear(&run);

  pp_test_run(PUSH_WITH("--ca-file", c.other_ca, NULL), NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, where));
  g_assert_cmpstr(run.out, ==, "");
  pp_test_run_clear(&run);
  pp_test_run(PUSH_WITH(NULL), NULL, &run);
  g_assert_cmpint(run.status, ==, 1);
  g_assert_nonnull(strstr(run.err, where));
#undef PUSH_WITH
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  g_test_add("/tls/serve", PpTestDaemon, NULL, pp_test_daemon_set_up, test_serve,
             pp_test_daemon_tear_down);
  g_test_add("/tls/cli", PpTestDaemon, NULL, pp_test_daemon_set_up, test_cli,
             pp_test_daemon_tear_down);
  g_test_add("/tls/plain-warns", PpTestDaemon, NULL, pp_test_daemon_set_up, test_plain_warns,
             pp_test_daemon_tear_down);
  g_test_add("/tls/expired-warns", PpTestDaemon, NULL, pp_test_daemon_set_up, test_expired_warns,
             pp_test_daemon_tear_down);
  g_test_add("/tls/refuse-start", PpTestDaemon, NULL, pp_test_daemon_set_up, test_refuse_start,
             pp_test_daemon_tear_down);
  g_test_add("/tls/probe-push", PpTestDaemon, NULL, pp_test_daemon_set_up, test_probe_push,
             pp_test_daemon_tear_down);
  return g_test_run();
}
