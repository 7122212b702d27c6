"""A compositor whose partial updates render only the lines that changed.

Textual's partial update takes the box around every dirty region and has each
widget overlapping that box render *all* of its lines (from its line cache, but
each line is still cropped, filtered and cut). A frame that changed the header's
clock and a row of the pods table is a box over most of the screen, so the screen,
every pane and every container rendered 30-48 lines to put ~3 lines on the
terminal: ~5 ms a frame, most of the dashboard's idle CPU.

Here each widget renders only the lines of the dirty regions it overlaps. What
reaches the terminal is the same: the update is still cut to the dirty spans, and
a cell of a span is covered only by widgets that overlap that span's region.
Full updates (first frame, resize, layout) are Textual's own.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

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
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        chops = self._chop(self._dirty_line_renders(update_regions), is_rendered_line)
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, spans, chop_ends)

    def _dirty_line_renders(self, regions: Iterable[Region]) -> Iterator[tuple[Region, list[Strip]]]:
        """(the part rendered, its strips) for each run of dirty lines of each widget, front
        to back: Textual's ``_get_renders`` with each widget cropped to its dirty lines.
        Plain arithmetic, not Region.intersection: that is an lru_cache, which these
        one-frame regions would fill with 4,096 dead entries."""
        screen_width, screen_height = self.size
        boxes = [(x, y, x + w, y + h) for x, y, w, h in regions
                 if w > 0 and h > 0 and x < screen_width and y < screen_height]
        for widget, (region, clip) in self.visible_widgets.items():
            visible = region.intersection(clip)     # per layout, as Textual's own renders ask
            if not visible:
                continue
            vx, vy, vw, vh = visible
            vright, vbottom = vx + vw, vy + vh
            lines: set[int] = set()
            for x1, y1, x2, y2 in boxes:
                if x1 < vright and vx < x2:
                    top, bottom = max(vy, y1), min(vbottom, y2)
                    if top < bottom:
                        lines.update(range(top, bottom))
            if not lines:
                continue
            for top, bottom in _runs(sorted(lines)):
                yield Region(vx, top, vw, bottom - top), widget.render_lines(
                    Region(vx - region.x, top - region.y, vw, bottom - top))

    def _chop(self, renders: Iterable[tuple[Region, list[Strip]]],
              is_rendered_line: Callable[[int], bool]) -> list[dict[int, Strip | None]]:
        """Textual's ``_render_chops`` loop over the given renders."""
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        for render_region, strips in renders:
            render_x = render_region.x
            first_cut, last_cut = render_x, render_x + render_region.width
            for y, strip in zip(range(render_region.y, render_region.y + render_region.height), strips):
                if not is_rendered_line(y):
                    continue
                chops_line = chops[y]
                final_cuts = [cut for cut in cuts[y] if last_cut >= cut >= first_cut]
                get = chops_line.get
                for cut, piece in zip(final_cuts, strip.divide([cut - render_x for cut in final_cuts[1:]])):
                    if get(cut) is None:
                        chops_line[cut] = piece
        return chops


def _runs(lines: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted line numbers as [top, bottom) runs of consecutive lines."""
    top = prev = lines[0]
    for y in lines[1:]:
        if y != prev + 1:
            yield top, prev + 1
            top = y
        prev = y
    yield top, prev + 1
