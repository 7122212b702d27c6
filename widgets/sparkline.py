"""Unicode block sparklines for narrow table cells."""
from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"   # a point with no value (e.g. a check that got no response)


def sparkline(values: Sequence[float | None], width: int | None = None) -> str:
    """The last ``width`` values as blocks, scaled from 0 to the window's maximum.

    Scaling from zero (not from the minimum) keeps a steady 20 ms service flat and
    low instead of magnifying jitter into a jagged full-height line.
    """
    window = list(values[-width:] if width else values)
    present = [v for v in window if v is not None]
    top = max(present, default=0.0)
    out = []
    for v in window:
        if v is None:
            out.append(GAP)
        elif top <= 0:
            out.append(BLOCKS[0])
        else:
            idx = round(max(0.0, v) / top * (len(BLOCKS) - 1))
            out.append(BLOCKS[min(idx, len(BLOCKS) - 1)])
    return "".join(out)
