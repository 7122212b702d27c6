"""The panes' table: Textual's DataTable with two calls the panes need.

``set_order`` puts the rows in an order the pane already knows; ``keys_in_view``
says which rows are on screen. Both use DataTable's public API only. With the
``table`` Textual hook on (tui/textual_hooks/table.py), the table also repaints only
the rows that changed and reorders without re-rendering the rows that stayed put.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from tui.textual_hooks import active


class StockTable(DataTable):
    def set_order(self, row_keys: Sequence[str]) -> None:
        """Put the rows in this order (every row's key, once), as DataTable.sort would."""
        columns = [column.key for column in self.ordered_columns]
        if not columns or self.row_count < 2:
            return
        # DataTable.sort hands the key function a row's cells, not its key: the rows are told
        # apart by their cell objects (each row's own), looked up by identity.
        place = {tuple(map(id, self.get_row(key))): i for i, key in enumerate(row_keys)}
        if len(place) != self.row_count:
            self._rebuild(row_keys)      # two rows with the very same cell objects: no telling them apart
            return
        if len(columns) == 1:
            self.sort(*columns, key=lambda cell: place[(id(cell),)])
        else:
            self.sort(*columns, key=lambda cells: place[tuple(map(id, cells))])

    def _rebuild(self, row_keys: Sequence[str]) -> None:
        rows = [(key, self.get_row(key), self.rows[RowKey(key)]) for key in row_keys]
        cursor = self.cursor_coordinate
        self.clear()
        for key, cells, row in rows:
            self.add_row(*cells, key=key, height=row.height, label=row.label)
        self.move_cursor(row=cursor.row, column=cursor.column, animate=False)

    # DataTable's Home/End move a row cursor nowhere (they go to the first/last column, of
    # which a row cursor has none): in a table of rows they go to the first/last row, as the
    # README's keys say (the deploys and pods panes).
    def action_scroll_home(self) -> None:
        if self.show_cursor and self.cursor_type == "row":
            self.action_scroll_top()
        else:
            super().action_scroll_home()

    def action_scroll_end(self) -> None:
        if self.show_cursor and self.cursor_type == "row":
            self.action_scroll_bottom()
        else:
            super().action_scroll_end()

    def keys_in_view(self, order: Sequence[str]) -> Sequence[str]:
        """The keys of ``order`` (the rows' order) on screen now, with a row's margin either
        side (scroll_y is a float): what a pane that updates only visible rows brings up to date."""
        height = self.size.height
        if not height or not self.display:
            return ()
        top = max(0, int(self.scroll_y) - 1)
        return order[top:top + height + 2]


if TYPE_CHECKING:
    # To mypy, the table is the stock one: RowRepaint changes how it paints, not its interface.
    Table = StockTable
elif active("table"):
    from tui.textual_hooks.table import RowRepaint

    class Table(RowRepaint, StockTable):
        pass
else:
    Table = StockTable
