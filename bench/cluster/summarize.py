#!/usr/bin/env python3
"""Summarises bench/cluster/replication.sh results (JSON lines) as markdown.

Figures are min / median / max over the rounds; ratios are of the medians,
against the single broker measured in the same run.
usage: summarize.py results.jsonl [info.txt]
"""
import json
import statistics
import sys
from collections import OrderedDict, defaultdict


def spread(values, fmt):
    if not values:
        return "—"
    return f"{fmt.format(min(values))} / **{fmt.format(statistics.median(values))}** / {fmt.format(max(values))}"


def med(values):
    return statistics.median(values) if values else None


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
    if len(sys.argv) > 2:
        for line in open(sys.argv[2]):
            print(f"    {line.rstrip()}")
        print()
    by = defaultdict(list)
    labels = OrderedDict()
    targets = OrderedDict()
    for r in rows:
        by[(r["target"], r["label"])].append(r)
        labels[r["label"]] = True
        targets[r["target"]] = True
    rounds = len({r["round"] for r in rows})
    print(f"Figures: min / **median** / max of {rounds} rounds; ratio = median / single's median.\n")
    bad = [r for r in rows if r.get("failed", 0) > 0 or ("consumed" in r and r["consumed"] < r["messages"])]
    for r in bad:
        print(f"**flagged**: {r['target']} {r['label']} round {r['round']}: "
              f"failed {r.get('failed')}, consumed {r.get('consumed')} of {r['messages']}\n")

    for label in labels:
        e2e = label.startswith("e2e")
        if e2e:
            print(f"### {label}\n")
            print("| target | msg/s | p50 ms | p99 ms | p99.9 ms | p99 ratio |")
            print("|---|---|---|---|---|---|")
        else:
            print(f"### {label}\n")
            print("| target | msg/s | MB/s | ratio | send-to-ack p99 ms | broker CPU s per M msgs | disk bytes per msg |")
            print("|---|---|---|---|---|---|---|")
        base = by.get(("single", label), [])
        for target in targets:
            rs = by.get((target, label))
            if not rs:
                continue
            rate = [r["msgs_per_s"] for r in rs]
            p99 = [r["latency_ms"]["p99"] for r in rs]
            if e2e:
                p50 = [r["latency_ms"]["p50"] for r in rs]
                p999 = [r["latency_ms"]["p999"] for r in rs]
                ratio = med(p99) / med([r["latency_ms"]["p99"] for r in base]) if base else None
                print(f"| {target} | {spread(rate, '{:,.0f}')} | {spread(p50, '{:.2f}')} | "
                      f"{spread(p99, '{:.2f}')} | {spread(p999, '{:.2f}')} | "
                      f"{'—' if ratio is None else f'{ratio:.2f}'} |")
            else:
                mb = [r["mb_per_s"] for r in rs]
                ratio = med(rate) / med([r["msgs_per_s"] for r in base]) if base else None
                cpu = [r["cpu_ticks"] / r["ticks_per_s"] / r["messages"] * 1e6 for r in rs]
                disk = [r["disk_bytes"] / r["messages"] for r in rs]
                print(f"| {target} | {spread(rate, '{:,.0f}')} | {spread(mb, '{:.1f}')} | "
                      f"{'—' if ratio is None else f'{ratio:.2f}'} | {spread(p99, '{:.1f}')} | "
                      f"{spread(cpu, '{:.2f}')} | {spread(disk, '{:.0f}')} |")
        print()


if __name__ == "__main__":
    main()
