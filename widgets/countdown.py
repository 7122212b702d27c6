"""Countdown to the next stakeholder update: calm, then amber, then red with the bell."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from tui.incident.timers import UpdateClock


class UpdateCountdown(Widget):
    DEFAULT_CSS = """
    UpdateCountdown {
        width: auto;
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    UpdateCountdown.-soon { background: #ffaf00; color: #000000; text-style: bold; }
    UpdateCountdown.-overdue { background: #d70000; color: #ffffff; text-style: bold; }
    UpdateCountdown.-off { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.clock: "UpdateClock | None" = None

    def show(self, clock: "UpdateClock") -> None:
        # Ticks every second; the width only changes with the wording, i.e. with the urgency.
        relayout = self.clock is None or clock.urgency != self.clock.urgency
        self.clock = clock
        for urgency in ("off", "ok", "soon", "overdue"):
            self.set_class(clock.urgency.value == urgency, f"-{urgency}")
        self.refresh(layout=relayout)

    def render(self) -> Text:
        clock = self.clock
        if clock is None or clock.urgency.value == "off":
            return Text("next update: none scheduled")
        if clock.urgency.value == "overdue":
            return Text(f"UPDATE OVERDUE {clock.text}  [u] sent  [z] snooze")
        return Text(f"next update in {clock.text}")
