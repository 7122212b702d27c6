"""The dashboard's link to the store: load, poll, write.

The store is the truth. Every scribe action writes the store first and the screen shows
what it reads back, so a second dashboard or `warroom log` in another terminal sees
exactly the same timeline. This controller does the loading, the reading back and the
writing for one ``Session``; it knows nothing of Textual or of widgets: what it read is
handed to a ``StoreView`` (the dashboard), which draws it.

It drives both backends the same way: the SQLite file (``changed()`` is one PRAGMA) and
the shared PostgreSQL store, whose extra powers it uses when they are there (a listening
thread's ``on_change``, an ``outbox`` of changes queued while the server is away,
``present`` and ``connection_label`` for the header, ``read_only``).
"""
from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from .incident.model import PROGRESS_KINDS, Entry, FollowUp, Incident, Kind
from .incident.store import StoreError, current_revisions
from .session import Session

__all__ = ["READ_GAP_S", "STORE_POLL_S", "StoreSync", "StoreView"]

# Other terminals' entries show within a second (ARCHITECTURE.md): the beat reads the store, and
# once more half a beat later. A timer of its own at 4 Hz woke the loop 4 times a second,
# and a wake-up costs ~0.1 ms of CPU whatever it does.
STORE_POLL_S = 0.5
# A shared store's notifications are read at once, but at most once per READ_GAP_S: a lone
# entry typed elsewhere is read the moment it is notified, while a stream (50 writers: 100
# notifications a second) is read ten times a second, several entries a read. Read per
# notification, it was 80 reads a second, 17 % of the dashboard's time, ahead of the
# typist's own keys.
READ_GAP_S = 0.1

_ROLE_SHORT = {"commander": "IC", "deputy": "Deputy", "scribe": "Scribe", "comms": "Comms"}


class StoreView(Protocol):
    """What the controller tells the screen."""

    def entries_loaded(self, entries: list[Entry]) -> None: ...       # the whole timeline
    def entries_changed(self, entries: list[Entry]) -> None: ...      # new or revised entries
    def entries_removed(self, entry_ids: Iterable[int]) -> None: ...  # stand-ins of queued entries
    def incident_read(self) -> None: ...        # incident, checklist and follow-ups re-read
    def report(self, message: str, severity: str) -> None: ...        # one line, for a toast
    def tick(self) -> None: ...                 # redraw what depends on the clock and the store


class StoreSync:
    """One incident of one store, kept in step with the screen."""

    def __init__(self, session: Session, view: StoreView, *, alive: Callable[[], bool] = lambda: True) -> None:
        self.session = session
        self.view = view
        self._alive = alive                 # False once the screen is gone: late timers do nothing
        self.incident: Incident | None = None
        self.checklist: Any = None
        self.followups: list[FollowUp] = []
        self.last_seq = 0
        self.last_progress: datetime | None = None     # the newest action, decision or mitigation
        self._queued_shown: dict[Any, Entry] = {}      # client id -> the stand-in shown "(queued)"
        self._between_beats: asyncio.TimerHandle | None = None
        self._connection_shown: tuple[str, str] | None = None  # as the listener's last read found it
        self.listening = False      # a shared store's listening thread tells of others' changes

    @property
    def read_only(self) -> bool:
        return self.session.read_only

    # -- reading ---------------------------------------------------------------

    def load(self) -> None:
        store, incident_id = self.session.store, self.session.incident_id
        revisions = store.entries(incident_id)
        self.last_seq = revisions[-1].seq if revisions else 0
        timeline = current_revisions(revisions)
        self.view.entries_loaded(timeline)
        # 100k entries are ~1M long-lived objects: without this every full GC pass walks them all
        # (100-180 ms pauses measured). They live as long as the dashboard does.
        gc.freeze()
        self._note_progress(timeline)
        self.refresh_incident()

    def _note_progress(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            if entry.kind in PROGRESS_KINDS and (self.last_progress is None or entry.ts > self.last_progress):
                self.last_progress = entry.ts

    def refresh_incident(self) -> None:
        store, incident_id = self.session.store, self.session.incident_id
        self.incident = store.incident(incident_id)
        self.checklist = store.checklist(incident_id)
        self.followups = store.followups(incident_id)
        self.view.incident_read()

    def poll(self) -> None:
        """Pick up other processes' writes (cheap when nothing changed: one PRAGMA)."""
        try:
            if self.session.store.changed():
                self.sync(polled=True)
        except StoreError as exc:
            self.view.report(str(exc), "error")

    def sync(self, written: Entry | None = None, *, polled: bool = False) -> None:
        """Draw what is new after the last seq; ``written``: our own write's entry; ``polled``:
        the store said another connection changed something."""
        self._drop_sent_stand_ins()
        if written is not None and written.seq == self.last_seq + 1 and written.incident_id == self.session.incident_id:
            # Our own write, right after the last entry seen: nothing else can be in between
            # (seq order is commit order), so no read (a round trip to a shared server).
            new = [written]
        else:
            new = self.session.store.entries(self.session.incident_id, after_seq=self.last_seq)
        if new:
            self.last_seq = new[-1].seq
            self.view.entries_changed(new)
            self._note_progress(new)
        # Incident, checklist and follow-ups change only with an entry that says so (meta "event" or a
        # follow-up); a change with no new entry at all (a snoozed follow-up) also re-reads them. A
        # shared store tells such a change from a notification of entries already read here.
        beyond = getattr(self.session.store, "changed_beyond_entries", None) if polled else None
        again = beyond() if beyond is not None else not new
        if again or any(e.meta.get("event") or e.meta.get("follow_up_at") for e in new):
            self.refresh_incident()

    def on_beat(self) -> None:
        """Read the store now, and once more half a beat later."""
        self.poll()
        if self._between_beats is None:
            self._between_beats = asyncio.get_running_loop().call_later(STORE_POLL_S, self._poll_between_beats)

    def _poll_between_beats(self) -> None:
        self._between_beats = None
        if self._alive():
            self.poll()

    def stop(self) -> None:
        if self._between_beats is not None:
            self._between_beats.cancel()
            self._between_beats = None

    def listen(self) -> None:
        """A shared store's listening thread reports other machines' changes: read them at once
        (not at the next poll), so an entry typed elsewhere is drawn here within a frame or two."""
        store = self.session.store
        if not hasattr(store, "on_change"):
            return
        loop = asyncio.get_running_loop()
        scheduled = threading.Event()
        last_read = float("-inf")

        def changed_elsewhere() -> None:  # on the store's thread
            # One read at a time however fast others write: a read already scheduled picks up
            # everything committed before it runs.
            if not scheduled.is_set():
                scheduled.set()
                loop.call_soon_threadsafe(read_soon)

        def read_soon() -> None:
            wait = last_read + READ_GAP_S - loop.time()
            if wait > 0:
                loop.call_later(wait, read)
            else:
                read()

        def read() -> None:
            nonlocal last_read
            last_read = loop.time()
            scheduled.clear()  # before reading: a change committed from now on schedules another
            if self._alive():
                self.poll()
                # The header's connection state (back to LIVE after a catch-up) at once; otherwise the
                # one-second tick redraws the header. A tick per read redrew the header and the update
                # countdown in every frame while others write, which made each frame dearer and
                # delayed the user's own keys behind them.
                connection = self.connection()
                if connection != self._connection_shown:
                    self._connection_shown = connection
                    self.view.tick()

        store.on_change = changed_elsewhere
        self.listening = True

    # -- what the header shows of the store -------------------------------------

    def present(self) -> list[str]:
        """Who has this incident open on a shared store: "alice IC", "bob read-only" …"""
        present = getattr(self.session.store, "present", None)
        if not present or self.incident is None:
            return []
        roles = {person: role for role, person in self.incident.roles.items()}
        out = []
        for who, read_only in present:
            role = _ROLE_SHORT.get(roles.get(who, ""), "")
            out.append(" ".join(part for part in (who, role, "read-only" if read_only else "") if part))
        return out

    def connection(self) -> tuple[str, str] | None:
        """A shared store's connection (LIVE / RECONNECTING 12s / OFFLINE …); the SQLite file has none."""
        label = getattr(self.session.store, "connection_label", None)
        connection: tuple[str, str] | None = label() if label is not None else None
        if self.read_only:
            connection = ("READ-ONLY" + (f" · {connection[0]}" if connection else ""),
                          connection[1] if connection and connection[1] != "ok" else "warn")
        return connection

    # -- writing ---------------------------------------------------------------

    def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store write; on failure say why in one line and return None (nothing is dropped silently)."""
        try:
            result = fn(*args, **kwargs)
        except (StoreError, ValueError) as exc:
            self.view.report(str(exc), "error")
            return None
        if getattr(result, "queued", None) is not None and hasattr(result, "client_id"):
            # A shared store's server is unreachable: the change waits in the local outbox (outbox.Queued).
            self.view.report(f"queued: the server cannot be reached; {result.queued} change(s) will be sent, "
                             "in order, when it is back", "warning")
            self._show_queued(fn, args, kwargs, result)
            self.view.tick()
            return result
        self.sync(written=result if isinstance(result, Entry) else None)
        return result

    def write_system(self, items: list[tuple[str, dict[str, Any] | None]], *, source: str) -> Any:
        """Every entry the dashboard writes on its own (detector changes, failed posts) goes
        through here, redacted with the session's Redactor BEFORE the write: what a source said
        (a redirect's Location with a ${ENV} token in it, an error body) reaches the store, and so
        `warroom status` and every export, with its secrets masked."""
        redactor = self.session.redactor
        rows = [(Kind.SYSTEM, redactor.text(text), redactor.data(meta) if meta else meta) for text, meta in items]
        return self.write(self.session.store.append_many, self.session.incident_id, rows, author="warroom",
                          source=source)

    def _show_queued(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                     queued: Any) -> None:
        """A queued entry is shown at once, marked "(queued)", until the server has the real one."""
        name = getattr(fn, "__name__", "")
        if name == "append" and len(args) >= 3:
            kind, text = args[1], args[2]
        elif name == "add_todo" and len(args) >= 2:
            kind, text = Kind.TODO, args[1]
        else:
            return  # other changes (a tick, a severity) show once sent; the header counts them meanwhile
        now = self.session.clock()
        self._queued_shown[queued.client_id] = stand_in = Entry(
            seq=0, entry_id=-len(self._queued_shown) - 1, rev=1, incident_id=self.session.incident_id,
            ts=kwargs.get("ts") or now, kind=kind, author=kwargs.get("author", ""), text=text, source="tui",
            recorded_at=now, meta={"queued": True})
        self.view.entries_changed([stand_in])

    def _drop_sent_stand_ins(self) -> None:
        if not self._queued_shown:
            return
        outbox = getattr(self.session.store, "outbox", None)
        waiting = {p.client_id for p in outbox.pending()} if outbox is not None else set()
        sent = [cid for cid in self._queued_shown if cid not in waiting]
        self.view.entries_removed([self._queued_shown.pop(cid).entry_id for cid in sent])
