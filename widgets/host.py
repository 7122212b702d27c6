"""The host pane: CPU (total and per core), load, memory/swap, disks, I/O, top processes.

One render-based widget rather than a stack of tables: the pane is dense and has
to degrade well, so every line is an item with a priority and :meth:`HostPane.build_lines`
keeps the most important ones that fit (CPU, memory and the disks first; the
per-core strip and the second top-process column go first when space is short).
Colours come from the levels the check decided; the widget judges nothing itself
except colouring each core's bar against the CPU gauge's own thresholds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from checks.base import Level
from tui.textual_hooks.pass_style import PassStyle

from .changes import same_text, set_border_text, set_only_class
from .hosts import fit_label

if TYPE_CHECKING:
    from checks.host import DiskUsage, Gauge, HostSnapshot, ProcInfo

__all__ = ["HostPane"]

_LEVEL_CLASS = {Level.OK: "-ok", Level.UNKNOWN: "-unknown", Level.WARN: "-warn", Level.CRIT: "-crit"}
_ALL_CLASSES = ("-ok", "-unknown", "-warn", "-crit", "-error")
_SPARK = " ▁▂▃▄▅▆▇█"


@dataclass
class _Item:
    """Lines shown together or not at all, with a priority."""
    order: int            # display position
    priority: float       # lower = kept first
    lines: list[Text]     # shown together or not at all (a header with its first row)


class HostPane(PassStyle, Widget):
    """Renders :class:`~checks.host.HostSnapshot`; call :meth:`show` with each new one."""

    DEFAULT_CSS = """
    HostPane {
        border: round $primary;
        height: 1fr;
        min-height: 4;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    HostPane.-warn { border: round $warning; }
    HostPane.-crit, HostPane.-error { border: round $error; }
    HostPane.-crit { border-title-color: $error; }
    HostPane > .host-pane--ok { color: $success; }
    HostPane > .host-pane--warn { color: $warning; }
    HostPane > .host-pane--crit { color: $error; text-style: bold; }
    HostPane > .host-pane--unknown { color: $foreground-darken-3; }
    HostPane > .host-pane--dim { color: $foreground-darken-3; }
    HostPane > .host-pane--track { color: $panel-lighten-3; }
    HostPane > .host-pane--label { text-style: bold; }
    HostPane > .host-pane--error { color: $error; text-style: bold; }
    """

    COMPONENT_CLASSES = {
        "host-pane--ok", "host-pane--warn", "host-pane--crit", "host-pane--unknown",
        "host-pane--dim", "host-pane--track", "host-pane--label", "host-pane--error",
    }

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.snapshot: HostSnapshot | None = None   # last good data (kept through errors)
        self.error: str | None = None
        self.remotes: tuple[HostSnapshot, ...] = ()   # the [[hosts]] machines (widgets.hosts draws them)
        self.border_title = "host"
        self._version = 0                       # bumped by every change of what is shown
        self._lines: list[Text] = []
        self._lines_key: tuple[int, int, int] | None = None

    # ------------------------------------------------------------ public

    def show(self, snapshot: HostSnapshot) -> None:
        self.remotes = snapshot.remotes
        if snapshot.error is None:
            self.snapshot = snapshot
            self.error = None
        else:
            self.error = snapshot.error
        set_only_class(self, "-error" if snapshot.error else _LEVEL_CLASS[snapshot.level], _ALL_CLASSES)
        host = snapshot.hostname or (self.snapshot.hostname if self.snapshot else "")
        # The subtitle names what is over a threshold. When nothing is, it does not repeat the
        # numbers above it: a subtitle that changes every second repaints the whole pane.
        more = f" + {len(self.remotes)} more" if self.remotes else ""
        set_border_text(self, title=f"host {host}{more}".strip(),
                        subtitle=snapshot.error or (snapshot.summary if snapshot.level > Level.OK
                                                    else "within thresholds"))
        self._repaint_changed_lines()

    def build_lines(self, width: int, height: int) -> list[Text]:
        """The lines shown in a content area of ``width`` x ``height`` cells."""
        if width <= 0 or height <= 0:
            return []
        keep: list[_Item] = []
        room = height
        for item in sorted(self._items(width), key=lambda it: (it.priority, it.order)):
            if len(item.lines) <= room:
                keep.append(item)
                room -= len(item.lines)
        return [line for item in sorted(keep, key=lambda it: it.order) for line in item.lines]

    # A line-API widget: each second most lines (disks, memory, swap) read as before, and
    # only the lines that changed are painted again.

    def _lines_for(self, width: int, height: int) -> list[Text]:
        key = (width, height, self._version)
        if key != self._lines_key:
            self._lines = self.build_lines(width, height)
            for line in self._lines:
                line.truncate(width, overflow="ellipsis")
            self._lines_key = key
        return self._lines

    def _repaint_changed_lines(self) -> None:
        before = self._lines
        self._version += 1
        width, height = self.size
        if not self.is_mounted or width <= 0 or height <= 0:
            self.refresh()
            return
        after = self._lines_for(width, height)
        changed = [y for y in range(max(len(before), len(after)))
                   if y >= len(before) or y >= len(after) or not same_text(before[y], after[y])]
        if len(changed) >= len(after):
            self.refresh()
            return
        for y in changed:
            self.refresh(Region(0, y, width, 1))     # content coordinates

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        base = self.rich_style
        lines = self._lines_for(width, height)
        if y >= len(lines):
            return Strip.blank(width, base)
        strip = Strip(list(lines[y].render(self.app.console))).crop_extend(0, width, base)
        return strip.apply_style(base) if base else strip

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._version += 1          # lines carry component-class colours: build them again

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001 - textual signature
        return max(1, sum(len(it.lines) for it in self._items(width)))

    # ------------------------------------------------------------ styles

    def _style(self, name: str) -> Style:
        try:
            return self.get_component_rich_style(f"host-pane--{name}", partial=True)
        except Exception:  # noqa: BLE001 - not mounted yet (unit use): plain text
            return Style()

    def _level_style(self, level: Level) -> Style:
        return self._style(level.name.lower())

    # ------------------------------------------------------------ layout

    def _items(self, width: int) -> list[_Item]:
        items: list[_Item] = []
        order = 0

        def add(priority: float, *lines: Text) -> None:
            nonlocal order
            items.append(_Item(order, priority, list(lines)))
            order += 1

        snap = self.snapshot
        if self.remotes:
            from .hosts import local_header

            # This machine's own level: the snapshot's is the worst of every host.
            own = max((g[3] for g in snap.gauges()), default=Level.UNKNOWN) if snap else Level.UNKNOWN
            add(0.5, local_header(self, snap.hostname if snap else "", own))
        if self.error:
            add(0, Text(f"⚠ {self.error}", style=self._style("error"), no_wrap=True, overflow="ellipsis"))
        if snap is None:
            if not self.error:
                add(0, Text("waiting for the first sample…", style=self._style("dim")))
            return items

        label_w = self._label_width(snap, width)
        detail_w = 9 if width >= 36 else 0
        bar_w = max(3, min(40, width - label_w - 5 - (detail_w + 1 if detail_w else 0)))

        if snap.cpu is not None:
            cores = self._cores(snap)
            line = self._gauge_line("cpu", snap.cpu.percent, snap.cpu.level, label_w, bar_w, "", 0)
            if cores.cell_len and line.cell_len + 1 + cores.cell_len <= width:
                line.append(" ")
                line.append_text(cores)
                add(1, line)
            else:
                add(1, line)
                if cores.cell_len:
                    strip = Text(" " * label_w)
                    strip.append_text(cores)
                    strip.truncate(width, overflow="ellipsis")
                    add(7, strip)
        if snap.load is not None:
            load = Text("load".ljust(label_w), style=self._style("label"))
            load.append(" ".join(f"{x:.2f}" for x in snap.load))
            if snap.cpu_count:
                load.append(f" · {snap.cpu_count} cores", style=self._style("dim"))
            add(5, load)
        if snap.memory is not None:
            add(1, self._gauge_line("mem", snap.memory.percent, snap.memory.level, label_w, bar_w,
                                    self._used_total(snap.memory), detail_w))
        if snap.swap is not None:
            add(4, self._gauge_line("swap", snap.swap.percent, snap.swap.level, label_w, bar_w,
                                    self._used_total(snap.swap), detail_w))
        else:
            add(8, Text("swap".ljust(label_w), style=self._style("label")) + Text("none", style=self._style("dim")))
        for i, disk in enumerate(snap.disks):
            # "/" and any disk over a threshold are as important as memory.
            prio = 2 if (disk.mountpoint == "/" or disk.level > Level.OK) else 3 + i / 100
            add(prio, self._disk_line(disk, label_w, bar_w, detail_w))
        add(5, self._io_line(snap, label_w))
        self._add_top(snap, width, add)
        if self.remotes:
            from .hosts import add_remote_items

            add_remote_items(self, self.remotes, label_w, bar_w, detail_w, add)
        return items

    def _label_width(self, snap: HostSnapshot, width: int) -> int:
        longest = max([len(d.mountpoint) for h in (snap, *self.remotes) for d in h.disks] + [4])
        return min(longest, max(4, width // 3)) + 1

    def _bar(self, percent: float, level: Level, width: int) -> Text:
        filled = max(0, min(width, round(percent / 100 * width)))
        bar = Text("█" * filled, style=self._level_style(level))
        bar.append("░" * (width - filled), style=self._style("track"))
        return bar

    def _gauge_line(self, label: str, percent: float, level: Level, label_w: int, bar_w: int,
                    detail: str, detail_w: int) -> Text:
        line = Text(fit_label(label, label_w - 1).ljust(label_w), style=self._style("label"))
        line.append_text(self._bar(percent, level, bar_w))
        line.append(f"{percent:4.0f}%", style=self._level_style(level))
        if detail_w:
            line.append(" " + detail.rjust(detail_w)[:detail_w], style=self._style("dim"))
        return line

    def _disk_line(self, disk: DiskUsage, label_w: int, bar_w: int, detail_w: int) -> Text:
        detail = f"{format_bytes(disk.used)}/{format_bytes(disk.total)}"
        if len(detail) > detail_w:
            detail = format_bytes(disk.total)
        return self._gauge_line(disk.mountpoint, disk.percent, disk.level, label_w, bar_w, detail, detail_w)

    @staticmethod
    def _used_total(g: Gauge) -> str:
        if g.used is None or g.total is None:
            return ""
        detail = f"{format_bytes(g.used)}/{format_bytes(g.total)}"
        return detail if len(detail) <= 9 else format_bytes(g.total)

    def _cores(self, snap: HostSnapshot) -> Text:
        out = Text()
        if snap.cpu is None or len(snap.per_cpu) < 2:
            return out
        thresholds = (snap.cpu.warn, snap.cpu.crit)
        for pct in snap.per_cpu:
            idx = max(1, min(8, round(pct / 100 * 8)))  # never blank: a core is a visible cell
            out.append(_SPARK[idx], style=self._level_style(level_for(pct, thresholds)))
        return out

    def _io_line(self, snap: HostSnapshot, label_w: int) -> Text:
        line = Text("io".ljust(label_w), style=self._style("label"))
        io = snap.io
        if io.disk_read is None and io.net_recv is None:
            line.append("measuring…", style=self._style("dim"))
            return line
        if io.disk_read is not None or io.disk_write is not None:
            line.append(f"disk r{format_bytes(io.disk_read)} w{format_bytes(io.disk_write)}/s")
        if io.net_recv is not None or io.net_sent is not None:
            if io.disk_read is not None or io.disk_write is not None:
                line.append(" · ", style=self._style("dim"))
            line.append(f"net ↓{format_bytes(io.net_recv)} ↑{format_bytes(io.net_sent)}/s")
        return line

    def _add_top(self, snap: HostSnapshot, width: int, add) -> None:  # noqa: ANN001
        if not snap.top_cpu and not snap.top_memory:
            return
        label = self._style("label")
        if width >= 36:
            col = (width - 1) // 2
            head = Text("top cpu".ljust(col), style=label) + Text(" ") + Text("top mem", style=label)
            for i in range(max(len(snap.top_cpu), len(snap.top_memory))):
                row = Text()
                row.append_text(self._proc_cell(snap.top_cpu, i, col, _cpu_value))
                row.append(" ")
                row.append_text(self._proc_cell(snap.top_memory, i, col, _mem_value))
                if i == 0:
                    add(4, head, row)
                else:
                    add(6 + i / 10, row)
            return
        # Narrow: one column each, CPU first (what burns now), memory after.
        for title, procs, value, first, rest in (("top cpu", snap.top_cpu, _cpu_value, 4, 6),
                                                  ("top mem", snap.top_memory, _mem_value, 6.5, 6.5)):
            for i in range(len(procs)):
                cell = self._proc_cell(procs, i, width, value)
                if i == 0:
                    add(first, Text(title, style=label), cell)
                else:
                    add(rest + i / 10, cell)

    def _proc_cell(self, procs: tuple[ProcInfo, ...], i: int, col: int, value) -> Text:  # noqa: ANN001
        if i >= len(procs):
            return Text(" " * col)
        proc = procs[i]
        val = value(proc)
        name_w = max(1, col - len(val) - 1)
        cell = Text(_fit(proc.name, name_w).ljust(name_w))
        cell.append(" ")
        cell.append(val, style=self._style("dim"))
        return cell


# checks.host is imported by the first snapshot, not with the pane: its snapshot types cost
# ~2 ms to create, before the first frame.
def format_bytes(n: float | None) -> str:
    from checks.host import format_bytes

    return format_bytes(n)


def level_for(value: float, thresholds: tuple[float, float]) -> Level:
    from checks.host import level_for

    return level_for(value, thresholds)


def _cpu_value(proc: ProcInfo) -> str:
    return f"{proc.cpu_percent:.0f}%"


def _mem_value(proc: ProcInfo) -> str:
    return format_bytes(proc.rss)


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
