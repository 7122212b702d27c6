"""Parsers for plain values (numbers with ranges, text, flags) and the parser type.

Every number has a range the runtime can honour; the message for a number written as
text ("2s") suggests the bare number."""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Callable

from .describe import _dotted, _fmt_number, _key_text

if TYPE_CHECKING:
    from .checker import _Checker


# The ranges of numbers: what the runtime can honour and a person could mean.
MAX_MINUTES = 24 * 60            # update cadence, escalation: a day at most
MIN_INTERVAL_S = 0.5             # polls: the screen is drawn once a second (tui/pacing.py)
MAX_INTERVAL_S = 3600.0
MAX_TIMEOUT_S = 300.0
MAX_RETRIES = 10
MAX_THRESHOLD = 1e15             # metric warn/crit: any finite value a query could return

_BAD: Any = object()   # a field that failed validation (its problem is already reported)
_Parser = Callable[["_Checker", tuple[Any, ...], Any], Any]

_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "min": "minutes", "%": "percent"}
_UNIT_SPELLINGS = {
    "s": {"s", "sec", "secs", "second", "seconds"},
    "ms": {"ms", "msec", "millisecond", "milliseconds"},
    "min": {"m", "min", "mins", "minute", "minutes"},
    "%": {"%"},
}
_NUMBER_TEXT = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*([a-z%]*)\s*")


def _suggest_number(value: Any, unit: str, integer: bool) -> str | None:
    """For a number written as text ("2s") the fix is the bare number (2.0)."""
    if not isinstance(value, str):
        return None
    m = _NUMBER_TEXT.fullmatch(value.lower())
    if m is None or (m[2] and m[2] not in _UNIT_SPELLINGS.get(unit, set())):
        return None
    number = float(m[1])
    if integer:
        return str(int(number)) if number.is_integer() else None
    return repr(number)


def _num(example: str | float, lowest: float, highest: float, *, unit: str = "", integer: bool = False,
         zero_off: bool = False) -> _Parser:
    """A number in [lowest, highest] (``zero_off``: or exactly 0, which switches the thing off).

    ``example`` is what a message suggests writing: the spec's default where there is one
    (passed as the number, so it is declared only on the spec).
    Every number has a range the runtime can honour: 1e300 minutes overflowed the clock,
    retries = 2**63 - 1 never returned, an interval of 1e-300 s polled flat out."""
    if not isinstance(example, str):
        example = _fmt_number(example)
    what = "a whole number" if integer else "a number"
    in_units = f" ({_UNIT_WORDS[unit]})" if unit else ""
    span = f"between {_fmt_number(lowest)} and {_fmt_number(highest)}"
    if zero_off:
        span = f"0 (off) or {span}"

    def parse(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and isinstance(value, float):
            ok = math.isfinite(value) and (not integer or value.is_integer())
        if not ok:
            fix = _suggest_number(value, unit, integer) or example
            ld.wrong_type(path, what, value, fix + in_units)
            return _BAD
        if not (lowest <= value <= highest or (zero_off and value == 0)):
            ld.report(path, f"{_dotted(path)} must be {span}{in_units}, got {_fmt_number(value)}",
                      f"write {_key_text(path[-1])} = {example}{in_units}")
            return _BAD
        return int(value) if integer else float(value)

    return parse


def _text(example: str) -> _Parser:
    def parse(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
        if not isinstance(value, str):
            ld.wrong_type(path, "a string", value, example)
            return _BAD
        if not value.strip():
            ld.report(path, f"{_dotted(path)} is empty", f"write {_key_text(path[-1])} = {example}")
            return _BAD
        return value

    return parse


def _flag(ld: _Checker, path: tuple[Any, ...], value: Any) -> Any:
    if not isinstance(value, bool):
        fix = value.strip().lower() if isinstance(value, str) and value.strip().lower() in ("true", "false") else "true"
        ld.wrong_type(path, "true or false", value, fix)
        return _BAD
    return value
