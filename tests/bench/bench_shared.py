"""Benchmark: the shared PostgreSQL store (issue 16), on a throwaway local server.

1. Entry typed on one dashboard -> drawn on another (two apps under Pilot, one server):
   from Enter sent through the first app's driver to the entry being in the second
   app's timeline (before its next paint); p50 / p99 over ``typed`` entries; target
   p99 <= 100 ms on loopback.
2. ``writers`` writers at 2 entries/s each for ``seconds`` s while a dashboard watches:
   nothing lost or duplicated (counted on the server), and the watcher's own key ->
   drawn p99 (target <= 50 ms) while the others write.
3. Catch-up: a dashboard's store offline (TCP proxy refusing) for ``offline_s`` s while
   ``catchup`` entries are written; time from the network's return to having them all
   (target <= 1 s; the listener retries every <= 1 s, so that is included).
4. Open a ``big``-entry incident from PostgreSQL: PgStore(url).entries() + fold
   (target <= 1 s).
5. Idle CPU of the dashboard on PostgreSQL vs on SQLite, same live world, same run
   (bench_idle's PTY measurement; target: within 0.2 percentage points).

    python -m tests.bench --only shared
"""
from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.pg_server import start_server, stop_server
from tui.incident.model import Kind, Severity
from tui.incident.store import current_revisions
from tui.incident.store_pg import PgStore

TARGET_TYPED_P99_MS = 100.0
TARGET_WATCHER_P99_MS = 50.0
TARGET_CATCHUP_S = 1.0
TARGET_OPEN_S = 1.0
TARGET_IDLE_PP = 0.2


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def _ms(values: list[float]) -> dict:
    return {"p50_ms": round(_pct(values, 0.5) * 1000, 1), "p99_ms": round(_pct(values, 0.99) * 1000, 1),
            "n": len(values)}


def _texts(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as raw:
        return [r[0] for r in raw.execute("SELECT text FROM entries")]


def _send_enter(app) -> float:
    """Enter through the app's driver, as a terminal would send it (Pilot.press also waits for
    the process to go idle, which would be billed to the latency); returns when it was sent."""
    from textual import events

    event = events.Key("enter", "\r")
    event.set_sender(app)
    t0 = time.perf_counter()
    app._driver.send_message(event)
    return t0


async def _wait_drawn(app, text: str, timeout: float = 10.0) -> float:
    from widgets.timeline import TimelineView

    view = app.screen.query_one(TimelineView)
    deadline = time.perf_counter() + timeout
    while not any(e.text == text and not e.meta.get("queued") for e in view.entries[-500:]):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{text!r} never drawn")
        await asyncio.sleep(0.0005)
    return time.perf_counter()


async def _typed(url: str, tmp: Path, typed: int) -> dict:
    from tui.app import WarroomApp

    with PgStore(url, tmp / "a") as a, PgStore(url, tmp / "b") as b:
        inc = a.declare("bench: typed elsewhere", Severity.SEV2, author="bench")
        scribe, commander = WarroomApp(a, inc.id, author="scribe"), WarroomApp(b, inc.id, author="ic")
        times = []
        async with scribe.run_test(size=(120, 40)) as p1, commander.run_test(size=(120, 40)):
            for i in range(typed):
                text = f"typed {i}"
                await p1.press("n", *text)
                t0 = _send_enter(scribe)
                times.append(await _wait_drawn(commander, text) - t0)
    return _ms(times)


def _writer_process(url: str, writers: int, seconds: float, out: str) -> None:
    """The writers, in a process of their own (they are other people's machines): each thread
    appends 2 entries/s on its own connection; the texts acknowledged go to ``out`` (JSON)."""
    import json

    stop = threading.Event()
    made: list[str] = []
    lock = threading.Lock()
    tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-writers-"))

    def writer(n: int) -> None:
        with PgStore(url, tmp / f"w{n}") as store:
            inc = store.active_incident()
            i = 0
            next_at = time.monotonic() + n * 0.5 / writers  # spread over the half second
            stop.wait(max(0.0, next_at - time.monotonic()))
            while not stop.is_set():
                text = f"w{n} {i}"
                store.append(inc.id, Kind.NOTE, text, author=f"w{n}")
                with lock:
                    made.append(text)
                i += 1
                next_at += 0.5
                stop.wait(max(0.0, next_at - time.monotonic()))
            while store.queued():  # anything queued is sent before we report it as written
                time.sleep(0.1)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    Path(out).write_text(json.dumps(made))


async def _writers(url: str, tmp: Path, writers: int, seconds: float, presses: int) -> dict:
    import json
    import subprocess

    from tui.app import WarroomApp
    from widgets.timeline import TimelineView

    with PgStore(url, tmp / "watch") as watch:
        inc = watch.declare("bench: 50 writers", Severity.SEV1, author="bench")
        out = tmp / "written.json"
        proc = subprocess.Popen([sys.executable, "-m", "tests.bench.bench_shared", "--writers", url, str(writers),
                                 str(seconds), str(out)])
        app = WarroomApp(watch, inc.id, author="ic")
        keys, timeouts = [], 0
        async with app.run_test(size=(120, 40)) as pilot:
            await asyncio.sleep(1.0)  # the writers are connected and writing
            start = time.monotonic()
            interval = (seconds - 2) / max(1, presses)
            for i in range(presses):
                text = f"ic {i}"
                await pilot.press("n", *text)
                t0 = _send_enter(app)
                try:
                    keys.append(await _wait_drawn(app, text, timeout=10) - t0)
                except TimeoutError:
                    timeouts += 1
                await asyncio.sleep(max(0.0, start + (i + 1) * interval - time.monotonic()))
            while proc.poll() is None:
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            shown = {e.text for e in app.screen.query_one(TimelineView).entries}
    made = json.loads(out.read_text())
    on_server = _texts(url)
    server_set = set(on_server)
    return {
        "writers": writers, "seconds": seconds, "written": len(made),
        "lost": sum(1 for t in made if t not in server_set),
        "duplicated": len(on_server) - len(server_set),
        "not_drawn": sum(1 for t in made if t not in shown),
        "watcher_key": {**_ms(keys), "timeouts": timeouts},
    }


def _catchup(pg, url: str, tmp: Path, offline_s: float, entries: int) -> dict:
    from tests.tcp_proxy import TcpProxy

    with TcpProxy(pg.port) as proxy, PgStore(proxy.url(url), tmp / "c") as watcher, PgStore(url, tmp / "d") as w:
        inc = w.declare("bench: catch-up", Severity.SEV2)
        while watcher.changed():
            pass
        last = watcher.last_seq()
        proxy.refuse()
        deadline = time.monotonic() + offline_s
        for i in range(entries):
            w.append(inc.id, Kind.NOTE, f"meanwhile {i}")
        time.sleep(max(0.0, deadline - time.monotonic()))
        t0 = time.perf_counter()
        proxy.up()
        while not watcher.changed():
            time.sleep(0.001)
        t_signal = time.perf_counter()
        new = watcher.entries(inc.id, after_seq=last)
        t1 = time.perf_counter()
    return {"offline_s": offline_s, "entries": entries, "got": len(new),
            "back_to_current_s": round(t1 - t0, 3), "reconnect_s": round(t_signal - t0, 3),
            "read_s": round(t1 - t_signal, 3)}


def _open_big(url: str, tmp: Path, big: int) -> dict:
    import psycopg

    with PgStore(url, tmp / "big") as store:
        inc = store.declare("bench: big", Severity.SEV2)
    with psycopg.connect(url) as raw, raw.cursor() as cur:
        start = raw.execute("SELECT nextval('entries_seq')").fetchone()[0] + 1
        with cur.copy("COPY entries (seq, entry_id, incident_id, rev, ts_ms, kind, author, text, source, "
                      "recorded_ms, meta) FROM STDIN") as copy:
            t = 1_790_000_000_000
            for i in range(big):
                seq = start + i
                copy.write_row((seq, seq, inc.id, 1, t + i, "note", "bench", f"bulk note {i}: p99 back", "bench",
                                t + i, None))
        raw.execute("SELECT setval('entries_seq', %s)", (start + big,))
    opens = []
    for _ in range(3):
        t0 = time.perf_counter()
        with PgStore(url, tmp / "big") as store:
            timeline = current_revisions(store.entries(inc.id))
        opens.append(time.perf_counter() - t0)
    return {"entries": len(timeline), "open_s": round(sorted(opens)[1], 3)}


def _idle(url: str, seconds: float, warmup: float) -> dict:
    from tests.bench.bench_idle import LiveWorld, measure

    with LiveWorld() as world:
        sqlite = measure(world.command(), seconds=seconds, warmup=warmup, expect="svc-")
        with PgStore(url, world.data_dir) as store:
            store.declare("bench: idle dashboard", Severity.SEV2, author="bench")
        env = {**os.environ, "WARROOM_DATABASE_URL": url}
        pg = measure(world.command(), seconds=seconds, warmup=warmup, expect="svc-", env=env)
    return {"sqlite_cpu_pct": sqlite["cpu_pct"], "pg_cpu_pct": pg["cpu_pct"],
            "diff_pp": round(pg["cpu_pct"] - sqlite["cpu_pct"], 2), "pg_screen_ok": pg.get("screen_ok")}


def run(typed: int = 100, writers: int = 50, seconds: float = 60.0, presses: int = 100, offline_s: float = 60.0,
        catchup: int = 1000, big: int = 100_000, idle_s: float = 30.0, warmup: float = 8.0) -> dict:
    pg = start_server()
    out: dict = {"targets": {"typed_p99_ms": TARGET_TYPED_P99_MS, "watcher_p99_ms": TARGET_WATCHER_P99_MS,
                             "catchup_s": TARGET_CATCHUP_S, "open_s": TARGET_OPEN_S, "idle_pp": TARGET_IDLE_PP}}
    try:
        with tempfile.TemporaryDirectory(prefix="warroom-bench-shared-") as tmp:
            root = Path(tmp)
            out["typed"] = asyncio.run(_typed(pg.fresh_database(), root, typed))
            out["writers"] = asyncio.run(_writers(pg.fresh_database(), root, writers, seconds, presses))
            out["catchup"] = _catchup(pg, pg.fresh_database(), root, offline_s, catchup)
            out["open"] = _open_big(pg.fresh_database(), root, big)
            if idle_s > 0:
                out["idle"] = _idle(pg.fresh_database(), idle_s, warmup)
    finally:
        stop_server(pg)
    return out


if __name__ == "__main__":
    import json

    if sys.argv[1:2] == ["--writers"]:
        _writer_process(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
        sys.exit(0)
    quick = "--quick" in sys.argv
    print(json.dumps(run(typed=20, writers=10, seconds=5, presses=10, offline_s=3, catchup=200, big=20_000,
                         idle_s=0) if quick else run(), indent=2))
