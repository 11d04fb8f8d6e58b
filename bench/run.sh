#!/usr/bin/env bash
# The broker benchmark: sluice-broker next to baselines measured in the same
# run, three rounds each, summarised as min / median / max.
#
#   bench/run.sh [--quick | --core | --peers | --full] [--bin DIR] [--out DIR] [--rounds N]
#
# Builds nothing: expects `scripts/build.sh release` (sluice-broker, sluice,
# machine_limits, mock_cluster in build/release/bin; --bin or
# $SLUICE_BENCH_BIN picks another folder). Baselines:
#   - machine_limits: write+fdatasync bandwidth (64 KiB, 1 MiB), 4 KiB
#     fdatasync latency, writes of new data into the page cache, loopback
#     TCP, in the broker's log dir's filesystem;
#   - mock_cluster: librdkafka's in-memory mock broker driven by the same
#     `sluice perf` commands (the ceiling the client allows here).
# Each Sluice run gets the same settings as the mock run beside it. One fresh
# broker (free port, temporary log dir under $SLUICE_BENCH_DIR or /tmp) for
# the whole run; each mock run gets a fresh mock. Topics are deleted after use.
# --peers (also part of --full): Sluice (driven by `sluice perf` and by the
# lean bench/peers/kafka_bench) next to NATS JetStream and Redis Streams at
# 100 B (bench/peers/peers.sh; installs nats-server and redis-server with
# scripts/install-bench-deps.sh if missing; ~5 minutes).
# --quick (default) takes ~2-3 minutes, --core (100 B / 1 KiB, acks 1 / all,
# 1 / 8 partitions, uncompressed) ~5, --full ~15.
# Results: JSON lines and summary.md in --out (default
# build/bench-results/<UTC time>); the summary is also printed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

mode=quick
bin="${SLUICE_BENCH_BIN:-$repo/build/release/bin}"
out=""
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --full) mode=full ;;
    --core) mode=core ;;
    --peers) mode=peers ;;
    --bin) bin="$(cd "$2" && pwd)"; shift ;;
    --out) out="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
with_peers=false
case "$mode" in peers|full) with_peers=true ;; esac
needed=(sluice-broker sluice machine_limits mock_cluster)
if "$with_peers"; then needed+=(nats_bench); fi
for b in "${needed[@]}"; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: run scripts/build.sh release first (or pass --bin)" >&2; exit 2; }
done
out="${out:-$repo/build/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
if "$with_peers"; then
  "$repo/scripts/install-bench-deps.sh"
  source "$repo/bench/peers/peers.sh"
fi
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
work="$(mktemp -d "${SLUICE_BENCH_DIR:-/tmp}/sluice-bench.XXXXXX")"

broker_pid=""
mock_pid=""
sampler_pid=""
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
  stop_pid "$sampler_pid"
  stop_pid "$mock_pid"
  stop_pid "${nats_pid:-}"
  stop_pid "${redis_pid:-}"
  stop_pid "$broker_pid"
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$mode" = quick ] || [ "$mode" = peers ]; then
  n100=500000; n1k=150000; e2e_s=5; limit_s=1
  # size acks partitions codec
  produce_matrix=(
    "100 1 4 none" "100 all 4 none" "1024 1 4 none" "1024 all 4 none"
    "100 all 1 none" "100 all 64 none" "100 1 4 lz4"
  )
elif [ "$mode" = core ]; then
  n100=1000000; n1k=250000; e2e_s=5; limit_s=1
  produce_matrix=()
  for size in 100 1024; do for acks in 1 all; do for parts in 1 8; do
    produce_matrix+=("$size $acks $parts none")
  done; done; done
else
  n100=2000000; n1k=500000; e2e_s=10; limit_s=3
  produce_matrix=()
  for size in 100 1024; do for acks in 1 all; do for parts in 1 4 64; do for codec in none lz4; do
    produce_matrix+=("$size $acks $parts $codec")
  done; done; done; done
fi
e2e_rate=10000

log() { echo "== $*" >&2; }

# Adds target/label/round to the tool's JSON line and appends it to results.
record() {
  local target="$1" label="$2" round="$3" line
  while IFS= read -r line; do
    case "$line" in
      "{"*) printf '{"target":"%s","label":"%s","round":%s,%s\n' "$target" "$label" "$round" "${line#\{}" >> "$results" ;;
    esac
  done
}

rss_of() {  # PID FIELD (VmRSS|VmHWM) -> MiB
  awk -v f="$2:" '$1 == f { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

wait_for_line() {  # PID LOG PATTERN TENTHS: until LOG has PATTERN; exits if PID dies first.
  local pid="$1" log="$2" pattern="$3" tenths="$4" i
  for ((i = 0; i < tenths; i++)); do
    grep -q "$pattern" "$log" && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
  done
}

start_broker() {
  "$bin/sluice-broker" --override listeners=PLAINTEXT://127.0.0.1:0 \
    --override "log.dirs=$work/data" --override sluice.metrics.listener=127.0.0.1:0 \
    > "$work/broker.log" 2>&1 &
  broker_pid=$!
  wait_for_line "$broker_pid" "$work/broker.log" ' ready: ' 300
  sluice_bootstrap="$(sed -n 's/.* ready: listening on PLAINTEXT:\/\/\([^ ,]*\).*/\1/p' "$work/broker.log" | head -1)"
  [ -n "$sluice_bootstrap" ] || { echo "broker not ready:" >&2; cat "$work/broker.log" >&2; exit 1; }
}

start_mock() {  # TOPIC PARTITIONS: a fresh mock with that topic; sets mock_bootstrap.
  stop_pid "$mock_pid"
  rm -f "$work/mock.out"  # Else the check below could see the last mock's line.
  "$bin/mock_cluster" --topic "$1:$2" > "$work/mock.out" 2> "$work/mock.err" &
  mock_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do [ -s "$work/mock.out" ] && break; sleep 0.05; done
  mock_bootstrap="$(head -1 "$work/mock.out")"
  [ -n "$mock_bootstrap" ] || { echo "mock_cluster did not start" >&2; cat "$work/mock.err" >&2; exit 1; }
}

perf() {  # TARGET LABEL ROUND BOOTSTRAP perf-args...
  local target="$1" label="$2" round="$3" bootstrap="$4"; shift 4
  timeout 600 "$bin/sluice" --bootstrap "$bootstrap" perf "$@" --json --quiet \
    2>> "$work/perf.err" | record "$target" "$label" "$round" || log "failed: $target $label (see below)"
}

half_rate() {  # TARGET LABEL ROUND -> half of that run's msg/s (empty if it did not run)
  python3 -c '
import json, sys
target, label, rnd = sys.argv[2], sys.argv[3], int(sys.argv[4])
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["target"] == target and r["label"] == label and r["round"] == rnd and r.get("msgs_per_s"):
        print(int(r["msgs_per_s"] / 2)); break
' "$results" "$@"
}

sluice_tool() { "$bin/sluice" --bootstrap "$sluice_bootstrap" "$@" > /dev/null 2>> "$work/perf.err" || true; }

log "mode $mode, $rounds rounds, binaries in $bin, data in $work, results in $out"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "checkout: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) (binaries: $bin, sluice-broker built $(date -u -r "$bin/sluice-broker" '+%Y-%m-%d %H:%M UTC'))"
  echo "mode: $mode"
} > "$out/info.txt"

start_broker
log "sluice-broker pid $broker_pid at $sluice_bootstrap"
sleep 1
echo "{\"target\":\"sluice\",\"label\":\"broker RSS idle at start\",\"round\":0,\"rss_mib\":$(rss_of "$broker_pid" VmRSS)}" >> "$results"
# Peak RSS under load: sample every 0.5 s for the whole run (VmHWM is the
# kernel's own high-water mark, read at the end).
( while kill -0 "$broker_pid" 2>/dev/null; do
    awk '$1 == "VmRSS:" { print $2 }' "/proc/$broker_pid/status" 2>/dev/null
    sleep 0.5
  done > "$work/rss.samples" ) &
sampler_pid=$!

main_rounds="$rounds"
[ "$mode" = peers ] && main_rounds=0  # Its rounds are run_peers's.
for round in $(seq "$main_rounds"); do
  log "round $round/$rounds: machine limits"
  "$bin/machine_limits" "$work" --seconds "$limit_s" | record machine "machine limits" "$round"

  for spec in "${produce_matrix[@]}"; do
    read -r size acks parts codec <<< "$spec"
    if [ "$size" = 100 ]; then n=$n100; else n=$n1k; fi
    label="produce ${size}B acks=$acks p$parts $codec"
    args=(--messages "$n" --size "$size" --acks "$acks" --partitions "$parts" --compression "$codec")
    log "round $round/$rounds: $label"
    topic="bench-r$round-${size}-${acks}-p$parts-$codec"
    perf sluice "$label" "$round" "$sluice_bootstrap" produce "$topic" "${args[@]}"
    # Consume what was just written, from the log: with assign, then as a
    # fresh group (subscribe, join, sync: the group coordinator's path).
    if [ "$acks" = 1 ] && [ "$codec" = none ] && { [ "$parts" = 4 ] || [ "$mode" = core ]; }; then
      perf sluice "consume ${size}B p$parts assign" "$round" "$sluice_bootstrap" consume "$topic" --assign
      perf sluice "consume ${size}B p$parts group" "$round" "$sluice_bootstrap" consume "$topic"
    fi
    sluice_tool topic delete "$topic"
    start_mock "$topic" "$parts"
    perf mock "$label" "$round" "$mock_bootstrap" produce "$topic" "${args[@]}"
    if [ "$acks" = 1 ] && [ "$codec" = none ] && { [ "$parts" = 4 ] || [ "$mode" = core ]; }; then
      perf mock "consume ${size}B p$parts assign" "$round" "$mock_bootstrap" consume "$topic" --assign
      perf mock "consume ${size}B p$parts group" "$round" "$mock_bootstrap" consume "$topic"
    fi
    stop_pid "$mock_pid"; mock_pid=""
  done

  # Produce and consume together, flat out (e2e with no rate limit; Sluice
  # only: the mock's consumer falls millions of messages behind its producer
  # and stops before it catches up), then e2e at half of this round's
  # acks=all produce rate of each target.
  label="e2e 100B acks=all p4 unlimited linger.ms=5"
  log "round $round/$rounds: $label"
  topic="bench-r$round-e2e-max"
  perf sluice "$label" "$round" "$sluice_bootstrap" e2e "$topic" --duration "$e2e_s" --rate 0 \
    --size 100 --acks all --partitions 4
  sluice_tool topic delete "$topic"
  for target in sluice mock; do
    half="$(half_rate "$target" "produce 100B acks=all p4 none" "$round")"
    [ -n "$half" ] || continue
    label="e2e 100B acks=all p4 at 50% of max linger.ms=5"
    log "round $round/$rounds: $label ($target, $half msg/s)"
    topic="bench-r$round-e2e-half"
    if [ "$target" = sluice ]; then
      perf sluice "$label" "$round" "$sluice_bootstrap" e2e "$topic" --duration "$e2e_s" \
        --rate "$half" --size 100 --acks all --partitions 4 --fetch-wait-max-ms 5 --linger-ms 5
      sluice_tool topic delete "$topic"
    else
      start_mock "$topic" 4
      perf mock "$label" "$round" "$mock_bootstrap" e2e "$topic" --duration "$e2e_s" \
        --rate "$half" --size 100 --acks all --partitions 4 --fetch-wait-max-ms 5 --linger-ms 5
      stop_pid "$mock_pid"; mock_pid=""
    fi
  done


  # Latency as a latency-minded user would set it: a short fetch wait, and
  # linger.ms 0 (Sluice only: unbatched messages pile up seconds behind in the
  # mock's consumer path) or librdkafka's default 5 (both).
  e2e_args=(--duration "$e2e_s" --rate "$e2e_rate" --size 100 --acks all --partitions 4
            --fetch-wait-max-ms 5)
  for linger in 0 5; do
    label="e2e 100B acks=all p4 ${e2e_rate}/s linger.ms=$linger"
    log "round $round/$rounds: $label"
    topic="bench-r$round-e2e-l$linger"
    perf sluice "$label" "$round" "$sluice_bootstrap" e2e "$topic" "${e2e_args[@]}" --linger-ms "$linger"
    sluice_tool topic delete "$topic"
    if [ "$linger" != 0 ]; then
      start_mock "$topic" 4
      perf mock "$label" "$round" "$mock_bootstrap" e2e "$topic" "${e2e_args[@]}" --linger-ms "$linger"
      stop_pid "$mock_pid"; mock_pid=""
    fi
  done
done

if "$with_peers"; then run_peers; fi

stop_pid "$sampler_pid"; sampler_pid=""
peak_kib="$(sort -n "$work/rss.samples" | tail -1)"
echo "{\"target\":\"sluice\",\"label\":\"broker RSS peak sampled under load\",\"round\":0,\"rss_mib\":$(awk -v k="${peak_kib:-0}" 'BEGIN { printf "%.1f", k / 1024 }')}" >> "$results"
echo "{\"target\":\"sluice\",\"label\":\"broker VmHWM at end\",\"round\":0,\"rss_mib\":$(rss_of "$broker_pid" VmHWM)}" >> "$results"
sleep 2
echo "{\"target\":\"sluice\",\"label\":\"broker RSS idle after the run\",\"round\":0,\"rss_mib\":$(rss_of "$broker_pid" VmRSS)}" >> "$results"
stop_pid "$broker_pid"; broker_pid=""
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/info.txt"
if [ -s "$work/perf.err" ]; then
  cp "$work/perf.err" "$out/perf.err"
  log "some runs printed errors; see $out/perf.err"
fi

{
  python3 "$repo/bench/broker/summarize.py" "$results" "$out/info.txt"
  if "$with_peers"; then python3 "$repo/bench/peers/summarize.py" "$results"; fi
} | tee "$out/summary.md"
