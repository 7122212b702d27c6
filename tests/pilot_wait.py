"""Awaiting a condition on a running app under Pilot: bounded, never a fixed sleep."""
from __future__ import annotations

import time
from typing import Any, Callable


async def wait_for(pilot: Any, predicate: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Pause the pilot ``step`` at a time until ``predicate()`` holds, at most ``timeout`` seconds
    of wall time (a loaded machine makes pauses longer); returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(step)
    return bool(predicate())
