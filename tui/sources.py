"""Builds the live sources and their panes from the configuration."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class LiveBundle:
    sources: list = field(default_factory=list)
    panes: dict = field(default_factory=dict)
    hooks: dict = field(default_factory=dict)
    help: list = field(default_factory=list)
    redact: Callable[[str], str] = lambda text: text


def build_live(config: Any, *, incident: Any, kube_context: str | None = None, redact_hosts: bool = False) -> LiveBundle:
    return LiveBundle()
