#!/usr/bin/env bash
# Pipelined XADD into one Redis stream with redis-benchmark, reported as one
# JSON line in the fields `sluice perf produce --json` uses (msgs_per_s,
# mb_per_s, latency_ms p50/p99/max/mean). redis-benchmark reports no p99.9,
# so p999 is null. "failed" is the requests the stream did not gain (XLEN
# before and after), so a run that lost writes shows it. MB counts value bytes.
#
#   redis_xadd.sh PORT MESSAGES SIZE CLIENTS PIPELINE [KEY]
set -euo pipefail
port="$1" n="$2" size="$3" clients="$4" pipeline="$5" key="${6:-bench}"

value="$(head -c "$size" /dev/zero | tr '\0' 'A')"
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
fsync="$(cli config get appendfsync | tail -1)"
before="$(cli xlen "$key")"
csv="$(redis-benchmark -h 127.0.0.1 -p "$port" -n "$n" -c "$clients" -P "$pipeline" --csv \
  XADD "$key" '*' f "$value" | tail -1)"
after="$(cli xlen "$key")"

# "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
IFS=, read -r _ rps avg _ p50 _ p99 max <<< "${csv//\"/}"
[ -n "$max" ] || { echo "redis_xadd: unexpected redis-benchmark output: $csv" >&2; exit 1; }
added=$((after - before))
awk -v rps="$rps" -v avg="$avg" -v p50="$p50" -v p99="$p99" -v max="$max" -v n="$n" \
    -v added="$added" -v size="$size" -v c="$clients" -v P="$pipeline" -v f="$fsync" -v key="$key" 'BEGIN {
  printf "{\"tool\":\"redis-benchmark XADD\",\"stream\":\"%s\",\"appendfsync\":\"%s\",", key, f
  printf "\"clients\":%d,\"pipeline\":%d,\"size\":%d,\"messages\":%d,\"failed\":%d,", c, P, size, added, n - added
  printf "\"bytes\":%d,\"elapsed_s\":%.3f,\"msgs_per_s\":%.1f,\"mb_per_s\":%.2f,", added * size, n / rps, rps, rps * size / 1e6
  printf "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p999\":null,\"max\":%.3f,\"mean\":%.3f,\"count\":%d}}\n", p50, p99, max, avg, n
}'
