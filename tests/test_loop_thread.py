"""tui.loop_thread.LoopThread: the health checks' own event loop."""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading

import pytest

from tui.loop_thread import LoopThread


def test_runs_coroutines_on_its_own_thread():
    lt = LoopThread("t-own")
    try:
        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert lt.run(where(), timeout=5) == "t-own"
    finally:
        lt.stop()


def test_stop_cancels_a_waiting_poll_and_runs_close():
    lt = LoopThread("t-stop")
    started, closed = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    async def close() -> None:
        closed.set()

    outcome: list[BaseException] = []

    def poller() -> None:
        try:
            lt.run(forever())
        except BaseException as exc:  # noqa: BLE001 - what the poll ends with is the point
            outcome.append(exc)

    thread = threading.Thread(target=poller)
    thread.start()
    assert started.wait(5)
    lt.stop(close())
    thread.join(5)
    assert not thread.is_alive()                       # the waiting poll came back
    assert outcome and isinstance(outcome[0], concurrent.futures.CancelledError)
    assert closed.is_set()
    assert lt.loop.is_closed()
    lt.stop()                                          # twice is harmless


def test_errors_reach_the_caller():
    lt = LoopThread("t-err")
    try:
        async def boom() -> None:
            raise ValueError("bad round")

        with pytest.raises(ValueError, match="bad round"):
            lt.run(boom(), timeout=5)
    finally:
        lt.stop()


def test_a_poll_that_races_stop_never_hangs():
    # The app can quit between a poll thread starting and it submitting its round.
    lt = LoopThread("t-race")
    lt.stop()

    async def round_() -> None:
        await asyncio.sleep(0)

    with pytest.raises(concurrent.futures.CancelledError):
        lt.run(round_(), timeout=5)


def test_a_poll_submitted_while_the_loop_stops_returns():
    lt = LoopThread("t-late")
    gate = threading.Event()

    async def slow_close() -> None:
        gate.set()
        await asyncio.sleep(0.3)

    stopper = threading.Thread(target=lambda: lt.stop(slow_close()))
    stopper.start()
    assert gate.wait(5)

    async def round_() -> None:
        await asyncio.sleep(0)

    with pytest.raises(concurrent.futures.CancelledError):
        lt.run(round_(), timeout=5)
    stopper.join(5)
    assert not stopper.is_alive()
