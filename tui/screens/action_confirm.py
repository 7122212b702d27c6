"""The guard before an action runs: what will run (or the server's dry run of it), then the
target's name typed back (``confirm = "type"``) or ``yes``; and the replicas prompt of scale.

Every line shown is outside text (a pod's name, the API server's answer): it arrives here
already through the app's display edge (``WarroomApp.redact``) and is drawn as a plain
``Text``, never parsed as markup. A wrong answer keeps what was typed and says what is wanted.
"""
from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ..textual_hooks.boundary import GuardedScreen

_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90; max-width: 100%; height: auto; max-height: 90%;
    border: thick $warning; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; padding: 0 0 1 0; }}
{name} .problem {{ color: $error; height: auto; }}
{name} Static {{ height: auto; max-height: 20; }}
"""


class ConfirmActionScreen(GuardedScreen, ModalScreen[bool]):
    """Shows ``lines``; dismissed True once ``expected`` (or "yes") is typed, False on Esc."""

    DEFAULT_CSS = _CSS.format(name="ConfirmActionScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, lines: Sequence[str], *, confirm: str, expected: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = list(lines)
        self.confirm = confirm
        self.expected = expected if confirm == "type" else "yes"

    def compose(self) -> ComposeResult:
        ask = (f"Type {self.expected} to run it" if self.confirm == "type" else "Type yes to run it")
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            yield Static(Text("\n".join(self.lines)), id="confirm-lines")
            yield Label(Text(f"{ask} (Enter), Esc cancels"))
            yield Input(placeholder=self.expected, id="confirm-input")
            yield Label("", classes="problem", id="confirm-problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if typed == self.expected or (self.confirm == "yes" and typed.lower() == "yes"):
            self.dismiss(True)
            return
        self.query_one("#confirm-problem", Label).update(
            Text(f"That is not {self.expected!r}: type it exactly to run, or Esc to cancel"))

    def action_cancel(self) -> None:
        self.dismiss(False)


class ReplicasScreen(GuardedScreen, ModalScreen["int | None"]):
    """How many replicas: a whole number in [0, highest]; None on Esc."""

    DEFAULT_CSS = _CSS.format(name="ReplicasScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, highest: int) -> None:
        super().__init__()
        self.title_text = title
        self.highest = highest

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), classes="title")
            yield Label(Text(f"Replicas (0-{self.highest}), Enter for a server-side dry run first; Esc cancels"))
            yield Input(type="integer", id="replicas-input")
            yield Label("", classes="problem", id="replicas-problem")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            value = int(event.value.strip())
        except ValueError:
            value = -1
        if 0 <= value <= self.highest:
            self.dismiss(value)
            return
        self.query_one("#replicas-problem", Label).update(
            Text(f"Type a whole number from 0 to {self.highest}, or Esc to cancel"))

    def action_cancel(self) -> None:
        self.dismiss(None)
