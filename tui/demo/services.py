"""Real HTTP services on loopback whose health follows the scenario clock."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# A behaviour maps scenario seconds to (status, delay in seconds, JSON body).
Behaviour = Callable[[float], tuple[int, float, dict]]


def _ok(delay: float = 0.02) -> tuple[int, float, dict]:
    return 200, delay, {"status": "ok"}


def api_gateway(t: float) -> tuple[int, float, dict]:
    # The gateway stays up but slows while payments times out behind it.
    return _ok(0.25 if 25 <= t < 62 else 0.03)


def auth(t: float) -> tuple[int, float, dict]:
    return _ok(0.015)


def payments(t: float) -> tuple[int, float, dict]:
    if 15 <= t < 25:
        return 200, 1.1, {"status": "ok", "note": "card-token cache warming"}
    if 25 <= t < 62:
        return 503, 0.05, {"status": "fail", "error": "upstream card-token cache exhausted"}
    return _ok(0.06)


def search(t: float) -> tuple[int, float, dict]:
    # Flaps: alternating 6 s windows of errors between 30 s and 78 s.
    if 30 <= t < 78 and int((t - 30) // 6) % 2 == 0:
        return 500, 0.02, {"status": "fail", "error": "shard 3 not responding"}
    return _ok(0.04)


def web(t: float) -> tuple[int, float, dict]:
    return _ok(0.12 if 25 <= t < 62 else 0.03)


SERVICES: dict[str, Behaviour] = {
    "api-gateway": api_gateway,
    "auth": auth,
    "payments": payments,
    "search": search,
    "web": web,
}


@dataclass
class RunningService:
    name: str
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/healthz"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A health check that timed out hangs up mid-answer: expected, not worth a traceback on the screen.
        pass


class DemoServices:
    """One ThreadingHTTPServer per service, each on a free port."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.running: list[RunningService] = []
        self._stopping = threading.Event()

    def start(self) -> "DemoServices":
        for name, behaviour in SERVICES.items():
            server = _QuietServer(("127.0.0.1", 0), self._handler(behaviour))
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                                      name=f"demo-{name}", daemon=True)
            thread.start()
            self.running.append(RunningService(name, server, thread))
        return self

    def _handler(self, behaviour: Behaviour) -> type[BaseHTTPRequestHandler]:
        services = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # the demo's terminal is the dashboard
                pass

            def do_GET(self) -> None:  # noqa: N802 - stdlib naming
                status, delay, body = behaviour(services.clock())
                # Waiting on the stop event (not sleep) lets shutdown finish at once.
                if services._stopping.wait(delay):
                    return
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self.running}

    def stop(self) -> None:
        self._stopping.set()
        # shutdown() waits for the server's next poll (poll_interval, 0.5 s: a slower poll
        # costs less CPU while the demo runs); all of them at once, so exit waits for one.
        stoppers = [threading.Thread(target=s.server.shutdown, daemon=True) for s in self.running]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join(timeout=3)
        for service in self.running:
            service.server.server_close()
            service.thread.join(timeout=2)
        self.running.clear()
