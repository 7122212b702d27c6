"""The dashboard's key row: Textual's ``Footer``, showing whole keys only, and not
rebuilt each time the entry prompt opens and closes.

At 80 columns the stock footer cut its last key mid-word beside the palette key
(``t To▏^p palette``). Here the keys that fit whole are shown, in order, and the rest
are hidden; ``?`` comes first and lists every key.

The stock footer recomposes whenever the focused widget's bindings change: twice per
entry typed (the prompt's "esc Cancel", then the dashboard's keys again), each time
mounting and styling a dozen new key widgets and leaving the old ones for the garbage
collector (700 dead key widgets after 30 entries, most of what a full collection walked,
and ~10 ms in the frame that draws the entry). Here each distinct set of keys is composed
once, kept in a ``FooterKeySet``, and shown again when it comes back.

Public Textual API only: ``Footer.compose`` builds a set (no binding groups here; a set
with groups is recomposed the stock way), keys are found by their widget type's name and
hidden with ``display``.
"""
from __future__ import annotations

from collections.abc import Hashable

from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Footer

__all__ = ["FooterKeySet", "WholeKeysFooter"]

# Distinct key sets kept (the dashboard's, the prompt's, a read-only view's, a few enabled
# states); the one shown longest ago goes first.
MAX_SETS = 8


class FooterKeySet(Horizontal):
    """One set of keys, as ``Footer.compose`` made it; only the current set is displayed."""

    DEFAULT_CSS = """
    FooterKeySet { width: 1fr; height: 1; }
    """


class WholeKeysFooter(Footer):
    """A ``Footer`` whose keys past the room beside the palette key are left out whole,
    and whose key sets are composed once each."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sets: dict[Hashable, FooterKeySet] = {}
        self._shown: Hashable | None = None

    # Textual calls each class's handler along the MRO: Footer's own on_mount runs too.
    def on_mount(self) -> None:
        self.call_after_refresh(self._fit_keys)

    def on_resize(self) -> None:
        self._fit_keys()

    def _signature(self) -> Hashable | None:
        """What the stock footer would draw now; None where a set cannot be kept (grouped keys)."""
        if not self._bindings_ready:
            return ()
        active = self.screen.active_bindings
        shown = []
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                if binding.group is not None:
                    return None
                shown.append((binding.key, binding.description, binding.action, enabled, tooltip))
        palette = None
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            found = active.get(self.app.COMMAND_PALETTE_BINDING)
            if found is not None:
                palette = (found[1].key, found[1].description, found[2], found[1].tooltip)
        return tuple(shown), palette

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        signature = self._signature()
        if signature is None:       # grouped keys: the stock way, every set kept is dropped
            self._sets.clear()
            self._shown = None
            await super().recompose()
            self._fit_keys()
            return
        if signature != self._shown:
            keys = self._sets.pop(signature, None)
            if keys is None:
                if not self._sets:  # keys the stock way (before, or after grouped ones) go first
                    await self.query_children("*").exclude("FooterKeySet").remove()
                keys = FooterKeySet(*self.compose())
                await self.mount(keys)
            self._sets[signature] = keys     # the newest last: the oldest is dropped first
            for other in self._sets.values():
                other.display = other is keys
            self._shown = signature
            while len(self._sets) > MAX_SETS:
                await self._sets.pop(next(iter(self._sets))).remove()
        self._fit_keys()

    def shown_keys(self) -> list[Widget]:
        """The key widgets of the set on screen, in order (the palette key among them)."""
        if self._shown is None:
            return list(self.query_children("FooterKey"))
        shown = self._sets.get(self._shown)
        return list(shown.query_children("FooterKey")) if shown is not None else []

    def _fit_keys(self) -> None:
        width = self.size.width
        if not width or not self.is_attached:
            return
        keys = self.shown_keys()
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
