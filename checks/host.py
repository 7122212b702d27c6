"""Host metrics with psutil: CPU, load, memory/swap, disks, I/O rates, top processes.

:class:`HostSource` is polled about once a second (in a thread: psutil blocks on
/proc reads), so a poll must stay cheap — a few milliseconds:

* CPU percentages are the source's own deltas of ``cpu_times()`` since its previous
  sample, not ``cpu_percent(interval=None)``, whose baseline is one per process: any
  other caller (a second source, the demo) made the next figure span milliseconds,
  0 % or 100 % ("cpu at 100 %", "back to 0 %" in the timeline). A sample spanning
  less than :data:`MIN_CPU_SPAN_S` keeps the previous figure. The first poll primes
  and waits :data:`PRIME_S` so even the first figure is meaningful. Never a blocking
  interval after that.
  (Not primed in ``__init__``: the source is built on the UI thread before the
  dashboard's first frame, and psutil is imported only by the first poll.)
* Process CPU percentages work the same way per ``Process`` object, so the source
  keeps one ``Process`` per pid across polls (and forgets dead pids); a process
  seen for the first time reports 0 %. Only the top N get the (costly) username.
* Rates (disk and network bytes/s) are deltas between two polls; the counters
  are primed by the first poll like CPU, so it has a rate too. None
  when a counter is unavailable or went backwards. Loopback traffic is left out.
* Disks: real mounts only (``disk_partitions(all=False)`` minus pseudo and network
  filesystems, one entry per device, bind-mounted files skipped), and "/" always,
  even when it is an overlay in a container. Network filesystems are never
  ``statvfs``-ed: a hung NFS server would hang the poll.

Thresholds are decided here (:func:`level_for`), never in the widget.
"""
from __future__ import annotations

import os
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from checks._lazy import LazyModule
from checks.base import Event, Level, Snapshot
from checks.specs import HostSpec
from tui.incident.safe_text import row_text

if TYPE_CHECKING:
    import psutil
else:
    psutil = LazyModule("psutil")   # imported by the first poll, in the poll's thread

__all__ = [
    "DiskUsage",
    "Gauge",
    "HostSnapshot",
    "HostSource",
    "IoRates",
    "ProcInfo",
    "assess",
    "changes",
    "format_bytes",
    "level_for",
    "pick_disks",
]

# Filesystems that are not storage a human would run out of (or that may hang a
# statvfs: network filesystems). "overlay" is here too: "/" is added back explicitly.
PSEUDO_FSTYPES = frozenset({
    "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
    "devpts", "devtmpfs", "efivarfs", "fusectl", "hugetlbfs", "mqueue", "nsfs",
    "overlay", "overlayfs", "proc", "pstore", "ramfs", "rpc_pipefs", "securityfs",
    "squashfs", "sysfs", "tmpfs", "tracefs", "aufs", "iso9660", "udf", "nullfs",
    "devfs", "fdescfs", "procfs", "linprocfs", "linsysfs",
    "nfs", "nfs4", "cifs", "smbfs", "smb3", "sshfs", "fuse.sshfs", "9p", "afs",
    "ceph", "glusterfs", "fuse.glusterfs", "lustre", "davfs", "fuse.rclone",
})
# Mount trees that only hold pseudo or per-snap images even when the fstype looks real.
PSEUDO_PREFIXES = ("/proc", "/sys", "/dev", "/run", "/snap", "/var/lib/docker", "/var/snap")


@dataclass(frozen=True)
class Gauge:
    """One percentage metric with the thresholds it was judged against."""

    name: str                      # "cpu", "memory", "swap"
    percent: float
    level: Level
    warn: float
    crit: float
    used: int | None = None        # bytes, for memory and swap
    total: int | None = None


@dataclass(frozen=True)
class DiskUsage:
    """One mounted filesystem, judged against the disk thresholds."""
    mountpoint: str
    percent: float
    level: Level
    warn: float
    crit: float
    used: int
    total: int
    device: str = ""
    fstype: str = ""


@dataclass(frozen=True)
class IoRates:
    """Bytes per second since the previous poll; None on the first poll or when unknown."""

    disk_read: float | None = None
    disk_write: float | None = None
    net_recv: float | None = None
    net_sent: float | None = None


@dataclass(frozen=True)
class ProcInfo:
    """One of the busiest processes."""
    pid: int
    name: str
    # psutil's figure: 100 = one full core, so it can exceed 100 on multi-core hosts.
    cpu_percent: float
    rss: int                        # bytes
    memory_percent: float
    username: str = ""


@dataclass(frozen=True)
class HostSnapshot(Snapshot):
    """This machine's metrics at one poll."""
    hostname: str = ""
    cpu: Gauge | None = None
    per_cpu: tuple[float, ...] = ()
    cpu_count: int = 0
    load: tuple[float, float, float] | None = None
    memory: Gauge | None = None
    swap: Gauge | None = None       # None: the host has no swap
    disks: tuple[DiskUsage, ...] = ()
    io: IoRates = field(default_factory=IoRates)
    top_cpu: tuple[ProcInfo, ...] = ()
    top_memory: tuple[ProcInfo, ...] = ()
    # The [[hosts]] machines (checks.node_exporter), attached to this machine's snapshot so that
    # one pane and one summary line show them all; empty without [[hosts]].
    remotes: tuple[HostSnapshot, ...] = ()

    def gauges(self) -> list[tuple[str, str, float, Level, float, float]]:
        """Every judged metric as (event key, label, percent, level, warn, crit)."""
        out: list[tuple[str, str, float, Level, float, float]] = []
        for g in (self.cpu, self.memory, self.swap):
            if g is not None:
                out.append((f"host:{g.name}", g.name, g.percent, g.level, g.warn, g.crit))
        for d in self.disks:
            out.append((f"host:disk:{d.mountpoint}", f"disk {d.mountpoint}", d.percent, d.level, d.warn, d.crit))
        return out


# ---------------------------------------------------------------- pure helpers

def level_for(percent: float, thresholds: tuple[float, float]) -> Level:
    """WARN at or above the first threshold, CRIT at or above the second."""
    warn, crit = thresholds
    if percent >= crit:
        return Level.CRIT
    if percent >= warn:
        return Level.WARN
    return Level.OK


def gauge(name: str, percent: float, thresholds: tuple[float, float],
          used: int | None = None, total: int | None = None) -> Gauge:
    return Gauge(name, float(percent), level_for(percent, thresholds),
                 float(thresholds[0]), float(thresholds[1]), used, total)


_SHORT = {"memory": "mem"}


def _label(name: str) -> str:
    return _SHORT.get(name, name)


def assess(cpu: Gauge | None, memory: Gauge | None, swap: Gauge | None,
           disks: Sequence[DiskUsage]) -> tuple[Level, str]:
    """The pane's level (worst metric) and its one-line summary.

    Breaches first, worst first ("disk / 96% CRIT · mem 88% WARN"); when all is
    well the three figures an IC looks at ("cpu 12% · mem 40% · disk 71%", disk
    being the fullest one).
    """
    judged: list[tuple[str, float, Level]] = []
    for g in (cpu, memory, swap):
        if g is not None:
            judged.append((_label(g.name), g.percent, g.level))
    for d in disks:
        judged.append((f"disk {d.mountpoint}", d.percent, d.level))
    if not judged:
        return Level.UNKNOWN, "no host metrics"
    level = max(lvl for _, _, lvl in judged)
    if level > Level.OK:
        bad = sorted((j for j in judged if j[2] > Level.OK), key=lambda j: (-j[2], -j[1]))
        return level, " · ".join(f"{name} {pct:.0f}% {lvl.name}" for name, pct, lvl in bad)
    parts = []
    if cpu is not None:
        parts.append(f"cpu {cpu.percent:.0f}%")
    if memory is not None:
        parts.append(f"mem {memory.percent:.0f}%")
    if disks:
        parts.append(f"disk {max(d.percent for d in disks):.0f}%")
    return level, " · ".join(parts)


def pick_disks(partitions: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Real mounts from (device, mountpoint, fstype) triples, "/" first then by path.

    One mount per device (the shortest path: bind mounts and btrfs subvolumes
    share the device's usage anyway); "/" is always kept whatever its fstype.
    """
    by_device: dict[str, tuple[str, str, str]] = {}
    root: tuple[str, str, str] | None = None
    for device, mount, fstype in partitions:
        if mount == "/":
            root = (device, mount, fstype)
            continue
        if fstype.lower() in PSEUDO_FSTYPES or fstype.startswith("cgroup"):
            continue
        if any(mount == p or mount.startswith(p + "/") for p in PSEUDO_PREFIXES):
            continue
        seen = by_device.get(device)
        if seen is None or len(mount) < len(seen[1]):
            by_device[device] = (device, mount, fstype)
    if root is not None:
        by_device.pop(root[0], None)
    rest = sorted(by_device.values(), key=lambda p: p[1])
    return ([root] if root else []) + rest


def _rate(prev: float | None, cur: float | None, dt: float) -> float | None:
    if prev is None or cur is None or dt <= 0:
        return None
    delta = cur - prev
    # A counter that went backwards (NIC removed, stats reset) has no meaningful rate.
    return delta / dt if delta >= 0 else None


def format_bytes(n: float | None, *, suffix: str = "") -> str:
    """Compact binary units: 512B, 1.2K, 34M, 1.8T."""
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T", "P"):
        if abs(value) < 1024 or unit == "P":
            if unit == "B":
                return f"{value:.0f}{unit}{suffix}"
            return f"{value:.1f}{unit}{suffix}" if abs(value) < 10 else f"{value:.0f}{unit}{suffix}"
        value /= 1024
    return f"{value:.0f}P{suffix}"  # pragma: no cover - loop always returns


def clean_text(text: str, limit: int = 64) -> str:
    """Printable text only (process and user names are foreign input), by the one sanitiser."""
    return row_text(text)[:limit]


# ---------------------------------------------------------------- events

def changes(prev: HostSnapshot | None, cur: HostSnapshot) -> list[Event]:
    """Threshold crossings and clearings between two snapshots.

    Keys: "host:cpu", "host:memory", "host:swap", "host:disk:<mount>". On first
    sight (no previous snapshot) metrics other than CPU already above a threshold
    are reported as crossings — the IC wants "disk / at 96%" in the timeline even if it was
    already full when the dashboard opened. A snapshot with an error reports
    nothing (a failed poll is not "back to normal").
    """
    if cur.error is not None:
        return []
    before: dict[str, Level] = {}
    if prev is not None and prev.error is None:
        before = {key: lvl for key, _, _, lvl, _, _ in prev.gauges()}
    events: list[Event] = []
    for key, label, pct, lvl, warn, crit in cur.gauges():
        if prev is None and key == "host:cpu":
            # CPU is a rate over the first moments, which are the dashboard's own start-up:
            # not a state of the host worth a timeline entry (levels such as a full disk are).
            continue
        was = before.get(key, Level.OK)
        if lvl == was:
            continue
        if lvl == Level.CRIT:
            events.append(Event(key, "CRIT", f"{label} at {pct:.0f}% (critical ≥ {crit:g}%)", Level.CRIT))
        elif lvl == Level.WARN:
            events.append(Event(key, "WARN", f"{label} at {pct:.0f}% (warning ≥ {warn:g}%)", Level.WARN))
        elif lvl == Level.OK and was > Level.OK:
            events.append(Event(key, "OK", f"{label} back to {pct:.0f}%", Level.OK))
    return events


# ---------------------------------------------------------------- the source

CPU_SUSTAIN_POLLS = 3
# Polls arrive a few milliseconds either side of the interval; a scan due within this is done now.
_TOP_SLACK_S = 0.1
# How long the first poll waits after priming the counters: psutil counts CPU time in
# 10 ms ticks, so a figure over a few microseconds would be 0 % or 100 %.
PRIME_S = 0.2


# A CPU sample spanning less CPU time than this (per CPU) is noise: /proc/stat counts in 10 ms ticks.
MIN_CPU_SPAN_S = 0.1


def _cpu_total(t: object) -> float:
    # As psutil counts it: guest time is already inside user time on Linux.
    return float(sum(t) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))   # type: ignore[call-overload]


def _busy_pct(a: object, b: object) -> float:
    total = _cpu_total(b) - _cpu_total(a)
    if total <= 0:
        return 0.0
    idle = (b.idle - a.idle) + (getattr(b, "iowait", 0.0) - getattr(a, "iowait", 0.0))   # type: ignore[attr-defined]
    return float(round(min(100.0, max(0.0, 100.0 * (total - idle) / total)), 1))


class HostSource:
    """Polls this machine's metrics; ``poll()`` is synchronous and never raises."""

    def __init__(self, spec: HostSpec | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec or HostSpec()
        self._clock = clock
        # Top processes: every process is read (two /proc files each), the costliest part of a
        # poll by far; like top(1) that list is refreshed every few seconds, the gauges every poll.
        self._top: tuple[tuple[ProcInfo, ...], tuple[ProcInfo, ...]] = ((), ())
        self._top_key: tuple[int, float] | None = None     # (top_processes, when it is due again)
        try:
            self.hostname = socket.gethostname()
        except OSError:
            self.hostname = ""
        self._procs: dict[int, psutil.Process] = {}
        self._prev_io: tuple[float, float | None, float | None, float | None, float | None] | None = None
        self._partitions: list[tuple[str, str, str]] | None = None
        self._partitions_at = 0.0
        self._primed = False
        self._cpu_levels: deque[Level] = deque(maxlen=CPU_SUSTAIN_POLLS)
        self._cpu_seen = False
        self._cpu_prev: tuple[Any, tuple[Any, ...]] | None = None                      # (cpu_times, per-cpu cpu_times)
        self._cpu_last: tuple[float, tuple[float, ...]] = (0.0, ())

    def _cpu_sample(self) -> tuple[float, tuple[float, ...]]:
        """CPU busy % overall and per CPU since this source's previous sample."""
        now = (psutil.cpu_times(), tuple(psutil.cpu_times(percpu=True)))
        prev, self._cpu_prev = self._cpu_prev, now
        if prev is None:
            return self._cpu_last
        span = (_cpu_total(now[0]) - _cpu_total(prev[0])) / max(1, len(now[1]))
        if span < MIN_CPU_SPAN_S or len(prev[1]) != len(now[1]):
            self._cpu_prev = prev          # too short to mean anything: measure from the older sample
            return self._cpu_last
        self._cpu_last = (_busy_pct(prev[0], now[0]),
                          tuple(_busy_pct(a, b) for a, b in zip(prev[1], now[1])))
        return self._cpu_last

    def _prime(self) -> None:
        try:
            self._cpu_sample()
        except Exception:  # noqa: BLE001 - priming is best effort
            pass
        self._prime_processes()
        self._read_io()
        self._primed = True

    # Mounts change rarely; re-reading /proc/self/mountinfo every second is waste.
    PARTITIONS_TTL = 30.0

    def close(self) -> None:
        self._procs.clear()

    def poll(self) -> HostSnapshot:
        try:
            return self._poll()
        except Exception as exc:  # noqa: BLE001 - failure is data
            return HostSnapshot(level=Level.UNKNOWN, hostname=self.hostname,
                                summary="host metrics unavailable", error=f"host metrics failed: {exc}")

    def _poll(self) -> HostSnapshot:
        if not self._primed:
            self._prime()
            time.sleep(PRIME_S)
        spec = self.spec
        cpu_pct, per_cpu = self._cpu_sample()
        cpu = self._sustained(gauge("cpu", cpu_pct, spec.cpu))
        try:
            one, five, fifteen = psutil.getloadavg()
            load: tuple[float, float, float] | None = (float(one), float(five), float(fifteen))
        except (OSError, AttributeError):
            load = None
        vm = psutil.virtual_memory()
        memory = gauge("memory", vm.percent, spec.memory, int(vm.total - vm.available), int(vm.total))
        swap: Gauge | None = None
        try:
            sw = psutil.swap_memory()
            if sw.total > 0:
                swap = gauge("swap", sw.percent, spec.swap, int(sw.used), int(sw.total))
        except (OSError, RuntimeError):
            swap = None
        disks = tuple(self._disks())
        io = self._io_rates()
        top_cpu, top_mem = self._top_if_due(int(vm.total))
        level, summary = assess(cpu, memory, swap, disks)
        return HostSnapshot(
            level=level, summary=summary, hostname=self.hostname,
            cpu=cpu, per_cpu=per_cpu, cpu_count=len(per_cpu) or (psutil.cpu_count() or 0),
            load=load, memory=memory, swap=swap, disks=disks, io=io,
            top_cpu=top_cpu, top_memory=top_mem,
        )

    def _sustained(self, cpu: Gauge) -> Gauge:
        # CPU spikes for a second all the time; only a level held for several polls is news.
        # The first sample (taken over PRIME_S while the dashboard itself starts) never counts.
        if not self._cpu_seen:
            self._cpu_seen = True
            return replace(cpu, level=Level.OK)
        self._cpu_levels.append(cpu.level)
        held = min(self._cpu_levels) if len(self._cpu_levels) == CPU_SUSTAIN_POLLS else Level.OK
        return replace(cpu, level=min(cpu.level, held))

    # -- disks

    def _mounts(self) -> list[tuple[str, str, str]]:
        now = time.monotonic()
        if self._partitions is None or now - self._partitions_at > self.PARTITIONS_TTL:
            parts = [(p.device, p.mountpoint, p.fstype) for p in psutil.disk_partitions(all=False)]
            if not any(m == "/" for _, m, _ in parts):
                # In a container "/" is an overlay, which all=False leaves out.
                root = next((p for p in psutil.disk_partitions(all=True) if p.mountpoint == "/"), None)
                parts.insert(0, (root.device, "/", root.fstype) if root else ("rootfs", "/", ""))
            # Docker bind-mounts single files (/etc/hosts...) from the host disk.
            parts = [p for p in parts if p[1] == "/" or os.path.isdir(p[1])]
            self._partitions = pick_disks(parts)
            self._partitions_at = now
        return self._partitions

    def _disks(self) -> list[DiskUsage]:
        out = []
        for device, mount, fstype in self._mounts():
            try:
                du = psutil.disk_usage(mount)
            except OSError:
                continue
            out.append(DiskUsage(mount, float(du.percent), level_for(du.percent, self.spec.disk),
                                 float(self.spec.disk[0]), float(self.spec.disk[1]),
                                 int(du.used), int(du.total), device, fstype))
        return out

    # -- I/O rates

    def _read_io(self) -> tuple[float, float | None, float | None, float | None, float | None]:
        now = time.monotonic()
        read = write = recv = sent = None
        try:
            dio = psutil.disk_io_counters()
            if dio is not None:
                read, write = float(dio.read_bytes), float(dio.write_bytes)
        except (OSError, RuntimeError):
            pass
        try:
            nics = psutil.net_io_counters(pernic=True)
            real = [c for name, c in nics.items() if not (name == "lo" or name.startswith("lo"))]
            recv = float(sum(c.bytes_recv for c in real))
            sent = float(sum(c.bytes_sent for c in real))
        except (OSError, RuntimeError):
            pass
        sample = (now, read, write, recv, sent)
        self._prev_io = sample
        return sample

    def _io_rates(self) -> IoRates:
        prev = self._prev_io
        cur = self._read_io()
        if prev is None:
            return IoRates()
        dt = cur[0] - prev[0]
        return IoRates(_rate(prev[1], cur[1], dt), _rate(prev[2], cur[2], dt),
                       _rate(prev[3], cur[3], dt), _rate(prev[4], cur[4], dt))

    # -- processes

    def _prime_processes(self) -> None:
        try:
            pids = psutil.pids()
        except OSError:
            return
        for pid in pids:
            try:
                proc = psutil.Process(pid)
                proc.cpu_percent(interval=None)
            except (psutil.Error, OSError):
                continue
            self._procs[pid] = proc

    def _top_if_due(self, mem_total: int) -> tuple[tuple[ProcInfo, ...], tuple[ProcInfo, ...]]:
        now = self._clock()
        n = max(0, int(self.spec.top_processes))
        if self._top_key is None or self._top_key[0] != n or now >= self._top_key[1]:
            self._top = self._top_processes(mem_total)
            self._top_key = (n, now + max(0.0, float(self.spec.top_interval)) - _TOP_SLACK_S)
        return self._top

    def _top_processes(self, mem_total: int) -> tuple[tuple[ProcInfo, ...], tuple[ProcInfo, ...]]:
        n = max(0, int(self.spec.top_processes))
        if n == 0:
            return (), ()
        try:
            pids = psutil.pids()
        except OSError:
            return (), ()
        alive: dict[int, psutil.Process] = {}
        rows: list[tuple[psutil.Process, float, int]] = []
        # Only CPU and RSS for every process (two small /proc reads); name and
        # username, which cost more (name may read the cmdline), only for the top N.
        for pid in pids:
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = psutil.Process(pid)
                cpu = proc.cpu_percent(interval=None)
                rss = proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue
            except (psutil.AccessDenied, OSError):
                # Keep the object so its CPU baseline survives; show nothing for it now.
                if proc is not None:
                    alive[pid] = proc
                continue
            alive[pid] = proc
            # A pid reused within one poll interval can give one odd (negative) reading.
            rows.append((proc, max(0.0, float(cpu)), int(rss)))
        self._procs = alive  # dead pids are forgotten here

        def info(row: tuple[psutil.Process, float, int]) -> ProcInfo:
            proc, cpu, rss = row
            try:
                name = proc.name()
            except (psutil.Error, OSError):
                name = "?"
            try:
                user = proc.username()
            except (psutil.Error, OSError, KeyError):
                user = ""
            mem_pct = 100.0 * rss / mem_total if mem_total else 0.0
            return ProcInfo(proc.pid, clean_text(name, 40), cpu, rss, mem_pct, clean_text(user, 32))

        # Tick granularity makes short intervals overshoot; no process exceeds all cores.
        ceiling = 100.0 * (psutil.cpu_count() or 1)
        rows = [(proc, min(cpu, ceiling), rss) for proc, cpu, rss in rows]
        by_cpu = sorted(rows, key=lambda r: (-r[1], -r[2]))[:n]
        by_mem = sorted(rows, key=lambda r: -r[2])[:n]
        cache: dict[int, ProcInfo] = {}
        top_cpu = tuple(cache.setdefault(r[0].pid, info(r)) for r in by_cpu)
        top_mem = tuple(cache.setdefault(r[0].pid, info(r)) for r in by_mem)
        return top_cpu, top_mem
