# Sourced by bench/run.sh (--peers, --full): Sluice next to the peers a user
# would pick instead and that Debian packages, in the same run, 100 B values:
#   - NATS JetStream, file storage, one replica (nats-server 2.9), driven by
#     bench/peers/nats_bench (async publish, a window of unacknowledged
#     messages);
#   - Redis Streams (redis-server 7.0) with AOF, appendfsync everysec and
#     always, driven by redis-benchmark (pipelined XADD).
# Each peer first gets a short probe of a few client shapes (window; clients x
# pipeline), each tried twice, and the rounds use its fastest, so no peer is
# held back by a shape chosen for it. Sluice is driven two ways:
#   - by bench/peers/kafka_bench, the lean client of the same kind as
#     nats_bench (one pipelined connection, a window of unacknowledged
#     messages, one batch per partition in each request), probed like the
#     peers over (window, batch) shapes, for acks=1 and acks=all: rows at the
#     fastest shape, and at the fastest whose probe p99 is no worse than the
#     lower of NATS JetStream's and Redis everysec's probe p99 (when one is);
#   - by `sluice perf produce` (librdkafka): with the matrix's settings
#     (linger.ms 5, a queue of 100 000 messages), and in a latency-minded shape
#     (linger.ms 1, at most 2 000 messages queued or in flight).
# A paced run (Sluice and NATS at the same fixed rate; redis-benchmark cannot
# pace) compares latency at equal load, which the flat-out runs do not: there
# each client's queue depth sets it.
# Servers listen on free loopback ports with data in $work and are stopped by
# PID. Uses run.sh's helpers (log, record, perf, sluice_tool, stop_pid, wait_for_line).

peers_messages=1000000
peers_probe_messages=300000
peers_paced_rate=20000
peers_paced_seconds=5
sluice_tuned=(-X queue.buffering.max.messages=2000)  # Global options, before "perf".
sluice_tuned_produce=(--linger-ms 1)
nats_windows=(250 1000 4000)
lean_messages=5000000  # kafka_bench runs several times faster than librdkafka.
lean_probe_messages=2000000
# window batch: records per partition batch so a request (4 partitions)
# carries about a quarter of the window, i.e. ~4 requests in flight.
lean_shapes=("250 16" "1000 64" "4000 250" "16000 1000")
redis_shapes=("1 16" "1 64" "8 16" "8 64")  # clients pipeline
nats_pid=""
redis_pid=""
nats_p99=""      # p99 ms of the chosen shape's fastest probe try
redis_p99_everysec=""

[ -x "$bin/kafka_bench" ] || {
  echo "missing $bin/kafka_bench: run scripts/build.sh release first (or pass --bin)" >&2; exit 2; }

start_nats() {
  mkdir -p "$work/nats"
  nats-server -a 127.0.0.1 -p -1 -js -sd "$work/nats" > "$work/nats.log" 2>&1 &
  nats_pid=$!
  wait_for_line "$nats_pid" "$work/nats.log" 'Server is ready' 100
  nats_addr="$(sed -n 's/.*Listening for client connections on \([0-9.:]*\).*/\1/p' "$work/nats.log" | head -1)"
  [ -n "$nats_addr" ] || { echo "nats-server not ready:" >&2; cat "$work/nats.log" >&2; exit 1; }
}

free_port() {  # Redis has no "any port" setting: take one the kernel hands out.
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_redis() {  # APPENDFSYNC: a fresh server with an empty AOF; sets redis_port.
  stop_pid "$redis_pid"
  rm -rf "$work/redis"
  mkdir -p "$work/redis"
  redis_port="$(free_port)"
  # AOF on; no RDB snapshots and no AOF rewrite, which would fork mid-run.
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --daemonize no \
    --appendonly yes --appendfsync "$1" --save '' --auto-aof-rewrite-percentage 0 \
    --logfile "$work/redis.log" &
  redis_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    redis-cli -h 127.0.0.1 -p "$redis_port" ping > /dev/null 2>&1 && return 0
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1
}

# Each runs one load generator and prints its JSON line (for record).
nats_run() {  # STREAM MESSAGES WINDOW [nats_bench args...]
  local stream="$1" n="$2" window="$3"; shift 3
  timeout 600 "$bin/nats_bench" --server "$nats_addr" --stream "$stream" --messages "$n" \
    --size 100 --window "$window" --json --quiet "$@" 2>> "$work/perf.err" ||
    log "failed: nats_bench $stream"
}
redis_run() {  # MESSAGES CLIENTS PIPELINE
  timeout 600 "$repo/bench/peers/redis_xadd.sh" "$redis_port" "$1" 100 "$2" "$3" \
    2>> "$work/perf.err" || log "failed: redis XADD $*"
}
lean_run() {  # TOPIC MESSAGES ACKS WINDOW BATCH [kafka_bench args...]; deletes TOPIC
  local topic="$1" n="$2" acks="$3" window="$4" batch="$5"; shift 5
  timeout 600 "$bin/kafka_bench" --bootstrap "$sluice_bootstrap" --topic "$topic" --partitions 4 \
    --messages "$n" --size 100 --acks "$acks" --window "$window" --batch "$batch" --json --quiet \
    "$@" 2>> "$work/perf.err" || log "failed: kafka_bench $topic"
}
rate_of() { sed -n 's/.*"msgs_per_s":\([0-9.]*\).*/\1/p'; }
p99_of() { sed -n 's/.*"p99":\([0-9.]*\).*/\1/p'; }
faster() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }  # A > B

# Probes every shape once (round 0) and sets nats_window, redis_shape_everysec
# and redis_shape_always to the fastest.
probe_peers() {
  local w best=0 line rate shape fsync c p try
  for try in 1 2; do
    for w in "${nats_windows[@]}"; do
      log "probe $try: NATS JetStream window $w"
      line="$(nats_run "probe$w" "$peers_probe_messages" "$w")"
      echo "$line" | record nats "probe 100B NATS JetStream file window=$w" 0
      rate="$(rate_of <<< "$line")"
      if faster "${rate:-0}" "$best"; then
        best="$rate"; nats_window="$w"; nats_p99="$(p99_of <<< "$line")"
      fi
    done
  done
  for fsync in everysec always; do
    start_redis "$fsync"
    best=0
    for shape in "${redis_shapes[@]}" "${redis_shapes[@]}"; do
      read -r c p <<< "$shape"
      log "probe: Redis XADD appendfsync $fsync, $c clients x pipeline $p"
      redis-cli -h 127.0.0.1 -p "$redis_port" del bench > /dev/null
      line="$(redis_run "$peers_probe_messages" "$c" "$p")"
      echo "$line" | record redis "probe 100B Redis XADD $fsync c=$c P=$p" 0
      rate="$(rate_of <<< "$line")"
      if faster "${rate:-0}" "$best"; then
        best="$rate"; printf -v "redis_shape_$fsync" '%s' "$shape"
        printf -v "redis_p99_$fsync" '%s' "$(p99_of <<< "$line")"
      fi
    done
    stop_pid "$redis_pid"; redis_pid=""
  done
  : "${nats_window:=${nats_windows[0]}}" "${redis_shape_everysec:=${redis_shapes[0]}}"
  : "${redis_shape_always:=${redis_shapes[0]}}"
  log "chosen: NATS window $nats_window (p99 ${nats_p99:-?} ms); Redis everysec ${redis_shape_everysec/ / x P} (p99 ${redis_p99_everysec:-?} ms), always ${redis_shape_always/ / x P}"
}

# Probes the lean client's shapes twice for each acks and sets lean_shape_1
# and lean_shape_all to the fastest, lean_bounded_1 and lean_bounded_all to
# the fastest whose p99 is no worse than the lower of NATS's and Redis
# everysec's p99 at their chosen shapes in the probe (unset if none), so that
# row can meet "equal or better p99" against both.
probe_lean() {
  local acks try shape w b line rate p99 best bounded bound
  bound="$(printf '%s\n' $nats_p99 $redis_p99_everysec | sort -g | head -1)"
  for acks in 1 all; do
    best=0; bounded=0
    for try in 1 2; do
      for shape in "${lean_shapes[@]}"; do
        read -r w b <<< "$shape"
        log "probe $try: Sluice lean client acks=$acks, window $w, batch $b"
        line="$(lean_run "probe-lean-$acks-$w" "$lean_probe_messages" "$acks" "$w" "$b")"
        echo "$line" | record sluice "probe 100B Sluice lean acks=$acks window=$w batch=$b" 0
        rate="$(rate_of <<< "$line")"
        p99="$(p99_of <<< "$line")"
        if faster "${rate:-0}" "$best"; then best="$rate"; printf -v "lean_shape_$acks" '%s' "$shape"; fi
        if [ -n "$bound" ] && [ -n "$p99" ] && ! faster "$p99" "$bound" &&
            faster "${rate:-0}" "$bounded"; then
          bounded="$rate"; printf -v "lean_bounded_$acks" '%s' "$shape"
        fi
      done
    done
  done
  : "${lean_shape_1:=${lean_shapes[0]}}" "${lean_shape_all:=${lean_shapes[0]}}"
  log "chosen: lean client acks=1 ${lean_shape_1/ / batch } (p99 <= ${bound:-?} ms: ${lean_bounded_1:-none}), acks=all ${lean_shape_all/ / batch } (${lean_bounded_all:-none})"
}

run_peers() {
  start_nats
  log "nats-server pid $nats_pid at $nats_addr"
  probe_peers
  probe_lean
  local round acks topic fsync shape c p w b
  for round in $(seq "$rounds"); do
    if [ "$mode" = peers ]; then
      log "round $round/$rounds: machine limits"
      "$bin/machine_limits" "$work" --seconds "$limit_s" | record machine "machine limits" "$round"
    fi
    # The matrix's produce settings, 4 partitions.
    for acks in 1 all; do
      log "round $round/$rounds: peers, Sluice acks=$acks"
      topic="peers-r$round-acks$acks"
      perf sluice "peers 100B Sluice acks=$acks p4" "$round" "$sluice_bootstrap" produce "$topic" \
        --messages "$peers_messages" --size 100 --acks "$acks" --partitions 4 --compression none
      sluice_tool topic delete "$topic"
      log "round $round/$rounds: peers, Sluice acks=$acks, linger.ms 1, queue 2000"
      topic="peers-r$round-acks$acks-tuned"
      timeout 600 "$bin/sluice" --bootstrap "$sluice_bootstrap" "${sluice_tuned[@]}" perf produce \
        "$topic" --messages "$peers_messages" --size 100 --acks "$acks" --partitions 4 \
        --compression none "${sluice_tuned_produce[@]}" --json --quiet 2>> "$work/perf.err" |
        record sluice "peers 100B Sluice acks=$acks p4 tuned" "$round" || log "failed: $topic"
      sluice_tool topic delete "$topic"
    done
    # The lean client at its fastest shape, and at its fastest within the peers' p99.
    for acks in 1 all; do
      shape="lean_shape_$acks"
      read -r w b <<< "${!shape}"
      log "round $round/$rounds: peers, Sluice lean client acks=$acks, window $w, batch $b"
      lean_run "peers-r$round-lean-acks$acks" "$lean_messages" "$acks" "$w" "$b" |
        record sluice "peers 100B Sluice lean acks=$acks p4" "$round"
      shape="lean_bounded_$acks"
      [ -n "${!shape:-}" ] || continue
      read -r w b <<< "${!shape}"
      log "round $round/$rounds: peers, Sluice lean client acks=$acks, p99-bounded, window $w, batch $b"
      lean_run "peers-r$round-lean-acks$acks-bounded" "$lean_messages" "$acks" "$w" "$b" |
        record sluice "peers 100B Sluice lean acks=$acks p4 p99-bounded" "$round"
    done
    log "round $round/$rounds: peers, NATS JetStream window $nats_window"
    nats_run "peers$round" "$peers_messages" "$nats_window" |
      record nats "peers 100B NATS JetStream file" "$round"
    # Equal load: latency with linger.ms 0, as a latency-minded user sets it.
    for acks in 1 all; do
      log "round $round/$rounds: paced $peers_paced_rate/s, Sluice acks=$acks"
      topic="paced-r$round-acks$acks"
      perf sluice "paced 100B Sluice acks=$acks p4" "$round" "$sluice_bootstrap" produce "$topic" \
        --messages $((peers_paced_rate * peers_paced_seconds)) --rate "$peers_paced_rate" \
        --size 100 --acks "$acks" --partitions 4 --compression none --linger-ms 0
      sluice_tool topic delete "$topic"
    done
    for acks in 1 all; do
      shape="lean_shape_$acks"
      read -r w b <<< "${!shape}"
      log "round $round/$rounds: paced $peers_paced_rate/s, Sluice lean client acks=$acks"
      lean_run "paced-r$round-lean-acks$acks" $((peers_paced_rate * peers_paced_seconds)) "$acks" \
        "$w" "$b" --rate "$peers_paced_rate" |
        record sluice "paced 100B Sluice lean acks=$acks p4" "$round"
    done
    log "round $round/$rounds: paced $peers_paced_rate/s, NATS JetStream"
    nats_run "paced$round" $((peers_paced_rate * peers_paced_seconds)) "$nats_window" \
      --rate "$peers_paced_rate" | record nats "paced 100B NATS JetStream file" "$round"
    for fsync in everysec always; do
      shape="redis_shape_$fsync"
      read -r c p <<< "${!shape}"
      log "round $round/$rounds: peers, Redis XADD appendfsync $fsync, $c clients x pipeline $p"
      start_redis "$fsync"
      redis_run "$peers_messages" "$c" "$p" | record redis "peers 100B Redis XADD $fsync" "$round"
      stop_pid "$redis_pid"; redis_pid=""
    done
  done
  stop_pid "$nats_pid"; nats_pid=""
}
