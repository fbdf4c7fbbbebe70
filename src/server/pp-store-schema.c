/* pp-store-schema: the schema's history (migrations 1..N, their SQL and
 * the data steps SQL alone cannot do) and store_migrate(), run at open. */
#define G_LOG_DOMAIN "pp-store"

#include "config.h"

#include <string.h>

#include <jansson.h>

#include "pp-autoptr.h"
#include "pp-host-spec.h"
#include "pp-store-int.h"
#include "pp-store-priv.h"
#include "pp-store.h"
#include "pp-template.h"
#include "pp-vm-spec-json.h"
#include "pp-vm-template.h"

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

/* Migration 10: vms loses explanation (issue 11). Since the incremental
 * scheduler, a pending VM's explanation is made on demand from the live
 * placer and never stored: nothing writes the column any more.
 *
 * SQLite cannot drop a column that a CHECK names, so vms is rebuilt as
 * migration 4 did (create new, copy, drop, rename; foreign keys off and
 * checked before the commit, store_migrate()). Every other column and
 * constraint is as version 9 had it, in its order; the rows keep their
 * ids, and the table's AUTOINCREMENT counter moves to the new table, so
 * that the id of a deleted VM is still never given again. Dropping vms
 * drops its indexes and the triggers on it, and the triggers of other
 * tables that read vms (pci_device_one_vm, pci_device_insert_free,
 * vm_pci_request_quota) are dropped for the rename (which checks them
 * against a schema without vms): all are made again as migrations 4, 6
 * and 7 made them, word for word. */
static const char migration_10[] =
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
    "  tries INTEGER NOT NULL DEFAULT 0 CHECK(tries >= 0),"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL DEFAULT 0,"
    "  only_host_id INTEGER CHECK(only_host_id > 0),"
    "  only_host_name TEXT,"
    "  domain_spec TEXT,"
    "  domain_xml TEXT,"
    "  CHECK(state NOT IN ('pending', 'done') OR host_id IS NULL),"
    "  CHECK(state NOT IN " VM_ON_HOST_STATES " OR host_id IS NOT NULL));"
    "INSERT INTO new_vms (id, name, owner_id, state, reason, template, host_id, cpu, memory_kib,"
    "    tries, created, updated, only_host_id, only_host_name, domain_spec, domain_xml)"
    "  SELECT id, name, owner_id, state, reason, template, host_id, cpu, memory_kib, tries,"
    "    created, updated, only_host_id, only_host_name, domain_spec, domain_xml FROM vms;"
    /* The copy set new_vms's counter to the largest id copied; the old
     * one is at least that, and higher when the newest VMs were deleted. */
    "DELETE FROM sqlite_sequence WHERE name = 'new_vms';"
    "UPDATE sqlite_sequence SET name = 'new_vms' WHERE name = 'vms';"
    /* Triggers of other tables that read vms: the rename checks each
     * against the schema, and vms is gone meanwhile. Made again below. */
    "DROP TRIGGER pci_device_one_vm;"
    "DROP TRIGGER pci_device_insert_free;"
    "DROP TRIGGER vm_pci_request_quota;"
    "DROP TABLE vms;"
    "ALTER TABLE new_vms RENAME TO vms;"
    /* Migration 4's indexes and triggers on vms and of pci_device. */
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
    "  END;"
    /* Migration 6's. */
    /* clang-format off */
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
                                        /* clang-format on */
                                        /* Migration 7's. */
                                        "CREATE INDEX vms_owner_state ON vms(owner_id, state);";

/* Migration 11: a partial index of the devices set aside (issue 11). An
 * unchanged pushed report checks that none of its host's devices is set
 * aside; through the (host_id, address) index that read every device row
 * of the host, scattered over the largest table: at 10,000 hosts, most of
 * the SQLite page misses of an idle daemon. The set-aside devices are
 * few, so this index is small and the check reads it alone. */
static const char migration_11[] =
    "CREATE INDEX pci_device_set_aside ON pci_device(host_id) WHERE set_aside IS NOT NULL;";

/* Migration 12: virtual networks, their address ranges and leases (issue
 * 12).
 *
 * networks holds each network as its template said it, typed (pp-network.h):
 * its name (unique per owner: NETWORK_UNAME names the owner), shared (1: any
 * user may attach NICs to it; 0: its owner and an administrator only), VN_MAD,
 * BRIDGE, PHYDEV, VLAN_ID, MTU, the IPv4 network (address and prefix
 * length), gateways, DNS and search domains (blank-separated, as written
 * back), and the template for `net show`.
 *
 * network_ar holds its ranges, AR ids 0.. in order, typed: the first
 * lease's MAC as a 48-bit number (mac_given: the template's, else made from
 * network_mac_next), its IPv4 as a 32-bit number, IPv6 prefixes and static
 * addresses as text (RFC 5952). used counts its lease rows (triggers keep
 * it), so that a full range is known without reading its leases; next_idx
 * is where the search for a free address starts.
 *
 * network_lease holds one row per address in use: a VM's NIC's (vm_id,
 * nic_id) or held by an administrator or the owner (both NULL). A MAC and an
 * IPv4 address are unique per network here, whatever the code does; a VM's
 * NIC has one lease at most.
 *
 * vm_nic holds each VM's NICs that name a network (NIC and PCI NIC alike,
 * nic_id in template order) with the IP and MAC asked for (NULL: any), so
 * that a network some VM not done names is not deleted, and allocation
 * knows what to lease without reading the template.
 *
 * network_mac_next is the one counter generated MACs come from: every
 * range whose template gave no MAC takes SIZE values from it, so that MACs
 * never collide across networks (pp_network_ar_set_mac_base()).
 *
 * vm_pci_request gets PF_POLICY (0 none, 1 pack, 2 spread) and the NIC id
 * of a PCI NIC (NULL: not a NIC). users gets quota_leases, the network
 * quota: the NICs on networks its VMs that are not done may have (NULL: no
 * limit), checked by the code at create and retry. */
static const char migration_12[] =
    "CREATE TABLE networks ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL CHECK(length(name) BETWEEN 1 AND 64),"
    "  owner_id INTEGER NOT NULL REFERENCES users(id),"
    "  shared INTEGER NOT NULL DEFAULT 0 CHECK(shared IN (0, 1)),"
    "  template TEXT NOT NULL,"
    "  vn_mad TEXT NOT NULL CHECK(vn_mad IN ('dummy', '802.1Q', 'bridge', 'ovswitch')),"
    "  bridge TEXT,"
    "  phydev TEXT,"
    "  vlan_id INTEGER CHECK(vlan_id BETWEEN 0 AND 4094),"
    "  mtu INTEGER CHECK(mtu BETWEEN 68 AND 65535),"
    "  network_address INTEGER CHECK(network_address BETWEEN 0 AND 4294967295),"
    "  network_prefix INTEGER CHECK(network_prefix BETWEEN 0 AND 32),"
    "  gateway INTEGER CHECK(gateway BETWEEN 0 AND 4294967295),"
    "  gateway6 TEXT,"
    "  dns TEXT,"
    "  search_domains TEXT,"
    "  created INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL,"
    "  UNIQUE (owner_id, name),"
    "  CHECK(vn_mad <> '802.1Q' OR vlan_id IS NOT NULL),"
    "  CHECK(vn_mad IN ('802.1Q', 'ovswitch') OR vlan_id IS NULL),"
    "  CHECK((network_address IS NULL) = (network_prefix IS NULL)));"
    "CREATE INDEX networks_shared ON networks(shared) WHERE shared = 1;"
    "CREATE TABLE network_ar ("
    "  network_id INTEGER NOT NULL REFERENCES networks(id) ON DELETE CASCADE,"
    "  ar_id INTEGER NOT NULL CHECK(ar_id BETWEEN 0 AND 63),"
    "  type TEXT NOT NULL CHECK(type IN ('ETHER', 'IP4', 'IP6', 'IP6_STATIC', 'IP4_6',"
    "    'IP4_6_STATIC')),"
    "  size INTEGER NOT NULL CHECK(size BETWEEN 1 AND 1048576),"
    "  used INTEGER NOT NULL DEFAULT 0 CHECK(used BETWEEN 0 AND size),"
    "  next_idx INTEGER NOT NULL DEFAULT 0 CHECK(next_idx >= 0),"
    "  mac INTEGER NOT NULL CHECK(mac BETWEEN 0 AND 281474976710655),"
    "  mac_given INTEGER NOT NULL CHECK(mac_given IN (0, 1)),"
    "  ip4 INTEGER CHECK(ip4 BETWEEN 0 AND 4294967295),"
    "  global_prefix TEXT,"
    "  ula_prefix TEXT,"
    "  ip6 TEXT,"
    "  prefix_length INTEGER CHECK(prefix_length BETWEEN 1 AND 128),"
    "  PRIMARY KEY (network_id, ar_id));"
    "CREATE TABLE network_lease ("
    "  network_id INTEGER NOT NULL,"
    "  ar_id INTEGER NOT NULL,"
    "  idx INTEGER NOT NULL CHECK(idx >= 0),"
    "  mac INTEGER NOT NULL CHECK(mac BETWEEN 0 AND 281474976710655),"
    "  ip4 INTEGER CHECK(ip4 BETWEEN 0 AND 4294967295),"
    "  vm_id INTEGER REFERENCES vms(id),"
    "  nic_id INTEGER CHECK(nic_id >= 0),"
    "  PRIMARY KEY (network_id, ar_id, idx),"
    "  UNIQUE (network_id, mac),"
    "  UNIQUE (network_id, ip4),"
    "  UNIQUE (vm_id, nic_id),"
    "  CHECK((vm_id IS NULL) = (nic_id IS NULL)),"
    "  FOREIGN KEY (network_id, ar_id) REFERENCES network_ar(network_id, ar_id)"
    "    ON DELETE CASCADE);"
    "CREATE INDEX network_lease_held ON network_lease(network_id) WHERE vm_id IS NULL;"
    "CREATE TRIGGER network_lease_count AFTER INSERT ON network_lease"
    "  BEGIN UPDATE network_ar SET used = used + 1"
    "    WHERE network_id = NEW.network_id AND ar_id = NEW.ar_id; END;"
    "CREATE TRIGGER network_lease_uncount AFTER DELETE ON network_lease"
    "  BEGIN UPDATE network_ar SET used = used - 1"
    "    WHERE network_id = OLD.network_id AND ar_id = OLD.ar_id; END;"
    "CREATE TABLE vm_nic ("
    "  vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
    "  nic_id INTEGER NOT NULL CHECK(nic_id BETWEEN 0 AND 127),"
    "  network_id INTEGER REFERENCES networks(id) ON DELETE SET NULL,"
    "  ip4 INTEGER CHECK(ip4 BETWEEN 0 AND 4294967295),"
    "  mac INTEGER CHECK(mac BETWEEN 0 AND 281474976710655),"
    "  PRIMARY KEY (vm_id, nic_id));"
    "CREATE INDEX vm_nic_network ON vm_nic(network_id) WHERE network_id IS NOT NULL;"
    "CREATE TABLE network_mac_next ("
    "  id INTEGER PRIMARY KEY CHECK(id = 1),"
    "  next INTEGER NOT NULL CHECK(next BETWEEN 0 AND 4294967296));"
    "INSERT INTO network_mac_next (id, next) VALUES (1, 0);"
    "ALTER TABLE vm_pci_request ADD COLUMN pf_policy INTEGER NOT NULL DEFAULT 0"
    "  CHECK(pf_policy IN (0, 1, 2));"
    "ALTER TABLE vm_pci_request ADD COLUMN nic_id INTEGER CHECK(nic_id >= 0);"
    "ALTER TABLE users ADD COLUMN quota_leases INTEGER CHECK(quota_leases >= 0);";

/* Migration 13 (issue 12): what the probe says of network functions,
 * typed. perm_mac: the permanent MAC (PERM_MAC, lower
 * case); vf_index: a VF's index under its PF (VF_INDEX). A VF's PF needs
 * no column: physfn (migration 1) holds its address, canonical. NULL when
 * the probe did not say: rows of older probes, and rows before this
 * migration until their host's next report, which report_hash no longer
 * skips (a newer probe may have pushed them already, into attributes). */
static const char migration_13[] = "ALTER TABLE pci_device ADD COLUMN perm_mac TEXT"
                                   "  CHECK (perm_mac IS NULL OR length(perm_mac) = 17);"
                                   "ALTER TABLE pci_device ADD COLUMN vf_index INTEGER"
                                   "  CHECK (vf_index IS NULL OR vf_index BETWEEN 0 AND 65534);"
                                   "UPDATE hosts SET report_hash = NULL;";

/* Migration 14 (issue 13): the storage pool of a host where VMs' context
 * disks go, a libvirt pool name; 'default', libvirt's conventional pool,
 * for every host until told otherwise. */
static const char migration_14[] =
    "ALTER TABLE hosts ADD COLUMN context_pool TEXT NOT NULL DEFAULT 'default'"
    "  CHECK(length(context_pool) BETWEEN 1 AND 128);";

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
  { 1, migration_1, NULL },   { 2, migration_2, NULL },   { 3, migration_3, NULL },
  { 4, migration_4, NULL },   { 5, migration_5, NULL },   { 6, migration_6, migrate_6_requests },
  { 7, migration_7, NULL },   { 8, migration_8, NULL },   { 9, migration_9, migrate_9_typed },
  { 10, migration_10, NULL }, { 11, migration_11, NULL }, { 12, migration_12, NULL },
  { 13, migration_13, NULL }, { 14, migration_14, NULL },
};

#define SCHEMA_VERSION (migrations[G_N_ELEMENTS(migrations) - 1].version)

static int
read_user_version(PpStore *store, GError **error)
{
  g_autoptr(PpDbStmt) stmt = NULL; /* a one-off: finalized, not cached */

  if ((stmt = pp_db_prepare(store->db, "PRAGMA user_version")) == NULL ||
      pp_db_step(stmt) != PP_DB_STEP_ROW) {
    store_set_error(store, error, "opening store '%s': reading the schema version", store->path);
    return -1;
  }
  return pp_db_column_int(stmt, 0);
}

/* Runs static SQL (no values). */
gboolean
store_exec(PpStore *store, const char *sql, GError **error, const char *what)
{
  if (!pp_db_exec(store->db, sql)) {
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
  g_autoptr(PpDbStmt) stmt = NULL; /* a one-off: finalized, not cached */
  PpDbStep rc;

  if ((stmt = pp_db_prepare(store->db, "PRAGMA foreign_key_check")) == NULL) {
    store_set_error(store, error, "opening store '%s': checking foreign keys", store->path);
    return FALSE;
  }
  rc = pp_db_step(stmt);
  if (rc == PP_DB_STEP_ROW) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': migrating the schema to version %d: row %" G_GINT64_FORMAT
                " of table %s refers to a missing row of table %s",
                store->path, version, (gint64)pp_db_column_int64(stmt, 1), store_col_text(stmt, 0),
                store_col_text(stmt, 2));
    return FALSE;
  }
  if (rc != PP_DB_STEP_DONE) {
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
  g_autoptr(PpDbStmt) vms = NULL; /* one-offs: finalized, not cached */
  g_autoptr(PpDbStmt) insert = NULL;
  guint n_vms = 0, n_requests = 0;
  int rc;

  if ((vms = pp_db_prepare(store->db, "SELECT id, template FROM vms ORDER BY id")) == NULL ||
      (insert = pp_db_prepare(store->db, "INSERT INTO vm_pci_request (vm_id, slot, class_code) "
                                         "VALUES (?1, ?2, ?3)")) == NULL) {
    store_set_error(store, error, "reading the VMs' PCI requests");
    return FALSE;
  }
  while ((rc = pp_db_step(vms)) == PP_DB_STEP_ROW) {
    const char *text = store_col_text(vms, 1);
    g_autoptr(PpVmSpec) spec = pp_vm_template_parse(text, strlen(text), NULL);

    n_vms++;
    for (guint i = 0; spec != NULL && i < spec->requests->len; i++) {
      const PpPciRequest *req = &g_array_index(spec->requests, PpPciRequest, i);

      pp_db_bind_int64(insert, 1, pp_db_column_int64(vms, 0));
      pp_db_bind_int(insert, 2, (int)i);
      if (req->class_code >= 0)
        pp_db_bind_int(insert, 3, req->class_code);
      else
        pp_db_bind_null(insert, 3);
      if (pp_db_step(insert) != PP_DB_STEP_DONE) {
        store_set_error(store, error, "recording the PCI requests of VM %" G_GINT64_FORMAT,
                        (gint64)pp_db_column_int64(vms, 0));
        return FALSE;
      }
      pp_db_reset(insert);
      n_requests++;
    }
  }
  if (rc != PP_DB_STEP_DONE) {
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

void
store_address_unpack(gint64 packed, PpPciAddress *ret)
{
  ret->domain = (guint32)(packed >> 16);
  ret->bus = (guint8)(packed >> 8);
  ret->slot = (guint8)((packed >> 3) & 0x1f);
  ret->function = (guint8)(packed & 7);
}

/* Binds @request's typed columns: vendor ?@first, device ?@first+1,
 * address ?@first+2 (NULL where it says none). */
void
store_bind_request(PpDbStmt *stmt, int first, const PpPciRequest *request)
{
  if (request->vendor >= 0)
    pp_db_bind_int(stmt, first, request->vendor);
  else
    pp_db_bind_null(stmt, first);
  if (request->device >= 0)
    pp_db_bind_int(stmt, first + 1, request->device);
  else
    pp_db_bind_null(stmt, first + 1);
  if (request->by_address)
    pp_db_bind_int64(stmt, first + 2, address_pack(&request->address));
  else
    pp_db_bind_null(stmt, first + 2);
}

/* Migration 9's data: the typed columns of every VM stored before, read
 * once from its template. A template that no longer parses (a hand-edited
 * store) gives none: such a VM fails when it is next deployed. Its own
 * SQL, as the migration's is. */
static gboolean
migrate_9_typed(PpStore *store, GError **error)
{
  g_autoptr(PpDbStmt) vms = NULL; /* one-offs: finalized, not cached */
  g_autoptr(PpDbStmt) vm_update = NULL;
  g_autoptr(PpDbStmt) request_update = NULL;
  guint n_vms = 0, n_typed = 0;
  int rc;

  if ((vms = pp_db_prepare(store->db, "SELECT id, template FROM vms ORDER BY id")) == NULL ||
      (vm_update = pp_db_prepare(store->db, "UPDATE vms SET only_host_id = ?2, "
                                            "only_host_name = ?3, domain_spec = ?4 "
                                            "WHERE id = ?1")) == NULL ||
      (request_update = pp_db_prepare(store->db, "UPDATE vm_pci_request SET vendor = ?3, "
                                                 "device = ?4, address = ?5 "
                                                 "WHERE vm_id = ?1 AND slot = ?2")) == NULL) {
    store_set_error(store, error, "reading the VMs' templates");
    return FALSE;
  }
  while ((rc = pp_db_step(vms)) == PP_DB_STEP_ROW) {
    gint64 id = pp_db_column_int64(vms, 0);
    const char *text = store_col_text(vms, 1);
    g_autoptr(PpVmSpec) spec = NULL;
    g_autofree char *domain_spec = NULL;

    n_vms++;
    spec = text != NULL ? pp_vm_template_parse(text, strlen(text), NULL) : NULL;
    if (spec == NULL)
      continue;
    domain_spec = pp_vm_spec_domain_to_json(spec);
    pp_db_bind_int64(vm_update, 1, id);
    if (spec->host_id > 0)
      pp_db_bind_int64(vm_update, 2, spec->host_id);
    else
      pp_db_bind_null(vm_update, 2);
    store_bind_text(vm_update, 3, spec->host_name);
    store_bind_text(vm_update, 4, domain_spec);
    if (pp_db_step(vm_update) != PP_DB_STEP_DONE) {
      store_set_error(store, error, "recording the spec of VM %" G_GINT64_FORMAT, id);
      return FALSE;
    }
    pp_db_reset(vm_update);
    for (guint i = 0; i < spec->requests->len; i++) {
      pp_db_bind_int64(request_update, 1, id);
      pp_db_bind_int(request_update, 2, (int)i);
      store_bind_request(request_update, 3, &g_array_index(spec->requests, PpPciRequest, i));
      if (pp_db_step(request_update) != PP_DB_STEP_DONE) {
        store_set_error(store, error, "recording the PCI requests of VM %" G_GINT64_FORMAT, id);
        return FALSE;
      }
      pp_db_reset(request_update);
    }
    n_typed++;
  }
  if (rc != PP_DB_STEP_DONE) {
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

/* PostgreSQL: a database starts at SCHEMA_PG_BASE, made whole by
 * pp_store_schema_pg (the schema SQLite's migrations 1..14 arrive at); the
 * migrations after it will carry PostgreSQL's SQL beside SQLite's. The
 * version and the store's id live in store_meta. It all happens in one
 * write transaction, whose lock every pcipassd takes: of two daemons that
 * open an empty database at once, one makes the schema and the other finds
 * it made. */
#define SCHEMA_PG_BASE 14

/* The version recorded in store_meta: 0 for an empty database, -1 on an
 * error (set). */
static gint64
read_pg_version(PpStore *store, GError **error)
{
  g_autoptr(PpDbStmt) stmt = NULL;
  const char *text;
  gint64 version;

  if ((stmt = pp_db_prepare(store->db, "SELECT to_regclass('store_meta') IS NOT NULL")) == NULL ||
      pp_db_step(stmt) != PP_DB_STEP_ROW) {
    store_set_error(store, error, "opening store '%s': looking for the schema", store->path);
    return -1;
  }
  if (pp_db_column_int64(stmt, 0) == 0)
    return 0;
  g_clear_pointer(&stmt, pp_db_finalize);
  if ((stmt = pp_db_prepare(store->db, "SELECT value FROM store_meta WHERE key = "
                                       "'schema_version'")) == NULL) {
    store_set_error(store, error, "opening store '%s': reading the schema version", store->path);
    return -1;
  }
  switch (pp_db_step(stmt)) {
  case PP_DB_STEP_ROW:
    break;
  case PP_DB_STEP_DONE:
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': the database has a store_meta table without a "
                "schema_version: it is not a pcipass store, or one whose creation was cut "
                "short; give pcipassd an empty database",
                store->path);
    return -1;
  default:
    store_set_error(store, error, "opening store '%s': reading the schema version", store->path);
    return -1;
  }
  text = store_col_text(stmt, 0);
  if (!g_ascii_string_to_signed(text, 10, 1, G_MAXINT, &version, NULL)) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': store_meta's schema_version is '%s', not a version number",
                store->path, text);
    return -1;
  }
  return version;
}

static gboolean
store_migrate_pg(PpStore *store, GError **error)
{
  g_auto(StoreTxn) txn = { NULL };
  g_autofree char *meta = NULL;
  gint64 version;

  if (!store_txn_begin(store, &txn, "opening store", error)) {
    g_prefix_error(error, "'%s': ", store->path);
    return FALSE;
  }
  version = read_pg_version(store, error);
  if (version < 0)
    return FALSE;
  if (version > SCHEMA_VERSION) {
    g_set_error(error, PP_STORE_ERROR, PP_STORE_ERROR_FAILED,
                "opening store '%s': its schema version is %" G_GINT64_FORMAT
                ", newer than the %d this pcipassd knows; run a newer pcipassd",
                store->path, version, SCHEMA_VERSION);
    return FALSE;
  }
  if (version == 0) {
    /* The version is ours, not input. */
    meta = g_strdup_printf("INSERT INTO store_meta (key, value) VALUES ('schema_version', '%d'), "
                           "('id', replace(gen_random_uuid()::text, '-', ''))",
                           SCHEMA_PG_BASE);
    if (!store_exec(store, pp_store_schema_pg, error, "making the schema") ||
        !store_exec(store, meta, error, "recording the schema version"))
      return FALSE;
    g_debug("'%s': schema made at version %d", store->path, SCHEMA_PG_BASE);
  }
  /* A migration after 14 needs its PostgreSQL SQL, run here. */
  G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == SCHEMA_PG_BASE);
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
gboolean
store_migrate(PpStore *store, GError **error)
{
  if (pp_db_get_kind(store->db) == PP_DB_KIND_POSTGRESQL) {
    if (!store_migrate_pg(store, error))
      return FALSE;
    store->schema_version = SCHEMA_VERSION;
    return TRUE;
  }
  if (!store_exec(store, "PRAGMA foreign_keys = OFF", error, "turning foreign keys off"))
    return FALSE;
  if (!store_migrate_locked(store, error))
    return FALSE;
  if (!store_exec(store, "PRAGMA foreign_keys = ON", error, "turning foreign keys on"))
    return FALSE;
  store->schema_version = SCHEMA_VERSION;
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
