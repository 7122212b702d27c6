"""Damping summarises, it never hides (issue 17), through the real dashboard: a service
that goes DOWN again within the minute of its last DOWN entry (a repeat the damper holds
back) and stays down is written after all. Real HTTP server; the app's clock is moved."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from checks.specs import HostSpec, ServiceSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Kind, Severity
from tui.sources import build_panes, build_sources

from .servers import LocalHTTPServer
from .test_live_pilot import wait_for


def health_entries(store, incident_id):
    return [e for e in store.timeline(incident_id)
            if e.kind is Kind.SYSTEM and e.meta.get("key") == "health:api"]


async def test_a_held_back_outage_is_written_once_it_lasts(store, tmp_path):
    now = [datetime.now(timezone.utc)]
    with LocalHTTPServer() as http:
        http.route("/healthz", status=200)
        config = Config(services=(ServiceSpec(name="api", url=http.url("/healthz"), interval=0.1,
                                              fail_threshold=1),),
                        host=HostSpec(interval=5.0))
        inc = store.declare("api flaps", Severity.SEV2, author="ic")
        app = WarroomApp(store, inc.id, panes=build_panes(config), config=config, author="ic",
                         clock=lambda: now[0],
                         sources_later=lambda: build_sources(config, incident=inc, cwd=tmp_path))
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen

            def state():
                snap = screen._snapshots.get("health")
                return str(snap.services[0].state) if snap is not None else None

            async def goes(status: int, wanted: str) -> None:
                http.route("/healthz", status=status)
                assert await wait_for(pilot, lambda: state() == wanted)

            await goes(200, "UP")
            await goes(503, "DOWN")
            now[0] += timedelta(seconds=10)
            await goes(200, "UP")
            now[0] += timedelta(seconds=10)
            await goes(503, "DOWN")          # within the minute of the first DOWN entry: held back
            assert [e.meta["state"] for e in health_entries(store, inc.id)] == ["DOWN", "UP"]
            now[0] += timedelta(seconds=25)
            screen.tick()
            assert await wait_for(pilot, lambda: len(health_entries(store, inc.id)) == 3)
            last = health_entries(store, inc.id)[-1]
            assert last.meta["state"] == "DOWN" and last.text.startswith("api still DOWN after 25s: ")
