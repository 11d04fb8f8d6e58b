#!/usr/bin/env bash
# scripts/local-cluster.sh for real: starts it on free ports with its data in
# a fresh directory under a private TMPDIR, waits for the bootstrap line, asks
# each of the three brokers for the cluster, creates a topic with replication
# factor 3 and min.insync.replicas=2, produces with acks=all and reads every
# message back; kills broker 2 (the script must report it and keep the rest
# running), writes with acks=all meanwhile, starts it again with `restart`
# and waits for it to rejoin every ISR; then SIGINT, and the script must exit 0 with no broker or
# ZooKeeper process it started left running and its data directory removed.
#
# Usage: local_cluster_test.sh <repo root> <dir holding sluice-broker and sluice>
set -euo pipefail

repo=$1
bin_dir=$2
cli=$bin_dir/sluice

work=$(mktemp -d "${TMPDIR:-/tmp}/local-cluster-test.XXXXXX")
out=$work/script.out
mkdir -p "$work/tmp"
script_pid=
restarted_pid=
pids=()

fail() {
  echo "FAIL: $*" >&2
  echo "--- scripts/local-cluster.sh output:" >&2
  cat "$out" >&2 || true
  exit 1
}

# Whatever happens, nothing this test started outlives it.
started_pids() {
  sed -n 's/^started \(broker\|zookeeper\) [0-9] (pid \([0-9]*\)).*/\2/p' "$out"
}
finish() {
  local rc=$? pid
  if [[ -n $script_pid ]] && kill -0 "$script_pid" 2>/dev/null; then
    # Its own clean stop first, then no mercy.
    kill -TERM "$script_pid" 2>/dev/null || true
    for _ in $(seq 180); do kill -0 "$script_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$script_pid" 2>/dev/null || true
  fi
  mapfile -t pids < <(started_pids 2>/dev/null)
  for pid in "${pids[@]}" ${restarted_pid:+"$restarted_pid"}; do
    if grep -Eqa "sluice-broker|QuorumPeerMain" "/proc/$pid/cmdline" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
  exit "$rc"
}
trap finish EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A base port whose twelve ports (brokers, ZooKeeper client, quorum and
# election ports) are all free, all below the kernel's ephemeral range
# (32768 up by default): tests running beside this one bind port 0, and one
# of them took a ZooKeeper port between this check and its use.
base=
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 12000))
  ok=1
  for offset in 0 1 2 100 101 102 200 201 202 300 301 302; do
    port_free $((candidate + offset)) || { ok=0; break; }
  done
  if (( ok )); then base=$candidate; break; fi
done
[[ -n $base ]] || fail "no free base port"

# Job control: the script gets its own process group and, unlike a plain
# background job, does not start with SIGINT ignored.
set -m
TMPDIR=$work/tmp SLUICE_BIN_DIR=$bin_dir "$repo/scripts/local-cluster.sh" --port "$base" \
  > "$out" 2>&1 &
script_pid=$!
set +m

deadline=$((SECONDS + 240))
until grep -q "^Cluster ready. Bootstrap: " "$out"; do
  kill -0 "$script_pid" 2>/dev/null || fail "the script exited before the cluster was ready"
  (( SECONDS < deadline )) || fail "no bootstrap line after 240s"
  sleep 0.5
done
mapfile -t pids < <(started_pids)
(( ${#pids[@]} == 6 )) || fail "expected six 'started ... (pid N)' lines, got ${#pids[@]}"
bootstrap=$(sed -n 's/^Cluster ready. Bootstrap: //p' "$out")
expected="127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))"
[[ $bootstrap == "$expected" ]] || fail "bootstrap '$bootstrap', expected '$expected'"

# Each broker answers, and knows all three and the controller.
for port in "$base" $((base + 1)) $((base + 2)); do
  info=$("$cli" -b "127.0.0.1:$port" cluster info) || fail "broker on $port does not answer"
  for id in 1 2 3; do
    grep -Eq "^  $id +127\.0\.0\.1:$((base + id - 1))" <<<"$info" ||
      fail "broker on $port does not list broker $id: $info"
  done
  grep -q "(controller)" <<<"$info" || fail "broker on $port names no controller: $info"
done

# A replicated topic: rf 3, min.insync.replicas=2, acks=all, read back.
"$cli" -b "$bootstrap" topic create replicated --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2 || fail "topic create"
describe=
for _ in $(seq 60); do
  describe=$("$cli" -b "$bootstrap" topic describe replicated 2>&1) || true
  [[ $(grep -c "Isr: [123],[123],[123] " <<<"$describe") == 3 ]] && break
  sleep 0.5
done
[[ $(grep -c "Isr: [123],[123],[123] " <<<"$describe") == 3 ]] ||
  fail "three partitions each with three in-sync replicas expected: $describe"
seq 1 100 | sed 's/^/message-/' |
  "$cli" -b "$bootstrap" produce replicated --acks all || fail "produce with acks=all"
consumed=$("$cli" -b "$bootstrap" consume replicated --from-beginning --exit-at-end \
  --format '%v\n') || fail "consume"
[[ $(sort <<<"$consumed") == $(seq 1 100 | sed 's/^/message-/' | sort) ]] ||
  fail "consumed messages differ from the 100 produced: $consumed"

# A broker killed by hand: the script reports it and the others keep
# serving; `restart` starts it again, and it rejoins every ISR.
victim_pid=$(sed -n 's/^started broker 2 (pid \([0-9]*\)).*/\1/p' "$out")
[[ -n $victim_pid ]] || fail "no pid for broker 2"
kill -KILL "$victim_pid"
for _ in $(seq 60); do grep -q "^broker2 exited" "$out" && break; sleep 0.5; done
grep -q "^broker2 exited" "$out" || fail "the script did not report broker 2's death"
kill -0 "$script_pid" 2>/dev/null || fail "the script exited when broker 2 died"
data=$(sed -n 's/^  Data: *\([^ ]*\).*/\1/p' "$out")
[[ -d $data ]] || fail "no data directory in the script's output"
seq 101 150 | sed 's/^/message-/' |
  "$cli" -b "127.0.0.1:$base" produce replicated --acks all ||
  fail "produce with acks=all while broker 2 is down (min.insync.replicas=2)"
restart_out=$("$repo/scripts/local-cluster.sh" restart "$data" broker2 2>&1) ||
  fail "restart broker2: $restart_out"
restarted_pid=$(sed -n 's/^started broker 2 (pid \([0-9]*\)).*/\1/p' <<<"$restart_out")
[[ -n $restarted_pid ]] || fail "restart printed no pid: $restart_out"
if out2=$("$repo/scripts/local-cluster.sh" restart "$data" broker2 2>&1); then
  fail "a second restart of a running broker2 succeeded: $out2"
fi
for _ in $(seq 60); do grep -q "^broker2 is running again (pid $restarted_pid)" "$out" && break; sleep 0.5; done
grep -q "^broker2 is running again (pid $restarted_pid)" "$out" ||
  fail "the script did not notice the restarted broker 2"
for _ in $(seq 120); do
  describe=$("$cli" -b "$bootstrap" topic describe replicated 2>&1) || true
  [[ $(grep -c "Isr: [123],[123],[123] " <<<"$describe") == 3 ]] && break
  sleep 0.5
done
[[ $(grep -c "Isr: [123],[123],[123] " <<<"$describe") == 3 ]] ||
  fail "broker 2 did not rejoin every ISR after its restart: $describe"
consumed=$("$cli" -b "$bootstrap" consume replicated --from-beginning --exit-at-end \
  --format '%v\n') || fail "consume after the restart"
[[ $(sort <<<"$consumed") == $(seq 1 150 | sed 's/^/message-/' | sort) ]] ||
  fail "after broker 2's death and restart, consumed messages differ from the 150 produced"

# Ctrl-C: everything stops, exit 0.
kill -INT "$script_pid"
rc=0
wait "$script_pid" || rc=$?
script_pid=
(( rc == 0 )) || fail "the script exited $rc after SIGINT"
for pid in "${pids[@]}" "$restarted_pid"; do
  # A zombie has exited (the restarted broker is nobody's child, and process
  # 1 of some containers does not reap).
  state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1) || true
  if [[ -n $state && $state != Z ]]; then
    fail "pid $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)) still running after the script exited"
  fi
done
grep -q "^stopped$" "$out" || fail "no 'stopped' line"
leftover=$(find "$work/tmp" -mindepth 1 -maxdepth 1)
[[ -z $leftover ]] || fail "the temporary data directory was not removed: $leftover"
# The brokers stopped cleanly (SIGTERM, not SIGKILL).
if grep -q "did not stop" "$out"; then fail "a process had to be killed"; fi

echo "PASS: three brokers on $bootstrap, rf 3 topic written with acks=all and read back;" \
  "broker 2 killed, reported, restarted and back in every ISR; SIGINT stopped all seven processes"
