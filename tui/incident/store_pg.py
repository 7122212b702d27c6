"""The shared incident store: one PostgreSQL server that every war-room machine points at.

:class:`PgStore` keeps :class:`~tui.incident.store.Store`'s contract (the store
tests run against both) by inheriting every incident operation and replacing only
the plumbing: connecting, transactions, reads, entry inserts and change detection.
Store's operations speak a small SQL subset that both databases accept; the
adapter :class:`_Conn` turns its ``?`` placeholders into psycopg's and answers
``lastrowid`` with ``RETURNING id``.

What differs from SQLite, and why:
- Writers are serialised by a transaction-scoped advisory lock taken before a
  sequence number is drawn, so ``seq`` order is commit order: a reader that has
  seen seq N never misses a later commit with a smaller seq.
- Recorded times come from the server's clock (``clock_timestamp()``); times
  computed in Python (deadlines, checklist ticks) use the local clock corrected by
  the skew measured at connect, so skewed laptops still make one ordered timeline.
- The database keeps the timeline append-only: a trigger refuses UPDATE, DELETE
  and TRUNCATE on ``entries`` (and ``warroom db init`` grants the application
  role no UPDATE/DELETE there).
- Other machines' changes are found through LISTEN/NOTIFY on a dedicated
  connection; a notification carries only ``incident:seq``, never text.
- PostgreSQL text cannot hold NUL; the rare entry whose text or author has one is
  stored backslash-escaped with ``nul_escaped`` set, and read back verbatim.

The URL's password never leaves this module: messages use :func:`safe_url`.
"""
from __future__ import annotations

import json
import re
import selectors
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from .model import Entry, Kind, to_ms, utcnow
from .outbox import Outbox, Queued

# Re-exported: the CLI and tests import these from here.
from .pg_deadline import deadline as _deadline
from .pg_url import _connect_fix as _connect_fix
from .pg_url import _one_line as _one_line
from .pg_url import _password_of as _password_of
from .pg_url import is_postgres_url as is_postgres_url
from .pg_url import safe_url as safe_url
from .store import (
    Store,
    StoreError,
    _check_unicode,
    _gc_paused,
    check_entry_text,
    default_data_dir,
)
from .store_pg_schema import _NOW_MS as _NOW_MS
from .store_pg_schema import CHANNEL as CHANNEL
from .store_pg_schema import MIGRATIONS as MIGRATIONS
from .store_pg_schema import SCHEMA_TABLE as SCHEMA_TABLE
from .store_pg_schema import TABLES as TABLES
from .store_pg_schema import grants as grants
from .store_rows import _row_to_entry as _entry_of_row

T = TypeVar("T")

if TYPE_CHECKING:  # psycopg itself is imported only when a shared store is opened
    import psycopg

    PgConnection = psycopg.Connection[Any]


class Unreachable(StoreError):
    """The server cannot be reached (refused, timed out, connection lost): a change may be queued."""


class _AlreadySent(Exception):
    """The server already has a change with this client id (a retry after an ambiguous commit)."""

# Every write transaction takes this lock first (see the module docstring).
WRITE_LOCK_KEY = 0x5741_5252  # "WARR"
CONNECT_TIMEOUT_S = 5
# TCP keepalive: a dead server or a black-holed network is noticed within ~10 s.
KEEPALIVE = {"keepalives": 1, "keepalives_idle": 3, "keepalives_interval": 2, "keepalives_count": 3,
             "tcp_user_timeout": 9000}
SKEW_WARN = timedelta(seconds=2)
SKEW_NOISE_MS = 50
HEARTBEAT_S = 3.0     # an idle listening connection is pinged this often…
PING_TIMEOUT_S = 4.0  # …and given up when the answer takes longer (+0.5 s): a black hole is noticed in ~8 s
OP_TIMEOUT_S = 15.0   # a read or write on the main connection that hangs this long is cut (black hole)
# How long close() waits for the listening thread, which it wakes with a notification on a
# channel of the thread's own. Between notifications the thread sleeps until its next heartbeat
# is due: looking up every 0.5 s to see whether to stop cost an idle dashboard on PostgreSQL
# two wake-ups a second that the same dashboard on SQLite has not.
CLOSE_WAIT_S = 2.0
OFFLINE_AFTER_S = 10  # RECONNECTING for longer than this is OFFLINE
PRESENCE_PREFIX = "warroom-listen:"

# -- the adapter Store's operations talk to -------------------------------------------


class _Cursor:
    __slots__ = ("_cur", "lastrowid")

    def __init__(self, cur: psycopg.Cursor[Any], lastrowid: int | None) -> None:
        self._cur, self.lastrowid = cur, lastrowid

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur)


class _Conn:
    """Just enough of sqlite3.Connection for Store's operations, on one psycopg connection."""

    _RETURNS_ID = ("INSERT INTO INCIDENTS", "INSERT INTO FOLLOWUPS")

    def __init__(self, pg: PgConnection) -> None:
        self.pg = pg

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        sql = sql.replace("?", "%s")
        returning = sql.lstrip().upper().startswith(self._RETURNS_ID)
        if returning:
            sql += " RETURNING id"
        cur = self.pg.execute(sql, tuple(params))
        row = cur.fetchone() if returning else None
        return _Cursor(cur, row[0] if row else None)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.pg.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), list(rows))


# The write lock, taken inside the one statement of an append: the volatile lock call in a
# subquery of its own is run before the row that draws the sequence number (PostgreSQL does
# not pull a subquery with a volatile function up into its parent).
_LOCK_FIRST = " FROM (SELECT pg_advisory_xact_lock(%s)) AS l"
_ENTRY_COLUMNS = "seq, entry_id, rev, incident_id, ts_ms, kind, author, text, source, recorded_ms, meta, nul_escaped"


def _escape_nul(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\x00", "\\0")


def _unescape_nul(text: str) -> str:
    return re.sub(r"\\(\\|0)", lambda m: "\\" if m.group(1) == "\\" else "\x00", text)


def _row_to_entry(row: tuple[Any, ...]) -> Entry:
    """The SQLite store's mapping (store_rows), after unescaping the rare NUL-escaped entry."""
    if row[11]:  # nul_escaped: author and text (module docstring)
        row = (*row[:6], _unescape_nul(row[6]), _unescape_nul(row[7]), *row[8:])
    return _entry_of_row(row[:11])


def _psycopg() -> ModuleType:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - it is a dependency; a broken install says so
        raise StoreError("the PostgreSQL store needs psycopg — pip install 'psycopg[binary]'") from None
    return psycopg


class PgStore(Store):
    """The incident store on a PostgreSQL server. Same operations, same contract as :class:`Store`."""

    # Store's are the sqlite3 connection and the file's path; here a psycopg connection (None
    # until the server answers) and the URL without its password (what messages name).
    _conn: Any
    path: Any

    def __init__(self, url: str, data_dir: str | Path | None = None, *, require_schema: bool = True,
                 offline_ok: bool = False) -> None:
        """``offline_ok``: an unreachable server is not an error; writes go to the outbox (``warroom log``)."""
        self.url = url
        self.path = safe_url(url)  # what every message names (Store._fail uses .path)
        self.data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        self._lock = threading.RLock()
        self._flush_lock = threading.Lock()
        self.outbox_errors: list[str] = []
        self._op = threading.local()  # the client id of the change being written on this thread
        self.skew = timedelta(0)
        self.outbox = Outbox(self.data_dir, self.path)
        self._conn = None
        self._backend_pid: int | None = None
        try:
            self._conn = self._connect()
        except Unreachable:
            if not offline_ok:
                raise
        # Checked on the first connection that answers (now, or when an offline CLI's server is back).
        self._schema_due = require_schema
        if self._conn is not None:
            self._backend_pid = self._conn.info.backend_pid
            try:
                self._check_schema_once()
            except Unreachable:  # the server went away between connecting and reading (a restart)
                if not offline_ok:
                    raise
                self._conn.close()
                self._conn = None
        self.state_since = time.monotonic()
        self._start_listener()
        if self._conn is not None and self.outbox.count():
            self.flush()

    # -- connecting -------------------------------------------------------------

    def _fail(self, what: str, exc: BaseException | None = None, fix: str = "") -> StoreError:
        detail = f": {self._scrub(_one_line(str(exc)))}" if exc else ""
        fix = fix or "check the database URL (--database, WARROOM_DATABASE_URL or [store] url)"
        return StoreError(f"store {self.path}: {what}{detail} — {fix}")

    def _scrub(self, text: str) -> str:
        password = _password_of(self.url)
        if password:
            text = text.replace(password, "***")
        return text.replace(self.url, self.path)

    def _connect(self, *, autocommit: bool = True) -> PgConnection:
        psycopg = _psycopg()
        try:
            conn: PgConnection = psycopg.connect(self.url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="warroom", **KEEPALIVE)
        except psycopg.Error as exc:
            message = _one_line(exc)
            fix = _connect_fix(message)
            error = self._fail("cannot connect", exc, fix)
            if fix.startswith("is the server running"):
                raise Unreachable(str(error)) from None
            raise error from None
        try:
            self._measure_skew(conn)
        except psycopg.Error as exc:  # the server went away just after letting us in (a restart)
            conn.close()
            raise Unreachable(str(self._fail("cannot connect", exc, "is the server running and reachable?"))) from None
        return conn

    def _measure_skew(self, conn: PgConnection) -> None:
        before = time.time()
        row = conn.execute(f"SELECT {_NOW_MS}").fetchone()
        assert row is not None  # a SELECT of one value has one row
        server_ms = row[0]
        after = time.time()
        skew_ms = server_ms - (before + after) * 500
        # Within the round trip (plus a margin) the clocks agree as far as we can tell.
        noise_ms = (after - before) * 500 + SKEW_NOISE_MS
        self.skew = timedelta(milliseconds=skew_ms if abs(skew_ms) > noise_ms else 0)

    def now(self) -> datetime:
        # The server's clock, as estimated at connect: deadlines and ticks agree across laptops.
        now = utcnow() + self.skew
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    @property
    def clock_off(self) -> bool:
        """This machine's clock differs from the server's by more than 2 s (the header says so)."""
        return abs(self.skew) > SKEW_WARN

    def schema_version(self) -> int | None:
        """The schema's version, or None in a database warroom has not initialised."""
        psycopg = _psycopg()
        with self._lock:
            try:
                exists = self._conn.execute("SELECT to_regclass(%s)", (SCHEMA_TABLE,)).fetchone()[0]
                if exists is None:
                    return None
                row = self._conn.execute(f"SELECT max(version) FROM {SCHEMA_TABLE}").fetchone()
            except psycopg.OperationalError as exc:
                raise Unreachable(str(self._fail("cannot read the schema version", exc,
                                                 "is the server running and reachable?"))) from None
            except psycopg.Error as exc:
                raise self._fail("cannot read the schema version", exc) from None
            return row[0] or 0

    def _check_schema_once(self) -> None:
        if self._schema_due:
            self._check_schema()
            self._schema_due = False

    def _check_schema(self) -> None:
        version = self.schema_version()
        if version is None:
            raise self._fail("has no warroom schema",
                             fix="create it with 'warroom db init --database URL' (as the database's owner)")
        if version < len(MIGRATIONS):
            raise self._fail(f"schema version {version} is older than this warroom's ({len(MIGRATIONS)})",
                             fix="upgrade it with 'warroom db migrate --database URL' (as the database's owner)")
        if version > len(MIGRATIONS):
            raise self._fail(f"schema version {version} is newer than this warroom understands ({len(MIGRATIONS)})",
                             fix="upgrade warroom")

    def migrate(self) -> tuple[int, int]:
        """Create or upgrade the schema; returns (version before, version after). Safe to run twice at once."""
        psycopg = _psycopg()
        with self._lock:
            try:
                with self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                    before = self.schema_version()
                    if before is None:
                        self._conn.execute(f"CREATE TABLE {SCHEMA_TABLE} (version INTEGER NOT NULL)")
                        before = 0
                    if before > len(MIGRATIONS):
                        raise self._fail(f"schema version {before} is newer than this warroom understands",
                                         fix="upgrade warroom")
                    for step, script in enumerate(MIGRATIONS[before:], start=before + 1):
                        self._conn.execute(script)
                        self._conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version) VALUES (%s)", (step,))
            except psycopg.Error as exc:
                raise self._fail("could not create or upgrade the schema", exc,
                                 "run it as the database's owner (or a role with CREATE on it)") from None
        return before, len(MIGRATIONS)

    def close(self) -> None:
        self._stop.set()
        psycopg = _psycopg()
        with self._lock:
            try:
                if self._wake_channel and self._conn is not None and not self._conn.closed:
                    self._conn.execute("SELECT pg_notify(%s, '')", (self._wake_channel,))
            except psycopg.Error:
                pass  # it looks up from notifies() when its heartbeat is due anyway
        self._listen_thread.join(timeout=CLOSE_WAIT_S)
        with self._lock:
            if self._conn is not None:
                self._conn.close()
        self.outbox.close()

    def __enter__(self) -> "PgStore":
        return self

    # -- plumbing ------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        """No connection to the server now (writes are queued in the outbox)."""
        return self._conn is None or self._conn.closed or self.state != "live"

    def _reconnect_if_closed(self) -> None:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = self._connect()
            self._backend_pid = self._conn.info.backend_pid
            self._check_schema_once()

    def _write(self, fn: Callable[[_Conn], T], *, one_statement: bool = False) -> T:
        """Run ``fn`` in one transaction, after every earlier writer's commit (the advisory lock).

        ``one_statement``: ``fn`` runs a single statement that takes the lock itself (an append):
        it is its own transaction, one round trip, and the lock is held only while the server
        runs it, never while this client waits for the CPU between two round trips (50 writers
        on one machine made every writer queue behind such waits)."""
        psycopg = _psycopg()
        with self._lock:
            try:
                self._reconnect_if_closed()
                if one_statement:
                    with _deadline(self._conn, OP_TIMEOUT_S):
                        return fn(_Conn(self._conn))
                # Pipeline mode: BEGIN, the lock and the first statements go in one round trip
                # (a result read sends what is queued), COMMIT in another.
                with _deadline(self._conn, OP_TIMEOUT_S), self._conn.pipeline(), self._conn.transaction():
                    self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                    return fn(_Conn(self._conn))
            except psycopg.errors.UniqueViolation as exc:
                if exc.diag.constraint_name == "entries_client_id_key":
                    raise _AlreadySent() from None
                raise self._fail("write failed, nothing was saved", exc, "see the server's log") from None
            except psycopg.OperationalError as exc:
                raise Unreachable(str(self._fail("write failed (server unreachable)", exc,
                                                 "check the server and the network"))) from None
            except psycopg.Error as exc:
                raise self._fail("write failed, nothing was saved", exc, "see the server's log") from None

    def _reading(self, fn: Callable[[], T]) -> T:
        """Run a read; a connection found dead (cut while idle) is replaced and the read tried once more.

        If it still fails, the change flag is raised again, so the caller's next poll retries
        the catch-up instead of losing it.
        """
        psycopg = _psycopg()
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._reconnect_if_closed()
                    with _deadline(self._conn, OP_TIMEOUT_S):
                        return fn()
                except psycopg.OperationalError as exc:
                    if attempt == 1 and self._conn is not None and (self._conn.broken or self._conn.closed):
                        continue
                    self._beyond_entries.set()
                    self._changed.set()
                    raise Unreachable(str(self._fail("read failed", exc, "check the server and the network"))) from None
                except Unreachable:
                    self._beyond_entries.set()
                    self._changed.set()
                    raise
                except psycopg.Error as exc:
                    raise self._fail("read failed", exc, "check the server and the network, then retry") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._reading(lambda: self._conn.execute(sql.replace("?", "%s"), tuple(params)).fetchall())

    def _read_entries(self, where: str, params: Sequence[Any] = ()) -> list[Entry]:
        def read() -> list[Entry]:
            # Binary rows fetched all at once, the common (unescaped) row mapped inline: a 100k-entry
            # incident opens ~35% faster than iterating the cursor row by row in text format.
            with _gc_paused(), self._conn.cursor(binary=True) as cur:
                cur.execute(f"SELECT {_ENTRY_COLUMNS} FROM entries {where.replace('?', '%s')}", tuple(params))
                rows = cur.fetchall()
                to_entry = _entry_of_row
                return [_row_to_entry(row) if row[11] else to_entry(row[:11]) for row in rows]

        return self._reading(read)

    def _insert_entry(
        self, conn: _Conn, incident_id: int, kind: Kind, text: str, *, author: str, source: str,
        ts: datetime | None = None, meta: Mapping[str, Any] | None = None, entry_id: int | None = None, rev: int = 1,
        recorded: datetime | None = None, client_id: uuid.UUID | None = None, lock: bool = False,
    ) -> Entry:
        """``lock``: the statement takes the write lock itself (see _write's one_statement)."""
        _check_unicode(text, "entry text")
        _check_unicode(author, "author")
        if client_id is None:  # the change's id goes on its first entry (one per transaction)
            client_id, self._op.client_id = getattr(self._op, "client_id", None), None
        escaped = "\x00" in text or "\x00" in author
        if escaped:
            text, author = _escape_nul(text), _escape_nul(author)
        # A new entry's id is its seq; the recorded time (and the entry's time, unless given) is the server's.
        row = conn.pg.execute(
            f"INSERT INTO entries (seq, entry_id, incident_id, rev, ts_ms, kind, author, text, source, recorded_ms, "
            f"meta, nul_escaped, client_id) "
            f"SELECT s, COALESCE(%s, s), %s, %s, COALESCE(%s, r), %s, %s, %s, %s, COALESCE(%s, r), %s, %s, %s "
            f"FROM (SELECT nextval('entries_seq') AS s, {_NOW_MS} AS r{_LOCK_FIRST if lock else ''}) AS t "
            f"RETURNING {_ENTRY_COLUMNS}",
            (entry_id, incident_id, rev, None if ts is None else to_ms(ts), kind.value, author, text, source,
             None if recorded is None else to_ms(recorded), json.dumps(dict(meta), default=str) if meta else None,
             escaped, client_id, *((WRITE_LOCK_KEY,) if lock else ())),  # the lock's %s comes last
        ).fetchone()
        assert row is not None  # INSERT … RETURNING one row
        return _row_to_entry(row)

    def _append_now(self, incident_id: int, kind: Kind, text: str, *, author: str = "", source: str = "cli",
                    ts: datetime | None = None, meta: Mapping[str, Any] | None = None) -> Entry:
        """Store.append in one statement (one round trip) that takes the write lock first."""
        check_entry_text(text)
        return self._write(lambda conn: self._insert_entry(
            conn, incident_id, kind, text, author=author, source=source, ts=ts, meta=meta, lock=True),
            one_statement=True)

    def last_seq(self) -> int:
        seq: int = self._read("SELECT COALESCE(MAX(seq), 0) FROM entries")[0][0]
        return seq

    # -- other machines' changes ------------------------------------------------------

    def _start_listener(self) -> None:
        # The first LISTEN happens before the constructor returns, so whatever the caller
        # reads next is covered: a later commit is always notified.
        self._wake_channel = ""
        self._presence_name = self._presence_sent = ""
        self.present: list[tuple[str, bool]] = []  # (who, read-only) of every identified dashboard here
        self.listener_pid: int | None = None  # the listening connection's server process
        self._first_listener = self._listen()
        self.state = "live" if self._first_listener is not None else "reconnecting"
        self._stop = threading.Event()
        self._changed = threading.Event()
        self._beyond_entries = threading.Event()  # see changed_beyond_entries
        self.on_change: Callable[[], None] | None = None  # called from the listening thread
        self._listen_thread = threading.Thread(target=self._listen_loop, name="warroom-listen", daemon=True)
        self._listen_thread.start()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state, self.state_since = state, time.monotonic()

    def _signal_change(self, beyond_entries: bool = True) -> None:
        if beyond_entries:  # before the change flag: whoever sees that one sees this one
            self._beyond_entries.set()
        self._changed.set()
        callback = self.on_change
        if callback is not None:
            try:
                callback()
            except Exception:  # a closing app: the next poll still sees the flag
                pass

    def _listen_loop(self) -> None:
        """The dedicated listening connection: LISTEN, then report others' changes; reconnect on any error.

        After every (re)connect a change is signalled, so the reader catches up from its last
        seq: LISTEN comes first, so nothing committed in between is missed.
        """
        psycopg = _psycopg()
        delay = 0.2
        listener = self._first_listener
        self._first_listener = None
        while not self._stop.is_set():
            if listener is None:
                listener = self._listen()
                if listener is None:
                    self._set_state("reconnecting")
                    self._stop.wait(delay)
                    delay = min(delay * 2, 1.0)  # back within a second of the network
                    continue
                self._set_state("live")
                self._ping(listener)  # presence at once, not after the first heartbeat
                if self.outbox.count():
                    self.flush()
                self._signal_change()  # reconnected, LISTENing again: now catch up from the last seq
            delay = 0.2
            try:
                with listener, selectors.DefaultSelector() as readable:
                    readable.register(listener.fileno(), selectors.EVENT_READ)
                    heard = time.monotonic()
                    while not self._stop.is_set():
                        # What has come is passed on at once (notifies() with no wait: it raises on
                        # a dead socket, an RST or a failed keepalive)…
                        for note in listener.notifies(timeout=0):
                            heard = time.monotonic()
                            if note.channel == CHANNEL and note.pid != self._backend_pid:
                                # "incident:seq"; seq 0 is a change that adds no entry (schema triggers).
                                self._signal_change(beyond_entries=note.payload.endswith(":0"))
                        # …then the thread sleeps on the socket until more comes or the heartbeat is due.
                        # notifies() with a timeout polls every 0.1 s (psycopg's wait interval): ten
                        # wake-ups a second that an idle dashboard on SQLite does not have.
                        wait = heard + HEARTBEAT_S - time.monotonic()
                        if wait > 0 and readable.select(wait):
                            continue
                        if time.monotonic() - heard >= HEARTBEAT_S:  # an idle connection is pinged
                            with _deadline(listener, PING_TIMEOUT_S):
                                self._ping(listener)
                            heard = time.monotonic()
            except psycopg.Error:
                if self._stop.is_set():
                    break
                self._set_state("reconnecting")
                self._stop.wait(delay)
            listener = None

    # -- presence: who else has this store open -----------------------------------------

    def identify(self, author: str, *, read_only: bool = False) -> None:
        """Say who this dashboard is; other dashboards list it in their header (via the listening
        connection's application_name, which pg_stat_activity shows to every role)."""
        # application_name keeps 63 bytes of printable ASCII: others see the name cut and "?" for the rest.
        name = "".join(c if 32 <= ord(c) < 127 and c != ":" else "?" for c in author)[:40] or "?"
        self._presence_name = f"{PRESENCE_PREFIX}{name}{':ro' if read_only else ''}"

    def _ping(self, listener: PgConnection) -> None:
        """The heartbeat: tells the server who we are and reads who else is here."""
        if self._presence_name and self._presence_name != self._presence_sent:
            listener.execute("SELECT set_config('application_name', %s, false)", (self._presence_name,))
            self._presence_sent = self._presence_name
        rows = listener.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE %s ORDER BY backend_start", (PRESENCE_PREFIX + "%",),
        ).fetchall()
        present = []
        for (app_name,) in rows:
            who, _, flags = app_name[len(PRESENCE_PREFIX):].partition(":")
            present.append((who, flags == "ro"))
        self.present = present

    def _listen(self) -> PgConnection | None:
        """A new listening connection, LISTENing; None when the server cannot be reached."""
        psycopg = _psycopg()
        try:
            listener: PgConnection = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                       application_name="warroom-listen", **KEEPALIVE)
            listener.execute(f"LISTEN {CHANNEL}")
            # A private channel close() uses to wake this connection's thread at once.
            wake = f"warroom_wake_{listener.info.backend_pid}"
            listener.execute(f"LISTEN {wake}")
        except psycopg.Error:
            return None
        self._wake_channel = wake
        self.listener_pid = listener.info.backend_pid
        self._presence_sent = ""  # a new connection: say who we are again
        return listener

    def changed(self) -> bool:
        """True when another connection committed a change since the last call (no I/O: a flag).

        The listening thread sets it on a notification from another connection, and once
        after every (re)connect, so the caller catches up from its last seq.
        """
        if self._changed.is_set():
            self._changed.clear()
            return True
        return False

    def changed_beyond_entries(self) -> bool:
        """True when, since the last call, another connection changed more than the entries (an
        incident's row, a follow-up: notified with seq 0), the listener reconnected (anything may
        have changed meanwhile), or a read failed (its caller re-reads everything). No I/O.

        With others writing entries only, a dashboard need not re-read the incident, its checklist
        and follow-ups on every notification whose entry it already has (50 writers: ~30 times a
        second, three round trips and a redrawn header and checklist each)."""
        if self._beyond_entries.is_set():
            self._beyond_entries.clear()
            return True
        return False

    def connection_label(self) -> tuple[str, str]:
        """What the header says about the server: ("LIVE", "ok"), ("RECONNECTING 12s", "warn") …"""
        queued = self.outbox.count()
        waiting = f" · {queued} QUEUED" if queued else ""
        if self.state == "live":
            text = "LIVE" + (" · CLOCK OFF" if self.clock_off else "") + waiting
            return text, "warn" if self.clock_off or queued else "ok"
        since = int(time.monotonic() - self.state_since)
        if since < OFFLINE_AFTER_S:
            return f"RECONNECTING {since}s{waiting}", "warn"
        return f"OFFLINE {since}s{waiting}", "error"

    # -- the outbox: nothing typed is lost ---------------------------------------------

    def _send(self, operation: str, client_id: uuid.UUID, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        base = PgStore._append_now if operation == "append" else getattr(Store, operation)
        if operation in ("append", "add_todo") and args and args[0] is None:
            args = (self.require_active().id, *args[1:])  # queued by `warroom log` for "the active incident"
        for attempt in (1, 2):
            self._op.client_id = client_id
            try:
                return base(self, *args, **kwargs)
            except Unreachable:
                # A connection cut while idle is found only when used: if the server answers
                # others (the listener is live), retry once on a new one. The client id makes
                # a retry after an ambiguous commit safe.
                if attempt == 2 or self.state != "live" or self._conn is None or not (
                        self._conn.broken or self._conn.closed):
                    raise
            finally:
                self._op.client_id = None
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_or_queue(self, operation: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        client_id = uuid.uuid4()
        text = {"append": 2, "add_todo": 1}.get(operation)
        if text is not None and len(args) > text and isinstance(args[text], str) and not args[text].strip():
            raise ValueError("an entry needs some text")  # refused now, not when the queue is sent
        if operation == "append" and kwargs.get("ts") is None:
            kwargs = {**kwargs, "ts": self.now()}  # a queued entry keeps when it was typed
        if not self.offline and self.outbox.count():
            self.flush()  # keep the order: older queued changes go first
        if not self.offline and not self.outbox.count():
            try:
                return self._send(operation, client_id, args, kwargs)
            except _AlreadySent:  # pragma: no cover - a fresh id cannot be on the server
                raise self._fail("a new change's id was already on the server") from None
            except Unreachable:
                pass
        return Queued(client_id, operation, self.outbox.put(client_id, operation, args, kwargs))

    def flush(self) -> int:
        """Send queued changes, oldest first, each exactly once; returns how many were sent (or found sent)."""
        sent = 0
        with self._flush_lock:
            for item in self.outbox.pending():
                try:
                    self._send(item.operation, item.client_id, item.args, item.kwargs)
                except _AlreadySent:
                    pass  # it had been committed before (an ambiguous commit): not again
                except Unreachable:
                    break
                except (StoreError, ValueError) as exc:
                    # The server refuses it (an incident since deleted…): keep it, say so, go on.
                    self.outbox_errors.append(f"{item.operation}: {exc}")
                    continue
                self.outbox.done(item.row_id)
                sent += 1
        if sent:
            self._signal_change()  # our own dashboard draws what was just sent
        return sent

    def queued(self) -> int:
        return self.outbox.count()


QUEUEABLE = ("append", "append_many", "add_todo", "edit", "toggle_check", "set_severity", "set_status", "set_phase",
             "set_role", "set_title", "record_update_sent", "snooze_update", "complete_followup")


def _queueable(operation: str) -> Callable[..., Any]:
    def method(self: PgStore, *args: Any, **kwargs: Any) -> Any:
        return self._send_or_queue(operation, args, kwargs)

    method.__name__ = operation
    method.__doc__ = getattr(Store, operation).__doc__
    return method


for _name in QUEUEABLE:
    setattr(PgStore, _name, _queueable(_name))
