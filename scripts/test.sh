#!/usr/bin/env bash
# The README's second command and what CI runs: the whole test suite.
#   1. the plain build, every test (unit, then integration);
#   2. the ASan+UBSan build, every test again;
#   3. each libFuzzer target for a bounded time (SLUICE_FUZZ_SECONDS, default 60).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs="$(nproc)"
fuzz_seconds="${SLUICE_FUZZ_SECONDS:-60}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/sluice-ccache}"
status=0

run_ctest() {
  local dir="$1"
  # Unit tests first (seconds), then integration tests, which start processes.
  ctest --test-dir "$dir" -L unit -j "$jobs" --output-on-failure --no-tests=ignore || status=1
  ctest --test-dir "$dir" -L integration -j "$jobs" --output-on-failure --no-tests=ignore || status=1
}

echo "== release build"
scripts/build.sh release
run_ctest build/release

echo "== sanitizer build (ASan + UBSan)"
scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build/asan

if [ -d fuzz ] && ls fuzz/*_fuzzer.cc >/dev/null 2>&1; then
  echo "== fuzzers (${fuzz_seconds}s each)"
  scripts/build.sh fuzz
  for bin in build/fuzz/bin/*_fuzzer; do
    name="$(basename "$bin")"
    corpus="fuzz/corpus/${name%_fuzzer}"
    work="$(mktemp -d)"
    [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
    if "$bin" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=0 \
        "$work" >"build/fuzz/$name.log" 2>&1; then
      echo "PASS $name"
    else
      echo "FAIL $name (see build/fuzz/$name.log)"; tail -40 "build/fuzz/$name.log"; status=1
    fi
    rm -rf "$work"
  done
fi

if [ "$status" -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
exit "$status"
