"""Shared fixtures: a temporary store and a deterministic incident for screen tests."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest

from tui.incident.model import Kind, Severity
from tui.incident.store import Store

# Every screen test runs at this instant so snapshots are byte-for-byte stable.
FIXED_NOW = datetime(2026, 11, 21, 14, 30, 0, tzinfo=timezone.utc)


def fixed_clock() -> datetime:
    return FIXED_NOW


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "data") as s:
        yield s


def seed_incident(store: Store, *, entries: int = 0):
    """A SEV2 incident 25 minutes old with a realistic little timeline at fixed times."""
    started = FIXED_NOW - timedelta(minutes=25)
    inc = store.declare("Checkout failing: payments API 503s", Severity.SEV2, author="alice",
                        roles={"commander": "alice", "scribe": "bob"}, started_at=started, now=started)
    script = [
        (2, Kind.FINDING, "bob", "payments p99 latency 4.2 s since 14:03; 503s from the gateway"),
        (5, Kind.ACTION, "alice", "Paged the payments on-call (carol)"),
        (7, Kind.NOTE, "bob", "[bold]not markup[/bold] — literal text from the scribe"),
        (9, Kind.DECISION, "alice", "Roll back payments to v2.3.0"),
        (12, Kind.MITIGATION, "carol", "Rollback of payments started"),
        (15, Kind.COMMS, "dave", "Status page updated: degraded checkout"),
        (18, Kind.TODO, "bob", "Check the DB connection pool after the rollback"),
    ]
    for minute, kind, author, text in script:
        store.append(inc.id, kind, text, author=author, source="test", ts=started + timedelta(minutes=minute))
    for i in range(entries):
        store.append(inc.id, Kind.NOTE, f"bulk note {i}", author="bench", source="test",
                     ts=started + timedelta(minutes=19, milliseconds=i))
    return store.incident(inc.id)


# -- PostgreSQL (issue 16): one throwaway cluster per test session, a fresh database per test ----


@pytest.fixture(scope="session")
def pg_server():
    from tests.pg_server import NoPostgres, start_server, stop_server

    try:
        server = start_server()
    except NoPostgres as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    yield server
    stop_server(server)


@pytest.fixture
def pg_url(pg_server):
    """The URL of a new database with warroom's schema, owned by this test."""
    return pg_server.fresh_database()

# The real Prometheus + Alertmanager of the alerts/metrics tests (tests/promservers.py).
from tests.promservers import prom_stack  # noqa: E402,F401 - a fixture
