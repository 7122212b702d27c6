"""The damper: de-duplication and flap damping of state-change entries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from checks.base import Event, Level
from tui.detector import Damper

T0 = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)


def down(key="health:search"):
    return Event(key, "DOWN", "search DOWN: HTTP 500", Level.CRIT)


def up(key="health:search"):
    return Event(key, "UP", "search UP again", Level.OK)


def test_passes_single_transitions():
    d = Damper()
    assert d.feed([down()], T0) == [down()]
    assert d.feed([up()], T0 + timedelta(minutes=2)) == [up()]


def test_same_state_at_most_once_a_minute():
    d = Damper()
    assert len(d.feed([down()], T0)) == 1
    assert d.feed([down()], T0 + timedelta(seconds=30)) == []
    assert len(d.feed([down()], T0 + timedelta(seconds=61))) == 1


def test_flapping_service_gets_one_entry_not_fifty():
    d = Damper()
    written = []
    for i in range(50):
        ev = down() if i % 2 == 0 else up()
        written += d.feed([ev], T0 + timedelta(seconds=5 * i))
    flapping = [e for e in written if e.state == "FLAPPING"]
    assert len(flapping) == 1
    assert len(written) <= 4   # the first few transitions, then one flapping entry
    # Stable for 5 minutes: one "settled" entry saying where it ended.
    settled = d.tick(T0 + timedelta(seconds=5 * 49) + timedelta(minutes=5))
    assert len(settled) == 1 and "settled" in settled[0].text
    assert d.tick(T0 + timedelta(minutes=30)) == []


def test_crash_loop_is_rate_limited_not_flapping():
    d = Damper()
    written = []
    for i in range(12):
        events = [Event("pod:payments/api-1", f"restart:{i + 1}", f"restarted (now {i + 1})", Level.WARN),
                  Event("pod:payments/api-1", "CrashLoopBackOff", "CrashLoopBackOff", Level.CRIT)]
        written += d.feed(events, T0 + timedelta(seconds=10 * i))
    assert not [e for e in written if e.state == "FLAPPING"]
    restarts = [e for e in written if e.state.startswith("restart")]
    assert len(restarts) == 2          # 110 s of restarts: one a minute
    assert len([e for e in written if e.state == "CrashLoopBackOff"]) == 2


def test_keys_are_independent():
    d = Damper()
    assert len(d.feed([down("health:a"), down("health:b")], T0)) == 2
