/* pp-host-table: the text that `pcipass host`, `user` and `token` print,
 * from the JSON objects of pcipassd's API (src/server/pp-api.h). Pure: no
 * I/O, the time of day is a parameter.
 *
 * The PCI DEVICES table is the one of OpenNebula's `onehost show`, byte for
 * byte: VM (5, right-aligned, blank when free, "taken" when another user's
 * VM holds it: a user who is not an admin sees no other user's VM id),
 * ADDR (7), TYPE (14), NAME
 * (at most 50 characters), one space between, no trailing spaces. A cell
 * wider than its column (an address with its domain, `10000:00:04.0`)
 * makes its own row longer; nothing but NAME, CLASS and VENDOR is cut.
 *
 * The text comes from other machines (device names from a host's pci.ids,
 * error messages from probes): control characters are shown as '?' (tabs
 * and newlines as a space), so no cell can move the terminal's cursor.
 * Fields that are missing or of the wrong type show as "-".
 */
#pragma once

#include <glib.h>
#include <jansson.h>

G_BEGIN_DECLS

/* The widest NAME; longer names are cut to this many characters. */
#define PP_HOST_TABLE_NAME_WIDTH 50

typedef enum {
  PP_HOST_TABLE_DEFAULT = 0,
  /* Adds IOMMU (group), NUMA, DRIVER, CLASS (name) and VENDOR (name) after
   * NAME, NAME then padded to its 50 characters. */
  PP_HOST_TABLE_PCI_COLUMNS = 1 << 0,
} PpHostTableFlags;

/* A column of pp_host_table_render(): its header, and whether its cells
 * are right-aligned (numbers). */
typedef struct {
  const char *header;
  gboolean right;
} PpTableColumn;

/**
 * pp_host_table_render:
 * @cells: (element-type utf8): @n_columns cells a row, row by row, each
 *   already made safe (pp_host_table_clean())
 *
 * The header and the rows, each column as wide as its widest cell, one
 * space between, no trailing spaces (the style of `host list`).
 *
 * Returns: (transfer full): the text, each line ending in a newline.
 */
char *pp_host_table_render(const PpTableColumn *columns, guint n_columns, const GPtrArray *cells);

/* The most columns a streamed table has. */
#define PP_TABLE_MAX_COLUMNS 16

/* A table printed a page at a time: its widths are set by its first page
 * and kept, so that later pages line up without the whole table read. */
typedef struct {
  gboolean started; /* the header is printed, the widths set */
  guint widths[PP_TABLE_MAX_COLUMNS];
} PpTableStream;

/**
 * pp_host_table_render_stream:
 * @cells: as pp_host_table_render()'s, one page of rows
 * @min_widths: (nullable): the least width of each column, for a first
 *   page that more pages follow (their cells may be wider)
 * @stream: zeroed before the first page
 *
 * The first page as pp_host_table_render() renders it (its columns as wide
 * as their widest cell, or @min_widths); each later page's rows without a
 * header, in the first page's widths: a wider cell pushes the rest of its
 * row to the right.
 *
 * Returns: (transfer full)
 */
char *pp_host_table_render_stream(const PpTableColumn *columns, guint n_columns,
                                  const GPtrArray *cells, const guint *min_widths,
                                  PpTableStream *stream);

/* @text (nullable) as a cell shows it: controls replaced as above, "-"
 * for NULL or "". Returns: (transfer full) */
char *pp_host_table_clean(const char *text);

/* A JSON scalar as a cell, cleaned: strings as they are, integers in
 * decimal, anything else (and "") "-"; pp_host_table_field() of @obj's
 * @key. Returns: (transfer full) */
char *pp_host_table_cell(const json_t *value);
char *pp_host_table_field(const json_t *obj, const char *key);

/**
 * pp_host_table_ago:
 * @when: (nullable): unix seconds (a JSON integer), or JSON null / NULL
 * @now: the current unix time
 *
 * "12s ago" under a minute, "3m ago" under an hour, "5h ago" under a day,
 * then "2d ago"; "never" for null. A time ahead of @now is "0s ago".
 *
 * Returns: (transfer full)
 */
char *pp_host_table_ago(const json_t *when, gint64 now);

/**
 * pp_host_table_pci:
 * @devices: the "pci_devices" array of a HOST (DEVICE objects), in order
 *
 * "PCI DEVICES\n\n", the column header, then one row per device. A device
 * that is gone from its host ("gone": true) ends its NAME cell with
 * " (gone)", the name cut so the cell stays within 50 characters.
 *
 * Returns: (transfer full): the text, each line ending in a newline.
 */
char *pp_host_table_pci(const json_t *devices, PpHostTableFlags flags);

/**
 * pp_host_table_nics:
 * @devices: the "pci_devices" array of a HOST
 *
 * What the probe says of the network functions (issue 12), kept out of the
 * PCI DEVICES table, which stays OpenNebula's: "\nNETWORK FUNCTIONS\n\n",
 * then ADDR, PERM MAC (the permanent MAC), PF (a VF's PF, lspci's form) and
 * VF (its index under the PF), one row per device that has any of them,
 * "-" for those it has not.
 *
 * Returns: (transfer full): the text, or "" when no device has any.
 */
char *pp_host_table_nics(const json_t *devices);

/**
 * pp_host_table_show:
 * @host: a HOST with its "pci_devices"
 *
 * The facts, one "LABEL          : value" line each (ID, NAME, STATE, ERROR
 * when set, SSH, LIBVIRT URI, PROBE COMMAND (each only when in @host: a
 * user who is not an admin is not given them), HOSTNAME, CPUS, MEMORY,
 * KERNEL, LAST MONITORED), a blank line, then pp_host_table_pci(), then
 * pp_host_table_nics().
 *
 * Returns: (transfer full)
 */
char *pp_host_table_show(const json_t *host, gint64 now, PpHostTableFlags flags);

/**
 * pp_host_table_list:
 * @hosts: an array of HOST
 *
 * Columns ID (right-aligned), NAME, STATE, PCI ("free/total"), MONITORED
 * (pp_host_table_ago()), each as wide as its widest cell.
 *
 * Returns: (transfer full)
 */
char *pp_host_table_list(const json_t *hosts, gint64 now);
/* One page of pp_host_table_list() (pp_host_table_render_stream()); @more:
 * more pages follow (the first page then leaves room: ID 6, NAME 20,
 * STATE 9, PCI 7, MONITORED 8). Returns: (transfer full) */
char *pp_host_table_list_stream(const json_t *hosts, gint64 now, gboolean more,
                                PpTableStream *stream);

/* Columns ID, NAME, ADMIN ("yes"/"no"), CREATED, for an array of USER.
 * Returns: (transfer full) */
char *pp_host_table_users(const json_t *users, gint64 now);

/**
 * pp_host_table_user:
 * @user: a USER with its "quota" (GET /v1/users/NAME)
 *
 * The facts (ID, NAME, ADMIN, CREATED), a blank line, then the quotas:
 * columns QUOTA, USED and LIMIT ("unlimited" for none), rows VMS, CPU,
 * MEMORY (MIB), PCI DEVICES, then one "PCI CLASS 0302" per class.
 *
 * Returns: (transfer full)
 */
char *pp_host_table_user(const json_t *user, gint64 now);

/* Columns ID, USER, NAME ("-" when none), CREATED, LAST USED, EXPIRES
 * ("never", "in 29d", "expired"), for an array of TOKEN. Returns:
 * (transfer full) */
char *pp_host_table_tokens(const json_t *tokens, gint64 now);

/* `pcipass host types`: TYPE (vendor:device:class), FREE, TOTAL, HOSTS,
 * CLASS (name), NAME (vendor and device names), from GET /v1/pci/types.
 * Returns: (transfer full). */
char *pp_host_table_types(const json_t *types);

G_END_DECLS
