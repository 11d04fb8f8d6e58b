#!/usr/bin/env bash
# Starts a local Sluice cluster on this machine: a three-node ZooKeeper
# ensemble (Debian's zookeeper package, run from its jar; never the system
# zookeeper service) and three brokers (broker.id 1-3), all on 127.0.0.1.
# Run with --help for the details.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/local-cluster.sh [--port BASE] [--data DIR] [--help]

Starts a local cluster on 127.0.0.1 and waits until Ctrl-C (SIGINT) or SIGTERM:
  - a three-node ZooKeeper ensemble (Debian's zookeeper package, run as three
    java processes with their own configs; the system zookeeper service is not
    used), on client ports BASE+100..BASE+102, quorum ports BASE+200..BASE+202
    and election ports BASE+300..BASE+302;
  - three brokers, broker.id 1, 2 and 3, listening on BASE, BASE+1 and BASE+2,
    with zookeeper.connect=<the ensemble>/sluice.

Options:
  --port BASE   the first broker's port (default 9092, or $SLUICE_CLUSTER_PORT)
  --data DIR    keep the cluster's data in DIR (created if missing) and leave it
                there on exit, so the next run with the same DIR picks it up.
                Without it the data goes to a fresh directory under
                ${TMPDIR:-/tmp}, removed on exit.
  --help        this text

It builds the release binaries first (scripts/build.sh release) if
build/release/bin/sluice-broker is missing; SLUICE_BIN_DIR names another
directory holding sluice-broker and sluice.

Once all three brokers are registered and a controller is elected it prints
the bootstrap string and the process ids ("started broker 1 (pid N)"), then
waits. On Ctrl-C or SIGTERM it stops the brokers (SIGTERM, waiting for each
to finish), then the ZooKeeper nodes, and exits 0. If a broker or ZooKeeper
node dies on its own it stops the rest and exits 1.

Each node's directory (DIR/zk1..zk3, DIR/broker1..broker3) holds its log:
zk*/server.log and broker*/broker.log.
EOF
}

# Stays in the caller's directory: a relative --data is relative to it.
repo=$(cd "$(dirname "$0")/.." && pwd)

base_port=${SLUICE_CLUSTER_PORT:-9092}
data_dir=
keep_data=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) [[ $# -ge 2 ]] || { echo "--port needs a value" >&2; exit 2; }
            base_port=$2; shift 2 ;;
    --port=*) base_port=${1#--port=}; shift ;;
    --data) [[ $# -ge 2 ]] || { echo "--data needs a value" >&2; exit 2; }
            data_dir=$2; keep_data=1; shift 2 ;;
    --data=*) data_dir=${1#--data=}; keep_data=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [[ $base_port =~ ^[0-9]+$ ]] || (( base_port < 1024 || base_port > 65535 - 302 )); then
  echo "--port: expected a port between 1024 and $((65535 - 302)), got '$base_port'" >&2
  exit 2
fi

zk_jar=/usr/share/java/zookeeper.jar
if [[ ! -x /usr/bin/java || ! -f $zk_jar ]]; then
  echo "ZooKeeper is not installed (needs /usr/bin/java and $zk_jar): run scripts/install-deps.sh" >&2
  exit 1
fi

bin_dir=${SLUICE_BIN_DIR:-$repo/build/release/bin}
if [[ ! -x $bin_dir/sluice-broker || ! -x $bin_dir/sluice ]]; then
  if [[ -n ${SLUICE_BIN_DIR:-} ]]; then
    echo "no sluice-broker and sluice in SLUICE_BIN_DIR=$bin_dir" >&2
    exit 1
  fi
  echo "building the release binaries (scripts/build.sh release)..."
  "$repo/scripts/build.sh" release --target sluice-broker sluice
fi
broker_bin=$bin_dir/sluice-broker
cli_bin=$bin_dir/sluice

if [[ -n $data_dir ]]; then
  mkdir -p "$data_dir"
  data_dir=$(cd "$data_dir" && pwd)
else
  data_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cluster.XXXXXX")
fi

# Processes started; the brokers are stopped first, then ZooKeeper.
zk_pids=()
broker_pids=()
status=0
cleaned=0
sleeper=

# SIGTERM to each pid, then waits up to `timeout` seconds for each to exit
# (SIGKILL after that).
stop_pids() {
  local what=$1 timeout=$2
  shift 2
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    local waited=0
    while kill -0 "$pid" 2>/dev/null && (( waited < timeout * 10 )); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$what (pid $pid) did not stop in ${timeout}s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}

cleanup() {
  (( cleaned )) && return
  cleaned=1
  # Nothing here may end the script early: every process gets stopped.
  set +e
  trap '' INT TERM
  [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null
  if (( ${#broker_pids[@]} )); then
    echo "stopping the brokers..."
    stop_pids broker 60 "${broker_pids[@]}"
  fi
  if (( ${#zk_pids[@]} )); then
    echo "stopping ZooKeeper..."
    stop_pids zookeeper 30 "${zk_pids[@]}"
  fi
  if (( keep_data )); then
    echo "data kept in $data_dir"
  else
    rm -rf "$data_dir"
  fi
  echo "stopped"
}
on_exit() {
  local rc=$?
  cleanup
  (( status )) && exit "$status"
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 0' INT TERM

zk_client_port() { echo $((base_port + 100 + $1 - 1)); }
zk_connect=
for i in 1 2 3; do
  zk_connect+="${zk_connect:+,}127.0.0.1:$(zk_client_port "$i")"
done
bootstrap="127.0.0.1:$base_port,127.0.0.1:$((base_port + 1)),127.0.0.1:$((base_port + 2))"

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
for port in "$base_port" $((base_port + 1)) $((base_port + 2)) \
            $((base_port + 100)) $((base_port + 101)) $((base_port + 102)); do
  if port_in_use "$port"; then
    echo "port $port is in use on 127.0.0.1: choose another base with --port" >&2
    exit 1
  fi
done

# ZooKeeper: each node its own dir, config and myid.
for i in 1 2 3; do
  dir=$data_dir/zk$i
  mkdir -p "$dir/data"
  echo "$i" > "$dir/data/myid"
  {
    echo "tickTime=500"
    echo "initLimit=20"
    echo "syncLimit=10"
    echo "dataDir=$dir/data"
    echo "clientPort=$(zk_client_port "$i")"
    echo "clientPortAddress=127.0.0.1"
    echo "admin.enableServer=false"
    echo "4lw.commands.whitelist=ruok,srvr,stat,mntr"
    echo "autopurge.purgeInterval=1"
    for j in 1 2 3; do
      echo "server.$j=127.0.0.1:$((base_port + 200 + j - 1)):$((base_port + 300 + j - 1))"
    done
  } > "$dir/zoo.cfg"
  # Its own session (setsid): a Ctrl-C in the terminal reaches this script
  # only, which then stops everything in order.
  setsid /usr/bin/java -Xms32m -Xmx256m -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
    -Dzookeeper.jmx.log4j.disable=true -cp "/etc/zookeeper/conf:$zk_jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >> "$dir/server.log" 2>&1 < /dev/null &
  zk_pids+=("$!")
  echo "started zookeeper $i (pid $!) on 127.0.0.1:$(zk_client_port "$i")"
done

# All alive, or report which one died and exit 1.
check_alive() {
  local i
  for i in "${!zk_pids[@]}"; do
    if ! kill -0 "${zk_pids[$i]}" 2>/dev/null; then
      echo "zookeeper $((i + 1)) exited; its log, $data_dir/zk$((i + 1))/server.log, ends:" >&2
      tail -n 20 "$data_dir/zk$((i + 1))/server.log" >&2 || true
      status=1
      exit 1
    fi
  done
  for i in "${!broker_pids[@]}"; do
    if ! kill -0 "${broker_pids[$i]}" 2>/dev/null; then
      echo "broker $((i + 1)) exited; its log, $data_dir/broker$((i + 1))/broker.log, ends:" >&2
      tail -n 20 "$data_dir/broker$((i + 1))/broker.log" >&2 || true
      status=1
      exit 1
    fi
  done
}

zk_serving() {
  local answer
  answer=$( { exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'srvr' >&3 && timeout 2 cat <&3; } 2>/dev/null) || true
  [[ $answer == *"Mode: leader"* || $answer == *"Mode: follower"* ]]
}

echo "waiting for the ZooKeeper ensemble..."
deadline=$((SECONDS + 90))
for i in 1 2 3; do
  until zk_serving "$(zk_client_port "$i")"; do
    check_alive
    if (( SECONDS > deadline )); then
      echo "zookeeper $i is not serving after 90s; see $data_dir/zk$i/server.log" >&2
      status=1
      exit 1
    fi
    sleep 0.2
  done
done

for i in 1 2 3; do
  dir=$data_dir/broker$i
  mkdir -p "$dir/data"
  port=$((base_port + i - 1))
  setsid "$broker_bin" \
    --override "broker.id=$i" \
    --override "listeners=PLAINTEXT://127.0.0.1:$port" \
    --override "log.dirs=$dir/data" \
    --override "zookeeper.connect=$zk_connect/sluice" \
    --override "zookeeper.session.timeout.ms=6000" \
    --override "sluice.metrics.listener=" \
    >> "$dir/broker.log" 2>&1 < /dev/null &
  broker_pids+=("$!")
  echo "started broker $i (pid $!) on 127.0.0.1:$port"
done

echo "waiting for the brokers to register and a controller to be elected..."
deadline=$((SECONDS + 120))
for i in 1 2 3; do
  until grep -q "sluice-broker ready" "$data_dir/broker$i/broker.log" 2>/dev/null; do
    check_alive
    if (( SECONDS > deadline )); then
      echo "broker $i not ready after 120s; see $data_dir/broker$i/broker.log" >&2
      status=1
      exit 1
    fi
    sleep 0.2
  done
done
# Every broker sees all three and a controller.
for i in 1 2 3; do
  until info=$("$cli_bin" -b "127.0.0.1:$((base_port + i - 1))" --timeout-ms 5000 cluster info 2>&1) &&
        [[ $info == *"Brokers:     3"* && $info != *"Controller:  (unknown)"* ]]; do
    check_alive
    if (( SECONDS > deadline )); then
      echo "broker $i does not report three brokers and a controller after 120s:" >&2
      echo "$info" >&2
      status=1
      exit 1
    fi
    sleep 0.5
  done
done

cat <<EOF

$info

Cluster ready. Bootstrap: $bootstrap
  ZooKeeper:  $zk_connect (chroot /sluice)
  Data:       $data_dir$( (( keep_data )) || echo " (removed on exit)")
  Logs:       $data_dir/broker{1,2,3}/broker.log, $data_dir/zk{1,2,3}/server.log

A replicated topic, written with acks=all and read back:
  $cli_bin -b $bootstrap topic create orders --partitions 3 --replication-factor 3 --config min.insync.replicas=2
  echo hello | $cli_bin -b $bootstrap produce orders --acks all
  $cli_bin -b $bootstrap consume orders --from-beginning --exit-at-end
  $cli_bin -b $bootstrap topic describe orders

Ctrl-C stops the cluster.
EOF

while true; do
  check_alive
  sleep 1 &
  sleeper=$!
  wait "$sleeper" || true
done
