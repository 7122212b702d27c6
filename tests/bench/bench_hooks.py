"""Benchmark: what each Textual hook (tui/textual_hooks) saves, measured against stock
Textual in the same run. A hook earns its place if it saves at least 0.2 % of a core (of
the idle dashboard, or in the scenario it claims to help) or 10 ms of start-up.

Each figure is the real ``warroom`` process on a pseudo-terminal against the idle
benchmark's live world (tests/bench/bench_idle.py: 20 services, host, 50 pods, one
repo), with every hook on or with one hook off (``WARROOM_STOCK_TEXTUAL=<hook>``), and
with all of them off. The configurations take turns, round after round, so that load
from elsewhere on the machine falls on all of them alike; a hook's saving is the median
over rounds of (its run off - the same round's run with every hook on), and each round
starts with another configuration.

* start-up: process start -> the dashboard's first frame on the terminal (as in
  ``ui.startup``), ``runs`` rounds, as wall time and as the process's CPU time up to that
  frame. The machine these run on is shared: the wall time mostly measures the wait for a
  core (runs of one configuration range over 2-3x), so a hook's start-up saving is judged
  by the CPU time it saves;
* idle CPU: user + system CPU of the process and its children over ``seconds`` after
  ``warmup``, ``rounds`` rounds, for the hooks that claim idle CPU;
* CPU while entries arrive (``--scenarios entries``, not run by default): the same, with
  another process (this one) appending a note to the incident every ``ENTRY_EVERY_S``;
* CPU while pods crash-loop: the same world with ``CHURN_PODS`` pods, ``CHURN_RATE`` of
  which restart a second (the API stand-in runs in this process), for the hooks that
  claim the cost of a changing table.

    python -m tests.bench.bench_hooks [--seconds N] [--rounds N] [--runs N] [--scenarios ...]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from tui.textual_hooks import ENV, HOOKS

MIN_CPU_PCT = 0.2           # of one core
MIN_STARTUP_MS = 10.0
# The hooks that claim to save idle CPU (the others act on the first frame only).
IDLE_HOOKS = ("compositor", "pacing", "table", "pass_style")
# The hooks that claim to save the cost of a new entry on screen (the timeline's scroll-only
# growth did, and was removed: it saved nothing measurable). The scenario still gives all on / off.
ENTRY_HOOKS: tuple[str, ...] = ()
ENTRY_EVERY_S = 0.5
# The hooks that claim to save the cost of table rows changing, and the world they claim it in.
CHURN_HOOKS = ("table", "compositor", "pass_style")
CHURN_PODS, CHURN_RATE = 2000, 20.0
SCENARIOS = ("startup", "idle", "entries", "pods")
DEFAULT_SCENARIOS = ("startup", "idle", "pods")
ALL_ON, ALL_OFF = "all on", "all off"


def _env(config: str, base: dict[str, str]) -> dict[str, str]:
    if config not in (ALL_ON, ALL_OFF, *HOOKS):
        raise ValueError(f"no Textual hook {config!r}")      # the switch would read it as "all off"
    if config == ALL_ON:
        return {**base, ENV: ""}
    return {**base, ENV: "1" if config == ALL_OFF else config}


def _turn(configs: list[str], i: int) -> list[str]:
    """Round ``i``'s order: each configuration goes first in turn (the first run of a round
    can pay for what the last one of the previous round left behind)."""
    k = i % len(configs)
    return configs[k:] + configs[:k]


def _savings(figures: dict[str, list[float]]) -> dict[str, dict]:
    """Per configuration: median figure, and the median over rounds of (off - all on)."""
    on = figures[ALL_ON]
    out = {}
    for config, values in figures.items():
        diffs = [off - base for off, base in zip(values, on)]
        out[config] = {"median": round(statistics.median(values), 3), "values": [round(v, 3) for v in values],
                       "saved_median": round(statistics.median(diffs), 3) if config != ALL_ON else None}
    return out


def startup(world: Any, runs: int) -> dict:
    from tests.bench.bench_ui import _spawn_until_first_frame

    configs = [ALL_ON, *HOOKS, ALL_OFF]
    figures: dict[str, list[float]] = {c: [] for c in configs}
    cpu: dict[str, list[float]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory(prefix="warroom-bench-hooks-") as tmp:
        marker = Path(tmp) / "first-frame.json"
        args = ["dashboard", "--config", str(world.config_path), "--data-dir", str(world.data_dir)]
        # As ui.startup: bytecode cached, as on an installed copy.
        base = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        for i in range(runs + 1):
            for config in _turn(configs, i):
                r = _spawn_until_first_frame(args, marker, env=_env(config, base))
                if i:       # the first round warms the page cache, .pyc files and the CSS cache
                    figures[config].append(r["s"] * 1000)
                    cpu[config].append(r["cpu_s"] * 1000)
    return {"wall": _savings(figures), "cpu": _savings(cpu)}


def idle(world: Any, seconds: float, warmup: float, rounds: int, hooks: tuple[str, ...] = IDLE_HOOKS,
         entries: bool = False) -> dict:
    from tests.bench.bench_idle import measure

    configs = [ALL_ON, *hooks, ALL_OFF]
    figures: dict[str, list[float]] = {c: [] for c in configs}
    for i in range(rounds):
        for config in _turn(configs, i):
            with _Notes(world.data_dir, ENTRY_EVERY_S if entries else None):
                r = measure(world.command(), seconds=seconds, warmup=warmup, expect="svc-", env=_env(config, {}))
            # (Not a check that stops the bench: with entries arriving, the last 64 KiB of output
            # the PTY keeps is all timeline, and a service name may not be in it.)
            if not r.get("screen_ok"):
                print(f"bench_hooks: {config}: no service name in the last output", file=sys.stderr)
            figures[config].append(r["cpu_pct"])
    return _savings(figures)


class _Churn:
    """Restarts ``rate`` random pods a second in the world's API stand-in while in use."""

    def __init__(self, world: Any, rate: float) -> None:
        self.world, self.rate = world, rate
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="churn", daemon=True)

    def __enter__(self) -> "_Churn":
        self._thread.start()
        return self

    def _run(self) -> None:
        import random

        rng = random.Random(7)
        standin = self.world.standin
        names = standin.pod_names()
        try:
            while not self._stop.wait(1 / self.rate):
                ns, name = rng.choice(names)
                standin.restart_container(ns, name, "app", reason=rng.choice(("Error", "OOMKilled")),
                                          then=rng.choice((None, None, "CrashLoopBackOff")))
                self.restarts += 1
        except BaseException as exc:  # noqa: BLE001 - reported by __exit__: a dead churn is no figure
            self.error = exc

    restarts = 0
    error: BaseException | None = None

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self.error is not None:
            raise RuntimeError(f"the pod churn stopped: {self.error!r}")


def churn(seconds: float, warmup: float, rounds: int) -> dict:
    from tests.bench.bench_idle import LiveWorld, measure

    configs = [ALL_ON, *CHURN_HOOKS, ALL_OFF]
    figures: dict[str, list[float]] = {c: [] for c in configs}
    with LiveWorld(pods=CHURN_PODS) as world:
        for i in range(rounds):
            for config in _turn(configs, i):
                with _Churn(world, CHURN_RATE):
                    r = measure(world.command(), seconds=seconds, warmup=warmup, expect="svc-",
                                env=_env(config, {}))
                figures[config].append(r["cpu_pct"])
    return _savings(figures)


class _Notes:
    """Appends a note to the active incident every ``every`` seconds while in use (None: never)."""

    def __init__(self, data_dir: Path, every: float | None) -> None:
        self.data_dir, self.every = data_dir, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "_Notes":
        if self.every is not None:
            self._thread = threading.Thread(target=self._run, name="notes", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        from tui.incident.model import Kind
        from tui.incident.store import Store

        store = Store(self.data_dir)
        try:
            incident = store.require_active()
            n = 0
            while not self._stop.wait(self.every):
                n += 1
                store.append(incident.id, Kind.NOTE, f"bench note {n}: checking the payments queue", author="bench")
        finally:
            store.close()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def run(seconds: float = 30.0, warmup: float = 5.0, rounds: int = 4, runs: int = 10,
        scenarios: tuple[str, ...] = DEFAULT_SCENARIOS) -> dict:
    from tests.bench.bench_idle import LiveWorld

    start: dict = {"wall": {}, "cpu": {}}
    cpu: dict = {}
    busy: dict = {}
    pods: dict = {}
    with LiveWorld() as world:
        if "startup" in scenarios:
            start = startup(world, runs)
        if "idle" in scenarios:
            cpu = idle(world, seconds, warmup, rounds)
        if "entries" in scenarios:
            busy = idle(world, seconds, warmup, rounds, hooks=ENTRY_HOOKS, entries=True)
    if "pods" in scenarios:
        pods = churn(seconds, warmup, rounds)
    verdicts = {}
    for hook in HOOKS:
        # A hook's CPU saving: the largest of its claims' (each is a median over rounds).
        claims = [(figures[hook]["saved_median"], where) for figures, where in (
            (cpu, "idle"), (busy, f"entry every {ENTRY_EVERY_S:g} s"),
            (pods, f"{CHURN_PODS} pods, {CHURN_RATE:g} restarts/s")) if hook in figures]
        cpu_saved, where = max(claims, key=lambda c: c[0]) if claims else (None, None)
        ms_saved = (start["cpu"].get(hook) or {}).get("saved_median")
        verdicts[hook] = {
            "cpu_saved_pct": cpu_saved,
            "cpu_measured": where,
            "startup_saved_ms": ms_saved,
            "startup_wall_saved_ms": (start["wall"].get(hook) or {}).get("saved_median"),
            "earns_its_place": (cpu_saved is not None and cpu_saved >= MIN_CPU_PCT)
            or (ms_saved is not None and ms_saved >= MIN_STARTUP_MS),
        }
    return {"startup_ms": start, "idle_cpu_pct": cpu, "entries_cpu_pct": busy, "pods_cpu_pct": pods,
            "hooks": verdicts, "churn": f"{CHURN_PODS} pods, {CHURN_RATE:g} restarts/s",
            "entry_every_s": ENTRY_EVERY_S,
            "window_s": seconds, "warmup_s": warmup, "rounds": rounds, "runs": runs,
            "thresholds": {"cpu_pct": MIN_CPU_PCT, "startup_ms": MIN_STARTUP_MS}}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_hooks")
    parser.add_argument("--seconds", type=float, default=30.0, help="idle measuring window (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=4, help="idle rounds (default 4)")
    parser.add_argument("--runs", type=int, default=10, help="start-up rounds (default 10)")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS),
                        help="some of: " + ", ".join(SCENARIOS))
    args = parser.parse_args(argv)
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    print(json.dumps(run(args.seconds, args.warmup, args.rounds, args.runs, scenarios), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
