/* pp-deployer-priv: what only tests use (STYLE rule 5). Never called by
 * pcipassd. */
#pragma once

#include "pp-deployer.h"

G_BEGIN_DECLS

/**
 * pp_deployer_test_set_capabilities:
 * @caps: (nullable): capabilities XML; NULL: ask libvirt again
 *
 * Makes the host behind @uri answer @caps where the deployer reads its
 * capabilities, in place of libvirt's own answer: a host no machine here
 * has (a Xen-only libvirt) on a real connection (the test driver). The
 * connection, its calls and the domain stay libvirt's.
 */
void pp_deployer_test_set_capabilities(PpDeployer *deployer, const char *uri, const char *caps);

G_END_DECLS
