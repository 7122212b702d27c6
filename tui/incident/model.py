"""The incident's vocabulary: severity, status, phases, entry kinds, and frozen records.

No textual here; the store, the command line and the exports share these types.
All times are timezone-aware UTC, kept to the millisecond.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Mapping, Self


def utcnow() -> datetime:
    """Now in UTC, truncated to milliseconds (what the store keeps). The one clock of the
    store, the detector and every source's snapshots (``checks`` imports it from here)."""
    now = datetime.now(timezone.utc)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_ms(when: datetime) -> int:
    if when.tzinfo is None:
        raise ValueError("naive datetime: warroom stores UTC only")
    return int(when.timestamp() * 1000 + (0.5 if when.timestamp() >= 0 else -0.5))


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


def fmt_duration(delta: timedelta) -> str:
    """HH:MM:SS, growing past 24 h rather than wrapping (incidents can run for days)."""
    total = max(0, int(delta.total_seconds()))
    hours, rest = divmod(total, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


class Severity(enum.IntEnum):
    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    @property
    def label(self) -> str:
        return self.name

    @property
    def meaning(self) -> str:
        return _SEVERITY_MEANING[self]

    @classmethod
    def parse(cls, value: str | int) -> "Severity":
        text = str(value).strip().upper().removeprefix("SEV")
        try:
            return cls(int(text))
        except ValueError:
            raise ValueError(f"severity must be 1-4 or SEV1-SEV4, got {value!r}") from None


_SEVERITY_MEANING = {
    Severity.SEV1: "critical: outage, data loss or security breach",
    Severity.SEV2: "major degradation for many users",
    Severity.SEV3: "minor issue, limited impact",
    Severity.SEV4: "cosmetic, no user impact",
}

# Minutes between stakeholder updates; None means no scheduled updates.
DEFAULT_CADENCE: Mapping[Severity, int | None] = MappingProxyType(
    {Severity.SEV1: 15, Severity.SEV2: 30, Severity.SEV3: 60, Severity.SEV4: None}
)
DEFAULT_ESCALATE_AFTER = timedelta(minutes=30)


class _Named(str, enum.Enum):
    """A string enum whose values are the names people type: ``parse`` takes any case
    and says, in one line, what the choices are."""

    @classmethod
    def parse(cls, value: str) -> Self:
        wanted = value.strip().lower()
        for member in cls:
            if member.value.lower() == wanted:
                return member
        raise ValueError(f"{cls.__name__.lower()} must be one of {', '.join(m.value for m in cls)}, got {value!r}")


class Status(_Named):
    INVESTIGATING = "Investigating"
    IDENTIFIED = "Identified"
    MITIGATING = "Mitigating"
    MONITORING = "Monitoring"
    RESOLVED = "Resolved"


class Phase(_Named):
    TRIAGE = "Triage"
    MITIGATE = "Mitigate"
    INVESTIGATE = "Investigate"
    RESOLVE = "Resolve"
    VERIFY = "Verify"
    POSTMORTEM = "Postmortem"


DEFAULT_CHECKLISTS: Mapping[Phase, tuple[str, ...]] = MappingProxyType(
    {
        Phase.TRIAGE: (
            "Severity assessed",
            "Impact scoped (users, regions, revenue)",
            "Affected services identified",
            "Recent changes reviewed",
            "Stakeholders notified",
            "Roles assigned (commander, scribe, comms)",
        ),
        Phase.MITIGATE: (
            "Rollback considered",
            "Mitigation applied",
            "User impact reduced",
        ),
        Phase.INVESTIGATE: (
            "Logs and metrics checked",
            "Timeline established",
            "Root-cause hypothesis stated",
            "Dependencies checked",
        ),
        Phase.RESOLVE: (
            "Permanent fix identified",
            "Fix tested",
            "Fix deployed with monitoring",
        ),
        Phase.VERIFY: (
            "Error rates back at baseline",
            "Latency normal",
            "All services healthy",
            "No related alerts firing",
        ),
        Phase.POSTMORTEM: (
            "Postmortem document written",
            "Action items have owners and due dates",
        ),
    }
)


class Kind(_Named):
    NOTE = "note"
    ACTION = "action"
    DECISION = "decision"
    FINDING = "finding"
    MITIGATION = "mitigation"
    COMMS = "comms"
    TODO = "todo"
    SYSTEM = "system"


# The vocabulary as the words people type and config files hold, in order: config
# validation, the checklist widget and the command line read these, never a copy.
SEVERITIES: tuple[str, ...] = tuple(s.name for s in Severity)
STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
PHASES: tuple[str, ...] = tuple(p.value for p in Phase)
KINDS: tuple[str, ...] = tuple(k.value for k in Kind)

# Kinds that count as progress for the "no progress for 30 min" escalation.
PROGRESS_KINDS = frozenset({Kind.ACTION, Kind.DECISION, Kind.MITIGATION})

ROLES = ("commander", "deputy", "scribe", "comms")


@dataclass(frozen=True)
class Entry:
    """One revision of a timeline entry.

    ``entry_id`` is stable across edits; ``rev`` counts from 1. ``seq`` is the
    store's global write order, which is how other processes' writes are found.
    """

    seq: int
    entry_id: int
    rev: int
    incident_id: int
    ts: datetime
    kind: Kind
    author: str
    text: str
    source: str
    recorded_at: datetime
    meta: Mapping[str, object] = field(default_factory=dict)

    @property
    def edited(self) -> bool:
        """Changed after it was written. `warroom run` revising its own "running …" entry with
        how the command ended (source "run") is the entry being completed, not an edit."""
        return self.rev > 1 and self.source != "run"


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a phase's checklist."""
    phase: Phase
    index: int
    text: str
    done_at: datetime | None = None
    done_by: str | None = None

    @property
    def done(self) -> bool:
        return self.done_at is not None


@dataclass(frozen=True)
class FollowUp:
    """A todo with a time to be reminded of it."""
    id: int
    incident_id: int
    entry_id: int
    text: str
    due_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class Incident:
    """An incident's current state (the store folds it from the events)."""
    id: int
    title: str
    severity: Severity
    status: Status
    phase: Phase
    started_at: datetime
    detected_at: datetime | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    roles: Mapping[str, str]
    next_update_at: datetime | None
    cadence_minutes: int | None
    escalate_after_minutes: float
    demo: bool = False

    @property
    def ref(self) -> str:
        return f"INC-{self.id}"

    @property
    def resolved(self) -> bool:
        return self.status is Status.RESOLVED

    def elapsed(self, now: datetime) -> timedelta:
        end = self.resolved_at if self.resolved_at is not None else now
        return end - self.started_at
