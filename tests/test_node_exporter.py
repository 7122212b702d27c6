"""[[hosts]]: node_exporter's text format read directly (checks.node_exporter), against Debian's
prometheus-node-exporter (tests/nodeexporter.py) and hostile local HTTP servers (tests/servers.py)."""
from __future__ import annotations

import asyncio
import time

import psutil
import pytest

from checks.base import Level
from checks.host import HostSnapshot, gauge
from checks.node_exporter import (
    BODY_LIMIT,
    MAX_SERIES,
    NodeReading,
    RemoteHosts,
    changes,
    combine,
    judge,
    parse,
    reduce,
)
from checks.specs import HostSpec, RemoteHostSpec
from tests.nodeexporter import NodeExporter, node_exporter  # noqa: F401 - a fixture
from tests.servers import LocalHTTPServer, refused_port

pytestmark = pytest.mark.serial  # wall-clock limits: run alone, after the parallel pass (pyproject markers)

SAMPLE = b"""\
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 100
node_cpu_seconds_total{cpu="0",mode="iowait"} 10
node_cpu_seconds_total{cpu="0",mode="user"} 30
node_cpu_seconds_total{cpu="0",mode="system"} 10
node_load1 1.5
node_load5 1.25
node_load15 1
node_memory_MemTotal_bytes 1000
node_memory_MemAvailable_bytes 100
node_memory_SwapTotal_bytes 0
node_memory_SwapFree_bytes 0
node_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 1000
node_filesystem_free_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 100
node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} 20
node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 1000
node_filesystem_free_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0
node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 0
"""


def spec(url: str, **kw) -> RemoteHostSpec:
    return RemoteHostSpec(name=kw.pop("name", "db-1"), url=url, **kw)


# ---------------------------------------------------------------- the text format

def test_parse_reads_labels_with_escapes_and_skips_malformed_lines():
    text = "\n".join([
        'node_filesystem_size_bytes{device="d",fstype="ext4",mountpoint="/a \\"b\\"\\\\c"} 10',
        'node_filesystem_size_bytes{device="d",mountpoint="/x" 10',          # no closing brace
        'node_filesystem_size_bytes{device=d} 10',                          # unquoted value
        "node_load1 NaN", "node_load5 +Inf", "node_load15 not-a-number", "node_load1",
        "node_memory_MemTotal_bytes 42 1700000000000",                      # with a timestamp
        "node_boot_time_seconds 1", "other_metric 5", "# node_load1 3",
        "node_memory_MemAvailable_bytes " + "9" * 5000,                     # an absurd line
    ])
    got = parse(text)
    assert got["node_filesystem_size_bytes"] == [({"device": "d", "fstype": "ext4", "mountpoint": '/a "b"\\c'}, 10.0)]
    assert got["node_memory_MemTotal_bytes"] == [({}, 42.0)]
    assert "node_load1" not in got and "node_load5" not in got and "node_load15" not in got
    assert "node_memory_MemAvailable_bytes" not in got and "node_boot_time_seconds" not in got


def test_parse_keeps_a_bounded_number_of_series():
    text = "\n".join(f'node_cpu_seconds_total{{cpu="{i}",mode="idle"}} 1' for i in range(MAX_SERIES + 500))
    assert len(parse(text)["node_cpu_seconds_total"]) == MAX_SERIES


def test_judge_computes_cpu_from_counter_deltas_and_the_same_thresholds():
    first = reduce(parse(SAMPLE.decode()))
    assert judge("db-1", first, None, 0.0, HostSpec()).cpu is None          # one scrape: no rate yet
    later = NodeReading(**{**first.__dict__, "cpu": {"0": (40 + 45, 150 + 50)}})   # +45 busy of +50
    snap = judge("db-1", later, first, 5.0, HostSpec())
    assert snap.cpu is not None and snap.cpu.percent == pytest.approx(90.0)
    assert snap.cpu.level is Level.WARN                                       # 85 <= 90 < 95
    assert snap.memory is not None and snap.memory.percent == pytest.approx(90.0)
    assert snap.swap is None                                                  # no swap configured there
    assert [d.mountpoint for d in snap.disks] == ["/"]                        # tmpfs left out, as locally
    assert snap.disks[0].percent == pytest.approx(900 / 920 * 100)            # df's figure: root reserve out
    assert snap.disks[0].level is Level.CRIT
    assert snap.load == (1.5, 1.25, 1.0)
    assert snap.level is Level.CRIT and snap.summary.startswith("disk / 98% CRIT")
    reboot = NodeReading(**{**first.__dict__, "cpu": {"0": (1.0, 2.0)}})
    assert judge("db-1", reboot, later, 5.0, HostSpec()).cpu is None          # counters went back


# ---------------------------------------------------------------- a real node_exporter

async def _until(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await condition()
        if got:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


async def test_real_node_exporter_figures_match_this_machine(node_exporter: NodeExporter):  # noqa: F811
    hosts = RemoteHosts([spec(node_exporter.url)], HostSpec())
    try:
        async def with_cpu():
            snap = await hosts.poll_host(0)
            return snap if snap.cpu is not None else None
        snap = await _until(with_cpu)
        assert snap.error is None and snap.hostname == "db-1"
        # node_exporter runs on this machine: the same /proc/meminfo and statvfs("/") as psutil's.
        assert snap.memory is not None and snap.memory.total == psutil.virtual_memory().total
        root = next(d for d in snap.disks if d.mountpoint == "/")
        assert root.total == psutil.disk_usage("/").total
        assert root.percent == pytest.approx(psutil.disk_usage("/").percent, abs=2)
        assert snap.cpu_count == psutil.cpu_count() and len(snap.per_cpu) == psutil.cpu_count()
        assert snap.load is not None and 0 <= snap.cpu.percent <= 100
    finally:
        await hosts.aclose()


async def test_a_host_that_stops_answering_turns_red_with_the_reason_and_recovers(node_exporter: NodeExporter):  # noqa: F811
    hosts = RemoteHosts([spec(node_exporter.url, timeout=2.0)], HostSpec())
    task = None
    try:
        good = await hosts.poll_host(0)
        assert good.error is None and good.memory is not None
        node_exporter.stop()
        down = await hosts.poll_host(0)
        assert down.level is Level.CRIT and down.error == "connection refused"
        assert down.memory == good.memory                        # the last figures stay, drawn red
        events = changes(combine(HostSnapshot(), [good]), combine(HostSnapshot(), [down]))
        assert [(e.key, e.state) for e in events] == [("host:db-1:reachable", "DOWN")]
        node_exporter.start()                                    # the same port again
        task = asyncio.create_task(hosts.run())                  # followed as the dashboard does
        seen = hosts.rounds

        async def back():
            return hosts.rounds > seen and hosts.latest()[0].error is None
        await _until(back)
        up = hosts.latest()[0]
        events = changes(combine(HostSnapshot(), [down]), combine(HostSnapshot(), [up]))
        assert ("host:db-1:reachable", "UP") in [(e.key, e.state) for e in events]
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await hosts.aclose()


# ---------------------------------------------------------------- hostile answers

@pytest.mark.parametrize("route, reason", [
    (dict(body=b"node_load1 1\n", stream_bytes=BODY_LIMIT + 1), "answer larger than 4096 KB"),
    (dict(body=b"<html>hello</html>"), "not node_exporter's metrics"),
    (dict(body=SAMPLE, headers={"Content-Encoding": "gzip"}), "compressed answer (gzip) refused"),
    (dict(status=500, body=b"\x1b[2Jboom"), "HTTP 500"),
    (dict(body=SAMPLE, delay=5.0), "timeout"),
])
async def test_hostile_answers_are_bounded(route, reason):
    with LocalHTTPServer() as srv:
        srv.route("/metrics", **route)
        hosts = RemoteHosts([spec(srv.url("/metrics"), timeout=0.5)], HostSpec())
        try:
            started = time.monotonic()
            snap = await hosts.poll_host(0)
            assert time.monotonic() - started < 3.0
        finally:
            await hosts.aclose()
    assert snap.level is Level.CRIT and snap.error is not None and reason in snap.error


async def test_hostile_label_values_lose_their_control_characters():
    body = SAMPLE.replace(b'mountpoint="/"', b'mountpoint="/\x1b]52;c;aGk=\x07\\n"')
    with LocalHTTPServer() as srv:
        srv.route("/metrics", body=body)
        hosts = RemoteHosts([spec(srv.url("/metrics"))], HostSpec())
        try:
            snap = await hosts.poll_host(0)
        finally:
            await hosts.aclose()
    assert snap.error is None
    assert all(ch.isprintable() for d in snap.disks for ch in d.mountpoint + d.device)


async def test_a_refused_port_is_a_reason_not_an_exception():
    hosts = RemoteHosts([spec(f"http://127.0.0.1:{refused_port()}/metrics")], HostSpec())
    try:
        snap = await hosts.poll_host(0)
    finally:
        await hosts.aclose()
    assert snap.error == "connection refused" and snap.summary == "not answering: connection refused"


# ---------------------------------------------------------------- with this machine

def _host(name: str, cpu: float) -> HostSnapshot:
    g = gauge("cpu", cpu, HostSpec().cpu)
    return HostSnapshot(level=g.level, summary=f"cpu {cpu:.0f}%" if g.level == Level.OK else f"cpu {cpu:.0f}% {g.level.name}",
                        hostname=name, cpu=g)


def test_combine_names_the_worst_host_first_and_changes_key_each_host():
    local = _host("laptop", 10)
    calm = combine(local, [_host("db-1", 20), _host("db-2", 30)])
    assert calm.level is Level.OK and calm.summary == "cpu 10% · 2/2 other hosts OK"
    hot = combine(local, [_host("db-1", 90), _host("db-2", 99)])
    assert hot.level is Level.CRIT and hot.summary == "db-2 cpu 99% CRIT · db-1 cpu 90% WARN"
    events = {(e.key, e.state, e.text) for e in changes(calm, hot)}
    assert ("host:db-2:cpu", "CRIT", "db-2: cpu at 99% (critical ≥ 95%)") in events
    assert ("host:db-1:cpu", "WARN", "db-1: cpu at 90% (warning ≥ 85%)") in events
    assert not any(k == "host:cpu" for k, _, _ in events)     # this machine did not change


async def test_a_trickling_node_exporter_ends_at_the_timeout():
    """A byte every 0.2 s never trips a per-read timeout; the host's own timeout ends the scrape."""
    from tests.test_hostile_http import RawServer, trickle

    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n" + SAMPLE[:400]
    with RawServer(trickle(answer)) as srv:
        hosts = RemoteHosts([spec(srv.url("/metrics"), timeout=0.6)], HostSpec())
        try:
            started = time.monotonic()
            snap = await hosts.poll_host(0)
            took = time.monotonic() - started
        finally:
            await hosts.aclose()
    assert snap.error == "timeout after 0.6 s" and snap.level is Level.CRIT
    assert took < 2.0
