#!/bin/bash
# libvirt-real: what pcipassd will learn from a real libvirtd, through
# virsh only. The system libvirtd of this machine (tests/lab/libvirtd-up
# starts it where nothing does) runs three transient domains of type qemu
# (TCG), booted directly from the tiny guest (tests/lab/tiny-guest), with
# the devices pcipassd's domain XML has and no others:
#
#   A  pcipass.poweroff=8: the guest powers itself off (after B and C are
#      listed: at 2 s, a busy machine made it gone before)
#   B  stays up, and is destroyed with virsh destroy
#   C  stays up (pcipass.poweroff=soon is refused by its /init), and its
#      QEMU is killed with SIGKILL
#
# A separate connection (virsh event --loop, started first) records the
# lifecycle events; the test checks each domain's last one, and prints
# every domain's events in the order libvirt sent them. libvirt 9.0 says:
#
#   A  Resumed Unpaused, Started Booted,
#      Shutdown Finished after guest request (VIR_DOMAIN_EVENT_SHUTDOWN 6 /
#      VIR_DOMAIN_EVENT_SHUTDOWN_GUEST 1),
#      Stopped Shutdown  (VIR_DOMAIN_EVENT_STOPPED 5 / _STOPPED_SHUTDOWN 0)
#   B  Resumed Unpaused, Started Booted,
#      Shutdown Finished after host request (6 / _SHUTDOWN_HOST 2: QEMU saw
#      libvirt's SIGTERM; not always sent),
#      Stopped Destroyed (5 / _STOPPED_DESTROYED 1)
#   C  Resumed Unpaused, Started Booted, Stopped Failed (5 / _STOPPED_FAILED 5)
#
# (Resumed Unpaused is 4 / 0, Started Booted 2 / 0.) Transient domains
# vanish when they stop: after the Stopped event, lookups say "Domain not
# found" (virsh: "failed to get domain"), so the reason is in the event
# or nowhere.
#
# Output is TAP. Every domain the test made is destroyed on any exit. Each
# wait is bounded (LIBVIRT_REAL_WAIT, default 180 s) and polls, so a busy
# machine makes the test slower, not failed: 16 to 22 s on a 2-core machine
# at load 4 to 7 once the kernel is cached, 45 s cold at load 10.
set -uo pipefail
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
here=$(cd "$(dirname "$0")" && pwd)
# The system libvirtd is shared with test-lifecycle (which kills it once):
# one of the two at a time.
exec 9>/run/lock/pcipass-libvirtd-tests.lock
flock 9
URI=qemu:///system
WAIT=${LIBVIRT_REAL_WAIT:-180}
prefix="pcipass-libvirt-real-$$-"
A=${prefix}a B=${prefix}b C=${prefix}c

n=0
failed=0
recorder=""
tmp=$(mktemp -d /tmp/pcipass-libvirt-real-XXXXXX)

ok() {
  n=$((n + 1))
  echo "ok $n - $*"
}
not_ok() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $*"
}
# check DESCRIPTION COMMAND...: one test point, from COMMAND's status.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
diag() { sed 's/^/# /'; }
bail() {
  echo "Bail out! $*"
  exit 1
}
virsh_() { timeout 60 virsh -c "$URI" "$@" </dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

cleanup() {
  local d
  # Ours only (by name), whatever state the test stopped in.
  for d in $(virsh_ list --all --name 2>/dev/null | grep "^$prefix"); do
    virsh_ destroy "$d" >/dev/null 2>&1
    virsh_ undefine "$d" >/dev/null 2>&1
  done
  [ -z "$recorder" ] || kill "$recorder" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# wait_until COMMAND...: polls COMMAND until it succeeds, up to WAIT s.
wait_until() {
  local deadline=$(($(date +%s) + WAIT))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# The lifecycle events of domain $1, one a line ("Stopped Destroyed").
events() {
  grep -a "event 'lifecycle' for domain '$1': " "$tmp/events" 2>/dev/null |
    sed "s/.*event 'lifecycle' for domain '$1': //"
}
has_event() { events "$1" | grep -qxF "$2"; }
last_event_is() { [ "$(events "$1" | tail -1)" = "$2" ]; }
console_has() { grep -aqF "$2" "$tmp/$1.console" 2>/dev/null; }
# Transient and stopped: lookups fail, virsh list --all has it not.
gone() {
  local out
  out=$(virsh_ domstate "$1" 2>&1) && return 1
  [ "$out" = "error: failed to get domain '$1'" ] || return 1
  ! virsh_ list --all --name | grep -qxF "$1"
}

# The domain XML of pcipassd (src/core/pp-domain-xml.c) for a VM without
# devices, and a log of the serial console (virtlogd writes it).
domain_xml() {
  cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>$cmdline $2</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <devices>
    <controller type='pci' index='0' model='pcie-root'/>
    <serial type='pty'>
      <log file='$tmp/$1.console' append='off'/>
    </serial>
    <console type='pty'/>
  </devices>
</domain>
EOF
}

echo "TAP version 13"

# ---------------------------------------------------------------- the pieces
if out=$("$here/lab/libvirtd-up" 2>&1); then
  ok "libvirtd-up: $URI answers"
  diag <<<"$out"
else
  diag <<<"$out"
  bail "tests/lab/libvirtd-up could not make $URI answer"
fi
if out=$("$here/lab/libvirtd-up" extra 2>&1); then
  not_ok "libvirtd-up refuses arguments"
else
  check "libvirtd-up refuses arguments (exit 2, says why)" \
    test $? = 2 -a "$out" = "libvirtd-up: takes no arguments"
fi

out=$("$here/lab/tiny-guest/build" 2>"$tmp/build.err") ||
  bail "tests/lab/tiny-guest/build failed: $(cat "$tmp/build.err")"
{
  read -r kernel
  read -r initrd
  read -r cmdline
} <<<"$out"
check "tiny-guest/build: a kernel, an initramfs, a command line" \
  test -s "$kernel" -a -s "$initrd" -a -n "$cmdline"
diag <<<"$out"

# ---------------------------------------------------------------- the recorder
# A connection of its own, for the whole test. It is listening once it
# reports the removal of a domain defined after it started (define and
# undefine until it does: a connection takes a moment).
virsh -c "$URI" event --all --loop --timestamp --timeout $((WAIT * 4)) \
  >"$tmp/events" 2>&1 </dev/null &
recorder=$!
domain_xml "${prefix}sync" "" >"$tmp/sync.xml"
listening() {
  if has_event "${prefix}sync" "Undefined Removed"; then return 0; fi
  kill -0 "$recorder" 2>/dev/null || return 1
  virsh_ define "$tmp/sync.xml" >/dev/null 2>&1
  virsh_ undefine "${prefix}sync" >/dev/null 2>&1
  sleep 0.3
  has_event "${prefix}sync" "Undefined Removed"
}
if wait_until listening; then
  ok "virsh event (a second connection) records lifecycle events"
else
  diag <"$tmp/events"
  bail "virsh event recorded nothing within ${WAIT} s"
fi

# ---------------------------------------------------------------- an error
# A kernel that is not there: libvirt refuses with the path, nothing stays.
kernel=/nonexistent/pcipass-vmlinux domain_xml "${prefix}bad" "" >"$tmp/bad.xml"
if out=$(virsh_ create "$tmp/bad.xml" 2>&1); then
  not_ok "a domain whose kernel is missing is refused"
else
  check "a domain whose kernel is missing is refused, naming the path" \
    grep -q "/nonexistent/pcipass-vmlinux" <<<"$out"
  diag <<<"$out"
fi
check "and leaves no domain behind" gone "${prefix}bad"

# ---------------------------------------------------------------- start A, B, C
declare -A t0 up_ms stop_ms
for spec in "$A:pcipass.poweroff=8" "$B:" "$C:pcipass.poweroff=soon"; do
  name=${spec%%:*}
  short=${name#"$prefix"}
  domain_xml "$name" "${spec#*:}" >"$tmp/$name.xml"
  t0[$name]=$(now_ms)
  what="virsh create ${short^^} (type qemu, ${spec#*:})"
  [ -n "${spec#*:}" ] || what="virsh create ${short^^} (type qemu)"
  if out=$(virsh_ create "$tmp/$name.xml" 2>&1); then
    ok "$what"
  else
    not_ok "$what"
    diag <<<"$out"
  fi
done

listed() { virsh_ list --name | grep -xF -e "$A" -e "$B" -e "$C" | wc -l; }
check "a second connection lists all three" test "$(listed)" = 3
out=$(virsh_ domstate --reason "$B" 2>&1)
check "virsh domstate --reason: running (booted)" test "$out" = "running (booted)"
check "the recorder saw all three start (Started Booted)" \
  wait_until eval 'has_event "$A" "Started Booted" && has_event "$B" "Started Booted" &&
    has_event "$C" "Started Booted"'

for name in "$A" "$B" "$C"; do
  short=${name#"$prefix"}
  if wait_until console_has "$name" "pcipass-tiny-guest: up after"; then
    up_ms[$name]=$(($(now_ms) - ${t0[$name]}))
    ok "${short^^}'s /init prints its line on the console"
  else
    not_ok "${short^^}'s /init prints its line on the console"
  fi
done
check "A's /init: powering off in 8 s" console_has "$A" "powering off in 8 s"
check "B's /init: staying up" console_has "$B" ", staying up"
check "C's /init refuses pcipass.poweroff=soon and stays up" \
  console_has "$C" "bad pcipass.poweroff=soon (want whole seconds, 0 to 86400): staying up"

# ---------------------------------------------------------------- B destroyed, C killed
out=$(virsh_ destroy "$B" 2>&1)
check "virsh destroy B" test "$out" = "Domain '$B' destroyed"
pid=$(cat "/run/libvirt/qemu/$C.pid" 2>/dev/null)
if [ -n "$pid" ] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == qemu-system* ]]; then
  kill -KILL "$pid"
  ok "C's QEMU (pid $pid) killed with SIGKILL"
else
  not_ok "C's QEMU pid from /run/libvirt/qemu/$C.pid ('$pid') is a QEMU"
fi

# ---------------------------------------------------------------- what libvirt says
# name  expected last event   other event expected before it
for spec in "$A|Stopped Shutdown|Shutdown Finished after guest request" \
  "$B|Stopped Destroyed|" "$C|Stopped Failed|"; do
  IFS='|' read -r name last before <<<"$spec"
  short=${name#"$prefix"}
  short=${short^^}
  if wait_until eval 'events "$name" | grep -q "^Stopped "'; then
    stop_ms[$name]=$(($(now_ms) - ${t0[$name]}))
  fi
  check "$short: the last event is '$last'" last_event_is "$name" "$last"
  [ -z "$before" ] || check "$short: '$before' came before it" has_event "$name" "$before"
  # The event may come a moment before libvirt drops the domain.
  check "$short: transient, gone (virsh: failed to get domain)" wait_until gone "$name"
  echo "# $short's lifecycle events: $(events "$name" | paste -sd, | sed 's/,/, /g')"
done
echo "# ms from virsh create to the console line: A ${up_ms[$A]:-?}, B ${up_ms[$B]:-?}," \
  "C ${up_ms[$C]:-?}; to the Stopped event (A by itself after 2 s, B and C after the above):" \
  "A stopped ${stop_ms[$A]:-?}, B ${stop_ms[$B]:-?}, C ${stop_ms[$C]:-?}"

left=$(virsh_ list --all --name 2>&1 | grep "^$prefix")
check "none of the test's domains is left" test -z "$left"

echo "1..$n"
[ $failed -eq 0 ]
