"""One beat for everything the dashboard redraws by itself.

Left alone, the clock tick, the host poll, the pod poll and the health rounds each
came at their own phase of the second, and each cost a frame of its own (3.6 frames
a second in the demo, ~1.5 ms each, for changes nobody was looking at within the
same second). The ``Beat`` puts the polls on the clock tick's grid, so that what
they bring lands together with the tick, and the dashboard waits ``FRAME_WAIT_S``
before drawing a frame nobody's key asked for, so that it is drawn once.
"""
from __future__ import annotations

import time

# The grid: the dashboard's one-second clock tick.
PERIOD_S = 1.0
# A poll may start this much before it is due: the health checker counts a service due
# within 50 ms as due now (checks/health.py _DUE_SLACK_S), so this never makes an empty round.
EARLY_S = 0.04
# One poll moves at most this fraction of its interval towards the grid; a poll off the
# grid (a first poll, a slow one) is back on it within a few intervals, never 2x late.
MAX_SHIFT = 0.25
# How long an unasked-for frame waits for the rest of what arrives on the beat
# (a thread-worker poll lands 1-5 ms after the tick; a local health round 5-30 ms).
FRAME_WAIT_S = 0.04
# Input this recent means the user is waiting for the screen: frames are drawn at once.
INPUT_RECENT_S = 0.5
# A poll that takes a while (a health round waits for its slowest service) is moved so that
# it ends, not starts, on the grid: it lands this much before the tick, and the frame waiting
# for it takes the tick along. Longer polls vary too much for that, and start on the grid.
ARRIVE_BEFORE_S = 0.01
MAX_LEAD_S = 0.5


class Beat:
    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self.last_tick: float | None = None

    def tick(self) -> None:
        """Called by the dashboard's one-second tick: the grid's phase."""
        self.last_tick = self._clock()

    def align(self, delay: float, early_ok: bool = False, lead: float = 0.0) -> float:
        """``delay`` moved towards the grid. ``early_ok``: the source only asks for a pace
        (host, pods, deploys), so it may also poll sooner; otherwise (health, whose services
        have due times) at most ``EARLY_S`` sooner. ``lead``: how long the source's last poll
        took; up to ``MAX_LEAD_S``, the poll is aimed to end just before a tick rather than
        start on one. Sub-second delays are left as they are."""
        if self.last_tick is None or delay < PERIOD_S:
            return delay
        ahead = lead + ARRIVE_BEFORE_S if 0.0 < lead <= MAX_LEAD_S else 0.0
        offset = (self._clock() + delay + ahead - self.last_tick) % PERIOD_S
        if offset <= EARLY_S:
            return delay - offset
        most = MAX_SHIFT * delay
        later = PERIOD_S - offset
        if early_ok and offset <= later:
            return delay - min(offset, most)
        return delay + min(later, most)
