#!/usr/bin/env bash
# The README's second command and what CI runs: the whole test suite.
#   1. the release build of what users run (broker, tool, benchmarks), so
#      that it compiles warning-free with gcc -O2; its tests are not run
#      again here: steps 2 and 3 run every one;
#   2. the ASan+UBSan build (gcc), every test: unit, then integration;
#   3. the ThreadSanitizer build (clang, which also runs the thread-safety
#      analysis with every finding an error), every test again
#      (SLUICE_TEST_TSAN=0 skips it);
#   4. each libFuzzer target for a bounded time (SLUICE_FUZZ_SECONDS, default 60).
# A cold run (empty compiler cache, 2 cores) must stay within an hour:
# docs/benchmarks.md records the last measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

jobs="$(nproc)"
fuzz_seconds="${SLUICE_FUZZ_SECONDS:-60}"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/sluice-ccache}"
# Paths relative to the checkout, so a fresh clone elsewhere hits the cache.
export CCACHE_BASEDIR="$PWD"
export CCACHE_NOHASHDIR=1
status=0

passed=0
failed=0
summary="$(mktemp)"
# Each failed test's name and the end of its output, repeated at the very end
# so that a log cut to its last lines still says what failed.
failures="$(mktemp)"
trap 'rm -f "$summary" "$failures"' EXIT

# Runs one ctest label in a build dir and adds its counts to the totals.
run_label() {
  local dir="$1" label="$2"
  ctest --test-dir "$dir" -L "$label" -j "$jobs" --output-on-failure --no-tests=ignore \
    | tee "$summary" || status=1
  local line total bad
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$summary" | tail -n 1 || true)
  if [ -n "$line" ]; then
    bad=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$((passed + total - bad))
    failed=$((failed + bad))
    [ "$bad" -eq 0 ] || status=1
  fi
  record_failures "$dir" "$label"
}

# Appends to $failures, for each test ctest reported failed in $summary, its
# name and the last lines of the output ctest printed for it.
record_failures() {
  local dir="$1" label="$2" name
  sed -n '/The following tests FAILED:/,$p' "$summary" | grep -E '^[[:space:]]+[0-9]+ - ' \
    | sed -E 's/^[[:space:]]+[0-9]+ - (.*) \([^)]*\).*$/\1/' | while read -r name; do
      echo "--- FAILED in $dir ($label): $name"
      # ctest prints a failed test's output right after its result line.
      awk -v n="$name" '
        index($0, "Test #") && index($0, ": " n " ") { on = 1; next }
        on && (/^ *[0-9]+\/[0-9]+ Test +#/ || /^ *Start +[0-9]+:/ || /tests passed, /) { on = 0 }
        on { print }' "$summary" | tail -n 60
    done >>"$failures" || true
}

run_ctest() {
  # Unit tests first (seconds), then integration tests, which start processes.
  run_label "$1" unit
  run_label "$1" integration
}

echo "== release build (broker, tool, benchmarks)"
scripts/build.sh release --target src/all bench/all

echo "== sanitizer build (ASan + UBSan)"
scripts/build.sh asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build/asan

if [ "${SLUICE_TEST_TSAN:-1}" = 1 ]; then
  echo "== ThreadSanitizer build (clang, -Wthread-safety)"
  scripts/build.sh tsan
  # A report makes the process exit 66 (a failed test); brokers a test started
  # inherit the options, and a report in their output fails that test too.
  TSAN_OPTIONS="exitcode=66 second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/tsan.supp" \
    run_ctest build/tsan
fi

if [ -d fuzz ] && ls fuzz/*_fuzzer.cc >/dev/null 2>&1; then
  echo "== fuzzers (${fuzz_seconds}s each)"
  # Only the fuzz targets (and what they link) are built with clang.
  targets=$(for f in fuzz/*_fuzzer.cc; do basename "$f" .cc; done)
  # shellcheck disable=SC2086
  scripts/build.sh fuzz --target $targets
  for bin in build/fuzz/bin/*_fuzzer; do
    name="$(basename "$bin")"
    corpus="fuzz/corpus/${name%_fuzzer}"
    work="$(mktemp -d)"
    [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
    # Crash inputs land in build/fuzz/ (-artifact_prefix), never in the tree.
    if "$bin" -max_total_time="$fuzz_seconds" -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="build/fuzz/$name-" "$work" >"build/fuzz/$name.log" 2>&1; then
      echo "PASS $name"; passed=$((passed + 1))
    else
      echo "FAIL $name (see build/fuzz/$name.log)"; tail -40 "build/fuzz/$name.log"; status=1
      { echo "--- FAILED fuzzer: $name"; tail -20 "build/fuzz/$name.log"; } >>"$failures"
      failed=$((failed + 1))
    fi
    rm -rf "$work"
  done
fi

if [ -s "$failures" ]; then
  echo "== what failed"
  cat "$failures"
fi
if [ "$status" -eq 0 ]; then echo "ALL TESTS PASSED"; else echo "SOME TESTS FAILED"; fi
echo "${passed} passed, ${failed} failed"
exit "$status"
