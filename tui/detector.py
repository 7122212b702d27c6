"""Turns sources' state changes into `system` timeline entries, damped.

Rules: one entry per (key, state) per minute at most; a key that changes state
4 times within 5 minutes is "flapping": one entry says so, then it stays quiet
until the key has held one state for 5 minutes, when one more entry says where
it settled. Pure logic with an injectable clock; no textual.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from checks.base import Event, Level

REPEAT_WINDOW = timedelta(minutes=1)
FLAP_WINDOW = timedelta(minutes=5)
FLAP_CHANGES = 4
SETTLE_AFTER = timedelta(minutes=5)


@dataclass
class _KeyState:
    changes: deque = field(default_factory=lambda: deque(maxlen=16))
    last_emitted: dict = field(default_factory=dict)     # state -> when
    flapping_since: datetime | None = None
    last_event: Event | None = None


class Damper:
    def __init__(self) -> None:
        self._keys: dict[str, _KeyState] = {}

    def feed(self, events: list[Event], now: datetime) -> list[Event]:
        """Events worth writing now, out of the raw transitions just observed."""
        out: list[Event] = []
        for event in events:
            st = self._keys.setdefault(event.key, _KeyState())
            st.changes.append(now)
            st.last_event = event
            recent = [t for t in st.changes if now - t <= FLAP_WINDOW]
            if st.flapping_since is not None:
                continue
            if len(recent) >= FLAP_CHANGES:
                st.flapping_since = now
                name = event.key.split(":", 1)[-1]
                out.append(Event(event.key, "FLAPPING",
                                 f"{name} is flapping: {len(recent)} state changes in {FLAP_WINDOW.seconds // 60} min "
                                 f"(now {event.state}); further changes muted until it settles", Level.WARN))
                continue
            when = st.last_emitted.get(event.state)
            if when is not None and now - when < REPEAT_WINDOW:
                continue
            st.last_emitted[event.state] = now
            out.append(event)
        return out

    def tick(self, now: datetime) -> list[Event]:
        """Flapping keys that have been stable long enough get one 'settled' entry."""
        out = []
        for key, st in self._keys.items():
            if st.flapping_since is None or not st.changes or st.last_event is None:
                continue
            if now - st.changes[-1] >= SETTLE_AFTER:
                st.flapping_since = None
                st.changes.clear()
                ev = st.last_event
                out.append(Event(key, ev.state, f"{key.split(':', 1)[-1]} settled: {ev.text}", ev.level))
                st.last_emitted[ev.state] = now
        return out
