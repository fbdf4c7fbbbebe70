/* pp-cli: what the commands of pcipass share. */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "pp-exit.h"
#include "pp-host-table.h"
#include "pp-output.h"

G_BEGIN_DECLS

/* A command's handler: @argc/@argv start at the command's own arguments,
 * argv[0] being "pcipass GROUP VERB". Returns the exit code. */
typedef int (*PpCliHandler)(int argc, char **argv);

/* Parses a command's options with @entries (plus --help); on error prints
 * it and returns FALSE. */
gboolean pp_cli_parse_options(const char *usage, const char *summary, const GOptionEntry *entries,
                              int *argc, char ***argv);

/* The options of every command that talks to pcipassd. */
typedef struct {
  char *socket_path; /* --socket PATH */
  char *url;         /* --url URL */
  char *token_file;  /* --token-file FILE */
  char *ca_file;     /* --ca-file FILE */
  gboolean json;     /* --json */
} PpCliDaemonOptions;

void pp_cli_daemon_options_clear(PpCliDaemonOptions *opts);

/**
 * pp_cli_daemon_option_words:
 * @arg: a word of the command line
 *
 * Says whether @arg is one of the options of every daemon command
 * (--socket, --url, --token-file, --ca-file, --json), which may also come
 * before the command.
 *
 * Returns: -1 when it is not; 0 when it stands alone (--json, -j,
 *   --socket=PATH); 1 when its value is the next word (--socket PATH).
 */
int pp_cli_daemon_option_words(const char *arg);

/* Returns: (transfer full): those options, for messages: "--json, --socket,
 * --url, --token-file and --ca-file". */
char *pp_cli_daemon_option_list(void);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PpCliDaemonOptions, pp_cli_daemon_options_clear)

/**
 * pp_cli_parse_daemon_options:
 * @entries: (nullable): the command's own options, before the common ones
 * @n_args: how many arguments the command takes after its options
 * @args_usage: what to say when that is not so ("one ID or NAME")
 *
 * Parses @entries plus --socket, --url, --token-file, --ca-file and --json into
 * @ret_opts and checks the number of arguments. On an error prints it.
 *
 * Returns: %TRUE, @argv then holding argv[0] and the @n_args arguments.
 */
gboolean pp_cli_parse_daemon_options(const char *usage, const char *summary,
                                     const GOptionEntry *entries, guint n_args,
                                     const char *args_usage, PpCliDaemonOptions *ret_opts,
                                     int *argc, char ***argv);

/**
 * pp_cli_call:
 * @body: (nullable): the JSON body; taken
 * @ret_json: (transfer full): the answer, on success
 *
 * Calls pcipassd's API with the target of @opts (pp-client.h). On an error
 * prints its message.
 *
 * Returns: PP_EXIT_OK, or the exit status the error means.
 */
int pp_cli_call(const PpCliDaemonOptions *opts, const char *method, const char *path, json_t *body,
                json_t **ret_json);

/* The rows `vm list` and `host list` ask for a page. */
#define PP_CLI_PAGE_SIZE 500

/* A page of a list as a table (pp_vm_table_list_stream()); @more: more
 * pages follow. Returns: (transfer full). */
typedef char *(*PpCliPageTable)(const json_t *items, gint64 now, gboolean more,
                                PpTableStream *stream);

/**
 * pp_cli_list:
 * @path: the list's path and its filters ("/v1/vms?state=running"), without
 *   limit or after
 * @key: the name of the page's array ("vms")
 * @max: the most rows to print, 0 for all
 * @table: what prints a page without --json
 *
 * Pages through a list of pcipassd (GET /v1/vms, /v1/hosts: pages of
 * PP_CLI_PAGE_SIZE until "next" is null or @max rows came) and prints each
 * page as it comes: a table whose widths the first page sets, or with
 * --json one JSON document {"KEY": [ROW, ...]}, a row a line. An error
 * after the first page is said after what was printed.
 *
 * Returns: the exit status.
 */
int pp_cli_list(const PpCliDaemonOptions *opts, const char *path, const char *key, guint64 max,
                PpCliPageTable table);

/* Appends "&NAME=VALUE" (the first "?NAME=VALUE"), @value escaped, to
 * @path unless @value is NULL. */
void pp_cli_query_add(GString *path, const char *name, const char *value);

/* Sets @obj's @key to the string @value unless @value is NULL. Returns
 * FALSE, said on stderr naming @what, when @value is not UTF-8 (JSON cannot
 * carry it). */
gboolean pp_cli_json_set_string(json_t *obj, const char *key, const char *what, const char *value);

/* Prints @text on stdout. Returns PP_EXIT_OK or, said on stderr,
 * PP_EXIT_RUNTIME. */
int pp_cli_print(const char *text);

/**
 * pp_cli_say_template_error:
 * @shown: the template's file as the user named it, "<stdin>" for '-'
 * @line: (optional): where the error is, 0 when it has no position
 * @message: the error, which may start with its own "line L, column C: "
 *
 * Says a template's error on stderr as compilers do: "FILE:L:C: message"
 * (the message's own position dropped), or "FILE: message".
 */
void pp_cli_say_template_error(const char *shown, guint line, guint column, const char *message);

/**
 * pp_cli_send_template:
 * @method: "POST" (vm create, vm place, net create) or "PUT" (net update)
 * @path: the template's file, '-' for standard input
 * @api_path: where to send it ("/v1/vms")
 * @fields: (nullable): more members of the body ({"shared": true})
 * @ret_json: (transfer full): the answer, on success
 *
 * Reads the template @path and checks its syntax here, so that a syntax
 * error needs no daemon (said as `template check` says it), then sends
 * {"template": TEXT} and @fields. pcipassd's 400 about the template is said naming the
 * file: "FILE:L:C: message" from the error's "line" and "column", "FILE:
 * MEMORY is required (...)" for a "missing" attribute.
 *
 * Returns: the exit status.
 */
int pp_cli_send_template(const PpCliDaemonOptions *opts, const char *method, const char *path,
                         const char *api_path, const json_t *fields, json_t **ret_json);

int pp_cmd_template_check(int argc, char **argv);

int pp_cmd_host_create(int argc, char **argv);
int pp_cmd_host_list(int argc, char **argv);
int pp_cmd_host_show(int argc, char **argv);
int pp_cmd_host_enable(int argc, char **argv);
int pp_cmd_host_disable(int argc, char **argv);
int pp_cmd_host_delete(int argc, char **argv);
int pp_cmd_host_probe(int argc, char **argv);
int pp_cmd_host_token(int argc, char **argv);
int pp_cmd_host_update(int argc, char **argv);
int pp_cmd_host_types(int argc, char **argv);

int pp_cmd_vm_create(int argc, char **argv);
int pp_cmd_vm_list(int argc, char **argv);
int pp_cmd_vm_show(int argc, char **argv);
int pp_cmd_vm_terminate(int argc, char **argv);
int pp_cmd_vm_poweroff(int argc, char **argv);
int pp_cmd_vm_resume(int argc, char **argv);
int pp_cmd_vm_retry(int argc, char **argv);
int pp_cmd_vm_place(int argc, char **argv);

int pp_cmd_image_list(int argc, char **argv);
int pp_cmd_vm_context(int argc, char **argv);

int pp_cmd_net_create(int argc, char **argv);
int pp_cmd_net_list(int argc, char **argv);
int pp_cmd_net_show(int argc, char **argv);
int pp_cmd_net_update(int argc, char **argv);
int pp_cmd_net_delete(int argc, char **argv);
int pp_cmd_net_hold(int argc, char **argv);
int pp_cmd_net_release(int argc, char **argv);

int pp_cmd_user_create(int argc, char **argv);
int pp_cmd_user_list(int argc, char **argv);
int pp_cmd_user_show(int argc, char **argv);
int pp_cmd_user_quota(int argc, char **argv);
int pp_cmd_user_delete(int argc, char **argv);
int pp_cmd_token_create(int argc, char **argv);
int pp_cmd_token_list(int argc, char **argv);
int pp_cmd_token_delete(int argc, char **argv);

G_END_DECLS
