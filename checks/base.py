"""What every data source shares: a severity level, a snapshot base, and timeline events.

Sources are plain Python (no textual). A poll never raises: failure is data, a
snapshot whose ``error`` says what went wrong in words.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from tui.incident.model import utcnow


class Level(enum.IntEnum):
    """Ordered so that ``max()`` over a pane's rows gives the pane's worst state."""

    OK = 0
    UNKNOWN = 1
    WARN = 2
    CRIT = 3


@dataclass(frozen=True)
class Snapshot:
    """Base of every source's snapshot.

    ``level`` is the worst state of the pane, ``summary`` one short line for the
    stacked small-terminal layout (e.g. ``"payments DOWN (HTTP 503)"``), and
    ``error`` is set when the source itself failed (pane turns red).
    """

    taken_at: datetime = field(default_factory=utcnow)
    level: Level = Level.UNKNOWN
    summary: str = ""
    error: str | None = None


@dataclass(frozen=True)
class Event:
    """A state change a source wants written into the timeline as a ``system`` entry.

    ``key`` identifies the thing (``"health:payments"``), ``state`` its new state
    (``"DOWN"``); the damper de-duplicates on (key, state).
    """

    key: str
    state: str
    text: str
    level: Level = Level.WARN
