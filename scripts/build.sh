#!/usr/bin/env bash
# Builds one flavour of the tree into build/<flavour>:
#   release  optimised, with line tables (the binaries users run and benchmarks)
#   asan     AddressSanitizer + UndefinedBehaviorSanitizer, for the test suite
#   tsan     clang + ThreadSanitizer, with the thread-safety analysis as errors
#   fuzz     clang + libFuzzer targets only
# The two test flavours compile as unity builds (eight sources per unit):
# most of a test file's compile time is parsing the same standard, gtest and
# project headers, which a unit parses once. Sources therefore must not define
# file-local names that clash with another file's of the same target. The
# release build stays one unit per file, which keeps each file's includes
# honest and a developer's rebuild after an edit small.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
shift || true
unity=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
case "$flavour" in
  # Line tables (-g1) rather than full debug info: profiles and backtraces
  # need file:line; full -g cost a fifth of this build's time.
  release) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
                 "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
                 "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG") ;;
  # Line tables only (-g1): sanitizer reports and gdb stacks need file:line,
  # not variables, and full debug info was a fifth of this build's time.
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON -DSLUICE_BUILD_BENCH=OFF
              -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1 "${unity[@]}") ;;
  # -O1 and line tables only: TSan reports need file:line, not variables,
  # and the lighter flags cut this build's share of a cold test run.
  tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TSAN=ON -DSLUICE_BUILD_BENCH=OFF
              "${unity[@]}"
              "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
              "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
              -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  # -O1 and line tables, as for tsan: what libFuzzer's docs suggest, and a
  # cold build of the protocol code at -O2 -g was most of this flavour's time.
  fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON -DSLUICE_BUILD_TESTS=OFF
              -DSLUICE_BUILD_BENCH=OFF
              "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
              "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
              -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++) ;;
  *) echo "unknown flavour: $flavour (release|asan|tsan|fuzz)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
cmake --build "build/$flavour" "$@"
