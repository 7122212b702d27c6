"""A bounded, filterable list of log lines with a cursor and a selection (the pod log viewer's
body, and the logs pane's last matching lines).

Lines are outside text: each is drawn as a rich ``Text`` (never markup) through ``redact``
(the app's display edge: secrets masked, control characters made visible), and only the
lines on screen are drawn (the Line API), so a log growing by thousands of lines a second
costs the lines that scroll past, not the ones kept. At most ``keep`` lines are kept; older
ones fall off the top. No I/O: the owner feeds ``append``.

Keys: ↑/↓ PgUp/PgDn Home/End move the cursor; shift+↑/↓ (or ``v`` then moving) select a range;
``Esc`` drops the selection. With the cursor on the last line the view follows new lines.
"""
from __future__ import annotations

import bisect
import re
from collections import deque
from typing import Callable, Iterable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.actions import SkipAction
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.incident.safe_text import one_line
from tui.textual_hooks.scroll import resize_in_place

__all__ = ["LogLines"]


class LogLines(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LogLines { height: 1fr; overflow-x: hidden; overflow-y: scroll; }
    """
    BINDINGS = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("shift+up", "extend(-1)", "Select up", show=False),
        Binding("shift+down", "extend(1)", "Select down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "edge(0)", "Top", show=False),
        Binding("end,G", "edge(1)", "End (follow)", show=False),
        Binding("v", "mark", "Select from here", show=False),
        Binding("escape", "unmark", "Clear selection", show=False),
    ]

    def __init__(self, *, keep: int = 5000, pattern: re.Pattern[str] | None = None,
                 redact: Callable[[str], str] = lambda s: s, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keep = keep
        self.pattern = pattern
        self.redact = redact
        self._lines: deque[str] = deque(maxlen=keep)
        self._first = 0                     # sequence number of _lines[0]
        self._query = ""
        self._view: deque[int] | None = None    # sequence numbers matching the filter (None: all)
        self.cursor = -1                    # index into the view
        self.mark_at: int | None = None      # sequence number where the selection started
        self.following = True               # cursor on the last line: keep it there
        self._strips: dict[tuple, Strip] = {}   # drawn lines (render_line)
        self._base: Style | None = None

    # -- content --------------------------------------------------------------
    @property
    def count(self) -> int:
        """Lines in the view (the filter's matches, or all kept)."""
        return len(self._lines) if self._view is None else len(self._view)

    @property
    def total(self) -> int:
        return self._first + len(self._lines)

    def _seq(self, index: int) -> int:
        return self._first + index if self._view is None else self._view[index]

    def _line(self, seq: int) -> str:
        return self._lines[seq - self._first]

    def append(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        if not lines:
            return
        start = self.total
        cursor_seq = self._seq(self.cursor) if 0 <= self.cursor < self.count else None
        self._lines.extend(lines)
        self._first = start + len(lines) - len(self._lines)
        if self._view is not None:
            fold = self._query.casefold()
            self._view.extend(start + i for i, line in enumerate(lines) if fold in line.casefold())
            while self._view and self._view[0] < self._first:
                self._view.popleft()
        if self.mark_at is not None and self.mark_at < self._first:
            self.mark_at = self._first
        if self.following or cursor_seq is None:
            self.cursor = self.count - 1
        else:
            self.cursor = max(0, self._index_of(cursor_seq))
        self._resized()

    def set_filter(self, query: str) -> None:
        """Show only the lines containing ``query`` (case-insensitive); "" shows all."""
        self._query = query
        if query:
            fold = query.casefold()
            self._view = deque((self._first + i for i, line in enumerate(self._lines) if fold in line.casefold()),
                               maxlen=self.keep)
        else:
            self._view = None
        self.mark_at = None
        self.following = True
        self.cursor = self.count - 1
        self._resized()

    @property
    def filter_text(self) -> str:
        return self._query

    def _index_of(self, seq: int) -> int:
        """The view index of the line at ``seq`` or the first after it."""
        if self._view is None:
            return min(max(0, seq - self._first), self.count - 1)
        return min(bisect.bisect_left(self._view, seq), self.count - 1)

    def selected(self) -> list[str]:
        """The selected lines (the cursor's line when nothing is selected), oldest first."""
        if not 0 <= self.cursor < self.count:
            return []
        here = self._seq(self.cursor)
        if self.mark_at is None:
            return [self._line(here)]
        low, high = sorted((self.mark_at, here))
        if self._view is None:
            return [self._line(s) for s in range(max(low, self._first), high + 1)]
        return [self._line(s) for s in self._view if low <= s <= high]

    def _resized(self) -> None:
        size = Size(self.size.width, self.count)
        if size != self.virtual_size:
            # A followed log or a filter being typed changes it several times a second. The vertical
            # scrollbar is always there (CSS), so only its range and the scroll limits change.
            resize_in_place(self, size)
        if self.following:
            # force: before the layout has shown the scrollbar, scrolling counts as not allowed.
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        else:
            self._keep_cursor_visible()
        self.refresh()

    def on_resize(self) -> None:
        if self.following:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        else:
            self._keep_cursor_visible()

    def _keep_cursor_visible(self) -> None:
        top, height = int(self.scroll_y), max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)

    # -- keys -----------------------------------------------------------------
    def _go(self, index: int) -> None:
        if not self.count:
            return
        before, top = self.cursor, int(self.scroll_y)
        self.cursor = max(0, min(self.count - 1, index))
        self.following = self.cursor == self.count - 1
        self._keep_cursor_visible()
        if int(self.scroll_y) != top or self.mark_at is not None:
            self.refresh()          # scrolled (all lines move), or a selection grew: every line may change
        else:
            # Only the old and the new cursor lines look different: redraw those two.
            for index in {before, self.cursor}:
                if top <= index < top + self.size.height:
                    self.refresh_lines(index)

    def action_move(self, delta: int) -> None:
        self._go(self.cursor + delta)

    def action_extend(self, delta: int) -> None:
        if self.mark_at is None and 0 <= self.cursor < self.count:
            self.mark_at = self._seq(self.cursor)
        self._go(self.cursor + delta)

    def action_page(self, delta: int) -> None:
        self._go(self.cursor + delta * max(1, self.size.height - 1))

    def action_edge(self, end: int) -> None:
        self._go(self.count - 1 if end else 0)

    def action_mark(self) -> None:
        if 0 <= self.cursor < self.count:
            self.mark_at = None if self.mark_at is not None else self._seq(self.cursor)
            self.refresh()

    def action_unmark(self) -> None:
        if self.mark_at is None:
            raise SkipAction()          # nothing selected: Esc is the screen's (close)
        self.mark_at = None
        self.refresh()

    # -- drawing --------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        # The widget's style walks its ancestors (~0.2 ms): once per pass, not once per line.
        self._base = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._base = None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = int(self.scroll_y) + y
        base = self._base if self._base is not None else self.rich_style
        if not 0 <= index < self.count:
            return Strip.blank(width, base)
        seq = self._seq(index)
        selected = False
        if self.mark_at is not None and 0 <= self.cursor < self.count:
            low, high = sorted((self.mark_at, self._seq(self.cursor)))
            selected = low <= seq <= high
        cursor = index == self.cursor and self.has_focus
        # A followed log scrolls a line or more per pull: the lines still on screen are drawn
        # from this cache (a line's look depends only on these), not styled and measured again.
        # (Presenter mode masks hosts: the same line is drawn differently while it is on.)
        key = (seq, selected, cursor, width, self._query, base, getattr(self.app, "masking_hosts", None))
        strip = self._strips.get(key)
        if strip is None:
            strip = self._draw(seq, selected, cursor, width, base)
            if len(self._strips) > 4 * max(self.size.height, 10):
                self._strips.clear()
            self._strips[key] = strip
        return strip

    def _draw(self, seq: int, selected: bool, cursor: bool, width: int, base: Style) -> Strip:
        raw = self._line(seq)
        text = Text(one_line(self.redact(raw)), style=base, no_wrap=True, end="")
        if self.pattern is not None and self.pattern.search(raw):
            text.stylize(Style(color="red", bold=True))
        if self._query:
            fold, q = text.plain.casefold(), self._query.casefold()
            at = fold.find(q)
            while at >= 0 and q:
                text.stylize(Style(underline=True), at, at + len(q))
                at = fold.find(q, at + len(q))
        if selected:
            text.stylize(Style(bgcolor="blue"))
        if cursor:
            text.stylize(Style(reverse=True))
        segments = [Segment(s.text, s.style) for s in text.render(self.app.console) if s.text != "\n"]
        return Strip(segments).crop_extend(0, width, base)
