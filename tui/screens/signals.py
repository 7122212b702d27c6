"""The dashboard's keys for Alertmanager and Prometheus: `!` silences an alert group, `V` verifies.

A mixin of the Dashboard (kept apart so the screen module stays about layout and the
store). The requests run on the sources' own loops (tui/sources.LoopBound) in a thread
worker; what they find is written from the UI thread, redacted before the write like
every other entry the dashboard makes on its own.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from textual import work

from ..incident.model import Kind
from ..panes import ALERTS

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.widget import Widget

    from widgets.alerts import AlertsPane

    from ..session import Session
    from .dashboard_host import DashboardHost

    _Host = Screen[Any]
else:
    _Host = object      # at run time a plain mixin: the Dashboard brings the Screen

SILENCE_CHOICES = ((30, "30 min"), (60, "1 h"), (120, "2 h"), (240, "4 h"), (480, "8 h"))
VERIFY_TIMEOUT_S = 30.0


class SignalActions(_Host):
    """`!` and `V`; mixed into the Dashboard (uses its session, panes, wapp, scheduler, write, notify, prompt)."""

    if TYPE_CHECKING:   # what the Dashboard provides
        incident: Any
        session: Session
        panes: Mapping[str, Widget]
        @property
        def _snapshots(self) -> dict[str, Any]: ...

        @property
        def wapp(self) -> DashboardHost: ...
        def write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...
        def write_system(self, items: list[tuple[str, dict[str, Any] | None]], *, source: str) -> Any: ...
        async def _ready(self, widget: Widget) -> Any: ...
        def _prompt_widget(self) -> Any: ...

    _silence_pending: tuple[Any, int, str] | None = None
    _silences_listed = False          # at resolution, once per dashboard
    _detection_offered = False

    def _silence_comment(self, reason: str) -> str:
        return f"incident #{self.session.incident_id}: {reason}"

    def _alerts_pane(self) -> AlertsPane | None:
        from widgets.alerts import AlertsPane

        pane = self.panes.get(ALERTS)
        return pane if isinstance(pane, AlertsPane) else None

    def _timeline_entries(self) -> list[Any]:
        from widgets.timeline import TimelineView

        return list(self.query_one(TimelineView).entries)

    def _origin(self, name: str) -> Any:
        scheduler = getattr(self, "scheduler", None)
        source = scheduler.sources.get(name) if scheduler is not None else None
        return source.origin if source is not None else None

    # -- `!`: silence the selected alert group -------------------------------------

    def action_silence_alert(self) -> None:
        pane = self._alerts_pane()
        if pane is None:
            self.notify("No alerts pane: add [alertmanager] url to warroom.toml", severity="warning", markup=False)
            return
        group = pane.selected()
        raw = self._snapshots.get("alerts")
        if group is not None and raw is not None and pane.index < len(raw.groups):
            # The pane shows a masked copy (secrets, presenter mode): the silence needs the real labels.
            group = raw.groups[pane.index]
        if group is None:
            self.notify("No alert group to silence (select one in the Alerts pane: Tab to it, ↑/↓)",
                        severity="warning", markup=False)
            return
        from .choose import ChoiceScreen

        def chosen(index: int | None) -> None:
            if index is not None:
                minutes, label = SILENCE_CHOICES[index]
                self._silence_pending = (group, minutes, label)
                self.call_later(self._ask_silence_reason)

        self.app.push_screen(ChoiceScreen("Silence for", [label for _, label in SILENCE_CHOICES], 0), chosen)

    async def _ask_silence_reason(self) -> None:
        prompt = await self._ready(self._prompt_widget())
        prompt.open("silence", label="silence reason")

    def silence_submitted(self, reason: str) -> bool:
        """The prompt's text for a silence: sent (the prompt closes) unless there is nothing to send."""
        if self._silence_pending is None:
            return False
        reason = reason.strip()
        if not reason:
            self.notify("Say why (it goes into the silence's comment and the timeline)", severity="warning")
            return False
        group, minutes, label = self._silence_pending
        self._silence_pending = None
        self._silence_worker(group, minutes, label, reason)
        return True

    @work(thread=True, group="silence", exit_on_error=False)
    def _silence_worker(self, group: Any, minutes: int, label: str, reason: str) -> None:
        origin = self._origin("alerts")
        comment = self._silence_comment(reason)
        try:
            if origin is None:
                raise RuntimeError("the alerts source is not running yet")
            silence_id = origin.run(origin.source.silence(group, minutes=minutes, created_by=self.session.author or "warroom",
                                                          comment=comment), VERIFY_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the reason is shown; the typed text comes back
            why = getattr(exc, "reason", None) or f"{type(exc).__name__}: {exc}"
            self.app.call_from_thread(self._silence_failed, group, minutes, label, reason, str(why))
            return
        self.app.call_from_thread(self._silenced, group, minutes, label, reason, silence_id)

    def _silence_failed(self, group: Any, minutes: int, label: str, reason: str, why: str) -> None:
        from ..incident.safe_text import one_line

        self.notify(f"Silence not created: {one_line(why)}", severity="error", timeout=10, markup=False)
        self._silence_pending = (group, minutes, label)      # nothing typed is lost: the reason comes back
        self.call_later(self._reopen_silence, reason)

    async def _reopen_silence(self, reason: str) -> None:
        prompt = await self._ready(self._prompt_widget())
        prompt.open("silence", value=reason, label="silence reason")

    def _silenced(self, group: Any, minutes: int, label: str, reason: str, silence_id: str) -> None:
        ends = self.session.clock() + timedelta(minutes=minutes)
        text = f"Silenced alert {group.name} for {label} (×{group.count}): {reason}"
        meta = {"silence": {"id": silence_id, "alertname": group.name, "minutes": minutes,
                            "ends_at": ends.isoformat(), "matchers": [list(m) for m in group.labels]}}
        redactor = self.session.redactor
        if self.write(self.session.store.append, self.session.incident_id, Kind.ACTION, redactor.text(text),
                      author=self.session.author, source="tui", meta=redactor.data(meta)) is not None:
            self.notify(f"Silenced for {label}", markup=False)

    # -- `V`: verify -----------------------------------------------------------------

    def action_verify(self) -> None:
        if self._origin("metrics") is None and self._origin("alerts") is None:
            self.notify("Nothing to verify against: add [prometheus] with [[metrics]], or [alertmanager], "
                        "to warroom.toml", severity="warning", markup=False)
            return
        self.notify("Verifying: evaluating every metric and the alerts now…", markup=False)
        self._verify_worker()

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False)
    def _verify_worker(self) -> None:
        found: dict[str, Any] = {}
        for name in ("metrics", "alerts"):
            origin = self._origin(name)
            if origin is None:
                found[name] = None
                continue
            try:
                found[name] = origin.run(origin.source.poll(), VERIFY_TIMEOUT_S)
            except Exception as exc:  # noqa: BLE001 - a poll never raises; a stopping loop can
                found[name] = None
                self.app.call_from_thread(self.notify, f"{name}: {type(exc).__name__}", severity="error",
                                          markup=False)
        self.app.call_from_thread(self._verified, found["metrics"], found["alerts"])

    def _verified(self, metrics: Any, alerts: Any) -> None:
        from checks.metrics import verification

        text, meta = verification(metrics, alerts, self.session.clock())
        if metrics is not None:
            # Each metric's sparkline over the incident, for the postmortem (tui/incident/signals_report.py).
            from widgets.metrics import downsample
            from widgets.sparkline import sparkline

            for figure, row in zip(meta["verify"]["metrics"], metrics.rows):
                figure["sparkline"] = sparkline(downsample(row.history, 40)) if row.history else ""
        redactor = self.session.redactor
        if self.write(self.session.store.append, self.session.incident_id, Kind.NOTE, redactor.text(text),
                      author=self.session.author, source="tui", meta=redactor.data(meta)) is not None:
            clear = meta["verify"]["clear"]
            self.notify("Verified: back to normal" if clear else "Verified: NOT clear — see the timeline",
                        severity="information" if clear else "warning", markup=False)

    # -- copying the selected alert's links -------------------------------------------

    def action_copy_alert_link(self) -> None:
        pane = self._alerts_pane()
        group = pane.selected() if pane is not None else None
        url = group and (group.runbook_url or group.dashboard_url)
        if not url:
            self.notify("The selected alert group has no runbook_url or dashboard_url annotation",
                        severity="warning", markup=False)
            return
        from ..incident.safe_text import one_line

        self.app.copy_to_clipboard(url)      # OSC 52: the terminal decides; the URL is never printed raw
        self.notify(f"Copied: {one_line(url)}", markup=False)

    # -- at resolution: the silences this incident made that are still active -----------

    def incident_refreshed(self, incident: Any) -> None:
        """Called by the Dashboard whenever it re-reads the incident."""
        from ..incident.model import Status

        if incident.status is Status.RESOLVED and not self._silences_listed and self._origin("alerts") is not None:
            self._silences_listed = True
            if not any("silences_active" in e.meta for e in self._timeline_entries()):
                self._silences_worker()

    @work(thread=True, group="silences", exit_on_error=False)
    def _silences_worker(self) -> None:
        origin = self._origin("alerts")
        try:
            found = origin.run(origin.source.active_silences(self._silence_comment("")), VERIFY_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - said in the timeline, not raised
            why = getattr(exc, "reason", None) or type(exc).__name__
            self.app.call_from_thread(self.notify, f"Could not list this incident's silences: {why}",
                                      severity="warning", markup=False)
            return
        if found:
            self.app.call_from_thread(self._list_silences, found)

    def _list_silences(self, found: list) -> None:
        listed = "; ".join(f"{comment} (until {ends:%H:%M} UTC)" if ends else comment for _, comment, ends in found)
        self.write_system([(f"Resolved with {len(found)} silence(s) made for this incident still active: {listed}",
                            {"silences_active": [sid for sid, _, _ in found]})], source="alertmanager")

    # -- the first alert before the declaration: a detection time to offer ----------------

    def alerts_seen(self, snapshot: Any) -> None:
        """Called by the Dashboard with every alerts snapshot."""
        if self._detection_offered or snapshot.error or self.incident is None:
            return
        # The declaration records when it was detected (the moment of declaring, unless edited):
        # an alert that started earlier saw it first.
        known = min(t for t in (self.incident.started_at, self.incident.detected_at) if t is not None)
        early = [g for g in snapshot.groups if g.starts_at is not None and g.starts_at < known]
        self._detection_offered = True
        if not early:
            return
        if any("detection_offer" in e.meta for e in self._timeline_entries()):
            return      # another dashboard (or an earlier run) offered it already
        first = min(early, key=lambda g: g.starts_at)
        self.write_system([(f"First alert fired before the incident was declared: {first.name} at "
                            f"{first.starts_at:%H:%M:%S} UTC — a candidate detection time",
                            {"detection_offer": first.starts_at.isoformat(), "alertname": first.name})],
                          source="alertmanager")
