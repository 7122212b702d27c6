"""The service health pane: one keyed row per service, worst first.

Renders :class:`checks.health.HealthSnapshot` only; no I/O. Everything that came
from config or a remote server (names, reasons) goes in as ``Text``, never markup.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from checks.base import Level
from widgets.sparkline import sparkline

from .changes import same_text, set_border_text, set_only_class, update_static
from .lazy_children import WAITING, LazyChildren
from .table import Table

if TYPE_CHECKING:
    from checks.health import HealthSnapshot, ServiceStatus

# checks.health is imported by the first snapshot, not with the pane: its snapshot types
# cost ~2 ms to create, before the first frame. Its State is a StrEnum: these keys match it.
BADGE_STYLE = {
    "UP": "bold black on green",
    "DEGRADED": "bold black on dark_orange",
    "DOWN": "bold white on red",
    "UNKNOWN": "dim",
}
REASON_STYLE = {"UP": "dim", "DEGRADED": "dark_orange", "DOWN": "bold red", "UNKNOWN": "dim"}
LEVEL_CLASS = {Level.OK: "-ok", Level.UNKNOWN: "-unknown", Level.WARN: "-warn", Level.CRIT: "-crit"}

# (key, label, max content width). Cells carry their own one-space gap (cell_padding=0):
# DataTable's default padding costs two columns per cell, which at 80 columns is
# the difference between a readable reason and a stub.
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("state", "State", 8),
    ("name", "Service", 14),   # at most; sized to the longest name
    ("code", "Code", 3),
    ("latency", "   Lat", 6),
    ("trend", "Trend", 8),
    ("fails", "Fail", 4),
    ("since", "Since", 6),
    ("reason", "Reason", 0),   # 0: whatever width is left
)
# Below this pane width the Code column goes (a failure's reason already says
# "HTTP 503") and names get shorter, so the reason stays readable at 80 columns.
WIDE = 100
COMPACT_NAME = 12
COMPACT_COLUMNS = tuple(c for c in COLUMNS if c[0] != "code")
# Beside the host pane at 160 columns the pane is ~60 wide: the failure count goes too.
NARROW = 70
NARROW_COLUMNS = tuple(c for c in COMPACT_COLUMNS if c[0] != "fails")
MIN_REASON = 16
MIN_REASON_NARROW = 10
TREND_POINTS = 8


def _reason_cell(s: ServiceStatus, width: int) -> Text:
    # A damped failure leaves the state as it was; say so, or "UP · HTTP 500" reads as a contradiction.
    if s.consecutive_failures and s.state != "DOWN":
        return _cell(f"{s.reason} ({s.consecutive_failures}× failed)", width, style="bold #ffaf00")
    return _cell(s.reason, width, style=REASON_STYLE[s.state])


def format_latency(ms: float | None) -> str:
    if ms is None:
        return "—"
    if ms >= 10_000:
        return f"{ms / 1000:.1f}s"
    return f"{ms:.0f}ms"


def _cell(content: str | Text, width: int, *, style: str = "", justify: str = "left") -> Text:
    text = content if isinstance(content, Text) else Text(content, style=style)
    text.truncate(width, overflow="ellipsis")
    if justify == "right":
        text.pad_left(width - text.cell_len)
    text.append(" ")
    # no_wrap: a wrapped cell loses its leading spaces (the right-justify padding).
    text.no_wrap = True
    return text


class _HealthTable(Table):
    def on_resize(self, event: Resize) -> None:
        pane = self.parent
        if isinstance(pane, HealthPane):
            pane._table_resized()


class HealthPane(LazyChildren, Vertical):
    """Per service: state badge, name, HTTP code, latency now and trend, consecutive
    failures, time since the last state change, and the reason in words."""

    DEFAULT_CSS = """
    HealthPane {
        border: round $primary;
        height: 1fr;
    }
    HealthPane.-ok { border: round $success; }
    HealthPane.-warn { border: round $warning; }
    HealthPane.-crit, HealthPane.-error { border: round $error; }
    HealthPane.-unknown { border: round $secondary; }
    HealthPane > #health-error {
        display: none;
        color: $error;
        text-style: bold;
    }
    HealthPane.-error > #health-error { display: block; }
    HealthPane > #health-hint {
        display: none;
        color: $text-muted;
    }
    HealthPane.-empty > #health-hint { display: block; }
    HealthPane.-empty > DataTable { display: none; }
    HealthPane > DataTable { height: 1fr; overflow-x: hidden; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(name=name, id=id, classes=classes)
        self.border_title = "Health"
        self.border_subtitle = WAITING
        self._snapshot: HealthSnapshot | None = None
        self._cells: dict[str, dict[str, Text]] = {}   # row key -> column key -> rendered cell
        self._order: list[str] = []
        # Rows off screen whose cells are behind the last snapshot: row key -> (status, taken_at).
        self._pending: dict[str, tuple[ServiceStatus, datetime]] = {}
        self._columns: tuple[tuple[str, str, int], ...] = ()
        self._widths: dict[str, int] = {}

    CHILD_ORDER = ("error", "hint", "table")

    @property
    def table(self) -> Table:
        return self.lazy_child("table", self._make_table)

    def _make_table(self) -> Table:
        table = _HealthTable(cell_padding=0, show_cursor=False, zebra_stripes=False)
        self.watch(table, "scroll_y", self._flush_visible, init=False)
        return table

    def _set_line(self, name: str, text: str) -> None:
        """The error or hint line; made only when there is something to say."""
        line = self.message_line(name, lambda: Static(id=f"health-{name}", markup=False), text)
        if line is not None:
            update_static(line, text)

    # -- rendering --

    def _row(self, s: ServiceStatus, taken_at: datetime) -> dict[str, Text]:
        from checks.health import format_duration

        w = self._widths
        fails = str(s.consecutive_failures) if s.consecutive_failures else ""
        since = (
            format_duration((taken_at - s.since).total_seconds())
            if s.checked_at is not None else "—"
        )
        cells = {
            "state": _cell(Text(s.state.value.center(w["state"]), style=BADGE_STYLE[s.state]), w["state"]),
            "name": _cell(s.name, w["name"], style="bold"),
            "code": _cell(str(s.status_code) if s.status_code is not None else "—", w.get("code", 3)),
            "latency": _cell(format_latency(s.latency_ms), w["latency"], justify="right"),
            "trend": _cell(sparkline(s.history, TREND_POINTS), w["trend"], style="cyan"),
            "fails": _cell(fails, w.get("fails", 4), style="bold red", justify="right"),
            "since": _cell(since, w["since"], justify="right"),
            "reason": _reason_cell(s, w["reason"]),
        }
        return {key: cells[key] for key, _, _ in self._columns}

    def _fit_widths(self, snapshot: HealthSnapshot | None) -> bool:
        """Pick the column set for the pane's width and what it shows, size the name column
        to the names, and give the reason column whatever is left (it is the one thing worth
        reading). True if anything changed.

        The richest column set in which the longest name and the longest reason both fit
        whole wins; when none does, the fewest columns, and names give way to the reason
        down to COMPACT_NAME."""
        width = self.outer_size.width
        candidates = ((COLUMNS, COMPACT_COLUMNS, NARROW_COLUMNS) if width >= WIDE
                      else (COMPACT_COLUMNS, NARROW_COLUMNS) if width >= NARROW else (NARROW_COLUMNS,))
        services = snapshot.services if snapshot else ()
        longest = max((Text(s.name).cell_len for s in services), default=1) or 1
        longest_reason = max((_reason_cell(s, 10_000).cell_len - 1 for s in services), default=0)
        min_reason = MIN_REASON_NARROW if width < NARROW else MIN_REASON
        # A vertical scrollbar takes two columns, only when the rows overflow the pane:
        # reserved then, so the table never also grows a horizontal one.
        rows_room = self.size.height - 1 - (1 if snapshot is not None and snapshot.error else 0)
        scrollbar = 2 if len(services) > rows_room else 0
        for columns in candidates:
            widths = {key: w for key, _, w in columns}
            labels = {key: len(label) for key, label, _ in columns}
            fixed = sum(max(widths[k], labels[k]) + 1 for k, _, _ in columns if k not in ("name", "reason"))
            # name and reason text, without their one-column gaps
            room = self.size.width - scrollbar - fixed - 2
            if max(longest, labels["name"]) + longest_reason <= room:
                break
        floor = min(longest, COMPACT_NAME)
        widths["name"] = min(longest, max(floor, room - max(longest_reason, min_reason)))
        widths["reason"] = max(min_reason, room - max(widths["name"], labels["name"]))
        changed = widths != self._widths or columns != self._columns
        if columns != self._columns:
            table = self.table
            table.clear(columns=True)
            for key, label, _ in columns:
                table.add_column(Text(label + " "), key=key)
            self._cells.clear()
            self._pending.clear()
            self._order = []
            self._columns = columns
        if changed:
            # DataTable only ever widens an auto-width column; the cells are padded or cut to
            # these widths, so the columns are set to them (a narrower reason column too).
            table = self.table
            for key, label, _ in columns:
                column = table.columns.get(ColumnKey(key))
                if column is not None:
                    column.content_width = max(len(label), widths[key]) + 1
            table._require_update_dimensions = True
            table.refresh()
        self._widths = widths
        return changed

    def on_resize(self, event: Resize) -> None:
        # Before the first snapshot there is nothing to fit (and no table to make).
        if self._snapshot is not None and self._fit_widths(self._snapshot):
            self.show(self._snapshot)

    def _table_resized(self) -> None:
        # More rows may be in view now (a taller pane, the error line gone).
        if self._pending:
            self._flush_visible()

    def _flush_visible(self, *_: object) -> None:
        """Bring rows scrolled into view up to date with the last snapshot."""
        if not self._pending:
            return
        todo = [k for k in self.table.keys_in_view(self._order) if k in self._pending]
        if not todo:
            return
        table = self.table
        with self.app.batch_update():
            for key in todo:
                s, taken_at = self._pending.pop(key)
                self._update_row(table, key, self._row(s, taken_at))

    def _update_row(self, table: DataTable[Text], key: str, cells: dict[str, Text]) -> None:
        old = self._cells[key]
        for column, cell in cells.items():
            if same_text(old[column], cell):
                cells[column] = old[column]   # _cells mirrors what the table holds
            else:
                # Cells are padded to the width _fit_widths chose, so the column never
                # needs re-measuring (which Textual does over every row, per cell).
                table.update_cell(key, column, cell)
        self._cells[key] = cells

    def show(self, snapshot: HealthSnapshot) -> None:
        self._snapshot = snapshot
        self._fit_widths(snapshot)
        table = self.table
        with self.app.batch_update():
            set_only_class(self, LEVEL_CLASS[snapshot.level], LEVEL_CLASS.values())
            self.set_class(bool(snapshot.error), "-error")
            self.set_class(not snapshot.services, "-empty")
            set_border_text(self, subtitle=snapshot.error or snapshot.summary)
            self._set_line("error", f"⚠ {snapshot.error}" if snapshot.error else "")
            self._set_line("hint", snapshot.summary if not snapshot.services else "")

            from checks.health import worst_first_key

            ranked = sorted(snapshot.services, key=worst_first_key)
            rows: dict[str, ServiceStatus] = {}
            for s in ranked:
                key = s.name
                n = 2
                while key in rows:   # config should keep names unique; don't crash if not
                    key, n = f"{s.name}#{n}", n + 1
                rows[key] = s

            for key in [k for k in self._cells if k not in rows]:
                table.remove_row(key)
                del self._cells[key]
                self._pending.pop(key, None)
            order = list(rows)
            # Only rows on screen are rendered now: with a thousand services every latency,
            # trend and "since" changes every round, and rendering all of them held the UI
            # for 40-60 ms per round. The rest wait in _pending until scrolled into view.
            visible = set(self.table.keys_in_view(order))
            taken_at = snapshot.taken_at
            for key, s in rows.items():
                if key not in self._cells:
                    cells = self._row(s, taken_at)
                    table.add_row(*(cells[c] for c, _, _ in self._columns), key=key)
                    self._cells[key] = cells
                    self._pending.pop(key, None)
                elif key in visible:
                    self._pending.pop(key, None)
                    self._update_row(table, key, self._row(s, taken_at))
                else:
                    self._pending[key] = (s, taken_at)

            if order != self._order:
                table.set_order(order)
                self._order = order

    @property
    def row_keys(self) -> list[str]:
        """Row keys in display order (worst first)."""
        return list(self._order)
