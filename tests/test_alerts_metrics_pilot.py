"""The alerts and metrics panes inside the real dashboard, against a real Prometheus and Alertmanager."""
from __future__ import annotations

import re

from checks.specs import AlertmanagerSpec, KubeSpec, MetricSpec, PrometheusSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Kind, Severity, Status
from tui.incident.store import Store
from tui.sources import build_panes, build_sources
from widgets.alerts import AlertsPane
from widgets.metrics import MetricsPane

from .promservers import ALERT_NAME, wait_until
from .test_live_pilot import wait_for


def make_app(store, prom_stack, *, alerts=True, metrics=True, secrets=frozenset()) -> tuple[WarroomApp, object]:
    config = Config(
        secrets=secrets,
        kubernetes=KubeSpec(enabled=False),
        alertmanager=AlertmanagerSpec(url=prom_stack.am_url, interval=0.5) if alerts else None,
        prometheus=PrometheusSpec(url=prom_stack.prom_url, interval=0.5, timeout=2) if metrics else None,
        metrics=(MetricSpec(name="errors", query="max(warroom_test_errors)", unit="req/s", warn=2, crit=10),
                 MetricSpec(name="broken", query="sum(rate(warroom_test_errors[5m]"),) if metrics else (),
    )
    incident = store.declare("checkout errors", Severity.SEV2, author="ic")
    app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="scribe",
                     sources_later=lambda: build_sources(config, incident=incident))
    return app, incident


def entries(store, incident_id, kind=None):
    return [e for e in store.timeline(incident_id) if kind is None or e.kind is kind]


def has_system(store, incident_id, key, state) -> bool:
    return any(e.meta.get("key") == key and e.meta.get("state") == state
               for e in entries(store, incident_id, Kind.SYSTEM))


async def type_text(pilot, text: str) -> None:
    await pilot.press(*["space" if c == " " else c for c in text])


async def test_alert_fires_resolves_is_silenced_with_bang_and_verified_with_V(store, prom_stack, tmp_path):
    store_dir = tmp_path / "data"
    prom_stack.expire_silences()
    prom_stack.resolve()
    prom_stack.exporter.value = 1
    wait_until(lambda: prom_stack.scraped(1), what="the scrape of 1")
    # "payments" is a secret here: the pane shows the team label masked, the silence needs it whole.
    app, incident = make_app(store, prom_stack, secrets=frozenset({"payments"}))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        alerts, metrics = screen.query_one(AlertsPane), screen.query_one(MetricsPane)

        def snap(name):
            return screen._snapshots.get(name)

        # Metrics: the value, and the bad query in Prometheus' words, in the pane.
        assert await wait_for(pilot, lambda: snap("metrics") is not None and snap("metrics").rows[0].value == 1)
        await pilot.pause()
        shown = metrics.render().plain
        assert "errors" in shown and "1 req/s" in shown
        assert "PromQL error: " in shown and "parse error" in shown
        assert await wait_for(pilot, lambda: snap("alerts") is not None and snap("alerts").error is None)
        assert "no alerts firing" in alerts.render().plain

        # The value rises: the alert fires, the pane shows it, the timeline says so.
        prom_stack.fire()
        assert await wait_for(pilot, lambda: snap("alerts").firing >= 1, timeout=30)
        await pilot.pause()
        assert ALERT_NAME in alerts.render().plain and alerts.has_class("-crit")
        assert await wait_for(pilot, lambda: has_system(store, incident.id, f"alert:{ALERT_NAME}", "FIRING"))
        assert await wait_for(pilot, lambda: snap("metrics").rows[0].level.name == "CRIT", timeout=30)

        # It drops: resolved in the pane and the timeline.
        prom_stack.resolve()
        assert await wait_for(pilot, lambda: not snap("alerts").groups, timeout=30)
        assert await wait_for(pilot, lambda: has_system(store, incident.id, f"alert:{ALERT_NAME}", "RESOLVED"))
        await pilot.pause()
        assert "no alerts firing" in alerts.render().plain

        # It fires again: `!` silences the selected group through the API.
        prom_stack.fire()
        assert await wait_for(pilot, lambda: snap("alerts").firing >= 1, timeout=30)
        alerts.focus()
        await pilot.press("exclamation_mark")
        await pilot.pause()
        await pilot.press("enter")                     # 30 min
        assert await wait_for(pilot, lambda: app.screen._prompt is not None and app.screen._prompt.display)
        await type_text(pilot, "known noisy")
        await pilot.press("enter")

        def our_silence():
            return [s for s in prom_stack.silences()
                    if s["createdBy"] == "scribe" and s["comment"] == f"incident #{incident.id}: known noisy"]

        assert await wait_for(pilot, lambda: our_silence(), timeout=15)
        (silence,) = our_silence()
        assert silence["status"]["state"] == "active"
        matchers = [{k: m[k] for k in ("name", "value")} for m in silence["matchers"]]
        assert {"name": "alertname", "value": ALERT_NAME} in matchers and {"name": "team", "value": "payments"} in matchers
        (action,) = [e for e in entries(store, incident.id, Kind.ACTION) if "silence" in e.meta]
        assert action.meta["silence"]["id"] == silence["id"] and action.meta["silence"]["minutes"] == 30
        assert action.text.startswith(f"Silenced alert {ALERT_NAME} for 30 min") and action.author == "scribe"
        assert await wait_for(pilot, lambda: snap("alerts").groups and snap("alerts").groups[0].silenced, timeout=15)
        assert "payments" not in str(action.meta) and "payments" not in alerts.render().plain

        # V: one entry with every figure in its meta.
        await pilot.press("V")
        assert await wait_for(pilot, lambda: any("verify" in e.meta for e in entries(store, incident.id)), timeout=20)
        (verify,) = [e for e in entries(store, incident.id) if "verify" in e.meta]
        figures = verify.meta["verify"]
        assert figures["alerts_firing"] == 0 and figures["clear"] is False
        errors, broken = figures["metrics"]
        assert errors["name"] == "errors" and errors["value"] == 20 and errors["state"] == "CRIT"
        assert broken["error"].startswith("PromQL error")
        assert verify.text.startswith("Verify: NOT clear") and "errors 20 req/s" in verify.text
        # The postmortem draft carries the last verification, its sparklines and the alerts' table.
        from tui.incident.export import export
        from tui.incident.redact import Redactor

        md = export(store, incident.id, "md", redactor=Redactor())
        section = md.split("## Verification and alerts", 1)[1].split("\n## ", 1)[0]
        assert "Last verification at" in section and "| errors | 20 req/s |" in section
        assert any(c in section for c in "▁▂▃▄▅▆▇█")
        # Fired, resolved, fired, silenced within seconds: the damper may sum the end up as flapping.
        assert re.search(rf"\| {ALERT_NAME} \| \d\d:\d\d:\d\d \| \d\d:\d\d:\d\d \((resolved|silenced|flapping)\) \|",
                         section), section

        # Resolved (from another terminal): the silences made for this incident and still active are listed.
        with Store(store_dir) as other:      # another terminal: `warroom resolve`
            other.set_status(incident.id, Status.RESOLVED, author="ic")
        assert await wait_for(pilot, lambda: any(silence["id"] in e.meta.get("silences_active", ())
                                                 for e in entries(store, incident.id, Kind.SYSTEM)), timeout=15)
    prom_stack.expire_silences()
    prom_stack.resolve()


async def test_an_alert_firing_before_the_declaration_is_offered_as_the_detection_time(store, prom_stack):
    prom_stack.expire_silences()
    prom_stack.fire()
    (alert,) = prom_stack.active_alerts()
    app, incident = make_app(store, prom_stack, metrics=False)
    async with app.run_test(size=(160, 48)) as pilot:
        def offers():
            return [e for e in entries(store, incident.id, Kind.SYSTEM) if "detection_offer" in e.meta]

        assert await wait_for(pilot, lambda: offers(), timeout=15)
        (offer,) = offers()
        await pilot.press("L")          # the selected group's runbook URL, copied (OSC 52)
        assert app.clipboard == "https://runbooks.example/errors"
        assert offer.meta["alertname"] == ALERT_NAME and offer.meta["detection_offer"][:19] == alert["startsAt"][:19]
        from tui.incident.export import export
        from tui.incident.redact import Redactor

        assert "**Detection time (candidate):** First alert fired before the incident was declared" in \
            export(store, incident.id, "md", redactor=Redactor())
    prom_stack.resolve()


async def test_a_stopped_prometheus_turns_the_pane_red_and_it_recovers(store, prom_stack):
    app, _ = make_app(store, prom_stack, alerts=False)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        pane = screen.query_one(MetricsPane)
        assert not screen.query(AlertsPane)          # not configured: no room taken
        assert pane.has_class("-wide")

        def snap():
            return screen._snapshots.get("metrics")

        assert await wait_for(pilot, lambda: snap() is not None and snap().rows[0].value is not None)
        prom_stack.stop_prometheus()
        try:
            assert await wait_for(pilot, lambda: snap().error == "Prometheus: connection refused", timeout=20)
            await pilot.pause()
            assert pane.has_class("-error") and "connection refused" in str(pane.border_subtitle)
            assert "connection refused" in pane.render().plain
        finally:
            prom_stack.start_prometheus()
        assert await wait_for(pilot, lambda: snap().error is None and snap().rows[0].value is not None, timeout=40)
        await pilot.pause()
        assert not pane.has_class("-error")


async def test_unconfigured_alerts_and_metrics_take_no_room(store, prom_stack):
    app, _ = make_app(store, prom_stack, alerts=False, metrics=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert not app.screen.query(AlertsPane) and not app.screen.query(MetricsPane)
        assert not app.screen.query_one("#live").has_class("-signals")
        await pilot.press("V")
        await pilot.pause()
        assert not any("verify" in e.meta for e in entries(store, app.incident_id))
