"""A resolved incident is resolved (issue 17), in the real dashboard: resolving while
something is red asks first and names it; detector entries stop at resolution; follow-up
banners go away; the small layout's pods line stops being red for what happened during
the incident. Real HTTP server, the Kubernetes stand-in, the store."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tui.app import WarroomApp
from tui.incident.model import Kind, Status
from tui.incident.store import Store
from tui.screens.choose import ChoiceScreen

from .conftest import seed_incident
from .pilot_wait import screen_ready
from .test_live_pilot import make_app, system_entries, wait_for, world  # noqa: F401 - world is a fixture


def strip_line(app, name: str) -> str:
    lines = app.screen._strip.render().plain.splitlines()
    return next(line for line in lines if line[2:].startswith(name))


async def test_resolving_while_red_asks_then_detector_entries_stop_and_pods_turn_quiet(world):  # noqa: F811
    store, inc, kube, http = world["store"], world["incident"], world["kube"], world["http"]
    app = make_app(world)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen

        def pods_snap():
            return screen._snapshots.get("pods")

        assert await wait_for(pilot, lambda: pods_snap() is not None and pods_snap().total == 2)
        kube.restart_container("payments", "payments-api-1", "app", reason="OOMKilled")
        http.route("/healthz", status=503, body=b"upstream down")
        assert await wait_for(pilot, lambda: screen._snapshots.get("health") is not None      # not yet polled: not yet
                              and str(screen._snapshots["health"].services[0].state) == "DOWN")
        assert await wait_for(pilot, lambda: "✖" in strip_line(app, "Pods") and "OOMKilled" in strip_line(app, "Pods"))

        # Status → Resolved: a question naming what is still red; "keep it open" keeps it open.
        await pilot.press("S", "5")
        assert await wait_for(pilot, lambda: screen_ready(app, ChoiceScreen))
        question = app.screen.title_text
        assert "Still red: payments DOWN" in question and "payments/payments-api-1" in question
        await pilot.press("1")
        await pilot.pause()
        assert store.incident(inc.id).status is not Status.RESOLVED

        await pilot.press("S", "5")
        assert await wait_for(pilot, lambda: screen_ready(app, ChoiceScreen))
        await pilot.press("2")
        assert await wait_for(pilot, lambda: store.incident(inc.id).status is Status.RESOLVED)
        written = len(system_entries(store, inc.id))

        # The OOM kill was the resolved incident's: the small layout stops showing it red.
        assert await wait_for(pilot, lambda: "✖" not in strip_line(app, "Pods"))
        # The world goes on changing; the resolved incident's timeline does not.
        restarts = sum(p.restarts for p in pods_snap().pods)
        kube.restart_container("payments", "ledger-0", "ledger", reason="Error")
        http.route("/healthz", status=200, body=b"ok")
        assert await wait_for(pilot, lambda: sum(p.restarts for p in pods_snap().pods) > restarts)
        assert await wait_for(pilot, lambda: str(screen._snapshots["health"].services[0].state) == "UP")
        screen.tick()
        await pilot.pause()
        assert len(system_entries(store, inc.id)) == written


async def test_follow_up_banners_of_a_resolved_incident_go_away(store):
    inc = seed_incident(store)
    store.add_todo(inc.id, "check the replica lag", follow_up_minutes=1, author="alice")
    now = [datetime.now(timezone.utc) + timedelta(minutes=2)]
    app = WarroomApp(store, inc.id, author="scribe", clock=lambda: now[0])
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.tick()
        await pilot.pause()
        alerts = app.screen._alerts
        assert "Follow-up due: check the replica lag" in str(alerts.content)
        # Resolved elsewhere (the CLI, with --yes): the dashboard picks it up and the banner goes.
        with Store(store.data_dir) as cli:       # another process's connection, as the CLI's is
            cli.set_status(inc.id, Status.RESOLVED, author="ic", source="cli")
        assert await wait_for(pilot, lambda: app.screen.incident.resolved)
        app.screen.tick()
        await pilot.pause()
        assert "Follow-up due" not in str(alerts.content) and not alerts.has_class("-active")
        assert [e for e in store.timeline(inc.id) if e.kind is Kind.TODO]      # the todo itself stays
