/* pp-vfio-config's parts that tests call on their own (STYLE rule 5). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Edits the kernel command line of GRUB_CMDLINE_LINUX="...": @params are
 * added, a parameter of the same name is replaced, and the comma lists of
 * rd.driver.blacklist=, modprobe.blacklist=, rd.driver.pre=, intel_iommu=
 * and amd_iommu= are merged ("on" taking "off" away).
 * Returns: (transfer full) the new text, or NULL with @ret_error when the
 * line cannot be parsed (a variable, a command substitution, an escape). */
char *pp_vfio_config_edit_grub(const char *text, const char *const *params, char **ret_error);

G_END_DECLS
