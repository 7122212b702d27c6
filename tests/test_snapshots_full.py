"""Snapshots of the whole dashboard with the sample payments incident at fixed sizes.

The panes are the real widgets fed with ``tests.samples`` through ``SnapshotReady``;
there are no live sources and the clock is fixed, so the SVGs are stable.
"""
from __future__ import annotations

import re

import pytest

from tui.textual_hooks import active

from .samples import PANE_ORDER, feed_samples, sample_app

SIZES = [(160, 48), (80, 24), (200, 60)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_full_dashboard(snap_compare, store, size):
    assert snap_compare(sample_app(store), terminal_size=size, run_before=feed_samples)


async def test_samples_reach_every_pane_without_sources(store):
    """With ``sources=[]`` the screen has no scheduler entry for the samples: it must
    still show them (and not try to arm a poll)."""
    from textual.widgets import DataTable

    from widgets.status_strip import StatusStrip

    app = sample_app(store)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_samples(pilot)
        assert list(app.panes) == list(PANE_ORDER)
        assert app.screen.scheduler is not None and app.screen.scheduler.sources == {}
        assert app.panes["health"].row_keys[:2] == ["payments", "search"]
        assert app.panes["health"].has_class("-crit")
        assert app.panes["host"].has_class("-warn")
        pods = app.panes["pods"]
        assert pods.has_class("-crit") and len(pods.row_keys) == 20
        assert pods.row_keys[0] == "payments/payments-api-6f7d9c5b8-x2x9k"
        deploys = app.panes["deploys"]
        assert deploys.has_class("-warn") and deploys.query_one(DataTable).row_count == 8
        assert "v2.3.1" in str(deploys.border_subtitle)
        assert set(app.screen.query_one(StatusStrip).snapshots) == set(PANE_ORDER)


def test_tables_are_not_clipped_to_header_width(store):
    """Rows painted before DataTable measured its columns are repainted (widgets/table.py)."""
    from textual._doc import take_svg_screenshot

    svg = take_svg_screenshot(sample_app(store), terminal_size=(160, 48), run_before=feed_samples)
    plain = svg.replace("&#160;", " ")
    # pods NAME column: cut to fit the pane, its start and its hashes kept (widgets/pods.py)
    assert re.search(r"ingress-n[^<]*…[^<]*c4-2mkwd", plain)
    assert "Carol Ortiz" in plain                                 # deploys author column


def test_presenter_mode(snap_compare, store):
    async def presenter(pilot):
        await feed_samples(pilot)
        await pilot.press("P")
        await pilot.pause()

    assert snap_compare(sample_app(store), terminal_size=(160, 48), run_before=presenter)


@pytest.mark.parametrize("presenter", [False, True])
async def test_zoom_keeps_the_header_banners_and_keys(store, presenter):
    """Issue 17: Z maximized a pane over the header: severity, status, the update countdown
    and the follow-up banners went with it."""
    from datetime import timedelta

    from tui.incident.model import utcnow
    from widgets.footer import WholeKeysFooter

    app = sample_app(store)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_samples(pilot)
        screen = app.screen
        store.add_todo(app.incident_id, "check replica lag", follow_up_minutes=1, author="bob")
        app.clock = lambda: utcnow() + timedelta(minutes=2)        # the follow-up is due
        screen.refresh_incident()
        if presenter:
            await pilot.press("P")
        app.panes["pods"].table.focus()
        await pilot.pause()
        await pilot.press("Z")
        await pilot.pause()
        pods = app.panes["pods"]
        assert screen.maximized is pods
        top = screen.query_one("#banner" if presenter else "#topbar")
        alerts = screen.query_one("#alerts")
        footer = screen.query_one(WholeKeysFooter)
        assert top.region.height >= 1 and alerts.region.y == top.region.bottom
        assert alerts.region.height >= 1 and "check replica lag" in str(alerts.render())
        assert footer.region.y == 47
        assert pods.region.width == 160
        if active("maximize"):
            # The pane fills what is left, between the header and banners above and the keys below.
            assert top.region.y == 0 and pods.region.y == alerts.region.bottom
            assert pods.region.bottom == footer.region.y
        else:
            # Stock Textual lays the pane out first: the header and banners follow it, still on screen.
            assert pods.region.y == 0 and top.region.y == pods.region.bottom
            assert alerts.region.bottom <= footer.region.y
        await pilot.press("Z")
        await pilot.pause()
        assert screen.maximized is None and pods.region.width < 160
