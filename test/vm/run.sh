#!/bin/sh
# Runs privileged tests inside a QEMU guest of Debian's kernel: the cgroups tests, booted with
# `cgroup_no_v1=all` so the cgroup v2 driver is exercised on a pure v2 host, and the tests of what this
# machine's kernel lacks (IPIP tunnels: privileged/encap-ipip). The guest loads Debian's modules on demand
# from the host's /lib/modules (test/vm/init.sh). It sees this machine's root filesystem read-only over 9p
# with a tmpfs overlay on top (nothing in the guest can change the host), and runs the compiled tests from
# dist/, its lab waits stretched by BERTH_VM_TIME_SCALE (default 6: emulation starts processes slowly).
# Prints the guest's "N passed, N failed" line and exits non-zero when anything failed.
#
# Needs: qemu-system-x86 linux-image-amd64 busybox-static (Debian), a prior `npm run build`.
# Usage: test/vm/run.sh [suite ...]   (default: every privileged/cgroups-* test, and privileged/encap-ipip)
# KVM hangs on these machines, so the guest runs under TCG emulation (-accel tcg).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kernel=${BERTH_VM_KERNEL:-$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kernel" ] || { echo "no kernel in /boot: apt-get install linux-image-amd64" >&2; echo "0 passed, 1 failed"; exit 1; }
kver=${kernel#/boot/vmlinuz-}
busybox=$(command -v busybox) || { echo "busybox-static is required" >&2; echo "0 passed, 1 failed"; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86 is required" >&2; echo "0 passed, 1 failed"; exit 1; }

if [ $# -eq 0 ]; then
  set --
  for f in "$repo"/dist/test/privileged/cgroups-*.test.js; do
    [ -e "$f" ] || continue
    n=$(basename "$f" .test.js)
    set -- "$@" "privileged/$n"
  done
  [ -e "$repo/dist/test/privileged/encap-ipip.test.js" ] && set -- "$@" privileged/encap-ipip
fi
[ $# -gt 0 ] || { echo "no compiled tests: run npm run build" >&2; echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d /tmp/berth-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# --- initramfs: busybox, the modules for virtio, 9p and overlay, and our init ---
root="$work/initramfs"
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/lower" "$root/upper" "$root/newroot"
cp "$busybox" "$root/bin/busybox"
: > "$root/modules.order"
add_module() { # loads dependencies first, each once
  grep -qx "$1" "$root/modules.order" && return 0
  for dep in $(modinfo -k "$kver" -F depends "$1" | tr ',' ' '); do add_module "$dep"; done
  file=$(modinfo -k "$kver" -n "$1")
  case "$file" in (*.ko) cp "$file" "$root/lib/modules/$1.ko" ;; (*) echo "$1 is built in or compressed: $file" >&2; return 0 ;; esac
  echo "$1" >> "$root/modules.order"
}
for m in virtio_pci 9pnet_virtio 9p overlay; do add_module "$m"; done
cp "$here/init.sh" "$root/init"
chmod +x "$root/init"
echo "$repo" > "$root/repo"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

# --- boot ---
log="$work/console.log"
timeout_s=${BERTH_VM_TIMEOUT:-1200} # a hang guard: the run takes 6-9 minutes on a busy machine
timeout "$timeout_s" qemu-system-x86_64 \
  -accel tcg -m "${BERTH_VM_MEM:-2048}" -smp 2 -nographic -no-reboot \
  -kernel "$kernel" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all berth.timescale=${BERTH_VM_TIME_SCALE:-6} berth.tests=$(echo "$@" | tr ' ' ',')" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$repo",mount_tag=checkout,security_model=none,readonly=on,multidevs=remap \
  -nic none </dev/null 2>&1 | tee "$log" || true

summary=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | tr -d '\r')
if [ -z "$summary" ]; then
  echo "the guest printed no summary (boot failure or timeout after ${timeout_s}s)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
status=$(grep -aE '^berth-vm: tests exited with status [0-9]+' "$log" | tail -n 1 | tr -dc '0-9')
case "$summary" in
  ("0 passed, 0 failed") echo "0 passed, 1 failed"; exit 1 ;; # the runner died before any test reported
  (*" 0 failed") [ "$status" = 0 ] && { echo "$summary"; exit 0; } ;;
esac
# a runner that failed outside its tests counts as one more failure
case "$summary" in (*" 0 failed") summary="${summary% 0 failed} 1 failed" ;; esac
echo "$summary"
exit 1
