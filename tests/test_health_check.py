"""checks.health against real local HTTP(S) servers on 127.0.0.1."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler

import pytest

from checks.base import Level
from checks.health import (
    NO_SERVICES_HINT,
    HealthChecker,
    HealthSnapshot,
    ServiceStatus,
    State,
    changes,
    format_duration,
    redact_url,
    summarize,
)
from checks.specs import ServiceSpec
from tests.servers import LocalHTTPServer, make_tls, refused_port

pytestmark = pytest.mark.timeout(30)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server():
    with LocalHTTPServer() as srv:
        yield srv


@pytest.fixture
async def make_checker():
    made: list[HealthChecker] = []

    def make(specs, **kwargs) -> HealthChecker:
        checker = HealthChecker(specs, **kwargs)
        made.append(checker)
        return checker

    yield make
    for checker in made:
        await checker.aclose()


def spec(url: str, **kwargs) -> ServiceSpec:
    kwargs.setdefault("name", "svc")
    kwargs.setdefault("fail_threshold", 1)
    kwargs.setdefault("timeout", 2.0)
    kwargs.setdefault("degraded_ms", 5000.0)
    return ServiceSpec(url=url, **kwargs)


async def check_once(make_checker, s: ServiceSpec) -> ServiceStatus:
    snap = await make_checker([s]).poll()
    assert snap.error is None
    (status,) = snap.services
    return status


# --- basic outcomes -------------------------------------------------------------------

async def test_200_is_up(server, make_checker):
    server.route("/healthz", body=b"fine")
    st = await check_once(make_checker, spec(server.url("/healthz")))
    assert st.state is State.UP
    assert st.reason == "HTTP 200"
    assert st.status_code == 200
    assert st.latency_ms is not None and st.latency_ms >= 0
    assert st.history == (st.latency_ms,)
    assert st.consecutive_failures == 0
    assert st.checked_at is not None and st.checked_at.tzinfo is not None


async def test_500_is_down(server, make_checker):
    server.route("/healthz", status=500, body=b"boom")
    st = await check_once(make_checker, spec(server.url("/healthz")))
    assert (st.state, st.reason, st.status_code) == (State.DOWN, "HTTP 500", 500)


async def test_a_failing_service_keeps_its_connection(server, make_checker):
    # The error body is read, so the next check reuses the connection (a service answering
    # 503 through an incident is not reconnected to every interval).
    server.route("/healthz", status=503, body=b'{"error": "upstream exhausted"}')
    checker = make_checker([spec(server.url("/healthz"), interval=0.0)])
    for _ in range(3):
        (st,) = (await checker.poll()).services
        assert (st.state, st.reason) == (State.DOWN, "HTTP 503")
    assert server.hits["/healthz"] == 3
    assert server.connections == 1


async def test_a_stalled_error_body_costs_the_connection_not_the_result(server, make_checker):
    # 503 and a body that never finishes: still "HTTP 503" (not a timeout), well inside
    # the timeout, and the next check opens a new connection.
    def stall(handler):
        handler.send_response(503)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"partial")
        handler.wfile.flush()
        server.release.wait(10)

    server.route("/healthz", handler=stall)
    st = await check_once(make_checker, spec(server.url("/healthz"), timeout=5.0))
    assert (st.state, st.reason, st.status_code) == (State.DOWN, "HTTP 503", 503)
    assert st.latency_ms < 5000


async def test_expected_status_ranges(server, make_checker):
    server.route("/nocontent", status=204, body=b"")
    server.route("/created", status=201)
    ok = await check_once(make_checker, spec(server.url("/nocontent"), expect_status=((200, 200), (204, 204))))
    bad = await check_once(make_checker, spec(server.url("/created"), expect_status=((200, 200), (204, 204))))
    assert ok.state is State.UP
    assert (bad.state, bad.reason) == (State.DOWN, "HTTP 201")


async def test_method_and_headers_are_sent_but_never_shown(server, make_checker):
    server.route("/healthz")
    s = spec(server.url("/healthz"), method="HEAD", headers=(("Authorization", "Bearer s3cr3t-t0ken"),))
    snap = await make_checker([s]).poll()
    assert snap.services[0].state is State.UP
    assert server.request_headers["/healthz"]["Authorization"] == "Bearer s3cr3t-t0ken"
    assert "s3cr3t" not in repr(snap)


async def test_slow_endpoint_times_out(server, make_checker):
    server.route("/slow", delay=30)        # released by server.close()
    st = await check_once(make_checker, spec(server.url("/slow"), timeout=0.3))
    assert (st.state, st.reason) == (State.DOWN, "timeout after 0.3 s")
    assert st.status_code is None and st.latency_ms is None
    assert st.history == (None,)


async def test_refused_port(make_checker):
    st = await check_once(make_checker, spec(f"http://127.0.0.1:{refused_port()}/healthz"))
    assert (st.state, st.reason) == (State.DOWN, "connection refused")


async def test_dns_failure_fails_fast(make_checker):
    # .invalid never resolves (RFC 6761); here the resolver answers in milliseconds,
    # and the timeout still bounds a slow resolver elsewhere.
    st = await check_once(make_checker, spec("http://warroom-test.invalid/healthz", timeout=2.0))
    assert (st.state, st.reason) == (State.DOWN, "DNS lookup failed")


async def test_redirect_not_followed_names_the_target_redacted(server, make_checker):
    server.route("/old", status=302, headers={"Location": "/new?token=abc123&page=2"})
    server.route("/new", body=b"here")
    st = await check_once(make_checker, spec(server.url("/old")))
    assert st.state is State.DOWN
    assert st.reason == f"redirect to {server.url('/new')}?token=***&page=2"
    followed = await check_once(make_checker, spec(server.url("/old"), follow_redirects=True))
    assert (followed.state, followed.status_code) == (State.UP, 200)


async def test_unsupported_scheme_and_bad_ca_file_are_data(make_checker, tmp_path):
    st = await check_once(make_checker, spec("ftp://127.0.0.1/x"))
    assert (st.state, st.reason) == (State.DOWN, "unsupported URL scheme")
    st = await check_once(make_checker, spec("https://127.0.0.1:1/", verify=str(tmp_path / "missing.pem")))
    assert (st.state, st.reason) == (State.DOWN, "TLS: cannot load CA file")


# --- TLS --------------------------------------------------------------------------------

async def test_tls_verify_on_off_and_ca_file(tmp_path, make_checker):
    tls = make_tls(tmp_path)
    with LocalHTTPServer(ssl_context=tls.server_context) as srv:
        srv.route("/healthz", body=b"ok")
        url = srv.url("/healthz")
        checker = make_checker([
            spec(url, name="strict", verify=True),
            spec(url, name="ca-file", verify=tls.ca_path),
            spec(url, name="no-verify", verify=False),
        ])
        snap = await checker.poll()
    by = {s.name: s for s in snap.services}
    assert (by["strict"].state, by["strict"].reason) == (State.DOWN, "TLS: certificate verify failed")
    assert by["ca-file"].state is State.UP
    assert by["no-verify"].state is State.UP
    # One client per verify setting, shared by every service with that setting.
    assert len(checker._clients) == 3


# --- body and JSON checks --------------------------------------------------------------------

async def test_huge_body_is_read_bounded(server, make_checker):
    size = 50_000_000
    server.route("/huge", body=b"", stream_bytes=size)
    server.route("/huge-ok", body=b"status ok\n", stream_bytes=size)
    checker = make_checker([
        spec(server.url("/huge"), name="missing", body_contains="ok"),
        spec(server.url("/huge-ok"), name="found", body_contains="status ok"),
        spec(server.url("/huge"), name="json", json_field="status", json_equals="ok"),
    ])
    snap = await checker.poll()
    by = {s.name: s for s in snap.services}
    assert (by["missing"].state, by["missing"].reason) == (State.DOWN, 'body missing "ok"')
    assert by["found"].state is State.UP
    assert (by["json"].state, by["json"].reason) == (State.DOWN, "JSON body over 64 KiB")
    # The reader hung up early; at most socket buffers' worth was ever written.
    assert server.streamed["/huge"] < size // 2


async def test_body_contains_ok(server, make_checker):
    server.route("/healthz", body=b"<html>all systems nominal</html>")
    st = await check_once(make_checker, spec(server.url("/healthz"), body_contains="nominal"))
    assert st.state is State.UP


async def test_invalid_json(server, make_checker):
    server.route("/json", body=b"{not json", headers={"Content-Type": "application/json"})
    st = await check_once(make_checker, spec(server.url("/json"), json_field="status", json_equals="ok"))
    assert (st.state, st.reason) == (State.DOWN, "invalid JSON")


async def test_json_field_mismatch_match_and_missing(server, make_checker):
    server.route("/fail", body=json.dumps({"status": "fail"}).encode())
    server.route("/nested", body=json.dumps({"checks": {"db": "ok", "n": [1, True]}}).encode())
    checker = make_checker([
        spec(server.url("/fail"), name="fail", json_field="status", json_equals="ok"),
        spec(server.url("/nested"), name="nested", json_field="checks.db", json_equals="ok"),
        spec(server.url("/nested"), name="listbool", json_field="checks.n.1", json_equals="true"),
        spec(server.url("/nested"), name="missing", json_field="checks.cache", json_equals="ok"),
    ])
    by = {s.name: s for s in (await checker.poll()).services}
    assert by["fail"].reason == 'JSON field status = "fail", expected "ok"'
    assert by["fail"].state is State.DOWN
    assert by["nested"].state is State.UP
    assert by["listbool"].state is State.UP
    assert by["missing"].reason == "JSON field checks.cache missing"


async def test_degraded_by_latency(server, make_checker):
    server.route("/slowish", delay=0.15)
    st = await check_once(make_checker, spec(server.url("/slowish"), degraded_ms=50))
    assert st.state is State.DEGRADED
    assert st.reason.startswith("slow: ") and st.reason.endswith(" ms > 50 ms")
    assert st.latency_ms is not None and st.latency_ms > 50


# --- damping, scheduling, parallelism -----------------------------------------------------------

async def test_fail_threshold_damps_flapping(server, make_checker):
    server.route("/healthz", status=200)
    checker = make_checker([spec(server.url("/healthz"), interval=0, fail_threshold=2)])
    first = (await checker.poll()).services[0]
    assert first.state is State.UP

    server.route("/healthz", status=503)
    once = (await checker.poll()).services[0]
    assert (once.state, once.reason, once.consecutive_failures) == (State.UP, "HTTP 503", 1)
    assert once.since == first.since

    twice = (await checker.poll()).services[0]
    assert (twice.state, twice.consecutive_failures) == (State.DOWN, 2)
    assert twice.since > first.since

    server.route("/healthz", status=200)
    back = (await checker.poll()).services[0]
    assert (back.state, back.consecutive_failures) == (State.UP, 0)
    assert len(back.history) == 4


async def test_one_slow_answer_is_damped_like_a_failure(server, make_checker):
    """A cold connection's slow first answer must not write DEGRADED then UP into the timeline."""
    server.route("/slowish", delay=0.15)
    checker = make_checker([spec(server.url("/slowish"), interval=0, fail_threshold=2, degraded_ms=50)])
    first = (await checker.poll()).services[0]
    assert first.state is State.UP and first.reason.startswith("slow: ")
    second = (await checker.poll()).services[0]
    assert second.state is State.DEGRADED
    server.route("/slowish", status=200)
    assert (await checker.poll()).services[0].state is State.UP


async def test_first_failure_stays_unknown(server, make_checker):
    server.route("/healthz", status=500)
    checker = make_checker([spec(server.url("/healthz"), interval=0, fail_threshold=2)])
    first = (await checker.poll()).services[0]
    assert (first.state, first.reason, first.consecutive_failures) == (State.UNKNOWN, "HTTP 500", 1)
    second = (await checker.poll()).services[0]
    assert second.state is State.DOWN


async def test_history_is_bounded(server, make_checker):
    server.route("/healthz")
    checker = make_checker([spec(server.url("/healthz"), interval=0)], history=3)
    for _ in range(5):
        snap = await checker.poll()
    assert len(snap.services[0].history) == 3


async def test_interval_scheduling(server, make_checker):
    server.route("/a")
    server.route("/b")
    clock = FakeClock()
    checker = make_checker(
        [spec(server.url("/a"), name="a", interval=10), spec(server.url("/b"), name="b", interval=1)],
        clock=clock,
    )
    assert checker.next_due_in() == 0
    first = await checker.poll()
    assert server.hits == {"/a": 1, "/b": 1}
    assert checker.next_due_in() == pytest.approx(1.0)

    clock.now += 0.5
    second = await checker.poll()
    assert server.hits == {"/a": 1, "/b": 1}           # nothing due: nothing re-checked
    assert second.services == first.services            # ... and last results kept

    clock.now += 0.5
    third = await checker.poll()
    assert server.hits == {"/a": 1, "/b": 2}
    assert third.services[0] == first.services[0]
    assert third.services[1].checked_at > first.services[1].checked_at
    assert checker.next_due_in() == pytest.approx(1.0)

    clock.now += 9
    await checker.poll()
    assert server.hits == {"/a": 2, "/b": 3}


async def test_checks_run_in_parallel(server, make_checker):
    n = 6
    barrier = threading.Barrier(n, timeout=5)   # only passes if all n requests are in flight at once

    def meet(handler: BaseHTTPRequestHandler) -> None:
        try:
            barrier.wait()
            status = 200
        except threading.BrokenBarrierError:
            status = 500
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.route("/meet", handler=meet)
    checker = make_checker([spec(server.url("/meet"), name=f"s{i}", timeout=8) for i in range(n)])
    snap = await checker.poll()
    assert [s.state for s in snap.services] == [State.UP] * n


async def test_semaphore_bounds_concurrency(server, make_checker):
    lock = threading.Lock()
    inflight = [0, 0]   # now, max

    def count(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            inflight[0] += 1
            inflight[1] = max(inflight[1], inflight[0])
        server.release.wait(0.05)
        with lock:
            inflight[0] -= 1
        handler.send_response(200)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    server.route("/count", handler=count)
    checker = make_checker([spec(server.url("/count"), name=f"s{i}") for i in range(8)], concurrency=2)
    snap = await checker.poll()
    assert all(s.state is State.UP for s in snap.services)
    assert 1 <= inflight[1] <= 2


# --- snapshot level, summary, events ----------------------------------------------------------

async def test_no_services(make_checker):
    checker = make_checker([])
    snap = await checker.poll()
    assert (snap.level, snap.summary, snap.services) == (Level.UNKNOWN, NO_SERVICES_HINT, ())
    assert checker.next_due_in() > 0


async def test_snapshot_level_and_summary(server, make_checker):
    server.route("/up")
    server.route("/down", status=503)
    up = [spec(server.url("/up"), name=f"up{i}") for i in range(3)]
    checker = make_checker(up)
    before = checker.snapshot()
    assert before.level is Level.UNKNOWN and before.summary == "checking 3 services…"
    snap = await checker.poll()
    assert (snap.level, snap.summary) == (Level.OK, "all 3 UP")

    checker = make_checker([*up, spec(server.url("/down"), name="payments")])
    snap = await checker.poll()
    assert (snap.level, snap.summary) == (Level.CRIT, "payments DOWN · HTTP 503")


def _st(name: str, state: State, reason: str = "", since_s: float = 0, **kw) -> ServiceStatus:
    base = HealthSnapshot().taken_at.replace(microsecond=0)
    return ServiceStatus(name=name, url="http://x/", state=state, reason=reason,
                         since=base + timedelta(seconds=since_s), **kw)


def test_summarize_levels():
    assert summarize([_st("a", State.UP), _st("b", State.DEGRADED, "slow: 900 ms > 800 ms")]) == (
        Level.WARN, "b DEGRADED · slow: 900 ms > 800 ms")
    level, text = summarize([_st("a", State.DEGRADED, "slow"), _st("b", State.DOWN, "HTTP 500"),
                             _st("c", State.DOWN, "timeout after 2.0 s", consecutive_failures=5)])
    assert level is Level.CRIT
    assert text == "c DOWN · timeout after 2.0 s (+2 more)"
    assert summarize([_st("a", State.UNKNOWN, "HTTP 500", checked_at=_st("a", State.UP).since)])[0] is Level.UNKNOWN
    assert summarize([_st("solo", State.UP)]) == (Level.OK, "solo UP")


def test_changes_events():
    def snap(*services):
        return HealthSnapshot(services=tuple(services))

    unknown = snap(_st("payments", State.UNKNOWN, "not checked yet"))
    assert changes(None, unknown) == []
    assert changes(unknown, snap(_st("payments", State.UP, "HTTP 200"))) == []

    up = snap(_st("payments", State.UP, "HTTP 200"))
    down = snap(_st("payments", State.DOWN, "HTTP 503", since_s=10))
    (ev,) = changes(up, down)
    assert (ev.key, ev.state, ev.text, ev.level) == (
        "health:payments", "DOWN", "payments DOWN: HTTP 503 (was UP)", Level.CRIT)
    assert changes(down, down) == []

    again = snap(_st("payments", State.UP, "HTTP 200", since_s=10 + 192))
    (ev,) = changes(down, again)
    assert (ev.state, ev.text, ev.level) == ("UP", "payments UP again after 3m12s DOWN", Level.OK)

    (ev,) = changes(None, snap(_st("auth", State.DOWN, "connection refused")))
    assert ev.text == "auth DOWN: connection refused"

    slow = snap(_st("payments", State.DEGRADED, "slow: 1234 ms > 800 ms"))
    (ev,) = changes(up, slow)
    assert (ev.text, ev.level) == ("payments DEGRADED: slow: 1234 ms > 800 ms (was UP)", Level.WARN)


async def test_changes_from_real_polls(server, make_checker):
    server.route("/healthz", status=200)
    checker = make_checker([spec(server.url("/healthz"), name="payments", interval=0)])
    s0 = checker.snapshot()
    s1 = await checker.poll()
    server.route("/healthz", status=503)
    s2 = await checker.poll()
    assert changes(s0, s1) == []
    assert [e.text for e in changes(s1, s2)] == ["payments DOWN: HTTP 503 (was UP)"]


# --- text helpers -------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "shown"), [
    ("https://user:pw@example.test/healthz", "https://example.test/healthz"),
    ("https://example.test:8443/h?token=abc&x=1#frag", "https://example.test:8443/h?token=***&x=1"),
    ("http://h/p?api_key=k&Signature=s&access_token=t", "http://h/p?api_key=***&Signature=***&access_token=***"),
    ("http://h/p?id=AbCdEf0123456789xyzQWE", "http://h/p?id=***"),
    ("http://h/p?verbose=1&region=eu", "http://h/p?verbose=1&region=eu"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_format_duration():
    assert [format_duration(s) for s in (0, 45, 252, 7380, 100000)] == ["0s", "45s", "4m12s", "2h03m", "1d03h"]


async def test_many_services_share_a_few_pooled_clients(server, make_checker):
    import checks.health as health

    server.route("/healthz")
    n = health.ONE_CLIENT_UP_TO + 8
    checker = make_checker([spec(server.url("/healthz"), name=f"s{i}") for i in range(n)])
    snap = await checker.poll()
    assert [s.reason for s in snap.services if s.state is not State.UP] == []
    assert len(checker._clients) == -(-n // health.POOL_SHARD)
    assert server.hits["/healthz"] == n


async def test_poll_never_raises(server, make_checker, monkeypatch):
    import checks.health as health

    server.route("/healthz")
    checker = make_checker([spec(server.url("/healthz"))])

    async def broken_probe(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(health, "_probe", broken_probe)
    st = (await checker.poll()).services[0]
    assert (st.state, st.reason) == (State.DOWN, "check failed (RuntimeError)")

    monkeypatch.setattr(checker, "_clock", lambda: 1 / 0)
    snap = await checker.poll()
    assert snap.error == "health checks failed: ZeroDivisionError"
    assert snap.services[0].state is State.DOWN          # last results kept
