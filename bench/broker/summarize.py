#!/usr/bin/env python3
"""Summarises bench/run.sh results (JSON lines) as markdown tables.

Every figure is min / median / max over the rounds; "Sluice / mock" is the
ratio of the medians. Runs that lost or failed messages are flagged.
usage: summarize.py results.jsonl [info.txt]
"""
import json
import statistics
import sys
from collections import OrderedDict, defaultdict


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def spread(values, fmt="{:,.0f}"):
    if not values:
        return "—"
    lo, med, hi = min(values), statistics.median(values), max(values)
    return f"{fmt.format(lo)} / **{fmt.format(med)}** / {fmt.format(hi)}"


def median(values):
    return statistics.median(values) if values else None


def ratio(a, b):
    if a is None or b in (None, 0):
        return "—"
    return f"{a / b:.2f}"


def main():
    rows = load(sys.argv[1])
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as f:
            for line in f:
                print(f"    {line.rstrip()}")
        print()

    by = defaultdict(list)  # (target, label) -> rows
    labels = OrderedDict()
    for r in rows:
        by[(r["target"], r["label"])].append(r)
        labels[r["label"]] = True
    flagged = [r for r in rows
               if r.get("failed", 0) > 0 or ("consumed" in r and r["consumed"] < r.get("messages", 0))]

    rounds = len({r["round"] for r in rows if r["round"] > 0})
    print(f"Figures: min / **median** / max of {rounds} rounds.\n")

    limits = by[("machine", "machine limits")]
    if limits:
        print("| machine limit | min / median / max |")
        print("|---|---|")
        for test, block, key, unit, fmt, name in [
            ("write_fdatasync", 65536, "mb_per_s", "MB/s", "{:,.0f}", "write 64 KiB + fdatasync"),
            ("write_fdatasync", 1048576, "mb_per_s", "MB/s", "{:,.0f}", "write 1 MiB + fdatasync"),
            ("fdatasync", 4096, "p50_ms", "ms", "{:.3f}", "4 KiB append + fdatasync, p50"),
            ("fdatasync", 4096, "p99_ms", "ms", "{:.3f}", "4 KiB append + fdatasync, p99"),
            ("write_new", 1048576, "mb_per_s", "MB/s", "{:,.0f}", "write 1 MiB to a new file, no sync"),
            ("tcp_loopback", 1048576, "mb_per_s", "MB/s", "{:,.0f}", "loopback TCP, 1 connection"),
        ]:
            vals = [r[key] for r in limits if r["test"] == test and r["block"] == block]
            print(f"| {name} | {spread(vals, fmt)} {unit} |")
        print()

    produce = [l for l in labels if l.startswith("produce ")]
    if produce:
        print("| produce | Sluice msg/s | Sluice MB/s | Sluice p99 ms | mock msg/s | mock p99 ms | Sluice / mock |")
        print("|---|---|---|---|---|---|---|")
        for label in produce:
            s, m = by[("sluice", label)], by[("mock", label)]
            s_rate = [r["msgs_per_s"] for r in s]
            m_rate = [r["msgs_per_s"] for r in m]
            print(f"| {label[len('produce '):]} | {spread(s_rate)} | {spread([r['mb_per_s'] for r in s], '{:,.1f}')} "
                  f"| {spread([r['latency_ms']['p99'] for r in s], '{:.1f}')} | {spread(m_rate)} "
                  f"| {spread([r['latency_ms']['p99'] for r in m], '{:.1f}')} | {ratio(median(s_rate), median(m_rate))} |")
        print()

    consume = [l for l in labels if l.startswith("consume ")]
    if consume:
        print("| consume | Sluice msg/s | Sluice MB/s | mock msg/s | mock messages read | Sluice / mock |")
        print("|---|---|---|---|---|---|")
        for label in consume:
            s, m = by[("sluice", label)], by[("mock", label)]
            s_rate = [r["msgs_per_s"] for r in s]
            m_rate = [r["msgs_per_s"] for r in m]
            print(f"| {label[len('consume '):]} | {spread(s_rate)} | {spread([r['mb_per_s'] for r in s], '{:,.1f}')} "
                  f"| {spread(m_rate)} | {spread([r['messages'] for r in m])} | {ratio(median(s_rate), median(m_rate))} |")
        print()

    e2e = [l for l in labels if l.startswith("e2e ")]
    for label in e2e:
        print(f"| {label}, send → consume ms | p50 | p99 | p99.9 | max | achieved msg/s |")
        print("|---|---|---|---|---|---|")
        for target, name in (("sluice", "Sluice"), ("mock", "mock")):
            rs = by[(target, label)]
            if not rs:
                continue
            cells = [spread([r["latency_ms"][k] for r in rs], "{:.2f}") for k in ("p50", "p99", "p999", "max")]
            print(f"| {name} | " + " | ".join(cells) + f" | {spread([r['msgs_per_s'] for r in rs])} |")
        s_p99 = median([r["latency_ms"]["p99"] for r in by[("sluice", label)]])
        m_p99 = median([r["latency_ms"]["p99"] for r in by[("mock", label)]])
        if m_p99 is not None:
            print(f"\nSluice / mock, median p99: {ratio(s_p99, m_p99)}")
        print()

    rss = [r for r in rows if "rss_mib" in r]
    if rss:
        print("| broker memory | MiB |")
        print("|---|---|")
        for r in rss:
            print(f"| {r['label']} | {r['rss_mib']:.1f} |")
        print()

    if flagged:
        print("Runs that lost or failed messages:")
        for r in flagged:
            print(f"- {r['target']} {r['label']} round {r['round']}: {json.dumps(r)}")


if __name__ == "__main__":
    main()
