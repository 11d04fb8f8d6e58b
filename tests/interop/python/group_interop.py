#!/usr/bin/python3
"""Consumer-group interoperability scenarios against a running Sluice broker.

    group_interop.py kafka-python HOST:PORT
        kafka-python group: two members split a 4-partition topic; messages are
        consumed exactly once by their partition's owner; a member leaves and the
        other takes over its partitions; a member commits part of the log and a new
        member resumes exactly after the committed offsets.

    group_interop.py mixed HOST:PORT NODE_SCRIPT [--with-librdkafka]
        One group, the `range` assignor, members from different libraries: a kafkajs
        member (NODE_SCRIPT's `member` mode, a child process), a kafka-python member
        (a thread here) and optionally a librdkafka member (kcat -G). They share the
        partitions without overlap, the assignment is exactly Kafka's range
        assignment, every message is consumed exactly once; then the kafkajs member
        (the group leader) leaves and the others take over with a new leader.

Progress goes to stderr; the last stdout line is "RESULT PASS <detail>" (exit 0)
or "RESULT FAIL <reason>" (exit 1). Run by tests/interop/run_with_broker.py,
which starts the broker; see tests/interop/CMakeLists.txt.
"""
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time

try:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.structs import OffsetAndMetadata
except ImportError as e:  # the test must fail, not skip, without the library
    print("RESULT FAIL kafka-python is not importable by %s (%s): install python3-kafka "
          "(scripts/install-deps.sh does)" % (sys.executable, e), flush=True)
    sys.exit(1)

BROKER = None
SESSION_TIMEOUT_MS = 20000  # a leave must be seen well before this expires


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def log(msg):
    print("[group_interop.py %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def wait_for(cond, timeout, what, poll=0.05, on_timeout=None):
    """Waits until cond() is truthy; Failure naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise Failure("%s: not reached in %.0fs%s" % (what, timeout, on_timeout() if on_timeout else ""))
        time.sleep(poll)


# ------------------------------------------------------------------ clients

def admin():
    return KafkaAdminClient(bootstrap_servers=BROKER, client_id="interop-admin", request_timeout_ms=20000)


def create_topic(topic, partitions):
    a = admin()
    try:
        a.create_topics([NewTopic(topic, partitions, 1)], timeout_ms=15000)
    finally:
        a.close()
    c = KafkaConsumer(bootstrap_servers=BROKER, client_id="interop-meta")
    try:
        wait_for(lambda: topic in c.topics() and len(c.partitions_for_topic(topic) or ()) == partitions,
                 20, "topic %s with %d partitions in metadata" % (topic, partitions), poll=0.2)
    finally:
        c.close()


def produce(topic, partitions, n, tag):
    """n messages "<tag>-<i>", message i to partition i % partitions, acks=all.
    Returns {value: (partition, offset)}."""
    p = KafkaProducer(bootstrap_servers=BROKER, client_id="interop-producer", acks="all",
                      max_block_ms=20000, request_timeout_ms=20000, linger_ms=5)
    try:
        futs = [(("%s-%d" % (tag, i)).encode(), p.send(topic, value=("%s-%d" % (tag, i)).encode(),
                                                        partition=i % partitions)) for i in range(n)]
        p.flush(30)
        out = {}
        for v, f in futs:
            md = f.get(timeout=30)
            out[v] = (md.partition, md.offset)
        return out
    finally:
        p.close()


def end_offsets(topic, partitions):
    c = KafkaConsumer(bootstrap_servers=BROKER, client_id="interop-meta")
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: o for tp, o in c.end_offsets(tps).items()}
    finally:
        c.close()


def committed_offsets(group, topic):
    """The group's committed offsets for `topic` as {partition: offset} (OffsetFetch)."""
    a = admin()
    try:
        got = a.list_consumer_group_offsets(group)
    finally:
        a.close()
    return {tp.partition: om.offset for tp, om in got.items() if tp.topic == topic and om.offset >= 0}


def describe_group(group):
    a = admin()
    try:
        return a.describe_consumer_groups([group])[0]
    finally:
        a.close()


def consumer(group, client_id, **kw):
    cfg = dict(bootstrap_servers=BROKER, client_id=client_id, group_id=group,
               auto_offset_reset="earliest", enable_auto_commit=False,
               session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=500,
               request_timeout_ms=SESSION_TIMEOUT_MS + 5000, max_poll_interval_ms=30000)
    cfg.update(kw)
    return KafkaConsumer(**cfg)


# ------------------------------------------------------------------ members
#
# Every member type offers the same interface: name, snapshot() -> (assignment
# set, list of (partition, offset, value bytes)), error, leave() (commit what was
# processed, leave the group, stop), and assignments_seen.

class PyMember(threading.Thread):
    """A kafka-python group member polling in its own thread (kafka-python rejoins
    a group only inside poll()). After each non-empty poll it synchronously commits
    the positions, i.e. exactly what it has processed."""

    def __init__(self, name, group, topic, **kw):
        super().__init__(daemon=True, name=name)
        self.name = name
        self.c = consumer(group, name, **kw)
        self.c.subscribe([topic])
        self.records = []
        self.assignment = set()
        self.assignments_seen = []
        self.error = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self.start()

    def run(self):
        try:
            while not self._stopping.is_set():
                batch = self.c.poll(timeout_ms=100)
                recs = [(r.partition, r.offset, r.value) for rs in batch.values() for r in rs]
                if recs:
                    self.c.commit()  # raises on failure: then the member failed
                assigned = {tp.partition for tp in self.c.assignment()}
                with self._lock:
                    self.records.extend(recs)
                    if assigned != self.assignment:
                        self.assignment = assigned
                        self.assignments_seen.append(sorted(assigned))
                        log("%s assigned %s" % (self.name, sorted(assigned)))
            self.c.close(autocommit=False)
        except Exception as e:  # noqa: BLE001 - reported by the scenario
            log("%s failed: %r" % (self.name, e))
            self.error = e

    def member_id(self):
        return self.c._coordinator._generation.member_id  # noqa: SLF001 - for matching DescribeGroups

    def snapshot(self):
        with self._lock:
            return set(self.assignment), list(self.records)

    def leave(self, timeout=20):
        self._stopping.set()
        self.join(timeout)
        check(not self.is_alive(), "%s did not close within %ds" % (self.name, timeout))


class NodeMember:
    """A kafkajs member: group_interop.js in `member` mode, one JSON event per stdout line."""

    def __init__(self, name, node_script, group, topic):
        self.name = name
        self.records = []
        self.assignment = set()
        self.assignments_seen = []
        self.member_id_ = None
        self.error = None
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(["node", node_script, "member", BROKER, group, topic, name],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            self._read_events()
        except Exception as e:  # noqa: BLE001 - a bad event fails the member, visibly
            self.error = "reading the kafkajs member's events: %r" % (e,)

    def _read_events(self):
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                log("%s: unparsable line %r" % (self.name, line))
                continue
            with self._lock:
                if ev["ev"] == "assigned":
                    self.assignment = set(ev["partitions"])
                    self.member_id_ = ev["memberId"]
                    self.assignments_seen.append(sorted(self.assignment))
                    log("%s assigned %s (leader: %s, protocol %s)" % (self.name, sorted(self.assignment),
                                                                      ev.get("isLeader"), ev.get("groupProtocol")))
                elif ev["ev"] == "records":
                    self.records.extend((p, o, v.encode()) for p, o, v in ev["records"])
                elif ev["ev"] == "error":
                    log("%s failed: %s" % (self.name, ev["error"]))
                    self.error = ev["error"]
                elif ev["ev"] == "stopped":
                    self.stopped.set()
        rc = self.proc.wait()
        if not self.stopped.is_set() and self.error is None:
            self.error = "kafkajs member exited (code %s) without being asked to" % rc

    def member_id(self):
        return self.member_id_

    def snapshot(self):
        with self._lock:
            return set(self.assignment), list(self.records)

    def leave(self, timeout=20):
        self.proc.stdin.write("stop\n")
        self.proc.stdin.flush()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("%s did not stop within %ds" % (self.name, timeout))
        check(self.stopped.is_set(), "%s exited with code %s before confirming its stop"
              % (self.name, self.proc.returncode))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()


class KcatMember:
    """A librdkafka member: `kcat -G` (balanced consumer) with the range assignor.
    kcat reports rebalances on stderr ("% Group ... rebalanced ... assigned: t [0], t [1]")
    and prints messages as "<partition> <offset> <value>"."""

    def __init__(self, name, group, topic):
        self.name = name
        self.records = []
        self.assignment = set()
        self.assignments_seen = []
        self.error = None
        self._lock = threading.Lock()
        self.topic = topic
        self.member_id_ = None
        self.proc = subprocess.Popen(
            ["kcat", "-b", BROKER, "-G", group, topic, "-u",
             "-X", "client.id=" + name,
             "-X", "partition.assignment.strategy=range",
             "-X", "auto.offset.reset=earliest",
             "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100",
             "-X", "session.timeout.ms=%d" % SESSION_TIMEOUT_MS,
             "-X", "heartbeat.interval.ms=500",
             "-f", "%p %o %s\\n"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for line in self.proc.stdout:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) != 3:
                continue
            with self._lock:
                self.records.append((int(parts[0]), int(parts[1]), parts[2].encode()))

    def _read_err(self):
        for line in self.proc.stderr:
            line = line.rstrip("\n")
            log("%s: %s" % (self.name, line))
            if "rebalanced (memberid " not in line:
                continue
            member_id = line.split("(memberid ", 1)[1].split(")", 1)[0]
            assigned = set()
            if "assigned:" in line:
                for item in line.split("assigned:", 1)[1].split(","):
                    item = item.strip()
                    if item.startswith(self.topic + " [") and item.endswith("]"):
                        assigned.add(int(item[len(self.topic) + 2:-1]))
            elif "revoked" not in line:
                continue
            with self._lock:
                self.member_id_ = member_id
                self.assignment = assigned
                self.assignments_seen.append(sorted(assigned))

    def member_id(self):
        return self.member_id_

    def snapshot(self):
        with self._lock:
            return set(self.assignment), list(self.records)

    def leave(self, timeout=20):
        self.proc.send_signal(2)  # SIGINT: kcat commits, leaves the group, exits
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise Failure("%s did not stop within %ds" % (self.name, timeout))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()


# ------------------------------------------------------------------ checks

def check_alive(members):
    for m in members:
        check(m.error is None, "member %s failed: %s" % (m.name, m.error))
        proc = getattr(m, "proc", None)
        check(proc is None or proc.poll() is None, "member %s exited with code %s" % (m.name, proc and proc.returncode))


def describe_assignments(members):
    return "; " + ", ".join("%s %s" % (m.name, sorted(m.snapshot()[0])) for m in members)


def wait_settled(members, partitions, timeout=40, stable=1.0):
    """Waits until every member has a non-empty assignment, the assignments are
    disjoint and cover all partitions, and they stay so for `stable` seconds.
    Returns {name: set of partitions}."""
    since = None
    last = None
    deadline = time.monotonic() + timeout
    while True:
        check_alive(members)
        cur = {m.name: m.snapshot()[0] for m in members}
        sets = list(cur.values())
        union = set().union(*sets)
        ok = all(sets) and sum(len(s) for s in sets) == len(union) == partitions
        if ok and cur == last:
            if time.monotonic() - since >= stable:
                return cur
        else:
            since = time.monotonic()
        last = cur if ok else None
        check(time.monotonic() < deadline, "group never settled in %ds%s" % (timeout, describe_assignments(members)))
        time.sleep(0.05)


def record_counts(members, marks):
    return sum(len(m.snapshot()[1]) - marks.get(m.name, 0) for m in members)


def wait_consumed(members, want, marks, timeout=30, grace=1.0):
    """Waits until the members together hold `want` records past `marks` (the
    record counts before this phase), then `grace` seconds more to catch duplicates."""
    wait_for(lambda: (check_alive(members), record_counts(members, marks) >= want)[1], timeout,
             "the group consuming %d messages" % want,
             on_timeout=lambda: " (got %d)" % record_counts(members, marks))
    time.sleep(grace)
    check_alive(members)


def check_exactly_once(members, marks, owners, produced, phase):
    """Every record in `produced` ({value: (partition, offset)}) consumed exactly once
    since `marks`, by the member owning its partition in `owners` ({name: set});
    nothing else consumed."""
    seen = {}
    for m in members:
        for p, o, v in m.snapshot()[1][marks.get(m.name, 0):]:
            check(v in produced, "%s: %s consumed %r at %d/%d, which was not produced in this phase (redelivered?)"
                  % (phase, m.name, v, p, o))
            check(v not in seen, "%s: %r consumed twice (by %s and %s)" % (phase, v, seen.get(v), m.name))
            check(produced[v] == (p, o), "%s: %r acked at %s, consumed at %d/%d" % (phase, v, produced[v], p, o))
            check(p in owners[m.name], "%s: %s consumed partition %d, which it does not own (owns %s)"
                  % (phase, m.name, p, sorted(owners[m.name])))
            seen[v] = m.name
    check(len(seen) == len(produced), "%s: %d of %d messages consumed" % (phase, len(seen), len(produced)))


def marks_of(members):
    return {m.name: len(m.snapshot()[1]) for m in members}


def range_assignment(member_ids, partitions):
    """Kafka's RangeAssignor for one topic: members sorted by id, consecutive blocks,
    the first (partitions % members) members get one extra partition."""
    ids = sorted(member_ids)
    per, extra = divmod(partitions, len(ids))
    out, start = {}, 0
    for i, mid in enumerate(ids):
        n = per + (1 if i < extra else 0)
        out[mid] = set(range(start, start + n))
        start += n
    return out


def check_range_group(group, topic, partitions, members, phase):
    """DescribeGroups: Stable, protocol "range", one entry per member, and the
    assignment the leader computed is exactly Kafka's range assignment."""
    d = describe_group(group)
    check(d.state == "Stable", "%s: group state %s, expected Stable" % (phase, d.state))
    check(d.protocol == "range", "%s: group protocol %r, expected 'range'" % (phase, d.protocol))
    check(len(d.members) == len(members), "%s: DescribeGroups lists %d members, expected %d"
          % (phase, len(d.members), len(members)))
    by_id = {}
    for dm in d.members:
        parts = set()
        for t, ps in getattr(dm.member_assignment, "assignment", None) or []:
            check(t == topic, "%s: member %s assigned topic %s" % (phase, dm.member_id, t))
            parts |= set(ps)
        by_id[dm.member_id] = (dm.client_id, parts)
    want = range_assignment(by_id, partitions)
    for mid, (cid, parts) in by_id.items():
        check(parts == want[mid], "%s: member %s (%s) has %s, the range assignor gives %s"
              % (phase, mid, cid, sorted(parts), sorted(want[mid])))
    for m in members:  # what each client believes it owns matches the group's record
        own = m.snapshot()[0]
        match = [parts for mid, (cid, parts) in by_id.items() if m.member_id() == mid]
        check(len(match) == 1 and match[0] == own, "%s: %s believes it owns %s, DescribeGroups says %s"
              % (phase, m.name, sorted(own), match))
    return ", ".join("%s=%s" % (cid, sorted(p)) for cid, p in sorted(by_id.values()))


# ------------------------------------------------------------------ scenarios

def sc_kafka_python():
    topic, group, parts = "interop-py", "interop-py-group", 4
    create_topic(topic, parts)
    members = []
    try:
        # 1. Two members split the partitions.
        m1 = PyMember("py-member-1", group, topic)
        m2 = PyMember("py-member-2", group, topic)
        members = [m1, m2]
        owners = wait_settled(members, parts)
        log("settled: %s" % owners)
        marks = marks_of(members)
        produced = produce(topic, parts, 400, "split")
        wait_consumed(members, 400, marks)
        check_exactly_once(members, marks, owners, produced, "split")
        check(wait_settled(members, parts, stable=0) == owners, "assignment changed while consuming")
        detail = "split %s" % {k: sorted(v) for k, v in owners.items()}

        # 2. A member leaves (LeaveGroup); the other takes over its partitions.
        t0 = time.monotonic()
        m2.leave()
        wait_for(lambda: (check_alive([m1]), m1.snapshot()[0] == set(range(parts)))[1], 15,
                 "py-member-1 taking over all partitions after py-member-2 left",
                 on_timeout=lambda: describe_assignments([m1]))
        took = time.monotonic() - t0
        check(took < SESSION_TIMEOUT_MS / 2000, "takeover took %.1fs: the leave was not seen (session expiry?)" % took)
        marks = marks_of([m1])
        produced = produce(topic, parts, 200, "takeover")
        wait_consumed([m1], 200, marks)
        check_exactly_once([m1], marks, {m1.name: set(range(parts))}, produced, "takeover")
        detail += "; takeover after leave in %.1fs" % took

        # 3. Everything processed so far is committed.
        m1.leave()
        members = []
        ends = end_offsets(topic, parts)
        got = committed_offsets(group, topic)
        check(got == ends, "committed offsets %s after both members processed everything, log ends %s" % (got, ends))

        # 4. A member processes exactly 150 of 300 new messages and commits exactly those.
        produced = produce(topic, parts, 300, "resume")
        c3 = consumer(group, "py-member-3", max_partition_fetch_bytes=1024)
        c3.subscribe([topic])
        first, nxt = [], {}
        deadline = time.monotonic() + 30
        while len(first) < 150 and time.monotonic() < deadline:
            for rs in c3.poll(timeout_ms=200).values():
                for r in rs:
                    if len(first) < 150:
                        check(r.value in produced, "resuming member re-read %r" % r.value)
                        first.append(r.value)
                        nxt[r.partition] = r.offset + 1
        check(len(first) == 150, "py-member-3 read only %d messages" % len(first))
        c3.commit({TopicPartition(topic, p): OffsetAndMetadata(o, "") for p, o in nxt.items()})
        c3.close(autocommit=False)
        want = dict(ends)
        want.update(nxt)
        got = committed_offsets(group, topic)
        check(got == want, "OffsetFetch after the partial commit: %s, expected %s" % (got, want))

        # 5. A new member resumes exactly after the committed offsets.
        m4 = PyMember("py-member-4", group, topic)
        members = [m4]
        wait_settled(members, parts)
        rest = {v: po for v, po in produced.items() if v not in set(first)}
        wait_consumed(members, len(rest), {}, grace=2.0)
        check_exactly_once(members, {}, {m4.name: set(range(parts))}, rest, "resume")
        detail += "; committed 150 of 300, new member read exactly the other 150"
        return detail
    finally:
        for m in members:
            if m.is_alive():
                m.leave()


def sc_mixed(node_script, with_librdkafka):
    topic, group, parts = "interop-mixed", "interop-mixed-range", 6
    need = ["node"] + (["kcat"] if with_librdkafka else [])
    for tool in need:
        check(shutil.which(tool), "%s not found on PATH: scripts/install-deps.sh installs it" % tool)
    modules = os.path.join(os.path.dirname(node_script), "node_modules", "kafkajs")
    check(os.path.isdir(modules), "%s missing: scripts/install-deps.sh runs npm ci there" % modules)
    create_topic(topic, parts)
    members = []
    try:
        # The kafkajs member joins first, alone, so it is the leader and its range
        # assigner computes the shared assignment.
        js = NodeMember("kafkajs-member", node_script, group, topic)
        members = [js]
        wait_settled(members, parts, stable=0)
        py = PyMember("kafka-python-member", group, topic, partition_assignment_strategy=[RangePartitionAssignor])
        members.append(py)
        if with_librdkafka:
            wait_settled(members, parts)  # one rebalance at a time keeps this fast
            members.append(KcatMember("librdkafka-member", group, topic))
        owners = wait_settled(members, parts)
        log("settled: %s" % owners)
        desc = check_range_group(group, topic, parts, members, "mixed group")
        check(js.assignments_seen and max(len(a) for a in js.assignments_seen) == parts,
              "the kafkajs member never had the group to itself")
        marks = marks_of(members)
        produced = produce(topic, parts, 600, "mixed")
        wait_consumed(members, 600, marks)
        check_exactly_once(members, marks, owners, produced, "mixed group")
        check(wait_settled(members, parts, stable=0) == owners, "assignment changed while consuming")
        detail = "range group %s" % desc

        # A member supporting only round-robin cannot join a range group: JoinGroup
        # answers INCONSISTENT_GROUP_PROTOCOL and the group is left as it was.
        out = subprocess.run(["node", node_script, "refused", BROKER, group, topic, "kafkajs-roundrobin"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=40)
        lines = out.stdout.strip().splitlines()
        ev = json.loads(lines[-1]) if lines else {}
        check(ev.get("ev") == "refused" and ev.get("type") == "INCONSISTENT_GROUP_PROTOCOL",
              "a round-robin-only kafkajs member joining the range group: expected INCONSISTENT_GROUP_PROTOCOL, "
              "got %s (exit %d, stderr %s)" % (ev or "nothing", out.returncode, out.stderr.strip()[-300:]))
        check(wait_settled(members, parts) == owners, "the refused member disturbed the group's assignment")
        check_range_group(group, topic, parts, members, "after the refused join")
        detail += "; round-robin-only member refused (INCONSISTENT_GROUP_PROTOCOL)"

        # The leader (kafkajs) leaves: the others take over, another library leads.
        js.leave()
        rest = [m for m in members if m is not js]
        members = rest
        owners = wait_settled(rest, parts)
        desc = check_range_group(group, topic, parts, rest, "after the kafkajs member left")
        marks = marks_of(rest)
        produced = produce(topic, parts, 300, "after-leave")
        wait_consumed(rest, 300, marks)
        check_exactly_once(rest, marks, owners, produced, "after the kafkajs member left")
        detail += "; after the kafkajs member left: %s" % desc
        return detail
    finally:
        for m in members:
            try:
                if isinstance(m, PyMember):
                    if m.is_alive():
                        m.leave()
                else:
                    m.kill()
            except Exception as e:  # noqa: BLE001
                log("cleanup of %s: %r" % (m.name, e))


def main():
    global BROKER
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = sys.argv[1:]
    if len(args) >= 2 and args[0] == "kafka-python":
        BROKER = args[1]
        fn = sc_kafka_python
    elif len(args) >= 3 and args[0] == "mixed":
        BROKER = args[1]
        node_script = os.path.abspath(args[2])
        fn = lambda: sc_mixed(node_script, "--with-librdkafka" in args[3:])  # noqa: E731
    else:
        print(__doc__, file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        detail = fn()
        print("RESULT PASS %s (%.1fs)" % (detail, time.monotonic() - t0), flush=True)
        return 0
    except Exception as e:  # noqa: BLE001
        msg = str(e) if isinstance(e, Failure) else repr(e)
        logging.exception("scenario failed")
        print("RESULT FAIL " + " ".join(msg.split()), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
