"""Deadlines the commander must not miss, computed from absolute times.

Everything here is a pure function of the incident, its timeline and ``now``,
so a restart, a second dashboard and a test with a fixed clock all agree.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from .model import PROGRESS_KINDS, Entry, FollowUp, Incident

SOON = timedelta(minutes=2)


class Urgency(str, enum.Enum):
    OFF = "off"          # no cadence (SEV4) or resolved
    OK = "ok"
    SOON = "soon"        # amber: two minutes or less
    OVERDUE = "overdue"  # red, and the bell


@dataclass(frozen=True)
class UpdateClock:
    """Where the stakeholder-update countdown stands."""
    deadline: datetime | None
    remaining: timedelta | None
    urgency: Urgency

    @property
    def text(self) -> str:
        """mm:ss to go, or +mm:ss overdue (minutes keep counting past 60)."""
        if self.remaining is None:
            return "--:--"
        secs = int(abs(self.remaining.total_seconds()))
        sign = "+" if self.remaining < timedelta(0) else ""
        return f"{sign}{secs // 60:02d}:{secs % 60:02d}"


def update_clock(incident: Incident, now: datetime) -> UpdateClock:
    if incident.resolved or incident.next_update_at is None:
        return UpdateClock(None, None, Urgency.OFF)
    remaining = incident.next_update_at - now
    if remaining < timedelta(0):
        urgency = Urgency.OVERDUE
    elif remaining <= SOON:
        urgency = Urgency.SOON
    else:
        urgency = Urgency.OK
    return UpdateClock(incident.next_update_at, remaining, urgency)


def last_progress_at(incident: Incident, timeline: Iterable[Entry]) -> datetime:
    """When the incident last moved: an action, decision, mitigation or checklist tick."""
    latest = incident.detected_at or incident.started_at
    for entry in timeline:
        if entry.kind in PROGRESS_KINDS and entry.ts > latest:
            latest = entry.ts
    return latest


def escalation_due(incident: Incident, last_progress: datetime, now: datetime) -> timedelta | None:
    """How long the incident has stalled, once past the escalation threshold; else None."""
    if incident.resolved:
        return None
    stalled = now - last_progress
    return stalled if stalled >= timedelta(minutes=incident.escalate_after_minutes) else None


def due_followups(followups: Sequence[FollowUp], now: datetime) -> list[FollowUp]:
    return [f for f in followups if f.done_at is None and f.due_at <= now]
