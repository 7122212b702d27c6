"""The postmortem draft's playbook sections (issue 17): impact analysis, key times with the
milestones, contributing factors, the resolution split, action items, the states at key
moments and related incidents.

Pure functions of the incident, its current entries and the :class:`~tui.incident.review.Review`
folded from them; each returns markdown lines. ``lit`` redacts and escapes one piece of text
(export.py's), so every outside string goes through the one sanitising edge.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Sequence

from .model import Entry, FollowUp, Incident, Kind, fmt_duration
from .review import MILESTONES, Review, impact_words, title_words

NOT_YET = "—"
Lit = Callable[[str], str]


def _day_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _between(later: datetime | None, earlier: datetime | None) -> str:
    return NOT_YET if later is None or earlier is None else fmt_duration(later - earlier)


def impact_section(review: Review, services: str, lit: Lit) -> list[str]:
    imp = review.impact
    yes_no = {None: "TBD", True: "yes", False: "no"}
    return [
        "## Impact analysis", "",
        f"- **Services affected:** {services}",
        f"- **Users affected:** {lit(imp.users) if imp.users else 'TBD'}",
        f"- **Revenue impact:** {lit(imp.revenue) if imp.revenue else 'TBD'}",
        f"- **Data loss:** {yes_no[imp.data_loss]}",
        f"- **SLA breach:** {yes_no[imp.sla_breach]}",
        "",
        "_Fill these during the incident with `warroom set impact --users … --revenue … --data-loss yes|no "
        "--sla-breach yes|no` or the dashboard's `I` key._", "",
    ]


def key_moments(incident: Incident, review: Review) -> list[tuple[str, datetime | None, str]]:
    """(label, time, how it is known) in the incident's order."""
    return [
        ("Impact started", incident.started_at, "given when declared" if incident.started_at != incident.detected_at
         else "when declared (no earlier impact start given)"),
        ("Detected (declared)", incident.detected_at, ""),
        (MILESTONES["notified"], review.time("notified"), _how(review, "notified")),
        (MILESTONES["root-cause"], review.time("root-cause"), _how(review, "root-cause")),
        ("Mitigated", incident.mitigated_at, ""),
        (MILESTONES["fix-deployed"], review.time("fix-deployed"), _how(review, "fix-deployed")),
        ("Resolved", incident.resolved_at, ""),
    ]


def _how(review: Review, name: str) -> str:
    found = review.milestones.get(name)
    return found.how if found is not None else "not marked: warroom mark " + name


def key_times_section(incident: Incident, review: Review, lit: Lit) -> list[str]:
    started = incident.started_at
    out = ["## Key times (UTC)", "", "| Milestone | Time (UTC) | Since impact started | How we know |",
           "|---|---|---|---|"]
    for label, when, how in key_moments(incident, review):
        since = NOT_YET if when is None or label == "Impact started" else fmt_duration(when - started)
        out.append(f"| {label} | {NOT_YET if when is None else _day_time(when)} | {since} | {lit(how)} |")
    detected = incident.detected_at
    out += [
        "",
        f"- **Time to detect** (detected − impact started): {_between(detected, started)}",
        f"- **Time to acknowledge** (team notified − detected): {_between(review.time('notified'), detected)}",
        f"- **Time to mitigate** (mitigated − impact started): {_between(incident.mitigated_at, started)}",
        f"- **Time to resolve** (resolved − impact started): {_between(incident.resolved_at, started)}",
        "",
    ]
    return out


def factors_section(review: Review, lit: Lit) -> list[str]:
    out = ["## Contributing factors", ""]
    out += [f"- {lit(f)}" for f in review.factors] or [
        "- TBD: add them with `warroom set factor TEXT` (there is rarely a single root cause)."]
    return out + [""]


def resolution_section(review: Review, mitigations: Sequence[str], lit: Lit) -> list[str]:
    out = ["## Resolution", "", "### Immediate mitigation", ""]
    if review.mitigation:
        out.append(f"- {lit(review.mitigation)}")
    out += list(mitigations)
    if not review.mitigation and not mitigations:
        out.append("- TBD: no mitigations were recorded.")
    out += ["", "### Permanent fix", ""]
    out.append(f"- {lit(review.fix)}" if review.fix else
               "- TBD: say what removes the cause for good with `warroom set resolution --fix TEXT`.")
    return out + [""]


def action_items_section(review: Review, todos: Sequence[Entry], followups: Sequence[FollowUp],
                         red: Callable[[str], str], escape: Callable[[str], str],
                         owner_in: Callable[[str], str | None], due_in: Callable[[str], str | None]) -> list[str]:
    """Todos the commander marked as follow-up work, with owner, priority and due date; the
    other todos of the incident are listed after them (so none is lost) as in-incident work."""
    done = {f.entry_id for f in followups if f.done_at is not None}
    out = ["## Action items", "", "| Done | Action item | Owner | Priority | Due |", "|---|---|---|---|---|"]
    follow = [e for e in todos if review.actions.get(e.entry_id) and review.actions[e.entry_id].follow_up]
    for e in follow:
        mark = review.actions[e.entry_id]
        text = red(e.text)
        owner = mark.owner or owner_in(text) or "TBD"
        due = mark.due or due_in(text) or "TBD"
        # Owner, priority and due come from the entry's meta, which an imported file may carry: escaped too.
        out.append(f"| {'x' if e.entry_id in done else ' '} | {escape(text)} (#{e.entry_id}) | {escape(red(owner))} | "
                   f"{escape(mark.priority or 'TBD')} | {escape(due)} |")
    if not follow:
        out.append("| | TBD: no todo is marked as follow-up work yet — `warroom set action-item ID --owner @who "
                   "--priority P2 --due YYYY-MM-DD` | TBD | TBD | TBD |")
    out.append("")
    rest = [e for e in todos if e not in follow and not (e.entry_id in review.actions)]
    dropped = [e for e in todos if e.entry_id in review.actions and not review.actions[e.entry_id].follow_up]
    if rest:
        out += ["### Todos not yet triaged", "",
                "_Todos from the incident nobody has marked as follow-up work or not: mark them with "
                "`warroom set action-item ID …` or `--not-follow-up`._", ""]
        out += [f"- [{'x' if e.entry_id in done else ' '}] #{e.entry_id} {escape(red(e.text))}" for e in rest]
        out.append("")
    if dropped:
        out += ["### Done during the incident (not follow-up work)", ""]
        out += [f"- [{'x' if e.entry_id in done else ' '}] #{e.entry_id} {escape(red(e.text))}" for e in dropped]
        out.append("")
    return out


# -- supporting information: states at key moments, related incidents ------------------

_GROUPS = (("health:", "Health"), ("host:", "Host"), ("pod:", "Pods"))


def states_at(entries: Sequence[Entry], when: datetime) -> dict[str, tuple[str, datetime]]:
    """Each detector key's latest state at ``when`` and since when, from the system entries' meta
    (burst entries too)."""
    state: dict[str, tuple[str, datetime]] = {}
    for e in entries:
        if e.kind is not Kind.SYSTEM or e.ts > when:
            continue
        key, value = e.meta.get("key"), e.meta.get("state")
        if isinstance(key, str) and isinstance(value, str):
            state[key] = (value, e.ts)
        burst = e.meta.get("events")
        if isinstance(burst, list):
            for item in burst:
                if isinstance(item, list) and len(item) >= 2 and isinstance(item[0], str):
                    state[item[0]] = (str(item[1]), e.ts)
    return state


_QUIET = {"UP", "OK", "Running", "RESOLVED"}


def states_section(incident: Incident, review: Review, entries: Sequence[Entry], lit: Lit,
                   health_states: Callable[[Sequence[Entry]], list[tuple[str, str]]]) -> list[str]:
    """``health_states``: export.py's reading of the health entries (meta, else the entry's words)."""
    out = ["### States at key moments", ""]
    if not health_states(entries) and not any(isinstance(e.meta.get("key"), str) for e in entries):
        return out + ["- None recorded: the dashboard's detector writes health, host and pod changes here.", ""]
    # The pod detector writes a pod's trouble, not its recovery: a pod's state is the last change seen, dated.
    out += ["| Moment | Health | Host | Pods (last change seen) |", "|---|---|---|---|"]
    moments = [(label, when) for label, when, _ in key_moments(incident, review) if when is not None]
    for label, when in sorted(moments, key=lambda m: m[1]):
        before = [e for e in entries if e.ts <= when]
        seen = states_at(before, when)
        now = {k: v for k, (v, _) in seen.items() if not k.startswith("health:")}
        now.update({f"health:{name}": state for name, state in health_states(before)})
        cells = []
        for prefix, _name in _GROUPS:
            keyed = sorted((k.removeprefix(prefix), v) for k, v in now.items() if k.startswith(prefix))
            bad = [f"{lit(k)} {lit(v)}" + (f" since {_day_time(seen[prefix + k][1])[11:]}" if prefix == "pod:" else "")
                   for k, v in keyed if v not in _QUIET and not v.startswith("restart")]
            restarts = [k for k, v in keyed if v.startswith("restart")]
            text = ", ".join(bad[:6]) + (f" (+{len(bad) - 6} more)" if len(bad) > 6 else "")
            if restarts:
                text += ("; " if text else "") + f"{len(restarts)} restarted"
            cells.append(text or ("all OK" if keyed else NOT_YET))
        out.append(f"| {label} {_day_time(when)[11:]} | " + " | ".join(cells) + " |")
    return out + [""]


def related(incident: Incident, others: Sequence[Incident], services: Sequence[str],
            services_of: Callable[[int], Sequence[str]]) -> list[tuple[Incident, str]]:
    """Other incidents of the same store sharing an affected service or a title word, newest first."""
    words = title_words(incident.title)
    mine = set(services)
    out: list[tuple[Incident, str]] = []
    for other in sorted(others, key=lambda i: -i.id):
        if other.id == incident.id or other.demo != incident.demo:
            continue
        why = []
        shared = sorted(mine & set(services_of(other.id)))
        if shared:
            why.append("services " + ", ".join(shared))
        common = sorted(words & title_words(other.title))
        if common:
            why.append("title words " + ", ".join(common))
        if why:
            out.append((other, "; ".join(why)))
    return out[:10]


def related_section(found: Sequence[tuple[Incident, str]], lit: Lit) -> list[str]:
    out = ["### Related incidents", ""]
    for inc, why in found:
        out.append(f"- {inc.ref} ({inc.severity.label}, {inc.status.value}, {_day_time(inc.started_at)[:10]}): "
                   f"{lit(inc.title)} — shares {lit(why)}")
    if not found:
        out.append("- None found in this store (same affected service or title words).")
    return out + [""]


__all__ = ["impact_section", "key_times_section", "factors_section", "resolution_section", "action_items_section",
           "states_section", "related", "related_section", "impact_words"]
