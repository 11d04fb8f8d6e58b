#!/usr/bin/env bash
# Installs the Debian 12 packages of the peers the broker benchmark measures
# (bench/run.sh --peers): nats-server (JetStream) and redis-server (Streams;
# brings redis-benchmark and redis-cli). Skips those already present. Not
# needed to build or test Sluice.
set -euo pipefail

PACKAGES=(nats-server redis-server redis-tools)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
