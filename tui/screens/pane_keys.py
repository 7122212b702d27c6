"""The live panes' keys on the dashboard: Z (maximize), P (presenter mode), H (hide healthy
pods), y / D (a deploy's revert command, its diffstat).

A mixin of the Dashboard (kept apart so the screen module stays about layout and wiring):
it uses the screen's ``panes`` and Textual's public ``maximize`` / ``minimize``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.dom import DOMNode
from textual.widget import Widget

from ..panes import DEPLOYS, PODS

if TYPE_CHECKING:
    from textual.screen import Screen

    # Mixed in before Screen: to the checker, a Screen; at run time, object.
    _ScreenBase = Screen[Any]
else:
    _ScreenBase = object

__all__ = ["PaneKeys"]


class PaneKeys(_ScreenBase):
    """Mixed into the Dashboard, before its Screen base."""

    panes: Any

    if TYPE_CHECKING:   # what the Dashboard provides
        from ..snapshot_routing import SnapshotRouter
        from .dashboard_host import DashboardHost

        router: SnapshotRouter

        @property
        def wapp(self) -> DashboardHost: ...
        def _banner_widget(self) -> Widget: ...
        async def _ready(self, widget: Any) -> Any: ...
        def tick(self) -> None: ...

    async def action_presenter(self) -> None:
        from widgets.timeline import TimelineView

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

    def action_zoom(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        node: DOMNode | None = self.focused
        panes = list(self.panes.values())
        while node is not None and node not in panes and node.id != "commander":
            node = node.parent
        target = node if isinstance(node, Widget) else self.query_one("#commander")
        self.maximize(target, container=False)

    # -- live pane keys ----------------------------------------------------------

    def action_hide_healthy(self) -> None:
        pane = self.panes.get(PODS)
        if pane is not None:
            hidden = pane.toggle_healthy()
            self.notify("Healthy pods hidden" if hidden else "All pods shown")

    def _selected_deploy(self):
        pane = self.panes.get(DEPLOYS)
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
