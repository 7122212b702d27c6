"""widgets.table.Table: a cell update repaints its own row, shows the new value, and
leaves every other row's cached render alone (the dashboard's idle CPU depends on it)."""
from __future__ import annotations

from collections import Counter

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from tui.textual_hooks import active
from widgets.table import StockTable, Table

# What the row-repaint hook (tui/textual_hooks/table.py) does: not there when it is off.
hooked = pytest.mark.skipif(not active("table"), reason="the table hook is off (tui/textual_hooks)")

ROWS = 30


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield Table(id="t")

    def on_mount(self) -> None:
        table = self.query_one(Table)
        table.add_column("name", key="name")
        table.add_column("age", key="age")
        for i in range(ROWS):
            table.add_row(f"pod-{i:02d}", f"{i}m", key=f"r{i}")


def _screen_text(app: App) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _record_rendered_cells(monkeypatch) -> set[tuple[str, str]]:
    """(row key, column key) of every cell the table renders afresh (not from its cache)."""
    rendered: set[tuple[str, str]] = set()
    original_cell = Table._render_cell

    def counting_cells(self, row_index, column_index, *args, **kwargs):
        before = len(self._cell_render_cache)
        out = original_cell(self, row_index, column_index, *args, **kwargs)
        if len(self._cell_render_cache) != before and row_index >= 0:
            rendered.add((self._row_locations.get_key(row_index).value,
                          self._column_locations.get_key(column_index).value))
        return out

    monkeypatch.setattr(Table, "_render_cell", counting_cells)
    return rendered


@hooked
async def test_cell_update_rerenders_only_its_row(monkeypatch):
    rendered: Counter[str] = Counter()
    original = Table._render_line_in_row

    def counting(self, row_key, *args, **kwargs):
        rendered[row_key.value] += 1
        return original(self, row_key, *args, **kwargs)

    monkeypatch.setattr(Table, "_render_line_in_row", counting)
    cells_rendered = _record_rendered_cells(monkeypatch)
    app = TableApp()
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        # Settle: DataTable bumps its counter once more after the first paint (on resize)
        # without repainting; one full repaint caches every row at the settled counter.
        assert "pod-05" in _screen_text(app)
        table.refresh()
        await pilot.pause()
        _screen_text(app)
        rendered.clear()
        cells_rendered.clear()

        table.update_cell("r5", "age", Text("99m"))
        table.update_cell("r7", "age", Text("42h"))
        await pilot.pause()
        text = _screen_text(app)
        assert "99m" in text and "42h" in text and "pod-06" in text
        assert set(rendered) <= {"r5", "r7"}, rendered
        assert rendered["r5"] and rendered["r7"]
        # Within those rows, the name cells were not rendered again: only the ages.
        assert cells_rendered == {("r5", "age"), ("r7", "age")}, cells_rendered

        # A width-changing update still re-measures and repaints the table, as DataTable does.
        rendered.clear()
        table.update_cell("r1", "name", Text("a-much-longer-pod-name-here"), update_width=True)
        await pilot.pause()
        await pilot.pause()
        assert "a-much-longer-pod-name-here" in _screen_text(app)
        assert len(rendered) > 2


@hooked
async def test_a_cell_updated_after_a_resize_is_drawn():
    """DataTable bumps its render counter on Resize, after the frame that laid it out, and
    asks for no repaint: a cell updated then must still reach the screen (a latency frozen
    after the terminal was resized is a pane that lies)."""
    from textual import events
    from textual.widget import Widget

    app = TableApp()
    async with app.run_test(size=(60, 40)) as pilot:
        table = app.query_one(Table)
        while table._rendered_at != table._update_count or table._require_update_dimensions:
            await pilot.pause()                 # painted, at the counter it has settled on
        table.post_message(events.Resize(table.size, table.virtual_size, table.container_size))
        while table._rendered_at == table._update_count:
            await pilot.pause()                 # the counter moved, after the paint
        drawn: list[str] = []
        original = Widget.render_lines

        def recording(self, crop):
            strips = original(self, crop)
            if self is table:
                drawn.extend(strip.text for strip in strips)
            return strips

        Widget.render_lines = recording
        try:
            table.update_cell("r5", "age", Text("99m"))
            for _ in range(50):                  # a frame or two; never, before the fix
                await pilot.pause()
                if any("99m" in line for line in drawn):
                    break
        finally:
            Widget.render_lines = original
        assert any("99m" in line for line in drawn), "the updated cell was never painted"


async def test_updates_then_sort_and_scroll_stay_consistent():
    app = TableApp()
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        for i in range(ROWS):
            table.update_cell(f"r{i}", "age", Text(f"s{i:02d}"))
        table.sort("age", key=lambda cell: str(cell), reverse=True)
        await pilot.pause()
        first = _screen_text(app)
        assert "pod-29" in first and "s29" in first
        table.scroll_end(animate=False)
        await pilot.pause()
        table.update_cell("r0", "age", Text("new"))
        await pilot.pause()
        assert "new" in _screen_text(app)
        assert table.get_cell("r0", "age").plain == "new"


@hooked
async def test_set_order_rerenders_only_the_rows_that_moved(monkeypatch):
    cells_rendered = _record_rendered_cells(monkeypatch)
    app = TableApp()
    async with app.run_test(size=(60, 40)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        table.refresh()
        await pilot.pause()
        _screen_text(app)
        cells_rendered.clear()

        # r0..r2 keep their places; r9 and r3 swap.
        order = [f"r{i}" for i in range(ROWS)]
        order[3], order[9] = order[9], order[3]
        table.set_order(order)
        await pilot.pause()
        lines = _screen_text(app).splitlines()
        names = [line.split()[0] for line in lines if line.strip().startswith("pod-")]
        assert names[:10] == ["pod-00", "pod-01", "pod-02", "pod-09", "pod-04", "pod-05",
                              "pod-06", "pod-07", "pod-08", "pod-03"]
        assert [row.key.value for row in table.ordered_rows][:4] == ["r0", "r1", "r2", "r9"]
        assert {row for row, _ in cells_rendered} == {"r3", "r9"}, cells_rendered
        # A click reads the row index from the render: the moved row answers to its new place.
        table.cursor_type = "row"
        await pilot.click(Table, offset=(2, 1 + 3))        # below the header: the 4th row
        await pilot.pause()
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "r9"


class PodNamesApp(App):
    """A Table of ``ROWS`` pod names in one column; subclasses set CSS and ROWS."""
    ROWS = 3

    def compose(self) -> ComposeResult:
        yield Table(id="t")

    def on_mount(self) -> None:
        table = self.query_one(Table)
        table.add_column("name", key="name")
        for i in range(self.ROWS):
            table.add_row(f"pod-{i:02d}", key=f"r{i}")


class PaneSizedTableApp(PodNamesApp):
    CSS = "Table { height: 1fr; }"


@hooked
async def test_new_rows_in_a_pane_sized_table_lay_nothing_else_out(monkeypatch):
    from textual.screen import Screen

    layouts: list[int] = []
    original = Screen._refresh_layout

    def counting(self, *args, **kwargs):
        layouts.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counting)
    app = PaneSizedTableApp()
    async with app.run_test(size=(40, 8)) as pilot:
        await pilot.pause()
        table = app.query_one(Table)
        layouts.clear()
        table.add_row("pod-03-with-a-longer-name", key="r3")    # a row and a wider column
        await pilot.pause()
        assert layouts == []
        assert table.virtual_size.width >= len("pod-03-with-a-longer-name")
        assert "pod-03-with-a-longer-name" in _screen_text(app)
        # More rows than the table is high: the scrollbar appears (that lays out) and the
        # last row can be scrolled to.
        for i in range(4, 20):
            table.add_row(f"pod-{i:02d}", key=f"r{i}")
        await pilot.pause()
        assert table.show_vertical_scrollbar
        assert table.virtual_size.height == 20 + 1
        table.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert "pod-19" in _screen_text(app)


# Cells as the panes make them, and the awkward ones: spans, justification, overflow, wide
# characters, markup in a str, numbers, nothing, a cell too long for its column.
_CELLS = [
    Text("payments-api", style="bold"),
    Text.assemble(("DOWN", "bold red"), " HTTP 503"),
    Text("12.5 ms", justify="right"),
    Text("mid", justify="center", style="on blue"),
    Text("a reason far too long for its column", overflow="ellipsis"),
    Text("folded text that does not fit", overflow="fold"),
    Text("支付服务 🔥 ok"),
    Text(""),
    "[b]markup[/b] in a str",
    42,
    3.14159,
    None,
    Text("tab\there"),
]


class CellsApp(App):
    def __init__(self, padding: int, cursor_type: str) -> None:
        super().__init__()
        self.padding, self.cursor_type = padding, cursor_type

    def compose(self) -> ComposeResult:
        yield Table(id="t", cell_padding=self.padding, cursor_type=self.cursor_type,
                    fixed_columns=1, zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(Table)
        table.add_column("name", key="name", width=10)
        table.add_column("auto", key="auto")
        table.add_column("narrow", key="narrow", width=4)
        for i, cell in enumerate(_CELLS):
            table.add_row(Text(f"row-{i}"), cell, cell, key=f"r{i}")


@hooked
async def test_one_line_cells_render_as_datatable_renders_them():
    from textual.widgets import DataTable

    for padding, cursor_type in [(1, "row"), (0, "cell"), (2, "column")]:
        app = CellsApp(padding, cursor_type)
        async with app.run_test(size=(80, 30)) as pilot:
            await pilot.pause()
            table = app.query_one(Table)
            table.move_cursor(row=1, column=1)
            base = table.rich_style
            compared = 0
            for row_index in range(len(_CELLS)):
                for column_index, column in enumerate(table.ordered_columns):
                    for cursor, hover in [(False, False), (True, False), (False, True)]:
                        args = (row_index, column_index, base, column.get_render_width(table), cursor, hover)
                        table._cell_render_cache.clear()
                        ours = table._render_cell(*args)
                        table._cell_render_cache.clear()
                        theirs = DataTable._render_cell(table, *args)
                        assert ours == theirs, (padding, cursor_type, _CELLS[row_index], column.key)
                        compared += 1
            assert compared == len(_CELLS) * 3 * 3


class OrderApp(App):
    def __init__(self, table_class: type) -> None:
        super().__init__()
        self.table_class = table_class

    def compose(self) -> ComposeResult:
        yield self.table_class(id="t", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#t")
        table.add_column("name", key="name")
        table.add_column("state", key="state")
        for i in range(6):
            # The same state object in two rows: rows are still told apart by their other cells.
            table.add_row(Text(f"pod-{i}"), SHARED if i in (2, 3) else Text(f"s{i}"), key=f"r{i}")


SHARED = Text("CrashLoop")


@pytest.mark.parametrize("table_class", [StockTable, Table], ids=["stock", "as-configured"])
async def test_set_order_puts_rows_in_the_given_order(table_class):
    app = OrderApp(table_class)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one("#t")
        order = ["r5", "r2", "r0", "r4", "r3", "r1"]
        table.set_order(order)
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == order
        names = [line.split()[0] for line in _screen_text(app).splitlines() if line.strip().startswith("pod-")]
        assert names == [f"pod-{key[1]}" for key in order]
        table.set_order(order)          # the same order again: nothing moves
        assert [row.key.value for row in table.ordered_rows] == order


async def test_stock_set_order_rebuilds_rows_it_cannot_tell_apart():
    app = OrderApp(StockTable)
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        table = app.query_one("#t")
        name = Text("twin")
        table.add_row(name, SHARED, key="a")
        table.add_row(name, SHARED, key="b")        # the very same cell objects as row "a"
        order = ["b", "a", "r0", "r1", "r2", "r3", "r4", "r5"]
        table.set_order(order)
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == order
