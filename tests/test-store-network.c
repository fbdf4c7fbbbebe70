/* pp-store-network: networks, ranges and leases in the real SQLite store,
 * on a fresh file per test: what the schema itself refuses (a MAC or an
 * IPv4 address twice in a network), leases taken with the placement and
 * given back with the devices, exhaustion and its words, addresses asked
 * for at create, the MAC counter across networks and restarts, update and
 * delete rules; every refusal leaves the store as it was. */
#include "config.h"

#include <string.h>

#include "pp-db.h"
#include "pp-store-network.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-test-store.h"
#include "pp-test-util.h"

#define NET_SMALL "NAME = small\nVN_MAD = dummy\nAR = [ TYPE = IP4, IP = \"10.0.0.1\", SIZE = 2 ]\n"
#define NET_SAME_IPS                                                                               \
  "NAME = other\nVN_MAD = bridge\nBRIDGE = br0\nAR = [ TYPE = IP4, IP = \"10.0.0.1\", SIZE = 4 "   \
  "]\n"

typedef struct {
  char *dir;
  char *path;
  PpStore *store;
  gint64 user_id;
  gint64 host_id;
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpHost) host = NULL;
  PpHostSpec spec = { .name = "node1" };

  f->dir = pp_test_mkdtemp();
  f->path = pp_test_store_location(f->dir);
  f->store = pp_store_open(f->path, &error);
  g_assert_no_error(error);
  user = pp_store_user_create(f->store, "alice", FALSE, 1000, &error);
  g_assert_no_error(error);
  f->user_id = user->id;
  host = pp_store_host_create(f->store, &spec, 1000, &error);
  g_assert_no_error(error);
  f->host_id = host->id;
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  g_clear_pointer(&f->store, pp_store_free);
  pp_test_rmtree(f->dir);
  g_free(f->dir);
  g_free(f->path);
}

static PpNetwork *
add_network(Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpNetworkSpec) spec = pp_network_template_parse(text, strlen(text), NULL, NULL, &error);
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;
  PpNetwork *network;

  g_assert_no_error(error);
  network = pp_store_network_create(f->store, f->user_id, text, spec, FALSE, &prefix, 1000, &error);
  g_assert_no_error(error);
  return network;
}

/* A VM with one NIC on @network_id asking for @ip / @mac (NULL: any). */
static PpVm *
try_vm(Fixture *f, gint64 network_id, const char *ip, const char *mac, GError **error)
{
  g_autoptr(PpVmSpec) spec = pp_vm_spec_new();
  PpVmNic *nic = g_new0(PpVmNic, 1);

  spec->memory_mib = 64;
  nic->kind = PP_VM_NIC_BRIDGE;
  nic->model = g_strdup("virtio");
  nic->network_id = network_id;
  nic->ip = g_strdup(ip);
  nic->mac = g_strdup(mac);
  nic->vlan_id = -1;
  nic->request = -1;
  g_ptr_array_add(spec->nics, nic);
  return pp_store_vm_create_spec(f->store, f->user_id, "MEMORY = 64\n", spec, 1000, error);
}

static gint64
add_vm(Fixture *f, gint64 network_id, const char *ip)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PpVm) vm = try_vm(f, network_id, ip, NULL, &error);

  g_assert_no_error(error);
  return vm->id;
}

/* The VM's leases as "NIC:IP/MAC,...". */
static char *
vm_leases(Fixture *f, gint64 vm_id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) leases = pp_store_vm_list_leases(f->store, vm_id, &error);
  g_autoptr(GString) out = g_string_new(NULL);

  g_assert_no_error(error);
  for (guint i = 0; i < leases->len; i++) {
    const PpStoreLease *lease = &g_array_index(leases, PpStoreLease, i);
    char ip[PP_IP4_BUFSIZE], mac[PP_MAC_BUFSIZE];

    g_string_append_printf(out, "%s%d:%s/%s", i > 0 ? "," : "", lease->nic_id,
                           lease->lease.has_ip ? pp_ip4_format(&lease->lease.ip, ip) : "-",
                           pp_mac_format(&lease->lease.mac, mac));
  }
  return g_strdup(out->str);
}

static gint64
raw_int(PpStore *store, const char *sql)
{
  g_autoptr(PpDbStmt) stmt = pp_db_prepare(pp_store_test_get_db(store), sql);

  g_assert_nonnull(stmt);
  g_assert_cmpint(pp_db_step(stmt), ==, PP_DB_STEP_ROW);
  return pp_db_column_int64(stmt, 0);
}

/* The schema refuses a MAC or an IPv4 address twice in one network,
 * whatever the code does; two networks may share addresses. */
static void
test_schema_unique(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) a = add_network(f, NET_SMALL);
  g_autoptr(PpNetwork) b = add_network(f, NET_SAME_IPS);
  PpDb *db = pp_store_test_get_db(f->store);
  g_autofree char *insert = NULL;

  insert = g_strdup_printf("INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4) "
                           "VALUES (%" G_GINT64_FORMAT ", 0, 0, 1, 167772161)",
                           a->id);
  g_assert_true(pp_db_exec(db, insert));
  g_free(insert);
  /* The same IP at another index, then the same MAC. */
  insert = g_strdup_printf("INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4) "
                           "VALUES (%" G_GINT64_FORMAT ", 0, 1, 2, 167772161)",
                           a->id);
  g_assert_false(pp_db_exec(db, insert));
  g_assert_cmpint(pp_db_errcode(db), ==, PP_DB_ERR_CONFLICT);
  g_free(insert);
  insert = g_strdup_printf("INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4) "
                           "VALUES (%" G_GINT64_FORMAT ", 0, 1, 1, 167772162)",
                           a->id);
  g_assert_false(pp_db_exec(db, insert));
  g_assert_cmpint(pp_db_errcode(db), ==, PP_DB_ERR_CONFLICT);
  g_free(insert);
  /* Another network: the same IP is fine. */
  insert = g_strdup_printf("INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4) "
                           "VALUES (%" G_GINT64_FORMAT ", 0, 0, 1, 167772161)",
                           b->id);
  g_assert_true(pp_db_exec(db, insert));
  /* The range's count follows its rows. */
  g_assert_cmpint(raw_int(f->store, "SELECT sum(used) FROM network_ar"), ==, 2);
}

/* Generated MACs come from one counter: two networks with the same IPv4
 * addresses have different MACs, and a restart keeps the counter. */
static void
test_mac_counter(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) a = add_network(f, NET_SMALL);
  g_autoptr(PpNetwork) b = add_network(f, NET_SAME_IPS);
  g_autoptr(PpNetwork) c = NULL;
  g_autoptr(GError) error = NULL;
  char mac[PP_MAC_BUFSIZE];

  g_assert_cmpstr(pp_mac_format(&g_array_index(a->spec->ars, PpNetworkAr, 0).mac, mac), ==,
                  "02:00:00:00:00:00");
  g_assert_cmpstr(pp_mac_format(&g_array_index(b->spec->ars, PpNetworkAr, 0).mac, mac), ==,
                  "02:00:00:00:00:02");
  g_clear_pointer(&f->store, pp_store_free);
  f->store = pp_store_open(f->path, &error);
  g_assert_no_error(error);
  {
    static const char text[] = "NAME = third\nVN_MAD = dummy\nAR = [ TYPE = ETHER, SIZE = 3 ]\n";
    g_autoptr(PpNetworkSpec) spec = pp_network_template_parse(text, strlen(text), NULL, NULL, NULL);
    PpMacPrefix prefix = { { 0x0a, 0x01 } };

    c = pp_store_network_create(f->store, f->user_id, text, spec, TRUE, &prefix, 1000, &error);
    g_assert_no_error(error);
  }
  g_assert_cmpstr(pp_mac_format(&g_array_index(c->spec->ars, PpNetworkAr, 0).mac, mac), ==,
                  "0a:01:00:00:00:06");
  g_assert_true(c->shared);
}

/* Leases with the placement, back with the devices; the last address and
 * then none, said with the network's name; the freed one is given again. */
static void
test_leases_lifecycle(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) net = add_network(f, NET_SMALL);
  g_autoptr(GError) error = NULL;
  gint64 vm1 = add_vm(f, net->id, NULL);
  gint64 vm2 = add_vm(f, net->id, NULL);
  gint64 vm3 = add_vm(f, net->id, NULL);
  g_autofree char *leases = NULL;
  g_autofree char *reason = NULL;
  gboolean ok = FALSE;

  /* Pending VMs hold nothing. */
  leases = vm_leases(f, vm1);
  g_assert_cmpstr(leases, ==, "");
  g_assert_true(pp_store_vm_allocate(f->store, vm1, f->host_id, NULL, 0, 1001, &error));
  g_assert_no_error(error);
  g_assert_true(pp_store_vm_allocate(f->store, vm2, f->host_id, NULL, 0, 1001, &error));
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm1);
  g_assert_cmpstr(leases, ==, "0:10.0.0.1/02:00:00:00:00:00");
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm2);
  g_assert_cmpstr(leases, ==, "0:10.0.0.2/02:00:00:00:00:01");

  /* None left: VM 3 waits, and its allocation changes nothing. */
  g_assert_true(pp_store_vm_check_leases(f->store, vm3, &ok, &reason, &error));
  g_assert_false(ok);
  g_assert_cmpstr(reason, ==, "NIC 0: network 'small' (id 1) has no free address: 2 of 2 in use");
  g_assert_false(pp_store_vm_allocate(f->store, vm3, f->host_id, NULL, 0, 1002, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NO_ADDRESS);
  g_assert_cmpstr(error->message, ==,
                  "NIC 0: network 'small' (id 1) has no free address: 2 of 2 in use (0 held); "
                  "add an AR or free some");
  g_clear_error(&error);
  {
    g_autoptr(PpVm) vm = pp_store_vm_get(f->store, vm3, NULL);

    g_assert_cmpint(vm->state, ==, PP_VM_STATE_PENDING);
    g_assert_cmpint(vm->host_id, ==, 0);
  }

  /* Poweroff keeps them; the end of VM 1 gives its address back. */
  g_assert_true(pp_store_vm_transition(f->store, vm1, PP_VM_STATE_DEPLOYING, PP_VM_STATE_RUNNING,
                                       NULL, 1003, NULL));
  g_assert_true(pp_store_vm_transition(f->store, vm1, PP_VM_STATE_RUNNING, PP_VM_STATE_POWEROFF,
                                       NULL, 1003, NULL));
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm1);
  g_assert_cmpstr(leases, ==, "0:10.0.0.1/02:00:00:00:00:00");
  g_assert_true(pp_store_vm_release(f->store, vm1, PP_VM_STATE_DONE, "terminated", 1004, &error));
  g_assert_no_error(error);
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm1);
  g_assert_cmpstr(leases, ==, "");
  g_clear_pointer(&reason, g_free);
  g_assert_true(pp_store_vm_check_leases(f->store, vm3, &ok, &reason, &error));
  g_assert_true(ok);
  g_assert_true(pp_store_vm_allocate(f->store, vm3, f->host_id, NULL, 0, 1005, &error));
  g_assert_no_error(error);
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm3);
  g_assert_cmpstr(leases, ==, "0:10.0.0.1/02:00:00:00:00:00");

  /* A requeue (a deploy that failed) gives them back too. */
  g_assert_true(
      pp_store_vm_requeue(f->store, vm3, PP_VM_STATE_DEPLOYING, "failed", TRUE, 1006, &error));
  g_clear_pointer(&leases, g_free);
  leases = vm_leases(f, vm3);
  g_assert_cmpstr(leases, ==, "");
}

/* An IP or MAC asked for: checked at create (inside a range, free),
 * leased at placement. A refusal stores nothing. */
static void
test_asked_address(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) net = add_network(f, NET_SMALL);
  g_autoptr(GError) error = NULL;
  gint64 vm1 = add_vm(f, net->id, "10.0.0.2");
  gint64 n_vms;
  g_autofree char *leases = NULL;

  g_assert_true(pp_store_vm_allocate(f->store, vm1, f->host_id, NULL, 0, 1001, &error));
  g_assert_no_error(error);
  leases = vm_leases(f, vm1);
  g_assert_cmpstr(leases, ==, "0:10.0.0.2/02:00:00:00:00:01");

  n_vms = raw_int(f->store, "SELECT count(*) FROM vms");
  {
    g_autoptr(PpVm) vm = try_vm(f, net->id, "10.0.0.2", NULL, &error);

    g_assert_null(vm);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
    g_assert_cmpstr(error->message, ==, "NIC 0: 10.0.0.2 of network 'small' is leased to VM 1");
    g_clear_error(&error);
  }
  {
    g_autoptr(PpVm) vm = try_vm(f, net->id, "10.0.0.9", NULL, &error);

    g_assert_null(vm);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "NIC 0: 10.0.0.9 is in no address range of network 'small'; `pcipass net "
                    "show small` lists them");
    g_clear_error(&error);
  }
  {
    g_autoptr(PpVm) vm = try_vm(f, net->id, "10.0.0.1", "02:00:00:00:00:01", &error);

    g_assert_null(vm);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "NIC 0: IP 10.0.0.1 and MAC 02:00:00:00:00:01 are two leases of network "
                    "'small'; ask for one of them, or both of one lease");
    g_clear_error(&error);
  }
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vms"), ==, n_vms);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_nic"), ==, 1);

  /* By MAC, the same lease as its IP; one that asked for that IP before
   * waits for it, and says for whom. */
  {
    gint64 waits = add_vm(f, net->id, "10.0.0.1");
    g_autoptr(PpVm) vm = try_vm(f, net->id, NULL, "02:00:00:00:00:00", &error);
    g_autofree char *got = NULL;
    g_autofree char *reason = NULL;
    gboolean ok = TRUE;

    g_assert_no_error(error);
    g_assert_true(pp_store_vm_allocate(f->store, vm->id, f->host_id, NULL, 0, 1001, &error));
    got = vm_leases(f, vm->id);
    g_assert_cmpstr(got, ==, "0:10.0.0.1/02:00:00:00:00:00");
    g_assert_true(pp_store_vm_check_leases(f->store, waits, &ok, &reason, &error));
    g_assert_false(ok);
    {
      /* Its id: PostgreSQL's ids skip those of refused inserts. */
      g_autofree char *want = g_strdup_printf(
          "NIC 0: 10.0.0.1 of network 'small' is leased to VM %" G_GINT64_FORMAT, vm->id);

      g_assert_cmpstr(reason, ==, want);
    }
    g_assert_false(pp_store_vm_allocate(f->store, waits, f->host_id, NULL, 0, 1002, &error));
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
    g_clear_error(&error);
  }
}

/* Delete is refused while a VM that is not done names the network, and
 * takes the held addresses with it; update keeps the MACs of a range
 * that keeps its type. */
static void
test_delete_update(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) net = add_network(f, NET_SMALL);
  g_autoptr(GError) error = NULL;
  gint64 vm = add_vm(f, net->id, NULL);
  PpMacPrefix prefix = PP_MAC_PREFIX_DEFAULT;

  g_assert_false(pp_store_network_delete(f->store, net->id, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==, "network 'small' is used by VMs 1; terminate them first");
  g_clear_error(&error);

  /* A bigger range keeps its MACs; a range added takes new ones. */
  {
    static const char text[] = "NAME = small\nVN_MAD = dummy\n"
                               "AR = [ TYPE = IP4, IP = \"10.0.0.1\", SIZE = 4 ]\n"
                               "AR = [ TYPE = ETHER, SIZE = 2 ]\n";
    g_autoptr(PpNetworkSpec) spec = pp_network_template_parse(text, strlen(text), NULL, NULL, NULL);
    g_autoptr(PpNetwork) updated =
        pp_store_network_update(f->store, net->id, text, spec, -1, &prefix, 2000, &error);
    char mac[PP_MAC_BUFSIZE];

    g_assert_no_error(error);
    g_assert_cmpuint(updated->size, ==, 6);
    g_assert_cmpstr(pp_mac_format(&g_array_index(updated->spec->ars, PpNetworkAr, 0).mac, mac), ==,
                    "02:00:00:00:00:00");
    g_assert_cmpstr(pp_mac_format(&g_array_index(updated->spec->ars, PpNetworkAr, 1).mac, mac), ==,
                    "02:00:00:00:00:02");
    g_assert_cmpint(updated->updated, ==, 2000);
  }
  g_assert_true(pp_store_vm_release(f->store, vm, PP_VM_STATE_DONE, "terminated", 1004, &error));
  g_assert_true(pp_store_network_hold(f->store, net->id, "10.0.0.3", NULL, &error));
  g_assert_no_error(error);
  g_assert_true(pp_store_network_delete(f->store, net->id, &error));
  g_assert_no_error(error);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM network_lease"), ==, 0);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM network_ar"), ==, 0);
  /* The done VM keeps its row, its NIC naming no network now. */
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM vm_nic WHERE network_id IS NULL"), ==, 1);
}

/* The network quota counts the NICs on networks of the user's VMs that
 * are not done. */
static void
test_quota(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) net = add_network(f, NET_SAME_IPS);
  g_autoptr(GError) error = NULL;
  PpQuotaUpdate update = { .set_leases = TRUE, .leases = 1 };
  g_autoptr(PpQuota) quota = pp_store_user_set_quota(f->store, f->user_id, &update, &error);
  gint64 vm;

  g_assert_no_error(error);
  g_assert_cmpint(quota->leases.limit, ==, 1);
  g_assert_cmpint(quota->leases.used, ==, 0);
  vm = add_vm(f, net->id, NULL);
  {
    g_autoptr(PpVm) refused = try_vm(f, net->id, NULL, NULL, &error);

    g_assert_null(refused);
    g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
    g_assert_nonnull(strstr(error->message, "network leases: 1 of 1 used, this VM asks for 1"));
    g_clear_error(&error);
  }
  g_assert_true(pp_store_vm_release(f->store, vm, PP_VM_STATE_DONE, "terminated", 1004, &error));
  g_clear_pointer(&quota, pp_quota_free);
  quota = pp_store_user_get_quota(f->store, f->user_id, &error);
  g_assert_cmpint(quota->leases.used, ==, 0);
  add_vm(f, net->id, NULL);
}

/* A user who owns networks is not deleted with them: others' VMs may use
 * them. */
static void
test_owner_delete(Fixture *f, gconstpointer data)
{
  g_autoptr(PpNetwork) net = add_network(f, NET_SMALL);
  g_autoptr(GError) error = NULL;

  g_assert_false(pp_store_user_delete(f->store, f->user_id, NULL, NULL, &error));
  g_assert_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT);
  g_assert_cmpstr(error->message, ==,
                  "user 'alice' owns networks 'small' (id 1); delete them first (pcipass net "
                  "delete)");
  g_clear_error(&error);
  g_assert_cmpint(raw_int(f->store, "SELECT count(*) FROM users"), ==, 1);
  g_assert_true(pp_store_network_delete(f->store, net->id, &error));
  g_assert_true(pp_store_user_delete(f->store, f->user_id, NULL, NULL, &error));
  g_assert_no_error(error);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD("/store-network/schema-unique", test_schema_unique);
  ADD("/store-network/mac-counter", test_mac_counter);
  ADD("/store-network/leases-lifecycle", test_leases_lifecycle);
  ADD("/store-network/asked-address", test_asked_address);
  ADD("/store-network/delete-update", test_delete_update);
  ADD("/store-network/quota", test_quota);
  ADD("/store-network/owner-delete", test_owner_delete);
  return g_test_run();
}
