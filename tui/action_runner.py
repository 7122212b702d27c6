"""Running a dashboard action's command: its output streamed to a panel, its trace kept.

Unlike ``warroom run`` (tui/runcmd.py), the command cannot have the terminal: the
dashboard owns it. So it runs with stdin from /dev/null, stdout and stderr on one pipe,
in a session of its own (the dashboard's Ctrl-C and the terminal's signals never reach
it; the panel's stop key ends its whole process group). Its output goes, in batches of
lines, to ``on_lines`` and into the same bounded :class:`~tui.runcmd.OutputTail` that
``warroom run`` keeps in the entry's meta, so the entry reads the same either way.

No textual here: the caller (tui/screens/actions.py) runs :func:`run_streaming` in a
thread worker and hands the batches to the UI thread.
"""
from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from typing import Callable, Sequence

from .runcmd import Outcome, OutputTail

BATCH_S = 0.05            # lines are handed to the panel at most 20 times a second
_READ_SIZE = 65536
_LINE_CHARS = 2000        # a line longer than this is cut for the panel (the tail caps its own)


def run_streaming(argv: Sequence[str], on_lines: Callable[[list[str]], None], *,
                  tail: OutputTail | None = None, stop: threading.Event | None = None) -> Outcome:
    """Run ``argv`` (a list: no shell) to its end; ``on_lines`` gets its output, batched.

    ``stop`` set: SIGTERM to the command's process group, SIGKILL 3 s later. Never raises
    for the command's own failure (a missing program is ``Outcome.error``).
    """
    tail = tail if tail is not None else OutputTail()
    stop = stop or threading.Event()
    outcome = Outcome()
    started = time.monotonic()
    try:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    except OSError as exc:
        outcome.error = exc.strerror or str(exc)
        outcome.duration_s = time.monotonic() - started
        return outcome
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    partial = b""
    batch: list[str] = []
    last_sent = time.monotonic()
    killed_at: float | None = None

    def flush() -> None:
        nonlocal batch, last_sent
        if batch:
            on_lines(batch)
            batch = []
        last_sent = time.monotonic()

    try:
        while True:
            if stop.is_set() and killed_at is None:
                killed_at = time.monotonic()
                _signal_group(proc.pid, signal.SIGTERM)
            elif killed_at is not None and time.monotonic() - killed_at > 3.0:
                _signal_group(proc.pid, signal.SIGKILL)
            # Checked before the select: output written just before it ended is still read below
            # (a poll after an empty select could see it ended with its last lines unread).
            ended = proc.poll() is not None
            readable, _, _ = select.select([fd], [], [], 0 if ended else BATCH_S)
            if readable:
                data = os.read(fd, _READ_SIZE)
                if not data:
                    break
                tail.feed(data)
                parts = (partial + data).split(b"\n")
                partial = parts.pop()[:_LINE_CHARS * 4]
                batch.extend(_text(p) for p in parts)
                if len(batch) > 5000:          # a flood: keep only what the panel can show anyway
                    del batch[:-5000]
            elif ended:
                break       # it ended, all it wrote is read, and what it left behind holds the pipe open
            if batch and time.monotonic() - last_sent >= BATCH_S:
                flush()
        if partial:
            batch.append(_text(partial))
        flush()
        status = proc.wait()
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    outcome.duration_s = time.monotonic() - started
    if status < 0:
        outcome.signal = -status
    else:
        outcome.exit_status = status
    return outcome


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").rstrip("\r")
    return text if len(text) <= _LINE_CHARS else text[: _LINE_CHARS - 1] + "…"


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except OSError:
        pass
