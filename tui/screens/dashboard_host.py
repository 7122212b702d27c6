"""What the dashboard asks of the app that hosts it, and nothing more.

The store, the incident, the author, the clock, the config and the redactor come in the
``Session`` (tui/session.py), the panes and the display edge as the screen's arguments;
this is the rest: presenter mode and the theme, the display edge, when input last came,
the sources built after the first frame, and the help. ``tui.app.WarroomApp`` is one;
the screen never imports it (the app imports the screen), so there is no cycle.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..scheduler import LiveSource

__all__ = ["DashboardHost"]


class DashboardHost(Protocol):
    presenter: bool
    theme: str
    demo: bool
    sources: list[LiveSource]
    on_snapshot_hooks: Mapping[str, Callable[[Any, list[Any]], None]]

    def redact(self, text: str) -> str: ...
    def input_recent(self) -> bool: ...
    def input_after(self, when: float) -> bool: ...
    def first_frame_drawn(self) -> None: ...
    def build_later_sources(self) -> None: ...
    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]: ...
