#!/bin/busybox sh
# PID 1 of the test guest (test/vm/run.sh): host root over 9p read-only + tmpfs overlay, cgroup2 only,
# modules loaded on demand from the host's /lib/modules, then the requested tests, then power off. Any
# failure still ends in poweroff so run.sh never hangs.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod "/lib/modules/$m.ko" || echo "insmod $m failed"; done

finish() { echo "berth-vm: $1"; sync; poweroff -f; }

mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /lower || finish "cannot mount the host root"
mount -t tmpfs -o size=1g tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || finish "overlay failed"
# the guest's own kernel filesystems over the host's directories
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
mount -t devtmpfs dev /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t tmpfs tmpfs /newroot/tmp
mount -t tmpfs tmpfs /newroot/run

# The kernel loads modules on demand (a veth, bridge, vxlan or ipip link, an nftables expression) by running
# its modprobe helper in PID 1's root, which is this initramfs: point it at the host's kmod and modules,
# chrooted, so the guest has every module Debian's kernel ships without a list to keep here.
printf '#!/bin/busybox sh\nexec /bin/busybox chroot /newroot /sbin/modprobe "$@"\n' > /bin/modprobe-host
chmod +x /bin/modprobe-host
echo /bin/modprobe-host > /proc/sys/kernel/modprobe

repo=$(cat /repo)
# the checkout has its own export: it may live under /tmp, which the guest covers with a tmpfs above.
# Writable through an overlay, so nothing the tests write reaches the host.
mkdir -p /repo-lower /upper/repo-data /upper/repo-work "/newroot$repo"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 checkout /repo-lower || finish "cannot mount the checkout"
mount -t overlay overlay -o lowerdir=/repo-lower,upperdir=/upper/repo-data,workdir=/upper/repo-work "/newroot$repo" || finish "checkout overlay failed"
# tap keeps run state in <repo>/.tap; the host's copy changes under us while others run tests there
mkdir -p "/newroot$repo/.tap"
mount -t tmpfs tmpfs "/newroot$repo/.tap"
tests=$(sed -n 's/.*berth\.tests=\([^ ]*\).*/\1/p' /proc/cmdline | tr ',' ' ')
# emulation makes every process start slowly: the lab's waits stretch by this much (lib/lab/time-scale.ts)
scale=$(sed -n 's/.*berth\.timescale=\([0-9.]*\).*/\1/p' /proc/cmdline)
echo "berth-vm: kernel $(uname -r), cgroup layout: $(cat /newroot/sys/fs/cgroup/cgroup.controllers)"
chroot /newroot /bin/sh -c "cd '$repo' && export HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin BERTH_LAB_TIME_SCALE=${scale:-1} && exec node test/run.js $tests"
finish "tests exited with status $?"
