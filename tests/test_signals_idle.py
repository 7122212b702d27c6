"""The signals panes at rest: hostile alert fields still cut on the fast path; an unchanged
round costs no redraw; a changed alert or metric is drawn in the same round."""
from __future__ import annotations

import copy

from checks.alerts import TEXT_LIMIT, group_alerts


def test_alert_parse_fast_path_still_cuts_and_converts_hostile_fields():
    long = "x" * (TEXT_LIMIT + 50)
    many = {f"l{i:03d}": "v" for i in range(150)}
    alerts = [
        {"labels": {"alertname": "Plain", "severity": "critical", "pod": "a"},
         "annotations": {"summary": "ok summary", "runbook_url": "https://rb/1"}, "status": {"state": "active"}},
        {"labels": {"alertname": "Long", "severity": 7, long: long},
         "annotations": {"summary": long}, "status": {"state": "active"}},
        {"labels": {"alertname": "Many", **many}, "annotations": {"summary": 12}, "status": {"state": "active"}},
    ]
    before = copy.deepcopy(alerts)
    groups, firing = group_alerts(alerts)
    by = {g.name: g for g in groups}
    assert firing == 3 and set(by) == {"Plain", "Long", "Many"}
    assert by["Plain"].summary == "ok summary" and by["Plain"].runbook_url == "https://rb/1"
    cut = long[: TEXT_LIMIT - 1] + "…"
    assert by["Long"].summary == cut and by["Long"].severity == "7"
    assert (cut, cut) in by["Long"].labels and all(len(k) <= TEXT_LIMIT for k, _ in by["Long"].labels)
    # Only the first 100 labels count (alertname is the first), a number annotation becomes text.
    assert len(by["Many"].labels) == 100 and by["Many"].summary == "12"
    assert alerts == before        # the answer's own dicts are read, never changed


# --------------------------------------------------------------------------- the sources hand unchanged rows on


def _json_route(body: object):
    import json

    from tests.servers import Route

    return Route(status=200, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})


def _alert(name: str, summary: str = "s", silenced: bool = False, starts: str = "2026-12-03T09:00:00Z") -> dict:
    return {"labels": {"alertname": name, "severity": "critical"}, "annotations": {"summary": summary},
            "startsAt": starts, "status": {"state": "active", "silencedBy": ["x"] if silenced else []}}


async def test_an_alert_answer_that_differs_only_in_order_hands_equal_groups_on_as_the_same_objects():
    from checks.alerts import AlertsSource
    from checks.specs import AlertmanagerSpec
    from tests.servers import LocalHTTPServer

    with LocalHTTPServer() as srv:
        source = AlertsSource(AlertmanagerSpec(url=srv.base_url, timeout=1.0))
        try:
            srv.routes["/api/v2/alerts"] = _json_route([_alert("A"), _alert("B")])
            first = await source.poll()
            srv.routes["/api/v2/alerts"] = _json_route([_alert("B"), _alert("A")])   # other bytes, same groups
            second = await source.poll()
            assert second.groups is not first.groups
            assert all(a is b for a, b in zip(first.groups, second.groups))
            srv.routes["/api/v2/alerts"] = _json_route([_alert("B"), _alert("A", silenced=True)])
            third = await source.poll()
            by = {g.name: g for g in third.groups}
            assert by["B"] is first.groups[1] and by["A"] is not first.groups[0] and by["A"].silenced == 1
        finally:
            await source.aclose()


async def test_a_metrics_round_with_the_same_values_hands_its_rows_on_as_the_same_objects():
    from checks.base import utcnow
    from checks.metrics import MetricsSource
    from checks.specs import MetricSpec, PrometheusSpec
    from tests.servers import LocalHTTPServer

    def vector(value: str):
        return _json_route({"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, value]}]}})

    with LocalHTTPServer() as srv:
        metrics = (MetricSpec(name="a", query="a"), MetricSpec(name="b", query="b"))
        now = utcnow()      # a clock that stands still: the range is asked once, then instant queries
        source = MetricsSource(PrometheusSpec(url=srv.base_url, timeout=1.0), metrics, incident_started=now,
                               clock=lambda: now)
        try:
            srv.routes["/api/v1/query"] = vector("1")
            srv.routes["/api/v1/query_range"] = _json_route({"status": "success", "data": {"result": []}})
            await source.poll()                                 # the range (empty: "no data")
            second, third = await source.poll(), await source.poll()
            assert [r.value for r in second.rows] == [1.0, 1.0]
            assert third.rows is not second.rows and all(a is b for a, b in zip(second.rows, third.rows))
            srv.routes["/api/v1/query"] = vector("2")
            changed = await source.poll()
            assert [r.value for r in changed.rows] == [2.0, 2.0]
            assert not any(a is b for a, b in zip(third.rows, changed.rows))
        finally:
            await source.aclose()


# --------------------------------------------------------------------------- the panes draw only what changed


async def _until(pilot, predicate, what: str, timeout: float = 5.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"never saw {what}")
        await pilot.pause(0.05)


async def test_an_unchanged_alerts_round_is_not_drawn_a_changed_one_is_and_ages_tick():
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from textual.app import App, ComposeResult

    from checks.alerts import AlertsSnapshot
    from checks.base import Level
    from widgets.alerts import AlertsPane

    now = [datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)]
    renders = [0]

    class Counted(AlertsPane):
        def render(self):
            renders[0] += 1
            return super().render()

    class Panes(App):
        def compose(self) -> ComposeResult:
            yield Counted(id="alerts")

    def snap(*alerts) -> AlertsSnapshot:
        groups, firing = group_alerts(list(alerts))
        return AlertsSnapshot(taken_at=now[0], level=Level.CRIT, summary="x", groups=groups, firing=firing)

    app = Panes()
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(Counted)
        pane.clock = lambda: now[0]
        first = snap(_alert("A", "first words", starts="2026-12-03T08:00:00Z"))   # 2 h ago: ticks by the minute
        pane.show(first)
        await _until(pilot, lambda: renders[0] >= 1, "the first draw")
        await pilot.pause()
        drawn = renders[0]
        for i in range(5):      # five rounds with the same alerts, each taken later
            pane.show(replace(first, taken_at=now[0] + timedelta(seconds=i + 1)))
        pane.tick()             # no age on screen reads differently: nothing to draw
        await pilot.pause()
        assert renders[0] == drawn and pane.unchanged == 5 and pane.drawn == 1
        # A changed annotation (hostile too) is drawn at once, made visible.
        pane.show(snap(_alert("A", "new words \x1b[2J", starts="2026-12-03T08:00:00Z")))
        await _until(pilot, lambda: renders[0] > drawn, "the changed alert drawn")
        assert "new words" in pane.render().plain and "\x1b" not in pane.render().plain
        # A minute later the age reads differently: the pane's own timer redraws it, no new round.
        drawn = renders[0]
        now[0] += timedelta(minutes=1)
        await _until(pilot, lambda: renders[0] > drawn, "the age redrawn")
        assert "2h01m" in pane.render().plain


async def test_an_unchanged_metrics_round_is_not_drawn_a_changed_value_is():
    from textual.app import App, ComposeResult

    from checks.base import Level
    from checks.metrics import MetricRow, MetricsSnapshot
    from widgets.metrics import MetricsPane

    renders = [0]

    class Counted(MetricsPane):
        def render(self):
            renders[0] += 1
            return super().render()

    class Panes(App):
        def compose(self) -> ComposeResult:
            yield Counted(id="metrics")

    def snap(value: float) -> MetricsSnapshot:
        rows = tuple(MetricRow(name=f"m{i}", unit="ms", value=value + i, level=Level.OK, history=(1.0, 2.0, 3.0))
                     for i in range(50))
        return MetricsSnapshot(level=Level.OK, summary="all 50 metrics OK", rows=rows)

    app = Panes()
    async with app.run_test(size=(120, 60)) as pilot:
        pane = app.query_one(Counted)
        pane.show(snap(1.0))
        await _until(pilot, lambda: renders[0] >= 1, "the first draw")
        await pilot.pause()
        drawn = renders[0]
        for _ in range(5):
            pane.show(snap(1.0))      # equal rows, new objects, a later taken_at
        await pilot.pause()
        assert renders[0] == drawn and pane.unchanged == 5
        pane.show(snap(7.0))
        await _until(pilot, lambda: renders[0] > drawn, "the changed value drawn")
        assert "7 ms" in pane.render().plain and pane.drawn == 2


async def test_a_round_asks_only_the_new_steps_of_the_sparkline_range_and_the_whole_range_now_and_then():
    import json
    from datetime import datetime, timedelta, timezone
    from urllib.parse import parse_qs, urlsplit

    from checks.metrics import REFRESH_STEPS, MetricsSource
    from checks.specs import MetricSpec, PrometheusSpec
    from tests.servers import LocalHTTPServer, Route

    asked: list[tuple[str, dict[str, float]]] = []

    def answer(handler) -> None:
        """Each sample's value is its time: the history says which instants were asked."""
        parts = urlsplit(handler.path)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path.endswith("query_range"):
            start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
            asked.append(("range", {"start": start, "end": end, "step": step}))
            n = int(round((end - start) / step)) + 1
            data = {"resultType": "matrix", "result": [{"metric": {}, "values": [
                [start + k * step, str(start + k * step)] for k in range(n)]}]}
        else:
            asked.append(("instant", {"time": float(q["time"])}))
            data = {"resultType": "vector", "result": [{"metric": {}, "value": [float(q["time"]), q["time"]]}]}
        body = json.dumps({"status": "success", "data": data}).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    started = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
    t0 = started + timedelta(seconds=500)      # 800 s of sparkline (5 before the start): a 5 s step, 161 points
    now = [t0]
    with LocalHTTPServer() as srv:
        srv.routes["/api/v1/query"] = Route(handler=answer)
        srv.routes["/api/v1/query_range"] = Route(handler=answer)
        source = MetricsSource(PrometheusSpec(url=srv.base_url, timeout=2.0), (MetricSpec(name="m", query="m"),),
                               incident_started=started, clock=lambda: now[0])

        def sparkline_asks() -> list[dict[str, float]]:
            # The baseline (the hour before the start, asked once) is not the sparkline's.
            return [a for kind, a in asked if kind == "range" and a["end"] > started.timestamp()]

        try:
            first = (await source.poll()).rows[0]
            (whole,) = sparkline_asks()
            assert whole["step"] == 5 and len(first.history) == 161 and first.value == now[0].timestamp()
            now[0] += timedelta(seconds=2)            # within the step: an instant query, the same history
            second = (await source.poll()).rows[0]
            assert asked[-1][0] == "instant" and second.history == first.history
            now[0] += timedelta(seconds=4)            # a step (and a second) past the whole range's end
            third = (await source.poll()).rows[0]
            short = sparkline_asks()[-1]
            end = now[0].timestamp()
            assert short["start"] == short["end"] == end            # only the new step is asked
            assert len(third.history) == 162 and third.history[:-1] == first.history
            assert third.history[-1] == third.value == end          # the value now, evaluated now
            # The slots stay on the whole range's grid: 4 s on (10 s from it) is the next step.
            now[0] += timedelta(seconds=4)
            fourth = (await source.poll()).rows[0]
            assert sparkline_asks()[-1]["start"] == now[0].timestamp() and len(fourth.history) == 163
            # The whole range again REFRESH_STEPS steps after it was asked whole (the step is still 5 s).
            now[0] = t0 + timedelta(seconds=5 * REFRESH_STEPS - 1)
            await source.poll()
            ask = sparkline_asks()[-1]            # not yet: the 27 steps since the last ask only
            assert ask["end"] == now[0].timestamp() and ask["start"] == ask["end"] - 26 * 5
            now[0] = t0 + timedelta(seconds=5 * REFRESH_STEPS)
            last = (await source.poll()).rows[0]
            again = sparkline_asks()[-1]
            assert again["step"] == 5 and (again["end"] - again["start"]) / 5 + 1 == len(last.history) == 191
            assert list(last.history) == [again["start"] + 5 * k for k in range(191)]
        finally:
            await source.aclose()
