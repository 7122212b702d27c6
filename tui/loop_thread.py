"""An asyncio event loop on a thread of its own, for sources whose rounds are CPU-heavy.

A health round over a thousand services is a thousand httpx requests; on the UI's
event loop every one of them delays the next key press (a 1 s freeze measured). On a
loop of its own the work competes with the UI only for the GIL, which Python hands
over every few milliseconds, so the dashboard keeps answering during a round.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any, Coroutine


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._lock = threading.Lock()
        self._stopping = False
        self._waiting: set[concurrent.futures.Future] = set()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run ``coro`` on the loop and wait for its result (from any other thread).

        Raises ``concurrent.futures.CancelledError`` once :meth:`stop` has begun: a poll
        thread must never wait on a loop that has gone.
        """
        with self._lock:
            if self._stopping:
                coro.close()
                raise concurrent.futures.CancelledError("the loop is stopping")
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
            self._waiting.add(future)
        try:
            return future.result(timeout)
        finally:
            with self._lock:
                self._waiting.discard(future)

    def stop(self, close: Coroutine[Any, Any, Any] | None = None, timeout: float = 5.0) -> None:
        """Cancel what is running (a poll waiting on it returns at once), run ``close``, stop."""
        with self._lock:
            already, self._stopping = self._stopping, True    # from here on run() submits nothing
        if already or not self._thread.is_alive():
            if close is not None:
                close.close()
            return

        async def wind_down() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if close is not None:
                await close

        try:
            asyncio.run_coroutine_threadsafe(wind_down(), self.loop).result(timeout)
        except Exception:  # noqa: BLE001 - shutting down: a source that fails to close must not block exit
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        with self._lock:   # anything the wind-down could not reach (it timed out) ends here
            for future in self._waiting:
                future.cancel()
