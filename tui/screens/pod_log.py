"""The pod log viewer (`l` in the pods pane): one pod's log, followed while its container runs.

A ``checks.pod_logs.PodLogStream`` reads the log in a thread worker (the kubernetes client
blocks); the screen takes what it received ``PULL_S`` apart and hands it to a ``LogLines``,
which keeps a bounded number and draws only the lines on screen. Closing the viewer closes
the stream (a follow ends at once).

Keys: ``/`` filters (as you type; Enter keeps it, Esc drops it), ``p`` pins the selected lines
(shift+↑/↓ or ``v`` to select) into the timeline as a finding, ``Esc``/``q`` closes.
"""
from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from widgets.log_lines import LogLines

from ..incident.safe_text import one_line
from ..textual_hooks import use_dirty_lines_compositor
from ..textual_hooks.pacing import FramePacing

if TYPE_CHECKING:
    from checks.pod_logs import PodLogStream

PULL_S = 0.1
HEAD_EVERY_S = 1.0
HINT = "/ filter · shift+↑↓ or v select · p pin to timeline · End follow · Esc close"


class PodLogScreen(FramePacing, Screen[None]):
    # A full screen, not a modal: a modal's frames composite the dashboard beneath it too.
    # Paced like the dashboard: frames of new lines wait for their beat, a key's is drawn at once;
    # a frame renders only the lines that changed.
    DEFAULT_CSS = """
    PodLogScreen > Vertical {
        width: 100%; height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    PodLogScreen #pod-log-head { height: 1; text-style: bold; }
    /* Always there (one line): showing and hiding it would lay the screen out twice per filter. */
    PodLogScreen #pod-log-filter { height: 1; border: none; padding: 0 1; }
    PodLogScreen #pod-log-hint { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("slash", "filter", "Filter"),
        Binding("p", "pin", "Pin lines"),
    ]

    def __init__(self, stream: PodLogStream, *, pattern: re.Pattern[str], redact: Callable[[str], str],
                 on_pin: Callable[[list[str], str], bool]) -> None:
        super().__init__()
        use_dirty_lines_compositor(self)
        self.stream = stream
        self.pattern = pattern
        self.redact = redact
        self.on_pin = on_pin
        self._seen = 0
        self._head = ""
        self._head_at = 0.0

    @property
    def origin(self) -> str:
        target = self.stream.target
        where = f"pod {self.stream.namespace}/{self.stream.pod}"
        if target is None:
            return where
        return f"{where} ({target.container}, {'previous instance' if target.previous else 'current instance'})"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="pod-log-head", markup=False)
            yield LogLines(keep=self.stream.lines.maxlen or 5000, pattern=self.pattern, redact=self.redact,
                           id="pod-log-lines")
            yield Input(placeholder="/ filter: lines containing…", id="pod-log-filter")
            yield Static(Text(HINT), id="pod-log-hint", markup=False)

    @property
    def lines(self) -> LogLines:
        return self.query_one(LogLines)

    def on_mount(self) -> None:
        self._show_head()
        self.lines.focus()
        self.run_worker(self.stream.run, thread=True, name="pod-log", exit_on_error=False)
        self.set_interval(PULL_S, self.pull, name="pod-log-pull")

    def frame_is_urgent(self) -> bool:
        return bool(getattr(self.app, "input_recent", lambda: True)())

    def on_unmount(self) -> None:
        self.stop_frames()
        self.stream.close()

    def pull(self) -> None:
        """Show what the stream received since the last pull (at most what the view keeps)."""
        total, fresh = self.stream.take(self._seen)
        self._seen = total
        if fresh:
            self.lines.append(fresh)
        self._show_head()

    def _show_head(self) -> None:
        s = self.stream
        parts = [f"{s.namespace}/{s.pod}"]
        if s.target is not None:
            parts.append(s.target.why)
        state = {"connecting": "connecting…", "streaming": "following" if s.target and s.target.follow else "reading",
                 "ended": "end of log", "closed": "closed"}.get(s.state, s.state)
        if s.error:
            state = f"⚠ {s.error}"
        parts.append(state)
        parts.append(f"{self.lines.count:,} lines" + (f" matching {self.lines.filter_text!r}" if self.lines.filter_text else ""))
        head = one_line(self.redact(" · ".join(parts)))
        # Updating a Static lays the screen out again: a followed log's count changes every pull,
        # so the head follows it once a second (the state and the filter at once).
        now = time.monotonic()
        if head != self._head and (now - self._head_at >= HEAD_EVERY_S or head.split(" · ")[:-1] != self._head.split(" · ")[:-1]):
            self._head_at = now
            self._head = head
            self.query_one("#pod-log-head", Static).update(Text(head, style="bold red" if s.error else ""))

    # -- keys -----------------------------------------------------------------
    def action_close(self) -> None:
        field = self.query_one("#pod-log-filter", Input)
        if field.has_focus:
            field.value = ""
            self.lines.set_filter("")
            self.lines.focus()
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        self.query_one("#pod-log-filter", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.lines.set_filter(event.value)
        self._show_head()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.lines.focus()

    def action_pin(self) -> None:
        chosen = self.lines.selected()
        if not chosen:
            self.app.notify("No line to pin yet", severity="warning")
            return
        if self.on_pin(chosen, self.origin):
            self.lines.mark_at = None
            self.lines.refresh()
            self.app.notify(f"Pinned {len(chosen)} line{'' if len(chosen) == 1 else 's'} to the timeline as a finding")
