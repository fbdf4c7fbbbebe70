/* pp-probe-run: running a host's probe as a child process, never through a
 * shell: the argument vector for a local probe, an ssh probe or a command
 * of the host's own, and the run itself with a timeout and a bound on what
 * it may print. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PP_PROBE_RUN_ERROR (pp_probe_run_error_quark())
GQuark pp_probe_run_error_quark(void);

typedef enum {
  PP_PROBE_RUN_ERROR_INVALID, /* a host name, user or command that cannot be run safely */
  PP_PROBE_RUN_ERROR_SPAWN,   /* the program could not be started */
  PP_PROBE_RUN_ERROR_EXIT,    /* it exited non-zero or was killed by a signal */
  PP_PROBE_RUN_ERROR_TIMEOUT, /* it ran past the timeout and was killed */
  PP_PROBE_RUN_ERROR_TOO_BIG, /* it printed more than the bound */
} PpProbeRunError;

/* How to reach one host's probe. */
typedef struct {
  const char *const *probe_command; /* nullable: the host's own argv, used as it is */
  const char *ssh_user;             /* nullable */
  const char *ssh_host;             /* nullable: NULL runs the probe locally */
  int ssh_port;                     /* 0: ssh's default */
  const char *probe_path;           /* the probe program, local or remote ("pcipass-probe") */
  guint connect_timeout_s;          /* ssh -o ConnectTimeout */
} PpProbeTarget;

/**
 * pp_probe_argv_build:
 *
 * The argv to run: the host's probe_command when it has one; else, with
 * ssh_host, `ssh -o BatchMode=yes -o ConnectTimeout=N [-p PORT] [-l USER]
 * -- HOST PROBE_PATH`; else `PROBE_PATH`. An ssh host or user that is
 * empty, starts with '-', or holds anything but [A-Za-z0-9._:@%[]-]
 * (users: [A-Za-z0-9._-]) is refused, as is an empty probe_command.
 *
 * Returns: (transfer full): the argv, or %NULL with INVALID.
 */
GStrv pp_probe_argv_build(const PpProbeTarget *target, GError **error);

/**
 * pp_probe_command_parse:
 * @text: a command line as an administrator types it ("pcipass-probe
 *   --sysfs-root '/srv/my hosts/a'")
 *
 * Splits @text into words as a POSIX shell would (quotes, backslashes),
 * without running one: no expansion, no redirection. Empty text or more
 * than 256 words or 4096 bytes is INVALID.
 *
 * Returns: (transfer full): the argv, or %NULL.
 */
GStrv pp_probe_command_parse(const char *text, GError **error);

/**
 * pp_probe_run_async:
 * @argv: what to run (argv[0] searched in PATH when it has no '/')
 * @timeout_ms: past this the child (and its process group) is killed
 * @max_output: the most bytes of standard output accepted; more kills it
 *
 * Runs @argv with stdin from /dev/null, stdout collected, and stderr's last
 * 4 KiB kept for the error message.
 */
void pp_probe_run_async(const char *const *argv, guint timeout_ms, gsize max_output,
                        GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data);

/**
 * pp_probe_run_finish:
 *
 * Returns: (transfer full): standard output when the probe exited 0, or
 *   %NULL with a PP_PROBE_RUN_ERROR whose message says what happened and
 *   ends with the probe's own last stderr lines: "exit status 2:
 *   pcipass-probe: /etc/pcipass/pci.conf:3:5: ...", "killed after 30 s
 *   (the probe timeout)", "printed more than 4194304 bytes".
 */
GBytes *pp_probe_run_finish(GAsyncResult *result, GError **error);

G_END_DECLS
