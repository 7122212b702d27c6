"""A failed HTTP request in a few words, one wording for every caller.

The health checks and the webhook posters both turn httpx's exceptions (and what
they wrap: httpcore, anyio, ssl, OSError) into the same short reason, never the
URL, which may hold secrets.
"""
from __future__ import annotations

import errno
import socket
import ssl
import zlib
from collections.abc import Iterator


def fmt_seconds(t: float) -> str:
    """5 -> '5', 2.5 -> '2.5', 0.25 -> '0.25'."""
    return f"{t:.1f}" if round(t, 1) == t else f"{t:g}"


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (httpx -> httpcore -> anyio -> OSError),
    including members of exception groups; bounded and cycle-safe."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 50:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend(getattr(e, "exceptions", ()) or ())
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                todo.append(nxt)


def describe_error(exc: BaseException, timeout: float) -> str:
    """A failed request as a short reason in words (never the URL, which may hold secrets)."""
    # Imported here: the health checks load httpx lazily, after the first frame, and an
    # exception to describe means it is loaded already.
    import httpx

    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return f"timeout after {fmt_seconds(timeout)} s"
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme"
    if isinstance(exc, (httpx.DecodingError, zlib.error)):
        return "bad compressed body"
    if isinstance(exc, (httpx.InvalidURL, httpx.LocalProtocolError)):
        return "invalid URL or header"
    chain = list(_exception_chain(exc))
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            detail = (getattr(e, "verify_message", "") or "").lower()
            if "hostname mismatch" in detail or "ip address mismatch" in detail:
                return "TLS: certificate verify failed (hostname mismatch)"
            if "expired" in detail:
                return "TLS: certificate verify failed (certificate expired)"
            return "TLS: certificate verify failed"
        if isinstance(e, ssl.SSLError):
            return "TLS: handshake failed"
        if isinstance(e, socket.gaierror):
            return "DNS lookup failed"
        if isinstance(e, ConnectionRefusedError):
            return "connection refused"
        if isinstance(e, ConnectionResetError):
            return "connection reset"
        if isinstance(e, OSError) and e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "host unreachable" if e.errno == errno.EHOSTUNREACH else "network unreachable"
    # Some backends flatten the cause into the message only.
    text = " ".join(str(e) for e in chain).lower()
    if "certificate verify failed" in text:
        return "TLS: certificate verify failed"
    if any(m in text for m in ("name or service not known", "nodename nor servname",
                               "name resolution", "no address associated", "getaddrinfo")):
        return "DNS lookup failed"
    if "connection refused" in text or "errno 111" in text:
        return "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "bad HTTP response"
    if isinstance(exc, httpx.ConnectError):
        return "connection failed"
    if isinstance(exc, (httpx.ReadError, httpx.WriteError)):
        return "connection dropped"
    return f"check failed ({type(exc).__name__})"
