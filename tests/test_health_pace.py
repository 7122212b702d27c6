"""Each service keeps its own pace whatever its neighbours do (issue 17).

A service at interval 1 s beside one that answers in 3 s, through the real dashboard
(its scheduler, the health source as ``warroom`` builds it, in a thread's loop and in
the worker process) against real local HTTP servers: the fast one is checked at its own
interval, a failure is on screen within interval × fail_threshold + timeout + 1 s and a
recovery within interval + 1 s.
"""
from __future__ import annotations

import time

import pytest

from checks.specs import HostSpec, ServiceSpec
from tui.app import WarroomApp
from tui.config import Config
from tui.incident.model import Severity
from tui.sources import build_panes, build_sources

from .servers import LocalHTTPServer

pytestmark = [pytest.mark.timeout(90), pytest.mark.serial]  # serial: wall-clock limits (pyproject markers)

INTERVAL, THRESHOLD, TIMEOUT = 1.0, 2, 1.0
WINDOW_S = 4.0
SLOW_S = 3.0


async def until(pilot, predicate, within: float) -> float | None:
    """Seconds until ``predicate()`` holds, looked at on every turn of the app's loop
    (pilot.pause() returns after the pending messages, a snapshot among them); None if not within."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if predicate():
            return time.monotonic() - start
        await pilot.pause(0.01)
    return None


@pytest.mark.parametrize("process", [False, True], ids=["thread", "worker-process"])
async def test_a_slow_neighbour_does_not_slow_detection(process, store, tmp_path, monkeypatch):
    monkeypatch.setenv("WARROOM_HEALTH_PROCESS_ABOVE", "0" if process else "1000")
    with LocalHTTPServer() as api, LocalHTTPServer() as slow:
        api.route("/healthz", status=200)
        slow.route("/healthz", status=200, delay=SLOW_S)
        config = Config(
            services=(
                ServiceSpec(name="api", url=api.url("/healthz"), interval=INTERVAL,
                            fail_threshold=THRESHOLD, timeout=TIMEOUT),
                ServiceSpec(name="slow", url=slow.url("/healthz"), interval=INTERVAL, timeout=5.0,
                            degraded_ms=10_000),
            ),
            host=HostSpec(interval=5.0),
        )
        incident = store.declare("api pace", Severity.SEV2, author="ic")
        app = WarroomApp(store, incident.id, panes=build_panes(config), config=config, author="ic",
                         sources_later=lambda: build_sources(config, incident=incident, cwd=tmp_path))
        async with app.run_test(size=(160, 48)) as pilot:
            screen = app.screen

            def api_state() -> str | None:
                snap = screen._snapshots.get("health")
                if snap is None:
                    return None
                return next(str(s.state) for s in snap.services if s.name == "api")

            assert await until(pilot, lambda: api_state() == "UP", 15) is not None
            # The measured window: api is asked once a second although slow takes 3 s.
            before = api.hits["/healthz"]
            await pilot.pause(WINDOW_S)
            checks = api.hits["/healthz"] - before
            assert checks >= WINDOW_S / INTERVAL - 1, f"api checked {checks} times in {WINDOW_S} s"

            port = api.port
            api.close()                                   # api stops: connections refused
            took = await until(pilot, lambda: api_state() == "DOWN", 20)
            budget = INTERVAL * THRESHOLD + TIMEOUT + 1
            assert took is not None and took <= budget, f"DOWN after {took} s (budget {budget} s)"

            back = LocalHTTPServer(port=port)
            back.route("/healthz", status=200)
            with back:
                took = await until(pilot, lambda: api_state() == "UP", 20)
                assert took is not None and took <= INTERVAL + 1, f"UP after {took} s (budget {INTERVAL + 1} s)"
            assert slow.hits["/healthz"] >= 2                # and the slow one is still being checked
