/* pp-test-daemon: a real pcipassd for the integration tests (see
 * pp-test-daemon.c). */
#pragma once

#include <curl/curl.h>
#include <gio/gio.h>
#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-test-pg.h"
#include "pp-test-util.h"

G_BEGIN_DECLS

/* How long a wait for the daemon may take before the test fails: a guard
 * against a hang, not a timing assertion. */
#define PP_TEST_WAIT_US (60 * G_USEC_PER_SEC)

typedef struct {
  char *dir;
  char *state;
  char *socket;
  char *log;
  char *probe;
  char *cli;
  char *daemon;
  char *trees[3]; /* sys folders of three captured machines */
  GSubprocess *proc;
  guint16 port;
} PpTestDaemon;

/* A g_test fixture: three captured machines unpacked (trees[0]: 40intel64,
 * 37 devices; trees[1]: ghw's I350 host with 8 VFs; trees[2]: ghw's NVIDIA
 * VM), PCIPASS_SOCKET set for the CLI. */
void pp_test_daemon_set_up(PpTestDaemon *f, gconstpointer data);
void pp_test_daemon_tear_down(PpTestDaemon *f, gconstpointer data);

/* Starts pcipassd (TCP on a free port, a 1 s monitor, a 2 s probe timeout,
 * debug logs) with @extra options; returns once it answers. */
void pp_test_daemon_start(PpTestDaemon *f, const char *const *extra);
/* SIGTERM; asserts a clean exit and the socket gone. */
void pp_test_daemon_stop(PpTestDaemon *f);
/* Returns: (transfer full): pcipassd's log so far. */
char *pp_test_daemon_log(PpTestDaemon *f);

/* Runs the real pcipass with @argv (without the program). */
void pp_test_cli(PpTestDaemon *f, const char *const *argv, PpTestRun *ret);
/* The same with --json; asserts exit 0. Returns: (transfer full). */
json_t *pp_test_cli_json(PpTestDaemon *f, const char *const *argv);

typedef struct {
  long status;
  GString *body;
  json_t *json; /* the body parsed, or NULL */
} PpTestReply;

void pp_test_reply_clear(PpTestReply *reply);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpTestReply, pp_test_reply_clear)

/* Raw HTTP with libcurl: @socket the Unix socket or NULL for TCP; @token a
 * bearer token or NULL; @body NULL for none. */
void pp_test_http(PpTestDaemon *f, const char *socket, const char *token, const char *method,
                  const char *path, const char *body, gsize body_len, PpTestReply *ret);
/* The same without asserting that the request went through: curl's code
 * (a daemon that is down, a connection cut). */
CURLcode pp_test_http_try(PpTestDaemon *f, const char *socket, const char *token,
                          const char *method, const char *path, const char *body, gsize body_len,
                          PpTestReply *ret);
/* The message of an API error, asserting its shape and @status. */
const char *pp_test_error_message(const PpTestReply *reply, long status);

/* pcipass host create NAME with the real probe on @sys. */
/* pcipass user create NAME and a token for it. Returns: (transfer full):
 * the token's secret. */
char *pp_test_add_user(PpTestDaemon *f, const char *name);

void pp_test_add_tree_host(PpTestDaemon *f, const char *name, const char *sys);
/* Returns: (transfer full): pcipass host show NAME --json. */
json_t *pp_test_host_show(PpTestDaemon *f, const char *name);
const char *pp_test_host_state(json_t *host);
/* Waits until host @name is in @state, probed after @after (unix seconds;
 * 0: any). Returns: (transfer full): its JSON. */
json_t *pp_test_wait_host(PpTestDaemon *f, const char *name, const char *state, gint64 after);
/* The devices the real probe reports for @sys with --all. */
guint pp_test_probe_count(PpTestDaemon *f, const char *sys);

/* POSTs @text as {"template": TEXT} to @path (the socket, as root). */
void pp_test_post_template(PpTestDaemon *f, const char *path, const char *text, PpTestReply *ret);
/* POST /v1/vms; asserts 201. Returns: the new VM's id. */
gint64 pp_test_vm_create(PpTestDaemon *f, const char *text);
/* Returns: (transfer full): GET /v1/vms/ID, asserted 200. */
json_t *pp_test_vm_get(PpTestDaemon *f, gint64 id);
/* Returns: (transfer none): the VM's "state". */
const char *pp_test_vm_state(json_t *vm);
/* Waits until VM @id is in @state. Returns: (transfer full): its JSON. */
json_t *pp_test_wait_vm(PpTestDaemon *f, gint64 id, const char *state);

/* The value of metric @name (a line "NAME VALUE", no labels) in /metrics,
 * asked on the socket; asserts it is there. */
guint64 pp_test_metric(PpTestDaemon *f, const char *name);

/* Two pcipassd on one throwaway PostgreSQL (issue 15's test-ha and
 * test-failover): d[0] and d[1], each with its own state folder and
 * socket, and the database's URI. */
typedef struct {
  PpTestDaemon d[2];
  PpTestPg *pg; /* NULL: skipped, PostgreSQL missing (pp_test_pg_check()) */
  char *uri;
} PpTestPair;

void pp_test_pair_set_up(PpTestPair *p, gconstpointer data);
void pp_test_pair_tear_down(PpTestPair *p, gconstpointer data);
/* Starts d[@i] on the pair's database. */
void pp_test_pair_start(PpTestPair *p, guint i);

G_END_DECLS
