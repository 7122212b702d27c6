"""Real HTTP services on loopback whose health follows the scenario clock."""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import Callable

from ..loop_thread import LoopThread

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
    server: asyncio.base_events.Server

    @property
    def port(self) -> int:
        return self.server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"


class DemoServices:
    """One HTTP/1.1 server per service, each on a free loopback port, all on one asyncio
    loop of their own.

    They answer the dashboard's health checks from inside the demo's process, so what a
    request costs them is billed to the demo: http.server parsed each request with the
    email package, on a thread per connection (~300-470 µs of CPU a request), and wrote
    the headers and the body separately, which Nagle's algorithm and delayed ACKs held
    back 40 ms on every answer. Here a request is one buffer split and one write
    (keep-alive, Content-Length, GET and HEAD): the whole protocol a health check needs."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.running: list[RunningService] = []
        self._loop: LoopThread | None = None
        self._connections: set[_HealthProtocol] = set()

    def start(self) -> "DemoServices":
        self._loop = LoopThread("demo-services")

        async def listen() -> list[RunningService]:
            loop = asyncio.get_running_loop()
            return [RunningService(name, await loop.create_server(
                        lambda b=behaviour: _HealthProtocol(  # type: ignore[misc]  # mypy cannot type a default-bound lambda
                            b, self.clock, self._connections), "127.0.0.1", 0))
                    for name, behaviour in SERVICES.items()]

        try:
            self.running = self._loop.run(listen(), timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    def urls(self) -> dict[str, str]:
        return {s.name: s.url for s in self.running}

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        running, self.running = self.running, []

        async def close() -> None:
            for service in running:
                service.server.close()
            for connection in list(self._connections):
                connection.close()      # and the answers still waiting out their delay
            for service in running:
                await service.server.wait_closed()

        loop.stop(close(), timeout=3)


_MAX_HEAD = 64 * 1024


class _HealthProtocol(asyncio.Protocol):
    """One connection: requests answered in turn, each after its behaviour's delay."""

    def __init__(self, behaviour: Behaviour, clock: Callable[[], float], connections: set) -> None:
        self.behaviour, self.clock, self.connections = behaviour, clock, connections
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.waiting: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport      # type: ignore[assignment]
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        # A health check that timed out hangs up mid-answer: expected.
        self.connections.discard(self)
        if self.waiting is not None:
            self.waiting.cancel()

    def close(self) -> None:
        if self.waiting is not None:
            self.waiting.cancel()
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next_request()

    def _next_request(self) -> None:
        if self.waiting is not None:
            return          # answering one already; the next waits in the buffer
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > _MAX_HEAD:
                self._refuse()
            return
        lines = self.buffer[:end].split(b"\r\n")
        parts = lines[0].split()
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip()) if value.strip().isdigit() else -1
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1.") or length < 0:
            self._refuse()
            return
        if len(self.buffer) < end + 4 + length:
            return          # the body is still on its way
        self.buffer = self.buffer[end + 4 + length:]
        status, delay, body = self.behaviour(self.clock())
        self.waiting = asyncio.get_running_loop().call_later(
            delay, self._answer, status, body, parts[0] == b"HEAD")

    def _answer(self, status: int, body: dict, head_only: bool) -> None:
        self.waiting = None
        if self.transport is None or self.transport.is_closing():
            return
        data = json.dumps(body).encode()
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        self.transport.write(head if head_only else head + data)
        self._next_request()

    def _refuse(self) -> None:
        if self.transport is not None:
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()
        self.buffer = b""
