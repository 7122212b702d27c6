"""Benchmark: one HealthChecker round over many services vs. the slowest endpoint.

A round checks every service in parallel, so it should take about as long as the
slowest endpoint, not the sum. Endpoints are ``/delay/<ms>`` on local asyncio
servers, delays spread evenly up to ``slowest_s``. Target: ratio <= 1.3.

The servers run in a child process by default: on a 2-core machine a server on
the checker's own event loop would bill its CPU to the round being measured
(``in_process=True`` keeps them on the loop, for comparison). Other load on the
machine shows up directly in the figure; ``cpu_s`` is the checker process's own
CPU time for the round, which is what the checker itself costs.

    python -m tests.bench.bench_health [n] [slowest_s]
"""
from __future__ import annotations

import asyncio
import random
import resource
import sys
import time

from checks.health import HealthChecker, State
from checks.specs import ServiceSpec
from tests.servers import AsyncDelayServer, DelayServerProcess

TARGET_RATIO = 1.3


def _raise_fd_limit(needed: int) -> None:
    # Each in-flight check holds two sockets here (client and server end).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _specs(n: int, slowest_s: float, url) -> list[ServiceSpec]:  # url(i, path) -> str
    # Evenly spread delays in a fixed shuffled order: a config doesn't list its
    # services by latency, and the slowest one shouldn't sit at either end on purpose.
    delays_ms = [round(slowest_s * 1000 * (i + 1) / n) for i in range(n)]
    random.Random(0).shuffle(delays_ms)
    return [
        ServiceSpec(
            name=f"svc{i}",
            url=url(i, f"/delay/{delays_ms[i]}"),
            interval=0,                       # every poll re-checks everything
            timeout=slowest_s * 3 + 5,
            degraded_ms=slowest_s * 1000 * 10,
            fail_threshold=1,
        )
        for i in range(n)
    ]


async def _measure(specs: list[ServiceSpec], slowest_s: float, concurrency: int) -> dict:
    checker = HealthChecker(specs, concurrency=concurrency)
    rounds = []
    try:
        for _ in range(2):                        # cold (connects), then warm (keep-alive)
            t0, c0 = time.perf_counter(), time.process_time()
            snap = await checker.poll()
            rounds.append((time.perf_counter() - t0, time.process_time() - c0, snap))
    finally:
        await checker.aclose()
    (cold, cold_cpu, snap), (warm, warm_cpu, warm_snap) = rounds
    return {
        "n": len(specs),
        "concurrency": concurrency,
        "round_s": round(cold, 3),
        "cpu_s": round(cold_cpu, 3),
        "warm_round_s": round(warm, 3),
        "warm_cpu_s": round(warm_cpu, 3),
        "slowest_s": slowest_s,
        "ratio": round(cold / slowest_s, 3),
        "warm_ratio": round(warm / slowest_s, 3),
        "up": sum(s.state is State.UP for s in snap.services),
        "warm_up": sum(s.state is State.UP for s in warm_snap.services),
        "not_up_examples": [f"{s.name}: {s.reason}" for s in (*snap.services, *warm_snap.services)
                            if s.state is not State.UP][:3],
    }


async def _in_process(n: int, slowest_s: float, concurrency: int, ports: int) -> dict:
    servers = [await AsyncDelayServer().start() for _ in range(ports)]
    try:
        return await _measure(
            _specs(n, slowest_s, lambda i, path: servers[i % ports].url(path)), slowest_s, concurrency
        )
    finally:
        for s in servers:
            await s.aclose()


def _through_worker(specs: list[ServiceSpec], slowest_s: float, concurrency: int) -> dict:
    """The same rounds through worker processes, which is how the app runs a config this
    big (above ``PROCESS_ABOVE`` services; one child per ``SERVICES_PER_WORKER``, at most
    one per CPU, as ``tui.sources.build_live`` picks). The children are started first, as
    the app starts them with the dashboard; the figures are the rounds, as the dashboard
    sees them."""
    from checks.health_worker import HealthProcess, HealthProcesses, worker_count

    workers = worker_count(len(specs))
    worker = (HealthProcess(specs, concurrency=concurrency) if workers == 1 else
              HealthProcesses(specs, shards=workers, concurrency=concurrency))
    rounds = []
    try:
        worker.start()
        for _ in range(2):
            t0 = time.perf_counter()
            snap = worker.poll()
            rounds.append((time.perf_counter() - t0, snap))
    finally:
        worker.close()
    (cold, snap), (warm, warm_snap) = rounds
    return {
        "round_s": round(cold, 3),
        "warm_round_s": round(warm, 3),
        "ratio": round(cold / slowest_s, 3),
        "warm_ratio": round(warm / slowest_s, 3),
        "up": sum(s.state is State.UP for s in snap.services),
        "error": snap.error or warm_snap.error,
        "workers": workers,
    }


def run(
    n: int = 1000,
    slowest_s: float = 1.0,
    *,
    concurrency: int | None = None,
    ports: int = 4,
    in_process: bool = False,
) -> dict:
    """A cold and a warm round over ``n`` services. ``concurrency`` defaults to ``n``
    (the checker's default of 100 would make this a queueing test, not a parallelism
    one). Returns round_s / slowest_s / ratio for the cold round, plus the rest."""
    _raise_fd_limit(4 * n + 256)
    concurrency = concurrency or n
    if in_process:
        return asyncio.run(_in_process(n, slowest_s, concurrency, ports))
    from tui.sources import health_worker_threshold

    with DelayServerProcess(ports) as srv:
        specs = _specs(n, slowest_s, srv.url)
        result = asyncio.run(_measure(specs, slowest_s, concurrency))
        if n > health_worker_threshold():
            result["worker"] = _through_worker(specs, slowest_s, concurrency)
        return result


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1000
    slowest = float(argv[1]) if len(argv) > 1 else 1.0
    result = run(n, slowest)
    print(
        f"health: {result['n']} services, slowest {result['slowest_s']:.2f} s: "
        f"round {result['round_s']:.2f} s (ratio {result['ratio']:.2f}, target <= {TARGET_RATIO}, "
        f"checker CPU {result['cpu_s']:.2f} s), "
        f"warm round {result['warm_round_s']:.2f} s (ratio {result['warm_ratio']:.2f}, "
        f"CPU {result['warm_cpu_s']:.2f} s); {result['up']}/{result['n']} UP"
    )
    if result["not_up_examples"]:
        print("  not UP, e.g.:", "; ".join(result["not_up_examples"]))
    return 0 if result["ratio"] <= TARGET_RATIO and result["up"] == n else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
