"""Memory stays flat over a long, accelerated demo run (after glances' test_memoryleak.py).

The demo runs headless at high speed through its whole scenario (entries, pod
crashes, a rollback commit, recovery), then keeps polling every source for a
while. tracemalloc compares what is alive after a warm-up with what is alive after
several more seconds of polling: a dashboard left open through a long incident
must not grow with every poll. The bounded histories (health latency per service,
damper state per key) are checked directly as well.
"""
from __future__ import annotations

import gc
import linecache
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest

from checks.health import HealthChecker
from tui.demo import build_app
from tui.demo.scenario import Demo
from tui.detector import Damper
from tui.messages import SnapshotReady

from .pilot_wait import wait_for as _wait_for

pytestmark = pytest.mark.timeout(120)

SPEED = 30                  # the 115 s scenario in under 4 s
WARM_UP_S = 1.0             # pools, connections and lazily built state settle after the scenario
MEASURE_S = 10.0            # the polling that is measured
# What the window can tell, measured on this loaded 2-core machine: ~10 health rounds
# and ~15 pod renders (tracemalloc slows the app down a lot), total growth 0.1-0.65 MiB
# of noise (rendering caches settling, sockets, asyncio), at most ~35 KiB of it in our
# own modules. So: the total bound catches a leak of ~150 KiB/s or more (a copy of the
# screen per repaint, an unbounded render cache); the bound on our own modules
# (checks/, tui/, widgets/) catches ~25 KiB or more kept per poll round (a pods table
# or an entry list per poll). Smaller leaks need a longer run than a unit test affords.
GROWTH_BOUND = 2 * 1024 * 1024
OWN_GROWTH_BOUND = 256 * 1024
OWN_CODE = tuple(str(Path(__file__).resolve().parent.parent / d) + "/" for d in ("checks", "tui", "widgets"))
DAMPER_KEY_BOUND = 64       # distinct things that can change in the demo: services, pods, deploys, host gauges
DAMPER_STATES_PER_KEY = 8   # normalised states one key can take (UP/DOWN/DEGRADED/..., restart, FLAPPING)


async def run_for(pilot, seconds: float, step: float = 0.25) -> None:
    """Let the app poll for ``seconds`` of wall time (bounded loop, no event to wait for)."""
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds / step) + 1):
        if time.monotonic() >= deadline:
            return
        await pilot.pause(step)



def wait_for(pilot, predicate, timeout: float = 60.0, step: float = 0.1):
    """tests/pilot_wait.py's, with this file's longer bound."""
    return _wait_for(pilot, predicate, timeout=timeout, step=step)


def alive_bytes(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    # Not the app's memory: tracemalloc's own bookkeeping, and linecache, which loads a
    # source file once when anything (a demo server logging a dropped client) formats
    # a traceback.
    return snapshot.filter_traces((tracemalloc.Filter(False, tracemalloc.__file__),
                                   tracemalloc.Filter(False, linecache.__file__)))


async def test_memory_is_flat_over_a_long_demo_run():
    demo = Demo(speed=SPEED).start()
    delivered: Counter[str] = Counter()

    def count_snapshots(message) -> None:
        if isinstance(message, SnapshotReady):
            delivered[message.source] += 1

    try:
        app = build_app(demo, author="tester")
        async with app.run_test(size=(120, 36), message_hook=count_snapshots) as pilot:
            screen = app.screen
            started = time.monotonic()
            assert await wait_for(pilot, demo.scenario.done.is_set), "the scenario never finished"
            scenario_s = time.monotonic() - started
            assert not demo.scenario.errors
            await run_for(pilot, WARM_UP_S)

            tracemalloc.start()
            try:
                # Repaint everything once under tracing. Otherwise every untraced cached
                # strip that a later repaint replaces would count as new memory (Textual's
                # bounded caches turning over, not growing): +3 MiB of pure artefact.
                await pilot.resize_terminal(126, 38)
                await pilot.pause(0.5)
                gc.collect()
                before = alive_bytes(tracemalloc.take_snapshot())
                polls_before = Counter(delivered)
                await run_for(pilot, MEASURE_S)
                gc.collect()
                after = alive_bytes(tracemalloc.take_snapshot())
            finally:
                tracemalloc.stop()
            polls = delivered - polls_before

            # -- the bounded histories, read while the app is still up --
            health_source = next(s for s in app.sources if s.name == "health")
            checker: HealthChecker = health_source.origin
            history_len = {t.spec.name: (len(t.history), t.history.maxlen) for t in checker._tracks}
            shown_history = {s.name: len(s.history) for s in screen._snapshots["health"].services}
            damper: Damper = screen.router.damper
            damper_keys = {key: (len(st.changes), st.changes.maxlen, len(st.last_emitted))
                           for key, st in damper._keys.items()}

        stats = after.compare_to(before, "filename")
        growth = sum(stat.size_diff for stat in stats)
        own = [stat for stat in stats if stat.traceback[0].filename.startswith(OWN_CODE)]
        own_growth = sum(stat.size_diff for stat in own)
        print(f"\nscenario (115 s at x{SPEED}) took {scenario_s:.1f} s; measured {MEASURE_S:.0f} s of polling: "
              f"{dict(polls)}")
        print(f"memory growth over the measured window: {growth / 1024:.1f} KiB "
              f"(bound {GROWTH_BOUND / 1024:.0f} KiB)")
        for stat in stats[:5]:
            print(f"  {stat.size_diff / 1024:+8.1f} KiB  {stat.count_diff:+6d} blocks  {stat.traceback}")
        print(f"of which our own modules: {own_growth / 1024:.1f} KiB (bound {OWN_GROWTH_BOUND / 1024:.0f} KiB)")
        for stat in own[:3]:
            print(f"  {stat.size_diff / 1024:+8.1f} KiB  {stat.count_diff:+6d} blocks  {stat.traceback}")
        print(f"health history per service (len, cap): {history_len}")
        print(f"damper: {len(damper_keys)} keys; (changes, cap, states) per key: {damper_keys}")
    finally:
        demo.stop()

    # The window really was polling, not idling (slowly: tracemalloc costs the app a lot of CPU).
    assert all(polls[name] >= 2 for name in ("health", "pods", "host", "deploys")), dict(polls)
    assert growth < GROWTH_BOUND, f"memory grew by {growth / 1024:.0f} KiB over {MEASURE_S:.0f} s of polling"
    assert own_growth < OWN_GROWTH_BOUND, f"our modules grew by {own_growth / 1024:.0f} KiB"

    # Latency history: never longer than its cap, in the checker and in what the pane gets.
    assert history_len and all(n <= cap for n, cap in history_len.values()), history_len
    assert all(shown_history[name] <= cap for name, (_, cap) in history_len.items()), shown_history

    # Damper state per key: a capped ring of changes, a handful of states.
    assert 0 < len(damper_keys) <= DAMPER_KEY_BOUND, damper_keys
    for key, (changes, cap, states) in damper_keys.items():
        assert changes <= cap, key
        assert states <= DAMPER_STATES_PER_KEY, key
