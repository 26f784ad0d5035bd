#!/usr/bin/env bash
# Installs what berth needs on a fresh Debian machine (as root), then builds it. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential python3 iproute2 iptables nftables busybox-static util-linux iputils-ping
  runc containerd podman umoci skopeo containernetworking-plugins
  bird2 gobgpd frr etcd-server iperf3 hyperfine procps bsdutils
  qemu-system-x86 linux-image-amd64 kmod cpio tar
  tcpdump mount strace netcat-openbsd
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit
fi
npm run --silent build
