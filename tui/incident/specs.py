"""The incident's own settings, built by ``tui.config`` from warroom.toml: the
[incident] defaults for new incidents and the [[notify]] webhooks updates go to.

They belong to the domain, not to ``checks/`` (which watches systems): the store,
notify and the command line use them, and their defaults are the model's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .model import DEFAULT_CADENCE, DEFAULT_ESCALATE_AFTER, Phase, Severity

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

    # What store.declare takes, from the names the config uses (the CLI and the dashboard's
    # declare prompt both declare; one translation, here).
    def cadence(self) -> dict[Severity, int | None]:
        """Minutes between updates per severity: the model's defaults, overridden (0: none)."""
        cadence = dict(DEFAULT_CADENCE)
        for name, minutes in (self.cadence_minutes or {}).items():
            cadence[Severity.parse(name)] = minutes or None
        return cadence

    def escalate_after(self) -> timedelta:
        return timedelta(minutes=self.escalate_after_minutes)

    def phase_checklists(self) -> dict[Phase, tuple[str, ...]]:
        return {Phase.parse(name): tuple(items) for name, items in (self.checklists or {}).items()}
