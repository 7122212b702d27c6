"""tui.scheduler: what happens when the app quits before the sources were started."""
from __future__ import annotations

from tui.scheduler import LiveSource, Scheduler


class _Node:
    """Records what the scheduler asks of the screen (nothing, here, is the point)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def run_worker(self, *args, **kwargs) -> None:
        self.calls.append("run_worker")

    def set_timer(self, *args, **kwargs) -> None:
        self.calls.append("set_timer")

    def post_message(self, message) -> bool:
        self.calls.append("post_message")
        return True


async def test_start_after_stop_starts_nothing():
    # The sources start after the first frame; a quit (SIGHUP, Ctrl-Q) can come first.
    started: list[str] = []
    closed: list[str] = []
    source = LiveSource("pods", poll=lambda: None, interval=1.0, changes=lambda a, b: [],
                        error_snapshot=lambda why: why, start=lambda: started.append("pods"),
                        close=lambda: closed.append("pods"))
    node = _Node()
    scheduler = Scheduler(node, [source])
    await scheduler.stop()
    scheduler.start()
    assert closed == ["pods"] and started == [] and node.calls == []


async def test_start_runs_each_source_once():
    started: list[str] = []
    source = LiveSource("pods", poll=lambda: None, interval=1.0, changes=lambda a, b: [],
                        error_snapshot=lambda why: why, start=lambda: started.append("pods"))
    node = _Node()
    Scheduler(node, [source]).start()
    assert started == ["pods"] and node.calls == ["run_worker"]
