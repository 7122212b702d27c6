"""Pods source against the local API stand-in, with the real kubernetes client.

Every wait is a bounded poll on a condition (``wait_for``), never a fixed sleep.
"""
from __future__ import annotations

import dataclasses
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult
from textual.content import Content
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from checks.base import Level
from checks.pods import NO_KUBECONFIG, PodsSnapshot, PodsSource, PodStatus, _sort_key, changes
from checks.specs import KubeSpec
from tui.demo.kubeapi_standin import KubeApiStandin
from widgets.pods import PodsPane, human_age

TOKEN = "s3cret-token"
FAST = (0.05, 0.3)   # backoff for tests: retries come quickly


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.02, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture(autouse=True)
def no_user_kubeconfig(tmp_path, monkeypatch):
    # Never read the developer's own ~/.kube/config.
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))


@pytest.fixture
def standin():
    with KubeApiStandin(token=TOKEN) as s:
        yield s


@pytest.fixture
def kubeconfig(standin, tmp_path) -> str:
    return standin.write_kubeconfig(tmp_path / "config", namespace="default")


@pytest.fixture
def make_source():
    sources: list[PodsSource] = []

    def make(spec: KubeSpec, **kwargs) -> PodsSource:
        kwargs.setdefault("backoff", FAST)
        src = PodsSource(spec, **kwargs)
        sources.append(src)
        src.start()
        return src

    yield make
    for src in sources:
        src.close()


def synced(src: PodsSource) -> PodsSnapshot:
    return wait_for(lambda: (s := src.poll()).synced and s.error is None and s, what="first sync")


def pod(snap: PodsSnapshot, name: str, namespace: str = "default") -> PodStatus | None:
    return next((p for p in snap.pods if p.name == name and p.namespace == namespace), None)


def pod_where(src: PodsSource, name: str, cond, namespace: str = "default") -> PodStatus:
    def check():
        p = pod(src.poll(), name, namespace)
        return p if p is not None and cond(p) else None
    return wait_for(check, what=f"pod {name} condition")


# --------------------------------------------------------------------------- list + watch
def test_pods_listed_then_watched(standin, kubeconfig, make_source):
    standin.add_pod("default", "web-1")
    standin.add_pod("default", "web-2")
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    snap = synced(src)
    assert [p.name for p in snap.pods] == ["web-1", "web-2"]
    assert snap.context == "standin" and snap.namespaces == ("default",)
    assert snap.connection == "watching" and snap.level == Level.OK
    assert snap.summary == "2 pods, all ready"
    assert (snap.total, snap.not_ready, snap.crashlooping) == (2, 0, 0)
    p = snap.pods[0]
    assert (p.ready, p.phase, p.status, p.node, p.restarts) == ("1/1", "Running", "Running", "node-1", 0)

    standin.restart_container("default", "web-2")
    p = pod_where(src, "web-2", lambda p: p.restarts == 1)
    assert p.restarts_since_incident == 1 and p.level == Level.WARN
    snap = src.poll()
    assert snap.pods[0].name == "web-2"          # most restarts since the incident first
    assert snap.summary.startswith("web-2") and "+1 restart" in snap.summary

    standin.add_pod("default", "web-3")
    pod_where(src, "web-3", lambda p: True)
    standin.delete_pod("default", "web-1")
    wait_for(lambda: pod(src.poll(), "web-1") is None, what="web-1 deleted")
    assert standin.requests["list"] == 1          # all of that came through the watch


def test_init_container_restarts_are_summed(standin, kubeconfig, make_source):
    standin.add_pod("default", "api-1", containers=("app", "sidecar"), init_containers=("migrate",))
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    synced(src)
    standin.restart_container("default", "api-1", "migrate", init=True)
    standin.restart_container("default", "api-1", "migrate", init=True)
    standin.restart_container("default", "api-1", "sidecar")
    p = pod_where(src, "api-1", lambda p: p.restarts == 3)
    assert p.restarts_since_incident == 3
    assert p.ready == "2/2"


def test_crashloop_and_image_pull_waiting_reasons(standin, kubeconfig, make_source):
    standin.add_pod("default", "payments-7d9c-abc")
    standin.add_pod("default", "edge-1")
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    synced(src)
    for _ in range(5):
        standin.restart_container("default", "payments-7d9c-abc", then="CrashLoopBackOff")
    p = pod_where(src, "payments-7d9c-abc", lambda p: p.restarts == 5)
    assert p.waiting_reason == "CrashLoopBackOff" and p.status == "CrashLoopBackOff"
    assert p.level == Level.CRIT and p.ready == "0/1"
    snap = src.poll()
    assert snap.level == Level.CRIT and snap.crashlooping == 1 and snap.not_ready == 1
    assert snap.summary == "payments-7d9c-abc CrashLoopBackOff · +5 restarts"

    standin.set_waiting("default", "edge-1", "ImagePullBackOff")
    p = pod_where(src, "edge-1", lambda p: p.waiting_reason == "ImagePullBackOff")
    assert p.level == Level.CRIT and p.restarts == 0


def test_oomkilled_last_termination(standin, kubeconfig, make_source):
    finished = now().replace(microsecond=0) - timedelta(seconds=30)
    standin.add_pod("default", "worker-1")
    # An OOM kill long before: shown as the last termination, but not CRIT any more.
    old = now().replace(microsecond=0) - timedelta(hours=3)
    standin.add_pod("default", "worker-2", restarts=2, created=old - timedelta(days=1),
                    last_termination=("OOMKilled", old))
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    snap = synced(src)
    w2 = pod(snap, "worker-2")
    assert (w2.last_termination_reason, w2.last_termination_at) == ("OOMKilled", old)
    assert w2.level == Level.OK and w2.restarts_since_incident == 0

    standin.restart_container("default", "worker-1", reason="OOMKilled", finished_at=finished)
    p = pod_where(src, "worker-1", lambda p: p.restarts == 1)
    assert (p.last_termination_reason, p.last_termination_at) == ("OOMKilled", finished)
    assert p.level == Level.CRIT   # recent OOM kill, even though it runs again
    assert p.is_ready


def test_restarts_since_incident_start(standin, kubeconfig, make_source):
    t0 = now().replace(microsecond=0)
    incident = t0 - timedelta(minutes=10)
    long_ago = t0 - timedelta(days=2)
    # Last restart before the incident: none of its restarts count.
    standin.add_pod("default", "before", restarts=4, created=long_ago,
                    last_termination=("Error", t0 - timedelta(minutes=30)))
    # Last restart after the incident started: at least that one counts.
    standin.add_pod("default", "during", restarts=4, created=long_ago,
                    last_termination=("Error", t0 - timedelta(minutes=2)))
    # Created after the incident started: all of its restarts count.
    standin.add_pod("default", "young", restarts=2, created=t0 - timedelta(minutes=5),
                    last_termination=("Error", t0 - timedelta(minutes=1)))
    # No termination record: counted from first sight.
    standin.add_pod("default", "unknown", restarts=3, created=long_ago)
    src = make_source(KubeSpec(kubeconfig=kubeconfig), incident_started=incident)
    snap = synced(src)
    since = {p.name: p.restarts_since_incident for p in snap.pods}
    assert since == {"before": 0, "during": 1, "young": 2, "unknown": 0}
    assert [p.name for p in snap.pods[:2]] == ["young", "during"]
    assert snap.incident_started == incident

    standin.restart_container("default", "unknown")
    standin.restart_container("default", "before")
    pod_where(src, "before", lambda p: p.restarts == 5 and p.restarts_since_incident == 1)
    pod_where(src, "unknown", lambda p: p.restarts == 4 and p.restarts_since_incident == 1)

    # Declared later: the baselines are judged again from what was first seen.
    src.set_incident_started(t0 - timedelta(hours=1))
    snap = src.poll()
    assert pod(snap, "before").restarts_since_incident == 2   # its t0-30m restart now counts too


# --------------------------------------------------------------------------- watch failures
def test_dropped_watch_resumes_without_relist(standin, kubeconfig, make_source):
    standin.add_pod("default", "web-1")
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    synced(src)
    wait_for(lambda: standin.open_watches == 1, what="watch open")
    watches = standin.requests["watch"]
    assert standin.drop_watches() == 1
    standin.restart_container("default", "web-1")      # happens while nobody watches
    pod_where(src, "web-1", lambda p: p.restarts == 1)
    assert standin.requests["list"] == 1
    assert standin.requests["watch"] > watches
    last = standin.request_log[-1][1]
    assert "watch=true" in last and "resourceVersion=" in last
    assert src.poll().error is None


@pytest.mark.parametrize("how", ["error-event-on-open-watch", "error-event-on-resume", "http-410-on-resume"])
def test_gone_triggers_relist(standin, kubeconfig, make_source, how):
    standin.add_pod("default", "web-1")
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    synced(src)
    wait_for(lambda: standin.open_watches == 1, what="watch open")
    if how == "error-event-on-open-watch":
        standin.expire()
    elif how == "error-event-on-resume":
        standin.drop_watches()
        standin.add_pod("default", "web-2")
        standin.expire()          # what happened while we were away is compacted
    else:
        standin.fail_next(410, message="too old resource version")
        standin.drop_watches()
    wait_for(lambda: standin.requests["list"] == 2, what="relist")
    standin.restart_container("default", "web-1")
    pod_where(src, "web-1", lambda p: p.restarts == 1)
    assert standin.requests["list"] == 2
    snap = src.poll()
    assert snap.error is None and snap.synced
    if how == "error-event-on-resume":
        assert pod(snap, "web-2") is not None


# --------------------------------------------------------------------------- errors in words
def test_unauthorized_then_fixed_credentials(standin, tmp_path, make_source):
    path = standin.write_kubeconfig(tmp_path / "config", token="wrong")
    standin.add_pod("default", "web-1")
    src = make_source(KubeSpec(kubeconfig=path))
    snap = wait_for(lambda: (s := src.poll()).error and s, what="401 error")
    assert snap.error == "unauthorized (401): check your credentials"
    assert snap.connection == "error" and snap.level >= Level.WARN and snap.configured
    standin.write_kubeconfig(path)   # the right token
    snap = synced(src)
    assert [p.name for p in snap.pods] == ["web-1"]


def test_forbidden_namespace_then_granted(standin, kubeconfig, make_source):
    standin.add_pod("payments", "payments-1")
    standin.add_pod("edge", "edge-1")
    standin.forbidden_namespaces.add("payments")
    src = make_source(KubeSpec(kubeconfig=kubeconfig, namespaces=("payments", "edge")))
    snap = wait_for(lambda: (s := src.poll()).error and pod(s, "edge-1", "edge") and s,
                    what="403 on one namespace, the other listed")
    assert snap.error == "forbidden (403): cannot list pods in namespace payments"
    assert snap.namespaces == ("payments", "edge")
    standin.forbidden_namespaces.clear()
    snap = synced(src)
    assert {p.key for p in snap.pods} == {"payments/payments-1", "edge/edge-1"}


def test_unreachable_then_server_comes_up(tmp_path, make_source):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    later = KubeApiStandin(token=TOKEN, port=port)
    path = later.write_kubeconfig(tmp_path / "config", server=server)
    src = make_source(KubeSpec(kubeconfig=path))
    snap = wait_for(lambda: (s := src.poll()).error and s, what="unreachable error")
    assert snap.error == f"cluster unreachable: connection refused ({server})"
    assert not snap.synced and snap.level >= Level.WARN
    with later:
        later.add_pod("default", "web-1")
        snap = synced(src)
        assert [p.name for p in snap.pods] == ["web-1"]


def test_server_errors_keep_stale_pods_and_recover(standin, kubeconfig, make_source):
    standin.add_pod("default", "web-1")
    src = make_source(KubeSpec(kubeconfig=kubeconfig))
    synced(src)
    wait_for(lambda: standin.open_watches == 1, what="watch open")
    standin.fail_always(500, message="etcdserver: request timed out")
    standin.drop_watches()
    snap = wait_for(lambda: (s := src.poll()).error and s, what="500 error")
    assert snap.error == "API server error (500): etcdserver: request timed out"
    assert snap.stale and [p.name for p in snap.pods] == ["web-1"]
    assert snap.summary.startswith("stale")
    standin.fail_always(None)
    snap = wait_for(lambda: (s := src.poll()).error is None and s, what="recovery")
    assert not snap.stale and snap.connection == "watching"
    assert standin.requests["list"] == 1    # resumed the watch; no relist needed


def test_missing_kubeconfig_is_unknown_not_an_outage(standin, tmp_path, make_source, monkeypatch):
    path = tmp_path / "later" / "config"
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'nope'}{os.pathsep}{path}")
    src = make_source(KubeSpec())
    snap = wait_for(lambda: (s := src.poll()).error and s, what="no kubeconfig")
    assert snap.error == NO_KUBECONFIG
    assert snap.level == Level.UNKNOWN and not snap.configured and snap.connection == "unconfigured"
    # The second entry of the KUBECONFIG list appears: picked up on the next retry.
    path.parent.mkdir()
    standin.add_pod("default", "web-1")
    standin.write_kubeconfig(path)
    snap = synced(src)
    assert snap.configured and [p.name for p in snap.pods] == ["web-1"]


def test_unknown_context_then_added(standin, tmp_path, make_source):
    path = standin.write_kubeconfig(tmp_path / "config", context="staging")
    src = make_source(KubeSpec(kubeconfig=path, context="prod-eu"))
    snap = wait_for(lambda: (s := src.poll()).error and s, what="context error")
    assert snap.error == "context 'prod-eu' not found in kubeconfig"
    standin.write_kubeconfig(path, context="prod-eu", current=False)
    snap = synced(src)
    assert snap.context == "prod-eu"


# --------------------------------------------------------------------------- namespaces
@pytest.mark.parametrize("namespaces, expect_pods, expect_ns, expect_lists", [
    (("*",), {"a/a-1", "b/b-1", "c/c-1"}, ("*",), {"list:*"}),
    (("a", "b"), {"a/a-1", "b/b-1"}, ("a", "b"), {"list:a", "list:b"}),
    ((), {"b/b-1"}, ("b",), {"list:b"}),      # the context's namespace
])
def test_namespace_scopes(standin, tmp_path, make_source, namespaces, expect_pods, expect_ns, expect_lists):
    for ns in "abc":
        standin.add_pod(ns, f"{ns}-1")
    path = standin.write_kubeconfig(tmp_path / "config", namespace="b")
    src = make_source(KubeSpec(kubeconfig=path, namespaces=namespaces))
    snap = wait_for(lambda: (s := src.poll()).synced and len(s.pods) == len(expect_pods) and s,
                    what="all scopes listed")
    assert {p.key for p in snap.pods} == expect_pods
    assert snap.namespaces == expect_ns
    assert {k for k in standin.requests if k.startswith("list:")} == expect_lists
    for ns in "cab":
        standin.add_pod(ns, f"{ns}-2")
    expected = expect_pods | {f"{k.split('/')[0]}/{k.split('/')[0]}-2" for k in expect_pods}
    wait_for(lambda: {p.key for p in src.poll().pods} == expected, what="new pods via the watch")
    assert standin.requests["list"] == len(expect_lists)


# --------------------------------------------------------------------------- lifecycle
def test_close_is_prompt_and_final(standin, kubeconfig):
    standin.add_pod("default", "web-1")
    src = PodsSource(KubeSpec(kubeconfig=kubeconfig), backoff=FAST, watch_timeout=300)
    src.start()
    synced(src)
    wait_for(lambda: standin.open_watches == 1, what="watch open")
    threads = list(src._threads)
    src.close()   # joins each thread for at most 1 s; the watch must not hold it up
    assert not any(t.is_alive() for t in threads)
    assert src.poll().connection == "closed"
    wait_for(lambda: standin.open_watches == 0, what="server sees the watch go")


def test_poll_before_start_is_a_snapshot():
    snap = PodsSource(KubeSpec(kubeconfig="/nonexistent")).poll()
    assert isinstance(snap, PodsSnapshot) and snap.level == Level.UNKNOWN and not snap.synced


def test_import_does_not_load_kubernetes():
    code = "import sys, checks.pods, widgets.pods; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "restart", "crash", "ready", "delete", "poll"]),
                          st.integers(0, 7)), max_size=60))
def test_incremental_snapshot_matches_a_full_recount(ops):
    """poll() keeps a sorted list and counters up to date incrementally; they must
    always equal what sorting and counting everything from scratch gives."""
    factory = KubeApiStandin()          # not started: only used to build realistic pod JSON
    src = PodsSource(KubeSpec(kubeconfig="/nonexistent"))

    def check(snap: PodsSnapshot) -> None:
        pods = list(snap.pods)
        assert pods == sorted(pods, key=_sort_key)
        assert {(p.namespace, p.name) for p in pods} == set(factory.pod_names())
        assert snap.not_ready == sum(not p.is_ready for p in pods)
        assert snap.crashlooping == sum(p.waiting_reason == "CrashLoopBackOff" for p in pods)
        assert snap.total == len(pods)

    for op, i in ops:
        ns, name = ("default", "other")[i % 2], f"pod-{i}"
        exists = (ns, name) in factory.pod_names()
        if op == "add" and not exists:
            src._apply("ADDED", factory.add_pod(ns, name, restarts=i))
        elif op == "restart" and exists:
            src._apply("MODIFIED", factory.restart_container(ns, name, reason="OOMKilled"))
        elif op == "crash" and exists:
            src._apply("MODIFIED", factory.restart_container(ns, name, then="CrashLoopBackOff"))
        elif op == "ready" and exists:
            src._apply("MODIFIED", factory.set_running(ns, name))
        elif op == "delete" and exists:
            gone = factory.get_pod(ns, name)
            factory.delete_pod(ns, name)
            src._apply("DELETED", gone)
        elif op == "poll":
            check(src.poll())
    check(src.poll())


# --------------------------------------------------------------------------- changes()
def _p(name: str, **kw) -> PodStatus:
    base = dict(namespace="payments", name=name, phase="Running", status="Running", ready="1/1",
                ready_containers=1, total_containers=1, uid=f"uid-{name}")
    base.update(kw)
    return PodStatus(**base)


def _snap(*pods: PodStatus) -> PodsSnapshot:
    return PodsSnapshot(pods=tuple(pods), synced=True, level=max((p.level for p in pods), default=Level.OK))


def test_changes_reports_restarts_crashloops_and_oom():
    t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    a0, b0, c0 = _p("a", restarts=4), _p("b", restarts=1), _p("c")
    prev = _snap(a0, b0, c0)
    a1 = _p("a", restarts=7, restarts_since_incident=3, last_termination_reason="Error",
            last_termination_at=t, level=Level.WARN)
    b1 = _p("b", restarts=2, restarts_since_incident=1, status="CrashLoopBackOff",
            waiting_reason="CrashLoopBackOff", ready="0/1", ready_containers=0, level=Level.CRIT)
    c1 = _p("c", last_termination_reason="OOMKilled", last_termination_at=t, level=Level.CRIT)
    events = changes(prev, _snap(a1, b1, c1))
    got = {(e.key, e.state): (e.text, e.level) for e in events}
    assert got == {
        ("pod:payments/a", "restart:7"): ("pod payments/a restarted (+3, now 7): Error", Level.WARN),
        ("pod:payments/b", "restart:2"): ("pod payments/b restarted (+1, now 2)", Level.CRIT),
        ("pod:payments/b", "CrashLoopBackOff"): ("pod payments/b CrashLoopBackOff", Level.CRIT),
        ("pod:payments/c", "OOMKilled"): ("pod payments/c OOMKilled at 12:00:00Z", Level.CRIT),
    }
    # Nothing changed: nothing to report. A recovery is reported once.
    cur = _snap(a1, b1, c1)
    assert changes(cur, cur) == []
    b2 = _p("b", restarts=2, restarts_since_incident=1, level=Level.WARN)
    assert [(e.state, e.level) for e in changes(cur, _snap(a1, b2, c1))] == [("Running", Level.OK)]
    # Same name, new pod (uid): its restart count is not a restart of the old one.
    a_new = _p("a", uid="uid-other", restarts=9)
    assert changes(cur, _snap(a_new, b1, c1)) == []


def test_changes_first_snapshot_reports_crashing_pods_only():
    bad = _p("b", restarts=9, waiting_reason="ImagePullBackOff", status="ImagePullBackOff", level=Level.CRIT)
    events = changes(None, _snap(_p("a", restarts=3), bad))
    assert [(e.key, e.state) for e in events] == [("pod:payments/b", "ImagePullBackOff")]


# --------------------------------------------------------------------------- widget
class PaneApp(App):
    def compose(self) -> ComposeResult:
        yield PodsPane()


def _ui_snap(pods, **kw) -> PodsSnapshot:
    t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    kw.setdefault("level", max((p.level for p in pods), default=Level.OK))
    kw.setdefault("summary", "x")
    return PodsSnapshot(taken_at=t, pods=tuple(pods), synced=True, context="prod-eu",
                        namespaces=("payments",), total=len(pods), **kw)


def _ui_pods():
    t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    crash = _p("pay-[bold]x[/]", restarts=7, restarts_since_incident=5, status="CrashLoopBackOff",
               waiting_reason="CrashLoopBackOff", ready="0/1", ready_containers=0,
               last_termination_reason="OOMKilled", last_termination_at=t - timedelta(minutes=3),
               level=Level.CRIT, node="node-2", created_at=t - timedelta(days=3))
    warn = _p("pay-b", restarts=1, restarts_since_incident=1, level=Level.WARN, created_at=t - timedelta(hours=5))
    ok = _p("pay-c", created_at=t - timedelta(seconds=42))
    return crash, warn, ok


def _row(table: DataTable, key: str) -> list[str]:
    return [str(c) for c in table.get_row(key)]


async def test_pane_renders_rows_worst_first_and_toggles_healthy():
    crash, warn, ok = _ui_pods()
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(_ui_snap([crash, warn, ok], summary="pay-[bold]x[/] CrashLoopBackOff · +5 restarts"))
        await pilot.pause()
        table = pane.table
        assert pane.row_keys == [crash.key, warn.key, ok.key]
        assert table.row_count == 3
        row = _row(table, crash.key)
        # Remote text is shown literally, never as markup.
        # Column order: NAME STATUS Δ RESTARTS LAST READY NAMESPACE NODE AGE (war-room numbers first).
        assert row == ["pay-[bold]x[/]", "CrashLoopBackOff", "+5", "7",
                       "OOMKilled 3m ago", "0/1", "payments", "node-2", "3d"]
        assert _row(table, ok.key)[-1] == "42s" and _row(table, ok.key)[2] == "0"
        assert pane.has_class("-crit") and not pane.has_class("-error")
        assert pane.border_title == "Pods · prod-eu"
        # The summary carries a pod name: shown literally, not parsed as markup.
        assert Content.from_markup(pane.border_subtitle).plain.startswith("pay-[bold]x[/] CrashLoopBackOff")

        assert pane.toggle_healthy() is True
        await pilot.pause()
        assert pane.row_keys == [crash.key, warn.key] and table.row_count == 2
        assert pane.border_subtitle.endswith("· 1 hidden")
        assert pane.toggle_healthy() is False
        await pilot.pause()
        assert table.row_count == 3 and "hidden" not in pane.border_subtitle


async def test_pane_updates_only_changed_rows_and_reorders():
    crash, warn, ok = _ui_pods()
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(_ui_snap([crash, warn, ok]))
        await pilot.pause()
        table = pane.table
        calls: list[tuple] = []
        original_update, original_add = table.update_cell, table.add_row
        table.update_cell = lambda *a, **k: (calls.append(("update", a[0], a[1])), original_update(*a, **k))[1]
        table.add_row = lambda *a, **k: (calls.append(("add", k.get("key"))), original_add(*a, **k))[1]
        # ok restarts 9 times: it moves to the top; only its own cells change.
        from dataclasses import replace
        ok2 = replace(ok, restarts=9, restarts_since_incident=9, level=Level.WARN)
        pane.show(_ui_snap([ok2, crash, warn]))
        await pilot.pause()
        assert {c[1] for c in calls} == {ok.key}
        assert {c[2] for c in calls} == {"name", "status", "restarts", "delta"}
        assert pane.row_keys == [ok.key, crash.key, warn.key]
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == ["pay-c", "pay-[bold]x[/]", "pay-b"]


async def test_pane_error_states():
    crash, warn, ok = _ui_pods()
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(_ui_snap([warn, ok]))
        await pilot.pause()
        err = "cluster unreachable: connection refused (https://10.0.0.1:6443)"
        pane.show(_ui_snap([warn, ok], error=err, stale=True, level=Level.WARN))
        await pilot.pause()
        line = pane.query_one("#pods-error", Static)
        assert pane.has_class("-error") and line.display
        assert err in str(line.render()) and "last known" in str(line.render())
        assert pane.table.row_count == 2          # last good rows stay
        assert pane.border_subtitle == err
        pane.show(_ui_snap([], error=NO_KUBECONFIG, level=Level.UNKNOWN, configured=False))
        await pilot.pause()
        assert pane.has_class("-unknown") and not pane.has_class("-error")
        assert line.has_class("-quiet")
        pane.show(_ui_snap([warn, ok]))
        await pilot.pause()
        assert not line.display and pane.has_class("-warn")


def test_human_age():
    assert [human_age(timedelta(seconds=s)) for s in (5, 119, 300, 330, 3600, 3 * 3600 + 60, 30 * 3600,
                                                      3 * 86400, 20 * 86400)] == \
        ["5s", "119s", "5m", "5m30s", "60m", "3h1m", "30h", "3d", "20d"]
    assert human_age(None) == "-"


def test_old_ages_all_change_at_the_same_minute_tick():
    # Each changed cell makes the DataTable re-render every row: ages past 10 min must not
    # tick over pod by pod through the minute.
    from widgets.pods import _coarse

    base = datetime(2026, 11, 22, 3, 0, 0, tzinfo=timezone.utc)
    created = [base - timedelta(minutes=30, seconds=s) for s in (0, 17, 42, 59)]
    seen = {tuple(human_age(_coarse(base + timedelta(seconds=t), c)) for c in created) for t in range(60)}
    assert len(seen) == 1
    after = tuple(human_age(_coarse(base + timedelta(seconds=60), c)) for c in created)
    assert after != next(iter(seen))
    young = base - timedelta(minutes=3, seconds=5)   # young pods keep their seconds
    assert human_age(_coarse(base, young)) == "3m5s"
    assert human_age(_coarse(base + timedelta(seconds=1), young)) == "3m6s"


async def test_unchanged_old_pods_are_not_rejudged_within_a_minute(monkeypatch):
    t = datetime(2024, 5, 1, 12, 0, 5, tzinfo=timezone.utc)
    old = [_p(f"old-{i}", created_at=t - timedelta(hours=3)) for i in range(20)]
    young = _p("young", created_at=t - timedelta(minutes=2))
    pods = (*old, young)
    judged: list[str] = []
    original = PodsPane._cells_for

    def counting(self, p, now, pal):
        judged.append(p.name)
        return original(self, p, now, pal)

    monkeypatch.setattr(PodsPane, "_cells_for", counting)
    app = PaneApp()
    async with app.run_test(size=(120, 30)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(dataclasses.replace(_ui_snap(pods), taken_at=t))
        await pilot.pause()
        assert len(judged) == 21
        judged.clear()
        pane.show(dataclasses.replace(_ui_snap(pods), taken_at=t + timedelta(seconds=30)))
        assert judged == ["young"]                       # its age shows seconds
        judged.clear()
        pane.show(dataclasses.replace(_ui_snap(pods), taken_at=t + timedelta(seconds=60)))
        assert len(judged) == 21                         # the minute turned: every age may change
        judged.clear()
        changed = dataclasses.replace(old[3], restarts=4)
        pane.show(dataclasses.replace(_ui_snap((*old[:3], changed, *old[4:], young)),
                                      taken_at=t + timedelta(seconds=61)))
        assert sorted(judged) == ["old-3", "young"]
        await pilot.pause()
        assert pane.table.get_cell("payments/old-3", "restarts").plain == "4"


def test_long_pod_names_keep_their_start_and_their_hashes():
    from widgets.pods import NAME_MAX, short_name

    name = "ingress-nginx-controller-6d8f7b9c4-2mkwd-with-a-long-suffix"
    short = short_name(name)
    assert len(short) == NAME_MAX and "…" in short
    assert name.startswith(short.split("…")[0]) and name.endswith(short.split("…")[1])
    assert short_name("api-7d9c8-x7k2p") == "api-7d9c8-x7k2p"


async def test_rows_with_shortened_names_still_sort_worst_first():
    prefix = "ingress-nginx-controller-with-a-very-long-name"
    calm = [_p(f"{prefix}-{i:02d}") for i in range(6)]
    bad = _p(f"{prefix}-03x", restarts=9, restarts_since_incident=9, status="CrashLoopBackOff",
             level=Level.CRIT)
    app = PaneApp()
    async with app.run_test(size=(140, 20)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(_ui_snap(calm))
        await pilot.pause()
        pane.show(_ui_snap([bad, *calm]))
        await pilot.pause()
        table = pane.table
        keys = [row.key.value for row in table.ordered_rows]
        assert keys == [f"payments/{bad.name}", *(f"payments/{p.name}" for p in calm)]
        assert "…" in str(table.get_cell(keys[0], "name"))


def test_failed_pods_from_before_the_incident_are_a_warning_not_a_red_pane(standin, kubeconfig, make_source):
    # Evicted and failed pods linger for days; the war room cares about the ones since the start.
    start = datetime.now(timezone.utc) - timedelta(minutes=30)
    standin.add_pod("default", "evicted-old", phase="Failed", ready=False, created=start - timedelta(days=2),
                    last_termination=("Evicted", start - timedelta(days=1)))
    standin.add_pod("default", "failed-now", phase="Failed", ready=False, created=start - timedelta(days=2),
                    last_termination=("Error", start + timedelta(minutes=10)))
    standin.add_pod("default", "failed-when", phase="Failed", ready=False, created=start - timedelta(days=2))
    src = make_source(KubeSpec(kubeconfig=kubeconfig), incident_started=start)
    snap = wait_for(lambda: (s := src.poll()).synced and len(s.pods) == 3 and s, what="three pods")
    assert pod(snap, "evicted-old").level == Level.WARN
    assert pod(snap, "failed-now").level == Level.CRIT
    assert pod(snap, "failed-when").level == Level.CRIT        # no failure time: assume the worst
    assert snap.level == Level.CRIT


async def test_ages_are_kept_current_on_screen_only_and_on_scrolling():
    # 5,000 young pods all change their AGE every second; only the rows on screen are updated.
    t = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    pods = [_p(f"young-{i:03d}", created_at=t - timedelta(seconds=10)) for i in range(60)]
    app = PaneApp()
    async with app.run_test(size=(160, 20)) as pilot:
        pane = app.query_one(PodsPane)
        table = pane.table
        pane.show(dataclasses.replace(_ui_snap(pods), taken_at=t))
        await pilot.pause()
        assert table.get_cell(pods[0].key, "age").plain == "10s"
        updated: list[str] = []
        original_update = table.update_cell
        table.update_cell = lambda *a, **k: (updated.append(a[0]), original_update(*a, **k))[1]
        pane.show(dataclasses.replace(_ui_snap(pods), taken_at=t + timedelta(seconds=30)))
        await pilot.pause()
        assert table.get_cell(pods[0].key, "age").plain == "40s"
        assert 0 < len(set(updated)) < 30, updated
        table.scroll_end(animate=False)
        await pilot.pause()
        # Scrolled into view: brought up to the last snapshot's time before it is drawn.
        assert table.get_cell(pods[-1].key, "age").plain == "40s"


class WidePaneApp(App):
    CSS = "PodsPane { width: 120; height: 24; }"     # the pods pane in a 200x60 dashboard

    def compose(self) -> ComposeResult:
        yield PodsPane()


def _fits(table: DataTable) -> bool:
    used = sum(c.get_render_width(table) for c in table.ordered_columns)
    return used <= table.scrollable_content_region.width and table.max_scroll_x == 0


async def test_table_fits_its_pane_when_crashloopbackoff_widens_status():
    """Issue 17: at 200x60 STATUS widened by CrashLoopBackOff clipped AGE to `AG` and left a
    horizontal scrollbar that never went away."""
    t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    node = "ip-10-12-134-201.eu-west-1.compute.internal"
    calm = [_p(f"ingress-nginx-controller-6d8f7b9c4-{i:05d}", node=node, created_at=t - timedelta(days=2))
            for i in range(4)]
    crash = _p("payments-api-6f7d9c5b8-x2x9k", restarts=8, restarts_since_incident=7,
               status="CrashLoopBackOff", waiting_reason="CrashLoopBackOff", ready="0/1",
               ready_containers=0, last_termination_reason="OOMKilled",
               last_termination_at=t - timedelta(minutes=5, seconds=23), level=Level.CRIT,
               node=node, created_at=t - timedelta(days=3))
    app = WidePaneApp()
    async with app.run_test(size=(200, 60)) as pilot:
        pane = app.query_one(PodsPane)
        pane.show(_ui_snap(calm))
        await pilot.pause()
        table = pane.table
        assert _fits(table)
        status_width = table.columns[ColumnKey("status")].get_render_width(table)

        pane.show(_ui_snap([crash, *calm]))
        await pilot.pause()
        assert _fits(table) and not table.show_horizontal_scrollbar
        row = _row(table, crash.key)
        assert row[1] == "CrashLoopBackOff" and row[-1] == "3d"     # STATUS and AGE whole
        # The node name gave way (start and end kept), the AGE column did not.
        assert "…" in row[7] and row[7].startswith("ip-10") and row[7].endswith("internal")
        assert table.columns[ColumnKey("age")].get_render_width(table) >= len("AGE") + 2

        # The crash-looping pod recovers: STATUS narrows back.
        pane.show(_ui_snap(calm))
        await pilot.pause()
        assert table.columns[ColumnKey("status")].get_render_width(table) == status_width
        assert _fits(table)


class DemoPaneApp(App):
    """The pods pane as `warroom demo` lays it out at 160x48 with alerts, metrics and [[hosts]]
    configured: 94 columns wide beside the commander, 13 lines high."""
    CSS = "PodsPane { width: 94; height: 13; }"

    def compose(self) -> ComposeResult:
        yield PodsPane()


def _painted(widget) -> list[str]:  # noqa: ANN001
    x, y, width, height = widget.region
    strips = widget.screen._compositor.render_strips()
    return [strip.crop(x, x + width).text for strip in strips[y:y + height]]


HEADERS = {"NAME": ("NAME",), "STATUS": ("STATUS",), "Δ INC": ("Δ INC",), "RESTARTS": ("RESTARTS", "RST"),
           "LAST TERMINATION": ("LAST TERMINATION", "LAST"), "READY": ("READY",), "AGE": ("AGE",)}


@pytest.mark.parametrize("width, namespaces, dropped", [
    (94, ("edge", "payments"), ()),                          # the demo at 160x48: short headers, nothing dropped
    (86, ("payments",), ("NAMESPACE", "NS")),                # one namespace: it goes to the title
    (80, ("payments",), ("NAMESPACE", "NS", "NODE")),        # then the node
    (90, ("edge", "payments"), ("NODE",)),                   # two namespaces: the node goes, the namespace stays
])
async def test_table_fits_the_demo_pane_with_a_crashlooping_pod(width, namespaces, dropped):
    """Issue 19: in the 94-column pods pane a CrashLoopBackOff pod pushed NODE and AGE off the
    right edge behind a horizontal scrollbar. Headers shorten, STATUS ends in "…" and spare
    columns go instead; every header left is whole (or its short form) and AGE is drawn whole."""
    t = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    calm = [_p(f"api-gateway-6b7f-{i:05d}", namespace=namespaces[0], node=f"node-{i}",
               created_at=t - timedelta(days=2, hours=4)) for i in range(12)]
    crash = _p("payments-api-7d9c8-x7k2p", namespace=namespaces[-1], restarts=8, restarts_since_incident=7,
               status="CrashLoopBackOff", waiting_reason="CrashLoopBackOff", ready="1/2", ready_containers=1,
               last_termination_reason="OOMKilled", last_termination_at=t - timedelta(minutes=5, seconds=23),
               level=Level.CRIT, node="node-1", created_at=t - timedelta(days=3))
    app = DemoPaneApp()
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.query_one(PodsPane)
        pane.styles.width = width
        pane.show(_ui_snap(calm))
        await pilot.pause()
        pane.show(_ui_snap([crash, *calm]))
        await pilot.pause()
        await pilot.pause()
        table = pane.table
        assert _fits(table) and not table.show_horizontal_scrollbar and table.max_scroll_x == 0
        lines = _painted(pane)
        header = lines[1]
        for full, forms in HEADERS.items():
            assert any(re.search(rf"(^|\s){re.escape(form)}(\s|$)", header) for form in forms), (full, header)
        for gone in dropped:
            assert not re.search(rf"\s{gone}\s", header), header
        if "NODE" not in dropped:
            assert re.search(r"\sNODE\s", header), header
        if "NS" not in dropped:
            assert re.search(r"\s(NAMESPACE|NS)\s", header), header
        crash_line = next(line for line in lines if "payments-" in line)
        assert re.search(r"\s3d\s+\S{0,2}│$", crash_line), crash_line             # AGE whole, inside the border
        assert "CrashLoop" in crash_line and "+7" in crash_line
        assert all(re.search(r"\s2d4h\s+\S{0,2}│$", line) for line in lines if "api-gatew" in line), lines
        if "NS" in dropped:
            assert "· payments" in str(pane.border_title)
