"""A compositor whose partial updates render only the lines that changed.

Textual's partial update takes the box around every dirty region and has each
widget overlapping that box render *all* of its lines (from its line cache, but
each line is still cropped, filtered and cut). A frame that changed the header's
clock and a row of the pods table is a box over most of the screen, so the screen,
every pane and every container rendered 30-48 lines to put ~3 lines on the
terminal: ~5 ms a frame, most of the dashboard's idle CPU.

Here each widget renders only the lines of the dirty regions it overlaps, and of
those only the lines where a widget in front has not already covered every chop
the update will send: the screen and the containers behind a changed table row
render nothing. What reaches the terminal is the same: the update is still cut to
the dirty spans, and the chops sent are those the front-most widget rendered.
Full updates (first frame, resize, layout) are Textual's own.

Hook ``compositor``: with it off the screen keeps Textual's own compositor.
"""
from __future__ import annotations

from typing import Iterator

from textual._compositor import ChopsUpdate, Compositor
from textual.geometry import Region
from textual.strip import Strip


class DirtyLinesCompositor(Compositor):
    def render_partial_update(self) -> ChopsUpdate | None:
        update_regions = self._dirty_regions.copy()
        self._dirty_regions.clear()
        if not update_regions:
            return None
        spans = list(self._regions_to_spans(update_regions))
        cuts = self.cuts
        chop_ends = [cut_set[1:] for cut_set in cuts]
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        self._render_chops_under(spans, cuts, chop_ends, chops)
        return ChopsUpdate(chops, spans, chop_ends)

    def _render_chops_under(self, spans: list[tuple[int, int, int]], cuts: list[list[int]],
                            chop_ends: list[list[int]], chops: list[dict[int, Strip | None]]) -> None:
        """Fill the chops the spans will send, front to back: Textual's ``_render_chops``
        with each widget rendering only its lines that still have such a chop to fill."""
        # The chops whose cells ChopsUpdate sends, per line.
        wanted: dict[int, list[int]] = {}
        for y, x1, x2 in spans:
            line = wanted.setdefault(y, [])
            line.extend(x for x, end in zip(cuts[y], chop_ends[y]) if x < x2 and end > x1)
        for widget, (region, clip) in self.visible_widgets.items():
            visible = region.intersection(clip)     # per layout, as Textual's own renders ask
            if not visible:
                continue
            vx, vy, vw, vh = visible
            vright = vx + vw
            # A line whose wanted chops under this widget a widget in front already filled would
            # render only to be thrown away: the screen and the containers behind every pane.
            lines = [y for y in range(max(vy, min(wanted)), min(vy + vh, max(wanted) + 1))
                     if y in wanted and _unfilled(chops[y], wanted[y], vx, vright)]
            if not lines:
                continue
            for top, bottom in _runs(lines):
                strips = widget.render_lines(Region(vx - region.x, top - region.y, vw, bottom - top))
                for y, strip in zip(range(top, bottom), strips):
                    chops_line = chops[y]
                    final_cuts = [cut for cut in cuts[y] if vright >= cut >= vx]
                    get = chops_line.get
                    for cut, piece in zip(final_cuts, strip.divide([cut - vx for cut in final_cuts[1:]])):
                        if get(cut) is None:
                            chops_line[cut] = piece
        # ChopsUpdate also sends a bare cursor move for a chop that starts where a span ends,
        # if anything (always the screen, at the back) filled it: an empty strip sends the same.
        for y, _, x2 in spans:
            if chops[y].get(x2, _MISSING) is None:
                chops[y][x2] = _NOTHING


_MISSING = object()
_NOTHING = Strip([])


def _unfilled(chops_line: dict[int, Strip | None], wanted: list[int], left: int, right: int) -> bool:
    return any(chops_line[x] is None for x in wanted if left <= x < right)


def _runs(lines: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted line numbers as [top, bottom) runs of consecutive lines."""
    top = prev = lines[0]
    for y in lines[1:]:
        if y != prev + 1:
            yield top, prev + 1
            top = y
        prev = y
    yield top, prev + 1
