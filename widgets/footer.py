"""Textual's key footer, composed with its keys from the start."""
from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

DIM = Style(dim=True)


class KeyBar(Widget):
    """The footer's keys, drawn as the row of ``FooterKey`` widgets would draw them, by one widget.

    For the first frame only: thirteen ``FooterKey`` widgets cost ~8 ms to mount, style, lay
    out and paint before it. The footer swaps in the real keys (hover, tooltips) right after
    it (``KeyFooter.add_key_widgets``); a click in between still presses the key.
    """

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"footer-key--key", "footer-key--description"}
    # FooterKey's own CSS (not compact), applied to the whole row.
    DEFAULT_CSS = """
    KeyBar {
        width: auto;
        height: 1;
        text-wrap: nowrap;
        background: $footer-item-background;
        .footer-key--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
            padding: 0 1;
        }
        .footer-key--description {
            padding: 0 1 0 0;
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    def __init__(self, keys: list[FooterKey]) -> None:
        super().__init__()
        self.keys = keys
        self._spans: list[tuple[int, int, FooterKey]] = []
        self.room: int | None = None     # columns for the keys; those past it are left out whole

    def render(self) -> Text:
        # FooterKey.render, once per key.
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        key_padding = self.get_component_styles("footer-key--key").padding
        description_padding = self.get_component_styles("footer-key--description").padding
        row = Text(no_wrap=True)
        self._spans = []
        x = 0
        for key in self.keys:
            if key.description:
                label = Text.assemble(
                    (" " * key_padding.left + key.key_display + " " * key_padding.right, key_style),
                    (" " * description_padding.left + key.description + " " * description_padding.right,
                     description_style),
                )
            else:
                label = Text.assemble((key.key_display, key_style))
            label.stylize_before(self.rich_style + DIM if key.has_class("-disabled") else self.rich_style)
            if self.room is not None and x + label.cell_len > self.room:
                break
            self._spans.append((x, x + label.cell_len, key))
            x += label.cell_len
            row.append_text(label)
        return row

    def on_mouse_down(self, event: events.MouseDown) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                # As FooterKey.on_mouse_down.
                if key.has_class("-disabled"):
                    self.app.bell()
                else:
                    self.app.simulate_key(key.key)
                return


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
    _one_widget = True      # the keys as one KeyBar, until add_key_widgets

    def compose(self) -> ComposeResult:
        self._bindings_ready = True
        self._shown = self._shown_keys()
        widgets = list(super().compose())
        plain = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        if self._one_widget and not self.compact and len(plain) == len(widgets) - 1 and not any(w.tooltip for w in plain):
            # Plain keys and the palette key (no groups, no tooltips): the plain ones as one widget.
            yield KeyBar(plain)
            yield widgets[-1]
            return
        for widget in widgets:
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # Born as compact as the footer (they are bound to it), rather than compact by
                # default and flipped once mounted: two restyles per key before the first frame.
                # (The palette key is not bound: it stays compact.)
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def on_mount(self) -> None:
        self.call_after_refresh(self._fit_keys)

    def on_resize(self) -> None:
        self._fit_keys()

    async def recompose(self) -> None:
        await super().recompose()
        self._fit_keys()

    def _fit_keys(self) -> None:
        """Show the keys that fit whole, in order, beside the palette key: at 80 columns the row
        was cut mid-word (`t To▏^p palette`). `?` comes first and lists every key."""
        width = self.size.width
        if not width or not self.is_attached:
            return
        keys = list(self.query_children(FooterKey))
        palette = [k for k in keys if k.has_class("-command-palette")]
        room = width - sum(self._width_of(k) for k in palette)
        x = 0
        for key in keys:
            if key in palette:
                continue
            x += self._width_of(key)
            key.display = x <= room
        for bar in self.query_children(KeyBar):
            if bar.room != room:
                bar.room = room
                bar.refresh(layout=True)

    def _width_of(self, widget: Widget) -> int:
        styles = widget.styles
        content = widget.get_content_width(self.size, self.app.size)
        return content + styles.gutter.width + styles.margin.width

    def add_key_widgets(self) -> None:
        """Replace the first frame's KeyBar with a FooterKey widget per key."""
        if self._one_widget:
            self._one_widget = False
            if self.query_children(KeyBar):
                self.call_later(self.recompose)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and self._shown_keys() == self._shown:
            return
        super().bindings_changed(screen)

    def _shown_keys(self) -> tuple:
        return tuple((active.binding.key, active.binding.action, active.binding.description, active.enabled,
                      active.tooltip) for active in self.screen.active_bindings.values() if active.binding.show)
