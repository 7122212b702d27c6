"""Enter on a timeline entry: its detail screen (pilot), and the text it is built from."""
from __future__ import annotations

from tui.app import WarroomApp
from tui.incident.model import Kind
from tui.screens.entry_detail import EntryDetailScreen, detail_text
from widgets.timeline import TimelineView

from .conftest import fixed_clock, seed_incident

HOSTILE = "[bold red]not markup[/] \x1b]0;pwned\x07 \u202eevil"


def _run_entry(store, inc):
    first = store.append(inc.id, Kind.MITIGATION, "running: kubectl rollout undo deploy/payments", author="carol",
                         source="run", meta={"event": "run", "command": "kubectl rollout undo deploy/payments",
                                             "host": "ops-1", "state": "running"})
    return store.edit(first.entry_id, text="ran: kubectl rollout undo deploy/payments — exit 1 after 2.5 s",
                      author="carol", source="run",
                      meta={"state": "exited", "exit_status": 1, "signal": None, "duration_s": 2.5,
                            "output_tail": ["error: deployment not found", HOSTILE], "output_lines": 120})


async def test_enter_opens_the_entry_with_revisions_and_output_and_esc_closes(store):
    inc = seed_incident(store)
    entry = _run_entry(store, inc)
    store.edit(entry.entry_id, text="ran: rollout undo — exit 1 (wrong namespace)", author="dave", source="tui")
    app = WarroomApp(store, inc.id, clock=fixed_clock, sources=[], author="bob")
    async with app.run_test(size=(160, 48)) as pilot:
        view = app.screen.query_one(TimelineView)
        view.focus()
        view.action_cursor_to(next(i for i, e in enumerate(view.entries) if e.entry_id == entry.entry_id))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EntryDetailScreen)
        shown = str(screen.query_one("#entry-detail").render())
        assert "#%d" % entry.entry_id in shown and "mitigation" in shown and "by carol" in shown
        assert "kubectl rollout undo deploy/payments" in shown and "exit status 1" in shown and "ops-1" in shown
        assert "Output (last 2 of 120 lines)" in shown and "error: deployment not found" in shown
        # Three revisions, each with who wrote it.
        assert "Revisions (3)" in shown and "written by carol" in shown and "edited by dave" in shown
        assert "completed (warroom run) by carol" in shown
        # Outside text: literal brackets, control characters visible, never interpreted.
        assert "[bold red]not markup[/]" in shown and "␛]0;pwned␇" in shown and "\\u202e" in shown
        assert "\x1b" not in shown and "\u202e" not in shown
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EntryDetailScreen)
        assert app.screen.query_one(TimelineView).has_focus


async def test_enter_on_a_plain_note_shows_its_meta(store):
    inc = seed_incident(store)
    note = store.append(inc.id, Kind.FINDING, "p99 up", author="bob", meta={"lines": ["ERROR db timeout"], "k": 1})
    app = WarroomApp(store, inc.id, clock=fixed_clock, sources=[], author="bob")
    async with app.run_test(size=(160, 48)) as pilot:
        view = app.screen.query_one(TimelineView)
        view.focus()
        view.action_cursor_to(next(i for i, e in enumerate(view.entries) if e.entry_id == note.entry_id))
        await pilot.press("enter")
        await pilot.pause()
        shown = str(app.screen.query_one("#entry-detail").render())
        assert "Evidence (1 line)" in shown and "ERROR db timeout" in shown and "k: 1" in shown
        assert "Command" not in shown


def test_detail_text_redacts_and_says_when_still_running(store):
    inc = seed_incident(store)
    first = store.append(inc.id, Kind.ACTION, "running: sleep 600", author="carol", source="run",
                         meta={"event": "run", "command": "sleep 600", "host": "db-7.internal", "state": "running"})
    text = detail_text(store.revisions(first.entry_id), redact=lambda s: s.replace("db-7.internal", "host-1")).plain
    assert "still running" in text and "host-1" in text and "db-7" not in text
