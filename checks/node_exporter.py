"""Other machines ([[hosts]]): CPU, load, memory, swap and filesystems from node_exporter's ``/metrics``.

No Prometheus server is involved: node_exporter's text exposition format is read
directly, and each host becomes a :class:`~checks.host.HostSnapshot` judged by the
same [host] thresholds as this machine (:func:`checks.host.level_for`), so the host
pane draws it with the same gauges.

* CPU is a rate: the busy share of ``node_cpu_seconds_total`` between two scrapes
  (busy = all modes but idle and iowait, as psutil counts it). The first scrape of a
  host therefore has no CPU figure yet; neither has a scrape after a counter reset
  (the host rebooted).
* Every answer is hostile: it is read through :func:`checks.promapi.request_bytes`
  (at most :data:`BODY_LIMIT` bytes, compressed answers refused, the whole request
  bounded by the host's timeout), only the few metric names below are parsed, a line
  longer than :data:`LINE_LIMIT` is skipped, and each metric keeps at most
  :data:`MAX_SERIES` series. Malformed lines are skipped, not fatal; an answer with
  none of node_exporter's metrics is an error ("not node_exporter's metrics").
* A host that stops answering keeps its last figures but its snapshot carries the
  reason in ``error`` and is CRIT: the pane turns its rows red and says why.

:class:`RemoteHosts` follows every host on its own interval, forever, on whatever
event loop runs :meth:`RemoteHosts.run` (the dashboard gives it a thread of its own);
:meth:`RemoteHosts.latest` hands the newest snapshots to the local host poll, which
attaches them to this machine's snapshot (:func:`combine`), so one pane and one
summary line show every host.
"""
from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from checks.base import Event, Level
from checks.host import DiskUsage, Gauge, HostSnapshot, IoRates, assess, clean_text, gauge, level_for, pick_disks
from checks.host import changes as host_changes
from checks.promapi import ApiError, new_client, request_bytes
from checks.specs import HostSpec, RemoteHostSpec

if TYPE_CHECKING:
    import httpx

__all__ = [
    "BODY_LIMIT",
    "NodeReading",
    "RemoteHosts",
    "changes",
    "combine",
    "judge",
    "parse",
    "reduce",
]

# node_exporter's answer is 30-200 KB on an ordinary machine; a few MB covers hundreds of
# cores and mounts, and bounds what a hostile server can make us read.
BODY_LIMIT = 4 * 1024 * 1024
LINE_LIMIT = 4096
MAX_SERIES = 4096                   # per metric (cpu x mode, filesystems, devices)
MAX_DISKS = 32
NAME_LIMIT = 64                     # characters kept of a mountpoint or device name

_CPU = "node_cpu_seconds_total"
_WANTED = frozenset({
    _CPU, "node_load1", "node_load5", "node_load15",
    "node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes",
    "node_memory_SwapTotal_bytes", "node_memory_SwapFree_bytes",
    "node_filesystem_size_bytes", "node_filesystem_free_bytes", "node_filesystem_avail_bytes",
    "node_disk_read_bytes_total", "node_disk_written_bytes_total",
    "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
})
_LABEL = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,?)')
_UNESCAPE = re.compile(r"\\(.)")
_IDLE_MODES = frozenset({"idle", "iowait"})

Series = list[tuple[dict[str, str], float]]


# ---------------------------------------------------------------- the text format

def _labels(line: str, start: int) -> tuple[dict[str, str], int] | None:
    """The ``{a="b",…}`` starting at ``line[start] == "{"``: (labels, index after "}") or None if malformed."""
    labels: dict[str, str] = {}
    pos = start + 1
    while True:
        if line.startswith("}", pos):
            return labels, pos + 1
        m = _LABEL.match(line, pos)
        if m is None:
            return None
        labels[m.group(1)] = _UNESCAPE.sub(lambda e: "\n" if e.group(1) == "n" else e.group(1), m.group(2))
        pos = m.end()
        if not m.group(3):                  # no comma: the next thing must be the closing brace
            pos = len(line) - len(line[pos:].lstrip())
            return (labels, pos + 1) if line.startswith("}", pos) else None


def parse(text: str) -> dict[str, Series]:
    """The wanted metrics of a text exposition: name -> [(labels, value)], malformed lines skipped."""
    out: dict[str, Series] = {}
    for line in text.splitlines():
        if not line.startswith("node_") or len(line) > LINE_LIMIT:
            continue                        # comments, other exporters' metrics, absurd lines
        brace, space = line.find("{"), line.find(" ")
        end = brace if brace != -1 and (space == -1 or brace < space) else space
        if end == -1 or line[:end] not in _WANTED:
            continue
        labels: dict[str, str] = {}
        rest = end
        if line[end] == "{":
            got = _labels(line, end)
            if got is None:
                continue
            labels, rest = got
        fields = line[rest:].split()
        if not fields:
            continue
        try:
            value = float(fields[0])
        except ValueError:
            continue
        if not math.isfinite(value):
            continue
        series = out.setdefault(line[:end], [])
        if len(series) < MAX_SERIES:
            series.append((labels, value))
    return out


@dataclass(frozen=True)
class NodeReading:
    """One scrape, reduced to what the pane shows. Counters are totals since the host booted."""
    cpu: dict[str, tuple[float, float]] = field(default_factory=dict)   # cpu id -> (busy s, total s)
    load: tuple[float, float, float] | None = None
    mem_total: float | None = None
    mem_available: float | None = None
    swap_total: float | None = None
    swap_free: float | None = None
    # (device, mountpoint, fstype, size, free, avail)
    filesystems: tuple[tuple[str, str, str, float, float, float], ...] = ()
    disk_read: float | None = None
    disk_written: float | None = None
    net_received: float | None = None
    net_sent: float | None = None

    @property
    def empty(self) -> bool:
        return not self.cpu and self.mem_total is None and self.load is None and not self.filesystems


def _one(samples: dict[str, Series], name: str) -> float | None:
    series = samples.get(name)
    return series[0][1] if series else None


def _total(samples: dict[str, Series], name: str, skip: Callable[[dict[str, str]], bool] = lambda _: False) -> float | None:
    series = samples.get(name)
    if not series:
        return None
    return sum(v for labels, v in series if not skip(labels))


def reduce(samples: dict[str, Series]) -> NodeReading:
    cpu: dict[str, list[float]] = {}
    for labels, value in samples.get(_CPU, ()):
        busy_total = cpu.setdefault(labels.get("cpu", ""), [0.0, 0.0])
        busy_total[1] += value
        if labels.get("mode") not in _IDLE_MODES:
            busy_total[0] += value
    loads = [_one(samples, f"node_load{n}") for n in (1, 5, 15)]
    load = (loads[0], loads[1], loads[2]) if all(x is not None for x in loads) else None
    fs: dict[tuple[str, str, str], list[float]] = {}
    for index, name in enumerate(("node_filesystem_size_bytes", "node_filesystem_free_bytes",
                                  "node_filesystem_avail_bytes")):
        for labels, value in samples.get(name, ()):
            key = (clean_text(labels.get("device", ""), NAME_LIMIT), clean_text(labels.get("mountpoint", ""), NAME_LIMIT),
                   clean_text(labels.get("fstype", ""), NAME_LIMIT))
            if key[1]:
                fs.setdefault(key, [math.nan, math.nan, math.nan])[index] = value
    filesystems = tuple((*key, *vals) for key, vals in fs.items() if all(math.isfinite(v) for v in vals))
    return NodeReading(
        cpu={k: (v[0], v[1]) for k, v in cpu.items()},
        load=load,  # type: ignore[arg-type]  # all three checked above
        mem_total=_one(samples, "node_memory_MemTotal_bytes"),
        mem_available=_one(samples, "node_memory_MemAvailable_bytes"),
        swap_total=_one(samples, "node_memory_SwapTotal_bytes"),
        swap_free=_one(samples, "node_memory_SwapFree_bytes"),
        filesystems=filesystems,  # type: ignore[arg-type]
        disk_read=_total(samples, "node_disk_read_bytes_total"),
        disk_written=_total(samples, "node_disk_written_bytes_total"),
        # Loopback traffic is left out, as for this machine.
        net_received=_total(samples, "node_network_receive_bytes_total", lambda lb: lb.get("device") == "lo"),
        net_sent=_total(samples, "node_network_transmit_bytes_total", lambda lb: lb.get("device") == "lo"),
    )


# ---------------------------------------------------------------- judging

def _cpu_share(prev: tuple[float, float], cur: tuple[float, float]) -> float | None:
    busy, total = cur[0] - prev[0], cur[1] - prev[1]
    if total <= 0 or busy < 0:
        return None                         # no time passed, or the counters went back (a reboot)
    return max(0.0, min(100.0, busy / total * 100))


def _rate(prev: float | None, cur: float | None, dt: float) -> float | None:
    if prev is None or cur is None or dt <= 0 or cur < prev:
        return None
    return (cur - prev) / dt


def judge(name: str, cur: NodeReading, prev: NodeReading | None, dt: float, spec: HostSpec) -> HostSnapshot:
    """One host's snapshot from its latest reading (and the previous one, for rates)."""
    cpu: Gauge | None = None
    per_cpu: tuple[float, ...] = ()
    if prev is not None and cur.cpu:
        shares = [_cpu_share(prev.cpu[c], cur.cpu[c]) for c in sorted(cur.cpu, key=_cpu_order) if c in prev.cpu]
        if shares and all(s is not None for s in shares):
            per_cpu = tuple(s for s in shares if s is not None)
            busy = sum(cur.cpu[c][0] - prev.cpu[c][0] for c in cur.cpu if c in prev.cpu)
            total = sum(cur.cpu[c][1] - prev.cpu[c][1] for c in cur.cpu if c in prev.cpu)
            if total > 0:
                cpu = gauge("cpu", max(0.0, min(100.0, busy / total * 100)), spec.cpu)
    memory: Gauge | None = None
    if cur.mem_total and cur.mem_available is not None:
        used = max(0.0, cur.mem_total - cur.mem_available)
        memory = gauge("memory", used / cur.mem_total * 100, spec.memory, int(used), int(cur.mem_total))
    swap: Gauge | None = None
    if cur.swap_total and cur.swap_free is not None:
        used = max(0.0, cur.swap_total - cur.swap_free)
        swap = gauge("swap", used / cur.swap_total * 100, spec.swap, int(used), int(cur.swap_total))
    by_mount = {fs[1]: fs for fs in cur.filesystems}
    disks: list[DiskUsage] = []
    for device, mount, fstype in pick_disks((fs[0], fs[1], fs[2]) for fs in cur.filesystems)[:MAX_DISKS]:
        size, free, avail = by_mount[mount][3:]
        used = max(0.0, size - free)
        if used + avail <= 0:
            continue
        # As df(1) and psutil: the share of what a user could have (root's reserve left out).
        percent = min(100.0, used / (used + avail) * 100)
        disks.append(DiskUsage(mount, percent, level_for(percent, spec.disk), spec.disk[0], spec.disk[1],
                               int(used), int(size), device, fstype))
    io = IoRates()
    if prev is not None:
        io = IoRates(_rate(prev.disk_read, cur.disk_read, dt), _rate(prev.disk_written, cur.disk_written, dt),
                     _rate(prev.net_received, cur.net_received, dt), _rate(prev.net_sent, cur.net_sent, dt))
    level, summary = assess(cpu, memory, swap, disks)
    if cpu is None and level == Level.OK:
        summary = (summary + " · cpu measuring…").lstrip(" ·")
    return HostSnapshot(level=level, summary=summary, hostname=name, cpu=cpu, per_cpu=per_cpu,
                        cpu_count=len(cur.cpu), load=cur.load, memory=memory, swap=swap, disks=tuple(disks), io=io)


def _cpu_order(cpu: str) -> tuple[int, str]:
    return (int(cpu), "") if cpu.isdigit() else (1 << 30, cpu)


def waiting(name: str) -> HostSnapshot:
    return HostSnapshot(level=Level.UNKNOWN, hostname=name, summary="waiting for node_exporter's first answer")


def unreachable(name: str, reason: str, last: HostSnapshot | None) -> HostSnapshot:
    """A host that did not answer: CRIT with the reason, keeping its last figures (drawn red)."""
    base = last if last is not None else HostSnapshot(hostname=name)
    return replace(base, level=Level.CRIT, error=reason, summary=f"not answering: {reason}")


# ---------------------------------------------------------------- following the hosts

@dataclass
class _HostState:
    spec: RemoteHostSpec
    reading: NodeReading | None = None
    read_at: float = 0.0
    last_good: HostSnapshot | None = None


class RemoteHosts:
    """Follows every [[hosts]] entry; :meth:`run` never returns (cancel it), :meth:`latest` is thread-safe."""

    def __init__(self, hosts: Sequence[RemoteHostSpec], thresholds: HostSpec | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.thresholds = thresholds or HostSpec()
        self._states = [_HostState(spec) for spec in hosts]
        self._clock = clock
        self._clients: dict[tuple[tuple[str, str], ...], httpx.AsyncClient] = {}
        # Replaced whole (never mutated): the poll thread reads it without a lock.
        self._latest: tuple[HostSnapshot, ...] = tuple(waiting(s.spec.name) for s in self._states)
        self.rounds = 0                     # answers and failures so far, all hosts (tests wait on it)

    def latest(self) -> tuple[HostSnapshot, ...]:
        return self._latest

    def _client(self, headers: tuple[tuple[str, str], ...]) -> "httpx.AsyncClient":
        # Made on the loop that runs the polls; hosts with the same headers share connections.
        client = self._clients.get(headers)
        if client is None:
            client = self._clients[headers] = new_client(headers)
        return client

    async def poll_host(self, index: int) -> HostSnapshot:
        """Scrape host ``index`` once, publish and return its snapshot. Never raises."""
        state = self._states[index]
        spec = state.spec
        try:
            raw = await request_bytes(self._client(spec.headers), "GET", spec.url, timeout=spec.timeout,
                                      limit=BODY_LIMIT)
            reading = reduce(parse(raw.decode("utf-8", "replace")))
            if reading.empty:
                raise ApiError("not node_exporter's metrics (no node_cpu, node_memory, node_load or "
                               "node_filesystem lines)")
        except ApiError as exc:
            snap = unreachable(spec.name, exc.reason, state.last_good)
        except Exception as exc:  # noqa: BLE001 - failure is data, never a dead poll
            snap = unreachable(spec.name, f"{type(exc).__name__}: {exc}"[:200], state.last_good)
        else:
            now = self._clock()
            snap = judge(spec.name, reading, state.reading, now - state.read_at, self.thresholds)
            state.reading, state.read_at, state.last_good = reading, now, snap
        latest = list(self._latest)
        latest[index] = snap
        self._latest = tuple(latest)
        self.rounds += 1
        return snap

    async def _follow(self, index: int) -> None:
        interval = self._states[index].spec.interval
        while True:
            started = self._clock()
            await self.poll_host(index)
            await asyncio.sleep(max(0.0, interval - (self._clock() - started)))

    async def run(self) -> None:
        await asyncio.gather(*(self._follow(i) for i in range(len(self._states))))

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


# ---------------------------------------------------------------- with this machine

def combine(local: HostSnapshot, remotes: Sequence[HostSnapshot]) -> HostSnapshot:
    """This machine's snapshot with the other hosts attached: the worst level of all, and a
    summary naming what is wrong anywhere, worst first (the one line of a small terminal)."""
    if not remotes:
        return local
    hosts: list[tuple[Level, str]] = [(r.level, f"{r.hostname} {r.summary}") for r in remotes]
    if local.error is None:
        hosts.insert(0, (local.level, f"this machine {local.summary}"))
    level = max(lvl for lvl, _ in hosts)
    bad = sorted((h for h in hosts if h[0] > Level.OK), key=lambda h: -h[0])
    if bad:
        summary = " · ".join(text for _, text in bad)
    else:
        ok = sum(1 for r in remotes if r.level == Level.OK)
        summary = f"{local.summary} · {ok}/{len(remotes)} other hosts OK"
    if local.error is not None:
        return replace(local, remotes=tuple(remotes))
    return replace(local, level=level, summary=summary, remotes=tuple(remotes))


def changes(prev: HostSnapshot | None, cur: HostSnapshot) -> list[Event]:
    """This machine's crossings (checks.host.changes) and every other host's: its own
    crossings under ``host:<name>:…`` keys, and "not answering" / "answering again"."""
    events = host_changes(prev, cur)
    before = {r.hostname: r for r in (prev.remotes if prev is not None else ())}
    for r in cur.remotes:
        p = before.get(r.hostname)
        key = f"host:{r.hostname}:reachable"
        if r.error is not None:
            if p is None or p.error is None:
                events.append(Event(key, "DOWN", f"host {r.hostname} not answering: {r.error}", Level.CRIT))
            continue
        if p is not None and p.error is not None:
            events.append(Event(key, "UP", f"host {r.hostname} answering again", Level.OK))
        for e in host_changes(p if p is not None and p.error is None else None, r):
            events.append(replace(e, key=e.key.replace("host:", f"host:{r.hostname}:", 1),
                                  text=f"{r.hostname}: {e.text}"))
    return events
