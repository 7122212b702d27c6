"""tui.pacing.Beat: polls are moved onto the clock tick's grid, never much early, never
much late, and a poll that is off the grid comes back to it within a few intervals."""
from __future__ import annotations

import pytest

from tui.messages import SnapshotReady
from tui.pacing import ARRIVE_BEFORE_S, EARLY_S, MAX_LEAD_S, MAX_SHIFT, PERIOD_S, Beat
from tui.scheduler import LiveSource, Scheduler


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _beat(phase: float = 0.0) -> tuple[Beat, FakeClock]:
    clock = FakeClock(1000.0 + phase)
    beat = Beat(clock)
    beat.tick()                    # the grid: 1000 + phase + whole seconds
    return beat, clock


def _off_grid(beat: Beat, t: float) -> float:
    off = (t - beat.last_tick) % PERIOD_S
    return min(off, PERIOD_S - off)


def test_no_tick_yet_or_sub_second_delays_are_left_alone():
    assert Beat(FakeClock()).align(1.0, True) == 1.0
    beat, _ = _beat()
    assert beat.align(0.5, True) == 0.5
    assert beat.align(0.2, False) == 0.2


def test_a_poll_just_after_the_tick_lands_on_the_next_tick():
    beat, clock = _beat(0.3)
    clock.t += 0.004               # the host poll delivered 4 ms after the tick
    delay = beat.align(1.0, True)
    assert delay == pytest.approx(0.996)
    assert _off_grid(beat, clock.t + delay) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("early_ok", [True, False])
@pytest.mark.parametrize("phase", [0.1, 0.36, 0.5, 0.64, 0.93])
@pytest.mark.parametrize("interval", [1.0, 2.0, 5.0, 30.0])
def test_polls_converge_on_the_grid_and_respect_their_bounds(early_ok, phase, interval):
    beat, clock = _beat()
    clock.t += phase               # delivered at some phase of the second
    for _ in range(6):
        delay = beat.align(interval, early_ok)
        # Never more than MAX_SHIFT of the interval away from what was asked; never
        # early beyond EARLY_S for a source with due times.
        assert interval * (1 - MAX_SHIFT) - 1e-9 <= delay <= interval * (1 + MAX_SHIFT) + 1e-9
        if not early_ok:
            assert delay >= interval - EARLY_S - 1e-9
        clock.t += delay + 0.003   # the poll runs and delivers 3 ms later
    assert _off_grid(beat, clock.t - 0.003) <= EARLY_S


def test_a_slow_poll_keeps_its_pace_off_the_grid():
    # A 1 s source whose polls take 0.6 s: aligning would double its interval; it may move
    # at most a quarter of the interval per poll instead.
    beat, clock = _beat()
    clock.t += 0.6
    delay = beat.align(1.0, False)
    assert delay == pytest.approx(1.0 + MAX_SHIFT)


class _Node:
    def __init__(self) -> None:
        self.timers: list[tuple[float, str]] = []

    def set_timer(self, delay, callback, name=None) -> None:
        self.timers.append((delay, name))


def test_scheduler_arms_through_the_beat_and_tells_due_times_from_paces():
    asked: list[tuple[float, bool, float]] = []

    def align(delay: float, early_ok: bool, lead: float) -> float:
        asked.append((delay, early_ok, lead))
        return delay + 0.25

    node = _Node()
    host = LiveSource("host", poll=lambda: None, interval=1.0, changes=lambda a, b: [], error_snapshot=str)
    health = LiveSource("health", poll=lambda: None, interval=lambda: 4.0, changes=lambda a, b: [],
                        error_snapshot=str)
    scheduler = Scheduler(node, [host, health], align=align)
    scheduler._arm("host", 1.0)
    scheduler._arm("health", 4.0)
    assert asked == [(1.0, True, 0.0), (4.0, False, 0.0)]
    assert node.timers == [(1.25, "poll-host"), (4.25, "poll-health")]
    # What a poll took is passed on as its lead.
    scheduler.delivered(SnapshotReady("health", "snapshot", 0.3))
    assert asked[-1] == (4.0, False, 0.3)


@pytest.mark.parametrize("phase", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("took", [0.05, 0.25, 0.45])
def test_a_poll_that_takes_a_while_is_moved_to_end_just_before_a_tick(phase, took):
    # A 2 s health round that waits ~took for its slowest service: started on the grid, it
    # landed `took` after the tick and cost a frame of its own. Moved (never early: due times),
    # it ends ARRIVE_BEFORE_S before a tick, and the tick's waiting frame draws both.
    beat, clock = _beat()
    clock.t += phase
    for _ in range(8):
        due = 2.0 - took               # its services were checked when the round began
        delay = beat.align(due, False, took)
        assert due - EARLY_S - 1e-9 <= delay <= due * (1 + MAX_SHIFT) + 1e-9
        clock.t += delay + took
    off = (clock.t - beat.last_tick) % PERIOD_S
    assert PERIOD_S - off == pytest.approx(ARRIVE_BEFORE_S, abs=EARLY_S)


def test_a_poll_longer_than_the_lead_limit_starts_on_the_grid():
    beat, clock = _beat()
    clock.t += 0.3
    assert beat.align(2.0, False, MAX_LEAD_S + 0.5) == beat.align(2.0, False)
