"""The dashboard's screen base: a ``Screen`` with every Textual hook a screen takes.

The dashboard is one of these and touches no Textual internal itself: frames paced
(``pacing.py``), a maximized pane in the body's place (``maximize.py``), partial updates
that render only the dirty lines (``compositor.py``). Each hook falls back to Textual's
own behaviour when it is off (``tui/textual_hooks/__init__.py``).
"""
from __future__ import annotations

from typing import Any

from textual.screen import Screen

from . import use_dirty_lines_compositor
from .maximize import BodyMaximize
from .pacing import FramePacing

__all__ = ["PacedScreen"]


class PacedScreen(FramePacing, BodyMaximize, Screen[Any]):
    """Subclasses say which frames are urgent (``frame_is_urgent``) and call ``stop_frames``
    on unmount; the id of the child a maximized pane replaces is ``BODY_ID``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_dirty_lines_compositor(self)    # before anything is composited
