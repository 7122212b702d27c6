"""An httpcore network backend on plain asyncio, and the httpx transport that uses it.

httpx's default backend goes through anyio: every connect is a happy-eyeballs task
group plus a ``getaddrinfo`` call (in a worker thread, even for an IP literal), and
every read and write opens a cancel scope. In a cold round over a thousand services
that was most of the checker's CPU, and the round's slowest request only went out
after all of it. Here a connection is one ``loop.create_connection`` (which skips
name resolution for IP literals), TLS is ``loop.start_tls``, and a read is served
from a buffer the event loop fills, with a timer only when it has to wait.

Errors are httpcore's (``ConnectError``, ``ReadTimeout``, ...) with the original
``OSError``/``ssl.SSLError``/``socket.gaierror`` as ``__cause__``, as httpcore's own
backends raise them, so :func:`checks.health.describe_error` gives the same reasons.

This module imports httpx and httpcore: :mod:`checks.health` loads it lazily, at the
first poll, never while the dashboard starts.
"""
from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from collections import deque
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["AsyncioBackend", "AsyncioTransport"]

# Reading pauses once this much is buffered and unread: a server pushing a 50 MB body
# at a checker that wants 64 KiB of it must not fill memory at loopback speed.
_READ_HIGH_WATER = 256 * 1024
# Same as anyio's happy-eyeballs delay, for names (they may resolve to several addresses).
_HAPPY_EYEBALLS_DELAY = 0.25


def _is_ip_literal(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        return True
    return False


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class _Protocol(asyncio.Protocol):
    """Buffers what arrives and wakes the one task waiting for it (httpcore never reads
    or writes one connection from two tasks at once)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.eof = False
        self.lost = False
        self.error: BaseException | None = None     # why the connection was lost, if not cleanly
        self.reading_paused = False
        self.writing_paused = False
        self._waiter: asyncio.Future[bool] | None = None

    # -- the event loop's side --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered > _READ_HIGH_WATER and not self.reading_paused and self.transport is not None:
            self.reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False          # close our side too: HTTP/1.1 has no use for a half-open connection

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.error = exc
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(True)

    # -- the stream's side --

    async def wait(self, timeout: float | None) -> bool:
        """Until something happens (data, EOF, loss, writable again); False on timeout."""
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(timeout, _expire, waiter) if timeout is not None else None
        try:
            happened: bool = await waiter
            return happened
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def take(self, max_bytes: int) -> bytes:
        chunk = self.chunks.popleft()
        if len(chunk) > max_bytes:
            self.chunks.appendleft(chunk[max_bytes:])
            chunk = chunk[:max_bytes]
        self.buffered -= len(chunk)
        if self.reading_paused and self.buffered <= _READ_HIGH_WATER // 4 and not self.lost:
            self.reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()
        return chunk


def _lost(error_type: type[Exception], protocol: _Protocol) -> Exception:
    cause = protocol.error
    err = error_type(cause if cause is not None else "connection closed")
    # As context too, as if raised while handling it: httpcore re-raises stream errors
    # ``from None``, which clears the cause but keeps the context (describe_error reads both).
    err.__cause__ = err.__context__ = cause
    return err


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, transport: asyncio.Transport, protocol: _Protocol, *, tls: bool = False) -> None:
        self._transport = transport
        self._protocol = protocol
        self._tls = tls

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._protocol
        while not p.chunks:
            if p.lost or p.eof:
                if p.error is not None:
                    raise _lost(httpcore.ReadError, p)
                return b""
            if not await p.wait(timeout):
                raise httpcore.ReadTimeout(TimeoutError("read timed out"))
        return p.take(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        p = self._protocol
        if p.lost or self._transport.is_closing():
            raise _lost(httpcore.WriteError, p)     # a closed transport would drop the bytes silently
        self._transport.write(buffer)
        while p.writing_paused:
            if p.lost:
                raise _lost(httpcore.WriteError, p)
            if not await p.wait(timeout):
                raise httpcore.WriteTimeout(TimeoutError("write timed out"))

    async def aclose(self) -> None:
        # Like anyio's TLS streams with standard_compatible=False (httpcore's default
        # backend): no close_notify exchange, which a hostile peer could hold open.
        if self._tls:
            self._transport.abort()
        else:
            self._transport.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport, self._protocol, ssl_context, server_hostname=server_hostname,
                )
        except TimeoutError as exc:
            self._transport.abort()
            raise httpcore.ConnectTimeout(exc) from exc
        except (OSError, EOFError) as exc:   # ssl.SSLError is an OSError
            self._transport.abort()
            raise httpcore.ConnectError(exc) from exc
        return AsyncioStream(transport, self._protocol, tls=True)  # type: ignore[arg-type]

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info == "is_readable":
            # httpcore asks this of an idle keep-alive connection: readable means the
            # server closed it (or sent junk). The loop has already read whatever came.
            p = self._protocol
            return bool(p.chunks) or p.eof or p.lost
        return None


_SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


def _apply_options(transport: asyncio.BaseTransport, options: Iterable[_SocketOption] | None) -> None:
    if options:
        sock = transport.get_extra_info("socket")
        for option in options:
            sock.setsockopt(*option)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        extra: dict[str, Any] = {}
        if sys.version_info >= (3, 12):
            # Every address's own error, not one OSError("Multiple exceptions: ...").
            extra["all_errors"] = True
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_connection(
                    lambda: _Protocol(loop), host, port,
                    local_addr=(local_address, 0) if local_address else None,
                    # An IP literal is one plain connect; asyncio (before 3.12) would still
                    # run a one-entry staggered race of tasks for it.
                    happy_eyeballs_delay=None if _is_ip_literal(host) else _HAPPY_EYEBALLS_DELAY,
                    **extra,
                )
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(exc) from exc
        except OSError as exc:   # socket.gaierror is an OSError
            raise httpcore.ConnectError(exc) from exc
        except BaseExceptionGroup as group:   # all_errors=True
            raise httpcore.ConnectError(group) from group
        return self._stream(transport, protocol, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[_SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, protocol = await loop.create_unix_connection(lambda: _Protocol(loop), path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(exc) from exc
        except OSError as exc:
            raise httpcore.ConnectError(exc) from exc
        return self._stream(transport, protocol, socket_options)

    @staticmethod
    def _stream(transport: asyncio.BaseTransport, protocol: _Protocol,
                socket_options: Iterable[_SocketOption] | None) -> AsyncioStream:
        try:
            _apply_options(transport, socket_options)
        except OSError as exc:
            transport.close()
            raise httpcore.ConnectError(exc) from exc
        return AsyncioStream(transport, protocol)  # type: ignore[arg-type]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport over a connection pool on :class:`AsyncioBackend`.

    Only the pool is built here; requests go through httpx's own
    ``handle_async_request``, which maps httpcore's errors to httpx's. Environment
    proxies are not applied by a client given a transport: callers wanting them use
    httpx's default transport (see :func:`environment_proxies`).
    """

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        # Not super().__init__(): it would build (and load certificates for) a pool
        # on the anyio backend only for it to be replaced.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )


def environment_proxies() -> bool:
    """Whether the environment names an HTTP proxy that httpx's default client would use."""
    import urllib.request

    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
