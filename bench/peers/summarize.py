#!/usr/bin/env python3
"""Summarises the peers part of bench/run.sh results (--peers, --full).

Figures are min / median / max over the rounds; ratios are of the medians.
Targets: Sluice at least 5x NATS JetStream's publish rate and at least 2x
Redis Streams' pipelined XADD rate (appendfsync everysec), at equal or
better p99 latency. The flat-out runs' latency is each client's queue depth;
the paced runs (Sluice and NATS at one fixed rate) compare latency at equal
load. Sluice has two clients: the lean kafka_bench (the same kind as the
peers' clients) and librdkafka (`sluice perf produce`).
usage: summarize.py results.jsonl
"""
import json
import statistics
import sys
from collections import defaultdict

SLUICE_1, SLUICE_ALL = "peers 100B Sluice acks=1 p4", "peers 100B Sluice acks=all p4"
TUNED_1, TUNED_ALL = SLUICE_1 + " tuned", SLUICE_ALL + " tuned"
LEAN_1, LEAN_ALL = "peers 100B Sluice lean acks=1 p4", "peers 100B Sluice lean acks=all p4"
BOUNDED_1, BOUNDED_ALL = LEAN_1 + " p99-bounded", LEAN_ALL + " p99-bounded"
NATS = "peers 100B NATS JetStream file"
REDIS_EVERYSEC, REDIS_ALWAYS = "peers 100B Redis XADD everysec", "peers 100B Redis XADD always"

# label -> (name, acknowledged when)
ROWS = [
    (LEAN_1, "Sluice, lean client, acks=1", "appended (written to the OS)"),
    (LEAN_ALL, "Sluice, lean client, acks=all", "fdatasync'ed (group commit)"),
    (BOUNDED_1, "Sluice, lean client, acks=1, p99 ≤ peers' in probe", "appended (written to the OS)"),
    (BOUNDED_ALL, "Sluice, lean client, acks=all, p99 ≤ peers' in probe", "fdatasync'ed (group commit)"),
    (SLUICE_1, "Sluice, acks=1, 4 partitions", "appended (written to the OS)"),
    (SLUICE_ALL, "Sluice, acks=all, 4 partitions", "fdatasync'ed (group commit)"),
    (TUNED_1, "Sluice, acks=1, latency-minded", "appended (written to the OS)"),
    (TUNED_ALL, "Sluice, acks=all, latency-minded", "fdatasync'ed (group commit)"),
    (NATS, "NATS JetStream, file storage", "written to the OS; fsync on a background timer"),
    (REDIS_EVERYSEC, "Redis Streams, appendfsync everysec", "written to the AOF (OS); fsync once a second"),
    (REDIS_ALWAYS, "Redis Streams, appendfsync always", "AOF fsync'ed before the reply"),
]

PACED = [
    ("paced 100B Sluice lean acks=1 p4", "Sluice, lean client, acks=1"),
    ("paced 100B Sluice lean acks=all p4", "Sluice, lean client, acks=all"),
    ("paced 100B Sluice acks=1 p4", "Sluice, acks=1, linger.ms=0"),
    ("paced 100B Sluice acks=all p4", "Sluice, acks=all, linger.ms=0"),
    ("paced 100B NATS JetStream file", "NATS JetStream, file storage"),
]

# (Sluice label, peer label, rate target or None)
RATIOS = [
    (LEAN_1, NATS, 5.0),
    (LEAN_ALL, NATS, 5.0),
    (LEAN_1, REDIS_EVERYSEC, 2.0),
    (LEAN_ALL, REDIS_EVERYSEC, 2.0),
    (LEAN_ALL, REDIS_ALWAYS, None),
    (BOUNDED_1, NATS, 5.0),
    (BOUNDED_ALL, NATS, 5.0),
    (BOUNDED_1, REDIS_EVERYSEC, 2.0),
    (BOUNDED_ALL, REDIS_EVERYSEC, 2.0),
    (BOUNDED_ALL, REDIS_ALWAYS, None),
    (SLUICE_1, NATS, 5.0),
    (SLUICE_ALL, NATS, 5.0),
    (SLUICE_1, REDIS_EVERYSEC, 2.0),
    (SLUICE_ALL, REDIS_EVERYSEC, 2.0),
    (SLUICE_ALL, REDIS_ALWAYS, None),
    (TUNED_1, NATS, 5.0),
    (TUNED_ALL, NATS, 5.0),
    (TUNED_1, REDIS_EVERYSEC, 2.0),
    (TUNED_ALL, REDIS_EVERYSEC, 2.0),
    (TUNED_ALL, REDIS_ALWAYS, None),
]


def spread(values, fmt="{:,.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    lo, med, hi = min(values), statistics.median(values), max(values)
    return f"{fmt.format(lo)} / **{fmt.format(med)}** / {fmt.format(hi)}"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def shape(r):
    if r.get("tool") == "kafka_bench":
        return f"window {r['window']:,}, batch {r['batch']:,} × {r['partitions']} partitions"
    if "window" in r:
        return f"window {r['window']:,}"
    if "pipeline" in r:
        return f"{r['clients']} client{'s' if r['clients'] != 1 else ''} × pipeline {r['pipeline']}"
    if r["label"].endswith(" tuned"):
        return "linger.ms 1, queue ≤ 2,000 msgs"
    return "librdkafka defaults (linger.ms 5)"


def main():
    by = defaultdict(list)
    with open(sys.argv[1]) as f:
        for line in f:
            if line.startswith("{"):
                r = json.loads(line)
                by[r["label"]].append(r)
    if not any(by[label] for label, _, _ in ROWS):
        return

    probes = [label for label in by if label.startswith("probe ")]
    if probes:
        print("| peer shape probe (before the rounds; the fastest try is used) | msg/s, each try | p99 ms, each try |")
        print("|---|---|---|")
        for label in probes:
            rates = " / ".join(f"{r['msgs_per_s']:,.0f}" for r in by[label])
            p99s = " / ".join(f"{r['latency_ms']['p99']:.1f}" for r in by[label])
            print(f"| {label[len('probe 100B '):]} | {rates} | {p99s} |")
        print()

    print("| 100 B, same run | msg/s | MB/s | p50 ms | p99 ms | p99.9 ms | client shape | acknowledged when |")
    print("|---|---|---|---|---|---|---|---|")
    for label, name, durability in ROWS:
        rs = by[label]
        if not rs:
            continue
        lat = lambda k: [r["latency_ms"][k] for r in rs]  # noqa: E731
        print(f"| {name} | {spread([r['msgs_per_s'] for r in rs])} "
              f"| {spread([r['mb_per_s'] for r in rs], '{:,.1f}')} | {spread(lat('p50'), '{:.2f}')} "
              f"| {spread(lat('p99'), '{:.1f}')} | {spread(lat('p999'), '{:.1f}')} "
              f"| {shape(rs[0])} | {durability} |")
    print()

    if any(by[label] for label, _ in PACED):
        rate = by[PACED[0][0]][0].get("target_rate", 0) if by[PACED[0][0]] else 0
        print(f"| 100 B paced at {rate:,.0f} msg/s, send → ack ms | p50 | p99 | p99.9 | max | achieved msg/s |")
        print("|---|---|---|---|---|---|")
        for label, name in PACED:
            rs = by[label]
            if not rs:
                continue
            cells = [spread([r["latency_ms"][k] for r in rs], "{:.2f}") for k in ("p50", "p99", "p999", "max")]
            print(f"| {name} | " + " | ".join(cells) + f" | {spread([r['msgs_per_s'] for r in rs])} |")
        print()

    print("| ratio of medians | msg/s | target | rate target | Sluice p99 ms | peer p99 ms | p99 equal or better |")
    print("|---|---|---|---|---|---|---|")
    names = {label: name for label, name, _ in ROWS}
    for s_label, p_label, target in RATIOS:
        s_rate = median([r["msgs_per_s"] for r in by[s_label]])
        p_rate = median([r["msgs_per_s"] for r in by[p_label]])
        if s_rate is None or not p_rate:
            continue
        s_p99 = median([r["latency_ms"]["p99"] for r in by[s_label]])
        p_p99 = median([r["latency_ms"]["p99"] for r in by[p_label]])
        ratio = s_rate / p_rate
        met = "—" if target is None else ("met" if ratio >= target else "**missed**")
        p99_ok = "yes" if s_p99 <= p_p99 else "**no**"
        print(f"| {names[s_label]} / {names[p_label]} | {ratio:.2f}x "
              f"| {'—' if target is None else f'≥ {target:.0f}x'} | {met} "
              f"| {s_p99:.1f} | {p_p99:.1f} | {p99_ok} |")
    print()


if __name__ == "__main__":
    main()
