"""The demo's [[hosts]] (tui/demo/hosts.py): node_exporter stand-ins read by the real checks.node_exporter
over HTTP, telling the services' story — payments-1's memory fills while payments fails, and frees after the rollback."""
from __future__ import annotations

from datetime import datetime, timezone

from checks.base import Level
from checks.node_exporter import RemoteHosts
from checks.specs import HostSpec
from tui.demo.signals import SignalStandins


async def test_demo_hosts_follow_the_scenario():
    t = [10.0]
    standins = SignalStandins(lambda: t[0], 1.0, datetime.now(timezone.utc)).start()
    try:
        specs = standins.config(1.0)["hosts"]
        assert [s.name for s in specs] == ["payments-1", "payments-db"]
        hosts = RemoteHosts(specs, HostSpec())
        try:
            calm = await hosts.poll_host(0)
            assert calm.error is None and calm.memory is not None and calm.memory.level is Level.OK
            t[0] = 45.0                                   # payments failing: the cache has grown
            sick = await hosts.poll_host(0)
            assert sick.memory is not None and sick.memory.level is Level.CRIT and sick.level is Level.CRIT
            assert sick.cpu is not None and sick.cpu_count == 4    # a rate, from the second scrape on
            t[0] = 75.0                                   # rolled back
            well = await hosts.poll_host(0)
            assert well.memory is not None and well.memory.level is Level.OK
            db = await hosts.poll_host(1)
            assert [d.mountpoint for d in db.disks] == ["/", "/var/lib/postgresql"] and db.error is None
        finally:
            await hosts.aclose()
    finally:
        standins.stop()
