"""The one screen: incident header, the four live panes, and the commander pane.

Data flow: the store is the truth. Every scribe action writes the store first and
the screen shows what it reads back, so a second dashboard or `warroom log` in
another terminal sees exactly the same timeline.

This module is the layout and the wiring (ARCHITECTURE.md has the map): the Session it is
handed (tui/session.py), StoreSync (tui/store_sync.py, load/poll/write), SnapshotRouter
(tui/snapshot_routing.py), PacedScreen (tui/textual_hooks/screen.py), the keys in
dashboard_keys/scribe/pane_keys/communicate/signals, and DashboardHost for the app.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Static

from widgets.changes import update_static
from widgets.checklist import ChecklistView
from widgets.countdown import UpdateCountdown
from widgets.footer import WholeKeysFooter
from widgets.incident_header import IncidentHeader
from widgets.status_strip import StatusStrip
from widgets.timeline import TimelineView

from ..incident.model import Entry
from ..incident.timers import Urgency, due_followups, escalation_due, update_clock
from ..messages import SnapshotReady
from ..pacing import FRAME_WAIT_S, PERIOD_S, Beat
from ..panes import ALERTS, has_signals
from ..scheduler import Scheduler
from ..session import Session
from ..snapshot_routing import DisplayEdge, SnapshotRouter
from ..store_sync import READ_GAP_S, StoreSync
from ..textual_hooks.boundary import GuardedScreen
from ..textual_hooks.screen import PacedScreen
from .actions import DashboardActions
from .communicate import CommunicateActions
from .dashboard_host import DashboardHost
from .dashboard_keys import BINDINGS, HELP_TEXT, PROMPT_ACTIONS, READ_ONLY_HIDDEN, WRITE_ACTIONS
from .entry_text import parse_edit, parse_follow_up, parse_role  # noqa: F401 - the names tests and callers know
from .evidence import EvidenceActions
from .pane_keys import PaneKeys
from .scribe import ScribeActions
from .signals import SignalActions

if TYPE_CHECKING:
    from widgets.entry_prompt import EntryPrompt
    from widgets.presenter_banner import PresenterBanner


COMPACT_WIDTH, COMPACT_HEIGHT = 120, 34
_W = TypeVar("_W", bound=Widget)


class CommanderPane(Vertical):
    """Checklist above the timeline; maximizable like the live panes."""

    ALLOW_MAXIMIZE = True


class Dashboard(GuardedScreen, CommunicateActions, SignalActions, DashboardActions, EvidenceActions, ScribeActions,
                PaneKeys, PacedScreen):
    # The timeline has the focus from the start (on_mount focuses it too): Textual's default
    # focused the first focusable pane, restyling it twice before the first frame.
    AUTO_FOCUS = "TimelineView"
    FRAME_WAIT_S = FRAME_WAIT_S     # frames nobody's key asked for wait for their beat (textual_hooks/pacing.py)
    # Z maximizes a pane, never the incident: severity, status, clocks, the follow-up
    # banners, the entry prompt and the keys stay on screen (Textual keeps only the footer).
    ALLOW_IN_MAXIMIZED_VIEW = "#banner, #topbar, #alerts, #prompt, Footer"
    BINDINGS = BINDINGS
    HELP_TEXT = HELP_TEXT

    def __init__(self, session: Session, panes: Mapping[str, Widget] | None = None,
                 edge: DisplayEdge | None = None) -> None:
        """``session``: the incident and store worked on; ``panes``: the live panes by source
        name; ``edge``: what text may be shown now (the app: secrets, hosts while presenting)."""
        super().__init__()
        self.session = session          # store, incident, author, clock, config, redactor
        self.panes: Mapping[str, Widget] = panes or {}
        # Load, poll, write: the store's side of the screen (tui/store_sync.py).
        self.sync = StoreSync(session, self, alive=lambda: self.is_attached)
        # Snapshots to their panes, the detector and the store (tui/snapshot_routing.py).
        self.router = SnapshotRouter(self.sync, edge, self.panes, lambda: self.query_one(TimelineView).entries,
                                     lambda: self.app.batch_update(), lambda text: self.log.error(text))
        self._overdue_rung_at: datetime | None = None
        self._written_at = float("-inf")  # time.monotonic() of the user's last store write
        self._entries_at = float("-inf")  # time.monotonic() of the last entries read (anyone's)
        self._alerted_followups: set[int] = set()
        self.scheduler: Scheduler | None = None
        self._sources_started = False
        self.beat = Beat()
        # Hidden at the first frame, so not mounted for it (~7 ms of styling and mounting, the
        # entry prompt's Input and the banner's nine widgets): each is mounted just after the
        # first frame, or before it if that frame shows it (alerts due, a small terminal).
        self._prompt: EntryPrompt | None = None
        self._alerts = Static("", id="alerts")
        self._strip: StatusStrip | None = None
        self._banner: PresenterBanner | None = None

    @property
    def wapp(self) -> DashboardHost:
        """The hosting app, as far as the screen uses it (dashboard_host.py)."""
        return cast(DashboardHost, self.app)

    # -- layout ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The DOM, once _mount_hidden has run: #banner, #topbar, #alerts, #body (#live, #strip,
        # #commander), #prompt, the footer.
        self._strip = StatusStrip(list(self.panes), id="strip")   # holds snapshots before it is mounted
        self.router.strip = self._strip
        with Horizontal(id="topbar"):
            yield IncidentHeader(id="header")
            yield UpdateCountdown(id="countdown")
        with Horizontal(id="body"):
            with Container(id="live"):
                for name, pane in self.panes.items():
                    # The pane is the grid cell itself, and what Z maximizes: a container around
                    # each was four more widgets to mount, lay out and paint before the first frame.
                    if pane.id is None:
                        pane.id = f"pane-{name}"
                    pane.ALLOW_MAXIMIZE = True  # type: ignore[misc] # this pane, not its whole class
                    yield pane
            with CommanderPane(id="commander"):
                yield ChecklistView(id="checklist")
                yield TimelineView(id="timeline")
        yield WholeKeysFooter()

    def _mount_hidden(self, widget: Widget | None) -> AwaitMount | None:
        """Mount one of the widgets left out of compose, in its place; None if it already is."""
        if widget is None or widget.parent is not None:
            return None
        # By id (banner, alerts, strip, prompt: one of each): where each goes in the DOM.
        if widget.id == "banner":
            return self.mount(widget, before=self.query_one("#topbar"))
        if widget.id == "alerts":
            return self.mount(widget, after=self.query_one("#topbar"))
        if widget.id == "strip":
            return self.query_one("#body").mount(widget, after=self.query_one("#live"))
        return self.mount(widget, before=self.query_one(Footer))

    def _banner_widget(self) -> PresenterBanner:
        if self._banner is None:
            from widgets.presenter_banner import PresenterBanner

            self._banner = PresenterBanner(id="banner")
        return self._banner

    def _prompt_widget(self) -> "EntryPrompt":
        if self._prompt is None:
            from widgets.entry_prompt import EntryPrompt

            self._prompt = EntryPrompt(id="prompt")
        return self._prompt

    def _mount_all_hidden(self) -> None:
        if not self.is_attached:     # the app quit right after its first frame
            return
        for widget in (self._banner_widget(), self._alerts, self._strip, self._prompt_widget()):
            self._mount_hidden(widget)

    async def _ready(self, widget: _W) -> _W:
        """The widget, mounted and composed (at once, unless a key came before the first frame)."""
        if not widget.is_mounted:
            self._mount_hidden(widget)
            await AwaitMount(self, [widget])
        return widget

    def on_mount(self) -> None:
        self.query_one("#commander").border_title = "Commander"
        self.query_one(TimelineView).redact = self.wapp.redact
        self.query_one(IncidentHeader).redact = self.wapp.redact
        self.query_one(ChecklistView).redact = self.wapp.redact
        self.query_one(IncidentHeader).demo = self.wapp.demo
        self.sync.load()
        self.set_interval(PERIOD_S, self._on_beat, name="tick")
        self.sync.listen()
        # The sources are built and started once the first frame is on the terminal: the
        # commander pane is usable at once, and the sources' modules, checkers and heavy imports
        # (kubernetes, in the pods watch thread) do not hold up the first frame or the GIL while
        # it is drawn.
        self.call_after_refresh(self._first_frame_drawn)
        self.query_one(TimelineView).focus()
        self._apply_size()

    def _first_frame_drawn(self) -> None:
        if self._sources_started:
            return
        self._sources_started = True
        self.wapp.first_frame_drawn()
        self.call_later(self._mount_all_hidden)
        self.call_later(self._start_sources)

    def _start_sources(self) -> None:
        if not self.is_attached:     # the app quit right after its first frame
            return
        try:
            self.wapp.build_later_sources()
        except Exception as exc:  # noqa: BLE001 - sources that cannot be built are red panes, not a dead app
            from ..scheduler import why_failed
            from ..sources import error_snapshot

            why = f"could not start: {why_failed(exc)}"
            for name in self.panes:
                snapshot = error_snapshot(name, why)
                if snapshot is not None:
                    self.post_message(SnapshotReady(name, snapshot, 0.0))
        self.scheduler = Scheduler(self, self.wapp.sources, align=self.beat.align)
        if self.incident is not None:
            self._tell_sources_resolved()
        self.scheduler.start()

    def frame_is_urgent(self) -> bool:
        if not self._sources_started:
            return True
        if not self.wapp.input_recent():
            # An entry from elsewhere after a quiet spell is drawn at once (not on the beat): someone
            # typed it for the others to see. A stream of them is read once per READ_GAP_S, and this
            # draws it at most as often.
            return self._entries_at > self._last_frame and time.monotonic() - self._last_frame >= READ_GAP_S
        # Someone is typing: what their keys and writes change is drawn at once, but a frame of
        # nothing but others' entries in the timeline keeps the pace it has when nobody types.
        # 50 writers made ~30 such frames a second, each drawn at once in front of the typist's Enter.
        return (self.wapp.input_after(self._last_frame) or self._written_at > self._last_frame
                or not self.dirty_only_within(self.query_one(TimelineView)))

    async def on_unmount(self) -> None:
        self.sync.stop()
        self.stop_frames()
        if self.scheduler is not None:
            await self.scheduler.stop()

    def on_resize(self) -> None:
        self._apply_size()

    def _apply_size(self) -> None:
        compact = self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT
        if compact and self.panes:
            self._mount_hidden(self._strip)
        self.set_class(compact, "-compact")
        self.set_class(not self.panes, "-no-live")
        self.query_one("#live").set_class(has_signals(self.panes), "-signals")

    # -- the store (tui/store_sync.py): what it read, drawn -----------------------

    @property
    def incident(self) -> Any:
        return self.sync.incident

    @property
    def followups(self) -> list[Any]:
        return self.sync.followups

    def entries_loaded(self, entries: list[Entry]) -> None:
        self.query_one(TimelineView).set_entries(entries)

    def entries_changed(self, entries: list[Entry]) -> None:
        if self.sync.listening:     # told by a notification (the SQLite file's are found on the beat)
            self._entries_at = time.monotonic()
        self.query_one(TimelineView).upsert(entries)

    def entries_removed(self, entry_ids: Any) -> None:
        self.query_one(TimelineView).remove(entry_ids)

    def incident_read(self) -> None:
        self._tell_sources_resolved()
        self.query_one(ChecklistView).show(self.sync.checklist, self.incident.phase.value)
        self.incident_refreshed(self.incident)
        self.tick()

    def report(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity, timeout=10)

    def refresh_incident(self) -> None:
        self.sync.refresh_incident()

    def write(self, fn, *args, **kwargs):
        """A store write (StoreSync.write): on failure one line says why and None is returned."""
        self._written_at = time.monotonic()  # what the user wrote is drawn at once (frame_is_urgent)
        return self.sync.write(fn, *args, **kwargs)

    def write_system(self, items: list[tuple[str, dict | None]], *, source: str) -> Any:
        return self.sync.write_system(items, source=source)

    WRITE_ACTIONS = WRITE_ACTIONS     # a read-only view (warroom --read-only) has none of these keys
    READ_ONLY_HIDDEN = READ_ONLY_HIDDEN

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in self.WRITE_ACTIONS and self.session.read_only:
            return False
        if action in PROMPT_ACTIONS and self._prompt is not None and self._prompt.has_class("-open"):
            return False    # a priority key (dashboard_keys.py): while the prompt is open it is text
        return True

    # -- the clock ---------------------------------------------------------------

    def _on_beat(self) -> None:
        self.beat.tick()
        self.sync.on_beat()
        self.tick()

    def tick(self) -> None:
        if self.incident is None:
            return
        now = self.session.clock()
        self.query_one(TimelineView).set_today(now.date())
        header = self.query_one(IncidentHeader)
        header.connection = self.sync.connection()
        header.present = self.sync.present()
        header.show(self.incident, now)
        clock = update_clock(self.incident, now)
        self.query_one(UpdateCountdown).show(clock)
        if self.wapp.presenter and self._banner is not None and self._banner.is_mounted:
            self._banner.show(self.incident, clock, now, self.wapp.redact, demo=self.wapp.demo)
        if clock.urgency is Urgency.OVERDUE:
            # The bell once when it goes overdue, then once a minute: loud enough, not a siren.
            if self._overdue_rung_at is None or now - self._overdue_rung_at >= timedelta(minutes=1):
                self._overdue_rung_at = now
                self.app.bell()
        else:
            self._overdue_rung_at = None
        self._show_alerts(now)
        self.router.tick(now)

    def _tell_sources_resolved(self) -> None:
        """Pods red for what happened during the incident (an OOM kill) stop being red once it
        is resolved (the small layout's strip showed ✖ Pods … OOMKilled after resolving)."""
        resolved_at = self.incident.resolved_at if self.incident.resolved else None
        for source in (self.scheduler.sources.values() if self.scheduler else ()):
            tell = getattr(source.origin, "set_incident_resolved", None)
            if tell is not None:
                tell(resolved_at)

    def _show_alerts(self, now: datetime) -> None:
        alerts = []
        if self.incident.resolved:
            # A resolved incident nags about nothing: no escalation, no follow-up banners.
            self._show_alert_lines([])
            return
        progress = self.sync.last_progress or self.incident.detected_at or self.incident.started_at
        if (self.incident.detected_at or self.incident.started_at) > progress:
            progress = self.incident.detected_at or self.incident.started_at
        stalled = escalation_due(self.incident, progress, now)
        if stalled is not None:
            alerts.append(f"⚠ No action, decision or mitigation for {int(stalled.total_seconds() // 60)} min — "
                          "consider escalating or changing approach")
        for followup in due_followups(self.followups, now):
            alerts.append(f"⏰ Follow-up due: {self.wapp.redact(followup.text)}  (F marks it done)")
            if followup.id not in self._alerted_followups:
                self._alerted_followups.add(followup.id)
                self.app.bell()
        self._show_alert_lines(alerts)

    def _show_alert_lines(self, alerts: list[str]) -> None:
        widget = self._alerts
        if alerts:
            self._mount_hidden(widget)
        update_static(widget, "\n".join(alerts))
        widget.set_class(bool(alerts), "-active")

    # -- live sources ------------------------------------------------------------

    @on(SnapshotReady)
    def on_snapshot(self, message: SnapshotReady) -> None:
        message.stop()
        events = self.router.route(message.source, message.snapshot, self.scheduler)
        if events is None or self.scheduler is None:
            return
        if message.source == ALERTS:
            self.alerts_seen(message.snapshot)
        hook = self.wapp.on_snapshot_hooks.get(message.source)
        if hook is not None:
            hook(message.snapshot, events)
        self.scheduler.delivered(message)

    @property
    def _snapshots(self) -> dict[str, Any]:
        """Each source's last snapshot, as it came (signals.py, the tests)."""
        return self.router.snapshots

    def latest_snapshot(self, source: str) -> Any:
        """The last snapshot ``source`` delivered (unmasked), or None: what the keys' actions read."""
        return self.router.snapshots.get(source)

    # @on handlers are collected from a class's own body (Textual's metaclass): this one stays here.
    @on(ChecklistView.Toggle)
    def on_checklist_toggle(self, event: ChecklistView.Toggle) -> None:
        self.write(self.session.store.toggle_check, self.session.incident_id, event.item.phase, event.item.index,
                   author=self.session.author, source="tui")

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self.wapp.help_sections()))
