/* pp-context: context.sh's NIC variables, golden, and quoting that no
 * value breaks out of: each quoted hostile value is read back by a real
 * POSIX shell (/bin/sh, argv only) as exactly itself. The whole disk in
 * both formats, golden, from templates the real parser reads; NoCloud's
 * YAML read back by libyaml with hostile values. */
#include "config.h"

#include <string.h>

#include <yaml.h>

#include "pp-context.h"

static PpNetworkSpec *
parse_network(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpNetworkSpec *spec = pp_network_template_parse(text, strlen(text), NULL, NULL, &error);

  g_assert_no_error(error);
  return spec;
}

static void
lease_of(const PpNetworkSpec *spec, guint ar, guint32 index, PpNetworkLease *ret)
{
  g_autoptr(GError) error = NULL;

  g_assert_true(
      pp_network_ar_lease(&g_array_index(spec->ars, PpNetworkAr, ar), index, ret, &error));
  g_assert_no_error(error);
}

/* A bridged NIC on a dual-stack network and a PCI NIC on an 802.1Q one
 * with a static IPv6: every variable, in order. */
static void
test_golden(void)
{
  g_autoptr(PpNetworkSpec) lan = parse_network(
      "NAME = lan\nVN_MAD = bridge\nBRIDGE = br0\nMTU = 9000\n"
      "NETWORK_ADDRESS = 10.0.0.0\nNETWORK_MASK = 255.255.255.0\nGATEWAY = 10.0.0.1\n"
      "DNS = \"10.0.0.2 2001:db8::53\"\nSEARCH_DOMAIN = \"example.org lab.example.org\"\n"
      "GATEWAY6 = \"2001:db8::1\"\n"
      "AR = [ TYPE = IP4_6, IP = 10.0.0.10, MAC = \"02:00:0a:00:00:0a\", "
      "GLOBAL_PREFIX = \"2001:db8::\", ULA_PREFIX = \"fd00::\", SIZE = 8 ]\n");
  g_autoptr(PpNetworkSpec) vlan =
      parse_network("NAME = sriov\nVN_MAD = \"802.1Q\"\nVLAN_ID = 100\nPHYDEV = \"\"\n"
                    "AR = [ TYPE = IP4_6_STATIC, IP = 192.168.5.20, MAC = \"02:00:c0:a8:05:14\", "
                    "IP6 = \"2001:db8:5::20\", PREFIX_LENGTH = 64, SIZE = 4 ]\n");
  PpNetworkLease a, b;
  PpContextNic nics[3] = { { 0 } };
  g_autoptr(GString) out = g_string_new("# context\n");
  g_autoptr(GError) error = NULL;

  lease_of(lan, 0, 2, &a);
  lease_of(vlan, 0, 0, &b);
  nics[0] = (PpContextNic){ PP_VM_NIC_BRIDGE, 0, 0, &a, lan, "lan", -1, 0, FALSE, { 0 } };
  nics[1] = (PpContextNic){ PP_VM_NIC_PCI, 1, 0, &b, vlan, "sriov", 100, 64, TRUE, { 0, 2, 0, 0 } };
  /* A NIC without a network says nothing. */
  nics[2] = (PpContextNic){ PP_VM_NIC_BRIDGE, 2, 0, NULL, NULL, NULL, -1, 0, FALSE, { 0 } };
  g_assert_true(pp_context_append_nics(out, nics, G_N_ELEMENTS(nics), &error));
  g_assert_no_error(error);
  g_assert_cmpstr(out->str, ==,
                  "# context\n"
                  "ETH0_MAC='02:00:0a:00:00:0c'\n"
                  "ETH0_IP='10.0.0.12'\n"
                  "ETH0_MASK='255.255.255.0'\n"
                  "ETH0_GATEWAY='10.0.0.1'\n"
                  "ETH0_DNS='10.0.0.2 2001:db8::53'\n"
                  "ETH0_SEARCH_DOMAIN='example.org lab.example.org'\n"
                  "ETH0_MTU='9000'\n"
                  "ETH0_IP6='2001:db8::aff:fe00:c'\n"
                  "ETH0_IP6_PREFIX_LENGTH='64'\n"
                  "ETH0_IP6_ULA='fd00::aff:fe00:c'\n"
                  "ETH0_IP6_GATEWAY='2001:db8::1'\n"
                  "ETH0_NETWORK='lan'\n"
                  "PCI0_MAC='02:00:c0:a8:05:14'\n"
                  "PCI0_IP='192.168.5.20'\n"
                  "PCI0_VLAN_ID='100'\n"
                  "PCI0_IP6='2001:db8:5::20'\n"
                  "PCI0_IP6_PREFIX_LENGTH='64'\n"
                  "PCI0_NETWORK='sriov'\n"
                  "PCI0_ADDRESS='0000:02:00.0'\n");
}

/* What /bin/sh reads @line (V='...') as. */
static char *
shell_reads(const char *line)
{
  g_autofree char *script = g_strdup_printf("%s\nprintf %%s \"$V\"", line);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  gint status = -1;

  g_assert_true(g_spawn_sync(NULL, (char *[]){ "/bin/sh", "-c", script, NULL }, NULL,
                             G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
  g_assert_no_error(error);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_assert_cmpstr(err, ==, "");
  return out;
}

/* Hostile values stay values; control characters are refused and leave
 * the text as it was. */
static void
test_quote(void)
{
  static const char *const hostile[] = {
    "it's",     "'",
    "''",       "'; touch /tmp/pcipass-pwned; '",
    "$(id)",    "`id`",
    "${HOME}",  "\\",
    "\\'",      "a\"b",
    "; exit 3", "#",
    "'\\''",    "\xc3\xa9t\xc3\xa9",
    "",
  };
  static const char *const refused[] = { "a\nb", "\r", "tab\there", "\x1b[31m", "del\x7f" };

  for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
    g_autoptr(GString) line = g_string_new("V=");
    g_autofree char *read = NULL;

    g_assert_true(pp_context_quote(line, hostile[i]));
    read = shell_reads(line->str);
    g_assert_cmpstr(read, ==, hostile[i]);
  }
  g_assert_false(g_file_test("/tmp/pcipass-pwned", G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS(refused); i++) {
    g_autoptr(GString) line = g_string_new("V=");

    g_assert_false(pp_context_quote(line, refused[i]));
    g_assert_cmpstr(line->str, ==, "V=");
  }
}

/* A value that cannot be written: the error names the variable, and the
 * text is as it was (no half NIC). */
static void
test_refused(void)
{
  g_autoptr(PpNetworkSpec) lan =
      parse_network("NAME = lan\nVN_MAD = dummy\nAR = [ TYPE = ETHER, MAC = "
                    "\"02:00:00:00:00:01\", SIZE = 2 ]\n");
  PpNetworkLease a;
  PpContextNic nic = { PP_VM_NIC_BRIDGE, 3, 0, &a, lan, "bad\nname", -1, 0, FALSE, { 0 } };
  g_autoptr(GString) out = g_string_new("KEEP='1'\n");
  g_autoptr(GError) error = NULL;

  lease_of(lan, 0, 1, &a);
  g_assert_false(pp_context_append_nics(out, &nic, 1, &error));
  g_assert_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==,
                  "ETH3_NETWORK: a value with a control character cannot be written");
  g_assert_cmpstr(out->str, ==, "KEEP='1'\n");
}

/* ------------------------------------------------------------------------ */
/* The whole disk                                                            */
/* ------------------------------------------------------------------------ */

static PpVmSpec *
parse_vm(const char *text)
{
  g_autoptr(GError) error = NULL;
  PpVmSpec *spec = pp_vm_template_parse(text, strlen(text), &error);

  g_assert_no_error(error);
  return spec;
}

/* File @i of @disk, which must be @name, as text without NUL (freed at
 * the end of the test). */
static const char *
file_text(const PpContextDisk *disk, guint i, const char *name)
{
  const PpContextFile *file;
  gsize len;
  const char *data;
  char *text;

  g_assert_cmpuint(i, <, disk->files->len);
  file = g_ptr_array_index(disk->files, i);
  g_assert_cmpstr(file->name, ==, name);
  data = g_bytes_get_data(file->data, &len);
  text = g_strndup(data, len);
  g_assert_cmpuint(strlen(text), ==, len);
  g_test_queue_free(text);
  return text;
}

/* The NICs of test_disk_*: a bridged NIC on lan (network 3), a PCI NIC
 * that is no VF on sriov (network 9, VLAN 100, its own hardware MAC), a
 * NIC on a bridge without a network. */
typedef struct {
  PpNetworkSpec *lan, *sriov;
  PpNetworkLease a, b;
  PpContextNic nics[3];
} Nics;

static void
nics_init(Nics *n)
{
  n->lan = parse_network(
      "NAME = lan\nVN_MAD = bridge\nBRIDGE = br0\nMTU = 9000\n"
      "NETWORK_ADDRESS = 10.0.0.0\nNETWORK_MASK = 255.255.255.0\nGATEWAY = 10.0.0.1\n"
      "DNS = \"10.0.0.2 2001:db8::53\"\nSEARCH_DOMAIN = \"example.org lab.example.org\"\n"
      "GATEWAY6 = \"2001:db8::1\"\n"
      "AR = [ TYPE = IP4_6, IP = 10.0.0.10, MAC = \"02:00:0a:00:00:0a\", "
      "GLOBAL_PREFIX = \"2001:db8::\", ULA_PREFIX = \"fd00::\", SIZE = 8 ]\n");
  n->sriov = parse_network("NAME = sriov\nVN_MAD = \"802.1Q\"\nVLAN_ID = 100\nPHYDEV = \"\"\n"
                           "AR = [ TYPE = IP4, IP = 192.168.5.20, MAC = \"02:00:c0:a8:05:14\", "
                           "SIZE = 4 ]\n");
  lease_of(n->lan, 0, 2, &n->a);
  lease_of(n->sriov, 0, 0, &n->b);
  n->nics[0] =
      (PpContextNic){ PP_VM_NIC_BRIDGE, 0, 0, &n->a, n->lan, "lan", -1, 0, FALSE, { 0 }, 3, NULL };
  n->nics[1] =
      (PpContextNic){ PP_VM_NIC_PCI, 1, 0,    &n->b,          n->sriov, "sriov",
                      100,           0, TRUE, { 0, 2, 0, 0 }, 9,        "00:1b:21:aa:bb:cc" };
  n->nics[2] =
      (PpContextNic){ PP_VM_NIC_BRIDGE, 2, 0, NULL, NULL, NULL, -1, 0, FALSE, { 0 }, 0, NULL };
}

static void
nics_clear(Nics *n)
{
  pp_network_spec_free(n->lan);
  pp_network_spec_free(n->sriov);
}

#define VM_NICS                                                                                    \
  "MEMORY = 512\nNAME = web\nNIC = [ NETWORK = \"lan\" ]\n"                                        \
  "PCI = [ TYPE = \"NIC\", NETWORK = \"sriov\", VENDOR = \"8086\" ]\n"                             \
  "NIC = [ BRIDGE = \"br1\" ]\n"

static PpContextVm
vm_of(const PpVmSpec *spec, Nics *n)
{
  return (PpContextVm){ 7, "web", "alice", 4, &spec->context, n->nics, G_N_ELEMENTS(n->nics) };
}

/* context.sh: the header, the NICs' variables, then the keys in template
 * order, every substitution resolved; FORMAT is no variable. */
static void
test_disk_one(void)
{
  g_autoptr(PpVmSpec) spec = parse_vm(
      VM_NICS "CONTEXT = [ SSH_PUBLIC_KEY = \"ssh-ed25519 AAAAC3 alice@laptop\",\n"
              "  SET_HOSTNAME = \"$NAME-$VMID\", OWNER = \"$UNAME/$UID\", FORMAT = one,\n"
              "  GW = \"$NETWORK[GATEWAY, NETWORK = lan]\", IP1 = \"$NIC[IP, NIC_ID = 1]\",\n"
              "  MAC0 = \"$NIC[MAC]\", DNS = \"$NIC[DNS, NETWORK = \\\"lan\\\"]\",\n"
              "  MTU9 = \"$NETWORK[MTU, NETWORK_ID = 9]\", VLAN = \"$NIC[VLAN_ID, NIC_ID = 1]\",\n"
              "  V6 = \"$NIC[IP6]|$NIC[IP6_ULA]|$NIC[IP6_GLOBAL, NIC_ID = 1]\",\n"
              "  NET = \"$NIC[NETWORK, NETWORK_ID = 9] $NIC[NETWORK_ID, NETWORK = sriov]\",\n"
              "  QUOTE = \"it's $$5 $1\", START_SCRIPT_BASE64 = \"ZWNobyBoaQo=\" ]\n");
  Nics n;
  PpContextVm vm;
  g_autoptr(PpContextDisk) disk = NULL;
  g_autoptr(GError) error = NULL;

  nics_init(&n);
  vm = vm_of(spec, &n);
  disk = pp_context_disk_build(&vm, &error);
  g_assert_no_error(error);
  g_assert_cmpint(disk->format, ==, PP_VM_CONTEXT_ONE);
  g_assert_cmpstr(disk->label, ==, "CONTEXT");
  g_assert_cmpuint(disk->files->len, ==, 1);
  g_assert_cmpstr(file_text(disk, 0, "context.sh"), ==,
                  "# Context variables generated by pcipass\n"
                  "ETH0_MAC='02:00:0a:00:00:0c'\n"
                  "ETH0_IP='10.0.0.12'\n"
                  "ETH0_MASK='255.255.255.0'\n"
                  "ETH0_GATEWAY='10.0.0.1'\n"
                  "ETH0_DNS='10.0.0.2 2001:db8::53'\n"
                  "ETH0_SEARCH_DOMAIN='example.org lab.example.org'\n"
                  "ETH0_MTU='9000'\n"
                  "ETH0_IP6='2001:db8::aff:fe00:c'\n"
                  "ETH0_IP6_PREFIX_LENGTH='64'\n"
                  "ETH0_IP6_ULA='fd00::aff:fe00:c'\n"
                  "ETH0_IP6_GATEWAY='2001:db8::1'\n"
                  "ETH0_NETWORK='lan'\n"
                  "PCI0_MAC='02:00:c0:a8:05:14'\n"
                  "PCI0_IP='192.168.5.20'\n"
                  "PCI0_VLAN_ID='100'\n"
                  "PCI0_NETWORK='sriov'\n"
                  "PCI0_ADDRESS='0000:02:00.0'\n"
                  "SSH_PUBLIC_KEY='ssh-ed25519 AAAAC3 alice@laptop'\n"
                  "SET_HOSTNAME='web-7'\n"
                  "OWNER='alice/4'\n"
                  "GW='10.0.0.1'\n"
                  "IP1='192.168.5.20'\n"
                  "MAC0='02:00:0a:00:00:0c'\n"
                  "DNS='10.0.0.2 2001:db8::53'\n"
                  "MTU9=''\n"
                  "VLAN='100'\n"
                  "V6='2001:db8::aff:fe00:c|fd00::aff:fe00:c|'\n"
                  "NET='sriov 9'\n"
                  "QUOTE='it'\\''s $5 $1'\n"
                  "START_SCRIPT_BASE64='ZWNobyBoaQo='\n");
  nics_clear(&n);
}

/* A VM without CONTEXT: context.sh with its NICs' variables only. */
static void
test_disk_no_context(void)
{
  Nics n;
  PpContextVm vm;
  g_autoptr(PpContextDisk) disk = NULL;
  g_autoptr(GError) error = NULL;

  nics_init(&n);
  vm = (PpContextVm){ 7, "web", "alice", 4, NULL, &n.nics[2], 1 };
  disk = pp_context_disk_build(&vm, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(disk->label, ==, "CONTEXT");
  g_assert_cmpstr(file_text(disk, 0, "context.sh"), ==,
                  "# Context variables generated by pcipass\n");
  nics_clear(&n);
}

/* NoCloud: meta-data, user-data and network-config v2, golden. */
static void
test_disk_nocloud(void)
{
  g_autoptr(PpVmSpec) spec =
      parse_vm(VM_NICS "CONTEXT = [ FORMAT = \"NoCloud\", SET_HOSTNAME = \"$NAME-$VMID\",\n"
                       "  SSH_PUBLIC_KEY = \"ssh-ed25519 AAAAC3 alice@laptop\" ]\n");
  Nics n;
  PpContextVm vm;
  g_autoptr(PpContextDisk) disk = NULL;
  g_autoptr(GError) error = NULL;

  nics_init(&n);
  vm = vm_of(spec, &n);
  disk = pp_context_disk_build(&vm, &error);
  g_assert_no_error(error);
  g_assert_cmpint(disk->format, ==, PP_VM_CONTEXT_NOCLOUD);
  g_assert_cmpstr(disk->label, ==, "cidata");
  g_assert_cmpuint(disk->files->len, ==, 3);
  g_assert_cmpstr(file_text(disk, 0, "meta-data"), ==,
                  "instance-id: \"pcipass-7\"\n"
                  "local-hostname: \"web-7\"\n");
  g_assert_cmpstr(file_text(disk, 1, "user-data"), ==,
                  "#cloud-config\n"
                  "hostname: \"web-7\"\n"
                  "ssh_authorized_keys:\n"
                  "  - \"ssh-ed25519 AAAAC3 alice@laptop\"\n");
  g_assert_cmpstr(file_text(disk, 2, "network-config"), ==,
                  "version: 2\n"
                  "ethernets:\n"
                  "  \"eth0\":\n"
                  "    match:\n"
                  "      macaddress: \"02:00:0a:00:00:0c\"\n"
                  "    set-name: \"eth0\"\n"
                  "    macaddress: \"02:00:0a:00:00:0c\"\n"
                  "    mtu: 9000\n"
                  "    addresses:\n"
                  "      - \"10.0.0.12/24\"\n"
                  "      - \"2001:db8::aff:fe00:c/64\"\n"
                  "      - \"fd00::aff:fe00:c/64\"\n"
                  "    routes:\n"
                  "      - to: \"default\"\n"
                  "        via: \"10.0.0.1\"\n"
                  "      - to: \"::/0\"\n"
                  "        via: \"2001:db8::1\"\n"
                  "    nameservers:\n"
                  "      addresses:\n"
                  "        - \"10.0.0.2\"\n"
                  "        - \"2001:db8::53\"\n"
                  "      search:\n"
                  "        - \"example.org\"\n"
                  "        - \"lab.example.org\"\n"
                  "  \"eth1\":\n"
                  "    match:\n"
                  "      macaddress: \"00:1b:21:aa:bb:cc\"\n"
                  "    set-name: \"eth1\"\n"
                  "    macaddress: \"02:00:c0:a8:05:14\"\n"
                  "vlans:\n"
                  "  \"eth1.100\":\n"
                  "    id: 100\n"
                  "    link: \"eth1\"\n"
                  "    addresses:\n"
                  "      - \"192.168.5.20/24\"\n");
  nics_clear(&n);
}

/* The user's own user data is the user-data as it is (base64 decoded);
 * the key goes to meta-data then; no SET_HOSTNAME: the VM's name; no
 * lease: a network-config that configures nothing. */
static void
test_disk_nocloud_user_data(void)
{
  static const char cloud_config[] = "#cloud-config\nruncmd:\n  - [touch, /tmp/x]\n";
  g_autofree char *b64 = g_base64_encode((const guchar *)cloud_config, strlen(cloud_config));
  g_autofree char *text =
      g_strdup_printf("MEMORY = 512\nCONTEXT = [ FORMAT = nocloud, USER_DATA_BASE64 = \"%s\",\n"
                      "  SSH_PUBLIC_KEY = \"ssh-rsa AAAA bob\" ]\n",
                      b64);
  g_autoptr(PpVmSpec) spec = parse_vm(text);
  g_autoptr(PpVmSpec) plain =
      parse_vm("MEMORY = 512\nCONTEXT = [ FORMAT = nocloud, USER_DATA = \"#include $NAME\" ]\n");
  PpContextVm vm = { 12, "db", "bob", 5, &spec->context, NULL, 0 };
  g_autoptr(PpContextDisk) disk = NULL;
  g_autoptr(GError) error = NULL;

  disk = pp_context_disk_build(&vm, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(file_text(disk, 0, "meta-data"), ==,
                  "instance-id: \"pcipass-12\"\n"
                  "local-hostname: \"db\"\n"
                  "public-keys:\n"
                  "  - \"ssh-rsa AAAA bob\"\n");
  g_assert_cmpstr(file_text(disk, 1, "user-data"), ==, cloud_config);
  g_assert_cmpstr(file_text(disk, 2, "network-config"), ==, "version: 2\n");
  g_clear_pointer(&disk, pp_context_disk_free);
  vm.context = &plain->context;
  disk = pp_context_disk_build(&vm, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(file_text(disk, 0, "meta-data"), ==,
                  "instance-id: \"pcipass-12\"\n"
                  "local-hostname: \"db\"\n");
  g_assert_cmpstr(file_text(disk, 1, "user-data"), ==, "#include db");
}

/* What cannot be resolved when the disk is built is an error naming the
 * key: a NIC without a lease yet, a NIC or network the VM does not have
 * (a spec read from a store edited by hand), a NIC on no network. */
static void
test_disk_unresolved(void)
{
  static const struct {
    const char *value;
    const char *message;
  } cases[] = {
    { "$NIC[IP, NIC_ID = 2]",
      "CONTEXT: K: '$NIC[IP, NIC_ID = 2]': NIC 2 has no lease yet (it gets one when the VM is "
      "placed on a network)" },
    { "$NIC[GATEWAY, NIC_ID = 2]", "CONTEXT: K: '$NIC[GATEWAY, NIC_ID = 2]': NIC 2 is on no "
                                   "network" },
    { "$NIC[IP, NIC_ID = 3]", "CONTEXT: K: '$NIC[IP, NIC_ID = 3]': the VM has no NIC 3" },
    { "$NETWORK[DNS, NETWORK = wan]",
      "CONTEXT: K: '$NETWORK[DNS, NETWORK = wan]': no NIC of the VM is on network 'wan'" },
    { "$NIC[MAC, NETWORK_ID = 4]",
      "CONTEXT: K: '$NIC[MAC, NETWORK_ID = 4]': no NIC of the VM is on network 4" },
    { "x $HOME",
      "CONTEXT: K: '$HOME': not a substitution pcipass knows ($VMID, $NAME, $UNAME, $UID, "
      "$NIC[...], $NETWORK[...]); write $$ for a '$'" },
  };
  Nics n;

  nics_init(&n);
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(PpVmSpec) spec = pp_vm_spec_new();
    PpVmContextVar *var = g_new0(PpVmContextVar, 1);
    PpContextVm vm;
    g_autoptr(GError) error = NULL;

    var->name = g_strdup("K");
    var->value = g_strdup(cases[i].value);
    g_ptr_array_add(spec->context.vars, var);
    spec->context.present = TRUE;
    vm = vm_of(spec, &n);
    g_assert_null(pp_context_resolve(&vm, var, &error));
    g_assert_error(error, PP_CONTEXT_ERROR, PP_CONTEXT_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    g_clear_error(&error);
    /* The disk in either format fails alike. */
    g_assert_null(pp_context_disk_build(&vm, &error));
    g_assert_cmpstr(error->message, ==, cases[i].message);
    if (i == 0) {
      g_clear_error(&error);
      g_free(var->name);
      var->name = g_strdup("SET_HOSTNAME");
      spec->context.format = PP_VM_CONTEXT_NOCLOUD;
      g_assert_null(pp_context_disk_build(&vm, &error));
      g_assert_true(g_str_has_prefix(error->message, "CONTEXT: SET_HOSTNAME: '$NIC[IP, NIC_ID"));
    }
  }
  nics_clear(&n);
}

/* The scalar at @path ("local-hostname", "ethernets/eth0/set-name") of a
 * YAML document read by libyaml, and the number of keys of the mapping
 * that holds it. */
static char *
yaml_get(const char *text, const char *path, guint *ret_n_keys)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_node_t *node;
  g_auto(GStrv) parts = g_strsplit(path, "/", -1);
  char *found = NULL;

  g_assert_true(yaml_parser_initialize(&parser));
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
  if (!yaml_parser_load(&parser, &doc))
    g_error("libyaml does not read '%s': %s", text, parser.problem);
  node = yaml_document_get_root_node(&doc);
  for (guint i = 0; parts[i] != NULL && node != NULL; i++) {
    yaml_node_t *next = NULL;

    g_assert_cmpint(node->type, ==, YAML_MAPPING_NODE);
    *ret_n_keys = (guint)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
         pair < node->data.mapping.pairs.top; pair++) {
      yaml_node_t *key = yaml_document_get_node(&doc, pair->key);

      if (key->type == YAML_SCALAR_NODE && strcmp((char *)key->data.scalar.value, parts[i]) == 0)
        next = yaml_document_get_node(&doc, pair->value);
    }
    node = next;
  }
  if (node != NULL && node->type == YAML_SCALAR_NODE)
    found = g_strndup((char *)node->data.scalar.value, node->data.scalar.length);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return found;
}

/* No value writes a key of its own: each hostile SET_HOSTNAME and search
 * domain reads back from the YAML as exactly itself, next to the keys
 * pcipass wrote and no other. */
static void
test_disk_nocloud_hostile(void)
{
  static const char *const hostile[] = {
    "x\"\ninstance-id: evil",
    "a\\\"\nb: c",
    "\\",
    "\"",
    "#comment",
    "{a: b}",
    "- item",
    "key: value",
    "  leading and trailing  ",
    "'single'",
    "&anchor *alias !tag",
    "%YAML 1.2",
    "---",
    "...",
    "tab\there",
    "c1\xc2\x85nel\xc2\x9f",
    "\xef\xbb\xbf\x62om", /* a BOM, then "bom" */
    "del\x7f",
    "\xe2\x80\xa8line separator",
    "\xf0\x9f\x98\x80 emoji",
    "null",
    "~",
    "yes",
    "0x10",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
    g_autoptr(PpVmSpec) spec = pp_vm_spec_new();
    g_autoptr(PpNetworkSpec) net = parse_network(
        "NAME = lan\nVN_MAD = dummy\nAR = [ TYPE = IP4, IP = 10.0.0.2, SIZE = 2, MAC = "
        "\"02:00:00:00:00:01\" ]\n");
    PpVmContextVar *var = g_new0(PpVmContextVar, 1);
    PpNetworkLease lease;
    PpContextNic nic = {
      PP_VM_NIC_BRIDGE, 0, 0, &lease, NULL, "lan", -1, 0, FALSE, { 0 }, 1, NULL
    };
    PpContextVm vm = { 1, "vm", "u", 1, &spec->context, &nic, 1 };
    g_autoptr(PpContextDisk) disk = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;
    g_autofree char *search = NULL;
    guint n_keys = 0;

    lease_of(net, 0, 0, &lease);
    /* The search domain from the network: a network template's own value. */
    g_strfreev(net->search_domains);
    net->search_domains = g_strsplit(hostile[i], "\x01", 2);
    nic.network = net;
    var->name = g_strdup("SET_HOSTNAME");
    var->value = g_strdup(hostile[i]);
    g_ptr_array_add(spec->context.vars, var);
    spec->context.present = TRUE;
    spec->context.format = PP_VM_CONTEXT_NOCLOUD;
    disk = pp_context_disk_build(&vm, &error);
    g_assert_no_error(error);
    got = yaml_get(file_text(disk, 0, "meta-data"), "local-hostname", &n_keys);
    g_assert_cmpstr(got, ==, hostile[i]);
    g_assert_cmpuint(n_keys, ==, 2);
    g_clear_pointer(&got, g_free);
    got = yaml_get(file_text(disk, 1, "user-data"), "hostname", &n_keys);
    g_assert_cmpstr(got, ==, hostile[i]);
    g_assert_cmpuint(n_keys, ==, 1);
    g_clear_pointer(&got, g_free);
    got = yaml_get(file_text(disk, 2, "network-config"), "ethernets/eth0/set-name", &n_keys);
    g_assert_cmpstr(got, ==, "eth0");
    g_assert_cmpuint(n_keys, ==, hostile[i][0] != '\0' ? 5 : 4);
    if (hostile[i][0] != '\0') {
      yaml_parser_t parser;
      yaml_document_t doc;
      yaml_node_t *ns;
      const char *text = file_text(disk, 2, "network-config");

      /* nameservers/search/0 */
      g_assert_true(yaml_parser_initialize(&parser));
      yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
      g_assert_true(yaml_parser_load(&parser, &doc));
      ns = yaml_document_get_root_node(&doc);
      for (const char *const *key =
               (const char *const[]){ "ethernets", "eth0", "nameservers", "search", NULL };
           *key != NULL; key++) {
        yaml_node_t *next = NULL;

        g_assert_cmpint(ns->type, ==, YAML_MAPPING_NODE);
        for (yaml_node_pair_t *pair = ns->data.mapping.pairs.start;
             pair < ns->data.mapping.pairs.top; pair++)
          if (strcmp((char *)yaml_document_get_node(&doc, pair->key)->data.scalar.value, *key) == 0)
            next = yaml_document_get_node(&doc, pair->value);
        g_assert_nonnull(next);
        ns = next;
      }
      g_assert_cmpint(ns->type, ==, YAML_SEQUENCE_NODE);
      g_assert_cmpint(ns->data.sequence.items.top - ns->data.sequence.items.start, ==, 1);
      search = g_strdup(
          (char *)yaml_document_get_node(&doc, *ns->data.sequence.items.start)->data.scalar.value);
      g_assert_cmpstr(search, ==, hostile[i]);
      yaml_document_delete(&doc);
      yaml_parser_delete(&parser);
    }
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/context/golden", test_golden);
  g_test_add_func("/context/quote", test_quote);
  g_test_add_func("/context/refused", test_refused);
  g_test_add_func("/context/disk/one", test_disk_one);
  g_test_add_func("/context/disk/no-context", test_disk_no_context);
  g_test_add_func("/context/disk/nocloud", test_disk_nocloud);
  g_test_add_func("/context/disk/nocloud-user-data", test_disk_nocloud_user_data);
  g_test_add_func("/context/disk/unresolved", test_disk_unresolved);
  g_test_add_func("/context/disk/nocloud-hostile", test_disk_nocloud_hostile);
  return g_test_run();
}
