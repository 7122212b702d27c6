"""The recent-deploys pane: newest first across repos, suspect ones flagged.

Renders :class:`checks.deploys.DeploysSnapshot` only; no I/O, no git. Rows are
keyed by repo and deploy (a re-tag of the same commit is its own row), updated
cell by cell, and kept newest first with ``DataTable.sort`` on a hidden epoch so
that the cursor stays on the deploy the IC selected while new ones arrive above
it. Names and subjects come from git history, i.e. from anyone: they go in as
``Text``, never markup.

The app binds keys on top of :meth:`DeploysPane.selected` (copy
``revert_command``, show ``diffstat``); pressing Enter on a row posts
:class:`DeploysPane.DeploySelected`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Static

from checks.base import Level

from .changes import set_border_text, set_only_class, update_static
from .lazy_children import WAITING, LazyChildren
from .table import Table

if TYPE_CHECKING:
    from checks.deploys import Deploy, DeploysSnapshot, RepoDeploys

__all__ = ["DeploysPane"]

_LEVEL_CLASS = {Level.OK: "-ok", Level.UNKNOWN: "-unknown", Level.WARN: "-warn", Level.CRIT: "-crit"}
_ALL_CLASSES = ("-ok", "-unknown", "-warn", "-crit", "-error")
AUTHOR_MAX = 16
SUBJECT_MAX = 72
# Below this pane width the author column goes: the subject says more.
COMPACT_BELOW = 72
# A deploy time that is not the commit's (branches) nor the tagger's (annotated tags) says
# what it is (checks.deploys.TIME_*): a lightweight tag has no date of its own.
TIME_MARKS = {
    "commit date": "(commit date)",        # nothing shows when the tag was made
    "ref written": "(tag ref written)",    # its loose ref's time: made after its commit
    "first seen": "(tag first seen)",      # appeared while the dashboard watched
}


class _When(Text):
    """A time cell that remembers its instant, so rows can be sorted newest first."""

    epoch: float = 0.0


class DeploysPane(LazyChildren, Vertical):
    """Recent deploys; call :meth:`show` with each new :class:`DeploysSnapshot`."""

    class DeploySelected(Message):
        """Enter pressed on a deploy row."""

        def __init__(self, repo: RepoDeploys, deploy: Deploy) -> None:
            super().__init__()
            self.repo = repo
            self.deploy = deploy

    DEFAULT_CSS = """
    DeploysPane {
        border: round $primary;
        height: 1fr;
        min-height: 4;
    }
    DeploysPane.-warn { border: round $warning; }
    DeploysPane.-crit, DeploysPane.-error { border: round $error; }
    DeploysPane > #deploys-message { display: none; padding: 0 1; color: $foreground-darken-3; }
    DeploysPane > #deploys-message.-shown { display: block; }
    DeploysPane > #deploys-message.-error { color: $error; text-style: bold; }
    DeploysPane > #deploys-message.-warn { color: $warning; }
    /* A dashboard pane: the subject is cut at the edge rather than costing a row for a scrollbar. */
    DeploysPane > DataTable { height: 1fr; background: transparent; overflow-x: hidden; }
    DeploysPane > .deploys-pane--suspect { color: $warning; }
    DeploysPane > .deploys-pane--badge-suspect { color: $background; background: $warning; text-style: bold; }
    DeploysPane > .deploys-pane--during { color: $primary-lighten-2; }
    DeploysPane > .deploys-pane--badge-during { color: $background; background: $primary-lighten-2; text-style: bold; }
    DeploysPane > .deploys-pane--dim { color: $foreground-darken-3; }
    """

    COMPONENT_CLASSES = {
        "deploys-pane--suspect", "deploys-pane--badge-suspect",
        "deploys-pane--during", "deploys-pane--badge-during", "deploys-pane--dim",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.snapshot: DeploysSnapshot | None = None
        self._rows: dict[str, tuple[RepoDeploys, Deploy]] = {}
        self._layout: tuple[bool, bool, bool] | None = None   # (several repos, compact, tags only)
        self.border_title = "deploys"
        self.border_subtitle = WAITING

    CHILD_ORDER = ("message", "table")

    @property
    def table(self) -> DataTable:
        return self.lazy_child("table", lambda: Table(id="deploys-table", cursor_type="row", zebra_stripes=False))

    # ------------------------------------------------------------ accessors

    def selected(self) -> tuple[RepoDeploys, Deploy] | None:
        """The repo and deploy under the cursor, or None when the table is empty."""
        table = self.existing_child("table")
        if not isinstance(table, DataTable) or table.row_count == 0:
            return None
        try:
            row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - cursor outside the rows
            return None
        return self._rows.get(str(row_key.value))

    def selected_deploy(self) -> Deploy | None:
        picked = self.selected()
        return picked[1] if picked else None

    def row_keys(self) -> list[str]:
        """Row keys in display order ("<repo>:<sha or tag>"), for tests and the app."""
        table = self.table
        return [str(table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value) for i in range(table.row_count)]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        picked = self._rows.get(str(event.row_key.value))
        if picked is not None:
            event.stop()
            self.post_message(self.DeploySelected(*picked))

    # ------------------------------------------------------------ show

    def show(self, snapshot: DeploysSnapshot) -> None:
        set_only_class(self, "-error" if snapshot.error else _LEVEL_CLASS[snapshot.level], _ALL_CLASSES)
        set_border_text(self, subtitle=snapshot.error or snapshot.summary)   # summaries quote commit subjects
        self._show_message(snapshot)
        has_rows = any(r.deploys for r in snapshot.repos)
        if snapshot.error and not has_rows:
            return  # keep the last good rows visible under the error
        self.snapshot = snapshot
        with self.app.batch_update():
            self._sync_rows(snapshot)

    def _show_message(self, snapshot: DeploysSnapshot) -> None:
        lines: list[str] = []
        kind = ""
        if snapshot.error:
            lines.append(f"⚠ {snapshot.error}")
            kind = "-error"
        elif not snapshot.repos:
            lines.append(snapshot.summary)
        else:
            failing = [r for r in snapshot.repos if r.error]
            lines.extend(f"⚠ {r.name}: {r.error}" for r in failing)
            if failing:
                kind = "-warn"
        text = "\n".join(lines)
        msg = self.message_line("message", lambda: Static("", id="deploys-message"), text)
        if msg is None:
            return
        set_only_class(msg, kind, ("-error", "-warn"))
        msg.set_class(bool(lines), "-shown")
        update_static(msg, text)

    def on_resize(self, event: Resize) -> None:
        if self.snapshot is not None and self._wanted_layout(self.snapshot) != self._layout:
            with self.app.batch_update():
                self._sync_rows(self.snapshot)

    def _wanted_layout(self, snapshot: DeploysSnapshot) -> tuple[bool, bool, bool]:
        tags_only = bool(snapshot.repos) and all(r.ref.startswith("tags ") for r in snapshot.repos)
        return len(snapshot.repos) > 1, 0 < self.size.width < COMPACT_BELOW, tags_only

    @staticmethod
    def _columns(layout: tuple[bool, bool, bool]) -> list[tuple[str, str]]:
        multi, compact, tags_only = layout
        # What the time is: a commit's (branches) or a tag's (tags mode; a row whose tag
        # has no date of its own says what its time is instead, TIME_MARKS).
        cols = [("when", "tagged (UTC)" if tags_only else "when (UTC)"), ("sha", "sha"), ("flag", "")]
        if multi:
            cols.append(("repo", "repo"))
        if not compact:
            cols.append(("author", "author"))
        cols.append(("subject", "subject"))
        return cols

    def _sync_rows(self, snapshot: DeploysSnapshot) -> None:
        table = self.table
        layout = self._wanted_layout(snapshot)
        keep_key: str | None = None
        if table.row_count:
            picked = self.selected()
            if picked is not None:
                keep_key = _row_key(*picked)
        if layout != self._layout:
            table.clear(columns=True)
            for key, label in self._columns(layout):
                table.add_column(Text(label), key=key)   # a Text label: no markup parse
            self._rows.clear()
            self._layout = layout
        columns = [key for key, _ in self._columns(layout)]

        wanted: dict[str, tuple[RepoDeploys, Deploy]] = {}
        for repo, deploy in snapshot.all_deploys():
            wanted.setdefault(_row_key(repo, deploy), (repo, deploy))

        for key in [k for k in self._rows if k not in wanted]:
            table.remove_row(key)
            del self._rows[key]
        added = False
        for key, (repo, deploy) in wanted.items():
            cells = self._cells(repo, deploy, snapshot.taken_at, layout)
            if key in self._rows:
                old = table.get_row(key)
                for col, new, cur in zip(columns, cells, old):
                    if not _same(new, cur):
                        table.update_cell(key, col, new, update_width=True)
            else:
                table.add_row(*cells, key=key)
                added = True
            self._rows[key] = (repo, deploy)
        if added:
            table.sort("when", key=lambda cell: cell.epoch, reverse=True)
        if keep_key is not None and keep_key in self._rows:
            table.move_cursor(row=table.get_row_index(keep_key), animate=False)

    # ------------------------------------------------------------ cells

    def _style(self, name: str) -> Style:
        try:
            return self.get_component_rich_style(f"deploys-pane--{name}", partial=True)
        except Exception:  # noqa: BLE001 - before styles are ready: plain
            return Style()

    def _cells(self, repo: RepoDeploys, d: Deploy, now: datetime, layout: tuple[bool, bool, bool]) -> list[Text]:
        multi, compact, _ = layout
        row_style = self._style("suspect") if d.suspect else (self._style("during") if d.during_incident else Style())
        dim = self._style("dim")
        when = _When(_when_text(d.when, now), style=row_style)
        mark = TIME_MARKS.get(d.time_source)
        if mark:
            when.append(f" {mark}", style=row_style or dim)
        when.epoch = d.when.timestamp()
        sha = Text(d.short_sha, style=row_style)
        if d.suspect:
            flag = Text(" SUSPECT ", style=self._style("badge-suspect"))
        elif d.during_incident:
            flag = Text(" DURING ", style=self._style("badge-during"))
        else:
            flag = Text("")
        cells: list[Text] = [when, sha, flag]
        if multi:
            cells.append(Text(_fit(repo.name, 16), style=row_style or dim))
        if not compact:
            cells.append(Text(_fit(d.author, AUTHOR_MAX), style=row_style))
        subject = Text(style=row_style)
        if d.tag and d.tag not in d.subject:
            subject.append(f"[{_fit(d.tag, 24)}] ", style=row_style + Style(bold=True))
        subject.append(_fit(d.subject, SUBJECT_MAX))
        if d.merge and not d.subject.lower().startswith("merge"):
            subject.append(" (merge)", style=dim)
        cells.append(subject)
        return cells


def _same(new: Text, cur: object) -> bool:
    # Text equality ignores the base style, and the epoch is ours.
    return (isinstance(cur, Text) and new == cur and new.style == cur.style
            and getattr(new, "epoch", None) == getattr(cur, "epoch", None))


def _row_key(repo: RepoDeploys, deploy: Deploy) -> str:
    return f"{repo.name}:{deploy.key}"


def _when_text(when: datetime, now: datetime) -> str:
    # The clock first: fixed width, so the column reads straight down.
    # checks.deploys is imported by the first snapshot, not with the pane: its snapshot types
    # cost ~2 ms to create, before the first frame.
    from checks.deploys import format_age

    clock = when.strftime("%H:%M") if abs(now - when) < timedelta(hours=20) else when.strftime("%m-%d %H:%M")
    return f"{clock} {format_age(when, now)}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
