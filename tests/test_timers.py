"""Deadlines as pure functions of the incident, its timeline and a fixed ``now``."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tui.incident.model import Entry, FollowUp, Incident, Kind, Phase, Severity, Status
from tui.incident.timers import (
    SOON,
    UpdateClock,
    Urgency,
    due_followups,
    escalation_due,
    last_progress_at,
    update_clock,
)

T0 = datetime(2026, 11, 21, 14, 0, 0, tzinfo=timezone.utc)


def incident(**changes) -> Incident:
    base = Incident(
        id=1, title="Checkout failing", severity=Severity.SEV2, status=Status.INVESTIGATING, phase=Phase.TRIAGE,
        started_at=T0, detected_at=T0, mitigated_at=None, resolved_at=None, roles={},
        next_update_at=T0 + timedelta(minutes=30), cadence_minutes=30, escalate_after_minutes=30,
    )
    return replace(base, **changes)


def entry(minute: float, kind: Kind, seq: int = 1) -> Entry:
    when = T0 + timedelta(minutes=minute)
    return Entry(seq, seq, 1, 1, when, kind, "bob", f"{kind.value} at {minute}", "test", when)


# -- the stakeholder update clock --------------------------------------------------


@pytest.mark.parametrize(
    "left, urgency, text",
    [
        (timedelta(minutes=30), Urgency.OK, "30:00"),
        (timedelta(minutes=2, seconds=1), Urgency.OK, "02:01"),
        (timedelta(minutes=2), Urgency.SOON, "02:00"),          # two minutes or less is amber
        (timedelta(seconds=59), Urgency.SOON, "00:59"),
        (timedelta(0), Urgency.SOON, "00:00"),                  # due now, not yet overdue
        (timedelta(seconds=-1), Urgency.OVERDUE, "+00:01"),
        (-timedelta(minutes=7, seconds=5), Urgency.OVERDUE, "+07:05"),
        (-timedelta(minutes=75, seconds=30), Urgency.OVERDUE, "+75:30"),  # minutes keep counting past 60
        (timedelta(minutes=90), Urgency.OK, "90:00"),
    ],
)
def test_update_clock(left, urgency, text):
    now = T0 + timedelta(minutes=10)
    inc = incident(next_update_at=now + left)
    clock = update_clock(inc, now)
    assert clock == UpdateClock(now + left, left, urgency)
    assert clock.text == text


def test_soon_is_two_minutes():
    assert SOON == timedelta(minutes=2)


def test_sub_second_remainders_show_whole_seconds():
    inc = incident(next_update_at=T0 + timedelta(seconds=61, milliseconds=900))
    assert update_clock(inc, T0).text == "01:01"
    assert update_clock(inc, T0 + timedelta(seconds=62)).text == "+00:00"
    assert update_clock(inc, T0 + timedelta(seconds=62)).urgency is Urgency.OVERDUE


@pytest.mark.parametrize(
    "inc",
    [
        incident(severity=Severity.SEV4, cadence_minutes=None, next_update_at=None),
        incident(status=Status.RESOLVED, resolved_at=T0, next_update_at=None),
        incident(status=Status.RESOLVED, resolved_at=T0),  # even with a stale deadline left behind
    ],
    ids=["sev4", "resolved", "resolved-stale-deadline"],
)
def test_update_clock_off(inc):
    clock = update_clock(inc, T0 + timedelta(hours=3))
    assert clock == UpdateClock(None, None, Urgency.OFF)
    assert clock.text == "--:--"


# -- escalation -------------------------------------------------------------------------


def test_no_escalation_before_the_threshold():
    inc = incident()
    progress = last_progress_at(inc, [])
    assert progress == T0  # detection counts as the start
    assert escalation_due(inc, progress, T0 + timedelta(minutes=29, seconds=59)) is None
    assert escalation_due(inc, progress, T0 + timedelta(minutes=30)) == timedelta(minutes=30)
    assert escalation_due(inc, progress, T0 + timedelta(minutes=42)) == timedelta(minutes=42)


def test_only_progress_kinds_reset_the_stall():
    inc = incident()
    chatter = [entry(10, Kind.NOTE, 1), entry(20, Kind.FINDING, 2), entry(25, Kind.COMMS, 3),
               entry(28, Kind.TODO, 4), entry(29, Kind.SYSTEM, 5)]
    assert last_progress_at(inc, chatter) == T0
    assert escalation_due(inc, last_progress_at(inc, chatter), T0 + timedelta(minutes=31)) == timedelta(minutes=31)

    for n, kind in enumerate((Kind.ACTION, Kind.DECISION, Kind.MITIGATION), start=10):
        timeline = [*chatter, entry(20, kind, n)]
        progress = last_progress_at(inc, timeline)
        assert progress == T0 + timedelta(minutes=20), kind
        assert escalation_due(inc, progress, T0 + timedelta(minutes=49)) is None
        assert escalation_due(inc, progress, T0 + timedelta(minutes=50)) == timedelta(minutes=30)


def test_latest_progress_wins_in_any_order():
    inc = incident()
    timeline = [entry(40, Kind.ACTION, 2), entry(15, Kind.DECISION, 1), entry(5, Kind.MITIGATION, 3)]
    assert last_progress_at(inc, timeline) == T0 + timedelta(minutes=40)


def test_progress_before_detection_does_not_count():
    inc = incident(started_at=T0 - timedelta(hours=1), detected_at=T0)
    assert last_progress_at(inc, [entry(-30, Kind.ACTION)]) == T0
    assert last_progress_at(incident(detected_at=None), []) == T0  # falls back to the start


def test_configured_escalation_threshold_and_resolution():
    inc = incident(escalate_after_minutes=45)
    assert escalation_due(inc, T0, T0 + timedelta(minutes=44)) is None
    assert escalation_due(inc, T0, T0 + timedelta(minutes=45)) == timedelta(minutes=45)
    resolved = incident(status=Status.RESOLVED, resolved_at=T0)
    assert escalation_due(resolved, T0, T0 + timedelta(hours=5)) is None


# -- follow-ups --------------------------------------------------------------------------


def test_due_followups():
    followups = [
        FollowUp(1, 1, 10, "due exactly now", T0),
        FollowUp(2, 1, 11, "overdue", T0 - timedelta(minutes=5)),
        FollowUp(3, 1, 12, "not yet", T0 + timedelta(seconds=1)),
        FollowUp(4, 1, 13, "done already", T0 - timedelta(minutes=5), done_at=T0 - timedelta(minutes=1)),
    ]
    assert [f.id for f in due_followups(followups, T0)] == [1, 2]
    assert [f.id for f in due_followups(followups, T0 + timedelta(minutes=1))] == [1, 2, 3]
    assert due_followups([], T0) == []
