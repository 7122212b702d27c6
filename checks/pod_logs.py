"""One pod's log, for the log viewer (`l` in the pods pane): which container, fetched and followed.

Which log: a container that restarted (CrashLoopBackOff, OOMKilled...) shows its previous
instance's log (``previous=true``: what it said before it died); else the current one's, followed
live while it runs (``follow=true``, a chunked stream). Either way the last ``TAIL_LINES`` lines
since a little before the incident began (``sinceSeconds``, ``tailLines``).

``PodLogStream.run`` blocks (a worker thread runs it); the UI takes the lines received so far
with ``take``. Memory is bounded whatever the log's rate: the stream keeps its last ``keep``
lines, each cut at ``LINE_CHARS``; the reader never buffers more than one chunk.
No textual here; ``kubernetes`` is imported inside ``run`` (the worker thread).
"""
from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .pods_kube import _abort, _close_client, _connect, _describe_transport_error, _SourceError, _status_message
from .specs import KubeSpec

TAIL_LINES = 200
LEAD = timedelta(minutes=5)           # "since a little before the incident began"
KEEP_LINES = 5000                     # what a followed log keeps: the view is of the recent past
LINE_CHARS = 4096
DEFAULT_ERROR_PATTERN = r"(?i)\b(?:error|fatal|panic|exception|critical|oomkilled|traceback)\b"
_REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class LogTarget:
    """Which container's log, and why that one."""
    namespace: str
    pod: str
    container: str
    previous: bool                    # the instance before the last restart
    follow: bool                      # a running container: stream new lines
    why: str                          # one line for the viewer's header


def choose_target(pod: Any, container: str | None = None) -> LogTarget:
    """The log worth reading for a ``V1Pod``: a restarted container's previous instance, the
    one waiting (CrashLoopBackOff) or OOMKilled first; else the first container's current log."""
    meta, status = pod.metadata, pod.status
    statuses = list(getattr(status, "container_statuses", None) or [])
    if container is not None:
        statuses = [cs for cs in statuses if cs.name == container]
    restarted = []
    for cs in statuses:
        term = getattr(getattr(cs, "last_state", None), "terminated", None)
        if (cs.restart_count or 0) > 0 and term is not None:
            waiting = getattr(getattr(cs, "state", None), "waiting", None)
            rank = (0 if waiting is not None else 1, 0 if term.reason == "OOMKilled" else 1)
            restarted.append((rank, cs, term))
    if restarted:
        restarted.sort(key=lambda item: item[0])
        _, cs, term = restarted[0]
        when = f" at {term.finished_at:%H:%M:%S}" if getattr(term, "finished_at", None) else ""
        return LogTarget(meta.namespace, meta.name, cs.name, previous=True, follow=False,
                         why=f"{cs.name}: previous instance ({term.reason or 'terminated'}, exit "
                             f"{term.exit_code}{when}; {cs.restart_count} restart{'' if cs.restart_count == 1 else 's'})")
    names = [cs.name for cs in statuses] or [c.name for c in pod.spec.containers]
    name = container or names[0]
    cs = next((c for c in statuses if c.name == name), None)
    running = cs is not None and getattr(getattr(cs, "state", None), "running", None) is not None
    return LogTarget(meta.namespace, meta.name, name, previous=False, follow=running,
                     why=f"{name}: current instance" + (" (following)" if running else ""))


def since_seconds(incident_started: datetime | None, now: datetime | None = None) -> int | None:
    """``sinceSeconds`` for 'a little before the incident began' (None: no lower bound)."""
    if incident_started is None:
        return None
    now = now or datetime.now(timezone.utc)
    return max(1, int((now - (incident_started - LEAD)).total_seconds()) + 1)


def split_lines(buffer: bytes, chunk: bytes) -> tuple[list[str], bytes]:
    """Complete lines of ``buffer + chunk`` (decoded, cut at LINE_CHARS) and the unfinished rest."""
    data = buffer + chunk
    *complete, rest = data.split(b"\n")
    if len(rest) > LINE_CHARS * 4:       # a line with no end in sight: keep its start only
        rest = rest[:LINE_CHARS * 4]
    return [raw.decode("utf-8", "replace").rstrip("\r")[:LINE_CHARS] for raw in complete], rest


class PodLogStream:
    """Fetches (and follows) one pod's log; thread-safe ``take``; ``close`` ends a follow at once."""

    def __init__(self, spec: KubeSpec, namespace: str, pod: str, *, incident_started: datetime | None = None,
                 container: str | None = None, tail: int = TAIL_LINES, keep: int = KEEP_LINES) -> None:
        self.spec, self.namespace, self.pod = spec, namespace, pod
        self.container = container
        self.incident_started = incident_started
        self.tail = tail
        self.lines: deque[str] = deque(maxlen=keep)
        self.total = 0                    # lines ever received (a reader's cursor)
        self.target: LogTarget | None = None
        self.error: str | None = None
        self.state = "connecting"         # connecting, streaming, ended, failed, closed
        self._lock = threading.Lock()
        self._resp: Any = None
        self._client: Any = None
        self._closed = False

    # -- reader side ----------------------------------------------------------
    def take(self, after: int) -> tuple[int, list[str]]:
        """Lines received after the first ``after`` ones (at most the last ``keep``), and the new cursor."""
        with self._lock:
            fresh = min(self.total - after, len(self.lines))
            if fresh <= 0:
                return self.total, []
            out = list(self.lines)[-fresh:] if fresh < len(self.lines) else list(self.lines)
            return self.total, out

    def close(self) -> None:
        self._closed = True
        _abort(self._resp)
        if self._client is not None:
            _close_client(self._client)
        if self.state in ("connecting", "streaming"):
            self.state = "closed"

    # -- the worker -----------------------------------------------------------
    def run(self) -> None:
        """Blocks until the log is read (or, followed, until the container ends or ``close``)."""
        try:
            self._run()
        except _SourceError as exc:
            self._fail(exc.words)
        except Exception as exc:  # noqa: BLE001 - a failure is shown in the viewer, never raised
            if self._closed:
                return
            code = getattr(exc, "status", None)
            if isinstance(code, int) and code:
                self._fail(f"{code}: {_status_message(exc) or type(exc).__name__}")
            else:
                server = getattr(getattr(self._client, "configuration", None), "host", "") or "?"
                self._fail(_describe_transport_error(exc, server).words)
        finally:
            if self._client is not None:
                _close_client(self._client)

    def _fail(self, why: str) -> None:
        if not self._closed:
            self.error, self.state = why, "failed"

    def _run(self) -> None:
        conn = _connect(self.spec)
        self._client = conn.api_client
        if self._closed:
            return
        pod = conn.api.read_namespaced_pod(self.pod, self.namespace, _request_timeout=_REQUEST_TIMEOUT_S)
        target = self.target = choose_target(pod, self.container)
        kwargs: dict[str, Any] = {"container": target.container, "previous": target.previous,
                                  "follow": target.follow, "tail_lines": self.tail, "_preload_content": False}
        since = since_seconds(self.incident_started)
        if since is not None:
            kwargs["since_seconds"] = since
        if not target.follow:
            # A followed log may be quiet for as long as it likes: no read timeout (close() ends it).
            kwargs["_request_timeout"] = _REQUEST_TIMEOUT_S
        resp = self._resp = conn.api.read_namespaced_pod_log(self.pod, self.namespace, **kwargs)
        if self._closed:
            _abort(resp)
            return
        self.state = "streaming"
        rest = b""
        try:
            for chunk in resp.stream(amt=None, decode_content=False):
                lines, rest = split_lines(rest, chunk)
                if lines:
                    self._append(lines)
                if self._closed:
                    return
        finally:
            resp.release_conn()
        if rest:
            self._append([rest.decode("utf-8", "replace")[:LINE_CHARS]])
        if not self._closed:
            self.state = "ended"

    def _append(self, lines: list[str]) -> None:
        with self._lock:
            self.lines.extend(lines)
            self.total += len(lines)


def error_pattern(text: str | None) -> re.Pattern[str]:
    """The configured error pattern, compiled (check-config has vetted it), else the default."""
    return re.compile(text or DEFAULT_ERROR_PATTERN)

