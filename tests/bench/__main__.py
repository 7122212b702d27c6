"""`make bench`: every benchmark, one table, and the same figures in results.json.

Each bench runs in its own Python process (``--child``), so one that crashes, hangs
or leaves threads behind cannot spoil the next one's figures; a bench that fails
is reported as an ERROR row and the rest go on. A bench past its time limit gets
SIGTERM (it cleans up its servers and apps), then SIGKILL.

    python -m tests.bench                   # everything (~5 min on 2 cores)
    python -m tests.bench --quick           # smaller sizes (~2 min)
    python -m tests.bench --only ui,idle    # a selection; "ui" means every ui.* bench
    python -m tests.bench --seconds 60      # idle measuring window
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .report import ERROR, FAIL, Row, clean, format_table, rows_as_json, rows_for, write_json

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    name: str
    module: str
    function: str = "run"
    full: dict = field(default_factory=dict)
    quick: dict = field(default_factory=dict)
    timeout: float = 300.0          # seconds, full size


BENCHES = [
    Bench("store", "tests.bench.bench_store", quick={"appends": 300, "big": 20_000, "opens": 1}),
    Bench("health", "tests.bench.bench_health", quick={"n": 200}, timeout=180),
    # The 100k-commit repository is built once (~1 min) and cached in the temp dir.
    Bench("deploys", "tests.bench.bench_deploys", quick={"n_commits": 10_000, "polls": 20}, timeout=600),
    Bench("host", "tests.bench.bench_host", quick={"polls": 10}, timeout=60),
    Bench("pods", "tests.bench.bench_pods", quick={"pods": 1000, "duration": 2.0}),
    Bench("run", "tests.bench.bench_run", quick={"runs": 10}, timeout=120),
    Bench("ui.log", "tests.bench.bench_ui", "log_pane", quick={"entries": 10_000, "presses": 72, "appends": 10}),
    Bench("ui.health", "tests.bench.bench_ui", "health_round", quick={"n": 300, "rounds": 2, "presses": 60},
          timeout=400),
    Bench("ui.pods", "tests.bench.bench_ui", "pods_ui", quick={"pods": 1000, "seconds": 4.0}),
    Bench("ui.startup", "tests.bench.bench_ui", "startup", quick={"runs": 2}),
    # The shared PostgreSQL store (issue 16): its own throwaway server; 60 s of 50 writers, 60 s offline, idle x2.
    Bench("shared", "tests.bench.bench_shared",
          quick={"typed": 30, "writers": 10, "seconds": 10.0, "presses": 20, "offline_s": 5.0, "catchup": 300,
                 "big": 20_000, "idle_s": 10.0, "warmup": 5.0}, timeout=600),
    Bench("signals", "tests.bench.bench_signals", quick={"presses": 60, "window_s": 15.0, "idle_s": 8.0},
          timeout=240),
    # Following a log growing by 5,000 lines/s: the pod log viewer (stand-in, real client) and a [[logs]] file.
    Bench("logs", "tests.bench.bench_logs", quick={"seconds": 6.0}, timeout=240),
    Bench("idle", "tests.bench.bench_idle", full={"seconds": 60.0, "warmup": 10.0},
          quick={"seconds": 10.0, "warmup": 5.0}, timeout=600),
    # Each Textual hook against stock Textual: 11 CPU configurations x 4 rounds x 35 s, and
    # 6 start-up configurations x 11 rounds (~30 min).
    Bench("hooks", "tests.bench.bench_hooks", quick={"seconds": 8.0, "warmup": 4.0, "rounds": 2, "runs": 3},
          timeout=2400),
]
BY_NAME = {b.name: b for b in BENCHES}


def select(only: str | None) -> list[Bench]:
    if not only:
        return list(BENCHES)
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    picked = [b for b in BENCHES if any(b.name == w or b.name.split(".")[0] == w for w in wanted)]
    unknown = [w for w in wanted if not any(b.name == w or b.name.split(".")[0] == w for b in BENCHES)]
    if unknown:
        names = ", ".join(sorted({b.name for b in BENCHES} | {b.name.split(".")[0] for b in BENCHES}))
        raise SystemExit(f"--only: unknown bench {', '.join(unknown)} — choose from {names}")
    return picked


def kwargs_for(bench: Bench, args: argparse.Namespace) -> dict:
    kwargs = dict(bench.quick if args.quick else bench.full)
    if bench.name == "idle" and args.seconds is not None:
        kwargs["seconds"] = args.seconds
    return kwargs


# --------------------------------------------------------------------------- the child


def child(args: argparse.Namespace) -> int:
    def terminate(signum, frame):  # noqa: ANN001 - signal handler
        # SIGTERM from the parent's time limit: unwind so servers and PTY apps are shut down.
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    bench = BY_NAME[args.child]
    fn = getattr(importlib.import_module(bench.module), bench.function)
    t0 = time.perf_counter()
    try:
        result = fn(**kwargs_for(bench, args))
    except BaseException as exc:  # noqa: BLE001 - reported as a row, never a traceback wall
        import traceback

        traceback.print_exc()
        result = {"error": f"{type(exc).__name__}: {exc}".strip()}
    result = dict(result) if isinstance(result, dict) else {"value": result}
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    Path(args.out).write_text(json.dumps(clean(result)), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------- the parent


def run_one(bench: Bench, args: argparse.Namespace) -> dict:
    timeout = bench.timeout * (0.6 if args.quick else 1.0)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-run-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "tests.bench", "--child", bench.name, "--out", str(out)]
        if args.quick:
            cmd.append("--quick")
        if args.seconds is not None:
            cmd += ["--seconds", str(args.seconds)]
        # Its own process group: on a time limit the whole tree (servers, apps) gets the signal.
        proc = subprocess.Popen(cmd, cwd=str(ROOT), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return {"error": f"timed out after {timeout:.0f} s"}
        except KeyboardInterrupt:
            _stop(proc)
            raise
        if not out.exists():
            return {"error": f"exited with code {proc.returncode} without a result"}
        return json.loads(out.read_text(encoding="utf-8"))


def _stop(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _machine() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=str(ROOT), capture_output=True,
                            text=True).stdout.strip() or None
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "textual": ver("textual"), "kubernetes": ver("kubernetes"), "httpx": ver("httpx"), "commit": commit}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME[,NAME]", help="benches to run: " + ", ".join(b.name for b in BENCHES))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter windows")
    parser.add_argument("--seconds", type=float, help="idle: measuring window in seconds (default 60)")
    parser.add_argument("--json", metavar="FILE", help="where to write the results "
                        "(default tests/bench/results.json, results-quick.json with --quick)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    benches = select(args.only)
    json_path = Path(args.json) if args.json else HERE / ("results-quick.json" if args.quick else "results.json")
    started = datetime.now(timezone.utc)
    load_before = os.getloadavg()
    results: dict[str, dict] = {}
    rows: list[Row] = []
    t_all = time.perf_counter()
    try:
        for i, bench in enumerate(benches, 1):
            print(f"[{i}/{len(benches)}] {bench.name} …", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            result = run_one(bench, args)
            results[bench.name] = result
            rows += rows_for(bench.name, result)
            why = f" — {result['error']}" if result.get("error") else ""
            print(f"[{i}/{len(benches)}] {bench.name}: {time.perf_counter() - t0:.0f} s{why}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("interrupted: reporting what finished", file=sys.stderr)
    wall = time.perf_counter() - t_all
    load_after = os.getloadavg()

    machine = _machine()
    print()
    print(f"warroom benchmarks — {started:%Y-%m-%d %H:%M} UTC, {machine['cpus']} CPUs, Python {machine['python']}, "
          f"textual {machine['textual']}, commit {machine['commit']}; load {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after; {wall / 60:.1f} min{' (quick)' if args.quick else ''}")
    print()
    print(format_table(rows))
    write_json(json_path, {
        "started": started.isoformat(timespec="seconds"),
        "wall_s": round(wall, 1),
        "quick": args.quick,
        "machine": machine,
        "loadavg": {"before": list(load_before), "after": list(load_after)},
        "rows": rows_as_json(rows),
        "results": results,
    })
    print(f"\nwrote {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path}")
    return 1 if any(r.status in (FAIL, ERROR) for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
