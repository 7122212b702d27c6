"""A widget whose render() depends on its width, without asking for self.size mid-layout."""
from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


class LayoutWidthWidget(Widget):
    """Asked for ``self.size`` in the screen's first layout, Textual lays the whole screen
    out a second time just to answer (~1.5 ms of start-up each). While the widget is being
    measured, :attr:`render_width` is the width being laid out instead."""

    _layout_width: int | None = None

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._layout_width = width
        try:
            return super().get_content_height(container, viewport, width)
        finally:
            self._layout_width = None

    @property
    def render_width(self) -> int:
        return self.size.width if self._layout_width is None else self._layout_width
