"""A configured secret never reaches the screen: not in the timeline, a pane, or the update draft."""
from __future__ import annotations

from dataclasses import replace

from tui.config import Config
from tui.incident.model import Kind
from tui.messages import SnapshotReady

from .conftest import fixed_clock, seed_incident
from .samples import feed_samples, health_snapshot, sample_panes

SECRET = "s3cr3t-T0KEN-8c1f"


async def _screen_until(pilot, app, text: str, timeout: float = 10.0) -> str:
    """The screenshot once ``text`` is drawn (the last one if it never is: the assert says so).
    Drawing is paced, so one pause is not a frame under load."""
    for _ in range(int(timeout / 0.05)):
        svg = app.export_screenshot().replace("&#160;", " ")
        if text in svg:
            return svg
        await pilot.pause(0.05)
    return app.export_screenshot().replace("&#160;", " ")


async def test_secret_is_in_no_screenshot_and_no_draft(store):
    from tui.app import WarroomApp

    inc = seed_incident(store)
    store.append(inc.id, Kind.NOTE, f"curl -H 'Authorization: Bearer {SECRET}' works", author="bob")
    store.append(inc.id, Kind.FINDING, f"token {SECRET} leaked into the logs", author="bob")
    app = WarroomApp(store, inc.id, panes=sample_panes(), clock=fixed_clock, author="bob",
                     config=Config(secrets=frozenset({SECRET})))
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_samples(pilot)
        health = health_snapshot()
        leaky = replace(health.services[0], reason=f"HTTP 401: invalid key {SECRET}")
        app.screen.post_message(SnapshotReady("health", replace(health, services=(leaky, *health.services[1:])), 0.0))
        await pilot.pause()
        # Maximize health so its reason column is wide enough to hold the whole reason.
        app.screen.query_one("HealthPane").focus()
        app.screen.maximize(app.screen.query_one("#pane-health"), container=False)
        svg = await _screen_until(pilot, app, "HTTP 401: invalid key")
        assert "HTTP 401: invalid key" in svg      # the row is there …
        assert SECRET not in svg                    # … without the secret
        app.screen.minimize()
        await pilot.press("U")
        await pilot.pause()
        draft = app.screen.query_one("TextArea").text
        assert "leaked into the logs" in draft and SECRET not in draft
        assert SECRET not in app.export_screenshot()
