"""Host metrics: real psutil (structure and ranges), thresholds on handmade numbers,
``changes()``, and the pane rendered in a tiny app."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from textual.app import App, ComposeResult

import checks.host as host_mod
from checks.base import Level
from checks.host import (
    DiskUsage,
    HostSnapshot,
    HostSource,
    IoRates,
    ProcInfo,
    _rate,
    assess,
    changes,
    format_bytes,
    gauge,
    level_for,
    pick_disks,
)
from checks.specs import HostSpec
from widgets.host import HostPane

LOW = HostSpec(cpu=(0, 0.0), memory=(0, 0.0), disk=(0, 0.0), swap=(0, 0.0))
HIGH = HostSpec(cpu=(101, 102), memory=(101, 102), disk=(101, 102), swap=(101, 102))


def disk(mount: str, pct: float, warn: float = 85, crit: float = 95, total: int = 100 * 2**30) -> DiskUsage:
    return DiskUsage(mount, pct, level_for(pct, (warn, crit)), warn, crit, int(total * pct / 100), total, "/dev/x", "ext4")


def snap(cpu: float = 10, mem: float = 40, disks: tuple[tuple[str, float], ...] = (("/", 50),),
         swap: float | None = 0.0, error: str | None = None, **kw) -> HostSnapshot:
    c = gauge("cpu", cpu, (85, 95))
    m = gauge("memory", mem, (85, 95), used=int(mem * 2**30 / 10), total=10 * 2**30)
    s = gauge("swap", swap, (50, 80), used=0, total=2**30) if swap is not None else None
    d = tuple(disk(mount, pct) for mount, pct in disks)
    level, summary = assess(c, m, s, d)
    fields = dict(level=level, summary=summary, hostname="web-1", cpu=c, per_cpu=(cpu, cpu / 2), cpu_count=2,
                  load=(0.5, 0.4, 0.3), memory=m, swap=s, disks=d,
                  io=IoRates(1024.0, 2048.0, 3 * 2**20, 100.0),
                  top_cpu=(ProcInfo(1, "postgres", 55.0, 2**30, 10.0, "pg"), ProcInfo(2, "python", 12.0, 2**20, 0.1, "app")),
                  top_memory=(ProcInfo(3, "java", 1.0, 3 * 2**30, 30.0, "app"), ProcInfo(1, "postgres", 55.0, 2**30, 10.0, "pg")))
    fields.update(kw)
    if error:
        return HostSnapshot(level=Level.UNKNOWN, summary="", error=error, hostname="web-1")
    return HostSnapshot(**fields)


# ---------------------------------------------------------------- real psutil

@pytest.fixture(scope="module")
def source():
    src = HostSource(HostSpec(top_processes=5, top_interval=0))
    yield src
    src.close()


def test_poll_structure_and_ranges(source):
    s = source.poll()
    assert s.error is None
    assert isinstance(s.hostname, str) and s.hostname
    assert s.cpu is not None and 0.0 <= s.cpu.percent <= 100.0
    assert s.cpu_count >= 1 and len(s.per_cpu) == s.cpu_count
    assert all(0.0 <= p <= 100.0 for p in s.per_cpu)
    assert s.memory is not None and 0.0 <= s.memory.percent <= 100.0
    assert 0 < s.memory.used <= s.memory.total
    if s.swap is not None:
        assert 0.0 <= s.swap.percent <= 100.0 and s.swap.total > 0
    if s.load is not None:
        assert len(s.load) == 3 and all(x >= 0 for x in s.load)
    mounts = [d.mountpoint for d in s.disks]
    assert mounts[0] == "/", "root is always first"
    assert len(set(mounts)) == len(mounts)
    for d in s.disks:
        assert 0.0 <= d.percent <= 100.0 and d.total > 0 and d.fstype not in ("tmpfs", "proc", "sysfs")
    for rate in (s.io.disk_read, s.io.disk_write, s.io.net_recv, s.io.net_sent):
        assert rate is None or rate >= 0
    assert 1 <= len(s.top_cpu) <= 5 and 1 <= len(s.top_memory) <= 5
    cpus = [p.cpu_percent for p in s.top_cpu]
    assert cpus == sorted(cpus, reverse=True)
    rss = [p.rss for p in s.top_memory]
    assert rss == sorted(rss, reverse=True)
    assert all(p.name and p.pid > 0 and 0 <= p.memory_percent <= 100 for p in s.top_memory)
    assert s.level in (Level.OK, Level.WARN, Level.CRIT)
    assert s.summary


def test_second_poll_has_rates_and_process_cpu(source):
    source.poll()
    me = os.getpid()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # burn CPU so our own process has a share
        sum(range(1000))
    src = source
    spec_all = HostSpec(top_processes=10_000, top_interval=0)
    src.spec = spec_all
    try:
        s = src.poll()
    finally:
        src.spec = HostSpec(top_processes=5, top_interval=0)
    assert s.io.disk_read is None or s.io.disk_read >= 0
    assert s.io.net_recv is not None and s.io.net_recv >= 0
    mine = [p for p in s.top_cpu if p.pid == me]
    assert mine and mine[0].cpu_percent > 0, "cpu_percent is measured between polls, not from zero"


def test_top_processes_are_scanned_every_top_interval_not_every_poll():
    now = [100.0]
    src = HostSource(HostSpec(top_processes=3, top_interval=3.0), clock=lambda: now[0])
    scans = []
    real_scan = src._top_processes
    src._top_processes = lambda mem_total: scans.append(now[0]) or real_scan(mem_total)
    first = src.poll()
    now[0] += 1.0
    second = src.poll()
    now[0] += 1.0
    src.poll()
    assert scans == [100.0]
    assert second.top_cpu == first.top_cpu and first.top_cpu, "between scans the last list is shown"
    now[0] += 1.0
    src.poll()
    assert scans == [100.0, 103.0]
    src.spec = HostSpec(top_processes=5, top_interval=3.0)   # a changed count does not wait
    src.poll()
    assert scans == [100.0, 103.0, 103.0]


def test_dead_processes_are_forgotten():
    src = HostSource(HostSpec(top_processes=3, top_interval=0))
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        src.poll()
        assert child.pid in src._procs
    finally:
        child.kill()
        child.wait()
    src.poll()
    assert child.pid not in src._procs


def test_low_thresholds_make_everything_critical():
    src = HostSource(LOW)
    for _ in range(3):   # CPU must hold its level for CPU_SUSTAIN_POLLS polls after the first
        src.poll()
    s = src.poll()
    assert s.level == Level.CRIT
    assert s.cpu.level == s.memory.level == Level.CRIT
    assert all(d.level == Level.CRIT for d in s.disks)
    assert "disk / " in s.summary and "CRIT" in s.summary
    keys = {e.key for e in changes(None, s)}
    # On first sight a full disk is news; CPU, a rate over the dashboard's own start-up, is not.
    assert {"host:memory", "host:disk:/"} <= keys and "host:cpu" not in keys
    quiet = HostSource(HIGH).poll()
    assert "host:cpu" in {e.key for e in changes(quiet, s)}


def test_the_first_cpu_sample_is_not_a_state_change():
    # LOW makes any CPU figure critical: the first sample still reads OK, and only
    # CPU_SUSTAIN_POLLS more samples make it critical (no "cpu at 100 %" at start-up).
    src = HostSource(LOW)
    levels = [src.poll().cpu.level for _ in range(4)]
    assert levels == [Level.OK, Level.OK, Level.OK, Level.CRIT]
    assert [e.key for e in changes(None, HostSource(LOW).poll())].count("host:cpu") == 0


def test_high_thresholds_are_ok_and_summarised():
    s = HostSource(HIGH).poll()
    assert s.level == Level.OK
    assert s.summary.startswith("cpu ") and " · mem " in s.summary and " · disk " in s.summary


def test_poll_never_raises(monkeypatch):
    src = HostSource()

    def boom():
        raise RuntimeError("proc is gone")

    monkeypatch.setattr(host_mod.psutil, "virtual_memory", boom)
    s = src.poll()
    assert s.error == "host metrics failed: proc is gone"
    assert s.level == Level.UNKNOWN


# ---------------------------------------------------------------- pure logic

@pytest.mark.parametrize("pct,level", [(0, Level.OK), (84.9, Level.OK), (85, Level.WARN),
                                       (94.99, Level.WARN), (95, Level.CRIT), (100, Level.CRIT)])
def test_level_for_boundaries(pct, level):
    assert level_for(pct, (85, 95)) == level


def test_level_for_zero_thresholds_is_always_critical():
    assert level_for(0.0, (0, 0.0)) == Level.CRIT


def test_assess_lists_breaches_worst_first():
    c, m = gauge("cpu", 12, (85, 95)), gauge("memory", 88, (85, 95))
    level, summary = assess(c, m, None, [disk("/", 96), disk("/data", 50)])
    assert level == Level.CRIT
    assert summary == "disk / 96% CRIT · mem 88% WARN"


def test_assess_all_ok_shows_fullest_disk():
    level, summary = assess(gauge("cpu", 12.4, (85, 95)), gauge("memory", 40, (85, 95)), None,
                            [disk("/", 20), disk("/data", 71)])
    assert (level, summary) == (Level.OK, "cpu 12% · mem 40% · disk 71%")


def test_assess_nothing_known():
    assert assess(None, None, None, []) == (Level.UNKNOWN, "no host metrics")


def test_pick_disks_keeps_real_mounts_and_root():
    parts = [
        ("overlay", "/", "overlay"),                 # container root: kept anyway
        ("tmpfs", "/dev/shm", "tmpfs"),
        ("/dev/loop3", "/snap/core/123", "squashfs"),
        ("/dev/sda2", "/home", "ext4"),
        ("/dev/sda1", "/boot", "ext4"),
        ("/dev/sda2", "/home/bind/deeper", "ext4"),   # same device: shortest path wins
        ("srv:/export", "/mnt/nfs", "nfs4"),          # network: never statvfs'd
        ("cgroup2", "/sys/fs/cgroup", "cgroup2"),
        ("/dev/nvme0n1p1", "/data", "xfs"),
        ("/dev/sdb1", "/proc/weird", "ext4"),
    ]
    assert [m for _, m, _ in pick_disks(parts)] == ["/", "/boot", "/data", "/home"]


def test_rate_and_bytes():
    assert _rate(None, 10.0, 1.0) is None
    assert _rate(100.0, 50.0, 1.0) is None       # counter went backwards
    assert _rate(100.0, 300.0, 2.0) == 100.0
    assert format_bytes(None) == "—"
    assert format_bytes(512) == "512B"
    assert format_bytes(1536) == "1.5K"
    assert format_bytes(34 * 2**20) == "34M"
    assert format_bytes(1.8 * 2**40) == "1.8T"


# ---------------------------------------------------------------- changes()

def test_changes_first_sight_reports_only_breaches():
    assert changes(None, snap()) == []
    events = changes(None, snap(disks=(("/", 96), ("/data", 20))))
    assert [(e.key, e.state, e.text, e.level) for e in events] == [
        ("host:disk:/", "CRIT", "disk / at 96% (critical ≥ 95%)", Level.CRIT)]


def test_changes_crossed_escalated_and_cleared():
    a = snap(mem=50, disks=(("/", 80),))
    b = snap(mem=90, disks=(("/", 96),))
    c = snap(mem=97, disks=(("/", 96),))
    d = snap(mem=50, disks=(("/", 80),))
    assert [(e.key, e.state, e.text) for e in changes(a, b)] == [
        ("host:memory", "WARN", "memory at 90% (warning ≥ 85%)"),
        ("host:disk:/", "CRIT", "disk / at 96% (critical ≥ 95%)")]
    assert [(e.key, e.state) for e in changes(b, c)] == [("host:memory", "CRIT")]
    assert changes(c, c) == []
    cleared = changes(c, d)
    assert [(e.key, e.state, e.text, e.level) for e in cleared] == [
        ("host:memory", "OK", "memory back to 50%", Level.OK),
        ("host:disk:/", "OK", "disk / back to 80%", Level.OK)]


def test_changes_ignores_failed_polls():
    bad = snap(cpu=99)
    assert changes(bad, snap(error="host metrics failed: x")) == []
    # After a failed poll, a still-high metric is not re-announced as new... it is compared to OK.
    assert [e.key for e in changes(snap(error="x"), bad)] == ["host:cpu"]


# ---------------------------------------------------------------- the pane

class HostApp(App):
    def __init__(self, snapshot: HostSnapshot | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot

    def compose(self) -> ComposeResult:
        yield HostPane()


def visible(pane: HostPane) -> list[str]:
    return [t.plain for t in pane.build_lines(pane.size.width, pane.size.height)]


async def test_pane_fits_50x14_with_every_section():
    app = HostApp()
    async with app.run_test(size=(50, 14)) as pilot:
        pane = app.query_one(HostPane)
        pane.show(snap())
        await pilot.pause()
        lines = visible(pane)
        assert len(lines) <= pane.size.height
        heads = [ln.split()[0] for ln in lines]
        for label in ("cpu", "load", "mem", "swap", "/", "io", "top"):
            assert label in heads, (label, lines)
        assert any("postgres" in ln and "55%" in ln and "java" in ln and "3.0G" in ln for ln in lines)
        assert any("net ↓3.0M" in ln for ln in lines)
        assert pane.has_class("-ok")
        assert pane.border_title == "host web-1"
        assert pane.border_subtitle == "within thresholds"
        assert [pane.render_line(y).text.rstrip() for y in range(len(lines))] == [ln.rstrip() for ln in lines]


async def test_a_new_sample_repaints_only_the_lines_that_changed(monkeypatch):
    painted: list[int] = []
    original = HostPane.render_line

    def counting(self, y):
        painted.append(y)
        return original(self, y)

    monkeypatch.setattr(HostPane, "render_line", counting)
    app = HostApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(HostPane)
        pane.show(snap(load=(0.5, 0.4, 0.3)))
        await pilot.pause()
        painted.clear()
        pane.show(snap(load=(7.25, 0.4, 0.3)))     # only the load line differs
        await pilot.pause()
        lines = visible(pane)
        load_y = next(y for y, ln in enumerate(lines) if ln.startswith("load"))
        assert painted == [load_y]
        assert "7.25" in pane.render_line(load_y).text
        painted.clear()
        pane.show(snap(cpu=30, load=(7.25, 0.4, 0.3)))   # busier, still OK: the gauge line only
        await pilot.pause()
        assert painted and load_y not in painted
        assert "30%" in pane.render_line(painted[0]).text
        painted.clear()
        pane.show(snap(cpu=97, load=(7.25, 0.4, 0.3)))   # critical: the pane's border and class change too
        await pilot.pause()
        assert pane.has_class("-crit") and set(range(len(visible(pane)))) <= set(painted)


async def test_pane_degrades_when_small():
    app = HostApp()
    async with app.run_test(size=(30, 7)) as pilot:
        pane = app.query_one(HostPane)
        pane.show(snap(disks=(("/", 50), ("/data", 97))))
        await pilot.pause()
        lines = visible(pane)
        assert len(lines) == pane.size.height
        heads = [ln.split()[0] for ln in lines]
        # CPU, memory and the disks (the full one above all) outrank load, io and processes.
        assert heads == ["cpu", "mem", "swap", "/", "/data"], lines
        assert all(len(ln) <= pane.size.width for ln in lines)


async def test_pane_levels_and_error_keep_last_rows():
    app = HostApp()
    async with app.run_test(size=(50, 14)) as pilot:
        pane = app.query_one(HostPane)
        pane.show(snap(disks=(("/", 97),)))
        await pilot.pause()
        assert pane.has_class("-crit") and not pane.has_class("-ok")
        assert pane.border_subtitle == "disk / 97% CRIT"
        disk_line = pane.build_lines(48, 12)[4]
        assert disk_line.plain.startswith("/")
        crit = pane.get_component_rich_style("host-pane--crit", partial=True)
        assert any(span.style == crit for span in disk_line.spans), "the bar and figure use the level's colour"

        pane.show(snap(error="host metrics failed: boom"))
        await pilot.pause()
        lines = visible(pane)
        assert lines[0] == "⚠ host metrics failed: boom"
        assert any(ln.startswith("cpu") for ln in lines), "last good rows stay visible"
        assert pane.has_class("-error") and not pane.has_class("-crit")
        assert pane.border_subtitle == "host metrics failed: boom"


async def test_pane_process_names_are_not_markup():
    app = HostApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(HostPane)
        evil = (ProcInfo(9, "[bold red]x[/]", 5.0, 2**20, 0.1, "u"),)
        pane.show(snap(top_cpu=evil, top_memory=evil))
        await pilot.pause()
        assert any("[bold red]x[/]" in ln for ln in visible(pane))


async def test_pane_before_first_sample_and_real_snapshot():
    app = HostApp()
    async with app.run_test(size=(50, 14)) as pilot:
        pane = app.query_one(HostPane)
        await pilot.pause()
        assert visible(pane) == ["waiting for the first sample…"]
        pane.show(HostSource().poll())
        await pilot.pause()
        assert visible(pane)[0].startswith("cpu")


def test_cpu_level_needs_to_be_held_for_several_polls():
    """One busy second must not write 'cpu at 100%' into the timeline; three in a row do."""
    from checks.host import CPU_SUSTAIN_POLLS

    src = HostSource(HostSpec(cpu=(0.0, 0.0)))   # every reading is "critical" by these thresholds
    src.poll()                                    # the first sample (start-up) never counts
    levels = [src.poll().cpu.level for _ in range(CPU_SUSTAIN_POLLS)]
    assert levels[: CPU_SUSTAIN_POLLS - 1] == [Level.OK] * (CPU_SUSTAIN_POLLS - 1)
    assert levels[-1] == Level.CRIT


def test_a_cpu_sample_too_short_to_mean_anything_keeps_the_last_figure():
    # psutil.cpu_percent(interval=None) has one baseline per process: another caller in
    # between made the next figure span milliseconds (0 % or 100 %, "cpu back to 0 %").
    # The source measures its own deltas, and a span under MIN_CPU_SPAN_S is no new figure.
    import psutil

    src = HostSource()
    first = src.poll()
    psutil.cpu_percent(interval=None)        # someone else samples in between
    second = src.poll()                       # milliseconds later
    assert second.cpu.percent == first.cpu.percent
    assert second.per_cpu == first.per_cpu and len(first.per_cpu) == (psutil.cpu_count() or len(first.per_cpu))
    assert 0.0 <= first.cpu.percent <= 100.0
