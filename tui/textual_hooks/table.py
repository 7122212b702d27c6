"""A DataTable that repaints only the rows that changed (hook ``table``).

``RowRepaint`` is mixed into the panes' ``widgets.table.Table``; with the hook off
that is Textual's own DataTable (with the panes' public ``set_order``).

Two fixes over Textual's DataTable (they lean on its cache layout, and
tests/test_table.py checks the behaviour against it):

* Every ``update_cell`` bumps the table-wide update counter, which is part of every
  render cache key, so one changed latency or pod age re-renders every visible cell
  of the table (Rich renders each cell anew: the bulk of the dashboard's idle CPU).
  Here a plain cell update evicts only that row's cached renders (lazily, once per
  frame) and marks only that row's lines for repainting.
* Auto-width columns are sized when idle but rows already rendered keep their cache
  key, so a row painted in between stays clipped to the header's width until one of
  its cells changes. Bumping the counter after measuring repaints those rows.

And for thousands of rows: ``set_order`` reorders by known keys and keeps the renders
of rows that stayed put; one-line rows skip DataTable's per-row offset lists.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from rich.segment import Segment
from rich.style import Style
from rich.text import TextType
from textual.cache import LRUCache
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets._data_table import TwoWayDict
from textual.widgets.data_table import CellDoesNotExist, CellType, ColumnKey, Row, RowKey

from .pass_style import PassStyle

# More rows than this changed since the last paint: repaint the table whole.
_ROWS_BEFORE_FULL_REPAINT = 16
# Render caches sized for a screenful (a few generations of it), not DataTable's
# 10,000 cells: every sort starts new cache keys, so they fill up with dead renders,
# and every eviction and reorder below scans them.
_CACHED_LINES = 500
_CACHED_CELLS = 3000
_NO_STYLE = Style.parse("none")      # Padding's default style


def _cache(size: int) -> LRUCache[Any, Any]:
    return LRUCache(size)


if TYPE_CHECKING:
    from textual.widgets import DataTable

    # To mypy the mixin is what it is mixed into (a DataTable), so every name it uses is checked.
    class _Mixin(PassStyle, DataTable[Any]):
        pass
else:
    _Mixin = PassStyle


class RowRepaint(_Mixin):
    """Mixed in before a ``DataTable`` subclass."""

    _size_is_local = False      # in _update_dimensions: a new virtual size needs no screen layout

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - DataTable's signature
        super().__init__(*args, **kwargs)
        self._row_render_cache = _cache(_CACHED_LINES)
        self._cell_render_cache = _cache(_CACHED_CELLS)    # keyed (row key, column key, ...) here, not by index
        self._row_renderable_cache = _cache(_CACHED_LINES)
        self._line_cache = _cache(_CACHED_LINES)
        self._stale_rows: set[RowKey] = set()
        self._stale_cells: set[tuple[RowKey, ColumnKey]] = set()
        self._rendered_at = -1              # the _update_count of the last paint: renders cached under it
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
        if index is None:       # a row with data has a place; if not, paint it all rather than guess
            self.refresh()
            return
        # Nothing painted since the last sort or new row: no render of this row is cached
        # under the current keys, so there is nothing to evict (that scan costs ~8 ms).
        if self._rendered_at == self._update_count:
            self._stale_rows.add(key)
            self._stale_cells.add((key, column))
        self._row_renderable_cache.discard((self._update_count, index))
        self._repaint_row(index)

    def _repaint_row(self, index: int) -> None:
        """Mark one row's lines for painting, cheaply: a poll may update thousands of cells."""
        if self._full_repaint_pending:
            return      # the whole table is to be painted anyway
        if (self._rendered_at != self._update_count or not self._single_height
                or len(self._stale_rows) > _ROWS_BEFORE_FULL_REPAINT):
            # The counter moved since the last paint: every cached render is dead, so the whole
            # table is painted. Not assumed to be on its way already: a sort or a new row asks
            # for it, but DataTable's _on_resize bumps the counter after the frame that laid the
            # table out and asks for nothing, and the cell would stay stale on screen.
            # And DataTable.refresh_row measures every row above this one (O(rows)); past a few
            # rows one whole repaint is cheaper, and the unchanged rows come from the caches.
            self._full_repaint_pending = True
            self.refresh()
            return
        y = index + (self.header_height if self.show_header else 0)
        top = round(self.scroll_y)
        if top <= y < top + self.size.height:
            self.refresh(Region(0, y - top, self.size.width, 1))

    def set_order(self, row_keys: Sequence[str]) -> None:
        """Put the rows in this order (every row's key, once): DataTable.sort for an order
        already known, without a key call and a cell lookup per row (5,000 pod rows).

        DataTable.sort discards every cached render; here the rows that kept their place
        keep their cell renders (a crash-looping pod at the top stays there poll after
        poll), so the next paint renders only the cells of rows that moved."""
        key_at = self._row_locations._reverse
        moved: set[str] = set()
        for i, key in enumerate(row_keys):
            at = key_at.get(i)
            if at is None or at.value != key:
                moved.add(key)
        if not moved:
            return
        self._row_locations = TwoWayDict({RowKey(k): i for i, k in enumerate(row_keys)})
        # A cell's render carries its row index (clicks read it): those of moved rows go.
        # Row and line renders are keyed by index, y or cursor place: all go (cheap to redo
        # from the cells), and so do the orders cached under the unchanged update count.
        for cache_key in [k for k in self._cell_render_cache.keys() if k[0].value in moved]:
            self._cell_render_cache.discard(cache_key)
        self._row_render_cache.clear()
        self._row_renderable_cache.clear()
        self._line_cache.clear()
        self._offset_cache.clear()
        self._ordered_row_cache.clear()
        self.refresh()

    # With 5,000 rows DataTable rebuilds a list of every row (ordered_rows, ~10 ms) and of
    # every line (_y_offsets, ~20 ms) after each sort or new row, the first paint and the
    # first key press after a poll wait for them; rows one line high need neither.
    @property
    def ordered_rows(self) -> list[Row]:
        cache_key = (self.row_count, self._update_count)
        ordered = self._ordered_row_cache.get(cache_key)
        if ordered is None:
            rows, key_at = self.rows, self._row_locations._reverse
            ordered = [rows[key_at[i]] for i in range(len(rows))]
            self._ordered_row_cache[cache_key] = ordered
        return ordered

    @property
    def _total_row_height(self) -> int:
        return self.row_count if self._single_height else super()._total_row_height

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        if not self._single_height:
            return super()._get_offsets(y)
        if self.show_header:
            if y < self.header_height:
                return self._header_row_key, y
            y -= self.header_height
        key = self._row_locations.get_key(y)
        if key is None:
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return key, 0

    def _evict_stale_rows(self) -> None:
        stale, cells = self._stale_rows, self._stale_cells
        if self._update_count != self._rendered_at:
            # Every cache key changed since (a sort, a new row): the old entries are dead anyway.
            stale.clear()
            cells.clear()
            return
        # Cell renders are keyed (row, column, ...): the row's other cells stay rendered.
        cell_cache: LRUCache[Any, Any] = self._cell_render_cache
        for cell_key in [k for k in cell_cache.keys() if (k[0], k[1]) in cells]:
            cell_cache.discard(cell_key)
        row_cache: LRUCache[Any, Any] = self._row_render_cache
        for row_key in [k for k in row_cache.keys() if k[0] in stale]:
            row_cache.discard(row_key)
        get_offsets = self._get_offsets
        lines: LRUCache[Any, Any] = self._line_cache
        for line_key in list(lines.keys()):
            try:
                hit = get_offsets(line_key[0])[0] in stale     # keyed by y first
            except (LookupError, IndexError):
                hit = True
            if hit:
                lines.discard(line_key)
        stale.clear()
        cells.clear()

    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        """DataTable's cell render for a one-line body cell, without the generic layers.

        DataTable renders ``Styled(Padding(cell), pre, post)`` through ``Console.render_lines``;
        for a cell one line high, padding and styling that line is a list join and one
        ``Segment.apply_style``, and Rich's render of the cell itself is kept as it is. About
        half the cost of a cell (~35 µs), and cells are most of what a changed row costs.
        tests/test_table.py checks the result against DataTable's own, segment for segment."""
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 else None
        row = self.rows.get(row_key) if row_key is not None else None
        if column_index < 0 or row is None or row.height != 1 or row.auto_height \
                or width < 2 * self.cell_padding:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        column_key = self._column_locations.get_key(column_index)
        cache_key = (row_key, column_key, base_style, cursor, hover, self._show_hover_cursor,
                     self._update_count, self._pseudo_class_state)
        cell_cache: LRUCache[Any, Any] = self._cell_render_cache
        lines = cell_cache.get(cache_key)
        if lines is not None:
            return lines
        cell = self._get_row_renderables(row_index).cells[column_index]
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, row_index < self.fixed_rows or column_index < self.fixed_columns,
            hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        padding = self.cell_padding
        console = self.app.console
        # What Padding asks of the cell: its width less the padding, one line, no wrapping.
        options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True) \
            .update_width(width - 2 * padding)
        line = console.render_lines(cell, options, style=_NO_STYLE, pad=True)[0]
        if padding:
            pad = Segment(" " * padding, _NO_STYLE)
            line = [pad, *line, pad]
        lines = [list(Segment.apply_style(line, style=pre_style, post_style=post_style))]
        cell_cache[cache_key] = lines
        return lines

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale_rows:
            self._evict_stale_rows()
        self._full_repaint_pending = False
        self._rendered_at = self._update_count
        return super().render_lines(crop)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # A table sized by its pane, not by its rows: a new row or a wider column changes only
        # what it scrolls over. virtual_size is a layout reactive, so DataTable laid the whole
        # screen out for it (~11 ms, several a minute in the demo); here the table brings its own
        # scrollbars up to date. A scrollbar that appears or goes still lays out (it changes the
        # content region): _refresh_scrollbars sets layout reactives of its own.
        local = self.is_mounted and self._sized_by_parent()
        self._size_is_local = local
        try:
            super()._update_dimensions(new_rows)
        finally:
            self._size_is_local = False
        if local:
            self._scroll_update(self.virtual_size)
        self._update_count += 1
        self.refresh()

    def _sized_by_parent(self) -> bool:
        height, width = self.styles.height, self.styles.width
        return height is not None and not height.is_auto and (width is None or not width.is_auto)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> "RowRepaint":
        if self._size_is_local:
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
