"""The watchdog that cuts a PostgreSQL socket whose operation hangs (tui/incident/pg_deadline.py):
a real TCP peer that accepts and never answers stands for a black-holed server."""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest

from tui.incident import pg_deadline
from tui.incident.pg_deadline import deadline

pytestmark = pytest.mark.serial  # wall-clock limits: run alone, after the parallel pass (pyproject markers)


@pytest.fixture
def silent_peer():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    yield client
    for s in (client, accepted, server):
        s.close()


def as_conn(sock: socket.socket) -> SimpleNamespace:
    # What the deadline needs of a psycopg connection: its libpq socket's file descriptor.
    return SimpleNamespace(pgconn=SimpleNamespace(socket=sock.fileno()))


def test_a_hanging_read_is_cut_after_its_deadline(silent_peer):
    start = time.monotonic()
    with deadline(as_conn(silent_peer), 0.2):
        got = silent_peer.recv(1)  # no answer ever comes; the cut ends the wait with end-of-file
    took = time.monotonic() - start
    assert got == b""
    assert 0.2 <= took < 0.2 + pg_deadline.CHECK_S + 5  # late by at most a check (and a loaded machine)


def test_a_finished_block_is_never_cut(silent_peer):
    with deadline(as_conn(silent_peer), 0.1):
        pass
    # Proving that nothing happens takes a wait: two of the watchdog's looks (there is no event to await).
    time.sleep(2 * pg_deadline.CHECK_S + 0.1)
    silent_peer.settimeout(0.05)
    with pytest.raises(socket.timeout):  # still open: nothing arrives, but it is not shut
        silent_peer.recv(1)
    silent_peer.sendall(b"x")


def test_no_thread_per_deadline(silent_peer):
    with deadline(as_conn(silent_peer), 5):
        pass
    before = threading.active_count()
    for _ in range(50):
        with deadline(as_conn(silent_peer), 5):
            pass
    assert threading.active_count() == before


def test_with_nothing_armed_the_watchdog_sleeps_until_something_is(silent_peer):
    # An idle dashboard's only deadline is its listener's heartbeat: between two, the watchdog
    # waits on its event instead of looking every CHECK_S for nothing.
    watchdog = pg_deadline._WATCHDOG
    with deadline(as_conn(silent_peer), 5):
        assert watchdog._watching.is_set()
    deadline_at = time.monotonic() + 2 * pg_deadline.CHECK_S + 5
    while watchdog._watching.is_set():      # its next look finds nothing armed: it stops looking
        assert time.monotonic() < deadline_at
        time.sleep(0.01)
    with deadline(as_conn(silent_peer), 0.1):  # and a new deadline still cuts
        assert watchdog._watching.is_set()
        assert silent_peer.recv(1) == b""
