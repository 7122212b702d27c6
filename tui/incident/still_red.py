"""What is still red when a commander is about to resolve an incident.

Resolving while services are DOWN, pods crash-loop or follow-ups are open is asked
for twice (issue 17): the CLI (``warroom resolve``) and the dashboard (status →
Resolved) both name what is still red first. The CLI has no live checks, so it reads
the detector's ``system`` entries (the last one per key: a DOWN never followed by an
UP is still red); the dashboard adds what its live panes show right now.

No textual; outside text (service and pod names, todo text) is made one-line and
visible here, since these lines go to a terminal.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from .model import Entry, FollowUp, Kind
from .safe_text import one_line

__all__ = ["describe", "from_followups", "from_snapshots", "from_timeline", "still_red"]

_CLIP = 60
# checks.base.Level.CRIT as a number: the domain imports nothing of checks (ARCHITECTURE.md),
# and a detector entry's meta and a live snapshot's rows carry the level as an int (IntEnum).
_CRIT = 3


def _clip(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def from_timeline(entries: Iterable[Entry], live: Iterable[str] = ()) -> list[str]:
    """Keys whose last detector entry is critical ("api DOWN", "payments/api-1 OOMKilled");
    keys of the groups in ``live`` ("health", "pod") are left to the live panes, which know better."""
    skip = set(live)
    last: dict[str, tuple[int, str]] = {}
    for entry in entries:
        if entry.kind is not Kind.SYSTEM:
            continue
        meta = entry.meta or {}
        events = meta.get("events")
        changes = events if isinstance(events, (list, tuple)) and events else \
            [[meta.get("key"), meta.get("state"), meta.get("level")]]
        for change in changes:
            if not isinstance(change, (list, tuple)):
                continue
            key, state, level = (list(change) + [None, None, None])[:3]
            if not isinstance(key, str) or ":" not in key or key.endswith(":*") or state == "FLAPPING":
                continue
            if key.split(":", 1)[0] in skip:
                continue
            if not isinstance(level, int):
                continue
            last[key] = (level, str(state))
    return [_clip(f"{key.split(':', 1)[1]} {state}") for key, (level, state) in last.items()
            if level >= _CRIT]


def from_followups(followups: Iterable[FollowUp]) -> list[str]:
    return [_clip(f"follow-up open: {f.text}") for f in followups if f.done_at is None]


def from_snapshots(health: object = None, pods: object = None) -> list[str]:
    """What the live panes show red now: services DOWN, pods in a critical state."""
    reds: list[str] = []
    for s in getattr(health, "services", ()) or ():
        if str(getattr(s, "state", "")) == "DOWN":
            reds.append(_clip(f"{s.name} DOWN"))
    for p in getattr(pods, "pods", ()) or ():
        if getattr(p, "level", 0) >= _CRIT:
            reds.append(_clip(f"{p.key} {p.status or p.waiting_reason or p.phase}"))
    return reds


def still_red(*groups: Sequence[str]) -> list[str]:
    """The groups merged, first mention kept (the live state before the timeline's)."""
    seen: dict[str, None] = {}
    names: set[str] = set()
    for group in groups:
        for line in group:
            name = line.split(" ", 1)[0]
            if line.startswith("follow-up open:") or name not in names:
                seen.setdefault(line, None)
                names.add(name)
    return list(seen)


def describe(reds: Sequence[str], limit: int = 4) -> str:
    shown = "; ".join(reds[:limit])
    return shown + (f" (+{len(reds) - limit} more)" if len(reds) > limit else "")
