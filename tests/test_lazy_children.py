"""Live panes make their table and message lines when first needed (widgets/lazy_children.py)."""
from __future__ import annotations

from dataclasses import replace

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from widgets.deploys import DeploysPane
from widgets.health import HealthPane
from widgets.lazy_children import WAITING
from widgets.pods import PodsPane

from .samples import deploys_snapshot, health_snapshot, pods_snapshot

PANES = {"health": HealthPane, "pods": PodsPane, "deploys": DeploysPane}
SAMPLES = {"health": health_snapshot, "pods": pods_snapshot, "deploys": deploys_snapshot}
ERROR_LINE = {"health": "#health-error", "pods": "#pods-error", "deploys": "#deploys-message"}


class Panes(App):
    def compose(self) -> ComposeResult:
        for name, cls in PANES.items():
            yield cls(id=name)


async def test_before_the_first_snapshot_a_pane_is_its_border_and_a_waiting_line():
    app = Panes()
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for name in PANES:
            pane = app.query_one(f"#{name}")
            assert list(pane.children) == [], name
            assert str(pane.border_subtitle) == WAITING
        assert WAITING in app.export_screenshot().replace("&#160;", " ")


async def test_the_first_snapshot_makes_the_table_and_an_error_makes_its_line_above_it():
    app = Panes()
    async with app.run_test(size=(160, 48)) as pilot:
        for name in PANES:
            pane = app.query_one(f"#{name}")
            good = SAMPLES[name]()
            pane.show(good)
            await pilot.pause()
            assert [type(c) for c in pane.children if isinstance(c, (DataTable, Static))] == [type(pane.table)], name
            assert pane.table.row_count > 0 and str(pane.border_subtitle) != WAITING
            assert not pane.query(ERROR_LINE[name])            # no error yet: no line for one

            pane.show(replace(good, error="connection refused"))
            await pilot.pause()
            line = pane.query_one(ERROR_LINE[name], Static)
            assert "connection refused" in str(line.render())
            assert list(pane.children).index(line) < list(pane.children).index(pane.table), name
            assert pane.table.row_count > 0                      # the last good rows stay under the error

            pane.show(good)                                      # recovered: the line stays, empty
            await pilot.pause()
            assert pane.query_one(ERROR_LINE[name], Static) is line and str(line.render()) == ""


def test_a_pane_shown_before_it_is_mounted_composes_what_it_made():
    pane = DeploysPane()
    table = pane.table                       # made before mounting: compose puts it in place
    assert list(pane.compose()) == [table]
