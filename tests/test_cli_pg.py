"""Choosing the shared store from the command line, and `warroom db init/migrate` (issue 16).

A real PostgreSQL server (tests/pg_server.py); the CLI runs in-process through main()."""
from __future__ import annotations

import pytest

from tests.pg_server import PASSWORD
from tui.cli import main
from tui.incident.model import Kind
from tui.incident.store_pg import MIGRATIONS, PgStore


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("WARROOM_DATABASE_URL", "WARROOM_CONFIG", "PGPASSWORD", "WARROOM_AUTHOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./warroom.toml
    monkeypatch.setenv("WARROOM_DATA_DIR", str(tmp_path / "data"))


def no_password(url: str) -> str:
    return url.replace(f":{PASSWORD}@", "@")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_db_init_creates_the_schema_once_and_prints_the_grants(pg_server, capsys, monkeypatch):
    url = pg_server.fresh_database(init=False)
    monkeypatch.setenv("PGPASSWORD", PASSWORD)  # libpq's own variable: the URL carries no secret
    code, out, err = run(capsys, "db", "init", "--database", no_password(url))
    assert (code, err) == (0, "")
    assert f"schema v{len(MIGRATIONS)} created" in out
    assert "GRANT SELECT, INSERT ON entries TO warroom_app;" in out and "REVOKE UPDATE, DELETE, TRUNCATE ON entries" in out
    code, out, _ = run(capsys, "db", "init", "--database", no_password(url), "--role", "scribes")
    assert code == 0 and "(already there)" in out and "TO scribes;" in out
    assert PASSWORD not in out


def test_db_migrate_upgrades_an_old_schema_and_says_when_current(pg_server, capsys, monkeypatch):
    url = pg_server.fresh_database(init=False)
    pg_server.admin("CREATE TABLE warroom_schema (version INTEGER NOT NULL); INSERT INTO warroom_schema VALUES (0)",
                    dbname=url.rsplit("/", 1)[1])
    monkeypatch.setenv("WARROOM_DATABASE_URL", url)
    code, _, err = run(capsys, "log", "too early")
    assert code == 2 and "older than this warroom's" in err and "warroom db migrate" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "db", "migrate")
    assert code == 0 and f"schema v0 → v{len(MIGRATIONS)}" in out
    code, out, _ = run(capsys, "db", "migrate")
    assert code == 0 and "is current" in out
    assert PASSWORD not in out + err


def test_db_migrate_of_an_empty_database_says_init(pg_server, capsys, monkeypatch):
    monkeypatch.setenv("WARROOM_DATABASE_URL", pg_server.fresh_database(init=False))
    code, _, err = run(capsys, "db", "migrate")
    assert code == 2 and "warroom db init" in err


def test_db_needs_a_url(capsys):
    code, _, err = run(capsys, "db", "init")
    assert code == 2 and "--database" in err and err.count("\n") == 1


def test_a_password_on_the_command_line_is_refused(pg_url, capsys):
    code, out, err = run(capsys, "--database", pg_url, "status")
    assert code == 2 and "visible to every user in 'ps'" in err and PASSWORD not in out + err


def test_the_environment_url_puts_everything_on_the_server(pg_url, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("WARROOM_DATABASE_URL", pg_url)
    assert run(capsys, "declare", "--title", "Checkout failing", "--sev", "2", "--author", "alice")[0] == 0
    code, out, _ = run(capsys, "log", "--kind", "action", "--author", "bob", "--at", "2026-11-21T14:05:00Z",
                       "restarted payments-db")
    assert code == 0 and "INC-1" in out and "14:05:00 UTC action: logged" in out
    code, out, _ = run(capsys, "status")
    assert code == 0 and "Checkout failing" in out and "restarted payments-db" in out
    with PgStore(pg_url, tmp_path) as store:
        (entry,) = [e for e in store.timeline(1) if e.kind is Kind.ACTION]
        assert entry.author == "bob" and entry.text == "restarted payments-db"
    assert not (tmp_path / "data" / "warroom.db").exists(), "the SQLite file is not used"
    code, out, err = run(capsys, "export", "--format", "json")
    assert code == 0 and "restarted payments-db" in out and PASSWORD not in out + err


def test_the_config_url_with_the_password_from_the_environment(pg_url, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DB_PW", PASSWORD)
    config = tmp_path / "warroom.toml"
    config.write_text(f'[store]\nurl = "{no_password(pg_url).replace("postgres@", "postgres:${DB_PW}@")}"\n')
    assert run(capsys, "check-config", str(config))[0] == 0
    code, out, err = run(capsys, "--config", str(config), "declare", "--title", "From config", "--sev", "3")
    assert code == 0 and out.strip() == "INC-1", err
    with PgStore(pg_url, tmp_path) as store:
        assert store.incident(1).title == "From config"
    # --database wins over the config.
    other = pg_url.rsplit("/", 1)[0] + "/no_such_db"
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    code, _, err = run(capsys, "--config", str(config), "--database", no_password(other), "status")
    assert code == 2 and 'database "no_such_db" does not exist' in err


def test_a_config_url_that_is_not_postgresql(tmp_path, capsys):
    config = tmp_path / "warroom.toml"
    config.write_text('[store]\nurl = "mysql://db/warroom"\n')
    code, _, err = run(capsys, "check-config", str(config))
    assert code == 2 and "postgresql://" in err


def test_wrong_password_is_one_line_without_the_password(pg_server, capsys, monkeypatch):
    monkeypatch.setenv("WARROOM_DATABASE_URL", pg_server.url(password="Wr0ng-Pa55"))
    code, out, err = run(capsys, "log", "anything")
    assert code == 2 and err.count("\n") == 1 and "password authentication failed" in err
    assert "Wr0ng-Pa55" not in out + err
