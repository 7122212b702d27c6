"""What the scribe types in the entry prompt, read: a todo's follow-up, a role, an edit's time.

Pure functions (no textual): the dashboard's prompt handler calls them, and a bad line
raises ValueError with one line saying what and how to mend it (the prompt keeps the text).
"""
from __future__ import annotations

import re
from datetime import datetime

__all__ = ["parse_edit", "parse_follow_up", "parse_role"]

FOLLOW_UP = re.compile(r"\s+\+(\d+(?:\.\d+)?)\s*m?(?:in)?\s*$")
EDIT_TIME = re.compile(r"^@(\d{1,2}):(\d{2})(?::(\d{2}))?\s+")


def parse_follow_up(text: str) -> tuple[str, float | None]:
    """'check the db +10' -> ('check the db', 10.0)."""
    match = FOLLOW_UP.search(text)
    if not match:
        return text, None
    return text[: match.start()].rstrip(), float(match.group(1))


ROLE_ALIASES = {"ic": "commander", "cmd": "commander", "incident-commander": "commander", "communications": "comms"}


def parse_role(text: str) -> tuple[str, str]:
    """'commander alice' -> ('commander', 'alice'); a role alone clears it ('scribe' -> ('scribe', ''))."""
    from ..incident.model import ROLES

    role, _, person = text.strip().partition(" ")
    role = ROLE_ALIASES.get(role.lower(), role.lower())
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} — type a role then a name, e.g. 'commander alice' "
                         f"(roles: {', '.join(ROLES)}; a role alone clears it)")
    return role, " ".join(person.split())


def parse_edit(text: str, original: datetime) -> tuple[str, datetime | None]:
    """'@14:05 new text' -> ('new text', that time on the entry's UTC date)."""
    match = EDIT_TIME.match(text)
    if not match:
        return text, None
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time: {match.group(0).strip()} — use @HH:MM or @HH:MM:SS (UTC)")
    return text[match.end():], original.replace(hour=hour, minute=minute, second=second, microsecond=0)
