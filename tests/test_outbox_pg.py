"""Nothing typed is lost (issue 16): with the server unreachable, changes wait in the local
outbox and are sent in order, exactly once. The network is cut by a TCP proxy in the test
(tests/tcp_proxy.py) in front of a real PostgreSQL; the counts are read from the server."""
from __future__ import annotations

import time

import psycopg
import pytest

from tests.tcp_proxy import TcpProxy
from tui.app import WarroomApp
from tui.cli import main
from tui.incident.model import Kind, Severity
from tui.incident.outbox import Queued, decode, encode
from tui.incident.store_pg import PgStore
from widgets.incident_header import IncidentHeader
from widgets.timeline import TimelineView

from .conftest import fixed_clock


@pytest.fixture
def proxy(pg_server):
    with TcpProxy(pg_server.port) as p:
        yield p


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def server_texts(url: str) -> list[str]:
    with psycopg.connect(url) as raw:
        return [r[0] for r in raw.execute("SELECT text FROM entries ORDER BY seq")]


def test_encode_round_trips_the_arguments():
    from datetime import datetime, timezone

    from tui.incident.model import Phase, Status

    value = (1, Kind.NOTE, "t", {"ts": datetime(2026, 1, 2, tzinfo=timezone.utc), "cadence": {Severity.SEV1: 15}},
             [Phase.TRIAGE, Status.RESOLVED, None, 2.5])
    assert decode(encode(value)) == (1, Kind.NOTE, "t", {"ts": value[3]["ts"], "cadence": {Severity.SEV1: 15}},
                                     (Phase.TRIAGE, Status.RESOLVED, None, 2.5))


def test_changes_made_offline_are_sent_in_order_exactly_once(pg_url, proxy, tmp_path):
    with PgStore(proxy.url(pg_url), tmp_path) as store:
        inc = store.declare("x", Severity.SEV2, author="alice")
        proxy.refuse()
        assert wait_for(lambda: store.offline)
        made = [store.append(inc.id, Kind.NOTE, f"offline {i}", author="bob") for i in range(3)]
        assert all(isinstance(m, Queued) for m in made) and [m.queued for m in made] == [1, 2, 3]
        severity = store.set_severity(inc.id, Severity.SEV1, author="alice")
        assert isinstance(severity, Queued) and store.queued() == 4
        assert (tmp_path / "outbox.db").exists()
        assert store.connection_label()[0].endswith("4 QUEUED")
        proxy.up()
        assert wait_for(lambda: store.queued() == 0)
        assert store.incident(inc.id).severity is Severity.SEV1
    texts = server_texts(pg_url)
    assert texts[1:4] == ["offline 0", "offline 1", "offline 2"] and texts[4].startswith("Severity raised to SEV1")
    assert len(texts) == 5


def test_a_change_committed_before_an_ambiguous_failure_is_not_sent_twice(pg_url, tmp_path):
    # The commit reached the server but its answer did not reach us: the change was queued
    # with the same client id. Sending it again must be refused by the server, and dropped.
    import uuid

    with PgStore(pg_url, tmp_path) as store:
        inc = store.declare("x", Severity.SEV2)
        client_id = uuid.uuid4()
        args, kwargs = (inc.id, Kind.ACTION, "failed over payments-db"), {"author": "bob"}
        store._send("append", client_id, args, kwargs)        # committed…
        store.outbox.put(client_id, "append", args, kwargs)    # …and queued, as after a lost answer
        assert store.flush() == 1 and store.queued() == 0
    assert server_texts(pg_url).count("failed over payments-db") == 1
    with psycopg.connect(pg_url) as raw:
        with pytest.raises(psycopg.errors.UniqueViolation):
            raw.execute("INSERT INTO entries (seq, incident_id, entry_id, rev, ts_ms, kind, author, text, source, "
                        "client_id) VALUES (999, 1, 999, 1, 0, 'note', '', 'x', 't', %s)", (client_id,))


def test_warroom_log_queues_and_the_next_warroom_sends_it(pg_url, proxy, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WARROOM_DATABASE_URL", proxy.url(pg_url))
    monkeypatch.chdir(tmp_path)
    with PgStore(pg_url, tmp_path) as store:
        store.declare("Checkout failing", Severity.SEV2)
    proxy.refuse()
    assert main(["log", "--kind", "action", "--author", "bob", "restarted \x1b[31mdb"]) == 0
    out = capsys.readouterr().out
    assert "action: queued (1 waiting)" in out and "the server cannot be reached" in out
    assert main(["status"]) == 2
    captured = capsys.readouterr()
    assert "queued: append: restarted ␛[31mdb" in captured.out and "\x1b" not in captured.out  # shown, not obeyed
    assert "cannot connect" in captured.err
    proxy.up()
    assert main(["status"]) == 0  # reaches the server: sends what waited, then reports
    out = capsys.readouterr().out
    assert "restarted" in out and "queued" not in out
    assert main(["status"]) == 0
    capsys.readouterr()
    assert server_texts(pg_url).count("restarted \x1b[31mdb") == 1


async def test_the_dashboard_queues_while_offline_and_flushes_when_back(pg_url, proxy, tmp_path):
    with PgStore(proxy.url(pg_url), tmp_path) as store:
        inc = store.declare("x", Severity.SEV3)
        app = WarroomApp(store, inc.id, author="scribe", clock=fixed_clock)
        async with app.run_test(size=(120, 40)) as pilot:
            header = app.screen.query_one(IncidentHeader)
            proxy.refuse()
            deadline = time.monotonic() + 30
            while not (header.connection and header.connection[0].startswith("RECONNECTING")):
                assert time.monotonic() < deadline, header.connection
                await pilot.pause(0.02)
            await pilot.press("n", *"typed while offline", "enter")
            await pilot.pause()
            assert store.queued() == 1 and "1 QUEUED" in header.render().plain
            view = app.screen.query_one(TimelineView)
            # Shown at once, marked queued.
            (shown,) = [e for e in view.entries if e.text == "typed while offline"]
            assert view.render_entry(shown).plain.endswith("typed while offline (queued)")
            proxy.up()

            def sent() -> bool:
                mine = [e for e in view.entries if e.text == "typed while offline"]
                return len(mine) == 1 and not mine[0].meta.get("queued")

            while not sent():
                assert time.monotonic() < deadline + 10
                await pilot.pause(0.02)
            assert header.connection == ("LIVE", "ok")
    assert server_texts(pg_url).count("typed while offline") == 1
