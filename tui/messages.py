"""Every message the app passes between workers, widgets and screens."""
from __future__ import annotations

from typing import Any

from textual.message import Message


class SnapshotReady(Message):
    """A source finished a poll; ``snapshot`` is frozen and safe to share."""

    def __init__(self, source: str, snapshot: Any, elapsed_s: float) -> None:
        super().__init__()
        self.source = source
        self.snapshot = snapshot
        self.elapsed_s = elapsed_s
