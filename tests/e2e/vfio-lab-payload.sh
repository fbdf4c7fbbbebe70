#!/bin/sh
# Runs inside vfio-lab's guest (busybox, Debian's kernel, an emulated Intel
# IOMMU with interrupt remapping, an e1000e and a virtio-net on their own
# root ports), after the lab has loaded vfio-pci. Prints one
# "RESULT: pcipass-NAME PASS|FAIL ..." line per check; run-vfio-lab counts
# them. pcipass-vfio and pcipass-probe are in /payload/bin, on PATH.
R() { echo "RESULT: pcipass-$*"; }
# Sanitized builds stop at the first error, and know the leaks of libraries
# we do not own.
export ASAN_OPTIONS=abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=print_suppressions=0:suppressions=/payload/lsan.supp
pci_find() {
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat $d/vendor)" = "$1" ] && [ "$(cat $d/device)" = "$2" ] && { echo ${d##*/}; return; }
  done
}
drv_of() { [ -e /sys/bus/pci/devices/$1/driver ] && basename $(readlink /sys/bus/pci/devices/$1/driver) || echo none; }
grp_of() { basename $(readlink /sys/bus/pci/devices/$1/iommu_group) 2>/dev/null || echo none; }
# The record of $1 in the probe's JSON output ($2), one attribute a line.
record() { sed -n "/\"ADDRESS\": \"$(echo $1 | sed 's/\.\([0-7]\)$/:\1/')\"/,/}/p" "$2"; }

E1=$(pci_find 0x8086 0x10d3)
G=$(grp_of $E1)
echo "pcipass: e1000e at $E1, IOMMU group $G, driver $(drv_of $E1)"
pcipass-vfio --version

# 1. check passes (no fail; libvirt and the boot unit are not in this guest: warnings)
pcipass-vfio check > /tmp/check.txt 2>&1; rc=$?
cat /tmp/check.txt
if [ $rc = 0 ] && grep -q '^ok    iommu-groups' /tmp/check.txt && grep -q '^ok    interrupt-remapping' /tmp/check.txt \
   && grep -q '^ok    dev-vfio' /tmp/check.txt && ! grep -q '^fail' /tmp/check.txt; then
  R "check PASS exit 0, no failed check"
else R "check FAIL exit $rc"; fi

# 2. list shows the real groups
pcipass-vfio list > /tmp/list.txt 2>&1
cat /tmp/list.txt
if grep -q "^IOMMU group $G: can be passed through" /tmp/list.txt && \
   grep -A1 "^IOMMU group $G:" /tmp/list.txt | grep -q "$E1  8086:10d3:0200  e1000e"; then
  R "list PASS group $G holds $E1 alone, can be passed through"
else R "list FAIL"; fi
# q35's LPC (an ISA bridge), SATA and SMBus share a group, which cannot go
LPC=$(pci_find 0x8086 0x2918)
if grep -q "^IOMMU group $(grp_of $LPC): cannot be passed through: $LPC is the ISA/LPC bridge" /tmp/list.txt; then
  R "list-lpc PASS group $(grp_of $LPC) ($LPC, SATA, SMBus) cannot be passed through"
else R "list-lpc FAIL"; fi
pcipass-vfio bind $(pci_find 0x8086 0x2922) > /tmp/sata.txt 2>&1; rc=$?
[ $rc = 2 ] && grep -q "is the ISA/LPC bridge" /tmp/sata.txt && R "guard-lpc PASS binding the SATA controller is refused" \
  || R "guard-lpc FAIL exit $rc $(cat /tmp/sata.txt)"
n=$(grep -c '^IOMMU group' /tmp/list.txt)
[ "$n" = "$(ls /sys/kernel/iommu_groups | wc -l)" ] && R "list-groups PASS $n groups, as /sys/kernel/iommu_groups" \
  || R "list-groups FAIL $n listed, $(ls /sys/kernel/iommu_groups | wc -l) in sysfs"

# 3. the probe before: IOMMU_GROUP and DRIVER as the kernel says
pcipass-probe --all --json > /tmp/before.json 2>/tmp/probe.err
record $E1 /tmp/before.json > /tmp/rec.txt
if grep -q "\"IOMMU_GROUP\": \"$G\"" /tmp/rec.txt && grep -q '"DRIVER": "e1000e"' /tmp/rec.txt; then
  R "probe-before PASS IOMMU_GROUP=$G DRIVER=e1000e"
else R "probe-before FAIL $(tr '\n' ' ' < /tmp/rec.txt) $(cat /tmp/probe.err)"; fi

# 4. --dry-run writes nothing
pcipass-vfio bind --dry-run $E1 > /tmp/dry.txt 2>&1
cat /tmp/dry.txt
if [ "$(drv_of $E1)" = e1000e ] && grep -q "write 'vfio-pci' to /sys/bus/pci/devices/$E1/driver_override" /tmp/dry.txt; then
  R "dry-run PASS three writes printed, none made"
else R "dry-run FAIL driver=$(drv_of $E1)"; fi

# 5. bind: vfio-pci, /dev/vfio/N
pcipass-vfio bind $E1 > /tmp/bind.txt 2>&1; rc=$?
cat /tmp/bind.txt
if [ $rc = 0 ] && [ "$(drv_of $E1)" = vfio-pci ] && [ -c /dev/vfio/$G ] && grep -q "$E1: e1000e -> vfio-pci" /tmp/bind.txt; then
  R "bind PASS $E1 -> vfio-pci, /dev/vfio/$G is a character device"
else R "bind FAIL exit $rc driver=$(drv_of $E1) $(ls /dev/vfio | tr '\n' ' ')"; fi
pcipass-vfio check > /tmp/check2.txt 2>&1
grep -q "^ok    vfio-groups          1 groups bound to vfio-pci" /tmp/check2.txt \
  && R "check-bound PASS the bound group is whole, with its node" || { cat /tmp/check2.txt; R "check-bound FAIL"; }

# 6. the probe after: DRIVER vfio-pci, same group
pcipass-probe --all --json > /tmp/after.json 2>/dev/null
record $E1 /tmp/after.json > /tmp/rec2.txt
if grep -q "\"IOMMU_GROUP\": \"$G\"" /tmp/rec2.txt && grep -q '"DRIVER": "vfio-pci"' /tmp/rec2.txt; then
  R "probe-after PASS IOMMU_GROUP=$G DRIVER=vfio-pci"
else R "probe-after FAIL $(tr '\n' ' ' < /tmp/rec2.txt)"; fi

# 7. QEMU opens the group and shows the device
ulimit -l unlimited 2>/dev/null
( sleep 3; echo "info pci"; sleep 1; echo quit ) | timeout 120 qemu-system-x86_64 -machine q35 -accel tcg -m 256 \
  -nodefaults -display none -no-reboot -device vfio-pci,host=$E1,id=pt0 -S -monitor stdio > /tmp/qemu.txt 2>&1
rc=$?
grep -iE 'vfio|8086|10d3|Ethernet|error' /tmp/qemu.txt | head -10
if [ $rc = 0 ] && grep -qE '8086:10d3|Ethernet controller' /tmp/qemu.txt && ! grep -qi error /tmp/qemu.txt; then
  R "qemu PASS QEMU opened /dev/vfio/$G and shows 8086:10d3"
else R "qemu FAIL exit $rc $(tail -3 /tmp/qemu.txt | tr '\n' ' ')"; fi

# 8. bind again: nothing to do
pcipass-vfio bind $E1 > /tmp/again.txt 2>&1
grep -q "nothing to do" /tmp/again.txt && R "idempotent PASS" || R "idempotent FAIL $(cat /tmp/again.txt)"

# 8b. a VM holds the group: unbind refuses, names the process, changes nothing
qemu-system-x86_64 -machine q35 -accel tcg -m 128 -nodefaults -display none -monitor none \
  -device vfio-pci,host=$E1 -S > /tmp/qemu2.txt 2>&1 &
QP=$!
for i in $(seq 200); do ls -l /proc/$QP/fd 2>/dev/null | grep -q "/dev/vfio/$G" && break; sleep 0.1; done
pcipass-vfio unbind $E1 > /tmp/inuse.txt 2>&1; rc=$?
cat /tmp/inuse.txt
if [ $rc = 1 ] && grep -q "/dev/vfio/$G is open in pid $QP (qemu-system-x86)" /tmp/inuse.txt && [ "$(drv_of $E1)" = vfio-pci ]; then
  R "unbind-in-use PASS refused while QEMU (pid $QP) holds /dev/vfio/$G"
else R "unbind-in-use FAIL exit $rc driver=$(drv_of $E1) $(ls -l /proc/$QP/fd 2>&1 | grep vfio)"; fi
kill $QP 2>/dev/null; wait $QP 2>/dev/null

# 9. unbind: back to e1000e, override cleared, the probe says so
pcipass-vfio unbind $E1 > /tmp/unbind.txt 2>&1; rc=$?
cat /tmp/unbind.txt
ov=$(cat /sys/bus/pci/devices/$E1/driver_override)
if [ $rc = 0 ] && [ "$(drv_of $E1)" = e1000e ] && [ "$ov" = "(null)" ]; then
  R "unbind PASS $E1 -> e1000e, driver_override cleared"
else R "unbind FAIL exit $rc driver=$(drv_of $E1) override=$ov"; fi
pcipass-probe --all --json > /tmp/last.json 2>/dev/null
record $E1 /tmp/last.json | grep -q '"DRIVER": "e1000e"' && R "probe-restored PASS DRIVER=e1000e" || R "probe-restored FAIL"

# 9b. e1000e unloaded while the device was on vfio-pci: unbind loads it again
if [ -e /sys/bus/pci/drivers/e1000e/module ]; then
  pcipass-vfio bind $E1 > /dev/null 2>&1
  modprobe -r e1000e
  [ -d /sys/bus/pci/drivers/e1000e ] && gone=no || gone=yes
  pcipass-vfio unbind $E1 > /tmp/reload.txt 2>&1; rc=$?
  cat /tmp/reload.txt
  if [ $rc = 0 ] && [ $gone = yes ] && [ "$(drv_of $E1)" = e1000e ]; then
    R "restore-module PASS e1000e unloaded, then loaded again and bound"
  else R "restore-module FAIL exit $rc unloaded=$gone driver=$(drv_of $E1)"; fi
else R "restore-module FAIL e1000e is built in: nothing to unload"; fi

# 10. the virtio-net, from virtio-pci, with JSON
VN=$(pci_find 0x1af4 0x1041); [ -n "$VN" ] || VN=$(pci_find 0x1af4 0x1000)
pcipass-vfio bind --json $VN > /tmp/vn.json 2>&1
grep -q "vfio-pci" /tmp/vn.json && [ "$(drv_of $VN)" = vfio-pci ] && R "bind-virtio PASS $VN -> vfio-pci" \
  || R "bind-virtio FAIL $(cat /tmp/vn.json)"
pcipass-vfio restore $VN > /dev/null 2>&1
[ "$(drv_of $VN)" = virtio-pci ] && R "restore-virtio PASS $VN -> virtio-pci" || R "restore-virtio FAIL driver=$(drv_of $VN)"
