"""The scribe's one-line prompt: pre-tagged with a kind, Enter saves, Esc cancels."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from tui.textual_hooks.scroll import prompt_input

from .timeline import KIND_STYLES

HINTS = {
    "todo": "what needs doing — end with +10 to be reminded in 10 min",
    "role": "role name: commander alice (commander, deputy, scribe, comms; a role alone clears it)",
    "edit": "new text; start with @HH:MM or @HH:MM:SS (UTC) to change the time",
}


class EntryPrompt(Horizontal):
    # One line on a layer of its own over the footer row: opening and closing it moves no
    # other widget, so the panes are not laid out and painted again around every entry
    # (that repaint was most of the time from Enter to the entry on screen). The screen
    # declares the "prompt" layer.
    DEFAULT_CSS = """
    EntryPrompt {
        layer: prompt;
        dock: bottom;
        height: 1;
        display: none;
        background: $accent;
        color: $text;
    }
    EntryPrompt.-open { display: block; }
    EntryPrompt > Label { width: auto; padding: 0 1; text-style: bold; }
    EntryPrompt > Input, EntryPrompt > Input:focus {
        width: 1fr; height: 1; border: none; margin: 0; padding: 0 1; background: $surface;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    class Submitted(Message):
        def __init__(self, kind: str, text: str, entry_id: int | None) -> None:
            super().__init__()
            self.kind, self.text, self.entry_id = kind, text, entry_id

    class Cancelled(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = "note"
        self.entry_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="prompt-label")
        yield prompt_input(id="prompt-input")

    def open(self, kind: str, *, value: str = "", entry_id: int | None = None, label: str | None = None) -> None:
        self.kind, self.entry_id = kind, entry_id
        badge, style = KIND_STYLES.get(kind, (kind.upper(), "reverse"))
        self.query_one(Label).update(f"[{style}] {label or badge.strip()} [/] ▸")
        field = self.query_one(Input)
        field.value = value
        field.placeholder = HINTS.get("edit" if entry_id else kind, f"{kind} — Enter saves, Esc cancels")
        field.cursor_position = len(value)
        self.add_class("-open")
        # Focused now, not at the next turn of the loop (Widget.focus defers it): keys already
        # queued behind the one that opened the prompt (a paste, or a burst over a laggy SSH link)
        # go into it, rather than running as the dashboard's keys (a: action, u: update sent…).
        self.screen.set_focus(field)

    def close(self) -> None:
        self.remove_class("-open")
        self.query_one(Input).value = ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            self.action_cancel()
            return
        # The prompt stays open until the screen has committed the entry (or shown why not).
        self.post_message(self.Submitted(self.kind, text, self.entry_id))

    def action_cancel(self) -> None:
        self.close()
        self.post_message(self.Cancelled())
