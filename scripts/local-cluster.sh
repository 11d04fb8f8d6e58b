#!/usr/bin/env bash
# Starts a local Sluice cluster on this machine: a three-node ZooKeeper
# ensemble (Debian's zookeeper package, run from its jar; never the system
# zookeeper service) and three brokers (broker.id 1-3), all on 127.0.0.1.
# Run with --help for the details.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/local-cluster.sh [--port BASE] [--data DIR] [--help]
       scripts/local-cluster.sh restart DIR NODE

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
to finish), then the ZooKeeper nodes, and exits 0. A node that fails to start
stops the rest (exit 1). Once the cluster is ready, a node that dies (say a
broker you killed to watch a failover) is reported and the others keep
running; start it again, with the same ports and data, from another terminal:

  scripts/local-cluster.sh restart DIR NODE

where DIR is the data directory the script printed and NODE is broker1..3 or
zk1..3. The running script notices the new process and stops it on Ctrl-C
with the rest.

Each node's directory (DIR/zk1..zk3, DIR/broker1..broker3) holds its log:
zk*/server.log and broker*/broker.log.
EOF
}

# Stays in the caller's directory: a relative --data is relative to it.
repo=$(cd "$(dirname "$0")/.." && pwd)
zk_jar=/usr/share/java/zookeeper.jar

# --- What both modes need: the nodes' ports, and how each node starts. -----
# Each node's directory holds its pid file (DIR/<node>/pid): the running
# script watches and stops the processes named there, so a node started again
# by `restart` is one of its nodes like the others.

zk_client_port() { echo $((base_port + 100 + $1 - 1)); }
zk_connect_string() {
  local i s=
  for i in 1 2 3; do s+="${s:+,}127.0.0.1:$(zk_client_port "$i")"; done
  echo "$s"
}

start_zk() {
  local i=$1 dir=$data_dir/zk$1 j
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
  # Its own session (setsid): a Ctrl-C in the terminal reaches the script
  # only, which then stops everything in order.
  setsid /usr/bin/java -Xms32m -Xmx256m -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
    -Dzookeeper.jmx.log4j.disable=true -cp "/etc/zookeeper/conf:$zk_jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >> "$dir/server.log" 2>&1 < /dev/null &
  echo "$!" > "$dir/pid"
  echo "started zookeeper $i (pid $!) on 127.0.0.1:$(zk_client_port "$i")"
}

start_broker() {
  local i=$1 dir=$data_dir/broker$1 port=$((base_port + $1 - 1))
  mkdir -p "$dir/data"
  setsid "$broker_bin" \
    --override "broker.id=$i" \
    --override "listeners=PLAINTEXT://127.0.0.1:$port" \
    --override "log.dirs=$dir/data" \
    --override "zookeeper.connect=$(zk_connect_string)/sluice" \
    --override "zookeeper.session.timeout.ms=6000" \
    --override "sluice.metrics.listener=" \
    >> "$dir/broker.log" 2>&1 < /dev/null &
  echo "$!" > "$dir/pid"
  echo "started broker $i (pid $!) on 127.0.0.1:$port"
}

# Whether process $1 runs. A node started by `restart` is nobody's child
# once that command returns, and where process 1 does not reap orphans (some
# containers) it stays a zombie after it exits: that counts as gone.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# The pid in a node's pid file if that process is alive, else nothing.
live_pid() {
  local pid
  pid=$(cat "$data_dir/$1/pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && echo "$pid"
  return 0
}

# --- restart DIR NODE: start one node of a running cluster again. ----------
if [[ ${1:-} == restart ]]; then
  if [[ $# -ne 3 ]]; then
    echo "usage: scripts/local-cluster.sh restart DIR NODE (NODE: broker1..3 or zk1..3)" >&2
    exit 2
  fi
  data_dir=$(cd "$2" 2>/dev/null && pwd) || { echo "no directory $2" >&2; exit 1; }
  node=$3
  if [[ ! -f $data_dir/cluster.env ]]; then
    echo "$data_dir is not the data directory of a cluster this script started" >&2
    exit 1
  fi
  # shellcheck source=/dev/null
  source "$data_dir/cluster.env"  # base_port, broker_bin
  runner=$(cat "$data_dir/script.pid" 2>/dev/null || true)
  if ! [[ $runner =~ ^[0-9]+$ ]] || ! alive "$runner"; then
    echo "the script that started the cluster in $data_dir is not running" >&2
    exit 1
  fi
  case "$node" in
    broker[123]|zk[123]) ;;
    *) echo "unknown node '$node': broker1..3 or zk1..3" >&2; exit 2 ;;
  esac
  if pid=$(live_pid "$node") && [[ -n $pid ]]; then
    echo "$node is running (pid $pid)" >&2
    exit 1
  fi
  if [[ $node == broker* ]]; then start_broker "${node#broker}"; else start_zk "${node#zk}"; fi
  exit 0
fi

# --- Starting a cluster. -----------------------------------------------------
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
bin_dir=$(cd "$bin_dir" && pwd)
broker_bin=$bin_dir/sluice-broker
cli_bin=$bin_dir/sluice

if [[ -n $data_dir ]]; then
  mkdir -p "$data_dir"
  data_dir=$(cd "$data_dir" && pwd)
else
  data_dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cluster.XXXXXX")
fi

nodes=(zk1 zk2 zk3 broker1 broker2 broker3)
status=0
cleaned=0
started=0  # set once the cluster is ready: from then on a death is reported, not fatal
sleeper=

# SIGTERM to each pid, then waits up to `timeout` seconds for each to exit
# (SIGKILL after that). A pid may belong to a process `restart` started, not
# a child of this script, so the wait is a poll.
stop_pids() {
  local what=$1 timeout=$2
  shift 2
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do
    local waited=0
    while alive "$pid" && (( waited < timeout * 10 )); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if alive "$pid"; then
      echo "$what (pid $pid) did not stop in ${timeout}s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}

# The live pids of the nodes named (brokers first, then ZooKeeper).
live_pids() {
  local node pid
  for node in "$@"; do
    pid=$(live_pid "$node")
    [[ -n $pid ]] && echo "$pid"
  done
  return 0
}

cleanup() {
  (( cleaned )) && return
  cleaned=1
  # Nothing here may end the script early: every process gets stopped.
  set +e
  trap '' INT TERM
  [[ -n $sleeper ]] && kill "$sleeper" 2>/dev/null
  rm -f "$data_dir/script.pid"
  local pids
  mapfile -t pids < <(live_pids broker1 broker2 broker3)
  if (( ${#pids[@]} )); then
    echo "stopping the brokers..."
    stop_pids broker 60 "${pids[@]}"
  fi
  mapfile -t pids < <(live_pids zk1 zk2 zk3)
  if (( ${#pids[@]} )); then
    echo "stopping ZooKeeper..."
    stop_pids zookeeper 30 "${pids[@]}"
  fi
  if (( keep_data )); then
    rm -f "$data_dir/cluster.env" "$data_dir"/{zk,broker}[123]/pid
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

zk_connect=$(zk_connect_string)
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

# What `restart` needs to start a node as this script did, and who to ask.
rm -f "$data_dir"/{zk,broker}[123]/pid
{
  printf 'base_port=%q\n' "$base_port"
  printf 'broker_bin=%q\n' "$broker_bin"
} > "$data_dir/cluster.env"
echo "$$" > "$data_dir/script.pid"

node_log() {
  if [[ $1 == zk* ]]; then echo "$data_dir/$1/server.log"; else echo "$data_dir/$1/broker.log"; fi
}

# Before the cluster is ready, any node gone is a failed start: report it
# and exit 1. Once it is ready, a node that dies is reported once and the
# rest keep running; one that `restart` started again is reported too.
declare -A reported_pid=()
check_alive() {
  local node pid
  for node in "${nodes[@]}"; do
    [[ -f $data_dir/$node/pid ]] || continue
    pid=$(live_pid "$node")
    if [[ -z $pid ]]; then
      (( started )) && [[ ${reported_pid[$node]:-} == dead ]] && continue
      echo "$node exited; its log, $(node_log "$node"), ends:" >&2
      tail -n 20 "$(node_log "$node")" >&2 || true
      if (( ! started )); then
        status=1
        exit 1
      fi
      echo "the other nodes keep running; start it again with:" >&2
      echo "  $repo/scripts/local-cluster.sh restart $data_dir $node" >&2
      reported_pid[$node]=dead
    elif [[ ${reported_pid[$node]:-} == dead ]]; then
      echo "$node is running again (pid $pid)"
      reported_pid[$node]=$pid
    fi
  done
}

zk_serving() {
  local answer
  answer=$( { exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'srvr' >&3 && timeout 2 cat <&3; } 2>/dev/null) || true
  [[ $answer == *"Mode: leader"* || $answer == *"Mode: follower"* ]]
}

for i in 1 2 3; do start_zk "$i"; done

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

for i in 1 2 3; do start_broker "$i"; done

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
started=1

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

A failover: kill -9 the leader a describe names (pids above); the others keep
serving. Start it again with:
  $repo/scripts/local-cluster.sh restart $data_dir broker<N>

Ctrl-C stops the cluster.
EOF

while true; do
  check_alive
  sleep 1 &
  sleeper=$!
  wait "$sleeper" || true
done
