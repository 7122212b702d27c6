"""The phase checklist: a phase strip, then the viewed phase's items.

Up/down move, space toggles, left/right switch the viewed phase. The widget only
asks; the screen writes the store and calls ``show`` with what was committed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.css.scalar import Unit
from textual.message import Message

from tui.incident.model import PHASES, Phase

from .layout_width import LayoutWidthWidget

if TYPE_CHECKING:
    from tui.incident.model import ChecklistItem

# Keyed by the domain's phases (a str enum, so a phase's name finds its abbreviation too).
SHORT: dict[str, str] = {Phase.TRIAGE: "Tri", Phase.MITIGATE: "Mit", Phase.INVESTIGATE: "Inv", Phase.RESOLVE: "Res",
                         Phase.VERIFY: "Ver", Phase.POSTMORTEM: "PM"}


class ChecklistView(LayoutWidthWidget, can_focus=True):
    DEFAULT_CSS = """
    ChecklistView {
        height: auto;
        max-height: 12;
        padding: 0 1;
    }
    ChecklistView:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("left", "phase(-1)", "Prev phase", show=False),
        Binding("right", "phase(1)", "Next phase", show=False),
        Binding("space", "toggle", "Toggle", show=False),
    ]

    class Toggle(Message):
        def __init__(self, item: "ChecklistItem") -> None:
            super().__init__()
            self.item = item

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: Sequence["ChecklistItem"] = ()
        self.current_phase = PHASES[0]
        self.viewed_phase = PHASES[0]
        self.cursor = 0
        self.redact = lambda text: text     # the app's display edge (WarroomApp.redact)

    def show(self, items: Sequence["ChecklistItem"], current_phase: str) -> None:
        rows_before = len(self._viewed())
        if current_phase != self.current_phase:
            self.viewed_phase = current_phase
            self.cursor = 0
        self.items, self.current_phase = tuple(items), current_phase
        viewed = len(self._viewed())
        self.cursor = min(self.cursor, max(0, viewed - 1))
        # A ticked item changes no height: laying the whole screen out again cost ~10 ms a tick.
        self.refresh(layout=viewed != rows_before)

    def _viewed(self) -> list["ChecklistItem"]:
        return [it for it in self.items if it.phase.value == self.viewed_phase]

    def action_move(self, delta: int) -> None:
        count = len(self._viewed())
        if count:
            self.cursor = (self.cursor + delta) % count
            self.refresh()

    def action_phase(self, delta: int) -> None:
        i = PHASES.index(self.viewed_phase)
        self.viewed_phase = PHASES[(i + delta) % len(PHASES)]
        self.cursor = 0
        self.refresh(layout=True)

    def action_toggle(self) -> None:  # type: ignore[override]  # the `space` key's action, not DOMNode's toggle(attribute)
        items = self._viewed()
        if items:
            self.post_message(self.Toggle(items[self.cursor]))

    def progress(self, phase: str) -> tuple[int, int]:
        items = [it for it in self.items if it.phase.value == phase]
        return sum(it.done for it in items), len(items)

    def _rows(self) -> int:
        """The content rows the widget has (or, before its first layout, will have)."""
        if self.outer_size:
            return self.size.height
        # Not laid out yet: all the rows it asks for, up to max-height (what self.size would
        # have answered, by laying the whole screen out a second time).
        rows = 1 + len(self._viewed())
        max_height = self.styles.max_height
        if max_height is not None and max_height.unit is Unit.CELLS:
            rows = min(rows, int(max_height.value) - self.styles.gutter.height)
        return rows

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        # Full phase names need ~90 columns; below that the strip would wrap and push items off screen.
        width = self.render_width
        short = width < 90
        for i, phase in enumerate(PHASES):
            done, total = self.progress(phase)
            style = "bold reverse" if phase == self.viewed_phase else ("bold" if phase == self.current_phase else "dim")
            if total and done == total:
                style += " green"
            marker = "▶" if phase == self.current_phase else ""
            label = SHORT[phase] if short and phase != self.viewed_phase else phase
            out.append(f"{marker}{label} {done}/{total}", style=style)
            if i < len(PHASES) - 1:
                # The gap is a run of its own: an SVG run starting with a space is drawn with
                # the space after it (rsvg), which ran '0/6' and '› Mit' together in PNGs.
                out.append(" ")
                out.append("› ", style="dim")
        items = self._viewed()
        # Clipped by max-height on a small screen: show a window around the cursor and say what is hidden.
        rows = self._rows()
        room = rows - 1 if rows else len(items)
        first, last = 0, len(items)
        if len(items) > room >= 2:
            shown = room - 1
            first = min(max(0, self.cursor - shown // 2), len(items) - shown)
            last = first + shown
        for i, item in enumerate(items):
            if not first <= i < last:
                continue
            out.append("\n")
            cursor = self.has_focus and i == self.cursor
            box = "[x]" if item.done else "[ ]"
            style = "reverse" if cursor else ("dim" if item.done else "")
            out.append(f"{box} ", style=("green " if item.done else "") + style)
            out.append(self.redact(item.text), style=style)
            if item.done_at is not None:
                out.append(f"  {item.done_at:%H:%M}", style="dim")
        hidden = len(items) - (last - first)
        if hidden:
            out.append(f"\n  … {hidden} more (Tab here, ↑↓ to scroll)", style="dim italic")
        return out
