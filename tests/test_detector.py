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


def restart(i, n=1, reason="OOMKilled", level=Level.WARN):
    return Event(f"pod:team/p-{i}", f"restart:{n}", f"pod team/p-{i} restarted (+1, now {n}): {reason}", level)


def test_a_burst_is_one_entry_that_keeps_every_change():
    d = Damper()
    events = [restart(i) for i in range(100)] + [Event("pod:team/p-7", "CrashLoopBackOff",
                                                       "pod team/p-7 CrashLoopBackOff", Level.CRIT)]
    out = d.feed(events, T0)
    assert len(out) == 1
    burst = out[0]
    assert burst.level == Level.CRIT and burst.state == "BURST"
    assert list(burst.events) == events                       # nothing lost
    assert burst.text.startswith("100 pods changed at once (restart ×100, CrashLoopBackOff ×1)")
    assert "pod team/p-7 CrashLoopBackOff" in burst.text       # the worst is named
    assert "+98 more" in burst.text


def test_a_storm_writes_one_roll_up_a_minute_then_ends():
    d = Damper()
    written = []
    for s in range(150):                                      # 2.5 min of 10 new restarts a second
        now = T0 + timedelta(seconds=s)
        written += d.feed([restart(s * 10 + i) for i in range(10)], now)
        written += d.tick(now)
    assert len(written) == 3                                  # the burst, then one roll-up a minute
    assert [len(e.events) for e in written] == [10, 600, 600]
    assert written[1].text.startswith("pods still changing: 600 changed in the last 60 s")
    # Nothing for a minute: the remainder is told, then the burst is over ...
    rest = d.tick(T0 + timedelta(seconds=180))
    assert len(rest) == 1 and len(rest[0].events) == 290
    assert d.tick(T0 + timedelta(seconds=241)) == []
    # ... and the next single change is an entry of its own again.
    assert d.feed([restart(99999)], T0 + timedelta(seconds=300)) == [restart(99999)]


def test_a_trickle_of_changes_becomes_a_burst_past_ten_a_minute():
    d = Damper()
    written = []
    for s in range(12):
        written += d.feed([restart(s)], T0 + timedelta(seconds=s))
    assert [e.state for e in written] == ["restart:1"] * 10 + ["BURST"]


def test_other_kinds_are_not_held_by_a_pod_burst():
    d = Damper()
    d.feed([restart(i) for i in range(20)], T0)
    assert d.feed([down()], T0 + timedelta(seconds=1)) == [down()]


def test_a_few_services_down_at_once_are_each_their_own_entry():
    d = Damper()
    events = [down(f"health:svc-{i}") for i in range(8)]
    assert d.feed(events, T0) == events
    many = [down(f"health:api-{i}") for i in range(300)]        # a partition: one entry
    assert [e.state for e in d.feed(many, T0 + timedelta(seconds=1))] == ["BURST"]


# --- damping summarises, it never hides (issue 17) ---------------------------------------

def flap(d: Damper, start: datetime, times: int = 4, step: float = 5) -> tuple[list[Event], datetime]:
    """DOWN, UP, DOWN, UP ... ``step`` seconds apart: what it wrote and when it ended."""
    written: list[Event] = []
    at = start
    for i in range(times):
        at = start + timedelta(seconds=step * i)
        written += d.feed([down() if i % 2 == 0 else up()], at)
    return written, at


def test_a_long_outage_while_muted_is_still_written_and_so_is_its_end():
    d = Damper()
    written, at = flap(d, T0)
    assert [e.state for e in written][-1] == "FLAPPING"
    # A third outage, of 30 s, while muted: written once it has lasted MUTED_OUTAGE_AFTER.
    out_at = at + timedelta(seconds=10)
    assert d.feed([down()], out_at) == []
    assert d.tick(out_at + timedelta(seconds=10)) == []
    late = d.tick(out_at + timedelta(seconds=21))
    assert len(late) == 1 and late[0].state == "DOWN"
    assert late[0].text.startswith("search still DOWN after 21s: search DOWN: HTTP 500")
    assert d.tick(out_at + timedelta(seconds=25)) == []          # once per outage
    # Its end is written too, although the key is still muted.
    assert d.feed([up()], out_at + timedelta(seconds=30)) == [up()]


def test_the_end_of_a_mute_sums_up_what_was_muted():
    d = Damper()
    _, at = flap(d, T0)                                   # flapping from T0 + 15 s
    # Muted: a 10 s outage and a 15 s one (each under MUTED_OUTAGE_AFTER).
    steps = [(20, down()), (30, up()), (40, down()), (55, up())]
    for offset, ev in steps:
        assert d.feed([ev], T0 + timedelta(seconds=offset)) == []
        assert d.tick(T0 + timedelta(seconds=offset + 1)) == []
    settled = d.tick(T0 + timedelta(seconds=55) + timedelta(minutes=5))
    assert len(settled) == 1
    text = settled[0].text
    assert "4 changes muted from 14:00:20 UTC to 14:00:55 UTC" in text
    assert "longest outage 15s" in text and text.endswith("search UP again")
    assert settled[0].state == "UP"


def test_an_outage_still_going_when_the_mute_ends_is_the_longest_and_says_so():
    d = Damper()
    flap(d, T0)
    d.feed([down()], T0 + timedelta(seconds=20))
    told = d.tick(T0 + timedelta(seconds=45))
    assert [e.state for e in told] == ["DOWN"]
    settled = d.tick(T0 + timedelta(seconds=20) + timedelta(minutes=5))
    assert len(settled) == 1 and "longest outage 5m00s (still going)" in settled[0].text


def test_flapping_counts_only_real_changes_and_lists_them():
    d = Damper()
    # The same state reported again is not a change: no flapping out of DOWN, DOWN, UP, UP, DOWN.
    for i, ev in enumerate([down(), down(), up(), up(), down()]):
        out = d.feed([ev], T0 + timedelta(seconds=5 * i))
        assert all(e.state != "FLAPPING" for e in out)
    d = Damper()
    written, _ = flap(d, T0)
    # Two of the four changes were repeats within the minute (not written on their own), and
    # the flapping entry's count is the changes it lists.
    assert [e.state for e in written] == ["DOWN", "UP", "FLAPPING"]
    assert "4 state changes in 15s (DOWN → UP → DOWN → UP)" in written[-1].text


def test_a_repeat_held_back_that_becomes_an_outage_is_written():
    d = Damper()
    assert d.feed([down()], T0) == [down()]
    assert d.feed([up()], T0 + timedelta(seconds=10)) == [up()]
    # DOWN again 20 s later: a repeat within the minute, held back ...
    assert d.feed([down()], T0 + timedelta(seconds=20)) == []
    # ... but the timeline would say "UP" for good: once it lasts, it is written.
    late = d.tick(T0 + timedelta(seconds=41))
    assert [e.state for e in late] == ["DOWN"] and "still DOWN after 21s" in late[0].text
    assert d.feed([up()], T0 + timedelta(seconds=50)) == [up()]


def test_a_crash_loop_gets_no_still_entries():
    d = Damper()
    written = []
    for i in range(12):
        at = T0 + timedelta(seconds=10 * i)
        written += d.feed([Event("pod:p/api-1", f"restart:{i + 1}", f"restarted (now {i + 1})", Level.WARN)], at)
        written += d.tick(at + timedelta(seconds=5))
    assert not [e for e in written if "still" in e.text]
    assert len(written) == 2          # 110 s of restarts: one a minute
