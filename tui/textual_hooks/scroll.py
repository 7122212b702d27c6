"""A scroll view's content resized without laying the whole screen out again.

``ScrollView.virtual_size`` is a layout reactive: setting it lays out every widget on
the screen. A followed log (widgets/log_lines.py) or a timeline others write into
(widgets/timeline.py) changes it several times a second while its place on screen and
its scrollbars stay as they are; then only the scroll limits and the scrollbar's
proportions need to change, which is Textual's private ``_scroll_update``. With others
writing ~100 entries a second the layout was most of each timeline frame's cost.

Hook ``scroll``: with it off, the reactive is set as in Textual.
"""
from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView

from . import active


def resize_in_place(view: ScrollView, size: Size) -> None:
    """``view.virtual_size = size``, for a caller that knows the view's place and scrollbars stay."""
    if active("scroll"):
        view.set_reactive(ScrollView.virtual_size, size)
        view._scroll_update(size)
    else:
        view.virtual_size = size
