#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "pp-autoptr.h"
#include "pp-host-spec.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-template.h"
#include "pp-vm-spec-json.h"
#include "pp-vm-template.h"

/* clang-format off */
G_DEFINE_QUARK(pp-store-error-quark, pp_store_error)
/* clang-format on */

/* Host and user names: 1..64 of [A-Za-z0-9._-], not starting with '-' or
 * '.', so that a name can never pass for an option or a path. */
#define NAME_MAX_LEN 64
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"
/* How long a writer waits for another process's lock before BUSY. */
#define BUSY_TIMEOUT_MS 5000
/* Bounds of what a host spec may hold: a DNS name is at most 253 bytes,
 * a login name far less; a libvirt URI, a probe command line and a probe's
 * error message are text an admin reads, not documents. */
#define TOKEN_NAME_MAX_LEN 128
#define HOST_ERROR_MAX_LEN 4096
/* Why a VM failed: an error message of libvirt's or ours. */
#define VM_REASON_MAX_LEN 4096
/* A token is stored as the SHA-256 of its secret, in hex. */
#define TOKEN_HASH_LEN 64

/* ------------------------------------------------------------------------ */
/* The schema                                                               */
/* ------------------------------------------------------------------------ */

/* Migration 1: users and their API tokens, hosts, a minimal vms table, and
 * the hosts' PCI inventory.
 *
 * hosts.enabled and hosts.state say the same thing twice for disabled
 * hosts, and a CHECK keeps them in step. hosts.probe_command is the probe's
 * argv as a JSON array of strings (NULL: the default probe).
 *
 * pci_device holds one row per device of a host (UNIQUE(host_id,
 * address)); vm_id is the VM holding it (NULL: free). A VM cannot be
 * deleted while it holds a device (vm_id's foreign key), a device that
 * vanished is kept only while a VM holds it (the gone CHECK), and the
 * trigger refuses to hand a held device to another VM without freeing it
 * first: one device, one VM at most, enforced here and not only in C.
 * attributes is the probe's whole record as a JSON object, keys in the
 * record's order; the other columns are the fields that placement reads.
 */
static const char migration_1[] =
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  admin INTEGER NOT NULL DEFAULT 0 CHECK(admin IN (0, 1)),"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  hash TEXT NOT NULL UNIQUE CHECK(length(hash) = 64),"
    "  created INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tokens_user_id ON tokens(user_id);"
    "CREATE TABLE hosts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  ssh_user TEXT,"
    "  ssh_host TEXT,"
    "  ssh_port INTEGER NOT NULL DEFAULT 0 CHECK(ssh_port BETWEEN 0 AND 65535),"
    "  libvirt_uri TEXT,"
    "  probe_command TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    "  state TEXT NOT NULL DEFAULT 'init'"
    "    CHECK(state IN ('init', 'monitored', 'error', 'disabled')),"
    "  error TEXT,"
    "  reported_hostname TEXT,"
    "  cpu_count INTEGER NOT NULL DEFAULT -1,"
    "  memory_kib INTEGER NOT NULL DEFAULT -1,"
    "  kernel_version TEXT,"
    "  last_monitored INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  CHECK((enabled = 0) = (state = 'disabled')),"
    "  CHECK(error IS NULL OR state = 'error'));"
    "CREATE TABLE vms ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  owner_id INTEGER REFERENCES users(id),"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  created INTEGER NOT NULL);"
    "CREATE TABLE pci_device ("
    "  id INTEGER PRIMARY KEY,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  short_address TEXT NOT NULL,"
    "  vendor INTEGER NOT NULL CHECK(vendor BETWEEN 0 AND 65535),"
    "  device INTEGER NOT NULL CHECK(device BETWEEN 0 AND 65535),"
    "  class_code INTEGER NOT NULL CHECK(class_code BETWEEN 0 AND 65535),"
    "  vendor_name TEXT NOT NULL DEFAULT '',"
    "  device_name TEXT NOT NULL DEFAULT '',"
    "  class_name TEXT NOT NULL DEFAULT '',"
    "  numa_node INTEGER NOT NULL DEFAULT -1,"
    "  iommu_group INTEGER NOT NULL DEFAULT -1,"
    "  driver TEXT,"
    "  sriov TEXT NOT NULL DEFAULT 'no' CHECK(sriov IN ('pf', 'vf', 'no')),"
    "  physfn TEXT,"
    "  attributes TEXT NOT NULL DEFAULT '{}',"
    "  vm_id INTEGER REFERENCES vms(id),"
    "  gone INTEGER NOT NULL DEFAULT 0 CHECK(gone IN (0, 1)),"
    "  UNIQUE(host_id, address),"
    "  CHECK(gone = 0 OR vm_id IS NOT NULL));"
    "CREATE INDEX pci_device_vm_id ON pci_device(vm_id);"
    "CREATE TRIGGER pci_device_one_vm BEFORE UPDATE OF vm_id ON pci_device"
    "  WHEN OLD.vm_id IS NOT NULL AND NEW.vm_id IS NOT NULL AND OLD.vm_id <> NEW.vm_id"
    "  BEGIN SELECT RAISE(ABORT, 'device is held by another VM'); END;";

/* Migration 2: VMs. vms gets its whole record: an owner (required), the
 * template, the host it is on, what it reserves there (cpu in hundredths,
 * memory), why it failed, why it is still pending, and when it last
 * changed; a CHECK keeps its state one of seven names, and a VM is on a
 * host exactly while it holds one (deploying, running, poweroff,
 * terminating: the states whose CPU, memory and devices stay reserved).
 * pci_device gets vm_slot, the device's place in its VM's order: set
 * exactly when vm_id is, one device per (VM, slot).
 *
 * Both tables are rebuilt (create new, copy, drop, rename, as SQLite's
 * ALTER TABLE page says), foreign keys being off for the migration and
 * checked before its commit (store_migrate()). Version-1 rows keep their
 * ids and data: a VM without an owner goes to the user
 * 'migrated-vm-owner' (made for it); a VM on a host (its devices say
 * which) keeps its state; one whose state is not one of the seven, or that
 * holds no device in a state that needs a host, becomes failed with a
 * reason. Held devices get slots in id order. */
#define VM_STATE_NAMES                                                                             \
  "('pending', 'deploying', 'running', 'poweroff', 'terminating', 'done', 'failed')"
/* The states in which a VM is on a host and holds what it reserved. */
#define VM_HOLDING_STATES "('deploying', 'running', 'poweroff', 'terminating')"

static const char migration_2[] =
    "CREATE TABLE new_vms ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL REFERENCES users(id),"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN " VM_STATE_NAMES "),"
    "  reason TEXT,"
    "  template TEXT NOT NULL DEFAULT '',"
    "  host_id INTEGER REFERENCES hosts(id) ON DELETE SET NULL,"
    "  cpu INTEGER NOT NULL DEFAULT 0 CHECK(cpu >= 0),"
    "  memory_kib INTEGER NOT NULL DEFAULT 0 CHECK(memory_kib >= 0),"
    "  explanation TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL DEFAULT 0,"
    "  CHECK((host_id IS NULL) = (state NOT IN " VM_HOLDING_STATES ")),"
    "  CHECK(explanation IS NULL OR state = 'pending'));"
    "INSERT INTO users (name, admin, created)"
    "  SELECT 'migrated-vm-owner', 0, CAST(strftime('%s', 'now') AS INTEGER)"
    "  WHERE EXISTS (SELECT 1 FROM vms WHERE owner_id IS NULL)"
    "    AND NOT EXISTS (SELECT 1 FROM users WHERE name = 'migrated-vm-owner');"
    "INSERT INTO new_vms (id, name, owner_id, state, reason, host_id, created, updated)"
    "  SELECT id, name,"
    "    coalesce(owner_id, (SELECT u.id FROM users u WHERE u.name = 'migrated-vm-owner')),"
    "    CASE WHEN keep_state THEN state ELSE 'failed' END,"
    "    CASE WHEN keep_state THEN NULL"
    "      ELSE 'the upgrade to schema version 2 found it ' || quote(state) || ' without a host'"
    "    END,"
    "    CASE WHEN keep_state AND state IN " VM_HOLDING_STATES " THEN host END,"
    "    created, created"
    "  FROM (SELECT v.*, h.host,"
    "          (v.state IN ('pending', 'done', 'failed')"
    "           OR (v.state IN " VM_HOLDING_STATES " AND h.host IS NOT NULL)) AS keep_state"
    "        FROM vms v LEFT JOIN (SELECT vm_id, min(host_id) AS host FROM pci_device"
    "                              WHERE vm_id IS NOT NULL GROUP BY vm_id) h"
    "          ON h.vm_id = v.id);"
    "CREATE TABLE new_pci_device ("
    "  id INTEGER PRIMARY KEY,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  short_address TEXT NOT NULL,"
    "  vendor INTEGER NOT NULL CHECK(vendor BETWEEN 0 AND 65535),"
    "  device INTEGER NOT NULL CHECK(device BETWEEN 0 AND 65535),"
    "  class_code INTEGER NOT NULL CHECK(class_code BETWEEN 0 AND 65535),"
    "  vendor_name TEXT NOT NULL DEFAULT '',"
    "  device_name TEXT NOT NULL DEFAULT '',"
    "  class_name TEXT NOT NULL DEFAULT '',"
    "  numa_node INTEGER NOT NULL DEFAULT -1,"
    "  iommu_group INTEGER NOT NULL DEFAULT -1,"
    "  driver TEXT,"
    "  sriov TEXT NOT NULL DEFAULT 'no' CHECK(sriov IN ('pf', 'vf', 'no')),"
    "  physfn TEXT,"
    "  attributes TEXT NOT NULL DEFAULT '{}',"
    "  vm_id INTEGER REFERENCES vms(id),"
    "  vm_slot INTEGER CHECK(vm_slot >= 0),"
    "  gone INTEGER NOT NULL DEFAULT 0 CHECK(gone IN (0, 1)),"
    "  UNIQUE(host_id, address),"
    "  UNIQUE(vm_id, vm_slot),"
    "  CHECK(gone = 0 OR vm_id IS NOT NULL),"
    "  CHECK((vm_id IS NULL) = (vm_slot IS NULL)));"
    "INSERT INTO new_pci_device (id, host_id, address, short_address, vendor, device, class_code,"
    "    vendor_name, device_name, class_name, numa_node, iommu_group, driver, sriov, physfn,"
    "    attributes, vm_id, vm_slot, gone)"
    "  SELECT o.id, o.host_id, o.address, o.short_address, o.vendor, o.device, o.class_code,"
    "    o.vendor_name, o.device_name, o.class_name, o.numa_node, o.iommu_group, o.driver,"
    "    o.sriov, o.physfn, o.attributes, o.vm_id,"
    "    CASE WHEN o.vm_id IS NOT NULL THEN (SELECT count(*) FROM pci_device p"
    "                                         WHERE p.vm_id = o.vm_id AND p.id < o.id) END,"
    "    o.gone"
    "  FROM pci_device o;"
    "DROP TABLE pci_device;"
    "DROP TABLE vms;"
    "ALTER TABLE new_vms RENAME TO vms;"
    "ALTER TABLE new_pci_device RENAME TO pci_device;"
    "CREATE INDEX vms_owner_id ON vms(owner_id);"
    "CREATE INDEX vms_state ON vms(state);"
    "CREATE INDEX vms_host_id ON vms(host_id);"
    /* UNIQUE(vm_id, vm_slot)'s index serves look-ups by vm_id. */
    "CREATE TRIGGER pci_device_one_vm BEFORE UPDATE OF vm_id ON pci_device"
    "  WHEN OLD.vm_id IS NOT NULL AND NEW.vm_id IS NOT NULL AND OLD.vm_id <> NEW.vm_id"
    "  BEGIN SELECT RAISE(ABORT, 'device is held by another VM'); END;";

/* Migration 3: hosts gets prebound. On such a host the administrator
 * binds the passthrough devices to vfio-pci ahead of time (pcipass-vfio
 * boot, the guide's vfio-bind): domains get <hostdev managed='no'>, so
 * libvirt neither detaches a device nor gives it back to its host driver,
 * and placement offers only the devices already on vfio-pci. */
static const char migration_3[] =
    "ALTER TABLE hosts ADD COLUMN prebound INTEGER NOT NULL DEFAULT 0 CHECK(prebound IN (0, 1));";

/* Migration 4: what an administrator can trust (issue 9).
 *
 * Every table is rebuilt with AUTOINCREMENT, so that an id is never given
 * again after a delete (a script that remembers "host 7" never reaches
 * another host). The rows keep their ids; sqlite_sequence starts at the
 * largest id copied.
 *
 * hosts gets libvirt_error: the last libvirt check's failure (the monitor
 * checks each host's libvirt at every pass). A host is in state error when
 * its probe or its libvirt failed, and only then; disabling clears both.
 *
 * vms gets the state unknown (its host's libvirt does not answer: the
 * domain may still run) and tries (the deploys that failed since it was
 * last made pending by a user); a failed VM may keep its host and devices
 * (a crashed domain keeps them until terminate). A VM without a host
 * holds no device, and one holding devices holds them on its own host
 * only: two triggers enforce it, so that no code path can leave a done or
 * pending VM holding a device.
 *
 * pci_device gets host_needs (the probe's HOST_NEEDS: why the host itself
 * needs the device; such a device, and every device of its IOMMU group,
 * is never offered) and set_aside (why a deploy could not bind it on this
 * host; it is not offered until a probe reports it again).
 *
 * host_allowance records the needed devices an administrator gave to VMs
 * on purpose, with who and when. vm_history records every change of a
 * VM's state, with its reason and host, written by triggers so that no
 * change goes unrecorded; each VM keeps its newest 100 changes.
 */
#define VM_STATE_NAMES_4                                                                           \
  "('pending', 'deploying', 'running', 'poweroff', 'unknown', 'terminating', 'done', 'failed')"
/* The states in which a VM is on a host; failed may be on one or not. */
#define VM_ON_HOST_STATES "('deploying', 'running', 'poweroff', 'unknown', 'terminating')"
/* How many changes of state each VM keeps in vm_history. */
#define VM_HISTORY_KEEP "100"

static const char migration_4[] =
    "CREATE TABLE new_users ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  admin INTEGER NOT NULL DEFAULT 0 CHECK(admin IN (0, 1)),"
    "  created INTEGER NOT NULL);"
    "INSERT INTO new_users (id, name, admin, created) SELECT id, name, admin, created FROM users;"
    "CREATE TABLE new_tokens ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  name TEXT,"
    "  hash TEXT NOT NULL UNIQUE CHECK(length(hash) = 64),"
    "  created INTEGER NOT NULL,"
    "  last_used INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO new_tokens (id, user_id, name, hash, created, last_used)"
    "  SELECT id, user_id, name, hash, created, last_used FROM tokens;"
    "CREATE TABLE new_hosts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  ssh_user TEXT,"
    "  ssh_host TEXT,"
    "  ssh_port INTEGER NOT NULL DEFAULT 0 CHECK(ssh_port BETWEEN 0 AND 65535),"
    "  libvirt_uri TEXT,"
    "  probe_command TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    "  state TEXT NOT NULL DEFAULT 'init'"
    "    CHECK(state IN ('init', 'monitored', 'error', 'disabled')),"
    "  error TEXT,"
    "  libvirt_error TEXT,"
    "  reported_hostname TEXT,"
    "  cpu_count INTEGER NOT NULL DEFAULT -1,"
    "  memory_kib INTEGER NOT NULL DEFAULT -1,"
    "  kernel_version TEXT,"
    "  last_monitored INTEGER NOT NULL DEFAULT 0,"
    "  created INTEGER NOT NULL,"
    "  prebound INTEGER NOT NULL DEFAULT 0 CHECK(prebound IN (0, 1)),"
    "  CHECK((enabled = 0) = (state = 'disabled')),"
    "  CHECK((state = 'error') = (error IS NOT NULL OR libvirt_error IS NOT NULL)));"
    "INSERT INTO new_hosts (id, name, ssh_user, ssh_host, ssh_port, libvirt_uri, probe_command,"
    "    enabled, state, error, reported_hostname, cpu_count, memory_kib, kernel_version,"
    "    last_monitored, created, prebound)"
    "  SELECT id, name, ssh_user, ssh_host, ssh_port, libvirt_uri, probe_command, enabled,"
    "    CASE WHEN state = 'error' AND error IS NULL THEN 'init' ELSE state END, error,"
    "    reported_hostname, cpu_count, memory_kib, kernel_version, last_monitored, created,"
    "    prebound"
    "  FROM hosts;"
    "CREATE TABLE new_vms ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL,"
    "  owner_id INTEGER NOT NULL REFERENCES users(id),"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK(state IN " VM_STATE_NAMES_4 "),"
    "  reason TEXT,"
    "  template TEXT NOT NULL DEFAULT '',"
    "  host_id INTEGER REFERENCES hosts(id),"
    "  cpu INTEGER NOT NULL DEFAULT 0 CHECK(cpu >= 0),"
    "  memory_kib INTEGER NOT NULL DEFAULT 0 CHECK(memory_kib >= 0),"
    "  explanation TEXT,"
    "  tries INTEGER NOT NULL DEFAULT 0 CHECK(tries >= 0),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL DEFAULT 0,"
    "  CHECK(state NOT IN ('pending', 'done') OR host_id IS NULL),"
    "  CHECK(state NOT IN " VM_ON_HOST_STATES " OR host_id IS NOT NULL),"
    "  CHECK(explanation IS NULL OR state = 'pending'));"
    "INSERT INTO new_vms (id, name, owner_id, state, reason, template, host_id, cpu, memory_kib,"
    "    explanation, created, updated)"
    "  SELECT id, name, owner_id, state, reason, template, host_id, cpu, memory_kib, explanation,"
    "    created, updated FROM vms;"
    "CREATE TABLE new_pci_device ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  short_address TEXT NOT NULL,"
    "  vendor INTEGER NOT NULL CHECK(vendor BETWEEN 0 AND 65535),"
    "  device INTEGER NOT NULL CHECK(device BETWEEN 0 AND 65535),"
    "  class_code INTEGER NOT NULL CHECK(class_code BETWEEN 0 AND 65535),"
    "  vendor_name TEXT NOT NULL DEFAULT '',"
    "  device_name TEXT NOT NULL DEFAULT '',"
    "  class_name TEXT NOT NULL DEFAULT '',"
    "  numa_node INTEGER NOT NULL DEFAULT -1,"
    "  iommu_group INTEGER NOT NULL DEFAULT -1,"
    "  driver TEXT,"
    "  sriov TEXT NOT NULL DEFAULT 'no' CHECK(sriov IN ('pf', 'vf', 'no')),"
    "  physfn TEXT,"
    "  host_needs TEXT,"
    "  set_aside TEXT,"
    "  attributes TEXT NOT NULL DEFAULT '{}',"
    "  vm_id INTEGER REFERENCES vms(id),"
    "  vm_slot INTEGER CHECK(vm_slot >= 0),"
    "  gone INTEGER NOT NULL DEFAULT 0 CHECK(gone IN (0, 1)),"
    "  UNIQUE(host_id, address),"
    "  UNIQUE(vm_id, vm_slot),"
    "  CHECK(gone = 0 OR vm_id IS NOT NULL),"
    "  CHECK((vm_id IS NULL) = (vm_slot IS NULL)));"
    /* HOST_NEEDS of the records stored before: the attributes have it when
     * the probe said it. A device held by a VM that is not on its host
     * (a version-1 store let a pending VM hold devices) is freed, and
     * deleted when it is gone. */
    "INSERT INTO new_pci_device (id, host_id, address, short_address, vendor, device, class_code,"
    "    vendor_name, device_name, class_name, numa_node, iommu_group, driver, sriov, physfn,"
    "    host_needs, attributes, vm_id, vm_slot, gone)"
    "  SELECT id, host_id, address, short_address, vendor, device, class_code, vendor_name,"
    "    device_name, class_name, numa_node, iommu_group, driver, sriov, physfn,"
    "    CASE WHEN json_valid(attributes) THEN json_extract(attributes, '$.HOST_NEEDS') END,"
    "    attributes, CASE WHEN holder_ok THEN vm_id END, CASE WHEN holder_ok THEN vm_slot END,"
    "    gone"
    "  FROM (SELECT d.*, EXISTS (SELECT 1 FROM new_vms v WHERE v.id = d.vm_id"
    "                              AND v.host_id = d.host_id) AS holder_ok"
    "        FROM pci_device d)"
    "  WHERE holder_ok OR gone = 0;"
    "DROP TABLE pci_device;"
    "DROP TABLE vms;"
    "DROP TABLE hosts;"
    "DROP TABLE tokens;"
    "DROP TABLE users;"
    "ALTER TABLE new_users RENAME TO users;"
    "ALTER TABLE new_tokens RENAME TO tokens;"
    "ALTER TABLE new_hosts RENAME TO hosts;"
    "ALTER TABLE new_vms RENAME TO vms;"
    "ALTER TABLE new_pci_device RENAME TO pci_device;"
    "CREATE INDEX tokens_user_id ON tokens(user_id);"
    "CREATE INDEX vms_owner_id ON vms(owner_id);"
    "CREATE INDEX vms_state ON vms(state);"
    "CREATE INDEX vms_host_id ON vms(host_id);"
    "CREATE TRIGGER pci_device_one_vm BEFORE UPDATE OF vm_id ON pci_device"
    "  WHEN NEW.vm_id IS NOT NULL"
    "  BEGIN"
    "    SELECT RAISE(ABORT, 'device is held by another VM')"
    "      WHERE OLD.vm_id IS NOT NULL AND OLD.vm_id <> NEW.vm_id;"
    "    SELECT RAISE(ABORT, 'a VM holds devices of its own host only')"
    "      WHERE NOT EXISTS (SELECT 1 FROM vms v WHERE v.id = NEW.vm_id"
    "                          AND v.host_id = NEW.host_id);"
    "  END;"
    "CREATE TRIGGER pci_device_insert_free BEFORE INSERT ON pci_device"
    "  WHEN NEW.vm_id IS NOT NULL"
    "    AND NOT EXISTS (SELECT 1 FROM vms v WHERE v.id = NEW.vm_id AND v.host_id = NEW.host_id)"
    "  BEGIN SELECT RAISE(ABORT, 'a VM holds devices of its own host only'); END;"
    "CREATE TRIGGER vms_keep_host BEFORE UPDATE OF host_id ON vms"
    "  WHEN NEW.host_id IS NOT OLD.host_id"
    "    AND EXISTS (SELECT 1 FROM pci_device d WHERE d.vm_id = NEW.id)"
    "  BEGIN SELECT RAISE(ABORT, 'a VM that holds devices keeps its host until it frees them');"
    "  END;"
    "CREATE TABLE host_allowance ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  host_id INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,"
    "  address TEXT NOT NULL,"
    "  by_name TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  UNIQUE(host_id, address));"
    "CREATE TABLE vm_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
    "  at INTEGER NOT NULL,"
    "  from_state TEXT,"
    "  to_state TEXT NOT NULL,"
    "  reason TEXT,"
    "  host_name TEXT);"
    "CREATE INDEX vm_history_vm_id ON vm_history(vm_id, id);"
    "INSERT INTO vm_history (vm_id, at, from_state, to_state, reason, host_name)"
    "  SELECT v.id, v.updated, NULL, v.state, 'its state at the upgrade to schema version 4',"
    "    h.name FROM vms v LEFT JOIN hosts h ON h.id = v.host_id ORDER BY v.id;"
    "CREATE TRIGGER vms_history_insert AFTER INSERT ON vms"
    "  BEGIN INSERT INTO vm_history (vm_id, at, from_state, to_state, reason, host_name)"
    "    VALUES (NEW.id, NEW.created, NULL, NEW.state, NEW.reason, NULL); END;"
    "CREATE TRIGGER vms_history_update AFTER UPDATE OF state ON vms"
    "  WHEN OLD.state IS NOT NEW.state"
    "  BEGIN"
    "    INSERT INTO vm_history (vm_id, at, from_state, to_state, reason, host_name)"
    "      VALUES (NEW.id, NEW.updated, OLD.state, NEW.state, NEW.reason,"
    "              (SELECT h.name FROM hosts h WHERE h.id = coalesce(NEW.host_id, OLD.host_id)));"
    "    DELETE FROM vm_history WHERE vm_id = NEW.id AND id <= (SELECT id FROM vm_history"
    "      WHERE vm_id = NEW.id ORDER BY id DESC LIMIT 1 OFFSET " VM_HISTORY_KEEP ");"
    "  END;";

/* Migration 5: the store's identity, a random 128-bit id made once. The
 * domains pcipassd starts carry it (their metadata), so that a domain of
 * this store is told from one of another pcipass on the same libvirt (or
 * of an earlier store): only its own are adopted at a start, judged by
 * the reconcile, or destroyed as orphans. */
static const char migration_5[] =
    "CREATE TABLE store_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "INSERT INTO store_meta (key, value) VALUES ('id', lower(hex(randomblob(16))));";

/* Migration 6: tenancy (issue 10).
 *
 * users gets its quotas, each NULL for no limit (every user, the admin
 * included, has none until an administrator sets one): quota_vms (its VMs
 * that are not done), quota_cpu (their CPU, in hundredths), quota_memory_kib
 * (their memory) and quota_pci (their PCI requests). user_pci_quota limits
 * the PCI requests of one class (class and subclass, 0x0302).
 *
 * vm_pci_request holds each VM's PCI requests as quotas count them: one
 * row per PCI = [ ... ] of its template, in its order, with the request's
 * CLASS (NULL: it names none), never changed once written. A request by
 * vendor, device or address has no class until it is placed, so a user
 * whose PCI devices are limited by class must say the class of each
 * request (the placer then gives only devices of that class). The VMs
 * stored before get theirs from their templates (migrate_6_requests()).
 *
 * Two triggers keep every new VM within its owner's quotas, whatever the
 * code does: a VM inserted, or a PCI request added, that would take the
 * owner's VMs that are not done past a limit is refused, as is a request
 * without a CLASS for an owner with class limits. The code checks first,
 * in the same transaction, and words the refusal; a retry is checked
 * there too. A limit lowered below what a user has is allowed: nothing
 * is stopped, new VMs are refused.
 *
 * tokens gets expires: unix seconds from which the token is refused (NULL:
 * never), after its creation.
 */
/* The VMs that count against their owner's quotas: every one not done. */
#define QUOTA_VMS_OF(owner) "vms v WHERE v.owner_id = " owner " AND v.state <> 'done'"

/* clang-format off */
static const char migration_6[] =
    "ALTER TABLE users ADD COLUMN quota_vms INTEGER CHECK(quota_vms >= 0);"
    "ALTER TABLE users ADD COLUMN quota_cpu INTEGER CHECK(quota_cpu >= 0);"
    "ALTER TABLE users ADD COLUMN quota_memory_kib INTEGER CHECK(quota_memory_kib >= 0);"
    "ALTER TABLE users ADD COLUMN quota_pci INTEGER CHECK(quota_pci >= 0);"
    "CREATE TABLE user_pci_quota ("
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  class_code INTEGER NOT NULL CHECK(class_code BETWEEN 0 AND 65535),"
    "  quota INTEGER NOT NULL CHECK(quota >= 0),"
    "  PRIMARY KEY (user_id, class_code));"
    "CREATE TABLE vm_pci_request ("
    "  vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
    "  slot INTEGER NOT NULL CHECK(slot >= 0),"
    "  class_code INTEGER CHECK(class_code BETWEEN 0 AND 65535),"
    "  PRIMARY KEY (vm_id, slot));"
    "CREATE TRIGGER vm_pci_request_fixed BEFORE UPDATE ON vm_pci_request"
    "  BEGIN SELECT RAISE(ABORT, 'a VM''s PCI requests do not change'); END;"
    "CREATE TRIGGER vms_quota BEFORE INSERT ON vms"
    "  WHEN NEW.state <> 'done' AND EXISTS (SELECT 1 FROM users u WHERE u.id = NEW.owner_id AND ("
    "    (u.quota_vms IS NOT NULL"
    "     AND u.quota_vms < 1 + (SELECT count(*) FROM " QUOTA_VMS_OF("u.id") "))"
    "    OR (u.quota_cpu IS NOT NULL"
    "     AND u.quota_cpu < NEW.cpu"
    "       + (SELECT coalesce(sum(v.cpu), 0) FROM " QUOTA_VMS_OF("u.id") "))"
    "    OR (u.quota_memory_kib IS NOT NULL"
    "     AND u.quota_memory_kib < NEW.memory_kib"
    "       + (SELECT coalesce(sum(v.memory_kib), 0) FROM " QUOTA_VMS_OF("u.id") "))))"
    "  BEGIN SELECT RAISE(ABORT, 'a new VM would pass a quota of its owner'); END;"
    "CREATE TRIGGER vm_pci_request_quota BEFORE INSERT ON vm_pci_request"
    "  WHEN EXISTS (SELECT 1 FROM vms n JOIN users u ON u.id = n.owner_id"
    "    WHERE n.id = NEW.vm_id AND n.state <> 'done' AND ("
    "      (u.quota_pci IS NOT NULL AND u.quota_pci < 1 + (SELECT count(*) FROM vm_pci_request r"
    "         JOIN vms v ON v.id = r.vm_id WHERE v.owner_id = u.id AND v.state <> 'done'))"
    "      OR (NEW.class_code IS NULL"
    "          AND EXISTS (SELECT 1 FROM user_pci_quota q WHERE q.user_id = u.id))"
    "      OR EXISTS (SELECT 1 FROM user_pci_quota q"
    "         WHERE q.user_id = u.id AND q.class_code = NEW.class_code"
    "           AND q.quota < 1 + (SELECT count(*) FROM vm_pci_request r JOIN vms v ON v.id = r.vm_id"
    "             WHERE v.owner_id = u.id AND v.state <> 'done' AND r.class_code = q.class_code))))"
    "  BEGIN SELECT RAISE(ABORT, 'a PCI request would pass a quota of its VM''s owner'); END;"
    "ALTER TABLE tokens ADD COLUMN expires INTEGER CHECK(expires > created);";
/* clang-format on */

/* Migration 7: indexes for the paged lists (issue 11). A page is the
 * first LIMIT ids above a cursor among the rows a filter keeps; each of
 * these (with the rowid SQLite adds to every index) answers one filter
 * in id order, so a page reads LIMIT entries, not the table: a user's
 * VMs in one state (vms_owner_state), hosts in one state (hosts_state).
 * A VM's owner alone, one state alone and one host alone have theirs
 * since migration 4 (vms_owner_id, vms_state, vms_host_id). */
static const char migration_7[] = "CREATE INDEX vms_owner_state ON vms(owner_id, state);"
                                  "CREATE INDEX hosts_state ON hosts(state);";

/* Migration 8: pushed reports (issue 11).
 *
 * host_token holds each host's report token, at most one, by the SHA-256
 * of its secret (as tokens): it lets pcipass-probe --push on that host
 * POST its report, and nothing else. A host with one is in push mode: the
 * monitor does not probe it.
 *
 * hosts.report_hash is the SHA-256 (hex) of the last report ingested from
 * a push, so that the same report again costs a comparison; NULL after a
 * pulled report, so that a push after a pull is reconciled in full.
 *
 * pci_device.group_endpoints is the record's IOMMU_GROUP_ENDPOINTS,
 * validated at ingest and kept in canonical form, comma-separated (NULL:
 * the group is not known), so that the scheduler reads no attribute text.
 * Rows stored before take theirs from their attributes; the next report
 * rewrites them checked.
 */
static const char migration_8[] =
    "CREATE TABLE host_token ("
    "  host_id INTEGER PRIMARY KEY REFERENCES hosts(id) ON DELETE CASCADE,"
    "  hash TEXT NOT NULL UNIQUE CHECK(length(hash) = 64),"
    "  created INTEGER NOT NULL,"
    "  last_used INTEGER);"
    "ALTER TABLE hosts ADD COLUMN report_hash TEXT CHECK(length(report_hash) = 64);"
    "ALTER TABLE pci_device ADD COLUMN group_endpoints TEXT;"
    "UPDATE pci_device SET group_endpoints = "
    "  json_extract(attributes, '$.IOMMU_GROUP_ENDPOINTS') WHERE json_valid(attributes);";

/* Migration 6's data, in C: see below. */
static gboolean migrate_6_requests(PpStore *store, GError **error);

/* Migration 9: a VM's template is read once, at its create, and what
 * placement and deployment need is kept typed (DESIGN: parse at the edge).
 *
 * vm_pci_request gets the rest of each request: vendor and device (NULL:
 * any) and address, a request by SHORT_ADDRESS, as the kernel packs a PCI
 * address: domain << 16 | bus << 8 | slot << 3 | function (NULL: a request
 * by ids). A request names an address or ids, not both.
 *
 * vms gets the template's HOST (only_host_id, only_host_name: NULL for
 * any host), what its domain needs besides its devices (domain_spec, JSON:
 * pp-vm-spec-json.h) and the domain XML the deployer last gave libvirt for
 * it (domain_xml: NULL until a deploy, and again once it is pending). The
 * template stays, for `vm show`.
 *
 * Requests never change: the trigger that says so is dropped while the
 * VMs stored before get their columns from their templates, then made
 * again (migrate_9_typed()).
 */
static const char migration_9[] =
    "DROP TRIGGER vm_pci_request_fixed;"
    "ALTER TABLE vm_pci_request ADD COLUMN vendor INTEGER CHECK(vendor BETWEEN 0 AND 65535);"
    "ALTER TABLE vm_pci_request ADD COLUMN device INTEGER CHECK(device BETWEEN 0 AND 65535);"
    "ALTER TABLE vm_pci_request ADD COLUMN address INTEGER CHECK(address IS NULL OR (address >= 0"
    "  AND vendor IS NULL AND device IS NULL AND class_code IS NULL));"
    "ALTER TABLE vms ADD COLUMN only_host_id INTEGER CHECK(only_host_id > 0);"
    "ALTER TABLE vms ADD COLUMN only_host_name TEXT;"
    "ALTER TABLE vms ADD COLUMN domain_spec TEXT;"
    "ALTER TABLE vms ADD COLUMN domain_xml TEXT;";

static const char migration_9_trigger[] =
    "CREATE TRIGGER vm_pci_request_fixed BEFORE UPDATE ON vm_pci_request"
    "  BEGIN SELECT RAISE(ABORT, 'a VM''s PCI requests do not change'); END;";

/* Migration 9's data, in C: see below. */
static gboolean migrate_9_typed(PpStore *store, GError **error);

/* The schema's history: migration N takes a database from version N - 1 to
 * N (PRAGMA user_version). To change the schema, append a migration (ALTER
 * TABLE ..., CREATE TABLE ...), never edit one that has shipped, and update
 * the statements below to the newest schema. All pending migrations run in
 * one transaction at open.
 *   version: the user_version after it
 *   sql:     the statements, static text (no values)
 *   data:    nullable: what SQL alone cannot do, run after sql
 */
static const struct {
  int version;
  const char *sql;
  gboolean (*data)(PpStore *store, GError **error);
} migrations[] = {
  { 1, migration_1, NULL }, { 2, migration_2, NULL }, { 3, migration_3, NULL },
  { 4, migration_4, NULL }, { 5, migration_5, NULL }, { 6, migration_6, migrate_6_requests },
  { 7, migration_7, NULL }, { 8, migration_8, NULL }, { 9, migration_9, migrate_9_typed },
};

#define SCHEMA_VERSION (migrations[G_N_ELEMENTS(migrations) - 1].version)

/* ------------------------------------------------------------------------ */
/* Statements, prepared once per store                                      */
/* ------------------------------------------------------------------------ */

/* A host row as host_from_row() reads it; the counts are the devices and
 * the free devices (not held, not gone). */
#define HOST_COLUMNS                                                                               \
  "h.id, h.name, h.ssh_user, h.ssh_host, h.ssh_port, h.libvirt_uri, h.probe_command, h.state, "    \
  "h.error, h.reported_hostname, h.cpu_count, h.memory_kib, h.kernel_version, "                    \
  "h.last_monitored, h.created, h.prebound, "                                                      \
  "(SELECT count(*) FROM pci_device d WHERE d.host_id = h.id), "                                   \
  "(SELECT count(*) FROM pci_device d WHERE d.host_id = h.id AND d.vm_id IS NULL "                 \
  "AND d.gone = 0), h.libvirt_error "

/* A device row as device_from_row() and device_row_matches() read it:
 * FROM pci_device d. allowed: an administrator gave this needed device to
 * VMs on purpose (host_allowance). */
#define DEVICE_COLUMNS                                                                             \
  "d.id, d.host_id, d.address, d.short_address, d.vendor, d.device, d.class_code, "                \
  "d.vendor_name, d.device_name, d.class_name, d.numa_node, d.iommu_group, d.driver, d.sriov, "    \
  "d.physfn, d.vm_id, d.vm_slot, d.gone, d.attributes, d.host_needs, d.set_aside, "                \
  "EXISTS (SELECT 1 FROM host_allowance a WHERE a.host_id = d.host_id AND a.address = "            \
  "d.address), "                                                                                   \
  "d.group_endpoints "
enum {
  DCOL_ID,
  DCOL_HOST_ID,
  DCOL_ADDRESS,
  DCOL_SHORT_ADDRESS,
  DCOL_VENDOR,
  DCOL_DEVICE,
  DCOL_CLASS,
  DCOL_VENDOR_NAME,
  DCOL_DEVICE_NAME,
  DCOL_CLASS_NAME,
  DCOL_NUMA_NODE,
  DCOL_IOMMU_GROUP,
  DCOL_DRIVER,
  DCOL_SRIOV,
  DCOL_PHYSFN,
  DCOL_VM_ID,
  DCOL_VM_SLOT,
  DCOL_GONE,
  DCOL_ATTRIBUTES,
  DCOL_HOST_NEEDS,
  DCOL_SET_ASIDE,
  DCOL_ALLOWED,
  DCOL_GROUP_ENDPOINTS,
};

/* Parameters ?2..?17 of DEV_INSERT and DEV_UPDATE are the same fields, so
 * that bind_device() serves both; ?1 is the host (insert) or the row
 * (update). Updates leave address alone: it is the row's key. */
#define DEVICE_FIELDS                                                                              \
  "short_address, vendor, device, class_code, vendor_name, device_name, class_name, "              \
  "numa_node, iommu_group, driver, sriov, physfn, attributes, host_needs, group_endpoints"

/* A VM row as vm_from_row() reads it: FROM VM_TABLES. */
#define VM_COLUMNS                                                                                 \
  "v.id, v.name, v.owner_id, u.name, v.state, v.reason, v.template, v.host_id, h.name, v.cpu, "    \
  "v.memory_kib, v.explanation, v.created, v.updated, v.tries "
#define VM_TABLES "vms v JOIN users u ON u.id = v.owner_id LEFT JOIN hosts h ON h.id = v.host_id "

#define USER_COLUMNS "id, name, admin, created "
#define TOKEN_COLUMNS "t.id, t.user_id, u.name, t.name, t.created, t.last_used, t.expires "

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_HOST_GET,
  STMT_HOST_GET_BY_NAME,
  STMT_HOST_LIST,
  STMT_HOST_ID_BY_NAME,
  STMT_HOST_INSERT,
  STMT_HOST_SET_ENABLED,
  STMT_HOST_SET_PREBOUND,
  STMT_HOST_UPDATE,
  STMT_HOST_NAME,
  STMT_HOST_HELD_BY,
  STMT_HOST_VMS_ON,
  STMT_HOST_DELETE,
  STMT_HOST_SET_FACTS,
  STMT_HOST_SET_ERROR,
  STMT_HOST_SET_LIBVIRT,
  STMT_ALLOW_INSERT,
  STMT_ALLOW_DELETE,
  STMT_ALLOW_LIST,
  STMT_DEV_LIST,
  STMT_DEV_INSERT,
  STMT_DEV_UPDATE,
  STMT_DEV_DELETE,
  STMT_DEV_FLAG_GONE,
  STMT_DEV_LIST_ALL,
  STMT_DEV_LIST_VM,
  STMT_DEV_ALLOCATE,
  STMT_DEV_HOLDER,
  STMT_DEV_DELETE_GONE_OF_VM,
  STMT_DEV_FREE_OF_VM,
  STMT_DEV_SET_ASIDE,
  STMT_VM_GET,
  STMT_VM_FIND_BY_NAME,
  STMT_VM_LIST,
  STMT_VM_INSERT,
  STMT_VM_REQUEST_INSERT,
  STMT_VM_REQUESTS,
  STMT_VM_NAME_DEFAULT,
  STMT_VM_STATE,
  STMT_VM_ALLOCATE,
  STMT_VM_TRANSITION,
  STMT_VM_RELEASE,
  STMT_VM_SET_EXPLANATION,
  STMT_VM_REQUEUE,
  STMT_VM_LIST_ON_HOST,
  STMT_VM_HISTORY,
  STMT_VM_SPEC,
  STMT_VM_REQUESTS_TYPED,
  STMT_VM_SET_DOMAIN_XML,
  STMT_VM_DOMAIN_XML,
  STMT_HOST_USAGE,
  STMT_HOST_USAGE_ONE,
  STMT_DEV_HOST_ID,
  STMT_VM_HOST_IDS,
  STMT_USER_GET,
  STMT_USER_GET_BY_NAME,
  STMT_USER_LIST,
  STMT_USER_INSERT,
  STMT_USER_VMS_NOT_DONE,
  STMT_USER_DELETE_DONE_VMS,
  STMT_USER_DELETE_TOKENS,
  STMT_USER_DELETE,
  STMT_USER_QUOTA,
  STMT_USER_HAS_QUOTA,
  STMT_USER_USAGE,
  STMT_USER_CLASS_USAGE,
  STMT_USER_SET_QUOTA,
  STMT_CLASS_QUOTA_SET,
  STMT_CLASS_QUOTA_DELETE,
  STMT_CLASS_QUOTA_COUNT,
  STMT_TOKEN_GET,
  STMT_TOKEN_BY_HASH,
  STMT_TOKEN_TOUCH,
  STMT_TOKEN_INSERT,
  STMT_TOKEN_LIST,
  STMT_TOKEN_DELETE,
  STMT_COUNT_HOSTS,
  STMT_COUNT_DEVICES,
  STMT_COUNT_USERS,
  STMT_COUNT_VMS,
  STMT_HOST_REPORT_STATE,
  STMT_HOST_TOKEN_SET,
  STMT_HOST_TOKEN_DELETE,
  STMT_HOST_TOKEN_BY_HASH,
  STMT_HOST_TOKEN_TOUCH,
  STMT_HOST_TOKEN_LIST,
  N_STMTS
} StmtId;

/* Every statement the store runs, by id; values always go in as bound
 * parameters. */
static const char *const stmt_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_HOST_GET] = "SELECT " HOST_COLUMNS "FROM hosts h WHERE h.id = ?1",
  [STMT_HOST_GET_BY_NAME] = "SELECT " HOST_COLUMNS "FROM hosts h WHERE h.name = ?1",
  [STMT_HOST_LIST] = "SELECT " HOST_COLUMNS "FROM hosts h ORDER BY h.id",
  [STMT_HOST_ID_BY_NAME] = "SELECT id FROM hosts WHERE name = ?1",
  [STMT_HOST_INSERT] = "INSERT INTO hosts (name, ssh_user, ssh_host, ssh_port, libvirt_uri, "
                       "probe_command, created, prebound) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
  /* SET's right-hand sides see the row as it was. */
  [STMT_HOST_SET_ENABLED] =
      "UPDATE hosts SET enabled = ?2, "
      "state = CASE WHEN ?2 = enabled THEN state WHEN ?2 THEN 'init' ELSE 'disabled' END, "
      "error = CASE WHEN ?2 = enabled THEN error END, "
      "libvirt_error = CASE WHEN ?2 = enabled THEN libvirt_error END WHERE id = ?1",
  [STMT_HOST_SET_PREBOUND] = "UPDATE hosts SET prebound = ?2 WHERE id = ?1",
  [STMT_HOST_UPDATE] = "UPDATE hosts SET ssh_user = ?2, ssh_host = ?3, ssh_port = ?4, "
                       "libvirt_uri = ?5, probe_command = ?6, prebound = ?7 WHERE id = ?1",
  [STMT_HOST_NAME] = "SELECT name, enabled FROM hosts WHERE id = ?1",
  [STMT_HOST_HELD_BY] = "SELECT DISTINCT vm_id FROM pci_device "
                        "WHERE host_id = ?1 AND vm_id IS NOT NULL ORDER BY vm_id",
  [STMT_HOST_VMS_ON] = "SELECT id FROM vms WHERE host_id = ?1 ORDER BY id",
  [STMT_HOST_DELETE] = "DELETE FROM hosts WHERE id = ?1",
  [STMT_HOST_SET_FACTS] =
      "UPDATE hosts SET reported_hostname = ?2, cpu_count = ?3, memory_kib = ?4, "
      "kernel_version = ?5, state = CASE WHEN NOT enabled THEN 'disabled' "
      "WHEN libvirt_error IS NOT NULL THEN 'error' ELSE 'monitored' END, "
      "error = NULL, last_monitored = ?6, report_hash = ?7 WHERE id = ?1",
  [STMT_HOST_SET_ERROR] =
      "UPDATE hosts SET state = CASE WHEN enabled THEN 'error' ELSE 'disabled' END, "
      "error = CASE WHEN enabled THEN ?2 ELSE NULL END, last_monitored = ?3 WHERE id = ?1",
  /* A host that answers: monitored when its last probe succeeded, init
   * before its first. */
  [STMT_HOST_SET_LIBVIRT] =
      "UPDATE hosts SET libvirt_error = CASE WHEN enabled THEN ?2 END, "
      "state = CASE WHEN NOT enabled THEN 'disabled' "
      "WHEN ?2 IS NOT NULL OR error IS NOT NULL THEN 'error' "
      "WHEN last_monitored = 0 THEN 'init' ELSE 'monitored' END WHERE id = ?1",
  [STMT_ALLOW_INSERT] = "INSERT INTO host_allowance (host_id, address, by_name, created) "
                        "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host_id, address) DO NOTHING",
  [STMT_ALLOW_DELETE] = "DELETE FROM host_allowance WHERE host_id = ?1 AND address = ?2",
  [STMT_ALLOW_LIST] = "SELECT address, by_name, created FROM host_allowance WHERE host_id = ?1 "
                      "ORDER BY length(address), address",
  /* By address; a longer address has a wider (larger) domain. */
  [STMT_DEV_LIST] = "SELECT " DEVICE_COLUMNS "FROM pci_device d WHERE d.host_id = ?1 "
                    "ORDER BY length(d.address), d.address",
  [STMT_DEV_INSERT] =
      "INSERT INTO pci_device (host_id, address, " DEVICE_FIELDS ") "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
  /* Reported again: present, and no longer set aside. */
  [STMT_DEV_UPDATE] =
      "UPDATE pci_device SET (" DEVICE_FIELDS ", gone, set_aside) = "
      "(?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 0, NULL) "
      "WHERE id = ?1",
  [STMT_DEV_DELETE] = "DELETE FROM pci_device WHERE id = ?1",
  [STMT_DEV_FLAG_GONE] = "UPDATE pci_device SET gone = 1 WHERE id = ?1",
  /* One pass over UNIQUE(host_id, address)'s index, each host's few rows
   * sorted again by address length (the order of STMT_DEV_LIST). */
  [STMT_DEV_LIST_ALL] = "SELECT " DEVICE_COLUMNS "FROM pci_device d "
                        "ORDER BY d.host_id, length(d.address), d.address",
  [STMT_DEV_LIST_VM] =
      "SELECT " DEVICE_COLUMNS "FROM pci_device d WHERE d.vm_id = ?1 ORDER BY d.vm_slot",
  /* Takes the device only if it is still free, present and on the host. */
  [STMT_DEV_ALLOCATE] = "UPDATE pci_device SET vm_id = ?2, vm_slot = ?3 "
                        "WHERE id = ?1 AND vm_id IS NULL AND gone = 0 AND host_id = ?4",
  [STMT_DEV_HOLDER] = "SELECT d.address, d.host_id, h.name, d.vm_id, d.gone "
                      "FROM pci_device d JOIN hosts h ON h.id = d.host_id WHERE d.id = ?1",
  [STMT_DEV_DELETE_GONE_OF_VM] = "DELETE FROM pci_device WHERE vm_id = ?1 AND gone = 1",
  [STMT_DEV_FREE_OF_VM] = "UPDATE pci_device SET vm_id = NULL, vm_slot = NULL WHERE vm_id = ?1",
  [STMT_DEV_SET_ASIDE] = "UPDATE pci_device SET set_aside = ?3 WHERE host_id = ?1 AND address = ?2",
  [STMT_VM_GET] = "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE v.id = ?1",
  /* ?2: the owner, 0 for every owner's (an admin). */
  [STMT_VM_FIND_BY_NAME] =
      "SELECT id, state FROM vms WHERE name = ?1 AND (?2 = 0 OR owner_id = ?2) "
      "ORDER BY id",
  /* ?2..?9: the names of the states asked for (NULL for the rest); ?2
   * NULL: every state. */
  [STMT_VM_LIST] = "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE (?1 = 0 OR v.owner_id = ?1) "
                   "AND (?2 IS NULL OR v.state IN (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)) ORDER BY v.id",
  [STMT_VM_INSERT] =
      "INSERT INTO vms (name, owner_id, template, cpu, memory_kib, created, updated, "
      "only_host_id, only_host_name, domain_spec) "
      "VALUES (coalesce(?1, ''), ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)",
  [STMT_VM_REQUEST_INSERT] = "INSERT INTO vm_pci_request (vm_id, slot, class_code, vendor, device, "
                             "address) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  [STMT_VM_REQUESTS] = "SELECT class_code FROM vm_pci_request WHERE vm_id = ?1 ORDER BY slot",
  [STMT_VM_NAME_DEFAULT] = "UPDATE vms SET name = 'vm-' || id WHERE id = ?1",
  [STMT_VM_STATE] = "SELECT state FROM vms WHERE id = ?1",
  /* A new place: no domain yet. */
  [STMT_VM_ALLOCATE] = "UPDATE vms SET state = 'deploying', host_id = ?2, explanation = NULL, "
                       "updated = ?3, reason = ?4, domain_xml = NULL "
                       "WHERE id = ?1 AND state = 'pending'",
  /* Leaving pending drops the explanation (the schema's CHECK). */
  [STMT_VM_TRANSITION] =
      "UPDATE vms SET state = ?3, reason = ?4, updated = ?5, "
      "explanation = CASE WHEN ?3 = 'pending' THEN explanation END WHERE id = ?1 AND state = ?2",
  [STMT_VM_RELEASE] = "UPDATE vms SET state = ?2, reason = ?3, host_id = NULL, explanation = NULL, "
                      "updated = ?4 WHERE id = ?1",
  [STMT_VM_SET_EXPLANATION] = "UPDATE vms SET explanation = ?2 "
                              "WHERE id = ?1 AND (state = 'pending' OR ?2 IS NULL)",
  /* Back to pending, holding nothing (its devices freed first); ?4: add
   * one try (a deploy failed) or start counting again (a user's retry). */
  [STMT_VM_REQUEUE] = "UPDATE vms SET state = 'pending', reason = ?2, host_id = NULL, "
                      "explanation = NULL, updated = ?3, domain_xml = NULL, "
                      "tries = CASE WHEN ?4 THEN tries + 1 ELSE 0 END WHERE id = ?1",
  [STMT_VM_LIST_ON_HOST] =
      "SELECT " VM_COLUMNS "FROM " VM_TABLES "WHERE v.host_id = ?1 ORDER BY v.id",
  [STMT_VM_HISTORY] = "SELECT at, from_state, to_state, reason, host_name FROM vm_history "
                      "WHERE vm_id = ?1 ORDER BY id",
  [STMT_VM_SPEC] = "SELECT name, cpu, memory_kib, only_host_id, only_host_name, domain_spec "
                   "FROM vms WHERE id = ?1",
  [STMT_VM_REQUESTS_TYPED] = "SELECT class_code, vendor, device, address FROM vm_pci_request "
                             "WHERE vm_id = ?1 ORDER BY slot",
  [STMT_VM_SET_DOMAIN_XML] = "UPDATE vms SET domain_xml = ?2 WHERE id = ?1",
  [STMT_VM_DOMAIN_XML] = "SELECT domain_xml FROM vms WHERE id = ?1",
  [STMT_HOST_USAGE] = "SELECT host_id, sum(cpu), sum(memory_kib) FROM vms "
                      "WHERE host_id IS NOT NULL GROUP BY host_id",
  [STMT_HOST_USAGE_ONE] = "SELECT coalesce(sum(cpu), 0), coalesce(sum(memory_kib), 0) FROM vms "
                          "WHERE host_id = ?1",
  [STMT_DEV_HOST_ID] = "SELECT host_id FROM pci_device WHERE id = ?1",
  [STMT_VM_HOST_IDS] = "SELECT id, host_id FROM vms WHERE host_id IS NOT NULL",
  [STMT_USER_GET] = "SELECT " USER_COLUMNS "FROM users WHERE id = ?1",
  [STMT_USER_GET_BY_NAME] = "SELECT " USER_COLUMNS "FROM users WHERE name = ?1",
  [STMT_USER_LIST] = "SELECT " USER_COLUMNS "FROM users ORDER BY id",
  [STMT_USER_INSERT] = "INSERT INTO users (name, admin, created) VALUES (?1, ?2, ?3)",
  [STMT_USER_VMS_NOT_DONE] =
      "SELECT id FROM vms WHERE owner_id = ?1 AND state <> 'done' ORDER BY id",
  /* Their history and PCI requests go with them (ON DELETE CASCADE); a
   * done VM holds no device (the schema's triggers). */
  [STMT_USER_DELETE_DONE_VMS] = "DELETE FROM vms WHERE owner_id = ?1 AND state = 'done'",
  [STMT_USER_DELETE_TOKENS] = "DELETE FROM tokens WHERE user_id = ?1",
  [STMT_USER_DELETE] = "DELETE FROM users WHERE id = ?1",
  [STMT_USER_HAS_QUOTA] =
      "SELECT quota_vms IS NOT NULL OR quota_cpu IS NOT NULL OR quota_memory_kib IS NOT NULL "
      "OR quota_pci IS NOT NULL OR EXISTS (SELECT 1 FROM user_pci_quota q WHERE q.user_id = ?1) "
      "FROM users WHERE id = ?1",
  [STMT_USER_QUOTA] =
      "SELECT quota_vms, quota_cpu, quota_memory_kib, quota_pci FROM users WHERE id = ?1",
  /* What user ?1's VMs that are not done hold, VM ?2 left out (0: none). */
  [STMT_USER_USAGE] = "SELECT count(*), coalesce(sum(v.cpu), 0), coalesce(sum(v.memory_kib), 0), "
                      "(SELECT count(*) FROM vm_pci_request r JOIN vms w ON w.id = r.vm_id "
                      "WHERE w.owner_id = ?1 AND w.state <> 'done' AND w.id <> ?2) "
                      "FROM vms v WHERE v.owner_id = ?1 AND v.state <> 'done' AND v.id <> ?2",
  /* Every class user ?1 has a limit for or requests of: the limit (NULL:
   * none) and the requests, VM ?2 left out. */
  [STMT_USER_CLASS_USAGE] =
      "SELECT class_code, max(quota), sum(used) FROM ("
      "SELECT class_code, quota, 0 AS used FROM user_pci_quota WHERE user_id = ?1 "
      "UNION ALL SELECT r.class_code, NULL, 1 FROM vm_pci_request r JOIN vms w ON w.id = r.vm_id "
      "WHERE w.owner_id = ?1 AND w.state <> 'done' AND w.id <> ?2 AND r.class_code IS NOT NULL) "
      "GROUP BY class_code ORDER BY class_code",
  [STMT_USER_SET_QUOTA] = "UPDATE users SET quota_vms = ?2, quota_cpu = ?3, quota_memory_kib = ?4, "
                          "quota_pci = ?5 WHERE id = ?1",
  [STMT_CLASS_QUOTA_SET] = "INSERT INTO user_pci_quota (user_id, class_code, quota) "
                           "VALUES (?1, ?2, ?3) ON CONFLICT (user_id, class_code) "
                           "DO UPDATE SET quota = excluded.quota",
  [STMT_CLASS_QUOTA_DELETE] = "DELETE FROM user_pci_quota WHERE user_id = ?1 AND class_code = ?2",
  [STMT_CLASS_QUOTA_COUNT] = "SELECT count(*) FROM user_pci_quota WHERE user_id = ?1",
  [STMT_TOKEN_GET] = "SELECT " TOKEN_COLUMNS "FROM tokens t JOIN users u ON u.id = t.user_id "
                     "WHERE t.id = ?1",
  [STMT_TOKEN_BY_HASH] =
      "SELECT t.id, t.user_id, t.last_used, t.expires FROM tokens t WHERE t.hash = ?1",
  [STMT_TOKEN_TOUCH] = "UPDATE tokens SET last_used = ?2 WHERE id = ?1",
  [STMT_TOKEN_INSERT] = "INSERT INTO tokens (user_id, name, hash, created, expires) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS "FROM tokens t JOIN users u ON u.id = t.user_id "
                      "WHERE ?1 = 0 OR t.user_id = ?1 ORDER BY t.id",
  /* ?2: the owner it must have, 0 for any (an admin). */
  [STMT_TOKEN_DELETE] = "DELETE FROM tokens WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)",
  [STMT_COUNT_HOSTS] = "SELECT state, count(*) FROM hosts GROUP BY state",
  [STMT_COUNT_DEVICES] = "SELECT count(*), count(vm_id), coalesce(sum(gone), 0) FROM pci_device",
  [STMT_COUNT_USERS] = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens)",
  [STMT_COUNT_VMS] = "SELECT state, count(*) FROM vms GROUP BY state",
  /* Whether a pushed report with the same hash may be passed over: the
   * hash, whether the host's state came from a report (not init, no
   * probe error), whether a device waits to be reported again. */
  [STMT_HOST_REPORT_STATE] =
      "SELECT h.report_hash, h.state <> 'init' AND h.error IS NULL, "
      "EXISTS (SELECT 1 FROM pci_device d WHERE d.host_id = h.id AND d.set_aside IS NOT NULL) "
      "FROM hosts h WHERE h.id = ?1",
  /* A new token replaces the host's old one. */
  [STMT_HOST_TOKEN_SET] = "INSERT INTO host_token (host_id, hash, created) VALUES (?1, ?2, ?3) "
                          "ON CONFLICT (host_id) DO UPDATE SET hash = excluded.hash, "
                          "created = excluded.created, last_used = NULL",
  [STMT_HOST_TOKEN_DELETE] = "DELETE FROM host_token WHERE host_id = ?1",
  [STMT_HOST_TOKEN_BY_HASH] =
      "SELECT t.host_id, h.name, t.created, t.last_used "
      "FROM host_token t JOIN hosts h ON h.id = t.host_id WHERE t.hash = ?1",
  [STMT_HOST_TOKEN_TOUCH] = "UPDATE host_token SET last_used = ?2 WHERE host_id = ?1",
  [STMT_HOST_TOKEN_LIST] = "SELECT t.host_id, h.name, t.created, t.last_used "
                           "FROM host_token t JOIN hosts h ON h.id = t.host_id ORDER BY t.host_id",
};

/* The statements of the paged lists (issue 11), apart from the others so
 * that their additions merge apart. The *_IDS statements read an index
 * only (migration 7): the ids of a page, LIMIT ?n of them above the
 * cursor; the rows are then read by id. */
typedef enum {
  PAGE_VM_IDS,             /* ?1 after, ?2 limit */
  PAGE_VM_IDS_OWNER,       /* ?1 owner, ?2 after, ?3 limit */
  PAGE_VM_IDS_STATE,       /* ?1 state, ?2 after, ?3 limit */
  PAGE_VM_IDS_OWNER_STATE, /* ?1 owner, ?2 state, ?3 after, ?4 limit */
  /* ?1 host, ?2 after, ?3 limit, ?4 owner (0: any), ?5 ",state,...," (NULL: any): the VMs on a
   * host are a few, read through vms_host_id */
  PAGE_VM_IDS_HOST,
  PAGE_VM_ROW, /* ?1 id */
  PAGE_VM_OWNED,
  PAGE_HOST_IDS,       /* ?1 after, ?2 limit */
  PAGE_HOST_IDS_STATE, /* ?1 state, ?2 after, ?3 limit */
  N_PAGE_STMTS
} PageStmtId;

/* The part of an explanation a light row reads, when it is a JSON array
 * (json_valid() first: json_extract() fails on malformed text). */
#define EXPLAINED_ARRAY                                                                            \
  "v.state = 'pending' AND json_valid(v.explanation) AND json_type(v.explanation) = 'array'"

static const char *const page_stmt_sql[N_PAGE_STMTS] = {
  [PAGE_VM_IDS] = "SELECT id FROM vms WHERE id > ?1 ORDER BY id LIMIT ?2",
  [PAGE_VM_IDS_OWNER] = "SELECT id FROM vms WHERE owner_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
  [PAGE_VM_IDS_STATE] = "SELECT id FROM vms WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
  [PAGE_VM_IDS_OWNER_STATE] = "SELECT id FROM vms WHERE owner_id = ?1 AND state = ?2 AND id > ?3 "
                              "ORDER BY id LIMIT ?4",
  [PAGE_VM_IDS_HOST] = "SELECT id FROM vms WHERE host_id = ?1 AND id > ?2 "
                       "AND (?4 = 0 OR owner_id = ?4) "
                       "AND (?5 IS NULL OR instr(?5, ',' || state || ',') > 0) "
                       "ORDER BY id LIMIT ?3",
  [PAGE_VM_ROW] =
      "SELECT v.id, v.name, v.owner_id, u.name, v.state, "
      "substr(v.reason, 1, " G_STRINGIFY(
          PP_STORE_ROW_TEXT_MAX) "), v.host_id, h.name, v.cpu, "
                                 "v.memory_kib, (SELECT count(*) FROM pci_device d WHERE d.vm_id = "
                                 "v.id), v.created, "
                                 "v.updated, v.tries, v.state = 'pending' AND v.explanation IS NOT "
                                 "NULL, "
                                 "CASE WHEN " EXPLAINED_ARRAY
                                 " THEN json_array_length(v.explanation) END, "
                                 "CASE WHEN " EXPLAINED_ARRAY
                                 " THEN json_extract(v.explanation, '$[0].host') END, "
                                 "CASE WHEN " EXPLAINED_ARRAY
                                 " THEN json_extract(v.explanation, '$[0].reason') END, "
                                 "CASE WHEN v.state = 'pending' AND NOT (" EXPLAINED_ARRAY ") "
                                 "THEN substr(v.explanation, 1, " G_STRINGIFY(
                                     PP_STORE_ROW_TEXT_MAX) ") END "
                                                            "FROM vms v JOIN users u ON u.id = "
                                                            "v.owner_id LEFT JOIN hosts h ON h.id "
                                                            "= v.host_id "
                                                            "WHERE v.id = ?1",
  [PAGE_VM_OWNED] =
      "SELECT EXISTS (SELECT 1 FROM vms WHERE id = ?1 AND owner_id = ?2 AND state <> 'done')",
  [PAGE_HOST_IDS] = "SELECT id FROM hosts WHERE id > ?1 ORDER BY id LIMIT ?2",
  [PAGE_HOST_IDS_STATE] = "SELECT id FROM hosts WHERE state = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
};

struct _PpStore {
  sqlite3 *db;
  char *path;
  int schema_version;
  sqlite3_stmt *stmts[N_STMTS];           /* prepared on first use */
  sqlite3_stmt *page_stmts[N_PAGE_STMTS]; /* the paged lists', prepared on first use */
  char *id;                               /* store_meta's id, read at open */
  GString *scratch;                       /* reconcile's JSON of the records */
  PpStoreWatchFunc watch;                 /* pp_store_set_watch() */
  gpointer watch_data;
};

/* A cached statement in use: released (reset, bindings cleared) when it
 * goes out of scope, never finalized. */
typedef sqlite3_stmt StoreStmt;

static void
store_stmt_release(StoreStmt *stmt)
{
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreStmt, store_stmt_release)

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static PpStoreError
error_code_from_sqlite(int rc)
{
  switch (rc & 0xff) {
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return PP_STORE_ERROR_BUSY;
  case SQLITE_CONSTRAINT:
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER: /* a device held by another VM */
      return PP_STORE_ERROR_CONFLICT;
    default: /* CHECK, NOT NULL */
      return PP_STORE_ERROR_INVALID;
    }
  default:
    return PP_STORE_ERROR_FAILED;
  }
}

/* Sets @error from the connection's last error: "OPERATION: sqlite's
 * message". Call it before anything else touches the connection (a
 * rollback would replace the message). */
static void G_GNUC_PRINTF(3, 4)
    store_set_error(PpStore *store, GError **error, const char *format, ...)
{
  g_autofree char *op = NULL;
  va_list args;

  va_start(args, format);
  op = g_strdup_vprintf(format, args);
  va_end(args);
  g_set_error(error, PP_STORE_ERROR, error_code_from_sqlite(sqlite3_extended_errcode(store->db)),
              "%s: %s", op, sqlite3_errmsg(store->db));
}

/* Returns: (transfer none): the cached statement @id, ready for binding. */
static StoreStmt *
store_stmt(PpStore *store, StmtId id, GError **error)
{
  if (store->stmts[id] == NULL &&
      sqlite3_prepare_v3(store->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &store->stmts[id],
                         NULL) != SQLITE_OK) {
    store_set_error(store, error, "preparing statement %d", (int)id);
    return NULL;
  }
  return store->stmts[id];
}

/* Runs a statement that returns no rows; FALSE with the error on failure. */
static gboolean
stmt_run(PpStore *store, StoreStmt *stmt, GError **error, const char *what)
{
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    store_set_error(store, error, "%s", what);
    return FALSE;
  }
  return TRUE;
}

/* Steps a query: TRUE for a row, FALSE at the end or on an error (set
 * then). */
static gboolean
stmt_next(PpStore *store, StoreStmt *stmt, GError **error, const char *what)
{
  int rc = sqlite3_step(stmt);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    store_set_error(store, error, "%s", what);
  return FALSE;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

/* An open transaction: rolled back when it goes out of scope uncommitted. */
typedef struct {
  PpStore *store; /* NULL: none open */
} StoreTxn;

static void
store_txn_clear(StoreTxn *txn)
{
  PpStore *store = txn->store;
  sqlite3_stmt *rollback;

  if (txn->store == NULL)
    return;
  txn->store = NULL;
  /* A failed statement may have ended the transaction already. */
  if (sqlite3_get_autocommit(store->db))
    return;
  rollback = store_stmt(store, STMT_ROLLBACK, NULL);
  if (rollback != NULL) {
    if (sqlite3_step(rollback) != SQLITE_DONE)
      g_debug("rolling back: %s, ignoring", sqlite3_errmsg(store->db));
    sqlite3_reset(rollback);
  }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StoreTxn, store_txn_clear)

/* BEGIN IMMEDIATE: takes the write lock now (waiting up to the busy
 * timeout), so that what the transaction reads stays true until COMMIT. */
static gboolean
store_txn_begin(PpStore *store, StoreTxn *txn, const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_BEGIN, error);

  g_assert(txn->store == NULL);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    store_set_error(store, error, "%s: starting a transaction", what);
    return FALSE;
  }
  txn->store = store;
  return TRUE;
}

static gboolean
store_txn_commit(StoreTxn *txn, const char *what, GError **error)
{
  PpStore *store = txn->store;
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COMMIT, error);

  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    store_set_error(store, error, "%s: committing", what);
    return FALSE; /* txn rolls back when cleared */
  }
  txn->store = NULL;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static char *
col_strdup(sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return NULL;
  return g_strdup((const char *)sqlite3_column_text(stmt, col));
}

static const char *
col_text(sqlite3_stmt *stmt, int col)
{
  return (const char *)sqlite3_column_text(stmt, col);
}

/* Binds a nullable string that outlives the statement's step. */
static void
bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null(stmt, index);
  else
    sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* A reason, from libvirt or a probe: bounded and made UTF-8. Returns:
 * (transfer full) (nullable). */
static char *
vm_reason_text(const char *reason)
{
  if (reason == NULL)
    return NULL;
  return g_utf8_make_valid(reason, MIN(strlen(reason), VM_REASON_MAX_LEN));
}

/* The name rule of hosts and users; @kind is "host" or "user". */
static gboolean
check_name(const char *kind, const char *name, GError **error)
{
  gsize len = name ? strlen(name) : 0;
  gsize good = name ? strspn(name, NAME_CHARS) : 0;

  if (len == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "a %s name cannot be empty", kind);
    return FALSE;
  }
  if (len > NAME_MAX_LEN) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a %s name is at most %d characters; this one has %" G_GSIZE_FORMAT, kind,
                NAME_MAX_LEN, len);
    return FALSE;
  }
  if (good != len) {
    g_autofree char *escaped = g_strescape(name, NULL);

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%s name '%s' has a character other than A-Z, a-z, 0-9, '.', '_' and '-' "
                "(at byte %" G_GSIZE_FORMAT ")",
                kind, escaped, good + 1);
    return FALSE;
  }
  if (name[0] == '-' || name[0] == '.') {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "%s name '%s' starts with '%c'",
                kind, name, name[0]);
    return FALSE;
  }
  return TRUE;
}

/* A short single-line value (a token name, who allowed a device): the
 * rule of pp-host-spec's words, in the store's error domain. */
static gboolean
check_field(const char *what, const char *value, gsize max_len, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!pp_host_spec_check_word(what, value, max_len, NULL, &local)) {
    g_set_error_literal(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, local->message);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */
/* ------------------------------------------------------------------------ */

static int
read_user_version(PpStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL; /* a one-off: finalized, not cached */

  if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_ROW) {
    store_set_error(store, error, "opening store '%s': reading the schema version", store->path);
    return -1;
  }
  return sqlite3_column_int(stmt, 0);
}

/* Runs static SQL (no values). */
static gboolean
store_exec(PpStore *store, const char *sql, GError **error, const char *what)
{
  if (sqlite3_exec(store->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    store_set_error(store, error, "opening store '%s': %s", store->path, what);
    return FALSE;
  }
  return TRUE;
}

/* After a migration: FALSE with an error naming the first table whose
 * foreign key points nowhere (foreign keys are off while migrating). */
static gboolean
check_foreign_keys(PpStore *store, int version, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL; /* a one-off: finalized, not cached */
  int rc;

  if (sqlite3_prepare_v2(store->db, "PRAGMA foreign_key_check", -1, &stmt, NULL) != SQLITE_OK) {
    store_set_error(store, error, "opening store '%s': checking foreign keys", store->path);
    return FALSE;
  }
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': migrating the schema to version %d: row %" G_GINT64_FORMAT
                " of table %s refers to a missing row of table %s",
                store->path, version, (gint64)sqlite3_column_int64(stmt, 1), col_text(stmt, 0),
                col_text(stmt, 2));
    return FALSE;
  }
  if (rc != SQLITE_DONE) {
    store_set_error(store, error, "opening store '%s': checking foreign keys", store->path);
    return FALSE;
  }
  return TRUE;
}

/* Migration 6's data: the PCI requests of every VM stored before, read
 * from its template. A template that no longer parses (a hand-edited
 * store) gives none: such a VM fails when it is next placed. Its own SQL,
 * as the migration's is: the statements of today's schema may not fit
 * the schema of version 6. */
static gboolean
migrate_6_requests(PpStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) vms = NULL; /* one-offs: finalized, not cached */
  g_autoptr(sqlite3_stmt) insert = NULL;
  guint n_vms = 0, n_requests = 0;
  int rc;

  if (sqlite3_prepare_v2(store->db, "SELECT id, template FROM vms ORDER BY id", -1, &vms, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(store->db,
                         "INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES (?1, ?2, ?3)",
                         -1, &insert, NULL) != SQLITE_OK) {
    store_set_error(store, error, "reading the VMs' PCI requests");
    return FALSE;
  }
  while ((rc = sqlite3_step(vms)) == SQLITE_ROW) {
    const char *text = col_text(vms, 1);
    g_autoptr(PpVmSpec) spec = pp_vm_template_parse(text, strlen(text), NULL);

    n_vms++;
    for (guint i = 0; spec != NULL && i < spec->requests->len; i++) {
      const PpPciRequest *req = &g_array_index(spec->requests, PpPciRequest, i);

      sqlite3_bind_int64(insert, 1, sqlite3_column_int64(vms, 0));
      sqlite3_bind_int(insert, 2, (int)i);
      if (req->class_code >= 0)
        sqlite3_bind_int(insert, 3, req->class_code);
      else
        sqlite3_bind_null(insert, 3);
      if (sqlite3_step(insert) != SQLITE_DONE) {
        store_set_error(store, error, "recording the PCI requests of VM %" G_GINT64_FORMAT,
                        (gint64)sqlite3_column_int64(vms, 0));
        return FALSE;
      }
      sqlite3_reset(insert);
      n_requests++;
    }
  }
  if (rc != SQLITE_DONE) {
    store_set_error(store, error, "reading the VMs' PCI requests");
    return FALSE;
  }
  g_debug("'%s': %u PCI requests of %u VMs recorded", store->path, n_requests, n_vms);
  return TRUE;
}

/* A request's address as the address column packs it. */
static gint64
address_pack(const PpPciAddress *address)
{
  return (gint64)address->domain << 16 | (gint64)address->bus << 8 | address->slot << 3 |
         address->function;
}

static void
address_unpack(gint64 packed, PpPciAddress *ret)
{
  ret->domain = (guint32)(packed >> 16);
  ret->bus = (guint8)(packed >> 8);
  ret->slot = (guint8)((packed >> 3) & 0x1f);
  ret->function = (guint8)(packed & 7);
}

/* Binds @request's typed columns: vendor ?@first, device ?@first+1,
 * address ?@first+2 (NULL where it says none). */
static void
bind_request(sqlite3_stmt *stmt, int first, const PpPciRequest *request)
{
  if (request->vendor >= 0)
    sqlite3_bind_int(stmt, first, request->vendor);
  else
    sqlite3_bind_null(stmt, first);
  if (request->device >= 0)
    sqlite3_bind_int(stmt, first + 1, request->device);
  else
    sqlite3_bind_null(stmt, first + 1);
  if (request->by_address)
    sqlite3_bind_int64(stmt, first + 2, address_pack(&request->address));
  else
    sqlite3_bind_null(stmt, first + 2);
}

/* Migration 9's data: the typed columns of every VM stored before, read
 * once from its template. A template that no longer parses (a hand-edited
 * store) gives none: such a VM fails when it is next deployed. Its own
 * SQL, as the migration's is. */
static gboolean
migrate_9_typed(PpStore *store, GError **error)
{
  g_autoptr(sqlite3_stmt) vms = NULL; /* one-offs: finalized, not cached */
  g_autoptr(sqlite3_stmt) vm_update = NULL;
  g_autoptr(sqlite3_stmt) request_update = NULL;
  guint n_vms = 0, n_typed = 0;
  int rc;

  if (sqlite3_prepare_v2(store->db, "SELECT id, template FROM vms ORDER BY id", -1, &vms, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(store->db,
                         "UPDATE vms SET only_host_id = ?2, only_host_name = ?3, domain_spec = ?4 "
                         "WHERE id = ?1",
                         -1, &vm_update, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(store->db,
                         "UPDATE vm_pci_request SET vendor = ?3, device = ?4, address = ?5 "
                         "WHERE vm_id = ?1 AND slot = ?2",
                         -1, &request_update, NULL) != SQLITE_OK) {
    store_set_error(store, error, "reading the VMs' templates");
    return FALSE;
  }
  while ((rc = sqlite3_step(vms)) == SQLITE_ROW) {
    gint64 id = sqlite3_column_int64(vms, 0);
    const char *text = col_text(vms, 1);
    g_autoptr(PpVmSpec) spec = NULL;
    g_autofree char *domain_spec = NULL;

    n_vms++;
    spec = text != NULL ? pp_vm_template_parse(text, strlen(text), NULL) : NULL;
    if (spec == NULL)
      continue;
    domain_spec = pp_vm_spec_domain_to_json(spec);
    sqlite3_bind_int64(vm_update, 1, id);
    if (spec->host_id > 0)
      sqlite3_bind_int64(vm_update, 2, spec->host_id);
    else
      sqlite3_bind_null(vm_update, 2);
    bind_text(vm_update, 3, spec->host_name);
    bind_text(vm_update, 4, domain_spec);
    if (sqlite3_step(vm_update) != SQLITE_DONE) {
      store_set_error(store, error, "recording the spec of VM %" G_GINT64_FORMAT, id);
      return FALSE;
    }
    sqlite3_reset(vm_update);
    sqlite3_clear_bindings(vm_update);
    for (guint i = 0; i < spec->requests->len; i++) {
      sqlite3_bind_int64(request_update, 1, id);
      sqlite3_bind_int(request_update, 2, (int)i);
      bind_request(request_update, 3, &g_array_index(spec->requests, PpPciRequest, i));
      if (sqlite3_step(request_update) != SQLITE_DONE) {
        store_set_error(store, error, "recording the PCI requests of VM %" G_GINT64_FORMAT, id);
        return FALSE;
      }
      sqlite3_reset(request_update);
    }
    n_typed++;
  }
  if (rc != SQLITE_DONE) {
    store_set_error(store, error, "reading the VMs' templates");
    return FALSE;
  }
  if (!store_exec(store, migration_9_trigger, error, "migrating the schema to version 9"))
    return FALSE;
  g_debug("'%s': %u of %u VMs typed from their templates", store->path, n_typed, n_vms);
  return TRUE;
}

/* The body of store_migrate(), foreign keys being off. */
static gboolean
store_migrate_locked(PpStore *store, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  int version;

  if (!store_txn_begin(store, &txn, "opening store", error)) {
    g_prefix_error(error, "'%s': ", store->path);
    return FALSE;
  }
  version = read_user_version(store, error);
  if (version < 0)
    return FALSE;
  if (version > SCHEMA_VERSION) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': its schema version is %d, newer than the %d this pcipassd "
                "knows; run a newer pcipassd",
                store->path, version, SCHEMA_VERSION);
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS(migrations); i++) {
    g_autofree char *what = NULL;
    g_autofree char *set_version = NULL;

    if (migrations[i].version <= version)
      continue;
    what = g_strdup_printf("migrating the schema to version %d", migrations[i].version);
    /* PRAGMA takes no parameters; the number is ours, not input. */
    set_version = g_strdup_printf("PRAGMA user_version = %d", migrations[i].version);
    if (!store_exec(store, migrations[i].sql, error, what))
      return FALSE;
    if (migrations[i].data != NULL && !migrations[i].data(store, error)) {
      g_prefix_error(error, "opening store '%s': %s: ", store->path, what);
      return FALSE;
    }
    if (!check_foreign_keys(store, migrations[i].version, error) ||
        !store_exec(store, set_version, error, what))
      return FALSE;
    g_debug("'%s': schema migrated to version %d", store->path, migrations[i].version);
  }
  if (!store_txn_commit(&txn, "migrating the schema", error)) {
    g_prefix_error(error, "opening store '%s': ", store->path);
    return FALSE;
  }
  return TRUE;
}

/* Brings the schema to SCHEMA_VERSION in one transaction, then turns
 * foreign keys on. They are off meanwhile (the pragma is a no-op inside a
 * transaction): a migration that rebuilds a table drops and renames tables
 * that others refer to, which with foreign keys on would delete or check
 * rows halfway (SQLite's ALTER TABLE page); each migration is checked with
 * PRAGMA foreign_key_check instead, before the commit. */
static gboolean
store_migrate(PpStore *store, GError **error)
{
  if (!store_exec(store, "PRAGMA foreign_keys = OFF", error, "turning foreign keys off"))
    return FALSE;
  if (!store_migrate_locked(store, error))
    return FALSE;
  if (!store_exec(store, "PRAGMA foreign_keys = ON", error, "turning foreign keys on"))
    return FALSE;
  store->schema_version = SCHEMA_VERSION;
  return TRUE;
}

PpStore *
pp_store_open(const char *path, GError **error)
{
  g_autoptr(PpStore) store = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail(path != NULL, NULL);
  g_return_val_if_fail(error == NULL || *error == NULL, NULL);

  store = g_new0(PpStore, 1);
  store->path = g_strdup(path);
  store->scratch = g_string_sized_new(4096);
  rc = sqlite3_open_v2(path, &store->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    if (store->db == NULL) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED, "opening store '%s': %s", path,
                  sqlite3_errstr(rc));
      return NULL;
    }
    store_set_error(store, error, "opening store '%s'", path);
    return NULL;
  }
  sqlite3_extended_result_codes(store->db, 1);
  sqlite3_busy_timeout(store->db, BUSY_TIMEOUT_MS);
  if (!store_exec(store, "PRAGMA synchronous = NORMAL", error, "setting synchronous"))
    return NULL;
  /* 32 MiB of pages (SQLite's default is 2 MiB): at 100,000 VMs the
   * indexes a request reads stay in memory instead of being read again
   * from the file at every request. */
  if (!store_exec(store, "PRAGMA cache_size = -32768", error, "setting the cache size"))
    return NULL;
  /* WAL: readers never block the writer. The pragma answers the mode it
   * got; a file system that cannot share memory stays in its old mode. */
  if (sqlite3_prepare_v2(store->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL) != SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_ROW) {
    store_set_error(store, error, "opening store '%s': setting WAL mode", path);
    return NULL;
  }
  if (g_ascii_strcasecmp(col_text(stmt, 0), "wal") != 0)
    g_debug("'%s': journal mode stays '%s', ignoring", path, col_text(stmt, 0));
  g_clear_pointer(&stmt, sqlite3_finalize);
  if (!store_migrate(store, error))
    return NULL;
  if (sqlite3_prepare_v2(store->db, "SELECT value FROM store_meta WHERE key = 'id'", -1, &stmt,
                         NULL) != SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_ROW) {
    store_set_error(store, error, "opening store '%s': reading its id", path);
    return NULL;
  }
  store->id = col_strdup(stmt, 0);
  return g_steal_pointer(&store);
}

void
pp_store_free(PpStore *store)
{
  if (store == NULL)
    return;
  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize(store->stmts[i]);
  for (guint i = 0; i < N_PAGE_STMTS; i++)
    sqlite3_finalize(store->page_stmts[i]);
  if (store->db != NULL) {
    if (store->schema_version > 0)
      sqlite3_exec(store->db, "PRAGMA optimize", NULL, NULL, NULL);
    if (sqlite3_close(store->db) != SQLITE_OK)
      g_debug("'%s': closing: %s, ignoring", store->path, sqlite3_errmsg(store->db));
  }
  if (store->scratch != NULL)
    g_string_free(store->scratch, TRUE);
  g_free(store->path);
  g_free(store->id);
  g_free(store);
}

const char *
pp_store_get_id(PpStore *store)
{
  g_return_val_if_fail(store != NULL, NULL);
  return store->id;
}

int
pp_store_get_schema_version(PpStore *store)
{
  g_return_val_if_fail(store != NULL, 0);
  return store->schema_version;
}

/* ------------------------------------------------------------------------ */
/* Hosts                                                                    */
/* ------------------------------------------------------------------------ */

static const char *const host_state_names[_PP_HOST_STATE_MAX] = {
  [PP_HOST_STATE_INIT] = "init",
  [PP_HOST_STATE_MONITORED] = "monitored",
  [PP_HOST_STATE_ERROR] = "error",
  [PP_HOST_STATE_DISABLED] = "disabled",
};

const char *
pp_host_state_to_string(PpHostState state)
{
  g_return_val_if_fail(state < _PP_HOST_STATE_MAX, NULL);
  return host_state_names[state];
}

/* The schema's CHECK lets only the four names in. */
static PpHostState
host_state_from_string(const char *text)
{
  for (guint i = 0; i < _PP_HOST_STATE_MAX; i++)
    if (text != NULL && strcmp(host_state_names[i], text) == 0)
      return (PpHostState)i;
  g_assert_not_reached();
  return PP_HOST_STATE_ERROR;
}

void
pp_host_free(PpHost *host)
{
  if (host == NULL)
    return;
  g_free(host->name);
  g_free(host->ssh_user);
  g_free(host->ssh_host);
  g_free(host->libvirt_uri);
  g_strfreev(host->probe_command);
  g_free(host->error);
  g_free(host->libvirt_error);
  g_free(host->reported_hostname);
  g_free(host->kernel_version);
  g_free(host);
}

/* The probe command's JSON array back into argv; NULL for NULL or for
 * something that is not an array of strings (the store writes only
 * those). */
static GStrv
probe_command_from_json(const char *text)
{
  g_autoptr(json_t) root = NULL;
  g_autoptr(GStrvBuilder) argv = NULL;
  json_t *arg;
  gsize i;

  if (text == NULL)
    return NULL;
  root = json_loads(text, 0, NULL);
  if (!json_is_array(root))
    return NULL;
  argv = g_strv_builder_new();
  json_array_foreach(root, i, arg)
  {
    if (!json_is_string(arg))
      return NULL;
    g_strv_builder_add(argv, json_string_value(arg));
  }
  return g_strv_builder_end(argv);
}

static char *
probe_command_to_json(const char *const *argv)
{
  g_autoptr(json_t) root = json_array();

  for (guint i = 0; argv[i] != NULL; i++)
    json_array_append_new(root, json_string(argv[i]));
  return json_dumps(root, JSON_COMPACT);
}

static PpHost *
host_from_row(sqlite3_stmt *stmt)
{
  PpHost *host = g_new0(PpHost, 1);

  host->id = sqlite3_column_int64(stmt, 0);
  host->name = col_strdup(stmt, 1);
  host->ssh_user = col_strdup(stmt, 2);
  host->ssh_host = col_strdup(stmt, 3);
  host->ssh_port = sqlite3_column_int(stmt, 4);
  host->libvirt_uri = col_strdup(stmt, 5);
  host->probe_command = probe_command_from_json(col_text(stmt, 6));
  host->state = host_state_from_string(col_text(stmt, 7));
  host->error = col_strdup(stmt, 8);
  host->reported_hostname = col_strdup(stmt, 9);
  host->cpu_count = sqlite3_column_int64(stmt, 10);
  host->memory_kib = sqlite3_column_int64(stmt, 11);
  host->kernel_version = col_strdup(stmt, 12);
  host->last_monitored = sqlite3_column_int64(stmt, 13);
  host->created = sqlite3_column_int64(stmt, 14);
  host->prebound = sqlite3_column_int(stmt, 15) != 0;
  host->pci_total = (guint)sqlite3_column_int64(stmt, 16);
  host->pci_free = (guint)sqlite3_column_int64(stmt, 17);
  host->libvirt_error = col_strdup(stmt, 18);
  return host;
}

/* One host by id; NOT_FOUND names the id. */
static PpHost *
host_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a host"))
    return host_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
  return NULL;
}

/* One host by name: the host, or NULL with @error set only on failure (a
 * missing host is NULL without an error). */
static PpHost *
host_get_by_name(PpStore *store, const char *name, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_GET_BY_NAME, error);

  if (stmt == NULL)
    return NULL;
  bind_text(stmt, 1, name);
  if (stmt_next(store, stmt, error, "reading a host"))
    return host_from_row(stmt);
  return NULL;
}

/* The rules are pp-host-spec's, which the API and the probe runner read
 * too. */
static gboolean
check_host_spec(const PpHostSpec *spec, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!check_name("host", spec->name, error))
    return FALSE;
  if (spec->ssh_user != NULL && spec->ssh_host == NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "host '%s': an ssh user needs an ssh host", spec->name);
    return FALSE;
  }
  if (!pp_host_spec_check_ssh_port(spec->ssh_port, &local) ||
      (spec->ssh_user != NULL && !pp_host_spec_check_ssh_user(spec->ssh_user, &local)) ||
      (spec->ssh_host != NULL && !pp_host_spec_check_ssh_host(spec->ssh_host, &local)) ||
      (spec->libvirt_uri != NULL && !pp_host_spec_check_libvirt_uri(spec->libvirt_uri, &local)) ||
      (spec->probe_command != NULL &&
       !pp_host_spec_check_probe_command(spec->probe_command, &local))) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "host '%s': %s", spec->name,
                local->message);
    return FALSE;
  }
  return TRUE;
}

PpHost *
pp_store_host_create(PpStore *store, const PpHostSpec *spec, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpHost) existing = NULL;
  g_autoptr(PpHost) host = NULL;
  g_autofree char *probe_command = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(spec != NULL, NULL);

  if (!check_host_spec(spec, error))
    return NULL;
  if (spec->probe_command != NULL)
    probe_command = probe_command_to_json(spec->probe_command);

  if (!store_txn_begin(store, &txn, "creating a host", error))
    return NULL;
  existing = host_get_by_name(store, spec->name, &local);
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  if (existing != NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "a host named '%s' exists (id %" G_GINT64_FORMAT ")", spec->name, existing->id);
    return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_INSERT, error);

    if (stmt == NULL)
      return NULL;
    bind_text(stmt, 1, spec->name);
    bind_text(stmt, 2, spec->ssh_user);
    bind_text(stmt, 3, spec->ssh_host);
    sqlite3_bind_int(stmt, 4, spec->ssh_port);
    bind_text(stmt, 5, spec->libvirt_uri);
    bind_text(stmt, 6, probe_command);
    sqlite3_bind_int64(stmt, 7, now);
    sqlite3_bind_int(stmt, 8, spec->prebound ? 1 : 0);
    if (!stmt_run(store, stmt, error, "creating a host"))
      return NULL;
  }
  host = host_get(store, sqlite3_last_insert_rowid(store->db), error);
  if (host == NULL || !store_txn_commit(&txn, "creating a host", error))
    return NULL;
  g_debug("host '%s': created (id %" G_GINT64_FORMAT ")", host->name, host->id);
  return g_steal_pointer(&host);
}

GPtrArray *
pp_store_host_list(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) hosts = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_HOST_LIST, error);
  if (stmt == NULL)
    return NULL;
  hosts = g_ptr_array_new_with_free_func((GDestroyNotify)pp_host_free);
  while (stmt_next(store, stmt, &local, "listing hosts"))
    g_ptr_array_add(hosts, host_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&hosts);
}

PpHost *
pp_store_host_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return host_get(store, id, error);
}

PpHost *
pp_store_host_find(PpStore *store, const char *key, GError **error)
{
  PpHost *host = NULL;
  GError *local = NULL;
  guint64 id;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(key != NULL, NULL);

  /* An id first: "12" is host 12 even when a host is named "12". */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &id, NULL)) {
    host = host_get(store, (gint64)id, &local);
    if (host != NULL)
      return host;
    if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_propagate_error(error, local);
      return NULL;
    }
    g_clear_error(&local);
  }
  if (strlen(key) <= NAME_MAX_LEN) {
    host = host_get_by_name(store, key, &local);
    if (host != NULL)
      return host;
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  {
    g_autofree char *escaped = g_strescape(key, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no host '%s'", escaped);
  }
  return NULL;
}

/* The host's name, for messages, inside a transaction; NOT_FOUND when it
 * is gone. */
static char *
host_name_locked(PpStore *store, gint64 id, gboolean *ret_enabled, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_NAME, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a host")) {
    if (ret_enabled != NULL)
      *ret_enabled = sqlite3_column_int(stmt, 1) != 0;
    return col_strdup(stmt, 0);
  }
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
  return NULL;
}

/* Runs @which, an UPDATE of one host's row (?1: its id) to the flag @value
 * (?2); @what names it for errors and @done for the debug log. One
 * statement: atomic on its own. NOT_FOUND for an unknown id. */
static gboolean
host_set_flag(PpStore *store, StmtId which, gint64 id, gboolean value, const char *what,
              const char *done, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, which, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  sqlite3_bind_int(stmt, 2, value ? 1 : 0);
  if (!stmt_run(store, stmt, error, what))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  g_debug("host %" G_GINT64_FORMAT ": %s", id, done);
  return TRUE;
}

gboolean
pp_store_host_set_enabled(PpStore *store, gint64 id, gboolean enabled, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_flag(store, STMT_HOST_SET_ENABLED, id, enabled,
                       enabled ? "enabling a host" : "disabling a host",
                       enabled ? "enabled" : "disabled", error);
}

gboolean
pp_store_host_set_prebound(PpStore *store, gint64 id, gboolean prebound, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_flag(store, STMT_HOST_SET_PREBOUND, id, prebound,
                       "changing a host's hostdev mode", prebound ? "prebound" : "managed", error);
}

PpHost *
pp_store_host_update(PpStore *store, gint64 id, const PpHostUpdate *update, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpHost) host = NULL;
  g_autofree char *probe_command = NULL;
  PpHostSpec spec = { 0 };

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(update != NULL, NULL);

  if (!store_txn_begin(store, &txn, "changing a host", error))
    return NULL;
  host = host_get(store, id, error);
  if (host == NULL)
    return NULL;
  /* The host as it would be, checked as a new one is: one set of rules. */
  spec.name = host->name;
  spec.ssh_user = update->set_ssh ? update->ssh_user : host->ssh_user;
  spec.ssh_host = update->set_ssh ? update->ssh_host : host->ssh_host;
  spec.ssh_port = update->set_ssh ? update->ssh_port : host->ssh_port;
  spec.libvirt_uri = update->set_libvirt_uri ? update->libvirt_uri : host->libvirt_uri;
  spec.probe_command =
      update->set_probe_command ? update->probe_command : (const char *const *)host->probe_command;
  spec.prebound = update->set_prebound ? update->prebound : host->prebound;
  if (!check_host_spec(&spec, error))
    return NULL;
  if (spec.probe_command != NULL)
    probe_command = probe_command_to_json(spec.probe_command);
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_UPDATE, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, spec.ssh_user);
    bind_text(stmt, 3, spec.ssh_host);
    sqlite3_bind_int(stmt, 4, spec.ssh_port);
    bind_text(stmt, 5, spec.libvirt_uri);
    bind_text(stmt, 6, probe_command);
    sqlite3_bind_int(stmt, 7, spec.prebound ? 1 : 0);
    if (!stmt_run(store, stmt, error, "changing a host"))
      return NULL;
  }
  g_clear_pointer(&host, pp_host_free);
  host = host_get(store, id, error);
  if (host == NULL || !store_txn_commit(&txn, "changing a host", error))
    return NULL;
  g_debug("host '%s': settings changed", host->name);
  return g_steal_pointer(&host);
}

gboolean
pp_store_host_delete(PpStore *store, gint64 id, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;
  g_autoptr(GString) vms = g_string_new(NULL);
  guint n_vms = 0;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "deleting a host", error))
    return FALSE;
  name = host_name_locked(store, id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_HELD_BY, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, id);
    while (stmt_next(store, stmt, &local, "deleting a host")) {
      g_string_append_printf(vms, "%s%" G_GINT64_FORMAT, n_vms > 0 ? ", " : "",
                             (gint64)sqlite3_column_int64(stmt, 0));
      n_vms++;
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (n_vms > 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' has devices held by %s %s; terminate %s first", name,
                n_vms == 1 ? "VM" : "VMs", vms->str, n_vms == 1 ? "it" : "them");
    return FALSE;
  }
  /* VMs on the host without devices reserve its CPU and memory. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_VMS_ON, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, id);
    while (stmt_next(store, stmt, &local, "deleting a host")) {
      g_string_append_printf(vms, "%s%" G_GINT64_FORMAT, n_vms > 0 ? ", " : "",
                             (gint64)sqlite3_column_int64(stmt, 0));
      n_vms++;
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (n_vms > 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "host '%s' has %s %s on it; terminate %s first", name, n_vms == 1 ? "VM" : "VMs",
                vms->str, n_vms == 1 ? "it" : "them");
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_DELETE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, id);
    if (!stmt_run(store, stmt, error, "deleting a host"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "deleting a host", error))
    return FALSE;
  g_debug("host '%s': deleted", name);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Devices                                                                  */
/* ------------------------------------------------------------------------ */

void
pp_store_device_free(PpStoreDevice *dev)
{
  if (dev == NULL)
    return;
  g_free(dev->address);
  g_free(dev->short_address);
  g_free(dev->vendor_name);
  g_free(dev->device_name);
  g_free(dev->class_name);
  g_free(dev->driver);
  g_free(dev->sriov);
  g_free(dev->physfn);
  g_free(dev->host_needs);
  g_free(dev->set_aside);
  g_strfreev(dev->group_endpoints);
  g_free(dev->keys); /* and values: one block (record_from_json()) */
  g_free(dev);
}

/* Appends @text as a JSON string. The report's text is UTF-8 without NUL
 * (the template parser checks), so only quotes, backslashes and control
 * characters need escapes. */
static void
json_append_string(GString *out, const char *text)
{
  const char *run = text;

  g_string_append_c(out, '"');
  for (const char *p = text; *p != '\0'; p++) {
    guchar c = (guchar)*p;

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    g_string_append_len(out, run, p - run);
    if (c == '"' || c == '\\') {
      g_string_append_c(out, '\\');
      g_string_append_c(out, (char)c);
    } else {
      g_string_append_printf(out, "\\u%04x", c);
    }
    run = p + 1;
  }
  g_string_append(out, run);
  g_string_append_c(out, '"');
}

/* The record as a JSON object, keys in order (the attributes column). */
static void
record_append_json(GString *out, const char *const *keys, const char *const *values)
{
  g_string_append_c(out, '{');
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
    if (i > 0)
      g_string_append_c(out, ',');
    json_append_string(out, keys[i]);
    g_string_append_c(out, ':');
    json_append_string(out, values[i]);
  }
  g_string_append_c(out, '}');
}

char *
pp_store_test_record_to_json(const char *const *keys, const char *const *values)
{
  GString *out = g_string_new(NULL);

  record_append_json(out, keys, values);
  return g_string_free(out, FALSE);
}

/* The byte of two hex digits (of a "\\u00XX" escape). */
static int
control_char(const char *hex)
{
  return g_ascii_xdigit_value(hex[0]) * 16 + g_ascii_xdigit_value(hex[1]);
}

/* Appends the JSON string at *@at, as json_append_string() writes it
 * (escapes only for '"', '\\' and U+0001..U+001F), to @out with its NUL,
 * moving *@at past it. FALSE for anything else. */
static gboolean
record_string_fast(const char **at, GString *out)
{
  const char *p = *at;
  const char *run;

  if (*p != '"')
    return FALSE;
  run = ++p;
  for (;;) {
    while ((guchar)*p >= 0x20 && *p != '"' && *p != '\\')
      p++;
    g_string_append_len(out, run, p - run);
    if (*p == '"')
      break;
    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
      g_string_append_c(out, p[1]);
      p += 2;
    } else if (*p == '\\' && p[1] == 'u' && p[2] == '0' && p[3] == '0' && g_ascii_isxdigit(p[4]) &&
               g_ascii_isxdigit(p[5]) && control_char(p + 4) > 0 && control_char(p + 4) < 0x20) {
      g_string_append_c(out, (char)control_char(p + 4));
      p += 6;
    } else {
      return FALSE;
    }
    run = p;
  }
  g_string_append_c(out, '\0');
  *at = p + 1;
  return TRUE;
}

/* Whether @buf's first @n key/value pairs have the key that starts at
 * @key. */
static gboolean
record_has_key(const GString *buf, guint n, const char *key)
{
  const char *p = buf->str;

  for (guint i = 0; i < n; i++) {
    if (strcmp(p, key) == 0)
      return TRUE;
    p += strlen(p) + 1;
    p += strlen(p) + 1;
  }
  return FALSE;
}

/* The attributes column as record_append_json() writes it, into @buf as
 * "key\0value\0..." with the pair count in @ret_n: FALSE for anything
 * else (blanks, other escapes, a repeated key, not UTF-8), which jansson
 * then reads. Several times faster than jansson: the scheduler reads
 * every device of the cluster each pass. */
static gboolean
record_from_json_fast(const char *text, GString *buf, guint *ret_n)
{
  const char *p = text;
  guint n = 0;

  if (*p++ != '{' || !g_utf8_validate(text, -1, NULL))
    return FALSE;
  if (*p != '}') {
    for (;;) {
      gsize key_at = buf->len;

      if (!record_string_fast(&p, buf) || record_has_key(buf, n, buf->str + key_at) ||
          *p++ != ':' || !record_string_fast(&p, buf))
        return FALSE;
      n++;
      if (*p == '}')
        break;
      if (*p++ != ',')
        return FALSE;
    }
  }
  if (p[1] != '\0')
    return FALSE;
  *ret_n = n;
  return TRUE;
}

/* The attributes column back into keys and values (insertion order: jansson
 * keeps it). Something that is not an object of strings reads as empty.
 * Both vectors and their strings are one allocation, at *@ret_keys (one
 * malloc a device, not thirty): pp_store_device_free() frees only that. */
static void
record_from_json(const char *text, GStrv *ret_keys, GStrv *ret_values)
{
  g_autoptr(GString) buf = g_string_sized_new(text != NULL ? strlen(text) : 0);
  guint n = 0;
  char **block;
  char *data;
  const char *p;

  if (text != NULL && !record_from_json_fast(text, buf, &n)) {
    g_autoptr(json_t) root = json_loads(text, 0, NULL);
    const char *key;
    json_t *value;

    g_string_truncate(buf, 0);
    n = 0;
    if (json_is_object(root)) {
      json_object_foreach(root, key, value)
      {
        if (!json_is_string(value))
          continue;
        g_string_append_len(buf, key, (gssize)strlen(key) + 1);
        g_string_append_len(buf, json_string_value(value),
                            (gssize)strlen(json_string_value(value)) + 1);
        n++;
      }
    }
  }
  block = g_malloc(sizeof(char *) * 2 * (n + 1) + buf->len);
  data = (char *)(block + 2 * (n + 1));
  memcpy(data, buf->str, buf->len);
  p = data;
  for (guint i = 0; i < n; i++) {
    block[i] = (char *)p;
    p += strlen(p) + 1;
    block[n + 1 + i] = (char *)p;
    p += strlen(p) + 1;
  }
  block[n] = NULL;
  block[2 * n + 1] = NULL;
  *ret_keys = block;
  *ret_values = block + n + 1;
}

static PpStoreDevice *
device_from_row(sqlite3_stmt *stmt)
{
  PpStoreDevice *dev = g_new0(PpStoreDevice, 1);

  dev->id = sqlite3_column_int64(stmt, DCOL_ID);
  dev->host_id = sqlite3_column_int64(stmt, DCOL_HOST_ID);
  dev->address = col_strdup(stmt, DCOL_ADDRESS);
  dev->short_address = col_strdup(stmt, DCOL_SHORT_ADDRESS);
  dev->vendor = (guint16)sqlite3_column_int(stmt, DCOL_VENDOR);
  dev->device = (guint16)sqlite3_column_int(stmt, DCOL_DEVICE);
  dev->class_code = (guint16)sqlite3_column_int(stmt, DCOL_CLASS);
  dev->vendor_name = col_strdup(stmt, DCOL_VENDOR_NAME);
  dev->device_name = col_strdup(stmt, DCOL_DEVICE_NAME);
  dev->class_name = col_strdup(stmt, DCOL_CLASS_NAME);
  dev->numa_node = sqlite3_column_int(stmt, DCOL_NUMA_NODE);
  dev->iommu_group = sqlite3_column_int(stmt, DCOL_IOMMU_GROUP);
  dev->driver = col_strdup(stmt, DCOL_DRIVER);
  dev->sriov = col_strdup(stmt, DCOL_SRIOV);
  dev->physfn = col_strdup(stmt, DCOL_PHYSFN);
  dev->vm_id = sqlite3_column_int64(stmt, DCOL_VM_ID); /* NULL reads as 0 */
  dev->vm_slot = sqlite3_column_type(stmt, DCOL_VM_SLOT) == SQLITE_NULL
                     ? -1
                     : sqlite3_column_int(stmt, DCOL_VM_SLOT);
  dev->gone = sqlite3_column_int(stmt, DCOL_GONE) != 0;
  dev->host_needs = col_strdup(stmt, DCOL_HOST_NEEDS);
  dev->set_aside = col_strdup(stmt, DCOL_SET_ASIDE);
  dev->allowed = sqlite3_column_int(stmt, DCOL_ALLOWED) != 0;
  /* Checked and canonical when written (pp_probe_report_parse()). */
  if (sqlite3_column_type(stmt, DCOL_GROUP_ENDPOINTS) != SQLITE_NULL)
    dev->group_endpoints = g_strsplit(col_text(stmt, DCOL_GROUP_ENDPOINTS), ",", -1);
  record_from_json(col_text(stmt, DCOL_ATTRIBUTES), &dev->keys, &dev->values);
  return dev;
}

/* Reads one row of a query into a new object. */
typedef gpointer (*RowReader)(sqlite3_stmt *stmt);

/* The rows of query @id (?1 bound to @param, unless 0), each read by @read,
 * in the query's order; @what words an error. Returns: (transfer full):
 * an array that frees them with @free_func, or %NULL with @error. */
static GPtrArray *
rows_list(PpStore *store, StmtId id, gint64 param, RowReader read, GDestroyNotify free_func,
          const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, id, error);
  g_autoptr(GPtrArray) rows = NULL;
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  if (param != 0)
    sqlite3_bind_int64(stmt, 1, param);
  rows = g_ptr_array_new_with_free_func(free_func);
  while (stmt_next(store, stmt, &local, what))
    g_ptr_array_add(rows, read(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&rows);
}

/* RowReaders of the rows the store reads elsewhere too. */
static gpointer
device_row(sqlite3_stmt *stmt)
{
  return device_from_row(stmt);
}

static GPtrArray *
device_list(PpStore *store, StmtId id, gint64 param, const char *what, GError **error)
{
  return rows_list(store, id, param, device_row, (GDestroyNotify)pp_store_device_free, what, error);
}

GPtrArray *
pp_store_host_list_devices(PpStore *store, gint64 host_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *name = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  /* Outside a transaction each statement sees its own snapshot; the host
   * check and the list need not agree to the instant. */
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return NULL;
  stmt = store_stmt(store, STMT_DEV_LIST, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, host_id);
  devices = g_ptr_array_new_with_free_func((GDestroyNotify)pp_store_device_free);
  while (stmt_next(store, stmt, &local, "listing devices"))
    g_ptr_array_add(devices, device_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    g_prefix_error(error, "host '%s': ", name);
    return NULL;
  }
  return g_steal_pointer(&devices);
}

/* Binds a probe record's fields to ?2..?17 of DEV_INSERT / DEV_UPDATE;
 * @endpoints: its group_endpoints joined (endpoints_text()). */
static void
bind_device(sqlite3_stmt *stmt, const PpProbeDevice *dev, const char *json, gsize json_len,
            const char *endpoints)
{
  bind_text(stmt, 2, dev->bdf);
  bind_text(stmt, 3, dev->short_address);
  sqlite3_bind_int(stmt, 4, dev->vendor);
  sqlite3_bind_int(stmt, 5, dev->device);
  sqlite3_bind_int(stmt, 6, dev->class_code);
  bind_text(stmt, 7, dev->vendor_name);
  bind_text(stmt, 8, dev->device_name);
  bind_text(stmt, 9, dev->class_name);
  sqlite3_bind_int(stmt, 10, dev->numa_node);
  sqlite3_bind_int(stmt, 11, dev->iommu_group);
  bind_text(stmt, 12, dev->driver);
  bind_text(stmt, 13, dev->sriov);
  bind_text(stmt, 14, dev->physfn);
  sqlite3_bind_text(stmt, 15, json, (int)json_len, SQLITE_STATIC);
  bind_text(stmt, 16, dev->host_needs);
  bind_text(stmt, 17, endpoints);
}

/* The group_endpoints column of a record: its addresses comma-separated.
 * Returns: (transfer full) (nullable): NULL when it has none. */
static char *
endpoints_text(const PpProbeDevice *dev)
{
  return dev->group_endpoints != NULL ? g_strjoinv(",", dev->group_endpoints) : NULL;
}

static gboolean
col_equal(sqlite3_stmt *stmt, int col, const char *text)
{
  const char *have = col_text(stmt, col);

  if (have == NULL || text == NULL)
    return have == NULL && text == NULL;
  return strcmp(have, text) == 0;
}

/* Whether the row (a DEVICE_COLUMNS row) already says what the record
 * says, gone flag included: then it needs no write. */
static gboolean
device_row_matches(sqlite3_stmt *stmt, const PpProbeDevice *dev, const char *json, gsize json_len,
                   const char *endpoints)
{
  return sqlite3_column_int(stmt, DCOL_GONE) == 0 &&
         col_equal(stmt, DCOL_GROUP_ENDPOINTS, endpoints) &&
         sqlite3_column_type(stmt, DCOL_SET_ASIDE) == SQLITE_NULL &&
         col_equal(stmt, DCOL_HOST_NEEDS, dev->host_needs) &&
         sqlite3_column_int(stmt, DCOL_VENDOR) == dev->vendor &&
         sqlite3_column_int(stmt, DCOL_DEVICE) == dev->device &&
         sqlite3_column_int(stmt, DCOL_CLASS) == dev->class_code &&
         sqlite3_column_int(stmt, DCOL_NUMA_NODE) == dev->numa_node &&
         sqlite3_column_int(stmt, DCOL_IOMMU_GROUP) == dev->iommu_group &&
         (gsize)sqlite3_column_bytes(stmt, DCOL_ATTRIBUTES) == json_len &&
         memcmp(col_text(stmt, DCOL_ATTRIBUTES), json, json_len) == 0 &&
         col_equal(stmt, DCOL_SHORT_ADDRESS, dev->short_address) &&
         col_equal(stmt, DCOL_VENDOR_NAME, dev->vendor_name) &&
         col_equal(stmt, DCOL_DEVICE_NAME, dev->device_name) &&
         col_equal(stmt, DCOL_CLASS_NAME, dev->class_name) &&
         col_equal(stmt, DCOL_DRIVER, dev->driver) && col_equal(stmt, DCOL_SRIOV, dev->sriov) &&
         col_equal(stmt, DCOL_PHYSFN, dev->physfn);
}

/* A known row the report lacks. */
typedef struct {
  gint64 id;
  gboolean held;
  gboolean gone;
} MissingRow;

/* A known row the report has, with something changed. */
typedef struct {
  gint64 id;
  guint index; /* in the report */
} ChangedRow;

/* The body of pp_store_host_reconcile(), inside its transaction;
 * @report_hash: what hosts.report_hash becomes (NULL: a pulled report). */
static gboolean
reconcile_locked(PpStore *store, gint64 host_id, const char *name, const PpProbeReport *report,
                 const char *report_hash, gint64 now, PpReconcileStats *stats, GError **error)
{
  GPtrArray *devices = report->devices;
  g_autoptr(GPtrArray) endpoints = g_ptr_array_new_full(devices->len, g_free);
  g_autoptr(GHashTable) by_address = g_hash_table_new(g_str_hash, g_str_equal);
  g_autofree gsize *json_at = g_new(gsize, devices->len + 1);
  g_autofree gboolean *known = g_new0(gboolean, devices->len);
  g_autoptr(GArray) missing = g_array_new(FALSE, FALSE, sizeof(MissingRow));
  g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(ChangedRow));
  GString *json = store->scratch;
  GError *local = NULL;

  /* Each record's JSON, one after the other in the scratch buffer. */
  g_string_truncate(json, 0);
  for (guint i = 0; i < devices->len; i++) {
    const PpProbeDevice *dev = g_ptr_array_index(devices, i);

    json_at[i] = json->len;
    record_append_json(json, (const char *const *)dev->keys, (const char *const *)dev->values);
    g_hash_table_insert(by_address, dev->bdf, GUINT_TO_POINTER(i + 1));
    g_ptr_array_add(endpoints, endpoints_text(dev));
  }
  json_at[devices->len] = json->len;

  /* What the store has, against the report. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_LIST, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, host_id);
    while (stmt_next(store, stmt, &local, "reading the inventory")) {
      gint64 id = sqlite3_column_int64(stmt, DCOL_ID);
      guint i = GPOINTER_TO_UINT(g_hash_table_lookup(by_address, col_text(stmt, DCOL_ADDRESS)));

      if (i == 0) {
        MissingRow row = { id, sqlite3_column_type(stmt, DCOL_VM_ID) != SQLITE_NULL,
                           sqlite3_column_int(stmt, DCOL_GONE) != 0 };

        g_array_append_val(missing, row);
        continue;
      }
      i--;
      known[i] = TRUE;
      stats->updated++;
      if (!device_row_matches(stmt, g_ptr_array_index(devices, i), json->str + json_at[i],
                              json_at[i + 1] - json_at[i], g_ptr_array_index(endpoints, i))) {
        ChangedRow row = { id, i };

        g_array_append_val(changed, row);
      }
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }

  /* Refresh what changed, clearing gone. */
  if (changed->len > 0) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_UPDATE, error);

    if (stmt == NULL)
      return FALSE;
    for (guint k = 0; k < changed->len; k++) {
      const ChangedRow *row = &g_array_index(changed, ChangedRow, k);
      guint i = row->index;

      sqlite3_bind_int64(stmt, 1, row->id);
      bind_device(stmt, g_ptr_array_index(devices, i), json->str + json_at[i],
                  json_at[i + 1] - json_at[i], g_ptr_array_index(endpoints, i));
      if (!stmt_run(store, stmt, error, "refreshing a device"))
        return FALSE;
      sqlite3_reset(stmt);
    }
  }

  /* Add what is new. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_INSERT, error);

    if (stmt == NULL)
      return FALSE;
    for (guint i = 0; i < devices->len; i++) {
      const PpProbeDevice *dev = g_ptr_array_index(devices, i);

      if (known[i])
        continue;
      sqlite3_bind_int64(stmt, 1, host_id);
      bind_device(stmt, dev, json->str + json_at[i], json_at[i + 1] - json_at[i],
                  g_ptr_array_index(endpoints, i));
      if (!stmt_run(store, stmt, error, "adding a device")) {
        g_prefix_error(error, "%s: ", dev->bdf);
        return FALSE;
      }
      sqlite3_reset(stmt);
      stats->added++;
    }
  }

  /* Drop what vanished while free; flag what vanished while held. */
  for (guint k = 0; k < missing->len; k++) {
    const MissingRow *row = &g_array_index(missing, MissingRow, k);

    if (!row->held) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_DELETE, error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64(stmt, 1, row->id);
      if (!stmt_run(store, stmt, error, "removing a device"))
        return FALSE;
      stats->removed++;
      continue;
    }
    stats->flagged++;
    if (!row->gone) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_FLAG_GONE, error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64(stmt, 1, row->id);
      if (!stmt_run(store, stmt, error, "flagging a device gone"))
        return FALSE;
      g_debug("host '%s': device %" G_GINT64_FORMAT " is gone while a VM holds it", name, row->id);
    }
  }

  /* The host's facts and state. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_SET_FACTS, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, host_id);
    bind_text(stmt, 2, report->hostname);
    sqlite3_bind_int64(stmt, 3, report->cpu_count);
    sqlite3_bind_int64(stmt, 4, report->memory_kib);
    bind_text(stmt, 5, report->kernel_version);
    sqlite3_bind_int64(stmt, 6, now);
    bind_text(stmt, 7, report_hash);
    if (!stmt_run(store, stmt, error, "recording the host's facts"))
      return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_host_reconcile(PpStore *store, gint64 host_id, const PpProbeReport *report, gint64 now,
                        PpReconcileStats *ret_stats, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;
  PpReconcileStats stats = { 0 };

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(report != NULL && report->devices != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "reconciling a host", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  if (!reconcile_locked(store, host_id, name, report, NULL, now, &stats, error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  if (!store_txn_commit(&txn, "reconciling a host", error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  g_debug("host '%s': %u added, %u refreshed, %u removed, %u gone while held", name, stats.added,
          stats.updated, stats.removed, stats.flagged);
  if (ret_stats != NULL)
    *ret_stats = stats;
  return TRUE;
}

gboolean
pp_store_host_ingest(PpStore *store, gint64 host_id, const char *text, gsize len, gint64 now,
                     PpIngestResult *ret_result, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(GChecksum) checksum = NULL;
  g_autoptr(PpProbeReport) report = NULL;
  g_autofree char *name = NULL;
  PpIngestResult result = { 0 };
  const char *hash;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(text != NULL || len == 0, FALSE);

  checksum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(checksum, (const guchar *)(text != NULL ? text : ""), (gssize)len);
  hash = g_checksum_get_string(checksum);

  /* The cheap path: one indexed read, no write, no parse. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_REPORT_STATE, error);
    GError *local = NULL;

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, host_id);
    if (!stmt_next(store, stmt, &local, "reading a host's last report")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                    "no host with id %" G_GINT64_FORMAT, host_id);
      return FALSE;
    }
    if (col_equal(stmt, 0, hash) && sqlite3_column_int(stmt, 1) != 0 &&
        sqlite3_column_int(stmt, 2) == 0) {
      if (ret_result != NULL)
        *ret_result = result;
      return TRUE;
    }
  }

  report = pp_probe_report_parse(text, len, error);
  if (report == NULL)
    return FALSE;
  result.changed = TRUE;
  result.devices = report->devices->len;
  if (!store_txn_begin(store, &txn, "ingesting a report", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  if (!reconcile_locked(store, host_id, name, report, hash, now, &result.stats, error) ||
      !store_txn_commit(&txn, "ingesting a report", error)) {
    g_prefix_error(error, "host '%s': ", name);
    return FALSE;
  }
  g_debug("host '%s': pushed report: %u added, %u refreshed, %u removed, %u gone while held", name,
          result.stats.added, result.stats.updated, result.stats.removed, result.stats.flagged);
  if (ret_result != NULL)
    *ret_result = result;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Host report tokens                                                       */
/* ------------------------------------------------------------------------ */

void
pp_host_token_free(PpHostToken *token)
{
  if (token == NULL)
    return;
  g_free(token->host_name);
  g_free(token);
}

static PpHostToken *
host_token_from_row(sqlite3_stmt *stmt)
{
  PpHostToken *token = g_new0(PpHostToken, 1);

  token->host_id = sqlite3_column_int64(stmt, 0);
  token->host_name = col_strdup(stmt, 1);
  token->created = sqlite3_column_int64(stmt, 2);
  token->last_used = sqlite3_column_int64(stmt, 3); /* NULL reads as 0: never */
  return token;
}

static gboolean check_token_hash(const char *hash, GError **error);

gboolean
pp_store_host_token_set(PpStore *store, gint64 host_id, const char *hash, gint64 now,
                        GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!check_token_hash(hash, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "making a host's report token", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_SET, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, host_id);
    bind_text(stmt, 2, hash);
    sqlite3_bind_int64(stmt, 3, now);
    if (!stmt_run(store, stmt, error, "making a host's report token")) {
      g_prefix_error(error, "host '%s': ", name);
      return FALSE;
    }
  }
  if (!store_txn_commit(&txn, "making a host's report token", error))
    return FALSE;
  g_debug("host '%s': report token made", name);
  return TRUE;
}

gboolean
pp_store_host_token_delete(PpStore *store, gint64 host_id, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *name = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "revoking a host's report token", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_DELETE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, host_id);
    if (!stmt_run(store, stmt, error, "revoking a host's report token"))
      return FALSE;
    if (sqlite3_changes(store->db) == 0) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "host '%s' has no report token",
                  name);
      return FALSE;
    }
  }
  if (!store_txn_commit(&txn, "revoking a host's report token", error))
    return FALSE;
  g_debug("host '%s': report token revoked", name);
  return TRUE;
}

PpHostToken *
pp_store_host_token_authenticate(PpStore *store, const char *hash, gint64 now, GError **error)
{
  g_autoptr(PpHostToken) token = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (!check_token_hash(hash, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such host token");
    return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_BY_HASH, error);

    if (stmt == NULL)
      return NULL;
    bind_text(stmt, 1, hash);
    if (!stmt_next(store, stmt, &local, "authenticating a host token")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such host token");
      return NULL;
    }
    token = host_token_from_row(stmt);
  }
  /* A write a minute at most per host, however often it pushes: the
   * cheap path of an unchanged report stays one read. */
  if (now - token->last_used >= 60) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_TOKEN_TOUCH, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, token->host_id);
    sqlite3_bind_int64(stmt, 2, now);
    if (!stmt_run(store, stmt, error, "authenticating a host token"))
      return NULL;
    token->last_used = now;
  }
  return g_steal_pointer(&token);
}

static gpointer
host_token_row(sqlite3_stmt *stmt)
{
  return host_token_from_row(stmt);
}

GPtrArray *
pp_store_host_token_list(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);

  return rows_list(store, STMT_HOST_TOKEN_LIST, 0, host_token_row,
                   (GDestroyNotify)pp_host_token_free, "listing host report tokens", error);
}

/* Records a host's probe or libvirt failure (@id: STMT_HOST_SET_ERROR or
 * STMT_HOST_SET_LIBVIRT; ?1 the host, ?2 the message, ?3, when it has
 * one, @now): words of another machine, bounded and made UTF-8. */
static gboolean
host_set_failure(PpStore *store, StmtId id, gint64 host_id, const char *message, gint64 now,
                 const char *what, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, id, error);
  g_autofree char *text = NULL;

  if (stmt == NULL)
    return FALSE;
  if (message != NULL)
    text = g_utf8_make_valid(message, MIN(strlen(message), HOST_ERROR_MAX_LEN));
  sqlite3_bind_int64(stmt, 1, host_id);
  bind_text(stmt, 2, text);
  if (sqlite3_bind_parameter_count(stmt) >= 3)
    sqlite3_bind_int64(stmt, 3, now);
  if (!stmt_run(store, stmt, error, what))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no host with id %" G_GINT64_FORMAT, host_id);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_host_set_error(PpStore *store, gint64 host_id, const char *message, gint64 now,
                        GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(message != NULL, FALSE);

  return host_set_failure(store, STMT_HOST_SET_ERROR, host_id, message, now,
                          "recording a probe's failure", error);
}

gboolean
pp_store_host_set_libvirt_error(PpStore *store, gint64 host_id, const char *message, GError **error)
{
  g_return_val_if_fail(store != NULL, FALSE);

  return host_set_failure(store, STMT_HOST_SET_LIBVIRT, host_id, message, 0,
                          "recording a libvirt check", error);
}

/* ------------------------------------------------------------------------ */
/* Needed devices allowed on purpose, devices set aside                     */
/* ------------------------------------------------------------------------ */

void
pp_host_allowance_free(PpHostAllowance *allowance)
{
  if (allowance == NULL)
    return;
  g_free(allowance->address);
  g_free(allowance->by);
  g_free(allowance);
}

/* @address in the store's form (0000:00:1f.0) into @buf; INVALID names
 * what was given. */
static gboolean
normalize_address(const char *address, char buf[PP_PCI_ADDRESS_BUFSIZE], GError **error)
{
  PpPciAddress parsed;
  g_autoptr(GError) local = NULL;

  if (address == NULL || !pp_pci_address_parse(address, &parsed, &local)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID, "%s",
                local != NULL ? local->message : "no PCI address");
    return FALSE;
  }
  pp_pci_address_format(&parsed, buf);
  return TRUE;
}

gboolean
pp_store_host_allow(PpStore *store, gint64 host_id, const char *address, const char *by, gint64 now,
                    GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *name = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(by != NULL, FALSE);

  if (!normalize_address(address, bdf, error) ||
      !check_field("who allowed it", by, NAME_MAX_LEN, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "allowing a needed device", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  stmt = store_stmt(store, STMT_ALLOW_INSERT, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, host_id);
  bind_text(stmt, 2, bdf);
  bind_text(stmt, 3, by);
  sqlite3_bind_int64(stmt, 4, now);
  if (!stmt_run(store, stmt, error, "allowing a needed device") ||
      !store_txn_commit(&txn, "allowing a needed device", error))
    return FALSE;
  g_debug("host '%s': %s allowed by '%s'", name, bdf, by);
  return TRUE;
}

gboolean
pp_store_host_disallow(PpStore *store, gint64 host_id, const char *address, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *name = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);

  if (!normalize_address(address, bdf, error))
    return FALSE;
  if (!store_txn_begin(store, &txn, "taking back an allowance", error))
    return FALSE;
  name = host_name_locked(store, host_id, NULL, error);
  if (name == NULL)
    return FALSE;
  stmt = store_stmt(store, STMT_ALLOW_DELETE, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, host_id);
  bind_text(stmt, 2, bdf);
  if (!stmt_run(store, stmt, error, "taking back an allowance"))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "host '%s' has no allowance for %s", name, bdf);
    return FALSE;
  }
  return store_txn_commit(&txn, "taking back an allowance", error);
}

static gpointer
allowance_from_row(sqlite3_stmt *stmt)
{
  PpHostAllowance *a = g_new0(PpHostAllowance, 1);

  a->address = col_strdup(stmt, 0);
  a->by = col_strdup(stmt, 1);
  a->created = sqlite3_column_int64(stmt, 2);
  return a;
}

GPtrArray *
pp_store_host_list_allowances(PpStore *store, gint64 host_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return rows_list(store, STMT_ALLOW_LIST, host_id, allowance_from_row,
                   (GDestroyNotify)pp_host_allowance_free, "listing a host's allowances", error);
}

gboolean
pp_store_device_set_aside(PpStore *store, gint64 host_id, const char *address, const char *reason,
                          GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *text = NULL;
  char bdf[PP_PCI_ADDRESS_BUFSIZE];

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(reason != NULL, FALSE);

  if (!normalize_address(address, bdf, error))
    return FALSE;
  text = vm_reason_text(reason);
  stmt = store_stmt(store, STMT_DEV_SET_ASIDE, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, host_id);
  bind_text(stmt, 2, bdf);
  bind_text(stmt, 3, text);
  if (!stmt_run(store, stmt, error, "setting a device aside"))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "host %" G_GINT64_FORMAT " has no device %s", host_id, bdf);
    return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Users and tokens                                                         */
/* ------------------------------------------------------------------------ */

void
pp_user_free(PpUser *user)
{
  if (user == NULL)
    return;
  g_free(user->name);
  g_free(user);
}

void
pp_token_free(PpToken *token)
{
  if (token == NULL)
    return;
  g_free(token->user_name);
  g_free(token->name);
  g_free(token);
}

static PpUser *
user_from_row(sqlite3_stmt *stmt)
{
  PpUser *user = g_new0(PpUser, 1);

  user->id = sqlite3_column_int64(stmt, 0);
  user->name = col_strdup(stmt, 1);
  user->admin = sqlite3_column_int(stmt, 2) != 0;
  user->created = sqlite3_column_int64(stmt, 3);
  return user;
}

static PpToken *
token_from_row(sqlite3_stmt *stmt)
{
  PpToken *token = g_new0(PpToken, 1);

  token->id = sqlite3_column_int64(stmt, 0);
  token->user_id = sqlite3_column_int64(stmt, 1);
  token->user_name = col_strdup(stmt, 2);
  token->name = col_strdup(stmt, 3);
  token->created = sqlite3_column_int64(stmt, 4);
  token->last_used = sqlite3_column_int64(stmt, 5);
  token->expires = sqlite3_column_int64(stmt, 6); /* NULL reads as 0: never */
  return token;
}

/* A user by id (@name NULL) or by name: the user, or NULL with NOT_FOUND. */
static PpUser *
user_lookup(PpStore *store, gint64 id, const char *name, GError **error)
{
  g_autoptr(StoreStmt) stmt =
      store_stmt(store, name ? STMT_USER_GET_BY_NAME : STMT_USER_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  if (name != NULL)
    bind_text(stmt, 1, name);
  else
    sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a user"))
    return user_from_row(stmt);
  if (local != NULL) {
    g_propagate_error(error, local);
  } else if (name != NULL) {
    g_autofree char *escaped = g_strescape(name, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no user '%s'", escaped);
  } else {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no user with id %" G_GINT64_FORMAT, id);
  }
  return NULL;
}

PpUser *
pp_store_user_create(PpStore *store, const char *name, gboolean admin, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (!check_name("user", name, error))
    return NULL;
  if (!store_txn_begin(store, &txn, "creating a user", error))
    return NULL;
  user = user_lookup(store, 0, name, &local);
  if (user != NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "a user named '%s' exists (id %" G_GINT64_FORMAT ")", name, user->id);
    return NULL;
  }
  if (!g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
    g_propagate_error(error, local);
    return NULL;
  }
  g_clear_error(&local);
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_INSERT, error);

    if (stmt == NULL)
      return NULL;
    bind_text(stmt, 1, name);
    sqlite3_bind_int(stmt, 2, admin ? 1 : 0);
    sqlite3_bind_int64(stmt, 3, now);
    if (!stmt_run(store, stmt, error, "creating a user"))
      return NULL;
  }
  user = user_lookup(store, sqlite3_last_insert_rowid(store->db), NULL, error);
  if (user == NULL || !store_txn_commit(&txn, "creating a user", error))
    return NULL;
  g_debug("user '%s': created (id %" G_GINT64_FORMAT ")", user->name, user->id);
  return g_steal_pointer(&user);
}

PpUser *
pp_store_user_find(PpStore *store, const char *name, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(name != NULL, NULL);
  return user_lookup(store, 0, name, error);
}

PpUser *
pp_store_user_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return user_lookup(store, id, NULL, error);
}

GPtrArray *
pp_store_user_list(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) users = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_USER_LIST, error);
  if (stmt == NULL)
    return NULL;
  users = g_ptr_array_new_with_free_func((GDestroyNotify)pp_user_free);
  while (stmt_next(store, stmt, &local, "listing users"))
    g_ptr_array_add(users, user_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&users);
}

static char *ids_text(const GArray *ids);

gboolean
pp_store_user_delete(PpStore *store, gint64 user_id, guint *ret_vms, guint *ret_tokens,
                     GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(gint64));
  GError *local = NULL;
  guint vms, tokens;

  g_return_val_if_fail(store != NULL, FALSE);

  if (!store_txn_begin(store, &txn, "deleting a user", error))
    return FALSE;
  user = user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_VMS_NOT_DONE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, user_id);
    while (stmt_next(store, stmt, &local, "deleting a user: reading its VMs")) {
      gint64 id = sqlite3_column_int64(stmt, 0);

      g_array_append_val(live, id);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  if (live->len > 0) {
    g_autofree char *list = ids_text(live);

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "user '%s' owns %s %s that %s not done; terminate %s first (pcipass vm terminate)",
                user->name, live->len == 1 ? "VM" : "VMs", list, live->len == 1 ? "is" : "are",
                live->len == 1 ? "it" : "them");
    return FALSE;
  }
  {
    static const StmtId steps[] = { STMT_USER_DELETE_DONE_VMS, STMT_USER_DELETE_TOKENS,
                                    STMT_USER_DELETE };
    guint changed[G_N_ELEMENTS(steps)];

    for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
      g_autoptr(StoreStmt) stmt = store_stmt(store, steps[i], error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64(stmt, 1, user_id);
      if (!stmt_run(store, stmt, error, "deleting a user"))
        return FALSE;
      changed[i] = (guint)sqlite3_changes(store->db);
    }
    vms = changed[0];
    tokens = changed[1];
  }
  if (!store_txn_commit(&txn, "deleting a user", error))
    return FALSE;
  g_debug("user '%s' (id %" G_GINT64_FORMAT "): deleted with %u done VMs and %u tokens", user->name,
          user_id, vms, tokens);
  if (ret_vms != NULL)
    *ret_vms = vms;
  if (ret_tokens != NULL)
    *ret_tokens = tokens;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Quotas                                                                   */
/* ------------------------------------------------------------------------ */

void
pp_quota_free(PpQuota *quota)
{
  if (quota == NULL)
    return;
  if (quota->classes != NULL)
    g_array_unref(quota->classes);
  g_free(quota);
}

static gint64
col_limit(sqlite3_stmt *stmt, int col)
{
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return PP_QUOTA_NONE;
  return sqlite3_column_int64(stmt, col);
}

/* User @user_id's limits and what its VMs that are not done hold, VM
 * @leave_out's use left out (0: none); the user must exist. */
static PpQuota *
quota_read(PpStore *store, gint64 user_id, gint64 leave_out, GError **error)
{
  g_autoptr(PpQuota) quota = g_new0(PpQuota, 1);
  GError *local = NULL;

  quota->classes = g_array_new(FALSE, TRUE, sizeof(PpQuotaClass));
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_QUOTA, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    if (!stmt_next(store, stmt, &local, "reading a user's quotas")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                    "no user with id %" G_GINT64_FORMAT, user_id);
      return NULL;
    }
    quota->vms.limit = col_limit(stmt, 0);
    quota->cpu.limit = col_limit(stmt, 1);
    quota->memory_kib.limit = col_limit(stmt, 2);
    quota->pci.limit = col_limit(stmt, 3);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_USAGE, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    sqlite3_bind_int64(stmt, 2, leave_out);
    if (!stmt_next(store, stmt, error, "reading what a user's VMs hold"))
      return NULL;
    quota->vms.used = sqlite3_column_int64(stmt, 0);
    quota->cpu.used = sqlite3_column_int64(stmt, 1);
    quota->memory_kib.used = sqlite3_column_int64(stmt, 2);
    quota->pci.used = sqlite3_column_int64(stmt, 3);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_CLASS_USAGE, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    sqlite3_bind_int64(stmt, 2, leave_out);
    while (stmt_next(store, stmt, &local, "reading what a user's VMs hold")) {
      PpQuotaClass c = { (guint16)sqlite3_column_int(stmt, 0), col_limit(stmt, 1),
                         sqlite3_column_int64(stmt, 2) };

      g_array_append_val(quota->classes, c);
    }
    if (local != NULL) {
      g_propagate_error(error, local);
      return NULL;
    }
  }
  return g_steal_pointer(&quota);
}

PpQuota *
pp_store_user_get_quota(PpStore *store, gint64 user_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return quota_read(store, user_id, 0, error);
}

/* Hundredths of a CPU as a template writes them: "4", "2.5", "0.25". */
static char *
cpu_text(gint64 hundredths)
{
  if (hundredths % 100 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT, hundredths / 100);
  if (hundredths % 10 == 0)
    return g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT, hundredths / 100,
                           hundredths % 100 / 10);
  return g_strdup_printf("%" G_GINT64_FORMAT ".%02" G_GINT64_FORMAT, hundredths / 100,
                         hundredths % 100);
}

/* CONFLICT: "user 'alice' would pass a quota: WHAT: USED of LIMIT used,
 * this VM asks for ASKED". */
static void
set_quota_passed(GError **error, const char *user, const char *what, const char *used,
                 const char *limit, const char *asked)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
              "user '%s' would pass a quota: %s: %s of %s used, this VM asks for %s (terminate "
              "VMs, or ask an administrator to raise it: pcipass user show %s)",
              user, what, used, limit, asked, user);
}

static void
set_count_passed(GError **error, const char *user, const char *what, const PpQuotaItem *item,
                 gint64 asked)
{
  g_autofree char *used = g_strdup_printf("%" G_GINT64_FORMAT, item->used);
  g_autofree char *limit = g_strdup_printf("%" G_GINT64_FORMAT, item->limit);
  g_autofree char *more = g_strdup_printf("%" G_GINT64_FORMAT, asked);

  set_quota_passed(error, user, what, used, limit, more);
}

/* Whether @used + @asked stays within @limit. */
static gboolean
within(gint64 limit, gint64 used, gint64 asked)
{
  return limit == PP_QUOTA_NONE || used + asked <= limit;
}

/* Inside a transaction: whether a VM of @owner asking for @cpu, @memory_kib
 * and PCI requests of @pci_classes (-1: no CLASS) keeps @owner within its
 * quotas, the use of VM @leave_out (0: none) left out; else CONFLICT
 * naming the first quota it would pass. */
static gboolean
quota_check_locked(PpStore *store, const PpUser *owner, gint64 leave_out, gint64 cpu,
                   gint64 memory_kib, const gint *pci_classes, guint n_pci, GError **error)
{
  g_autoptr(PpQuota) quota = NULL;

  /* What a user's VMs hold is summed over all of them: only for a user
   * with a quota. Without one a create costs no more with 100,000 VMs. */
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_HAS_QUOTA, error);
    GError *local = NULL;

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, owner->id);
    if (!stmt_next(store, stmt, &local, "reading whether a user has quotas")) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return FALSE;
      }
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                  "no user with id %" G_GINT64_FORMAT, owner->id);
      return FALSE;
    }
    if (sqlite3_column_int(stmt, 0) == 0)
      return TRUE;
  }
  quota = quota_read(store, owner->id, leave_out, error);
  if (quota == NULL)
    return FALSE;
  if (!within(quota->vms.limit, quota->vms.used, 1)) {
    set_count_passed(error, owner->name, "VMs", &quota->vms, 1);
    return FALSE;
  }
  if (!within(quota->cpu.limit, quota->cpu.used, cpu)) {
    g_autofree char *used = cpu_text(quota->cpu.used);
    g_autofree char *limit = cpu_text(quota->cpu.limit);
    g_autofree char *asked = cpu_text(cpu);

    set_quota_passed(error, owner->name, "CPU", used, limit, asked);
    return FALSE;
  }
  if (!within(quota->memory_kib.limit, quota->memory_kib.used, memory_kib)) {
    g_autofree char *used = g_strdup_printf("%" G_GINT64_FORMAT, quota->memory_kib.used / 1024);
    g_autofree char *limit =
        g_strdup_printf("%" G_GINT64_FORMAT " MiB", quota->memory_kib.limit / 1024);
    g_autofree char *asked = g_strdup_printf("%" G_GINT64_FORMAT " MiB", memory_kib / 1024);

    set_quota_passed(error, owner->name, "memory", used, limit, asked);
    return FALSE;
  }
  if (!within(quota->pci.limit, quota->pci.used, n_pci)) {
    set_count_passed(error, owner->name, "PCI devices", &quota->pci, n_pci);
    return FALSE;
  }
  for (guint i = 0; i < quota->classes->len; i++) {
    const PpQuotaClass *c = &g_array_index(quota->classes, PpQuotaClass, i);
    PpQuotaItem item = { c->limit, c->used };
    gint64 asked = 0;

    if (c->limit == PP_QUOTA_NONE)
      continue;
    for (guint r = 0; r < n_pci; r++) {
      if (pci_classes[r] < 0) {
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                    "user '%s' has quotas of PCI devices by class (%04x: %" G_GINT64_FORMAT
                    "), and PCI[%u] of this VM names no CLASS: give each PCI request the CLASS "
                    "of the device it asks for (PCI = [ ..., CLASS = \"%04x\" ])",
                    owner->name, c->class_code, c->limit, r, c->class_code);
        return FALSE;
      }
      asked += pci_classes[r] == c->class_code ? 1 : 0;
    }
    if (!within(c->limit, c->used, asked)) {
      g_autofree char *what = g_strdup_printf("PCI devices of class %04x", c->class_code);

      set_count_passed(error, owner->name, what, &item, asked);
      return FALSE;
    }
  }
  return TRUE;
}

/* Checks a limit of a quota update: PP_QUOTA_NONE or 0..@max. */
static gboolean
check_limit(const char *what, gint64 value, gint64 max, GError **error)
{
  if (value == PP_QUOTA_NONE || (value >= 0 && value <= max))
    return TRUE;
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
              "a quota of %s is 0 to %" G_GINT64_FORMAT ", or none; not %" G_GINT64_FORMAT, what,
              max, value);
  return FALSE;
}

PpQuota *
pp_store_user_set_quota(PpStore *store, gint64 user_id, const PpQuotaUpdate *update, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpQuota) before = NULL;
  g_autoptr(PpQuota) after = NULL;
  PpQuotaUpdate u;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(update != NULL, NULL);
  g_return_val_if_fail(update->classes != NULL || update->n_classes == 0, NULL);

  u = *update;
  if ((u.set_vms && !check_limit("VMs", u.vms, PP_QUOTA_MAX_VMS, error)) ||
      (u.set_cpu && !check_limit("CPU (hundredths)", u.cpu, PP_QUOTA_MAX_CPU, error)) ||
      (u.set_memory &&
       !check_limit("memory (KiB)", u.memory_kib, PP_QUOTA_MAX_MEMORY_KIB, error)) ||
      (u.set_pci && !check_limit("PCI devices", u.pci, PP_QUOTA_MAX_PCI, error)))
    return NULL;
  for (guint i = 0; i < u.n_classes; i++) {
    g_autofree char *what = g_strdup_printf("PCI devices of class %04x", u.classes[i].class_code);

    if (!check_limit(what, u.classes[i].limit, PP_QUOTA_MAX_PCI, error))
      return NULL;
  }
  if (!store_txn_begin(store, &txn, "setting a user's quotas", error))
    return NULL;
  user = user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  before = quota_read(store, user_id, 0, error);
  if (before == NULL)
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_USER_SET_QUOTA, error);
    const gint64 limits[] = {
      u.set_vms ? u.vms : before->vms.limit,
      u.set_cpu ? u.cpu : before->cpu.limit,
      u.set_memory ? u.memory_kib : before->memory_kib.limit,
      u.set_pci ? u.pci : before->pci.limit,
    };

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
      if (limits[i] != PP_QUOTA_NONE)
        sqlite3_bind_int64(stmt, (int)i + 2, limits[i]);
    }
    if (!stmt_run(store, stmt, error, "setting a user's quotas"))
      return NULL;
  }
  for (guint i = 0; i < u.n_classes; i++) {
    gboolean remove = u.classes[i].limit == PP_QUOTA_NONE;
    g_autoptr(StoreStmt) stmt =
        store_stmt(store, remove ? STMT_CLASS_QUOTA_DELETE : STMT_CLASS_QUOTA_SET, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    sqlite3_bind_int(stmt, 2, u.classes[i].class_code);
    if (!remove)
      sqlite3_bind_int64(stmt, 3, u.classes[i].limit);
    if (!stmt_run(store, stmt, error, "setting a user's quotas"))
      return NULL;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_CLASS_QUOTA_COUNT, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    if (!stmt_next(store, stmt, error, "setting a user's quotas"))
      return NULL;
    if (sqlite3_column_int64(stmt, 0) > PP_QUOTA_MAX_CLASSES) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "user '%s' would have %" G_GINT64_FORMAT " quotas by PCI class; at most %d",
                  user->name, (gint64)sqlite3_column_int64(stmt, 0), PP_QUOTA_MAX_CLASSES);
      return NULL;
    }
  }
  after = quota_read(store, user_id, 0, error);
  if (after == NULL || !store_txn_commit(&txn, "setting a user's quotas", error))
    return NULL;
  g_debug("user '%s': quotas set", user->name);
  return g_steal_pointer(&after);
}

static gboolean
check_token_hash(const char *hash, GError **error)
{
  if (hash == NULL || strlen(hash) != TOKEN_HASH_LEN ||
      strspn(hash, "0123456789abcdef") != TOKEN_HASH_LEN) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a token hash is %d lower-case hex digits (SHA-256)", TOKEN_HASH_LEN);
    return FALSE;
  }
  return TRUE;
}

static PpToken *
token_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a token"))
    return token_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no token with id %" G_GINT64_FORMAT, id);
  return NULL;
}

PpToken *
pp_store_token_create(PpStore *store, gint64 user_id, const char *name, const char *hash,
                      gint64 now, gint64 expires, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) user = NULL;
  g_autoptr(PpToken) token = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (!check_token_hash(hash, error))
    return NULL;
  if (name != NULL && !check_field("a token name", name, TOKEN_NAME_MAX_LEN, error))
    return NULL;
  if (expires != 0 && expires <= now) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a token's expiry (%" G_GINT64_FORMAT
                ") must come after its creation (%" G_GINT64_FORMAT ")",
                expires, now);
    return NULL;
  }
  if (!store_txn_begin(store, &txn, "creating a token", error))
    return NULL;
  user = user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_INSERT, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, user_id);
    bind_text(stmt, 2, name);
    bind_text(stmt, 3, hash);
    sqlite3_bind_int64(stmt, 4, now);
    if (expires != 0)
      sqlite3_bind_int64(stmt, 5, expires);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      if (sqlite3_extended_errcode(store->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                    "a token with this hash exists");
      else
        store_set_error(store, error, "creating a token for user '%s'", user->name);
      return NULL;
    }
  }
  token = token_get(store, sqlite3_last_insert_rowid(store->db), error);
  if (token == NULL || !store_txn_commit(&txn, "creating a token", error))
    return NULL;
  g_debug("user '%s': token %" G_GINT64_FORMAT " created", user->name, token->id);
  return g_steal_pointer(&token);
}

PpUser *
pp_store_token_authenticate(PpStore *store, const char *hash, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  gint64 token_id, user_id, last_used, expires;
  g_autoptr(PpUser) user = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  /* Not a hash we could have stored: unknown, without a query. */
  if (!check_token_hash(hash, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such token");
    return NULL;
  }
  if (!store_txn_begin(store, &txn, "authenticating a token", error))
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_BY_HASH, error);

    if (stmt == NULL)
      return NULL;
    bind_text(stmt, 1, hash);
    if (!stmt_next(store, stmt, &local, "authenticating a token")) {
      if (local != NULL)
        g_propagate_error(error, local);
      else
        g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no such token");
      return NULL;
    }
    token_id = sqlite3_column_int64(stmt, 0);
    user_id = sqlite3_column_int64(stmt, 1);
    last_used = sqlite3_column_int64(stmt, 2);
    expires = sqlite3_column_int64(stmt, 3); /* NULL reads as 0: never */
  }
  user = user_lookup(store, user_id, NULL, error);
  if (user == NULL)
    return NULL;
  /* Checked at every use: an expired token is refused at once. */
  if (expires != 0 && now >= expires) {
    g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc(expires);
    g_autofree char *text = when ? g_date_time_format(when, "%F %T UTC") : NULL;

    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_EXPIRED,
                "token %" G_GINT64_FORMAT " of user '%s' expired at %s", token_id, user->name,
                text ? text : "?");
    return NULL;
  }
  /* One write a second at most per token, however many requests. */
  if (last_used != now) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_TOKEN_TOUCH, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, token_id);
    sqlite3_bind_int64(stmt, 2, now);
    if (!stmt_run(store, stmt, error, "authenticating a token"))
      return NULL;
  }
  if (!store_txn_commit(&txn, "authenticating a token", error))
    return NULL;
  user->token_expires = expires;
  return g_steal_pointer(&user);
}

GPtrArray *
pp_store_token_list(PpStore *store, gint64 user_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  if (user_id != 0) {
    g_autoptr(PpUser) user = user_lookup(store, user_id, NULL, error);

    if (user == NULL)
      return NULL;
  }
  stmt = store_stmt(store, STMT_TOKEN_LIST, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, user_id);
  tokens = g_ptr_array_new_with_free_func((GDestroyNotify)pp_token_free);
  while (stmt_next(store, stmt, &local, "listing tokens"))
    g_ptr_array_add(tokens, token_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&tokens);
}

gboolean
pp_store_token_delete(PpStore *store, gint64 id, gint64 user_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  /* One statement: atomic on its own. */
  stmt = store_stmt(store, STMT_TOKEN_DELETE, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  sqlite3_bind_int64(stmt, 2, user_id);
  if (!stmt_run(store, stmt, error, "deleting a token"))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no token %" G_GINT64_FORMAT, id);
    return FALSE;
  }
  g_debug("token %" G_GINT64_FORMAT ": deleted", id);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* VMs                                                                      */
/* ------------------------------------------------------------------------ */

static const char *const vm_state_names[_PP_VM_STATE_MAX] = {
  [PP_VM_STATE_PENDING] = "pending", [PP_VM_STATE_DEPLOYING] = "deploying",
  [PP_VM_STATE_RUNNING] = "running", [PP_VM_STATE_POWEROFF] = "poweroff",
  [PP_VM_STATE_UNKNOWN] = "unknown", [PP_VM_STATE_TERMINATING] = "terminating",
  [PP_VM_STATE_DONE] = "done",       [PP_VM_STATE_FAILED] = "failed",
};

const char *
pp_vm_state_to_string(PpVmState state)
{
  g_return_val_if_fail(state < _PP_VM_STATE_MAX, NULL);
  return vm_state_names[state];
}

/* The schema's CHECK lets only these names in. */
static PpVmState
vm_state_from_string(const char *text)
{
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++)
    if (text != NULL && strcmp(vm_state_names[i], text) == 0)
      return (PpVmState)i;
  g_assert_not_reached();
  return PP_VM_STATE_FAILED;
}

void
pp_vm_free(PpVm *vm)
{
  if (vm == NULL)
    return;
  g_free(vm->name);
  g_free(vm->owner_name);
  g_free(vm->reason);
  g_free(vm->template_text);
  g_free(vm->host_name);
  g_free(vm->explanation);
  g_free(vm);
}

static PpVm *
vm_from_row(sqlite3_stmt *stmt)
{
  PpVm *vm = g_new0(PpVm, 1);

  vm->id = sqlite3_column_int64(stmt, 0);
  vm->name = col_strdup(stmt, 1);
  vm->owner_id = sqlite3_column_int64(stmt, 2);
  vm->owner_name = col_strdup(stmt, 3);
  vm->state = vm_state_from_string(col_text(stmt, 4));
  vm->reason = col_strdup(stmt, 5);
  vm->template_text = col_strdup(stmt, 6);
  vm->host_id = sqlite3_column_int64(stmt, 7); /* NULL reads as 0 */
  vm->host_name = col_strdup(stmt, 8);
  vm->cpu = sqlite3_column_int64(stmt, 9);
  vm->memory_kib = sqlite3_column_int64(stmt, 10);
  vm->explanation = col_strdup(stmt, 11);
  vm->created = sqlite3_column_int64(stmt, 12);
  vm->updated = sqlite3_column_int64(stmt, 13);
  vm->tries = (guint)sqlite3_column_int64(stmt, 14);
  return vm;
}

static void
set_no_vm(GError **error, gint64 id)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no VM %" G_GINT64_FORMAT, id);
}

static PpVm *
vm_get(PpStore *store, gint64 id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_GET, error);
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a VM"))
    return vm_from_row(stmt);
  if (local != NULL)
    g_propagate_error(error, local);
  else
    set_no_vm(error, id);
  return NULL;
}

/* The VM's state, for a check or a message: FALSE with NOT_FOUND when
 * there is no such VM. */
static gboolean
vm_state_locked(PpStore *store, gint64 id, PpVmState *ret_state, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_STATE, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, id);
  if (stmt_next(store, stmt, &local, "reading a VM")) {
    *ret_state = vm_state_from_string(col_text(stmt, 0));
    return TRUE;
  }
  if (local != NULL)
    g_propagate_error(error, local);
  else
    set_no_vm(error, id);
  return FALSE;
}

/* CONFLICT: "VM 7 is running, not pending". */
static void
set_wrong_state(GError **error, gint64 id, PpVmState state, PpVmState wanted)
{
  g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
              "VM %" G_GINT64_FORMAT " is %s, not %s", id, vm_state_names[state],
              vm_state_names[wanted]);
}

/* A VM name: what a template's NAME may be, 1..64 of [A-Za-z0-9._-]. */
static gboolean
check_vm_name(const char *name, GError **error)
{
  gsize len = strlen(name);

  if (len == 0 || len > NAME_MAX_LEN || strspn(name, NAME_CHARS) != len) {
    g_autofree char *escaped = g_strescape(name, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "'%s' is not a VM name: 1 to %d letters, digits, '.', '_' or '-'", escaped,
                NAME_MAX_LEN);
    return FALSE;
  }
  return TRUE;
}

/* Records the PCI requests of new VM @vm_id, inside the caller's
 * transaction. */
static gboolean
vm_requests_insert_locked(PpStore *store, gint64 vm_id, const gint *pci_classes, guint n_pci,
                          const PpVmSpec *spec, GError **error)
{
  for (guint i = 0; i < n_pci; i++) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEST_INSERT, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    sqlite3_bind_int(stmt, 2, (int)i);
    if (spec != NULL)
      bind_request(stmt, 4, &g_array_index(spec->requests, PpPciRequest, i));
    if (pci_classes[i] >= 0)
      sqlite3_bind_int(stmt, 3, pci_classes[i]);
    if (!stmt_run(store, stmt, error, "recording a VM's PCI requests"))
      return FALSE;
  }
  return TRUE;
}

/* pp_store_vm_create(), and with @spec (nullable) its typed columns. */
static PpVm *
vm_create(PpStore *store, gint64 owner_id, const char *name, const char *template_text, gint64 cpu,
          gint64 memory_kib, const gint *pci_classes, guint n_pci, const PpVmSpec *spec, gint64 now,
          GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autoptr(PpUser) owner = NULL;
  g_autoptr(PpVm) vm = NULL;
  g_autofree char *domain_spec = NULL;
  gint64 id;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(template_text != NULL, NULL);
  g_return_val_if_fail(pci_classes != NULL || n_pci == 0, NULL);
  g_return_val_if_fail(n_pci <= G_MAXINT, NULL);

  if (name != NULL && !check_vm_name(name, error))
    return NULL;
  if (strlen(template_text) > PP_TEMPLATE_MAX_SIZE || !g_utf8_validate(template_text, -1, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a VM template is UTF-8 of at most %d bytes", PP_TEMPLATE_MAX_SIZE);
    return NULL;
  }
  if (cpu < 0 || memory_kib < 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "a VM's CPU (%" G_GINT64_FORMAT ") and memory (%" G_GINT64_FORMAT
                " KiB) cannot be negative",
                cpu, memory_kib);
    return NULL;
  }
  for (guint i = 0; i < n_pci; i++) {
    if (pci_classes[i] > 0xffff) {
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                  "PCI[%u]: class %d is not 16 bits (class and subclass)", i, pci_classes[i]);
      return NULL;
    }
  }
  /* The check and the insert in one transaction: clients that race for a
   * user's last VM are serialized here, and one gets it. */
  if (!store_txn_begin(store, &txn, "creating a VM", error))
    return NULL;
  owner = user_lookup(store, owner_id, NULL, error);
  if (owner == NULL ||
      !quota_check_locked(store, owner, 0, cpu, memory_kib, pci_classes, n_pci, error))
    return NULL;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_INSERT, error);

    if (stmt == NULL)
      return NULL;
    bind_text(stmt, 1, name);
    sqlite3_bind_int64(stmt, 2, owner_id);
    bind_text(stmt, 3, template_text);
    sqlite3_bind_int64(stmt, 4, cpu);
    sqlite3_bind_int64(stmt, 5, memory_kib);
    sqlite3_bind_int64(stmt, 6, now);
    /* Bound as static text: it lives until the statement ran. */
    if (spec != NULL) {
      domain_spec = pp_vm_spec_domain_to_json(spec);
      if (spec->host_id > 0)
        sqlite3_bind_int64(stmt, 7, spec->host_id);
      bind_text(stmt, 8, spec->host_name);
      bind_text(stmt, 9, domain_spec);
    }
    if (!stmt_run(store, stmt, error, "creating a VM"))
      return NULL;
    id = sqlite3_last_insert_rowid(store->db);
  }
  if (!vm_requests_insert_locked(store, id, pci_classes, n_pci, spec, error))
    return NULL;
  if (name == NULL) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_NAME_DEFAULT, error);

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, id);
    if (!stmt_run(store, stmt, error, "naming a VM"))
      return NULL;
  }
  vm = vm_get(store, id, error);
  if (vm == NULL || !store_txn_commit(&txn, "creating a VM", error))
    return NULL;
  g_debug("VM %" G_GINT64_FORMAT " '%s': created for '%s'", vm->id, vm->name, owner->name);
  return g_steal_pointer(&vm);
}

PpVm *
pp_store_vm_create(PpStore *store, gint64 owner_id, const char *name, const char *template_text,
                   gint64 cpu, gint64 memory_kib, const gint *pci_classes, guint n_pci, gint64 now,
                   GError **error)
{
  return vm_create(store, owner_id, name, template_text, cpu, memory_kib, pci_classes, n_pci, NULL,
                   now, error);
}

PpVm *
pp_store_vm_create_spec(PpStore *store, gint64 owner_id, const char *template_text,
                        const PpVmSpec *spec, gint64 now, GError **error)
{
  g_autoptr(GArray) classes = NULL;

  g_return_val_if_fail(spec != NULL, NULL);

  classes = g_array_sized_new(FALSE, FALSE, sizeof(gint), spec->requests->len);
  for (guint i = 0; i < spec->requests->len; i++)
    g_array_append_val(classes, g_array_index(spec->requests, PpPciRequest, i).class_code);
  return vm_create(store, owner_id, spec->name, template_text, spec->cpu,
                   (gint64)spec->memory_mib * 1024, (const gint *)(void *)classes->data,
                   classes->len, spec, now, error);
}

/* The typed PCI requests of VM @vm_id, appended to @spec. */
static gboolean
vm_spec_requests(PpStore *store, gint64 vm_id, PpVmSpec *spec, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUESTS_TYPED, error);
  GError *local = NULL;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, vm_id);
  while (stmt_next(store, stmt, &local, "reading a VM's PCI requests")) {
    PpPciRequest request = { -1, -1, -1, FALSE, { 0 }, NULL };
    gint *fields[] = { &request.class_code, &request.vendor, &request.device };

    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
      if (sqlite3_column_type(stmt, (int)i) != SQLITE_NULL)
        *fields[i] = sqlite3_column_int(stmt, (int)i);
    }
    if (sqlite3_column_type(stmt, 3) != SQLITE_NULL) {
      request.by_address = TRUE;
      address_unpack(sqlite3_column_int64(stmt, 3), &request.address);
    }
    pp_vm_spec_add_request(spec, &request);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

PpVmSpec *
pp_store_vm_get_spec(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(PpVmSpec) spec = NULL;
  GError *local = NULL;
  const char *domain_spec;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_VM_SPEC, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, vm_id);
  if (!stmt_next(store, stmt, &local, "reading a VM's spec")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      set_no_vm(error, vm_id);
    return NULL;
  }
  domain_spec = col_text(stmt, 5);
  if (domain_spec == NULL) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "VM %" G_GINT64_FORMAT " has no spec: its template did not parse when the store "
                "was upgraded; terminate it and create it again",
                vm_id);
    return NULL;
  }
  spec = pp_vm_spec_new();
  spec->name = g_strdup(col_text(stmt, 0));
  spec->cpu = sqlite3_column_int64(stmt, 1);
  spec->memory_mib = (guint64)sqlite3_column_int64(stmt, 2) / 1024;
  spec->host_id = sqlite3_column_int64(stmt, 3);
  spec->host_name = g_strdup(col_text(stmt, 4));
  if (!pp_vm_spec_domain_from_json(spec, domain_spec, &local)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED, "VM %" G_GINT64_FORMAT ": %s", vm_id,
                local->message);
    g_error_free(local);
    return NULL;
  }
  g_clear_pointer(&stmt, store_stmt_release);
  if (!vm_spec_requests(store, vm_id, spec, error))
    return NULL;
  return g_steal_pointer(&spec);
}

gboolean
pp_store_vm_set_domain_xml(PpStore *store, gint64 vm_id, const char *xml, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail(store != NULL, FALSE);

  stmt = store_stmt(store, STMT_VM_SET_DOMAIN_XML, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, vm_id);
  bind_text(stmt, 2, xml);
  if (!stmt_run(store, stmt, error, "recording a VM's domain XML"))
    return FALSE;
  if (sqlite3_changes(store->db) == 0) {
    set_no_vm(error, vm_id);
    return FALSE;
  }
  return TRUE;
}

gboolean
pp_store_vm_get_domain_xml(PpStore *store, gint64 vm_id, char **ret_xml, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL && ret_xml != NULL, FALSE);

  stmt = store_stmt(store, STMT_VM_DOMAIN_XML, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, vm_id);
  if (!stmt_next(store, stmt, &local, "reading a VM's domain XML")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      set_no_vm(error, vm_id);
    return FALSE;
  }
  *ret_xml = g_strdup(col_text(stmt, 0));
  return TRUE;
}

PpVm *
pp_store_vm_get(PpStore *store, gint64 id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return vm_get(store, id, error);
}

/* The most ids an error about an ambiguous VM name lists. */
#define AMBIGUOUS_IDS_MAX 10

/* "4, 9, 12", or "4, 9, ... (25 in all)" past AMBIGUOUS_IDS_MAX. */
static char *
ids_text(const GArray *ids)
{
  GString *out = g_string_new(NULL);

  for (guint i = 0; i < ids->len && i < AMBIGUOUS_IDS_MAX; i++)
    g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
                           g_array_index(ids, gint64, i));
  if (ids->len > AMBIGUOUS_IDS_MAX)
    g_string_append_printf(out, ", ... (%u in all)", ids->len);
  return g_string_free(out, FALSE);
}

/* The VM named @name among @owner_id's (0: everyone's): its id, 0 when
 * none has that name, or -1 with INVALID when the name is ambiguous. See
 * pp_store_vm_find() for the rule. */
static gint64
vm_id_by_name(PpStore *store, const char *name, gint64 owner_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_FIND_BY_NAME, error);
  g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) done = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree char *list = NULL;
  GError *local = NULL;

  if (stmt == NULL)
    return -1;
  bind_text(stmt, 1, name);
  sqlite3_bind_int64(stmt, 2, owner_id);
  while (stmt_next(store, stmt, &local, "finding a VM by name")) {
    gint64 id = sqlite3_column_int64(stmt, 0);

    g_array_append_val(vm_state_from_string(col_text(stmt, 1)) == PP_VM_STATE_DONE ? done : live,
                       id);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return -1;
  }
  if (live->len == 1)
    return g_array_index(live, gint64, 0);
  if (live->len == 0 && done->len <= 1)
    return done->len == 1 ? g_array_index(done, gint64, 0) : 0;
  list = ids_text(live->len > 0 ? live : done);
  if (live->len > 0)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%u VMs are named '%s' (ids %s): use an id", live->len, name, list);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_INVALID,
                "%u VMs named '%s' are done (ids %s): use an id", done->len, name, list);
  return -1;
}

PpVm *
pp_store_vm_find(PpStore *store, const char *key, gint64 owner_id, GError **error)
{
  gsize len;
  guint64 number;
  gint64 id;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(key != NULL, NULL);

  /* An id first: "12" is VM 12 when the caller may see it, even when one
   * of the caller's VMs is named "12". */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &number, NULL)) {
    PpVm *vm = vm_get(store, (gint64)number, &local);

    if (vm != NULL && (owner_id == 0 || vm->owner_id == owner_id))
      return vm;
    pp_vm_free(vm);
    if (local != NULL && !g_error_matches(local, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND)) {
      g_propagate_error(error, local);
      return NULL;
    }
    g_clear_error(&local);
  }
  len = strlen(key);
  if (len > 0 && len <= NAME_MAX_LEN && strspn(key, NAME_CHARS) == len) {
    id = vm_id_by_name(store, key, owner_id, error);
    if (id < 0)
      return NULL;
    if (id > 0)
      return vm_get(store, id, error);
  }
  /* Another user's VM is not found either: the same words as for none. */
  if (g_ascii_string_to_unsigned(key, 10, 1, G_MAXINT64, &number, NULL)) {
    set_no_vm(error, (gint64)number);
  } else {
    g_autofree char *escaped = g_strescape(key, NULL);

    if (strlen(escaped) > NAME_MAX_LEN)
      escaped[NAME_MAX_LEN] = '\0';
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND, "no VM '%s'", escaped);
  }
  return NULL;
}

GPtrArray *
pp_store_vm_list(PpStore *store, gint64 owner_id, guint states, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GPtrArray) vms = NULL;
  GError *local = NULL;
  int param = 2;

  g_return_val_if_fail(store != NULL, NULL);
  g_return_val_if_fail(states >> _PP_VM_STATE_MAX == 0, NULL);

  stmt = store_stmt(store, STMT_VM_LIST, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, owner_id);
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++)
    if (states & (1u << i))
      bind_text(stmt, param++, vm_state_names[i]);
  vms = g_ptr_array_new_with_free_func((GDestroyNotify)pp_vm_free);
  while (stmt_next(store, stmt, &local, "listing VMs"))
    g_ptr_array_add(vms, vm_from_row(stmt));
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&vms);
}

static gpointer
vm_row(sqlite3_stmt *stmt)
{
  return vm_from_row(stmt);
}

GPtrArray *
pp_store_vm_list_on_host(PpStore *store, gint64 host_id, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return rows_list(store, STMT_VM_LIST_ON_HOST, host_id, vm_row, (GDestroyNotify)pp_vm_free,
                   "listing a host's VMs", error);
}

/* Why the device @device_id could not go to VM @vm_id on host @host_id:
 * CONFLICT naming the device, its host and its holder. */
static void
set_device_refused(PpStore *store, gint64 vm_id, gint64 host_id, const char *host_name,
                   gint64 device_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_HOLDER, error);
  GError *local = NULL;
  const char *address;
  gint64 holder;

  if (stmt == NULL)
    return;
  sqlite3_bind_int64(stmt, 1, device_id);
  if (!stmt_next(store, stmt, &local, "reading a device")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                  "device %" G_GINT64_FORMAT " is no longer in the inventory", device_id);
    return;
  }
  address = col_text(stmt, 0);
  holder = sqlite3_column_int64(stmt, 3);
  if (sqlite3_column_int64(stmt, 1) != host_id)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s is on host '%s', not on host '%s'", address, col_text(stmt, 2),
                host_name);
  else if (holder == vm_id)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is given twice", address, host_name);
  else if (sqlite3_column_int(stmt, 4) != 0)
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is gone (held by VM %" G_GINT64_FORMAT ")", address,
                host_name, holder);
  else
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_CONFLICT,
                "device %s of host '%s' is held by VM %" G_GINT64_FORMAT, address, host_name,
                holder);
}

/* The body of pp_store_vm_allocate(), inside its transaction. The VM
 * gets its host first: the schema lets a VM hold devices of its own host
 * only. */
static gboolean
vm_allocate_locked(PpStore *store, gint64 vm_id, gint64 host_id, const char *host_name,
                   const gint64 *device_ids, guint n_devices, gint64 now, GError **error)
{
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_ALLOCATE, error);
    g_autofree char *reason = g_strdup_printf("placed on host '%s' with %u device%s", host_name,
                                              n_devices, n_devices == 1 ? "" : "s");

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    sqlite3_bind_int64(stmt, 2, host_id);
    sqlite3_bind_int64(stmt, 3, now);
    bind_text(stmt, 4, reason);
    if (!stmt_run(store, stmt, error, "allocating a VM"))
      return FALSE;
    /* Checked pending in this transaction. */
    g_assert(sqlite3_changes(store->db) == 1);
  }
  for (guint i = 0; i < n_devices; i++) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_ALLOCATE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, device_ids[i]);
    sqlite3_bind_int64(stmt, 2, vm_id);
    sqlite3_bind_int(stmt, 3, (int)i);
    sqlite3_bind_int64(stmt, 4, host_id);
    if (!stmt_run(store, stmt, error, "allocating a device"))
      return FALSE;
    if (sqlite3_changes(store->db) != 1) {
      set_device_refused(store, vm_id, host_id, host_name, device_ids[i], error);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
pp_store_vm_allocate(PpStore *store, gint64 vm_id, gint64 host_id, const gint64 *device_ids,
                     guint n_devices, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *host_name = NULL;
  PpVmState state;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(device_ids != NULL || n_devices == 0, FALSE);
  g_return_val_if_fail(n_devices <= G_MAXINT, FALSE);

  if (!store_txn_begin(store, &txn, "allocating a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != PP_VM_STATE_PENDING) {
    set_wrong_state(error, vm_id, state, PP_VM_STATE_PENDING);
    return FALSE;
  }
  host_name = host_name_locked(store, host_id, NULL, error);
  if (host_name == NULL)
    return FALSE;
  /* On failure the transaction rolls back: nothing allocated. */
  if (!vm_allocate_locked(store, vm_id, host_id, host_name, device_ids, n_devices, now, error) ||
      !store_txn_commit(&txn, "allocating a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": allocated on host '%s' with %u devices", vm_id, host_name,
          n_devices);
  return TRUE;
}

gboolean
pp_store_vm_transition(PpStore *store, gint64 vm_id, PpVmState from, PpVmState to,
                       const char *reason, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  g_autofree char *what = NULL;
  PpVmState state;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX && to < _PP_VM_STATE_MAX, FALSE);

  text = vm_reason_text(reason);
  what = g_strdup_printf("moving VM %" G_GINT64_FORMAT " from %s to %s", vm_id,
                         vm_state_names[from], vm_state_names[to]);
  if (!store_txn_begin(store, &txn, what, error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != from) {
    set_wrong_state(error, vm_id, state, from);
    return FALSE;
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_TRANSITION, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    bind_text(stmt, 2, vm_state_names[from]);
    bind_text(stmt, 3, vm_state_names[to]);
    bind_text(stmt, 4, text);
    sqlite3_bind_int64(stmt, 5, now);
    /* The schema refuses a move that would leave a host to a VM that
     * holds nothing, or none to one that holds: release, allocate. */
    if (!stmt_run(store, stmt, error, what))
      return FALSE;
  }
  if (!store_txn_commit(&txn, what, error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> %s", vm_id, vm_state_names[from], vm_state_names[to]);
  return TRUE;
}

/* Frees what VM @vm_id holds, inside the caller's transaction: its gone
 * devices are deleted (nothing holds them once freed), the others freed.
 * The VM's row is the caller's to change next. */
static gboolean
vm_free_devices_locked(PpStore *store, gint64 vm_id, guint *ret_freed, guint *ret_deleted,
                       GError **error)
{
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_DELETE_GONE_OF_VM, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    if (!stmt_run(store, stmt, error, "releasing a VM: deleting its gone devices"))
      return FALSE;
    *ret_deleted = (guint)sqlite3_changes(store->db);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_DEV_FREE_OF_VM, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    if (!stmt_run(store, stmt, error, "releasing a VM: freeing its devices"))
      return FALSE;
    *ret_freed = (guint)sqlite3_changes(store->db);
  }
  return TRUE;
}

gboolean
pp_store_vm_release(PpStore *store, gint64 vm_id, PpVmState to, const char *reason, gint64 now,
                    GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  PpVmState state;
  guint deleted, freed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(to == PP_VM_STATE_DONE || to == PP_VM_STATE_FAILED, FALSE);

  text = vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "releasing a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error) ||
      !vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_RELEASE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    bind_text(stmt, 2, vm_state_names[to]);
    bind_text(stmt, 3, text);
    sqlite3_bind_int64(stmt, 4, now);
    if (!stmt_run(store, stmt, error, "releasing a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "releasing a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> %s, %u devices freed, %u gone ones deleted", vm_id,
          vm_state_names[state], vm_state_names[to], freed, deleted);
  return TRUE;
}

gboolean
pp_store_vm_requeue(PpStore *store, gint64 vm_id, PpVmState from, const char *reason,
                    gboolean count_try, gint64 now, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  PpVmState state;
  guint deleted, freed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX, FALSE);

  text = vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "requeueing a VM", error))
    return FALSE;
  if (!vm_state_locked(store, vm_id, &state, error))
    return FALSE;
  if (state != from) {
    set_wrong_state(error, vm_id, state, from);
    return FALSE;
  }
  if (!vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEUE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    bind_text(stmt, 2, text);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int(stmt, 4, count_try ? 1 : 0);
    if (!stmt_run(store, stmt, error, "requeueing a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "requeueing a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> pending, %u devices freed, %u gone ones deleted", vm_id,
          vm_state_names[state], freed, deleted);
  return TRUE;
}

/* The CLASS of each PCI request of VM @vm_id, in order (-1: none). */
static GArray *
vm_requests_locked(PpStore *store, gint64 vm_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUESTS, error);
  g_autoptr(GArray) classes = g_array_new(FALSE, FALSE, sizeof(gint));
  GError *local = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64(stmt, 1, vm_id);
  while (stmt_next(store, stmt, &local, "reading a VM's PCI requests")) {
    gint c = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -1 : sqlite3_column_int(stmt, 0);

    g_array_append_val(classes, c);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&classes);
}

gboolean
pp_store_vm_retry(PpStore *store, gint64 vm_id, PpVmState from, const char *reason, gint64 now,
                  GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *text = NULL;
  g_autoptr(PpVm) vm = NULL;
  g_autoptr(PpUser) owner = NULL;
  g_autoptr(GArray) classes = NULL;
  guint deleted, freed;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(from < _PP_VM_STATE_MAX, FALSE);

  text = vm_reason_text(reason);
  if (!store_txn_begin(store, &txn, "retrying a VM", error))
    return FALSE;
  vm = vm_get(store, vm_id, error);
  if (vm == NULL)
    return FALSE;
  if (vm->state != from) {
    set_wrong_state(error, vm_id, vm->state, from);
    return FALSE;
  }
  owner = user_lookup(store, vm->owner_id, NULL, error);
  if (owner == NULL)
    return FALSE;
  classes = vm_requests_locked(store, vm_id, error);
  if (classes == NULL ||
      !quota_check_locked(store, owner, vm_id, vm->cpu, vm->memory_kib,
                          (const gint *)(void *)classes->data, classes->len, error) ||
      !vm_free_devices_locked(store, vm_id, &freed, &deleted, error))
    return FALSE;
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_VM_REQUEUE, error);

    if (stmt == NULL)
      return FALSE;
    sqlite3_bind_int64(stmt, 1, vm_id);
    bind_text(stmt, 2, text);
    sqlite3_bind_int64(stmt, 3, now);
    sqlite3_bind_int(stmt, 4, 0);
    if (!stmt_run(store, stmt, error, "retrying a VM"))
      return FALSE;
  }
  if (!store_txn_commit(&txn, "retrying a VM", error))
    return FALSE;
  g_debug("VM %" G_GINT64_FORMAT ": %s -> pending (retry), %u devices freed, %u gone ones deleted",
          vm_id, vm_state_names[from], freed, deleted);
  return TRUE;
}

void
pp_vm_change_free(PpVmChange *change)
{
  if (change == NULL)
    return;
  g_free(change->from_state);
  g_free(change->to_state);
  g_free(change->reason);
  g_free(change->host_name);
  g_free(change);
}

static gpointer
change_from_row(sqlite3_stmt *stmt)
{
  PpVmChange *c = g_new0(PpVmChange, 1);

  c->at = sqlite3_column_int64(stmt, 0);
  c->from_state = col_strdup(stmt, 1);
  c->to_state = col_strdup(stmt, 2);
  c->reason = col_strdup(stmt, 3);
  c->host_name = col_strdup(stmt, 4);
  return c;
}

GPtrArray *
pp_store_vm_list_history(PpStore *store, gint64 vm_id, GError **error)
{
  PpVmState state;

  g_return_val_if_fail(store != NULL, NULL);

  if (!vm_state_locked(store, vm_id, &state, error))
    return NULL;
  return rows_list(store, STMT_VM_HISTORY, vm_id, change_from_row,
                   (GDestroyNotify)pp_vm_change_free, "reading a VM's history", error);
}

gboolean
pp_store_vm_set_explanation(PpStore *store, gint64 vm_id, const char *explanation, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  PpVmState state;

  g_return_val_if_fail(store != NULL, FALSE);

  /* One statement: atomic on its own; the look-up after it only words the
   * error. */
  stmt = store_stmt(store, STMT_VM_SET_EXPLANATION, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, vm_id);
  bind_text(stmt, 2, explanation);
  if (!stmt_run(store, stmt, error, "explaining a pending VM"))
    return FALSE;
  if (sqlite3_changes(store->db) == 1)
    return TRUE;
  g_clear_pointer(&stmt, store_stmt_release);
  if (vm_state_locked(store, vm_id, &state, error))
    set_wrong_state(error, vm_id, state, PP_VM_STATE_PENDING);
  return FALSE;
}

GPtrArray *
pp_store_vm_list_devices(PpStore *store, gint64 vm_id, GError **error)
{
  PpVmState state;

  g_return_val_if_fail(store != NULL, NULL);

  if (!vm_state_locked(store, vm_id, &state, error))
    return NULL;
  return device_list(store, STMT_DEV_LIST_VM, vm_id, "listing a VM's devices", error);
}

GPtrArray *
pp_store_device_list_all(PpStore *store, GError **error)
{
  g_return_val_if_fail(store != NULL, NULL);
  return device_list(store, STMT_DEV_LIST_ALL, 0, "listing every device", error);
}

GHashTable *
pp_store_host_usage(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GHashTable) usage = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_HOST_USAGE, error);
  if (stmt == NULL)
    return NULL;
  usage = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  while (stmt_next(store, stmt, &local, "summing what the hosts' VMs hold")) {
    gint64 *host_id = g_new(gint64, 1);
    PpHostUsage *used = g_new0(PpHostUsage, 1);

    *host_id = sqlite3_column_int64(stmt, 0);
    used->cpu = sqlite3_column_int64(stmt, 1);
    used->memory_kib = sqlite3_column_int64(stmt, 2);
    g_hash_table_insert(usage, host_id, used);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&usage);
}

gboolean
pp_store_host_usage_one(PpStore *store, gint64 host_id, PpHostUsage *ret, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL && ret != NULL, FALSE);

  stmt = store_stmt(store, STMT_HOST_USAGE_ONE, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, host_id);
  if (!stmt_next(store, stmt, &local, "summing what a host's VMs hold")) {
    if (local != NULL)
      g_propagate_error(error, local);
    else
      g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                  "summing what host %" G_GINT64_FORMAT "'s VMs hold: no row", host_id);
    return FALSE;
  }
  ret->cpu = sqlite3_column_int64(stmt, 0);
  ret->memory_kib = sqlite3_column_int64(stmt, 1);
  return TRUE;
}

gint64
pp_store_device_host_id(PpStore *store, gint64 device_id, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, -1);

  stmt = store_stmt(store, STMT_DEV_HOST_ID, error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64(stmt, 1, device_id);
  if (stmt_next(store, stmt, &local, "finding a device's host"))
    return sqlite3_column_int64(stmt, 0);
  if (local != NULL) {
    g_propagate_error(error, local);
    return -1;
  }
  return 0;
}

GHashTable *
pp_store_vm_host_ids(PpStore *store, GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GHashTable) ids = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, NULL);

  stmt = store_stmt(store, STMT_VM_HOST_IDS, error);
  if (stmt == NULL)
    return NULL;
  ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  while (stmt_next(store, stmt, &local, "listing the VMs on hosts")) {
    gint64 vm_id = sqlite3_column_int64(stmt, 0), host_id = sqlite3_column_int64(stmt, 1);

    g_hash_table_insert(ids, g_memdup2(&vm_id, sizeof(vm_id)),
                        g_memdup2(&host_id, sizeof(host_id)));
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return NULL;
  }
  return g_steal_pointer(&ids);
}

/* ------------------------------------------------------------------------ */
/* Watching                                                                 */
/* ------------------------------------------------------------------------ */

/* SQLite's update hook: a row of a table the scheduler follows changed
 * (or is changing: the transaction may still roll back, and a watcher only
 * reads again what it is told of). Not called for the migrations. */
static void
on_row_changed(void *data, int op, const char *db_name, const char *table, sqlite3_int64 rowid)
{
  PpStore *store = data;
  PpStoreTable which;

  (void)op;
  (void)db_name;
  if (strcmp(table, "vms") == 0)
    which = PP_STORE_TABLE_VMS;
  else if (strcmp(table, "pci_device") == 0)
    which = PP_STORE_TABLE_DEVICES;
  else if (strcmp(table, "hosts") == 0)
    which = PP_STORE_TABLE_HOSTS;
  else if (strcmp(table, "host_allowance") == 0)
    which = PP_STORE_TABLE_ALLOWANCES;
  else
    return;
  store->watch(which, (gint64)rowid, store->watch_data);
}

void
pp_store_set_watch(PpStore *store, PpStoreWatchFunc func, gpointer data)
{
  g_return_if_fail(store != NULL);

  store->watch = func;
  store->watch_data = data;
  sqlite3_update_hook(store->db, func != NULL ? on_row_changed : NULL, store);
}

/* ------------------------------------------------------------------------ */
/* Paged lists                                                              */
/* ------------------------------------------------------------------------ */

gboolean
pp_vm_state_from_string(const char *text, PpVmState *ret_state)
{
  for (guint i = 0; i < _PP_VM_STATE_MAX; i++) {
    if (text != NULL && strcmp(vm_state_names[i], text) == 0) {
      *ret_state = (PpVmState)i;
      return TRUE;
    }
  }
  return FALSE;
}

gboolean
pp_host_state_from_string(const char *text, PpHostState *ret_state)
{
  for (guint i = 0; i < _PP_HOST_STATE_MAX; i++) {
    if (text != NULL && strcmp(host_state_names[i], text) == 0) {
      *ret_state = (PpHostState)i;
      return TRUE;
    }
  }
  return FALSE;
}

void
pp_vm_row_free(PpVmRow *row)
{
  if (row == NULL)
    return;
  g_free(row->name);
  g_free(row->owner_name);
  g_free(row->reason);
  g_free(row->host_name);
  g_free(row->first_host);
  g_free(row->first_reason);
  g_free(row->explanation_head);
  g_free(row);
}

/* Returns: (transfer none): the cached paged-list statement @id. */
static StoreStmt *
page_stmt(PpStore *store, PageStmtId id, GError **error)
{
  if (store->page_stmts[id] == NULL &&
      sqlite3_prepare_v3(store->db, page_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                         &store->page_stmts[id], NULL) != SQLITE_OK) {
    store_set_error(store, error, "preparing the list statement %d", (int)id);
    return NULL;
  }
  return store->page_stmts[id];
}

/* Appends the ids @stmt (bound) gives to @ids. */
static gboolean
page_read_ids(PpStore *store, StoreStmt *stmt, GArray *ids, GError **error)
{
  GError *local = NULL;

  while (stmt_next(store, stmt, &local, "listing a page")) {
    gint64 id = sqlite3_column_int64(stmt, 0);

    g_array_append_val(ids, id);
  }
  if (local != NULL) {
    g_propagate_error(error, local);
    return FALSE;
  }
  return TRUE;
}

static gint
compare_ids(gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

/* @ids, read state by state, sorted and cut to the page's @limit + 1 (one
 * more than the page, to know whether another follows). */
static void
page_cut(GArray *ids, guint limit)
{
  g_array_sort(ids, compare_ids);
  if (ids->len > limit + 1)
    g_array_set_size(ids, limit + 1);
}

/* The ids of a page of VMs, @page->limit + 1 at most. */
static gboolean
vm_page_ids(PpStore *store, const PpStorePage *page, GArray *ids, GError **error)
{
  guint all = (1u << _PP_VM_STATE_MAX) - 1;
  gint64 limit = (gint64)page->limit + 1;

  if (page->host_id != 0) {
    g_autoptr(StoreStmt) stmt = page_stmt(store, PAGE_VM_IDS_HOST, error);
    g_autoptr(GString) states = NULL;

    if (stmt == NULL)
      return FALSE;
    if (page->states != 0 && page->states != all) {
      states = g_string_new(",");
      for (guint s = 0; s < _PP_VM_STATE_MAX; s++)
        if (page->states & (1u << s))
          g_string_append_printf(states, "%s,", vm_state_names[s]);
    }
    sqlite3_bind_int64(stmt, 1, page->host_id);
    sqlite3_bind_int64(stmt, 2, page->after);
    sqlite3_bind_int64(stmt, 3, limit);
    sqlite3_bind_int64(stmt, 4, page->owner_id);
    bind_text(stmt, 5, states != NULL ? states->str : NULL);
    return page_read_ids(store, stmt, ids, error);
  }
  if (page->states == 0 || page->states == all) {
    g_autoptr(StoreStmt) stmt =
        page_stmt(store, page->owner_id != 0 ? PAGE_VM_IDS_OWNER : PAGE_VM_IDS, error);
    int p = 1;

    if (stmt == NULL)
      return FALSE;
    if (page->owner_id != 0)
      sqlite3_bind_int64(stmt, p++, page->owner_id);
    sqlite3_bind_int64(stmt, p++, page->after);
    sqlite3_bind_int64(stmt, p, limit);
    return page_read_ids(store, stmt, ids, error);
  }
  /* One index range per state, merged: SQLite would otherwise read every
   * VM in those states and sort them. */
  for (guint s = 0; s < _PP_VM_STATE_MAX; s++) {
    g_autoptr(StoreStmt) stmt = NULL;
    int p = 1;

    if (!(page->states & (1u << s)))
      continue;
    stmt =
        page_stmt(store, page->owner_id != 0 ? PAGE_VM_IDS_OWNER_STATE : PAGE_VM_IDS_STATE, error);
    if (stmt == NULL)
      return FALSE;
    if (page->owner_id != 0)
      sqlite3_bind_int64(stmt, p++, page->owner_id);
    bind_text(stmt, p++, vm_state_names[s]);
    sqlite3_bind_int64(stmt, p++, page->after);
    sqlite3_bind_int64(stmt, p, limit);
    if (!page_read_ids(store, stmt, ids, error))
      return FALSE;
  }
  return TRUE;
}

static PpVmRow *
vm_row_from_row(sqlite3_stmt *stmt)
{
  PpVmRow *row = g_new0(PpVmRow, 1);

  row->id = sqlite3_column_int64(stmt, 0);
  row->name = col_strdup(stmt, 1);
  row->owner_id = sqlite3_column_int64(stmt, 2);
  row->owner_name = col_strdup(stmt, 3);
  row->state = vm_state_from_string(col_text(stmt, 4));
  row->reason = col_strdup(stmt, 5);
  row->host_id = sqlite3_column_int64(stmt, 6); /* NULL reads as 0 */
  row->host_name = col_strdup(stmt, 7);
  row->cpu = sqlite3_column_int64(stmt, 8);
  row->memory_kib = sqlite3_column_int64(stmt, 9);
  row->devices = (guint)sqlite3_column_int64(stmt, 10);
  row->created = sqlite3_column_int64(stmt, 11);
  row->updated = sqlite3_column_int64(stmt, 12);
  row->tries = (guint)sqlite3_column_int64(stmt, 13);
  row->explained = sqlite3_column_int(stmt, 14) != 0;
  row->explained_hosts =
      sqlite3_column_type(stmt, 15) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 15);
  /* A host or reason that is not a string (a malformed entry) reads as
   * its JSON text; bounded all the same. */
  row->first_host = col_strdup(stmt, 16);
  row->first_reason = col_strdup(stmt, 17);
  if (row->first_reason != NULL && strlen(row->first_reason) > PP_STORE_ROW_TEXT_MAX)
    row->first_reason[PP_STORE_ROW_TEXT_MAX] = '\0';
  if (row->first_host != NULL && strlen(row->first_host) > PP_STORE_ROW_TEXT_MAX)
    row->first_host[PP_STORE_ROW_TEXT_MAX] = '\0';
  row->explanation_head = col_strdup(stmt, 18);
  return row;
}

/* The next cursor of a page read as @ids (@limit + 1 at most): the last
 * id of the page when one more row follows, else 0. */
static gint64
page_next(const GArray *ids, guint limit)
{
  return ids->len > limit ? g_array_index(ids, gint64, limit - 1) : 0;
}

GPtrArray *
pp_store_vm_page(PpStore *store, const PpStorePage *page, gint64 *ret_next, GError **error)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) rows = NULL;
  guint n;

  g_return_val_if_fail(store != NULL && page != NULL && ret_next != NULL, NULL);
  g_return_val_if_fail(page->limit >= 1 && page->limit <= PP_STORE_PAGE_MAX, NULL);
  g_return_val_if_fail(page->after >= 0 && page->states >> _PP_VM_STATE_MAX == 0, NULL);

  if (!vm_page_ids(store, page, ids, error))
    return NULL;
  page_cut(ids, page->limit);
  n = MIN(ids->len, page->limit);
  rows = g_ptr_array_new_full(n, (GDestroyNotify)pp_vm_row_free);
  for (guint i = 0; i < n; i++) {
    g_autoptr(StoreStmt) stmt = page_stmt(store, PAGE_VM_ROW, error);
    GError *local = NULL;

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, g_array_index(ids, gint64, i));
    /* Read in the same turn of the main loop as its id: it is there. */
    if (!stmt_next(store, stmt, &local, "reading a VM of a page")) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
      }
      continue;
    }
    g_ptr_array_add(rows, vm_row_from_row(stmt));
  }
  *ret_next = page_next(ids, page->limit);
  return g_steal_pointer(&rows);
}

GPtrArray *
pp_store_host_page(PpStore *store, const PpStorePage *page, gint64 *ret_next, GError **error)
{
  g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GPtrArray) hosts = NULL;
  guint all = (1u << _PP_HOST_STATE_MAX) - 1;
  gint64 limit;
  guint n;

  g_return_val_if_fail(store != NULL && page != NULL && ret_next != NULL, NULL);
  g_return_val_if_fail(page->limit >= 1 && page->limit <= PP_STORE_PAGE_MAX, NULL);
  g_return_val_if_fail(page->after >= 0 && page->states >> _PP_HOST_STATE_MAX == 0, NULL);
  g_return_val_if_fail(page->owner_id == 0 && page->host_id == 0, NULL);

  limit = (gint64)page->limit + 1;
  for (guint s = 0; s < _PP_HOST_STATE_MAX; s++) {
    gboolean any = page->states == 0 || page->states == all;
    g_autoptr(StoreStmt) stmt = NULL;
    int p = 1;

    if (!any && !(page->states & (1u << s)))
      continue;
    stmt = page_stmt(store, any ? PAGE_HOST_IDS : PAGE_HOST_IDS_STATE, error);
    if (stmt == NULL)
      return NULL;
    if (!any)
      bind_text(stmt, p++, host_state_names[s]);
    sqlite3_bind_int64(stmt, p++, page->after);
    sqlite3_bind_int64(stmt, p, limit);
    if (!page_read_ids(store, stmt, ids, error))
      return NULL;
    if (any)
      break;
  }
  page_cut(ids, page->limit);
  n = MIN(ids->len, page->limit);
  hosts = g_ptr_array_new_full(n, (GDestroyNotify)pp_host_free);
  for (guint i = 0; i < n; i++) {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_HOST_GET, error);
    GError *local = NULL;

    if (stmt == NULL)
      return NULL;
    sqlite3_bind_int64(stmt, 1, g_array_index(ids, gint64, i));
    if (!stmt_next(store, stmt, &local, "reading a host of a page")) {
      if (local != NULL) {
        g_propagate_error(error, local);
        return NULL;
      }
      continue;
    }
    g_ptr_array_add(hosts, host_from_row(stmt));
  }
  *ret_next = page_next(ids, page->limit);
  return g_steal_pointer(&hosts);
}

gboolean
pp_store_vm_is_owned(PpStore *store, gint64 vm_id, gint64 owner_id, gboolean *ret_owned,
                     GError **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  GError *local = NULL;

  g_return_val_if_fail(store != NULL && ret_owned != NULL, FALSE);

  stmt = page_stmt(store, PAGE_VM_OWNED, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64(stmt, 1, vm_id);
  sqlite3_bind_int64(stmt, 2, owner_id);
  if (!stmt_next(store, stmt, &local, "reading a VM's owner")) {
    if (local == NULL)
      g_set_error(&local, PP_STORE_ERROR, PP_STORE_ERROR_FAILED, "reading a VM's owner: no row");
    g_propagate_error(error, local);
    return FALSE;
  }
  *ret_owned = sqlite3_column_int(stmt, 0) != 0;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* Counts                                                                   */
/* ------------------------------------------------------------------------ */

gboolean
pp_store_get_counts(PpStore *store, PpStoreCounts *ret, GError **error)
{
  PpStoreCounts counts = { { 0 } };
  GError *local = NULL;

  g_return_val_if_fail(store != NULL, FALSE);
  g_return_val_if_fail(ret != NULL, FALSE);

  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_HOSTS, error);

    if (stmt == NULL)
      return FALSE;
    while (stmt_next(store, stmt, &local, "counting hosts"))
      counts.hosts_by_state[host_state_from_string(col_text(stmt, 0))] =
          (guint)sqlite3_column_int64(stmt, 1);
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_DEVICES, error);

    if (stmt == NULL)
      return FALSE;
    if (!stmt_next(store, stmt, error, "counting devices"))
      return FALSE;
    counts.devices = (guint)sqlite3_column_int64(stmt, 0);
    counts.devices_held = (guint)sqlite3_column_int64(stmt, 1);
    counts.devices_gone = (guint)sqlite3_column_int64(stmt, 2);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_USERS, error);

    if (stmt == NULL)
      return FALSE;
    if (!stmt_next(store, stmt, error, "counting users"))
      return FALSE;
    counts.users = (guint)sqlite3_column_int64(stmt, 0);
    counts.tokens = (guint)sqlite3_column_int64(stmt, 1);
  }
  {
    g_autoptr(StoreStmt) stmt = store_stmt(store, STMT_COUNT_VMS, error);

    if (stmt == NULL)
      return FALSE;
    while (stmt_next(store, stmt, &local, "counting VMs"))
      counts.vms_by_state[vm_state_from_string(col_text(stmt, 0))] =
          (guint)sqlite3_column_int64(stmt, 1);
    if (local != NULL) {
      g_propagate_error(error, local);
      return FALSE;
    }
  }
  *ret = counts;
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* For tests (pp-store-priv.h)                                              */
/* ------------------------------------------------------------------------ */

sqlite3 *
pp_store_test_get_db(PpStore *store)
{
  return store->db;
}

/* The owner of the VMs pp_store_test_add_vm() makes. */
#define TEST_VM_OWNER "test-vm-owner"

gint64
pp_store_test_add_vm(PpStore *store, const char *name)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint(sqlite3_exec(store->db,
                               "INSERT OR IGNORE INTO users (name, created) "
                               "VALUES ('" TEST_VM_OWNER "', 0)",
                               NULL, NULL, NULL),
                  ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_prepare_v2(store->db,
                                     "INSERT INTO vms (name, owner_id, created) VALUES (?1, "
                                     "(SELECT id FROM users WHERE name = '" TEST_VM_OWNER "'), 0)",
                                     -1, &stmt, NULL),
                  ==, SQLITE_OK);
  sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
  g_assert_cmpint(sqlite3_step(stmt), ==, SQLITE_DONE);
  return sqlite3_last_insert_rowid(store->db);
}

gboolean
pp_store_test_hold_device(PpStore *store, gint64 device_id, gint64 vm_id, GError **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  /* The schema lets a VM hold devices of its own host only: the VM goes
   * to the device's host first (running, when it was without one). */
  if (vm_id != 0) {
    g_assert_cmpint(sqlite3_prepare_v2(store->db,
                                       "UPDATE vms SET host_id = (SELECT host_id FROM pci_device "
                                       "WHERE id = ?1), state = CASE WHEN state IN ('pending', "
                                       "'done') THEN 'running' ELSE state END, explanation = NULL "
                                       "WHERE id = ?2 AND host_id IS NOT (SELECT host_id FROM "
                                       "pci_device WHERE id = ?1)",
                                       -1, &stmt, NULL),
                    ==, SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, device_id);
    sqlite3_bind_int64(stmt, 2, vm_id);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      store_set_error(store, error,
                      "moving VM %" G_GINT64_FORMAT " to the host of device %" G_GINT64_FORMAT,
                      vm_id, device_id);
      return FALSE;
    }
    g_clear_pointer(&stmt, sqlite3_finalize);
  }
  /* The slot: kept when the VM holds it already, else the VM's next. */
  g_assert_cmpint(sqlite3_prepare_v2(store->db,
                                     "UPDATE pci_device SET vm_id = ?2, vm_slot = CASE "
                                     "WHEN ?2 IS NULL THEN NULL WHEN vm_id IS ?2 THEN vm_slot "
                                     "ELSE (SELECT coalesce(max(p.vm_slot) + 1, 0) "
                                     "FROM pci_device p WHERE p.vm_id = ?2) END WHERE id = ?1",
                                     -1, &stmt, NULL),
                  ==, SQLITE_OK);
  sqlite3_bind_int64(stmt, 1, device_id);
  if (vm_id != 0)
    sqlite3_bind_int64(stmt, 2, vm_id);
  if (sqlite3_step(stmt) != SQLITE_DONE) {
    store_set_error(store, error, "holding device %" G_GINT64_FORMAT, device_id);
    return FALSE;
  }
  if (sqlite3_changes(store->db) == 0) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_NOT_FOUND,
                "no device with id %" G_GINT64_FORMAT, device_id);
    return FALSE;
  }
  return TRUE;
}

const char *
pp_store_test_get_migration(int version)
{
  for (guint i = 0; i < G_N_ELEMENTS(migrations); i++)
    if (migrations[i].version == version)
      return migrations[i].sql;
  return NULL;
}
