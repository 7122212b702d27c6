"""The local outbox: changes made while the shared server cannot be reached wait here.

One small SQLite file, ``outbox.db`` in the data directory (a local disk: the SQLite
store's rule), written with ``synchronous=FULL`` before the change is reported as
"queued": nothing typed is lost if the laptop then dies. Each change is one row: the
store operation's name, its arguments (JSON, with enums and times tagged), and a
client-made unique id that the server's ``entries.client_id`` refuses to take twice,
so a change sent again after an ambiguous commit is never duplicated. Rows are keyed
by the server (its URL without password): a change queued for one server is never
sent to another. Any warroom process on the machine that reaches the server sends
them, oldest first.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from .model import Kind, Phase, Severity, Status

FILE_NAME = "outbox.db"
_ENUMS = {cls.__name__: cls for cls in (Kind, Phase, Severity, Status)}


@dataclass(frozen=True)
class Queued:
    """What a write returns when its change went to the outbox instead of the server."""
    client_id: uuid.UUID
    operation: str
    queued: int  # changes now waiting, this one included


@dataclass(frozen=True)
class Pending:
    row_id: int
    client_id: uuid.UUID
    operation: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return {"$e": type(value).__name__, "v": value.value}
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, dict):
        return {"$d": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"$l": [encode(v) for v in value]}
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if "$e" in value:
            return _ENUMS[value["$e"]](value["v"])
        if "$t" in value:
            return datetime.fromisoformat(value["$t"])
        if "$d" in value:
            return {decode(k): decode(v) for k, v in value["$d"]}
        if "$l" in value:
            return tuple(decode(v) for v in value["$l"])
    return value


class Outbox:
    def __init__(self, data_dir: Path, server: str) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self.server = server
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        # Opened on first use: a store that never queues never creates the file.
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, server TEXT NOT NULL, "
                         "client_id TEXT NOT NULL UNIQUE, operation TEXT NOT NULL, args TEXT NOT NULL)")
            self._conn = conn
        return self._conn

    def put(self, client_id: uuid.UUID, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """Durably queue one change; returns how many now wait for this server."""
        payload = json.dumps({"args": encode(list(args)), "kwargs": encode(kwargs)}, default=str)
        with self._lock:
            db = self._db()
            db.execute("INSERT INTO outbox (server, client_id, operation, args) VALUES (?,?,?,?)",
                       (self.server, str(client_id), operation, payload))
            count: int = db.execute("SELECT COUNT(*) FROM outbox WHERE server = ?", (self.server,)).fetchone()[0]
            return count

    def pending(self) -> list[Pending]:
        if self._conn is None and not self.path.exists():
            return []
        with self._lock:
            rows = self._db().execute("SELECT id, client_id, operation, args FROM outbox WHERE server = ? ORDER BY id",
                                      (self.server,)).fetchall()
        out = []
        for row_id, client_id, operation, payload in rows:
            data = json.loads(payload)
            out.append(Pending(row_id, uuid.UUID(client_id), operation, decode(data["args"]), decode(data["kwargs"])))
        return out

    def count(self) -> int:
        if self._conn is None and not self.path.exists():
            return 0
        with self._lock:
            count: int = self._db().execute("SELECT COUNT(*) FROM outbox WHERE server = ?", (self.server,)).fetchone()[0]
            return count

    def done(self, row_id: int) -> None:
        with self._lock:
            self._db().execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
