"""Pilot tests: press the scribe keys and check both the store and the screen."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tui.app import WarroomApp
from tui.incident.model import Kind, Phase, Severity, Status
from tui.incident.store import Store
from widgets.checklist import ChecklistView
from widgets.countdown import UpdateCountdown
from widgets.timeline import TimelineView

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .pilot_wait import wait_for


def make_app(store, incident, **kw) -> WarroomApp:
    return WarroomApp(store, incident.id, author="scribe", clock=kw.pop("clock", fixed_clock), **kw)


def timeline_text(app) -> str:
    view = app.screen.query_one(TimelineView)
    return "\n".join(view.render_entry(e).plain for e in view.entries)


@pytest.mark.parametrize("key,kind", [("n", Kind.NOTE), ("a", Kind.ACTION), ("d", Kind.DECISION),
                                      ("f", Kind.FINDING), ("m", Kind.MITIGATION), ("c", Kind.COMMS)])
async def test_scribe_key_writes_entry_of_that_kind(store, key, kind):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(key, *"db failover done", "enter")
        await pilot.pause()
        last = store.timeline(inc.id)[-1]
        assert (last.kind, last.text, last.author, last.source) == (kind, "db failover done", "scribe", "tui")
        # Shown only after it was committed, and exactly as stored.
        assert app.screen.query_one(TimelineView).entries[-1].entry_id == last.entry_id
        assert "db failover done" in timeline_text(app)


async def test_escape_cancels_without_writing(store):
    inc = seed_incident(store)
    before = len(store.entries(inc.id))
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", *"never mind", "escape")
        await pilot.pause()
        assert len(store.entries(inc.id)) == before
        # Keys work again after cancelling: the next note is saved.
        await pilot.press("n", *"second", "enter")
        await pilot.pause()
        assert store.timeline(inc.id)[-1].text == "second"


async def test_markup_is_shown_literally(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n", *"[red]alarm[/red] [link=x]y", "enter")
        await pilot.pause()
        assert "[red]alarm[/red] [link=x]y" in timeline_text(app)
        assert store.timeline(inc.id)[-1].text == "[red]alarm[/red] [link=x]y"


async def test_todo_with_follow_up_minutes(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("t", *"check replica lag +10", "enter")
        await pilot.pause()
        todo = store.timeline(inc.id)[-1]
        assert todo.kind is Kind.TODO and todo.text == "check replica lag"
        (followup,) = store.followups(inc.id)
        assert timedelta(minutes=9) < followup.due_at - todo.ts <= timedelta(minutes=10, seconds=1)


async def test_edit_appends_revision_and_can_move_time(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        target = store.timeline(inc.id)[-1]
        await pilot.press("e")
        prompt = app.screen.query_one("#prompt-input")
        assert prompt.value == target.text
        prompt.value = "@14:10 pool checked: fine"
        await pilot.press("enter")
        await pilot.pause()
        revisions = store.revisions(target.entry_id)
        assert [r.text for r in revisions] == [target.text, "pool checked: fine"]
        assert revisions[-1].ts.strftime("%H:%M:%S") == "14:10:00"
        assert "(edited)" in timeline_text(app)


async def test_checklist_arrow_and_space(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.query_one(ChecklistView).focus()
        await pilot.press("down", "space")
        await pilot.pause()
        item = [i for i in store.checklist(inc.id) if i.phase is Phase.TRIAGE][1]
        assert item.done and item.done_by == "scribe"
        last = store.timeline(inc.id)[-1]
        assert last.kind is Kind.ACTION and item.text in last.text
        assert "[x] " + item.text in str(app.screen.query_one(ChecklistView).render())
        await pilot.press("space")
        await pilot.pause()
        assert not [i for i in store.checklist(inc.id) if i.phase is Phase.TRIAGE][1].done


async def test_severity_and_status_keys(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s", "1")
        await pilot.pause()
        assert store.incident(inc.id).severity is Severity.SEV1
        await pilot.press("S", "4")
        await pilot.pause()
        assert store.incident(inc.id).status is Status.MONITORING
        assert store.incident(inc.id).mitigated_at is not None
        kinds = [e.text for e in store.timeline(inc.id)[-2:]]
        assert kinds[0].startswith("Severity raised to SEV1") and kinds[1].startswith("Status changed to Monitoring")


async def test_update_sent_resets_countdown_and_colours(store):
    inc = seed_incident(store)
    clock_now = [FIXED_NOW]
    app = make_app(store, inc, clock=lambda: clock_now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        countdown = app.screen.query_one(UpdateCountdown)
        deadline = store.incident(inc.id).next_update_at
        clock_now[0] = deadline - timedelta(seconds=90)
        app.screen.tick()
        assert countdown.has_class("-soon")
        clock_now[0] = deadline + timedelta(seconds=5)
        app.screen.tick()
        assert countdown.has_class("-overdue") and "OVERDUE" in str(countdown.render())
        await pilot.press("u")
        await pilot.pause()
        entry = store.timeline(inc.id)[-1]
        assert entry.kind is Kind.COMMS
        assert store.incident(inc.id).next_update_at > deadline


async def test_other_process_entries_appear(store, tmp_path):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        with Store(store.data_dir) as other:  # a second connection stands in for `warroom log`
            other.append(inc.id, Kind.ACTION, "restarted from the other terminal", author="carol")
        # the store is read on every beat: wait for it, bounded
        assert await wait_for(pilot, lambda: "restarted from the other terminal" in timeline_text(app))


async def test_help_lists_every_binding(store):
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        from tui.screens.dashboard import Dashboard
        from tui.screens.help import HelpScreen

        assert isinstance(app.screen, HelpScreen)
        listed = {key for _, rows in app.screen.sections for key, _ in rows}
        assert {b.key for b in Dashboard.BINDINGS} <= listed
        await pilot.press("escape")


async def test_timeline_autoscroll_only_at_bottom(store):
    inc = seed_incident(store, entries=300)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.screen.query_one(TimelineView)
        await pilot.pause()
        assert view.is_at_bottom
        await pilot.press("n", *"new at bottom", "enter")
        await pilot.pause()
        assert view.is_at_bottom
        view.scroll_home(animate=False, immediate=True)
        await pilot.pause()
        await pilot.press("n", *"while reading history", "enter")
        await pilot.pause()
        assert view.scroll_y == 0  # the reader's place is kept


async def test_timeline_grows_a_scrollbar_and_keeps_following_the_newest(store):
    # Growing the log updates the scrollbars without a screen layout; the first overflow
    # must still bring the scrollbar in and keep the newest entry in view.
    inc = seed_incident(store)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.screen.query_one(TimelineView)
        await pilot.pause()
        assert not view.show_vertical_scrollbar
        for i in range(view.size.height + 5):
            store.append(inc.id, Kind.NOTE, f"growing line {i}", author="bob")
            app.screen.sync.sync()
            await pilot.pause()
        assert view.show_vertical_scrollbar and view.is_at_bottom
        assert view.virtual_size.height == len(view.entries)
        last_row = view.render_line(view.scrollable_content_region.height - 1).text
        assert f"growing line {view.size.height + 4}" in last_row


async def test_a_longer_timeline_needs_no_screen_layout(store):
    # Others writing 100 entries a second: once the timeline scrolls, a longer one only moves its
    # scrollbar (a layout of the whole screen per entry was most of each frame's cost), and the
    # newest entry is still the one drawn at the bottom.
    inc = seed_incident(store, entries=100)
    app = make_app(store, inc)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.screen.query_one(TimelineView)
        await pilot.pause()
        assert view.show_vertical_scrollbar and view.is_at_bottom
        for i in range(3):
            store.append(inc.id, Kind.NOTE, f"from elsewhere {i}", author="bob")
            app.screen.sync.sync()
            assert not app.screen._layout_required and not view._layout_required
            assert view.vertical_scrollbar.window_virtual_size == len(view.entries) == view.virtual_size.height
            await pilot.pause()
            assert view.is_at_bottom
            last_row = view.render_line(view.scrollable_content_region.height - 1).text
            assert f"from elsewhere {i}" in last_row
