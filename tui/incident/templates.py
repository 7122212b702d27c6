"""Stakeholder status updates: a context drawn from the incident, rendered through a template.

Templates are plain text with ``${placeholder}``s (``string.Template``, safe
substitution: an unknown placeholder is left as written rather than failing in
the middle of an incident). The defaults ship in ``tui/templates/<name>.txt``; a
file of the same name in the configured ``template_dir`` replaces one.

Placeholders: ref, title, severity, severity_meaning, status, phase, affected,
affected_phrase, started, duration, understanding, actions, focus, next_steps,
next_update, next_update_phrase, resolved, summary, cause, resolution,
commander, now.
"""
from __future__ import annotations

import string
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .model import ChecklistItem, Entry, FollowUp, Incident, Kind
from .redact import Redactor

TEMPLATES = ("initial", "progress", "resolved")

UNDER_ASSESSMENT = "under assessment"
MAX_ACTIONS = 5
MAX_FINDINGS = 3
MAX_STEPS = 5
MAX_LINE = 240
# Checklist ticks are bookkeeping for the responders, not news for stakeholders.
_QUIET_EVENTS = frozenset({"checklist"})


class TemplateError(ValueError):
    """A template that cannot be found or read, phrased as one line."""


@dataclass(frozen=True)
class UpdateContext:
    """Everything a template can say, already formatted as text."""

    ref: str
    title: str
    severity: str
    severity_meaning: str
    status: str
    phase: str
    affected: str
    affected_phrase: str
    started: str
    duration: str
    understanding: str
    actions: str
    focus: str
    next_steps: str
    next_update: str
    next_update_phrase: str
    resolved: str
    summary: str
    cause: str
    resolution: str
    commander: str
    now: str

    def mapping(self) -> dict[str, str]:
        return asdict(self)


# -- formatting helpers ----------------------------------------------------------

def _utc(when: datetime) -> datetime:
    return when.astimezone(timezone.utc)


def fmt_clock(when: datetime, now: datetime) -> str:
    """``09:12 UTC``, with the date in front when it is not today (UTC)."""
    when, now = _utc(when), _utc(now)
    if when.date() == now.date():
        return f"{when:%H:%M} UTC"
    return f"{when:%Y-%m-%d %H:%M} UTC"


def human_duration(delta: timedelta) -> str:
    """``42 min``, ``1 h 05 min``, ``2 d 3 h``: for readers, not for arithmetic."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins:02d} min"
    return f"{mins} min"


def one_line(text: str, limit: int = MAX_LINE) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _join_names(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _bullets(lines: Iterable[str], empty: str) -> str:
    out = [f"- {line}" for line in lines]
    return "\n".join(out) if out else empty


# -- context ---------------------------------------------------------------------

def _event(entry: Entry) -> str:
    value = entry.meta.get("event") if isinstance(entry.meta, Mapping) else None
    return value if isinstance(value, str) else ""


def open_todos(timeline: Sequence[Entry], followups: Sequence[FollowUp] = ()) -> list[Entry]:
    """Todo entries not yet followed up (a todo without a timer stays open)."""
    done = {f.entry_id for f in followups if f.done_at is not None}
    return [e for e in timeline if e.kind is Kind.TODO and e.entry_id not in done]


def build_context(
    incident: Incident,
    timeline: Sequence[Entry],
    *,
    affected: Sequence[str] = (),
    now: datetime,
    checklist: Sequence[ChecklistItem] = (),
    followups: Sequence[FollowUp] = (),
) -> UpdateContext:
    """The update's facts: ``timeline`` is the current revisions (``Store.timeline``).

    ``affected`` comes from the health pane (services not UP); ``checklist`` and
    ``followups`` (all of them, done ones included) sharpen "current focus" and
    "next steps" when given.
    """
    entries = sorted(timeline, key=lambda e: (e.ts, e.entry_id))
    findings = [e for e in entries if e.kind is Kind.FINDING]
    mitigations = [e for e in entries if e.kind is Kind.MITIGATION]
    actions = [
        e for e in entries
        if e.kind in (Kind.ACTION, Kind.MITIGATION) and _event(e) not in _QUIET_EVENTS
    ]

    names = [n.strip() for n in affected if n and n.strip()]
    names = list(dict.fromkeys(names))
    affected_text = ", ".join(names) if names else UNDER_ASSESSMENT
    affected_phrase = _join_names(names) if names else f"some of our services (scope {UNDER_ASSESSMENT})"

    understanding = _bullets(
        (one_line(e.text) for e in findings[-MAX_FINDINGS:]), "The cause is still under investigation."
    )
    actions_text = _bullets(
        (f"{fmt_clock(e.ts, now)}  {one_line(e.text)}" for e in actions[-MAX_ACTIONS:]), "None recorded yet."
    )
    open_items = [it.text for it in checklist if it.phase == incident.phase and not it.done]
    focus = f"{incident.phase.value} phase"
    if open_items:
        focus += "\n" + _bullets(open_items, "")
    steps = open_todos(entries, followups)
    next_steps = _bullets((one_line(e.text) for e in steps[:MAX_STEPS]), "Continue investigation and mitigation.")

    if incident.cadence_minutes and not incident.resolved:
        # Sending this update resets the countdown, so the promise is "cadence from now".
        due = now + timedelta(minutes=incident.cadence_minutes)
        next_update = fmt_clock(due, now)
        next_update_phrase = f"by {next_update}"
    else:
        next_update = "as needed"
        next_update_phrase = "as soon as we know more"

    end = incident.resolved_at or now
    cause = one_line(findings[-1].text) if findings else "still under investigation; the postmortem will cover it"
    resolution = (
        "; ".join(one_line(e.text) for e in mitigations[-3:])
        if mitigations else "service restored; details will follow in the postmortem"
    )
    return UpdateContext(
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity.label,
        severity_meaning=incident.severity.meaning,
        status=incident.status.value,
        phase=incident.phase.value,
        affected=affected_text,
        affected_phrase=affected_phrase,
        started=fmt_clock(incident.started_at, now),
        duration=human_duration(end - incident.started_at),
        understanding=understanding,
        actions=actions_text,
        focus=focus,
        next_steps=next_steps,
        next_update=next_update,
        next_update_phrase=next_update_phrase,
        resolved=fmt_clock(end, now),
        summary=f"Cause: {cause}\nResolution: {resolution}",
        cause=cause,
        resolution=resolution,
        commander=str(incident.roles.get("commander", "") or "TBD"),
        now=fmt_clock(now, now),
    )


# -- templates -------------------------------------------------------------------

def load_template(name: str, template_dir: str | Path | None = None) -> str:
    if name not in TEMPLATES:
        raise TemplateError(f"unknown template {name!r}; templates are {', '.join(TEMPLATES)}")
    if template_dir is not None:
        override = Path(template_dir).expanduser() / f"{name}.txt"
        if override.exists():
            try:
                return override.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError(
                    f"template {override}: cannot be read ({exc}) — fix the file or remove it to use the default"
                ) from None
    try:
        return resources.files("tui").joinpath("templates", f"{name}.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"built-in template {name!r} is missing ({exc}) — reinstall warroom") from None


def render_update(
    template_name: str,
    ctx: UpdateContext,
    template_dir: str | Path | None = None,
    *,
    redactor: Redactor | None = None,
) -> str:
    """The draft text; always redacted (patterns only when no redactor is given)."""
    text = string.Template(load_template(template_name, template_dir)).safe_substitute(ctx.mapping())
    text = text.rstrip() + "\n"
    return (redactor or Redactor()).text(text)


def suggest_template(incident: Incident, timeline: Iterable[Entry]) -> str:
    if incident.resolved:
        return "resolved"
    if any(e.kind is Kind.COMMS for e in timeline):
        return "progress"
    return "initial"
