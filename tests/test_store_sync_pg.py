"""StoreSync on the shared PostgreSQL store under others' writes (issue 16's 50-writer target):
what a notification of others' entries costs the dashboard. Real PostgreSQL, real listening
thread; the view records what it is told (StoreView is the controller's whole interface)."""
from __future__ import annotations

import asyncio
import time

import pytest

from tui.incident.model import Kind, Severity
from tui.incident.store_pg import PgStore
from tui.session import Session
from tui.store_sync import StoreSync

pytestmark = pytest.mark.slow


class RecordingView:
    def __init__(self) -> None:
        self.entries: list = []
        self.incident_reads = 0
        self.ticks = 0

    def entries_loaded(self, entries) -> None:
        self.entries = list(entries)

    def entries_changed(self, entries) -> None:
        self.entries.extend(entries)

    def entries_removed(self, entry_ids) -> None:
        pass

    def incident_read(self) -> None:
        self.incident_reads += 1

    def report(self, message: str, severity: str) -> None:
        raise AssertionError(message)

    def tick(self) -> None:
        self.ticks += 1


async def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


async def test_reads_of_others_entries_do_not_redraw_the_header(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as mine, PgStore(pg_url, tmp_path / "b") as theirs:
        inc = mine.declare("x", Severity.SEV2)
        view = RecordingView()
        sync = StoreSync(Session(mine, inc.id), view)
        sync.load()
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
        view = RecordingView()
        sync = StoreSync(Session(mine, inc.id), view)
        sync.load()
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
