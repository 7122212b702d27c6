"""Screen-share safety: mask hostnames and IP addresses in anything shown.

Masking works on frozen snapshots generically (every string field, recursively),
so no pane has to remember to do it.
"""
from __future__ import annotations

import dataclasses
import enum
import re
import socket
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

MASK = "•••"
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# IPv6 needs "::" or a hex letter, so clock times like 14:05:00 are left alone.
_IPV6 = re.compile(r"(?<![\w:])(?=[0-9a-fA-F:]*(?:::|[a-fA-F]))(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")
_URL_HOST = re.compile(r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<auth>[^/@\s]*@)?(?P<host>\[[^\]]+\]|[^/:\s?#]+)")
_INFRA_TLDS = ("internal|local|localdomain|lan|corp|intra|intranet|svc|cluster|compute|"
               "com|net|org|io|cloud|dev|site|example|test|invalid")
_FQDN = re.compile(rf"(?<![\w.-])(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?\.)+(?:{_INFRA_TLDS})(?![\w-])")


@lru_cache(maxsize=1)
def _own_hostnames() -> tuple[str, ...]:
    names = {socket.gethostname(), socket.getfqdn()}
    return tuple(sorted((n for n in names if n and n != "localhost" and len(n) >= 3), key=len, reverse=True))


def mask_hosts(text: str) -> str:
    if not text:
        return text
    text = _URL_HOST.sub(lambda m: f"{m.group('scheme')}{MASK}", text)
    text = _IPV4.sub(MASK, text)
    text = _IPV6.sub(MASK, text)
    text = _FQDN.sub(MASK, text)
    for name in _own_hostnames():
        text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", MASK, text)
    return text


Memo = tuple[dict, dict]     # (the last call's, this call's) {id(item): (item, masked item)}


def mask_value(value: Any, fn: Callable[[str], str] = mask_hosts, memo: Memo | None = None) -> Any:
    """A copy of a frozen snapshot (or tuple, or string) with every string passed through ``fn``.

    With ``memo``, a dataclass item of a tuple that is the very object masked last call
    (``memo[0]``) is not walked again, and this call's are noted in ``memo[1]``: a source
    hands unchanged items (5,000 pods) on as they were, and masking them all afresh took
    100 ms a snapshot. The memo is only good for the same ``fn`` giving the same output."""
    if isinstance(value, enum.Enum):
        return value    # states and kinds are vocabulary, never hosts
    if isinstance(value, str):
        new = fn(value)
        return value if new == value else new
    if isinstance(value, tuple):
        if all(type(v) in _SCALARS for v in value):
            return value    # a series of numbers (a metric's history, a latency trend): nothing to mask
        if memo is None:
            items = [mask_value(v, fn) for v in value]
        else:
            last, this = memo
            items = []
            for v in value:
                if dataclasses.is_dataclass(v):
                    hit = last.get(id(v))
                    masked = hit[1] if hit is not None and hit[0] is v else mask_value(v, fn, memo)
                    this[id(v)] = (v, masked)
                    items.append(masked)
                else:
                    items.append(mask_value(v, fn, memo))
        if all(a is b for a, b in zip(items, value)):
            return value
        return value._make(items) if hasattr(value, "_make") else tuple(items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for name in _init_fields(type(value)):
            old = getattr(value, name)
            if type(old) is str:        # most fields: no call (the dashboard walks every snapshot)
                new = fn(old)
                if new != old:
                    changes[name] = new
            elif old is not None and not isinstance(old, _LEAVES):
                new = mask_value(old, fn, memo)
                if new is not old:
                    changes[name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


# Field values that hold no string: not walked.
_LEAVES = (int, float, datetime, enum.Enum)
# Tuple items that hold no string, by exact type: a tuple of only these is returned as it is
# (50 metrics' 200-point histories were 36 ms a round, walked number by number).
_SCALARS = frozenset({int, float, bool, type(None)})


@lru_cache(maxsize=256)
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)
