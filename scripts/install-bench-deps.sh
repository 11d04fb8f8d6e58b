#!/usr/bin/env bash
# Installs the Debian 12 packages the benchmarks need beyond the build: the
# peers bench/run.sh --peers measures, nats-server (JetStream) and
# redis-server (Streams; brings redis-benchmark and redis-cli), and gnuplot
# for bench/scaling.sh's plots. Skips those already present. Not needed to
# build or test Sluice.
set -euo pipefail
. "$(dirname "$0")/apt_packages.sh"

PACKAGES=(nats-server redis-server redis-tools gnuplot-nox fonts-dejavu-core python3)

mapfile -t missing < <(missing_packages "${PACKAGES[@]}")
apt_install "${missing[@]}"
