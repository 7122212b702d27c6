"""Post a status update to the configured webhooks (Slack incoming webhooks, or generic JSON).

Failure is data: every target yields a :class:`PostResult` whose ``error`` says
what went wrong in words; nothing here raises for a network problem. Webhook
URLs are credentials, so no error text ever contains one (only ``scheme://host/…``).

One implementation, async (the dashboard awaits it; the command line runs it with
``asyncio.run``). Retried: only a request that surely did not arrive (no connection,
429, 5xx); one that timed out after sending is reported as "may have been posted".

httpx is imported inside the functions: the command line's fast paths
(``warroom log``) must not pay for it.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

from .export import incident_to_dict, iso_ms
from .model import Incident, utcnow
from .redact import Redactor, url_origin
from .safe_text import slack, visible
from .specs import NOTIFY_KINDS as KINDS
from .specs import NotifySpec

if TYPE_CHECKING:  # pragma: no cover
    import httpx

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
    # The request was sent but no answer came (a read timeout, the connection dropped): the
    # receiver may have posted it. Never retried on its own: a person checks the channel first.
    uncertain: bool = False


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
#
# Retried: only what surely did not arrive (the connection was never made, or the receiver
# answered 429 or 5xx). A timeout or a dropped connection after the request went out "may have
# been posted": retrying it had receivers post the same update three times.

@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status: int | None
    error: str | None
    retryable: bool
    retry_after: float | None = None
    uncertain: bool = False


def _describe_exception(exc: BaseException, spec: NotifySpec) -> _Outcome:
    import httpx

    from .http_errors import describe_error  # the health checks' wording: one per HTTP failure

    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)):
        return _Outcome(False, None, "invalid webhook URL (use http:// or https://)", False)
    words = describe_error(exc, spec.timeout)
    if isinstance(exc, httpx.LocalProtocolError):      # refused by httpx before anything was sent
        return _Outcome(False, None, words, False)
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        # Nothing was sent. A TLS failure is a connect error too, but trying again changes nothing.
        return _Outcome(False, None, words, not words.startswith("TLS"))
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError)):
        if isinstance(exc, httpx.TimeoutException):
            words = f"no answer within {spec.timeout:g} s after sending"
        return _Outcome(False, None, f"{words} (it may have been posted)", False, uncertain=True)
    return _Outcome(False, None, words, False)


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
    return PostResult(target_name(spec), outcome.ok, outcome.status, error, attempts, outcome.uncertain)


def _delay(outcome: _Outcome, attempt: int, backoff: float) -> float:
    wait = min(backoff * float(2 ** (attempt - 1)), MAX_BACKOFF_S)
    if outcome.retry_after is not None:
        wait = max(wait, min(outcome.retry_after, MAX_BACKOFF_S))
    return wait


async def _peek(response: "httpx.Response", deadline: float) -> bytes:
    """The start of the answer, to explain a failure. The status line has come: a body that
    stalls or breaks off changes nothing about whether the update was posted."""
    import httpx

    data = b""
    try:
        async for chunk in response.aiter_raw():
            data += chunk
            if len(data) >= MAX_BODY_PEEK or time.monotonic() > deadline:
                break
    except httpx.TransportError:
        pass
    return data[:MAX_BODY_PEEK]


# -- posting ----------------------------------------------------------------------

async def _post_one(
    client: "httpx.AsyncClient", text: str, spec: NotifySpec, incident: Incident | None, redactor: Redactor,
    backoff: float, retry_uncertain: bool,
) -> PostResult:
    if spec.kind not in KINDS:
        return PostResult(target_name(spec), False, None, f"unknown notify kind {spec.kind!r} (use slack or json)", 0)
    payload = redactor.data(build_payload(text, spec, incident=incident))
    attempts_allowed = 1 + max(0, int(spec.retries))
    attempt = 0
    while True:
        attempt += 1
        try:
            deadline = time.monotonic() + 2 * spec.timeout
            async with client.stream("POST", spec.url, json=payload, timeout=spec.timeout) as resp:
                outcome = _describe_response(resp.status_code, await _peek(resp, deadline), resp.headers, redactor)
        except Exception as exc:  # noqa: BLE001 - failure is data
            outcome = _describe_exception(exc, spec)
            if outcome.error is not None:
                outcome = replace(outcome, error=_clean(outcome.error, spec, redactor))
        retry = outcome.retryable or (outcome.uncertain and retry_uncertain)
        if outcome.ok or not retry or attempt >= attempts_allowed:
            return _final(spec, outcome, attempt)
        await asyncio.sleep(_delay(outcome, attempt, backoff))


def _clean(message: str, spec: NotifySpec, redactor: Redactor) -> str:
    message = message.replace(spec.url, url_origin(spec.url))
    message = " ".join(redactor.text(message).split())
    return message[:160] or "unknown error"


async def apost_update(
    text: str,
    targets: Sequence[NotifySpec],
    *,
    incident: Incident | None = None,
    redactor: Redactor | None = None,
    backoff: float = BACKOFF_S,
    retry_uncertain: bool = False,
) -> list[PostResult]:
    """Post ``text`` to every target in parallel; one result per target, in target order.

    ``retry_uncertain`` also retries a post that may have arrived (the CLI's ``--force``):
    the receiver may then show it twice.
    """
    import httpx

    redactor = redactor or Redactor()
    async with httpx.AsyncClient(follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client:
        return list(await asyncio.gather(*(
            _post_one(client, text, spec, incident, redactor, backoff, retry_uncertain) for spec in targets)))


def post_update(
    text: str,
    targets: Sequence[NotifySpec],
    *,
    incident: Incident | None = None,
    redactor: Redactor | None = None,
    backoff: float = BACKOFF_S,
    retry_uncertain: bool = False,
) -> list[PostResult]:
    """:func:`apost_update` for the command line (no event loop running)."""
    return asyncio.run(apost_update(text, targets, incident=incident, redactor=redactor, backoff=backoff,
                                    retry_uncertain=retry_uncertain))


def summarize(results: Sequence[PostResult]) -> str:
    """One line for a toast or the CLI: ``posted to ops-slack; audit failed: HTTP 500 after 3 attempts``
    (``audit: no answer within 2 s after sending (it may have been posted)`` when it may have arrived)."""
    ok = [r.target_name for r in results if r.ok]
    bad = [f"{r.target_name}: {r.error}" if r.uncertain else f"{r.target_name} failed: {r.error}"
           for r in results if not r.ok]
    parts = ([f"posted to {', '.join(ok)}"] if ok else []) + bad
    return "; ".join(parts) if parts else "no webhooks configured"
