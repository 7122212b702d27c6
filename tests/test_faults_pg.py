"""Faults on the shared store (issue 16): each ends with 0 acknowledged changes lost and 0
duplicated, checked by reading the server. Real PostgreSQL, real processes; the network is
black-holed by a TCP proxy in the test (tests/tcp_proxy.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter

import psycopg
import pytest

from tests.tcp_proxy import TcpProxy
from tui.app import WarroomApp
from tui.incident.model import Entry, Kind, Severity
from tui.incident.outbox import Queued
from tui.incident.store import StoreError
from tui.incident.store_pg import PgStore
from widgets.incident_header import IncidentHeader
from widgets.timeline import TimelineView

from .conftest import fixed_clock

pytestmark = pytest.mark.slow


def server_texts(url: str) -> Counter:
    with psycopg.connect(url) as raw:
        return Counter(r[0] for r in raw.execute("SELECT text FROM entries"))


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_server_crash_restart_during_writes_loses_and_duplicates_nothing(pg_server, pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "setup") as setup:
        inc = setup.declare("x", Severity.SEV1)
    results: dict[str, list] = {}
    errors: list[str] = []
    n = 60

    def dashboard_writer(name: str) -> None:
        got = results.setdefault(name, [])
        with PgStore(pg_url, tmp_path / name) as store:  # each "dashboard" its own data dir and outbox
            for i in range(n):
                text = f"{name} {i}"
                try:
                    got.append((text, store.append(inc.id, Kind.NOTE, text, author=name)))
                except StoreError as exc:  # said on screen, nothing saved: not acknowledged
                    errors.append(f"{text}: {exc}")
                time.sleep(0.005)
            assert wait_for(lambda: store.queued() == 0, 30), f"{name}: {store.queued()} still queued"

    cli_env = {**os.environ, "WARROOM_DATABASE_URL": pg_url, "WARROOM_DATA_DIR": str(tmp_path / "cli")}

    def cli_writer() -> None:
        got = results.setdefault("cli", [])
        for i in range(15):
            text = f"cli {i}"
            proc = subprocess.run([sys.executable, "-m", "tui.cli", "log", text], env=cli_env,
                                  capture_output=True, text=True, timeout=60)
            got.append((text, proc))

    threads = [threading.Thread(target=dashboard_writer, args=(name,)) for name in ("ic", "scribe")]
    threads.append(threading.Thread(target=cli_writer))
    for t in threads:
        t.start()
    time.sleep(0.3)  # writes are under way
    pg_server.restart_immediate()
    for t in threads:
        t.join(timeout=120)
    # The next warroom on the CLI's machine sends what its `warroom log` runs queued.
    subprocess.run([sys.executable, "-m", "tui.cli", "status"], env=cli_env, capture_output=True, timeout=60)

    on_server = server_texts(pg_url)
    acknowledged = [text for name in ("ic", "scribe") for text, r in results[name] if isinstance(r, (Entry, Queued))]
    acknowledged += [text for text, proc in results["cli"] if proc.returncode == 0]
    # A `warroom log` caught mid-restart (refused, cut, "the database system is starting up")
    # queues its entry and says so: it never refuses, so every one of them is acknowledged.
    refused = [(p.returncode, p.stderr) for _, p in results["cli"] if p.returncode != 0]
    assert refused == []
    assert len(acknowledged) == 2 * n + 15 - len(errors)
    missing = [t for t in acknowledged if on_server[t] == 0]
    duplicated = [t for t, count in on_server.items() if count > 1]
    assert missing == [] and duplicated == []
    # The CLI's answers were honest: "logged" or "queued", never a lost write.
    assert all(("logged" in p.stdout or "queued" in p.stdout) for _, p in results["cli"] if p.returncode == 0)


async def test_a_black_holed_network_is_noticed_queued_and_flushed_once(pg_url, pg_server, tmp_path):
    with TcpProxy(pg_server.port) as proxy, PgStore(proxy.url(pg_url), tmp_path) as store:
        inc = store.declare("x", Severity.SEV2)
        app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
        async with app.run_test(size=(120, 40)) as pilot:
            header = app.screen.query_one(IncidentHeader)
            proxy.blackhole()  # packets dropped, no RST: only our ping's deadline can tell
            cut = time.monotonic()
            while not header.connection[0].startswith("RECONNECTING"):
                assert time.monotonic() - cut < 30, "a black hole (no RST) must be noticed"
                await pilot.pause(0.05)
            await pilot.press("n", *"typed into the void", "enter")
            await pilot.pause()
            assert store.queued() == 1 and "QUEUED" in header.render().plain
            proxy.up()
            view = app.screen.query_one(TimelineView)
            back = time.monotonic()
            while [(e.text, bool(e.meta.get("queued"))) for e in view.entries
                   if e.text == "typed into the void"] != [("typed into the void", False)]:  # the real one, once
                assert time.monotonic() - back < 30
                await pilot.pause(0.05)
            assert header.connection == ("LIVE", "ok")
    assert server_texts(pg_url)["typed into the void"] == 1


def test_killing_the_listening_connection_loses_nothing(pg_server, pg_url, tmp_path):
    # Each write lands while the watcher's listening connection is dead, so its notification
    # is lost; the watcher must still hear of it: after reconnecting it signals a catch-up.
    with PgStore(pg_url, tmp_path / "a") as watcher, PgStore(pg_url, tmp_path / "b") as writer:
        inc = writer.declare("x", Severity.SEV2)
        assert wait_for(watcher.changed, 20)
        last = watcher.last_seq()
        seen: list[str] = []
        for i in range(3):
            pid = watcher.listener_pid
            pg_server.admin(f"SELECT pg_terminate_backend({pid})")
            writer.append(inc.id, Kind.NOTE, f"n {i}")
            assert wait_for(watcher.changed, 30), "no catch-up signalled after the reconnect"
            assert wait_for(lambda pid=pid: watcher.state == "live" and watcher.listener_pid != pid, 30)
            new = watcher.entries(inc.id, after_seq=last)
            seen += [e.text for e in new]
            last = new[-1].seq if new else last
    assert seen == ["n 0", "n 1", "n 2"]
