"""A scroll view's content resized without laying the whole screen out again.

``ScrollView.virtual_size`` is a layout reactive: setting it lays out every widget on
the screen. A followed log (widgets/log_lines.py) or a timeline others write into
(widgets/timeline.py) changes it several times a second while its place on screen and
its scrollbars stay as they are; then only the scroll limits and the scrollbar's
proportions need to change, which is Textual's private ``_scroll_update``. With others
writing ~100 entries a second the layout was most of each timeline frame's cost.

The same holds for the entry prompt's one-line ``Input``: it sets its virtual size to
its text's width on every key, so each key typed laid the whole dashboard out (7-16 ms
a key with others writing, and the frame the typist's Enter waited behind).
``prompt_input`` makes it an ``InPlaceInput``, whose text growing repaints it only.

Hook ``scroll``: with it off, the reactive is set as in Textual, and the prompt's field
is a stock ``Input``.
"""
from __future__ import annotations

from typing import Any

from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.widgets import Input

from . import active


def resize_in_place(view: ScrollView, size: Size) -> None:
    """``view.virtual_size = size``, for a caller that knows the view's place and scrollbars stay."""
    if active("scroll"):
        view.set_reactive(ScrollView.virtual_size, size)
        view._scroll_update(size)
    else:
        view.virtual_size = size


class InPlaceInput(Input):
    """An ``Input`` whose virtual size (its text's width) changes in place: a repaint of the
    field and its scroll limits, no screen layout. Its place on screen never depends on its
    text (the prompt gives it ``width: 1fr; height: 1``)."""

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def _watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)


def prompt_input(**kwargs: Any) -> Input:
    """The entry prompt's text field: an ``InPlaceInput`` with the hook on, else Textual's ``Input``."""
    return (InPlaceInput if active("scroll") else Input)(**kwargs)
