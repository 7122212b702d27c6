"""The test Prometheus/Alertmanager stack itself (tests/promservers.py): the rule fires and resolves."""
from __future__ import annotations

from tests.promservers import ALERT_NAME, wait_until


def test_the_alert_fires_and_resolves_through_the_real_servers(prom_stack):
    prom_stack.exporter.value = 1
    wait_until(lambda: prom_stack.scraped(1), what="the first scrape")
    assert not prom_stack.active_alerts()
    prom_stack.fire()
    (alert,) = prom_stack.active_alerts()
    assert alert["labels"]["alertname"] == ALERT_NAME and alert["labels"]["severity"] == "critical"
    prom_stack.resolve()
