#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs to build, test and benchmark,
# skipping those already present (so a second run costs a second, not a minute).
set -euo pipefail
. "$(dirname "$0")/apt_packages.sh"

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  clang libclang-rt-14-dev clang-format lld
  libgtest-dev libgmock-dev libbenchmark-dev
  libasio-dev libspdlog-dev libfmt-dev libcli11-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libssl-dev
  librdkafka-dev libzookeeper-mt-dev libcpp-httplib-dev zookeeper nlohmann-json3-dev
  kcat prometheus
  python3-kafka
)

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
# Node.js and npm for the kafkajs interop tests (tests/interop/node). Checked by
# command, not package: a NodeSource nodejs already bundles npm (and conflicts
# with Debian's npm package).
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

apt_install "${missing[@]}"

# kafkajs (pinned by tests/interop/node/package-lock.json) for the interop tests.
interop_node="$(dirname "$0")/../tests/interop/node"
if [ -f "$interop_node/package-lock.json" ] && [ ! -d "$interop_node/node_modules" ]; then
  echo "installing the kafkajs interop test dependencies (npm ci in tests/interop/node)"
  (cd "$interop_node" && npm ci --no-audit --no-fund)
fi
