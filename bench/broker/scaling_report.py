#!/usr/bin/env python3
"""Turns bench/scaling.sh results (DIR/<part>.jsonl) into CSV files for
scaling.gp and markdown tables (DIR/summary.md, also printed). Figures are
medians over rounds, with min-max where the rounds differ; load1 is the mean
1-minute load average over the runs of a point.

usage: scaling_report.py DIR [--baseline DIR2 [--baseline-label TEXT]]
  --baseline: DIR2's recovery.jsonl is drawn beside DIR's (e.g. before a fix).
"""
import argparse
import json
import os
import statistics
from collections import defaultdict


def load(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def med(values):
    return statistics.median(values) if values else float("nan")


def mean(values):
    return statistics.mean(values) if values else float("nan")


def spread(values, fmt):
    if not values:
        return "—"
    lo, m, hi = min(values), med(values), max(values)
    if len(values) == 1 or lo == hi:
        return fmt.format(m)
    return f"{fmt.format(lo)} / **{fmt.format(m)}** / {fmt.format(hi)}"


def write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(" ".join(header) + "\n")
        for r in rows:
            f.write(" ".join("nan" if v != v else f"{v:g}" for v in r) + "\n")


def partitions(d, md):
    rows = [r for r in load(os.path.join(d, "partitions.jsonl")) if r.get("tool")]
    if not rows:
        return
    by = defaultdict(list)
    for r in rows:
        by[(r["partitions"], r["acks"], r["mode"])].append(r)
    counts = sorted({r["partitions"] for r in rows})
    csv = []
    md.append("| partitions | acks | msg/s unthrottled (min / **median** / max) | p99 ms unthrottled "
              f"| p50 ms at fixed rate | p99 ms at fixed rate | load1 |")
    md.append("|---|---|---|---|---|---|---|")
    for p in counts:
        line = [p]
        for acks in ("1", "all"):
            t, rt = by[(p, acks, "throughput")], by[(p, acks, "rate")]
            tput = [r["msgs_per_s"] for r in t]
            line += [med(tput), min(tput, default=float("nan")), max(tput, default=float("nan")),
                     med([r["latency_ms"]["p99"] for r in t]),
                     med([r["latency_ms"]["p50"] for r in rt]),
                     med([r["latency_ms"]["p99"] for r in rt])]
            md.append(f"| {p} | {acks} | {spread(tput, '{:,.0f}')} "
                      f"| {spread([r['latency_ms']['p99'] for r in t], '{:.0f}')} "
                      f"| {spread([r['latency_ms']['p50'] for r in rt], '{:.2f}')} "
                      f"| {spread([r['latency_ms']['p99'] for r in rt], '{:.2f}')} "
                      f"| {mean([r['load1'] for r in t + rt]):.1f} |")
        csv.append(line)
    rate = next((r["target_rate"] for r in rows if r["mode"] == "rate"), None)
    md.append("")
    md.append(f"Fixed rate: {rate:,.0f} msg/s." if rate else "")
    md.append("")
    spread_rows = [r for r in rows if r["mode"] == "spread"]
    if spread_rows:
        md.append("conn_load --spread: 4 connections, one request in flight each, every request "
                  "1 000 messages of 100 B spread over all partitions (1 000 / partitions per batch).")
        md.append("")
        md.append("| partitions | acks | msg/s (min / **median** / max) | request p50 ms "
                  "| request p99 ms | errors | load1 |")
        md.append("|---|---|---|---|---|---|---|")
        for i, p in enumerate(counts):
            for acks in ("1", "all"):
                rs = by[(p, acks, "spread")]
                tput = [r["msgs_per_s"] for r in rs]
                p50 = [r["latency_ms"]["p50"] for r in rs]
                p99 = [r["latency_ms"]["p99"] for r in rs]
                csv[i] += [med(tput), min(tput, default=float("nan")),
                           max(tput, default=float("nan")), med(p50), med(p99)]
                md.append(f"| {p} | {acks} | {spread(tput, '{:,.0f}')} | {spread(p50, '{:.2f}')} "
                          f"| {spread(p99, '{:.2f}')} | {sum(r['errors'] for r in rs)} "
                          f"| {mean([r['load1'] for r in rs]):.1f} |")
        md.append("")
    header = ["partitions"] + [f"a{a}_{k}" for a in ("1", "all")
                               for k in ("tput", "tput_min", "tput_max", "tput_p99", "rate_p50", "rate_p99")]
    if spread_rows:
        header += [f"spread_a{a}_{k}" for a in ("1", "all")
                   for k in ("tput", "tput_min", "tput_max", "p50", "p99")]
    write_csv(os.path.join(d, "partitions.csv"), header, csv)


def connections(d, md):
    rows = load(os.path.join(d, "connections.jsonl"))
    if not rows:
        return
    by = defaultdict(list)
    for r in rows:
        by[(r["connections"], r["acks"])].append(r)
    counts = sorted({r["connections"] for r in rows})
    first = rows[0]
    per = first.get("records_per_batch", first.get("records_per_request"))
    md.append(f"conn_load: {per} records of {first['size']} B per request, "
              f"one request in flight per connection, {first['partitions']} partitions.")
    md.append("")
    md.append("| connections | acks | msg/s (min / **median** / max) | request p50 ms | request p99 ms "
              "| errors | broker RSS MiB | broker threads | load1 |")
    md.append("|---|---|---|---|---|---|---|---|---|")
    csv = []
    for n in counts:
        line = [n]
        for acks in ("1", "all"):
            rs = by[(n, acks)]
            tput = [r["msgs_per_s"] for r in rs]
            p50 = [r["latency_ms"]["p50"] for r in rs]
            p99 = [r["latency_ms"]["p99"] for r in rs]
            line += [med(tput), min(tput, default=float("nan")), max(tput, default=float("nan")),
                     med(p50), med(p99)]
            md.append(f"| {n} | {acks} | {spread(tput, '{:,.0f}')} | {spread(p50, '{:.2f}')} "
                      f"| {spread(p99, '{:.2f}')} | {sum(r['errors'] for r in rs)} "
                      f"| {max((r['broker_rss_mib'] for r in rs), default=0):.1f} "
                      f"| {max((r['broker_threads'] for r in rs), default=0)} "
                      f"| {mean([r['load1'] for r in rs]):.1f} |")
        csv.append(line)
    md.append("")
    write_csv(os.path.join(d, "connections.csv"),
              ["connections"] + [f"a{a}_{k}" for a in ("1", "all")
                                 for k in ("tput", "tput_min", "tput_max", "p50", "p99")],
              csv)


def startup(d, md):
    rows = load(os.path.join(d, "startup.jsonl"))
    if not rows:
        return
    create = [r for r in rows if r["mode"] == "create"]
    for r in create:
        md.append(f"Creating {r['partitions']:,} partitions (one CreateTopics): {r['seconds']:.2f} s "
                  f"(load {r['load1']}); broker RSS after: {r['rss_mib']} MiB.")
    md.append("")
    md.append("| start-up | partitions | exec → port accepts, s | exec → Metadata answer, s "
              "| SIGTERM → exit, s | RSS after start, MiB | load1 |")
    md.append("|---|---|---|---|---|---|---|")
    for mode, label in (("clean", "after SIGTERM (clean)"), ("kill9", "after kill -9")):
        rs = [r for r in rows if r["mode"] == mode]
        if not rs:
            continue
        shut = [r["shutdown_s"] for r in rs if "shutdown_s" in r]
        killed = sum(1 for r in rs if r.get("exited_on_sigterm") is False)
        if killed:
            label += f" ({killed} of {len(rs)} killed: no exit within the limit)"
        md.append(f"| {label} | {rs[0]['partitions']:,} | {spread([r['accept_s'] for r in rs], '{:.2f}')} "
                  f"| {spread([r['metadata_s'] for r in rs], '{:.2f}')} "
                  f"| {spread(shut, '{:.2f}') if shut else '—'} "
                  f"| {spread([r['rss_mib'] for r in rs], '{:.1f}')} "
                  f"| {mean([r['load1'] for r in rs]):.1f} |")
    md.append("")


def recovery_rows(d):
    rows = [r for r in load(os.path.join(d, "recovery.jsonl")) if r.get("mode") == "kill9"]
    by = defaultdict(list)
    for r in rows:
        by[r["gib"]].append(r)
    return by


def recovery(d, md, baseline, baseline_label):
    by = recovery_rows(d)
    if not by:
        return
    md.append("| data dir | written after the last checkpoint | exec → port accepts, s "
              "| exec → Metadata answer, s | load1 |")
    md.append("|---|---|---|---|---|")
    csv = []
    for gib in sorted(by):
        rs = by[gib]
        size = rs[0]["data_bytes"] / 2**30
        acc = [r["accept_s"] for r in rs]
        meta = [r["metadata_s"] for r in rs]
        md.append(f"| {size:.2f} GiB | {rs[0]['tail_mib']} MiB | {spread(acc, '{:.3f}')} "
                  f"| {spread(meta, '{:.3f}')} | {mean([r['load1'] for r in rs]):.1f} |")
        csv.append([size, med(meta), min(meta), max(meta)])
    md.append("")
    write_csv(os.path.join(d, "recovery.csv"), ["gib", "metadata_s", "min", "max"], csv)
    base_path = os.path.join(d, "recovery-baseline.csv")
    if baseline:
        bb = recovery_rows(baseline)
        rows = []
        md.append(f"Baseline ({baseline_label}, {baseline}):")
        md.append("")
        md.append("| data dir | exec → Metadata answer, s | load1 |")
        md.append("|---|---|---|")
        for gib in sorted(bb):
            rs = bb[gib]
            meta = [r["metadata_s"] for r in rs]
            size = rs[0]["data_bytes"] / 2**30
            rows.append([size, med(meta), min(meta), max(meta)])
            md.append(f"| {size:.2f} GiB | {spread(meta, '{:.3f}')} | {mean([r['load1'] for r in rs]):.1f} |")
        md.append("")
        write_csv(base_path, ["gib", "metadata_s", "min", "max"], rows)
        with open(os.path.join(d, "recovery-baseline.label"), "w") as f:
            f.write(baseline_label + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--baseline")
    ap.add_argument("--baseline-label", default="baseline")
    a = ap.parse_args()
    md = []
    info = os.path.join(a.dir, "info.txt")
    if os.path.exists(info):
        md += [open(info).read().strip(), ""]
    for title, fn in (("Partitions", partitions), ("Connections", connections),
                      ("Start-up", startup)):
        section = []
        fn(a.dir, section)
        if section:
            md += [f"### {title}", ""] + section
    section = []
    recovery(a.dir, section, a.baseline, a.baseline_label)
    if section:
        md += ["### Recovery after kill -9", ""] + section
    text = "\n".join(md) + "\n"
    with open(os.path.join(a.dir, "summary.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
