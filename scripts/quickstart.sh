#!/usr/bin/env bash
# The README's first command: install what is missing, build, start one broker
# with embedded defaults (127.0.0.1:9092, data in ./data). Extra arguments go
# to the broker, e.g. --override log.dirs=/tmp/sluice.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec build/release/bin/sluice-broker "$@"
