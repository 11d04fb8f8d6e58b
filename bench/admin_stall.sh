#!/usr/bin/env bash
# Does a metadata change stall the data path? End-to-end latency of one
# topic at a fixed rate (acks=all, the consumer in the same process) while
# another client creates and deletes a 100-partition topic:
#   quiet     no admin traffic,
#   1/s       one create + delete cycle a second,
#   flat-out  create + delete back to back, as fast as the broker answers.
# All three phases run against one fresh broker in the same invocation.
#
#   bench/admin_stall.sh [--bin DIR] [--seconds N] [--partitions N] [--out DIR]
#
# Builds nothing: expects sluice-broker and sluice in build/release/bin (or
# --bin / $SLUICE_BENCH_BIN). The admin client is the `sluice` tool, one
# process per create or delete (what an operator's script does). Results:
# JSON lines (one per phase, the e2e report plus the admin cycles completed)
# in --out (default build/bench-results/admin-stall-<UTC time>) and a table
# on stdout.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

bin="${SLUICE_BENCH_BIN:-$repo/build/release/bin}"
seconds=20
churn_partitions=100
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$(cd "$2" && pwd)"; shift ;;
    --seconds) seconds="$2"; shift ;;
    --partitions) churn_partitions="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for b in sluice-broker sluice; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: run scripts/build.sh release first (or pass --bin)" >&2; exit 2; }
done
out="${out:-$repo/build/bench-results/admin-stall-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
work="$(mktemp -d "${SLUICE_BENCH_DIR:-/tmp}/sluice-stall.XXXXXX")"

broker_pid=""
churn_pid=""
stop_pid() {  # PID: SIGTERM, then SIGKILL after 20 s; only processes this script started.
  local pid="$1" i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$churn_pid"
  stop_pid "$broker_pid"
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/sluice-broker" --override listeners=PLAINTEXT://127.0.0.1:0 \
  --override "log.dirs=$work/data" --override sluice.metrics.listener=127.0.0.1:0 \
  > "$work/broker.log" 2>&1 &
broker_pid=$!
for ((i = 0; i < 300; i++)); do
  grep -q ' ready: ' "$work/broker.log" && break
  kill -0 "$broker_pid" 2>/dev/null || { cat "$work/broker.log" >&2; exit 1; }
  sleep 0.1
done
bootstrap="$(sed -n 's/.* ready: listening on PLAINTEXT:\/\/\([^ ,]*\).*/\1/p' "$work/broker.log" | head -1)"
[ -n "$bootstrap" ] || { echo "broker not ready:" >&2; cat "$work/broker.log" >&2; exit 1; }
tool() { "$bin/sluice" --bootstrap "$bootstrap" "$@"; }

# churn PERIOD_S: create + delete cycles (PERIOD_S 0: back to back); each
# completed cycle appends a line to $work/cycles. Runs until killed.
churn() {
  local period="$1" start
  while :; do
    start="$(date +%s.%N)"
    tool topic create churn --partitions "$churn_partitions" > /dev/null 2>> "$work/churn.err" || true
    tool topic delete churn > /dev/null 2>> "$work/churn.err" || true
    echo "$(date +%s.%N) $start" >> "$work/cycles"
    if [ "$period" != 0 ]; then
      sleep "$(awk -v s="$start" -v p="$period" -v now="$(date +%s.%N)" \
               'BEGIN { d = s + p - now; print (d > 0 ? d : 0) }')"
    fi
  done
}

phase() {  # LABEL PERIOD (PERIOD "-": no churn)
  local label="$1" period="$2" line cycles
  : > "$work/cycles"
  if [ "$period" != - ]; then
    churn "$period" &
    churn_pid=$!
    sleep 2  # The churn is under way before the measured window opens.
  fi
  : > "$work/cycles"  # Count only the cycles of the measured window.
  echo "== $label" >&2
  line="$(tool perf e2e stall-e2e --duration "$seconds" --rate 10000 --size 100 --acks all \
            --partitions 4 --linger-ms 0 --fetch-wait-max-ms 5 --json --quiet | grep '^{')"
  cycles="$(wc -l < "$work/cycles")"
  if [ -n "$churn_pid" ]; then stop_pid "$churn_pid"; churn_pid=""; fi
  # Leave no churn topic behind for the next phase.
  tool topic delete churn > /dev/null 2>&1 || true
  printf '{"phase":"%s","admin_cycles":%s,"seconds":%s,%s\n' "$label" "$cycles" "$seconds" \
    "${line#\{}" >> "$results"
}

phase quiet -
phase "create+delete 1/s" 1
phase "create+delete flat out" 0

python3 - "$results" "$churn_partitions" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"e2e 100 B at 10 000 msg/s, acks=all, 4 partitions; churn topic {sys.argv[2]} partitions")
print("| phase | admin cycles/s | p50 ms | p99 ms | p99.9 ms | max ms | msg/s |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    l = r["latency_ms"]
    print(f"| {r['phase']} | {r['admin_cycles'] / r['seconds']:.2f} | {l['p50']:.2f} | {l['p99']:.2f} "
          f"| {l['p999']:.2f} | {l['max']:.2f} | {r['msgs_per_s']:.0f} |")
PY
echo "results: $results" >&2
