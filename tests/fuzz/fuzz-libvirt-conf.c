/* libFuzzer target: pp-libvirt-conf, which pcipass-vfio uses to read and
 * edit libvirt's qemu.conf in place. Any input parses or fails with its
 * line; a file that parses, edited (a list set to its own strings and one
 * more), still parses, holds the new list, and keeps the other settings. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pp-libvirt-conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz-libvirt-conf: " __VA_ARGS__);                                          \
      fprintf(stderr, " (%s)\n", #cond);                                                           \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

/* The settings looked at: the one pcipass-vfio edits, and others of
 * qemu.conf that hold strings. */
static const char *const names[] = { "cgroup_device_acl", "user", "namespaces", "security_driver" };

static void
check_edit(const PpLibvirtConf *conf, const char *name)
{
  g_auto(GStrv) old = pp_libvirt_conf_get_strings(conf, name);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  g_auto(GStrv) values = NULL;
  g_auto(GStrv) got = NULL;
  g_autofree char *edited = NULL;
  g_autoptr(PpLibvirtConf) again = NULL;
  g_autoptr(GError) error = NULL;

  if (old != NULL)
    g_strv_builder_addv(builder, (const char **)old);
  g_strv_builder_add(builder, "/dev/vfio/7");
  values = g_strv_builder_end(builder);
  edited = pp_libvirt_conf_set_strings(conf, name, (const char *const *)values, "added");
  again = pp_libvirt_conf_parse(edited, strlen(edited), &error);
  CHECK(again != NULL, "%s set to its strings and one more does not parse: %s\n%s", name,
        error->message, edited);
  got = pp_libvirt_conf_get_strings(again, name);
  CHECK(got != NULL && g_strv_equal((const char *const *)got, (const char *const *)values),
        "%s edited does not read back:\n%s", name, edited);
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_auto(GStrv) before = NULL;
    g_auto(GStrv) after = NULL;

    if (strcmp(names[i], name) == 0)
      continue;
    before = pp_libvirt_conf_get_strings(conf, names[i]);
    after = pp_libvirt_conf_get_strings(again, names[i]);
    CHECK((before == NULL) == (after == NULL) &&
              (before == NULL ||
               g_strv_equal((const char *const *)before, (const char *const *)after)),
          "editing %s changed %s:\n%s", name, names[i], edited);
    CHECK(pp_libvirt_conf_has(conf, names[i]) == pp_libvirt_conf_has(again, names[i]),
          "editing %s changed whether %s is set", name, names[i]);
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(PpLibvirtConf) conf = NULL;
  g_autoptr(GError) error = NULL;

  conf = pp_libvirt_conf_parse((const char *)data, size, &error);
  if (conf == NULL) {
    CHECK(error != NULL && g_str_has_prefix(error->message, "line "), "'%s' does not say its line",
          error ? error->message : "(no error)");
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS(names); i++)
    check_edit(conf, names[i]);
  return 0;
}
