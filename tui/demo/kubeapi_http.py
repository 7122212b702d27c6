"""The HTTP side of the Kubernetes API stand-in: list and watch requests, auth and
injected faults, served from ``KubeApiStandin``'s in-memory cluster.

Split out of ``tui.demo.kubeapi_standin`` so the fake cluster model and the request
handling can be read apart. Pure stdlib, like the stand-in itself.
"""

from __future__ import annotations

import bisect
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .kubeapi_wire import _DUMPS, _event_line, _peer_closed, _status, _Watch

if TYPE_CHECKING:
    from .kubeapi_standin import KubeApiStandin


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients closing a watch mid-stream is normal here; the stdlib would print a traceback.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: KubeApiStandin
    server_version = "kubeapi-standin/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def setup(self) -> None:
        super().setup()
        with self.standin._lock:
            self.standin._conns.add(self.connection)

    def finish(self) -> None:
        with self.standin._lock:
            self.standin._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    # -- plumbing
    def _send_json(self, code: int, body: dict | bytes) -> None:
        data = body if isinstance(body, bytes) else _DUMPS(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_status(self, st: dict) -> None:
        self._send_json(st["code"], st)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # -- routing
    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        s = self.standin
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.rstrip("/")
        with s._lock:
            s.request_log.append(("GET", self.path))
        if path == "/version":
            self._send_json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-standin",
                                  "platform": "linux/amd64"})
            return
        if path == "/api":
            self._send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                  "serverAddressByClientCIDRs": [
                                      {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{s.port}"}]})
            return
        if s.token is not None and self.headers.get("Authorization") != f"Bearer {s.token}":
            with s._lock:
                s.requests["denied"] += 1
            self._send_status(_status(401, "Unauthorized"))
            return
        segs = path.split("/")
        if segs[:4] == ["", "apis", "apps", "v1"]:
            self._apps("GET", segs, query)
            return
        # /api/v1/pods | /api/v1/namespaces/{ns}/pods | /api/v1/namespaces/{ns}/pods/{name}
        if segs[:3] == ["", "api", "v1"] and segs[3:] == ["pods"]:
            namespace = None
        elif segs[:4] == ["", "api", "v1", "namespaces"] and len(segs) == 8 and segs[5:8:2] == ["pods", "log"]:
            from .kubeapi_logs import serve_log  # /api/v1/namespaces/{ns}/pods/{name}/log

            serve_log(self, s, segs[4], segs[6], query)
            return
        elif segs[:4] == ["", "api", "v1", "namespaces"] and len(segs) in (6, 7) and segs[5] == "pods":
            namespace = segs[4]
            if len(segs) == 7:
                self._get_one(namespace, segs[6])
                return
        else:
            self._send_status(_status(404, "the server could not find the requested resource"))
            return
        watching = query.get("watch", "").lower() in ("true", "1")
        verb = "watch" if watching else "list"
        fault = s._take_fault(namespace, verb)
        with s._lock:
            s.requests[verb] += 1
            s.requests[f"{verb}:{namespace or '*'}"] += 1
        if fault is not None:
            self._send_status(fault)
            return
        if watching:
            self._watch(namespace, query)
        else:
            self._list(namespace)

    def do_PATCH(self) -> None:  # noqa: N802 - stdlib naming
        s = self.standin
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with s._lock:
            s.request_log.append(("PATCH", self.path))
        if s.token is not None and self.headers.get("Authorization") != f"Bearer {s.token}":
            self._send_status(_status(401, "Unauthorized"))
            return
        segs = parts.path.rstrip("/").split("/")
        if segs[:4] != ["", "apis", "apps", "v1"]:
            self._send_status(_status(405, "the stand-in patches deployments only"))
            return
        self._apps("PATCH", segs, query, body)

    def _apps(self, method: str, segs: list[str], query: dict[str, str], body: bytes = b"") -> None:
        """apps/v1 (tui/demo/kubeapi_apps.py), behind the same injected faults as the pods."""
        s = self.standin
        fault = s._take_fault(segs[5] if len(segs) > 5 else None, method.lower())
        if fault is not None:
            self._send_status(fault)
            return
        code, answer = s.apps_request(method, segs, query, self.headers.get("Content-Type", ""), body)
        self._send_json(code, answer)

    def _get_one(self, namespace: str, name: str) -> None:
        s = self.standin
        with s._lock:
            item = s._item_json.get((namespace, name))
        if item is None:
            self._send_status(_status(404, f'pods "{name}" not found'))
        else:
            self._send_json(200, b'{"kind":"Pod","apiVersion":"v1",' + item[1:])

    def _list(self, namespace: str | None) -> None:
        s = self.standin
        with s._lock:
            rv = s._rv
            items = [v for (ns, _), v in s._item_json.items() if namespace is None or ns == namespace]
        body = b"".join([
            b'{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"%d"},"items":[' % rv,
            b",".join(items),
            b"]}",
        ])
        self._send_json(200, body)

    def _watch(self, namespace: str | None, query: dict[str, str]) -> None:
        s = self.standin
        rv_text = query.get("resourceVersion", "")
        try:
            timeout = float(query.get("timeoutSeconds") or 1800)
        except ValueError:
            timeout = 1800.0
        if s.max_watch_seconds is not None:
            timeout = min(timeout, s.max_watch_seconds)
        bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")
        deadline = time.monotonic() + timeout
        watch = _Watch(self.connection, namespace)
        initial: list[bytes] = []
        with s._cond:
            if rv_text in ("", "0"):
                # No resourceVersion: synthetic ADDED for the current state, then changes.
                cursor = s._rv
                initial = [_event_line("ADDED", v) for (ns, _), v in s._item_json.items()
                           if namespace is None or ns == namespace]
                gone = False
            else:
                try:
                    cursor = int(rv_text)
                except ValueError:
                    self._send_status(_status(400, f"invalid resourceVersion {rv_text!r}"))
                    return
                gone = cursor < s._floor
            s._watches.add(watch)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if gone:
                self._write_chunk(self._gone_line(rv_text))
                self._write_chunk(b"")
                return
            if initial:
                self._write_chunk(b"".join(initial))
            next_bookmark = time.monotonic() + s.bookmark_interval
            while True:
                with s._cond:
                    while True:
                        if s._stopping or watch.dropped:
                            return
                        if cursor < s._floor:
                            watch.gone = True    # events it had not sent yet were compacted away
                        if watch.gone:
                            break
                        start = bisect.bisect_right(s._ev_rvs, cursor)
                        pending = [line for ns, line in s._ev_lines[start:]
                                   if namespace is None or ns == namespace]
                        if start < len(s._ev_rvs):
                            cursor = s._ev_rvs[-1]
                        if pending:
                            break
                        now = time.monotonic()
                        if now >= deadline:
                            break
                        if bookmarks and now >= next_bookmark:
                            break
                        wait = deadline - now
                        if bookmarks:
                            wait = min(wait, next_bookmark - now)
                        # Wake now and then to notice a client that hung up on an idle watch.
                        s._cond.wait(min(wait, s.hangup_check_s))
                        if _peer_closed(self.connection):
                            return
                    current_rv = s._rv
                if watch.gone:
                    self._write_chunk(self._gone_line(str(cursor)))
                    self._write_chunk(b"")
                    return
                if pending:
                    self._write_chunk(b"".join(pending))
                now = time.monotonic()
                if bookmarks and now >= next_bookmark:
                    self._write_chunk(_DUMPS({"type": "BOOKMARK", "object": {
                        "kind": "Pod", "apiVersion": "v1",
                        "metadata": {"resourceVersion": str(max(cursor, current_rv))}}}).encode() + b"\n")
                    next_bookmark = now + s.bookmark_interval
                if now >= deadline:
                    self._write_chunk(b"")   # clean end of a timed-out watch
                    return
        except OSError:
            # The client went away, or drop_watches()/stop() cut the socket.
            self.close_connection = True
        finally:
            with s._lock:
                s._watches.discard(watch)
            if watch.dropped or s._stopping:
                self.close_connection = True

    def _gone_line(self, rv: str) -> bytes:
        s = self.standin
        st = _status(410, f"too old resource version: {rv} ({s._floor})", "Expired")
        return _DUMPS({"type": "ERROR", "object": st}).encode() + b"\n"
