"""The dashboard's postmortem keys (issue 17), driven through Textual's pilot on a real SQLite store:
`I` the impact & resolution form, `M` a milestone, `A` the selected todo as an action item; the export
shows what they recorded."""
from __future__ import annotations

from tui.app import WarroomApp
from tui.incident.export import export
from tui.incident.model import Kind
from tui.incident.redact import Redactor
from tui.screens.review_form import FieldsForm
from widgets.timeline import TimelineView

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .pilot_wait import screen_ready, wait_for


async def _wait_for(pilot, condition, what: str) -> None:
    assert await wait_for(pilot, condition), f"timed out waiting for {what}"


async def test_I_fills_impact_a_factor_and_the_resolution(store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="alex", clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("I")
        await _wait_for(pilot, lambda: screen_ready(app, FieldsForm), "the form")
        await pilot.press(*"~1,200 users", "enter", "enter", *"maybe", "enter", "enter", "enter", "enter", "enter")
        # A wrong yes/no: one line in the form, nothing written, everything typed still there.
        await _wait_for(pilot, lambda: "say yes or no" in str(app.screen.query_one("#form-error").render()),
                        "the error line")
        before = len(store.entries(inc.id))
        form = app.screen
        assert isinstance(form, FieldsForm) and form.values()[0] == "~1,200 users"
        form.query_one("#field-2").value = "no"
        form.query_one("#field-3").value = "yes"
        form.query_one("#field-4").value = "no canary for payments"
        form.query_one("#field-6").value = "size the pool from peak load"
        await pilot.press("ctrl+s")
        await _wait_for(pilot, lambda: len(store.entries(inc.id)) == before + 3, "three entries")
        assert not isinstance(app.screen, FieldsForm)
        md = export(store, inc.id, "md", redactor=Redactor(), now=FIXED_NOW)
        assert "- **Users affected:** \\~1,200 users" in md and "- **Revenue impact:** TBD" in md
        assert "- **Data loss:** no" in md and "- **SLA breach:** yes" in md
        assert "## Contributing factors\n\n- no canary for payments" in md
        assert "### Permanent fix\n\n- size the pool from peak load" in md
        # Opened again, the form shows what is recorded; saving it unchanged writes nothing.
        await pilot.press("I")
        await _wait_for(pilot, lambda: screen_ready(app, FieldsForm), "the form again")
        assert app.screen.values()[:4] == ["~1,200 users", "", "no", "yes"]
        await pilot.press("ctrl+s")
        await _wait_for(pilot, lambda: not isinstance(app.screen, FieldsForm), "the form to close")
        assert len(store.entries(inc.id)) == before + 3


async def test_M_marks_a_milestone_now_and_A_makes_a_todo_an_action_item(store):
    inc = seed_incident(store)
    app = WarroomApp(store, inc.id, author="alex", clock=fixed_clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("M")
        await pilot.pause()
        await pilot.press("2")          # root cause identified
        await _wait_for(pilot, lambda: store.timeline(inc.id)[-1].meta.get("milestone") == "root-cause", "the mark")
        assert store.timeline(inc.id)[-1].ts == FIXED_NOW
        # A with a note selected says what to do instead.
        timeline = app.screen.query_one(TimelineView)
        timeline.focus()
        await pilot.press("home")
        await pilot.press("A")
        await _wait_for(pilot, lambda: any("Select a todo" in n.message for n in app._notifications), "the hint")
        todo = next(e for e in store.timeline(inc.id) if e.kind is Kind.TODO)
        for _ in range(30):
            if timeline.selected is not None and timeline.selected.entry_id == todo.entry_id:
                break
            await pilot.press("down")
        assert timeline.selected is not None and timeline.selected.entry_id == todo.entry_id
        await pilot.press("A")
        await _wait_for(pilot, lambda: screen_ready(app, FieldsForm), "the action item form")
        await pilot.press("enter", *"@carol", "enter", *"p2", "enter", *"2026-12-01", "enter")
        await _wait_for(pilot, lambda: store.timeline(inc.id)[-1].meta.get("field") == "action_item", "the item")
        md = export(store, inc.id, "md", redactor=Redactor(), now=FIXED_NOW)
        assert f"| Check the DB connection pool after the rollback (#{todo.entry_id}) | @carol | P2 | 2026-12-01 |" in md
        assert "| Root cause identified | 2026-11-21 14:30:00 | 00:25:00 | marked by alex |" in md
