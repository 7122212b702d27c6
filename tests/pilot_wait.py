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


def screen_ready(app: Any, screen_type: type) -> bool:
    """The app shows a ``screen_type`` whose mount has run: its widgets exist and its input has
    focus, so a query or a key press reaches it (an ``isinstance`` alone can see it mid-compose)."""
    return isinstance(app.screen, screen_type) and bool(app.screen.is_mounted)
