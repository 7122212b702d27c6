"""The pods pane: restarts since the incident started, worst first.

Renders a ``checks.pods.PodsSnapshot``; no I/O. Rows are keyed by
``namespace/name`` and diffed cell by cell, so with thousands of pods a poll
touches only the rows that changed (plus a re-order when the order changed);
the cells that change with the clock alone (AGE, "... ago") are kept current
for the rows on screen, and for the others when they scroll into view.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.errors import StyleSyntaxError
from rich.style import Style
from rich.text import Text
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from checks.base import Level

from .changes import set_border_text, set_only_class, update_static
from .lazy_children import WAITING, LazyChildren
from .table import Table

if TYPE_CHECKING:   # checks.pods comes with the first snapshot: its types cost ~2 ms to create
    from checks.pods import PodsSnapshot, PodStatus

__all__ = ["PodsPane", "COLUMNS", "human_age", "short_name"]

# What the war room reads first comes first: in a narrow pane NAMESPACE and NODE are what
# gives way (see SHORT_LABELS below), not the restart counts and the termination reason.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "NAME"),
    ("status", "STATUS"),
    ("delta", "Δ INC"),
    ("restarts", "RESTARTS"),
    ("last", "LAST TERMINATION"),
    ("ready", "READY"),
    ("namespace", "NAMESPACE"),
    ("node", "NODE"),
    ("age", "AGE"),
)
_LEVEL_CLASSES = ("-ok", "-warn", "-crit", "-unknown", "-error")
_CLASS_FOR = {Level.OK: "-ok", Level.WARN: "-warn", Level.CRIT: "-crit", Level.UNKNOWN: "-unknown"}

Cell = tuple[str, str]          # (text, rich style): what we compare to decide an update

# Longer pod names lose their middle: the workload's name leads and the replica-set and
# pod hashes end a name, and a 60-character name would push LAST TERMINATION off the pane.
NAME_MAX = 34
# When the columns do not fit the pane, these give way (in this order, down to these
# widths) before anything scrolls: a name keeps its start and its hashes, a node name
# its start and end, a termination its reason.
SHRINK_ORDER: tuple[tuple[str, int], ...] = (("name", 18), ("node", 8), ("last", 12), ("namespace", 8))
_SHRINKS_IN_MIDDLE = ("name", "node")
# Still too wide (the ~94-column pane beside the commander once alerts, metrics and [[hosts]]
# take the right-hand column), each step below is tried in turn until the table fits: the
# long headers give way to short forms, then STATUS may end in "…" ("CrashLoop…" still
# says it), then columns that can be spared go: the namespace when every row shown is in
# the same one (it goes to the pane's title), then the node. Past that the table scrolls:
# NAME, STATUS, the restarts and the termination are not given up.
SHORT_LABELS = {"restarts": "RST", "last": "LAST", "namespace": "NS"}
STATUS_FLOOR = 10


def short_name(name: str, limit: int = NAME_MAX) -> str:
    if len(name) <= limit:
        return name
    tail = (limit - 1) // 2
    return f"{name[:limit - 1 - tail]}…{name[-tail:]}"


def _coarse(now: datetime, since: datetime) -> timedelta:
    """``now - since`` for display. Past 10 minutes ages show whole minutes at best, so they
    are measured from the start of the current minute: every such cell then changes at the
    same tick, once a minute, instead of one pod or another every second (each change makes
    the table re-render all its rows)."""
    coarse = now.replace(second=0, microsecond=0) - since
    return coarse if coarse >= timedelta(minutes=10) else now - since


def human_age(delta: timedelta | None) -> str:
    """kubectl-like short durations: 42s, 5m, 3h, 12d."""
    if delta is None:
        return "-"
    s = int(delta.total_seconds())
    if s < 0:
        s = 0
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 48:
        return f"{h}h{m % 60}m" if h < 8 and m % 60 else f"{h}h"
    d = h // 24
    return f"{d}d{h % 24}h" if d < 8 and h % 24 else f"{d}d"


class PodsPane(LazyChildren, Vertical):
    """Pods table with a 'hide healthy' toggle (the app binds a key to ``toggle_healthy``)."""

    DEFAULT_CSS = """
    PodsPane {
        border: round $primary;
        border-title-align: left;
        border-subtitle-align: right;
        height: 1fr;
    }
    PodsPane.-ok { border: round $success; }
    PodsPane.-warn { border: round $warning; }
    PodsPane.-crit { border: round $error; }
    PodsPane.-unknown { border: round $secondary; }
    PodsPane.-error { border: heavy $error; }
    PodsPane > #pods-error {
        display: none;
        height: auto;
        padding: 0 1;
        color: $text;
        background: $error 30%;
        text-style: bold;
    }
    PodsPane > #pods-error.-visible { display: block; }
    PodsPane > #pods-error.-quiet { background: transparent; color: $text-muted; text-style: none; }
    PodsPane > DataTable { height: 1fr; }
    """

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.hide_healthy = False
        self.hidden_count = 0
        self._snapshot: PodsSnapshot | None = None
        self._cells: dict[str, tuple[Cell, ...]] = {}    # row key -> what is on screen
        self._order: list[str] = []                       # row keys in display order
        # Per column, how many rows want each width (a name's or node's full width): the
        # widest wanted now, also after the crash-looping pod that widened STATUS recovers.
        self._wants: dict[str, Counter[int]] = {key: Counter() for key, _ in COLUMNS}
        self._row_wants: dict[str, tuple[int, ...]] = {}
        self._limits: dict[str, int] = {}                 # column -> width it is cut to now
        self._dropped: frozenset[str] = frozenset()       # columns left empty (no room for them)
        self._namespaces: set[str] = set()                # of the rows shown
        self._title = "Pods"
        self._seen: dict[str, tuple] = {}                 # row key -> (pod, now, palette) it was drawn for
        self._now: datetime | None = None                 # the last snapshot's time and palette, for
        self._pal: dict[str, str] = {}                    # rows that scroll into view later
        self.border_title = "Pods"
        self.border_subtitle = WAITING

    CHILD_ORDER = ("error", "table")

    @property
    def table(self) -> Table:
        return self.lazy_child("table", self._make_table)

    def _make_table(self) -> Table:
        table = Table(id="pods-table", cursor_type="row", zebra_stripes=True)
        for key, label in COLUMNS:
            table.add_column(Text(label), key=key)   # a Text label: no markup parse (nor rich emoji import)
        # Rows scrolled into view get their clock-driven cells (AGE, "... ago") brought up to date.
        self.watch(table, "scroll_y", self._refresh_visible, init=False)
        return table

    def on_mount(self) -> None:
        if self._snapshot is not None:
            self.show(self._snapshot)

    def on_resize(self) -> None:
        self._refresh_visible()

    # -- public ---------------------------------------------------------------
    def toggle_healthy(self) -> bool:
        """Hide (or show again) pods whose level is OK. Returns whether they are hidden now."""
        self.hide_healthy = not self.hide_healthy
        if self._snapshot is not None:
            self.show(self._snapshot)
        return self.hide_healthy

    @property
    def row_keys(self) -> list[str]:
        """Row keys ("namespace/name") in display order."""
        return list(self._order)

    @property
    def selected_key(self) -> str | None:
        """The row key ("namespace/name") under the table's cursor, None with no rows."""
        if self.existing_child("table") is None or not self._order:
            return None
        row = self.table.cursor_row
        return self._order[row] if 0 <= row < len(self._order) else None

    def show(self, snapshot: PodsSnapshot) -> None:
        self._snapshot = snapshot
        if not self.is_mounted:
            return
        self._set_classes(snapshot)
        title = "Pods"
        if snapshot.context:
            title += f" · {snapshot.context}"
        self._title = title
        set_border_text(self, title=self._full_title())     # names from the cluster, not markup
        visible = [p for p in snapshot.pods if not (self.hide_healthy and p.level == Level.OK)]
        self.hidden_count = len(snapshot.pods) - len(visible)
        subtitle = snapshot.error or snapshot.summary
        if self.hidden_count:
            subtitle = f"{subtitle} · {self.hidden_count} hidden"
        set_border_text(self, subtitle=subtitle)

        text = ""
        if snapshot.error:
            text = f"⚠ {snapshot.error}" if snapshot.configured else snapshot.error
            if snapshot.stale:
                text += " — showing last known pods"
        err = self.message_line("error", lambda: Static("", id="pods-error"), text)
        if err is not None:
            update_static(err, text)
            err.set_class(bool(text), "-visible")
            err.set_class(not snapshot.configured, "-quiet")

        with self.app.batch_update():
            self._update_rows(visible, snapshot.taken_at)

    # -- rows -----------------------------------------------------------------
    def _set_classes(self, snapshot: PodsSnapshot) -> None:
        if snapshot.error and snapshot.configured:
            wanted = "-error"
        elif not snapshot.configured:
            wanted = "-unknown"
        else:
            wanted = _CLASS_FOR.get(snapshot.level, "-unknown")
        set_only_class(self, wanted, _LEVEL_CLASSES)

    def _full_title(self) -> str:
        # A namespace column given up for room: the one namespace of every row is said here.
        if "namespace" in self._dropped and len(self._namespaces) == 1:
            return f"{self._title} · {next(iter(self._namespaces))}"
        return self._title

    def _palette(self) -> dict[str, str]:
        """Cell styles from the theme's colours (cells are Rich Text, which cannot use $variables)."""
        variables = getattr(self.app, "theme_variables", {}) or {}

        def color(name: str, fallback: str) -> str:
            value = variables.get(name, fallback)
            try:
                Style.parse(value)
            except StyleSyntaxError:
                return fallback
            return value

        return {"crit": f"bold {color('error', 'red')}", "warn": color("warning", "yellow")}

    def _cells_for(self, p: PodStatus, now: datetime, pal: dict[str, str]) -> tuple[Cell, ...]:
        level_style = pal["crit"] if p.level == Level.CRIT else pal["warn"] if p.level == Level.WARN else ""
        status = p.status or p.phase
        if p.waiting_reason and p.waiting_reason not in status:
            status = f"{status} ({p.waiting_reason})"
        delta = p.restarts_since_incident
        if p.last_termination_reason:
            ago = human_age(_coarse(now, p.last_termination_at)) + " ago" if p.last_termination_at else ""
            last = f"{p.last_termination_reason} {ago}".strip()
            last_style = pal["crit"] if p.last_termination_reason == "OOMKilled" and p.level == Level.CRIT else ""
        else:
            last, last_style = "-", "dim"
        cells = {
            "namespace": (p.namespace, ""),
            "name": (short_name(p.name, self._limits.get("name", NAME_MAX)), level_style),
            "ready": (p.ready, "" if p.is_ready else pal["warn"]),
            "status": (status, level_style),
            "restarts": (str(p.restarts), ""),
            "delta": (f"+{delta}" if delta else "0", f"reverse {pal['warn']}" if delta else "dim"),
            "last": (last, last_style),
            "node": (short_name(p.node, self._limits["node"]) if "node" in self._limits and p.node
                     else p.node or "-", ""),
            "age": (human_age(_coarse(now, p.created_at) if p.created_at else None), ""),
        }
        return tuple(cells[key] for key, _ in COLUMNS)

    def _update_rows(self, pods: list[PodStatus], now: datetime) -> None:
        table = self.table
        pal = self._palette()
        self._now, self._pal = now, pal
        wanted: dict[str, PodStatus] = {p.key: p for p in pods}
        self._namespaces = {p.namespace for p in pods}
        gone = [k for k in self._cells if k not in wanted]
        # DataTable.remove_row is O(rows): past a handful, rebuilding is far cheaper.
        if len(gone) > max(32, len(self._cells) // 10):
            table.clear()
            self._cells.clear()
            self._seen.clear()
            self._order = []
            self._row_wants.clear()
            for wants in self._wants.values():
                wants.clear()
        else:
            for key in gone:
                table.remove_row(key)
                del self._cells[key]
                self._seen.pop(key, None)
                self._want(key, None)
        new_keys: list[str] = []
        for key, p in wanted.items():
            seen = self._seen.get(key)
            # An unchanged pod differs at most in its AGE and "... ago" cells, which only the
            # rows on screen need (below): with 5,000 young pods every age changes every
            # second, and updating them all froze the app for ~200 ms a second.
            # (Equal but not the same object: a pod re-judged the same, a copy masked afresh.)
            if seen is not None and (seen[0] is p or seen[0] == p) and seen[2] == pal:
                if seen[0] is not p:
                    self._seen[key] = (p, seen[1], pal)
                continue
            if self._draw_row(table, key, p, now, pal):
                new_keys.append(key)
        order = list(wanted)
        # Where the table has the rows now: survivors in their old order, new rows appended.
        current = [k for k in self._order if k in wanted] + new_keys
        if current != order:
            table.set_order(order)
        self._order = order
        self._refresh_visible()

    def _want(self, key: str, wants: tuple[int, ...] | None) -> None:
        """Count what a row wants of each column (None: the row is gone)."""
        old = self._row_wants.pop(key, None)
        if old == wants:
            if wants is not None:
                self._row_wants[key] = wants
            return
        if old is not None:
            for (col, _), width in zip(COLUMNS, old):
                counts = self._wants[col]
                counts[width] -= 1
                if not counts[width]:
                    del counts[width]
        if wants is not None:
            for (col, _), width in zip(COLUMNS, wants):
                self._wants[col][width] += 1
            self._row_wants[key] = wants

    def _refit(self) -> None:
        if self._fit_columns() and self._now is not None:
            # Cut to new widths: every row's name and node cells are drawn again.
            table, now, pal = self.table, self._now, self._pal
            for key, (p, _, _) in list(self._seen.items()):
                self._draw_row(table, key, p, now, pal)

    def _fit_columns(self) -> bool:
        """Size every column to what its rows want now, and when the total is wider than the
        pane, make the table fit (no horizontal scrollbar, no clipped AGE): cut the columns of
        SHRINK_ORDER, then the steps of SHORT_LABELS, STATUS_FLOOR and dropped columns, one
        after the other. True if a column's cut or drop changed (its cells need drawing again)."""
        if not self.is_mounted or self.existing_child("table") is None:
            return False
        table = self.table
        width = self.size.width
        if width <= 0:
            return False
        rows_room = table.size.height - 1 if table.size.height else self.size.height - 1
        room = width - (2 if table.row_count > rows_room else 0)
        pad = 2 * table.cell_padding
        one_namespace = len(self._namespaces) <= 1
        steps: list[tuple[bool, int | None, frozenset[str]]] = [
            (False, None, frozenset()), (True, None, frozenset()), (True, STATUS_FLOOR, frozenset())]
        if one_namespace:
            steps.append((True, STATUS_FLOOR, frozenset({"namespace"})))
        steps.append((True, STATUS_FLOOR, frozenset({"namespace", "node"} if one_namespace else {"node"})))
        for short, status_floor, dropped in steps:
            over, widths, limits, labels = self._plan(room, pad, short, status_floor, dropped)
            if over <= 0:
                break
        for key, _ in COLUMNS:
            column = table.columns[ColumnKey(key)]
            if column.label.plain != labels[key]:
                column.label = Text(labels[key])
                table._require_update_dimensions = True
            if column.content_width != widths[key] or column.auto_width:
                column.auto_width = False
                column.width = column.content_width = widths[key]
                table._require_update_dimensions = True
        if table._require_update_dimensions:
            table.refresh()
        changed = limits != self._limits or dropped != self._dropped
        self._limits, self._dropped = limits, dropped
        set_border_text(self, title=self._full_title())
        return changed

    def _plan(self, room: int, pad: int, short: bool, status_floor: int | None,
              dropped: frozenset[str]) -> tuple[int, dict[str, int], dict[str, int], dict[str, str]]:
        """One way to lay the columns out: (how far over the room it is, widths, cuts, headers)."""
        labels = {key: "" if key in dropped else SHORT_LABELS.get(key, label) if short else label
                  for key, label in COLUMNS}
        # A dropped column keeps its padding (DataTable has no hiding a column): 2 blank cells.
        widths = {key: 0 if key in dropped else max([cell_len(labels[key]), *self._wants[key]])
                  for key, _ in COLUMNS}
        over = sum(w + pad for w in widths.values()) - room
        limits: dict[str, int] = {}
        order = SHRINK_ORDER + ((("status", status_floor),) if status_floor is not None else ())
        for key, floor in order:
            if over <= 0:
                break
            if key in dropped:
                continue
            cut = min(over, max(0, widths[key] - max(floor, cell_len(labels[key]))))
            if cut:
                widths[key] -= cut
                limits[key] = widths[key]
                over -= cut
        return over, widths, limits, labels

    def _draw_row(self, table: DataTable, key: str, p: PodStatus, now: datetime, pal: dict[str, str]) -> bool:
        """Put the pod's cells as of ``now`` in its row (only the cells that differ). True if the row is new."""
        self._seen[key] = (p, now, pal)
        cells = self._cells_for(p, now, pal)
        # What a row wants is measured on its whole cells, also of a column dropped for now.
        self._want(key, tuple(min(cell_len(p.name), NAME_MAX) if col == "name"
                              else cell_len(p.node) if col == "node" and p.node
                              else cell_len(text) for (col, _), (text, _) in zip(COLUMNS, cells)))
        if self._dropped:
            cells = tuple(("", "") if col in self._dropped else cell for (col, _), cell in zip(COLUMNS, cells))
        old = self._cells.get(key)
        if old is None:
            table.add_row(*(Text(t, style=s, overflow="ellipsis") for t, s in cells), key=key)
            self._cells[key] = cells
            return True
        if old != cells:
            for (col, _), new, prev in zip(COLUMNS, cells, old):
                if new != prev:
                    # No re-measure (DataTable's goes over every row of the column):
                    # _fit_columns sizes the columns from the counted widths.
                    table.update_cell(key, col, Text(new[0], style=new[1], overflow="ellipsis"))
            self._cells[key] = cells
        return False

    def _refresh_visible(self) -> None:
        """Bring the clock-driven cells of the rows on screen up to the last snapshot's time."""
        now, pal = self._now, self._pal
        if now is None or not self.is_mounted:
            return
        self._refit()
        table = self.table
        minute = now.replace(second=0, microsecond=0)
        settled_before = minute - timedelta(minutes=10)
        for key in table.keys_in_view(self._order):
            seen = self._seen.get(key)
            if seen is None or seen[1] == now:
                continue
            p = seen[0]
            # Times that all show whole minutes look the same until the minute turns.
            settled = ((p.created_at is None or p.created_at <= settled_before)
                       and (p.last_termination_at is None or p.last_termination_at <= settled_before))
            if settled and seen[1].replace(second=0, microsecond=0) == minute and seen[2] == pal:
                continue
            self._draw_row(table, key, p, now, pal)
