"""Pinned log lines as a timeline ``finding``: its one-line text and its meta, redacted and capped.

``p`` in the pod log viewer and in the logs pane pins the selected lines; entry detail and
the postmortem's supporting information read them back from ``meta["lines"]``. The lines
are outside text: secrets are redacted BEFORE the write (the store, exports and every other
dashboard see them masked); control characters are kept as they are and made visible at each
display edge (safe_text). A selection of 100,000 lines must not become a 100 MB entry: at
most ``MAX_LINES`` lines of at most ``LINE_CHARS`` characters, ``MAX_BYTES`` in all, keeping
the last ones (a log's last lines before a crash are the ones that matter).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .safe_text import one_line

MAX_LINES = 200
LINE_CHARS = 1000
MAX_BYTES = 64 * 1024
SUMMARY_CHARS = 120


def pinned_finding(lines: Sequence[str], origin: str, redact: Callable[[str], str]) -> tuple[str, dict[str, Any]]:
    """(text, meta) for a finding that pins ``lines`` read from ``origin`` (e.g. "pod shop/cart-1 (app)")."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines[-MAX_LINES:]):
        line = redact(line[:LINE_CHARS] + ("…" if len(line) > LINE_CHARS else ""))
        size += len(line.encode("utf-8", "surrogatepass")) + 1
        if size > MAX_BYTES and kept:
            break
        kept.append(line)
    kept.reverse()
    dropped = len(lines) - len(kept)
    count = f"{len(lines)} log line{'' if len(lines) == 1 else 's'}"
    first = one_line(kept[-1] if len(kept) == 1 else next((ln for ln in kept if ln.strip()), ""))
    if len(first) > SUMMARY_CHARS:
        first = first[: SUMMARY_CHARS - 1] + "…"
    text = f"Pinned {count} from {redact(origin)}" + (f": {first}" if first else "")
    meta: dict[str, Any] = {"event": "pinned_log", "origin": redact(origin), "lines": kept}
    if dropped:
        meta["lines_dropped"] = dropped     # kept the last ones; say how many earlier ones were not
    return text, meta
