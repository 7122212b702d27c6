"""Benchmark: 5,000 pods listed, then ~100 updates/s for ~5 s through the watch.

Measures, with the real kubernetes client against the local API stand-in:
- time to the first complete snapshot (cold: includes importing kubernetes),
- lag between an update at the API and its visibility in ``poll()`` (p50/p99),
- what ``poll()`` costs, idle (cache unchanged) and busy (cache changed: re-sort).

The stand-in runs in the same process, so it competes for the GIL with the
source: the figures are pessimistic. ``python -m tests.bench.bench_pods``.
"""
from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from checks.pods import PodsSource
from checks.specs import KubeSpec
from tui.demo.kubeapi_standin import KubeApiStandin

PODS = 5_000
NAMESPACES = 20
RATE = 100            # updates per second
DURATION = 5.0        # seconds of updates
POLL_EVERY = 0.02     # how often the bench polls to see updates land


def restart_random_pod(standin, rng: random.Random, names: list[tuple[str, str]]) -> tuple[str, str, int]:  # noqa: ANN001
    """One update: a random container of a random pod restarts (Error or OOMKilled, sometimes
    into CrashLoopBackOff). Returns the pod and its new restart total."""
    ns, name = rng.choice(names)
    pod = standin.restart_container(ns, name, rng.choice(("app", "proxy")),
                                    reason=rng.choice(("Error", "OOMKilled")),
                                    then=rng.choice((None, None, "CrashLoopBackOff")))
    status = pod["status"]
    total = sum(c["restartCount"] for c in (*status["containerStatuses"], *status.get("initContainerStatuses", [])))
    return ns, name, total

def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def _kubernetes_import_s() -> float:
    """What the first snapshot pays just to import the client (measured in a fresh process)."""
    code = ("import time; t = time.perf_counter(); import kubernetes.client, kubernetes.config; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run(pods: int = PODS, rate: float = RATE, duration: float = DURATION, seed: int = 7) -> dict:
    rng = random.Random(seed)
    import_s = _kubernetes_import_s()
    with KubeApiStandin() as standin, tempfile.TemporaryDirectory() as tmp:
        names: list[tuple[str, str]] = []
        for i in range(pods):
            ns = f"team-{i % NAMESPACES:02d}"
            name = f"svc-{i // NAMESPACES:04d}-{i:05x}"
            standin.add_pod(ns, name, containers=("app", "proxy"),
                            init_containers=("init",) if i % 5 == 0 else ())
            names.append((ns, name))
        kubeconfig = standin.write_kubeconfig(Path(tmp) / "config")
        source = PodsSource(KubeSpec(kubeconfig=kubeconfig, namespaces=("*",)))

        t0 = time.perf_counter()
        source.start()
        while True:
            snap = source.poll()
            if snap.synced and snap.total == pods:
                break
            if time.perf_counter() - t0 > 120:
                raise RuntimeError(f"no complete snapshot after 120 s: {snap.error or snap.connection}")
            time.sleep(0.005)
        first_snapshot_s = time.perf_counter() - t0

        idle = []
        for _ in range(50):
            t = time.perf_counter()
            source.poll()
            idle.append(time.perf_counter() - t)

        # Updates: restart a random container at a steady rate, remembering when.
        pending: dict[tuple[str, str], tuple[int, float]] = {}   # pod -> (restarts expected, when)
        lock = threading.Lock()
        applied = 0
        stop = threading.Event()

        def drive() -> None:
            nonlocal applied
            interval = 1.0 / rate
            start = time.perf_counter()
            n = 0
            while not stop.is_set() and n < int(rate * duration):
                target = start + n * interval
                delay = target - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                ns, name, total = restart_random_pod(standin, rng, names)
                with lock:
                    if (ns, name) not in pending:     # keep the first unseen update's time
                        pending[(ns, name)] = (total, time.perf_counter())
                    else:
                        pending[(ns, name)] = (total, pending[(ns, name)][1])
                applied += 1
                n += 1

        driver = threading.Thread(target=drive, daemon=True)
        lags: list[float] = []
        busy: list[float] = []
        driver.start()
        deadline = time.perf_counter() + duration + 10
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            snap = source.poll()
            seen_at = time.perf_counter()
            busy.append(seen_at - t)
            by_key = {(p.namespace, p.name): p.restarts for p in snap.pods}
            with lock:
                for key, (want, when) in list(pending.items()):
                    if by_key.get(key, -1) >= want:
                        lags.append(seen_at - when)
                        del pending[key]
                done = not driver.is_alive() and not pending
            if done:
                break
            time.sleep(POLL_EVERY)
        stop.set()
        driver.join()
        lists = standin.requests["list"]
        source.close()

    return {
        "pods": pods,
        "first_snapshot_s": round(first_snapshot_s, 3),
        "of_which_kubernetes_import_s": round(import_s, 3),
        "updates_applied": applied,
        "updates_unseen": len(pending),
        "lag_ms_p50": round(_pct(lags, 0.50) * 1000, 1),
        "lag_ms_p99": round(_pct(lags, 0.99) * 1000, 1),
        "lag_ms_max": round(max(lags, default=float("nan")) * 1000, 1),
        "poll_idle_ms_p50": round(statistics.median(idle) * 1000, 3),
        "poll_busy_ms_p50": round(_pct(busy, 0.50) * 1000, 2),
        "poll_busy_ms_p99": round(_pct(busy, 0.99) * 1000, 2),
        "list_requests": lists,
        "note": f"lag measured by polling every {POLL_EVERY * 1000:.0f} ms; stand-in in-process",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
