#define G_LOG_DOMAIN "pp-probe-run"

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "pp-host-spec.h"
#include "pp-probe-run.h"

/* clang-format off */
G_DEFINE_QUARK(pp-probe-run-error-quark, pp_probe_run_error)
/* clang-format on */

/* Bounds of what an administrator types as a probe command. */
#define COMMAND_MAX_BYTES 4096
/* How much of the probe's standard error is kept for the message. */
#define STDERR_TAIL 4096
/* How many of its last lines the message quotes. */
#define STDERR_LINES 4
/* One read of standard output. */
#define READ_CHUNK 65536

/* ---- argv ---------------------------------------------------------------- */

/* @text is 1..@max bytes of @allowed and does not start with '-' (so that
 * ssh can never read it as an option). */
static gboolean
word_is_safe(const char *text, gsize max, const char *allowed)
{
  gsize len = strlen(text);

  return len > 0 && len <= max && text[0] != '-' && strspn(text, allowed) == len;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
/* ssh hands the remote command to the remote user's shell: the probe path
 * must hold nothing that shell would read as syntax. */
#define REMOTE_PATH_CHARS ALNUM "._/+-"

/* @ok, or FALSE with @local (pp-host-spec's) in the runner's domain. */
static gboolean
spec_rule(gboolean ok, GError *const *local, GError **error)
{
  if (!ok)
    g_set_error_literal(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID, (*local)->message);
  return ok;
}

GStrv
pp_probe_argv_build(const PpProbeTarget *target, GError **error)
{
  g_autoptr(GStrvBuilder) builder = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *timeout = NULL;
  g_autofree char *port = NULL;

  g_return_val_if_fail(target != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (target->probe_command != NULL) {
    if (!spec_rule(pp_host_spec_check_probe_command(target->probe_command, &local), &local, error))
      return NULL;
    return g_strdupv((char **)target->probe_command);
  }

  if (target->probe_path == NULL || target->probe_path[0] == '\0') {
    g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID, "the probe path is empty");
    return NULL;
  }

  builder = g_strv_builder_new();
  if (target->ssh_host == NULL) {
    if (target->ssh_user != NULL || target->ssh_port != 0) {
      g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID,
                  "an ssh user or port without an ssh host");
      return NULL;
    }
    g_strv_builder_add(builder, target->probe_path);
    return g_strv_builder_end(builder);
  }

  if (!spec_rule(
          pp_host_spec_check_ssh_host(target->ssh_host, &local) &&
              (target->ssh_user == NULL || pp_host_spec_check_ssh_user(target->ssh_user, &local)) &&
              pp_host_spec_check_ssh_port(target->ssh_port, &local),
          &local, error))
    return NULL;
  if (!word_is_safe(target->probe_path, 4096, REMOTE_PATH_CHARS)) {
    g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID,
                "bad probe path '%s' for ssh: the remote shell reads it, so it must be of "
                "[A-Za-z0-9._/+-], not starting with '-'",
                target->probe_path);
    return NULL;
  }

  timeout = g_strdup_printf("ConnectTimeout=%u", target->connect_timeout_s);
  port = g_strdup_printf("%d", target->ssh_port);
  g_strv_builder_add_many(builder, "ssh", "-o", "BatchMode=yes", "-o", timeout, NULL);
  if (target->ssh_port != 0)
    g_strv_builder_add_many(builder, "-p", port, NULL);
  if (target->ssh_user != NULL)
    g_strv_builder_add_many(builder, "-l", target->ssh_user, NULL);
  g_strv_builder_add_many(builder, "--", target->ssh_host, target->probe_path, NULL);
  return g_strv_builder_end(builder);
}

GStrv
pp_probe_command_parse(const char *text, GError **error)
{
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) local = NULL;
  int argc = 0;

  g_return_val_if_fail(text != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  if (strlen(text) > COMMAND_MAX_BYTES) {
    g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID,
                "the probe command is longer than %d bytes", COMMAND_MAX_BYTES);
    return NULL;
  }
  /* GLib's parser follows the shell's quoting rules and expands nothing. */
  if (!g_shell_parse_argv(text, &argc, &argv, &local)) {
    if (g_error_matches(local, G_SHELL_ERROR, G_SHELL_ERROR_EMPTY_STRING))
      g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID,
                  "the probe command is empty");
    else
      g_set_error(error, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_INVALID,
                  "bad quoting in the probe command: %s", local->message);
    return NULL;
  }
  g_clear_error(&local);
  if (!spec_rule(pp_host_spec_check_probe_command((const char *const *)argv, &local), &local,
                 error))
    return NULL;
  return g_steal_pointer(&argv);
}

/* ---- the run ------------------------------------------------------------- */

/* One run, the GTask's data. The task completes once standard output and
 * standard error are read to their end (or given up) and the child has been
 * waited for, so that a finished run leaves no zombie behind. */
typedef struct {
  GSubprocess *proc;
  pid_t pid;                 /* also the process group's id */
  GCancellable *io_cancel;   /* stops the reads once the run has failed */
  GCancellable *cancellable; /* the caller's, nullable */
  gulong cancel_handler;
  GSource *timeout_source;
  guint timeout_ms;
  gsize max_output;
  GByteArray *out;
  guint8 *out_buf;
  GByteArray *err; /* the last STDERR_TAIL bytes */
  guint8 *err_buf;
  gboolean err_cut; /* err lost its beginning */
  gboolean out_done;
  gboolean err_done;
  gboolean wait_done;
  gboolean completed;
  GError *failure; /* the first reason the run failed on our side */
} RunData;

static void
run_data_free(RunData *data)
{
  g_assert(data->cancel_handler == 0);
  if (data->timeout_source != NULL) {
    g_source_destroy(data->timeout_source);
    g_source_unref(data->timeout_source);
  }
  g_clear_object(&data->proc);
  g_clear_object(&data->io_cancel);
  g_clear_object(&data->cancellable);
  if (data->out != NULL)
    g_byte_array_unref(data->out);
  if (data->err != NULL)
    g_byte_array_unref(data->err);
  g_free(data->out_buf);
  g_free(data->err_buf);
  g_clear_error(&data->failure);
  g_free(data);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
child_setup(gpointer user_data)
{
  sigset_t all;

  /* Its own process group, so that killing the group kills what the probe
   * started (ssh, a shell of an administrator's command). */
  (void)setpgid(0, 0);
  /* pcipassd may ignore SIGPIPE or block signals; the probe must not
   * inherit either. */
  (void)signal(SIGPIPE, SIG_DFL);
  sigfillset(&all);
  (void)sigprocmask(SIG_UNBLOCK, &all, NULL);
}

/* Kills the child's process group. Once the child is reaped its pid may
 * be reused, so the group is killed then only while our pipes are still
 * open, that is while a member of the group most likely still holds them. */
static void
run_kill(RunData *data)
{
  if (data->pid <= 0)
    return;
  if (data->wait_done && data->out_done && data->err_done)
    return;
  if (kill(-data->pid, SIGKILL) < 0 && errno == ESRCH && !data->wait_done)
    (void)kill(data->pid, SIGKILL);
}

/* The run failed on our side (timeout, too much output, cancelled): the
 * first reason wins; the child is killed and the reads stop. Takes @error. */
static void
run_fail(RunData *data, GError *error)
{
  if (data->failure == NULL)
    data->failure = error;
  else
    g_error_free(error);
  run_kill(data);
  g_cancellable_cancel(data->io_cancel);
}

/* The last lines of standard error, for the message: valid UTF-8, no
 * control characters (it comes from another machine and ends up on a
 * terminal), empty lines dropped, joined with "; ". */
static char *
stderr_tail(RunData *data)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new();
  const char *start = (const char *)data->err->data;
  gsize len = data->err->len;
  guint n;

  if (len == 0)
    return g_strdup("");
  /* A cut first line is only the end of a line: drop it when there is
   * another. */
  if (data->err_cut) {
    const char *nl = memchr(start, '\n', len);

    if (nl != NULL && (gsize)(nl - start) + 1 < len) {
      len -= (gsize)(nl - start) + 1;
      start = nl + 1;
    }
  }
  text = g_utf8_make_valid(start, (gssize)len);
  for (char *p = text; *p != '\0'; p++) {
    if (*p == '\r' || *p == '\t')
      *p = ' ';
    else if (((guchar)*p < 0x20 && *p != '\n') || *p == 0x7f)
      *p = '?';
  }
  lines = g_strsplit(text, "\n", -1);
  n = g_strv_length(lines);
  for (guint i = n; i > 0 && kept->len < STDERR_LINES; i--) {
    char *line = g_strstrip(lines[i - 1]);

    if (line[0] != '\0')
      g_ptr_array_insert(kept, 0, line);
  }
  g_ptr_array_add(kept, NULL);
  return g_strjoinv("; ", (char **)kept->pdata);
}

/* "exit status 2" + ": the probe's last lines" when it said something. */
static GError *
run_exit_error(RunData *data, const char *what)
{
  g_autofree char *tail = stderr_tail(data);

  if (tail[0] == '\0')
    return g_error_new(PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_EXIT, "%s", what);
  return g_error_new(PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_EXIT, "%s: %s", what, tail);
}

static void
run_maybe_complete(GTask *task)
{
  RunData *data = g_task_get_task_data(task);
  g_autofree char *what = NULL;

  if (data->completed || !data->out_done || !data->err_done || !data->wait_done)
    return;
  data->completed = TRUE;
  if (data->timeout_source != NULL) {
    g_source_destroy(data->timeout_source);
    g_clear_pointer(&data->timeout_source, g_source_unref);
  }
  if (data->cancel_handler != 0) {
    g_cancellable_disconnect(data->cancellable, data->cancel_handler);
    data->cancel_handler = 0;
  }

  if (data->failure != NULL) {
    g_task_return_error(task, g_steal_pointer(&data->failure));
    return;
  }
  if (g_subprocess_get_if_exited(data->proc)) {
    int status = g_subprocess_get_exit_status(data->proc);

    if (status == 0) {
      g_task_return_pointer(task, g_byte_array_free_to_bytes(g_steal_pointer(&data->out)),
                            (GDestroyNotify)g_bytes_unref);
      return;
    }
    what = g_strdup_printf("exit status %d", status);
  } else {
    what = g_strdup_printf("killed by signal %d", g_subprocess_get_term_sig(data->proc));
  }
  g_task_return_error(task, run_exit_error(data, what));
}

static void read_stdout(GTask *task);
static void read_stderr(GTask *task);

static void
on_stdout(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

  if (n > 0) {
    g_byte_array_append(data->out, data->out_buf, (guint)n);
    if (data->out->len > data->max_output) {
      data->out_done = TRUE;
      run_fail(data, g_error_new(PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TOO_BIG,
                                 "printed more than %" G_GSIZE_FORMAT " bytes", data->max_output));
    } else {
      read_stdout(task);
      return;
    }
  } else {
    data->out_done = TRUE;
    if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_prefix_error(&error, "reading its output: ");
      run_fail(data, g_steal_pointer(&error));
    }
  }
  run_maybe_complete(task);
}

static void
read_stdout(GTask *task)
{
  RunData *data = g_task_get_task_data(task);
  gsize left = data->max_output - data->out->len;
  /* One byte past the bound is enough to know it is passed. */
  gsize want = left >= READ_CHUNK ? READ_CHUNK : left + 1;

  g_input_stream_read_async(g_subprocess_get_stdout_pipe(data->proc), data->out_buf, want,
                            G_PRIORITY_DEFAULT, data->io_cancel, on_stdout, g_object_ref(task));
}

static void
on_stderr(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);

  if (n > 0) {
    g_byte_array_append(data->err, data->err_buf, (guint)n);
    if (data->err->len > STDERR_TAIL) {
      g_byte_array_remove_range(data->err, 0, data->err->len - STDERR_TAIL);
      data->err_cut = TRUE;
    }
    read_stderr(task);
    return;
  }
  /* An error reading standard error only costs the message its tail. */
  if (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug("reading the probe's standard error: %s, ignoring", error->message);
  data->err_done = TRUE;
  run_maybe_complete(task);
}

static void
read_stderr(GTask *task)
{
  RunData *data = g_task_get_task_data(task);

  g_input_stream_read_async(g_subprocess_get_stderr_pipe(data->proc), data->err_buf, STDERR_TAIL,
                            G_PRIORITY_DEFAULT, data->io_cancel, on_stderr, g_object_ref(task));
}

static void
on_wait(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;

  /* Not cancellable: it only fails for a cancelled wait. */
  if (!g_subprocess_wait_finish(G_SUBPROCESS(source), result, &error))
    g_debug("waiting for the probe: %s, ignoring", error->message);
  data->wait_done = TRUE;
  run_maybe_complete(task);
}

/* "30", "0.3", "1.25": seconds without the locale's decimal comma. */
static char *
format_seconds(guint ms)
{
  g_autofree char *frac = NULL;
  gsize len;

  if (ms % 1000 == 0)
    return g_strdup_printf("%u", ms / 1000);
  frac = g_strdup_printf("%03u", ms % 1000);
  len = strlen(frac);
  while (len > 0 && frac[len - 1] == '0')
    frac[--len] = '\0';
  return g_strdup_printf("%u.%s", ms / 1000, frac);
}

static gboolean
on_timeout(gpointer user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data(task);
  g_autofree char *seconds = format_seconds(data->timeout_ms);

  g_clear_pointer(&data->timeout_source, g_source_unref);
  run_fail(data, g_error_new(PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_TIMEOUT,
                             "killed after %s s (the probe timeout)", seconds));
  return G_SOURCE_REMOVE;
}

/* Synchronous in g_cancellable_cancel(): the child is dead (SIGKILL sent)
 * when that returns, even if the main loop never runs again. */
static void
on_cancelled(GCancellable *cancellable, gpointer user_data)
{
  RunData *data = user_data;

  run_fail(data, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "the probe was cancelled"));
}

void
pp_probe_run_async(const char *const *argv, guint timeout_ms, gsize max_output,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  RunData *data;
  const char *id;

  g_return_if_fail(argv != NULL && argv[0] != NULL);
  g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

  task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, pp_probe_run_async);
  if (g_task_return_error_if_cancelled(task))
    return;

  data = g_new0(RunData, 1);
  data->timeout_ms = timeout_ms;
  data->max_output = max_output;
  data->io_cancel = g_cancellable_new();
  data->out = g_byte_array_new();
  data->err = g_byte_array_new();
  data->out_buf = g_malloc(READ_CHUNK);
  data->err_buf = g_malloc(STDERR_TAIL);
  g_task_set_task_data(task, data, (GDestroyNotify)run_data_free);

  /* Standard input stays /dev/null: no STDIN flag. */
  launcher =
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup(launcher, child_setup, NULL, NULL);
  data->proc = g_subprocess_launcher_spawnv(launcher, argv, &error);
  if (data->proc == NULL) {
    g_task_return_new_error(task, PP_PROBE_RUN_ERROR, PP_PROBE_RUN_ERROR_SPAWN,
                            "could not be started: %s", error->message);
    return;
  }
  id = g_subprocess_get_identifier(data->proc);
  data->pid = id != NULL ? (pid_t)g_ascii_strtoll(id, NULL, 10) : 0;
  g_debug("'%s': started, pid %d", argv[0], (int)data->pid);

  data->timeout_source = g_timeout_source_new(timeout_ms);
  g_source_set_callback(data->timeout_source, on_timeout, task, NULL);
  g_source_attach(data->timeout_source, g_task_get_context(task));

  if (cancellable != NULL) {
    data->cancellable = g_object_ref(cancellable);
    /* Runs on_cancelled at once when it is already cancelled. */
    data->cancel_handler = g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), data, NULL);
  }

  read_stdout(task);
  read_stderr(task);
  g_subprocess_wait_async(data->proc, NULL, on_wait, g_object_ref(task));
}

GBytes *
pp_probe_run_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  g_return_val_if_fail(g_task_get_source_tag(G_TASK(result)) == pp_probe_run_async, NULL);

  return g_task_propagate_pointer(G_TASK(result), error);
}
