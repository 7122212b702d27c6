"""The validated configuration (:class:`Config`) and its error (:class:`ConfigError`).

Kept apart from the loader so that callers needing only the types do not pull in the schemas."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from checks.actions import ActionSpec
from checks.specs import (
    AlertmanagerSpec,
    HostSpec,
    KubeSpec,
    LogSpec,
    MetricSpec,
    PrometheusSpec,
    RemoteHostSpec,
    RepoSpec,
    ServiceSpec,
)
from tui.incident.specs import IncidentDefaults, NotifySpec

from .describe import _one_line


class ConfigError(ValueError):
    """A configuration problem. ``str()`` is the first problem, a single line;
    ``problems`` holds every problem that was found (also one line each)."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems: tuple[str, ...] = tuple(_one_line(p) for p in problems) or ("invalid configuration",)
        super().__init__(self.problems[0])


@dataclass(frozen=True)
class Config:
    """A whole warroom.toml, validated."""
    incident: IncidentDefaults = field(default_factory=IncidentDefaults)
    services: tuple[ServiceSpec, ...] = ()
    host: HostSpec = field(default_factory=HostSpec)
    kubernetes: KubeSpec | None = None   # None: not configured; the app tries the default kubeconfig
    repos: tuple[RepoSpec, ...] = ()     # empty: not configured; the app tries the cwd
    notify: tuple[NotifySpec, ...] = ()
    alertmanager: AlertmanagerSpec | None = None   # None: no alerts pane
    prometheus: PrometheusSpec | None = None
    metrics: tuple[MetricSpec, ...] = ()           # needs [prometheus]; empty: no metrics pane
    logs: tuple[LogSpec, ...] = ()       # [[logs]]: files followed for error lines
    actions: tuple[ActionSpec, ...] = ()  # [[actions]]: commands run on a pane's selected row
    hosts: tuple[RemoteHostSpec, ...] = ()   # [[hosts]]: other machines' node_exporter, in the host pane
    path: Path | None = None             # the file this came from (absolute), None for defaults
    secrets: frozenset[str] = frozenset()
    template_dir: Path | None = None     # <config dir>/templates; may not exist
    store_url: str | None = None         # [store] url: the shared PostgreSQL store (a secret: its password)
    user_name: str | None = None         # [user] name: the author (after --author and $WARROOM_AUTHOR)
