"""Scrub secrets out of any text that leaves the process or reaches the screen.

The dashboard is screen-shared and its exports end up in wikis, so everything
that is drafted, exported or posted goes through one :class:`Redactor`: the
configured secret values (``${ENV}`` expansions, header values), plus patterns
that are secret whatever the config says (URL credentials, token-like query
parameters, bearer tokens, webhook URLs, which are credentials themselves).

Redacting is idempotent: redacting redacted text changes nothing, so callers
may redact defensively at every boundary.
"""
from __future__ import annotations

import re
import urllib.parse
from typing import Any, Iterable

MASK = "***"
# Shorter values would blank out ordinary words and numbers all over the text.
MIN_SECRET_LEN = 4

_PARAM_NAMES = r"access_token|api_key|apikey|token|key|secret|password|passwd|sig|signature|auth"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Webhook URLs carry their credential in the path: keep only the service's host.
    (re.compile(r"(?i)\b(https?://hooks\.slack\.com/)[^\s\"'<>`)\]]+"), rf"\g<1>{MASK}"),
    (re.compile(r"(?i)\b(https?://(?:[\w-]+\.)?discord(?:app)?\.com/api/webhooks/)[^\s\"'<>`)\]]+"), rf"\g<1>{MASK}"),
    # scheme://user:pass@host -> scheme://***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@\"'<>`]+@"), rf"\g<1>{MASK}@"),
    # ?token=...&x_api_key=... (also names ending in one of these after a separator: client_secret, X-Amz-Signature)
    (re.compile(rf"(?i)([?&;](?:[\w.\-]*[_.\-])?(?:{_PARAM_NAMES})=)[^&#\s\"'<>`]+"), rf"\g<1>{MASK}"),
    # Authorization: <scheme> <credentials> (any case, any scheme, header or JSON-ish)
    (re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)[^\s,;\"'`]+"),
     rf"\g<1>{MASK}"),
    # A bare "Bearer <token>"; capitalised like the header scheme so prose ("bearer of bad news") survives.
    (re.compile(r"\b((?:Bearer|BEARER)\s+)[A-Za-z0-9\-._~+/]{4,}=*"), rf"\g<1>{MASK}"),
)


class Redactor:
    """Replace secrets in text with ``***``.

    ``secrets`` are literal values (typically ``Config.secrets``); values shorter
    than four characters are ignored. Longer values are replaced first so a
    secret that contains another is masked whole.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if not isinstance(secret, str) or len(secret.strip()) < MIN_SECRET_LEN:
                continue
            values.add(secret)
            # The same secret as it appears inside a URL or a form body.
            for encoded in (urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret, safe="")):
                if encoded != secret:
                    values.add(encoded)
        self._secrets = tuple(sorted(values, key=lambda s: (-len(s), s)))
        self._literal = (
            re.compile("|".join(re.escape(s) for s in self._secrets)) if self._secrets else None
        )

    def text(self, s: str) -> str:
        if not s:
            return s
        if self._literal is not None:
            s = self._literal.sub(MASK, s)
        for pattern, replacement in _PATTERNS:
            s = pattern.sub(replacement, s)
        return s

    __call__ = text

    def data(self, value: Any) -> Any:
        """A JSON-like structure with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k) if isinstance(k, str) else k: self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value


def url_origin(url: str) -> str:
    """``scheme://host[:port]/…``: how a URL may be shown (paths and queries hold secrets)."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    if not parts.scheme or not host:
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    rest = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{netloc}{rest}"

