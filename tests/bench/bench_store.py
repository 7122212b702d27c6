"""Benchmark: the incident store's durable append and opening a long incident.

1. Durable append latency (median / p99 over ``appends`` calls; target p99 <= 5 ms),
   next to the disk's own fsync time (100 bytes + ``os.fsync`` on a file in the
   same directory). Each append is followed by one fsync probe, so both series
   see the same disk and the same CPU contention; the ratio append_p99 /
   fsync_p99 (target <= 2) says how much the store adds on top of the disk.
2. Opening an incident of ``big`` entries: ``Store(dir).timeline(id)`` on a
   prebuilt store (median of ``opens`` cold opens; target <= 1 s). The store is
   built in one transaction with executemany, 1% of the entries edited once.

    python -m tests.bench.bench_store [appends] [big]
"""
from __future__ import annotations

import gc
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui.incident.model import Kind, Severity, to_ms, utcnow
from tui.incident.store import DB_NAME, Store, current_revisions

TARGET_APPEND_P99_MS = 5.0
TARGET_FSYNC_RATIO = 2.0
TARGET_OPEN_S = 1.0

_KINDS = [k.value for k in Kind if k is not Kind.SYSTEM]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def measure_appends(data_dir: Path, appends: int) -> dict:
    appends_s: list[float] = []
    fsyncs_s: list[float] = []
    with Store(data_dir) as store:
        incident = store.declare("bench: append latency", Severity.SEV2, author="bench")
        probe = os.open(data_dir / "fsync-probe", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            payload = b"x" * 100
            for i in range(appends):
                t0 = time.perf_counter()
                store.append(incident.id, Kind.NOTE, f"bench note {i}: payments p99 back under 300 ms",
                             author="bench", source="bench")
                appends_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                os.write(probe, payload)
                os.fsync(probe)
                fsyncs_s.append(time.perf_counter() - t0)
        finally:
            os.close(probe)
        stored = len(store.entries(incident.id)) - 1   # minus the "declared" entry
    append_p99, fsync_p99 = _p99(appends_s), _p99(fsyncs_s)
    return {
        "appends": appends,
        "stored": stored,
        "append_median_ms": _ms(statistics.median(appends_s)),
        "append_p99_ms": _ms(append_p99),
        "append_max_ms": _ms(max(appends_s)),
        "fsync_median_ms": _ms(statistics.median(fsyncs_s)),
        "fsync_p99_ms": _ms(fsync_p99),
        "append_fsync_p99_ratio": round(append_p99 / fsync_p99, 2) if fsync_p99 else None,
    }


def build_big_store(data_dir: Path, entries: int, *, edited_every: int = 100) -> tuple[int, int]:
    """A store holding one incident of ``entries`` entries (plus the declared entry),
    every ``edited_every``-th one edited once. Returns (incident id, timeline length)."""
    with Store(data_dir) as store:
        incident = store.declare("bench: a very long incident", Severity.SEV1, author="bench")
        first_seq = store.last_seq() + 1
    start = to_ms(utcnow()) - entries * 1000
    meta = json.dumps({"event": "bench"})

    def rows():
        seq = first_seq
        for i in range(entries):
            ts = start + i * 1000
            kind = _KINDS[i % len(_KINDS)]
            text = f"entry {i}: checked payments-db replica lag, {i % 97} ms"
            yield (seq, incident.id, seq, 1, ts, kind, f"user{i % 7}", text, "bench", ts, meta if i % 10 == 0 else None)
            seq += 1
        for i in range(0, entries, edited_every):
            # A later revision whose time moved back a minute: the fold must pick it.
            entry_id = first_seq + i
            ts = start + i * 1000 - 60_000
            yield (seq, incident.id, entry_id, 2, ts, "finding", "bench", f"entry {i} (edited)", "bench",
                   start + entries * 1000, json.dumps({"edited_by": "bench"}))
            seq += 1

    conn = sqlite3.connect(data_dir / DB_NAME, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO entries (seq, incident_id, entry_id, rev, ts_ms, kind, author, text, source, recorded_ms, meta) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows(),
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return incident.id, entries + 1


def measure_open(data_dir: Path, incident_id: int, expected: int, opens: int) -> dict:
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(opens):
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        with Store(data_dir) as store:
            timeline = store.timeline(incident_id)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        if len(timeline) != expected:
            raise AssertionError(f"timeline has {len(timeline)} entries, expected {expected}")
        del timeline
    # What the dashboard does on open: every revision (to remember the last seq), then the fold.
    gc.collect()
    w0 = time.perf_counter()
    with Store(data_dir) as store:
        folded = current_revisions(store.entries(incident_id))
    dashboard = time.perf_counter() - w0
    assert len(folded) == expected
    return {
        "entries": expected,
        "open_timeline_s": round(statistics.median(walls), 3),
        "open_timeline_min_s": round(min(walls), 3),
        "open_timeline_cpu_s": round(statistics.median(cpus), 3),
        "open_dashboard_s": round(dashboard, 3),
    }


def run(appends: int = 2000, big: int = 100_000, *, opens: int = 3, data_dir: str | Path | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="warroom-bench-", dir=data_dir) as tmp:
        result = measure_appends(Path(tmp) / "appends", appends)
        w0 = time.perf_counter()
        incident_id, expected = build_big_store(Path(tmp) / "big", big)
        result["build_s"] = round(time.perf_counter() - w0, 3)
        result.update(measure_open(Path(tmp) / "big", incident_id, expected, opens))
    result["ok"] = (
        result["stored"] == appends
        and result["append_p99_ms"] <= TARGET_APPEND_P99_MS
        and (result["append_fsync_p99_ratio"] or 0) <= TARGET_FSYNC_RATIO
        and result["open_timeline_s"] <= TARGET_OPEN_S
    )
    return result


def main(argv: list[str]) -> int:
    appends = int(argv[0]) if argv else 2000
    big = int(argv[1]) if len(argv) > 1 else 100_000
    r = run(appends, big)
    print(
        f"store append: {r['appends']} durable appends, median {r['append_median_ms']:.3f} ms, "
        f"p99 {r['append_p99_ms']:.3f} ms (target <= {TARGET_APPEND_P99_MS} ms), max {r['append_max_ms']:.3f} ms"
    )
    print(
        f"disk fsync (100 B, same dir, interleaved): median {r['fsync_median_ms']:.3f} ms, p99 {r['fsync_p99_ms']:.3f} ms;"
        f" append/fsync p99 ratio {r['append_fsync_p99_ratio']} (target <= {TARGET_FSYNC_RATIO})"
    )
    print(
        f"store open: Store(dir).timeline() over {r['entries']} entries: median {r['open_timeline_s']:.3f} s "
        f"(min {r['open_timeline_min_s']:.3f} s, CPU {r['open_timeline_cpu_s']:.3f} s; target <= {TARGET_OPEN_S} s); "
        f"entries()+fold {r['open_dashboard_s']:.3f} s; built in {r['build_s']:.2f} s"
    )
    print("OK" if r["ok"] else "MISSED A TARGET")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
