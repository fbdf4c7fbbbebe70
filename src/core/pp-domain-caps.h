/* pp-domain-caps: which domain a host's libvirt can run, read from its
 * capabilities XML (virConnectGetCapabilities(): libvirt's
 * docs/formatcaps.rst). Pure: no I/O.
 *
 *   <capabilities>
 *     <host><cpu><arch>x86_64</arch>...</cpu>...</host>
 *     <guest>
 *       <os_type>hvm</os_type>
 *       <arch name='x86_64'>
 *         <domain type='qemu'/>
 *         <domain type='kvm'/>
 *       </arch>
 *     </guest>
 *   </capabilities>
 *
 * A passed-through device runs at the host's own speed only in a guest of
 * the host's architecture, and pcipass's machines (q35, i440fx) are x86:
 * the guest's arch is the host's, which must be x86_64 or i686. Its type is
 * the best that libvirt offers for hvm guests of that arch: kvm (hardware
 * virtualization), else qemu (QEMU's emulation, TCG: slow, passthrough
 * works the same), else test (libvirt's test driver, which runs nothing).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PP_DOMAIN_CAPS_ERROR (pp_domain_caps_error_quark())
GQuark pp_domain_caps_error_quark(void);

typedef enum {
  PP_DOMAIN_CAPS_ERROR_INVALID,     /* not capabilities XML, or none of it pcipass can read */
  PP_DOMAIN_CAPS_ERROR_UNSUPPORTED, /* the host runs no domain pcipass can make */
} PpDomainCapsError;

/* Longest capabilities text read (a host with many guests and NUMA cells
 * writes tens of KiB). */
#define PP_DOMAIN_CAPS_MAX_SIZE (4 * 1024 * 1024)

typedef struct {
  const char *type; /* (transfer none): "kvm", "qemu" or "test", static */
  const char *arch; /* (transfer none): "x86_64" or "i686", static */
} PpDomainKind;

/**
 * pp_domain_caps_choose:
 * @caps: the capabilities XML of the host's libvirt
 * @want: (nullable): pcipassd's domain-type: %NULL or "auto" (the best
 *   offered: kvm, qemu, test), "kvm" (kvm or nothing: never a slow
 *   emulated guest unawares) or "qemu" (never kvm: qemu, else test, for
 *   hosts whose KVM is missing or not to be trusted)
 *
 * Returns: TRUE and writes @ret_kind; FALSE with INVALID ("the
 *   capabilities of the host's libvirt do not read: line 3, ...") or
 *   UNSUPPORTED saying what the host offers and what would do: "the host's
 *   libvirt offers neither kvm nor qemu for hvm guests of its arch x86_64
 *   (it offers xen); install QEMU and libvirt's qemu driver there",
 *   "the host's arch is aarch64; pcipass makes x86 domains (x86_64, i686)
 *   only".
 */
gboolean pp_domain_caps_choose(const char *caps, gsize len, const char *want,
                               PpDomainKind *ret_kind, GError **error);

G_END_DECLS
