/* libFuzzer target: pcipassd's config file parser. Any input is applied
 * whole or not at all: on an error (which says its line) the config is as
 * it was; on success every value is one the key table accepts, and what
 * --print-config prints reads back to the same config. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-daemon-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-daemon-config: " __VA_ARGS__);                                         \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpDaemonConfig) config = pp_daemon_config_new();
  g_autoptr(PpDaemonConfig) again = pp_daemon_config_new();
  g_autoptr(GError) error = NULL;
  g_autofree char *before = pp_daemon_config_to_string(config);
  g_autofree char *after = NULL;
  g_autofree char *printed = NULL;

  if (!pp_daemon_config_parse(config, (const char *)data, size, &error)) {
    CHECK(error != NULL, "no error");
    CHECK(g_str_has_prefix(error->message, "line ") ||
              strcmp(error->message, "the file holds a NUL byte") == 0,
          "'%s' does not say where", error->message);
    after = pp_daemon_config_to_string(config);
    CHECK(strcmp(before, after) == 0, "a config that failed changed:\n%s", after);
    return 0;
  }
  CHECK(error == NULL, "success and an error");
  CHECK(config->monitor_interval >= 1 && config->monitor_interval <= 86400, "monitor-interval");
  CHECK(config->probe_timeout >= 1 && config->probe_timeout <= 3600, "probe-timeout");
  CHECK(config->probe_parallel >= 1 && config->probe_parallel <= 1024, "probe-parallel");
  CHECK(config->ssh_connect_timeout >= 1 && config->ssh_connect_timeout <= 600,
        "ssh-connect-timeout");
  CHECK(config->schedule_interval >= 1 && config->schedule_interval <= 3600, "schedule-interval");
  CHECK(config->deploy_tries >= 1 && config->deploy_tries <= 100, "deploy-tries");
  CHECK(config->state_dir[0] == '/' && config->socket[0] == '/', "paths");
  /* --print-config, read back. */
  printed = pp_daemon_config_to_string(config);
  if (!pp_daemon_config_parse(again, printed, strlen(printed), &error))
    CHECK(FALSE, "what --print-config prints does not read back: %s\n%s", error->message, printed);
  after = pp_daemon_config_to_string(again);
  CHECK(strcmp(printed, after) == 0, "a config changed when printed and read back:\n%s\n%s",
        printed, after);
  return 0;
}
