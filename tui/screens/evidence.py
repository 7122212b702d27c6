"""The dashboard's evidence keys: `l` opens the selected pod's log; pinned log lines (from the
log viewer's `p` or the logs pane's) become a timeline finding.

A mixin of the Dashboard (kept apart so the screen module stays about layout and the store).
The lines are redacted before the write (tui/incident/evidence.py caps them); a read-only
dashboard pins nothing.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..incident.evidence import pinned_finding
from ..incident.model import Kind

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..session import Session
    from .dashboard_host import DashboardHost


class EvidenceActions:
    """`l` and pinning; mixed into the Dashboard (uses its wapp, scheduler, write, notify, incident)."""

    if TYPE_CHECKING:       # what the Dashboard provides
        @property
        def wapp(self) -> DashboardHost: ...
        session: Session
        panes: Mapping[str, Any]
        app: Any
        incident: Any

        def notify(self, message: str, *, severity: Any = "information") -> None: ...

        def write(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...

    def _pods_origin(self) -> Any:
        scheduler = getattr(self, "scheduler", None)
        source = scheduler.sources.get("pods") if scheduler is not None else None
        return source.origin if source is not None else None

    def action_pod_log(self) -> None:
        pane = self.panes.get("pods")
        key = getattr(pane, "selected_key", None)
        pods = self._pods_origin()
        if key is None or pods is None:
            self.notify("No pod selected: pick one in the pods pane (Tab to it, ↑/↓), then l", severity="warning")
            return
        from checks.pod_logs import PodLogStream, error_pattern

        from .pod_log import PodLogScreen

        spec = pods.spec
        pinned = getattr(pods, "_pinned_context", None)     # the context the pods pane is showing
        if pinned and not spec.context:
            spec = replace(spec, context=pinned)
        namespace, name = key.split("/", 1)
        started = getattr(self.incident, "started_at", None)
        stream = PodLogStream(spec, namespace, name, incident_started=started)
        self.app.push_screen(PodLogScreen(stream, pattern=error_pattern(spec.error_pattern),
                                          redact=self.wapp.redact, on_pin=self.pin_lines))

    def pin_lines(self, lines: list[str], origin: str) -> bool:
        """Write ``lines`` (read from ``origin``) as a finding; False (and a toast) if it was not written."""
        store = self.session.store
        if getattr(store, "read_only", False):
            self.notify("Read-only dashboard (--read-only): nothing is pinned", severity="warning")
            return False
        text, meta = pinned_finding(lines, origin, self.session.redactor.text)
        written = self.write(store.append, self.session.incident_id, Kind.FINDING, text,
                             author=self.session.author, source="tui", meta=meta)
        return written is not None

    def on_logs_pane_pin(self, event: Any) -> None:
        """`p` in the logs pane ([[logs]]): its selected lines."""
        if self.pin_lines(event.lines, event.origin):
            n = len(event.lines)
            self.notify(f"Pinned {n} line{'' if n == 1 else 's'} to the timeline as a finding")
