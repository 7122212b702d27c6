"""``rich_style`` worked out once per render pass instead of once per line.

A widget's ``rich_style`` walks every ancestor's styles (~40 µs here). DataTable and the
line-API widgets ask for it on every line they draw; within one ``render_lines`` call the
styles cannot change, so the first answer holds for the rest of the call.

Hook ``pass_style``: with it off every line asks as in Textual.
"""
from __future__ import annotations

from rich.style import Style
from textual.dom import DOMNode
from textual.geometry import Region
from textual.strip import Strip

from . import active

# A property at run time; Textual's decorator types it as a plain callable, which has no fget.
_rich_style = DOMNode.rich_style.fget  # type: ignore[attr-defined]


class PassStyle:
    _pass_style: Style | None = None

    @property
    def rich_style(self) -> Style:
        style = self._pass_style
        return _rich_style(self) if style is None else style

    def render_lines(self, crop: Region) -> list[Strip]:
        if not active("pass_style"):
            return super().render_lines(crop)  # type: ignore[misc]
        self._pass_style = _rich_style(self)
        try:
            return super().render_lines(crop)  # type: ignore[misc]
        finally:
            self._pass_style = None
