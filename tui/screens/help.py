"""Every key the dashboard answers to, on one screen."""
from __future__ import annotations

from typing import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_label(key: str) -> str:
    names = {"question_mark": "?", "space": "Space", "escape": "Esc", "enter": "Enter", "tab": "Tab",
             "shift+tab": "Shift+Tab", "ctrl+q": "Ctrl+Q", "ctrl+c": "Ctrl+C", "ctrl+p": "Ctrl+P", "plus": "+",
             "exclamation_mark": "!"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, sections: Iterable[tuple[str, Iterable[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = [(title, list(rows)) for title, rows in sections]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, expand=True, padding=(0, 1))
        table.add_column("key", style="bold cyan", no_wrap=True, width=18)
        table.add_column("what")
        for title, rows in self.sections:
            table.add_row(Text(title, style="bold underline"), "")
            for key, what in rows:
                table.add_row(key_label(key), what)
            table.add_row("", "")
        table.add_row("", Text("Esc or ? closes this help. Every action is also in the command palette (Ctrl+P).",
                               style="dim"))
        with VerticalScroll():
            yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
