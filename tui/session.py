"""What a dashboard works on: one incident in one store, written as one author.

The app builds one ``Session`` and hands it to the dashboard, its store-sync controller
(tui/store_sync.py) and its snapshot routing (tui/snapshot_routing.py), so none of them
reaches into the app for the store, the incident, the clock or the redactor. The
``Redactor`` here masks secrets before anything is written; what a widget shows goes
through the app's display edge as well (``WarroomApp.redact``: hosts while presenting,
control characters made visible).

No textual here: a session is plain data the CLI could build as well.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .incident.model import DEFAULT_CADENCE, Severity, utcnow
from .incident.redact import Redactor

__all__ = ["Session"]


@dataclass
class Session:
    store: Any                          # tui.incident.store.Store or the shared PostgreSQL store
    incident_id: int
    author: str = ""
    clock: Callable[[], datetime] = utcnow
    config: Any = None                  # tui.config.Config
    redactor: Redactor = field(default_factory=Redactor)
    cadence: Mapping[Severity, int | None] = field(default_factory=lambda: dict(DEFAULT_CADENCE))

    @property
    def read_only(self) -> bool:
        """A read-only view (``warroom --read-only``) writes nothing, not even its detector's entries."""
        return bool(getattr(self.store, "read_only", False))
