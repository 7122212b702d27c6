"""Health checks against endpoints that misbehave on purpose.

Each scenario is a real server on 127.0.0.1: ``LocalHTTPServer`` where a normal
HTTP server can be made to misbehave enough (huge bodies, redirect loops), and a
bare socket server (:class:`RawServer`) where it cannot (trickled bytes, garbage
instead of HTTP, a reset in the middle of a body). Every check must end, within
its timeout, as a snapshot with a reason in words; ``poll()`` never raises, and a
hostile body never costs more than a bounded read.

The elapsed-time asserts are generous safety nets (a hung check would otherwise
hang the suite), not performance measurements.
"""
from __future__ import annotations

import functools
import gzip
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import replace

import pytest

from checks.health import HealthChecker, HealthSnapshot, ServiceStatus, State
from checks.specs import KubeSpec, ServiceSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Kind, Severity
from tui.sources import build_live

from .pilot_wait import wait_for
from .servers import LocalHTTPServer

pytestmark = [pytest.mark.timeout(60), pytest.mark.serial]  # serial: wall-clock limits (pyproject markers)

BIG = 50 * 1024 * 1024                 # the "50 MB" body
MEMORY_BOUND = 4 * 1024 * 1024         # a poll against it may peak at a few MB, never at the body's size
SAFETY_NET_S = 10.0                    # far above every timeout used here; only catches a hang
TRICKLE_S = 0.2                        # slowloris: one byte per this many seconds



@functools.cache
def gzip_bomb() -> bytes:
    """50 MiB of zeros, gzipped to ~50 KB: a decompression bomb, small on the wire."""
    return gzip.compress(b"\0" * BIG, compresslevel=9)


# --- a bare socket server ----------------------------------------------------------------

Serve = Callable[[socket.socket, threading.Event], None]


class RawServer:
    """A TCP listener on 127.0.0.1 (port 0) running ``serve(conn, stop)`` in a thread
    per connection. Leaving the ``with`` block sets ``stop`` (every wait in a serve
    function is on it) and closes every socket, so nothing outlives the test."""

    def __init__(self, serve: Serve) -> None:
        self.serve = serve
        self.stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.settimeout(0.05)
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._accept = threading.Thread(target=self._accept_loop, name="raw-server", daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def url(self, path: str = "/healthz") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(5)
            with self._lock:
                self._conns.append(conn)
                worker = threading.Thread(target=self._serve_one, args=(conn,), daemon=True)
                self._threads.append(worker)
            worker.start()

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            self.serve(conn, self.stop)
        except OSError:
            pass   # the client hung up: exactly what a bounded client does
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._accept.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._accept.join(timeout=5)
        self._listener.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        for worker in threads:
            worker.join(timeout=5)


def read_request(conn: socket.socket) -> None:
    """Consume the request head (bounded), so what follows is an answer to it."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def trickle(data: bytes) -> Serve:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        for i in range(len(data)):
            if stop.wait(TRICKLE_S):
                return
            conn.sendall(data[i:i + 1])
    return serve


def send_then_close(data: bytes) -> Serve:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        if data:
            conn.sendall(data)
        stop.wait(0.1)   # let the client read before the FIN
    return serve


def endless_headers(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.is_set():   # never the blank line that ends the head
        conn.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")


def reset_mid_body(conn: socket.socket, stop: threading.Event) -> None:
    read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nhello")
    # The client is now blocked reading the other 995 bytes; linger 0 makes close() send RST, not FIN.
    stop.wait(0.3)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# --- helpers ----------------------------------------------------------------------------

def hostile(url: str, **kwargs) -> ServiceSpec:
    kwargs.setdefault("name", "svc")
    kwargs.setdefault("timeout", 1.0)
    kwargs.setdefault("fail_threshold", 2)
    kwargs.setdefault("interval", 0.0)     # due on every poll
    kwargs.setdefault("degraded_ms", 60_000.0)
    return ServiceSpec(url=url, **kwargs)


def assert_in_words(reason: str) -> None:
    """A reason a person reads on a shared screen: short words, no Python leaking through."""
    assert reason and len(reason) <= 60, reason
    for leak in ("Traceback", "Error(", "Exception", "<", ">", "\n", "object at", "check failed ("):
        assert leak not in reason, f"{leak!r} in reason {reason!r}"


async def poll_timed(checker: HealthChecker) -> tuple[HealthSnapshot, float]:
    started = time.monotonic()
    snap = await checker.poll()          # a raise here fails the test: poll() never raises
    elapsed = time.monotonic() - started
    assert snap.error is None
    assert elapsed < SAFETY_NET_S, f"poll took {elapsed:.1f} s"
    return snap, elapsed


async def fail_twice(spec: ServiceSpec) -> tuple[ServiceStatus, ServiceStatus, float]:
    """Two polls: the first failure is damped (still UNKNOWN), the second turns it DOWN."""
    checker = HealthChecker([spec])
    try:
        first, t1 = await poll_timed(checker)
        second, t2 = await poll_timed(checker)
    finally:
        await checker.aclose()
    return first.services[0], second.services[0], max(t1, t2)


def assert_down_after_threshold(first: ServiceStatus, second: ServiceStatus, reason: str) -> None:
    assert (first.state, first.reason, first.consecutive_failures) == (State.UNKNOWN, reason, 1)
    assert (second.state, second.reason, second.consecutive_failures) == (State.DOWN, reason, 2)
    assert second.status_code is None and second.latency_ms is None
    assert_in_words(reason)


async def peak_memory_of_poll(checker: HealthChecker) -> tuple[HealthSnapshot, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        snap, _ = await poll_timed(checker)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return snap, peak


@pytest.fixture
def http():
    with LocalHTTPServer() as srv:
        srv.route("/ok", body=b"ok")
        yield srv


async def warm_up(http: LocalHTTPServer) -> None:
    """One ordinary check first, so lazily imported modules don't count as a poll's memory."""
    checker = HealthChecker([hostile(http.url("/ok"), body_contains="ok")])
    try:
        assert (await checker.poll()).services[0].state is State.UP
    finally:
        await checker.aclose()


# --- slowloris -------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", [
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", id="trickled-head"),
    pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"o" * 40, id="trickled-body"),
])
async def test_slowloris_times_out_and_goes_down(answer):
    # A byte every 0.2 s never trips httpx's per-read timeout; only the overall deadline ends it.
    with RawServer(trickle(answer)) as srv:
        first, second, slowest = await fail_twice(hostile(srv.url(), timeout=0.6, body_contains="ok"))
    assert_down_after_threshold(first, second, "timeout after 0.6 s")
    print(f"slowloris: slowest poll {slowest:.2f} s for a 0.6 s timeout")


async def check_once_measuring_memory(http, path: str, needle: str | None):  # noqa: ANN001
    """One check of ``path`` (body check ``needle``): its status and the poll's peak memory."""
    await warm_up(http)
    checker = HealthChecker([hostile(http.url(path), body_contains=needle, fail_threshold=1)])
    try:
        snap, peak = await peak_memory_of_poll(checker)
    finally:
        await checker.aclose()
    return snap.services[0], peak


# --- huge bodies -----------------------------------------------------------------------------

@pytest.mark.parametrize("needle,state,reason", [
    pytest.param("status ok", State.UP, "HTTP 200", id="needle-first"),
    pytest.param("never sent", State.DOWN, 'body missing "never sent"', id="needle-absent"),
])
async def test_50mb_body_is_read_bounded(http, needle, state, reason):
    http.route("/huge", body=b"status ok\n", stream_bytes=BIG)
    st, peak = await check_once_measuring_memory(http, "/huge", needle)
    assert (st.state, st.reason) == (state, reason)
    print(f"50 MB body ({needle!r}): peak {peak / 1e6:.2f} MB")
    assert peak < MEMORY_BOUND
    assert http.streamed["/huge"] < BIG        # the reader hung up long before the end


@pytest.mark.parametrize("needle,state,reason", [
    pytest.param(None, State.UP, "HTTP 200", id="status-only"),
    pytest.param("needle", State.DOWN, 'body missing "needle"', id="body-check"),
])
async def test_gzip_bomb_is_inflated_bounded(http, needle, state, reason):
    http.route("/bomb", body=gzip_bomb(), headers={"Content-Encoding": "gzip"})
    st, peak = await check_once_measuring_memory(http, "/bomb", needle)
    assert (st.state, st.reason) == (state, reason)
    print(f"gzip bomb ({len(gzip_bomb())} B -> 50 MiB, body check {needle!r}): peak {peak / 1e6:.2f} MB")
    assert peak < MEMORY_BOUND


async def test_compressed_bodies_are_still_checked(http):
    # Bounded inflating must still inflate: a compressed healthy answer is UP.
    http.route("/gz", body=gzip.compress(b'{"status": "ok"}'), headers={"Content-Encoding": "gzip"})
    http.route("/gz-text", body=gzip.compress(b"all systems nominal"), headers={"Content-Encoding": "gzip"})
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    http.route("/deflate", body=zlib.compress(b"deflate ok"), headers={"Content-Encoding": "deflate"})
    http.route("/raw-deflate", body=raw.compress(b"raw ok") + raw.flush(), headers={"Content-Encoding": "deflate"})
    http.route("/corrupt", body=b"\x1f\x8b\x08\x00 definitely not deflate data", headers={"Content-Encoding": "gzip"})
    http.route("/br", body=b"\x0b\x02\x80hello\x03", headers={"Content-Encoding": "br"})
    checker = HealthChecker([
        hostile(http.url("/gz"), name="json", json_field="status", json_equals="ok", fail_threshold=1),
        hostile(http.url("/gz-text"), name="text", body_contains="nominal", fail_threshold=1),
        hostile(http.url("/deflate"), name="deflate", body_contains="deflate ok", fail_threshold=1),
        hostile(http.url("/raw-deflate"), name="raw-deflate", body_contains="raw ok", fail_threshold=1),
        hostile(http.url("/corrupt"), name="corrupt", body_contains="ok", fail_threshold=1),
        hostile(http.url("/br"), name="br", body_contains="hello", fail_threshold=1),
    ])
    try:
        snap, _ = await poll_timed(checker)
    finally:
        await checker.aclose()
    by = {s.name: s for s in snap.services}
    assert {name: by[name].state for name in ("json", "text", "deflate", "raw-deflate")} == dict.fromkeys(
        ("json", "text", "deflate", "raw-deflate"), State.UP)
    # What cannot be decoded within bounds is a failure said in words, not a guess.
    assert (by["corrupt"].state, by["corrupt"].reason) == (State.DOWN, "bad compressed body")
    assert (by["br"].state, by["br"].reason) == (State.DOWN, "unsupported Content-Encoding br")
    # Only what can be inflated with a bound is asked for.
    assert http.request_headers["/gz"]["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize("payload", ["50mb-body", "gzip-bomb"])
async def test_redirect_carrying_a_huge_body_is_not_read(http, payload):
    # httpx, following redirects itself, reads each redirect's whole body into memory.
    if payload == "gzip-bomb":
        http.route("/moved", status=302, body=gzip_bomb(), headers={"Location": "/ok", "Content-Encoding": "gzip"})
    else:
        http.route("/moved", status=302, body=b"", stream_bytes=BIG, headers={"Location": "/ok"})
    await warm_up(http)
    checker = HealthChecker([hostile(http.url("/moved"), follow_redirects=True, body_contains="ok", fail_threshold=1)])
    try:
        snap, peak = await peak_memory_of_poll(checker)
    finally:
        await checker.aclose()
    st = snap.services[0]
    assert (st.state, st.reason) == (State.UP, "HTTP 200")
    print(f"redirect with a {payload}: peak {peak / 1e6:.2f} MB")
    assert peak < MEMORY_BOUND


# --- not HTTP at all ---------------------------------------------------------------------------

@pytest.mark.parametrize("serve", [
    pytest.param(send_then_close(b"\x00\xff\xfe\x13\x37 this is not HTTP \x00\r\n\r\n"), id="binary-junk"),
    pytest.param(send_then_close(b"HTTP/1.1 two-hundred OK\r\n\r\n"), id="bad-status-line"),
    pytest.param(send_then_close(b"HTTP/1.1 200 OK\r\nContent-Length: banana\r\n\r\nok"), id="bad-content-length"),
    pytest.param(send_then_close(b""), id="closed-without-answer"),
    pytest.param(endless_headers, id="endless-headers"),
])
async def test_garbage_instead_of_http(serve):
    with RawServer(serve) as srv:
        first, second, _ = await fail_twice(hostile(srv.url()))
    assert_down_after_threshold(first, second, "bad HTTP response")


async def test_connection_reset_mid_body():
    with RawServer(reset_mid_body) as srv:
        first, second, _ = await fail_twice(hostile(srv.url(), timeout=3.0))
    assert_down_after_threshold(first, second, "connection reset")


# --- redirects and names -------------------------------------------------------------------------

async def test_redirect_loop(http):
    http.route("/ping", status=302, body=b"", headers={"Location": "/pong"})
    http.route("/pong", status=307, body=b"", headers={"Location": "/ping"})
    http.route("/self", status=301, body=b"", headers={"Location": "/self?again=1"})
    checker = HealthChecker([
        hostile(http.url("/ping"), name="pingpong", follow_redirects=True, fail_threshold=1),
        hostile(http.url("/self"), name="self", follow_redirects=True, fail_threshold=1),
    ])
    try:
        snap, _ = await poll_timed(checker)
    finally:
        await checker.aclose()
    for st in snap.services:
        assert (st.state, st.reason) == (State.DOWN, "too many redirects"), st.name
    # httpx's limit: 20 redirects followed, then it gives up (21 requests), not endless.
    assert http.hits["/ping"] + http.hits["/pong"] == 21
    assert http.hits["/self"] == 21


async def test_dns_failure():
    first, second, _ = await fail_twice(hostile("http://warroom-hostile.invalid/healthz"))
    assert_down_after_threshold(first, second, "DNS lookup failed")


# --- all of it at once, and a healthy neighbour ---------------------------------------------------

@pytest.fixture
def hostile_world(http):
    http.route("/huge", body=b"", stream_bytes=BIG)
    http.route("/loop", status=302, body=b"", headers={"Location": "/loop"})
    with RawServer(trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")) as slow, \
            RawServer(send_then_close(b"\x00\xffnot http\r\n\r\n")) as junk, \
            RawServer(reset_mid_body) as reset:
        specs = {
            "slowloris": hostile(slow.url(), name="slowloris", timeout=0.6),
            "huge": hostile(http.url("/huge"), name="huge", body_contains="needle"),
            "junk": hostile(junk.url(), name="junk"),
            "reset": hostile(reset.url(), name="reset", timeout=2.0),
            "loop": hostile(http.url("/loop"), name="loop", follow_redirects=True),
            "dns": hostile("http://warroom-hostile.invalid/", name="dns"),
            "fine": hostile(http.url("/ok"), name="fine"),
        }
        yield specs


EXPECTED = {
    "slowloris": "timeout after 0.6 s",
    "huge": 'body missing "needle"',
    "junk": "bad HTTP response",
    "reset": "connection reset",
    "loop": "too many redirects",
    "dns": "DNS lookup failed",
}


async def test_all_hostile_at_once_leave_the_healthy_one_up(hostile_world):
    checker = HealthChecker(list(hostile_world.values()))
    try:
        # Two checks of every service (fail_threshold 2). A poll does not wait for the slowest
        # check (the slowloris' timeout): that one is reported by a later poll.
        started = time.monotonic()
        snap, _ = await poll_timed(checker)
        while min(len(s.history) for s in snap.services) < 2:
            snap, _ = await poll_timed(checker)
        elapsed = time.monotonic() - started
    finally:
        await checker.aclose()
    by = {s.name: s for s in snap.services}
    assert {name: (by[name].state, by[name].reason) for name in EXPECTED} == {
        name: (State.DOWN, reason) for name, reason in EXPECTED.items()}
    assert (by["fine"].state, by["fine"].reason) == (State.UP, "HTTP 200")
    assert snap.summary.endswith("(+5 more)")
    print(f"all hostile at once: two checks of each took {elapsed:.2f} s")


# --- the dashboard stays usable ------------------------------------------------------------------



async def test_dashboard_stays_responsive_while_endpoints_misbehave(hostile_world, store, tmp_path):
    # Generous timeouts except for the slowloris: on a busy machine the app's own event
    # loop must not turn a healthy neighbour into a timeout.
    specs = tuple(
        replace(spec, interval=0.2, timeout=spec.timeout if spec.name == "slowloris" else 3.0)
        for spec in hostile_world.values()
    )
    config = Config(services=specs, kubernetes=KubeSpec(enabled=False))
    incident = store.declare("everything upstream is hostile", Severity.SEV2, author="ic")
    live = build_live(config, incident=incident, cwd=tmp_path)   # tmp_path: no git repo to watch
    app = WarroomApp(store, incident.id, sources=live.sources, panes=live.panes, on_snapshot_hooks=live.hooks,
                     config=config, author="scribe")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen

        def health() -> HealthSnapshot | None:
            return screen._snapshots.get("health")

        def all_down() -> bool:
            snap = health()
            return snap is not None and all(
                s.state is State.DOWN for s in snap.services if s.name != "fine")

        assert await wait_for(pilot, all_down), health()
        by = {s.name: s for s in health().services}
        assert {name: by[name].reason for name in EXPECTED} == EXPECTED
        assert by["fine"].state is State.UP

        # Polls keep running against the hostile endpoints; the scribe's keys still work.
        # (Kept short: every pilot key press waits for this whole process, test servers
        # included, to go idle, which the 50 MB server streaming away never quite is.)
        started = time.monotonic()
        await pilot.press("n", *"still up", "enter")
        assert await wait_for(pilot, lambda: any(
            e.kind is Kind.NOTE and e.text == "still up" and e.author == "scribe"
            for e in store.timeline(incident.id)))
        assert await wait_for(pilot, lambda: any(
            e.text == "still up" for e in screen.query_one("TimelineView").entries))
        print(f"note typed, stored and shown in {time.monotonic() - started:.2f} s")
        assert not screen.query_one("HealthPane").has_class("-error")
        # The detector wrote each outage as one system entry.
        keys = [e.meta["key"] for e in store.timeline(incident.id) if e.kind is Kind.SYSTEM and "key" in e.meta]
        assert sorted(k for k in keys if k.startswith("health:")) == sorted(f"health:{name}" for name in EXPECTED)
