"""The [[hosts]] rows of the host pane: each other machine under a header line naming it.

Kept apart from :mod:`widgets.host`, which draws this machine; these rows reuse its
gauge and disk lines (same thresholds, same bars), so a remote host reads like the local
one. Every host's header carries its one-line summary at a high priority: when the pane
is short the gauges go first and each host still says how it is. A host that stopped
answering keeps its last figures, drawn in the critical colour under the reason.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from rich.style import Style
from rich.text import Text

from checks.base import Level

if TYPE_CHECKING:
    from checks.host import DiskUsage, Gauge, HostSnapshot


class HostPane(Protocol):
    """What these rows use of widgets.host.HostPane (which imports this module, not the reverse)."""

    def _style(self, name: str) -> Style: ...
    def _level_style(self, level: Level) -> Style: ...
    def _gauge_line(self, label: str, percent: float, level: Level, label_w: int, bar_w: int,
                    detail: str, detail_w: int) -> Text: ...
    def _disk_line(self, disk: DiskUsage, label_w: int, bar_w: int, detail_w: int) -> Text: ...
    @staticmethod
    def _used_total(g: Gauge) -> str: ...

__all__ = ["add_remote_items", "fit_label", "local_header"]

Add = Callable[..., None]

# Priorities (lower is kept first; this machine's cpu and memory are 1, its disks 2).
HEADER = 1.5
BREACH = 2.1
GAUGE = 2.2
DISK = 2.3
MINOR = 4.5
OTHER_DISK = 5.0


def local_header(pane: HostPane, hostname: str, level: Level) -> Text:
    line = Text("▸ ", style=pane._level_style(level))
    line.append(hostname or "this machine", style=pane._style("label"))
    if hostname:
        line.append(" · this machine", style=pane._style("dim"))
    return line


def _figures(pane: HostPane, snap: HostSnapshot) -> Text:
    """The header's figures, short enough for a narrow pane: what is over a threshold, worst
    first, else cpu, memory and the fullest disk (the local summary's choice)."""
    judged = [(label, pct, lvl) for _, label, pct, lvl, _, _ in snap.gauges()]
    bad = sorted((j for j in judged if j[2] > Level.OK), key=lambda j: (-j[2], -j[1]))
    out = Text()
    if not judged:
        out.append(snap.summary, style=pane._style("dim"))
        return out
    if bad:
        shown = bad
    else:
        # All well: which disk is fullest matters less than how full ("disk 74%", as this machine's summary).
        disks = [("disk", pct, lvl) for label, pct, lvl in judged if label.startswith("disk ")]
        shown = [j for j in judged if j[0] in ("cpu", "memory")] + ([max(disks, key=lambda j: j[1])] if disks else [])
    for i, (label, pct, lvl) in enumerate(shown):
        if i:
            out.append(" · ", style=pane._style("dim"))
        name = fit_label(label[5:], 14) if label.startswith("disk ") else {"memory": "mem"}.get(label, label)
        out.append(f"{name} {pct:.0f}%", style=pane._level_style(lvl) if lvl > Level.OK else pane._style("dim"))
    if snap.cpu is None:
        out.append(" · cpu measuring…", style=pane._style("dim"))
    return out


def add_remote_items(pane: HostPane, remotes: Sequence[HostSnapshot], label_w: int, bar_w: int,
                     detail_w: int, add: Add) -> None:
    for snap in remotes:
        down = snap.error is not None
        head = Text("▸ ", style=pane._level_style(snap.level))
        head.append(snap.hostname, style=pane._style("label"))
        head.append("  ")
        if down:
            # The reason on a line of its own: a narrow pane would clip it off the header.
            head.append("⚠ not answering", style=pane._style("error"))
            add(HEADER, head, Text("  " + (snap.error or ""), style=pane._style("error")))
        else:
            head.append_text(_figures(pane, snap))
            add(HEADER, head)

        def level(own: Level, down: bool = down) -> Level:
            # Stale figures of a host that stopped answering are drawn as critical: not to be trusted.
            return Level.CRIT if down else own

        if snap.cpu is not None:
            add(GAUGE, pane._gauge_line("cpu", snap.cpu.percent, level(snap.cpu.level), label_w, bar_w,
                                        f"{snap.cpu_count} cores" if snap.cpu_count else "", detail_w))
        elif not down and (snap.memory is not None or snap.disks):
            add(MINOR, Text("cpu".ljust(label_w), style=pane._style("label"))
                + Text("measuring…", style=pane._style("dim")))
        if snap.memory is not None:
            add(GAUGE, pane._gauge_line("mem", snap.memory.percent, level(snap.memory.level), label_w, bar_w,
                                        pane._used_total(snap.memory), detail_w))
        if snap.swap is not None:
            add(MINOR, pane._gauge_line("swap", snap.swap.percent, level(snap.swap.level), label_w, bar_w,
                                        pane._used_total(snap.swap), detail_w))
        if snap.load is not None:
            load = Text("load".ljust(label_w), style=pane._style("label"))
            load.append(" ".join(f"{x:.2f}" for x in snap.load), style=pane._style("error") if down else "")
            add(MINOR, load)
        for disk in snap.disks:
            line = pane._disk_line(disk, label_w, bar_w, detail_w)
            if down:
                line.stylize(pane._style("error"))
            add(BREACH if disk.level > Level.OK else DISK if disk.mountpoint == "/" else OTHER_DISK, line)


def fit_label(label: str, width: int) -> str:
    """A mountpoint keeps its end ("…/postgresql"): its last part is what tells disks apart."""
    if label.startswith("/") and len(label) > width > 1:
        tail = label[len(label) - width + 1:]
        cut = tail.find("/")
        return "…" + (tail[cut:] if cut > 0 else tail)     # "…/postgresql" rather than "…ib/postgresql"
    return _fit(label, width)


def _fit(text: str, width: int) -> str:
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
