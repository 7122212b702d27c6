"""The demo incident: a bad payments deploy, detected, rolled back, verified, resolved.

Everything is real and on loopback: HTTP services, a git repository, the
Kubernetes API stand-in read through the real client, and a store in a temporary
directory. Scripted scribe entries are written through a *second* store
connection, exactly as `warroom log` in another terminal would.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from checks.specs import HostSpec, KubeSpec, RepoSpec, ServiceSpec

from ..incident import review as rv
from ..incident.model import Incident, Kind, Phase, Severity, Status
from ..incident.store import Store
from . import pod_logs
from .services import DemoServices

if TYPE_CHECKING:
    from .kubeapi_standin import KubeApiStandin
    from .signals import SignalStandins

FIRST_FAILURE_S = 15.0      # scenario seconds until payments slows down
DEPLOY_BEFORE_FAILURE = timedelta(minutes=7)
IC, SCRIBE, ONCALL, COMMS = "alex", "sam", "priya", "jordan"
# Card payments began failing (the first declined-card errors) before support's reports made
# anyone declare: the postmortem's time to detect is this, not 00:00:00.
IMPACT_BEFORE_DECLARED = timedelta(minutes=2)


class ScenarioClock:
    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return (time.monotonic() - self.t0) * self.speed


def _git(repo: Path, *args: str, when: datetime | None = None, author: str = "Dana Dev <dana@example.com>") -> str:
    name, email = author.rsplit(" <", 1)
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email.rstrip(">"),
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email.rstrip(">"),
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if when is not None:
        stamp = f"{int(when.timestamp())} +0000"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def make_repo(path: Path, first_failure: datetime) -> Path:
    """A payments repo: ordinary history, then the deploy 7 minutes before the first failure."""
    path.mkdir(parents=True)
    _git(path, "init", "-q", "-b", "main")
    history = [
        (timedelta(days=3), "Add card-token service client", "Dana Dev <dana@example.com>"),
        (timedelta(days=2, hours=5), "Retry declined-card webhooks with jitter", "Lee Ops <lee@example.com>"),
        (timedelta(days=1, hours=3), "deploy payments v2.3.0", "Release Bot <release@example.com>"),
        (timedelta(hours=20), "Document the refund flow", "Dana Dev <dana@example.com>"),
        (timedelta(hours=6), "Cache card tokens in-process (behind flag)", "Kim Eng <kim@example.com>"),
        (timedelta(hours=3), "Enable card-token cache by default", "Kim Eng <kim@example.com>"),
    ]
    deploy_at = first_failure - DEPLOY_BEFORE_FAILURE
    for i, (ago, subject, author) in enumerate(history):
        when = deploy_at - ago
        (path / "CHANGELOG").write_text("\n".join(s for _, s, _ in history[: i + 1]) + "\n")
        _git(path, "add", "CHANGELOG", when=when, author=author)
        _git(path, "commit", "-q", "-m", subject, when=when, author=author)
        if subject.startswith("deploy "):
            _git(path, "tag", "deploy-payments-v2.3.0", when=when, author=author)
    (path / "VERSION").write_text("2.3.1\n")
    _git(path, "add", "VERSION", when=deploy_at)
    _git(path, "commit", "-q", "-m", "deploy payments v2.3.1", when=deploy_at, author="Release Bot <release@example.com>")
    _git(path, "tag", "deploy-payments-v2.3.1", when=deploy_at)
    return path


def deploy_fix(path: Path) -> None:
    """The permanent fix, deployed: the card-token cache bounded, payments v2.3.2."""
    (path / "VERSION").write_text("2.3.2\n")
    (path / "CHANGELOG").write_text((path / "CHANGELOG").read_text() + "Bound the card-token cache (LRU)\n")
    _git(path, "add", "VERSION", "CHANGELOG", author="Kim Eng <kim@example.com>")
    _git(path, "commit", "-q", "-m", "Bound the card-token cache (LRU, 50k entries)", author="Kim Eng <kim@example.com>")
    _git(path, "tag", "-a", "-m", "payments v2.3.2", "deploy-payments-v2.3.2", author="Release Bot <release@example.com>")


def roll_back_repo(path: Path) -> None:
    _git(path, "revert", "--no-edit", "HEAD", author="Priya Oncall <priya@example.com>")
    _git(path, "tag", "deploy-payments-v2.3.0-rollback", author="Priya Oncall <priya@example.com>")


# (namespace, deployment, replicas, containers, init containers)
WORKLOADS = [
    ("payments", "payments-api-7d9c8", 3, ("app", "envoy"), ("migrate",)),
    ("payments", "payments-worker-5f6b", 2, ("worker",), ()),
    ("payments", "ledger", 2, ("ledger",), ()),
    ("payments", "redis", 1, ("redis",), ()),
    ("edge", "api-gateway-6b7f", 4, ("gateway",), ()),
    ("edge", "auth-84c2", 3, ("auth",), ()),
    ("edge", "search-59d1", 4, ("search",), ()),
    ("edge", "web-7a3e", 4, ("web",), ()),
    ("edge", "ingress-nginx-controller", 2, ("controller",), ()),
]
SUFFIXES = ["x7k2p", "b9q4m", "h3n8d", "t6v1c", "w2r5j", "k8m3s"]
CRASHER = ("payments", "payments-api-7d9c8-x7k2p")
OOM = ("payments", "payments-worker-5f6b-x7k2p")


def populate_pods(standin, now: datetime) -> None:
    for n, (ns, deployment, replicas, containers, inits) in enumerate(WORKLOADS):
        for i in range(replicas):
            name = deployment if replicas == 1 and "-" not in deployment[-6:] else f"{deployment}-{SUFFIXES[i]}"
            if deployment in ("ledger", "redis"):
                name = f"{deployment}-{i}"
            owner = demo_deployment(deployment)
            if owner is not None and i == 0:
                try:
                    standin.add_deployment(ns, owner, replicas=replicas)     # `X` in the demo: restart, scale
                except ValueError:      # populated before (the same stand-in)
                    pass
            standin.add_pod(ns, name, containers=containers, init_containers=inits, node=f"node-{(n + i) % 4 + 1}",
                            created=now - timedelta(days=2, hours=n, minutes=i * 7),
                            labels={"app": deployment.split("-")[0]}, owner=owner)
            for container in containers:     # what `l` shows (tui/demo/pod_logs.py)
                pod_logs.started(standin, ns, name, container, f"registry.local/{container}:1", now - timedelta(hours=1))


def demo_deployment(workload: str) -> str | None:
    """The Deployment a demo workload's pods belong to (its name without the template hash);
    None for the stateful ones (ledger, redis), whose pods have no Deployment."""
    if workload in ("ledger", "redis"):
        return None
    head, _, tail = workload.rpartition("-")
    return head if head and len(tail) in (4, 5) and all(c in "0123456789abcdef" for c in tail) else workload


class Scenario:
    """Drives the services, pods, repo and scripted entries along scenario time."""

    def __init__(self, speed: float, store_dir: Path, incident_id: int, repo: Path, standin,
                 clock: ScenarioClock) -> None:
        self.speed, self.store_dir, self.incident_id = speed, store_dir, incident_id
        self.repo, self.standin, self.clock = repo, standin, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-scenario", daemon=True)
        self.done = threading.Event()
        self.errors: list[str] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def steps(self, store: Store) -> list[tuple[float, Callable[[], object]]]:
        inc, s = self.incident_id, self.standin

        def log(kind: Kind, author: str, text: str) -> Callable[[], object]:
            return lambda: store.append(inc, kind, text, author=author, source="demo")

        def check(phase: Phase, *indexes: int, who: str = IC) -> Callable[[], object]:
            return lambda: [store.toggle_check(inc, phase, i, author=who, source="demo") for i in indexes]

        def crash(then: str | None = "CrashLoopBackOff") -> Callable[[], object]:
            def step() -> None:
                pod_logs.before_crash(s, *CRASHER)
                s.restart_container(*CRASHER, "app", reason="Error", exit_code=1, then=then)

            return step

        def oom() -> None:
            pod_logs.before_oom(s, *OOM)
            s.restart_container(*OOM, "worker", reason="OOMKilled", exit_code=137)

        def review(build: Callable[[], tuple], who: str = IC) -> Callable[[], object]:
            """A `warroom set`/`mark` entry for the postmortem (tui/incident/review.py)."""
            def go() -> object:
                kind, text, meta, *at = build()
                return store.append(inc, kind, text, author=who, source="demo", meta=meta, ts=at[0] if at else None)
            return go

        def mark(name: str) -> Callable[[], object]:
            def build() -> tuple:
                now = store.now()
                return (*rv.milestone_entry(name, now), now)
            return review(build)

        def action_item(starts: str, owner: str, priority: str, days: int) -> Callable[[], object]:
            def build() -> tuple:
                todo = next(e for e in store.timeline(inc) if e.kind is Kind.TODO and e.text.startswith(starts))
                due = (store.incident(inc).started_at + timedelta(days=days)).date()
                return rv.action_item_entry(todo, owner=owner, priority=priority, due=due)
            return review(build)

        def rollback_pods() -> None:
            s.delete_pod(*CRASHER)
            s.add_pod("payments", "payments-api-6c4b1-r8t2w", containers=("app", "envoy"), init_containers=("migrate",),
                      node="node-3", labels={"app": "payments"}, owner="payments-api")
            for container in ("app", "envoy"):
                pod_logs.started(s, "payments", "payments-api-6c4b1-r8t2w", container, f"registry.local/{container}:1")

        return [
            (3, log(Kind.NOTE, SCRIBE, "Support: customers report failed card payments at checkout")),
            (6, lambda: store.set_role(inc, "scribe", SCRIBE, author=IC, source="demo")),
            (8, log(Kind.ACTION, IC, "Paged the payments on-call (priya)")),
            (9, mark("notified")),
            (10, check(Phase.TRIAGE, 0, 5)),
            (20, crash(then=None)),
            (27, crash()),
            (30, log(Kind.FINDING, ONCALL, "payments returns 503; payments-api pods crash-looping since the v2.3.1 deploy")),
            (33, check(Phase.TRIAGE, 1, 2, 3)),
            (34, review(lambda: rv.impact_entry(users="~30% of card checkouts (EU and US)",
                                                revenue="~$6k of orders failing per minute"))),
            (35, crash()),
            (36, lambda: store.set_status(inc, Status.IDENTIFIED, author=IC, source="demo")),
            (38, log(Kind.DECISION, IC, "Roll back payments to v2.3.0 (suspect deploy 7 min before first failure)")),
            (40, oom),
            (42, lambda: store.set_phase(inc, Phase.MITIGATE, author=IC, source="demo")),
            (44, lambda: store.record_update_sent(
                inc, "Status page: we are investigating failed card payments at checkout", author=COMMS, source="demo")),
            (45, check(Phase.TRIAGE, 4, who=COMMS)),
            (46, crash()),
            (50, log(Kind.ACTION, ONCALL, "Rollback to v2.3.0 started")),
            (50, lambda: store.set_status(inc, Status.MITIGATING, author=IC, source="demo")),
            (52, lambda: roll_back_repo(self.repo)),
            (55, check(Phase.MITIGATE, 0)),
            (62, rollback_pods),
            (64, log(Kind.MITIGATION, ONCALL, "Rollback complete: payments v2.3.0 serving, error rate falling")),
            (65, check(Phase.MITIGATE, 1, 2)),
            (66, lambda: store.set_status(inc, Status.MONITORING, author=IC, source="demo")),
            (67, lambda: store.set_phase(inc, Phase.INVESTIGATE, author=IC, source="demo")),
            (68, log(Kind.NOTE, ONCALL, "payments-worker memory climbed to the limit before each OOMKilled")),
            (69, check(Phase.INVESTIGATE, 0, who=ONCALL)),
            (70, check(Phase.INVESTIGATE, 1, who=SCRIBE)),
            (72, log(Kind.FINDING, ONCALL, "v2.3.1 card-token cache grows without bound under peak load (OOMKilled)")),
            (72, mark("root-cause")),
            (73, check(Phase.INVESTIGATE, 2, who=ONCALL)),
            (74, check(Phase.INVESTIGATE, 3, who=ONCALL)),
            (75, review(lambda: rv.factor_entry("The card-token cache was enabled by default with no size bound"))),
            (75, review(lambda: rv.factor_entry("No memory alert on payments-worker: the OOM kills were the first sign"))),
            (76, review(lambda: rv.factor_entry("The v2.3.1 deploy had no canary stage for payments"))),
            (77, lambda: store.set_phase(inc, Phase.RESOLVE, author=IC, source="demo")),
            (78, log(Kind.DECISION, IC, "Permanent fix: bound the card-token cache (LRU, 50k entries) in v2.3.2")),
            (79, check(Phase.RESOLVE, 0)),
            (82, log(Kind.ACTION, ONCALL, "v2.3.2 load-tested in staging at 2x peak: worker memory flat")),
            (83, check(Phase.RESOLVE, 1, who=ONCALL)),
            (85, lambda: deploy_fix(self.repo)),
            (86, log(Kind.ACTION, ONCALL, "Deployed payments v2.3.2 (cache bounded); watching worker memory")),
            (86, mark("fix-deployed")),
            (87, check(Phase.RESOLVE, 2, who=ONCALL)),
            (88, review(lambda: rv.resolution_entry(
                mitigation="Rolled payments back to v2.3.0, which has no card-token cache",
                fix="payments v2.3.2 bounds the card-token cache (LRU, 50k entries), load-tested at 2x peak"))),
            (89, lambda: store.set_phase(inc, Phase.VERIFY, author=IC, source="demo")),
            (90, log(Kind.COMMS, COMMS, "Status page: a fix is in place, monitoring")),
            (92, check(Phase.VERIFY, 0, 1)),
            (96, check(Phase.VERIFY, 2, 3)),
            (100, log(Kind.TODO, SCRIBE, "Add a memory-limit alert for payments-worker @priya")),
            (102, log(Kind.TODO, SCRIBE, "Load-test the card-token cache before re-enabling @kim")),
            (104, review(lambda: rv.impact_entry(data_loss=False, sla_breach=True))),
            (106, action_item("Add a memory-limit alert", "@priya", "P1", 7)),
            (107, action_item("Load-test the card-token cache", "@kim", "P2", 14)),
            (110, lambda: store.set_status(inc, Status.RESOLVED, author=IC, source="demo")),
            (112, log(Kind.COMMS, COMMS, "Resolved: checkout fully recovered; postmortem to follow")),
            (115, lambda: store.set_phase(inc, Phase.POSTMORTEM, author=IC, source="demo")),
        ]

    def _run(self) -> None:
        # Its own connection: the dashboard sees these like another process's writes.
        with Store(self.store_dir) as store:
            for at, step in self.steps(store):
                while not self._stop.is_set() and self.clock() < at:
                    # Asleep until the step is due (stop() wakes it): not a 10 Hz poll for two minutes.
                    self._stop.wait(max(0.005, (at - self.clock()) / self.speed))
                if self._stop.is_set():
                    return
                try:
                    step()
                except Exception as exc:  # a broken step is reported, the demo goes on
                    self.errors.append(f"t={at}: {type(exc).__name__}: {exc}")
        self.done.set()


# The whole scenario in well under a second; faster only garbles the timeline.
MAX_SPEED = 1000


class Demo:
    """Starts every moving part; ``stop()`` removes all of it, temp directories included."""

    def __init__(self, speed: float = 1.0, data_dir: str | None = None) -> None:
        if not 0 < speed <= MAX_SPEED:     # also refuses nan and inf
            raise ValueError(f"--speed must be above 0 and at most {MAX_SPEED}, got {speed:g} — e.g. --speed 10")
        self.speed = speed
        self.tmp = Path(tempfile.mkdtemp(prefix="warroom-demo-"))
        self.data_dir = Path(data_dir).expanduser() if data_dir else self.tmp / "data"
        self.clock = ScenarioClock(speed)
        self.services: DemoServices | None = None
        self.standin: KubeApiStandin | None = None
        self.signals: SignalStandins | None = None  # the demo's Alertmanager and Prometheus (tui/demo/signals.py)
        self.scenario: Scenario | None = None
        self.store: Store | None = None
        self.incident: Incident | None = None

    def start(self) -> "Demo":
        from .kubeapi_standin import KubeApiStandin

        try:
            now = datetime.now(timezone.utc)
            first_failure = now + timedelta(seconds=FIRST_FAILURE_S / self.speed)
            self.repo = make_repo(self.tmp / "payments", first_failure)
            self.services = DemoServices(self.clock).start()
            from .signals import SignalStandins

            self.signals = SignalStandins(self.clock, self.speed, now).start()
            self.standin = KubeApiStandin(poll_interval=0.5, hangup_check_s=1.0).start()
            populate_pods(self.standin, now)
            self.kubeconfig = self.standin.write_kubeconfig(self.tmp / "kubeconfig", context="demo-cluster",
                                                            namespace="payments")
            self.store = Store(self.data_dir)
            self.incident = self.store.declare(
                "Checkout failures: card payments erroring", Severity.SEV2, author=IC, source="demo",
                roles={"commander": IC, "comms": COMMS}, demo=True, started_at=now - IMPACT_BEFORE_DECLARED)
            self.scenario = Scenario(self.speed, self.data_dir, self.incident.id, self.repo, self.standin, self.clock)
            self.scenario.start()
        except BaseException:
            self.stop()
            raise
        return self

    def config(self):
        from ..config import Config

        assert self.services is not None, "start() the demo first"
        assert self.signals is not None, "start() the demo first"
        interval = max(0.2, 2.0 / self.speed)
        services = tuple(
            ServiceSpec(name=name, url=url, interval=interval, timeout=2.0, degraded_ms=800,
                        json_field="status" if name == "web" else None, json_equals="ok" if name == "web" else None)
            for name, url in self.services.urls().items()
        )
        return Config(
            services=services,
            host=HostSpec(interval=1.0),
            kubernetes=KubeSpec(kubeconfig=self.kubeconfig, namespaces=("payments", "edge"),
                                interval=max(0.2, 1.0 / self.speed)),
            repos=(RepoSpec(path=str(self.repo), branch="main", interval=max(0.5, 5.0 / self.speed)),),
            **self.signals.config(interval),
        )

    def stop(self) -> None:
        if self.scenario is not None:
            self.scenario.stop()
        if self.services is not None:
            self.services.stop()
        if self.signals is not None:
            self.signals.stop()
        if self.standin is not None:
            self.standin.stop()
        if self.store is not None:
            self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
