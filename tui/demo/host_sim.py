"""The demo's host pane: the payments node of the story, simulated along scenario time.

The real machine's load (a build, six test runs on two cores) has nothing to do with the
demo's incident; read through psutil it wrote "cpu at 100 %" into the simulated story.
Here the host is the node the crash-looping payments pods run on: CPU climbs with the
crash loop and the retry storm, memory with the card-token cache until payments-worker
is OOMKilled, and both settle after the rollback. Judged by checks/host.py's own
thresholds and summary, so the pane and the detector treat it like any host.
"""
from __future__ import annotations

import math
from typing import Callable

from checks.base import Level
from checks.host import DiskUsage, HostSnapshot, IoRates, ProcInfo, assess, gauge, level_for
from checks.specs import HostSpec

HOSTNAME = "node-1 (simulated)"
CORES = 4
GIB = 1024 ** 3
MEMORY_TOTAL = 16 * GIB
DISK_TOTAL = 200 * GIB

# Scenario seconds (tui/demo/scenario.py): the first crash, the OOM kill, the rollback done.
CRASHING_FROM, OOM_AT, ROLLED_BACK_AT = 20.0, 40.0, 63.0


def _ramp(t: float, start: float, end: float) -> float:
    """0 before ``start``, 1 after ``end``, smooth between."""
    if t <= start:
        return 0.0
    if t >= end:
        return 1.0
    x = (t - start) / (end - start)
    return x * x * (3 - 2 * x)


def _wobble(t: float, seed: float) -> float:
    """A little deterministic movement (±1.5 points) so the figures look alive, never near a threshold."""
    return 1.5 * math.sin(t * 0.9 + seed) * math.cos(t * 0.37 + 2 * seed)


def cpu_at(t: float) -> float:
    storm = _ramp(t, CRASHING_FROM, CRASHING_FROM + 8) * (1 - _ramp(t, ROLLED_BACK_AT, ROLLED_BACK_AT + 4))
    return 34.0 + 55.0 * storm + _wobble(t, 0.3)


def memory_at(t: float) -> float:
    if t < OOM_AT:
        return 56.0 + 33.0 * _ramp(t, CRASHING_FROM + 8, OOM_AT - 1) + _wobble(t, 1.1) / 3
    settle = _ramp(t, ROLLED_BACK_AT, ROLLED_BACK_AT + 5)
    return 71.0 - 14.0 * settle + _wobble(t, 1.7) / 3


class SimulatedHost:
    """Has HostSource's ``poll``/``close``; ``clock`` is the scenario's (seconds since the demo began)."""

    def __init__(self, clock: Callable[[], float], spec: HostSpec | None = None) -> None:
        self.clock, self.spec = clock, spec or HostSpec()

    def close(self) -> None:
        pass

    def poll(self) -> HostSnapshot:
        t = self.clock()
        spec = self.spec
        cpu_pct, mem_pct = cpu_at(t), memory_at(t)
        cpu = gauge("cpu", cpu_pct, spec.cpu)
        memory = gauge("memory", mem_pct, spec.memory, int(MEMORY_TOTAL * mem_pct / 100), MEMORY_TOTAL)
        disk_pct = 61.0 + 0.002 * t
        disks = (DiskUsage("/", disk_pct, level_for(disk_pct, spec.disk), spec.disk[0], spec.disk[1],
                           int(DISK_TOTAL * disk_pct / 100), DISK_TOTAL, "/dev/nvme0n1p1", "ext4"),)
        level, summary = assess(cpu, memory, None, disks)
        per_cpu = tuple(max(0.0, min(100.0, cpu_pct + 6 * math.sin(t + i))) for i in range(CORES))
        storm = cpu_pct > 60
        top = (
            ProcInfo(4121, "payments-api" if storm else "envoy", 210.0 if storm else 18.0, 3 * GIB, 19.0, "app"),
            ProcInfo(4388, "payments-worker", 95.0 if storm else 22.0, int(MEMORY_TOTAL * (mem_pct - 40) / 100),
                     mem_pct - 40, "app"),
            ProcInfo(911, "containerd", 6.0, 180 * 1024 ** 2, 1.1, "root"),
            ProcInfo(733, "kubelet", 4.0, 140 * 1024 ** 2, 0.9, "root"),
        )
        return HostSnapshot(
            level=level, summary=summary, hostname=HOSTNAME, cpu=cpu, per_cpu=per_cpu, cpu_count=CORES,
            load=(CORES * cpu_pct / 100 * 1.1, CORES * cpu_pct / 100 * 0.8, CORES * 0.35), memory=memory,
            swap=None, disks=disks, io=IoRates(2.1e6, 5.4e6, 8.8e6 if storm else 3.1e6, 7.9e6 if storm else 2.6e6),
            top_cpu=top, top_memory=tuple(sorted(top, key=lambda p: -p.rss)),
        )


__all__ = ["SimulatedHost", "Level"]
