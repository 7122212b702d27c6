"""Benchmark: one HostSource.poll() on this machine. The app polls every second,
so a poll should cost a few milliseconds (target: median <= 20 ms).

    python -m tests.bench.bench_host [polls]
"""
from __future__ import annotations

import statistics
import sys
import time

import psutil

from checks.host import HostSource
from checks.specs import HostSpec

TARGET_MS = 20.0


def run(polls: int = 30, interval_s: float = 0.05) -> dict:
    source = HostSource(HostSpec())
    times = []
    snap = None
    for _ in range(polls):
        # A short pause between polls, as in the app: back-to-back polls would
        # measure an unrealistically warm /proc.
        time.sleep(interval_s)
        t0 = time.perf_counter()
        snap = source.poll()
        times.append((time.perf_counter() - t0) * 1000)
    source.close()
    ordered = sorted(times)
    return {
        "polls": polls,
        "median_ms": round(statistics.median(times), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2),
        "max_ms": round(ordered[-1], 2),
        "processes": len(psutil.pids()),
        "disks": len(snap.disks) if snap else 0,
        "error": snap.error if snap else None,
        "target_ms": TARGET_MS,
        "ok": statistics.median(times) <= TARGET_MS and not (snap and snap.error),
    }


def main(argv: list[str]) -> int:
    r = run(int(argv[0]) if argv else 30)
    print(f"host: {r['polls']} polls, {r['processes']} processes, {r['disks']} disks: "
          f"median {r['median_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms (target median <= {TARGET_MS:.0f} ms)"
          + (f", error: {r['error']}" if r["error"] else ""))
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
