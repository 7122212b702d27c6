"""What an entry a person writes must be, and how revisions fold into a timeline.

Shared by both store backends (SQLite and PostgreSQL) and the CLI; split out of
``tui.incident.store`` to keep it small. No I/O.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Iterable

from .model import (
    Entry,
)

# A timeline entry is a line or a paragraph, not a document: a 30 MB note made the
# markdown export take seconds and every later key lag. Longer material belongs in a
# file whose path is logged.
MAX_ENTRY_CHARS = 10_000
# A follow-up further out than a week is not a follow-up; far larger numbers overflow datetime.
MAX_FOLLOW_UP_MINUTES = 7 * 24 * 60


_BY_ENTRY_ID = attrgetter("entry_id")
_BY_TS = attrgetter("ts")


def check_entry_text(text: str) -> None:
    """What every entry a person writes must be: some text, at most MAX_ENTRY_CHARS (ValueError)."""
    if not text.strip():
        raise ValueError("an entry needs some text")
    if len(text) > MAX_ENTRY_CHARS:
        raise ValueError(f"the entry is {len(text):,} characters, over the limit of {MAX_ENTRY_CHARS:,} — "
                         "shorten it, or save the long text to a file and log its path")


def check_follow_up(minutes: float) -> None:
    """A follow-up delay the clock can hold: more than 0, at most a week (ValueError)."""
    if not (0 < minutes <= MAX_FOLLOW_UP_MINUTES):   # also refuses NaN and infinities
        raise ValueError(f"a follow-up of {minutes:g} minutes is out of range — "
                         f"use more than 0 and at most {MAX_FOLLOW_UP_MINUTES} (a week)")


def _check_unicode(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{what} is not valid Unicode (lone surrogate at position {exc.start}) — "
                         "re-type it, or check the terminal's encoding (LANG=C.UTF-8)") from None


def current_revisions(revisions: Iterable[Entry]) -> list[Entry]:
    """Fold revisions to the latest of each entry, sorted by (time, entry id)."""
    latest: dict[int, Entry] = {}
    for entry in revisions:
        seen = latest.setdefault(entry.entry_id, entry)
        if entry.rev > seen.rev:
            latest[entry.entry_id] = entry
    # Two stable sorts instead of one on (ts, entry_id) tuples: no key tuple per
    # entry, and both passes are near-linear on the usual already-ordered input.
    timeline = sorted(latest.values(), key=_BY_ENTRY_ID)
    timeline.sort(key=_BY_TS)
    return timeline
