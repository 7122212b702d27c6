"""The action log: one line per entry, newest at the bottom.

It is a line-API ``ScrollView`` so only the visible lines are rendered: 100k
entries cost a list of references, not 100k widgets. Entry text is always
rendered as plain ``Text`` (a ``[bold]`` in a note stays literal).
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime
from typing import TYPE_CHECKING, Iterable, Sequence

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.incident.safe_text import row_text
from tui.textual_hooks.pass_style import PassStyle
from tui.textual_hooks.scroll import resize_in_place

if TYPE_CHECKING:  # widgets render incident records; they never import the store
    from tui.incident.model import Entry

KIND_STYLES = {
    "note": ("NOTE", "bold #d0d0d0 on #3a3a3a"),
    "action": ("ACT ", "bold #000000 on #5fafff"),
    "decision": ("DEC ", "bold #000000 on #d7afff"),
    "finding": ("FIND", "bold #000000 on #ffd75f"),
    "mitigation": ("MITG", "bold #000000 on #5fd75f"),
    "comms": ("COMM", "bold #000000 on #87d7d7"),
    "todo": ("TODO", "bold #000000 on #ff875f"),
    "system": ("SYS ", "bold #d0d0d0 on #005f87"),
}


def time_text(when: "datetime", today: "date | None") -> str:
    """HH:MM:SS for today's entries; an entry from another day says which ('Dec 01 14:03:07'):
    incidents often run past midnight, and yesterday's 14:03 must not read as today's."""
    if today is None or when.date() == today:
        return when.strftime("%H:%M:%S")
    return when.strftime("%b %d %H:%M:%S")


def _sort_key(entry: "Entry") -> tuple:
    return (entry.ts, entry.entry_id)


class TimelineView(PassStyle, ScrollView, can_focus=True):
    """Entries sorted by time; a cursor selects one for editing."""

    DEFAULT_CSS = """
    TimelineView {
        height: 1fr;
        background: $surface;
        overflow-x: hidden;
    }
    TimelineView > .timeline--cursor {
        background: $primary 50%;
    }
    TimelineView > .timeline--time {
        color: $text-muted;
    }
    TimelineView > .timeline--author {
        color: #5fd7ff;
    }
    """
    COMPONENT_CLASSES = {"timeline--cursor", "timeline--time", "timeline--author"}

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter", "open", "Entry detail", show=False),
    ]

    class Selected(Message):
        def __init__(self, entry: "Entry | None") -> None:
            super().__init__()
            self.entry = entry

    class Opened(Message):
        """Enter on an entry: the screen shows its detail (the widget does no I/O)."""
        def __init__(self, entry: "Entry") -> None:
            super().__init__()
            self.entry = entry

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Opened(self.selected))

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._entries: list["Entry"] = []
        self._keys: list[tuple] = []
        self._index: dict[int, int] = {}   # entry_id -> position, rebuilt lazily
        self._index_dirty = False
        self.cursor: int | None = None     # None: follow the newest entry
        self._follow = True                # the reader is at the bottom: keep showing new entries
        self.redact = lambda text: text     # the app's display edge (WarroomApp.redact)
        self.today: date | None = None     # set by the screen from its clock (UTC); None: times only
        self._strips: dict[tuple, Strip] = {}
        self._line_styles: tuple = ()

    # -- data --------------------------------------------------------------------

    @property
    def entries(self) -> Sequence["Entry"]:
        return self._entries

    def set_entries(self, entries: Iterable["Entry"]) -> None:
        self._entries = sorted(entries, key=_sort_key)
        self._keys = [_sort_key(e) for e in self._entries]
        self._index_dirty = True
        self.cursor = None
        self._follow = True
        self._resize()
        self.scroll_end(animate=False, immediate=True)
        self.refresh()

    def upsert(self, entries: Iterable["Entry"]) -> None:
        """Add new entries or replace edited ones; keeps auto-scroll only if we were at the bottom."""
        at_bottom = self._follow or self.is_at_bottom
        for entry in entries:
            pos = self._position(entry.entry_id)
            if pos is not None:
                del self._entries[pos]
                del self._keys[pos]
                self._index_dirty = True
            key = _sort_key(entry)
            if not self._keys or key >= self._keys[-1]:
                self._entries.append(entry)
                self._keys.append(key)
                if not self._index_dirty:
                    self._index[entry.entry_id] = len(self._entries) - 1
            else:
                at = bisect_right(self._keys, key)
                self._entries.insert(at, entry)
                self._keys.insert(at, key)
                self._index_dirty = True
        self._resize()
        if at_bottom and self.cursor is None:
            self._follow = True
            self.scroll_end(animate=False, immediate=True)
        self.refresh()

    # Shadows Widget.remove on purpose (the screen calls it by this name); Textual removes
    # widgets from the DOM through its own methods, not this one.
    def remove(self, entry_ids: Iterable[int]) -> None:  # type: ignore[override]
        """Drop entries by id (a queued entry's stand-in, once the server has the real one)."""
        gone = set(entry_ids)
        if not gone:
            return
        kept = [(e, k) for e, k in zip(self._entries, self._keys) if e.entry_id not in gone]
        self._entries = [e for e, _ in kept]
        self._keys = [k for _, k in kept]
        self._index_dirty = True
        if self.cursor is not None and self.cursor >= len(self._entries):
            self.cursor = len(self._entries) - 1 if self._entries else None
        self._resize()
        self.refresh()

    def _position(self, entry_id: int) -> int | None:
        if self._index_dirty:
            self._index = {e.entry_id: i for i, e in enumerate(self._entries)}
            self._index_dirty = False
        return self._index.get(entry_id)

    @property
    def is_at_bottom(self) -> bool:
        return self.scroll_y >= self.max_scroll_y - 0.5

    def _resize(self) -> None:
        size = Size(self.scrollable_content_region.width, len(self._entries))
        old = self.virtual_size
        if size == old:
            return
        if (size.width == old.width and size.height > old.height > self.scrollable_content_region.height
                and self.show_vertical_scrollbar):
            # Only longer, and already scrolling: the widget's place on screen and its scrollbar's
            # presence stay as they are (its height is 1fr, not its content's).
            resize_in_place(self, size)
            return
        self.virtual_size = size

    def on_resize(self) -> None:
        follow = self._follow
        self._resize()
        if follow:
            self.scroll_end(animate=False, immediate=True)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.max_scroll_y > 0:
            self._follow = new_value >= self.max_scroll_y - 0.5

    # -- selection ---------------------------------------------------------------

    @property
    def selected(self) -> "Entry | None":
        if not self._entries:
            return None
        index = len(self._entries) - 1 if self.cursor is None else self.cursor
        return self._entries[max(0, min(index, len(self._entries) - 1))]

    def _move_to(self, index: int) -> None:
        if not self._entries:
            return
        index = max(0, min(index, len(self._entries) - 1))
        # Resting on the last entry means "follow new entries" again.
        self.cursor = None if index == len(self._entries) - 1 else index
        self.scroll_to_region_of(index)
        self.refresh()
        self.post_message(self.Selected(self.selected))

    def scroll_to_region_of(self, index: int) -> None:
        top = int(self.scroll_y)
        height = self.scrollable_content_region.height
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)

    def _current(self) -> int:
        return len(self._entries) - 1 if self.cursor is None else self.cursor

    def action_cursor(self, delta: int) -> None:
        self._move_to(self._current() + delta)

    def action_cursor_page(self, direction: int) -> None:
        self._move_to(self._current() + direction * max(1, self.scrollable_content_region.height - 1))

    def action_cursor_to(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self._entries) - 1)

    # -- rendering -----------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._entries):
            return Strip.blank(width, base)
        entry = self._entries[index]
        selected = self.has_focus and index == self._current()
        # A cursor move repaints every visible line; most of them are the same as last time.
        key = (entry.entry_id, entry.rev, width, selected, base)
        strip = self._strips.get(key)
        if strip is None:
            line = self.render_entry(entry)
            line.truncate(width, overflow="ellipsis", pad=True)
            style = base + self.get_component_rich_style("timeline--cursor") if selected else base
            strip = Strip(list(line.render(self.app.console))).crop_extend(0, width, style)
            strip = strip.apply_style(style) if style else strip
            # Four screens' worth, as the log lines keep: a line that scrolled further off is
            # drawn again if it comes back. A Strip is ~30 objects the garbage collector walks
            # (its six caches and their dicts); 2,048 of them, filled by others' entries
            # streaming in, were 40 % of what every full collection walked (200 ms pauses).
            if len(self._strips) > 4 * max(self.size.height, 10):
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def set_today(self, today: date) -> None:
        """The screen's date (UTC); at midnight today's entries start showing their date."""
        if today != self.today:
            self.today = today
            self.clear_cache()

    def clear_cache(self) -> None:
        """Forget rendered lines (after a theme change or a presenter-mode switch)."""
        self._strips.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # Focus moving to the entry prompt and back restyles this widget twice per entry; the
        # rendered lines only go stale when a style they are drawn with changed (a theme).
        try:
            styles = tuple(self.get_component_rich_style(name) for name in sorted(self.COMPONENT_CLASSES))
        except KeyError:        # styled before its component classes are: nothing cached yet
            styles = ()
        if not styles or styles != self._line_styles:
            self._line_styles = styles
            self._strips.clear()

    def render_entry(self, entry: "Entry") -> Text:
        label, badge_style = KIND_STYLES.get(entry.kind.value, (entry.kind.value[:4].upper(), "reverse"))
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(time_text(entry.ts, self.today), style=self.get_component_rich_style("timeline--time"))
        line.append(" ")
        line.append(f" {label} ", style=badge_style)
        line.append(" ")
        if entry.author and entry.kind.value != "system":
            line.append(row_text(self.redact(entry.author)), style=self.get_component_rich_style("timeline--author"))
            line.append(": ")
        line.append(row_text(self.redact(entry.text)))
        if entry.edited:
            line.append(" (edited)", style="italic dim")
        if entry.meta.get("queued"):  # typed while the shared server was unreachable: not on it yet
            line.append(" (queued)", style="bold #ffaf00")
        return line
