"""Follow log files ([[logs]] in warroom.toml) for machines without Kubernetes.

A :class:`LogSource` follows every file its path or glob matches, as ``tail -F``
does: it starts near the end of each file (never reading a whole file into
memory), reads what was appended since the last poll, and keeps following when a
file is rotated (renamed and re-created: the old one is drained first) or
truncated in place (copytruncate: read again from the start). Lines matching the
error pattern are counted per minute and the last of them kept.

Pure Python, no textual; a poll never raises (failure is the snapshot's ``error``).
"""
from __future__ import annotations

import glob
import os
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .base import Event, Level, Snapshot
from .specs import LogSpec

# On first sight of a file, how much of its end to read (recent context, bounded).
START_BYTES = 64 * 1024
# At most this much is read per file per poll: a log growing faster than we read
# is skipped ahead rather than buffered (the snapshot says how much was skipped).
POLL_BYTES = 4 * 1024 * 1024
LINE_BYTES = 4096
KEEP_LINES = 50
MINUTES = 30
_CHUNK = 256 * 1024
_MARK_BYTES = 64


@dataclass(frozen=True)
class LogSnapshot(Snapshot):
    name: str = ""
    files: tuple[str, ...] = ()
    # Errors per minute, oldest first, the last bucket being the current minute.
    errors_per_minute: tuple[int, ...] = ()
    last_errors: tuple[str, ...] = ()
    lines_read: int = 0
    bytes_skipped: int = 0
    missing: tuple[str, ...] = field(default_factory=tuple)
    errors_seen: int = 0            # matching lines ever: a reader's cursor into last_errors


class _Followed:
    """One open file: its identity, where we are in it, and the unfinished last line."""

    def __init__(self, path: str, *, from_start: bool) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        st = os.fstat(self.fd)
        self.ident = (st.st_dev, st.st_ino)
        self.offset = 0 if from_start else max(0, st.st_size - START_BYTES)
        # Started mid-file: the first (partial) line is not a line.
        self.skip_first = self.offset > 0
        self.partial = b""
        # The last bytes read, up to the offset: still there next time unless the file was
        # truncated and rewritten past where we were (its size alone would not show it).
        self.mark = b""

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class LogSource:
    """Follows one [[logs]] entry. ``poll()`` is cheap when nothing changed (a stat per file)."""

    def __init__(self, spec: LogSpec, *, clock: Callable[[], float] = time.time) -> None:
        self.spec = spec
        self.pattern = re.compile(spec.error_pattern)
        self._clock = clock
        self._files: dict[str, _Followed] = {}
        self._started = False
        self._buckets: deque[tuple[int, int]] = deque(maxlen=MINUTES)    # (minute, count)
        self._last: deque[str] = deque(maxlen=KEEP_LINES)
        self.lines_read = 0
        self.bytes_read = 0
        self.bytes_skipped = 0
        self.errors_seen = 0

    # -- the files -------------------------------------------------------------

    def _paths(self) -> list[str]:
        path = os.path.expanduser(self.spec.path)
        if glob.has_magic(path):
            return sorted(p for p in glob.glob(path) if os.path.isfile(p))
        return [path]

    def poll(self) -> LogSnapshot:
        try:
            return self._poll()
        except Exception as exc:  # noqa: BLE001 - failure is data
            return LogSnapshot(name=self.spec.name, level=Level.UNKNOWN, error=f"{type(exc).__name__}: {exc}",
                               summary=f"{self.spec.name}: {exc}")

    def _poll(self) -> LogSnapshot:
        missing: list[str] = []
        by_ident: dict[tuple[int, int], str] = {}
        for path in self._paths():
            try:
                st = os.stat(path)
            except FileNotFoundError:
                missing.append(path)
                continue
            by_ident[(st.st_dev, st.st_ino)] = path
        # Files are followed by identity, not name: a file rotated to another name the glob
        # matches (app.log -> app.log.1) is the same file, read on from where we were.
        kept: dict[str, _Followed] = {}
        for followed in self._files.values():
            self._read(followed)                # drain what the old writer added
            now_at = by_ident.get(followed.ident)
            if now_at is None:                  # deleted, or renamed out of sight
                self._flush_partial(followed)
                followed.close()
            else:
                followed.path = now_at
                kept[now_at] = followed
        for path in by_ident.values():
            if path in kept:
                continue
            try:
                # A file that appears after the first poll is new: read it from its start
                # (bounded per poll like any other); one there at start-up, from near its end.
                followed = _Followed(path, from_start=self._started)
            except OSError as exc:
                missing.append(f"{path} ({exc.strerror})")
                continue
            kept[path] = followed
            self._read(followed)
        self._files = kept
        self._started = True
        counts = self._per_minute()
        recent = counts[-5:]
        level = Level.WARN if any(recent) else Level.OK
        if missing and not self._files:
            level = Level.UNKNOWN
        summary = f"{self.spec.name}: {sum(recent)} errors in 5 min" if any(recent) else f"{self.spec.name}: quiet"
        return LogSnapshot(
            name=self.spec.name, level=level, summary=summary,
            error=("no such file: " + ", ".join(missing)) if missing and not self._files else None,
            files=tuple(sorted(self._files)), errors_per_minute=tuple(counts), last_errors=tuple(self._last),
            lines_read=self.lines_read, bytes_skipped=self.bytes_skipped, missing=tuple(missing),
            errors_seen=self.errors_seen,
        )

    def _read(self, followed: _Followed) -> None:
        size = os.fstat(followed.fd).st_size
        mark = followed.mark
        if size < followed.offset or (size > followed.offset and mark and os.pread(
                followed.fd, len(mark), followed.offset - len(mark)) != mark):
            # Truncated in place (copytruncate), perhaps rewritten past our offset since: what is there now is new.
            followed.offset = 0
            followed.partial = b""
            followed.skip_first = False
            followed.mark = b""
        if size - followed.offset > POLL_BYTES:
            # Falling behind: skip to what fits rather than buffer it.
            skipped = size - followed.offset - POLL_BYTES
            self.bytes_skipped += skipped
            followed.offset += skipped
            followed.partial = b""
            followed.skip_first = True
            followed.mark = b""
        while followed.offset < size:
            data = os.pread(followed.fd, min(_CHUNK, size - followed.offset), followed.offset)
            if not data:
                break
            followed.offset += len(data)
            followed.mark = (followed.mark + data[-_MARK_BYTES:])[-_MARK_BYTES:]
            self.bytes_read += len(data)
            self._feed(followed, data)

    def _feed(self, followed: _Followed, data: bytes) -> None:
        parts = data.split(b"\n")
        parts[0] = followed.partial + parts[0]
        followed.partial = parts.pop()[:LINE_BYTES]
        if followed.skip_first and parts:
            parts.pop(0)
            followed.skip_first = False
        for raw in parts:
            self._line(raw[:LINE_BYTES])

    def _flush_partial(self, followed: _Followed) -> None:
        if followed.partial and not followed.skip_first:
            self._line(followed.partial)
        followed.partial = b""

    def _line(self, raw: bytes) -> None:
        self.lines_read += 1
        line = raw.decode("utf-8", "replace").rstrip("\r")
        if self.pattern.search(line):
            minute = int(self._clock() // 60)
            if self._buckets and self._buckets[-1][0] == minute:
                self._buckets[-1] = (minute, self._buckets[-1][1] + 1)
            else:
                self._buckets.append((minute, 1))
            self._last.append(line)
            self.errors_seen += 1

    def _per_minute(self) -> list[int]:
        now = int(self._clock() // 60)
        counts = dict(self._buckets)
        return [counts.get(minute, 0) for minute in range(now - MINUTES + 1, now + 1)]

    def close(self) -> None:
        for followed in self._files.values():
            followed.close()
        self._files.clear()


@dataclass(frozen=True)
class LogsSnapshot(Snapshot):
    """Every [[logs]] entry at one poll (the logs pane's snapshot)."""
    logs: tuple[LogSnapshot, ...] = ()


class LogGroup:
    """All the [[logs]] entries as one source: one poll, one snapshot, one pane."""

    def __init__(self, specs: tuple[LogSpec, ...] | list[LogSpec], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.sources = [LogSource(spec, clock=clock) for spec in specs]

    @property
    def interval(self) -> float:
        return min((s.spec.interval for s in self.sources), default=1.0)

    def poll(self) -> LogsSnapshot:
        snaps = tuple(source.poll() for source in self.sources)
        level = max((s.level for s in snaps), default=Level.OK)
        errors = sum(sum(s.errors_per_minute[-5:]) for s in snaps)
        broken = [s for s in snaps if s.error]
        summary = f"{errors} error lines in 5 min" if errors else "logs quiet"
        if broken:
            summary += f" · {len(broken)} unreadable"
        return LogsSnapshot(level=level, summary=summary, logs=snaps)

    def close(self) -> None:
        for source in self.sources:
            source.close()


def changes(prev: LogsSnapshot | None, cur: LogsSnapshot) -> list[Event]:
    """None: error lines are evidence to pin (`p`), not state changes for the timeline."""
    return []
