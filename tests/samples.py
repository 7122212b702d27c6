"""Deterministic sample snapshots of a "payments" incident, for screen tests and screenshots.

Everything is fixed relative to ``FIXED_NOW`` (2026-11-21 14:30 UTC) and tells one
story, consistent with ``seed_incident`` (declared 14:05, "Roll back payments to
v2.3.0" at 14:14): ``deploy payments v2.3.1`` landed at 13:58 and rolled new
payments-api pods; from 14:04 payments answers HTTP 503, one new pod crash-loops,
a worker was OOM-killed, search is slow, and the database host is short of memory.

The snapshots are built directly (no httpx, psutil, kubernetes or git), using the
checks' own pure helpers for levels and summaries so they read exactly like live ones.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from checks.base import Level
from checks.deploys import Deploy, DeploysSnapshot, RepoDeploys, mark_deploys
from checks.deploys import summarize as summarize_deploys
from checks.health import HealthSnapshot, ServiceStatus, State
from checks.health import summarize as summarize_health
from checks.host import DiskUsage, HostSnapshot, IoRates, ProcInfo, assess, gauge, level_for
from checks.pods import PodsSnapshot, PodStatus
from tui.app import WarroomApp
from tui.incident.store import Store
from tui.messages import SnapshotReady

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .pilot_wait import screen_ready, wait_for

__all__ = [
    "INCIDENT_STARTED",
    "PANE_ORDER",
    "deploys_snapshot",
    "feed_samples",
    "health_snapshot",
    "host_snapshot",
    "pods_snapshot",
    "sample_app",
    "sample_panes",
    "sample_snapshots",
]

INCIDENT_STARTED = FIXED_NOW - timedelta(minutes=25)     # what seed_incident declares: 14:05
FIRST_FAILURE = datetime(2026, 11, 21, 14, 4, 12, tzinfo=FIXED_NOW.tzinfo)
PANE_ORDER = ("health", "host", "pods", "deploys")       # the order tui/sources.py builds them in

GIB = 1024 ** 3
MIB = 1024 ** 2


def _at(hour: int, minute: int, second: int = 0, *, days_ago: int = 0) -> datetime:
    return FIXED_NOW.replace(hour=hour, minute=minute, second=second) - timedelta(days=days_ago)


# ------------------------------------------------------------------ health

def _service(name: str, state: State, reason: str, code: int | None, history: tuple[float | None, ...], *,
             fails: int = 0, since: datetime, checked_ago_s: int = 2) -> ServiceStatus:
    return ServiceStatus(
        name=name, url=f"https://{name}.internal/healthz", state=state, reason=reason, status_code=code,
        latency_ms=history[-1] if history else None, history=history, consecutive_failures=fails,
        since=since, checked_at=FIXED_NOW - timedelta(seconds=checked_ago_s),
    )


def health_snapshot() -> HealthSnapshot:
    """Six services: payments DOWN (HTTP 503, latency climbing), search DEGRADED, the rest UP."""
    services = (
        _service("payments", State.DOWN, "HTTP 503", 503,
                 (118.0, 124.0, 131.0, 420.0, 1850.0, 4210.0, 3980.0, 4420.0, 4096.0, 3870.0),
                 fails=31, since=FIRST_FAILURE),
        _service("search", State.DEGRADED, "slow: 1240 ms > 800 ms", 200,
                 (210.0, 230.0, 260.0, 540.0, 910.0, 1130.0, 1020.0, 1240.0),
                 since=_at(14, 21, 40)),
        _service("checkout", State.UP, "HTTP 200", 200,
                 (88.0, 92.0, 95.0, 110.0, 140.0, 131.0, 97.0, 94.0), since=_at(14, 12, 5)),
        _service("auth", State.UP, "HTTP 200", 200,
                 (31.0, 29.0, 33.0, 30.0, 35.0, 32.0, 30.0, 31.0), since=_at(9, 12, 0, days_ago=2)),
        _service("ledger", State.UP, "HTTP 204", 204,
                 (44.0, 47.0, 52.0, 49.0, 61.0, 58.0, 50.0, 46.0), since=_at(22, 40, 0, days_ago=1)),
        _service("notifications", State.UP, "HTTP 200", 200,
                 (65.0, 70.0, 68.0, 72.0, 66.0, 69.0, 71.0, 67.0), since=_at(3, 15, 0)),
    )
    level, summary = summarize_health(services)
    return HealthSnapshot(taken_at=FIXED_NOW, level=level, summary=summary, services=services)


# ------------------------------------------------------------------ host

def host_snapshot() -> HostSnapshot:
    """The payments database host: memory and the data disk over their warning thresholds."""
    thresholds = (85.0, 95.0)
    cpu = gauge("cpu", 78.4, thresholds)
    memory = gauge("memory", 91.2, thresholds, used=int(58.4 * GIB), total=64 * GIB)
    swap = gauge("swap", 12.5, thresholds, used=1 * GIB, total=8 * GIB)

    def disk(mount: str, used_gib: float, total_gib: float, device: str, fstype: str) -> DiskUsage:
        percent = round(used_gib / total_gib * 100, 1)
        return DiskUsage(mount, percent, level_for(percent, thresholds), *thresholds,
                         used=int(used_gib * GIB), total=int(total_gib * GIB), device=device, fstype=fstype)

    disks = (
        disk("/", 28.9, 50.0, "/dev/nvme0n1p1", "ext4"),
        disk("/var/lib/postgresql", 1710.0, 2000.0, "/dev/nvme1n1", "xfs"),
        disk("/var/log", 14.2, 40.0, "/dev/nvme0n1p3", "ext4"),
    )
    per_cpu = (92.0, 88.0, 71.0, 95.0, 64.0, 83.0, 77.0, 90.0, 58.0, 81.0, 69.0, 86.0, 74.0, 79.0, 66.0, 61.0)
    top_cpu = (
        ProcInfo(4121, "postgres: payments [local] SELECT", 187.5, int(3.1 * GIB), 4.8, "postgres"),
        ProcInfo(4188, "postgres: payments [local] UPDATE", 142.0, int(2.7 * GIB), 4.2, "postgres"),
        ProcInfo(1893, "pgbouncer", 61.3, 48 * MIB, 0.1, "pgbouncer"),
        ProcInfo(3977, "postgres: autovacuum worker", 38.9, int(1.2 * GIB), 1.9, "postgres"),
        ProcInfo(912, "node_exporter", 2.1, 31 * MIB, 0.0, "prometheus"),
    )
    top_memory = (
        ProcInfo(3310, "postgres: checkpointer", 4.2, int(16.4 * GIB), 25.6, "postgres"),
        ProcInfo(4121, "postgres: payments [local] SELECT", 187.5, int(3.1 * GIB), 4.8, "postgres"),
        ProcInfo(4188, "postgres: payments [local] UPDATE", 142.0, int(2.7 * GIB), 4.2, "postgres"),
        ProcInfo(3977, "postgres: autovacuum worker", 38.9, int(1.2 * GIB), 1.9, "postgres"),
        ProcInfo(1402, "filebeat", 1.8, 412 * MIB, 0.6, "root"),
    )
    level, summary = assess(cpu, memory, swap, disks)
    return HostSnapshot(
        taken_at=FIXED_NOW, level=level, summary=summary, hostname="db-prod-1.internal",
        cpu=cpu, per_cpu=per_cpu, cpu_count=len(per_cpu), load=(14.82, 12.37, 8.05),
        memory=memory, swap=swap, disks=disks,
        io=IoRates(disk_read=182.4 * MIB, disk_write=96.7 * MIB, net_recv=41.3 * MIB, net_sent=57.9 * MIB),
        top_cpu=top_cpu, top_memory=top_memory,
    )


# ------------------------------------------------------------------ pods

def _pod(namespace: str, name: str, node: str, created: datetime, *, status: str = "Running",
         ready: tuple[int, int] = (1, 1), restarts: int = 0, since_incident: int = 0,
         last: tuple[str, datetime] | None = None, waiting: str | None = None,
         level: Level = Level.OK) -> PodStatus:
    return PodStatus(
        namespace=namespace, name=name, phase="Running", status=status,
        ready=f"{ready[0]}/{ready[1]}", ready_containers=ready[0], total_containers=ready[1],
        restarts=restarts, restarts_since_incident=since_incident,
        last_termination_reason=last[0] if last else None, last_termination_at=last[1] if last else None,
        waiting_reason=waiting, node=node, created_at=created, level=level, uid=f"uid-{namespace}-{name}",
    )


def pods_snapshot() -> PodsSnapshot:
    """Twenty pods in payments and edge: one crash-looping (+7 since the incident), one OOM-killed."""
    rollout = _at(13, 58, 40)          # the pods deploy v2.3.1 rolled
    days = lambda n, h=0: FIXED_NOW - timedelta(days=n, hours=h)  # noqa: E731
    pods = [
        _pod("payments", "payments-api-6f7d9c5b8-x2x9k", "prod-eu-node-3", rollout, status="CrashLoopBackOff",
             ready=(0, 1), restarts=8, since_incident=7, last=("Error", _at(14, 28, 51)),
             waiting="CrashLoopBackOff", level=Level.CRIT),
        _pod("payments", "payments-worker-85c4d7f9d-qm4tz", "prod-eu-node-2", days(2, 5),
             ready=(1, 1), restarts=3, since_incident=1, last=("OOMKilled", _at(14, 24, 37)), level=Level.CRIT),
        _pod("payments", "payments-api-6f7d9c5b8-4hv7n", "prod-eu-node-1", rollout, restarts=0),
        _pod("payments", "payments-api-6f7d9c5b8-b8w2r", "prod-eu-node-2", rollout, restarts=0),
        _pod("payments", "payments-api-6f7d9c5b8-t5zcl", "prod-eu-node-4", rollout, restarts=0),
        _pod("payments", "payments-worker-85c4d7f9d-7kq2p", "prod-eu-node-4", days(2, 5)),
        _pod("payments", "payments-scheduler-5b9f6d4c7-lx8mn", "prod-eu-node-1", days(6, 2)),
        _pod("payments", "pgbouncer-0", "prod-eu-node-3", days(18), restarts=1,
             last=("Error", days(11, 4))),
        _pod("payments", "pgbouncer-1", "prod-eu-node-4", days(18)),
        _pod("payments", "ledger-sync-7c6b8d9f5-pq3rt", "prod-eu-node-2", days(4, 9), ready=(2, 2)),
        _pod("edge", "ingress-nginx-controller-6d8f7b9c4-2mkwd", "prod-eu-node-1", days(9, 3)),
        _pod("edge", "ingress-nginx-controller-6d8f7b9c4-9rtzv", "prod-eu-node-2", days(9, 3)),
        _pod("edge", "ingress-nginx-controller-6d8f7b9c4-kq7hx", "prod-eu-node-3", days(9, 3)),
        _pod("edge", "edge-gateway-74c9b8d6f5-f4np2", "prod-eu-node-1", days(1, 6), ready=(2, 2)),
        _pod("edge", "edge-gateway-74c9b8d6f5-jw6zs", "prod-eu-node-3", days(1, 6), ready=(2, 2)),
        _pod("edge", "edge-gateway-74c9b8d6f5-v8lcq", "prod-eu-node-4", days(1, 6), ready=(2, 2)),
        _pod("edge", "rate-limiter-5f7c9d8b6-hm2xk", "prod-eu-node-2", days(3, 1)),
        _pod("edge", "rate-limiter-5f7c9d8b6-zn4ws", "prod-eu-node-4", days(3, 1)),
        _pod("edge", "redis-edge-0", "prod-eu-node-1", days(27), restarts=2, last=("Error", days(20))),
        _pod("edge", "external-dns-6b7d5c9f8-s3vtk", "prod-eu-node-3", days(27)),
    ]
    # The check's own order: most restarts since the incident first, then worst, then by name.
    pods.sort(key=lambda p: (-p.restarts_since_incident, -int(p.level), p.namespace, p.name))
    bad = [p for p in pods if p.level >= Level.WARN]
    level = max((p.level for p in pods), default=Level.OK)
    summary = f"{pods[0].name} CrashLoopBackOff · +{pods[0].restarts_since_incident} restarts · {len(bad) - 1} more"
    return PodsSnapshot(
        taken_at=FIXED_NOW, level=level, summary=summary, pods=tuple(pods), total=len(pods),
        not_ready=sum(1 for p in pods if not p.is_ready),
        crashlooping=sum(1 for p in pods if p.waiting_reason == "CrashLoopBackOff"),
        context="prod-eu", namespaces=("payments", "edge"), connection="watching", synced=True,
        incident_started=INCIDENT_STARTED,
    )


# ------------------------------------------------------------------ deploys

def _deploy(when: datetime, author: str, subject: str, *, tag: str | None = None, merge: bool = False) -> Deploy:
    sha = hashlib.sha1(f"{when.isoformat()} {subject}".encode()).hexdigest()
    return Deploy(sha=sha, short_sha=sha[:7], when=when, author=author, subject=subject, tag=tag, merge=merge)


def deploys_snapshot() -> DeploysSnapshot:
    """One repo, eight deploys on main: v2.3.1 suspect (7 min before the incident), a revert during it."""
    raw = (
        _deploy(_at(14, 18, 22), "Carol Ortiz", 'Revert "deploy payments v2.3.1"', merge=False),
        _deploy(_at(13, 58, 0), "Dana Dev", "deploy payments v2.3.1", tag="v2.3.1", merge=True),
        _deploy(_at(11, 41, 9), "Erin Park", "Bump httpx to 0.28.1"),
        _deploy(_at(17, 22, 45, days_ago=1), "Dana Dev", "deploy payments v2.3.0", tag="v2.3.0", merge=True),
        _deploy(_at(15, 3, 12, days_ago=1), "Frank Li", "Retry idempotent ledger writes on 409"),
        _deploy(_at(10, 47, 30, days_ago=1), "Erin Park", "Add p99 latency histogram to /metrics"),
        _deploy(_at(16, 30, 2, days_ago=3), "Dana Dev", "deploy payments v2.2.9", tag="v2.2.9", merge=True),
        _deploy(_at(9, 12, 48, days_ago=4), "Grace Kim", "Connection pool: max 40 per pod (was 20)"),
    )
    deploys = mark_deploys(raw, INCIDENT_STARTED, 120)
    repo = RepoDeploys(name="payments", path="~/src/payments", ref="main", deploys=deploys)
    level, summary, error = summarize_deploys((repo,), FIXED_NOW, "incident")
    return DeploysSnapshot(taken_at=FIXED_NOW, level=level, summary=summary, error=error, repos=(repo,),
                           reference=INCIDENT_STARTED, reference_kind="incident")


def sample_snapshots() -> dict[str, object]:
    """Source name -> snapshot, in the dashboard's pane order."""
    return {"health": health_snapshot(), "host": host_snapshot(),
            "pods": pods_snapshot(), "deploys": deploys_snapshot()}


# ------------------------------------------------------------------ the app

def sample_panes() -> dict:
    """The real pane widgets, keyed and ordered as ``tui.sources.build_live`` makes them."""
    from widgets.deploys import DeploysPane
    from widgets.health import HealthPane
    from widgets.host import HostPane
    from widgets.pods import PodsPane

    return {"health": HealthPane(), "host": HostPane(), "pods": PodsPane(), "deploys": DeploysPane()}


def sample_app(store: Store, *, author: str = "bob", **options) -> WarroomApp:
    """A dashboard on the seeded incident with the real panes and no live sources.

    Without sources nothing polls, so what is on screen is exactly what
    :func:`feed_samples` posts. ``options`` go to :class:`WarroomApp` as they are.
    """
    incident = seed_incident(store)
    return WarroomApp(store, incident.id, sources=[], panes=sample_panes(), clock=fixed_clock,
                      author=author, **options)


async def feed_samples(pilot) -> None:  # noqa: ANN001 - textual.pilot.Pilot
    """Post the four sample snapshots to the dashboard, as the scheduler would, and let them render."""
    from tui.screens.dashboard import Dashboard

    app = pilot.app
    # the dashboard is pushed from App.on_mount: normally there already
    if not await wait_for(pilot, lambda: screen_ready(app, Dashboard)):
        raise RuntimeError("the dashboard screen never came up")
    screen = app.screen
    for source, snapshot in sample_snapshots().items():
        screen.post_message(SnapshotReady(source, snapshot, 0.0))
    await pilot.pause()
    # A second pause: panes that size their columns on Resize re-render once laid out.
    await pilot.pause()
