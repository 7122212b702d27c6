"""The crash log: an unexpected error's traceback goes to a file in the data directory,
and the person is told in one line, naming the file.

Used by the dashboard's exception boundary (tui/app.py) and by the command line's last
resort (tui/cli.py). No textual import: the CLI's store commands must stay light.
"""
from __future__ import annotations

import os
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

CRASH_LOG = "crash.log"
# One log that is appended to; past this size it is moved to crash.log.1 (one generation kept).
MAX_LOG_BYTES = 1_000_000
# The one line quotes the error's own message up to this many characters.
MAX_MESSAGE_CHARS = 160


def _data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir:
        return Path(data_dir).expanduser()
    from .incident.store import default_data_dir

    return default_data_dir()


def write_crash_log(exc: BaseException, data_dir: str | os.PathLike[str] | None = None,
                    redact: Callable[[str], str] | None = None) -> Path | None:
    """Append ``exc``'s traceback to DATA_DIR/crash.log; its path, or None if it could not be
    written. Creates nothing but the file: a missing data directory gets no log."""
    try:
        directory = _data_dir(data_dir)
        if not directory.is_dir():
            return None
        path = directory / CRASH_LOG
        text = "".join(traceback.format_exception(exc))
        if redact is None:
            from .incident.redact import Redactor

            redact = Redactor().text     # URL credentials, tokens: never written, config or not
        text = redact(text)
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_name(CRASH_LOG + ".1"))
        stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with open(path, "a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {stamp} pid {os.getpid()}\n{text}\n")
        return path
    except Exception:  # noqa: BLE001 - the report must not fail in its turn; the caller says it could not save
        return None


def describe(exc: BaseException, redact: Callable[[str], str] | None = None) -> str:
    """``OverflowError: date value out of range``, on one line and short."""
    from .incident.safe_text import one_line

    message = str(exc)
    if redact is not None:
        message = redact(message)
    message = one_line(" ".join(message.split()))
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def one_line_report(exc: BaseException, data_dir: str | os.PathLike[str] | None = None,
                    redact: Callable[[str], str] | None = None) -> str:
    """What went wrong and where its details are, as one line (the log is written first)."""
    path = write_crash_log(exc, data_dir, redact)
    where = f"details in {path}" if path is not None else "its details could not be saved"
    return f"unexpected error: {describe(exc, redact)} — {where}; please report it"
