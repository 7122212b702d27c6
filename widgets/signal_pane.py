"""What the alerts and metrics panes share: the border coloured by the snapshot's level (or
red on error), the subtitle, "waiting for first poll…", and the error line above the rows.

Each pane renders its own rows (:meth:`SignalPane.rows`); remote text goes through
``one_line`` into ``Text``, never markup.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.widget import Widget

from checks.base import Level
from tui.incident.safe_text import one_line

from .changes import set_border_text, set_only_class

LEVEL_CLASS = {Level.OK: "-ok", Level.UNKNOWN: "-unknown", Level.WARN: "-warn", Level.CRIT: "-crit"}
_CLASSES = (*LEVEL_CLASS.values(), "-error")
WAITING = "waiting for first poll…"


class SignalPane(Widget):
    # Type selectors match subclasses too: AlertsPane and MetricsPane get these rules.
    DEFAULT_CSS = """
    SignalPane { border: round $primary; height: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    SignalPane.-ok { border: round $success; }
    SignalPane.-warn { border: round $warning; }
    SignalPane.-crit, SignalPane.-error { border: round $error; }
    SignalPane.-unknown { border: round $secondary; }
    """
    TITLE = ""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = self.TITLE
        self.border_subtitle = WAITING
        self.snapshot: Any = None
        self.drawn = 0          # snapshots that changed what the pane shows
        self.unchanged = 0      # and those that did not (tests/test_signals_idle.py counts both)

    def show(self, snapshot: Any) -> None:
        last, self.snapshot = self.snapshot, snapshot
        if last is not None and same_but_time(last, snapshot):
            # A round that brought what is on screen already (the same alerts, the same values:
            # most rounds) is not drawn again; only its time is kept (what the pane says ages
            # by, AlertsPane.tick). Cheap: the sources hand unchanged rows on as the same objects.
            self.unchanged += 1
            return
        self.drawn += 1
        set_only_class(self, "-error" if snapshot.error else LEVEL_CLASS[snapshot.level], _CLASSES)
        set_border_text(self, subtitle=one_line(snapshot.error or snapshot.summary))
        self.refresh()

    def rows(self, snapshot: Any, out: Text) -> Text:
        """Append the pane's rows below the error line, if any; return what to draw."""
        raise NotImplementedError

    def render(self) -> Text:
        snap = self.snapshot
        if snap is None:
            return Text(WAITING, style="dim")
        out = Text(no_wrap=True, overflow="ellipsis")
        if snap.error:
            out.append(f"⚠ {one_line(snap.error)}\n", style="bold red")
        return self.rows(snap, out)


def same_but_time(last: Any, snapshot: Any) -> bool:
    """Whether ``snapshot`` says what ``last`` said, but for when it was taken."""
    return type(last) is type(snapshot) and replace(snapshot, taken_at=last.taken_at) == last
