"""Builds the live sources and their panes from the configuration.

With no configuration the dashboard still works: host live, deploys from the
git repo in the current directory if there is one, pods from the default
kubeconfig if there is one, and a health pane that says how to add services.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from checks.base import Level
from checks.specs import KubeSpec, RepoSpec

from .loop_thread import LoopThread
from .scheduler import LiveSource

if TYPE_CHECKING:
    from textual.widget import Widget

NO_SERVICES_POLL_S = 30.0


@dataclass
class LiveBundle:
    """The live sources, their panes and hooks, as build_live made them."""
    sources: list = field(default_factory=list)
    panes: dict = field(default_factory=dict)
    hooks: dict = field(default_factory=dict)
    deploys: Any = None


def _git_root(start: Path) -> Path | None:
    """The enclosing work tree, found without importing git (start-up stays fast)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


class LoopBound:
    """A checks source whose coroutines (polls, and the dashboard's silence / verify) run on a
    LoopThread of its own: its httpx client belongs to that loop, and the UI's loop only ever
    receives snapshots."""

    def __init__(self, name: str, source: Any) -> None:
        self.source = source
        self.loop = LoopThread(name)

    def poll(self) -> Any:
        return self.loop.run(self.source.poll())

    def run(self, coro: Any, timeout: float | None = None) -> Any:
        return self.loop.run(coro, timeout)

    def close(self) -> None:
        self.loop.stop(self.source.aclose())


def _error(snapshot_cls) -> Callable[[str], Any]:
    return lambda why: snapshot_cls(level=Level.CRIT, error=why, summary=why)


def health_worker_threshold() -> int:
    """Above this many services, health rounds run in a child process.

    ``WARROOM_HEALTH_PROCESS_ABOVE`` overrides it (tests drive both paths with a few
    services; 0 always uses the process)."""
    import os

    from checks.health_worker import PROCESS_ABOVE

    try:
        return int(os.environ.get("WARROOM_HEALTH_PROCESS_ABOVE", PROCESS_ABOVE))
    except ValueError:
        return PROCESS_ABOVE


def build_panes(config: Any, *, kube_context: str | None = None) -> dict:
    """The live panes, empty: what the first frame needs (and no checks module)."""
    from widgets.deploys import DeploysPane
    from widgets.health import HealthPane
    from widgets.host import HostPane
    from widgets.pods import PodsPane

    panes = {"health": HealthPane(), "host": HostPane()}
    if _kube_spec(config, kube_context).enabled:
        panes["pods"] = PodsPane()
    panes["deploys"] = DeploysPane()
    # Alerts and metrics take no room unless configured; after the four panes, which keep their places.
    signals: list[tuple[str, Widget]] = []
    if config.alertmanager is not None:
        from widgets.alerts import AlertsPane

        signals.append(("alerts", AlertsPane()))
    if config.prometheus is not None and config.metrics:
        from widgets.metrics import MetricsPane

        signals.append(("metrics", MetricsPane()))
    for name, pane in signals:
        pane.set_class(len(signals) == 1, "-wide")
        panes[name] = pane
    return panes


def _kube_spec(config: Any, kube_context: str | None) -> KubeSpec:
    kube = config.kubernetes or KubeSpec()
    return replace(kube, context=kube_context) if kube_context else kube


def build_live(config: Any, *, incident: Any, kube_context: str | None = None, cwd: Path | None = None) -> LiveBundle:
    """The panes and their sources at once (tests and benchmarks; the app uses the two below)."""
    bundle = build_sources(config, incident=incident, kube_context=kube_context, cwd=cwd)
    bundle.panes = build_panes(config, kube_context=kube_context)
    return bundle


def build_sources(config: Any, *, incident: Any, kube_context: str | None = None,
                  cwd: Path | None = None) -> LiveBundle:
    """The sources behind build_panes' panes, with their hooks; ``panes`` is left empty.

    The dashboard builds these just after its first frame (WarroomApp's ``sources_later``):
    the checks modules' snapshot types and the checkers cost ~10 ms it need not wait for."""
    from checks import deploys, health, host, pods

    started: datetime = incident.started_at
    bundle = LiveBundle()

    # Every service in flight at once: a round should take as long as the slowest service, not N/100 of them.
    concurrency = max(100, len(config.services))
    checker: Any       # in-process, one worker process, or several: each has poll and close
    poll: Callable[[], Any]
    interval: float | Callable[[], float]
    close: Callable[[], Any]
    if len(config.services) > health_worker_threshold():
        # A big round's CPU and garbage would stall the UI (GIL, collections): a process of its own.
        from checks.health_worker import HealthProcess, HealthProcesses, worker_count

        workers = worker_count(len(config.services))
        checker = (HealthProcess(config.services, concurrency=concurrency) if workers == 1 else
                   HealthProcesses(config.services, shards=workers, concurrency=concurrency))
        poll, interval, close = checker.poll, checker.next_due_in, checker.close
    else:
        checker = health.HealthChecker(config.services, concurrency=concurrency)
        poll, interval, close = checker.poll, NO_SERVICES_POLL_S, checker.aclose
        if config.services:
            # Rounds run on an event loop of their own: the UI's loop only receives snapshots.
            health_loop = LoopThread("health-checks")
            poll, interval = (lambda: health_loop.run(checker.poll())), checker.next_due_in
            close = lambda: health_loop.stop(checker.aclose())   # noqa: E731
    bundle.sources.append(LiveSource("health", poll, interval, health.changes, _error(health.HealthSnapshot),
                                     close=close, origin=checker))

    host_source = host.HostSource(config.host)
    bundle.sources.append(LiveSource("host", host_source.poll, config.host.interval, host.changes,
                                     _error(host.HostSnapshot), close=host_source.close))

    kube = _kube_spec(config, kube_context)
    if kube.enabled:
        pod_source = pods.PodsSource(kube, incident_started=started)
        bundle.sources.append(LiveSource("pods", pod_source.poll, kube.interval, pods.changes,
                                         _error(pods.PodsSnapshot), start=pod_source.start, close=pod_source.close,
                                         origin=pod_source))

    repos = config.repos
    if not repos:
        root = _git_root(cwd or Path.cwd())
        repos = (RepoSpec(path=str(root)),) if root else ()
    deploy_source = deploys.DeploysSource(repos, incident_started=started)
    interval = min((r.interval for r in repos), default=NO_SERVICES_POLL_S)
    bundle.sources.append(LiveSource("deploys", deploy_source.poll, interval, deploys.changes,
                                     _error(deploys.DeploysSnapshot), close=deploy_source.close))
    bundle.deploys = deploy_source

    first_failure: list[datetime] = []

    def on_health(snapshot: Any, events: list) -> None:
        # Deploys are suspect relative to the first failure seen, if that precedes the declaration.
        if not first_failure and snapshot.level >= Level.CRIT and not snapshot.error:
            first_failure.append(snapshot.taken_at)
            deploy_source.set_first_failure(snapshot.taken_at)

    bundle.hooks["health"] = on_health
    _signal_sources(config, bundle, started)
    return bundle


def _signal_sources(config: Any, bundle: LiveBundle, started: datetime) -> None:
    """Alertmanager's alerts and Prometheus' metrics, when configured (checks.alerts, checks.metrics)."""
    if config.alertmanager is not None:
        from checks import alerts

        bound = LoopBound("alerts", alerts.AlertsSource(config.alertmanager))
        bundle.sources.append(LiveSource("alerts", bound.poll, config.alertmanager.interval, alerts.changes,
                                         _error(alerts.AlertsSnapshot), close=bound.close, origin=bound))
    if config.prometheus is not None and config.metrics:
        from checks import metrics

        bound = LoopBound("metrics", metrics.MetricsSource(config.prometheus, config.metrics,
                                                           incident_started=started))
        bundle.sources.append(LiveSource("metrics", bound.poll, config.prometheus.interval, metrics.changes,
                                         _error(metrics.MetricsSnapshot), close=bound.close, origin=bound))


def error_snapshot(pane: str, why: str) -> Any:
    """A snapshot that turns pane ``pane`` red with ``why`` (for sources that could not be
    built); None for a pane this module does not make."""
    from checks import alerts, deploys, health, host, metrics, pods

    cls = {"health": health.HealthSnapshot, "host": host.HostSnapshot, "pods": pods.PodsSnapshot,
           "deploys": deploys.DeploysSnapshot, "alerts": alerts.AlertsSnapshot,
           "metrics": metrics.MetricsSnapshot}.get(pane)
    return None if cls is None else _error(cls)(why)
