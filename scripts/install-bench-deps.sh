#!/usr/bin/env bash
# Installs the Debian 12 packages the benchmarks need beyond the build: the
# peers bench/run.sh --peers measures, nats-server (JetStream) and
# redis-server (Streams; brings redis-benchmark and redis-cli), and gnuplot
# for bench/scaling.sh's plots. Skips those already present. Not needed to
# build or test Sluice.
set -euo pipefail

PACKAGES=(nats-server redis-server redis-tools gnuplot-nox fonts-dejavu-core python3)

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
