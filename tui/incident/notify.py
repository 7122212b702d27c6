"""Post a status update to the configured webhooks (Slack incoming webhooks, or generic JSON).

Failure is data: every target yields a :class:`PostResult` whose ``error`` says
what went wrong in words; nothing here raises for a network problem. Webhook
URLs are credentials, so no error text ever contains one (only ``scheme://host/…``).

httpx is imported inside the functions: the command line's fast paths
(``warroom log``) must not pay for it.
"""
from __future__ import annotations

import asyncio
import errno
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

from checks.specs import NotifySpec

from .export import incident_to_dict, iso_ms
from .model import Incident, utcnow
from .redact import Redactor, url_origin
from .safe_text import slack, visible

if TYPE_CHECKING:  # pragma: no cover
    import httpx

KINDS = ("slack", "json")
BACKOFF_S = 0.5          # first retry waits this long, then doubles
MAX_BACKOFF_S = 4.0
MAX_BODY_PEEK = 2048     # bytes of a response kept to explain a failure
USER_AGENT = "warroom/0.1"


@dataclass(frozen=True)
class PostResult:
    target_name: str
    ok: bool
    status: int | None       # last HTTP status seen, None when no response came back
    error: str | None        # in words, never containing the webhook URL
    attempts: int


def target_name(spec: NotifySpec) -> str:
    return spec.name or f"{spec.kind} {url_origin(spec.url)}"


def build_payload(
    text: str, spec: NotifySpec, *, incident: Incident | None = None, sent_at: datetime | None = None
) -> dict[str, Any]:
    """The JSON body for one target (before redaction).

    Slack reads ``<…>`` as mentions and links: the text is escaped as Slack's formatting
    rules say, so a title or an entry cannot ``<!channel>`` or pass off one link as another
    (and shows no control characters or bidi overrides). A JSON receiver gets the text exact.
    """
    if spec.kind == "slack":
        return {"text": slack(visible(text))}
    sent_at = sent_at or utcnow()
    # The same incident document as the JSON export, so receivers parse one shape.
    doc_incident = None if incident is None else incident_to_dict(incident)
    return {"incident": doc_incident, "text": text, "sent_at": iso_ms(sent_at)}


# -- classifying outcomes -----------------------------------------------------------

@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status: int | None
    error: str | None
    retryable: bool
    retry_after: float | None = None


def _errno_in_chain(exc: BaseException) -> int | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno:
            return cur.errno
        cur = cur.__cause__ or cur.__context__
    return None


def _describe_exception(exc: BaseException, spec: NotifySpec, redactor: Redactor) -> _Outcome:
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return _Outcome(False, None, f"timeout after {spec.timeout:.1f} s", True)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return _Outcome(False, None, "invalid webhook URL (use http:// or https://)", False)
    message = str(exc).lower()
    code = _errno_in_chain(exc)
    if isinstance(exc, httpx.ConnectError):
        if code == errno.ECONNREFUSED or "connection refused" in message:
            return _Outcome(False, None, "connection refused", True)
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH) or "unreachable" in message:
            return _Outcome(False, None, "network unreachable", True)
        if "name or service not known" in message or "nodename nor servname" in message \
                or "getaddrinfo" in message or "name resolution" in message:
            return _Outcome(False, None, f"cannot resolve host {_host(spec.url)}", True)
        if "ssl" in message or "certificate" in message:
            return _Outcome(False, None, "TLS error: " + _clean(str(exc), spec, redactor), False)
        if "all connection attempts failed" in message:
            # anyio's summary for every address refusing or failing: refused is by far the common case.
            return _Outcome(False, None, "connection refused", True)
        return _Outcome(False, None, "connection failed: " + _clean(str(exc), spec, redactor), True)
    if isinstance(exc, httpx.RemoteProtocolError):
        return _Outcome(False, None, "connection closed by the server", True)
    if isinstance(exc, httpx.TransportError):
        return _Outcome(False, None, "network error: " + _clean(str(exc) or type(exc).__name__, spec, redactor), True)
    return _Outcome(False, None, f"{type(exc).__name__}: {_clean(str(exc), spec, redactor)}", False)


def _host(url: str) -> str:
    origin = url_origin(url)
    return origin.split("://", 1)[-1].removesuffix("/…")


def _clean(message: str, spec: NotifySpec, redactor: Redactor) -> str:
    message = message.replace(spec.url, url_origin(spec.url))
    message = " ".join(redactor.text(message).split())
    return message[:160] or "unknown error"


def _describe_response(status: int, body: bytes, headers: Any, redactor: Redactor) -> _Outcome:
    if 200 <= status < 300:
        return _Outcome(True, status, None, False)
    detail = body[:200].decode("utf-8", "replace").strip()
    detail = " ".join(redactor.text(detail).split())[:80]
    error = f"HTTP {status}" + (f": {detail}" if detail and "<" not in detail[:1] else "")
    if 300 <= status < 400:
        return _Outcome(False, status, f"HTTP {status} (redirects are not followed for webhooks)", False)
    # 429 is the one 4xx worth retrying: the receiver asked us to slow down.
    retry_after = None
    if status == 429:
        try:
            retry_after = float(headers.get("retry-after", ""))
        except (TypeError, ValueError):
            retry_after = None
    return _Outcome(False, status, error, status >= 500 or status == 429, retry_after)


def _final(spec: NotifySpec, outcome: _Outcome, attempts: int) -> PostResult:
    error = outcome.error
    if error is not None and attempts > 1:
        if error.startswith("HTTP "):
            head, sep, detail = error.partition(": ")
            error = f"{head} after {attempts} attempts" + (f": {detail}" if sep else "")
        else:
            error = f"{error} ({attempts} attempts)"
    return PostResult(target_name(spec), outcome.ok, outcome.status, error, attempts)


def _delay(outcome: _Outcome, attempt: int, backoff: float) -> float:
    wait = min(backoff * (2 ** (attempt - 1)), MAX_BACKOFF_S)
    if outcome.retry_after is not None:
        wait = max(wait, min(outcome.retry_after, MAX_BACKOFF_S))
    return wait


def _prepare(
    text: str, spec: NotifySpec, incident: Incident | None, redactor: Redactor
) -> tuple[dict[str, Any] | None, PostResult | None]:
    if spec.kind not in KINDS:
        return None, PostResult(target_name(spec), False, None,
                                f"unknown notify kind {spec.kind!r} (use slack or json)", 0)
    return redactor.data(build_payload(text, spec, incident=incident)), None


def _peek_sync(response: "httpx.Response", deadline: float) -> bytes:
    data = b""
    for chunk in response.iter_raw():
        data += chunk
        if len(data) >= MAX_BODY_PEEK or time.monotonic() > deadline:
            break
    return data[:MAX_BODY_PEEK]


async def _peek_async(response: "httpx.Response", deadline: float) -> bytes:
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= MAX_BODY_PEEK or time.monotonic() > deadline:
            break
    return data[:MAX_BODY_PEEK]


# -- posting ----------------------------------------------------------------------

def post_update(
    text: str,
    targets: Sequence[NotifySpec],
    *,
    incident: Incident | None = None,
    redactor: Redactor | None = None,
    backoff: float = BACKOFF_S,
) -> list[PostResult]:
    """Post ``text`` to every target in turn; one result per target, in order."""
    import httpx

    redactor = redactor or Redactor()
    results: list[PostResult] = []
    with httpx.Client(follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client:
        for spec in targets:
            payload, early = _prepare(text, spec, incident, redactor)
            if early is not None:
                results.append(early)
                continue
            attempts_allowed = 1 + max(0, int(spec.retries))
            attempt = 0
            while True:
                attempt += 1
                try:
                    deadline = time.monotonic() + 2 * spec.timeout
                    with client.stream("POST", spec.url, json=payload, timeout=spec.timeout) as resp:
                        outcome = _describe_response(resp.status_code, _peek_sync(resp, deadline), resp.headers, redactor)
                except Exception as exc:  # noqa: BLE001 - failure is data
                    outcome = _describe_exception(exc, spec, redactor)
                if outcome.ok or not outcome.retryable or attempt >= attempts_allowed:
                    results.append(_final(spec, outcome, attempt))
                    break
                time.sleep(_delay(outcome, attempt, backoff))
    return results


async def apost_update(
    text: str,
    targets: Sequence[NotifySpec],
    *,
    incident: Incident | None = None,
    redactor: Redactor | None = None,
    backoff: float = BACKOFF_S,
) -> list[PostResult]:
    """The dashboard's twin of :func:`post_update`: targets in parallel, results in target order."""
    import httpx

    redactor = redactor or Redactor()

    async def one(client: "httpx.AsyncClient", spec: NotifySpec) -> PostResult:
        payload, early = _prepare(text, spec, incident, redactor)
        if early is not None:
            return early
        attempts_allowed = 1 + max(0, int(spec.retries))
        attempt = 0
        while True:
            attempt += 1
            try:
                deadline = time.monotonic() + 2 * spec.timeout
                async with client.stream("POST", spec.url, json=payload, timeout=spec.timeout) as resp:
                    outcome = _describe_response(
                        resp.status_code, await _peek_async(resp, deadline), resp.headers, redactor
                    )
            except Exception as exc:  # noqa: BLE001 - failure is data
                outcome = _describe_exception(exc, spec, redactor)
            if outcome.ok or not outcome.retryable or attempt >= attempts_allowed:
                return _final(spec, outcome, attempt)
            await asyncio.sleep(_delay(outcome, attempt, backoff))

    async with httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client:
        return list(await asyncio.gather(*(one(client, spec) for spec in targets)))


def summarize(results: Sequence[PostResult]) -> str:
    """One line for a toast or the CLI: ``posted to ops-slack; audit failed: HTTP 500 after 3 attempts``."""
    ok = [r.target_name for r in results if r.ok]
    bad = [f"{r.target_name} failed: {r.error}" for r in results if not r.ok]
    parts = ([f"posted to {', '.join(ok)}"] if ok else []) + bad
    return "; ".join(parts) if parts else "no webhooks configured"
