"""Deadlines on PostgreSQL connections: cut a socket whose operation hangs (a black hole).

A black-holed network (packets dropped, no RST) leaves a query waiting for an answer
that never comes; TCP keepalive only probes idle sockets. Shutting the socket down makes
the waiting call fail at once (psycopg raises OperationalError).

One watchdog thread serves every deadline of the process. It used to be a
``threading.Timer`` per operation: starting a thread waits for it to be scheduled, which
on a loaded machine took up to 4 ms (p99) on every read and write, on the event loop's
path from a key (or another machine's notification) to the screen. Arming a deadline
is now a dict insert; the watchdog looks every ``CHECK_S``, so a deadline fires up to
that much late, which the timeouts (4 s and more) allow for.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

CHECK_S = 0.5


class _Watchdog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[int, tuple[float, Callable[[], None]]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None
        # Set while anything is armed: with nothing to watch the thread sleeps until something is
        # (an idle dashboard's only deadline is its listener's heartbeat, every 3 s), rather than
        # waking every CHECK_S for nothing.
        self._watching = threading.Event()

    def arm(self, seconds: float, cut: Callable[[], None]) -> int:
        with self._lock:
            self._next += 1
            self._armed[self._next] = (time.monotonic() + seconds, cut)
            self._watching.set()
            if self._thread is None:  # started on first use: a SQLite-only process never has it
                self._thread = threading.Thread(target=self._run, name="warroom-pg-deadlines", daemon=True)
                self._thread.start()
            return self._next

    def disarm(self, token: int) -> None:
        with self._lock:
            self._armed.pop(token, None)

    def _run(self) -> None:
        while True:
            self._watching.wait()
            time.sleep(CHECK_S)
            now = time.monotonic()
            with self._lock:
                due = [token for token, (when, _) in self._armed.items() if when <= now]
                cuts = [self._armed.pop(token)[1] for token in due]
                if not self._armed:
                    self._watching.clear()
            for cut in cuts:
                cut()


_WATCHDOG = _Watchdog()


def _shutdown_socket(conn: Any) -> None:
    try:
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception:  # already closed: nothing left to cut
        pass


@contextmanager
def deadline(conn: Any, seconds: float) -> Iterator[None]:
    """Cut ``conn``'s socket if the block takes longer than ``seconds`` (plus up to CHECK_S)."""
    token = _WATCHDOG.arm(seconds, lambda: _shutdown_socket(conn))
    try:
        yield
    finally:
        _WATCHDOG.disarm(token)
