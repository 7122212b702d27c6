"""The registry of live panes: one record per pane, in the order they are laid out.

A pane is a name (its widget's id, its source's name, the ``source`` of every
``SnapshotReady`` it gets), a widget that renders its snapshots (``widgets/``), a source
that polls (``checks/``, wrapped by a factory in ``tui/sources.py``), the snapshot type
whose error form turns it red, and the warroom.toml section that configures it.
``tui/sources.py`` builds panes and sources from these records and nothing else, so a new
pane is one record here, one widget and one source factory
(``tests/test_panes.py`` checks that every record resolves and builds).

The classes and factories are named as ``"module:attribute"`` and imported only when
used: the first frame builds the widgets without importing a single checks module, and
the sources are built just after it (``WarroomApp.sources_later``).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

# The pane names other modules ask for (the screens' keys act on a pane by name).
HEALTH = "health"
HOST = "host"
PODS = "pods"
DEPLOYS = "deploys"
ALERTS = "alerts"
METRICS = "metrics"
LOGS = "logs"


def _always(config: Any) -> bool:
    return True


def _kubernetes_on(config: Any) -> bool:
    # No [kubernetes] section: the default kubeconfig, on; `enabled = false` turns it off.
    return config.kubernetes is None or bool(config.kubernetes.enabled)


def _alertmanager_set(config: Any) -> bool:
    return config.alertmanager is not None


def _logs_set(config: Any) -> bool:
    return bool(config.logs)


def _metrics_set(config: Any) -> bool:
    return config.prometheus is not None and bool(config.metrics)


@dataclass(frozen=True)
class Pane:
    name: str
    widget: str             # "module:Class" of the widget (widgets/), made empty before the first frame
    snapshot: str           # "module:Class" of its snapshot (checks/); Class(level=CRIT, error=why) is its red form
    source: str             # "module:function": function(config, build context) -> LiveSource (tui/sources.py)
    sections: tuple[str, ...]   # the warroom.toml sections that configure it (tui/config/schemas.py, the README)
    shown: Callable[[Any], bool] = _always   # config -> does the pane exist at all
    signal: bool = False    # alerts, metrics and logs: take room only when configured, after the four, one row

    def widget_class(self) -> Any:
        return load(self.widget)

    def snapshot_class(self) -> Any:
        return load(self.snapshot)

    def source_factory(self) -> Any:
        return load(self.source)


PANES: tuple[Pane, ...] = (
    Pane(HEALTH, "widgets.health:HealthPane", "checks.health:HealthSnapshot", "tui.sources:health_source",
         ("services",)),
    Pane(HOST, "widgets.host:HostPane", "checks.host:HostSnapshot", "tui.sources:host_source", ("host",)),
    Pane(PODS, "widgets.pods:PodsPane", "checks.pods:PodsSnapshot", "tui.sources:pods_source", ("kubernetes",),
         shown=_kubernetes_on),
    Pane(DEPLOYS, "widgets.deploys:DeploysPane", "checks.deploys:DeploysSnapshot", "tui.sources:deploys_source",
         ("repos",)),
    Pane(ALERTS, "widgets.alerts:AlertsPane", "checks.alerts:AlertsSnapshot", "tui.sources:alerts_source",
         ("alertmanager",), shown=_alertmanager_set, signal=True),
    Pane(METRICS, "widgets.metrics:MetricsPane", "checks.metrics:MetricsSnapshot", "tui.sources:metrics_source",
         ("prometheus", "metrics"), shown=_metrics_set, signal=True),
    Pane(LOGS, "widgets.logs:LogsPane", "checks.logs:LogsSnapshot", "tui.sources:logs_source", ("logs",),
         shown=_logs_set, signal=True),
)
_BY_NAME = {pane.name: pane for pane in PANES}


def pane(name: str) -> Pane | None:
    """The record of pane ``name``; None for a name that is no pane."""
    return _BY_NAME.get(name)


def shown(config: Any) -> list[Pane]:
    """The panes this configuration has, in layout order."""
    return [p for p in PANES if p.shown(config)]


def has_signals(names: Iterable[str]) -> bool:
    """Whether any of these panes is a signal pane (the layout gives them a row of their own)."""
    return any(record.signal for record in map(pane, names) if record is not None)


def load(ref: str) -> Any:
    """What ``"module:attribute"`` names, imported now."""
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)
