"""The one screen: incident header, the four live panes, and the commander pane.

Data flow: the store is the truth. Every scribe action writes the store first and
the screen shows what it reads back, so a second dashboard or `warroom log` in
another terminal sees exactly the same timeline.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.widget import AwaitMount, Widget
from textual.widgets import Footer, Static

from widgets.changes import update_static
from widgets.checklist import ChecklistView
from widgets.countdown import UpdateCountdown
from widgets.footer import WholeKeysFooter
from widgets.incident_header import IncidentHeader
from widgets.status_strip import StatusStrip
from widgets.timeline import TimelineView, time_text

from ..incident.model import Entry, Kind, Phase, Severity, Status
from ..incident.safe_text import visible
from ..incident.store import StoreError
from ..incident.timers import Urgency, due_followups, escalation_due, update_clock
from ..messages import SnapshotReady
from ..pacing import FRAME_WAIT_S, PERIOD_S, Beat
from ..scheduler import Scheduler
from ..session import Session
from ..snapshot_routing import DisplayEdge, SnapshotRouter
from ..store_sync import StoreSync
from ..textual_hooks.screen import PacedScreen
from .boundary import GuardedScreen
from .communicate import CommunicateActions
from .signals import SignalActions

if TYPE_CHECKING:
    from widgets.entry_prompt import EntryPrompt

    from ..app import WarroomApp
    from ..detector import Damper

FOLLOW_UP = re.compile(r"\s+\+(\d+(?:\.\d+)?)\s*m?(?:in)?\s*$")
EDIT_TIME = re.compile(r"^@(\d{1,2}):(\d{2})(?::(\d{2}))?\s+")
COMPACT_WIDTH, COMPACT_HEIGHT = 120, 34


def parse_follow_up(text: str) -> tuple[str, float | None]:
    """'check the db +10' -> ('check the db', 10.0)."""
    match = FOLLOW_UP.search(text)
    if not match:
        return text, None
    return text[: match.start()].rstrip(), float(match.group(1))


ROLE_ALIASES = {"ic": "commander", "cmd": "commander", "incident-commander": "commander", "communications": "comms"}


def parse_role(text: str) -> tuple[str, str]:
    """'commander alice' -> ('commander', 'alice'); a role alone clears it ('scribe' -> ('scribe', ''))."""
    from ..incident.model import ROLES

    role, _, person = text.strip().partition(" ")
    role = ROLE_ALIASES.get(role.lower(), role.lower())
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} — type a role then a name, e.g. 'commander alice' "
                         f"(roles: {', '.join(ROLES)}; a role alone clears it)")
    return role, " ".join(person.split())


def parse_edit(text: str, original: datetime) -> tuple[str, datetime | None]:
    """'@14:05 new text' -> ('new text', that time on the entry's UTC date)."""
    match = EDIT_TIME.match(text)
    if not match:
        return text, None
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"not a time: {match.group(0).strip()} — use @HH:MM or @HH:MM:SS (UTC)")
    return text[match.end():], original.replace(hour=hour, minute=minute, second=second, microsecond=0)


class CommanderPane(Vertical):
    """Checklist above the timeline; maximizable like the live panes."""

    ALLOW_MAXIMIZE = True


class Dashboard(GuardedScreen, CommunicateActions, SignalActions, PacedScreen):
    # The timeline has the focus from the start (on_mount focuses it too): Textual's default
    # focused the first focusable pane, restyling it twice before the first frame.
    AUTO_FOCUS = "TimelineView"
    FRAME_WAIT_S = FRAME_WAIT_S     # frames nobody's key asked for wait for their beat (textual_hooks/pacing.py)
    # Z maximizes a pane, never the incident: severity, status, clocks, the follow-up
    # banners, the entry prompt and the keys stay on screen (Textual keeps only the footer).
    ALLOW_IN_MAXIMIZED_VIEW = "#banner, #topbar, #alerts, #prompt, Footer"
    BINDINGS = [
        Binding("question_mark", "help", "Help"),
        Binding("n", "entry('note')", "Note"),
        Binding("a", "entry('action')", "Action"),
        Binding("d", "entry('decision')", "Decision"),
        Binding("f", "entry('finding')", "Finding"),
        Binding("m", "entry('mitigation')", "Mitigation"),
        Binding("c", "entry('comms')", "Comms", show=False),
        Binding("t", "entry('todo')", "Todo"),
        Binding("e", "edit", "Edit entry"),
        Binding("s", "severity", "Severity"),
        Binding("S", "status", "Status"),
        Binding("p", "phase", "Phase", show=False),
        Binding("R", "role", "Set role", show=False),
        Binding("u", "update_sent", "Update sent"),
        Binding("U", "update_draft", "Draft update"),
        Binding("x", "export", "Export postmortem", show=False),
        Binding("z", "snooze", "Snooze 5m", show=False),
        Binding("F", "followup_done", "Follow-up done", show=False),
        Binding("Z", "zoom", "Zoom pane", show=False),
        Binding("P", "presenter", "Presenter", show=False),
        Binding("H", "hide_healthy", "Hide healthy pods", show=False),
        Binding("y", "copy_revert", "Copy git revert", show=False),
        Binding("D", "diffstat", "Deploy diffstat", show=False),
        Binding("exclamation_mark", "silence_alert", "Silence alert", show=False),
        Binding("V", "verify", "Verify", show=False),
        Binding("L", "copy_alert_link", "Copy alert link", show=False),
    ]

    HELP_TEXT = {
        "entry('note')": "Add a note (one-line prompt; Enter saves, Esc cancels)",
        "entry('action')": "Add an action taken",
        "entry('decision')": "Add a decision",
        "entry('finding')": "Add a finding (feeds the postmortem's root cause)",
        "entry('mitigation')": "Add a mitigation (feeds the postmortem's resolution)",
        "entry('comms')": "Add a communications entry",
        "entry('todo')": "Add a todo; end with +10 to get a follow-up alert in 10 min",
        "edit": "Edit the selected entry (text, or @HH:MM to change its time); the old revision is kept",
        "severity": "Change severity (SEV1-SEV4); the update cadence follows",
        "status": "Change status (Investigating … Resolved)",
        "phase": "Move the incident to another phase",
        "role": "Assign a role: e.g. 'commander alice' (commander, deputy, scribe, comms)",
        "update_sent": "Record 'status update sent' and restart the update countdown",
        "update_draft": "Draft a status update from the incident (edit, then copy / save / post to webhooks)",
        "export": "Write the postmortem draft (markdown) to a file in the current directory",
        "snooze": "Snooze the update countdown by 5 minutes",
        "followup_done": "Mark the oldest due follow-up as done",
        "zoom": "Maximize the focused pane / restore (header, banners and keys stay)",
        "presenter": "Presenter mode for screen sharing: high contrast, big status banner, hostnames and IPs masked",
        "hide_healthy": "Pods: hide / show pods that are healthy",
        "copy_revert": "Deploys: copy 'git revert <sha>' of the selected deploy to the clipboard",
        "diffstat": "Deploys: show the selected deploy's diffstat",
        "silence_alert": "Alerts: silence the selected alert group in Alertmanager (pick how long, say why); "
                         "written to the timeline",
        "copy_alert_link": "Alerts: copy the selected group's runbook_url (else dashboard_url) to the clipboard",
        "verify": "Evaluate every metric and the alerts now; one entry with each value against its baseline",
        "help": "This help",
    }

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
        self._banner: Widget | None = None

    @property
    def wapp(self) -> "WarroomApp":
        return self.app  # type: ignore[return-value]

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """A toast that is never parsed as markup: the dashboard's toasts quote outside text
        (an error from the store, a commit subject, a webhook's answer), where a ``[/]`` or a
        ``[link=…]`` would crash the app or dress itself up. ``markup`` is ignored on purpose."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

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
                    pane.ALLOW_MAXIMIZE = True
                    yield pane
            with CommanderPane(id="commander"):
                yield ChecklistView(id="checklist")
                yield TimelineView(id="timeline")
        yield WholeKeysFooter()

    def _mount_hidden(self, widget: Widget) -> AwaitMount | None:
        """Mount one of the widgets left out of compose, in its place; None if it already is."""
        if widget.parent is not None:
            return None
        if widget is self._banner:
            return self.mount(widget, before=self.query_one("#topbar"))
        if widget is self._alerts:
            return self.mount(widget, after=self.query_one("#topbar"))
        if widget is self._strip:
            return self.query_one("#body").mount(widget, after=self.query_one("#live"))
        return self.mount(widget, before=self.query_one(Footer))

    def _banner_widget(self) -> Widget:
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

    async def _ready(self, widget: Widget) -> Widget:
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
            from ..scheduler import _why
            from ..sources import error_snapshot

            why = f"could not start: {_why(exc)}"
            for name in self.panes:
                snapshot = error_snapshot(name, why)
                if snapshot is not None:
                    self.post_message(SnapshotReady(name, snapshot, 0.0))
        self.scheduler = Scheduler(self, self.wapp.sources, align=self.beat.align)
        if self.incident is not None:
            self._tell_sources_resolved()
        self.scheduler.start()

    def frame_is_urgent(self) -> bool:
        return not self._sources_started or self.wapp.input_recent()

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
        self.query_one("#live").set_class("alerts" in self.panes or "metrics" in self.panes, "-signals")

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

    def sync_store(self) -> None:
        self.sync.sync()

    def poll_store(self) -> None:
        self.sync.poll()

    def write(self, fn, *args, **kwargs):
        """A store write (StoreSync.write): on failure one line says why and None is returned."""
        return self.sync.write(fn, *args, **kwargs)

    def write_system(self, items: list[tuple[str, dict | None]], *, source: str) -> Any:
        return self.sync.write_system(items, source=source)

    # Actions that write to the store: a read-only view (warroom --read-only) has none of these keys.
    WRITE_ACTIONS = frozenset({"entry", "edit", "severity", "status", "phase", "role", "update_sent", "snooze",
                               "followup_done"})

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in self.WRITE_ACTIONS and self.session.read_only:
            return False
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
        if message.source == "alerts":
            self.alerts_seen(message.snapshot)
        hook = self.wapp.on_snapshot_hooks.get(message.source)
        if hook is not None:
            hook(message.snapshot, events)
        self.scheduler.delivered(message)

    @property
    def _snapshots(self) -> dict[str, Any]:
        """Each source's last snapshot, as it came (communicate.py, signals.py, the tests)."""
        return self.router.snapshots

    @property
    def damper(self) -> Damper:
        return self.router.damper

    async def action_presenter(self) -> None:
        await self._ready(self._banner_widget())
        app = self.wapp
        app.presenter = not app.presenter
        if app.presenter:
            self._theme_before = app.theme
            app.theme = "warroom-contrast"
        else:
            app.theme = getattr(self, "_theme_before", "textual-dark")
        self.set_class(app.presenter, "-presenter")
        # Re-show what is on screen through (or without) the host mask.
        self.router.show_all()
        self.query_one(TimelineView).clear_cache()   # lines are rendered through the (new) host mask
        self.tick()

    # -- scribe actions ----------------------------------------------------------

    async def action_entry(self, kind: str) -> None:
        prompt = await self._ready(self._prompt_widget())
        prompt.open(kind)

    async def action_role(self) -> None:
        prompt = await self._ready(self._prompt_widget())
        prompt.open("role", label="role")

    async def action_edit(self) -> None:
        entry = self.query_one(TimelineView).selected
        if entry is None:
            self.notify("Nothing to edit yet", severity="warning")
            return
        prompt = await self._ready(self._prompt_widget())
        # The prompt shows the text made visible; submitted unchanged, the original is kept (below).
        prompt.open(entry.kind.value, value=visible(entry.text), entry_id=entry.entry_id,
                    label=f"edit {time_text(entry.ts, self.session.clock().date())}")

    def on_timeline_view_opened(self, event: TimelineView.Opened) -> None:
        from .entry_detail import EntryDetailScreen

        try:
            revisions = self.session.store.revisions(event.entry.entry_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error", timeout=10, markup=False)
            return
        self.app.push_screen(EntryDetailScreen(revisions or [event.entry], self.wapp.redact))

    def on_entry_prompt_submitted(self, event: EntryPrompt.Submitted) -> None:
        store, incident_id, author = self.session.store, self.session.incident_id, self.session.author
        prompt = self._prompt_widget()
        if event.kind == "silence":
            if self.silence_submitted(event.text):
                prompt.close()
                self.query_one(TimelineView).focus()
            return
        if event.entry_id is not None:
            original = next((e for e in self.query_one(TimelineView).entries if e.entry_id == event.entry_id), None)
            try:
                text, ts = parse_edit(event.text, original.ts if original else self.session.clock())
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
            if original is not None and text == visible(original.text):
                text = original.text        # not retyped: nothing of the original is lost
            result = self.write(store.edit, event.entry_id, text=text, ts=ts, author=author, source="tui")
        elif event.kind == "role":
            try:
                role, person = parse_role(event.text)
            except ValueError as exc:
                self.notify(str(exc), severity="error", timeout=10, markup=False)
                return      # the prompt stays open with the text: nothing typed is lost
            result = self.write(store.set_role, incident_id, role, person, author=author, source="tui")
        elif event.kind == Kind.TODO.value:
            text, minutes = parse_follow_up(event.text)
            result = self.write(store.add_todo, incident_id, text, follow_up_minutes=minutes, author=author, source="tui")
        else:
            result = self.write(store.append, incident_id, Kind(event.kind), event.text, author=author, source="tui")
        if result is not None:
            prompt.close()
            self.query_one(TimelineView).focus()

    def on_entry_prompt_cancelled(self) -> None:
        self.query_one(TimelineView).focus()

    @on(ChecklistView.Toggle)
    def on_checklist_toggle(self, event: ChecklistView.Toggle) -> None:
        self.write(self.session.store.toggle_check, self.session.incident_id, event.item.phase, event.item.index,
                   author=self.session.author, source="tui")

    def _choose(self, title: str, values: list, labels: list[str], current, setter, **extra) -> None:
        """Pick one of ``values`` in a ChoiceScreen; the choice is written with ``setter``."""
        from .choose import ChoiceScreen

        def chosen(index: int | None) -> None:
            if index is not None:
                self.write(setter, self.session.incident_id, values[index], author=self.session.author, source="tui",
                           **extra)

        self.app.push_screen(ChoiceScreen(title, labels, values.index(current)), chosen)

    def action_severity(self) -> None:
        severities = list(Severity)
        self._choose("Severity", severities, [f"{s.name} — {s.meaning}" for s in severities], self.incident.severity,
                     self.session.store.set_severity, cadence=self.session.cadence)

    def action_status(self) -> None:
        from .choose import ChoiceScreen

        statuses = list(Status)

        def set_status(status: Status) -> None:
            self.write(self.session.store.set_status, self.session.incident_id, status, author=self.session.author,
                       source="tui")

        def chosen(index: int | None) -> None:
            if index is None:
                return
            status = statuses[index]
            reds = self.still_red() if status is Status.RESOLVED and not self.incident.resolved else []
            if not reds:
                set_status(status)
                return
            from ..incident.still_red import describe

            # Resolving while something is red is asked twice, naming what is red; "keep it open" first.
            title = self.wapp.redact(f"Resolve {self.incident.ref}? Still red: {describe(reds)}")
            self.app.push_screen(ChoiceScreen(title, ["Keep it open", "Resolve anyway"], 0),
                                 lambda i: set_status(status) if i == 1 else None)

        self.app.push_screen(ChoiceScreen("Status", [s.value for s in statuses],
                                          statuses.index(self.incident.status)), chosen)

    def still_red(self) -> list[str]:
        """Services DOWN and pods red in the live panes, critical detector entries of sources
        without a live pane, open follow-ups."""
        from ..incident.still_red import from_followups, from_snapshots, from_timeline, still_red

        health, pods = self._snapshots.get("health"), self._snapshots.get("pods")
        live = [group for group, snap in (("health", health), ("pod", pods))
                if snap is not None and not getattr(snap, "error", None)]
        return still_red(from_snapshots(health if "health" in live else None, pods if "pod" in live else None),
                         from_timeline(self.query_one(TimelineView).entries, live),
                         from_followups(self.followups))

    def action_phase(self) -> None:
        phases = list(Phase)
        self._choose("Phase", phases, [p.value for p in phases], self.incident.phase, self.session.store.set_phase)

    def action_update_sent(self) -> None:
        if self.write(self.session.store.record_update_sent, self.session.incident_id, "Status update sent",
                      author=self.session.author, source="tui") is not None:
            self.notify("Update recorded; countdown restarted")

    def action_snooze(self) -> None:
        if self.incident.next_update_at is None:
            self.notify("No update is scheduled", severity="warning")
            return
        self.write(self.session.store.snooze_update, self.session.incident_id, 5, author=self.session.author, source="tui")

    def action_followup_done(self) -> None:
        due = due_followups(self.followups, self.session.clock())
        if not due:
            self.notify("No follow-up is due", severity="information")
            return
        self.write(self.session.store.complete_followup, due[0].id, author=self.session.author, source="tui")

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        target = self.focused
        panes = list(self.panes.values())
        while target is not None and target not in panes and target.id != "commander":
            target = target.parent
        if target is None:
            target = self.query_one("#commander")
        self.maximize(target, container=False)

    # -- live pane keys ----------------------------------------------------------

    def action_hide_healthy(self) -> None:
        pane = self.panes.get("pods")
        if pane is not None:
            hidden = pane.toggle_healthy()
            self.notify("Healthy pods hidden" if hidden else "All pods shown")

    def _selected_deploy(self):
        pane = self.panes.get("deploys")
        picked = pane.selected() if pane is not None else None
        if picked is None:
            self.notify("Select a deploy in the Deploys pane first (Tab to it, arrows to pick)", severity="warning")
        return picked

    def action_copy_revert(self) -> None:
        picked = self._selected_deploy()
        if picked is not None:
            from checks.deploys import revert_command

            repo, deploy = picked
            command = revert_command(deploy.sha, merge=getattr(deploy, "merge", False))
            self.app.copy_to_clipboard(command)
            self.notify(f"Copied: {command}  (repo {repo.path})")

    def action_diffstat(self) -> None:
        picked = self._selected_deploy()
        if picked is not None:
            self._diffstat_worker(*picked)

    @work(thread=True, exclusive=True, group="diffstat", exit_on_error=False)
    def _diffstat_worker(self, repo, deploy) -> None:
        from checks.deploys import diffstat

        text = diffstat(repo.path, deploy.sha)
        # A commit subject is outside text: a "[/]" in it is not markup (nor a crash).
        self.app.call_from_thread(
            self.notify, f"{deploy.sha[:10]} {deploy.subject}\n{text}", title="diffstat", timeout=20, markup=False)

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self.wapp.help_sections()))
