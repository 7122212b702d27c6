"""Turns sources' state changes into `system` timeline entries, damped.

Rules:
- at most one entry per key and state per minute (a counter state such as
  ``restart:7`` counts as ``restart``, so a crash-looping pod writes one restart
  entry a minute, not one per restart);
- a key that keeps going bad and recovering (2+ failures and 2+ recoveries, 4+
  changes within 5 minutes) is "flapping": one entry says so, listing the changes
  it counts (only real changes are counted: ``restart:7`` after ``restart:6`` is
  not one), then changes are muted until it has held one state for 5 minutes,
  when one entry sums up what was muted (how many changes, the longest outage,
  from when to when) and says where it settled;
- damping summarises, it never hides: an outage muted or held back by the rules
  above that lasts MUTED_OUTAGE_AFTER is written all the same ("api still DOWN
  after 30s …"), and so is the recovery that ends it;
- a burst (more than 5 pods changing in one snapshot, or more than 10 in a
  minute; 20 and 40 for kinds with fewer, weightier things, such as services)
  is one entry that counts them and names the worst,
  with every change in it (``Burst.events``, kept in the entry's meta). While
  that kind keeps changing, one roll-up entry a minute tells what changed since;
  a 100-restarts-a-second storm would otherwise bury the humans' entries under
  6,000 lines a minute. A minute with no change ends the burst.
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
# A few intervals of a default check (5 s): an outage held back this long is written anyway.
MUTED_OUTAGE_AFTER = timedelta(seconds=20)
# (more entries than this of one kind in one snapshot, ... or in a minute): a burst.
# Pods come in replicas, by the hundred; a service going down is a headline of its own.
BURST_LIMITS = {"pod": (5, 10)}
BURST_LIMITS_DEFAULT = (20, 40)
BURST_NAMED = 3            # the worst few are named in a burst's text
_COUNTER = re.compile(r":\d+$")
_NOUNS = {"pod": "pods", "health": "services", "deploy": "deploys", "host": "host gauges"}


@dataclass(frozen=True)
class Burst(Event):
    """One entry standing for many changes of one kind; ``events`` are all of them."""

    events: tuple[Event, ...] = ()


@dataclass
class _GroupState:
    written: deque = field(default_factory=deque)      # when each recent entry of this kind was let through
    burst_at: datetime | None = None                   # the last burst / roll-up entry
    pending: list = field(default_factory=list)        # changes for the next roll-up


def _group(key: str) -> str:
    return key.split(":", 1)[0]


def _burst(group: str, events: list[Event], now: datetime, since: datetime | None) -> Burst:
    noun = _NOUNS.get(group, group)
    things = len({e.key for e in events})
    states: dict[str, int] = {}
    for e in events:
        state = _COUNTER.sub("", e.state)
        states[state] = states.get(state, 0) + 1
    counts = ", ".join(f"{state} ×{n}" for state, n in sorted(states.items(), key=lambda kv: -kv[1]))
    # Worst first; among equals the first seen (a snapshot lists its worst first).
    worst = sorted(range(len(events)), key=lambda i: (-int(events[i].level), i))[:BURST_NAMED]
    named = "; ".join(events[i].text for i in worst)
    more = len(events) - len(worst)
    if since is None:
        text = f"{things} {noun} changed at once ({counts})"
    else:
        secs = max(1, round((now - since).total_seconds()))
        text = f"{noun} still changing: {things} changed in the last {secs} s ({counts})"
    text += f" — {named}"
    if more:
        text += f" (+{more} more in this entry's details)"
    level = max((e.level for e in events), default=Level.WARN)
    return Burst(f"{group}:*", "BURST", text, level, events=tuple(events))


@dataclass
class _KeyState:
    changes: deque = field(default_factory=lambda: deque(maxlen=32))   # (when, level, state): real changes
    last_emitted: dict = field(default_factory=dict)                   # normalised state -> when
    flapping_since: datetime | None = None
    last_event: Event | None = None
    state: str | None = None             # the normalised state last seen
    written: Event | None = None         # the last of this key's events written to the timeline
    bad_since: datetime | None = None    # when the current outage (level above OK) began
    outage_told: bool = False            # the current outage was written although damping held it back
    muted: int = 0                       # real changes muted since flapping began
    muted_from: datetime | None = None   # the first and the last muted change
    muted_to: datetime | None = None
    longest: timedelta = timedelta(0)    # the longest outage while muted


def _is_flapping(changes: deque, now: datetime) -> bool:
    recent = [level for when, level, _ in changes if now - when <= FLAP_WINDOW]
    recoveries = sum(1 for level in recent if level == Level.OK)
    return len(recent) >= FLAP_CHANGES and recoveries >= 2 and len(recent) - recoveries >= 2


def _name(key: str) -> str:
    return key.split(":", 1)[-1]


def _says(written: Event | None, event: Event) -> bool:
    """The timeline's last entry for a key already tells ``event``'s state (a crash loop's
    next restart needs no "still" entry; a DOWN after a written UP does)."""
    return (written is not None and written.level == event.level
            and _COUNTER.sub("", written.state) == _COUNTER.sub("", event.state))


def _clock(when: datetime | None) -> str:
    return when.strftime("%H:%M:%S UTC") if when is not None else "?"


class Damper:
    def __init__(self) -> None:
        self._keys: dict[str, _KeyState] = {}
        self._groups: dict[str, _GroupState] = {}

    def feed(self, events: list[Event], now: datetime) -> list[Event]:
        """Events worth writing now, out of the raw transitions just observed."""
        return self._bursts(self._damp(events, now), now)

    def _bursts(self, events: list[Event], now: datetime) -> list[Event]:
        by_group: dict[str, list[Event]] = {}
        for event in events:
            by_group.setdefault(_group(event.key), []).append(event)
        out: list[Event] = []
        for group, evs in by_group.items():
            g = self._groups.setdefault(group, _GroupState())
            at_once, per_minute = BURST_LIMITS.get(group, BURST_LIMITS_DEFAULT)
            while g.written and now - g.written[0] >= REPEAT_WINDOW:
                g.written.popleft()
            if g.burst_at is not None:
                g.pending.extend(evs)          # told by the next roll-up (tick)
            elif len(evs) > at_once or len(g.written) + len(evs) > per_minute:
                out.append(_burst(group, evs, now, None))
                g.burst_at = now
                g.written.append(now)
            else:
                out.extend(evs)
                g.written.extend([now] * len(evs))
        return out

    def _damp(self, events: list[Event], now: datetime) -> list[Event]:
        out: list[Event] = []
        for event in events:
            st = self._keys.setdefault(event.key, _KeyState())
            state = _COUNTER.sub("", event.state)
            real_change = state != st.state
            st.state = state
            st.last_event = event
            ended_told = False
            if event.level > Level.OK:
                if st.bad_since is None:
                    st.bad_since = now
            elif st.bad_since is not None:
                if st.flapping_since is not None:
                    st.longest = max(st.longest, now - st.bad_since)
                ended_told, st.bad_since, st.outage_told = st.outage_told, None, False
            if real_change:
                st.changes.append((now, event.level, state))
            if ended_told:
                # The end of an outage that was written: the timeline says when it ended.
                st.last_emitted[state] = now
                st.written = event
                out.append(event)
                continue
            if st.flapping_since is not None:
                if real_change:
                    st.muted += 1
                    st.muted_from = st.muted_from or now
                    st.muted_to = now
                continue
            if real_change and _is_flapping(st.changes, now):
                st.flapping_since = now
                st.muted, st.muted_from, st.muted_to, st.longest = 0, None, None, timedelta(0)
                recent = [(when, s) for when, _, s in st.changes if now - when <= FLAP_WINDOW]
                span = _format_span((now - recent[0][0]).total_seconds())
                seq = " → ".join(s for _, s in recent)
                out.append(Event(event.key, "FLAPPING",
                                 f"{_name(event.key)} is flapping: {len(recent)} state changes in {span} ({seq}); "
                                 f"further changes are summed up when it settles, outages over "
                                 f"{int(MUTED_OUTAGE_AFTER.total_seconds())} s are still written", Level.WARN))
                continue
            when = st.last_emitted.get(state)
            if when is not None and now - when < REPEAT_WINDOW:
                continue          # tick() writes it after all if it turns into a long outage
            st.last_emitted[state] = now
            st.written = event
            out.append(event)
        return out

    def tick(self, now: datetime) -> list[Event]:
        """Flapping keys that have been stable long enough get one 'settled' entry;
        a burst's changes since its last entry get one roll-up entry a minute."""
        rollups: list[Event] = []
        for group, g in self._groups.items():
            if g.burst_at is None or now - g.burst_at < REPEAT_WINDOW:
                continue
            if g.pending:
                rollups.append(_burst(group, g.pending, now, g.burst_at))
                g.pending = []
                g.burst_at = now
            else:
                g.burst_at = None              # a quiet minute: the burst is over
        settled: list[Event] = []
        for key, st in self._keys.items():
            ev = st.last_event
            if ev is None:
                continue
            if (ev.level > Level.OK and st.bad_since is not None and not st.outage_told
                    and (st.flapping_since is not None or not _says(st.written, ev))
                    and now - st.bad_since >= MUTED_OUTAGE_AFTER):
                # Held back (muted, or a repeat within the minute) and still bad, while the
                # timeline says otherwise: written after all.
                st.outage_told = True
                st.written = ev
                took = _format_span((now - st.bad_since).total_seconds())
                settled.append(Event(key, ev.state, f"{_name(key)} still {ev.state} after {took}: {ev.text}", ev.level))
                continue
            if st.flapping_since is None or not st.changes:
                continue
            if now - st.changes[-1][0] >= SETTLE_AFTER:
                settled.append(self._settle(key, st, ev, now))
        return rollups + (self._bursts(settled, now) if settled else [])

    def _settle(self, key: str, st: _KeyState, ev: Event, now: datetime) -> Event:
        """One entry for the whole muted stretch: what was muted, and where it settled."""
        longest, ongoing = st.longest, ""
        if st.bad_since is not None and now - st.bad_since >= longest:
            longest, ongoing = now - st.bad_since, " (still going)"
        if st.muted:
            what = (f"{st.muted} change{'s' if st.muted != 1 else ''} muted from {_clock(st.muted_from)} "
                    f"to {_clock(st.muted_to)}")
        else:
            what = f"no change muted since {_clock(st.flapping_since)}"
        if longest > timedelta(0):
            what += f", longest outage {_format_span(longest.total_seconds())}{ongoing}"
        st.flapping_since = st.muted_from = st.muted_to = None
        st.muted, st.longest = 0, timedelta(0)
        st.changes.clear()
        st.last_emitted[_COUNTER.sub("", ev.state)] = now
        st.written = ev
        return Event(key, ev.state, f"{_name(key)} settled after flapping ({what}): {ev.text}", ev.level)


def _format_span(seconds: float) -> str:
    from checks.health import format_duration

    return format_duration(seconds)
