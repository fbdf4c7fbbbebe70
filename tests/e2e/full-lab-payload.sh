#!/bin/bash
# Runs inside tests/lab/full-lab's L1 guest (a Debian root with libvirtd
# running, an emulated Intel IOMMU, an e1000e at 01:00.0 driven by e1000e),
# as the payload tests/e2e/run-full-lab gives the lab (the lab's l1-init
# runs it once libvirtd is up). The same path as
# the lab, through pcipass instead of virsh: pcipassd with its SQLite store,
# the guest itself as a host (local probe, qemu:///system), `pcipass vm
# create` of a VM asking for 8086:10d3, a second one that waits for it,
# terminate, then the pre-bound way (pcipass-vfio bind, a --prebound host,
# managed='no'). Prints one "RESULT: pcipass-NAME PASS|FAIL ..." line per
# check (31 in quick mode, 36 with MODE=full); run-full-lab counts them.
# The first VM asks for the e1000e as a PCI NIC on a virtual network
# (issue 12): its lease, its domain XML, the lease given back; and its
# context disk (issue 13): a CD-ROM from a volume of the host's pool,
# labelled CONTEXT, holding what `pcipass vm context` says, gone at
# terminate. In full mode the nested guest runs pcipass-context from it
# (tests/e2e/l2-context-init) and reaches the runner through the e1000e.
# pcipass's binaries are in /lab/bin, on PATH.
export PATH=/lab/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C
export LIBVIRT_DEFAULT_URI=qemu:///system
# Sanitized builds stop at the first error, and know the leaks of libraries
# we do not own.
export ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=print_suppressions=0:suppressions=/lab/lsan.supp
MODE=${MODE:-quick}
up() { cut -d' ' -f1 /proc/uptime; }
R() { echo "RESULT: pcipass-$*"; }
say() { echo "===== [t=$(up)s] $*"; }
drv_of() { [ -e /sys/bus/pci/devices/$1/driver ] && basename $(readlink /sys/bus/pci/devices/$1/driver) || echo none; }
grp_of() { basename $(readlink /sys/bus/pci/devices/$1/iommu_group) 2>/dev/null || echo none; }
# The VM column of 01:00.0 in `pcipass host show l1` ("free" when empty).
vm_on_e1() {
  pcipass host show l1 2>/dev/null | awk '$2 == "01:00.0" && $1 ~ /^[0-9]+$/ {print $1; f=1; exit}
                                          $1 == "01:00.0" {print "free"; f=1; exit}
                                          END {if (!f) print "absent"}'
}
# A string field of `pcipass vm show ID --json`.
vm_field() { pcipass vm show "$1" --json 2>/dev/null | grep -o "\"$2\": *\"[^\"]*\"" | head -1 | sed 's/.*: *"//; s/"$//'; }
# Waits up to $3 seconds for VM $1 to be in state $2; prints the seconds.
wait_state() {
  local i=0
  while [ "$(vm_field $1 state)" != "$2" ] && [ $i -lt $3 ]; do sleep 2; i=$((i + 2)); done
  echo $i
}
# Creates a VM from template $1; prints its id, or $2 when none came.
create_vm() {
  local id
  id=$(pcipass vm create "$1" --json 2>&1 | grep -o '"id": *[0-9]*' | head -1 | grep -o '[0-9]*$')
  echo "${id:-$2}"
}
# Waits up to $3 seconds for `pcipass vm show $1 --json` to hold $2.
wait_shows() {
  local i=0
  while ! pcipass vm show $1 --json 2>/dev/null | grep -q "$2" && [ $i -lt $3 ]; do sleep 2; i=$((i + 2)); done
}
E1=0000:01:00.0
G=$(grp_of $E1)
ST=$(mktemp -d /tmp/pcipass-XXXXXX)
export PCIPASS_SOCKET=$ST/pcipassd.sock
say "pcipass: e1000e at $E1, IOMMU group $G, driver $(drv_of $E1), state in $ST"

# 1. the host is fit for passthrough
pcipass-vfio check > $ST/check.txt 2>&1; rc=$?
sed 's/^/  /' $ST/check.txt
if [ $rc = 0 ] && ! grep -q '^fail' $ST/check.txt; then R "vfio-check PASS exit 0, no failed check"
else R "vfio-check FAIL exit $rc"; fi

# 2. the probe offers the e1000e, and only it
cat > $ST/pci.conf <<'EOF'
:filter: '8086:10d3'
EOF
pcipass-probe --config $ST/pci.conf --json > $ST/probe.json 2> $ST/probe.err; rc=$?
if [ $rc = 0 ] && grep -q '"ADDRESS": "0000:01:00:0"' $ST/probe.json \
   && [ "$(grep -c '"ADDRESS"' $ST/probe.json)" = 1 ]; then
  R "probe PASS offers 01:00.0 (8086:10d3) alone"
else R "probe FAIL exit $rc $(head -c 300 $ST/probe.err) $(grep '"ADDRESS"' $ST/probe.json | tr '\n' ' ')"; fi

# The host's storage pool for context disks: libvirt's conventional
# "default", where the lab keeps the L2 kernel.
virsh pool-define-as default dir --target /var/lib/libvirt/images > $ST/pool.txt 2>&1 \
  && virsh pool-start default >> $ST/pool.txt 2>&1 || sed 's/^/  pool: /' $ST/pool.txt
modprobe loop 2>/dev/null; modprobe isofs 2>/dev/null

# 3. pcipassd: SQLite in the state folder, the API on a local socket
pcipassd --state-dir $ST/state --socket $PCIPASS_SOCKET --monitor-interval 15 \
  --schedule-interval 2 --log-level debug > $ST/pcipassd.log 2>&1 &
DP=$!
i=0; while [ ! -S $PCIPASS_SOCKET ] && [ $i -lt 60 ] && kill -0 $DP 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
[ -S $PCIPASS_SOCKET ] && R "daemon PASS pcipassd (pid $DP) serves $PCIPASS_SOCKET" \
  || R "daemon FAIL no socket; $(tail -5 $ST/pcipassd.log | tr '\n' ' ')"

# 4. the guest itself as a host
pcipass host create l1 --probe-command "/lab/bin/pcipass-probe --config $ST/pci.conf" \
  --libvirt-uri qemu:///system > $ST/host.txt 2>&1; rc=$?
cat $ST/host.txt
[ $rc = 0 ] && R "host-create PASS host l1 added" || R "host-create FAIL exit $rc"
i=0; while [ "$(vm_on_e1)" = absent ] && [ $i -lt 120 ]; do sleep 2; i=$((i + 2)); done
pcipass host show l1 2>&1 | sed 's/^/  /'
[ "$(vm_on_e1)" = free ] && R "host-probed PASS after ${i}s the host table shows 01:00.0, free" \
  || R "host-probed FAIL 01:00.0 is $(vm_on_e1) after ${i}s"

# 5. a VM that asks for the e1000e: the first as a PCI NIC on a network
# (QEMU's user network behind the e1000e in full mode: 10.0.2.0/24, its
# gateway 10.0.2.2, its DNS 10.0.2.3)
cat > $ST/net.tmpl <<'EOF'
NAME = "lab"
VN_MAD = "dummy"
NETWORK_ADDRESS = "10.0.2.0"
NETWORK_MASK = "255.255.255.0"
GATEWAY = "10.0.2.2"
DNS = "10.0.2.3"
AR = [ TYPE = "IP4", IP = "10.0.2.15", SIZE = 2 ]
EOF
pcipass net create $ST/net.tmpl 2>&1 | sed 's/^/  /'
L2CMD="console=ttyS0 quiet panic=-1 rdinit=/init cryptomgr.notests"
# full mode: the port the runner listens on, for the nested guest
[ -s /lab/runner-port ] && L2CMD="$L2CMD l2.port=$(cat /lab/runner-port)"
for n in a b; do
  if [ $n = a ]; then PCI='PCI = [ TYPE = "NIC", NETWORK = "lab", VENDOR = "8086", DEVICE = "10d3" ]
CONTEXT = [ SET_HOSTNAME = "l2-$NAME" ]'
  else PCI='PCI = [ VENDOR = "8086", DEVICE = "10d3" ]'; fi
  cat > $ST/vm-$n.tmpl <<EOF
NAME = "l2-$n"
CPU = 0.5
MEMORY = 256
$PCI
OS = [ KERNEL = "/var/lib/libvirt/images/l2-vmlinux",
       INITRD = "/var/lib/libvirt/images/l2-initrd.cpio",
       KERNEL_CMD = "$L2CMD" ]
EOF
done
pcipass vm create $ST/vm-a.tmpl --json > $ST/create-a.json 2>&1; rc=$?
V1=$(grep -o '"id": *[0-9]*' $ST/create-a.json | head -1 | grep -o '[0-9]*$')
[ $rc = 0 ] && [ -n "$V1" ] && R "vm-create PASS VM $V1" || R "vm-create FAIL exit $rc $(head -c 300 $ST/create-a.json)"
V1=${V1:-1}
t1=$(up); s=$(wait_state $V1 running 300); t2=$(up)
D1=pcipass-$V1
say "VM $V1: $(vm_field $V1 state) after $t1 -> $t2"
pcipass vm show $V1 2>&1 | sed 's/^/  /'
[ "$(vm_field $V1 state)" = running ] && R "running PASS VM $V1 running after ${s}s (domain $D1)" \
  || R "running FAIL VM $V1 is $(vm_field $V1 state): $(vm_field $V1 reason)"
QP=$(cat /run/libvirt/qemu/$D1.pid 2>/dev/null)
# the L2 serial console is a pty: read it from now on
PTY=$(virsh ttyconsole $D1 2>/dev/null)
if [ -n "$PTY" ] && [ -c "$PTY" ]; then
  stty -F $PTY raw -echo 2>/dev/null
  cat $PTY > $ST/l2-serial.log 2>/dev/null &
fi
virsh dumpxml $D1 > $ST/domain.xml 2>&1
# (run-full-lab keeps kvm_amd off in L1, whose TCG CPU emulates SVM: this
# libvirt offers no KVM, so pcipassd's kvm domain must run as type qemu)
[ ! -e /dev/kvm ] && grep -q "<domain type='qemu'" $ST/domain.xml \
  && R "domain-type PASS no KVM here: $D1 runs as type qemu" \
  || R "domain-type FAIL /dev/kvm: $(ls /dev/kvm 2>&1); $(head -1 $ST/domain.xml)"

# 5b. its NIC: the network's first address, and the e1000e (no VF) as a
# plain hostdev whose MAC the guest sets (not in the XML)
pcipass vm show $V1 --json > $ST/show-a.json 2>&1
pcipass net show lab --json > $ST/net-a.json 2>&1
grep -q '"kind": *"pci"' $ST/show-a.json && grep -q '"ip": *"10.0.2.15"' $ST/show-a.json \
  && grep -q '"mac": *"02:00:00:00:00:00"' $ST/show-a.json && grep -q "\"vm_id\": *$V1" $ST/net-a.json \
  && R "nic-lease PASS VM $V1's PCI NIC has 10.0.2.15 / 02:00:00:00:00:00 of network lab" \
  || R "nic-lease FAIL $(grep -o '"nics".*' $ST/show-a.json | head -c 300)"
grep -q "<hostdev mode='subsystem' type='pci' managed='yes'>" $ST/domain.xml \
  && grep -q "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>" $ST/domain.xml \
  && ! grep -q "02:00:00:00:00:00" $ST/domain.xml \
  && R "nic-xml PASS the e1000e is a hostdev at the NIC's place, its MAC left to the guest" \
  || R "nic-xml FAIL $(grep -A4 '<hostdev' $ST/domain.xml | tr '\n' ' ' | head -c 300)"

# 5c. its context disk: a CD-ROM from the volume pcipass-N-context.iso of
# the pool "default", labelled CONTEXT, with the context.sh that `pcipass
# vm context` shows (PCI0_IP, PCI0_ADDRESS, ...)
CV=$D1-context.iso
grep -A6 "<disk type='volume' device='cdrom'>" $ST/domain.xml | sed 's/^/  /'
grep -A6 "<disk type='volume' device='cdrom'>" $ST/domain.xml | grep -q "<source pool='default' volume='$CV'" \
  && R "context-xml PASS $D1 has a CD-ROM from volume $CV of pool default" \
  || R "context-xml FAIL $(grep -o "<disk[^>]*>" $ST/domain.xml | tr '\n' ' ')"
pcipass vm context $V1 > $ST/context-api.sh 2>&1
sed 's/^/  /' $ST/context-api.sh
rm -f $ST/ctx.iso; mkdir -p $ST/ctx
virsh vol-download --pool default $CV $ST/ctx.iso > $ST/vol.txt 2>&1
label=$(blkid -p -o value -s LABEL $ST/ctx.iso 2>&1)
mount -o loop,ro -t iso9660 $ST/ctx.iso $ST/ctx > $ST/mount.txt 2>&1
[ "$label" = CONTEXT ] && cmp -s $ST/ctx/context.sh $ST/context-api.sh \
  && grep -q "^PCI0_IP='10.0.2.15'" $ST/ctx/context.sh && grep -q "^PCI0_ADDRESS='0000:01:00.0'" $ST/ctx/context.sh \
  && grep -q "^SET_HOSTNAME='l2-l2-a'" $ST/ctx/context.sh \
  && R "context-disk PASS volume $CV: label CONTEXT, context.sh as pcipass vm context says ($(wc -l < $ST/ctx/context.sh) lines)" \
  || R "context-disk FAIL label '$label'; $(head -c 200 $ST/vol.txt $ST/mount.txt); $(diff $ST/ctx/context.sh $ST/context-api.sh 2>&1 | head -5 | tr '\n' ' ')"
umount $ST/ctx 2>/dev/null

# 6. the host table, the driver, QEMU's file descriptors
[ "$(vm_on_e1)" = "$V1" ] && R "host-table-held PASS 01:00.0 held by VM $V1" \
  || R "host-table-held FAIL 01:00.0 shows '$(vm_on_e1)'"
[ "$(drv_of $E1)" = vfio-pci ] && R "driver-vfio PASS libvirt moved $E1 to vfio-pci" \
  || R "driver-vfio FAIL driver=$(drv_of $E1)"
fds=$(ls -l /proc/$QP/fd 2>/dev/null | grep -o '/dev/vfio/[^ ]*' | sort -u | tr '\n' ' ')
echo "$fds" | grep -q "/dev/vfio/$G " && R "qemu-holds PASS qemu pid $QP holds $fds" \
  || R "qemu-holds FAIL qemu pid '$QP' holds '$fds' (group $G)"
echo "  qemu cmdline: $(tr '\0' ' ' < /proc/$QP/cmdline 2>/dev/null)"

# 7. QEMU's monitor shows the device
virsh qemu-monitor-command $D1 --hmp 'info pci' > $ST/info-pci.txt 2>&1
grep -iE '8086|Ethernet' $ST/info-pci.txt | sed 's/^/  /'
grep -qiE '8086:10d3|Ethernet controller' $ST/info-pci.txt \
  && R "monitor-info-pci PASS QEMU's 'info pci' shows the e1000e" \
  || R "monitor-info-pci FAIL $(head -c 300 $ST/info-pci.txt)"

# 8. full mode: the nested guest's kernel drives the card
if [ "$MODE" = full ]; then
  say "waiting for L2 on $PTY"
  i=0; while ! grep -q L2-DONE $ST/l2-serial.log 2>/dev/null && [ $i -lt 600 ] && [ -d /proc/$QP ]; do
    sleep 2; i=$((i + 2))
  done
  say "L2 wait ended after ${i}s"
  tr -d '\r' < $ST/l2-serial.log 2>/dev/null | grep -E 'L2-|Kernel panic' | sed 's/^/  /'
  grep -q 'L2-PCI: .* 0x8086:0x10d3' $ST/l2-serial.log 2>/dev/null \
    && R "l2-sees-device PASS the L2 kernel enumerates 8086:10d3" || R "l2-sees-device FAIL"
  grep -q 'L2-NET: .* driver=e1000e' $ST/l2-serial.log 2>/dev/null \
    && R "l2-e1000e PASS $(tr -d '\r' < $ST/l2-serial.log | grep 'L2-NET' | head -1 | cut -c1-150)" \
    || R "l2-e1000e FAIL e1000e did not bind in L2"
  # pcipass-context in L2: the disk found by its label, the e1000e by its
  # guest address, its MAC, address and route from the lease and network
  L2LOG=$(tr -d '\r' < $ST/l2-serial.log 2>/dev/null)
  echo "$L2LOG" | grep -q '^L2-CTX-EXIT: 0' \
    && echo "$L2LOG" | grep -q '^L2-ADDR: .*inet 10.0.2.15/24' \
    && echo "$L2LOG" | grep -q '^L2-LINK: .*link/ether 02:00:00:00:00:00' \
    && echo "$L2LOG" | grep -q '^L2-ROUTE: default via 10.0.2.2' \
    && echo "$L2LOG" | grep -q '^L2-TCP: .* from l2-l2-a ' \
    && R "l2-context PASS pcipass-context configured L2's e1000e: 10.0.2.15/24, 02:00:00:00:00:00, default via 10.0.2.2; hostname l2-l2-a" \
    || R "l2-context FAIL $(echo "$L2LOG" | grep -E '^L2-(CTX|ADDR|ROUTE|BLOCK)' | tr '\n' ' ' | cut -c1-400)"
  echo "$L2LOG" | grep -q '^L2-CTX-AGAIN-EXIT: 0' \
    && R "l2-context-again PASS a second run: $(echo "$L2LOG" | grep '^L2-CTX-AGAIN-EXIT' | cut -c1-150)" \
    || R "l2-context-again FAIL $(echo "$L2LOG" | grep '^L2-CTX-AGAIN' | cut -c1-200)"
  echo "$L2LOG" | grep -q '^L2-TCP: .*RUNNER-ACK L2-HELLO' \
    && R "l2-reaches-runner PASS through the passed-through e1000e: $(echo "$L2LOG" | grep '^L2-TCP' | cut -c1-150)" \
    || R "l2-reaches-runner FAIL $(echo "$L2LOG" | grep '^L2-TCP' | cut -c1-200)"
fi

# 9. a second VM for the same device waits, and says for whom
V2=$(create_vm $ST/vm-b.tmpl 2)
wait_shows $V2 "held by VM $V1" 60
pcipass vm show $V2 --json > $ST/show-b.json 2>&1
pcipass vm show $V2 2>&1 | sed 's/^/  /'
[ "$(vm_field $V2 state)" = pending ] && grep -q "held by VM $V1" $ST/show-b.json \
  && R "pending-explained PASS VM $V2 pending: $(grep -o "[^\"]*held by VM ${V1}[^\"]*" $ST/show-b.json | head -1)" \
  || R "pending-explained FAIL VM $V2 is $(vm_field $V2 state): $(grep -o '"explanation".*' $ST/show-b.json | head -c 300)"

# 9b. the domain destroyed outside pcipass (virsh destroy): libvirt's event
# makes the VM poweroff, with the card still reserved for it (VM 2 still
# waits); the card itself is back on e1000e (managed='yes')
virsh destroy $D1 > $ST/destroy.txt 2>&1 || echo "  (virsh destroy failed: $(cat $ST/destroy.txt))"
s=$(wait_state $V1 poweroff 120)
pcipass vm show $V1 2>&1 | sed 's/^/  /'
[ "$(vm_field $V1 state)" = poweroff ] && vm_field $V1 reason | grep -q 'destroyed outside pcipass' \
  && [ "$(vm_on_e1)" = "$V1" ] && [ "$(vm_field $V2 state)" = pending ] \
  && R "destroyed-outside PASS VM $V1 poweroff after ${s}s ($(vm_field $V1 reason | cut -c1-80)), 01:00.0 still reserved for it, VM $V2 still pending" \
  || R "destroyed-outside FAIL VM $V1 is $(vm_field $V1 state): $(vm_field $V1 reason); 01:00.0 shows '$(vm_on_e1)'; VM $V2 is $(vm_field $V2 state)"

# 10. terminate: the domain goes, the e1000e comes back, the table frees it
# (the host is disabled meanwhile, so that VM 2 does not take the device
# before the table has been read; enabling it is what places VM 2)
pcipass host disable l1 > /dev/null 2>&1 || echo "  (host disable failed)"
t1=$(up)
pcipass vm terminate $V1 2>&1 | sed 's/^/  /'
s=$(wait_state $V1 "done" 180)
i=0; while virsh list --name 2>/dev/null | grep -qx $D1 && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
t2=$(up)
say "terminate $V1: $(vm_field $V1 state) after $t1 -> $t2"
virsh list --all 2>&1 | sed 's/^/  /'
! virsh list --name 2>/dev/null | grep -qx $D1 && [ "$(vm_field $V1 state)" = "done" ] \
  && R "terminate-domain-gone PASS VM $V1 done, $D1 gone from virsh list" \
  || R "terminate-domain-gone FAIL VM $V1 is $(vm_field $V1 state): $(vm_field $V1 reason)"
! virsh vol-info --pool default $CV > /dev/null 2>&1 \
  && R "context-removed PASS terminate removed volume $CV" \
  || R "context-removed FAIL $(virsh vol-list default 2>&1 | tr '\n' ' ')"
udevadm settle --timeout=30
i=0; while [ "$(drv_of $E1)" != e1000e ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
N=$(ls /sys/bus/pci/devices/$E1/net 2>/dev/null)
[ "$(drv_of $E1)" = e1000e ] && [ -n "$N" ] && R "reattached-e1000e PASS $E1 back on e1000e (netdev $N)" \
  || R "reattached-e1000e FAIL driver=$(drv_of $E1) netdev=$N"
i=0; while [ "$(vm_on_e1)" != free ] && [ $i -lt 60 ]; do sleep 2; i=$((i + 2)); done
pcipass host show l1 2>&1 | sed 's/^/  /'
[ "$(vm_on_e1)" = free ] && R "host-table-free PASS 01:00.0 free" \
  || R "host-table-free FAIL 01:00.0 shows '$(vm_on_e1)'"
pcipass net show lab --json > $ST/net-b.json 2>&1
grep -q '"used": *0' $ST/net-b.json && ! grep -q '"vm_id": *[0-9]' $ST/net-b.json \
  && R "lease-returned PASS network lab has no lease after VM $V1's terminate" \
  || R "lease-returned FAIL $(head -c 300 $ST/net-b.json)"

# 11. the waiting VM goes next
pcipass host enable l1 > /dev/null 2>&1 || echo "  (host enable failed)"
s=$(wait_state $V2 running 300)
QP2=$(cat /run/libvirt/qemu/pcipass-$V2.pid 2>/dev/null)
fds=$(ls -l /proc/$QP2/fd 2>/dev/null | grep -o '/dev/vfio/[^ ]*' | sort -u | tr '\n' ' ')
[ "$(vm_field $V2 state)" = running ] && [ "$(vm_on_e1)" = "$V2" ] && [ "$(drv_of $E1)" = vfio-pci ] \
  && R "second-placed PASS VM $V2 running after ${s}s on 01:00.0 (vfio-pci; qemu $QP2 holds $fds)" \
  || R "second-placed FAIL VM $V2 is $(vm_field $V2 state): $(vm_field $V2 reason); 01:00.0 shows '$(vm_on_e1)', driver $(drv_of $E1)"
pcipass vm terminate $V2 > /dev/null 2>&1
wait_state $V2 "done" 60 > /dev/null

# 12. the guide's pre-bound way: the device is bound to vfio-pci before any
# VM (pcipass-vfio bind, as vfio-bind.service does at boot), the host is
# --prebound, the domain says managed='no', and the device stays on
# vfio-pci after the VM. l1 goes first (nothing holds its devices now), so
# that one host offers 01:00.0.
pcipass host delete l1 > /dev/null 2>&1 || echo "  (host delete l1 failed)"
pcipass host create l1pb --prebound --probe-command "/lab/bin/pcipass-probe --config $ST/pci.conf" \
  --libvirt-uri qemu:///system > /dev/null 2>&1 || echo "  (host create l1pb failed)"
V3=$(create_vm $ST/vm-a.tmpl 3)
wait_shows $V3 "not vfio-pci" 120
pcipass vm show $V3 --json > $ST/show-c.json 2>&1
[ "$(vm_field $V3 state)" = pending ] && grep -q "pcipass-vfio bind $E1" $ST/show-c.json \
  && R "prebound-waits PASS VM $V3 pending: $(grep -o "[^\"]*not vfio-pci[^\"]*" $ST/show-c.json | head -1)" \
  || R "prebound-waits FAIL VM $V3 is $(vm_field $V3 state): $(grep -o '"explanation".*' $ST/show-c.json | head -c 300)"
pcipass-vfio bind $E1 > $ST/bind.txt 2>&1; rc=$?
sed 's/^/  /' $ST/bind.txt
[ $rc = 0 ] && [ "$(drv_of $E1)" = vfio-pci ] && R "prebound-bind PASS pcipass-vfio bind put $E1 on vfio-pci" \
  || R "prebound-bind FAIL exit $rc, driver $(drv_of $E1)"
pcipass host probe l1pb > /dev/null 2>&1
s=$(wait_state $V3 running 300)
D3=pcipass-$V3
QP3=$(cat /run/libvirt/qemu/$D3.pid 2>/dev/null)
fds=$(ls -l /proc/$QP3/fd 2>/dev/null | grep -o '/dev/vfio/[^ ]*' | sort -u | tr '\n' ' ')
virsh dumpxml $D3 > $ST/domain-c.xml 2>&1
[ "$(vm_field $V3 state)" = running ] && grep -q "<hostdev mode='subsystem' type='pci' managed='no'>" $ST/domain-c.xml \
  && echo "$fds" | grep -q "/dev/vfio/$G " \
  && R "prebound-running PASS VM $V3 running after ${s}s, managed='no', qemu $QP3 holds $fds" \
  || R "prebound-running FAIL VM $V3 is $(vm_field $V3 state): $(vm_field $V3 reason); $(grep -o "<hostdev[^>]*>" $ST/domain-c.xml); fds '$fds'"
pcipass vm terminate $V3 > /dev/null 2>&1
s=$(wait_state $V3 "done" 180)
i=0; while virsh list --name 2>/dev/null | grep -qx $D3 && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
sleep 2
[ "$(vm_field $V3 state)" = "done" ] && [ "$(drv_of $E1)" = vfio-pci ] \
  && R "prebound-stays PASS VM $V3 done, $E1 still on vfio-pci" \
  || R "prebound-stays FAIL VM $V3 is $(vm_field $V3 state), driver $(drv_of $E1)"
pcipass-vfio unbind $E1 > $ST/unbind.txt 2>&1; rc=$?
i=0; while [ "$(drv_of $E1)" != e1000e ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
[ $rc = 0 ] && [ "$(drv_of $E1)" = e1000e ] && R "prebound-unbind PASS pcipass-vfio unbind gave $E1 back to e1000e" \
  || R "prebound-unbind FAIL exit $rc, driver $(drv_of $E1): $(head -c 300 $ST/unbind.txt)"

# 13. a deploy that libvirt refuses for a device: the device is set aside on
# its host with libvirt's words (not offered) until a probe reports it
# again; the VM goes back to pending, and fails after its tries. A second
# pcipassd (its own store; it probes only when asked) whose host's probe
# reports the e1000e at an address L1 does not have (05:00.0).
kill $DP 2>/dev/null; wait $DP 2>/dev/null
printf '#!/bin/sh\n/lab/bin/pcipass-probe --config %s | sed s/01:00/05:00/g\n' $ST/pci.conf > $ST/fake-probe
chmod +x $ST/fake-probe
pcipassd --state-dir $ST/state2 --socket $PCIPASS_SOCKET --monitor-interval 3600 \
  --schedule-interval 2 --deploy-tries 2 --log-level debug > $ST/pcipassd2.log 2>&1 &
DP=$!
i=0; while [ ! -S $PCIPASS_SOCKET ] && [ $i -lt 60 ] && kill -0 $DP 2>/dev/null; do sleep 0.5; i=$((i + 1)); done
pcipass host create fake --probe-command $ST/fake-probe --libvirt-uri qemu:///system > /dev/null 2>&1 \
  || echo "  (host create fake failed)"
i=0; while ! pcipass host show fake 2>/dev/null | grep -q '05:00.0' && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
# (vm-b: vm-a asks for network lab, which this store has not)
V4=$(create_vm $ST/vm-b.tmpl 1)
wait_shows $V4 '"tries": 1' 120
pcipass vm show $V4 2>&1 | sed 's/^/  /'
pcipass host show fake --pci-columns 2>&1 | sed 's/^/  /'
pcipass host show fake --json > $ST/fake.json 2>&1
[ "$(vm_field $V4 state)" = pending ] && grep -q '"set_aside": "libvirt: [^"]*0000:05:00.0' $ST/fake.json \
  && pcipass host show fake 2>/dev/null | grep -q '^05:00.0 set aside until a probe reports it again: libvirt' \
  && R "set-aside PASS VM $V4 pending after a deploy libvirt refused; 05:00.0 set aside: $(grep -o '"set_aside": "[^"]*' $ST/fake.json | cut -c15-140)" \
  || R "set-aside FAIL VM $V4 is $(vm_field $V4 state): $(vm_field $V4 reason); $(grep -o '"set_aside": [^,]*' $ST/fake.json)"
# the probe reports it again: offered again, tried again; the last try fails the VM
pcipass host probe fake > /dev/null 2>&1
s=$(wait_state $V4 failed 120)
pcipass vm show $V4 2>&1 | sed 's/^/  /'
[ "$(vm_field $V4 state)" = failed ] && vm_field $V4 reason | grep -q '^its deploy failed 2 times' \
  && [ "$(pcipass vm show $V4 2>/dev/null | grep -c 'deploying > pending')" = 1 ] \
  && R "set-aside-tries PASS after the probe, VM $V4 tried again and failed: $(vm_field $V4 reason | cut -c1-120)" \
  || R "set-aside-tries FAIL VM $V4 is $(vm_field $V4 state): $(vm_field $V4 reason)"

say "logs (tail)"
grep -vE 'GET /|debug' $ST/pcipassd.log | tail -30 | sed 's/^/  pcipassd: /'
grep -vE 'GET /|debug' $ST/pcipassd2.log 2>/dev/null | tail -15 | sed 's/^/  pcipassd2: /'
for f in /var/log/libvirt/qemu/pcipass-*.log; do tail -8 $f 2>/dev/null | sed "s|^|  ${f##*/}: |"; done
grep -vE 'End of file while reading data' /var/log/libvirt/libvirtd.log 2>/dev/null | grep -iE 'error' \
  | tail -10 | sed 's/^/  libvirtd-log: /'
kill $DP 2>/dev/null; wait $DP 2>/dev/null
exit 0
