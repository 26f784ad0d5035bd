#!/usr/bin/env bash
# berth's main job on a fresh machine: sets it up (scripts/setup.sh), then runs `berth lab demo` —
# a 2-node lab with an embedded store and a VXLAN overlay, a busybox image built from Debian's
# busybox-static, a container from it on each node pinging the other, a summary and a clean teardown.
# Everything runs inside network namespaces the lab creates; nothing touches the host's network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/berth lab demo "$@"
