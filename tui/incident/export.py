"""Exports: a blameless postmortem draft (markdown), the full record (JSON), the timeline (CSV).

Each exporter is a pure function of the incident, every entry revision, the
checklist, the follow-ups and ``now``, so the same incident always exports the
same bytes (golden-file tested). Every string passes through the
:class:`~tui.incident.redact.Redactor` before it is written, and through the
sanitising edge (:mod:`tui.incident.safe_text`): the markdown as a whole, every CSV
cell, and the JSON by JSON's own escapes (exact: it reads back byte for byte).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .model import (
    ChecklistItem,
    Entry,
    FollowUp,
    Incident,
    Kind,
    Phase,
    Severity,
    Status,
    fmt_duration,
    utcnow,
)
from .redact import Redactor
from .safe_text import csv_cell, json_escaped, visible

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

FORMATS = ("md", "json", "csv")
JSON_FORMAT = "warroom.incident"
JSON_VERSION = 1
CSV_COLUMNS = ("time_utc", "kind", "author", "text", "source", "entry_id", "rev")
NOT_YET = "—"


# -- time --------------------------------------------------------------------------

def iso_ms(when: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``: ``2024-05-01T09:00:00.000Z``."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"time without a timezone: {text!r}")
    return when.astimezone(timezone.utc)


def _opt_iso(when: datetime | None) -> str | None:
    return None if when is None else iso_ms(when)


def _opt_parse(text: str | None) -> datetime | None:
    return None if text is None else parse_iso(text)


def _day_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# -- folding revisions ---------------------------------------------------------------

def current_revisions(revisions: Sequence[Entry]) -> list[Entry]:
    """The latest revision of each entry, sorted by (time, entry id) like ``Store.timeline``."""
    from .store import current_revisions as fold

    return fold(revisions)


def _history(revisions: Sequence[Entry]) -> dict[int, list[Entry]]:
    by_entry: dict[int, list[Entry]] = {}
    for entry in sorted(revisions, key=lambda e: (e.entry_id, e.rev)):
        by_entry.setdefault(entry.entry_id, []).append(entry)
    return by_entry


# -- what the timeline says ------------------------------------------------------------

_SERVICE_STATE = re.compile(r"^\s*(?P<name>[\w.\-/]+) (?P<state>UP|DOWN|DEGRADED)\b")
_STATE_RANK = {"DEGRADED": 1, "DOWN": 2}
_OWNER = re.compile(r"(?<![\w@])@(?P<name>[A-Za-z0-9][\w.\-]*[\w])")
_DUE = re.compile(r"(?i)\bdue:?\s+(?:on\s+|by\s+)?(?P<date>\d{4}-\d{2}-\d{2})\b")


def _health_states(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    """(service, state) for each health ``system`` entry, in timeline order.

    The detector's health entries read ``"payments DOWN: HTTP 503 (was UP)"`` or
    ``"payments UP again after 3m12s DOWN"``; entries whose ``meta`` carries
    ``key="health:<name>"`` and ``state`` are read from the meta instead.
    """
    out: list[tuple[str, str]] = []
    for entry in entries:
        if entry.kind is not Kind.SYSTEM:
            continue
        key, state = entry.meta.get("key"), entry.meta.get("state")
        if isinstance(key, str) and key.startswith("health:") and isinstance(state, str):
            out.append((key.split(":", 1)[1], state.upper()))
            continue
        match = _SERVICE_STATE.match(entry.text)
        if match is not None:
            out.append((match["name"], match["state"]))
    return out


def impacted_services(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    """Services the timeline reports DOWN or DEGRADED at any point: worst state each, first seen first."""
    worst: dict[str, str] = {}
    for name, state in _health_states(entries):
        if _STATE_RANK.get(state, 0) > _STATE_RANK.get(worst.get(name, ""), 0):
            worst[name] = state
    return list(worst.items())


def currently_impacted(entries: Sequence[Entry]) -> list[str]:
    """Services whose latest health entry is DOWN or DEGRADED (``affected`` when no health pane is at hand)."""
    latest: dict[str, str] = {}
    for name, state in _health_states(entries):
        latest[name] = state
    return [name for name, state in latest.items() if state in _STATE_RANK]


def action_owner(text: str) -> str | None:
    match = _OWNER.search(text)
    return f"@{match['name']}" if match else None


def action_due(text: str) -> str | None:
    match = _DUE.search(text)
    return match["date"] if match else None


# -- markdown --------------------------------------------------------------------------

# Everything CommonMark could read as markup, plus the table separator.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#&!])")


def md_escape(text: str) -> str:
    """Entry text rendered literally: markup characters escaped, line breaks as ``<br>`` (safe in tables)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "<br>")


def _delta(later: datetime | None, start: datetime) -> str:
    return NOT_YET if later is None else fmt_duration(later - start)


_PROMPTS = (
    ("What went well", "Which alerts, tools, runbooks or decisions helped? What should we keep doing?"),
    ("What went wrong", "Where did detection, diagnosis, mitigation or communication slow us down? "
                        "Describe systems and processes, not people."),
    ("Where we got lucky", "What could have made this much worse, and only didn't by chance?"),
    ("Lessons learned", "What do we know about our systems now that we didn't before? "
                        "Which action items follow from it?"),
)


def export_markdown(
    incident: Incident,
    revisions: Sequence[Entry],
    checklist: Sequence[ChecklistItem],
    followups: Sequence[FollowUp],
    *,
    redactor: Redactor,
    now: datetime,
    related: Sequence[tuple[Incident, str]] = (),
) -> str:
    """A blameless postmortem draft to start the review from (not a finished document).

    ``related``: other incidents of the store and what they share (:func:`export` finds them)."""
    from . import postmortem_sections as pm
    from .review import fold

    red = redactor.text

    def lit(text: str) -> str:
        # Redact before escaping: escaping would split a secret and hide it from the redactor.
        return md_escape(red(text))

    entries = current_revisions(revisions)
    review = fold(entries)
    started = incident.started_at
    out: list[str] = []
    add = out.append

    add(f"# Postmortem (draft): {incident.ref} — {lit(incident.title)}")
    add("")
    add("> **Blameless review.** We look at systems, signals and decisions, not at who to blame: "
        "everyone acted in good faith on what they knew at the time.")
    add("")

    # Summary
    impact = impacted_services(entries)
    impact_text = ", ".join(f"{lit(name)} ({state.lower()})" for name, state in impact) or "TBD"
    roles = ", ".join(f"{role} {lit(str(person))}" for role, person in sorted(incident.roles.items()) if person)
    duration = fmt_duration(incident.elapsed(now)) + ("" if incident.resolved else " (ongoing)")
    add("## Summary")
    add("")
    add(f"- **Incident:** {incident.ref}")
    add(f"- **Date:** {started.astimezone(timezone.utc):%Y-%m-%d} (UTC)")
    add(f"- **Severity:** {incident.severity.label} ({incident.severity.meaning})")
    add(f"- **Status:** {incident.status.value}")
    add(f"- **Duration:** {duration}")
    add(f"- **Impact:** {impact_text}")
    add(f"- **Roles:** {roles or 'TBD'}")
    add("")

    out.extend(pm.impact_section(review, impact_text, lit))
    out.extend(pm.key_times_section(incident, review, lit))

    # Timeline
    days = {e.ts.astimezone(timezone.utc).date() for e in entries} | {started.astimezone(timezone.utc).date()}
    def stamp(e: Entry) -> str:
        return _day_time(e.ts) if len(days) > 1 else f"{e.ts.astimezone(timezone.utc):%H:%M:%S}"
    add("## Timeline (UTC)")
    add("")
    add("| Time | Kind | Author | Entry |")
    add("|---|---|---|---|")
    for e in entries:
        edited = " (edited)" if e.edited else ""
        add(f"| {stamp(e)} | {e.kind.value} | {lit(e.author)} | {lit(e.text)}{edited} |")
    if not entries:
        add(f"| {NOT_YET} | | | No entries recorded. |")
    add("")

    def listed(kind: Kind, empty: str) -> None:
        chosen = [e for e in entries if e.kind is kind]
        for e in chosen:
            add(f"- {stamp(e)} — {lit(e.text)}")
        if not chosen:
            add(empty)

    add("## Root cause (draft)")
    add("")
    add("_Drafted from the findings recorded during the incident. Confirm them, then rewrite as a "
        "narrative of contributing factors; there is rarely a single root cause._")
    add("")
    listed(Kind.FINDING, "- TBD: no findings were recorded.")
    add("")
    out.extend(pm.factors_section(review, lit))
    mitigations = [f"- {stamp(e)} — {lit(e.text)}" for e in entries if e.kind is Kind.MITIGATION]
    out.extend(pm.resolution_section(review, mitigations, lit))

    from .signals_report import signals_section  # alerts and metrics, when the timeline has any
    out.extend(signals_section(entries, stamp, lit))

    todos = [e for e in entries if e.kind is Kind.TODO]
    out.extend(pm.action_items_section(review, todos, followups, red, md_escape, action_owner, action_due))

    # Checklist at export
    if checklist:
        add("## Response checklist at export")
        add("")
        for phase in Phase:
            items = [it for it in checklist if it.phase is phase]
            if not items:
                continue
            done = sum(1 for it in items if it.done)
            open_items = "; ".join(lit(it.text) for it in items if not it.done)
            add(f"- {phase.value}: {done}/{len(items)} done" + (f" — open: {open_items}" if open_items else ""))
        add("")

    for heading, prompt in _PROMPTS:
        add(f"## {heading}")
        add("")
        add(f"_{prompt}_")
        add("")
        add("- TBD")
        add("")

    out.extend(_supporting_information(entries, stamp, lit, red))
    out.extend(pm.states_section(incident, review, entries, lit, _health_states))
    out.extend(pm.related_section(related, lit))

    edited_count = sum(1 for e in entries if e.edited)
    add("---")
    add("")
    add(f"_Generated by warroom at {_day_time(now)} UTC from {incident.ref}'s timeline "
        f"({len(entries)} entries, {edited_count} edited). All times are UTC._")
    # The whole document at once: no field (nor one added later) reaches a reader's terminal or
    # editor as a control sequence or a bidi override.
    return visible(red("\n".join(out) + "\n"))


# Pinned evidence beyond this many lines per entry is in the JSON export, not the draft.
MAX_EVIDENCE_LINES = 200


def _command_ended(meta: Mapping[str, Any]) -> str:
    """How a `warroom run` command ended, from its entry's meta."""
    state = meta.get("state")
    if state == "running":
        return "no end recorded (still running at export, or its terminal went away)"
    if state == "failed":
        return f"did not start: {meta.get('error', '')}"
    if meta.get("signal"):
        return f"killed by {meta['signal']}"
    return f"exit {meta.get('exit_status')}"


def _fence(lines: Sequence[str]) -> str:
    """A code fence longer than any backtick run in ``lines``, so no line can close it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _supporting_information(entries: Sequence[Entry], stamp: Callable[[Entry], str], lit: Callable[[str], str],
                            red: Callable[[str], str]) -> list[str]:
    """The commands run (`warroom run`) with how they ended, and the evidence pinned to entries."""
    from .safe_text import visible

    out = ["## Supporting information", ""]
    commands = [e for e in entries if e.meta.get("event") == "run"]
    out += ["### Commands run", ""]
    if commands:
        out += ["| Time | Command | Ended | Duration | Host | Run by |", "|---|---|---|---|---|---|"]
        for e in commands:
            meta = e.meta
            took = meta.get("duration_s")
            duration = f"{took:.1f} s" if isinstance(took, (int, float)) and meta.get("state") != "running" else NOT_YET
            out.append(f"| {stamp(e)} | {lit(str(meta.get('command', '')))} | {lit(_command_ended(meta))} | "
                       f"{duration} | {lit(str(meta.get('host', '')))} | {lit(e.author)} |")
    else:
        out.append("- None recorded: commands run with `warroom run -- COMMAND` are listed here with their exit status.")
    out.append("")
    out += ["### Pinned evidence", ""]
    pinned = [e for e in entries if isinstance(e.meta.get("lines"), list) and e.meta["lines"]]
    for e in pinned:
        pinned_lines: list[Any] = list(e.meta["lines"])  # type: ignore[call-overload]  # a list: see `pinned`
        lines = [visible(red(str(line))) for line in pinned_lines]
        more = len(lines) - MAX_EVIDENCE_LINES
        lines = lines[:MAX_EVIDENCE_LINES]
        fence = _fence(lines)
        out += [f"{stamp(e)} — {e.kind.value} ({lit(e.author)}): {lit(e.text)}", "", fence + "text", *lines, fence]
        if more > 0:
            out.append(f"_… {more} more lines in the JSON export._")
        out.append("")
    if not pinned:
        out += ["- None pinned.", ""]
    return out


def _opt_parse_meta(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None


# -- JSON ------------------------------------------------------------------------------

def incident_to_dict(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "ref": incident.ref,
        "title": incident.title,
        "severity": incident.severity.label,
        "status": incident.status.value,
        "phase": incident.phase.value,
        "started_at": iso_ms(incident.started_at),
        "detected_at": _opt_iso(incident.detected_at),
        "mitigated_at": _opt_iso(incident.mitigated_at),
        "resolved_at": _opt_iso(incident.resolved_at),
        "roles": dict(incident.roles),
        "next_update_at": _opt_iso(incident.next_update_at),
        "cadence_minutes": incident.cadence_minutes,
        "escalate_after_minutes": incident.escalate_after_minutes,
        "demo": incident.demo,
    }


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "entry_id": entry.entry_id,
        "rev": entry.rev,
        "incident_id": entry.incident_id,
        "ts": iso_ms(entry.ts),
        "kind": entry.kind.value,
        "author": entry.author,
        "text": entry.text,
        "source": entry.source,
        "recorded_at": iso_ms(entry.recorded_at),
        "meta": dict(entry.meta),
    }


def _checklist_to_dict(item: ChecklistItem) -> dict[str, Any]:
    return {"phase": item.phase.value, "index": item.index, "text": item.text,
            "done_at": _opt_iso(item.done_at), "done_by": item.done_by}


def _followup_to_dict(f: FollowUp) -> dict[str, Any]:
    return {"id": f.id, "incident_id": f.incident_id, "entry_id": f.entry_id, "text": f.text,
            "due_at": iso_ms(f.due_at), "done_at": _opt_iso(f.done_at)}


def export_json(
    incident: Incident,
    revisions: Sequence[Entry],
    checklist: Sequence[ChecklistItem],
    followups: Sequence[FollowUp],
    *,
    redactor: Redactor,
    now: datetime,
) -> str:
    """Everything, every revision included; :func:`load_json` reads it back."""
    history = _history(revisions)
    order = {e.entry_id: i for i, e in enumerate(current_revisions(revisions))}
    doc = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "exported_at": iso_ms(now),
        "incident": incident_to_dict(incident),
        "entries": [
            {
                "entry_id": entry_id,
                "current_rev": revs[-1].rev,
                "edited": revs[-1].edited,
                "revisions": [entry_to_dict(r) for r in revs],
            }
            for entry_id, revs in sorted(history.items(), key=lambda kv: order[kv[0]])
        ],
        "checklist": [_checklist_to_dict(it) for it in checklist],
        "followups": [_followup_to_dict(f) for f in followups],
    }
    text = json.dumps(redactor.data(doc), indent=2, ensure_ascii=False, default=str) + "\n"
    return json_escaped(text)


@dataclass(frozen=True)
class IncidentRecord:
    """What :func:`load_json` rebuilds: the same objects the store hands out."""

    incident: Incident
    revisions: tuple[Entry, ...]          # every revision, in write (seq) order
    checklist: tuple[ChecklistItem, ...]
    followups: tuple[FollowUp, ...]
    exported_at: datetime

    @property
    def timeline(self) -> list[Entry]:
        return current_revisions(self.revisions)


def _incident_from_dict(d: Mapping[str, Any]) -> Incident:
    return Incident(
        id=d["id"], title=d["title"], severity=Severity.parse(d["severity"]), status=Status(d["status"]),
        phase=Phase(d["phase"]), started_at=parse_iso(d["started_at"]), detected_at=_opt_parse(d["detected_at"]),
        mitigated_at=_opt_parse(d["mitigated_at"]), resolved_at=_opt_parse(d["resolved_at"]), roles=dict(d["roles"]),
        next_update_at=_opt_parse(d["next_update_at"]), cadence_minutes=d["cadence_minutes"],
        escalate_after_minutes=d["escalate_after_minutes"], demo=bool(d.get("demo", False)),
    )


def _entry_from_dict(d: Mapping[str, Any]) -> Entry:
    return Entry(
        seq=d["seq"], entry_id=d["entry_id"], rev=d["rev"], incident_id=d["incident_id"], ts=parse_iso(d["ts"]),
        kind=Kind(d["kind"]), author=d["author"], text=d["text"], source=d["source"],
        recorded_at=parse_iso(d["recorded_at"]), meta=dict(d.get("meta") or {}),
    )


def load_json(text: str) -> IncidentRecord:
    """Rebuild an incident from :func:`export_json`'s output; ``ValueError`` in words if it isn't one."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != JSON_FORMAT:
        raise ValueError(f"not a warroom incident export (expected format {JSON_FORMAT!r})")
    if doc.get("version") != JSON_VERSION:
        raise ValueError(f"unsupported export version {doc.get('version')!r} (this warroom reads {JSON_VERSION})")
    try:
        revisions = sorted(
            (_entry_from_dict(r) for group in doc["entries"] for r in group["revisions"]), key=lambda e: e.seq
        )
        return IncidentRecord(
            incident=_incident_from_dict(doc["incident"]),
            revisions=tuple(revisions),
            checklist=tuple(
                ChecklistItem(Phase(c["phase"]), c["index"], c["text"], _opt_parse(c["done_at"]), c["done_by"])
                for c in doc["checklist"]
            ),
            followups=tuple(
                FollowUp(f["id"], f["incident_id"], f["entry_id"], f["text"], parse_iso(f["due_at"]),
                         _opt_parse(f["done_at"]))
                for f in doc["followups"]
            ),
            exported_at=parse_iso(doc["exported_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed warroom export: {type(exc).__name__} {exc}") from None


# -- CSV -------------------------------------------------------------------------------

def export_csv(
    incident: Incident,
    revisions: Sequence[Entry],
    checklist: Sequence[ChecklistItem] = (),
    followups: Sequence[FollowUp] = (),
    *,
    redactor: Redactor,
    now: datetime | None = None,
) -> str:
    """The sorted timeline (current revisions), one row per entry.

    Every cell goes through :func:`~tui.incident.safe_text.csv_cell`: controls made visible
    and a cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) quoted with ``'``.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    red = redactor.text
    for e in current_revisions(revisions):
        row = (iso_ms(e.ts), e.kind.value, red(e.author), red(e.text), red(e.source), e.entry_id, e.rev)
        writer.writerow([csv_cell(str(cell)) for cell in row])
    return buf.getvalue()


# -- from the store -------------------------------------------------------------------

_EXPORTERS = {"md": export_markdown, "markdown": export_markdown, "json": export_json, "csv": export_csv}


def export(store: "Store", incident_id: int, fmt: str, *, redactor: Redactor, now: datetime | None = None) -> str:
    exporter = _EXPORTERS.get(fmt.strip().lower())
    if exporter is None:
        raise ValueError(f"unknown export format {fmt!r}; formats are {', '.join(FORMATS)}")
    incident = store.incident(incident_id)
    revisions = store.entries(incident_id)
    extra: dict[str, Any] = {}
    if exporter is export_markdown:
        from .postmortem_sections import related

        services = [name for name, _ in impacted_services(current_revisions(revisions))]
        others = store.incidents()[-RELATED_SCAN:]
        extra["related"] = related(incident, others, services,
                                   lambda other: [n for n, _ in impacted_services(store.timeline(other))])
    return exporter(  # each exporter takes the same arguments (+ markdown's related)
        incident, revisions, store.checklist(incident_id), store.followups(incident_id, pending_only=False),
        redactor=redactor, now=now or utcnow(), **extra,
    )


RELATED_SCAN = 50    # the newest incidents searched for related ones: an export (the x key too) stays fast


# -- files ---------------------------------------------------------------------------

def default_update_filename(incident_id: int, now: datetime) -> str:
    return f"incident-{incident_id}-update-{now.astimezone(timezone.utc):%H%M}.txt"


def unique_path(path: str | Path) -> Path:
    """``path`` if it is free, else ``name-2.ext``, ``name-3.ext``, ... (never an existing file)."""
    path = Path(path)
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"{path}: too many files with this name — choose another name")


def save_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to a new file (exclusive create: an existing file is never overwritten).

    If ``path`` is taken, the next free ``name-N.ext`` is used; returns the path written.
    """
    target = Path(path).expanduser()
    for _ in range(100):
        target = unique_path(target)
        try:
            with open(target, "x", encoding="utf-8", newline="") as fh:
                fh.write(text)
            return target
        except FileExistsError:
            continue   # created by someone else between the check and the open
    raise FileExistsError(f"{path}: could not find a free file name — choose another name")
