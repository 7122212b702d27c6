"""Setting what a pane shows only when it differs from what it shows already.

Panes are re-shown on every poll, and every Textual assignment costs something even
when the value is unchanged: a class restyles the subtree, a border title repaints
the whole widget, ``Static.update`` relayouts the screen.
"""
from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static


def set_only_class(widget: Widget, wanted: str, classes: Iterable[str]) -> None:
    """``wanted`` on, the other ``classes`` off (``set_class`` is free when nothing changes)."""
    for cls in classes:
        widget.set_class(cls == wanted, cls)


def set_border_text(widget: Widget, *, title: str | None = None, subtitle: str | None = None) -> None:
    """Border title and subtitle, as Text: a str is parsed as markup, and these quote remote text."""
    if title is not None and str(widget.border_title or "") != title:
        widget.border_title = Text(title)
    if subtitle is not None and str(widget.border_subtitle or "") != subtitle:
        widget.border_subtitle = Text(subtitle)


def update_static(static: Static, text: str) -> None:
    if str(static.content) != text:
        static.update(Text(text))


def same_text(a: Text, b: Text) -> bool:
    # Text.__eq__ ignores the base style, and a line or a reason turning red matters.
    return a.plain == b.plain and a.style == b.style and a.spans == b.spans
