"""Benchmark: one HealthChecker round over many services vs. the slowest endpoint.

A round checks every service in parallel, so it should take about as long as the
slowest endpoint, not the sum. Endpoints are ``/delay/<ms>`` on local asyncio
servers, delays spread evenly up to ``slowest_s``. Target: ratio <= 1.3.

    python -m tests.bench.bench_health [n] [slowest_s]
"""
from __future__ import annotations

import asyncio
import resource
import sys
import time

from checks.health import HealthChecker, State
from checks.specs import ServiceSpec
from tests.servers import AsyncDelayServer

TARGET_RATIO = 1.3


def _raise_fd_limit(needed: int) -> None:
    # Each in-flight check holds two sockets here (client and server end).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


async def _round(n: int, slowest_s: float, concurrency: int, ports: int) -> dict:
    servers = [await AsyncDelayServer().start() for _ in range(ports)]
    try:
        specs = [
            ServiceSpec(
                name=f"svc{i}",
                url=servers[i % ports].url(f"/delay/{round(slowest_s * 1000 * (i + 1) / n)}"),
                interval=0,                       # every poll re-checks everything
                timeout=slowest_s * 3 + 5,
                degraded_ms=slowest_s * 1000 * 10,
                fail_threshold=1,
            )
            for i in range(n)
        ]
        checker = HealthChecker(specs, concurrency=concurrency)
        try:
            t0 = time.perf_counter()
            snap = await checker.poll()
            cold = time.perf_counter() - t0
            t0 = time.perf_counter()
            warm_snap = await checker.poll()      # keep-alive connections reused
            warm = time.perf_counter() - t0
        finally:
            await checker.aclose()
        up = sum(s.state is State.UP for s in snap.services)
        bad = [f"{s.name}: {s.reason}" for s in snap.services if s.state is not State.UP][:3]
        return {
            "n": n,
            "concurrency": concurrency,
            "round_s": round(cold, 3),
            "warm_round_s": round(warm, 3),
            "slowest_s": slowest_s,
            "ratio": round(cold / slowest_s, 3),
            "warm_ratio": round(warm / slowest_s, 3),
            "up": up,
            "warm_up": sum(s.state is State.UP for s in warm_snap.services),
            "not_up_examples": bad,
        }
    finally:
        for s in servers:
            await s.aclose()


def run(n: int = 1000, slowest_s: float = 1.0, *, concurrency: int | None = None, ports: int = 4) -> dict:
    """One cold and one warm round over ``n`` services; ``concurrency`` defaults to ``n``
    (the checker's default of 100 would make this a queueing test, not a parallelism one)."""
    _raise_fd_limit(4 * n + 256)
    return asyncio.run(_round(n, slowest_s, concurrency or n, ports))


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 1000
    slowest = float(argv[1]) if len(argv) > 1 else 1.0
    result = run(n, slowest)
    print(
        f"health: {result['n']} services, slowest {result['slowest_s']:.2f} s: "
        f"round {result['round_s']:.2f} s (ratio {result['ratio']:.2f}, target <= {TARGET_RATIO}), "
        f"warm round {result['warm_round_s']:.2f} s (ratio {result['warm_ratio']:.2f}); "
        f"{result['up']}/{result['n']} UP"
    )
    if result["not_up_examples"]:
        print("  not UP, e.g.:", "; ".join(result["not_up_examples"]))
    return 0 if result["ratio"] <= TARGET_RATIO and result["up"] == n else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
