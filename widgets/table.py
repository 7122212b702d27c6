"""A DataTable that repaints rows after it measures its columns.

Textual's DataTable sizes auto-width columns when idle but keeps the rows it
already rendered (their cache key does not change), so a row painted in between
stays clipped to the header's width until one of its cells changes. Bumping the
update counter after measuring makes those rows render again at the new widths.
"""
from __future__ import annotations

from typing import Iterable

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey


class Table(DataTable):
    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        self._update_count += 1
        self.refresh()
