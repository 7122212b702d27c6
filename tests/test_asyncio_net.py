"""checks.asyncio_net, the httpcore network backend the health checks run on, against
real local servers: connects (IP literals, IPv6, names), refusals, timeouts, resets,
TLS verification failures, and the reasons describe_error makes of them."""
from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import struct
import threading
from pathlib import Path

import httpcore
import httpx
import pytest

from checks import asyncio_net
from checks.asyncio_net import AsyncioBackend, AsyncioTransport
from checks.health import HealthChecker, State, describe_error
from checks.specs import ServiceSpec
from tests.servers import LocalHTTPServer, make_tls, refused_port

pytestmark = pytest.mark.timeout(30)

GET = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Listener:
    """A bare TCP listener whose accepted connections ``serve(conn)`` in a thread; leaving
    the block closes everything (``stop`` is set first, for serve functions that wait)."""

    def __init__(self, serve, host: str = "127.0.0.1") -> None:
        self.serve = serve
        self.stop = threading.Event()
        self.sock = socket.create_server((host, 0), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve_one, args=(conn,), daemon=True).start()

    def _serve_one(self, conn: socket.socket) -> None:
        try:
            self.serve(conn, self.stop)
        except OSError:
            pass

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._thread.join(5)
        for conn in self.conns:
            conn.close()


def _read_head(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def answer_ok(conn: socket.socket, stop: threading.Event) -> None:
    _read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    stop.wait()


def never_answer(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait()


def reset_after_head(conn: socket.socket, stop: threading.Event) -> None:
    _read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()     # linger 0: an RST, not a FIN


def close_after_head(conn: socket.socket, stop: threading.Event) -> None:
    _read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\n\r\nuntil close")
    conn.shutdown(socket.SHUT_WR)


@contextlib.asynccontextmanager
async def connected(handler):
    """A Listener running ``handler`` and a stream connected to it (closed afterwards)."""
    with Listener(handler) as srv:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", srv.port, timeout=5)
        try:
            yield srv, stream
        finally:
            await stream.aclose()


async def read_all(stream: httpcore.AsyncNetworkStream) -> bytes:
    data = b""
    while chunk := await stream.read(65536, timeout=5):
        data += chunk
    return data


def causes(exc: BaseException) -> list[type]:
    found = []
    while exc is not None:
        found.append(type(exc))
        exc = exc.__cause__
    return found


# --- connects ---------------------------------------------------------------------------

async def test_ip_literal_round_trip_and_extra_info():
    async with connected(answer_ok) as (srv, stream):
        await stream.write(GET, timeout=5)
        assert await stream.read(65536, timeout=5) == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", srv.port)
        assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
        assert stream.get_extra_info("socket") is not None
        assert stream.get_extra_info("ssl_object") is None
        assert stream.get_extra_info("is_readable") is False     # idle, nothing unread


async def test_read_returns_at_most_max_bytes_then_the_rest():
    async with connected(answer_ok) as (srv, stream):
        await stream.write(GET, timeout=5)
        first = await stream.read(4, timeout=5)
        assert first == b"HTTP"
        rest = b""
        while not rest.endswith(b"ok"):
            rest += await stream.read(65536, timeout=5)
        assert first + rest == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_literal():
    with Listener(answer_ok, host="::1") as srv:
        stream = await AsyncioBackend().connect_tcp("::1", srv.port, timeout=5)
        try:
            assert stream.get_extra_info("server_addr")[:2] == ("::1", srv.port)
        finally:
            await stream.aclose()
        # And through httpx, with the bracketed URL form.
        async with httpx.AsyncClient(transport=_transport()) as client:
            response = await client.get(f"http://[::1]:{srv.port}/healthz")
    assert (response.status_code, response.text) == (200, "ok")


async def test_a_name_is_resolved():
    # "localhost" may resolve to ::1 and 127.0.0.1; the server only listens on the latter,
    # so this also covers falling back to the next address.
    with Listener(answer_ok) as srv:
        stream = await AsyncioBackend().connect_tcp("localhost", srv.port, timeout=5)
        try:
            await stream.write(GET, timeout=5)
            assert (await stream.read(65536, timeout=5)).endswith(b"ok")
        finally:
            await stream.aclose()


async def test_refused_is_a_connect_error_caused_by_the_os_error():
    with pytest.raises(httpcore.ConnectError) as info:
        await AsyncioBackend().connect_tcp("127.0.0.1", refused_port(), timeout=5)
    assert causes(info.value)[:2] == [httpcore.ConnectError, ConnectionRefusedError]
    assert describe_error(info.value, 5) == "connection refused"


async def test_refused_by_name():
    with pytest.raises(httpcore.ConnectError) as info:
        await AsyncioBackend().connect_tcp("localhost", refused_port(), timeout=5)
    assert describe_error(info.value, 5) == "connection refused"


async def test_unknown_name_is_a_dns_failure():
    with pytest.raises(httpcore.ConnectError) as info:
        await AsyncioBackend().connect_tcp("warroom-backend-test.invalid", 80, timeout=5)
    assert isinstance(info.value.__cause__, socket.gaierror)
    assert describe_error(info.value, 5) == "DNS lookup failed"


async def test_connect_timeout():
    # A zero budget expires before any connect can finish (even one on loopback).
    with Listener(never_answer) as srv:
        with pytest.raises(httpcore.ConnectTimeout) as info:
            await AsyncioBackend().connect_tcp("127.0.0.1", srv.port, timeout=0)
    assert isinstance(info.value.__cause__, TimeoutError)


async def test_local_address_and_socket_options():
    with Listener(answer_ok) as srv:
        stream = await AsyncioBackend().connect_tcp(
            "127.0.0.1", srv.port, timeout=5, local_address="127.0.0.1",
            socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)],
        )
        try:
            sock = stream.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        finally:
            await stream.aclose()


async def test_unix_socket(tmp_path):
    path = str(tmp_path / "s.sock")
    received = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readexactly(len(GET)))
        writer.write(b"pong")
        writer.close()

    server = await asyncio.start_unix_server(handle, path)
    try:
        stream = await AsyncioBackend().connect_unix_socket(path, timeout=5)
        await stream.write(GET, timeout=5)
        assert await read_all(stream) == b"pong"
        await stream.aclose()
    finally:
        server.close()
        await server.wait_closed()
    assert received == [GET]
    with pytest.raises(httpcore.ConnectError):
        await AsyncioBackend().connect_unix_socket(str(tmp_path / "nobody.sock"), timeout=5)


# --- reads and writes ---------------------------------------------------------------------

async def test_read_timeout():
    async with connected(never_answer) as (srv, stream):
        await stream.write(GET, timeout=5)
        with pytest.raises(httpcore.ReadTimeout):
            await stream.read(65536, timeout=0.05)


async def test_eof_reads_as_empty_and_readable():
    async with connected(close_after_head) as (srv, stream):
        await stream.write(GET, timeout=5)
        assert await read_all(stream) == b"HTTP/1.1 200 OK\r\n\r\nuntil close"
        # What httpcore asks of an idle pooled connection: gone, so not reusable.
        assert stream.get_extra_info("is_readable") is True
        assert await stream.read(65536, timeout=5) == b""
        with pytest.raises(httpcore.WriteError):
            await stream.write(GET, timeout=5)


async def test_reset_is_a_read_error_caused_by_the_reset():
    async with connected(reset_after_head) as (srv, stream):
        await stream.write(GET, timeout=5)
        with pytest.raises(httpcore.ReadError) as info:
            await read_all(stream)
    assert isinstance(info.value.__cause__, ConnectionResetError)
    # httpcore re-raises stream errors "from None": the reset must survive as the context.
    assert info.value.__context__ is info.value.__cause__
    assert describe_error(info.value, 5) == "connection reset"


async def test_write_timeout_when_the_peer_never_reads():
    async with connected(never_answer) as (srv, stream):
        # Far more than the kernel's socket buffers on both ends hold.
        with pytest.raises(httpcore.WriteTimeout):
            await stream.write(b"x" * (64 * 1024 * 1024), timeout=0.05)


async def test_reading_pauses_while_a_big_body_goes_unread():
    def flood(conn: socket.socket, stop: threading.Event) -> None:
        chunk = b"." * 65536
        while not stop.is_set():
            conn.sendall(chunk)

    async with connected(flood) as (srv, stream):
        protocol = stream._protocol
        while not protocol.reading_paused:
            await protocol.wait(5)
        buffered = protocol.buffered
        assert buffered <= asyncio_net._READ_HIGH_WATER + 256 * 1024   # one more recv at most
        # Paused: nothing more arrives until the reader takes some.
        await asyncio.sleep(0)
        assert protocol.buffered == buffered
        while protocol.reading_paused:
            await stream.read(65536, timeout=5)
        assert protocol.buffered <= asyncio_net._READ_HIGH_WATER // 4


# --- TLS ------------------------------------------------------------------------------------

def _client_context(ca_path: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_path)


def _tls_server(tmp_path: Path, *identities: str, expired: bool = False) -> tuple[LocalHTTPServer, str]:
    import trustme

    ca = trustme.CA()
    kwargs = {}
    if expired:
        now = datetime.datetime.now(datetime.timezone.utc)
        kwargs = {"not_before": now - datetime.timedelta(days=30), "not_after": now - datetime.timedelta(days=1)}
    cert = ca.issue_cert(*identities, **kwargs)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    srv = LocalHTTPServer(ssl_context=ctx)
    srv.route("/healthz", body=b"tls ok")
    return srv, str(ca_path)


async def _start_tls(port: int, ca_path: str, server_hostname: str = "127.0.0.1") -> httpcore.AsyncNetworkStream:
    stream = await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)
    return await stream.start_tls(_client_context(ca_path), server_hostname=server_hostname, timeout=5)


async def test_tls_round_trip(tmp_path):
    srv, ca_path = _tls_server(tmp_path, "127.0.0.1")
    with srv:
        tls = await _start_tls(srv.port, ca_path)
        try:
            assert tls.get_extra_info("ssl_object") is not None
            await tls.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout=5)
            assert (await read_all(tls)).endswith(b"tls ok")
        finally:
            await tls.aclose()


async def test_tls_unknown_ca(tmp_path):
    srv, _ = _tls_server(tmp_path, "127.0.0.1")
    other = make_tls(tmp_path)     # another CA
    with srv, pytest.raises(httpcore.ConnectError) as info:
        await _start_tls(srv.port, other.ca_path)
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert describe_error(info.value, 5) == "TLS: certificate verify failed"


async def test_tls_hostname_mismatch(tmp_path):
    srv, ca_path = _tls_server(tmp_path, "service.example")
    with srv, pytest.raises(httpcore.ConnectError) as info:
        await _start_tls(srv.port, ca_path)
    assert describe_error(info.value, 5) == "TLS: certificate verify failed (hostname mismatch)"


async def test_tls_expired_certificate(tmp_path):
    srv, ca_path = _tls_server(tmp_path, "127.0.0.1", expired=True)
    with srv, pytest.raises(httpcore.ConnectError) as info:
        await _start_tls(srv.port, ca_path)
    assert describe_error(info.value, 5) == "TLS: certificate verify failed (certificate expired)"


async def test_tls_to_a_plain_http_server(tmp_path):
    with LocalHTTPServer() as srv, pytest.raises(httpcore.ConnectError) as info:
        await _start_tls(srv.port, make_tls(tmp_path).ca_path)
    assert describe_error(info.value, 5) in ("TLS: handshake failed", "connection reset")


async def test_tls_handshake_timeout(tmp_path):
    with Listener(never_answer) as srv:
        stream = await AsyncioBackend().connect_tcp("127.0.0.1", srv.port, timeout=5)
        with pytest.raises(httpcore.ConnectTimeout):
            await stream.start_tls(_client_context(make_tls(tmp_path).ca_path), server_hostname="127.0.0.1",
                                   timeout=0.05)


# --- through httpx and the checker ------------------------------------------------------------

def _transport(**kwargs) -> AsyncioTransport:
    return AsyncioTransport(ssl_context=ssl.create_default_context(),
                            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4), **kwargs)


async def test_httpx_keeps_the_connection_alive():
    with LocalHTTPServer() as srv:
        srv.route("/healthz", body=b"alive")
        ports = set()
        async with httpx.AsyncClient(transport=_transport()) as client:
            for _ in range(3):
                async with client.stream("GET", srv.url("/healthz")) as response:
                    assert await response.aread() == b"alive"
                    ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
        assert len(ports) == 1
        assert srv.hits["/healthz"] == 3


async def test_the_checker_uses_this_backend(monkeypatch):
    connects = []
    real = AsyncioBackend.connect_tcp

    async def counting(self, host, port, **kwargs):
        connects.append((host, port))
        return await real(self, host, port, **kwargs)

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", counting)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with LocalHTTPServer() as srv:
        srv.route("/healthz")
        checker = HealthChecker([ServiceSpec(name="svc", url=srv.url("/healthz"), fail_threshold=1)])
        try:
            snap = await checker.poll()
        finally:
            await checker.aclose()
        assert connects == [("127.0.0.1", srv.port)]
    assert snap.services[0].state is State.UP


async def test_an_environment_proxy_is_still_honoured(monkeypatch):
    """With HTTP_PROXY set the checker uses httpx's own transports, which send the
    request to the proxy (here a local server answering for the absolute URL)."""
    for name in ("HTTPS_PROXY", "ALL_PROXY", "https_proxy", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with LocalHTTPServer() as proxy:
        proxy.route("http://health.invalid/healthz", body=b"via proxy")
        monkeypatch.setenv("HTTP_PROXY", proxy.url(""))
        monkeypatch.delenv("http_proxy", raising=False)
        checker = HealthChecker([ServiceSpec(name="svc", url="http://health.invalid/healthz", fail_threshold=1,
                                             body_contains="via proxy")])
        try:
            snap = await checker.poll()
        finally:
            await checker.aclose()
    assert (snap.services[0].state, snap.services[0].reason) == (State.UP, "HTTP 200")
