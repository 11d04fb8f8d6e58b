#!/usr/bin/env python3
"""Runs one interoperability scenario against a freshly started sluice-broker.

    run_with_broker.py --broker PATH/sluice-broker [--timeout SECONDS] -- COMMAND ARGS...

Starts the broker on 127.0.0.1 with an ephemeral port and a temporary log dir,
waits for its "sluice-broker ready" line, then runs COMMAND with every "{bootstrap}"
argument replaced by HOST:PORT. COMMAND runs in its own process group and is
killed (the whole group) when the time bound expires. Afterwards the broker is
stopped with SIGTERM and must exit 0 (under ASan a leak or error report makes it
exit non-zero, which fails the test too).

Exit status: 0 only if the broker started, COMMAND exited 0, and the broker shut
down cleanly. On failure the reason and the tail of the broker's log are printed.
Only the standard library is used here, so this runs with any python3.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

READY = re.compile(r"sluice-broker ready: listening on [A-Za-z_]+://([^\s,]+):(\d+)")


def say(msg):
    print("[interop] " + msg, flush=True)


class Broker:
    def __init__(self, binary, log_dir, log_path, ready_timeout):
        self.log_path = log_path
        self.lines = []
        self.ready = threading.Event()
        self.address = None
        cmd = [binary,
               "--override", "listeners=PLAINTEXT://127.0.0.1:0",
               "--override", "log.dirs=" + log_dir,
               "--override", "sluice.metrics.listener=127.0.0.1:0",
               "--override", "group.initial.rebalance.delay.ms=0"]
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.ready.wait(ready_timeout)

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            self.log.write(line)
            self.log.flush()
            m = READY.search(line)
            if m and self.address is None:
                self.address = "%s:%s" % (m.group(1), m.group(2))
                self.ready.set()
        self.ready.set()  # the broker exited (or closed its output)

    def tail(self, n=60):
        return "".join(self.lines[-n:])

    def stop(self, timeout):
        """SIGTERM, wait; SIGKILL on timeout. Returns the exit code (None: killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.reader.join(5)
                return None
        self.reader.join(10)
        self.log.close()
        return self.proc.returncode


def run_bounded(cmd, timeout):
    """Runs cmd in its own process group; returns (exit code or None on timeout, seconds)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        # Kill anything the scenario left behind (e.g. a member process).
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return rc, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", required=True, help="path of the sluice-broker binary")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds for the scenario")
    ap.add_argument("--ready-timeout", type=float, default=60.0)
    ap.add_argument("--stop-timeout", type=float, default=30.0)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no scenario command given")
    if not os.access(args.broker, os.X_OK):
        say("FAIL: broker binary %s is not executable" % args.broker)
        return 1
    exe = cmd[0] if os.path.sep in cmd[0] else shutil.which(cmd[0])
    if exe is None or not os.access(exe, os.X_OK):
        say("FAIL: %s not found; scripts/install-deps.sh installs what these tests need" % cmd[0])
        return 1

    work = tempfile.mkdtemp(prefix="sluice-interop-")
    log_path = os.path.join(work, "broker.log")
    broker = Broker(args.broker, os.path.join(work, "data"), log_path, args.ready_timeout)
    failure = None
    try:
        if broker.address is None:
            broker.stop(5)
            say("FAIL: sluice-broker did not become ready in %.0fs (exit code %s); its output:\n%s"
                % (args.ready_timeout, broker.proc.returncode, broker.tail()))
            return 1
        say("broker ready at %s (log: %s)" % (broker.address, log_path))
        argv = [a.replace("{bootstrap}", broker.address) for a in cmd]
        rc, secs = run_bounded(argv, args.timeout)
        if rc is None:
            failure = "scenario timed out after %.0fs" % args.timeout
        elif rc != 0:
            failure = "scenario exited with code %d after %.1fs" % (rc, secs)
        else:
            say("scenario passed in %.1fs" % secs)
        if broker.proc.poll() is not None:
            failure = (failure + "; " if failure else "") + \
                "sluice-broker exited during the scenario with code %s" % broker.proc.returncode
    finally:
        code = broker.stop(args.stop_timeout)
    if code is None:
        failure = (failure + "; " if failure else "") + \
            "sluice-broker did not stop within %.0fs of SIGTERM" % args.stop_timeout
    elif code != 0 and failure is None:
        failure = "sluice-broker exited with code %d on SIGTERM (sanitizer report?)" % code
    if failure:
        say("FAIL: " + failure)
        say("broker log (last lines, full log %s):\n%s" % (log_path, broker.tail()))
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
