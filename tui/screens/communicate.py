"""The dashboard's communicate keys: draft, copy, save or post a status update; export.

A mixin so the screen module stays about layout and the timeline; it relies on
the screen's ``session``, ``wapp``, ``incident``, ``write`` and ``latest_snapshot``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work

from widgets.timeline import TimelineView

from ..incident.store import StoreError
from ..panes import HEALTH

if TYPE_CHECKING:
    from textual.screen import Screen

    from ..session import Session
    from .dashboard_host import DashboardHost

    class _Mixin(Screen[Any]):
        """To mypy the mixin is the dashboard screen it is mixed into: what it uses of it, typed."""
        @property
        def wapp(self) -> DashboardHost: ...
        session: Session
        incident: Any
        def latest_snapshot(self, source: str) -> Any: ...
        def write(self, fn: Any, *args: Any, **kwargs: Any) -> Any: ...
        def write_system(self, items: list[tuple[str, dict | None]], *, source: str) -> Any: ...
else:
    _Mixin = object


class CommunicateActions(_Mixin):
    _kept_draft: str | None = None   # a draft whose post failed, offered again by U

    def _affected(self) -> list[str]:
        health = self.latest_snapshot(HEALTH)
        if health is not None and not health.error:
            return [s.name for s in health.services if str(s.state) in ("DOWN", "DEGRADED")]
        from ..incident.export import currently_impacted

        return currently_impacted(self.query_one(TimelineView).entries)

    def _render_update(self, name: str) -> str:
        from ..incident.redact import Redactor
        from ..incident.templates import build_context, render_update

        store, incident_id = self.session.store, self.session.incident_id
        ctx = build_context(self.incident, list(self.query_one(TimelineView).entries), affected=self._affected(),
                            now=self.session.clock(), checklist=store.checklist(incident_id),
                            followups=store.followups(incident_id, pending_only=False))
        from ..incident.safe_text import visible

        # The draft is shown, edited and sent as text a person reads: entries' controls made visible.
        return visible(render_update(name, ctx, template_dir=self.session.config.template_dir,
                                     redactor=Redactor(self.session.config.secrets)))

    def action_update_draft(self) -> None:
        from ..incident.notify import target_name
        from ..incident.templates import suggest_template
        from .update import UpdateScreen

        entries = list(self.query_one(TimelineView).entries)
        template = suggest_template(self.incident, entries)
        # A draft whose post failed is offered again as it was, not re-rendered.
        draft = self._kept_draft or self._render_update(template)
        targets = [target_name(n) for n in self.session.config.notify]
        self.app.push_screen(
            UpdateScreen(draft, template, targets, render=self._render_update, incident_id=self.session.incident_id,
                         now=self.session.clock()),
            self._update_done)

    def _update_done(self, result) -> None:
        if result is None or result.action == "cancel":
            return
        from ..incident.redact import Redactor

        text = Redactor(self.session.config.secrets).text(result.text)
        if result.action == "copy":
            self.app.copy_to_clipboard(text)
            self._record_update(text, {"template": result.template, "via": "clipboard"})
            self.notify("Update copied to the clipboard and logged; countdown restarted")
        elif result.action == "save":
            from ..incident.export import save_text

            try:
                path = save_text(result.path, text)
            except OSError as exc:
                self._kept_draft = result.text
                self.notify(f"Could not save {result.path}: {exc.strerror or exc} — the draft is kept (U)",
                            severity="error", timeout=10)
                return
            self.notify(f"Update saved to {path}")
        elif result.action == "post":
            if not self.session.config.notify:
                self._kept_draft = result.text
                self.notify("No webhooks configured — add [[notify]] to warroom.toml; the draft is kept (U)",
                            severity="warning", timeout=10)
                return
            self._post_worker(text, result.template)

    def _record_update(self, text: str, meta: dict) -> None:
        if self.write(self.session.store.record_update_sent, self.session.incident_id, text, author=self.session.author,
                      source="tui", meta=meta) is not None:
            self._kept_draft = None

    @work(exclusive=True, group="post-update", exit_on_error=False)
    async def _post_worker(self, text: str, template: str, targets=None) -> None:
        from ..incident.notify import apost_update, summarize

        self.notify("Posting the status update…", timeout=3)
        targets = list(targets if targets is not None else self.session.config.notify)
        results = await apost_update(text, targets, incident=self.incident, redactor=self.session.redactor)
        posted = [r.target_name for r in results if r.ok]
        failed = [r for r in results if not r.ok]
        if posted:
            self._record_update(text, {"template": template, "posted_to": posted})
        if failed:
            self._kept_draft = text
            why = summarize(results)
            self.write_system([(f"Status update post failed: {why}", None)], source="tui")
            self.notify(f"{why} — the draft is kept (press U)", severity="error", timeout=15, markup=False)
        else:
            self.notify(f"Posted to {', '.join(posted)}; countdown restarted", markup=False)
        uncertain = [spec for spec, r in zip(targets, results) if r.uncertain]
        if uncertain:
            self._ask_repost(text, template, uncertain)

    def _ask_repost(self, text: str, template: str, targets: list) -> None:
        """Sent, but no answer: the receiver may have posted it. Posting again unasked showed the
        same update several times, so the commander looks at the channel and says."""
        from textual.markup import escape

        from ..incident.notify import target_name
        from .choose import ChoiceScreen

        names = escape(", ".join(target_name(spec) for spec in targets))
        choices = [f"It arrived (I checked {names}): record the update as sent",
                   f"Post it to {names} again",
                   "Neither: keep the draft (U) and decide later"]

        def chosen(index: int | None) -> None:
            if index == 0:
                self._record_update(text, {"template": template, "posted_to": [target_name(s) for s in targets],
                                           "confirmed_by": "hand"})
                self.notify("Update recorded as sent; countdown restarted")
            elif index == 1:
                self._post_worker(text, template, targets)

        self.app.push_screen(ChoiceScreen(f"No answer from {names}: the update may have been posted", choices, None),
                             chosen)

    def action_export(self) -> None:
        self._export_worker()

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export_worker(self) -> None:
        from ..incident.export import export, save_text
        from ..incident.redact import Redactor

        now = self.session.clock()
        name = f"incident-{self.session.incident_id}-postmortem-{now:%Y%m%d-%H%M}.md"
        try:
            text = export(self.session.store, self.session.incident_id, "md",
                          redactor=Redactor(self.session.config.secrets), now=now)
            path = save_text(name, text)
        except (OSError, StoreError) as exc:
            self.app.call_from_thread(self.notify, f"Export failed: {exc}", severity="error", timeout=10)
            return
        self.app.call_from_thread(self.notify, f"Postmortem draft written to {path.resolve()}", timeout=10)
