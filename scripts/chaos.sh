#!/usr/bin/env bash
# A longer randomized fault run than ctest's: tests/faults/chaos_test.cc
# (kill -9 of random brokers and of the controller, SIGSTOP/SIGCONT,
# ZooKeeper server kills and restarts, one after another, the cluster healing
# between them) under the queue workload, judged at the end by the checkers
# in tests/support (every acknowledged write exactly once at its offset, one
# leader per epoch, replica logs identical below the high watermark).
#
#   scripts/chaos.sh [seconds] [seed] [flavour]
#     seconds  time spent injecting faults (default 300)
#     seed     replays an earlier run's faults (default: random; printed)
#     flavour  build to use: asan (default), tsan or release
#
# Prints each fault as it is injected and the checkers' summary; exits
# non-zero if a check failed. Needs root for nothing: the faults here are
# signals and process restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
seed="${2:-}"
flavour="${3:-asan}"

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/sluice-ccache}"
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
scripts/build.sh "$flavour" --target fault_chaos_test sluice-broker

export SLUICE_CHAOS_SECONDS="$seconds"
if [ -n "$seed" ]; then export SLUICE_CHAOS_SEED="$seed"; fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-exitcode=66 second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/tsan.supp}"

log="build/$flavour/chaos-$(date +%Y%m%d-%H%M%S).log"
status=0
# The timeout: the faults, the heal after each (at most a minute) and the
# final checks; librdkafka's own log lines (%N|...) stay in the log file only.
timeout $((seconds * 3 + 600)) "build/$flavour/bin/fault_chaos_test" >"$log" 2>&1 || status=$?
grep -E '^chaos:|^faults injected:|^partition states:|^replica logs:|Failure|^\[  (FAILED|PASSED) ' \
  "$log" || true
echo "full output: $log"
if [ "$status" -ne 0 ]; then
  echo "chaos run FAILED (exit $status)"
  exit 1
fi
echo "chaos run passed"
