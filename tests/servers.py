"""Real local HTTP(S) servers for tests and benchmarks (loopback only, port 0).

* :class:`LocalHTTPServer` - threaded ``http.server`` with per-path :class:`Route`s
  (status, body, headers, delay, a streamed huge body, or a custom handler),
  optional TLS, and a hit counter. Delays wait on an Event that ``close()`` sets,
  so a test never waits for a "slow" handler on shutdown.
* :func:`make_tls` - a trustme CA and a server certificate for 127.0.0.1/localhost.
* :func:`refused_port` - a loopback port nobody listens on.
* :class:`AsyncDelayServer` - a tiny asyncio HTTP/1.1 server for benchmarks:
  ``GET /delay/<ms>`` answers after that many milliseconds; keep-alive.

Usage::

    with LocalHTTPServer() as srv:
        srv.route("/healthz", status=200, body=b'{"status": "ok"}')
        url = srv.url("/healthz")
"""
from __future__ import annotations

import asyncio
import collections
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Upper bound for any artificial delay, so a forgotten release can't hang a test run.
MAX_DELAY_S = 10.0
_FILLER = b"." * 65536


@dataclass
class Route:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0              # seconds before answering (cut short by close())
    stream_bytes: int = 0           # extra filler bytes streamed after ``body``
    # Full control: called with the request handler instead of the fields above.
    handler: Callable[[BaseHTTPRequestHandler], None] | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive, so clients can reuse connections
    timeout = 5                     # an idle keep-alive connection doesn't pin a thread forever
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet tests
        pass

    def _serve(self) -> None:
        owner = self.server.owner
        path = self.path.split("?", 1)[0]
        owner._hit(path, self)
        route = owner.routes.get(path)
        if route is None:
            route = Route(status=404, body=b"not found")
        if route.delay:
            owner.release.wait(min(route.delay, MAX_DELAY_S))
        if route.handler is not None:
            route.handler(self)
            return
        try:
            self.send_response(route.status)
            headers = {"Content-Type": "text/plain", **route.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body) + route.stream_bytes))
            self.end_headers()
            if self.command == "HEAD":
                return
            self.wfile.write(route.body)
            left = route.stream_bytes
            while left > 0 and not owner.release.is_set():
                chunk = _FILLER[: min(left, len(_FILLER))]
                self.wfile.write(chunk)
                left -= len(chunk)
                owner._sent(path, len(chunk))
            if left > 0:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            # The client stopped reading (exactly what a bounded reader should do).
            self.close_connection = True

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The default backlog of 5 drops SYNs when a test fires dozens of requests at
    # once, and a dropped SYN costs a 1 s retransmit: flaky timeouts.
    request_queue_size = 256
    owner: "LocalHTTPServer"

    def finish_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self.owner._lock:
            self.owner.connections += 1
            self.owner._open.add(request)
        try:
            self._finish(request, client_address)
        finally:
            with self.owner._lock:
                self.owner._open.discard(request)

    def _finish(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        # TLS handshake in the per-connection thread, not the accept loop, so one
        # stalled or rejected client can't block the server.
        ctx = self.owner.ssl_context
        if ctx is not None:
            try:
                request.settimeout(5)
                request = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        pass


class LocalHTTPServer:
    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self._port = port               # 0: any free port; a given one brings a stopped server back
        self.ssl_context = ssl_context
        self.host = host
        self.release = threading.Event()
        self.hits: collections.Counter[str] = collections.Counter()
        self.request_headers: dict[str, dict[str, str]] = {}
        self.streamed: collections.Counter[str] = collections.Counter()   # filler bytes written per path
        self.connections = 0            # TCP connections accepted (keep-alive reuse shows as fewer)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()   # accepted connections, cut by close() as a stopped server would
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def route(self, path: str, **kwargs: object) -> Route:
        r = Route(**kwargs)  # type: ignore[arg-type]
        self.routes[path] = r
        return r

    def _hit(self, path: str, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.hits[path] += 1
            self.request_headers[path] = dict(handler.headers.items())

    def _sent(self, path: str, n: int) -> None:
        with self._lock:
            self.streamed[path] += n

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> LocalHTTPServer:
        self._server = _Server((self.host, self._port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            open_now = list(self._open)
        for sock in open_now:      # a stopped server answers nothing more, kept-alive or not
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class TLSMaterial:
    server_context: ssl.SSLContext
    ca_path: str                      # PEM of the CA that signed the server cert


def make_tls(directory: Path) -> TLSMaterial:
    """A fresh trustme CA, a cert for 127.0.0.1 and localhost, and the CA written to a file."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    ca_path = Path(directory) / "test-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return TLSMaterial(server_context=ctx, ca_path=str(ca_path))


def refused_port(host: str = "127.0.0.1") -> int:
    """A port that was just free: bind, read the port, close. Connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class AsyncDelayServer:
    """Minimal keep-alive HTTP/1.1 server on the running loop: ``GET /delay/<ms>``.

    Meant for load benchmarks: no thread per connection, a deep accept backlog (a
    full SYN queue costs a 1 s retransmit, which would ruin any timing).
    """

    def __init__(self, host: str = "127.0.0.1", backlog: int = 4096) -> None:
        self.host = host
        self.backlog = backlog
        self.requests = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def _sent(self, path: str, n: int) -> None:
        with self._lock:
            self.streamed[path] += n

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def start(self) -> AsyncDelayServer:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, backlog=self.backlog, limit=16384
        )
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                target = head.split(b" ", 2)[1].decode("latin-1") if head.count(b" ") >= 2 else "/"
                status, body = b"200 OK", b"ok"
                if target.startswith("/delay/"):
                    try:
                        await asyncio.sleep(min(int(target[7:].split("?")[0]) / 1000.0, MAX_DELAY_S))
                    except ValueError:
                        status, body = b"400 Bad Request", b"bad delay"
                self.requests += 1
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def aclose(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for w in list(self._writers):
            w.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), 5)
        except TimeoutError:
            pass
        self._server = None

    async def __aenter__(self) -> AsyncDelayServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --- a delay server in a child process (benchmarks: keep server CPU off the measured loop) ---

def _serve_delay_forever(ports: int) -> None:
    async def main() -> None:
        servers = [await AsyncDelayServer().start() for _ in range(ports)]
        print(" ".join(str(s.port) for s in servers), flush=True)
        # Exit when the parent closes our stdin (or dies).
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)
        for s in servers:
            await s.aclose()

    asyncio.run(main())


class DelayServerProcess:
    """``AsyncDelayServer``s on ``ports`` ports in a child process.

    On a 2-core machine a server sharing the checker's event loop would bill its
    own CPU to the round being measured.
    """

    def __init__(self, ports: int = 4, host: str = "127.0.0.1") -> None:
        self.host = host
        self.n_ports = ports
        self.ports: list[int] = []
        self._proc: subprocess.Popen[str] | None = None

    def start(self) -> DelayServerProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.servers", "delay-server", str(self.n_ports)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=str(Path(__file__).resolve().parent.parent),
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.strip():
            self.close()
            raise RuntimeError("delay server process did not start")
        self.ports = [int(p) for p in line.split()]
        return self

    def url(self, i: int, path: str) -> str:
        return f"http://{self.host}:{self.ports[i % len(self.ports)]}{path}"

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> DelayServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "delay-server":
        _serve_delay_forever(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
