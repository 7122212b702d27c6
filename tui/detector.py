"""Turns sources' state changes into `system` timeline entries, damped.

Rules:
- at most one entry per key and state per minute (a counter state such as
  ``restart:7`` counts as ``restart``, so a crash-looping pod writes one restart
  entry a minute, not one per restart);
- a key that keeps going bad and recovering (2+ failures and 2+ recoveries, 4+
  changes within 5 minutes) is "flapping": one entry says so, then it stays
  quiet until it has held one state for 5 minutes, when one entry says where it
  settled.
Pure logic with the time passed in; no textual.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checks.base import Event, Level

REPEAT_WINDOW = timedelta(minutes=1)
FLAP_WINDOW = timedelta(minutes=5)
FLAP_CHANGES = 4
SETTLE_AFTER = timedelta(minutes=5)
_COUNTER = re.compile(r":\d+$")


@dataclass
class _KeyState:
    changes: deque = field(default_factory=lambda: deque(maxlen=32))   # (when, level)
    last_emitted: dict = field(default_factory=dict)                   # normalised state -> when
    flapping_since: datetime | None = None
    last_event: Event | None = None


def _is_flapping(changes: deque, now: datetime) -> bool:
    recent = [level for when, level in changes if now - when <= FLAP_WINDOW]
    recoveries = sum(1 for level in recent if level == Level.OK)
    return len(recent) >= FLAP_CHANGES and recoveries >= 2 and len(recent) - recoveries >= 2


class Damper:
    def __init__(self) -> None:
        self._keys: dict[str, _KeyState] = {}

    def feed(self, events: list[Event], now: datetime) -> list[Event]:
        """Events worth writing now, out of the raw transitions just observed."""
        out: list[Event] = []
        for event in events:
            st = self._keys.setdefault(event.key, _KeyState())
            st.changes.append((now, event.level))
            st.last_event = event
            if st.flapping_since is not None:
                continue
            if _is_flapping(st.changes, now):
                st.flapping_since = now
                name = event.key.split(":", 1)[-1]
                count = sum(1 for when, _ in st.changes if now - when <= FLAP_WINDOW)
                out.append(Event(event.key, "FLAPPING",
                                 f"{name} is flapping: {count} state changes in {FLAP_WINDOW.seconds // 60} min "
                                 f"(now {event.state}); further changes muted until it settles", Level.WARN))
                continue
            state = _COUNTER.sub("", event.state)
            when = st.last_emitted.get(state)
            if when is not None and now - when < REPEAT_WINDOW:
                continue
            st.last_emitted[state] = now
            out.append(event)
        return out

    def tick(self, now: datetime) -> list[Event]:
        """Flapping keys that have been stable long enough get one 'settled' entry."""
        out = []
        for key, st in self._keys.items():
            if st.flapping_since is None or not st.changes or st.last_event is None:
                continue
            if now - st.changes[-1][0] >= SETTLE_AFTER:
                st.flapping_since = None
                st.changes.clear()
                ev = st.last_event
                out.append(Event(key, ev.state, f"{key.split(':', 1)[-1]} settled: {ev.text}", ev.level))
                st.last_emitted[_COUNTER.sub("", ev.state)] = now
        return out
