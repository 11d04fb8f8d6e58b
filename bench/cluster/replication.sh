#!/usr/bin/env bash
# Replication's cost: a three-broker cluster with replication factor 3 next
# to a single broker, measured in the same run, rounds interleaved.
#
#   bench/cluster/replication.sh [--rounds N] [--bin DIR] [--out DIR]
#
# Starts one single-node sluice-broker (no ZooKeeper) and, with
# scripts/local-cluster.sh, three ZooKeeper nodes and three brokers, all on
# this machine and its one disk, on free loopback ports. Each round runs, with
# `sluice perf` (librdkafka), on
#   - single:        the single broker, topics with 4 partitions;
#   - cluster rf3:   the cluster, 4 partitions, replication factor 3,
#                    min.insync.replicas=2 (leaders spread over the brokers);
#   - cluster rf1:   the cluster, 4 partitions, replication factor 1 (the
#                    cluster's own cost without replication), produce only;
# the workloads: produce acks=all flat out at 100 B and 1 KiB, and e2e at
# 10 000 msg/s (100 B, acks=all, linger.ms=0, fetch.wait.max.ms=5).
# For each produce run it also records the brokers' CPU time (user + system,
# all brokers of the target) per million messages, and bytes on disk per
# message (every replica's log). Builds nothing: needs scripts/build.sh
# release. Results: JSON lines and summary.md in --out (default
# build/bench-results/replication-<UTC time>). ~6 minutes with 3 rounds.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"

rounds=3
bin="${SLUICE_BENCH_BIN:-$repo/build/release/bin}"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;;
    --bin) bin="$(cd "$2" && pwd)"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
for b in sluice-broker sluice; do
  [ -x "$bin/$b" ] || { echo "missing $bin/$b: run scripts/build.sh release first (or pass --bin)" >&2; exit 2; }
done
out="${out:-$repo/build/bench-results/replication-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
work="$(mktemp -d "${SLUICE_BENCH_DIR:-/tmp}/sluice-repl-bench.XXXXXX")"
n100=300000
n1k=100000
e2e_s=8

log() { echo "== $*" >&2; }

single_pid=""
cluster_pid=""
cleanup() {
  [ -n "$single_pid" ] && kill "$single_pid" 2>/dev/null && wait "$single_pid" 2>/dev/null
  if [ -n "$cluster_pid" ]; then
    kill -TERM "$cluster_pid" 2>/dev/null
    wait "$cluster_pid" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The single broker.
"$bin/sluice-broker" --override listeners=PLAINTEXT://127.0.0.1:0 \
  --override "log.dirs=$work/single" --override sluice.metrics.listener= \
  > "$work/single.log" 2>&1 &
single_pid=$!
for _ in $(seq 300); do grep -q ' ready: ' "$work/single.log" && break; sleep 0.1; done
single="$(sed -n 's/.* ready: listening on PLAINTEXT:\/\/\([^ ,]*\).*/\1/p' "$work/single.log" | head -1)"
[ -n "$single" ] || { echo "single broker not ready" >&2; cat "$work/single.log" >&2; exit 1; }

# The cluster, on a base port whose twelve ports are free.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
base=
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 30000)) ok=1
  for offset in 0 1 2 100 101 102 200 201 202 300 301 302; do
    port_free $((candidate + offset)) || { ok=0; break; }
  done
  if [ "$ok" = 1 ]; then base=$candidate; break; fi
done
[ -n "$base" ] || { echo "no free base port" >&2; exit 1; }
set -m  # its own process group, SIGTERM stops it in order
SLUICE_BIN_DIR="$bin" "$repo/scripts/local-cluster.sh" --port "$base" --data "$work/cluster" \
  > "$work/cluster.out" 2>&1 &
cluster_pid=$!
set +m
for _ in $(seq 2400); do
  grep -q "^Cluster ready" "$work/cluster.out" && break
  kill -0 "$cluster_pid" 2>/dev/null || { cat "$work/cluster.out" >&2; exit 1; }
  sleep 0.1
done
cluster="$(sed -n 's/^Cluster ready. Bootstrap: //p' "$work/cluster.out")"
[ -n "$cluster" ] || { echo "cluster not ready" >&2; cat "$work/cluster.out" >&2; exit 1; }
cluster_pids=$(cat "$work"/cluster/broker[123]/pid)

{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "checkout: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$out/info.txt"

cpu_ticks() {  # PIDS... -> user+system clock ticks, summed
  local pid total=0 stat
  for pid in "$@"; do
    stat=$(cat "/proc/$pid/stat") || continue
    stat=${stat##*) }
    # Fields after the name: state is 1st, utime 12th, stime 13th.
    # shellcheck disable=SC2086  # split into fields on purpose
    set -- $stat
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}
disk_bytes() {  # DIR TOPIC -> bytes of the topic's segment files under DIR
  find "$1" -path "*/$2-*" -name '*.log' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}

# run TARGET LABEL ROUND BOOTSTRAP DATA_DIR PIDS perf-args...
run() {
  local target="$1" label="$2" round="$3" bootstrap="$4" data="$5" pids="$6"; shift 6
  local topic="$2" before after line
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  line=$(timeout 600 "$bin/sluice" --bootstrap "$bootstrap" perf "$@" --json --quiet 2>> "$work/perf.err" | grep '^{' || true)
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  [ -n "$line" ] || { log "failed: $target $label"; return 0; }
  local disk
  disk=$(disk_bytes "$data" "$topic")
  printf '{"target":"%s","label":"%s","round":%s,"cpu_ticks":%s,"ticks_per_s":%s,"disk_bytes":%s,%s\n' \
    "$target" "$label" "$round" "$((after - before))" "$(getconf CLK_TCK)" "$disk" "${line#\{}" >> "$results"
}

create() {  # BOOTSTRAP TOPIC RF [configs]
  "$bin/sluice" --bootstrap "$1" topic create "$2" --partitions 4 --replication-factor "$3" "${@:4}" \
    > /dev/null 2>> "$work/perf.err"
  # Wait until every partition has a leader and the whole ISR (cluster).
  local d
  for _ in $(seq 100); do
    d=$("$bin/sluice" --bootstrap "$1" topic describe "$2" 2>/dev/null || true)
    if [ "$(grep -c "Leader: [0-9]" <<<"$d")" = 4 ]; then
      if [ "$3" = 1 ] || [ "$(grep -cE "Isr: [0-9]+,[0-9]+,[0-9]+ " <<<"$d")" = 4 ]; then return 0; fi
    fi
    sleep 0.1
  done
  log "topic $2 not ready: $d"
}
drop() { "$bin/sluice" --bootstrap "$1" topic delete "$2" > /dev/null 2>> "$work/perf.err" || true; }

log "single broker at $single (pid $single_pid); cluster at $cluster (pids ${cluster_pids//$'\n'/ }); results in $out"
for round in $(seq "$rounds"); do
  for target in single "cluster rf3" "cluster rf1"; do
    case "$target" in
      single) bs=$single data=$work/single pids=$single_pid rf=1 cfg=() ;;
      "cluster rf3") bs=$cluster data=$work/cluster pids=$cluster_pids rf=3
                     cfg=(--config min.insync.replicas=2) ;;
      "cluster rf1") bs=$cluster data=$work/cluster pids=$cluster_pids rf=1 cfg=() ;;
    esac
    slug=$(tr ' ' - <<<"$target")
    for size in 100 1024; do
      if [ "$size" = 100 ]; then n=$n100; else n=$n1k; fi
      [ "$target" = "cluster rf1" ] && [ "$size" = 1024 ] && continue
      label="produce ${size}B acks=all p4"
      topic="p-$slug-$size-r$round"
      log "round $round/$rounds: $target: $label"
      create "$bs" "$topic" "$rf" "${cfg[@]}"
      run "$target" "$label" "$round" "$bs" "$data" "$pids" produce "$topic" \
        --messages "$n" --size "$size" --acks all
      drop "$bs" "$topic"
    done
    [ "$target" = "cluster rf1" ] && continue
    label="e2e 100B acks=all p4 10000/s linger.ms=0"
    topic="e-$slug-r$round"
    log "round $round/$rounds: $target: $label"
    create "$bs" "$topic" "$rf" "${cfg[@]}"
    run "$target" "$label" "$round" "$bs" "$data" "$pids" e2e "$topic" \
      --duration "$e2e_s" --rate 10000 --size 100 --acks all --linger-ms 0 --fetch-wait-max-ms 5
    drop "$bs" "$topic"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/info.txt"
[ -s "$work/perf.err" ] && cp "$work/perf.err" "$out/perf.err"
python3 "$repo/bench/cluster/summarize.py" "$results" "$out/info.txt" | tee "$out/summary.md"
