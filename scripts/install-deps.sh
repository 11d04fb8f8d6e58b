#!/usr/bin/env bash
# Installs the Debian 12 packages Sluice needs to build, test and benchmark,
# skipping those already present (so a second run costs a second, not a minute).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3
  clang libclang-rt-14-dev clang-format
  libgtest-dev libgmock-dev libbenchmark-dev
  libasio-dev libspdlog-dev libfmt-dev libcli11-dev
  libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev libssl-dev
  librdkafka-dev libzookeeper-mt-dev libcpp-httplib-dev
  kcat prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
