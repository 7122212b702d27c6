"""Times people type when declaring: "14:05" (UTC), "10m ago", "1h30m ago", ISO 8601.

Impact usually started before anyone declared, often just before midnight on a long
night: a bare HH:MM later than now means yesterday's.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_AGO = re.compile(r"^(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:utes?)?)?)?\s*(?:(\d+)\s*s(?:ec(?:onds?)?)?)?"
                  r"\s*(?:ago)?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*utc)?$")
HINT = "type HH:MM (UTC), '10m ago', '1h30m ago' or 2026-12-01T14:05Z; Enter for now"


def parse_impact_start(text: str, now: datetime) -> datetime:
    """When impact started, from what was typed; ``now`` for nothing. ValueError says how to mend."""
    typed = " ".join(text.strip().lower().split())
    if typed in ("", "now"):
        return now
    when = _parse(typed, now)
    if when is None:
        raise ValueError(f"not a time: {text.strip()!r} — {HINT}")
    if when > now:
        raise ValueError(f"impact cannot start in the future ({when:%Y-%m-%d %H:%M} UTC) — {HINT}")
    return when


def _parse(typed: str, now: datetime) -> datetime | None:
    match = _CLOCK.match(typed)
    if match:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
        when = now.replace(hour=hour, minute=minute, second=second, microsecond=0)
        return when - timedelta(days=1) if when > now else when
    match = _AGO.match(typed)
    if match and any(match.groups()):
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return now - timedelta(hours=hours, minutes=minutes, seconds=seconds)
    try:
        when = datetime.fromisoformat(typed.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
