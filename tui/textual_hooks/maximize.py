"""A maximized pane takes the place of its screen's body (hook ``maximize``).

``Screen.arrange`` lays a maximized widget out first, above the screen's children it
keeps beside it (``ALLOW_IN_MAXIMIZED_VIEW``): on the dashboard, Z put the pane over the
incident's header, so severity, status and the update countdown went with it. Here the
maximized pane takes the place of the child named ``BODY_ID`` (the one holding the
panes), so the header and banners stay above it and the keys below.

With the hook off, Textual arranges a maximized view its own way: the pane comes first
and the header and banners kept beside it follow it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from . import active

if TYPE_CHECKING:
    from textual.geometry import Size
    _ScreenBase = Screen[object]
else:
    _ScreenBase = object


class BodyMaximize(_ScreenBase):
    """Mixed into a ``Screen`` subclass, before ``Screen``."""

    BODY_ID = "body"

    def arrange(self, size: Size, _optimal: bool = False) -> Any:
        maximized = self.maximized
        if maximized is None or not active("maximize"):
            return super().arrange(size, _optimal)
        from textual._arrange import arrange

        # Keyed as Screen.arrange keys it (its cache's annotation says bool, its code a widget).
        cache_key: Any = (size, self._nodes._updates, maximized)
        cached = self._arrangement_cache.get(cache_key)
        if cached is not None:
            return cached
        allowed = self.ALLOW_IN_MAXIMIZED_VIEW
        if allowed is None:
            allowed = self.app.ALLOW_IN_MAXIMIZED_VIEW
        kept = set(self.query_children(allowed)) | set(self.query_children(".-textual-system"))
        widgets = [maximized if child.id == self.BODY_ID else child for child in self.children
                   if child in kept or child.id == self.BODY_ID]
        if maximized not in widgets:
            widgets.insert(0, maximized)
        arrangement = self._arrangement_cache[cache_key] = arrange(self, widgets, size, self.size, False)
        return arrangement
