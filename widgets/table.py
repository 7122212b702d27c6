"""A DataTable that repaints only the rows that changed.

Two fixes over Textual's DataTable (pinned in constraints.txt; these lean on its
cache layout, and tests/test_table.py checks the behaviour against it):

* Every ``update_cell`` bumps the table-wide update counter, which is part of every
  render cache key, so one changed latency or pod age re-renders every visible cell
  of the table (Rich renders each cell anew: the bulk of the dashboard's idle CPU).
  Here a plain cell update evicts only that row's cached renders (lazily, once per
  frame) and marks only that row's lines for repainting.
* Auto-width columns are sized when idle but rows already rendered keep their cache
  key, so a row painted in between stays clipped to the header's width until one of
  its cells changes. Bumping the counter after measuring repaints those rows.
"""
from __future__ import annotations

from typing import Iterable

from rich.text import TextType
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, CellType, ColumnKey, RowKey


# More rows than this changed since the last paint: repaint the table whole.
_ROWS_BEFORE_FULL_REPAINT = 16


class Table(DataTable):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - DataTable's signature
        super().__init__(*args, **kwargs)
        self._stale_rows: set[RowKey] = set()
        self._stale_cells: set[tuple[RowKey, ColumnKey]] = set()
        self._single_height = True          # every row one line: a row's y is its index
        self._full_repaint_pending = False

    def add_row(self, *cells: CellType, height: int | None = 1, key: str | None = None,
                label: TextType | None = None) -> RowKey:
        if height != 1:
            self._single_height = False
        return super().add_row(*cells, height=height, key=key, label=label)

    def update_cell(self, row_key: RowKey | str, column_key: ColumnKey | str, value: CellType, *,
                    update_width: bool = False) -> None:
        key = RowKey(row_key) if isinstance(row_key, str) else row_key
        row = self.rows.get(key)
        if update_width or row is None or row.auto_height:
            # A re-measure or a row whose height may change: the whole table, as DataTable does.
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        column = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        if column not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
        self._data[key][column] = value
        index = self._row_locations.get(key)
        self._stale_rows.add(key)
        self._stale_cells.add((key, column))
        self._row_renderable_cache.discard((self._update_count, index))
        self._repaint_row(index)

    def _repaint_row(self, index: int) -> None:
        """Mark one row's lines for painting, cheaply: a poll may update thousands of cells."""
        if self._full_repaint_pending:
            return
        if not self._single_height or len(self._stale_rows) > _ROWS_BEFORE_FULL_REPAINT:
            # DataTable.refresh_row measures every row above this one (O(rows)); past a few
            # rows one whole repaint is cheaper, and the unchanged rows come from the caches.
            self._full_repaint_pending = True
            self.refresh()
            return
        y = index + (self.header_height if self.show_header else 0)
        top = round(self.scroll_y)
        if top <= y < top + self.size.height:
            self.refresh(Region(0, y - top, self.size.width, 1))

    def _evict_stale_rows(self) -> None:
        stale, cells = self._stale_rows, self._stale_cells
        # Cell renders are keyed (row, column, ...): the row's other cells stay rendered.
        for cache_key in [k for k in self._cell_render_cache.keys() if (k[0], k[1]) in cells]:
            self._cell_render_cache.discard(cache_key)
        for cache_key in [k for k in self._row_render_cache.keys() if k[0] in stale]:
            self._row_render_cache.discard(cache_key)
        get_offsets = self._get_offsets
        lines = self._line_cache
        for cache_key in list(lines.keys()):
            try:
                hit = get_offsets(cache_key[0])[0] in stale
            except (LookupError, IndexError):
                hit = True
            if hit:
                lines.discard(cache_key)
        stale.clear()
        cells.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale_rows:
            self._evict_stale_rows()
        self._full_repaint_pending = False
        return super().render_lines(crop)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._update_count += 1
        self.refresh()
