#!/usr/bin/env bash
# How the broker's cost grows: throughput and latency against partitions and
# connections, start-up with many partitions, recovery after kill -9 against
# the size of the data directory. Writes JSON lines per part, then CSV
# tables, markdown and PNG plots (gnuplot) regenerated from them.
#
#   bench/scaling.sh [--partitions] [--connections] [--startup] [--recovery]
#                    [--quick] [--bin DIR] [--conn-load PATH] [--out DIR]
#                    [--rounds N] [--baseline DIR] [--plot-only DIR]
#
# No part named: all four. --quick: fewer points and smaller sizes (a smoke
# test of the script, ~3 minutes). --plot-only DIR: redraw DIR's plots and
# tables from its results without running anything. --baseline DIR: draw
# DIR's recovery results beside this run's (e.g. a build before a change).
#   --partitions   1..1000 partitions: `sluice perf produce` 100 B, acks=1 and
#                  acks=all, unthrottled (throughput) and at a fixed rate
#                  (latency: send -> ack p50/p99 without client queueing);
#                  librdkafka's sticky partitioner fills one partition at a
#                  time, so also conn_load --spread: 4 connections, each
#                  request 1 000 messages spread over every partition (as
#                  keyed messages arrive)
#   --connections  1..1000 producer connections (conn_load: raw Produce
#                  requests, one in flight per connection)
#   --startup      10 000 partitions: create them, SIGTERM, time from exec to
#                  the port accepting and to a full Metadata answer, clean
#                  and after kill -9
#   --recovery     kill -9 with the data directory at 1, 2, 5, 10 GiB (16
#                  partitions, 1 KiB messages); restart timed the same way
#
# Builds nothing: expects sluice-broker, sluice and conn_load in --bin
# (default build/release/bin, or $SLUICE_BENCH_BIN; --conn-load elsewhere). Data goes under
# $SLUICE_BENCH_DIR (default /tmp) and is deleted at the end; --recovery needs
# ~11 GiB free there. Needs python3 and gnuplot (gnuplot-nox).
# Results: build/bench-results/scaling-<UTC time>/ (or --out).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

bin="${SLUICE_BENCH_BIN:-$repo/build/release/bin}"
out=""
rounds=3
quick=0
plot_only=""
baseline=""
conn_load=""
parts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --partitions|--connections|--startup|--recovery) parts+=("${1#--}") ;;
    --quick) quick=1 ;;
    --bin) bin="$(cd "$2" && pwd)"; shift ;;
    --out) out="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --plot-only) plot_only="$2"; shift ;;
    --baseline) baseline="$(cd "$2" && pwd)"; shift ;;
    --conn-load) conn_load="$2"; shift ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
report() {  # DIR: CSVs + markdown from the JSON lines, then the plots.
  python3 "$repo/bench/broker/scaling_report.py" "$1" \
    ${baseline:+--baseline "$baseline" --baseline-label "$(basename "$baseline")"}
  gnuplot -e "dir='$1'" "$repo/bench/broker/scaling.gp"
}
if [ -n "$plot_only" ]; then report "$plot_only"; exit 0; fi
[ ${#parts[@]} -gt 0 ] || parts=(partitions connections startup recovery)
conn_load="${conn_load:-$bin/conn_load}"
need=("$bin/sluice-broker" "$bin/sluice")
[[ " ${parts[*]} " == *" connections "* || " ${parts[*]} " == *" partitions "* ]] && need+=("$conn_load")
for b in "${need[@]}"; do
  [ -x "$b" ] || { echo "missing $b: run scripts/build.sh release first (or pass --bin)" >&2; exit 2; }
done
command -v gnuplot > /dev/null || "$repo/scripts/install-bench-deps.sh"

if [ "$quick" = 1 ]; then
  partition_counts=(1 16 256); connection_counts=(1 10 100); startup_partitions=1000
  recovery_gib=(1 2); produce_msgs=300000; rate=10000; rate_s=3; conn_s=3; rounds=1
else
  partition_counts=(1 4 16 64 256 1000); connection_counts=(1 10 100 1000)
  startup_partitions=10000; recovery_gib=(1 2 5 10); produce_msgs=2000000; rate=20000
  rate_s=5; conn_s=10
fi
recovery_partitions=16
recovery_tail_mib=64
checkpoint_ms=5000   # log.flush.offset.checkpoint.interval.ms for --recovery

out="${out:-$repo/build/bench-results/scaling-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
work="$(mktemp -d "${SLUICE_BENCH_DIR:-/tmp}/sluice-scaling.XXXXXX")"
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

broker_pid=""
# stop_pid PID [SIGNAL [SECONDS]]: signal (TERM), wait up to SECONDS (60),
# then SIGKILL; returns 1 if it had to. Our processes only (the broker is the
# probe's child, so its exit status is not ours to wait for).
stop_pid() {
  local pid="$1" sig="${2:-TERM}" limit="${3:-60}" i
  [ -n "$pid" ] || return 0
  kill "-$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}
cleanup() { stop_pid "$broker_pid" KILL || true; rm -rf "$work"; }
trap cleanup EXIT

log() { echo "== $(date -u +%H:%M:%S) $*" >&2; }
load1() { cut -d' ' -f1 /proc/loadavg; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_mib() { awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Appends {"part":..., <fields>, "load1":..., <the tool's JSON object>} to PART.jsonl.
record() {  # PART FIELDS-JSON (without braces)
  local part="$1" fields="$2" line
  while IFS= read -r line; do
    case "$line" in
      "{"*) printf '{"part":"%s",%s,"load1":%s,%s\n' "$part" "$fields" "$(load1)" "${line#\{}" \
              >> "$out/$part.jsonl" ;;
    esac
  done
}

port=""
data=""
broker_args() {
  echo "--override listeners=PLAINTEXT://127.0.0.1:$port --override log.dirs=$data"
  echo "--override sluice.metrics.listener= $*"
}
# start_broker [--override k=v ...]: exec through the probe, which prints
# accept/Metadata times; sets broker_pid, leaves the probe's JSON in $work/probe.json.
start_broker() {
  local expect="${expect_partitions:-0}"
  # shellcheck disable=SC2046  # broker_args is a flat list of words.
  python3 "$repo/bench/broker/startup_probe.py" --port "$port" --log "$work/broker.log" \
    --expect-partitions "$expect" -- "$bin/sluice-broker" $(broker_args "$@") > "$work/probe.json" || {
      cat "$work/probe.json" >&2; tail -20 "$work/broker.log" >&2; exit 1; }
  broker_pid="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pid"])' "$work/probe.json")"
}
fresh_broker() {  # a new data dir and port
  stop_pid "$broker_pid" TERM 600 || true; broker_pid=""
  rm -rf "$work/data"; data="$work/data"; port="$(free_port)"
  expect_partitions=0 start_broker "$@"
}
sluice_cmd() { "$bin/sluice" --bootstrap "127.0.0.1:$port" --timeout-ms 120000 "$@"; }
perf() {  # PART FIELDS perf-args...
  local part="$1" fields="$2"; shift 2
  timeout 900 "$bin/sluice" --bootstrap "127.0.0.1:$port" perf "$@" --json --quiet \
    2>> "$work/perf.err" | record "$part" "$fields" || log "failed: perf $*"
}

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "checkout: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown) (binaries: $bin, sluice-broker built $(date -u -r "$bin/sluice-broker" '+%Y-%m-%d %H:%M UTC'))"
  echo "parts: ${parts[*]}; rounds: $rounds; quick: $quick"
} > "$out/info.txt"
log "results in $out, data in $work"

part_partitions() {
  fresh_broker
  local round p acks topic
  for round in $(seq "$rounds"); do
    for p in "${partition_counts[@]}"; do
      for acks in 1 all; do
        topic="p$p-a$acks-r$round"
        log "partitions: $p acks=$acks round $round (load $(load1))"
        sluice_cmd topic create "$topic" --partitions "$p" > /dev/null
        perf partitions "\"mode\":\"throughput\",\"round\":$round" \
          produce "$topic" --messages "$produce_msgs" --size 100 --acks "$acks"
        perf partitions "\"mode\":\"rate\",\"round\":$round" \
          produce "$topic" --duration "$rate_s" --rate "$rate" --size 100 --acks "$acks"
        "$conn_load" --bootstrap "127.0.0.1:$port" --topic "$topic" --partitions "$p" --spread \
          --connections 4 --acks "$acks" --duration "$rate_s" --records $(( p >= 1000 ? 1 : 1000 / p )) \
          --size 100 --rss-pid "$broker_pid" 2>> "$work/perf.err" |
          record partitions "\"mode\":\"spread\",\"round\":$round" || log "failed: conn_load --spread $p"
        sluice_cmd topic delete "$topic" > /dev/null || true
      done
    done
  done
  echo "{\"part\":\"partitions\",\"mode\":\"rss\",\"rss_mib\":$(rss_mib "$broker_pid")}" >> "$out/partitions.jsonl"
}

part_connections() {
  fresh_broker
  local round n acks
  sluice_cmd topic create conns --partitions 16 > /dev/null
  for round in $(seq "$rounds"); do
    for n in "${connection_counts[@]}"; do
      for acks in 1 all; do
        log "connections: $n acks=$acks round $round (load $(load1))"
        "$conn_load" --bootstrap "127.0.0.1:$port" --topic conns --partitions 16 \
          --connections "$n" --acks "$acks" --duration "$conn_s" --records 10 --size 100 \
          --rss-pid "$broker_pid" 2>> "$work/perf.err" |
          record connections "\"round\":$round" || log "failed: conn_load $n"
      done
    done
  done
}

part_startup() {
  fresh_broker
  local n="$startup_partitions" t0 t1 i
  log "startup: creating $n partitions (load $(load1))"
  t0=$(date +%s%N)
  sluice_cmd topic create many --partitions "$n" > /dev/null
  t1=$(date +%s%N)
  echo "{\"part\":\"startup\",\"mode\":\"create\",\"partitions\":$n,\"load1\":$(load1),\"seconds\":$(( (t1 - t0) / 1000000 ))e-3,\"rss_mib\":$(rss_mib "$broker_pid")}" >> "$out/startup.jsonl"
  # One message in every partition or so, so most logs have a non-empty segment to open.
  perf startup "\"mode\":\"fill\"" produce many --messages $((n * 10)) --size 100 --acks 1 \
    --linger-ms 0 > /dev/null
  for i in $(seq "$rounds"); do
    log "startup: SIGTERM and restart $i"
    # Shutdown syncs every log: minutes with 10 000 partitions on a busy disk.
    local exited=true
    t0=$(date +%s%N); stop_pid "$broker_pid" TERM 900 || exited=false; t1=$(date +%s%N); broker_pid=""
    expect_partitions=$n start_broker
    record startup "\"mode\":\"clean\",\"round\":$i,\"shutdown_s\":$(( (t1 - t0) / 1000000 ))e-3,\"exited_on_sigterm\":$exited,\"rss_mib\":$(rss_mib "$broker_pid")" < "$work/probe.json"
  done
  for i in $(seq "$rounds"); do
    log "startup: kill -9 and restart $i"
    stop_pid "$broker_pid" KILL || true; broker_pid=""
    expect_partitions=$n start_broker
    record startup "\"mode\":\"kill9\",\"round\":$i,\"rss_mib\":$(rss_mib "$broker_pid")" < "$work/probe.json"
  done
}

part_recovery() {
  # One 16-partition topic grows to each size; before each kill -9 the bulk
  # is left to the recovery-point checkpoint (interval + 2 s), then a fixed
  # tail is written: what recovery should have to re-read.
  fresh_broker --override "log.flush.offset.checkpoint.interval.ms=$checkpoint_ms"
  sluice_cmd topic create bulk --partitions "$recovery_partitions" > /dev/null
  local gib have=0 want msgs i
  for gib in "${recovery_gib[@]}"; do
    want=$((gib * 1024 * 1024 - recovery_tail_mib * 1024))   # KiB messages
    msgs=$((want - have))
    log "recovery: writing to $gib GiB (load $(load1))"
    [ "$msgs" -gt 0 ] && perf recovery "\"mode\":\"fill\",\"gib\":$gib" produce bulk \
      --messages "$msgs" --size 1024 --acks 1 > /dev/null
    sleep $((checkpoint_ms / 1000 + 2))
    perf recovery "\"mode\":\"tail\",\"gib\":$gib" produce bulk \
      --messages $((recovery_tail_mib * 1024)) --size 1024 --acks 1 > /dev/null
    have=$((want + recovery_tail_mib * 1024))
    local du_bytes
    du_bytes=$(du -sb "$data" | cut -f1)
    for i in $(seq "$rounds"); do
      log "recovery: $gib GiB, kill -9 and restart $i"
      stop_pid "$broker_pid" KILL || true; broker_pid=""
      : > "$work/broker.log"
      expect_partitions=$recovery_partitions start_broker \
        --override "log.flush.offset.checkpoint.interval.ms=$checkpoint_ms"
      record recovery "\"mode\":\"kill9\",\"gib\":$gib,\"round\":$i,\"data_bytes\":$du_bytes,\"tail_mib\":$recovery_tail_mib" < "$work/probe.json"
      grep -E 'storage:|producer state' "$work/broker.log" | head -5 >&2 || true
    done
  done
}

for part in "${parts[@]}"; do "part_$part"; done
stop_pid "$broker_pid" TERM 900 || true; broker_pid=""
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/info.txt"
[ -s "$work/perf.err" ] && cp "$work/perf.err" "$out/perf.err"
report "$out"
log "done: $out"
