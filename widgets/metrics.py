"""The metrics pane: one line per [[metrics]] row — state, value, baseline, sparkline, reason.

Renders :class:`checks.metrics.MetricsSnapshot` only; no I/O. A row whose query
failed is red with the reason (Prometheus' own message for a PromQL error, made
one visible line); the others are unaffected.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widget import Widget

from checks.base import Level
from tui.incident.safe_text import one_line
from widgets.sparkline import sparkline

from .changes import set_border_text, set_only_class

if TYPE_CHECKING:
    from checks.metrics import MetricRow, MetricsSnapshot

LEVEL_CLASS = {Level.OK: "-ok", Level.UNKNOWN: "-unknown", Level.WARN: "-warn", Level.CRIT: "-crit"}
_CLASSES = (*LEVEL_CLASS.values(), "-error")
BADGE = {Level.OK: ("OK", "bold black on green"), Level.WARN: ("WARN", "bold black on dark_orange"),
         Level.CRIT: ("CRIT", "bold white on red"), Level.UNKNOWN: ("?", "dim")}
SPARK_WIDTH = 20


def downsample(values: Sequence[float | None], width: int) -> list[float | None]:
    """At most ``width`` points, each the worst (highest) of its bucket: a spike never disappears."""
    if len(values) <= width:
        return list(values)
    out: list[float | None] = []
    for i in range(width):
        bucket = [v for v in values[i * len(values) // width:(i + 1) * len(values) // width] if v is not None]
        out.append(max(bucket) if bucket else None)
    return out


class MetricsPane(Widget):
    DEFAULT_CSS = """
    MetricsPane { border: round $primary; height: 1fr; padding: 0 1; }
    MetricsPane.-ok { border: round $success; }
    MetricsPane.-warn { border: round $warning; }
    MetricsPane.-crit, MetricsPane.-error { border: round $error; }
    MetricsPane.-unknown { border: round $secondary; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.border_title = "Metrics"
        self.border_subtitle = "waiting for first poll…"
        self.snapshot: MetricsSnapshot | None = None

    def show(self, snapshot: MetricsSnapshot) -> None:
        self.snapshot = snapshot
        set_only_class(self, "-error" if snapshot.error else LEVEL_CLASS[snapshot.level], _CLASSES)
        set_border_text(self, subtitle=one_line(snapshot.error or snapshot.summary))
        self.refresh()

    def line(self, r: MetricRow, name_width: int, spark_width: int) -> Text:
        from checks.metrics import format_value

        label, style = BADGE[r.level]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{label:<4}", style=style)
        text.append(f" {one_line(r.name)[:name_width]:<{name_width}}", style="bold")
        if r.value is None and r.reason:
            text.append(f" {one_line(r.reason)}", style="bold red" if r.level >= Level.CRIT else "dim")
            return text
        text.append(f" {format_value(r.value, r.unit):>11}")
        base = format_value(r.baseline, r.unit) if r.baseline is not None else "—"
        text.append(f" base {base:<10}", style="dim")
        if spark_width > 0 and r.history:
            text.append(f" {sparkline(downsample(r.history, spark_width))}",
                        style="red" if r.level >= Level.CRIT else "dark_orange" if r.level >= Level.WARN else "green")
        return text

    def render(self) -> Text:
        snap = self.snapshot
        if snap is None:
            return Text("waiting for first poll…", style="dim")
        out = Text(no_wrap=True, overflow="ellipsis")
        if snap.error:
            out.append(f"⚠ {one_line(snap.error)}\n", style="bold red")
        name_width = min(20, max((len(r.name) for r in snap.rows), default=4))
        # badge, name, value, baseline: what is left is the sparkline's.
        spark_width = max(0, min(SPARK_WIDTH, self.content_size.width - (4 + 1 + name_width + 12 + 16 + 1)))
        for r in snap.rows:
            out.append_text(self.line(r, name_width, spark_width))
            out.append("\n")
        out.rstrip()
        return out
