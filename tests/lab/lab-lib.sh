# What tests/lab/vfio-lab and tests/lab/full-lab do the same way; sourced by
# both (bash). The caller sets LAB_NAME (for messages) and LAB_T0 (its
# start, date +%s), and runs with set -euo pipefail.
#
# Nothing here installs anything or runs apt-get update: scripts/install-deps
# does, once, before any test runs (two labs running apt at once fought over
# apt's lock). The labs only check, and say what to run; lab_require checks
# that apt's lists know linux-image-amd64 before debian-kernel asks them.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

lab_log() { echo "[$LAB_NAME +$(($(date +%s) - LAB_T0))s] $*"; }
lab_die() {
  echo "$LAB_NAME: $*" >&2
  exit 1
}

# lab_require PACKAGE...: each Debian package is installed and apt's lists
# know linux-image-amd64 (the labs download Debian's kernel); otherwise the
# lab stops, naming what is missing and scripts/install-deps.
lab_require() {
  local p missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
      missing="$missing $p"
  done
  [ -z "$missing" ] ||
    lab_die "missing Debian packages:$missing; run scripts/install-deps (root or sudo), which installs what the labs need"
  apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
    lab_die "apt's package lists do not know linux-image-amd64; run scripts/install-deps (root or sudo), which updates them"
}

# lab_kernel: Debian's kernel with its modules, from tests/lab/debian-kernel
# (downloaded once with apt-get download, unpacked with dpkg, cached in
# PCIPASS_LAB_CACHE, default /var/cache/pcipass-lab, under one flock, so
# that labs and tests that run at once download it once). Sets KVER, KPKG,
# KDIR (the unpacked package, with lib/modules/KVER and its modules.dep),
# VMLINUZ (the bzImage) and VMLINUX (the uncompressed ELF with its PVH entry,
# which QEMU's -kernel boots without the bzImage's XZ decompressor: about
# 7 s less in L1 under TCG, minutes less in a nested L2).
lab_kernel() {
  local out
  out=$("$LAB_DIR/debian-kernel" --modules) ||
    lab_die "tests/lab/debian-kernel could not give Debian's kernel (its messages are above)"
  eval "$out"
  KPKG=linux-image-$KVER
  lab_log "kernel $KVER ($KDIR)"
}

# lab_copy_modules DEST MODULE...: the modules and those they depend on,
# from the kernel, below DEST (an initramfs root), with the module lists
# modprobe needs there.
lab_copy_modules() {
  local dest=$1 m f rel md=$KDIR/lib/modules/$KVER
  shift
  for m in "$@"; do
    for f in $(modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
      rel=${f#"$KDIR"/}
      mkdir -p "$dest/$(dirname "$rel")"
      cp "$f" "$dest/$rel"
    done
  done
  mkdir -p "$dest/lib/modules/$KVER"
  cp "$md"/modules.order "$md"/modules.builtin "$md"/modules.builtin.modinfo "$dest/lib/modules/$KVER/"
  depmod -b "$dest" "$KVER"
}

# lab_copy_libs DEST ELF...: the shared libraries ldd names for each ELF,
# at their own paths below DEST (those already there are kept).
lab_copy_libs() {
  local dest=$1 b l
  shift
  for b in "$@"; do
    for l in $(ldd "$b" 2>/dev/null | awk '$2=="=>" && $3 ~ /^\//{print $3} $1 ~ /^\//{print $1}'); do
      [ -f "$dest/$l" ] || {
        mkdir -p "$dest/$(dirname "$l")"
        cp -L "$l" "$dest/$l"
      }
    done
  done
}

# lab_l2_initrd WORK OUT: the nested (L2) guest's initramfs, built in
# WORK/initrd-l2 and written to OUT (newc cpio): busybox, e1000e.ko and
# tests/lab/l2-init as /init, which lists the PCI devices, drives the
# passed-through e1000e and prints L2-... lines on the serial console.
# For a payload's own L2 (tests/e2e/run-full-lab): L2_INIT=FILE is /init
# instead; L2_MODULES="ahci sr_mod ..." adds those modules and their
# dependencies under /modules, in load order in /modules.order (a module
# built into the kernel adds nothing); L2_FILES="FILE ..." go into /bin.
lab_l2_initrd() {
  local r=$1/initrd-l2 out=$2 m f
  rm -rf "$r"
  mkdir -p "$r"/{bin,proc,sys,dev,modules}
  cp /bin/busybox "$r/bin/busybox"
  cp "$(modprobe -d "$KDIR" -S "$KVER" --show-depends e1000e | awk '$1=="insmod"{print $2}')" "$r/e1000e.ko"
  : > "$r/modules.order"
  for m in ${L2_MODULES:-}; do
    for f in $(modprobe -d "$KDIR" -S "$KVER" --show-depends "$m" | awk '$1=="insmod"{print $2}'); do
      grep -qxF "/modules/${f##*/}" "$r/modules.order" && continue
      cp "$f" "$r/modules/"
      echo "/modules/${f##*/}" >> "$r/modules.order"
    done
  done
  for f in ${L2_FILES:-}; do cp "$f" "$r/bin/"; done
  cp "${L2_INIT:-$LAB_DIR/l2-init}" "$r/init"
  chmod +x "$r/init"
  (cd "$r" && find . | cpio -o -H newc --quiet) >"$out"
}
