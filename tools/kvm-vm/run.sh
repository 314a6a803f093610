#!/usr/bin/env bash
# Run a command inside a QEMU (TCG, software-emulated AMD SVM) Linux VM that
# has a working /dev/kvm, with this machine's root filesystem shared read-write.
#
#   tools/kvm-vm/run.sh [--cwd DIR] [-e NAME[=VALUE]]... [--mem SIZE] [--smp N] -- CMD ARGS...
#   tools/kvm-vm/run.sh --check      # compile + run kvm-check.c inside the VM
#
# The command's stdout/stderr are streamed to stdout (via the serial console on
# a terminal, else through a file on the shared filesystem that is followed as it grows)
# and its exit status becomes this script's exit status (125 = VM failure).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/hyperlight-ts/kvm-vm"
CPU_MODEL="${KVM_VM_CPU:-max}"
MEM="${KVM_VM_MEM:-4G}"
SMP="${KVM_VM_SMP:-1}"
CWD="$PWD"
ENV_ARGS=()
CHECK=0

die() { echo "kvm-vm: $*" >&2; exit 125; }
log() { [[ -n "${KVM_VM_VERBOSE:-}" ]] && echo "kvm-vm: $*" >&2 || true; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cwd) CWD="$(cd "$2" && pwd)" || die "bad --cwd $2"; shift 2 ;;
    -e|--env) if [[ "$2" == *=* ]]; then ENV_ARGS+=("$2"); else ENV_ARGS+=("$2=${!2-}"); fi; shift 2 ;;
    --mem) MEM="$2"; shift 2 ;;
    --smp) SMP="$2"; shift 2 ;;
    --check) CHECK=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) break ;;
  esac
done
[[ $CHECK == 1 || $# -gt 0 ]] || die "usage: run.sh [--cwd DIR] -- CMD ARGS... (or --check)"

# --- 1. host packages (Debian apt only) ------------------------------------
APT_UPDATED=0
apt_install() {  # apt_install PKG... : install the ones not yet present
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "kvm-vm: installing ${missing[*]}" >&2
  if [[ $APT_UPDATED == 0 ]]; then apt-get update -qq >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
apt_install qemu-system-x86 busybox-static kmod cpio xz-utils

# --- 2. guest kernel: Debian's linux-image, extracted (never installed) -----
# The cache keeps only the kernel image(s) and the modules the guest needs.
mkdir -p "$CACHE"
KDIR="$CACHE/kernel"
if [[ ! -f "$KDIR/modules.list" ]]; then
  [[ $APT_UPDATED == 1 ]] || { apt-get update -qq >&2; APT_UPDATED=1; }
  KPKG="$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-6\.1\.[^ ]*-amd64\)$/\1/p' | head -n1)"
  [[ -n "$KPKG" ]] || die "cannot find a linux-image-6.1.*-amd64 package"
  echo "kvm-vm: fetching guest kernel $KPKG" >&2
  tmp="$(mktemp -d "$CACHE/dl.XXXXXX")"
  (cd "$tmp" && apt-get download -q "$KPKG" >&2 2>/dev/null) || die "apt-get download $KPKG failed"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  vmlinuz="$(ls "$tmp"/x/boot/vmlinuz-* | head -n1)"
  kver="${vmlinuz##*/vmlinuz-}"
  mkdir -p "$tmp/k/mod"
  cp "$vmlinuz" "$tmp/k/"

  # Resolve module dependencies (topological order) with modinfo.
  declare -A MODPATH=() SEEN=()
  while IFS= read -r f; do n="${f##*/}"; n="${n%.ko}"; MODPATH["${n//-/_}"]="$f"; done \
    < <(find "$tmp/x/lib/modules/$kver/kernel" -name '*.ko')
  add_mod() {
    local m="${1//-/_}" d
    [[ -n "${SEEN[$m]:-}" ]] && return 0
    SEEN[$m]=1
    [[ -n "${MODPATH[$m]:-}" ]] || return 0  # built into the kernel
    for d in $(modinfo -F depends "${MODPATH[$m]}" | tr ',' ' '); do add_mod "$d"; done
    cp "${MODPATH[$m]}" "$tmp/k/mod/$m.ko"
    echo "$m" >> "$tmp/k/modules.list"
  }
  for m in virtio_pci 9pnet_virtio 9p kvm_amd; do add_mod "$m"; done

  # Booting the uncompressed ELF vmlinux (PVH entry) skips the in-guest XZ
  # decompression, which costs ~3 s under TCG. payload_offset (0x248) is
  # relative to the protected-mode code, after (setup_sects + 1) sectors.
  ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz"); po=$(od -An -tu4 -j $((0x248)) -N4 "$vmlinuz")
  xz -dc --single-stream < <(tail -c +$(( (ss + 1) * 512 + po + 1 )) "$vmlinuz") \
    > "$tmp/k/vmlinux-$kver" 2>/dev/null || rm -f "$tmp/k/vmlinux-$kver"
  rm -rf "$KDIR" && mv "$tmp/k" "$KDIR" && rm -rf "$tmp"
fi
VMLINUZ="$(ls "$KDIR"/vmlinuz-* | head -n1)"
KVER="${VMLINUZ##*/vmlinuz-}"
KERNEL="$KDIR/vmlinux-$KVER"
[[ -s "$KERNEL" ]] || KERNEL="$VMLINUZ"

# --- 3. initramfs: busybox + modules for virtio-9p and kvm_amd -------------
INIT_SRC="$(cat <<'EOF'
#!/bin/busybox sh
# Guest init: load modules, mount the host root over 9p, run the command.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
ip link set lo up  # no network, but loopback for local servers in tests
for m in $(cat /modules.list); do insmod /mod/$m.ko 2>/dev/null || echo "kvm-vm: insmod $m failed" >&2; done
CTL= TTY=0 TMPTOP=
for w in $(cat /proc/cmdline); do
  case "$w" in kvmvm.ctl=*) CTL="${w#kvmvm.ctl=}" ;; kvmvm.tty=*) TTY="${w#kvmvm.tty=}" ;; kvmvm.tmptop=*) TMPTOP="${w#kvmvm.tmptop=}" ;; esac
done
R=/newroot TERM=dumb
[ "$TTY" = 1 ] && TERM=xterm-256color
mkdir -p $R
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,access=client hostroot $R ||
  { echo "kvm-vm: cannot mount host root" >&2; poweroff -f; }
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs tmpfs $R/dev/shm
# A fresh tmpfs /tmp (9p cannot hold sockets), but a work tree under the
# host's /tmp stays reachable: bind its top directory back in.
if [ -n "$TMPTOP" ]; then mkdir -p /hosttmp && mount -o bind $R/tmp /hosttmp; fi
mount -t tmpfs tmpfs $R/tmp
if [ -n "$TMPTOP" ]; then mkdir -p "$R/tmp/$TMPTOP" && mount -o bind "/hosttmp/$TMPTOP" "$R/tmp/$TMPTOP"; fi
[ -e /dev/kvm ] || echo "kvm-vm: warning: /dev/kvm missing in guest" >&2
stty -F /dev/console -onlcr 2>/dev/null
RUN="env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=$TERM \
  chroot $R /bin/bash $CTL/cmd.sh"
if [ "$TTY" = 1 ]; then
  $RUN </dev/null; rc=$?
else  # not a terminal (CI): output goes to a file on the shared fs, printed by
  # the host afterwards; heavy serial-console traffic was seen to freeze the VM
  $RUN </dev/null >$R$CTL/output 2>&1; rc=$?
fi
echo "$rc" > $R$CTL/status
sync
umount $R/tmp/* $R/tmp $R/dev/shm $R/dev/pts $R/dev $R/sys $R/proc 2>/dev/null
umount $R 2>/dev/null
poweroff -f
EOF
)"
KEY="$( { echo "$KVER"; cat "$KDIR/modules.list"; echo "$INIT_SRC"; } | sha256sum | cut -c1-16)"
INITRD="$CACHE/initramfs-$KEY.cpio.gz"
if [[ ! -f "$INITRD" ]]; then
  log "building $INITRD"
  root="$(mktemp -d "$CACHE/initrd.XXXXXX")"
  mkdir -p "$root"/{bin,dev,proc,sys,mod,newroot}
  cp /bin/busybox "$root/bin/busybox"
  printf '%s\n' "$INIT_SRC" > "$root/init" && chmod 755 "$root/init"
  cp "$KDIR"/mod/*.ko "$root/mod/" && cp "$KDIR/modules.list" "$root/"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD" && rm -rf "$root"
fi

# --- 4. the command: a script on the shared fs, plus a status file ---------
if [[ $CHECK == 1 ]]; then
  apt_install gcc libc6-dev
  CHECKBIN="$CACHE/kvm-check"
  if [[ ! -x "$CHECKBIN" || "$HERE/kvm-check.c" -nt "$CHECKBIN" ]]; then
    gcc -O2 -Wall -o "$CHECKBIN" "$HERE/kvm-check.c" || die "cannot compile kvm-check.c"
  fi
  set -- sh -c 'ls -l /dev/kvm && grep -o -m1 -w svm /proc/cpuinfo && exec "$0"' "$CHECKBIN"
fi
mkdir -p "$CACHE/runs"
CTL="$(mktemp -d "$CACHE/runs/XXXXXX")"
trap 'rm -rf "$CTL"' EXIT
{
  echo "cd $(printf '%q' "$CWD") || exit 127"
  for kv in ${ENV_ARGS[@]+"${ENV_ARGS[@]}"}; do echo "export $(printf '%q' "$kv")"; done
  printf 'exec'; printf ' %q' "$@"; echo
} > "$CTL/cmd.sh"
[[ "$CTL" != *[[:space:]]* ]] || die "cache path must not contain whitespace: $CTL"

# --- 5. boot ----------------------------------------------------------------
TTY=0; [[ -t 1 ]] && TTY=1
TMPTOP=""; [[ "$CWD" == /tmp/?* ]] && { TMPTOP="${CWD#/tmp/}"; TMPTOP="${TMPTOP%%/*}"; }
log "booting $KVER, cpu=$CPU_MODEL mem=$MEM smp=$SMP"
: > "$CTL/output"
set +e
qemu-system-x86_64 \
  -machine q35,accel=tcg -cpu "$CPU_MODEL" -smp "$SMP" -m "$MEM" \
  -display none -no-reboot -monitor none \
  -chardev stdio,id=con,signal=on -serial chardev:con \
  -kernel "$KERNEL" -initrd "$INITRD" \
  -append "console=ttyS0 quiet loglevel=0 panic=-1 kvmvm.ctl=$CTL kvmvm.tty=$TTY${TMPTOP:+ kvmvm.tmptop=$TMPTOP}" \
  -fsdev local,id=hostroot,path=/,security_model=passthrough,multidevs=remap \
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
  -nodefaults -net none </dev/null &
qemu_pid=$!
# Without a terminal the guest writes the output to a file on the shared fs; follow it while the
# VM runs (tail exits after a last read once QEMU has).
[[ $TTY == 1 ]] || tail -c +1 -s 0.5 --pid="$qemu_pid" -f "$CTL/output" &
wait "$qemu_pid"
qrc=$?
wait
set -e
[[ -f "$CTL/status" ]] || die "VM exited (qemu status $qrc) without reporting the command's status"
exit "$(cat "$CTL/status")"
