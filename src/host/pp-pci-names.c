#define G_LOG_DOMAIN "pp-pci-names"

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <pci/pci.h>

#include "pp-fd.h"

#include "pp-pci-names.h"

/* clang-format off */
G_DEFINE_QUARK(pp-pci-names-error-quark, pp_pci_names_error)
/* clang-format on */

struct _PpPciNames {
  struct pci_access *access;
  int flags;
};

/* libpci calls this on a damaged ID file ("Syntax error at
 * /usr/share/misc/pci.ids, line 12") and expects it not to return. It runs
 * while the file loads in pp_pci_names_open(), before any output, so exit
 * code 2 (bad input) with libpci's message is the honest end. */
static void names_error(char *msg, ...) G_GNUC_NORETURN G_GNUC_PRINTF(1, 2);

static void
names_error(char *msg, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start(args, msg);
  text = g_strdup_vprintf(msg, args);
  va_end(args);
  /* libpci's messages end with a newline of their own. */
  fprintf(stderr, "%s: pci.ids: %s\n", g_get_prgname() ? g_get_prgname() : "pcipass",
          g_strchomp(text));
  exit(2);
}

static void names_debug(char *msg, ...) G_GNUC_PRINTF(1, 2);

static void
names_debug(char *msg, ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start(args, msg);
  text = g_strdup_vprintf(msg, args);
  va_end(args);
  g_debug("libpci: %s", g_strchomp(text));
}

PpPciNames *
pp_pci_names_open(const char *ids_path, GError **error)
{
  g_autofree PpPciNames *names = g_new0(PpPciNames, 1);

  names->access = pci_alloc();
  names->access->error = names_error;
  names->access->warning = names_debug;
  names->access->debug = names_debug;
  if (ids_path != NULL) {
    pp_autofd int fd = open(ids_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    int err = 0;

    /* libpci would take a folder and die on it with "I/O error at ...". */
    if (fd < 0)
      err = errno;
    else if (fstat(fd, &st) != 0)
      err = errno;
    else if (!S_ISREG(st.st_mode))
      err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    if (err != 0) {
      g_set_error(error, PP_PCI_NAMES_ERROR, PP_PCI_NAMES_ERROR_NOT_FOUND,
                  "cannot read the PCI ID file '%s': %s", ids_path,
                  err == EISDIR ? "it is a folder" : g_strerror(err));
      pci_cleanup(names->access);
      return NULL;
    }
    /* libpci frees it with free(). */
    pci_set_name_list_path(names->access, strdup(ids_path), 1);
    /* The file given is the whole truth: no udev hwdb behind it. */
    names->flags = PCI_LOOKUP_NO_HWDB;
  }
  /* Load now, so that a damaged file stops us before any output. */
  if (!pci_load_name_list(names->access))
    g_debug("no PCI ID file at '%s': names will be numeric", names->access->id_file_name);
  return g_steal_pointer(&names);
}

void
pp_pci_names_free(PpPciNames *names)
{
  if (names == NULL)
    return;
  pci_cleanup(names->access);
  g_free(names);
}

static char *
lookup(PpPciNames *names, int what, int id1, int id2)
{
  char buf[256];
  const char *name;

  name = pci_lookup_name(names->access, buf, sizeof(buf), what | names->flags, id1, id2);
  /* pci.ids is UTF-8, but a local file might not be. */
  return g_utf8_make_valid(name != NULL ? name : "", -1);
}

void
pp_pci_names_fill(PpPciNames *names, PpPciDevice *dev)
{
  g_return_if_fail(names != NULL && dev != NULL);

  g_free(dev->vendor_name);
  g_free(dev->device_name);
  g_free(dev->class_name);
  dev->vendor_name = lookup(names, PCI_LOOKUP_VENDOR, dev->vendor, 0);
  dev->device_name = lookup(names, PCI_LOOKUP_DEVICE, dev->vendor, dev->device);
  dev->class_name = lookup(names, PCI_LOOKUP_CLASS, pp_pci_device_get_class(dev), 0);
}
