"""What the commander records for the postmortem while the incident runs (issue 17).

Impact analysis, milestones, contributing factors, the resolution (immediate
mitigation, permanent fix) and which todos are follow-up work after the incident.
Each is an ordinary timeline entry with ``meta["event"] == "review"``: the timeline
stays append-only, both store backends keep them with no schema change, and a later
setting of a field wins over an earlier one (:func:`fold`), so nothing typed is lost.

No textual and no store here: :func:`record` builds what to append, :func:`fold`
reads a timeline back. The CLI (``warroom set``, ``warroom mark``), the dashboard's
form and the markdown export share them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping, Sequence

from .model import Entry, Kind
from .safe_text import one_line

EVENT = "review"
MAX_FIELD = 300        # one line of a postmortem table cell, not an essay

# Milestone name (as typed) -> its label in the postmortem; the order is the incident's.
MILESTONES: Mapping[str, str] = {
    "notified": "Team notified",
    "root-cause": "Root cause identified",
    "fix-deployed": "Fix deployed",
}
# The entry kind whose first entry sets a milestone nobody marked.
_MILESTONE_KIND = {"notified": Kind.COMMS, "root-cause": Kind.FINDING}
PRIORITIES = ("P1", "P2", "P3", "P4")
YES_NO = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


# -- parsing what people type ---------------------------------------------------------

def parse_yes_no(text: str, what: str) -> bool:
    value = YES_NO.get(text.strip().lower())
    if value is None:
        raise ValueError(f"{what}: say yes or no, got {text!r}")
    return value


def parse_priority(text: str) -> str:
    value = text.strip().upper()
    if value.isdigit():
        value = "P" + value
    if value not in PRIORITIES:
        raise ValueError(f"priority must be one of {', '.join(PRIORITIES)}, got {text!r}")
    return value


def parse_due(text: str, earliest: date) -> date:
    """A real calendar date (YYYY-MM-DD), not before the incident started."""
    try:
        due = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"due date must be a date like 2026-12-15, got {text!r}") from None
    if due < earliest:
        raise ValueError(f"due date {due} is before the incident started ({earliest}) — give a date to come")
    return due


def parse_milestone(text: str) -> str:
    name = text.strip().lower().replace("_", "-").replace(" ", "-")
    name = {"rootcause": "root-cause", "fix": "fix-deployed", "deployed": "fix-deployed", "notify": "notified",
            "team-notified": "notified", "root-cause-identified": "root-cause"}.get(name, name)
    if name not in MILESTONES:
        raise ValueError(f"milestone must be one of {', '.join(MILESTONES)}, got {text!r}")
    return name


def clean_field(text: str, what: str) -> str:
    value = " ".join(one_line(text).split())
    if not value:
        raise ValueError(f"{what}: give some text")
    if len(value) > MAX_FIELD:
        raise ValueError(f"{what}: {len(value)} characters, at most {MAX_FIELD} — shorten it")
    return value


# -- what to append ------------------------------------------------------------------

def impact_entry(users: str | None = None, revenue: str | None = None, data_loss: bool | None = None,
                 sla_breach: bool | None = None) -> tuple[Kind, str, dict[str, Any]]:
    """(kind, text, meta) of an impact assessment; only the fields given change."""
    fields: dict[str, Any] = {}
    if users is not None:
        fields["users"] = clean_field(users, "users affected")
    if revenue is not None:
        fields["revenue"] = clean_field(revenue, "revenue impact")
    if data_loss is not None:
        fields["data_loss"] = data_loss
    if sla_breach is not None:
        fields["sla_breach"] = sla_breach
    if not fields:
        raise ValueError("nothing to set — give --users, --revenue, --data-loss yes|no or --sla-breach yes|no")
    said = {"users": "users affected {}", "revenue": "revenue impact {}", "data_loss": "data loss {}",
            "sla_breach": "SLA breach {}"}
    text = "; ".join(said[k].format(_yn(v) if isinstance(v, bool) else v) for k, v in fields.items())
    return Kind.NOTE, f"Impact: {text}", {"event": EVENT, "field": "impact", **fields}


def factor_entry(text: str) -> tuple[Kind, str, dict[str, Any]]:
    factor = clean_field(text, "contributing factor")
    return Kind.NOTE, f"Contributing factor: {factor}", {"event": EVENT, "field": "factor", "text": factor}


def resolution_entry(mitigation: str | None = None, fix: str | None = None) -> tuple[Kind, str, dict[str, Any]]:
    meta: dict[str, Any] = {"event": EVENT, "field": "resolution"}
    parts = []
    if mitigation is not None:
        meta["mitigation"] = clean_field(mitigation, "immediate mitigation")
        parts.append(f"immediate mitigation: {meta['mitigation']}")
    if fix is not None:
        meta["fix"] = clean_field(fix, "permanent fix")
        parts.append(f"permanent fix: {meta['fix']}")
    if not parts:
        raise ValueError("nothing to set — give --mitigation TEXT and/or --fix TEXT")
    return Kind.NOTE, "Resolution: " + "; ".join(parts), meta


def milestone_entry(name: str, at: datetime) -> tuple[Kind, str, dict[str, Any]]:
    """The entry's time is the milestone's time (it sits there in the timeline)."""
    name = parse_milestone(name)
    return (Kind.NOTE, f"Milestone: {MILESTONES[name].lower()} at {at:%H:%M:%S} UTC",
            {"event": EVENT, "field": "milestone", "milestone": name})


def action_item_entry(todo: Entry, *, owner: str | None = None, priority: str | None = None,
                      due: date | None = None, follow_up: bool = True) -> tuple[Kind, str, dict[str, Any]]:
    if todo.kind is not Kind.TODO:
        raise ValueError(f"entry #{todo.entry_id} is a {todo.kind.value}, not a todo — "
                         "log follow-up work with 'warroom log --kind todo TEXT'")
    meta: dict[str, Any] = {"event": EVENT, "field": "action_item", "entry_id": todo.entry_id,
                            "follow_up": follow_up}
    if owner is not None:
        meta["owner"] = clean_field(owner, "owner")
    if priority is not None:
        meta["priority"] = parse_priority(priority)
    if due is not None:
        meta["due"] = due.isoformat()
    what = one_line(todo.text)[:80]
    if not follow_up:
        return Kind.NOTE, f"Not follow-up work: #{todo.entry_id} {what}", meta
    details = ", ".join(f"{k} {meta[k]}" for k in ("owner", "priority", "due") if k in meta)
    return Kind.NOTE, f"Action item: #{todo.entry_id} {what}" + (f" ({details})" if details else ""), meta


# -- reading a timeline back -----------------------------------------------------------

@dataclass(frozen=True)
class Impact:
    users: str | None = None
    revenue: str | None = None
    data_loss: bool | None = None
    sla_breach: bool | None = None


def _yn(value: bool | None) -> str:
    return "TBD" if value is None else ("yes" if value else "no")


def impact_words(impact: Impact) -> str:
    return (f"users affected {impact.users or 'TBD'}; revenue impact {impact.revenue or 'TBD'}; "
            f"data loss {_yn(impact.data_loss)}; SLA breach {_yn(impact.sla_breach)}")


@dataclass(frozen=True)
class Milestone:
    at: datetime
    how: str          # "marked by alex", "first finding entry"


@dataclass(frozen=True)
class ActionMark:
    follow_up: bool
    owner: str | None = None
    priority: str | None = None
    due: str | None = None


@dataclass(frozen=True)
class Review:
    impact: Impact = Impact()
    milestones: Mapping[str, Milestone] = field(default_factory=dict)
    factors: tuple[str, ...] = ()
    mitigation: str | None = None
    fix: str | None = None
    actions: Mapping[int, ActionMark] = field(default_factory=dict)

    def time(self, name: str) -> datetime | None:
        found = self.milestones.get(name)
        return None if found is None else found.at


def _text(meta: Mapping[str, object], key: str) -> str | None:
    value = meta.get(key)
    return value if isinstance(value, str) and value else None


def _flag(meta: Mapping[str, object], key: str, current: bool | None) -> bool | None:
    value = meta.get(key)
    return value if isinstance(value, bool) else current


def fold(entries: Sequence[Entry]) -> Review:
    """The review as the timeline (current revisions, in time order) says it; later wins."""
    impact = Impact()
    marked: dict[str, Milestone] = {}
    factors: list[str] = []
    mitigation = fix = None
    actions: dict[int, ActionMark] = {}
    for e in sorted(entries, key=lambda e: (e.recorded_at, e.seq)):   # in the order they were said
        meta = e.meta
        if meta.get("event") != EVENT:
            continue
        what = meta.get("field")
        if what == "impact":
            impact = Impact(_text(meta, "users") or impact.users, _text(meta, "revenue") or impact.revenue,
                            _flag(meta, "data_loss", impact.data_loss), _flag(meta, "sla_breach", impact.sla_breach))
        elif what == "factor" and _text(meta, "text"):
            factors.append(str(meta["text"]))
        elif what == "resolution":
            mitigation = _text(meta, "mitigation") or mitigation
            fix = _text(meta, "fix") or fix
        elif what == "milestone" and meta.get("milestone") in MILESTONES:
            marked[str(meta["milestone"])] = Milestone(e.ts, f"marked by {one_line(e.author) or 'someone'}")
        elif what == "action_item" and isinstance(meta.get("entry_id"), int):
            entry_id = int(meta["entry_id"])  # type: ignore[call-overload]  # checked just above
            before = actions.get(entry_id, ActionMark(True))
            actions[entry_id] = ActionMark(bool(meta.get("follow_up", True)), _text(meta, "owner") or before.owner,
                                           _text(meta, "priority") or before.priority, _text(meta, "due") or before.due)
    milestones: dict[str, Milestone] = {}
    in_time = sorted(entries, key=lambda e: e.ts)
    for name in MILESTONES:
        if name in marked:
            milestones[name] = marked[name]
            continue
        kind = _MILESTONE_KIND.get(name)
        first = next((e for e in in_time if kind is not None and e.kind is kind), None)
        if first is not None:
            milestones[name] = Milestone(first.ts, f"first {kind.value} entry" if kind else "")
            continue
        ticked = next((e for e in in_time if _ticks(e, name)), None)
        if ticked is not None:
            milestones[name] = Milestone(ticked.ts, "checklist: " + one_line(ticked.text).split(": ", 1)[-1])
    return Review(impact, milestones, tuple(factors), mitigation, fix, actions)


# A checklist tick that says the milestone happened (the default Resolve list's "Fix deployed with
# monitoring"; a configured list's item with these words counts too).
_TICK_WORDS = {"fix-deployed": ("Resolve", "deploy")}


def _ticks(e: Entry, name: str) -> bool:
    phase_word = _TICK_WORDS.get(name)
    meta = e.meta
    return (phase_word is not None and meta.get("event") == "checklist" and meta.get("done") is True
            and meta.get("phase") == phase_word[0] and phase_word[1] in e.text.lower())


# -- related incidents ------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9\-]{3,}")
_COMMON = frozenset({"with", "from", "after", "down", "slow", "errors", "error", "failing", "issue", "incident",
                     "high", "some", "users", "than", "into", "over"})


def title_words(title: str) -> set[str]:
    return {w for w in _WORD.findall(title.lower()) if w not in _COMMON}
