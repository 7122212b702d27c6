"""Wire-level pieces of the Kubernetes API stand-in: JSON encoding, ``Status`` objects,
timestamps, watch events and the sockets they go out on.

Shared by the fake cluster (``tui.demo.kubeapi_standin``) and its HTTP handler
(``tui.demo.kubeapi_http``), so neither has to import the other for them.
"""

from __future__ import annotations

import json
import select
import socket
from datetime import datetime, timezone

_DUMPS = json.JSONEncoder(separators=(",", ":")).encode

# Exit codes the kubelet reports for the usual termination reasons.
_REASON_TEXT = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    410: "Expired", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
}


def rfc3339(dt: datetime | None = None) -> str:
    """The API's timestamp format: UTC, whole seconds, ``Z``."""
    dt = dt or datetime.now(timezone.utc)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _status(code: int, message: str, reason: str | None = None) -> dict:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or _REASON_TEXT.get(code, "Unknown"),
        "code": code,
    }


class _Watch:
    """One open watch stream (for fault injection and a prompt ``stop()``)."""

    def __init__(self, sock: socket.socket, namespace: str | None) -> None:
        self.sock = sock
        self.namespace = namespace
        self.dropped = False
        self.gone = False          # send an ERROR 410 event, then end the stream



def _event_line(kind: str, item: bytes) -> bytes:
    # Watch events carry kind/apiVersion on the object; list items do not.
    return b'{"type":"' + kind.encode() + b'","object":{"kind":"Pod","apiVersion":"v1",' + item[1:] + b"}\n"


def _peer_closed(sock: socket.socket) -> bool:
    """A watch client never sends anything more, so a readable socket means it hung up."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
