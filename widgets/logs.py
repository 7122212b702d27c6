"""The logs pane ([[logs]], for machines without Kubernetes): errors per minute and the last
matching lines of each followed file.

Renders a ``checks.logs.LogsSnapshot``; no I/O. One line per [[logs]] entry (its name, a
sparkline of the last 30 minutes' error lines per minute, the count of the last 5 minutes),
then the matching lines as they came (a ``LogLines``: bounded, never markup, only the
lines on screen drawn). ``p`` pins the selected lines (shift+↑/↓ or ``v`` to select) into
the timeline as a finding: the pane posts ``LogsPane.Pin`` and the dashboard writes it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from checks.base import Level

from .changes import same_text, set_border_text, set_only_class
from .log_lines import LogLines
from .sparkline import sparkline

if TYPE_CHECKING:
    from checks.logs import LogsSnapshot

__all__ = ["LogsPane"]

KEEP_LINES = 2000
SPARK_WIDTH = 30
_LEVEL_CLASSES = ("-ok", "-warn", "-crit", "-unknown", "-error")
_CLASS_FOR = {Level.OK: "-ok", Level.WARN: "-warn", Level.CRIT: "-crit", Level.UNKNOWN: "-unknown"}


class LogsPane(Vertical):
    DEFAULT_CSS = """
    LogsPane {
        border: round $primary;
        border-title-align: left;
        border-subtitle-align: right;
        height: 1fr;
    }
    LogsPane.-ok { border: round $success; }
    LogsPane.-warn { border: round $warning; }
    LogsPane.-crit { border: round $error; }
    LogsPane.-unknown { border: round $secondary; }
    LogsPane > #logs-rates { height: auto; max-height: 6; padding: 0 1; }
    LogsPane:focus-within { border: round $accent; }
    """
    BINDINGS = [Binding("p", "pin", "Pin lines", show=False)]

    class Pin(Message):
        """Pin these lines (read from ``origin``) into the timeline."""

        def __init__(self, lines: list[str], origin: str) -> None:
            super().__init__()
            self.lines = lines
            self.origin = origin

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Logs"
        self.border_subtitle = "waiting for the first poll…"
        self._seen: dict[str, int] = {}          # log name -> errors_seen already shown
        self._snapshot: LogsSnapshot | None = None
        self._rows = Text()
        self._rates = Static("", id="logs-rates", markup=False)
        # Every line here matched its entry's error pattern: none is highlighted above the others.
        # The dashboard made the snapshot's strings safe (secrets, controls); LogLines draws them as text.
        self._lines = LogLines(keep=KEEP_LINES, id="logs-lines")

    def on_mount(self) -> None:
        # Log lines can carry tokens whatever the config says: the app's display edge masks them.
        redact = getattr(self.app, "redact", None)
        if callable(redact):
            self._lines.redact = redact

    @property
    def lines(self) -> LogLines:
        return self._lines

    def compose(self) -> ComposeResult:
        yield self._rates
        yield self._lines

    def show(self, snapshot: LogsSnapshot) -> None:
        self._snapshot = snapshot
        set_only_class(self, _CLASS_FOR.get(snapshot.level, "-unknown"), _LEVEL_CLASSES)
        set_border_text(self, subtitle=snapshot.error or snapshot.summary)
        several = len(snapshot.logs) > 1
        rows = Text()
        fresh: list[str] = []
        width = max((len(s.name) for s in snapshot.logs), default=0)
        for index, log in enumerate(snapshot.logs):
            if index:
                rows.append("\n")
            recent = sum(log.errors_per_minute[-5:])
            rows.append(f"{log.name:<{width}} ", style="bold")
            rows.append(sparkline(list(log.errors_per_minute), SPARK_WIDTH), style="red" if recent else "dim")
            if log.error:
                rows.append(f"  ⚠ {log.error}", style="bold red")
            else:
                rows.append(f"  {recent} in 5 min · {len(log.files)} file{'' if len(log.files) == 1 else 's'}")
                if log.bytes_skipped:
                    rows.append(f" · {log.bytes_skipped:,} bytes skipped (too fast)", style="yellow")
            new = min(log.errors_seen - self._seen.get(log.name, 0), len(log.last_errors))
            self._seen[log.name] = log.errors_seen
            if new > 0:
                tail = log.last_errors[-new:]
                fresh.extend(f"{log.name} │ {line}" if several else line for line in tail)
        if not same_text(rows, self._rows):
            self._rows = rows
            self._rates.update(rows)
        if fresh:
            self._lines.append(fresh)

    @property
    def origin(self) -> str:
        logs = self._snapshot.logs if self._snapshot is not None else ()
        names = ", ".join(log.name for log in logs) or "?"
        return f"log {names}"

    def action_pin(self) -> None:
        chosen = self._lines.selected()
        if not chosen:
            self.notify("No error line to pin yet", severity="warning", markup=False)
            return
        self.post_message(self.Pin(chosen, self.origin))
        self._lines.mark_at = None
        self._lines.refresh()
