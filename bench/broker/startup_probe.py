#!/usr/bin/env python3
"""Start-up timing for bench/scaling.sh: execs the broker command itself (so
the clock starts at exec, not when this script is ready), then measures the
time until the port accepts a TCP connection and until a Metadata (v1, all
topics) answer lists at least --expect-partitions partitions. Prints one JSON
object with the broker's pid and leaves the broker running.

  startup_probe.py --port PORT --log FILE [--expect-partitions N] -- CMD ARGS...
"""
import argparse
import json
import socket
import struct
import subprocess
import sys
import time


def metadata_request(correlation_id):
    client = b"startup-probe"
    # Header v1 (api key 3 = Metadata, version 1), body: topics = null (all).
    body = struct.pack(">hhih", 3, 1, correlation_id, len(client)) + client + struct.pack(">i", -1)
    return struct.pack(">i", len(body)) + body


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return bytes(buf)


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v[0]

    def string(self):
        n = self.take(">h")
        self.pos += max(n, 0)


def count_partitions(payload):
    """Partitions listed in a Metadata v1 response (after its correlation id)."""
    r = Reader(payload)
    for _ in range(r.take(">i")):  # brokers: node id, host, port, rack
        r.take(">i"); r.string(); r.take(">i"); r.string()
    r.take(">i")  # controller id
    total = 0
    for _ in range(r.take(">i")):  # topics
        r.take(">h"); r.string(); r.take(">b")
        n = r.take(">i")
        total += n
        for _ in range(n):
            r.take(">h"); r.take(">i"); r.take(">i")
            r.pos += 4 * r.take(">i")  # replicas
            r.pos += 4 * r.take(">i")  # isr
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--expect-partitions", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd

    log = open(a.log, "ab")
    t0 = time.monotonic()
    broker = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    result = {"pid": broker.pid}

    def fail(why):
        result["error"] = why
        print(json.dumps(result))
        sys.exit(1)

    sock = None
    while sock is None:
        if broker.poll() is not None:
            fail(f"broker exited with {broker.returncode}")
        if time.monotonic() - t0 > a.timeout:
            fail("port never accepted")
        try:
            sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
        except OSError:
            time.sleep(0.002)
    result["accept_s"] = round(time.monotonic() - t0, 4)

    correlation = 0
    while True:
        correlation += 1
        sock.sendall(metadata_request(correlation))
        size = struct.unpack(">i", read_exact(sock, 4))[0]
        frame = read_exact(sock, size)
        partitions = count_partitions(frame[4:])
        if partitions >= a.expect_partitions:
            break
        if time.monotonic() - t0 > a.timeout:
            fail(f"Metadata listed only {partitions} partitions")
        time.sleep(0.01)
    result["metadata_s"] = round(time.monotonic() - t0, 4)
    result["partitions"] = partitions
    sock.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
