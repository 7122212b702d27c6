"""The demo's [[hosts]]: two node_exporter stand-ins answering ``/node/<name>/metrics`` on the
signals stand-in's port (tui/demo/signals.py), in node_exporter's text format, from the scenario clock.

The same story as the services: ``payments-1`` runs the payments workers whose v2.3.1
card-token cache grows without bound, so its memory climbs from scenario second 15 and is
critical while payments fails (25-62 s), its CPU busy with the retries; after the rollback
(62 s) both come back. ``payments-db`` works harder while the workers retry, and its data
disk is steadily three-quarters full. CPU counters are cumulative, as node_exporter's are
(the host pane computes the share between two scrapes).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from checks.specs import RemoteHostSpec

GIB = 1 << 30


def _ramp(t: float, start: float, end: float, low: float, high: float) -> float:
    """``high`` between start and end, ``low`` outside, with a 3 s slope each way."""
    if t < start or t >= end + 3:
        return low
    rise = min(1.0, (t - start) / 3)
    fall = 1.0 if t < end else max(0.0, 1 - (t - end) / 3)
    return low + (high - low) * min(rise, fall)


@dataclass
class _Host:
    cpus: int
    mem_total: float
    busy: Callable[[float], float]           # CPU busy share at scenario second t
    mem_used: Callable[[float], float]       # share of memory in use
    disks: tuple[tuple[str, str, float, float], ...]   # (device, mountpoint, size, used share)


def _app_memory(t: float) -> float:
    if t < 15:
        return 0.62
    if t < 62:
        return min(0.97, 0.62 + (t - 15) * 0.03)     # the cache grows ~3 % a second
    return max(0.58, 0.97 - (t - 62) * 0.1)          # rolled back: freed within a few seconds


HOSTS: dict[str, _Host] = {
    "payments-1": _Host(4, 16 * GIB, lambda t: _ramp(t, 25, 62, 0.32, 0.88), _app_memory,
                        (("/dev/nvme0n1p1", "/", 80 * GIB, 0.41),)),
    "payments-db": _Host(8, 64 * GIB, lambda t: _ramp(t, 25, 62, 0.22, 0.61), lambda t: 0.71,
                         (("/dev/nvme0n1p1", "/", 50 * GIB, 0.38),
                          ("/dev/nvme1n1", "/var/lib/postgresql", 2048 * GIB, 0.74))),
}


class NodeStandins:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._last = time.monotonic()
        # name -> per cpu [busy s, idle s]: a host that has been up for a while.
        self._counters = {name: [[1000.0 * (i + 1), 50_000.0] for i in range(host.cpus)]
                          for name, host in HOSTS.items()}

    def specs(self, base_url: str, interval: float) -> tuple[RemoteHostSpec, ...]:
        return tuple(RemoteHostSpec(name=name, url=f"{base_url}/node/{name}/metrics", interval=max(0.5, interval),
                                    timeout=2.0) for name in HOSTS)

    def _advance(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        t = self.clock()
        for name, host in HOSTS.items():
            share = host.busy(t)
            for i, pair in enumerate(self._counters[name]):
                # Cores are not equally busy: the first ones carry more.
                mine = min(1.0, share * (1.25 - 0.5 * i / max(1, host.cpus - 1)))
                pair[0] += dt * mine
                pair[1] += dt * (1 - mine)

    def metrics(self, name: str) -> bytes | None:
        """node_exporter's answer for host ``name`` (None: no such host)."""
        host = HOSTS.get(name)
        if host is None:
            return None
        with self._lock:
            self._advance()
            counters = [tuple(pair) for pair in self._counters[name]]
        t = self.clock()
        lines = ["# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.",
                 "# TYPE node_cpu_seconds_total counter"]
        for i, (busy, idle) in enumerate(counters):
            lines += [f'node_cpu_seconds_total{{cpu="{i}",mode="idle"}} {idle:.6f}',
                      f'node_cpu_seconds_total{{cpu="{i}",mode="iowait"}} 0',
                      f'node_cpu_seconds_total{{cpu="{i}",mode="system"}} {busy * 0.3:.6f}',
                      f'node_cpu_seconds_total{{cpu="{i}",mode="user"}} {busy * 0.7:.6f}']
        load = host.busy(t) * host.cpus
        lines += [f"node_load1 {load:.2f}", f"node_load5 {load * 0.8:.2f}", f"node_load15 {load * 0.6:.2f}",
                  f"node_memory_MemTotal_bytes {host.mem_total:.0f}",
                  f"node_memory_MemAvailable_bytes {host.mem_total * (1 - host.mem_used(t)):.0f}",
                  f"node_memory_SwapTotal_bytes {4 * GIB}", f"node_memory_SwapFree_bytes {4 * GIB * 0.97:.0f}"]
        for device, mount, size, used in host.disks:
            labels = f'device="{device}",fstype="ext4",mountpoint="{mount}"'
            lines += [f"node_filesystem_size_bytes{{{labels}}} {size:.0f}",
                      f"node_filesystem_free_bytes{{{labels}}} {size * (1 - used):.0f}",
                      f"node_filesystem_avail_bytes{{{labels}}} {size * (1 - used):.0f}"]
        return ("\n".join(lines) + "\n").encode()
