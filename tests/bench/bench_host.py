"""Benchmark: one HostSource.poll() on this machine. The app polls every second,
so a poll should cost a few milliseconds (target: median <= 20 ms).

Also one [[hosts]] scrape (checks.node_exporter): the CPU time of reading and judging a big
machine's node_exporter answer (64 cores, 40 filesystems, 32 disks, 16 NICs, ~150 KB, served
by a local HTTP server), which every other host costs once per interval (5 s by default).

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


def _big_node_exporter_answer() -> bytes:
    lines = []
    for cpu in range(64):
        for mode, value in (("idle", 9e5), ("iowait", 1e3), ("irq", 0), ("nice", 50), ("softirq", 300),
                            ("steal", 0), ("system", 2e4), ("user", 8e4)):
            lines.append(f'node_cpu_seconds_total{{cpu="{cpu}",mode="{mode}"}} {value + cpu}')
    for i in range(40):
        labels = f'device="/dev/sd{i}",fstype="ext4",mountpoint="/srv/data{i}"'
        for name in ("size", "free", "avail", "files", "files_free"):
            lines.append(f"node_filesystem_{name}_bytes{{{labels}}} {1e12 - i * 1e9}")
    for i in range(32):
        for name in ("read_bytes_total", "written_bytes_total", "reads_completed_total", "io_time_seconds_total"):
            lines.append(f'node_disk_{name}{{device="nvme{i}n1"}} {i * 1e9}')
    for i in range(16):
        for name in ("receive_bytes_total", "transmit_bytes_total", "receive_packets_total", "transmit_drop_total"):
            lines.append(f'node_network_{name}{{device="eth{i}"}} {i * 1e9}')
    lines += ["node_load1 3.1", "node_load5 2.9", "node_load15 2.5", "node_memory_MemTotal_bytes 5.4e11",
              "node_memory_MemAvailable_bytes 2e11", "node_memory_SwapTotal_bytes 0", "node_memory_SwapFree_bytes 0"]
    # What node_exporter also says that the pane does not read: comments and other collectors.
    lines += [f"# HELP node_other_{i} other\n# TYPE node_other_{i} gauge\nnode_other_{i} {i}" for i in range(600)]
    return ("\n".join(lines) + "\n").encode()


def run_remote(scrapes: int = 30) -> dict:
    import asyncio

    from checks.node_exporter import RemoteHosts
    from checks.specs import RemoteHostSpec
    from tests.servers import LocalHTTPServer

    body = _big_node_exporter_answer()
    with LocalHTTPServer() as srv:
        srv.route("/metrics", body=body)
        hosts = RemoteHosts([RemoteHostSpec("big", srv.url("/metrics"))], HostSpec())

        async def scrape_all() -> tuple[list[float], object]:
            cpu = []
            snap = await hosts.poll_host(0)     # imports httpx, opens the connection
            for _ in range(scrapes):
                await asyncio.sleep(0.02)
                # This thread's CPU only: the server answering runs on threads of this process too.
                t0 = time.thread_time()
                snap = await hosts.poll_host(0)
                cpu.append((time.thread_time() - t0) * 1000)
            await hosts.aclose()
            return cpu, snap
        cpu, snap = asyncio.run(scrape_all())
    ordered = sorted(cpu)
    return {"remote_bytes": len(body), "remote_cpu_median_ms": round(statistics.median(cpu), 2),
            "remote_cpu_p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], 2),
            "remote_error": getattr(snap, "error", "no scrape")}


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
        **run_remote(),
    }


def main(argv: list[str]) -> int:
    r = run(int(argv[0]) if argv else 30)
    print(f"host: {r['polls']} polls, {r['processes']} processes, {r['disks']} disks: "
          f"median {r['median_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms (target median <= {TARGET_MS:.0f} ms)"
          + (f", error: {r['error']}" if r["error"] else ""))
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
