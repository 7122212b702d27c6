"""Container logs for the Kubernetes API stand-in: ``GET .../pods/{name}/log``.

Each container keeps the lines of its current instance and of the previous one (the
kubelet keeps exactly one terminated instance's log: ``?previous=true``). A restart
moves the current log to previous and ends any ``follow`` stream on it, as the real
server does when the container it streams from exits.

Query parameters served like the API server: ``container``, ``previous``, ``follow``,
``tailLines``, ``sinceSeconds``, ``sinceTime``, ``timestamps``. Errors are ``Status``
objects with the server's wording (400 for a waiting container or a missing previous
instance, 404 for an unknown pod). Pure stdlib.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any

from .kubeapi_wire import _peer_closed, _status

if TYPE_CHECKING:
    from .kubeapi_http import _Handler
    from .kubeapi_standin import KubeApiStandin

# Lines kept per container instance: enough for the tests and the bench, bounded for the demo.
KEEP_LINES = 200_000

Key = tuple[str, str, str]        # (namespace, pod, container)


class _Instance:
    """One container instance's log: (unix time, line) pairs and a generation to end follows."""

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.lines: deque[tuple[float, bytes]] = deque(maxlen=KEEP_LINES)
        self.written = 0          # lines ever written: a follower's cursor


class PodLogs:
    """Every container's current and previous log, guarded by the stand-in's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self.cond = threading.Condition(lock)     # its own waiters: pod watches are not woken by log lines
        self.current: dict[Key, _Instance] = {}
        self.previous: dict[Key, _Instance] = {}
        self._gen = 0

    def _instance(self, key: Key) -> _Instance:
        inst = self.current.get(key)
        if inst is None:
            self._gen += 1
            inst = self.current[key] = _Instance(self._gen)
        return inst

    def write(self, key: Key, lines: list[str], at: float | None) -> None:
        with self.cond:
            inst = self._instance(key)
            when = time.time() if at is None else at
            for line in lines:
                inst.lines.append((when, line.encode("utf-8", "surrogateescape")))
            inst.written += len(lines)
            self.cond.notify_all()

    def restarted(self, key: Key) -> None:
        """The container's instance ended and a new one began: current becomes previous."""
        with self.cond:
            self.previous[key] = self._instance(key)
            del self.current[key]
            self._instance(key)
            self.cond.notify_all()


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _parse_time(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None


def _stamp(when: float) -> bytes:
    dt = datetime.fromtimestamp(when, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.").encode() + b"%09dZ " % (dt.microsecond * 1000)


def serve_log(handler: _Handler, standin: KubeApiStandin, namespace: str, name: str, query: dict[str, str]) -> None:
    """Answer one log request (the handler has routed and authorised it)."""
    logs = standin.logs
    with standin._lock:
        standin.requests["log"] += 1
        pod = standin._pods.get((namespace, name))
        if pod is None:
            handler._send_status(_status(404, f'pods "{name}" not found'))
            return
        names = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or (names[0] if len(names) == 1 else "")
        if not container:
            handler._send_status(_status(400, f"a container name must be specified for pod {name}, "
                                              f"choose one of: [{' '.join(names)}]"))
            return
        if container not in names:
            handler._send_status(_status(400, f"container {container} is not valid for pod {name}"))
            return
        status: dict[str, Any] = next((cs for cs in pod["status"].get("containerStatuses") or [] if cs["name"] == container), {})
        key = (namespace, name, container)
        previous = _truthy(query.get("previous"))
        if previous:
            inst = logs.previous.get(key)
            if inst is None:
                handler._send_status(_status(
                    400, f'previous terminated container "{container}" in pod "{name}" not found'))
                return
        else:
            waiting = (status.get("state") or {}).get("waiting")
            if waiting:
                handler._send_status(_status(
                    400, f'container "{container}" in pod "{name}" is waiting to start: '
                         f'{waiting.get("reason", "ContainerCreating")}'))
                return
            inst = logs._instance(key)
        lines = list(inst.lines)
        cursor = inst.written
        gen = inst.gen
    try:
        since = float(query["sinceSeconds"]) if "sinceSeconds" in query else None
        tail = int(query["tailLines"]) if "tailLines" in query else None
    except ValueError:
        handler._send_status(_status(400, "invalid sinceSeconds or tailLines"))
        return
    floor = time.time() - since if since is not None else None
    if "sinceTime" in query:
        floor = _parse_time(query["sinceTime"])
        if floor is None:
            handler._send_status(_status(400, f"invalid sinceTime {query['sinceTime']!r}"))
            return
    if floor is not None:
        lines = [item for item in lines if item[0] >= floor]
    if tail is not None:
        lines = lines[-tail:] if tail > 0 else []
    stamps = _truthy(query.get("timestamps"))

    def encode(items: list[tuple[float, bytes]]) -> bytes:
        if stamps:
            return b"".join(_stamp(w) + line + b"\n" for w, line in items)
        return b"".join(line + b"\n" for _, line in items)

    body = encode(lines)
    if not (_truthy(query.get("follow")) and not previous):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return
    _follow(handler, standin, key, gen, cursor, body, encode)


def _follow(handler: _Handler, standin: KubeApiStandin, key: Key, gen: int, cursor: int, first: bytes,
            encode: Any) -> None:
    """Stream the instance's new lines until it ends (restart), the server stops or the client leaves."""
    logs = standin.logs
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if first:
            handler._write_chunk(first)
        while True:
            with logs.cond:
                while True:
                    # Our instance: still current, or just moved to previous by a restart (drained first).
                    inst = next((i for i in (logs.current.get(key), logs.previous.get(key))
                                 if i is not None and i.gen == gen), None)
                    ended = standin._stopping or inst is None or logs.current.get(key) is not inst
                    if ended or (inst is not None and inst.written > cursor):
                        break
                    logs.cond.wait(standin.hangup_check_s)
                    if _peer_closed(handler.connection):
                        return
                items: list[tuple[float, bytes]] = []
                if inst is not None and inst.written > cursor:
                    fresh = min(inst.written - cursor, len(inst.lines))
                    items = list(islice(reversed(inst.lines), fresh))[::-1]
                    cursor = inst.written
            if items:
                handler._write_chunk(encode(items))
            if ended:
                handler._write_chunk(b"")
                return
    except OSError:
        handler.close_connection = True
