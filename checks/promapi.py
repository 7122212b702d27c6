"""Bounded requests to Prometheus, Alertmanager and node_exporter (httpx): checks.alerts, metrics, node_exporter.

Every answer is hostile until parsed: it is read as a stream and cut at ``limit``
bytes (an endless or huge body costs at most that), compressed answers are refused
(identity is asked for, so inflation can never multiply the bound), the whole request
is bounded by ``asyncio.timeout`` (a server trickling bytes would otherwise never time
out), and a failure becomes an :class:`ApiError` whose ``reason`` is short words —
never the URL, which may hold secrets.
"""
from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from checks._lazy import LazyModule

if TYPE_CHECKING:
    import httpx
else:
    httpx = LazyModule("httpx")

ANSWER_LIMIT = 8 * 1024 * 1024      # 1,000 alerts with labels and annotations are ~1.5 MB
MESSAGE_LIMIT = 300                  # characters of a server's error message kept


class ApiError(Exception):
    """A request that gave no usable answer. ``status`` is the HTTP status when there was one,
    ``message`` the server's own error text (e.g. Prometheus' PromQL error)."""

    def __init__(self, reason: str, *, status: int | None = None, message: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.message = message


def new_client(headers: tuple[tuple[str, str], ...], *, connections: int = 100, keepalive: int = 20,
               verify: Any = True) -> "httpx.AsyncClient":
    """A client made on the source's own loop: connections are kept across rounds. httpx's own
    transport (one request a poll: alerts, node_exporter). ``verify`` may be one SSL context
    shared by several clients (loading the CA bundle is milliseconds a client)."""
    return httpx.AsyncClient(headers=[("Accept-Encoding", "identity"), *headers], follow_redirects=False,
                             limits=httpx.Limits(max_connections=connections, max_keepalive_connections=keepalive),
                             verify=verify)


def new_clients(headers: tuple[tuple[str, str], ...], count: int, size: int) -> list["httpx.AsyncClient"]:
    """``count`` clients of ``size`` connections each, all kept alive between rounds, sharing one
    SSL context (checks.metrics: several small pools instead of one large one). On
    checks.asyncio_net's transport unless the environment names a proxy (httpx's own transport
    routes through it): with every connection kept, its pool asks each idle connection whether
    it is readable every time a request starts or ends, which anyio answers by building a dict
    of the socket's attributes (a third of a round's CPU)."""
    from checks import asyncio_net

    verify = httpx.create_ssl_context()
    if asyncio_net.environment_proxies():
        return [new_client(headers, connections=size, keepalive=size, verify=verify) for _ in range(count)]
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    return [httpx.AsyncClient(headers=[("Accept-Encoding", "identity"), *headers], follow_redirects=False,
                              transport=asyncio_net.AsyncioTransport(ssl_context=verify, limits=limits))
            for _ in range(count)]


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def _error_message(body: bytes) -> str:
    """The server's words for a failure: Prometheus' ``{"error": …}``, Alertmanager's JSON string or text."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return _short(text)
    if isinstance(data, dict):
        return _short(str(data.get("error") or data.get("message") or ""))
    return _short(str(data)) if isinstance(data, str) else ""


async def _read(response: "httpx.Response", limit: int, *, cut: bool = False) -> bytes:
    """At most ``limit`` bytes of the body: beyond that an error, or (``cut``) the first ``limit``."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ApiError(f"compressed answer ({_short(encoding)[:20]}) refused")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > limit:
            if cut:
                chunks.append(chunk[: limit - (size - len(chunk))])
                break
            raise ApiError(f"answer larger than {limit // 1024} KB")
        chunks.append(chunk)
    return b"".join(chunks)


async def request_bytes(client: "httpx.AsyncClient", method: str, url: str, *, timeout: float,
                        params: Any = None, body: Any = None, limit: int = ANSWER_LIMIT) -> bytes:
    """The raw body of a 2xx response (at most ``limit`` bytes); anything else raises :class:`ApiError`."""
    from checks.health import describe_error

    try:
        async with asyncio.timeout(timeout):
            async with client.stream(method, url, params=params, json=body, timeout=timeout) as response:
                status = response.status_code
                ok = 200 <= status < 300
                # An error's message is only shown in part: its first 64 KB are plenty.
                raw = await _read(response, limit if ok else 64 * 1024, cut=not ok)
    except ApiError as exc:
        raise exc from None
    except (Exception, TimeoutError) as exc:  # noqa: BLE001 - every failure is data: a reason in words
        raise ApiError(describe_error(exc, timeout)) from None
    if not 200 <= status < 300:
        message = _error_message(raw)
        raise ApiError(f"HTTP {status}" + (f": {message}" if message else ""), status=status, message=message)
    return raw


async def request_json(client: "httpx.AsyncClient", method: str, url: str, *, timeout: float,
                       params: Any = None, body: Any = None, limit: int = ANSWER_LIMIT) -> Any:
    """The parsed JSON answer of a 2xx response; anything else raises :class:`ApiError`."""
    raw = await request_bytes(client, method, url, timeout=timeout, params=params, body=body, limit=limit)
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError("malformed answer (not JSON)", status=200) from None
