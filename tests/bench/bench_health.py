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

from checks.base import utcnow
from checks.health import HealthChecker, State
from checks.specs import ServiceSpec
from tests.servers import AsyncDelayServer, DelayServerProcess, LocalHTTPServer

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
            # Due again after a round, not during it: a poll returns before the slowest check
            # ends, and a service re-checked within the round being measured would add its CPU
            # to it. Not much later either: the warm round must find its connections kept
            # (httpx drops a connection idle for 5 s), so the rounds are ~4.5 s apart.
            interval=max(4.5, slowest_s * 2 + 1),
            timeout=slowest_s * 3 + 5,
            degraded_ms=slowest_s * 1000 * 10,
            fail_threshold=1,
        )
        for i in range(n)
    ]


def _round_done(snap, since) -> bool:
    """Every service has a result from this round (a poll returns as soon as some results
    are worth showing, so a round over 1,000 services is a few polls)."""
    return all(s.checked_at is not None and s.checked_at >= since for s in snap.services)


async def _measure(specs: list[ServiceSpec], slowest_s: float, concurrency: int) -> dict:
    checker = HealthChecker(specs, concurrency=concurrency)
    rounds = []
    try:
        for _ in range(2):                        # cold (connects), then warm (keep-alive)
            await asyncio.sleep(checker.next_due_in())
            since = utcnow()
            t0, c0 = time.perf_counter(), time.process_time()
            snap = await checker.poll()
            while not _round_done(snap, since):
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
            time.sleep(worker.next_due_in())
            since = utcnow()
            t0 = time.perf_counter()
            snap = worker.poll()
            while not _round_done(snap, since) and not snap.error:
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


# --- detection with a slow neighbour vs alone (issue 17) -----------------------------

DETECT_INTERVAL, DETECT_THRESHOLD, DETECT_TIMEOUT = 2.0, 2, 2.0
NEIGHBOUR_S = 3.0                  # the slow neighbour's answer time
DETECT_REPEATS = 3
DETECT_WINDOW_S = 6.0              # api's checks are counted over this long


async def _detection(with_neighbour: bool) -> dict:
    """``api`` at interval 2 s (fail_threshold 2, timeout 2 s), alone or beside a service
    answering in 3 s, driven as the dashboard's scheduler drives the checker (next poll
    when ``next_due_in`` says). Counts api's requests over a window, then stops api
    (connections refused) and times DOWN, restarts it and times UP, a few times."""
    api = LocalHTTPServer().start()
    api.route("/healthz", status=200)
    port = api.port
    neighbour = LocalHTTPServer().start()
    neighbour.route("/healthz", status=200, delay=NEIGHBOUR_S)
    specs = [ServiceSpec(name="api", url=api.url("/healthz"), interval=DETECT_INTERVAL,
                         fail_threshold=DETECT_THRESHOLD, timeout=DETECT_TIMEOUT)]
    if with_neighbour:
        specs.append(ServiceSpec(name="slow", url=neighbour.url("/healthz"), interval=DETECT_INTERVAL,
                                 timeout=NEIGHBOUR_S + 2, degraded_ms=NEIGHBOUR_S * 2000))
    checker = HealthChecker(specs)
    changed = asyncio.Condition()
    state: dict[str, State] = {}

    async def drive() -> None:            # the scheduler's loop: poll, wait until due, poll
        while True:
            snap = await checker.poll()
            async with changed:
                state["api"] = snap.services[0].state
                changed.notify_all()
            await asyncio.sleep(max(0.05, checker.next_due_in()))

    async def until(wanted: State) -> float:
        t0 = time.perf_counter()
        async with changed:
            await asyncio.wait_for(changed.wait_for(lambda: state.get("api") is wanted), 30)
        return time.perf_counter() - t0

    driver = asyncio.create_task(drive())
    down_s: list[float] = []
    up_s: list[float] = []
    try:
        await until(State.UP)
        before = api.hits["/healthz"]
        await asyncio.sleep(DETECT_WINDOW_S)               # the measured window
        checks = api.hits["/healthz"] - before
        for _ in range(DETECT_REPEATS):
            api.close()                                     # stopped: refused, kept-alive ones cut
            down_s.append(await until(State.DOWN))
            api = LocalHTTPServer(port=port).start()
            api.route("/healthz", status=200)
            up_s.append(await until(State.UP))
    finally:
        driver.cancel()
        await asyncio.gather(driver, return_exceptions=True)
        await checker.aclose()
        api.close()
        neighbour.close()
    return {
        "checks_in_window": checks,
        "check_every_s": round(DETECT_WINDOW_S / checks, 2) if checks else None,
        "down_s": [round(x, 2) for x in down_s],
        "up_s": [round(x, 2) for x in up_s],
        "down_median_s": round(sorted(down_s)[len(down_s) // 2], 2),
        "up_median_s": round(sorted(up_s)[len(up_s) // 2], 2),
    }


def detection() -> dict:
    """Detection of ``api`` going down beside a slow neighbour and alone; the target is the
    same within 1 s, and both within interval × fail_threshold + timeout + 1 s."""
    alone = asyncio.run(_detection(False))
    beside = asyncio.run(_detection(True))
    return {
        "alone": alone,
        "with_slow_neighbour": beside,
        "budget_down_s": DETECT_INTERVAL * DETECT_THRESHOLD + DETECT_TIMEOUT + 1,
        "budget_up_s": DETECT_INTERVAL + 1,
        "down_difference_s": round(beside["down_median_s"] - alone["down_median_s"], 2),
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
    result["detection"] = detection()
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
