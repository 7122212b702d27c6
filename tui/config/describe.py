"""Describing values in one line: what a problem message quotes, and close-match suggestions."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .locate import _BARE_KEY

_LINE_BREAKS = {ord(c): repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def _one_line(text: str) -> str:
    return text.translate(_LINE_BREAKS)


def _quote(text: str, limit: int = 60) -> str:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in escaped)
    return f'"{escaped}"'


def _fmt_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:   # 1e300 stays 1e+300
        return str(int(value))
    return str(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {_quote(value)}"
    if isinstance(value, list):
        shown = ", ".join(_short(v) for v in value[:4]) + (", …" if len(value) > 4 else "")
        return f"array [{shown}]"
    if isinstance(value, dict):
        return "a table"
    return f"date/time {value}"


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return _quote(value, 20)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[…]"
    if isinstance(value, dict):
        return "{…}"
    return str(value)


def _dotted(path: Sequence[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE_KEY.fullmatch(part) else _quote(part)
            out += f".{text}" if out else text
    return out


def _key_text(key: Any) -> str:
    return key if isinstance(key, str) and _BARE_KEY.fullmatch(key) else _quote(str(key))


def _close_match(word: str, choices: Iterable[str]) -> str | None:
    import difflib  # only needed when something is misspelt

    by_lower = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None
