"""checks.alerts and checks.metrics against a real Prometheus and Alertmanager, and hostile stand-ins."""
from __future__ import annotations

import json
from datetime import timedelta

from checks.alerts import AlertsSource, changes, group_alerts
from checks.base import Level, utcnow
from checks.metrics import MetricsSource, format_value, judge, verification
from checks.promapi import ANSWER_LIMIT
from checks.specs import AlertmanagerSpec, MetricSpec, PrometheusSpec
from tests.promservers import ALERT_NAME, wait_until
from tests.servers import LocalHTTPServer, Route, refused_port


async def _until(poll, predicate, what: str, tries: int = 60):
    """Poll the real server until its answer shows what the test waits for (it has no push)."""
    import asyncio

    last = None
    for _ in range(tries):
        last = await poll()
        if predicate(last):
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"never saw {what}; last snapshot: {last!r}")


async def test_alerts_fire_resolve_and_silence_through_the_real_alertmanager(prom_stack):
    source = AlertsSource(AlertmanagerSpec(url=prom_stack.am_url, filter=('severity="critical"',)))
    try:
        prom_stack.resolve()
        quiet = await source.poll()
        assert quiet.error is None and quiet.firing == 0 and quiet.level is Level.OK
        prom_stack.fire()
        firing = await _until(source.poll, lambda s: s.firing, "the alert firing")
        (group,) = firing.groups
        assert (group.name, group.severity, group.level, group.state) == (ALERT_NAME, "critical", Level.CRIT, "FIRING")
        assert group.summary.startswith("checkout errors at") and group.runbook_url == "https://runbooks.example/errors"
        assert group.starts_at is not None and group.starts_at <= utcnow()
        (event,) = changes(quiet, firing)
        assert event.key == f"alert:{ALERT_NAME}" and event.state == "FIRING"

        silence_id = await source.silence(group, minutes=10, created_by="alice", comment="incident 7: noisy")
        (silence,) = [s for s in prom_stack.silences() if s["id"] == silence_id]
        assert silence["createdBy"] == "alice" and silence["comment"] == "incident 7: noisy"
        assert {"name": "alertname", "value": ALERT_NAME} in [
            {k: m[k] for k in ("name", "value")} for m in silence["matchers"]]
        silenced = await _until(source.poll, lambda s: s.groups and s.groups[0].silenced, "the group silenced")
        assert silenced.firing == 0 and silenced.groups[0].state == "SILENCED"
        assert [e.state for e in changes(firing, silenced)] == ["SILENCED"]
        prom_stack.resolve()
        resolved = await _until(source.poll, lambda s: not s.groups, "the alert resolved")
        assert resolved.level is Level.OK and resolved.summary == "no alerts firing"
    finally:
        prom_stack.expire_silences()
        await source.aclose()


async def test_a_filter_that_matches_nothing_shows_nothing(prom_stack):
    source = AlertsSource(AlertmanagerSpec(url=prom_stack.am_url, filter=('team="nobody"',)))
    try:
        prom_stack.fire()
        snap = await source.poll()
        assert snap.error is None and snap.groups == ()
        prom_stack.resolve()
    finally:
        await source.aclose()


async def test_metrics_value_history_baseline_and_promql_errors(prom_stack):
    prom_stack.exporter.value = 3
    wait_until(lambda: prom_stack.scraped(3), what="the scrape of 3")
    specs = (MetricSpec(name="errors", query="max(warroom_test_errors)", unit="req/s", warn=2, crit=10),
             MetricSpec(name="broken", query="sum(rate(warroom_test_errors[5m]"),
             MetricSpec(name="latency", query="warroom_test_latency_ms", unit="ms", warn=100, crit=200))
    source = MetricsSource(PrometheusSpec(url=prom_stack.prom_url), specs,
                           incident_started=utcnow() - timedelta(seconds=30))
    try:
        snap = await source.poll()
        errors, broken, latency = snap.rows
        assert errors.value == 3 and errors.level is Level.WARN and errors.series == 1
        assert 0 < len(errors.history) <= 200 and 3 in errors.history
        assert latency.value == 42 and latency.level is Level.OK
        # Prometheus' own words for a PromQL error, and only that row is red.
        assert broken.value is None and broken.level is Level.CRIT
        assert broken.reason.startswith("PromQL error: ") and "parse error" in broken.reason, broken.reason
        assert snap.error is None and snap.level is Level.CRIT
        text, meta = verification(snap, None, utcnow())
        assert text.startswith("Verify: NOT clear") and "errors 3 req/s" in text
        figures = {m["name"]: m for m in meta["verify"]["metrics"]}
        assert figures["errors"]["value"] == 3 and figures["errors"]["state"] == "WARN"
        assert figures["broken"]["error"].startswith("PromQL error")
    finally:
        await source.aclose()


async def test_many_metrics_share_small_pools_and_rows_keep_their_order(prom_stack):
    # Every SHARD metrics share a client; last round's slowest metrics are asked first, yet the
    # rows stay in the configured order.
    specs = tuple(MetricSpec(name=f"m{i}", query=f"warroom_test_latency_ms + {i}", unit="ms") for i in range(12))
    source = MetricsSource(PrometheusSpec(url=prom_stack.prom_url), specs, incident_started=utcnow())
    try:
        first = await source.poll()
        assert [r.value for r in first.rows] == [42 + i for i in range(12)]
        assert len(source._clients) == 3 and source.client(4) is source.client(0) is not source.client(5)
        source._took = {11: 9.0, 3: 5.0}      # as if these were slowest last round
        second = await source.poll()
        assert [r.name for r in second.rows] == [s.name for s in specs]
        assert [r.value for r in second.rows] == [42 + i for i in range(12)]
    finally:
        await source.aclose()
    assert source._clients == []


async def test_a_stopped_prometheus_turns_every_row_red_and_it_recovers(prom_stack):
    source = MetricsSource(PrometheusSpec(url=prom_stack.prom_url, timeout=2),
                           (MetricSpec(name="latency", query="warroom_test_latency_ms", unit="ms"),),
                           incident_started=utcnow())
    try:
        assert (await source.poll()).rows[0].value == 42
        prom_stack.stop_prometheus()
        down = await source.poll()
        assert down.error == "Prometheus: connection refused" and down.level is Level.CRIT
        assert down.rows[0].reason == "connection refused"
        prom_stack.start_prometheus()
        back = await _until(source.poll, lambda s: s.rows[0].value == 42, "the metric back")
        assert back.error is None
    finally:
        await source.aclose()


# --- hostile answers --------------------------------------------------------------


def _json_route(body: object, status: int = 200) -> Route:
    return Route(status=status, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


async def test_hostile_alertmanager_answers_are_bounded_and_become_reasons():
    with LocalHTTPServer() as srv:
        spec = AlertmanagerSpec(url=srv.base_url, timeout=1.0)
        source = AlertsSource(spec)
        try:
            srv.route("/api/v2/alerts", body=b"[", stream_bytes=1 << 30)      # 1 GB: never read whole
            huge = await source.poll()
            assert huge.error == f"Alertmanager: answer larger than {ANSWER_LIMIT // 1024} KB"
            # Reading stopped at the limit: what was sent is that plus the sockets' buffers, not 1 GB.
            assert srv.streamed["/api/v2/alerts"] < 3 * ANSWER_LIMIT
            srv.route("/api/v2/alerts", body=b"<html>not json")
            assert (await source.poll()).error == "Alertmanager: malformed answer (not JSON)"
            srv.route("/api/v2/alerts", body=b'{"alerts": []}')
            assert (await source.poll()).error == "Alertmanager: malformed answer (not a list of alerts)"
            srv.route("/api/v2/alerts", body=b"[]", delay=5)
            assert (await source.poll()).error == "Alertmanager: timeout after 1.0 s"
            srv.route("/api/v2/alerts", status=500, body=b"boom\x1b[2J" + b"x" * 100_000)
            error = (await source.poll()).error
            assert error.startswith("Alertmanager: HTTP 500: boom") and len(error) < 400
            # Junk alerts are skipped; control characters stay as data (made visible at the terminal edge).
            nasty = "\x1b]52;c;ZXZpbA==\x07 pwned\n" + "y" * 10_000
            srv.routes["/api/v2/alerts"] = _json_route([
                "junk", {"labels": "no"}, {"labels": {"alertname": "Evil", "severity": 7},
                                           "annotations": {"summary": nasty}, "status": {"state": "active"},
                                           "startsAt": "not a time"}])
            snap = await source.poll()
            (group,) = snap.groups
            assert group.name == "Evil" and group.severity == "7" and group.starts_at is None
            assert len(group.summary) == 300 and group.summary.startswith("\x1b]52")
        finally:
            await source.aclose()


async def test_the_same_alerts_answer_is_not_grouped_again():
    alert = {"labels": {"alertname": "A", "severity": "critical"}, "status": {"state": "active"},
             "startsAt": "2026-12-03T09:00:00Z", "annotations": {"summary": "s"}}
    with LocalHTTPServer() as srv:
        source = AlertsSource(AlertmanagerSpec(url=srv.base_url, timeout=1.0))
        try:
            srv.routes["/api/v2/alerts"] = _json_route([alert])
            first, second = await source.poll(), await source.poll()
            assert second.groups is first.groups and second.taken_at >= first.taken_at
            srv.routes["/api/v2/alerts"] = _json_route([alert, {**alert, "labels": {"alertname": "B"}}])
            third = await source.poll()
            assert [g.name for g in third.groups] == ["A", "B"]
        finally:
            await source.aclose()


async def test_hostile_prometheus_answers_and_an_unreachable_server():
    with LocalHTTPServer() as srv:
        spec = PrometheusSpec(url=srv.base_url, timeout=1.0)
        metric = MetricSpec(name="m", query="up")
        source = MetricsSource(spec, (metric,), incident_started=utcnow())
        try:
            srv.routes["/api/v1/query"] = _json_route({"status": "success", "data": {"resultType": "vector",
                                                       "result": [{"value": [1, "NaN"]}, {"value": "x"}]}})
            srv.routes["/api/v1/query_range"] = _json_route({"status": "success", "data": {"result": [{"values": 5}]}})
            snap = await source.poll()
            assert snap.rows[0].value is None and snap.rows[0].reason == "no data" and snap.error is None
            srv.routes["/api/v1/query"] = _json_route(
                {"status": "error", "errorType": "bad_data", "error": "1:3: parse error: \x1b[31mred"}, status=422)
            row = (await source.poll()).rows[0]
            assert row.reason == "PromQL error: 1:3: parse error: \x1b[31mred" and row.level is Level.CRIT
            srv.route("/api/v1/query", body=b"{", stream_bytes=ANSWER_LIMIT + 10)
            assert (await source.poll()).error == f"Prometheus: answer larger than {ANSWER_LIMIT // 1024} KB"
        finally:
            await source.aclose()
    gone = MetricsSource(PrometheusSpec(url=f"http://127.0.0.1:{refused_port()}"), (metric,), incident_started=utcnow())
    try:
        assert (await gone.poll()).error == "Prometheus: connection refused"
    finally:
        await gone.aclose()


def test_grouping_counts_silenced_and_inhibited_and_orders_worst_first():
    def alert(name, severity, state="active", silenced=(), inhibited=(), **labels):
        return {"labels": {"alertname": name, "severity": severity, **labels},
                "status": {"state": state, "silencedBy": list(silenced), "inhibitedBy": list(inhibited)},
                "startsAt": "2026-12-03T09:00:00Z", "annotations": {"summary": f"{name} summary"}}

    groups, firing = group_alerts([
        alert("Warn", "warning", pod="a"), alert("Crit", "critical", pod="a"), alert("Crit", "critical", pod="b"),
        alert("Crit", "critical", "suppressed", silenced=["s1"], pod="c"), alert("Quiet", "critical", "suppressed",
                                                                                 inhibited=["x"])])
    assert [g.name for g in groups] == ["Crit", "Warn", "Quiet"] and firing == 3
    crit = groups[0]
    assert (crit.count, crit.firing, crit.silenced, crit.inhibited) == (3, 2, 1, 0)
    assert dict(crit.labels) == {"alertname": "Crit", "severity": "critical"}     # pod differs: not shared
    assert groups[2].state == "INHIBITED" and groups[2].level is Level.OK


def test_thresholds_and_units():
    assert judge(3, 2, 10) is Level.WARN and judge(11, 2, 10) is Level.CRIT and judge(1, 2, 10) is Level.OK
    assert judge(90, 99, 95, "higher") is Level.CRIT and judge(None, 1, 2) is Level.UNKNOWN
    assert format_value(0.4213, "req/s") == "0.421 req/s" and format_value(12.5, "%") == "12.5%"
    assert format_value(3 * 1024 ** 3, "bytes") == "3 GB" and format_value(2300, "ms") == "2300 ms" and format_value(None, "ms") == "—"
