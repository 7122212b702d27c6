"""Textual's key footer, composed with its keys from the start."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    """A ``Footer`` that does not wait for the screen's first bindings signal.

    ``Footer`` composes empty, then recomposes once the screen has published its
    bindings (after its first refresh): one more mount and layout before the
    dashboard's first frame is whole, or a first frame with an empty footer. The
    dashboard's shown keys all belong to the screen and the app, so they are known
    when the footer is composed; it recomposes only when the keys it shows change
    (a modal's, a focused input's).
    """

    _shown: tuple = ()

    def compose(self) -> ComposeResult:
        self._bindings_ready = True
        self._shown = self._shown_keys()
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # Born as compact as the footer (they are bound to it), rather than compact by
                # default and flipped once mounted: two restyles per key before the first frame.
                # (The palette key is not bound: it stays compact.)
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self._shown_keys() == self._shown:
            return
        super().bindings_changed(screen)

    def _shown_keys(self) -> tuple:
        return tuple((active.binding.key, active.binding.action, active.binding.description, active.enabled,
                      active.tooltip) for active in self.screen.active_bindings.values() if active.binding.show)
