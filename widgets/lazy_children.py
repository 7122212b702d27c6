"""A pane's children made when first needed, not with the pane.

Before its first snapshot a live pane shows nothing but its border: an empty table and
hidden message lines still cost ~3 ms each to compose, style, lay out and paint before
the dashboard's first frame (~12 ms for the three table panes). A pane using
``LazyChildren`` makes each child on first use and puts it in its place (``CHILD_ORDER``):
in ``compose`` if that has not run yet, else by mounting it before the next one.
"""
from __future__ import annotations

from typing import Callable, Iterator, TypeVar

from textual.widget import Widget

W = TypeVar("W", bound=Widget)


class LazyChildren:
    CHILD_ORDER: tuple[str, ...] = ()

    _lazy: dict[str, Widget] | None = None
    _lazy_composed = False

    def lazy_child(self, name: str, make: Callable[[], W]) -> W:
        """Child ``name``, made (and mounted in its place) by ``make`` the first time."""
        children = self._lazy
        if children is None:
            children = self._lazy = {}
        widget = children.get(name)
        if widget is None:
            widget = children[name] = make()
            if self._lazy_composed:
                after = self.CHILD_ORDER[self.CHILD_ORDER.index(name) + 1:]
                before = next((children[n] for n in after if n in children), None)
                self.mount(widget, before=before)  # type: ignore[attr-defined]
        return widget  # type: ignore[return-value]

    def message_line(self, name: str, make: Callable[[], W], text: str) -> W | None:
        """Line ``name`` for ``text``: None while there has never been anything to say (the line
        is made with the first text, and kept, emptied, after)."""
        if not text and self.existing_child(name) is None:
            return None
        return self.lazy_child(name, make)

    def existing_child(self, name: str) -> Widget | None:
        """Child ``name`` if it was made, without making it."""
        return (self._lazy or {}).get(name)

    def compose(self) -> Iterator[Widget]:
        self._lazy_composed = True
        children = self._lazy or {}
        for name in self.CHILD_ORDER:
            if name in children:
                yield children[name]


# The subtitle a pane shows until its first snapshot replaces it (the pane is empty till then).
WAITING = "waiting for the first poll…"
