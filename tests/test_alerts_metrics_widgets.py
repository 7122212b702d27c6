"""The alerts and metrics panes render snapshots only; remote text never reaches the terminal as control codes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult

from checks.alerts import AlertsSnapshot, group_alerts
from checks.base import Level
from checks.metrics import MetricRow, MetricsSnapshot
from widgets.alerts import AlertsPane
from widgets.metrics import MetricsPane, downsample

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\u202epwned\nline2"


class Panes(App):
    def compose(self) -> ComposeResult:
        yield AlertsPane(id="alerts")
        yield MetricsPane(id="metrics")


def _alerts(*alerts) -> AlertsSnapshot:
    groups, firing = group_alerts(list(alerts))
    return AlertsSnapshot(taken_at=NOW, level=max((g.level for g in groups), default=Level.OK),
                          summary="x", groups=groups, firing=firing)


async def test_hostile_annotations_and_errors_render_as_visible_text():
    app = Panes()
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.clock = lambda: NOW
        pane.show(_alerts({"labels": {"alertname": EVIL, "severity": "critical"},
                           "annotations": {"summary": EVIL, "runbook_url": "javascript:" + EVIL},
                           "startsAt": (NOW - timedelta(minutes=3)).isoformat(), "status": {"state": "active"}}))
        metrics = app.query_one(MetricsPane)
        metrics.show(MetricsSnapshot(level=Level.CRIT, rows=(
            MetricRow(name="m" + EVIL, unit="ms", value=None, level=Level.CRIT, reason="PromQL error: " + EVIL),)))
        await pilot.pause()
        for widget in (pane, metrics):
            text = widget.render()
            assert "\x1b" not in text.plain and "\x07" not in text.plain and "\u202e" not in text.plain
            assert "\n" not in text.plain.split("\n", 1)[0] and "pwned" in text.plain
            assert not any("link" in str(span.style) for span in text.spans)   # not an http(s) URL: no hyperlink
        assert "3m00s" in pane.render().plain and pane.has_class("-crit")
        assert "\x1b" not in str(pane.border_subtitle) and metrics.has_class("-crit")


async def test_selection_moves_and_links_show_for_the_selected_group():
    app = Panes()
    async with app.run_test(size=(120, 20)) as pilot:
        pane = app.query_one(AlertsPane)
        pane.show(_alerts(
            {"labels": {"alertname": "B", "severity": "warning"}, "annotations": {"dashboard_url": "https://dash/b"}},
            {"labels": {"alertname": "A", "severity": "critical"}, "annotations": {"runbook_url": "https://run/a"}}))
        pane.focus()
        await pilot.pause()
        assert pane.selected().name == "A" and "runbook: https://run/a" in pane.render().plain
        await pilot.press("down")
        assert pane.selected().name == "B" and "dashboard: https://dash/b" in pane.render().plain
        await pilot.press("down")
        assert pane.selected().name == "B"
        links = [span.style.link for span in pane.render().spans if getattr(span.style, "link", None)]
        assert links == ["https://dash/b"]
        # B turns critical and moves to the top: the selection follows it.
        pane.show(_alerts(
            {"labels": {"alertname": "B", "severity": "critical"}, "annotations": {"dashboard_url": "https://dash/b"}},
            {"labels": {"alertname": "B", "severity": "critical"}},
            {"labels": {"alertname": "A", "severity": "critical"}, "annotations": {"runbook_url": "https://run/a"}}))
        assert pane.index == 0 and pane.selected().name == "B"


def test_downsample_keeps_spikes():
    values = [0.0] * 199 + [9.0]
    assert len(downsample(values, 20)) == 20 and max(downsample(values, 20)) == 9.0
    assert downsample([1.0, None], 5) == [1.0, None]
