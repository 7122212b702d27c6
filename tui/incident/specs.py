"""The incident's own settings, built by ``tui.config`` from warroom.toml: the
[incident] defaults for new incidents and the [[notify]] webhooks updates go to.

They belong to the domain, not to ``checks/`` (which watches systems): the store,
notify and the command line use them, and their defaults are the model's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import DEFAULT_CADENCE, DEFAULT_ESCALATE_AFTER

NOTIFY_KINDS: tuple[str, ...] = ("slack", "json")   # slack: incoming webhook; json: generic document


def _default_cadence() -> dict[str, int]:
    return {sev.name: minutes for sev, minutes in DEFAULT_CADENCE.items() if minutes is not None}


@dataclass(frozen=True)
class NotifySpec:
    """One [[notify]] webhook that status updates are posted to."""
    kind: str                           # one of NOTIFY_KINDS
    url: str
    name: str = ""
    timeout: float = 5.0
    retries: int = 2


@dataclass(frozen=True)
class IncidentDefaults:
    """The [incident] section: defaults for new incidents."""
    cadence_minutes: dict[str, Any] = field(default_factory=_default_cadence)   # "SEV1" -> minutes
    escalate_after_minutes: float = DEFAULT_ESCALATE_AFTER.total_seconds() / 60
    checklists: dict[str, Any] = field(default_factory=dict)   # phase name -> list of items (overrides)
