"""The dashboard's key row: Textual's ``Footer``, showing whole keys only.

At 80 columns the stock footer cut its last key mid-word beside the palette key
(``t To▏^p palette``). Here the keys that fit whole are shown, in order, and the rest
are hidden; ``?`` comes first and lists every key. Public Textual API only: keys are
found by their widget type's name and hidden with ``display``.
"""
from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["WholeKeysFooter"]


class WholeKeysFooter(Footer):
    """A ``Footer`` whose keys past the room beside the palette key are left out whole."""

    # Textual calls each class's handler along the MRO: Footer's own on_mount runs too.
    def on_mount(self) -> None:
        self.call_after_refresh(self._fit_keys)

    def on_resize(self) -> None:
        self._fit_keys()

    async def recompose(self) -> None:
        # Footer recomposes when the shown bindings change (a modal's, a focused input's).
        await super().recompose()
        self._fit_keys()

    def _fit_keys(self) -> None:
        width = self.size.width
        if not width or not self.is_attached:
            return
        keys = list(self.query_children("FooterKey"))
        palette = [k for k in keys if k.has_class("-command-palette")]
        room = width - sum(self._width_of(k) for k in palette)
        x = 0
        for key in keys:
            if key in palette:
                continue
            x += self._width_of(key)
            key.display = x <= room

    def _width_of(self, widget: Widget) -> int:
        styles = widget.styles
        content = widget.get_content_width(self.size, self.app.size)
        return content + styles.gutter.width + styles.margin.width
