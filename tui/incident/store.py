"""The incident store: SQLite in WAL mode, the single source of truth.

Every write is its own transaction, committed with synchronous=FULL before the
call returns, so whatever a caller shows or acknowledges is already on disk.
Other processes' writes are found by polling ``PRAGMA data_version`` and reading
rows past the last ``seq`` seen: no IPC, and a second terminal running
``warroom log`` needs nothing but the same data directory.

The public surface is :class:`Store`; nothing outside this module touches SQL,
so a shared server backend can replace it later.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

# Re-exported: callers and tests import these from here.
from .entry_rules import MAX_ENTRY_CHARS as MAX_ENTRY_CHARS
from .entry_rules import MAX_FOLLOW_UP_MINUTES as MAX_FOLLOW_UP_MINUTES
from .entry_rules import _check_unicode as _check_unicode
from .entry_rules import check_entry_text as check_entry_text
from .entry_rules import check_follow_up as check_follow_up
from .entry_rules import current_revisions as current_revisions
from .local_disk import network_filesystem
from .model import (
    DEFAULT_CADENCE,
    DEFAULT_CHECKLISTS,
    DEFAULT_ESCALATE_AFTER,
    ROLES,
    ChecklistItem,
    Entry,
    FollowUp,
    Incident,
    Kind,
    Phase,
    Severity,
    Status,
    from_ms,
    to_ms,
    utcnow,
)
from .store_rows import _ENTRY_COLUMNS as _ENTRY_COLUMNS
from .store_rows import _KINDS as _KINDS
from .store_rows import _gc_paused as _gc_paused
from .store_rows import _opt_ms as _opt_ms
from .store_rows import _row_to_entry as _row_to_entry
from .store_sqlite_schema import MIGRATIONS as MIGRATIONS

DB_NAME = "warroom.db"
BUSY_TIMEOUT_MS = 10_000
T = TypeVar("T")
# What a write transaction's function is given: a sqlite3.Connection here; in store_pg an adapter
# of a psycopg connection taking the same SQL subset (execute, executemany, lastrowid).
TxnConn = Any


class StoreError(RuntimeError):
    """A store problem, phrased as one line: what, which file, how to mend."""


class NoActiveIncident(StoreError):
    pass


class NoStore(NoActiveIncident):
    """A read-only open found no store to read (nothing was created)."""


def default_data_dir() -> Path:
    env = os.environ.get("WARROOM_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs  # only here: the CLI's fast paths never need it

    return Path(platformdirs.user_data_dir("warroom", appauthor=False))


# Opening a long incident turns every row into an Entry, so this is the hot path
# (100k rows must load well under a second). The frozen dataclass's generated
# __init__ costs a guarded object.__setattr__ per field; filling the instance's
# __dict__ directly is ~4x cheaper and yields an identical, equally frozen object.
_RECOVER_HINT = "the file may be corrupt: copy it aside and run 'sqlite3 warroom.db .recover'"


def _looks_corrupt(exc: sqlite3.DatabaseError) -> bool:
    msg = str(exc)
    return "not a database" in msg or "malformed" in msg or "corrupt" in msg


class Store:
    """One open store; safe to share between threads (calls are serialised)."""

    def __init__(self, data_dir: str | Path | None = None, *, read_only: bool = False) -> None:
        """``read_only``: for commands that only read (status, incidents, export): the file is
        opened read-only, nothing is created (no directory, no file, no migration), and a
        read-only data directory works; a missing store raises :class:`NoStore`."""
        self.data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        self.path = self.data_dir / DB_NAME
        self.read_only = read_only
        self._lock = threading.RLock()
        self._conn = self._open_read_only() if read_only else self._open()
        self._last_data_version = self._data_version()

    # -- opening ---------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException | None = None, fix: str = "") -> StoreError:
        detail = f": {exc}" if exc else ""
        fix = fix or "check the path and its permissions, or pass --data-dir / set WARROOM_DATA_DIR"
        return StoreError(f"store {self.path}: {what}{detail} — {fix}")

    def _open(self) -> sqlite3.Connection:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._fail("cannot create the data directory", exc) from None
        fs_type = network_filesystem(self.data_dir)
        if fs_type:
            raise self._fail(
                f"is on a {fs_type} filesystem, where SQLite's locking fails and databases get corrupted",
                fix="use a data directory on a local disk; to share an incident between machines use the "
                    "PostgreSQL store (--database postgresql://…, README 'A war room on several machines')")
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise self._fail("the database file is not writable", fix="fix its permissions (chmod u+w) or pass another --data-dir")
        if not os.access(self.data_dir, os.W_OK):
            raise self._fail("the data directory is not writable", fix="fix its permissions or pass another --data-dir")
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = self._enter_wal(conn)
            if mode.lower() != "wal":
                raise self._fail(f"could not switch to WAL mode (got {mode})", fix="put the data directory on a local disk")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
        except StoreError:
            raise
        except sqlite3.DatabaseError as exc:
            msg = str(exc)
            if "locked" in msg or "busy" in msg:
                raise self._fail("locked by another process", exc, "close the other warroom writing to it, then retry") from None
            if _looks_corrupt(exc):
                raise self._fail(
                    "is corrupt or not a warroom database", exc,
                    "move the file aside (keep it for recovery) and run again, or pass another --data-dir",
                ) from None
            raise self._fail("cannot open the database", exc) from None
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise NoStore(f"no incidents yet in {self.data_dir} — declare one with 'warroom declare --title T --sev N'")
        uri = self.path.absolute().as_uri() + "?mode=ro"
        try:
            try:
                return self._connect_read_only(uri)
            except sqlite3.OperationalError as exc:
                if "unable to open" not in str(exc):
                    raise
                # A WAL database needs its -shm file; in a read-only directory with no writer
                # there is none and it cannot be made. Nobody can be writing there either (a
                # writer needs that same file), so the file is read as it is, without locks.
                return self._connect_read_only(uri + "&immutable=1")
        except StoreError:
            raise
        except sqlite3.DatabaseError as exc:
            if _looks_corrupt(exc):
                raise self._fail("is corrupt or not a warroom database", exc,
                                 "move the file aside (keep it for recovery), or pass another --data-dir") from None
            raise self._fail("cannot open the database for reading", exc) from None

    def _connect_read_only(self, uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except BaseException:
            conn.close()
            raise
        if version != len(MIGRATIONS):
            conn.close()
            if version == 0:      # an empty file: nothing was ever written to it
                raise NoStore(f"no incidents yet in {self.data_dir} — declare one with 'warroom declare --title T --sev N'")
            if version > len(MIGRATIONS):
                raise self._fail(f"schema version {version} is newer than this warroom understands "
                                 f"({len(MIGRATIONS)})", fix="upgrade warroom")
            raise self._fail(f"schema version {version} is older than this warroom's ({len(MIGRATIONS)})",
                             fix="run any writing command (e.g. warroom log) once to upgrade it")
        return conn

    @staticmethod
    def _enter_wal(conn: sqlite3.Connection) -> str:
        # Switching a new file to WAL needs an exclusive lock, and SQLite answers
        # "database is locked" at once, without calling the busy handler, when
        # another process holds its write lock at that moment (two `warroom log`
        # racing on a fresh data dir did fail). So wait here, within the same budget.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                mode: str = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                return mode
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise self._fail(
                f"schema version {version} is newer than this warroom understands ({len(MIGRATIONS)})",
                fix="upgrade warroom",
            )
        if version == len(MIGRATIONS):
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for step, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {step}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> datetime:
        """The clock recorded times come from (a shared server's backend uses the server's)."""
        return utcnow()

    # -- plumbing --------------------------------------------------------------

    def _write(self, fn: Callable[[TxnConn], T]) -> T:
        """Run ``fn`` in one durable transaction; the data is on disk when this returns."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._fail("locked by another process", exc, "retry; if it persists, close the other writer") from None
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException as exc:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.DatabaseError):
                    fix = _RECOVER_HINT if _looks_corrupt(exc) else "check free disk space and permissions"
                    raise self._fail("write failed, nothing was saved", exc, fix) from None
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise self._read_failed(exc) from None

    def _read_entries(self, where: str, params: Sequence[Any] = ()) -> list[Entry]:
        # Rows are converted as they stream from the cursor (no list of raw rows
        # held alongside the entries) with the cyclic GC paused: see _gc_paused.
        with self._lock, _gc_paused():
            try:
                rows = self._conn.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries {where}", params)
                return [_row_to_entry(row) for row in rows]
            except sqlite3.DatabaseError as exc:
                raise self._read_failed(exc) from None

    def _read_failed(self, exc: sqlite3.DatabaseError) -> StoreError:
        return self._fail("read failed", exc, _RECOVER_HINT)

    def _data_version(self) -> int:
        with self._lock:
            version: int = self._conn.execute("PRAGMA data_version").fetchone()[0]
            return version

    def changed(self) -> bool:
        """True when another connection committed since the last call (cheap: no I/O)."""
        version = self._data_version()
        if version != self._last_data_version:
            self._last_data_version = version
            return True
        return False

    # -- incidents -------------------------------------------------------------

    @staticmethod
    def _row_to_incident(row: tuple[Any, ...]) -> Incident:
        (id_, title, sev, status, phase, started, detected, mitigated, resolved, roles,
         next_update, cadence, escalate, demo) = row
        return Incident(
            id=id_, title=title, severity=Severity(sev), status=Status(status), phase=Phase(phase),
            started_at=from_ms(started), detected_at=_opt_ms(detected), mitigated_at=_opt_ms(mitigated),
            resolved_at=_opt_ms(resolved), roles=json.loads(roles), next_update_at=_opt_ms(next_update),
            cadence_minutes=cadence, escalate_after_minutes=escalate, demo=bool(demo),
        )

    _INCIDENT_COLUMNS = (
        "id, title, severity, status, phase, started_ms, detected_ms, mitigated_ms, resolved_ms, roles, "
        "next_update_ms, cadence_minutes, escalate_after_minutes, demo"
    )

    def declare(
        self,
        title: str,
        severity: Severity,
        *,
        author: str = "",
        source: str = "cli",
        started_at: datetime | None = None,
        roles: Mapping[str, str] | None = None,
        cadence: Mapping[Severity, int | None] | None = None,
        escalate_after: timedelta = DEFAULT_ESCALATE_AFTER,
        checklists: Mapping[Phase, Sequence[str]] | None = None,
        demo: bool = False,
        now: datetime | None = None,
    ) -> Incident:
        title = title.strip()
        if not title:
            raise ValueError("the incident needs a title")
        now = now or self.now()
        started_at = started_at or now
        cadence = dict(DEFAULT_CADENCE if cadence is None else cadence)
        minutes = cadence.get(severity)
        next_update = now + timedelta(minutes=minutes) if minutes else None
        lists = {phase: tuple((checklists or {}).get(phase, DEFAULT_CHECKLISTS[phase])) for phase in Phase}
        bad_roles = set(roles or {}) - set(ROLES)
        if bad_roles:
            raise ValueError(f"unknown role {sorted(bad_roles)[0]!r}; roles are {', '.join(ROLES)}")

        def txn(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO incidents (title, severity, status, phase, started_ms, detected_ms, roles, "
                "next_update_ms, cadence_minutes, escalate_after_minutes, demo) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (title, int(severity), Status.INVESTIGATING.value, Phase.TRIAGE.value, to_ms(started_at),
                 to_ms(now), json.dumps(dict(roles or {})), None if next_update is None else to_ms(next_update),
                 minutes, escalate_after.total_seconds() / 60, int(demo)),
            )
            incident_id = cur.lastrowid
            assert incident_id is not None  # an INSERT sets it
            conn.executemany(
                "INSERT INTO checklist (incident_id, phase, idx, text) VALUES (?,?,?,?)",
                [(incident_id, phase.value, i, text) for phase, items in lists.items() for i, text in enumerate(items)],
            )
            self._insert_entry(
                conn, incident_id, Kind.SYSTEM, f"Incident declared: {title} ({severity.name}, {severity.meaning})",
                author=author, source=source, ts=now, meta={"event": "declared", "cadence": {s.name: m for s, m in cadence.items()}},
            )
            return incident_id

        return self.incident(self._write(txn))

    def incident(self, incident_id: int) -> Incident:
        rows = self._read(f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        if not rows:
            raise StoreError(f"no incident INC-{incident_id} in {self.path} — list them with 'warroom incidents'")
        return self._row_to_incident(rows[0])

    def incidents(self) -> list[Incident]:
        return [self._row_to_incident(r) for r in self._read(f"SELECT {self._INCIDENT_COLUMNS} FROM incidents ORDER BY id")]

    def active_incident(self) -> Incident | None:
        rows = self._read(
            f"SELECT {self._INCIDENT_COLUMNS} FROM incidents WHERE status != ? ORDER BY id DESC LIMIT 1",
            (Status.RESOLVED.value,),
        )
        return self._row_to_incident(rows[0]) if rows else None

    def require_active(self) -> Incident:
        incident = self.active_incident()
        if incident is None:
            raise NoActiveIncident(
                f"no active incident in {self.data_dir} — declare one with 'warroom declare --title T --sev N'"
            )
        return incident

    # -- entries ---------------------------------------------------------------

    def _insert_entry(
        self, conn: TxnConn, incident_id: int, kind: Kind, text: str, *, author: str, source: str,
        ts: datetime | None = None, meta: Mapping[str, Any] | None = None, entry_id: int | None = None, rev: int = 1,
        recorded: datetime | None = None,
    ) -> Entry:
        """Insert one revision inside the caller's transaction; returns it as it will read back."""
        _check_unicode(text, "entry text")
        _check_unicode(author, "author")
        now = self.now()
        # ``recorded``: only an import (warroom import) keeps the original recording time.
        values = (incident_id, rev, to_ms(ts or now), kind.value, author, text, source, to_ms(recorded or now),
                  json.dumps(dict(meta), default=str) if meta else None)
        if entry_id is None:
            # A new entry's id is its seq. Choosing the seq here (we hold the write lock)
            # sets both in one statement: no follow-up UPDATE rewriting the index, one
            # statement less on the durable path. The max with sqlite_sequence keeps
            # AUTOINCREMENT's promise that a seq is never reused.
            seq = conn.execute(
                "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'entries'), 0), "
                "COALESCE((SELECT MAX(seq) FROM entries), 0)) + 1"
            ).fetchone()[0]
            entry_id = seq
            conn.execute(
                "INSERT INTO entries (seq, entry_id, incident_id, rev, ts_ms, kind, author, text, source, recorded_ms, meta) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)", (seq, entry_id, *values),
            )
        else:
            seq = conn.execute(
                "INSERT INTO entries (entry_id, incident_id, rev, ts_ms, kind, author, text, source, recorded_ms, meta) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)", (entry_id, *values),
            ).lastrowid
        # Built from the values just written, so callers need not read the row back.
        return _row_to_entry((seq, entry_id, rev, incident_id, *values[2:]))

    def append(
        self, incident_id: int, kind: Kind, text: str, *, author: str = "", source: str = "cli",
        ts: datetime | None = None, meta: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Durably append an entry; returns it once it is committed."""
        check_entry_text(text)
        return self._write(lambda conn: self._insert_entry(
            conn, incident_id, kind, text, author=author, source=source, ts=ts, meta=meta))

    def append_many(self, incident_id: int, items: Sequence[tuple[Kind, str, Mapping[str, Any] | None]], *,
                    author: str = "", source: str = "cli") -> list[Entry]:
        """Durably append several entries in one transaction (one fsync): all or none.

        For bursts of detector entries (a crash-looping deployment restarts many pods at once).
        """
        for _, text, _ in items:
            if not text.strip():
                raise ValueError("an entry needs some text")
        if not items:
            return []
        return self._write(lambda conn: [
            self._insert_entry(conn, incident_id, kind, text, author=author, source=source, meta=meta)
            for kind, text, meta in items])

    def edit(
        self, entry_id: int, *, text: str | None = None, ts: datetime | None = None, kind: Kind | None = None,
        author: str = "", source: str = "tui", meta: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Append a new revision of an entry; the earlier revisions stay (audit trail).

        ``meta``: keys to set in the new revision's meta (the others are carried over), e.g.
        `warroom run` revising its "running" entry with the exit status and output."""

        def txn(conn: sqlite3.Connection) -> Entry:
            row = conn.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE entry_id = ? ORDER BY rev DESC LIMIT 1", (entry_id,)
            ).fetchone()
            if row is None:
                raise StoreError(f"no entry {entry_id} in {self.path}")
            last = _row_to_entry(row)
            new_text = last.text if text is None else text
            check_entry_text(new_text)
            new_meta = {**last.meta, **(meta or {})}
            new_meta["edited_by"] = author
            return self._insert_entry(
                conn, last.incident_id, kind or last.kind, new_text, author=last.author, source=source,
                ts=ts or last.ts, meta=new_meta, entry_id=entry_id, rev=last.rev + 1,
            )

        return self._write(txn)

    def revisions(self, entry_id: int) -> list[Entry]:
        return self._read_entries("WHERE entry_id = ? ORDER BY rev", (entry_id,))

    def entries(self, incident_id: int, *, after_seq: int = 0) -> list[Entry]:
        """Every revision written after ``after_seq``, in write order (callers fold revisions)."""
        return self._read_entries("WHERE incident_id = ? AND seq > ? ORDER BY seq", (incident_id, after_seq))

    def timeline(self, incident_id: int) -> list[Entry]:
        """The current revision of every entry, sorted by time (what the log and exports show)."""
        return current_revisions(self.entries(incident_id))

    def last_seq(self) -> int:
        seq: int = self._read("SELECT COALESCE(MAX(seq), 0) FROM entries")[0][0]
        return seq

    # -- incident changes: each is also a timeline entry -------------------------

    def _change(self, incident_id: int, sets: Mapping[str, object], kind: Kind, text: str, *, author: str,
                source: str, meta: Mapping[str, Any] | None = None) -> Incident:
        def txn(conn: sqlite3.Connection) -> None:
            if sets:
                cols = ", ".join(f"{col} = ?" for col in sets)
                conn.execute(f"UPDATE incidents SET {cols} WHERE id = ?", (*sets.values(), incident_id))
            self._insert_entry(conn, incident_id, kind, text, author=author, source=source, meta=meta)

        self._write(txn)
        return self.incident(incident_id)

    def set_severity(self, incident_id: int, severity: Severity, *, author: str = "", source: str = "tui",
                     cadence: Mapping[Severity, int | None] | None = None) -> Incident:
        inc = self.incident(incident_id)
        if severity == inc.severity:
            return inc
        minutes = dict(DEFAULT_CADENCE if cadence is None else cadence).get(severity)
        now = self.now()
        # A faster cadence pulls the deadline in; a slower one never pushes an imminent update out.
        next_update = None
        if minutes and not inc.resolved:  # a closed incident owes no updates (reopening re-arms them)
            candidate = now + timedelta(minutes=minutes)
            next_update = min(candidate, inc.next_update_at) if inc.next_update_at else candidate
        direction = "raised" if severity < inc.severity else "lowered"
        return self._change(
            incident_id,
            {"severity": int(severity), "cadence_minutes": minutes,
             "next_update_ms": None if next_update is None else to_ms(next_update)},
            Kind.DECISION, f"Severity {direction} to {severity.name} (was {inc.severity.name})",
            author=author, source=source, meta={"event": "severity", "from": inc.severity.name, "to": severity.name},
        )

    def set_status(self, incident_id: int, status: Status, *, author: str = "", source: str = "tui") -> Incident:
        inc = self.incident(incident_id)
        if status == inc.status:
            return inc
        now_ms = to_ms(self.now())
        sets: dict[str, object] = {"status": status.value}
        if status in (Status.MONITORING, Status.RESOLVED) and inc.mitigated_at is None:
            sets["mitigated_ms"] = now_ms
        if status is Status.RESOLVED:
            sets["resolved_ms"] = now_ms
            sets["next_update_ms"] = None
        elif inc.status is Status.RESOLVED:
            # Reopened: updates are owed again.
            sets["resolved_ms"] = None
            if inc.cadence_minutes:
                sets["next_update_ms"] = now_ms + inc.cadence_minutes * 60_000
        return self._change(
            incident_id, sets, Kind.DECISION, f"Status changed to {status.value} (was {inc.status.value})",
            author=author, source=source, meta={"event": "status", "from": inc.status.value, "to": status.value},
        )

    def set_phase(self, incident_id: int, phase: Phase, *, author: str = "", source: str = "tui") -> Incident:
        inc = self.incident(incident_id)
        if phase == inc.phase:
            return inc
        return self._change(
            incident_id, {"phase": phase.value}, Kind.DECISION, f"Phase: {phase.value} (was {inc.phase.value})",
            author=author, source=source, meta={"event": "phase", "from": inc.phase.value, "to": phase.value},
        )

    def set_role(self, incident_id: int, role: str, person: str, *, author: str = "", source: str = "tui") -> Incident:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        roles = dict(self.incident(incident_id).roles)
        if person:
            roles[role] = person
        else:
            roles.pop(role, None)
        text = f"{role.capitalize()}: {person}" if person else f"{role.capitalize()} role cleared"
        return self._change(incident_id, {"roles": json.dumps(roles)}, Kind.DECISION, text,
                            author=author, source=source, meta={"event": "role", "role": role, "person": person})

    def set_title(self, incident_id: int, title: str, *, author: str = "", source: str = "tui") -> Incident:
        title = title.strip()
        if not title:
            raise ValueError("the incident needs a title")
        return self._change(incident_id, {"title": title}, Kind.DECISION, f"Title changed to: {title}",
                            author=author, source=source, meta={"event": "title"})

    # -- stakeholder updates ---------------------------------------------------

    def record_update_sent(self, incident_id: int, text: str = "Status update sent", *, author: str = "",
                           source: str = "tui", meta: Mapping[str, Any] | None = None) -> Incident:
        inc = self.incident(incident_id)
        now = self.now()
        next_update = now + timedelta(minutes=inc.cadence_minutes) if inc.cadence_minutes and not inc.resolved else None
        return self._change(
            incident_id, {"next_update_ms": None if next_update is None else to_ms(next_update)},
            Kind.COMMS, text, author=author, source=source, meta={"event": "update_sent", **(meta or {})},
        )

    def snooze_update(self, incident_id: int, minutes: float = 5, *, author: str = "", source: str = "tui") -> Incident:
        inc = self.incident(incident_id)
        if inc.next_update_at is None:
            return inc
        # Snoozing an overdue update counts from now, not from the missed deadline.
        base = max(inc.next_update_at, self.now())
        new = base + timedelta(minutes=minutes)
        return self._change(
            incident_id, {"next_update_ms": to_ms(new)}, Kind.SYSTEM,
            f"Stakeholder update snoozed {minutes:g} min (due {new:%H:%M:%S} UTC)",
            author=author, source=source, meta={"event": "snooze", "minutes": minutes},
        )

    # -- checklist ---------------------------------------------------------------

    def checklist(self, incident_id: int) -> list[ChecklistItem]:
        order = {phase.value: i for i, phase in enumerate(Phase)}
        rows = self._read("SELECT phase, idx, text, done_ms, done_by FROM checklist WHERE incident_id = ?", (incident_id,))
        items = [ChecklistItem(Phase(p), i, t, _opt_ms(d), b) for p, i, t, d, b in rows]
        return sorted(items, key=lambda it: (order[it.phase.value], it.index))

    def toggle_check(self, incident_id: int, phase: Phase, index: int, *, author: str = "", source: str = "tui") -> ChecklistItem:
        def txn(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT text, done_ms FROM checklist WHERE incident_id = ? AND phase = ? AND idx = ?",
                (incident_id, phase.value, index),
            ).fetchone()
            if row is None:
                raise StoreError(f"no checklist item {phase.value} #{index + 1} in INC-{incident_id}")
            text, done_ms = row
            now = self.now()
            done = done_ms is None
            conn.execute(
                "UPDATE checklist SET done_ms = ?, done_by = ? WHERE incident_id = ? AND phase = ? AND idx = ?",
                (to_ms(now) if done else None, author if done else None, incident_id, phase.value, index),
            )
            mark = "✓" if done else "✗ unchecked"
            self._insert_entry(
                conn, incident_id, Kind.ACTION, f"Checklist {mark} {phase.value}: {text}", author=author, source=source,
                ts=now, meta={"event": "checklist", "phase": phase.value, "index": index, "done": done},
            )

        self._write(txn)
        return next(it for it in self.checklist(incident_id) if it.phase == phase and it.index == index)

    # -- follow-ups ------------------------------------------------------------

    def add_todo(self, incident_id: int, text: str, *, follow_up_minutes: float | None = None, author: str = "",
                 source: str = "tui") -> Entry:
        """A todo entry, optionally with a follow-up timer that alerts when due."""
        check_entry_text(text)
        if follow_up_minutes:     # 0 or None: no follow-up
            check_follow_up(follow_up_minutes)
        now = self.now()
        due = now + timedelta(minutes=follow_up_minutes) if follow_up_minutes else None

        def txn(conn: sqlite3.Connection) -> Entry:
            meta = {"follow_up_at": due.isoformat()} if due else None
            entry = self._insert_entry(conn, incident_id, Kind.TODO, text, author=author, source=source, ts=now, meta=meta)
            if due:
                conn.execute("INSERT INTO followups (incident_id, entry_id, text, due_ms) VALUES (?,?,?,?)",
                             (incident_id, entry.entry_id, text, to_ms(due)))
            return entry

        return self._write(txn)

    def followups(self, incident_id: int, *, pending_only: bool = True) -> list[FollowUp]:
        sql = "SELECT id, incident_id, entry_id, text, due_ms, done_ms FROM followups WHERE incident_id = ?"
        if pending_only:
            sql += " AND done_ms IS NULL"
        rows = self._read(sql + " ORDER BY due_ms", (incident_id,))
        return [FollowUp(i, inc, e, t, from_ms(d), _opt_ms(done)) for i, inc, e, t, d, done in rows]

    def complete_followup(self, followup_id: int, *, author: str = "", source: str = "tui") -> None:
        def txn(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT incident_id, text, done_ms FROM followups WHERE id = ?", (followup_id,)).fetchone()
            if row is None or row[2] is not None:
                return
            conn.execute("UPDATE followups SET done_ms = ? WHERE id = ?", (to_ms(self.now()), followup_id))
            self._insert_entry(conn, row[0], Kind.ACTION, f"Followed up: {row[1]}", author=author, source=source,
                               meta={"event": "followup_done", "followup": followup_id})

        self._write(txn)

    def snooze_followup(self, followup_id: int, minutes: float, *, author: str = "", source: str = "tui") -> None:
        due = self.now() + timedelta(minutes=minutes)
        self._write(lambda conn: conn.execute("UPDATE followups SET due_ms = ? WHERE id = ?", (to_ms(due), followup_id)))
