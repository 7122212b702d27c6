"""tui.textual_hooks.compositor: a partial update renders only the dirty lines of the widgets
under them, and sends the terminal exactly what Textual's own partial update sends."""
from __future__ import annotations

from collections import Counter

import pytest
from rich.text import Text
from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget

from tui.textual_hooks import active, textual_is_tested

if not textual_is_tested():
    pytest.skip("not the Textual release the compositor hook was written for", allow_module_level=True)


from tui.textual_hooks.compositor import DirtyLinesCompositor  # noqa: E402
from widgets.table import Table  # noqa: E402


class Text_(Widget):
    """Text that repaints in place (Static.update also asks for a layout)."""

    def __init__(self, text: str, *, id: str) -> None:
        super().__init__(id=id)
        self.text = text

    def render(self) -> str:
        return self.text

    def set(self, text: str) -> None:
        self.text = text
        self.refresh()


class Paned(Screen):

    def __init__(self) -> None:
        super().__init__()
        self._compositor = DirtyLinesCompositor()

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Text_("INC-1 checkout failures", id="title")
            yield Text_("00:00:01", id="clock")
        with Horizontal(id="middle"):
            with Vertical(classes="pane", id="left"):
                yield Table(id="table")
            with Vertical(classes="pane", id="right"):
                yield Text_("\n".join(f"line {i}" for i in range(12)), id="lines")
        yield Text_("footer keys", id="footer")
        yield Text_("> an entry being typed", id="overlay")


class PanedApp(App):
    CSS = """
    #top { height: 1; background: $panel; }
    #clock { dock: right; width: 12; }
    #middle { height: 1fr; }
    .pane { border: round $primary; height: 1fr; }
    #title { width: 1fr; }
    #lines { height: auto; }
    #footer { height: 1; }
    #overlay { layer: over; dock: bottom; height: 1; background: $boost; }
    Paned { layers: base over; }
    """
    def on_mount(self) -> None:
        self.push_screen(Paned())


def _fill(table: Table) -> None:
    table.add_column("name", key="name")
    table.add_column("age", key="age")
    for i in range(20):
        table.add_row(f"pod-{i:02d}", f"{i}s", key=f"r{i}")


async def _settle(pilot, table: Table) -> None:
    """Until the table is painted at the render counter it keeps. Under load one pause can end
    before the idle-time measuring, the layout after it, or the Resize after that (which moves
    the counter): the changes a test then makes would share a frame with a whole-table paint."""
    seen = None
    for _ in range(200):
        await pilot.pause()
        rendered_at = getattr(table, "_rendered_at", table._update_count)    # the table hook's
        now = (rendered_at, table._update_count, table._require_update_dimensions)
        if now == seen and rendered_at == table._update_count and not table._require_update_dimensions:
            return
        if rendered_at != table._update_count:
            table.refresh()
        seen = now
    raise AssertionError("the table never settled")


def _record_both(monkeypatch, app: App) -> list[tuple[str, str]]:
    """For every partial update drawn: (what this compositor sent, what Textual's would have)."""
    pairs: list[tuple[str, str]] = []
    ours = DirtyLinesCompositor.render_partial_update

    def both(self):
        dirty = set(self._dirty_regions)
        update = ours(self)
        if update is not None:
            mine = update.render_segments(app.console)
            self._dirty_regions.update(dirty)
            pairs.append((mine, Compositor.render_partial_update(self).render_segments(app.console)))
        return update

    monkeypatch.setattr(DirtyLinesCompositor, "render_partial_update", both)
    return pairs


async def test_partial_updates_send_what_textual_sends(monkeypatch):
    app = PanedApp()
    pairs = _record_both(monkeypatch, app)
    async with app.run_test(size=(90, 30)) as pilot:
        screen = app.screen
        _fill(screen.query_one(Table))
        await _settle(pilot, screen.query_one(Table))
        table = screen.query_one(Table)
        # Changes far apart on the screen, one frame: the clock (top right), a table row
        # (left pane), a line of the right pane, and the footer under the overlay layer.
        screen.query_one("#clock", Text_).set("00:00:02")
        table.update_cell("r3", "age", Text("4s"))
        table.update_cell("r11", "age", Text("12s"))
        screen.query_one("#lines", Text_).set("\n".join(f"line {i}{'!' if i == 5 else ''}" for i in range(12)))
        screen.query_one("#footer", Text_).set("footer keys changed")
        pairs.clear()
        await pilot.pause()
        assert len(pairs) == 1, "the changes were drawn in one partial update"
        ours, theirs = pairs[0]
        assert ours == theirs
        assert "00:00:02" in ours and "12s" in ours and "line 5!" in ours
        assert "changed" not in ours     # the footer changed under the overlay: still covered


@pytest.mark.skipif(not active("table"), reason="a table row repaints alone only with the table hook")
async def test_only_widgets_under_a_dirty_region_render_and_only_its_lines():
    app = PanedApp()
    async with app.run_test(size=(90, 30)) as pilot:
        screen = app.screen
        _fill(screen.query_one(Table))
        await _settle(pilot, screen.query_one(Table))
        lines: Counter[str] = Counter()
        original = Widget.render_lines

        def counting(self, crop):
            lines[self.id or type(self).__name__] += crop.height
            return original(self, crop)

        Widget.render_lines = counting
        try:
            screen.query_one("#clock", Text_).set("00:00:03")
            screen.query_one(Table).update_cell("r5", "age", Text("6s"))
            await pilot.pause()
        finally:
            Widget.render_lines = original
        # The clock's line and the table row's line, one line each; what is behind them
        # (the screen, the top bar, the pane around the table) is covered, so renders nothing.
        assert lines["clock"] == 1 and lines["table"] == 1
        assert lines["lines"] == 0 and lines["footer"] == 0 and lines["right"] == 0
        assert lines["Paned"] == 0 and lines["top"] == 0 and lines["left"] == 0 and lines["middle"] == 0
