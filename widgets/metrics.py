"""The metrics pane: one line per [[metrics]] row — state, value, ≈baseline, sparkline, reason.

Renders :class:`checks.metrics.MetricsSnapshot` only; no I/O. A row whose query
failed is red with the reason (Prometheus' own message for a PromQL error, made
one visible line); the others are unaffected.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from checks.base import Level
from tui.incident.safe_text import one_line
from widgets.sparkline import sparkline

from .signal_pane import SignalPane

if TYPE_CHECKING:
    from checks.metrics import MetricRow, MetricsSnapshot

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


class MetricsPane(SignalPane):
    TITLE = "Metrics"

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.snapshot: MetricsSnapshot | None = None

    def line(self, r: MetricRow, name_width: int, width: int) -> Text:
        """Badge, name, value; then, as room allows, the baseline and the sparkline."""
        from checks.metrics import format_value

        label, style = BADGE[r.level]
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{label:<4}", style=style)
        text.append(f" {one_line(r.name)[:name_width]:<{name_width}}", style="bold")
        if r.value is None and r.reason:
            text.append(f" {one_line(r.reason)}", style="bold red" if r.level >= Level.CRIT else "dim")
            return text
        text.append(f" {format_value(r.value, r.unit):>10}")
        left = width - (4 + 1 + name_width + 11)
        # The baseline without its unit (the value beside it has it): narrow panes keep it too.
        base = f" ≈{format_value(r.baseline, '') if r.baseline is not None else '—'}"
        if left >= len(base):
            text.append(base, style="dim")
            left -= len(base)
        spark = min(SPARK_WIDTH, left - 1)
        if spark >= 4 and r.history:
            text.append(f" {sparkline(downsample(r.history, spark))}",
                        style="red" if r.level >= Level.CRIT else "dark_orange" if r.level >= Level.WARN else "green")
        return text

    def rows(self, snap: MetricsSnapshot, out: Text) -> Text:
        width = self.content_size.width
        # Names first (a row nobody can name is no use); the value and ≈baseline take ~22 columns.
        name_width = min(max((len(r.name) for r in snap.rows), default=4), max(8, width - 22), 24)
        for r in snap.rows:
            out.append_text(self.line(r, name_width, width))
            out.append("\n")
        out.rstrip()
        return out
