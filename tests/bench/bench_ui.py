"""Benchmarks of the dashboard itself: the real ``WarroomApp``, headless at 160x48.

Scenarios (each a function returning a dict of figures; ``run()`` runs them all):

* ``log_pane``   - an incident of 100k entries: time to the first frame showing the
  timeline, key latency of pageup/pagedown/up/down/home/end, and the latency of
  adding an entry (``n``, text, ``enter``) at 100k.
* ``health_round`` - key latency while a health source checks 1,000 local
  endpoints (up to 1 s each) round after round, and the round time vs. the slowest.
* ``pods_ui``    - 5,000 pods in the Kubernetes API stand-in, then 100 updates/s:
  how far behind the pods pane falls, and key latency meanwhile.
* ``startup``    - process start to the first full frame, ``warroom`` vs a bare
  Textual app, each spawned under a pseudo-terminal; and whether ``kubernetes``
  was imported on the way.

How key latency is measured (``KeyProbe``): the key event is handed to the app's
driver exactly as a terminal's input thread would (``driver.send_message``), and
the clock stops when the app has *drawn* the result: at the end of the first
frame (``App._display``, wrapped on the instance) after the focused timeline has
handled the key (its ``Selected`` message was dispatched). A headless driver
skips turning the frame into terminal bytes, so the wrapper does that too
(``render_segments``); only the write to the terminal is missing. Keys are paced
10-40 ms apart so they land at random moments of the background work.

Key percentiles undercount a freeze (a key pressed during a 20 s stall is one
sample), so ``LoopWatch`` also reports the longest time the event loop went
without running a 5 ms heartbeat, and how much of the window such freezes took.

``pilot.press(k)`` + ``pilot.pause()`` is NOT the measure: Pilot waits for the
process to look idle in 20 ms sleeps (``textual._wait.wait_for_idle``), so that
round trip cannot go below ~60 ms however fast the app is. It is reported as
``pilot_roundtrip_ms`` for reference only.

    python -m tests.bench.bench_ui [log|health|pods|startup ...] [--quick]
"""
from __future__ import annotations

import asyncio
import gc
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

SIZE = (160, 48)
TARGET_KEY_P99_MS = 50.0
TARGET_ROUND_RATIO = 1.3
TARGET_STARTUP_RATIO = 1.5
TARGET_PODS_LAG_P99_S = 2.0       # the pane redraws from the watch cache every 1 s (KubeSpec.interval)
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- figures


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms_stats(seconds: list[float]) -> dict:
    """n, median, p99 and max of a list of durations in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0, "median_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(seconds),
        "median_ms": round(pct(seconds, 0.5) * 1000, 1),
        "p99_ms": round(pct(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1),
    }


# --------------------------------------------------------------------------- probes


class Frames:
    """Notes every frame the app draws, and resolves futures on the first frame
    drawn while a condition holds. Wraps ``app._display`` on the instance only."""

    def __init__(self, app: Any, *, encode: bool = True) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.count = 0
        self.last_at = 0.0
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return   # nothing drawn (Textual skips these too)
            if encode and app.is_headless and isinstance(renderable, CompositorUpdate):
                # What a real driver would write: building the bytes is part of a frame's cost.
                renderable.render_segments(app.console)
            now = time.perf_counter()
            self.count += 1
            self.last_at = now
            if self._waiters:
                still = []
                for predicate, future in self._waiters:
                    if future.done():
                        continue
                    if predicate():
                        future.set_result(now)
                    else:
                        still.append((predicate, future))
                self._waiters = still

        app._display = display

    def when(self, predicate: Callable[[], bool]) -> asyncio.Future:
        """A future for the end time (perf_counter) of the first frame drawn with ``predicate()`` true."""
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future


class KeyProbe:
    """Sends keys through the driver and times key -> handled -> drawn.

    Pass ``probe.hook`` to ``run_test(message_hook=...)``: it counts the timeline's
    ``Selected`` messages (posted when a movement key has been handled) and
    collects ``SnapshotReady`` messages per source.
    """

    def __init__(self, app: Any, frames: Frames) -> None:
        from tui.messages import SnapshotReady
        from widgets.timeline import TimelineView

        self._selected_type, self._snapshot_type = TimelineView.Selected, SnapshotReady
        self.app = app
        self.frames = frames
        self.selected = 0
        self.selected_at = 0.0
        self.snapshots: dict[str, list[tuple[float, float]]] = {}   # source -> [(at, elapsed_s)]
        self.health_oldest: list[tuple[datetime, datetime | None]] = []   # (arrived, oldest checked_at)
        self._seen: Any = None
        self._seen_snapshot: Any = None
        self.timeouts = 0

    def hook(self, message: Any) -> None:
        if isinstance(message, self._selected_type):
            if message is not self._seen:    # a bubbling message is dispatched at each level
                self._seen = message
                self.selected += 1
                self.selected_at = time.perf_counter()
        elif isinstance(message, self._snapshot_type) and message is not self._seen_snapshot:
            self._seen_snapshot = message
            self.snapshots.setdefault(message.source, []).append((time.perf_counter(), message.elapsed_s))
            services = getattr(message.snapshot, "services", None)
            if services:
                # A health poll no longer waits for its slowest check: a round is the time until
                # every service has a newer result, read off the snapshots the app receives.
                checked = [s.checked_at for s in services]
                oldest = None if None in checked else min(checked)
                self.health_oldest.append((datetime.now(timezone.utc), oldest))

    def send(self, key: str) -> None:
        import unicodedata

        from textual import events
        from textual.keys import _character_to_key, _get_unicode_name_from_key

        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(key))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(self.app)
        self.app._driver.send_message(event)

    async def until_drawn(self, key: str, done: Callable[[], bool], timeout: float = 10.0) -> tuple[float, float]:
        """(key -> drawn, key -> handled) in seconds; a timeout counts as ``timeout``."""
        drawn = self.frames.when(done)
        before = self.selected
        t0 = time.perf_counter()
        self.send(key)
        try:
            t_drawn = await asyncio.wait_for(drawn, timeout)
        except asyncio.TimeoutError:
            # Counted, with the time it really took (a blocked loop fires the timeout late).
            self.timeouts += 1
            waited = time.perf_counter() - t0
            return waited, (self.selected_at - t0) if self.selected > before else waited
        handled = (self.selected_at - t0) if self.selected > before else (t_drawn - t0)
        return t_drawn - t0, handled

    async def move(self, key: str, timeout: float = 10.0) -> tuple[float, float]:
        """A timeline movement key: drawn once the timeline has handled it."""
        before = self.selected
        return await self.until_drawn(key, lambda: self.selected > before, timeout)


class LoopWatch:
    """Notes how long the event loop goes without running a 5 ms heartbeat: the app is
    frozen for that long (no key, no frame). Key percentiles undercount a freeze
    (a key pressed during a 20 s stall is one sample), so the longest one is reported too."""

    def __init__(self, threshold_s: float = 0.1) -> None:
        self.threshold_s = threshold_s
        self.stalls: list[float] = []
        self._task: asyncio.Task | None = None
        self._t0 = 0.0

    async def _beat(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            if now - last - 0.005 > self.threshold_s:
                self.stalls.append(now - last - 0.005)
            last = now

    def start(self) -> "LoopWatch":
        self._t0 = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._beat())
        return self

    def stop(self) -> dict:
        if self._task is not None:
            self._task.cancel()
        window = time.perf_counter() - self._t0
        return {
            "stall_max_ms": round(max(self.stalls, default=0.0) * 1000, 1),
            "stalls_over_100ms": len(self.stalls),
            "stalled_pct": round(100 * sum(self.stalls) / window, 1) if window > 0 else None,
        }


async def _pilot_roundtrip(pilot: Any, presses: int) -> list[float]:
    times = []
    for i in range(presses):
        t0 = time.perf_counter()
        await pilot.press("up" if i % 2 else "down")
        await pilot.pause()
        times.append(time.perf_counter() - t0)
    return times


def _timeline(app: Any) -> Any:
    from textual.css.query import NoMatches

    from tui.screens.dashboard import Dashboard
    from widgets.timeline import TimelineView

    screen = app.screen
    if not isinstance(screen, Dashboard):
        return None
    try:
        return screen.query_one(TimelineView)
    except NoMatches:
        return None


def _timeline_len(app: Any) -> int:
    timeline = _timeline(app)
    return len(timeline.entries) if timeline is not None else 0


async def _press_paced(probe: KeyProbe, keys: list[str], rng: random.Random,
                       per_key: dict[str, list[float]] | None = None) -> tuple[list[float], list[float]]:
    drawn, handled = [], []
    for key in keys:
        await asyncio.sleep(rng.uniform(0.010, 0.040))
        d, h = await probe.move(key)
        drawn.append(d)
        handled.append(h)
        if per_key is not None:
            per_key.setdefault(key, []).append(d)
    return drawn, handled


def _movement_keys(presses: int) -> list[str]:
    # Every key moves the cursor from where the previous ones left it (starting at the end).
    cycle = (["home"] + ["pagedown"] * 5 + ["down"] * 10 + ["up"] * 5 + ["pageup"] * 3 + ["end"]
             + ["up"] * 5 + ["pageup"] * 5 + ["end"])
    return [cycle[i % len(cycle)] for i in range(presses)]


def _key_figures(drawn: list[float], handled: list[float], timeouts: int) -> dict:
    d, h = ms_stats(drawn), ms_stats(handled)
    return {
        "presses": d["n"],
        "key_median_ms": d["median_ms"],
        "key_p99_ms": d["p99_ms"],
        "key_max_ms": d["max_ms"],
        "handled_median_ms": h["median_ms"],
        "handled_p99_ms": h["p99_ms"],
        "key_timeouts": timeouts,
        "key_ok": bool(drawn) and timeouts == 0 and d["p99_ms"] <= TARGET_KEY_P99_MS,
    }


# --------------------------------------------------------------------------- 1. log pane at 100k


async def _log_pane(data_dir: Path, incident_id: int, expected: int, presses: int, appends: int,
                    pilot_presses: int) -> dict:
    from textual.widgets import Input

    from tui.app import WarroomApp
    from tui.config import Config
    from tui.incident.store import Store

    gc.collect()
    t0 = time.perf_counter()
    store = Store(data_dir)
    app = WarroomApp(store, incident_id, config=Config(), author="bench")
    frames = Frames(app)
    probe = KeyProbe(app, frames)
    rng = random.Random(1)
    try:
        shown = frames.when(lambda: _timeline_len(app) >= expected)
        async with app.run_test(size=SIZE, message_hook=probe.hook) as pilot:
            t_shown = await asyncio.wait_for(shown, 120)
            first_frame_s = t_shown - t0
            await pilot.pause()
            watch = LoopWatch().start()
            per_key: dict[str, list[float]] = {}
            drawn, handled = await _press_paced(probe, _movement_keys(presses), rng, per_key)
            stalls = watch.stop()
            roundtrip = await _pilot_roundtrip(pilot, pilot_presses)

            add_drawn: list[float] = []
            field = app.screen.query_one("#prompt-input", Input)
            timeline = _timeline(app)
            for i in range(appends):
                await pilot.press("n")
                field.value = f"bench note {i}: replica lag back under 100 ms after the failover"
                await pilot.pause()
                before = len(timeline.entries)
                d, _ = await probe.until_drawn("enter", lambda before=before: len(timeline.entries) > before)
                add_drawn.append(d)
                await asyncio.sleep(rng.uniform(0.010, 0.040))
            added = len(timeline.entries) - expected
    finally:
        store.close()
    appended = ms_stats(add_drawn)
    result = {
        "entries": expected,
        "first_frame_s": round(first_frame_s, 3),
        **_key_figures(drawn, handled, probe.timeouts),
        "per_key_p99_ms": {k: ms_stats(v)["p99_ms"] for k, v in per_key.items()},
        **stalls,
        "pilot_roundtrip_ms": ms_stats(roundtrip),
        "append_n": appended["n"],
        "append_median_ms": appended["median_ms"],
        "append_p99_ms": appended["p99_ms"],
        "append_max_ms": appended["max_ms"],
        "appended_shown": added,
        "frames": frames.count,
    }
    result["append_ok"] = added == appends and appended["p99_ms"] is not None and appended["p99_ms"] <= TARGET_KEY_P99_MS
    return result


def log_pane(entries: int = 100_000, presses: int = 216, appends: int = 30, pilot_presses: int = 10) -> dict:
    """An incident of ``entries`` entries: first frame, key latency, append latency."""
    from tests.bench.bench_store import build_big_store

    with tempfile.TemporaryDirectory(prefix="warroom-bench-ui-") as tmp:
        data_dir = Path(tmp) / "data"
        t0 = time.perf_counter()
        incident_id, expected = build_big_store(data_dir, entries)
        build_s = time.perf_counter() - t0
        result = asyncio.run(_log_pane(data_dir, incident_id, expected, presses, appends, pilot_presses))
    result["build_s"] = round(build_s, 2)
    return result


# --------------------------------------------------------------------------- 2. health round


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _delay_specs(n: int, slowest_s: float, url: Callable[[int, str], str]) -> tuple:
    from checks.specs import ServiceSpec

    delays = [round(slowest_s * 1000 * (i + 1) / n) for i in range(n)]
    random.Random(0).shuffle(delays)
    return tuple(
        ServiceSpec(name=f"svc{i:04d}", url=url(i, f"/delay/{delays[i]}"),
                    interval=0,                     # due again at once: rounds back to back (worst case)
                    timeout=slowest_s * 3 + 5, degraded_ms=slowest_s * 1000 * 10, fail_threshold=1)
        for i in range(n)
    )


def _rounds(seen: list) -> list[float]:
    """Round durations: from a round's start (the first snapshot, then each round's end) to the
    first snapshot in which every service was checked after that start."""
    if not seen:
        return []
    out: list[float] = []
    start = seen[0][0]
    for arrived, oldest in seen[1:]:
        if oldest is not None and oldest >= start:
            out.append((arrived - start).total_seconds())
            start = arrived
    return out


async def _health_round(specs: tuple, slowest_s: float, rounds: int, presses: int, window_s: float,
                        concurrency: int | None, store_dir: Path) -> dict:
    from checks.specs import HostSpec, KubeSpec
    from tui.app import WarroomApp
    from tui.config import Config
    from tui.incident.model import Severity
    from tui.incident.store import Store
    from tui.sources import build_live

    config = Config(services=specs, host=HostSpec(interval=1.0), kubernetes=KubeSpec(enabled=False))
    store = Store(store_dir)
    incident = store.declare("bench: 1,000 services", Severity.SEV2, author="bench")
    # cwd without a git repo: no deploys pane reading this checkout.
    live = build_live(config, incident=incident, cwd=store_dir)
    if concurrency is not None:
        from checks.health import HealthChecker, HealthSnapshot, changes
        from tui.scheduler import LiveSource
        from tui.sources import _error

        checker = HealthChecker(specs, concurrency=concurrency)
        live.sources[0] = LiveSource("health", checker.poll, checker.next_due_in, changes,
                                     _error(HealthSnapshot), close=checker.aclose)
    app = WarroomApp(store, incident.id, sources=live.sources, panes=live.panes,
                     on_snapshot_hooks=live.hooks, config=config, author="bench")
    frames = Frames(app)
    probe = KeyProbe(app, frames)
    rng = random.Random(2)
    try:
        async with app.run_test(size=SIZE, message_hook=probe.hook) as pilot:
            # The first (cold) round connects 1,000 sockets; wait for it, measure during the next ones.
            for _ in range(600):
                if probe.snapshots.get("health"):
                    break
                await asyncio.sleep(0.1)
            first = list(probe.snapshots.get("health", []))
            watch = LoopWatch().start()
            start = time.perf_counter()
            drawn: list[float] = []
            handled: list[float] = []
            keys = ["down", "up"]
            i = 0
            while True:
                done_rounds = len(_rounds(probe.health_oldest[len(first):]))
                if (done_rounds >= rounds and len(drawn) >= presses) or time.perf_counter() - start > window_s:
                    break
                await asyncio.sleep(rng.uniform(0.010, 0.040))
                d, h = await probe.move(keys[i % 2])
                drawn.append(d)
                handled.append(h)
                i += 1
            stalls = watch.stop()
            snap = app.screen._snapshots.get("health")
            up = sum(str(s.state) == "UP" for s in snap.services) if snap is not None else 0
            await pilot.pause()
    finally:
        store.close()
    elapsed = _rounds(probe.health_oldest[len(first):])
    ratio = pct(elapsed, 0.5) / slowest_s if elapsed else float("nan")
    return {
        "services": len(specs),
        "concurrency": concurrency or "app default",
        "slowest_s": slowest_s,
        "cold_round_s": round(first[0][1], 3) if first else None,
        "rounds": len(elapsed),
        "round_median_s": round(pct(elapsed, 0.5), 3) if elapsed else None,
        "round_max_s": round(max(elapsed), 3) if elapsed else None,
        "round_ratio": round(ratio, 3),
        "round_ok": bool(elapsed) and ratio <= TARGET_ROUND_RATIO,
        "up": up,
        **_key_figures(drawn, handled, probe.timeouts),
        **stalls,
    }


def health_round(n: int = 1000, slowest_s: float = 1.0, rounds: int = 3, presses: int = 150,
                 window_s: float = 30.0, concurrencies: tuple[int | None, ...] = (None, 1000)) -> dict:
    """The dashboard with ``n`` health endpoints (delays spread up to ``slowest_s``).

    Keys are pressed until ``rounds`` rounds and ``presses`` keys are done, or for at
    most ``window_s`` seconds after the first round.

    ``concurrencies``: None is the app as ``build_live`` wires it; a number swaps in a
    ``HealthChecker(concurrency=...)`` to show what the checker itself can do.
    """
    from tests.servers import DelayServerProcess

    _raise_fd_limit(4 * n + 512)
    out: dict[str, Any] = {}
    with DelayServerProcess(4) as srv:
        specs = _delay_specs(n, slowest_s, srv.url)
        for concurrency in concurrencies:
            label = "app" if concurrency is None else f"concurrency_{concurrency}"
            with tempfile.TemporaryDirectory(prefix="warroom-bench-ui-") as tmp:
                out[label] = asyncio.run(_health_round(specs, slowest_s, rounds, presses, window_s, concurrency, Path(tmp)))
    return out


# --------------------------------------------------------------------------- 3. pods pane


def _standin_main() -> None:
    """Child process: the API stand-in with N pods; on "run RATE SECONDS SEED" drives
    restarts at that rate, printing one JSON line per update: [ns, name, restarts, monotonic]."""
    from tests.bench.bench_idle import quiet
    from tests.bench.bench_pods import restart_random_pod
    from tui.demo.kubeapi_standin import KubeApiStandin

    pods, namespaces, kubeconfig = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    out = sys.stdout
    with KubeApiStandin() as standin:
        quiet(standin)
        names = []
        for i in range(pods):
            ns, name = f"team-{i % namespaces:02d}", f"svc-{i // namespaces:04d}-{i:05x}"
            standin.add_pod(ns, name, containers=("app", "proxy"), init_containers=("init",) if i % 5 == 0 else ())
            names.append((ns, name))
        standin.write_kubeconfig(Path(kubeconfig))
        out.write("ready\n")
        out.flush()
        for line in sys.stdin:
            parts = line.split()
            if not parts or parts[0] != "run":
                break
            rate, seconds, seed = float(parts[1]), float(parts[2]), int(parts[3])
            rng = random.Random(seed)
            start = time.monotonic()
            for n in range(int(rate * seconds)):
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ns, name, total = restart_random_pod(standin, rng, names)
                out.write(json.dumps([ns, name, total, time.monotonic()]) + "\n")
            out.write("done\n")
            out.flush()


@contextmanager
def _standin_process(pods: int, namespaces: int, kubeconfig: Path) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tests.bench.bench_ui import _standin_main; _standin_main()",
         str(pods), str(namespaces), str(kubeconfig)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    try:
        line = proc.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("the API stand-in process did not start")
        yield proc
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


async def _pods_ui(proc: subprocess.Popen, kubeconfig: Path, pods: int, rate: float, seconds: float,
                   store_dir: Path) -> dict:
    from checks.specs import HostSpec, KubeSpec
    from tui.app import WarroomApp
    from tui.config import Config
    from tui.incident.model import Severity
    from tui.incident.store import Store
    from tui.sources import build_live

    config = Config(host=HostSpec(interval=1.0),
                    kubernetes=KubeSpec(kubeconfig=str(kubeconfig), namespaces=("*",), interval=1.0))
    store = Store(store_dir)
    incident = store.declare("bench: 5,000 pods", Severity.SEV2, author="bench")
    live = build_live(config, incident=incident, cwd=store_dir)
    app = WarroomApp(store, incident.id, sources=live.sources, panes=live.panes,
                     on_snapshot_hooks=live.hooks, config=config, author="bench")
    frames = Frames(app)
    probe = KeyProbe(app, frames)
    rng = random.Random(3)
    pane = live.panes["pods"]
    pending: dict[str, tuple[int, float]] = {}     # row key -> (restarts wanted, first unseen update at)
    lock = threading.Lock()
    lags: list[float] = []
    finished = threading.Event()
    applied = 0

    def read_updates() -> None:
        nonlocal applied
        for line in proc.stdout:
            if line.strip() == "done":
                break
            ns, name, total, at = json.loads(line)
            with lock:
                key = f"{ns}/{name}"
                when = pending[key][1] if key in pending else at
                pending[key] = (total, when)
                applied += 1
        finished.set()

    def check_pane(table: Any) -> None:
        now = time.monotonic()
        with lock:
            for key, (want, when) in list(pending.items()):
                try:
                    shown = int(str(table.get_cell(key, "restarts")))
                except Exception:
                    continue
                if shown >= want:
                    lags.append(now - when)
                    del pending[key]

    try:
        t0 = time.perf_counter()
        async with app.run_test(size=SIZE, message_hook=probe.hook) as pilot:
            table = pane.table          # made on first use (widgets/lazy_children.py)
            for _ in range(1200):
                if table.row_count >= pods:
                    break
                await asyncio.sleep(0.1)
            first_full_s = time.perf_counter() - t0
            await pilot.pause()
            idle_drawn, idle_handled = await _press_paced(probe, ["down", "up"] * 15, rng)
            idle_timeouts = probe.timeouts

            reader = threading.Thread(target=read_updates, daemon=True)
            reader.start()
            watch = LoopWatch().start()
            proc.stdin.write(f"run {rate} {seconds} 7\n")
            proc.stdin.flush()
            drawn, handled = [], []
            deadline = time.monotonic() + seconds + 30
            keys = ["down", "up"]
            i = 0
            while time.monotonic() < deadline:
                check_pane(table)
                if finished.is_set():
                    with lock:
                        if not pending:
                            break
                    await asyncio.sleep(0.02)
                    continue
                await asyncio.sleep(rng.uniform(0.010, 0.040))
                d, h = await probe.move(keys[i % 2])
                drawn.append(d)
                handled.append(h)
                i += 1
                check_pane(table)
            stalls = watch.stop()
            with lock:
                unseen = len(pending)
            system_entries = sum(1 for e in _timeline(app).entries if e.kind.value == "system")
            pod_rounds = [e for _, e in probe.snapshots.get("pods", [])]
    finally:
        store.close()
    idle = ms_stats(idle_drawn)
    return {
        "pods": pods,
        "rate_per_s": rate,
        "seconds": seconds,
        "first_full_table_s": round(first_full_s, 2),
        "updates_applied": applied,
        "updates_unseen": unseen,
        "lag_median_ms": round(pct(lags, 0.5) * 1000, 1) if lags else None,
        "lag_p99_ms": round(pct(lags, 0.99) * 1000, 1) if lags else None,
        "lag_max_ms": round(max(lags) * 1000, 1) if lags else None,
        "lag_ok": unseen == 0 and bool(lags) and pct(lags, 0.99) <= TARGET_PODS_LAG_P99_S,
        "idle_key_median_ms": idle["median_ms"],
        "idle_key_p99_ms": idle["p99_ms"],
        "idle_key_timeouts": idle_timeouts,
        "pods_poll_median_ms": round(pct(pod_rounds, 0.5) * 1000, 1) if pod_rounds else None,
        "system_entries_written": system_entries,
        **_key_figures(drawn, handled, probe.timeouts - idle_timeouts),
        **stalls,
        "note": "lag: update committed at the stand-in (child process) -> the pane's table holds the new "
                "restart count, checked every 10-40 ms",
    }


def pods_ui(pods: int = 5000, rate: float = 100.0, seconds: float = 10.0, namespaces: int = 20) -> dict:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-ui-") as tmp:
        kubeconfig = Path(tmp) / "kubeconfig"
        with _standin_process(pods, namespaces, kubeconfig) as proc:
            return asyncio.run(_pods_ui(proc, kubeconfig, pods, rate, seconds, Path(tmp) / "data"))


# --------------------------------------------------------------------------- 4. start-up

# Run as ``python -c`` so nothing but the app itself is imported. Writes a JSON marker
# at the end of the first frame of the wanted screen, then quits the app.
_STARTUP_CHILD = r"""
import json, sys, threading, time
mode, marker = sys.argv[1], sys.argv[2]
watch = ("kubernetes", "git", "httpx", "psutil")
started = {}

class _Spy:
    # Notes when (and on which thread) each watched package is first imported.
    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.partition(".")[0]
        if top in watch and top not in started:
            started[top] = [time.monotonic(), threading.current_thread().name]
        return None

sys.meta_path.insert(0, _Spy)
import textual.app
_original = textual.app.App._display
_done = []

def _display(self, screen, renderable):
    _original(self, screen, renderable)
    if _done or renderable is None or self._batch_count:
        return
    if mode == "dashboard" and type(screen).__name__ != "Dashboard":
        return
    _done.append(1)
    # CPU time too: on a loaded machine the wall time to the first frame mostly waits for a core.
    info = {"t": time.monotonic(), "cpu": time.process_time(), "loaded": [m for m in watch if m in sys.modules], "started": started}
    with open(marker + ".tmp", "w") as f:
        json.dump(info, f)
    import os
    os.replace(marker + ".tmp", marker)
    self.exit()

textual.app.App._display = _display
if mode == "dashboard":
    from tui.cli import main
    sys.exit(main(sys.argv[3:]))
else:
    from textual.widgets import Static

    class Bare(textual.app.App):
        def compose(self):
            yield Static("bare textual app")

    Bare().run()
"""


def _spawn_until_first_frame(args: list[str], marker: Path, timeout: float = 60.0,
                              env: dict[str, str] | None = None) -> dict:
    from tests.bench.bench_idle import PtyApp

    marker.unlink(missing_ok=True)
    t0 = time.monotonic()
    with PtyApp([sys.executable, "-c", _STARTUP_CHILD, *args[:1], str(marker), *args[1:]], env=env) as app:
        while time.monotonic() - t0 < timeout:
            if marker.exists():
                break
            if app.proc.poll() is not None:
                raise RuntimeError(f"exited with {app.proc.returncode} before its first frame: {app.tail()}")
            time.sleep(0.002)
        else:
            raise RuntimeError(f"no first frame within {timeout:.0f} s: {app.tail()}")
        info = json.loads(marker.read_text())
        app.wait_exit(10)
    return {"s": info["t"] - t0, "cpu_s": info.get("cpu"), "loaded": info["loaded"],
            "started": {k: [round(v[0] - t0, 3), v[1]] for k, v in info["started"].items()}}


def startup(runs: int = 5) -> dict:
    """Process start -> first frame, median of ``runs`` each, alternating (after one warm-up each)."""
    from tests.bench.bench_idle import LiveWorld

    with LiveWorld() as world, tempfile.TemporaryDirectory(prefix="warroom-bench-ui-") as tmp:
        marker = Path(tmp) / "first-frame.json"
        dash_args = ["dashboard", "--config", str(world.config_path), "--data-dir", str(world.data_dir)]
        # Bytecode is cached, as on any installed copy: with PYTHONDONTWRITEBYTECODE set (some
        # shells and CI images set it) every run compiled warroom's ~50 modules from source while
        # textual's came precompiled from site-packages, ~40 ms charged to the dashboard alone.
        # Both apps write their bytecode under this run's temporary directory.
        env = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        bare, dash, last = [], [], None
        for i in range(runs + 1):
            b = _spawn_until_first_frame(["bare"], marker, env=env)
            last = _spawn_until_first_frame(dash_args, marker, env=env)
            if i:          # the first pair warms the page cache and .pyc files
                bare.append(b["s"])
                dash.append(last["s"])
    ratio = pct(dash, 0.5) / pct(bare, 0.5)
    loaded = last["loaded"] if last else []
    return {
        "runs": runs,
        "bare_median_s": round(pct(bare, 0.5), 3),
        "bare_min_s": round(min(bare), 3),
        "dashboard_median_s": round(pct(dash, 0.5), 3),
        "dashboard_min_s": round(min(dash), 3),
        "ratio": round(ratio, 2),
        "ratio_ok": ratio <= TARGET_STARTUP_RATIO,
        "loaded_at_first_frame": loaded,
        "kubernetes_at_first_frame": "kubernetes" in loaded,
        "first_import_s_thread": last["started"] if last else {},
        "config": "20 services, host, kubernetes (stand-in, 50 pods), 1 repo",
    }


# --------------------------------------------------------------------------- all


def run(quick: bool = False, only: tuple[str, ...] = ()) -> dict:
    """Every scenario (``only`` picks some); one failing scenario is reported, not raised."""
    plans: dict[str, Callable[[], dict]] = {
        "log": (lambda: log_pane(10_000, presses=72, appends=10)) if quick else log_pane,
        "health": (lambda: health_round(300, rounds=2, presses=60)) if quick else health_round,
        "pods": (lambda: pods_ui(1000, rate=100, seconds=4)) if quick else pods_ui,
        "startup": (lambda: startup(runs=2)) if quick else startup,
    }
    out: dict[str, Any] = {}
    for name, fn in plans.items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            out[name] = fn()
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        out[name]["wall_s"] = round(time.perf_counter() - t0, 1)
        print(f"  ui/{name}: done in {out[name]['wall_s']} s", file=sys.stderr, flush=True)
    return out


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    only = tuple(a for a in argv if not a.startswith("--"))
    print(json.dumps(run(quick=quick, only=only), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
