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

from . import panes
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
    """The live panes, empty: what the first frame needs (and no checks module).

    One per record of ``tui.panes.PANES`` that the config shows, in its order: the four
    keep their places; alerts and metrics take room only when configured, after them."""
    chosen = panes.shown(config)
    signals = sum(1 for p in chosen if p.signal)
    built: dict[str, Widget] = {}
    for record in chosen:
        widget = record.widget_class()()
        if record.signal:
            widget.set_class(signals == 1, "-wide")
        built[record.name] = widget
    return built


def _kube_spec(config: Any, kube_context: str | None) -> KubeSpec:
    kube = config.kubernetes or KubeSpec()
    return replace(kube, context=kube_context) if kube_context else kube


def build_live(config: Any, *, incident: Any, kube_context: str | None = None, cwd: Path | None = None) -> LiveBundle:
    """The panes and their sources at once (tests and benchmarks; the app uses the two below)."""
    bundle = build_sources(config, incident=incident, kube_context=kube_context, cwd=cwd)
    bundle.panes = build_panes(config, kube_context=kube_context)
    return bundle


@dataclass(frozen=True)
class BuildContext:
    """What a source factory is given besides the config."""
    incident_started: datetime
    kube_context: str | None = None
    cwd: Path | None = None
    local_host: Any = None        # this machine's host source in its place (the demo's simulated node)


def build_sources(config: Any, *, incident: Any, kube_context: str | None = None,
                  cwd: Path | None = None, local_host: Any = None) -> LiveBundle:
    """The sources behind build_panes' panes, with their hooks; ``panes`` is left empty.

    The dashboard builds these just after its first frame (WarroomApp's ``sources_later``):
    the checks modules' snapshot types and the checkers cost ~10 ms it need not wait for."""
    ctx = BuildContext(incident.started_at, kube_context, cwd, local_host)
    bundle = LiveBundle()
    for record in panes.shown(config):
        bundle.sources.append(record.source_factory()(config, ctx))
    by_name = {s.name: s for s in bundle.sources}
    if panes.HEALTH in by_name and panes.DEPLOYS in by_name:
        bundle.hooks[panes.HEALTH] = _suspects_from_first_failure(by_name[panes.DEPLOYS].origin)
    return bundle


def _suspects_from_first_failure(deploy_source: Any) -> Callable[[Any, list], None]:
    first_failure: list[datetime] = []

    def on_health(snapshot: Any, events: list) -> None:
        # Deploys are suspect relative to the first failure seen, if that precedes the declaration.
        if not first_failure and snapshot.level >= Level.CRIT and not snapshot.error:
            first_failure.append(snapshot.taken_at)
            deploy_source.set_first_failure(snapshot.taken_at)

    return on_health


# -- the source factories that tui.panes names: (config, BuildContext) -> LiveSource ------


def health_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import health

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
    return LiveSource(panes.HEALTH, poll, interval, health.changes, _error(health.HealthSnapshot),
                      close=close, origin=checker)


def host_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import host

    source = ctx.local_host or host.HostSource(config.host)
    if config.hosts:
        return _host_live(config, source)
    return LiveSource(panes.HOST, source.poll, config.host.interval, host.changes, _error(host.HostSnapshot),
                      close=source.close, origin=source)


def pods_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import pods

    kube = _kube_spec(config, ctx.kube_context)
    source = pods.PodsSource(kube, incident_started=ctx.incident_started)
    return LiveSource(panes.PODS, source.poll, kube.interval, pods.changes, _error(pods.PodsSnapshot),
                      start=source.start, close=source.close, origin=source)


def deploys_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import deploys

    repos = config.repos
    if not repos:
        root = _git_root(ctx.cwd or Path.cwd())
        repos = (RepoSpec(path=str(root)),) if root else ()
    source = deploys.DeploysSource(repos, incident_started=ctx.incident_started)
    interval = min((r.interval for r in repos), default=NO_SERVICES_POLL_S)
    return LiveSource(panes.DEPLOYS, source.poll, interval, deploys.changes, _error(deploys.DeploysSnapshot),
                      close=source.close, origin=source)


def _host_live(config: Any, host_source: Any) -> LiveSource:
    """This machine's source with the [[hosts]] attached (checks.node_exporter): they are followed
    on a loop thread of their own, each at its interval, and every local poll carries their newest
    snapshots, so a slow or dead host never holds up this machine's figures."""
    import asyncio

    from checks import host, node_exporter

    remote = node_exporter.RemoteHosts(config.hosts, config.host)
    loop = LoopThread("hosts")

    def start() -> None:
        asyncio.run_coroutine_threadsafe(remote.run(), loop.loop)

    def poll() -> Any:
        return node_exporter.combine(host_source.poll(), remote.latest())

    def close() -> None:
        host_source.close()
        loop.stop(remote.aclose())

    return LiveSource(panes.HOST, poll, config.host.interval, node_exporter.changes, _error(host.HostSnapshot),
                      start=start, close=close, origin=remote)


def alerts_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import alerts

    bound = LoopBound(panes.ALERTS, alerts.AlertsSource(config.alertmanager))
    return LiveSource(panes.ALERTS, bound.poll, config.alertmanager.interval, alerts.changes,
                      _error(alerts.AlertsSnapshot), close=bound.close, origin=bound)


def logs_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import logs

    group = logs.LogGroup(config.logs)
    return LiveSource(panes.LOGS, group.poll, group.interval, logs.changes, _error(logs.LogsSnapshot),
                      close=group.close, origin=group)


def metrics_source(config: Any, ctx: BuildContext) -> LiveSource:
    from checks import metrics

    bound = LoopBound(panes.METRICS, metrics.MetricsSource(config.prometheus, config.metrics,
                                                           incident_started=ctx.incident_started))
    return LiveSource(panes.METRICS, bound.poll, config.prometheus.interval, metrics.changes,
                      _error(metrics.MetricsSnapshot), close=bound.close, origin=bound)


def error_snapshot(pane: str, why: str) -> Any:
    """A snapshot that turns pane ``pane`` red with ``why`` (for sources that could not be
    built); None for a name that is no pane."""
    record = panes.pane(pane)
    return None if record is None else _error(record.snapshot_class())(why)
