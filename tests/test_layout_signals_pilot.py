"""Every source configured (services, this host and two [[hosts]], pods, deploys, alerts, metrics):
at 160x48 and 200x60 every pane keeps its columns on screen; at 80x24 the panes fold into the
one-line summaries, worst first. What is checked is what each pane paints (its strips), not its data."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from checks.alerts import AlertsSnapshot, group_alerts
from checks.base import Level
from checks.host import DiskUsage, HostSnapshot, gauge
from checks.metrics import MetricRow, MetricsSnapshot
from checks.node_exporter import combine, unreachable
from checks.specs import HostSpec
from tui.app import WarroomApp
from tui.messages import SnapshotReady
from widgets.alerts import AlertsPane
from widgets.metrics import MetricsPane
from widgets.status_strip import StatusStrip

from .conftest import FIXED_NOW, fixed_clock, seed_incident
from .samples import feed_samples, host_snapshot, sample_panes

ALERTS = [
    ("PaymentsHigh5xxOnTheCheckoutPathForCardTokens", "critical", 3, 4, "payments 5xx ratio above 5% for 5 minutes"),
    ("CheckoutLatencyHigh", "warning", 12, 9, "api-gateway p99 above 800 ms"),
    ("SearchShardDown", "page-the-world", 1, 2, "search shard 3 not answering"),
]
METRICS = [
    MetricRow("checkout 5xx", "req/s", 2.4, Level.CRIT, history=(0.1,) * 30 + (2.4,) * 10, baseline=0.04, warn=0.5, crit=2),
    MetricRow("payments p99 latency at the edge", "ms", 1800, Level.CRIT, history=(180.0,) * 40, baseline=180,
              warn=500, crit=1000),
    MetricRow("gateway 5xx%", "%", 0.2, Level.OK, history=(0.2,) * 40, baseline=0.2, warn=1, crit=5),
    MetricRow("broken query", "", None, Level.CRIT, reason="PromQL error: parse error: unclosed left parenthesis"),
]


def _alerts() -> AlertsSnapshot:
    raw = []
    for name, severity, count, minutes, summary in ALERTS:
        for i in range(count):
            raw.append({"labels": {"alertname": name, "severity": severity, "pod": f"p{i}"},
                        "annotations": {"summary": summary},
                        "startsAt": (FIXED_NOW - timedelta(minutes=minutes)).isoformat(),
                        "status": {"state": "active"}})
    groups, firing = group_alerts(raw)
    return AlertsSnapshot(taken_at=FIXED_NOW, level=Level.CRIT, summary=f"{firing} firing", groups=groups,
                          firing=firing)


def _hosts() -> HostSnapshot:
    spec = HostSpec()
    db = HostSnapshot(level=Level.CRIT, summary="disk /var/lib/postgresql 97% CRIT", hostname="db-1",
                      cpu=gauge("cpu", 71, spec.cpu), cpu_count=16, load=(11.2, 9.8, 7.1),
                      memory=gauge("memory", 64, spec.memory, 80 << 30, 125 << 30),
                      disks=(DiskUsage("/", 41, Level.OK, 85, 95, 20 << 30, 49 << 30),
                             DiskUsage("/var/lib/postgresql", 97, Level.CRIT, 85, 95, 970 << 30, 1000 << 30)))
    cache = unreachable("cache-2", "timeout after 3.0 s", None)
    return combine(host_snapshot(), [db, cache])


def _app(store) -> WarroomApp:
    incident = seed_incident(store)
    panes = sample_panes()
    panes["alerts"], panes["metrics"] = AlertsPane(), MetricsPane()
    return WarroomApp(store, incident.id, sources=[], panes=panes, clock=fixed_clock, author="bob")


async def _feed_all(pilot) -> None:  # noqa: ANN001
    await feed_samples(pilot)
    screen = pilot.app.screen
    screen.query_one(AlertsPane).clock = fixed_clock
    for source, snapshot in (("alerts", _alerts()), ("metrics", MetricsSnapshot(level=Level.CRIT, summary="3 of 4",
                                                                                 rows=tuple(METRICS))),
                             ("host", _hosts())):
        screen.post_message(SnapshotReady(source, snapshot, 0.0))
    await pilot.pause()
    await pilot.pause()


def painted(widget) -> list[str]:  # noqa: ANN001
    """The screen's lines where the widget is, border and children included: what the user sees."""
    screen = widget.screen
    x, y, width, height = widget.region
    strips = screen._compositor.render_strips()
    return [strip.crop(x, x + width).text for strip in strips[y:y + height]]


@pytest.mark.parametrize("size", [(160, 48), (200, 60)], ids=["160x48", "200x60"])
async def test_every_pane_keeps_its_columns(store, size):
    app = _app(store)
    async with app.run_test(size=size) as pilot:
        await _feed_all(pilot)
        panes = app.panes
        for name, pane in panes.items():
            assert pane.display and pane.outer_size.height >= 5, (name, pane.outer_size)

        alerts = "\n".join(painted(panes["alerts"]))
        for name, severity, count, minutes, _ in ALERTS:
            # The name may end in "…"; what follows it never leaves the pane.
            shown = re.escape(name[:12])
            assert re.search(rf"{shown}\S*…?\s+{re.escape(severity[:7])}\S*\s+×{count}\s+{minutes}m00s", alerts), alerts

        metrics = "\n".join(painted(panes["metrics"]))
        for row in METRICS:
            if row.value is None:
                assert "PromQL error" in metrics
                continue
            line = next(line for line in metrics.splitlines() if row.name[:10] in line)
            assert re.search(r"(OK|WARN|CRIT)\s+\S.*\d+(\.\d+)? ?(req/s|ms|%)\s+≈", line), line

        host = painted(panes["host"])
        text = "\n".join(host)
        assert "· this machine" in text and "▸ db-1" in text and "▸ cache-2" in text
        assert "timeout after 3.0 s" in text                               # the reason is on screen, whole
        assert any("…/postgresql 97%" in line for line in host)                # the breach, in db-1's header
        assert any("postgresql" in line and "█" in line and "97%" in line for line in host)  # and its own row

        health = "\n".join(painted(panes["health"]))
        for service in ("payments", "search"):
            assert service in health
        # The pods table fits its pane (widgets/pods.py): headers in their short forms where it is
        # narrow, spare columns dropped before anything scrolls; AGE is the last column drawn.
        pods = painted(panes["pods"])
        assert any(all(re.search(rf"(^|\s)({h})(\s|$)", line)
                       for h in ("NAME", "STATUS", "Δ INC", "RESTARTS|RST", "LAST TERMINATION|LAST", "AGE"))
                   for line in pods), pods
        assert panes["pods"].table.max_scroll_x == 0 and not panes["pods"].table.show_horizontal_scrollbar
        deploys = painted(panes["deploys"])
        assert any(all(h in line for h in ("when (UTC)", "sha", "author", "subject")) for line in deploys)


async def test_small_terminal_folds_alerts_and_metrics_into_summaries_worst_first(store):
    app = _app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await _feed_all(pilot)
        strip = app.screen.query_one(StatusStrip)
        assert strip.display and not app.screen.query_one("#live").display
        lines = painted(strip)
        names = [line.split()[1] for line in lines if line.strip()]
        assert set(names) == {"Health", "Host", "Pods", "Deploys", "Alerts", "Metrics"}
        levels = [strip.snapshots[n.lower()].level for n in names]
        assert levels == sorted(levels, reverse=True), list(zip(names, levels))
        assert levels[0] is Level.CRIT and names.index("Alerts") < names.index("Deploys")
        host = next(line for line in lines if " Host " in line)
        assert "cache-2 not answering" in host or "db-1" in host
