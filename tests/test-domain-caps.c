/* pp-domain-caps: the domain a host's libvirt runs, from the capabilities
 * real libvirts print (tests/data/libvirt-caps: the test driver, QEMU
 * without KVM) and from ones written here for what this machine has not
 * (KVM, a Xen-only host, an aarch64 host). */
#include "config.h"

#include <string.h>

#include "pp-domain-caps.h"

static char *
read_caps(const char *name)
{
  g_autofree char *path = g_test_build_filename(G_TEST_DIST, "data", "libvirt-caps", name, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents(path, &text, NULL, &error);
  g_assert_no_error(error);
  return text;
}

/* What pcipassd's domain-type (@want: NULL, auto, kvm, qemu) chooses. */
static void
expect_kind_of(const char *caps, const char *want, const char *type, const char *arch)
{
  g_autoptr(GError) error = NULL;
  PpDomainKind kind = { NULL, NULL };

  g_assert_true(pp_domain_caps_choose(caps, strlen(caps), want, &kind, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(kind.type, ==, type);
  g_assert_cmpstr(kind.arch, ==, arch);
}

static void
expect_kind(const char *caps, const char *type, const char *arch)
{
  expect_kind_of(caps, NULL, type, arch);
}

static void
expect_error_of(const char *caps, const char *want, PpDomainCapsError code, const char *message)
{
  g_autoptr(GError) error = NULL;
  PpDomainKind kind = { "unset", "unset" };

  g_assert_false(pp_domain_caps_choose(caps, strlen(caps), want, &kind, &error));
  g_assert_error(error, PP_DOMAIN_CAPS_ERROR, (gint)code);
  if (strstr(error->message, message) == NULL)
    g_error("'%s' is not in '%s'", message, error->message);
  /* Written only on success. */
  g_assert_cmpstr(kind.type, ==, "unset");
  g_assert_cmpstr(kind.arch, ==, "unset");
}

static void
expect_error(const char *caps, PpDomainCapsError code, const char *message)
{
  expect_error_of(caps, NULL, code, message);
}

/* libvirt's test driver: its host is i686 and its only type is test; a
 * guess from the URI would say the same type, but the arch comes from
 * the capabilities alone. */
static void
test_test_driver(void)
{
  g_autofree char *caps = read_caps("test-default.xml");

  expect_kind(caps, "test", "i686");
}

/* qemu:///system with no /dev/kvm (this machine, nested hosts): qemu. A
 * guess from the URI ("qemu:" -> kvm) fails here. */
static void
test_qemu_without_kvm(void)
{
  g_autofree char *caps = read_caps("qemu-tcg.xml");

  g_assert_null(strstr(caps, "<domain type='kvm'"));
  expect_kind(caps, "qemu", "x86_64");
}

/* The same host with KVM: libvirt adds a kvm domain to the guest's arch
 * (docs/formatcaps.rst), and kvm wins over qemu, whatever the order. */
static void
test_qemu_with_kvm(void)
{
  g_autofree char *tcg = read_caps("qemu-tcg.xml");
  g_auto(GStrv) parts = g_strsplit(tcg, "<domain type='qemu'/>", -1);
  g_autofree char *kvm = g_strjoinv("<domain type='kvm'/>\n      <domain type='qemu'/>", parts);
  g_autofree char *kvm_first =
      g_strjoinv("<domain type='qemu'/>\n      <domain type='kvm'/>", parts);

  g_assert_cmpuint(g_strv_length(parts), >=, 2);
  expect_kind(kvm, "kvm", "x86_64");
  expect_kind(kvm_first, "kvm", "x86_64");
}

/* Only the guests of the host's arch count: an x86_64 host that runs kvm
 * for i686 guests only runs x86_64 ones under qemu. */
static void
test_host_arch_only(void)
{
  expect_kind("<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"
              "<guest><os_type>hvm</os_type><arch name='i686'><domain type='kvm'/></arch></guest>"
              "<guest><os_type>hvm</os_type><arch name='x86_64'><domain type='qemu'/></arch>"
              "</guest></capabilities>",
              "qemu", "x86_64");
}

/* The errors, each saying what the host offers and what to do. */
static void
test_unsupported(void)
{
  /* Xen's libvirt: hvm guests of type xen only. */
  expect_error("<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"
               "<guest><os_type>hvm</os_type><arch name='x86_64'><domain type='xen'/></arch>"
               "</guest><guest><os_type>xen</os_type><arch name='x86_64'>"
               "<domain type='qemu'/></arch></guest></capabilities>",
               PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
               "the host's libvirt offers neither kvm nor qemu for hvm guests of its arch x86_64 "
               "(it offers xen); install QEMU and libvirt's qemu driver there");
  /* No guest at all (libvirt without a hypervisor driver's guests). */
  expect_error("<capabilities><host><cpu><arch>x86_64</arch></cpu></host></capabilities>",
               PP_DOMAIN_CAPS_ERROR_UNSUPPORTED, "of its arch x86_64 (it offers none)");
  /* An ARM host: pcipass's machines are x86. */
  expect_error("<capabilities><host><cpu><arch>aarch64</arch></cpu></host>"
               "<guest><os_type>hvm</os_type><arch name='aarch64'><domain type='kvm'/></arch>"
               "</guest></capabilities>",
               PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
               "the host's arch is aarch64; pcipass makes x86 domains (x86_64, i686) only");
}

/* pcipassd's domain-type: auto is the best offered; kvm is kvm or an
 * error that says how to have it; qemu is never kvm (a host whose KVM
 * is missing or not to be trusted), and still the test driver's. */
static void
test_domain_type(void)
{
  g_autofree char *tcg = read_caps("qemu-tcg.xml");
  g_autofree char *test = read_caps("test-default.xml");
  g_auto(GStrv) parts = g_strsplit(tcg, "<domain type='qemu'/>", -1);
  g_autofree char *kvm = g_strjoinv("<domain type='kvm'/>\n      <domain type='qemu'/>", parts);

  expect_kind_of(kvm, "auto", "kvm", "x86_64");
  expect_kind_of(kvm, "kvm", "kvm", "x86_64");
  expect_kind_of(kvm, "qemu", "qemu", "x86_64");
  expect_kind_of(tcg, "auto", "qemu", "x86_64");
  expect_kind_of(tcg, "qemu", "qemu", "x86_64");
  expect_error_of(tcg, "kvm", PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
                  "the host's libvirt offers no kvm for hvm guests of its arch x86_64 (it offers "
                  "qemu), and domain-type is kvm: enable KVM there (its kernel module, /dev/kvm), "
                  "or set domain-type to auto to run emulated");
  expect_kind_of(test, "qemu", "test", "i686");
  expect_error_of(test, "kvm", PP_DOMAIN_CAPS_ERROR_UNSUPPORTED, "(it offers test)");
  /* A host of kvm alone, asked never to use it. */
  expect_error_of("<capabilities><host><cpu><arch>x86_64</arch></cpu></host>"
                  "<guest><os_type>hvm</os_type><arch name='x86_64'><domain type='kvm'/></arch>"
                  "</guest></capabilities>",
                  "qemu", PP_DOMAIN_CAPS_ERROR_UNSUPPORTED,
                  "the host's libvirt offers no qemu for hvm guests of its arch x86_64 (it offers "
                  "kvm); install QEMU and libvirt's qemu driver there");
}

static void
test_invalid(void)
{
  g_autofree char *big = g_strnfill(PP_DOMAIN_CAPS_MAX_SIZE + 1, ' ');
  g_autoptr(GError) error = NULL;
  PpDomainKind kind;

  expect_error("<capabilities><host>", PP_DOMAIN_CAPS_ERROR_INVALID,
               "the capabilities of the host's libvirt do not read: ");
  expect_error("not XML at all", PP_DOMAIN_CAPS_ERROR_INVALID, "do not read");
  expect_error("<capabilities><guest><os_type>hvm</os_type></guest></capabilities>",
               PP_DOMAIN_CAPS_ERROR_INVALID, "name no host arch (<host><cpu><arch>)");
  g_assert_false(pp_domain_caps_choose(big, strlen(big), NULL, &kind, &error));
  g_assert_error(error, PP_DOMAIN_CAPS_ERROR, PP_DOMAIN_CAPS_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "more than the 4194304 pcipass reads"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/domain-caps/test-driver", test_test_driver);
  g_test_add_func("/domain-caps/qemu-without-kvm", test_qemu_without_kvm);
  g_test_add_func("/domain-caps/qemu-with-kvm", test_qemu_with_kvm);
  g_test_add_func("/domain-caps/host-arch-only", test_host_arch_only);
  g_test_add_func("/domain-caps/unsupported", test_unsupported);
  g_test_add_func("/domain-caps/invalid", test_invalid);
  g_test_add_func("/domain-caps/domain-type", test_domain_type);
  return g_test_run();
}
