"""The panel an action's output streams into while it runs.

Lines arrive in batches from the worker (tui/action_runner.py) already through the app's
display edge; ``Log`` draws them as plain text (never markup) and keeps the last
``MAX_LINES``, so a command printing 100,000 lines costs bounded memory. Esc hides the
panel (the command goes on; its entry is revised when it ends); ``x`` stops it.
"""
from __future__ import annotations

from typing import Callable

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

    def __init__(self, title: str, stop: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self._stop = stop
        self.done = False
        self.line_count = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            yield Label(Text("running… (x stops it, Esc hides this panel: the command goes on)"), id="action-state")
            yield Log(max_lines=MAX_LINES, auto_scroll=True, id="action-log")

    def add_lines(self, lines: list[str]) -> None:
        self.line_count += len(lines)
        if self.is_mounted:
            self.query_one(Log).write_lines(lines[-MAX_LINES:])

    def finished(self, text: str) -> None:
        self.done = True
        if self.is_mounted:
            self.query_one("#action-state", Label).update(Text(f"{text} — written to the timeline; Esc closes"))

    def action_stop(self) -> None:
        if not self.done and self._stop is not None:
            self._stop()
            self.query_one("#action-state", Label).update(Text("stopping…"))

    def action_close(self) -> None:
        self.dismiss(None)
