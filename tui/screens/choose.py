"""A small modal to pick one of a few options: digits pick directly, Esc cancels.

The title and the options are drawn as plain text, never parsed as markup: they can quote
outside text (a webhook's name, an action's argv with `[/]` in a jq filter)."""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ..textual_hooks.boundary import GuardedScreen


class ChoiceScreen(GuardedScreen, ModalScreen[int | None]):
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 64; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ChoiceScreen Label { width: 1fr; padding: 0 0 1 0; text-style: bold; }
    ChoiceScreen OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: Sequence[str], current: int | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.options = list(options)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            # Not markup: a title may name outside things (a service, a pod: "still red: …").
            yield Label(Text(f"{self.title_text}  (1-{len(self.options)}, Enter, Esc cancels)"))
            yield OptionList(*[
                Option(Text(f"{i + 1}  {text}" + ("  ◀ current" if i == self.current else "")), id=str(i))
                for i, text in enumerate(self.options)
            ])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.current or 0
        options.focus()

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character) - 1
            if 0 <= index < len(self.options):
                event.stop()
                self.dismiss(index)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(str(event.option.id)))   # every option is made with its index as id

    def action_cancel(self) -> None:
        self.dismiss(None)
