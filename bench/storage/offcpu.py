#!/usr/bin/env python3
"""Off-CPU time of one process's threads, by kernel stack.

Where a benchmark thread waits when it is not running: from each switch-out
of one of its threads (prev_state S or D) to that thread's next switch-in,
summed per (thread, blocked stack); time spent runnable but preempted (state
R) is reported per thread. Needs a system-wide recording, because the
switch-in is recorded on behalf of the task being switched out:

  perf record -a -e sched:sched_switch -g -o sw.data -- \\
    sh -c 'echo $$ > pid; exec build/storage/bin/storage_bench \\
           --benchmark_filter=BM_LogAppend/65536 --benchmark_min_time=3'
  perf script -F comm,pid,tid,cpu,time,event,trace,ip,sym -i sw.data > sw.txt
  bench/storage/offcpu.py $(cat pid) sw.txt
"""
import collections
import re
import sys

SWITCH = re.compile(r'^\s*\S.*?\s+(\d+)/(\d+)\s+\[\d+\]\s+([\d.]+):\s+sched:sched_switch:\s+'
                    r'prev_comm=.*? prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> '
                    r'next_comm=.*? next_pid=(\d+)')
SKIP = {'__schedule', 'schedule', '[unknown]'}
DEPTH = 9  # kernel frames kept per stack


def main(pid, path):
    mine = set()
    out = {}  # tid -> (time, state, stack) at switch-out
    blocked = collections.Counter()
    waits = collections.Counter()
    preempted = collections.Counter()
    event = None

    def finish(ev):
        if ev is None:
            return
        t, prev, state, nxt, stack = ev
        if prev in mine:
            out[prev] = (t, state, stack)
        if nxt in out:
            t0, st, stk = out.pop(nxt)
            if st.startswith('R'):
                preempted[nxt] += t - t0
            else:
                key = (nxt, st, ' <- '.join(stk[:DEPTH]))
                blocked[key] += t - t0
                waits[key] += 1

    for line in open(path, errors='replace'):
        m = SWITCH.match(line)
        if m:
            finish(event)
            if m.group(1) == pid:
                mine.add(int(m.group(2)))
            event = [float(m.group(3)), int(m.group(4)), m.group(5), int(m.group(6)), []]
        elif event is not None and line.strip():
            parts = line.split()
            if len(parts) >= 2 and parts[1].split('+')[0] not in SKIP:
                event[4].append(parts[1].split('+')[0])
    finish(event)

    per_thread = collections.Counter()
    for (tid, _, _), d in blocked.items():
        per_thread[tid] += d
    for tid, total in per_thread.most_common():
        print(f'== tid {tid}: blocked {total * 1e3:.1f} ms, runnable but preempted '
              f'{preempted[tid] * 1e3:.1f} ms')
        for key, d in blocked.most_common():
            if key[0] == tid and d > 0.01 * total:
                print(f'   {d * 1e3:8.1f} ms {waits[key]:6d}x [{key[1]}] {key[2]}')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
