"""checks.health_worker: health rounds in a real child process against real local servers."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from checks.base import Level
from checks.health import HealthChecker, State
from checks.health_worker import HealthProcess
from checks.specs import ServiceSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Severity
from tui.sources import build_live

from .servers import LocalHTTPServer, refused_port
from .test_live_pilot import wait_for

pytestmark = pytest.mark.timeout(60)

TOKEN = "s3cr3t-token-0123456789abcdef"


def wait_gone(pid: int, timeout: float = 20.0) -> bool:
    """True once ``pid`` has exited (a pidfd turns readable), without polling by sleeping."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.fixture
def http():
    with LocalHTTPServer() as server:
        server.route("/healthz", status=200, body=b"ok")
        yield server


def specs(http, *, interval: float = 60.0) -> tuple[ServiceSpec, ...]:
    return (
        ServiceSpec(name="payments", url=http.url("/healthz"), interval=interval, fail_threshold=1,
                    headers=(("Authorization", f"Bearer {TOKEN}"),)),
        ServiceSpec(name="ledger", url=f"http://127.0.0.1:{refused_port()}/healthz", interval=interval,
                    fail_threshold=1),
    )


def test_a_round_through_the_worker_and_only_changes_come_back(http):
    worker = HealthProcess(specs(http), concurrency=10)
    try:
        first = worker.poll()
        assert first.error is None
        by_name = {s.name: s for s in first.services}
        assert by_name["payments"].state is State.UP and by_name["payments"].reason == "HTTP 200"
        assert by_name["ledger"].state is State.DOWN and by_name["ledger"].reason == "connection refused"
        assert http.request_headers["/healthz"]["Authorization"] == f"Bearer {TOKEN}"
        # The header's token went over the pipe, not the command line.
        with open(f"/proc/{worker.pid}/cmdline", "rb") as f:
            assert TOKEN.encode() not in f.read()
        assert worker.next_due_in() > 30

        # Nothing due: the same status objects come back (nothing re-sent, nothing to redraw).
        second = worker.poll()
        assert all(a is b for a, b in zip(first.services, second.services))
    finally:
        worker.close()


def test_a_killed_worker_turns_the_pane_red_then_restarts_where_it_left_off(http):
    worker = HealthProcess(specs(http, interval=0), concurrency=10)
    try:
        worker.poll()
        before = worker.poll()
        pid = worker.pid
        os.kill(pid, signal.SIGKILL)
        assert wait_gone(pid)

        dead = worker.poll()
        assert dead.error == "health worker killed by SIGKILL; restarting"
        assert dead.level >= before.level and dead.services == before.services   # rows stay as they were

        again = worker.poll()
        assert again.error is None and worker.starts == 2 and worker.pid != pid
        payments = next(s for s in again.services if s.name == "payments")
        # History, damping and "since" carried over: no flap to UNKNOWN, one more latency point.
        assert len(payments.history) == 3 and payments.since == before.services[0].since
        ledger = next(s for s in again.services if s.name == "ledger")
        assert ledger.state is State.DOWN and ledger.consecutive_failures == 3
    finally:
        worker.close()


def test_close_ends_the_child():
    worker = HealthProcess((ServiceSpec(name="x", url="http://127.0.0.1:9/", interval=60),))
    worker.start()
    pid = worker.pid
    worker.close()
    assert wait_gone(pid)
    assert worker.poll().error == "health checks stopped"


def test_the_child_dies_with_its_parent(http, tmp_path):
    # A parent that starts a worker, says its pid, and is then killed outright (no cleanup).
    script = textwrap.dedent(f"""
        import os, sys, signal
        sys.path.insert(0, {os.getcwd()!r})
        from checks.health_worker import HealthProcess
        from checks.specs import ServiceSpec
        w = HealthProcess((ServiceSpec(name="p", url={http.url("/healthz")!r}, interval=60),))
        w.poll()
        print(w.pid, flush=True)
        sys.stdin.readline()
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())
        assert not wait_gone(child, timeout=0)
        parent.stdin.write("go\n")
        parent.stdin.flush()
        assert parent.wait(20) == -signal.SIGKILL
        assert wait_gone(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_worker_that_cannot_build_its_checker_is_an_error_not_a_crash():
    worker = HealthProcess((ServiceSpec(name="x", url="http://127.0.0.1:9/"),), concurrency="many")  # type: ignore[arg-type]
    try:
        snap = worker.poll()
        assert snap.error == "health worker failed: TypeError"
        assert [s.state for s in snap.services] == [State.UNKNOWN]
    finally:
        worker.close()


def _health_origin(config, incident):
    live = build_live(config, incident=incident)
    try:
        return live.sources[0].origin
    finally:
        for source in live.sources:
            if source.close is not None:
                source.close()


def test_build_live_uses_a_process_only_for_big_configs(http, store, monkeypatch):
    incident = store.declare("x", Severity.SEV3, author="ic")
    config = Config(services=specs(http))
    assert isinstance(_health_origin(config, incident), HealthChecker)
    monkeypatch.setenv("WARROOM_HEALTH_PROCESS_ABOVE", "1")
    assert isinstance(_health_origin(config, incident), HealthProcess)


async def test_dashboard_through_the_worker_red_on_crash_then_back(http, store, monkeypatch, tmp_path):
    monkeypatch.setenv("WARROOM_HEALTH_PROCESS_ABOVE", "0")
    config = Config(services=(ServiceSpec(name="payments", url=http.url("/healthz"), interval=0.1),))
    incident = store.declare("payments 503s", Severity.SEV2, author="ic")
    live = build_live(config, incident=incident, cwd=tmp_path)
    worker = live.sources[0].origin
    assert isinstance(worker, HealthProcess)
    app = WarroomApp(store, incident.id, sources=live.sources, panes=live.panes,
                     on_snapshot_hooks=live.hooks, config=config, author="scribe")
    async with app.run_test(size=(160, 48)) as pilot:
        pane = app.screen.query_one("HealthPane")

        def health():
            return app.screen._snapshots.get("health")

        assert await wait_for(pilot, lambda: health() is not None and health().services[0].state == "UP")
        pid = worker.pid
        os.kill(pid, signal.SIGKILL)
        assert await wait_for(pilot, lambda: pane.has_class("-error"))
        assert "health worker killed by SIGKILL" in str(pane.border_subtitle)
        assert await wait_for(pilot, lambda: not pane.has_class("-error") and worker.pid not in (None, pid))
        assert health().services[0].state == "UP"
    assert wait_gone(worker.pid or pid)


def test_worker_count_follows_services_and_cpus():
    from checks.health_worker import MAX_WORKERS, SERVICES_PER_WORKER, worker_count

    assert worker_count(201, cpus=8) == 1
    assert worker_count(SERVICES_PER_WORKER + 1, cpus=8) == 2
    assert worker_count(1000, cpus=2) == 2
    assert worker_count(1000, cpus=1) == 1
    assert worker_count(100_000, cpus=64) == MAX_WORKERS


def poll_until(workers, ready, within: float = 20.0):
    """Polls until ``ready(snapshot)``: a poll returns as soon as any one child answers, so
    a child busy starting answers a poll or a few later."""
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        snap = workers.poll()
        if ready(snap):
            return snap
    raise AssertionError(f"not ready within {within} s: {snap}")


def test_services_split_over_workers_come_back_in_order_and_one_dying_is_its_error(http):
    from checks.health_worker import HealthProcesses

    http.route("/down", status=503)
    services = (
        ServiceSpec(name="a", url=http.url("/healthz"), interval=0, fail_threshold=1),
        ServiceSpec(name="b", url=http.url("/down"), interval=0, fail_threshold=1),
        ServiceSpec(name="c", url=http.url("/healthz"), interval=0, fail_threshold=1),
    )
    workers = HealthProcesses(services, shards=2, concurrency=10)
    try:
        # Each poll returns with the first child's answer: both have answered within a few.
        snap = poll_until(workers, lambda snap: all(s.checked_at for s in snap.services))
        assert snap.error is None
        assert [(s.name, s.state) for s in snap.services] == [("a", State.UP), ("b", State.DOWN), ("c", State.UP)]
        assert snap.level is Level.CRIT and "b" in snap.summary
        first, second = workers.pids
        assert None not in (first, second) and first != second
        os.kill(second, signal.SIGKILL)
        snap = poll_until(workers, lambda snap: snap.error)
        # The other worker's services are checked as usual; the dead one's keep their last state.
        assert "health worker killed by SIGKILL" in snap.error
        assert [s.name for s in snap.services] == ["a", "b", "c"] and snap.services[0].state is State.UP
        snap = poll_until(workers, lambda snap: not snap.error)     # a fresh child for the dead one
        assert snap.error is None and workers.pids[1] not in (None, second) and workers.starts == 3
    finally:
        workers.close()
    assert wait_gone(first) and wait_gone(second)


def test_one_worker_failing_to_start_still_lets_the_others_get_ready(http, monkeypatch):
    from checks.health_worker import HealthProcesses

    services = tuple(ServiceSpec(name=f"s{i}", url=http.url("/healthz"), interval=0) for i in range(4))
    workers = HealthProcesses(services, shards=2, concurrency=10)
    first = workers._shards[0]
    real_handshake = first._handshake

    def refused(proc):
        # Stands in for a child that could not build its checker (the real case is covered for
        # one worker above): it is stopped, and the error goes up.
        first._stop(proc)
        raise RuntimeError("no checker")

    monkeypatch.setattr(first, "_handshake", refused)
    try:
        with pytest.raises(RuntimeError, match="no checker"):
            workers.start()
        # The second child was told its services all the same: it answers a round.
        assert workers.pids[0] is None and workers.pids[1] is not None
        assert workers._shards[1].poll().error is None
        monkeypatch.setattr(first, "_handshake", real_handshake)
        snap = poll_until(workers, lambda snap: all(s.checked_at for s in snap.services))
        assert snap.error is None and [s.state for s in snap.services] == [State.UP] * 4
    finally:
        workers.close()


def test_a_child_with_nothing_due_is_not_asked_while_another_finishes_its_round(http):
    from checks.health_worker import HealthProcesses

    http.route("/slow", status=200, delay=0.5)
    services = (
        ServiceSpec(name="fast", url=http.url("/healthz"), interval=60, fail_threshold=1),
        ServiceSpec(name="slow", url=http.url("/slow"), interval=60, fail_threshold=1),
    )
    workers = HealthProcesses(services, shards=2, concurrency=10)
    asks = [0, 0]
    for n, shard in enumerate(workers._shards):
        def counted(proc=None, shard=shard, n=n, real=shard._ask):
            asks[n] += 1
            return real(proc)
        shard._ask = counted
    try:
        workers.start()
        snap = poll_until(workers, lambda snap: all(s.checked_at for s in snap.services))
        # The fast child answered first and has nothing due for a minute: asking it again while
        # the slow one worked was a busy loop, and its pending reply made the next round "due now".
        assert asks == [1, 1]
        assert [s.state for s in snap.services] == [State.UP, State.UP]
        assert workers.next_due_in() > 30
    finally:
        workers.close()
