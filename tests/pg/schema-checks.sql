-- The PostgreSQL schema's constraints and triggers (src/server/pp-store-schema-pg.c)
-- refuse what SQLite's schema refuses and accept what it accepts, with the same
-- messages; the change notifications carry "TABLE ID".
--
-- Run on a fresh database holding the store's schema (pp_store_schema_pg, then
-- store_meta's rows or not), as a superuser, on a server that trusts local
-- connections (the notification checks connect back through dblink, from
-- PostgreSQL's contrib):
--   psql -X -q -v ON_ERROR_STOP=1 -d URI -f tests/pg/schema-checks.sql
-- Any wrong outcome RAISEs, so psql exits non-zero; the last line printed is
-- "schema checks: all passed". It leaves its rows behind (and the schema
-- pp_check, dblink's): use a throwaway database.

SET client_min_messages = warning;

-- Helpers, in pg_temp (called as pg_temp.f(...)): gone with the session.

-- Runs @stmt, which must fail with SQLSTATE @code and, unless @msg is NULL,
-- primary message @msg. The failed statement's changes are rolled back (a
-- subtransaction), so what the caller checks next shows nothing changed.
CREATE FUNCTION pg_temp.refused(what text, stmt text, code text, msg text)
  RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  got_code text;
  got_msg text;
BEGIN
  BEGIN
    EXECUTE stmt;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS got_code = RETURNED_SQLSTATE, got_msg = MESSAGE_TEXT;
    IF got_code <> code OR (msg IS NOT NULL AND got_msg IS DISTINCT FROM msg) THEN
      RAISE EXCEPTION '%: refused with % "%", expected % "%"', what, got_code, got_msg, code,
        coalesce(msg, '(any message)');
    END IF;
    RETURN;
  END;
  RAISE EXCEPTION '%: accepted, expected a refusal with % "%"', what, code,
    coalesce(msg, '(any message)');
END $$;

-- Runs @stmt, which must succeed.
CREATE FUNCTION pg_temp.accepted(what text, stmt text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  got_code text;
  got_msg text;
BEGIN
  EXECUTE stmt;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS got_code = RETURNED_SQLSTATE, got_msg = MESSAGE_TEXT;
  RAISE EXCEPTION '%: refused with % "%", expected accepted', what, got_code, got_msg;
END $$;

-- Raises unless @got equals @want (both as text; NULL equals NULL).
CREATE FUNCTION pg_temp.expect(what text, got anyelement, want anyelement)
  RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF got IS DISTINCT FROM want THEN
    RAISE EXCEPTION '%: got %, expected %', what, coalesce(got::text, 'NULL'),
      coalesce(want::text, 'NULL');
  END IF;
END $$;

CREATE FUNCTION pg_temp.user_id(n text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT id FROM users WHERE name = n $$;
CREATE FUNCTION pg_temp.host_id(n text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT id FROM hosts WHERE name = n $$;
CREATE FUNCTION pg_temp.vm_id(n text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT id FROM vms WHERE name = n $$;
CREATE FUNCTION pg_temp.dev_id(host text, address text) RETURNS bigint LANGUAGE sql AS
  $$ SELECT d.id FROM pci_device d JOIN hosts h ON h.id = d.host_id
     WHERE h.name = dev_id.host AND d.address = dev_id.address $$;

-- ---------------------------------------------------------------------------
-- The schema as store_migrate() leaves it
-- ---------------------------------------------------------------------------

DO $$
BEGIN
  PERFORM pg_temp.expect('instr() finds a needle', instr('a,b,c', ',c'), 4);
  PERFORM pg_temp.expect('instr() without the needle', instr('abc', 'x'), 0);
  PERFORM pg_temp.expect('instr() of NULL', instr(NULL, 'x'), NULL::integer);
  PERFORM pg_temp.expect('network_mac_next has its one row',
    (SELECT string_agg(id || ':' || next, ',') FROM network_mac_next), '1:0');
  PERFORM pg_temp.refused('a second network_mac_next row',
    'INSERT INTO network_mac_next (id, next) VALUES (2, 0)', '23514', NULL);
  -- Text compares and sorts by bytes, as SQLite's BINARY collation does,
  -- whatever the database's locale.
  PERFORM pg_temp.expect('text columns not collated "C"',
    (SELECT string_agg(table_name || '.' || column_name, ', ')
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND data_type = 'text'
       AND collation_name IS DISTINCT FROM 'C'), NULL::text);
  PERFORM pg_temp.expect('host names sorted by bytes',
    (SELECT string_agg(n, ',' ORDER BY n)
     FROM (SELECT name FROM (VALUES ('b'), ('B'), ('a-2'), ('a1')) v(name)
           UNION ALL SELECT name FROM hosts) h(n)), 'B,a-2,a1,b');
END $$;

-- ---------------------------------------------------------------------------
-- Fixtures: two hosts with devices, VMs on them and one pending
-- ---------------------------------------------------------------------------

INSERT INTO users (name, admin, created) VALUES ('alice', 1, 1000);
INSERT INTO hosts (name, created) VALUES ('h1', 1000), ('h2', 1000);
INSERT INTO vms (name, owner_id, state, host_id, created, updated)
  SELECT v.name, pg_temp.user_id('alice'), v.state, pg_temp.host_id(v.host), 1000, 1000
  FROM (VALUES ('a1', 'running', 'h1'), ('a2', 'running', 'h1'), ('a3', 'running', 'h2'),
               ('p1', 'pending', NULL)) v(name, state, host);
INSERT INTO pci_device (host_id, address, short_address, vendor, device, class_code)
  SELECT pg_temp.host_id(d.host), d.address, substr(d.address, 6), 4318, 7863, 768
  FROM (VALUES ('h1', '0000:01:00.0'), ('h1', '0000:02:00.0'), ('h1', '0000:03:00.0'),
               ('h2', '0000:01:00.0')) d(host, address);

-- ---------------------------------------------------------------------------
-- Devices: one VM at most, of the VM's own host (pci_device_one_vm,
-- pci_device_insert_free, vms_keep_host)
-- ---------------------------------------------------------------------------

DO $$
DECLARE
  d1 bigint := pg_temp.dev_id('h1', '0000:01:00.0');
  d2 bigint := pg_temp.dev_id('h1', '0000:02:00.0');
  e1 bigint := pg_temp.dev_id('h2', '0000:01:00.0');
  a1 bigint := pg_temp.vm_id('a1');
  a2 bigint := pg_temp.vm_id('a2');
  a3 bigint := pg_temp.vm_id('a3');
  p1 bigint := pg_temp.vm_id('p1');
BEGIN
  PERFORM pg_temp.accepted('a free device given to a VM on its host',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', a1, d1));
  PERFORM pg_temp.refused('a held device given to a second VM',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', a2, d1),
    '23000', 'device is held by another VM');
  PERFORM pg_temp.expect('the held device keeps its VM',
    (SELECT vm_id FROM pci_device WHERE id = d1), a1);
  PERFORM pg_temp.accepted('a held device given again to its own VM',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', a1, d1));
  PERFORM pg_temp.accepted('a held device changing other columns',
    format('UPDATE pci_device SET driver = %L, set_aside = NULL WHERE id = %s', 'vfio-pci', d1));

  PERFORM pg_temp.refused('a VM holding a device of another host',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 1 WHERE id = %s', a1, e1),
    '23000', 'a VM holds devices of its own host only');
  PERFORM pg_temp.refused('a pending VM (on no host) holding a device',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', p1, d2),
    '23000', 'a VM holds devices of its own host only');
  PERFORM pg_temp.refused('a device held by a VM that does not exist',
    format('UPDATE pci_device SET vm_id = 999999, vm_slot = 0 WHERE id = %s', d2),
    '23000', 'a VM holds devices of its own host only');
  PERFORM pg_temp.expect('the refused devices stay free',
    (SELECT count(*) FROM pci_device WHERE id IN (d2, e1) AND vm_id IS NULL), 2::bigint);

  PERFORM pg_temp.refused('a device inserted held by a VM of another host',
    format('INSERT INTO pci_device (host_id, address, short_address, vendor, device, '
           'class_code, vm_id, vm_slot) VALUES (%s, %L, %L, 1, 1, 1, %s, 1)',
           pg_temp.host_id('h2'), '0000:09:00.0', '09:00.0', a1),
    '23000', 'a VM holds devices of its own host only');
  PERFORM pg_temp.expect('the refused device is not there',
    (SELECT count(*) FROM pci_device WHERE address = '0000:09:00.0'), 0::bigint);
  PERFORM pg_temp.accepted('a device inserted held by a VM of its host',
    format('INSERT INTO pci_device (host_id, address, short_address, vendor, device, '
           'class_code, vm_id, vm_slot) VALUES (%s, %L, %L, 1, 1, 1, %s, 0)',
           pg_temp.host_id('h2'), '0000:09:00.0', '09:00.0', a3));
  PERFORM pg_temp.accepted('a device inserted free',
    format('INSERT INTO pci_device (host_id, address, short_address, vendor, device, '
           'class_code) VALUES (%s, %L, %L, 1, 1, 1)',
           pg_temp.host_id('h2'), '0000:0a:00.0', '0a:00.0'));

  PERFORM pg_temp.refused('a VM holding devices moving to another host',
    format('UPDATE vms SET host_id = %s WHERE id = %s', pg_temp.host_id('h2'), a1),
    '23000', 'a VM that holds devices keeps its host until it frees them');
  PERFORM pg_temp.refused('a VM holding devices leaving its host for done',
    format('UPDATE vms SET state = %L, host_id = NULL WHERE id = %s', 'done', a1),
    '23000', 'a VM that holds devices keeps its host until it frees them');
  PERFORM pg_temp.expect('the refused VM keeps its host and state',
    (SELECT state || ' ' || host_id FROM vms WHERE id = a1),
    'running ' || pg_temp.host_id('h1'));
  PERFORM pg_temp.accepted('a VM holding devices setting its host to the same',
    format('UPDATE vms SET host_id = %s, state = %L WHERE id = %s',
           pg_temp.host_id('h1'), 'poweroff', a1));
  PERFORM pg_temp.accepted('a VM holding no device moving to another host',
    format('UPDATE vms SET host_id = %s WHERE id = %s', pg_temp.host_id('h2'), a2));
  PERFORM pg_temp.accepted('a VM moving back',
    format('UPDATE vms SET host_id = %s WHERE id = %s', pg_temp.host_id('h1'), a2));

  PERFORM pg_temp.accepted('a held device freed',
    format('UPDATE pci_device SET vm_id = NULL, vm_slot = NULL WHERE id = %s', d1));
  PERFORM pg_temp.accepted('a freed device given to another VM',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', a2, d1));
  PERFORM pg_temp.accepted('the VM that freed it moving to another host',
    format('UPDATE vms SET host_id = %s WHERE id = %s', pg_temp.host_id('h2'), a1));
  PERFORM pg_temp.accepted('and back',
    format('UPDATE vms SET host_id = %s WHERE id = %s', pg_temp.host_id('h1'), a1));

  -- pci_device's own constraints.
  PERFORM pg_temp.refused('a slot without a VM',
    format('UPDATE pci_device SET vm_slot = 3 WHERE id = %s', d2), '23514', NULL);
  PERFORM pg_temp.refused('a VM without a slot',
    format('UPDATE pci_device SET vm_id = %s WHERE id = %s', a1, d2), '23514', NULL);
  PERFORM pg_temp.refused('a free device gone',
    format('UPDATE pci_device SET gone = 1 WHERE id = %s', d2), '23514', NULL);
  PERFORM pg_temp.accepted('a held device gone',
    format('UPDATE pci_device SET gone = 1 WHERE id = %s', d1));
  PERFORM pg_temp.refused('two devices in one slot of a VM',
    format('UPDATE pci_device SET vm_id = %s, vm_slot = 0 WHERE id = %s', a2, d2),
    '23505', NULL);
  PERFORM pg_temp.refused('a second device at one address of a host',
    format('UPDATE pci_device SET address = %L WHERE id = %s', '0000:01:00.0', d2),
    '23505', NULL);
  PERFORM pg_temp.refused('a vendor past 16 bits',
    format('UPDATE pci_device SET vendor = 65536 WHERE id = %s', d2), '23514', NULL);
  PERFORM pg_temp.refused('an unknown sriov',
    format('UPDATE pci_device SET sriov = %L WHERE id = %s', 'yes', d2), '23514', NULL);
  PERFORM pg_temp.refused('a perm_mac of the wrong length',
    format('UPDATE pci_device SET perm_mac = %L WHERE id = %s', '00:11:22', d2), '23514', NULL);
  PERFORM pg_temp.refused('a VM deleted while it holds a device',
    format('DELETE FROM vms WHERE id = %s', a2), '23503', NULL);
  PERFORM pg_temp.expect('the refused VM is still there',
    (SELECT count(*) FROM vms WHERE id = a2), 1::bigint);
END $$;

-- ---------------------------------------------------------------------------
-- Hosts, VMs, users: their CHECKs and foreign keys
-- ---------------------------------------------------------------------------

DO $$
DECLARE
  h1 bigint := pg_temp.host_id('h1');
  p1 bigint := pg_temp.vm_id('p1');
BEGIN
  PERFORM pg_temp.refused('a host disabled but not in state disabled',
    format('UPDATE hosts SET enabled = 0 WHERE id = %s', h1), '23514', NULL);
  PERFORM pg_temp.accepted('a host disabled',
    format('UPDATE hosts SET enabled = 0, state = %L WHERE id = %s', 'disabled', h1));
  PERFORM pg_temp.refused('a host in state error without an error',
    format('UPDATE hosts SET enabled = 1, state = %L WHERE id = %s', 'error', h1),
    '23514', NULL);
  PERFORM pg_temp.accepted('a host in state error for its libvirt',
    format('UPDATE hosts SET enabled = 1, state = %L, libvirt_error = %L WHERE id = %s',
           'error', 'no answer', h1));
  PERFORM pg_temp.refused('a host with an error not in state error',
    format('UPDATE hosts SET state = %L WHERE id = %s', 'monitored', h1), '23514', NULL);
  PERFORM pg_temp.accepted('a host monitored again',
    format('UPDATE hosts SET state = %L, libvirt_error = NULL WHERE id = %s', 'monitored', h1));
  PERFORM pg_temp.refused('an ssh port past 65535',
    format('UPDATE hosts SET ssh_port = 65536 WHERE id = %s', h1), '23514', NULL);
  PERFORM pg_temp.refused('an empty context pool',
    format('UPDATE hosts SET context_pool = %L WHERE id = %s', '', h1), '23514', NULL);
  PERFORM pg_temp.refused('a second host of one name',
    'INSERT INTO hosts (name, created) VALUES (''h1'', 1)', '23505', NULL);
  PERFORM pg_temp.refused('a host deleted while VMs are on it',
    format('DELETE FROM hosts WHERE id = %s', h1), '23503', NULL);

  PERFORM pg_temp.refused('a pending VM on a host',
    format('UPDATE vms SET host_id = %s WHERE id = %s', h1, p1), '23514', NULL);
  PERFORM pg_temp.refused('a running VM on no host',
    format('UPDATE vms SET state = %L WHERE id = %s', 'running', p1), '23514', NULL);
  PERFORM pg_temp.refused('an unknown VM state',
    format('UPDATE vms SET state = %L WHERE id = %s', 'sleeping', p1), '23514', NULL);
  PERFORM pg_temp.accepted('a failed VM on no host',
    format('UPDATE vms SET state = %L WHERE id = %s', 'failed', p1));
  PERFORM pg_temp.accepted('a failed VM keeping a host',
    format('UPDATE vms SET host_id = %s WHERE id = %s', h1, p1));
  PERFORM pg_temp.accepted('pending again',
    format('UPDATE vms SET state = %L, host_id = NULL WHERE id = %s', 'pending', p1));
  PERFORM pg_temp.refused('a VM of no user',
    'INSERT INTO vms (name, owner_id, created) VALUES (''x'', 999999, 1)', '23503', NULL);
  PERFORM pg_temp.refused('only_host_id 0',
    format('UPDATE vms SET only_host_id = 0 WHERE id = %s', p1), '23514', NULL);

  PERFORM pg_temp.refused('a token hash not 64 long',
    format('INSERT INTO tokens (user_id, hash, created) VALUES (%s, %L, 5)',
           pg_temp.user_id('alice'), 'abc'), '23514', NULL);
  PERFORM pg_temp.refused('a token expiring at its creation',
    format('INSERT INTO tokens (user_id, hash, created, expires) VALUES (%s, %L, 5, 5)',
           pg_temp.user_id('alice'), repeat('a', 64)), '23514', NULL);
  PERFORM pg_temp.refused('a negative quota',
    format('UPDATE users SET quota_cpu = -1 WHERE id = %s', pg_temp.user_id('alice')),
    '23514', NULL);
  PERFORM pg_temp.refused('an admin flag of 2',
    format('UPDATE users SET admin = 2 WHERE id = %s', pg_temp.user_id('alice')),
    '23514', NULL);
END $$;

-- ---------------------------------------------------------------------------
-- Quotas of new VMs (vms_quota)
-- ---------------------------------------------------------------------------

INSERT INTO users (name, created, quota_vms) VALUES ('bob', 1000, 2);
INSERT INTO users (name, created, quota_cpu) VALUES ('carol', 1000, 400);
INSERT INTO users (name, created, quota_memory_kib) VALUES ('dave', 1000, 1048576);

DO $$
DECLARE
  bob bigint := pg_temp.user_id('bob');
  carol bigint := pg_temp.user_id('carol');
  dave bigint := pg_temp.user_id('dave');
  msg constant text := 'a new VM would pass a quota of its owner';
  ins constant text := 'INSERT INTO vms (name, owner_id, state, cpu, memory_kib, created) '
                       'VALUES (%L, %s, %L, %s, %s, 1000)';
BEGIN
  PERFORM pg_temp.accepted('bob''s first VM', format(ins, 'b1', bob, 'pending', 0, 0));
  PERFORM pg_temp.accepted('bob''s second VM', format(ins, 'b2', bob, 'pending', 0, 0));
  PERFORM pg_temp.refused('bob''s third VM past quota_vms 2',
    format(ins, 'b3', bob, 'pending', 0, 0), '23000', msg);
  PERFORM pg_temp.expect('the refused VM is not there',
    (SELECT count(*) FROM vms WHERE owner_id = bob), 2::bigint);
  PERFORM pg_temp.accepted('bob''s VM inserted done', format(ins, 'b4', bob, 'done', 0, 0));
  PERFORM pg_temp.accepted('bob''s second VM done',
    format('UPDATE vms SET state = %L WHERE id = %s', 'done', pg_temp.vm_id('b2')));
  PERFORM pg_temp.accepted('bob''s third VM, one being done',
    format(ins, 'b3', bob, 'pending', 0, 0));
  PERFORM pg_temp.accepted('bob''s quota lowered below what he has',
    format('UPDATE users SET quota_vms = 1 WHERE id = %s', bob));
  PERFORM pg_temp.refused('bob''s next VM past quota_vms 1',
    format(ins, 'b5', bob, 'pending', 0, 0), '23000', msg);

  PERFORM pg_temp.accepted('carol''s 3 CPUs of 4', format(ins, 'c1', carol, 'pending', 300, 0));
  PERFORM pg_temp.refused('carol''s 2 more CPUs past 4',
    format(ins, 'c2', carol, 'pending', 200, 0), '23000', msg);
  PERFORM pg_temp.accepted('carol''s 1 more CPU, to 4 exactly',
    format(ins, 'c2', carol, 'pending', 100, 0));
  PERFORM pg_temp.refused('carol''s VM of 0.01 CPU more',
    format(ins, 'c3', carol, 'pending', 1, 0), '23000', msg);
  PERFORM pg_temp.accepted('carol''s VM without CPU', format(ins, 'c3', carol, 'pending', 0, 0));

  PERFORM pg_temp.accepted('dave''s 1 GiB', format(ins, 'd1', dave, 'pending', 0, 1048576));
  PERFORM pg_temp.refused('dave''s 1 KiB more',
    format(ins, 'd2', dave, 'pending', 0, 1), '23000', msg);
  PERFORM pg_temp.accepted('dave''s VM without memory',
    format(ins, 'd2', dave, 'pending', 0, 0));

  PERFORM pg_temp.accepted('alice has no quota',
    format(ins, 'a9', pg_temp.user_id('alice'), 'pending', 1000000, 1000000000));
END $$;

-- ---------------------------------------------------------------------------
-- PCI requests: quotas (vm_pci_request_quota) and never changed
-- (vm_pci_request_fixed)
-- ---------------------------------------------------------------------------

INSERT INTO users (name, created, quota_pci) VALUES ('erin', 1000, 2);
INSERT INTO users (name, created) VALUES ('frank', 1000);
INSERT INTO user_pci_quota (user_id, class_code, quota)
  VALUES (pg_temp.user_id('frank'), 770, 1);
INSERT INTO vms (name, owner_id, created)
  VALUES ('e1', pg_temp.user_id('erin'), 1000), ('e2', pg_temp.user_id('erin'), 1000),
         ('f1', pg_temp.user_id('frank'), 1000);
INSERT INTO vms (name, owner_id, state, created)
  VALUES ('e3', pg_temp.user_id('erin'), 'done', 1000);

DO $$
DECLARE
  e1 bigint := pg_temp.vm_id('e1');
  e2 bigint := pg_temp.vm_id('e2');
  e3 bigint := pg_temp.vm_id('e3');
  f1 bigint := pg_temp.vm_id('f1');
  msg constant text := 'a PCI request would pass a quota of its VM''s owner';
  ins constant text := 'INSERT INTO vm_pci_request (vm_id, slot, class_code) VALUES (%s, %s, %s)';
BEGIN
  PERFORM pg_temp.accepted('erin''s first request', format(ins, e1, 0, 'NULL'));
  PERFORM pg_temp.accepted('erin''s second request, of another VM', format(ins, e2, 0, 768));
  PERFORM pg_temp.refused('erin''s third request past quota_pci 2',
    format(ins, e1, 1, 'NULL'), '23000', msg);
  PERFORM pg_temp.expect('the refused request is not there',
    (SELECT count(*) FROM vm_pci_request WHERE vm_id = e1), 1::bigint);
  PERFORM pg_temp.accepted('a request of erin''s done VM', format(ins, e3, 0, 'NULL'));
  PERFORM pg_temp.accepted('erin''s VM done', format('UPDATE vms SET state = %L WHERE id = %s',
                                                       'done', e2));
  PERFORM pg_temp.accepted('erin''s third request, a VM being done', format(ins, e1, 1, 'NULL'));

  PERFORM pg_temp.accepted('frank''s request of his limited class', format(ins, f1, 0, 770));
  PERFORM pg_temp.refused('frank''s second of that class past 1',
    format(ins, f1, 1, 770), '23000', msg);
  PERFORM pg_temp.refused('frank''s request without a class', format(ins, f1, 1, 'NULL'),
    '23000', msg);
  PERFORM pg_temp.accepted('frank''s request of a class without a limit',
    format(ins, f1, 1, 512));

  PERFORM pg_temp.refused('a request changed',
    format('UPDATE vm_pci_request SET pf_policy = 1 WHERE vm_id = %s AND slot = 0', f1),
    '23000', 'a VM''s PCI requests do not change');
  PERFORM pg_temp.refused('a request changed to what it is',
    format('UPDATE vm_pci_request SET class_code = class_code WHERE vm_id = %s', f1),
    '23000', 'a VM''s PCI requests do not change');
  PERFORM pg_temp.expect('the refused change changed nothing',
    (SELECT pf_policy FROM vm_pci_request WHERE vm_id = f1 AND slot = 0), 0::bigint);
  PERFORM pg_temp.accepted('an update of no request',
    'UPDATE vm_pci_request SET pf_policy = 1 WHERE vm_id = -1');
  PERFORM pg_temp.refused('a request by address and vendor',
    format('INSERT INTO vm_pci_request (vm_id, slot, vendor, address) VALUES (%s, 5, 1, 256)',
           pg_temp.vm_id('a9')), '23514', NULL);
  PERFORM pg_temp.refused('a pf_policy of 3',
    format('INSERT INTO vm_pci_request (vm_id, slot, pf_policy) VALUES (%s, 5, 3)',
           pg_temp.vm_id('a9')), '23514', NULL);
  PERFORM pg_temp.accepted('a VM deleted with its requests',
    format('DELETE FROM vms WHERE id = %s', e3));
  PERFORM pg_temp.expect('its requests went with it',
    (SELECT count(*) FROM vm_pci_request WHERE vm_id = e3), 0::bigint);
END $$;

-- ---------------------------------------------------------------------------
-- vm_history: a row at the insert and at each change of state, the newest
-- 100 kept (vms_history_insert, vms_history_update)
-- ---------------------------------------------------------------------------

INSERT INTO vms (name, owner_id, reason, created, updated)
  VALUES ('hv', pg_temp.user_id('alice'), 'made', 2000, 1999);

DO $$
DECLARE
  hv bigint := pg_temp.vm_id('hv');
  first_id bigint;
BEGIN
  PERFORM pg_temp.expect('the insert''s history row',
    (SELECT string_agg(concat_ws('|', at, coalesce(from_state, '-'), to_state, reason,
                                 coalesce(host_name, '-')), ',')
     FROM vm_history WHERE vm_id = hv), '2000|-|pending|made|-');
  SELECT min(id) INTO first_id FROM vm_history WHERE vm_id = hv;

  UPDATE vms SET state = 'deploying', host_id = pg_temp.host_id('h1'), reason = 'placed',
    updated = 2001 WHERE id = hv;
  UPDATE vms SET name = 'hv', template = 'x', updated = 2002 WHERE id = hv;
  UPDATE vms SET state = 'deploying', updated = 2003 WHERE id = hv;
  UPDATE vms SET state = 'running', reason = NULL, updated = 2004 WHERE id = hv;
  UPDATE vms SET state = 'done', host_id = NULL, reason = 'terminated', updated = 2005
    WHERE id = hv;
  PERFORM pg_temp.expect('a row per change of state, none for other updates',
    (SELECT string_agg(concat_ws('|', at, coalesce(from_state, '-'), to_state,
                                 coalesce(reason, '-'), coalesce(host_name, '-')), ','
                       ORDER BY id)
     FROM vm_history WHERE vm_id = hv),
    '2000|-|pending|made|-,2001|pending|deploying|placed|h1,2004|deploying|running|-|h1,'
    '2005|running|done|terminated|h1');

  -- 150 changes more: 1 + 3 + 150 rows made, the newest 100 kept.
  FOR i IN 1..75 LOOP
    UPDATE vms SET state = 'failed', updated = 3000 + 2 * i WHERE id = hv;
    UPDATE vms SET state = 'pending', updated = 3001 + 2 * i WHERE id = hv;
  END LOOP;
  PERFORM pg_temp.expect('the VM keeps its newest 100 rows',
    (SELECT count(*) FROM vm_history WHERE vm_id = hv), 100::bigint);
  PERFORM pg_temp.expect('the oldest kept is the loop''s 51st change',
    (SELECT at FROM vm_history WHERE vm_id = hv ORDER BY id LIMIT 1), 3000::bigint + 2 * 26);
  PERFORM pg_temp.expect('the newest is the last change',
    (SELECT at || ' ' || to_state FROM vm_history WHERE vm_id = hv ORDER BY id DESC LIMIT 1),
    '3151 pending');
  PERFORM pg_temp.expect('the first row is gone',
    (SELECT count(*) FROM vm_history WHERE id = first_id), 0::bigint);
  PERFORM pg_temp.expect('other VMs keep theirs',
    (SELECT count(*) FROM vm_history WHERE vm_id = pg_temp.vm_id('a1')) > 0, true);

  DELETE FROM vms WHERE id = hv;
  PERFORM pg_temp.expect('a deleted VM''s history goes with it',
    (SELECT count(*) FROM vm_history WHERE vm_id = hv), 0::bigint);
END $$;

-- ---------------------------------------------------------------------------
-- Networks: leases counted in network_ar.used (network_lease_count,
-- network_lease_uncount), and their constraints
-- ---------------------------------------------------------------------------

INSERT INTO networks (name, owner_id, template, vn_mad, bridge, created, updated)
  VALUES ('n1', pg_temp.user_id('alice'), 'NAME = n1', 'bridge', 'br0', 1, 1);
INSERT INTO network_ar (network_id, ar_id, type, size, mac, mac_given, ip4)
  SELECT id, 0, 'IP4', 2, 1000, 0, 167772161 FROM networks WHERE name = 'n1';
INSERT INTO network_ar (network_id, ar_id, type, size, mac, mac_given)
  SELECT id, 1, 'ETHER', 8, 2000, 1 FROM networks WHERE name = 'n1';

DO $$
DECLARE
  n1 bigint := (SELECT id FROM networks WHERE name = 'n1');
  a1 bigint := pg_temp.vm_id('a1');
  ins constant text := 'INSERT INTO network_lease (network_id, ar_id, idx, mac, ip4, vm_id, '
                       'nic_id) VALUES (%s, %s, %s, %s, %s, %s, %s)';
BEGIN
  PERFORM pg_temp.accepted('a VM''s lease', format(ins, n1, 0, 0, 1000, 167772161, a1, 0));
  PERFORM pg_temp.expect('used counts it',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 0), 1::bigint);
  PERFORM pg_temp.accepted('a held lease', format(ins, n1, 0, 1, 1001, 167772162, 'NULL',
                                                  'NULL'));
  PERFORM pg_temp.expect('used counts both',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 0), 2::bigint);
  PERFORM pg_temp.expect('the other range counts none',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 1), 0::bigint);
  PERFORM pg_temp.refused('a lease past the range''s size',
    format(ins, n1, 0, 2, 1002, 167772163, 'NULL', 'NULL'), '23514', NULL);
  PERFORM pg_temp.expect('the refused lease is not there, used unchanged',
    (SELECT count(*) || ' ' || max(a.used) FROM network_lease l
     JOIN network_ar a USING (network_id, ar_id) WHERE l.network_id = n1 AND l.ar_id = 0),
    '2 2');
  PERFORM pg_temp.refused('a MAC leased twice in a network',
    format(ins, n1, 1, 0, 1000, 'NULL', 'NULL', 'NULL'), '23505', NULL);
  PERFORM pg_temp.refused('an IPv4 leased twice in a network',
    format(ins, n1, 1, 0, 2000, 167772161, 'NULL', 'NULL'), '23505', NULL);
  PERFORM pg_temp.refused('a NIC with two leases',
    format(ins, n1, 1, 0, 2000, 'NULL', a1, 0), '23505', NULL);
  PERFORM pg_temp.refused('a lease of a VM without a NIC',
    format(ins, n1, 1, 0, 2000, 'NULL', a1, 'NULL'), '23514', NULL);
  PERFORM pg_temp.refused('a lease of a range that does not exist',
    format(ins, n1, 7, 0, 3000, 'NULL', 'NULL', 'NULL'), '23503', NULL);
  PERFORM pg_temp.expect('the refused leases counted nothing',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 1), 0::bigint);
  PERFORM pg_temp.refused('a VM deleted while it holds a lease',
    format('DELETE FROM vms WHERE id = %s', a1), '23503', NULL);

  PERFORM pg_temp.accepted('a lease freed',
    format('DELETE FROM network_lease WHERE network_id = %s AND ar_id = 0 AND idx = 0', n1));
  PERFORM pg_temp.expect('used counts down',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 0), 1::bigint);
  PERFORM pg_temp.accepted('three leases at once',
    format('INSERT INTO network_lease (network_id, ar_id, idx, mac) '
           'SELECT %s, 1, i, 2000 + i FROM generate_series(0, 2) i', n1));
  PERFORM pg_temp.expect('used counts each',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 1), 3::bigint);
  PERFORM pg_temp.accepted('two freed at once',
    format('DELETE FROM network_lease WHERE network_id = %s AND ar_id = 1 AND idx < 2', n1));
  PERFORM pg_temp.expect('used counts each down',
    (SELECT used FROM network_ar WHERE network_id = n1 AND ar_id = 1), 1::bigint);

  PERFORM pg_temp.refused('an 802.1Q network without a VLAN',
    format('UPDATE networks SET vn_mad = %L WHERE id = %s', '802.1Q', n1), '23514', NULL);
  PERFORM pg_temp.refused('a bridge network with a VLAN',
    format('UPDATE networks SET vlan_id = 5 WHERE id = %s', n1), '23514', NULL);
  PERFORM pg_temp.refused('a network address without a prefix',
    format('UPDATE networks SET network_address = 167772160 WHERE id = %s', n1), '23514', NULL);
  PERFORM pg_temp.refused('a second network of one name for one owner',
    format('INSERT INTO networks (name, owner_id, template, vn_mad, created, updated) '
           'VALUES (%L, %s, %L, %L, 1, 1)', 'n1', pg_temp.user_id('alice'), '', 'dummy'),
    '23505', NULL);

  INSERT INTO vm_nic (vm_id, nic_id, network_id) VALUES (a1, 0, n1);
  PERFORM pg_temp.accepted('a network deleted with its ranges and leases',
    format('DELETE FROM networks WHERE id = %s', n1));
  PERFORM pg_temp.expect('its ranges and leases went with it',
    (SELECT count(*) FROM network_ar WHERE network_id = n1)
      + (SELECT count(*) FROM network_lease WHERE network_id = n1), 0::bigint);
  PERFORM pg_temp.expect('a NIC naming it names none',
    (SELECT network_id FROM vm_nic WHERE vm_id = a1 AND nic_id = 0), NULL::bigint);
END $$;

-- ---------------------------------------------------------------------------
-- Change notifications: "TABLE ID" on channel pp_change at each commit that
-- inserted, updated or deleted rows of vms, pci_device, hosts, host_allowance.
-- A second session LISTENs (dblink) and reads what it got.
-- ---------------------------------------------------------------------------

CREATE SCHEMA pp_check;
CREATE EXTENSION dblink SCHEMA pp_check;
SELECT pp_check.dblink_connect('pp_listen',
  format('dbname=%s host=%s port=%s user=%s', current_database(),
         split_part(current_setting('unix_socket_directories'), ',', 1),
         current_setting('port'), current_user)) \g /dev/null
SELECT pp_check.dblink_exec('pp_listen', 'LISTEN pp_change') \g /dev/null

-- Waits up to 10 s for @n notifications on the listener; returns their
-- payloads, sorted, comma-separated (those of one commit come in no promised
-- order when cascades add some).
CREATE FUNCTION pg_temp.notified(n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  got text[] := '{}';
BEGIN
  FOR i IN 1..100 LOOP
    got := got || ARRAY(SELECT extra FROM pp_check.dblink_get_notify('pp_listen')
                        WHERE notify_name = 'pp_change');
    EXIT WHEN cardinality(got) >= n;
    PERFORM pg_sleep(0.1);
  END LOOP;
  PERFORM pg_sleep(0.2);  -- and none more
  got := got || ARRAY(SELECT extra FROM pp_check.dblink_get_notify('pp_listen'));
  RETURN (SELECT string_agg(g, ',' ORDER BY g) FROM unnest(got) g);
END $$;

-- Each statement below commits on its own (psql's autocommit).
INSERT INTO hosts (name, created) VALUES ('nh', 1);
INSERT INTO vms (name, owner_id, state, host_id, created)
  VALUES ('nv', pg_temp.user_id('alice'), 'running', pg_temp.host_id('nh'), 1);
INSERT INTO pci_device (host_id, address, short_address, vendor, device, class_code)
  VALUES (pg_temp.host_id('nh'), '0000:05:00.0', '05:00.0', 1, 1, 1);
INSERT INTO host_allowance (host_id, address, by_name, created)
  VALUES (pg_temp.host_id('nh'), '0000:05:00.0', 'alice', 1);

DO $$
BEGIN
  PERFORM pg_temp.expect('an insert into each watched table',
    pg_temp.notified(4),
    (SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY[
       'hosts ' || pg_temp.host_id('nh'), 'vms ' || pg_temp.vm_id('nv'),
       'pci_device ' || pg_temp.dev_id('nh', '0000:05:00.0'),
       'host_allowance ' || (SELECT id FROM host_allowance WHERE address = '0000:05:00.0'
                             AND host_id = pg_temp.host_id('nh'))]) p));
END $$;

UPDATE pci_device SET vm_id = pg_temp.vm_id('nv'), vm_slot = 0
  WHERE id = pg_temp.dev_id('nh', '0000:05:00.0');
UPDATE hosts SET state = 'monitored' WHERE name = 'nh';
UPDATE users SET quota_leases = 3 WHERE name = 'alice';
INSERT INTO users (name, created) VALUES ('grace', 1);
BEGIN;
UPDATE vms SET reason = 'one' WHERE name = 'nv';
UPDATE vms SET reason = 'two' WHERE name = 'nv';
COMMIT;

DO $$
BEGIN
  PERFORM pg_temp.expect('updates, and none for unwatched tables, one per row and commit',
    pg_temp.notified(3),
    (SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY[
       'pci_device ' || pg_temp.dev_id('nh', '0000:05:00.0'), 'hosts ' || pg_temp.host_id('nh'),
       'vms ' || pg_temp.vm_id('nv')]) p));
END $$;

BEGIN;
UPDATE hosts SET ssh_user = 'root' WHERE name = 'nh';
ROLLBACK;

DO $$
BEGIN
  PERFORM pg_temp.expect('nothing for a rolled back change', pg_temp.notified(0), NULL::text);
END $$;

-- Ids remembered across the deletes, in a temporary table.
CREATE TEMPORARY TABLE gone_ids AS
  SELECT pg_temp.host_id('nh') AS host, pg_temp.vm_id('nv') AS vm,
         pg_temp.dev_id('nh', '0000:05:00.0') AS dev,
         (SELECT id FROM host_allowance WHERE host_id = pg_temp.host_id('nh')) AS allowance;

UPDATE pci_device SET vm_id = NULL, vm_slot = NULL WHERE id = (SELECT dev FROM gone_ids);
DELETE FROM vms WHERE id = (SELECT vm FROM gone_ids);
DELETE FROM hosts WHERE id = (SELECT host FROM gone_ids);

DO $$
DECLARE
  g record;
BEGIN
  SELECT * INTO g FROM gone_ids;
  PERFORM pg_temp.expect('a device freed, deletes with OLD.id, and the rows a cascade deleted',
    pg_temp.notified(5),
    (SELECT string_agg(p, ',' ORDER BY p) FROM unnest(ARRAY[
       'pci_device ' || g.dev, 'vms ' || g.vm, 'hosts ' || g.host, 'pci_device ' || g.dev,
       'host_allowance ' || g.allowance]) p));
END $$;

SELECT pp_check.dblink_disconnect('pp_listen') \g /dev/null

\echo schema checks: all passed
