"""StoreSync on the shared PostgreSQL store under others' writes (issue 16's 50-writer target):
what a notification of others' entries costs the dashboard. Real PostgreSQL, real listening
thread; the view records what it is told (StoreView is the controller's whole interface)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tui import store_sync
from tui.incident.model import Kind, Severity
from tui.incident.store_pg import PgStore
from tui.session import Session
from tui.store_sync import StoreSync

pytestmark = pytest.mark.slow


class RecordingView:
    def __init__(self) -> None:
        self.entries: list = []
        self.batches: list[list[str]] = []   # the texts of each entries_changed
        self.incident_reads = 0
        self.ticks = 0

    def entries_loaded(self, entries) -> None:
        self.entries = list(entries)

    def entries_changed(self, entries) -> None:
        self.entries.extend(entries)
        self.batches.append([e.text for e in entries])

    def entries_removed(self, entry_ids) -> None:
        pass

    def incident_read(self) -> None:
        self.incident_reads += 1

    def report(self, message: str, severity: str) -> None:
        raise AssertionError(message)

    def tick(self) -> None:
        self.ticks += 1


def loaded(store, incident_id: int) -> tuple[StoreSync, RecordingView]:
    """A StoreSync of ``store``'s incident that has loaded it, and the view it tells."""
    view = RecordingView()
    sync = StoreSync(Session(store, incident_id), view)
    sync.load()
    return sync, view


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_reads_of_others_entries_do_not_redraw_the_header(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as mine, PgStore(pg_url, tmp_path / "b") as theirs:
        inc = mine.declare("x", Severity.SEV2)
        sync, view = loaded(mine, inc.id)
        sync.listen()
        for i in range(20):
            text = theirs.append(inc.id, Kind.NOTE, f"note {i}", author="bob").text
            await wait_for(lambda text=text: view.entries[-1].text == text)
        # The first read shows the connection state (LIVE); it stays LIVE, so no read redraws the
        # header again (the one-second tick does): 50 writers made ~30 header redraws a second.
        assert view.ticks == 1
        sync.stop()


async def test_a_notification_of_entries_already_drawn_rereads_nothing_else(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as mine, PgStore(pg_url, tmp_path / "b") as theirs:
        inc = mine.declare("x", Severity.SEV2)
        sync, view = loaded(mine, inc.id)
        reads = view.incident_reads
        for i in range(3):
            theirs.append(inc.id, Kind.NOTE, f"note {i}", author="bob")
            sync.sync()  # drawn already (as our own write's read draws others' entries in between)
            await wait_for(mine._changed.is_set)  # its notification has come
            sync.poll()  # and is read: nothing new
        assert [e.text for e in view.entries[-3:]] == ["note 0", "note 1", "note 2"]
        assert view.incident_reads == reads  # incident, checklist and follow-ups not re-read for plain notes
        # A change that adds no entry (a follow-up snoozed elsewhere) is still re-read.
        sync.sync(written=mine.add_todo(inc.id, "call the vendor", follow_up_minutes=5))
        followup = mine.followups(inc.id)[0]
        theirs.snooze_followup(followup.id, 30)
        await wait_for(mine._changed.is_set)
        before = view.incident_reads
        sync.poll()
        assert view.incident_reads == before + 1
        assert sync.followups[0].due_at > followup.due_at


async def test_a_stream_of_notifications_is_read_at_most_once_a_gap(pg_url, tmp_path, monkeypatch):
    """A lone entry from elsewhere is read when notified; a stream is read once per READ_GAP_S,
    many entries a read (50 writers made 80 reads a second, one per entry or two)."""
    monkeypatch.setattr(store_sync, "READ_GAP_S", 1.5)  # wide, so the test can tell "at once" from "after the gap"
    with PgStore(pg_url, tmp_path / "a") as mine, PgStore(pg_url, tmp_path / "b") as theirs:
        inc = mine.declare("x", Severity.SEV2)
        sync, view = loaded(mine, inc.id)
        batches = view.batches
        sync.listen()
        await asyncio.sleep(1.6)  # the first read (the listener's connect) is more than a gap ago
        batches.clear()
        notified = time.monotonic()
        theirs.append(inc.id, Kind.NOTE, "lone", author="bob")
        await wait_for(lambda: batches == [["lone"]])
        assert time.monotonic() - notified < 1.5  # not held back to the gap
        for i in range(30):
            theirs.append(inc.id, Kind.NOTE, f"stream {i}", author="bob")
        await wait_for(lambda: view.entries[-1].text == "stream 29")
        # 30 notifications inside one gap: read when the gap ends, together (two reads at most,
        # should a commit land while that read runs)
        assert 1 <= len(batches) - 1 <= 2
        assert [t for batch in batches[1:] for t in batch] == [f"stream {i}" for i in range(30)]
        sync.stop()


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts the thread's wake-ups in /proc (Linux)")
async def test_an_idle_listener_sleeps_until_something_comes(pg_url, tmp_path, monkeypatch):
    """With nothing notified and no heartbeat due, the listening thread does not wake: psycopg's
    notifies(timeout=…) looked at the socket every 0.1 s, ten wake-ups a second on an idle
    dashboard. A thread's voluntary context switches count its wake-ups from a sleep."""
    from tui.incident import store_pg

    monkeypatch.setattr(store_pg, "HEARTBEAT_S", 60.0)

    def wakeups(thread) -> int:
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("voluntary_ctxt_switches")))

    with PgStore(pg_url, tmp_path / "a") as mine, PgStore(pg_url, tmp_path / "b") as theirs:
        inc = mine.declare("x", Severity.SEV2)
        await asyncio.sleep(0.5)  # settled: its first LISTEN and ping are done
        before = wakeups(mine._listen_thread)
        await asyncio.sleep(2.0)
        assert wakeups(mine._listen_thread) - before <= 3  # was ~20
        mine._changed.clear()
        theirs.append(inc.id, Kind.NOTE, "hello", author="bob")
        await wait_for(mine._changed.is_set)  # and a notification still wakes it at once
