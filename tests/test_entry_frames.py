"""What an entry typed on the dashboard costs the screen (issue 16's watcher target: the
watcher's own key drawn within 50 ms while 50 others write). Real app under Pilot; the
frames are observed by wrapping the screen's frame (the ``pacing`` hook's ``_draw_frame``)
and Textual's screen layout on the instances, nothing else is replaced.

- The saved entry is drawn in a frame of its own, before the prompt closes: that frame
  lays nothing out (closing the prompt and moving focus do, in the next one).
- A key typed into the prompt repaints the field; it does not lay the screen out.
- The key row does not rebuild its key widgets each time the prompt opens and closes.
- The timeline keeps four screens of drawn lines, not 2,048 (garbage-collector walks).
"""
from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from textual.widgets import Input

from tui.app import WarroomApp
from tui.textual_hooks.scroll import InPlaceInput
from widgets.entry_prompt import EntryPrompt
from widgets.footer import WholeKeysFooter
from widgets.timeline import TimelineView

from .conftest import fixed_clock, seed_incident
from .pilot_wait import wait_for

pytestmark = pytest.mark.timeout(60)


class Frames:
    """Every frame the dashboard draws: whether it laid the screen out, what the timeline's
    last entry was and whether the prompt was open when it was drawn."""

    def __init__(self, app: WarroomApp) -> None:
        screen = app.screen
        self.frames: list[dict] = []
        self._layouts = 0
        draw, layout = screen._draw_frame, screen._refresh_layout
        view, prompt = screen.query_one(TimelineView), screen.query_one(EntryPrompt)

        def refresh_layout(*args, **kwargs):
            self._layouts += 1
            return layout(*args, **kwargs)

        def drawn() -> None:
            before = self._layouts
            draw()
            self.frames.append({"layout": self._layouts > before, "last": view.entries[-1].text,
                                "prompt_open": prompt.has_class("-open")})

        screen._draw_frame, screen._refresh_layout = drawn, refresh_layout


@asynccontextmanager
async def dashboard(store, *, entries: int = 0, size: tuple[int, int] = (120, 40)):
    """The seeded incident's dashboard, once its prompt is mounted: (app, pilot)."""
    inc = seed_incident(store, entries=entries)
    app = WarroomApp(store, inc.id, author="bob", clock=fixed_clock)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.screen.query(EntryPrompt) and app.screen.query(Input))
        yield app, pilot


async def test_the_saved_entry_is_drawn_before_the_prompt_closes_with_no_layout(store):
    async with dashboard(store, entries=300) as (app, pilot):
        await pilot.press("n", *"rollback done")
        frames = Frames(app)
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: any(f["last"] == "rollback done" and not f["prompt_open"]
                                                 for f in frames.frames))
        first = next(f for f in frames.frames if f["last"] == "rollback done")
        assert first == {"layout": False, "last": "rollback done", "prompt_open": True}
        assert app.screen.query_one(TimelineView).has_focus      # and then the prompt closed as before


async def test_a_failed_save_draws_nothing_early_and_keeps_the_text(store):
    async with dashboard(store) as (app, pilot):
        await pilot.press("n", "x")
        prompt = app.screen.query_one(EntryPrompt)
        prompt.query_one(Input).value = "x" * 10_001    # over the entry limit: refused, one line
        frames = Frames(app)
        await pilot.press("enter")
        await pilot.pause()
        assert all(f["prompt_open"] for f in frames.frames)
        assert prompt.has_class("-open") and prompt.query_one(Input).value == "x" * 10_001


async def test_typing_into_the_prompt_repaints_the_field_without_a_layout(store):
    async with dashboard(store) as (app, pilot):
        await pilot.press("n")
        field = app.screen.query_one("#prompt-input", Input)
        assert isinstance(field, InPlaceInput)
        frames = Frames(app)
        await pilot.press(*"disk full on db-2")
        assert field.value == "disk full on db-2"
        assert frames.frames and not any(f["layout"] for f in frames.frames)


async def test_a_long_entry_scrolls_in_the_field_and_back(store):
    async with dashboard(store, size=(80, 24)) as (app, pilot):
        await pilot.press("n")
        field = app.screen.query_one("#prompt-input", Input)
        text = "the replica fell behind " * 8
        await pilot.press(*text)
        await pilot.pause()
        assert field.value == text and field.scroll_x > 0          # the cursor's end is in view
        assert field.cursor_screen_offset.x < app.size.width
        await pilot.press("home")
        await pilot.pause()
        assert field.scroll_x == 0
        await pilot.press("end", *["backspace"] * (len(text) - 5))
        await pilot.pause()
        assert field.value == text[:5] and field.scroll_x == 0


async def test_the_key_row_keeps_its_key_sets_across_entries(store):
    async with dashboard(store) as (app, pilot):
        footer = app.screen.query_one(WholeKeysFooter)

        def shown() -> list[str]:
            return [k.key for k in footer.shown_keys() if k.display]

        assert await wait_for(pilot, lambda: "n" in shown())
        closed = shown()
        await pilot.press("n")
        assert await wait_for(pilot, lambda: shown() == ["escape", "ctrl+p"])
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: shown() == closed)
        widgets = {id(k) for k in footer.query("FooterKey")}
        for i in range(5):
            await pilot.press("n", *f"note {i}", "enter")
            await pilot.pause()
        assert await wait_for(pilot, lambda: shown() == closed)
        assert {id(k) for k in footer.query("FooterKey")} == widgets    # the same widgets, none made anew


async def test_the_timeline_keeps_four_screens_of_drawn_lines(store):
    async with dashboard(store, entries=2_000) as (app, pilot):
        view = app.screen.query_one(TimelineView)
        view.focus()
        for _ in range(12):
            await pilot.press("pageup")
        await pilot.pause()
        assert 0 < len(view._strips) <= 4 * view.size.height


async def test_keys_that_arrive_with_the_n_go_into_the_prompt(store):
    # Over a laggy SSH link, or pasted, "n" and the text after it arrive in one read. The text
    # must land in the prompt, not run as the dashboard's keys (a: action, u: "update sent"…).
    from textual import events

    async with dashboard(store) as (app, pilot):
        entries = len(app.screen.query_one(TimelineView).entries)
        for key, char in [("n", "n"), *((c, c) for c in "audit"), ("space", " "), *((c, c) for c in "sS")]:
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)     # all queued before the first is handled
        field = app.screen.query_one("#prompt-input", Input)
        assert await wait_for(pilot, lambda: field.value == "audit sS")
        prompt = app.screen.query_one(EntryPrompt)
        assert prompt.kind == "note" and field.has_focus
        assert len(app.screen.query_one(TimelineView).entries) == entries    # no key ran as a command
