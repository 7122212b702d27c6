"""Benchmark: what `warroom run -- true` adds to the command's own time (target: <= 150 ms).

Both are real processes started the same way: `true` alone, then the installed
`warroom` console script running it (Python start-up, config, store open, the
"running" entry and its revision, each committed with fsync, and the copying).
The overhead is the difference of the medians; the p99 of warroom's runs is
shown against the same baseline, and warroom's CPU time (user + system) beside
it: on a busy machine the wall time is mostly waiting for a core.

    python -m tests.bench.bench_run [runs]
"""
from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 150.0
ROOT = Path(__file__).resolve().parents[2]


def _warroom() -> list[str]:
    script = Path(sys.executable).with_name("warroom")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


def _times(cmd: list[str], runs: int, env: dict, cpu: list[float] | None = None) -> list[float]:
    """Wall times (ms); with ``cpu``, also each run's CPU time (user + system, ms) appended to it."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if cpu is not None:
            cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd} exited {done.returncode}: {done.stderr.decode(errors='replace')[-300:]}")
    return times


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run(runs: int = 30) -> dict:
    tmp = tempfile.mkdtemp(prefix="warroom-bench-run-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WARROOM_")}
        env.update(WARROOM_DATA_DIR=os.path.join(tmp, "data"), WARROOM_AUTHOR="bench",
                   XDG_CONFIG_HOME=os.path.join(tmp, "xdg"), PYTHONPATH=str(ROOT),
                   # As installed: bytecode compiled once (the warm-up runs write it here), not
                   # recompiled from source on every start as under PYTHONDONTWRITEBYTECODE.
                   PYTHONPYCACHEPREFIX=os.path.join(tmp, "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        warroom = _warroom()
        subprocess.run([*warroom, "declare", "--title", "bench", "--sev", "3"], env=env, check=True,
                       stdout=subprocess.DEVNULL, cwd=tmp)
        true = shutil.which("true") or "/bin/true"
        _times([true], 3, env)                      # warm the page cache for both
        _times([*warroom, "run", "--", true], 3, env)
        alone = _times([true], runs, env)
        cpu: list[float] = []
        wrapped = _times([*warroom, "run", "--", true], runs, env, cpu)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    overhead = statistics.median(wrapped) - statistics.median(alone)
    return {
        "runs": runs,
        "true_median_ms": round(statistics.median(alone), 2),
        "run_median_ms": round(statistics.median(wrapped), 2),
        "run_p99_ms": round(_p99(wrapped), 2),
        "overhead_median_ms": round(overhead, 2),
        "overhead_p99_ms": round(_p99(wrapped) - statistics.median(alone), 2),
        # CPU time shows what the wall time would be on an idle machine (the bench box rarely is).
        "run_cpu_median_ms": round(statistics.median(cpu), 2),
        "target_ms": TARGET_MS,
        "ok": overhead <= TARGET_MS,
    }


def main(argv: list[str]) -> int:
    r = run(int(argv[0]) if argv else 30)
    print(f"run: `true` {r['true_median_ms']:.1f} ms, `warroom run -- true` {r['run_median_ms']:.1f} ms: "
          f"adds {r['overhead_median_ms']:.1f} ms (p99 {r['overhead_p99_ms']:.1f} ms; target <= {TARGET_MS:.0f} ms)")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
