"""A scroll view's content grows without laying out the screen (hook ``scroll``).

``virtual_size`` is a layout reactive: setting it lays out the whole screen (tens of ms
at 160x48), though a pane sized by its container keeps its size whatever it scrolls
over. Here the new size is set without its watchers and only the view's scrollbars are
brought up to date; a scrollbar that appears or goes still lays out by itself (it
changes the content region). With the hook off the reactive is set as usual.
"""
from __future__ import annotations

from textual.geometry import Size
from textual.scroll_view import ScrollView

from . import active


def grow_virtual_size(view: ScrollView, size: Size) -> None:
    if active("scroll"):
        view.set_reactive(type(view).virtual_size, size)
        view._scroll_update(size)
    else:
        view.virtual_size = size
