"""Ctrl-C under Pilot: in the entry prompt it cancels the line; anywhere else it quits.

(tests/test_hangup.py sends the real byte through a real terminal to the real CLI.)
"""
from __future__ import annotations

from tests.samples import sample_app
from widgets.entry_prompt import EntryPrompt

from .pilot_wait import screen_ready, wait_for


async def test_ctrl_c_in_the_entry_prompt_cancels_the_line(store):
    app = sample_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await pilot.press(*"half a thought")
        prompt = app.screen.query_one(EntryPrompt)
        assert prompt.has_class("-open")
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not prompt.has_class("-open")
        assert app.is_running and app.return_code is None
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0
    assert not [e for e in store.timeline(app.incident_id) if "half a thought" in e.text]


async def test_ctrl_c_on_the_dashboard_quits(store):
    app = sample_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_ctrl_c_over_the_help_quits(store):
    app = sample_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_ctrl_c_in_the_update_draft_keeps_the_draft(store):
    from textual.widgets import TextArea

    from tui.screens.update import UpdateScreen

    app = sample_app(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("U")
        assert await wait_for(pilot, lambda: screen_ready(app, UpdateScreen))
        editor = app.screen.query_one(TextArea)
        editor.focus()
        await pilot.press("end", *"typed by hand")
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, UpdateScreen)
        assert "typed by hand" in editor.text
