"""Benchmark: DeploysSource.poll() on a 100k-commit repository. Target: p99 <= 300 ms.

The repository (100,000 linear commits, a lightweight ``deploy-*`` tag every 100)
is built once with ``git fast-import`` and cached under the system temp dir; a
``.complete`` marker guards against a half-built cache. Both modes are timed:
the branch (``git log -n 15``) and the tag pattern (``git for-each-ref``, 1,000 tags).

    python -m tests.bench.bench_deploys [n_commits] [polls]
"""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from checks.deploys import DeploysSource
from checks.specs import RepoSpec
from tests.gitrepos import fast_import_repo

TARGET_MS = 300.0
CACHE_VERSION = 1


def repo_path(n_commits: int) -> Path:
    return Path(tempfile.gettempdir()) / f"warroom-bench-repo-{n_commits}-v{CACHE_VERSION}"


def ensure_repo(n_commits: int) -> tuple[Path, float]:
    """The cached repo and how long building it took now (0.0 when it was cached)."""
    path = repo_path(n_commits)
    marker = path / ".git" / "warroom-bench.complete"
    if marker.exists():
        return path, 0.0
    shutil.rmtree(path, ignore_errors=True)
    t0 = time.perf_counter()
    fast_import_repo(path, n_commits, tag_every=100)
    marker.write_text("ok\n")
    return path, time.perf_counter() - t0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _time_polls(spec: RepoSpec, polls: int) -> dict:
    source = DeploysSource([spec])
    t0 = time.perf_counter()
    first = source.poll()          # includes the lazy GitPython import and opening the repo
    cold_ms = (time.perf_counter() - t0) * 1000
    times = []
    snap = first
    for _ in range(polls):
        t0 = time.perf_counter()
        snap = source.poll()
        times.append((time.perf_counter() - t0) * 1000)
    source.close()
    repo = snap.repos[0]
    return {
        "cold_ms": round(cold_ms, 1),
        "median_ms": round(statistics.median(times), 1),
        "p99_ms": round(_percentile(times, 0.99), 1),
        "deploys": len(repo.deploys),
        "error": repo.error,
    }


def run(n_commits: int = 100_000, polls: int = 50) -> dict:
    path, built_s = ensure_repo(n_commits)
    branch = _time_polls(RepoSpec(str(path), branch="main"), polls)
    tags = _time_polls(RepoSpec(str(path), tags="deploy-*"), polls)
    return {
        "n_commits": n_commits,
        "polls": polls,
        "repo": str(path),
        "build_s": round(built_s, 1),
        "branch": branch,
        "tags": tags,
        "target_ms": TARGET_MS,
        "median_ms": branch["median_ms"],
        "p99_ms": max(branch["p99_ms"], tags["p99_ms"]),
        "ok": max(branch["p99_ms"], tags["p99_ms"]) <= TARGET_MS and not branch["error"] and not tags["error"],
        "cpus": os.cpu_count(),
    }


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv else 100_000
    polls = int(argv[1]) if len(argv) > 1 else 50
    r = run(n, polls)
    built = f" (built in {r['build_s']:.1f} s)" if r["build_s"] else " (cached)"
    print(f"deploys: {r['n_commits']} commits{built}, {r['polls']} polls each, target p99 <= {TARGET_MS:.0f} ms")
    for mode in ("branch", "tags"):
        m = r[mode]
        print(f"  {mode:6}: median {m['median_ms']:.1f} ms, p99 {m['p99_ms']:.1f} ms, "
              f"first poll {m['cold_ms']:.1f} ms, {m['deploys']} deploys"
              + (f", error: {m['error']}" if m["error"] else ""))
    print("  OK" if r["ok"] else "  OVER TARGET")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
