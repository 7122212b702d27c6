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
from urllib.parse import urlsplit

MASK = "•••"
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# IPv6 needs "::" or a hex letter, so clock times like 14:05:00 are left alone.
_IPV6 = re.compile(r"(?<![\w:])(?=[0-9a-fA-F:]*(?:::|[a-fA-F]))(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![\w:])")
# Names under suffixes that never resolve on the public internet are hosts of some private
# network, ours by all odds. Public names (github.com in "bump github.com/mdlayher/wifi")
# are masked only when they are a host of ours (Hosts below).
_PRIVATE_SUFFIXES = "internal|local|localdomain|lan|home\\.arpa|corp|intra|intranet|svc|cluster\\.local|private"
_PRIVATE_NAME = re.compile(
    rf"(?<![\w.-])(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?\.)+(?:{_PRIVATE_SUFFIXES})(?![\w-])")
# Field names under which snapshots carry a host of ours: a pod's node, the host pane's
# machine, a configured service's URL.
_HOST_FIELDS = ("node", "hostname", "host")
_URL_FIELDS = ("url",)
_NOT_A_HOST = {"", "localhost", "-", "none"}


@lru_cache(maxsize=1)
def _own_hostnames() -> tuple[str, ...]:
    """This machine's names, whatever their length (a 2- or 3-letter hostname is still ours),
    and its short name when the FQDN is all there is."""
    names = {socket.gethostname(), socket.getfqdn()}
    names |= {n.split(".")[0] for n in names if n and not _IPV4.fullmatch(n)}
    return tuple(n for n in names if n.lower() not in _NOT_A_HOST and len(n) >= 2)


class Hosts:
    """The names that are hosts of ours: this machine's, and those the sources report
    (Kubernetes node names, the host pane's machine, the configured services' hosts).
    ``generation`` changes whenever a name is learned, so masked copies made before it
    are not reused."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        self._names: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.generation = 0
        for name in (*_own_hostnames(), *names):
            self.add(name)

    def add(self, name: object) -> None:
        if not isinstance(name, str):
            return
        name = name.strip().rstrip(".")
        if name.lower() in _NOT_A_HOST or len(name) < 2 or name in self._names:
            return
        self._names.add(name)
        self._pattern = None
        self.generation += 1

    def add_url(self, url: object) -> None:
        if isinstance(url, str) and url:
            try:
                host = urlsplit(url).hostname
            except ValueError:
                return
            self.add(host)

    def learn(self, snapshot: Any) -> None:
        """The hosts a snapshot names: its own host fields, and those of the items of its tuples."""
        self._learn_item(snapshot)
        if dataclasses.is_dataclass(snapshot) and not isinstance(snapshot, type):
            for f in dataclasses.fields(snapshot):
                value = getattr(snapshot, f.name, None)
                if isinstance(value, tuple):
                    for item in value:
                        if dataclasses.is_dataclass(item):
                            self._learn_item(item)

    def _learn_item(self, item: Any) -> None:
        for name in _HOST_FIELDS:
            value = getattr(item, name, None)
            if isinstance(value, str):
                self.add(value)
        for name in _URL_FIELDS:
            self.add_url(getattr(item, name, None))

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self._names:
            names = sorted(self._names, key=len, reverse=True)    # the longest first: a.b before a
            alternatives = "|".join(re.escape(n) for n in names)
            self._pattern = re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-]|\.\w)", re.IGNORECASE)
        return self._pattern

    def mask(self, text: str) -> str:
        if not text:
            return text
        text = _IPV4.sub(MASK, text)
        text = _IPV6.sub(MASK, text)
        text = _PRIVATE_NAME.sub(MASK, text)
        pattern = self.pattern
        if pattern is not None:
            text = pattern.sub(MASK, text)
        return text


_default_hosts: Hosts | None = None


def mask_hosts(text: str, hosts: Hosts | None = None) -> str:
    """``text`` with the hosts of ours in it masked: IP addresses, private names, and the
    names ``hosts`` knows (by default this machine's)."""
    global _default_hosts
    if hosts is None:
        if _default_hosts is None:
            _default_hosts = Hosts()
        hosts = _default_hosts
    return hosts.mask(text)


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
