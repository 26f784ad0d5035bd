#!/usr/bin/env bash
# Sets up the machine (scripts/setup.sh) and runs every test, unit and privileged. Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node test/run.js "$@"
