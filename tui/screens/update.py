"""The status-update modal: edit the drafted update, then copy, save or post it.

The screen does no I/O (beyond checking whether a file name is taken): it
dismisses with an :class:`UpdateResult` and the app copies, writes or posts the
exact text, then records it with ``Store.record_update_sent`` (which resets the
update countdown).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Literal, Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static, TextArea

from tui.incident.export import default_update_filename, unique_path
from tui.incident.model import utcnow
from tui.incident.templates import TEMPLATES
from tui.textual_hooks.boundary import GuardedScreen

Action = Literal["copy", "save", "post", "cancel"]


@dataclass(frozen=True)
class UpdateResult:
    action: Action
    text: str
    path: str | None = None      # only for "save": where to write (not yet checked for a race: use save_text)
    template: str = ""           # the template the draft was last rendered from


class UpdateScreen(GuardedScreen, ModalScreen[UpdateResult]):
    """``render(template_name) -> draft`` re-renders the draft for the template switcher."""

    DEFAULT_CSS = """
    UpdateScreen {
        align: center middle;
    }
    UpdateScreen #update-dialog {
        width: 92%;
        max-width: 110;
        height: 92%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    UpdateScreen #update-templates, UpdateScreen #update-actions, UpdateScreen #update-save {
        height: auto;
    }
    UpdateScreen #update-templates Button, UpdateScreen #update-actions Button {
        min-width: 12;
        margin-right: 1;
    }
    UpdateScreen #update-templates Button.-current {
        text-style: bold reverse;
    }
    UpdateScreen #update-text {
        height: 1fr;
    }
    UpdateScreen #update-save {
        display: none;
    }
    UpdateScreen #update-save.-visible {
        display: block;
    }
    UpdateScreen #update-save Label {
        padding: 1 1 0 0;
    }
    UpdateScreen #update-path {
        width: 1fr;
    }
    UpdateScreen #update-note {
        color: $warning;
        height: auto;
    }
    UpdateScreen #update-targets {
        color: $text-muted;
        height: auto;
    }
    """

    BINDINGS = [
        Binding("ctrl+t", "post", "Post"),
        Binding("ctrl+o", "copy", "Copy"),
        Binding("ctrl+s", "save", "Save"),
        Binding("f2", "template('initial')", "Initial"),
        Binding("f3", "template('progress')", "Progress"),
        Binding("f4", "template('resolved')", "Resolved"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        draft: str,
        template: str,
        targets: Sequence[str],
        *,
        render: Callable[[str], str] | None = None,
        incident_id: int | None = None,
        now: datetime | None = None,
        directory: str | Path | None = None,
    ) -> None:
        super().__init__()
        self._draft = draft
        self._template = template
        self._targets = tuple(targets)
        self._render_draft = render
        self._incident_id = incident_id
        self._now = now
        self._directory = Path(directory) if directory is not None else None

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="update-dialog") as dialog:
            dialog.border_title = "Status update"
            with Horizontal(id="update-templates"):
                for name in TEMPLATES:
                    key = {"initial": "F2", "progress": "F3", "resolved": "F4"}[name]
                    yield Button(f"{name.capitalize()} {key}", id=f"tpl-{name}", compact=True,
                                 disabled=self._render_draft is None)
            yield TextArea(self._draft, id="update-text", soft_wrap=True, tab_behavior="focus")
            yield Static(self._targets_text(), id="update-targets")
            with Horizontal(id="update-save"):
                yield Label("Save as:")
                yield Input(id="update-path")
            yield Static("", id="update-note")
            with Horizontal(id="update-actions"):
                yield Button("Post ^t", id="act-post", variant="primary", compact=True, disabled=not self._targets)
                yield Button("Copy ^o", id="act-copy", compact=True)
                yield Button("Save ^s", id="act-save", compact=True)
                yield Button("Cancel esc", id="act-cancel", compact=True)
        yield Footer()

    def _targets_text(self) -> Text:
        if not self._targets:
            return Text("No webhooks configured ([[notify]] in warroom.toml): copy or save instead.")
        return Text("Post to: " + ", ".join(self._targets))

    def on_mount(self) -> None:
        self._mark_template()
        self.query_one("#update-text", TextArea).focus()

    def _mark_template(self) -> None:
        for name in TEMPLATES:
            self.query_one(f"#tpl-{name}", Button).set_class(name == self._template, "-current")
        self.query_one("#update-dialog").border_title = f"Status update · {self._template or 'draft'}"

    # -- helpers -----------------------------------------------------------------

    @property
    def text(self) -> str:
        return self.query_one("#update-text", TextArea).text

    def _note(self, message: str) -> None:
        self.query_one("#update-note", Static).update(Text(message))

    def _save_row_visible(self) -> bool:
        return self.query_one("#update-save").has_class("-visible")

    def _finish(self, action: Action, path: str | None = None) -> None:
        self.dismiss(UpdateResult(action, self.text, path, self._template))

    def _has_text(self) -> bool:
        if self.text.strip():
            return True
        self._note("The update is empty: write something or pick a template (F2-F4).")
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "post" and not self._targets:
            return None     # shown greyed out in the footer
        if action == "template" and self._render_draft is None:
            return None
        return True

    # -- actions -----------------------------------------------------------------

    def action_post(self) -> None:
        if self._targets and self._has_text():
            self._finish("post")

    def action_copy(self) -> None:
        if self._has_text():
            self._finish("copy")

    def action_cancel(self) -> None:
        if self._save_row_visible():
            self.query_one("#update-save").remove_class("-visible")
            self._note("")
            self.query_one("#update-text", TextArea).focus()
            return
        self._finish("cancel")

    def action_template(self, name: str) -> None:
        if self._render_draft is None or name not in TEMPLATES:
            return
        area = self.query_one("#update-text", TextArea)
        # An edit, not load_text(): ctrl+z brings the hand-edited draft back.
        area.replace(self._render_draft(name), (0, 0), area.document.end, maintain_selection_offset=False)
        area.move_cursor((0, 0))
        self._template = name
        self._mark_template()
        self._note(f"Re-rendered from the {name} template (ctrl+z undoes).")

    def action_save(self) -> None:
        if not self._has_text():
            return
        row = self.query_one("#update-save")
        path_input = self.query_one("#update-path", Input)
        if not self._save_row_visible():
            free = unique_path(self._resolve(self._default_name()))
            path_input.value = str(free) if self._directory is not None else free.name
            row.add_class("-visible")
            path_input.focus()
            self._note("Enter to save, esc to go back. An existing file is never overwritten.")
            return
        self._submit_path(path_input.value)

    def _default_name(self) -> str:
        now = self._now or utcnow()
        if self._incident_id is None:
            return f"incident-update-{now:%H%M}.txt"
        return default_update_filename(self._incident_id, now)

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = (self._directory or Path.cwd()) / path
        return path

    @on(Input.Submitted, "#update-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit_path(event.value)

    def _submit_path(self, value: str) -> None:
        value = value.strip()
        if not value:
            self._note("Enter a file name.")
            return
        path = self._resolve(value)
        if path.exists():
            free = unique_path(path)
            # Keep the name as the user typed it (relative stays relative), only the file name changes.
            self.query_one("#update-path", Input).value = str(Path(value).expanduser().with_name(free.name))
            self._note(f"{path.name} already exists: will save as {free.name} instead. Enter to confirm.")
            return
        self._finish("save", str(path))

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id.startswith("tpl-"):
            self.action_template(button_id[4:])
        elif button_id == "act-post":
            self.action_post()
        elif button_id == "act-copy":
            self.action_copy()
        elif button_id == "act-save":
            self.action_save()
        elif button_id == "act-cancel":
            self._finish("cancel")
