"""The dashboard's frame pacing: a frame no key asked for waits for the rest of its beat
and is drawn once; a key press is drawn at once, and takes a waiting frame with it."""
from __future__ import annotations

from contextlib import asynccontextmanager

import pytest

from tui.app import WarroomApp
from tui.screens.dashboard import Dashboard
from tui.textual_hooks import active
from widgets.checklist import ChecklistView
from widgets.incident_header import IncidentHeader

from .conftest import fixed_clock, seed_incident

pytestmark = pytest.mark.skipif(not active("pacing"), reason="the pacing hook is off (tui/textual_hooks)")


def _count_frames(monkeypatch) -> list[set[str]]:
    """The dirty widgets of every frame the dashboard draws. The wait is made longer than any
    test: it ends when a test says so (or a key comes), not when a timer races the test."""
    monkeypatch.setattr(Dashboard, "FRAME_WAIT_S", 3600.0)
    frames: list[set[str]] = []
    original = Dashboard._compositor_refresh

    def counting(self):
        frames.append({type(w).__name__ for w in self._dirty_widgets})
        original(self)

    monkeypatch.setattr(Dashboard, "_compositor_refresh", counting)
    return frames


@asynccontextmanager
async def _header_waiting(store, monkeypatch):
    """A dashboard whose header changed with nobody typing: (app, pilot, frames drawn since)."""
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
    frames = _count_frames(monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen._sources_started
        app._last_input = float("-inf")          # nobody has typed: what follows is the clock's
        frames.clear()
        app.screen.query_one(IncidentHeader).refresh()
        await pilot.pause()
        assert frames == [] and app.screen._frame_wait is not None
        yield app, pilot, frames


async def test_unasked_frames_wait_and_are_drawn_once(store, monkeypatch):
    async with _header_waiting(store, monkeypatch) as (app, pilot, frames):
        screen = app.screen
        screen.query_one(ChecklistView).refresh()     # a poll's snapshot, a moment later
        await pilot.pause()
        assert frames == []
        screen._frame_wait.cancel()
        screen._draw_waited_frame()                   # the wait is over (its timer, here called)
        await pilot.pause()
        assert len(frames) == 1 and {"IncidentHeader", "ChecklistView"} <= frames[0]


async def test_a_key_is_drawn_at_once_with_any_waiting_frame(store, monkeypatch):
    import tui.app

    # "Recent" is 0.5 s; a loaded machine can take longer than that between the key and the check.
    monkeypatch.setattr(tui.app, "INPUT_RECENT_S", 60.0)
    async with _header_waiting(store, monkeypatch) as (app, pilot, frames):
        await pilot.press("n")                        # the entry prompt opens
        await pilot.pause()
        assert app.input_recent()
        # Drawn at once, the header's change with it (a whole-screen repaint is the screen).
        assert frames and frames[0] & {"IncidentHeader", "Dashboard"}
        assert app.screen._frame_wait is None


async def test_others_entries_wait_for_their_beat_while_someone_types(store, monkeypatch):
    # 50 writers elsewhere: while the scribe types, a frame of nothing but others' entries keeps
    # the pace it has when nobody types; the scribe's keys and own writes are drawn at once.
    import tui.app
    from tui.incident.model import Kind
    from tui.incident.store import Store
    from widgets.timeline import TimelineView

    monkeypatch.setattr(tui.app, "INPUT_RECENT_S", 60.0)   # "recent" whatever a loaded machine's pace
    inc = seed_incident(store, entries=100)
    app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
    frames = _count_frames(monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("n", "x")                 # typing: the prompt is open, input is recent
        await pilot.pause()
        assert app.input_recent()
        frames.clear()
        with Store(store.data_dir) as other:        # another process
            other.append(inc.id, Kind.NOTE, "from elsewhere", author="bob")
        screen.sync.poll()                          # its entry, read
        await pilot.pause()
        assert frames == [] and screen._frame_wait is not None and not screen.frame_is_urgent()
        assert screen.query_one(TimelineView).entries[-1].text == "from elsewhere"
        await pilot.press("y")                      # a key takes the waiting frame with it
        await pilot.pause()
        assert frames and "TimelineView" in frames[0] and any(name.endswith("Input") for name in frames[0])
        frames.clear()
        screen.write(store.append, inc.id, Kind.NOTE, "mine", author="scribe")  # the scribe's own write
        assert screen.frame_is_urgent()
        await pilot.pause()
        assert frames and "TimelineView" in frames[0]
