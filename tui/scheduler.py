"""Arms one timer per live source; each poll runs in a worker; polls never overlap.

The next poll is armed only when the previous one has delivered its snapshot
(Dolphie's pattern), so a slow source slows itself down, never the UI. A source
whose snapshot carries an error backs off exponentially, capped.
"""
from __future__ import annotations

import asyncio
import inspect
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from textual.dom import DOMNode

from .messages import SnapshotReady

MAX_BACKOFF_S = 30.0


@dataclass
class LiveSource:
    """Adapter between a ``checks`` source and the scheduler.

    ``poll`` is a coroutine function (run as an async worker) or a plain function
    (run in a thread worker). ``interval`` may be a callable for sources whose
    next due time varies (health checks with per-service intervals).
    """

    name: str
    poll: Callable[[], Any]
    interval: float | Callable[[], float]
    changes: Callable[[Any, Any], list]
    error_snapshot: Callable[[str], Any]
    start: Callable[[], None] | None = None
    close: Callable[[], Any] | None = None
    origin: Any = None              # the checks object behind ``poll`` (for introspection)
    failures: int = 0
    last: Any = None
    last_elapsed: float = 0.0       # how long the last poll took, seconds
    stopped: bool = field(default=False)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.poll)

    def next_delay(self) -> float:
        base = self.interval() if callable(self.interval) else self.interval
        if self.failures:
            return min(MAX_BACKOFF_S, max(base, 1.0) * 2 ** min(self.failures - 1, 6))
        return max(0.05, base)


class Scheduler:
    def __init__(self, node: DOMNode, sources: list[LiveSource],
                 align: Callable[[float, bool, float], float] | None = None) -> None:
        self.node = node
        self.sources = {s.name: s for s in sources}
        # Moves a delay onto the dashboard's beat (tui/pacing.py); None: as asked.
        self._align = align
        self._runners: dict[str, Callable[[], None]] = {}

    def start(self) -> None:
        for source in self.sources.values():
            if source.stopped:      # the app quit before its first frame was drawn
                continue
            if source.start is not None:
                try:
                    source.start()
                except Exception as exc:  # a source that cannot start is a red pane, not a dead app
                    self.node.post_message(SnapshotReady(source.name, source.error_snapshot(why_failed(exc)), 0.0))
                    continue
            self._run(source.name)

    def _arm(self, name: str, delay: float) -> None:
        source = self.sources[name]
        if not source.stopped:
            if self._align is not None:
                # A fixed pace may be kept a little sooner; a callable interval is a due time.
                delay = self._align(delay, not callable(source.interval), source.last_elapsed)
            # One callback per source, made once: Textual inspects the signature of every new
            # callable it invokes, and a fresh lambda per poll paid for that every second.
            runner = self._runners.get(name)
            if runner is None:
                runner = self._runners[name] = lambda: self._run(name)
            self.node.set_timer(delay, runner, name=f"poll-{name}")

    def _run(self, name: str) -> None:
        source = self.sources[name]
        if source.stopped:
            return
        if source.is_async:
            self.node.run_worker(self._poll_async(source), group=name, exclusive=True, exit_on_error=False,
                                 name=f"poll-{name}")
        else:
            self.node.run_worker(lambda: self._poll_sync(source), group=name, exclusive=True, exit_on_error=False,
                                 thread=True, name=f"poll-{name}")

    async def _poll_async(self, source: LiveSource) -> None:
        started = time.perf_counter()
        try:
            snapshot = await source.poll()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            snapshot = source.error_snapshot(why_failed(exc))
        self.node.post_message(SnapshotReady(source.name, snapshot, time.perf_counter() - started))

    def _poll_sync(self, source: LiveSource) -> None:
        started = time.perf_counter()
        try:
            snapshot = source.poll()
        except Exception as exc:
            snapshot = source.error_snapshot(why_failed(exc))
        self.node.post_message(SnapshotReady(source.name, snapshot, time.perf_counter() - started))

    def delivered(self, message: SnapshotReady) -> None:
        """Called by the screen after it has shown a snapshot: arms the next poll."""
        source = self.sources.get(message.source)
        if source is None:
            return
        source.failures = source.failures + 1 if getattr(message.snapshot, "error", None) else 0
        source.last = message.snapshot
        source.last_elapsed = message.elapsed_s
        self._arm(source.name, source.next_delay())

    async def stop(self) -> None:
        for source in self.sources.values():
            source.stopped = True
            if source.close is not None:
                try:
                    result = source.close()
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    pass  # shutting down: a source that fails to close must not block the exit


def why_failed(exc: BaseException) -> str:
    """An exception as one line a pane can show: its type and its first line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
