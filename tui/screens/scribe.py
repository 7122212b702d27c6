"""The scribe's and the commander's keys on the dashboard: entries, edits, the checklist,
severity, status, phase, roles, updates sent, follow-ups.

A mixin of the Dashboard (kept apart so the screen module stays about layout and wiring):
it uses the screen's ``session``, ``sync`` (every write goes through StoreSync.write, so a
failure is one line and nothing typed is lost), ``incident``, ``followups``, ``router``
(what the live panes show, for "still red") and its entry prompt.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from widgets.timeline import TimelineView, time_text

from ..incident.model import Kind, Phase, Severity, Status
from ..incident.safe_text import visible
from ..incident.store import StoreError
from ..incident.timers import due_followups
from .entry_text import parse_edit, parse_follow_up, parse_role

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget

    # The prompt's module (and Textual's Input) loads after the first frame (dashboard.py).
    from widgets.entry_prompt import EntryPrompt

    from ..session import Session
    from .dashboard_host import DashboardHost

    # Mixed in before Screen: to the checker, a Screen; at run time, object.
    _ScreenBase = Screen[Any]
else:
    _ScreenBase = object

_W = TypeVar("_W", bound="Widget")

__all__ = ["ScribeActions"]


class ScribeActions(_ScreenBase):
    """Mixed into the Dashboard, before its Screen base."""

    session: Session
    incident: Any
    followups: Any
    router: Any

    if TYPE_CHECKING:     # the Dashboard's, as this mixin uses them
        @property
        def wapp(self) -> DashboardHost: ...
        def _prompt_widget(self) -> EntryPrompt: ...
        async def _ready(self, widget: _W) -> _W: ...
        def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
        def silence_submitted(self, reason: str) -> bool: ...
        def show_action_output(self, entry_id: int) -> bool: ...
        def draw_now(self) -> None: ...

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

        if self.show_action_output(event.entry.entry_id):   # a command still running: its live output
            return
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
            # The entry is drawn now, in a frame of its own that repaints only the timeline; closing
            # the prompt and moving focus lay the screen out, which then comes with the next frame
            # (drawn in one, the entry waited ~20 ms of layout and restyling at idle, 3x that while
            # 50 others write).
            self.draw_now()
            prompt.close()
            self.query_one(TimelineView).focus()

    def on_entry_prompt_cancelled(self) -> None:
        self.query_one(TimelineView).focus()

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

        snapshots = self.router.snapshots
        health, pods = snapshots.get("health"), snapshots.get("pods")
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

    # -- the postmortem's fields (tui/screens/review_form.py) ---------------------

    def action_impact(self) -> None:
        from .review_form import open_impact

        open_impact(self)

    def action_milestone(self) -> None:
        from .review_form import open_milestone

        open_milestone(self)

    def action_action_item(self) -> None:
        from .review_form import open_action_item

        open_action_item(self)
