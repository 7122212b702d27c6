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
        screen = self.size.region
        regions = [r for r in (region.intersection(screen) for region in update_regions) if r]
        spans = list(self._regions_to_spans(update_regions))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        chops = self._chop(self._dirty_line_renders(regions), is_rendered_line)
        chop_ends = [cut_set[1:] for cut_set in self.cuts]
        return ChopsUpdate(chops, spans, chop_ends)

    def _dirty_line_renders(self, regions: list[Region]) -> Iterator[tuple[Region, Region, list[Strip]]]:
        """(region, the part rendered, its strips) for each run of dirty lines of each widget,
        front to back: Textual's ``_get_renders`` with each widget cropped to its dirty lines."""
        intersection = Region.intersection
        for widget, (region, clip) in self.visible_widgets.items():
            visible = intersection(region, clip)
            if not visible:
                continue
            lines: set[int] = set()
            for dirty in regions:
                _, y, width, height = intersection(visible, dirty)
                if width and height:
                    lines.update(range(y, y + height))
            if not lines:
                continue
            x, width = visible.x, visible.width
            for top, bottom in _runs(sorted(lines)):
                part = Region(x, top, width, bottom - top)
                yield region, part, widget.render_lines(
                    Region(x - region.x, top - region.y, width, bottom - top))

    def _chop(self, renders: Iterable[tuple[Region, Region, list[Strip]]],
              is_rendered_line: Callable[[int], bool]) -> list[dict[int, Strip | None]]:
        """Textual's ``_render_chops`` loop over the given renders."""
        cuts = self.cuts
        chops: list[dict[int, Strip | None]] = [dict.fromkeys(cut_set[:-1]) for cut_set in cuts]
        intersection = Region.intersection
        for region, clip, strips in renders:
            render_region = intersection(region, clip)
            render_x = render_region.x
            first_cut, last_cut = render_region.column_span
            for y, strip in zip(render_region.line_range, strips):
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
