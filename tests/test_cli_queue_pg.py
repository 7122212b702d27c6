"""`warroom log` while the shared server cannot take it (issue 16): the change is queued
(exit 0, "queued"), never refused, and the next warroom process that reaches the server
sends it exactly once. A real PostgreSQL held in recovery (a standby with hot standby off
answers every connection "the database system is not accepting connections", as a server
in the middle of a restart does), then promoted."""
from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from tests.pg_server import NoPostgres, start_server, stop_server
from tui.incident.model import Severity
from tui.incident.pg_url import _connect_fix
from tui.incident.store_pg import PgStore

pytestmark = pytest.mark.slow

UNREACHABLE = "is the server running"


@pytest.mark.parametrize("message", [
    "FATAL: the database system is starting up",
    "FATAL: the database system is shutting down",
    "FATAL: the database system is in recovery mode",
    "FATAL: the database system is not yet accepting connections DETAIL: Consistent recovery state has not been "
    "yet reached.",
    "FATAL: the database system is not accepting connections DETAIL: Hot standby mode is disabled.",
    "consuming input failed: server closed the connection unexpectedly",
    "FATAL: sorry, too many clients already",
])
def test_a_server_restarting_or_full_counts_as_unreachable(message):
    assert _connect_fix(message).startswith(UNREACHABLE)


@pytest.mark.parametrize("message", [
    'FATAL: password authentication failed for user "app"',
    'FATAL: database "nope" does not exist',
    "FATAL: no pg_hba.conf entry for host \"127.0.0.1\", user \"app\", database \"db\", no encryption",
])
def test_a_wrong_setting_is_not_queued_but_said(message):
    assert not _connect_fix(message).startswith(UNREACHABLE)


@pytest.fixture
def standby(tmp_path):
    """A throwaway cluster with warroom's schema and an incident, restarted as a standby in recovery."""
    try:
        server = start_server()
    except NoPostgres as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {exc}")
        pytest.skip(str(exc))
    try:
        url = server.fresh_database()
        with PgStore(url, tmp_path / "setup") as store:
            store.declare("Checkout failing", Severity.SEV2)
        server.stop()
        signal = server.data / "standby.signal"
        signal.touch()
        if server.user:
            import pwd

            entry = pwd.getpwnam(server.user)
            os.chown(signal, entry.pw_uid, entry.pw_gid)
        server.pg_ctl("-l", str(server.root / "server.log"), "-o", server._options() + " -c hot_standby=off", "start")
        yield server, url
    finally:
        stop_server(server)


def test_warroom_log_during_recovery_queues_and_the_next_warroom_sends_it_once(standby, tmp_path):
    server, url = standby
    env = {**os.environ, "WARROOM_DATABASE_URL": url, "WARROOM_DATA_DIR": str(tmp_path / "cli"),
           "WARROOM_AUTHOR": "ann"}

    def warroom(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                              timeout=60)

    logged = warroom("log", "--author", "bob", "failed over payments-db")
    assert logged.returncode == 0, logged.stderr
    assert "note: queued (1 waiting)" in logged.stdout
    assert "***" not in logged.stdout + logged.stderr and "postgres:" not in logged.stdout + logged.stderr
    second = warroom("log", "--incident", "INC-1", "--kind", "action", "drained the queue")
    assert second.returncode == 0 and "queued (2 waiting)" in second.stdout
    status = warroom("status")  # still in recovery: says what waits, and why it cannot read
    assert "queued: append: failed over payments-db" in status.stdout
    assert "queued: append: drained the queue" in status.stdout
    assert status.returncode == 2 and len(status.stderr.strip().splitlines()) == 1
    assert server._run(str(server.bin_dir / "pg_ctl"), "-D", str(server.data), "-w", "promote").returncode == 0
    sent = warroom("status")  # the next warroom that reaches the server sends what waited
    assert sent.returncode == 0, sent.stderr
    assert "queued" not in sent.stdout
    with psycopg.connect(url) as raw:
        rows = raw.execute("SELECT text, author, kind FROM entries WHERE source = 'cli' AND kind <> 'system' "
                           "ORDER BY seq").fetchall()
    assert rows == [("failed over payments-db", "bob", "note"), ("drained the queue", "ann", "action")]
    again = warroom("status")
    assert again.returncode == 0
    with psycopg.connect(url) as raw:
        assert raw.execute("SELECT count(*) FROM entries WHERE source = 'cli' AND kind <> 'system'").fetchone()[0] == 2
