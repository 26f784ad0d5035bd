#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test: unit and privileged here, then the cgroup
# tests in a cgroup v2 VM. Ends with "N passed, N failed". With arguments: only those suites, no VM.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node test/all.js "$@"
