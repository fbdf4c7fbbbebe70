/* pp-libvirt-conf: libvirt's configuration files (qemu.conf), read and
 * edited in place.
 *
 * The format (libvirt's src/util/virconf.c): `name = value` settings, one
 * per line or spread over lines inside a list; `#` comments; values are
 * strings in double or single quotes (or triple double quotes, which may
 * span lines), integers, or lists `[ value, value, ... ]` whose items may
 * be on several lines, with comments between and a trailing comma.
 *
 * Only what pcipass needs: the settings with their spans in the text, so a
 * setting can be replaced or added while every other byte stays as it was.
 * A file that does not parse is never rewritten.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_LIBVIRT_CONF_ERROR (pp_libvirt_conf_error_quark())
GQuark pp_libvirt_conf_error_quark(void);

typedef enum {
  PP_LIBVIRT_CONF_ERROR_INVALID, /* the message starts with "line L: " */
} PpLibvirtConfError;

typedef struct _PpLibvirtConf PpLibvirtConf;

/* Returns: (transfer full): the parsed file, or %NULL with the line and what
 * was expected. */
PpLibvirtConf *pp_libvirt_conf_parse(const char *text, gsize len, GError **error);
void pp_libvirt_conf_free(PpLibvirtConf *conf);

/* Whether @name is set (uncommented). */
gboolean pp_libvirt_conf_has(const PpLibvirtConf *conf, const char *name);

/**
 * pp_libvirt_conf_get_strings:
 *
 * Returns: (transfer full) (nullable): the strings of list setting @name
 *   (a single string counts as a list of one), NULL-terminated; %NULL when
 *   it is not set or is not a string or a list of strings.
 */
char **pp_libvirt_conf_get_strings(const PpLibvirtConf *conf, const char *name);

/**
 * pp_libvirt_conf_set_strings:
 * @values: NULL-terminated; each a string that libvirt's format can hold
 *   in double, single or triple double quotes (it has no escapes), as
 *   every string pp_libvirt_conf_get_strings() returns is: not one with a
 *   newline or both kinds of quotes that also has three double quotes in a
 *   row or ends with one
 * @comment: (nullable): a comment line for a setting that is added
 *
 * Returns: (transfer full): the file's text with @name set to the list
 *   @values, one item per line: the setting's text replaced where it was, or
 *   added at the end. Every other byte is kept. %NULL (a critical) for a
 *   value no quotes can hold.
 */
char *pp_libvirt_conf_set_strings(const PpLibvirtConf *conf, const char *name,
                                  const char *const *values, const char *comment);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PpLibvirtConf, pp_libvirt_conf_free)

G_END_DECLS
