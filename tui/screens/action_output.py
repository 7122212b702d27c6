"""The panel an action's output streams into while it runs.

Lines arrive in batches from the worker (tui/action_runner.py) already through the app's
display edge; ``Log`` draws them as plain text (never markup) and keeps the last
``MAX_LINES``, so a command printing 100,000 lines costs bounded memory. Esc hides the
panel (the command goes on; its entry is revised when it ends); ``x`` stops it. A hidden
panel is shown again from what the run kept (``lines``, ``done_text``): Enter on the
command's timeline entry (tui/screens/actions.py, ``show_action_output``).
"""
from __future__ import annotations

from typing import Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log

from ..textual_hooks.boundary import GuardedScreen

MAX_LINES = 2000


class ActionOutputScreen(GuardedScreen, ModalScreen[None]):
    DEFAULT_CSS = """
    ActionOutputScreen { align: center middle; }
    ActionOutputScreen > Vertical {
        width: 90%; height: 80%; border: thick $accent; background: $surface; padding: 0 1;
    }
    ActionOutputScreen .title { text-style: bold; }
    ActionOutputScreen Log { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "close", "Hide"), Binding("x", "stop", "Stop the command")]

    def __init__(self, title: str, stop: Callable[[], None] | None = None, *,
                 lines: Iterable[str] = (), done_text: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self._stop = stop
        self._earlier = list(lines)[-MAX_LINES:]      # shown again: what the run printed so far
        self._done_text = done_text
        self.done = done_text is not None
        self._shown = False
        self.line_count = len(self._earlier)

    def compose(self) -> ComposeResult:
        state = ("running… (x stops it, Esc hides this panel: the command goes on, "
                 "Enter on its timeline entry shows it again)")
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            yield Label(Text(state), id="action-state")
            yield Log(max_lines=MAX_LINES, auto_scroll=True, id="action-log")

    def on_mount(self) -> None:
        # Lines and the ending can arrive between compose and mount: kept until now, then drawn.
        self._shown = True
        if self._earlier:
            self.query_one(Log).write_lines(self._earlier)
        if self._done_text is not None:
            self.finished(self._done_text)

    def add_lines(self, lines: list[str]) -> None:
        self.line_count += len(lines)
        if self._shown:
            self.query_one(Log).write_lines(lines[-MAX_LINES:])
        else:
            self._earlier = (self._earlier + lines)[-MAX_LINES:]

    def finished(self, text: str) -> None:
        self.done = True
        self._done_text = text
        if self._shown:
            self.query_one("#action-state", Label).update(Text(f"{text} — written to the timeline; Esc closes"))

    def action_stop(self) -> None:
        if not self.done and self._stop is not None:
            self._stop()
            self.query_one("#action-state", Label).update(Text("stopping…"))

    def action_close(self) -> None:
        self.dismiss(None)
