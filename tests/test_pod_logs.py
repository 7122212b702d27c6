"""Pod logs: the stand-in's log endpoint (previous, follow, tailLines, sinceSeconds) read by the
real kubernetes client, and checks.pod_logs choosing and following the log worth reading."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from checks.pod_logs import PodLogStream, split_lines
from checks.specs import KubeSpec
from tui.demo.kubeapi_standin import KubeApiStandin


@pytest.fixture
def standin():
    with KubeApiStandin(token="tok") as s:
        yield s


@pytest.fixture
def spec(standin, tmp_path):
    return KubeSpec(kubeconfig=standin.write_kubeconfig(tmp_path / "kubeconfig"))


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def api(spec):
    from checks.pods_kube import _connect

    return _connect(spec).api


def test_real_client_reads_current_previous_tail_and_since(standin, spec):
    from kubernetes.client.exceptions import ApiException

    old = datetime.now(timezone.utc) - timedelta(hours=2)
    standin.add_pod("default", "api-1")
    standin.write_log("default", "api-1", "long ago", at=old)
    standin.write_log("default", "api-1", *(f"line {i}" for i in range(300)))
    core = api(spec)
    assert core.read_namespaced_pod_log("api-1", "default", tail_lines=2) == "line 298\nline 299\n"
    recent = core.read_namespaced_pod_log("api-1", "default", since_seconds=3600)
    assert "long ago" not in recent and recent.count("\n") == 300
    # No previous instance yet: the server's own 400.
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("api-1", "default", previous=True)
    assert err.value.status == 400 and "previous terminated container" in err.value.body
    standin.write_log("default", "api-1", "panic: out of memory")
    standin.restart_container("default", "api-1", reason="OOMKilled", then="CrashLoopBackOff")
    assert core.read_namespaced_pod_log("api-1", "default", previous=True, tail_lines=1) == "panic: out of memory\n"
    with pytest.raises(ApiException) as err:       # the new instance waits: no current log
        core.read_namespaced_pod_log("api-1", "default")
    assert "waiting to start: CrashLoopBackOff" in err.value.body
    with pytest.raises(ApiException) as err:
        core.read_namespaced_pod_log("nope", "default")
    assert err.value.status == 404


def test_restarted_pod_shows_the_previous_instance_since_before_the_incident(standin, spec):
    started = datetime.now(timezone.utc) - timedelta(minutes=10)
    standin.add_pod("shop", "cart-1", containers=("app", "sidecar"))
    standin.write_log("shop", "cart-1", "boot from yesterday", at=started - timedelta(hours=5))
    standin.write_log("shop", "cart-1", *(f"req {i}" for i in range(250)), "FATAL db gone")
    standin.write_log("shop", "cart-1", "sidecar chatter", container="sidecar")
    standin.restart_container("shop", "cart-1", container="app", reason="Error", then="CrashLoopBackOff")
    stream = PodLogStream(spec, "shop", "cart-1", incident_started=started)
    stream.run()
    assert stream.error is None and stream.state == "ended"
    target = stream.target
    assert target is not None and target.container == "app" and target.previous and not target.follow
    assert "previous instance" in target.why and "Error" in target.why
    total, lines = stream.take(0)
    # The last 200 lines, none from before the incident's lead-in, none of the sidecar's.
    assert total == 200 and lines[-1] == "FATAL db gone" and lines[0] == "req 51"
    assert stream.take(total) == (200, [])
    log = [q for m, q in standin.request_log if "/log" in q][-1]
    assert "previous=true" in log and "tailLines=200" in log and "sinceSeconds=901" in log


def test_running_container_is_followed_live_and_memory_stays_bounded(standin, spec):
    standin.add_pod("default", "web-1")
    standin.write_log("default", "web-1", "ready")
    stream = PodLogStream(spec, "default", "web-1", keep=1000)
    worker = threading.Thread(target=stream.run, daemon=True)
    worker.start()
    wait_for(lambda: stream.take(0)[0] == 1)
    assert stream.target is not None and stream.target.follow and not stream.target.previous
    standin.write_log("default", "web-1", "GET /cart 500 ERROR upstream")
    wait_for(lambda: stream.take(1)[1] == ["GET /cart 500 ERROR upstream"])
    for batch in range(10):
        standin.write_log("default", "web-1", *(f"b{batch} l{i}" for i in range(1000)))
    wait_for(lambda: stream.total == 10_002)
    total, lines = stream.take(2)
    assert len(stream.lines) == 1000 and len(lines) == 1000 and lines[-1] == "b9 l999"
    # The container restarts: the server ends the stream (after what the old instance wrote).
    standin.write_log("default", "web-1", "last words")
    standin.restart_container("default", "web-1", reason="Error")
    worker.join(timeout=10)
    assert not worker.is_alive() and stream.state == "ended" and stream.lines[-1] == "last words"


def test_close_ends_a_quiet_follow_at_once(standin, spec):
    standin.add_pod("default", "quiet-1")
    stream = PodLogStream(spec, "default", "quiet-1")
    worker = threading.Thread(target=stream.run, daemon=True)
    worker.start()
    wait_for(lambda: stream.state == "streaming")
    stream.close()
    worker.join(timeout=5)
    assert not worker.is_alive() and stream.state == "closed" and stream.error is None


def test_failures_are_one_line(standin, spec, tmp_path):
    stream = PodLogStream(spec, "default", "missing-1")
    stream.run()
    assert stream.state == "failed" and stream.error is not None and "404" in stream.error
    standin.stop()
    down = PodLogStream(spec, "default", "x")
    down.run()
    assert down.error is not None and "cluster unreachable" in down.error


def test_split_lines_keeps_partial_and_cuts_long_lines():
    lines, rest = split_lines(b"par", b"tial\nnext\nunfin")
    assert lines == ["partial", "next"] and rest == b"unfin"
    lines, rest = split_lines(b"", b"x" * 10_000 + b"\n\xff\r\n")
    assert len(lines[0]) == 4096 and lines[1] == "\ufffd" and rest == b""
