"""What only the PostgreSQL store does (issue 16); the shared contract is tests/test_store.py,
which runs against both backends. A real server (tests/pg_server.py), nothing mocked but,
in one test, this process's clock."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

import tui.incident.store_pg as store_pg
from tests.pg_server import PASSWORD
from tui.incident.model import Kind, Phase, Severity, utcnow
from tui.incident.store import StoreError
from tui.incident.store_pg import MIGRATIONS, PgStore, grants, safe_url


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.strip() == text, text
    return text


@pytest.fixture
def store(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path) as s:
        yield s


def test_the_database_keeps_the_timeline_append_only(store, pg_url):
    inc = store.declare("x", Severity.SEV2)
    store.append(inc.id, Kind.NOTE, "said")
    with psycopg.connect(pg_url, autocommit=True) as raw:  # even the owner cannot rewrite it
        for sql in ("UPDATE entries SET text = 'rewritten'", "DELETE FROM entries", "TRUNCATE entries CASCADE"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                raw.execute(sql)
    assert [e.text for e in store.timeline(inc.id)][-1] == "said"


def test_the_application_role_of_the_printed_grants(pg_server, pg_url, tmp_path):
    role = f"app_{pg_url.rsplit('/', 1)[1]}"
    sql = grants(role).replace("'…'", "'app-pw'")
    db = pg_url.rsplit("/", 1)[1]
    pg_server.admin(sql.split("\n", 1)[0])  # CREATE ROLE is cluster-wide
    pg_server.admin(sql.split("\n", 1)[1], dbname=db)
    app_url = pg_server.url(db, user=role, password="app-pw")
    with PgStore(app_url, tmp_path) as app:
        inc = app.declare("as the app", Severity.SEV1, author="alice")
        entry = app.append(inc.id, Kind.NOTE, "hello")
        app.edit(entry.entry_id, text="hello again")
        app.toggle_check(inc.id, Phase.TRIAGE, 0, author="bob")
        app.add_todo(inc.id, "later", follow_up_minutes=5)
        app.set_severity(inc.id, Severity.SEV2)
        assert [r.rev for r in app.revisions(entry.entry_id)] == [1, 2]
    with psycopg.connect(app_url, autocommit=True) as raw:
        for sql in ("UPDATE entries SET text = 'x'", "DELETE FROM entries"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                raw.execute(sql)


def test_nul_and_backslashes_round_trip(store, pg_url, tmp_path):
    inc = store.declare("x", Severity.SEV3)
    texts = ["a\x00b", "a\\0b", "a\\\x00\\\\0", "plain \\ backslash"]
    made = [store.append(inc.id, Kind.NOTE, t, author="au\x00thor" if i == 2 else "plain") for i, t in enumerate(texts)]
    with PgStore(pg_url, tmp_path) as other:
        back = other.entries(inc.id)[1:]
    assert [e.text for e in back] == texts and back == made
    with psycopg.connect(pg_url) as raw:  # only the NUL rows are escaped: the rest read plainly in psql
        rows = raw.execute("SELECT text, nul_escaped FROM entries WHERE seq > 1 ORDER BY seq").fetchall()
    assert rows[1] == ("a\\0b", False) and rows[3] == ("plain \\ backslash", False)


def test_writers_on_two_connections_commit_in_seq_order(pg_url, tmp_path):
    # A reader that remembers the last seq it saw must never skip a later commit with a smaller seq.
    with PgStore(pg_url, tmp_path) as reader:
        inc = reader.declare("x", Severity.SEV2)
        n = 150
        stop = threading.Event()
        seen: list[int] = []

        def write(name: str) -> None:
            with PgStore(pg_url, tmp_path) as w:
                for i in range(n):
                    w.append(inc.id, Kind.NOTE, f"{name} {i}", author=name)

        def read() -> None:
            last = 0
            while not stop.is_set():
                new = reader.entries(inc.id, after_seq=last)
                if new:
                    seen.extend(e.seq for e in new)
                    last = new[-1].seq
            seen.extend(e.seq for e in reader.entries(inc.id, after_seq=last))

        threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "b", "c")]
        r = threading.Thread(target=read)
        r.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        r.join()
        every = [e.seq for e in reader.entries(inc.id)]
    assert len(every) == 1 + 3 * n
    assert seen == every, "the incremental reader saw every commit, once, in order"


def test_recorded_times_come_from_the_server_clock(pg_url, tmp_path, monkeypatch):
    # This laptop's clock is an hour slow; the server's (the real one) is right.
    slow = timedelta(hours=1)

    real_monotonic = time.monotonic

    class SlowTime:
        @staticmethod
        def time() -> float:
            return time.time() - slow.total_seconds()

        monotonic = staticmethod(real_monotonic)

    monkeypatch.setattr(store_pg, "time", SlowTime)
    monkeypatch.setattr(store_pg, "utcnow", lambda: utcnow() - slow)
    before = utcnow()
    with PgStore(pg_url, tmp_path) as store:
        assert store.clock_off and abs(store.skew - slow) < timedelta(seconds=1)
        inc = store.declare("skewed", Severity.SEV2)
        entry = store.append(inc.id, Kind.NOTE, "now")
        item = store.toggle_check(inc.id, Phase.TRIAGE, 0)
        at = datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
        backdated = store.append(inc.id, Kind.NOTE, "then", ts=at)
    after = utcnow()
    for when in (inc.detected_at, entry.ts, entry.recorded_at, item.done_at, backdated.recorded_at):
        assert before - timedelta(seconds=1) <= when <= after + timedelta(seconds=1)
    assert backdated.ts == at  # --at still says when it happened


def test_the_clock_agrees_on_one_machine(store):
    assert store.skew == timedelta(0) and not store.clock_off


# -- schema versions -------------------------------------------------------------------------


def test_an_empty_database_says_run_db_init(pg_server, tmp_path):
    url = pg_server.fresh_database(init=False)
    with pytest.raises(StoreError) as exc:
        PgStore(url, tmp_path)
    assert "no warroom schema" in one_line(exc) and "warroom db init" in str(exc.value)


def test_init_is_idempotent_and_migrates_once(pg_server, tmp_path):
    url = pg_server.fresh_database(init=False)
    with PgStore(url, tmp_path, require_schema=False) as first, PgStore(url, tmp_path, require_schema=False) as second:
        results = []
        threads = [threading.Thread(target=lambda s=s: results.append(s.migrate())) for s in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [(0, len(MIGRATIONS)), (len(MIGRATIONS), len(MIGRATIONS))]
    with PgStore(url, tmp_path) as store:
        assert store.schema_version() == len(MIGRATIONS)


@pytest.mark.parametrize("version, says", [(0, "warroom db migrate"), (len(MIGRATIONS) + 1, "upgrade warroom")])
def test_an_old_or_newer_schema_is_one_line(pg_url, tmp_path, version, says):
    with psycopg.connect(pg_url, autocommit=True) as raw:
        raw.execute("DELETE FROM warroom_schema")
        raw.execute("INSERT INTO warroom_schema VALUES (%s)", (version,))
    with pytest.raises(StoreError) as exc:
        PgStore(pg_url, tmp_path)
    assert says in one_line(exc) and PASSWORD not in str(exc.value)


# -- connecting: one line, never the password ------------------------------------------------


def test_wrong_password(pg_server, tmp_path):
    url = pg_server.url(password="not-the-password")
    with pytest.raises(StoreError) as exc:
        PgStore(url, tmp_path)
    text = one_line(exc)
    assert "password authentication failed" in text and "not-the-password" not in text and ":***@" in text


def test_missing_database(pg_server, tmp_path):
    with pytest.raises(StoreError) as exc:
        PgStore(pg_server.url("no_such_db"), tmp_path)
    text = one_line(exc)
    assert 'database "no_such_db" does not exist' in text and "createdb" in text and PASSWORD not in text


def test_tls_required(pg_server, tmp_path):
    # This user may only connect over TLS (the server has none): what a TLS-only server answers.
    pg_server.admin("CREATE ROLE tls_only LOGIN PASSWORD 'tls-pw'")
    hba = pg_server.data / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("hostnossl all tls_only 127.0.0.1/32 reject\n" + original)
    pg_server.admin("SELECT pg_reload_conf()")
    try:
        with pytest.raises(StoreError) as exc:
            PgStore(pg_server.url(user="tls_only", password="tls-pw"), tmp_path)
    finally:
        hba.write_text(original)
        pg_server.admin("SELECT pg_reload_conf()")
    text = one_line(exc)
    assert "no encryption" in text and "sslmode=require" in text and "tls-pw" not in text


def test_unreachable_server(tmp_path):
    from tests.pg_server import free_port

    with pytest.raises(StoreError) as exc:
        PgStore(f"postgresql://u:pw-123@127.0.0.1:{free_port()}/db", tmp_path)
    text = one_line(exc)
    assert "is the server running" in text and "pw-123" not in text


@pytest.mark.parametrize("url, safe", [
    ("postgresql://alice:s3cr%40t@db.example:5433/warroom?sslmode=require",
     "postgresql://alice:***@db.example:5433/warroom?sslmode=require"),
    ("postgresql://alice@db/warroom", "postgresql://alice@db/warroom"),
    ("postgresql://db/warroom?user=a&password=hunter2&sslmode=verify-full",
     "postgresql://db/warroom?user=a&password=***&sslmode=verify-full"),
    ("host=db dbname=warroom password='p w' user=a", "host=db dbname=warroom password=*** user=a"),
    ("postgresql://a:b@[::1]:5432/w", "postgresql://a:***@[::1]:5432/w"),
])
def test_safe_url_hides_the_password(url, safe):
    assert safe_url(url) == safe


def test_two_people_editing_one_entry_at_once_keep_both_revisions(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as a, PgStore(pg_url, tmp_path / "b") as b:
        inc = a.declare("x", Severity.SEV3)
        entry = a.append(inc.id, Kind.NOTE, "db at 95% cpu", author="bob")
        barrier = threading.Barrier(2)
        results = {}

        def edit(store, who):
            barrier.wait()
            results[who] = store.edit(entry.entry_id, text=f"edited by {who}", author=who)

        threads = [threading.Thread(target=edit, args=(s, w)) for s, w in ((a, "carol"), (b, "dave"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        revisions = a.revisions(entry.entry_id)
        assert [r.rev for r in revisions] == [1, 2, 3]
        assert sorted(r.meta["edited_by"] for r in revisions[1:]) == ["carol", "dave"]
        assert [r.seq for r in revisions] == sorted(r.seq for r in revisions)  # server order
        # Two severity changes at once: both logged, the later one wins.
        barrier = threading.Barrier(2)

        def severity(store, sev):
            barrier.wait()
            store.set_severity(inc.id, sev, author=sev.name)

        threads = [threading.Thread(target=severity, args=(s, v)) for s, v in ((a, Severity.SEV1), (b, Severity.SEV2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        changes = [e for e in a.entries(inc.id) if e.meta.get("event") == "severity"]
        assert len(changes) == 2 and a.incident(inc.id).severity.name == changes[-1].meta["to"]


def test_presence_lists_who_has_the_store_open(pg_url, tmp_path):
    with PgStore(pg_url, tmp_path / "a") as a, PgStore(pg_url, tmp_path / "b") as b:
        a.identify("alice")
        b.identify("bob\x1b[31m:evil ✓", read_only=True)

        def both() -> bool:
            return sorted(a.present) == [("alice", False), ("bob?[31m?evil ?", True)]

        deadline = time.monotonic() + 30
        while not both():
            assert time.monotonic() < deadline, a.present
            time.sleep(0.05)
    with PgStore(pg_url, tmp_path / "c") as c:
        c.identify("carol")
        deadline = time.monotonic() + 30
        while c.present != [("carol", False)]:  # the others left: gone from the list
            assert time.monotonic() < deadline, c.present
            time.sleep(0.05)
