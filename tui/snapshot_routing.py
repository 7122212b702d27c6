"""A source's snapshot, from the scheduler to its pane, its detector entries and the store.

Each ``SnapshotReady`` the dashboard receives is routed here: the snapshot replaces the
source's last one; the state changes between the two (the source module's ``changes``)
go through the detector's ``Damper`` and, unless a dashboard on the same incident wrote
the same words within the minute, into the store as ``system`` entries; and the snapshot
is shown on its pane and the compact strip after crossing the display edge (every string
made visible, secrets and, while presenting, our hosts masked).

No widget is named here: the panes are ``show``-able objects by source name, and the
screen supplies the timeline's entries and its batch of updates.
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from .incident.model import Entry, Kind
from .incident.safe_text import visible
from .store_sync import StoreSync

if TYPE_CHECKING:
    from .detector import Damper
    from .presenter import Hosts
    from .scheduler import Scheduler

__all__ = ["DisplayEdge", "SnapshotRouter"]


class DisplayEdge(Protocol):
    """What the app says about showing text now (tui/app.py)."""

    @property
    def masking_hosts(self) -> bool: ...
    @property
    def hosts(self) -> Hosts: ...
    def redact(self, text: str) -> str: ...


class Shows(Protocol):
    def show(self, *args: Any) -> None: ...


class SnapshotRouter:
    def __init__(self, sync: StoreSync, edge: DisplayEdge | None, panes: Mapping[str, Any],
                 timeline: Callable[[], Sequence[Entry]], batch: Callable[[], AbstractContextManager[Any]],
                 log_error: Callable[[str], None]) -> None:
        self.sync = sync
        self.edge = edge
        self.panes = panes
        self._timeline = timeline           # the entries on screen, newest last
        self._batch = batch                 # one frame for a pane and the strip
        self._log_error = log_error
        self.strip: Shows | None = None
        self.snapshots: dict[str, Any] = {}
        self._frozen: set[str] = set()      # sources whose first full snapshot is out of the GC's way
        self._mask_memo: dict[str, tuple[Any, dict[Any, Any]]] = {}   # source -> (masking state, memo)
        self._damper: Damper | None = None

    @property
    def damper(self) -> Damper:
        # Made (and its module imported) with the first snapshot, after the first frame.
        if self._damper is None:
            from .detector import Damper

            self._damper = Damper()
        return self._damper

    def route(self, name: str, snapshot: Any, scheduler: Scheduler | None) -> list[Any] | None:
        """Keep, show and judge one snapshot; returns the state changes it brought (None: no
        running source sent it, as an error snapshot of a source that could not start)."""
        source = scheduler.sources.get(name) if scheduler is not None else None
        previous = self.snapshots.get(name)
        self.snapshots[name] = snapshot
        events: list[Any] = []
        if source is not None and previous is not None:
            try:
                events = source.changes(previous, snapshot)
            except Exception as exc:  # a detector bug must not stop the polling
                self._log_error(f"changes() failed for {name}: {exc!r}")
        self.show(name, snapshot)
        if name not in self._frozen and getattr(snapshot, "synced", True):
            self._frozen.add(name)
            # What a source's first full snapshot built (5,000 pod rows; the kubernetes client,
            # imported by then) lives as long as the dashboard: keep it out of every full GC
            # pass (150-180 ms each with 5,000 pods), as StoreSync.load does for the timeline.
            gc.freeze()
        if source is None:
            return None
        self.write_system(self.damper.feed(events, self.sync.session.clock()), name)
        return events

    def tick(self, now: datetime) -> None:
        if self._damper is not None:     # fed nothing yet: nothing to roll up or settle
            self.write_system(self._damper.tick(now), "detector")

    # -- showing ----------------------------------------------------------------

    def show(self, name: str, snapshot: Any) -> None:
        pane = self.panes.get(name)
        if pane is None:
            return
        try:
            # Every string of the snapshot, whichever pane or field shows it, crosses the display
            # edge: pod names, reasons, commit subjects, error bodies are remote text.
            snapshot = self.displayable(name, snapshot)
            with self._batch():
                pane.show(snapshot)
                if self.strip is not None:
                    self.strip.show(name, snapshot)
        except Exception as exc:  # a rendering bug turns its own pane red; the dashboard stays up
            self._log_error(f"{name} pane failed to render: {exc!r}")
            pane.border_subtitle = f"display error: {type(exc).__name__}"
            pane.add_class("-error")

    def show_all(self) -> None:
        """Re-show what is on screen (host masking turned on or off)."""
        for name, snapshot in self.snapshots.items():
            self.show(name, snapshot)

    def displayable(self, name: str, snapshot: Any) -> Any:
        """The snapshot with every string made safe to show (mask_value), reusing last time's
        copy of each item the source handed on unchanged (valid while host masking stays on or
        off and no host was learned: the function's output depends on both). Secrets can surface
        in remote text (an error body, a commit subject): with secrets configured or hosts masked,
        through the app's whole display edge; else only controls and bidi overrides are made
        visible (the cheap part)."""
        edge = self.edge
        masking = edge is not None and edge.masking_hosts
        generation = 0
        if edge is not None and masking:
            hosts = edge.hosts
            hosts.learn(snapshot)      # its node, host and service names are ours: masked too
            generation = hosts.generation
        state = (masking, generation)
        last_state, last = self._mask_memo.get(name, (None, {}))
        this: dict[Any, Any] = {}
        from .presenter import mask_value

        secrets = getattr(self.sync.session.config, "secrets", None)
        show = edge.redact if edge is not None and (masking or secrets) else visible
        masked = mask_value(snapshot, show, (last if last_state == state else {}, this))
        self._mask_memo[name] = (state, this)
        return masked

    # -- the detector's entries ---------------------------------------------------

    def write_system(self, events: list[Any], source: str) -> None:
        """One transaction for all of a snapshot's state changes, however many pods restarted.
        Nothing once the incident is resolved: detector entries stop at resolution (a new
        incident the commander declares gets them)."""
        if self.sync.read_only:
            return  # a read-only view (--read-only) records nothing, not even what its detector sees
        incident = self.sync.incident
        if incident is not None and incident.resolved:
            return
        fresh = [e for e in events if not self._recently_written(e)]
        if fresh:
            self.sync.write_system([(e.text, system_meta(e)) for e in fresh], source=f"detector:{source}")

    def _recently_written(self, event: Any) -> bool:
        """Another dashboard on the same incident may have written this change already (the
        same words: a second DOWN of the minute, "api still DOWN after 25s", is not the first)."""
        session = self.sync.session
        now = session.clock()
        text = None
        for entry in _newest(self._timeline(), 200):
            if now - entry.ts > timedelta(minutes=1):
                break
            if entry.kind is Kind.SYSTEM and entry.meta.get("key") == event.key and entry.meta.get("state") == event.state:
                text = session.redactor.text(event.text) if text is None else text
                if entry.text == text:
                    return True
        return False


def _newest(entries: Sequence[Entry], limit: int) -> Iterator[Entry]:
    return reversed(entries[-limit:])


def system_meta(e: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"key": e.key, "state": e.state, "level": int(e.level)}
    if getattr(e, "events", None):
        # A burst entry stands for many changes: every one of them stays on record.
        meta["events"] = [[m.key, m.state, int(m.level), m.text] for m in e.events]
    return meta
