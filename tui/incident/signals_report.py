"""The postmortem's "Verification and alerts" section, from the timeline alone.

What `V` wrote (an entry whose meta has ``verify``: every metric's figures and a
sparkline over the incident) and the alert groups' ``system`` entries (meta
``key = "alert:NAME"``, state FIRING / RESOLVED / SILENCED / INHIBITED, or a burst
entry's ``events``) become a table each. Nothing is added when neither exists.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .model import Entry, Kind


def _alert_changes(entries: Sequence[Entry]) -> list[tuple[str, str, Entry]]:
    out = []
    for e in entries:
        if e.kind is not Kind.SYSTEM:
            continue
        changes = e.meta.get("events") or [[e.meta.get("key"), e.meta.get("state")]]
        # Meta is JSON from the store: anything but a list holds no [key, state] pair.
        for change in changes if isinstance(changes, (list, tuple)) else ():
            if not isinstance(change, (list, tuple)) or len(change) < 2:
                continue
            key, state = change[0], change[1]
            if isinstance(key, str) and key.startswith("alert:") and isinstance(state, str):
                out.append((key[len("alert:"):], state, e))
    return out


def _figure(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.4g}"
    return "—"


def signals_section(entries: Sequence[Entry], stamp: Callable[[Entry], str], lit: Callable[[str], str]) -> list[str]:
    """Markdown lines (``lit`` redacts and escapes remote text, ``stamp`` formats an entry's time)."""
    verifications = [e for e in entries if isinstance(e.meta.get("verify"), dict)]
    changes = _alert_changes(entries)
    offers = [e for e in entries if isinstance(e.meta.get("detection_offer"), str)]
    if not verifications and not changes and not offers:
        return []
    out = ["## Verification and alerts", ""]
    if offers:
        out += [f"- **Detection time (candidate):** {lit(offers[0].text)}", ""]
    if verifications:
        last = verifications[-1]
        figures = last.meta["verify"]
        assert isinstance(figures, dict)  # `verifications` holds only these
        out += [f"Last verification at {stamp(last)} by {lit(last.author) or 'TBD'}: {lit(last.text)}", ""]
        metrics = [m for m in figures.get("metrics", ()) if isinstance(m, dict)]
        if metrics:
            out += ["| Metric | Value | Baseline | Warn / crit | State | Over the incident |", "|---|---|---|---|---|---|"]
            for m in metrics:
                unit = lit(str(m.get("unit") or ""))
                value = lit(str(m["error"])) if m.get("error") else f"{_figure(m.get('value'))} {unit}".strip()
                out.append(f"| {lit(str(m.get('name', '')))} | {value} | {_figure(m.get('baseline'))} | "
                           f"{_figure(m.get('warn'))} / {_figure(m.get('crit'))} | {lit(str(m.get('state', '')))} | "
                           f"{lit(str(m.get('sparkline') or ''))} |")
            out.append("")
        if "alerts_firing" in figures:
            out += [f"- Alerts firing at verification: {_figure(figures['alerts_firing'])}", ""]
    if changes:
        fired: dict[str, list[str]] = {}
        order: list[str] = []
        for name, state, e in changes:
            if name not in fired:
                fired[name] = ["", ""]
                order.append(name)
            if state == "FIRING" and not fired[name][0]:
                fired[name][0] = stamp(e)
            elif state != "FIRING":
                fired[name][1] = f"{stamp(e)} ({state.lower()})"
        out += ["| Alert | Fired | Resolved |", "|---|---|---|"]
        for name in order:
            first, resolved = fired[name]
            out.append(f"| {lit(name)} | {first or 'before warroom saw it'} | {resolved or 'still firing'} |")
        out.append("")
    return out
