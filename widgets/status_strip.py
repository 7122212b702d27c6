"""The small-terminal stand-in for the live panes: one line each, worst state first."""
from __future__ import annotations

from typing import Any, Sequence

from rich.text import Text
from textual.widget import Widget

LEVEL_STYLES = {0: ("●", "bold green"), 1: ("○", "dim"), 2: ("▲", "bold #ffaf00"), 3: ("✖", "bold red")}


def _line_facts(snapshot: Any) -> tuple:
    return (int(getattr(snapshot, "level", 1)), getattr(snapshot, "error", None), getattr(snapshot, "summary", ""))


class StatusStrip(Widget):
    DEFAULT_CSS = """
    StatusStrip {
        height: auto; display: none; padding: 0 1; background: $panel;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    def __init__(self, sources: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.order = list(sources)
        self.snapshots: dict[str, Any] = {}

    def show(self, source: str, snapshot: Any) -> None:
        before = self.snapshots.get(source)
        self.snapshots[source] = snapshot
        if before is None or _line_facts(before) != _line_facts(snapshot):
            self.refresh(layout=before is None)

    def ranked(self) -> list[str]:
        """The sources worst first (a failed source counts as critical); equals keep the panes' order."""
        def rank(name: str) -> int:
            snap = self.snapshots.get(name)
            if snap is None:
                return 1
            return 3 if getattr(snap, "error", None) else int(getattr(snap, "level", 1))
        return sorted(self.order, key=lambda name: -rank(name))

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, name in enumerate(self.ranked()):
            snap = self.snapshots.get(name)
            level = int(getattr(snap, "level", 1)) if snap is not None else 1
            icon, style = LEVEL_STYLES.get(level, ("?", ""))
            if snap is not None and getattr(snap, "error", None):
                icon, style = "✖", "bold red"
            if i:
                out.append("\n")
            out.append(f"{icon} ", style=style)
            out.append(f"{name.capitalize():<8}", style="bold")
            if snap is None:
                out.append("waiting for first poll…", style="dim")
            elif getattr(snap, "error", None):
                out.append(str(snap.error), style="red")
            else:
                out.append(str(getattr(snap, "summary", "")), style=style if level >= 2 else "")
        return out
