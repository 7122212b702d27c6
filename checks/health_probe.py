"""One HTTP(S) health check: send, follow redirects, read a bounded body, judge it.

Split from checks/health.py (the checker: per-service state, scheduling, snapshots),
which calls ``_probe`` once per due service and turns its ``_Probe`` into a
``ServiceStatus``. Bodies are streamed and at most ``BODY_LIMIT`` bytes are read,
*after* decompression: gzip/deflate are inflated here with a cap on the output (httpx
would inflate a whole network chunk at once, and 50 KB of gzip can be 50 MB).
Redirects are followed here too, so a redirect's body is never read at all.
"""
from __future__ import annotations

import asyncio
import json
import re
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit, urlunsplit

from checks._lazy import LazyModule
from checks.specs import ServiceSpec
from tui.incident.http_errors import describe_error

if TYPE_CHECKING:
    import httpx
else:
    # httpx (with anyio, httpcore, certifi: ~20 ms) is only needed by the first poll.
    httpx = LazyModule("httpx")

BODY_LIMIT = 64 * 1024

# How long a failing service's error body may take to arrive before the connection is
# dropped instead of kept (the check's own timeout still bounds it).
ERROR_BODY_WAIT_S = 0.25
# The content codings _read_bounded can inflate with a bound; asked for explicitly so
# that a client with brotli installed never invites an answer we cannot bound.
_ACCEPT_ENCODING = "gzip, deflate"


_SECRET_NAME = re.compile(
    r"token|key|secret|pass|pwd|auth|sig|credential|session|jwt|bearer|code|ticket|nonce",
    re.IGNORECASE,
)


def _looks_secret(value: str) -> bool:
    # Long mixed letter+digit runs are what API keys look like even under innocent names.
    return len(value) >= 20 and any(c.isdigit() for c in value) and any(c.isalpha() for c in value)


def redact_url(url: str) -> str:
    """The URL safe to show on a shared screen: no userinfo, no fragment, secret-looking
    query values replaced by ``***`` (names kept so people still recognise the URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    netloc = parts.netloc.rpartition("@")[2]
    pieces = []
    for piece in parts.query.split("&") if parts.query else ():
        name, eq, value = piece.partition("=")
        if value and (_SECRET_NAME.search(name) or _looks_secret(value)):
            value = "***"
        pieces.append(f"{name}{eq}{value}")
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), ""))


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclass(frozen=True)
class _Probe:
    """What one request found, before damping decides the state."""

    ok: bool
    reason: str
    status_code: int | None = None
    latency_ms: float | None = None
    slow: bool = False


def _status_expected(code: int, ranges: Sequence[tuple[int, int]]) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


_Decoder = Callable[[bytes, int], bytes]   # (raw chunk, most bytes wanted) -> decoded bytes


def _raw(data: bytes, limit: int) -> bytes:
    return data


class _Inflater:
    """Inflates one gzip or deflate body, never producing more than asked for per call
    (zlib's ``max_length``); input left over past the limit is simply never needed."""

    def __init__(self, coding: str) -> None:
        # 32 + MAX_WBITS: a gzip or a zlib header, detected. Servers sending "deflate"
        # sometimes send a raw deflate stream instead (httpx tolerates it as well).
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS)
        self._raw_fallback = coding == "deflate"

    def __call__(self, data: bytes, limit: int) -> bytes:
        first_chunk, self._raw_fallback = self._raw_fallback, False
        try:
            return self._zlib.decompress(data, max(1, limit))
        except zlib.error:
            if not first_chunk:
                raise
            self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._zlib.decompress(data, max(1, limit))


def _body_decoder(content_encoding: str) -> _Decoder | str:
    """How to decode a body of this Content-Encoding, or why it cannot be (in words)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return _raw
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return _Inflater(codings[0])
    return f"unsupported Content-Encoding {_clip(', '.join(codings), 20)}"


async def _read_bounded(response: httpx.Response, needle: bytes | None, decode: _Decoder = _raw) -> tuple[bytes, bool]:
    """At most BODY_LIMIT bytes of the body as ``decode`` turns the raw bytes; stops early
    once ``needle`` is seen. Returns (bytes, truncated)."""
    buf = bytearray()
    async for raw in response.aiter_raw():
        start = max(0, len(buf) - (len(needle) if needle else 0))
        buf += decode(raw, BODY_LIMIT + 1 - len(buf))
        if needle and buf.find(needle, start) >= 0:
            return bytes(buf[:BODY_LIMIT]), False
        if len(buf) > BODY_LIMIT:
            return bytes(buf[:BODY_LIMIT]), True
    return bytes(buf), False


async def _drain_error_body(response: httpx.Response, deadline: float | None) -> None:
    """Read a failing service's (small) error body so its connection is kept: without it,
    every check of a service that answers 503 opened a new connection. The status already
    decided the result: a body that is slow, big or cut off only costs the connection,
    never turns "HTTP 503" into a timeout or a read error."""
    loop = asyncio.get_running_loop()
    until = loop.time() + ERROR_BODY_WAIT_S
    if deadline is not None:
        until = min(until, deadline - ERROR_BODY_WAIT_S / 10)
    try:
        async with asyncio.timeout_at(until):
            await _read_bounded(response, None)
    except Exception:  # noqa: BLE001 - the connection is closed by aclose(); the result stands
        pass


_MISSING = object()


def _json_lookup(doc: object, path: str) -> object:
    node = doc
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _check_body(spec: ServiceSpec, body: bytes, truncated: bool) -> str | None:
    """The reason the body fails the spec's checks, or None."""
    if spec.body_contains is not None and spec.body_contains.encode() not in body:
        return f'body missing "{_clip(spec.body_contains)}"'
    if spec.json_field is None:
        return None
    if truncated:
        return f"JSON body over {BODY_LIMIT // 1024} KiB"
    try:
        doc = json.loads(body)
    except ValueError:
        return "invalid JSON"
    value = _json_lookup(doc, spec.json_field)
    if value is _MISSING:
        return f"JSON field {spec.json_field} missing"
    if spec.json_equals is not None and _as_text(value) != spec.json_equals:
        return f'JSON field {spec.json_field} = "{_clip(_as_text(value))}", expected "{spec.json_equals}"'
    return None


def _request_url(url: str) -> httpx.URL | str:
    """Parsed once per service rather than on every check (it shows up in a big round's
    CPU); a URL httpx rejects stays a string and fails, as data, at request time."""
    try:
        return httpx.URL(url)
    except Exception:  # noqa: BLE001
        return url


async def _send(client: httpx.AsyncClient, spec: ServiceSpec, url: httpx.URL | str) -> httpx.Response:
    """The response, streamed, after following redirects if the spec says so.

    Followed here rather than by httpx, which reads every redirect's whole body into
    memory first; a redirect's body is never read here (its connection is dropped).
    """
    request = client.build_request(spec.method, url, headers=spec.headers, timeout=spec.timeout)
    for _ in range(client.max_redirects + 1):
        response = await client.send(request, stream=True, follow_redirects=False)
        if not spec.follow_redirects or response.next_request is None:
            return response
        await response.aclose()
        request = response.next_request
    raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)


async def _probe(client: httpx.AsyncClient, spec: ServiceSpec, url: httpx.URL | str) -> _Probe:
    needs_body = spec.body_contains is not None or spec.json_field is not None
    needle = spec.body_contains.encode() if spec.body_contains and spec.json_field is None else None
    started = time.perf_counter()
    undecodable: str | None = None
    try:
        async with asyncio.timeout(spec.timeout) as deadline:
            response = await _send(client, spec, url)
            try:
                code = response.status_code
                body, truncated = b"", False
                expected = _status_expected(code, spec.expect_status)
                if expected and needs_body:
                    decoder = _body_decoder(response.headers.get("content-encoding", ""))
                    if isinstance(decoder, str):
                        undecodable = decoder
                    else:
                        body, truncated = await _read_bounded(response, needle, decoder)
                elif expected:
                    # Drain a small body (not decoded: nobody looks at it) so the connection
                    # can be reused; a big one is cut short (the connection is dropped).
                    await _read_bounded(response, None)
                else:
                    await _drain_error_body(response, deadline.when())
            finally:
                await response.aclose()
    except Exception as exc:  # noqa: BLE001 - every failure is data
        return _Probe(ok=False, reason=describe_error(exc, spec.timeout))
    latency_ms = (time.perf_counter() - started) * 1000.0

    if not expected:
        location = response.headers.get("location")
        if response.is_redirect and location and not spec.follow_redirects:
            reason = f"redirect to {redact_url(urljoin(spec.url, location))}"
        else:
            reason = f"HTTP {code}"
        return _Probe(ok=False, reason=reason, status_code=code, latency_ms=latency_ms)
    problem = undecodable or _check_body(spec, body, truncated)
    if problem:
        return _Probe(ok=False, reason=problem, status_code=code, latency_ms=latency_ms)
    if latency_ms > spec.degraded_ms:
        return _Probe(
            ok=True,
            slow=True,
            reason=f"slow: {latency_ms:.0f} ms > {spec.degraded_ms:.0f} ms",
            status_code=code,
            latency_ms=latency_ms,
        )
    return _Probe(ok=True, reason=f"HTTP {code}", status_code=code, latency_ms=latency_ms)


